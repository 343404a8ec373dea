"""Property: the selection gives the pandas answer on lazy and out-of-core inputs.

Rules under test: ``benzoredux.engine`` (a Parquet path, file, directory or glob, is scanned
lazily with polars and comes back as a polars ``LazyFrame``; auxiliary tables join a DuckDB
relation on the relation's own connection) and the "lazy in, lazy out" promise of
``select_chronic_users`` and ``select_new_users``. Every input kind gets the same synthetic
practice; the results must equal the pandas result row for row.
"""

from __future__ import annotations

import datetime as dt
import math
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
from benzoredux.demo import DemoPractice, demo_practice
from benzoredux.engine import open_lazy_source

OPTIONS: list[dict[str, Any]] = [
    {},
    {"gp_route": True, "include_excluded": True},
    {"definition": "nhg", "include_excluded": True},
]
DATE_KINDS = ("date32", "timestamp")


@pytest.fixture(scope="module")
def practice() -> DemoPractice:
    return demo_practice(seed=8, gps=1, patients_per_gp=500)


def _arrow(frame: pd.DataFrame, dates: str) -> pa.Table:
    """``frame`` as Arrow, its date columns stored as ``date32`` or as ``timestamp[us]``."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            kind = pa.date32() if dates == "date32" else pa.timestamp("us")
            table = table.set_column(i, field.name, table.column(i).cast(kind))
    return table


@pytest.fixture(scope="module")
def parquet(practice: DemoPractice, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each table written as one file and as several (split by rows), per way to store dates."""
    root = tmp_path_factory.mktemp("parquet")
    paths: dict[str, Path] = {}
    for dates in DATE_KINDS:
        for name in ("dispensings", "patients", "episodes"):
            table = _arrow(getattr(practice, name), dates)
            single = root / f"{name}-{dates}.parquet"
            pq.write_table(table, single)
            paths[f"{name}-{dates}"] = single
            parts = root / f"{name}-{dates}-parts"
            parts.mkdir()
            step = math.ceil(table.num_rows / 3)
            for k in range(3):
                pq.write_table(table.slice(k * step, step), parts / f"part-{k}.parquet")
            paths[f"{name}-{dates}-parts"] = parts
    return paths


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        assert value.time() == dt.time(0), value
        return value.date()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(result: Any) -> list[dict[str, Any]]:
    """A result of any kind as sorted plain rows (dates as dates, NaN as missing)."""
    if isinstance(result, duckdb.DuckDBPyRelation):
        table = result.to_arrow_table()
    elif isinstance(result, pl.LazyFrame):
        table = result.collect().to_arrow()
    else:
        table = nw.from_native(result, eager_only=True).to_arrow()
    rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]
    return sorted(rows, key=lambda row: str(row["patient_id"]))


def _assert_same(result: Any, expected: Any) -> None:
    got, want = _rows(result), _rows(expected)
    assert len(got) == len(want)
    assert got, "the synthetic practice must give a non-empty selection"
    for row, reference in zip(got, want, strict=True):
        assert list(row) == list(reference)
        for name, value in reference.items():
            if isinstance(value, float) and row[name] is not None:
                assert row[name] == pytest.approx(value, rel=1e-9), (row["patient_id"], name)
            else:
                assert row[name] == value, (row["patient_id"], name)


Select = Callable[..., Any]


def _chronic(practice: DemoPractice, options: dict[str, Any]) -> Select:
    def select(dispensings: Any, patients: Any = None, episodes: Any = None) -> Any:
        return benzoredux.select_chronic_users(
            dispensings,
            practice.reference_date,
            patients=practice.patients if patients is None else patients,
            episodes=practice.episodes if episodes is None else episodes,
            **options,
        )

    return select


@pytest.mark.parametrize("dates", DATE_KINDS)
@pytest.mark.parametrize("options", OPTIONS, ids=["default", "gp_route", "nhg"])
def test_parquet_paths_give_the_pandas_answer(
    practice: DemoPractice, parquet: dict[str, Path], dates: str, options: dict[str, Any]
) -> None:
    select = _chronic(practice, options)
    expected = select(practice.dispensings)
    single, parts = parquet[f"dispensings-{dates}"], parquet[f"dispensings-{dates}-parts"]
    for source in (single, str(single), str(parts / "*.parquet"), parts):
        result = select(source)
        assert isinstance(result, pl.LazyFrame), source
        _assert_same(result, expected)
    # The auxiliary tables as paths too (a directory and a glob).
    result = select(
        str(parts / "part-*.parquet"),
        patients=parquet[f"patients-{dates}-parts"],
        episodes=str(parquet[f"episodes-{dates}"]),
    )
    _assert_same(result, expected)


@pytest.mark.parametrize(
    ("options", "dates"),
    [(OPTIONS[1], "date32"), (OPTIONS[2], "timestamp")],  # DuckDB calls are the slow ones
    ids=["gp_route-date32", "nhg-timestamp"],
)
def test_duckdb_relation_on_own_connection_gives_the_pandas_answer(
    practice: DemoPractice, parquet: dict[str, Path], dates: str, options: dict[str, Any]
) -> None:
    select = _chronic(practice, options)
    expected = select(practice.dispensings)
    con = duckdb.connect()
    try:
        relations = [
            con.from_arrow(_arrow(practice.dispensings, dates)),
            con.read_parquet(str(parquet[f"dispensings-{dates}-parts"] / "*.parquet")),
        ]
        for relation in relations:
            # Patients and episodes as pandas frames: moved onto the relation's connection.
            result = select(relation)
            assert isinstance(result, duckdb.DuckDBPyRelation)
            _assert_same(result, expected)
        # ... as relations of the same connection, and as Parquet paths.
        same_connection = select(
            relations[0],
            patients=con.from_arrow(_arrow(practice.patients, dates)),
            episodes=con.from_arrow(_arrow(practice.episodes, dates)),
        )
        _assert_same(same_connection, expected)
        from_paths = select(
            relations[1],
            patients=parquet[f"patients-{dates}"],
            episodes=parquet[f"episodes-{dates}-parts"],
        )
        _assert_same(from_paths, expected)
    finally:
        con.close()


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "gp_route", "nhg"])
def test_polars_lazy_frame_gives_the_pandas_answer(
    practice: DemoPractice, options: dict[str, Any]
) -> None:
    select = _chronic(practice, options)
    expected = select(practice.dispensings)
    for dates in DATE_KINDS:
        lazy = pl.from_arrow(_arrow(practice.dispensings, dates))
        assert isinstance(lazy, pl.DataFrame)
        result = select(lazy.lazy(), patients=pl.from_pandas(practice.patients).lazy())
        assert isinstance(result, pl.LazyFrame)
        _assert_same(result, expected)


@pytest.mark.parametrize("dates", DATE_KINDS)
def test_new_users_from_parquet_and_duckdb(
    practice: DemoPractice, parquet: dict[str, Path], dates: str
) -> None:
    def select(dispensings: Any, patients: Any) -> Any:
        return benzoredux.select_new_users(
            dispensings, practice.reference_date, patients=patients, lookback_months=6
        )

    expected = select(practice.dispensings, practice.patients)
    glob = str(parquet[f"dispensings-{dates}-parts"] / "*.parquet")
    result = select(glob, parquet[f"patients-{dates}"])
    assert isinstance(result, pl.LazyFrame)
    _assert_same(result, expected)
    con = duckdb.connect()
    try:
        _assert_same(select(con.read_parquet(glob), practice.patients), expected)
    finally:
        con.close()


def test_missing_path_is_named(tmp_path: Path, practice: DemoPractice) -> None:
    missing = tmp_path / "nowhere.parquet"
    with pytest.raises(FileNotFoundError, match=r"dispensings: no such file.*nowhere\.parquet"):
        benzoredux.select_chronic_users(missing, practice.reference_date)
    with pytest.raises(FileNotFoundError, match=r"dispensings: no file matches .*\*\.parquet"):
        benzoredux.select_chronic_users(str(tmp_path / "*.parquet"), practice.reference_date)
    with pytest.raises(FileNotFoundError, match=r"no \.parquet file in directory"):
        benzoredux.select_chronic_users(tmp_path, practice.reference_date)


def test_non_parquet_file_is_named(
    tmp_path: Path, practice: DemoPractice, parquet: dict[str, Path]
) -> None:
    csv = tmp_path / "dispensings.csv"
    practice.dispensings.to_csv(csv, index=False)
    with pytest.raises(ValueError, match=r"dispensings: '.*dispensings\.csv' is not a Parquet"):
        benzoredux.select_chronic_users(csv, practice.reference_date)
    with pytest.raises(ValueError, match=r"patients: '.*dispensings\.csv' is not a Parquet"):
        benzoredux.select_chronic_users(
            parquet["dispensings-date32"], practice.reference_date, patients=csv
        )
    # One bad file in a glob is named, not skipped.
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"'.*bad\.parquet' is not a Parquet file"):
        open_lazy_source(str(tmp_path / "*.parquet"), "dispensings")


def test_invalid_rows_in_parquet_are_reported(tmp_path: Path, practice: DemoPractice) -> None:
    bad = practice.dispensings.head(20).copy()
    bad.loc[bad.index[3], "atc"] = "not-an-atc"
    path = tmp_path / "bad-rows.parquet"
    pq.write_table(_arrow(bad, "date32"), path)
    # A lazy scan has no row numbers to give; the table, column and value are named.
    with pytest.raises(
        benzoredux.InvalidRowsError, match=r"(?s)dispensings: 1 of 20 rows.*atc=<hidden: a word>"
    ):
        benzoredux.select_chronic_users(path, practice.reference_date)
