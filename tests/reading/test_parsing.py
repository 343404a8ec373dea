"""Dates and numbers of Dutch exports: explicit formats, never month-first, one notation."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from benzoredux.reading.parsing import DUTCH_DATE_FORMATS, parse_dates, parse_numbers


def _dates(values: list[str | None], **kwargs: object) -> list[dt.date | str | None]:
    parsed, failed = parse_dates(pd.Series(values, dtype=object), **kwargs)  # type: ignore[arg-type]
    out: list[dt.date | str | None] = []
    for value, bad in zip(parsed, failed, strict=True):
        out.append("failed" if bad else (None if pd.isna(value) else value.date()))
    return out


def test_the_three_dutch_forms_are_read_day_first() -> None:
    assert _dates(["31-12-2025", "31-12-25", "2025-12-31"]) == [dt.date(2025, 12, 31)] * 3


def test_an_ambiguous_day_month_date_is_read_day_first() -> None:
    # Every one of these would be a valid month-first date too.
    assert _dates(["01-02-2025", "05-06-25", "12-11-2025"]) == [
        dt.date(2025, 2, 1),
        dt.date(2025, 6, 5),
        dt.date(2025, 11, 12),
    ]


def test_a_month_first_date_is_refused_not_swapped() -> None:
    assert _dates(["02-13-2025", "12/31/2025", "31-02-2025"]) == ["failed"] * 3


def test_empty_cells_are_missing_not_failed() -> None:
    assert _dates([None, "", "  "]) == [None, None, None]


def test_formats_that_disagree_on_a_value_refuse_it() -> None:
    # A mapping file listing both day-first and month-first must not pick one silently.
    assert _dates(["01-02-2025", "13-02-2025"], formats=["%d-%m-%Y", "%m-%d-%Y"]) == [
        "failed",
        dt.date(2025, 2, 13),
    ]


def test_two_digit_birth_years_lie_in_the_past() -> None:
    today = dt.date(2026, 1, 15)
    assert _dates(["01-05-45", "15-01-26", "16-01-26"], past_only=True, today=today) == [
        dt.date(1945, 5, 1),
        dt.date(2026, 1, 15),
        dt.date(1926, 1, 16),
    ]
    # Without past_only, Python's pivot: 45 is 2045.
    assert _dates(["01-05-45"]) == [dt.date(2045, 5, 1)]


def test_the_default_formats_cannot_read_one_value_two_ways() -> None:
    assert DUTCH_DATE_FORMATS == ("%d-%m-%Y", "%d-%m-%y", "%Y-%m-%d")
    for value in ["01-02-03", "2025-01-02", "01-02-2025"]:
        hits = [
            fmt
            for fmt in DUTCH_DATE_FORMATS
            if not pd.isna(pd.to_datetime(value, format=fmt, errors="coerce"))
        ]
        assert len(hits) == 1, (value, hits)


def _numbers(values: list[str | None], **kwargs: object) -> list[float | str | None]:
    parsed, failed = parse_numbers(pd.Series(values, dtype=object), **kwargs)  # type: ignore[arg-type]
    return [
        "failed" if bad else (None if pd.isna(v) else float(v))
        for v, bad in zip(parsed, failed, strict=True)
    ]


def test_decimal_comma_numbers() -> None:
    assert _numbers(["30", "7,5", "-10", " 2,50 ", ",5", None]) == [
        30.0,
        7.5,
        -10.0,
        2.5,
        0.5,
        None,
    ]


def test_a_decimal_point_in_a_decimal_comma_file_is_refused() -> None:
    # Read as 15 (thousands) or 1.5 (decimal) depending on the guesser: neither is safe.
    assert _numbers(["1.5", "1,5,0", "30 stuks", "1e3"]) == ["failed"] * 4


def test_thousands_separator_only_in_groups_of_three() -> None:
    assert _numbers(["1.500", "1.500,25", "12.34"], thousands=".") == [1500.0, 1500.25, "failed"]


def test_decimal_point_notation() -> None:
    assert _numbers(["7.5", "7,5", "1,500.5"], decimal=".", thousands=",") == [
        7.5,
        "failed",
        1500.5,
    ]


def test_bad_separator_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="decimal separator"):
        parse_numbers(pd.Series(["1"]), decimal=";")
    with pytest.raises(ValueError, match="thousands separator"):
        parse_numbers(pd.Series(["1"]), decimal=",", thousands=",")
