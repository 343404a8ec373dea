"""The built-in adapters use the library as a third-party adapter would (issue: one module for
adapter authors): they import only from :mod:`benzoredux.reading`, :mod:`benzoredux.hookspecs`
and the public models, tables and codes, and never a private name."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import benzoredux_adapters
from benzoredux.deprecation import MOVED_MODULES

ALLOWED = {
    "benzoredux.reading",
    "benzoredux.hookspecs",
    "benzoredux.models",
    "benzoredux.tables",
    "benzoredux.codes",
}
ADAPTERS = sorted(Path(benzoredux_adapters.__file__).parent.glob("*.py"))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every ``from benzoredux... import`` and ``import benzoredux...``."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return [f for f in found if f[1] == "benzoredux" or f[1].startswith("benzoredux.")]


@pytest.mark.parametrize("path", ADAPTERS, ids=lambda p: p.name)
def test_adapters_import_only_the_public_toolkit(path: Path) -> None:
    wrong = [
        f"line {line}: {module} ({', '.join(names)})"
        for line, module, names in _imports(path)
        if module not in ALLOWED or any(name.startswith("_") for name in names)
    ]
    assert not wrong, f"{path.name} imports outside the adapter toolkit: {wrong}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from benzoredux.reading.text import sniff_separator\nfrom benzoredux.tables import _x\n"
    )
    assert [(m, n) for _, m, n in _imports(bad)] == [
        ("benzoredux.reading.text", ["sniff_separator"]),
        ("benzoredux.tables", ["_x"]),
    ]


def test_everything_the_adapters_import_from_the_toolkit_is_exported() -> None:
    import benzoredux.reading

    names = {
        name
        for path in ADAPTERS
        for _, module, imported in _imports(path)
        if module == "benzoredux.reading"
        for name in imported
    }
    assert names <= set(benzoredux.reading.__all__)


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_a_moved_module_still_imports_with_a_deprecation_warning(old: str) -> None:
    """Adapters written against the old paths keep working for one release, warned."""
    sys.modules.pop(old, None)
    with pytest.deprecated_call(match="import from benzoredux.reading"):
        alias = importlib.import_module(old)
    moved = importlib.import_module(MOVED_MODULES[old])
    assert moved.__all__
    for name in moved.__all__:
        assert getattr(alias, name) is getattr(moved, name)
