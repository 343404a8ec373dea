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
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
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


def _outcome(source: Any) -> pl.DataFrame | None:
    """The selection on ``source`` as a polars DataFrame, or ``None`` when the rows are refused."""
    try:
        result = benzoredux.select_chronic_users(source, REFERENCE)
    except benzoredux.InvalidRowsError:
        return None
    if isinstance(result, pl.LazyFrame):
        return result.collect()
    if isinstance(result, duckdb.DuckDBPyRelation):
        return pl.from_arrow(result.to_arrow_table())  # type: ignore[return-value]
    return pl.DataFrame(nw.from_native(result, eager_only=True).to_arrow())


def _refused(source: Any) -> bool:
    outcome = _outcome(source)
    if outcome is not None:
        assert isinstance(benzoredux.select_chronic_users(source, REFERENCE), pl.LazyFrame)
    return outcome is None


@settings(
    max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
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
        glob = str(Path(folder) / "*.parquet")
        assert _refused(glob) == expected
        # A bare pl.scan_parquet is the path's dataset (issue 19): the same footer proofs and
        # filters, the same refusals, the same result as the path and as the frame in memory.
        scan, path = _outcome(pl.scan_parquet(glob)), _outcome(glob)
        assert (scan is None) == expected
        # So is a DuckDB relation that is a bare read_parquet: footer proofs, then the grouped
        # pass over the rules left, on DuckDB.
        con = duckdb.connect()
        try:
            relation = _outcome(con.read_parquet(glob))
        finally:
            con.close()
        assert (relation is None) == expected
        if scan is not None:
            assert path is not None
            assert relation is not None
            # Up to the order of addition: polars adds a patient's floats of several row
            # groups in whatever order its threads finish (found: units 118.07548626023973,
            # ...971 and ...97 from the same file, run after run).
            assert _same_selection(scan, path)
            in_memory = _outcome(frame)
            assert in_memory is not None
            # Up to the last bit of a float: an integer quantity read from the file and one in
            # memory are multiplied in another order (found: 0.09652173913043478 and
            # 0.0965217391304348 as a DDD per day).
            assert _same_selection(scan, in_memory)
            assert _same_selection(relation, in_memory)


@settings(max_examples=35, deadline=None)
@given(data=datasets())
@example(  # a benzodiazepine's quantity beyond the maximum: decided per code in Python
    data={
        "rows": {
            "patient_id": ["p1", "p2", "p3"],
            "date": [dt.date(2025, 3, 1)] * 3,
            "atc": ["A02BC01", "N05BA04", "N05CF02"],
            "quantity": [20_000.0, 30.0, -20_000.0],
            "strength_mg": [10.0, 10.0, 10.0],
            "form": ["tablet"] * 3,
        },
        "integer_quantity": False,
        "files": 1,
        "row_group": 2,
        "statistics": True,
    }
)
@example(  # only the antacid is beyond it: no benzodiazepine's, nothing refused
    data={
        "rows": {
            "patient_id": ["p1", "p2"],
            "date": [dt.date(2025, 3, 1)] * 2,
            "atc": ["A02BC01", "N05BA04"],
            "quantity": [20_000.0, 30.0],
            "strength_mg": [10.0, 10.0],
            "form": ["tablet"] * 2,
        },
        "integer_quantity": False,
        "files": 1,
        "row_group": 2,
        "statistics": True,
    }
)
@example(  # a blank id: the bounds cannot rule it out, the rule is counted over the rows
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
        "files": 1,
        "row_group": 1,
        "statistics": True,
    }
)
def test_every_input_kind_refuses_exactly_what_the_full_check_refuses(
    data: dict[str, Any],
) -> None:
    """The one grouped pass of the row checks (issue 19) on every kind of input refuses what
    :func:`~benzoredux.tables.validate_dispensings`, which reads every row, refuses; and what it
    accepts gives the same selection everywhere."""
    table = _table(data)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    pandas = table.to_pandas(date_as_object=False)  # NaN and null alike: pandas' missing
    con = duckdb.connect()
    try:
        inputs: dict[str, tuple[Any, Any]] = {
            "polars": (frame, _outcome),
            "polars-native": (frame, _outcome_native),
            "lazy": (frame.lazy(), _outcome),
            "pandas": (pandas, _outcome),
            "pandas-native": (pandas, _outcome_native),
            "pyarrow": (table, _outcome),
            "pyarrow-batches": (table, _in_batches),
            "pandas-batches": (pandas, _in_batches),
            "duckdb": (con.from_arrow(table), _outcome),
        }
        outcomes = {}
        for kind, (native, select) in inputs.items():
            # The reference: validation of the same input, which reads every row.
            validation = benzoredux.validate_dispensings(native)
            outcomes[kind] = select(native)
            assert (outcomes[kind] is None) == (validation.rows_rejected > 0), kind
    finally:
        con.close()
    first = outcomes["polars"]
    if first is not None:
        for kind, outcome in outcomes.items():
            if outcome is not None:  # (pandas accepts a NaN strength as missing)
                assert _same_selection(outcome, first), kind


def _in_batches(source: Any) -> pl.DataFrame | None:
    """As :func:`_outcome`, with the frame moved to polars batch by batch, as a large one is."""
    threshold = engine.BATCHES_FROM_ROWS
    engine.BATCHES_FROM_ROWS = 0
    try:
        return _outcome(source)
    finally:
        engine.BATCHES_FROM_ROWS = threshold


def _outcome_native(source: Any) -> pl.DataFrame | None:
    try:
        result = benzoredux.select_chronic_users(source, REFERENCE, engine="native")
    except benzoredux.InvalidRowsError:
        return None
    return pl.DataFrame(nw.from_native(result, eager_only=True).to_arrow())


def _same_selection(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """The same patients and values (dates as dates; floats up to the order of addition)."""
    if a.columns != b.columns or a.height != b.height:
        return False
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype.is_temporal() or y.dtype.is_temporal():
            x, y = x.cast(pl.Date), y.cast(pl.Date)
        if x.dtype.is_float() or y.dtype.is_float():
            pairs = zip(x.to_list(), y.to_list(), strict=True)
            if not all(
                (p is None and q is None)
                or (p is not None and q is not None and math.isclose(p, q, rel_tol=1e-9))
                for p, q in pairs
            ):
                return False
        elif x.cast(pl.String).to_list() != y.cast(pl.String).to_list():
            return False
    return True


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


def test_a_bare_scan_is_proven_by_the_footers_like_its_path(
    tmp_path: Path, bounds_calls: list[str]
) -> None:
    """Issue 19: ``pl.scan_parquet(path)`` costs no pass over the ids, as the path does."""
    path = _clean(tmp_path)
    result = benzoredux.select_chronic_users(pl.scan_parquet(path), REFERENCE)
    assert isinstance(result, pl.LazyFrame)  # lazy in, lazy out: the caller's kind
    assert result.collect()["patient_id"].to_list() == ["p1"]
    assert bounds_calls == []
    # With something on top of the scan the plan is not the files: the rows are checked.
    benzoredux.select_chronic_users(
        pl.scan_parquet(path).filter(pl.col("quantity") > 0), REFERENCE
    ).collect()
    assert bounds_calls == []  # a lazy frame that is not a scan: the grouped pass, no bounds


def test_only_a_bare_scan_with_default_options_is_taken_for_the_files(tmp_path: Path) -> None:
    path = _clean(tmp_path)
    other = tmp_path / "other.parquet"
    pq.write_table(pq.read_table(path), other)
    text = str(path)
    assert engine.parquet_dataset(pl.scan_parquet(path)) == (text,)
    assert engine.parquet_dataset(pl.scan_parquet([path, other])) == (text, str(other))
    assert engine.parquet_dataset(pl.scan_parquet(str(tmp_path / "*.parquet"))) == (
        str(tmp_path / "*.parquet"),
    )
    scan = pl.scan_parquet(path)
    scan.collect_schema()  # a plan whose schema polars has resolved is still the same scan
    assert engine.parquet_dataset(scan) == (text,)
    assert engine.parquet_dataset(text) == text  # a path is its own dataset
    con = duckdb.connect()
    try:
        assert engine.parquet_dataset(con.read_parquet(text)) == (text,)
        assert engine.parquet_dataset(con.read_parquet([text, str(other)])) == (
            text,
            str(other),
        )
        for relation in (
            con.read_parquet(text).filter("quantity > 0"),
            con.read_parquet(text, filename=True),
            con.read_parquet(text, hive_partitioning=True),
            con.sql(f"SELECT * FROM read_parquet('{text}') WHERE quantity > 0"),
            con.from_arrow(pq.read_table(path)),
        ):
            assert engine.parquet_dataset(relation) is None, relation.sql_query()
    finally:
        con.close()
    not_the_files = [
        pl.scan_parquet(path).filter(pl.col("quantity") > 0),
        pl.scan_parquet(path).select("patient_id", "date", "atc", "quantity"),
        pl.scan_parquet(path).with_columns(pl.col("quantity") * 2),
        pl.scan_parquet(path).head(2),
        pl.scan_parquet(path, n_rows=2),
        pl.scan_parquet(path, row_index_name="row"),
        pl.scan_parquet(path, include_file_paths="file"),
        pl.scan_parquet(path, hive_partitioning=True),
        pl.scan_parquet(path, low_memory=True),
        pl.scan_parquet(path, use_statistics=False),
        pl.scan_parquet(path, schema={"patient_id": pl.String, "date": pl.Date}),
        pl.concat([pl.scan_parquet(path), pl.scan_parquet(other)]),
        pl.read_parquet(path).lazy(),
        pl.scan_csv(tmp_path / "missing.csv"),
        pl.read_parquet(path),
        pq.read_table(path),
    ]
    for source in not_the_files:
        assert engine.parquet_dataset(source) is None, source
    # The files of a dataset given as a list are listed for the footers, each in turn.
    assert engine.parquet_files((text, str(other))) == [path, other]


def test_a_small_dataset_in_a_process_without_pyarrow_skips_the_footers(
    tmp_path: Path, bounds_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below a million rows, loading pyarrow for the footers costs more than the checks: a
    process that has not loaded it checks the rows instead, with the same answer."""
    path = _clean(tmp_path)
    monkeypatch.setattr(tables, "_pyarrow_loaded", lambda: False)
    result = benzoredux.select_chronic_users(path, REFERENCE).collect()
    assert result["patient_id"].to_list() == ["p1"]
    assert bounds_calls == ["patient_id"]  # checked over the rows, not proven by the footers
    monkeypatch.setattr(tables, "FOOTERS_FROM_ROWS", 3)  # as many rows as the file: footers
    bounds_calls.clear()
    benzoredux.select_chronic_users(path, REFERENCE).collect()
    assert bounds_calls == []


def test_a_first_selection_on_a_small_file_does_not_load_pyarrow(tmp_path: Path) -> None:
    """Issue 19: ``import benzoredux`` and a first selection in a fresh process stay light."""
    path = _clean(tmp_path)
    code = (
        "import sys, benzoredux\n"
        f"r = benzoredux.select_chronic_users({str(path)!r}, {REFERENCE!r}).collect()\n"
        "assert r.height == 1\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'pandas', 'duckdb') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
        if self._joint is None:  # a pass of its own, not values found by another pass
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
    # An eager frame: the distinct values of all its rows come from the one grouped pass of
    # the row checks, without a pass of their own.
    assert reads == []


def test_only_a_parquet_path_on_polars_is_scanned_by_filters(tmp_path: Path) -> None:
    path = _clean(tmp_path)
    assert engine.Execution.for_input(path).scans_parquet(path)
    frame = pl.read_parquet(path)
    assert not engine.Execution.for_input(frame).scans_parquet(frame)
    assert not engine.Execution.for_input(frame.lazy()).scans_parquet(frame.lazy())
    scan = pl.scan_parquet(path)  # a bare scan is the path's dataset (issue 19)
    assert engine.Execution.for_input(scan).scans_parquet(scan)
    filtered = scan.filter(pl.col("quantity") > 0)
    assert not engine.Execution.for_input(filtered).scans_parquet(filtered)
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
