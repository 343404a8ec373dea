"""What the readers of tabular exports (AIS, HIS, SFK, the generic one) have in common.

A tabular format is described by its *layout*: per canonical column, the names the export
usually gives it (matched ignoring case and extra spaces). A mapping file's ``[columns]`` win
over the layout, so a practice whose export says ``Afl. datum`` instead of ``Afleverdatum`` only
writes that one line. Detection reads the first lines of the file and scores how many of the
format's *signature* columns its header has.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve

from benzoredux.reading import (
    EXCEL_SUFFIXES,
    ParseSettings,
    RawTable,
    SourceMapping,
    TextTable,
    read_text_table,
    sniff_separator,
)

TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
Layout = Mapping[str, Sequence[str]]


def normal(name: str) -> str:
    """A column name as compared: trimmed, single spaces, case-folded."""
    return re.sub(r"\s+", " ", name.strip()).casefold()


def first_records(path: Path, limit: int = 20) -> list[list[str]]:
    """The first records of a CSV or Excel file, cheaply and without raising (for detection)."""
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            return _first_excel_rows(path, limit)
        with path.open("rb") as handle:
            data = handle.read(64 * 1024)
        text = data.decode("utf-8-sig", errors="replace")
        lines = text.splitlines()[:limit]
        first = next((line for line in lines if line.strip()), "")
        reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sniff_separator(first))
        return [r for r in reader if r]
    except (OSError, csv.Error, ValueError):
        return []


def _first_excel_rows(path: Path, limit: int) -> list[list[str]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the installation
        return []
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any unreadable workbook is simply not this format
        return []
    try:
        rows = workbook.worksheets[0].iter_rows(max_row=limit, values_only=True)
        return [["" if v is None else str(v) for v in row] for row in rows]
    finally:
        workbook.close()


def header_score(header: Sequence[str], layout: Layout, signature: Sequence[str]) -> float:
    """The share of ``signature`` columns (canonical names) the header has under ``layout``."""
    names = {normal(h) for h in header}
    hits = sum(1 for c in signature if any(normal(a) in names for a in layout.get(c, (c,))))
    return hits / len(signature) if signature else 0.0


def best_header_score(path: Path, layout: Layout, signature: Sequence[str]) -> float:
    """The best :func:`header_score` among the file's first records (a title may come first)."""
    if not path.is_file() or path.suffix.lower() not in TEXT_SUFFIXES | EXCEL_SUFFIXES:
        return 0.0
    return max((header_score(r, layout, signature) for r in first_records(path)), default=0.0)


def is_header_for(layout: Layout, signature: Sequence[str]) -> Any:
    """A test for :func:`benzoredux.reading.text.read_text_table`: a record holding at least
    half of the signature columns is the header."""

    def test(fields: Sequence[str]) -> bool:
        return header_score(fields, layout, signature) >= 0.5

    return test


def read_table_file(
    path: Path,
    mapping: SourceMapping | None,
    *,
    layout: Layout | None = None,
    signature: Sequence[str] = (),
    decimal: str = ",",
) -> TextTable:
    """The file's text cells, with the mapping file's encoding, separator, sheet and header."""
    return read_text_table(
        path,
        encoding=mapping.encoding if mapping else "auto",
        separator=mapping.separator if mapping else None,
        sheet=mapping.sheet if mapping else None,
        header_line=mapping.header_line if mapping else None,
        is_header=is_header_for(layout, signature) if layout and signature else None,
        decimal=(mapping.decimal if mapping and mapping.decimal else decimal),
    )


def settings_for(mapping: SourceMapping | None, options: Mapping[str, Any]) -> ParseSettings:
    """Dutch defaults, the mapping file's choices, and ``today`` from the options (tests)."""
    today = options.get("today")
    return ParseSettings.dutch(mapping, **({"today": today} if today is not None else {}))


def mapping_of(options: Mapping[str, Any]) -> SourceMapping | None:
    """The mapping file of ``options`` (``read_source`` parses it)."""
    mapping = options.get("mapping")
    if mapping is not None and not isinstance(mapping, SourceMapping):
        raise TypeError("options['mapping'] must be a SourceMapping (use read_source)")
    return mapping


def _kept(values: Sequence[Any] | None, keep: np.ndarray[Any, Any]) -> list[Any] | None:
    return None if values is None else np.asarray(values, dtype=object)[keep].tolist()


def drop_rows(raw: RawTable, bad: np.ndarray[Any, Any], reasons: Sequence[str]) -> RawTable:
    """``raw`` without the rows flagged ``bad``; they become unreadable records with a reason.

    ``reasons`` holds one reason per flagged row, in order.
    """
    positions = np.flatnonzero(bad)
    if not len(positions):
        return raw
    lines = _kept(raw.lines, bad) or [None] * len(positions)
    records = _kept(raw.records, bad) or [None] * len(positions)
    unreadable = tuple(zip(lines, records, reasons, strict=True))
    keep = ~bad
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
        unreadable=(*raw.unreadable, *unreadable),
    )


def distinct_rows(raw: RawTable) -> RawTable:
    """``raw`` with rows whose every cell repeats an earlier row left out (the first is kept).

    For a table derived from another (the patients of a dispensing export, where each patient's
    details repeat on every dispensing); rows that differ stay, so conflicting details for one
    patient are reported by the patients schema.
    """
    keep = ~raw.frame.duplicated(keep="first").to_numpy()
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
    )
