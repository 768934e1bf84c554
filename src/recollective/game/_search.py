"""Robust search for Pareto-effective collective strategies (our version of the paper's algorithm).

Given true preferences R* (or a noisy estimate of them), a learner alpha or an interval of alphas, and a
perturbation budget, find a collective C (the smallest prefix of an ordered candidate list that works),
a target item t and an uprating value x such that "C reports x on t" is Pareto-effective

* for every alpha in the interval: the outcome only changes with alpha where alpha crosses a singular value of
  R* or of R~(x), so it is checked exactly at one alpha inside every piece between those breakpoints; and
* for every sampled perturbation R* + E (E a Gaussian direction scaled to spectral norm ``perturbation``,
  clipped so preferences stay >= 0), with the truthful outcome of the perturbed world as the baseline,

choosing x at the centre of the widest common window, which maximises the margin to the window edges.

Candidates. Members: the majority users when group labels are known, else users who would not prefer any
target to what they get now; ordered by their predicted score R^[u, top(u)] under truthful play, strongest
first (a member with a strong current favourite is the least likely to be flipped onto the target). Targets:
minority items when labelled, else all items, ranked by the welfare they could add,
sum_u max(0, R*[u, t] - w_u). The result is minimal within this ordering, not over all subsets.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from recollective._random import as_generator
from recollective.errors import InvalidParameterError
from recollective.game._checks import check_alpha, check_indices, check_preferences
from recollective.game._outcome import DEFAULT_TIE_RTOL, Outcome, PlatformUtilities, outcome
from recollective.game._pareto import compare_outcomes
from recollective.game._rank_rules import AbsoluteThreshold
from recollective.game._records import record
from recollective.game._strategy import CollectiveStrategy
from recollective.game._windows import effective_window

__all__ = ["RobustSearchResult", "robust_search", "verify_over_alphas"]


@dataclass(frozen=True, eq=False)
class RobustSearchResult:
    """The outcome of :func:`robust_search`.

    Attributes
    ----------
    found : bool
    strategy : CollectiveStrategy or None
        Members, target(s) and the chosen uprating value x.
    window : (lo, hi) or None
        The common Pareto window (over all scenarios) that contains x.
    margin : float
        Distance from x to the nearest edge of ``window``.
    guaranteed_welfare_gain : float
        Minimum over all checked scenarios (alphas x perturbations) of the social-welfare gain at x.
    members_worst_change : float
        Minimum over scenarios and members of the change in a member's utility (>= 0 when found).
    minority_welfare_before, minority_welfare_after : float
        Welfare of the minority (labelled minority users, else the targets' audience) at the nominal alpha.
    platform_before, platform_after : PlatformUtilities
        At the nominal alpha, truthful versus strategic.
    n_scenarios : int
    tried : list of dict
        One row per (collective size, target) examined: whether a common window existed and its width.
    reason : str
        Why nothing was found (empty when found).
    """

    found: bool
    strategy: CollectiveStrategy | None
    window: tuple[float, float] | None
    margin: float
    guaranteed_welfare_gain: float
    members_worst_change: float
    minority_welfare_before: float
    minority_welfare_after: float
    platform_before: PlatformUtilities | None
    platform_after: PlatformUtilities | None
    n_scenarios: int
    alphas: tuple[float, float]
    tried: list[dict] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict:
        n_members = self.strategy.n_members if self.strategy else None
        return record(self, rename={"alphas": "alpha_range"}, n_members=n_members)


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _alpha_probes(lo: float, hi: float, *spectra: np.ndarray) -> list[float]:
    """One alpha inside each piece of [lo, hi] cut at the given singular values, plus both ends."""
    cuts = sorted({lo, hi, *(float(s) for spec in spectra for s in spec if lo < s < hi)})
    probes = [lo, hi] + [0.5 * (a + b) for a, b in itertools.pairwise(cuts)]
    return sorted(set(probes))


def verify_over_alphas(
    R_true: np.ndarray,
    strategy: CollectiveStrategy,
    alpha_lo: float,
    alpha_hi: float,
    *,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> tuple[bool, float, float, float | None]:
    """Exact check that ``strategy`` is Pareto-effective for every alpha in [alpha_lo, alpha_hi].

    Returns (holds, worst welfare gain, worst member change, a failing alpha or None).
    """
    revealed = strategy.apply(R_true)
    s_true = np.linalg.svd(R_true, compute_uv=False)
    s_revealed = np.linalg.svd(revealed, compute_uv=False)
    worst_gain, worst_member = math.inf, math.inf
    for alpha in _alpha_probes(alpha_lo, alpha_hi, s_true, s_revealed):
        before = outcome(R_true, None, alpha, tie_rtol=tie_rtol)
        after = outcome(R_true, revealed, alpha, tie_rtol=tie_rtol)
        comparison = compare_outcomes(before, after)
        worst_gain = min(worst_gain, comparison.welfare_change)
        change = after.utilities[strategy.members] - before.utilities[strategy.members]
        worst_member = min(worst_member, float(change.min()))
        if not comparison.is_pareto_effective:
            return False, worst_gain, worst_member, alpha
    return True, worst_gain, worst_member, None


def _minority_welfare(result: Outcome, minority: np.ndarray) -> float:
    return math.fsum(result.utilities[minority]) if minority.size else 0.0


def robust_search(
    R_true,
    alpha: float,
    *,
    alpha_range: tuple[float, float] | None = None,
    perturbation: float = 0.0,
    n_perturbations: int = 0,
    user_group=None,
    item_group=None,
    candidate_members=None,
    candidate_targets=None,
    n_target_candidates: int = 3,
    max_members: int = 20,
    x_max: float = 10.0,
    rng: np.random.Generator | int | None = 0,
    tie_rtol: float = DEFAULT_TIE_RTOL,
    progress: Callable[[str], None] | None = None,
) -> RobustSearchResult:
    """Find the smallest collective, a target and an uprating value that are robustly Pareto-effective.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R* (or the organiser's estimate of them).
    alpha : float
        The nominal absolute threshold alpha of the learner.
    alpha_range : (lo, hi), optional
        Require Pareto-effectiveness for every alpha in [lo, hi] (default: alpha alone).
    perturbation : float, default=0.0
        Spectral norm of the sampled perturbations of R*.
    n_perturbations : int, default=0
        How many perturbed worlds must also be served.
    user_group, item_group : array-like of {0, 1}, optional
        Majority (0) / minority (1) labels used to pick candidates.
    candidate_members, candidate_targets : array-like of int, optional
        Explicit candidates (members in the order in which they are added).
    n_target_candidates : int, default=3
    max_members : int, default=20
        Largest collective tried.
    x_max : float, default=10.0
        Uprating values are searched in [0, x_max].
    rng : Generator, int or None, default=0
        Seed of the perturbations.
    progress : callable, optional
        Called with a short message after each (size, target) examined.

    Returns
    -------
    RobustSearchResult
    """
    R_true = check_preferences(R_true)
    n_users, n_items = R_true.shape
    alpha = check_alpha(alpha)
    lo, hi = (alpha, alpha) if alpha_range is None else (check_alpha(alpha_range[0]), check_alpha(alpha_range[1]))
    if lo > hi:
        raise InvalidParameterError(f"alpha_range must be (lo, hi) with lo <= hi; got {alpha_range!r}")
    perturbation = check_alpha(perturbation, "perturbation")
    if isinstance(n_perturbations, bool) or int(n_perturbations) != n_perturbations or n_perturbations < 0:
        raise InvalidParameterError(f"n_perturbations must be an integer >= 0; got {n_perturbations!r}")
    if int(max_members) < 1:
        raise InvalidParameterError(f"max_members must be >= 1; got {max_members!r}")
    if int(n_target_candidates) < 1:
        raise InvalidParameterError(f"n_target_candidates must be >= 1; got {n_target_candidates!r}")
    gen = as_generator(rng)

    nominal = outcome(R_true, None, alpha, tie_rtol=tie_rtol)
    users_group = None if user_group is None else np.asarray(user_group)
    items_group = None if item_group is None else np.asarray(item_group)

    # Targets: labelled minority items, else all, ranked by the welfare they could add.
    if candidate_targets is not None:
        targets = check_indices(candidate_targets, n_items, "candidate_targets", "item")
    else:
        pool = np.flatnonzero(items_group == 1) if items_group is not None else np.arange(n_items)
        potential = np.maximum(R_true[:, pool] - nominal.utilities[:, None], 0.0).sum(axis=0)
        order = np.argsort(-potential, kind="stable")
        targets = pool[order[: int(n_target_candidates)]]
        targets = targets[potential[order[: int(n_target_candidates)]] > 0]
    if targets.size == 0:
        return _nothing(lo, hi, "no target could raise anyone's utility: every user already gets their best item")

    audience = np.flatnonzero((R_true[:, targets] > nominal.utilities[:, None]).any(axis=1))
    minority = np.flatnonzero(users_group == 1) if users_group is not None else audience
    if candidate_members is not None:
        raw = np.atleast_1d(np.asarray(candidate_members))
        check_indices(raw, n_users, "candidate_members", "user")
        members_order = raw.astype(np.int64)
    else:
        if users_group is not None:
            pool = np.flatnonzero(users_group == 0)
        else:
            pool = np.setdiff1d(np.arange(n_users), audience)
        strength = nominal.R_hat[pool, nominal.top_items[pool]]
        members_order = pool[np.argsort(-strength, kind="stable")]
    if members_order.size == 0:
        return _nothing(lo, hi, "no candidate members: every user is in the targets' audience")

    worlds = [R_true]
    for _ in range(int(n_perturbations)):
        direction = gen.standard_normal(R_true.shape)
        direction *= perturbation / max(np.linalg.norm(direction, 2), 1e-300)
        worlds.append(np.maximum(R_true + direction, 0.0))
    spectra = [np.linalg.svd(world, compute_uv=False) for world in worlds]
    alpha_probes = _alpha_probes(lo, hi, *spectra)
    scenarios = [(w, world, a) for w, world in enumerate(worlds) for a in alpha_probes]
    baselines = {}

    tried: list[dict] = []
    for size in range(1, min(int(max_members), members_order.size) + 1):
        members = members_order[:size]
        best = None
        for target in targets:
            common: list[tuple[float, float]] = [(0.0, float(x_max))]
            extra: list[tuple[int, float]] = []
            for _round in range(4):  # cutting planes: alphas that broke an earlier choice join the scenarios
                for w, world, a in scenarios + [(w, worlds[w], a) for w, a in extra]:
                    key = (w, a)
                    if key not in baselines:
                        baselines[key] = outcome(world, None, a, tie_rtol=tie_rtol)
                    window = effective_window(
                        world, members, [target], a, x_max, n_initial=33, tie_rtol=tie_rtol, baseline=baselines[key]
                    )
                    common = _intersect(common, window.pareto_intervals)
                    if not common:
                        break
                if not common:
                    break
                lo_x, hi_x = max(common, key=lambda iv: iv[1] - iv[0])
                strategy = CollectiveStrategy(members, [target], 0.5 * (lo_x + hi_x))
                failures = [
                    (w, failing)
                    for w, world in enumerate(worlds)
                    for ok, _, _, failing in [verify_over_alphas(world, strategy, lo, hi, tie_rtol=tie_rtol)]
                    if not ok
                ]
                if not failures:
                    break
                extra.extend(failures)
                common = [(0.0, float(x_max))]
            else:
                common = []
            width = max((h - l for l, h in common), default=0.0)
            tried.append({"n_members": size, "target": int(target), "window_width": width})
            if progress is not None:
                progress(f"{size} member(s), target {int(target)}: common Pareto window width {width:.4g}")
            if common and (best is None or width > best[0]):
                best = (width, (lo_x, hi_x), strategy)
        if best is not None:
            return _report(R_true, worlds, lo, hi, alpha, best, nominal, minority, len(scenarios), tried, tie_rtol)
    return _nothing(
        lo,
        hi,
        f"no collective of up to {min(int(max_members), members_order.size)} candidate member(s) has a common "
        f"Pareto window in [0, {x_max:g}] over {len(scenarios)} scenario(s); try more members, a larger x_max, "
        "a narrower alpha range or a smaller perturbation",
        tried,
    )


def _report(R_true, worlds, lo, hi, alpha, best, nominal, minority, n_scenarios, tried, tie_rtol):
    width, window, strategy = best
    gains, member_changes = [], []
    for world in worlds:
        _, gain, member, _ = verify_over_alphas(world, strategy, lo, hi, tie_rtol=tie_rtol)
        gains.append(gain)
        member_changes.append(member)
    after = outcome(R_true, strategy.apply(R_true), AbsoluteThreshold(alpha), tie_rtol=tie_rtol)
    return RobustSearchResult(
        found=True,
        strategy=strategy,
        window=window,
        margin=0.5 * width,
        guaranteed_welfare_gain=min(gains),
        members_worst_change=min(member_changes),
        minority_welfare_before=_minority_welfare(nominal, minority),
        minority_welfare_after=_minority_welfare(after, minority),
        platform_before=nominal.platform,
        platform_after=after.platform,
        n_scenarios=n_scenarios,
        alphas=(lo, hi),
        tried=tried,
    )


def _nothing(lo, hi, reason, tried=None) -> RobustSearchResult:
    return RobustSearchResult(
        found=False,
        strategy=None,
        window=None,
        margin=0.0,
        guaranteed_welfare_gain=0.0,
        members_worst_change=0.0,
        minority_welfare_before=0.0,
        minority_welfare_after=0.0,
        platform_before=None,
        platform_after=None,
        n_scenarios=0,
        alphas=(lo, hi),
        tried=tried or [],
        reason=reason,
    )
