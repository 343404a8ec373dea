"""The plugin manager: finds plugins, and gives core code typed access to what they register.

Core code never calls the untyped ``pm.hook``; it asks :func:`get_plugins` for a
:class:`Plugins` facade and calls its typed methods (the shape tox 4 uses). Plugins are the
:data:`INTERNAL_PLUGINS` (the library's own behaviour) plus every entry point in the
``benzoredux`` group of the installed distributions. Loading is lazy: nothing is imported until
a plugin is first needed, so ``import benzoredux`` stays light.

Set the environment variable ``BENZOREDUX_BLOCK_PLUGINS`` to a comma-separated list of plugin
names to leave those out (a broken plugin must not stop a practice's run), or to ``*`` to load
only the internal plugins.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
from attrs import frozen

from benzoredux import hookspecs
from benzoredux.errors import BenzoreduxError
from benzoredux.hookspecs import HouseStyle, Reader, ScreeningCriterion, StoreFactory

if TYPE_CHECKING:
    import datetime as dt

    from benzoredux.models import LetterKind
else:  # resolvable at run time too, for the API docs (sphinx-autodoc-typehints)
    import datetime as dt

    from benzoredux.models import LetterKind

__all__ = [
    "INTERNAL_PLUGINS",
    "PluginError",
    "PluginInfo",
    "Plugins",
    "get_plugins",
    "reset_plugins",
    "using_plugins",
]

INTERNAL_PLUGINS: tuple[str, ...] = (
    "benzoredux.screening.criteria",
    "benzoredux.letters.default_style",
)
"""Modules of the library registered as plugins before any outside one, in this order.

Each is an ordinary plugin module with ``@hookimpl`` functions: the built-in screening criteria,
the default house style. (The vendor readers are outside plugins of the ``benzoredux_adapters``
distribution part, found through their entry points like anyone else's.)"""

BLOCK_VARIABLE = "BENZOREDUX_BLOCK_PLUGINS"

T = TypeVar("T")


class PluginError(BenzoreduxError):
    """A plugin could not be loaded, or what it registered conflicts with another plugin."""


@frozen
class PluginInfo:
    """One active plugin, as ``benzoredux plugins`` lists it."""

    name: str
    """The entry-point name (or the module name of an internal plugin)."""
    module: str
    distribution: str | None
    """The installed distribution that announced it (``None`` for objects registered in code)."""
    version: str | None
    hooks: tuple[str, ...]
    """The hooks it implements."""
    internal: bool
    readers: tuple[str, ...] = ()
    """The names of the readers (formats) it registered."""
    criteria: tuple[str, ...] = ()
    """The keys of the screening criteria it registered."""
    house_styles: tuple[str, ...] = ()
    """The names of the house styles it registered."""
    stores: tuple[str, ...] = ()
    """The names (location schemes) of the register stores it registered."""


class Plugins:
    """Typed access to the plugins of one ``pluggy.PluginManager``.

    Registries (readers, criteria, styles) are collected once, on first use, and checked for
    duplicate names.
    """

    def __init__(self, manager: pluggy.PluginManager, *, internal: Sequence[str] = ()) -> None:
        self.manager = manager
        self._internal = frozenset(internal)
        self._registries: dict[str, Mapping[str, Any]] = {}
        self._owners: dict[str, dict[str, str]] = {}
        self._distributions: dict[str, tuple[str, str]] = {}

    # --- registries -----------------------------------------------------------------------
    def readers(self) -> Mapping[str, Reader]:
        """Every registered reader by name, in registration order."""
        return self._registry(
            "readers", self.manager.hook.benzoredux_register_readers, Reader, lambda r: r.name
        )

    def criteria(self) -> Mapping[str, ScreeningCriterion]:
        """Every registered screening criterion by its key."""
        return self._registry(
            "criteria",
            self.manager.hook.benzoredux_register_criteria,
            ScreeningCriterion,
            lambda c: c.criterion.key,
        )

    def house_styles(self) -> Mapping[str, HouseStyle]:
        """Every registered house style by name."""
        return self._registry(
            "house_styles",
            self.manager.hook.benzoredux_register_house_styles,
            HouseStyle,
            lambda s: s.name,
        )

    def register_stores(self) -> Mapping[str, StoreFactory]:
        """Every registered register store factory by name (the scheme of its locations).

        ``sqlite`` is the built-in store's and cannot be registered by a plugin.
        """
        stores: Mapping[str, StoreFactory] = self._registry(
            "register_stores",
            self.manager.hook.benzoredux_register_stores,
            StoreFactory,
            lambda f: f.name,
        )
        if "sqlite" in stores:
            raise PluginError(
                "register_stores: the name 'sqlite' belongs to the built-in register store; "
                "choose another name"
            )
        return stores

    def _registry(
        self,
        kind: str,
        hook: Any,
        protocol: Any,
        key: Callable[[Any], str],
    ) -> Mapping[str, T]:
        if kind in self._registries:
            return self._registries[kind]
        found: dict[str, T] = {}
        owners: dict[str, str] = {}
        for plugin_name, implementation in self._implementations(hook):
            registered: list[Any] = []
            self._call(plugin_name, implementation, register=registered.append)
            for item in registered:
                if not isinstance(item, protocol):
                    raise PluginError(
                        f"plugin {plugin_name!r} registered {item!r} as one of its {kind}, but it "
                        f"lacks what a {protocol.__name__} needs (see benzoredux.hookspecs)"
                    )
                try:
                    name = key(item)
                except AttributeError as error:
                    raise PluginError(
                        f"plugin {plugin_name!r} registered {item!r} as one of its {kind}, but "
                        f"its name cannot be read: {error}"
                    ) from error
                if not isinstance(name, str) or not name:
                    raise PluginError(
                        f"plugin {plugin_name!r} registered one of its {kind} with the name "
                        f"{name!r}; a name is non-empty text"
                    )
                if name in found:
                    raise PluginError(
                        f"{kind}: the name {name!r} is registered by both plugin "
                        f"{owners[name]!r} and plugin {plugin_name!r}"
                    )
                found[name] = item
                owners[name] = plugin_name
        self._registries[kind] = found
        self._owners[kind] = owners
        return found

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered ``name`` among ``kind`` (``readers``, ``criteria``,
        ``house_styles``)."""
        {"readers": self.readers, "criteria": self.criteria, "house_styles": self.house_styles}[
            kind
        ]()
        return self._owners[kind][name]

    # --- calls ----------------------------------------------------------------------------
    def letter_fields(
        self, kind: LetterKind, patient: Mapping[str, Any], letter_date: dt.date
    ) -> dict[str, Any]:
        """The extra letter fields of all plugins, merged; a field given twice is an error."""
        merged: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for plugin_name, implementation in self._implementations(
            self.manager.hook.benzoredux_letter_fields
        ):
            extra = self._call(
                plugin_name, implementation, kind=kind, patient=patient, letter_date=letter_date
            )
            for field_name, value in dict(extra or {}).items():
                if field_name in patient:
                    raise PluginError(
                        f"plugin {plugin_name!r} gives the letter field {field_name!r}, which the "
                        "library already fills; choose another name"
                    )
                if field_name in merged:
                    raise PluginError(
                        f"the letter field {field_name!r} is given by both plugin "
                        f"{owners[field_name]!r} and plugin {plugin_name!r}"
                    )
                merged[field_name] = value
                owners[field_name] = plugin_name
        return merged

    def outputs_written(self, step: str, paths: Sequence[Path], summary: Mapping[str, Any]) -> None:
        """Tell every plugin that ``step`` wrote ``paths``."""
        for plugin_name, implementation in self._implementations(
            self.manager.hook.benzoredux_outputs_written
        ):
            self._call(plugin_name, implementation, step=step, paths=tuple(paths), summary=summary)

    def _implementations(self, hook: Any) -> Iterator[tuple[str, Any]]:
        """The implementations of ``hook`` in registration order: internal plugins first.

        ``get_hookimpls()`` lists them in registration order (``tryfirst``/``trylast`` aside);
        pluggy itself calls them in the reverse order. Wrappers cannot take part: the facade
        calls each implementation itself, to name the plugin when one fails.
        """
        for implementation in hook.get_hookimpls():
            if implementation.hookwrapper or implementation.wrapper:
                raise PluginError(
                    f"plugin {implementation.plugin_name!r}: {hook.name} cannot be a hook "
                    "wrapper; implement it as a plain hook"
                )
            yield implementation.plugin_name, implementation

    @staticmethod
    def _call(plugin_name: str, implementation: Any, **kwargs: Any) -> Any:
        """Call one implementation with the arguments it declares (a plugin may take fewer
        than the hook offers, as pluggy allows; that is what lets a hook gain arguments)."""
        function = implementation.function
        try:
            return function(**{name: kwargs[name] for name in implementation.argnames})
        except BenzoreduxError:
            raise
        except Exception as error:
            raise PluginError(
                f"plugin {plugin_name!r} failed in {function.__name__}: "
                f"{type(error).__name__}: {error}"
            ) from error

    # --- listing --------------------------------------------------------------------------
    def info(self, *, registered: bool = True) -> list[PluginInfo]:
        """The active plugins, internal ones first.

        With ``registered`` (the default) the registries are collected first, so each entry
        also lists the readers, criteria, house styles and register stores the plugin
        registered.
        """
        if registered:
            self.readers()
            self.criteria()
            self.house_styles()
            self.register_stores()
        infos = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is None:  # blocked
                continue
            distribution, version = self._distributions.get(name, (None, None))
            hooks = tuple(sorted(h.name for h in self.manager.get_hookcallers(plugin) or ()))

            def mine(kind: str, plugin_name: str = name) -> tuple[str, ...]:
                return tuple(n for n, o in self._owners.get(kind, {}).items() if o == plugin_name)

            infos.append(
                PluginInfo(
                    name=name,
                    module=getattr(plugin, "__name__", type(plugin).__name__),
                    distribution=distribution,
                    version=version,
                    hooks=hooks,
                    internal=name in self._internal,
                    readers=mine("readers"),
                    criteria=mine("criteria"),
                    house_styles=mine("house_styles"),
                    stores=mine("register_stores"),
                )
            )
        return sorted(infos, key=lambda i: (not i.internal, i.name))


def _blocked() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get(BLOCK_VARIABLE, "").split(",") if n.strip())


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=hookspecs.PROJECT), key=lambda e: e.name)


def make_plugins(
    *, internal: Sequence[str] = INTERNAL_PLUGINS, entry_points: bool = True
) -> Plugins:
    """A fresh :class:`Plugins`: the internal plugins, then the installed ones (unless blocked).

    Entry points are loaded one by one (rather than with pluggy's
    ``load_setuptools_entrypoints``) so that a plugin that fails to import is reported with its
    name and distribution.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager, internal=internal)
    for module_name in internal:
        manager.register(importlib.import_module(module_name), name=module_name)
    blocked = _blocked()
    if entry_points and "*" not in blocked:
        for entry_point in _entry_points():
            if entry_point.name in blocked:
                manager.set_blocked(entry_point.name)
                continue
            if manager.has_plugin(entry_point.name):
                first = plugins._distributions.get(entry_point.name, ("the library", ""))[0]
                source = entry_point.dist.name if entry_point.dist else "an unknown distribution"
                raise PluginError(
                    f"two plugins are called {entry_point.name!r}: one from {first}, one from "
                    f"{source}; uninstall one, or set {BLOCK_VARIABLE}={entry_point.name} to "
                    "leave both out"
                )
            try:
                plugin = entry_point.load()
            except Exception as error:
                source = entry_point.dist.name if entry_point.dist else "an unknown distribution"
                raise PluginError(
                    f"plugin {entry_point.name!r} (from {source}) could not be loaded: "
                    f"{type(error).__name__}: {error}; set {BLOCK_VARIABLE}={entry_point.name} "
                    "to run without it"
                ) from error
            manager.register(plugin, name=entry_point.name)
            if entry_point.dist is not None:
                plugins._distributions[entry_point.name] = (
                    entry_point.dist.metadata["Name"],
                    entry_point.dist.version,
                )
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"a plugin implements a hook benzoredux does not have: {error}"
        ) from error
    return plugins


_loaded: list[Plugins] = []
_overrides: list[Plugins] = []


def get_plugins() -> Plugins:
    """The process-wide plugins, loaded on first use (or those of :func:`using_plugins`)."""
    if _overrides:
        return _overrides[-1]
    if not _loaded:
        _loaded.append(make_plugins())
    return _loaded[0]


def reset_plugins() -> None:
    """Forget the loaded plugins, so the next use loads them again (after installing one)."""
    _loaded.clear()


@contextmanager
def using_plugins(*extra: object, entry_points: bool = True) -> Iterator[Plugins]:
    """Within the block, :func:`get_plugins` also includes the plugin objects ``extra``.

    For tests and for applications that register plugins in code rather than through an
    entry point::

        with using_plugins(my_plugin_module):
            ...
    """
    plugins = make_plugins(entry_points=entry_points)
    for number, plugin in enumerate(extra):
        plugins.manager.register(plugin, name=getattr(plugin, "__name__", f"plugin-{number}"))
    try:
        plugins.manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"a plugin implements a hook benzoredux does not have: {error}"
        ) from error
    _overrides.append(plugins)
    try:
        yield plugins
    finally:
        _overrides.remove(plugins)
