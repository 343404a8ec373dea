"""``benzoredux register ...``: make, inspect, export and import a programme register.

A thin layer over :mod:`benzoredux.register`; :mod:`benzoredux.cli` adds the group to the main
command. ``--by`` says who acts (the audit trail records it); it defaults to the login name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from benzoredux.cli.options import BY, ISO_DATE, REGISTER_LOCATION

__all__ = ["register_group"]


def _is_file(location: str) -> bool:
    return "://" not in location


@click.group("register")
def register_group() -> None:
    """The programme register: what was decided and done, kept between runs.

    \b
    Examples:
      benzoredux register init programme.sqlite --name "FTO Noord 2026" \\
          --practice-id fto-noord --reference-date 2025-12-31 --gp gp1="dr. A. Jansen"
      benzoredux register show programme.sqlite
      benzoredux register export programme.sqlite backup-folder
      benzoredux register import backup-folder restored.sqlite
    """


@register_group.command("init")
@click.argument("register", type=REGISTER_LOCATION)
@click.option("--name", required=True, help="A name for the programme.")
@click.option("--practice-id", required=True, help="The practice's or FTO group's id.")
@click.option(
    "--reference-date", type=ISO_DATE, required=True, help="ISO date (YYYY-MM-DD) of the selection."
)
@click.option(
    "--unit",
    type=click.Choice(["practice", "fto_group"]),
    default="practice",
    show_default=True,
    help="One practice, or an FTO group of GPs and pharmacists.",
)
@click.option(
    "--gp",
    "gps",
    multiple=True,
    metavar="ID=NAME",
    help="A GP of the programme, as id=name (repeat for each GP).",
)
@BY
def init(
    register: str,
    name: str,
    practice_id: str,
    reference_date: dt.date,
    unit: str,
    gps: tuple[str, ...],
    by: str,
) -> None:
    """Make a new register (owner-only) holding the programme.

    \b
    Example:
      benzoredux register init programme.sqlite --name "FTO Noord 2026" \\
          --practice-id fto-noord --reference-date 2025-12-31 --gp gp1="dr. A. Jansen"
    """
    from benzoredux.models import GeneralPractitioner, Practice
    from benzoredux.programme import Programme

    if _is_file(register) and Path(register).exists():
        raise click.UsageError(f"{register} already exists; `register show` looks inside it")
    doctors = []
    for item in gps:
        gp_id, separator, gp_name = item.partition("=")
        if not separator or not gp_id.strip() or not gp_name.strip():
            raise click.BadParameter(f"{item!r} is not ID=NAME", param_hint="--gp")
        doctors.append(GeneralPractitioner(gp_id=gp_id.strip(), name=gp_name.strip()))
    # attrs' converter=tuple confuses mypy about the argument type; the value is right.
    practice = Practice(practice_id=practice_id, name=name, gps=doctors)  # type: ignore[arg-type]
    reference = reference_date
    with Programme.create(register, practice=practice, reference_date=reference, unit=unit, by=by):
        pass
    click.echo(f"Register made (readable by you only): {register}")


@register_group.command("show")
@click.argument("register", type=REGISTER_LOCATION)
def show(register: str) -> None:
    """Show what the register holds (counts only, no patient data).

    \b
    Example:
      benzoredux register show benzoredux-demo/programme.sqlite
    """
    from benzoredux.register import SQLiteStore, open_register

    with open_register(register) as opened:
        summary = opened.summary()
        click.echo(f"Register {register} (schema version {opened.store.schema_version})")
        for key, value in summary.items():
            shown = "-" if value is None else value
            if key == "tasks":
                shown = ", ".join(f"{s} {n}" for s, n in sorted(value.items())) or "none"
            click.echo(f"  {key.replace('_', ' ')}: {shown}")
        if isinstance(opened.store, SQLiteStore):
            problems = opened.store.integrity_problems()
            click.echo(f"  integrity: {'ok' if not problems else '; '.join(problems)}")


@register_group.command("export")
@click.argument("register", type=REGISTER_LOCATION)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--xlsx/--no-xlsx",
    default=None,
    help="Also write register.xlsx (default: when openpyxl is installed).",
)
def export(register: str, folder: Path, xlsx: bool | None) -> None:
    """Write the whole register (every revision) to FOLDER as CSV files.

    \b
    Example:
      benzoredux register export programme.sqlite backup-folder
    """
    from benzoredux.register import export_register, open_register

    with open_register(register) as opened:
        paths = export_register(opened, folder, xlsx=xlsx)
    click.echo("Written (readable by you only):")
    for path in paths:
        click.echo(f"  {path}")


@register_group.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("register", type=REGISTER_LOCATION)
def import_(folder: Path, register: str) -> None:
    """Read an export in FOLDER into a new register file REGISTER.

    \b
    Example:
      benzoredux register import backup-folder restored.sqlite
    """
    from benzoredux.register import import_register

    if _is_file(register) and Path(register).exists():
        raise click.UsageError(f"{register} already exists; import into a new file")
    with import_register(folder, register) as opened:
        entries = opened.summary()["entries"]
    click.echo(f"Imported {entries} entries into {register}")
