"""Indicators (bijlage 4), targets and the forecast at selection time."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest

from benzoredux.evaluation.forecast import ReferenceRatios, forecast
from benzoredux.evaluation.indicators import (
    StandardPractice,
    Targets,
    chronic_users_indicator,
    prescriptions_outside_consult,
    progress_against_targets,
)
from benzoredux.evaluation.months import month_offset_days, month_parts, with_month_offsets
from benzoredux.evaluation.stats import wilson_interval
from benzoredux.selection import count_per_gp, select_chronic_users

D = dt.date


def test_standard_practice_range_is_35_to_65_per_2350_listed() -> None:
    counts = pl.DataFrame(
        {
            "gp_id": ["G1", "G2", "G3", "G4"],
            "chronic_users": [34, 35, 66, 5],
            "listed_patients": [2350, 2350, 2350, 0],
        }
    )
    result = chronic_users_indicator(counts)
    assert result["vs_standard"].to_list() == ["below", "within", "above", None, "within"]
    assert result["per_1000_listed"][0] == pytest.approx(34 * 1000 / 2350)
    assert result["per_standard_practice"][-1] == pytest.approx(140 / 7050 * 2350)
    small = chronic_users_indicator(
        counts, standard=StandardPractice(listed_patients=1000, low=10, high=20)
    )
    assert small["vs_standard"].to_list()[:3] == ["within", "within", "above"]


def test_indicator_from_count_per_gp() -> None:
    dispensings = pd.DataFrame(
        {
            "patient_id": ["p1", "p1", "p2"],
            "date": pd.to_datetime(["2025-02-01", "2025-08-01", "2025-03-01"]),
            "atc": ["N05BA04"] * 3,
            "quantity": [50.0, 50.0, 100.0],
        }
    )
    patients = pd.DataFrame({"patient_id": ["p1", "p2", "p3"], "gp_id": ["G1", "G1", "G2"]})
    counts = count_per_gp(
        select_chronic_users(dispensings, "2025-12-31", patients=patients), patients
    )
    result = chronic_users_indicator(counts)
    assert result["chronic_users"].tolist() == [2, 0, 2]
    assert result["per_1000_listed"].tolist() == [1000.0, 0.0, pytest.approx(2000 / 3)]


def _channel_dispensings() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "c", "c", "d"],
            "date": [
                D(2025, 3, 1),
                D(2025, 4, 1),
                D(2025, 5, 1),
                D(2025, 5, 3),
                D(2025, 6, 1),
                D(2024, 1, 1),
                D(2025, 6, 1),
            ],
            "atc": ["N05BA04", "N05BA04", "N05CF02", "N05CF02", "N05BA01", "N05BA01", "N06AB06"],
            "quantity": [30.0, 30.0, 30.0, -30.0, 30.0, 30.0, 30.0],
            "prescriber_id": ["G1", "G1", "G1", "G1", "G2", "G2", "G2"],
            "channel": [
                "consult",
                "repeat_prescription",
                "telephone_consult",
                "other",
                None,
                "other",
                "other",
            ],
        }
    )


def test_prescriptions_outside_consult() -> None:
    result = prescriptions_outside_consult(_channel_dispensings(), "2025-12-31")
    rows = {r["gp_id"]: r for r in result.iter_rows(named=True)}
    # G1: 3 prescriptions (the return is not one), 1 repeat outside a consult.
    assert (rows["G1"]["prescriptions"], rows["G1"]["outside_consult"]) == (3, 1)
    assert (rows["G1"]["ci_low"], rows["G1"]["ci_high"]) == pytest.approx(wilson_interval(1, 3))
    # G2: one without channel (unknown), one outside the window, one not a benzodiazepine.
    assert (rows["G2"]["prescriptions"], rows["G2"]["unknown_channel"]) == (0, 1)
    assert rows["G2"]["share_outside"] is None
    assert rows[None]["share_outside"] == pytest.approx(1 / 3)


def test_prescriptions_outside_consult_needs_the_channel() -> None:
    with pytest.raises(ValueError, match="channel"):
        prescriptions_outside_consult(_channel_dispensings().drop("channel"), "2025-12-31")


def test_progress_against_the_example_targets() -> None:
    start = pl.DataFrame({"gp_id": ["G1", "G2", "G3"], "chronic_users": [40, 40, 20]})
    now = pl.DataFrame({"gp_id": ["G1", "G2", "G3"], "chronic_users": [30, 30, 15]})
    letters = pl.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(31)],
            "gp_id": ["G1"] * 15 + ["G2"] * 16,
            # G2's last letter is one day after the 3 months: 15 in time.
            "letter_date": [D(2025, 2, 1)] * 15
            + [D(2025, 2, 1)] * 14
            + [D(2025, 4, 1), D(2025, 4, 2)],
        }
    )
    records = progress_against_targets(
        start_date="2025-01-01",
        as_of="2025-06-01",
        chronic_at_start=start,
        chronic_now=now,
        letters=letters,
        outside_consult=prescriptions_outside_consult(_channel_dispensings(), "2025-12-31"),
    )
    by = {(r["target"], r["gp_id"]): r for r in records}
    chronic = by[("chronic_users_reduction", None)]
    assert chronic["value"] == pytest.approx(0.25)
    assert chronic["met"]
    assert chronic["due"] == D(2026, 1, 1)
    assert not chronic["overdue"]
    assert by[("letters_per_gp", "G1")]["met"]
    assert by[("letters_per_gp", "G2")]["value"] == 15
    g3 = by[("letters_per_gp", "G3")]  # chronic users but no letters: listed, behind, overdue
    assert (g3["value"], g3["met"], g3["overdue"]) == (0, False, True)
    assert by[("letters_per_gp", "G3")]["due"] == D(2025, 4, 1)
    assert not by[("prescriptions_outside_consult", None)]["met"]
    stricter = progress_against_targets(
        start_date="2025-01-01",
        as_of="2025-06-01",
        chronic_at_start=start,
        chronic_now=now,
        targets=Targets(chronic_reduction=0.3),
    )
    assert not stricter[0]["met"]


def test_forecast_uses_the_reference_ratios() -> None:
    result = forecast(pl.DataFrame({"gp_id": ["G1", "G2"], "chronic_users": [60, 30]}))
    total = result.row(2, named=True)
    assert total["level"] == "total"
    assert total["chronic_users"] == 90
    assert total["expected_eligible"] == pytest.approx(60)
    assert total["expected_consults"] == pytest.approx(40)
    assert total["expected_short_term_stoppers"] == pytest.approx(0.27 * 60)
    assert total["expected_sustained_stoppers"] == pytest.approx(0.14 * 60)
    assert total["consult_hours"] == pytest.approx(10)
    own = forecast(
        pl.DataFrame({"gp_id": ["G1"], "chronic_users": [60]}),
        ratios=ReferenceRatios(eligible=0.5, consult_minutes=30),
    )
    assert own["consult_hours"][0] == pytest.approx(60 * 0.5 * 2 / 3 * 0.5)
    with pytest.raises(ValueError, match="eligible"):
        ReferenceRatios(eligible=1.5)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 2, 29), -12, D(2023, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2000, 3, 31), -1, D(2000, 2, 29)),
        (D(1900, 3, 31), -1, D(1900, 2, 28)),
        (D(2024, 12, 15), 21, D(2026, 9, 15)),
        (D(2024, 5, 31), 6, D(2024, 11, 30)),
    ],
)
def test_month_offsets_are_calendar_arithmetic(
    day: dt.date, months: int, expected: dt.date
) -> None:
    import narwhals as nw

    frame = nw.from_native(pl.DataFrame({"d": [day]}))
    value = (
        frame.with_columns(**month_parts("d", "_d")).select(month_offset_days("_d", months)).item()
    )
    assert value == (expected - D(1970, 1, 1)).days
    # The staged form the effect evaluation uses (a smaller SQL query): the same day numbers.
    staged = with_month_offsets(
        frame.with_columns(**month_parts("d", "_d")).lazy(), "_d", {"x": months, "y": -months}
    ).collect()
    assert staged["x"].item() == value
    assert list(staged.columns) == ["d", "_d_month", "_d_day", "x", "y"]
