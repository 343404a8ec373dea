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

from benzoredux.cli.inputs import refusal_names_skip_invalid, skip_invalid_option, write_left_out
from benzoredux.cli.options import (
    INPUT_FILE,
    ISO_DATE,
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
@click.option("--evaluation-date", type=ISO_DATE, required=True, help="ISO date of the evaluation.")
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
@skip_invalid_option
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the evaluation into.")
@register_options
def evaluate_command(
    letters: Path | None,
    dispensings: Path,
    evaluation_date: dt.date,
    patients: Path | None,
    consults: Path | None,
    sustained_months: int,
    stop_definition: str,
    practice_id: str | None,
    skip_invalid: bool,
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
    from benzoredux.programme import StepInputError

    evaluation_day = evaluation_date
    choice = _register_choice(letters, register_file, no_register, by, out)
    paths: list[Path] = []

    def write(evaluation: Any) -> None:
        if skip_invalid:
            write_left_out(programme, out)
        paths.extend(_write(evaluation, out, practice_id))

    with choice.programme(existing=letters is None) as programme:
        try:
            with refusal_names_skip_invalid(skip_invalid, "Nothing was evaluated"):
                evaluation = programme.evaluate(
                    dispensings,
                    evaluation_day,
                    letters=letters,
                    patients=patients,
                    consults=consults,
                    sustained_months=sustained_months,
                    stop_definition=stop_definition,  # type: ignore[arg-type]
                    skip_invalid=skip_invalid,
                    write=write,
                )
        except StepInputError as error:
            if error.parameter != "letters":
                raise
            raise click.UsageError(
                f"the register {choice.location} has no stop letters yet (benzoredux letters "
                "records them); or give LETTERS"
            ) from None
    if letters is None:
        click.echo(f"{len(evaluation.letters)} stop letter(s) from the register {choice.location}")
        if consults is None and evaluation.consults is not None:
            click.echo(f"{len(evaluation.consults)} consult(s) from the register")
    effect = evaluation.effect
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
    entry, unchanged = programme.recorded
    choice.echo(
        f"evaluation {entry['run_id']} "
        + ("already recorded" if unchanged else f"recorded (revision {entry.revision})")
    )


def _write(evaluation: Any, out: Path, practice_id: str | None) -> list[Path]:
    """The evaluation's files, and with a practice id the aggregate to share."""
    from benzoredux.output import write_csv

    paths = [
        write_csv(evaluation.effect.per_patient, out / "effect_patients.csv"),
        write_csv(evaluation.effect.summary, out / "effect_summary.csv"),
        write_csv(evaluation.process, out / "process.csv"),
    ]
    if practice_id:
        paths.append(write_csv(evaluation.aggregate(practice_id), out / "aggregate.csv"))
    return paths


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


_records = evaluation_records
"""Moved to :func:`benzoredux.register.steps.evaluation_records`; the old name stays."""
