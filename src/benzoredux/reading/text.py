"""Reading a delimited text file or an Excel sheet into a table of text cells, with line numbers.

Why a module of its own: every vendor reader starts the same way, and the details decide
whether a practice's file is read correctly at all:

* **Encoding**: Dutch exports come as Windows-1252 or as UTF-8, often with a byte-order mark.
  ``"auto"`` takes UTF-8 when the bytes are valid UTF-8 (Windows-1252 text with accents almost
  never is) and Windows-1252 otherwise; a BOM is always removed. A file that is neither is an
  error naming the line, never a string of replacement characters in a patient's name.
* **Line numbers**: each record keeps the line it starts on, as a text editor counts (the header
  is usually line 1), so every problem can be found in the file. Lines before the header (a title,
  a period) are kept as the preamble, not read as data.
* **Ragged lines**: a line with more or fewer fields than the header is reported, not padded or
  cut (empty trailing fields, as spreadsheets write them, are fine).
* **Everything stays text**, so no library guesses a type: a BSN keeps its leading zero and a
  day-first date is parsed by :mod:`benzoredux.reading.parsing` with explicit formats.

Excel files are read with openpyxl (the ``excel`` extra), imported only when an Excel file is
actually read. Date cells become ISO text and number cells text in the file's declared decimal
notation, so that they go through the same parsing as a CSV cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from attrs import frozen

from benzoredux.reading.result import ReadError

__all__ = [
    "EXCEL_SUFFIXES",
    "TextFileError",
    "TextTable",
    "decode",
    "header_line_of",
    "read_text_table",
    "sniff_separator",
]

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
SEPARATORS = (";", ",", "\t", "|")
LINE = "__line"
"""The column of :attr:`TextTable.rows` holding each record's first line number."""
PREAMBLE_LIMIT = 20


class TextFileError(ReadError):
    """A file cannot be read as a table at all (encoding, no header, duplicate column names)."""


@frozen
class TextTable:
    """The cells of one file as text, one row per record."""

    file: Path
    header: tuple[str, ...]
    """The column names as the file writes them (trimmed)."""
    rows: pd.DataFrame
    """One column per header name (text or ``None``) plus ``__line``."""
    bad_lines: tuple[tuple[int, str], ...]
    """``(line, reason)`` for records that could not be split into the header's columns."""
    header_line: int
    preamble: tuple[str, ...] = ()
    encoding: str = "utf-8"


def decode(data: bytes, encoding: str, name: str) -> tuple[str, str]:
    """``(text, encoding used)`` for the bytes of file ``name`` (see the module docstring)."""
    if data.startswith(b"\xef\xbb\xbf") and encoding.lower().replace("_", "-") in {
        "auto",
        "utf-8",
        "utf8",
        "utf-8-sig",
    }:
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    candidates = ["utf-8", "cp1252"] if encoding == "auto" else [encoding]
    last: UnicodeDecodeError | None = None
    for candidate in candidates:
        try:
            return data.decode(candidate, errors="strict"), candidate
        except UnicodeDecodeError as error:
            last = error
        except LookupError:
            raise TextFileError(f"{name}: unknown encoding {encoding!r}") from None
    assert last is not None
    line = data[: last.start].count(b"\n") + 1
    tried = " or ".join(candidates)
    raise TextFileError(
        f"{name}, line {line}: byte {data[last.start]:#04x} cannot be read as {tried}; "
        "set file.encoding in the mapping file"
    )


def sniff_separator(line: str) -> str:
    """The separator that splits ``line`` into the most fields (``;`` wins a tie)."""
    counts = {sep: line.count(sep) for sep in SEPARATORS}
    best = max(counts.values())
    return next(sep for sep in SEPARATORS if counts[sep] == best) if best else ";"


def header_line_of(
    lines: Sequence[Sequence[str]], is_header: Callable[[Sequence[str]], bool] | None
) -> int:
    """Index of the header among the first records: the first that ``is_header`` accepts."""
    if is_header is None:
        return 0
    for index, fields in enumerate(lines[:PREAMBLE_LIMIT]):
        if is_header([f.strip() for f in fields]):
            return index
    return 0


def read_text_table(
    path: Path,
    *,
    encoding: str = "auto",
    separator: str | None = None,
    sheet: str | None = None,
    header_line: int | None = None,
    is_header: Callable[[Sequence[str]], bool] | None = None,
    decimal: str = ",",
) -> TextTable:
    """Read ``path`` (CSV/text, or ``.xlsx``) into a :class:`TextTable`.

    ``header_line`` (from 1) fixes where the header is; otherwise the first of the first 20
    records that ``is_header`` accepts is the header (the first record without ``is_header``).
    """
    if path.suffix.lower() in EXCEL_SUFFIXES:
        records, used = _excel_records(path, sheet, decimal), "xlsx"
    else:
        text, used = decode(path.read_bytes(), encoding, path.name)
        records = _csv_records(text, separator, path.name)
    if not records:
        raise TextFileError(f"{path.name}: the file is empty")
    if header_line is not None:
        start = next((i for i, (line, _) in enumerate(records) if line >= header_line), None)
        if start is None or records[start][0] != header_line:
            raise TextFileError(f"{path.name}: there is no header on line {header_line}")
    else:
        start = header_line_of([fields for _, fields in records], is_header)
    first_line, header_fields = records[start]
    header = tuple(f.strip() for f in header_fields)
    while header and header[-1] == "":
        header = header[:-1]
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise TextFileError(f"{path.name}, line {first_line}: column {position} has no name")
        if name.casefold() in seen:
            raise TextFileError(f"{path.name}, line {first_line}: the column {name!r} occurs twice")
        seen.add(name.casefold())
    width = len(header)
    good: list[list[str | None]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    for line, fields in records[start + 1 :]:
        if not any(f.strip() for f in fields):
            continue  # a blank line holds nothing
        cells = list(fields)
        while len(cells) > width and cells[-1].strip() == "":
            cells.pop()
        if len(cells) != width:
            bad.append((line, f"has {len(cells)} fields where the header has {width}"))
            continue
        good.append([c if c.strip() != "" else None for c in cells])
        lines.append(line)
    rows = pd.DataFrame(good, columns=list(header), dtype=object)
    rows[LINE] = pd.Series(lines, dtype="int64")
    preamble = tuple(" ".join(f for f in fields if f).strip() for _, fields in records[:start])
    return TextTable(path, header, rows, tuple(bad), first_line, preamble, used)


def _csv_records(text: str, separator: str | None, name: str) -> list[tuple[int, list[str]]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    sep = separator or sniff_separator(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            if fields:
                records.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as error:
        raise TextFileError(f"{name}, line {reader.line_num}: {error}") from None
    return records


def _excel_records(path: Path, sheet: str | None, decimal: str) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the installation
        raise TextFileError(
            f"{path.name}: reading Excel files needs openpyxl: pip install 'benzoredux[excel]'"
        ) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise TextFileError(f"{path.name}: not a readable Excel file ({error})") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TextFileError(
                f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        records = []
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_excel_text(v, decimal) for v in row]
            if any(cells):
                records.append((number, cells))
        return records
    finally:
        workbook.close()


def _excel_text(value: Any, decimal: str) -> str:
    """A cell as the text a CSV export would hold: dates ISO, numbers in ``decimal`` notation."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
        return text.replace(".", decimal)
    return str(value)
