"""What a plain ``pip install`` brings: the main job's output complete, charts included."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_charts_need_no_extra() -> None:
    """``pip install .`` then ``benzoredux demo`` writes a report with its charts: matplotlib
    is a runtime dependency, and the old ``charts`` extra still installs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _names(project["dependencies"])
    assert "matplotlib" in runtime
    for extra in ("letters", "schedule", "excel", "charts"):
        assert _names(project["optional-dependencies"][extra]) <= runtime, extra
