"""The canonical tables (dispensings, patients, episodes): their columns and their validation.

Every reader (the vendor adapters) produces these tables, and every algorithm consumes them, so
the column names live here and nowhere else. Validation happens in two layers:

1. **Columns**: a required column that is missing, or a column of the wrong type (dates held as
   text, quantities as text), stops everything with an error that names the column and lists the
   columns found. Text dates are refused rather than guessed: ``01-02-2025`` is 1 February in a
   Dutch export and 2 January to a month-first parser.
2. **Rows**: each row rule is a vectorised test. Rows that break a rule are never dropped
   silently: :func:`validate` returns the usable rows *and* the rejected rows with every reason
   that applies, and the counts reconcile (``rows_in == rows_valid + rows_rejected``).

Values of columns marked *sensitive* (names, address, BSN, birth date) never appear in messages,
and a value of any other column only when it has the column's harmless shape (:class:`Shown`):
a swapped column can put a name into any column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import numbers
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import narwhals as nw
from attrs import Factory, field, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux import codes
from benzoredux.engine import (
    ArrowSlices,
    Engine,
    Execution,
    ParquetDataset,
    PathSource,
    parquet_dataset,
)
from benzoredux.errors import (
    BenzoreduxError,
    ColumnTypeError,
    InvalidRowsError,
    MissingColumnsError,
    describe_value,
    shorten,
)
from benzoredux.models import LEFT_PRACTICE, PatientStatus
from benzoredux.parquet_statistics import ColumnStatistics, DatasetStatistics, read_statistics

__all__ = [
    "CHANNELS",
    "DISPENSINGS",
    "EPISODES",
    "FOOTERS_FROM_ROWS",
    "FUTURE_MARGIN_DAYS",
    "MAX_AGE_YEARS",
    "MAX_QUANTITY",
    "PATIENTS",
    "PATIENT_STATUSES",
    "SEXES",
    "WHITESPACE",
    "Column",
    "Kind",
    "Plausibility",
    "PlausibilityError",
    "RowRule",
    "Shown",
    "TableSchema",
    "Validation",
    "blank_or_missing",
    "check_max_quantity",
    "check_rows",
    "count_column",
    "form_rule",
    "missing_text_rule",
    "plausibility_rules",
    "rule_columns",
    "shown_value",
    "unique_rule",
    "validate",
    "validate_dispensings",
    "validate_episodes",
    "validate_patients",
    "with_counts",
]

ROW = "row"
"""Column added to rejected rows of eager inputs: the row's position in the input, from 0."""
REASONS = "reasons"
"""Column added to rejected rows: every rule the row breaks, separated by ``"; "``."""

CHANNELS = ("consult", "telephone_consult", "repeat_prescription", "other")
"""How a prescription was issued (the ``channel`` column), for the evaluation's indicator of
prescriptions not issued through a (telephone) consult."""
SEXES = ("M", "F", "X")
"""Sex as registered: male, female, or X (other/unknown). Adapters map Dutch ``V`` to ``F``."""
PATIENT_STATUSES = tuple(status.value for status in PatientStatus)
"""Registration status; anything but ``active`` needs a ``status_date``."""


class Kind(enum.Enum):
    """The logical type of a canonical column; several physical dtypes may carry it."""

    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    BOOLEAN = "boolean"


class Shown(enum.Enum):
    """Which values of a column a message may quote (:doc:`/privacy`).

    A value is quoted only when it has a shape no personal data has, and then at most
    :data:`~benzoredux.errors.SHOWN_LENGTH` characters of it; every other value is described
    by its kind (:func:`~benzoredux.errors.describe_value`: "a date", "a word"). The shape, not
    the column, decides: a swapped column puts a name into ``sex`` or a birth date into
    ``quantity``, so the closed set of a coded column (``M, F, X``) says nothing about the value
    that broke it.
    """

    NEVER = "never"
    """Never quoted: identifiers (a patient number may be a BSN), dates (a birth date is one),
    free text, and all personal data."""
    CODE = "code"
    """For coded columns: quoted when shaped like a code, that is a single letter (``V``,
    ``Q``; also the first level of an ATC code), or a letter and two digits followed by a dot
    and up to three digits or by up to two letters and three digits (``N05BA1``, ``P06.1``).
    No name, BSN, date or postcode has this shape, and a patient number such as ``A1001`` does
    not either. A word (``Gepensioneerd``, or a name in a swapped column) is not quoted."""
    NUMBER = "number"
    """Quoted when a number of at most four digits before the decimal separator and three
    after it (``1.5``, ``-30``, ``1.500``), or not finite (``nan``, ``inf``): too short for a
    BSN, a phone number or a date with its year."""


def _default_shown(column: Column) -> Shown:
    """Numbers may be quoted (short ones), everything else not, unless the schema says so."""
    if not column.sensitive and column.kind is Kind.NUMBER:
        return Shown.NUMBER
    return Shown.NEVER


def _not_shown_if_sensitive(column: Column, _: object, shown: Shown) -> None:
    if column.sensitive and shown is not Shown.NEVER:
        raise ValueError(f"column {column.name!r} holds personal data: its values are never shown")


@frozen
class Column:
    """One column of a canonical table."""

    name: str
    kind: Kind
    required: bool
    description: str
    sensitive: bool = False
    """Personal data: its values are never written into messages."""
    shown: Shown = field(
        default=Factory(_default_shown, takes_self=True), validator=_not_shown_if_sensitive
    )
    """Which of its values a message may quote (default: short numbers of a number column,
    nothing of any other column)."""


@frozen
class RowRule:
    """A vectorised row check: ``invalid`` is true on the rows that break the rule."""

    columns: tuple[str, ...]
    """The columns the rule reads; it applies only when all are present."""
    reason: str
    invalid: Callable[[], nw.Expr]
    by_value: Callable[[Iterable[tuple[Any, ...]]], nw.Expr | None] | None = None
    """For a rule on low-cardinality columns (ATC codes, dosage forms): given the distinct value
    tuples of ``columns``, an expression true on exactly the rows ``invalid`` flags, or ``None``
    when no value is bad. A few hundred distinct codes checked in Python cost far less than a
    regular expression over ten million rows; ``invalid`` stays the definition (and is tested
    against this shortcut)."""
    atc_filter: Callable[[str], bool] | None = None
    """For a rule that only concerns some drugs: the ATC codes it reads. For a ``by_value``
    rule, distinct values are then taken from those rows only (the form rule reads
    benzodiazepine rows); for a rule with :attr:`per_code`, a row breaks it when its code passes
    this test and :attr:`per_code` is true on it."""
    per_code: Callable[[], nw.Expr] | None = None
    """For a rule with an :attr:`atc_filter`: the part of ``invalid`` that does not read the
    ATC code, so that ``invalid`` is "``per_code`` and the code passes ``atc_filter``". The
    one-pass check (:func:`check_rows`) then counts ``per_code`` per distinct code, in the same
    grouped pass that finds the codes, and applies ``atc_filter`` to the few codes in Python,
    instead of testing ATC prefixes on every row. ``invalid`` stays the definition (and is
    tested against this split)."""
    by_bounds: Callable[[Any, Any], nw.Expr] | None = None
    """For a rule on one text column that can only flag rows whose text starts with certain
    characters: given the column's smallest and largest value, an expression true on exactly the
    rows ``invalid`` flags, usually much cheaper (a blank identifier starts with whitespace,
    which sorts outside the usual letters and digits, so plain ids need no stripping of ten
    million strings). ``invalid`` stays the definition (and is tested against this shortcut)."""
    by_statistics: Callable[[ColumnStatistics], bool] | None = None
    """Whether the Parquet footer statistics (missing values, bounds) of the rule's first
    column prove that no row breaks the rule. A Parquet path's rules that are proven are not
    run over the rows (:mod:`benzoredux.parquet_statistics`); it must answer ``False`` whenever
    the statistics leave any doubt. A rule on several columns may have one when its first
    column alone can prove it (no quantity beyond the maximum: no benzodiazepine one either)."""
    by_distinct: Callable[[Any], nw.Expr] | None = None
    """For a rule that concerns some drugs only (the ATC code is one of its columns): given the
    table's ``DistinctValues``, the expression of ``invalid`` built with them
    (``DistinctValues.atc_in``: ``is_in`` on the few codes present instead of prefix tests on
    every row; on a Parquet scan, the prefix tests). ``invalid`` stays the definition (and
    is tested against this shortcut)."""
    counted_by: str | None = None
    """For a rule on how often a value occurs (a duplicated patient_id): the column whose
    per-value row count ``invalid`` reads, as the column named by :func:`count_column`. The
    count comes from a group-by joined back to the rows, not from a window expression
    (``is_duplicated``): every backend runs a group-by and a join, while Dask has no window
    that stays aligned with the rows of a frame of several partitions."""


class DistinctValues:
    """Distinct value tuples of one lazy frame's low-cardinality columns, each computed once.

    Validation and the algorithms share it: the distinct ATC codes of ten million dispensings
    are a few hundred, classified once in Python (is it a benzodiazepine, which co-medication
    group?) and then matched per row with ``is_in``, several times faster than testing ATC
    prefixes on every row.

    The ATC code and the dosage form are read together, in one pass: the distinct (code, form)
    pairs are still a few hundred, and every question about either column (the codes present,
    the forms of the benzodiazepine rows) is answered from them in Python.
    """

    JOINT = ("atc", "form")
    """The low-cardinality columns whose distinct combinations are taken in one pass."""

    def __init__(self, lazy: nw.LazyFrame[Any], *, scan: bool = False) -> None:
        self._lazy = lazy
        self.scan = scan
        """Whether ``lazy`` is a Parquet scan on polars
        (:meth:`~benzoredux.engine.Execution.scans_parquet`). Its values are then not read:
        ATC groups are matched by their prefixes and the row rules run as filters, which
        polars evaluates on the dictionaries of the code columns instead of on every row."""
        self._cache: dict[tuple[tuple[str, ...], Callable[[str], bool] | None], list[Any]] = {}
        self._joint: tuple[tuple[str, ...], list[tuple[Any, ...]]] | None = None

    def rows(
        self, columns: tuple[str, ...], atc_filter: Callable[[str], bool] | None = None
    ) -> list[tuple[Any, ...]]:
        """The distinct tuples of ``columns`` (of the rows whose ATC passes ``atc_filter``)."""
        if self.scan:
            raise RuntimeError("distinct values are not read from a Parquet scan (scan=True)")
        key = (columns, atc_filter)
        if key not in self._cache:
            joint, combinations = self._joint_rows()
            if "atc" in joint and set(columns) <= set(joint):
                at = [joint.index(c) for c in columns]
                atc = joint.index("atc")
                self._cache[key] = list(
                    dict.fromkeys(
                        tuple(row[i] for i in at)
                        for row in combinations
                        if atc_filter is None
                        or (row[atc] is not None and atc_filter(str(row[atc])))
                    )
                )
                return self._cache[key]
            lazy = self._lazy
            if atc_filter is not None:
                lazy = lazy.filter(self._atc_where(atc_filter))
            self._cache[key] = lazy.select(*columns).unique().collect().rows()
        return self._cache[key]

    def seed(self, joint: tuple[str, ...], combinations: list[tuple[Any, ...]]) -> None:
        """Take the distinct combinations of ``joint`` (the :attr:`JOINT` columns present)
        from a pass that found them anyway (the grouped row checks), unless already read."""
        if self._joint is None and not self.scan:
            self._joint = (joint, list(dict.fromkeys(combinations)))

    def _joint_rows(self) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """The columns of :attr:`JOINT` present and their distinct combinations (one pass)."""
        if self._joint is None:
            present = self._lazy.collect_schema()
            joint = tuple(c for c in self.JOINT if c in present)
            combinations = (
                self._lazy.select(*joint).unique().collect().rows() if "atc" in joint else []
            )
            self._joint = (joint, combinations)
        return self._joint

    def bounds(self, column: str) -> tuple[Any, Any]:
        """The smallest and largest value of the text column ``column`` (missing left out)."""
        key = ((column, "__bounds"), None)
        if key not in self._cache:
            text = nw.col(column).cast(nw.String)
            self._cache[key] = (
                self._lazy.select(text.min().alias("low"), text.max().alias("high"))
                .collect()
                .rows()
            )
        ((low, high),) = self._cache[key]
        return low, high

    def atc_codes(self) -> tuple[str, ...]:
        """The distinct ATC codes present (as text, missing values left out)."""
        return tuple(sorted({str(v) for (v,) in self.rows(("atc",)) if v is not None}))

    def atc_in(self, groups: Iterable[codes.ATCGroup]) -> nw.Expr:
        """True on the rows whose ATC code belongs to one of ``groups``.

        With values read: ``is_in`` on the few codes present that belong to a group. On a
        Parquet scan: the groups' own tests (:meth:`~benzoredux.codes.ATCGroup.expression`:
        prefix and moved codes, minus exceptions).
        """
        chosen = tuple(groups)
        if self.scan:
            atc = nw.col("atc").cast(nw.String)
            tests = [g.expression(atc) for g in chosen]
            if tests:
                return ~atc.is_null() & nw.any_horizontal(*tests, ignore_nulls=True)
            return _nowhere()
        return self._atc_where(lambda code: any(g.contains(code) for g in chosen))

    def _atc_where(self, predicate: Callable[[str], bool]) -> nw.Expr:
        """True on the rows whose ATC code is one of the present codes ``predicate`` accepts."""
        chosen = [code for code in self.atc_codes() if predicate(code)]
        if not chosen:
            return _nowhere()
        return nw.col("atc").cast(nw.String).is_in(chosen)


def _nowhere() -> nw.Expr:
    """False on every row, as a row-wise expression (a literal cannot filter)."""
    return nw.col("atc").is_null() & ~nw.col("atc").is_null()


@frozen
class TableSchema:
    """A canonical table: its columns (required and optional) and its row rules."""

    name: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def check_present(self, columns: Sequence[str]) -> None:
        """Raise :class:`~benzoredux.errors.MissingColumnsError` if a required column is not
        among ``columns`` (the message lists them all)."""
        missing = [name for name in self.required if name not in columns]
        if missing:
            raise MissingColumnsError(self.name, missing, list(columns))

    def check_columns(self, schema: Mapping[str, nw.dtypes.DType]) -> None:
        """Raise if a required column is missing or a known column has the wrong type."""
        self.check_present(list(schema))
        for column in self.columns:
            if column.name in schema:
                _check_kind(self.name, column, schema[column.name])


def _check_kind(table: str, column: Column, dtype: nw.dtypes.DType) -> None:
    ok: bool
    hint = ""
    if column.kind is Kind.TEXT:
        ok = dtype.is_integer() or isinstance(dtype, nw.String | nw.Categorical | nw.Enum)
    elif column.kind is Kind.BOOLEAN:
        ok = isinstance(dtype, nw.Boolean)
        if not ok:
            hint = (
                "; use True/False (empty for unknown), e.g. pandas' nullable 'boolean' dtype; "
                "texts such as 'ja'/'nee' are not guessed"
            )
    elif column.kind is Kind.NUMBER:
        ok = dtype.is_numeric()
        if isinstance(dtype, nw.String):
            hint = (
                "; numbers in Dutch exports use a decimal comma: convert the column first, "
                "or read the file with a benzoredux adapter"
            )
    else:
        ok = isinstance(dtype, nw.Date) or (
            isinstance(dtype, nw.Datetime) and dtype.time_zone is None
        )
        if isinstance(dtype, nw.String):
            hint = (
                "; text dates are not guessed (01-02-2025 is 1 February in a Dutch export): "
                "parse with an explicit format first, e.g. "
                "pandas.to_datetime(df[col], format='%d-%m-%Y'), or read the file with a "
                "benzoredux adapter"
            )
        elif isinstance(dtype, nw.Datetime):
            hint = "; convert time-zone-aware datetimes to local (Europe/Amsterdam) dates first"
    if not ok:
        raise ColumnTypeError(table, column.name, column.kind.value, str(dtype), hint)


WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The characters Python's ``str.strip`` removes (those for which ``str.isspace`` holds), the
whitespace a text rule strips on every engine. Named, because the engines' own stripping
differs: DuckDB's ``trim`` (which narwhals' ``strip_chars()`` becomes there) removes spaces,
tabs and line feeds only, and Rust's (polars') leaves U+001C to U+001F. A reader strips its
cells with Python's."""


def blank_or_missing(name: str) -> nw.Expr:
    """True where the text column ``name`` is missing, empty or only whitespace
    (:data:`WHITESPACE`), alike on every engine.

    Stripping by a named set of characters is slower on DuckDB (17 times ``trim`` without
    one, on ten million identifiers), so the checks avoid running it on every row: a column
    whose values all start with a character that cannot be whitespace is ruled out first
    (:attr:`RowRule.by_bounds`, :attr:`RowRule.by_statistics`, and the count of the checks'
    pass).
    """
    col = nw.col(name).cast(nw.String)
    return col.is_null() | (col.str.strip_chars(WHITESPACE) == "")


def missing_text_rule(name: str) -> RowRule:
    """The rule "``name`` is missing" of a text column: missing, empty or only whitespace
    (:func:`blank_or_missing`)."""
    return RowRule((name,), f"{name} is missing", lambda: blank_or_missing(name))


_FIRST_NON_BLANK = "!"
"""Every whitespace character (:data:`WHITESPACE`) is at most U+0020 or at least U+0085; text
that starts with a character in between cannot be blank."""
_BEYOND_NON_BLANK = "\x85"


def _starts_non_blank(low: Any, high: Any) -> bool:
    """Whether every text between ``low`` and ``high`` starts with a character that is not
    whitespace (the smallest at least ``!``, the largest below U+0085). Only the first
    character of either bound decides, so a bound cut short (as Parquet writers may store
    long texts' bounds) decides alike."""
    plain = isinstance(low, str) and isinstance(high, str)
    return plain and low >= _FIRST_NON_BLANK and high < _BEYOND_NON_BLANK


def _outside_non_blank(text: nw.Expr) -> nw.Expr:
    """True on a text that does not start with a character of the range
    :func:`_starts_non_blank` tests the bounds for: no such text in a column is what its bounds
    being in that range say. A count of these is two comparisons with a constant per row,
    which every engine runs about as fast as a scan; the bounds themselves are a smallest and
    a largest text, which DuckDB took 0.13 s to find over ten million identifiers."""
    return (text < _FIRST_NON_BLANK) | (text >= _BEYOND_NON_BLANK)


def _text_id_by_bounds(name: str) -> Callable[[Any, Any], nw.Expr]:
    """The blank-id rule from the column's bounds: when every value starts with a character
    that is not whitespace, no value is empty or blank, only missing values break the rule,
    and no value needs stripping."""

    def invalid(low: Any, high: Any) -> nw.Expr:
        return nw.col(name).is_null() if _starts_non_blank(low, high) else blank_or_missing(name)

    return invalid


def _text_id_by_statistics(statistics: ColumnStatistics) -> bool:
    """No missing value, and every value starts with a non-blank character (or none at all)."""
    return (
        statistics.null_count == 0
        and statistics.bounded
        and (statistics.low is None or _starts_non_blank(statistics.low, statistics.high))
    )


def _text_id_rule(name: str) -> RowRule:
    """:func:`missing_text_rule`, decided from the column's bounds or statistics where they
    rule out a blank value."""
    return attrs.evolve(
        missing_text_rule(name),
        by_bounds=_text_id_by_bounds(name),
        by_statistics=_text_id_by_statistics,
    )


def count_column(name: str) -> str:
    """The helper column holding, per row, how many rows share the row's value of ``name``."""
    return f"__benzoredux_count_{name}"


def unique_rule(name: str, reason: str | None = None) -> RowRule:
    """A rule flagging every row whose (non-missing) ``name`` occurs on more than one row."""

    def invalid() -> nw.Expr:
        return ~nw.col(name).is_null() & (nw.col(count_column(name)) > 1)

    return RowRule((name,), reason or f"{name} occurs more than once", invalid, counted_by=name)


def with_counts(lazy: nw.LazyFrame[Any], rules: Iterable[RowRule]) -> nw.LazyFrame[Any]:
    """``lazy`` with the count columns the ``rules`` read (:attr:`RowRule.counted_by`).

    Row order is not kept on every backend (a join); callers that need it sort afterwards.
    """
    for name in dict.fromkeys(r.counted_by for r in rules if r.counted_by is not None):
        counts = lazy.group_by(name).agg(nw.len().alias(count_column(name)))
        lazy = lazy.join(counts, on=name, how="left")
    return lazy


def _missing(name: str) -> RowRule:
    return RowRule(
        (name,),
        f"{name} is missing",
        lambda: nw.col(name).is_null(),
        by_statistics=lambda statistics: statistics.null_count == 0,
    )


def _not_in(name: str, allowed: Sequence[str]) -> RowRule:
    return RowRule(
        (name,),
        f"{name} is not one of {', '.join(allowed)}",
        lambda: ~nw.col(name).is_null() & ~nw.col(name).cast(nw.String).is_in(list(allowed)),
    )


def _positive(name: str) -> RowRule:
    return RowRule(
        (name,),
        f"{name} is not a positive number",
        lambda: ~nw.col(name).is_null() & ~(nw.col(name).is_finite() & (nw.col(name) > 0)),
        by_statistics=_all_positive,
    )


def _all_positive(statistics: ColumnStatistics) -> bool:
    """Integers or decimals (never NaN or infinite) whose lower bound is above zero."""
    return (
        statistics.exact_numbers
        and statistics.bounded
        and (statistics.low is None or statistics.low > 0)
    )


def _bsn_invalid() -> nw.Expr:
    """BSN 11-test (weights 9..2 and -1, not all zeros), as python-stdnum's ``stdnum.nl.bsn``.

    The canonical column holds exactly 9 digits; readers pad 8-digit numbers from old exports
    with a leading zero (as ``stdnum.nl.bsn.compact`` does) before they get here.
    """
    text = nw.col("bsn").cast(nw.String).str.strip_chars()
    well_formed = text.str.contains(r"^[0-9]{9}$")
    # Non-digits become 0 and the text is padded, so the casts below are safe on any bad row;
    # well_formed decides those rows anyway.
    digits = nw.concat_str([text.str.replace_all(r"[^0-9]", "0"), nw.lit("000000000")])
    total = nw.lit(0, nw.Int64)
    for position, weight in enumerate((9, 8, 7, 6, 5, 4, 3, 2, -1)):
        total = total + digits.str.slice(position, 1).cast(nw.Int64) * weight
    return ~text.is_null() & ~(well_formed & (text != "000000000") & ((total % 11) == 0))


def _bad_atc_codes(values: Iterable[tuple[Any, ...]]) -> nw.Expr | None:
    bad = sorted(
        {str(v) for (v,) in values if v is not None and not codes.ATC_PATTERN.match(str(v))}
    )
    return nw.col("atc").cast(nw.String).is_in(bad) if bad else None


DISPENSINGS = TableSchema(
    name="dispensings",
    columns=(
        Column("patient_id", Kind.TEXT, True, "Pseudonymous patient identifier."),
        Column("date", Kind.DATE, True, "Date of dispensing (a return: the date of the return)."),
        Column(
            "atc",
            Kind.TEXT,
            True,
            "Substance-level ATC code, 7 characters, upper case.",
            shown=Shown.CODE,
        ),
        Column(
            "quantity",
            Kind.NUMBER,
            True,
            "Units dispensed (tablets, capsules, ml, ...); negative for a return, which nets out.",
        ),
        Column("strength_mg", Kind.NUMBER, False, "Strength per unit in mg (for DDDs)."),
        Column(
            "form",
            Kind.TEXT,
            False,
            "Dosage form; units count as tablets only for solid oral forms.",
            shown=Shown.CODE,
        ),
        Column(
            "days_supply",
            Kind.NUMBER,
            False,
            "Days the dispensing lasts by its dosage instruction (MP9 daysSupply, dagen "
            "voorraad); used by the supply estimates where given.",
        ),
        Column("prescriber_id", Kind.TEXT, False, "The prescribing GP (AGB code or local id)."),
        Column("pharmacy_id", Kind.TEXT, False, "The dispensing pharmacy."),
        Column(
            "channel",
            Kind.TEXT,
            False,
            f"How it was prescribed: one of {', '.join(CHANNELS)}.",
            shown=Shown.CODE,
        ),
    ),
    rules=(
        _text_id_rule("patient_id"),
        _missing("date"),
        _missing("atc"),
        RowRule(
            ("atc",),
            "atc is not a 7-character ATC code such as N05BA01",
            lambda: (
                ~nw.col("atc").is_null()
                & ~nw.col("atc").cast(nw.String).str.contains(codes.ATC_PATTERN.pattern)
            ),
            by_value=_bad_atc_codes,
        ),
        _missing("quantity"),
        RowRule(
            ("quantity",),
            "quantity is not a finite number",
            lambda: ~nw.col("quantity").is_null() & ~nw.col("quantity").is_finite(),
            by_statistics=lambda statistics: statistics.exact_numbers,
        ),
        _positive("strength_mg"),
        _positive("days_supply"),
        _not_in("channel", CHANNELS),
    ),
)

PATIENTS = TableSchema(
    name="patients",
    columns=(
        Column("patient_id", Kind.TEXT, True, "Pseudonymous patient identifier."),
        Column("gp_id", Kind.TEXT, False, "The GP the patient is listed with (ingeschreven bij)."),
        Column("birth_date", Kind.DATE, False, "Date of birth.", sensitive=True),
        Column("sex", Kind.TEXT, False, f"One of {', '.join(SEXES)}.", shown=Shown.CODE),
        Column("initials", Kind.TEXT, False, "Initials (voorletters).", sensitive=True),
        Column("first_name", Kind.TEXT, False, "Given name (roepnaam).", sensitive=True),
        Column("name_prefix", Kind.TEXT, False, "Tussenvoegsel (van, de, ...).", sensitive=True),
        Column("family_name", Kind.TEXT, False, "Family name.", sensitive=True),
        Column("street", Kind.TEXT, False, "Street.", sensitive=True),
        Column("house_number", Kind.TEXT, False, "House number with addition.", sensitive=True),
        Column("postcode", Kind.TEXT, False, "Dutch postcode (1234 AB).", sensitive=True),
        Column("city", Kind.TEXT, False, "City (woonplaats).", sensitive=True),
        Column(
            "bsn",
            Kind.TEXT,
            False,
            "Burgerservicenummer; checked with the 11-test.",
            sensitive=True,
        ),
        Column(
            "status",
            Kind.TEXT,
            False,
            f"One of {', '.join(PATIENT_STATUSES)}; empty is active.",
            shown=Shown.CODE,
        ),
        Column("status_date", Kind.DATE, False, "Since when the status holds."),
        Column(
            "palliative",
            Kind.BOOLEAN,
            False,
            "True for a terminal patient or one in palliative care (screening); empty: unknown.",
        ),
        Column(
            "dutch_language",
            Kind.BOOLEAN,
            False,
            "True when the patient reads Dutch well enough to understand a letter (screening); "
            "empty: unknown.",
        ),
        Column(
            "immobile",
            Kind.BOOLEAN,
            False,
            "True when the patient cannot come to a consult at the practice (screening); "
            "empty: unknown.",
        ),
        Column(
            "serious_comorbidity",
            Kind.BOOLEAN,
            False,
            "True when the GP marked serious comorbidity (screening); empty: unknown.",
        ),
    ),
    rules=(
        _text_id_rule("patient_id"),
        unique_rule("patient_id"),
        _not_in("sex", SEXES),
        _not_in("status", PATIENT_STATUSES),
        RowRule(
            ("status", "status_date"),
            "status_date is missing for a status other than active",
            lambda: (
                ~nw.col("status").is_null()
                & (nw.col("status").cast(nw.String) != "active")
                & nw.col("status_date").is_null()
            ),
        ),
        RowRule(
            ("postcode",),
            "postcode is not a Dutch postcode (1234 AB)",
            lambda: (
                ~nw.col("postcode").is_null()
                & ~nw.col("postcode")
                .cast(nw.String)
                .str.strip_chars()
                .str.contains(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
            ),
        ),
        RowRule(("bsn",), "bsn fails the 11-test", _bsn_invalid),
    ),
)

EPISODES = TableSchema(
    name="episodes",
    columns=(
        Column("patient_id", Kind.TEXT, True, "Pseudonymous patient identifier."),
        Column(
            "icpc",
            Kind.TEXT,
            True,
            "ICPC-1 code (P06) or Dutch subcode (P74.01).",
            shown=Shown.CODE,
        ),
        Column("start", Kind.DATE, False, "Start of the episode; empty if unknown."),
        Column("end", Kind.DATE, False, "End of the episode; empty while it is open."),
    ),
    rules=(
        _text_id_rule("patient_id"),
        _missing("icpc"),
        RowRule(
            ("icpc",),
            "icpc is not an ICPC code such as P06 or P74.01",
            lambda: (
                ~nw.col("icpc").is_null()
                & ~nw.col("icpc").cast(nw.String).str.contains(codes.ICPC_PATTERN.pattern)
            ),
        ),
        RowRule(
            ("start", "end"),
            "end is before start",
            lambda: (
                ~nw.col("start").is_null()
                & ~nw.col("end").is_null()
                & (nw.col("end") < nw.col("start"))
            ),
        ),
    ),
)


@frozen
class Validation:
    """The outcome of validating a table: usable rows, rejected rows with reasons, and counts.

    ``valid`` and ``rejected`` are of the caller's kind (pandas in, pandas out; lazy in, lazy
    out). ``rejected`` has the input's columns plus ``reasons`` and, for eager inputs, ``row``:
    the row's position in the input, counting from 0.
    """

    table: str
    valid: Any
    rejected: Any
    rows_in: int
    rows_rejected: int
    reasons: Mapping[str, int] = field(factory=dict)
    """How many rows break each rule (a row may break several)."""
    examples: tuple[str, ...] = ()
    """Up to ten one-line descriptions of rejected rows. They quote a value only where it
    cannot be personal data (:func:`shown_value`) and describe any other value by its kind."""
    rule_columns: Mapping[str, tuple[str, ...]] = field(factory=dict)
    """The columns each rule that ran reads, by its reason (a reader reports a problem on the
    column its reason starts with)."""

    @property
    def rows_valid(self) -> int:
        """Rows that passed every rule."""
        return self.rows_in - self.rows_rejected

    def raise_if_rejected(self) -> None:
        """Raise :class:`~benzoredux.errors.InvalidRowsError` if any row was rejected."""
        if self.rows_rejected:
            raise InvalidRowsError(self.table, self.rows_in, self.rows_rejected, self.examples)


# --- implausible values ------------------------------------------------------------------------

FUTURE_MARGIN_DAYS = 31
"""How many days a dispensing date may lie after the later of today and the run's own date
(the reference or evaluation date). A pharmacy may register a delivery ahead (a prepared
repeat prescription, the next weeks of a medication-dispensing system's rolls); a month
covers that (this project's choice). Beyond it a date is a typing error (``2052`` for
``2025``) or a placeholder (``31-12-9999``), and the row is rejected rather than left to
count later."""

MAX_AGE_YEARS = 120
"""A birth date more than this many calendar years before the year of the run's date (for a
patient who left the practice: of the status date, if earlier) is refused: nobody reaches
that age (the oldest verified age is 122), while a placeholder such as ``01-01-1900`` or
``01-01-0001`` would make a patient "high age" in screening."""

MAX_QUANTITY = 10_000.0
"""The default largest plausible number of units in one dispensing (or return) of a
benzodiazepine. Dutch pharmacies hand out psychotropic drugs for at most 30 days and any drug
for chronic use for at most three months at a time (the 2017 agreement on dispensing periods
that the NHG, LHV, KNMP and others signed); even 15 tablets a day for 92 days is 1,380 units,
and three months of an oral solution of 1 mg/ml at 30 mg a day is 2,760 ml. A larger number is
a misread field (an article number in the quantity column, ``99999999999999999999``), and
would make a chronic user of anybody, or net a real year's use away as a return. Change it with
``max_quantity``."""


def _day(value: dt.date | None) -> dt.date | None:
    """A ``datetime`` as its calendar date; ``date`` and ``None`` as they are."""
    return value.date() if isinstance(value, dt.datetime) else value


class PlausibilityError(BenzoreduxError, ValueError):
    """An option of the rules on implausible values cannot be used (``max_quantity``)."""


def check_max_quantity(_instance: object, attribute: Any, value: object) -> None:
    """The attrs validator of every ``max_quantity`` option: a finite number above 0.

    Raises :class:`PlausibilityError`, which readers pass on as it is (not as a reader's
    failure)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise PlausibilityError(
            f"{attribute.name} must be a finite number above 0 (the most units one "
            f"dispensing may hold), got {value!r}"
        )


@frozen(kw_only=True)
class Plausibility:
    """The bounds beyond which a value cannot be real: dispensing dates too far ahead,
    birth dates in the future or too long ago, quantities too large for one dispensing.

    The bounds are relative to :meth:`basis`: the later of today and :attr:`as_of` (the
    reference or evaluation date of the run). Today, because no dispensing is registered much
    later than the export holding it was made, and an export is read after it was made;
    a retrospective run (a reference date in the past) reads an export that legitimately holds
    dispensings after its reference date. The run's date, because a run that looks ahead (a
    planned reference date, or synthetic data) must not lose the dispensings up to it.
    Readers have no reference date: their bound is the day they read.

    >>> import datetime as dt
    >>> looking_back = Plausibility(as_of=dt.date(2025, 6, 30), today=dt.date(2026, 3, 2))
    >>> looking_back.basis(), looking_back.latest_date()
    (datetime.date(2026, 3, 2), datetime.date(2026, 4, 2))
    >>> looking_ahead = Plausibility(as_of=dt.date(2026, 6, 30), today=dt.date(2026, 3, 2))
    >>> looking_ahead.basis(), looking_ahead.latest_date()
    (datetime.date(2026, 6, 30), datetime.date(2026, 7, 31))
    """

    as_of: dt.date | None = field(
        default=None,
        converter=_day,
        validator=validators.optional(validators.instance_of(dt.date)),
    )
    """The run's own date (reference or evaluation date); ``None``: today only."""
    max_quantity: float = field(default=MAX_QUANTITY, validator=check_max_quantity)
    """The most units one dispensing (or return) of a benzodiazepine may hold
    (:data:`MAX_QUANTITY` by default)."""
    today: dt.date | None = field(
        default=None,
        converter=_day,
        validator=validators.optional(validators.instance_of(dt.date)),
    )
    """The day of the run (``None``: the real today; tests fix it)."""

    def basis(self) -> dt.date:
        """The later of today and :attr:`as_of`: the day the bounds are counted from."""
        today = self.today or dt.date.today()  # noqa: DTZ011 - a local calendar date
        return max(today, self.as_of) if self.as_of is not None else today

    def latest_date(self) -> dt.date:
        """The last plausible dispensing date: :data:`FUTURE_MARGIN_DAYS` after the basis."""
        return self.basis() + dt.timedelta(days=FUTURE_MARGIN_DAYS)


def _midnight_after(day: dt.date) -> dt.datetime:
    """The first moment after ``day``: where a naive datetime column passes ``day``."""
    after = day + dt.timedelta(days=1)
    return dt.datetime(after.year, after.month, after.day)  # noqa: DTZ001 - local dates


def _after(name: str, dtype: nw.dtypes.DType, day: dt.date) -> nw.Expr:
    """True where the date or datetime column ``name`` lies after the calendar day ``day``."""
    if isinstance(dtype, nw.Datetime):
        return nw.col(name) >= _midnight_after(day)
    return nw.col(name) > day


def _before(name: str, dtype: nw.dtypes.DType, day: dt.date) -> nw.Expr:
    """True where the date or datetime column ``name`` lies before the calendar day ``day``."""
    if isinstance(dtype, nw.Datetime):
        return nw.col(name) < dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001
    return nw.col(name) < day


def _as_day(value: Any) -> dt.date | None:
    """A footer bound as a calendar date (``None`` when it is no date, or carries a zone)."""
    if isinstance(value, dt.datetime):
        return value.date() if value.tzinfo is None else None
    return value if isinstance(value, dt.date) else None


def _no_later_than(day: dt.date) -> Callable[[ColumnStatistics], bool]:
    """Footer proof that every value of a date column lies on or before ``day``."""

    def proven(statistics: ColumnStatistics) -> bool:
        if not statistics.bounded:
            return False
        if statistics.high is None:
            return True
        high = _as_day(statistics.high)
        return high is not None and high <= day

    return proven


def _no_earlier_than(day: dt.date) -> Callable[[ColumnStatistics], bool]:
    """Footer proof that every value of a date column lies on or after ``day``."""

    def proven(statistics: ColumnStatistics) -> bool:
        if not statistics.bounded:
            return False
        if statistics.low is None:
            return True
        low = _as_day(statistics.low)
        return low is not None and low >= day

    return proven


def _within(limit: float) -> Callable[[ColumnStatistics], bool]:
    """Footer proof that every value of a number column lies in ``[-limit, limit]``.

    NaN is left out of float statistics, but NaN breaks no quantity rule but the finite one;
    an infinite value is in the bounds and leaves the rule to the rows.
    """

    def proven(statistics: ColumnStatistics) -> bool:
        if not statistics.bounded:
            return False
        low, high = statistics.low, statistics.high
        if low is None or high is None:
            return low is None and high is None
        numbers = (int, float, decimal.Decimal)
        if not (isinstance(low, numbers) and isinstance(high, numbers)):
            return False
        return bool(-limit <= low and high <= limit)

    return proven


def _is_benzodiazepine(atc: str) -> bool:
    """Whether the code ``atc`` is a benzodiazepine's (the groups' own test, in Python)."""
    return any(g.contains(atc) for g in codes.benzodiazepine_groups())


def _benzodiazepine(atc: nw.Expr) -> nw.Expr:
    """True on the rows whose ATC code is a benzodiazepine's, by the groups' own tests."""
    return nw.any_horizontal(
        *(g.expression(atc) for g in codes.benzodiazepine_groups()), ignore_nulls=True
    )


def plausibility_rules(
    schema: TableSchema,
    columns: Mapping[str, nw.dtypes.DType],
    plausibility: Plausibility | None = None,
) -> list[RowRule]:
    """The rules on implausible values of ``schema`` for a table with ``columns`` (name to
    type), with the bounds of ``plausibility`` (by default: today's).

    Dispensings: a ``date`` more than :data:`FUTURE_MARGIN_DAYS` after the basis
    (:meth:`Plausibility.basis`), and a benzodiazepine's ``quantity`` beyond
    ``max_quantity`` either way (a return of more units than that is no real return either).
    Patients: a ``birth_date`` after the basis, or more than :data:`MAX_AGE_YEARS` calendar
    years before it (for a patient who left the practice: before the year of the
    ``status_date``, when that is earlier). The bounds are computed once, so every row of one
    run is held to the same day. Other drugs' quantities are not checked: no rule counts their
    units (co-medication counts as a prescription), and refusing such a row could tempt a user
    to drop co-medication that must exclude a patient.
    """
    bounds = plausibility or Plausibility()
    basis = bounds.basis()
    rules: list[RowRule] = []
    if schema is DISPENSINGS:
        if "date" in columns:
            latest = bounds.latest_date()
            date_type = columns["date"]
            rules.append(
                RowRule(
                    ("date",),
                    f"date is after {latest.isoformat()}, more than {FUTURE_MARGIN_DAYS} days "
                    f"after {basis.isoformat()}: not a plausible dispensing date",
                    lambda: ~nw.col("date").is_null() & _after("date", date_type, latest),
                    by_statistics=_no_later_than(latest),
                )
            )
        if "quantity" in columns and "atc" in columns:
            limit = bounds.max_quantity
            # An integer column is compared with a whole number: pyarrow refuses to compare an
            # integer beyond 2**53 (a misread field) with a float, where it must flag the row.
            # For integers, "above the limit" is "above its whole part".
            integers = (
                isinstance(columns["quantity"], nw.dtypes.DType)
                and columns["quantity"].is_integer()
            )
            bound: float = math.floor(limit) if integers else limit

            def beyond() -> nw.Expr:
                quantity = nw.col("quantity")
                return (
                    ~quantity.is_null()
                    & quantity.is_finite()
                    & ((quantity > bound) | (quantity < -bound))
                )

            def too_many(benzodiazepine: nw.Expr) -> nw.Expr:
                return beyond() & benzodiazepine

            rules.append(
                RowRule(
                    ("quantity", "atc"),
                    f"quantity is beyond {limit:g} units, implausible for one dispensing or "
                    "return of a benzodiazepine (a real one: raise the maximum with max_quantity, "
                    "on the command line --max-quantity)",
                    lambda: too_many(_benzodiazepine(nw.col("atc").cast(nw.String))),
                    by_statistics=_within(limit),
                    by_distinct=lambda distinct: too_many(
                        distinct.atc_in(codes.benzodiazepine_groups())
                    ),
                    atc_filter=_is_benzodiazepine,
                    per_code=beyond,
                )
            )
    if schema is PATIENTS and "birth_date" in columns:
        birth_type = columns["birth_date"]
        rules.append(
            RowRule(
                ("birth_date",),
                f"birth_date is after {basis.isoformat()}: in the future",
                lambda: ~nw.col("birth_date").is_null() & _after("birth_date", birth_type, basis),
                by_statistics=_no_later_than(basis),
            )
        )
        first_year = basis.year - MAX_AGE_YEARS
        if "status" in columns and "status_date" in columns:

            def too_old() -> nw.Expr:
                # Years are not cast: pandas and Dask give a missing date's year as NaN, which
                # no integer type holds; the comparisons are false on it.
                status_year = nw.col("status_date").dt.year()
                left = (
                    nw.col("status").cast(nw.String).is_in(list(LEFT_PRACTICE))
                    & ~nw.col("status_date").is_null()
                    & (status_year < basis.year)
                )
                last_year = nw.when(left).then(status_year).otherwise(nw.lit(basis.year))
                born = nw.col("birth_date").dt.year()
                return ~nw.col("birth_date").is_null() & (born < last_year - MAX_AGE_YEARS)

            rules.append(
                RowRule(
                    ("birth_date", "status", "status_date"),
                    f"birth_date is more than {MAX_AGE_YEARS} years before {basis.year} (for "
                    "a patient who left: before the year of the status_date): implausibly old",
                    too_old,
                    by_statistics=_no_earlier_than(dt.date(first_year, 1, 1)),
                )
            )
        else:
            rules.append(
                RowRule(
                    ("birth_date",),
                    f"birth_date is more than {MAX_AGE_YEARS} years before {basis.year}: "
                    "implausibly old",
                    lambda: (
                        ~nw.col("birth_date").is_null()
                        & _before("birth_date", birth_type, dt.date(first_year, 1, 1))
                    ),
                    by_statistics=_no_earlier_than(dt.date(first_year, 1, 1)),
                )
            )
    return rules


def form_rule(extra_forms: Mapping[str, bool] | None = None) -> RowRule:
    """The rule that a dosage form, when given, is one the library knows.

    An unknown form is refused rather than guessed: counting drops or suppositories as tablets,
    or tablets as not counting, would change who is a chronic user. The rule reads only
    benzodiazepine rows: the form of other drugs (a fentanyl patch) changes nothing, and
    refusing such a row could tempt a user to drop co-medication that must exclude a patient.
    ``extra_forms`` adds names.
    """
    known = sorted({*codes.dosage_forms(), *(extra_forms or {})})

    def benzo() -> nw.Expr:
        atc = nw.col("atc").cast(nw.String)
        return nw.any_horizontal(
            *(g.expression(atc) for g in codes.benzodiazepine_groups()),
            ignore_nulls=True,
        )

    def invalid() -> nw.Expr:
        form = nw.col("form").cast(nw.String).str.strip_chars().str.to_lowercase()
        return benzo() & ~nw.col("form").is_null() & ~form.is_in(known)

    def is_benzodiazepine(atc: str) -> bool:
        return any(g.contains(atc) for g in codes.benzodiazepine_groups())

    def by_value(values: Iterable[tuple[Any, ...]]) -> nw.Expr | None:
        known_set = set(known)
        bad = sorted(
            {
                str(form)
                for form, atc in values
                if form is not None
                and atc is not None
                and is_benzodiazepine(str(atc))
                and str(form).strip().lower() not in known_set
            }
        )
        return benzo() & nw.col("form").cast(nw.String).is_in(bad) if bad else None

    return RowRule(
        ("form", "atc"),
        "form of a benzodiazepine is not a known dosage form (add it with extra_forms)",
        invalid,
        by_value=by_value,
        atc_filter=is_benzodiazepine,
    )


def _rules(
    schema: TableSchema,
    columns: Mapping[str, Any],
    forms: Mapping[str, bool] | None,
    plausibility: Plausibility | None = None,
) -> list[RowRule]:
    rules = list(schema.rules)
    if schema is DISPENSINGS:
        rules.append(form_rule(forms))
    rules += plausibility_rules(schema, columns, plausibility)
    return [r for r in rules if all(c in columns for c in r.columns)]


def rule_columns(
    schema: TableSchema,
    columns: Mapping[str, Any],
    *,
    forms: Mapping[str, bool] | None = None,
    plausibility: Plausibility | None = None,
) -> dict[str, tuple[str, ...]]:
    """The row rules :func:`validate` runs on a table with ``columns`` (name -> type), by
    reason, with the columns each reads (:attr:`Validation.rule_columns`), without building or
    running any of them: a reader asks this before it decides what to check, and on a table
    of a few hundred distinct values, building the rules' expressions costs more than the
    check."""
    return _columns_read(_rules(schema, columns, forms, plausibility))


def _columns_read(rules: Iterable[RowRule]) -> dict[str, tuple[str, ...]]:
    """Per rule's reason, the columns it reads."""
    return {rule.reason: rule.columns for rule in rules}


def _invalid_expressions(rules: Iterable[RowRule], distinct: DistinctValues) -> dict[str, nw.Expr]:
    """Each rule's expression for the bad rows; value-level rules look at distinct values first
    and drop out when no value is bad (on a Parquet scan, whose values are not read, they keep
    their definition)."""
    expressions: dict[str, nw.Expr] = {}
    for rule in rules:
        if rule.by_distinct is not None:
            expressions[rule.reason] = rule.by_distinct(distinct)
            continue
        if rule.by_bounds is not None:
            expressions[rule.reason] = rule.by_bounds(*distinct.bounds(rule.columns[0]))
            continue
        if rule.by_value is None or distinct.scan:
            expressions[rule.reason] = rule.invalid()
            continue
        expr = rule.by_value(distinct.rows(rule.columns, rule.atc_filter))
        if expr is not None:
            expressions[rule.reason] = expr
    return expressions


def _any(invalid: Iterable[nw.Expr]) -> nw.Expr:
    exprs = list(invalid)
    return nw.any_horizontal(*exprs, ignore_nulls=True) if exprs else nw.lit(value=False)


_POSITION = "__benzoredux_row"


def _with_row_numbers(frame: IntoFrame) -> Any:
    native = frame if isinstance(frame, nw.DataFrame | nw.LazyFrame) else nw.from_native(frame)
    return native.with_row_index(_POSITION) if isinstance(native, nw.DataFrame) else native


def validate(
    frame: IntoFrame,
    schema: TableSchema,
    *,
    engine: Engine = "auto",
    forms: Mapping[str, bool] | None = None,
    examples: int = 10,
    plausibility: Plausibility | None = None,
) -> Validation:
    """Split ``frame`` into usable and rejected rows under ``schema``.

    Column problems raise at once (:class:`~benzoredux.errors.MissingColumnsError`,
    :class:`~benzoredux.errors.ColumnTypeError`); row problems never raise here: they come back
    in :attr:`Validation.rejected`, and the counts reconcile. ``forms`` adds dosage-form names
    (name -> solid oral) to the shipped list, for the dispensings' ``form`` column.
    ``plausibility`` sets the bounds of the rules on implausible values
    (:func:`plausibility_rules`; by default today's, and :data:`MAX_QUANTITY`).
    """
    execution = Execution.for_input(frame, engine)
    lazy = execution.lazy(_with_row_numbers(frame), schema.name)
    columns = {k: v for k, v in lazy.collect_schema().items() if k != _POSITION}
    schema.check_columns(columns)
    numbered = _POSITION in lazy.collect_schema()
    rules = _rules(schema, columns, forms, plausibility)
    invalid = _invalid_expressions(rules, DistinctValues(lazy))
    if any(r.counted_by for r in rules):
        lazy = with_counts(lazy, rules)
        if numbered:
            lazy = lazy.sort(_POSITION)
    any_invalid = _any(invalid.values())
    # Flags first, sums after: SQL engines refuse a window (duplicates) inside an aggregate.
    flags = {f"__rule{i}": expr.cast(nw.Int64) for i, expr in enumerate(invalid.values())}
    counts = (
        lazy.with_columns(__rejected=any_invalid.cast(nw.Int64), **flags)
        .select(
            nw.len().alias("__rows"),
            nw.col("__rejected").sum(),
            *(nw.col(name).sum() for name in flags),
        )
        .collect()
        .rows(named=True)[0]
    )
    reasons_expr = nw.concat_str(
        [nw.when(expr).then(nw.lit(reason)) for reason, expr in invalid.items()] or [nw.lit("")],
        separator="; ",
        ignore_nulls=True,
    )
    input_columns = list(columns)
    valid = lazy.filter(~any_invalid).select(input_columns)
    rejected = lazy.filter(any_invalid).with_columns(reasons_expr.alias(REASONS))
    position = (ROW if ROW not in columns else _POSITION) if numbered else None
    rejected = rejected.select(
        *([nw.col(_POSITION).alias(position)] if position else []), *input_columns, REASONS
    )
    n_rejected = int(counts["__rejected"] or 0)
    return Validation(
        table=schema.name,
        valid=execution.finish(valid),
        rejected=execution.finish(rejected),
        rows_in=int(counts["__rows"]),
        rows_rejected=n_rejected,
        reasons={
            reason: int(counts[f"__rule{i}"] or 0)
            for i, reason in enumerate(invalid)
            if counts[f"__rule{i}"]
        },
        examples=_describe(rejected, schema, rules, examples, position) if n_rejected else (),
        rule_columns=_columns_read(rules),
    )


def check_rows(
    frame: IntoFrame | PathSource,
    lazy: nw.LazyFrame[Any],
    schema: TableSchema,
    execution: Execution,
    *,
    forms: Mapping[str, bool] | None = None,
    used: Iterable[str] | None = None,
    distinct: DistinctValues | None = None,
    plausibility: Plausibility | None = None,
    slices: Iterable[nw.LazyFrame[Any]] | None = None,
) -> None:
    """Raise unless every row of ``lazy`` (prepared from ``frame``) is usable.

    The algorithms call this on their inputs: one aggregate pass, no row numbers. Only when
    something is wrong is the input looked at again, with row numbers, to say where. ``used``
    limits the row rules to those reading only these columns (what the algorithm reads).
    ``distinct`` shares distinct values with the caller, which needs the same ones.
    ``plausibility`` gives the bounds of the rules on implausible values, usually with the
    run's reference date (:class:`Plausibility`). ``slices``, the same rows as ``lazy`` in
    slices (:meth:`benzoredux.engine.ArrowBatches.slices`), has the pass run slice by slice,
    its counts added up.
    """
    columns = lazy.collect_schema()
    schema.check_columns(columns)
    # The bounds are fixed here, once, so that the re-check below holds the rows to the same.
    bounds = plausibility or Plausibility()
    basis = bounds.basis()
    bounds = Plausibility(as_of=basis, today=basis, max_quantity=bounds.max_quantity)
    rules = _rules(schema, columns, forms, bounds)
    if used is not None:
        keep = set(used)
        rules = [r for r in rules if set(r.columns) <= keep]
    dataset = parquet_dataset(frame) if rules else None
    if dataset is not None:
        footers = _footer_statistics(dataset, lazy)
        if footers is not None:
            rules = [r for r in rules if not _proven(r, footers)]
    if not rules:
        return
    distinct = distinct or DistinctValues(lazy, scan=execution.scans_parquet(frame))
    if distinct.scan and not any(r.counted_by for r in rules):
        expressions = _invalid_expressions(rules, distinct)
        bad = bool(expressions) and _breaks_any(lazy, expressions.values())
    else:
        bad = _breaks_any_grouped(lazy, rules, distinct, slices)
    if bad:
        # The re-check with row numbers sees the columns read plus the required ones (which
        # the schema insists on even when the algorithm does not read them).
        wanted = set(schema.required) | (set(used) if used is not None else set(columns))
        subset = [c for c in columns if c in wanted]
        native: Any = Execution.as_frame(frame, "input")
        validate(
            native.select(subset), schema, engine="native", forms=forms, plausibility=bounds
        ).raise_if_rejected()


def _breaks_any_grouped(
    lazy: nw.LazyFrame[Any],
    rules: Sequence[RowRule],
    distinct: DistinctValues,
    slices: Iterable[nw.LazyFrame[Any]] | None = None,
) -> bool:
    """Whether a row of ``lazy`` breaks one of ``rules``: one grouped pass over the rows.

    The rows are grouped by their distinct ATC code and dosage form
    (:attr:`DistinctValues.JOINT`, a few hundred pairs), and per group the pass counts the
    rows each rule flags. From those few rows,
    in Python:

    * a rule on the code and form only (the ATC pattern, the dosage form) is decided on the
      distinct pairs (:attr:`RowRule.by_value`);
    * a rule on some drugs only (:attr:`RowRule.per_code`: a benzodiazepine's quantity beyond
      the maximum) counts its other condition per code, and the codes are tested in Python;
    * a blank identifier is ruled out by counting the values that do not start with a
      character that rules it out (:func:`_outside_non_blank`, what the bounds of
      :attr:`RowRule.by_bounds` say): only when there are some is the rule counted over the
      rows, in a second pass;
    * every other rule is counted over the rows in the same pass.

    The distinct pairs are handed to ``distinct``, which the query reads next. So the checks
    cost one pass over the rows on every engine (they cost three: the identifiers' bounds,
    the distinct pairs and the rule counts, each a pass of its own; on a DuckDB relation over
    Parquet files, each pass reads the files again).

    With ``slices`` (the same rows in parts) the pass runs on each part, and the summaries of
    the parts are added up: counts summed, bounds widened. There the grouping by code and form
    takes only the counts that are needed per code (:attr:`RowRule.per_code`), and every other
    rule is counted over the whole part, ungrouped: polars' grouped sums cost more than the
    rest of the pass (measured on 10 million rows: 1.30 s of CPU with every count grouped,
    0.57 s with the counts ungrouped), and a part in memory is not read twice by the second
    query. The parts hold only the columns the pass reads; the missing values of a text
    identifier, and whether one may be blank, come from its bounds in the Arrow data itself
    where it lies, when ``slices`` can give them
    (:meth:`benzoredux.engine.ArrowSlices.text_bounds`). Rules that count values across
    rows (:attr:`RowRule.counted_by`) need the whole table: then ``slices`` is not used.
    The verdicts are decided alike from either summary.
    """
    columns = lazy.collect_schema()
    keys = [c for c in DistinctValues.JOINT if c in columns] if "atc" in columns else []
    flags: dict[str, nw.Expr] = {}  # per-row flags, counted per group
    per_code: dict[str, RowRule] = {}  # by flag name: "__code{i}"
    by_value: list[RowRule] = []
    bounded: dict[int, RowRule] = {}  # flags "__null{i}" and "__outside{i}"
    reads: dict[str, tuple[str, ...]] = {}  # the columns of each flag and text
    for i, rule in enumerate(rules):
        if rule.by_value is not None and keys and set(rule.columns) <= set(keys):
            by_value.append(rule)
        elif rule.per_code is not None and rule.atc_filter is not None and keys:
            flags[f"__code{i}"] = rule.per_code()
            per_code[f"__code{i}"] = rule
            reads[f"__code{i}"] = rule.columns
        elif rule.by_bounds is not None and not columns[rule.columns[0]].is_integer():
            flags[f"__null{i}"] = nw.col(rule.columns[0]).is_null()
            flags[f"__outside{i}"] = _outside_non_blank(nw.col(rule.columns[0]).cast(nw.String))
            bounded[i] = rule
        else:  # an integer identifier is never blank: its rule flags missing values only
            flags[f"__rule{i}"] = rule.invalid()
            reads[f"__rule{i}"] = rule.columns

    if slices is not None and not any(r.counted_by for r in rules):
        groups, totals = _sliced_summary(
            slices, keys, flags=flags, per_code=per_code, bounded=bounded, reads=reads
        )
    else:
        groups = _grouped_summary(lazy, rules, keys, flags)
        counts = [{n: v for n, v in g.items() if n in flags} for g in groups]
        totals = _added_up(counts, ())[0] if counts else {}
    found = DistinctValues(lazy)
    if keys:
        pairs = [tuple(g[k] for k in keys) for g in groups]
        found.seed(tuple(keys), pairs)
        distinct.seed(tuple(keys), pairs)  # the query reads the same distinct pairs next
    for rule in by_value:
        values = found.rows(rule.columns, rule.atc_filter)
        if rule.by_value is not None and rule.by_value(values) is not None:
            return True
    for name, rule in per_code.items():
        assert rule.atc_filter is not None
        if any(g[name] and g["atc"] is not None and rule.atc_filter(str(g["atc"])) for g in groups):
            return True
    if any(totals.get(name) for name in flags if name.startswith("__rule")):
        return True
    for i, rule in bounded.items():
        if totals.get(f"__null{i}"):
            return True
        if totals.get(f"__outside{i}"):
            # Some value may be blank: the rule itself, over the rows.
            blank = lazy.with_columns(__blank=rule.invalid().cast(nw.Int64))
            if blank.select(nw.col("__blank").sum()).collect().item():
                return True
    return False


def _grouped_summary(
    lazy: nw.LazyFrame[Any],
    rules: Sequence[RowRule],
    keys: Sequence[str],
    flags: Mapping[str, nw.Expr],
) -> list[dict[str, Any]]:
    """One grouped pass over ``lazy``: per distinct key, the rows and each flag's count (one
    row without ``keys``). The pass of :func:`_breaks_any_grouped` on every engine: one
    query, so that a lazy input is read once."""
    aggregates = [nw.len().alias("__rows"), *(nw.col(name).sum().alias(name) for name in flags)]
    # Flags first, sums after: SQL engines refuse some expressions inside an aggregate.
    flagged = with_counts(lazy, rules).with_columns(
        **{name: expr.cast(nw.Int64) for name, expr in flags.items()}
    )
    grouped = (
        flagged.group_by(*keys, drop_null_keys=False).agg(*aggregates)
        if keys
        else flagged.select(*aggregates)
    )
    return grouped.collect().rows(named=True)


def _sliced_summary(
    slices: Iterable[nw.LazyFrame[Any]],
    keys: Sequence[str],
    *,
    flags: Mapping[str, nw.Expr],
    per_code: Mapping[str, RowRule],
    bounded: Mapping[int, RowRule],
    reads: Mapping[str, Sequence[str]],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The pass of :func:`_breaks_any_grouped` over a table in parts (in memory, each read
    twice at no cost): per distinct key, the rows and the :attr:`RowRule.per_code` counts; and
    over all rows, every other count. Both added up over the parts.
    ``reads`` gives the columns of each flag that is not a text identifier's. Slices that keep
    rows for the queries after the checks (:attr:`~benzoredux.engine.ArrowSlices.kept`) hand
    each part to them, with the distinct values its grouping found."""
    totals: list[dict[str, Any]] = []
    if isinstance(slices, ArrowSlices):
        read = {*keys, *(c for columns in reads.values() for c in columns)}
        flags = dict(flags)
        for i, rule in bounded.items():
            # A text identifier's missing values from the Arrow data, unconverted, and from its
            # bounds there whether a value may be blank.
            found = slices.text_bounds(rule.columns[0])
            if found is None:
                read.add(rule.columns[0])
                continue
            nulls, low, high = found
            outside = int(low is not None and not _starts_non_blank(low, high))
            totals.append({f"__null{i}": nulls, f"__outside{i}": outside})
            del flags[f"__null{i}"], flags[f"__outside{i}"]
        slices = slices.select(read)
    counted = [name for name in flags if name not in per_code]
    groups: list[dict[str, Any]] = []
    kept = slices.kept if isinstance(slices, ArrowSlices) else None
    for part in slices:
        flagged = part.with_columns(**{name: expr.cast(nw.Int64) for name, expr in flags.items()})
        part_groups: list[dict[str, Any]] = []
        if keys:
            grouped = flagged.group_by(*keys, drop_null_keys=False).agg(
                nw.len().alias("__rows"), *(nw.col(name).sum().alias(name) for name in per_code)
            )
            part_groups = grouped.collect().rows(named=True)
            groups += part_groups
        part_totals = (
            flagged.select(
                nw.len().alias("__rows"),
                *(nw.col(name).sum().alias(name) for name in counted),
            )
            .collect()
            .rows(named=True)
        )
        totals += part_totals
        if kept is not None:
            # The slice is in memory: the rows the queries read next are kept from it now
            # (chosen by the codes its grouping found), not read from the table again.
            present = DistinctValues(part)
            if keys:
                present.seed(tuple(keys), [tuple(g[k] for k in keys) for g in part_groups])
            kept.take(part, present, int(part_totals[0]["__rows"]))
    total = _added_up(totals, ())
    return _added_up(groups, keys), total[0] if total else {}


def _added_up(groups: Iterable[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """The groups of several parts of one table as the groups of the whole: per key, the
    counts (``__rows``, the flags) summed (a missing count, :func:`_is_missing`, is not one).
    A part may lack some of the counts (those taken from the Arrow data are a part of their
    own)."""
    total: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group in groups:
        key = tuple(group[k] for k in keys)
        if key not in total:
            total[key] = {name: group[name] if name in keys else None for name in group}
        into = total[key]
        for name, value in group.items():
            if name in keys or _is_missing(value):
                continue
            if into.get(name) is None:  # absent from the parts added so far, or missing
                into[name] = value
            else:
                into[name] += value
    return list(total.values())


def _is_missing(value: object) -> bool:
    """Whether an aggregate's value is missing: ``None``, or what a backend gives as the sum of
    a group with no value to sum (NaN, ``pd.NA`` or ``pd.NaT``)."""
    if isinstance(value, float):
        return math.isnan(value)
    return value is None or type(value).__name__ in {"NAType", "NaTType"}


def _breaks_any(lazy: nw.LazyFrame[Any], invalid: Iterable[nw.Expr]) -> bool:
    """Whether a row of the Parquet scan ``lazy`` is ``invalid`` by one of the expressions: a
    filter per rule.

    Polars evaluates a filter on the dictionary of a dictionary-encoded column where it can:
    the ATC and dosage-form rules over 100 million rows take a tenth of a second this way. The
    same rules joined with "or" into one filter, or their distinct values read first, take
    ten times longer (measured with ``benchmarks/bench_scale.py``).
    """
    return any(lazy.filter(expr).select(nw.len()).collect().item() for expr in invalid)


def _footer_statistics(source: ParquetDataset, lazy: nw.LazyFrame[Any]) -> DatasetStatistics | None:
    """The Parquet footer statistics of ``source`` (a path, or the sources of a bare polars
    scan), if they describe the rows of ``lazy``.

    ``None`` when the footers cannot be read or their files hold another number of rows than
    the scan (see :mod:`benzoredux.parquet_statistics`): then every rule runs over the rows.
    Also ``None`` for a dataset of fewer than :data:`FOOTERS_FROM_ROWS` rows in a process that
    has not loaded pyarrow yet, which reads the footers: loading it (about 0.1 s) costs more
    than checking so few rows, and a practice's first selection in a fresh process should not
    pay it (issue 19: ``import benzoredux`` and a first selection under 0.3 s).
    """
    rows = lazy.select(nw.len()).collect().item()  # polars counts from the footers itself
    if rows < FOOTERS_FROM_ROWS and not _pyarrow_loaded():
        return None
    try:
        statistics = read_statistics(source)
    except (OSError, ValueError):
        return None
    return statistics if statistics.rows == rows else None


def _pyarrow_loaded() -> bool:
    return "pyarrow" in sys.modules


FOOTERS_FROM_ROWS = 1_000_000
"""From how many rows on a Parquet dataset's footer statistics are read to spare checks
(:func:`check_rows`), in a process that has not loaded pyarrow yet, which reads them: loading
it takes about 0.1 s, more than checking fewer rows over the rows themselves (for a million
rows the checks take a few hundredths of a second). With pyarrow loaded the footers are always
read."""


def _proven(rule: RowRule, footers: DatasetStatistics) -> bool:
    """Whether the footer statistics (of the rule's first column) prove that no row breaks
    ``rule``."""
    if rule.by_statistics is None:
        return False
    column = footers.columns.get(rule.columns[0])
    return column is not None and rule.by_statistics(column)


def _describe(
    rejected: nw.LazyFrame[Any],
    schema: TableSchema,
    rules: Iterable[RowRule],
    limit: int,
    position: str | None,
) -> tuple[str, ...]:
    """One line per rejected row: where it is, what is wrong, and the values of the columns the
    rule reads, each quoted or described as :func:`_shown` decides (never personal data)."""
    by_reason = {rule.reason: rule.columns for rule in rules}
    lines = []
    for row in rejected.head(limit).collect().rows(named=True):
        where = f"row {row[position]}" if position else "a row"
        parts = []
        for reason in str(row[REASONS]).split("; "):
            shown = ", ".join(
                f"{name}={_shown(schema, name, row.get(name))}"
                for name in by_reason.get(reason, ())
            )
            parts.append(f"{reason} ({shown})" if shown else reason)
        lines.append(f"{where}: {'; '.join(parts)}")
    return tuple(lines)


def _shown(schema: TableSchema, name: str, value: object) -> str:
    """A value in a rejected row's description: quoted only if :func:`shown_value` allows it."""
    if value is None:
        return "empty"
    column = schema.column(name)
    if column.sensitive:
        return "<hidden>"
    shown = shown_value(column, value)
    return shown if shown is not None else f"<hidden: {describe_value(value)}>"


_CODE = re.compile(r"^[A-Z](?:[0-9]{2}(?:\.[0-9]{1,3}|[A-Z]{1,2}[0-9]{0,3})?)?$", re.IGNORECASE)
_SHORT_NUMBER = re.compile(r"^[+-]?(?:[0-9]{1,4}(?:[.,][0-9]{1,3})?|[.,][0-9]{1,3})$")


def shown_value(column: Column, value: object) -> str | None:
    """``value`` as a message may quote it, or ``None`` when it must not be quoted.

    Quoted only when ``column`` allows it (:attr:`Column.shown`) and the value has that shape
    (:class:`Shown`); text comes quoted and cut to
    :data:`~benzoredux.errors.SHOWN_LENGTH` characters, numbers as numbers. A caller describes
    a value it may not quote with :func:`~benzoredux.errors.describe_value`.

    >>> atc = DISPENSINGS.column("atc")
    >>> shown_value(atc, "N05BA1"), shown_value(atc, "Vermeulen")
    ("'N05BA1'", None)
    >>> quantity = DISPENSINGS.column("quantity")
    >>> shown_value(quantity, "1.5"), shown_value(quantity, 2.5), shown_value(quantity, "123456782")
    ("'1.5'", '2.5', None)
    """
    if value is None or column.sensitive or column.shown is Shown.NEVER:
        return None
    if isinstance(value, str):
        text = value.strip()
        pattern = _CODE if column.shown is Shown.CODE else _SHORT_NUMBER
        return repr(shorten(text)) if pattern.match(text) else None
    if column.shown is not Shown.NUMBER or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return str(int(value)) if abs(int(value)) < 10_000 else None
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return repr(number)
        return repr(number) if _SHORT_NUMBER.match(repr(number)) else None
    return None


def validate_dispensings(
    frame: IntoFrame,
    *,
    engine: Engine = "auto",
    extra_forms: Mapping[str, bool] | None = None,
    plausibility: Plausibility | None = None,
) -> Validation:
    """:func:`validate` with the :data:`DISPENSINGS` schema (and extra dosage-form names, and
    the bounds of implausible values)."""
    return validate(frame, DISPENSINGS, engine=engine, forms=extra_forms, plausibility=plausibility)


def validate_patients(
    frame: IntoFrame, *, engine: Engine = "auto", plausibility: Plausibility | None = None
) -> Validation:
    """:func:`validate` with the :data:`PATIENTS` schema (and the bounds of implausible
    values)."""
    return validate(frame, PATIENTS, engine=engine, plausibility=plausibility)


def validate_episodes(frame: IntoFrame, *, engine: Engine = "auto") -> Validation:
    """:func:`validate` with the :data:`EPISODES` schema."""
    return validate(frame, EPISODES, engine=engine)
