"""Writing files that hold patient data: private, atomic, and safe to open in a spreadsheet.

* **Private**: created with mode ``0o600`` (owner read/write only) from the first byte, not
  chmod-ed afterwards, so no other user of a shared practice server can read a half-written list.
* **Atomic**: written to a temporary file in the same folder and renamed into place, so an
  interrupted run never leaves a truncated list that looks complete.
* **Formula-safe**: a name like ``=HYPERLINK(...)`` must not become a formula when the assistant
  opens the list in Excel (OWASP ASVS 1.2.10). In a spreadsheet (:func:`write_xlsx`) every text
  cell is stored as text, which a spreadsheet never runs, so it shows the value as it is
  (``+31 Kerkweg 124``, no quote). A CSV file has no cell types: there a text cell starting with
  ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'``
  (:func:`neutralise_formulas`). Numeric cells are left alone.

The spreadsheets are for people, the CSV files for programs: :func:`write_xlsx` shows Dutch
headers, Dutch words for codes, rounded numbers and real dates (:mod:`benzoredux.spreadsheets`),
while :func:`write_csv` keeps the canonical column names, codes, exact numbers and ISO dates.

A step's CSV is read back, by the next step or the report, with :func:`read_step_csv`: one
definition of its column types, so every reader sees the same table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, cast

import narwhals as nw
from narwhals.typing import IntoFrame

__all__ = [
    "FORMULA_PREFIXES",
    "neutralise_formulas",
    "private_file",
    "read_step_csv",
    "sheet_title",
    "style_cell",
    "write_csv",
    "write_xlsx",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PRIVATE_MODE = 0o600


@contextlib.contextmanager
def private_file(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open ``path`` for writing, owner-only and atomically (see the module docstring)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, PRIVATE_MODE)  # mkstemp already uses 0o600; make it explicit
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def neutralise_formulas(frame: IntoFrame) -> Any:
    """``frame`` with each text cell a spreadsheet would read as a formula prefixed by ``'``."""
    nw_frame = nw.from_native(cast(Any, frame), eager_only=True)
    text = [name for name, dtype in nw_frame.schema.items() if isinstance(dtype, nw.String)]

    def starts(column: str) -> nw.Expr:
        tests = (nw.col(column).str.starts_with(p) for p in FORMULA_PREFIXES)
        return nw.any_horizontal(*tests, ignore_nulls=True)

    return nw_frame.with_columns(
        nw.when(starts(c))
        .then(nw.concat_str([nw.lit("'"), nw.col(c)]))
        .otherwise(nw.col(c))
        .alias(c)
        for c in text
    ).to_native()


def write_csv(frame: IntoFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as UTF-8 CSV (with BOM, so Excel reads accents), private and formula-safe."""
    safe = nw.from_native(cast(Any, neutralise_formulas(frame)), eager_only=True)
    with private_file(path, "w", encoding="utf-8-sig", newline="") as handle:
        safe.to_pandas().to_csv(handle, index=False)
    return Path(path)


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: object, taken: set[str] | None = None) -> str:
    """A valid, unique worksheet title for ``name`` (a GP id, say).

    Excel allows at most 31 characters and none of ``[ ] : * ? / \\``; titles differ also in
    case only. ``taken`` (lower-cased titles already used) is updated.

    >>> sheet_title("huisarts/1: De Vries")
    'huisarts_1_ De Vries'
    >>> used = set()
    >>> sheet_title("A", used), sheet_title("a", used)
    ('A', 'a (2)')
    """
    text = _SHEET_FORBIDDEN.sub("_", str(name)).strip("'").strip() or "-"
    title = text[:31]
    if taken is None:
        return title
    number = 1
    while title.lower() in taken:
        number += 1
        suffix = f" ({number})"
        title = text[: 31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _cell(value: Any) -> Any:
    """A value openpyxl can write: missing values and empty text empty, numpy and pandas
    scalars as Python values, anything else it does not know as text."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT is caught by isna below)
        return None if value != value else value.to_pydatetime()  # noqa: PLR0124 - NaT test
    if hasattr(value, "item") and not isinstance(value, dt.date):  # numpy scalar
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, str | bool | int | float | dt.date | dt.time | dt.timedelta):
        return value
    return str(value)


def style_cell(cell: Any, number_format: str | None = None) -> None:
    """Show an openpyxl cell's value as a person expects it.

    Text is stored as a text cell (``data_type "s"``) in the text format ``@``, so a
    spreadsheet never runs it as a formula, not even after the cell is edited; text that
    starts like a formula also gets Excel's own quote prefix style, which shows no quote
    (``+31 Kerkweg 124``, not ``'+31 Kerkweg 124``). Dates are shown day-first
    (``dd-mm-yyyy``, with ``hh:mm`` when there is a time of day); ``number_format``, when
    given, sets the format of a cell that is not text.
    """
    value = cell.value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
        cell.number_format = "@"
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    elif number_format is not None and value is not None:
        cell.number_format = number_format
    elif isinstance(value, dt.datetime):
        cell.number_format = "dd-mm-yyyy" if value.time() == dt.time() else "dd-mm-yyyy hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "dd-mm-yyyy"


def write_xlsx(
    sheets: Mapping[str, IntoFrame], path: str | os.PathLike[str], *, dutch: bool = True
) -> Path:
    """Write frames as the sheets of one workbook for people: private, atomic, formula-safe.

    The one spreadsheet writer for patient lists (needs ``openpyxl``). With ``dutch`` (the
    default) each column of :data:`benzoredux.spreadsheets.COLUMNS` is shown as a practice reads
    it (:func:`benzoredux.spreadsheets.spreadsheet_view`): a Dutch header, Dutch words for codes,
    numbers rounded (DDD per day to two decimals, counts whole), dates as date cells shown
    ``dd-mm-yyyy`` (also a date column held as ISO text); other columns keep their name and
    values. ``dutch=False`` keeps every column's name and value. Either way every text cell is
    a text cell (:func:`style_cell`: never a formula, and no visible quote), the header is
    bold and stays in view, and titles are made valid (:func:`sheet_title`).

    openpyxl writes the workbook (its parts, the styles, each sheet's header row, widths and
    frozen pane); the rows below the header are written column by column as the cells openpyxl
    would write (``_SheetRows``), because a cell object per value cost a region's list of
    50,000 chronic users 15 seconds (issue 19).

    :param sheets: sheet title to frame (pandas, polars, ... eager), in the order wanted.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from benzoredux.spreadsheets import number_format, spreadsheet_view

    if not sheets:
        raise ValueError(f"{Path(path).name}: a workbook needs at least one sheet")
    workbook = Workbook()
    taken: set[str] = set()
    bodies: list[tuple[Any, bytes, int, int]] = []
    for number, (title, frame) in enumerate(sheets.items()):
        native = nw.from_native(cast(Any, frame), eager_only=True).to_pandas()
        if dutch:
            native = spreadsheet_view(native)
        headers = [str(c) for c in native.columns]
        # Column by column, the values a row would give (a Series' own iteration).
        columns = [[_cell(v) for v in native.iloc[:, i]] for i in range(len(headers))]
        sheet = workbook.active if number == 0 else workbook.create_sheet()
        sheet.title = sheet_title(title, taken)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            style_cell(cell)
        for i, (header, values) in enumerate(zip(headers, columns, strict=True)):
            width = max((len(v) for v in values if isinstance(v, str)), default=0)
            sheet.column_dimensions[get_column_letter(i + 1)].width = min(
                max(10, max(len(header), width) + 2), 50
            )
        sheet.freeze_panes = "A2"
        if headers:
            rows = _SheetRows(sheet, headers if dutch else None, number_format)
            bodies.append((sheet, rows.xml(columns), len(native), len(headers)))
    target = Path(path)
    with private_file(target, "wb") as handle:
        _save_with_rows(workbook, bodies, handle)
    return target


def _save_with_rows(workbook: Any, bodies: list[tuple[Any, bytes, int, int]], handle: Any) -> None:
    """Save ``workbook`` (sheets holding their header row) to ``handle`` with each sheet's
    rows below the header inserted into its part, and its dimension as openpyxl gives it."""
    import io
    import zipfile

    from openpyxl.utils import get_column_letter

    shell = io.BytesIO()
    workbook.save(shell)  # sets each sheet's part name (sheet.path)
    parts = {sheet.path.lstrip("/"): (body, rows, width) for sheet, body, rows, width in bodies}
    with (
        zipfile.ZipFile(shell) as source,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename in parts:
                body, rows, width = parts[info.filename]
                last = get_column_letter(width)
                head, tail = data.rsplit(b"</sheetData>", 1)
                head = head.replace(
                    f'<dimension ref="A1:{last}1"/>'.encode(),
                    f'<dimension ref="A1:{last}{rows + 1}"/>'.encode(),
                    1,
                )
                data = head + body + b"</sheetData>" + tail
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


class _SheetRows:
    """The rows of a sheet below its header as the XML openpyxl writes for them.

    Each value becomes the cell :func:`style_cell` would make of it (a text cell, never a
    formula; the number format of its column, :func:`benzoredux.spreadsheets.number_format`;
    or a date format): the style is found once per column and kind of value, by styling one
    openpyxl cell (its style id is the workbook's), and text, numbers, booleans and dates are
    written as openpyxl writes them (an inline string, ``%.16g``, ``1``/``0``, the Excel serial
    day). Any other value (a time, a duration, an infinite number) is written by openpyxl's
    own cell writer.
    """

    def __init__(self, sheet: Any, headers: list[str] | None, formats: Any) -> None:
        self._sheet = sheet
        self._headers = headers
        self._formats = formats
        self._styles: dict[tuple[Any, ...], str] = {}

    def _format(self, column: int, value: Any) -> str | None:
        return None if self._headers is None else self._formats(self._headers[column], value)

    def _style(self, column: int, value: Any, key: tuple[Any, ...]) -> str:
        """The ``s`` attribute (with its leading space) of ``value``'s cell in ``column``."""
        found = self._styles.get((column, *key))
        if found is None:
            from openpyxl.cell import Cell

            probe = Cell(self._sheet, value=value)
            style_cell(probe, self._format(column, value))
            found = f' s="{probe.style_id}"' if probe.has_style else ""
            self._styles[(column, *key)] = found
        return found

    def _generic(self, column: int, row: int, value: Any) -> str:
        """A value of another kind, written by openpyxl's own cell writer."""
        from openpyxl.cell import Cell
        from openpyxl.cell._writer import etree_write_cell
        from openpyxl.xml.functions import tostring

        cell = Cell(self._sheet, row=row, column=column + 1, value=value)
        style_cell(cell, self._format(column, value))
        written: list[bytes] = []

        class _Collect:
            def write(self, element: Any) -> None:
                written.append(tostring(element))

        etree_write_cell(_Collect(), self._sheet, cell, cell.has_style)
        return b"".join(written).decode("utf-8")

    def _column(self, column: int, values: list[Any]) -> list[str]:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.utils import get_column_letter
        from openpyxl.utils.datetime import to_excel
        from openpyxl.utils.exceptions import IllegalCharacterError

        letter = get_column_letter(column + 1)
        out: list[str] = []
        for row, value in enumerate(values, start=2):
            kind = type(value)
            if value is None:
                out.append("")
            elif kind is str:
                text = value[:32767]
                if found := ILLEGAL_CHARACTERS_RE.search(text):
                    # Named by its place and code point, never quoted: the text may be a
                    # patient's name or address (openpyxl's own message quotes it whole).
                    raise IllegalCharacterError(
                        f"sheet {self._sheet.title!r}, cell {letter}{row}: the text holds a "
                        f"control character (U+{ord(found.group()[0]):04X}) that a spreadsheet "
                        "cannot store; remove it from the source data"
                    )
                style = self._style(column, value, ("text", text.startswith(FORMULA_PREFIXES)))
                space = ' xml:space="preserve"' if text != text.strip() else ""
                out.append(
                    f'<c r="{letter}{row}"{style} t="inlineStr"><is><t{space}>'
                    f"{text.translate(_XML_TEXT)}</t></is></c>"
                )
            elif kind is bool:
                style = self._style(column, value, ("bool",))
                out.append(f'<c r="{letter}{row}"{style} t="b"><v>{value:d}</v></c>')
            elif (kind is int or kind is float) and math.isfinite(value):
                style = self._style(column, value, ("number", kind))
                out.append(f'<c r="{letter}{row}"{style} t="n"><v>{value:.16g}</v></c>')
            elif kind is dt.date or (kind is dt.datetime and value.tzinfo is None):
                whole = kind is dt.date or value.time() == dt.time()
                style = self._style(column, value, ("date", whole))
                serial = to_excel(value)
                out.append(f'<c r="{letter}{row}"{style} t="n"><v>{serial:.16g}</v></c>')
            else:
                out.append(self._generic(column, row, value))
        return out

    def xml(self, columns: list[list[Any]]) -> bytes:
        """The ``<row>`` elements of rows 2 onwards, as bytes (non-ASCII as character
        references, as openpyxl writes them)."""
        cells = [self._column(i, values) for i, values in enumerate(columns)]
        rows = (
            f'<row r="{row}">{"".join(parts)}</row>'
            for row, parts in enumerate(zip(*cells, strict=True), start=2)
        )
        return "".join(rows).encode("ascii", "xmlcharrefreplace")


STEP_TEXT_COLUMNS = ("patient_id", "gp_id", "task_id", "excluded_because")
"""Columns of a step's CSV that are text even when every value looks like a number."""


def read_step_csv(path: str | os.PathLike[str], dates: tuple[str, ...] = ()) -> Any:
    """A CSV that a step wrote (:func:`write_csv`: UTF-8 with BOM, ISO dates) as pandas.

    Identifiers stay text (``007`` is not ``7``), an empty cell is missing, and the ``dates``
    columns present become :class:`datetime.date`. A file that cannot be read is a
    :class:`ValueError` naming the file, never one showing its content.
    """
    import pandas as pd

    where = Path(path)
    try:
        frame = pd.read_csv(
            where,
            encoding="utf-8-sig",
            dtype=dict.fromkeys(STEP_TEXT_COLUMNS, str),
            keep_default_na=False,
            na_values=[""],
        )
        for column in dates:
            if column in frame.columns:
                frame[column] = pd.to_datetime(frame[column], format="ISO8601").dt.date
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{where.name}: the file is empty; expected the CSV file a step wrote, with its "
            "header line"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError(
            f"{where.name}: cannot be read as the CSV file a step wrote (UTF-8, comma-separated, "
            "dates written YYYY-MM-DD)"
        ) from None
    return frame
