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

    [code_map]                      # FHIR: "system|code" = ATC code, or = "system|code" (a link)
    "urn:oid:2.16.840.1.113883.2.4.4.10|1234" = "N05BA04"

    code_table = "g-standaard.csv"  # FHIR: the practice's G-Standaard table (before any [section])

Unknown keys are errors (a misspelt ``seperator`` must not be ignored), and so are canonical
column names that no table has, and values of the wrong type anywhere (``columns = "Pat"``,
``file = ""``, ``header_line = true``): :class:`MappingFileError`, naming the file and the key.
The same checks hold for a :class:`SourceMapping` made in code (its fields' validators).
"""

from __future__ import annotations

import codecs
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from attrs import Attribute, field, frozen

from benzoredux.errors import BenzoreduxError, shorten
from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

__all__ = ["TABLES", "MappingFileError", "SourceMapping", "load_mapping"]

TABLES = {s.name: s for s in (DISPENSINGS, PATIENTS, EPISODES)}
"""The canonical tables a mapping file may name (``table = ...``), by name."""
_CANONICAL = frozenset(c.name for s in TABLES.values() for c in s.columns) | {"name"}
"""The canonical column names, and ``name``: a combined name column of the patients, split
into the name parts (:mod:`benzoredux.reading.names`)."""
_FILE_KEYS = frozenset(
    {"encoding", "separator", "decimal", "thousands", "date_formats", "sheet", "header_line"}
)
_TOP_KEYS = frozenset({"format", "table", "file", "columns", "values", "code_map", "code_table"})
_DECIMALS = frozenset({",", "."})
_THOUSANDS = frozenset({",", ".", " ", "'", "_"})
"""The thousands separators :func:`benzoredux.reading.parsing.parse_numbers` knows."""
_NOT_SEPARATORS = frozenset({'"', "\r", "\n", " "})


class MappingFileError(BenzoreduxError, ValueError):
    """A mapping file cannot be used; the message names the file and the key."""


def _shown(value: Any) -> str:
    """A value of a mapping file as a message shows it: its repr, shortened (a mapping file
    holds column names and settings, no patient data)."""
    return shorten(repr(value), 40)


def _kind(value: Any) -> str:
    """The TOML type of ``value``, as a message names it."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return "a date or time" if hasattr(value, "isoformat") else type(value).__name__


def _plain(value: Any) -> Any:
    """The converter of the mapping fields: a copy of a mapping (the caller's dict is not kept);
    anything else as it is, for the validator to name."""
    return dict(value) if isinstance(value, Mapping) else value


def _fail(key: str, wanted: str, value: Any) -> MappingFileError:
    return MappingFileError(f"{key} must be {wanted}, got {_kind(value)} {_shown(value)}")


def _optional_text(key: str) -> Any:
    def check(_: Any, __: Attribute[Any], value: Any) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _fail(key, "text (not empty)", value)

    return check


def _check_table(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or value not in TABLES):
        raise MappingFileError(f"table = {_shown(value)} is not one of {', '.join(TABLES)}")


def _check_columns(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail("columns", 'a table of "export name" = "canonical name"', value)
    for export_name, canonical in value.items():
        _check_rename("columns", export_name, canonical, _CANONICAL)


def _check_table_columns(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail("table_columns", "a table per canonical table", value)
    for table, renames in value.items():
        if not isinstance(table, str) or table not in TABLES:
            raise MappingFileError(f"[columns.{table}]: no such table; tables: {', '.join(TABLES)}")
        if not isinstance(renames, Mapping):
            raise _fail(f"columns.{table}", 'a table of "export name" = "canonical name"', renames)
        names = frozenset(c.name for c in TABLES[table].columns)
        names |= {"name"} if table == "patients" else set()
        for export_name, canonical in renames.items():
            _check_rename(f"columns.{table}", export_name, canonical, names)


def _check_rename(section: str, export_name: Any, canonical: Any, allowed: frozenset[str]) -> None:
    if not isinstance(export_name, str) or not export_name.strip():
        raise _fail(f"[{section}] key", "an export column name (not empty)", export_name)
    if not isinstance(canonical, str):
        raise _fail(f"[{section}] {export_name!r}", "a canonical column name", canonical)
    if canonical not in allowed:
        raise MappingFileError(
            f"[{section}] {_shown(export_name)} = {_shown(canonical)}: {_shown(canonical)} is "
            f"not a canonical column; known: {', '.join(sorted(allowed))}"
        )


def _check_values(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail("values", "a table of [values.<canonical column>] tables", value)
    for column, table in value.items():
        if not isinstance(column, str) or column not in _CANONICAL:
            raise MappingFileError(
                f"[values.{column}]: {_shown(column)} is not a canonical column; known: "
                f"{', '.join(sorted(_CANONICAL))}"
            )
        if not isinstance(table, Mapping):
            raise _fail(f"values.{column}", 'a table of "export value" = "canonical value"', table)
        for export_value, canonical in table.items():
            if not isinstance(canonical, str):
                raise _fail(f"values.{column}.{export_value}", "text", canonical)


def _check_code_map(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail("code_map", 'a table of "system|code" = "ATC code"', value)
    for code, atc in value.items():
        if not isinstance(atc, str) or not atc.strip():
            raise _fail(f"code_map.{code}", "an ATC code (text)", atc)


def _as_path(value: Any) -> Any:
    """The converter of ``code_table``: text (not empty) as a path; anything else as it is,
    for the validator to name."""
    return Path(value) if isinstance(value, str) and value.strip() else value


def _check_code_table(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Path):
        raise _fail("code_table", "the path of a CSV file", value)


def _check_encoding(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _fail("file.encoding", 'text such as "utf-8" or "windows-1252"', value)
    if value != "auto":
        try:
            codecs.lookup(value)
        except LookupError:
            raise MappingFileError(
                f"file.encoding = {_shown(value)} is not an encoding Python knows; "
                'use "utf-8", "windows-1252" or "auto"'
            ) from None


def _check_separator(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) != 1 or value in _NOT_SEPARATORS:
        wanted = 'one character other than a quote or space, such as ";" or "\\t"'
        raise _fail("file.separator", wanted, value)


def _check_decimal(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or value not in _DECIMALS):
        raise _fail("file.decimal", '"," or "."', value)


def _check_thousands(instance: Any, _: Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or value not in _THOUSANDS:
        raise _fail("file.thousands", 'one of ".", ",", " ", "\'", "_" (or "" for none)', value)
    if value == instance.decimal:
        raise MappingFileError(
            f"file.thousands = {value!r} is also file.decimal; a number cannot use one "
            "character for both"
        )


def _check_date_formats(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is None:
        return
    wanted = 'a list of strftime formats, such as ["%d-%m-%Y"]'
    if not isinstance(value, tuple) or not value:
        raise _fail("file.date_formats", wanted, value)
    probe = pd.Series(["01-02-2025"], dtype="string")
    for position, fmt in enumerate(value, start=1):
        if not isinstance(fmt, str) or "%" not in fmt:
            raise _fail(f"file.date_formats[{position}]", wanted, fmt)
        try:
            pd.to_datetime(probe, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # a directive pandas does not know, such as %Q
            raise MappingFileError(
                f"file.date_formats[{position}] = {_shown(fmt)} is not a date format pandas "
                "can read (see strftime: %d day, %m month, %Y year, %y two-digit year)"
            ) from None


def _check_header_line(_: Any, __: Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise _fail("file.header_line", "a line number from 1", value)


def _formats(value: Any) -> Any:
    """One format or a list of them as a tuple (anything else as it is, for the validator)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


@frozen(kw_only=True)
class SourceMapping:
    """The parsed mapping file (or the same choices given in code). Every field is optional.

    Every field is checked as it is set: a wrong type or value raises
    :class:`MappingFileError` naming the key as the mapping file writes it.
    """

    format: str | None = field(default=None, validator=_optional_text("format"))
    """The reader this mapping is for; ``None`` means the generic ``delimited`` reader."""
    table: str | None = field(default=None, validator=_check_table)
    """For the generic reader: ``dispensings``, ``patients`` or ``episodes``."""
    columns: Mapping[str, str] = field(factory=dict, converter=_plain, validator=_check_columns)
    """Export column name -> canonical column name, for every table."""
    table_columns: Mapping[str, Mapping[str, str]] = field(
        factory=dict, converter=_plain, validator=_check_table_columns
    )
    """Per table (``[columns.patients]``): export column name -> canonical column name."""
    values: Mapping[str, Mapping[str, str]] = field(
        factory=dict, converter=_plain, validator=_check_values
    )
    """Canonical column -> {export value: canonical value}; matched ignoring case."""
    encoding: str = field(default="auto", validator=_check_encoding)
    """``auto`` (UTF-8 with or without BOM, else Windows-1252) or an encoding Python knows."""
    separator: str | None = field(default=None, validator=_check_separator)
    """One character; ``None``: guessed from the first lines."""
    decimal: str | None = field(default=None, validator=_check_decimal)
    """``","`` or ``"."``; ``None``: the reader's default."""
    thousands: str | None = field(default=None, validator=_check_thousands)
    """``"."``, ``","``, ``" "``, ``"'"`` or ``"_"``; ``None``: numbers have no thousands
    separator."""
    date_formats: tuple[str, ...] | None = field(
        default=None, converter=_formats, validator=_check_date_formats
    )
    """strftime formats (one or a list); ``None``: the reader's defaults."""
    sheet: str | None = field(default=None, validator=_optional_text("file.sheet"))
    """Excel: the sheet to read; ``None``: the first."""
    header_line: int | None = field(default=None, validator=_check_header_line)
    """The line (from 1) of the header; ``None``: found by its column names."""
    code_map: Mapping[str, str] = field(factory=dict, converter=_plain, validator=_check_code_map)
    """``"system|code"`` -> ATC code, for drug codings other than ATC (FHIR); a value written
    ``"system|code"`` links the coding to another one, whose ATC code it shares (a G-Standaard
    HPK to its PRK or GPK)."""
    code_table: Path | None = field(default=None, converter=_as_path, validator=_check_code_table)
    """A G-Standaard table (CSV: ``gpk,prk,hpk,atc``) for the FHIR reader, as
    :func:`benzoredux_adapters.gstandaard.load_code_table` reads it; in a mapping file, a path
    relative to the mapping file's folder. The file must exist when the mapping is loaded."""
    path: Path | None = None
    """Where it was read from (for messages)."""

    def renames(self, table: str) -> dict[str, str]:
        """Export name -> canonical name for ``table``: the per-table entries win."""
        return {**self.columns, **self.table_columns.get(table, {})}


def load_mapping(source: str | os.PathLike[str] | Mapping[str, Any]) -> SourceMapping:
    """Read a mapping file (or check a dict with the same layout).

    Any problem is a :class:`MappingFileError` that names the file and the key: bad TOML, an
    unknown key, a value of the wrong type or an impossible value.

    >>> load_mapping({"columns": {"Afl. datum": "date"}, "file": {"decimal": ","}}).decimal
    ','
    >>> load_mapping({"file": {"seperator": ";"}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    benzoredux.reading.mapping.MappingFileError: mapping: unknown key 'file.seperator'; known ...
    >>> load_mapping({"columns": "Pat"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    benzoredux.reading.mapping.MappingFileError: mapping: columns must be a table ... 'Pat'
    """
    if isinstance(source, Mapping):
        return _from_dict(source, "mapping", None)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise MappingFileError(
            f"{path.name}: not UTF-8 text (byte {error.start + 1}); save the mapping file as UTF-8"
        ) from None
    except OSError as error:
        raise MappingFileError(f"{path.name}: cannot be read ({error.strerror or error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingFileError(f"{path.name}: not a valid TOML file: {error}") from None
    except RecursionError:
        raise MappingFileError(f"{path.name}: not a valid TOML file: nested too deeply") from None
    return _from_dict(data, path.name, path)


def _from_dict(data: Mapping[str, Any], where: str, path: Path | None) -> SourceMapping:
    """The mapping of ``data``; the layout is checked here, the values by the fields'
    validators; every message starts with ``where`` (the file's name)."""
    try:
        return _parse(data, path)
    except MappingFileError as error:
        raise MappingFileError(f"{where}: {error}") from None


def _section(data: Mapping[str, Any], key: str, wanted: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise _fail(key, wanted, value)
    return value


def _unknown(keys: Any, allowed: frozenset[str], prefix: str) -> None:
    for key in keys:
        if key not in allowed:
            raise MappingFileError(
                f"unknown key {prefix + str(key)!r}; known keys: "
                f"{', '.join(sorted(prefix + k for k in allowed))}"
            )


def _parse(data: Mapping[str, Any], path: Path | None) -> SourceMapping:
    _unknown(data, _TOP_KEYS, "")
    file = _section(data, "file", "a table ([file])")
    _unknown(file, _FILE_KEYS, "file.")
    columns: dict[str, Any] = {}
    per_table: dict[str, Any] = {}
    for export_name, target in _section(data, "columns", "a table ([columns])").items():
        if isinstance(target, Mapping):
            if not isinstance(export_name, str) or export_name not in TABLES:
                raise MappingFileError(
                    f"[columns.{export_name}]: no such table; tables: {', '.join(TABLES)}"
                )
            per_table[export_name] = dict(target)
        else:
            columns[export_name] = target
    values = {
        column: dict(table) if isinstance(table, Mapping) else table
        for column, table in _section(data, "values", "a table ([values.<column>])").items()
    }
    code_map = _section(data, "code_map", "a table ([code_map])")
    if any(not isinstance(v, str) for v in code_map.values()):
        code, bad = next((k, v) for k, v in code_map.items() if not isinstance(v, str))
        raise _fail(f"code_map.{code}", "an ATC code (text)", bad)
    thousands = file.get("thousands")
    code_table = _code_table(data.get("code_table"), path)
    return SourceMapping(
        format=data.get("format"),
        table=data.get("table"),
        columns=columns,
        table_columns=per_table,
        values={
            column: ({str(k): v for k, v in table.items()} if isinstance(table, Mapping) else table)
            for column, table in values.items()
        },
        encoding=file.get("encoding", "auto"),
        separator=file.get("separator"),
        decimal=file.get("decimal"),
        thousands=None if thousands == "" else thousands,
        date_formats=file.get("date_formats"),
        sheet=file.get("sheet"),
        header_line=file.get("header_line"),
        code_map={str(k): _code_map_value(v) for k, v in code_map.items()},
        code_table=code_table,
        path=path,
    )


def _code_map_value(value: str) -> str:
    """An ATC code upper case; a link (``"system|code"``) as written, stripped."""
    text = value.strip()
    return text if "|" in text else text.upper()


def _code_table(value: Any, path: Path | None) -> Path | None:
    """The ``code_table`` file, relative to the mapping file's folder; it must exist."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail("code_table", 'the path of a CSV file, such as "g-standaard.csv"', value)
    table = Path(value.strip())
    if not table.is_absolute() and path is not None:
        table = path.parent / table
    if not table.is_file():
        raise MappingFileError(
            f"code_table = {_shown(value)}: no such file"
            + (f" (looked in {table.parent})" if path is not None else "")
        )
    return table
