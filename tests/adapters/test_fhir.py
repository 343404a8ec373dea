"""The FHIR reader: Bundle and NDJSON, ATC and code maps, ICPC, quantities, time zones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.reading import ReadError, read_source
from benzoredux_adapters.fhir import ATC_SYSTEM, FhirReader

from .roundtrip import same_table


def test_bundle_with_code_map(examples: Path) -> None:
    result = read_source(examples / "fhir-bundle.json", mapping=examples / "fhir-mapping.toml")
    assert result.format == "fhir"
    dispensings = result.dispensings
    assert dispensings is not None
    assert dispensings["atc"].tolist() == ["N05BA04", "N05BA04", "N05CD07", "N05BA04", "N05CD07"]
    # 2025-06-30T23:30Z is 1 July in the Netherlands.
    assert dispensings["date"].tolist()[1] == pd.Timestamp("2025-07-01")
    # The prescriber comes from the authorising prescription's requester, by AGB code.
    assert dispensings["prescriber_id"].tolist()[0] == "01012345"
    # Form and mg per unit from the referenced Medication.
    assert (dispensings["form"].tolist()[2], dispensings["strength_mg"].tolist()[2]) == (
        "capsule",
        20.0,
    )
    assert result.ignored == {
        "Practitioner (looked up by reference)": 1,
        "Medication (looked up by reference)": 1,
        "MedicationRequest (the dispenses are counted instead)": 1,
        "MedicationDispense with status cancelled": 1,
        "Condition without an ICPC coding": 1,
        "Observation": 1,
    }


def test_patients_and_episodes_of_the_bundle(examples: Path) -> None:
    result = read_source(examples / "fhir-bundle.json", mapping=examples / "fhir-mapping.toml")
    patients = result.patients
    assert patients is not None
    first = patients.iloc[0]
    assert (first["name_prefix"], first["family_name"], first["initials"]) == (
        "van den",
        "Heuvel",
        "J.M.",
    )
    assert (first["street"], first["house_number"], first["postcode"]) == (
        "Molenweg",
        "5",
        "6511 AB",
    )
    assert (first["bsn"], first["gp_id"], first["sex"]) == ("321146487", "01012345", "F")
    second = patients.iloc[1]
    assert (second["status"], second["status_date"]) == ("deceased", pd.Timestamp("2025-08-14"))
    episodes = result.episodes
    assert episodes is not None
    assert episodes[["patient_id", "icpc"]].values.tolist() == [["F4001", "P06"]]


def test_a_drug_without_atc_or_code_map_entry_is_rejected_with_its_codings(
    examples: Path,
) -> None:
    with pytest.raises(ReadError) as caught:
        read_source(examples / "fhir-bundle.json")
    assert (
        "fhir-bundle.json, entry 7 (MedicationDispense/md-3): medication has no ATC coding "
        "(http://www.whocc.no/atc) and no code-map entry for its codings "
        "(urn:oid:2.16.840.1.113883.2.4.4.7|1234567)"
    ) in str(caught.value)


def test_ndjson_requests_count_when_there_are_no_dispenses(examples: Path) -> None:
    source = examples / "fhir-requests.ndjson"
    assert FhirReader().detect(source) == 0.9
    result = read_source(source, code_map={"urn:oid:2.16.840.1.113883.2.4.4.7|1234567": "n05cd07"})
    dispensings = result.dispensings
    assert dispensings is not None
    assert dispensings["quantity"].tolist() == [30.0] * 4
    assert set(dispensings["atc"]) == {"N05CD07"}  # contained Medication, code map upper-cased
    assert result.ignored["MedicationRequest with status draft and intent order"] == 1
    never = read_source(source, format="fhir", fhir_requests="never", code_map={})
    assert never.dispensings is None
    assert never.ignored["MedicationRequest (fhir_requests='never')"] == 5


def _dispense(index: int, **fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "MedicationDispense",
        "id": f"d{index}",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": "2025-03-01",
        "quantity": {"value": 30},
        "medicationCodeableConcept": {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}]},
    }
    resource.update(fields)
    return resource


def test_ndjson_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "MedicationDispense.ndjson"
    lines = [
        _dispense(1),
        _dispense(2, whenHandedOver="2025-03"),  # a partial date is not a dispensing date
        _dispense(3, quantity={"value": "veel"}),
    ]
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    result = read_source(path, strict=False)
    assert result.rejected[["line", "column", "reason"]].values.tolist() == [
        [2, "date", "date is not a date (YYYY-MM-DD)"],
        [3, "quantity", "quantity is not a number written with a decimal point"],
    ]
    assert result.counts["dispensings"].reconciles


def test_invalid_json_lines_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text(json.dumps(_dispense(1)) + "\n{oops\n[1, 2]\n")
    with pytest.raises(
        ReadError, match=r"(?s)x\.ndjson, line 2: not JSON.*x\.ndjson, line 3: not a FHIR resource"
    ):
        read_source(path, format="fhir")


def test_round_trip_of_a_bundle(tmp_path: Path) -> None:
    expected = pd.DataFrame(
        {
            "patient_id": ["p1", "p1", "p2"],
            "date": pd.to_datetime(["2025-01-02", "2025-02-03", "2025-12-31"]),
            "atc": ["N05BA04", "N05CD07", "N05CF01"],
            "quantity": [30.0, 2.5, -10.0],
        }
    )
    entries = [
        {
            "resource": _dispense(
                i,
                subject={"reference": f"Patient/{row.patient_id}"},
                whenHandedOver=row.date.date().isoformat(),
                quantity={"value": row.quantity},
                medicationCodeableConcept={"coding": [{"system": ATC_SYSTEM, "code": row.atc}]},
            )
        }
        for i, row in enumerate(expected.itertuples())
    ]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    result = read_source(path)
    same_table(result.tables["dispensings"], expected)


def test_a_folder_of_ndjson_files(tmp_path: Path) -> None:
    (tmp_path / "MedicationDispense.ndjson").write_text(json.dumps(_dispense(1)) + "\n")
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    (tmp_path / "Patient.ndjson").write_text(json.dumps(patient) + "\n")
    result = read_source(tmp_path)
    assert result.format == "fhir"
    assert set(result.tables) == {"dispensings", "patients"}
