"""The result of reading a source: canonical tables, rejected rows with reasons, and counts.

Every reader, built-in or plugin, returns a :class:`ReadResult` (the return type of
:meth:`benzoredux.hookspecs.Reader.read`), so a caller handles any format the same way: the usable
rows per canonical table, every problem with its file, line or record, column, value and reason,
and counts that reconcile (``rows_read == rows_valid + rows_rejected``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from attrs import field, frozen

from benzoredux.errors import BenzoreduxError, describe_value
from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS, TableSchema, shown_value

__all__ = ["PROBLEM_COLUMNS", "ReadError", "ReadResult", "TableCounts", "UnknownFormatError"]

PROBLEM_COLUMNS = ("table", "file", "line", "record", "column", "source_column", "value", "reason")
"""The columns of :attr:`ReadResult.rejected`, one row per problem."""

HIDDEN = "<hidden>"
"""What a rejected value of a column holding personal data is shown as."""


class ReadError(BenzoreduxError, ValueError):
    """A source cannot be read, or (strict mode) some of its rows cannot be used.

    ``result`` holds the full :class:`ReadResult` when the source was read: the message shows
    at most twenty problems, ``result.rejected`` all of them.
    """

    def __init__(self, message: str, result: ReadResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class UnknownFormatError(ReadError):
    """No reader (or more than one, equally sure) recognises the source; the message lists
    every known format."""


@frozen
class TableCounts:
    """How many rows of one table were read, kept and rejected."""

    table: str
    rows_read: int
    rows_valid: int
    rows_rejected: int

    @property
    def reconciles(self) -> bool:
        """Whether every row read was either kept or rejected."""
        return self.rows_read == self.rows_valid + self.rows_rejected


def plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``value``: the converter of mapping fields (the caller's dict is not kept)."""
    return dict(value)


def empty_problems() -> pd.DataFrame:
    """A problems table with :data:`PROBLEM_COLUMNS` and no rows."""
    return problem_frame(
        table=[], file=[], line=[], record=[], column=[], source_column=[], value=[], reason=[]
    )


@frozen(kw_only=True)
class ReadResult:
    """What a reader returns: canonical tables, rejected rows with reasons, and counts.

    Tables are pandas DataFrames with the canonical column names (and any extra columns the
    format documents); dates are ``datetime64`` and numbers ``float64``; text columns use
    pandas' string dtype.
    """

    format: str
    """The name of the reader that read the source."""
    source: Path
    tables: Mapping[str, pd.DataFrame] = field(converter=plain_dict)
    """The usable rows by table name (``dispensings``, ``patients``, ``episodes``)."""
    rejected: pd.DataFrame = field(factory=empty_problems)
    """One row per problem, columns :data:`PROBLEM_COLUMNS`: the table, file, line (or
    ``record`` for sources without lines, such as FHIR), the canonical ``column`` and the
    export's ``source_column``, the ``value`` as written (``<hidden>`` for personal data) and
    the ``reason``. A row with two problems appears twice. Like the export, this is patient
    data: :meth:`report` and the errors quote a value only when it cannot be personal data
    (:doc:`/privacy`)."""
    counts: Mapping[str, TableCounts] = field(converter=plain_dict)
    ignored: Mapping[str, int] = field(factory=dict, converter=plain_dict)
    """Records read but deliberately not turned into rows (FHIR resources of other types,
    cancelled dispenses, ...), counted by what they are."""
    notes: tuple[str, ...] = ()
    """What a person checking the import should know (unused columns, the preamble skipped)."""

    @property
    def dispensings(self) -> pd.DataFrame | None:
        """The dispensings table, if the source has one."""
        return self.tables.get("dispensings")

    @property
    def patients(self) -> pd.DataFrame | None:
        """The patients table, if the source has one."""
        return self.tables.get("patients")

    @property
    def episodes(self) -> pd.DataFrame | None:
        """The episodes table, if the source has one."""
        return self.tables.get("episodes")

    @property
    def rows_rejected(self) -> int:
        """Rejected rows over all tables."""
        return sum(c.rows_rejected for c in self.counts.values())

    @property
    def reconciles(self) -> bool:
        """Whether the counts of every table reconcile with each other and with the tables."""
        return all(
            c.reconciles and len(self.tables.get(name, ())) == c.rows_valid
            for name, c in self.counts.items()
        )

    def report(self, limit: int = 20) -> str:
        """The problems as lines a person can act on (at most ``limit``, then a count)."""
        lines = [_describe_problem(row) for row in self.rejected.head(limit).itertuples()]
        more = len(self.rejected) - limit
        if more > 0:
            lines.append(f"... and {more} more (ReadResult.rejected lists them all)")
        return "\n".join(lines)

    def raise_if_rejected(self) -> None:
        """Raise :class:`ReadError` with every problem if any row was rejected."""
        if len(self.rejected):
            rows = ", ".join(
                f"{c.rows_rejected} of the {c.rows_read} rows of {name}"
                for name, c in self.counts.items()
                if c.rows_rejected
            )
            found = len(self.rejected)
            raise ReadError(
                f"{self.source.name} ({self.format}): {rows} cannot be used "
                f"({found} {'problem' if found == 1 else 'problems'}):\n{self.report()}\n"
                "read_source(..., strict=False) returns the usable rows and the rejected rows "
                "with their reasons.",
                self,
            )


def _describe_problem(row: Any) -> str:
    where = f"{row.file}"
    if not pd.isna(row.line):
        where += f", line {int(row.line)}"
    elif not pd.isna(row.record):
        where += f", {row.record}"
    if not pd.isna(row.column):
        shown = row.source_column if not pd.isna(row.source_column) else row.column
        where += f", column {shown!r}"
        if shown != row.column:
            where += f" ({row.column})"
    return f"{where}: {row.reason}{_value_in_message(row)}"


_SCHEMAS: Mapping[str, TableSchema] = {s.name: s for s in (DISPENSINGS, PATIENTS, EPISODES)}


def _value_in_message(row: Any) -> str:
    """The rejected value as a message may show it (:doc:`/privacy`): quoted only when its
    column allows it and it has that column's harmless shape
    (:func:`~benzoredux.tables.shown_value`), otherwise described by its kind; nothing when
    the problem concerns no single cell.

    :attr:`ReadResult.rejected` keeps the value itself (it is patient data, like the export);
    a message goes to a terminal, a log or a support ticket, so it does not.
    """
    if pd.isna(row.value):
        return ""
    if row.value == HIDDEN:
        return " (value hidden)"
    schema = _SCHEMAS.get(str(row.table))
    names = {c.name for c in schema.columns} if schema is not None else set()
    if schema is not None and not pd.isna(row.column) and row.column in names:
        shown = shown_value(schema.column(str(row.column)), str(row.value))
        if shown is not None:
            return f" (value {shown})"
    return f" (value hidden: {describe_value(str(row.value))})"


def problem_frame(
    *,
    table: Sequence[str] | np.ndarray[Any, Any],
    file: Sequence[str] | np.ndarray[Any, Any],
    line: Sequence[Any] | np.ndarray[Any, Any],
    record: Sequence[Any] | np.ndarray[Any, Any],
    column: Sequence[Any] | np.ndarray[Any, Any],
    source_column: Sequence[Any] | np.ndarray[Any, Any],
    value: Sequence[Any] | np.ndarray[Any, Any],
    reason: Sequence[str] | np.ndarray[Any, Any],
) -> pd.DataFrame:
    """A frame of problems with the columns :data:`PROBLEM_COLUMNS`, typed."""
    text = pd.StringDtype()
    return pd.DataFrame(
        {
            "table": pd.array(table, dtype=text),
            "file": pd.array(file, dtype=text),
            "line": pd.array(line, dtype="Int64"),
            "record": pd.array(record, dtype=text),
            "column": pd.array(column, dtype=text),
            "source_column": pd.array(source_column, dtype=text),
            "value": pd.array(value, dtype=text),
            "reason": pd.array(reason, dtype=text),
        }
    )
