"""Building a :class:`~benzoredux.reading.result.ReadResult` from the text cells of a source.

Readers (built-in or plugin) do the format-specific part (which file, which columns, which
record is which row) and hand the text cells over as :class:`RawTable` objects;
:func:`build_result` does the rest the same way for every format:

1. values of coded columns are mapped (Dutch ``V`` -> ``F``, ``Overleden`` -> ``deceased``;
   :data:`DUTCH_VALUES`, extended by a mapping file), codes upper-cased, postcodes written
   ``1234 AB``, 8-digit BSNs given their leading zero;
2. dates and numbers are parsed with the file's explicit formats
   (:mod:`benzoredux.reading.parsing`);
3. the rows are checked with the table's schema (:mod:`benzoredux.tables`: required values,
   ATC and ICPC codes, BSN 11-test, duplicate patients, ...);
4. exact duplicate dispensings are rejected, the first copy kept (``duplicates="keep"`` keeps
   them): an export that lists a dispensing twice would otherwise count its tablets twice and
   could make someone a chronic user.

A row with any problem is rejected with *every* problem it has; counts reconcile.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from attrs import field, frozen

from benzoredux.errors import describe_columns, looks_like_data
from benzoredux.reading.identifiers import IDENTIFIER_CHECKS, identifier_warnings
from benzoredux.reading.mapping import TABLES, SourceMapping
from benzoredux.reading.parsing import (
    DUTCH_DATE_FORMATS,
    describe_date_formats,
    parse_dates,
    parse_numbers,
)
from benzoredux.reading.result import (
    HIDDEN,
    ReadError,
    ReadResult,
    TableCounts,
    empty_problems,
    plain_dict,
    problem_frame,
)
from benzoredux.reading.text import LINE, TextTable
from benzoredux.tables import MAX_QUANTITY, REASONS, ROW, Kind, Plausibility, TableSchema, validate

__all__ = [
    "BOOLEAN_VALUES",
    "DUTCH_VALUES",
    "ParseSettings",
    "RawTable",
    "build_result",
    "raw_table",
]

Duplicates = Literal["reject", "keep"]

DUTCH_VALUES: Mapping[str, Mapping[str, str]] = {
    "sex": {
        "v": "F",
        "vrouw": "F",
        "vrouwelijk": "F",
        "m": "M",
        "man": "M",
        "mannelijk": "M",
        "o": "X",
        "onbekend": "X",
        "x": "X",
        "f": "F",
    },
    "status": {
        "actief": "active",
        "ingeschreven": "active",
        "overleden": "deceased",
        "verhuisd": "moved",
        "vertrokken": "moved",
        "andere huisarts": "changed_gp",
        "overgeschreven": "changed_gp",
        "wisseling huisarts": "changed_gp",
    },
    "channel": {
        "consult": "consult",
        "spreekuur": "consult",
        "visite": "consult",
        "telefonisch consult": "telephone_consult",
        "telefonisch": "telephone_consult",
        "herhaalrecept": "repeat_prescription",
        "herhaling": "repeat_prescription",
        "overig": "other",
        "anders": "other",
    },
}
"""Dutch values of coded text columns, as the Dutch exports write them (matched ignoring case).
A mapping file's ``[values.<column>]`` adds to these and wins."""

BOOLEAN_VALUES: Mapping[str, bool] = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "ja": True,
    "nee": False,
    "j": True,
    "n": False,
}
"""How a true/false column (the screening columns of the patients table) may be written, in any
case; anything else is rejected, not guessed. A mapping file's ``[values.<column>]`` can map
other words to ``true`` or ``false`` first."""

_PAST_ONLY = frozenset({"birth_date"})
_UPPER = frozenset({"atc", "icpc", "sex"})


@frozen(kw_only=True)
class ParseSettings:
    """How the text cells of one file are turned into values."""

    date_formats: tuple[str, ...] = DUTCH_DATE_FORMATS
    decimal: str = ","
    thousands: str | None = None
    values: Mapping[str, Mapping[str, str]] = field(factory=dict, converter=plain_dict)
    """Canonical column -> {export value (any case): canonical value}."""
    today: dt.date | None = None
    """For two-digit birth years (``None``: the real today)."""

    @classmethod
    def dutch(cls, mapping: SourceMapping | None = None, **defaults: Any) -> ParseSettings:
        """Dutch export defaults (decimal comma, day-first dates, :data:`DUTCH_VALUES`),
        overridden by ``defaults`` and then by the mapping file."""
        values: dict[str, dict[str, str]] = {k: dict(v) for k, v in DUTCH_VALUES.items()}
        chosen: dict[str, Any] = {"date_formats": DUTCH_DATE_FORMATS, "decimal": ",", **defaults}
        if mapping is not None:
            for column, table in mapping.values.items():
                values.setdefault(column, {}).update({k.casefold(): v for k, v in table.items()})
            if mapping.date_formats is not None:
                chosen["date_formats"] = mapping.date_formats
            if mapping.decimal is not None:
                chosen["decimal"] = mapping.decimal
            if mapping.thousands is not None:
                chosen["thousands"] = mapping.thousands
        return cls(values=values, **chosen)


@frozen(kw_only=True)
class RawTable:
    """The text cells of one canonical table from one file, as a reader hands them over.

    ``frame`` has canonical column names (plus any extra columns the format documents) and text
    cells (``None`` when empty). ``lines`` or ``records`` (aligned with ``frame``) say where each
    row came from.
    """

    table: str
    frame: pd.DataFrame
    file: str
    settings: ParseSettings = field(factory=ParseSettings)
    lines: Sequence[int] | None = None
    records: Sequence[str] | None = None
    source_columns: Mapping[str, str] = field(factory=dict, converter=plain_dict)
    """Canonical name -> the export's column name, for messages."""
    unreadable: tuple[tuple[int | None, str | None, str], ...] = ()
    """``(line, record, reason)`` of records that could not become a row at all."""
    found_columns: tuple[str, ...] = ()
    """The export's column names, listed when a required column is missing."""
    mapped_absent: Mapping[str, str] = field(factory=dict, converter=plain_dict)
    """Canonical name -> the column name a mapping file gives it, for the names this file
    lacks: a missing required column is then reported under the name the practice wrote in
    its mapping file, not the canonical name it never typed."""
    blank_rows: int = 0
    """Rows of the file whose every field is empty: not rows of the table, but counted in
    ``ReadResult.ignored["blank rows"]`` (once per file, however many tables it feeds)."""

    def __attrs_post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; tables: {', '.join(TABLES)}")
        for aligned in (self.lines, self.records):
            if aligned is not None and len(aligned) != len(self.frame):
                raise ValueError("lines/records must have one entry per row of frame")


def _normal(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip()).casefold()


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


# --- building the result ----------------------------------------------------------------------


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
