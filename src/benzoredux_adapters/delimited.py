"""The generic reader: any delimited text file or Excel sheet, described by a mapping file.

For an export no other reader knows: write a small TOML mapping file (see
:mod:`benzoredux.reading.mapping`) that names the canonical table and the export's column names,
encoding, separator, decimal notation and date formats, and pass it with ``mapping=``. Without
a mapping file the reader takes files that already use the canonical column names, such as the
canonical CSV files the library writes.

Defaults when the mapping file does not say: the encoding is recognised (UTF-8 with or without
BOM, else Windows-1252); the separator is guessed from the first lines (a title line above the
header does not decide it); the decimal notation follows the separator (``;`` -> decimal
comma, anything else -> decimal point); dates are ``31-12-2025``, ``31-12-25`` or
``2025-12-31`` (never month-first). The header is the first of the first 20 lines that has
(under the mapping file's names) half the required columns of a table.

The table is the mapping file's ``table``. Without it the reader infers it only when that is
unambiguous: the file's columns (canonical names, or the names the mapping file gives them)
other than ``patient_id`` all belong to one table (``patient_id`` alone: patients). Columns of
two tables (``start`` and ``birth_date``) are an error asking for ``table = "..."``; so a
mapping file for an episodes file that forgot the ICPC column is read as episodes and refused
for the missing column, never read as patients with its dates dropped. A column of the file
that the table does not use is always named in ``ReadResult.notes``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import (
    EXCEL_SUFFIXES,
    TABLES,
    ReadError,
    ReadResult,
    SourceMapping,
    build_result,
    raw_table,
)
from benzoredux.tables import MAX_QUANTITY
from benzoredux_adapters._tabular import (
    TEXT_SUFFIXES,
    best_header_score,
    mapping_of,
    normal,
    read_table_file,
    settings_for,
)

__all__ = ["DelimitedReader", "benzoredux_register_readers"]

_CANONICAL_LAYOUTS = {
    name: {c.name: (c.name,) for c in schema.columns} for name, schema in TABLES.items()
}
_COLUMNS = {name: frozenset(c.name for c in schema.columns) for name, schema in TABLES.items()}
_CONFIDENCE = 0.5
"""At most this sure: a vendor reader that knows the file's own column names wins."""


def _renames(mapping: SourceMapping | None) -> dict[str, dict[str, str]]:
    """Per table, the export names (compared as :func:`normal`) the mapping file gives its
    columns: ``[columns]`` for every table, ``[columns.<table>]`` for that one."""
    found: dict[str, dict[str, str]] = {}
    for table in TABLES:
        renames = mapping.renames(table) if mapping is not None else {}
        found[table] = {normal(k): v for k, v in renames.items()}
    return found


def _canonical_of(name: str, table: str, renames: Mapping[str, Mapping[str, str]]) -> str | None:
    """The canonical column of ``table`` the export column ``name`` is, or ``None``."""
    key = normal(name)
    canonical = renames[table].get(key, key)
    return canonical if canonical in _COLUMNS[table] else None


def _is_header(
    renames: Mapping[str, Mapping[str, str]], tables: Collection[str]
) -> Callable[[Sequence[str]], bool]:
    """A record is the header when it has half the required columns of one of ``tables``."""

    def test(fields: Sequence[str]) -> bool:
        for table in tables:
            present = {_canonical_of(f, table, renames) for f in fields}
            required = TABLES[table].required
            if sum(c in present for c in required) * 2 >= len(required):
                return True
        return False

    return test


def _infer_table(header: Sequence[str], renames: Mapping[str, Mapping[str, str]], name: str) -> str:
    """The one table the header's columns belong to (see the module docstring), or an error."""
    claims: dict[str, list[str]] = {}
    patient = False
    for column in header:
        for table in TABLES:
            canonical = _canonical_of(column, table, renames)
            if canonical == "patient_id":
                patient = True
            elif canonical is not None:
                claims.setdefault(table, []).append(canonical)
    if len(claims) == 1:
        return next(iter(claims))
    if not claims and patient:
        return "patients"
    if not claims:
        raise ReadError(
            f"{name}: cannot tell which table this file holds; its header has not the required "
            "columns of dispensings (patient_id, date, atc, quantity), episodes (patient_id, "
            'icpc) or patients (patient_id). Write a mapping file with table = "..." and a '
            "[columns] section"
        )
    listed = "; ".join(f"{table}: {', '.join(columns)}" for table, columns in claims.items())
    raise ReadError(
        f"{name}: cannot tell which table this file holds: its columns belong to more than one "
        f'({listed}); say which with table = "..." in a mapping file (the other table\'s '
        "columns are then listed as not used)"
    )


class DelimitedReader:
    """Delimited text or Excel with canonical column names or a mapping file."""

    name: str = "delimited"
    description: str = (
        "any CSV/text or Excel file with canonical column names, or described by a TOML "
        "mapping file (mapping=...)"
    )

    def detect(self, source: Path) -> float:
        """Half sure when a header has the required canonical columns of a table."""
        if source.suffix.lower() not in TEXT_SUFFIXES | EXCEL_SUFFIXES:
            return 0.0
        return _CONFIDENCE * max(
            best_header_score(source, layout, TABLES[table].required)
            for table, layout in _CANONICAL_LAYOUTS.items()
        )

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read one file into the mapping file's table (or the one its columns show)."""
        if not source.is_file():
            raise ReadError(f"{source.name}: the delimited reader reads one file, not a folder")
        mapping = mapping_of(options)
        renames = _renames(mapping)
        forced = mapping.table if mapping is not None else None
        text = read_table_file(
            source, mapping, is_header=_is_header(renames, [forced] if forced else list(TABLES))
        )
        table = forced or _infer_table(text.header, renames, source.name)
        layout = _CANONICAL_LAYOUTS[table]
        # A ;-separated file (and a workbook's text cells) writes a decimal comma; others a point.
        decimal = "," if text.separator in (None, ";") else "."
        settings = settings_for(mapping, options, decimal=decimal)
        raw, notes = raw_table(text, table, layout, mapping=mapping, settings=settings)
        return build_result(
            self.name,
            source,
            [raw],
            duplicates=options.get("duplicates", "reject"),
            extra_forms=options.get("extra_forms"),
            max_quantity=options.get("max_quantity", MAX_QUANTITY),
            notes=notes,
        )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the generic delimited reader."""
    register(DelimitedReader())
