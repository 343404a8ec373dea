"""What every command shares, each defined once: the kinds of path it takes, the register
options (``--register``, ``--no-register``, ``--by``) and how it reports the files it wrote, so
the commands read and answer alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from benzoredux.register import default_by

__all__ = [
    "BY",
    "CLOCK_TIME",
    "INPUT_FILE",
    "ISO_DATE",
    "OUT_FOLDER",
    "REGISTER_FILE",
    "REGISTER_LOCATION",
    "echo_written",
    "register_options",
]

INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
"""An existing file a step reads (click checks it before the command runs)."""

OUT_FOLDER = click.Path(file_okay=False, path_type=Path)
"""The folder a step writes into (made when missing)."""


class IsoDate(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.3 on
    """A calendar date given as ``YYYY-MM-DD``; anything else is a usage error (exit 2) that
    shows the form, and for a Dutch day-first date the same day written the ISO way."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import datetime as dt

        from benzoredux.dates import parse_reference_date

        if isinstance(value, dt.date):
            return value
        try:
            return parse_reference_date(str(value))
        except ValueError:
            hint = ""
            day_first = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})-(\d{4})\s*", str(value))
            if day_first:
                day, month, year = day_first.groups()
                hint = f" (for that day: {year}-{int(month):02d}-{int(day):02d})"
            self.fail(f"{value!r} is not a date written YYYY-MM-DD{hint}", param, ctx)


ISO_DATE = IsoDate()
"""The type of every date option: ``--reference-date 2025-12-31``."""


class ClockTime(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.3 on
    """A time of day written ``HH:MM``; anything else (``9u``, ``9.30``) is a usage error
    (exit 2) that shows the form (:func:`benzoredux.schedule.slot_time`)."""

    name = "HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from benzoredux.schedule import ScheduleError, slot_time

        try:
            return slot_time(value)
        except ScheduleError as error:
            self.fail(str(error).replace("the slot time ", "", 1), param, ctx)


CLOCK_TIME = ClockTime()
"""The type of a time-of-day option: ``--slot-time 09:00``."""


def echo_written(paths: Iterable[Path]) -> None:
    """List the files a step wrote; they hold patient data, so they are the user's only."""
    click.echo("Written (readable by you only):")
    for path in paths:
        click.echo(f"  {path}")


REGISTER_FILE = "programme.sqlite"
"""The register's file name when ``--register`` is not given."""

REGISTER_LOCATION = click.Path(dir_okay=False)
"""A register file, or ``NAME://...`` for a store an add-on registered (kept as text: a path
type would fold the ``//``)."""

BY = click.option(
    "--by",
    default=default_by,
    show_default="your login name",
    help="Who does this (recorded in the register's audit trail).",
)
"""``--by``: who acts, for the register's audit trail (:func:`benzoredux.register.default_by`)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def register_options(command: _F) -> _F:
    """Add ``--register``, ``--no-register`` and ``--by`` to a step command."""
    command = BY(command)
    command = click.option(
        "--no-register",
        is_flag=True,
        help="Record nothing in the programme register.",
    )(command)
    return click.option(
        "--register",
        "register_file",
        type=REGISTER_LOCATION,
        help=f"The programme register to record this step in (default: {REGISTER_FILE} "
        "in the folder the previous step wrote into; made if it does not exist).",
    )(command)
