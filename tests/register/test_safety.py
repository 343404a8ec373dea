"""The SQLite register is safe: private from the first byte, all-or-nothing per step (also when
the process dies), append-only in the database itself, and careful about what it opens."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benzoredux.models import StopLetter
from benzoredux.register import (
    MemoryStore,
    Register,
    RegisterDamagedError,
    RegisterError,
    RegisterVersionError,
    SQLiteStore,
    open_register,
)
from benzoredux.register import sqlite as sqlite_module


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Everyone may read new files (umask 000): the register must still be private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_register_file_is_owner_only_before_any_data_goes_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_letter: Callable[..., StopLetter]
) -> None:
    path = tmp_path / "sub" / "programme.sqlite"
    seen: list[tuple[int, int]] = []
    real_connect = sqlite3.connect

    def spying_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if Path(database) == path:
            seen.append((mode(path), path.stat().st_size))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite_module.sqlite3, "connect", spying_connect)
    register = open_register(path, create=True)
    assert seen == [(0o600, 0)]  # private and still empty when SQLite first opens it
    register.record_letters([stop_letter("p1")], by="a")
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert mode(companion) == 0o600, companion
    register.close()


def test_opening_a_readable_register_makes_it_private(tmp_path: Path) -> None:
    path = tmp_path / "programme.sqlite"
    open_register(path, create=True).close()
    path.chmod(0o644)
    open_register(path).close()
    assert mode(path) == 0o600


def test_a_failed_step_leaves_nothing(
    register: Register, stop_letter: Callable[..., StopLetter]
) -> None:
    register.set_task("t1", what="Selectie", by="a")
    before = {kind: register.history(kind) for kind in ("letters", "tasks", "phone_calls")}

    def interrupted_step() -> None:
        with register.transaction():
            register.record_letters([stop_letter("p1"), stop_letter("p2")], by="a")
            register.set_task_status("t1", "done", by="a")
            register.record_call("p3", called_on=dt.date(2026, 3, 1), outcome="no_answer", by="a")
            raise KeyboardInterrupt  # the assistant stops the run half way

    with pytest.raises(KeyboardInterrupt):
        interrupted_step()
    after = {kind: register.history(kind) for kind in ("letters", "tasks", "phone_calls")}
    assert after == before


def test_a_process_dying_in_the_middle_of_a_step_leaves_nothing(
    tmp_path: Path, spawn: Callable[..., Any], stop_letter: Callable[..., StopLetter]
) -> None:
    path = tmp_path / "programme.sqlite"
    with open_register(path, create=True) as register:
        register.record_letters([stop_letter("p0")], by="a")
    process = spawn(
        "crash_mid_step",
        LOCATION=str(path),
        NAME="assistente",
        PATIENTS=[f"p{n}" for n in range(1, 21)],
    )
    process.join(timeout=60)
    assert process.exitcode == 3  # it died inside the step, without rollback or close
    with open_register(path) as register:
        assert [e["patient_id"] for e in register.letters()] == ["p0"]
        assert register.history("tasks") == []
        assert isinstance(register.store, SQLiteStore)
        assert register.store.integrity_problems() == []
        # and the register is usable again: the lock died with the process
        register.record_letters([stop_letter("p1")], by="a")


def test_the_database_refuses_to_change_or_delete_entries(
    tmp_path: Path, stop_letter: Callable[..., StopLetter]
) -> None:
    path = tmp_path / "programme.sqlite"
    with open_register(path, create=True) as register:
        register.record_letters([stop_letter("p1")], by="a")
    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE letters SET status = 'withdrawn'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM letters")
    finally:
        connection.close()


def test_a_missing_register_is_not_created_by_accident(tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match="no register here"):
        open_register(tmp_path / "typo.sqlite")
    assert not (tmp_path / "typo.sqlite").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"patient_id,units\np1,180\n", "not a register"),
        (b"", "empty file"),
    ],
)
def test_a_file_that_is_not_a_register_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "programme.sqlite"
    path.write_bytes(content)
    with pytest.raises(RegisterError, match=message):
        open_register(path)
    assert path.read_bytes() == content


def test_another_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    with pytest.raises(RegisterError, match="not a benzoredux register"):
        open_register(path, create=True)


def test_a_register_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "programme.sqlite"
    open_register(path, create=True).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(RegisterVersionError, match="newer benzoredux"):
        open_register(path)


def test_a_register_of_a_newer_version_is_left_untouched(tmp_path: Path) -> None:
    """Refusing a newer register must not change it: not its permissions, not its journal
    mode, not a byte (a newer benzoredux elsewhere may be using it)."""
    path = tmp_path / "programme.sqlite"
    open_register(path, create=True).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    os.chmod(path, 0o644)
    before = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    with pytest.raises(RegisterVersionError, match="newer benzoredux"):
        open_register(path)
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == before
    assert not path.with_name(path.name + "-wal").exists()


def test_memory_store_rolls_back_too(stop_letter: Callable[..., StopLetter]) -> None:
    register = Register(MemoryStore())

    def failing_step() -> None:
        with register.transaction():
            register.record_letters([stop_letter("p1")], by="a")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_step()
    register.record_letters([stop_letter("p2")], by="a")
    assert [e.entry_id for e in register.history("letters")] == [1]


def _flip_one_byte(path: Path, marker: bytes) -> None:
    """Change one byte of ``marker`` where it is stored in the file (a damaged disk)."""
    data = bytearray(path.read_bytes())
    at = data.find(marker)
    assert at >= 0, "the marker is not in the main file (still in the WAL?)"
    data[at + len(marker) - 1] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_register_is_refused_before_anything_is_written(
    tmp_path: Path, stop_letter: Callable[..., StopLetter]
) -> None:
    """One flipped byte in a letter row fails SQLite's integrity check: no step may record in
    that register (it could no longer refuse a second stop letter), and the message says how
    to restore it. Reading it (``register show``) still works."""
    path = tmp_path / "programme.sqlite"
    with open_register(path, create=True) as register:
        register.record_letters(
            [stop_letter(f"patient-{n:04d}") for n in range(200)], by="assistente"
        )
    before = path.read_bytes()
    _flip_one_byte(path, b"patient-0123")
    assert path.read_bytes() != before
    with open_register(path) as register:
        assert isinstance(register.store, SQLiteStore)
        assert register.store.integrity_problems() != []
        with pytest.raises(RegisterDamagedError, match="register import") as refused:
            register.record_letters([stop_letter("patient-9999")], by="assistente")
        assert "patient" not in str(refused.value).replace("programme.sqlite", "")
    with open_register(path) as register:
        assert register.stop_letter("patient-9999") is None
