"""The NHG alternative definition: more than 60 days of use in the last 3 months.

The reference here simulates a patient's stock day by day (take one day's units while any are
left, refills add to the stock), which is what "days of use with carried-over supply" means;
the library computes the same with cumulative sums and maxima.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import polars as pl
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

import benzoredux as br

REFERENCE = dt.date(2025, 12, 31)


Row = tuple[str, dt.date, float] | tuple[str, dt.date, float, float | None]


def _frame(rows: list[Row], *, days_supply: bool = False) -> pl.DataFrame:
    """Oxazepam dispensings; with ``days_supply`` a column of days of supply from each row's
    fourth item (None: not given)."""
    columns: dict[str, list[object]] = {
        "patient_id": [r[0] for r in rows],
        "date": [r[1] for r in rows],
        "atc": ["N05BA04"] * len(rows),
        "quantity": [float(r[2]) for r in rows],
    }
    schema = {"patient_id": pl.String, "date": pl.Date, "atc": pl.String, "quantity": pl.Float64}
    if days_supply:
        columns["days_supply"] = [r[3] if len(r) > 3 else None for r in rows]
        schema["days_supply"] = pl.Float64
    return pl.DataFrame(columns, schema=schema)


def reference_days_used(
    rows: list[Row], reference: dt.date, months: int, per_day: float
) -> dict[str, float]:
    """Days of use by simulating the stock in days: a day's rows add their days of supply
    where given (a return's taken off), else their units over ``per_day``."""
    window_start = reference - relativedelta(years=1)
    period_start = reference - relativedelta(months=months)
    net: dict[str, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for patient, day, quantity, *supplied in rows:
        if window_start < day <= reference:
            days = supplied[0] if supplied else None
            if days is None:
                net[patient][day] += quantity / per_day
            else:
                net[patient][day] += days if quantity >= 0 else -days
    used: dict[str, float] = {}
    for patient, days in net.items():
        stock, covered = 0.0, 0.0
        day = min(days)
        while day <= reference:
            stock += max(days.get(day, 0.0), 0.0)
            take = min(stock, 1.0)
            stock -= take
            if day > period_start:
                covered += take
            day += dt.timedelta(days=1)
        used[patient] = round(covered, 1)
    return used


def test_early_refills_carry_over() -> None:
    rows = [
        ("a", dt.date(2025, 10, 1), 30),
        ("a", dt.date(2025, 10, 20), 30),
        ("a", dt.date(2025, 11, 30), 30),
        ("b", dt.date(2025, 12, 1), 30),
    ]
    out = br.select_chronic_users(_frame(rows), REFERENCE, definition="nhg", nhg_min_days=10)
    assert dict(zip(out["patient_id"], out["days_used"], strict=True)) == {"a": 90.0, "b": 30.0}


def test_more_than_60_days_is_strict() -> None:
    # 61 tablets from 1 November cover 1 Nov .. 31 Dec: 61 days -> chronic; 60 -> not.
    rows = [("a", dt.date(2025, 11, 1), 61), ("b", dt.date(2025, 11, 1), 60)]
    out = br.select_chronic_users(_frame(rows), REFERENCE, definition="nhg")
    assert out["patient_id"].to_list() == ["a"]


def test_supply_from_before_the_period_counts_inside_it() -> None:
    rows = [("a", dt.date(2025, 9, 1), 100)]  # 1 Sep + 100 days: covers 1 Oct .. 9 Dec
    out = br.select_chronic_users(_frame(rows), REFERENCE, definition="nhg")
    assert out["days_used"].to_list() == [70.0]


def test_units_per_day_option() -> None:
    rows = [("a", dt.date(2025, 11, 1), 61)]
    out = br.select_chronic_users(_frame(rows), REFERENCE, definition="nhg", nhg_units_per_day=2)
    assert out.is_empty()  # 61 tablets at 2 a day last 30.5 days


@pytest.mark.parametrize("engine", ["auto", "native"])
def test_pandas_engines_agree(engine: str) -> None:
    rows = [("a", dt.date(2025, 10, 1), 30), ("a", dt.date(2025, 10, 20), 45)]
    frame = _frame(rows).to_pandas()
    out = br.select_chronic_users(frame, REFERENCE, definition="nhg", nhg_min_days=0, engine=engine)
    assert isinstance(out, pd.DataFrame)
    assert out["days_used"].tolist() == [75.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.dates(min_value=dt.date(2024, 11, 1), max_value=dt.date(2026, 1, 15)),
            st.sampled_from([10.0, 15.5, 30.0, 45.0, 90.0, -10.0]),
            st.sampled_from([None, None, 7.0, 20.5, 30.0, 100.0]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([dt.date(2025, 12, 31), dt.date(2025, 2, 28), dt.date(2025, 5, 31)]),
    st.sampled_from([1.0, 0.5, 2.0]),
    st.booleans(),
)
def test_days_used_match_a_day_by_day_simulation(
    rows: list[Row], reference: dt.date, per_day: float, days_supply: bool
) -> None:
    if not days_supply:
        rows = [r[:3] for r in rows]
    expected = reference_days_used(rows, reference, 3, per_day)
    out = br.select_chronic_users(
        _frame(rows, days_supply=days_supply),
        reference,
        definition="nhg",
        nhg_min_days=0,
        nhg_units_per_day=per_day,
        exclude_complex=False,
    )
    got = dict(zip(out["patient_id"], out["days_used"], strict=True))
    assert got == {p: d for p, d in expected.items() if d > 0}


def test_days_of_supply_count_as_they_are_given() -> None:
    """Rule: docs/domain/selection.rst, "Days of supply": the NHG days of use take a
    dispensing's days of supply as given, not units / nhg_units_per_day."""
    # 30 tablets a month at two a day (15 days each): 90 units but 45 days of use, not chronic;
    # by units at one a day it is 90 days. b: 30 tablets for 60 days (half a tablet a day).
    rows: list[Row] = [
        ("a", dt.date(2025, 10, 1), 30, 15.0),
        ("a", dt.date(2025, 11, 1), 30, 15.0),
        ("a", dt.date(2025, 12, 1), 30, 15.0),
        ("b", dt.date(2025, 11, 1), 30, 60.0),
        ("c", dt.date(2025, 11, 1), 30, None),  # not given: units / nhg_units_per_day
    ]
    out = br.select_chronic_users(
        _frame(rows, days_supply=True), REFERENCE, definition="nhg", nhg_min_days=0
    )
    got = dict(zip(out["patient_id"], out["days_used"], strict=True))
    assert got == {"a": 45.0, "b": 60.0, "c": 30.0}
    without = br.select_chronic_users(_frame(rows), REFERENCE, definition="nhg", nhg_min_days=0)
    assert dict(zip(without["patient_id"], without["days_used"], strict=True)) == {
        "a": 90.0,
        "b": 30.0,
        "c": 30.0,
    }
    chronic = br.select_chronic_users(_frame(rows, days_supply=True), REFERENCE, definition="nhg")
    assert chronic.is_empty()  # 45 and 60 days: neither more than 60


def test_a_return_takes_its_given_days_off() -> None:
    # 60 tablets for 120 days on 1 Oct, half of them returned (60 days) the same day: 60 days,
    # 1 Oct .. 29 Nov. (A day that nets to a return supplies none, as with units.)
    rows: list[Row] = [
        ("a", dt.date(2025, 10, 1), 60, 120.0),
        ("a", dt.date(2025, 10, 1), -30, 60.0),
    ]
    out = br.select_chronic_users(
        _frame(rows, days_supply=True), REFERENCE, definition="nhg", nhg_min_days=0
    )
    assert out["days_used"].to_list() == [60.0]
