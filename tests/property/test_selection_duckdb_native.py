"""Property: a DuckDB relation with ``engine="native"`` agrees with the plain-Python reference.

Rule under test: as in ``test_selection_matches_reference.py`` (DOMAIN.md "Selection rules
(bijlage 1)" and the documented choices of ``benzoredux.selection``). Its ``duckdb-lazy`` kind
runs the default route, where DuckDB hands the window's rows to polars for the per-patient
passes (``Execution.hands_rows_to_polars``); this runs the same drawn data through the route
that keeps the whole query on DuckDB (the window expressions of the last day's details), which
``engine="native"`` still offers, so that both DuckDB routes stay held to the reference.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

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
matches = _load("test_selection_matches_reference")


def test_duckdb_relation_on_duckdb_alone_matches_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule: DOMAIN.md bijlage 1 and the selection docstrings, on any random dispensings."""
    # The strategies call benzoredux.select_chronic_users by name: every call asks for native.
    native = functools.partial(benzoredux.select_chronic_users, engine="native")
    monkeypatch.setattr(benzoredux, "select_chronic_users", native)

    @settings(max_examples=25, deadline=None, database=None)
    @given(data=strategies.datasets(implausible=True))
    def check(data: dict[str, Any]) -> None:
        matches.check_against_reference("duckdb-lazy", data)

    check()
