"""``--skip-invalid``, shared by every command that reads canonical files or exports
(select, screen, letters, evaluate) or a plan edited by people (plan).

Without it, one unusable row stops the command and the refusal names the option; with it the
command goes on with the usable rows, writes the others with their file, line, column and
reason to ``rejected.csv`` in its output folder (owner-only: it holds the rows' values), says
the counts, and the step records them with the programme
(:class:`benzoredux.Programme`, ``skip_invalid``). The step files benzoredux wrote itself
(chronic_users.csv, screening.csv, schedule.csv) are always read whole: a row missing from
them would leave a patient out of the programme. A row of an edited plan that is left out
keeps its task as it was before the edit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from benzoredux.errors import BenzoreduxError

__all__ = [
    "UnusableRowsError",
    "refusal_names_skip_invalid",
    "skip_invalid_option",
    "write_left_out",
    "write_rejected",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_INPUT_TABLES = frozenset({"dispensings", "patients", "episodes", "consults"})
"""The canonical tables a practice supplies: rows of these may be skipped."""


def skip_invalid_option(command: _F) -> _F:
    """The ``--skip-invalid`` flag, worded alike on every command."""
    return click.option(
        "--skip-invalid",
        is_flag=True,
        help="Go on with the usable rows: the rows that cannot be used are left out, counted, "
        "and written with their file, line, column and reason to rejected.csv in --out "
        "(readable by you only). Without it, one unusable row stops the run.",
    )(command)


class UnusableRowsError(BenzoreduxError, ValueError):
    """Rows of the input cannot be used and ``--skip-invalid`` was not given."""


def skippable(error: BaseException) -> bool:
    """Whether leaving rows out would get past ``error``: some rows of a practice's file
    cannot be used, while the file as a whole can be read."""
    from benzoredux.errors import InvalidRowsError
    from benzoredux.evaluation.plan import PlanRowError
    from benzoredux.reading.canonical import FileFormatError
    from benzoredux.reading.result import ReadError

    if isinstance(error, FileFormatError | PlanRowError):
        return True
    if isinstance(error, InvalidRowsError):
        return error.table in _INPUT_TABLES
    if isinstance(error, ReadError):
        return error.result is not None and bool(len(error.result.rejected))
    return False


@contextlib.contextmanager
def refusal_names_skip_invalid(skip_invalid: bool, nothing: str) -> Iterator[None]:
    """Around a step's reading: without ``--skip-invalid``, a refusal because of unusable rows
    says what was not done (``nothing``, e.g. "Nothing was selected") and names the option."""
    try:
        yield
    except BenzoreduxError as error:
        if skip_invalid or not skippable(error):
            raise
        raise UnusableRowsError(
            f"{error}\n{nothing}. To go on with the usable rows and get the others listed in "
            "rejected.csv, run again with --skip-invalid."
        ) from error


def write_rejected(
    rejected: Sequence[Any], out: Path, *, rows: int | None = None
) -> dict[str, int]:
    """``rejected.csv`` in ``out`` (owner-only: it may hold the rows' values) from the
    problems tables ``rejected``, and its counts (rows left out: ``rows`` when the reader
    counted them, otherwise the distinct places of the problems; problems); the counts are
    said on the terminal. Always written, empty when nothing was left out, so no stale list
    from an earlier run remains."""
    import pandas as pd

    from benzoredux.output import write_csv

    problems = [frame for frame in rejected if frame is not None and "reason" in frame.columns]
    table = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame()
    if rows is not None:
        pass
    elif not len(table):
        rows = 0
    else:
        keys = [c for c in ("file", "line", "record") if c in table.columns]
        rows = len(table.drop_duplicates(keys)) if keys else len(table)
    path = write_csv(table, out / "rejected.csv")
    click.echo(
        f"{rows} row(s) could not be used and were left out (--skip-invalid): "
        f"{len(table)} problem(s) listed with file, line, column and reason in {path}"
        if rows
        else "No rows were left out (--skip-invalid)"
    )
    return {"rows_rejected": rows, "problems": len(table)}


def write_left_out(programme: Any, out: Path) -> dict[str, int]:
    """:func:`write_rejected` for the rows a :class:`benzoredux.Programme` step left out
    (``skip_invalid``), counted once per row (a row with two problems is listed twice)."""
    rejected = programme.rejected
    rows = len(rejected.drop_duplicates(["file", "line", "record"])) if len(rejected) else 0
    return write_rejected([rejected], out, rows=rows)
