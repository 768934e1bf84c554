"""A campaign the one-shot game predicts to be Pareto-effective moves the same way under PureSVD on real-data
machinery: the majority–minority instance as interactions, the collective as a Campaign, PureSVD (absolute alpha
rule) refitted through its fast path; utilities are measured on the known true preferences R*."""

import numpy as np

from recollective.campaigns import Campaign, apply_campaign
from recollective.data import Interactions
from recollective.game import effective_window, majority_minority, outcome
from recollective.models import make_model


def _as_interactions(matrix):
    rows, cols = np.nonzero(matrix)
    return Interactions.from_arrays(rows, cols, matrix[rows, cols])


def _utilities(model, R_true):
    top, _ = model.recommend(np.arange(R_true.shape[0]), k=1, exclude_seen=False)
    return R_true[np.arange(R_true.shape[0]), top[:, 0]]


def test_game_predicted_pareto_campaign_helps_the_minority_under_puresvd():
    instance = majority_minority(rng=0)
    R_true, alpha = instance.R_true, instance.alpha
    members, targets = [13], [45]
    window = effective_window(R_true, members=members, targets=targets, alpha=alpha, x_max=10)
    low, high = window.pareto_intervals[0]
    x = 0.5 * (low + high)

    data = _as_interactions(R_true)
    assert data.matrix.shape == R_true.shape  # every user and item has a positive preference
    model = make_model("puresvd", rank_rule="absolute", alpha=alpha, n_factors=20).fit(data)
    before = _utilities(model, R_true)
    np.testing.assert_allclose(before, outcome(R_true, None, alpha).utilities, atol=1e-12)

    campaign = Campaign(targets=tuple(targets), participants="explicit", members=tuple(members), rating=x)
    applied = apply_campaign(campaign, data, audience=np.array([], dtype=np.int64), rng=0)
    after = _utilities(model.refit(applied.interactions, applied.delta), R_true)

    revealed = R_true.copy()
    revealed[members[0], targets[0]] = x
    predicted = outcome(R_true, revealed, alpha)
    np.testing.assert_allclose(after, predicted.utilities, atol=1e-12)
    minority = np.arange(60, 75)
    assert before[minority].sum() == 0 and after[minority].sum() > 0  # the minority gains
    assert np.all(after >= before - 1e-12)  # nobody, members included, is worse off (Pareto)
    assert after.sum() > before.sum()
