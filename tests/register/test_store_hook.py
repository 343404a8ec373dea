"""An HIS add-on keeps the register in its own database: a store registered through the
``benzoredux_register_stores`` hook is used, and the register's rules still hold on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from benzoredux.hookspecs import hookimpl
from benzoredux.models import StopLetter
from benzoredux.plugins import PluginError, using_plugins
from benzoredux.register import (
    LetterRefusedError,
    MemoryStore,
    RegisterError,
    RegisterStore,
    StoreFactory,
    open_register,
)


class HisDatabase:
    """Stands in for an HIS: keeps one in-memory store per programme."""

    name = "hisdb"
    description = "the register inside the practice's HIS database"

    def __init__(self) -> None:
        self.stores: dict[str, MemoryStore] = {}
        self.opened: list[tuple[str, bool]] = []

    def open(self, location: str, *, create: bool) -> RegisterStore:
        self.opened.append((location, create))
        if location not in self.stores:
            if not create:
                raise RegisterError(f"{location}: no such programme in the HIS")
            self.stores[location] = MemoryStore(location)
        return self.stores[location]


def plugin_with(*factories: object) -> SimpleNamespace:
    @hookimpl
    def benzoredux_register_stores(register: Callable[[StoreFactory], None]) -> None:
        for factory in factories:
            register(factory)  # type: ignore[arg-type]

    return SimpleNamespace(
        __name__="his_addon", benzoredux_register_stores=benzoredux_register_stores
    )


def letter(patient_id: str, batch: int) -> StopLetter:
    return StopLetter(
        patient_id=patient_id, gp_ids=["gp1"], letter_date=dt.date(2026, 2, 2), batch=batch
    )


def test_a_registered_store_is_used_and_keeps_the_rules() -> None:
    his = HisDatabase()
    with using_plugins(plugin_with(his), entry_points=False) as plugins:
        assert isinstance(plugins.register_stores()["hisdb"], StoreFactory)
        with open_register("hisdb://programme-7", create=True) as register:
            register.record_letters([letter("p1", 1)], by="assistente")
        with open_register("hisdb://programme-7") as register:
            assert register.store is his.stores["hisdb://programme-7"]
            with pytest.raises(LetterRefusedError):
                register.record_letters([letter("p1", 2)], by="assistente")
            assert [e["patient_id"] for e in register.letters()] == ["p1"]
    assert his.opened == [("hisdb://programme-7", True), ("hisdb://programme-7", False)]
    assert his.stores["hisdb://programme-7"].closed


def test_an_unknown_store_names_the_known_ones() -> None:
    with (
        using_plugins(plugin_with(HisDatabase()), entry_points=False),
        pytest.raises(RegisterError, match=r"no register store 'aisdb'.*known: sqlite, hisdb"),
    ):
        open_register("aisdb://x")


def test_a_plugin_cannot_take_the_sqlite_name() -> None:
    impostor = HisDatabase()
    impostor.name = "sqlite"
    with (
        using_plugins(plugin_with(impostor), entry_points=False) as plugins,
        pytest.raises(PluginError, match="'sqlite' belongs to the built-in"),
    ):
        plugins.register_stores()


def test_a_factory_must_return_a_store() -> None:
    class Broken(HisDatabase):
        def open(self, location: str, *, create: bool) -> RegisterStore:
            return object()  # type: ignore[return-value]

    with (
        using_plugins(plugin_with(Broken()), entry_points=False),
        pytest.raises(RegisterError, match="lacks what a RegisterStore needs"),
    ):
        open_register("hisdb://x", create=True)


def test_something_that_is_not_a_factory_is_refused() -> None:
    with (
        using_plugins(plugin_with(object()), entry_points=False) as plugins,
        pytest.raises(PluginError, match="lacks what a StoreFactory needs"),
    ):
        plugins.register_stores()


def test_the_command_line_opens_a_registered_store() -> None:
    from click.testing import CliRunner

    from benzoredux.cli import main

    his = HisDatabase()
    with using_plugins(plugin_with(his), entry_points=False):
        init = CliRunner().invoke(
            main,
            ["register", "init", "hisdb://programme-7", "--name", "FTO", "--practice-id", "p",
             "--reference-date", "2025-12-31", "--by", "apotheker"],
        )  # fmt: skip
        assert init.exit_code == 0, init.output
        shown = CliRunner().invoke(main, ["register", "show", "hisdb://programme-7"])
        assert shown.exit_code == 0, shown.output
    assert "programme: FTO" in shown.output
    (entry,) = his.stores["hisdb://programme-7"].entries("programme")
    assert entry.recorded_by == "apotheker"


def test_the_docs_page_describes_every_record_kind() -> None:
    from pathlib import Path

    from benzoredux.register import KINDS

    page = (Path(__file__).parents[2] / "docs" / "register.rst").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"``{kind}``" in page, kind


def test_registered_stores_are_listed_like_the_other_plugins() -> None:
    """A store is a plugin contribution like a reader: ``benzoredux plugins`` shows it."""
    from click.testing import CliRunner

    from benzoredux.cli import main

    with using_plugins(plugin_with(HisDatabase()), entry_points=False) as plugins:
        info = {i.name: i for i in plugins.info()}
        assert info["his_addon"].stores == ("hisdb",)
        listing = CliRunner().invoke(main, ["plugins"])
    assert listing.exit_code == 0, listing.output
    assert "register stores: hisdb" in listing.output
    assert "  hisdb: the register inside the practice's HIS database" in listing.output
    assert "  sqlite: a SQLite file (built in; a plain path)" in listing.output
