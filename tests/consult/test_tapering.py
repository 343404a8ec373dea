"""Tapering schedules: hand-computed examples, the rules every schedule keeps (never up, ends
at zero, only available units and fractions), the diazepam switch, and bad input."""

from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings

from benzoredux import REGULATED, SLOW, TaperProtocol, build_taper_schedule
from benzoredux.codes import is_benzodiazepine
from benzoredux.consult.tapering import (
    DEFAULT_EQUIVALENCE_SOURCES,
    DiazepamEquivalent,
    Product,
    TaperSchedule,
    diazepam_equivalents,
    dutch_number,
    equivalence_for,
    products,
)


def doses(schedule: TaperSchedule) -> list[float]:
    return [float(s.dose_mg) for s in schedule.steps]


# -- the protocols -----------------------------------------------------------------------------


def test_regulated_and_slow_protocols() -> None:
    assert REGULATED.fractions == (0.75, 0.5, 0.25, 0.0)
    assert SLOW.fractions == (0.75, 0.5, 0.25, 0.125, 0.0)
    assert REGULATED.days_per_step == SLOW.days_per_step == 7


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ((0.75, 0.5), "last step must be 0"),
        ((0.5, 0.75, 0.0), "never go up"),
        ((1.0, 0.5, 0.0), r"\[0, 1\)"),
        ((), "last step must be 0"),
    ],
)
def test_a_protocol_that_would_not_taper_is_refused(
    fractions: tuple[float, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TaperProtocol("bad", fractions)


# -- hand-computed examples --------------------------------------------------------------------


def test_diazepam_10mg_regulated() -> None:
    # Diazepam tablets 2, 5 and 10 mg, halves allowed: 7.5, 5 and 2.5 mg are exact.
    schedule = build_taper_schedule("diazepam", 10, 1)
    assert doses(schedule) == [7.5, 5.0, 2.5, 0.0]
    assert [s.instruction() for s in schedule.steps] == [
        "1½ tablet van 5 mg per dag",
        "1 tablet van 5 mg per dag",
        "½ tablet van 5 mg per dag",
        "geen",
    ]
    assert [float(s.fraction_of_start) for s in schedule.steps] == [0.75, 0.5, 0.25, 0.0]
    assert not schedule.notes


def test_oxazepam_50mg_rounds_to_the_nearest_dose_ties_upwards() -> None:
    # 10 mg and 50 mg tablets in halves make every multiple of 5 mg.
    # 37.5 is halfway between 35 and 40 -> 40; 25 exact; 12.5 between 10 and 15 -> 15.
    schedule = build_taper_schedule("oxazepam", 50, 1)
    assert doses(schedule) == [40.0, 25.0, 15.0, 0.0]
    assert [float(s.target_mg) for s in schedule.steps] == [37.5, 25.0, 12.5, 0.0]
    assert schedule.steps[0].instruction() == "4 tabletten van 10 mg per dag"
    assert schedule.steps[1].instruction() == "½ tablet van 50 mg per dag"


def test_oxazepam_50mg_slow_protocol_has_a_smaller_last_step() -> None:
    # 6.25 mg: 5 is nearer than 10.
    assert doses(build_taper_schedule("oxazepam", 50, 1, SLOW)) == [40.0, 25.0, 15.0, 5.0, 0.0]
    # Always up: 37.5 -> 40, 12.5 -> 15, 6.25 -> 10.
    up = build_taper_schedule("oxazepam", 50, 1, SLOW, rounding="up")
    assert doses(up) == [40.0, 25.0, 15.0, 10.0, 0.0]
    down = build_taper_schedule("oxazepam", 50, 1, SLOW, rounding="down")
    assert doses(down) == [35.0, 25.0, 10.0, 5.0, 0.0]


def test_when_the_tablets_cannot_make_a_reduction_the_dose_stays_and_a_note_says_so() -> None:
    # Oxazepam 10 mg, only halves of 10 mg (the schedule may use no 50 mg tablet anyway):
    # 7.5 -> 10 (tie upwards), 5 -> 5, 2.5 -> 5 (tie upwards), 0.
    schedule = build_taper_schedule("oxazepam", 10, 1)
    assert doses(schedule) == [10.0, 5.0, 5.0, 0.0]
    assert len(schedule.notes) == 2
    assert schedule.notes[0].startswith("Step 1: the available units cannot make a dose")


def test_capsules_are_never_split() -> None:
    # Temazepam capsules of 10 and 20 mg: 15 -> 20 (tie up), 10, 5 -> 10 (tie up), 2.5 -> 0.
    schedule = build_taper_schedule("temazepam", 20, 1, SLOW, form="capsule")
    assert doses(schedule) == [20.0, 10.0, 10.0, 0.0]
    assert all(p.units.denominator == 1 for s in schedule.steps for p in s.pieces)
    assert any("rounds to 0 mg" in n for n in schedule.notes)
    with pytest.raises(ValueError, match="cannot be taken"):
        build_taper_schedule("temazepam", 20, 1.5, form="capsule")


def test_strengths_limit_the_units_a_schedule_uses() -> None:
    # Lorazepam 2.5 mg a day as 2½ tablets of 1 mg, with only the 1 mg tablets: halves of 1 mg.
    # 1.875 -> 2.0, 1.25 -> 1.5 (tie up), 0.625 -> 0.5.
    schedule = build_taper_schedule("lorazepam", 1, 2.5, strengths=[1])
    assert doses(schedule) == [2.0, 1.5, 0.5, 0.0]
    assert {p.product.strength_mg for s in schedule.steps for p in s.pieces} == {1.0}


def test_switch_to_diazepam_with_the_ashton_table() -> None:
    # Lorazepam 2.5 mg; Ashton: lorazepam 1 mg ~ diazepam 10 mg -> 25 mg diazepam.
    # Diazepam 2/5/10 mg in halves makes every multiple of 0.5 mg:
    # 18.75 -> 19 (tie up), 12.5, 6.25 -> 6.5 (tie up), 0.
    schedule = build_taper_schedule(
        "lorazepam", 2.5, 1, switch_to_diazepam=True, start=dt.date(2025, 3, 3)
    )
    assert schedule.switched
    assert schedule.equivalence is not None
    assert schedule.equivalence.source == "ashton"
    assert schedule.equivalence_factor == 10
    assert schedule.taper_substance == "diazepam"
    assert doses(schedule) == [25.0, 19.0, 12.5, 6.5, 0.0]
    assert [s.phase for s in schedule.steps] == ["switch", "taper", "taper", "taper", "stopped"]
    assert [s.first_day for s in schedule.steps] == [
        dt.date(2025, 3, 3),
        dt.date(2025, 3, 10),
        dt.date(2025, 3, 17),
        dt.date(2025, 3, 24),
        dt.date(2025, 3, 31),
    ]
    assert schedule.steps[0].last_day == dt.date(2025, 3, 9)
    assert schedule.steps[-1].last_day is None


def test_switch_with_the_dutch_table_halves_the_diazepam_dose() -> None:
    # Novadic-Kentron: lorazepam 2.5 mg ~ diazepam 12.5 mg (the tables disagree by a factor 2).
    # 9.375 -> 9.5, 6.25 -> 6.5 (tie up), 3.125 -> 3.0.
    schedule = build_taper_schedule(
        "lorazepam", 2.5, 1, switch_to_diazepam=True, equivalence_sources=["novadic"]
    )
    assert doses(schedule) == [12.5, 9.5, 6.5, 3.0, 0.0]


def test_range_point_chooses_within_a_range() -> None:
    # NHS Scotland: lormetazepam 0.5-1 mg ~ diazepam 5 mg; patient takes 2 mg.
    # low: 10 mg diazepam per mg -> 20; high: 5 per mg -> 10; mid: 20/3 per mg -> 13.33 -> 13.5.
    # Ashton's 1-2 mg ~ 10 mg (the default) is the same range per 10 mg and gives the same doses.
    def start(point: str, sources: tuple[str, ...]) -> float:
        schedule = build_taper_schedule(
            "lormetazepam",
            2,
            1,
            switch_to_diazepam=True,
            range_point=point,  # type: ignore[arg-type]
            equivalence_sources=sources,
        )
        assert schedule.equivalence is not None
        assert schedule.equivalence.source == sources[0]
        return float(schedule.taper_start_mg)

    for sources in (("nhs_scotland",), DEFAULT_EQUIVALENCE_SOURCES):
        points = (start("low", sources), start("mid", sources), start("high", sources))
        assert points == (20.0, 13.5, 10.0)


def test_equivalence_tables_disagree_where_the_docs_say_they_do() -> None:
    def factor(source: str, atc: str) -> Fraction:
        row = next(r for r in diazepam_equivalents() if r.source == source and r.atc == atc)
        return row.factor()

    assert factor("ashton", "N05BA06") == 10  # lorazepam 1 mg ~ 10 mg diazepam
    assert factor("va_dod", "N05BA06") == 5  # lorazepam 2 mg ~ 10 mg diazepam
    assert factor("ashton", "N05BA04") == Fraction(1, 2)  # oxazepam 20 mg ~ 10 mg
    assert factor("who_2009", "N05BA04") == Fraction(1, 3)  # oxazepam 15 mg ~ 5 mg
    assert factor("ashton", "N05BA12") == 20  # alprazolam 0.5 mg ~ 10 mg
    assert factor("novadic", "N05BA12") == 10  # alprazolam 1 mg ~ 10 mg


# -- the default equivalents of the substances on the Dutch market -----------------------------

# Every substance of the shipped (Dutch-market) product list, with the row the default chain must
# take: (source, mg of the substance low-high, ~ mg diazepam) as the source prints it, and the
# factor (mg diazepam per mg) at the middle of a range. Ashton = the Ashton Manual (2002), Table 1
# (per 10 mg diazepam); WHO 2009 = NBK310652 Table 8 (per 5 mg); Novadic-Kentron's omrekentabel.
DUTCH_MARKET_DEFAULTS = {
    "diazepam": ("ashton", 10, 10, 10, Fraction(1)),
    "chlordiazepoxide": ("ashton", 25, 25, 10, Fraction(2, 5)),
    "oxazepam": ("ashton", 20, 20, 10, Fraction(1, 2)),
    "potassium clorazepate": ("ashton", 15, 15, 10, Fraction(2, 3)),
    "lorazepam": ("ashton", 1, 1, 10, Fraction(10)),
    "bromazepam": ("ashton", 5, 6, 10, Fraction(20, 11)),  # 10 mg / 5.5 mg
    "clobazam": ("ashton", 20, 20, 10, Fraction(1, 2)),
    "prazepam": ("ashton", 10, 20, 10, Fraction(2, 3)),  # 10 mg / 15 mg
    "alprazolam": ("ashton", 0.5, 0.5, 10, Fraction(20)),
    "flurazepam": ("ashton", 15, 30, 10, Fraction(4, 9)),  # 10 mg / 22.5 mg
    "nitrazepam": ("ashton", 10, 10, 10, Fraction(1)),
    "flunitrazepam": ("ashton", 1, 1, 10, Fraction(10)),
    "triazolam": ("ashton", 0.5, 0.5, 10, Fraction(20)),
    "lormetazepam": ("ashton", 1, 2, 10, Fraction(20, 3)),  # 10 mg / 1.5 mg
    "temazepam": ("ashton", 20, 20, 10, Fraction(1, 2)),
    "midazolam": ("who_2009", 2.5, 2.5, 5, Fraction(2)),  # not in Ashton's table
    "brotizolam": ("novadic", 0.25, 0.25, 10, Fraction(40)),  # in neither Ashton nor WHO
    "loprazolam": ("ashton", 1, 2, 10, Fraction(20, 3)),
    "zopiclone": ("ashton", 15, 15, 10, Fraction(2, 3)),
    "zolpidem": ("ashton", 20, 20, 10, Fraction(1, 2)),
}


def test_every_substance_on_the_dutch_market_has_a_checked_default() -> None:
    assert {p.substance for p in products()} == set(DUTCH_MARKET_DEFAULTS)


@pytest.mark.parametrize(("substance", "expected"), DUTCH_MARKET_DEFAULTS.items())
def test_default_equivalent_is_the_cited_row(
    substance: str, expected: tuple[str, float, float, float, Fraction]
) -> None:
    source, low, high, diazepam, factor = expected
    row = equivalence_for(substance)
    assert (row.source, row.substance_mg_low, row.substance_mg_high, row.diazepam_mg) == (
        source, low, high, diazepam,
    )  # fmt: skip
    assert row.factor() == factor
    # A schedule from the product of the smallest strength switches with the same row.
    product = min(products(substance), key=lambda p: p.strength_mg)
    schedule = build_taper_schedule(
        substance, product.strength_mg, 1, form=product.form, switch_to_diazepam=True
    )
    if substance == "diazepam":
        assert not schedule.switched  # diazepam is tapered as it is
        return
    assert schedule.equivalence == row
    assert schedule.equivalence_factor == factor


def _per_10mg_diazepam(row: DiazepamEquivalent) -> tuple[float, float]:
    return (
        row.substance_mg_low * 10 / row.diazepam_mg,
        row.substance_mg_high * 10 / row.diazepam_mg,
    )


@pytest.mark.parametrize("substance", sorted(DUTCH_MARKET_DEFAULTS))
def test_default_equivalent_is_no_outlier_among_the_sources(substance: str) -> None:
    # The chain takes the first source that lists a substance; it must not silently take a value
    # that no other shipped source supports: the default's range (mg per 10 mg diazepam) meets
    # the span of the other sources' values. Prazepam (Ashton only), midazolam (WHO only) and
    # brotizolam (Novadic-Kentron only) have no second source (docs/domain/tapering.rst).
    default = equivalence_for(substance)
    others = [
        _per_10mg_diazepam(r)
        for r in diazepam_equivalents()
        if r.atc == default.atc and r.source != default.source
    ]
    if not others:
        assert substance in {"prazepam", "midazolam", "brotizolam"}
        return
    low, high = _per_10mg_diazepam(default)
    assert low <= max(h for _, h in others), (substance, default, others)
    assert high >= min(lo for lo, _ in others), (substance, default, others)


def test_bromazepam_6mg_switches_to_about_10mg_diazepam() -> None:
    # Issue 14: the old chain fell through to Novadic-Kentron's 10 mg ~ 10 mg and gave 6 mg.
    # Ashton: 5-6 mg ~ 10 mg, the middle 5.5 mg -> 6 mg = 120/11 = 10.91 mg -> 11 mg (halves of
    # 2 mg tablets make every 0.5 mg); WHO 2009 (3 mg ~ 5 mg) gives 10 mg.
    schedule = build_taper_schedule("bromazepam", 6, 1, switch_to_diazepam=True)
    assert schedule.equivalence is not None
    assert schedule.equivalence.source == "ashton"
    exact = schedule.start_mg * Fraction(20, 11)
    assert schedule.steps[0].target_mg == exact == Fraction(120, 11)
    assert 10 <= exact <= 12  # Ashton's range ends: 6 mg ~ 10-12 mg
    assert schedule.taper_start_mg == 11
    assert doses(schedule) == [11.0, 8.5, 5.5, 3.0, 0.0]


def test_midazolam_switches_with_the_who_value() -> None:
    # Midazolam 7.5 mg tablets (a Dutch hypnotic); WHO 2009: 2.5 mg ~ 5 mg diazepam -> 15 mg.
    schedule = build_taper_schedule("midazolam", 7.5, 1, switch_to_diazepam=True)
    assert schedule.equivalence is not None
    assert schedule.equivalence.source == "who_2009"
    assert schedule.equivalence_factor == 2
    assert schedule.taper_start_mg == 15
    assert doses(schedule) == [15.0, 11.5, 7.5, 4.0, 0.0]


def test_a_switch_names_its_source_and_factor_in_the_notes() -> None:
    bromazepam = build_taper_schedule("bromazepam", 6, 1, switch_to_diazepam=True)
    assert bromazepam.notes == (
        "Converted to diazepam according to Ashton (2002): 5-6 mg bromazepam ~ 10 mg diazepam, "
        "so 6 mg bromazepam a day = 10,91 mg diazepam (factor 1,82, the middle of the source's "
        "range).",
        "The diazepam equivalent 10,91 mg is rounded to 11 mg, the nearest dose the diazepam "
        "tablets can make.",
    )
    lorazepam = build_taper_schedule(
        "lorazepam", 2.5, 1, switch_to_diazepam=True, equivalence_sources=["novadic"]
    )
    assert lorazepam.notes[0] == (
        "Converted to diazepam according to Novadic-Kentron: 2,5 mg lorazepam ~ 12,5 mg "
        "diazepam, so 2,5 mg lorazepam a day = 12,5 mg diazepam (factor 5)."
    )
    low = build_taper_schedule("lormetazepam", 2, 1, switch_to_diazepam=True, range_point="low")
    assert "(factor 10, the low end of the source's range)" in low.notes[0]
    assert not any("Converted" in n for n in build_taper_schedule("oxazepam", 50, 1).notes)


def test_table_output() -> None:
    schedule = build_taper_schedule("diazepam", 10, 1, start=dt.date(2025, 1, 6))
    frame = schedule.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["dose_mg"]) == [7.5, 5.0, 2.5, 0.0]
    assert list(frame["percent_of_start"]) == [75.0, 50.0, 25.0, 0.0]
    assert frame.loc[0, "last_day"] == dt.date(2025, 1, 12)
    assert isinstance(schedule.to_frame("polars"), pl.DataFrame)


# -- bad input ---------------------------------------------------------------------------------


def test_bad_regimens_are_refused_with_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown substance 'valerian'"):
        build_taper_schedule("valerian", 10, 1)
    with pytest.raises(ValueError, match=r"in strength 15 mg is known; known: 10 mg tablet"):
        build_taper_schedule("oxazepam", 15, 1)
    with pytest.raises(ValueError, match="cannot be taken"):
        build_taper_schedule("oxazepam", 10, 1.25)
    with pytest.raises(ValueError, match="cannot be taken"):
        build_taper_schedule("oxazepam", 10, 0)
    with pytest.raises(ValueError, match="unknown equivalence source"):
        build_taper_schedule("oxazepam", 10, 1, switch_to_diazepam=True, equivalence_sources=["x"])
    with pytest.raises(ValueError, match="none of the equivalence sources"):
        build_taper_schedule(
            "brotizolam", 0.25, 1, switch_to_diazepam=True, equivalence_sources=["ashton"]
        )
    with pytest.raises(ValueError, match="no products"):
        build_taper_schedule("oxazepam", 10, 1, strengths=[25])


def test_products_and_equivalents_can_be_supplied() -> None:
    own = [Product(atc="N05BA04", substance="oxazepam", strength_mg=10, parts=4)]
    # Quarters of 10 mg: 7.5, 5 and 2.5 mg are exact.
    assert doses(build_taper_schedule("N05BA04", 10, 1, products=own)) == [7.5, 5.0, 2.5, 0.0]
    nhg = DiazepamEquivalent(
        source="practice", atc="N05BA04", substance="oxazepam",
        substance_mg_low=50, substance_mg_high=50, diazepam_mg=10,
    )  # fmt: skip
    schedule = build_taper_schedule(
        "oxazepam", 50, 1, switch_to_diazepam=True,
        equivalence_sources=["practice"], extra_equivalents=[nhg],
    )  # fmt: skip
    assert float(schedule.taper_start_mg) == 10.0
    assert schedule.notes[0].startswith("Converted to diazepam according to practice: 50 mg")
    assert equivalence_for("oxazepam", ["practice"], [nhg]) == nhg


# -- the rules every schedule keeps ------------------------------------------------------------

REGIMENS = [(p.atc, p.strength_mg, p.form, p.parts) for p in products()]


@st.composite
def protocols(draw: st.DrawFn) -> TaperProtocol:
    cuts = draw(st.lists(st.integers(min_value=1, max_value=99), min_size=0, max_size=6))
    fractions = sorted({c / 100 for c in cuts}, reverse=True)
    return TaperProtocol("drawn", (*fractions, 0.0), draw(st.integers(1, 21)))


@settings(max_examples=150, deadline=None)
@given(
    regimen=st.sampled_from(REGIMENS),
    parts_per_day=st.integers(min_value=1, max_value=12),
    protocol=protocols(),
    rounding=st.sampled_from(["nearest", "up", "down"]),
    switch=st.booleans(),
)
def test_every_schedule_never_goes_up_ends_at_zero_and_uses_available_units(
    regimen: tuple[str, float, str, int],
    parts_per_day: int,
    protocol: TaperProtocol,
    rounding: str,
    switch: bool,
) -> None:
    atc, strength, form, parts = regimen
    units = float(Fraction(parts_per_day, parts))
    listed = {r.atc for r in diazepam_equivalents() if r.source in DEFAULT_EQUIVALENCE_SOURCES}
    if switch and atc not in listed:
        with pytest.raises(ValueError, match="none of the equivalence sources"):
            build_taper_schedule(atc, strength, units, switch_to_diazepam=True)
        return
    schedule = build_taper_schedule(
        atc, strength, units, protocol, form=form,
        rounding=rounding, switch_to_diazepam=switch,  # type: ignore[arg-type]
    )  # fmt: skip
    taper = [s for s in schedule.steps if s.phase != "switch"]
    start = schedule.taper_start_mg
    assert taper[0].dose_mg <= start
    assert all(b.dose_mg <= a.dose_mg for a, b in itertools.pairwise(taper))
    assert schedule.steps[-1].dose_mg == 0
    assert schedule.steps[-1].phase == "stopped"
    assert all(s.dose_mg > 0 for s in schedule.steps[:-1])
    allowed = set(products(schedule.taper_atc))
    for step in schedule.steps:
        assert sum((p.mg for p in step.pieces), Fraction(0)) == step.dose_mg
        for piece in step.pieces:
            assert piece.product in allowed
            assert piece.product.atc == schedule.taper_atc
            assert (piece.units * piece.product.parts).denominator == 1
            assert piece.units > 0
        if not switch:
            assert all(p.product.form == form for p in step.pieces)


def test_dutch_numbers() -> None:
    assert dutch_number(Fraction(5, 4)) == "1¼"
    with pytest.raises(ValueError, match="not a whole, half or quarter"):
        dutch_number(Fraction(1, 3))


# -- the shipped data --------------------------------------------------------------------------


def test_shipped_products_and_equivalents_are_benzodiazepines_with_sane_values() -> None:
    for product in products():
        assert is_benzodiazepine(product.atc), product
    for row in diazepam_equivalents():
        assert is_benzodiazepine(row.atc) or row.atc == "N03AE01", row  # clonazepam
        if row.atc == "N05BA01":
            assert row.factor() == 1, row  # diazepam is itself
    sources = {r.source for r in diazepam_equivalents()}
    assert {"ashton", "nhs_scotland", "novadic", "who_2009", "va_dod"} <= sources
