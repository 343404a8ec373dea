"""Turning the text of an export into dates and numbers, strictly and vectorised.

Why a module of its own: every reader (AIS, HIS, SFK, the generic one with a mapping file)
gets text cells and must turn them into dates and numbers the same way, and the two classic
ways to corrupt a Dutch export both happen here:

* **Dates** are parsed only with explicit formats, by default :data:`DUTCH_DATE_FORMATS`
  (``31-12-2025``, ``31-12-25``, ``2025-12-31``). No day-first "hint" is ever given to a
  guessing parser: ``01-02-2025`` is 1 February, and ``02-13-2025`` is refused rather than read
  as 13 February. A value that two of the given formats read as *different* dates is refused
  too, so a mapping file that lists ``%d-%m-%Y`` and ``%m-%d-%Y`` cannot corrupt anything.
* **Numbers** follow one declared notation: with a decimal comma, ``1,5`` is one and a half and
  ``1.5`` is refused (unless ``.`` is declared the thousands separator, when ``1.500`` is one
  thousand five hundred). A number in the other notation is never silently read ten or a
  thousand times too large.

Both functions return the parsed values and a mask of the cells that did not parse (empty
cells are missing, not failures), so the caller can report each failure with its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd

__all__ = [
    "DUTCH_DATE_FORMATS",
    "ISO_DATE_FORMATS",
    "describe_date_formats",
    "parse_dates",
    "parse_numbers",
]

DUTCH_DATE_FORMATS: tuple[str, ...] = ("%d-%m-%Y", "%d-%m-%y", "%Y-%m-%d")
"""Day-first dates as Dutch systems write them, and ISO dates. None of these three formats can
read a value another one reads, so their order does not matter."""

ISO_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d",)
"""Only ``YYYY-MM-DD``: canonical files and FHIR (whose ``dateTime`` values are cut to the date
by the FHIR reader)."""

_FORMAT_WORDS = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%H": "hh", "%M": "mm"}
_SEPARATORS = frozenset({",", ".", " ", "'", "_", ""})


def describe_date_formats(formats: Sequence[str]) -> str:
    """The formats as a person reads them.

    >>> describe_date_formats(DUTCH_DATE_FORMATS)
    'DD-MM-YYYY, DD-MM-YY or YYYY-MM-DD'
    """
    words = []
    for fmt in formats:
        text = fmt
        for code, word in _FORMAT_WORDS.items():
            text = text.replace(code, word)
        words.append(text)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def parse_dates(
    text: pd.Series,
    formats: Sequence[str] = DUTCH_DATE_FORMATS,
    *,
    past_only: bool = False,
    today: dt.date | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse ``text`` with each of ``formats``; returns ``(dates, failed)``.

    ``failed`` is true where a non-empty cell matches no format, or two formats that disagree.
    With ``past_only`` (birth dates), a two-digit year that would lie after ``today`` belongs to
    the previous century: ``01-05-45`` is 1 May 1945, not 2045. Without it, Python's rule holds
    (``00``-``68`` is 2000-2068).

    >>> texts = pd.Series(["31-12-2025", "01-02-25", "2025-02-01", "02-13-2025"])
    >>> dates, failed = parse_dates(texts)
    >>> [d.date().isoformat() if not failed[i] else "refused" for i, d in enumerate(dates)]
    ['2025-12-31', '2025-02-01', '2025-02-01', 'refused']
    """
    if not formats:
        raise ValueError("at least one date format is needed")
    cleaned = text.astype("string").str.strip()
    present = cleaned.notna() & (cleaned != "")
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    found = pd.Series(False, index=text.index)
    conflict = pd.Series(False, index=text.index)
    for fmt in formats:
        parsed = pd.to_datetime(cleaned.where(present, None), format=fmt, errors="coerce").astype(
            "datetime64[us]"
        )
        if past_only and "%y" in fmt:
            limit = pd.Timestamp(today or dt.date.today())  # noqa: DTZ011 - a local calendar date
            future = parsed > limit
            parsed = parsed.where(~future, parsed - pd.DateOffset(years=100))
        hit = parsed.notna()
        conflict |= hit & found & (parsed != result)
        result = result.where(found | ~hit, parsed)
        found |= hit
    failed = present & (~found | conflict)
    return result.where(~failed, pd.NaT), failed


def _number_pattern(decimal: str, thousands: str | None) -> re.Pattern[str]:
    if decimal not in {",", "."}:
        raise ValueError(f"the decimal separator must be ',' or '.', got {decimal!r}")
    if thousands is not None and (thousands == decimal or thousands not in _SEPARATORS):
        raise ValueError(
            f"the thousands separator {thousands!r} cannot be used with decimal {decimal!r}"
        )
    point = re.escape(decimal)
    if thousands:
        group = re.escape(thousands)
        whole = rf"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)"
    else:
        whole = r"[0-9]+"
    return re.compile(rf"^[+-]?(?:{whole}(?:{point}[0-9]*)?|{point}[0-9]+)$")


def parse_numbers(
    text: pd.Series, *, decimal: str = ",", thousands: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse ``text`` as numbers in one notation; returns ``(numbers, failed)``.

    >>> numbers, failed = parse_numbers(pd.Series(["30", "2,5", "-30", "1.5", None]))
    >>> numbers.tolist()[:3], failed.tolist()
    ([30.0, 2.5, -30.0], [False, False, False, True, False])
    >>> parse_numbers(pd.Series(["1.500,5"]), thousands=".")[0].tolist()
    [1500.5]
    """
    pattern = _number_pattern(decimal, thousands)
    cleaned = text.astype("string").str.strip()
    present = cleaned.notna() & (cleaned != "")
    well_formed = cleaned.str.match(pattern.pattern).fillna(False).astype(bool)
    failed = present & ~well_formed
    plain = cleaned.where(present & well_formed, None)
    if thousands:
        plain = plain.str.replace(thousands, "", regex=False)
    if decimal != ".":
        plain = plain.str.replace(decimal, ".", regex=False)
    numbers = pd.to_numeric(plain, errors="coerce").astype("float64")
    return numbers, failed
