"""Writing canonical tables in a vendor's layout, so that reading them back can be compared.

The writers here are deliberately plain (the format's column names, Dutch dates, decimal
commas, the chosen encoding): a reader that reads them back into the same tables is right about
the layout, the notation and the encoding at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd


def dutch_cell(value: object, date_format: str = "%d-%m-%Y") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime(date_format)
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)).replace(".", ",")
    return str(value)


def write_export(
    frame: pd.DataFrame,
    names: Mapping[str, str],
    path: Path,
    *,
    encoding: str = "cp1252",
    date_format: str = "%d-%m-%Y",
    preamble: Sequence[str] = (),
) -> Path:
    """``frame`` with its columns renamed by ``names`` as a ``;``-separated Dutch export."""
    lines = [*preamble, ";".join(names[c] for c in frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append(";".join(dutch_cell(v, date_format) for v in row))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def same_table(read: pd.DataFrame, expected: pd.DataFrame) -> None:
    """``read`` holds the rows of ``expected`` (same columns, values compared as Python)."""
    columns = list(expected.columns)
    got = read[columns].astype(object).where(read[columns].notna(), None)
    want = expected.astype(object).where(expected.notna(), None)
    assert got.to_dict("records") == want.to_dict("records")
