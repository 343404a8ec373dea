"""Property: the row checks of a Parquet path, shortened by footer statistics, refuse exactly
the datasets the full checks refuse.

Rules under test: ``benzoredux.parquet_statistics`` (what a dataset's footers say),
``RowRule.by_statistics`` (a rule skipped only when the statistics prove no row breaks it),
the row-count guard of ``tables._footer_statistics``, and the checks of a Parquet scan as one
filter per rule (``DistinctValues(scan=True)``, ``tables._breaks_any``). The reference is
``validate_dispensings`` on the same rows in memory, which reads every row.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import narwhals as nw
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings

import benzoredux
from benzoredux import engine, tables
from benzoredux.parquet_statistics import ColumnStatistics, read_statistics

REFERENCE = "2025-12-31"
SCHEMA = {
    "patient_id": pa.string(),
    "date": pa.date32(),
    "atc": pa.string(),
    "quantity": pa.float64(),
    "strength_mg": pa.float64(),
    "form": pa.string(),
}

patient_ids = st.sampled_from(["p1", "p2", "P3", "ß9", "~x", " p4", "", "\tp5", "\x85p", None])
# Implausible values (issue 16) too: a date past the margin after today, or far ahead; a
# benzodiazepine quantity beyond the maximum, either way. The last plausible ones as well.
_LATEST = dt.date.today() + dt.timedelta(days=tables.FUTURE_MARGIN_DAYS)
dates = st.one_of(
    st.none(),
    st.dates(dt.date(2024, 6, 1), dt.date(2026, 2, 1)),
    st.sampled_from([_LATEST, _LATEST + dt.timedelta(days=1), dt.date(9999, 12, 31)]),
)
atcs = st.sampled_from(["N05BA04", "N05CF02", "N03AE01", "A02BC01", "N05BA4", None])
floats = st.one_of(
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -30.0]),
    st.floats(1, 200, allow_nan=False),
    st.sampled_from([tables.MAX_QUANTITY, tables.MAX_QUANTITY + 0.5, 1e20, -1e20]),
)
big_integers = st.sampled_from([10_000, 10_001, -10_001, 10**18])
forms = st.sampled_from(["tablet", " Tablet ", "capsule", "drank", "onbekend", None])


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, Any]:
    """Dispensings (mostly usable, sometimes not) and how they are stored in Parquet."""
    n = draw(st.integers(1, 14))
    # Usually at most one column may hold bad values, so each rule is also the only one broken.
    spoilt = draw(st.sampled_from([None, None, *SCHEMA, "all"]))

    def column(name: str, bad: st.SearchStrategy[Any], good: st.SearchStrategy[Any]) -> list[Any]:
        use = bad if spoilt in (name, "all") else good
        return draw(st.lists(use, min_size=n, max_size=n))

    integer_quantity = draw(st.booleans())
    rows = {
        "patient_id": column(
            "patient_id", patient_ids, st.sampled_from(["p1", "p2", "P3", "ß9", "~x"])
        ),
        "date": column("date", dates, st.dates(dt.date(2024, 6, 1), dt.date(2026, 2, 1))),
        "atc": column("atc", atcs, st.sampled_from(["N05BA04", "N05CF02", "A02BC01"])),
        "quantity": (
            column(
                "quantity",
                st.one_of(st.none(), st.integers(-60, 200), big_integers),
                st.integers(-60, 200),
            )
            if integer_quantity
            else column("quantity", floats, st.floats(-60, 200, allow_nan=False))
        ),
        "strength_mg": column("strength_mg", floats, st.floats(0.5, 50, allow_nan=False)),
        "form": column("form", forms, st.sampled_from(["tablet", " Tablet ", "capsule", None])),
    }
    return {
        "rows": rows,
        "integer_quantity": integer_quantity,
        "files": draw(st.integers(1, 3)),
        "row_group": draw(st.integers(1, 5)),
        "statistics": draw(st.booleans()),
    }


def _table(data: dict[str, Any]) -> pa.Table:
    schema = dict(SCHEMA)
    if data["integer_quantity"]:
        schema["quantity"] = pa.int64()
    return pa.table({k: pa.array(v, type=schema[k]) for k, v in data["rows"].items()})


def _write(table: pa.Table, folder: Path, data: dict[str, Any]) -> None:
    step = math.ceil(table.num_rows / data["files"])
    for k in range(data["files"]):
        pq.write_table(
            table.slice(k * step, step),
            folder / f"part-{k}.parquet",
            row_group_size=data["row_group"],
            write_statistics=data["statistics"],
        )


def _refused(source: Any) -> bool:
    try:
        result = benzoredux.select_chronic_users(source, REFERENCE)
    except benzoredux.InvalidRowsError:
        return True
    assert isinstance(result, pl.LazyFrame)
    result.collect()
    return False


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=datasets())
@example(  # a blank id sorts below "!": the bounds in the footer do not prove it away
    data={
        "rows": {
            "patient_id": ["p1", " "],
            "date": [dt.date(2025, 3, 1)] * 2,
            "atc": ["N05BA04"] * 2,
            "quantity": [30.0, 30.0],
            "strength_mg": [10.0, 10.0],
            "form": ["tablet"] * 2,
        },
        "integer_quantity": False,
        "files": 2,
        "row_group": 1,
        "statistics": True,
    }
)
@example(  # NaN is left out of float statistics: the quantity rule must still read the rows
    data={
        "rows": {
            "patient_id": ["p1", "p2", "p3"],
            "date": [dt.date(2025, 3, 1)] * 3,
            "atc": ["N05BA04"] * 3,
            "quantity": [30.0, math.nan, 10.0],
            "strength_mg": [10.0, 10.0, 10.0],
            "form": ["tablet"] * 3,
        },
        "integer_quantity": False,
        "files": 1,
        "row_group": 2,
        "statistics": True,
    }
)
def test_parquet_path_refuses_exactly_what_the_full_check_refuses(data: dict[str, Any]) -> None:
    table = _table(data)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    expected = benzoredux.validate_dispensings(frame).rows_rejected > 0
    with tempfile.TemporaryDirectory() as folder:
        _write(table, Path(folder), data)
        assert _refused(Path(folder)) == expected
        assert _refused(str(Path(folder) / "*.parquet")) == expected


# --- the statistics themselves ----------------------------------------------------------------


def test_statistics_add_up_missing_values_and_widen_bounds(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"id": ["b", None, "a", "d"], "n": [1, 2, None, 4], "x": [1.5, None, 2.0, 0.5]}),
        tmp_path / "one.parquet",
        row_group_size=2,
    )
    pq.write_table(
        pa.table({"id": [None, "z"], "n": [-3, 5], "x": [math.nan, 7.0]}),
        tmp_path / "two.parquet",
    )
    found = read_statistics(tmp_path)
    assert found.rows == 6
    assert found.columns["id"] == ColumnStatistics(
        null_count=2, low="a", high="z", bounded=True, exact_numbers=False
    )
    assert found.columns["n"] == ColumnStatistics(
        null_count=1, low=-3, high=5, bounded=True, exact_numbers=True
    )
    # NaN is not counted as missing and not in the bounds: floats are never "exact".
    assert found.columns["x"] == ColumnStatistics(
        null_count=1, low=0.5, high=7.0, bounded=True, exact_numbers=False
    )


def test_all_missing_row_group_is_bounded_without_bounds(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"id": pa.array([None, None, "x"], pa.string())}),
        tmp_path / "a.parquet",
        row_group_size=2,
    )
    assert read_statistics(tmp_path / "a.parquet").columns["id"] == ColumnStatistics(
        null_count=2, low="x", high="x", bounded=True
    )
    pq.write_table(pa.table({"id": pa.array([None], pa.string())}), tmp_path / "b.parquet")
    assert read_statistics(tmp_path / "b.parquet").columns["id"] == ColumnStatistics(
        null_count=1, bounded=True
    )


def test_files_without_statistics_prove_nothing(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "with.parquet")
    pq.write_table(pa.table({"id": ["b"]}), tmp_path / "without.parquet", write_statistics=False)
    column = read_statistics(tmp_path).columns["id"]
    assert column.null_count is None
    assert not column.bounded
    assert not column.complete


def test_columns_not_alike_in_every_file_are_left_out(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1], "b": [1], "c": [1]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [2], "b": [2.5]}), tmp_path / "2.parquet")
    assert set(read_statistics(tmp_path).columns) == {"a"}


def test_decimals_are_exact_numbers(tmp_path: Path) -> None:
    values = pa.array([decimal.Decimal("0.50"), decimal.Decimal("12.25")], pa.decimal128(6, 2))
    pq.write_table(pa.table({"strength_mg": values}), tmp_path / "d.parquet")
    column = read_statistics(tmp_path / "d.parquet").columns["strength_mg"]
    assert column.exact_numbers
    assert column.low == decimal.Decimal("0.50")


# --- the statistics are used when they apply, and only then ----------------------------------


@pytest.fixture
def bounds_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The columns whose bounds the row checks read from the rows (a pass over the table)."""
    calls: list[str] = []
    original = tables.DistinctValues.bounds

    def spy(self: tables.DistinctValues, column: str) -> Any:
        calls.append(column)
        return original(self, column)

    monkeypatch.setattr(tables.DistinctValues, "bounds", spy)
    return calls


def _clean(tmp_path: Path, *, statistics: bool = True) -> Path:
    table = pa.table(
        {
            "patient_id": ["p1", "p1", "p2"],
            "date": pa.array([dt.date(2025, 2, 1), dt.date(2025, 8, 1), dt.date(2025, 3, 1)]),
            "atc": ["N05BA04", "N05BA04", "N05CF02"],
            "quantity": [50.0, 50.0, 90.0],
        }
    )
    path = tmp_path / "clean.parquet"
    pq.write_table(table, path, write_statistics=statistics)
    return path


def test_footer_statistics_spare_the_pass_over_the_ids(
    tmp_path: Path, bounds_calls: list[str]
) -> None:
    result = benzoredux.select_chronic_users(_clean(tmp_path), REFERENCE).collect()
    assert result["patient_id"].to_list() == ["p1"]
    assert bounds_calls == []


def test_without_statistics_the_ids_are_read(tmp_path: Path, bounds_calls: list[str]) -> None:
    benzoredux.select_chronic_users(_clean(tmp_path, statistics=False), REFERENCE).collect()
    assert bounds_calls == ["patient_id"]


def test_statistics_of_other_files_than_the_scan_are_not_trusted(
    tmp_path: Path, bounds_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _clean(tmp_path)
    real = read_statistics(path)

    def elsewhere(source: Any, name: str = "input") -> Any:
        return type(real)(rows=real.rows + 1, columns=real.columns)

    monkeypatch.setattr(tables, "read_statistics", elsewhere)
    benzoredux.select_chronic_users(path, REFERENCE).collect()
    assert bounds_calls == ["patient_id"]


def test_a_parquet_scan_is_checked_by_filters_without_reading_distinct_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the window's rows of the codes concerned are read for their distinct values."""
    reads: list[int] = []
    original = tables.DistinctValues._joint_rows

    def spy(self: tables.DistinctValues) -> Any:
        reads.append(self._lazy.select(nw.len()).collect().item())
        return original(self)

    monkeypatch.setattr(tables.DistinctValues, "_joint_rows", spy)
    table = pa.table(
        {
            "patient_id": ["p1", "p1", "p2", "p3"],
            "date": pa.array(
                [dt.date(2025, 2, 1), dt.date(2025, 8, 1), dt.date(2025, 3, 1), dt.date(2023, 1, 1)]
            ),
            "atc": ["N05BA04", "N05BA04", "A02BC01", "N05BA04"],
            "quantity": [50.0, 50.0, 90.0, 100.0],
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    chronic = benzoredux.select_chronic_users(tmp_path / "d.parquet", REFERENCE).collect()
    assert chronic["patient_id"].to_list() == ["p1"]
    assert reads == [2]  # p1's two rows: not p2's antacid, not p3's dispensing of 2023
    reads.clear()
    assert benzoredux.select_chronic_users(pl.DataFrame(table), REFERENCE).height == 1
    assert reads == [4]  # an eager frame: the distinct values of all its rows, read once


def test_only_a_parquet_path_on_polars_is_scanned_by_filters(tmp_path: Path) -> None:
    path = _clean(tmp_path)
    assert engine.Execution.for_input(path).scans_parquet(path)
    frame = pl.read_parquet(path)
    assert not engine.Execution.for_input(frame).scans_parquet(frame)
    assert not engine.Execution.for_input(frame.lazy()).scans_parquet(frame.lazy())
    with pytest.raises(RuntimeError, match="not read from a Parquet scan"):
        tables.DistinctValues(nw.from_native(pl.scan_parquet(path)), scan=True).rows(("atc",))


def test_integer_patient_ids_in_parquet(tmp_path: Path) -> None:
    """Integer ids have integer bounds, which prove nothing about blank text: the rows decide."""
    table = pa.table(
        {
            "patient_id": pa.array([11, 11, 12], pa.int64()),
            "date": pa.array([dt.date(2025, 2, 1), dt.date(2025, 8, 1), dt.date(2025, 3, 1)]),
            "atc": ["N05BA04", "N05BA04", "N05CF02"],
            "quantity": pa.array([50, 50, 90], pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "ids.parquet")
    got = benzoredux.select_chronic_users(tmp_path / "ids.parquet", REFERENCE).collect()
    want = benzoredux.select_chronic_users(pl.DataFrame(table), REFERENCE)
    assert got.equals(want)
    assert got["patient_id"].to_list() == ["11"]
    pq.write_table(
        table.set_column(0, "patient_id", pa.array([11, None, 12])), tmp_path / "x.parquet"
    )
    with pytest.raises(benzoredux.InvalidRowsError, match="patient_id is missing"):
        benzoredux.select_chronic_users(tmp_path / "x.parquet", REFERENCE)
