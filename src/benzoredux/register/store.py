"""The register's entries, and where its storage interface is, so an HIS add-on can keep them.

:class:`~benzoredux.register.core.Register` holds the rules (idempotence, the second-letter
refusal, corrections as new revisions); a :class:`~benzoredux.hookspecs.RegisterStore` only keeps
entries. It is deliberately small, so an add-on can implement it on its own database: the SQLite
store (:class:`~benzoredux.register.sqlite.SQLiteStore`) and the in-memory store
(:class:`~benzoredux.register.memory.MemoryStore`) are two implementations, and the hook
``benzoredux_register_stores`` lets a plugin add more
(:class:`~benzoredux.hookspecs.StoreFactory`). Both protocols are plugin contracts, kept in
:mod:`benzoredux.hookspecs` with the other hooks' objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from benzoredux.hookspecs import RegisterStore, StoreFactory
from benzoredux.register.schema import KINDS

# The two protocols are plugin contracts: they live in benzoredux.hookspecs with the other
# hooks' objects, and are imported here for the register's code (and older imports).
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
