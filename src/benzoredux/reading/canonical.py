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
from typing import TYPE_CHECKING, Any

import pandas as pd
from attrs import frozen

from benzoredux.errors import (
    BenzoreduxError,
    IdentifierWarning,
    MissingColumnsError,
    describe_value,
)
from benzoredux.tables import REASONS, ROW, Kind, Plausibility, TableSchema, shown_value, validate

if TYPE_CHECKING:
    from benzoredux.reading.result import ReadResult

__all__ = ["FileFormatError", "read_canonical", "read_canonical_rows"]

_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


class FileFormatError(BenzoreduxError, ValueError):
    """A file's values do not parse; the message names file, line and column, and quotes the
    value only when it cannot be personal data."""


def _text_table(file: Path) -> Any:
    """The CSV split by the text reader (:func:`~benzoredux.reading.text.read_text_table`),
    not by pandas' parser: a trailing separator, as spreadsheets write it, adds no column, where
    pandas would take the first column for an index when the rows have one field more than the
    header and shift every value one column (a date under ``icpc``), or fail on the index's
    line numbers."""
    from benzoredux.reading.text import read_text_table

    return read_text_table(file, encoding="utf-8", separator=",")


def _cells(table: Any) -> tuple[pd.DataFrame, list[int]]:
    """The text table's cells (missing when empty), and the line each row starts on."""
    from benzoredux.reading.text import LINE

    cells = pd.DataFrame(
        {name: pd.Series(table.rows[name].tolist(), dtype=str) for name in table.header},
        index=pd.RangeIndex(len(table.rows)),
    )
    return cells, table.rows[LINE].tolist()


@frozen
class _Problem:
    """A cell that does not parse: its row, line and column, the value, and the sentence."""

    row: int
    line: int
    column: str
    value: str
    message: str
    """The sentence :func:`read_canonical` raises (file, line, column, the value described)."""
    reason: str
    """The reason :func:`read_canonical_rows` lists."""


def _parse(file: Path, raw: pd.DataFrame, lines: list[int], schema: TableSchema) -> list[_Problem]:
    """Parse ``raw``'s date, number and true/false columns in place (a cell that does not
    parse becomes missing) and return every such cell as a problem."""
    problems: list[_Problem] = []
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
        for index in text.index[text.notna() & parsed.isna()]:
            value = text[index]
            shown = shown_value(column, value)
            if shown is None:
                shown = "the value" if column.sensitive else f"the value ({describe_value(value)})"
            problems.append(
                _Problem(
                    row=int(index),
                    line=lines[index],
                    column=column.name,
                    value=str(value),
                    message=f"{file.name}, line {lines[index]}, column {column.name!r}: {shown} "
                    f"is not {expected}",
                    reason=f"not {expected}",
                )
            )
        raw[column.name] = parsed
    return problems


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
    table = _text_table(file)
    if table.bad_lines:
        raise FileFormatError(
            "\n".join(f"{file.name}, line {line}: the line {why}" for line, why in table.bad_lines)
        )
    raw, lines = _cells(table)
    _check_columns(file, raw, schema)
    problems = _parse(file, raw, lines, schema)
    if problems:
        raise FileFormatError("\n".join(p.message for p in problems[:10]))
    _warn_identifiers(raw, file, lines)
    return raw


def _check_columns(file: Path, raw: pd.DataFrame, schema: TableSchema) -> None:
    missing = [name for name in schema.required if name not in raw.columns]
    if missing:
        raise MissingColumnsError(f"{file.name} ({schema.name})", missing, list(raw.columns))


def read_canonical_rows(
    path: str | os.PathLike[str],
    schema: TableSchema,
    *,
    plausibility: Plausibility | None = None,
) -> ReadResult:
    """Read a canonical file as :func:`read_canonical` does, but go on with the usable rows.

    The rows that cannot be used are left out and come back in
    :attr:`~benzoredux.reading.result.ReadResult.rejected` with their file, line, column and
    reason: a cell that does not parse (by the same strict rules: ISO dates, ``.`` decimals),
    a line with the wrong number of fields, and a row that breaks one of ``schema``'s row
    rules (:func:`~benzoredux.tables.validate`, with ``plausibility``'s bounds: give the run's
    own date, as the step will check them). The counts reconcile, and blank lines are counted
    in :attr:`~benzoredux.reading.result.ReadResult.ignored`. This is what the commands'
    ``--skip-invalid`` reads canonical files with: the same rows are kept as without it, only
    the unusable ones no longer stop the run. A missing required column still raises: no row
    could be used.

    A BSN that fails the 11-test or a postcode that is no Dutch postcode is a warning
    (:class:`~benzoredux.errors.IdentifierWarning`), never a rejected row, as in every reader.
    """
    from benzoredux.reading.identifiers import IDENTIFIER_CHECKS
    from benzoredux.reading.result import ReadResult, TableCounts, empty_problems, problem_frame

    file = Path(path)
    ignored: dict[str, int] = {}
    # A Parquet file has no lines: its rows are named by their number (as records).
    parquet = file.suffix.lower() in {".parquet", ".pq"}
    if parquet:
        raw = pd.read_parquet(file)
        _check_columns(file, raw, schema)
        written = raw  # typed values; _text writes only those of rejected rows as text
        lines: list[Any] = list(range(1, len(raw) + 1))  # row numbers, as records
        problems: list[_Problem] = []
        bad_lines: tuple[tuple[int, str], ...] = ()
    else:
        table = _text_table(file)
        bad_lines = table.bad_lines
        raw, lines = _cells(table)
        _check_columns(file, raw, schema)
        written = raw.copy()
        problems = _parse(file, raw, lines, schema)
        if table.blank_rows:
            ignored["blank lines"] = table.blank_rows
    parsed_bad = {p.row for p in problems}
    # Row rules on the rows whose cells all parsed ("date is missing" after "date is not an
    # ISO date" says nothing new), without the identifier checks (warnings, below).
    candidates = raw.drop(index=sorted(parsed_bad)) if parsed_bad else raw
    checked = validate(candidates, schema, engine="native", plausibility=plausibility)
    warned = {
        r.reason for r in schema.rules if len(r.columns) == 1 and r.columns[0] in IDENTIFIER_CHECKS
    }
    positions = candidates.index.to_numpy()
    rule_rows: list[tuple[int, str, str]] = []
    for row, reasons in zip(
        checked.rejected[ROW].to_numpy(dtype="int64"),
        checked.rejected[REASONS].astype(str),
        strict=True,
    ):
        for reason in reasons.split("; "):
            if reason and reason not in warned:
                columns = checked.rule_columns.get(reason, ())
                column = next((c for c in columns if reason.startswith(f"{c} ")), None)
                rule_rows.append((int(positions[row]), column or "", reason))
    bad = parsed_bad | {row for row, _, _ in rule_rows}
    keep = raw.drop(index=sorted(bad)).reset_index(drop=True) if bad else raw
    kept_lines = [line for i, line in enumerate(lines) if i not in bad]
    _warn_identifiers(keep, file, [None] * len(keep) if parquet else kept_lines)
    found: list[tuple[Any, str | None, str | None, str]] = [
        (p.line, p.column, p.value, p.reason) for p in problems
    ]
    found += [
        (lines[row], column or None, _text(written, row, column), reason)
        for row, column, reason in rule_rows
    ]
    found += [(line, None, None, f"the line {why}") for line, why in bad_lines]
    found.sort(key=lambda f: (f[0] is None, f[0] or 0, f[1] or ""))
    rejected = (
        problem_frame(
            table=[schema.name] * len(found),
            file=[file.name] * len(found),
            line=[None if parquet else f[0] for f in found],
            record=[f"row {f[0]}" if parquet else None for f in found],
            column=[f[1] for f in found],
            source_column=[f[1] for f in found],
            value=[_hidden_or(f[2], f[1], schema) for f in found],
            reason=[f[3] for f in found],
        )
        if found
        else empty_problems()
    )
    rows_read = len(raw) + len(bad_lines)
    return ReadResult(
        format="canonical",
        source=file,
        tables={schema.name: keep},
        rejected=rejected,
        counts={
            schema.name: TableCounts(
                table=schema.name,
                rows_read=rows_read,
                rows_valid=len(keep),
                rows_rejected=rows_read - len(keep),
            )
        },
        ignored=ignored,
    )


def _text(written: pd.DataFrame, row: int, column: str | None) -> str | None:
    if not column or column not in written.columns:
        return None
    value: Any = written.at[row, column]
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()  # a date of a Parquet file, as a CSV would write it
    return str(value)


def _hidden_or(value: str | None, column: str | None, schema: TableSchema) -> str | None:
    """The value as :attr:`ReadResult.rejected` keeps it: ``<hidden>`` for personal data."""
    from benzoredux.reading.result import HIDDEN

    if column and schema.column(column).sensitive:
        return HIDDEN
    return value


def _warn_identifiers(frame: pd.DataFrame, file: Path, lines: list[Any]) -> None:
    from benzoredux.reading.identifiers import identifier_warnings

    for message in identifier_warnings(frame, files=[file.name] * len(frame), lines=lines):
        warnings.warn(message, IdentifierWarning, stacklevel=3)
