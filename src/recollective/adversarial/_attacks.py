"""Shilling and brigading attacks: malicious profiles injected into interaction data.

The classic profile-injection models (Lam & Riedl 2004, "Shilling recommender systems for fun and profit";
Mobasher, Burke, Bhaumik & Williams 2007, "Toward trustworthy recommender systems") build each attack profile
from the *targets* (rated ``target_rating``: the maximum to push, the minimum to nuke), *selected* items
(bandwagon, segment) and *filler* items drawn uniformly at random among the other items:

========== =========================================== ==========================================
kind       selected items (rated the data's maximum)   filler values
========== =========================================== ==========================================
random     none                                        N(global mean, global std)
average    none                                        N(item mean, item std), per filler item
bandwagon  the ``n_selected`` most popular items       N(global mean, global std)
segment    the segment (items co-rated with targets)   the data's minimum
brigading  none                                        N(item mean, item std); fillers drawn among
                                                       the items most popular with the *victims*
========== =========================================== ==========================================

Drawn values are rounded to the data's rating grid (see :func:`rating_grid`) and clipped to its range; on
implicit data (every value 1) every added value is 1. Brigading is the coordinated version of benign collective
action: accounts rate the targets together with camouflage from the mainstream of the people who do not want
the targets (users outside ``audience``), all in one tight burst of order values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from recollective._random import as_generator
from recollective.data import Delta, Interactions
from recollective.errors import DataError, InvalidParameterError, did_you_mean

__all__ = ["ACCOUNT_KINDS", "ATTACK_KINDS", "INTENTS", "Attack", "AttackApplication", "apply_attack", "rating_grid"]

ATTACK_KINDS = ("random", "average", "bandwagon", "segment", "brigading")
INTENTS = ("push", "nuke")
ACCOUNT_KINDS = ("fake", "real")
"""fake: new user rows appended after the existing ones; real: existing (compromised or recruited) accounts."""

SELECTED_KINDS = ("bandwagon", "segment")
"""Kinds whose profiles hold selected items (``n_selected`` / ``selected``)."""

_GRID_RESOLUTION = 1e6
"""Rating values are compared at this many units per rating point when the grid step is inferred."""

BRIGADE_POOL_FACTOR = 3
"""Brigading fillers are drawn among the ``BRIGADE_POOL_FACTOR * n_filler`` items most popular with the victims."""


_FAKE_ID = re.compile(r"attack-(\d+)")
"""Text ids of fake accounts; new ones count on after the largest index present."""


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclass(frozen=True)
class Attack:
    """What the attacker injects.

    Parameters
    ----------
    kind : str
        One of :data:`ATTACK_KINDS`.
    targets : tuple of int
        Target item indices (pushed, or nuked); duplicates are dropped and the rest sorted.
    intent : str, default "push"
        One of :data:`INTENTS`: push rates the targets at the data's maximum, nuke at its minimum.
    size : float or int, default 0.01
        Number of attack profiles: a float in (0, 1) is that share of all users (rounded, at least 1), an
        int >= 1 that many profiles. Ignored when ``budget`` is set.
    filler_size : float or int, default 0.02
        Filler items per profile: a float in [0, 1) is that share of all items (rounded), an int >= 0 a count.
    n_selected : int, default 3
        Bandwagon: how many of the most popular items are selected; segment: the segment size. Used by
        :data:`SELECTED_KINDS` only, and only when ``selected`` is empty.
    selected : tuple of int, default ()
        Explicit selected (bandwagon) or segment items, overriding the default choice.
    accounts : str, default "fake"
        One of :data:`ACCOUNT_KINDS`.
    target_rating : float or None, default None
        Value given to the targets; None: the data's maximum (push) or minimum (nuke).
    budget : int or None, default None
        Total added interactions; when set the number of profiles is ``max(1, budget // per_profile)``.
    """

    kind: str
    targets: tuple
    intent: str = "push"
    size: float | int = 0.01
    filler_size: float | int = 0.02
    n_selected: int = 3
    selected: tuple = ()
    accounts: str = "fake"
    target_rating: float | None = None
    budget: int | None = None

    def __post_init__(self):
        for field, allowed in (("kind", ATTACK_KINDS), ("intent", INTENTS), ("accounts", ACCOUNT_KINDS)):
            if getattr(self, field) not in allowed:
                raise InvalidParameterError(
                    f"attack.{field} must be one of {', '.join(allowed)}; got {getattr(self, field)!r}"
                    f"{did_you_mean(getattr(self, field), allowed)}"
                )
        object.__setattr__(self, "targets", _index_tuple(self.targets, "targets"))
        if not self.targets:
            raise InvalidParameterError("attack.targets is empty: name at least one target item")
        object.__setattr__(self, "size", _share_or_count(self.size, "size", "users", minimum=1))
        object.__setattr__(self, "filler_size", _share_or_count(self.filler_size, "filler_size", "items", minimum=0))
        if not _is_int(self.n_selected) or self.n_selected < 0:
            raise InvalidParameterError(f"attack.n_selected must be an integer >= 0; got {self.n_selected!r}")
        object.__setattr__(self, "n_selected", int(self.n_selected))
        object.__setattr__(self, "selected", _index_tuple(self.selected, "selected"))
        if self.selected and self.kind not in SELECTED_KINDS:
            raise InvalidParameterError(
                f"attack.selected is only used by {' and '.join(SELECTED_KINDS)} attacks; got {self.selected!r} "
                f"for a {self.kind} attack"
            )
        if self.kind in SELECTED_KINDS and not self.selected and self.n_selected < 1:
            raise InvalidParameterError(
                f"attack.n_selected must be >= 1 for a {self.kind} attack (or give attack.selected); "
                f"got {self.n_selected}"
            )
        overlap = sorted(set(self.selected) & set(self.targets))
        if overlap:
            raise InvalidParameterError(f"attack.selected must not contain targets; both hold {overlap}")
        if self.target_rating is not None:
            if not _is_number(self.target_rating) or not np.isfinite(self.target_rating):
                raise InvalidParameterError(
                    f"attack.target_rating must be a finite number or None; got {self.target_rating!r}"
                )
            object.__setattr__(self, "target_rating", float(self.target_rating))
        if self.budget is not None:
            if not _is_int(self.budget) or self.budget < 1:
                raise InvalidParameterError(f"attack.budget must be an integer >= 1 or None; got {self.budget!r}")
            object.__setattr__(self, "budget", int(self.budget))

    @property
    def uses_selected(self) -> bool:
        """Whether profiles hold selected / segment items."""
        return self.kind in SELECTED_KINDS

    def n_fillers(self, n_items: int) -> int:
        """Filler items per profile in a catalogue of ``n_items`` items."""
        if isinstance(self.filler_size, int):
            return self.filler_size
        return int(np.floor(self.filler_size * n_items + 0.5))

    def n_profiles(self, n_users: int, per_profile: int) -> int:
        """How many attack profiles: from ``budget`` when set (whole profiles of ``per_profile``), else ``size``."""
        if self.budget is not None:
            return max(1, self.budget // max(1, per_profile))
        if isinstance(self.size, int):
            return self.size
        return max(1, int(np.floor(self.size * n_users + 0.5)))

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "targets": list(self.targets),
            "intent": self.intent,
            "size": self.size,
            "filler_size": self.filler_size,
            "n_selected": self.n_selected,
            "selected": list(self.selected),
            "accounts": self.accounts,
            "target_rating": self.target_rating,
            "budget": self.budget,
        }


def _share_or_count(value, field: str, of: str, minimum: int):
    """``value`` as an int count >= ``minimum`` or a float share (in (0, 1) for minimum 1, [0, 1) for 0)."""
    low = "(0" if minimum else "[0"
    if not _is_number(value):
        raise InvalidParameterError(
            f"attack.{field} must be a share in {low}, 1) or a count >= {minimum}; got {value!r}"
        )
    if _is_int(value):
        if value < minimum:
            raise InvalidParameterError(f"attack.{field} as a count must be >= {minimum}; got {value}")
        return int(value)
    if not (0 <= value < 1) or (minimum and value == 0):
        raise InvalidParameterError(
            f"attack.{field} as a share of {of} must lie in {low}, 1) (give an int for a count); got {value!r}"
        )
    return float(value)


def _index_tuple(values, field: str) -> tuple:
    array = np.atleast_1d(np.asarray(values)).reshape(-1)
    if array.size == 0:
        return ()
    if array.dtype.kind not in "iu":
        raise InvalidParameterError(f"attack.{field} must hold integer item indices; got {values!r}")
    return tuple(int(v) for v in np.unique(array))


@dataclass(frozen=True, eq=False)
class AttackApplication:
    """The result of applying an attack.

    Attributes
    ----------
    interactions : Interactions
        The interactions after the attack; fake accounts are new users appended after the existing ones.
    delta : Delta
        What changed (for ``Recommender.refit``).
    attackers : ndarray of int, shape (n_profiles,)
        Sorted user indices (in the new vocabulary) of the malicious accounts.
    added_users, added_items : ndarray of int, shape (n_actions,)
        Every injected interaction (new user indices, item indices), profile by profile: targets, selected,
        fillers. For real accounts an injected pair may overwrite one the account had.
    added_values : ndarray of float, shape (n_actions,)
        Their values.
    fake : bool
        Whether the accounts are new (fake) ones.
    """

    interactions: Interactions
    delta: Delta
    attackers: np.ndarray
    added_users: np.ndarray
    added_items: np.ndarray
    added_values: np.ndarray
    fake: bool

    @property
    def n_actions(self) -> int:
        return int(self.added_users.size)


def rating_grid(values: np.ndarray) -> tuple[float, float, float]:
    """(low, high, step) of the rating scale the values live on.

    ``step`` is the greatest common divisor of the gaps between distinct values (at 1e-6 resolution), so 1..5
    gives 1 and 0.5..5 gives 0.5; values with no common step coarser than ``(high - low) / 10_000`` count as
    continuous (step 0: no rounding). One distinct value (implicit data) gives step 0.
    """
    distinct = np.unique(np.asarray(values, dtype=np.float64))
    low, high = float(distinct[0]), float(distinct[-1])
    if distinct.size < 2 or (high - low) * _GRID_RESOLUTION > 2.0**62:
        return low, high, 0.0
    units = np.round((distinct - low) * _GRID_RESOLUTION).astype(np.int64)
    step = float(np.gcd.reduce(units)) / _GRID_RESOLUTION
    on_grid = np.allclose(low + np.round((distinct - low) / step) * step, distinct, rtol=0, atol=1e-9 + 1e-9 * high)
    return low, high, (step if on_grid and (high - low) / step <= 10_000 else 0.0)


def _on_grid(x: np.ndarray, grid: tuple[float, float, float]) -> np.ndarray:
    low, high, step = grid
    if step > 0:
        x = low + np.round((x - low) / step) * step
    return np.clip(x, low, high)


def _item_moments(interactions: Interactions, mean: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-item mean and (population) std of the values; items nobody rated take the global ones."""
    matrix, n_items = interactions.matrix, interactions.n_items
    counts = np.bincount(matrix.indices, minlength=n_items).astype(np.float64)
    sums = np.bincount(matrix.indices, weights=matrix.data, minlength=n_items)
    squares = np.bincount(matrix.indices, weights=matrix.data**2, minlength=n_items)
    rated = counts > 0
    item_mean = np.full(n_items, mean)
    item_mean[rated] = sums[rated] / counts[rated]
    item_std = np.full(n_items, std)
    item_std[rated] = np.sqrt(np.maximum(squares[rated] / counts[rated] - item_mean[rated] ** 2, 0.0))
    return item_mean, item_std


def _ranked(items: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """``items`` sorted by descending ``keys`` (first key most significant), lower index on ties."""
    return items[np.lexsort((items, *(-k[items] for k in reversed(keys))))]


def _selected_items(attack: Attack, interactions: Interactions, popularity: np.ndarray) -> np.ndarray:
    """The selected (bandwagon) or segment items, sorted by index."""
    targets = np.asarray(attack.targets)
    if attack.selected:
        return np.asarray(attack.selected, dtype=np.int64)
    others = np.setdiff1d(np.arange(interactions.n_items), targets)
    if attack.n_selected > others.size:
        raise InvalidParameterError(
            f"attack.n_selected={attack.n_selected} exceeds the {others.size} non-target items of the catalogue"
        )
    if attack.kind == "bandwagon":
        return np.sort(_ranked(others, popularity)[: attack.n_selected])
    # segment: items most co-rated with the targets by the users who rated a target, then the most popular
    csc = interactions.matrix.tocsc()
    raters = np.unique(np.concatenate([csc.indices[csc.indptr[t] : csc.indptr[t + 1]] for t in targets]))
    corated = np.bincount(interactions.matrix[raters].indices, minlength=interactions.n_items)
    return np.sort(_ranked(others, corated, popularity)[: attack.n_selected])


def _fake_ids(interactions: Interactions, n: int) -> list:
    """Ids of ``n`` new accounts, unique against the existing users (so attacked data can be attacked again).

    Signed integer or float ids: -1, -2, ... continued below the smallest id when the data already holds negative
    ones (a real id is not negative, so the new ids cannot collide with users of a held-out split either);
    unsigned ids: max + 1, ...; text ids: "attack-<j>", ... with ``j`` counting on after the largest
    "attack-<j>" already present (from 0).
    """
    ids = interactions.users.ids
    if ids.dtype.kind == "u":
        start = int(ids.max()) + 1 if ids.size else 0
        return [start + i for i in range(n)]
    if ids.dtype.kind in "if":
        low = min(int(np.floor(ids.min())), 0) if ids.size else 0
        return [low - 1 - i for i in range(n)]
    taken = [int(m.group(1)) for m in (_FAKE_ID.fullmatch(str(v)) for v in ids.tolist()) if m]
    start = max(taken) + 1 if taken else 0
    return [f"attack-{start + i}" for i in range(n)]


def _check_data(attack: Attack, interactions: Interactions, audience) -> np.ndarray:
    """Validate the data against the attack; returns the audience as sorted user indices (empty when None)."""
    if interactions.n_interactions == 0:
        raise DataError("cannot attack empty interactions: the filler and target values come from the data")
    for field in ("targets", "selected"):
        bad = [i for i in getattr(attack, field) if not 0 <= i < interactions.n_items]
        if bad:
            raise InvalidParameterError(
                f"attack.{field}: item index {bad[0]} is out of range (the data has {interactions.n_items} items)"
            )
    if audience is None:
        return np.empty(0, dtype=np.int64)
    audience = np.unique(np.asarray(audience, dtype=np.int64).reshape(-1))
    if audience.size and (audience[0] < 0 or audience[-1] >= interactions.n_users):
        raise InvalidParameterError(
            f"audience: user index {int(audience[0] if audience[0] < 0 else audience[-1])} is out of range "
            f"(the data has {interactions.n_users} users)"
        )
    return audience


def apply_attack(
    attack: Attack,
    interactions: Interactions,
    rng: np.random.Generator | int | None = 0,
    *,
    audience=None,
) -> AttackApplication:
    """Inject the attack's profiles into ``interactions`` (pure: returns new interactions and the delta).

    Every profile holds the targets (``target_rating``), the selected items (bandwagon, segment; the data's
    maximum) and ``n_fillers`` filler items drawn uniformly without replacement among the other items
    (brigading: among the ``BRIGADE_POOL_FACTOR * n_fillers`` non-target items most popular with the victims,
    the users outside ``audience``, or everyone without one; ties broken by overall popularity, then index).
    Filler values follow the module table, rounded to :func:`rating_grid` and clipped to its range.

    Order values (when the data has an order; ``T`` is its latest finite value, -1 when none):
    a shilling profile p of fake accounts takes ``T + 1 + p * per_profile + r``, real accounts
    ``own_latest + 1 + r`` (``T`` for accounts without a finite order), with ``r`` a random permutation of
    ``0 .. per_profile - 1`` per profile; a brigade acts inside one unit window: profile p's entries take
    ``T + 1 + (p * per_profile + r) / n_actions``, in ``[T + 1, T + 2)`` for fake and real accounts alike.

    Parameters
    ----------
    attack : Attack
    interactions : Interactions
        The training interactions.
    rng : Generator, int or None
    audience : array-like of int, optional
        User indices of those who would like the targets. Real accounts are drawn outside it; brigading's
        victims are the users outside it.

    Returns
    -------
    AttackApplication

    Raises
    ------
    InvalidParameterError
        Target, selected or audience indices out of range; more fillers than the catalogue allows; more real
        accounts than eligible users.
    DataError
        Empty interactions.
    """
    generator = as_generator(rng)
    audience = _check_data(attack, interactions, audience)
    matrix, n_users, n_items = interactions.matrix, interactions.n_users, interactions.n_items
    values = matrix.data
    grid = rating_grid(values)
    mean, std = float(values.mean()), float(values.std())
    popularity = np.bincount(matrix.indices, minlength=n_items)
    targets = np.asarray(attack.targets, dtype=np.int64)
    target_value = attack.target_rating
    if target_value is None:
        target_value = grid[1] if attack.intent == "push" else grid[0]
    selected = _selected_items(attack, interactions, popularity) if attack.uses_selected else np.empty(0, np.int64)
    candidates = np.setdiff1d(np.arange(n_items), np.concatenate([targets, selected]))
    n_filler = attack.n_fillers(n_items)
    if n_filler > candidates.size:
        raise InvalidParameterError(
            f"attack.filler_size asks for {n_filler} filler items per profile but only {candidates.size} items are "
            "neither targets nor selected; lower the filler size"
        )
    outside = np.setdiff1d(np.arange(n_users), audience)
    if attack.kind == "brigading":
        victims = outside if outside.size else np.arange(n_users)
        victim_popularity = np.bincount(matrix[victims].indices, minlength=n_items)
        candidates = _ranked(candidates, victim_popularity, popularity)[: BRIGADE_POOL_FACTOR * n_filler]
    per_profile = targets.size + selected.size + n_filler
    n_profiles = attack.n_profiles(n_users, per_profile)
    fake = attack.accounts == "fake"
    if fake:
        account_ids = _fake_ids(interactions, n_profiles)
    else:
        if n_profiles > outside.size:
            field = "budget" if attack.budget is not None else "size"
            raise InvalidParameterError(
                f"attack.{field} asks for {n_profiles} real accounts but only {outside.size} users are eligible "
                "(outside the audience); lower it or use accounts='fake'"
            )
        accounts = np.sort(generator.choice(outside, n_profiles, replace=False))
        account_ids = interactions.users.ids[accounts].tolist()
    item_mean, item_std = _item_moments(interactions, mean, std)
    fillers = np.stack([generator.choice(candidates, n_filler, replace=False) for _ in range(n_profiles)])
    fillers = fillers.reshape(n_profiles, n_filler).astype(np.int64)
    if attack.kind in ("random", "bandwagon"):
        filler_values = _on_grid(generator.normal(mean, std, fillers.shape), grid)
    elif attack.kind in ("average", "brigading"):
        filler_values = _on_grid(generator.normal(item_mean[fillers], item_std[fillers]), grid)
    else:  # segment
        filler_values = np.full(fillers.shape, grid[0])
    blocks = ((targets, float(target_value)), (selected, grid[1]))
    items = np.hstack([np.broadcast_to(b, (n_profiles, b.size)) for b, _ in blocks] + [fillers])
    profile_values = np.hstack([np.full((n_profiles, b.size), v) for b, v in blocks] + [filler_values])
    order = None
    if interactions.order is not None:
        order = _orders(attack, interactions, None if fake else accounts, n_profiles, per_profile, generator)
    user_ids = np.repeat(np.asarray(account_ids, dtype=object), per_profile)
    new, delta = interactions.with_added(
        user_ids,
        interactions.items.ids[items.reshape(-1)],
        profile_values.reshape(-1),
        None if order is None else order.reshape(-1),
    )
    attackers = new.users.numbers(np.asarray(account_ids, dtype=object))
    added_users = np.repeat(attackers, per_profile)
    return AttackApplication(
        new, delta, np.sort(attackers), added_users, items.reshape(-1), profile_values.reshape(-1), fake
    )


def _orders(attack, interactions, accounts, n_profiles, per_profile, generator) -> np.ndarray:
    """Order values, shape (n_profiles, per_profile), as :func:`apply_attack` documents."""
    data = interactions.order.data
    finite = data[np.isfinite(data)]
    latest = float(finite.max()) if finite.size else -1.0
    ranks = np.stack([generator.permutation(per_profile) for _ in range(n_profiles)]).astype(np.float64)
    ranks = ranks.reshape(n_profiles, per_profile)
    profile = np.arange(n_profiles, dtype=np.float64)[:, None] * per_profile
    if attack.kind == "brigading":
        return latest + 1.0 + (profile + ranks) / (n_profiles * per_profile)
    if accounts is None:
        return latest + 1.0 + profile + ranks
    order, starts = interactions.order, np.empty(n_profiles)
    for row, user in enumerate(accounts):
        times = order.data[order.indptr[user] : order.indptr[user + 1]]
        times = times[np.isfinite(times)]
        starts[row] = times.max() if times.size else latest
    return starts[:, None] + 1.0 + ranks
