"""Reading canonical tables from files already in the canonical layout (CSV or Parquet).

Vendor exports (``;``-separated, decimal commas, day-first dates) are the adapters' work. This
reader takes files that already use the canonical column names, ISO dates (``YYYY-MM-DD``) and
``.`` decimals, and reads them strictly: a value that does not parse is an error naming the file,
line, column and value (hidden for sensitive columns), never a guess and never a silent gap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from benzoredux.errors import BenzoreduxError, MissingColumnsError
from benzoredux.tables import Kind, TableSchema

__all__ = ["FileFormatError", "read_canonical"]

_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


class FileFormatError(BenzoreduxError, ValueError):
    """A file's values do not parse; the message names file, line, column and value."""


def read_canonical(path: str | os.PathLike[str], schema: TableSchema) -> pd.DataFrame:
    """Read a canonical CSV (UTF-8, ``,``-separated, ISO dates) or Parquet file for ``schema``."""
    file = Path(path)
    if file.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(file)
    raw = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    missing = [name for name in schema.required if name not in raw.columns]
    if missing:
        raise MissingColumnsError(f"{file.name} ({schema.name})", missing, list(raw.columns))
    problems: list[str] = []
    for column in schema.columns:
        if column.name not in raw.columns or column.kind is Kind.TEXT:
            continue
        text = raw[column.name]
        parsed: pd.Series[Any]
        if column.kind is Kind.DATE:
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            expected = "an ISO date (YYYY-MM-DD)"
        elif column.kind is Kind.BOOLEAN:
            parsed = text.str.strip().str.lower().map(_BOOLEANS).astype("boolean")
            expected = "true or false (or 1 or 0)"
        else:
            parsed = pd.to_numeric(text, errors="coerce")
            expected = "a number with a '.' decimal point"
        for index in text.index[text.notna() & parsed.isna()][:10]:
            shown = "<hidden>" if column.sensitive else repr(text[index])
            problems.append(
                f"{file.name}, line {index + 2}, column {column.name!r}: {shown} is not {expected}"
            )
        raw[column.name] = parsed
    if problems:
        raise FileFormatError("\n".join(problems))
    return raw
