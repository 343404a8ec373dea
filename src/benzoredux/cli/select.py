"""``benzoredux select``: step 1, the chronic and new users from the dispensings.

Reads canonical files (CSV with ISO dates, or Parquet) or any export a reader knows
(``--format``, ``--mapping``), runs :func:`benzoredux.select_chronic_users`,
:func:`benzoredux.select_new_users` and :func:`benzoredux.count_per_gp`, writes the lists (CSV,
and a spreadsheet with a sheet per GP) and records the selection in the programme register.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import click

from benzoredux.cli.inputs import (
    refusal_names_skip_invalid,
    skip_invalid_option,
    write_left_out,
    write_rejected,
)
from benzoredux.cli.options import ISO_DATE, echo_written, register_options
from benzoredux.cli.recording import RegisterChoice

__all__ = ["select", "write_gp_lists"]


def write_gp_lists(lists: dict[str, Any], out: Path, *, patients: Any = None) -> list[Path]:
    """Each list as a spreadsheet with a sheet per GP (with names and addresses from
    ``patients``), or a note saying which extra to install when openpyxl is missing."""
    try:
        from benzoredux.gp_lists import write_per_gp_xlsx

        return [
            write_per_gp_xlsx(frame, out / name, patients=patients) for name, frame in lists.items()
        ]
    except ImportError as error:
        click.echo(
            f"note: {error.name} is not installed, so no spreadsheets: "
            "pip install 'benzoredux[schedule]'",
            err=True,
        )
        return []


def _write_selection(result: Any, out: Path, patients: Any) -> list[Path]:
    """The step's files: the lists as CSV and as spreadsheets with a sheet per GP."""
    from benzoredux.output import write_csv

    paths = [
        write_csv(result.table, out / "chronic_users.csv"),
        write_csv(result.per_gp, out / "chronic_users_per_gp.csv"),
        write_csv(result.new_users, out / "new_users.csv"),
    ]
    paths += write_gp_lists(
        {"chronic_users.xlsx": result.table, "new_users.xlsx": result.new_users},
        out,
        patients=patients,
    )
    # Always written, empty when every code is known: no stale list from an earlier run remains.
    paths.append(write_csv(result.unknown_codes, out / "unknown_atc_codes.csv"))
    return paths


def _echo_selection(result: Any, reference_date: dt.date) -> None:
    echo = click.echo
    echo(f"Reference date {reference_date}: {len(result.chronic_users)} chronic users selected")
    for row in result.per_gp.itertuples(index=False):
        gp = row.gp_id if isinstance(row.gp_id, str) and row.gp_id else "(no GP)"
        echo(f"  {gp}: {row.chronic_users}")
    echo(f"{len(result.new_users)} new users in the last 3 months")
    unknown = result.unknown_codes
    if len(unknown):
        found = ", ".join(sorted(set(unknown["atc"].astype(str))))
        echo(
            f"{len(unknown)} dispensing(s) in the selection window have an ATC code benzoredux "
            f"does not know ({found}); counted in the group the code starts with, listed in "
            "unknown_atc_codes.csv"
        )


@click.command("select")
@click.argument("dispensings", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--reference-date",
    type=ISO_DATE,
    required=True,
    help="ISO date (YYYY-MM-DD) the year runs up to.",
)
@click.option("--patients", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--episodes", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "source_format",
    help="Read the sources with this reader (see 'benzoredux plugins'). Without --format or "
    "--mapping a canonical CSV or Parquet file is read as such, and any other file or folder "
    "by the reader that recognises it (the same as 'auto').",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML mapping file describing the export's columns, encoding and formats.",
)
@click.option("--gp-route", is_flag=True, help="Keep only patients with a P01/P06/P74 episode.")
@click.option("--keep-complex", is_flag=True, help="Keep patients with complex co-medication.")
@click.option(
    "--codeine-combinations-complex",
    is_flag=True,
    help="Count codeine with acetylsalicylic acid, ibuprofen or other non-opioid analgesics "
    "(N02AJ07-N02AJ09) as complex co-medication; paracetamol + codeine stays exempt.",
)
@click.option(
    "--gabapentinoids-not-complex",
    is_flag=True,
    help="Do not count gabapentin and pregabalin (N02BF01, N02BF02) as anti-epileptics (complex "
    "co-medication N03), as today's ATC index classes them.",
)
@click.option(
    "--max-quantity",
    type=click.FloatRange(min=0, min_open=True),
    help="Units of a benzodiazepine above which one dispensing is refused as implausible "
    "(default 10,000; see the tables page). Raise it only for a dispensing you have checked.",
)
@skip_invalid_option
@click.option(
    "--include-excluded", is_flag=True, help="List excluded patients too, with the reason."
)
@click.option(
    "--definition",
    type=click.Choice(["units", "nhg"]),
    default="units",
    show_default=True,
    help="Chronic use by the FTO module (more than --min-units units in the year) or by the "
    "NHG guideline (more than 60 days of use in the last 3 months).",
)
@click.option(
    "--min-units",
    type=click.FloatRange(min=0),
    default=90,
    show_default=True,
    help="With --definition units: a chronic user had more than this many units in the year.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the results into.",
)
@click.option(
    "--practice",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Practice file (TOML, as for `letters`): the programme's practice and GPs in the "
    "register.",
)
@register_options
def select(
    dispensings: Path,
    reference_date: dt.date,
    patients: Path | None,
    episodes: Path | None,
    source_format: str | None,
    mapping: Path | None,
    gp_route: bool,
    keep_complex: bool,
    codeine_combinations_complex: bool,
    gabapentinoids_not_complex: bool,
    max_quantity: float | None,
    skip_invalid: bool,
    include_excluded: bool,
    definition: str,
    min_units: float,
    out: Path,
    practice: Path | None,
    register_file: str | None,
    no_register: bool,
    by: str,
) -> None:
    """Select chronic users from canonical files (CSV with ISO dates, or Parquet), or from
    any export a reader knows: detected, or named with --format or --mapping.

    Writes chronic_users.csv, chronic_users_per_gp.csv and new_users.csv, and the lists as
    spreadsheets with a sheet per GP (chronic_users.xlsx, new_users.xlsx; with the patients'
    names and addresses when --patients has them). unknown_atc_codes.csv lists the dispensings
    of the selection window whose ATC code benzoredux does not know (empty when there are none).

    \b
    Examples:
      benzoredux select dispensings.csv --patients patients.csv \\
          --reference-date 2025-12-31 --out results
      benzoredux select ais-export.csv --format ais --reference-date 2025-12-31 --out results
      benzoredux select his-export/ --format his --gp-route --reference-date 2025-12-31 \\
          --out results
      benzoredux select dispensings.csv --definition nhg --reference-date 2025-12-31 \\
          --out results
    """
    from benzoredux.cli.steps import read_practice
    from benzoredux.reading.choose import why_not_canonical
    from benzoredux.reading.result import UnknownFormatError
    from benzoredux.tables import DISPENSINGS

    reference = reference_date
    choice = RegisterChoice.from_options(register_file, no_register, by, out)
    the_practice = read_practice(practice)[0] if practice else None
    rejected: list[Any] = []
    collect = rejected if skip_invalid else None
    tables: dict[str, Any] = {
        "dispensings": dispensings,
        "patients": patients,
        "episodes": episodes,
    }
    read_by_readers = True
    with refusal_names_skip_invalid(skip_invalid, "Nothing was selected"):
        if source_format is not None or mapping is not None:
            tables = _read_sources(
                dispensings, patients, episodes, source_format, mapping, max_quantity, collect
            )
        elif (why := why_not_canonical(dispensings, DISPENSINGS)) is not None:
            # Not the canonical layout: the readers detect the format (and its encoding).
            try:
                tables = _read_sources(
                    dispensings, patients, episodes, None, None, max_quantity, collect
                )
            except UnknownFormatError as error:
                raise UnknownFormatError(
                    f"{dispensings.name}: tried the canonical layout ({why}) and every reader; "
                    f"{error}".replace(f"{dispensings.name}: no reader", "no reader", 1)
                ) from None
        else:
            read_by_readers = False  # canonical files: the programme reads them (skip_invalid)
        if tables["dispensings"] is None:
            raise click.UsageError(f"{dispensings.name} holds no dispensings or prescriptions")
        options = {
            "gp_route": gp_route,
            "exclude_complex": not keep_complex,
            "exempt_other_codeine_combinations": not codeine_combinations_complex,
            "gabapentinoids_as_antiepileptics": not gabapentinoids_not_complex,
            "include_excluded": include_excluded,
            "definition": definition,
            "min_units": min_units,
        }
        if max_quantity is not None:
            options["max_quantity"] = max_quantity
        counts = write_rejected(rejected, out) if skip_invalid and read_by_readers else None
        paths: list[Path] = []

        def write(result: Any) -> None:
            if skip_invalid and not read_by_readers:
                write_left_out(programme, out)
            people = tables["patients"] if read_by_readers else programme.inputs.get("patients")
            paths.extend(_write_selection(result, out, people))

        with choice.programme() as programme, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = programme.select(
                tables["dispensings"],
                reference,
                patients=tables["patients"],
                episodes=tables["episodes"],
                practice=the_practice,
                source=dispensings.name,
                input_counts=counts,
                skip_invalid=skip_invalid and not read_by_readers,
                write=write,
                **options,
            )
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    _echo_selection(result, reference)
    snapshot = programme.recorded
    choice.echo(f"selection snapshot {snapshot['snapshot_id']} ({snapshot['rows']} patients)")
    echo_written(paths)


def _read_sources(
    source: Path,
    patients: Path | None,
    episodes: Path | None,
    source_format: str | None,
    mapping: Path | None,
    max_quantity: float | None = None,
    rejected: list[Any] | None = None,
) -> dict[str, Any]:
    """The tables of ``source`` read by a reader (strict: any rejected row stops the run;
    with ``rejected`` the unusable rows are left out and their problems collected there);
    --patients/--episodes, when given, replace the source's own and are detected."""
    from benzoredux.reading import read_source

    chosen = None if source_format in (None, "auto") else source_format
    limit: dict[str, Any] = {} if max_quantity is None else {"max_quantity": max_quantity}
    limit["strict"] = rejected is None
    result = read_source(source, format=chosen, mapping=mapping, **limit)
    if rejected is not None:
        rejected.append(result.rejected)
    if chosen is None and mapping is None:
        click.echo(f"note: {source.name} read as {result.format} (detected)", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    _echo_ignored(source, result.ignored)
    tables: dict[str, Any] = {
        name: result.tables.get(name) for name in ("dispensings", "patients", "episodes")
    }
    if tables["patients"] is not None and "gp_id" not in tables["patients"].columns:
        # Patient details of a pharmacy export are no register of listed patients: the
        # selection then attributes each patient to the most recent prescriber.
        click.echo("note: the source lists no GP per patient; patients left out", err=True)
        tables["patients"] = None
    for name, path in (("patients", patients), ("episodes", episodes)):
        if path is not None:
            extra = read_source(path, **limit)
            if rejected is not None:
                rejected.append(extra.rejected)
            _echo_ignored(path, extra.ignored)
            tables[name] = extra.tables.get(name)
            if tables[name] is None:
                raise click.UsageError(f"{path.name} holds no {name} table")
    return tables


def _echo_ignored(source: Path, ignored: Any) -> None:
    """What a reader read but deliberately did not turn into rows (blank rows, FHIR resources
    of other types, cancelled dispenses), so that every record of the export is accounted
    for."""
    counted = [
        f"{count} {what}"
        for what, count in ignored.items()
        if count and what != "blank rows"  # the reader's note names their lines
    ]
    if counted:
        click.echo(
            f"note: {source.name}: read, not rows of a table: {'; '.join(counted)}", err=True
        )
