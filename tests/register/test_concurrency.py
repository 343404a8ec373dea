"""Two people using the same register at once (the assistant and the GP): real processes
writing concurrently neither corrupt the file nor lose a write, and the second-letter check
cannot be overtaken by the other writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benzoredux.register import SQLiteStore, open_register

WRITES = 40


def test_concurrent_writers_lose_nothing(
    tmp_path: Path, spawn: Callable[..., Any], mp: Any
) -> None:
    path = tmp_path / "programme.sqlite"
    open_register(path, create=True).close()
    start = mp.Barrier(2)
    writers = [
        spawn("append_calls", LOCATION=str(path), NAME=name, COUNT=WRITES, START=start)
        for name in ("assistente", "huisarts")
    ]
    for writer in writers:
        writer.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    with open_register(path) as register:
        calls = register.history("phone_calls")
        assert len(calls) == 2 * WRITES
        assert {e["patient_id"] for e in calls} == {
            f"{name}-{n}" for name in ("assistente", "huisarts") for n in range(WRITES)
        }
        assert len({e.entry_id for e in calls}) == 2 * WRITES
        # both really wrote at the same time: their entries interleave
        order = [e.recorded_by for e in calls]
        assert order != sorted(order)
        assert isinstance(register.store, SQLiteStore)
        assert register.store.integrity_problems() == []


def test_two_writers_racing_to_send_stop_letters_send_each_patient_one(
    tmp_path: Path, spawn: Callable[..., Any], mp: Any
) -> None:
    path = tmp_path / "programme.sqlite"
    open_register(path, create=True).close()
    patients = [f"p{n}" for n in range(30)]
    start, results = mp.Barrier(2), mp.Queue()
    writers = [
        spawn(
            "race_for_letters",
            LOCATION=str(path),
            NAME=f"writer-{batch}",
            BATCH=batch,
            PATIENTS=patients if batch == 1 else patients[::-1],
            START=start,
            RESULTS=results,
        )
        for batch in (1, 2)
    ]
    outcome = [results.get(timeout=60) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert sum(recorded for _, recorded, _ in outcome) == len(patients)
    assert sum(refused for _, _, refused in outcome) == len(patients)
    with open_register(path) as register:
        letters = register.letters("stop_letter")
        assert sorted(e["patient_id"] for e in letters) == sorted(patients)
        assert len({e["batch"] for e in letters}) == 2  # both writers got some of them


def test_processes_making_the_same_new_register_at_once_all_succeed(
    tmp_path: Path, spawn: Callable[..., Any], mp: Any
) -> None:
    """Four processes open (create=True) the same new registers at the same moment: every open
    succeeds, none sees a half-made register as foreign or gets "database is locked"."""
    processes, count = 4, 30
    start, results = mp.Barrier(processes), mp.Queue()
    workers = [
        spawn(
            "create_registers",
            LOCATION=str(tmp_path),
            NAME=f"w{n}",
            COUNT=count,
            START=start,
            RESULTS=results,
        )
        for n in range(processes)
    ]
    reports = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * processes
    assert reports == {f"w{n}": [] for n in range(processes)}
    for number in range(count):
        with open_register(tmp_path / f"r{number}.sqlite") as register:
            assert isinstance(register.store, SQLiteStore)
            assert register.store.integrity_problems() == []
