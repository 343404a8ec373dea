"""Code data: the ATC groups of the FTO module, WHO DDDs, ICPC codes, dosage forms."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import narwhals as nw
import pandas as pd
import polars as pl
import pytest

from benzoredux import codes
from benzoredux.tables import DistinctValues

DATA = Path(codes.__file__).with_name("data")


@pytest.mark.parametrize(
    ("atc", "expected"),
    [
        ("N05BA01", True),  # diazepam
        ("N05CD07", True),  # temazepam
        ("N05CF02", True),  # zolpidem (benzodiazepine related)
        ("N03AE01", False),  # clonazepam: an anti-epileptic in this module
        ("N05BB01", False),  # hydroxyzine
        ("N05CH01", False),  # melatonin
        ("n05ba04", True),  # exports may write lower case
    ],
)
def test_benzodiazepine_groups_are_n05ba_n05cd_n05cf(atc: str, expected: bool) -> None:
    assert codes.is_benzodiazepine(atc) is expected


@pytest.mark.parametrize(
    ("atc", "groups"),
    [
        ("L04AX03", ("L",)),
        ("M03BX01", ("M03",)),
        ("M09AX01", ("M09A",)),
        ("M09AA01", ()),  # hydroquinine: the module's exception (misprinted M099AA01)
        ("N02AA01", ("N02A",)),
        ("N02AA59", ()),  # codeine combinations: the module's exception
        ("N02AJ06", ()),  # paracetamol + codeine since the 2017 index (issue 14)
        ("N02AJ07", ()),  # codeine + acetylsalicylic acid: exempt by default
        ("N02AJ08", ()),  # codeine + ibuprofen
        ("N02AJ09", ()),  # codeine + other non-opioid analgesics
        ("N02AA79", ("N02A",)),  # codeine combinations with psycholeptics: not the exception
        ("N02AJ01", ("N02A",)),  # dihydrocodeine + paracetamol
        ("N02AJ13", ("N02A",)),  # tramadol + paracetamol
        ("N02BF01", ("N03",)),  # gabapentin: an anti-epileptic when the module was written
        ("N02BF02", ("N03",)),  # pregabalin
        ("N03AX16", ("N03",)),  # pregabalin's code until the index moved it
        ("N02BF03", ()),  # mirogabalin: never an anti-epileptic code
        ("N03AE01", ("N03",)),
        ("N05AH04", ("N05A",)),
        ("N05BA01", ()),
    ],
)
def test_complex_comedication_groups_and_exceptions(atc: str, groups: tuple[str, ...]) -> None:
    assert codes.complex_groups_of(atc) == groups


@pytest.mark.parametrize(
    ("atc", "options", "groups"),
    [
        ("N02AJ06", {"exempt_other_codeine_combinations": False}, ()),
        ("N02AA59", {"exempt_other_codeine_combinations": False}, ()),
        ("N02AJ07", {"exempt_other_codeine_combinations": False}, ("N02A",)),
        ("N02AJ09", {"exempt_other_codeine_combinations": False}, ("N02A",)),
        ("N02BF02", {"gabapentinoids_as_antiepileptics": False}, ()),
        ("N03AX16", {"gabapentinoids_as_antiepileptics": False}, ("N03",)),
    ],
)
def test_complex_comedication_options(atc: str, options: dict[str, bool], groups: tuple) -> None:
    assert codes.complex_groups_of(atc, **options) == groups


OPTION_SETS = [
    {"exempt_other_codeine_combinations": a, "gabapentinoids_as_antiepileptics": b}
    for a, b in itertools.product([True, False], repeat=2)
]
SAMPLE_CODES = [
    *("M09AA01", "M09AB01", "N02AA59", "N02AA01", "L01XC02", "N05BA01", "A02BC01"),
    *("N02AJ06", "N02AJ07", "N02AJ08", "N02AJ09", "N02AJ13", "N02BF01", "N02BF02", "N03AX16"),
]


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize("native", [pl.DataFrame, pd.DataFrame])
def test_group_expression_agrees_with_python_test(options: dict[str, bool], native) -> None:
    """One definition of a group: the dataframe test gives what ``contains`` gives."""
    frame = nw.from_native(native({"atc": SAMPLE_CODES}), eager_only=True)
    for group in codes.atc_groups(**options):
        vectorised = frame.select(group.expression("atc").alias("x"))["x"].to_list()
        assert vectorised == [group.contains(a) for a in SAMPLE_CODES], group.group


@pytest.mark.parametrize("options", OPTION_SETS)
def test_distinct_values_match_groups_alike_with_and_without_reading_values(options) -> None:
    """``DistinctValues.atc_in`` on a Parquet scan (the groups' expressions) and on read values
    (``contains`` on the codes present) select the same rows, moved codes and exceptions too."""
    lazy = nw.from_native(pl.DataFrame({"atc": [*SAMPLE_CODES, None]}).lazy())
    groups = codes.complex_comedication_groups(**options)
    for group in groups:
        by_prefix = lazy.filter(DistinctValues(lazy, scan=True).atc_in([group])).collect()
        by_value = lazy.filter(DistinctValues(lazy).atc_in([group])).collect()
        expected = [a for a in SAMPLE_CODES if group.contains(a)]
        assert by_prefix["atc"].to_list() == expected, group.group
        assert by_value["atc"].to_list() == expected, group.group


def test_ddd_file_covers_the_three_groups_and_cites_its_source() -> None:
    substances = codes.benzodiazepine_substances()
    assert all(codes.is_benzodiazepine(s.atc) for s in substances)
    assert "N03AE01" not in {s.atc.value for s in substances}
    text = (codes.resources.files("benzoredux") / "data" / "benzodiazepine_ddd.csv").read_text()
    assert "WHO Collaborating Centre" in text
    assert "ATC/DDD Index 20" in text


@pytest.mark.parametrize(
    ("atc", "ddd"),
    [
        ("N05BA01", 10),
        ("N05BA04", 50),
        ("N05BA12", 1),
        ("N05CD07", 20),
        ("N05CF01", 7.5),
        ("N05CF02", 10),
        ("N05CD06", 1),
        ("N05BA06", 2.5),
    ],
)
def test_well_known_ddds(atc: str, ddd: float) -> None:
    assert codes.defined_daily_dose_mg(atc) == ddd


def test_substance_without_ddd_gives_none() -> None:
    assert codes.defined_daily_dose_mg("N05BA07") is None  # adinazolam: no DDD assigned


def test_gp_route_codes() -> None:
    assert [e.code.value for e in codes.icpc_codes("gp_route")] == ["P01", "P06", "P74"]
    assert all(e.title_nl for e in codes.icpc_codes())


def test_code_types_validate_and_normalise() -> None:
    assert codes.ATCCode(" n05ba01 ").value == "N05BA01"
    assert codes.ICPCCode("p74.01").rubric == "P74"
    with pytest.raises(ValueError, match="well-formed ATC code"):
        codes.ATCCode("N05BA1")
    with pytest.raises(ValueError, match="ICPC code"):
        codes.ICPCCode("P6")


def test_dosage_forms_split_solid_oral_from_others() -> None:
    forms = codes.dosage_forms()
    assert forms["tablet"] is True
    assert forms["capsule"] is True
    assert forms["drank"] is False
    assert forms["zetpil"] is False
    assert "kauwtablet" in codes.form_names(solid_oral=True, extra=["Kauwtablet"])


# --- the shipped code tables against the library's list of known codes (issue 14) ----------


def _rows(name: str) -> list[dict[str, str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def _table_codes() -> dict[str, set[str]]:
    """Every ATC code written in a shipped data file, by file."""
    found: dict[str, set[str]] = {}
    for name, columns in [
        ("atc_groups.csv", ("except_codes", "optional_except_codes", "moved_codes")),
        ("benzodiazepine_ddd.csv", ("atc",)),
        ("benzodiazepine_products.csv", ("atc",)),
        ("diazepam_equivalents.csv", ("atc",)),
        ("atc_codes.csv", ("atc", "replaced_by")),
    ]:
        found[name] = {code for row in _rows(name) for c in columns for code in row[c].split()}
    return found


def test_every_shipped_table_names_only_well_formed_known_codes() -> None:
    """A code in any shipped table (groups, DDDs, products, diazepam equivalents) is well formed
    and one of the codes the library knows, so the tables cannot drift from each other or from
    the WHO index they were checked against. (dosage_forms.csv and icpc_codes.csv hold no ATC
    codes.)"""
    known = codes.known_atc_codes()
    for name, found in _table_codes().items():
        assert found, name
        for code in sorted(found):
            assert codes.ATC_PATTERN.match(code), f"{name}: {code!r} is not a well-formed code"
            assert code in known, f"{name}: {code} is not in atc_codes.csv"
    for name in ("dosage_forms.csv", "icpc_codes.csv"):
        text = (DATA / name).read_text(encoding="utf-8")
        assert not any(codes.ATC_PATTERN.match(word) for word in text.replace(",", " ").split())


def test_tables_use_current_codes_and_retired_codes_point_to_current_ones() -> None:
    """Today's codes in the rule tables; a retired code names its current successor."""
    known = codes.known_atc_codes()
    found = _table_codes()
    for name in ("atc_groups.csv", "benzodiazepine_ddd.csv", "benzodiazepine_products.csv"):
        retired = sorted(c for c in found[name] if known[c].status == "retired")
        assert not retired, f"{name} uses retired codes {retired}"
    for entry in known.values():
        if entry.status == "retired":
            assert entry.replaced_by, entry
            assert all(known[c].status == "current" for c in entry.replaced_by), entry
            assert all(known[c].name == entry.name for c in entry.replaced_by), entry
        else:
            assert entry.replaced_by == (), entry
            assert entry.listed_in == "2026-04-25", entry


def test_known_codes_are_the_groups_codes_and_the_ddd_file_lists_every_benzodiazepine() -> None:
    """Every known code is in a group of the selection (by prefix or as a moved code), and the
    benzodiazepine codes known are exactly the substances of the DDD table (two files checked
    against the index separately)."""
    groups = codes.atc_groups()
    known = codes.known_atc_codes()
    for code in known:
        assert any(code.startswith(g.prefix) or code in g.moved_codes for g in groups), code
    benzo = {c for c, e in known.items() if codes.is_benzodiazepine(c) and e.status == "current"}
    assert benzo == {s.atc.value for s in codes.benzodiazepine_substances()}
    # New since the module: mexazolam, remimazolam, dimdazenil are benzodiazepines here too.
    assert {"N05BA25", "N05CD14", "N05CD16"} <= benzo


def test_codes_changed_since_the_module() -> None:
    """The WHO index changes the codes page lists, as the data record them."""
    known = codes.known_atc_codes()
    assert known["N02AA59"].name == "codeine, combinations excl. psycholeptics"
    assert known["N02AJ06"].name == "codeine and paracetamol"
    assert [known[c].name for c in ("N02AJ07", "N02AJ08", "N02AJ09")] == [
        "codeine and acetylsalicylic acid",
        "codeine and ibuprofen",
        "codeine and other non-opioid analgesics",
    ]
    assert known["N02AJ13"].name == "tramadol and paracetamol"  # an opioid: complex
    assert known["N03AX12"].replaced_by == ("N02BF01",)
    assert known["N03AX16"].replaced_by == ("N02BF02",)
    assert known["L01XE01"].replaced_by == ("L01EA01",)  # imatinib: still L
    assert known["M09AA01"].name == "hydroquinine"


def test_unknown_codes_are_well_formed_group_codes_the_library_does_not_know() -> None:
    found = codes.unknown_atc_codes(
        [
            *("N05BA04", "N05BA99", "N05CD17", "L01ZZ01", "L01XE01", "N02AJ06", "N03AX12", None),
            *("A02BC01", "N05BB01", "n05ba98", "N05BA9", " N05BA97", "N02BF03", "N05BA99"),
        ]
    )
    assert found == ("L01ZZ01", "N05BA99", "N05CD17")


@pytest.mark.parametrize(
    "name", ["benzodiazepine_ddd.csv", "benzodiazepine_products.csv", "diazepam_equivalents.csv"]
)
def test_substance_names_in_the_tables_are_the_who_names_of_their_codes(name: str) -> None:
    """A row's substance is the WHO index's name for its code: a code typed for another
    substance (lorazepam's row under lormetazepam's code) cannot pass."""
    known = codes.known_atc_codes()
    for row in _rows(name):
        assert row["substance"] == known[row["atc"]].name, (name, row["atc"])
