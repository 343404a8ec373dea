"""The SFK reader: title lines, the two lists, one dispensings row per patient and substance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from benzoredux.reading import ReadError, read_source
from benzoredux.selection import select_chronic_users
from benzoredux_adapters.sfk import LAYOUT

from .roundtrip import same_table, write_export


def test_the_example_lists_are_read(examples: Path) -> None:
    result = read_source(examples / "sfk-lists.csv")
    assert result.format == "sfk"
    assert "sfk-lists.csv: 2 line(s) before the header skipped" in result.notes
    dispensings = result.dispensings
    assert dispensings is not None
    assert dispensings["sfk_list"].tolist() == ["long_term"] * 3 + ["new"] * 2
    # Long-term rows are dated on the last dispensing, new users on the first.
    assert dispensings["date"].tolist()[0] == pd.Timestamp("2025-12-10")
    assert dispensings["prescriber_id"].tolist() == ["01012345"] * 2 + ["01054321"] * 3
    patients = result.patients
    assert patients is not None
    assert patients["gp_id"].tolist() == ["01012345"] * 2 + ["01054321"] * 3


def test_selection_at_the_period_end_gives_back_the_lists(examples: Path) -> None:
    result = read_source(examples / "sfk-lists.csv")
    end = dt.date(2025, 12, 31)
    chronic = select_chronic_users(result.dispensings, end, patients=result.patients)
    assert sorted(chronic["patient_id"]) == ["S3001", "S3002", "S3005"]
    dispensings = result.dispensings
    assert dispensings is not None
    new = dispensings.loc[dispensings["sfk_list"] == "new", "patient_id"]
    assert sorted(new) == ["S3003", "S3004"]


def test_an_unknown_list_name_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sfk.csv"
    path.write_text(
        "AGB huisarts;Lijst;Patientnummer;ATC;Eerste aflevering;Laatste aflevering;"
        "Aantal eenheden\n"
        "01012345;Langdurig gebruik;1;N05BA04;01-01-2025;01-12-2025;120\n"
        "01012345;Incidenteel;2;N05BA04;01-01-2025;01-12-2025;120\n"
    )
    with pytest.raises(
        ReadError, match=r"sfk\.csv, line 3: column 'Lijst' \(sfk_list\): not a list this reader"
    ) as caught:
        read_source(path)
    assert "Incidenteel" not in str(caught.value)  # the value may be a name in the wrong column


def test_missing_list_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "sfk.csv"
    path.write_text(
        "AGB huisarts;Lijst;Patientnummer;ATC;Aantal eenheden\n1;Nieuw gebruik;2;N05BA04;5\n"
    )
    with pytest.raises(
        ReadError, match="missing column\\(s\\) 'Eerste aflevering', 'Laatste aflevering'"
    ):
        read_source(path, format="sfk")


def test_round_trip(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "gp_id": ["01012345", "01054321"],
            "sfk_list": ["Langdurige gebruikers", "Nieuwe gebruikers"],
            "patient_id": ["7", "8"],
            "atc": ["N05BA01", "N05CF02"],
            "first_dispensing": pd.to_datetime(["2025-01-03", "2025-11-30"]),
            "last_dispensing": pd.to_datetime(["2025-12-30", "2025-11-30"]),
            "quantity": [365.0, 7.0],
        }
    )
    names = {c: LAYOUT[c][0] for c in rows.columns}
    path = write_export(rows, names, tmp_path / "lijst.csv", preamble=["SFK", "Periode: 2025"])
    result = read_source(path)
    expected = pd.DataFrame(
        {
            "patient_id": ["7", "8"],
            "date": pd.to_datetime(["2025-12-30", "2025-11-30"]),
            "atc": ["N05BA01", "N05CF02"],
            "quantity": [365.0, 7.0],
            "prescriber_id": ["01012345", "01054321"],
            "sfk_list": ["long_term", "new"],
        }
    )
    same_table(result.tables["dispensings"], expected)
