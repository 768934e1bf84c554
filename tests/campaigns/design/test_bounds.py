"""Exposure upper bounds: never below what a plan of that size reaches in a cold fit."""

import numpy as np
import pytest
from tests.campaigns.design.test_design import _targets, split  # noqa: F401  (fixture)

from recollective.campaigns import Campaign, apply_campaign, target_audience
from recollective.campaigns.design import design_campaign, exposure_upper_bound, verify_plan
from recollective.errors import InvalidParameterError
from recollective.models import make_model


@pytest.mark.parametrize(("name", "params"), [("itemknn", {}), ("itemknn", {"n_neighbors": 5}),
                                              ("itemknn", {"binary": True}), ("popularity", {})])
@pytest.mark.parametrize("size", [2, 5, 12])
def test_no_plan_of_that_size_beats_the_bound(split, name, params, size):  # noqa: F811
    train, test = split
    targets = _targets(train)
    audience = target_audience(test, targets)
    pool = np.setdiff1d(np.arange(train.n_users), audience)
    model = make_model(name, **params).fit(train)
    bound = exposure_upper_bound(model, audience, targets, pool, size, 5.0, k=5)
    assert 0.0 <= bound <= 1.0
    reached = []
    design = design_campaign(model, train, test, targets, max_participants=size, k=5, repair=False)
    reached.append(design.verified["target_exposure_after"])
    for policy in ("closest", "random", "majority"):
        for seed in range(3):
            app = apply_campaign(Campaign(targets=tuple(targets), participants=policy, size=size), train,
                                 audience, seed)
            reached.append(verify_plan(model, train, test, app.interactions, app.acting, audience, targets,
                                       k=5)["target_exposure_after"])
    assert max(reached) <= bound + 1e-12
    if name == "popularity":  # exact: the bound is what n members reach
        assert bound == pytest.approx(max(reached))


def test_bound_is_refused_for_models_without_one(split):  # noqa: F811
    train, test = split
    targets = _targets(train)
    model = make_model("ease").fit(train)
    with pytest.raises(InvalidParameterError, match="no exposure bound"):
        exposure_upper_bound(model, target_audience(test, targets), targets, [0, 2], 3, 5.0)
