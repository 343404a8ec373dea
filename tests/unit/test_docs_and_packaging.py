"""Promises of the package itself: doctests hold, imports stay light, README and CI agree."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import benzoredux
from benzoredux.deprecation import MOVED_MODULES

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(benzoredux.__path__, "benzoredux.")
    # The deprecated aliases hold no code of their own (tests/reading checks that they warn).
    if m.name not in {"benzoredux.__main__", *MOVED_MODULES}
)


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_import_does_not_load_heavy_optional_parts() -> None:
    code = (
        "import sys, benzoredux; "
        # What a selection or screening caller touches, loaded on first use:
        "benzoredux.select_chronic_users, benzoredux.screen, benzoredux.Register; "
        "print(','.join(m for m in ('docxtpl', 'docx', 'matplotlib', 'openpyxl', 'polars', "
        "'duckdb', 'icalendar') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_every_public_name_resolves_lazily() -> None:
    for name in benzoredux.__all__:
        assert getattr(benzoredux, name) is not None, name
    assert set(dir(benzoredux)) >= set(benzoredux.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        benzoredux.nonexistent  # noqa: B018


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    block = readme[readme.index("```bash") + 1 : readme.index("```bash") + 3]
    assert block[0] == "python -m pip install . && benzoredux demo --out benzoredux-demo"
    assert block[1] == 'python -m pip install -e ".[test]" && python -m pytest'
    assert block[1] in (ROOT / ".ci" / "run").read_text()


def test_package_data_is_shipped() -> None:
    data = {p.name for p in (Path(benzoredux.__file__).parent / "data").iterdir()}
    assert {
        "atc_groups.csv",
        "benzodiazepine_ddd.csv",
        "icpc_codes.csv",
        "dosage_forms.csv",
    } <= data
    assert (Path(benzoredux.__file__).parent / "py.typed").exists()
