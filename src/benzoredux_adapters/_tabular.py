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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from attrs import evolve

from benzoredux.reading import (
    COMBINED_NAME,
    EXCEL_SUFFIXES,
    SEPARATORS,
    MappingFileError,
    ParseSettings,
    RawTable,
    SourceMapping,
    TextTable,
    distinct_cells,
    guess_separator,
    read_text_table,
)

TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
Layout = Mapping[str, Sequence[str]]


def normal(name: str) -> str:
    """A column name as compared: trimmed, single spaces, case-folded."""
    return re.sub(r"\s+", " ", name.strip()).casefold()


def _head_lines(path: Path, limit: int) -> list[str]:
    """The first ``limit`` lines of a text file, decoded as the reader would (UTF-8, else
    Windows-1252), without raising."""
    with path.open("rb") as handle:
        data = handle.read(64 * 1024)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8-sig", errors="replace")
    return text.splitlines()[: limit * 2]


def first_records(
    path: Path, limit: int = 20, separators: Sequence[str] | None = None
) -> list[list[str]]:
    """The first records of a CSV or Excel file, cheaply and without raising (for detection).

    A text file is split with the separator guessed from its first lines
    (:func:`~benzoredux.reading.guess_separator`), or with each of ``separators`` in turn
    (the records of every split, one after the other).
    """
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            return _first_excel_rows(path, limit)
        lines = [line for line in _head_lines(path, limit) if line.strip()][:limit]
        records: list[list[str]] = []
        for separator in separators or (guess_separator(lines),):
            reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=separator)
            records.extend(r for r in reader if r)
        return records
    except (OSError, csv.Error, ValueError):
        return []


def _first_excel_rows(path: Path, limit: int) -> list[list[str]]:
    """The first rows of the first sheet that hold a value (the declared size not trusted)."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the installation
        return []
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any unreadable workbook is simply not this format
        return []
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        records = []
        for row in sheet.iter_rows(min_row=1, max_row=limit, min_col=1, values_only=True):
            cells = ["" if v is None else str(v) for v in row]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                records.append(cells)
        return records
    except Exception:  # a sheet openpyxl cannot read is not this format either
        return []
    finally:
        workbook.close()


def header_score(header: Sequence[str], layout: Layout, signature: Sequence[str]) -> float:
    """The share of ``signature`` columns (canonical names) the header has under ``layout``."""
    names = {normal(h) for h in header}
    hits = sum(1 for c in signature if any(normal(a) in names for a in layout.get(c, (c,))))
    return hits / len(signature) if signature else 0.0


def missing_signature(header: Sequence[str], layout: Layout, signature: Sequence[str]) -> list[str]:
    """The ``signature`` columns (canonical names) the header lacks under ``layout``."""
    names = {normal(h) for h in header}
    return [c for c in signature if not any(normal(a) in names for a in layout.get(c, (c,)))]


def best_header(
    path: Path, layout: Layout, signature: Sequence[str]
) -> tuple[float, list[str] | None]:
    """``(score, record)``: the best :func:`header_score` among the file's first records, split
    with every separator (a title may come first, and may mislead a guess), and the record that
    has it (``None`` when no record has any signature column)."""
    if not path.is_file() or path.suffix.lower() not in TEXT_SUFFIXES | EXCEL_SUFFIXES:
        return 0.0, None
    best: tuple[float, list[str] | None] = (0.0, None)
    for record in first_records(path, separators=SEPARATORS):
        score = header_score(record, layout, signature)
        if score > best[0]:
            best = (score, record)
    return best


def best_header_score(path: Path, layout: Layout, signature: Sequence[str]) -> float:
    """The best :func:`header_score` among the file's first records (a title may come first)."""
    return best_header(path, layout, signature)[0]


def mapped_layout(layout: Layout, mapping: SourceMapping | None, table: str | None) -> Layout:
    """``layout`` with the mapping file's names added: ``[columns]``, and ``[columns.<table>]``
    (every table's when ``table`` is ``None``). A mapping file that names a column is then
    also how its header is recognised."""
    if mapping is None:
        return layout
    if table is not None:
        renames = mapping.renames(table)
    else:
        renames = dict(mapping.columns)
        for per_table in mapping.table_columns.values():
            renames.update(per_table)
    extended = {canonical: tuple(names) for canonical, names in layout.items()}
    for export_name, canonical in renames.items():
        if canonical in extended:
            extended[canonical] = (*extended[canonical], export_name)
    return extended


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
    table: str | None = None,
    is_header: Callable[[Sequence[str]], bool] | None = None,
) -> TextTable:
    """The file's text cells, with the mapping file's encoding, separator, sheet and header.

    The header is the first record that ``is_header`` accepts, by default the first with half
    the ``signature`` columns under ``layout`` and the mapping file's names for ``table``
    (:func:`mapped_layout`).
    """
    if is_header is None and layout and signature:
        is_header = is_header_for(mapped_layout(layout, mapping, table), signature)
    return read_text_table(
        path,
        encoding=mapping.encoding if mapping else "auto",
        separator=mapping.separator if mapping else None,
        sheet=mapping.sheet if mapping else None,
        header_line=mapping.header_line if mapping else None,
        is_header=is_header,
        decimal=(mapping.decimal if mapping and mapping.decimal else decimal),
    )


def settings_for(
    mapping: SourceMapping | None, options: Mapping[str, Any], *, decimal: str = ","
) -> ParseSettings:
    """Dutch defaults (``decimal``: the reader's default notation), the mapping file's choices,
    and ``today`` from the options (tests).

    A mapping file's thousands separator that is also the decimal separator (``thousands =
    ","`` for an export with decimal commas) is a
    :class:`~benzoredux.reading.mapping.MappingFileError`: no number could be read.
    """
    today = options.get("today")
    defaults: dict[str, Any] = {"decimal": decimal}
    if today is not None:
        defaults["today"] = today
    settings = ParseSettings.dutch(mapping, **defaults)
    if settings.thousands is not None and settings.thousands == settings.decimal:
        where = mapping.path.name if mapping is not None and mapping.path else "mapping"
        raise MappingFileError(
            f"{where}: file.thousands = {settings.thousands!r} is also the decimal separator of "
            f"this export; set file.decimal, or another thousands separator"
        )
    return settings


def mapping_of(options: Mapping[str, Any]) -> SourceMapping | None:
    """The mapping file of ``options`` (``read_source`` parses it)."""
    mapping = options.get("mapping")
    if mapping is not None and not isinstance(mapping, SourceMapping):
        raise TypeError("options['mapping'] must be a SourceMapping (use read_source)")
    return mapping


def _kept(values: Sequence[Any] | np.ndarray[Any, Any] | None, keep: np.ndarray[Any, Any]) -> Any:
    """The entries of ``values`` (lines or records, aligned with a frame) where ``keep``."""
    if values is None:
        return None
    array = np.asarray(values) if isinstance(values, np.ndarray) else np.asarray(values, object)
    return array[keep]


def drop_rows(raw: RawTable, bad: np.ndarray[Any, Any], reasons: Sequence[str]) -> RawTable:
    """``raw`` without the rows flagged ``bad``; they become unreadable records with a reason.

    ``reasons`` holds one reason per flagged row, in order.
    """
    positions = np.flatnonzero(bad)
    if not len(positions):
        return raw
    lines = _kept(raw.lines, bad)
    records = _kept(raw.records, bad)
    unreadable = tuple(
        zip(
            [None] * len(positions) if lines is None else lines.tolist(),
            [None] * len(positions) if records is None else records.tolist(),
            reasons,
            strict=True,
        )
    )
    keep = ~bad
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
        unreadable=(*raw.unreadable, *unreadable),
    )


def text_column(codes: np.ndarray[Any, Any], cells: Any, index: pd.Index) -> pd.Series:
    """A column of text cells: row ``i`` holds ``cells[codes[i]]`` (``None``: missing), as a
    pandas categorical like the text reader's columns (each distinct value stored once)."""
    found = np.asarray(cells, dtype=object).copy()
    found[pd.isna(found)] = None
    numbers, categories = pd.factorize(found)
    column = pd.Categorical.from_codes(
        numbers[codes], categories=pd.Index(categories, dtype=object)
    )
    return pd.Series(column, index=index)


def before_name_split(raw: RawTable) -> RawTable:
    """``raw`` ready for :func:`~benzoredux.reading.split_name_column`: when it has a combined
    name column, its columns as object columns (text or ``None``), since the split writes name
    parts into them and a categorical column takes only its own categories."""
    if COMBINED_NAME not in raw.frame.columns:
        return raw
    frame = raw.frame.astype(object)
    return evolve(raw, frame=frame.where(frame.notna(), None))


def first_rows(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Per row of ``frame``: whether no earlier row has the same cells in every column (the
    opposite of ``frame.duplicated(keep="first")``), worked out on each column's distinct
    cells (:func:`~benzoredux.reading.distinct_cells`), not on every cell."""
    key = np.zeros(len(frame), dtype=np.int64)
    size = 1  # the key is below this
    for name in frame.columns:
        codes, distinct = distinct_cells(frame[name])
        # Equal cells that are different objects get one number (missing ones too, as in
        # DataFrame.duplicated).
        numbers, found = pd.factorize(distinct.to_numpy(dtype=object))
        ids = numbers[codes].astype(np.int64) + 1
        width = len(found) + 1
        if size * width >= 2**62:  # renumber the keys before they could overflow
            key, kept = pd.factorize(key)
            size = len(kept)
        key = key * width + ids
        size *= width
    group = pd.factorize(key)[0]  # numbered as the rows first appear
    seen = np.maximum.accumulate(np.concatenate([[-1], group[:-1]]))
    return np.asarray(group > seen, dtype=bool)


def distinct_rows(raw: RawTable) -> RawTable:
    """``raw`` with rows whose every cell repeats an earlier row left out (the first is kept).

    For a table derived from another (the patients of a dispensing export, where each patient's
    details repeat on every dispensing); rows that differ stay, so conflicting details for one
    patient are reported by the patients schema.
    """
    keep = first_rows(raw.frame)
    return evolve(
        raw,
        frame=raw.frame[keep].reset_index(drop=True),
        lines=_kept(raw.lines, keep),
        records=_kept(raw.records, keep),
    )
