"""Implausible values are rejected rows with a reason (issue 16, item 7).

Rules under test: ``benzoredux.tables.Plausibility`` and ``plausibility_rules`` as documented on
docs/domain/tables.rst ("Implausible values"): a dispensing date more than
``FUTURE_MARGIN_DAYS`` after the later of today and the run's date, a birth date in the future
or more than ``MAX_AGE_YEARS`` years back, a benzodiazepine quantity beyond ``max_quantity``
(a return too). The issue's case: in strict mode a dispensing date 31-12-9999, a birth date
01-01-2099 and a quantity of 99999999999999999999 were accepted, and the patient was selected
with 1e20 units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import benzoredux
from benzoredux import tables
from benzoredux.evaluation.effect import evaluate_effect
from benzoredux.evaluation.indicators import prescriptions_outside_consult
from benzoredux.parquet_statistics import read_statistics
from benzoredux.reading import ReadError, read_source
from benzoredux.screening import screen
from benzoredux.tables import (
    FUTURE_MARGIN_DAYS,
    Plausibility,
    PlausibilityError,
    validate_dispensings,
    validate_patients,
)

TODAY = dt.date(2026, 1, 15)
"""The day of reading in the reader tests (the readers' ``today`` option)."""
LATEST = TODAY + dt.timedelta(days=FUTURE_MARGIN_DAYS)
PINNED = Plausibility(today=TODAY)

AIS_HEADER = "Patientnummer;Afleverdatum;ATC;Aantal;Farmaceutische vorm\n"
DATE_REASON = "not a plausible dispensing date"
QUANTITY_REASON = "implausible for one dispensing or return of a benzodiazepine"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the issue's case, through the readers ------------------------------------------------------


def test_the_issues_export_is_refused_in_strict_mode_with_line_column_and_reason(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "ais.csv",
        AIS_HEADER
        + "1;01-02-2025;N05BA04;30;tablet\n"
        + "2;31-12-9999;N05BA04;30;tablet\n"
        + "3;01-03-2025;N05BA04;99999999999999999999;tablet\n",
    )
    with pytest.raises(ReadError) as caught:
        read_source(path, today=TODAY)
    message = str(caught.value)
    assert "2 of the 3 rows of dispensings cannot be used" in message
    assert f"line 3, column 'Afleverdatum' (date): date is after {LATEST.isoformat()}" in message
    assert DATE_REASON in message
    assert "line 4, column 'Aantal' (quantity): quantity is beyond 10000 units" in message


def test_rejected_rows_keep_their_reasons_and_the_counts_reconcile(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ais.csv",
        AIS_HEADER
        + "1;01-02-2025;N05BA04;30;tablet\n"
        + "2;31-12-9999;N05BA04;30;tablet\n"
        + "3;01-03-2025;N05BA04;99999999999999999999;tablet\n"
        + "4;01-03-2025;N05BA04;-99999999999999999999;tablet\n"  # a "return" of 1e20
        + f"5;{LATEST:%d-%m-%Y};N05BA04;10000;tablet\n"  # the last day and the most allowed
        + f"6;{LATEST + dt.timedelta(days=1):%d-%m-%Y};N05BA04;30;tablet\n"
        + "7;01-03-2025;N05BA04;10000,5;tablet\n"
        + "8;01-03-2025;N03AE01;99999999999999999999;tablet\n",  # not a benzodiazepine
    )
    result = read_source(path, strict=False, today=TODAY)
    counts = result.counts["dispensings"]
    assert (counts.rows_read, counts.rows_valid, counts.rows_rejected) == (8, 3, 5)
    assert result.reconciles
    assert result.dispensings is not None
    assert result.dispensings["patient_id"].tolist() == ["1", "5", "8"]
    rejected = result.rejected.set_index("line")
    assert rejected.loc[3, "column"] == "date"
    assert DATE_REASON in rejected.loc[3, "reason"]
    assert DATE_REASON in rejected.loc[7, "reason"]
    for line in (4, 5, 8):
        assert rejected.loc[line, "column"] == "quantity"
        assert QUANTITY_REASON in rejected.loc[line, "reason"]


def test_the_readers_maximum_is_an_option(tmp_path: Path) -> None:
    path = _write(tmp_path, "ais.csv", AIS_HEADER + "1;01-02-2025;N05BA04;12000;drank\n")
    with pytest.raises(ReadError, match="quantity is beyond 10000 units"):
        read_source(path, today=TODAY)
    result = read_source(path, today=TODAY, max_quantity=20_000)
    assert result.dispensings is not None
    assert result.dispensings["quantity"].tolist() == [12000.0]
    with pytest.raises(PlausibilityError, match="max_quantity must be a finite number above 0"):
        read_source(path, today=TODAY, max_quantity=0)


def test_a_birth_date_in_the_future_or_long_ago_is_refused_by_the_reader(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "patients.csv",
        "patient_id;birth_date;status;status_date\n"
        "p1;01-01-2099;;\n"
        "p2;01-01-1905;;\n"  # 121 calendar years before 2026
        "p3;01-01-1906;;\n"  # 120: the oldest allowed
        "p4;01-01-1880;overleden;01-01-1990\n"  # 110 when she died
        "p5;01-01-1850;overleden;01-01-1990\n"  # 140 when she died
        f"p6;{TODAY:%d-%m-%Y};;\n",  # born today
    )
    result = read_source(path, strict=False, today=TODAY)
    assert result.patients is not None
    assert result.patients["patient_id"].tolist() == ["p3", "p4", "p6"]
    reasons = dict(zip(result.rejected["line"], result.rejected["reason"], strict=True))
    assert reasons[2] == f"birth_date is after {TODAY.isoformat()}: in the future"
    assert reasons[3].startswith("birth_date is more than 120 years before 2026")
    assert reasons[6].startswith("birth_date is more than 120 years before 2026")
    assert set(result.rejected["column"]) == {"birth_date"}
    assert set(result.rejected["value"]) == {"<hidden>"}  # a birth date is personal data
    with pytest.raises(ReadError, match="birth_date is after 2026-01-15: in the future"):
        read_source(path, today=TODAY)


# --- the library: validate and the selection's check -------------------------------------------


def _dispensings(rows: list[tuple[str, dt.date, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["patient_id", "date", "atc", "quantity"])
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[us]")
    return frame


ISSUE = _dispensings(
    [
        ("p1", dt.date(2025, 3, 1), "N05BA04", 60.0),
        ("p1", dt.date(2025, 6, 1), "N05BA04", 60.0),
        ("p2", dt.date(9999, 12, 31), "N05BA04", 30.0),
        ("p3", dt.date(2025, 3, 3), "N05CF02", 1e20),
        ("p4", dt.date(2025, 3, 3), "N05BA04", -1e20),
        ("p5", dt.date(2025, 3, 4), "N02AA01", 1e20),  # an opioid: its units count nowhere
    ]
)


def test_the_selection_refuses_a_patient_with_1e20_units() -> None:
    with pytest.raises(benzoredux.InvalidRowsError) as caught:
        benzoredux.select_chronic_users(ISSUE, "2025-12-31")
    message = str(caught.value)
    assert "3 of 6 rows cannot be used" in message
    assert DATE_REASON in message
    assert QUANTITY_REASON in message
    clean = ISSUE.iloc[[0, 1, 5]]
    chosen = benzoredux.select_chronic_users(clean, "2025-12-31", include_excluded=True)
    assert chosen["patient_id"].tolist() == ["p1"]


def test_the_selections_maximum_is_an_option_with_a_validator() -> None:
    big = _dispensings([("p1", dt.date(2025, 3, 1), "N05BA04", 12_000.0)])
    with pytest.raises(benzoredux.InvalidRowsError, match="quantity is beyond 10000 units"):
        benzoredux.select_chronic_users(big, "2025-12-31")
    chosen = benzoredux.select_chronic_users(big, "2025-12-31", max_quantity=20_000)
    assert chosen["units"].tolist() == [12_000.0]
    for bad in (0, -5, float("nan"), float("inf"), True, "10000"):
        with pytest.raises(PlausibilityError, match="max_quantity"):
            benzoredux.select_chronic_users(big, "2025-12-31", max_quantity=bad)
    with pytest.raises(benzoredux.InvalidRowsError, match="quantity is beyond 10000 units"):
        benzoredux.select_new_users(big, "2025-03-31")
    with pytest.warns(benzoredux.DataCoverageWarning):  # the data start in the window
        assert len(benzoredux.select_new_users(big, "2025-03-31", max_quantity=20_000)) == 1


def test_a_retrospective_run_keeps_the_dispensings_after_its_reference_date() -> None:
    """The bound counts from the later of today and the reference date: an export made today
    for a reference date two years back holds every dispensing since, and none is refused."""
    today = dt.date.today()
    rows = _dispensings(
        [
            ("p1", dt.date(2024, 1, 1), "N05BA04", 60.0),
            ("p1", dt.date(2024, 5, 1), "N05BA04", 60.0),
            ("p1", today, "N05BA04", 60.0),
            ("p1", today + dt.timedelta(days=FUTURE_MARGIN_DAYS), "N05BA04", 60.0),
        ]
    )
    chosen = benzoredux.select_chronic_users(rows, "2024-06-30")
    assert chosen["units"].tolist() == [120.0]
    late = _dispensings([("p1", today + dt.timedelta(days=FUTURE_MARGIN_DAYS + 1), "N05BA04", 1)])
    with pytest.raises(benzoredux.InvalidRowsError, match=DATE_REASON):
        benzoredux.select_chronic_users(pd.concat([rows, late]), "2024-06-30")


def test_a_run_ahead_of_today_counts_from_its_reference_date() -> None:
    reference = dt.date.today() + dt.timedelta(days=400)
    rows = _dispensings(
        [
            ("p1", reference - dt.timedelta(days=100), "N05BA04", 60.0),
            ("p1", reference, "N05BA04", 60.0),
            ("p1", reference + dt.timedelta(days=FUTURE_MARGIN_DAYS), "N05BA04", 5.0),
        ]
    )
    assert benzoredux.select_chronic_users(rows, reference)["units"].tolist() == [120.0]
    late = _dispensings(
        [("p1", reference + dt.timedelta(days=FUTURE_MARGIN_DAYS + 1), "N05BA04", 5.0)]
    )
    with pytest.raises(benzoredux.InvalidRowsError, match=DATE_REASON):
        benzoredux.select_chronic_users(pd.concat([rows, late]), reference)


def test_a_datetime_on_the_last_allowed_day_is_allowed() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "date": pd.to_datetime(
                [
                    dt.datetime.combine(LATEST, dt.time(23, 59, 59)),
                    dt.datetime.combine(LATEST + dt.timedelta(days=1), dt.time(0, 0)),
                    dt.datetime.combine(LATEST + dt.timedelta(days=1), dt.time(0, 1)),
                ]
            ),
            "atc": ["N05BA04"] * 3,
            "quantity": [30.0] * 3,
        }
    )
    result = validate_dispensings(frame, plausibility=PINNED)
    assert result.rejected["row"].tolist() == [1, 2]


def test_the_bounds_are_part_of_the_reasons() -> None:
    result = validate_dispensings(ISSUE, plausibility=PINNED)
    assert result.reasons == {
        f"date is after {LATEST.isoformat()}, more than 31 days after {TODAY.isoformat()}: "
        "not a plausible dispensing date": 1,
        "quantity is beyond 10000 units, implausible for one dispensing or return of a "
        "benzodiazepine (a real one: raise the maximum with max_quantity, on the command line "
        "--max-quantity)": 2,
    }
    assert result.rows_in == result.rows_valid + result.rows_rejected == 6


def test_a_patient_who_left_is_old_at_the_status_date() -> None:
    patients = pd.DataFrame(
        {
            "patient_id": ["old", "older", "dead-old", "dead-too-old", "future", "recent"],
            "birth_date": pd.to_datetime(
                ["1906-01-01", "1905-12-31", "1880-06-01", "1860-01-01", "2099-01-01", None]
            ),
            "status": ["active", None, "deceased", "deceased", "active", "moved"],
            "status_date": pd.to_datetime(
                [None, None, "1990-01-01", "1990-01-01", None, "2025-01-01"]
            ),
        }
    )
    result = validate_patients(patients, plausibility=PINNED)
    assert result.rejected["patient_id"].tolist() == ["older", "dead-too-old", "future"]
    plain = validate_patients(patients.drop(columns=["status", "status_date"]), plausibility=PINNED)
    assert plain.rejected["patient_id"].tolist() == ["older", "dead-old", "dead-too-old", "future"]
    assert all("<hidden>" in line for line in result.examples)


def test_screening_refuses_a_birth_date_that_would_decide_high_age() -> None:
    selection = pd.DataFrame({"patient_id": ["p1", "p2"], "ddd_per_day": [0.5, 0.5]})
    patients = pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "birth_date": pd.to_datetime(["1950-01-01", "2099-01-01"]),
        }
    )
    with pytest.raises(benzoredux.InvalidRowsError, match=r"birth_date is after .*: in the future"):
        screen(selection, "2025-12-31", patients=patients)
    patients.loc[1, "birth_date"] = pd.Timestamp("1900-01-01")
    with pytest.raises(benzoredux.InvalidRowsError, match="implausibly old"):
        screen(selection, "2025-12-31", patients=patients)


def test_the_evaluation_refuses_them_too_with_the_same_option() -> None:
    letters = pd.DataFrame(
        {"patient_id": ["p1"], "gp_id": ["g1"], "letter_date": pd.to_datetime(["2024-01-15"])}
    )
    rows = _dispensings(
        [
            ("p1", dt.date(2023, 12, 1), "N05BA04", 30.0),
            ("p1", dt.date(2024, 3, 1), "N05BA04", 1e20),
        ]
    )
    with pytest.raises(benzoredux.InvalidRowsError, match=QUANTITY_REASON):
        evaluate_effect(letters, rows, "2025-06-30")
    assert len(evaluate_effect(letters, rows, "2025-06-30", max_quantity=1e21).per_patient) == 1
    channels = rows.assign(prescriber_id="g1", channel="consult")
    with pytest.raises(benzoredux.InvalidRowsError, match=QUANTITY_REASON):
        prescriptions_outside_consult(channels, "2024-12-31")
    assert len(prescriptions_outside_consult(channels, "2024-12-31", max_quantity=1e21)) == 2


# --- every backend ------------------------------------------------------------------------------


def _dask(frame: pd.DataFrame) -> Any:
    dd = pytest.importorskip("dask.dataframe")
    return dd.from_pandas(frame, npartitions=2)


BACKENDS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "pandas": lambda f: f,
    "polars": pl.from_pandas,
    "polars-lazy": lambda f: pl.from_pandas(f).lazy(),
    "pyarrow": lambda f: pa.Table.from_pandas(f, preserve_index=False),
    "duckdb": lambda f: duckdb.from_arrow(pa.Table.from_pandas(f, preserve_index=False)),
    "dask": _dask,
}


def _rejected_ids(result: tables.Validation) -> list[str]:
    frame = nw.from_native(result.rejected)
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    return sorted(str(v) for v in eager.get_column("patient_id").to_list())


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")
def test_every_backend_rejects_the_same_rows(backend: str) -> None:
    make = BACKENDS[backend]
    result = validate_dispensings(make(ISSUE), plausibility=PINNED)
    assert (result.rows_in, result.rows_rejected) == (6, 3)
    assert _rejected_ids(result) == ["p2", "p3", "p4"]
    with pytest.raises(benzoredux.InvalidRowsError, match="3 of 6 rows cannot be used"):
        benzoredux.select_chronic_users(make(ISSUE), "2025-12-31")
    patients = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d"],
            "birth_date": pd.to_datetime(["2099-01-01", "1880-01-01", "1880-01-01", "1950-05-05"]),
            "status": ["active", "deceased", "active", "active"],
            "status_date": pd.to_datetime([None, "1990-01-01", None, None]),
        }
    )
    checked = validate_patients(make(patients), plausibility=PINNED)
    assert _rejected_ids(checked) == ["a", "c"]


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")
def test_an_integer_quantity_beyond_float_precision_is_refused_not_a_crash(backend: str) -> None:
    """A misread field read as a 64-bit integer (10**18 units) is refused as implausible on
    every backend; pyarrow used to fail comparing it with the float maximum (ArrowInvalid)."""
    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "date": pd.to_datetime(["2025-03-01"] * 3),
            "atc": ["N05BA04", "N05BA04", "C09AA02"],
            "quantity": pd.array([30, 10**18, 10**18], dtype="int64"),
        }
    )
    result = validate_dispensings(BACKENDS[backend](frame), plausibility=PINNED)
    assert _rejected_ids(result) == ["p2"]  # the antacid's quantity is not checked
    with pytest.raises(benzoredux.InvalidRowsError, match="1 of 3 rows cannot be used"):
        benzoredux.select_chronic_users(BACKENDS[backend](frame), "2025-12-31")


def test_the_shortcut_by_distinct_codes_flags_exactly_what_the_rule_flags() -> None:
    frame = _dispensings(
        [
            ("p1", dt.date(2025, 1, 1), code, quantity)
            for code in ("N05BA04", "N05CD07", "N05CF02", "N03AE01", "N05BA4", "C09AA02")
            for quantity in (10_000.0, 10_000.5, -20_000.0, 30.0, float("inf"), float("nan"))
        ]
    )
    lazy = nw.from_native(pl.from_pandas(frame).lazy())
    (rule,) = [
        r
        for r in tables.plausibility_rules(tables.DISPENSINGS, lazy.collect_schema())
        if r.by_distinct
    ]
    assert rule.by_distinct is not None
    definition = lazy.select(rule.invalid().alias("x")).collect()["x"].to_list()
    shortcut = (
        lazy.select(rule.by_distinct(tables.DistinctValues(lazy)).alias("x"))
        .collect()["x"]
        .to_list()
    )
    assert shortcut == definition
    # 10000.5 and -20000 of each benzodiazepine code; N05BA4 (a bad code, refused by the ATC
    # rule) is in the group by its prefix, as the selection would count it.
    assert sum(definition) == 4 * 2
    # The split the one grouped pass of the checks uses (issue 19): the condition on the
    # quantity, counted per code, and the code's test, applied to the codes in Python.
    assert rule.per_code is not None
    assert rule.atc_filter is not None
    per_code = lazy.select(rule.per_code().alias("x")).collect()["x"].to_list()
    atc = lazy.select("atc").collect()["atc"].to_list()
    split = [
        bool(p) and c is not None and rule.atc_filter(c) for p, c in zip(per_code, atc, strict=True)
    ]
    assert split == definition


# --- Parquet: proven by the footers, or read ------------------------------------------------------


def _parquet(
    tmp_path: Path, dates: list[Any], quantities: list[float], *, kind: pa.DataType
) -> Path:
    table = pa.table(
        {
            "patient_id": ["p1"] * len(dates),
            "date": pa.array(dates, type=kind),
            "atc": ["N05BA04"] * len(dates),
            "quantity": quantities,
        }
    )
    path = tmp_path / f"d-{len(list(tmp_path.iterdir()))}.parquet"
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("kind", [pa.date32(), pa.timestamp("us"), pa.timestamp("ns")])
def test_footer_statistics_prove_the_rules_on_clean_data(tmp_path: Path, kind: pa.DataType) -> None:
    clean = _parquet(
        tmp_path,
        [dt.date(2025, 2, 1), dt.date(2025, 8, 1)]
        if kind == pa.date32()
        else [dt.datetime(2025, 2, 1, 10), dt.datetime(2025, 8, 1, 23, 59)],
        [50.0, -10_000.0],
        kind=kind,
    )
    statistics = read_statistics(clean)
    lazy = nw.from_native(pl.scan_parquet(clean))
    rules = tables.plausibility_rules(tables.DISPENSINGS, lazy.collect_schema())
    assert len(rules) == 2
    assert all(tables._proven(rule, statistics) for rule in rules)


def test_footer_statistics_leave_implausible_data_to_the_rows(tmp_path: Path) -> None:
    late = _parquet(
        tmp_path, [dt.date(2025, 2, 1), dt.date(9999, 12, 31)], [50, 50], kind=pa.date32()
    )
    many = _parquet(tmp_path, [dt.date(2025, 2, 1)] * 2, [50, 1e20], kind=pa.date32())
    endless = _parquet(tmp_path, [dt.date(2025, 2, 1)] * 2, [50, float("inf")], kind=pa.date32())
    for path, proven in ((late, [False, True]), (many, [True, False]), (endless, [True, False])):
        lazy = nw.from_native(pl.scan_parquet(path))
        rules = tables.plausibility_rules(tables.DISPENSINGS, lazy.collect_schema())
        assert [tables._proven(r, read_statistics(path)) for r in rules] == proven
    for path in (late, many):
        with pytest.raises(benzoredux.InvalidRowsError, match="1 of 2 rows cannot be used"):
            benzoredux.select_chronic_users(path, "2025-12-31")


def test_a_proven_parquet_path_runs_no_plausibility_rule_over_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No extra pass over the data: on clean Parquet the footers prove the rules on implausible
    values, so none of them is run over the rows; on implausible data they are."""
    checked: list[str] = []
    original = tables._invalid_expressions

    def spy(rules: Any, distinct: Any) -> Any:
        chosen = list(rules)
        checked.extend(rule.reason for rule in chosen)
        return original(chosen, distinct)

    monkeypatch.setattr(tables, "_invalid_expressions", spy)
    clean = _parquet(
        tmp_path, [dt.date(2025, 2, 1), dt.date(2025, 8, 1)], [50, 50], kind=pa.date32()
    )
    result = benzoredux.select_chronic_users(clean, "2025-12-31").collect()
    assert result["units"].to_list() == [100.0]
    assert checked  # the ATC codes' rule, which no footer proves, still runs
    assert not [r for r in checked if DATE_REASON in r or QUANTITY_REASON in r]
    checked.clear()
    late = _parquet(
        tmp_path, [dt.date(2025, 2, 1), dt.date(9999, 1, 1)], [50, 50], kind=pa.date32()
    )
    with pytest.raises(benzoredux.InvalidRowsError):
        benzoredux.select_chronic_users(late, "2025-12-31")
    assert [r for r in checked if DATE_REASON in r]


def test_check_rows_holds_the_rows_to_the_bounds_it_is_given() -> None:
    """The algorithms' check and its re-check with row numbers use one basis, also a fixed
    day in the past (a later real today must not widen it)."""
    from benzoredux.engine import Execution

    frame = _dispensings([("p1", LATEST + dt.timedelta(days=1), "N05BA04", 30.0)])
    execution = Execution.for_input(frame, "auto")
    lazy = execution.lazy(frame, "dispensings")
    with pytest.raises(benzoredux.InvalidRowsError, match=f"after {LATEST.isoformat()}"):
        tables.check_rows(frame, lazy, tables.DISPENSINGS, execution, plausibility=PINNED)
    tables.check_rows(frame, lazy, tables.DISPENSINGS, execution)  # today: long past LATEST
