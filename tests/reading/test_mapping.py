"""Mapping files: every mistake is a MappingFileError naming the file and the key, never a crash.

The cases of issue 16 (``columns = "Pat"`` and ``file = ""`` gave raw AttributeErrors) and the
other wrong types and values the mapping fuzzer found: each must be refused when the file is
loaded, with the file's name and the key, not later inside a reader as a wrapped TypeError.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benzoredux.reading import (
    MappingFileError,
    ReadError,
    SourceMapping,
    load_mapping,
    read_source,
)

BAD_MAPPINGS = [
    ('columns = "Pat"\n', "columns must be a table"),
    ('file = ""\n', "file must be a table"),
    ("values = 3\n", "values must be a table"),
    ("code_map = []\n", "code_map must be a table"),
    ("[values]\nsex = 3\n", "values.sex must be a table"),
    ("[values.sex]\nV = 3\n", "values.sex.V must be text"),
    ("[values]\nsexe = { V = 'F' }\n", "'sexe' is not a canonical column"),
    ("format = 3\n", "format must be text"),
    ('format = ""\n', "format must be text"),
    ("table = 3\n", "table = 3 is not one of"),
    ('table = ["episodes"]\n', "table = ['episodes'] is not one of"),
    ("[file]\nencoding = 3\n", "file.encoding must be text"),
    ('[file]\nencoding = "klingon"\n', "file.encoding = 'klingon' is not an encoding"),
    ("[file]\nseparator = 3\n", "file.separator must be one character"),
    ('[file]\nseparator = ""\n', "file.separator must be one character"),
    ('[file]\nseparator = ";;"\n', "file.separator must be one character"),
    ("[file]\nseparator = '\"'\n", "file.separator must be one character"),
    ('[file]\ndecimal = "x"\n', 'file.decimal must be "," or "."'),
    ("[file]\ndecimal = [',']\n", 'file.decimal must be "," or "."'),
    ("[file]\nthousands = 5\n", "file.thousands must be one of"),
    ('[file]\nthousands = ","\ndecimal = ","\n', "file.thousands = ',' is also file.decimal"),
    ("[file]\ndate_formats = 3\n", "file.date_formats must be a list of strftime formats"),
    ("[file]\ndate_formats = []\n", "file.date_formats must be a list of strftime formats"),
    ('[file]\ndate_formats = ["%d-%m-%Y", 3]\n', "file.date_formats[2] must be"),
    ('[file]\ndate_formats = ["%Q"]\n', "file.date_formats[1] = '%Q' is not a date format"),
    ("[file]\nsheet = 3\n", "file.sheet must be text"),
    ("[file]\nheader_line = true\n", "file.header_line must be a line number from 1"),
    ("[file]\nheader_line = 0\n", "file.header_line must be a line number from 1"),
    ("[file]\nheader_line = 1.5\n", "file.header_line must be a line number from 1"),
    ("[file]\ncolour = 'red'\n", "unknown key 'file.colour'"),
    ("seperator = ';'\n", "unknown key 'seperator'"),
    ("[columns]\nPat = 3\n", "[columns] 'Pat' must be a canonical column name"),
    ('[columns]\nPat = "patient"\n', "'patient' is not a canonical column"),
    ('[columns]\n"" = "patient_id"\n', "[columns] key must be an export column name"),
    ("[columns.patients]\nPat = 3\n", "[columns.patients] 'Pat' must be a canonical column name"),
    ('[columns.patients]\nDatum = "date"\n', "'date' is not a canonical column"),
    ('[columns.prescriptions]\nPat = "patient_id"\n', "[columns.prescriptions]: no such table"),
    ("[code_map]\n'urn:x|1' = 3\n", "code_map.urn:x|1 must be an ATC code"),
    ("[columns\n", "not a valid TOML file"),
    ("x = " + "[" * 3000 + "]" * 3000 + "\n", "not a valid TOML file"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_MAPPINGS)
def test_a_bad_mapping_file_is_an_error_naming_the_file_and_the_key(
    text: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "praktijk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert message.startswith("praktijk.toml: "), message
    assert expected in message


def test_a_mapping_file_that_cannot_be_read_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match=r"weg\.toml: cannot be read"):
        load_mapping(tmp_path / "weg.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[columns]\n"Patiënt" = "patient_id"\n'.encode("cp1252"))
    with pytest.raises(MappingFileError, match=r"latin\.toml: not UTF-8 text"):
        load_mapping(latin)


def test_a_mapping_made_in_code_is_checked_the_same_way() -> None:
    with pytest.raises(MappingFileError, match=r"file\.separator must be one character"):
        SourceMapping(separator="")
    with pytest.raises(MappingFileError, match="columns must be a table"):
        SourceMapping(columns="Pat")  # type: ignore[arg-type]
    assert SourceMapping(date_formats="%d.%m.%Y").date_formats == ("%d.%m.%Y",)  # type: ignore[arg-type]


def test_the_thousands_separator_of_a_mapping_cannot_be_the_exports_decimal(
    tmp_path: Path,
) -> None:
    """``thousands = ","`` is fine on its own, but not for an export with decimal commas (the
    AIS default): a clear error, not a ValueError from inside the number parser."""
    export = tmp_path / "ais.csv"
    export.write_text("Patientnummer;Afleverdatum;ATC;Aantal\n1;01-02-2025;N05BA04;30\n")
    mapping = tmp_path / "ais.toml"
    mapping.write_text('format = "ais"\n[file]\nthousands = ","\n')
    with pytest.raises(MappingFileError, match=r"ais\.toml: file\.thousands = ',' is also the"):
        read_source(export, mapping=mapping)


def test_two_export_columns_mapped_to_one_canonical_column_are_refused(tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    export.write_text("Pat;Nr;Datum;ATC;Aantal\n1;2;01-02-2025;N05BA04;30\n")
    mapping = {
        "table": "dispensings",
        "columns": {"Pat": "patient_id", "Nr": "patient_id", "Datum": "date"},
    }
    with pytest.raises(
        ReadError, match=r"e\.csv: the mapping file gives the column\(s\) patient_id"
    ):
        read_source(export, mapping=mapping)
