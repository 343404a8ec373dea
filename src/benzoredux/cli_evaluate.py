"""The ``evaluate`` command: step 6's process and effect evaluation on canonical files.

A thin layer over :func:`benzoredux.evaluate_effect`, :func:`benzoredux.evaluate_process` and
:func:`benzoredux.aggregate_export`; the letters file is the ``schedule.csv`` of
``benzoredux schedule`` (or any CSV with ``patient_id``, ``letter_date`` and optionally
``gp_id`` and ``invitation_date``), the other files are canonical tables (ISO dates)::

    benzoredux evaluate results/schedule.csv --dispensings follow-up.csv \\
        --patients patients.csv --consults consults.csv --evaluation-date 2027-03-31 \\
        --practice-id noord --out results/evaluation
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

__all__ = ["evaluate_command"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(file_okay=False, path_type=Path)


def _percent(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(number) else f"{100 * number:.0f}%"


@click.command("evaluate")
@click.argument("letters", type=_FILE)
@click.option("--dispensings", type=_FILE, required=True, help="Canonical dispensings file.")
@click.option("--evaluation-date", required=True, help="ISO date of the evaluation.")
@click.option("--patients", type=_FILE, help="Canonical patients file (status, status_date).")
@click.option("--consults", type=_FILE, help="Canonical consults file.")
@click.option(
    "--sustained-months",
    type=int,
    default=21,
    show_default=True,
    help="End of the sustained-stop follow-up, in months after the letter.",
)
@click.option("--practice-id", help="Also write aggregate.csv (suppressed counts) to share.")
@click.option("--out", type=_OUT, required=True, help="Folder to write the evaluation into.")
def evaluate_command(  # noqa: PLR0917 - click passes options as parameters
    letters: Path,
    dispensings: Path,
    evaluation_date: str,
    patients: Path | None,
    consults: Path | None,
    sustained_months: int,
    practice_id: str | None,
    out: Path,
) -> None:
    """Evaluate process and effect of the stop letters (step 6, bijlage 4).

    Writes effect_patients.csv (one row per letter recipient), effect_summary.csv (rates per
    GP and in total with 95% intervals and the Benzoredux reference figures), process.csv, and
    with --practice-id aggregate.csv for a regional monitoring database (no identifiers, small
    counts suppressed).

    \b
    Example:
      benzoredux evaluate results/schedule.csv --dispensings follow-up.csv \\
          --patients patients.csv --evaluation-date 2027-03-31 --out results/evaluation
    """
    from benzoredux.canonical_files import read_canonical
    from benzoredux.consults import CONSULTS
    from benzoredux.evaluation.effect import evaluate_effect
    from benzoredux.evaluation.letters import LETTERS_SENT
    from benzoredux.evaluation.process import evaluate_process
    from benzoredux.evaluation.sharing import aggregate_export
    from benzoredux.output import write_csv
    from benzoredux.tables import DISPENSINGS, PATIENTS

    sent = read_canonical(letters, LETTERS_SENT)
    effect = evaluate_effect(
        sent,
        read_canonical(dispensings, DISPENSINGS),
        evaluation_date,
        patients=read_canonical(patients, PATIENTS) if patients else None,
        sustained=(3, sustained_months),
        engine="native",
    )
    process = evaluate_process(
        sent, read_canonical(consults, CONSULTS) if consults else None, engine="native"
    )
    paths = [
        write_csv(effect.per_patient, out / "effect_patients.csv"),
        write_csv(effect.summary, out / "effect_summary.csv"),
        write_csv(process, out / "process.csv"),
    ]
    if practice_id:
        shared = aggregate_export(practice_id, effect_summary=effect.summary, process=process)
        paths.append(write_csv(shared, out / "aggregate.csv"))
    totals = effect.summary[effect.summary["level"] == "total"]
    for row in totals.to_dict("records"):
        reference = _percent(row["reference"])
        click.echo(
            f"{row['measure']}: {_percent(row['rate'])} of {row['evaluated']}"
            f" (95% {_percent(row['ci_low'])}-{_percent(row['ci_high'])};"
            f" Benzoredux {reference}; not due {row['not_due']})"
        )
    click.echo("Written (readable by you only):")
    for path in paths:
        click.echo(f"  {path}")
