"""The cases of issue 16, item 1: personal data that reached a message, one test each.

* An export without its header line: the missing-columns error listed the "columns found",
  which were the first record (BSN, name, birth date, postcode).
* Swapped columns: ``column 'Geslacht' (sex): sex is not one of M, F, X (value
  'Vermeulenplant')``, and the same through status, atc, Retour and quantity.

The rule (``docs/privacy.rst``): a message names the file, line, column and what is wrong; it
quotes a value only where the value cannot be personal data, cut short, and describes any other
value by its kind. Harmless values are still quoted, so the messages stay useful.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.privacy.planting import BSNS, NAME, POSTCODES, exception_texts, leaks

import benzoredux as br
from benzoredux.reading import ReadError, read_canonical, read_source
from benzoredux.tables import DISPENSINGS

AIS_HEADER = (
    "Patientnummer;BSN;Voorletters;Achternaam;Geboortedatum;Geslacht;Postcode;Afleverdatum;ATC;"
    "Aantal;Farmaceutische vorm;Retour"
)


def _ais_row(**cells: str) -> str:
    values = {
        "Patientnummer": "A1",
        "BSN": BSNS[0],
        "Voorletters": "W.",
        "Achternaam": NAME,
        "Geboortedatum": "17-04-1937",
        "Geslacht": "V",
        "Postcode": POSTCODES[0],
        "Afleverdatum": "06-01-2025",
        "ATC": "N05BA04",
        "Aantal": "30",
        "Farmaceutische vorm": "tablet",
        "Retour": "N",
        **cells,
    }
    return ";".join(values[c] for c in AIS_HEADER.split(";"))


def _ais(tmp_path: Path, *rows: str, header: bool = True) -> Path:
    path = tmp_path / "ais.csv"
    path.write_text("\n".join([*([AIS_HEADER] if header else []), *rows]) + "\n", "utf-8")
    return path


def _message(path: Path, **options: object) -> str:
    """Everything the strict read's error says, with its chain."""
    with pytest.raises(br.BenzoreduxError) as caught:
        read_source(path, **options)  # type: ignore[arg-type]
    return "\n".join(exception_texts(caught.value))


# --- an export without its header line --------------------------------------------------------


def test_an_export_without_header_line_is_described_not_listed(tmp_path: Path) -> None:
    path = _ais(tmp_path, _ais_row(), _ais_row(Afleverdatum="07-02-2025"), header=False)
    message = _message(path, format="ais")
    assert leaks(message) == [], message
    assert "missing required column(s) 'patient_id', 'date', 'atc', 'quantity'" in message
    assert (
        "columns found: 12 fields that look like data, not column names (2 dates, "
        "1 nine-digit number, 1 number, 1 postcode): does the file lack its header line?"
    ) in message


def test_a_mapped_export_without_header_line_is_described_not_listed(tmp_path: Path) -> None:
    path = tmp_path / "clienten.csv"
    path.write_text(f"C1;{NAME};17-04-1937;{POSTCODES[0]};{BSNS[1]}\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'table = "patients"\n[file]\nseparator = ";"\n[columns]\nNr = "patient_id"\n'
        'Naam = "family_name"\n',
        encoding="utf-8",
    )
    message = _message(path, mapping=mapping)
    assert leaks(message) == [], message
    assert "5 fields that look like data" in message


def test_a_canonical_file_without_header_line_is_described_not_listed(tmp_path: Path) -> None:
    path = tmp_path / "dispensings.csv"
    path.write_text(f"{BSNS[0]},1937-04-17,N05BA04,30\n", encoding="utf-8")
    with pytest.raises(br.MissingColumnsError) as caught:
        read_canonical(path, DISPENSINGS)
    message = str(caught.value)
    assert leaks(message) == [], message
    assert "4 fields that look like data, not column names (1 date, 1 nine-digit number" in message


def test_a_real_header_is_still_listed(tmp_path: Path) -> None:
    path = tmp_path / "ais.csv"
    path.write_text("Patientnummer;Afleverdatum;ATC\nA1;06-01-2025;N05BA04\n", encoding="utf-8")
    message = _message(path, format="ais")
    assert "columns found: 'Patientnummer', 'Afleverdatum', 'ATC'" in message


# --- swapped columns --------------------------------------------------------------------------


def test_a_name_in_the_sex_column_is_described(tmp_path: Path) -> None:
    message = _message(_ais(tmp_path, _ais_row(Geslacht=NAME)), format="ais")
    assert leaks(message) == [], message
    assert (
        "ais.csv, line 2, column 'Geslacht' (sex): sex is not one of M, F, X (value hidden: a word)"
    ) in message


def test_a_name_in_the_status_column_is_described(tmp_path: Path) -> None:
    path = tmp_path / "patienten.csv"
    path.write_text(
        "Patientnummer;Huisarts;Geboortedatum;Geslacht;Inschrijfstatus;Datum status\n"
        f"1;HA01;17-04-1937;V;{NAME};01-01-2025\n",
        encoding="utf-8",
    )
    message = _message(path, format="his")
    assert leaks(message) == [], message
    assert (
        "line 2, column 'Inschrijfstatus' (status): status is not one of active, deceased, "
        "moved, changed_gp (value hidden: a word)"
    ) in message


def test_a_name_or_birth_date_in_the_atc_column_is_described(tmp_path: Path) -> None:
    path = _ais(tmp_path, _ais_row(ATC=NAME), _ais_row(ATC="17-04-1937", Patientnummer="A2"))
    message = _message(path, format="ais")
    assert leaks(message) == [], message
    assert "line 2, column 'ATC' (atc): atc is not a 7-character ATC code" in message
    assert "(value hidden: a word)" in message
    assert "(value hidden: a date written like 99-99-9999)" in message


def test_a_name_in_the_return_column_is_described(tmp_path: Path) -> None:
    message = _message(_ais(tmp_path, _ais_row(Retour=NAME)), format="ais")
    assert leaks(message) == [], message
    assert "ais.csv, line 2: column 'Retour' (return): return is not J or N" in message


def test_a_name_bsn_or_postcode_in_the_quantity_column_is_described(tmp_path: Path) -> None:
    rows = [
        _ais_row(Aantal=NAME),
        _ais_row(Aantal=POSTCODES[0], Patientnummer="A2"),
        _ais_row(Aantal=BSNS[1], Patientnummer="A3"),  # a number, but no plausible quantity
    ]
    message = _message(_ais(tmp_path, *rows), format="ais")
    assert leaks(message) == [], message
    assert "line 2, column 'Aantal' (quantity): not a number" in message
    assert "(value hidden: a word)" in message
    assert "(value hidden: a postcode)" in message


# --- what may still be shown ------------------------------------------------------------------


def test_harmless_values_are_still_quoted(tmp_path: Path) -> None:
    """Codes and short numbers cannot be personal data: they are quoted, so a practice sees
    what to correct."""
    rows = [
        _ais_row(ATC="N05BA4"),
        _ais_row(Aantal="1.5", Patientnummer="A2"),
        _ais_row(Geslacht="Q", Patientnummer="A3"),
    ]
    message = _message(_ais(tmp_path, *rows), format="ais")
    assert "atc is not a 7-character ATC code such as N05BA01 (value 'N05BA4')" in message
    assert "(quantity): not a number written with a decimal comma (value '1.5')" in message
    assert "sex is not one of M, F, X (value 'Q')" in message


def test_personal_data_is_hidden_even_when_well_formed(tmp_path: Path) -> None:
    # A BSN failing the 11-test is a note now (issue 17); a birth date that is no real day
    # is still refused, and hidden although it has the shape of a date.
    message = _message(_ais(tmp_path, _ais_row(Geboortedatum="31-02-1950")), format="ais")
    assert "(birth_date): not a real date written DD-MM-YYYY" in message
    assert message.count("(value hidden)") >= 1
    assert "31-02-1950" not in message


def test_the_rejected_rows_keep_the_values(tmp_path: Path) -> None:
    """The rejected rows are patient data like the export (written owner-only when saved):
    they keep what was written, so the practice can correct it."""
    result = read_source(_ais(tmp_path, _ais_row(Geslacht=NAME)), format="ais", strict=False)
    assert NAME in result.rejected["value"].tolist()
    assert leaks(result.report()) == []
    with pytest.raises(ReadError) as caught:
        result.raise_if_rejected()
    assert leaks(str(caught.value)) == []


# --- dataframes -------------------------------------------------------------------------------


def test_a_name_in_a_frame_column_is_described_in_the_examples() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "sex": [NAME, "Q", "F"],
            "status": ["active", "active", "17-04-1937"],
            "bsn": [BSNS[0], BSNS[0], "123456789"],
        }
    )
    result = br.validate_patients(frame)
    text = "\n".join(result.examples)
    assert leaks(text) == [], text
    assert "row 0: sex is not one of M, F, X (sex=<hidden: a word>)" in text
    assert "row 1: sex is not one of M, F, X (sex='Q')" in text
    assert "status=<hidden: a date written like 99-99-9999>" in text
    assert "bsn=<hidden>" in text
    with pytest.raises(br.InvalidRowsError) as caught:
        br.select_chronic_users(
            pd.DataFrame(
                {
                    "patient_id": ["p1"],
                    "date": pd.to_datetime(["2025-03-01"]),
                    "atc": [NAME],
                    "quantity": [30.0],
                }
            ),
            "2025-12-31",
        )
    message = "\n".join(exception_texts(caught.value))
    assert leaks(message) == [], message
    assert "row 0: atc is not a 7-character ATC code such as N05BA01 (atc=<hidden: a word>)" in (
        message
    )
