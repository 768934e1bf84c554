"""Progress of long commands on stderr: a Rich bar on a terminal, one plain line per step when piped or logged.

Both show what is done, what is left and an estimate of the time left (from the mean time per finished step), so
a sweep run under ``nohup`` or ``| tee`` is as readable as one in a terminal.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from recollective.cli._output import err_console

__all__ = ["StepProgress", "step_progress"]


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class StepProgress:
    """``update(done, total, description)`` after each finished step; see :func:`step_progress`."""

    def __init__(self, bar, task, lines: bool) -> None:
        self._bar, self._task, self._lines = bar, task, lines
        self._started = time.perf_counter()
        self._last_done = -1

    def update(self, done: int, total: int | None, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total, completed=done, description=description)
        if not self._lines or done <= 0 or done == self._last_done:  # a line per *finished* step
            return
        self._last_done = done
        elapsed = time.perf_counter() - self._started
        if total:
            left = f", about {_duration(elapsed / done * (total - done))} left" if 0 < done < total else ""
            err_console.print(f"[{done}/{total}] {description} ({_duration(elapsed)} elapsed{left})",
                              markup=False, highlight=False, soft_wrap=True)
        else:
            err_console.print(f"{description} ({_duration(elapsed)} elapsed)", markup=False, soft_wrap=True)


@contextlib.contextmanager
def step_progress(description: str, *, quiet: bool = False) -> Iterator[StepProgress]:
    """Progress over counted steps on stderr: a transient Rich bar with the time left when stderr is a terminal,
    otherwise a line per finished step (``[done/total] what (elapsed, about ... left)``); nothing when ``quiet``.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    terminal = err_console.is_terminal
    if quiet or not terminal:  # the first line comes with the first finished step (an error before it stays alone)
        yield StepProgress(None, None, lines=not quiet)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield StepProgress(bar, task, lines=False)
