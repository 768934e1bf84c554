"""Executors: one ``imap_unordered(fn, tasks)`` interface over a local process pool and a Ray cluster.

Each yields ``(task_index, result)`` as tasks finish (in any order); every task runs with BLAS/OpenMP pools and
torch limited to one thread (:func:`recollective.experiments._cells.pinned_threads` inside the task), so results
never depend on the executor or the worker count. Ray is imported only by :class:`RayExecutor`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from recollective.errors import InvalidParameterError, RecollectiveError, did_you_mean

__all__ = ["EXECUTORS", "LocalExecutor", "RayExecutor", "make_executor"]

EXECUTORS = ("local", "ray")

logger = logging.getLogger(__name__)


def _init_worker() -> None:
    """Pool-worker start: limit every thread pool loaded so far to one thread for the worker's lifetime."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


class LocalExecutor:
    """Run tasks in this process (``workers=1``) or in a pool of ``workers`` spawned processes."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = int(workers)
        self.description = f"local, {self.workers} worker{'s' if self.workers > 1 else ''}"

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap_unordered(self, fn: Callable, tasks: Sequence[tuple], shared=None) -> Iterator[tuple[int, object]]:
        """``(index, fn(*tasks[index]))`` as tasks finish. ``shared`` is ignored: in this process the inputs are
        cached already, and pool processes build their own (copying them into every task would cost more)."""
        if self.workers == 1 or len(tasks) <= 1:
            for index, args in enumerate(tasks):
                yield index, fn(*args)
            return
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
        )
        try:
            pending = {pool.submit(fn, *args): index for index, args in enumerate(tasks)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    yield pending.pop(future), future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _ray_task(fn: Callable, shared, args: tuple):
    """One Ray task: Ray hands ``shared`` over from its object store (a top-level argument given as an ObjectRef)."""
    return fn(*args) if shared is None else fn(*args, inputs=shared)


class RayExecutor:
    """Run tasks as Ray tasks (one CPU each) on the cluster at ``address`` or on a local Ray started here.

    Parameters
    ----------
    workers : int
        CPUs of the local Ray instance when ``address`` is None (ignored with an address: the cluster decides).
    address : str, optional
        ``HOST:PORT`` of a running cluster's head (``ray start --head --port=PORT``).
    """

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidParameterError(
                "--executor ray needs the ray package; install it with pip install 'ray==2.60.0'"
            ) from None
        self._ray = ray
        self.workers = int(workers)
        self.address = address
        self._started = False
        self.description = f"ray at {address}" if address else f"ray, local, {self.workers} CPUs"

    def __enter__(self) -> RayExecutor:
        ray = self._ray
        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
                       "configure_logging": True}
            try:
                if self.address:
                    ray.init(address=self.address, **options)
                else:
                    ray.init(address="local", num_cpus=self.workers, **options)
            except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
                # AuthenticationError (a missing or wrong token) is a RayError, not one of the builtin errors
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
                hint = (
                    "; check --address HOST:PORT (the head's port from ray start --head --port=PORT); for a "
                    "cluster with token authentication set RAY_AUTH_MODE=token and give this machine the head's "
                    "token: RAY_AUTH_TOKEN_PATH=FILE (a file holding it), RAY_AUTH_TOKEN=TOKEN or ~/.ray/auth_token"
                    if self.address
                    else ""
                )
                raise InvalidParameterError(
                    f"cannot start or reach {where}: {' '.join(str(exc).split())[:300]}{hint}"
                ) from None
            self._started = True
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False

    def imap_unordered(self, fn: Callable, tasks: Sequence[tuple], shared=None) -> Iterator[tuple[int, object]]:
        """``(index, fn(*tasks[index]))`` as tasks finish; with ``shared``, ``fn(*tasks[index], inputs=shared)``,
        ``shared`` put into the cluster's object store once for the whole run (not once per task), so that the
        nodes need neither the data files nor to rebuild what the driver built."""
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=2)(_ray_task)
        shared_ref = None if shared is None else ray.put(shared)
        pending = {remote.remote(fn, shared_ref, args): index for index, args in enumerate(tasks)}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    index = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        if isinstance(exc.cause, RecollectiveError):  # the library's own error, without Ray's wrapper
                            raise exc.cause from None
                        raise
                    yield index, result
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


def make_executor(kind: str = "local", workers: int = 1, address: str | None = None):
    """A :class:`LocalExecutor` or :class:`RayExecutor` (InvalidParameterError naming the option otherwise)."""
    if kind not in EXECUTORS:
        raise InvalidParameterError(
            f"--executor must be one of {', '.join(EXECUTORS)}; got {kind!r}{did_you_mean(kind, EXECUTORS)}"
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"--workers must be an integer >= 1; got {workers!r}")
    if kind == "local":
        if address is not None:
            raise InvalidParameterError("--address is for --executor ray; leave it out with --executor local")
        return LocalExecutor(workers)
    if address is not None and (":" not in address or not address.rsplit(":", 1)[1].isdigit()):
        raise InvalidParameterError(f"--address must be HOST:PORT (for example 127.0.0.1:6379); got {address!r}")
    return RayExecutor(workers, address)
