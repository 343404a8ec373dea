"""The programme register: the intervention's state, kept safely between runs.

A programme runs for about fifteen months (selection, letters, invitations and consults,
monitoring, evaluation) and several people work on it. The register keeps what was decided and
done, with who and when, so that no step is lost or done twice, and no patient gets a second
stop letter by accident. See :doc:`/register` for the guarantees and the record kinds.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from benzoredux.register.core import LetterResult, Register, ScreeningDecision, default_by
from benzoredux.register.errors import (
    LetterRefusedError,
    RegisterConflictError,
    RegisterDamagedError,
    RegisterError,
    RegisterVersionError,
)
from benzoredux.register.memory import MemoryStore
from benzoredux.register.migrations import CURRENT_VERSION
from benzoredux.register.schema import (
    KINDS,
    CallOutcome,
    ProgrammeUnit,
    ScreeningSource,
    TaskStatus,
)
from benzoredux.register.sqlite import DEFAULT_TIMEOUT, SQLiteStore
from benzoredux.register.store import Entry, RegisterStore, StoreFactory
from benzoredux.register.transfer import export_register, import_register

__all__ = [
    "CURRENT_VERSION",
    "KINDS",
    "CallOutcome",
    "Entry",
    "LetterRefusedError",
    "LetterResult",
    "MemoryStore",
    "ProgrammeUnit",
    "Register",
    "RegisterConflictError",
    "RegisterDamagedError",
    "RegisterError",
    "RegisterStore",
    "RegisterVersionError",
    "SQLiteStore",
    "ScreeningDecision",
    "ScreeningSource",
    "StoreFactory",
    "TaskStatus",
    "default_by",
    "export_register",
    "import_register",
    "open_register",
]


def open_register(
    location: str | os.PathLike[str],
    *,
    create: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Register:
    """Open the register at ``location`` (``create=True`` makes it if it does not exist).

    ``location`` is a file path (or ``sqlite://PATH``) for the built-in SQLite register, or
    ``NAME://...`` for a store that a plugin registered under ``NAME`` with the
    ``benzoredux_register_stores`` hook (an HIS add-on keeping the records in its own
    database). ``timeout`` is how long a SQLite writer waits for another user's step.
    """
    text = os.fspath(location)
    scheme, separator, rest = text.partition("://")
    if not separator or scheme == "sqlite":
        store: RegisterStore = SQLiteStore(
            rest if separator else text, create=create, timeout=timeout
        )
    else:
        from benzoredux.plugins import get_plugins

        factories = get_plugins().register_stores()
        if scheme not in factories:
            known = ", ".join(["sqlite", *sorted(factories)])
            raise RegisterError(
                f"no register store {scheme!r} is installed (known: {known}); is the add-on's "
                "plugin installed?"
            )
        store = factories[scheme].open(text, create=create)
        if not isinstance(store, RegisterStore):
            raise RegisterError(
                f"the register store {scheme!r} returned {type(store).__name__}, which lacks "
                "what a RegisterStore needs (see benzoredux.register.store)"
            )
    if clock is None:
        return Register(store)
    return Register(store, clock=clock)
