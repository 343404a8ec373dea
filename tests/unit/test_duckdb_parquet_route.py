"""A DuckDB relation that only reads Parquet files is selected from as those files (issue 19).

``con.read_parquet(paths)`` with DuckDB's default options is the same dataset as the paths: by
default (``engine="auto"``) polars scans the files DuckDB would read, with the row checks proven
from their footers as for a path, and the result goes back to the relation's own connection as
the hand-over route's does (:meth:`benzoredux.engine.Execution.polars_scan`). These tests hold
that route to the all-DuckDB route (``engine="native"``) and to the path, in rows, columns and
column types, and check that it is taken only where DuckDB and polars read the same files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

import benzoredux as br
from benzoredux import engine as engine_module

REFERENCE = dt.date(2025, 12, 31)

FIRST = pl.DataFrame(
    {
        "patient_id": ["p1", "p1", "p2", "p2", "p3"],
        "date": [
            dt.datetime(2025, 1, 10),
            dt.datetime(2025, 6, 1, 14, 30),
            dt.datetime(2025, 3, 1),
            dt.datetime(2025, 9, 1),
            dt.datetime(2025, 2, 1),
        ],
        "atc": ["N05BA04", "N05BA04", "N05CF02", "N05CF02", "N05BA01"],
        "quantity": [50.0, 50.0, 60.0, 60.0, 100.0],
        "strength_mg": [10.0, 10.0, 7.5, 7.5, 5.0],
        "form": ["tablet"] * 5,
        "prescriber_id": ["g1", "g2", None, "g3", "g1"],
    }
)
SECOND = pl.DataFrame(
    {
        "patient_id": ["p3", "p4", "p5", "p5"],
        "date": [
            dt.datetime(2025, 5, 1),
            dt.datetime(2024, 1, 1),  # before the window
            dt.datetime(2025, 4, 1),
            dt.datetime(2025, 12, 31, 23, 0),
        ],
        "atc": ["N03AX09", "N05BA01", "N05CD08", "N05CD08"],  # p3: complex co-medication
        "quantity": [30.0, 200.0, 60.0, 40.0],
        "strength_mg": [100.0, 5.0, 7.5, 7.5],
        "form": ["tablet"] * 4,
        "prescriber_id": ["g1", "g4", "g5", "g5"],
    }
)
PATIENTS = pl.DataFrame(
    {
        "patient_id": ["p1", "p2", "p5"],
        "gp_id": ["G1", None, "G5"],
        "status": ["active", "deceased", "active"],
        "status_date": [None, dt.date(2025, 10, 1), None],
    }
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    FIRST.write_parquet(tmp_path / "region-000.parquet")
    SECOND.write_parquet(tmp_path / "region-001.parquet")
    return tmp_path


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call read the relation as its files (True) or through DuckDB (False)."""
    taken: list[bool] = []
    original = engine_module.Execution.polars_scan

    def spy(self: engine_module.Execution, source: object) -> Any:
        scan = original(self, source)
        if isinstance(source, duckdb.DuckDBPyRelation):
            taken.append(scan is not None)
        return scan

    monkeypatch.setattr(engine_module.Execution, "polars_scan", spy)
    return taken


def _rows(relation: Any) -> list[tuple[Any, ...]]:
    return relation.fetchall()


def _assert_same(got: Any, want: Any) -> None:
    """The same rows in the same order; floats to 1e-12 (the engines sum in different orders)."""
    got_rows, want_rows = _rows(got), _rows(want)
    assert len(got_rows) == len(want_rows)
    for g, w in zip(got_rows, want_rows, strict=True):
        assert len(g) == len(w)
        for a, b in zip(g, w, strict=True):
            assert a == (pytest.approx(b, rel=1e-12) if isinstance(b, float) else b)


@pytest.mark.parametrize("options", [{}, {"include_excluded": True}], ids=["default", "all"])
def test_a_bare_read_parquet_is_read_as_its_files(
    folder: Path, scans: list[bool], options: dict[str, Any]
) -> None:
    con = duckdb.connect()
    try:
        con.register("p_arrow", PATIENTS.to_arrow())
        con.execute("CREATE TEMP TABLE patients AS SELECT * FROM p_arrow")
        relation = con.read_parquet(str(folder / "*.parquet"))
        auto = br.select_chronic_users(
            relation, REFERENCE, patients=con.table("patients"), **options
        )
        assert scans == [True]
        native = br.select_chronic_users(
            relation, REFERENCE, patients=con.table("patients"), engine="native", **options
        )
        assert isinstance(auto, duckdb.DuckDBPyRelation)
        assert auto.columns == native.columns
        assert [str(t) for t in auto.types] == [str(t) for t in native.types]
        _assert_same(auto, native)
        path = br.select_chronic_users(
            str(folder / "*.parquet"), REFERENCE, patients=PATIENTS, **options
        ).collect()
        assert [r[0] for r in _rows(auto)] == path["patient_id"].to_list()
        # The result is on the caller's connection: it joins the caller's own tables there.
        joined = auto.join(con.table("patients"), "patient_id").aggregate("count(*)")
        assert joined.fetchall() == [(len(path.join(PATIENTS, on="patient_id")),)]
    finally:
        con.close()
    by_patient = {r["patient_id"]: r for r in path.to_dicts()}
    if options:
        assert by_patient["p3"]["excluded_because"] == "complex co-medication: N03"
        assert by_patient["p2"]["excluded_because"] == "deceased on or before the reference date"
    assert by_patient["p5"]["units"] == 100.0  # a row in each file's share of the window


def test_a_list_of_files_is_read_as_its_files(folder: Path, scans: list[bool]) -> None:
    files = [str(folder / "region-000.parquet"), str(folder / "region-001.parquet")]
    con = duckdb.connect()
    try:
        relation = con.read_parquet(files)
        auto = br.select_chronic_users(relation, REFERENCE)
        native = br.select_chronic_users(relation, REFERENCE, engine="native")
        assert scans == [True, False]  # engine="native" keeps DuckDB
        _assert_same(auto, native)
        assert [r[0] for r in _rows(auto)] == ["p1", "p2", "p5"]
    finally:
        con.close()


def test_files_duckdb_reads_and_the_scan_would_leave_out_keep_the_duckdb_route(
    folder: Path, scans: list[bool]
) -> None:
    """A glob matching a file whose name starts with ``_`` (left out by the path route, as
    Spark's marker files are) is read by DuckDB: such a relation is read through DuckDB, so
    that file's rows count, as they count on the all-DuckDB route."""
    SECOND.with_columns(pl.lit("p6").alias("patient_id")).write_parquet(folder / "_extra.parquet")
    con = duckdb.connect()
    try:
        relation = con.read_parquet(str(folder / "*.parquet"))
        auto = br.select_chronic_users(relation, REFERENCE, include_excluded=True)
        native = br.select_chronic_users(
            relation, REFERENCE, include_excluded=True, engine="native"
        )
        assert scans == [False, False]
        _assert_same(auto, native)
        assert "p6" in [r[0] for r in _rows(auto)]
    finally:
        con.close()


def test_a_connection_with_a_file_search_path_keeps_the_duckdb_route(
    folder: Path, scans: list[bool]
) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"SET file_search_path = '{folder}'")
        relation = con.read_parquet(str(folder / "region-000.parquet"))
        auto = br.select_chronic_users(relation, REFERENCE)
        assert scans == [False]
        # p3's complex co-medication is in the other file, which this relation does not read.
        assert [r[0] for r in _rows(auto)] == ["p1", "p2", "p3"]
    finally:
        con.close()


def test_a_query_over_the_files_is_read_through_duckdb(folder: Path, scans: list[bool]) -> None:
    con = duckdb.connect()
    try:
        relation = con.read_parquet(str(folder / "*.parquet")).filter("patient_id <> 'p1'")
        auto = br.select_chronic_users(relation, REFERENCE)
        assert scans == [False]
        assert [r[0] for r in _rows(auto)] == ["p2", "p5"]
    finally:
        con.close()


def test_a_bad_row_in_the_files_is_refused_as_for_the_path(folder: Path, scans: list[bool]) -> None:
    FIRST.with_columns(pl.lit(None, pl.String).alias("patient_id")).write_parquet(
        folder / "region-002.parquet"
    )
    with pytest.raises(br.InvalidRowsError) as from_path:
        br.select_chronic_users(str(folder / "*.parquet"), REFERENCE)
    con = duckdb.connect()
    try:
        with pytest.raises(br.InvalidRowsError) as from_relation:
            br.select_chronic_users(con.read_parquet(str(folder / "*.parquet")), REFERENCE)
    finally:
        con.close()
    assert scans == [True]
    assert str(from_relation.value) == str(from_path.value)
    assert "patient_id" in str(from_relation.value)
