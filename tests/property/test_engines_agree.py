"""Property: every engine gives the same answer, in the same types, for the same input.

Rule under test: ``benzoredux.engine`` ("``engine="native"`` runs on the input's own library ...
Both engines give the same answer"). The values are held against the plain reference in
``test_selection_matches_reference.py``; here the frames themselves are compared, dtypes
included, because a caller's code written against one engine's result must work on the other's.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import polars.testing
from hypothesis import example, given, note, settings

import benzoredux


def _load(name: str) -> Any:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load the sibling file.
    module_name = f"_benzoredux_property_{name}"
    if module_name not in sys.modules:
        path = Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[module_name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module_name])
    return sys.modules[module_name]


strategies = _load("strategies")

AGREEMENT_SETTINGS = settings(
    max_examples=25,
    deadline=None,  # several library calls per example; pandas-native costs ~0.1-0.2 s a call
    database=None,  # write nothing outside tests/; a failure prints its reproducer
)

ONE_CHRONIC_USER: dict[str, Any] = {
    "reference": dt.date(2025, 12, 31),
    "rows": [
        {"patient_id": "p1", "date": dt.date(2025, 2, 1), "atc": "N05BA04", "quantity": 50.0},
        {"patient_id": "p1", "date": dt.date(2025, 8, 1), "atc": "N05BA04", "quantity": 50.0},
    ],
    "columns": ["patient_id", "date", "atc", "quantity"],
    "with_times": False,
    "options": {},
    "pandas_dates": "datetime64[us]",
}

# The current dose (ddd_per_day_recent) in all its states, reference 2025-12-31: p1 rose to
# 3 DDD a day (recent 3.0, the year 1.67), p2 returned more than it got recently (0.0), p3 has
# nothing recently (0.0), p4 lacks a strength recently (null).
RECENT_DOSES: dict[str, Any] = {
    "reference": dt.date(2025, 12, 31),
    "rows": [
        *(
            {
                "patient_id": "p1",
                "date": dt.date(2025, month, 1),
                "atc": "N05BA04",
                "quantity": float(days * (3 if month >= 9 else 1)),
                "strength_mg": 50.0,
            }
            for month, days in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), 1)
        ),
        {"patient_id": "p2", "date": dt.date(2025, 6, 1), "atc": "N05BA04", "quantity": 200.0,
         "strength_mg": 10.0},
        {"patient_id": "p2", "date": dt.date(2025, 11, 3), "atc": "N05BA04", "quantity": -100.0,
         "strength_mg": 10.0},
        {"patient_id": "p3", "date": dt.date(2025, 5, 1), "atc": "N05BA04", "quantity": 100.0,
         "strength_mg": 10.0},
        {"patient_id": "p4", "date": dt.date(2025, 5, 1), "atc": "N05BA04", "quantity": 100.0,
         "strength_mg": 10.0},
        {"patient_id": "p4", "date": dt.date(2025, 12, 1), "atc": "N05BA04", "quantity": 30.0,
         "strength_mg": None},
    ],
    "columns": ["patient_id", "date", "atc", "quantity", "strength_mg"],
    "with_times": False,
    "options": {},
    "pandas_dates": "datetime64[us]",
}  # fmt: skip


def test_pandas_engines_return_the_same_frame() -> None:
    @AGREEMENT_SETTINGS
    @given(data=strategies.datasets())
    @example(data=ONE_CHRONIC_USER)
    @example(data=RECENT_DOSES)
    def check(data: dict[str, Any]) -> None:
        note(f"reference={data['reference']!r} options={data['options']!r}")
        frame = strategies.pandas_frame(data)
        auto = benzoredux.select_chronic_users(
            frame, data["reference"], engine="auto", **data["options"]
        )
        native = benzoredux.select_chronic_users(
            frame, data["reference"], engine="native", **data["options"]
        )
        pd.testing.assert_frame_equal(auto, native)

    check()


def test_polars_engines_and_lazy_return_the_same_frame() -> None:
    @AGREEMENT_SETTINGS
    @given(data=strategies.datasets())
    @example(data=ONE_CHRONIC_USER)
    @example(data=RECENT_DOSES)
    def check(data: dict[str, Any]) -> None:
        note(f"reference={data['reference']!r} options={data['options']!r}")
        frame = strategies.polars_frame(data)
        reference, options = data["reference"], data["options"]
        auto = benzoredux.select_chronic_users(frame, reference, engine="auto", **options)
        native = benzoredux.select_chronic_users(frame, reference, engine="native", **options)
        lazy = benzoredux.select_chronic_users(frame.lazy(), reference, **options)
        assert isinstance(lazy, pl.LazyFrame)
        polars.testing.assert_frame_equal(auto, native)
        polars.testing.assert_frame_equal(auto, lazy.collect())

    check()


# The smallest input the two pandas engines disagree on: a dosage-form column that is empty in
# the export, read as a categorical (no categories at all). engine="native" takes it (units
# count, the form being unknown); engine="auto" raises ColumnTypeError "column 'form' must hold
# text values, but its type is Float64". An empty frame with a categorical patient_id likewise:
# native returns no rows, auto raises "... its type is Unknown".
EMPTY_CATEGORICAL_FORM = {
    **ONE_CHRONIC_USER,
    "rows": [{**row, "form": None} for row in ONE_CHRONIC_USER["rows"]],
    "columns": ["patient_id", "date", "atc", "quantity", "form"],
    "text": "category",
    "empty_categoricals": True,
}


def _close(a: Any, b: Any) -> bool:
    """Equal, floats up to rounding: engines add the same numbers in a different order."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _outcome(kind: str, data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", strategies.run(kind, data)
    except Exception as error:  # the property compares what each engine raises
        return type(error).__name__, str(error)


def test_pandas_engines_accept_the_same_inputs() -> None:
    @AGREEMENT_SETTINGS
    @given(
        data=strategies.datasets().map(
            lambda d: {**d, "text": "category", "empty_categoricals": True}
        )
    )
    @example(data=EMPTY_CATEGORICAL_FORM)
    def check(data: dict[str, Any]) -> None:
        note(f"reference={data['reference']!r} options={data['options']!r}")
        auto = _outcome("pandas-auto", data)
        native = _outcome("pandas-native", data)
        assert auto[0] == native[0], f"auto: {auto}, native: {native}"
        if auto[0] == "ok":
            assert _close(auto[1], native[1]), f"auto: {auto[1]}, native: {native[1]}"

    check()
