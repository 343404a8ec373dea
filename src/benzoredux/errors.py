"""Exceptions with messages a practice assistant or a developer can act on, without personal data.

Every message names the table (or file), the line or row, the column and what is wrong. It
quotes a value only where the value cannot be personal data, and then at most
:data:`SHOWN_LENGTH` characters of it: which values of which column may be quoted is part of
the table schema (:class:`~benzoredux.tables.Shown`, per column on :doc:`/domain/tables`). Any
other value is *described* by its kind (:func:`describe_value`: "a date", "a nine-digit
number", "a word"), which is usually enough to see a swapped or shifted column. Why so strict:
messages end up where patient data must not, in a terminal's scroll-back, a log file, a
support ticket or a screenshot; and a column swapped by a bad export puts names, BSNs and birth
dates into columns whose values would otherwise be harmless (:doc:`/privacy`).

Column names are data too when a file has no header line: its first record is then taken for
the column names. :func:`describe_columns` quotes names only when they do not look like data.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "SHOWN_LENGTH",
    "BenzoreduxError",
    "ColumnTypeError",
    "DataCoverageWarning",
    "IdentifierWarning",
    "InvalidRowsError",
    "MissingColumnsError",
    "UnknownCodesWarning",
    "describe_columns",
    "describe_value",
    "looks_like_data",
    "shorten",
]

SHOWN_LENGTH = 12
"""At most this many characters of a value a message may quote (:func:`shorten`)."""

_DATE = re.compile(
    r"^(?:\d{1,4}[-/. ]\d{1,2}[-/. ]\d{1,4}|\d{4}-\d{2}-\d{2})(?:[ T][0-9:.,+\-Z ]*)?$"
)
"""Day-first, month-first or ISO dates with any separator, with or without a time."""
_NINE_DIGITS = re.compile(r"^\d{3}[ .\-]?\d{3}[ .\-]?\d{3}$|^\d{9}$")
"""A nine-digit number, as a BSN is written (also in groups of three)."""
_POSTCODE = re.compile(r"^[1-9]\d{3} ?[A-Za-z]{2}$")
_NUMBER = re.compile(r"^[+-]?(?:\d[\d.,' ]*|[.,]\d+)(?:[eE][+-]?\d+)?$")
_WORD = re.compile(r"^[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*\.?$")
_WORDS = re.compile(r"^[^\W\d_]+(?:[-'\u2019. ]+[^\W\d_]+)*\.?$")


def shorten(text: str, limit: int = SHOWN_LENGTH) -> str:
    """``text`` cut to ``limit`` characters (the last one ``…``) for a message.

    >>> shorten("N05BA01"), shorten("tablet met gereguleerde afgifte")
    ('N05BA01', 'tablet met …')
    """
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def describe_value(value: object) -> str:
    """What kind of value ``value`` is, in words that never contain the value itself.

    A message says this instead of quoting a value that could be personal data: the kind tells
    a swapped column (a date where a number belongs, a word where a code belongs) without
    showing whose date or which word. A date also gets its layout, every digit written as
    ``9``, because the usual mistake is a date in another format.

    >>> describe_value("12/05/1948"), describe_value("123456782"), describe_value("2601 DC")
    ('a date written like 99/99/9999', 'a nine-digit number', 'a postcode')
    >>> describe_value("1.5"), describe_value("Vermeulen"), describe_value("de Vries")
    ('a number', 'a word', 'words')
    >>> describe_value(None), describe_value(99999999999999999999)
    ('empty', 'a number of 20 digits')
    """
    if value is None:
        return "empty"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return _number_words(_digits(str(abs(int(value)))))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return "not a number (NaN)"
        if math.isinf(number):
            return "an infinite number"
        return _number_words(_digits(f"{abs(number):.0f}"))
    text = str(value).strip()
    if not text:
        return "empty"
    if _DATE.match(text):
        return "a date written like " + shorten(re.sub(r"\d", "9", text), 2 * SHOWN_LENGTH)
    if _NINE_DIGITS.match(text):
        return "a nine-digit number"
    if _POSTCODE.match(text):
        return "a postcode"
    if _NUMBER.match(text):
        return _number_words(_digits(text))
    if _WORD.match(text):
        return "a word"
    if _WORDS.match(text):
        return "words"
    return "text"


def _number_words(digits: int) -> str:
    if digits == 9:
        return "a nine-digit number"
    return "a number" if digits <= 4 else f"a number of {digits} digits"


def _kind(name: str) -> str | None:
    """The kind of a column name that looks like data, or ``None`` for a plausible name."""
    text = name.strip()
    if _DATE.match(text):
        return "date"
    if _NINE_DIGITS.match(text):
        return "nine-digit number"
    if _POSTCODE.match(text):
        return "postcode"
    if _NUMBER.match(text):
        return "number"
    return None


def looks_like_data(names: Iterable[object]) -> bool:
    """Whether column names look like a record of data rather than a header line.

    A header line holds names such as ``Afleverdatum`` or ``Aantal``; a date, a number or a
    postcode among them means the file has no header line and its first record (someone's
    BSN, birth date and postcode) was taken for the column names. Column names that are not
    text (the positions ``0, 1, 2`` of a frame read without a header) are not data.
    """
    return any(isinstance(n, str) and _kind(n) is not None for n in names)


def describe_columns(names: Sequence[object]) -> str:
    """The column names as a message may list them: quoted, or described when they look like
    data (:func:`looks_like_data`).

    >>> describe_columns(["Patientnummer", "Aantal"])
    "'Patientnummer', 'Aantal'"
    >>> describe_columns(["A1001", "123456782", "Berg", "14-03-1948", "2601 DC", "30"])
    ... # doctest: +NORMALIZE_WHITESPACE
    '6 fields that look like data, not column names (1 date, 1 nine-digit number, 1 number,
    1 postcode): does the file lack its header line?'
    """
    if not names:
        return "none"
    if not looks_like_data(names):
        return ", ".join(repr(n) if isinstance(n, str) else str(n) for n in names)
    kinds: dict[str, int] = {}
    for name in names:
        kind = _kind(name) if isinstance(name, str) else None
        if kind is not None:
            kinds[kind] = kinds.get(kind, 0) + 1
    order = ("date", "nine-digit number", "number", "postcode")
    counts = ", ".join(f"{kinds[k]} {k}{'s' if kinds[k] != 1 else ''}" for k in order if k in kinds)
    return (
        f"{len(names)} field{'s that look' if len(names) != 1 else ' that looks'} like data, not "
        f"column names ({counts}): does the file lack its header line?"
    )


class BenzoreduxError(Exception):
    """Base class of the library's own errors."""


class MissingColumnsError(BenzoreduxError, KeyError):
    """A required column is missing; the message lists the columns that were found (or
    describes them, when they look like a record of data: a file without its header line)."""

    def __init__(self, table: str, missing: Sequence[str], found: Sequence[object]) -> None:
        self.table = table
        self.missing = tuple(missing)
        self.found = tuple(found)
        """The column names found, as they are (the message describes them instead when they
        look like data: :func:`describe_columns`)."""
        super().__init__(
            f"{table}: missing required column(s) {', '.join(map(repr, missing))}; "
            f"columns found: {describe_columns(list(found))}"
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


class IdentifierWarning(UserWarning):
    """A patients table holds a BSN that fails the 11-test or a postcode that is no Dutch
    postcode. The rows are kept (a practice may have odd data); the warning names the file,
    column and lines, never the value (:mod:`benzoredux.reading.identifiers`)."""
