"""What every command-line step shares: the kinds of path it takes and how it reports the
files it wrote, so the commands read and answer alike."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

__all__ = ["INPUT_FILE", "OUT_FOLDER", "echo_written"]

INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
"""An existing file a step reads (click checks it before the command runs)."""

OUT_FOLDER = click.Path(file_okay=False, path_type=Path)
"""The folder a step writes into (made when missing)."""


def echo_written(paths: Iterable[Path]) -> None:
    """List the files a step wrote; they hold patient data, so they are the user's only."""
    click.echo("Written (readable by you only):")
    for path in paths:
        click.echo(f"  {path}")
