"""Every hook is documented (docs/plugins/hooks.rst) and implemented by some test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from benzoredux import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, "benzoredux_spec")
)


def test_the_hooks_are_found() -> None:
    assert "benzoredux_register_readers" in HOOKS
    assert "benzoredux_register_criteria" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_section_with_its_signature(hook: str) -> None:
    page = (ROOT / "docs" / "plugins" / "hooks.rst").read_text(encoding="utf-8")
    lines = page.splitlines()
    assert any(
        line.strip() == hook and set(lines[i + 1].strip()) == {"-"}
        for i, line in enumerate(lines[:-1])
    ), f"docs/plugins/hooks.rst has no section titled {hook}"
    assert f".. autofunction:: benzoredux.hookspecs.{hook}" in page


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_used_by_a_test(hook: str) -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    assert f"def {hook}(" in tests, f"no test implements {hook}"
