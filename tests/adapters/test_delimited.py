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


def test_canonical_csv_with_a_trailing_separator(tmp_path: Path) -> None:
    """Issue 16: a canonical CSV with a trailing separator failed with "can only concatenate
    str (not "int") to str"; it is read as if the separator were not there."""
    from benzoredux.reading import read_canonical
    from benzoredux.tables import DISPENSINGS

    path = tmp_path / "dispensings.csv"
    path.write_text(
        "patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60,\np2,2025-04-01,N05BA04,30,\n"
    )
    frame = read_canonical(path, DISPENSINGS)
    assert list(frame.columns) == ["patient_id", "date", "atc", "quantity"]
    assert frame["patient_id"].tolist() == ["p1", "p2"]
    assert frame["quantity"].tolist() == [60, 30]
    result = read_source(path)
    assert result.dispensings is not None
    assert result.dispensings["patient_id"].tolist() == ["p1", "p2"]
    # On the header too: the empty unnamed column is dropped.
    path.write_text("patient_id,date,atc,quantity,\np1,2025-03-01,N05BA04,60,\n")
    assert list(read_canonical(path, DISPENSINGS).columns) == [
        "patient_id",
        "date",
        "atc",
        "quantity",
    ]


def test_an_episodes_file_with_a_trailing_separator_keeps_its_columns(tmp_path: Path) -> None:
    """Issue 16: the trailing separator shifted the columns, so a date landed in icpc."""
    from benzoredux.reading import read_canonical
    from benzoredux.tables import EPISODES

    path = tmp_path / "episodes.csv"
    path.write_text(
        "patient_id,icpc,start,end\np1,P06,2020-01-01,,\np2,P74,2021-05-01,2022-01-01,\n"
    )
    frame = read_canonical(path, EPISODES)
    assert frame["patient_id"].tolist() == ["p1", "p2"]
    assert frame["icpc"].tolist() == ["P06", "P74"]
    assert frame["start"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2021-05-01")]
    episodes = read_source(path).episodes
    assert episodes is not None
    assert episodes["icpc"].tolist() == ["P06", "P74"]


def test_a_canonical_csv_line_with_an_extra_value_is_an_error_naming_the_line(
    tmp_path: Path,
) -> None:
    from benzoredux.reading import FileFormatError, read_canonical
    from benzoredux.tables import EPISODES

    path = tmp_path / "episodes.csv"
    path.write_text("patient_id,icpc,start\np1,P06,2020-01-01\np2,P74,2021-05-01,P01\n")
    with pytest.raises(FileFormatError, match=r"episodes\.csv, line 3: the line has 4 fields"):
        read_canonical(path, EPISODES)


def test_a_mapping_without_table_does_not_read_episodes_as_patients(tmp_path: Path) -> None:
    """Issue 16: a mapping file without ``table =`` read an episodes file as patients and
    dropped its mapped date columns without a note. Its columns say episodes: it is read as
    episodes, and the ICPC column the mapping forgot is named."""
    path = tmp_path / "episodes.csv"
    path.write_text("Pat;Code;Begin;Eind\np1;P06;01-01-2020;\n")
    mapping = {"columns": {"Pat": "patient_id", "Begin": "start", "Eind": "end"}}
    with pytest.raises(ReadError, match=r"episodes.csv \(episodes\): missing required.*'icpc'"):
        read_source(path, mapping=mapping)
    mapping["columns"]["Code"] = "icpc"
    episodes = read_source(path, mapping=mapping).episodes
    assert episodes is not None
    assert episodes["start"].tolist() == [pd.Timestamp("2020-01-01")]


def test_columns_of_two_tables_need_the_table_named(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("Pat;Begin;Geb\np1;01-01-2020;01-01-1950\n")
    mapping = {"columns": {"Pat": "patient_id", "Begin": "start", "Geb": "birth_date"}}
    with pytest.raises(
        ReadError,
        match=r"its columns belong to more than one \(episodes: start; patients: birth_date\)",
    ):
        read_source(path, mapping=mapping)


def test_a_mapped_column_of_another_table_is_noted_not_dropped_silently(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Pat;Geb;Begin\np1;01-01-1950;01-01-2020\n")
    mapping = {
        "table": "patients",
        "columns": {"Pat": "patient_id", "Geb": "birth_date", "Begin": "start"},
    }
    result = read_source(path, mapping=mapping)
    assert list(result.tables) == ["patients"]
    assert result.notes == ("p.csv: column(s) not used: Begin",)


def test_a_title_line_above_a_canonical_header(tmp_path: Path) -> None:
    """The separator and the header are found under a title line with commas in it."""
    path = tmp_path / "d.csv"
    path.write_text(
        "Export, De Linde, 2025\npatient_id;date;atc;quantity\np1;01-02-2025;N05BA04;2,5\n"
    )
    result = read_source(path)
    assert result.dispensings is not None
    assert result.dispensings["quantity"].tolist() == [2.5]
    assert result.notes == ("d.csv: 1 line(s) before the header skipped",)


def test_blank_rows_are_counted_in_the_result(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("patient_id;date;atc;quantity\np1;01-02-2025;N05BA04;30\n;;;\n\n")
    result = read_source(path)
    assert result.counts["dispensings"].rows_read == 1
    assert result.ignored == {"blank rows": 2}
    assert result.notes == ("d.csv: 2 blank row(s) skipped (lines 3, 4)",)


def test_true_false_columns_are_read_not_a_crash(tmp_path: Path) -> None:
    """The screening columns of a patients file (``palliative``, ...) are true/false: they
    raised a raw ColumnTypeError, found by the reader fuzzer."""
    path = tmp_path / "p.csv"
    path.write_text("patient_id;palliative;immobile\np1;ja;0\np2;nee;TRUE\np3;misschien;\n")
    result = read_source(path, strict=False)
    assert result.patients is not None
    assert result.patients["palliative"].tolist() == [True, False]
    assert result.patients["immobile"].tolist() == [False, True]
    assert result.rejected["reason"].tolist() == [
        "not true or false (also written 1/0, ja/nee or J/N)"
    ]


def test_a_workbook_declaring_the_whole_sheet_is_read_fast(tmp_path: Path) -> None:
    """Issue 16: one cell at XFD1048576 (a 5 KB file) kept the reader busy for minutes."""
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "date", "atc", "quantity"])
    sheet.append(["p1", dt.datetime(2025, 2, 1), "N05BA04", 30])
    sheet["XFD1048576"] = "x"
    path = tmp_path / "far.xlsx"
    workbook.save(path)
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert result.dispensings["patient_id"].tolist() == ["p1"]
    assert result.rejected["line"].tolist() == [1048576]
    assert result.ignored == {"blank rows": 1048576 - 3}
