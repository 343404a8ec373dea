"""The ``benzoredux`` command line: a thin layer over the public API.

No domain logic lives here: every command calls the same functions a developer would, then
writes the results into ``--out`` as private files (owner-only, formula-safe CSV and xlsx).
Long work shows a progress bar on a terminal (:mod:`benzoredux.cli_progress`).

Exit codes, the same for every command (scripts and schedulers can rely on them):

== ========================================================================================
0  done
1  something unexpected (a bug: please report it with the output of ``--debug``)
2  wrong usage: an unknown option, a missing argument or option, a file that does not exist,
   an option value that is not allowed, a demo folder that holds other files
3  bad input data, or refused: a row, column or value that cannot be used (the message names
   the file, row and column), a practice file without a required field, a second stop letter
   the programme register refuses
4  a file could not be read or written (permissions, a full disk, a file in use)
== ========================================================================================

Errors come as one readable line; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from benzoredux import __version__
from benzoredux.cli_common import echo_written
from benzoredux.cli_register import RegisterChoice, record_selection, register_options
from benzoredux.errors import BenzoreduxError

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA_ERROR = 3
EXIT_FILE_ERROR = 4


class _Group(click.Group):
    """Turns library errors into one readable line and an exit code, unless ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BenzoreduxError, ValueError, TypeError, OSError) as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            click.echo("(run with --debug for the full traceback)", err=True)
            if isinstance(exc, BenzoreduxError | ValueError):
                ctx.exit(EXIT_DATA_ERROR)
            ctx.exit(EXIT_FILE_ERROR if isinstance(exc, OSError) else EXIT_UNEXPECTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="benzoredux")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Select, screen and follow up chronic benzodiazepine users (the minimal intervention).

    \b
    Examples:
      benzoredux demo --out benzoredux-demo
      benzoredux select dispensings.csv --reference-date 2025-12-31 --out results
      benzoredux COMMAND --help

    \b
    Exit codes: 0 done, 1 unexpected error, 2 wrong usage, 3 bad input data or
    refused by the register, 4 a file could not be read or written.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


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


def _run_selection(
    dispensings: Any,
    reference_date: dt.date,
    out: Path,
    *,
    patients: Any = None,
    episodes: Any = None,
    options: dict[str, Any],
    echo: Callable[[str], None] = click.echo,
    record: Callable[[Any], None] | None = None,
) -> list[Path]:
    from benzoredux.output import write_csv
    from benzoredux.selection import (
        count_per_gp,
        select_chronic_users,
        select_new_users,
        unknown_code_rows,
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selection = select_chronic_users(
            dispensings, reference_date, patients=patients, episodes=episodes, **options
        )
        new_users = select_new_users(dispensings, reference_date, patients=patients)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    chosen = selection
    if "excluded_because" in selection.columns:
        chosen = selection[selection["excluded_because"].isna()]
    per_gp = count_per_gp(chosen, patients)
    paths = [
        write_csv(selection, out / "chronic_users.csv"),
        write_csv(per_gp, out / "chronic_users_per_gp.csv"),
        write_csv(new_users, out / "new_users.csv"),
    ]
    paths += write_gp_lists(
        {"chronic_users.xlsx": selection, "new_users.xlsx": new_users}, out, patients=patients
    )
    # Always written, empty when every code is known: no stale list from an earlier run remains.
    unknown = unknown_code_rows(
        dispensings, reference_date, window_months=options.get("window_months", 12)
    )
    paths.append(write_csv(unknown, out / "unknown_atc_codes.csv"))
    echo(f"Reference date {reference_date}: {len(chosen)} chronic users selected")
    for row in per_gp.itertuples(index=False):
        gp = row.gp_id if isinstance(row.gp_id, str) and row.gp_id else "(no GP)"
        echo(f"  {gp}: {row.chronic_users}")
    echo(f"{len(new_users)} new users in the last 3 months")
    if len(unknown):
        found = ", ".join(sorted(set(unknown["atc"].astype(str))))
        echo(
            f"{len(unknown)} dispensing(s) in the selection window have an ATC code benzoredux "
            f"does not know ({found}); counted in the group the code starts with, listed in "
            "unknown_atc_codes.csv"
        )
    if record is not None:
        record(selection)
    return paths


@main.command("select")
@click.argument("dispensings", type=click.Path(exists=True, path_type=Path))
@click.option("--reference-date", required=True, help="ISO date (YYYY-MM-DD) the year runs up to.")
@click.option("--patients", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--episodes", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "source_format",
    help="Read the sources with this reader (see 'benzoredux plugins'); 'auto' detects it. "
    "Without --format or --mapping the files must be canonical CSV or Parquet.",
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
    reference_date: str,
    patients: Path | None,
    episodes: Path | None,
    source_format: str | None,
    mapping: Path | None,
    gp_route: bool,
    keep_complex: bool,
    codeine_combinations_complex: bool,
    gabapentinoids_not_complex: bool,
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
    any export a reader knows (--format, --mapping).

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
    from benzoredux.cli_steps import read_practice
    from benzoredux.dates import parse_reference_date
    from benzoredux.reading.canonical import read_canonical
    from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

    reference = parse_reference_date(reference_date)
    choice = RegisterChoice.from_options(register_file, no_register, by, out)
    the_practice = read_practice(practice)[0] if practice else None
    if source_format is not None or mapping is not None:
        tables = _read_sources(dispensings, patients, episodes, source_format, mapping)
    else:
        if dispensings.is_dir():
            raise click.UsageError("a folder needs --format (for example --format his)")
        tables = {
            "dispensings": read_canonical(dispensings, DISPENSINGS),
            "patients": read_canonical(patients, PATIENTS) if patients else None,
            "episodes": read_canonical(episodes, EPISODES) if episodes else None,
        }
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
    paths = _run_selection(
        tables["dispensings"],
        reference,
        out,
        patients=tables["patients"],
        episodes=tables["episodes"],
        options=options,
        record=lambda selection: record_selection(
            choice,
            selection,
            reference_date=reference,
            practice=the_practice,
            options=options,
            source=dispensings.name,
        ),
    )
    echo_written(paths)


def _read_sources(
    source: Path,
    patients: Path | None,
    episodes: Path | None,
    source_format: str | None,
    mapping: Path | None,
) -> dict[str, Any]:
    """The tables of ``source`` read by a reader (strict: any rejected row stops the run);
    --patients/--episodes, when given, replace the source's own and are detected."""
    from benzoredux.reading import read_source

    chosen = None if source_format in (None, "auto") else source_format
    result = read_source(source, format=chosen, mapping=mapping)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
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
            tables[name] = read_source(path).tables.get(name)
            if tables[name] is None:
                raise click.UsageError(f"{path.name} holds no {name} table")
    return tables


@main.command("plugins")
def plugins_command() -> None:
    """List the active plugins, the source formats they read and the register stores.

    Set BENZOREDUX_BLOCK_PLUGINS=name,... to leave plugins out.

    \b
    Examples:
      benzoredux plugins
      BENZOREDUX_BLOCK_PLUGINS=fhir benzoredux plugins
    """
    from benzoredux.hookspecs import HOOKS_VERSION
    from benzoredux.plugins import get_plugins

    active = get_plugins()
    readers = active.readers()
    click.echo(f"Active plugins (hooks version {HOOKS_VERSION}):")
    for info in active.info():
        origin = "internal" if info.internal else f"{info.distribution} {info.version or ''}"
        click.echo(f"  {info.name} ({origin.strip()}; {info.module})")
        for label, names in (
            ("reads", info.readers),
            ("criteria", info.criteria),
            ("house styles", info.house_styles),
            ("register stores", info.stores),
        ):
            if names:
                click.echo(f"    {label}: {', '.join(names)}")
    click.echo("Formats (--format):")
    for name, reader in readers.items():
        click.echo(f"  {name}: {reader.description}")
    click.echo("Register stores (--register NAME://...):")
    click.echo("  sqlite: a SQLite file (built in; a plain path)")
    for name, factory in active.register_stores().items():
        click.echo(f"  {name}: {factory.description}")


from benzoredux.register.commands import register_group  # noqa: E402 (after main is defined)

main.add_command(register_group)

from benzoredux.cli_steps import (  # noqa: E402 (after main is defined)
    letters_command,
    schedule_command,
    screen_command,
)

main.add_command(screen_command)
main.add_command(schedule_command)
main.add_command(letters_command)

from benzoredux.cli_evaluate import evaluate_command  # noqa: E402 (after main is defined)

main.add_command(evaluate_command)

from benzoredux.cli_demo import demo_command  # noqa: E402 (after main is defined)

main.add_command(demo_command)

from benzoredux.cli_plan import plan_command  # noqa: E402 (after main is defined)
from benzoredux.cli_report import report_command  # noqa: E402 (after main is defined)

main.add_command(plan_command)
main.add_command(report_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
