"""Where a computation runs, and how its result goes back to the caller in the caller's own kind.

The algorithms are written once, as narwhals lazy queries. This module decides the engine:

* lazy inputs (a polars ``LazyFrame``, a DuckDB relation, ...) stay on their own engine and come
  back lazy: nothing is collected behind the caller's back;
* eager inputs (pandas, polars ``DataFrame``, pyarrow ``Table``) run by default (``engine="auto"``)
  on polars' lazy engine and are collected back to the input's library. The benchmarks show why:
  on 10 million dispensings pandas' own group-by on text patient ids is several times slower than
  the same query planned by polars, which also runs the filters before the aggregation;
* ``engine="native"`` runs on the input's own library (pandas stays pandas). Both engines give the
  same answer; the property tests hold them against each other and against a plain reference.

Auxiliary tables (patients, episodes) are moved to the engine of the main table, whatever kind
they come in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, cast

import narwhals as nw
from attrs import frozen
from narwhals.typing import IntoFrame

__all__ = ["Engine", "Execution"]

Engine = Literal["auto", "native"]
ENGINES: tuple[Engine, ...] = ("auto", "native")


@frozen
class Execution:
    """How one call runs: the lazy backend used and how to hand the result back."""

    backend: nw.Implementation
    """The library the lazy query runs on."""
    return_backend: nw.Implementation
    """The library of the caller's main input, which the result is returned in."""
    lazy_input: bool
    """Whether the caller passed a lazy frame (then the result stays lazy)."""

    @classmethod
    def for_input(cls, native: IntoFrame, engine: Engine = "auto") -> Execution:
        """Decide the engine for a caller's main input."""
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
        frame = _from_native(native, "input")
        if isinstance(frame, nw.LazyFrame):
            return cls(frame.implementation, frame.implementation, lazy_input=True)
        own = frame.implementation
        backend = own if engine == "native" else nw.Implementation.POLARS
        return cls(backend, own, lazy_input=False)

    def lazy(
        self, native: IntoFrame, name: str, *, columns: Iterable[str] | None = None
    ) -> nw.LazyFrame[Any]:
        """``native`` as a narwhals lazy frame on this execution's backend.

        ``columns`` (those present of them) are all the caller reads: an eager frame that moves
        to another engine is cut down to them first, since converting text columns costs far
        more than selecting them.
        """
        frame = _from_native(native, name)
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
        return frame.lazy(backend=cast(Any, self.backend))

    @staticmethod
    def columns(native: IntoFrame, name: str) -> list[str]:
        """The column names of a caller's table (without reading its rows)."""
        frame = _from_native(native, name)
        return list(frame.collect_schema()) if isinstance(frame, nw.LazyFrame) else frame.columns

    def _is_eager_backend(self) -> bool:
        return self.backend not in _LAZY_BACKENDS

    def finish(self, result: nw.LazyFrame[Any]) -> Any:
        """The result in the caller's kind: lazy stays lazy, eager is collected to its library."""
        if self.lazy_input:
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


def _from_native(native: IntoFrame, name: str) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    if isinstance(native, nw.DataFrame | nw.LazyFrame):
        return native
    try:
        return nw.from_native(native)
    except TypeError as exc:
        raise TypeError(
            f"{name}: expected a dataframe (pandas, polars, pyarrow, DuckDB, ...), "
            f"got {type(native).__name__}"
        ) from exc
