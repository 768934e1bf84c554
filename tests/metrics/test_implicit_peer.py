"""Peer check: our metrics on an implicit model's own lists equal ``implicit.evaluation.ranking_metrics_at_k``.

implicit 0.7 (``implicit/evaluation.pyx``) recommends ``N=K`` items for every user with a non-empty test row
(``model.recommend(users, train[users], N=K)``, seen items filtered) and reports

* ``precision`` = sum over users of hits / sum over users of min(K, n_relevant) (a ratio of sums, not a mean),
* ``ndcg`` = mean over those users of DCG / IDCG with IDCG over min(K, n_relevant) ranks (binary relevance),
* ``map`` = mean over those users of sum_j hit(j) precision@j / min(K, n_relevant).

Users without test items are skipped, as our NaN-skipping mean does. Both sides see the same lists (implicit's
own ``recommend``), so ties in its top-k cannot make them differ.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recollective.metrics import (
    average_precision_at_k,
    mean_over_users,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics_per_user,
)

pytest.importorskip("implicit")

K = 5


@pytest.fixture(scope="module")
def fitted():
    from implicit.als import AlternatingLeastSquares
    from implicit.evaluation import train_test_split
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    ratings = sp.csr_matrix((rng.random((80, 50)) < 0.3).astype(np.float32))
    train, test = train_test_split(ratings, 0.7, random_state=0)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=8, iterations=3, random_state=0)
        model.fit(train, show_progress=False)
    return model, train.tocsr(), test.tocsr()


def implicit_lists(model, train, test):
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    ids, _ = model.recommend(users, train[users], N=K, filter_already_liked_items=True)
    assert ids.shape == (users.size, K) and ids.min() >= 0  # full lists: no padding to reconcile
    return users, ids


def test_precision_ndcg_and_map_equal_implicit(fitted):
    from implicit.evaluation import ranking_metrics_at_k

    model, train, test = fitted
    theirs = ranking_metrics_at_k(model, train, test, K=K, show_progress=False)
    users, lists = implicit_lists(model, train, test)
    truth = test[users]
    n_relevant = np.diff(truth.indptr)
    assert (n_relevant < K).any() and (n_relevant > K).any()  # both sides of the min(K, n_relevant) cap occur
    precision = mean_over_users(precision_at_k(lists, truth, K, denominator="min"), weights=np.minimum(K, n_relevant))
    assert precision == pytest.approx(theirs["precision"], rel=1e-12)
    assert mean_over_users(ndcg_at_k(lists, truth, K)) == pytest.approx(theirs["ndcg"], rel=1e-12)
    assert mean_over_users(average_precision_at_k(lists, truth, K)) == pytest.approx(theirs["map"], rel=1e-12)
    assert 0 < theirs["precision"] < 1 and 0 < theirs["ndcg"] < 1


def test_standard_precision_equals_implicit_when_every_test_user_has_k_items(fitted):
    from implicit.evaluation import ranking_metrics_at_k

    model, train, test = fitted
    keep = np.repeat(np.diff(test.indptr) >= K, np.diff(test.indptr)).astype(test.dtype)
    large = sp.csr_matrix((test.data * keep, test.indices, test.indptr), shape=test.shape)
    large.eliminate_zeros()
    theirs = ranking_metrics_at_k(model, train, large, K=K, show_progress=False)
    users, lists = implicit_lists(model, train, large)
    assert users.size >= 10
    ours = ranking_metrics_per_user(lists, large[users], K)
    assert mean_over_users(ours["precision"]) == pytest.approx(theirs["precision"], rel=1e-12)
    assert mean_over_users(ours["ndcg"]) == pytest.approx(theirs["ndcg"], rel=1e-12)


def test_users_without_test_items_are_skipped_like_implicit(fitted):
    from implicit.evaluation import ranking_metrics_at_k

    model, train, test = fitted
    everyone = np.arange(test.shape[0])
    lists, _ = model.recommend(everyone, train, N=K, filter_already_liked_items=True)
    dropped = test.copy().tolil()
    dropped[:10] = 0
    dropped = dropped.tocsr()
    dropped.eliminate_zeros()
    theirs = ranking_metrics_at_k(model, train, dropped, K=K, show_progress=False)
    ndcg = ndcg_at_k(lists, dropped, K)
    assert np.isnan(ndcg[:10]).all()
    assert mean_over_users(ndcg) == pytest.approx(theirs["ndcg"], rel=1e-12)
