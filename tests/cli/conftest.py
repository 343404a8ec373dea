"""Fixtures of the command-line tests: every command's tests are here, and they reuse the
fixtures of the area whose command they drive (the shipped example exports, the report's
programme folder)."""

from __future__ import annotations

from tests.adapters.conftest import examples
from tests.report.conftest import evaluation, folder, register_path

__all__ = ["evaluation", "examples", "folder", "register_path"]
