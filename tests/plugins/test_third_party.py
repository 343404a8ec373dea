"""An outside distribution's reader and exclusion criterion, found through entry points and
used end to end (read -> select -> screen), exactly as a pip-installed plugin would be."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from benzoredux.cli import main
from benzoredux.plugins import make_plugins, using_plugins
from benzoredux.reading import read_source
from benzoredux.selection import select_chronic_users

from .acme_source import ACME
from .conftest import Install


@pytest.fixture
def acme(install: Install) -> None:
    install("acme-benzo-plugin", {"acme": "acme_benzo"}, {"acme_benzo": ACME}, version="2.3")


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "export.acme"
    path.write_text(
        "ACME-EXPORT v1\n"
        "p1|20250110|N05BA04|120\n"
        "p1|20250610|N05BA04|120\n"
        "p2|20250301|N05CD07|60\n"
        "p2|20250901|N05CD07|60\n"
        "p3|20250301|N05CF01|20\n"
    )
    return path


@pytest.mark.usefixtures("acme")
def test_the_plugin_is_found_through_its_entry_point() -> None:
    plugins = make_plugins()
    info = {i.name: i for i in plugins.info()}
    assert info["acme"].distribution == "acme-benzo-plugin"
    assert info["acme"].version == "2.3"
    assert info["acme"].readers == ("acme",)
    assert info["acme"].criteria == ("acme_large_supplies",)
    assert not info["acme"].internal
    assert plugins.owner("readers", "acme") == "acme"


@pytest.mark.usefixtures("acme")
def test_outside_reader_and_criterion_end_to_end(tmp_path: Path) -> None:
    from benzoredux.screening import screen

    with using_plugins() as plugins:
        result = read_source(_export(tmp_path))  # detected: the only reader that claims it
        assert result.format == "acme"
        assert result.dispensings is not None
        assert result.dispensings["date"].iloc[0] == dt.datetime(2025, 1, 10)
        selection = select_chronic_users(result.dispensings, dt.date(2025, 12, 31))
        assert selection["patient_id"].tolist() == ["p1", "p2"]
        others = [key for key in plugins.criteria() if key != "acme_large_supplies"]
        screening = screen(selection, "2025-12-31", disable=others)
    table = screening.table.set_index("patient_id")
    assert table.loc["p1", "decision"] == "excluded"
    assert "more than 200 units" in table.loc["p1", "reasons"]
    assert table.loc["p2", "decision"] == "eligible"


@pytest.mark.usefixtures("acme")
def test_the_criterion_parameters_can_be_changed_by_the_practice(tmp_path: Path) -> None:
    from benzoredux.screening import screen

    with using_plugins() as plugins:
        result = read_source(_export(tmp_path))
        selection = select_chronic_users(result.dispensings, dt.date(2025, 12, 31))
        others = [key for key in plugins.criteria() if key != "acme_large_supplies"]
        screening = screen(
            selection,
            "2025-12-31",
            disable=others,
            parameters={"acme_large_supplies": {"max_units": 100}},
        )
    assert set(screening.table["decision"]) == {"excluded"}


@pytest.mark.usefixtures("acme")
def test_the_command_line_lists_the_plugin_and_reads_its_format(tmp_path: Path) -> None:
    listing = CliRunner().invoke(main, ["plugins"])
    assert listing.exit_code == 0, listing.output
    assert "acme (acme-benzo-plugin 2.3; acme_benzo)" in listing.output
    assert "reads: acme" in listing.output
    assert "criteria: acme_large_supplies" in listing.output
    assert "  acme: ACME practice export" in listing.output
    selected = CliRunner().invoke(
        main,
        [
            "select",
            str(_export(tmp_path)),
            "--format",
            "acme",
            "--reference-date",
            "2025-12-31",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert selected.exit_code == 0, selected.output
    assert "2 chronic users selected" in selected.output
