"""The experiment runner shares an LLM baseline between configs that differ only in refit-only parameters."""

import pytest

from recollective.experiments import _cells, expand_cells, parse_experiment_config, run_cell

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")


def _config(tiny: str, mode: str):
    return parse_experiment_config({
        "name": f"tiny-llm-{mode}", "seeds": [0], "k": 5, "noise_floor": True,
        "metrics": ["target_exposure_before", "target_exposure_after", "ndcg_before", "ndcg_after",
                    "worse_share", "noise_floor"],
        "world": {"n_users": 40, "n_items": 30, "n_interactions": 400, "seed": 0},
        "targets": {"method": "longtail", "max_targets": 1, "min_audience": 2},
        "campaign": {"participants": ["random"], "sizes": [6]},
        "models": {"llm": {"base_model": tiny, "epochs": 1, "batch_size": 4, "learning_rate": 5e-3,
                           "candidate_model": "popularity", "n_candidates": 5, "num_threads": 1,
                           "max_history_tokens": 24, "refit_mode": mode}},
    })


def test_a_baseline_serves_both_refit_modes_with_the_rows_of_fresh_runs(tiny, monkeypatch):
    continued, retrained = _config(tiny, "continue"), _config(tiny, "retrain")
    cell = expand_cells(retrained)[0]
    fresh = {}
    for config in (retrained, continued):  # each alone, in a fresh process state
        _cells.forget_inputs()
        fresh[config.name] = run_cell(config, cell)
    _cells.forget_inputs()
    fits = []
    from recollective.models.llm import _fitting

    original = _fitting.fit
    monkeypatch.setattr(_fitting, "fit", lambda *a: fits.append(1) or original(*a))
    shared = {config.name: run_cell(config, cell) for config in (continued, retrained)}
    assert shared == fresh
    assert shared[retrained.name]["cell"] != shared[continued.name]["cell"]
    # baseline + noise-floor baseline, once; then the retrain refit (a cold fit) of the second config
    assert len(fits) == 3
    _cells.forget_inputs()
