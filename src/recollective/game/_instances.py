"""Game instances: majority–minority preferences, the singular-value-gap check, and .npz files.

MISSION.md: users and items split into a majority and a minority group; r*_{u,i} = 0 across groups, so
R* = blockdiag(R_maj, R_min). The gap condition s_{k_maj}(R_maj) > alpha >= s_1(R_min) makes the truthful
learner drop every minority direction (algorithmic suppression).

The .npz format holds ``R_true`` (n_users x n_items), optionally ``R_reported`` (same shape), the scalar
``alpha`` and, for generated instances, ``user_group`` / ``item_group`` (0 = majority, 1 = minority).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recollective._random import as_generator
from recollective.errors import DataError, InvalidParameterError
from recollective.game._checks import check_alpha, check_preferences, check_revealed
from recollective.game._records import record

__all__ = [
    "GameInstance",
    "GapCheck",
    "load_instance",
    "majority_minority",
    "save_instance",
    "singular_value_gap",
]


@dataclass(frozen=True, eq=False)
class GameInstance:
    """True preferences, the learner's alpha, and optional reports and group labels.

    Attributes
    ----------
    R_true : ndarray of shape (n_users, n_items)
    alpha : float
    R_reported : ndarray of shape (n_users, n_items) or None
    user_group, item_group : ndarray of shape (n_users,) / (n_items,) of {0, 1}, or None
        0 = majority, 1 = minority.
    """

    R_true: np.ndarray
    alpha: float
    R_reported: np.ndarray | None = None
    user_group: np.ndarray | None = None
    item_group: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.R_true.shape

    @property
    def minority_users(self) -> np.ndarray:
        return np.flatnonzero(self.user_group == 1) if self.user_group is not None else np.empty(0, np.int64)

    @property
    def majority_users(self) -> np.ndarray:
        return np.flatnonzero(self.user_group == 0) if self.user_group is not None else np.empty(0, np.int64)

    @property
    def minority_items(self) -> np.ndarray:
        return np.flatnonzero(self.item_group == 1) if self.item_group is not None else np.empty(0, np.int64)

    @property
    def majority_items(self) -> np.ndarray:
        return np.flatnonzero(self.item_group == 0) if self.item_group is not None else np.empty(0, np.int64)


@dataclass(frozen=True)
class GapCheck:
    """The singular-value-gap condition s_{k_maj}(R_maj) > alpha >= s_1(R_min)."""

    holds: bool
    majority_rank: int
    s_majority: float  # s_{k_maj}(R_maj)
    s_minority: float  # s_1(R_min)
    alpha: float

    def as_dict(self) -> dict:
        return record(self, rename={"s_majority": "s_k_majority", "s_minority": "s_1_minority"})


def singular_value_gap(R_true, user_group, item_group, alpha: float, majority_rank: int | None = None) -> GapCheck:
    """Check the gap condition on the majority and minority blocks of ``R_true``.

    ``majority_rank`` (k_maj) defaults to the numerical rank of R_maj (singular values above
    ``max(shape) * eps * s_1``).
    """
    R_true = check_preferences(R_true)
    alpha = check_alpha(alpha)
    users = np.asarray(user_group)
    items = np.asarray(item_group)
    if users.shape != (R_true.shape[0],) or items.shape != (R_true.shape[1],):
        raise InvalidParameterError("user_group / item_group must have one label per user / item")
    R_maj = R_true[np.ix_(users == 0, items == 0)]
    R_min = R_true[np.ix_(users == 1, items == 1)]
    s_maj = np.linalg.svd(R_maj, compute_uv=False) if R_maj.size else np.zeros(0)
    s_min = np.linalg.svd(R_min, compute_uv=False) if R_min.size else np.zeros(0)
    if majority_rank is None:
        floor = max(R_maj.shape, default=0) * np.finfo(float).eps * (s_maj[0] if s_maj.size else 0.0)
        majority_rank = int(np.count_nonzero(s_maj > floor))
    s_k = float(s_maj[majority_rank - 1]) if 0 < majority_rank <= s_maj.size else 0.0
    s_1 = float(s_min[0]) if s_min.size else 0.0
    return GapCheck(
        holds=bool(majority_rank > 0 and s_k > alpha >= s_1),
        majority_rank=int(majority_rank),
        s_majority=s_k,
        s_minority=s_1,
        alpha=alpha,
    )


def _low_rank_block(rng, n_rows, n_cols, rank, scale, noise):
    block = rng.uniform(0.0, 1.0, (n_rows, rank)) @ rng.uniform(0.0, 1.0, (rank, n_cols))
    block *= scale / block.mean()
    if noise > 0:
        block = np.maximum(block + rng.normal(0.0, noise * scale, block.shape), 0.0)
    return block


def majority_minority(
    n_majority_users: int = 60,
    n_minority_users: int = 15,
    n_majority_items: int = 40,
    n_minority_items: int = 10,
    *,
    majority_rank: int = 2,
    minority_rank: int = 1,
    majority_scale: float = 1.0,
    minority_scale: float = 0.2,
    noise: float = 0.0,
    alpha: float | None = None,
    alpha_position: float = 0.1,
    rng: np.random.Generator | int | None = 0,
) -> GameInstance:
    """Generate a block-diagonal majority–minority instance (majority rows and items first).

    Each block is U V^T with U, V uniform on [0, 1] of the stated rank, rescaled so its mean entry equals its
    ``*_scale``; ``noise`` adds Gaussian noise of standard deviation ``noise * scale`` inside each block (then
    clips at 0), so cross-group preferences stay exactly 0.

    When ``alpha`` is None it is placed a fraction ``alpha_position`` of the way from s_1(R_min) up to
    s_{k_maj}(R_maj), which satisfies the gap condition; if the blocks leave no gap an error says which
    knob to turn.
    """
    sizes = {
        "n_majority_users": n_majority_users,
        "n_minority_users": n_minority_users,
        "n_majority_items": n_majority_items,
        "n_minority_items": n_minority_items,
        "majority_rank": majority_rank,
        "minority_rank": minority_rank,
    }
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError(f"{name} must be an integer >= 1; got {value!r}")
    if majority_rank > min(n_majority_users, n_majority_items):
        raise InvalidParameterError(f"majority_rank={majority_rank} exceeds the majority block's size")
    if minority_rank > min(n_minority_users, n_minority_items):
        raise InvalidParameterError(f"minority_rank={minority_rank} exceeds the minority block's size")
    for name, value in {"majority_scale": majority_scale, "minority_scale": minority_scale}.items():
        if not np.isfinite(value) or value <= 0:
            raise InvalidParameterError(f"{name} must be a finite number > 0; got {value!r}")
    if not np.isfinite(noise) or noise < 0:
        raise InvalidParameterError(f"noise must be a finite number >= 0; got {noise!r}")
    if not 0 < alpha_position < 1:  # 0 would put alpha exactly on s_1(R_min), where rounding decides k*
        raise InvalidParameterError(f"alpha_position must lie in (0, 1); got {alpha_position!r}")

    gen = as_generator(rng)
    R_maj = _low_rank_block(gen, n_majority_users, n_majority_items, majority_rank, majority_scale, noise)
    R_min = _low_rank_block(gen, n_minority_users, n_minority_items, minority_rank, minority_scale, noise)
    n_users = n_majority_users + n_minority_users
    n_items = n_majority_items + n_minority_items
    R_true = np.zeros((n_users, n_items))
    R_true[:n_majority_users, :n_majority_items] = R_maj
    R_true[n_majority_users:, n_majority_items:] = R_min
    user_group = np.r_[np.zeros(n_majority_users, np.int8), np.ones(n_minority_users, np.int8)]
    item_group = np.r_[np.zeros(n_majority_items, np.int8), np.ones(n_minority_items, np.int8)]

    if alpha is None:
        gap = singular_value_gap(R_true, user_group, item_group, 0.0, majority_rank)
        if gap.s_majority <= gap.s_minority:
            raise InvalidParameterError(
                f"no singular-value gap: s_{majority_rank}(R_maj) = {gap.s_majority:.4g} <= "
                f"s_1(R_min) = {gap.s_minority:.4g}; lower minority_scale or the minority block's size, "
                "or raise majority_scale"
            )
        alpha = gap.s_minority + alpha_position * (gap.s_majority - gap.s_minority)
    return GameInstance(R_true, check_alpha(alpha), None, user_group, item_group)


def save_instance(instance: GameInstance, path: str | Path) -> Path:
    """Write ``instance`` to ``path`` (.npz, no pickles) atomically: a temporary file, then a rename."""
    from recollective._files import atomic_write_bytes

    path = Path(path)
    if path.suffix != ".npz":
        raise InvalidParameterError(f"instance files end in .npz; got {str(path)!r}")
    if path.is_dir():
        raise InvalidParameterError(f"{path} is a folder; give the name of the instance file to write (*.npz)")
    arrays = {"R_true": instance.R_true, "alpha": np.float64(instance.alpha)}
    for name in ("R_reported", "user_group", "item_group"):
        value = getattr(instance, name)
        if value is not None:
            arrays[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, lambda handle: np.savez(handle, **arrays), fsync=False)  # no temporary left behind
    return path


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with files, or an empty one


def _not_an_archive(head: bytes) -> str:
    """What a file that is not a zip archive seems to be, from its first bytes."""
    if not head:
        return "it is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it holds a single .npy array, not an archive"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "it is a binary file but not a zip archive of arrays"
    return "it is a text file, not a zip archive of arrays"


def load_instance(path: str | Path, alpha: float | None = None) -> GameInstance:
    """Read and validate an instance file; ``alpha`` overrides (or supplies) the file's alpha."""
    from recollective._files import open_regular

    path = Path(path)
    with open_regular(path, "an instance file (.npz, written by `recollective game generate`)") as handle:
        head = handle.read(512)  # a folder, FIFO or device is refused above, naming what it is
    problem = None if head.startswith(_ZIP_MAGIC) else _not_an_archive(head)
    if problem is None:
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except ValueError as exc:  # numpy's own words suggest allow_pickle=True, which is never the answer here
            problem = "it holds object (pickled) arrays, which are never loaded" if "pickle" in str(exc) else str(exc)
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
            problem = f"a damaged zip archive: {exc}"
    if problem is not None:
        raise DataError(f"{path}: not a readable .npz file ({problem}); write one with `recollective game generate`")
    if "R_true" not in arrays:
        raise DataError(f"{path}: the file has no 'R_true' array (found: {sorted(arrays) or 'nothing'})")
    R_true = check_preferences(arrays["R_true"], f"{path}: R_true")
    R_reported = arrays.get("R_reported")
    if R_reported is not None:
        R_reported = check_revealed(R_reported, R_true.shape, f"{path}: R_reported")
    if alpha is None:
        if "alpha" not in arrays:
            raise DataError(f"{path}: the file has no scalar 'alpha'; add one or pass --alpha")
        if arrays["alpha"].size != 1:
            raise DataError(f"{path}: 'alpha' must be a scalar; got an array of shape {arrays['alpha'].shape}")
        alpha = arrays["alpha"].reshape(()).item()
    try:
        alpha = check_alpha(alpha, f"{path}: alpha")
    except InvalidParameterError as exc:
        raise DataError(str(exc)) from None
    groups = {}
    for name, size in (("user_group", R_true.shape[0]), ("item_group", R_true.shape[1])):
        labels = arrays.get(name)
        if labels is not None:
            if labels.shape != (size,) or not np.isin(labels, (0, 1)).all():
                raise DataError(f"{path}: {name} must hold {size} labels in {{0, 1}}")
            labels = labels.astype(np.int8)
        groups[name] = labels
    return GameInstance(R_true, alpha, R_reported, groups["user_group"], groups["item_group"])
