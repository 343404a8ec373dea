"""Fuzzing the mapping loader: a bad mapping file is a clear error naming the file and the key.

Each case is a seeded mapping file (``fuzzing.hostile_mapping``): known and unknown keys with
values of every TOML type, often a working mapping with one thing broken, sometimes invalid
TOML or TOML nested thousands deep. Loading it must give a
:class:`~benzoredux.reading.SourceMapping` or raise
:class:`~benzoredux.reading.MappingFileError` naming the file (and, unless the TOML itself is
broken, a key); a mapping that loads must then read a small export without a crash.

``BENZOREDUX_FUZZ_CASES`` (times ten here: loading is cheap), ``BENZOREDUX_FUZZ_SEED`` and
``BENZOREDUX_FUZZ_REPORT`` as in ``test_fuzz_readers.py``.
"""

from __future__ import annotations

import random
from pathlib import Path

from benzoredux.reading import MappingFileError, SourceMapping, load_mapping, read_source

from .fuzzing import (
    MAPPED_EXPORT,
    Outcome,
    Tally,
    cases_wanted,
    classify,
    first_seed,
    hostile_mapping,
    site_of,
    write_tally,
)

CASES = cases_wanted(15) * 10
_KEYS = ("format", "table", "file", "columns", "values", "code_map", "unknown key")
"""One of these appears in every message about a mapping file that is valid TOML."""


def test_bad_mapping_files_are_named_errors_and_good_ones_read(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(MAPPED_EXPORT)
    path = tmp_path / "praktijk.toml"
    tally = Tally()
    unnamed: list[tuple[int, str]] = []
    for seed in range(first_seed(), first_seed() + CASES):
        path.write_bytes(hostile_mapping(random.Random(f"mapping-{seed}")).encode("utf-8"))
        try:
            mapping = load_mapping(path)
        except MappingFileError as error:
            message = str(error)
            syntax = "not a valid TOML file" in message or "not UTF-8" in message
            if not message.startswith("praktijk.toml: ") or not (
                syntax or any(key in message for key in _KEYS)
            ):
                unnamed.append((seed, message))
            tally.add(seed, Outcome("documented"))
            continue
        except Exception as error:  # anything else is a crash of the loader
            tally.add(seed, Outcome("raw", site_of(error), f"{type(error).__name__}: {error}"))
            continue
        assert isinstance(mapping, SourceMapping)
        tally.add(seed, classify(lambda m=mapping: read_source(export, mapping=m, strict=False), 2))
    write_tally(f"mapping files ({CASES})", tally)
    assert not tally.failures, tally.describe()
    assert not unnamed, unnamed[:10]
    assert tally.kinds["ok"] > 0, tally.describe()
