"""``benzoredux select`` on a canonical Parquet file: the selection scans the file itself
(issue 19) instead of the file being read into pandas first. Everything the command gives must
be what the previous route gave (forced here by turning the new route off): the messages and
the exit code, the CSV files byte for byte, the spreadsheets as read back, the register's
snapshot; a file with unusable rows refused with the same message, and ``--skip-invalid``
unchanged."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from tests.unit.test_xlsx_streamed import read_back

import benzoredux.programme as programme_module
from benzoredux.cli import main

GENERATE = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
FILES = (
    "chronic_users.csv",
    "chronic_users_per_gp.csv",
    "new_users.csv",
    "unknown_atc_codes.csv",
    "rejected.csv",
)


def _generated(rows: int, shape: str) -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules.get("bench_generate")
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_generate"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    frame: pd.DataFrame = module.generate(rows, seed=19, shape=shape)
    return frame


def _write(frame: pd.DataFrame, path: Path, *, dates_as_dates: bool = False) -> Path:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if dates_as_dates:  # a file whose dates are Parquet dates, not timestamps
        index = table.schema.get_field_index("date")
        table = table.set_column(index, "date", table.column("date").cast(pa.date32()))
    pq.write_table(table, path)
    return path


def _run(
    source: Path,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    previous: bool,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The command's whole outcome, with the output folder's name taken out of the text."""
    with monkeypatch.context() as patch:
        if previous:
            patch.setattr(programme_module, "_parquet_route", lambda value: None)
        result = CliRunner().invoke(
            main,
            ["select", str(source), "--reference-date", "2025-12-31", "--out", str(out), *extra],
        )
    files = {name: (out / name).read_bytes() for name in FILES if (out / name).exists()}
    sheets = {
        name: read_back(out / name)
        for name in ("chronic_users.xlsx", "new_users.xlsx")
        if (out / name).exists()
    }
    snapshot = None
    if (out / "programme.sqlite").exists():
        with sqlite3.connect(out / "programme.sqlite") as connection:
            snapshot = connection.execute(
                "SELECT snapshot_id, patient_id, gp_id, data FROM selection_rows ORDER BY entry_id"
            ).fetchall()
    return {
        "exit": result.exit_code,
        "stdout": result.stdout.replace(str(out), "OUT"),
        "stderr": result.stderr.replace(str(out), "OUT"),
        "files": files,
        "sheets": sheets,
        "snapshot": snapshot,
    }


def _both(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> Any:
    new = _run(source, tmp_path / "new", monkeypatch, previous=False, extra=extra)
    old = _run(source, tmp_path / "old", monkeypatch, previous=True, extra=extra)
    return new, old


@pytest.mark.parametrize(
    ("shape", "dates_as_dates"), [("sparse", False), ("dense", False), ("sparse", True)]
)
def test_the_same_outputs_as_the_previous_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, dates_as_dates: bool
) -> None:
    frame = _generated(30_000, shape)
    # A code the library does not know, in the window: the warning and the list of rows.
    extra = frame.iloc[:2].copy()
    extra["atc"] = "N05BA99"
    extra["date"] = pd.Timestamp("2025-06-01")
    source = _write(
        pd.concat([frame, extra], ignore_index=True),
        tmp_path / "d.parquet",
        dates_as_dates=dates_as_dates,
    )
    read: list[str] = []
    original = programme_module._canonical

    def counted(value: Any, schema: Any) -> Any:
        read.append(schema.name)
        return original(value, schema)

    monkeypatch.setattr(programme_module, "_canonical", counted)
    new, old = _both(source, tmp_path, monkeypatch)
    assert read == ["dispensings"]  # read by the previous route only
    assert new["exit"] == old["exit"] == 0
    assert "N05BA99" in new["stderr"]
    assert len(new["files"]["unknown_atc_codes.csv"]) > 100
    assert new == old


def test_unusable_rows_are_refused_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _generated(5_000, "sparse")
    frame.loc[3, "quantity"] = -5.0  # a dispensing of negative units (not a return row)
    frame.loc[7, "patient_id"] = None
    frame.loc[8, "date"] = pd.NaT
    frame.loc[11, "quantity"] = 1e9  # implausible
    source = _write(frame, tmp_path / "bad.parquet")
    new, old = _both(source, tmp_path, monkeypatch)
    assert new["exit"] == old["exit"] != 0
    assert new["stderr"] == old["stderr"]
    assert new["stderr"]
    assert new == old
    # --skip-invalid: rejected.csv and the lists exactly as before.
    new, old = _both(source, tmp_path / "skip", monkeypatch, "--skip-invalid")
    assert new["exit"] == old["exit"] == 0
    assert new["files"]["rejected.csv"].count(b"\n") > 2
    assert new == old


def test_an_unreadable_file_is_refused_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "broken.parquet"
    source.write_bytes(b"PAR1 not really a Parquet file PAR1")
    new, old = _both(source, tmp_path, monkeypatch)
    assert new["exit"] == old["exit"] != 0
    assert new == old


def test_the_dispensings_are_still_there_for_a_caller(tmp_path: Path) -> None:
    """:attr:`Programme.inputs` still gives the dispensings read from the file, when asked."""
    from benzoredux import Programme

    frame = _generated(3_000, "sparse")
    source = _write(frame, tmp_path / "d.parquet")
    programme = Programme.create(tmp_path / "p.sqlite", reference_date=dt.date(2025, 12, 31))
    result = programme.select(source, dt.date(2025, 12, 31))
    assert isinstance(result.table, pd.DataFrame)
    read = programme.inputs["dispensings"]
    assert isinstance(read, pd.DataFrame)
    assert len(read) == len(frame)
    assert programme.inputs.get("patients") is None
