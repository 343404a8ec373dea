"""Where a computation runs, and how its result goes back to the caller in the caller's own kind.

The algorithms are written once, as narwhals lazy queries. This module decides the engine:

* lazy inputs (a polars ``LazyFrame``, a DuckDB relation, ...) stay on their own engine and come
  back lazy: nothing is collected behind the caller's back. One exception, for speed: a DuckDB
  relation's chronic-user selection hands the window's rows of the drugs concerned to polars at
  the call, and its result is a relation over the rows computed then
  (:attr:`Execution.hands_rows_to_polars`); ``engine="native"`` keeps it all on DuckDB, deferred;
* eager inputs (pandas, polars ``DataFrame``, pyarrow ``Table``) run by default (``engine="auto"``)
  on polars' lazy engine and are collected back to the input's library. The benchmarks show why:
  on 10 million dispensings pandas' own group-by on text patient ids is several times slower than
  the same query planned by polars, which also runs the filters before the aggregation;
* ``engine="native"`` runs on the input's own library (pandas stays pandas). Both engines give the
  same answer; the property tests hold them against each other and against a plain reference.

Auxiliary tables (patients, episodes) are moved to the engine of the main table, whatever kind
they come in. On DuckDB they are registered on the main relation's own connection: DuckDB cannot
join relations of two connections, and a caller's relation often comes from their own
``duckdb.connect()``.

A Parquet dataset too large for memory is passed as a path: a file, a directory of ``.parquet``
files or a glob (``"dispensings/*.parquet"``). :func:`open_lazy_source` scans it lazily with
polars (``pl.scan_parquet``), so it runs like a polars ``LazyFrame`` and comes back as one; only
the columns and row groups the query needs are read. A polars ``LazyFrame`` that is nothing but
such a scan (``pl.scan_parquet(path)`` with its default options) is the same dataset, and takes
the same route (:func:`parquet_dataset`): its row checks are proven from the files' footers as
a path's are, instead of costing a pass over the rows.
"""

from __future__ import annotations

import glob
import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, cast

import narwhals as nw
from attrs import field, frozen
from narwhals.typing import IntoFrame

if TYPE_CHECKING:
    from benzoredux.tables import DistinctValues

__all__ = [
    "BATCHES_FROM_ROWS",
    "IGNORED_PREFIXES",
    "SLICE_ROWS",
    "ArrowBatches",
    "ArrowSlices",
    "Engine",
    "Execution",
    "KeptRows",
    "ParquetDataset",
    "PathSource",
    "is_path_source",
    "open_lazy_source",
    "parquet_dataset",
    "parquet_files",
]

PathSource = str | os.PathLike[str]
"""A Parquet dataset given by where it is: a file, a directory of ``.parquet`` files or a glob."""

ParquetDataset = PathSource | tuple[str, ...]
"""The Parquet files an input reads: a path source, or the sources of a bare polars scan or
DuckDB ``read_parquet`` relation (:func:`parquet_dataset`)."""

Engine = Literal["auto", "native"]
ENGINES: tuple[Engine, ...] = ("auto", "native")

BATCHES_FROM_ROWS = 1_000_000
"""From how many rows an eager pandas or pyarrow frame of dispensings moves to polars batch by
batch instead of whole (:meth:`Execution.batches`): below it the copy is small
(under 100 MB) and converting whole is faster (measured: 0.04 s against 0.06 s for 50,000
rows); above it the whole copy is most of the call's memory."""


@frozen
class Execution:
    """How one call runs: the lazy backend used and how to hand the result back."""

    backend: nw.Implementation
    """The library the lazy query runs on."""
    return_backend: nw.Implementation
    """The library of the caller's main input, which the result is returned in."""
    lazy_input: bool
    """Whether the caller passed a lazy frame or a Parquet path (then the result stays lazy)."""
    main: Any = field(default=None, eq=False, repr=False)
    """The caller's lazy main input (native): auxiliary tables join it on its own connection."""
    native: bool = False
    """Whether the caller asked for ``engine="native"``: a lazy input then runs wholly on its
    own engine (a DuckDB relation hands no rows to polars, :attr:`hands_rows_to_polars`)."""

    @classmethod
    def for_input(
        cls, native: IntoFrame | PathSource, engine: Engine = "auto", *, name: str = "input"
    ) -> Execution:
        """Decide the engine for a caller's main input (a frame, or a Parquet path or glob).

        ``name`` says what the input is, for the error about a path that is not Parquet.
        """
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
        frame = _from_native(native, name)
        if isinstance(frame, nw.LazyFrame):
            return cls(
                frame.implementation,
                frame.implementation,
                lazy_input=True,
                main=frame.to_native(),
                native=engine == "native",
            )
        own = frame.implementation
        backend = own if engine == "native" else nw.Implementation.POLARS
        return cls(backend, own, lazy_input=False)

    def lazy(
        self, native: IntoFrame | PathSource, name: str, *, columns: Iterable[str] | None = None
    ) -> nw.LazyFrame[Any]:
        """``native`` as a narwhals lazy frame on this execution's backend.

        ``columns`` (those present of them) are all the caller reads: an eager frame that moves
        to another engine is cut down to them first, since converting text columns costs far
        more than selecting them. A Parquet path stays a lazy scan on polars; on any other
        engine it is read (those columns only) and moved like an eager frame.

        """
        frame = _from_native(native, name)
        if (
            is_path_source(native)
            and isinstance(frame, nw.LazyFrame)
            and frame.implementation is not self.backend
        ):
            if columns is not None:
                wanted = set(columns)
                frame = frame.select([c for c in frame.collect_schema() if c in wanted])
            frame = frame.collect()
        if columns is not None and isinstance(frame, nw.DataFrame):
            wanted = set(columns)
            keep = [c for c in frame.columns if c in wanted]
            if len(keep) < len(frame.columns) and frame.implementation is not self.backend:
                frame = frame.select(keep)
        if isinstance(frame, nw.LazyFrame):
            if frame.implementation is self.backend:
                return frame
            raise TypeError(
                f"{name} is a lazy {frame.implementation} frame, but the main input runs on "
                f"{self.backend}; pass {name} as an eager frame or on the same engine"
            )
        if (
            frame.implementation is nw.Implementation.PANDAS
            and self.backend is not frame.implementation
        ):
            frame = _without_empty_categoricals(frame)
        if frame.implementation is not self.backend and self._is_eager_backend():
            frame = nw.from_arrow(frame.to_arrow(), backend=cast(Any, self.backend))
        if self._is_eager_backend():
            return frame.lazy()
        if self.backend is nw.Implementation.DUCKDB and self.main is not None:
            moved: nw.LazyFrame[Any] = nw.from_native(
                _on_connection_of(self.main, frame.to_arrow())
            )
            return moved
        return frame.lazy(backend=cast(Any, self.backend))

    @staticmethod
    def as_frame(
        native: IntoFrame | PathSource, name: str
    ) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
        """A caller's table as a narwhals frame of its own kind (a Parquet path: a polars scan)."""
        return _from_native(native, name)

    @staticmethod
    def columns(native: IntoFrame | PathSource, name: str) -> list[str]:
        """The column names of a caller's table (without reading its rows)."""
        frame = _from_native(native, name)
        return list(frame.collect_schema()) if isinstance(frame, nw.LazyFrame) else frame.columns

    def batches(
        self, native: IntoFrame | PathSource, name: str, *, columns: Iterable[str]
    ) -> ArrowBatches | None:
        """``native`` to be moved to polars batch by batch (:class:`ArrowBatches`), when it is
        an eager frame of another library (pandas, pyarrow) of at least
        :data:`BATCHES_FROM_ROWS` rows that runs on polars; ``None`` otherwise (then
        :meth:`lazy` moves it whole).

        Why: a whole copy of the table in polars' layout is most of the call's memory
        (measured: 0.9 GB for the seven columns the selection reads of 10 million pandas rows,
        next to the caller's 1.8 GB), while each query reads few of its rows (those of the
        selection window and of the drugs concerned) or reads them all once, in slices (the
        row checks). ``columns`` are those the caller reads, as for :meth:`lazy`.
        """
        if self.backend is not nw.Implementation.POLARS or is_path_source(native):
            return None
        frame = _from_native(native, name)
        if (
            not isinstance(frame, nw.DataFrame)
            or frame.implementation is self.backend
            or len(frame) < BATCHES_FROM_ROWS
        ):
            return None
        wanted = set(columns)
        frame = frame.select([c for c in frame.columns if c in wanted])
        if frame.implementation is nw.Implementation.PANDAS:
            frame = _without_empty_categoricals(frame)
        return ArrowBatches(_text_nulls_typed(frame.to_arrow(), frame.collect_schema()))

    def _is_eager_backend(self) -> bool:
        return self.backend not in _LAZY_BACKENDS

    def reuse(self, frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """``frame``, which the rest of the query reads several times, computed once if allowed.

        An eager input's intermediate result is collected (it is small: a filtered table, one
        row per patient). A lazy input is never collected behind the caller's back: the frame
        is returned as it is, for the caller's engine to plan; on polars it is marked as a
        cache, which polars computes once when the caller collects. Without the mark polars'
        own search for common subplans misses it (the two readers need different columns of
        it), and a Parquet dataset would be scanned and filtered twice (measured: a quarter of
        the time of the selection on ten million rows, ``benchmarks/bench_scale.py``).
        """
        if not self.lazy_input:
            return frame.collect().lazy()
        if self.backend is nw.Implementation.POLARS:
            cached: nw.LazyFrame[Any] = nw.from_native(frame.to_native().cache())
            return cached
        return frame

    @property
    def plans_each_reading(self) -> bool:
        """Whether the engine computes a frame again for every query that reads it.

        DuckDB inlines a relation read twice in one query (``NOT MATERIALIZED``), so a second
        pass over the same rows reads the files and groups the rows again; the algorithms then
        prefer one pass with window expressions (where the rows are not handed to polars,
        :attr:`hands_rows_to_polars`). Polars computes a frame marked as a cache once
        (:meth:`reuse`), and an eager input's intermediate result is collected.
        """
        return self.lazy_input and self.backend is nw.Implementation.DUCKDB

    @property
    def hands_rows_to_polars(self) -> bool:
        """Whether the per-patient passes run on polars over rows the caller's engine hands over.

        On a DuckDB relation (``engine="auto"``, the default): the row checks run on DuckDB as
        before (one grouped pass, or the Parquet footers of a bare ``read_parquet``); then one
        DuckDB query computes what the passes read, the selection window's rows of the drugs
        concerned (benzodiazepines and the complex co-medication groups in use) with each row's
        values (units, DDDs, prescriber, co-medication flags), with the query's own
        expressions; those rows are handed over as Arrow (:meth:`to_polars`), polars groups
        them per patient, as for a polars ``DataFrame``, and the result (a row per selected
        patient) goes back onto the caller's connection (:meth:`back_from_polars`), where the
        patients and episodes are joined. Why: the whole query on DuckDB, as narwhals writes
        it, took 1.5 to 1.7 times the CPU time of the hand-written same-output DuckDB query
        (a relation is a chain of ``NOT MATERIALIZED`` parts, so the window's rows were read
        twice, and the last day's details needed window expressions); this takes 1.1 to 1.2
        times (issue 19, ``docs/performance.rst``).

        The price, and why it is taken only here: the result is computed at the call, not when
        the caller runs the relation returned (a relation over the result's rows, held as
        Arrow), and the call holds the window's rows of the drugs concerned in memory (as
        Arrow, then polars: about 90 MB for the 1.6 million such rows of 10 million dense
        dispensings), which makes its peak memory larger than the all-DuckDB route's. A
        deferred form was tried and left: DuckDB scans a polars ``LazyFrame`` only when the
        relation runs, but the scan would then run the caller's relation on the same
        connection while that connection is busy (DuckDB refuses), and on a second cursor the
        caller's temporary tables and settings are missing. ``engine="native"`` keeps the
        whole query on DuckDB and deferred.
        """
        return (
            self.lazy_input
            and self.backend is nw.Implementation.DUCKDB
            and self.main is not None
            and not self.native
        )

    def polars_scan(self, source: object) -> Any:
        """For :attr:`hands_rows_to_polars`: a polars scan of the Parquet files ``source`` reads,
        when ``source`` is a DuckDB relation that is exactly ``read_parquet(paths)`` with
        DuckDB's default options (:func:`parquet_dataset`) and DuckDB reads the very files that
        polars would scan; ``None`` otherwise (then DuckDB reads the rows it hands over).

        Why: such a relation is the same dataset as the path, whose checks the footers prove
        and whose window rows polars reads from the files with its filters applied there, in
        one run (issue 19: the path takes 0.75 times the same-output DuckDB query's time, the
        relation's hand-over 1.2 to 1.3 times, mostly DuckDB's grouped pass for the distinct
        codes and its computing the rows handed over). The files are compared as DuckDB lists
        them on the relation's own connection (``glob``), so a file DuckDB would read and the
        scan would leave out (a ``_``-prefixed file a glob matches) keeps the DuckDB route, as
        does a connection with a ``file_search_path`` (where DuckDB may find a relative path
        elsewhere). The result is a relation holding the result computed at the call, as with
        the rows handed over.
        """
        if not self.hands_rows_to_polars:
            return None
        sources = parquet_dataset(source)
        if not isinstance(sources, tuple) or type(source).__name__ != "DuckDBPyRelation":
            return None
        relation = cast(Any, source)
        try:
            ((search,),) = relation.query(
                "_benzoredux_setting", "SELECT current_setting('file_search_path')"
            ).fetchall()
            if search:  # relative paths may resolve elsewhere for DuckDB than for polars
                return None
            scanned = [path.resolve() for path in parquet_files(sources, "dispensings")]
            read: list[Path] = []
            for one in sources:
                if _GLOB_CHARACTERS & set(one):
                    # The glob as DuckDB's own SQL text read it from the relation (quoted
                    # there, and without a quote: _DUCKDB_READ_PARQUET), so no injection.
                    listed = relation.query(
                        "_benzoredux_files",
                        f"SELECT file FROM glob('{one}')",  # noqa: S608
                    )
                    read += [Path(file).resolve() for (file,) in listed.fetchall()]
                else:
                    read.append(Path(one).resolve())
        except Exception:  # a listing that fails is no proof: DuckDB reads the rows
            return None
        if sorted(read) != sorted(scanned):
            return None
        return _scan_files(scanned)

    @staticmethod
    def to_polars(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """``frame`` (a DuckDB relation, already cut down to the rows and columns the rest of
        the query reads) computed now and handed to polars as Arrow, as a lazy frame over the
        rows in memory (for :attr:`hands_rows_to_polars`)."""
        import polars as pl

        table = frame.to_native().to_arrow_table()
        converted = pl.from_arrow(table, rechunk=False)
        assert isinstance(converted, pl.DataFrame)  # a table gives a frame, not a series
        handed: nw.LazyFrame[Any] = nw.from_native(converted).lazy()
        return handed

    def back_from_polars(self, result: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """``result`` (computed on polars over rows from :meth:`to_polars`) collected now and
        read as a relation on the connection of the caller's relation, where the rest of the
        query (the auxiliary tables, the output) runs."""
        table = result.collect().to_arrow()
        back: nw.LazyFrame[Any] = nw.from_native(_on_connection_of(self.main, table))
        return back

    def scans_parquet(self, source: object) -> bool:
        """Whether ``source`` is a Parquet dataset that this execution scans with polars: a
        path, or a polars ``LazyFrame`` that is a bare scan (:func:`parquet_dataset`).

        Polars' Parquet reader evaluates a filter on the dictionary of a dictionary-encoded
        column (ATC codes, dosage forms: a few hundred distinct texts) instead of on every row;
        the checks and queries on such a source are written as filters to use that.
        """
        return self.backend is nw.Implementation.POLARS and parquet_dataset(source) is not None

    def on_client(self, frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """``frame``, a small intermediate result (a row per patient or per GP) that the rest
        of the query reads several times, computed now onto the client if the engine needs it.

        Only on Dask: its planner did not finish planning queries that read one frame many
        times and stack the parts (the effect evaluation's summary, the indicator's per-GP and
        total rows) within minutes on a ``distributed`` cluster (Dask 2026.8). The heavy part
        runs on the cluster; what is brought back holds a row per letter or per GP, and the
        rest runs on pandas and goes back to the caller as a dask DataFrame
        (:meth:`finish`). Other engines plan the frame as it is.
        """
        if self.backend is not nw.Implementation.DASK:
            return frame
        computed: nw.LazyFrame[Any] = nw.from_native(frame.to_native().compute()).lazy()
        return computed

    def finish(self, result: nw.LazyFrame[Any]) -> Any:
        """The result in the caller's kind: lazy stays lazy, eager is collected to its library."""
        if self.lazy_input:
            if result.implementation is not self.backend:  # computed on the client (on_client)
                # A fresh index: Dask orders a pandas frame by its index.
                rows = result.collect(backend=nw.Implementation.PANDAS).to_native()
                eager = nw.from_native(rows.reset_index(drop=True), eager_only=True)
                return eager.lazy(backend=cast(Any, self.backend)).to_native()
            return result.to_native()
        if self.return_backend is nw.Implementation.PANDAS:
            # One conversion for both engines, so pandas callers get the same dtypes either way
            # (dates as datetime64, not Arrow date32): the one polars' own to_pandas() makes.
            # Without the schema's pandas metadata, which would restore Arrow-backed dtypes.
            import pyarrow as pa

            collected = result.collect()
            table = (
                pa.Table.from_pandas(collected.to_native(), preserve_index=False)
                if collected.implementation is nw.Implementation.PANDAS
                else collected.to_arrow()
            )
            return table.replace_schema_metadata(None).to_pandas(date_as_object=False)
        if self.return_backend is self.backend and self._is_eager_backend():
            return result.collect().to_native()
        return result.collect(backend=cast(Any, self.return_backend)).to_native()


_LAZY_BACKENDS = frozenset(
    {
        nw.Implementation.POLARS,
        nw.Implementation.DUCKDB,
        nw.Implementation.DASK,
        nw.Implementation.PYSPARK,
        nw.Implementation.SQLFRAME,
        nw.Implementation.IBIS,
    }
)


def _without_empty_categoricals(frame: nw.DataFrame[Any]) -> nw.DataFrame[Any]:
    """Categorical pandas columns without categories (all values missing) as text.

    pandas gives such a column float categories, which other libraries read as a float column;
    a text column that happens to be empty must stay a text column.
    """
    import pandas as pd

    native = frame.to_native()
    empty = [
        name
        for name, dtype in frame.schema.items()
        if isinstance(dtype, nw.Categorical) and len(native[name].cat.categories) == 0
    ]
    if not empty:
        return frame
    converted = native.assign(**{c: native[c].astype(pd.StringDtype()) for c in empty})
    return nw.from_native(converted, eager_only=True)


SLICE_ROWS = 1_000_000
"""Rows of an :class:`ArrowBatches` slice converted to polars at a time (about 90 MB for the
seven columns the selection reads)."""


class ArrowBatches:
    """An eager frame of another library moved to polars batch by batch, not whole.

    :meth:`scan` is the lazy frame the queries read: a polars scan of the Arrow table in memory
    (``pl.scan_pyarrow_dataset``), converted when a query reads it, after pyarrow has applied
    the query's filters where polars can hand them over (comparisons, ``is_in``); a filter it
    cannot hand over runs in polars on the converted batch, so the rows are the same either
    way. :meth:`slices` gives the same rows as polars frames of :data:`SLICE_ROWS` rows, each
    converted (the columns asked for, :class:`ArrowSlices`) and dropped after use: for a pass
    that reads every row (the row checks), where polars works on each slice with all its
    threads (the scan above converts on one: measured 0.85 s against 0.3 s for the checks of
    10 million rows).

    The conversion is ``pl.from_arrow``'s in both. A pass over the slices may keep the rows
    the queries after it read (:class:`KeptRows`): then those queries read the rows kept, not
    :meth:`scan`. The property tests hold pandas and pyarrow inputs moved this way, in slices
    of a few rows, against the plain reference.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        """The caller's rows (the columns read) as an Arrow table: no copy for Arrow-backed
        pandas columns and numbers."""

    def scan(self) -> nw.LazyFrame[Any]:
        """The table as a polars lazy scan, converted when and as far as a query reads it."""
        import polars as pl
        import pyarrow.dataset as ds

        scan: nw.LazyFrame[Any] = nw.from_native(pl.scan_pyarrow_dataset(ds.dataset(self.table)))
        return scan

    def slices(self, kept: KeptRows | None = None) -> ArrowSlices:
        """The rows in slices of :data:`SLICE_ROWS`, each converted to polars when reached;
        with ``kept``, the pass over them keeps the rows a query reads next (:class:`KeptRows`).
        """
        return ArrowSlices(self.table, kept=kept)


class KeptRows:
    """The rows a query reads, kept from a pass over the slices that reads every row anyway.

    The row checks of a pandas or pyarrow table convert it to polars slice by slice
    (:class:`ArrowSlices`); the selection then reads few of its rows (the selection window's,
    of the drugs concerned). Reading those through the Arrow table (:meth:`ArrowBatches.scan`)
    costs a conversion and a filter by pyarrow per query (twice: the benzodiazepine rows and
    the co-medication rows; measured on 10 million dense rows: 0.6 s, while polars filters the
    converted slices in 0.08 s). So each slice, once converted and checked, gives its rows
    that ``where`` keeps, in polars, and the queries read those (:meth:`frame`).

    ``where`` is given a slice and the distinct values of that slice (its ATC codes and forms,
    ``benzoredux.tables.DistinctValues``, found by the checks' grouping): the rows to
    keep are chosen by ``is_in`` on the codes present, as the queries choose them, not by a
    prefix test per row (three times slower). ``columns`` are those the kept rows hold.

    The rows are kept only if the pass reads every slice (:attr:`complete`): the checks may
    decide without reading the slices (no rule left to check) or in one pass over the whole
    table (rules that count values across rows); then the queries read the Arrow table as
    before (:meth:`ArrowBatches.scan`).
    """

    def __init__(
        self,
        columns: Iterable[str],
        where: Callable[[nw.LazyFrame[Any], DistinctValues], nw.LazyFrame[Any]],
    ) -> None:
        self.columns = tuple(columns)
        """The columns the kept rows hold."""
        self.where = where
        """A slice's rows to keep, given the slice and its distinct values."""
        self._parts: list[Any] = []
        self._rows_seen = 0
        self._rows_total: int | None = None
        self._empty: Any = None

    def expect(self, table: Any) -> None:
        """Set the table whose slices are kept from: how many rows make the pass complete, and
        the columns' types (for a table of no rows)."""
        import polars as pl

        self._parts, self._rows_seen, self._rows_total = [], 0, table.num_rows
        empty = pl.from_arrow(table.select(list(self.columns)).slice(0, 0))
        assert isinstance(empty, pl.DataFrame)  # a table gives a frame, not a series
        self._empty = empty

    def take(self, part: nw.LazyFrame[Any], distinct: DistinctValues, rows: int) -> None:
        """Keep the rows of one slice (of ``rows`` rows) that :attr:`where` keeps."""
        self._parts.append(self.where(part, distinct).select(*self.columns).collect().to_native())
        self._rows_seen += rows

    @property
    def complete(self) -> bool:
        """Whether every slice of the table was taken (then :meth:`frame` holds every row kept)."""
        return self._rows_total is not None and self._rows_seen == self._rows_total

    def frame(self) -> nw.LazyFrame[Any]:
        """The rows kept, as one polars lazy frame over them (in memory)."""
        import polars as pl

        if not self.complete:
            raise RuntimeError("the pass over the slices did not read every row")
        kept = pl.concat([self._empty, *self._parts], how="vertical", rechunk=False)
        self._parts = []
        frame: nw.LazyFrame[Any] = nw.from_native(kept).lazy()
        return frame


class ArrowSlices:
    """The rows of an Arrow table as polars frames of :data:`SLICE_ROWS` rows, each converted
    when reached (iterate over it), and what the row checks can learn from the Arrow data
    without converting it.

    The row checks (:func:`benzoredux.tables.check_rows`) read only some columns, and of a
    text identifier only whether it is missing and its bounds: :meth:`select` converts only the
    columns named, and :meth:`text_bounds` takes a text column's bounds and missing values
    where the Arrow data lies, with pyarrow. Why: converting text to polars is most of the
    conversion's cost (measured on 10 million rows: 0.33 of the 0.55 s of CPU for the four
    text columns), and the patients' identifiers are the longest text.
    """

    def __init__(
        self, table: Any, columns: Iterable[str] | None = None, *, kept: KeptRows | None = None
    ) -> None:
        self.table = table
        """The whole table, all its columns."""
        self.columns = list(table.column_names if columns is None else columns)
        """The columns each slice holds, in this order (with those of :attr:`kept`)."""
        self.kept = kept
        """The rows the pass over the slices keeps for the queries after it, if any: the slices
        then also hold the columns of the kept rows, and the pass hands each slice to it
        (:meth:`KeptRows.take`)."""

    def __iter__(self) -> Iterator[nw.LazyFrame[Any]]:
        import polars as pl

        wanted = set(self.columns) | set(self.kept.columns if self.kept is not None else ())
        table = self.table.select([c for c in self.table.column_names if c in wanted])
        if self.kept is not None:
            self.kept.expect(self.table)
        for start in range(0, table.num_rows, SLICE_ROWS):
            frame = pl.from_arrow(table.slice(start, SLICE_ROWS))
            assert isinstance(frame, pl.DataFrame)  # a table gives a frame, not a series
            part: nw.LazyFrame[Any] = nw.from_native(frame).lazy()
            yield part

    def select(self, columns: Iterable[str]) -> ArrowSlices:
        """The same slices holding only ``columns`` (in the table's order) and those of the
        rows kept."""
        wanted = set(columns)
        return ArrowSlices(
            self.table, [c for c in self.table.column_names if c in wanted], kept=self.kept
        )

    def text_bounds(self, column: str) -> tuple[int, Any, Any] | None:
        """The missing values, smallest and largest value of a text ``column`` over all rows,
        by pyarrow on the Arrow data (``None``, ``None`` when every value is missing); ``None``
        when the column is not plain Arrow text (a dictionary, pandas' categorical, or a string
        view), which pyarrow cannot bound, or when the slices convert it anyway for the rows
        kept (:attr:`kept`): then the checks take its bounds from the slices.

        pyarrow and polars order text alike (byte by byte in UTF-8, which is the order of code
        points), so the bounds are those polars would give.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.kept is not None and column in self.kept.columns:
            # Converted anyway for the rows kept: polars bounds it in half pyarrow's time
            # (measured on 10 million patient ids: 0.05 s against 0.11 s).
            return None
        data = self.table.column(column)
        if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
            return None
        bounds = pc.min_max(data)
        return data.null_count, bounds["min"].as_py(), bounds["max"].as_py()


def _on_connection_of(relation: Any, table: Any) -> Any:
    """A pyarrow ``table`` as a DuckDB relation on the connection of ``relation``.

    ``relation.query`` runs on the relation's own connection, which DuckDB keeps to itself; the
    table reaches it by DuckDB's replacement scan of the local variable named in the query (as
    narwhals' DuckDB backend brings Arrow tables in). The relation holds the table, so nothing
    is copied into the database.
    """
    _benzoredux_table = table  # read by DuckDB's replacement scan, by its name
    return relation.query("_benzoredux_main", "SELECT * FROM _benzoredux_table")


def is_path_source(source: object) -> TypeGuard[PathSource]:
    """Whether ``source`` names a Parquet dataset (a ``str`` or path-like) instead of a frame."""
    return isinstance(source, str | os.PathLike)


_GLOB_CHARACTERS = frozenset("*?[")
_PARQUET_MAGIC = b"PAR1"


def open_lazy_source(source: PathSource, name: str = "input") -> Any:
    """A Parquet file, directory of Parquet files or glob, scanned lazily with polars.

    Nothing is read but the files' footers: the query that uses the frame reads only the
    columns and row groups it needs, so a dataset larger than memory can be selected from.
    Every file is checked up front to start like a Parquet file, so a wrong path fails here,
    naming it, and not halfway through a query with a message about bytes.

    The scan reads exactly the files :func:`parquet_files` lists, the files whose footers the
    row checks read (:mod:`benzoredux.parquet_statistics`): the marker and hidden files that
    Spark, Hadoop and Databricks write beside the data (``_SUCCESS``, ``_metadata``,
    ``.part-0.parquet.crc``, ``_committed_*``, a ``_temporary`` folder) are left out, as Spark
    and pyarrow datasets leave them out (:data:`IGNORED_PREFIXES`); polars, given the folder
    itself, would try to read them. A folder's ``name=value`` subfolders (a hive-partitioned
    dataset) still give their columns, as polars gives them for a folder.

    :param source: a ``.parquet`` file, a directory holding ``.parquet`` files (in
        subdirectories too, such as a hive-partitioned dataset), or a glob such as
        ``"dispensings/2025-*.parquet"``.
    :param name: what the table is (``"dispensings"``, ``"patients"``), for error messages.
    :returns: a polars ``LazyFrame`` (typed ``Any``: polars is imported only when used).
    :raises FileNotFoundError: nothing exists at the path, or the glob or directory holds no
        Parquet file.
    :raises ValueError: a file found is not a Parquet file; or a hive-partitioned folder whose
        own path holds a ``name=value`` part also holds files to leave out (polars cannot be
        told where such a dataset's partitions start).

    >>> open_lazy_source("no/such/dispensings.parquet", "dispensings")
    Traceback (most recent call last):
    ...
    FileNotFoundError: dispensings: no such file or directory: 'no/such/dispensings.parquet'
    """
    import polars as pl

    files = parquet_files(source, name)
    text = os.fspath(source)
    if _GLOB_CHARACTERS & set(text) or not Path(text).is_dir():
        # A file or a glob: polars parses no partitions from either by default.
        return pl.scan_parquet([os.fspath(path) for path in files])
    base = Path(text)
    if not any("=" in part for path in files for part in path.relative_to(base).parts[:-1]):
        return pl.scan_parquet([os.fspath(path) for path in files])
    # A hive-partitioned folder: polars parses the partitions of a list of files from the
    # whole path, of a folder from below the folder. The list gives the same columns when no
    # part above the folder looks like a partition.
    if not any("=" in part for part in base.parts):
        return pl.scan_parquet([os.fspath(path) for path in files], hive_partitioning=True)
    # Otherwise the folder itself, with polars leaving out the files whose names start with
    # an ignored prefix; polars does not leave out what lies below an ignored subfolder, so
    # that must be nothing.
    visible = sorted(
        path
        for path in base.rglob("*")
        if path.is_file() and not path.name.startswith(IGNORED_PREFIXES)
    )
    if visible != files:
        raise ValueError(
            f"{name}: the hive-partitioned folder {text!r} holds files to leave out in "
            "ignored subfolders or files without the .parquet extension, and a part of its "
            "own path looks like a partition ('name=value'); pass a glob of the data files"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars calls the option unstable
        return pl.scan_parquet(text, hidden_file_prefix=list(IGNORED_PREFIXES))


def _scan_files(files: Iterable[Path]) -> Any:
    """A polars scan of the Parquet ``files`` (a list: no partitions parsed from their paths)."""
    import polars as pl

    return pl.scan_parquet([os.fspath(path) for path in files])


def parquet_dataset(source: object) -> ParquetDataset | None:
    """The Parquet files ``source`` reads, when that is all it does; ``None`` otherwise.

    A path source is returned as it is. A DuckDB relation counts only when it is exactly what
    ``read_parquet(paths)`` builds with DuckDB's default options (its SQL, which names every
    option, is matched whole). A polars ``LazyFrame`` counts only when its whole plan
    is one Parquet scan of local files with polars' default options: exactly the plan
    ``pl.scan_parquet(sources)`` builds, compared as serialized plans, so that no filter,
    projection, added column, row limit, row index, schema or cast option, hive option or any
    setting a later polars version adds can be missed. Then its sources (paths, directories or
    globs, as polars holds them) are returned. Anything else, or a plan that cannot be read,
    gives ``None``: such an input is checked over its rows, which is always correct, only
    slower.

    Why: the checks of a path are proven from the Parquet footers
    (:mod:`benzoredux.parquet_statistics`), a pass over the rows is not needed; a caller who
    builds the same scan with ``pl.scan_parquet`` ("lazy in, lazy out") should not pay a
    second pass for it (issue 19: twice the time of the path).
    """
    if is_path_source(source):
        return source
    kind, module = type(source).__name__, type(source).__module__
    try:
        if kind == "LazyFrame" and module.startswith("polars"):
            return _bare_scan_sources(source)
        if kind == "DuckDBPyRelation" and module.startswith("duckdb"):
            return _bare_read_parquet_sources(source)
    except Exception:  # an unreadable plan is no proof: take the checked route
        return None
    return None


def _bare_scan_sources(lazy: Any) -> tuple[str, ...] | None:
    """The sources of a polars ``LazyFrame`` that is exactly ``pl.scan_parquet(sources)``."""
    import polars as pl

    # Cheap first: the plan's root is a Parquet scan (no node above it). Serializing a plan
    # that holds an in-memory DataFrame would copy its data, so only a scan gets further.
    if not lazy.explain(optimized=False).lstrip().startswith("Parquet SCAN"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the JSON form is deprecated; the binary is opaque
            plan = json.loads(lazy.serialize(format="json"))
    except Exception:  # a polars without the JSON form: the checked route, always correct
        return None
    if isinstance(plan, dict) and isinstance(plan.get("IR"), dict):
        plan = plan["IR"].get("dsl")  # a plan polars has resolved (its schema was asked for)
    scan = plan.get("Scan") if isinstance(plan, dict) and len(plan) == 1 else None
    if not isinstance(scan, dict) or "Parquet" not in scan.get("scan_type", {}):
        return None
    paths = scan.get("sources", {}).get("Paths")
    if not isinstance(paths, list) or not paths:
        return None
    found = [p.get("inner") if isinstance(p, dict) else p for p in paths]
    sources = tuple(p for p in found if isinstance(p, str) and "://" not in p)
    if len(sources) != len(found):
        return None  # not local files (cloud storage): no footers to read here
    reference = pl.scan_parquet(list(sources))
    return sources if lazy.serialize() == reference.serialize() else None


_DUCKDB_READ_PARQUET = re.compile(
    r"SELECT \* FROM parquet_scan\(\[(?P<paths>'[^']*'(?:, '[^']*')*)\], "
    r"binary_as_string := false, file_row_number := false, filename := false, "
    r"hive_partitioning := false, union_by_name := false\) AS \"unnamed_relation_[0-9a-f]+\""
)
"""The SQL of a DuckDB relation made by ``read_parquet(paths)`` with the default options."""


def _bare_read_parquet_sources(relation: Any) -> tuple[str, ...] | None:
    """The sources of a DuckDB relation that is exactly ``read_parquet(sources)``."""
    match = _DUCKDB_READ_PARQUET.fullmatch(relation.sql_query().strip())
    if match is None:
        return None
    sources = tuple(path[1:-1] for path in match.group("paths").split(", "))
    if any("://" in path for path in sources):
        return None  # not local files (cloud storage): no footers to read here
    return sources


def parquet_files(source: ParquetDataset, name: str = "input") -> list[Path]:
    """The Parquet files a path source names, each checked to start like a Parquet file.

    A directory gives every ``.parquet`` file below it (subdirectories too), a glob the files
    it matches (Python's ``glob``, recursive), a file itself; the sources of a bare scan
    (:func:`parquet_dataset`) each in turn. Below a directory, and in the part of a glob's
    match that its wildcards matched, a file or folder whose name starts with one of
    :data:`IGNORED_PREFIXES` is left out (a file named itself is read). Errors as
    :func:`open_lazy_source`, which scans these files; the footer statistics
    (:mod:`benzoredux.parquet_statistics`) are read from the same list.
    """
    if isinstance(source, tuple):
        return [path for one in source for path in parquet_files(one, name)]
    text = os.fspath(source)
    if _GLOB_CHARACTERS & set(text):
        pattern = Path(text).parts
        fixed = next(i for i, part in enumerate(pattern) if _GLOB_CHARACTERS & set(part))
        files = sorted(
            Path(p)
            for p in glob.glob(text, recursive=True)
            if Path(p).is_file() and not _ignored(Path(p).parts[fixed:])
        )
        if not files:
            raise FileNotFoundError(f"{name}: no file matches {text!r}{_IGNORED_NOTE}")
    elif Path(text).is_dir():
        base = Path(text)
        files = sorted(
            path
            for path in base.rglob("*.parquet")
            if path.is_file() and not _ignored(path.relative_to(base).parts)
        )
        if not files:
            raise FileNotFoundError(
                f"{name}: no .parquet file in directory {text!r}{_IGNORED_NOTE}"
            )
    elif Path(text).is_file():
        files = [Path(text)]
    else:
        raise FileNotFoundError(f"{name}: no such file or directory: {text!r}")
    for path in files:
        with path.open("rb") as handle:
            if handle.read(4) != _PARQUET_MAGIC:
                raise ValueError(f"{name}: {os.fspath(path)!r} is not a Parquet file")
    return files


IGNORED_PREFIXES = ("_", ".")
"""Files and folders of a Parquet dataset whose names start with these are not data, and are
left out (:func:`parquet_files`): what Spark, Hadoop and Databricks write beside the data files
(``_SUCCESS``, ``_metadata``, ``_common_metadata``, ``_committed_<id>``, ``_started_<id>``,
checksum files ``.part-0.parquet.crc``, the ``_temporary`` folder of a job still running) and
hidden files. pyarrow's datasets leave out the same (``ignore_prefixes``, default
``['.', '_']``, applied to every part of the path below the dataset's folder), as does Spark's
file listing (names starting with ``_`` or ``.``)."""

_IGNORED_NOTE = " (names starting with '_' or '.' are left out)"


def _ignored(parts: Iterable[str]) -> bool:
    """Whether a path, given by its parts below the dataset's folder, is to be left out."""
    return any(part.startswith(IGNORED_PREFIXES) for part in parts)


def _text_nulls_typed(table: Any, schema: Mapping[str, Any]) -> Any:
    """``table`` with its columns of Arrow's ``null`` type cast to text where the frame they
    came from holds text: a pandas ``object`` column with no value but ``None`` (an empty
    frame, or an optional column left empty) is text to narwhals, but ``null`` to Arrow,
    whose type the checks cannot tell (found by the property tests on an empty frame)."""
    import pyarrow as pa

    for index, column in enumerate(table.schema):
        if pa.types.is_null(column.type) and schema.get(column.name) == nw.String:
            table = table.set_column(index, column.name, table.column(index).cast(pa.string()))
    return table


def _from_native(
    native: IntoFrame | PathSource, name: str
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    if isinstance(native, nw.DataFrame | nw.LazyFrame):
        return native
    if is_path_source(native):
        scan: nw.LazyFrame[Any] = nw.from_native(open_lazy_source(native, name))
        return scan
    try:
        return nw.from_native(native)
    except TypeError as exc:
        raise TypeError(
            f"{name}: expected a dataframe (pandas, polars, pyarrow, DuckDB, ...) or the path "
            f"of a Parquet dataset, "
            f"got {type(native).__name__}"
        ) from exc
