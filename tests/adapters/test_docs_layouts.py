"""docs/adapters.rst documents every column name the built-in readers accept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from benzoredux_adapters import ais, his, sfk

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "adapters.rst").read_text(encoding="utf-8")
LAYOUTS: dict[str, Mapping[str, Sequence[str]]] = {
    "ais dispensings": ais.DISPENSINGS_LAYOUT,
    "ais patients": ais.PATIENTS_LAYOUT,
    "his prescriptions": his.PRESCRIPTIONS_LAYOUT,
    "his episodes": his.EPISODES_LAYOUT,
    "his patients": his.PATIENTS_LAYOUT,
    "sfk": sfk.LAYOUT,
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_accepted_column_name_is_on_the_adapters_page(name: str) -> None:
    for canonical, aliases in LAYOUTS[name].items():
        row = f"   * - ``{canonical}``\n     - " + ", ".join(f"``{a}``" for a in aliases)
        assert row in PAGE, f"{name}: {canonical} is not documented as {aliases}"


def test_every_example_file_is_mentioned() -> None:
    examples = Path(ais.__file__).parent / "examples"
    for path in examples.iterdir():
        assert f"``{path.name}``" in PAGE, path.name
