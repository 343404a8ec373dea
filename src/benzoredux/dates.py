"""Dates: reference dates, calendar windows and day arithmetic that every backend can run.

Why a module of its own: the selection's correctness hangs on a few date rules that are easy to
get subtly wrong. "The past year" is calendar arithmetic (29 February 2024 minus one year is
28 February 2023, through :mod:`dateutil.relativedelta`), the window is half-open (the day one
year back is outside, the reference date inside), and a reference date given as text is only
ever read as ISO ``YYYY-MM-DD``: a day-first date read month-first is silent data corruption.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
from attrs import frozen
from dateutil.relativedelta import relativedelta

__all__ = [
    "Window",
    "days_from_civil",
    "dutch_date",
    "epoch_days",
    "parse_reference_date",
    "window_before",
]

DateLike = dt.date | dt.datetime | str

_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def dutch_date(value: dt.date | None, *, weekday: bool = False) -> str:
    """A date as a Dutch practice writes it, independent of the machine's locale: every text a
    practice or patient reads (letters, handouts, the report, task texts) uses it.

    >>> dutch_date(dt.date(2027, 3, 1))
    '1 maart 2027'
    >>> dutch_date(dt.date(2027, 3, 1), weekday=True)
    'maandag 1 maart 2027'
    >>> dutch_date(None)
    ''
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    text = f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{_WEEKDAYS[value.weekday()]} {text}" if weekday else text


def parse_reference_date(value: DateLike, *, name: str = "reference_date") -> dt.date:
    """A ``date`` from a ``date``, a ``datetime`` (its calendar date) or an ISO ``YYYY-MM-DD`` text.

    >>> parse_reference_date("2025-12-31")
    datetime.date(2025, 12, 31)
    >>> parse_reference_date("31-12-2025")
    Traceback (most recent call last):
    ...
    ValueError: reference_date: '31-12-2025' is not an ISO date (YYYY-MM-DD)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:  # fromisoformat also takes 20251231; only the dashed form is allowed
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise ValueError(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD)")
    raise TypeError(f"{name}: expected a date, datetime or ISO text, got {type(value).__name__}")


@frozen
class Window:
    """A half-open period of calendar days: after ``start`` (exclusive), up to ``end`` (inclusive).

    The selection's "past year" for reference date 2025-06-30 is ``Window(2024-06-30, 2025-06-30)``:
    a dispensing on 2024-06-30 is outside, one on 2024-07-01 inside.
    """

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Number of calendar days in the window (365 or 366 for a year)."""
        return (self.end - self.start).days

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies in the window."""
        return self.start < day <= self.end

    def expression(self, column: str, dtype: nw.dtypes.DType) -> nw.Expr:
        """The test of :meth:`contains` on a date or datetime column.

        For a datetime column the window runs from midnight after ``start`` up to (not including)
        midnight after ``end``, so a dispensing at 14:30 on the reference date is inside.
        """
        col = nw.col(column)
        if isinstance(dtype, nw.Datetime):
            return (col >= _midnight(self.start + dt.timedelta(days=1))) & (
                col < _midnight(self.end + dt.timedelta(days=1))
            )
        return (col > self.start) & (col <= self.end)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001 - naive on purpose: local dates


def window_before(reference_date: dt.date, *, months: int) -> Window:
    """The ``months`` calendar months up to and including ``reference_date``.

    >>> window_before(dt.date(2024, 2, 29), months=12)
    Window(start=datetime.date(2023, 2, 28), end=datetime.date(2024, 2, 29))
    """
    if months <= 0:
        raise ValueError(f"a window needs a positive number of months, got {months}")
    return Window(start=reference_date - relativedelta(months=months), end=reference_date)


def days_from_civil(year: nw.Expr, month: nw.Expr, day: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of Int64 ``year``, ``month``, ``day`` expressions.

    H. Hinnant's exact ``days_from_civil`` algorithm, in integer arithmetic every backend has.
    """
    y = year - (month <= 2).cast(nw.Int64)
    era = y // 400
    year_of_era = y - era * 400
    shifted_month = nw.when(month > 2).then(month - 3).otherwise(month + 9)
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def epoch_days(expr: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a date or datetime expression, as Int64, on any backend.

    narwhals has no portable difference of dates in days, and casting dates to integers differs
    per backend (and per pandas version). This computes the day number from year, month and day
    (:func:`days_from_civil`), in 64-bit integers throughout: polars returns the month as Int8,
    and ``month * 100`` would overflow silently.
    """
    return days_from_civil(
        expr.dt.year().cast(nw.Int64),
        expr.dt.month().cast(nw.Int64),
        expr.dt.day().cast(nw.Int64),
    )


def epoch_day(day: dt.date) -> int:
    """The Python-side twin of :func:`epoch_days` for one date."""
    return (day - dt.date(1970, 1, 1)).days
