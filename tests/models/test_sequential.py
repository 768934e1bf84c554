import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from models.contract import RecommenderContract, block_interactions, with_changes
from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError
from recollective.models import make_model
from recollective.models._sequential import SequentialTransformer, last_windows, user_histories

torch = pytest.importorskip("torch")

SMALL = {
    "embedding_dim": 16,
    "n_blocks": 1,
    "max_length": 16,
    "epochs": 2,
    "batch_size": 8,
    "learning_rate": 0.01,
    "validation_fraction": 0.0,
    "n_negatives": None,
    "refit_epochs": 2,
    "rng": 0,
    "num_threads": 1,
}


def top(model, users, k):
    return model.recommend(users, k=k)[0]


def in_block_share(model, interactions, k=2, n_items_per_block=15):
    """Share of each user's top-k in the user's own block (block_interactions: the first half of the users is
    block 0)."""
    users = np.arange(interactions.n_users)
    own = users >= interactions.n_users // 2
    return float(np.mean(top(model, users, k) // n_items_per_block == own[:, None]))


def randomly_ordered(interactions, seed=0):
    """The same interactions with a random reading order (uniform positions)."""
    matrix = interactions.matrix
    order = sp.csr_array(
        (np.random.default_rng(seed).random(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    return Interactions(matrix, interactions.users, interactions.items, order)


def top_overlap(a, b, n_users, k=2):
    users = np.arange(n_users)
    return float(
        np.mean([np.intersect1d(x, y).size / k for x, y in zip(top(a, users, k), top(b, users, k), strict=True)])
    )


class TestSequentialContract(RecommenderContract):
    model_class = SequentialTransformer
    params: ClassVar[dict] = {**SMALL, "epochs": 10}
    bad_params: ClassVar[list] = [
        ("embedding_dim", 0),
        ("n_heads", 3),  # 16 is not a multiple of 3
        ("dropout", 1.0),
        ("max_length", 0),
        ("learning_rate", 0.0),
        ("weight_decay", -1.0),
        ("patience", 0),
        ("validation_fraction", 1.0),
        ("n_negatives", 0),
        ("refit_replay", -1),
        ("rng", -1),
        ("num_threads", 0),
        ("progress", "bar"),
    ]

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        """The planted block data read in a random order within each user.

        A next-item model needs a reading order; in item-index order every block-0 history ends in item 13 or 14
        and the next item after it is, by the order alone, the start of block 1. A random order within the
        block makes "the next item" any unseen in-block item, so the planted answer is unchanged.
        """
        interactions, missing = block_interactions()
        return randomly_ordered(interactions), missing

    def assert_refit_close(self, refitted, cold, changed):
        """The stated quality tolerance on the planted data: the planted structure is kept (in-block share of
        the top-2 within 0.05 of a cold fit's) and the top-2 lists overlap a cold fit's at least as much as two
        cold fits with different seeds overlap, minus 0.05."""
        other = self.make(rng=1).fit(changed)
        refit_quality, cold_quality = in_block_share(refitted, changed), in_block_share(cold, changed)
        assert cold_quality >= 0.9
        assert refit_quality >= cold_quality - 0.05
        reference = top_overlap(cold, other, changed.n_users)
        assert top_overlap(refitted, cold, changed.n_users) >= reference - 0.05


def chain_interactions(n_items=40, n_users=80, seed=0):
    """Users read runs along a hidden cyclic item permutation: ``chain[j]`` is always followed by ``chain[j + 1]``.

    The reading order is given by ``order`` (positions), unrelated to item indices. Returns the interactions and
    ``successor`` (item index -> the item index that follows it).
    """
    rng = np.random.default_rng(seed)
    chain = rng.permutation(n_items)
    users, items, order = [], [], []
    for user in range(n_users):
        length = int(rng.integers(6, 14))
        start = int(rng.integers(0, n_items))
        users += [user] * length
        items += chain[(start + np.arange(length)) % n_items].tolist()
        order += list(range(length))
    data = Interactions.from_arrays(np.array(users), np.array(items), np.ones(len(users)), np.array(order))
    np.testing.assert_array_equal(data.items.ids, np.arange(n_items))  # every item read: index = id
    successor = np.empty(n_items, dtype=np.int64)
    successor[chain] = np.roll(chain, -1)
    return data, successor


def test_learns_an_obvious_sequence_pattern():
    data, successor = chain_interactions()
    model = SequentialTransformer(**{**SMALL, "epochs": 10}).fit(data)
    indptr, histories = user_histories(data.matrix, data.order)
    last = histories[indptr[1:] - 1]
    best = top(model, np.arange(data.n_users), 1)[:, 0]
    assert np.mean(best == successor[last]) >= 0.9
    # item-index order (no order given) scrambles the chain: the order column is what was learned
    unordered = Interactions.from_arrays(
        data.users.ids[np.repeat(np.arange(data.n_users), np.diff(indptr))], data.items.ids[data.matrix.indices]
    )
    plain = SequentialTransformer(**{**SMALL, "epochs": 10}).fit(unordered)
    assert np.mean(top(plain, np.arange(data.n_users), 1)[:, 0] == successor[last]) < 0.5


def test_user_histories_follow_order_ties_by_item_then_unordered_last():
    matrix = sp.csr_array(np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    order = sp.csr_array((np.array([3.0, np.nan, 1.0, 3.0, 2.0, 1.0]), matrix.indices, matrix.indptr))
    indptr, items = user_histories(matrix, order)
    np.testing.assert_array_equal(indptr, [0, 4, 6, 6])
    np.testing.assert_array_equal(items, [2, 0, 3, 1, 2, 1])
    indptr, items = user_histories(matrix, None)
    np.testing.assert_array_equal(items, [0, 1, 2, 3, 1, 2])
    windows = last_windows(indptr, items, np.array([0, 1, 2]), 3)
    np.testing.assert_array_equal(windows, [[2, 3, 4], [0, 2, 3], [0, 0, 0]])
    np.testing.assert_array_equal(last_windows(indptr, items, np.array([0]), 3, ends=np.array([2])), [[0, 1, 2]])


def test_same_seed_identical_other_seed_different_and_global_state_untouched():
    data, _ = block_interactions(n_per_group=10, n_items_per_block=8)
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    first = SequentialTransformer(**{**SMALL, "dropout": 0.3, "n_negatives": 5, "num_threads": 1}).fit(data)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    users = np.arange(data.n_users)
    again = SequentialTransformer(**{**SMALL, "dropout": 0.3, "n_negatives": 5, "num_threads": 1}).fit(data)
    np.testing.assert_array_equal(first.score(users), again.score(users))
    other = SequentialTransformer(**{**SMALL, "dropout": 0.3, "n_negatives": 5, "rng": 1}).fit(data)
    assert np.abs(first.score(users) - other.score(users)).max() > 1e-3
    assert first.score(users).dtype == np.float32


def test_early_stopping_stops_keeps_the_best_epoch_and_reports_progress():
    data, _ = chain_interactions()
    calls = []
    params = {**SMALL, "epochs": 10, "patience": 1, "validation_fraction": 0.5, "learning_rate": 1e-9}
    model = SequentialTransformer(**params, progress=lambda *args: calls.append(args)).fit(data)
    # a step size of 1e-9 changes nothing: epoch 2 cannot beat epoch 1, so training stops there
    assert len(model.history_) == 2
    assert [c[:2] for c in calls] == [(1, 10), (2, 10)]
    assert set(calls[0][2]) == {"loss", "hit_rate"}
    assert 0.0 <= calls[0][2]["hit_rate"] <= 1.0 and np.isfinite(calls[0][2]["loss"])
    full = SequentialTransformer(**{**params, "patience": None}).fit(data)
    assert len(full.history_) == 10


def test_train_restores_the_best_epoch_when_it_stops():
    from recollective.models import _sequential_net as net

    generator = torch.Generator().manual_seed(0)
    network = net.SASRecNetwork(6, 8, 1, 1, 0.0, 4)
    network.reset(generator)
    batch = np.array([[0, 1, 2, 3, 4], [2, 3, 4, 5, 6]])
    scores = iter([0.2, 0.5, 0.4, 0.3, 0.9])
    snapshots = []

    def remember(epoch, n_epochs, metrics):
        snapshots.append(network.item_embedding.detach().clone())

    records = net.train(
        network,
        lambda epoch: iter([batch]),
        5,
        batch_size=2,
        learning_rate=0.1,
        weight_decay=0.0,
        n_negatives=None,
        generator=generator,
        validate=lambda: next(scores),
        patience=2,
        on_epoch=remember,
    )
    # 0.5 at epoch 2, then two epochs without improvement: stop after epoch 4 with epoch 2's parameters
    assert [r["hit_rate"] for r in records] == [0.2, 0.5, 0.4, 0.3]
    assert torch.equal(network.item_embedding.detach(), snapshots[1])
    assert not torch.equal(snapshots[1], snapshots[3])


def test_user_without_items_scores_zero():
    data, _ = block_interactions(n_per_group=6, n_items_per_block=8)
    emptied, _ = data.without(np.zeros(6, dtype=np.int64), data.matrix.indices[: data.matrix.indptr[1]])
    model = SequentialTransformer(**SMALL).fit(emptied)
    np.testing.assert_array_equal(model.score(0), np.zeros(data.n_items, dtype=np.float32))
    assert np.isfinite(model.score(np.arange(data.n_users))).all()


def test_single_item_users_cannot_be_learned_from():
    data = Interactions.from_arrays(np.arange(4), np.array([0, 1, 2, 0]))
    with pytest.raises(DataError, match="sequential: no user has two or more interactions"):
        SequentialTransformer(**SMALL).fit(data)


def test_refit_fine_tunes_instead_of_refitting():
    data, _ = block_interactions(n_per_group=10, n_items_per_block=8)
    model = SequentialTransformer(**{**SMALL, "epochs": 6, "refit_epochs": 3}).fit(data)
    weights = {name: value.copy() for name, value in model.weights_.items()}
    changed, delta = with_changes(data, share=0.1)
    model.refit(changed, delta)
    assert len(model.history_) == 3  # the fast path ran refit_epochs, not a cold fit of 6 epochs
    assert any(not np.array_equal(weights[name], model.weights_[name]) for name in weights)


def test_registry_name_and_lazy_torch_import():
    assert isinstance(make_model("sequential", epochs=3), SequentialTransformer)
    code = "import sys, recollective.models, recollective.models._sequential; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_embedding_dim_must_divide_by_heads_message():
    data, _ = block_interactions(n_per_group=4, n_items_per_block=5)
    with pytest.raises(
        InvalidParameterError,
        match=r"sequential: embedding_dim must be a multiple of n_heads=3.*"
        r"got 16",
    ):
        SequentialTransformer(**{**SMALL, "n_heads": 3}).fit(data)


@pytest.mark.slow
def test_beats_popularity_on_goodbooks_next_item(shared_data):
    from recollective.data import load_goodbooks
    from recollective.data._splits import leave_last_out
    from recollective.models import Popularity

    train, test = leave_last_out(load_goodbooks(shared_data / "goodbooks-10k"))
    users = np.flatnonzero(np.diff(test.matrix.indptr))
    truth = test.matrix.indices[test.matrix.indptr[users]]

    def hit_rate(model):
        return float(np.mean((model.recommend(users, k=10)[0] == truth[:, None]).any(axis=1)))

    popular = hit_rate(Popularity().fit(train))
    sequential = hit_rate(SequentialTransformer(epochs=12, patience=None, rng=0, num_threads=1).fit(train))
    assert popular == pytest.approx(0.018, abs=0.002)
    assert sequential >= 3 * popular
