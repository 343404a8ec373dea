"""The usable rows' text columns come out the same whichever way they are taken.

``benzoredux.reading.raw._take`` writes a text column of the usable rows with pyarrow into its
jemalloc pool where pyarrow has one (Linux), and with polars' gather elsewhere (Windows,
macOS): the caller gets the same values, the same pandas dtype and the same Arrow type.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import benzoredux.reading.raw as raw
from benzoredux.reading import read_source

EXPORT = (
    "patient_id;date;atc;quantity;form;prescriber_id\n"
    "P1;01-02-2025;N05BA04;30;tablet;\n"
    "P2;02-02-2025;n05ba04; 30 ;;H1\n"
    "P1;01-02-2025;N05BA04;30;tablet;\n"  # an exact duplicate: rejected, a row left out
    "P3;03-02-2025;N05BA04;x;tablet;H2\n"  # not a number: rejected
    "P2;04-02-2025;N05CD08;10;Tablet;H1\n"
)


def _read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = read_source(path, format="delimited", strict=False, today=dt.date(2026, 1, 1))
    return result.tables["dispensings"], result.rejected


@pytest.mark.parametrize("rows", [1, 3])
def test_text_columns_are_the_same_with_pyarrow_and_with_polars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT if rows == 3 else EXPORT.splitlines()[0] + "\n" + EXPORT.splitlines()[1])
    taken, rejected = _read(path)
    monkeypatch.setattr(raw, "_text_pool", lambda: None)  # polars' gather, as without jemalloc
    gathered, rejected_again = _read(path)
    pd.testing.assert_frame_equal(taken, gathered)
    pd.testing.assert_frame_equal(rejected, rejected_again)
    for name in ("patient_id", "atc", "form", "prescriber_id"):
        assert taken[name].dtype == pd.StringDtype()
        assert taken[name].array._pa_array.type == gathered[name].array._pa_array.type
    if rows == 3:
        assert taken["patient_id"].tolist() == ["P1", "P2", "P2"]
        assert taken["atc"].tolist() == ["N05BA04", "N05BA04", "N05CD08"]
        assert taken["form"].tolist() == ["tablet", pd.NA, "Tablet"]
        assert taken["prescriber_id"].tolist() == [pd.NA, "H1", "H1"]
