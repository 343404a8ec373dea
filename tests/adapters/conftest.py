"""Shared fixtures of the adapter tests: the shipped example exports and a fixed "today"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import benzoredux_adapters

EXAMPLES = Path(benzoredux_adapters.__file__).parent / "examples"
TODAY = dt.date(2026, 1, 15)
"""Two-digit birth years are placed in the past relative to this day."""


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
