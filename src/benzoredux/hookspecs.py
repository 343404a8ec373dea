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
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    import narwhals as nw
    from narwhals.typing import IntoFrame

    from benzoredux.models import ExclusionCriterion, LetterKind
    from benzoredux.reading.result import ReadResult
    from benzoredux.register.store import Entry
    from benzoredux.screening import ScreeningContext

__all__ = [
    "HOOKS_VERSION",
    "PROJECT",
    "HouseStyle",
    "Reader",
    "RegisterStore",
    "ScreeningCriterion",
    "StoreFactory",
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
        ``duplicates`` (``"reject"`` or ``"keep"``), ``code_map`` (``"system|code"`` -> ATC),
        ``extra_forms`` and ``max_quantity`` (pass both on to ``build_result``: the most units
        one benzodiazepine dispensing may hold, :class:`~benzoredux.tables.Plausibility`)
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

    def decide(
        self, context: ScreeningContext
    ) -> nw.LazyFrame[Any] | nw.DataFrame[Any] | IntoFrame:
        """Which patients this criterion excludes, and why.

        ``context`` is the :class:`~benzoredux.screening.ScreeningContext`: the selection, the
        patients and episodes tables when given (all as narwhals lazy frames on one engine),
        the reference date and the criterion's parameters. The return value is a table (a
        narwhals or native frame; a lazy frame on the context's engine is cheapest) with
        ``patient_id``, ``excluded`` (bool; empty when the criterion cannot decide) and
        ``reason`` (text, may be empty when not excluded);
        :meth:`~benzoredux.screening.ScreeningContext.answer` builds one.
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


@runtime_checkable
class RegisterStore(Protocol):
    """Where the register's entries are kept.

    Rules every store keeps (the shared tests in ``tests/register/test_store_contract.py``
    check them):

    * :meth:`transaction` is atomic and serialised: within it, no other writer (thread or
      process) can append, and either all its appends are kept or none is (also when the
      process dies half way).
    * :meth:`append` is only called within a transaction; it refuses an entry whose kind, key
      and revision already exist (:class:`~benzoredux.register.errors.RegisterConflictError`),
      gives each new entry an ``entry_id`` (or keeps the one given, for an import) and never
      changes or removes an entry.
    * :meth:`entries` returns entries in the order they were appended (by ``entry_id``).
    """

    @property
    def location(self) -> str:
        """Where the register is (a path, or a description for an outside store)."""
        ...

    @property
    def schema_version(self) -> int:
        """The version of the record kinds this store holds."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """An exclusive write transaction (see above)."""
        ...

    def append(self, entries: Sequence[Entry]) -> list[Entry]:
        """Keep ``entries``; return them with their ``entry_id``."""
        ...

    def entries(self, kind: str, key: tuple[Any, ...] | None = None) -> list[Entry]:
        """The entries of ``kind`` (of one key, if given), oldest first."""
        ...

    def close(self) -> None:
        """Release the store (close files and connections)."""
        ...


@runtime_checkable
class StoreFactory(Protocol):
    """Opens registers of one kind of store; registered by ``benzoredux_register_stores``.

    ``name`` is the scheme of its locations: ``open_register("hisdb://programme-7")`` asks the
    factory named ``hisdb`` for the store at ``hisdb://programme-7``. ``sqlite`` is built in.
    """

    name: str
    description: str

    def open(self, location: str, *, create: bool) -> RegisterStore:
        """The store at ``location``; ``create`` allows making a new, empty one."""
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
    ``register`` with each :class:`StoreFactory`; its ``name`` is
    the scheme, and ``benzoredux.open_register("NAME://...")`` then asks it to open the store.
    The name ``sqlite`` belongs to the built-in store. The stores it opens implement
    :class:`RegisterStore`; the register's rules (idempotence,
    the second-letter refusal, corrections as new revisions) stay in the library.

    .. versionadded:: 0.1.0 (hooks version 1)
    """
