"""The streamed spreadsheet writer (:func:`benzoredux.output.write_xlsx`, openpyxl's write-only
mode) against the writer it replaced (issue 19: the per-GP lists were half of ``select``'s
time): every cell's value, type, number format, bold and quote prefix, the column widths, the
frozen header, the titles and the order of the sheets must read back the same."""

from __future__ import annotations

import datetime as dt
import math
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import narwhals as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
from narwhals.typing import IntoFrame
from openpyxl import Workbook, load_workbook

from benzoredux.gp_lists import write_per_gp_xlsx
from benzoredux.output import _cell, private_file, sheet_title, style_cell, write_xlsx


def previous_write_xlsx(
    sheets: Mapping[str, IntoFrame], path: str | Path, *, dutch: bool = True
) -> Path:
    """The writer before issue 19 (a cell object per value, styled afterwards), verbatim: the
    reference the streamed writer must match."""
    from openpyxl.styles import Font

    from benzoredux.spreadsheets import number_format, spreadsheet_view

    if not sheets:
        raise ValueError(f"{Path(path).name}: a workbook needs at least one sheet")
    workbook = Workbook()
    taken: set[str] = set()
    for number, (title, frame) in enumerate(sheets.items()):
        native = nw.from_native(cast(Any, frame), eager_only=True).to_pandas()
        if dutch:
            native = spreadsheet_view(native)
        headers = [str(c) for c in native.columns]
        sheet = workbook.active if number == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = sheet_title(title, taken)
        sheet.append(headers)
        widths = [len(h) for h in headers]
        for record in native.itertuples(index=False, name=None):
            values = [_cell(v) for v in record]
            sheet.append(values)
            for i, value in enumerate(values):
                if isinstance(value, str):
                    widths[i] = max(widths[i], len(value))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            style_cell(cell)
        for row in sheet.iter_rows(min_row=2):
            for i, cell in enumerate(row):
                style_cell(cell, number_format(headers[i], cell.value) if dutch else None)
        for i, width in enumerate(widths):
            sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width = min(
                max(10, width + 2), 50
            )
        sheet.freeze_panes = "A2"
    target = Path(path)
    with private_file(target, "wb") as handle:
        workbook.save(handle)
    return target


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def read_back(path: Path) -> dict[str, Any]:
    """Everything of a workbook a person sees, as openpyxl reads it back."""
    workbook = load_workbook(path)
    sheets: dict[str, Any] = {}
    for sheet in workbook.worksheets:
        cells = {
            cell.coordinate: (
                cell.value,
                cell.data_type,
                cell.number_format,
                bool(cell.font.b),
                bool(cell.quotePrefix),
                cell.has_style,
            )
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None or cell.has_style
        }
        widths = {
            letter: dimension.width
            for letter, dimension in sheet.column_dimensions.items()
            if dimension.customWidth
        }
        sheets[sheet.title] = {
            "cells": cells,
            "widths": widths,
            "freeze": sheet.freeze_panes,
            "size": (sheet.max_row, sheet.max_column),
        }
    return {"order": workbook.sheetnames, "sheets": sheets}


def assert_same_workbook(new: Path, old: Path) -> None:
    got, expected = read_back(new), read_back(old)
    assert got["order"] == expected["order"]
    for title, sheet in expected["sheets"].items():
        mine = got["sheets"][title]
        assert mine["widths"] == sheet["widths"], title
        assert mine["freeze"] == sheet["freeze"], title
        assert mine["size"] == sheet["size"], title
        assert mine["cells"].keys() == sheet["cells"].keys(), title
        for where, cell in sheet["cells"].items():
            value, *rest = mine["cells"][where]
            assert _same_value(value, cell[0]), (title, where, value, cell[0])
            assert rest == list(cell[1:]), (title, where, rest, cell[1:])
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


def _awkward() -> pd.DataFrame:
    """Values of every kind the lists hold, and those a spreadsheet gets wrong."""
    text = [
        '=HYPERLINK("http://x")',
        "+31 Kerkweg 124",
        "-5",
        "@sum",
        "\tindented",
        "\rreturn",
        " spaces ",
        "",
        None,
        "Ørjan van der Meer-Élise",
        "x" * 70,
        "=",
    ]
    n = len(text)
    return pd.DataFrame(
        {
            "patient_id": [f"p{i:02d}" for i in range(n)],
            "name": text,
            "gp_id": ["gp/1", "gp/1", "GP:2", None, "", "gp/1", "GP:2", "gp/1", None, "x", "y", ""],
            "gp_source": ["listed", "prescriber"] * (n // 2),
            "units": [120.0, 91.5, np.nan, 100, 1e6, 0.0, -3.0, 2.25, 90.000001, 7, 8, math.inf],
            "n_dispensings": np.arange(n, dtype="int64"),
            "first_date": pd.to_datetime(
                ["2025-01-26"] * (n - 2) + [None, "2025-03-01 13:45"], format="ISO8601"
            ),
            "last_date": [
                "2025-12-31",
                "31-12-2025",
                "2025-02-31",
                "not a date",
                dt.date(2025, 5, 1),
                dt.datetime(2025, 5, 1, 8, 30),
                None,
                "2025-06-01T10:00:00",
                "",
                "2025-06-01 00:00",
                dt.datetime(2025, 5, 2),
                "2024-02-29",
            ],
            "ddd_per_day": [0.5342465753424658, 1.005, np.nan, 2, 0.0, 3.3333, 1, 2, 3, 4, 5, 6.7],
            "days_since_supply_end": [60.05, 60.5, 61.5, None, 0, -2.5, 1, 2, 3, 4, 5, 6],
            "probably_stopped": [True, False] * (n // 2),
            "complex_groups": ["", "N03", "N05A; N06", None, "", "", "", "", "", "", "", "N03"],
            "excluded_because": [None, "complex co-medication: N03", *[None] * (n - 2)],
            "unknown_number": [1, 2.5, np.nan, -1, 0, 3, 4, 5, 6, 7, 8, 9],
            "unknown_flag": [
                True,
                False,
                None,
                True,
                False,
                True,
                False,
                True,
                False,
                True,
                False,
                True,
            ],
            "unknown_time": [dt.time(8, 30), None, *[dt.time(9, 0)] * (n - 2)],
            "unknown_duration": [dt.timedelta(days=2, hours=3), None, *[dt.timedelta(0)] * (n - 2)],
            "unknown_stamp": pd.to_datetime(
                ["2025-01-01 10:00"] * (n - 1) + [None], format="ISO8601"
            ),
        }
    )


@pytest.mark.parametrize("dutch", [True, False])
def test_the_same_cells_as_the_previous_writer(tmp_path: Path, dutch: bool) -> None:
    frame = _awkward()
    sheets = {
        "gp/1": frame.iloc[:5],
        "GP/1": frame.iloc[5:9],  # the same title but for case: numbered
        "a very long title of more than thirty-one characters": frame.iloc[9:],
        "leeg": frame.iloc[:0],
        "polars": pl.from_pandas(frame[["patient_id", "units", "n_dispensings"]]),
    }
    new = write_xlsx(sheets, tmp_path / "new.xlsx", dutch=dutch)
    old = previous_write_xlsx(sheets, tmp_path / "old.xlsx", dutch=dutch)
    assert_same_workbook(new, old)


def test_per_gp_lists_as_before(tmp_path: Path) -> None:
    """A selection with names and addresses, split per GP (``select``'s chronic_users.xlsx)."""
    rng = np.random.default_rng(19)
    n = 400
    selection = pd.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(n)],
            "gp_id": rng.choice(["G1", "G2", "G3", None], n),
            "gp_source": rng.choice(["listed", "prescriber"], n),
            "units": rng.uniform(90, 2000, n).round(1),
            "n_dispensings": rng.integers(1, 40, n),
            "n_returns": rng.integers(0, 3, n),
            "first_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
            "last_date": pd.Timestamp("2025-08-01")
            + pd.to_timedelta(rng.integers(0, 150, n), unit="D"),
            "ddd_per_day": rng.uniform(0, 3, n),
            "ddd_per_day_recent": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 3, n)),
            "days_since_supply_end": rng.normal(0, 80, n).round(2),
            "probably_stopped": rng.random(n) < 0.2,
            "complex_groups": rng.choice(["", "N03", "N05A"], n),
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": selection["patient_id"],
            "initials": rng.choice(["A.", "=B.", "C. D."], n),
            "family_name": rng.choice(["Jansen", "+Vries", "de Boer"], n),
            "street": "Kerkweg",
            "house_number": rng.integers(1, 300, n).astype(str),
            "postcode": "3431 AA",
            "city": "Nieuwegein",
            "birth_date": pd.Timestamp("1950-01-01")
            + pd.to_timedelta(rng.integers(0, 15000, n), unit="D"),
        }
    )
    new = write_per_gp_xlsx(selection, tmp_path / "new.xlsx", patients=patients)
    from benzoredux.gp_lists import per_gp_sheets

    old = previous_write_xlsx(per_gp_sheets(selection, patients=patients), tmp_path / "old.xlsx")
    assert_same_workbook(new, old)


def test_a_workbook_needs_a_sheet(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        write_xlsx({}, tmp_path / "none.xlsx")


def test_a_control_character_is_named_by_its_cell_never_quoted(tmp_path: Path) -> None:
    """Privacy: openpyxl's own message quotes the whole text, which may be a patient's name."""
    from openpyxl.utils.exceptions import IllegalCharacterError

    frame = pd.DataFrame(
        {"patient_id": ["p1", "p2"], "family_name": ["Bakker", "Jansen\x0bde Vries"]}
    )
    with pytest.raises(IllegalCharacterError) as caught:
        write_xlsx({"Huisarts A": frame}, tmp_path / "bad.xlsx")
    message = str(caught.value)
    assert "Jansen" not in message
    assert "Vries" not in message
    assert "'Huisarts A', cell B3" in message
    assert "U+000B" in message
    assert not (tmp_path / "bad.xlsx").exists()
