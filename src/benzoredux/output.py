"""Writing files that hold patient data: private, atomic, and safe to open in a spreadsheet.

* **Private**: created with mode ``0o600`` (owner read/write only) from the first byte, not
  chmod-ed afterwards, so no other user of a shared practice server can read a half-written list.
* **Atomic**: written to a temporary file in the same folder and renamed into place, so an
  interrupted run never leaves a truncated list that looks complete.
* **Formula-safe**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  is prefixed with ``'`` (OWASP ASVS 1.2.10), in CSV too: a name like ``=HYPERLINK(...)`` must
  not become a formula when the assistant opens the list in Excel. Numeric cells are left alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import narwhals as nw
from narwhals.typing import IntoFrame

__all__ = ["FORMULA_PREFIXES", "neutralise_formulas", "private_file", "write_csv"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PRIVATE_MODE = 0o600


@contextlib.contextmanager
def private_file(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open ``path`` for writing, owner-only and atomically (see the module docstring)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, PRIVATE_MODE)  # mkstemp already uses 0o600; make it explicit
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def neutralise_formulas(frame: IntoFrame) -> Any:
    """``frame`` with each text cell a spreadsheet would read as a formula prefixed by ``'``."""
    nw_frame = nw.from_native(cast(Any, frame), eager_only=True)
    text = [name for name, dtype in nw_frame.schema.items() if isinstance(dtype, nw.String)]

    def starts(column: str) -> nw.Expr:
        tests = (nw.col(column).str.starts_with(p) for p in FORMULA_PREFIXES)
        return nw.any_horizontal(*tests, ignore_nulls=True)

    return nw_frame.with_columns(
        nw.when(starts(c))
        .then(nw.concat_str([nw.lit("'"), nw.col(c)]))
        .otherwise(nw.col(c))
        .alias(c)
        for c in text
    ).to_native()


def write_csv(frame: IntoFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as UTF-8 CSV (with BOM, so Excel reads accents), private and formula-safe."""
    safe = nw.from_native(cast(Any, neutralise_formulas(frame)), eager_only=True)
    with private_file(path, "w", encoding="utf-8-sig", newline="") as handle:
        safe.to_pandas().to_csv(handle, index=False)
    return Path(path)
