"""The plugin manager: discovery, order, duplicate names, broken plugins, blocking, calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from benzoredux.hookspecs import HOOKS_VERSION, Reader, hookimpl
from benzoredux.models import LetterKind
from benzoredux.plugins import (
    BLOCK_VARIABLE,
    INTERNAL_PLUGINS,
    PluginError,
    get_plugins,
    make_plugins,
    reset_plugins,
    using_plugins,
)

from .conftest import Install

BUILT_IN_READERS = {"ais", "delimited", "fhir", "his", "sfk"}


def test_built_in_readers_come_through_entry_points_of_the_distribution() -> None:
    plugins = make_plugins()
    assert set(plugins.readers()) >= BUILT_IN_READERS
    info = {i.name: i for i in plugins.info()}
    for name in BUILT_IN_READERS:
        assert info[name].distribution == "benzoredux"
        assert info[name].readers == (name,)
        assert not info[name].internal
        assert info[name].hooks == ("benzoredux_register_readers",)


def test_internal_plugins_are_listed_and_called_first() -> None:
    plugins = make_plugins()
    listed = [i.name for i in plugins.info()]
    assert listed[: len(INTERNAL_PLUGINS)] == sorted(INTERNAL_PLUGINS)
    assert all(i.internal for i in plugins.info()[: len(INTERNAL_PLUGINS)])
    order = [
        name
        for name, _ in plugins._implementations(plugins.manager.hook.benzoredux_register_readers)
    ]
    assert order == sorted(order)  # entry points are registered by name, and called so


def test_get_plugins_is_loaded_once_and_reset_loads_again() -> None:
    reset_plugins()
    first = get_plugins()
    assert get_plugins() is first
    reset_plugins()
    assert get_plugins() is not first


def _reader(name: str) -> Any:
    class Named:
        description = "test reader"

        def detect(self, source: Path) -> float:
            return 0.0

        def read(self, source: Path, *, options: Mapping[str, Any]) -> Any:
            raise NotImplementedError

    reader = Named()
    reader.name = name  # type: ignore[attr-defined]
    return reader


class _RegistersAis:
    __name__ = "copycat"

    @staticmethod
    @hookimpl
    def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
        register(_reader("ais"))


def test_a_reader_name_given_twice_names_both_plugins() -> None:
    with (
        using_plugins(_RegistersAis()) as plugins,
        pytest.raises(
            PluginError,
            match="readers: the name 'ais' is registered by both plugin 'ais' and plugin 'copycat'",
        ),
    ):
        plugins.readers()


def test_an_entry_point_name_used_by_two_distributions_is_an_error(install: Install) -> None:
    install("other-vendor", {"ais": "other_ais"}, {"other_ais": ""})
    with pytest.raises(PluginError, match="two plugins are called 'ais'") as caught:
        make_plugins()
    assert "benzoredux" in str(caught.value)
    assert "other-vendor" in str(caught.value)


def test_a_broken_plugin_is_named_and_can_be_blocked(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        "broken-plugin",
        {"broken": "broken_mod"},
        {"broken_mod": "raise RuntimeError('no licence file')\n"},
    )
    with pytest.raises(PluginError) as caught:
        make_plugins()
    message = str(caught.value)
    assert "plugin 'broken' (from broken-plugin) could not be loaded" in message
    assert "RuntimeError: no licence file" in message
    assert f"set {BLOCK_VARIABLE}=broken to run without it" in message
    monkeypatch.setenv(BLOCK_VARIABLE, "broken")
    plugins = make_plugins()
    assert "broken" not in {i.name for i in plugins.info()}
    assert set(plugins.readers()) >= BUILT_IN_READERS


def test_a_plugin_whose_hook_fails_is_named() -> None:
    class Failing:
        __name__ = "failing"

        @staticmethod
        @hookimpl
        def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
            raise KeyError("vendor table")

    with (
        using_plugins(Failing()) as plugins,
        pytest.raises(
            PluginError, match="plugin 'failing' failed in benzoredux_register_readers: KeyError"
        ),
    ):
        plugins.readers()


def test_a_registered_object_must_be_a_reader() -> None:
    class Sloppy:
        __name__ = "sloppy"

        @staticmethod
        @hookimpl
        def benzoredux_register_readers(register: Callable[[Any], None]) -> None:
            register(object())

    with (
        using_plugins(Sloppy()) as plugins,
        pytest.raises(PluginError, match="lacks what a Reader needs"),
    ):
        plugins.readers()


def test_blocking_by_name_and_all_outside_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_VARIABLE, "fhir, sfk")
    assert set(make_plugins().readers()) == BUILT_IN_READERS - {"fhir", "sfk"}
    monkeypatch.setenv(BLOCK_VARIABLE, "*")
    plugins = make_plugins()
    assert dict(plugins.readers()) == {}
    assert {i.name for i in plugins.info()} == set(INTERNAL_PLUGINS)


def test_an_implementation_of_an_unknown_hook_is_refused() -> None:
    class Typo:
        __name__ = "typo"

        @staticmethod
        @hookimpl
        def benzoredux_register_reader(register: Callable[[Reader], None]) -> None:
            """Misspelt: the hook is benzoredux_register_readers."""

    with (
        pytest.raises(PluginError, match="implements a hook benzoredux does not have"),
        using_plugins(Typo()),
    ):
        pass


def test_implementations_may_take_fewer_arguments_than_the_hook() -> None:
    class Fields:
        __name__ = "fields"

        @staticmethod
        @hookimpl
        def benzoredux_letter_fields(kind: LetterKind) -> Mapping[str, Any]:
            return {"practice_motto": f"motto for {kind.value}"}

    with using_plugins(Fields(), entry_points=False) as plugins:
        fields = plugins.letter_fields(LetterKind.STOP_LETTER, {"name": "x"}, dt.date(2026, 1, 5))
    assert fields["practice_motto"] == "motto for stop_letter"


def test_letter_fields_conflicts_are_named() -> None:
    def plugin(name: str, field: str) -> Any:
        class Plugin:
            __name__ = name

            @staticmethod
            @hookimpl
            def benzoredux_letter_fields(
                kind: LetterKind, patient: Mapping[str, Any], letter_date: dt.date
            ) -> Mapping[str, Any]:
                return {field: name}

        return Plugin()

    with (
        using_plugins(plugin("a", "motto"), plugin("b", "motto"), entry_points=False) as plugins,
        pytest.raises(PluginError, match="'motto' is given by both plugin 'a' and plugin 'b'"),
    ):
        plugins.letter_fields(LetterKind.STOP_LETTER, {}, dt.date(2026, 1, 5))
    with (
        using_plugins(plugin("a", "name"), entry_points=False) as plugins,
        pytest.raises(PluginError, match="'name', which the library already fills"),
    ):
        plugins.letter_fields(LetterKind.STOP_LETTER, {"name": "x"}, dt.date(2026, 1, 5))


def test_outputs_written_reaches_every_plugin_in_registration_order(tmp_path: Path) -> None:
    calls: list[tuple[str, str, tuple[Path, ...]]] = []

    def plugin(name: str) -> Any:
        class Plugin:
            __name__ = name

            @staticmethod
            @hookimpl
            def benzoredux_outputs_written(
                step: str, paths: tuple[Path, ...], summary: Mapping[str, Any]
            ) -> None:
                calls.append((name, step, paths))

        return Plugin()

    paths = [tmp_path / "a.csv"]
    with using_plugins(plugin("first"), plugin("second"), entry_points=False) as plugins:
        plugins.outputs_written("select", paths, {"chronic_users": 3})
    assert calls == [("first", "select", tuple(paths)), ("second", "select", tuple(paths))]


def test_hook_wrappers_are_refused() -> None:
    class Wrapper:
        __name__ = "wrapper"

        @staticmethod
        @hookimpl(wrapper=True)
        def benzoredux_outputs_written(step: str, paths: Any, summary: Any) -> Any:
            return (yield)

    with (
        using_plugins(Wrapper(), entry_points=False) as plugins,
        pytest.raises(PluginError, match="cannot be a hook wrapper"),
    ):
        plugins.outputs_written("select", [], {})


def test_an_outside_house_style_is_registered_next_to_the_default(tmp_path: Path) -> None:
    class Style:
        name = "huisstijl-de-linde"
        description = "letterhead of practice De Linde"

        def template(self, kind: LetterKind) -> Path | None:
            return tmp_path / f"{kind.value}.docx" if kind is LetterKind.STOP_LETTER else None

        def context(self) -> Mapping[str, Any]:
            return {"practice_name": "Huisartsenpraktijk De Linde"}

    class Plugin:
        __name__ = "de_linde"

        @staticmethod
        @hookimpl
        def benzoredux_register_house_styles(register: Callable[[Any], None]) -> None:
            register(Style())

    with using_plugins(Plugin(), entry_points=False) as plugins:
        styles = plugins.house_styles()
        assert plugins.owner("house_styles", "huisstijl-de-linde") == "de_linde"
    assert styles["huisstijl-de-linde"].template(LetterKind.INVITATION) is None


def test_hooks_are_versioned() -> None:
    assert HOOKS_VERSION == 1
