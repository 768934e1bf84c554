"""Marginal gains: how the audience's target scores change when one participant's row changes, per model family.

A *candidate* is one participant ``p`` whose training row ``o = X[p]`` becomes ``r`` (some items set to a value).
:func:`target_gains` returns, for a batch of candidates, ``S'[a, t] - S[a, t]`` for every audience user ``a`` and
target ``t`` without refitting:

- popularity: exact (the counts or sums change by ``r - o``).
- EASE: exact. ``G' = G + r r^T - o o^T`` is a rank-2 change ``U C U^T`` (``U = [r, o]``, ``C = diag(1, -1)``) of
  the regularised Gram matrix, so by Sherman–Morrison–Woodbury ``P' = P - P U K^{-1} U^T P`` with
  ``K = C^{-1} + U^T P U`` (2 x 2), and the audience's scores ``x_a - (x_a P') / diag(P')`` at the targets cost
  ``O(|A| nnz(r) + nnz(r)^2)`` per candidate after one ``X_A P`` per search step.
- item-kNN (cosine, no shrinkage): exact. Only the Gram entries ``G[i, j]`` with ``j`` in the changed items and the
  changed items' norms move; the new ``sim(i, t)`` is kept in row ``i`` when it ranks at or above the row's
  ``n_neighbors``-th best other entry, found from the stored ranked neighbours and the changed items' new values.
  Rows of changed items the audience holds (bridge items) are recomputed whole.
- PureSVD: first order. With the Gram matrix ``V Λ V^T + ...`` and ``ΔG = G' - G``, the retained subspace moves by
  ``δV = (I - V V^T) ΔG V Λ^{-1}`` (the discarded eigenvalues taken as 0), so the projector changes by
  ``δΠ = δV V^T + V δV^T`` and scores ``x_a Π`` by ``x_a δΠ``; a change of k* under a threshold rank rule is not
  seen (the search's exact stage and the cold refit are).
- ALS: one exact half-step. With the user factors held fixed, target ``t``'s factor solves
  ``(Y_U^T Y_U + λ I + Σ_u c_ut u_u u_u^T) y_t = Σ_u (1 + c_ut) u_u`` (implicit's confidence ``c = alpha * value``);
  a participant adds ``c u_p u_p^T`` and ``(1 + c) u_p`` (Sherman–Morrison). The participant's own factor and the
  next sweeps are not followed.
- anything else (BPR, sequential, llm, other item-kNN similarities): no closed form; the search evaluates candidate
  batches by the model's own ``refit``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recollective.errors import InvalidParameterError

__all__ = ["GAIN_KINDS", "gain_kind", "target_gains"]

GAIN_KINDS = {"popularity": "exact", "ease": "exact", "itemknn": "exact", "puresvd": "first-order", "als": "half-step"}
"""Closed-form marginal gains by model name; other models are searched through their ``refit``."""


def gain_kind(model) -> str:
    """``"exact"``, ``"first-order"``, ``"half-step"`` or ``"refit"`` (no closed form) for a fitted model."""
    kind = GAIN_KINDS.get(model.name, "refit")
    if model.name == "itemknn":
        params = model.params_
        if params["similarity"] != "cosine" or params["shrinkage"] != 0:
            return "refit"
    return kind


def target_gains(model, audience, targets, participants, rows, *, whole_rows: bool = False) -> np.ndarray:
    """Change of the audience's target scores for each candidate, ndarray of shape (n_cand, |A|, |T|).

    Parameters
    ----------
    model : Recommender
        Fitted on the current interactions (``model.seen_``).
    audience : ndarray of int, shape (|A|,)
    targets : ndarray of int, shape (|T|,)
    participants : ndarray of int, shape (n_cand,)
        The participant of each candidate (not in the audience).
    rows : csr_array of shape (n_cand, n_items)
        The values each candidate sets in its participant's row (stored entries only; the rest of the row stays).
    whole_rows : bool
        ``rows`` are the participants' whole new rows instead (entries they lack are taken out), e.g. their
        training rows, to price taking a plan's actions back.
    """
    kind = gain_kind(model)
    if kind == "refit":
        raise InvalidParameterError(f"model {model.name!r} has no closed-form gains; search it by refit")
    participants = np.asarray(participants, dtype=np.int64)
    audience, targets = np.asarray(audience, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    rows = sp.csr_array(rows)
    if rows.shape[0] != participants.size:
        raise InvalidParameterError("rows must have one row per participant")
    if np.isin(participants, audience).any():
        raise InvalidParameterError("a participant may not be in the audience")
    old = sp.csr_array(model.seen_[participants])
    new = rows if whole_rows else _overwrite(old, rows)
    return _FAMILIES[model.name](model, audience, targets, participants, old, new)


def _overwrite(old: sp.csr_array, rows: sp.csr_array) -> sp.csr_array:
    """``old`` with the stored entries of ``rows`` written over it (explicit values 0 stay stored)."""
    n = old.shape[1]
    old_r = np.repeat(np.arange(old.shape[0]), np.diff(old.indptr))
    new_r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    old_keys, new_keys = old_r * n + old.indices, new_r * n + rows.indices
    keep = ~np.isin(old_keys, new_keys)
    keys = np.concatenate([old_keys[keep], new_keys])
    values = np.concatenate([old.data[keep], rows.data])
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(keys // n, minlength=old.shape[0]))])
    return sp.csr_array((values, keys % n, indptr), shape=old.shape)


# ---------------------------------------------------------------------------------------------- popularity
def _popularity(model, audience, targets, participants, old, new):
    if model.params_["by"] == "count":
        change = _stored(new, targets).astype(float) - _stored(old, targets).astype(float)  # (n_cand, |T|)
    else:
        change = new[:, targets].toarray() - old[:, targets].toarray()
    return np.broadcast_to(change[:, None, :], (old.shape[0], audience.size, targets.size)).copy()


def _stored(matrix: sp.csr_array, columns: np.ndarray) -> np.ndarray:
    """Boolean (n_rows, len(columns)): whether each row stores an entry in each column."""
    pattern = sp.csr_array((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)
    return pattern[:, columns].toarray() > 0


# ---------------------------------------------------------------------------------------------- EASE
def _ease(model, audience, targets, participants, old, new):
    binary = model.params_["binary"]
    if binary:
        old, new = _ones(old), _ones(new)
    p = model.inverse_gram_
    x_a = model._values(model.seen_[audience], model.params_)
    xp = _memo(model, ("ease", audience.tobytes()),
               lambda: np.asarray(x_a.astype(p.dtype) @ p, dtype=np.float64))  # (|A|, n): X_A P
    diag = model.inverse_diagonal_.astype(np.float64)
    ratio = xp[:, targets] / diag[targets]  # scores are x_at - ratio; the audience's own x_at never changes
    p_t = np.asarray(p[targets], dtype=np.float64)  # (|T|, n)
    out = np.empty((old.shape[0], audience.size, targets.size))
    for c in range(old.shape[0]):
        r_idx, r_val = new.indices[new.indptr[c] : new.indptr[c + 1]], new.data[new.indptr[c] : new.indptr[c + 1]]
        o_idx, o_val = old.indices[old.indptr[c] : old.indptr[c + 1]], old.data[old.indptr[c] : old.indptr[c + 1]]
        u_idx = np.union1d(r_idx, o_idx)
        u = np.zeros((u_idx.size, 2))
        u[np.searchsorted(u_idx, r_idx), 0] = r_val
        u[np.searchsorted(u_idx, o_idx), 1] = o_val
        p_uu = np.asarray(p[np.ix_(u_idx, u_idx)], dtype=np.float64)
        k = np.diag([1.0, -1.0]) + u.T @ p_uu @ u
        xpu = xp[:, u_idx] @ u  # (|A|, 2)
        ptu = p_t[:, u_idx] @ u  # (|T|, 2)
        solved = np.linalg.solve(k, ptu.T)  # (2, |T|)
        xp_new = xp[:, targets] - xpu @ solved
        diag_new = diag[targets] - np.einsum("tj,jt->t", ptu, solved)
        out[c] = ratio - xp_new / diag_new
    return out


def _ones(matrix: sp.csr_array) -> sp.csr_array:
    return sp.csr_array((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)


# ---------------------------------------------------------------------------------------------- item-kNN
def _itemknn(model, audience, targets, participants, old, new):
    params = model.params_
    n_neighbors, n_items = params["n_neighbors"], model.n_items_
    if params["binary"]:
        old, new = _ones(old), _ones(new)
    weights, weights_t, norms2 = _knn_state(model)
    x_a = sp.csr_array(weights[audience])
    held = np.unique(x_a.indices)  # items the audience holds: the rows i of S that reach its scores
    diff = sp.csr_array(new - old)
    diff.eliminate_zeros()
    changed = np.union1d(np.unique(diff.indices), targets)  # the items whose weight column moves, and the targets
    gram_changed = sp.csr_array(weights_t[changed] @ weights).toarray()  # (|changed|, n): G[j, :] for changed j
    col_of = {int(j): c for c, j in enumerate(changed)}
    t_cols = np.array([col_of[int(t)] for t in targets])
    key = (held.tobytes(), changed.tobytes(), targets.tobytes())
    floors, current = _memo(model, ("itemknn", key), lambda: (
        _outside_floors(model.ranked_, held, changed, n_neighbors),
        np.asarray(x_a @ model.similarity_[:, targets].toarray()),  # the audience's target scores now
    ))
    x_sub = x_a[:, held]
    out = np.empty((old.shape[0], audience.size, targets.size))
    columns = np.union1d(held, changed)  # the similarity columns any kept entry can come from
    held_at = np.searchsorted(columns, held)
    changed_at = np.searchsorted(columns, changed)
    gram_cols = gram_changed[:, columns]
    for c in range(old.shape[0]):
        r_idx, r_val = new.indices[new.indptr[c] : new.indptr[c + 1]], new.data[new.indptr[c] : new.indptr[c + 1]]
        o_idx, o_val = old.indices[old.indptr[c] : old.indptr[c + 1]], old.data[old.indptr[c] : old.indptr[c + 1]]
        r_c, o_c = _dense_at(r_idx, r_val, changed), _dense_at(o_idx, o_val, changed)
        r_k, o_k = _dense_at(r_idx, r_val, columns), _dense_at(o_idx, o_val, columns)
        n2 = norms2[columns] + r_k**2 - o_k**2
        norms = np.sqrt(np.maximum(n2, 0.0))
        gram = gram_cols + np.outer(r_c, r_k) - np.outer(o_c, o_k)  # G'[j, columns] for changed j
        sim_changed = _cosine(gram, norms[changed_at][:, None], norms[None, :])  # sim'(j, i), j changed
        sim_changed[np.arange(changed.size), changed_at] = 0.0
        column = np.zeros((held.size, targets.size))
        # rows i not moved: entries outside the changed items are as stored; the changed items' values are new
        extra = sim_changed[:, held_at].T  # (|held|, |changed|): sim'(i, j) for j changed
        for ti, t in enumerate(targets):
            value = extra[:, t_cols[ti]]
            others = np.delete(extra, t_cols[ti], axis=1)
            floor_value, floor_index = _nth_of_union(floors, others, np.delete(changed, t_cols[ti]), n_neighbors)
            kept = (value != 0) & ((value > floor_value) | ((value == floor_value) & (t < floor_index)))
            kept &= held != t
            column[:, ti] = np.where(kept, value, 0.0)
        # rows i whose own values moved (the audience holds an item the candidate changes): recompute them whole
        moved = changed[r_c != o_c]
        for i in np.intersect1d(moved, held):
            r_full, o_full = np.zeros(n_items), np.zeros(n_items)
            r_full[r_idx], o_full[o_idx] = r_val, o_val
            full_norms = np.sqrt(np.maximum(norms2 + r_full**2 - o_full**2, 0.0))
            ci = col_of[int(i)]
            row = _cosine(gram_changed[ci] + r_full[i] * r_full - o_full[i] * o_full, full_norms[i], full_norms)
            row[i] = 0.0
            best = _top_positions(row, n_neighbors)
            h = int(np.searchsorted(held, i))
            for ti, t in enumerate(targets):
                column[h, ti] = row[t] if t in best else 0.0
        out[c] = np.asarray(x_sub @ column) - current
    return out


def _dense_at(indices, values, at) -> np.ndarray:
    """The sparse vector (indices, values) read at the sorted positions ``at`` (0 where not stored)."""
    out = np.zeros(at.size)
    where = np.searchsorted(at, indices)
    ok = where < at.size
    ok[ok] &= at[where[ok]] == indices[ok]
    out[where[ok]] = values[ok]
    return out


def _memo(model, key, compute):
    """``compute()`` once per fitted state of ``model`` and ``key``.

    Kept on the model beside the ``seen_`` matrix it belongs to (a refit replaces ``seen_``, which empties the
    memo), so a search that screens many candidate batches against one state pays for the per-state work once.
    """
    memo = getattr(model, "_design_memo_", None)
    if memo is None or memo[0] is not model.seen_:
        memo = (model.seen_, {})
        model._design_memo_ = memo
    if key not in memo[1]:
        memo[1][key] = compute()
    return memo[1][key]


def _knn_state(model):
    """(W, W^T as CSR, squared column norms) of the model's training data, once per fitted state."""

    def compute():
        weights = model._values(model.seen_, model.params_)
        return weights, weights.T.tocsr(), np.bincount(weights.indices, weights.data**2, minlength=weights.shape[1])

    return _memo(model, "knn_state", compute)


def _cosine(gram, left, right):
    with np.errstate(divide="ignore", invalid="ignore"):
        sims = gram / (left * right)
    return np.where(np.isfinite(sims), sims, 0.0)


def _top_positions(row: np.ndarray, n: int) -> set:
    """Indices of the best ``n`` nonzero entries of ``row`` (larger value, then lower index)."""
    nonzero = np.flatnonzero(row != 0)
    order = nonzero[np.lexsort((nonzero, -row[nonzero]))][:n]
    return set(order.tolist())


def _outside_floors(ranked, rows: np.ndarray, excluded: np.ndarray, n: int):
    """Per row, its best ``n`` stored neighbours outside ``excluded``: values and indices, (len(rows), n) each.

    Missing entries (a complete row with fewer neighbours) are value 0 at index ``n_items`` (a zero similarity is
    never stored, so it never ranks); an incomplete row that ran short raises.
    """
    values = np.zeros((rows.size, n))
    indices = np.full((rows.size, n), np.iinfo(np.int64).max)
    starts, lengths = ranked.indptr[rows], ranked.indptr[rows + 1] - ranked.indptr[rows]
    owner = np.repeat(np.arange(rows.size), lengths)
    position = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(starts, lengths)
    keep = ~np.isin(ranked.indices[position], excluded)
    owner, position = owner[keep], position[keep]
    kept = np.bincount(owner, minlength=rows.size)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(kept) - kept, kept)  # rank within its row, best first
    short = (kept < n) & ~ranked.complete[rows]
    if short.any():
        raise InvalidParameterError(
            "itemknn gains: an item's stored neighbour buffer is too short for this many changed items; "
            "use fewer bridge items or the refit search"
        )
    first = rank < n
    values[owner[first], rank[first]] = ranked.values[position[first]]
    indices[owner[first], rank[first]] = ranked.indices[position[first]]
    return values, indices


def _nth_of_union(floors, extra_values, extra_items, n):
    """The ``n``-th best of (each row's stored outside entries) ∪ (its extra entries): value and index per row.

    Uses ``nth(A ∪ E) = max_q min(e_q, a_{n-q})`` (``e_q``: q-th best extra, ``a_j``: j-th best stored; index 0
    meaning +inf) over the few extras; ties compare by the lower item index.
    """
    out_values, out_indices = floors
    value = out_values[:, n - 1].copy()
    index = out_indices[:, n - 1].copy()
    if extra_values.shape[1] == 0:
        return value, index
    # rank extras per row: larger value first, lower item first on ties
    keys = np.argsort(-extra_values, axis=1, kind="stable")
    e_val = np.take_along_axis(extra_values, keys, axis=1)
    e_idx = np.broadcast_to(extra_items, extra_values.shape)
    e_idx = np.take_along_axis(np.ascontiguousarray(e_idx), keys, axis=1)
    for q in range(1, min(extra_values.shape[1], n) + 1):
        ev, ei = e_val[:, q - 1], e_idx[:, q - 1]
        if n - q >= 1:
            av, ai = out_values[:, n - q - 1], out_indices[:, n - q - 1]
            worse_is_extra = (ev < av) | ((ev == av) & (ei > ai))  # min(e_q, a_{n-q})
            cand_v, cand_i = np.where(worse_is_extra, ev, av), np.where(worse_is_extra, ei, ai)
        else:
            cand_v, cand_i = ev, ei
        better = (cand_v > value) | ((cand_v == value) & (cand_i < index))
        value, index = np.where(better, cand_v, value), np.where(better, cand_i, index)
    return value, index


# ---------------------------------------------------------------------------------------------- PureSVD
def _puresvd(model, audience, targets, participants, old, new):
    rank = model.rank_
    v = model.item_vectors_[:, :rank]  # (n, k)
    lam = model.singular_values_[:rank] ** 2
    x_a = sp.csr_array(model.seen_[audience])
    xa_v = np.asarray(x_a @ v)  # (|A|, k)
    v_t = v[targets]  # (|T|, k)
    d = sp.csr_array(new - old)
    o = old
    o_v, d_v = np.asarray(o @ v), np.asarray(d @ v)  # (C, k)
    xa_o = sp.csr_array(x_a @ o.T).toarray()  # (|A|, C)
    xa_d = sp.csr_array(x_a @ d.T).toarray()
    # x_a Q y^T = x_a y^T - (x_a V)(y V)^T, Q = I - V V^T
    q_ao = xa_o - xa_v @ o_v.T
    q_ad = xa_d - xa_v @ d_v.T
    d_t, o_t = d[:, targets].toarray(), o[:, targets].toarray()  # (C, |T|)
    qd_t = d_t - d_v @ v_t.T  # (d Q)[t] per candidate
    qo_t = o_t - o_v @ v_t.T
    inv = 1.0 / lam
    out = np.empty((old.shape[0], audience.size, targets.size))
    for c in range(old.shape[0]):
        # ΔG V = o^T (dV) + d^T (oV) + d^T (dV) (row vectors o, d); x_a Q ΔG V:
        left = np.outer(q_ao[:, c], d_v[c]) + np.outer(q_ad[:, c], o_v[c] + d_v[c])  # (|A|, k)
        first = (left * inv) @ v_t.T  # (|A|, |T|)
        # V^T ΔG Q e_t = (V^T o^T)(d Q e_t) + (V^T d^T)(o Q e_t) + (V^T d^T)(d Q e_t)
        right = np.outer(o_v[c], qd_t[c]) + np.outer(d_v[c], qo_t[c] + qd_t[c])  # (k, |T|)
        second = (xa_v * inv) @ right
        out[c] = first + second
    return out


# ---------------------------------------------------------------------------------------------- ALS
def _als(model, audience, targets, participants, old, new):
    params = model.params_
    users = np.asarray(model.user_factors_, dtype=np.float64)
    alpha, reg = params["alpha"], params["regularization"]
    base = users.T @ users + reg * np.eye(users.shape[1])
    seen_t = model.seen_[:, targets].tocsc()
    u_a, u_p = users[audience], users[participants]
    stored_new, stored_old = _stored(new, targets), _stored(old, targets)
    conf_new = alpha * new[:, targets].toarray()
    conf_old = alpha * old[:, targets].toarray()
    out = np.empty((participants.size, audience.size, targets.size))
    for ti in range(targets.size):
        rows = seen_t.indices[seen_t.indptr[ti] : seen_t.indptr[ti + 1]]
        conf = alpha * seen_t.data[seen_t.indptr[ti] : seen_t.indptr[ti + 1]]
        f = users[rows]
        a_inv = np.linalg.inv(base + (f * conf[:, None]).T @ f)
        b = ((1.0 + conf)[:, None] * f).sum(axis=0)
        y = a_inv @ b
        # the participant's pair moves from (stored_old, conf_old) to (stored_new, conf_new): A += dc u u^T,
        # b += (stored_new (1 + c_new) - stored_old (1 + c_old)) u
        dc = np.where(stored_new[:, ti], conf_new[:, ti], 0.0) - np.where(stored_old[:, ti], conf_old[:, ti], 0.0)
        db = np.where(stored_new[:, ti], 1.0 + conf_new[:, ti], 0.0) - np.where(
            stored_old[:, ti], 1.0 + conf_old[:, ti], 0.0
        )
        a_u = u_p @ a_inv  # (C, k): A^{-1} u_p (A symmetric)
        quad = np.einsum("ck,ck->c", a_u, u_p)
        b_new = b[None, :] + db[:, None] * u_p  # (C, k)
        a_b = b_new @ a_inv  # A^{-1} b'
        # Sherman–Morrison: (A + dc u u^T)^{-1} b' = A^{-1} b' - dc (u^T A^{-1} b') A^{-1} u / (1 + dc u^T A^{-1} u)
        coef = dc * np.einsum("ck,ck->c", u_p, a_b) / (1.0 + dc * quad)
        y_new = a_b - coef[:, None] * a_u
        out[:, :, ti] = (y_new - y[None, :]) @ u_a.T
    return out


_FAMILIES = {"popularity": _popularity, "ease": _ease, "itemknn": _itemknn, "puresvd": _puresvd, "als": _als}
