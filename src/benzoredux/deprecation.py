"""Old import paths that moved, kept working for one release with a :class:`DeprecationWarning`.

Adapter authors were told to import from modules that now live in the
:mod:`benzoredux.reading` package. Each old module is a two-line alias that star-imports the new
module (so type checkers still see its names) and calls :func:`warn_moved`. The aliases are
removed in the release after the one that moved them; ``CHANGELOG.md`` says which.
"""

from __future__ import annotations

import warnings

__all__ = ["MOVED_MODULES", "warn_moved"]

MOVED_MODULES: dict[str, str] = {
    "benzoredux.canonical_files": "benzoredux.reading.canonical",
    "benzoredux.parsing": "benzoredux.reading.parsing",
    "benzoredux.raw_tables": "benzoredux.reading.raw",
    "benzoredux.read_result": "benzoredux.reading.result",
    "benzoredux.source_mapping": "benzoredux.reading.mapping",
    "benzoredux.text_tables": "benzoredux.reading.text",
}
"""Old module -> the module it moved to (everything an adapter needs is also in
:mod:`benzoredux.reading` itself)."""


def warn_moved(old: str) -> None:
    """Warn that module ``old`` moved (called by the alias module as it is imported)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: import from "
        f"benzoredux.reading (the module moved to {MOVED_MODULES[old]})",
        DeprecationWarning,
        stacklevel=3,
    )
