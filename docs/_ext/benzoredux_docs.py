"""Sphinx directives that render benzoredux's own objects, so the docs cannot drift from the code.

``.. schema-table:: benzoredux.tables.DISPENSINGS``
    The columns of a canonical table (name, kind, required, sensitive, what of its values a
    message may quote, description), read from the :class:`~benzoredux.tables.TableSchema`
    object itself. With the ``:rules-only:`` flag it lists instead the row rules that
    validation applies to the table, in the order they run.

``.. data-csv-table:: Title``
    The ``csv-table`` directive for the package data files, which open with ``#`` comment lines
    that cite their source: those lines are left out of the table, and with ``:show-source:``
    they are shown above it (without the ``#``), so the citation on the page is the one
    in the file.

``.. public-api::``
    A table of every name in ``benzoredux.__all__`` with its kind and the first line of its
    docstring, linked to where it is documented (the module that defines it).

``.. spreadsheet-columns:: chronic_users.xlsx``
    The columns of one workbook the command line writes, per sheet: the Dutch header, the CSV
    column it shows, how its values are shown and what it holds, read from
    :data:`benzoredux.spreadsheets.WORKBOOKS` and :data:`benzoredux.spreadsheets.COLUMNS`, the
    mapping the writer itself uses.

``.. spreadsheet-words::``
    The codes the spreadsheets show as Dutch words (decisions, statuses, criteria, ...), from
    the same columns.

Each public name is documented once, in its defining module (``benzoredux.selection.
select_chronic_users``); a reference to the top-level name (``benzoredux.select_chronic_users``,
or ``select_chronic_users`` in the package docstring) is resolved to it by a
``missing-reference`` handler, so both spellings link.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.patches import CSVTable
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata, OptionSpec


def _import(path: str) -> Any:
    """The object at a dotted ``module.attribute`` path."""
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _table(headers: list[str], rows: list[list[nodes.Node]], widths: list[int]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(headers))
    table += group
    group.extend(nodes.colspec(colwidth=width) for width in widths)
    head = nodes.thead()
    head += _row([nodes.paragraph(text=text) for text in headers])
    body = nodes.tbody()
    body.extend(_row(cells) for cells in rows)
    group += head
    group += body
    return table


def _row(cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += cell
        row += entry
    return row


_IN_MESSAGES = {"never": "never", "code": "codes", "number": "short numbers"}
"""What of a column's values a message may quote (:class:`benzoredux.tables.Shown`)."""


class SchemaTable(SphinxDirective):
    """Render a :class:`benzoredux.tables.TableSchema` as a table of its columns."""

    required_arguments = 1
    option_spec: ClassVar[OptionSpec] = {"rules-only": directives.flag}

    def run(self) -> list[nodes.Node]:
        from benzoredux import tables

        schema = _import(self.arguments[0])
        if not isinstance(schema, tables.TableSchema):
            raise self.error(f"{self.arguments[0]} is not a benzoredux.tables.TableSchema")
        source = inspect.getsourcefile(tables)
        if source:
            self.env.note_dependency(source)

        if "rules-only" in self.options:
            return [self._rules(schema)]
        rows = []
        for column in schema.columns:
            name = nodes.paragraph()
            name += nodes.literal(text=column.name)
            rows.append(
                [
                    name,
                    nodes.paragraph(text=column.kind.value),
                    nodes.paragraph(text="required" if column.required else "optional"),
                    nodes.paragraph(text="yes" if column.sensitive else ""),
                    nodes.paragraph(text=_IN_MESSAGES[column.shown.value]),
                    nodes.paragraph(text=column.description),
                ]
            )
        headers = ["Column", "Kind", "Required", "Sensitive", "In messages", "Description"]
        return [_table(headers, rows, [14, 8, 10, 9, 12, 47])]

    @staticmethod
    def _rules(schema: Any) -> nodes.bullet_list:
        from benzoredux import tables

        # ``_rules`` is what validate() and the algorithms apply: the schema's own rules, plus
        # the dosage-form rule for dispensings. Rendering it keeps this list exact.
        every_column = {column.name: None for column in schema.columns}
        items = nodes.bullet_list()
        for rule in tables._rules(schema, every_column, None):
            paragraph = nodes.paragraph()
            paragraph += nodes.Text(rule.reason)
            paragraph += nodes.Text(" (checks ")
            for i, column_name in enumerate(rule.columns):
                if i:
                    paragraph += nodes.Text(", ")
                paragraph += nodes.literal(text=column_name)
            paragraph += nodes.Text(")")
            item = nodes.list_item()
            item += paragraph
            items += item
        return items


class DataCSVTable(CSVTable):
    """``csv-table`` that skips the ``#`` source lines of the package data files."""

    option_spec: ClassVar[OptionSpec] = {**CSVTable.option_spec, "show-source": directives.flag}

    def get_csv_data(self) -> tuple[list[str], str]:
        lines, source = super().get_csv_data()
        self.comment_lines = [line for line in lines if line.lstrip().startswith("#")]
        data = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return data, source

    def run(self) -> list[nodes.Node]:
        result = super().run()
        if "show-source" in self.options and getattr(self, "comment_lines", None):
            caption = nodes.paragraph()
            caption += nodes.Text("Source notes from the head of ")
            caption += nodes.literal(text=self.options["file"].rsplit("/", 1)[-1])
            caption += nodes.Text(":")
            lines = nodes.line_block()
            for line in self.comment_lines:
                lines += nodes.line(text=line.lstrip().removeprefix("#").strip())
            quote = nodes.block_quote()
            quote += lines
            result = [caption, quote, *result]
        return result


def public_names() -> dict[str, str]:
    """Each name in ``benzoredux.__all__`` with the dotted path it is documented under.

    Classes and functions are documented where they are defined (``__module__``); a constant is
    documented in the ``benzoredux`` submodule whose ``__all__`` holds the same object; anything
    else (``__version__``) under the top-level name.
    """
    import sys

    import benzoredux

    paths = {}
    for name in benzoredux.__all__:
        obj = getattr(benzoredux, name)
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            paths[name] = f"{module}.{qualname}"
            continue
        paths[name] = f"benzoredux.{name}"
        for module_name, module_object in sorted(sys.modules.items()):
            if (
                module_name.startswith("benzoredux.")
                and getattr(module_object, name, None) is obj
                and name in getattr(module_object, "__all__", ())
            ):
                paths[name] = f"{module_name}.{name}"
                break
    return paths


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    return "function" if callable(obj) else "data"


def _summary(path: str, obj: object) -> str:
    """The first paragraph of the object's own docstring (or doc comment, for a constant)."""
    from sphinx.pycode import ModuleAnalyzer

    if inspect.isclass(obj) or inspect.isfunction(obj):
        doc = inspect.getdoc(obj) or ""
    else:
        module_name, _, name = path.rpartition(".")
        try:
            attr_docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except Exception:
            attr_docs = {}
        doc = "\n".join(attr_docs.get(("", name), []))
        if not doc.strip():
            from benzoredux.tables import TableSchema

            if isinstance(obj, TableSchema):
                return f"The schema of the canonical ``{obj.name}`` table."
            if name == "__version__":
                return "The installed version of benzoredux."
            return f"A ``{type(obj).__name__}``."
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines())


class PublicAPI(SphinxDirective):
    """Render the table of ``benzoredux.__all__``."""

    def run(self) -> list[nodes.Node]:
        import benzoredux

        source = inspect.getsourcefile(benzoredux)
        if source:
            self.env.note_dependency(source)
        ref_context = self.env.ref_context
        saved = ref_context.get("py:module")
        rows = []
        messages: list[nodes.Node] = []
        try:
            names = public_names()
            order = {"function": 0, "class": 1, "exception": 2, "data": 3}
            for name in sorted(names, key=lambda n: order[_kind(getattr(benzoredux, n))]):
                path = names[name]
                obj = getattr(benzoredux, name)
                # A summary's short references (:func:`validate`) are relative to the module
                # that defines the object, so each one is parsed in that module's context.
                ref_context["py:module"] = path.rpartition(".")[0]
                link, problems = self.parse_inline(f":py:obj:`{name} <{path}>`")
                messages += problems
                summary, problems = self.parse_inline(_summary(path, obj))
                messages += problems
                rows.append(
                    [
                        nodes.paragraph("", "", *link),
                        nodes.paragraph(text=_kind(obj)),
                        nodes.paragraph("", "", *summary),
                    ]
                )
        finally:
            if saved is None:
                ref_context.pop("py:module", None)
            else:
                ref_context["py:module"] = saved
        return [_table(["Name", "Kind", "Summary"], rows, [28, 10, 62]), *messages]


_SHOWN_AS = {
    "text": "text",
    "code": "a Dutch word",
    "codes": "Dutch words",
    "reasons": "in Dutch",
    "count": "a whole number",
    "decimal": "two decimals",
    "days": "whole days",
    "date": "a date, DD-MM-JJJJ",
    "flag": "ja / nee",
}
"""How each :class:`benzoredux.spreadsheets.Display` is described in the tables."""


def _note_spreadsheets(env: BuildEnvironment) -> Any:
    from benzoredux import spreadsheets

    source = inspect.getsourcefile(spreadsheets)
    if source:
        env.note_dependency(source)
    return spreadsheets


class SpreadsheetColumns(SphinxDirective):
    """Render one workbook's columns: Dutch header, CSV column, shown as, meaning."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        spreadsheets = _note_spreadsheets(self.env)
        workbook = self.arguments[0]
        if workbook not in spreadsheets.WORKBOOKS:
            known = ", ".join(spreadsheets.WORKBOOKS)
            raise self.error(f"{workbook} is not a workbook benzoredux writes ({known})")
        by_name = {column.name: column for column in spreadsheets.COLUMNS}
        result: list[nodes.Node] = []
        sheets = spreadsheets.WORKBOOKS[workbook]
        for sheet, names in sheets.items():
            csv_file = spreadsheets.CSV_FILES[workbook][sheet]
            title = nodes.paragraph()
            if len(sheets) > 1:
                title += nodes.Text("Sheet ")
                title += nodes.literal(text=sheet)
                title += nodes.Text(", ")
            if csv_file is None:
                title += nodes.Text("made from the schedule; it has no CSV file of its own:")
            else:
                title += nodes.Text("the same list for programs: ")
                title += nodes.literal(text=csv_file)
            result.append(title)
            rows = []
            for name in names:
                column = by_name[name]
                csv_name = nodes.paragraph()
                if csv_file is None or name in spreadsheets.FROM_PATIENTS:
                    csv_name += nodes.Text("none (")
                    csv_name += nodes.literal(text=name)
                    csv_name += nodes.Text(")")
                else:
                    csv_name += nodes.literal(text=name)
                rows.append(
                    [
                        nodes.paragraph(text=column.header),
                        csv_name,
                        nodes.paragraph(text=_SHOWN_AS[column.display.value]),
                        nodes.paragraph(text=column.meaning),
                    ]
                )
            headers = ["In the spreadsheet", "In the CSV file", "Shown as", "What it holds"]
            result.append(_table(headers, rows, [24, 22, 16, 38]))
        return result


class SpreadsheetWords(SphinxDirective):
    """Render the codes that the spreadsheets show as Dutch words."""

    def run(self) -> list[nodes.Node]:
        spreadsheets = _note_spreadsheets(self.env)
        groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for column in spreadsheets.COLUMNS:
            if column.words:
                groups.setdefault(tuple(column.words.items()), []).append(column.name)
        rows = []
        for words, names in groups.items():
            for code, word in words:
                where = nodes.paragraph()
                for i, name in enumerate(names):
                    if i:
                        where += nodes.Text(", ")
                    where += nodes.literal(text=name)
                code_cell = nodes.paragraph()
                code_cell += nodes.literal(text=code)
                rows.append([where, code_cell, nodes.paragraph(text=word)])
        headers = ["Column", "Code in the CSV file", "Word in the spreadsheet"]
        return [_table(headers, rows, [30, 30, 40])]


def resolve_public_alias(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve ``benzoredux.NAME`` (a public re-export) to where NAME is documented."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    candidates = [target]
    if node.get("py:module"):
        candidates.append(f"{node['py:module']}.{target}")
    aliases = {f"benzoredux.{name}": path for name, path in public_names().items()}
    for candidate in candidates:
        path = aliases.get(candidate)
        if path and path != candidate:
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], path, node, contnode
            )
    return None


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("schema-table", SchemaTable)
    app.add_directive("data-csv-table", DataCSVTable)
    app.add_directive("public-api", PublicAPI)
    app.add_directive("spreadsheet-columns", SpreadsheetColumns)
    app.add_directive("spreadsheet-words", SpreadsheetWords)
    app.connect("missing-reference", resolve_public_alias)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
