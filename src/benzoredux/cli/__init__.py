"""The ``benzoredux`` command line: a thin layer over the public API, one module per command.

Every command parses its arguments, reads and writes files, prints what it did, and calls the
library for everything else (the rules live in the domain packages and in
:class:`benzoredux.Programme`'s building blocks, never only here). No module outside this
package imports click.

* :mod:`~benzoredux.cli.app`: the command group, ``--debug``, errors and exit codes;
* :mod:`~benzoredux.cli.options`: what the commands share (path types, ``--register``,
  ``--no-register`` and ``--by``, each defined once; the listing of files written);
* :mod:`~benzoredux.cli.recording`: which register a step records in, and its messages;
* :mod:`~benzoredux.cli.progress`: progress bars for a person at a terminal;
* one module per command or command group: :mod:`~benzoredux.cli.select`,
  :mod:`~benzoredux.cli.steps` (``screen``, ``schedule``, ``letters``),
  :mod:`~benzoredux.cli.plan`, :mod:`~benzoredux.cli.evaluate`, :mod:`~benzoredux.cli.report`,
  :mod:`~benzoredux.cli.demo` (the whole chain on a synthetic practice),
  :mod:`~benzoredux.cli.register` (``register init/show/export/import``) and
  :mod:`~benzoredux.cli.plugins`.

The commands are added to the group here, so no command module imports the group and none
imports another's module at run time except the demo, which runs the others.
"""

from __future__ import annotations

from benzoredux.cli.app import (
    EXIT_DATA_ERROR,
    EXIT_FILE_ERROR,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    main,
)
from benzoredux.cli.demo import demo_command
from benzoredux.cli.evaluate import evaluate_command
from benzoredux.cli.plan import plan_command
from benzoredux.cli.plugins import plugins_command
from benzoredux.cli.register import register_group
from benzoredux.cli.report import report_command
from benzoredux.cli.select import select
from benzoredux.cli.steps import letters_command, schedule_command, screen_command

__all__ = [
    "EXIT_DATA_ERROR",
    "EXIT_FILE_ERROR",
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "main",
]

for _command in (
    select,
    screen_command,
    schedule_command,
    letters_command,
    plan_command,
    evaluate_command,
    report_command,
    demo_command,
    register_group,
    plugins_command,
):
    main.add_command(_command)
