"""Writing files that hold patient data: private, atomic, and safe to open in a spreadsheet.

* **Private**: created with mode ``0o600`` (owner read/write only) from the first byte, not
  chmod-ed afterwards, so no other user of a shared practice server can read a half-written list.
* **Atomic**: written to a temporary file in the same folder and renamed into place, so an
  interrupted run never leaves a truncated list that looks complete.
* **Formula-safe**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  is prefixed with ``'`` (OWASP ASVS 1.2.10), in CSV too: a name like ``=HYPERLINK(...)`` must
  not become a formula when the assistant opens the list in Excel. Numeric cells are left alone.

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
    """A value openpyxl writes as it should: text never a formula, missing values empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT is caught by isna below)
        return None if value != value else value.to_pydatetime()  # noqa: PLR0124 - NaT test
    if hasattr(value, "item") and not isinstance(value, dt.date):  # numpy scalar
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, bool | int | float | dt.date | dt.time | dt.timedelta):
        return value
    return str(value)


def write_xlsx(sheets: Mapping[str, IntoFrame], path: str | os.PathLike[str]) -> Path:
    """Write frames as the sheets of one workbook: private, atomic and formula-safe.

    The one spreadsheet writer for patient lists (needs ``openpyxl``). Each text cell that a
    spreadsheet would read as a formula is prefixed with ``'`` and every text cell is stored as
    text, whatever the frame's column type; dates are shown day-first (``dd-mm-yyyy``), the
    header is bold and stays in view. Titles are made valid (:func:`sheet_title`).

    :param sheets: sheet title to frame (pandas, polars, ... eager), in the order wanted.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if not sheets:
        raise ValueError(f"{Path(path).name}: a workbook needs at least one sheet")
    workbook = Workbook()
    taken: set[str] = set()
    for number, (title, frame) in enumerate(sheets.items()):
        native = nw.from_native(cast(Any, frame), eager_only=True).to_pandas()
        sheet = workbook.active if number == 0 else workbook.create_sheet()
        sheet.title = sheet_title(title, taken)
        sheet.append([_cell(str(c)) for c in native.columns])
        widths = [len(str(c)) for c in native.columns]
        for record in native.itertuples(index=False, name=None):
            values = [_cell(v) for v in record]
            sheet.append(values)
            for i, value in enumerate(values):
                if isinstance(value, str):
                    widths[i] = max(widths[i], len(value))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.data_type = "s"
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = (
                        "dd-mm-yyyy" if cell.value.time() == dt.time() else "dd-mm-yyyy hh:mm"
                    )
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "dd-mm-yyyy"
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
        for i, width in enumerate(widths):
            sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = min(
                max(10, width + 2), 50
            )
        sheet.freeze_panes = "A2"
    target = Path(path)
    with private_file(target, "wb") as handle:
        workbook.save(handle)
    return target


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
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{where}: cannot be read as the step's CSV ({type(error).__name__})"
        ) from None
    return frame
