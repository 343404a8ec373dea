"""A register written by schema version 1 opens under version 2: backed up, migrated in one
transaction, every entry still there, and the new rules apply to it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from benzoredux.models import StopLetter
from benzoredux.register import (
    CURRENT_VERSION,
    LetterRefusedError,
    RegisterVersionError,
    SQLiteStore,
    open_register,
)
from benzoredux.register.migrations import MIGRATIONS

FIXTURES = Path(__file__).with_name("fixtures")
V1 = FIXTURES / "register-v1.sqlite"


def load_script() -> object:
    spec = importlib.util.spec_from_file_location(
        "make_register_v1", FIXTURES / "make_register_v1.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def schema(path: Path) -> dict[str, list[tuple[str, str, int, object]]]:
    """Columns (name, type, not null, default) of every table; triggers and indexes by name."""
    connection = sqlite3.connect(path)
    try:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master ORDER BY name")]
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        found = {
            t: [tuple(c[1:5]) for c in connection.execute(f"PRAGMA table_info({t})")]
            for t in tables
        }
        found["objects"] = [(n, "", 0, None) for n in names]
        return found
    finally:
        connection.close()


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    target = tmp_path / "programme.sqlite"
    shutil.copyfile(V1, target)
    return target


def test_the_committed_fixture_is_what_the_script_makes(tmp_path: Path) -> None:
    made = tmp_path / "made.sqlite"
    load_script().make(made)  # type: ignore[attr-defined]
    assert dump(made) == dump(V1)
    connection = sqlite3.connect(V1)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    connection.close()


def test_a_version_1_register_opens_migrated_with_every_entry(v1_copy: Path) -> None:
    with open_register(v1_copy) as register:
        assert isinstance(register.store, SQLiteStore)
        assert register.store.schema_version == CURRENT_VERSION == 2
        assert [v for v, _ in register.store.migrations()] == [1, 2]
        programme = register.programme()
        assert programme is not None
        assert programme["name"] == "FTO Voorbeeld 2026"
        assert programme["reference_date"] == dt.date(2025, 10, 31)
        assert register.selection()["patient_id"].tolist() == ["p1", "p2", "p3"]
        assert register.screening()["p3"]["overrides_proposal"] is True
        letters = register.letters("stop_letter")
        assert [e["patient_id"] for e in letters] == ["p1", "p3"]
        assert all(e["forced"] is False and e["force_reason"] == "" for e in letters)
        assert register.latest("tasks", ("invitations-1",))["status"] == "done"  # type: ignore[index]
        assert register.current("consults")[0]["scores"] == {"bwsq_total": 12}
        summary = register.summary()
        assert summary["entries"] == 15
        assert register.store.integrity_problems() == []


def test_the_migrated_register_applies_the_new_rules(
    v1_copy: Path, stop_letter: Callable[..., StopLetter]
) -> None:
    with open_register(v1_copy) as register:
        with pytest.raises(LetterRefusedError):  # p1 had a stop letter under version 1
            register.record_letters([stop_letter("p1", batch=2)], by="a")
        forced = register.record_letters(
            [stop_letter("p1", batch=2)], by="a", force={"p1": "retour"}
        ).recorded[0]
        assert forced["forced"] is True
    connection = sqlite3.connect(v1_copy)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM letters")
    connection.close()


def test_migration_keeps_a_private_backup_of_the_old_file(v1_copy: Path) -> None:
    before = dump(v1_copy)
    open_register(v1_copy).close()
    (backup,) = v1_copy.parent.glob("programme.sqlite.schema-v1-*.backup")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert dump(backup) == before


def test_a_migrated_register_has_the_same_schema_as_a_new_one(
    v1_copy: Path, tmp_path: Path
) -> None:
    open_register(v1_copy).close()
    fresh = tmp_path / "fresh.sqlite"
    open_register(fresh, create=True).close()
    assert schema(v1_copy) == schema(fresh)


def test_the_schema_matches_the_record_kinds(tmp_path: Path) -> None:
    from benzoredux.register.schema import AUDIT_COLUMNS, KINDS

    fresh = tmp_path / "fresh.sqlite"
    open_register(fresh, create=True).close()
    columns = schema(fresh)
    for kind, spec in KINDS.items():
        assert [c[0] for c in columns[kind]] == [*AUDIT_COLUMNS, *spec.names], kind


def test_a_failing_migration_leaves_the_old_register(
    v1_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dump(v1_copy)
    broken = MIGRATIONS[2] + "\nCREATE TABLE letters (x);\n"  # fails after the first steps
    monkeypatch.setitem(MIGRATIONS, 2, broken)
    with pytest.raises(RegisterVersionError, match=r"version 1 to 2 failed.*already exists"):
        open_register(v1_copy)
    assert dump(v1_copy) == before
