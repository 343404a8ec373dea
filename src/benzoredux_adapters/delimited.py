"""The generic reader: any delimited text file or Excel sheet, described by a mapping file.

For an export no other reader knows: write a small TOML mapping file (see
:mod:`benzoredux.reading.mapping`) that names the canonical table and the export's column names,
encoding, separator, decimal notation and date formats, and pass it with ``mapping=``. Without
a mapping file the reader takes files that already use the canonical column names, such as the
canonical CSV files the library writes.

Defaults when the mapping file does not say: the encoding is recognised (UTF-8 with or without
BOM, else Windows-1252); the separator is guessed from the header line; the decimal notation
follows the separator (``;`` -> decimal comma, anything else -> decimal point); dates are
``31-12-2025``, ``31-12-25`` or ``2025-12-31`` (never month-first). The table is the mapping
file's ``table``, else the one whose required columns the file has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import (
    EXCEL_SUFFIXES,
    TABLES,
    ReadError,
    ReadResult,
    build_result,
    raw_table,
)
from benzoredux_adapters._tabular import (
    TEXT_SUFFIXES,
    best_header_score,
    first_records,
    mapping_of,
    normal,
    read_table_file,
    settings_for,
)

__all__ = ["DelimitedReader", "benzoredux_register_readers"]

_CANONICAL_LAYOUTS = {
    name: {c.name: (c.name,) for c in schema.columns} for name, schema in TABLES.items()
}
_CONFIDENCE = 0.5
"""At most this sure: a vendor reader that knows the file's own column names wins."""


def _table_for(header: list[str]) -> str | None:
    names = {normal(h) for h in header}
    for table in ("dispensings", "episodes", "patients"):
        if all(c in names for c in TABLES[table].required):
            return table
    return None


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
        table = mapping.table if mapping is not None else None
        if table is None:
            renames = {normal(k): v for k, v in (mapping.columns if mapping else {}).items()}
            for record in first_records(source):
                table = _table_for([renames.get(normal(h), h) for h in record])
                if table is not None:
                    break
        if table is None:
            raise ReadError(
                f"{source.name}: cannot tell which table this file holds; its header has not "
                "the required columns of dispensings (patient_id, date, atc, quantity), "
                "episodes (patient_id, icpc) or patients (patient_id). Write a mapping file "
                'with table = "..." and a [columns] section'
            )
        layout = _CANONICAL_LAYOUTS[table]
        text = read_table_file(source, mapping)
        separator = (mapping.separator if mapping else None) or _separator_of(text.file)
        defaults = {} if separator == ";" else {"decimal": "."}
        settings = settings_for(mapping, options)
        if mapping is None or mapping.decimal is None:
            settings = type(settings)(
                date_formats=settings.date_formats,
                decimal=defaults.get("decimal", settings.decimal),
                thousands=settings.thousands,
                values=settings.values,
                today=settings.today,
            )
        raw, notes = raw_table(text, table, layout, mapping=mapping, settings=settings)
        return build_result(
            self.name,
            source,
            [raw],
            duplicates=options.get("duplicates", "reject"),
            extra_forms=options.get("extra_forms"),
            notes=notes,
        )


def _separator_of(path: Path) -> str:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return ";"  # number cells are written with the mapping's decimal (default comma)
    from benzoredux.reading import sniff_separator

    with path.open("rb") as handle:
        head = handle.read(8192).decode("utf-8-sig", errors="replace")
    first = next((line for line in head.splitlines() if line.strip()), "")
    return sniff_separator(first)


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the generic delimited reader."""
    register(DelimitedReader())
