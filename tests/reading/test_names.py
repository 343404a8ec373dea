"""Issue 17: a combined name column ("Müller, Jürgen") was read whole into the family name.
Where the format is known it is split into family name, tussenvoegsel, initials and first name
(benzoredux.reading.names; rules on the adapters page)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benzoredux.reading import read_source
from benzoredux.reading.names import NameParts, split_name, split_names


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Müller, Jürgen", ("Müller", None, None, "Jürgen")),
        ("Vries, A. de", ("Vries", "de", "A.", None)),
        ("de Vries, A.", ("Vries", "de", "A.", None)),
        ("Vries de, A.B.", ("Vries", "de", "A.B.", None)),
        ("Berg, van den, J.", ("Berg", "van den", "J.", None)),
        ("Berg, J. van der", ("Berg", "van der", "J.", None)),
        ("Jansen-de Boer, M.", ("Jansen-de Boer", None, "M.", None)),
        ("Vries, A. (Anna)", ("Vries", None, "A.", "Anna")),
        ("Dam, Anna Maria van", ("Dam", "van", None, "Anna Maria")),
        ("Hof, Th.", ("Hof", None, "Th.", None)),
        ("Vries, JP", ("Vries", None, "JP", None)),
        ("Vries , A. De", ("Vries", "de", "A.", None)),
        ("A. de Vries", ("Vries", "de", "A.", None)),
        ("J.P. van der Berg", ("Berg", "van der", "J.P.", None)),
        ("Jansen", ("Jansen", None, None, None)),
    ],
)
def test_a_name_is_split_by_the_documented_rules(text: str, parts: tuple[str | None, ...]) -> None:
    assert split_name(text) == NameParts(*parts)


@pytest.mark.parametrize("text", ["Jan de Vries", "Van Dam Zwart", "", "  ", None])
def test_a_name_that_cannot_be_split_with_certainty_is_not(text: str | None) -> None:
    assert split_name(text) is None


def test_a_column_keeps_unsplittable_names_whole_and_counts_them() -> None:
    frame, unsplit = split_names(
        pd.Series(["Vries, A. de", None, "Jan de Vries", "Jan de Vries", "Jansen"])
    )
    assert frame["family_name"].tolist() == [
        "Vries",
        pd.NA,
        "Jan de Vries",
        "Jan de Vries",
        "Jansen",
    ]
    assert frame["name_prefix"].tolist()[0] == "de"
    assert unsplit == 2


def _ais(path: Path, rows: list[str], names: str = "Naam") -> Path:
    header = f"Patientnummer;Afleverdatum;ATC;Aantal;{names};Geboortedatum\n"
    path.write_bytes((header + "".join(rows)).encode("cp1252"))
    return path


def test_an_ais_export_with_a_combined_name_column(tmp_path: Path) -> None:
    source = _ais(
        tmp_path / "export.csv",
        [
            "1;01-03-2025;N05BA04;60;Müller, Jürgen;01-02-1950\n",
            "2;01-03-2025;N05BA04;60;Vries, A. de;01-02-1951\n",
            "3;01-03-2025;N05BA04;60;Jan de Vries;01-02-1952\n",
        ],
    )
    result = read_source(source, format="ais")
    patients = result.patients
    assert patients is not None
    got = patients.set_index("patient_id")[["family_name", "name_prefix", "initials", "first_name"]]
    assert got.loc["1"].tolist() == ["Müller", pd.NA, pd.NA, "Jürgen"]
    assert got.loc["2"].tolist() == ["Vries", "de", "A.", pd.NA]
    assert got.loc["3"].tolist() == ["Jan de Vries", pd.NA, pd.NA, pd.NA]
    note = next(n for n in result.notes if "kept whole" in n)
    assert "1 name(s) in column 'Naam'" in note
    assert "Vries" not in note  # a note names the column, never a name


def test_the_exports_own_name_columns_win(tmp_path: Path) -> None:
    source = _ais(
        tmp_path / "export.csv",
        ["1;01-03-2025;N05BA04;60;Vries, A. de;J.;01-02-1950\n"],
        names="Naam;Voorletters",
    )
    patients = read_source(source, format="ais").patients
    assert patients is not None
    assert patients[["family_name", "name_prefix", "initials"]].iloc[0].tolist() == [
        "Vries",
        "de",
        "J.",
    ]


def test_a_his_register_with_a_combined_name_column(tmp_path: Path) -> None:
    folder = tmp_path / "his"
    folder.mkdir()
    (folder / "patienten.csv").write_bytes(
        (
            "Patientnummer;Huisarts;Geboortedatum;Geslacht;Inschrijfstatus;Naam\n"
            "H1;HA01;01-02-1950;V;actief;Bakker-van Dijk, M.C.\n"
        ).encode("cp1252")
    )
    patients = read_source(folder, format="his").patients
    assert patients is not None
    assert patients[["family_name", "initials"]].iloc[0].tolist() == ["Bakker-van Dijk", "M.C."]


def test_a_mapping_file_names_the_combined_name_column(tmp_path: Path) -> None:
    source = _ais(
        tmp_path / "export.csv",
        ["1;01-03-2025;N05BA04;60;Vries, A. de;01-02-1950\n"],
        names="Volledige naam",
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('format = "ais"\n\n[columns]\n"Volledige naam" = "name"\n', encoding="utf-8")
    patients = read_source(source, mapping=mapping).patients
    assert patients is not None
    assert patients[["family_name", "name_prefix", "initials"]].iloc[0].tolist() == [
        "Vries",
        "de",
        "A.",
    ]
