"""Campaign specs (clear errors naming the field), participant policies and ``apply_campaign``."""

import dataclasses

import numpy as np
import pytest

from recollective.campaigns import Campaign, apply_campaign, eligible_users, select_participants
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError


def ordered_data(n_users=30, n_items=12, per_user=6, seed=0):
    """Each user reads ``per_user`` items at times 10, 20, ...; item 0 is the most popular."""
    rng = np.random.default_rng(seed)
    rows, cols, times = [], [], []
    weights = 1.0 / (1 + np.arange(n_items))
    for user in range(n_users):
        items = rng.choice(n_items, per_user, replace=False, p=weights / weights.sum())
        rows += [user] * per_user
        cols += items.tolist()
        times += (10.0 * (1 + np.arange(per_user))).tolist()
    return Interactions.from_arrays(np.array(rows), np.array(cols), np.full(len(rows), 4.0), order=np.array(times))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"targets": ()}, "campaign.targets"),
        ({"participants": "everyone"}, "campaign.participants"),
        ({"position": "middle"}, "campaign.position"),
        ({"size": 0}, "campaign.size"),
        ({"size": 1.5}, "campaign.size"),
        ({"size": "ten"}, "campaign.size"),
        ({"budget": 0}, "campaign.budget"),
        ({"participation": 0.0}, "campaign.participation"),
        ({"rating": float("nan")}, "campaign.rating"),
        ({"participants": "explicit"}, "campaign.members"),
    ],
)
def test_bad_specs_name_the_field(changes, field):
    spec = {"targets": (3,), **changes}
    with pytest.raises(InvalidParameterError, match=field.replace(".", r"\.")):
        Campaign(**spec)


def test_size_as_share_or_count():
    assert Campaign(targets=(1,), size=0.1).n_selected(95) == 10
    assert Campaign(targets=(1,), size=7).n_selected(95) == 7
    assert Campaign(targets=(2, 1, 2)).targets == (1, 2)


def test_policies_draw_from_their_pools():
    data = ordered_data()
    audience = np.array([0, 1, 2, 3])
    base = Campaign(targets=(11,), size=5)
    assert eligible_users(base, data, audience).size == data.n_users
    majority = dataclasses.replace(base, participants="majority")
    chosen = select_participants(majority, data, audience, rng=1)
    assert chosen.size == 5 and not np.isin(chosen, audience).any()
    fans = dataclasses.replace(base, participants="fans", size=1)
    dense = data.matrix.toarray()
    assert np.all(dense[eligible_users(fans, data, audience), 11] > 0)
    closest = dataclasses.replace(base, participants="closest", size=3)
    picked = select_participants(closest, data, audience, rng=0)
    assert picked.size == 3 and not np.isin(picked, audience).any()
    explicit = dataclasses.replace(base, participants="explicit", members=(5, 9))
    np.testing.assert_array_equal(select_participants(explicit, data, audience), [5, 9])


def test_more_participants_than_eligible_is_an_error():
    data = ordered_data()
    with pytest.raises(InvalidParameterError, match=r"campaign\.size asks for 40 participants"):
        select_participants(Campaign(targets=(1,), size=40), data, np.array([0]))
    with pytest.raises(InvalidParameterError, match=r"campaign\.members"):
        select_participants(Campaign(targets=(1,), participants="explicit", members=(99,)), data, np.array([0]))
    with pytest.raises(InvalidParameterError, match=r"campaign\.targets"):
        apply_campaign(Campaign(targets=(50,), size=2), data, np.array([0]))


def test_apply_adds_budgeted_targets_with_the_rating_and_is_pure():
    data = ordered_data()
    campaign = Campaign(targets=(8, 9, 10, 11), size=6, budget=2, rating=5.0)
    before = data.matrix.toarray()
    result = apply_campaign(campaign, data, np.array([0, 1]), rng=3)
    after = result.interactions.matrix.toarray()
    np.testing.assert_array_equal(data.matrix.toarray(), before)  # the input is untouched
    assert result.acting.size == 6 and result.n_actions == 12
    for user in result.acting:
        assert np.count_nonzero(after[user, [8, 9, 10, 11]] == 5.0) == 2
    untouched = np.setdiff1d(np.arange(data.n_users), result.acting)
    np.testing.assert_array_equal(after[untouched], before[untouched])
    again = apply_campaign(campaign, data, np.array([0, 1]), rng=3)
    np.testing.assert_array_equal(again.added_items, result.added_items)
    assert set(result.delta.changed_users.tolist()) <= set(result.acting.tolist())


def test_participation_probability_thins_the_collective():
    data = ordered_data(n_users=400)
    result = apply_campaign(Campaign(targets=(3,), size=200, participation=0.5), data, np.array([0]), rng=0)
    assert result.selected.size == 200
    assert 70 <= result.acting.size <= 130


def _order_of(interactions, user, item):
    row = slice(interactions.matrix.indptr[user], interactions.matrix.indptr[user + 1])
    where = np.flatnonzero(interactions.matrix.indices[row] == item)[0]
    return interactions.order.data[row][where]


@pytest.mark.parametrize("position", ["append", "random", "after_low_anchor", "before_high_anchor"])
def test_positions_place_targets_where_they_say(position):
    data = ordered_data()
    target = 11
    campaign = Campaign(targets=(target,), participants="majority", size=5, position=position)
    result = apply_campaign(campaign, data, np.array([0]), rng=2)
    popularity = np.bincount(data.matrix.indices, minlength=data.n_items)
    for user in result.acting:
        row = slice(data.matrix.indptr[user], data.matrix.indptr[user + 1])
        items, times = data.matrix.indices[row], data.order.data[row]
        if target in items:
            continue
        placed = _order_of(result.interactions, user, target)
        if position == "append":
            assert placed > times.max()
        elif position == "after_low_anchor":
            anchor = items[np.lexsort((items, popularity[items]))[0]]
            anchor_time = times[items == anchor][0]
            assert anchor_time < placed and not np.any((times > anchor_time) & (times < placed))
        elif position == "before_high_anchor":
            anchor = items[np.lexsort((items, -popularity[items]))[0]]
            anchor_time = times[items == anchor][0]
            assert placed < anchor_time and not np.any((times < anchor_time) & (times > placed))
        else:
            assert times.min() - 1 <= placed <= times.max() + 1 and placed not in times


def test_positions_need_an_order():
    data = ordered_data()
    unordered = Interactions.from_arrays(*data.to_coo()[:3])
    with pytest.raises(DataError, match=r"campaign\.position"):
        apply_campaign(Campaign(targets=(1,), size=2, position="random"), unordered, np.array([0]))
