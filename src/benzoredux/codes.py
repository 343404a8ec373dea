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
    "KnownATCCode",
    "atc_groups",
    "benzodiazepine_groups",
    "benzodiazepine_substances",
    "complex_comedication_groups",
    "complex_groups_of",
    "defined_daily_dose_mg",
    "dosage_forms",
    "icpc_codes",
    "is_benzodiazepine",
    "known_atc_codes",
    "unknown_atc_codes",
]

ATC_PATTERN = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
"""A substance-level (level 5) ATC code: letter, two digits, two letters, two digits."""

ICPC_PATTERN = re.compile(r"^[A-Z][0-9]{2}(?:\.[0-9]{1,2})?$")
"""An ICPC-1 code as Dutch GP systems store it: ``P06``, or a Dutch subcode such as ``A99.01``."""

GroupRole = Literal["benzodiazepine", "complex_comedication"]
CodeStatus = Literal["current", "retired"]
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

    The FTO module defines its groups this way: "N02A opioids, except N02AA59". Codes move in
    the WHO index after a module is written; a group follows its substances, not their codes:
    ``moved_codes`` are codes outside the prefix whose substance was in the group when the
    module was written (gabapentin and pregabalin, once N03AX12 and N03AX16, now N02BF01 and
    N02BF02), and ``except_codes`` name a substance under every code it has had (paracetamol
    + codeine: N02AA59 and N02AJ06). :func:`atc_groups` applies the options that choose
    between the module's reading and today's (``docs/domain/codes.rst``).
    """

    group: str
    role: GroupRole
    prefix: str
    except_codes: frozenset[str]
    description: str
    moved_codes: frozenset[str] = frozenset()
    """Codes outside ``prefix`` that belong to the group (``except_codes`` still win)."""

    def contains(self, atc: str) -> bool:
        """Whether the (normalised) code ``atc`` belongs to this group."""
        in_group = atc.startswith(self.prefix) or atc in self.moved_codes
        return in_group and atc not in self.except_codes

    def expression(self, column: str | nw.Expr) -> nw.Expr:
        """The same test as :meth:`contains`, as a dataframe expression on ``column`` (a column
        name, or an expression giving the codes as text)."""
        atc = nw.col(column) if isinstance(column, str) else column
        expr = atc.str.starts_with(self.prefix)
        if self.moved_codes:
            expr = expr | atc.is_in(sorted(self.moved_codes))
        for code in sorted(self.except_codes):
            expr = expr & (atc != code)
        return expr


@frozen
class _GroupRow:
    """One row of ``data/atc_groups.csv``, before the options are applied."""

    group: str
    role: GroupRole
    prefix: str
    except_codes: frozenset[str]
    optional_except_codes: frozenset[str]
    moved_codes: frozenset[str]
    description: str


@frozen
class KnownATCCode:
    """A level-5 code of the selection's groups that the library knows (``data/atc_codes.csv``).

    ``current`` codes are in today's WHO index; ``retired`` ones were listed in an earlier
    version and are still recognised in data, with ``replaced_by`` naming today's code(s).
    """

    atc: ATCCode
    name: str
    status: CodeStatus
    listed_in: str
    """Date of the latest public scrape of the WHO index that lists the code."""
    replaced_by: tuple[str, ...]


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


def _codes(text: str) -> frozenset[str]:
    """A space-separated list of ATC codes from a data file, each checked to be well formed."""
    return frozenset(ATCCode(code).value for code in text.split())


@functools.cache
def _group_rows() -> tuple[_GroupRow, ...]:
    return tuple(
        _GroupRow(
            group=row["group"],
            role=_one_of(row["role"], GroupRole),
            prefix=row["prefix"],
            except_codes=_codes(row["except_codes"]),
            optional_except_codes=_codes(row["optional_except_codes"]),
            moved_codes=_codes(row["moved_codes"]),
            description=row["description"],
        )
        for row in _data_rows("atc_groups.csv")
    )


@functools.cache
def atc_groups(
    *,
    exempt_other_codeine_combinations: bool = True,
    gabapentinoids_as_antiepileptics: bool = True,
) -> tuple[ATCGroup, ...]:
    """All ATC groups of the selection rules (``data/atc_groups.csv``), options applied.

    :param exempt_other_codeine_combinations: the codes of ``optional_except_codes`` (codeine
        with acetylsalicylic acid, ibuprofen or other non-opioid analgesics, N02AJ07-N02AJ09)
        are exceptions too, as under the module's N02AA59, which held every codeine combination
        when the module was written; ``False``: only paracetamol + codeine is an exception.
    :param gabapentinoids_as_antiepileptics: the codes of ``moved_codes`` (gabapentin and
        pregabalin, N02BF01 and N02BF02) belong to their group (N03), as when the module was
        written; ``False``: the groups are today's prefixes only.
    """
    return tuple(
        ATCGroup(
            group=row.group,
            role=row.role,
            prefix=row.prefix,
            except_codes=row.except_codes
            | (row.optional_except_codes if exempt_other_codeine_combinations else frozenset()),
            description=row.description,
            moved_codes=row.moved_codes if gabapentinoids_as_antiepileptics else frozenset(),
        )
        for row in _group_rows()
    )


def benzodiazepine_groups() -> tuple[ATCGroup, ...]:
    """N05BA, N05CD and N05CF: the groups whose dispensed units count towards chronic use."""
    return tuple(g for g in atc_groups() if g.role == "benzodiazepine")


def complex_comedication_groups(
    *,
    exempt_other_codeine_combinations: bool = True,
    gabapentinoids_as_antiepileptics: bool = True,
) -> tuple[ATCGroup, ...]:
    """L, M03, M09A (not M09AA01), N02A (not codeine combinations), N03 and N05A.

    The keyword options are those of :func:`atc_groups` (and of
    :class:`~benzoredux.selection.ChronicUseCriteria`).
    """
    groups = atc_groups(
        exempt_other_codeine_combinations=exempt_other_codeine_combinations,
        gabapentinoids_as_antiepileptics=gabapentinoids_as_antiepileptics,
    )
    return tuple(g for g in groups if g.role == "complex_comedication")


def is_benzodiazepine(atc: str | ATCCode) -> bool:
    """Whether a code counts as a benzodiazepine for the selection.

    >>> is_benzodiazepine("N05CF02")  # zolpidem
    True
    >>> is_benzodiazepine("N03AE01")  # clonazepam is an anti-epileptic here
    False
    """
    code = normalise_code(str(atc))
    return any(g.contains(code) for g in benzodiazepine_groups())


def complex_groups_of(
    atc: str | ATCCode,
    *,
    exempt_other_codeine_combinations: bool = True,
    gabapentinoids_as_antiepileptics: bool = True,
) -> tuple[str, ...]:
    """The complex co-medication groups a code falls in (usually none or one).

    Paracetamol + codeine is exempt under its old code and today's; by default so are the other
    codeine combinations, and pregabalin counts as an anti-epileptic (N03) as it did when the
    module was written (keyword options: see :func:`atc_groups`).

    >>> complex_groups_of("N02AA59"), complex_groups_of("N02AJ06"), complex_groups_of("N02AA01")
    ((), (), ('N02A',))
    >>> complex_groups_of("N02AJ07"), complex_groups_of("N02BF02")  # the defaults
    ((), ('N03',))
    >>> complex_groups_of("N02AJ07", exempt_other_codeine_combinations=False)
    ('N02A',)
    >>> complex_groups_of("N02BF02", gabapentinoids_as_antiepileptics=False)
    ()
    """
    code = normalise_code(str(atc))
    groups = complex_comedication_groups(
        exempt_other_codeine_combinations=exempt_other_codeine_combinations,
        gabapentinoids_as_antiepileptics=gabapentinoids_as_antiepileptics,
    )
    return tuple(g.group for g in groups if g.contains(code))


@functools.cache
def _known_codes() -> Mapping[str, KnownATCCode]:
    known: dict[str, KnownATCCode] = {}
    for row in _data_rows("atc_codes.csv"):
        entry = KnownATCCode(
            atc=ATCCode(row["atc"]),
            name=row["name"],
            status=_one_of(row["status"], CodeStatus),
            listed_in=row["listed_in"],
            replaced_by=tuple(sorted(_codes(row["replaced_by"]))),
        )
        if entry.atc.value in known:
            raise ValueError(f"code data: {entry.atc.value} is listed twice in atc_codes.csv")
        known[entry.atc.value] = entry
    return known


def known_atc_codes() -> Mapping[str, KnownATCCode]:
    """Every code of the selection's groups the library knows, current and retired, by code
    (``data/atc_codes.csv``; a copy: the cache stays untouched).

    >>> known_atc_codes()["N02AJ06"].name
    'codeine and paracetamol'
    >>> known_atc_codes()["N03AX16"].status, known_atc_codes()["N03AX16"].replaced_by
    ('retired', ('N02BF02',))
    """
    return dict(_known_codes())


def unknown_atc_codes(values: Iterable[str | None]) -> tuple[str, ...]:
    """The codes among ``values`` that fall in a group of the selection but are not known.

    A well-formed code that starts with the prefix of a benzodiazepine or complex co-medication
    group and is neither in today's WHO index nor a retired code the library recognises: a
    mistyped code, a code retired before the oldest index version consulted, or one newer than
    the library. Malformed codes are not returned (the row checks refuse them), nor codes
    outside the groups (the selection never reads them). Sorted, each once. Cheap: run it on a
    table's distinct codes, not on its rows.

    >>> unknown_atc_codes(["N05BA04", "N05BA99", "L01XE01", "A02BC01", "n05ba98", None])
    ('N05BA99',)
    """
    known = _known_codes()
    prefixes = tuple(row.prefix for row in _group_rows())
    found = {
        str(value)
        for value in values
        if value is not None
        and ATC_PATTERN.match(str(value))
        and str(value).startswith(prefixes)
        and str(value) not in known
    }
    return tuple(sorted(found))


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


def normalise_forms(values: Mapping[str, bool]) -> Mapping[str, bool]:
    """A user's extra dosage forms (``{name: solid oral?}``) as the form rule matches them:
    names stripped and in lower case (the converter of every ``extra_forms`` option).

    >>> normalise_forms({" Kauwtablet ": 1})
    {'kauwtablet': True}
    """
    return {str(k).strip().lower(): bool(v) for k, v in dict(values).items()}


def form_names(*, solid_oral: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Lower-case names of solid-oral (or other) forms, plus ``extra`` names."""
    known = [name for name, solid in dosage_forms().items() if solid is solid_oral]
    return tuple(sorted({*known, *(e.strip().lower() for e in extra)}))
