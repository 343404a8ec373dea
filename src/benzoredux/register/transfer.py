"""Export a register to a folder of CSV files (and a workbook), and import it back.

For hand-over (to another practice system, to the pharmacist) and for backup. The export holds
the *whole* register, every revision with who and when, one CSV file per record kind, plus
``register.json`` with the schema version and the row count of each file. It is written last,
so an interrupted export has no manifest and cannot be imported by mistake.

Cells are written so that a spreadsheet never runs them as a formula, and so that importing
gives back exactly what was exported: in the CSV files a text cell starting with ``=``, ``+``,
``-``, ``@``, tab, carriage return or ``'`` gets one ``'`` in front, and the import takes
exactly one ``'`` off again. Files are created owner-only and atomically.

``register.xlsx`` is a copy of the CSV files to read, for whoever checks the register (at
hand-over, or an audit); the import never reads it. It keeps the register's own sheet and
column names and stored codes (the record kinds of :mod:`benzoredux.register.schema`), so it
can be compared with the CSV files and the register's documentation cell by cell, but it shows
its values as a spreadsheet should: text as text cells, which never run as a formula and so
need no quote (``-retour``, not ``'-retour``), and dates and the UTC times of ``recorded_at``
as date cells shown ``DD-MM-JJJJ``.

>>> from benzoredux.register.transfer import escape_cell, unescape_cell
>>> escape_cell("=SUM(A1)"), unescape_cell(escape_cell("=SUM(A1)"))
("'=SUM(A1)", '=SUM(A1)')
>>> unescape_cell(escape_cell("'quoted"))
"'quoted"
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from benzoredux.output import FORMULA_PREFIXES, private_file, style_cell
from benzoredux.register.codec import decode_text, encode_text
from benzoredux.register.errors import RegisterError, RegisterVersionError
from benzoredux.register.migrations import CURRENT_VERSION
from benzoredux.register.schema import AUDIT_COLUMNS, KINDS, FieldSpec
from benzoredux.register.store import Entry

__all__ = ["MANIFEST", "escape_cell", "export_register", "import_register", "unescape_cell"]

MANIFEST = "register.json"
FORMAT = "benzoredux-register"
_ESCAPED = (*FORMULA_PREFIXES, "'")
_AUDIT_SPECS = {
    "entry_id": FieldSpec("entry_id", "integer", "", required=True),
    "revision": FieldSpec("revision", "integer", "", required=True),
}


def escape_cell(text: str) -> str:
    """``text`` safe to open in a spreadsheet, and reversible (see the module docstring)."""
    return "'" + text if text.startswith(_ESCAPED) else text


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given."""
    return text[1:] if text.startswith("'") else text


def _cells(entry: Entry) -> list[str]:
    spec = KINDS[entry.kind]
    cells = [
        str(entry.entry_id),
        str(entry.revision),
        entry.recorded_at.isoformat(),
        escape_cell(entry.recorded_by),
        escape_cell(entry.remark),
    ]
    for field in spec.fields:
        text = encode_text(field, entry.data[field.name])
        cells.append(escape_cell(text) if field.type in ("text", "json") else text)
    return cells


def export_register(
    register: Any, folder: str | os.PathLike[str], *, xlsx: bool | None = None
) -> list[Path]:
    """Write every entry of ``register`` into ``folder``; returns the files written.

    ``xlsx=None`` also writes ``register.xlsx`` (one sheet per kind) when openpyxl is
    installed; ``True`` requires it, ``False`` leaves it out. The CSV files and the manifest
    are what :func:`import_register` reads.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    if xlsx is None:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            xlsx = False
        else:
            xlsx = True
    written: list[Path] = []
    counts: dict[str, dict[str, Any]] = {}
    with register.transaction():  # one consistent view, even while others write
        histories = {kind: register.history(kind) for kind in KINDS}
    for kind, entries in histories.items():
        path = target / f"{kind}.csv"
        with private_file(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*AUDIT_COLUMNS, *KINDS[kind].names])
            writer.writerows(_cells(entry) for entry in entries)
        written.append(path)
        counts[kind] = {"file": path.name, "rows": len(entries)}
    if xlsx:
        written.append(_write_xlsx(histories, target / "register.xlsx"))
    manifest = {
        "format": FORMAT,
        "schema_version": register.store.schema_version,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "kinds": counts,
    }
    with private_file(target / MANIFEST, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")
    written.append(target / MANIFEST)
    return written


def _write_xlsx(histories: dict[str, list[Entry]], path: Path) -> Path:
    try:
        from openpyxl import Workbook
    except ImportError:
        raise RegisterError(
            "writing register.xlsx needs openpyxl (pip install openpyxl); the CSV files hold "
            "the same data"
        ) from None
    book = Workbook(write_only=True)
    for kind, entries in histories.items():
        sheet = book.create_sheet(kind)
        spec = KINDS[kind]
        sheet.append(_xlsx_cells(sheet, [*AUDIT_COLUMNS, *spec.names]))
        for entry in entries:
            # A spreadsheet has no time zones: the UTC time, as the column is documented.
            recorded = entry.recorded_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
            row: list[Any] = [
                entry.entry_id,
                entry.revision,
                recorded,
                entry.recorded_by,
                entry.remark,
            ]
            for field in spec.fields:
                value = entry.data[field.name]
                if field.type in ("text", "json"):
                    value = encode_text(field, value)
                row.append(value)
            sheet.append(_xlsx_cells(sheet, row))
    with private_file(path, "wb") as handle:
        book.save(handle)
    return path


def _xlsx_cells(sheet: Any, values: list[Any]) -> list[Any]:
    """A row of ``register.xlsx``: text as text cells (no quote needed, none added), empty
    text empty, dates as dates and ``recorded_at`` to the second."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=None if value == "" else value)
        style_cell(cell, "dd-mm-yyyy hh:mm:ss" if isinstance(value, dt.datetime) else None)
        cells.append(cell)
    return cells


def import_register(
    folder: str | os.PathLike[str], location: str | os.PathLike[str], **open_options: Any
) -> Any:
    """Read an export back into a new (empty) register at ``location``; returns it open.

    Everything is checked before anything is kept, and kept in one transaction: the manifest's
    format and schema version, each file's columns, every cell (the error names the file,
    line and column), and each file's row count against the manifest.
    """
    from benzoredux.register import open_register

    source = Path(folder)
    manifest = _read_manifest(source)
    register = open_register(location, create=True, **open_options)
    try:
        if any(register.history(kind) for kind in KINDS):
            raise RegisterError(f"{register.location}: not empty; import into a new register file")
        with register.transaction():
            for kind in KINDS:
                info = manifest["kinds"].get(kind)
                if info is None:
                    raise RegisterError(f"{source / MANIFEST}: lists no file for {kind!r}")
                entries = _read_kind(source / str(info["file"]), kind)
                if len(entries) != info["rows"]:
                    raise RegisterError(
                        f"{source / info['file']}: {len(entries)} rows, but the manifest says "
                        f"{info['rows']}; the export is incomplete"
                    )
                register.store.append(entries)
    except BaseException:
        register.close()
        raise
    return register


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegisterError(f"{path}: missing; this is not a complete register export") from None
    except json.JSONDecodeError as error:
        raise RegisterError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RegisterError(f"{path}: not a benzoredux register export")
    version = manifest.get("schema_version")
    if version != CURRENT_VERSION:
        raise RegisterVersionError(
            f"{path}: exported with schema version {version}; this benzoredux imports version "
            f"{CURRENT_VERSION} (import it with the benzoredux that exported it, then open the "
            "register here to migrate it)"
        )
    return manifest


def _read_kind(path: Path, kind: str) -> list[Entry]:
    spec = KINDS[kind]
    expected = [*AUDIT_COLUMNS, *spec.names]
    entries = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != expected:
                raise RegisterError(
                    f"{path}: columns {header} do not match the {kind} columns {expected}"
                )
            for line, row in enumerate(reader, start=2):
                if len(row) != len(expected):
                    raise RegisterError(
                        f"{path} line {line}: {len(row)} cells, expected {len(expected)}"
                    )
                entries.append(_entry(path, line, kind, dict(zip(expected, row, strict=True))))
    except FileNotFoundError:
        raise RegisterError(f"{path}: missing from the export") from None
    return entries


def _entry(path: Path, line: int, kind: str, cells: dict[str, str]) -> Entry:
    spec = KINDS[kind]
    values: dict[str, Any] = {}
    for column, field in [*_AUDIT_SPECS.items(), *((f.name, f) for f in spec.fields)]:
        text = cells[column]
        if field.type in ("text", "json"):
            text = unescape_cell(text)
        try:
            values[column] = decode_text(field, text)
        except ValueError as problem:
            shown = "" if field.type in ("text", "json") else f" {text!r}"
            raise RegisterError(
                f"{path} line {line}, column {column!r}:{shown} {problem}"
            ) from None
    try:
        recorded_at = dt.datetime.fromisoformat(cells["recorded_at"])
        data = spec.normalise({f.name: values[f.name] for f in spec.fields})
        return Entry(
            kind=kind,
            entry_id=values["entry_id"],
            revision=values["revision"],
            recorded_at=recorded_at,
            recorded_by=unescape_cell(cells["recorded_by"]),
            remark=unescape_cell(cells["remark"]),
            data=data,
        )
    except (ValueError, TypeError, RegisterError) as problem:
        raise RegisterError(f"{path} line {line}: {problem}") from None
