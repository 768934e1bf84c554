"""Shilling and brigading attacks: each profile has its model's defining statistics; clear errors naming the field."""

import dataclasses

import numpy as np
import pytest

from recollective.adversarial._attacks import (
    ACCOUNT_KINDS,
    ATTACK_KINDS,
    BRIGADE_POOL_FACTOR,
    Attack,
    apply_attack,
    rating_grid,
)
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError


def rated_data(n_users=300, n_items=40, per_user=12, seed=0, string_ids=False, scale=(1.0, 5.0, 1.0)):
    """Ratings on a grid whose item means rise from near the minimum (item 0) to near the maximum (last item).

    Popularity falls with the item index in a shuffled way, so popularity and item mean are not the same
    ranking. User u's j-th rating has time 100 u + j.
    """
    rng = np.random.default_rng(seed)
    low, high, step = scale
    item_mean = np.linspace(low + 0.3 * (high - low) / 4, high - 0.3 * (high - low) / 4, n_items)
    weights = 1.0 / (1.0 + rng.permutation(n_items)) ** 0.8
    rows, cols = [], []
    for user in range(n_users):
        rows += [user] * per_user
        cols += rng.choice(n_items, per_user, replace=False, p=weights / weights.sum()).tolist()
    cols = np.array(cols)
    raw = item_mean[cols] + rng.normal(0, 0.45 * (high - low) / 4, cols.size)
    values = np.clip(low + np.round((raw - low) / step) * step, low, high)
    times = (100.0 * np.array(rows) + np.tile(np.arange(per_user), n_users)).astype(float)
    users = np.array([f"u{r}" for r in rows], dtype=object) if string_ids else np.array(rows)
    return Interactions.from_arrays(users, cols, values, order=times)


def community_data(seed=0):
    """Users 0-99 (the audience) rate items 0-19 only, users 100-299 (the victims) items 20-39 only."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for user in range(300):
        pool = np.arange(20) if user < 100 else np.arange(20, 40)
        weights = 1.0 / (1.0 + np.arange(20))
        rows += [user] * 6
        cols += rng.choice(pool, 6, replace=False, p=weights / weights.sum()).tolist()
    values = rng.integers(1, 6, len(rows)).astype(float)
    return Interactions.from_arrays(np.array(rows), np.array(cols), values, order=np.arange(len(rows), dtype=float))


def profile_parts(app, attack):
    """Added (items, values) per profile as arrays of shape (n_profiles, per_profile)."""
    n = app.attackers.size
    return app.added_items.reshape(n, -1), app.added_values.reshape(n, -1)


def fillers_of(app, attack, n_selected=0):
    items, values = profile_parts(app, attack)
    start = len(attack.targets) + n_selected
    return items[:, start:], values[:, start:]


# ------------------------------------------------------------------------------------------- the attack models
def test_average_attack_fillers_follow_item_means():
    data = rated_data()
    attack = Attack("average", (0,), size=100, filler_size=15)
    app = apply_attack(attack, data, rng=1)
    items, values = fillers_of(app, attack)
    dense = data.matrix.toarray()
    counts = (dense > 0).sum(axis=0)
    item_mean = dense.sum(axis=0) / counts
    global_mean = data.matrix.data.mean()
    to_item = np.abs(values - item_mean[items]).mean()
    to_global = np.abs(values - global_mean).mean()
    assert to_item < 0.6
    assert to_item < 0.6 * to_global
    assert np.corrcoef(values.ravel(), item_mean[items].ravel())[0, 1] > 0.8


def test_random_attack_fillers_centre_on_the_global_mean_with_the_global_std():
    data = rated_data()
    attack = Attack("random", (0,), size=150, filler_size=20)
    _, values = fillers_of(apply_attack(attack, data, rng=2), attack)
    assert values.size == 3000
    assert values.mean() == pytest.approx(data.matrix.data.mean(), abs=0.1)
    assert values.std() == pytest.approx(data.matrix.data.std(), rel=0.2)
    assert set(np.unique(values)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_fillers_are_uniform_distinct_non_target_items():
    data = rated_data()
    attack = Attack("random", (3, 7), size=200, filler_size=10)
    items, _ = fillers_of(apply_attack(attack, data, rng=0), attack)
    assert not np.isin(items, [3, 7]).any()
    assert all(np.unique(row).size == row.size for row in items)
    counts = np.bincount(items.ravel(), minlength=data.n_items)[np.setdiff1d(np.arange(40), [3, 7])]
    expected = items.size / 38
    assert counts.min() > 0.6 * expected and counts.max() < 1.4 * expected  # uniform, not popularity-weighted


def test_bandwagon_profiles_hold_the_most_popular_items_at_max():
    data = rated_data()
    popularity = np.bincount(data.matrix.indices, minlength=data.n_items)
    others = [i for i in np.argsort(-popularity, kind="stable") if i != 5]
    top = np.sort(others[:3])
    attack = Attack("bandwagon", (5,), size=10, filler_size=6)
    app = apply_attack(attack, data, rng=0)
    items, values = profile_parts(app, attack)
    np.testing.assert_array_equal(items[:, 1:4], np.broadcast_to(top, (10, 3)))
    assert np.all(values[:, :4] == 5.0)
    dense = app.interactions.matrix.toarray()
    assert np.all(dense[np.ix_(app.attackers, top)] == 5.0)
    assert not np.isin(items[:, 4:], np.append(top, 5)).any()


def test_segment_attack_rates_the_co_rated_segment_at_max_and_fillers_at_min():
    data = rated_data()
    dense = data.matrix.toarray() > 0
    raters = dense[:, 9]
    corated = dense[raters].sum(axis=0)
    corated[9] = -1
    popularity = dense.sum(axis=0)
    expected = np.sort(np.lexsort((np.arange(40), -popularity, -corated))[:4])
    attack = Attack("segment", (9,), size=8, filler_size=10, n_selected=4)
    app = apply_attack(attack, data, rng=0)
    items, values = profile_parts(app, attack)
    np.testing.assert_array_equal(items[0, 1:5], expected)
    assert np.all(values[:, :5] == 5.0) and np.all(values[:, 5:] == 1.0)
    explicit = apply_attack(dataclasses.replace(attack, selected=(1, 2)), data, rng=0)
    items, values = profile_parts(explicit, attack)
    assert np.all(items[:, 1:3] == [1, 2]) and items.shape[1] == 13 and np.all(values[:, 3:] == 1.0)


def test_segment_falls_back_to_popular_items_when_few_are_co_rated():
    rows = [0, 0, 1, 1, 2, 3]
    cols = [0, 1, 2, 3, 2, 2]  # item 0's only rater also rated item 1; item 2 is the most popular
    data = Interactions.from_arrays(np.array(rows), np.array(cols), np.full(6, 4.0))
    app = apply_attack(Attack("segment", (0,), size=1, filler_size=0, n_selected=2), data)
    np.testing.assert_array_equal(app.added_items, [0, 1, 2])


@pytest.mark.parametrize("kind", ATTACK_KINDS)
def test_push_rates_targets_at_max_and_nuke_at_min(kind):
    data = rated_data(scale=(0.5, 5.0, 0.5))
    push = apply_attack(Attack(kind, (2, 30), size=5, filler_size=4), data)
    nuke = apply_attack(Attack(kind, (2, 30), intent="nuke", size=5, filler_size=4), data)
    chosen = apply_attack(Attack(kind, (2, 30), size=5, filler_size=4, target_rating=3.5), data)
    for app, value in ((push, 5.0), (nuke, 0.5), (chosen, 3.5)):
        on_target = np.isin(app.added_items, [2, 30])
        assert on_target.sum() == 10 and np.all(app.added_values[on_target] == value)
        assert np.all(app.interactions.matrix.toarray()[np.ix_(app.attackers, [2, 30])] == value)
    on_grid = push.added_values / 0.5
    np.testing.assert_allclose(on_grid, np.round(on_grid))
    assert push.added_values.min() >= 0.5 and push.added_values.max() <= 5.0


def test_implicit_data_gets_only_ones():
    base = rated_data()
    rows, cols, _, order = base.to_coo()
    data = Interactions.from_arrays(rows, cols, np.ones(rows.size), order=order)
    for kind in ATTACK_KINDS:
        for intent in ("push", "nuke"):
            app = apply_attack(Attack(kind, (0,), intent=intent, size=4, filler_size=5), data)
            assert np.all(app.added_values == 1.0)


def test_rating_grid_is_inferred_from_the_values():
    assert rating_grid(np.array([1.0, 3.0, 2.0, 5.0])) == (1.0, 5.0, 1.0)
    assert rating_grid(np.array([0.5, 1.5, 5.0, 3.0])) == (0.5, 5.0, 0.5)
    assert rating_grid(np.ones(4)) == (1.0, 1.0, 0.0)
    assert rating_grid(np.array([1.0, 2.0, 4.0, 5.0]))[2] == 1.0
    assert rating_grid(np.array([0.1, 0.37, np.pi]))[2] == 0.0
    assert rating_grid(np.array([1.0, 5.0, 1e12]))[2] == 0.0


def test_brigading_fillers_come_from_the_victims_popular_items_in_a_tight_burst():
    data = community_data()
    audience = np.arange(100)
    victims_popularity = np.bincount(data.matrix[100:].indices, minlength=40)
    victims_popularity[5] = -1
    pool = np.lexsort((np.arange(40), -victims_popularity))[: BRIGADE_POOL_FACTOR * 4]
    latest = data.order.data.max()
    for accounts in ACCOUNT_KINDS:
        attack = Attack("brigading", (5,), size=12, filler_size=4, accounts=accounts)
        app = apply_attack(attack, data, rng=3, audience=audience)
        items, _ = fillers_of(app, attack)
        assert np.isin(items, pool).all() and np.all(items >= 20)  # the victims' items, not the audience's
        times = app.interactions.order.toarray()[app.added_users, app.added_items]
        assert times.min() >= latest + 1 and times.max() < latest + 2  # one unit window
        assert np.unique(times).size == app.n_actions
        if accounts == "real":
            assert not np.isin(app.attackers, audience).any()


# ------------------------------------------------------------------------------------------ accounts and order
@pytest.mark.parametrize("string_ids", [False, True])
def test_fake_accounts_are_new_rows(string_ids):
    data = rated_data(string_ids=string_ids)
    app = apply_attack(Attack("average", (0,), size=7, filler_size=3), data)
    assert app.fake and app.delta.n_new_users == 7
    np.testing.assert_array_equal(app.attackers, np.arange(300, 307))
    expected = [f"attack-{i}" for i in range(7)] if string_ids else list(range(-1, -8, -1))
    assert app.interactions.users.ids[300:].tolist() == expected
    assert (app.interactions.matrix[:300] != data.matrix).nnz == 0
    assert app.interactions.n_interactions == data.n_interactions + app.n_actions == data.n_interactions + 28


@pytest.mark.parametrize("string_ids", [False, True])
def test_fake_ids_stay_unique_when_attacked_data_is_attacked_again(string_ids):
    data = rated_data(string_ids=string_ids)
    once = apply_attack(Attack("average", (0,), size=3, filler_size=3), data, rng=1).interactions
    twice = apply_attack(Attack("random", (1,), size=4, filler_size=3), once, rng=2)
    new_ids = twice.interactions.users.ids[once.n_users :].tolist()
    assert new_ids == ([f"attack-{i}" for i in range(3, 7)] if string_ids else [-4, -5, -6, -7])
    assert twice.interactions.n_users == data.n_users + 7
    assert np.unique(twice.interactions.users.ids.astype(str)).size == data.n_users + 7
    # the first attack's profiles are untouched
    assert (twice.interactions.matrix[: once.n_users] != once.matrix).nnz == 0


def test_fake_ids_continue_below_negative_and_after_taken_ids():
    data = Interactions.from_arrays(np.array([-1, 2]), np.array([0, 1]), np.array([4.0, 5.0]))
    app = apply_attack(Attack("random", (0,), size=2, filler_size=1), data)
    assert app.interactions.users.ids[2:].tolist() == [-2, -3]
    named = Interactions.from_arrays(np.array(["attack-0", "bob"]), np.array([0, 1]), np.array([4.0, 5.0]))
    app = apply_attack(Attack("random", (0,), size=1, filler_size=1), named)
    assert app.interactions.users.ids[2:].tolist() == ["attack-1"]


def test_real_accounts_are_existing_rows_outside_the_audience_with_overwritten_ratings():
    data = rated_data()
    audience = np.arange(0, 300, 2)
    attack = Attack("average", (0, 1), size=20, filler_size=5, accounts="real")
    app = apply_attack(attack, data, rng=4, audience=audience)
    assert not app.fake and app.interactions.n_users == 300 and app.delta.n_new_users == 0
    assert app.attackers.size == 20 and np.all(app.attackers % 2 == 1)
    before, after = data.matrix.toarray(), app.interactions.matrix.toarray()
    assert np.all(after[np.ix_(app.attackers, [0, 1])] == 5.0)
    np.testing.assert_array_equal(after[app.added_users, app.added_items], app.added_values)
    touched = np.zeros_like(before, dtype=bool)
    touched[app.added_users, app.added_items] = True
    np.testing.assert_array_equal(after[~touched], before[~touched])
    assert (before[app.added_users, app.added_items] > 0).any()  # some existing ratings were overwritten


def test_fake_shilling_profiles_follow_the_data_in_one_burst():
    data = rated_data()
    latest = data.order.data.max()
    attack = Attack("bandwagon", (0,), size=5, filler_size=4)
    app = apply_attack(attack, data, rng=0)
    times = app.interactions.order.toarray()[app.added_users, app.added_items].reshape(5, 8)
    assert np.all(np.sort(times, axis=1) == latest + 1 + 8 * np.arange(5)[:, None] + np.arange(8))


def test_real_accounts_append_after_their_own_latest():
    data = rated_data()
    app = apply_attack(Attack("random", (0,), size=6, filler_size=3, accounts="real"), data, rng=5)
    times = app.interactions.order.toarray()[app.added_users, app.added_items].reshape(6, 4)
    own_latest = 100.0 * app.attackers + 11  # rated_data: user u's last rating is at 100 u + 11
    np.testing.assert_array_equal(np.sort(times, axis=1), own_latest[:, None] + 1 + np.arange(4))


def test_data_without_order_gets_no_order():
    rows, cols, values, _ = rated_data().to_coo()
    data = Interactions.from_arrays(rows, cols, values)
    assert apply_attack(Attack("brigading", (0,), size=3, filler_size=2), data).interactions.order is None


# ------------------------------------------------------------------------------------------- budget, determinism
@pytest.mark.parametrize(("kind", "per_profile"), [("random", 6), ("bandwagon", 9), ("segment", 9), ("brigading", 6)])
def test_budget_fixes_the_number_of_added_interactions(kind, per_profile):
    data = rated_data()
    for budget in (40, 54, per_profile - 1):
        app = apply_attack(Attack(kind, (0,), filler_size=5, budget=budget, size=0.5), data)
        assert app.n_actions == max(1, budget // per_profile) * per_profile == app.added_values.size
        assert app.attackers.size == max(1, budget // per_profile)


def test_size_as_share_or_count_and_filler_share():
    attack = Attack("random", (0,), size=0.1, filler_size=0.1)
    assert attack.n_profiles(300, 5) == 30 and attack.n_fillers(40) == 4
    assert Attack("random", (0,), size=7).n_profiles(300, 5) == 7
    assert Attack("random", (0,), size=0.001).n_profiles(300, 5) == 1
    assert Attack("random", (3, 1, 3)).targets == (1, 3)
    spec = Attack("segment", (4,), selected=(2,), intent="nuke", budget=9)
    assert Attack(**spec.as_dict()) == spec


@pytest.mark.parametrize("kind", ATTACK_KINDS)
def test_same_seed_same_attack(kind):
    data = rated_data()
    attack = Attack(kind, (0, 3), size=6, filler_size=5, accounts="real")
    first, second = apply_attack(attack, data, rng=9), apply_attack(attack, data, rng=9)
    for name in ("attackers", "added_users", "added_items", "added_values"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert (first.interactions.matrix != second.interactions.matrix).nnz == 0
    assert (first.interactions.order != second.interactions.order).nnz == 0
    other = apply_attack(attack, data, rng=10)
    assert not np.array_equal(first.added_items, other.added_items)


# ---------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "sybil"}, r"attack\.kind must be one of"),
        ({"intent": "boost"}, r"attack\.intent must be one of"),
        ({"accounts": "bots"}, r"attack\.accounts must be one of"),
        ({"targets": ()}, r"attack\.targets is empty"),
        ({"targets": (1.5,)}, r"attack\.targets must hold integer"),
        ({"size": 0}, r"attack\.size as a count must be >= 1"),
        ({"size": 1.0}, r"attack\.size as a share of users must lie in \(0, 1\)"),
        ({"size": 0.0}, r"attack\.size as a share"),
        ({"size": "many"}, r"attack\.size must be a share"),
        ({"filler_size": -1}, r"attack\.filler_size as a count must be >= 0"),
        ({"filler_size": 1.0}, r"attack\.filler_size as a share of items must lie in \[0, 1\)"),
        ({"kind": "bandwagon", "n_selected": 0}, r"attack\.n_selected must be >= 1 for a bandwagon"),
        ({"n_selected": -2}, r"attack\.n_selected must be an integer >= 0"),
        ({"selected": (4,)}, r"attack\.selected is only used by bandwagon and segment"),
        ({"kind": "segment", "selected": (0, 4)}, r"attack\.selected must not contain targets"),
        ({"target_rating": float("nan")}, r"attack\.target_rating must be a finite number"),
        ({"budget": 0}, r"attack\.budget must be an integer >= 1"),
        ({"budget": 2.5}, r"attack\.budget must be an integer >= 1"),
    ],
)
def test_bad_specs_name_the_field(changes, message):
    with pytest.raises(InvalidParameterError, match=message):
        Attack(**{"kind": "random", "targets": (0,), **changes})


@pytest.mark.parametrize(
    ("spec", "audience", "message"),
    [
        ({"targets": (40,)}, None, r"attack\.targets: item index 40 is out of range"),
        ({"targets": (-1,)}, None, r"attack\.targets: item index -1 is out of range"),
        ({"kind": "bandwagon", "selected": (99,)}, None, r"attack\.selected: item index 99 is out of range"),
        ({"filler_size": 40}, None, r"attack\.filler_size asks for 40 filler items .* only 39"),
        ({"kind": "segment", "n_selected": 40}, None, r"attack\.n_selected=40 exceeds the 39 non-target items"),
        ({"kind": "bandwagon", "filler_size": 37}, None, r"attack\.filler_size asks for 37 .* only 36"),
        ({"accounts": "real", "size": 201}, np.arange(100), r"attack\.size asks for 201 real accounts .* only 200"),
        ({"accounts": "real", "budget": 10**6}, None, r"attack\.budget asks for"),
        ({}, np.array([300]), r"audience: user index 300 is out of range"),
    ],
)
def test_bad_attacks_on_data_name_the_field(spec, audience, message):
    with pytest.raises(InvalidParameterError, match=message):
        apply_attack(Attack(**{"kind": "random", "targets": (0,), "size": 2, **spec}), rated_data(), audience=audience)


def test_empty_interactions_are_a_data_error():
    empty = Interactions.from_arrays(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    with pytest.raises(DataError, match=r"cannot attack empty interactions"):
        apply_attack(Attack("random", (0,)), empty)


def test_bad_rng_is_an_error():
    with pytest.raises(InvalidParameterError, match=r"rng must be"):
        apply_attack(Attack("random", (0,)), rated_data(), rng=-1)


# ------------------------------------------------------------------------------------------------ real data
def test_goodbooks_attacks_have_their_defining_statistics(shared_data):
    from recollective.data import load_goodbooks

    data = load_goodbooks(shared_data / "goodbooks-10k")
    matrix = data.matrix
    counts = np.bincount(matrix.indices, minlength=data.n_items)
    item_mean = np.bincount(matrix.indices, weights=matrix.data, minlength=data.n_items) / np.maximum(counts, 1)
    target = int(np.argsort(counts, kind="stable")[data.n_items // 2])  # a middling book
    average = Attack("average", (target,), size=0.01, filler_size=0.01)
    app = apply_attack(average, data, rng=0)
    assert app.attackers.size == 27 and app.n_actions == 27 * 101
    items, values = fillers_of(app, average)
    seen = counts[items] >= 20  # items whose mean is well estimated
    assert np.corrcoef(values[seen], item_mean[items][seen])[0, 1] > 0.2  # about 0.3: item std is large here
    random = Attack("random", (target,), size=0.01, filler_size=0.01)
    items, values = fillers_of(apply_attack(random, data, rng=0), random)
    seen = counts[items] >= 20
    assert abs(np.corrcoef(values[seen], item_mean[items][seen])[0, 1]) < 0.1
    assert values.mean() == pytest.approx(matrix.data.mean(), abs=0.1)
    assert set(np.unique(app.added_values)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    bandwagon = apply_attack(Attack("bandwagon", (target,), size=0.01, filler_size=0.01), data, rng=0)
    top = np.argsort(-counts, kind="stable")[:3]
    assert np.all(bandwagon.interactions.matrix[bandwagon.attackers][:, top].toarray() == 5.0)
    brigade = apply_attack(Attack("brigading", (target,), size=0.01, accounts="real"), data, rng=0)
    times = brigade.interactions.order[brigade.added_users, brigade.added_items]
    assert times.min() > data.order.data.max() and np.ptp(times) < 1.0
