"""The storage interface of the register, so an HIS add-on can keep the records itself.

:class:`~benzoredux.register.core.Register` holds the rules (idempotence, the second-letter refusal,
corrections as new revisions); a :class:`RegisterStore` only keeps entries. It is deliberately
small, so an add-on can implement it on its own database: the SQLite store
(:class:`~benzoredux.register.sqlite.SQLiteStore`) and the in-memory store
(:class:`~benzoredux.register.memory.MemoryStore`) are two implementations, and the hook
``benzoredux_register_stores`` lets a plugin add more (:class:`StoreFactory`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from attrs import field, frozen

from benzoredux.register.schema import KINDS

__all__ = ["Entry", "RegisterStore", "StoreFactory"]


def _utc(_instance: object, _attribute: object, value: dt.datetime) -> None:
    if value.utcoffset() != dt.timedelta(0):
        raise ValueError("recorded_at must be a UTC datetime (tzinfo=datetime.UTC)")


@frozen(kw_only=True)
class Entry:
    """One entry of the register: a revision of one key of one kind, with who and when.

    ``data`` holds every field of the kind (see :data:`~benzoredux.register.schema.KINDS`),
    normalised: dates as :class:`datetime.date`, enums as their text values.
    """

    kind: str
    revision: int
    """1 for the first entry of a key, then 2, 3, ... for each correction."""
    recorded_at: dt.datetime = field(validator=_utc)
    """When the entry was made (UTC)."""
    recorded_by: str
    """Who made it (a name or user id)."""
    data: Mapping[str, Any]
    remark: str = ""
    """Why: the reason for a correction, or a short comment."""
    entry_id: int | None = None
    """Given by the store when the entry is appended (increasing per kind)."""

    @property
    def key(self) -> tuple[Any, ...]:
        """The values of the kind's key fields: what this entry is about."""
        return KINDS[self.kind].key_of(self.data)

    def __getitem__(self, name: str) -> Any:
        """``entry["status"]``: a field of ``data``."""
        return self.data[name]


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
