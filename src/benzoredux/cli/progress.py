"""Progress bars for long work on the command line, shown only to a person at a terminal.

A bar goes to standard error, so the command's own output (what it wrote, the figures) stays
clean when piped into a file, and it is hidden altogether when standard error is not a terminal
(pipes, cron jobs, tests) or ``BENZOREDUX_NO_PROGRESS`` is set: a log then holds no bar debris.
click's own bar is used (no extra dependency).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["NO_PROGRESS_VARIABLE", "progress_bar", "shows_progress"]

NO_PROGRESS_VARIABLE = "BENZOREDUX_NO_PROGRESS"
"""Set this environment variable (to anything but empty) to hide every progress bar."""


def shows_progress() -> bool:
    """Whether bars are shown: standard error is a terminal and they are not switched off."""
    if os.environ.get(NO_PROGRESS_VARIABLE):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _NoBar:
    """What :func:`progress_bar` gives when nobody watches: it takes the calls and shows nothing."""

    current_item: Any = None

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, n_steps: int, current_item: Any = None) -> None:
        """Nothing to show."""


def progress_bar(
    label: str,
    *,
    length: int,
    item_show_func: Callable[[Any], str | None] | None = None,
) -> Any:
    """A ``click.progressbar`` of ``length`` steps on standard error, or, unless
    :func:`shows_progress`, a stand-in that shows nothing (not even the label).

    Use it as click's: ``with progress_bar("Letters", length=n) as bar: ... bar.update(k)``.
    """
    if not shows_progress():
        return _NoBar()
    return click.progressbar(
        length=length,
        label=label,
        file=sys.stderr,
        show_eta=True,
        show_pos=True,
        item_show_func=item_show_func,
    )
