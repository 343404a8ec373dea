"""Reading delimited files as text: encodings, line numbers, ragged lines, title lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from benzoredux.reading.text import TextFileError, read_text_table


def test_windows_1252_is_recognised_with_accents_and_curly_quotes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("naam;plaats\nMüller;Zaandam\nvan ’t Hof;Çelik\n".encode("cp1252"))  # noqa: RUF001 - a curly quote is valid Windows-1252
    table = read_text_table(path)
    assert table.encoding == "cp1252"
    assert table.rows["naam"].tolist() == ["Müller", "van ’t Hof"]  # noqa: RUF001 - a curly quote is valid Windows-1252


def test_utf8_with_bom_loses_the_bom_from_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "naam;plaats\nGaëlle;Utrecht\n".encode())
    table = read_text_table(path)
    assert table.header == ("naam", "plaats")
    assert table.rows["naam"].tolist() == ["Gaëlle"]


def test_bytes_that_are_neither_encoding_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"a;b\n1;2\n3;\x81\n")  # 0x81 is undefined in Windows-1252
    with pytest.raises(TextFileError, match=r"p\.csv, line 3: byte 0x81"):
        read_text_table(path)


def test_lines_keep_their_numbers_past_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('a;b\n1;"two\nlines"\n\n3;4\n')
    table = read_text_table(path)
    assert table.rows["__line"].tolist() == [2, 5]
    assert table.rows["b"].tolist() == ["two\nlines", "4"]


def test_ragged_lines_are_reported_and_trailing_empty_fields_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a;b;c;\n1;2;3;\n4;5\n6;7;8;9\n")
    table = read_text_table(path)
    assert table.header == ("a", "b", "c")
    assert table.rows["a"].tolist() == ["1"]
    assert table.bad_lines == (
        (3, "has 2 fields where the header has 3"),
        (4, "has 4 fields where the header has 3"),
    )


def test_duplicate_or_empty_column_names_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a;A\n1;2\n")
    with pytest.raises(TextFileError, match="'A' occurs twice"):
        read_text_table(path)
    path.write_text("a;;b\n1;2;3\n")
    with pytest.raises(TextFileError, match="column 2 has no name"):
        read_text_table(path)


def test_title_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Overzicht\nPeriode: 2025\nnaam;nummer\nx;1\n")
    table = read_text_table(path, is_header=lambda fields: "nummer" in fields)
    assert table.header_line == 3
    assert table.preamble == ("Overzicht", "Periode: 2025")
    assert table.rows["__line"].tolist() == [4]
    with pytest.raises(TextFileError, match="no header on line 9"):
        read_text_table(path, header_line=9)


def test_separator_is_guessed_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a,b\n1,2\n")
    assert read_text_table(path).rows["b"].tolist() == ["2"]
    path.write_text("a\tb\n1\t2\n")
    assert read_text_table(path).rows["b"].tolist() == ["2"]
