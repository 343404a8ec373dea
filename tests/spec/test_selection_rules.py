"""Specification tests for ``benzoredux.select_chronic_users``: one test per rule of DOMAIN.md.

Every test names the rule it checks and cites the section of ``shared/DOMAIN.md`` (``Selection
rules (bijlage 1)`` unless said otherwise) or the documented default in ``benzoredux.selection``
that makes the rule concrete. Expected values are computed by hand, in the comments, never by
calling the library a second way. Tables are tiny and built inline; the reference date is
2025-06-30 (window 2024-07-01 .. 2025-06-30, 365 days) unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import benzoredux as br
from benzoredux import ColumnTypeError, InvalidRowsError, MissingColumnsError

REF = dt.date(2025, 6, 30)
OXAZEPAM = "N05BA04"  # N05BA, WHO oral DDD 50 mg
DIAZEPAM = "N05BA01"  # N05BA, WHO oral DDD 10 mg
LORAZEPAM = "N05BA06"  # N05BA, WHO oral DDD 2.5 mg
TEMAZEPAM = "N05CD07"  # N05CD, WHO oral DDD 20 mg
ZOLPIDEM = "N05CF02"  # N05CF, WHO oral DDD 10 mg

OUTPUT_COLUMNS = [
    "patient_id",
    "gp_id",
    "gp_source",
    "units",
    "n_dispensings",
    "n_returns",
    "first_date",
    "last_date",
    "ddd_per_day",
    "ddd_per_day_recent",
    "days_since_supply_end",
    "probably_stopped",
    "complex_groups",
]


def select(dispensings, reference_date=REF, **kwargs):
    return br.select_chronic_users(dispensings, reference_date, **kwargs)


# --------------------------------------------------------------------------------------------
# Window: "dispensed after reference_date - 1 year and on or before reference_date"
# --------------------------------------------------------------------------------------------


def test_window_day_exactly_one_year_before_reference_is_outside_next_day_inside(disp, ids):
    """DOMAIN.md Chronic user: window is after reference_date - 1 year (exclusive), calendar."""
    rows = disp(
        [
            ("on_2024_06_30", "2024-06-30", OXAZEPAM, 100),  # exactly one year back: outside
            ("on_2024_07_01", "2024-07-01", OXAZEPAM, 100),  # one day later: inside
        ]
    )
    assert ids(select(rows)) == ["on_2024_07_01"]


def test_window_one_year_back_does_not_add_units_to_a_patient(disp, rows_by_patient):
    """DOMAIN.md Chronic user: units dispensed on reference_date - 1 year do not count."""
    rows = disp(
        [
            ("p", "2024-06-30", OXAZEPAM, 50),  # outside
            ("p", "2024-07-01", OXAZEPAM, 50),  # inside
            ("p", "2025-06-30", OXAZEPAM, 41),  # reference date: inside
        ]
    )
    out = rows_by_patient(select(rows))
    assert out["p"]["units"] == 91
    assert out["p"]["first_date"] == dt.date(2024, 7, 1)
    assert out["p"]["last_date"] == dt.date(2025, 6, 30)
    assert out["p"]["n_dispensings"] == 2


@pytest.mark.parametrize(
    "reference",
    [
        dt.date(2025, 6, 30),
        dt.datetime(2025, 6, 30, 23, 59),  # its calendar date
        pd.Timestamp("2025-06-30 08:00"),
        "2025-06-30",
    ],
    ids=["date", "datetime", "pandas-timestamp", "iso-text"],
)
def test_window_reference_date_as_date_datetime_or_iso_text(disp, ids, reference):
    """DOMAIN.md Chronic user: the reference date is a calendar day, however it is given."""
    rows = disp(
        [
            ("outside", "2024-06-30", OXAZEPAM, 100),
            ("inside_first_day", "2024-07-01", OXAZEPAM, 100),
            ("on_reference", "2025-06-30", OXAZEPAM, 100),
            ("after_reference", "2025-07-01", OXAZEPAM, 100),
        ]
    )
    assert ids(select(rows, reference)) == ["inside_first_day", "on_reference"]


@pytest.mark.parametrize(
    "text", ["30-06-2025", "06/30/2025", "2025/06/30", "20250630", "2025-6-30"]
)
def test_window_non_iso_text_reference_date_is_refused(disp, text):
    """dates.py: a text reference date is only read as ISO YYYY-MM-DD, never guessed."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    with pytest.raises(ValueError, match="ISO"):
        select(rows, text)


@pytest.mark.parametrize(
    ("kind", "engine"),
    [("pandas", "auto"), ("polars-lazy", "auto"), ("pandas", "native")],
)
def test_window_datetime_column_with_time_of_day(disp, kind_of, rows_by_patient, kind, engine):
    """DOMAIN.md Chronic user: a time of day on the reference date is inside, on the day a year
    back outside."""
    rows = disp(
        [
            ("p", "2024-06-30 23:59", OXAZEPAM, 1000),  # still the day one year back: outside
            ("p", "2024-07-01 00:00", OXAZEPAM, 45),  # first minute of the window: inside
            ("p", "2025-06-30 14:30", OXAZEPAM, 46),  # afternoon of the reference date: inside
            ("p", "2025-07-01 00:00", OXAZEPAM, 1000),  # the day after: outside
        ]
    )
    out = rows_by_patient(select(kind_of(rows, kind), engine=engine))
    assert out["p"]["units"] == 91
    assert out["p"]["first_date"] == dt.date(2024, 7, 1)
    assert out["p"]["last_date"] == dt.date(2025, 6, 30)


def test_window_dispensings_after_reference_date_are_ignored(disp, rows_by_patient):
    """DOMAIN.md Chronic user: only dispensings on or before the reference date count."""
    rows = disp(
        [
            ("later_use_only", "2025-01-01", OXAZEPAM, 80),
            ("later_use_only", "2025-07-01", OXAZEPAM, 50),  # 80 + 50 would be chronic
            ("chronic", "2025-01-01", OXAZEPAM, 100),
            ("chronic", "2025-08-01", OXAZEPAM, 100),
        ]
    )
    out = rows_by_patient(select(rows))
    assert list(out) == ["chronic"]
    assert out["chronic"]["units"] == 100
    assert out["chronic"]["n_dispensings"] == 1
    assert out["chronic"]["last_date"] == dt.date(2025, 1, 1)


def test_window_months_option_shortens_the_window(disp, ids):
    """selection.ChronicUseCriteria.window_months: calendar months up to the reference date."""
    rows = disp(
        [
            ("on_2024_12_30", "2024-12-30", OXAZEPAM, 100),  # 2025-06-30 - 6 months: outside
            ("on_2024_12_31", "2024-12-31", OXAZEPAM, 100),
        ]
    )
    assert ids(select(rows, window_months=6)) == ["on_2024_12_31"]


# --------------------------------------------------------------------------------------------
# Leap days: "calendar arithmetic"
# --------------------------------------------------------------------------------------------


def test_leap_day_reference_2024_02_29_window_starts_after_2023_02_28(disp, ids):
    """DOMAIN.md Chronic user: 2024-02-29 minus one year is 2023-02-28 (calendar arithmetic)."""
    rows = disp(
        [
            ("on_2023_02_28", "2023-02-28", OXAZEPAM, 100),
            ("on_2023_03_01", "2023-03-01", OXAZEPAM, 100),
        ]
    )
    assert ids(select(rows, dt.date(2024, 2, 29))) == ["on_2023_03_01"]


def test_leap_day_reference_2025_02_28_includes_2024_02_29(disp, ids):
    """DOMAIN.md Chronic user: 2025-02-28 minus one year is 2024-02-28, so 2024-02-29 is inside."""
    rows = disp(
        [
            ("on_2024_02_28", "2024-02-28", OXAZEPAM, 100),
            ("on_2024_02_29", "2024-02-29", OXAZEPAM, 100),
            ("on_2024_03_01", "2024-03-01", OXAZEPAM, 100),
        ]
    )
    assert ids(select(rows, "2025-02-28")) == ["on_2024_02_29", "on_2024_03_01"]


def test_leap_day_reference_2025_03_01_excludes_2024_02_29(disp, ids):
    """DOMAIN.md Chronic user: 2025-03-01 minus one year is 2024-03-01: 02-29 and 03-01 outside."""
    rows = disp(
        [
            ("on_2024_02_29", "2024-02-29", OXAZEPAM, 100),
            ("on_2024_03_01", "2024-03-01", OXAZEPAM, 100),
            ("on_2024_03_02", "2024-03-02", OXAZEPAM, 100),
        ]
    )
    assert ids(select(rows, "2025-03-01")) == ["on_2024_03_02"]


# --------------------------------------------------------------------------------------------
# Threshold: "more than 90 tablets"; strict
# --------------------------------------------------------------------------------------------


def test_threshold_more_than_90_is_strict(disp, rows_by_patient):
    """DOMAIN.md Chronic user: "more than" is strict: 90 is not chronic, 91 is."""
    rows = disp(
        [
            ("u89", "2025-01-01", OXAZEPAM, 89),
            ("u90", "2025-01-01", OXAZEPAM, 90),
            ("u90_5", "2025-01-01", OXAZEPAM, 90.5),
            ("u91", "2025-01-01", OXAZEPAM, 91),
        ]
    )
    out = rows_by_patient(select(rows))
    assert sorted(out) == ["u90_5", "u91"]
    assert out["u91"]["units"] == 91


def test_threshold_units_of_several_dispensings_add_up(disp, ids):
    """DOMAIN.md Chronic user: the 90 tablets are summed over the whole window."""
    rows = disp(
        [
            ("u90", "2024-08-01", OXAZEPAM, 45),
            ("u90", "2025-05-01", OXAZEPAM, 45),
            ("u91", "2024-08-01", OXAZEPAM, 45),
            ("u91", "2025-05-01", OXAZEPAM, 46),
        ]
    )
    assert ids(select(rows)) == ["u91"]


def test_threshold_min_units_option(disp, ids):
    """selection.ChronicUseCriteria.min_units: chronic means more than min_units (still strict)."""
    rows = disp(
        [
            ("u30", "2025-01-01", OXAZEPAM, 30),
            ("u31", "2025-01-01", OXAZEPAM, 31),
            ("u90", "2025-01-01", OXAZEPAM, 90),
        ]
    )
    assert ids(select(rows, min_units=30)) == ["u31", "u90"]
    assert ids(select(rows, min_units=89.5)) == ["u90"]


def test_threshold_include_excluded_does_not_return_patients_under_the_threshold(disp, ids):
    """selection.ChronicUseCriteria.include_excluded: only patients over the threshold return."""
    rows = disp([("u90", "2025-01-01", OXAZEPAM, 90), ("u91", "2025-01-01", OXAZEPAM, 91)])
    assert ids(select(rows, include_excluded=True)) == ["u91"]


# --------------------------------------------------------------------------------------------
# Benzodiazepines: N05BA, N05CD, N05CF add up; returns subtract
# --------------------------------------------------------------------------------------------


def test_benzodiazepine_groups_n05ba_n05cd_n05cf_add_up(disp, rows_by_patient):
    """DOMAIN.md Benzodiazepines + Chronic user: units of all benzodiazepines add up."""
    rows = disp(
        [
            ("p", "2024-09-01", OXAZEPAM, 30),  # N05BA
            ("p", "2024-12-01", TEMAZEPAM, 31),  # N05CD
            ("p", "2025-03-01", ZOLPIDEM, 30),  # N05CF
            ("q", "2024-09-01", OXAZEPAM, 30),
            ("q", "2024-12-01", TEMAZEPAM, 30),
            ("q", "2025-03-01", ZOLPIDEM, 30),  # 90: not chronic
        ]
    )
    out = rows_by_patient(select(rows))
    assert list(out) == ["p"]
    assert out["p"]["units"] == 91
    assert out["p"]["n_dispensings"] == 3
    assert out["p"]["n_returns"] == 0
    assert out["p"]["first_date"] == dt.date(2024, 9, 1)
    assert out["p"]["last_date"] == dt.date(2025, 3, 1)


def test_benzodiazepine_any_code_of_the_three_groups_counts(disp, ids):
    """DOMAIN.md Benzodiazepines: every ATC code starting with N05BA, N05CD or N05CF, codes
    added to the WHO index after the module included (mexazolam N05BA25, dimdazenil N05CD16)."""
    codes = ["N05BA01", "N05BA12", "N05BA25", "N05CD02", "N05CD08", "N05CD16", "N05CF01"]
    assert ids(select(disp([(atc, "2025-01-01", atc, 91) for atc in codes]))) == codes


def test_benzodiazepine_unknown_code_of_the_groups_counts_and_is_reported(disp, rows_by_patient):
    """Issue 14: a code starting with N05BA that the WHO index does not have (mistyped N05BA99)
    still counts as a benzodiazepine by its group, but never silently: the warning names the
    code and its row count (codes only, no patient)."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 60),
            ("p", "2025-02-01", "N05BA99", 31),  # 60 + 31 = 91: chronic only if counted
            ("p", "2025-03-01", "N05BA99", 0.5),
            ("q", "2025-01-01", "L01ZZ01", 1),  # unknown, in complex group L
        ]
    )
    with pytest.warns(br.UnknownCodesWarning) as caught:
        out = rows_by_patient(select(rows))
    assert out["p"]["units"] == 91.5
    (warning,) = caught
    message = str(warning.message)
    assert "3 dispensing rows" in message
    assert "N05BA99: 2 rows" in message
    assert "L01ZZ01: 1 row" in message
    assert "'p'" not in message
    assert "'q'" not in message
    assert warning.filename == __file__  # points at the caller, not into the library


UNKNOWN_KINDS = ["pandas", "polars", "polars-lazy", "pyarrow", "duckdb", "parquet"]


def _as_kind(frame, kind, kind_of, tmp_path):
    """``frame`` as a supported kind, a DuckDB relation or a Parquet path (a polars scan)."""
    if kind == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        return duckdb.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))
    if kind == "parquet":
        path = tmp_path / "dispensings.parquet"
        frame.to_parquet(path, index=False)
        return path
    return kind_of(frame, kind)


def _plain_records(result, records):
    if hasattr(result, "to_arrow_table"):  # a DuckDB relation
        result = result.to_arrow_table()
    return records(result)


@pytest.mark.parametrize("kind", UNKNOWN_KINDS)
def test_unknown_codes_warn_and_count_and_are_listed_on_every_kind(
    disp, kind_of, records, kind, tmp_path
):
    """Issue 14: on every input kind (the Parquet scan reads codes by its own path) an unknown
    code of a group counts in its group, is reported, and unknown_code_rows() lists its rows
    (the window's with a reference date, all without)."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 60),
            ("p", "2025-02-01", "N05BA99", 31),
            ("q", "2025-01-01", OXAZEPAM, 100),
            ("q", "2025-02-01", "L01ZZ01", 1),
            ("q", "2025-02-01", "N02BF02", 1),  # known: pregabalin
            ("r", "2023-02-01", "N05BA98", 1),  # unknown, before the window
        ]
    )
    source = _as_kind(rows, kind, kind_of, tmp_path)
    with pytest.warns(br.UnknownCodesWarning, match=r"\(L01ZZ01: 1 row, N05BA99: 1 row\)"):
        result = select(source, include_excluded=True)
    out = {r["patient_id"]: r for r in _plain_records(result, records)}
    assert out["p"]["units"] == 91
    assert out["q"]["complex_groups"] == "L, N03"
    listed = _plain_records(br.unknown_code_rows(source, REF), records)
    assert [(r["patient_id"], r["atc"]) for r in listed] == [("q", "L01ZZ01"), ("p", "N05BA99")]
    everything = _plain_records(br.unknown_code_rows(source), records)
    assert [r["atc"] for r in everything] == ["L01ZZ01", "N05BA98", "N05BA99"]
    assert set(everything[0]) == {"patient_id", "date", "atc", "quantity"}  # rows as given


def test_unknown_code_rows_is_empty_when_every_code_is_known(disp):
    rows = disp([("p", "2025-01-01", OXAZEPAM, 60), ("p", "2025-02-01", "N02AJ06", 31)])
    listed = br.unknown_code_rows(rows, REF)
    assert list(listed.columns) == ["patient_id", "date", "atc", "quantity"]
    assert len(listed) == 0
    with pytest.raises(ValueError, match="window_months"):
        br.unknown_code_rows(rows, REF, window_months=0)


def test_new_users_report_unknown_benzodiazepine_codes_too(disp, ids):
    """Issue 14: select_new_users counts benzodiazepine rows by group as well, so it reports an
    unknown benzodiazepine code of its period the same way."""
    rows = disp([("n", "2024-01-01", OXAZEPAM, 0.25), ("n", "2025-06-01", "N05CD99", 20)])
    with pytest.warns(br.UnknownCodesWarning, match="new-user period.*N05CD99: 1 row"):
        new = br.select_new_users(rows, REF)
    assert ids(new) == ["n"]


def test_no_warning_for_known_retired_codes_or_unknown_codes_outside_the_window(disp, ids):
    """Issue 14: retired codes the library recognises (gabapentin N03AX12 until 2021, imatinib
    L01XE01 until 2020) are not reported; an unknown code outside the window is not read."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 100),
            ("r", "2025-01-01", OXAZEPAM, 100),
            ("r", "2025-02-01", "N03AX12", 30),
            ("r", "2025-02-01", "L01XE01", 30),
            ("s", "2023-01-01", "N05BA99", 30),  # before the window
        ]
    )
    assert ids(select(rows)) == ["p"]  # pytest turns any warning into an error here


def test_benzodiazepine_return_subtracts_95_minus_10_is_not_chronic(disp, ids):
    """DOMAIN.md Chronic user: a returned dispensing (negative quantity) subtracts."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 95), ("p", "2025-02-01", OXAZEPAM, -10)])
    assert ids(select(rows, include_excluded=True)) == []


def test_benzodiazepine_return_counts_n_returns_and_n_dispensings(disp, rows_by_patient):
    """DOMAIN.md Chronic user: returns net out; n_dispensings counts dispensings, n_returns
    returns."""
    rows = disp(
        [
            ("p", "2024-10-01", OXAZEPAM, 60),
            ("p", "2025-01-01", TEMAZEPAM, 50),
            ("p", "2025-02-01", TEMAZEPAM, -9),  # return of another benzodiazepine also nets
            ("p", "2025-03-01", OXAZEPAM, -10),
            ("p", "2025-04-01", "N05BB01", -5),  # return of a non-benzodiazepine: ignored
        ]
    )
    out = rows_by_patient(select(rows))
    assert out["p"]["units"] == 60 + 50 - 9 - 10  # 91
    assert out["p"]["n_dispensings"] == 2
    assert out["p"]["n_returns"] == 2
    assert out["p"]["first_date"] == dt.date(2024, 10, 1)
    assert out["p"]["last_date"] == dt.date(2025, 1, 1)  # a return is not a dispensing


def test_benzodiazepine_return_outside_window_does_not_subtract(disp, rows_by_patient):
    """DOMAIN.md Chronic user: a return counts only when it falls in the window."""
    rows = disp([("p", "2024-06-30", OXAZEPAM, -50), ("p", "2025-01-01", OXAZEPAM, 91)])
    out = rows_by_patient(select(rows))
    assert out["p"]["units"] == 91
    assert out["p"]["n_returns"] == 0


NOT_BENZODIAZEPINES = {
    "N05BB01": "hydroxyzine",
    "N05CH01": "melatonin",
    "N05CM02": "clomethiazole",
    "N06AX05": "trazodone",
    "N03AE01": "clonazepam (an anti-epileptic here)",
}


def test_not_benzodiazepine_units_do_not_count(disp, ids):
    """DOMAIN.md Benzodiazepines: only N05BA/N05CD/N05CF count; clonazepam N03AE01 does not."""
    rows = []
    for atc in NOT_BENZODIAZEPINES:
        rows.append((f"alone_{atc}", "2025-01-01", atc, 200))
        rows.append((f"mixed_{atc}", "2025-01-01", OXAZEPAM, 50))  # 50 + 50 would be chronic
        rows.append((f"mixed_{atc}", "2025-01-02", atc, 50))
    assert ids(select(disp(rows), exclude_complex=False, include_excluded=True)) == []


def test_not_benzodiazepine_clonazepam_is_complex_comedication_n03(disp, rows_by_patient):
    """DOMAIN.md Benzodiazepines: clonazepam N03AE01 falls in N03 (complex co-medication)."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", "N03AE01", 30)])
    assert rows_by_patient(select(rows)) == {}
    kept = rows_by_patient(select(rows, exclude_complex=False))
    assert kept["p"]["units"] == 100  # clonazepam's 30 units do not count
    assert kept["p"]["n_dispensings"] == 1
    assert kept["p"]["complex_groups"] == "N03"


# --------------------------------------------------------------------------------------------
# Complex co-medication: L, M03, M09A (not M09AA01), N02A (not N02AA59), N03, N05A
# --------------------------------------------------------------------------------------------

COMPLEX_CASES = [
    ("L01BA01", "L"),  # methotrexate
    ("L04AX03", "L"),  # methotrexate (immunosuppressant)
    ("M03BX01", "M03"),  # baclofen
    ("M03AC01", "M03"),  # pancuronium
    ("M09AX01", "M09A"),  # hyaluronic acid
    ("N02AA01", "N02A"),  # morphine
    ("N02AX02", "N02A"),  # tramadol
    ("N02AJ13", "N02A"),  # tramadol + paracetamol
    ("N03AX12", "N03"),  # gabapentin
    ("N03AX16", "N03"),  # pregabalin
    ("N05AH04", "N05A"),  # quetiapine
    ("N05AX08", "N05A"),  # risperidone
]


def test_complex_comedication_every_group_excludes_by_default(disp, ids, rows_by_patient):
    """DOMAIN.md Complex co-medication excludes: one prescription of L, M03, M09A, N02A, N03,
    N05A in 12 months."""
    rows = []
    for atc, _ in COMPLEX_CASES:  # one patient per code, named after it
        rows.append((atc, "2025-01-01", OXAZEPAM, 100))
        rows.append((atc, "2025-02-01", atc, 1))
    rows.append(("no_comedication", "2025-01-01", OXAZEPAM, 100))
    assert ids(select(disp(rows))) == ["no_comedication"]
    excluded = rows_by_patient(select(disp(rows), include_excluded=True))
    assert len(excluded) == len(COMPLEX_CASES) + 1
    for atc, group in COMPLEX_CASES:
        assert excluded[atc]["complex_groups"] == group, atc
        assert "complex" in excluded[atc]["excluded_because"], atc
        assert group in excluded[atc]["excluded_because"], atc


def test_complex_comedication_exceptions_m09aa01_n02aa59_do_not_exclude(disp, rows_by_patient):
    """DOMAIN.md Complex co-medication: M09A except M09AA01, N02A except N02AA59 (exact codes)."""
    rows = disp(
        [
            ("hydroquinine", "2025-01-01", OXAZEPAM, 100),
            ("hydroquinine", "2025-02-01", "M09AA01", 30),
            ("codeine_combination", "2025-01-01", OXAZEPAM, 100),
            ("codeine_combination", "2025-02-01", "N02AA59", 30),
            ("m09aa72", "2025-01-01", OXAZEPAM, 100),
            ("m09aa72", "2025-02-01", "M09AA72", 1),  # M09A, not the exception
            ("n02aa58", "2025-01-01", OXAZEPAM, 100),
            ("n02aa58", "2025-02-01", "N02AA58", 1),  # N02A, not the exception
        ]
    )
    out = rows_by_patient(select(rows))
    assert sorted(out) == ["codeine_combination", "hydroquinine"]
    for patient in out:
        assert out[patient]["complex_groups"] == ""
        assert out[patient]["units"] == 100


# Issue 14: the module's exception "N02AA59 = paracetamol + codeine" follows the substance. The
# 2017 WHO index moved the codeine combinations out of N02AA59 into N02AJ (WHOCC, "ATC
# classification of combinations of opioids and other analgesics", 22 January 2016).
CODEINE_CASES = [
    # (code, exempt by default, exempt with exempt_other_codeine_combinations=False)
    ("N02AA59", True, True),  # codeine, combinations excl. psycholeptics (the module's code)
    ("N02AJ06", True, True),  # codeine and paracetamol, today's code
    ("N02AJ07", True, False),  # codeine and acetylsalicylic acid
    ("N02AJ08", True, False),  # codeine and ibuprofen
    ("N02AJ09", True, False),  # codeine and other non-opioid analgesics
    ("N02AA01", False, False),  # morphine: a true opioid
    ("N02AJ13", False, False),  # tramadol and paracetamol (WHO index 2026)
    ("N02AJ01", False, False),  # dihydrocodeine and paracetamol: not codeine
    ("N02AA79", False, False),  # codeine, combinations with psycholeptics: not the exception
]


@pytest.mark.parametrize("kind", ["pandas", "polars", "polars-lazy", "pyarrow"])
def test_paracetamol_codeine_is_exempt_under_old_and_new_code(disp, kind_of, rows_by_patient, kind):
    """Issue 14: a patient with 100 oxazepam and paracetamol/codeine dispensed as N02AJ06 (or as
    the module's N02AA59) is selected, not excluded as "complex co-medication: N02A"."""
    rows = []
    for atc, _, _ in CODEINE_CASES:
        rows += [(atc, "2025-01-01", OXAZEPAM, 100), (atc, "2025-02-01", atc, 30)]
    out = rows_by_patient(select(kind_of(disp(rows), kind), include_excluded=True))
    for atc, exempt, _ in CODEINE_CASES:
        assert out[atc]["units"] == 100, atc
        assert out[atc]["complex_groups"] == ("" if exempt else "N02A"), atc
        expected = None if exempt else "complex co-medication: N02A"
        assert out[atc]["excluded_because"] == expected, atc


def test_other_codeine_combinations_option_keeps_only_paracetamol_codeine_exempt(disp, ids):
    """Issue 14: exempt_other_codeine_combinations=False exempts paracetamol + codeine (N02AA59,
    N02AJ06) only; codeine with acetylsalicylic acid, ibuprofen or others (N02AJ07-09) is N02A."""
    rows = []
    for atc, _, _ in CODEINE_CASES:
        rows += [(atc, "2025-01-01", OXAZEPAM, 100), (atc, "2025-02-01", atc, 30)]
    narrow = select(disp(rows), exempt_other_codeine_combinations=False)
    assert ids(narrow) == sorted(atc for atc, _, exempt in CODEINE_CASES if exempt)
    assert ids(select(disp(rows))) == sorted(atc for atc, exempt, _ in CODEINE_CASES if exempt)


@pytest.mark.parametrize(
    ("atc", "as_antiepileptics", "groups"),
    [
        ("N02BF02", True, "N03"),  # pregabalin, today's code: N03 as when the module was written
        ("N02BF01", True, "N03"),  # gabapentin
        ("N02BF02", False, ""),  # today's classification: an analgesic, not complex
        ("N03AX16", True, "N03"),  # pregabalin's old code is N03 either way (its prefix)
        ("N03AX16", False, "N03"),
        ("N02BF03", True, ""),  # mirogabalin: never an anti-epileptic code
    ],
)
def test_gabapentinoids_follow_the_substance_into_n03(
    disp, rows_by_patient, atc, as_antiepileptics, groups
):
    """Issue 14, codes changed since the module: gabapentin and pregabalin were anti-epileptics
    (N03AX12, N03AX16) when the module was written and are N02BF01/N02BF02 today; by default
    they still make co-medication complex (N03); the option follows today's index."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", atc, 30)])
    out = rows_by_patient(
        select(rows, include_excluded=True, gabapentinoids_as_antiepileptics=as_antiepileptics)
    )
    assert out["p"]["complex_groups"] == groups


def test_complex_comedication_options_are_checked():
    with pytest.raises(TypeError):
        br.ChronicUseCriteria(exempt_other_codeine_combinations="no")
    with pytest.raises(TypeError):
        br.ChronicUseCriteria(gabapentinoids_as_antiepileptics=1)


def test_complex_comedication_counts_only_in_the_window(disp, ids):
    """DOMAIN.md Complex co-medication: a prescription "in the past 12 months" (the window)."""
    cases = {
        "on_2020_01_01": ("2020-01-01", False),
        "on_2024_06_30": ("2024-06-30", False),  # the day one year back: outside
        "on_2024_07_01": ("2024-07-01", True),
        "on_2025_06_30": ("2025-06-30 18:00", True),  # the reference date, any time
        "on_2025_07_01": ("2025-07-01", False),  # after the reference date
    }
    rows = []
    for patient, (day, _) in cases.items():
        rows.append((patient, "2025-01-01", OXAZEPAM, 100))
        rows.append((patient, day, "N05AH04", 30))
    assert ids(select(disp(rows))) == sorted(p for p, (_, excl) in cases.items() if not excl)


def test_complex_comedication_return_alone_does_not_exclude(disp, rows_by_patient):
    """DOMAIN.md Complex co-medication: a return (negative quantity) is not a prescription."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", "N03AX12", -30)])
    out = rows_by_patient(select(rows))
    assert list(out) == ["p"]
    assert out["p"]["complex_groups"] == ""


def test_complex_comedication_exclude_complex_false_keeps_and_lists_groups(disp, rows_by_patient):
    """selection: exclude_complex=False keeps them; complex_groups lists the groups either way."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 100),
            ("p", "2025-02-01", "N02AA01", 10),
            ("p", "2025-03-01", "N03AX16", 10),
            ("p", "2025-04-01", "N03AX12", 10),  # second N03: listed once
            ("q", "2025-01-01", OXAZEPAM, 100),
        ]
    )
    out = rows_by_patient(select(rows, exclude_complex=False))
    assert sorted(out) == ["p", "q"]
    assert sorted(out["p"]["complex_groups"].split(", ")) == ["N02A", "N03"]
    assert out["q"]["complex_groups"] == ""
    assert out["p"]["units"] == 100  # co-medication units never count


def test_complex_comedication_include_excluded_returns_reason(disp, rows_by_patient):
    """DOMAIN.md Screening: the program proposes and records reasons (excluded_because)."""
    rows = disp(
        [
            ("excluded", "2025-01-01", OXAZEPAM, 100),
            ("excluded", "2025-02-01", "N05AX08", 10),
            ("kept", "2025-01-01", OXAZEPAM, 100),
        ]
    )
    plain = select(rows)
    assert "excluded_because" not in (plain.columns if hasattr(plain, "columns") else [])
    out = rows_by_patient(select(rows, include_excluded=True))
    assert sorted(out) == ["excluded", "kept"]
    assert out["kept"]["excluded_because"] is None
    assert "N05A" in out["excluded"]["excluded_because"]
    assert out["excluded"]["complex_groups"] == "N05A"


# --------------------------------------------------------------------------------------------
# Dosage forms: "units count only for solid oral forms when the data tell the form"
# --------------------------------------------------------------------------------------------


def test_dosage_form_only_solid_oral_units_count(disp, rows_by_patient):
    """DOMAIN.md Chronic user: units count only for solid oral forms when the data tell the form."""
    rows = disp(
        [
            ("tablet_and_drank", "2025-01-01", DIAZEPAM, 60, "tablet"),
            ("tablet_and_drank", "2025-02-01", DIAZEPAM, 200, "drank"),  # ml: not tablets
            ("tablet_and_zetpil", "2025-01-01", DIAZEPAM, 60, "tablet"),
            ("tablet_and_zetpil", "2025-02-01", DIAZEPAM, 40, "zetpil"),
            ("capsule_and_tablet", "2025-01-01", OXAZEPAM, 50, "capsule"),
            ("capsule_and_tablet", "2025-02-01", OXAZEPAM, 41, " Tablet "),  # trimmed, any case
            ("form_missing", "2025-01-01", OXAZEPAM, 50, None),  # unknown form: counts
            ("form_missing", "2025-02-01", OXAZEPAM, 41, "tablet"),
        ],
        extra=["form"],
    )
    out = rows_by_patient(select(rows))
    assert sorted(out) == ["capsule_and_tablet", "form_missing"]
    assert out["capsule_and_tablet"]["units"] == 91
    assert out["form_missing"]["units"] == 91


def test_dosage_form_non_solid_units_alone_never_make_a_chronic_user(disp, ids):
    """DOMAIN.md Chronic user: drops, solutions, suppositories, injections are not tablets."""
    forms = ["drank", "druppels", "zetpil", "rectiole", "injectievloeistof", "Oral Solution"]
    rows = disp([(f, "2025-01-01", DIAZEPAM, 500, f) for f in forms], extra=["form"])
    assert ids(select(rows, include_excluded=True)) == []


def test_dosage_form_unknown_is_refused(disp):
    """tables.form_rule: an unknown form is refused (InvalidRowsError), never guessed."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 50, "tablet"),
            ("p", "2025-02-01", OXAZEPAM, 50, "kauwtablet"),
        ],
        extra=["form"],
    )
    with pytest.raises(InvalidRowsError, match=r"row 1") as info:
        select(rows)
    assert "form of a benzodiazepine is not a known dosage form" in str(info.value)
    # a word is not quoted (a swapped column puts names here, docs/privacy.rst); the rejected
    # rows hold the form to add with extra_forms
    assert "(form=<hidden: a word>" in str(info.value)
    assert br.validate_dispensings(rows).rejected["form"].tolist() == ["kauwtablet"]


def test_dosage_form_extra_forms_option(disp, ids):
    """selection.ChronicUseCriteria.extra_forms: add a form, marked solid oral or not."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 50, "tablet"),
            ("p", "2025-02-01", OXAZEPAM, 50, "kauwtablet"),
        ],
        extra=["form"],
    )
    assert ids(select(rows, extra_forms={"kauwtablet": True})) == ["p"]
    assert ids(select(rows, extra_forms={"Kauwtablet": True})) == ["p"]  # names are normalised
    assert ids(select(rows, extra_forms={"kauwtablet": False})) == []


def test_dosage_form_non_solid_rows_still_count_as_dispensings(disp, rows_by_patient):
    """selection: a non-solid benzodiazepine dispensing is a dispensing, its units do not count."""
    rows = disp(
        [("p", "2025-01-01", OXAZEPAM, 91, "tablet"), ("p", "2025-02-01", DIAZEPAM, 100, "drank")],
        extra=["form"],
    )
    out = rows_by_patient(select(rows))
    assert out["p"]["units"] == 91
    assert out["p"]["n_dispensings"] == 2
    assert out["p"]["last_date"] == dt.date(2025, 2, 1)


# --------------------------------------------------------------------------------------------
# GP route: ICPC P06, P74, P01
# --------------------------------------------------------------------------------------------


def _route_dispensings(disp, patients):
    return disp([(p, "2025-01-01", OXAZEPAM, 100) for p in patients])


def test_gp_route_keeps_p06_p74_p01_and_excludes_other_codes(disp, table, ids, rows_by_patient):
    """DOMAIN.md GP route: restrict to patients with ICPC P06, P74 or P01."""
    rows = _route_dispensings(disp, ["p06", "p74", "p01", "p7401", "p02", "a01", "none"])
    episodes = table(
        {
            "patient_id": ["p06", "p74", "p01", "p7401", "p02", "a01"],
            "icpc": ["P06", "P74", "P01", "P74.01", "P02", "A01"],
        }
    )
    assert ids(select(rows, episodes=episodes, gp_route=True)) == [
        "p01",
        "p06",
        "p74",
        "p7401",
    ]
    out = rows_by_patient(select(rows, episodes=episodes, gp_route=True, include_excluded=True))
    for patient in ("p02", "a01", "none"):
        assert out[patient]["excluded_because"], patient
    assert out["p06"]["excluded_because"] is None


def test_gp_route_is_off_by_default(disp, table, ids):
    """selection.ChronicUseCriteria.gp_route: off by default (the pharmacy route has no ICPC)."""
    rows = _route_dispensings(disp, ["a01"])
    episodes = table({"patient_id": ["a01"], "icpc": ["A01"]})
    assert ids(select(rows, episodes=episodes)) == ["a01"]


def test_gp_route_needs_an_episodes_table(disp):
    """selection: gp_route=True without episodes is an error, not an empty or full selection."""
    with pytest.raises(ValueError, match="episodes"):
        select(_route_dispensings(disp, ["p"]), gp_route=True)


def test_gp_route_one_matching_episode_is_enough(disp, table, ids):
    """DOMAIN.md GP route: a patient with P06 and other episodes stays."""
    rows = _route_dispensings(disp, ["p"])
    episodes = table({"patient_id": ["p", "p", "p"], "icpc": ["A01", "P06", "K86"]})
    assert ids(select(rows, episodes=episodes, gp_route=True)) == ["p"]


def test_gp_route_episode_started_after_reference_date_does_not_count(disp, table, ids):
    """selection.gp_route_active_only: by default, any episode started by the reference date."""
    rows = _route_dispensings(disp, ["started_before", "started_on_ref", "started_after"])
    episodes = table(
        {
            "patient_id": ["started_before", "started_on_ref", "started_after"],
            "icpc": ["P06", "P06", "P06"],
            "start": ["2010-01-01", "2025-06-30", "2025-07-01"],
            "end": ["2011-01-01", None, None],
        },
        date_columns=["start", "end"],
    )
    assert ids(select(rows, episodes=episodes, gp_route=True)) == [
        "started_before",
        "started_on_ref",
    ]


def test_gp_route_active_only_needs_an_episode_overlapping_the_window(disp, table, ids):
    """selection.gp_route_active_only: count only episodes that overlap the window."""
    rows = _route_dispensings(
        disp, ["ended_2011", "ended_year_back", "ended_in_window", "open", "no_dates"]
    )
    episodes = table(
        {
            "patient_id": ["ended_2011", "ended_year_back", "ended_in_window", "open", "no_dates"],
            "icpc": ["P06", "P74", "P01", "P06", "P06"],
            "start": ["2010-01-01", "2020-01-01", "2020-01-01", "2024-01-01", None],
            "end": ["2011-01-01", "2024-06-30", "2024-07-01", None, None],
        },
        date_columns=["start", "end"],
    )
    assert ids(select(rows, episodes=episodes, gp_route=True)) == [
        "ended_2011",
        "ended_in_window",
        "ended_year_back",
        "no_dates",
        "open",
    ]
    assert ids(select(rows, episodes=episodes, gp_route=True, gp_route_active_only=True)) == [
        "ended_in_window",
        "no_dates",
        "open",
    ]


def test_gp_route_codes_option(disp, table, ids):
    """selection.ChronicUseCriteria.gp_route_codes: the rubrics of the route are an option."""
    rows = _route_dispensings(disp, ["p06", "p74"])
    episodes = table({"patient_id": ["p06", "p74"], "icpc": ["P06", "P74.02"]})
    assert ids(select(rows, episodes=episodes, gp_route=True, gp_route_codes=["P74"])) == ["p74"]
    assert ids(select(rows, episodes=episodes, gp_route=True, gp_route_codes=["p06"])) == ["p06"]


def test_gp_route_codes_subcode_option_matches_or_is_refused(disp, table, ids):
    """selection.gp_route_codes: a subcode option must match that subcode, or be refused."""
    rows = _route_dispensings(disp, ["p"])
    episodes = table({"patient_id": ["p"], "icpc": ["P74.01"]})
    try:
        result = select(rows, episodes=episodes, gp_route=True, gp_route_codes=["P74.01"])
    except ValueError:
        return  # refusing a subcode as a rubric is acceptable
    assert ids(result) == ["p"]


def test_gp_route_episode_starting_on_reference_date_with_time_of_day_counts(disp, table, ids):
    """selection.gp_route: an episode started on the reference date has started "by then"."""
    rows = _route_dispensings(disp, ["p"])
    episodes = table(
        {"patient_id": ["p"], "icpc": ["P06"], "start": ["2025-06-30 10:00"], "end": [None]},
        date_columns=["start", "end"],
    )
    assert ids(select(rows, episodes=episodes, gp_route=True)) == ["p"]


def test_gp_route_active_only_datetime_end_on_day_one_year_back_does_not_overlap(disp, table, ids):
    """selection.gp_route_active_only: the day one year back is outside the window."""
    rows = _route_dispensings(disp, ["p"])
    episodes = table(
        {
            "patient_id": ["p"],
            "icpc": ["P06"],
            "start": ["2020-01-01 09:00"],
            "end": ["2024-06-30 10:00"],
        },
        date_columns=["start", "end"],
    )
    assert ids(select(rows, episodes=episodes, gp_route=True, gp_route_active_only=True)) == []


# --------------------------------------------------------------------------------------------
# Attribution to a GP; patients who left the practice
# --------------------------------------------------------------------------------------------


def test_attribution_listed_gp_from_patients_table(disp, table, rows_by_patient):
    """DOMAIN.md Select (per GP): with a patients table, gp_id is the GP the patient is listed
    with."""
    rows = disp(
        [
            ("listed", "2025-01-01", OXAZEPAM, 100, "prescriber_x"),
            ("no_listed_gp", "2025-01-01", OXAZEPAM, 100, "prescriber_y"),
            ("not_in_table", "2025-01-01", OXAZEPAM, 100, "prescriber_z"),
        ],
        extra=["prescriber_id"],
    )
    patients = table({"patient_id": ["listed", "no_listed_gp"], "gp_id": ["gp1", None]})
    out = rows_by_patient(select(rows, patients=patients))
    assert (out["listed"]["gp_id"], out["listed"]["gp_source"]) == ("gp1", "listed")
    assert (out["no_listed_gp"]["gp_id"], out["no_listed_gp"]["gp_source"]) == (
        "prescriber_y",
        "prescriber",
    )
    assert (out["not_in_table"]["gp_id"], out["not_in_table"]["gp_source"]) == (
        "prescriber_z",
        "prescriber",
    )


def test_attribution_without_patients_is_prescriber_of_most_recent_benzodiazepine(
    disp, rows_by_patient
):
    """DOMAIN.md Select (AIS, per prescribing GP): the prescriber of the latest benzodiazepine."""
    rows = disp(
        [
            ("p", "2024-08-01", OXAZEPAM, 50, "gp_old"),
            ("p", "2025-03-01", TEMAZEPAM, 50, "gp_recent"),
            ("p", "2025-04-01", "N05BB01", 30, "gp_hydroxyzine"),  # not a benzodiazepine
            ("p", "2025-08-01", OXAZEPAM, 50, "gp_after_reference"),  # outside the window
            ("no_prescriber", "2025-01-01", OXAZEPAM, 100, None),
        ],
        extra=["prescriber_id"],
    )
    out = rows_by_patient(select(rows))
    assert (out["p"]["gp_id"], out["p"]["gp_source"]) == ("gp_recent", "prescriber")
    assert out["no_prescriber"]["gp_id"] is None
    assert out["no_prescriber"]["gp_source"] is None


def test_attribution_prescriber_of_a_return_is_not_the_prescriber(disp, rows_by_patient):
    """selection.select_chronic_users: gp_source 'prescriber' is the prescriber of a dispensing."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 100, "gp_b"),
            ("p", "2025-03-01", OXAZEPAM, 30, "gp_y"),  # the most recent dispensing
            ("p", "2025-03-01", OXAZEPAM, -5, "gp_a"),  # a return booked the same day
        ],
        extra=["prescriber_id"],
    )
    assert rows_by_patient(select(rows))["p"]["gp_id"] == "gp_y"


DEPARTED_CASES = [
    # (patient, status, status_date, excluded by default)
    ("active", "active", "2020-01-01", False),
    ("status_empty", None, None, False),
    ("deceased_before", "deceased", "2025-05-01", True),
    ("deceased_on_ref", "deceased", "2025-06-30", True),
    ("moved_before", "moved", "2025-01-15", True),
    ("changed_gp_before", "changed_gp", "2024-12-01", True),
    ("deceased_after", "deceased", "2025-07-01", False),
    ("moved_after", "moved", "2025-09-01", False),
    ("changed_gp_after", "changed_gp", "2025-07-01", False),
]


def test_departed_patients_are_excluded_on_or_before_reference_date(
    disp, table, ids, rows_by_patient
):
    """DOMAIN.md Evaluation (corrects for died, moved, changed GP): departed by the reference
    date are left out."""
    rows = disp([(p, "2025-01-01", OXAZEPAM, 100) for p, *_ in DEPARTED_CASES])
    patients = table(
        {
            "patient_id": [c[0] for c in DEPARTED_CASES],
            "gp_id": ["gp1"] * len(DEPARTED_CASES),
            "status": [c[1] for c in DEPARTED_CASES],
            "status_date": [c[2] for c in DEPARTED_CASES],
        },
        date_columns=["status_date"],
    )
    kept = sorted(c[0] for c in DEPARTED_CASES if not c[3])
    assert ids(select(rows, patients=patients)) == kept
    everyone = sorted(c[0] for c in DEPARTED_CASES)
    assert ids(select(rows, patients=patients, exclude_departed=False)) == everyone
    out = rows_by_patient(select(rows, patients=patients, include_excluded=True))
    assert sorted(out) == everyone
    for patient, status, _, excluded in DEPARTED_CASES:
        reason = out[patient]["excluded_because"]
        if excluded:
            assert reason is not None
            assert status in reason
        else:
            assert reason is None, patient


def test_departed_status_date_with_time_of_day_on_reference_date_excludes(disp, table, ids):
    """selection.exclude_departed: "on or before the reference date" holds for any time that day."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    patients = table(
        {
            "patient_id": ["p"],
            "gp_id": ["gp1"],
            "status": ["deceased"],
            "status_date": ["2025-06-30 15:00"],
        },
        date_columns=["status_date"],
    )
    assert ids(select(rows, patients=patients)) == []


def test_departed_and_complex_reasons_are_both_recorded(disp, table, rows_by_patient):
    """DOMAIN.md Screening: the program records every reason that applies."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", "N05AH04", 10)])
    patients = table(
        {"patient_id": ["p"], "gp_id": ["gp1"], "status": ["moved"], "status_date": ["2025-03-01"]},
        date_columns=["status_date"],
    )
    reason = rows_by_patient(select(rows, patients=patients, include_excluded=True))["p"][
        "excluded_because"
    ]
    assert "N05A" in reason
    assert "moved" in reason


# --------------------------------------------------------------------------------------------
# DDD per day (screening: "use of more than 1 or 2 DDD a day")
# --------------------------------------------------------------------------------------------


def test_ddd_per_day_sum_of_quantity_times_strength_over_who_ddd_per_window_day(
    disp, rows_by_patient
):
    """DOMAIN.md Screening (DDD): ddd_per_day = sum(quantity*strength_mg/WHO DDD) / window days."""
    rows = disp(
        [
            # oxazepam 50 mg x 100 / DDD 50 mg = 100 DDD; diazepam 10 mg x 265 / DDD 10 mg = 265
            # DDD: 365 DDD over the 365-day window = 1.0 DDD a day
            ("one_ddd", "2025-01-01", OXAZEPAM, 100, 50.0),
            ("one_ddd", "2025-02-01", DIAZEPAM, 265, 10.0),
            # temazepam 20 mg x 200 / 20 = 200 DDD; lorazepam 1 mg x 100 / 2.5 = 40 DDD:
            # 240 / 365 = 0.657534...
            ("mixed", "2024-08-01", TEMAZEPAM, 200, 20.0),
            ("mixed", "2025-01-01", LORAZEPAM, 100, 1.0),
            # oxazepam 10 mg x 365 / 50 = 73 DDD, minus a return of 10 x 10 mg / 50 = 2 DDD:
            # 71 / 365
            ("with_return", "2025-01-01", OXAZEPAM, 365, 10.0),
            ("with_return", "2025-02-01", OXAZEPAM, -10, 10.0),
        ],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(rows))
    assert out["one_ddd"]["ddd_per_day"] == pytest.approx(1.0)
    assert out["mixed"]["ddd_per_day"] == pytest.approx(240 / 365)
    assert out["with_return"]["ddd_per_day"] == pytest.approx(71 / 365)


def test_ddd_per_day_uses_366_days_for_a_window_with_29_february(disp, rows_by_patient):
    """DOMAIN.md Chronic user (calendar year): a window containing 2024-02-29 has 366 days."""
    # 2024-12-31 minus one year = 2023-12-31: window 2024-01-01 .. 2024-12-31 = 366 days.
    # zolpidem 10 mg x 366 / DDD 10 mg = 366 DDD -> 1.0 a day (365 days would give 1.0027).
    rows = disp([("p", "2024-03-01", ZOLPIDEM, 366, 10.0)], extra=["strength_mg"])
    assert rows_by_patient(select(rows, "2024-12-31"))["p"]["ddd_per_day"] == pytest.approx(1.0)


def test_ddd_per_day_is_null_when_a_counted_row_lacks_strength(disp, rows_by_patient):
    """selection: ddd_per_day is null (unknown), not an undercount, when a strength is missing."""
    rows = disp(
        [
            ("missing_strength", "2025-01-01", OXAZEPAM, 100, 50.0, "tablet"),
            ("missing_strength", "2025-02-01", DIAZEPAM, 265, None, "tablet"),
            ("non_solid_missing", "2025-01-01", OXAZEPAM, 100, 50.0, "tablet"),
            ("non_solid_missing", "2025-02-01", DIAZEPAM, 30, None, "drank"),  # not counted
        ],
        extra=["strength_mg", "form"],
    )
    out = rows_by_patient(select(rows))
    assert out["missing_strength"]["ddd_per_day"] is None
    assert out["missing_strength"]["units"] == 365
    # 100 x 50 / 50 = 100 DDD over 365 days; the uncounted drank row does not make it unknown
    assert out["non_solid_missing"]["ddd_per_day"] == pytest.approx(100 / 365)


def test_ddd_per_day_is_null_without_a_strength_column(disp, rows_by_patient):
    """selection: without strength_mg there is no DDD estimate."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    assert rows_by_patient(select(rows))["p"]["ddd_per_day"] is None


# --------------------------------------------------------------------------------------------
# The current dose: ddd_per_day_recent (issue 14; DOMAIN.md Screening: "the patient's *current*
# use, not a year's average that hides a recent rise"). Reference date 2025-12-31: the year is
# 2025-01-01 .. 2025-12-31 (365 days), the recent window 2025-10-01 .. 2025-12-31 (92 days).
# --------------------------------------------------------------------------------------------

DEC_31 = "2025-12-31"
MONTH_DAYS_2025 = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _monthly_oxazepam_50(patient, per_day):
    """Oxazepam 50 mg (1 tablet = 1 DDD) on the 1st of each month of 2025, ``per_day(month)``
    tablets for each day of that month."""
    return [
        (patient, f"2025-{month:02d}-01", OXAZEPAM, days * per_day(month), 50.0)
        for month, days in enumerate(MONTH_DAYS_2025, start=1)
    ]


def test_recent_dose_issue_case_one_a_day_then_three_a_day_for_four_months(disp, rows_by_patient):
    """Issue 14: oxazepam 50 mg, 1 a day for 8 months, then 3 a day for the last 4 months."""
    rows = disp(
        _monthly_oxazepam_50("rose", lambda month: 3 if month >= 9 else 1), extra=["strength_mg"]
    )
    out = rows_by_patient(select(rows, DEC_31))["rose"]
    # January-August: 243 tablets = 243 DDD; September-December: 3 x 122 = 366 DDD.
    assert out["ddd_per_day"] == pytest.approx(609 / 365)  # 1.67: under the 2-DDD limit
    # October-December: 3 x (31 + 30 + 31) = 276 DDD over the 92 days of the recent window.
    assert out["ddd_per_day_recent"] == pytest.approx(3.0)


def test_recent_dose_issue_text_three_a_day_for_four_months_shows_under_one_a_year(
    disp, rows_by_patient
):
    """Issue 14 as worded: 3 x 50 mg for the last four months averages 0.99 over the year."""
    rows = disp(
        [("p", day, OXAZEPAM, 90, 50.0) for day in ("2025-09-03", "2025-10-03", "2025-11-02")]
        + [("p", "2025-12-02", OXAZEPAM, 90, 50.0)],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(rows, DEC_31))["p"]
    assert out["ddd_per_day"] == pytest.approx(360 / 365)  # 0.986: under both limits
    # 10-03, 11-02 and 12-02 are in the recent window: 270 DDD over 92 days = 2.93.
    assert out["ddd_per_day_recent"] == pytest.approx(270 / 92)


def test_recent_dose_window_starts_after_the_day_three_calendar_months_back(disp, rows_by_patient):
    """dates.Window: the recent window is half-open like the year's: 2025-09-30 (three
    calendar months before 2025-12-31) is outside, 2025-10-01 inside, the reference date
    inside."""
    rows = disp(
        [
            ("on_start", "2025-03-01", OXAZEPAM, 100, 50.0),
            ("on_start", "2025-09-30", OXAZEPAM, 92, 50.0),  # outside the recent window
            ("day_after", "2025-03-01", OXAZEPAM, 100, 50.0),
            ("day_after", "2025-10-01", OXAZEPAM, 92, 50.0),  # inside
            ("on_reference", "2025-03-01", OXAZEPAM, 100, 50.0),
            ("on_reference", "2025-12-31", OXAZEPAM, 92, 50.0),  # inside
        ],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(rows, DEC_31))
    assert out["on_start"]["ddd_per_day_recent"] == 0.0
    assert out["day_after"]["ddd_per_day_recent"] == pytest.approx(1.0)
    assert out["on_reference"]["ddd_per_day_recent"] == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["pandas", "polars-lazy", "pyarrow"])
def test_recent_dose_window_on_a_datetime_column_uses_the_calendar_day(
    disp, kind_of, rows_by_patient, kind
):
    """dates.Window: a time of day does not move a dispensing across the recent window's
    start (late on 2025-09-30 is outside, early on 2025-10-01 inside)."""
    rows = disp(
        [
            ("late", "2025-03-01 10:00", OXAZEPAM, 100, 50.0),
            ("late", "2025-09-30 23:59", OXAZEPAM, 92, 50.0),
            ("early", "2025-03-01 10:00", OXAZEPAM, 100, 50.0),
            ("early", "2025-10-01 00:01", OXAZEPAM, 92, 50.0),
        ],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(kind_of(rows, kind), DEC_31))
    assert out["late"]["ddd_per_day_recent"] == 0.0
    assert out["early"]["ddd_per_day_recent"] == pytest.approx(1.0)


def test_recent_dose_days_are_the_calendar_days_of_the_recent_window(disp, rows_by_patient):
    """dates.window_before: three calendar months back from 2024-04-30 is 2024-01-30, so the
    recent window 2024-01-31 .. 2024-04-30 has 91 days (29 February included)."""
    rows = disp([("p", "2024-02-29", ZOLPIDEM, 91, 10.0)], extra=["strength_mg"])
    out = rows_by_patient(select(rows, "2024-04-30"))["p"]
    assert out["ddd_per_day_recent"] == pytest.approx(1.0)  # 91 DDD / 91 days
    assert out["ddd_per_day"] == pytest.approx(91 / 366)  # 2023-05-01 .. 2024-04-30: leap


def test_recent_dose_returns_in_the_recent_window_subtract(disp, rows_by_patient):
    """DOMAIN.md Chronic user: a returned dispensing subtracts, in the recent window too."""
    rows = disp(
        [
            # 184 DDD of diazepam 10 mg before the recent window (year only).
            ("p", "2025-03-01", DIAZEPAM, 184, 10.0),
            # 184 x 5 mg / 10 mg = 92 DDD, minus a return of 46 x 5 mg / 10 = 23 DDD: 69 / 92
            ("p", "2025-11-01", DIAZEPAM, 184, 5.0),
            ("p", "2025-11-04", DIAZEPAM, -46, 5.0),
        ],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(rows, DEC_31))["p"]
    assert out["ddd_per_day_recent"] == pytest.approx(69 / 92)
    assert out["ddd_per_day"] == pytest.approx((184 + 92 - 23) / 365)


def test_recent_dose_more_returned_than_dispensed_recently_is_zero(disp, rows_by_patient):
    """selection (documented choice): a return in the recent window of an earlier dispensing
    nets the recent window below zero; no dose is negative, so it shows 0.0."""
    rows = disp(
        [
            ("p", "2025-08-01", OXAZEPAM, 200, 50.0),
            ("p", "2025-10-10", OXAZEPAM, 20, 50.0),
            ("p", "2025-10-12", OXAZEPAM, -100, 50.0),  # returns most of the August supply
        ],
        extra=["strength_mg"],
    )
    out = rows_by_patient(select(rows, DEC_31))["p"]
    assert out["ddd_per_day_recent"] == 0.0  # 20 - 100 = -80 DDD: shown as 0
    assert out["ddd_per_day"] == pytest.approx(120 / 365)  # the year is not clipped


def test_recent_dose_is_zero_not_null_without_a_recent_dispensing(disp, rows_by_patient):
    """selection (documented choice): nothing dispensed in the recent window is a dose of 0
    (they got nothing recently), even without strengths; unknown only when a recent counted
    dispensing lacks its strength or DDD."""
    rows = disp([("p", "2025-05-01", OXAZEPAM, 100)])  # no strength_mg column at all
    out = rows_by_patient(select(rows, DEC_31))["p"]
    assert out["ddd_per_day"] is None
    assert out["ddd_per_day_recent"] == 0.0


def test_recent_dose_is_null_when_a_recent_counted_row_lacks_strength(disp, rows_by_patient):
    """selection: like ddd_per_day, the recent dose is unknown (null), not an undercount, when a
    counted dispensing in the recent window has no strength_mg or its substance no WHO DDD;
    a missing strength before the recent window leaves the recent dose known."""
    rows = disp(
        [
            ("recent_missing", "2025-05-01", OXAZEPAM, 100, 50.0, "tablet"),
            ("recent_missing", "2025-11-01", OXAZEPAM, 30, None, "tablet"),
            ("no_ddd", "2025-05-01", OXAZEPAM, 100, 50.0, "tablet"),
            ("no_ddd", "2025-11-01", "N05BA10", 30, 15.0, "tablet"),  # ketazolam: no WHO DDD
            ("earlier_missing", "2025-05-01", OXAZEPAM, 100, None, "tablet"),
            ("earlier_missing", "2025-11-01", OXAZEPAM, 92, 50.0, "tablet"),
            ("drank_missing", "2025-05-01", OXAZEPAM, 100, 50.0, "tablet"),
            ("drank_missing", "2025-11-01", DIAZEPAM, 30, None, "drank"),  # not counted
        ],
        extra=["strength_mg", "form"],
    )
    out = rows_by_patient(select(rows, DEC_31))
    assert out["recent_missing"]["ddd_per_day_recent"] is None
    assert out["no_ddd"]["ddd_per_day_recent"] is None
    assert out["earlier_missing"]["ddd_per_day"] is None
    assert out["earlier_missing"]["ddd_per_day_recent"] == pytest.approx(1.0)  # 92 / 92
    assert out["drank_missing"]["ddd_per_day_recent"] == 0.0


def test_recent_dose_months_option(disp, rows_by_patient):
    """selection: recent_months sets the recent window (1: 2025-12-01 .. 2025-12-31)."""
    rows = disp(
        _monthly_oxazepam_50("p", lambda month: 2 if month == 12 else 1), extra=["strength_mg"]
    )
    out = rows_by_patient(select(rows, DEC_31, recent_months=1))["p"]
    assert out["ddd_per_day_recent"] == pytest.approx(2.0)  # 62 DDD / 31 days
    six = rows_by_patient(select(rows, DEC_31, recent_months=6))["p"]
    assert six["ddd_per_day_recent"] == pytest.approx((184 + 31) / 184)  # July-December


def test_recent_dose_window_must_fit_in_the_selection_window(disp):
    """selection: the recent window is read from the selection window's rows, so it cannot be
    longer; a window shorter than 3 months makes the recent window as long by default."""
    rows = disp([("p", "2025-12-01", OXAZEPAM, 100, 50.0)], extra=["strength_mg"])
    with pytest.raises(ValueError, match=r"recent_months \(13\) must not be more than"):
        select(rows, DEC_31, recent_months=13)
    with pytest.raises(ValueError, match="recent_months"):
        select(rows, DEC_31, recent_months=0)
    short = br.select_chronic_users(rows, DEC_31, window_months=1)
    # 100 DDD in December: both windows are 2025-12-01 .. 2025-12-31 (31 days).
    assert short["ddd_per_day_recent"].tolist() == pytest.approx([100 / 31])
    assert short["ddd_per_day"].tolist() == pytest.approx([100 / 31])


# --------------------------------------------------------------------------------------------
# Recently stopped: probably_stopped / days_since_supply_end (documented estimate)
# --------------------------------------------------------------------------------------------


def test_recently_stopped_rate_observed_between_first_and_last_dispensing_day(
    disp, rows_by_patient
):
    """DOMAIN.md Recently stopped: flag patients whose last supply ran out well before the
    reference date."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-03-01", OXAZEPAM, 100)])
    # 100 units used from 2025-01-01 to 2025-03-01 (59 days): 100/59 a day. The last 100 units
    # last 59 days: supply ends 2025-04-29, 62 days before 2025-06-30.
    out = rows_by_patient(select(rows))["p"]
    assert out["days_since_supply_end"] == pytest.approx(62.0)
    assert out["probably_stopped"] is True
    # grace is strict: 62 days is not "more than" 62
    assert rows_by_patient(select(rows, stopped_grace_days=62))["p"]["probably_stopped"] is False


def test_recently_stopped_three_dispensings_and_rounding(disp, rows_by_patient):
    """selection._supply_estimate: units before the last day over the span; one decimal."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 30),
            ("p", "2025-01-11", OXAZEPAM, 30),
            ("p", "2025-01-21", OXAZEPAM, 50),
        ]
    )
    # rate = (30 + 30) / 20 days = 3 a day; 50 / 3 = 16.67 days after 2025-01-21;
    # 2025-01-21 .. 2025-02-28 = 38 days; 38 - 16.67 = 21.33 -> 21.3
    out = rows_by_patient(select(rows, "2025-02-28"))["p"]
    assert out["days_since_supply_end"] == pytest.approx(21.3)
    assert out["probably_stopped"] is False


def test_recently_stopped_fractional_supply(disp, rows_by_patient):
    """selection._supply_estimate: days_since_supply_end = ref - (last day + last units / rate)."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-03-01", OXAZEPAM, 50)])
    # rate 100/59 a day; 50 units last 29.5 days; 2025-03-01 .. 2025-06-30 = 121 days -> 91.5
    assert rows_by_patient(select(rows))["p"]["days_since_supply_end"] == pytest.approx(91.5)


def test_recently_stopped_longer_first_interval(disp, rows_by_patient):
    """selection._supply_estimate: a slow user's last supply lasts longer."""
    rows = disp([("p", "2024-12-01", OXAZEPAM, 100), ("p", "2025-01-30", OXAZEPAM, 50)])
    # rate 100/60 a day; 50 units last 30 days -> supply ends 2025-03-01
    assert rows_by_patient(select(rows, "2025-02-28"))["p"]["days_since_supply_end"] == -1.0
    # 2025-03-01 .. 2025-06-30 = 121 days
    out = rows_by_patient(select(rows))["p"]
    assert out["days_since_supply_end"] == 121.0
    assert out["probably_stopped"] is True


def test_recently_stopped_single_dispensing_day_uses_assumed_units_per_day(disp, rows_by_patient):
    """selection.assumed_units_per_day: with one dispensing day the rate cannot be observed."""
    rows = disp(
        [
            ("single", "2025-05-01", OXAZEPAM, 120),
            ("same_day", "2025-04-01", OXAZEPAM, 50),
            ("same_day", "2025-04-01", OXAZEPAM, 50),
        ]
    )
    out = rows_by_patient(select(rows))
    # 120 units at 1 a day from 2025-05-01 end 2025-08-29: 60 days of supply left (negative)
    assert out["single"]["days_since_supply_end"] == -60.0
    assert out["single"]["probably_stopped"] is False
    # two rows on one day are one dispensing day: 100 units -> ends 2025-07-10
    assert out["same_day"]["days_since_supply_end"] == -10.0
    # 4 a day: 30 days -> ends 2025-05-31, 30 days before the reference date
    assert (
        rows_by_patient(select(rows, assumed_units_per_day=4))["single"]["days_since_supply_end"]
        == 30.0
    )
    # 2 a day: 60 days -> ends exactly on the reference date
    assert (
        rows_by_patient(select(rows, assumed_units_per_day=2))["single"]["days_since_supply_end"]
        == 0.0
    )


@pytest.mark.parametrize(("days_after", "stopped"), [(160, False), (161, True)])
def test_recently_stopped_default_grace_is_60_days_strict(
    disp, rows_by_patient, days_after, stopped
):
    """selection.stopped_grace_days: default 60; flagged when the supply ran out more than 60
    days ago."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])  # 100 days at 1 a day: ends 2025-04-11
    reference = dt.date(2025, 1, 1) + dt.timedelta(days=days_after)  # 2025-06-10 / 2025-06-11
    out = rows_by_patient(select(rows, reference))["p"]
    assert out["days_since_supply_end"] == days_after - 100
    assert out["probably_stopped"] is stopped


def test_recently_stopped_ignores_dispensings_after_reference_date(disp, rows_by_patient):
    """DOMAIN.md Recently stopped: supply is judged on the reference date, with data up to it."""
    rows = disp([("p", "2024-09-01", OXAZEPAM, 100), ("p", "2025-07-01", OXAZEPAM, 100)])
    # 2024-09-01 + 100 days = 2024-12-10; 2024-12-10 .. 2025-06-30 = 202 days
    out = rows_by_patient(select(rows))["p"]
    assert out["days_since_supply_end"] == 202.0
    assert out["probably_stopped"] is True


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["patient_id", "date", "atc", "quantity"])
def test_bad_input_missing_column_names_it_and_lists_columns_found(disp, missing):
    """tables.py: a missing required column stops everything, naming it and the columns found."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)]).drop(columns=missing)
    with pytest.raises(MissingColumnsError) as info:
        select(rows)
    message = str(info.value)
    assert repr(missing) in message
    for found in rows.columns:
        assert repr(found) in message
    assert info.value.missing == (missing,)
    assert set(info.value.found) == set(rows.columns)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_bad_input_text_dates_are_refused(disp, kind_of, kind):
    """tables.py: text dates are refused, not guessed (01-02-2025 is 1 February in NL)."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    rows["date"] = ["01-02-2025"]
    with pytest.raises(ColumnTypeError, match="date"):
        select(kind_of(rows, kind))


def test_bad_input_text_quantity_is_refused(disp):
    """tables.py: quantities held as text (Dutch decimal comma) are refused."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    rows["quantity"] = ["100,0"]
    with pytest.raises(ColumnTypeError, match="quantity"):
        select(rows)


def test_bad_input_timezone_aware_dates_are_refused(disp):
    """tables.py: time-zone-aware datetimes must be converted to local dates first."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    rows["date"] = rows["date"].dt.tz_localize("Europe/Amsterdam")
    with pytest.raises(ColumnTypeError, match="date"):
        select(rows)


@pytest.mark.parametrize("bad_atc", ["N05BA", "n05ba04", "N05BA041"])
def test_bad_input_malformed_atc_raises_naming_the_row(disp, bad_atc):
    """tables.py: rows that cannot be used are never dropped silently (row and reason named)."""
    rows = disp(
        [
            ("p", "2025-01-01", OXAZEPAM, 50),
            ("p", "2025-02-01", OXAZEPAM, 50),
            ("p", "2025-03-01", bad_atc, 50),
        ]
    )
    with pytest.raises(InvalidRowsError) as info:
        select(rows)
    message = str(info.value)
    assert "row 2" in message
    assert "atc" in message
    assert info.value.rows_rejected == 1
    assert info.value.rows_in == 3


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_bad_input_null_quantity_raises_naming_the_row(disp, kind_of, kind):
    """tables.py: a missing quantity is refused (a return or dispensing of unknown size)."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", OXAZEPAM, None)])
    with pytest.raises(InvalidRowsError, match=r"row 1: quantity is missing"):
        select(kind_of(rows, kind))


def test_bad_input_invalid_row_after_the_reference_date_is_still_refused(disp):
    """tables.py: row validation covers the whole input, not only the window."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2030-01-01", "N05", 1)])
    with pytest.raises(InvalidRowsError, match="row 1"):
        select(rows)


def test_bad_input_unknown_option_raises_type_error(disp):
    """selection.ChronicUseCriteria: an unknown option name is an error (no silent typo)."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    with pytest.raises(TypeError, match="min_unit"):
        select(rows, min_unit=30)


def test_bad_input_patients_and_episodes_tables_are_checked_too(disp, table):
    """tables.py: the auxiliary tables get the same column and row checks, naming the table."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    with pytest.raises(MissingColumnsError, match=r"patients.*'patient_id'"):
        select(rows, patients=table({"id": ["p"], "gp_id": ["gp1"]}))
    with pytest.raises(MissingColumnsError, match=r"episodes.*'icpc'"):
        select(rows, episodes=table({"patient_id": ["p"], "code": ["P06"]}), gp_route=True)
    with pytest.raises(InvalidRowsError, match=r"patients(.|\n)*row 1(.|\n)*more than once"):
        select(rows, patients=table({"patient_id": ["p", "p"], "gp_id": ["gp1", "gp2"]}))


def test_bad_input_malformed_icpc_raises_invalid_rows_error(disp, table):
    """tables.EPISODES: a malformed ICPC code is refused with the row named, and nothing else."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    episodes = table({"patient_id": ["p", "p"], "icpc": ["P06", "P6"]})
    with pytest.raises(InvalidRowsError, match=r"episodes(.|\n)*row 1(.|\n)*icpc"):
        select(rows, episodes=episodes, gp_route=True)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_units", -1),
        ("window_months", 0),
        ("stopped_grace_days", -1),
        ("assumed_units_per_day", 0),
        ("engine", "pandas"),
    ],
)
def test_bad_input_out_of_range_option_is_refused(disp, option, value):
    """selection.ChronicUseCriteria: option values are validated."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100)])
    with pytest.raises(ValueError, match=option if option != "engine" else "engine"):
        select(rows, **{option: value})


def test_bad_input_categorical_text_column_is_accepted(disp, rows_by_patient):
    """tables.Kind.TEXT: a categorical text column is a valid text column."""
    rows = disp([("p", "2025-01-01", OXAZEPAM, 100), ("p", "2025-02-01", "N03AX12", 10)])
    rows["atc"] = rows["atc"].astype("category")
    out = rows_by_patient(select(rows, include_excluded=True))
    assert out["p"]["units"] == 100
    assert out["p"]["complex_groups"] == "N03"


# --------------------------------------------------------------------------------------------
# Result kind and engines
# --------------------------------------------------------------------------------------------

RESULT_TYPES = {
    "pandas": pd.DataFrame,
    "polars": pl.DataFrame,
    "polars-lazy": pl.LazyFrame,
    "pyarrow": pa.Table,
}


def _rich_dispensings(disp):
    """A table that exercises every rule at once (used to compare kinds and engines)."""
    return disp(
        [
            ("a", "2024-06-30", OXAZEPAM, 500, 50.0, "tablet", "gp1"),  # outside
            ("a", "2024-07-01", OXAZEPAM, 60, 50.0, "tablet", "gp1"),
            ("a", "2025-01-01", DIAZEPAM, 40, 10.0, "tablet", "gp2"),
            ("a", "2025-02-01", DIAZEPAM, -5, 10.0, "tablet", "gp2"),
            ("a", "2025-03-01", DIAZEPAM, 200, 1.0, "drank", "gp3"),
            ("b", "2025-01-01", TEMAZEPAM, 100, 20.0, "capsule", "gp1"),
            ("b", "2025-02-01", "N03AX12", 30, 300.0, "capsule", "gp1"),
            ("c", "2025-01-01", ZOLPIDEM, 91, None, None, None),
            ("d", "2025-01-01", OXAZEPAM, 90, 50.0, "tablet", "gp2"),
            ("e", "2025-05-01", LORAZEPAM, 100, 1.0, "tablet", "gp2"),
            ("e", "2025-06-01", "N02AA59", 20, 500.0, "tablet", "gp2"),
            ("f", "2025-04-01", OXAZEPAM, 100, 10.0, "tablet", "gp4"),
            ("g", "2025-01-01", OXAZEPAM, 100, 10.0, "tablet", "gp4"),
            ("g", "2025-07-01", "N05AH04", 30, 25.0, "tablet", "gp4"),  # after the reference
        ],
        extra=["strength_mg", "form", "prescriber_id"],
    )


def _rich_patients(table):
    return table(
        {
            "patient_id": ["a", "b", "c", "f", "g"],
            "gp_id": ["gpA", "gpA", None, "gpB", "gpB"],
            "status": ["active", None, None, "moved", "deceased"],
            "status_date": ["2020-01-01", None, None, "2025-05-01", "2025-08-01"],
        },
        date_columns=["status_date"],
    )


def _expected_rich():
    return {
        "a": {
            "units": 95.0,
            "n_dispensings": 3,
            "n_returns": 1,
            "gp_id": "gpA",
            "gp_source": "listed",
            "complex_groups": "",
        },
        "c": {
            "units": 91.0,
            "n_dispensings": 1,
            "n_returns": 0,
            "gp_id": None,
            "gp_source": None,
            "complex_groups": "",
        },
        "e": {
            "units": 100.0,
            "n_dispensings": 1,
            "n_returns": 0,
            "gp_id": "gp2",
            "gp_source": "prescriber",
            "complex_groups": "",
        },
        "g": {
            "units": 100.0,
            "n_dispensings": 1,
            "n_returns": 0,
            "gp_id": "gpB",
            "gp_source": "listed",
            "complex_groups": "",
        },
    }


@pytest.mark.parametrize("kind", list(RESULT_TYPES))
def test_result_kind_follows_input_kind(disp, table, kind_of, rows_by_patient, kind):
    """engine.py: pandas in, pandas out; polars in, polars out; lazy in, lazy out; arrow in,
    arrow out."""
    result = select(kind_of(_rich_dispensings(disp), kind), patients=_rich_patients(table))
    assert type(result) is RESULT_TYPES[kind]
    columns = (
        result.collect_schema().names()
        if kind == "polars-lazy"
        else list(result.column_names if kind == "pyarrow" else result.columns)
    )
    assert columns == OUTPUT_COLUMNS
    out = rows_by_patient(result)
    assert list(out) == ["a", "c", "e", "g"]  # sorted by patient_id
    for patient, expected in _expected_rich().items():
        assert {k: out[patient][k] for k in expected} == expected, patient


def test_result_kind_rich_example_hand_values(disp, table, rows_by_patient):
    """DOMAIN.md Selection rules together: hand-computed values of the rich example."""
    out = rows_by_patient(select(_rich_dispensings(disp), patients=_rich_patients(table)))
    # a: 60 x 50/50 + 40 x 10/10 - 5 x 10/10 = 95 DDD over 365 days (drank not counted)
    assert out["a"]["ddd_per_day"] == pytest.approx(95 / 365)
    assert out["a"]["first_date"] == dt.date(2024, 7, 1)
    assert out["a"]["last_date"] == dt.date(2025, 3, 1)  # the drank is still a dispensing
    # a: counted days 2024-07-01 .. 2025-01-01 (184 days), 60 units before: rate 60/184;
    # last counted day 2025-01-01 has 40 units -> 122.67 days -> ends ~2025-05-03.67;
    # 2025-01-01 .. 2025-06-30 = 180 days -> 180 - 122.67 = 57.3
    assert out["a"]["days_since_supply_end"] == pytest.approx(57.3)
    assert out["a"]["probably_stopped"] is False
    assert out["c"]["ddd_per_day"] is None


def _comparable(records):
    def norm(v):
        if isinstance(v, int) and not isinstance(v, bool):
            return float(v)
        if isinstance(v, float):
            return round(v, 9)
        return v

    return [{k: norm(v) for k, v in r.items()} for r in records]


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_engine_native_and_auto_give_the_same_rows(disp, table, kind_of, records, kind):
    """engine.py: engine='native' and engine='auto' give the same answer."""
    rows = kind_of(_rich_dispensings(disp), kind)
    patients = _rich_patients(table)
    auto = records(select(rows, patients=patients, engine="auto", include_excluded=True))
    native = records(select(rows, patients=patients, engine="native", include_excluded=True))
    assert _comparable(native) == _comparable(auto)
    assert [r["patient_id"] for r in auto] == ["a", "b", "c", "e", "f", "g"]


def test_engine_native_and_auto_give_the_same_rows_pyarrow_without_patients(disp, kind_of, records):
    """engine.py: engine='native' and engine='auto' give the same answer (pyarrow)."""
    rows = kind_of(_rich_dispensings(disp), "pyarrow")
    auto = records(select(rows, engine="auto", include_excluded=True))
    native = records(select(rows, engine="native", include_excluded=True))
    assert _comparable(native) == _comparable(auto)


def test_engine_native_pyarrow_with_patients_table(disp, table, kind_of, records):
    """engine.py: engine='native' runs on the input's own library and gives the same answer."""
    rows = kind_of(_rich_dispensings(disp), "pyarrow")
    patients = _rich_patients(table)
    auto = records(select(rows, patients=patients, engine="auto"))
    native = records(select(rows, patients=patients, engine="native"))
    assert _comparable(native) == _comparable(auto)


def test_engine_native_gp_route_emits_no_warning(disp, table, ids):
    """engine.py: engine='native' gives the same answer as auto, without stray warnings."""
    rows = _route_dispensings(disp, ["p", "q"])
    episodes = table({"patient_id": ["p"], "icpc": ["P06"]})
    assert ids(select(rows, episodes=episodes, gp_route=True, engine="native")) == ["p"]


@pytest.mark.filterwarnings("ignore:This pattern is interpreted as a regular expression")
def test_engine_native_gp_route_with_datetime_episode_dates(disp, table, ids):
    """engine.py: engine='native' accepts the same tables as auto (dates as datetime64)."""
    rows = _route_dispensings(disp, ["p", "q"])
    episodes = table(
        {
            "patient_id": ["p", "q"],
            "icpc": ["P06", "P74"],
            "start": ["2020-01-01", "2020-01-01"],
            "end": [None, "2021-01-01"],
        },
        date_columns=["start", "end"],
    )
    assert ids(select(rows, episodes=episodes, gp_route=True, engine="native")) == ["p", "q"]
    assert ids(
        select(rows, episodes=episodes, gp_route=True, gp_route_active_only=True, engine="native")
    ) == ["p"]


def test_engine_auxiliary_tables_of_another_kind_are_accepted(disp, table, kind_of, ids):
    """engine.py: auxiliary tables are moved to the engine of the main table."""
    rows = _route_dispensings(disp, ["p", "q"])
    episodes = table({"patient_id": ["p"], "icpc": ["P06"]})
    patients = table({"patient_id": ["p", "q"], "gp_id": ["gp1", "gp2"]})
    for kind in ("pandas", "polars", "polars-lazy", "pyarrow"):
        result = select(
            kind_of(rows, kind),
            episodes=kind_of(episodes, "polars" if kind != "polars" else "pyarrow"),
            patients=kind_of(patients, "pyarrow" if kind != "pyarrow" else "pandas"),
            gp_route=True,
        )
        assert ids(result) == ["p"], kind


def test_engine_duckdb_relation_in_relation_out(disp, records):
    """engine.py: a lazy DuckDB relation stays on DuckDB, comes back lazy, same answer."""
    duckdb = pytest.importorskip("duckdb")
    rows = _rich_dispensings(disp)
    relation = duckdb.from_arrow(pa.Table.from_pandas(rows, preserve_index=False))
    result = select(relation, include_excluded=True)
    assert isinstance(result, duckdb.DuckDBPyRelation)
    expected = records(select(rows, include_excluded=True))
    assert _comparable(records(result.to_arrow_table())) == _comparable(expected)


def test_engine_duckdb_relation_with_patients_table(disp, table, records):
    """engine.py: lazy inputs such as a DuckDB relation stay on their engine, with any options."""
    duckdb = pytest.importorskip("duckdb")
    rows = _rich_dispensings(disp)
    patients = _rich_patients(table)
    relation = duckdb.from_arrow(pa.Table.from_pandas(rows, preserve_index=False))
    result = select(relation, patients=patients, include_excluded=True)
    expected = records(select(rows, patients=patients, include_excluded=True))
    assert _comparable(records(result.to_arrow_table())) == _comparable(expected)


def test_engine_empty_input_gives_empty_result_with_all_columns(disp):
    """selection.select_chronic_users: no rows in, no rows out, same columns."""
    rows = disp([])
    result = select(rows)
    assert list(result.columns) == OUTPUT_COLUMNS
    assert len(result) == 0


# --------------------------------------------------------------------------------------------
# validate_dispensings / validate_patients
# --------------------------------------------------------------------------------------------


def test_validate_dispensings_counts_reconcile_and_rows_carry_position_and_reasons(disp):
    """tables.py: rows are never dropped silently; rows_in == rows_valid + rows_rejected."""
    rows = disp(
        [
            ("a", "2025-01-01", OXAZEPAM, 100),
            ("", "2025-01-02", OXAZEPAM, 1),  # patient_id missing
            ("b", "2025-01-03", "N5", None),  # two reasons
            ("c", "2025-01-04", OXAZEPAM, 3),
            ("d", "2025-01-05", OXAZEPAM, float("inf")),
        ]
    )
    rows.index = [10, 20, 30, 40, 50]  # positions, not index labels, are reported
    v = br.validate_dispensings(rows)
    assert (v.rows_in, v.rows_valid, v.rows_rejected) == (5, 2, 3)
    assert v.rows_in == v.rows_valid + v.rows_rejected
    rejected = v.rejected.to_dict("records")
    assert [r["row"] for r in rejected] == [1, 2, 4]
    assert rejected[0]["reasons"] == "patient_id is missing"
    assert "atc" in rejected[1]["reasons"]
    assert "quantity" in rejected[1]["reasons"]
    assert len(rejected[1]["reasons"].split("; ")) == 2
    assert "finite" in rejected[2]["reasons"]
    assert list(v.valid.columns) == list(rows.columns)
    assert v.valid["patient_id"].tolist() == ["a", "c"]
    assert v.reasons["patient_id is missing"] == 1
    assert sum(1 for e in v.examples if e.startswith("row ")) == 3


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "polars-lazy"])
def test_validate_dispensings_other_kinds(disp, kind_of, records, kind):
    """tables.Validation: valid and rejected are of the caller's kind; row only for eager input."""
    rows = disp([("a", "2025-01-01", OXAZEPAM, 100), ("b", "2025-01-01", "N05BA", 1)])
    v = br.validate_dispensings(kind_of(rows, kind))
    assert (v.rows_in, v.rows_valid, v.rows_rejected) == (2, 1, 1)
    assert type(v.valid) is RESULT_TYPES[kind]
    rejected = records(v.rejected)
    assert rejected[0]["patient_id"] == "b"
    assert "atc" in rejected[0]["reasons"]
    if kind != "polars-lazy":
        assert rejected[0]["row"] == 1


def test_validate_dispensings_extra_forms(disp):
    """tables.validate_dispensings: extra_forms makes a form known, as in the selection."""
    rows = disp([("a", "2025-01-01", OXAZEPAM, 100, "kauwtablet")], extra=["form"])
    assert br.validate_dispensings(rows).rows_rejected == 1
    assert br.validate_dispensings(rows, extra_forms={"kauwtablet": True}).rows_rejected == 0


def test_validate_dispensings_with_a_column_named_row(disp):
    """tables.py: extra columns pass through validation."""
    rows = disp([("a", "2025-01-01", OXAZEPAM, 100)])
    rows["row"] = [7]
    v = br.validate_dispensings(rows)
    assert v.rows_rejected == 0
    assert v.valid["row"].tolist() == [7]


def test_validate_patients_bad_bsn_never_appears_in_messages(disp, table):
    """tables.py / errors.py: values of sensitive columns (BSN, postcode) never appear in
    messages."""
    bad_bsn, bad_postcode = "123456789", "9999XYZ"  # 123456789 fails the 11-test
    patients = table(
        {
            "patient_id": ["p1", "p2"],
            "gp_id": ["gp1", "gp1"],
            "bsn": ["111222333", bad_bsn],  # 111222333 passes the 11-test
            "postcode": ["1234 AB", bad_postcode],
            "family_name": ["Jansen", "Pietersen"],
        }
    )
    v = br.validate_patients(patients)
    assert (v.rows_in, v.rows_rejected) == (2, 1)
    assert v.rejected["row"].tolist() == [1]
    assert "11-test" in v.rejected["reasons"].iloc[0]
    assert v.examples
    for line in v.examples:
        assert bad_bsn not in line
        assert bad_postcode not in line
        assert "Pietersen" not in line
    with pytest.raises(InvalidRowsError) as info:
        v.raise_if_rejected()
    assert bad_bsn not in str(info.value)
    assert bad_postcode not in str(info.value)
    assert "row 1" in str(info.value)
    # through the selection: a row the selection cannot use (a departure without a date) next to
    # the bad BSN; the error names the row but shows no sensitive value
    patients["status"] = ["active", "moved"]
    patients["status_date"] = pd.Series([None, None], dtype="datetime64[us]")
    rows = disp([("p2", "2025-01-01", OXAZEPAM, 100)])
    with pytest.raises(InvalidRowsError, match="row 1") as info:
        select(rows, patients=patients)
    for text in (str(info.value), repr(info.value), *info.value.examples):
        assert bad_bsn not in text
        assert bad_postcode not in text
        assert "Pietersen" not in text


def test_validate_patients_departed_status_needs_a_date(table):
    """tables.PATIENTS: a status other than active needs a status_date."""
    patients = table(
        {"patient_id": ["p1", "p2"], "status": ["active", "moved"], "status_date": [None, None]},
        date_columns=["status_date"],
    )
    v = br.validate_patients(patients)
    assert v.rows_rejected == 1
    assert "status_date" in v.rejected["reasons"].iloc[0]
