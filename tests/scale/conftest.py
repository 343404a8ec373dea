"""Fixtures shared by the scale tests."""

from __future__ import annotations

from typing import Any

import pytest

from benzoredux import tables


@pytest.fixture
def bounds_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The columns whose bounds the row checks read from the rows (a pass over the table)."""
    calls: list[str] = []
    original = tables.DistinctValues.bounds

    def spy(self: tables.DistinctValues, column: str) -> Any:
        calls.append(column)
        return original(self, column)

    monkeypatch.setattr(tables.DistinctValues, "bounds", spy)
    return calls
