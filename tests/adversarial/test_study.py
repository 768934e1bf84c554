"""``run_attack_study``: equal budgets, tidy rows, determinism, the training injection, bad inputs; a goodbooks run."""

import json

import numpy as np
import pytest

from recollective.adversarial._curves import CURVE_COLUMNS, ROC_FPR_GRID, roc_points
from recollective.adversarial._study import STUDY_COLUMNS, run_attack_study, training_injection
from recollective.errors import InvalidParameterError

TARGETS = (99, 103)  # minority books with 27 and 19 training ratings
SMALL = {
    "model": "als",
    "targets": TARGETS,
    "sizes": (10, 0.05),
    "attack_kinds": ("average", "segment"),
    "accounts": ("fake", "real"),
    "filler_size": 5,
    "detectors": ("fraudar", "features"),
    "flag_shares": (0.05, 0.1),
}


@pytest.fixture(scope="module")
def study(split):
    calls = []
    rows, curves = run_attack_study(*split, seeds=(0,), progress=lambda done, total: calls.append((done, total)),
                                    return_curves=True, **SMALL)
    return rows, calls, curves


def test_rows_are_tidy_and_json_ready(study):
    rows, calls, _ = study
    actions = {("benign", "real"), ("average", "fake"), ("average", "real"), ("segment", "fake"), ("segment", "real")}
    assert {(row["action"], row["accounts"]) for row in rows} == actions
    assert all(tuple(row) == STUDY_COLUMNS for row in rows)
    # one row per action x size x detector x flag share
    assert len(rows) == len(actions) * 2 * 2 * 2
    keys = [(row["action"], row["accounts"], row["size"], row["detector"], row["flag_share"]) for row in rows]
    assert len(set(keys)) == len(keys)
    assert calls == [(done, 10) for done in range(1, 11)]
    json.dumps(rows, allow_nan=False)
    for row in rows:
        assert row["model"] == "als" and row["seed"] == 0 and row["skipped_detectors"] == ""
        assert (row["cv_auc"] is not None) == (row["detector"] == "features")
        assert row["n_test_users"] == 300 and row["intent"] == "push"


def test_every_attack_gets_the_benign_campaigns_budget(study):
    rows, _, _ = study
    for size in SMALL["sizes"]:
        cell = [row for row in rows if row["size"] == size]
        (benign,) = {(row["n_accounts"], row["n_actions"], row["budget"]) for row in cell if row["action"] == "benign"}
        n_participants, n_actions, budget = benign
        assert n_participants == (10 if size == 10 else 15)  # 0.05 x 300 users
        assert n_actions == budget == n_participants * len(TARGETS)
        for row in cell:
            assert row["budget"] == budget
            if row["action"] == "benign":
                continue
            per_profile = len(TARGETS) + SMALL["filler_size"] + (3 if row["action"] == "segment" else 0)
            assert row["n_accounts"] == budget // per_profile
            assert row["n_actions"] == row["n_accounts"] * per_profile  # whole profiles within the budget
            assert row["n_fake"] == (row["n_accounts"] if row["accounts"] == "fake" else 0)


def test_the_baseline_is_shared_and_filtering_numbers_are_consistent(study):
    rows, _, _ = study
    assert len({(row["benefit_before"], row["harm_before"], row["ndcg_before"]) for row in rows}) == 1
    for row in rows:
        assert row["harm_avoided"] == pytest.approx(row["harm_after"] - row["harm_filtered"])
        assert row["ndcg_lost"] == pytest.approx(row["ndcg_after"] - row["ndcg_filtered"])
        if row["action"] == "benign":
            assert row["benign_flagged_share"] == row["recall"]
        else:
            assert row["benign_flagged_share"] is None


@pytest.mark.slow
def test_the_same_seed_gives_identical_rows_and_another_seed_does_not(split, study):
    rows, _, _ = study
    again = run_attack_study(*split, seeds=(0,), **SMALL)
    assert again == rows
    other = run_attack_study(*split, seeds=(1,), **SMALL)
    assert [row["harm_after"] for row in other] != [row["harm_after"] for row in rows]


def test_roc_curves_are_monotone_and_their_area_is_the_rows_auc(study):
    rows, _, curves = study
    assert all(tuple(row) == CURVE_COLUMNS for row in curves)
    cells = {}
    for point in curves:
        key = (point["action"], point["accounts"], point["size"], point["detector"])
        cells.setdefault(key, []).append((point["fpr"], point["tpr"]))
    assert len(cells) == 5 * 2 * 2  # action x size x detector
    for key, points in cells.items():
        fpr, tpr = np.array(points).T
        np.testing.assert_array_equal(fpr, ROC_FPR_GRID)
        assert np.all(np.diff(tpr) >= -1e-12) and tpr[-1] == pytest.approx(1.0) and tpr.min() >= 0.0
        (auc,) = {r["roc_auc"] for r in rows if (r["action"], r["accounts"], r["size"], r["detector"]) == key}
        area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        assert area == pytest.approx(auc, abs=0.01)  # the grid is fine enough for the area


def test_roc_points_take_the_upper_step_and_split_ties_diagonally():
    scores = np.array([0.9, 0.8, 0.8, 0.1])
    positive = np.array([True, True, False, False])
    tpr = roc_points(scores, positive, fpr_grid=[0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0.5, 0.75, 1.0, 1.0])  # the tie block (one of each) is a diagonal
    assert roc_points(scores, np.zeros(4, dtype=bool)) is None


def test_a_given_audience_replaces_the_held_out_one(split):
    audience = np.arange(0, 300, 3)
    rows = run_attack_study(*split, model="itemknn", targets=TARGETS, sizes=(10,), seeds=(0,), attack_kinds=("random",),
                            filler_size=5, detectors=("fraudar",), flag_shares=(0.05,), participants="random",
                            audience=audience)
    assert {row["audience_size"] for row in rows} == {audience.size}
    assert {row["n_victims"] for row in rows} == {300 - audience.size}  # every user is a test user here


def test_training_injection_labels_exactly_the_injected_accounts(split):
    train, _ = split
    injected, labels = training_injection(train, n_targets=2, budget=40, kinds=("random", "bandwagon"),
                                          accounts=("fake", "real"), filler_size=5, exclude=TARGETS, rng=3)
    assert labels.shape == (injected.n_users,)
    n_fake = injected.n_users - train.n_users
    assert n_fake == 40 // 7 + 40 // 10  # random: 2 + 5 per profile; bandwagon: 2 + 3 + 5
    assert labels[train.n_users :].all()
    assert labels.sum() == 2 * n_fake  # as many real accounts as fake ones
    assert (injected.users.ids[train.n_users :] < 0).all()  # fresh ids below every real one
    touched = np.flatnonzero(labels[: train.n_users])
    changed = (injected.matrix[touched] != train.matrix[touched]).nnz
    assert changed > 0
    untouched = np.flatnonzero(~labels[: train.n_users])
    assert (injected.matrix[untouched] != train.matrix[untouched]).nnz == 0
    # the injected attacks push their own random targets, never the excluded ones
    only = training_injection(train, n_targets=2, budget=14, kinds=("random",), filler_size=5,
                              exclude=np.arange(2, train.n_items), rng=3)[0]
    fake_rows = only.matrix[train.n_users :].toarray()
    assert fake_rows.shape[0] == 2 and (fake_rows[:, :2] == 5.0).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"detectors": ("pca", "nope")}, "unknown detector 'nope'"),
        ({"attack_kinds": ("average", "sybil")}, "attack_kinds: unknown value 'sybil'"),
        ({"accounts": ("bots",)}, "accounts: unknown value 'bots'"),
        ({"accounts": "fake"}, "accounts must be a sequence"),
        ({"sizes": ()}, "at least one size and one seed"),
        ({"sizes": (0,)}, "campaign.size"),
        ({"model": "nope"}, "unknown model 'nope'"),
        ({"participants": "explicit"}, "participants must be one of"),
        ({"flag_shares": (0.5, 2.0)}, "flag_share must be strictly between 0 and 1"),
    ],
)
def test_bad_parameters_get_clear_errors(split, change, message):
    with pytest.raises(InvalidParameterError, match=message):
        run_attack_study(*split, seeds=(0,), **{**SMALL, "detectors": ("fraudar",), **change})
