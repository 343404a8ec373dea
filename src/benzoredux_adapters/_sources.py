"""Which files a reader reads: a single file, or the files of a folder with its suffixes.

Readers of multi-file exports (HIS, FHIR) accept a folder; only files whose suffix the format
knows are read, so a README next to the export is left alone.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

__all__ = ["source_files"]


def source_files(source: Path, suffixes: Collection[str]) -> list[Path]:
    """``[source]`` for a file; for a folder, its files with one of ``suffixes``, sorted.

    ``suffixes`` are lower case with the dot (``".json"``); a file's suffix is compared
    ignoring case.
    """
    if source.is_dir():
        return sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    return [source]
