"""What the command-line steps record in the programme register, so each step continues where
the previous one left off.

``select``, ``screen``, ``schedule`` and ``letters`` take ``--register FILE`` (``--no-register``
to leave it out) and ``--by NAME`` (who acts; the login name by default). Each step records
what it did in **one** register transaction, after its files are written; recording what is
already recorded adds nothing, so running a step again does not duplicate anything.

The default register is ``programme.sqlite`` in the folder the previous step wrote into: in
``--out`` for ``select`` (which starts the chain), and next to the input file for ``screen``,
``schedule`` and ``letters`` (``results/chronic_users.csv`` -> ``results/programme.sqlite``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from attrs import frozen

from benzoredux.register.commands import _default_by

__all__ = [
    "REGISTER_FILE",
    "RegisterChoice",
    "check_letters",
    "record_letters",
    "record_schedule",
    "record_screening",
    "record_selection",
    "register_options",
]

REGISTER_FILE = "programme.sqlite"
"""The register's file name when ``--register`` is not given."""

_F = TypeVar("_F", bound=Callable[..., Any])


def register_options(command: _F) -> _F:
    """Add ``--register``, ``--no-register`` and ``--by`` to a step command."""
    command = click.option(
        "--by",
        default=_default_by,
        show_default="your login name",
        help="Who does this (recorded in the register's audit trail).",
    )(command)
    command = click.option(
        "--no-register",
        is_flag=True,
        help="Record nothing in the programme register.",
    )(command)
    return click.option(
        "--register",
        "register_file",
        type=click.Path(dir_okay=False),
        help=f"The programme register to record this step in (default: {REGISTER_FILE} "
        "in the folder the previous step wrote into; made if it does not exist).",
    )(command)


@frozen
class RegisterChoice:
    """Where (and whether) a step records, and who acts."""

    location: str | None
    """``None``: record nothing (``--no-register``)."""
    by: str

    @classmethod
    def from_options(
        cls, register_file: str | None, no_register: bool, by: str, default_folder: Path
    ) -> RegisterChoice:
        """The choice the options make; ``default_folder`` holds the default register."""
        if no_register and register_file:
            raise click.UsageError("give --register or --no-register, not both")
        if no_register:
            return cls(None, by)
        return cls(register_file or str(default_folder / REGISTER_FILE), by)

    @contextlib.contextmanager
    def opened(self) -> Iterator[Any]:
        """The register (made if new, with a note saying so) in one transaction, or ``None``."""
        if self.location is None:
            yield None
            return
        from benzoredux.register import open_register

        is_new = "://" not in self.location and not Path(self.location).exists()
        with open_register(self.location, create=True) as register, register.transaction():
            yield register
        if is_new:
            click.echo(f"note: new programme register made (readable by you only): {self.location}")


def record_selection(
    choice: RegisterChoice,
    selection: Any,
    *,
    reference_date: dt.date,
    practice: Any,
    options: dict[str, Any],
    source: str,
) -> None:
    """Step 1: make the programme if the register has none, and keep the selection snapshot.

    ``practice`` (from ``--practice``) replaces the programme's practice and GPs; without it a
    new programme gets a placeholder practice (``practice``), an existing one keeps its own.
    The programme's reference date and selection options are this selection's.
    """
    from benzoredux.models import GeneralPractitioner, Pharmacist, Practice

    with choice.opened() as register:
        if register is None:
            return
        current = register.programme()
        if practice is None and current is not None:
            practice = Practice(
                practice_id=current["practice_id"],
                name=current["name"],
                gps=cast(Any, [GeneralPractitioner(**gp) for gp in current["gps"]]),
                pharmacists=cast(Any, [Pharmacist(**p) for p in current["pharmacists"]]),
            )
        if practice is None:
            practice = Practice(practice_id="practice", name=f"Programme {reference_date}")
        register.set_programme(
            practice,
            reference_date=reference_date,
            by=choice.by,
            unit=current["unit"] if current is not None else "practice",
            criteria=current["criteria"] if current is not None else None,
            options={**(current["options"] if current is not None else {}), "select": options},
        )
        snapshot = register.snapshot_selection(
            selection, reference_date=reference_date, by=choice.by, source=source
        )
    click.echo(
        f"Register {choice.location}: selection snapshot {snapshot['snapshot_id']} "
        f"({snapshot['rows']} patients)"
    )


def _keys(text: Any) -> list[str]:
    return [part.strip() for part in str(text or "").split(";") if part.strip()]


def record_screening(choice: RegisterChoice, table: Any, summary: Any, *, source: str) -> None:
    """Step 2: the program's proposal for every patient, and the GP's own decisions.

    A proposal of ``review`` (a criterion could not decide) is recorded as excluded with the
    reason ``review``: such a patient gets no letter until the GP decides. The GP's decisions
    (``--overrides``) are recorded under the GP's name, with the date the GP decided.
    """
    from benzoredux.register import ScreeningDecision

    with choice.opened() as register:
        if register is None:
            return
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
        added = register.record_screening(proposals, source="proposal", by=choice.by)
        overrides = 0
        for row in records:
            if not isinstance(row.get("override"), str) or not row["override"]:
                continue
            decided_at = row["override_at"]
            day = decided_at.date().isoformat() if hasattr(decided_at, "date") else decided_at
            note = row["override_note"] if isinstance(row["override_note"], str) else ""
            overrides += len(
                register.record_screening(
                    [
                        ScreeningDecision(
                            patient_id=str(row["patient_id"]),
                            excluded=row["override"] != "eligible",
                            note=note,
                        )
                    ],
                    source="gp",
                    by=str(row["override_by"]),
                    remark=f"decided on {day}; entered from {source} by {choice.by}",
                )
            )
        programme = register.programme()
        if programme is not None:
            criteria = {c.key: True for c in summary.criteria}
            criteria.update(dict.fromkeys(summary.disabled, False))
            if programme["criteria"] != criteria:
                register.correct(
                    "programme",
                    (),
                    by=choice.by,
                    remark="criteria chosen at screening",
                    criteria=criteria,
                )
    click.echo(
        f"Register {choice.location}: {len(added)} proposal(s) and {overrides} GP decision(s) "
        "recorded"
    )


# In Dutch, like the plan of action's own tasks (bijlage 3): the practice staff read them.
_TASKS = (
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


def record_schedule(choice: RegisterChoice, batches: Any) -> None:
    """Steps 3-5: one task per batch for its stop letters, invitations, calls and consults.

    A task already in the register keeps its status (planning again does not reopen what is
    done); a planned task that a new schedule no longer has is marked ``skipped``.
    """
    with choice.opened() as register:
        if register is None:
            return
        existing = {t["task_id"]: t for t in register.current("tasks")}
        planned: set[str] = set()
        changed = 0
        for row in batches.to_dict("records"):
            batch = int(row["batch"])
            for suffix, step, column, what in _TASKS:
                task_id = f"batch-{batch}-{suffix}"
                planned.add(task_id)
                previous = existing.get(task_id)
                entry = register.set_task(
                    task_id,
                    what=what.format(b=batch, n=row["patients"], last=row["last_consult"]),
                    by=choice.by,
                    step=step,
                    due=row[column],
                    status=previous["status"] if previous is not None else "open",
                    note=previous["note"] if previous is not None else "",
                )
                changed += previous is None or entry.entry_id != previous.entry_id
        for task_id, task in existing.items():
            if task_id.startswith("batch-") and task_id not in planned and task["status"] == "open":
                register.set_task_status(
                    task_id, "skipped", by=choice.by, remark="no longer in the schedule"
                )
                changed += 1
    click.echo(f"Register {choice.location}: {changed} task(s) of {len(planned)} recorded")


def check_letters(choice: RegisterChoice, letters: Sequence[Any], force_reason: str | None) -> None:
    """Refuse, before anything is written, stop letters to patients who already had one."""
    from benzoredux.register import LetterRefusedError

    if choice.location is None or not letters:
        return
    with choice.opened() as register:
        refused = register.check_letters(letters, force=_force(letters, force_reason)).refused
    if refused:
        error = LetterRefusedError(refused)
        shown = ", ".join(refused[:10]) + (
            f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        )
        error.args = (
            f"refused: {len(refused)} patient(s) already had a stop letter in this programme "
            f"(register {choice.location}): {shown}. Nothing was written. Leave them out of the "
            "source, or send a second letter on purpose with --force-second-letter REASON",
        )
        raise error


def record_letters(
    choice: RegisterChoice, letters: Sequence[Any], force_reason: str | None
) -> None:
    """Record the letters written as sent; mark their batches' letter tasks done."""
    with choice.opened() as register:
        if register is None:
            return
        result = register.record_letters(letters, by=choice.by, force=_force(letters, force_reason))
        tasks = {t["task_id"]: t for t in register.current("tasks")}
        for letter in letters:
            suffix = "stop-letters" if letter.kind.value == "stop_letter" else "invitations"
            task = tasks.get(f"batch-{letter.batch}-{suffix}")
            if task is not None and task["status"] in ("open", "in_progress"):
                register.set_task_status(task["task_id"], "done", by=choice.by)
                tasks.pop(task["task_id"])
    forced = sum(1 for e in result.recorded if e["forced"])
    click.echo(
        f"Register {choice.location}: {len(result.recorded)} letter(s) recorded"
        + (f" ({forced} second stop letter(s) forced)" if forced else "")
        + (f", {len(result.unchanged)} already recorded" if result.unchanged else "")
    )


def _force(letters: Sequence[Any], reason: str | None) -> dict[str, str]:
    if reason is None:
        return {}
    if not reason.strip():
        raise click.BadParameter("say why", param_hint="--force-second-letter")
    return {letter.patient_id: reason for letter in letters}
