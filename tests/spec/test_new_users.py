"""Specification tests for ``benzoredux.select_new_users`` (DOMAIN.md, "New users").

DOMAIN.md: new users are "patients whose first benzodiazepine dispensing in a look-back period
falls in the window. The guideline allows 5 to 10 tablets for short-term insomnia,
intermittently; larger first prescriptions deserve attention." The documented defaults
(``benzoredux.selection.NewUseCriteria``): a 3-month window up to the reference date, a 12-month
look-back before it, ``large_first`` above 10 units.

Reference date 2025-06-30 throughout:

* window: after 2025-03-30, up to and including 2025-06-30 (first day 2025-03-31);
* look-back: after 2024-03-30, up to and including 2025-03-30 (first day 2024-03-31).

Every table holds a row on 2024-03-31 (the first look-back day) so the data cover the look-back
and no DataCoverageWarning is due (pytest turns warnings into errors here).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import benzoredux as br
from benzoredux import DataCoverageWarning

REF = dt.date(2025, 6, 30)
OXAZEPAM = "N05BA04"
TEMAZEPAM = "N05CD07"
ZOLPIDEM = "N05CF02"
PARACETAMOL = "N02BE01"  # neither a benzodiazepine nor complex co-medication
COVERAGE = ("coverage", "2024-03-31", PARACETAMOL, 20)
"""A row on the first day of the look-back: the data cover the whole look-back period."""

OUTPUT_COLUMNS = [
    "patient_id",
    "gp_id",
    "gp_source",
    "first_date",
    "first_atc",
    "first_units",
    "large_first",
    "units",
    "n_dispensings",
]


def new_users(dispensings, reference_date=REF, **kwargs):
    return br.select_new_users(dispensings, reference_date, **kwargs)


def test_new_user_first_dispensing_in_window_without_prior_use_in_lookback(disp, ids):
    """DOMAIN.md New users: the first benzodiazepine dispensing in the look-back falls in the
    window."""
    rows = disp(
        [
            COVERAGE,
            ("new", "2025-05-01", OXAZEPAM, 10),
            ("new_on_first_window_day", "2025-03-31", OXAZEPAM, 10),
            ("new_on_reference_date", "2025-06-30", ZOLPIDEM, 5),
            # use before the look-back began (2024-03-30 is outside it): still new
            ("prior_before_lookback", "2024-03-30", OXAZEPAM, 30),
            ("prior_before_lookback", "2025-05-01", OXAZEPAM, 10),
            # use on the first and on the last day of the look-back: not new
            ("prior_first_lookback_day", "2024-03-31", OXAZEPAM, 5),
            ("prior_first_lookback_day", "2025-05-01", OXAZEPAM, 10),
            ("prior_last_lookback_day", "2025-03-30", TEMAZEPAM, 5),
            ("prior_last_lookback_day", "2025-05-01", OXAZEPAM, 10),
            # use only in the look-back, or only after the reference date: not new
            ("lookback_only", "2024-10-01", OXAZEPAM, 10),
            ("after_reference_only", "2025-07-01", OXAZEPAM, 10),
        ]
    )
    assert ids(new_users(rows)) == [
        "new",
        "new_on_first_window_day",
        "new_on_reference_date",
        "prior_before_lookback",
    ]


def test_new_user_prior_use_of_any_benzodiazepine_group_counts(disp, ids):
    """DOMAIN.md New users + Benzodiazepines: prior use of N05BA, N05CD or N05CF all count."""
    rows = disp(
        [
            COVERAGE,
            ("after_n05cd", "2024-09-01", TEMAZEPAM, 10),
            ("after_n05cd", "2025-05-01", OXAZEPAM, 10),
            ("after_n05cf", "2024-09-01", ZOLPIDEM, 10),
            ("after_n05cf", "2025-05-01", TEMAZEPAM, 10),
        ]
    )
    assert ids(new_users(rows)) == []


def test_new_user_prior_non_benzodiazepine_or_return_does_not_count(disp, ids):
    """DOMAIN.md New users: only a prior benzodiazepine *dispensing* makes a patient not new."""
    rows = disp(
        [
            COVERAGE,
            ("after_hydroxyzine", "2024-09-01", "N05BB01", 30),  # not a benzodiazepine
            ("after_hydroxyzine", "2025-05-01", OXAZEPAM, 10),
            ("after_clonazepam", "2024-09-01", "N03AE01", 30),  # anti-epileptic here
            ("after_clonazepam", "2025-05-01", OXAZEPAM, 10),
            ("after_return", "2024-09-01", OXAZEPAM, -5),  # a return is not a dispensing
            ("after_return", "2025-05-01", OXAZEPAM, 10),
        ]
    )
    assert ids(new_users(rows)) == ["after_clonazepam", "after_hydroxyzine", "after_return"]


def test_new_user_first_dispensing_details(disp, rows_by_patient):
    """selection.select_new_users: first_date, first_atc, first_units, units and n_dispensings
    in the window."""
    rows = disp(
        [
            COVERAGE,
            ("p", "2025-04-10", ZOLPIDEM, 7),
            ("p", "2025-05-10", ZOLPIDEM, 14),
            ("p", "2025-06-10", OXAZEPAM, 30),
            ("p", "2025-07-10", OXAZEPAM, 30),  # after the reference date: not counted
        ]
    )
    out = rows_by_patient(new_users(rows))["p"]
    assert out["first_date"] == dt.date(2025, 4, 10)
    assert out["first_atc"] == ZOLPIDEM
    assert out["first_units"] == 7
    assert out["large_first"] is False
    assert out["units"] == 7 + 14 + 30
    assert out["n_dispensings"] == 3


def test_new_user_large_first_above_10_units_by_default(disp, rows_by_patient):
    """DOMAIN.md New users: 5 to 10 tablets are allowed; larger first prescriptions are flagged."""
    rows = disp(
        [
            COVERAGE,
            ("first_5", "2025-05-01", ZOLPIDEM, 5),
            ("first_10", "2025-05-01", ZOLPIDEM, 10),
            ("first_11", "2025-05-01", ZOLPIDEM, 11),
            ("first_30", "2025-05-01", OXAZEPAM, 30),
            ("same_day_6_and_5", "2025-05-01", ZOLPIDEM, 6),  # one first dispensing day: 11
            ("same_day_6_and_5", "2025-05-01", TEMAZEPAM, 5),
            ("small_then_large", "2025-04-01", ZOLPIDEM, 10),  # only the first one matters
            ("small_then_large", "2025-05-01", ZOLPIDEM, 100),
        ]
    )
    out = rows_by_patient(new_users(rows))
    flags = {p: r["large_first"] for p, r in out.items()}
    assert flags == {
        "first_5": False,
        "first_10": False,
        "first_11": True,
        "first_30": True,
        "same_day_6_and_5": True,
        "small_then_large": False,
    }
    assert out["same_day_6_and_5"]["first_units"] == 11
    assert out["small_then_large"]["units"] == 110


def test_new_user_max_first_units_option(disp, rows_by_patient):
    """selection.NewUseCriteria.max_first_units: large_first means more than this (strict)."""
    rows = disp([COVERAGE, ("u5", "2025-05-01", ZOLPIDEM, 5), ("u6", "2025-05-01", ZOLPIDEM, 6)])
    out = rows_by_patient(new_users(rows, max_first_units=5))
    assert (out["u5"]["large_first"], out["u6"]["large_first"]) == (False, True)


def test_new_user_window_and_lookback_options(disp, ids):
    """selection.NewUseCriteria: window_months and lookback_months are calendar months."""
    rows = disp(
        [
            COVERAGE,
            ("first_2025_05_30", "2025-05-30", OXAZEPAM, 10),  # 2025-06-30 - 1 month: outside
            ("first_2025_05_31", "2025-05-31", OXAZEPAM, 10),
            ("prior_2024_05_01", "2024-05-01", OXAZEPAM, 10),
            ("prior_2024_05_01", "2025-06-01", OXAZEPAM, 10),
        ]
    )
    # window_months=1: window after 2025-05-30; look-back 12 months after 2024-05-30, so the
    # 2024-05-01 use is before it and the patient is new again
    assert ids(new_users(rows, window_months=1)) == ["first_2025_05_31", "prior_2024_05_01"]
    # lookback_months=15: 2025-05-30 - 15 months = 2024-02-29 (calendar arithmetic, 02-30 does
    # not exist), so the 2024-05-01 use is in the look-back; data must start by 2024-03-01
    longer = pd.concat([rows, disp([("coverage", "2024-03-01", PARACETAMOL, 1)])])
    assert ids(new_users(longer, window_months=1, lookback_months=15)) == ["first_2025_05_31"]


def test_new_user_data_coverage_warning_when_data_start_after_lookback_begins(disp, ids):
    """selection.select_new_users: warns when earlier use cannot be ruled out (data too short)."""
    rows = disp([("coverage", "2024-04-01", PARACETAMOL, 1), ("p", "2025-05-01", OXAZEPAM, 10)])
    with pytest.warns(DataCoverageWarning, match="2024-04-01"):
        result = new_users(rows)
    assert ids(result) == ["p"]  # the answer is still given


def test_new_user_no_warning_when_data_cover_the_lookback(disp, ids):
    """selection.select_new_users: data from the first look-back day on cover it (no warning)."""
    rows = disp([COVERAGE, ("p", "2025-05-01", OXAZEPAM, 10)])
    assert ids(new_users(rows)) == ["p"]  # filterwarnings=error: any warning would fail


def test_new_user_attribution_listed_gp_or_first_prescriber(disp, table, rows_by_patient):
    """DOMAIN.md Select (per GP): new users are listed per GP: listed GP, else the prescriber."""
    rows = disp(
        [
            (*COVERAGE, "gp0"),
            ("listed", "2025-05-01", OXAZEPAM, 10, "gp_x"),
            ("unlisted", "2025-04-01", OXAZEPAM, 10, "gp_first"),
            ("unlisted", "2025-06-01", OXAZEPAM, 10, "gp_later"),
        ],
        extra=["prescriber_id"],
    )
    patients = table({"patient_id": ["listed"], "gp_id": ["gp1"]})
    out = rows_by_patient(new_users(rows, patients=patients))
    assert (out["listed"]["gp_id"], out["listed"]["gp_source"]) == ("gp1", "listed")
    assert (out["unlisted"]["gp_id"], out["unlisted"]["gp_source"]) == ("gp_first", "prescriber")


def test_new_user_unknown_option_raises_type_error(disp):
    """selection.NewUseCriteria: an unknown option name is an error."""
    with pytest.raises(TypeError, match="min_units"):
        new_users(disp([COVERAGE]), min_units=3)


RESULT_TYPES = {
    "pandas": pd.DataFrame,
    "polars": pl.DataFrame,
    "polars-lazy": pl.LazyFrame,
    "pyarrow": pa.Table,
}


@pytest.mark.parametrize("kind", list(RESULT_TYPES))
def test_new_user_result_kind_follows_input_kind(disp, kind_of, records, kind):
    """engine.py: the result is of the caller's kind (lazy in, lazy out), sorted by patient_id."""
    rows = disp([COVERAGE, ("b", "2025-05-01", OXAZEPAM, 20), ("a", "2025-06-01", ZOLPIDEM, 5)])
    result = new_users(kind_of(rows, kind))
    assert type(result) is RESULT_TYPES[kind]
    out = records(result)
    assert [r["patient_id"] for r in out] == ["a", "b"]
    assert list(out[0]) == OUTPUT_COLUMNS
    assert [(r["first_units"], r["large_first"]) for r in out] == [(5, False), (20, True)]


def test_new_user_native_and_auto_engines_agree(disp, records):
    """engine.py: engine='native' and engine='auto' give the same answer."""
    rows = disp(
        [
            COVERAGE,
            ("a", "2025-05-01", OXAZEPAM, 20),
            ("b", "2024-09-01", OXAZEPAM, 20),
            ("b", "2025-05-01", OXAZEPAM, 20),
            ("c", "2025-04-01", ZOLPIDEM, 5),
            ("c", "2025-06-01", ZOLPIDEM, 5),
        ]
    )
    auto = records(new_users(rows))
    native = records(new_users(rows, engine="native"))
    assert native == auto
    assert [r["patient_id"] for r in auto] == ["a", "c"]
