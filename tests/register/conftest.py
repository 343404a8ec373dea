"""Registers to test on: the SQLite file and the in-memory store keep the same rules."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benzoredux.models import GeneralPractitioner, Practice, StopLetter
from benzoredux.register import MemoryStore, Register, open_register

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class Clock:
    """A clock that moves one minute on every reading, so time stamps are known and ordered."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "memory"])
def register(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Register]:
    if request.param == "sqlite":
        opened = open_register(tmp_path / "programme.sqlite", create=True, clock=clock)
    else:
        opened = Register(MemoryStore(), clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def practice() -> Practice:
    return Practice(
        practice_id="fto-1",
        name="FTO Voorbeeld",
        gps=[
            GeneralPractitioner(gp_id="gp1", name="dr. A. Jansen"),
            GeneralPractitioner(gp_id="gp2", name="dr. B. de Vries"),
        ],
    )


def _stop_letter(patient_id: str, batch: int = 1, day: int = 2) -> StopLetter:
    return StopLetter(
        patient_id=patient_id, gp_ids=["gp1"], letter_date=dt.date(2026, 2, day), batch=batch
    )


@pytest.fixture
def stop_letter() -> Callable[..., StopLetter]:
    """``stop_letter("p1", batch=2)``: a stop letter signed by gp1."""
    return _stop_letter


WORKERS = Path(__file__).with_name("workers.py")
CONTEXT = multiprocessing.get_context("spawn")


def _start(task: str, **arguments: Any) -> Any:
    """A started process running ``task`` of ``workers.py``, with ``arguments`` as globals."""
    process = CONTEXT.Process(
        target=runpy.run_path,
        args=(str(WORKERS),),
        kwargs={
            "init_globals": {"TASK": task, **arguments},
            "run_name": "benzoredux_register_worker",
        },
    )
    process.start()
    return process


@pytest.fixture
def spawn() -> Callable[..., Any]:
    """``spawn("append_calls", LOCATION=..., ...)``: a real, separate process (spawn start)."""
    return _start


@pytest.fixture
def mp() -> Any:
    """The multiprocessing context the workers run in (for barriers and queues)."""
    return CONTEXT
