"""Reading a source (a vendor export, a FHIR bundle, ...) into the canonical tables.

:func:`read_source` is the one entry point: it finds the reader for the source among the
registered readers (plugins; :mod:`benzoredux.hookspecs`), lets it read, checks what it
returns, and in strict mode raises one report of *every* problem rather than the first.

Every reader hands back a :class:`~benzoredux.reading.result.ReadResult`: the canonical tables the
source has (dispensings, patients, episodes), the rejected rows with file, line or record,
column, value and reason, and counts that reconcile per table (``rows_read == rows_valid +
rows_rejected``): nothing is dropped without a trace. Readers build it with
:func:`~benzoredux.reading.raw.build_result` from the text cells of the source, so parsing,
validation (schemas, BSN 11-test) and duplicate detection are the same for every format,
built-in or not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benzoredux.errors import BenzoreduxError
from benzoredux.reading.mapping import SourceMapping, load_mapping
from benzoredux.reading.raw import (
    Duplicates,
)
from benzoredux.reading.result import (
    ReadError,
    ReadResult,
    UnknownFormatError,
)

__all__ = [
    "DEFAULT_MAPPING_FORMAT",
    "detect_format",
    "known_formats",
    "read_source",
]


DEFAULT_MAPPING_FORMAT = "delimited"
"""The reader a mapping file without ``format = ...`` is for: the generic delimited reader."""


# --- finding the reader -----------------------------------------------------------------------


def known_formats(plugins: Any = None) -> dict[str, str]:
    """Every registered reader's name and description."""
    from benzoredux.plugins import get_plugins

    readers = (plugins or get_plugins()).readers()
    return {name: reader.description for name, reader in readers.items()}


def _format_list(readers: Mapping[str, Any]) -> str:
    if not readers:
        return "no reader is registered (are the plugins blocked by BENZOREDUX_BLOCK_PLUGINS?)"
    return "known formats:\n" + "\n".join(
        f"  {name}: {reader.description}" for name, reader in readers.items()
    )


def detect_format(path: str | os.PathLike[str], plugins: Any = None) -> str:
    """The name of the registered reader most confident it can read ``path``.

    Raises :class:`~benzoredux.reading.result.UnknownFormatError` (listing every known format)
    when no reader claims the source, or when two or more are equally sure.
    """
    from benzoredux.plugins import PluginError, get_plugins

    source = Path(path)
    readers = (plugins or get_plugins()).readers()
    scores: dict[str, float] = {}
    for name, reader in readers.items():
        try:
            score = float(reader.detect(source))
        except Exception as error:
            raise PluginError(
                f"reader {name!r} failed to look at {source.name}: {type(error).__name__}: "
                f"{error} (detect() must return 0 for a source that is not its own)"
            ) from error
        if not 0.0 <= score <= 1.0:
            raise PluginError(f"reader {name!r}: detect() returned {score}, not 0 to 1")
        scores[name] = score
    best = max(scores.values(), default=0.0)
    if best <= 0:
        raise UnknownFormatError(
            f"{source.name}: no reader recognises this source; pass format=... (or "
            f"--format), or describe it in a mapping file; {_format_list(readers)}"
        )
    winners = [name for name, score in scores.items() if score == best]
    if len(winners) > 1:
        raise UnknownFormatError(
            f"{source.name}: the formats {', '.join(winners)} recognise this source equally "
            f"well; pass format=... to choose; {_format_list(readers)}"
        )
    return winners[0]


def read_source(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    mapping: str | os.PathLike[str] | Mapping[str, Any] | SourceMapping | None = None,
    strict: bool = True,
    duplicates: Duplicates = "reject",
    code_map: Mapping[str, str] | None = None,
    plugins: Any = None,
    **options: Any,
) -> ReadResult:
    """Read ``path`` (a file, or a folder for formats that come as several files).

    ``format`` forces a reader by name; otherwise the mapping file's ``format``, else the
    generic :data:`DEFAULT_MAPPING_FORMAT` reader when a mapping is given, else detection
    (:func:`detect_format`). ``strict`` (default) raises
    :class:`~benzoredux.reading.result.ReadError` listing every problem when any row is rejected;
    ``strict=False`` returns the usable rows and the rejected ones. ``code_map``
    (``"system|code"`` -> ATC) is for FHIR drug codings other than ATC. Other ``options`` are
    passed to the reader (a reader ignores the ones it does not know).
    """
    from benzoredux.plugins import PluginError, get_plugins

    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    active = plugins or get_plugins()
    readers = active.readers()
    parsed_mapping: SourceMapping | None
    if mapping is None or isinstance(mapping, SourceMapping):
        parsed_mapping = mapping
    else:
        parsed_mapping = load_mapping(mapping)
    chosen = format
    if chosen is None and parsed_mapping is not None:
        chosen = parsed_mapping.format or DEFAULT_MAPPING_FORMAT
    if chosen is None:
        chosen = detect_format(source, active)
    if chosen not in readers:
        raise UnknownFormatError(
            f"{source.name}: no reader called {chosen!r}; {_format_list(readers)}"
        )
    merged_code_map = {**(parsed_mapping.code_map if parsed_mapping else {}), **(code_map or {})}
    reader_options = {
        **options,
        "mapping": parsed_mapping,
        "strict": strict,
        "duplicates": duplicates,
        "code_map": merged_code_map,
    }
    try:
        result = readers[chosen].read(source, options=reader_options)
    except BenzoreduxError:
        raise
    except (OSError, UnicodeError) as error:
        raise ReadError(f"{source.name} ({chosen}): {error}") from error
    except Exception as error:
        raise PluginError(
            f"reader {chosen!r} failed on {source.name}: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(result, ReadResult):
        raise PluginError(
            f"reader {chosen!r} returned {type(result).__name__}, not a "
            "benzoredux.reading.ReadResult (build it with benzoredux.reading.build_result)"
        )
    if not result.reconciles:
        raise PluginError(
            f"reader {chosen!r}: the counts of its result do not reconcile "
            f"({', '.join(map(str, result.counts.values()))})"
        )
    if strict:
        result.raise_if_rejected()
    return result
