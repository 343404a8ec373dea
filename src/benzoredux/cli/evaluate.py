"""The ``evaluate`` command: step 6's process and effect evaluation on canonical files.

A thin layer over :func:`benzoredux.evaluate_effect`, :func:`benzoredux.evaluate_process` and
:func:`benzoredux.aggregate_export`; the letters file is the ``schedule.csv`` of
``benzoredux schedule`` (or any CSV with ``patient_id``, ``letter_date`` and optionally
``gp_id`` and ``invitation_date``), the other files are canonical tables (ISO dates)::

    benzoredux evaluate results/schedule.csv --dispensings follow-up.csv \\
        --patients patients.csv --consults consults.csv --evaluation-date 2027-03-31 \\
        --practice-id noord --out results/evaluation

Without the letters file the stop letters and invitations come from the programme register, as
``benzoredux letters`` recorded them: the first stop letter of each patient (its sending date
and first signing GP) and the patient's first invitation; without ``--consults``, so do the
consults the register holds. The run is recorded in the register
(aggregates only: the summary and process rows) under ``evaluation-YYYY-MM-DD``; evaluating the
same date again with other figures is a new revision of that run, with the same figures it adds
nothing. The default register is ``programme.sqlite`` next to the letters file, or without one,
in ``--out`` or the folder above it (``results/evaluation`` -> ``results/programme.sqlite``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import click

from benzoredux.cli.options import (
    INPUT_FILE,
    OUT_FOLDER,
    REGISTER_FILE,
    echo_written,
    register_options,
)
from benzoredux.cli.recording import RegisterChoice

# Moved to the domain (benzoredux.evaluation.letters); still importable from here.
from benzoredux.evaluation.letters import consults_from_register, letters_from_register
from benzoredux.register.steps import EVALUATION_KIND, evaluation_records

__all__ = [
    "EVALUATION_KIND",
    "consults_from_register",
    "evaluate_command",
    "letters_from_register",
]


_STOP_DEFINITIONS = {
    "supply": "no benzodiazepine dispensed in the window and no tablets left from earlier "
    "dispensings (supply at the patient's own rate of use)",
    "plain": "no benzodiazepine dispensed in the window (an upper bound: tablets collected "
    "before a window last into it)",
}


def _percent(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(number) else f"{100 * number:.0f}%"


@click.command("evaluate")
@click.argument("letters", type=INPUT_FILE, required=False)
@click.option("--dispensings", type=INPUT_FILE, required=True, help="Canonical dispensings file.")
@click.option("--evaluation-date", required=True, help="ISO date of the evaluation.")
@click.option("--patients", type=INPUT_FILE, help="Canonical patients file (status, status_date).")
@click.option("--consults", type=INPUT_FILE, help="Canonical consults file.")
@click.option(
    "--sustained-months",
    type=int,
    default=21,
    show_default=True,
    help="End of the sustained-stop follow-up, in months after the letter.",
)
@click.option(
    "--stop-definition",
    type=click.Choice(["supply", "plain"]),
    default="supply",
    show_default=True,
    help="What a stop is: supply = no dispensing in the window and no tablets left from "
    "earlier dispensings; plain = no dispensing in the window (an upper bound). Both are "
    "written; this one counts as the stop (and decides the non-stoppers).",
)
@click.option("--practice-id", help="Also write aggregate.csv (suppressed counts) to share.")
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the evaluation into.")
@register_options
def evaluate_command(
    letters: Path | None,
    dispensings: Path,
    evaluation_date: str,
    patients: Path | None,
    consults: Path | None,
    sustained_months: int,
    stop_definition: str,
    practice_id: str | None,
    out: Path,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Evaluate process and effect of the stop letters (step 6, bijlage 4).

    Writes effect_patients.csv (one row per letter recipient), effect_summary.csv (rates per
    GP and in total with 95% intervals and the Benzoredux reference figures; the stop rates
    also by the plain definition, an upper bound, in the *_plain columns), process.csv, and
    with --practice-id aggregate.csv for a regional monitoring database (no identifiers, small
    counts suppressed). Without LETTERS the letters come from the programme register; the run
    is recorded there (counts and rates only).

    \b
    Examples:
      benzoredux evaluate results/schedule.csv --dispensings follow-up.csv \\
          --patients patients.csv --evaluation-date 2027-03-31 --out results/evaluation
      benzoredux evaluate --register results/programme.sqlite --dispensings follow-up.csv \\
          --evaluation-date 2027-03-31 --out results/evaluation
    """
    from benzoredux.consult.records import CONSULTS
    from benzoredux.dates import parse_reference_date
    from benzoredux.evaluation.effect import evaluate_effect
    from benzoredux.evaluation.letters import LETTERS_SENT
    from benzoredux.evaluation.process import evaluate_process
    from benzoredux.evaluation.sharing import aggregate_export
    from benzoredux.output import write_csv
    from benzoredux.reading.canonical import read_canonical
    from benzoredux.tables import DISPENSINGS, PATIENTS

    evaluation_day = parse_reference_date(evaluation_date, name="--evaluation-date")
    choice = _register_choice(letters, register_file, no_register, by, out)
    consult_table = read_canonical(consults, CONSULTS) if consults else None
    consults_source = consults.name if consults else None
    if letters is not None:
        sent = read_canonical(letters, LETTERS_SENT)
        letters_source = letters.name
    else:
        sent, recorded_consults = _letters_from(choice)
        letters_source = f"register {choice.location}"
        click.echo(f"{len(sent)} stop letter(s) from the register {choice.location}")
        if consult_table is None and recorded_consults is not None:
            consult_table, consults_source = recorded_consults, letters_source
            click.echo(f"{len(consult_table)} consult(s) from the register")
    effect = evaluate_effect(
        sent,
        read_canonical(dispensings, DISPENSINGS),
        evaluation_day,
        patients=read_canonical(patients, PATIENTS) if patients else None,
        sustained=(3, sustained_months),
        stop_definition=stop_definition,
        engine="native",
    )
    process = evaluate_process(sent, consult_table, engine="native")
    paths = [
        write_csv(effect.per_patient, out / "effect_patients.csv"),
        write_csv(effect.summary, out / "effect_summary.csv"),
        write_csv(process, out / "process.csv"),
    ]
    if practice_id:
        shared = aggregate_export(practice_id, effect_summary=effect.summary, process=process)
        paths.append(write_csv(shared, out / "aggregate.csv"))
    totals = effect.summary[effect.summary["level"] == "total"]
    click.echo(f"Stopped: {_STOP_DEFINITIONS[stop_definition]}")
    for row in totals.to_dict("records"):
        reference = _percent(row["reference"])
        plain = (
            ""
            if row["measure"] == "ddd_reduction" or stop_definition == "plain"
            else f"; no dispensing (upper bound) {_percent(row['rate_plain'])}"
            f" (95% {_percent(row['ci_low_plain'])}-{_percent(row['ci_high_plain'])})"
        )
        click.echo(
            f"{row['measure']}: {_percent(row['rate'])} of {row['evaluated']}"
            f" (95% {_percent(row['ci_low'])}-{_percent(row['ci_high'])};"
            f" Benzoredux {reference}; not due {row['not_due']}){plain}"
        )
    echo_written(paths)
    parameters = {
        "evaluation_date": evaluation_day.isoformat(),
        "sustained_months": sustained_months,
        "stop_definition": stop_definition,
        "letters": letters_source,
        "dispensings": dispensings.name,
        "patients": patients.name if patients else None,
        "consults": consults_source,
    }
    _record(choice, evaluation_day, effect.summary, process, parameters)


def _register_choice(
    letters: Path | None, register_file: str | None, no_register: bool, by: str, out: Path
) -> RegisterChoice:
    if letters is not None:
        return RegisterChoice.from_options(register_file, no_register, by, letters.parent)
    if no_register:
        raise click.UsageError("without LETTERS the letters come from the register: give one")
    if register_file is None:
        found = [f for f in (out, out.parent) if (f / REGISTER_FILE).is_file()]
        if not found:
            raise click.UsageError(
                f"give LETTERS (schedule.csv) or --register: no {REGISTER_FILE} in {out} "
                f"or {out.parent}"
            )
        register_file = str(found[0] / REGISTER_FILE)
    elif "://" not in register_file and not Path(register_file).is_file():
        raise click.UsageError(f"{register_file}: no programme register there")
    return RegisterChoice.from_options(register_file, False, by, out)


def _letters_from(choice: RegisterChoice) -> tuple[Any, Any]:
    """The letters (and the consults, if any) recorded in the register."""
    from benzoredux.register import open_register

    assert choice.location is not None  # _register_choice made sure
    with open_register(choice.location) as register:
        frame = letters_from_register(register)
        consults = consults_from_register(register)
    if frame.empty:
        raise click.UsageError(
            f"the register {choice.location} has no stop letters yet (benzoredux letters "
            "records them); or give LETTERS"
        )
    return frame, consults


_records = evaluation_records
"""Moved to :func:`benzoredux.register.steps.evaluation_records`; the old name stays."""


def _record(
    choice: RegisterChoice,
    day: dt.date,
    summary: Any,
    process: Any,
    parameters: dict[str, Any],
) -> None:
    """Record the run (:func:`benzoredux.register.steps.record_evaluation_run`): the summary
    and process rows (counts and rates, no patient data)."""
    from benzoredux.register.steps import record_evaluation_run

    with choice.opened() as register:
        if register is None:
            return
        entry, unchanged = record_evaluation_run(
            register, day, summary, process, parameters, by=choice.by
        )
    click.echo(
        f"Register {choice.location}: evaluation {entry['run_id']} "
        + ("already recorded" if unchanged else f"recorded (revision {entry.revision})")
    )
