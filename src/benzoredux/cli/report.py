"""The ``report`` command: the HTML report for the FTO meeting over
:func:`benzoredux.report.write_report`.

It reads the folder the steps wrote into (``--out``, or a FOLDER given first) and the
programme register there (``programme.sqlite``) when there is one, and writes ``report.html``
into ``--out``::

    benzoredux report --out results
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from benzoredux.cli.options import ISO_DATE, OUT_FOLDER, REGISTER_FILE

__all__ = ["report_command"]


@click.command("report")
@click.argument(
    "folder", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--out",
    type=OUT_FOLDER,
    required=True,
    help="Folder to write report.html into (and to read the steps' files from, without FOLDER).",
)
@click.option(
    "--register",
    "register_file",
    type=click.Path(dir_okay=False),
    help=f"The programme register to read (default: {REGISTER_FILE} in the folder, if it "
    "is there).",
)
@click.option("--no-register", is_flag=True, help="Read only the files, not the register.")
@click.option("--title", help="The report's title (default: after the programme's name).")
@click.option(
    "--as-of",
    type=ISO_DATE,
    help="ISO date that decides which plan tasks are overdue (default: today).",
)
def report_command(
    folder: Path | None,
    out: Path,
    register_file: str | None,
    no_register: bool,
    title: str | None,
    as_of: dt.date | None,
) -> None:
    """Write the HTML report for the FTO meeting (report.html).

    One self-contained file (charts inline, nothing loaded from elsewhere) with the chronic
    users per GP against the standard practice, the new users, the funnel from selection to
    stopping, the plan of action with overdue tasks and the evaluation next to the Benzoredux
    figures. Steps not yet done are shown as such. Only counts: no patient data.

    \b
    Examples:
      benzoredux report --out results
      benzoredux report results --register results/programme.sqlite --out meeting
    """
    from benzoredux.programme import Programme

    source = folder or out
    if no_register and register_file:
        raise click.UsageError("give --register or --no-register, not both")
    if not source.is_dir():
        raise click.UsageError(f"{source}: no such folder (run the steps first, or give FOLDER)")
    register: str | None = None
    if register_file:
        register = register_file
        if "://" not in register and not Path(register).is_file():
            raise click.UsageError(f"{register}: no programme register there")
    elif not no_register and (source / REGISTER_FILE).is_file():
        register = str(source / REGISTER_FILE)
    opened = Programme.open(register) if register else Programme.in_memory()
    with opened as programme:
        path = programme.report(source, out=out / "report.html", title=title, as_of=as_of)
    click.echo(f"Read {source}" + (f" and the register {register}" if register else ""))
    click.echo("Written (readable by you only; counts only, no patient data):")
    click.echo(f"  {path}")
