"""Code data: the ATC groups of the FTO module, WHO DDDs, ICPC codes, dosage forms."""

from __future__ import annotations

import narwhals as nw
import polars as pl
import pytest

from benzoredux import codes


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
        ("N03AE01", ("N03",)),
        ("N05AH04", ("N05A",)),
        ("N05BA01", ()),
    ],
)
def test_complex_comedication_groups_and_exceptions(atc: str, groups: tuple[str, ...]) -> None:
    assert codes.complex_groups_of(atc) == groups


def test_group_expression_agrees_with_python_test() -> None:
    atcs = ["M09AA01", "M09AB01", "N02AA59", "N02AA01", "L01XC02", "N05BA01", "A02BC01"]
    frame = nw.from_native(pl.DataFrame({"atc": atcs}))
    for group in codes.atc_groups():
        vectorised = frame.select(group.expression("atc").alias("x"))["x"].to_list()
        assert vectorised == [group.contains(a) for a in atcs], group.group


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
