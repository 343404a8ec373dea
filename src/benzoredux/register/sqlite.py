"""The default store: one SQLite file per programme, safe for several users at once.

* **Private from the first byte**: a new register file is created with mode ``0o600`` before
  SQLite writes anything into it (SQLite gives its ``-wal`` and ``-shm`` files the same mode).
  Opening an existing register that others can read makes it owner-only again.
* **One transaction per step**: :meth:`SQLiteStore.transaction` is ``BEGIN IMMEDIATE`` ...
  ``COMMIT``; an exception rolls back, and a process that dies half way leaves nothing, because
  SQLite only makes a transaction visible once it is committed.
* **Two users at once**: the file is in WAL mode (readers never block the writer) and a
  writer waits up to ``timeout`` seconds for another's transaction to finish instead of
  failing. ``BEGIN IMMEDIATE`` takes the write lock before the step reads anything, so a check
  such as "has this patient had a stop letter?" cannot be overtaken by another writer.
* **Versioned**: ``user_version`` holds the schema version; an older register is backed up
  and migrated when opened (:mod:`benzoredux.register.migrations`), a newer one is refused.
* **Append-only**: triggers refuse ``UPDATE`` and ``DELETE``; corrections are new rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benzoredux.register.codec import decode_sql, encode_sql
from benzoredux.register.errors import (
    RegisterConflictError,
    RegisterDamagedError,
    RegisterError,
    RegisterVersionError,
)
from benzoredux.register.migrations import APPLICATION_ID, CURRENT_VERSION, MIGRATIONS
from benzoredux.register.schema import AUDIT_COLUMNS, KINDS
from benzoredux.register.store import Entry

__all__ = ["DEFAULT_TIMEOUT", "SQLiteStore", "create_private_file", "split_statements"]

DEFAULT_TIMEOUT = 30.0
"""Seconds a writer waits for another writer's step to finish before giving up."""

PRIVATE_MODE = 0o600


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode ``0o600``; ``False`` if it already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)
    return True


def split_statements(script: str) -> list[str]:
    """The complete SQL statements of ``script`` (trigger bodies kept whole).

    >>> from benzoredux.register.sqlite import split_statements
    >>> split_statements("CREATE TABLE a (x); CREATE TRIGGER t BEFORE DELETE ON a "
    ...                  "BEGIN SELECT 1; END; ")
    ['CREATE TABLE a (x);', 'CREATE TRIGGER t BEFORE DELETE ON a BEGIN SELECT 1; END;']
    """
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";")[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() or script.rsplit(";", maxsplit=1)[-1].strip():
        raise RegisterError("incomplete SQL statement in a migration")
    return statements


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class SQLiteStore:
    """A register kept in one SQLite file (see the module docstring for its guarantees).

    ``create=True`` makes a new register when ``path`` does not exist; otherwise a missing file
    is an error (so a typo does not start an empty programme).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        created = create_private_file(self.path) if create else False
        if not self.path.exists():
            raise RegisterError(
                f"{self.path}: no register here (create one with `benzoredux register init`)"
            )
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self._timeout = timeout
        self._in_transaction = False
        self._checked = False
        try:
            self._version = self._prepare(allow_empty=created or create, private=created)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            # Past the identity check: what SQLite could not read there is damage.
            self._conn.close()
            raise self._damaged(type(error).__name__) from None
        except BaseException:
            self._conn.close()
            raise

    # --- opening ------------------------------------------------------------------------
    def _prepare(self, *, allow_empty: bool, private: bool) -> int:
        """Check what the file is, then (and only then) change it: a file that is not a
        register, or a register of a newer version, is refused before its permissions, journal
        mode or contents are touched."""
        try:
            # One statement, so one snapshot: read apart, another process creating the same
            # register could commit its tables (and its application id) in between.
            application_id, tables, version = self._conn.execute(
                "SELECT (SELECT application_id FROM pragma_application_id),"
                " (SELECT count(*) FROM sqlite_master),"
                " (SELECT user_version FROM pragma_user_version)"
            ).fetchone()
        except sqlite3.DatabaseError as error:
            if "malformed" in str(error):
                raise self._damaged("SQLite cannot read its schema") from None
            raise RegisterError(f"{self.path}: not a register ({error})") from None
        if application_id == 0 and tables == 0:
            if not allow_empty:
                raise RegisterError(f"{self.path}: an empty file, not a register")
        elif application_id != APPLICATION_ID:
            raise RegisterError(f"{self.path}: a SQLite database, but not a benzoredux register")
        if not isinstance(version, int) or version < 0:
            raise self._damaged("its schema version is not one benzoredux writes")
        if version > CURRENT_VERSION:
            raise RegisterVersionError(
                f"{self.path}: written by a newer benzoredux (schema version {version}; this "
                f"version reads up to {CURRENT_VERSION}); upgrade benzoredux"
            )
        if not private:
            _make_private(self.path)
        try:
            if self._scalar("PRAGMA journal_mode") != "wal":
                mode = self._switch_to_wal()
                if mode != "wal":
                    raise RegisterError(f"{self.path}: cannot switch to WAL mode (got {mode!r})")
            self._conn.execute("PRAGMA synchronous=FULL")
            if version < CURRENT_VERSION:
                if version > 0:
                    self._backup(version)
                self._migrate()
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise
            raise self._damaged(type(error).__name__) from None
        except sqlite3.DatabaseError as error:
            raise self._damaged(type(error).__name__) from None
        return CURRENT_VERSION

    def _switch_to_wal(self) -> str:
        """Switch the file to WAL mode, waiting for other processes as a writer would.

        The switch needs the file to itself, and SQLite answers "database is locked" at once,
        without its busy timeout, while another process holds it (several processes making the
        same new register at the same moment): try again for up to ``timeout`` seconds.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.005
        while True:
            try:
                return str(self._scalar("PRAGMA journal_mode=WAL"))
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise RegisterError(
                        f"{self.path}: another process keeps the register locked; "
                        f"waited {self._timeout:g} seconds (try again)"
                    ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _backup(self, version: int) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.schema-v{version}-{stamp}.backup")
        create_private_file(target)
        copy = sqlite3.connect(target)
        try:
            self._conn.backup(copy)
        finally:
            copy.close()
        return target

    def _migrate(self) -> None:
        with self.transaction():
            version = int(self._scalar("PRAGMA user_version"))  # another process may have won
            for target in range(version + 1, CURRENT_VERSION + 1):
                for statement in split_statements(MIGRATIONS[target]):
                    try:
                        self._conn.execute(statement)
                    except sqlite3.Error as error:
                        raise RegisterVersionError(
                            f"{self.path}: migrating from schema version {version} to "
                            f"{target} failed ({error}); the register is left as it was"
                        ) from error
                self._conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (target, _now()),
                )
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._conn.execute(f"PRAGMA user_version = {CURRENT_VERSION}")

    def _scalar(self, sql: str) -> Any:
        return self._conn.execute(sql).fetchone()[0]

    # --- the RegisterStore interface ------------------------------------------------------
    @property
    def location(self) -> str:
        """The path of the register file."""
        return str(self.path)

    @property
    def schema_version(self) -> int:
        """The schema version of the file (always the current one once opened)."""
        return self._version

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception."""
        if self._in_transaction:
            raise RegisterError("a transaction is already open on this store")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise self._damaged(type(error).__name__) from None
            raise RegisterError(
                f"{self.path}: the register stayed busy (another user's step did not finish "
                f"in time): {error}"
            ) from None
        except sqlite3.DatabaseError as error:
            raise self._damaged(type(error).__name__) from None
        self._in_transaction = True
        try:
            if not self._checked:
                self._refuse_if_damaged()
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                if not self._conn.in_transaction:
                    raise
                self._conn.execute("ROLLBACK")
                raise
        finally:
            self._in_transaction = False

    def append(self, entries: Sequence[Entry]) -> list[Entry]:
        """Insert ``entries`` (within :meth:`transaction`)."""
        if not self._in_transaction:
            raise RegisterError("entries are appended within a transaction (store.transaction())")
        stored = []
        for entry in entries:
            spec = KINDS[entry.kind]
            columns = ["revision", "recorded_at", "recorded_by", "remark", *spec.names]
            values: list[Any] = [
                entry.revision,
                entry.recorded_at.isoformat(),
                entry.recorded_by,
                entry.remark,
                *(encode_sql(f, entry.data[f.name]) for f in spec.fields),
            ]
            if entry.entry_id is not None:
                columns.insert(0, "entry_id")
                values.insert(0, entry.entry_id)
            sql = (
                f"INSERT INTO {spec.name} ({', '.join(columns)}) "  # noqa: S608 (names from KINDS)
                f"VALUES ({', '.join('?' * len(values))})"
            )
            try:
                cursor = self._conn.execute(sql, values)
            except sqlite3.OperationalError as error:
                if _busy(error):
                    raise
                raise self._damaged(type(error).__name__) from None
            except sqlite3.IntegrityError as error:
                if "UNIQUE" not in str(error):
                    raise RegisterError(
                        f"{spec.name} {spec.describe_key(entry.key)}: the register refused the "
                        f"entry ({error})"
                    ) from None
                raise RegisterConflictError(
                    f"{spec.name} {spec.describe_key(entry.key)}: revision {entry.revision} (or "
                    f"entry {entry.entry_id}) is already recorded"
                ) from None
            except sqlite3.DatabaseError as error:
                raise self._damaged(type(error).__name__) from None
            stored.append(_with_id(entry, int(cursor.lastrowid or 0)))
        return stored

    def entries(self, kind: str, key: tuple[Any, ...] | None = None) -> list[Entry]:
        """The entries of ``kind`` (of one key), in the order they were appended."""
        spec = KINDS[kind]
        columns = [*AUDIT_COLUMNS, *spec.names]
        sql = f"SELECT {', '.join(columns)} FROM {spec.name}"  # noqa: S608 (names from KINDS)
        parameters: list[Any] = []
        if key is not None and spec.key:
            sql += " WHERE " + " AND ".join(f"{name} = ?" for name in spec.key)
            parameters = [encode_sql(spec.field(n), v) for n, v in zip(spec.key, key, strict=True)]
        sql += " ORDER BY entry_id"
        try:
            rows = self._conn.execute(sql, parameters).fetchall()
            return [
                Entry(
                    kind=kind,
                    entry_id=row[0],
                    revision=row[1],
                    recorded_at=dt.datetime.fromisoformat(row[2]),
                    recorded_by=row[3],
                    remark=row[4],
                    data={
                        f.name: decode_sql(f, v) for f, v in zip(spec.fields, row[5:], strict=True)
                    },
                )
                for row in rows
            ]
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise
            raise self._damaged(f"its {spec.name} cannot be read") from None
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError, OverflowError):
            # A value no register writes (a date that is no date, text that is no UTF-8): the
            # file was changed outside benzoredux. The value itself is never shown.
            raise self._damaged(f"its {spec.name} hold a value no register writes") from None

    def close(self) -> None:
        """Close the connection (SQLite folds the WAL file back into the register)."""
        self._conn.close()

    # --- beyond the interface -------------------------------------------------------------
    def _refuse_if_damaged(self) -> None:
        """Before the first write of this opening: SQLite's integrity check, under the write lock.

        Every command that writes opens the register once and writes in one transaction, so the
        whole file is checked once per step (``docs/register.rst`` gives the cost). A damaged
        register is refused, never written to: it could no longer be trusted to refuse a second
        stop letter.
        """
        try:
            problems = self.integrity_problems()
        except sqlite3.DatabaseError as error:  # too damaged to check at all
            problems = [type(error).__name__]
        if problems:
            raise self._damaged(f"SQLite's integrity check found {len(problems)} problem(s)")
        self._checked = True

    def _damaged(self, why: str) -> RegisterDamagedError:
        """The error for a damaged register: what is wrong (never a value) and the way out."""
        return RegisterDamagedError(
            f"{self.path}: the register is damaged ({why}); nothing was recorded. Restore it "
            "from your last export: `benzoredux register import EXPORT-FOLDER NEW-REGISTER` "
            "(made with `benzoredux register export`), or from a backup copy of the file"
        )

    def integrity_problems(self) -> list[str]:
        """What SQLite's ``integrity_check`` finds wrong (an empty list: all is well)."""
        rows = [r[0] for r in self._conn.execute("PRAGMA integrity_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def migrations(self) -> list[tuple[int, str]]:
        """The schema versions applied to this file and when (UTC)."""
        return [
            (int(v), str(t))
            for v, t in self._conn.execute(
                "SELECT version, applied_at FROM schema_migrations ORDER BY version"
            )
        ]


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite says another connection holds the file (wait and retry), not that the
    file is damaged."""
    text = str(error)
    return "locked" in text or "busy" in text


def _with_id(entry: Entry, entry_id: int) -> Entry:
    from attrs import evolve

    return evolve(entry, entry_id=entry_id)


def _make_private(path: Path) -> None:
    """Take group and other permissions away from an existing register (if it is ours)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        with contextlib.suppress(PermissionError):
            os.chmod(path, mode & 0o700)
