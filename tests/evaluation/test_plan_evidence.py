"""Issue 17, "Plan": tasks whose outcome the register knows are closed by that evidence, with
its date, by the library's rule (:func:`benzoredux.evaluation.plan.recorded_evidence`), so that
``benzoredux plan`` / :meth:`benzoredux.Programme.plan` and the report close the same tasks.

Before, the demo's report showed "42 taken, 19 klaar, 23 over tijd": every "Evaluatieconsulten
van groep N houden" open and overdue while the evaluation counted 60 consults held. The cases:
a small programme in two batches with the schedule's tasks per batch, its letters, consults
and calls (rules: docs/domain/evaluation.rst, "What closes a task").
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.evaluation.plan import close_recorded_tasks, recorded_evidence
from benzoredux.models import Consult, GeneralPractitioner, LetterKind, Practice, StopLetter
from benzoredux.programme import Programme
from benzoredux.register import Register, ScreeningDecision
from benzoredux.register.memory import MemoryStore
from benzoredux.register.steps import record_schedule_tasks

BY = "assistente"
RECORDED = dt.datetime(2026, 1, 20, 12, 0, tzinfo=dt.UTC)


def _register(clock: list[dt.datetime] | None = None) -> Register:
    """A register whose clock the test moves (``clock[0]``)."""
    now = clock if clock is not None else [RECORDED]
    return Register(MemoryStore(), clock=lambda: now[0])


def _letter(patient: str, day: dt.date, batch: int, *, invitation: bool = False) -> StopLetter:
    kind = LetterKind.INVITATION if invitation else LetterKind.STOP_LETTER
    return StopLetter(patient_id=patient, kind=kind, gp_ids=["gp-a"], letter_date=day, batch=batch)


def _programme(register: Register, *, schedule: bool = True) -> None:
    """P1-P5 eligible, P6 excluded, P7 excluded at selection; batch 1 is P1-P3 (letters on
    2 February, invitations on 4 May), batch 2 is P4-P5 (9 February, 11 May), and P5 moved
    before the invitations, so only P4 of batch 2 is invited."""
    register.set_programme(
        Practice(
            practice_id="p", name="P", gps=[GeneralPractitioner(gp_id="gp-a", name="A. Arts")]
        ),
        reference_date=dt.date(2025, 12, 31),
        by=BY,
    )
    selection = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(1, 8)],
            "gp_id": ["gp-a"] * 7,
            "excluded_because": [None] * 6 + ["complex co-medication: L"],
        }
    )
    register.snapshot_selection(selection, reference_date=dt.date(2025, 12, 31), by=BY)
    register.record_screening(
        [ScreeningDecision(patient_id=f"P{i}", excluded=False) for i in range(1, 6)]
        + [ScreeningDecision(patient_id="P6", excluded=True, reasons=["palliative"])],
        source="proposal",
        by=BY,
    )
    if schedule:
        batches = pd.DataFrame(
            {
                "batch": [1, 2],
                "patients": [3, 2],
                "letter_date": [dt.date(2026, 2, 2), dt.date(2026, 2, 9)],
                "invitation_date": [dt.date(2026, 5, 4), dt.date(2026, 5, 11)],
                "call_date": [dt.date(2026, 5, 18), dt.date(2026, 5, 25)],
                "first_consult": [dt.date(2026, 5, 11), dt.date(2026, 5, 18)],
                "last_consult": [dt.date(2026, 5, 20), dt.date(2026, 5, 27)],
            }
        )
        record_schedule_tasks(register, batches, by=BY)
    register.record_letters(
        [_letter(p, dt.date(2026, 2, 2), 1) for p in ("P1", "P2", "P3")]
        + [_letter(p, dt.date(2026, 2, 9), 2) for p in ("P4", "P5")]
        + [_letter(p, dt.date(2026, 5, 4), 1, invitation=True) for p in ("P1", "P2", "P3")]
        + [_letter("P4", dt.date(2026, 5, 11), 2, invitation=True)],
        by=BY,
    )


def _consult(register: Register, patient: str, day: dt.date, *, came: bool) -> None:
    register.record_consult(
        Consult(patient_id=patient, date=day, held_by="poh_ggz", attended=came), by=BY
    )


def test_a_batch_consult_task_is_closed_by_its_consults_with_the_last_consult_date() -> None:
    register = _register()
    _programme(register)
    assert "batch-1-consults" not in recorded_evidence(register)
    _consult(register, "P1", dt.date(2026, 5, 18), came=True)
    part = recorded_evidence(register)["batch-1-consults"]
    assert (part.status, part.on) == ("in_progress", dt.date(2026, 5, 18))
    _consult(register, "P2", dt.date(2026, 5, 19), came=False)  # missed: recorded all the same
    _consult(register, "P3", dt.date(2026, 5, 20), came=True)
    found = recorded_evidence(register)
    assert (found["batch-1-consults"].status, found["batch-1-consults"].on) == (
        "done",
        dt.date(2026, 5, 20),
    )
    assert found["batch-1-consults"].note == (
        "consult vastgelegd voor 3 van 3 uitgenodigden (2 op het consult geweest)"
    )
    # Batch 2 (P4 invited, P5 not) and the example's task over everyone invited.
    assert "batch-2-consults" not in found
    assert found["consults"].status == "in_progress"
    _consult(register, "P4", dt.date(2026, 5, 25), came=True)
    found = recorded_evidence(register)
    assert (found["batch-2-consults"].status, found["batch-2-consults"].on) == (
        "done",
        dt.date(2026, 5, 25),
    )
    assert (found["consults"].status, found["consults"].on) == ("done", dt.date(2026, 5, 25))


def test_a_call_that_settles_a_patient_closes_the_consult_too() -> None:
    register = _register()
    _programme(register)
    _consult(register, "P1", dt.date(2026, 5, 18), came=True)
    _consult(register, "P3", dt.date(2026, 5, 20), came=True)
    register.record_call("P2", called_on=dt.date(2026, 5, 19), outcome="no_answer", by=BY)
    assert recorded_evidence(register)["batch-1-consults"].status == "in_progress"
    register.record_call("P2", called_on=dt.date(2026, 5, 21), outcome="declined", by=BY)
    found = recorded_evidence(register)["batch-1-consults"]
    assert (found.status, found.on) == ("done", dt.date(2026, 5, 21))


def test_the_calls_task_is_done_when_everyone_who_did_not_come_was_called() -> None:
    register = _register()
    _programme(register)
    _consult(register, "P1", dt.date(2026, 5, 18), came=True)
    _consult(register, "P2", dt.date(2026, 5, 19), came=False)
    assert "batch-1-calls" not in recorded_evidence(register)  # P2 and P3: nobody called
    register.record_call(
        "P2", called_on=dt.date(2026, 5, 18), outcome="no_answer", by=BY, invitation_batch=1
    )
    assert recorded_evidence(register)["batch-1-calls"].status == "in_progress"  # P3 left
    register.record_call("P3", called_on=dt.date(2026, 5, 19), outcome="appointment_made", by=BY)
    found = recorded_evidence(register)
    assert (found["batch-1-calls"].status, found["batch-1-calls"].on) == (
        "done",
        dt.date(2026, 5, 19),
    )
    # Batch 2: P4, its only invited patient, came: nobody to call.
    _consult(register, "P4", dt.date(2026, 5, 25), came=True)
    found = recorded_evidence(register)
    assert (found["batch-2-calls"].status, found["batch-2-calls"].on) == (
        "done",
        dt.date(2026, 5, 25),
    )
    assert found["call-non-responders"].status == "done"


def test_letters_close_their_batch_tasks_with_the_letter_date() -> None:
    register = _register()
    _programme(register)
    found = recorded_evidence(register)
    assert (found["batch-1-stop-letters"].status, found["batch-1-stop-letters"].on) == (
        "done",
        dt.date(2026, 2, 2),
    )
    assert found["batch-2-invitations"].on == dt.date(2026, 5, 11)
    assert found["batch-2-invitations"].note == "1 uitnodiging verstuurd, op 11 mei 2026"
    assert (found["send-letters"].status, found["send-letters"].on) == ("done", dt.date(2026, 2, 9))
    # P5 moved and got no invitation, but every planned batch had its invitations.
    invitations = found["send-invitations"]
    assert (invitations.status, invitations.on) == ("done", dt.date(2026, 5, 11))
    assert "1 ontvanger van een stopbrief (nog) niet uitgenodigd" in invitations.note
    # Without the schedule's tasks, every letter recipient must have an invitation.
    unscheduled = _register()
    _programme(unscheduled, schedule=False)
    assert recorded_evidence(unscheduled)["send-invitations"].status == "in_progress"


def test_an_evaluation_that_counted_consults_closes_the_consult_tasks_it_reaches() -> None:
    """The register holds no consults (they came from a file at the evaluation), but the
    evaluation counted them up to 15 May: batch 1's consults (from 11 May) were held, batch
    2's (from 18 May) are not shown by it."""
    register = _register()
    _programme(register)
    process = [
        {"level": "total", "consults_held": 2, "consults_missed": 1,
         "first_consult_date": "2026-05-11", "last_consult_date": "2026-05-15"},
    ]  # fmt: skip
    register.record_evaluation(
        kind="effect_and_process",
        run_date=dt.date(2027, 3, 31),
        results={"effect_summary": [], "process": process},
        by=BY,
        run_id="evaluation-2027-03-31",
    )
    found = recorded_evidence(register)
    assert (found["batch-1-consults"].status, found["batch-1-consults"].on) == (
        "done",
        dt.date(2026, 5, 15),
    )
    assert found["batch-1-consults"].note.startswith("volgens de evaluatie van 31 maart 2027")
    assert "batch-2-consults" not in found
    assert (found["consults"].status, found["evaluate"].on) == ("done", dt.date(2027, 3, 31))


def test_the_screening_is_done_when_every_chronic_user_is_decided() -> None:
    register = _register()
    _programme(register)
    # P7, excluded at selection, needs no decision.
    assert recorded_evidence(register)["screen"].status == "done"
    register.snapshot_selection(
        pd.DataFrame({"patient_id": ["P1", "P8"], "gp_id": ["gp-a", "gp-a"]}),
        reference_date=dt.date(2026, 3, 31),
        by=BY,
    )
    screen = recorded_evidence(register)["screen"]
    assert (screen.status, screen.note) == ("in_progress", "1 van 2 patiënten gescreend")


def test_programme_plan_closes_the_schedules_tasks_as_the_report_shows_them() -> None:
    """``benzoredux plan`` (:meth:`Programme.plan`) and the report apply the same evidence:
    after planning, the register's statuses are the report's."""
    from benzoredux.report.gather import gather

    register = _register()
    _programme(register)
    for patient, day, came in (("P1", 18, True), ("P2", 19, False), ("P3", 20, True)):
        _consult(register, patient, dt.date(2026, 5, day), came=came)
    with tempfile.TemporaryDirectory() as folder:
        before = gather(Path(folder), register, as_of=dt.date(2026, 7, 1)).plan
        assert before is not None
        programme = Programme(register, by=BY)
        programme.plan(start_date="2026-01-05")
        assert programme.recorded["batch-1-consults"][0] == "done"
        after = gather(Path(folder), register, as_of=dt.date(2026, 7, 1)).plan
        assert after is not None
    tasks = {t["task_id"]: t["status"] for t in register.current("tasks")}
    shown = dict(zip(after["task_id"], after["status"], strict=True))
    assert tasks == shown
    assert dict(zip(before["task_id"], before["status"], strict=True)) == {
        k: v for k, v in shown.items() if k in set(before["task_id"])
    }
    assert tasks["batch-1-consults"] == "done"
    assert tasks["batch-2-consults"] == "open"  # P4 invited, no consult recorded
    assert tasks["batch-1-stop-letters"] == "done"


def test_close_recorded_tasks_never_reopens_or_overrides_the_practice() -> None:
    register = _register()
    _programme(register)
    register.set_task_status("batch-1-stop-letters", "skipped", by=BY)
    moved = close_recorded_tasks(register, by=BY)
    assert "batch-1-stop-letters" not in moved
    assert register.latest("tasks", ("batch-1-stop-letters",))["status"] == "skipped"  # type: ignore[index]
    assert moved["batch-2-stop-letters"] == ("done", "2 stopbrieven verstuurd, op 9 februari 2026")
    assert close_recorded_tasks(register, by=BY) == {}  # once is enough


def test_a_task_ticked_off_by_hand_is_dated_by_the_day_it_was_ticked(tmp_path: Path) -> None:
    from benzoredux.report.gather import gather

    clock = [RECORDED]
    register = _register(clock)
    _programme(register)
    clock[0] = dt.datetime(2026, 1, 22, 12, 0, tzinfo=dt.UTC)
    Programme(register, by=BY).plan(start_date="2026-01-05", done=["brief-team"])
    clock[0] = dt.datetime(2026, 1, 25, 12, 0, tzinfo=dt.UTC)
    register.set_task_status("brief-team", "done", by=BY, note="besproken op het overleg")
    plan: Any = gather(tmp_path, register, as_of=dt.date(2026, 7, 1)).plan
    row = plan[plan["task_id"] == "brief-team"].iloc[0]
    assert (row["status"], row["closed_on"]) == ("done", dt.date(2026, 1, 22))
    letters = plan[plan["task_id"] == "batch-2-stop-letters"].iloc[0]
    assert (letters["status"], letters["closed_on"]) == ("done", dt.date(2026, 2, 9))


@pytest.mark.parametrize("task_id", ["brief-team", "instruct-team", "inform-public", "monitor-1"])
def test_tasks_that_leave_nothing_in_the_register_have_no_evidence(task_id: str) -> None:
    register = _register()
    _programme(register)
    assert task_id not in recorded_evidence(register)
