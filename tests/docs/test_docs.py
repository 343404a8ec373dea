"""The documentation stays true to the code: every public name is documented, every
runtime dependency is explained.

Building the docs is too slow for the unit suite (CI builds them with warnings as errors); these
checks read the sources of the pages instead.
"""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest

import benzoredux

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

DIRECTIVE = re.compile(r"^\.\. (?P<kind>auto\w+|py:\w+):: +(?P<target>\S+)\s*$")
OPTION = re.compile(r"^ {3}:(?P<name>[\w-]+):(?: +(?P<value>.*))?$")


def documented_paths(rst: str) -> set[str]:
    """Dotted paths that the autodoc and ``py:`` directives of ``rst`` document."""
    paths: set[str] = set()
    lines = rst.splitlines()
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        kind, target = match["kind"], match["target"]
        options: dict[str, str] = {}
        for following in lines[i + 1 :]:
            option = OPTION.match(following)
            if not option:
                break
            options[option["name"]] = option["value"] or ""
        paths.add(target)
        if kind == "automodule" and "members" in options:
            module = importlib.import_module(target)
            excluded = {n.strip() for n in options.get("exclude-members", "").split(",")}
            members = options["members"].strip()
            names = members.split(",") if members else getattr(module, "__all__", ())
            paths.update(f"{target}.{n.strip()}" for n in names if n.strip() not in excluded)
    return paths


def where_defined(name: str) -> set[str]:
    """The dotted paths under which the public ``name`` may be documented."""
    obj = getattr(benzoredux, name)
    paths = {f"benzoredux.{name}"}
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("benzoredux.") and getattr(module, name, None) is obj:
            paths.add(f"{module_name}.{name}")
    return paths


API = (DOCS / "api.rst").read_text(encoding="utf-8")
DOCUMENTED = documented_paths(API)


@pytest.mark.parametrize("name", sorted(benzoredux.__all__))
def test_public_name_is_documented_in_the_api_reference(name: str) -> None:
    candidates = where_defined(name)
    assert candidates & DOCUMENTED, (
        f"benzoredux.{name} is public but docs/api.rst documents none of {sorted(candidates)}; "
        "add it to the automodule of its module or give it its own directive"
    )


def test_documented_paths_reads_autodoc_directives() -> None:
    rst = (
        ".. automodule:: benzoredux.errors\n"
        "   :members:\n"
        "   :exclude-members: DataCoverageWarning\n"
        "\n"
        ".. autofunction:: benzoredux.selection.count_per_gp\n"
        ".. automodule:: benzoredux.codes\n"
    )
    paths = documented_paths(rst)
    assert "benzoredux.errors.InvalidRowsError" in paths
    assert "benzoredux.errors.DataCoverageWarning" not in paths
    assert "benzoredux.selection.count_per_gp" in paths
    assert "benzoredux.codes.ATCCode" not in paths  # automodule without :members:


def runtime_dependencies() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = []
    for requirement in pyproject["project"]["dependencies"]:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.append(match.group(0))
    return names


@pytest.mark.parametrize("name", runtime_dependencies())
def test_runtime_dependency_is_explained(name: str) -> None:
    page = (DOCS / "explanation" / "dependencies.rst").read_text(encoding="utf-8")
    terms = {line.strip().lower() for line in page.splitlines() if line and not line[0].isspace()}
    assert name.lower() in terms, (
        f"{name} is a runtime dependency in pyproject.toml, but docs/explanation/dependencies.rst "
        "does not explain it (a definition-list entry whose term is the distribution name)"
    )
