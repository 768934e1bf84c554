"""FRAUDAR-style greedy peeling of the user-item graph (Hooi et al. 2016): the densest weighted block.

Reference: B. Hooi, H. A. Song, A. Beutel, N. Shah, K. Shin and C. Faloutsos, "FRAUDAR: Bounding graph fraud
in the face of camouflage", KDD 2016. Column weighting ``1 / log(deg_j + c)`` is the paper's; node priors
(suspiciousness of single nodes) are 0 here.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from recollective.adversarial._detectors import Detector
from recollective.data import Interactions
from recollective.models._params import Real

__all__ = ["FraudarDetector", "Peeling", "densest_block", "peel"]


@dataclass(frozen=True, eq=False)
class Peeling:
    """The result of one greedy peeling run.

    Attributes
    ----------
    order : ndarray of int, shape (n_users + n_items,)
        Nodes in the order they were removed (users ``0 .. n_users-1``, items ``n_users + item_idx``).
    densities : ndarray of float, shape (n_users + n_items + 1,)
        ``g(S)`` of the node set left after ``t`` removals, ``t = 0 .. n_nodes`` (0 for the empty set).
    best_step : int
        The number of removals after which the density is highest (first such step): the densest block is
        ``order[best_step:]``.
    n_users : int
    """

    order: np.ndarray
    densities: np.ndarray
    best_step: int
    n_users: int

    @property
    def density(self) -> float:
        return float(self.densities[self.best_step])

    @property
    def block_users(self) -> np.ndarray:
        nodes = self.order[self.best_step :]
        return np.sort(nodes[nodes < self.n_users])

    @property
    def block_items(self) -> np.ndarray:
        nodes = self.order[self.best_step :]
        return np.sort(nodes[nodes >= self.n_users] - self.n_users)


def peel(interactions: Interactions, c: float = 5.0) -> Peeling:
    """Greedy peeling (FRAUDAR, Hooi et al. 2016, Algorithm 1) of the bipartite user-item graph.

    Every interaction ``(u, j)`` is an edge of weight ``w_j = 1 / log(deg_j + c)`` (``deg_j``: the item's
    number of interactions; values are ignored). For a node set ``S`` (users and items),
    ``f(S) = sum of w over edges with both ends in S`` and ``g(S) = f(S) / |S|``. Starting from all
    ``n_users + n_items`` nodes, repeatedly remove the node of least weighted degree within ``S`` (the removal
    that keeps ``f`` highest; ties to the lower node index) and record ``g``. A binary heap with lazy deletion
    makes this ``O(|E| log |V|)``.
    """
    matrix = interactions.matrix
    n_users, n_items = matrix.shape
    n_nodes = n_users + n_items
    item_degree = np.bincount(matrix.indices, minlength=n_items)
    item_weight = 1.0 / np.log(item_degree + c)
    edge_weight = item_weight[matrix.indices]
    csc = matrix.tocsc()
    user_rows = np.repeat(np.arange(n_users), np.diff(matrix.indptr))
    user_degree = np.bincount(user_rows, weights=edge_weight, minlength=n_users)
    degree = np.concatenate([user_degree, item_degree * item_weight])
    # adjacency of every node as Python lists (fast scalar access in the loop)
    neighbours = [None] * n_nodes
    user_ptr, user_items = matrix.indptr.tolist(), (matrix.indices + n_users).tolist()
    item_ptr, item_users = csc.indptr.tolist(), csc.indices.tolist()
    weights = item_weight.tolist()
    for u in range(n_users):
        neighbours[u] = user_items[user_ptr[u] : user_ptr[u + 1]]
    for j in range(n_items):
        neighbours[n_users + j] = item_users[item_ptr[j] : item_ptr[j + 1]]

    current = degree.tolist()
    heap = [(d, node) for node, d in enumerate(current)]
    heapq.heapify(heap)
    removed = bytearray(n_nodes)
    order = np.empty(n_nodes, dtype=np.int64)
    densities = np.zeros(n_nodes + 1)
    mass = float(edge_weight.sum())
    densities[0] = mass / n_nodes if n_nodes else 0.0
    pop, push = heapq.heappop, heapq.heappush
    step = 0
    while heap:
        d, node = pop(heap)
        if removed[node] or d != current[node]:
            continue  # stale entry
        removed[node] = 1
        order[step] = node
        step += 1
        mass -= d
        if node < n_users:
            for item in neighbours[node]:
                if not removed[item]:
                    current[item] -= weights[item - n_users]
                    push(heap, (current[item], item))
        else:
            w = weights[node - n_users]
            for user in neighbours[node]:
                if not removed[user]:
                    current[user] -= w
                    push(heap, (current[user], user))
        left = n_nodes - step
        densities[step] = max(mass, 0.0) / left if left else 0.0
    best_step = int(np.argmax(densities)) if n_nodes else 0
    return Peeling(order, densities, best_step, n_users)


def densest_block(interactions: Interactions, c: float = 5.0) -> tuple[np.ndarray, np.ndarray, float]:
    """The densest block found by :func:`peel`: ``(user_idx sorted, item_idx sorted, density g)``."""
    result = peel(interactions, c)
    return result.block_users, result.block_items, result.density


class FraudarDetector(Detector):
    """Users peeled later by FRAUDAR's greedy peeling are more suspicious.

    ``score[u] = rank of u among users in the peeling order / (n_users - 1)``, in [0, 1]: the first user removed
    gets 0, the last 1, so the users of the densest block (removed after everyone else) score above all others.
    Users with no interaction (degree 0, removed first) get 0.

    Parameters
    ----------
    c : float, default 5.0
        The constant of the column weights ``1 / log(deg_j + c)``; > 1 so every weight is finite and positive.
    """

    name = "fraudar"
    parameter_rules: ClassVar[dict] = {"c": Real(low=1.0, low_closed=False)}

    def __init__(self, c=5.0):
        self.c = c

    def densest_block(self, interactions: Interactions) -> tuple[np.ndarray, np.ndarray, float]:
        """``(user_idx, item_idx, density)`` of the densest block (see :func:`densest_block`)."""
        params = self.checked_params()
        self._check_interactions(interactions)
        return densest_block(interactions, params["c"])

    def _score(self, interactions: Interactions, params: dict) -> np.ndarray:
        result = peel(interactions, params["c"])
        n_users = interactions.n_users
        user_order = result.order[result.order < n_users]
        scores = np.zeros(n_users)
        scores[user_order] = np.arange(n_users) / max(n_users - 1, 1)
        scores[np.diff(interactions.matrix.indptr) == 0] = 0.0
        return scores
