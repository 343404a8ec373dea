"""Issue 17, "Reading the export": messages a practice assistant can follow, and BSNs and
postcodes checked as warnings with their line numbers (never their values).

Each case is an ordinary mistake the issue's author made: a mapping file with a column name the
export lacks, an empty file, a slot time written ``9u``, a file with only its header line, one
impossible date in an AIS export, a canonical patients file with a bad BSN or postcode.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
import pytest

from benzoredux.errors import DataCoverageWarning, IdentifierWarning
from benzoredux.reading import ReadError, read_canonical, read_source
from benzoredux.tables import PATIENTS

AIS_HEADER = "Patientnummer;BSN;Achternaam;Geboortedatum;Postcode;Afleverdatum;ATC;Aantal\n"
AIS_ROW = "A1;123456782;Jansen;14-03-1948;2601 DC;06-01-2025;N05BA04;30\n"


def test_a_mapped_column_the_file_lacks_is_named_as_the_mapping_names_it(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Pat;Datum;Code;Stuks\nG1;01-02-2025;N05BA04;30\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'table = "dispensings"\n[columns]\nPat = "patient_id"\nAfleverdatum = "date"\n'
        'Code = "atc"\nStuks = "quantity"\nSterkte = "strength_mg"\n',
        encoding="utf-8",
    )
    with pytest.raises(ReadError) as caught:
        read_source(export, mapping=mapping)
    message = str(caught.value)
    assert (
        "export.csv (dispensings): the mapping file names the column 'Afleverdatum' for date, "
        "but the file has no column 'Afleverdatum'; columns found: 'Pat', 'Datum', 'Code', "
        "'Stuks'" in message
    )
    assert "missing required column" not in message
    assert "Correct the column names in the mapping file" in message


def test_an_optional_mapped_column_the_file_lacks_is_a_note(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Pat;Datum;Code;Stuks\nG1;01-02-2025;N05BA04;30\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'table = "dispensings"\n[columns]\nPat = "patient_id"\nDatum = "date"\n'
        'Code = "atc"\nStuks = "quantity"\nSterkte = "strength_mg"\n',
        encoding="utf-8",
    )
    result = read_source(export, mapping=mapping)
    assert (
        "export.csv: the mapping file names the column 'Sterkte' for strength_mg, but the file "
        "has no column 'Sterkte'; strength_mg is left empty" in result.notes
    )


def test_one_problem_is_one_problem_and_the_date_reason_is_a_sentence(tmp_path: Path) -> None:
    export = tmp_path / "ais.csv"
    export.write_text(AIS_HEADER + AIS_ROW + AIS_ROW.replace("06-01", "31-02"), encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        read_source(export, format="ais")
    message = str(caught.value)
    assert "1 of the 2 rows of dispensings cannot be used (1 problem):" in message
    assert "(1 problems)" not in message
    assert (
        "ais.csv, line 3, column 'Afleverdatum' (date): not a real date written DD-MM-YYYY, "
        "DD-MM-YY or YYYY-MM-DD (value hidden: a date written like 99-99-9999)" in message
    )
    assert "date is not a date" not in message


def test_an_edited_plan_that_is_empty_names_the_file(tmp_path: Path) -> None:
    from benzoredux.evaluation.plan import read_plan

    empty = tmp_path / "plan.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^plan\.csv: the file is empty") as caught:
        read_plan(empty)
    assert "No columns to parse" not in str(caught.value)
    broken = tmp_path / "plan.xlsx"
    broken.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^plan\.xlsx: cannot be read as a plan"):
        read_plan(broken)


def test_an_empty_step_csv_names_the_file(tmp_path: Path) -> None:
    from benzoredux.output import read_step_csv

    empty = tmp_path / "chronic_users.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^chronic_users\.csv: the file is empty") as caught:
        read_step_csv(empty)
    assert "EmptyDataError" not in str(caught.value)


@pytest.mark.parametrize("written", ["9u", "9.30", "25:00", "09:75"])
def test_a_slot_time_not_written_hh_mm_is_a_plain_sentence(written: str) -> None:
    from benzoredux.schedule import ScheduleError, ScheduleOptions

    with pytest.raises(ScheduleError) as caught:
        ScheduleOptions(slot_times=(written,))
    assert str(caught.value) == (
        f"the slot time {written!r} is not a time written HH:MM (for example 09:00 or 13:30)"
    )


def test_slot_times_written_hh_mm_are_read() -> None:
    from benzoredux.schedule import ScheduleOptions

    options = ScheduleOptions(slot_times=("9:00", "09:20", "13:30:00"), consults_per_day=3)
    assert options.slot_times == (dt.time(9), dt.time(9, 20), dt.time(13, 30))


def test_no_dispensings_is_said_so_not_start_on_none() -> None:
    from benzoredux import select_new_users

    empty = pd.DataFrame(
        {
            "patient_id": pd.Series([], dtype=str),
            "date": pd.Series([], dtype="datetime64[ns]"),
            "atc": pd.Series([], dtype=str),
            "quantity": pd.Series([], dtype=float),
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        select_new_users(empty, "2025-12-31")
    messages = [str(w.message) for w in caught if issubclass(w.category, DataCoverageWarning)]
    assert messages == [
        "the dispensings table holds no dispensings, so no one can be counted as a new user; "
        "check that the file is the pharmacy's full export"
    ]


# --- identifiers -------------------------------------------------------------------------------

PATIENTS_CSV = (
    "patient_id,gp_id,bsn,postcode\n"
    "P1,gp1,123456782,2601 DC\n"
    "P2,gp1,123456789,2601 DC\n"  # fails the 11-test
    "P3,gp1,,ABCD 12\n"  # no Dutch postcode
    "P4,gp1,111222333,1234 SS\n"  # SS is not issued
)


def test_canonical_patients_warn_on_bad_bsn_and_postcode_by_line(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(PATIENTS_CSV, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_canonical(path, PATIENTS)
    assert len(frame) == 4  # warnings, not errors: every row is kept
    messages = [str(w.message) for w in caught if issubclass(w.category, IdentifierWarning)]
    assert messages == [
        "patients.csv, column 'bsn', line 3: the BSN fails the 11-test; the row is kept, "
        "correct the BSN in the practice's own system",
        "patients.csv, column 'postcode', lines 4, 5: 2 postcodes are not Dutch postcodes "
        "(1234 AB); the rows are kept, correct the postcode in the practice's own system",
    ]
    for value in ("123456789", "ABCD", "1234 SS"):
        assert not any(value in m for m in messages)


def test_a_clean_patients_file_gives_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(PATIENTS_CSV.splitlines()[0] + "\nP1,gp1,123456782,2601 DC\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_canonical(path, PATIENTS)


def test_a_reader_keeps_the_rows_and_notes_the_lines(tmp_path: Path) -> None:
    export = tmp_path / "ais.csv"
    bad = AIS_ROW.replace("A1;123456782", "A2;123456789").replace("2601 DC", "ABCD 12")
    export.write_text(AIS_HEADER + AIS_ROW + bad, encoding="utf-8")
    result = read_source(export, format="ais")  # strict: no row is refused
    assert result.patients is not None
    assert len(result.patients) == 2
    assert result.rows_rejected == 0
    assert (
        "ais.csv, column 'BSN' (bsn), line 3: the BSN fails the 11-test; the row is kept, "
        "correct the BSN in the practice's own system" in result.notes
    )
    assert (
        "ais.csv, column 'Postcode' (postcode), line 3: the postcode is not a Dutch postcode "
        "(1234 AB); the row is kept, correct the postcode in the practice's own system"
        in result.notes
    )
    assert not any("123456789" in note or "ABCD" in note for note in result.notes)


def test_the_cli_shows_identifier_warnings_as_one_line(tmp_path: Path) -> None:
    """On the command line a library warning is one line `warning: ...`, not Python's
    file-and-line form with a line of source code."""
    from click.testing import CliRunner

    from benzoredux.cli import main

    patients = tmp_path / "patients.csv"
    patients.write_text(PATIENTS_CSV, encoding="utf-8")
    dispensings = tmp_path / "dispensings.csv"
    dispensings.write_text("patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60\n")
    result = CliRunner().invoke(
        main,
        [
            "select", str(dispensings), "--patients", str(patients),
            "--reference-date", "2025-12-31", "--out", str(tmp_path / "out"), "--no-register",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: patients.csv, column 'bsn', line 3: the BSN fails the 11-test" in (
        result.output
    )
    assert "IdentifierWarning" not in result.output
