"""Shared helpers for the specification tests (tests/spec).

The spec tests check the rules of ``shared/DOMAIN.md`` (restated in the module docstrings of
``benzoredux.selection``) on small, hand-made tables. These fixtures build such tables and turn
results of any kind (pandas, polars, lazy polars, pyarrow) into plain Python records, so that a
test can state the expected answer as literals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

BASE_COLUMNS = ("patient_id", "date", "atc", "quantity")
REFERENCE = dt.date(2025, 6, 30)
"""The default reference date of the spec tests: its window runs 2024-07-01 .. 2025-06-30."""

KINDS = ("pandas", "polars", "polars-lazy", "pyarrow")


def _dates(values: Iterable[Any]) -> pd.Series:
    """ISO texts (optionally with a time of day) or None -> datetime64 (never day-first)."""
    return pd.to_datetime(pd.Series(list(values), dtype=object), format="ISO8601")


def build_dispensings(rows: Sequence[tuple[Any, ...]], extra: Sequence[str] = ()) -> pd.DataFrame:
    """A pandas dispensings table from ``(patient_id, date, atc, quantity, *extra)`` tuples."""
    columns = [*BASE_COLUMNS, *extra]
    frame = pd.DataFrame([list(r) for r in rows], columns=columns)
    frame["patient_id"] = frame["patient_id"].astype(str)
    frame["date"] = _dates(frame["date"]) if len(frame) else pd.Series([], dtype="datetime64[us]")
    frame["atc"] = frame["atc"].astype(str)
    frame["quantity"] = frame["quantity"].astype(float)
    for name in extra:
        frame[name] = frame[name].astype(float if name == "strength_mg" else "str")
    return frame


def build_table(data: dict[str, Sequence[Any]], date_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A pandas table (patients, episodes) with the named columns parsed as ISO dates."""
    frame = pd.DataFrame({k: list(v) for k, v in data.items()})
    for name in date_columns:
        frame[name] = _dates(frame[name])
    return frame


def convert(frame: pd.DataFrame, kind: str) -> Any:
    """The pandas ``frame`` as another supported kind."""
    if kind == "pandas":
        return frame
    if kind == "polars":
        return pl.from_pandas(frame)
    if kind == "polars-lazy":
        return pl.from_pandas(frame).lazy()
    if kind == "pyarrow":
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise ValueError(kind)


def plain(value: Any) -> Any:
    """One cell as a plain Python value: missing -> None, midnight datetimes -> dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


def to_records(result: Any) -> list[dict[str, Any]]:
    """Rows of a result of any supported kind as a list of plain dicts."""
    if isinstance(result, pl.LazyFrame):
        result = result.collect()
    if isinstance(result, pl.DataFrame):
        rows = result.to_dicts()
    elif isinstance(result, pa.Table):
        rows = result.to_pylist()
    elif isinstance(result, pd.DataFrame):
        rows = result.to_dict("records")
    else:  # pragma: no cover - a new kind: let the test show it
        raise TypeError(f"unexpected result kind {type(result).__name__}")
    return [{k: plain(v) for k, v in row.items()} for row in rows]


def by_patient(result: Any) -> dict[str, dict[str, Any]]:
    """Result records keyed by patient_id."""
    return {r["patient_id"]: r for r in to_records(result)}


def patient_ids(result: Any) -> list[str]:
    """The patient ids of a result, in the result's order."""
    return [r["patient_id"] for r in to_records(result)]


@pytest.fixture
def disp() -> Callable[..., pd.DataFrame]:
    """Builder of a pandas dispensings table: ``disp(rows, extra=("form",))``."""
    return build_dispensings


@pytest.fixture
def table() -> Callable[..., pd.DataFrame]:
    """Builder of a pandas patients/episodes table: ``table({...}, date_columns=[...])``."""
    return build_table


@pytest.fixture
def kind_of() -> Callable[[pd.DataFrame, str], Any]:
    """Converter of a pandas frame to another kind: ``kind_of(frame, "polars-lazy")``."""
    return convert


@pytest.fixture
def records() -> Callable[[Any], list[dict[str, Any]]]:
    """Normaliser of any result kind to a list of plain dicts."""
    return to_records


@pytest.fixture
def rows_by_patient() -> Callable[[Any], dict[str, dict[str, Any]]]:
    """Normaliser of any result kind to ``{patient_id: record}``."""
    return by_patient


@pytest.fixture
def ids() -> Callable[[Any], list[str]]:
    """The patient ids of a result of any kind."""
    return patient_ids
