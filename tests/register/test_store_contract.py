"""The rules every RegisterStore keeps, checked on the SQLite and the in-memory store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import evolve

from benzoredux.register import (
    Entry,
    MemoryStore,
    RegisterConflictError,
    RegisterError,
    RegisterStore,
    SQLiteStore,
)
from benzoredux.register.schema import KINDS

AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RegisterStore]:
    made: RegisterStore = (
        SQLiteStore(tmp_path / "r.sqlite", create=True)
        if request.param == "sqlite"
        else MemoryStore()
    )
    yield made
    made.close()


def task(task_id: str, revision: int = 1, status: str = "open") -> Entry:
    data = KINDS["tasks"].normalise({"task_id": task_id, "what": "x", "status": status})
    return Entry(kind="tasks", revision=revision, recorded_at=AT, recorded_by="a", data=data)


def test_both_stores_implement_the_protocol(store: RegisterStore) -> None:
    assert isinstance(store, RegisterStore)


def test_append_outside_a_transaction_is_refused(store: RegisterStore) -> None:
    with pytest.raises(RegisterError, match="within a transaction"):
        store.append([task("t1")])


def test_a_transaction_keeps_all_or_nothing(store: RegisterStore) -> None:
    with store.transaction():
        store.append([task("t1")])

    def failing_step() -> None:
        with store.transaction():
            store.append([task("t2"), task("t3")])
            assert [e.key for e in store.entries("tasks")] == [("t1",), ("t2",), ("t3",)]
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_step()
    assert [e.key for e in store.entries("tasks")] == [("t1",)]


def test_entries_get_increasing_ids_and_come_back_in_order(store: RegisterStore) -> None:
    with store.transaction():
        stored = store.append([task("t1"), task("t2"), task("t1", revision=2, status="done")])
    ids = [e.entry_id for e in stored]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert store.entries("tasks") == stored
    assert store.entries("tasks", ("t1",)) == [stored[0], stored[2]]
    assert store.entries("tasks", ("t1",))[1]["status"] == "done"


def test_the_same_revision_of_a_key_is_refused(store: RegisterStore) -> None:
    with store.transaction():
        store.append([task("t1")])
    with pytest.raises(RegisterConflictError, match="task_id='t1'"), store.transaction():
        store.append([task("t1", status="done")])
    assert len(store.entries("tasks")) == 1


def test_given_entry_ids_are_kept(store: RegisterStore) -> None:
    with store.transaction():
        store.append([evolve(task("t1"), entry_id=7)])
        store.append([task("t2")])
    assert [e.entry_id for e in store.entries("tasks")] == [7, 8]
    with pytest.raises(RegisterConflictError), store.transaction():
        store.append([evolve(task("t3"), entry_id=7)])


def test_a_transaction_cannot_be_nested_in_the_store(store: RegisterStore) -> None:
    with store.transaction(), pytest.raises(RegisterError, match="already open"):
        store.transaction().__enter__()


def test_values_come_back_with_their_types(store: RegisterStore) -> None:
    data = KINDS["letters"].normalise(
        {
            "patient_id": "p1",
            "kind": "stop_letter",
            "batch": 2,
            "letter_date": dt.date(2026, 2, 2),
            "sent_date": None,
            "gp_ids": ["gp1"],
            "pharmacist_ids": [],
            "status": "sent",
            "forced": True,
            "force_reason": "=retour",
        }
    )
    entry = Entry(kind="letters", revision=1, recorded_at=AT, recorded_by="a", data=data)
    with store.transaction():
        store.append([entry])
    (back,) = store.entries("letters")
    assert back.data == data
    assert back.recorded_at == AT
    assert store.schema_version == 2
