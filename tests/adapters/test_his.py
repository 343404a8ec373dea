"""The HIS reader: a folder of three files, Windows-1252 names, status with date, round trip."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from benzoredux.reading import ReadError, detect_format, read_source
from benzoredux.selection import select_chronic_users
from benzoredux_adapters.his import EPISODES_LAYOUT, PATIENTS_LAYOUT, PRESCRIPTIONS_LAYOUT

from .roundtrip import same_table, write_export


def test_the_example_folder_gives_all_three_tables(examples: Path) -> None:
    source = examples / "his"
    assert detect_format(source) == "his"
    result = read_source(source)
    assert {n: c.rows_valid for n, c in result.counts.items()} == {
        "dispensings": 8,
        "patients": 4,
        "episodes": 4,
    }
    assert result.dispensings is not None
    assert result.dispensings["channel"].value_counts().to_dict() == {
        "repeat_prescription": 5,
        "consult": 2,
        "telephone_consult": 1,
    }


def test_windows_1252_register_with_accented_names(examples: Path) -> None:
    raw = (examples / "his" / "patienten.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the example really is Windows-1252
    patients = read_source(examples / "his").patients
    assert patients is not None
    assert patients["family_name"].tolist() == ["Müller", "Lefèvre", "Hof", "Peña"]
    assert patients["first_name"].tolist() == ["Anne-Marie", "Gaëlle", "Hélène", "José"]
    assert patients["name_prefix"].tolist()[2] == "van ’t"  # noqa: RUF001 - a curly quote is valid Windows-1252
    assert patients["street"].tolist()[3] == "Çelikstraat"


def test_register_status_postcode_and_bsn_are_normalised(examples: Path) -> None:
    patients = read_source(examples / "his").patients
    assert patients is not None
    assert patients["status"].tolist() == ["active", "active", "deceased", "moved"]
    assert patients["status_date"].tolist()[2:] == [
        pd.Timestamp("2025-03-04"),
        pd.Timestamp("2025-10-01"),
    ]
    assert patients["postcode"].tolist()[0] == "2601 DC"  # written 2601dc
    assert patients["bsn"].tolist()[3] == "012345672"  # written with 8 digits
    assert patients["gp_id"].tolist() == ["HA01", "HA01", "HA02", "HA02"]


def test_selection_through_the_gp_route_on_the_example(examples: Path) -> None:
    result = read_source(examples / "his")
    chosen = select_chronic_users(
        result.dispensings,
        dt.date(2025, 12, 31),
        patients=result.patients,
        episodes=result.episodes,
        gp_route=True,
    )
    # H2001: 4 x 30 with a P06 episode. H2003 had 120 but died; H2004 moved away.
    assert chosen["patient_id"].tolist() == ["H2001"]


def test_a_single_file_of_the_export_can_be_read(examples: Path) -> None:
    result = read_source(examples / "his" / "episodes.csv")
    assert result.format == "his"
    assert set(result.tables) == {"episodes"}


def test_a_status_other_than_active_needs_its_date(tmp_path: Path) -> None:
    path = tmp_path / "patienten.csv"
    path.write_text(
        "Patientnummer;Huisarts;Geboortedatum;Geslacht;Inschrijfstatus;Datum status\n"
        "1;HA01;01-01-1950;V;Overleden;\n2;HA01;01-01-1950;Q;Ingeschreven;\n"
        "3;HA01;01-01-1950;M;Gepensioneerd;\n"
    )
    with pytest.raises(ReadError) as caught:
        read_source(path)
    message = str(caught.value)
    assert (
        "line 2, column 'Datum status' (status_date): status_date is missing for a status"
        in message
    )
    assert "line 3, column 'Geslacht' (sex): sex is not one of M, F, X (value 'Q')" in message
    assert "line 4, column 'Inschrijfstatus' (status): status is not one of" in message


def test_unrecognised_files_in_the_folder_are_noted_not_read(
    tmp_path: Path, examples: Path
) -> None:
    folder = tmp_path / "his"
    shutil.copytree(examples / "his", folder)
    (folder / "leesmij.txt").write_text("Export van 31-12-2025\n")
    result = read_source(folder, format="his")
    assert "leesmij.txt: not a HIS file this reader knows; not read" in result.notes


def test_round_trip_of_all_three_tables(tmp_path: Path) -> None:
    prescriptions = pd.DataFrame(
        {
            "patient_id": ["1", "2"],
            "date": pd.to_datetime(["2025-01-31", "2025-12-01"]),
            "atc": ["N05BA04", "N05CD07"],
            "quantity": [30.0, 7.5],
            "channel": ["repeat_prescription", "telephone_consult"],
        }
    )
    episodes = pd.DataFrame(
        {
            "patient_id": ["1"],
            "icpc": ["P74.01"],
            "start": pd.to_datetime(["2010-06-01"]),
            "end": pd.to_datetime(["2025-02-01"]),
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": ["1", "2"],
            "gp_id": ["HA01", "HA02"],
            "birth_date": pd.to_datetime(["1931-02-28", "2001-12-12"]),
            "sex": ["F", "M"],
            "family_name": ["Ærts", "Noël"],
            "status": ["active", "changed_gp"],
            "status_date": pd.to_datetime([None, "2025-11-30"]),
        }
    )
    dutch = {"repeat_prescription": "Herhaalrecept", "telephone_consult": "Telefonisch consult"}
    shown = prescriptions.assign(channel=prescriptions["channel"].map(dutch))
    register = patients.assign(
        sex=patients["sex"].map({"F": "V", "M": "M"}),
        status=patients["status"].map({"active": "Ingeschreven", "changed_gp": "Andere huisarts"}),
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for frame, layout, name in (
        (shown, PRESCRIPTIONS_LAYOUT, "recepten.csv"),
        (episodes, EPISODES_LAYOUT, "episodes.csv"),
        (register, PATIENTS_LAYOUT, "patienten.csv"),
    ):
        names = {c: layout[c][0] for c in frame.columns}
        write_export(
            frame,
            names,
            folder / name,
            date_format="%d-%m-%y" if name == "episodes.csv" else "%d-%m-%Y",
        )
    result = read_source(folder)
    assert result.format == "his"
    same_table(result.tables["dispensings"], prescriptions)
    same_table(result.tables["episodes"], episodes)
    same_table(result.tables["patients"], patients)


def _without_columns(source: Path, folder: Path, dropped: set[str]) -> None:
    """The example export with columns of the patient register left out."""
    shutil.copytree(source, folder)
    path = folder / "patienten.csv"
    lines = path.read_bytes().decode("cp1252").splitlines()
    header = lines[0].split(";")
    keep = [i for i, name in enumerate(header) if name not in dropped]
    path.write_bytes(
        "\r\n".join(";".join(line.split(";")[i] for i in keep) for line in lines).encode("cp1252")
    )


def test_a_register_lacking_columns_is_an_error_in_strict_mode(
    tmp_path: Path, examples: Path
) -> None:
    """Issue 16: patienten.csv without three columns was skipped with only a note, even in
    strict mode: its patients were neither accepted nor rejected."""
    folder = tmp_path / "his"
    _without_columns(examples / "his", folder, {"Huisarts", "Geslacht", "Inschrijfstatus"})
    with pytest.raises(ReadError) as caught:
        read_source(folder)
    message = str(caught.value)
    assert "patienten.csv: looks like the HIS patient register but lacks the column(s) " in message
    assert "'Huisarts' (gp_id), 'Geslacht' (sex), 'Inschrijfstatus' (status)" in message
    assert "Müller" not in message
    assert "987825707" not in message


def test_a_register_lacking_columns_is_counted_unread_in_lenient_mode(
    tmp_path: Path, examples: Path
) -> None:
    folder = tmp_path / "his"
    _without_columns(examples / "his", folder, {"Huisarts", "Geslacht", "Inschrijfstatus"})
    result = read_source(folder, strict=False)
    assert result.ignored == {"unread files": 1}
    assert set(result.tables) == {"dispensings", "episodes"}
    assert any(
        note.startswith("patienten.csv: looks like the HIS patient register but lacks")
        and note.endswith("; not read")
        for note in result.notes
    )


def test_a_mapping_file_naming_the_columns_makes_the_register_readable(
    tmp_path: Path, examples: Path
) -> None:
    """The way out the error names: the mapping file's names also recognise the file."""
    folder = tmp_path / "his"
    _without_columns(examples / "his", folder, {"Inschrijfstatus"})
    register = folder / "patienten.csv"
    text = register.read_bytes().decode("cp1252").replace("Huisarts;", "Arts;", 1)
    register.write_bytes(text.encode("cp1252"))
    result = read_source(folder, mapping={"format": "his", "columns": {"Arts": "gp_id"}})
    assert result.patients is not None
    assert result.patients["gp_id"].tolist() == ["HA01", "HA01", "HA02", "HA02"]


def test_blank_rows_are_counted_per_file(tmp_path: Path, examples: Path) -> None:
    folder = tmp_path / "his"
    shutil.copytree(examples / "his", folder)
    episodes = folder / "episodes.csv"
    lines = episodes.read_bytes().decode("utf-8").splitlines()
    episodes.write_text("\n".join([lines[0], ";;;;", *lines[1:3], "", *lines[3:]]) + "\n")
    result = read_source(folder)
    assert result.ignored == {"blank rows": 2}
    assert "episodes.csv: 2 blank row(s) skipped (lines 2, 5)" in result.notes
    assert result.counts["episodes"].rows_read == 4
