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

**How a large file is read fast** (issue 19: a 1-million-row export took 16 seconds, record by
record in Python). The rules above are those of Python's ``csv`` module reading the file
record by record; the reader keeps them exactly, and lets pyarrow's CSV parser split the lines
that need no judgement:

* the bytes are checked (or transcoded, for Windows-1252) to UTF-8 without building one Python
  string of the whole file: only the runs of non-ASCII bytes need a look;
* when the file after its header is plain (no quote, no NUL byte, every line as wide as the
  first), polars' CSV reader splits all of it at once, on every core, straight into one
  categorical per column, and the line of row ``i`` is the line after the header plus ``i``.
  Where polars would split differently from ``csv``, the file is not handed to it: a CR
  without an LF after it (a line end to ``csv``, not to polars), a line with fewer fields
  (polars pads it; so the separators are counted, and their number must be the lines times
  the first line's), a byte-order mark opening the body (polars drops it); a line with more
  fields polars refuses itself, and the rows are counted against the lines. An empty line is
  a row of empty fields to polars, a blank row to ``csv``;
* a plain file polars does not take (a lone CR; a polars without per-column categories) is
  split by pyarrow, in pieces of whole lines, one per core, at the same time;
* otherwise the lines are found with numpy (ending at CR LF, CR or LF, as ``csv`` counts
  them) and sorted by kind: a line without quotes is one record, split at every separator, and
  lines with the same number of separators are split together by pyarrow; so are lines whose
  quotes are all regular (``"Jansen; J.";"30"``, a quote inside a field doubled). A line whose
  quotes need judgement (a stray quote, a field running over several lines), a NUL byte, a line
  that may be blank and very long lines go through ``csv``, from the line they start on, as
  before;
* the cells come back dictionary-encoded, as pandas categoricals (:attr:`TextTable.rows`):
  each distinct value once, and per cell a small code, so that a million rows of a few hundred
  dates take a few megabytes, and everything after works on the distinct values
  (:func:`~benzoredux.reading.raw.distinct_cells`).

A separator that is not one ASCII character, and text with no UTF-8 form (lone surrogates from
an exotic codec), are read record by record as before. A property test
(``tests/property/test_reading_matches_reference.py``) holds every way against the
record-by-record reader they replace.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from attrs import field, frozen

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
    """One column per header name plus ``__line``. A cell is text, or missing where the field
    is empty (only spaces). A delimited file's columns are pandas categoricals: each distinct
    value once, the cells codes into them (a million rows of a few hundred dates take a few
    megabytes); a sheet's are object columns, ``None`` where empty. Convert a column
    (``.astype("string")``, ``.astype(object)``) before writing new values into it."""
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
    if path.suffix.lower() in EXCEL_SUFFIXES:
        records = _excel_records(path, sheet, decimal)
        return _from_records(
            path,
            records,
            blank=[],
            broken=[],
            used="xlsx",
            used_separator=None,
            header_line=header_line,
            is_header=is_header,
        )
    decoded = _as_utf8(path.read_bytes(), encoding, path.name)
    used_separator = separator or guess_separator(
        decoded.head().splitlines(), None if header_line is not None else is_header
    )
    if decoded.buffer is None or not _splits_fast(used_separator):
        text = decoded.text()
        records, blank, broken = _csv_records(text, used_separator, path.name)
        return _from_records(
            path,
            records,
            blank=blank,
            broken=broken,
            used=decoded.encoding,
            used_separator=used_separator,
            header_line=header_line,
            is_header=is_header,
        )
    walker = _Walker(decoded.buffer, decoded.start, used_separator)
    head = _head(walker, header_line, is_header, path.name)
    header = tuple(f.strip() for f in head.header.fields)
    while header and header[-1] == "":
        header = header[:-1]  # a trailing separator adds no column
    _check_names(header, f"{path.name}, line {head.header.line}")
    body = _body(walker, head.header.after, head.header.line + head.header.taken, len(header))
    used_encoding = decoded.encoding
    del walker, decoded  # the file's text: not needed any more
    _release_arrow_memory()
    rows = pd.DataFrame(
        {
            # The codes are in range by construction (_categories): not checked again.
            name: pd.Categorical.from_codes(
                codes, categories=pd.Index(categories, dtype=object), validate=False
            )
            for name, (codes, categories) in zip(header, body.columns, strict=True)
        },
        index=pd.RangeIndex(len(body.lines)),
        columns=list(header),
        copy=False,
    )
    rows[LINE] = pd.Series(body.lines, dtype="int64", copy=False)
    return TextTable(
        path,
        header,
        rows,
        tuple(body.bad),
        head.header.line,
        head.preamble,
        used_encoding,
        separator=used_separator,
        blank_rows=len(body.blank),
        blank_lines=tuple(body.blank[:BLANK_EXAMPLES]),
    )


def _from_records(
    path: Path,
    records: list[tuple[int, list[str]]],
    *,
    blank: list[int],
    broken: list[tuple[int, str]],
    used: str,
    used_separator: str | None,
    header_line: int | None,
    is_header: Callable[[Sequence[str]], bool] | None,
) -> TextTable:
    """The table of a sheet's rows, or of a file split record by record (:func:`_csv_records`:
    a separator pyarrow cannot split with, text without a UTF-8 form)."""
    excel = used == "xlsx"
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
            bad.append((line, _ragged(len(cells), width)))
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


def _ragged(fields: int, width: int) -> str:
    return f"has {fields} fields where the header has {width}"


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


# --- splitting a large file fast (see the module docstring) ------------------------------------

_BOM = b"\xef\xbb\xbf"
_UTF8_NAMES = frozenset({"auto", "utf-8", "utf8", "utf-8-sig"})
_SINGLE_BYTE = frozenset({"cp1252", "latin-1", "iso8859-1"})
"""Codecs that map one byte to one character, so a file can be transcoded chunk by chunk."""
_CHUNK = 1 << 23
"""Bytes decoded at a time when a file is checked or transcoded (8 MiB)."""
SNIFF_CHARACTERS = 64 * 1024
"""How many characters at the top of a file the separator is guessed from."""

_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The characters ``str.strip()`` removes (``str.isspace``): a cell of only these is blank."""
_ASCII_WHITESPACE = bytes(sorted(ord(c) for c in _WHITESPACE if ord(c) < 128))

_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
_LONG_LINE = 1 << 16
"""Lines longer than this (in bytes) go through ``csv`` (pyarrow splits in 1 MiB blocks, and
``csv`` refuses a field longer than ``csv.field_size_limit()``)."""
_FEW = 16
"""Lines of one width fewer than this are split in Python, not handed to pyarrow."""
_BLOCK = 1 << 22
"""pyarrow's CSV block size (4 MiB): fewer blocks, fewer dictionaries to unify."""


@frozen
class _Decoded:
    """A file's text: as UTF-8 bytes from ``buffer[start:]``, or (``buffer`` is ``None``, for
    text with no UTF-8 form) as a string."""

    buffer: bytes | bytearray | None
    start: int
    encoding: str
    string: str | None = None

    def head(self) -> str:
        """The first :data:`SNIFF_CHARACTERS` characters (the separator is guessed from them)."""
        if self.buffer is None:
            assert self.string is not None
            return self.string[:SNIFF_CHARACTERS]
        # 4 bytes a character at most; a character cut at the end lies past the ones kept.
        top = self.buffer[self.start : self.start + 4 * SNIFF_CHARACTERS]
        return top.decode("utf-8", errors="ignore")[:SNIFF_CHARACTERS]

    def text(self) -> str:
        """The whole text as one string (for reading record by record)."""
        if self.buffer is None:
            assert self.string is not None
            return self.string
        return self.buffer[self.start :].decode("utf-8")


_SCAN = 1 << 18
"""Bytes compared at a time when a file's bytes are scanned with numpy (256 KiB: the masks
stay in the processor's cache instead of being a mask as large as the file)."""


def _scan(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, Any, Any]]:
    """``(offset, chunk, mask)`` for the bytes of ``data[start:end]`` a chunk at a time: the
    chunk as a numpy view, and a boolean buffer of its length to compare into (reused: valid
    until the next chunk)."""
    array = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    mask = np.empty(min(_SCAN, len(array)), dtype=bool)
    for offset in range(0, len(array), _SCAN):
        chunk = array[offset : offset + _SCAN]
        yield offset, chunk, mask[: len(chunk)]


def _others(data: bytes | bytearray, start: int = 0) -> np.ndarray[Any, Any]:
    """The positions (from ``start``) of the bytes of ``data[start:]`` that are not ASCII."""
    found = [np.zeros(0, dtype=np.int64)]
    for offset, chunk, mask in _scan(data, start, len(data)):
        np.greater_equal(chunk, 0x80, out=mask)
        if mask.any():
            found.append(np.flatnonzero(mask) + offset)
    return np.concatenate(found)


def _byte_counts(walker: _Walker, pos: int) -> tuple[int, int, bool]:
    """``(separators, line feeds, every CR followed by an LF)`` of the text from ``pos``."""
    separator = ord(walker.separator)
    separators = feeds = returns = pairs = 0
    for offset, chunk, mask in _scan(walker.buffer, pos, walker.end):
        np.equal(chunk, separator, out=mask)
        separators += int(np.count_nonzero(mask))
        np.equal(chunk, 10, out=mask)
        feeds += int(np.count_nonzero(mask))
        np.equal(chunk, 13, out=mask)
        found = int(np.count_nonzero(mask))
        if found:
            returns += found
            ends = np.flatnonzero(mask) + (pos + offset + 1)
            pairs += int(
                np.count_nonzero(
                    np.frombuffer(walker.buffer, np.uint8)[ends[ends < walker.end]] == 10
                )
            )
    return separators, feeds, returns == pairs


def _valid_utf8(data: bytes, start: int, others: np.ndarray[Any, Any] | None = None) -> bool:
    """Whether ``data[start:]`` is UTF-8.

    Only the runs of non-ASCII bytes need checking: an ASCII byte is a whole character, never
    part of another, so the text is UTF-8 exactly when each run of bytes from 0x80 up decodes
    on its own. An export is mostly ASCII; a file with many runs is decoded in chunks instead.
    """
    others = _others(data, start) if others is None else others
    if not len(others):
        return True
    if len(others) <= _FEW_OTHERS:
        breaks = np.flatnonzero(np.diff(others) != 1) + 1
        firsts = others[np.concatenate([[0], breaks])] + start
        lasts = others[np.concatenate([breaks - 1, [len(others) - 1]])] + start + 1
        try:
            for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
                data[first:last].decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for offset in range(start, len(data), _CHUNK):
            decoder.decode(data[offset : offset + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_FEW_OTHERS = 1 << 16
"""Up to this many non-ASCII bytes, a single-byte file is transcoded by copying the ASCII text
around them (an export whose only accent is in its header, ``Patiëntnummer``)."""


def _transcoded(
    data: bytes, codec: str, others: np.ndarray[Any, Any] | None = None
) -> bytes | bytearray | None:
    """``data`` (in a single-byte ``codec``) as UTF-8; ``None`` if a byte has no character in
    the codec. A byte is a character whatever its neighbours, so the text can be transcoded a
    chunk, or a byte, at a time."""
    others = _others(data) if others is None else others
    try:
        if len(others) <= _FEW_OTHERS:
            characters = bytes(np.frombuffer(data, dtype=np.uint8)[others]).decode(codec)
            view = memoryview(data)
            pieces: list[Any] = []
            at = 0
            for position, character in zip(others.tolist(), characters, strict=True):
                pieces += [view[at:position], character.encode("utf-8")]
                at = position + 1
            pieces.append(view[at:])
            return b"".join(pieces)
        out = bytearray()
        for offset in range(0, len(data), _CHUNK):
            out += data[offset : offset + _CHUNK].decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        return None
    return out


def _as_utf8(data: bytes, encoding: str, name: str) -> _Decoded:
    """The file's text as UTF-8, decoded as :func:`decode` does (the same choice of encoding,
    the same errors), without a Python string of the whole file where it can be helped."""
    if data.startswith(_BOM) and encoding.lower().replace("_", "-") in _UTF8_NAMES:
        if not _valid_utf8(data, len(_BOM)):
            data[len(_BOM) :].decode("utf-8", errors="strict")  # raises, as decode() does
        return _Decoded(data, len(_BOM), "utf-8-sig")
    if encoding == "auto":
        if data.isascii():
            return _Decoded(data, 0, "utf-8")
        others = _others(data)
        if _valid_utf8(data, 0, others):
            return _Decoded(data, 0, "utf-8")
        converted = _transcoded(data, "cp1252", others)
        if converted is None:
            decode(data, encoding, name)  # raises the error naming the line
        assert converted is not None
        return _Decoded(converted, 0, "cp1252")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise TextFileError(f"{name}: unknown encoding {encoding!r}") from None
    if codec == "utf-8":
        if not _valid_utf8(data, 0):
            decode(data, encoding, name)  # raises the error naming the line
        return _Decoded(data, 0, encoding)
    if codec in _SINGLE_BYTE:
        converted = _transcoded(data, encoding)
        if converted is None:
            decode(data, encoding, name)  # raises the error naming the line
        assert converted is not None
        return _Decoded(converted, 0, encoding)
    text, used = decode(data, encoding, name)
    try:
        return _Decoded(text.encode("utf-8"), 0, used)
    except UnicodeEncodeError:  # lone surrogates: only Python's own strings hold them
        return _Decoded(None, 0, used, text)


def _release_arrow_memory() -> None:
    """Give the memory pyarrow freed while splitting back to the system: its allocator keeps
    freed blocks for reuse, but what comes next (polars, numpy) allocates elsewhere, so a
    million rows' split would otherwise stay counted in the reader's peak memory."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _splits_fast(separator: str) -> bool:
    """Whether pyarrow can split with ``separator`` as ``csv`` does: one ASCII character
    that is not a quote, a line end or NUL."""
    return len(separator) == 1 and ord(separator) < 128 and separator not in '"\r\n\x00'


_Fields = list[str] | str
"""A record's fields, or (a string) why it cannot be split."""


class _Walker:
    """The records of UTF-8 text, from any line on, exactly as ``csv`` reads them.

    A line without a quote or NUL byte is one record, split at every separator (what
    ``csv`` does with it); any other line is read by ``csv`` itself, from the start of
    that line: a record runs over several lines while a quoted field does, and a record
    ``csv`` cannot split costs that line only (reading goes on at the next line).
    """

    def __init__(self, buffer: bytes | bytearray, start: int, separator: str) -> None:
        self.buffer = buffer
        self.start = start
        self.end = len(buffer)
        self.separator = separator

    def line_end(self, pos: int) -> tuple[int, int]:
        """Where the line starting at ``pos`` ends, and where the next one starts."""
        match = _LINE_END_BYTES.search(self.buffer, pos, self.end)
        return (match.start(), match.end()) if match else (self.end, self.end)

    def record(self, pos: int) -> tuple[_Fields, int, int]:
        """The record starting at ``pos``: its fields (or why it cannot be split), where the
        next record starts, and how many lines it takes."""
        end, after = self.line_end(pos)
        content = self.buffer[pos:end]
        if end - pos <= csv.field_size_limit() and b'"' not in content and b"\x00" not in content:
            return content.decode("utf-8").split(self.separator), after, 1
        return self.csv_record(pos, after)

    def csv_record(self, pos: int, after: int) -> tuple[_Fields, int, int]:
        """The record starting at ``pos``, read by ``csv`` (``after``: the next line)."""
        starts: list[int] = []

        def lines() -> Iterator[str]:
            at = pos
            while at < self.end:
                _, following = self.line_end(at)
                starts.append(following)
                yield self.buffer[at:following].decode("utf-8")
                at = following

        reader = csv.reader(lines(), delimiter=self.separator, strict=True)
        try:
            fields = next(reader, [])
        except csv.Error as error:
            return f"cannot be split into fields ({error})", after, 1
        taken = max(reader.line_num, 1)
        return fields, starts[taken - 1] if starts else after, taken


def _blank(fields: Sequence[str]) -> bool:
    return not any(f.strip() for f in fields)


@frozen
class _Record:
    line: int
    fields: list[str]
    after: int
    """Where the next record starts."""
    taken: int
    """How many lines the record takes."""


@frozen
class _Head:
    header: _Record
    preamble: tuple[str, ...]


def _head(
    walker: _Walker,
    header_line: int | None,
    is_header: Callable[[Sequence[str]], bool] | None,
    name: str,
) -> _Head:
    """The header record and the preamble above it, reading records from the top only as far
    as needed: to ``header_line``, to the first record ``is_header`` accepts, or 20 records."""
    records: list[_Record] = []
    broken: list[int] = []
    header: int | None = None
    pos, line = walker.start, 1
    while pos < walker.end:
        fields, after, taken = walker.record(pos)
        if isinstance(fields, str):
            broken.append(line)
        elif not _blank(fields):
            records.append(_Record(line, fields, after, taken))
            if header_line is not None:
                if line >= header_line:
                    break
            elif is_header is None or is_header([f.strip() for f in fields]):
                header = len(records) - 1
                break
            elif len(records) >= PREAMBLE_LIMIT:
                break
        pos, line = after, line + taken
    if not records:
        raise TextFileError(f"{name}: the file is empty (or holds only blank lines)")
    if header_line is not None:
        if records[-1].line != header_line:
            raise TextFileError(f"{name}: there is no header on line {header_line}")
        header = len(records) - 1
    found = records[header or 0]
    above = [(r.line, " ".join(f for f in r.fields if f).strip()) for r in records]
    above = above[: header or 0]
    above += [(number, "") for number in broken if number < found.line]  # a stray quote
    return _Head(found, tuple(title for _, title in sorted(above)))


@frozen
class _Body:
    """The rows after the header: per column the codes of its cells into its distinct values
    that are not blank (``-1``: an empty cell), the line of each row, the problem lines and
    the blank lines."""

    columns: list[tuple[np.ndarray[Any, Any], list[str]]]
    lines: np.ndarray[Any, Any]
    bad: list[tuple[int, str]]
    blank: list[int]


@frozen
class _Split:
    """Lines split by pyarrow: per column the codes and the distinct values, and the lines."""

    columns: list[tuple[np.ndarray[Any, Any], list[str]]]
    lines: np.ndarray[Any, Any]


def _body(walker: _Walker, pos: int, first_line: int, width: int) -> _Body:
    """The records from ``pos`` (line ``first_line``) to the end, as rows of ``width`` cells."""
    if pos >= walker.end:
        return _assemble(width, [], _Found())
    plain = _plain(walker, pos, first_line, width)
    if plain is not None:
        return plain
    return _mixed(walker, pos, first_line, width)


def _arrow_split(
    walker: _Walker, data: Any, columns: int, *, quoted: bool
) -> list[tuple[np.ndarray[Any, Any], list[str]]] | None:
    """``data`` (whole lines) split by pyarrow into ``columns`` dictionary-encoded columns:
    per column the codes and the distinct values; ``None`` when pyarrow refuses (a line of
    another width, a line longer than a block)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    if data.size >= len(_BOM) and data.slice(0, len(_BOM)).to_pybytes() == _BOM:
        return None  # pyarrow drops a byte-order mark opening its data; csv keeps it as text
    names = [f"f{i}" for i in range(columns)]
    coded = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(
                column_names=names, block_size=_BLOCK, use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=walker.separator,
                quote_char='"' if quoted else False,
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, coded),
                null_values=[],
                true_values=[],
                false_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    split: list[tuple[np.ndarray[Any, Any], list[str]]] = []
    limit = csv.field_size_limit()
    for name in names:
        chunks = table.column(name).unify_dictionaries().chunks
        table = table.drop_columns([name])  # each column goes once its codes are out
        if not chunks:
            split.append((np.zeros(0, dtype=np.int32), []))
            continue
        values: list[str] = chunks[0].dictionary.to_pylist()
        if values and max(map(len, values)) > limit:
            return None  # csv refuses such a field: let csv say so
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
        split.append((codes.astype(np.int32, copy=False), values))
        del chunks
    return split


def _line_count(walker: _Walker, pos: int, end: int | None = None) -> int:
    """How many lines the text from ``pos`` to ``end`` (the end of the text) holds, as
    ``csv`` counts them (a line ends at ``CR LF``, ``CR`` or ``LF``; the last one may lack
    its line end). Counted a chunk at a time, so that no mask of the whole file is made."""
    buffer = walker.buffer
    end = walker.end if end is None else end
    data = np.frombuffer(buffer, dtype=np.uint8, count=end - pos, offset=pos)
    returns = buffer.find(b"\r", pos, end) >= 0
    ends = 0
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK + 1]  # one byte more: the LF after a last CR
        ends += int(np.count_nonzero(chunk[:_CHUNK] == 10))
        if returns:  # a CR ends a line unless an LF follows it
            found = np.flatnonzero(chunk[:_CHUNK] == 13)
            paired = found[found + 1 < len(chunk)]
            ends += len(found) - int(np.count_nonzero(chunk[paired + 1] == 10))
    return ends + (0 if buffer[end - 1 : end] in (b"\n", b"\r") else 1)


_PIECE = 1 << 24
"""A plain body is split in pieces of at least this many bytes (16 MiB), up to one per core,
which pyarrow splits at the same time (it gives up the GIL while it works)."""


def _cores() -> int:
    """How many pieces a plain body may be split in at most: the cores, up to four."""
    return min(os.cpu_count() or 1, 4)


def _pieces(walker: _Walker, pos: int) -> list[tuple[int, int]]:
    """``(start, end)`` of pieces of the text from ``pos``, each of whole lines."""
    size = walker.end - pos
    count = max(1, min(_cores(), size // _PIECE))
    cuts = [pos]
    for index in range(1, count):
        _, following = walker.line_end(pos + size * index // count)
        if cuts[-1] < following < walker.end:
            cuts.append(following)
    cuts.append(walker.end)
    return list(itertools.pairwise(cuts))


def _polars_plain(walker: _Walker, pos: int, first_line: int, width: int) -> _Body | None:
    """The rows of a plain body split by polars' CSV reader (see the module docstring), or
    ``None`` when the body is not one polars splits as ``csv`` does.

    The caller has made sure that the body holds no quote and no NUL byte. polars then
    splits every line at every separator, on all cores at once, into dictionary-encoded
    columns (a categorical per column). Three things it does differently from ``csv`` are
    ruled out first: a CR not followed by an LF ends a line for ``csv`` but not for polars;
    a line with fewer fields than the schema is padded by polars (so the separators are
    counted: every line must have as many as the first, the only case in which the total is
    the number of lines times the first line's count, since polars refuses a line with more
    fields than the schema); and a byte-order mark opening the body is dropped by polars. Each
    line is one row (the rows are counted against the lines), so the line of row ``i`` is
    the body's first line plus ``i``; an empty line is a row of empty cells, a blank row, as
    ``csv`` reads it.
    """
    import polars as pl

    if not hasattr(pl, "Categories"):  # a polars before per-column categories: pyarrow splits
        return None
    buffer, end = walker.buffer, walker.end
    if buffer.startswith(_BOM, pos):
        return None
    first_end, _ = walker.line_end(pos)
    columns = buffer.count(walker.separator.encode(), pos, first_end) + 1
    if columns < width:
        return None
    separators, feeds, paired = _byte_counts(walker, pos)
    if not paired:
        return None  # a lone CR ends a line for csv, not for polars
    lines = feeds + (0 if buffer[end - 1 : end] == b"\n" else 1)
    if separators != (columns - 1) * lines:
        return None  # lines of other widths: sorted line by line
    names = [f"f{i}" for i in range(columns)]
    # polars reads the body where it lies: it skips the lines above it (counted at their line
    # feeds; without quote characters it skips exactly to the byte after the last of them)
    # instead of being handed a copy of the body (the size of the file: 0.04 s and as many
    # bytes at a million rows). Only where the body starts right after a line feed.
    if isinstance(buffer, bytes) and 0 < pos < end and buffer[pos - 1 : pos] == b"\n":
        body: bytes = buffer
        above = buffer.count(b"\n", 0, pos)
    else:
        body, above = bytes(memoryview(buffer)[pos:end]), 0
    try:
        frame = pl.read_csv(
            body,
            skip_lines=above,
            has_header=False,
            separator=walker.separator,
            quote_char=None,
            comment_prefix=None,
            schema={name: pl.Categorical(pl.Categories.random()) for name in names},
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if frame.shape != (lines, columns):
        return None
    split: list[tuple[np.ndarray[Any, Any], list[str]]] = []
    limit = csv.field_size_limit()
    for name in names:
        column = frame.get_column(name)
        frame = frame.drop(name)  # each column goes once its codes are out
        try:
            coded = _polars_codes(column)
        except (AttributeError, TypeError):  # a polars whose categories work otherwise
            return None
        del column
        if coded is None:
            return None
        codes, values = coded
        if values and max(map(len, values)) > limit:
            return None  # csv refuses such a field: let csv say so
        split.append((codes, values))
    return _assemble(
        width, [_Split(split, np.arange(first_line, first_line + lines, dtype=np.int64))], _Found()
    )


def _polars_codes(column: Any) -> tuple[np.ndarray[Any, Any], list[str]] | None:
    """A polars categorical column as ``(codes, distinct values)``: row ``i`` holds
    ``values[codes[i]]``, an empty field (missing in polars) the value ``""``. ``None`` when
    a code has no value (polars may reserve codes it has not named yet; never seen)."""
    physical = column.to_physical()
    values = _category_values(column, physical)
    codes = physical.to_numpy() if not physical.null_count() else None
    if codes is None:
        empty = values.index("") if "" in values else len(values)
        if empty == len(values):
            values.append("")
        codes = physical.fill_null(empty).to_numpy()
    codes = codes.astype(np.int32, copy=False)
    if None in values:  # keep the values the rows use, renumbered; none may be unnamed
        used = np.zeros(len(values), dtype=bool)
        used[codes] = True
        if any(v is None for v, u in zip(values, used.tolist(), strict=True) if u):
            return None
        codes = (np.cumsum(used) - 1).astype(np.int32)[codes]
        values = [v for v, u in zip(values, used.tolist(), strict=True) if u]
    return codes, [v for v in values if v is not None]


_MANY_CATEGORIES = 4096
"""From this many codes on, a column's categories are named by polars itself
(:func:`_category_values`)."""


def _category_values(column: Any, physical: Any) -> list[str | None]:
    """The values of ``column``'s codes (categorical), in code order (``None``: a code with no
    value), up to the highest code ``physical`` (its codes) holds.

    polars lists a column's categories one Python call per value (0.012 s for 50,000
    identifiers); for many, the codes ``0 .. n-1`` are cast to their text by polars instead
    (0.005 s). Few are listed: the cast costs a query (about a millisecond)."""
    import polars as pl

    highest = physical.max()
    if highest is not None and highest >= _MANY_CATEGORIES:
        codes = pl.Series(np.arange(int(highest) + 1, dtype=np.uint32))
        try:
            named = pl.select(pl.lit(codes).cat.to(column.dtype).cast(pl.String)).to_series()
        except pl.exceptions.PolarsError:
            pass  # a code polars will not name this way: listed below
        else:
            listed: list[str | None] = named.to_list()
            return listed
    listed = column.dtype.categories.to_series().to_list()
    return listed


def _plain(walker: _Walker, pos: int, first_line: int, width: int) -> _Body | None:
    """The rows of a plain body (see the module docstring), or ``None`` when it is not."""
    buffer, end = walker.buffer, walker.end
    if buffer.find(b'"', pos, end) >= 0 or buffer.find(b"\x00", pos, end) >= 0:
        return None
    by_polars = _polars_plain(walker, pos, first_line, width)
    if by_polars is not None:
        return by_polars
    # An empty line is a row of empty cells to pyarrow, a blank row to csv: both one line. The
    # count below makes sure that every line became one row.
    first_end, _ = walker.line_end(pos)
    columns = buffer.count(walker.separator.encode(), pos, first_end) + 1
    if columns < width:
        return None
    import pyarrow as pa

    whole = pa.py_buffer(buffer)

    def split(piece: tuple[int, int]) -> tuple[Any, int]:
        start, stop = piece
        found = _arrow_split(walker, whole.slice(start, stop - start), columns, quoted=False)
        return found, _line_count(walker, start, stop)

    pieces = _pieces(walker, pos)
    if len(pieces) == 1:
        splits = [split(pieces[0])]
    else:
        with ThreadPoolExecutor(len(pieces)) as pool:
            splits = list(pool.map(split, pieces))
    _release_arrow_memory()
    parts = []
    line = first_line
    for found, lines in splits:
        if found is None or len(found[0][0]) != lines:
            return None
        parts.append(_Split(found, np.arange(line, line + lines, dtype=np.int64)))
        line += lines
    return _assemble(width, parts, _Found())


def _segments(data: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], ...]:
    """``(starts, ends, nexts)`` of the lines of ``data`` (bytes): where each starts, where its
    content ends and where the next one starts; lines end at ``\\r\\n``, ``\\r`` or ``\\n``."""
    size = len(data)
    newlines = np.flatnonzero(data == 10)
    returns = np.flatnonzero(data == 13)
    if len(returns):
        before_newline = returns[returns + 1 < size]
        before_newline = before_newline[data[before_newline + 1] == 10]
        lone = np.setdiff1d(returns, before_newline, assume_unique=True)
        pairs = np.isin(newlines, before_newline + 1, assume_unique=True)
        term_start = np.concatenate([np.where(pairs, newlines - 1, newlines), lone])
        term_end = np.concatenate([newlines + 1, lone + 1])
        order = np.argsort(term_end, kind="stable")
        term_start, term_end = term_start[order], term_end[order]
    else:
        term_start, term_end = newlines, newlines + 1
    starts = np.concatenate([[0], term_end]).astype(np.int64)
    ends = np.concatenate([term_start, [size]]).astype(np.int64)
    nexts = np.concatenate([term_end, [size]]).astype(np.int64)
    if starts[-1] >= size:  # the text ends with a line end: no line after it
        starts, ends, nexts = starts[:-1], ends[:-1], nexts[:-1]
    return starts, ends, nexts


def _any_byte(data: np.ndarray[Any, Any], starts: np.ndarray[Any, Any], mask: Any) -> Any:
    """Per line (starting at ``starts``): whether ``mask`` holds for one of its bytes."""
    if not len(starts):
        return np.zeros(0, dtype=bool)
    return np.logical_or.reduceat(mask, starts)


_CANONICAL_FIELD = '"(?:[^"]|"")*"'
"""A quoted field as csv writes it: quotes around, a quote inside doubled."""


def _canonical(
    walker: _Walker, pos: int, starts: Any, ends: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """For lines with quotes: whether every quote is regular (each field unquoted without a
    quote, or quoted around and doubled inside), and the number of separators outside the
    quotes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(starts):
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    offsets = np.empty(2 * len(starts), dtype=np.int64)
    offsets[0::2] = starts + pos
    offsets[1::2] = ends + pos
    spans = pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(walker.buffer)
    )
    lines = spans.take(pa.array(np.arange(0, len(offsets), 2)))
    sep = f"\\x{{{ord(walker.separator):02x}}}"  # the separator, escaped for RE2
    unquoted = f'[^"{sep}]*'
    field = f"(?:{_CANONICAL_FIELD}|{unquoted})"
    regular = pc.match_substring_regex(lines, f"^{field}(?:{sep}{field})*$")
    outside = pc.replace_substring_regex(lines, _CANONICAL_FIELD, "")
    counts = pc.count_substring(outside, walker.separator)
    return (
        regular.to_numpy(zero_copy_only=False).astype(bool),
        counts.to_numpy(zero_copy_only=False).astype(np.int64),
    )


def _gathered(walker: _Walker, pos: int, starts: Any, nexts: Any, chosen: Any) -> Any:
    """The bytes of the ``chosen`` lines (indices, ascending), line ends included."""
    import pyarrow as pa

    breaks = np.flatnonzero(np.diff(chosen) != 1) + 1
    first = np.concatenate([[0], breaks])
    last = np.concatenate([breaks, [len(chosen)]]) - 1
    view = memoryview(walker.buffer)
    runs = [
        view[pos + int(starts[chosen[a]]) : pos + int(nexts[chosen[b]])]
        for a, b in zip(first, last, strict=True)
    ]
    return pa.py_buffer(runs[0] if len(runs) == 1 else b"".join(runs))


@frozen
class _Found:
    """What reading the body found besides the rows pyarrow split: records read in Python
    ``(line, fields)``, problem lines ``(line, reason)`` and blank lines."""

    python: list[tuple[int, list[str]]] = field(factory=list)
    bad: list[tuple[int, str]] = field(factory=list)
    blank: list[int] = field(factory=list)

    def add(self, line: int, fields: _Fields) -> None:
        """A record read in Python: a row, a blank row, or a record that cannot be split."""
        if isinstance(fields, str):
            self.bad.append((line, fields))
        elif _blank(fields):
            self.blank.append(line)
        else:
            self.python.append((line, fields))


@frozen
class _Lines:
    """The lines of a body (positions relative to its start) and what is in them."""

    starts: np.ndarray[Any, Any]
    ends: np.ndarray[Any, Any]
    nexts: np.ndarray[Any, Any]
    separators: np.ndarray[Any, Any]
    """Separators outside quotes (for a line whose quotes are regular)."""
    quoted: np.ndarray[Any, Any]
    content: np.ndarray[Any, Any]
    """An ASCII character other than a space or the separator: the line is no blank row."""
    irregular: np.ndarray[Any, Any]
    """A NUL byte, a quote that needs csv's judgement, or a very long line."""


def _line_kinds(walker: _Walker, pos: int) -> _Lines:
    """The lines from ``pos`` to the end, and their kinds (see the module docstring)."""
    data = np.frombuffer(walker.buffer, dtype=np.uint8, count=walker.end - pos, offset=pos)
    starts, ends, nexts = _segments(data)
    count = len(starts)
    sep_byte = ord(walker.separator)
    separators = np.add.reduceat(data == sep_byte, starts, dtype=np.int64) if count else starts
    nothing = np.zeros(count, dtype=bool)
    quoted = nothing
    if walker.buffer.find(b'"', pos, walker.end) >= 0:
        quoted = _any_byte(data, starts, data == 34)
    has_nul = nothing
    if walker.buffer.find(b"\x00", pos, walker.end) >= 0:
        has_nul = _any_byte(data, starts, data == 0)
    table = np.ones(256, dtype=bool)
    table[128:] = False
    table[list(_ASCII_WHITESPACE)] = False
    table[sep_byte] = False
    content = _any_byte(data, starts, table[data])
    irregular = has_nul | (ends - starts > min(csv.field_size_limit(), _LONG_LINE))
    with_quotes = np.flatnonzero(quoted & ~irregular)
    regular, outside = _canonical(walker, pos, starts[with_quotes], ends[with_quotes])
    irregular[with_quotes[~regular]] = True
    separators[with_quotes[regular]] = outside[regular]
    return _Lines(starts, ends, nexts, separators, quoted, content, irregular)


def _mixed(walker: _Walker, pos: int, first_line: int, width: int) -> _Body:
    """The rows of any body: lines sorted by kind (see the module docstring)."""
    lines = _line_kinds(walker, pos)
    found = _Found()
    # Records csv must read, in order: each from the line it starts on, maybe over several.
    taken = np.zeros(len(lines.starts), dtype=bool)
    following = 0
    for index in np.flatnonzero(lines.irregular).tolist():
        if index < following:
            continue  # inside a record that began on an earlier line
        fields, _, lines_taken = walker.csv_record(pos + int(lines.starts[index]), 0)
        taken[index : index + lines_taken] = True
        following = index + lines_taken
        found.add(first_line + index, fields)
    free = ~taken
    empty = lines.ends == lines.starts
    found.blank.extend((first_line + np.flatnonzero(free & empty)).tolist())
    for index in np.flatnonzero(free & ~empty & ~lines.content).tolist():
        # Only spaces and separators in ASCII: blank, unless a non-ASCII character is a value.
        text = walker.buffer[pos + lines.starts[index] : pos + lines.ends[index]]
        found.add(first_line + index, text.decode("utf-8").split(walker.separator))
    rest = free & ~empty & lines.content
    parts = [
        part
        for separators in np.unique(lines.separators[rest]).tolist()
        if (
            part := _split_alike(
                walker,
                pos,
                lines,
                np.flatnonzero(rest & (lines.separators == separators)),
                first_line=first_line,
                fields=separators + 1,
                width=width,
                found=found,
            )
        )
        is not None
    ]
    return _assemble(width, parts, found)


def _split_alike(
    walker: _Walker,
    pos: int,
    lines: _Lines,
    chosen: np.ndarray[Any, Any],
    *,
    first_line: int,
    fields: int,
    width: int,
    found: _Found,
) -> _Split | None:
    """The ``chosen`` lines, which all have ``fields`` fields: split by pyarrow when there are
    enough of them, else record by record into ``found``."""
    with_quotes = lines.quoted[chosen]
    if fields < width:
        # Too few fields: ragged, unless quoted fields are all empty (a blank row).
        found.bad.extend((first_line + i, _ragged(fields, width)) for i in chosen[~with_quotes])
        chosen = chosen[with_quotes]
    if len(chosen) >= _FEW and fields >= width:
        data = _gathered(walker, pos, lines.starts, lines.nexts, chosen)
        split = _arrow_split(walker, data, fields, quoted=bool(with_quotes.any()))
        _release_arrow_memory()
        if split is not None and len(split[0][0]) == len(chosen):
            return _Split(split, first_line + chosen.astype(np.int64))
    for index in chosen.tolist():  # few lines of this width: record by record
        found.add(first_line + index, walker.record(pos + int(lines.starts[index]))[0])
    return None


def _blank_values(values: Sequence[str]) -> np.ndarray[Any, Any]:
    """Per distinct value: whether it is blank (empty, or only what ``str.strip`` removes)."""
    return np.array([not v.strip() for v in values], dtype=bool)


def _arrow_rows(
    part: _Split, width: int, found: _Found, empty: Sequence[np.ndarray[Any, Any]]
) -> np.ndarray[Any, Any] | None:
    """Which rows of ``part`` are rows of the table (``None``: all); blank rows and ragged
    lines go to ``found``. Cells past the header's width must be blank (a trailing separator);
    the last one that is not gives the number of fields of a ragged line. ``empty``: per
    column, which of its distinct values are blank (:func:`_blank_values`)."""
    rows = len(part.lines)
    if len(part.columns) <= width and not all(e.any() for e in empty):
        return None  # no cell past the header's width, and no column that can be all blank
    # A row is blank when every cell is; only a column with a blank value can have one.
    all_blank = np.zeros(rows, dtype=bool)
    if all(e.any() for e in empty):
        all_blank = np.ones(rows, dtype=bool)
        for e, (codes, _) in zip(empty, part.columns, strict=True):
            all_blank &= e[codes]
    last = np.full(rows, -1, dtype=np.int64)
    for position in range(len(part.columns) - 1, width - 1, -1):
        codes, _ = part.columns[position]
        if not empty[position].all():
            last = np.where((last < 0) & ~empty[position][codes], position, last)
    ragged = ~all_blank & (last >= width)
    found.blank.extend(part.lines[all_blank].tolist())
    found.bad.extend(
        (int(line), _ragged(int(fields) + 1, width))
        for line, fields in zip(part.lines[ragged], last[ragged], strict=True)
    )
    return None if not (all_blank.any() or ragged.any()) else ~all_blank & ~ragged


def _assemble(width: int, parts: list[_Split], found: _Found) -> _Body:
    """The body's rows from the lines pyarrow split (``parts``) and the records read in
    Python, with the rules of the module docstring: a blank record is a blank row, trailing
    blank fields beyond the header's width are dropped, any other width is a ragged line."""
    lines_parts: list[np.ndarray[Any, Any]] = []
    codes_parts: list[list[np.ndarray[Any, Any]]] = [[] for _ in range(width)]
    values: list[dict[str, int]] = [{} for _ in range(width)]
    # One part and no record read in Python: its distinct values are the column's, numbered
    # as they are, and which are blank is known already (no lookup of every value is built:
    # 0.015 s for a column of 50,000 distinct identifiers).
    known = len(parts) == 1 and not found.python
    empty: list[np.ndarray[Any, Any]] = []
    for part in parts:
        empty = [_blank_values(vals) for _, vals in part.columns]  # once per distinct value
        keep = _arrow_rows(part, width, found, empty)
        lines_parts.append(part.lines if keep is None else part.lines[keep])
        for position in range(width):
            codes, vals = part.columns[position]
            kept = codes if keep is None else codes[keep]
            if known:
                codes_parts[position].append(kept)
                continue
            lookup = values[position]
            if not lookup:  # the first part's codes are the codes
                lookup.update(zip(vals, range(len(vals)), strict=True))
                codes_parts[position].append(kept)
                continue
            remap = np.array([lookup.setdefault(v, len(lookup)) for v in vals], dtype=np.int64)
            codes_parts[position].append(remap[kept] if len(vals) else kept)
    if found.python:
        numbers: list[int] = []
        cells_by_column: list[list[int]] = [[] for _ in range(width)]
        for line, fields in found.python:
            cells = list(fields)
            while len(cells) > width and cells[-1].strip() == "":
                cells.pop()
            if len(cells) != width:
                found.bad.append((line, _ragged(len(cells), width)))
                continue
            numbers.append(line)
            for position, cell in enumerate(cells):
                lookup = values[position]
                cells_by_column[position].append(lookup.setdefault(cell, len(lookup)))
        lines_parts.append(np.array(numbers, dtype=np.int64))
        for position in range(width):
            codes_parts[position].append(np.array(cells_by_column[position], dtype=np.int64))
    lines = np.concatenate(lines_parts) if lines_parts else np.zeros(0, dtype=np.int64)
    sorted_already = not found.python and all(
        len(a.lines) == 0 or len(b.lines) == 0 or a.lines[-1] < b.lines[0]
        for a, b in itertools.pairwise(parts)
    )
    order = None if sorted_already or not lines_parts else np.argsort(lines, kind="stable")
    columns = [
        _categories(codes_parts[position], parts[0].columns[position][1], order, empty[position])
        if known
        else _categories(codes_parts[position], values[position], order)
        for position in range(width)
    ]
    if order is not None:
        lines = lines[order]
    found.bad.sort(key=lambda problem: problem[0])
    found.blank.sort()
    return _Body(columns, lines, found.bad, found.blank)


def _categories(
    pieces: list[np.ndarray[Any, Any]],
    values: Iterable[str],
    order: Any,
    blank: np.ndarray[Any, Any] | None = None,
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """A column's codes (``-1``: a blank cell) and its distinct values that are not blank,
    from the codes of its parts into ``values`` (the distinct values in code order, or a
    lookup of them by code), in line order (``blank``: which of ``values`` are blank, when
    known)."""
    codes = (
        (pieces[0] if len(pieces) == 1 else np.concatenate(pieces))
        if pieces
        else np.zeros(0, dtype=np.int32)
    )
    if order is not None:
        codes = codes[order]
    distinct = list(values)
    filled = ~(_blank_values(distinct) if blank is None else blank)
    if filled.all():
        return codes.astype(np.int32, copy=False), distinct
    renumber = np.where(filled, np.cumsum(filled) - 1, -1).astype(np.int32)
    return renumber[codes], [v for v, keep in zip(distinct, filled, strict=True) if keep]
