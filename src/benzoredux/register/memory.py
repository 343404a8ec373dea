"""A register kept in memory: the reference implementation of the store interface.

For tests, for trying things out, and as the smallest example for an HIS add-on that wants
to keep the register in its own database: it keeps every rule of
:class:`~benzoredux.hookspecs.RegisterStore` (atomic, serialised transactions;
append-only; conflicts refused) in about eighty lines. Nothing survives the process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from attrs import evolve

from benzoredux.register.errors import RegisterConflictError, RegisterError
from benzoredux.register.migrations import CURRENT_VERSION
from benzoredux.register.schema import KINDS
from benzoredux.register.store import Entry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Entries in lists, one per kind; a transaction holds a lock and a list of pending entries.

    >>> from benzoredux.register.memory import MemoryStore
    >>> store = MemoryStore()
    >>> store.entries("letters")
    []
    """

    def __init__(self, location: str = "memory://") -> None:
        self._location = location
        self._committed: dict[str, list[Entry]] = {kind: [] for kind in KINDS}
        self._pending: list[Entry] | None = None
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._highest = dict.fromkeys(KINDS, 0)
        self.closed = False

    @property
    def location(self) -> str:
        """The name given when it was made."""
        return self._location

    @property
    def schema_version(self) -> int:
        """Always the current version: nothing older can exist in memory."""
        return CURRENT_VERSION

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; keep the pending entries only if the block ends without an error."""
        with self._lock:
            if self._pending is not None:
                raise RegisterError("a transaction is already open on this store")
            self._pending, self._owner = [], threading.get_ident()
            highest = dict(self._highest)
            try:
                yield
            except BaseException:
                self._highest = highest
                raise
            else:
                for entry in self._pending:
                    self._committed[entry.kind].append(entry)
            finally:
                self._pending, self._owner = None, None

    def append(self, entries: Sequence[Entry]) -> list[Entry]:
        """Check each entry against what is kept and pending, then add it to the pending list."""
        if self._pending is None or self._owner != threading.get_ident():
            raise RegisterError("entries are appended within a transaction (store.transaction())")
        stored = []
        seen: dict[str, tuple[set[tuple[Any, int]], set[int | None]]] = {}
        for entry in entries:
            if entry.kind not in seen:
                visible = self._visible(entry.kind)
                seen[entry.kind] = (
                    {(e.key, e.revision) for e in visible},
                    {e.entry_id for e in visible},
                )
            taken, ids = seen[entry.kind]
            if (entry.key, entry.revision) in taken or entry.entry_id in ids:
                spec = KINDS[entry.kind]
                raise RegisterConflictError(
                    f"{spec.name} {spec.describe_key(entry.key)}: revision {entry.revision} "
                    f"(or entry {entry.entry_id}) is already recorded"
                )
            entry_id = entry.entry_id
            if entry_id is None:
                entry_id = self._highest[entry.kind] + 1
            self._highest[entry.kind] = max(self._highest[entry.kind], entry_id)
            kept = evolve(entry, entry_id=entry_id, data=dict(entry.data))
            self._pending.append(kept)
            stored.append(kept)
            taken.add((kept.key, kept.revision))
            ids.add(entry_id)
        return stored

    def entries(self, kind: str, key: tuple[Any, ...] | None = None) -> list[Entry]:
        """Committed entries (and, for the transaction's own thread, its pending ones)."""
        with self._lock:
            found = self._visible(kind)
        if key is not None:
            found = [e for e in found if e.key == tuple(key)]
        return sorted(found, key=lambda e: e.entry_id or 0)

    def _visible(self, kind: str) -> list[Entry]:
        entries = list(self._committed[kind])
        if self._pending is not None and self._owner == threading.get_ident():
            entries += [e for e in self._pending if e.kind == kind]
        return entries

    def close(self) -> None:
        """Nothing to release; marks the store closed (tests look at this)."""
        self.closed = True
