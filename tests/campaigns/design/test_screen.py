"""Screening the pool before the search: a member's own scores with the model held fixed, and who would lose."""

import numpy as np
import pytest
import scipy.sparse as sp
from tests.campaigns.design.test_design import _targets, split  # noqa: F401  (the shared fixture)

from recollective.campaigns import _evaluate, target_audience
from recollective.campaigns.design import SCREENED_MODELS, design_campaign, own_scores, screen_pool
from recollective.errors import InvalidParameterError
from recollective.models import make_model

MODELS = {"popularity": {}, "ease": {"regularization": 20.0}, "itemknn": {}, "puresvd": {"n_factors": 6}}


def _with_targets(model, users, targets, value):
    rows = model.seen_[users].toarray()
    rows[:, targets] = value
    return rows


@pytest.mark.parametrize("name", SCREENED_MODELS)
def test_own_scores_are_the_models_scores_of_the_changed_rows(split, name):  # noqa: F811
    train, _ = split
    model = make_model(name, **MODELS[name]).fit(train)
    users = np.arange(12)
    assert np.allclose(own_scores(model, users, sp.csr_array(model.seen_[users])), model.score(users), atol=1e-10)
    targets = _targets(train)
    rows = _with_targets(model, users, targets, 5.0)
    got = own_scores(model, users, sp.csr_array(rows))
    if name == "ease":
        expected = rows @ model.item_weights()
    elif name == "itemknn":
        expected = rows @ model.similarity_.toarray()
    elif name == "puresvd":
        v = model.item_vectors_[:, : model.rank_]
        expected = rows @ v @ v.T
    else:
        expected = model.score(users)
    assert np.allclose(got, expected, atol=1e-9)


@pytest.mark.parametrize("name", ["ease", "itemknn"])
def test_the_screen_drops_exactly_those_whose_own_ndcg_falls(split, name):  # noqa: F811
    train, test = split
    targets = _targets(train)
    audience = target_audience(test, targets)
    pool = np.setdiff1d(np.arange(train.n_users), audience)
    model = make_model(name, **MODELS[name]).fit(train)
    kept, dropped = screen_pool(model, train, test, targets, pool, value=5.0, k=5)
    assert np.array_equal(np.union1d(kept, dropped), pool) and not np.intersect1d(kept, dropped).size
    scored = np.intersect1d(pool, _evaluate.test_users(test))
    rows = _with_targets(model, scored, targets, 5.0)
    scores = own_scores(model, scored, sp.csr_array(rows))
    scores[rows != 0] = -np.inf
    after = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    before, _ = model.recommend(scored, 5)
    truth = test.matrix[scored]
    change = _evaluate._ndcg(after, truth, None) - _evaluate._ndcg(before, truth, None)
    assert np.array_equal(dropped, scored[change < -1e-12])
    assert dropped.size > 0  # the fixture has members who lose (so the check above is not vacuous)


def test_design_leaves_screened_members_out_and_says_so(split):  # noqa: F811
    train, test = split
    targets = _targets(train)
    model = make_model("ease", regularization=20.0).fit(train)
    design = design_campaign(model, train, test, targets, max_participants=6, k=5)
    assert design.screened and not set(design.screened) & {a.user for a in design.actions}
    assert design.as_dict()["screened"] == design.screened
    assert "left out before the search" in design.to_markdown()
    off = design_campaign(model, train, test, targets, max_participants=6, k=5, screen=False)
    assert off.screened == [] and off.settings["screen"] is False
    with pytest.raises(InvalidParameterError, match="would lose held-out accuracy"):
        design_campaign(model, train, test, targets, pool=design.screened, max_participants=2, k=5)
