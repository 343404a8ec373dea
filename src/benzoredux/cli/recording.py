"""Where the command-line steps record, so each step continues where the previous one left off.

``select``, ``screen``, ``schedule``, ``letters``, ``plan`` and ``evaluate`` take ``--register
FILE`` (``--no-register`` to keep nothing) and ``--by NAME`` (who acts; the login name by
default). Every step runs through :class:`benzoredux.Programme`, which writes the step's files
first and then records the step in **one** register transaction; recording what is already
recorded adds nothing, so running a step again does not duplicate anything. A register is made
only when a step records in it: a step that fails on its input leaves no empty register.

The default register is ``programme.sqlite`` in the folder the previous step wrote into: in
``--out`` for ``select`` (which starts the chain), and next to the input file for ``screen``,
``schedule`` and ``letters`` (``results/chronic_users.csv`` -> ``results/programme.sqlite``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from attrs import frozen

from benzoredux.cli.options import REGISTER_FILE

if TYPE_CHECKING:
    from benzoredux.programme import Programme

__all__ = ["RegisterChoice"]


@frozen
class RegisterChoice:
    """Where (and whether) a step records, and who acts."""

    location: str | None
    """``None``: record nothing (``--no-register``)."""
    by: str

    @classmethod
    def from_options(
        cls, register_file: str | None, no_register: bool, by: str, default_folder: Path
    ) -> RegisterChoice:
        """The choice the options make; ``default_folder`` holds the default register."""
        if no_register and register_file:
            raise click.UsageError("give --register or --no-register, not both")
        if no_register:
            return cls(None, by)
        return cls(register_file or str(default_folder / REGISTER_FILE), by)

    @contextlib.contextmanager
    def programme(self, *, existing: bool = False) -> Iterator[Programme]:
        """The :class:`benzoredux.Programme` over the chosen register (``--no-register``: one
        kept in memory), closed at the end; a note says when the register file was made.
        With ``existing`` the register must be there already."""
        from benzoredux.programme import Programme

        if self.location is None:
            with Programme.in_memory(by=self.by) as programme:
                yield programme
            return
        if existing:
            with Programme.open(self.location, by=self.by) as programme:
                yield programme
            return
        is_new = "://" not in self.location and not Path(self.location).exists()
        with Programme.create(self.location, by=self.by) as programme:
            yield programme
        if is_new and Path(self.location).exists():
            click.echo(f"note: new programme register made (readable by you only): {self.location}")

    def echo(self, message: str) -> None:
        """Say what the step recorded in the register (nothing with ``--no-register``)."""
        if self.location is not None:
            click.echo(f"Register {self.location}: {message}")
