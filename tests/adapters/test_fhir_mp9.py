"""The national medication standard (MP9, issue 18): MP9 profiles with G-Standaard codes.

The fixtures in ``tests/adapters/data/mp9/`` follow the Nictiz MP9 3.0 profiles
(mp-MedicationDispense, mp-PharmaceuticalProduct, nl-core-Patient, mp-DispenseRequest,
mp-MedicationAgreement, mp-AdministrationAgreement) with invented people and invented
G-Standaard codes: ``mp9-dispenses.json`` (a transaction Bundle with ``urn:uuid`` references,
references by identifier, all four Dutch name orders), the same Bundle as FHIR XML
(``mp9-dispenses.xml``), the practice's G-Standaard table (``g-standaard.csv``) and the same
data as a pharmacy (AIS) export (``ais-export.csv``). ``README.md`` there lists what is in them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.reading import MappingFileError, ReadError, ReadResult, load_mapping, read_source
from benzoredux.selection import select_chronic_users
from benzoredux_adapters.fhir import ATC_SYSTEM
from benzoredux_adapters.gstandaard import (
    GPK_SYSTEM,
    HPK_SYSTEM,
    PRK_SYSTEM,
    CodeTable,
    code_table_from_map,
    load_code_table,
)

DATA = Path(__file__).parent / "data" / "mp9"
BUNDLE = DATA / "mp9-dispenses.json"
TABLE = DATA / "g-standaard.csv"
SOURCES = [BUNDLE, DATA / "mp9-dispenses.xml"]
DISPENSING_COLUMNS = [
    "patient_id",
    "date",
    "atc",
    "quantity",
    "strength_mg",
    "form",
    "prescriber_id",
    "pharmacy_id",
]
PATIENT_COLUMNS = [
    "patient_id",
    "gp_id",
    "birth_date",
    "sex",
    "initials",
    "name_prefix",
    "family_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "bsn",
]


def _read(source: Path = BUNDLE, **options: Any) -> ReadResult:
    return read_source(source, strict=False, code_table=TABLE, **options)


def _plain(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    chosen = frame[columns].astype(object)
    return chosen.where(chosen.notna(), None).to_dict("records")


# --- done when: the same data through MP9 and through the AIS reader -------------------------


@pytest.mark.parametrize("source", SOURCES, ids=["json", "xml"])
def test_an_mp9_bundle_reads_as_the_same_data_in_an_ais_export(source: Path) -> None:
    mp9 = _read(source)
    ais = read_source(DATA / "ais-export.csv", strict=False)
    assert (mp9.format, ais.format) == ("fhir", "ais")
    assert mp9.dispensings is not None
    assert ais.dispensings is not None
    assert _plain(mp9.dispensings, DISPENSING_COLUMNS) == _plain(
        ais.dispensings, DISPENSING_COLUMNS
    )
    assert mp9.patients is not None
    assert ais.patients is not None
    assert _plain(mp9.patients, PATIENT_COLUMNS) == _plain(ais.patients, PATIENT_COLUMNS)
    # The same counts: 14 dispensings read, 12 kept, 2 rejected (no ATC code), 4 patients.
    assert mp9.counts == ais.counts
    assert mp9.counts["dispensings"].rows_rejected == 2
    # And the same selection.
    reference = dt.date(2025, 12, 31)
    chosen = [
        select_chronic_users(r.dispensings, reference, patients=r.patients) for r in (mp9, ais)
    ]
    assert (
        chosen[0]["patient_id"].tolist()
        == chosen[1]["patient_id"].tolist()
        == [
            "A1001",
            "A1004",
        ]
    )
    assert chosen[0]["units"].tolist() == chosen[1]["units"].tolist() == [180.0, 110.0]


def test_json_and_xml_read_alike() -> None:
    json_read, xml_read = (_read(source) for source in SOURCES)
    assert json_read.dispensings is not None
    assert xml_read.dispensings is not None
    pd.testing.assert_frame_equal(json_read.dispensings, xml_read.dispensings)
    assert json_read.ignored == xml_read.ignored
    assert json_read.notes == xml_read.notes


# --- products without an ATC code ------------------------------------------------------------


def test_every_product_without_an_atc_code_is_reported_and_counted() -> None:
    result = _read()
    reasons = result.rejected["reason"].tolist()
    assert reasons == [
        "medication has no ATC coding (http://www.whocc.no/atc) and no code-map or G-Standaard "
        "table entry for its codings (urn:oid:2.16.840.1.113883.2.4.4.7|1000076, "
        "urn:oid:2.16.840.1.113883.2.4.4.1|100053); product 'LORMETAZEPAM ACME TABLET 1MG'",
        "medication has no ATC coding (http://www.whocc.no/atc) and no code-map or G-Standaard "
        "table entry for its codings (urn:oid:2.16.840.1.113883.2.4.4.7|90000131); product "
        "'MELATONINE CAPSULE 3MG'; a magistral preparation (a pharmacy's own code, 90000000 to "
        "99999999) without one active ingredient with an ATC code",
    ]
    products = [n for n in result.notes if n.startswith("product without an ATC code")]
    assert products == [
        "product without an ATC code, 1 dispense(s) or request(s) rejected: HPK 1000076, GPK "
        "100053; product 'LORMETAZEPAM ACME TABLET 1MG'; add it to the G-Standaard table or "
        "the code map",
        "product without an ATC code, 1 dispense(s) or request(s) rejected: HPK 90000131; "
        "product 'MELATONINE CAPSULE 3MG'; a magistral preparation (a pharmacy's own code, "
        "90000000 to 99999999) without one active ingredient with an ATC code; add it to the "
        "G-Standaard table or the code map",
    ]
    assert result.reconciles


def test_a_strict_read_refuses_with_the_products_named() -> None:
    with pytest.raises(ReadError) as caught:
        read_source(BUNDLE, code_table=TABLE)
    assert "product 'LORMETAZEPAM ACME TABLET 1MG'" in str(caught.value)


def test_without_the_table_the_g_standaard_codes_have_no_atc_code() -> None:
    result = read_source(BUNDLE, strict=False)
    assert result.dispensings is not None
    # Only the product that carries its ATC code and the magistral preparation whose one
    # active ingredient does are read; every other dispense is rejected and reported.
    assert sorted(result.dispensings["atc"]) == ["N05BA04", "N05BA12"]
    assert result.counts["dispensings"].rows_rejected == 12


def test_a_display_not_written_as_a_product_name_is_not_shown(tmp_path: Path) -> None:
    medication = {
        "coding": [{"system": HPK_SYSTEM, "code": "90000999", "display": "Jansen, Piet 10mg"}],
        "text": "voor mevr. Bloemendaal",
    }
    path = _bundle(tmp_path, _dispense_of(medication))
    result = read_source(path, strict=False)
    text = result.report() + "\n".join(result.notes)
    assert "Jansen" not in text
    assert "Bloemendaal" not in text
    assert "urn:oid:2.16.840.1.113883.2.4.4.7|90000999" in text


# --- what counts and what does not ------------------------------------------------------------


def test_dispenses_not_completed_are_counted_as_ignored_by_status() -> None:
    result = _read()
    assert result.ignored["MedicationDispense with status cancelled"] == 1
    assert result.ignored["MedicationDispense with status entered-in-error"] == 1
    assert (
        "MedicationDispense not counted, by status (only completed dispenses count): "
        "cancelled 1, entered-in-error 1"
    ) in result.notes


def test_agreements_are_not_dispenses() -> None:
    result = _read()
    assert (
        result.ignored[
            "MedicationDispense (toedieningsafspraak: an administration agreement, not a dispense)"
        ]
        == 1
    )
    assert result.ignored["MedicationRequest (medicatieafspraak: an agreement is not a dispense)"]
    # Every record is a row read or counted as ignored.
    records = len(json.loads(BUNDLE.read_text())["entry"])
    rows = sum(c.rows_read for c in result.counts.values())
    assert rows + sum(result.ignored.values()) == records


def test_dispense_requests_are_the_prescriptions_when_there_are_no_dispenses(
    tmp_path: Path,
) -> None:
    """A GP system's MP9 export has agreements (MA) and dispense requests (VV), no dispenses:
    as for any FHIR source, the requests count then (the HIS route); the agreements never."""
    bundle = json.loads(BUNDLE.read_text())
    bundle["entry"] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] != "MedicationDispense"
    ]
    path = tmp_path / "gp.json"
    path.write_text(json.dumps(bundle))
    result = _read(path)
    assert result.dispensings is not None
    assert _plain(
        result.dispensings, ["patient_id", "date", "atc", "quantity", "prescriber_id"]
    ) == [
        {
            "patient_id": "A1001",
            "date": pd.Timestamp("2025-01-14"),
            "atc": "N05BA04",
            "quantity": 60.0,
            "prescriber_id": "01012345",
        },
        {
            "patient_id": "A1003",
            "date": pd.Timestamp("2025-01-30"),
            "atc": "N05CF02",
            "quantity": 50.0,
            "prescriber_id": "01054321",
        },
    ]
    assert result.ignored["MedicationRequest (medicatieafspraak: an agreement is not a dispense)"]


# --- the elements of a dispense ---------------------------------------------------------------


def test_prescriber_and_pharmacy_through_references_and_identifiers() -> None:
    dispensings = _read().dispensings
    assert dispensings is not None
    by_patient = dispensings.groupby("patient_id")
    # A1001: the dispense request by identifier, its requester a PractitionerRole whose
    # practitioner has an AGB code; the pharmacy has AGB and URA: the AGB code.
    assert set(by_patient.get_group("A1001")["prescriber_id"]) == {"01012345"}
    assert set(by_patient.get_group("A1001")["pharmacy_id"]) == {"06011234"}
    # A1003: the dispense request has no requester; its medication agreement has.
    zolpidem = by_patient.get_group("A1003").query("atc == 'N05CF02'")
    assert set(zolpidem["prescriber_id"]) == {"01054321"}
    # A1002: a pharmacy with a URA number only.
    assert set(by_patient.get_group("A1002")["pharmacy_id"]) == {"01239999"}


def test_the_dispense_date_is_handed_over_in_dutch_time_else_prepared() -> None:
    dispensings = _read().dispensings
    assert dispensings is not None
    dates = dispensings.groupby("patient_id")["date"].apply(list)
    # 2025-06-30T23:30Z is 1 July in the Netherlands.
    assert pd.Timestamp("2025-07-01") in dates["A1001"]
    # MVE-7 has only whenPrepared.
    assert pd.Timestamp("2025-10-01") in dates["A1002"]


def test_days_supply_is_kept_in_days() -> None:
    dispensings = _read().dispensings
    assert dispensings is not None
    assert dispensings["days_supply"].dtype == "float64"
    # 30 days, 4 weeks, 30 days; the others give none.
    assert dispensings["days_supply"].head(3).tolist() == [30.0, 28.0, 30.0]
    assert dispensings["days_supply"].iloc[3:].isna().all()


@pytest.mark.parametrize(
    ("supply", "days", "note"),
    [
        ({"value": 2, "system": "http://unitsofmeasure.org", "code": "wk"}, 14.0, None),
        ({"value": 10, "unit": "dagen"}, 10.0, None),
        ({"value": 10}, 10.0, None),
        ({"value": 1, "system": "http://unitsofmeasure.org", "code": "mo"}, None, "unit"),
        ({"value": 0, "system": "http://unitsofmeasure.org", "code": "d"}, None, "positive"),
    ],
)
def test_days_supply_units(tmp_path: Path, supply: dict[str, Any], days: Any, note: Any) -> None:
    path = _bundle(tmp_path, _dispense_of(ATC_OXAZEPAM, daysSupply=supply))
    result = read_source(path)
    assert result.dispensings is not None
    found = result.dispensings["days_supply"].iloc[0]
    assert (found == days) if days is not None else pd.isna(found)
    notes = [n for n in result.notes if n.startswith("daysSupply")]
    assert (note is None and not notes) or (note is not None and note in notes[0])


def test_quantity_in_ml_of_a_benzodiazepine_without_a_form_is_not_counted_as_tablets(
    tmp_path: Path,
) -> None:
    millilitres = {"value": 150, "unit": "ml", "system": "http://unitsofmeasure.org", "code": "mL"}
    pieces = {
        "value": 30,
        "unit": "stuk",
        "system": "urn:oid:2.16.840.1.113883.2.4.4.1.900.2",
        "code": "245",
    }
    opioid = {"coding": [{"system": ATC_SYSTEM, "code": "N02AA01"}]}
    path = _bundle(
        tmp_path,
        _dispense_of(ATC_OXAZEPAM, quantity=millilitres),
        _dispense_of(ATC_OXAZEPAM, quantity=pieces),
        _dispense_of(opioid, quantity=millilitres),
    )
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert result.dispensings[["atc", "quantity"]].values.tolist() == [
        ["N05BA04", 30.0],
        ["N02AA01", 150.0],
    ]
    assert result.rejected["reason"].tolist() == [
        "quantity is in a unit other than pieces (stuk) and the medication gives no dosage "
        "form, so its units cannot be told to be tablets; a benzodiazepine's units are not "
        "counted on a guess"
    ]


# --- the drug: ATC code, magistral preparations, strength -----------------------------------


def test_the_table_resolves_hpk_to_prk_to_gpk_with_leading_zeros() -> None:
    dispensings = _read().dispensings
    assert dispensings is not None
    atc = dict(
        zip(
            dispensings["patient_id"] + dispensings["date"].astype(str),
            dispensings["atc"],
            strict=True,
        )
    )
    assert atc["A10022025-03-01"] == "N05CD07"  # HPK + PRK: the PRK's GPK (written 00100029)
    assert atc["A10022025-10-01"] == "N05CF02"  # HPK only: HPK -> PRK -> GPK
    assert atc["A10032025-05-01"] == "N02AX02"  # GPK only, written 00100037 in the table
    assert atc["A10042025-06-06"] == "N05BA12"  # the product's own ATC coding


def test_a_magistral_preparation_gets_the_atc_code_of_its_one_active_ingredient() -> None:
    dispensings = _read().dispensings
    assert dispensings is not None
    magistral = dispensings[dispensings["date"] == pd.Timestamp("2025-03-03")].iloc[0]
    assert (magistral["atc"], magistral["strength_mg"], magistral["form"]) == (
        "N05BA04",
        7.5,
        "capsule",
    )


def test_codings_the_table_gives_different_atc_codes_are_refused(tmp_path: Path) -> None:
    medication = {
        "coding": [
            {"system": HPK_SYSTEM, "code": "1000017"},
            {"system": GPK_SYSTEM, "code": "100029"},
        ]
    }
    result = read_source(
        _bundle(tmp_path, _dispense_of(medication)), strict=False, code_table=TABLE
    )
    assert result.rejected["reason"].tolist() == [
        "medication's codings (urn:oid:2.16.840.1.113883.2.4.4.7|1000017, "
        "urn:oid:2.16.840.1.113883.2.4.4.1|100029) give different ATC codes in the code map or "
        "G-Standaard table (N05BA04, N05CD07); correct the table"
    ]


def test_an_atc_coding_wins_over_the_table(tmp_path: Path) -> None:
    medication = {
        "coding": [
            {"system": HPK_SYSTEM, "code": "1000017"},
            {"system": ATC_SYSTEM, "code": "N05BA12"},
        ]
    }
    result = read_source(_bundle(tmp_path, _dispense_of(medication)), code_table=TABLE)
    assert result.dispensings is not None
    assert result.dispensings["atc"].tolist() == ["N05BA12"]


def test_the_code_map_links_and_overrides_the_table(tmp_path: Path) -> None:
    medication = {"coding": [{"system": HPK_SYSTEM, "code": "01000999"}]}
    path = _bundle(tmp_path, _dispense_of(medication))
    code_map = {f"{HPK_SYSTEM}|1000999": f"{GPK_SYSTEM}|100013"}
    result = read_source(path, code_table=TABLE, code_map=code_map)
    assert result.dispensings is not None
    assert result.dispensings["atc"].tolist() == ["N05BA04"]
    over = {f"{GPK_SYSTEM}|100013": "N05BA02"}
    result = read_source(path, code_table=TABLE, code_map={**code_map, **over})
    assert result.dispensings is not None
    assert result.dispensings["atc"].tolist() == ["N05BA02"]


@pytest.mark.parametrize(
    ("name", "strength"),
    [
        ("OXAZEPAM TABLET 10MG", 10.0),
        ("TEMAZEPAM AUROBINDO CAPSULE 20MG", 20.0),
        ("LORMETAZEPAM TABLET 0,5MG", 0.5),
        ("Oxazepam tablet 7.5 mg", 7.5),
        ("DIAZEPAM DRANK 2MG/ML", None),
        ("DIAZEPAM RECTIOLE 5MG/2,5ML", None),
        ("CODEINE/PARACETAMOL TABLET 10/500MG", None),
        ("ALPRAZOLAM TABLET 250MCG", None),
        ("ALPRAZOLAM TABLET 250µG", None),
        ("OXAZEPAM TABLET 10MG 50MG", None),
        ("OXAZEPAM TABLET", None),
    ],
)
def test_strength_from_the_product_name(tmp_path: Path, name: str, strength: Any) -> None:
    medication = {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04", "display": name}]}
    result = read_source(_bundle(tmp_path, _dispense_of(medication)))
    assert result.dispensings is not None
    found = result.dispensings["strength_mg"].iloc[0]
    assert (found == strength) if strength is not None else pd.isna(found)


def test_an_ingredient_strength_wins_over_the_name(tmp_path: Path) -> None:
    resource = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04", "display": "OXAZEPAM 10MG"}]},
        "ingredient": [
            {"isActive": True, "strength": {"numerator": {"value": 15, "code": "mg"}}},
            {"isActive": False, "itemCodeableConcept": {"text": "lactose"}},
        ],
    }
    dispense = _dispense_of(None, medicationReference={"reference": "Medication/m1"})
    result = read_source(_bundle(tmp_path, resource, dispense))
    assert result.dispensings is not None
    assert result.dispensings["strength_mg"].tolist() == [15.0]


# --- nl-core-Patient ---------------------------------------------------------------------------


def test_dutch_name_parts_in_every_name_order() -> None:
    patients = _read().patients
    assert patients is not None
    got = _plain(patients, ["patient_id", "initials", "first_name", "name_prefix", "family_name"])
    assert got == [
        # NL4: own name, then the partner's; official first names (BR) give the initials, the
        # call name is the usual name's given name.
        {
            "patient_id": "A1001",
            "initials": "J.P.",
            "first_name": "Jo",
            "name_prefix": "van",
            "family_name": "Putten-van der Giessen",
        },
        # NL1: own name; initials (IN) as written, no call name.
        {
            "patient_id": "A1002",
            "initials": "H.J.",
            "first_name": None,
            "name_prefix": None,
            "family_name": "Bakker",
        },
        # NL2: the partner's name; a call name (CL) is no initial.
        {
            "patient_id": "A1003",
            "initials": "M.A.",
            "first_name": "Mieke",
            "name_prefix": "de",
            "family_name": "Vries",
        },
        # NL3: the partner's name, then the own; a given name without qualifier.
        {
            "patient_id": "A1004",
            "initials": "P.",
            "first_name": "Pieter",
            "name_prefix": "van den",
            "family_name": "Berg-Jansen",
        },
    ]
    assert patients["bsn"].tolist() == ["111222333", "123456782", "012345672", "987654329"]
    assert patients["sex"].tolist() == ["F", "M", "F", "M"]
    assert set(patients["gp_id"]) == {"01012345"}


# --- the G-Standaard table ---------------------------------------------------------------------


def test_the_table_file(tmp_path: Path) -> None:
    table = load_code_table(TABLE)
    assert table.atc_of(HPK_SYSTEM, "1000033") == "N05CF02"
    assert table.atc_of(PRK_SYSTEM, "00100021") == "N05CD07"
    assert table.atc_of(GPK_SYSTEM, "100061") is None  # a product without an ATC code
    # The Z-Index field names, ; as separator, Windows-1252 and a BOM-less header all do.
    other = tmp_path / "zindex.csv"
    other.write_bytes(
        "HPKODE;PRKODE;GPKODE;ATCODE;Omschrijving\n"
        "01000017;00100005;00100013;N05BA04;OXAZEPAM CAFÉ\n".encode("cp1252")
    )
    assert load_code_table(other).atc_of(HPK_SYSTEM, "1000017") == "N05BA04"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpk,naam\n1,x\n", "line 1: a G-Standaard table needs an 'atc' column"),
        ("gpk,atc,GPKODE\n1,N05BA04,1\n", "line 1: the column 'gpk' is there twice"),
        ("gpk,atc\n12a,N05BA04\n", "line 2, column 'gpk': not a G-Standaard code"),
        ("gpk,atc\n123456789,N05BA04\n", "line 2, column 'gpk': not a G-Standaard code"),
        ("gpk,atc\n1,Bloemendaal\n", "line 2, column 'atc': not an ATC code"),
        ("gpk,atc\n1,N05BA04,x\n", "line 2: 3 fields, the header has 2"),
        (
            "gpk,atc\n1,N05BA04\n0001,N05BA12\n",
            "lines 2 and 3: one GPK is given two ATC codes (N05BA04 and N05BA12)",
        ),
        (
            "hpk,prk,atc\n7,10,\n7,11,\n",
            "lines 2 and 3: one HPK belongs to two different PRKs",
        ),
        (
            "hpk,gpk,atc\n7,,N05BA12\n,1,N05BA04\n7,1,\n",
            "line 2: the HPK is given the ATC code N05BA12, but the GPK it belongs to has N05BA04",
        ),
        ("\n\n", "the G-Standaard table is empty"),
    ],
)
def test_a_table_that_cannot_be_used_is_refused_naming_the_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileError) as caught:
        load_code_table(path)
    assert message in str(caught.value)
    assert "Bloemendaal" not in str(caught.value)


def test_a_mapping_file_names_the_table_and_links_codes(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "g.csv").write_text(TABLE.read_text())
    mapping = tmp_path / "mp9.toml"
    mapping.write_text(
        'format = "fhir"\ncode_table = "tables/g.csv"\n\n[code_map]\n'
        f'"{HPK_SYSTEM}|1000076" = "{GPK_SYSTEM}|100053"\n'
        f'"{GPK_SYSTEM}|100053" = "n05cd06"\n'
    )
    loaded = load_mapping(mapping)
    assert loaded.code_table == tmp_path / "tables" / "g.csv"
    assert loaded.code_map[f"{HPK_SYSTEM}|1000076"] == f"{GPK_SYSTEM}|100053"
    assert loaded.code_map[f"{GPK_SYSTEM}|100053"] == "N05CD06"
    result = read_source(BUNDLE, mapping=mapping, strict=False)
    assert result.dispensings is not None
    assert "N05CD06" in set(result.dispensings["atc"])  # the lormetazepam, linked in the map
    assert result.counts["dispensings"].rows_rejected == 1  # the magistral melatonin


def test_a_mapping_file_naming_a_missing_table_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "mp9.toml"
    mapping.write_text('format = "fhir"\ncode_table = "nowhere.csv"\n')
    with pytest.raises(
        MappingFileError, match=r"mp9\.toml: code_table = 'nowhere\.csv': no such file"
    ):
        load_mapping(mapping)
    with pytest.raises(MappingFileError, match="code_table must be the path of a CSV file"):
        load_mapping({"code_table": 5})


def test_a_code_table_is_checked_when_made_in_code() -> None:
    with pytest.raises(TypeError):
        CodeTable(atc={"not a pair": "N05BA04"})  # type: ignore[dict-item]
    looped = code_table_from_map(
        {f"{HPK_SYSTEM}|1": f"{PRK_SYSTEM}|2", f"{PRK_SYSTEM}|2": f"{HPK_SYSTEM}|1"}
    )
    assert looped.atc_of(HPK_SYSTEM, "1") is None  # a loop of links ends


# --- helpers ---------------------------------------------------------------------------------

ATC_OXAZEPAM = {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}]}


def _dispense_of(medication: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    dispense: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": "2025-03-01",
        "quantity": {"value": 30},
    }
    if medication is not None:
        dispense["medicationCodeableConcept"] = medication
    dispense.update(fields)
    return dispense


def _bundle(folder: Path, *resources: dict[str, Any]) -> Path:
    path = folder / "bundle.json"
    entries = [{"resource": r} for r in resources]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def test_the_how_to_command_on_the_shipped_example(examples: Path, tmp_path: Path) -> None:
    """docs/howto/read-mp9.rst: the command stops on the product without an ATC code, and
    with --skip-invalid selects the example's patient (30 + 30 + 40 tablets)."""
    from click.testing import CliRunner

    from benzoredux.cli import EXIT_DATA_ERROR, main

    command = [
        "select",
        str(examples / "mp9-bundle.json"),
        "--mapping",
        str(examples / "mp9-mapping.toml"),
        "--reference-date",
        "2025-12-31",
    ]
    stopped = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "a")])
    assert stopped.exit_code == EXIT_DATA_ERROR
    assert "product 'LORMETAZEPAM ACME TABLET 1MG'" in stopped.output
    done = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "b"), "--skip-invalid"])
    assert done.exit_code == 0, done.output
    chronic = pd.read_csv(tmp_path / "b" / "chronic_users.csv", encoding="utf-8-sig")
    assert chronic[["patient_id", "units"]].values.tolist() == [["M1001", 100.0]]


def test_a_g_standaard_code_of_thousands_of_digits_is_no_crash() -> None:
    """Found by the XML fuzzer: int() of a 5,000-digit code exceeds Python's limit on long
    digit strings and crashed the read; the key and the free-range check work on the digits."""
    from benzoredux_adapters.gstandaard import code_key, is_own_code

    long = "9" + "0" * 4999
    assert code_key(HPK_SYSTEM, "000" + long) == (HPK_SYSTEM, long)
    assert not is_own_code(HPK_SYSTEM, long)
    assert is_own_code(HPK_SYSTEM, "0090001234")
    document = json.loads(BUNDLE.read_text(encoding="utf-8"))
    text = json.dumps(document).replace('"code": "', f'"code": "{long}', 1)
    result = read_source_text(text)
    assert result.reconciles


def read_source_text(text: str) -> ReadResult:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(text, encoding="utf-8")
        return _read(path)
