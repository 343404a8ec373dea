"""Helpers shared by the builders of the committed ``.docx`` templates (letters, handouts).

The default templates are built from code and committed; tests check that a rebuild gives the
same files. What makes a build reproducible (fixed zip dates and modes, optionally a part
replaced by fixed bytes) and how a builder is run from the command line lives here, once.
python-docx is imported by the builders themselves, not by this module.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ZIP_TIME", "build_main", "paragraphs", "reproducible_docx", "write_templates"]

ZIP_TIME = (2026, 1, 1, 0, 0, 0)
"""The date every member of a built template carries, so that a rebuild gives the same zip."""


def paragraphs(document: Any, *texts: str) -> None:
    """Add one plain paragraph (a single run, so Word keeps a ``{{ field }}`` whole) per text."""
    for text in texts:
        document.add_paragraph().add_run(text)


def reproducible_docx(document: Any, replace: Mapping[str, bytes] | None = None) -> bytes:
    """The document's bytes with fixed zip dates and modes, so a rebuild gives the same file.

    ``replace`` maps member names (``docProps/core.xml``) to the bytes written instead of what
    python-docx saved.
    """
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = source.read(info)
            if replace is not None and info.filename in replace:
                data = replace[info.filename]
            target.writestr(fixed, data)
    return out.getvalue()


def write_templates(built: Mapping[str, bytes], directory: Path) -> None:
    """Write each built template to ``directory`` (created if needed) under its file name."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in built.items():
        (directory / name).write_bytes(data)


def build_main(
    build_all: Callable[[Path], Mapping[str, bytes]],
    default_directory: Path,
    argv: list[str] | None = None,
) -> int:
    """Command line of a template builder: write the templates to ``default_directory``, or to
    the folder given as the only argument, and say which files were written."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else default_directory
    for name in build_all(directory):
        sys.stdout.write(f"wrote {directory / name}\n")
    return 0
