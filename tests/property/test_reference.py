"""The oracle checked by hand: the plain reference gives DOMAIN.md's answers on worked cases.

A property test is only as good as its reference; these cases pin the reference itself to the
rules of DOMAIN.md ("Selection rules (bijlage 1)") without involving the library.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest


def _load(name: str) -> Any:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load the sibling file.
    module_name = f"_benzoredux_property_{name}"
    if module_name not in sys.modules:
        path = Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[module_name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module_name])
    return sys.modules[module_name]


select = _load("reference").reference_select_chronic_users
REFERENCE = dt.date(2025, 6, 30)


def row(day: dt.date, atc: str, quantity: float, **extra: Any) -> dict[str, Any]:
    return {"patient_id": "p1", "date": day, "atc": atc, "quantity": quantity, **extra}


@pytest.mark.parametrize(("units", "chronic"), [(90, False), (90.25, True), (91, True)])
def test_more_than_90_is_strict(units: float, chronic: bool) -> None:
    assert bool(select([row(dt.date(2025, 1, 1), "N05BA04", units)], REFERENCE)) is chronic


@pytest.mark.parametrize(
    ("reference", "day", "inside"),
    [
        (dt.date(2025, 6, 30), dt.date(2024, 6, 30), False),  # a year back: outside
        (dt.date(2025, 6, 30), dt.date(2024, 7, 1), True),
        (dt.date(2025, 6, 30), dt.date(2025, 6, 30), True),  # the reference date: inside
        (dt.date(2025, 6, 30), dt.date(2025, 7, 1), False),
        (dt.date(2024, 2, 29), dt.date(2023, 2, 28), False),  # 29 Feb minus a year: 28 Feb
        (dt.date(2024, 2, 29), dt.date(2023, 3, 1), True),
        (dt.date(2025, 3, 1), dt.date(2024, 2, 29), False),  # a year back is 1 March 2024
        (dt.date(2025, 2, 28), dt.date(2024, 2, 29), True),  # a year back is 28 February 2024
    ],
)
def test_window_is_the_year_up_to_and_including_the_reference(
    reference: dt.date, day: dt.date, inside: bool
) -> None:
    rows = [row(day, "N05BA04", 100), row(day, "N03AE01", 1)]
    result = select(rows, reference, exclude_complex=False)
    assert bool(result) is inside


def test_datetime_on_the_reference_day_counts() -> None:
    rows = [row(dt.datetime(2025, 6, 30, 14, 30), "N05BA04", 100)]
    assert select(rows, REFERENCE)[0]["units"] == 100


def test_returns_net_out_and_only_solid_oral_forms_count() -> None:
    rows = [
        row(dt.date(2025, 1, 1), "N05BA04", 60, form="tablet"),
        row(dt.date(2025, 2, 1), "N05BA04", 40, form=None),
        row(dt.date(2025, 3, 1), "N05BA04", 500, form="drank"),
        row(dt.date(2025, 4, 1), "N05BA04", -5, form=" Tablet "),
        row(dt.date(2025, 4, 1), "N05BB01", 100),  # hydroxyzine: not a benzodiazepine
        row(dt.date(2025, 4, 1), "N03AE01", 100),  # clonazepam: an anti-epileptic here
    ]
    [result] = select(rows, REFERENCE, exclude_complex=False)
    assert result["units"] == 95
    assert (result["n_dispensings"], result["n_returns"]) == (3, 1)
    assert result["complex_groups"] == "N03"


@pytest.mark.parametrize(
    ("atc", "groups"),
    [
        ("M09AA01", ""),  # hydroquinine: the exception
        ("N02AA59", ""),  # codeine combination: the exception
        ("N02AJ06", ""),  # paracetamol + codeine under its code since 2017 (issue 14)
        ("N02AJ08", ""),  # codeine + ibuprofen: exempt by default
        ("N02AJ13", "N02A"),  # tramadol + paracetamol: an opioid
        ("N02BF02", "N03"),  # pregabalin: an anti-epileptic when the module was written
        ("N02AA01", "N02A"),
        ("L04AX03", "L"),
        ("M03BX01", "M03"),
        ("N05AH04", "N05A"),
    ],
)
def test_complex_comedication_groups(atc: str, groups: str) -> None:
    rows = [row(dt.date(2025, 1, 1), "N05BA04", 100), row(dt.date(2025, 2, 1), atc, 10)]
    [result] = select(rows, REFERENCE, include_excluded=True)
    assert result["complex_groups"] == groups
    assert result["excluded_because"] == (f"complex co-medication: {groups}" if groups else None)
    assert bool(select(rows, REFERENCE)) is (not groups)  # excluded by default


@pytest.mark.parametrize(
    ("atc", "options", "groups"),
    [
        ("N02AJ06", {"exempt_other_codeine_combinations": False}, ""),
        ("N02AJ08", {"exempt_other_codeine_combinations": False}, "N02A"),
        ("N02BF02", {"gabapentinoids_as_antiepileptics": False}, ""),
        ("N03AX16", {"gabapentinoids_as_antiepileptics": False}, "N03"),
    ],
)
def test_complex_comedication_options(atc: str, options: dict[str, bool], groups: str) -> None:
    rows = [row(dt.date(2025, 1, 1), "N05BA04", 100), row(dt.date(2025, 2, 1), atc, 10)]
    [result] = select(rows, REFERENCE, include_excluded=True, **options)
    assert result["complex_groups"] == groups


def test_supply_estimate_and_attribution() -> None:
    rows = [
        row(dt.date(2025, 1, 1), "N05BA04", 60, prescriber_id="g2"),
        row(dt.date(2025, 3, 2), "N05BA04", 60, prescriber_id="g9"),  # 60 units over 60 days
        row(dt.date(2025, 3, 2), "N05BA04", 30, prescriber_id="g1"),
        row(dt.date(2025, 3, 2), "N05BA04", -10, prescriber_id="g0"),  # a return names no GP
    ]
    [result] = select(rows, REFERENCE, stopped_grace_days=30)
    assert result["gp_id"] == "g1"  # same day: the smallest prescriber id of the dispensings
    # rate 1 a day; the last day's 80 units run out on 2025-05-21; 40 days before 2025-06-30
    assert result["days_since_supply_end"] == 40.0
    assert result["probably_stopped"] is True
