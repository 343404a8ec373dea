"""The ``plan`` command: the plan of action (FTO module, bijlage 3) for one programme.

A thin layer over :func:`benzoredux.plan_of_action`: it dates bijlage 3's example from the
programme's start, names the GPs where the example says "huisarts", pins the sending of the
stop letters to the letters date when one is given, and writes ``plan.csv``, ``plan.xlsx`` (to
edit) and ``plan.ics`` (for the practice agenda) into ``--out``. The tasks go into the
programme register; a task already there keeps its status and note, so running ``plan`` again
never reopens what was done. An edited spreadsheet is read back with ``--edited``::

    benzoredux plan --start-date 2026-01-05 --letter-date 2026-02-09 --out results
    benzoredux plan --edited results/plan.xlsx --out results
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from benzoredux.cli.inputs import refusal_names_skip_invalid, skip_invalid_option, write_left_out
from benzoredux.cli.options import INPUT_FILE, ISO_DATE, OUT_FOLDER, echo_written, register_options
from benzoredux.cli.recording import RegisterChoice

__all__ = ["plan_command"]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone().date()


@click.command("plan")
@click.option(
    "--start-date", type=ISO_DATE, help="ISO date month 1 of the programme starts (the selection)."
)
@click.option(
    "--letter-date",
    type=ISO_DATE,
    help="ISO date the stop letters go out; the letters task is pinned to it (and without "
    "--start-date, month 1 starts a month earlier).",
)
@click.option(
    "--gp",
    "gps",
    multiple=True,
    help="A GP's name for the GP's tasks (repeatable; default: the GPs of the register's "
    "programme).",
)
@click.option(
    "--edited",
    type=INPUT_FILE,
    help="Read an edited plan.csv or plan.xlsx back instead of dating the example.",
)
@click.option(
    "--done",
    multiple=True,
    metavar="TASK_ID",
    help="Mark a task done (repeatable; the task ids are in plan.csv).",
)
@click.option(
    "--as-of", type=ISO_DATE, help="ISO date that decides which tasks are overdue (default: today)."
)
@skip_invalid_option
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the plan into.")
@register_options
def plan_command(
    start_date: dt.date | None,
    letter_date: dt.date | None,
    gps: tuple[str, ...],
    edited: Path | None,
    done: tuple[str, ...],
    as_of: dt.date | None,
    skip_invalid: bool,
    out: Path,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Make the plan of action (bijlage 3) and record its tasks in the register.

    Dates bijlage 3's example plan (selection in month 1, letters in month 2,
    invitations and consults in months 5-6, monitoring until month 14, evaluation in month
    15) from the start date, and writes plan.csv, plan.xlsx and plan.ics (the last two with
    the schedule extra). Tasks already in the register keep their status; the steps the
    register shows (selection, screening, letters, invitations, evaluation) mark their tasks
    done. Mark other tasks done with --done TASK_ID, or edit the status column of plan.xlsx
    and read it back with --edited.

    \b
    Examples:
      benzoredux plan --start-date 2026-01-05 --letter-date 2026-02-09 \\
          --gp "A. de Vries" --gp "B. Bakker" --out results
      benzoredux plan --done brief-team --done instruct-team --out results
      benzoredux plan --edited results/plan.xlsx --out results
    """
    from benzoredux.programme import StepInputError

    choice = RegisterChoice.from_options(register_file, no_register, by, out)
    today = as_of or _today()
    previous = out / "plan.csv"
    continued = edited is None and start_date is None and letter_date is None
    if edited is not None:
        how = f"read from {edited.name}"
    elif continued and previous.is_file():
        # Continue the plan made before; what the register holds since then wins.
        how = f"continued from {previous}"
    elif start_date is not None:
        how = "--start-date"
    elif letter_date is not None:
        how = "a month before --letter-date"
    else:
        how = "the programme's reference date"
    paths: list[Path] = []

    def write(plan: Any) -> None:
        if skip_invalid and programme.rejected is not None:
            write_left_out(programme, out)
        paths.extend(_write_plan(plan, out, programme))

    with choice.programme() as programme:
        try:
            with refusal_names_skip_invalid(skip_invalid, "The plan was not changed"):
                plan = programme.plan(
                    start_date=start_date,
                    letter_date=letter_date,
                    gps=gps,
                    done=done,
                    edited=edited,
                    previous=previous if continued and previous.is_file() else None,
                    skip_invalid=skip_invalid,
                    write=write,
                )
        except KeyError as error:
            raise click.BadParameter(str(error.args[0]), param_hint="--done") from None
        except StepInputError as error:
            if error.parameter == "letter_date":
                raise click.BadParameter(str(error), param_hint="--letter-date") from None
            if error.parameter != "start_date":
                raise
            raise click.UsageError(
                "give --start-date (or --letter-date, or a register whose programme has a "
                "reference date, or an earlier plan.csv in --out)"
            ) from None
    overdue = plan.overdue(today)
    click.echo(
        f"Plan of action from {plan.start_date} ({how}): {len(plan.tasks)} tasks, "
        f"{sum(t.status.value == 'done' for t in plan.tasks)} done, {len(overdue)} overdue "
        f"on {today}"
    )
    for task in overdue:
        click.echo(f"  overdue since {task.due}: {task.what} - {task.who}")
    echo_written(paths)
    progressed = programme.recorded
    if progressed:
        click.echo(
            "From the register: " + ", ".join(f"{k} {v[0]}" for k, v in sorted(progressed.items()))
        )
    choice.echo(f"{len(plan.tasks)} plan task(s) recorded")


def _write_plan(plan: Any, out: Path, programme: Any) -> list[Path]:
    """plan.csv, and the spreadsheet to edit and the calendar with the schedule extra (the
    calendar's UIDs carry the register's programme, so two programmes in one agenda stay
    apart)."""
    from benzoredux.evaluation.plan import write_plan_ics, write_plan_xlsx
    from benzoredux.output import write_csv
    from benzoredux.schedule import calendar_programme_of

    paths = [write_csv(plan.table(), out / "plan.csv")]
    try:
        paths.append(write_plan_xlsx(plan, out / "plan.xlsx"))
        paths.append(
            write_plan_ics(plan, out / "plan.ics", programme=calendar_programme_of(programme))
        )
    except ImportError as error:
        click.echo(f"note: {error.name} is not installed: pip install 'benzoredux[schedule]'")
    return paths
