"""Structure detection for the closed-form theory (THEORY.md §1): is R* = blockdiag(A, c d^T) with the gap?

THEORY.md proves its statements for R* = blockdiag(A, B) with A >= 0 of rank k1, B = c d^T, c > 0, d > 0, and
the gap condition sigma_k1(A) > alpha >= sigma_B = ||c|| ||d||. :func:`detect_structure` decides this from
(R*, alpha), recovers the groups, the SVD of A and c, d, and otherwise says precisely which assumption fails.

Numerical tolerance (``structure_rtol``, default 1e-10). Let scale = max(s_1(A), s_1(B)) = s_1(R*). The model
matrix blockdiag(A_k1, c d^T) may differ from R* by three neglected parts, each of which must be at most
``structure_rtol * scale``: the off-block entries (Frobenius norm), the singular values of A at or below that
floor (which define k1, the numerical rank of A), and s_2(B). Every result of the theory is then exact for the
model matrix, and R* differs from it by at most ``residual`` in spectral norm. Entries <= the floor
``structure_rtol * max R*`` count as zeros when the groups are recovered from the support.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha, check_indices, check_preferences

__all__ = ["DEFAULT_STRUCTURE_RTOL", "StructureResult", "detect_structure"]

DEFAULT_STRUCTURE_RTOL = 1e-10


@dataclass(frozen=True, eq=False)
class StructureResult:
    """Whether (R*, alpha) satisfies THEORY.md's assumptions (§1), and the recovered pieces when it does.

    Attributes
    ----------
    ok : bool
        Every assumption holds (within ``structure_rtol``); the theory applies.
    reason : str
        Empty when ``ok``; otherwise the first assumption that fails, with the numbers.
    failures : tuple of str
        Every failing assumption found (``reason`` is the first).
    notes : tuple of str
        Caveats that do not invalidate the structure (n2 = 1, Remark 2.6; alpha within rounding of sigma_B).
    majority_users, minority_users, majority_items, minority_items : ndarray of int
        The groups (recovered from the support of R* unless labels were given).
    U : ndarray of shape (n_majority_users, k1)
    sigma : ndarray of shape (k1,)
        sigma_1 >= ... >= sigma_k1 > alpha, the retained singular values of A.
    V : ndarray of shape (n_majority_items, k1)
    sigma_tail : ndarray
        The neglected singular values of A (all <= the floor).
    c : ndarray of shape (n_minority_users,)
    d : ndarray of shape (n_minority_items,)
        B = c d^T, normalised so that ||d|| = 1 and ||c|| = sigma_B.
    sigma_B : float
    alpha : float
    residual : float
        Bound on ||R* - blockdiag(A_k1, c d^T)||_2 (sum of the three neglected parts).
    structure_rtol : float
    """

    ok: bool
    reason: str
    alpha: float
    structure_rtol: float
    failures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    majority_users: np.ndarray | None = None
    minority_users: np.ndarray | None = None
    majority_items: np.ndarray | None = None
    minority_items: np.ndarray | None = None
    U: np.ndarray | None = None
    sigma: np.ndarray | None = None
    V: np.ndarray | None = None
    sigma_tail: np.ndarray | None = None
    c: np.ndarray | None = None
    d: np.ndarray | None = None
    sigma_B: float = float("nan")
    residual: float = float("nan")
    residual_parts: dict = field(default_factory=dict)
    shape: tuple[int, int] = (0, 0)

    @property
    def k1(self) -> int:
        """Rank of the majority block (0 when undetected)."""
        return 0 if self.sigma is None else int(self.sigma.size)

    @property
    def n_minority_items(self) -> int:
        return 0 if self.minority_items is None else int(self.minority_items.size)

    @property
    def rank_one_majority(self) -> bool:
        """A = a b^T with a, b > 0 (THEORY.md §3, the setting of Theorem 1)."""
        if not self.ok or self.k1 != 1:
            return False
        return bool(np.all(self.U[:, 0] > 0) and np.all(self.V[:, 0] > 0))

    @property
    def a(self) -> np.ndarray:
        """a of A = a b^T (rank-one case), normalised so that ||b|| = 1 and a > 0."""
        return self.U[:, 0] * self.sigma[0]

    @property
    def b(self) -> np.ndarray:
        return self.V[:, 0].copy()

    def as_dict(self) -> dict:
        document = {
            "ok": self.ok,
            "reason": self.reason,
            "failures": list(self.failures),
            "notes": list(self.notes),
            "alpha": self.alpha,
            "structure_rtol": self.structure_rtol,
            "residual": self.residual,
            "residual_parts": dict(self.residual_parts),
        }
        if self.majority_users is not None:
            document.update(
                {
                    "n_majority_users": int(self.majority_users.size),
                    "n_minority_users": int(self.minority_users.size),
                    "n_majority_items": int(self.majority_items.size),
                    "n_minority_items": int(self.minority_items.size),
                    "minority_users": self.minority_users.tolist(),
                    "minority_items": self.minority_items.tolist(),
                }
            )
        if self.ok:
            document.update(
                {
                    "k1": self.k1,
                    "sigma": self.sigma.tolist(),
                    "sigma_B": self.sigma_B,
                    "gap_lower": float(self.sigma[-1] - self.alpha),
                    "gap_upper": float(self.alpha - self.sigma_B),
                    "rank_one_majority": self.rank_one_majority,
                }
            )
        return document


def _fail(alpha, rtol, failures, shape, **kwargs) -> StructureResult:
    return StructureResult(
        ok=False, reason=failures[0], alpha=alpha, structure_rtol=rtol, failures=tuple(failures), shape=shape, **kwargs
    )


def _components(R: np.ndarray, zero_atol: float):
    """Connected components of the support of R (bipartite users/items): (user labels, item labels, blocks)."""
    support = scipy.sparse.csr_array(np.greater(R, zero_atol))
    n_users = R.shape[0]
    graph = scipy.sparse.block_array([[None, support], [support.T, None]], format="csr")
    n_comp, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    user_labels, item_labels = labels[:n_users], labels[n_users:]
    blocks = []
    for comp in range(n_comp):
        users = np.flatnonzero(user_labels == comp)
        items = np.flatnonzero(item_labels == comp)
        if users.size and items.size:
            blocks.append((comp, users, items))
    return user_labels, item_labels, blocks


def _suppressed(R: np.ndarray, blocks, alpha: float) -> list:
    return [block for block in blocks if np.linalg.norm(R[np.ix_(block[1], block[2])], 2) <= alpha]


def _support_groups(R: np.ndarray, alpha: float, zero_atol: float, target: int | None):
    """Groups from the connected components of the support; (groups, failure or None)."""
    n_users, n_items = R.shape
    _, item_labels, blocks = _components(R, zero_atol)
    if target is not None:  # the minority block is the target's block (other suppressed blocks fail the gap)
        chosen = [block for block in blocks if block[0] == item_labels[target]]
        if not chosen:
            return None, f"target item {target} has no positive preference: it is in no block (d must be > 0)"
    else:
        chosen = _suppressed(R, blocks, alpha)
        if not chosen:
            return None, (
                "no block of R* has s_1 <= alpha: no suppressed minority block (block-diagonal support with "
                f"{len(blocks)} block(s))"
            )
        if len(chosen) > 1:
            return None, (
                f"the support has {len(chosen)} blocks with s_1 <= alpha = {alpha:.6g}: the suppressed part has "
                "rank >= 2, outside THEORY.md §1 (one rank-one minority block B = c d^T)"
            )
    _, users, items = chosen[0]
    if users.size == n_users or items.size == n_items:
        return None, (
            "the support of R* is connected: no block-diagonal majority–minority split (cross-group preferences?)"
        )
    user_group = np.zeros(n_users, np.int8)
    item_group = np.zeros(n_items, np.int8)
    user_group[users] = 1
    item_group[items] = 1
    return (user_group, item_group), None


def _labels(values, size: int, name: str) -> np.ndarray:
    labels = np.asarray(values)
    if labels.shape != (size,) or not np.isin(labels, (0, 1)).all():
        raise InvalidParameterError(f"{name} must hold {size} labels in {{0, 1}} (0 = majority, 1 = minority)")
    return labels.astype(np.int8)


def detect_structure(
    R_true,
    alpha: float,
    *,
    members=None,
    target: int | None = None,
    user_group=None,
    item_group=None,
    structure_rtol: float = DEFAULT_STRUCTURE_RTOL,
) -> StructureResult:
    """Decide whether (R*, alpha) is majority–minority with a rank-one minority block and the gap (THEORY.md §1).

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R* (finite, >= 0).
    alpha : float
        The learner's threshold (must be > 0).
    members : array-like of int, optional
        The collective C; when given it must lie in the majority.
    target : int, optional
        The target item t; when given it must be a minority item, and it picks the minority block.
    user_group, item_group : array-like of {0, 1}, optional
        Group labels (0 = majority, 1 = minority), e.g. from an instance file. Without them the groups are
        the connected components of the support of R*: the minority block is the block holding ``target``
        (or the only block with s_1 <= alpha); every other user and item is majority.
    structure_rtol : float, default=1e-10
        Relative tolerance of the neglected parts (module docstring).

    Returns
    -------
    StructureResult
        ``ok`` with the recovered A (its SVD), c, d and groups, or ``reason`` saying which assumption fails.

    Raises
    ------
    DataError, InvalidParameterError
        Malformed input (not a failed assumption).
    """
    R = check_preferences(R_true)
    alpha = check_alpha(alpha)
    if not 0 < structure_rtol < 1:
        raise InvalidParameterError(f"structure_rtol must lie in (0, 1); got {structure_rtol!r}")
    n_users, n_items = R.shape
    if target is not None:
        target_array = check_indices(target, n_items, "target", "item")
        if target_array.size != 1:
            raise InvalidParameterError(f"target must be one item index; got {target!r}")
        target = int(target_array[0])
    if members is not None:
        members = check_indices(members, n_users, "members", "user")
    shape = R.shape
    if alpha <= 0:
        return _fail(alpha, structure_rtol, ["alpha must be > 0 for the theory (THEORY.md §1)"], shape)
    zero_atol = structure_rtol * float(R.max())
    if (user_group is None) != (item_group is None):
        raise InvalidParameterError("give both user_group and item_group, or neither")
    if user_group is None:
        groups, failure = _support_groups(R, alpha, zero_atol, target)
        if failure is not None:
            return _fail(alpha, structure_rtol, [failure], shape)
        user_group, item_group = groups
    else:
        user_group = _labels(user_group, n_users, "user_group")
        item_group = _labels(item_group, n_items, "item_group")
    maj_u, min_u = np.flatnonzero(user_group == 0), np.flatnonzero(user_group == 1)
    maj_i, min_i = np.flatnonzero(item_group == 0), np.flatnonzero(item_group == 1)
    groups = {"majority_users": maj_u, "minority_users": min_u, "majority_items": maj_i, "minority_items": min_i}
    if not (maj_u.size and min_u.size and maj_i.size and min_i.size):
        empty = [name for name, value in groups.items() if value.size == 0]
        return _fail(alpha, structure_rtol, [f"no {', '.join(empty)}: not a majority–minority instance"], shape)

    failures: list[str] = []
    notes: list[str] = []
    A = R[np.ix_(maj_u, maj_i)]
    B = R[np.ix_(min_u, min_i)]
    U_A, s_A, Vt_A = np.linalg.svd(A, full_matrices=False)
    U_B, s_B, Vt_B = np.linalg.svd(B, full_matrices=False)
    scale = max(float(s_A[0]) if s_A.size else 0.0, float(s_B[0]))
    floor = structure_rtol * scale
    cross = np.concatenate([R[np.ix_(maj_u, min_i)].ravel(), R[np.ix_(min_u, maj_i)].ravel()])
    off_fro = float(np.linalg.norm(cross))
    if off_fro > floor:
        block = R.copy()
        block[np.ix_(maj_u, maj_i)] = 0.0
        block[np.ix_(min_u, min_i)] = 0.0
        u, i = np.unravel_index(int(np.argmax(block)), block.shape)
        failures.append(
            f"off-block entries: ||cross-group part||_F = {off_fro:.6g} > tolerance {floor:.3g}, largest R*[{u}, {i}] "
            f"= {block[u, i]:.6g} (user in group {user_group[u]}, item in group {item_group[i]}); the theory needs "
            "R* = blockdiag(A, B)"
        )
    s2_B = float(s_B[1]) if s_B.size > 1 else 0.0
    if s2_B > floor:
        failures.append(
            f"the minority block is not rank one: s_2(B) = {s2_B:.6g} > tolerance {floor:.3g} "
            f"(s_1(B) = {s_B[0]:.6g}); THEORY.md needs B = c d^T"
        )
    u1, v1 = U_B[:, 0], Vt_B[0]
    if u1.sum() < 0:
        u1, v1 = -u1, -v1
    if s2_B <= floor and (u1.min() <= 0 or v1.min() <= 0):
        if u1.min() <= 0:
            who = f"minority user {int(min_u[np.argmin(u1)])} has c_u = {u1.min() * s_B[0]:.3g}"
        else:
            who = f"minority item {int(min_i[np.argmin(v1)])} has d_i = {v1.min():.3g}"
        failures.append(f"the minority block B = c d^T needs c > 0 and d > 0; {who}")
    k1 = int(np.count_nonzero(s_A > floor))
    if k1 == 0:
        failures.append("the majority block A is zero: no majority direction to keep")
    elif s_A[k1 - 1] <= alpha:
        first = int(np.flatnonzero(s_A <= alpha)[0])
        failures.append(
            f"gap condition fails: s_{first + 1}(A) = {s_A[first]:.6g} <= alpha = {alpha:.6g} (A has {k1 - first} "
            f"singular value(s) in ({floor:.3g}, alpha], the smallest s_{k1}(A) = {s_A[k1 - 1]:.6g}); the theory "
            "needs every nonzero singular value of A above alpha" + _second_block_hint(A, alpha, floor)
        )
    if alpha < s_B[0]:
        failures.append(
            f"gap condition fails: alpha = {alpha:.6g} < sigma_B = s_1(B) = {s_B[0]:.6g}: the minority block is "
            "not suppressed"
        )
    elif alpha - s_B[0] <= 1e-12 * s_B[0]:
        notes.append(
            f"alpha is within rounding of sigma_B ({alpha - s_B[0]:.3g}): the truthful k* is decided by rounding"
        )
    if target is not None and item_group[target] != 1:
        failures.append(f"target item {target} is a majority item; the theory needs a minority target")
    if members is not None and np.any(user_group[members] == 1):
        u = int(members[user_group[members] == 1][0])
        failures.append(f"member {u} is a minority user; the theory needs a collective of majority users")
    if min_i.size == 1:
        notes.append(
            "n2 = 1 (one minority item): Remark 2.6 applies (gamma = 0; above x_k the learner keeps R~ exactly, and "
            "Theorem 1 / Corollary 2.3 are not stated for it)"
        )
    tail = s_A[k1:] if k1 else s_A
    parts = {"off_block": off_fro, "majority_tail": float(tail[0]) if tail.size else 0.0, "minority_s2": s2_B}
    residual = float(sum(parts.values()))
    if failures:
        extra = {"notes": tuple(notes), "residual": residual, "residual_parts": parts}
        return _fail(alpha, structure_rtol, failures, shape, **extra, **groups)
    U, V = U_A[:, :k1], Vt_A[:k1].T
    signs = np.where(U.sum(axis=0) < 0, -1.0, 1.0)  # deterministic signs (a > 0 in the rank-one case)
    return StructureResult(
        ok=True,
        reason="",
        alpha=alpha,
        structure_rtol=structure_rtol,
        notes=tuple(notes),
        U=U * signs,
        sigma=s_A[:k1].copy(),
        V=V * signs,
        sigma_tail=tail.copy(),
        c=u1 * s_B[0],
        d=v1.copy(),
        sigma_B=float(s_B[0]),
        residual=residual,
        residual_parts=parts,
        shape=shape,
        **groups,
    )


def _second_block_hint(A: np.ndarray, alpha: float, zero_atol: float) -> str:
    """Name a block of the majority part that is itself suppressed (a minority of rank >= 2), if there is one."""
    _, _, blocks = _components(A, zero_atol)
    suppressed = _suppressed(A, blocks, alpha)
    if not suppressed or len(blocks) < 2:
        return ""
    return (
        f"; the majority part holds {len(suppressed)} block(s) with s_1 <= alpha, so the suppressed part has rank >= 2 "
        "(THEORY.md §1 needs one rank-one minority block)"
    )
