"""Coding systems and the code data the rules are made of.

The rules of the minimal intervention are written in codes: ATC groups decide what counts as a
benzodiazepine and what makes co-medication "complex", WHO defined daily doses turn milligrams
into DDDs, ICPC codes decide the GP route and screening. The codes themselves live in CSV files
under ``benzoredux/data`` (each with its source in a comment header), not in Python, so that a
reviewer can check them against the source document line by line and so that updating a DDD is a
data change.

Files are read on first use and cached; ``import benzoredux`` reads none of them.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from typing import Any, Literal, get_args

import narwhals as nw
from attrs import Attribute, field, frozen

__all__ = [
    "ATCCode",
    "ATCGroup",
    "BenzodiazepineSubstance",
    "ICPCCode",
    "ICPCEntry",
    "atc_groups",
    "benzodiazepine_groups",
    "benzodiazepine_substances",
    "complex_comedication_groups",
    "complex_groups_of",
    "defined_daily_dose_mg",
    "dosage_forms",
    "icpc_codes",
    "is_benzodiazepine",
]

ATC_PATTERN = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
"""A substance-level (level 5) ATC code: letter, two digits, two letters, two digits."""

ICPC_PATTERN = re.compile(r"^[A-Z][0-9]{2}(?:\.[0-9]{1,2})?$")
"""An ICPC-1 code as Dutch GP systems store it: ``P06``, or a Dutch subcode such as ``A99.01``."""

GroupRole = Literal["benzodiazepine", "complex_comedication"]
ICPCUse = Literal["gp_route", "other_indication", "psychosocial", "serious_comorbidity", "terminal"]


def normalise_code(value: str) -> str:
    """Trim and upper-case a code as exports write it (``' n05ba01 '`` -> ``'N05BA01'``)."""
    return value.strip().upper()


def _check_pattern(
    pattern: re.Pattern[str], what: str
) -> Callable[[object, Attribute[str], str], None]:
    def check(_instance: object, _attribute: Attribute[str], value: str) -> None:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a well-formed {what}")

    return check


@frozen(order=True)
class ATCCode:
    """A substance-level ATC code (7 characters), normalised to upper case.

    >>> ATCCode("n05ba01")
    ATCCode(value='N05BA01')
    >>> ATCCode("N05BA")
    Traceback (most recent call last):
    ...
    ValueError: 'N05BA' is not a well-formed ATC code (7 characters, such as N05BA01)
    """

    value: str = field(
        converter=normalise_code,
        validator=_check_pattern(ATC_PATTERN, "ATC code (7 characters, such as N05BA01)"),
    )

    def __str__(self) -> str:
        return self.value


@frozen(order=True)
class ICPCCode:
    """An ICPC-1 code (``P06``) or Dutch subcode (``P74.01``), normalised to upper case."""

    value: str = field(
        converter=normalise_code,
        validator=_check_pattern(ICPC_PATTERN, "ICPC code (such as P06 or A99.01)"),
    )

    @property
    def rubric(self) -> str:
        """The three-character rubric a subcode belongs to (``P74.01`` -> ``P74``)."""
        return self.value[:3]

    def __str__(self) -> str:
        return self.value


@frozen
class ATCGroup:
    """A group of ATC codes defined by a prefix, minus explicit exceptions.

    The FTO module defines its groups this way: "N02A opioids, except N02AA59".
    """

    group: str
    role: GroupRole
    prefix: str
    except_codes: frozenset[str]
    description: str

    def contains(self, atc: str) -> bool:
        """Whether the (normalised) code ``atc`` belongs to this group."""
        return atc.startswith(self.prefix) and atc not in self.except_codes

    def expression(self, column: str) -> nw.Expr:
        """The same test as :meth:`contains`, as a dataframe expression on ``column``."""
        expr = nw.col(column).str.starts_with(self.prefix)
        for code in sorted(self.except_codes):
            expr = expr & (nw.col(column) != code)
        return expr


@frozen
class BenzodiazepineSubstance:
    """One substance of ATC groups N05BA, N05CD or N05CF with its WHO oral DDD (if any)."""

    atc: ATCCode
    substance: str
    ddd_mg: float | None
    note: str


@frozen
class ICPCEntry:
    """An ICPC code the library uses, with its English and Dutch titles and its use."""

    code: ICPCCode
    title_en: str
    title_nl: str
    use: ICPCUse


def _data_rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of a package data CSV, skipping the ``#`` comment lines that cite its source."""
    text = resources.files("benzoredux").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    yield from csv.DictReader(lines)


def _one_of(value: str, kind: Any) -> Any:
    """``value`` if it is one of the ``Literal`` type ``kind``'s values (a data-file check)."""
    allowed = get_args(kind)
    if value not in allowed:
        raise ValueError(f"code data: {value!r} is not one of {', '.join(allowed)}")
    return value


@functools.cache
def atc_groups() -> tuple[ATCGroup, ...]:
    """All ATC groups of the selection rules (``data/atc_groups.csv``)."""
    return tuple(
        ATCGroup(
            group=row["group"],
            role=_one_of(row["role"], GroupRole),
            prefix=row["prefix"],
            except_codes=frozenset(row["except_codes"].split()),
            description=row["description"],
        )
        for row in _data_rows("atc_groups.csv")
    )


def benzodiazepine_groups() -> tuple[ATCGroup, ...]:
    """N05BA, N05CD and N05CF: the groups whose dispensed units count towards chronic use."""
    return tuple(g for g in atc_groups() if g.role == "benzodiazepine")


def complex_comedication_groups() -> tuple[ATCGroup, ...]:
    """L, M03, M09A (not M09AA01), N02A (not N02AA59), N03 and N05A."""
    return tuple(g for g in atc_groups() if g.role == "complex_comedication")


def is_benzodiazepine(atc: str | ATCCode) -> bool:
    """Whether a code counts as a benzodiazepine for the selection.

    >>> is_benzodiazepine("N05CF02")  # zolpidem
    True
    >>> is_benzodiazepine("N03AE01")  # clonazepam is an anti-epileptic here
    False
    """
    code = normalise_code(str(atc))
    return any(g.contains(code) for g in benzodiazepine_groups())


def complex_groups_of(atc: str | ATCCode) -> tuple[str, ...]:
    """The complex co-medication groups a code falls in (usually none or one).

    >>> complex_groups_of("N02AA59"), complex_groups_of("N02AA01")
    ((), ('N02A',))
    """
    code = normalise_code(str(atc))
    return tuple(g.group for g in complex_comedication_groups() if g.contains(code))


@functools.cache
def benzodiazepine_substances() -> tuple[BenzodiazepineSubstance, ...]:
    """Every substance of N05BA, N05CD and N05CF in the WHO index, with its oral DDD."""
    return tuple(
        BenzodiazepineSubstance(
            atc=ATCCode(row["atc"]),
            substance=row["substance"],
            ddd_mg=float(row["ddd_mg"]) if row["ddd_mg"] else None,
            note=row["note"],
        )
        for row in _data_rows("benzodiazepine_ddd.csv")
    )


@functools.cache
def _ddd_table() -> Mapping[str, float]:
    return {s.atc.value: s.ddd_mg for s in benzodiazepine_substances() if s.ddd_mg is not None}


def defined_daily_dose_mg(atc: str | ATCCode) -> float | None:
    """The WHO oral DDD in mg of a benzodiazepine, or ``None`` when the index gives none.

    >>> defined_daily_dose_mg("N05BA04")  # oxazepam
    50.0
    """
    return _ddd_table().get(normalise_code(str(atc)))


def ddd_table() -> Mapping[str, float]:
    """All oral DDDs in mg by ATC code (a copy; the cache stays untouched)."""
    return dict(_ddd_table())


@functools.cache
def _icpc_entries() -> tuple[ICPCEntry, ...]:
    return tuple(
        ICPCEntry(
            code=ICPCCode(row["code"]),
            title_en=row["title_en"],
            title_nl=row["title_nl"],
            use=_one_of(row["use"], ICPCUse),
        )
        for row in _data_rows("icpc_codes.csv")
    )


def icpc_codes(use: ICPCUse | None = None) -> tuple[ICPCEntry, ...]:
    """The ICPC codes the library knows, optionally only those for one ``use``.

    >>> [str(e.code) for e in icpc_codes("gp_route")]
    ['P01', 'P06', 'P74']
    """
    return tuple(e for e in _icpc_entries() if use is None or e.use == use)


@functools.cache
def dosage_forms() -> Mapping[str, bool]:
    """Known dosage-form names (lower case) and whether their units are tablets (solid oral)."""
    return {
        row["form"].strip().lower(): row["solid_oral"] == "true"
        for row in _data_rows("dosage_forms.csv")
    }


def form_names(*, solid_oral: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Lower-case names of solid-oral (or other) forms, plus ``extra`` names."""
    known = [name for name, solid in dosage_forms().items() if solid is solid_oral]
    return tuple(sorted({*known, *(e.strip().lower() for e in extra)}))
