"""Fuzzing the tabular readers: hostile exports never crash a reader, lose a row or leak data.

Every case is a seeded, damaged export (``fuzzing.py`` says what is planted); each reader reads
each case leniently and strictly. The rules: only documented errors
(:class:`~benzoredux.reading.ReadError`, :class:`~benzoredux.reading.MappingFileError`), counts
that reconcile with the file (records after the header = rows read + blank rows), and no planted
name, BSN, birth date or postcode in any exception, note or report.

A few seconds in CI. A longer run (the figures on the reliability page)::

    BENZOREDUX_FUZZ_CASES=2000 python -m pytest -q -p no:cacheprovider \\
        tests/reading/test_fuzz_readers.py tests/reading/test_fuzz_mapping.py

``BENZOREDUX_FUZZ_REPORT=fuzz.txt`` appends each reader's outcomes (how many cases read, were
refused with a documented error, failed and where) to ``fuzz.txt``. ``BENZOREDUX_FUZZ_SEED``
moves the seeds (a nightly run can take new ones); a failure names the reader and seed, and
``fuzzing.reproduce(reader, seed, folder)`` writes and reads it again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .fuzzing import (
    READERS,
    Tally,
    cases_wanted,
    first_seed,
    make_case,
    read_case,
    write_tally,
)

CASES = cases_wanted(10)
"""Cases per reader (each read leniently and strictly); ``BENZOREDUX_FUZZ_CASES`` for more."""


@pytest.mark.parametrize("reader", READERS)
def test_hostile_exports_give_documented_errors_reconciled_counts_and_no_personal_data(
    reader: str, tmp_path: Path
) -> None:
    tally = Tally()
    for seed in range(first_seed(), first_seed() + CASES):
        folder = tmp_path / str(seed)
        case = make_case(reader, seed, folder)
        for strict in (False, True):
            tally.add(seed, read_case(case, strict=strict))
        shutil.rmtree(folder, ignore_errors=True)
    write_tally(f"{reader} ({CASES} cases, read leniently and strictly)", tally)
    assert not tally.failures, f"{reader}:\n{tally.describe()}"
    # The generator must exercise the readers, not only their refusals.
    assert tally.kinds["ok"] > 0, tally.describe()


def test_the_fuzzer_sees_a_crash_a_lost_row_and_a_leak(tmp_path: Path) -> None:
    """The checks themselves: each failure kind is recognised (a fuzzer that cannot fail
    proves nothing)."""
    from benzoredux.plugins import PluginError
    from benzoredux.reading import ReadError, read_source

    from .fuzzing import classify

    path = tmp_path / "d.csv"
    path.write_text("patient_id;date;atc;quantity\np1;01-02-2025;N05BA04;30\n\n")

    def crash() -> None:
        raise PluginError("reader 'x' failed") from KeyError("quantity")

    def leak() -> None:
        raise ReadError("d.csv, line 2: value 'Vermeulenplant'")

    def escape() -> None:
        raise AttributeError("'str' object has no attribute 'items'")

    assert classify(crash, None).kind == "wrapped"
    assert classify(leak, None).kind == "leak"
    assert classify(escape, None).kind == "raw"
    result = lambda: read_source(path, strict=False)  # noqa: E731 - a one-line reader
    assert classify(result, 2).kind == "ok"  # one row and one blank row
    assert classify(result, 3).kind == "counts"
