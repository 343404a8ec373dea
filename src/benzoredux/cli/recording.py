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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from attrs import frozen

from benzoredux.cli.options import REGISTER_FILE

__all__ = [
    "RegisterChoice",
    "check_letters",
    "record_letters",
    "record_schedule",
    "record_screening",
    "record_selection",
]


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
    """Step 1: :func:`benzoredux.register.steps.record_selection_step` in the chosen register."""
    from benzoredux.register.steps import record_selection_step

    with choice.opened() as register:
        if register is None:
            return
        snapshot = record_selection_step(
            register,
            selection,
            reference_date=reference_date,
            practice=practice,
            options=options,
            source=source,
            by=choice.by,
        )
    click.echo(
        f"Register {choice.location}: selection snapshot {snapshot['snapshot_id']} "
        f"({snapshot['rows']} patients)"
    )


def record_screening(choice: RegisterChoice, table: Any, summary: Any, *, source: str) -> None:
    """Step 2: :func:`benzoredux.register.steps.record_screening_step` in the chosen register."""
    from benzoredux.register.steps import record_screening_step

    with choice.opened() as register:
        if register is None:
            return
        added, overrides = record_screening_step(
            register, table, summary, source=source, by=choice.by
        )
    click.echo(
        f"Register {choice.location}: {len(added)} proposal(s) and {overrides} GP decision(s) "
        "recorded"
    )


def record_schedule(choice: RegisterChoice, batches: Any) -> None:
    """Steps 3-5: :func:`benzoredux.register.steps.record_schedule_tasks` in the chosen
    register."""
    from benzoredux.register.steps import record_schedule_tasks

    with choice.opened() as register:
        if register is None:
            return
        changed, planned = record_schedule_tasks(register, batches, by=choice.by)
    click.echo(f"Register {choice.location}: {changed} task(s) of {planned} recorded")


def check_letters(choice: RegisterChoice, letters: Sequence[Any], force_reason: str | None) -> None:
    """Refuse, before anything is written, stop letters to patients who already had one."""
    from benzoredux.register import LetterRefusedError
    from benzoredux.register.steps import refused_stop_letters

    if choice.location is None or not letters:
        return
    with choice.opened() as register:
        refused = refused_stop_letters(register, letters, _force(letters, force_reason))
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
    """Record the letters written as sent
    (:func:`benzoredux.register.steps.record_letters_sent`)."""
    from benzoredux.register.steps import record_letters_sent

    with choice.opened() as register:
        if register is None:
            return
        result = record_letters_sent(
            register, letters, by=choice.by, force=_force(letters, force_reason)
        )
    forced = sum(1 for e in result.recorded if e["forced"])
    click.echo(
        f"Register {choice.location}: {len(result.recorded)} letter(s) recorded"
        + (f" ({forced} second stop letter(s) forced)" if forced else "")
        + (f", {len(result.unchanged)} already recorded" if result.unchanged else "")
    )


def _force(letters: Sequence[Any], reason: str | None) -> dict[str, str]:
    """:func:`benzoredux.register.steps.forced_letters`, its refusal as a usage error."""
    from benzoredux.register.steps import forced_letters

    try:
        return forced_letters(letters, reason)
    except ValueError:
        raise click.BadParameter("say why", param_hint="--force-second-letter") from None
