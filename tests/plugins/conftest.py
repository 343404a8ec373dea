"""Installing tiny plugin distributions for a test, the way pip would leave them.

A distribution is a package on ``sys.path`` plus a ``<name>-<version>.dist-info`` folder whose
``entry_points.txt`` announces the package in the ``benzoredux`` group: exactly what
``importlib.metadata`` (and so benzoredux) finds for a pip-installed plugin. Everything lives in
``tmp_path`` and is removed from ``sys.path`` and ``sys.modules`` after the test.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benzoredux.plugins import BLOCK_VARIABLE, reset_plugins

Install = Callable[..., Path]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``install(distribution, {entry_point_name: module}, {module: source})``."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(BLOCK_VARIABLE, raising=False)
    reset_plugins()  # plugins loaded earlier in the session must not hide the new ones
    modules: list[str] = []

    def make(
        distribution: str,
        entry_points: dict[str, str],
        sources: dict[str, str],
        version: str = "1.0",
    ) -> Path:
        for module, source in sources.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            modules.append(module)
        info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
        (info / "entry_points.txt").write_text(f"[benzoredux]\n{lines}", encoding="utf-8")
        importlib.invalidate_caches()
        return site

    yield make
    for module in modules:
        sys.modules.pop(module, None)
    importlib.invalidate_caches()
    reset_plugins()
