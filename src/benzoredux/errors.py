"""Exceptions with messages a practice assistant or a developer can act on.

Every message names the table (or file), the column, and where possible the row and value; it
never contains personal data beyond what identifies the row (values of sensitive columns are
shown as ``<hidden>``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BenzoreduxError",
    "ColumnTypeError",
    "DataCoverageWarning",
    "InvalidRowsError",
    "MissingColumnsError",
    "UnknownCodesWarning",
]


class BenzoreduxError(Exception):
    """Base class of the library's own errors."""


class MissingColumnsError(BenzoreduxError, KeyError):
    """A required column is missing; the message lists the columns that were found."""

    def __init__(self, table: str, missing: Sequence[str], found: Sequence[str]) -> None:
        self.table = table
        self.missing = tuple(missing)
        self.found = tuple(found)
        super().__init__(
            f"{table}: missing required column(s) {', '.join(map(repr, missing))}; "
            f"columns found: {', '.join(map(repr, found)) or 'none'}"
        )

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class ColumnTypeError(BenzoreduxError, TypeError):
    """A column holds the wrong kind of values (for example dates stored as text)."""

    def __init__(self, table: str, column: str, expected: str, found: str, hint: str = "") -> None:
        self.table = table
        self.column = column
        super().__init__(
            f"{table}: column {column!r} must hold {expected} values, but its type is {found}{hint}"
        )


class InvalidRowsError(BenzoreduxError, ValueError):
    """Some rows cannot be used; the message shows where and why (at most ten examples)."""

    def __init__(
        self, table: str, rows_in: int, rows_rejected: int, examples: Sequence[str]
    ) -> None:
        self.table = table
        self.rows_in = rows_in
        self.rows_rejected = rows_rejected
        self.examples = tuple(examples)
        shown = "".join(f"\n  {line}" for line in examples)
        more = rows_rejected - len(examples)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{table}: {rows_rejected} of {rows_in} rows cannot be used:{shown}{tail}\n"
            f"benzoredux.validate_{table}() returns the usable rows and the rejected rows with "
            "their reasons."
        )


class DataCoverageWarning(UserWarning):
    """The data do not cover the period a rule looks at, so its answer may be wrong."""


class UnknownCodesWarning(UserWarning):
    """Dispensings carry ATC codes of the selection's groups that the library does not know.

    A code that starts like a benzodiazepine or complex co-medication group but is in neither
    today's WHO index nor the retired codes the library recognises (``data/atc_codes.csv``) is
    mistyped, retired long ago or newer than the library. The selection still counts it in the
    group its code starts with, and says so with this warning, naming the codes and how many
    rows carry them (codes only: never a patient);
    :func:`~benzoredux.selection.unknown_code_rows` lists the rows.
    """
