"""Code the concurrency and crash tests run in separate processes (through ``runpy``).

The test passes its arguments as globals: ``TASK``, ``LOCATION``, ``NAME`` and, per task,
``COUNT``, ``PATIENTS``, ``BATCH``, ``START`` (a multiprocessing barrier) and ``RESULTS`` (a
queue).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from benzoredux.models import StopLetter
from benzoredux.register import open_register

ARGS: dict[str, Any] = globals()


def _letter(patient_id: str, batch: int) -> StopLetter:
    return StopLetter(
        patient_id=patient_id, gp_ids=["gp1"], letter_date=dt.date(2026, 2, 2), batch=batch
    )


def append_calls() -> None:
    """COUNT separate steps, each recording one phone call, with a short pause between."""
    with open_register(ARGS["LOCATION"]) as register:
        ARGS["START"].wait()
        for number in range(ARGS["COUNT"]):
            register.record_call(
                f"{ARGS['NAME']}-{number}",
                called_on=dt.date(2026, 3, 16),
                outcome="no_answer",
                by=ARGS["NAME"],
            )
            time.sleep(0.01)  # people pause between steps; lets the other writer in


def race_for_letters() -> None:
    """Try to send every patient a stop letter in this writer's own batch, one step each."""
    recorded = refused = 0
    with open_register(ARGS["LOCATION"]) as register:
        ARGS["START"].wait()
        for patient_id in ARGS["PATIENTS"]:
            result = register.record_letters(
                [_letter(patient_id, ARGS["BATCH"])], by=ARGS["NAME"], skip_refused=True
            )
            recorded += len(result.recorded)
            refused += len(result.refused)
            time.sleep(0.01)
    ARGS["RESULTS"].put((ARGS["NAME"], recorded, refused))


def crash_mid_step() -> None:
    """Record half of a batch inside one step, then die without cleaning up."""
    register = open_register(ARGS["LOCATION"])
    with register.transaction():
        half = ARGS["PATIENTS"][: len(ARGS["PATIENTS"]) // 2]
        register.record_letters([_letter(p, 1) for p in half], by=ARGS["NAME"])
        register.set_task("letters-1", what="Stopbrieven batch 1", status="done", by="x")
        os._exit(3)  # no rollback, no close: as if the power went


def create_registers() -> None:
    """Open, making them, the same COUNT new registers as the other workers, each at the same
    moment (a barrier before each); report the errors by type."""
    failures: list[str] = []
    for number in range(ARGS["COUNT"]):
        ARGS["START"].wait()
        try:
            open_register(os.path.join(ARGS["LOCATION"], f"r{number}.sqlite"), create=True).close()
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
    ARGS["RESULTS"].put((ARGS["NAME"], failures))


if ARGS.get("TASK"):
    {
        "append_calls": append_calls,
        "create_registers": create_registers,
        "race_for_letters": race_for_letters,
        "crash_mid_step": crash_mid_step,
    }[ARGS["TASK"]]()
