"""Batched scoring (several readers per pass, prompt + prefix tree of candidates) against the per-reader reference."""

import numpy as np
import pytest

from models.llm.tiny import small
from recollective.models.llm._base_model import load_base_model
from recollective.models.llm._prompts import PromptBuilder, item_texts
from recollective.models.llm._scoring import (
    _PrefixTree,
    batched_candidate_log_likelihoods,
    candidate_log_likelihoods,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

TOLERANCE = 1e-4  # float32, no autocast: the two paths differ only in the order of sums


@pytest.fixture(scope="module")
def readers(tiny, data):
    """(network, prompts, candidates, pad id): five readers with prompts of 1 to ~40 tokens; candidates that share
    prefixes (the same title with two authors, a repeated candidate, the end-of-sequence token alone), and one
    reader without candidates."""
    network, tokenizer = load_base_model(tiny)
    builder = PromptBuilder(tokenizer, item_texts(data, " {title} by {author}"), "Read:{history}\nNext:", ";", 40)
    eos = tokenizer.eos_token_id
    same_title = tokenizer(" Book A0 by Writer 5", add_special_tokens=False)["input_ids"] + [eos]
    prompts = [builder.prompt(np.array([3, 5, 7])), builder.prompt(np.arange(20)), [builder.prefix[0]],
               builder.prompt(np.array([30])), builder.prompt(np.array([1, 2]))]
    candidates = [
        [builder.candidates[i] for i in (0, 1, 2, 11, 30)] + [same_title, builder.candidates[0], [eos]],
        [builder.candidates[i] for i in range(0, 40, 3)],
        [builder.candidates[i] for i in (5, 6)],
        [],
        [builder.candidates[39]],
    ]
    return network, prompts, candidates, builder.pad_id


def _full_forward(network, prompt, candidate, reduction):
    """The candidate's log-likelihood from one plain forward pass over prompt + candidate (no cache, no mask)."""
    with torch.no_grad():
        tokens = torch.tensor([prompt + candidate])
        log_probs = torch.log_softmax(network(tokens).logits[0].double(), dim=-1)
    total = sum(float(log_probs[p, tokens[0, p + 1]]) for p in range(len(prompt) - 1, len(tokens[0]) - 1))
    return total / len(candidate) if reduction == "mean" else total


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_batched_scores_equal_the_per_reader_reference_and_a_full_forward_pass(readers, attention, reduction):
    network, prompts, candidates, pad_id = readers
    network.set_attn_implementation(attention)
    try:
        reference = [candidate_log_likelihoods(network, p, c, device="cpu", autocast_dtype=None, pad_id=pad_id,
                                               batch_size=3, reduction=reduction)
                     for p, c in zip(prompts, candidates, strict=True)]
        for rows_per_pass, candidates_per_row in ((1, None), (2, None), (5, None), (3, 2), (4, 5)):
            got = batched_candidate_log_likelihoods(network, prompts, candidates, device="cpu", autocast_dtype=None,
                                                    pad_id=pad_id, rows_per_pass=rows_per_pass,
                                                    candidates_per_row=candidates_per_row, reduction=reduction)
            assert [g.shape for g in got] == [r.shape for r in reference]
            for g, r in zip(got, reference, strict=True):
                np.testing.assert_allclose(g, r, rtol=0, atol=TOLERANCE)
        for prompt, reader, values in zip(prompts, candidates, got, strict=True):
            for candidate, value in zip(reader, values, strict=True):
                assert value == pytest.approx(_full_forward(network, prompt, candidate, reduction), abs=TOLERANCE)
    finally:
        network.set_attn_implementation("sdpa")


def test_prefix_tree_has_one_position_per_distinct_proper_prefix():
    candidates = [[5, 6, 7, 2], [5, 6, 8, 2], [5, 6, 7, 2], [9, 2], [2]]
    tree = _PrefixTree(candidates)
    prefixes = {tuple(c[:t]) for c in candidates for t in range(1, len(c))}
    assert tree.n_nodes == len(prefixes) == 5  # (5,) (5,6) (5,6,7) (5,6,8) (9,)
    assert tree.tokens.tolist() == [5, 6, 7, 8, 9] and tree.parents.tolist() == [-1, 0, 1, 1, -1]
    assert tree.depths.tolist() == [0, 1, 2, 2, 0]
    # every candidate token once, predicted by the prompt (0) or by the node of the prefix before it (1 + node)
    assert tree.owner.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 2 + [4]
    assert tree.target.tolist() == [t for c in candidates for t in c]
    assert tree.predictor.tolist() == [0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 2, 3, 0, 5, 0]


@pytest.mark.parametrize(
    "params",
    [{"extra_candidates": (0, 39)}, {"candidates": "all", "scoring_batch": 7}],  # all: several rows per reader
)
def test_the_model_scores_the_same_with_either_path(tiny, data, params):
    users = np.arange(data.n_users)
    batched = small(tiny, score_batch_readers=3, **params).fit(data)
    reference = small(tiny, score_batch_readers=None, **params).fit(data)
    got, expected = batched.score(users), reference.score(users)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
    assert np.isfinite(got).sum() >= data.n_users * 10
    np.testing.assert_allclose(got[np.isfinite(got)], expected[np.isfinite(expected)], rtol=0, atol=TOLERANCE)
    lists, _ = batched.recommend(users, 5)
    np.testing.assert_array_equal(lists, reference.recommend(users, 5)[0])
