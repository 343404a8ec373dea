"""The ``screen``, ``schedule`` and ``letters`` commands: steps 2 to 4 on the files of ``select``.

A thin layer over :func:`benzoredux.screen`, :func:`benzoredux.plan_schedule` and
:mod:`benzoredux.letters.compose`; each command reads the previous one's CSV and writes its own
files privately into ``--out``::

    benzoredux select dispensings.csv --patients patients.csv --reference-date 2025-12-31 \\
        --out results
    benzoredux screen results/chronic_users.csv --patients patients.csv \\
        --reference-date 2025-12-31 --out results
    benzoredux schedule results/screening.csv --first-letter-date 2026-01-12 --out results
    benzoredux letters results/schedule.csv --kind stop_letter --patients patients.csv \\
        --practice practice.toml --out results/letters

The practice file (TOML) names the practice, its GPs and pharmacists (who sign); it is read and
checked by :func:`benzoredux.practice_file.read_practice` (re-exported here)::

    practice_id = "noord"
    name = "Huisartsenpraktijk Noord"
    address = "Kerkpad 1, 3431 AA Nieuwegein"
    phone = "030-1234567"
    place = "Nieuwegein"            # optional: the place in the date line

    [[gps]]
    gp_id = "huisarts-1"
    name = "A. de Vries"            # the name only: the letters print "huisarts" under it

    [[pharmacists]]                 # optional
    pharmacist_id = "apo-1"
    name = "M. Jansen"
    pharmacy_name = "Apotheek De Brug"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from benzoredux.cli.inputs import refusal_names_skip_invalid, skip_invalid_option, write_left_out
from benzoredux.cli.options import (
    CLOCK_TIME,
    INPUT_FILE,
    ISO_DATE,
    OUT_FOLDER,
    echo_written,
    register_options,
)
from benzoredux.cli.progress import progress_bar
from benzoredux.cli.recording import RegisterChoice
from benzoredux.practice_file import PracticeFileError, read_practice

__all__ = [
    "PracticeFileError",
    "letters_command",
    "read_practice",
    "schedule_command",
    "screen_command",
]


def _parameters(values: tuple[str, ...], max_ddd: float | None) -> dict[str, dict[str, Any]]:
    parameters: dict[str, dict[str, Any]] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        key, dot, parameter = name.partition(".")
        if not sep or not dot:
            raise click.BadParameter(
                f"{value!r}: use criterion.parameter=value", param_hint="--set"
            )
        try:
            parsed: Any = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw
        parameters.setdefault(key.strip(), {})[parameter.strip()] = parsed
    if max_ddd is not None:
        parameters.setdefault("ddd_per_day", {})["max_ddd_per_day"] = max_ddd
    return parameters


@click.command("screen")
@click.argument("selection", type=INPUT_FILE)
@click.option("--reference-date", type=ISO_DATE, required=True, help="ISO date of the selection.")
@click.option("--patients", type=INPUT_FILE, help="Canonical patients file (flags, birth dates).")
@click.option("--episodes", type=INPUT_FILE, help="Canonical episodes file (ICPC codes).")
@click.option("--enable", multiple=True, help="Switch a criterion on (repeatable).")
@click.option("--disable", multiple=True, help="Switch a criterion off (repeatable).")
@click.option("--max-ddd", type=float, help="DDD a day above which a patient is excluded (2 or 1).")
@click.option("--set", "settings", multiple=True, help="criterion.parameter=value (repeatable).")
@click.option(
    "--overrides",
    type=INPUT_FILE,
    help="CSV of the GP's decisions: patient_id, decision, decided_by, decided_at, note.",
)
@click.option(
    "--missing-data",
    type=click.Choice(["review", "error"]),
    default="review",
    show_default=True,
    help="What a criterion without its data does.",
)
@skip_invalid_option
@click.option(
    "--out", type=OUT_FOLDER, required=True, help="Folder to write screening.csv and .xlsx into."
)
@register_options
def screen_command(
    selection: Path,
    reference_date: dt.date,
    patients: Path | None,
    episodes: Path | None,
    enable: tuple[str, ...],
    disable: tuple[str, ...],
    max_ddd: float | None,
    settings: tuple[str, ...],
    overrides: Path | None,
    missing_data: str,
    skip_invalid: bool,
    out: Path,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Screen the selected patients on the exclusion criteria (step 2).

    Writes screening.csv and screening.xlsx (a sheet per GP: the decision, the reasons and the
    criteria that exclude each patient, with names and addresses from --patients).

    \b
    Example:
      benzoredux screen results/chronic_users.csv --patients patients.csv \\
          --episodes episodes.csv --reference-date 2025-12-31 --max-ddd 1 --out results
    """
    choice = RegisterChoice.from_options(register_file, no_register, by, selection.parent)
    paths: list[Path] = []

    def write(result: Any) -> None:
        if skip_invalid:
            write_left_out(programme, out)
        paths.extend(_write_screening(result, out, programme.inputs.get("patients")))

    with (
        choice.programme() as programme,
        refusal_names_skip_invalid(skip_invalid, "Nothing was screened"),
    ):
        result = programme.screen(
            selection,
            reference_date,
            patients=patients,
            episodes=episodes,
            overrides=overrides,
            enable=enable,
            disable=disable,
            parameters=_parameters(settings, max_ddd),
            missing_data=missing_data,
            skip_invalid=skip_invalid,
            write=write,
        )
    for line in result.summary.describe():
        click.echo(line)
    echo_written(paths)
    added, decisions = programme.recorded
    choice.echo(f"{len(added)} proposal(s) and {decisions} GP decision(s) recorded")


def _write_screening(result: Any, out: Path, people: Any) -> list[Path]:
    """screening.csv and the spreadsheet with a sheet per GP; plugins hear of them."""
    from benzoredux.output import write_csv
    from benzoredux.plugins import get_plugins

    paths = [write_csv(result.table, out / "screening.csv")]
    try:
        from benzoredux.gp_lists import write_screening_xlsx

        paths.append(write_screening_xlsx(result.table, out / "screening.xlsx", patients=people))
    except ImportError as error:
        click.echo(f"note: {error.name} is not installed: pip install 'benzoredux[schedule]'")
    get_plugins().outputs_written("screen", paths, result.summary.as_dict())
    return paths


@click.command("schedule")
@click.argument("screening", type=INPUT_FILE)
@click.option(
    "--first-letter-date", type=ISO_DATE, required=True, help="ISO date of the first stop letters."
)
@click.option("--batch-size", type=int, default=15, show_default=True, help="Letters a week.")
@click.option(
    "--letters",
    type=click.Choice(["batched", "together"]),
    default="batched",
    show_default=True,
    help="Stop letters weekly, or all on the first date.",
)
@click.option("--consults-per-day", type=int, default=2, show_default=True)
@click.option("--per-gp", is_flag=True, help="Count consults a day per GP.")
@click.option(
    "--slot-time",
    type=CLOCK_TIME,
    multiple=True,
    help="Time of a consult slot, e.g. 09:00 (repeatable).",
)
@click.option(
    "--holiday", type=ISO_DATE, multiple=True, help="ISO date the practice is closed (repeatable)."
)
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the schedule into.")
@register_options
def schedule_command(
    screening: Path,
    first_letter_date: dt.date,
    batch_size: int,
    letters: str,
    consults_per_day: int,
    per_gp: bool,
    slot_time: tuple[dt.time, ...],
    holiday: tuple[dt.date, ...],
    out: Path,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Plan letters, invitations, calls and consults for the eligible patients (steps 3-4).

    Writes schedule.csv, and schedule.xlsx and schedule.ics when the schedule extra is
    installed.

    \b
    Example:
      benzoredux schedule results/screening.csv --first-letter-date 2026-01-12 \\
          --slot-time 09:00 --slot-time 09:30 --holiday 2026-04-27 --out results
    """
    choice = RegisterChoice.from_options(register_file, no_register, by, screening.parent)
    paths: list[Path] = []
    with choice.programme() as programme:
        plan = programme.schedule(
            screening,
            first_letter_date,
            batch_size=batch_size,
            letters=letters,
            consults_per_day=consults_per_day,
            per_gp=per_gp,
            slot_times=slot_time,
            holidays=list(holiday),
            write=lambda plan: paths.extend(_write_schedule(plan, out, programme)),
        )
    summary = plan.summary()
    click.echo(
        f"{summary['letters']} patients in {summary['batches']} batch(es)"
        + (
            f"; consults from {summary['first_consult']} to {summary['last_consult']}"
            if summary["letters"]
            else ""
        )
    )
    echo_written(paths)
    if programme.recorded is not None:
        changed, planned = programme.recorded
        choice.echo(f"{changed} task(s) of {planned} recorded")


def _write_schedule(plan: Any, out: Path, programme: Any) -> list[Path]:
    """schedule.csv, and the spreadsheet and calendar with the schedule extra (the calendar's
    UIDs carry the register's programme, so two programmes in one agenda stay apart)."""
    from benzoredux.output import write_csv
    from benzoredux.plugins import get_plugins
    from benzoredux.schedule import calendar_programme_of, write_schedule_ics, write_schedule_xlsx

    paths = [write_csv(plan.table, out / "schedule.csv")]
    try:
        paths.append(write_schedule_xlsx(plan, out / "schedule.xlsx"))
        paths.append(
            write_schedule_ics(
                plan, out / "schedule.ics", programme=calendar_programme_of(programme)
            )
        )
    except ImportError as error:
        click.echo(f"note: {error.name} is not installed: pip install 'benzoredux[schedule]'")
    get_plugins().outputs_written("schedule", paths, plan.summary())
    return paths


@click.command("letters")
@click.argument("source", type=INPUT_FILE)
@click.option("--patients", type=INPUT_FILE, required=True, help="Canonical patients file.")
@click.option("--practice", type=INPUT_FILE, required=True, help="Practice file (TOML).")
@click.option(
    "--kind",
    type=click.Choice(["stop_letter", "invitation"]),
    default="stop_letter",
    show_default=True,
)
@click.option(
    "--letter-date", type=ISO_DATE, help="ISO date on the letters (needed without a schedule)."
)
@click.option("--style", default="default", show_default=True, help="House style.")
@click.option(
    "--signed-by",
    type=click.Choice(["own_gp", "all_gps"]),
    default="own_gp",
    show_default=True,
)
@click.option("--pharmacists", is_flag=True, help="The practice's pharmacists co-sign.")
@click.option("--appointments", is_flag=True, help="Invitations give the reserved consult.")
@click.option("--consult-with", help="Who holds the consult, e.g. 'de praktijkondersteuner'.")
@click.option(
    "--pdf",
    type=click.Choice(["auto", "yes", "no"]),
    default="auto",
    show_default=True,
    help="PDF of the merged documents (needs LibreOffice).",
)
@click.option("--labels", is_flag=True, help="Also an address-label sheet.")
@skip_invalid_option
@click.option("--out", type=OUT_FOLDER, required=True, help="Folder to write the letters into.")
@click.option(
    "--force-second-letter",
    metavar="REASON",
    help="Send a stop letter also to patients who already had one in this programme, and "
    "record why (otherwise they are refused and nothing is written).",
)
@register_options
def letters_command(
    source: Path,
    patients: Path,
    practice: Path,
    kind: str,
    letter_date: dt.date | None,
    style: str,
    signed_by: str,
    pharmacists: bool,
    appointments: bool,
    consult_with: str | None,
    pdf: str,
    labels: bool,
    skip_invalid: bool,
    out: Path,
    force_second_letter: str | None,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Write the stop letters or invitations (steps 3-4), from a schedule or a screening.

    From schedule.csv each batch gets its own date and merged document (invitations: the
    invitation date, with the call date and, with --appointments, the reserved consult).

    \b
    Example:
      benzoredux letters results/schedule.csv --kind invitation --appointments \\
          --patients patients.csv --practice practice.toml --out results/letters
    """
    from benzoredux.letters.compose import render_labels
    from benzoredux.programme import StepInputError
    from benzoredux.register import LetterRefusedError

    if force_second_letter is not None and not force_second_letter.strip():
        raise click.BadParameter("say why", param_hint="--force-second-letter")
    choice = RegisterChoice.from_options(register_file, no_register, by, source.parent)
    the_practice, place = read_practice(practice)
    label = "Stop letters" if kind == "stop_letter" else "Invitations"
    with contextlib.ExitStack() as bars, choice.programme() as programme:
        shown: list[Any] = []

        def progress(done: int, total: int) -> None:
            if not shown:
                shown.append(bars.enter_context(progress_bar(label, length=total)))
            shown[0].update(done)

        def write(_: Any) -> None:
            if skip_invalid:
                write_left_out(programme, out)

        try:
            with refusal_names_skip_invalid(skip_invalid, "No letter was written"):
                result = programme.letters(
                    patients,
                    out,
                    source=source,
                    kind=kind,  # type: ignore[arg-type]
                    letter_date=letter_date,
                    practice=the_practice,
                    place=place,
                    style=style,
                    signed_by=signed_by,  # type: ignore[arg-type]
                    pharmacists=pharmacists,
                    appointments=appointments,
                    consult_with=consult_with,
                    pdf={"auto": "auto", "yes": True, "no": False}[pdf],  # type: ignore[arg-type]
                    force_second_letter=force_second_letter,
                    progress=progress,
                    skip_invalid=skip_invalid,
                    write=write,
                )
        except LetterRefusedError as error:
            refused = error.patient_ids
            listed = ", ".join(refused[:10]) + (
                f" and {len(refused) - 10} more" if len(refused) > 10 else ""
            )
            error.args = (
                f"refused: {len(refused)} patient(s) already had a stop letter in this "
                f"programme (register {choice.location}): {listed}. Nothing was written. Leave "
                "them out of the source, or send a second letter on purpose with "
                "--force-second-letter REASON",
            )
            raise
        except StepInputError as error:
            if error.parameter == "letter_date":
                raise click.UsageError("without a schedule, give --letter-date") from None
            raise
    paths = list(result.paths)
    written = [letter for letter, _ in result.letters]
    if labels and written:
        label_path, _ = render_labels(
            written,
            programme.inputs["patients"],
            out / "labels.docx",
            on=written[0].letter_date,
            style=style,
        )
        if label_path is not None:
            paths.append(label_path)
    click.echo(
        f"{len(result.letters)} {kind.replace('_', ' ')}(s) in {len(result.merged)} merged "
        "document(s)" + (f", {len(result.pdfs)} PDF(s)" if result.pdfs else "")
    )
    for patient_id, reason in result.skipped:
        click.echo(f"skipped {patient_id}: {reason}", err=True)
    echo_written(paths)
    recorded = programme.recorded
    forced = sum(1 for e in recorded.recorded if e["forced"])
    choice.echo(
        f"{len(recorded.recorded)} letter(s) recorded"
        + (f" ({forced} second stop letter(s) forced)" if forced else "")
        + (f", {len(recorded.unchanged)} already recorded" if recorded.unchanged else "")
    )
