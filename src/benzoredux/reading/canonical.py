"""Reading canonical tables from files already in the canonical layout (CSV or Parquet).

Vendor exports (``;``-separated, decimal commas, day-first dates) are the adapters' work. This
reader takes files that already use the canonical column names, ISO dates (``YYYY-MM-DD``) and
``.`` decimals, and reads them strictly: a value that does not parse is an error naming the file,
line and column, never a guess and never a silent gap. The message quotes the value only when it
cannot be personal data (:func:`~benzoredux.tables.shown_value`) and describes it otherwise.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benzoredux.errors import (
    BenzoreduxError,
    IdentifierWarning,
    MissingColumnsError,
    describe_value,
)
from benzoredux.tables import Kind, TableSchema, shown_value

__all__ = ["FileFormatError", "read_canonical"]

_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


class FileFormatError(BenzoreduxError, ValueError):
    """A file's values do not parse; the message names file, line and column, and quotes the
    value only when it cannot be personal data."""


def _cells(file: Path) -> tuple[pd.DataFrame, list[int]]:
    """The CSV's cells as text (missing when empty), and the line each row starts on.

    Split by the text reader (:func:`~benzoredux.reading.text.read_text_table`), not by
    pandas' parser: a trailing separator, as spreadsheets write it, adds no column, where
    pandas would take the first column for an index when the rows have one field more than the
    header and shift every value one column (a date under ``icpc``), or fail on the index's
    line numbers. A line with the wrong number of fields is an error naming the line.
    """
    from benzoredux.reading.text import LINE, read_text_table

    table = read_text_table(file, encoding="utf-8", separator=",")
    if table.bad_lines:
        raise FileFormatError(
            "\n".join(f"{file.name}, line {line}: the line {why}" for line, why in table.bad_lines)
        )
    cells = pd.DataFrame(
        {name: pd.Series(table.rows[name].tolist(), dtype=str) for name in table.header},
        index=pd.RangeIndex(len(table.rows)),
    )
    return cells, table.rows[LINE].tolist()


def read_canonical(path: str | os.PathLike[str], schema: TableSchema) -> pd.DataFrame:
    """Read a canonical CSV (UTF-8, ``,``-separated, ISO dates) or Parquet file for ``schema``.

    A trailing separator on the header or the rows adds no column; blank lines are skipped.

    :warns ~benzoredux.errors.IdentifierWarning: when a BSN fails the 11-test or a postcode is
        no Dutch postcode (:mod:`benzoredux.reading.identifiers`); the rows are kept, as the
        readers keep them.
    """
    file = Path(path)
    if file.suffix.lower() in {".parquet", ".pq"}:
        frame = pd.read_parquet(file)
        _warn_identifiers(frame, file, [None] * len(frame))
        return frame
    raw, lines = _cells(file)
    missing = [name for name in schema.required if name not in raw.columns]
    if missing:
        raise MissingColumnsError(f"{file.name} ({schema.name})", missing, list(raw.columns))
    problems: list[str] = []
    for column in schema.columns:
        if column.name not in raw.columns or column.kind is Kind.TEXT:
            continue
        text = raw[column.name]
        parsed: pd.Series[Any]
        if column.kind is Kind.DATE:
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            expected = "an ISO date (YYYY-MM-DD)"
        elif column.kind is Kind.BOOLEAN:
            parsed = text.str.strip().str.lower().map(_BOOLEANS).astype("boolean")
            expected = "true or false (or 1 or 0)"
        else:
            parsed = pd.to_numeric(text, errors="coerce")
            expected = "a number with a '.' decimal point"
        for index in text.index[text.notna() & parsed.isna()][:10]:
            value = text[index]
            shown = shown_value(column, value)
            if shown is None:
                shown = "the value" if column.sensitive else f"the value ({describe_value(value)})"
            problems.append(
                f"{file.name}, line {lines[index]}, column {column.name!r}: {shown} is not "
                f"{expected}"
            )
        raw[column.name] = parsed
    if problems:
        raise FileFormatError("\n".join(problems))
    _warn_identifiers(raw, file, lines)
    return raw


def _warn_identifiers(frame: pd.DataFrame, file: Path, lines: list[Any]) -> None:
    from benzoredux.reading.identifiers import identifier_warnings

    for message in identifier_warnings(frame, files=[file.name] * len(frame), lines=lines):
        warnings.warn(message, IdentifierWarning, stacklevel=3)
