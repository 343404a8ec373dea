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

**How a million rows stay fast** (issue 19). Every step above works cell by cell or row by row,
so the work is done on what is distinct: each column's distinct cells are converted once
(:func:`distinct_cells`; a column of a million dispensings holds a few hundred dates, codes and
quantities) and the results are taken at each row's code. The row checks run with polars on
only the columns a rule reads (which rules run is asked of
:func:`~benzoredux.tables.validate` on an empty table first). When every rule judges a row by
its own values, they run on the distinct combinations of values only: the columns are grouped
so that no rule reads two groups (a column alone, or ``atc`` with ``form`` and ``quantity``,
which rules read together), each group's distinct combinations go into one small table, and
each verdict goes back to the rows that hold the combination (a million dispensings are a few
thousand combinations). The patients' unique ``patient_id`` is a count over all rows, so that
table's rows are all checked, whole (and a table whose rules give a reason the check does not
know, ``CHECK_ROWS`` (2,097,152) rows at a time). Exact duplicates are found on per-row numbers
of the distinct values. The usable rows are
taken from the distinct values in the end, in the types a caller gets (text in pandas' string
dtype, dates ``datetime64``, numbers ``float64``, true/false ``boolean``). The results are the
ones converting and checking every cell gives: a property test holds them to the code this
replaced (``tests/property/test_reading_matches_reference.py``).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from benzoredux.tables import (
    MAX_QUANTITY,
    REASONS,
    Column,
    Kind,
    Plausibility,
    TableSchema,
    form_rule,
    plausibility_rules,
    rule_columns,
    validate,
)

__all__ = [
    "BOOLEAN_VALUES",
    "DUTCH_VALUES",
    "ParseSettings",
    "RawTable",
    "build_result",
    "distinct_cells",
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
    lines: Sequence[int] | np.ndarray[Any, Any] | None = None
    """The line each row starts on (a list, or a numpy array as :func:`raw_table` gives)."""
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
        lines=text.rows[LINE].to_numpy(dtype=np.int64),
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


def _convert_values(
    name: str, cells: pd.Series, column: Column | None, settings: ParseSettings
) -> tuple[pd.Series, np.ndarray[Any, Any] | None, str | None]:
    """The values of the cells of column ``name`` (text as written): ``(values, failed,
    reason)``, where ``failed`` marks the cells that did not convert (``None`` for text).

    Every step works cell by cell (the result of a cell depends on that cell only), so the
    caller converts each distinct cell once (:func:`distinct_cells`).
    """
    text = cells.astype(pd.StringDtype()).str.strip()
    text = text.mask(text == "")
    values = settings.values.get(name)
    if values:
        lookup = {k.casefold(): v for k, v in values.items()}
        mapped = text.str.casefold().map(lookup)
        text = mapped.where(mapped.notna(), text).astype(pd.StringDtype())
    if column is None or column.kind is Kind.TEXT:
        return _normalise_text(name, text).astype(pd.StringDtype()), None, None
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
        parsed, failed = parse_numbers(text, decimal=settings.decimal, thousands=settings.thousands)
        notation = "a decimal comma" if settings.decimal == "," else "a decimal point"
        reason = f"not a number written with {notation}"
    return parsed, failed.to_numpy(dtype=bool), reason


def _addresses(cells: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The addresses of the objects of the contiguous object array ``cells``, as integers.

    An object array holds pointers to its objects; reading them (not the objects) tells which
    cells hold the very same string object, which a text table's cells do for every repeated
    value (:attr:`~benzoredux.reading.text.TextTable.rows`). ``cells`` must stay alive while
    the result is used.
    """
    assert cells.dtype == object
    assert cells.flags.c_contiguous
    pointers = (ctypes.c_size_t * len(cells)).from_address(cells.ctypes.data)
    return np.ctypeslib.as_array(pointers)


def distinct_cells(values: pd.Series) -> tuple[np.ndarray[Any, Any], pd.Series]:
    """``(codes, distinct)``: the column ``values`` is ``distinct`` taken at ``codes``, cell
    for cell (``distinct.iloc[codes[i]]`` is the very object in row ``i``).

    For a reader that works on a column of text cells: work on each distinct cell once and
    take the results at ``codes``. A column of a million dispensings holds a few hundred dates
    and codes, so this is a thousand times less work than working on every cell, and the same
    result when the work is done cell by cell. ``build_result`` converts columns this way.

    Cells of an object column are told apart by identity (the text reader shares one string
    object among the cells that hold it, :attr:`~benzoredux.reading.text.TextTable.rows`),
    which is fast and never wrong: two equal strings that are different objects are merely
    distinct cells twice. A categorical column gives its categories (and a missing cell);
    any other column is cast to text first, as a converted cell is.

    >>> from benzoredux.reading import distinct_cells
    >>> codes, distinct = distinct_cells(pd.Series(["a", None, "a"], dtype=object))
    >>> codes.tolist(), distinct.tolist()
    ([0, 1, 0], ['a', None])
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int32), values.astype(object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int32)
        categories = values.cat.categories.astype(object).tolist()
        distinct = np.empty(len(categories) + 1, dtype=object)
        distinct[:-1] = categories
        distinct[-1] = None
        codes[codes < 0] = len(categories)
        return codes, pd.Series(distinct, dtype=object)
    if values.dtype == object:
        cells = np.ascontiguousarray(values.to_numpy(dtype=object))
        numbers, _ = pd.factorize(_addresses(cells))  # numbered as they first appear
        seen = np.maximum.accumulate(np.concatenate([[-1], numbers[:-1]]))
        first = np.flatnonzero(numbers > seen)
        return numbers.astype(np.int32), pd.Series(cells[first], dtype=object)
    numbers, found = pd.factorize(values.astype(pd.StringDtype()), use_na_sentinel=False)
    return numbers.astype(np.int32), pd.Series(found).astype(object)


@functools.cache
def _text_pool() -> Any:
    """pyarrow's jemalloc memory pool, or ``None`` where pyarrow has none (Windows, macOS)."""
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):
        return None


def _take(values: pd.Series, codes: np.ndarray[Any, Any]) -> pd.Series:
    """``values.take(codes)`` with a fresh index.

    Arrow-backed text is taken by pyarrow into its jemalloc pool (:func:`_text_pool`): the
    offsets and bytes pandas holds are written once. polars' gather (where pyarrow has no
    jemalloc) writes each cell as a 16-byte view first and converts the views to Arrow's
    large strings after, in memory its own allocator kept from the earlier steps. pyarrow's
    default pool (mimalloc) is not used for this: a million-row take into it took anything
    from 0.01 to 0.17 s from one fresh process to the next (issue 19, docs/performance.rst).
    """
    import polars as pl
    import pyarrow as pa

    pool = _text_pool() if isinstance(values.array, pd.arrays.ArrowStringArray) else None
    if pool is not None:
        import pyarrow.compute as pc

        taken = pc.take(pa.array(values.array), pa.array(codes), memory_pool=pool)
        chunked = taken if isinstance(taken, pa.ChunkedArray) else pa.chunked_array([taken])
        return pd.Series(pd.arrays.ArrowStringArray(chunked), copy=False)
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        text = pl.from_arrow(pa.array(values.array))
        assert isinstance(text, pl.Series)
        taken = text.gather(codes).to_arrow(compat_level=pl.CompatLevel.oldest())
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([taken])), copy=False)
    return pd.Series(values.array.take(codes), copy=False)


@frozen
class _Converted:
    """One column of one :class:`RawTable`, converted: per row the code of its cell, and per
    distinct cell the cell as written, its value and whether it failed to convert."""

    codes: np.ndarray[Any, Any]
    cells: np.ndarray[Any, Any]
    values: pd.Series
    failed: np.ndarray[Any, Any] | None
    reason: str | None


def _blamed(reason: str, columns: Sequence[str]) -> str:
    """The column a rule's problem is reported on: the one its reason starts with."""
    return next((c for c in columns if reason.startswith(f"{c} ")), columns[0])


@frozen
class _Rows:
    """The rows of one table from all its files: the converted columns and where each row
    came from."""

    names: list[str]
    """The table's columns: the schema's order, then extra columns."""
    parts: list[dict[str, _Converted]]
    """Per :class:`RawTable`: its converted columns."""
    raws: Sequence[RawTable]
    sizes: list[int]
    kinds: Mapping[str, Kind]
    distinct_polars: dict[str, list[Any]] = field(factory=dict)
    """Per column, the distinct values as polars Series (made on first use)."""

    def __len__(self) -> int:
        return sum(self.sizes)

    def origin(self, positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Index of the :class:`RawTable` the rows at ``positions`` came from."""
        return np.searchsorted(np.cumsum(self.sizes), positions, side="right")

    def where(self, positions: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], ...]:
        """``(file, line, record)`` of the rows at ``positions`` (``None`` where unknown)."""
        origin = self.origin(positions)
        starts = np.cumsum([0, *self.sizes])
        file = np.full(len(positions), None, dtype=object)
        line = np.full(len(positions), None, dtype=object)
        record = np.full(len(positions), None, dtype=object)
        for index, raw in enumerate(self.raws):
            at = origin == index
            if not at.any():
                continue
            inside = positions[at] - starts[index]
            file[at] = raw.file
            if raw.lines is not None:
                line[at] = np.asarray(raw.lines, dtype=object)[inside]
            if raw.records is not None:
                record[at] = np.asarray(raw.records, dtype=object)[inside]
        return file, line, record

    def missing(self, name: str) -> pd.Series:
        """The value of a missing cell of column ``name`` (a file without that column)."""
        kind = self.kinds.get(name, Kind.TEXT)
        if kind is Kind.DATE:
            return pd.Series([pd.NaT], dtype="datetime64[us]")
        if kind is Kind.NUMBER:
            return pd.Series([np.nan], dtype="float64")
        if kind is Kind.BOOLEAN:
            return pd.Series([pd.NA], dtype="boolean")
        return pd.Series([pd.NA], dtype=pd.StringDtype())

    def pieces(self, name: str) -> list[tuple[pd.Series, np.ndarray[Any, Any]]]:
        """Per file: the distinct values of column ``name`` and the row codes into them."""
        found = []
        for part, size in zip(self.parts, self.sizes, strict=True):
            converted = part.get(name)
            if converted is None:
                found.append((self.missing(name), np.zeros(size, dtype=np.int32)))
            else:
                found.append((converted.values, converted.codes))
        return found

    def values(
        self, name: str, rows: np.ndarray[Any, Any] | None = None, *, last_use: bool = False
    ) -> pd.Series:
        """Column ``name`` as pandas values, of every row or of the ``rows`` (a mask);
        ``last_use`` lets the column's codes go as soon as they are taken."""
        taken = []
        offset = 0
        pieces = self.pieces(name)
        if last_use:
            for part in self.parts:
                part.pop(name, None)
        for values, codes in pieces:
            chosen = (
                codes if rows is None or rows.all() else codes[rows[offset : offset + len(codes)]]
            )
            offset += len(codes)
            taken.append(_take(values, chosen))
        if len(taken) == 1:
            return taken[0]
        return pd.concat(taken, ignore_index=True)

    def polars(self, name: str, start: int = 0, stop: int | None = None) -> Any:
        """Column ``name`` of the rows ``start`` to ``stop`` as a polars Series (for the row
        checks)."""
        import polars as pl

        stop = len(self) if stop is None else min(stop, len(self))
        if name not in self.distinct_polars:  # the distinct values, converted once
            self.distinct_polars[name] = [
                pl.from_pandas(values.reset_index(drop=True)) for values, _ in self.pieces(name)
            ]
        parts = []
        offset = 0
        for distinct, (_, codes) in zip(self.distinct_polars[name], self.pieces(name), strict=True):
            chosen = codes[max(start - offset, 0) : max(stop - offset, 0)]
            offset += len(codes)
            parts.append(distinct.gather(chosen))
        return (parts[0] if len(parts) == 1 else pl.concat(parts)).alias(name)

    def polars_distinct(self, name: str) -> Any:
        """The distinct values of column ``name`` of every file, one file's after the other's
        (numbered as :func:`_global_codes` numbers them), as a polars Series."""
        import polars as pl

        if name not in self.distinct_polars:  # the distinct values, converted once
            self.distinct_polars[name] = [
                pl.from_pandas(values.reset_index(drop=True)) for values, _ in self.pieces(name)
            ]
        distinct = self.distinct_polars[name]
        return (distinct[0] if len(distinct) == 1 else pl.concat(distinct)).alias(name)

    def failed(self, name: str, positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
        """Whether the cells of column ``name`` at ``positions`` failed to convert (``None``:
        text). Only the rows asked about are looked at, not every row."""
        if not any(name in part and part[name].failed is not None for part in self.parts):
            return None
        found = np.zeros(len(positions), dtype=bool)
        offset = 0
        for part, size in zip(self.parts, self.sizes, strict=True):
            converted = part.get(name)
            inside = (positions >= offset) & (positions < offset + size)
            if converted is not None and converted.failed is not None and inside.any():
                found[inside] = converted.failed[converted.codes[positions[inside] - offset]]
            offset += size
        return found

    def cells(self, name: str, positions: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The cells of column ``name`` as written at ``positions`` (``None`` where a file has
        no such column)."""
        found = np.full(len(positions), None, dtype=object)
        offset = 0
        for part, size in zip(self.parts, self.sizes, strict=True):
            inside = (positions >= offset) & (positions < offset + size)
            converted = part.get(name)
            if converted is not None and inside.any():
                found[inside] = converted.cells[converted.codes[positions[inside] - offset]]
            offset += size
        return found


def _collect(schema: TableSchema, raws: Sequence[RawTable]) -> tuple[_Rows, pd.DataFrame]:
    """The rows of ``raws`` converted (each distinct cell once), and the conversion problems
    ``(pos, column, reason)``."""
    known = {c.name: c for c in schema.columns}
    parts: list[dict[str, _Converted]] = []
    found: list[pd.DataFrame] = []
    sizes: list[int] = []
    names: list[str] = []
    offset = 0
    for raw in raws:
        frame = raw.frame
        n = len(frame)
        converted: dict[str, _Converted] = {}
        for name in frame.columns:
            codes, distinct = distinct_cells(frame[name])
            values, failed, reason = _convert_values(name, distinct, known.get(name), raw.settings)
            converted[name] = _Converted(
                codes, distinct.to_numpy(dtype=object), values, failed, reason
            )
            if name not in names:
                names.append(name)
            if failed is not None and failed.any():
                positions = np.flatnonzero(failed[codes])
                if len(positions):
                    found.append(
                        pd.DataFrame({"pos": positions + offset, "column": name, "reason": reason})
                    )
        parts.append(converted)
        sizes.append(n)
        offset += n
    order = [c.name for c in schema.columns if c.name in names]
    rows = _Rows(
        names=order + [c for c in names if c not in order],
        parts=parts,
        raws=raws,
        sizes=sizes,
        kinds={c.name: c.kind for c in schema.columns},
    )
    conversion = (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame({"pos": pd.Series([], dtype="int64"), "column": [], "reason": []})
    )
    return rows, conversion


_POSITION = "__benzoredux_read_row"
"""The column holding each row's position while the rows are checked."""
CHECK_ROWS = 1 << 21
"""Rows checked at a time when every rule judges a row by its own values but the distinct
combinations cannot be checked instead (a reason the check does not know): a copy in polars
of the values of several million rows is not made at once."""


def _row_by_row(
    schema: TableSchema,
    columns: Mapping[str, Any],
    applied: Mapping[str, Sequence[str]],
    extra_forms: Mapping[str, bool] | None,
    plausibility: Plausibility,
) -> bool:
    """Whether every rule that runs (``applied``: reason -> columns) is one this module knows
    judges a row by that row's values alone: not a count over rows (``RowRule.counted_by``,
    the patients' unique ``patient_id``), and not a rule it does not know of."""
    known = [
        *schema.rules,
        form_rule(extra_forms),
        *plausibility_rules(schema, columns, plausibility),
    ]
    by_reason = {rule.reason: rule for rule in known}
    return all(r in by_reason and by_reason[r].counted_by is None for r in applied)


def _rule_problems(
    schema: TableSchema,
    rows: _Rows,
    extra_forms: Mapping[str, bool] | None,
    plausibility: Plausibility,
) -> pd.DataFrame:
    """``pos, column, reason`` for each row rule of the schema a row breaks.

    The rules run on polars frames of the converted values (what :func:`validate` does with a
    pandas frame too), built from the distinct values without converting any cell again.
    """
    import narwhals as nw
    import polars as pl

    def check(frame: Any) -> Any:
        # Lazy, with the row numbers as a column of their own: validate() then leaves the
        # usable rows uncollected (only the rejected ones are needed here).
        return validate(
            frame.lazy(), schema, engine="auto", forms=extra_forms, plausibility=plausibility
        )

    # Which rules run with all the columns (the types of an empty table's): only the columns
    # they read are handed over (not a prescriber's or pharmacy's code), and when all of them
    # judge a row by itself, the rows are checked a block at a time. A missing or mistyped
    # column is refused first, as validate() refuses it, even when there is no row to check.
    empty = pl.DataFrame([rows.polars(name, 0, 0) for name in rows.names])
    columns = nw.from_native(empty).collect_schema()
    schema.check_columns(columns)
    applied = rule_columns(schema, columns, forms=extra_forms, plausibility=plausibility)
    read = {c for columns in applied.values() for c in columns} | set(schema.required)
    by_row = _row_by_row(schema, columns, applied, extra_forms, plausibility)
    pairs = _distinct_rule_pairs(rows, applied, read, check) if by_row and len(rows) else None
    if pairs is None:
        block = CHECK_ROWS if by_row else len(rows) or 1
        found = []
        for start in range(0, len(rows), block):
            typed = pl.DataFrame(
                [rows.polars(name, start, start + block) for name in rows.names if name in read]
            ).with_row_index(_POSITION, offset=start)
            checked = check(typed)
            assert checked.rule_columns.keys() == applied.keys()  # the same rules ran
            found.append(checked.rejected.select(_POSITION, REASONS).collect())
            del typed, checked
        rejected = (
            pl.concat(found).to_pandas()
            if found
            else pd.DataFrame({_POSITION: pd.Series([], dtype="int64"), REASONS: []})
        )
        pairs = pd.DataFrame(
            {
                "pos": rejected[_POSITION].to_numpy(dtype="int64"),
                "reason": rejected[REASONS].astype(str).str.split("; "),
            }
        ).explode("reason")
    blame = {reason: _blamed(reason, columns) for reason, columns in applied.items()}
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
    for name in rows.names:
        failed = rows.failed(name, positions)
        if failed is not None:
            # "date is missing" after "date is not a date" says nothing new.
            redundant |= (reasons == f"{name} is missing") & failed
    return pairs[~redundant]


def _groups(applied: Mapping[str, Sequence[str]], read: Iterable[str]) -> list[list[str]]:
    """The columns ``read``, grouped so that every rule reads the columns of one group only:
    the columns two rules share join their groups (``atc``, ``form`` and ``quantity`` when
    one rule reads the form and the code, another the quantity and the code)."""
    groups: list[set[str]] = [{name} for name in sorted(read)]
    for names in applied.values():
        joined = set(names)
        rest = []
        for group in groups:
            if group & joined:
                joined |= group
            else:
                rest.append(group)
        groups = [*rest, joined]
    return [sorted(group) for group in groups]


def _distinct_rule_pairs(
    rows: _Rows, applied: Mapping[str, Sequence[str]], read: Iterable[str], check: Any
) -> pd.DataFrame | None:
    """``pos, reason`` for each rule a row breaks (a row's reasons in the rules' order),
    checking each distinct combination of values once instead of every row.

    Only for rules that judge a row by its own values (:func:`_row_by_row`), each reading the
    columns it names (``RowRule.columns``): a rule's verdict on a row is then its verdict on
    the row's values of those columns. The columns read are grouped so that no rule reads two
    groups (:func:`_groups`); per group the distinct combinations of values the rows hold are
    found (per column its distinct values are a text reader's distinct cells, so a column of
    a million dispensings holds a few hundred), and one small table holds each group's
    combinations side by side (a group with fewer repeats its first). :func:`validate` checks
    that table; each verdict goes back to the rows holding that combination. ``None`` when a
    reason is not one of the rules' (the caller then checks every row).
    """
    import polars as pl

    groups = _groups(applied, [name for name in rows.names if name in set(read)])
    group_of = {name: index for index, group in enumerate(groups) for name in group}
    combos, counts, chosen = _combinations(rows, groups)
    height = max(counts)
    table = {}
    for group, count, first in zip(groups, counts, chosen, strict=True):
        repeat = np.zeros(height - count, dtype=np.int64)  # a short group repeats its first
        for name in group:
            everything = rows.polars_distinct(name)
            if first is not None:
                everything = everything.gather(_global_codes(rows, name)[first])
            table[name] = everything.gather(np.concatenate([np.arange(count), repeat]))
    checked = check(pl.DataFrame(table).with_row_index(_POSITION))
    assert checked.rule_columns.keys() == applied.keys()  # the same rules ran
    rejected = checked.rejected.select(_POSITION, REASONS).collect()
    order = {reason: index for index, reason in enumerate(applied)}
    bad: dict[str, list[int]] = {}
    for at, reasons in rejected.iter_rows():
        for reason in str(reasons).split("; "):
            if reason not in order:
                return None
            if at < counts[group_of[applied[reason][0]]]:  # not a repeat filling a short group
                bad.setdefault(reason, []).append(at)
    positions = [np.zeros(0, dtype=np.int64)]
    ranks = [np.zeros(0, dtype=np.int64)]
    for reason, combinations in bad.items():
        index = group_of[applied[reason][0]]
        flagged = np.zeros(counts[index], dtype=bool)
        flagged[combinations] = True
        found = np.flatnonzero(flagged[combos[index]])
        positions.append(found)
        ranks.append(np.full(len(found), order[reason], dtype=np.int64))
    pos, rank = np.concatenate(positions), np.concatenate(ranks)
    sort = np.lexsort((rank, pos))
    reason_of = np.array(list(order), dtype=object)
    return pd.DataFrame({"pos": pos[sort], "reason": reason_of[rank[sort]]})


def _combinations(
    rows: _Rows, groups: Sequence[Sequence[str]]
) -> tuple[list[np.ndarray[Any, Any]], list[int], list[np.ndarray[Any, Any] | None]]:
    """Per group of columns: each row's combination of values (a number), how many
    combinations there are, and a row holding each (``None`` for a group of one column, whose
    combinations are its distinct values, numbered as :func:`_global_codes` numbers them)."""
    combos: list[np.ndarray[Any, Any]] = []  # per group: each row's combination
    counts: list[int] = []  # per group: how many combinations
    chosen: list[np.ndarray[Any, Any] | None] = []  # per group: a row holding each combination
    for group in groups:
        if len(group) == 1:  # the combinations are the column's distinct values
            combos.append(_global_codes(rows, group[0]))
            counts.append(sum(len(values) for values, _ in rows.pieces(group[0])))
            chosen.append(None)
            continue
        key = np.zeros(len(rows), dtype=np.int64)
        size = 1
        for name in group:
            width = sum(len(values) for values, _ in rows.pieces(name))
            if size * width >= 2**62:  # renumber before the key could overflow
                key, found = pd.factorize(key)
                size = len(found)
            key *= width
            key += _global_codes(rows, name)
            size *= width
        numbers, _ = pd.factorize(key)  # numbered as they first appear
        seen = np.maximum.accumulate(np.concatenate([[-1], numbers[:-1]]))
        combos.append(numbers)
        first = np.flatnonzero(numbers > seen)
        counts.append(len(first))
        chosen.append(first)
    return combos, counts, chosen


def _global_codes(rows: _Rows, name: str) -> np.ndarray[Any, Any]:
    """Per row, the number of its value of column ``name`` among the distinct values of all
    files one after the other (a file's codes plus the distinct values of the files before)."""
    pieces = rows.pieces(name)
    if len(pieces) == 1:
        return pieces[0][1]
    parts = []
    offset = 0
    for values, codes in pieces:
        parts.append(codes.astype(np.int64) + offset)
        offset += len(values)
    return np.concatenate(parts)


def _row_keys(rows: _Rows) -> np.ndarray[Any, Any]:
    """Per row, a number that two rows share exactly when every column of theirs is equal.

    Equality is :func:`pandas.factorize`'s (missing equals missing), as in
    :meth:`pandas.DataFrame.duplicated`: each column's distinct values are numbered once, and
    the numbers of the columns are combined into one (renumbered before it could overflow).
    """
    key = np.zeros(len(rows), dtype=np.int64)
    size = 1  # the key is below this
    for name in rows.names:
        pieces = rows.pieces(name)
        values = pd.concat([v.reset_index(drop=True) for v, _ in pieces], ignore_index=True)
        numbers, distinct = pd.factorize(values, use_na_sentinel=False)
        width = len(distinct) + 1
        if size * width >= 2**62:
            key, found = pd.factorize(key)
            size = len(found)
        key *= width
        size *= width
        if len(pieces) == 1 and len(distinct) == len(values):
            # Every value distinct: numbered in order, so a row's number is its code (the
            # codes are not taken through the numbers, a pass over every row saved).
            key += pieces[0][1]
            continue
        column = []
        offset = 0
        for value, codes in pieces:
            column.append(numbers[offset : offset + len(value)][codes])
            offset += len(value)
        key += column[0] if len(column) == 1 else np.concatenate(column)
    return key


def _duplicate_problems(rows: _Rows) -> pd.DataFrame:
    """``pos, column, reason`` for every copy of a row after its first (all columns equal)."""
    key = _row_keys(rows)
    positions = np.flatnonzero(pd.Series(key, copy=False).duplicated(keep="first").to_numpy())
    if not len(positions):
        return pd.DataFrame({"pos": positions, "column": [], "reason": []})
    # Only the rows of groups with copies are looked at again, for the first row's line.
    members = np.flatnonzero(np.isin(key, np.unique(key[positions])))
    _, line, record = rows.where(members)
    numbers = pd.Series(pd.array(line, dtype="Int64")).astype(pd.StringDtype())
    where = ("line " + numbers).fillna(pd.Series(record, dtype=pd.StringDtype()))
    first = where.groupby(key[members], dropna=False, sort=False).transform("first")
    copies = np.isin(members, positions)
    reasons = "exact duplicate of " + first[copies].astype(str)
    return pd.DataFrame({"pos": positions, "column": None, "reason": reasons.to_numpy()})


def _build_table(
    schema: TableSchema,
    raws: Sequence[RawTable],
    duplicates: Duplicates,
    extra_forms: Mapping[str, bool] | None,
    plausibility: Plausibility,
) -> tuple[pd.DataFrame, pd.DataFrame, TableCounts, list[str]]:
    rows, conversion = _collect(schema, raws)
    copies = (
        _duplicate_problems(rows)
        if duplicates == "reject" and schema.name == "dispensings"
        else None
    )
    # Every row's values are taken on a second thread while the rules are checked on this
    # one: pyarrow's and numpy's take and polars' checks give up the GIL, so the two overlap
    # on two cores. (The duplicates are found before: their key and hash table of every row
    # would be held beside the values.) The rejected rows, usually none, are dropped from the
    # taken values afterwards.
    _text_pool()  # made once, here, not by both threads
    taking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="benzoredux-take")
    taken = taking.submit(lambda: {name: rows.values(name) for name in rows.names})
    taking.shutdown(wait=False)
    parts = [conversion, _rule_problems(schema, rows, extra_forms, plausibility)]
    if copies is not None:
        parts.append(copies)
    found = pd.concat(parts, ignore_index=True).sort_values("pos", kind="stable")
    pos = found["pos"].to_numpy(dtype="int64")
    column_names = found["column"].to_numpy(dtype=object)

    # The value as written in the source (hidden for personal data), the export's column name.
    values = np.full(len(found), None, dtype=object)
    source_columns = np.full(len(found), None, dtype=object)
    sensitive = {c.name for c in schema.columns if c.sensitive}
    origin = rows.origin(pos)
    file, line, record = rows.where(pos)
    for name in {c for c in column_names if isinstance(c, str)}:
        at = column_names == name
        if name in sensitive:
            values[at] = HIDDEN
        elif name in rows.names:
            values[at] = rows.cells(name, pos[at])
        for index, raw in enumerate(raws):
            source_columns[at & (origin == index)] = raw.source_columns.get(name, name)

    unreadable = [(raw.file, *u) for raw in raws for u in raw.unreadable]
    n_unreadable = len(unreadable)
    problems = problem_frame(
        table=[schema.name] * (len(found) + n_unreadable),
        file=[*file, *(u[0] for u in unreadable)],
        line=[*line, *(u[1] for u in unreadable)],
        record=[*record, *(u[2] for u in unreadable)],
        column=[*column_names, *([None] * n_unreadable)],
        source_column=[*source_columns, *([None] * n_unreadable)],
        value=[*values, *([None] * n_unreadable)],
        reason=[*found["reason"], *(u[3] for u in unreadable)],
    )
    problems = problems.sort_values(
        ["file", "line"], kind="stable", na_position="last"
    ).reset_index(drop=True)
    kept = np.ones(len(rows), dtype=bool)
    kept[pos] = False
    columns = taken.result()  # every row's values, the rejected ones too
    warned: list[str] = []
    if schema.name == "patients":
        every_file, every_line, _ = rows.where(np.arange(len(rows)))
        warned = identifier_warnings(
            pd.DataFrame({n: columns[n] for n in IDENTIFIER_CHECKS if n in columns}),
            files=list(every_file),
            lines=list(every_line),
            source_columns=raws[0].source_columns,
        )
    if len(pos):
        columns = {name: column[kept].reset_index(drop=True) for name, column in columns.items()}
    valid = pd.DataFrame(columns, copy=False)
    count = TableCounts(
        table=schema.name,
        rows_read=len(rows) + n_unreadable,
        rows_valid=len(valid),
        rows_rejected=int((~kept).sum()) + n_unreadable,
    )
    return valid, problems, count, warned
