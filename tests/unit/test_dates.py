"""Dates: ISO-only reference dates, calendar windows, and the portable day number."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzoredux.dates import Window, epoch_days, parse_reference_date, window_before


@pytest.mark.parametrize(
    "value",
    [dt.date(2025, 6, 30), dt.datetime(2025, 6, 30, 23, 59), "2025-06-30", " 2025-06-30 "],
)
def test_reference_date_from_date_datetime_or_iso(value: object) -> None:
    assert parse_reference_date(value) == dt.date(2025, 6, 30)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["30-06-2025", "06/30/2025", "20250630", "2025-02-30", ""])
def test_reference_date_refuses_anything_but_iso(value: str) -> None:
    with pytest.raises(ValueError, match="ISO date"):
        parse_reference_date(value)


def test_reference_date_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        parse_reference_date(20250630)  # type: ignore[arg-type]


def test_window_is_calendar_year_half_open() -> None:
    window = window_before(dt.date(2025, 6, 30), months=12)
    assert not window.contains(dt.date(2024, 6, 30))  # exactly a year back: outside
    assert window.contains(dt.date(2024, 7, 1))
    assert window.contains(dt.date(2025, 6, 30))  # the reference date itself: inside
    assert not window.contains(dt.date(2025, 7, 1))
    assert window.days == 365


def test_window_on_leap_day_uses_calendar_arithmetic() -> None:
    assert window_before(dt.date(2024, 2, 29), months=12).start == dt.date(2023, 2, 28)
    assert window_before(dt.date(2025, 2, 28), months=12).days == 366


def test_window_needs_positive_months() -> None:
    with pytest.raises(ValueError, match="positive"):
        window_before(dt.date(2025, 1, 1), months=0)


def test_window_expression_on_datetimes_includes_the_whole_reference_day() -> None:
    window = Window(dt.date(2024, 12, 31), dt.date(2025, 12, 31))
    stamps = [
        dt.datetime(2024, 12, 31, 23, 59),
        dt.datetime(2025, 1, 1),
        dt.datetime(2025, 12, 31, 14, 30),
        dt.datetime(2026, 1, 1),
    ]
    frame = nw.from_native(pl.DataFrame({"d": stamps}))
    inside = frame.select(window.expression("d", frame.schema["d"]).alias("x"))["x"].to_list()
    assert inside == [False, True, True, False]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.dates(min_value=dt.date(1600, 1, 1), max_value=dt.date(2400, 12, 31)),
        min_size=1,
        max_size=60,
    )
)
def test_epoch_days_matches_python_on_every_backend(days: list[dt.date]) -> None:
    expected = [(d - dt.date(1970, 1, 1)).days for d in days]
    for native in (pl.DataFrame({"d": days}), pl.DataFrame({"d": days}).lazy()):
        got = nw.from_native(native).select(epoch_days(nw.col("d")).alias("n"))
        got = got.collect() if isinstance(got, nw.LazyFrame) else got
        assert got["n"].to_list() == expected
    in_range = [d for d in days if d.year >= 1700]  # pandas nanosecond timestamps start in 1677
    if in_range:
        frame = nw.from_native(pd.DataFrame({"d": pd.to_datetime(in_range)}))
        got_pd = frame.select(epoch_days(nw.col("d")).alias("n"))["n"].to_list()
        assert got_pd == [(d - dt.date(1970, 1, 1)).days for d in in_range]
