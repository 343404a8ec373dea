"""Every module of the package is reachable from the API reference.

``tests/docs/test_docs.py`` checks the public *names*; this checks the *modules*: each one has
an ``automodule`` directive in ``docs/api.rst`` (a new module without one would be invisible
in the documentation). Only the version file, ``python -m benzoredux`` and the deprecated
aliases of moved modules are left out.
"""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest

import benzoredux
from benzoredux.deprecation import MOVED_MODULES

API = (Path(__file__).resolve().parents[2] / "docs" / "api.rst").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"^\.\. automodule:: +(\S+)\s*$", API, re.MULTILINE))
# The version file, ``python -m benzoredux``, and the deprecated aliases of moved modules.
NOT_DOCUMENTED = {"benzoredux.__about__", "benzoredux.__main__", *MOVED_MODULES}
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(benzoredux.__path__, "benzoredux.")
    if info.name not in NOT_DOCUMENTED
)


@pytest.mark.parametrize("module", MODULES)
def test_module_has_an_automodule_in_the_api_reference(module: str) -> None:
    assert module in DOCUMENTED, (
        f"{module} has no `.. automodule:: {module}` in docs/api.rst; add it to the section of "
        "its step"
    )


def test_the_package_itself_is_documented() -> None:
    assert "benzoredux" in DOCUMENTED
    assert len(MODULES) > 40  # the walk found the package's modules
