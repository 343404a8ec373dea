"""A DuckDB relation as the dispensings of :func:`benzoredux.select_chronic_users` (issue 19).

By default (``engine="auto"``) DuckDB checks the rows, computes the selection window's rows of
the drugs concerned (each row's units, DDDs, prescriber) and the co-medication flags, and hands
them to polars, which runs the per-patient passes; the result comes back as a relation on the
caller's own connection, where the patients and episodes are joined. ``engine="native"`` keeps
the whole query on DuckDB, deferred until the relation runs. Both must give the rows, the
columns, the column types and the order of the polars route (``docs/explanation/engines.rst``,
"A DuckDB relation"); the property tests (tests/property/) hold the relation to the plain
reference on drawn data.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest

import benzoredux as br
from benzoredux import engine as engine_module

REFERENCE = dt.date(2025, 12, 31)

DISPENSINGS = pl.DataFrame(
    {
        "patient_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p3", "p4", "p5", "p5"],
        "date": [
            dt.datetime(2025, 1, 10),
            dt.datetime(2025, 6, 1, 14, 30),
            dt.datetime(2025, 11, 20),
            dt.datetime(2025, 3, 1),
            dt.datetime(2025, 9, 1),
            dt.datetime(2025, 2, 1),
            dt.datetime(2025, 5, 1),
            dt.datetime(2024, 1, 1),  # before the window: not read
            dt.datetime(2025, 4, 1),
            dt.datetime(2025, 12, 31, 23, 0),  # the reference date's evening: inside
        ],
        "atc": [
            "N05BA04",
            "N05BA04",
            "N05BA04",
            "N05CF02",
            "N05CF02",
            "N05BA01",
            "N03AX09",  # lamotrigine: complex co-medication N03
            "N05BA01",
            "N05CD08",
            "N05CD08",
        ],
        "quantity": [50.0, 50.0, -10.0, 60.0, 60.0, 100.0, 30.0, 200.0, 60.0, 40.0],
        "strength_mg": [10.0, 10.0, 10.0, 7.5, 7.5, 5.0, 100.0, 5.0, 7.5, 7.5],
        "form": ["tablet"] * 10,
        "prescriber_id": ["g1", "g2", "g2", None, "g3", "g1", "g1", "g4", "g5", "g5"],
        "days_supply": [30.0, None, None, 60.0, 30.0, None, None, None, 60.0, 90.0],
    }
)
PATIENTS = pl.DataFrame(
    {
        "patient_id": ["p1", "p2", "p3", "p5"],
        "gp_id": ["G1", None, "G3", "G5"],
        "status": ["active", "deceased", "active", "moved"],
        "status_date": [None, dt.date(2025, 10, 1), None, dt.date(2026, 2, 1)],
    }
)
EPISODES = pl.DataFrame(
    {
        "patient_id": ["p1", "p3", "p5"],
        "icpc": ["P06", "P74.01", "K86"],
        "start": [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2022, 1, 1)],
    }
)


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in table.to_pylist()
    ]


def _assert_same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Same rows in the same order; floats to 1e-9 (the engines sum in different orders)."""
    assert [r["patient_id"] for r in got] == [r["patient_id"] for r in want]
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for key, value in w.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (g["patient_id"], key)
            else:
                assert g[key] == value, (g["patient_id"], key)


def _polars_route(dispensings: pl.DataFrame, **options: Any) -> list[dict[str, Any]]:
    aux = {
        name: options.pop(name).to_pandas() if isinstance(options.get(name), pl.DataFrame) else None
        for name in ("patients", "episodes")
    }
    result = br.select_chronic_users(
        dispensings, REFERENCE, **{k: v for k, v in aux.items() if v is not None}, **options
    )
    return _records(result.to_arrow())


def _selected(relation: Any, **options: Any) -> tuple[Any, list[dict[str, Any]]]:
    result = br.select_chronic_users(relation, REFERENCE, **options)
    assert isinstance(result, duckdb.DuckDBPyRelation), "lazy in, lazy out: a relation"
    return result, _records(result.to_arrow_table())


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"include_excluded": True},
        {"definition": "nhg", "nhg_months": 12, "nhg_min_days": 10},
        {"definition": "nhg", "nhg_months": 12, "nhg_min_days": 10, "include_excluded": True},
        {"exclude_complex": False, "min_units": 50},
    ],
    ids=["default", "include_excluded", "nhg", "nhg_included", "complex_kept"],
)
@pytest.mark.parametrize("days_supply", [True, False], ids=["days_supply", "no_days_supply"])
def test_relation_over_an_arrow_table_matches_the_polars_route(
    options: dict[str, Any], *, days_supply: bool
) -> None:
    frame = DISPENSINGS if days_supply else DISPENSINGS.drop("days_supply")
    con = duckdb.connect()
    try:
        result, got = _selected(con.from_arrow(frame.to_arrow()), **options)
        _, native = _selected(con.from_arrow(frame.to_arrow()), engine="native", **options)
        assert got, "the example selects someone"
        assert result.columns == list(got[0])
        _assert_same(got, _polars_route(frame, **options))
        _assert_same(native, got)
    finally:
        con.close()


def test_the_types_are_those_of_the_query_on_duckdb() -> None:
    """The columns the caller gets keep DuckDB's types of the whole query on DuckDB (the
    counts as HUGEINT, DuckDB's sum of integers), with and without patients."""
    con = duckdb.connect()
    try:
        for options in ({}, {"include_excluded": True, "definition": "nhg", "nhg_min_days": 1}):
            relation = con.from_arrow(DISPENSINGS.to_arrow())
            auto = br.select_chronic_users(relation, REFERENCE, **options)
            native = br.select_chronic_users(relation, REFERENCE, engine="native", **options)
            assert auto.columns == native.columns
            assert [str(t) for t in auto.types] == [str(t) for t in native.types]
        assert [str(t) for t in auto.types][:7] == [
            "VARCHAR",
            "VARCHAR",
            "VARCHAR",
            "DOUBLE",
            "DOUBLE",
            "HUGEINT",
            "HUGEINT",
        ]
    finally:
        con.close()


def test_relation_on_the_callers_own_connection_with_patients_and_episodes(
    tmp_path: Path,
) -> None:
    """A relation of a table in the caller's own database file, with the patients and
    episodes as relations on the same connection: the result is a relation on that
    connection, which the caller can query and join there."""
    con = duckdb.connect(str(tmp_path / "region.duckdb"))
    try:
        con.register("d_arrow", DISPENSINGS.to_arrow())
        con.execute("CREATE TABLE dispensings AS SELECT * FROM d_arrow")
        con.register("p_arrow", PATIENTS.to_arrow())
        con.execute("CREATE TEMP TABLE patients AS SELECT * FROM p_arrow")
        con.register("e_arrow", EPISODES.to_arrow())
        con.execute("CREATE TEMP TABLE episodes AS SELECT * FROM e_arrow")
        options = {"gp_route": True, "include_excluded": True}
        result, got = _selected(
            con.table("dispensings"),
            patients=con.table("patients"),
            episodes=con.table("episodes"),
            **options,
        )
        _assert_same(
            got, _polars_route(DISPENSINGS, patients=PATIENTS, episodes=EPISODES, **options)
        )
        reasons = {r["patient_id"]: r["excluded_because"] for r in got}
        assert reasons["p2"] == "deceased on or before the reference date; no P01/P06/P74 episode"
        assert reasons["p5"] == "no P01/P06/P74 episode"  # moved after the reference date
        # The result is on the caller's connection: it joins the caller's own tables there.
        joined = result.join(con.table("patients"), "patient_id").aggregate("count(*)")
        assert joined.fetchall() == [(3,)]
    finally:
        con.close()


def test_patients_as_a_pandas_frame_next_to_a_relation() -> None:
    con = duckdb.connect()
    try:
        # A query over an Arrow table, not a bare relation: its rows are checked.
        relation = con.from_arrow(DISPENSINGS.to_arrow()).filter("true")
        _, got = _selected(relation, patients=PATIENTS.to_pandas())
        _assert_same(got, _polars_route(DISPENSINGS, patients=PATIENTS))
        assert {r["patient_id"]: r["gp_source"] for r in got} == {"p5": "listed"}
    finally:
        con.close()


def test_a_relation_of_a_parquet_file_and_a_query_over_it(tmp_path: Path) -> None:
    """A bare ``read_parquet`` (its checks proven from the footers) and a query over the same
    file (checked over its rows) select the same as the file's path."""
    path = tmp_path / "dispensings.parquet"
    DISPENSINGS.write_parquet(path)
    want = _records(br.select_chronic_users(str(path), REFERENCE).collect().to_arrow())
    con = duckdb.connect()
    try:
        _, bare = _selected(con.read_parquet(str(path)))
        _, query = _selected(con.sql(f"SELECT * FROM read_parquet('{path}') WHERE true"))
    finally:
        con.close()
    _assert_same(bare, want)
    _assert_same(query, want)


def test_an_empty_window_gives_an_empty_relation_of_the_same_columns_and_types() -> None:
    con = duckdb.connect()
    try:
        relation = con.from_arrow(DISPENSINGS.to_arrow())
        early = dt.date(2020, 1, 1)
        auto = br.select_chronic_users(relation, early, include_excluded=True)
        native = br.select_chronic_users(relation, early, include_excluded=True, engine="native")
        assert auto.fetchall() == []
        assert auto.columns == native.columns
        assert [str(t) for t in auto.types] == [str(t) for t in native.types]
    finally:
        con.close()


def test_the_per_patient_passes_run_on_polars_and_the_result_is_computed_at_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default route hands the window's rows to polars once per call (one run of the
    caller's relation: the rows of the drugs concerned with their values and co-medication
    flags), so the relation returned no longer reads the caller's table: it holds the result.
    ``engine="native"`` stays deferred."""
    handed: list[int] = []
    to_polars = engine_module.Execution.to_polars

    def counting(frame: Any) -> Any:
        handed.append(1)
        return to_polars(frame)

    monkeypatch.setattr(engine_module.Execution, "to_polars", staticmethod(counting))
    con = duckdb.connect()
    try:
        con.register("d_arrow", DISPENSINGS.to_arrow())
        con.execute("CREATE TABLE dispensings AS SELECT * FROM d_arrow")
        auto = br.select_chronic_users(con.table("dispensings"), REFERENCE)
        assert len(handed) == 1
        native = br.select_chronic_users(con.table("dispensings"), REFERENCE, engine="native")
        assert len(handed) == 1
        want = _records(auto.to_arrow_table())
        con.execute("DELETE FROM dispensings")
        assert _records(auto.to_arrow_table()) == want  # computed at the call
        assert native.fetchall() == []  # computed when it runs: the table is empty now
    finally:
        con.close()


def test_unknown_codes_are_reported_from_a_relation() -> None:
    frame = pl.concat(
        [
            DISPENSINGS,
            DISPENSINGS.head(1).with_columns(pl.lit("N05BA99").alias("atc")),
        ]
    )
    con = duckdb.connect()
    try:
        with pytest.warns(br.UnknownCodesWarning, match=r"N05BA99: 1 row"):
            _, got = _selected(con.from_arrow(frame.to_arrow()))
    finally:
        con.close()
    with pytest.warns(br.UnknownCodesWarning):
        want = _polars_route(frame)
    _assert_same(got, want)


def test_integer_identifiers_and_dates_are_read_as_duckdb_reads_them() -> None:
    """Identifiers as integers and dates as DATE: the casts are DuckDB's, as before."""
    con = duckdb.connect()
    try:
        relation = con.sql(
            "SELECT * FROM (VALUES (7, DATE '2025-03-01', 'N05BA01', 100, 12),"
            " (7, DATE '2025-04-01', 'N05BA01', 20, NULL)) AS t(patient_id, date, atc,"
            " quantity, prescriber_id)"
        )
        _, got = _selected(relation)
        _, native = _selected(relation, engine="native")
    finally:
        con.close()
    _assert_same(got, native)
    assert [(r["patient_id"], r["gp_id"], r["units"]) for r in got] == [("7", "12", 120.0)]
