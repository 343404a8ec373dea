"""The generic reader: canonical files, mapping files, ambiguous dates, Excel workbooks."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

from benzoredux.reading import ReadError, read_source
from benzoredux.selection import select_chronic_users

from .roundtrip import same_table


def test_a_file_whose_dates_are_all_ambiguous_is_read_day_first(examples: Path) -> None:
    result = read_source(
        examples / "generic-ambiguous-dates.csv", mapping=examples / "generic-mapping.toml"
    )
    assert result.format == "delimited"
    dispensings = result.dispensings
    assert dispensings is not None
    assert [d.date() for d in dispensings["date"]] == [
        dt.date(2025, 2, 1),
        dt.date(2025, 3, 2),
        dt.date(2025, 4, 3),
        dt.date(2025, 5, 4),
        dt.date(2025, 6, 5),
        dt.date(2025, 11, 12),
    ]
    assert dispensings["quantity"].tolist()[3] == 2.5
    # Month-first, G1's four dispensings (92.5 units) would fall 2024-01-02 .. 2024-04-05
    # and G1 would not be chronic on 2025-01-31; day-first, none is in that window.
    chosen = select_chronic_users(dispensings, dt.date(2025, 12, 31))
    assert chosen["patient_id"].tolist() == ["G1"]


def test_canonical_csv_is_read_without_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "dispensings.csv"
    path.write_text("patient_id,date,atc,quantity,strength_mg\np1,2025-03-01,N05BA04,60,2.5\n")
    result = read_source(path)
    assert result.format == "delimited"
    assert result.dispensings is not None
    assert result.dispensings["strength_mg"].tolist() == [2.5]  # ',' file: decimal point


def test_a_file_of_unknown_table_says_what_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a;b\n1;2\n")
    with pytest.raises(ReadError, match="cannot tell which table this file holds"):
        read_source(path, format="delimited")


def test_values_map_of_the_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("nr;geslacht\n1;vrouwtje\n2;V\n")
    mapping = {
        "table": "patients",
        "columns": {"nr": "patient_id", "geslacht": "sex"},
        "values": {"sex": {"vrouwtje": "F"}},
    }
    patients = read_source(path, mapping=mapping).patients
    assert patients is not None
    assert patients["sex"].tolist() == ["F", "F"]


def test_excel_round_trip_with_date_and_number_cells(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(["Rapport afleveringen"])  # a title row above the header
    sheet.append(["Pat", "Datum", "Code", "Stuks", "Sterkte"])
    sheet.append(["0042", dt.datetime(2025, 2, 1), "N05BA04", 30, 7.5])
    sheet.append([43, "03-02-2025", "N05BA04", "2,5", None])  # text cells, Dutch notation
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    mapping = {
        "table": "dispensings",
        "file": {"sheet": "Export", "header_line": 2},
        "columns": {
            "Pat": "patient_id",
            "Datum": "date",
            "Code": "atc",
            "Stuks": "quantity",
            "Sterkte": "strength_mg",
        },
    }
    result = read_source(path, mapping=mapping)
    expected = pd.DataFrame(
        {
            "patient_id": ["0042", "43"],
            "date": pd.to_datetime(["2025-02-01", "2025-02-03"]),
            "atc": ["N05BA04", "N05BA04"],
            "quantity": [30.0, 2.5],
            "strength_mg": [7.5, None],
        }
    )
    same_table(result.tables["dispensings"], expected)
    assert result.rejected.empty


def test_excel_needs_the_sheet_that_is_named(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.append(["patient_id"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    with pytest.raises(ReadError, match="no sheet 'Blad9'; sheets: Sheet"):
        read_source(path, mapping={"table": "patients", "file": {"sheet": "Blad9"}})


def test_openpyxl_is_not_imported_for_csv(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "d.csv"
    path.write_text("patient_id;date;atc;quantity\np1;01-02-2025;N05BA04;30\n")
    code = (
        "import sys; from benzoredux.reading import read_source; "
        f"read_source({str(path)!r}); print('openpyxl' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
