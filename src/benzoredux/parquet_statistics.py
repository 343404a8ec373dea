"""What the footers of a Parquet dataset prove about its columns, without reading any rows.

Every Parquet file ends with a footer that holds, per row group and column, the number of
missing values and the smallest and largest value (the format requires them to be a lower and
an upper bound). Reading the footers of ten Parquet files takes about a millisecond; scanning
the rows for the same answer takes a large part of a second per ten million rows.

The row checks (:func:`benzoredux.tables.check_rows`) use them for a Parquet path: a rule whose
:attr:`~benzoredux.tables.RowRule.by_statistics` says the statistics prove that no row breaks it
("``date`` has no missing value", "every ``patient_id`` starts with a letter or digit", "an
integer ``quantity`` is always finite") is not run over the rows. Only a proof skips a check:
a file without statistics, a column whose statistics are incomplete, or a bound that does not
settle the question leaves the rule to the full scan, which gives the same answer as before.

The files are those :func:`benzoredux.engine.parquet_files` lists for the path (or for the
sources of a polars ``LazyFrame`` that is a bare ``pl.scan_parquet``). A path's scan
(:func:`benzoredux.engine.open_lazy_source`) reads exactly these files. A caller's own bare
scan reads the files polars lists for its sources, which can be more: polars' own listing
keeps the hidden and underscore files that :data:`benzoredux.engine.IGNORED_PREFIXES` leaves
out. The two are held together by the row count: the statistics are used only when their files
hold exactly as many rows as the scan (which polars counts from the same footers). Our listing
is a subset of polars' for the same sources, so equal row counts mean any file only polars
reads is empty.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

from benzoredux.engine import ParquetDataset, parquet_files

__all__ = ["ColumnStatistics", "DatasetStatistics", "read_statistics"]

_EXACT_PHYSICAL = frozenset({"INT32", "INT64"})
"""Physical types whose values cannot be NaN or infinite (integers, and decimals kept in them)."""


@frozen
class ColumnStatistics:
    """One column's statistics over every row group of every file of a dataset."""

    null_count: int | None
    """Missing values in the whole column; ``None`` when a row group does not say."""
    low: Any = None
    """A lower bound of the values present (missing values left out); ``None`` when there is
    no value, or when a row group holding values gives no bounds (then :attr:`bounded` is
    false)."""
    high: Any = None
    """An upper bound of the values present, as :attr:`low`."""
    bounded: bool = False
    """Whether :attr:`low` and :attr:`high` bound every value present (true for an all-missing
    column, whose bounds are ``None``)."""
    exact_numbers: bool = False
    """Whether the column is stored as integers or decimals in every file, so that no value is
    NaN or infinite (floating-point statistics leave NaN out, so they cannot prove that)."""

    @property
    def complete(self) -> bool:
        """Whether the missing values are counted and the values present are bounded."""
        return self.null_count is not None and self.bounded


@frozen
class DatasetStatistics:
    """The row count and per-column statistics of the files of one Parquet dataset."""

    rows: int
    """Rows in all files together."""
    columns: Mapping[str, ColumnStatistics] = field(factory=dict)
    """Top-level columns present in every file with the same physical type."""


def read_statistics(source: ParquetDataset, name: str = "input") -> DatasetStatistics:
    """The footer statistics of the Parquet files at ``source`` (a file, directory or glob, or
    the sources of a bare polars scan: :func:`benzoredux.engine.parquet_dataset`).

    Reads only the footers (pyarrow). A column missing from a file, stored with another
    physical type in another file, or nested, is left out.

    :raises FileNotFoundError, ValueError: as :func:`benzoredux.engine.parquet_files`.
    """
    import pyarrow.parquet as pq

    rows = 0
    per_file: list[dict[str, tuple[str, list[_Chunk]]]] = []
    for path in parquet_files(source, name):
        metadata = pq.ParquetFile(path).metadata
        rows += metadata.num_rows
        per_file.append(_chunks_of(metadata))
    if not per_file:
        return DatasetStatistics(rows=rows)
    names = set.intersection(*(set(chunks) for chunks in per_file))
    columns = {}
    for column in sorted(names):
        physical = {chunks[column][0] for chunks in per_file}
        if len(physical) != 1:
            continue
        columns[column] = _combine(chunk for chunks in per_file for chunk in chunks[column][1])
    return DatasetStatistics(rows=rows, columns=columns)


@frozen
class _Chunk:
    """One column chunk: its rows, and the statistics it carries."""

    rows: int
    null_count: int | None
    low: Any
    high: Any
    has_bounds: bool
    exact_numbers: bool


def _chunks_of(metadata: Any) -> dict[str, tuple[str, list[_Chunk]]]:
    """Per top-level column of one file: its physical type and its chunks' statistics."""
    out: dict[str, tuple[str, list[_Chunk]]] = {}
    nested: set[str] = set()
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            column = chunk.path_in_schema
            if "." in column:
                nested.add(column.split(".", 1)[0])
                continue
            statistics = chunk.statistics
            exact = chunk.physical_type in _EXACT_PHYSICAL or (
                statistics is not None and str(statistics.logical_type).startswith("Decimal")
            )
            if statistics is None:
                entry = _Chunk(row_group.num_rows, None, None, None, False, exact)
            else:
                has_bounds = bool(statistics.has_min_max)
                entry = _Chunk(
                    row_group.num_rows,
                    statistics.null_count if statistics.has_null_count else None,
                    statistics.min if has_bounds else None,
                    statistics.max if has_bounds else None,
                    has_bounds,
                    exact,
                )
            out.setdefault(column, (chunk.physical_type, []))[1].append(entry)
    return {k: v for k, v in out.items() if k not in nested}


_Orderable = (str, int, float, decimal.Decimal, dt.date, dt.datetime, dt.time)


def _combine(chunks: Iterable[_Chunk]) -> ColumnStatistics:
    """One column's statistics from its chunks: nulls added up, bounds widened."""
    null_count: int | None = 0
    lows: list[Any] = []
    highs: list[Any] = []
    bounded = True
    exact = True
    for chunk in chunks:
        exact = exact and chunk.exact_numbers
        if chunk.null_count is None or null_count is None:
            null_count = None
        else:
            null_count += chunk.null_count
        if chunk.has_bounds:
            lows.append(chunk.low)
            highs.append(chunk.high)
        elif chunk.null_count is None or chunk.null_count < chunk.rows:
            bounded = False  # values present without bounds (or not known to be absent)
    low = high = None
    if bounded and lows:
        kinds = {type(v) for v in (*lows, *highs)}
        if len(kinds) == 1 and issubclass(kinds.pop(), _Orderable):
            low, high = min(lows), max(highs)
        else:
            bounded = False
    return ColumnStatistics(
        null_count=null_count, low=low, high=high, bounded=bounded, exact_numbers=exact
    )
