"""Checking a patients table's BSNs and postcodes, as warnings with line numbers.

A BSN that fails the 11-test or a postcode that is no Dutch postcode is reported, never
refused: a practice may have odd data (a typing error in the GP system, a patient living
abroad) and the patient must still be selected and screened. The practice corrects the value
in its own system. Both checks are python-stdnum's (``stdnum.nl.bsn``: 9 digits, weights 9 to 2
and -1, sum divisible by 11; ``stdnum.nl.postcode``: four digits, the first not 0, and two
letters other than SA, SD and SS, which PostNL does not issue). A warning names the file, the
column and the lines, never the value (:doc:`/privacy`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

__all__ = ["IDENTIFIER_CHECKS", "identifier_warnings"]

LISTED_LINES = 10
"""At most this many line numbers per warning; the rest are counted."""


def _bsn_valid(value: str) -> bool:
    # The canonical column holds exactly 9 digits (readers pad 8-digit ones first).
    return len(value) == 9 and stdnum_bsn.is_valid(value)


IDENTIFIER_CHECKS: Mapping[str, tuple[Callable[[str], bool], str]] = {
    "bsn": (_bsn_valid, "the BSN fails the 11-test"),
    "postcode": (stdnum_postcode.is_valid, "the postcode is not a Dutch postcode (1234 AB)"),
}
"""Per canonical column: the check a value must pass and what a failing value is called."""


def _failing(values: pd.Series) -> Any:
    """A boolean mask of the filled cells failing their check; each distinct value is checked
    once (a patients table may have many rows, its distinct problems are few)."""
    check = IDENTIFIER_CHECKS[str(values.name)][0]
    text = values.astype(pd.StringDtype()).str.strip()
    filled = text.notna() & (text != "")
    distinct = text[filled].unique()
    bad = {value for value in distinct if not check(str(value))}
    return (filled & text.isin(bad)).fillna(False).to_numpy(dtype=bool)


def identifier_warnings(
    frame: pd.DataFrame,
    *,
    files: Sequence[str],
    lines: Sequence[Any],
    source_columns: Mapping[str, str] | None = None,
) -> list[str]:
    """One warning per file and column with BSNs or postcodes that fail their check.

    ``files`` and ``lines`` are aligned with ``frame`` (a line may be missing, for sources
    without lines); ``source_columns`` gives the export's name of a canonical column.

    >>> import pandas as pd
    >>> from benzoredux.reading.identifiers import identifier_warnings
    >>> frame = pd.DataFrame({"bsn": ["123456782", "123456789", None]})
    >>> identifier_warnings(frame, files=["patients.csv"] * 3, lines=[2, 3, 4])
    ["patients.csv, column 'bsn', line 3: the BSN fails the 11-test; the row is kept, correct \
the BSN in the practice's own system"]
    """
    names = source_columns or {}
    found: list[str] = []
    for column, (_, what) in IDENTIFIER_CHECKS.items():
        if column not in frame.columns:
            continue
        failing = _failing(frame[column])
        if not failing.any():
            continue
        at = pd.DataFrame({"file": list(files), "line": list(lines)})[failing]
        for file, group in at.groupby("file", sort=False):
            numbers = [int(n) for n in group["line"] if not pd.isna(n)]
            shown = ", ".join(map(str, numbers[:LISTED_LINES]))
            more = len(group) - min(len(numbers), LISTED_LINES)
            where = f"line {shown}" if len(numbers) == 1 else f"lines {shown}" if numbers else ""
            if more > 0:
                where += f"{' and ' if where else ''}{more} more row{'s' if more > 1 else ''}"
            label = names.get(column, column)
            named = f"column {label!r}" + (f" ({column})" if label != column else "")
            subject = what if len(group) == 1 else what.replace("the ", f"{len(group)} ", 1)
            found.append(
                f"{file}, {named}, {where}: {_plural(subject, len(group))}; the "
                f"{'row is' if len(group) == 1 else 'rows are'} kept, correct the "
                f"{column.upper() if column == 'bsn' else column} in the practice's own system"
            )
    return found


def _plural(subject: str, count: int) -> str:
    """``2 BSN fails ...`` as ``2 BSNs fail ...``."""
    if count == 1:
        return subject
    subject = subject.replace(" BSN fails", " BSNs fail", 1)
    return subject.replace(
        " postcode is not a Dutch postcode", " postcodes are not Dutch postcodes"
    )
