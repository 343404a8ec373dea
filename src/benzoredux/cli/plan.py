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
from typing import Any, cast

import click

from benzoredux.cli.options import INPUT_FILE, OUT_FOLDER, echo_written, register_options
from benzoredux.cli.recording import RegisterChoice

__all__ = ["plan_command"]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone().date()


def _gp_names(gps: tuple[str, ...], programme: Any) -> list[str]:
    if gps:
        return list(gps)
    if programme is not None:
        return [str(gp.get("name") or gp["gp_id"]) for gp in programme["gps"]]
    return []


def _start(
    start_date: str | None, letter_date: dt.date | None, programme: Any
) -> tuple[dt.date, str]:
    from benzoredux.dates import parse_reference_date

    if start_date is not None:
        return parse_reference_date(start_date, name="--start-date"), "--start-date"
    from benzoredux.evaluation.plan import month_one

    if letter_date is not None:
        return month_one(letter_date=letter_date), "a month before --letter-date"
    if programme is not None:
        return month_one(reference_date=programme["reference_date"]), (
            "the programme's reference date"
        )
    raise click.UsageError(
        "give --start-date (or --letter-date, or a register whose programme has a reference "
        "date, or an earlier plan.csv in --out)"
    )


def _read_edited(path: Path, start: dt.date | None) -> Any:
    import pandas as pd

    from benzoredux.evaluation.plan import PlanOfAction

    if path.suffix.lower() == ".xlsx":
        table = pd.read_excel(path, dtype={"task_id": str}, keep_default_na=False)
    else:
        table = pd.read_csv(
            path, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[]
        )
    for column in ("what", "how", "who", "note", "step"):
        if column in table.columns:
            # Undo the formula neutralising of the written file (a leading quote).
            table[column] = (
                table[column].astype(str).str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
            )
    try:
        starts = [
            value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
            for value in table["start"]
        ]
    except (KeyError, ValueError) as error:
        raise click.BadParameter(
            f"{path.name}: column 'start': {error}", param_hint="--edited"
        ) from None
    first = start or min(d.date() if isinstance(d, dt.datetime) else d for d in starts)
    try:
        return PlanOfAction.from_table(table, start_date=first)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None


@click.command("plan")
@click.option("--start-date", help="ISO date month 1 of the programme starts (the selection).")
@click.option(
    "--letter-date",
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
@click.option("--as-of", help="ISO date that decides which tasks are overdue (default: today).")
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the plan into.")
@register_options
def plan_command(
    start_date: str | None,
    letter_date: str | None,
    gps: tuple[str, ...],
    edited: Path | None,
    done: tuple[str, ...],
    as_of: str | None,
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
    from benzoredux.dates import parse_reference_date
    from benzoredux.evaluation.plan import dated_example, write_plan_ics, write_plan_xlsx
    from benzoredux.output import write_csv

    choice = RegisterChoice.from_options(register_file, no_register, by, out)
    letters = parse_reference_date(letter_date, name="--letter-date") if letter_date else None
    today = parse_reference_date(as_of, name="--as-of") if as_of else _today()
    programme, existing, progress = _from_register(choice)
    previous = out / "plan.csv"
    if edited is None and start_date is None and letter_date is None and previous.is_file():
        # Continue the plan made before; what the register holds since then wins.
        plan = _read_edited(previous, None).with_recorded(existing)
        how = f"continued from {previous}"
    elif edited is not None:
        plan = _read_edited(
            edited, parse_reference_date(start_date, name="--start-date") if start_date else None
        )
        how = f"read from {edited.name}"
    else:
        start, how = _start(start_date, letters, programme)
        try:
            plan = dated_example(
                start, letter_date=letters, gp_names=_gp_names(gps, programme), recorded=existing
            )
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--letter-date") from None
    plan, progressed = _moved_along(plan, progress, done)
    paths = [write_csv(plan.table(), out / "plan.csv")]
    try:
        paths.append(write_plan_xlsx(plan, out / "plan.xlsx"))
        paths.append(write_plan_ics(plan, out / "plan.ics"))
    except ImportError as error:
        click.echo(f"note: {error.name} is not installed: pip install 'benzoredux[schedule]'")
    overdue = plan.overdue(today)
    click.echo(
        f"Plan of action from {plan.start_date} ({how}): {len(plan.tasks)} tasks, "
        f"{sum(t.status.value == 'done' for t in plan.tasks)} done, {len(overdue)} overdue "
        f"on {today}"
    )
    for task in overdue:
        click.echo(f"  overdue since {task.due}: {task.what} - {task.who}")
    echo_written(paths)
    with choice.opened() as register:
        if register is not None:
            with register.transaction():
                plan = plan.with_concurrent_changes(existing, register, done)
                plan.record(register, by=choice.by)
    if progressed:
        click.echo(
            "From the register: " + ", ".join(f"{k} {v[0]}" for k, v in sorted(progressed.items()))
        )
    if choice.location is not None:
        click.echo(f"Register {choice.location}: {len(plan.tasks)} plan task(s) recorded")


def _moved_along(
    plan: Any, progress: dict[str, tuple[str, str]], done: tuple[str, ...]
) -> tuple[Any, dict[str, tuple[str, str]]]:
    """:meth:`~benzoredux.evaluation.plan.PlanOfAction.moved_along`, an unknown ``--done`` task
    as a usage error."""
    try:
        return cast(tuple[Any, dict[str, tuple[str, str]]], plan.moved_along(progress, done))
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="--done") from None


def _from_register(
    choice: RegisterChoice,
) -> tuple[Any, dict[str, Any], dict[str, tuple[str, str]]]:
    """The programme, the tasks already recorded and the steps' progress (nothing if there is
    no register yet)."""
    if choice.location is None:
        return None, {}, {}
    if "://" not in choice.location and not Path(choice.location).exists():
        return None, {}, {}
    from benzoredux.evaluation.plan import recorded_progress, recorded_tasks
    from benzoredux.register import open_register

    with open_register(choice.location) as register:
        return register.programme(), recorded_tasks(register), recorded_progress(register)
