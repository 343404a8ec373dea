"""G-Standaard product codes to ATC codes, through the practice's own table.

Dutch pharmacies and GP systems code a product by the G-Standaard (Z-Index, KNMP): the trade
product (HPK, ``urn:oid:2.16.840.1.113883.2.4.4.7``), the prescription product (PRK,
``urn:oid:2.16.840.1.113883.2.4.4.10``) and the generic product (GPK,
``urn:oid:2.16.840.1.113883.2.4.4.1``). Each HPK belongs to one PRK and each PRK to one GPK
(Z-Index file 031 gives the PRK of an HPK, file 052 the GPK of a PRK), and the ATC code belongs
to the GPK (file 711). The selection needs the ATC code. The G-Standaard is licensed, so this
library cannot ship it: the practice or its pharmacy supplies a table made from the G-Standaard
files its own system already has (docs/howto/read-mp9.rst says how), read here.

Why a table of links and not one ATC per code: a source may carry only the HPK of a product
(the trade product the pharmacy handed over), while the ATC code is kept with the GPK. A table
that gives the HPK's PRK, the PRK's GPK and the GPK's ATC code resolves all three, and a
pharmacy's extract of three files stays three small joins instead of one large one.

The table is a CSV file (:func:`load_code_table`) or a mapping file's ``[code_map]`` section
(:func:`code_table_from_map`); both become a :class:`CodeTable`. Codes are compared as numbers
for the G-Standaard systems (``00038644`` in a Z-Index file is ``38644`` in an MP9 message):
the files write the 8 positions with leading zeros, the messages do not.

Magistral preparations (a pharmacy's own preparations) have no national code. Z-Index keeps
the range 90000000 to 99999999 free (its "vrije range": it assigns no ZI numbers there), and
pharmacies code their own preparations in that 90000000 series, so a product code there is one
a pharmacy gave itself (:func:`is_own_code`). It names a product only within that pharmacy, and
the FHIR reader reads its ATC code from the practice's table or from the preparation's single
active ingredient, never from a national meaning the number does not have.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import Attribute, field, frozen

from benzoredux.reading import MappingFileError, decode, sniff_separator

__all__ = [
    "CODE_COLUMNS",
    "GPK_SYSTEM",
    "G_STANDAARD_SYSTEMS",
    "HPK_SYSTEM",
    "OWN_CODES",
    "PIECE_UNIT",
    "PRK_SYSTEM",
    "UNIT_SYSTEM",
    "CodeTable",
    "code_key",
    "code_table_from_map",
    "is_own_code",
    "load_code_table",
]

HPK_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.7"
"""G-Standaard trade product (handelsproduct, HPK)."""
PRK_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.10"
"""G-Standaard prescription product (prescriptieproduct, PRK)."""
GPK_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.1"
"""G-Standaard generic product (generiek product, GPK)."""
G_STANDAARD_SYSTEMS: Mapping[str, str] = {"hpk": HPK_SYSTEM, "prk": PRK_SYSTEM, "gpk": GPK_SYSTEM}
"""The product levels a table covers, by their column name, most specific first."""
UNIT_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.1.900.2"
"""G-Standaard base units: the unit a quantity counts (MP9 writes it next to the UCUM unit)."""
PIECE_UNIT = "245"
"""The G-Standaard base unit "stuk" (a piece: a tablet, a capsule, a suppository)."""
OWN_CODES = range(90_000_000, 100_000_000)
"""Z-Index's free range (90000000 to 99999999), where pharmacies code their own products."""
CODE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "hpk": ("hpk", "hpkode"),
    "prk": ("prk", "prkode"),
    "gpk": ("gpk", "gpkode"),
    "atc": ("atc", "atcode", "atc-code", "atc code"),
}
"""The columns of a CSV table (any case), with the Z-Index field names as alternatives."""

Key = tuple[str, str]
"""A coding as ``(system, code)``; the code normalised by :func:`code_key`."""

_ATC = re.compile(r"[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?")
"""An ATC code of any level (``N``, ``N05``, ``N05B``, ``N05BA``, ``N05BA01``)."""
_CODE = re.compile(r"[0-9]{1,8}")
"""A G-Standaard code as the files write it: up to 8 digits (7 and a check digit)."""


def code_key(system: str | None, code: str | None) -> Key:
    """The key of a coding: the system (``"None"`` when missing, as a code map writes it) and
    the code, stripped; a G-Standaard code of digits without its leading zeros.

    >>> from benzoredux_adapters.gstandaard import code_key
    >>> code_key("urn:oid:2.16.840.1.113883.2.4.4.1", "00038644")
    ('urn:oid:2.16.840.1.113883.2.4.4.1', '38644')
    """
    text = (code or "").strip()
    if system in G_STANDAARD_SYSTEMS.values() and text.isascii() and text.isdigit():
        # Not int(): a code of thousands of digits (a damaged file) would exceed Python's
        # limit on converting long digit strings, and crash the read.
        text = text.lstrip("0") or "0"
    return (str(system), text)


def is_own_code(system: str | None, code: str | None) -> bool:
    """Whether ``code`` is a G-Standaard product code in Z-Index's free range (90000000 to
    99999999): a code a pharmacy gave its own product, such as a magistral preparation.

    >>> from benzoredux_adapters.gstandaard import is_own_code
    >>> is_own_code("urn:oid:2.16.840.1.113883.2.4.4.7", "90001234")
    True
    """
    text = (code or "").strip()
    if system not in G_STANDAARD_SYSTEMS.values() or not (text.isascii() and text.isdigit()):
        return False
    digits = text.lstrip("0")  # not int(): see code_key
    return len(digits) <= len(str(OWN_CODES.stop)) and int(digits or "0") in OWN_CODES


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _is_key(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


def _check_atc(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise TypeError("atc must be a mapping of (system, code) to an ATC code")
    for key, atc in value.items():
        if not _is_key(key) or not isinstance(atc, str) or not atc:
            raise TypeError("atc must map (system, code) pairs to ATC codes (text)")


def _links(value: Any) -> Any:
    """A mapping of links with each value a tuple (one target may be given bare)."""
    if not isinstance(value, Mapping):
        return value
    return {k: (v,) if _is_key(v) else tuple(v) for k, v in value.items()}


def _check_links(_: Any, __: Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise TypeError("links must be a mapping of (system, code) to (system, code) pairs")
    for key, targets in value.items():
        if not _is_key(key) or not all(_is_key(t) for t in targets):
            raise TypeError("links must map (system, code) pairs to (system, code) pairs")


@frozen(kw_only=True)
class CodeTable:
    """Product codings to ATC codes: direct entries and links to a coding that has one.

    ``atc`` gives a coding its ATC code; ``links`` say a coding belongs to another (an HPK to
    its PRK, a PRK to its GPK), whose ATC code it shares. Keys are :func:`code_key` pairs.
    """

    atc: Mapping[Key, str] = field(factory=dict, converter=_plain, validator=_check_atc)
    """``(system, code)`` -> ATC code (upper case)."""
    links: Mapping[Key, tuple[Key, ...]] = field(
        factory=dict, converter=_links, validator=_check_links
    )
    """``(system, code)`` -> the ``(system, code)`` pairs it belongs to (an HPK: its PRK, and
    its GPK when a row gives that directly)."""
    source: str = field(default="code table")
    """Where the table came from, for messages (a file name)."""

    def atc_of(self, system: str | None, code: str | None) -> str | None:
        """The ATC code of a coding: its own entry, else that of what it links to (an HPK's
        PRK, then that PRK's GPK), else ``None``. A loop of links ends where it repeats.

        >>> from benzoredux_adapters.gstandaard import GPK_SYSTEM, HPK_SYSTEM, code_table_from_map
        >>> hpk, gpk = HPK_SYSTEM, GPK_SYSTEM
        >>> table = code_table_from_map({
        ...     f"{hpk}|1000017": f"{gpk}|100013",
        ...     f"{gpk}|100013": "n05ba04",
        ... })
        >>> table.atc_of(hpk, "01000017")
        'N05BA04'
        """
        queue = [code_key(system, code)]
        seen: set[Key] = set()
        while queue:
            key = queue.pop(0)
            if key in seen:
                continue
            seen.add(key)
            found = self.atc.get(key)
            if found:
                return found
            queue.extend(self.links.get(key, ()))
        return None

    def merged(self, over: CodeTable) -> CodeTable:
        """This table with ``over``'s entries added; where both have a coding, ``over`` wins
        (the entries a practice wrote in its mapping file over those of its CSV table)."""
        return CodeTable(
            atc={**self.atc, **over.atc},
            links={**self.links, **over.links},
            source=f"{over.source} and {self.source}",
        )

    def __len__(self) -> int:
        return len(self.atc) + len(self.links)


def code_table_from_map(code_map: Mapping[str, str], source: str = "code map") -> CodeTable:
    """The table of a code map (``read_source(code_map=...)`` or a mapping file's
    ``[code_map]``): ``"system|code" = "ATC"`` gives a coding its ATC code, and
    ``"system|code" = "system|code"`` links it to another coding (an HPK to its PRK or GPK).

    >>> from benzoredux_adapters.gstandaard import code_table_from_map
    >>> code_table_from_map({"http://example.org/rx|42": " n05cd07 "}).atc
    {('http://example.org/rx', '42'): 'N05CD07'}
    """
    atc: dict[Key, str] = {}
    links: dict[Key, tuple[Key, ...]] = {}
    for key, value in code_map.items():
        system, _, code = str(key).partition("|")
        text = str(value).strip()
        if "|" in text:
            target_system, _, target_code = text.partition("|")
            links[code_key(system, code)] = (code_key(target_system.strip(), target_code),)
        elif text:
            atc[code_key(system, code)] = text.upper()
    return CodeTable(atc=atc, links=links, source=source)


# --- the CSV table ----------------------------------------------------------------------------


def load_code_table(path: str | Path) -> CodeTable:
    """Read a G-Standaard table: a CSV file with a header line naming the columns ``gpk``,
    ``prk``, ``hpk`` and ``atc`` (any case; also the Z-Index names ``GPKODE``, ``PRKODE``,
    ``HPKODE``, ``ATCODE``; other columns, such as a product name, are left alone).

    Separated by ``,``, ``;`` or a tab (found from the header line), UTF-8 (with or without
    BOM) or Windows-1252. ``atc`` and at least one code column must be there. Each row is one
    product, with the codes it knows: its ATC code (if any) holds for every code on the row,
    and its codes are linked (the HPK to the PRK and GPK, the PRK to the GPK), so a row
    ``gpk,prk,hpk,atc`` or three rows ``hpk,prk`` / ``prk,gpk`` / ``gpk,atc`` say the same.
    A row with one code and no ATC code says nothing and is skipped (a product the
    G-Standaard gives no ATC code, such as a medical device).

    Refused, with a :class:`~benzoredux.reading.mapping.MappingFileError` naming the file, the
    line and the column but never a value from it (a wrong file could hold anything): a missing
    column, a code that is not 1 to 8 digits, an ATC code that is not one, a row with more or
    fewer fields than the header, and a contradiction, which the table cannot decide: one code
    given two different ATC codes, or linked to two different codes of the same level.
    """
    file = Path(path)
    name = file.name
    try:
        data = file.read_bytes()
    except OSError as error:
        raise MappingFileError(
            f"{name}: the G-Standaard table cannot be read ({error.strerror or error})"
        ) from None
    try:
        text, _ = decode(data, "auto", name)
    except Exception as error:  # TextFileError: the message names the file and line
        raise MappingFileError(str(error)) from None
    lines = text.splitlines()
    header_at = next((n for n, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise MappingFileError(f"{name}: the G-Standaard table is empty")
    separator = sniff_separator(lines[header_at])
    rows = csv.reader(lines[header_at:], delimiter=separator, strict=True)
    try:
        header = next(rows)
    except csv.Error:
        raise MappingFileError(
            f"{name}, line {header_at + 1}: the header line cannot be split"
        ) from None
    columns = _columns(name, header_at + 1, header)
    atc: dict[Key, tuple[str, int]] = {}
    links: dict[tuple[Key, str], tuple[Key, int]] = {}
    number = header_at + 1
    try:
        for number, fields in enumerate(rows, start=header_at + 2):
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise MappingFileError(
                    f"{name}, line {number}: {len(fields)} fields, the header has {len(header)}"
                )
            _add_row(name, number, fields, columns=columns, atc=atc, links=links)
    except csv.Error:
        raise MappingFileError(
            f"{name}, line {number + 1}: the line cannot be split (a quote not closed?)"
        ) from None
    targets: dict[Key, tuple[Key, ...]] = {}
    for (specific, _), (generic, _) in links.items():
        targets[specific] = (*targets.get(specific, ()), generic)
    table = CodeTable(atc={k: v for k, (v, _) in atc.items()}, links=targets, source=name)
    _check_agreement(name, table, atc)
    return table


def _check_agreement(name: str, table: CodeTable, atc: Mapping[Key, tuple[str, int]]) -> None:
    """Refuse a table in which a code's own ATC code differs from that of a code it belongs
    to (an HPK given N05BA04 whose GPK has N05BA12): which one holds cannot be told."""
    for key, (code, line) in atc.items():
        for target in table.links.get(key, ()):
            other = table.atc_of(*target)
            if other is not None and other != code:
                raise MappingFileError(
                    f"{name}, line {line}: the {_level(key)} is given the ATC code {code}, "
                    f"but the {_level(target)} it belongs to has {other}; the table must say one"
                )


def _columns(name: str, line: int, header: list[str]) -> dict[str, int]:
    """Position of each known column in the header; refuses a missing or doubled one."""
    found: dict[str, int] = {}
    for position, cell in enumerate(header):
        label = cell.strip().lower()
        for column, names in CODE_COLUMNS.items():
            if label in names:
                if column in found:
                    raise MappingFileError(
                        f"{name}, line {line}: the column {column!r} is there twice"
                    )
                found[column] = position
    codes = [c for c in G_STANDAARD_SYSTEMS if c in found]
    if "atc" not in found or not codes:
        raise MappingFileError(
            f"{name}, line {line}: a G-Standaard table needs an 'atc' column and at least "
            "one of 'gpk', 'prk' and 'hpk' (the Z-Index names ATCODE, GPKODE, PRKODE and "
            "HPKODE also do)"
        )
    return found


def _add_row(
    name: str,
    number: int,
    fields: list[str],
    *,
    columns: Mapping[str, int],
    atc: dict[Key, tuple[str, int]],
    links: dict[tuple[Key, str], tuple[Key, int]],
) -> None:
    """Enter one row's ATC code and links, refusing what contradicts an earlier row."""
    codes: list[Key] = []
    for level, system in G_STANDAARD_SYSTEMS.items():
        if level not in columns:
            continue
        cell = fields[columns[level]].strip()
        if not cell:
            continue
        if not _CODE.fullmatch(cell):
            raise MappingFileError(
                f"{name}, line {number}, column {level!r}: not a G-Standaard code (1 to 8 digits)"
            )
        codes.append(code_key(system, cell))
    code = fields[columns["atc"]].strip().upper()
    if code and not _ATC.fullmatch(code):
        raise MappingFileError(
            f"{name}, line {number}, column 'atc': not an ATC code (such as N05BA04)"
        )
    if code:
        for key in codes:
            before = atc.setdefault(key, (code, number))
            if before[0] != code:
                raise MappingFileError(
                    f"{name}, lines {before[1]} and {number}: one {_level(key)} is given two "
                    f"ATC codes ({before[0]} and {code}); the table must say one"
                )
    # Each code links to the more generic codes on the row (HPK -> PRK -> GPK).
    for position, specific in enumerate(codes):
        for generic in codes[position + 1 :]:
            _link(name, number, links, specific, generic)


def _link(
    name: str,
    number: int,
    links: dict[tuple[Key, str], tuple[Key, int]],
    specific: Key,
    generic: Key,
) -> None:
    """Link a code to a more generic one, refusing a second, different one of that level."""
    before_link = links.setdefault((specific, generic[0]), (generic, number))
    if before_link[0] != generic:
        raise MappingFileError(
            f"{name}, lines {before_link[1]} and {number}: one {_level(specific)} "
            f"belongs to two different {_level(generic)}s; the table must say one"
        )


def _level(key: Key) -> str:
    return next(
        (level.upper() for level, system in G_STANDAARD_SYSTEMS.items() if system == key[0]),
        "code",
    )
