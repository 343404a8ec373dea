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
* **Separator**: guessed from the first lines together, not from the first line alone (which
  may be a title such as ``Export apotheek De Linde, Delft``): the separator that splits most
  lines into the same number of fields wins, and when the reader knows its header, the
  separator under which that header is found.
* **Ragged lines**: a line with more or fewer fields than the header is reported, not padded or
  cut (empty trailing fields, as spreadsheets write them, are fine: a trailing separator on
  the header or on the rows adds no column). A record that cannot be split at all (a stray
  quote, ``"Bakker" Jansen;...``) is reported the same way and reading goes on at the next
  line: one bad record costs one row, not the file.
* **Blank rows** (every field empty) after the header are counted
  (:attr:`TextTable.blank_rows`), so that a reader can say how many it skipped: nothing in a
  file disappears without a trace.
* **Everything stays text**, so no library guesses a type: a BSN keeps its leading zero and a
  day-first date is parsed by :mod:`benzoredux.reading.parsing` with explicit formats.
* **Messages** name the file, the line and the column position, never a cell: when a file has
  no header line, its "column names" are someone's record.

Excel files are read with openpyxl (the ``excel`` extra), imported only when an Excel file is
actually read. Date cells become ISO text and number cells text in the file's declared decimal
notation, so that they go through the same parsing as a CSV cell. Only the cells a sheet holds
are read: the range a workbook *declares* (``A1:XFD1048576`` in a 5 KB file) is not trusted, so
the work is bounded by the data. Rows of a sheet without any value between the header and the
last row with one are the sheet's blank rows; the empty rows below the data are not rows of the
export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from attrs import frozen

from benzoredux.errors import describe_columns, looks_like_data, shorten
from benzoredux.reading.result import ReadError

__all__ = [
    "EXCEL_SUFFIXES",
    "SEPARATORS",
    "TextFileError",
    "TextTable",
    "decode",
    "guess_separator",
    "header_line_of",
    "read_text_table",
    "sniff_separator",
    "unused_columns_note",
]

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
SEPARATORS = (";", ",", "\t", "|")
"""The separators a delimited export may use, in the order a tie is decided (``;`` first: the
Dutch exports' own)."""
LINE = "__line"
"""The column of :attr:`TextTable.rows` holding each record's first line number."""
PREAMBLE_LIMIT = 20
SNIFF_LINES = 40
"""How many non-blank lines at the top of a file the separator is guessed from."""
BLANK_EXAMPLES = 10
"""How many blank rows :attr:`TextTable.blank_lines` lists by line number."""


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
    separator: str | None = None
    """The separator the file was split with (``None`` for a workbook)."""
    blank_rows: int = 0
    """Records after the header whose every field is empty (or only spaces): not rows."""
    blank_lines: tuple[int, ...] = ()
    """The lines of the first blank rows (at most ten), for a message."""


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
    """The separator that splits ``line`` into the most fields (``;`` wins a tie).

    One line can mislead (a title line with commas above a ``;``-separated header):
    :func:`guess_separator` looks at several.
    """
    counts = {sep: line.count(sep) for sep in SEPARATORS}
    best = max(counts.values())
    return next(sep for sep in SEPARATORS if counts[sep] == best) if best else ";"


def _split(line: str, separator: str) -> list[str]:
    """One line split as a CSV reader would (quotes respected); never raises."""
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        return line.split(separator)


def _ranked_separators(lines: Sequence[str]) -> list[str]:
    """:data:`SEPARATORS`, the likeliest separator of ``lines`` first.

    A separator scores by how many lines it splits into the same number (two or more) of
    fields, then by that number: the header and the rows agree on their width, a title line
    or two above them does not. A tie goes to the order of :data:`SEPARATORS`.
    """
    sample = [line for line in lines if line.strip()][:SNIFF_LINES]
    scores: dict[str, tuple[int, int]] = {}
    for separator in SEPARATORS:
        widths: dict[int, int] = {}
        for line in sample:
            width = len(_split(line, separator))
            if width > 1:
                widths[width] = widths.get(width, 0) + 1
        scores[separator] = max(((n, w) for w, n in widths.items()), default=(0, 0))
    return sorted(SEPARATORS, key=lambda sep: (-scores[sep][0], -scores[sep][1]))


def guess_separator(
    lines: Sequence[str], is_header: Callable[[Sequence[str]], bool] | None = None
) -> str:
    """The separator of a delimited file, from its first ``lines``.

    With ``is_header`` (a reader that knows its header), the likeliest separator under which
    one of the first lines is that header; otherwise (or when none is) the likeliest
    separator: the one that splits most lines into the same number (two or more) of fields,
    then the widest; ``;`` when no separator splits any line.

    >>> from benzoredux.reading.text import guess_separator
    >>> guess_separator(["Apotheek De Linde, Delft, 2025", "Pat;Datum;ATC", "1;02-01-2025;N05BA04"])
    ';'
    """
    ranked = _ranked_separators(lines)
    if is_header is not None:
        head = [line for line in lines if line.strip()][:PREAMBLE_LIMIT]
        for separator in ranked:
            if any(is_header([f.strip() for f in _split(line, separator)]) for line in head):
                return separator
    return ranked[0]


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
    Without ``separator``, it is guessed from the first lines (:func:`guess_separator`, with
    ``is_header``).
    """
    excel = path.suffix.lower() in EXCEL_SUFFIXES
    blank: list[int] = []
    broken: list[tuple[int, str]] = []
    used_separator: str | None = None
    if excel:
        records, used = _excel_records(path, sheet, decimal), "xlsx"
    else:
        text, used = decode(path.read_bytes(), encoding, path.name)
        used_separator = separator or guess_separator(
            text[: 64 * 1024].splitlines(), None if header_line is not None else is_header
        )
        records, blank, broken = _csv_records(text, used_separator, path.name)
    if not records:
        raise TextFileError(f"{path.name}: the file is empty (or holds only blank lines)")
    if header_line is not None:
        start = next((i for i, (line, _) in enumerate(records) if line >= header_line), None)
        if start is None or records[start][0] != header_line:
            raise TextFileError(f"{path.name}: there is no header on line {header_line}")
    else:
        start = header_line_of([fields for _, fields in records], is_header)
    first_line, header_fields = records[start]
    header = tuple(f.strip() for f in header_fields)
    while header and header[-1] == "":
        header = header[:-1]  # a trailing separator adds no column
    _check_names(header, f"{path.name}, line {first_line}")
    width = len(header)
    good: list[list[str | None]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    for line, fields in records[start + 1 :]:
        cells = list(fields)
        while len(cells) > width and cells[-1].strip() == "":
            cells.pop()
        if excel and len(cells) < width:  # a sheet's row ends at its last cell with a value
            cells.extend([""] * (width - len(cells)))
        if len(cells) != width:
            bad.append((line, f"has {len(cells)} fields where the header has {width}"))
            continue
        good.append([c if c.strip() != "" else None for c in cells])
        lines.append(line)
    bad.extend((line, why) for line, why in broken if line > first_line)
    bad.sort(key=lambda problem: problem[0])
    rows = pd.DataFrame(good, columns=list(header), dtype=object)
    rows[LINE] = pd.Series(lines, dtype="int64")
    above = [(line, " ".join(f for f in fields if f).strip()) for line, fields in records[:start]]
    above += [(line, "") for line, _ in broken if line < first_line]  # a title with a stray quote
    preamble = tuple(title for _, title in sorted(above))
    if excel:
        count, examples = _sheet_gaps([first_line, *(line for line, _ in records[start + 1 :])])
    else:
        after = [line for line in blank if line > first_line]
        count, examples = len(after), tuple(after[:BLANK_EXAMPLES])
    return TextTable(
        path,
        header,
        rows,
        tuple(bad),
        first_line,
        preamble,
        used,
        separator=used_separator,
        blank_rows=count,
        blank_lines=examples,
    )


def unused_columns_note(text: TextTable, used: Iterable[str]) -> list[str]:
    """A note naming the columns of ``text`` that no table uses (none when all are used).

    For a reader whose file feeds several tables (dispensings and patient details on one row):
    a column is unused only when no table took it. A header that looks like a record of data
    is described, not quoted (:func:`~benzoredux.errors.describe_columns`).
    """
    taken = set(used)
    unused = [name for name in text.header if name not in taken]
    if not unused:
        return []
    listed = describe_columns(text.header) if looks_like_data(text.header) else ", ".join(unused)
    return [f"{text.file.name}: column(s) not used: {listed}"]


def _check_names(header: Sequence[str], where: str) -> None:
    """Every column has a name, and no name occurs twice (ignoring case).

    The message gives positions, and the name only when the header does not look like a
    record (:func:`~benzoredux.errors.looks_like_data`): in a file without its header line the
    "names" are someone's BSN, birth date and postcode.
    """
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            raise TextFileError(f"{where}: column {position} has no name")
        earlier = seen.setdefault(name.casefold(), position)
        if earlier != position:
            named = "" if looks_like_data(header) else f" ({shorten(name, 40)!r})"
            raise TextFileError(
                f"{where}: columns {earlier} and {position} have the same name{named}; every "
                "column needs a name of its own"
            )


def _sheet_gaps(lines: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    """``(how many, the first few)`` row numbers missing between consecutive ``lines``: the
    blank rows of a sheet between its header and its last row with a value."""
    count = 0
    examples: list[int] = []
    for before, after in itertools.pairwise(lines):
        missing = after - before - 1
        if missing > 0:
            count += missing
            examples.extend(range(before + 1, min(after, before + 1 + BLANK_EXAMPLES)))
    return count, tuple(examples[:BLANK_EXAMPLES])


_LINE_END = re.compile(r"\r\n|\r|\n")
"""Where a line ends, as the csv module counts lines (``newline=""``)."""


def _csv_records(
    text: str, separator: str, name: str
) -> tuple[list[tuple[int, list[str]]], list[int], list[tuple[int, str]]]:
    """``(records, blank lines, broken lines)``: each record with the line it starts on; the
    lines of the records whose every field is empty (an empty line, or only separators and
    spaces); and the records that cannot be split at all, with the reason.

    A record the csv module cannot split (a stray quote, ``"x"y``; a NUL byte; an unclosed
    quote) is one broken record, not a broken file: reading goes on at the next line, so one
    bad record costs one row. The reason names the quote or the NUL, never a cell.
    """
    buffer = io.StringIO(text, newline="")
    records: list[tuple[int, list[str]]] = []
    blank: list[int] = []
    broken: list[tuple[int, str]] = []
    starts: list[int] | None = None
    first = 1  # the line the current reader starts on
    while True:
        reader = csv.reader(buffer, delimiter=separator, strict=True)
        line = first
        try:
            for fields in reader:
                if any(f.strip() for f in fields):
                    records.append((line, fields))
                else:
                    blank.append(line)
                line = first + reader.line_num
            break
        except csv.Error as error:
            broken.append((line, f"cannot be split into fields ({error})"))
            if starts is None:
                starts = [0, *(match.end() for match in _LINE_END.finditer(text))]
            first = line + 1
            if first > len(starts) or starts[first - 1] >= len(text):
                break
            buffer.seek(starts[first - 1])
    return records, blank, broken


def _excel_records(path: Path, sheet: str | None, decimal: str) -> list[tuple[int, list[str]]]:
    """The rows of the sheet that hold a value, with their row numbers, as text cells.

    The declared dimensions are dropped (``reset_dimensions``), so openpyxl does not pad every
    row to the declared width nor invent the declared rows below the data; trailing empty cells
    are cut. A row is never wider than its last cell with a value.
    """
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the installation
        raise TextFileError(
            f"{path.name}: reading Excel files needs openpyxl: pip install 'benzoredux[excel]'"
        ) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a damaged workbook: the kind of damage, never its content
        raise TextFileError(
            f"{path.name}: not a readable Excel workbook ({type(error).__name__}); save it "
            "again as .xlsx, or export the sheet as CSV"
        ) from None
    number = 0
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TextFileError(
                f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        if sheet is None and not workbook.worksheets:
            raise TextFileError(f"{path.name}: the workbook has no worksheet")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        worksheet.reset_dimensions()
        records = []
        for number, row in enumerate(
            worksheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1
        ):
            cells = [_excel_text(v, decimal) for v in row]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                records.append((number, cells))
        return records
    except TextFileError:
        raise
    except Exception as error:  # a cell openpyxl cannot read (a date out of range, bad XML)
        raise TextFileError(
            f"{path.name}, row {number + 1}: the sheet cannot be read ({type(error).__name__}); "
            "save it again as .xlsx, or export the sheet as CSV"
        ) from None
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
