"""The reader's last step: raw tables to a :class:`~benzoredux.reading.ReadResult`.

Every reader passes the same caller options (``duplicates``, ``extra_forms``,
``max_quantity``) on to
:func:`benzoredux.reading.build_result`; doing it here keeps their defaults in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benzoredux.reading import RawTable, ReadResult, build_result
from benzoredux.tables import MAX_QUANTITY

__all__ = ["reader_result"]


def reader_result(
    format: str,
    source: Path,
    raws: Sequence[RawTable],
    options: Mapping[str, Any],
    *,
    notes: Sequence[str] = (),
    ignored: Mapping[str, int] | None = None,
) -> ReadResult:
    """:func:`~benzoredux.reading.build_result` with the reader ``options`` the caller gave.

    ``duplicates`` defaults to ``"reject"``, ``extra_forms`` to none and ``max_quantity`` to
    :data:`~benzoredux.tables.MAX_QUANTITY`.
    """
    return build_result(
        format,
        source,
        raws,
        duplicates=options.get("duplicates", "reject"),
        extra_forms=options.get("extra_forms"),
        max_quantity=options.get("max_quantity", MAX_QUANTITY),
        ignored=ignored,
        notes=notes,
    )
