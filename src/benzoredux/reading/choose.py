"""Which way to read a file when the user names no format: the canonical layout, or a reader.

A practice runs ``benzoredux select export.csv`` on whatever its pharmacy sent. A file in the
canonical layout (UTF-8, ``,``-separated, the canonical column names; or Parquet) is read as
such; anything else goes to the readers' detection
(:func:`~benzoredux.reading.sources.detect_format`), which knows the vendor layouts and their
encodings. When nothing fits, the error says what was
tried and why the canonical layout did not fit, so the next step is clear (``--format``, or a
mapping file). The reasons name the file, the line and the columns sought, never a value of the
file (its first line may be a patient's record when the header is missing).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from pathlib import Path

from benzoredux.tables import TableSchema

__all__ = ["why_not_canonical"]

_PROBE = 64 * 1024
"""How much of a file is looked at: the header and the first rows are enough."""


def why_not_canonical(path: str | os.PathLike[str], schema: TableSchema) -> str | None:
    """Why ``path`` is not a canonical file of ``schema`` (``None`` when it is one).

    >>> import tempfile
    >>> from benzoredux.tables import DISPENSINGS
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     good = Path(folder) / "d.csv"
    ...     _ = good.write_text("patient_id,date,atc,quantity\\np1,2025-01-02,N05BA04,30\\n")
    ...     bad = Path(folder) / "ais.csv"
    ...     _ = bad.write_bytes("Patiëntnr;Afleverdatum;ATC;Aantal\\n".encode("cp1252"))
    ...     why_not_canonical(good, DISPENSINGS), why_not_canonical(bad, DISPENSINGS)
    (None, 'not UTF-8 text (line 1 has a byte UTF-8 does not use)')
    """
    file = Path(path)
    if file.is_dir():
        return "a folder, not one canonical file"
    if file.suffix.lower() in {".parquet", ".pq"}:
        return None
    with file.open("rb") as handle:
        head = handle.read(_PROBE)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < _PROBE)
    except UnicodeDecodeError as error:
        line = head[: error.start].count(b"\n") + 1
        return f"not UTF-8 text (line {line} has a byte UTF-8 does not use)"
    lines = [line for line in io.StringIO(text) if line.strip()]
    if not lines:
        return "empty: no header line"
    header = next(csv.reader([lines[0]]))
    names = {name.strip() for name in header}
    missing = [name for name in schema.required if name not in names]
    if missing:
        return (
            f"its first line has no {', '.join(repr(m) for m in missing)} column"
            f"{'s' if len(missing) > 1 else ''} separated by ','"
        )
    return None
