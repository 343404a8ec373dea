"""The ``benzoredux`` command group: options every command shares, errors and exit codes.

The command line is a thin layer over the public API.

No domain logic lives here: every command calls the same functions a developer would, then
writes the results into ``--out`` as private files (owner-only, formula-safe CSV and xlsx).
Long work shows a progress bar on a terminal (:mod:`benzoredux.cli.progress`).

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

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import click

from benzoredux import __version__
from benzoredux.errors import BenzoreduxError

__all__ = [
    "EXIT_DATA_ERROR",
    "EXIT_FILE_ERROR",
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "main",
]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA_ERROR = 3
EXIT_FILE_ERROR = 4


@contextlib.contextmanager
def _library_warnings_as_lines() -> Iterator[None]:
    """The library's own warnings (an unknown ATC code, too short an export, a BSN that fails
    the 11-test) as one line ``warning: ...`` on standard error, always, instead of Python's
    file-and-line form; other warnings keep their filters."""
    from benzoredux.errors import DataCoverageWarning, IdentifierWarning, UnknownCodesWarning

    ours = (DataCoverageWarning, IdentifierWarning, UnknownCodesWarning)
    shown = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, ours):
            click.echo(f"warning: {message}", err=True)
        else:
            shown(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        for category in ours:
            warnings.simplefilter("always", category)
        warnings.showwarning = show
        yield


class _Group(click.Group):
    """Turns library errors into one readable line and an exit code, unless ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _library_warnings_as_lines():
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
