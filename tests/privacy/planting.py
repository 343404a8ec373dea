"""Planted personal data and a search for it in everything a run says.

The privacy tests write exports whose cells hold made-up names, BSNs (valid under the 11-test),
birth dates (in the formats exports use) and postcodes, in every column, drive the library and
the command line through their error paths, and then look for any planted value in every
message, note, warning, log record and exception text, with the exception's whole chain (what
``--debug`` prints). None may appear; the rejected-rows tables may hold them (they are patient
data, like the export).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from stdnum.nl import bsn as stdnum_bsn

NAME = "Vermeulenplant"
"""A family name no code, column name or message word contains."""
GIVEN_NAME = "Wijnandus"
BSNS = ("111222333", "123456782")
"""Two numbers that pass the BSN 11-test (checked below), the well-known examples (the first is
python-stdnum's) rather than numbers that might be someone's."""
BIRTH_DATE = dt.date(1937, 4, 17)
DATE_FORMATS = ("%d-%m-%Y", "%d-%m-%y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")
"""How exports write a birth date: Dutch day-first (two- and four-digit years), ISO, with
slashes or dots, and as eight digits."""
BIRTH_DATES = tuple(BIRTH_DATE.strftime(f) for f in DATE_FORMATS)
POSTCODES = ("9405 TQ", "9405TQ")

assert all(stdnum_bsn.is_valid(b) for b in BSNS)

PLANTED: tuple[str, ...] = (NAME, GIVEN_NAME, *BSNS, *BIRTH_DATES, *POSTCODES)
"""Every value the tests plant, in the forms they plant it."""

NEEDLES: tuple[str, ...] = (
    NAME,
    NAME[:8],  # a value cut short for a message is still a leak
    GIVEN_NAME,
    GIVEN_NAME[:7],
    *BSNS,
    *BIRTH_DATES,
    BIRTH_DATE.strftime("%Y/%m/%d"),
    BIRTH_DATE.strftime("%d %m %Y"),
    "9405 TQ",
    "9405TQ",
)
"""What must appear nowhere: the planted values, their beginnings and other renderings of the
birth date (a library may print a date it parsed as ISO); searched ignoring case."""

_NEEDLE = re.compile("|".join(re.escape(n) for n in sorted(NEEDLES, key=len, reverse=True)), re.I)


def leaks(text: str) -> list[str]:
    """The planted values (or their renderings) found in ``text``."""
    return sorted({m.group(0) for m in _NEEDLE.finditer(text)})


def exception_texts(error: BaseException | None) -> Iterator[str]:
    """Everything an exception can print: its text, its repr and the full traceback of it and
    of every exception in its ``__cause__``/``__context__`` chain (what ``--debug`` shows)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield str(error)
        yield repr(error)
        yield "".join(traceback.format_exception(error))
        report = getattr(getattr(error, "result", None), "report", None)
        if callable(report):
            yield str(report(limit=10**6))
        error = error.__cause__ or error.__context__


def log_texts(records: Iterable[logging.LogRecord]) -> Iterator[str]:
    """Each log record's message and the traceback it carries."""
    for record in records:
        yield record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            yield from exception_texts(record.exc_info[1])
        if record.exc_text:
            yield record.exc_text


def warning_texts(caught: Iterable[Any]) -> Iterator[str]:
    """Each caught warning's message."""
    for warning in caught:
        yield str(warning.message)


def assert_no_leak(texts: Iterable[str], where: str) -> None:
    """Fail naming the planted values found and a piece of text around the first one."""
    for text in texts:
        found = leaks(text)
        if found:
            match = _NEEDLE.search(text)
            assert match is not None
            start = max(match.start() - 160, 0)
            piece = text[start : match.end() + 80]
            raise AssertionError(f"{where}: planted value(s) {found} in a message:\n...{piece}")
