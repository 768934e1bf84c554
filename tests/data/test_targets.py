"""Target selection: long tail by hand, explicit lists, exposure deficit by hand, planted communities recovered,
audiences from held-out data and from worlds, and goodbooks-10k."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pv
import pytest

from recollective.data import Interactions
from recollective.data._splits import random_holdout
from recollective.data._targets import (
    bipartite_communities,
    community_targets,
    explicit_targets,
    exposure_deficit_targets,
    longtail_targets,
    popularity_lists,
)
from recollective.data._worlds import majority_minority_world
from recollective.errors import DataError, InvalidParameterError

# Six authors; interactions per author: A 50, B 30, C 10, D 5, E 3, F 2 (total 100).
BOOKS = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "c2": "C", "d1": "D", "e1": "E", "f1": "F"}
READS = {"a1": 30, "a2": 20, "b1": 30, "c1": 6, "c2": 4, "d1": 5, "e1": 3, "f1": 2}


def _catalogue():
    ids = np.array(list(BOOKS), dtype=object)
    authors = np.array([BOOKS[i] for i in ids], dtype=object)
    metadata = {"title": ids.copy(), "authors": authors.copy(), "primary_author": authors}
    return ids, metadata


def _train():
    users, items = [], []
    for book, n in READS.items():
        users += [f"u{j:02d}" for j in range(n)]
        items += [book] * n
    ids, metadata = _catalogue()
    return Interactions.from_arrays(users, items, item_metadata=metadata, item_vocabulary_ids=ids)


def _test(pairs, values=None):
    ids, metadata = _catalogue()
    return Interactions.from_arrays(
        [u for u, _ in pairs], [i for _, i in pairs], values, item_metadata=metadata, item_vocabulary_ids=ids
    )


# held-out likes: C by 3 users (x, y, z), D by 1, E by 2, F by none; A by 1
TEST = _test([("x", "c1"), ("y", "c2"), ("z", "c1"), ("z", "c2"), ("x", "d1"), ("y", "e1"), ("w", "e1"), ("v", "a1")])


# ------------------------------------------------------------------------------------------------- long tail
def test_longtail_by_hand():
    targets = longtail_targets(_train(), audience_from=TEST, head_share=0.8, min_audience=2)
    details = targets.details
    assert (details["n_units"], details["n_head"], details["n_tail"]) == (6, 2, 4)  # head A+B = 80 of 100
    assert details["head_share"] == pytest.approx(0.8)
    assert details["tail_interaction_share"] == pytest.approx(0.2)
    assert details["n_tail_eligible"] == 2
    assert targets.authors == ("C", "E")  # audience 3 and 2; D (1) and F (0) are too small
    assert [row["audience"] for row in details["table"]] == [3, 2]
    assert [row["n_interactions"] for row in details["table"]] == [10, 3]
    assert targets.item_ids.tolist() == ["c1", "c2", "e1"]
    assert targets.audience.user_ids.tolist() == ["w", "x", "y", "z"]
    assert targets.audience.per_target.tolist() == [2, 2, 2]
    assert targets.audience.n_pairs == 6


def test_longtail_head_share_max_targets_and_by_item():
    train = _train()
    wider = longtail_targets(train, audience_from=TEST, head_share=0.85, min_audience=1)
    assert wider.details["n_head"] == 3 and wider.details["head_share"] == pytest.approx(0.9)
    assert wider.authors == ("E", "D")  # C is in the head now; ranked by audience
    assert longtail_targets(train, audience_from=TEST, head_share=0.8, min_audience=2, max_targets=1).authors == ("C",)
    by_item = longtail_targets(train, audience_from=TEST, head_share=0.8, min_audience=2, by="item")
    # items by reads: a1 30, b1 30 (tie: a1 first by index), a2 20 -> 80 %; tail c1 6, c2 4, d1 5, e1 3, f1 2
    assert by_item.details["n_head"] == 3
    assert by_item.item_ids.tolist() == ["c1", "c2", "e1"]  # c1: x, z; c2: y, z; e1: y, w; d1: x only
    assert by_item.authors == ("C", "E")


def test_longtail_threshold_counts_only_high_ratings():
    test = _test([("x", "c1"), ("y", "c2"), ("z", "e1"), ("w", "e1")], values=[5.0, 2.0, 4.0, 3.0])
    targets = longtail_targets(_train(), audience_from=test, min_audience=1, threshold=4.0)
    assert targets.authors == ("C", "E")
    assert targets.audience.user_ids.tolist() == ["x", "z"]
    assert targets.audience.threshold == 4.0


def test_longtail_without_authors_is_a_clear_error():
    data = Interactions.from_arrays(["u", "v"], [1, 2])
    with pytest.raises(DataError, match="no author metadata"):
        longtail_targets(data, audience_from=data)
    assert longtail_targets(data, audience_from=data, by="item", head_share=0.4, min_audience=1).n_targets == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"head_share": 1.0}, "head_share must be strictly between 0 and 1; got 1.0"),
        ({"min_audience": -1}, "min_audience must be an integer >= 0"),
        ({"by": "genre"}, "by must be 'author' or 'item'; got 'genre'"),
        ({"max_targets": 0}, "max_targets must be an integer >= 1"),
    ],
)
def test_longtail_parameters_are_checked(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        longtail_targets(_train(), audience_from=TEST, **kwargs)


# --------------------------------------------------------------------------------------------------- explicit
def test_explicit_targets_by_id_and_author_with_coauthors():
    ids, metadata = _catalogue()
    metadata["authors"] = metadata["authors"].copy()
    metadata["authors"][ids.tolist().index("b1")] = "B, E"  # E co-wrote b1
    train = Interactions.from_arrays(["u", "u"], ["a1", "b1"], item_metadata=metadata, item_vocabulary_ids=ids)
    by_author = explicit_targets(train, authors=["E"], audience_from=TEST)
    assert by_author.by == "author" and by_author.item_ids.tolist() == ["b1", "e1"]
    assert by_author.audience.user_ids.tolist() == ["w", "y"]
    mixed = explicit_targets(train, item_ids=["d1"], authors=["C"], audience_from=TEST)
    assert mixed.by == "item" and mixed.item_ids.tolist() == ["c1", "c2", "d1"]
    assert mixed.authors == ("C", "D")
    assert mixed.audience.n_users == 3


def test_explicit_targets_errors_name_what_is_missing():
    with pytest.raises(DataError, match="no book by author 'Nobody' in the item metadata"):
        explicit_targets(_train(), authors=["Nobody"], audience_from=TEST)
    with pytest.raises(DataError, match="unknown item id 'zz'"):
        explicit_targets(_train(), item_ids=["zz"], audience_from=TEST)
    with pytest.raises(InvalidParameterError, match="needs item_ids or authors"):
        explicit_targets(_train(), audience_from=TEST)
    with pytest.raises(InvalidParameterError, match="audience_from must be a test Interactions or a World"):
        explicit_targets(_train(), item_ids=["a1"], audience_from="test.csv")


def test_explicit_integer_ids_given_as_text():
    data = Interactions.from_arrays([1, 2, 2], [10, 10, 20])
    targets = explicit_targets(data, item_ids=["20"], audience_from=data)
    assert targets.item_ids.tolist() == [20] and targets.audience.user_ids.tolist() == [2]


# ---------------------------------------------------------------------------------------------------- exposure
def test_exposure_deficit_by_hand():
    train = _train()
    index = {book: i for i, book in enumerate(train.items.ids)}
    # 3 lists of 2 slots (one empty): a1 x3, b1 x2 -> exposure shares a1 0.6, b1 0.4
    recommendations = np.array([[index["a1"], index["b1"]], [index["a1"], index["b1"]], [index["a1"], -1]])
    targets = exposure_deficit_targets(train, recommendations, audience_from=TEST, n_targets=2)
    # liked pairs: c1 2, c2 2, d1 1, e1 2, a1 1 (8): demand shares 0.25, 0.25, 0.125, 0.25, 0.125
    table = targets.details["table"]
    assert [row["name"] for row in table] == ["c1", "c2"]  # ties at 0.25 broken by item index
    assert [row["deficit"] for row in table] == pytest.approx([0.25, 0.25])
    assert targets.details["n_slots"] == 5 and targets.details["n_units_in_deficit"] == 4
    by_author = exposure_deficit_targets(train, recommendations, audience_from=TEST, n_targets=3, by="author")
    assert by_author.authors == ("C", "E", "D")  # C 0.5, E 0.25, D 0.125; A 0.125 - 0.6 < 0
    assert by_author.details["table"][0]["deficit"] == pytest.approx(0.5)
    assert exposure_deficit_targets(
        train, recommendations, audience_from=TEST, min_audience=2, by="author"
    ).authors == (
        "C",
        "E",
    )


def test_exposure_deficit_can_leave_out_the_head():
    train = _train()
    a1 = train.items.number("a1")
    recommendations = np.array([[a1], [a1]])
    targets = exposure_deficit_targets(train, recommendations, audience_from=TEST, by="author", exclude_head=0.85)
    assert targets.details["n_head_excluded"] == 3  # A, B, C hold 90 % of the reads
    assert targets.authors == ("E", "D")


def test_popularity_lists_skip_seen_items():
    train = _train()
    lists = popularity_lists(train, 3)
    ids = train.items.ids
    user = train.users.number("u25")  # read a1 and b1 only
    assert ids[lists[user]].tolist() == ["a2", "c1", "d1"]  # by reads: a1 30, b1 30, a2 20, c1 6, d1 5, ...
    assert (lists[train.users.number("u00")] == -1).all()  # u00 read all eight books
    assert ids[lists[train.users.number("u29")]].tolist() == ["a2", "c1", "d1"]
    with pytest.raises(InvalidParameterError, match="k must be an integer >= 1"):
        popularity_lists(train, 0)


def test_exposure_deficit_checks_the_lists():
    train = _train()
    with pytest.raises(DataError, match="recommendations must be an integer array of shape"):
        exposure_deficit_targets(train, np.zeros(3, int), audience_from=TEST)
    with pytest.raises(DataError, match="item index 99, but there are only 8 items"):
        exposure_deficit_targets(train, np.array([[99]]), audience_from=TEST)
    with pytest.raises(DataError, match="no filled slot"):
        exposure_deficit_targets(train, np.array([[-1, -1]]), audience_from=TEST)


# ---------------------------------------------------------------------------------------------------- worlds
@pytest.fixture(scope="module")
def world():
    return majority_minority_world(1500, 600, 30_000, rng=0)


def test_planted_communities_are_recovered(world):
    train, test = random_holdout(world.interactions, 0.2, rng=0)
    communities = bipartite_communities(train, 2, rng=0)
    assert communities.singular_values == pytest.approx([1.0, 1.0])  # two connected components
    np.testing.assert_array_equal(communities.user_labels, world.user_group)
    read = communities.item_labels >= 0
    np.testing.assert_array_equal(communities.item_labels[read], world.item_group[read])
    targets = community_targets(train, audience_from=world, rng=0)
    assert targets.details["minority_community"] == 1 and targets.details["n_minority_users"] == 300
    assert set(targets.item_idx) == set(np.flatnonzero(read & (world.item_group == 1)))
    assert set(targets.authors) == {a for a in targets.authors if a.startswith("Minority")}
    truth = world.preferences()
    expected = np.flatnonzero((truth[:, targets.item_idx] >= world.like_threshold).any(axis=1))
    np.testing.assert_array_equal(targets.audience.user_idx, expected)
    assert targets.details["audience_in_community"] == 1.0
    held_out = community_targets(train, audience_from=test, max_targets=20, rng=0)
    assert held_out.n_targets == 20 and held_out.details["audience_in_community"] == 1.0


def test_communities_in_a_mixed_world_and_seeding():
    mixed = majority_minority_world(1500, 600, 30_000, cross_affinity=0.1, rng=1)
    communities = bipartite_communities(mixed.interactions, 2, rng=0)
    assert 0.9 > communities.singular_values[1] > 0.5  # connected now (measured: 0.683)
    assert (communities.user_labels == mixed.user_group).mean() > 0.99
    again = bipartite_communities(mixed.interactions, 2, rng=0)
    np.testing.assert_array_equal(again.item_labels, communities.item_labels)


def test_world_longtail_audience_is_the_true_preference_above_threshold(world):
    targets = longtail_targets(world.interactions, audience_from=world, head_share=0.6, min_audience=50)
    truth = world.preferences()
    authors = world.interactions.item_metadata["primary_author"]
    for row in targets.details["table"]:
        books = np.flatnonzero(authors == row["name"])
        assert row["audience"] == int((truth[:, books] >= 0.5).any(axis=1).sum()) >= 50
    liked = (truth[:, targets.item_idx] >= 0.5).any(axis=1)
    np.testing.assert_array_equal(targets.audience.user_idx, np.flatnonzero(liked))
    assert targets.audience.source == "world" and targets.audience.threshold == 0.5


def test_world_exposure_deficit_uses_true_demand(world):
    popular = np.argsort(-np.bincount(world.interactions.matrix.indices, minlength=600), kind="stable")[:5]
    recommendations = np.tile(popular, (world.n_users, 1))
    targets = exposure_deficit_targets(world.interactions, recommendations, audience_from=world, n_targets=3)
    demand = (world.preferences() >= 0.5).sum(axis=0)
    for row in targets.details["table"]:
        assert row["demand"] == demand[world.interactions.items.number(row["name"])]
    assert not set(targets.item_idx) & set(popular)


def test_world_must_share_the_items(world):
    other = majority_minority_world(100, 50, 1000, rng=0)
    with pytest.raises(DataError, match="the world's 50 items are not the items of these interactions"):
        longtail_targets(world.interactions, audience_from=other)


def test_target_sets_serialize_to_json(world):
    targets = community_targets(world.interactions, audience_from=world, max_targets=5, rng=0)
    document = json.loads(json.dumps(targets.as_dict()))
    assert document["method"] == "community" and document["n_items"] == 5
    assert document["audience"]["n_users"] == targets.audience.n_users
    assert len(document["item_audience"]) == 5


# ---------------------------------------------------------------------------------------------- goodbooks-10k
def _goodbooks(shared_data):
    folder = shared_data / "goodbooks-10k"
    ratings = pv.read_csv(folder / "ratings_random.csv")
    books = pv.read_csv(folder / "books.csv", convert_options=pv.ConvertOptions(include_columns=["book_id", "authors"]))
    authors = np.array(books["authors"].to_pylist(), dtype=object)
    primary = np.array([a.split(",")[0].strip() for a in authors], dtype=object)
    data = Interactions.from_arrays(
        ratings["user_id"].to_numpy(),
        ratings["book_id"].to_numpy(),
        ratings["rating"].to_numpy(),
        np.arange(len(ratings)),
        item_metadata={"authors": authors, "primary_author": primary},
        item_vocabulary_ids=books["book_id"].to_numpy(),
    )
    return data, ratings, books


def test_goodbooks_longtail_authors_and_their_audience(shared_data):
    data, ratings, books = _goodbooks(shared_data)
    train, test = random_holdout(data, 0.2, rng=0)
    targets = longtail_targets(train, audience_from=test, head_share=0.5, min_audience=20, threshold=4.0)
    details = targets.details
    # the head recomputed independently from the training matrix
    primary = data.item_metadata["primary_author"]
    reads = {}
    for item, n in enumerate(np.bincount(train.matrix.indices, minlength=train.n_items)):
        reads[primary[item]] = reads.get(primary[item], 0) + int(n)
    counts = np.sort(np.array(list(reads.values())))[::-1]
    n_head = int(np.argmax(np.cumsum(counts) >= 0.5 * counts.sum())) + 1
    assert details["n_units"] == len(reads) == 3888
    assert details["n_head"] == n_head
    assert details["head_share"] == pytest.approx(counts[:n_head].sum() / counts.sum())
    assert details["n_head"] < 0.05 * details["n_units"]  # 4 % of the authors hold half the reads
    # every chosen author: in the tail, and >= 20 held-out users rated one of their books 4 or 5
    test_rows = np.repeat(np.arange(test.n_users), np.diff(test.matrix.indptr))
    liked = test.matrix.data >= 4
    head = set(sorted(reads, key=lambda a: (-reads[a], a))[:n_head])
    for row in details["table"]:
        assert row["name"] not in head
        books_of = np.flatnonzero(primary == row["name"])
        fans = np.unique(test_rows[liked & np.isin(test.matrix.indices, books_of)])
        assert row["audience"] == fans.size >= 20
    assert len(targets.authors) == details["n_tail_eligible"] > 100
    assert targets.audience.n_users > 0.5 * data.n_users
    assert (ratings.num_rows, books.num_rows) == (298_176, 10_000)


def test_goodbooks_communities_find_a_small_reader_community(shared_data):
    data, _, _ = _goodbooks(shared_data)
    train, test = random_holdout(data, 0.2, rng=0)
    targets = community_targets(train, audience_from=test, n_communities=3, threshold=4.0, rng=0)
    sizes = targets.details["communities"]
    minority = sizes[targets.details["minority_community"]]
    assert minority["n_users"] < 0.05 * data.n_users and minority["interaction_share"] < 0.05
    assert targets.audience.n_users > 0
    assert targets.details["audience_in_community"] > 0.3
