"""Output files with patient data: owner-only, atomic, formula-safe."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from benzoredux.output import neutralise_formulas, private_file, write_csv


def test_csv_is_private_and_neutralises_formulas_but_not_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+31 6", "-x", "@SUM(A1)", "\tTab", "Jansen"],
            "quantity": [-30.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    path = write_csv(frame, tmp_path / "out" / "list.csv")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+31 6",
        "'-x",
        "'@SUM(A1)",
        "'\tTab",
        "Jansen",
    ]
    assert rows[0]["quantity"] == "-30.0"


def test_neutralise_keeps_the_frame_kind() -> None:
    out = neutralise_formulas(pl.DataFrame({"a": ["=1", None, "ok"]}))
    assert isinstance(out, pl.DataFrame)
    assert out["a"].to_list() == ["'=1", None, "ok"]


def test_interrupted_write_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "letters.csv"

    def interrupted() -> None:
        with private_file(target) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    target.write_text("old")
    with private_file(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
