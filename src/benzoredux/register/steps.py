"""What each step of the intervention records in the programme register.

One function per step, shared by the command line (:mod:`benzoredux.cli.recording`,
:mod:`benzoredux.cli.evaluate`) and :class:`benzoredux.Programme`, so a programme run from an
add-on leaves exactly the register the commands leave. Every function writes in **one**
transaction and recording what is already recorded adds nothing: running a step again
duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd

from benzoredux.dates import dutch_date
from benzoredux.register.core import LetterResult, Register, ScreeningDecision
from benzoredux.register.store import Entry

__all__ = [
    "EVALUATION_KIND",
    "SCHEDULE_TASKS",
    "evaluation_records",
    "forced_letters",
    "programme_practice",
    "record_evaluation_run",
    "record_gp_decision",
    "record_input_counts",
    "record_letters_sent",
    "record_schedule_tasks",
    "record_screening_step",
    "record_selection_step",
    "refused_stop_letters",
]

EVALUATION_KIND = "effect_and_process"
"""The ``kind`` of the evaluation runs the evaluation step records."""


def programme_practice(programme: Entry) -> Any:
    """The :class:`benzoredux.Practice` (with its GPs and pharmacists) a programme entry of the
    register holds."""
    from benzoredux.models import GeneralPractitioner, Pharmacist, Practice

    return Practice(
        practice_id=programme["practice_id"],
        name=programme["name"],
        gps=cast(Any, [GeneralPractitioner(**gp) for gp in programme["gps"]]),
        pharmacists=cast(Any, [Pharmacist(**p) for p in programme["pharmacists"]]),
    )


def record_selection_step(
    register: Register,
    selection: Any,
    *,
    reference_date: dt.date,
    practice: Any,
    options: Mapping[str, Any],
    source: str,
    by: str,
    input_counts: Mapping[str, int] | None = None,
) -> Entry:
    """Step 1: make the programme if the register has none, and keep the selection snapshot.

    ``practice`` (a :class:`benzoredux.Practice`) replaces the programme's practice and GPs;
    without it a new programme gets a placeholder practice (``practice``), an existing one
    keeps its own. The programme's reference date and selection options are this
    selection's; ``input_counts`` (rows left out while reading) are kept with them. Returns the
    snapshot (the latest one when the same selection is taken again).
    """
    from benzoredux.models import Practice

    with register.transaction():
        current = register.programme()
        if practice is None and current is not None:
            practice = programme_practice(current)
        if practice is None:
            practice = Practice(practice_id="practice", name=f"Programme {reference_date}")
        register.set_programme(
            practice,
            reference_date=reference_date,
            by=by,
            unit=current["unit"] if current is not None else "practice",
            criteria=current["criteria"] if current is not None else None,
            options={
                **{
                    key: value
                    for key, value in (current["options"] if current is not None else {}).items()
                    if key != "select_input"  # this selection's own, below
                },
                "select": dict(options),
                # What reading left out (--skip-invalid): counts only, the rows are in the
                # step's rejected.csv.
                **({"select_input": dict(input_counts)} if input_counts is not None else {}),
            },
        )
        return register.snapshot_selection(
            selection, reference_date=reference_date, by=by, source=source
        )


def record_input_counts(
    register: Register,
    step: str,
    counts: Mapping[str, int],
    *,
    reference_date: dt.date,
    by: str,
) -> Entry | None:
    """What reading left out of a step's input (``--skip-invalid``): counts only, kept with
    the programme as ``options["<step>_input"]`` (the rows themselves are in the step's
    ``rejected.csv``, beside its other files). A register without a programme gets one, with a
    placeholder practice and ``reference_date``, as the selection step makes it. Recording the
    same counts again adds nothing; returns the programme entry when one was added."""
    from benzoredux.models import Practice

    key = f"{step}_input"
    with register.transaction():
        current = register.programme()
        options = dict(current["options"] or {}) if current is not None else {}
        if current is not None and options.get(key) == dict(counts):
            return None
        options[key] = dict(counts)
        return register.set_programme(
            programme_practice(current)
            if current is not None
            else Practice(practice_id="practice", name=f"Programme {reference_date}"),
            reference_date=current["reference_date"] if current is not None else reference_date,
            by=by,
            unit=current["unit"] if current is not None else "practice",
            criteria=current["criteria"] if current is not None else None,
            options=options,
        )


def _keys(text: Any) -> list[str]:
    return [part.strip() for part in str(text or "").split(";") if part.strip()]


def record_screening_step(
    register: Register, table: Any, summary: Any, *, source: str, by: str
) -> tuple[list[Entry], int]:
    """Step 2: the program's proposal for every patient, and the GP's own decisions.

    ``table`` and ``summary`` are :class:`benzoredux.screening.Screening`'s. A proposal of
    ``review`` (a criterion could not decide) is recorded as excluded with the reason
    ``review``: such a patient gets no letter until the GP decides. The GP's decisions (the
    ``override`` columns) are recorded under the GP's name, with the date the GP decided; the
    criteria chosen become the programme's. Returns the proposals added and the number of GP
    decisions added.
    """
    with register.transaction():
        records = table.to_dict("records")
        proposals = [
            ScreeningDecision(
                patient_id=str(row["patient_id"]),
                excluded=row["proposed"] != "eligible",
                # attrs' converter=tuple confuses mypy about the argument type.
                reasons=cast(
                    Any,
                    _keys(row["excluded_by"])
                    or (["review"] if row["proposed"] == "review" else []),
                ),
                note="; ".join(_keys(row["reasons"]) + _keys(row["undecided"])),
            )
            for row in records
        ]
        added = register.record_screening(proposals, source="proposal", by=by)
        overrides = 0
        for row in records:
            if not isinstance(row.get("override"), str) or not row["override"]:
                continue
            decided_at = row["override_at"]
            day = decided_at.date().isoformat() if hasattr(decided_at, "date") else decided_at
            note = row["override_note"] if isinstance(row["override_note"], str) else ""
            overrides += len(
                record_gp_decision(
                    register,
                    str(row["patient_id"]),
                    excluded=row["override"] != "eligible",
                    note=note,
                    by=str(row["override_by"]),
                    remark=f"decided on {day}; entered from {source} by {by}",
                )
            )
        programme = register.programme()
        if programme is not None:
            criteria = {c.key: True for c in summary.criteria}
            criteria.update(dict.fromkeys(summary.disabled, False))
            if programme["criteria"] != criteria:
                register.correct(
                    "programme", (), by=by, remark="criteria chosen at screening", criteria=criteria
                )
    return added, overrides


def record_gp_decision(
    register: Register, patient_id: str, *, excluded: bool, note: str, by: str, remark: str
) -> list[Entry]:
    """A GP's own screening decision for one patient, under the GP's name (``by``): the GP
    decides who gets a letter (bijlage 2), the program only proposes. Returns the entries
    added (none when the same decision is already recorded)."""
    return list(
        register.record_screening(
            [ScreeningDecision(patient_id=patient_id, excluded=excluded, note=note)],
            source="gp",
            by=by,
            remark=remark,
        )
    )


# In Dutch, like the plan of action's own tasks (bijlage 3): the practice staff read them.
SCHEDULE_TASKS = (
    ("stop-letters", "3", "letter_date", "Stopbrieven van groep {b} versturen ({n} patiënten)"),
    (
        "invitations",
        "4",
        "invitation_date",
        "Uitnodigingen van groep {b} versturen ({n} patiënten)",
    ),
    ("calls", "4", "call_date", "Patiënten van groep {b} bellen die niet reageerden"),
    ("consults", "5", "first_consult", "Evaluatieconsulten van groep {b} houden (tot {last})"),
)
"""The tasks one batch of the schedule gets: (id suffix, step, due column, text)."""


def _day(value: Any) -> dt.date | None:
    """A schedule's date cell (a date, a timestamp or ISO text) as a date."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    return dt.date.fromisoformat(str(value)[:10])


def record_schedule_tasks(register: Register, batches: Any, *, by: str) -> tuple[int, int]:
    """Steps 3-5: one task per batch for its stop letters, invitations, calls and consults.

    ``batches`` is :attr:`benzoredux.schedule.Schedule.batches`. A task already in the
    register keeps its status (planning again does not reopen what is done); a planned task
    that a new schedule no longer has is marked ``skipped``. Returns the tasks changed and the
    tasks planned.
    """
    with register.transaction():
        existing = {t["task_id"]: t for t in register.current("tasks")}
        planned: set[str] = set()
        changed = 0
        for row in batches.to_dict("records"):
            batch = int(row["batch"])
            for suffix, step, column, what in SCHEDULE_TASKS:
                task_id = f"batch-{batch}-{suffix}"
                planned.add(task_id)
                previous = existing.get(task_id)
                entry = register.set_task(
                    task_id,
                    what=what.format(
                        b=batch, n=row["patients"], last=dutch_date(_day(row["last_consult"]))
                    ),
                    by=by,
                    step=step,
                    due=row[column],
                    status=previous["status"] if previous is not None else "open",
                    note=previous["note"] if previous is not None else "",
                )
                changed += previous is None or entry.entry_id != previous.entry_id
        for task_id, task in existing.items():
            if task_id.startswith("batch-") and task_id not in planned and task["status"] == "open":
                register.set_task_status(
                    task_id, "skipped", by=by, remark="no longer in the schedule"
                )
                changed += 1
    return changed, len(planned)


def forced_letters(letters: Sequence[Any], reason: str | None) -> dict[str, str]:
    """``force`` for these letters: each patient with ``reason`` (a second stop letter sent on
    purpose), or nobody when there is no reason. An empty reason is refused: say why."""
    if reason is None:
        return {}
    if not reason.strip():
        raise ValueError("force_second_letter: say why")
    return {letter.patient_id: reason for letter in letters}


def refused_stop_letters(
    register: Register, letters: Sequence[Any], force: Mapping[str, str]
) -> list[str]:
    """The patients among ``letters`` who already had a stop letter in this programme and
    are not in ``force`` (patient -> why a second letter goes out on purpose)."""
    if not letters:
        return []
    return list(register.check_letters(letters, force=dict(force)).refused)


def record_letters_sent(
    register: Register, letters: Sequence[Any], *, by: str, force: Mapping[str, str]
) -> LetterResult:
    """Record the letters written as sent; mark their batches' letter tasks done."""
    with register.transaction():
        result = register.record_letters(letters, by=by, force=dict(force))
        tasks = {t["task_id"]: t for t in register.current("tasks")}
        for letter in letters:
            suffix = "stop-letters" if letter.kind.value == "stop_letter" else "invitations"
            task = tasks.get(f"batch-{letter.batch}-{suffix}")
            if task is not None and task["status"] in ("open", "in_progress"):
                register.set_task_status(task["task_id"], "done", by=by)
                tasks.pop(task["task_id"])
    return result


def evaluation_records(frame: Any) -> list[dict[str, Any]]:
    """Rows as JSON-ready values: dates as ISO text, missing values as ``None``."""
    rows = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                clean[key] = None
            elif isinstance(value, dt.date | pd.Timestamp):
                clean[key] = value.isoformat()[:10]
            elif hasattr(value, "item"):  # numpy scalars
                clean[key] = value.item()
            else:
                clean[key] = value
        rows.append(clean)
    return rows


def record_evaluation_run(
    register: Register,
    day: dt.date,
    summary: Any,
    process: Any,
    parameters: Mapping[str, Any],
    *,
    by: str,
) -> tuple[Entry, bool]:
    """Step 6: the run's summary and process rows (counts and rates, no patient data) under
    ``evaluation-YYYY-MM-DD``; evaluating the same date again with other figures is a new
    revision. Returns the entry and whether it was already recorded unchanged."""
    run_id = f"evaluation-{day.isoformat()}"
    with register.transaction():
        before = register.latest("evaluations", (run_id,))
        entry = register.record_evaluation(
            kind=EVALUATION_KIND,
            run_date=day,
            results={
                "effect_summary": evaluation_records(summary),
                "process": evaluation_records(process),
            },
            parameters=dict(parameters),
            by=by,
            run_id=run_id,
        )
    return entry, before is not None and before.entry_id == entry.entry_id
