"""Mapping files: how one practice's export differs from the layout a reader expects.

No vendor publishes its export layout, and practices rename columns, so every reader takes a
small TOML file that says what the export calls each canonical column and how it writes values::

    format = "ais"                  # which reader (without it: the generic "delimited" reader)
    table = "dispensings"           # generic reader only: which canonical table the file holds

    [file]
    encoding = "windows-1252"       # or "utf-8"; "auto" (default) recognises both, and a BOM
    separator = ";"                 # default: guessed from the header line (; , tab |)
    decimal = ","                   # "," or "."
    thousands = "."                 # default: none
    date_formats = ["%d-%m-%Y"]     # default: 31-12-2025, 31-12-25 and 2025-12-31
    sheet = "Export"                # Excel: the sheet (default: the first)
    header_line = 3                 # default: found by its column names

    [columns]                       # the export's column name = the canonical column name
    "Afl. datum" = "date"
    "Pat.nr" = "patient_id"

    [values.sex]                    # the export's value = the canonical value
    V = "F"

    [code_map]                      # FHIR: "system|code" = ATC code
    "urn:oid:2.16.840.1.113883.2.4.4.10|1234" = "N05BA04"

Unknown keys are errors (a misspelt ``seperator`` must not be ignored), and so are canonical
column names that no table has.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from benzoredux.errors import BenzoreduxError
from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

__all__ = ["TABLES", "MappingFileError", "SourceMapping", "load_mapping"]

TABLES = {s.name: s for s in (DISPENSINGS, PATIENTS, EPISODES)}
"""The canonical tables a mapping file may name (``table = ...``), by name."""
_CANONICAL = frozenset(c.name for s in TABLES.values() for c in s.columns)
_FILE_KEYS = frozenset(
    {"encoding", "separator", "decimal", "thousands", "date_formats", "sheet", "header_line"}
)
_TOP_KEYS = frozenset({"format", "table", "file", "columns", "values", "code_map"})


class MappingFileError(BenzoreduxError, ValueError):
    """A mapping file cannot be used; the message names the file and the key."""


def _frozen_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen(kw_only=True)
class SourceMapping:
    """The parsed mapping file (or the same choices given in code). Every field is optional."""

    format: str | None = None
    """The reader this mapping is for; ``None`` means the generic ``delimited`` reader."""
    table: str | None = None
    """For the generic reader: ``dispensings``, ``patients`` or ``episodes``."""
    columns: Mapping[str, str] = field(factory=dict, converter=_frozen_dict)
    """Export column name -> canonical column name, for every table."""
    table_columns: Mapping[str, Mapping[str, str]] = field(factory=dict, converter=_frozen_dict)
    """Per table (``[columns.patients]``): export column name -> canonical column name."""
    values: Mapping[str, Mapping[str, str]] = field(factory=dict, converter=_frozen_dict)
    """Canonical column -> {export value: canonical value}; matched ignoring case."""
    encoding: str = "auto"
    separator: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    date_formats: tuple[str, ...] | None = None
    sheet: str | None = None
    header_line: int | None = None
    code_map: Mapping[str, str] = field(factory=dict, converter=_frozen_dict)
    """``"system|code"`` -> ATC code, for drug codings other than ATC (FHIR)."""
    path: Path | None = None
    """Where it was read from (for messages)."""

    def renames(self, table: str) -> dict[str, str]:
        """Export name -> canonical name for ``table``: the per-table entries win."""
        return {**self.columns, **self.table_columns.get(table, {})}


def load_mapping(source: str | os.PathLike[str] | Mapping[str, Any]) -> SourceMapping:
    """Read a mapping file (or check a dict with the same layout).

    >>> load_mapping({"columns": {"Afl. datum": "date"}, "file": {"decimal": ","}}).decimal
    ','
    >>> load_mapping({"file": {"seperator": ";"}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    benzoredux.reading.mapping.MappingFileError: mapping: unknown key 'file.seperator'; known ...
    """
    if isinstance(source, Mapping):
        return _from_dict(source, "mapping", None)
    path = Path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as error:
        raise MappingFileError(f"{path.name}: not a valid TOML file: {error}") from None
    return _from_dict(data, path.name, path)


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise MappingFileError(f"{where}: {key} must be text, got {value!r}")
    return value


def _from_dict(data: Mapping[str, Any], where: str, path: Path | None) -> SourceMapping:
    def unknown(keys: Any, allowed: frozenset[str], prefix: str) -> None:
        for key in keys:
            if key not in allowed:
                raise MappingFileError(
                    f"{where}: unknown key {prefix + key!r}; known keys: "
                    f"{', '.join(sorted(prefix + k for k in allowed))}"
                )

    unknown(data, _TOP_KEYS, "")
    file = data.get("file", {})
    unknown(file, _FILE_KEYS, "file.")
    columns: dict[str, str] = {}
    per_table: dict[str, dict[str, str]] = {}
    for export_name, target in data.get("columns", {}).items():
        if isinstance(target, Mapping):
            if export_name not in TABLES:
                raise MappingFileError(
                    f"{where}: [columns.{export_name}]: no such table; tables: {', '.join(TABLES)}"
                )
            schema = TABLES[export_name]
            names = {c.name for c in schema.columns}
            for inner, canonical in target.items():
                _check_canonical(where, f"columns.{export_name}", inner, canonical, names)
            per_table[export_name] = dict(target)
        else:
            _check_canonical(where, "columns", export_name, target, _CANONICAL)
            columns[export_name] = target
    values: dict[str, dict[str, str]] = {}
    for column, table in data.get("values", {}).items():
        if column not in _CANONICAL or not isinstance(table, Mapping):
            raise MappingFileError(
                f"{where}: [values.{column}] must be a table for a canonical column"
            )
        values[column] = {str(k): _text(where, f"values.{column}.{k}", v) for k, v in table.items()}
    table_name = data.get("table")
    if table_name is not None and table_name not in TABLES:
        raise MappingFileError(f"{where}: table = {table_name!r} is not one of {', '.join(TABLES)}")
    formats = file.get("date_formats")
    if isinstance(formats, str):
        formats = [formats]
    if formats is not None and (
        not formats or not all(isinstance(f, str) and "%" in f for f in formats)
    ):
        raise MappingFileError(f"{where}: file.date_formats must list strftime formats")
    header_line = file.get("header_line")
    if header_line is not None and (not isinstance(header_line, int) or header_line < 1):
        raise MappingFileError(f"{where}: file.header_line must be a line number from 1")
    return SourceMapping(
        format=data.get("format"),
        table=table_name,
        columns=columns,
        table_columns=per_table,
        values=values,
        encoding=_text(where, "file.encoding", file.get("encoding", "auto")),
        separator=file.get("separator"),
        decimal=file.get("decimal"),
        thousands=file.get("thousands") or None,
        date_formats=tuple(formats) if formats is not None else None,
        sheet=file.get("sheet"),
        header_line=header_line,
        code_map={
            str(k): _text(where, f"code_map.{k}", v).strip().upper()
            for k, v in data.get("code_map", {}).items()
        },
        path=path,
    )


def _check_canonical(
    where: str, section: str, export_name: str, canonical: Any, allowed: frozenset[str] | set[str]
) -> None:
    if canonical not in allowed:
        raise MappingFileError(
            f"{where}: [{section}] {export_name!r} = {canonical!r}: {canonical!r} is not a "
            f"canonical column; known: {', '.join(sorted(allowed))}"
        )
