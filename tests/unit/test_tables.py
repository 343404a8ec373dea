"""Canonical tables: column checks, row rules with reasons, reconciling counts, hidden values."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum.nl import bsn as stdnum_bsn

import benzoredux as br
from benzoredux.tables import DISPENSINGS, Plausibility, rule_columns, validate


def _dispensings(**overrides: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "patient_id": ["p1", "p2", "p3", "p4"],
        "date": list(pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"])),
        "atc": ["N05BA01", "N05BA01", "N05CF02", "C09AA02"],
        "quantity": [30.0, 30.0, 20.0, 90.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_missing_column_names_it_and_lists_columns_found() -> None:
    with pytest.raises(br.MissingColumnsError) as info:
        br.validate_dispensings(_dispensings().drop(columns="atc"))
    message = str(info.value)
    assert "'atc'" in message
    assert "columns found: 'patient_id', 'date', 'quantity'" in message


def test_text_dates_are_refused_not_guessed() -> None:
    frame = _dispensings(date=["01-02-2025", "02-02-2025", "03-02-2025", "04-02-2025"])
    with pytest.raises(br.ColumnTypeError, match="text dates are not guessed"):
        br.validate_dispensings(frame)


def test_text_quantities_are_refused_with_a_decimal_comma_hint() -> None:
    with pytest.raises(br.ColumnTypeError, match="decimal comma"):
        br.validate_dispensings(_dispensings(quantity=["30", "30", "2,5", "90"]))


def test_timezone_aware_datetimes_are_refused() -> None:
    stamps = pd.to_datetime(["2025-01-01"] * 4).tz_localize("Europe/Amsterdam")
    with pytest.raises(br.ColumnTypeError, match="time-zone"):
        br.validate_dispensings(_dispensings(date=list(stamps)))


def test_integer_patient_ids_are_accepted() -> None:
    result = br.validate_dispensings(_dispensings(patient_id=[1, 2, 3, 4]))
    assert result.rows_rejected == 0


def test_bad_rows_come_back_with_every_reason_and_counts_reconcile() -> None:
    frame = _dispensings(
        patient_id=["p1", None, "p3", "p4"],
        atc=["N05BA01", "N05B", "N05CF02", "C09AA02"],
        quantity=[30.0, float("nan"), float("inf"), 90.0],
    )
    result = br.validate_dispensings(frame)
    assert (result.rows_in, result.rows_valid, result.rows_rejected) == (4, 2, 2)
    assert len(result.valid) + len(result.rejected) == len(frame)
    rejected = result.rejected.set_index("row")
    assert rejected.loc[1, "reasons"] == (
        "patient_id is missing; atc is not a 7-character ATC code such as N05BA01; "
        "quantity is missing"
    )
    assert rejected.loc[2, "reasons"] == "quantity is not a finite number"
    assert result.reasons["quantity is missing"] == 1
    assert list(result.valid["patient_id"]) == ["p1", "p4"]
    assert result.examples[0].startswith("row 1: patient_id is missing")


@pytest.mark.parametrize("forms", [None, {"zetpil": False}])
@pytest.mark.parametrize(
    "extra", [{}, {"strength_mg": [5.0] * 4}, {"form": ["tablet"] * 4, "prescriber_id": ["a"] * 4}]
)
def test_rule_columns_are_the_rules_validate_runs(
    forms: dict[str, bool] | None, extra: dict[str, list[object]]
) -> None:
    frame = _dispensings(**extra)
    bounds = Plausibility(as_of=dt.date(2025, 12, 31), today=dt.date(2025, 12, 31))
    ran = validate(frame, DISPENSINGS, forms=forms, plausibility=bounds).rule_columns
    asked = rule_columns(
        DISPENSINGS, nw.from_native(frame).collect_schema(), forms=forms, plausibility=bounds
    )
    assert asked == ran
    assert ("form" in frame) == any("form" in columns for columns in asked.values())


def test_raise_if_rejected_names_rows_and_points_to_validate() -> None:
    result = br.validate_dispensings(_dispensings(atc=["N05BA01", "X", "N05CF02", "C09AA02"]))
    with pytest.raises(br.InvalidRowsError) as info:
        result.raise_if_rejected()
    assert "1 of 4 rows cannot be used" in str(info.value)
    assert "row 1: atc is not a 7-character ATC code such as N05BA01 (atc='X')" in str(info.value)
    assert "validate_dispensings()" in str(info.value)


def test_unknown_dosage_form_is_rejected_unless_added() -> None:
    frame = _dispensings().assign(form=["tablet", "kauwtablet", None, "drank"])
    assert br.validate_dispensings(frame).rows_rejected == 1
    added = br.validate_dispensings(frame, extra_forms={"kauwtablet": True})
    assert added.rows_rejected == 0


def test_lazy_input_gives_lazy_output_without_row_numbers() -> None:
    frame = pl.from_pandas(_dispensings(atc=["N05BA01", "X", "N05CF02", "C09AA02"])).lazy()
    result = br.validate_dispensings(frame)
    assert isinstance(result.valid, pl.LazyFrame)
    rejected = result.rejected.collect()
    assert "row" not in rejected.columns
    assert rejected["reasons"].to_list() == ["atc is not a 7-character ATC code such as N05BA01"]


def _patients(**overrides: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "patient_id": ["a", "b", "c"],
        "gp_id": ["g1", "g1", "g2"],
        "postcode": ["2601 DC", "1234AB", "2601 DC"],
        "bsn": ["123456782", "111222333", None],
        "status": ["active", "deceased", None],
        "status_date": [pd.NaT, pd.Timestamp("2025-01-01"), pd.NaT],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_valid_patients_pass() -> None:
    assert br.validate_patients(_patients()).rows_rejected == 0


def test_patient_rules() -> None:
    frame = _patients(
        patient_id=["a", "a", "c"],
        postcode=["0601 DC", "1234AB", "2601 DC"],
        bsn=["123456789", "111222333", None],
        status=["active", "deceased", "emigrated"],
        status_date=[pd.NaT, pd.NaT, pd.NaT],
    )
    result = br.validate_patients(frame)
    assert result.rows_rejected == 3
    assert set(result.reasons) == {
        "patient_id occurs more than once",
        "postcode is not a Dutch postcode (1234 AB)",
        "bsn fails the 11-test",
        "status is not one of active, deceased, moved, changed_gp",
        "status_date is missing for a status other than active",
    }


def test_sensitive_values_never_appear_in_messages() -> None:
    frame = _patients(postcode=["9999 ZZ", "0000 AA", "2601 DC"], bsn=["123456789"] * 3)
    result = br.validate_patients(frame)
    text = "\n".join(result.examples)
    assert "123456789" not in text
    assert "0000 AA" not in text
    assert "bsn=<hidden>" in text
    with pytest.raises(br.InvalidRowsError) as info:
        result.raise_if_rejected()
    assert "123456789" not in str(info.value)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=8, max_size=10), min_size=1, max_size=80))
def test_vectorised_bsn_test_agrees_with_python_stdnum(numbers: list[str]) -> None:
    frame = pl.DataFrame({"patient_id": [str(i) for i in range(len(numbers))], "bsn": numbers})
    result = validate(frame, br.PATIENTS)
    rejected = set(result.rejected["row"].to_list())
    expected = {i for i, n in enumerate(numbers) if not (len(n) == 9 and stdnum_bsn.is_valid(n))}
    assert rejected == expected


def test_episodes_rules() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c"],
            "icpc": ["P06", "P74.01", "P6"],
            "start": pd.to_datetime(["2020-01-01", "2021-01-01", "2021-01-01"]),
            "end": pd.to_datetime([None, "2020-01-01", None]),
        }
    )
    result = br.validate_episodes(frame)
    assert result.rejected["reasons"].to_list() == [
        "end is before start",
        "icpc is not an ICPC code such as P06 or P74.01",
    ]


def test_dates_as_python_dates_are_accepted() -> None:
    frame = pl.DataFrame(
        {"patient_id": ["a"], "date": [dt.date(2025, 1, 1)], "atc": ["N05BA01"], "quantity": [1]}
    )
    assert br.validate_dispensings(frame).rows_rejected == 0


def test_check_rows_names_the_bad_row_when_a_required_column_is_not_read() -> None:
    # An algorithm that reads only some columns still gets the row named, not a complaint
    # about a "missing" required column it chose not to read.
    from benzoredux.engine import Execution
    from benzoredux.errors import InvalidRowsError
    from benzoredux.tables import DISPENSINGS, check_rows

    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "date": pd.to_datetime(["2025-01-01", "2025-01-02"]),
            "atc": ["N05BA04", "N05BA4"],
            "quantity": [30.0, 30.0],
        }
    )
    execution = Execution.for_input(frame)
    lazy = execution.lazy(frame, "dispensings")
    with pytest.raises(InvalidRowsError, match="row 1"):
        check_rows(frame, lazy, DISPENSINGS, execution, used=("patient_id", "date", "atc"))


_ID_ALPHABET = " \t\n\x0b\x1c\x1f!09AZaz~\x7f\x80\x84\x85\xa0\u1680\u2000\u2028\u3000é"


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.none() | st.text(alphabet=_ID_ALPHABET, max_size=4), min_size=1, max_size=30),
    st.sampled_from(["pandas", "polars"]),
)
@example(["p1", "\x85"], "polars")  # whitespace just above the ASCII range
@example(["p1", "\xa0\xa0"], "pandas")
@example(["p1", "\u3000"], "polars")
@example(["p1", " "], "polars")
@example(["p1", ""], "pandas")
@example(["p1", None, "\t"], "pandas")
def test_blank_id_shortcut_from_bounds_flags_exactly_the_rows_the_rule_flags(
    ids: list[str | None], kind: str
) -> None:
    """The blank-patient_id rule read from the column's bounds (no stripping when every value
    starts with a non-whitespace character) flags the same rows as its definition."""
    import narwhals as nw

    from benzoredux.tables import DISPENSINGS, DistinctValues

    (rule,) = [r for r in DISPENSINGS.rules if r.reason == "patient_id is missing"]
    assert rule.by_bounds is not None
    native = (
        pd.DataFrame({"patient_id": ids})
        if kind == "pandas"
        else pl.DataFrame({"patient_id": ids}, schema={"patient_id": pl.String})
    )
    frame = nw.from_native(native, eager_only=True)
    shortcut = rule.by_bounds(*DistinctValues(frame.lazy()).bounds("patient_id"))
    by_definition = frame.select(rule.invalid().fill_null(value=True).alias("bad"))
    by_shortcut = frame.select(shortcut.fill_null(value=True).alias("bad"))
    assert list(by_shortcut["bad"]) == list(by_definition["bad"])


def test_whitespace_is_what_python_strips() -> None:
    """The characters every engine strips by name are exactly Python's whitespace."""
    import sys

    from benzoredux.tables import WHITESPACE

    python = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert python == WHITESPACE


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(alphabet=_ID_ALPHABET, max_size=4), min_size=1, max_size=12),
    st.sampled_from(["pandas", "polars", "duckdb"]),
)
@example(["p1", "\x85"], "duckdb")  # whitespace just above the ASCII range
@example(["p1", "\u3000"], "duckdb")
@example(["p1", "\xa0\xa0"], "pandas")
@example(["p1", " "], "polars")
@example(["p1", ""], "duckdb")
@example(["p1", "\x84 "], "duckdb")  # starts below U+0085: never blank
@example(["!", "~\x7f"], "polars")
def test_the_checks_refuse_exactly_the_frames_with_a_blank_id(ids: list[str], kind: str) -> None:
    """The checks' pass counts the identifiers that do not start with a character ruling out a
    blank value (instead of taking their bounds) and checks those rows by the rule itself:
    a frame is refused exactly when one of its identifiers is blank, on every engine."""
    import duckdb

    from benzoredux.engine import Execution
    from benzoredux.errors import InvalidRowsError
    from benzoredux.tables import DISPENSINGS, check_rows

    rows = len(ids)
    table = pd.DataFrame(
        {
            "patient_id": pd.Series(ids, dtype=object),
            "date": pd.to_datetime(["2025-01-01"] * rows),
            "atc": ["N05BA04"] * rows,
            "quantity": [30.0] * rows,
        }
    )
    connection = duckdb.connect()
    native: object = (
        table
        if kind == "pandas"
        else pl.from_pandas(table)
        if kind == "polars"
        else connection.from_arrow(pl.from_pandas(table).to_arrow())
    )
    execution = Execution.for_input(native)
    lazy = execution.lazy(native, "dispensings")
    blank = [i for i, value in enumerate(ids) if value.strip() == ""]
    used = ("patient_id", "date", "atc", "quantity")
    if blank:
        where = "a row" if kind == "duckdb" else f"row {blank[0]}"  # DuckDB: no row order
        with pytest.raises(InvalidRowsError, match=f"{where}: patient_id is missing"):
            check_rows(native, lazy, DISPENSINGS, execution, used=used)
    else:
        check_rows(native, lazy, DISPENSINGS, execution, used=used)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.sampled_from(["N05BA01", "N05CF02", "N03AE01", "C09AA02", "x"]),
            st.none() | st.sampled_from(["tablet", "drank", "zetpil"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_distinct_values_from_one_joint_pass_equal_each_column_on_its_own(
    rows: list[tuple[str | None, str | None]],
) -> None:
    """ATC codes and dosage forms are read in one pass over both columns; every question
    answered from it equals the direct distinct values of the rows asked about."""
    import narwhals as nw

    from benzoredux.codes import is_benzodiazepine
    from benzoredux.tables import DistinctValues

    frame = pl.DataFrame(rows, schema={"atc": pl.String, "form": pl.String}, orient="row")
    distinct = DistinctValues(nw.from_native(frame.lazy()))
    assert set(distinct.rows(("atc",))) == {(a,) for a, _ in rows}
    benzo_forms = {(f, a) for a, f in rows if a is not None and is_benzodiazepine(a)}
    assert set(distinct.rows(("form", "atc"), is_benzodiazepine)) == benzo_forms
    assert len(distinct.rows(("form", "atc"), is_benzodiazepine)) == len(benzo_forms)
