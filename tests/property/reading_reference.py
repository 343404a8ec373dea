"""The record-by-record reading path as it was before issue 19, kept as the reference.

Issue 19 made the tabular readers fast: pyarrow splits the lines that need no judgement, and
every conversion works on each column's distinct cells. ``test_reading_matches_reference.py``
holds them to this module, which is the code they replaced, copied without change (only its
imports are adapted, and ``SIGNATURE`` is named per reader): Python's :mod:`csv` reads the
file record by record, and pandas converts every cell. Same accepted rows, same rejected rows
with the same reasons, same notes and counts, or the same error.

Functions that issue 19 left as they were (detecting the header, decoding, the schemas and
their checks, the mapping file) are imported from the library.
"""

# ruff: noqa

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
from attrs import evolve, frozen

import benzoredux_adapters._results as results_module
import benzoredux_adapters.delimited as delimited_module
import benzoredux_adapters.his as his_module
from benzoredux.errors import describe_columns, looks_like_data
from benzoredux.reading import split_name_column
from benzoredux.reading.identifiers import IDENTIFIER_CHECKS, identifier_warnings
from benzoredux.reading.mapping import TABLES, SourceMapping
from benzoredux.reading.parsing import describe_date_formats, parse_dates, parse_numbers
from benzoredux.reading.raw import (
    _PAST_ONLY,
    _UPPER,
    BOOLEAN_VALUES,
    Duplicates,
    ParseSettings,
    RawTable,
    _normal,
)
from benzoredux.reading.result import (
    HIDDEN,
    ReadError,
    ReadResult,
    TableCounts,
    empty_problems,
    problem_frame,
)
from benzoredux.reading.text import (
    BLANK_EXAMPLES,
    EXCEL_SUFFIXES,
    LINE,
    TextFileError,
    TextTable,
    _check_names,
    _excel_records,
    _sheet_gaps,
    decode,
    guess_separator,
    header_line_of,
    unused_columns_note,
)
from benzoredux.tables import MAX_QUANTITY, REASONS, ROW, Kind, Plausibility, TableSchema, validate
from benzoredux_adapters import ais as ais_module
from benzoredux_adapters import sfk as sfk_module
from benzoredux_adapters._results import reader_result as _new_reader_result
from benzoredux_adapters._tabular import (
    Layout,
    best_header_score,
    is_header_for,
    mapped_layout,
    mapping_of,
    settings_for,
)
from benzoredux_adapters.ais import DISPENSINGS_LAYOUT, PATIENTS_LAYOUT, _NO, _YES
from benzoredux_adapters.ais import SIGNATURE as AIS_SIGNATURE
from benzoredux_adapters.sfk import LAYOUT, LISTS
from benzoredux_adapters.sfk import SIGNATURE as SFK_SIGNATURE

# --- benzoredux/reading/text.py -----------------------------------------------------------------


def read_text_table(
    path: Path,
    *,
    encoding: str = "auto",
    separator: str | None = None,
    sheet: str | None = None,
    header_line: int | None = None,
    is_header: Callable[[Sequence[str]], bool] | None = None,
    decimal: str = ",",
) -> TextTable:
    """Read ``path`` (CSV/text, or ``.xlsx``) into a :class:`TextTable`.

    ``header_line`` (from 1) fixes where the header is; otherwise the first of the first 20
    records that ``is_header`` accepts is the header (the first record without ``is_header``).
    Without ``separator``, it is guessed from the first lines (:func:`guess_separator`, with
    ``is_header``).
    """
    excel = path.suffix.lower() in EXCEL_SUFFIXES
    blank: list[int] = []
    broken: list[tuple[int, str]] = []
    used_separator: str | None = None
    if excel:
        records, used = _excel_records(path, sheet, decimal), "xlsx"
    else:
        text, used = decode(path.read_bytes(), encoding, path.name)
        used_separator = separator or guess_separator(
            text[: 64 * 1024].splitlines(), None if header_line is not None else is_header
        )
        records, blank, broken = _csv_records(text, used_separator, path.name)
    if not records:
        raise TextFileError(f"{path.name}: the file is empty (or holds only blank lines)")
    if header_line is not None:
        start = next((i for i, (line, _) in enumerate(records) if line >= header_line), None)
        if start is None or records[start][0] != header_line:
            raise TextFileError(f"{path.name}: there is no header on line {header_line}")
    else:
        start = header_line_of([fields for _, fields in records], is_header)
    first_line, header_fields = records[start]
    header = tuple(f.strip() for f in header_fields)
    while header and header[-1] == "":
        header = header[:-1]  # a trailing separator adds no column
    _check_names(header, f"{path.name}, line {first_line}")
    width = len(header)
    good: list[list[str | None]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    for line, fields in records[start + 1 :]:
        cells = list(fields)
        while len(cells) > width and cells[-1].strip() == "":
            cells.pop()
        if excel and len(cells) < width:  # a sheet's row ends at its last cell with a value
            cells.extend([""] * (width - len(cells)))
        if len(cells) != width:
            bad.append((line, f"has {len(cells)} fields where the header has {width}"))
            continue
        good.append([c if c.strip() != "" else None for c in cells])
        lines.append(line)
    bad.extend((line, why) for line, why in broken if line > first_line)
    bad.sort(key=lambda problem: problem[0])
    rows = pd.DataFrame(good, columns=list(header), dtype=object)
    rows[LINE] = pd.Series(lines, dtype="int64")
    above = [(line, " ".join(f for f in fields if f).strip()) for line, fields in records[:start]]
    above += [(line, "") for line, _ in broken if line < first_line]  # a title with a stray quote
    preamble = tuple(title for _, title in sorted(above))
    if excel:
        count, examples = _sheet_gaps([first_line, *(line for line, _ in records[start + 1 :])])
    else:
        after = [line for line in blank if line > first_line]
        count, examples = len(after), tuple(after[:BLANK_EXAMPLES])
    return TextTable(
        path,
        header,
        rows,
        tuple(bad),
        first_line,
        preamble,
        used,
        separator=used_separator,
        blank_rows=count,
        blank_lines=examples,
    )


_LINE_END = re.compile(r"\r\n|\r|\n")
"""Where a line ends, as the csv module counts lines (``newline=""``)."""


def _csv_records(
    text: str, separator: str, name: str
) -> tuple[list[tuple[int, list[str]]], list[int], list[tuple[int, str]]]:
    """``(records, blank lines, broken lines)``: each record with the line it starts on; the
    lines of the records whose every field is empty (an empty line, or only separators and
    spaces); and the records that cannot be split at all, with the reason.

    A record the csv module cannot split (a stray quote, ``"x"y``; a NUL byte; an unclosed
    quote) is one broken record, not a broken file: reading goes on at the next line, so one
    bad record costs one row. The reason names the quote or the NUL, never a cell.
    """
    buffer = io.StringIO(text, newline="")
    records: list[tuple[int, list[str]]] = []
    blank: list[int] = []
    broken: list[tuple[int, str]] = []
    starts: list[int] | None = None
    first = 1  # the line the current reader starts on
    while True:
        reader = csv.reader(buffer, delimiter=separator, strict=True)
        line = first
        try:
            for fields in reader:
                if any(f.strip() for f in fields):
                    records.append((line, fields))
                else:
                    blank.append(line)
                line = first + reader.line_num
            break
        except csv.Error as error:
            broken.append((line, f"cannot be split into fields ({error})"))
            if starts is None:
                starts = [0, *(match.end() for match in _LINE_END.finditer(text))]
            first = line + 1
            if first > len(starts) or starts[first - 1] >= len(text):
                break
            buffer.seek(starts[first - 1])
    return records, blank, broken


# --- benzoredux/reading/raw.py ------------------------------------------------------------------


def raw_table(
    text: TextTable,
    table: str,
    layout: Mapping[str, Sequence[str]],
    *,
    mapping: SourceMapping | None = None,
    settings: ParseSettings | None = None,
    keep: Iterable[str] | None = None,
) -> tuple[RawTable, list[str]]:
    """A :class:`RawTable` from a file's text cells, renamed to canonical names.

    ``layout`` gives, per canonical (or documented extra) column, the export names the format
    uses (matched ignoring case and extra spaces); the mapping file's ``[columns]`` win over it.
    ``keep`` limits the result to these columns (by default: the layout's and the table's), so
    a file that feeds two tables gives each its own columns.
    Returns the table and notes on the export columns left unused.
    """
    renames: dict[str, str] = {}
    by_normal = {_normal(name): name for name in text.header}
    claimed: dict[str, str] = {}
    explicit = mapping.renames(table) if mapping is not None else {}
    explicit_normal = {_normal(k): v for k, v in explicit.items()}
    for canonical, aliases in layout.items():
        if canonical in explicit_normal.values():
            continue  # the mapping file says where this column is
        for alias in aliases:
            name = by_normal.get(_normal(alias))
            if name is not None and name not in claimed:
                claimed[name] = canonical
                break
    absent: dict[str, str] = {}
    for (export_name, canonical), export_normal in zip(
        explicit.items(), explicit_normal, strict=True
    ):
        name = by_normal.get(export_normal)
        if name is not None:
            claimed[name] = canonical
        else:
            absent[canonical] = export_name
    wanted = set(keep) if keep is not None else {*layout, *(c.name for c in TABLES[table].columns)}
    for name, canonical in claimed.items():
        if canonical in wanted:
            renames[name] = canonical
    twice = sorted({c for c in renames.values() if list(renames.values()).count(c) > 1})
    if twice:  # the mapping file names two of the export's columns for one canonical column
        raise ReadError(
            f"{text.file.name}: the mapping file gives the column(s) {', '.join(twice)} "
            "two columns of this file each; name one export column per canonical column"
        )
    frame = text.rows[list(renames)].rename(columns=renames)
    # Not used in this table: unknown to the layout, or mapped to a column of another table
    # (a mapping file's column is never dropped without this note).
    unused = [n for n in text.header if n not in renames]
    notes = []
    if unused:  # a header line that is someone's record is described, not quoted
        listed = (
            describe_columns(text.header) if looks_like_data(text.header) else ", ".join(unused)
        )
        notes.append(f"{text.file.name}: column(s) not used: {listed}")
    for canonical, export_name in absent.items():
        if canonical in wanted and canonical not in TABLES[table].required:
            # A required one stops the read (build_result); an optional one is left empty.
            notes.append(
                f"{text.file.name}: the mapping file names the column {export_name!r} for "
                f"{canonical}, but the file has no column {export_name!r}; {canonical} is "
                "left empty"
            )
    if text.preamble:
        notes.append(f"{text.file.name}: {len(text.preamble)} line(s) before the header skipped")
    if text.blank_rows:
        listed = ", ".join(map(str, text.blank_lines))
        more = ", ..." if text.blank_rows > len(text.blank_lines) else ""
        word = "line" if text.blank_rows == 1 else "lines"
        notes.append(
            f"{text.file.name}: {text.blank_rows} blank row(s) skipped ({word} {listed}{more})"
        )
    used_settings = settings or ParseSettings.dutch(mapping)
    if text.encoding == "xlsx" and "%Y-%m-%d" not in used_settings.date_formats:
        # Date cells of a workbook arrive as ISO text (see benzoredux.reading.text).
        used_settings = ParseSettings(
            date_formats=(*used_settings.date_formats, "%Y-%m-%d"),
            decimal=used_settings.decimal,
            thousands=used_settings.thousands,
            values=used_settings.values,
            today=used_settings.today,
        )
    raw = RawTable(
        table=table,
        frame=frame.reset_index(drop=True),
        file=text.file.name,
        settings=used_settings,
        lines=text.rows[LINE].tolist(),
        source_columns={v: k for k, v in renames.items()},
        unreadable=tuple((line, None, f"line {reason}") for line, reason in text.bad_lines),
        found_columns=text.header,
        mapped_absent={c: n for c, n in absent.items() if c in wanted},
        blank_rows=text.blank_rows,
    )
    return raw, notes


def build_result(
    format: str,
    source: Path,
    raws: Sequence[RawTable],
    *,
    duplicates: Duplicates = "reject",
    extra_forms: Mapping[str, bool] | None = None,
    ignored: Mapping[str, int] | None = None,
    notes: Sequence[str] = (),
    max_quantity: float = MAX_QUANTITY,
) -> ReadResult:
    """Parse, validate and check ``raws`` into a :class:`~benzoredux.reading.result.ReadResult`.

    See the module docstring for the steps. A required column missing from any file raises at
    once (:class:`~benzoredux.reading.result.ReadError`, listing every file's missing columns and
    the columns it has). Row problems never raise here. Implausible values are rejected rows
    too (:class:`~benzoredux.tables.Plausibility`): a reader knows no reference date, so its
    bounds count from the day of reading (``ParseSettings.today``, else the real today), and a
    benzodiazepine's quantity may not exceed ``max_quantity`` units.
    """
    if duplicates not in ("reject", "keep"):
        raise ValueError(f"duplicates must be 'reject' or 'keep', got {duplicates!r}")
    # One day of reading for every table of the source (the bounds of implausible values).
    today = next((raw.settings.today for raw in raws if raw.settings.today is not None), None)
    today = today or dt.date.today()  # noqa: DTZ011 - a local calendar date
    plausibility = Plausibility(today=today, max_quantity=max_quantity)
    missing = []
    for raw in raws:
        schema = TABLES[raw.table]
        absent = [c for c in schema.required if c not in raw.frame.columns]
        if absent:
            columns = raw.found_columns or tuple(map(str, raw.frame.columns))
            missing.append(_missing_columns(raw, absent, describe_columns(columns)))
    if missing:
        hint = (
            "\nCorrect the column names in the mapping file to the names in the file's header line."
            if any(raw.mapped_absent for raw in raws)
            else '\nname the export\'s columns in a mapping file ([columns] "Export name" = '
            '"canonical_name")'
        )
        raise ReadError("\n".join(missing) + hint)
    tables: dict[str, pd.DataFrame] = {}
    counts: dict[str, TableCounts] = {}
    problems: list[pd.DataFrame] = []
    warned: list[str] = []
    for name, schema in TABLES.items():
        group = [raw for raw in raws if raw.table == name]
        if not group:
            continue
        valid, found, count, notes_found = _build_table(
            schema, group, duplicates, extra_forms, plausibility
        )
        tables[name] = valid
        counts[name] = count
        problems.append(found)
        warned += notes_found
    rejected = pd.concat(problems, ignore_index=True) if problems else empty_problems()
    return ReadResult(
        format=format,
        source=source,
        tables=tables,
        rejected=rejected,
        counts=counts,
        ignored=_with_blank_rows(ignored, raws),
        notes=(*notes, *warned),
    )


def _missing_columns(raw: RawTable, absent: Sequence[str], found: str) -> str:
    """A plain sentence on the required columns a file lacks: those a mapping file names by
    the name the mapping file gives them (the name the practice wrote), the others by their
    canonical name."""
    mapped = [c for c in absent if c in raw.mapped_absent]
    unmapped = [c for c in absent if c not in raw.mapped_absent]
    parts = [
        f"the mapping file names the column {raw.mapped_absent[c]!r} for {c}, but the file has "
        f"no column {raw.mapped_absent[c]!r}"
        for c in mapped
    ]
    if unmapped:
        parts.append(f"missing required column(s) {', '.join(map(repr, unmapped))}")
    return f"{raw.file} ({raw.table}): {'; '.join(parts)}; columns found: {found}"


def _with_blank_rows(ignored: Mapping[str, int] | None, raws: Sequence[RawTable]) -> dict[str, int]:
    """``ignored`` plus ``"blank rows"``: the blank rows of every file, each file counted once
    (an export with dispensings and patient details on one row feeds two tables)."""
    counted = dict(ignored or {})
    per_file = {raw.file: raw.blank_rows for raw in raws if raw.blank_rows}
    if per_file:
        counted["blank rows"] = counted.get("blank rows", 0) + sum(per_file.values())
    return counted


def _normalise_text(name: str, text: pd.Series) -> pd.Series:
    """Codes upper case, postcodes as ``1234 AB``, BSNs as 9 digits (8-digit ones padded)."""
    if name in _UPPER:
        return text.str.upper()
    if name == "postcode":
        compact = text.str.replace(r"\s+", "", regex=True).str.upper()
        shaped = compact.str.match(r"^[1-9][0-9]{3}[A-Z]{2}$").fillna(False).astype(bool)
        return text.where(~shaped, compact.str[:4] + " " + compact.str[4:])
    if name == "bsn":
        digits = text.str.replace(r"[\s.\-]", "", regex=True)
        eight = digits.str.match(r"^[0-9]{8}$").fillna(False).astype(bool)
        return digits.where(~eight, "0" + digits)
    return text


def _convert(
    schema: TableSchema, raw: RawTable
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray[Any, Any]]]:
    """Typed columns, the conversion problems ``(position, column, reason)``, and per column
    the mask of cells that failed to convert."""
    settings = raw.settings
    known = {c.name: c for c in schema.columns}
    typed: dict[str, pd.Series] = {}
    failures: dict[str, np.ndarray[Any, Any]] = {}
    found: list[pd.DataFrame] = []
    for name in raw.frame.columns:
        text = raw.frame[name].astype(pd.StringDtype()).str.strip()
        text = text.mask(text == "")
        values = settings.values.get(name)
        if values:
            lookup = {k.casefold(): v for k, v in values.items()}
            mapped = text.str.casefold().map(lookup)
            text = mapped.where(mapped.notna(), text).astype(pd.StringDtype())
        column = known.get(name)
        if column is None or column.kind is Kind.TEXT:
            typed[name] = _normalise_text(name, text)
            continue
        if column.kind is Kind.DATE:
            parsed, failed = parse_dates(
                text,
                settings.date_formats,
                past_only=name in _PAST_ONLY,
                today=settings.today,
            )
            # A plain sentence naming what is expected; the message names the column already.
            reason = f"not a real date written {describe_date_formats(settings.date_formats)}"
        elif column.kind is Kind.BOOLEAN:
            parsed = text.str.casefold().map(BOOLEAN_VALUES).astype("boolean")
            failed = text.notna() & parsed.isna()
            reason = "not true or false (also written 1/0, ja/nee or J/N)"
        else:
            parsed, failed = parse_numbers(
                text, decimal=settings.decimal, thousands=settings.thousands
            )
            notation = "a decimal comma" if settings.decimal == "," else "a decimal point"
            reason = f"not a number written with {notation}"
        typed[name] = parsed
        mask = failed.to_numpy(dtype=bool)
        failures[name] = mask
        positions = np.flatnonzero(mask)
        if len(positions):
            found.append(pd.DataFrame({"pos": positions, "column": name, "reason": reason}))
    frame = pd.DataFrame(typed, index=raw.frame.index)
    problems = (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame({"pos": pd.Series([], dtype="int64"), "column": [], "reason": []})
    )
    return frame, problems, failures


def _blamed(reason: str, columns: Sequence[str]) -> str:
    """The column a rule's problem is reported on: the one its reason starts with."""
    return next((c for c in columns if reason.startswith(f"{c} ")), columns[0])


@frozen
class _Rows:
    """The rows of one table from all its files: typed values and where each row came from."""

    typed: pd.DataFrame
    text: pd.DataFrame
    """The cells as written (after renaming), for showing rejected values."""
    file: np.ndarray[Any, Any]
    line: np.ndarray[Any, Any]
    record: np.ndarray[Any, Any]
    origin: np.ndarray[Any, Any]
    """Index of the :class:`RawTable` each row came from."""
    failed: dict[str, np.ndarray[Any, Any]]
    """Per date or number column: the cells that did not parse."""
    conversion: pd.DataFrame
    """``pos, column, reason`` of the cells that did not parse."""


def _collect(schema: TableSchema, raws: Sequence[RawTable]) -> _Rows:
    typed_parts, conversion, failure_parts = [], [], []
    files, lines, records, origin = [], [], [], []
    offset = 0
    for index, raw in enumerate(raws):
        typed, found, failed = _convert(schema, raw)
        n = len(typed)
        typed_parts.append(typed)
        conversion.append(found.assign(pos=found["pos"] + offset))
        failure_parts.append(failed)
        files.append(np.full(n, raw.file, dtype=object))
        lines.append(np.asarray(raw.lines if raw.lines is not None else [None] * n, dtype=object))
        records.append(
            np.asarray(raw.records if raw.records is not None else [None] * n, dtype=object)
        )
        origin.append(np.full(n, index))
        offset += n
    typed_all = pd.concat(typed_parts, ignore_index=True)
    order = [c.name for c in schema.columns if c.name in typed_all.columns]
    typed_all = typed_all[order + [c for c in typed_all.columns if c not in order]]
    kinds = {c.name: c.kind for c in schema.columns}
    for name in typed_all.columns:
        if kinds.get(name, Kind.TEXT) is Kind.TEXT:  # documented extra columns are text too
            typed_all[name] = typed_all[name].astype(pd.StringDtype())
    names = {n for part in failure_parts for n in part}
    failed_all = {
        name: np.concatenate(
            [
                part.get(name, np.zeros(len(t), dtype=bool))
                for part, t in zip(failure_parts, typed_parts, strict=True)
            ]
        )
        for name in names
    }
    return _Rows(
        typed=typed_all,
        text=pd.concat([raw.frame for raw in raws], ignore_index=True),
        file=np.concatenate(files),
        line=np.concatenate(lines),
        record=np.concatenate(records),
        origin=np.concatenate(origin),
        failed=failed_all,
        conversion=pd.concat(conversion, ignore_index=True),
    )


def _rule_problems(
    schema: TableSchema,
    rows: _Rows,
    extra_forms: Mapping[str, bool] | None,
    plausibility: Plausibility,
) -> pd.DataFrame:
    """``pos, column, reason`` for each row rule of the schema a row breaks."""
    checked = validate(
        rows.typed, schema, engine="auto", forms=extra_forms, plausibility=plausibility
    )
    blame = {reason: _blamed(reason, columns) for reason, columns in checked.rule_columns.items()}
    pairs = pd.DataFrame(
        {
            "pos": checked.rejected[ROW].to_numpy(dtype="int64"),
            "reason": checked.rejected[REASONS].astype(str).str.split("; "),
        }
    ).explode("reason")
    pairs["column"] = pairs["reason"].map(blame)
    # A BSN or postcode that fails its check is a warning (a note), not a rejected row:
    # see benzoredux.reading.identifiers.
    warned = {
        r.reason for r in schema.rules if len(r.columns) == 1 and r.columns[0] in IDENTIFIER_CHECKS
    }
    pairs = pairs[~pairs["reason"].isin(warned)]
    redundant = np.zeros(len(pairs), dtype=bool)
    positions = pairs["pos"].to_numpy(dtype="int64")
    reasons = pairs["reason"].to_numpy(dtype=object)
    for name, mask in rows.failed.items():
        # "date is missing" after "date is not a date" says nothing new.
        redundant |= (reasons == f"{name} is missing") & mask[positions]
    return pairs[~redundant]


def _duplicate_problems(rows: _Rows) -> pd.DataFrame:
    """``pos, column, reason`` for every copy of a row after its first (all columns equal)."""
    keys = list(rows.typed.columns)
    duplicated = rows.typed.duplicated(subset=keys, keep="first").to_numpy()
    positions = np.flatnonzero(duplicated)
    if not len(positions):
        return pd.DataFrame({"pos": positions, "column": [], "reason": []})
    numbers = pd.Series(pd.array(rows.line, dtype="Int64")).astype(pd.StringDtype())
    where = ("line " + numbers).fillna(pd.Series(rows.record, dtype=pd.StringDtype()))
    first = (
        rows.typed.assign(__where=where.to_numpy())
        .groupby(keys, dropna=False, sort=False)["__where"]
        .transform("first")
    )
    reasons = "exact duplicate of " + first.iloc[positions].astype(str)
    return pd.DataFrame({"pos": positions, "column": None, "reason": reasons.to_numpy()})


def _build_table(
    schema: TableSchema,
    raws: Sequence[RawTable],
    duplicates: Duplicates,
    extra_forms: Mapping[str, bool] | None,
    plausibility: Plausibility,
) -> tuple[pd.DataFrame, pd.DataFrame, TableCounts, list[str]]:
    rows = _collect(schema, raws)
    warned = (
        identifier_warnings(
            rows.typed,
            files=list(rows.file),
            lines=list(rows.line),
            source_columns=raws[0].source_columns,
        )
        if schema.name == "patients"
        else []
    )
    parts = [rows.conversion, _rule_problems(schema, rows, extra_forms, plausibility)]
    if duplicates == "reject" and schema.name == "dispensings":
        parts.append(_duplicate_problems(rows))
    found = pd.concat(parts, ignore_index=True).sort_values("pos", kind="stable")
    pos = found["pos"].to_numpy(dtype="int64")
    column_names = found["column"].to_numpy(dtype=object)

    # The value as written in the source (hidden for personal data), the export's column name.
    values = np.full(len(found), None, dtype=object)
    source_columns = np.full(len(found), None, dtype=object)
    sensitive = {c.name for c in schema.columns if c.sensitive}
    for name in {c for c in column_names if isinstance(c, str)}:
        at = column_names == name
        if name in sensitive:
            values[at] = HIDDEN
        elif name in rows.text.columns:
            values[at] = rows.text[name].to_numpy(dtype=object)[pos[at]]
        for index, raw in enumerate(raws):
            source_columns[at & (rows.origin[pos] == index)] = raw.source_columns.get(name, name)

    unreadable = [(raw.file, *u) for raw in raws for u in raw.unreadable]
    n_unreadable = len(unreadable)
    problems = problem_frame(
        table=[schema.name] * (len(found) + n_unreadable),
        file=[*rows.file[pos], *(u[0] for u in unreadable)],
        line=[*rows.line[pos], *(u[1] for u in unreadable)],
        record=[*rows.record[pos], *(u[2] for u in unreadable)],
        column=[*column_names, *([None] * n_unreadable)],
        source_column=[*source_columns, *([None] * n_unreadable)],
        value=[*values, *([None] * n_unreadable)],
        reason=[*found["reason"], *(u[3] for u in unreadable)],
    )
    problems = problems.sort_values(
        ["file", "line"], kind="stable", na_position="last"
    ).reset_index(drop=True)
    rejected_rows = np.zeros(len(rows.typed), dtype=bool)
    rejected_rows[pos] = True
    valid = rows.typed[~rejected_rows].reset_index(drop=True)
    count = TableCounts(
        table=schema.name,
        rows_read=len(rows.typed) + n_unreadable,
        rows_valid=len(valid),
        rows_rejected=int(rejected_rows.sum()) + n_unreadable,
    )
    return valid, problems, count, warned


# --- benzoredux_adapters/_tabular.py and _results.py -------------------------------------------


def read_table_file(
    path: Path,
    mapping: SourceMapping | None,
    *,
    layout: Layout | None = None,
    signature: Sequence[str] = (),
    decimal: str = ",",
    table: str | None = None,
    is_header: Callable[[Sequence[str]], bool] | None = None,
) -> TextTable:
    """The file's text cells, with the mapping file's encoding, separator, sheet and header.

    The header is the first record that ``is_header`` accepts, by default the first with half
    the ``signature`` columns under ``layout`` and the mapping file's names for ``table``
    (:func:`mapped_layout`).
    """
    if is_header is None and layout and signature:
        is_header = is_header_for(mapped_layout(layout, mapping, table), signature)
    return read_text_table(
        path,
        encoding=mapping.encoding if mapping else "auto",
        separator=mapping.separator if mapping else None,
        sheet=mapping.sheet if mapping else None,
        header_line=mapping.header_line if mapping else None,
        is_header=is_header,
        decimal=(mapping.decimal if mapping and mapping.decimal else decimal),
    )


def _kept(values: Sequence[Any] | None, keep: np.ndarray[Any, Any]) -> list[Any] | None:
    return None if values is None else np.asarray(values, dtype=object)[keep].tolist()


def drop_rows(raw: RawTable, bad: np.ndarray[Any, Any], reasons: Sequence[str]) -> RawTable:
    """``raw`` without the rows flagged ``bad``; they become unreadable records with a reason.

    ``reasons`` holds one reason per flagged row, in order.
    """
    positions = np.flatnonzero(bad)
    if not len(positions):
        return raw
    lines = _kept(raw.lines, bad) or [None] * len(positions)
    records = _kept(raw.records, bad) or [None] * len(positions)
    unreadable = tuple(zip(lines, records, reasons, strict=True))
    keep = ~bad
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
        unreadable=(*raw.unreadable, *unreadable),
    )


def distinct_rows(raw: RawTable) -> RawTable:
    """``raw`` with rows whose every cell repeats an earlier row left out (the first is kept).

    For a table derived from another (the patients of a dispensing export, where each patient's
    details repeat on every dispensing); rows that differ stay, so conflicting details for one
    patient are reported by the patients schema.
    """
    keep = ~raw.frame.duplicated(keep="first").to_numpy()
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
    )


def reader_result(
    format: str,
    source: Path,
    raws: Sequence[RawTable],
    options: Mapping[str, Any],
    *,
    notes: Sequence[str] = (),
    ignored: Mapping[str, int] | None = None,
) -> ReadResult:
    return build_result(
        format,
        source,
        raws,
        duplicates=options.get("duplicates", "reject"),
        extra_forms=options.get("extra_forms"),
        max_quantity=options.get("max_quantity", MAX_QUANTITY),
        ignored=ignored,
        notes=notes,
    )


# --- the readers ---------------------------------------------------------------------------------


class AisReader(ais_module.AisReader):
    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read the export into dispensings (and patients, when it has their details)."""
        mapping = mapping_of(options)
        text = read_table_file(
            source, mapping, layout=DISPENSINGS_LAYOUT, signature=AIS_SIGNATURE, table="dispensings"
        )
        settings = settings_for(mapping, options)
        dispensings, notes = raw_table(
            text, "dispensings", DISPENSINGS_LAYOUT, mapping=mapping, settings=settings
        )
        raws = [_apply_return_flag(dispensings)]
        patient_columns = set(PATIENTS_LAYOUT) - {"patient_id"}
        patients, _ = raw_table(
            text,
            "patients",
            PATIENTS_LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=PATIENTS_LAYOUT,
        )
        # A combined name column ("Vries, A. de") becomes the name parts the letters need.
        patients, name_notes = split_name_column(patients)
        if patient_columns & set(patients.frame.columns):
            raws.append(distinct_rows(patients))
            used = set(dispensings.source_columns.values()) | set(patients.source_columns.values())
            notes = [n for n in notes if "not used" not in n]
            notes.extend(unused_columns_note(text, used))
            notes.extend(name_notes)
        return reader_result(
            self.name,
            source,
            raws,
            options,
            notes=notes,
        )


def _apply_return_flag(raw: Any) -> Any:
    """A row flagged ``Retour = J`` is a return: its quantity becomes negative."""
    from attrs import evolve

    if "return" not in raw.frame.columns or "quantity" not in raw.frame.columns:
        # Without Aantal there is nothing to negate: the missing column is reported as such.
        return raw
    flag = raw.frame["return"].astype("string").str.strip().str.casefold()
    yes = flag.isin(_YES).to_numpy(dtype=bool)
    unknown = (flag.notna() & ~flag.isin(_YES | _NO)).to_numpy(dtype=bool)
    quantity = raw.frame["quantity"].astype("string").str.strip()
    negate = yes & ~quantity.str.startswith("-").fillna(False).to_numpy(dtype=bool)
    frame = raw.frame.drop(columns="return").assign(
        quantity=quantity.where(~negate, "-" + quantity)
    )
    source_name = raw.source_columns.get("return", "Retour")
    # The reason names the column, not the value: a swapped column puts names here.
    reason = f"column {source_name!r} (return): return is not J or N (also ja/nee, 1/0)"
    return drop_rows(evolve(raw, frame=frame), np.asarray(unknown), [reason] * int(unknown.sum()))


class SfkReader(sfk_module.SfkReader):
    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read the lists into dispensings (one row per patient and substance) and patients."""
        mapping = mapping_of(options)
        text = read_table_file(
            source, mapping, layout=LAYOUT, signature=SFK_SIGNATURE, table="dispensings"
        )
        settings = settings_for(mapping, options)
        rows, notes = raw_table(
            text,
            "dispensings",
            LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=(
                "sfk_list",
                "patient_id",
                "atc",
                "first_dispensing",
                "last_dispensing",
                "quantity",
                "gp_id",
            ),
        )
        frame = rows.frame
        absent = [
            LAYOUT[c][0]
            for c in ("sfk_list", "first_dispensing", "last_dispensing")
            if c not in frame.columns
        ]
        if absent:
            raise ReadError(
                f"{source.name} (sfk): missing column(s) {', '.join(map(repr, absent))}; "
                f"columns found: {describe_columns(text.header)}"
            )
        kind = frame["sfk_list"].astype("string").str.strip().str.casefold().map(LISTS)
        unknown = kind.isna().to_numpy(dtype=bool)
        long_term = (kind == "long_term").fillna(False).to_numpy(dtype=bool)
        dispensings = (
            frame.drop(columns=["first_dispensing", "last_dispensing"])
            .rename(columns={"gp_id": "prescriber_id"})
            .assign(
                date=frame["last_dispensing"].where(long_term, frame["first_dispensing"]),
                sfk_list=kind.astype("string"),
            )
        )
        names = rows.source_columns
        source_columns = {("prescriber_id" if k == "gp_id" else k): v for k, v in names.items()}
        source_columns["date"] = f"{names['last_dispensing']} / {names['first_dispensing']}"
        # The reason names the column, not the value: a swapped column puts names here.
        reason = (
            f"column {names['sfk_list']!r} (sfk_list): not a list this reader knows "
            "(Langdurig gebruik or Nieuw gebruik)"
        )
        dispensing_rows = drop_rows(
            evolve(rows, frame=dispensings, source_columns=source_columns),
            unknown,
            [reason] * int(unknown.sum()),
        )
        patients, _ = raw_table(
            text,
            "patients",
            LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=("patient_id", "gp_id", "birth_date", "sex"),
        )
        # A column is unused only when neither table took it (the patients' birth date and
        # sex are not dispensings columns).
        used = {*rows.source_columns.values(), *patients.source_columns.values()}
        notes = [n for n in notes if "not used" not in n] + unused_columns_note(text, used)
        return reader_result(
            self.name,
            source,
            [dispensing_rows, distinct_rows(patients)],
            options,
            notes=notes,
        )


def read(reader: str, source: Path, options: Mapping[str, Any]) -> ReadResult:
    """``reader`` (``ais``, ``sfk``, ``his``, ``delimited``) reading ``source`` the old way,
    with the same options as :func:`benzoredux.reading.read_source` passes on (no strict-mode
    check: compare ``ReadResult`` objects)."""
    if reader == "ais":
        return AisReader().read(source, options=options)
    if reader == "sfk":
        return SfkReader().read(source, options=options)
    module = {"his": his_module, "delimited": delimited_module}[reader]
    with ExitStack() as stack:
        # These readers' own code did not change (but for the HIS reader's step before the
        # name split, which the old object columns did not need): the toolkit under them is
        # put back as it was.
        patches = {"read_table_file": read_table_file, "raw_table": raw_table}
        if reader == "his":
            patches["reader_result"] = reader_result
            patches["before_name_split"] = lambda raw: raw
        else:
            patches["build_result"] = build_result
        for name, value in patches.items():
            stack.enter_context(mock.patch.object(module, name, value))
        reader_class = module.HisReader if reader == "his" else module.DelimitedReader
        return reader_class().read(source, options=options)
