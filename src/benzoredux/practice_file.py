"""The practice file (``practice.toml``): the practice, its GPs and pharmacists, read and checked.

The commands ``select`` and ``letters`` take ``--practice practice.toml``; the letters print what
it says under every letter and at the top of every page, so a mistake in it is repeated on a
hundred letters. :func:`read_practice` therefore checks the whole file before anything is made,
and reports *every* problem at once, each with the file, the entry and the key, in plain words:

* a key that is missing (``practice_id``, ``name``; ``gp_id`` and ``name`` of each GP;
  ``pharmacist_id`` and ``name`` of each pharmacist) or empty;
* a key the file format does not know, with the known key it probably meant
  (``adress``: did you mean ``address``?), so a typing error is not silently ignored;
* a value of the wrong type (a phone number without quotes is a number in TOML, and loses its
  leading zero), and ``[[gps]]`` or ``[[pharmacists]]`` written as something else than a list of
  tables;
* a role inside a name (``name = "A. de Vries, huisarts"``): the letters print the role
  (``huisarts``, ``apotheker, <pharmacy>``) on the line under the name, so the role would be
  printed twice (:func:`role_in_name`);
* a practice without GPs (nobody to sign), a GP or pharmacist id that occurs twice, an AGB code
  that is not 8 digits.

Messages name the file, entries and keys, never the names written in the file (the file
describes people, and messages end up in logs).

The file::

    practice_id = "de-linde"
    name = "Huisartsenpraktijk De Linde"
    address = "Lindelaan 12, 7411 AB Deventer"   # optional: the letterhead
    phone = "0570-123456"                        # optional: the letterhead and the letters
    place = "Deventer"                           # optional: the place in the date line

    [[gps]]
    gp_id = "huisarts-1"                         # as in the patients table's gp_id
    name = "A. de Vries"                         # as signed; the role is printed under it
    agb_code = "01234567"                        # optional

    [[pharmacists]]                              # optional: they co-sign with --pharmacists
    pharmacist_id = "apotheek-1"
    name = "M. Jansen"
    pharmacy_name = "Apotheek De Brug"           # optional: printed after "apotheker, "
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from benzoredux.errors import BenzoreduxError
from benzoredux.models import GeneralPractitioner, Pharmacist, Practice

__all__ = [
    "GP_KEYS",
    "PHARMACIST_KEYS",
    "PRACTICE_KEYS",
    "ROLE_WORDS",
    "PracticeFileError",
    "read_practice",
    "role_in_name",
]

PRACTICE_KEYS: Mapping[str, str] = {
    "practice_id": "the practice's (or FTO group's) id",
    "name": "the practice's name, at the top of every letter",
    "address": "the practice's address, at the top of every letter",
    "phone": "the practice's phone number, at the top of every letter and in the text",
    "place": "the place in the date line (Deventer, 12 januari 2026)",
    "gps": "the GPs, each in a [[gps]] table",
    "pharmacists": "the pharmacists who may co-sign, each in a [[pharmacists]] table",
}
"""The keys of the practice file, with what each holds."""

GP_KEYS: Mapping[str, str] = {
    "gp_id": "the GP's id, as the patients table's gp_id gives it",
    "name": "the GP's name as signed under the letter, without the role",
    "agb_code": "the GP's 8-digit AGB code",
    "practice_id": "the practice the GP works in, for an FTO group of several practices",
}
"""The keys of a ``[[gps]]`` table."""

PHARMACIST_KEYS: Mapping[str, str] = {
    "pharmacist_id": "the pharmacist's id",
    "name": "the pharmacist's name as signed under the letter, without the role",
    "pharmacy_name": "the pharmacy, printed after 'apotheker, '",
    "agb_code": "the pharmacist's 8-digit AGB code",
}
"""The keys of a ``[[pharmacists]]`` table."""

_REQUIRED_PRACTICE = ("practice_id", "name")
_REQUIRED_GP = ("gp_id", "name")
_REQUIRED_PHARMACIST = ("pharmacist_id", "name")

ROLE_WORDS = ("huisarts", "apotheker", "arts", "haio", "waarnemer", "praktijkhouder")
"""Words for a role that do not belong in a signatory's name: the letters print the role
(``huisarts``; ``apotheker, <pharmacy>``) under the name themselves."""

_ROLES = "|".join(ROLE_WORDS)
# A role written in lower case anywhere ("A. de Vries, huisarts", "huisarts A. de Vries"): as
# lower-case words these are never part of a Dutch name.
_LOWER_ROLE = re.compile(rf"(?<![\w-])({_ROLES})(?![\w-])")
# A role in any case after a comma, bracket, slash or a free-standing dash ("A. de Vries,
# Huisarts", "A. de Vries (Huisarts)", "A. de Vries - Apotheker"), or at the start before a
# name ("Huisarts A. de Vries"). "Arts" is a Dutch family name: only the first form catches it
# in capitals, so "J. Arts" and "A. de Vries-Arts" are names, not roles.
_SEPARATED_ROLE = re.compile(rf"(?i)(?:[,(/|]|\s[-\u2013\u2014])\s*({_ROLES})(?![\w-])")
_LEADING_ROLE = re.compile(r"(?i)^\s*(huisarts|apotheker|haio)\s+\S")

_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "true/false"),
    (int, "a number"),
    (float, "a number"),
    (dt.datetime, "a date and time"),
    (dt.date, "a date"),
    (dt.time, "a time"),
    (str, "text"),
    (list, "a list"),
    (dict, "a table"),
)


class PracticeFileError(BenzoreduxError, ValueError):
    """The practice file cannot be used; the message names the file, the entry and the key of
    every problem found (and never a name written in the file)."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = tuple(problems)
        if len(problems) == 1:
            message = f"{file}: {problems[0]}"
        else:
            listed = "; ".join(f"({n}) {p}" for n, p in enumerate(problems, start=1))
            message = f"{file}: {len(problems)} problems: {listed}"
        super().__init__(message)


def role_in_name(name: str) -> str | None:
    """The role word inside a signatory's name (lower case), or ``None`` for a plain name.

    The letters print the role under the name; a name that holds it too prints it twice
    ("A. de Vries, huisarts" / "huisarts").

    >>> from benzoredux.practice_file import role_in_name
    >>> role_in_name("A. de Vries, huisarts"), role_in_name("A. de Vries (Apotheker)")
    ('huisarts', 'apotheker')
    >>> role_in_name("dr. A. de Vries"), role_in_name("J. Arts"), role_in_name("B. de Vries-Arts")
    (None, None, None)
    """
    for pattern in (_LOWER_ROLE, _SEPARATED_ROLE, _LEADING_ROLE):
        found = pattern.search(name)
        if found:
            return found.group(1).lower()
    return None


def _kind(value: object) -> str:
    for python_type, words in _TOML_TYPES:
        if isinstance(value, python_type):
            return words
    return type(value).__name__


def _did_you_mean(key: str, known: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{key}'{hint}; the keys here are {', '.join(known)}"


class _Checker:
    """Collects the problems of one practice file, table by table."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def table(
        self,
        data: Mapping[str, Any],
        where: str,
        known: Mapping[str, str],
        required: tuple[str, ...],
        *,
        nested: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """The table's known values (text stripped); problems are collected, not raised."""
        values: dict[str, Any] = {}
        for key in data:
            if key not in known:
                self.problems.append(f"{where}{_did_you_mean(key, known)}")
        for key in required:
            if key not in data:
                self.problems.append(f"{where}key '{key}' is missing: {known[key]}")
        for key, value in data.items():
            if key not in known or key in nested:
                continue
            if not isinstance(value, str):
                plain = isinstance(value, int | float) and not isinstance(value, bool)
                example = f'{key} = "{value}"' if plain else ""
                self.problems.append(
                    f"{where}key '{key}' must be text in quotes, not {_kind(value)}"
                    + (f" (write {example})" if example else "")
                )
                continue
            if not value.strip():
                if key in required:
                    self.problems.append(f"{where}key '{key}' is empty: {known[key]}")
                continue
            values[key] = value.strip()
        return values

    def entries(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        """The tables of ``[[key]]``, or none (with a problem) when it is written otherwise."""
        value = data.get(key, [])
        if isinstance(value, dict):
            self.problems.append(
                f"'{key}' is a single table ([{key}]); write each entry as [[{key}]], with "
                "double brackets"
            )
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problems.append(
                f"'{key}' must be a list of [[{key}]] tables, each with its own keys, not "
                f"{_kind(value)}"
            )
            return []
        return cast(list[Mapping[str, Any]], value)

    def person(
        self, values: dict[str, Any], where: str, id_key: str, seen: set[str], role: str
    ) -> None:
        """Checks shared by GPs and pharmacists: the AGB code, a repeated id, a role in the
        name."""
        agb = values.get("agb_code")
        if agb is not None and not re.fullmatch(r"[0-9]{8}", agb):
            self.problems.append(f"{where}key 'agb_code' must be 8 digits")
            del values["agb_code"]
        identifier = values.get(id_key)
        if identifier is not None:
            if identifier in seen:
                self.problems.append(f"{where}{id_key} '{identifier}' occurs more than once")
            seen.add(identifier)
        found = role_in_name(values.get("name", ""))
        if found is not None:
            self.problems.append(
                f"{where}key 'name' holds the role '{found}'; the letters print the role "
                f"('{role}') under the name already, so it would appear twice. Give the name "
                'only, for example name = "A. de Vries"'
            )


def _where(kind: str, number: int, values: Mapping[str, Any], id_key: str) -> str:
    identifier = values.get(id_key)
    named = f" ({id_key} '{identifier}')" if identifier else ""
    return f"[[{kind}]] no. {number}{named}: "


def read_practice(path: str | os.PathLike[str]) -> tuple[Practice, str | None]:
    """The :class:`~benzoredux.models.Practice` a practice file describes, and its ``place``.

    Every problem of the file is reported at once in a :class:`PracticeFileError` (see the
    module docstring for what is checked); nothing is guessed or silently dropped.
    """
    file = Path(path)
    name = file.name
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PracticeFileError(
            name, ["is not UTF-8 text; save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)"]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PracticeFileError(
            name,
            [
                f"is not a valid TOML file: {error}. Text values need double quotes "
                '(name = "Huisartsenpraktijk De Linde")'
            ],
        ) from None
    check = _Checker()
    top = check.table(data, "", PRACTICE_KEYS, _REQUIRED_PRACTICE, nested=("gps", "pharmacists"))
    gps: list[GeneralPractitioner] = []
    seen: set[str] = set()
    gp_tables = check.entries(data, "gps")
    if not gp_tables and data.get("gps", []) == []:
        check.problems.append(
            "no [[gps]]: list each GP of the practice (gp_id and name), who sign the letters"
        )
    for number, table in enumerate(gp_tables, start=1):
        where = _where("gps", number, table, "gp_id")
        values = check.table(table, where, GP_KEYS, _REQUIRED_GP)
        check.person(values, where, "gp_id", seen, "huisarts")
        if all(k in values for k in _REQUIRED_GP):
            gps.append(GeneralPractitioner(**values))
    pharmacists: list[Pharmacist] = []
    seen = set()
    for number, table in enumerate(check.entries(data, "pharmacists"), start=1):
        where = _where("pharmacists", number, table, "pharmacist_id")
        values = check.table(table, where, PHARMACIST_KEYS, _REQUIRED_PHARMACIST)
        check.person(values, where, "pharmacist_id", seen, "apotheker")
        if all(k in values for k in _REQUIRED_PHARMACIST):
            pharmacists.append(Pharmacist(**values))
    if check.problems:
        raise PracticeFileError(name, check.problems)
    practice = Practice(
        practice_id=top["practice_id"],
        name=top["name"],
        address=top.get("address"),
        phone=top.get("phone"),
        gps=cast(Any, gps),
        pharmacists=cast(Any, pharmacists),
    )
    return practice, top.get("place")
