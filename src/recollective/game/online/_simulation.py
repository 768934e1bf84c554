"""The online game: an explore-then-commit learner completes the matrix from noisy feedback and exploits.

Rounds t = 1..T. During the first E rounds (exploration) each user is shown one uniformly random item (or, with
``observe_prob``, every pair is observed independently with that probability); feedback is the revealed
preference plus Gaussian noise. After round E — and every ``refit_every`` rounds after, if set — the learner
completes the matrix from the running means of what it observed. In exploitation each user is served a slate of
the learner's best ``slate_size`` items (with probability ``epsilon`` a uniformly random item instead) and takes
the one they truly like best; that feedback is observed too.

Served utility of a user in a round: R*[u, item taken]; in Bernoulli exploration the mean of R* over the pairs
observed for that user that round (0 when none). Welfare is its sum over users; regret is
sum_u (max_i R*[u, i] - served utility).

Randomness: each seed spawns independent streams (``SeedSequence``) for exploration, noise, the collective,
epsilon-exploration and the noise on targets the collective seeks out, so a truthful run and a collective run
with the same seed share their exploration draws and noise (common random numbers) and differ only by what the
collective does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recollective.errors import InvalidParameterError
from recollective.game._checks import check_indices
from recollective.game._outcome import DEFAULT_TIE_RTOL, top_items
from recollective.game._rank_rules import RankRule, as_rank_rule
from recollective.game.online._config import CollectiveInLoop, OnlineConfig
from recollective.game.online._estimators import Completion, complete

__all__ = ["OnlineRun", "simulate"]


@dataclass(frozen=True, eq=False)
class OnlineRun:
    """One seed of the online game. Per-round arrays have shape (rounds,).

    Attributes
    ----------
    welfare, minority_welfare, members_welfare, regret : ndarray of float
        True welfare of what was served (minority: users labelled 1; members: the collective's members).
    rank : ndarray of int
        The learner's rank in each round (-1 before the first completion).
    predicted_engagement : ndarray of float
        sum_u R^[u, item taken] (NaN before the first completion).
    retained_variation, fit_error : ndarray of float
        The current model's platform utilities: TVR(k) of the spectrum its rank was read from, and
        ||P_obs(Y - R^)||_F on the pairs observed when it was fitted (NaN before the first completion).
    final_top_items : ndarray of shape (n_users,)
        top(u) of the last completion, with the one-shot tie-break.
    completion_error : float
        ||R^ - R*||_F / ||R*||_F of the last completion.
    observed_fraction : float
        Share of pairs observed at least once by the end.
    participants : ndarray of int
        Members who took part (empty without a collective).
    """

    seed: int
    welfare: np.ndarray
    minority_welfare: np.ndarray
    members_welfare: np.ndarray
    regret: np.ndarray
    rank: np.ndarray
    predicted_engagement: np.ndarray
    retained_variation_per_round: np.ndarray
    fit_error_per_round: np.ndarray
    final_top_items: np.ndarray
    final_utilities: np.ndarray
    final_rank: int
    completion_error: float
    retained_variation: float
    observed_fit_error: float
    observed_fraction: float
    participants: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "welfare_per_round": self.welfare.tolist(),
            "minority_welfare_per_round": self.minority_welfare.tolist(),
            "members_welfare_per_round": self.members_welfare.tolist(),
            "regret_per_round": self.regret.tolist(),
            "rank_per_round": self.rank.tolist(),
            "predicted_engagement_per_round": self.predicted_engagement.tolist(),
            "retained_variation_per_round": self.retained_variation_per_round.tolist(),
            "fit_error_per_round": self.fit_error_per_round.tolist(),
            "final_top_items": self.final_top_items.tolist(),
            "final_rank": self.final_rank,
            "final_social_welfare": float(self.final_utilities.sum()),
            "completion_error": self.completion_error,
            "retained_variation": self.retained_variation,
            "observed_fit_error": self.observed_fit_error,
            "observed_fraction": self.observed_fraction,
            "participants": self.participants.tolist(),
        }


class _Observations:
    """Running sums and counts of the feedback on every pair."""

    def __init__(self, shape):
        self.sums = np.zeros(shape)
        self.counts = np.zeros(shape)

    def add(self, users, items, values):
        np.add.at(self.sums, (users, items), values)
        np.add.at(self.counts, (users, items), 1.0)

    def add_mask(self, mask, values):
        self.sums += np.where(mask, values, 0.0)
        self.counts += mask

    def means(self):
        mask = self.counts > 0
        return np.divide(self.sums, self.counts, out=np.zeros_like(self.sums), where=mask), mask


def _check_truth(R_true) -> np.ndarray:
    try:
        array = np.array(R_true, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"R_true must be a numeric matrix ({exc})") from None
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidParameterError(f"R_true must be a non-empty 2-D matrix; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InvalidParameterError("R_true contains NaN or infinite values; preferences must be finite")
    return array


def simulate(
    R_true,
    alpha: RankRule | float,
    config: OnlineConfig | None = None,
    *,
    collective: CollectiveInLoop | None = None,
    R_reported=None,
    user_group=None,
    seed: int = 0,
    tie_rtol: float = DEFAULT_TIE_RTOL,
) -> OnlineRun:
    """Play the online game once.

    Parameters
    ----------
    R_true : array-like of shape (n_users, n_items)
        True preferences R* (any finite values: latent-vector worlds may be negative).
    alpha : float or RankRule
        The learner's rank rule (USVT and ALS; SoftImpute's default shrinkage is alpha * p).
    config : OnlineConfig, optional
    collective : CollectiveInLoop, optional
    R_reported : array-like of shape (n_users, n_items), optional
        What users reveal when observed (default R_true); the collective's reports are written over it.
    user_group : array-like of {0, 1}, optional
        Minority labels for the minority-welfare series.
    seed : int
        Root of this run's random streams.
    """
    R_true = _check_truth(R_true)
    n_users, n_items = R_true.shape
    config = config or OnlineConfig()
    rule = as_rank_rule(alpha)
    alpha_value = rule.parameter
    revealed = R_true.copy() if R_reported is None else _check_truth(R_reported)
    if revealed.shape != R_true.shape:
        raise InvalidParameterError(f"R_reported has shape {revealed.shape}; R_true has shape {R_true.shape}")
    minority = _minority_users(user_group, n_users)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(f"seed must be an integer >= 0; got {seed!r}")
    explore_rng, noise_rng, collective_rng, greedy_rng, seek_noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)
    )

    members = np.empty(0, np.int64)
    participants = np.empty(0, np.int64)
    targets = np.empty(0, np.int64)
    if collective is not None:
        members = check_indices(collective.members, n_users, "members", "user")
        targets = check_indices(collective.targets, n_items, "targets", "item")
        participants = members[collective_rng.random(members.size) < collective.participation]
        values = collective.uprating + collective.coordination_noise * collective_rng.standard_normal(
            (participants.size, targets.size)
        )
        reports = revealed.copy()  # what participants report when they act (met or sought)
        reports[np.ix_(participants, targets)] = np.maximum(values, 0.0)
        sought_values = reports
        if collective.report_when_met:
            revealed = reports

    observations = _Observations(R_true.shape)
    best = R_true.max(axis=1)
    users = np.arange(n_users)
    names = ("welfare", "minority", "members", "regret", "predicted", "retained", "fit")
    series = {name: np.full(config.rounds, np.nan) for name in names}
    ranks = np.full(config.rounds, -1, dtype=np.int64)
    completion: Completion | None = None

    def noisy(values, rng=noise_rng):
        return values + config.noise * rng.standard_normal(values.shape) if config.noise else values

    def observe(rows, cols, rng=noise_rng, source=None):
        source = revealed if source is None else source
        observations.add(rows, cols, noisy(source[rows, cols], rng))

    def fit():
        values, mask = observations.means()
        completion = complete(
            config.estimator,
            values,
            mask,
            rule,
            alpha_value,
            softimpute_shrinkage=config.softimpute_shrinkage,
            als_reg=config.als_reg,
            als_max_rank=config.als_max_rank,
        )
        return (
            completion,
            _platform(completion, values, mask),
            _best_of_slate(completion.R_hat, R_true, config, tie_rtol),
        )

    for t in range(config.rounds):
        if t < config.explore_rounds:
            if config.observe_prob is None:
                shown = explore_rng.integers(n_items, size=n_users)
                observe(users, shown)
                served = R_true[users, shown]
            else:
                mask = explore_rng.random(R_true.shape) < config.observe_prob
                observations.add_mask(mask, noisy(revealed))
                shown_count = mask.sum(axis=1)
                served = np.divide(
                    np.where(mask, R_true, 0.0).sum(axis=1),
                    shown_count,
                    out=np.zeros(n_users),
                    where=shown_count > 0,
                )
        else:
            since = t - config.explore_rounds
            if completion is None or (config.refit_every and since > 0 and since % config.refit_every == 0):
                completion, platform, recommended = fit()
            taken = _explore_epsilon(recommended, n_items, config.epsilon, greedy_rng)
            observe(users, taken)
            served = R_true[users, taken]
            series["predicted"][t] = float(completion.R_hat[users, taken].sum())
            series["retained"][t], series["fit"][t] = platform
            ranks[t] = completion.rank
        if participants.size and collective.budget:
            sought = targets[collective_rng.integers(targets.size, size=(participants.size, collective.budget))]
            # their own noise stream keeps the truthful run's draws aligned (common random numbers)
            observe(np.repeat(participants, collective.budget), sought.ravel(), seek_noise_rng, sought_values)
        series["welfare"][t] = served.sum()
        series["minority"][t] = served[minority].sum()
        series["members"][t] = served[members].sum()
        series["regret"][t] = (best - served).sum()

    if completion is None or config.refit_every:
        completion, platform, _ = fit()  # the final model: after the last round's feedback
    values, mask = observations.means()
    final_top = top_items(completion.R_hat, tie_rtol)
    norm_true = float(np.linalg.norm(R_true))
    return OnlineRun(
        seed=int(seed),
        welfare=series["welfare"],
        minority_welfare=series["minority"],
        members_welfare=series["members"],
        regret=series["regret"],
        rank=ranks,
        predicted_engagement=series["predicted"],
        retained_variation_per_round=series["retained"],
        fit_error_per_round=series["fit"],
        final_top_items=final_top,
        final_utilities=R_true[users, final_top],
        final_rank=int(completion.rank),
        completion_error=float(np.linalg.norm(completion.R_hat - R_true)) / norm_true if norm_true else 0.0,
        retained_variation=platform[0],
        observed_fit_error=platform[1],
        observed_fraction=float(mask.mean()),
        participants=participants,
    )


def _platform(completion: Completion, values: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(retained variation, fit error on the observed pairs) of a completion."""
    total = float(completion.singular_values.sum())
    retained = float(completion.singular_values[: completion.rank].sum()) / total if total else 1.0
    return retained, float(np.linalg.norm(np.where(mask, values - completion.R_hat, 0.0)))


def _best_of_slate(R_hat, R_true, config: OnlineConfig, tie_rtol) -> np.ndarray:
    """The item each user takes from the learner's slate: top(u), or the truly best of the top ``slate_size``."""
    n_users, n_items = R_hat.shape
    if config.slate_size == 1:
        return top_items(R_hat, tie_rtol)
    k = min(config.slate_size, n_items)
    slate = np.argsort(-R_hat, axis=1, kind="stable")[:, :k]
    return slate[np.arange(n_users), np.argmax(np.take_along_axis(R_true, slate, axis=1), axis=1)]


def _explore_epsilon(recommended: np.ndarray, n_items: int, epsilon: float, rng) -> np.ndarray:
    """With probability ``epsilon`` per user, a uniformly random item instead of the recommended one."""
    if epsilon <= 0:
        return recommended
    explore = rng.random(recommended.size) < epsilon
    return np.where(explore, rng.integers(n_items, size=recommended.size), recommended)


def _minority_users(user_group, n_users: int) -> np.ndarray:
    if user_group is None:
        return np.empty(0, np.int64)
    labels = np.asarray(user_group)
    if labels.shape != (n_users,) or not np.isin(labels, (0, 1)).all():
        raise InvalidParameterError(f"user_group must hold {n_users} labels in {{0, 1}} (1 = minority)")
    return np.flatnonzero(labels == 1)
