"""The AIS reader: the documented layout, returns, patient details, round trip and errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzoredux.reading import ReadError, read_source
from benzoredux.selection import select_chronic_users
from benzoredux_adapters.ais import DISPENSINGS_LAYOUT, AisReader

from .conftest import TODAY
from .roundtrip import same_table, write_export

NAMES = {c: aliases[0] for c, aliases in DISPENSINGS_LAYOUT.items()}


def test_the_example_export_is_detected_and_read(examples: Path) -> None:
    source = examples / "ais-dispensings.csv"
    assert AisReader().detect(source) == 1.0
    result = read_source(source, today=TODAY)
    assert result.format == "ais"
    dispensings = result.dispensings
    assert dispensings is not None
    assert result.counts["dispensings"].rows_valid == 11
    # Retour = J makes the return negative, so it nets out.
    returned = dispensings[dispensings["date"] == pd.Timestamp("2025-07-02")]
    assert returned["quantity"].tolist() == [-10.0]
    # Decimal comma in the strength.
    assert set(dispensings.loc[dispensings["atc"] == "N05CF01", "strength_mg"]) == {7.5}
    assert result.notes == ("ais-dispensings.csv: column(s) not used: Omschrijving",)


def test_patient_details_become_one_row_per_patient(examples: Path) -> None:
    result = read_source(examples / "ais-dispensings.csv", today=TODAY)
    patients = result.patients
    assert patients is not None
    assert patients["patient_id"].tolist() == ["A1001", "A1002", "A1003", "A1004"]
    # V is female; the two-digit birth year 55 is 1955, not 2055.
    first, second = patients.iloc[0], patients.iloc[1]
    assert (first["sex"], first["name_prefix"], first["postcode"]) == ("F", "van der", "2601 DC")
    assert second["birth_date"] == pd.Timestamp("1955-10-02")


def test_selection_on_the_example_finds_the_one_chronic_user(examples: Path) -> None:
    result = read_source(examples / "ais-dispensings.csv")
    chosen = select_chronic_users(result.dispensings, dt.date(2025, 12, 31))
    # A1001: 30 + 30 + 30 - 10 + 30 = 110 > 90. A1003: exactly 90 is not chronic.
    # A1004: clonazepam is an anti-epileptic, not a benzodiazepine here.
    assert chosen["patient_id"].tolist() == ["A1001"]


def test_conflicting_details_of_one_patient_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "ais.csv"
    path.write_text(
        "Patientnummer;Geboortedatum;Afleverdatum;ATC;Aantal\n"
        "1;01-01-1950;01-02-2025;N05BA04;30\n"
        "1;01-01-1951;01-03-2025;N05BA04;30\n"
    )
    result = read_source(path, strict=False)
    assert result.counts["dispensings"].rows_valid == 2
    assert result.rejected["reason"].tolist() == ["patient_id occurs more than once"] * 2
    assert result.rejected["line"].tolist() == [2, 3]


def test_unknown_return_flag_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ais.csv"
    path.write_text(
        "Patientnummer;Afleverdatum;ATC;Aantal;Retour\n1;01-02-2025;N05BA04;30;Q\n"
        "1;01-03-2025;N05BA04;30;ja\n"
    )
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert result.dispensings["quantity"].tolist() == [-30.0]
    assert result.rejected["reason"].tolist() == [
        "column 'Retour' (return): return is not J or N (also ja/nee, 1/0)"
    ]
    assert result.rejected["line"].tolist() == [2]


def test_a_return_flag_without_a_quantity_column_is_a_missing_column(tmp_path: Path) -> None:
    """Retour without Aantal: the missing column is named, not a crash (KeyError 'quantity')."""
    path = tmp_path / "ais.csv"
    path.write_text("Patientnummer;Afleverdatum;ATC;Retour\n1;01-02-2025;N05BA04;N\n")
    with pytest.raises(ReadError, match=r"missing required column.*'quantity'"):
        read_source(path, format="ais")


def test_a_mapping_file_overrides_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "ais.csv"
    path.write_text("Pat;Afl. datum;ATC;Aantal\n1;01-02-2025;N05BA04;30\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('format = "ais"\n[columns]\nPat = "patient_id"\n"Afl. datum" = "date"\n')
    result = read_source(path, mapping=mapping)
    assert result.format == "ais"
    assert result.dispensings is not None
    assert result.dispensings["date"].tolist() == [pd.Timestamp("2025-02-01")]


def test_errors_in_an_ais_export_are_collected(tmp_path: Path) -> None:
    path = tmp_path / "ais.csv"
    path.write_text(
        "Patientnummer;Afleverdatum;ATC;Aantal;Farmaceutische vorm\n"
        ";01-02-2025;N05BA04;30;tablet\n"
        "2;2025/02/01;N05BA04;30;tablet\n"
        "3;01-02-2025;N05BA04;30;zalf\n"
    )
    with pytest.raises(ReadError) as caught:
        read_source(path)
    message = str(caught.value)
    assert "line 2, column 'Patientnummer' (patient_id): patient_id is missing" in message
    assert "line 3, column 'Afleverdatum' (date): not a real date written" in message
    assert "line 4, column 'Farmaceutische vorm' (form): form of a benzodiazepine" in message


# Up to 2025: a dispensing dated well after the day of reading is refused as implausible
# (benzoredux.tables.Plausibility).
_day = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2025, 12, 31))
_row = st.tuples(
    st.sampled_from(["1001", "0042", "Ä-7"]),
    _day,
    st.sampled_from(["N05BA04", "N05CD07", "N02AA59", "L01XE01"]),
    st.sampled_from([30.0, 2.5, -10.0, 0.5, 1234.0]),
    st.sampled_from(["tablet", "capsule", None]),
    st.sampled_from(["01012345", None]),
)


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(_row, min_size=1, max_size=8, unique=True),
    encoding=st.sampled_from(["cp1252", "utf-8-sig"]),
)
def test_round_trip_through_the_ais_layout(
    rows: list[tuple[object, ...]], encoding: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame = pd.DataFrame(
        rows, columns=["patient_id", "date", "atc", "quantity", "form", "prescriber_id"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    path = write_export(frame, NAMES, tmp_path_factory.mktemp("ais") / "ais.csv", encoding=encoding)
    result = read_source(path, format="ais")
    assert result.dispensings is not None
    same_table(result.dispensings, frame)
