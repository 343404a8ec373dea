"""Tapering schedules (afbouwschema's): from today's dose to zero in doses a patient can take.

Regulated dose reduction (gereguleerde dosisreductie) is the step after the stop letter for a
patient who cannot stop at once (NHG-Standaard Slaapproblemen en slaapmiddelen, 2014; Richtlijn
Benzodiazepinen dosisreductie, LUMC 2003, as summarised at hulpgids.nl): the daily dose goes to
75%, 50% and 25% of the starting dose in three weekly steps and then to 0%, or, in smaller final
steps, to 12.5% in week 4 and 0% in week 5. Patients on a short-acting benzodiazepine may first
be switched to an equivalent dose of diazepam, which is then tapered.

A schedule here is a sequence of steps, each a daily dose that can really be taken: whole or
split units of the strengths on the market (``data/benzodiazepine_products.csv``), never a
"3.3 mg" nobody can make. The rules every schedule keeps, whatever the options:

* the dose never goes up from one step to the next;
* the last step is zero;
* every dose is made of available units and allowed fractions of them (halves only for tablets
  that may be split; capsules whole);
* the target of each step is the protocol's fraction of the starting dose, rounded to the
  nearest dose that can be made (a tie goes to the higher dose, the smaller reduction), or
  always up or always down (``rounding``). When the tablets cannot make a reduction the schedule
  keeps the dose and says so in :attr:`TaperSchedule.notes`: the GP then chooses a smaller
  strength or the switch to diazepam.

Switching to diazepam uses a documented equivalence table
(``data/diazepam_equivalents.csv``). The tables in use disagree, sometimes by a factor two
(lorazepam 1 mg is 10 mg diazepam for Ashton and 5 mg for the VA/DoD); every schedule records
which source and factor it used (the first of its notes says so in words, and the handout in
Dutch), and ``docs/domain/tapering.rst`` shows the tables side by side, with the reason for each
default.

The schedule is a proposal for the GP and the patient to agree on; it does not replace the
clinician's judgement (older patients, high doses, earlier failed attempts).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from importlib import resources
from typing import Any, Literal

from attrs import field, frozen, validators

from benzoredux.codes import ATC_PATTERN, normalise_code

__all__ = [
    "DEFAULT_EQUIVALENCE_SOURCES",
    "EQUIVALENCE_SOURCE_NAMES",
    "REGULATED",
    "SLOW",
    "DiazepamEquivalent",
    "Piece",
    "Product",
    "TaperProtocol",
    "TaperSchedule",
    "TaperStep",
    "build_taper_schedule",
    "diazepam_equivalents",
    "equivalence_for",
    "products",
]

Rounding = Literal["nearest", "up", "down"]
RangePoint = Literal["low", "mid", "high"]

DIAZEPAM = "N05BA01"

DEFAULT_EQUIVALENCE_SOURCES: tuple[str, ...] = ("ashton", "who_2009", "novadic")
"""Sources tried in order when switching to diazepam: the Ashton Manual first (its Table 1 lists
every substance on the Dutch market but midazolam and brotizolam), then WHO 2009 (midazolam), then
the Dutch Novadic-Kentron table (brotizolam). The Dutch GP guideline's own table could not be read,
so it is not the first source; ``docs/domain/tapering.rst`` compares the sources substance by
substance and says why each default is taken (Novadic-Kentron's bromazepam row, 10 mg ~ 10 mg
diazepam, lies far from every other source and is never reached)."""

EQUIVALENCE_SOURCE_NAMES: Mapping[str, str] = {
    "ashton": "Ashton (2002)",
    "va_dod": "VA/DoD (2021)",
    "nhs_scotland": "NHS Scotland",
    "who_2009": "WHO (2009)",
    "novadic": "Novadic-Kentron",
    "helsedirektoratet": "Helsedirektoratet (2021)",
}
"""How a schedule's notes and the handout name each shipped source ("according to Ashton
(2002)"); a source of ``extra_equivalents`` is named by its key."""


# -- data --------------------------------------------------------------------------------------


def _data_rows(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("benzoredux").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    yield from csv.DictReader(lines)


def _exact(value: float | str | Fraction) -> Fraction:
    """A dose as an exact fraction (0.125 mg stays 1/8, not 0.12499999)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return Fraction(str(value)).limit_denominator(10_000)


@frozen(kw_only=True)
class Product:
    """One oral product: a substance in one strength and form, and how it may be split."""

    atc: str = field(converter=normalise_code)
    substance: str
    strength_mg: float = field(validator=validators.gt(0))
    form: str = "tablet"
    parts: int = 2
    """Into how many equal parts one unit may be split: 1 (whole only), 2 (halves), 4."""
    source: str = ""

    def __attrs_post_init__(self) -> None:
        if not ATC_PATTERN.match(self.atc):
            raise ValueError(f"{self.atc!r} is not a well-formed ATC code")
        if self.parts not in (1, 2, 4):
            raise ValueError(f"parts must be 1, 2 or 4, got {self.parts!r}")

    @property
    def unit_name(self) -> tuple[str, str]:
        """The Dutch word for one unit and for several (``tablet``/``tabletten``)."""
        return ("capsule", "capsules") if self.form == "capsule" else ("tablet", "tabletten")


@functools.cache
def _shipped_products() -> tuple[Product, ...]:
    return tuple(
        Product(
            atc=row["atc"],
            substance=row["substance"],
            strength_mg=float(row["strength_mg"]),
            form=row["form"],
            parts=int(row["parts"]),
            source=row["source"],
        )
        for row in _data_rows("benzodiazepine_products.csv")
    )


def products(substance: str | None = None) -> tuple[Product, ...]:
    """The shipped products, optionally of one substance (ATC code or name).

    >>> [p.strength_mg for p in products("diazepam")]
    [2.0, 5.0, 10.0]
    """
    if substance is None:
        return _shipped_products()
    atc = _resolve_atc(substance)
    return tuple(p for p in _shipped_products() if p.atc == atc)


@frozen(kw_only=True)
class DiazepamEquivalent:
    """One source's equivalence: ``substance_mg_low`` .. ``substance_mg_high`` ~ ``diazepam_mg``."""

    source: str
    atc: str = field(converter=normalise_code)
    substance: str
    substance_mg_low: float = field(validator=validators.gt(0))
    substance_mg_high: float = field(validator=validators.gt(0))
    diazepam_mg: float = field(validator=validators.gt(0))

    def __attrs_post_init__(self) -> None:
        if self.substance_mg_high < self.substance_mg_low:
            raise ValueError(f"{self.source} {self.substance}: the range runs backwards")

    def factor(self, point: RangePoint = "mid") -> Fraction:
        """mg diazepam per mg of the substance, at the low, middle or high end of the range.

        The low end of the substance's range gives the most diazepam.

        >>> DiazepamEquivalent(source="x", atc="N05CD06", substance="lormetazepam",
        ...     substance_mg_low=0.5, substance_mg_high=1, diazepam_mg=5).factor("mid")
        Fraction(20, 3)
        """
        low, high = _exact(self.substance_mg_low), _exact(self.substance_mg_high)
        dose = {"low": low, "mid": (low + high) / 2, "high": high}[point]
        return _exact(self.diazepam_mg) / dose


@functools.cache
def diazepam_equivalents() -> tuple[DiazepamEquivalent, ...]:
    """Every shipped equivalence row (``data/diazepam_equivalents.csv``), all sources."""
    return tuple(
        DiazepamEquivalent(
            source=row["source"],
            atc=row["atc"],
            substance=row["substance"],
            substance_mg_low=float(row["substance_mg_low"]),
            substance_mg_high=float(row["substance_mg_high"]),
            diazepam_mg=float(row["diazepam_mg"]),
        )
        for row in _data_rows("diazepam_equivalents.csv")
    )


@functools.cache
def _names() -> Mapping[str, str]:
    """Substance names (English and the Dutch spellings in use) -> ATC code."""
    from benzoredux.codes import benzodiazepine_substances

    names = {s.substance.lower(): s.atc.value for s in benzodiazepine_substances()}
    names.update({e.substance.lower(): e.atc for e in diazepam_equivalents()})
    names.update(
        {
            "chloordiazepoxide": "N05BA02",
            "clorazepinezuur": "N05BA05",
            "clorazepaat": "N05BA05",
            "zopiclon": "N05CF01",
            "clonazepam": "N03AE01",
        }
    )
    return names


def equivalence_for(
    substance: str,
    sources: Sequence[str] = DEFAULT_EQUIVALENCE_SOURCES,
    extra_equivalents: Iterable[DiazepamEquivalent] = (),
) -> DiazepamEquivalent:
    """The equivalence row a switch to diazepam uses: the first of ``sources`` that lists the
    substance (an ATC code or a name), as :func:`build_taper_schedule` takes it.

    >>> row = equivalence_for("bromazepam")
    >>> row.source, row.substance_mg_low, row.substance_mg_high, row.diazepam_mg
    ('ashton', 5.0, 6.0, 10.0)
    """
    return _equivalence(_resolve_atc(substance), sources, extra_equivalents)


def _resolve_atc(substance: str) -> str:
    text = substance.strip()
    if ATC_PATTERN.match(normalise_code(text)):
        return normalise_code(text)
    atc = _names().get(text.lower())
    if atc is None:
        raise ValueError(
            f"unknown substance {substance!r}: give its ATC code (such as N05BA04) or a name "
            "such as oxazepam, temazepam, zolpidem"
        )
    return atc


# -- protocols ---------------------------------------------------------------------------------


def _float_tuple(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


@frozen
class TaperProtocol:
    """A taper as fractions of the starting dose, one per step, each held ``days_per_step``."""

    name: str
    fractions: tuple[float, ...] = field(converter=_float_tuple)
    """Each step's daily dose as a fraction of the starting dose; non-increasing, ending at 0."""
    days_per_step: int = 7
    description: str = ""

    def __attrs_post_init__(self) -> None:
        values = [float(f) for f in self.fractions]
        if not values or values[-1] != 0:
            raise ValueError(f"protocol {self.name!r}: the last step must be 0 (stopped)")
        if any(not (0 <= f < 1) for f in values):
            raise ValueError(f"protocol {self.name!r}: every fraction must lie in [0, 1)")
        if any(b > a for a, b in itertools.pairwise(values)):
            raise ValueError(f"protocol {self.name!r}: the fractions must never go up")
        if self.days_per_step < 1:
            raise ValueError(f"protocol {self.name!r}: days_per_step must be at least 1")


REGULATED = TaperProtocol(
    "regulated",
    (0.75, 0.5, 0.25, 0.0),
    7,
    "Regulated dose reduction: 75%, 50%, 25% of the starting dose for a week each, then stop "
    "(NHG-Standaard Slaapproblemen en slaapmiddelen 2014; Richtlijn Benzodiazepinen "
    "dosisreductie, LUMC 2003).",
)
"""The regulated dose reduction: 75%, 50%, 25% for a week each, then 0%."""

SLOW = TaperProtocol(
    "slow",
    (0.75, 0.5, 0.25, 0.125, 0.0),
    7,
    "Regulated dose reduction with a smaller last step: 75%, 50%, 25%, 12.5% for a week each, "
    "then stop (the same sources' alternative: 12.5% in week 4 and 0% in week 5; Novadic-"
    "Kentron's schedule). Lengthen days_per_step for a slower pace.",
)
"""The regulated reduction with a smaller final step: 75%, 50%, 25%, 12.5%, then 0%."""


# -- doses that can be made --------------------------------------------------------------------


@frozen
class Piece:
    """Part of a daily dose: ``units`` (whole or fractional) of one product."""

    product: Product
    units: Fraction

    @property
    def mg(self) -> Fraction:
        """The milligrams these units hold."""
        return self.units * _exact(self.product.strength_mg)

    def dutch(self) -> str:
        """``1½ tablet van 10 mg``: how the handout says it.

        >>> from fractions import Fraction
        >>> Piece(products("oxazepam")[0], Fraction(3, 2)).dutch()
        '1½ tablet van 10 mg'
        """
        one, many = self.product.unit_name
        noun = many if self.units >= 2 else one
        return f"{dutch_number(self.units)} {noun} van {dutch_mg(self.product.strength_mg)} mg"


def dutch_number(value: Fraction) -> str:
    """A count of units as the Dutch handout writes it: ``½``, ``1¼``, ``2``.

    >>> from fractions import Fraction
    >>> [dutch_number(Fraction(n, 4)) for n in (1, 2, 3, 4, 6)]
    ['¼', '½', '¾', '1', '1½']
    """
    whole, rest = divmod(value, 1)
    glyph = {Fraction(0): "", Fraction(1, 4): "¼", Fraction(1, 2): "½", Fraction(3, 4): "¾"}
    if rest not in glyph:
        raise ValueError(f"{value} is not a whole, half or quarter number of units")
    return f"{int(whole) if whole else ''}{glyph[rest]}" or "0"


def dutch_mg(value: float | Fraction) -> str:
    """Milligrams with a decimal comma and no trailing zeros: ``2,5``, ``10``, ``0,125``."""
    number = float(value)
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


@frozen
class _Maker:
    """Every daily dose up to a maximum that the products can make, with the fewest pieces."""

    pieces: tuple[tuple[Product, Fraction], ...]
    """(product, units) of one piece: a whole unit, a half or a quarter."""
    grid: Fraction
    best: Mapping[int, tuple[float, tuple[int, ...]]]
    """Grid multiple -> (cost, count per piece) of the cheapest way to make it."""

    @classmethod
    def build(cls, available: Sequence[Product], maximum: Fraction) -> _Maker:
        # Per product: a whole unit and, where it may be split, a half and a quarter.
        pieces = tuple(
            (p, size)
            for p in sorted(available, key=lambda p: (-p.strength_mg, p.form))
            for size in (Fraction(1), Fraction(1, 2), Fraction(1, 4))
            if (size * p.parts).denominator == 1
        )
        sizes = [u * _exact(p.strength_mg) for p, u in pieces]
        grid = functools.reduce(_fraction_gcd, sizes)
        steps = [int(s / grid) for s in sizes]
        # A whole unit costs 1, a split one 2 (it has to be broken first): few units to take,
        # and whole ones rather than broken ones.
        costs = [1.0 if u == 1 else 2.0 for _, u in pieces]
        top = int(maximum / grid)
        best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, (0,) * len(pieces))}
        for amount in range(1, top + 1):
            options = [
                (best[amount - step][0] + cost, i)
                for i, (step, cost) in enumerate(zip(steps, costs, strict=True))
                if amount - step in best
            ]
            if options:
                cost, i = min(options)
                counts = list(best[amount - steps[i]][1])
                counts[i] += 1
                best[amount] = (cost, tuple(counts))
        return cls(pieces, grid, best)

    def doses(self) -> list[Fraction]:
        """Every dose that can be made, ascending (0 included)."""
        return sorted(self.grid * k for k in self.best)

    def best_doses(self) -> set[Fraction]:
        """The same, as a set."""
        return {self.grid * k for k in self.best}

    def make(self, dose: Fraction) -> tuple[Piece, ...]:
        counts = self.best[int(dose / self.grid)][1]
        units: dict[Product, Fraction] = {}
        for (product, size), count in zip(self.pieces, counts, strict=True):
            if count:
                units[product] = units.get(product, Fraction(0)) + size * count
        return tuple(Piece(p, u) for p, u in units.items())


def _fraction_gcd(a: Fraction, b: Fraction) -> Fraction:
    denominator = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
    return Fraction(
        math.gcd(int(a * denominator), int(b * denominator)),
        denominator,
    )


def _round_to(doses: Sequence[Fraction], target: Fraction, rounding: Rounding) -> Fraction:
    """The dose in ``doses`` (sorted, containing 0) that ``target`` rounds to."""
    below = max(d for d in doses if d <= target)
    above = min((d for d in doses if d >= target), default=below)
    if rounding == "down":
        return below
    if rounding == "up":
        return above
    return above if (above - target) <= (target - below) else below


# -- schedules ---------------------------------------------------------------------------------


@frozen(kw_only=True)
class TaperStep:
    """One step of a schedule: a daily dose held from ``first_day`` for ``days`` days."""

    number: int
    """1, 2, ...; 0 is the switch to diazepam at the full equivalent dose."""
    phase: Literal["switch", "taper", "stopped"]
    target_mg: Fraction
    """The protocol's fraction of the starting dose, before rounding."""
    dose_mg: Fraction
    """The daily dose that is taken: what :attr:`pieces` add up to."""
    fraction_of_start: Fraction
    """:attr:`dose_mg` as a fraction of the (possibly switched) starting dose."""
    pieces: tuple[Piece, ...]
    """The units that make up the daily dose."""
    days: int | None
    """How long the step lasts; ``None`` for the last step (stopped)."""
    first_day: dt.date | None = None

    @property
    def last_day(self) -> dt.date | None:
        """The last day of the step, when the schedule has a start date."""
        if self.first_day is None or self.days is None:
            return None
        return self.first_day + dt.timedelta(days=self.days - 1)

    def instruction(self) -> str:
        """The daily dose in words for the patient (Dutch).

        An empty dose reads ``geen`` (none).
        """
        if not self.pieces:
            return "geen"
        parts = [p.dutch() for p in self.pieces]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]
        return f"{listed} per dag"


@frozen(kw_only=True)
class TaperSchedule:
    """A tapering schedule for one patient: steps from the current dose to zero."""

    atc: str
    substance: str
    start_mg: Fraction
    """The current daily dose of the current substance."""
    taper_atc: str
    """The substance that is tapered: the current one, or diazepam after a switch."""
    taper_substance: str
    taper_start_mg: Fraction
    """The starting dose of the taper (after a switch: the rounded diazepam equivalent)."""
    protocol: TaperProtocol
    steps: tuple[TaperStep, ...]
    rounding: Rounding
    current: Piece | None = None
    """The current daily regimen (units of the current product), for the handout."""
    equivalence: DiazepamEquivalent | None = None
    """The equivalence row used for the switch to diazepam (``None``: no switch)."""
    equivalence_factor: Fraction | None = None
    """mg diazepam per mg of the current substance, as used."""
    notes: tuple[str, ...] = ()
    """What the clinician should know: doses rounded, steps that could not reduce, ..."""

    @property
    def switched(self) -> bool:
        """Whether the schedule starts with a switch to diazepam."""
        return self.equivalence is not None

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per step (the columns of :meth:`to_frame`)."""
        return [
            {
                "step": s.number,
                "phase": s.phase,
                "substance": self.taper_substance,
                "atc": self.taper_atc,
                "first_day": s.first_day,
                "last_day": s.last_day,
                "days": s.days,
                "target_mg": float(s.target_mg),
                "dose_mg": float(s.dose_mg),
                "percent_of_start": round(float(s.fraction_of_start) * 100, 1),
                "instruction": s.instruction(),
            }
            for s in self.steps
        ]

    def to_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """The schedule as a table, one row per step, in the library of ``backend``."""
        import narwhals as nw

        rows = self.rows()
        columns = {name: [r[name] for r in rows] for name in rows[0]}
        return nw.from_dict(columns, backend=backend).to_native()


def _current_product(
    available: Sequence[Product], atc: str, strength: Fraction, form: str | None
) -> Product:
    matches = [
        p
        for p in available
        if p.atc == atc and _exact(p.strength_mg) == strength and (form is None or p.form == form)
    ]
    if not matches:
        known = sorted(
            {f"{dutch_mg(p.strength_mg)} mg {p.form}" for p in available if p.atc == atc}
        )
        raise ValueError(
            f"no product of {atc} in strength {dutch_mg(strength)} mg"
            f"{f' ({form})' if form else ''} is known; known: {', '.join(known) or 'none'}. "
            "Pass products= with the pharmacy's product data."
        )
    return max(matches, key=lambda p: p.parts)


def build_taper_schedule(
    substance: str,
    strength_mg: float,
    units_per_day: float,
    protocol: TaperProtocol = REGULATED,
    *,
    start: dt.date | None = None,
    form: str | None = None,
    strengths: Sequence[float] | None = None,
    switch_to_diazepam: bool = False,
    equivalence_sources: Sequence[str] = DEFAULT_EQUIVALENCE_SOURCES,
    range_point: RangePoint = "mid",
    rounding: Rounding = "nearest",
    products: Iterable[Product] | None = None,
    extra_equivalents: Iterable[DiazepamEquivalent] = (),
    stabilise_days: int = 7,
) -> TaperSchedule:
    """A tapering schedule from the current regimen to zero.

    ``substance`` is an ATC code or a name (``oxazepam``); the patient now takes
    ``units_per_day`` units of ``strength_mg`` a day (``form`` picks capsules or tablets where
    both exist). The schedule may use every strength of the tapered substance in the product
    list; ``strengths`` limits it to some (for example only the tablets the patient has). Each
    step lasts ``protocol.days_per_step`` days from ``start`` (dates are left empty without
    it). With ``switch_to_diazepam``, step 0 is the equivalent dose of diazepam for
    ``stabilise_days`` days, from the first of ``equivalence_sources`` that lists the substance
    (``range_point`` chooses within a range such as "1-2 mg"), and the taper runs on diazepam.
    ``products`` replaces the shipped product list (for example with the pharmacy's G-Standaard
    data); ``rounding`` is explained in the module docstring.

    Oxazepam 50 mg a day from 10 mg and 50 mg tablets that may be halved (5 mg and 25 mg steps):

    >>> schedule = build_taper_schedule("oxazepam", 50, 1)
    >>> [float(s.dose_mg) for s in schedule.steps]
    [40.0, 25.0, 15.0, 0.0]
    >>> schedule.steps[0].instruction()
    '4 tabletten van 10 mg per dag'
    """
    available = tuple(_shipped_products() if products is None else products)
    atc = _resolve_atc(substance)
    current = _current_product(available, atc, _exact(strength_mg), form)
    units = _exact(units_per_day)
    if units <= 0 or (units * current.parts).denominator != 1:
        raise ValueError(
            f"{units_per_day!r} {current.unit_name[0]} a day cannot be taken: "
            f"{current.substance} {dutch_mg(current.strength_mg)} mg {current.form} "
            f"comes in whole units or {current.parts} part(s) of one"
        )
    if stabilise_days < 1:
        raise ValueError("stabilise_days must be at least 1")
    start_mg = _exact(strength_mg) * units
    equivalence: DiazepamEquivalent | None = None
    factor: Fraction | None = None
    taper_atc = atc
    notes: list[str] = []
    if switch_to_diazepam and atc != DIAZEPAM:
        equivalence = _equivalence(atc, equivalence_sources, extra_equivalents)
        factor = equivalence.factor(range_point)
        taper_atc = DIAZEPAM
        notes.append(_conversion_note(equivalence, factor, current.substance, start_mg))
    usable = _usable(available, taper_atc, form if taper_atc == atc else None, strengths)
    exact_start = start_mg * factor if factor is not None else start_mg
    maker = _Maker.build(usable, max(exact_start, start_mg) * 2)
    doses = maker.doses()
    steps: list[TaperStep] = []
    if factor is None:
        if start_mg not in maker.best_doses():
            raise ValueError(
                f"the current dose {dutch_mg(start_mg)} mg cannot be made from the strengths "
                "the schedule may use; widen strengths="
            )
        taper_start = start_mg
    else:
        taper_start = _round_to(doses, exact_start, "nearest")
        if taper_start == 0:
            raise ValueError("the diazepam equivalent rounds to zero: no switch is needed")
        if taper_start != exact_start:
            notes.append(
                f"The diazepam equivalent {dutch_decimal(exact_start)} mg is rounded to "
                f"{dutch_mg(taper_start)} mg, the nearest dose the diazepam tablets can make."
            )
        steps.append(
            TaperStep(
                number=0,
                phase="switch",
                target_mg=exact_start,
                dose_mg=taper_start,
                fraction_of_start=Fraction(1),
                pieces=maker.make(taper_start),
                days=stabilise_days,
                first_day=start,
            )
        )
    first = _advance(start, stabilise_days) if factor is not None else start
    steps.extend(
        _taper_steps(
            maker, taper_start, protocol=protocol, rounding=rounding, first_day=first, notes=notes
        )
    )
    return TaperSchedule(
        atc=atc,
        substance=current.substance,
        start_mg=start_mg,
        taper_atc=taper_atc,
        taper_substance=usable[0].substance,
        taper_start_mg=taper_start,
        protocol=protocol,
        steps=tuple(steps),
        rounding=rounding,
        current=Piece(current, units),
        equivalence=equivalence,
        equivalence_factor=factor,
        notes=tuple(notes),
    )


def _usable(
    available: Sequence[Product], atc: str, form: str | None, strengths: Sequence[float] | None
) -> tuple[Product, ...]:
    """The products a schedule for ``atc`` may use."""
    wanted = None if strengths is None else {_exact(s) for s in strengths}
    usable = tuple(
        p
        for p in available
        if p.atc == atc
        and (form is None or p.form == form)
        and (wanted is None or _exact(p.strength_mg) in wanted)
    )
    if not usable:
        raise ValueError(
            f"no products of {atc} are known{' in the strengths asked' if wanted else ''}; "
            "pass products= with the pharmacy's product data"
        )
    return usable


def _taper_steps(
    maker: _Maker,
    taper_start: Fraction,
    *,
    protocol: TaperProtocol,
    rounding: Rounding,
    first_day: dt.date | None,
    notes: list[str],
) -> Iterator[TaperStep]:
    """The protocol's steps from ``taper_start``, rounded to doses ``maker`` can make."""
    doses = maker.doses()
    previous = taper_start
    day = first_day
    for number, fraction in enumerate(protocol.fractions, start=1):
        target = taper_start * _exact(fraction)
        dose = min(_round_to(doses, target, rounding), previous)  # never up
        stopped = dose == 0
        if not stopped and dose == previous:
            notes.append(
                f"Step {number}: the available units cannot make a dose between "
                f"{dutch_mg(previous)} mg and the target {dutch_mg(target)} mg, so the dose "
                "stays the same; consider a smaller strength or the switch to diazepam."
            )
        yield TaperStep(
            number=number,
            phase="stopped" if stopped else "taper",
            target_mg=target,
            dose_mg=dose,
            fraction_of_start=dose / taper_start,
            pieces=maker.make(dose),
            days=None if stopped else protocol.days_per_step,
            first_day=day,
        )
        if stopped:
            if fraction != 0:
                notes.append(
                    f"Step {number}: the target {dutch_mg(target)} mg rounds to 0 mg, so the "
                    "schedule stops here, earlier than the protocol's last step."
                )
            return
        previous = dose
        day = _advance(day, protocol.days_per_step)


def source_name(source: str) -> str:
    """The name a note or handout gives an equivalence source (the key for unknown ones).

    >>> source_name("who_2009"), source_name("practice")
    ('WHO (2009)', 'practice')
    """
    return EQUIVALENCE_SOURCE_NAMES.get(source, source)


def dutch_decimal(value: Fraction) -> str:
    """A factor or a computed dose as Dutch text, at most two decimals: ``1,82``, ``10``, ``0,4``.

    A computed diazepam equivalent (``10,909090...``) is shown this way in notes and handouts;
    doses that tablets make are exact and use :func:`dutch_mg`.

    >>> from fractions import Fraction
    >>> dutch_decimal(Fraction(20, 11)), dutch_decimal(Fraction(10)), dutch_decimal(Fraction(2, 5))
    ('1,82', '10', '0,4')
    """
    return f"{float(value):.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _source_range(row: DiazepamEquivalent) -> str:
    low, high = dutch_mg(row.substance_mg_low), dutch_mg(row.substance_mg_high)
    return low if low == high else f"{low}-{high}"


def _conversion_note(
    row: DiazepamEquivalent, factor: Fraction, substance: str, start_mg: Fraction
) -> str:
    """The clinician's note on a switch: which source, what it says, the factor and the dose.

    It states the source's own words (``5-6 mg bromazepam ~ 10 mg diazepam``) and which point of
    a range was used, so the GP can check the conversion against the table they trust.
    """
    where: dict[RangePoint, str] = {
        "mid": ", the middle of the source's range",
        "low": ", the low end of the source's range",
        "high": ", the high end of the source's range",
    }
    ranged = row.substance_mg_low != row.substance_mg_high
    point = next((where[p] for p in where if ranged and row.factor(p) == factor), "")
    return (
        f"Converted to diazepam according to {source_name(row.source)}: "
        f"{_source_range(row)} mg {row.substance} ~ {dutch_mg(row.diazepam_mg)} mg diazepam, so "
        f"{dutch_mg(start_mg)} mg {substance} a day = {dutch_decimal(start_mg * factor)} mg "
        f"diazepam (factor {dutch_decimal(factor)}{point})."
    )


def _advance(day: dt.date | None, days: int) -> dt.date | None:
    return None if day is None else day + dt.timedelta(days=days)


def _equivalence(
    atc: str, sources: Sequence[str], extra: Iterable[DiazepamEquivalent]
) -> DiazepamEquivalent:
    rows = (*diazepam_equivalents(), *extra)
    known_sources = {r.source for r in rows}
    unknown = [s for s in sources if s not in known_sources]
    if unknown:
        raise ValueError(
            f"unknown equivalence source(s) {unknown}; known: {', '.join(sorted(known_sources))}"
        )
    for source in sources:
        for row in rows:
            if row.source == source and row.atc == atc:
                return row
    raise ValueError(
        f"none of the equivalence sources {list(sources)} lists {atc}; choose other sources "
        "or pass extra_equivalents="
    )
