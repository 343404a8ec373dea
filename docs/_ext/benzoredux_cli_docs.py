"""A Sphinx directive that renders the command line's ``--help`` texts, so the command-line
reference cannot drift from the commands.

``.. cli-help:: benzoredux.cli:main``
    One section per command (``benzoredux``, ``benzoredux select``, ...; groups such as
    ``register`` with their subcommands), each holding the help text click prints for
    ``--help``, at a fixed width. The commands come from the click group itself, so a new
    command appears on the page without an edit.

(sphinx-click would do this too, but its release current at the time of writing fails to import
commands under Sphinx 9, and a literal copy of ``--help`` is what a practice sees in the terminal.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import click
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from sphinx.util.typing import ExtensionMetadata

WIDTH = 88
"""The terminal width the help texts are formatted for."""


def _commands(
    command: click.Command, path: tuple[str, ...], parent: click.Context | None = None
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    """Every command under ``command`` with the context ``--help`` would run in (the parents'
    settings, such as ``-h`` for help, are inherited as on the terminal)."""
    context = click.Context(
        command,
        info_name=path[-1],
        parent=parent,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **command.context_settings,
    )
    yield path, command, context
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _commands(command.commands[name], (*path, name), context)


class CliHelp(SphinxDirective):
    """``.. cli-help:: module:command``: a section with the ``--help`` text of every command."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        module_name, _, attribute = self.arguments[0].partition(":")
        root: Any = getattr(importlib.import_module(module_name), attribute)
        program = root.name if root.name not in (None, "main") else "benzoredux"
        lines: list[str] = []
        for path, command, context in _commands(root, (program,)):
            title = " ".join(path)
            lines += [title, "-" * len(title), "", "::", ""]
            lines += [
                f"   {line}" if line else "" for line in command.get_help(context).splitlines()
            ]
            lines.append("")
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=self.arguments[0]), node)
        return node.children


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("cli-help", CliHelp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
