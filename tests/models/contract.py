"""The contract every recommender keeps (STYLE.md rule 13), subclassed per model with class attributes.

Subclass ``RecommenderContract`` in ``tests/models/test_<model>.py`` and set:

- ``model_class``; ``params``: small, fast hyper-parameters for these tests;
- ``refit_atol`` / ``refit_rtol``: the model's stated tolerance of ``refit`` against a cold ``fit`` (scores);
- ``planted``: whether the model must find the planted answer (held-out items of the user's own block);
- ``bad_params``: ``[(name, value), ...]`` each of which ``fit`` must reject with ``InvalidParameterError``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from recollective.data import Interactions
from recollective.errors import DataError, InvalidParameterError, NotFittedError


def block_interactions(n_per_group: int = 20, n_items_per_block: int = 15, held_out: int = 2, seed: int = 0):
    """Two user groups, each interacting with its own item block except ``held_out`` items per user.

    Returns the interactions and an int array (n_users, held_out) of each user's held-out in-block items.
    """
    rng = np.random.default_rng(seed)
    rows, cols, missing = [], [], []
    for group in range(2):
        block = np.arange(group * n_items_per_block, (group + 1) * n_items_per_block)
        for _ in range(n_per_group):
            user = len(missing)
            out = rng.choice(block, held_out, replace=False)
            kept = np.setdiff1d(block, out)
            rows += [user] * kept.size
            cols += kept.tolist()
            missing.append(np.sort(out))
    values = 1.0 + rng.integers(0, 5, len(rows))
    interactions = Interactions.from_arrays(np.array(rows), np.array(cols), values)
    return interactions, np.array(missing)


def with_changes(interactions: Interactions, share: float = 0.05, per_user: int = 2, seed: int = 1):
    """Add ``per_user`` random unseen items to ``share`` of the users: (new interactions, delta)."""
    rng = np.random.default_rng(seed)
    n_users = interactions.n_users
    users = rng.choice(n_users, max(1, round(share * n_users)), replace=False)
    dense = interactions.matrix.toarray()
    add_users, add_items = [], []
    for user in users:
        unseen = np.flatnonzero(dense[user] == 0)
        picked = rng.choice(unseen, min(per_user, unseen.size), replace=False)
        add_users += [user] * picked.size
        add_items += picked.tolist()
    user_ids = interactions.users.ids[np.array(add_users)]
    item_ids = interactions.items.ids[np.array(add_items)]
    return interactions.with_added(user_ids, item_ids, np.full(len(add_users), 5.0))


class RecommenderContract:
    model_class: type = None
    params: ClassVar[dict] = {}
    refit_atol: float = 0.0
    refit_rtol: float = 0.0
    planted: bool = True
    bad_params: ClassVar[list] = []
    same_seed_atol: float = 0.0

    def make(self, **overrides):
        return self.model_class(**{**self.params, **overrides})

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        return block_interactions()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, data):
        return cls.model_class(**cls.params).fit(data[0])

    def test_default_construction_stores_defaults(self):
        model = self.model_class()
        import inspect

        defaults = {
            name: p.default
            for name, p in inspect.signature(self.model_class.__init__).parameters.items()
            if name != "self"
        }
        assert model.get_params() == defaults
        assert not model.is_fitted()

    def test_fit_returns_self_and_learns_shape(self, data):
        model = self.make()
        assert model.fit(data[0]) is model
        assert (model.n_users_, model.n_items_) == data[0].matrix.shape
        assert model.score(np.arange(3)).shape == (3, data[0].n_items)

    def test_second_fit_forgets_the_first(self, data):
        other, _ = block_interactions(n_per_group=12, n_items_per_block=9, seed=5)
        model = self.make().fit(data[0]).fit(other)
        fresh = self.make().fit(other)
        np.testing.assert_allclose(model.score(np.arange(other.n_users)), fresh.score(np.arange(other.n_users)),
                                   atol=self.same_seed_atol, rtol=0)

    def test_same_seed_same_scores(self, data, fitted):
        again = self.make().fit(data[0])
        users = np.arange(data[0].n_users)
        np.testing.assert_allclose(again.score(users), fitted.score(users), atol=self.same_seed_atol, rtol=0)

    def test_seen_items_are_excluded(self, data, fitted):
        items, _ = fitted.recommend(np.arange(data[0].n_users), k=5)
        seen = data[0].matrix.toarray() > 0
        picked = np.take_along_axis(seen, np.where(items < 0, 0, items), axis=1) & (items >= 0)
        assert not picked.any()
        with_seen, _ = fitted.recommend(0, k=data[0].n_items, exclude_seen=False)
        assert with_seen.size == data[0].n_items

    def test_scalar_and_batch_agree(self, fitted):
        items, scores = fitted.recommend(np.array([3, 7]), k=4)
        assert items.shape == scores.shape == (2, 4)
        single, single_scores = fitted.recommend(7, k=4)
        np.testing.assert_array_equal(single, items[1][items[1] >= 0])
        np.testing.assert_allclose(single_scores, scores[1][items[1] >= 0])
        assert np.all(np.diff(scores, axis=1) <= 0)

    def test_unfitted_use_raises(self):
        with pytest.raises(NotFittedError):
            self.make().recommend(0)
        with pytest.raises(NotFittedError):
            self.make().score([0])

    def test_users_out_of_range_raise(self, fitted):
        with pytest.raises(InvalidParameterError, match="out of range"):
            fitted.recommend(fitted.n_users_)
        with pytest.raises(InvalidParameterError, match="out of range"):
            fitted.score([-1])

    def test_empty_training_data_raises(self):
        empty = Interactions.from_arrays(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([]))
        with pytest.raises(DataError, match="empty"):
            self.make().fit(empty)

    def test_bad_hyper_parameters_raise(self, data):
        for name, value in self.bad_params:
            with pytest.raises(InvalidParameterError, match=name):
                self.make(**{name: value}).fit(data[0])

    def test_refit_matches_fit_within_stated_tolerance(self, data):
        base = self.make().fit(data[0])
        changed, delta = with_changes(data[0])
        assert delta.added_users.size > 0
        refitted = base.refit(changed, delta)
        cold = self.make().fit(changed)
        self.assert_refit_close(refitted, cold, changed)
        assert refitted.seen_ is changed.matrix

    def assert_refit_close(self, refitted, cold, changed):
        """The model's stated tolerance; the default compares all scores at ``refit_atol`` / ``refit_rtol``.

        Non-convex models (ALS, BPR, the sequential model) override this with the quality-based tolerance their
        ``refit_tolerance`` states.
        """
        users = np.arange(changed.n_users)
        np.testing.assert_allclose(refitted.score(users), cold.score(users), atol=self.refit_atol,
                                   rtol=self.refit_rtol)

    def test_planted_answer(self, data, fitted):
        if not self.planted:
            pytest.skip(f"{self.model_class.__name__} has no planted answer (it does not personalise)")
        interactions, missing = data
        items, _ = fitted.recommend(np.arange(interactions.n_users), k=missing.shape[1])
        found = np.mean([np.isin(items[u], missing[u]).mean() for u in range(interactions.n_users)])
        assert found >= 0.9
