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
    with pytest.raises(TextFileError, match=r"columns 1 and 2 have the same name \('A'\)"):
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


def test_a_title_line_with_commas_does_not_choose_the_separator(tmp_path: Path) -> None:
    """Issue 16: the separator was guessed from the first line even when it was a title."""
    path = tmp_path / "p.csv"
    path.write_text(
        "Apotheek De Linde, Delft, alle afleveringen\n"
        "Patientnummer;Afleverdatum;ATC;Aantal\n"
        "1;01-02-2025;N05BA04;2,5\n"
        "2;01-03-2025;N05BA04;30\n"
    )
    table = read_text_table(path, is_header=lambda fields: "ATC" in fields)
    assert table.separator == ";"
    assert table.header == ("Patientnummer", "Afleverdatum", "ATC", "Aantal")
    assert table.rows["Aantal"].tolist() == ["2,5", "30"]
    assert table.preamble == ("Apotheek De Linde, Delft, alle afleveringen",)
    # Without a header test, the lines that agree on their width decide.
    assert read_text_table(path, header_line=2).separator == ";"


def test_blank_rows_are_counted_not_dropped(tmp_path: Path) -> None:
    """Issue 16: rows whose fields are all blank were skipped without a trace."""
    path = tmp_path / "p.csv"
    path.write_text("\na;b\n1;2\n;\n   ;  \n\n3;4\n")
    table = read_text_table(path)
    assert table.rows["a"].tolist() == ["1", "3"]
    assert (table.blank_rows, table.blank_lines) == (3, (4, 5, 6))  # not the one above the header


def test_a_workbook_declaring_the_whole_sheet_is_read_by_its_cells(tmp_path: Path) -> None:
    """Issue 16: a 5 KB workbook with one cell at XFD1048576 kept the reader busy for minutes,
    because the declared range was trusted. Only the cells that exist are read now."""
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["patient_id", "date", "atc", "quantity"])
    sheet.append(["p1", "01-02-2025", "N05BA04", 30])
    sheet["XFD1048576"] = "x"
    path = tmp_path / "far.xlsx"
    workbook.save(path)
    assert path.stat().st_size < 10_000
    table = read_text_table(path)
    assert table.header == ("patient_id", "date", "atc", "quantity")
    assert table.rows["patient_id"].tolist() == ["p1"]
    # The far cell's row is one record (16384 fields), the rows between it and the data blank.
    assert table.bad_lines == ((1048576, "has 16384 fields where the header has 4"),)
    assert table.blank_rows == 1048576 - 3
    assert table.blank_lines[:2] == (3, 4)


def test_a_sheet_row_ending_before_the_last_column_is_not_ragged(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["a", "b", "c"])
    sheet.append(["1", None, None])
    sheet.append([None, None, None])
    sheet.append(["2", "3", "4"])
    path = tmp_path / "w.xlsx"
    workbook.save(path)
    table = read_text_table(path)
    assert table.rows["a"].tolist() == ["1", "2"]
    assert table.rows["c"].tolist() == [None, "4"]
    assert (table.bad_lines, table.blank_rows, table.blank_lines) == ((), 1, (3,))


def test_messages_about_the_header_do_not_quote_a_record(tmp_path: Path) -> None:
    """A file without its header line: its first record is someone's data."""
    path = tmp_path / "p.csv"
    path.write_text("123456782;14-03-1948;14-03-1948;2601 DC\n")
    with pytest.raises(TextFileError) as caught:
        read_text_table(path)
    assert str(caught.value) == (
        "p.csv, line 1: columns 2 and 3 have the same name; every column needs a name of its own"
    )


def test_a_record_with_a_stray_quote_costs_one_row_not_the_file(tmp_path: Path) -> None:
    """Issue 16 ("one bad record sinks a whole file"): a quote the csv module cannot split
    stopped the whole file; now that record is a bad line and the rest is read."""
    path = tmp_path / "p.csv"
    path.write_text('a;b\n1;2\n"Bakker" Jansen;3\n4;5\n6;"never closed\n7;8\n')
    table = read_text_table(path)
    assert table.rows["a"].tolist() == ["1", "4", "7"]
    assert [line for line, _ in table.bad_lines] == [3, 5]
    assert all("Bakker" not in reason for _, reason in table.bad_lines)
