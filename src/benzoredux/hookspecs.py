"""The hooks a benzoredux plugin can implement, and the objects it hands over.

A plugin is a module (or any object) with functions marked ``@hookimpl`` and named after the
hooks below. Installed distributions announce their plugins in the ``benzoredux`` entry-point
group::

    [project.entry-points.benzoredux]
    my_practice = "my_practice_plugin"

The library's own readers, criteria and house style are registered through the very same hooks
(see :data:`benzoredux.plugins.INTERNAL_PLUGINS`), so an outside plugin can do everything a
built-in one can.

Most hooks are ``register_*(register)`` hooks (the shape ``llm`` uses): the library calls the
hook once, the plugin calls ``register`` for each thing it contributes. Every result is kept; a
name given twice is an error that names both plugins. Hooks whose answer is merged or ignored
say so in their docstring; no hook here is ``firstresult``.

The hooks are versioned as a whole by :data:`HOOKS_VERSION`: a hook is never changed in an
incompatible way within one version; new hooks and new optional fields of the handed-over
objects may be added (``.. versionadded::`` says when).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    from benzoredux.models import ExclusionCriterion, LetterKind
    from benzoredux.reading.result import ReadResult
    from benzoredux.register.store import StoreFactory

__all__ = [
    "HOOKS_VERSION",
    "PROJECT",
    "HouseStyle",
    "Reader",
    "ScreeningCriterion",
    "hookimpl",
    "hookspec",
]

PROJECT = "benzoredux"
"""The pluggy project name and the entry-point group plugins are found in."""

HOOKS_VERSION = 1
"""The version of the hook specifications below. A plugin may compare it with the version it
was written for; an incompatible change bumps it (and is listed in the changelog)."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Mark a plugin's function as the implementation of the hook of the same name."""


@runtime_checkable
class Reader(Protocol):
    """Reads one kind of source (a vendor export, a FHIR bundle, ...) into canonical tables.

    ``name`` is short, stable and unique (``ais-csv``, ``fhir``); users pass it to force a
    format. ``description`` is one line for ``benzoredux plugins`` and for the error that lists
    the known formats.
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def detect(self, source: Path) -> float:
        """How sure this reader is that it can read ``source``: 0 (not mine) to 1 (certain).

        Called for format detection with every registered reader; must be cheap (read a few
        kilobytes at most) and must not raise for a source of another kind.
        """
        ...

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read ``source`` into a :class:`~benzoredux.reading.result.ReadResult`.

        Build the result with :func:`benzoredux.reading.raw.build_result`, which parses,
        validates and reconciles the rows the same way for every format. Return the rejected
        rows in it rather than raising for them: :func:`benzoredux.reading.sources.read_source`
        raises in strict mode. ``options`` carry the caller's choices: ``mapping`` (a
        :class:`~benzoredux.reading.mapping.SourceMapping` or ``None``), ``strict``,
        ``duplicates`` (``"reject"`` or ``"keep"``), ``code_map`` (``"system|code"`` -> ATC)
        and whatever else the caller passed; a reader ignores options it does not know.
        """
        ...


@runtime_checkable
class ScreeningCriterion(Protocol):
    """Decides one exclusion criterion for every selected patient (step 2, screening).

    ``criterion`` describes it (stable ``key``, the label the GP reads, default on or off, its
    parameters); ``decide`` is vectorised over the whole selection.
    """

    @property
    def criterion(self) -> ExclusionCriterion:
        """What the criterion is (read-only, so frozen attrs classes qualify)."""
        ...

    def decide(self, context: Any) -> Any:
        """Which patients this criterion excludes, and why.

        ``context`` is the screening context (the selection, the patients and episodes tables
        when given, the reference date and the criterion's parameters); the return value is a
        table with ``patient_id``, ``excluded`` (bool) and ``reason`` (text, may be empty when not
        excluded). The screening module defines both precisely.
        """
        ...


@runtime_checkable
class HouseStyle(Protocol):
    """A practice's letter templates and letterhead (step 3, letters).

    ``name`` is what a user chooses (``--style``); the built-in style is ``default``.
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def template(self, kind: LetterKind) -> Path | None:
        """The ``.docx`` template for ``kind``, or ``None`` to use the default style's."""
        ...

    def context(self) -> Mapping[str, Any]:
        """Fields every letter of this style can use (practice name, address, phone, ...)."""
        ...


@hookspec
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register readers for sources this plugin understands.

    Called once, the first time the library needs its list of readers. Call ``register`` with
    each :class:`Reader`. Format detection asks every reader's
    :meth:`~Reader.detect` and uses the most confident one.

    .. versionadded:: 0.1.0 (hooks version 1)
    """


@hookspec
def benzoredux_register_criteria(register: Callable[[ScreeningCriterion], None]) -> None:
    """Register exclusion criteria for screening.

    Called once, the first time the library needs its list of criteria. Call ``register`` with
    each :class:`ScreeningCriterion`; its ``criterion.key`` must be unique among all plugins.
    A practice switches criteria on or off by key.

    .. versionadded:: 0.1.0 (hooks version 1)
    """


@hookspec
def benzoredux_register_house_styles(register: Callable[[HouseStyle], None]) -> None:
    """Register letter house styles.

    Called once, the first time the library needs its list of styles. Call ``register`` with
    each :class:`HouseStyle`.

    .. versionadded:: 0.1.0 (hooks version 1)
    """


@hookspec
def benzoredux_letter_fields(
    kind: LetterKind, patient: Mapping[str, Any], letter_date: dt.date
) -> Mapping[str, Any] | None:
    """Extra fields for one letter, on top of the library's own.

    Called for every letter rendered. ``patient`` holds the fields the library already has for
    this patient (name, address, GP, ...); it must not be changed. Return a mapping of new field
    names to values, or ``None``. The results of all plugins are merged; two plugins giving the
    same field, or a plugin overriding a library field, is an error naming the field.

    .. versionadded:: 0.1.0 (hooks version 1)
    """


@hookspec
def benzoredux_outputs_written(
    step: str, paths: Sequence[Path], summary: Mapping[str, Any]
) -> None:
    """Act on finished outputs (copy them to a document store, notify someone, ...).

    Called after a step (``select``, ``screen``, ``letters``, ``schedule``, ``evaluate``,
    ``report``, ...) has written all its files. ``paths`` are the files written; ``summary`` holds
    the step's counts (never patient data). Return values are ignored; an exception stops the run
    with the plugin's name in the message.

    .. versionadded:: 0.1.0 (hooks version 1)
    """


@hookspec
def benzoredux_register_stores(register: Callable[[StoreFactory], None]) -> None:
    """Register stores that keep the programme register somewhere other than a SQLite file.

    For an HIS or AIS add-on that keeps the register's records in its own database. Called
    once, the first time a register location with a scheme (``NAME://...``) is opened. Call
    ``register`` with each :class:`~benzoredux.register.store.StoreFactory`; its ``name`` is
    the scheme, and ``benzoredux.open_register("NAME://...")`` then asks it to open the store.
    The name ``sqlite`` belongs to the built-in store. The stores it opens implement
    :class:`~benzoredux.register.store.RegisterStore`; the register's rules (idempotence,
    the second-letter refusal, corrections as new revisions) stay in the library.

    .. versionadded:: 0.1.0 (hooks version 1)
    """
