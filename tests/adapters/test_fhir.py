"""The FHIR reader: Bundle and NDJSON, ATC and code maps, ICPC, quantities, time zones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.reading import ReadError, ReadResult, read_source
from benzoredux_adapters.fhir import ATC_SYSTEM, BSN_SYSTEM, FhirReader

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
        "fhir-bundle.json, entry 7 (MedicationDispense): medication has no ATC coding "
        "(http://www.whocc.no/atc) and no code-map or G-Standaard table entry for its codings "
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


def _problems(result: ReadResult) -> list[list[Any]]:
    """``line, column, reason`` of each problem, missing values as ``None``."""
    frame = result.rejected[["line", "column", "reason"]].astype(object)
    return frame.where(frame.notna(), None).values.tolist()


def test_ndjson_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "MedicationDispense.ndjson"
    lines = [
        _dispense(1),
        _dispense(2, whenHandedOver="2025-03"),  # a partial date is not a dispensing date
        _dispense(3, quantity={"value": "veel"}),
    ]
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    result = read_source(path, strict=False)
    assert _problems(result) == [
        [2, "date", "not a real date written YYYY-MM-DD"],
        # FHIR writes a decimal as a JSON number: text is the wrong shape, named by its path.
        [3, None, "MedicationDispense.quantity.value is text, not a number"],
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


# --- issue 16: one bad record never sinks the file, and no message carries personal data -----

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "gender": "female",
    "birthDate": "1948-05-12",
    "name": [{"family": "Bloemendaal", "given": ["Hendrikje"]}],
    "identifier": [{"system": BSN_SYSTEM, "value": "111222333"}],
}
PERSONAL = ("Bloemendaal", "Hendrikje", "111222333", "1948-05-12", "123456782", "9711 KL")


def _ndjson(path: Path, *resources: Any) -> Path:
    """Resources one per line; ``bytes`` and ``str`` items are written as they are."""
    lines = []
    for resource in resources:
        if isinstance(resource, bytes):
            lines.append(resource)
        elif isinstance(resource, str):
            lines.append(resource.encode())
        else:
            lines.append(json.dumps(resource).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _bundle(path: Path, *entries: Any, raw: str | None = None) -> Path:
    """A Bundle of ``entries`` (a dict is wrapped as ``{"resource": ...}``); ``raw`` replaces
    the text ``"@raw@"`` (JSON that :func:`json.dumps` cannot write)."""
    items = [{"resource": e} if isinstance(e, dict) and "resourceType" in e else e for e in entries]
    text = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": items}, indent=1)
    if raw is not None:
        text = text.replace('"@raw@"', raw)
    path.write_text(text)
    return path


def _messages(result: ReadResult) -> str:
    return "\n".join([result.report(limit=1000), *result.notes, *result.ignored])


def _reconciles(result: ReadResult, records: int) -> None:
    """Every record is a row read (kept or rejected) or counted in ``ignored``."""
    assert result.reconciles
    rows = sum(c.rows_read for c in result.counts.values())
    assert rows + sum(result.ignored.values()) == records


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        # Year 1 at +14:00 is 31 December of year 0 in the Netherlands (was an OverflowError).
        (
            {"whenHandedOver": "0001-01-01T00:00:00+14:00"},
            "MedicationDispense.whenHandedOver falls outside the years 1 to 9999 in Dutch time",
        ),
        (
            {"whenHandedOver": "9999-12-31T23:59:59-10:00"},
            "MedicationDispense.whenHandedOver falls outside the years 1 to 9999 in Dutch time",
        ),
        # A 401-digit quantity does not fit a float (was an OverflowError).
        (
            {"quantity": {"value": int("9" * 401)}},
            "MedicationDispense.quantity.value has 401 digits, too many to be a number",
        ),
        ({"quantity": 30}, "MedicationDispense.quantity is a number, not an object"),
        (
            {"quantity": {"value": True}},
            "MedicationDispense.quantity.value is true or false, not a number",
        ),
        (
            {"quantity": {"value": float("nan")}},
            "MedicationDispense.quantity.value is not a finite number (NaN and Infinity are not "
            "JSON)",
        ),
        ({"subject": "Patient/p1"}, "MedicationDispense.subject is text, not an object"),
        (
            {"medicationCodeableConcept": {"coding": {"system": ATC_SYSTEM, "code": "N05BA04"}}},
            "MedicationDispense.medicationCodeableConcept.coding is an object, not a list",
        ),
        (
            {"medicationCodeableConcept": {"coding": ["N05BA04"]}},
            "MedicationDispense.medicationCodeableConcept.coding[0] is text, not an object",
        ),
        (
            {"whenHandedOver": "12-05-1948"},
            "MedicationDispense.whenHandedOver is not a FHIR date or dateTime (YYYY-MM-DD, "
            "optionally with a time)",
        ),
        (
            {"status": "Vermeulenplant"},
            "MedicationDispense.status is not one of the codes cancelled, completed, declined, "
            "entered-in-error, in-progress, on-hold, preparation, stopped, unknown",
        ),
        (
            {"authorizingPrescription": {"reference": "MedicationRequest/r1"}},
            "MedicationDispense.authorizingPrescription is an object, not a list",
        ),
    ],
)
def test_a_dispense_of_the_wrong_shape_is_a_rejected_row(
    tmp_path: Path, fields: dict[str, Any], reason: str
) -> None:
    last = _dispense(3, quantity={"value": 5})
    path = _ndjson(tmp_path / "d.ndjson", _dispense(1), _dispense(2, **fields), last)
    result = read_source(path, strict=False)
    assert _problems(result) == [[2, None, reason]]
    dispensings = result.dispensings
    assert dispensings is not None
    assert dispensings["quantity"].tolist() == [30.0, 5.0]
    _reconciles(result, 3)
    with pytest.raises(ReadError, match=re.escape(f"d.ndjson, line 2: {reason}")):
        read_source(path)


def test_a_name_that_is_an_object_rejects_the_patient_not_the_file(tmp_path: Path) -> None:
    """The issue's KeyError: ``name`` an object instead of a list."""
    other = {**PATIENT, "id": "p2", "name": {"family": "Bloemendaal", "given": ["Hendrikje"]}}
    path = _bundle(tmp_path / "b.json", PATIENT, other, _dispense(1))
    result = read_source(path, strict=False)
    problems = result.rejected[["record", "reason"]].values.tolist()
    assert problems == [["entry 1 (Patient)", "Patient.name is an object, not a list"]]
    assert result.patients is not None
    assert result.patients["patient_id"].tolist() == ["p1"]
    assert result.dispensings is not None
    assert len(result.dispensings) == 1
    _reconciles(result, 3)
    assert not any(value in _messages(result) for value in PERSONAL)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        # The swapped column: an unknown gender was shown ("value 'Vermeulenplant'").
        (
            {"gender": "Vermeulenplant"},
            "Patient.gender is not one of the codes female, male, other, unknown",
        ),
        (
            {"identifier": [{"system": BSN_SYSTEM, "value": 123456782}]},
            "Patient.identifier[0].value is a number, not text",
        ),
        ({"birthDate": ["1948-05-12"]}, "Patient.birthDate is a list, not text"),
        (
            {"address": [{"postalCode": {"code": "9711 KL"}}]},
            "Patient.address[0].postalCode is an object, not text",
        ),
        ({"name": [{"given": "Hendrikje"}]}, "Patient.name[0].given is text, not a list"),
        (
            {"name": [{"family": "Bloemendaal\udc80"}]},
            "Patient.name[0].family holds an escape that is not a Unicode character",
        ),
        ({"deceasedBoolean": "Bloemendaal"}, "Patient.deceasedBoolean is text, not true or false"),
        (
            {"generalPractitioner": {"reference": "Practitioner/x"}},
            "Patient.generalPractitioner is an object, not a list",
        ),
    ],
)
def test_a_patient_of_the_wrong_shape_is_rejected_without_its_values(
    tmp_path: Path, fields: dict[str, Any], reason: str
) -> None:
    path = _ndjson(tmp_path / "p.ndjson", PATIENT, {**PATIENT, "id": "p2", **fields})
    result = read_source(path, format="fhir", strict=False)
    assert _problems(result) == [[2, None, reason]]
    _reconciles(result, 2)
    with pytest.raises(ReadError) as caught:
        read_source(path, format="fhir")
    assert not any(value in str(caught.value) for value in PERSONAL)


def test_a_referenced_resource_of_the_wrong_shape_rejects_who_refers_to_it(
    tmp_path: Path,
) -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"coding": "N05BA04"}}
    practitioner = {"resourceType": "Practitioner", "id": "gp", "identifier": {"value": "1"}}
    request = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "requester": {"reference": "Practitioner/gp"},
    }
    path = _bundle(
        tmp_path / "b.json",
        medication,
        practitioner,
        request,
        _dispense(
            1, medicationCodeableConcept=None, medicationReference={"reference": "Medication/m1"}
        ),
        _dispense(2, authorizingPrescription=[{"reference": "MedicationRequest/r1"}]),
        _dispense(3, quantity={"value": 12}),
    )
    result = read_source(path, strict=False)
    assert result.rejected[["record", "reason"]].values.tolist() == [
        [
            "entry 3 (MedicationDispense)",
            "MedicationDispense.medicationReference -> Medication.code.coding is text, not a list",
        ],
        [
            "entry 4 (MedicationDispense)",
            "MedicationDispense.authorizingPrescription[0] -> MedicationRequest.requester -> "
            "Practitioner.identifier is an object, not a list",
        ],
    ]
    assert result.dispensings is not None
    assert result.dispensings["quantity"].tolist() == [12.0]
    _reconciles(result, 6)


def test_json_nested_too_deep_is_one_unreadable_line_of_ndjson(tmp_path: Path) -> None:
    """The issue's RecursionError: a line nested 100,000 deep is a record that cannot be read."""
    deep = "[" * 100_000 + "]" * 100_000
    path = _ndjson(tmp_path / "d.ndjson", _dispense(1), deep, _dispense(2, quantity={"value": 5}))
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert len(result.dispensings) == 2
    assert result.notes == (
        "d.ndjson, line 2: not readable: nested too deeply (100000 levels; no FHIR resource "
        "is); not read",
    )
    _reconciles(result, 3)
    with pytest.raises(ReadError, match=r"d\.ndjson, line 2: not readable: nested too deeply"):
        read_source(path)


def test_a_bundle_nested_too_deep_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = _bundle(tmp_path / "b.json", _dispense(1), _dispense(2, note="@raw@"), raw=deep)
    text = path.read_text()
    line = text[: text.index('"note"')].count("\n") + 1
    with pytest.raises(ReadError) as caught:
        read_source(path, format="fhir", strict=False)
    assert str(caught.value) == (
        f"b.json, line {line}: not readable: nested too deeply (100004 levels; no FHIR "
        "resource is); the file cannot be read"
    )
    assert caught.value.result is None


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("Bloemendaal", "Bundle.entry[1] is text, not an object"),
        (42, "Bundle.entry[1] is a number, not an object"),
        ({"fullUrl": "urn:uuid:1"}, "Bundle.entry[1] has no resource"),
        ({"resource": ["Bloemendaal"]}, "not a FHIR resource (a list, not an object)"),
        ({"resource": {"id": "x"}}, "not a FHIR resource (no resourceType)"),
        (
            {"resource": {"resourceType": "Bloemendaal"}},
            "not a FHIR R4 resource (its resourceType is no R4 resource type)",
        ),
    ],
)
def test_a_bundle_entry_that_is_no_resource_is_named_and_the_rest_read(
    tmp_path: Path, entry: Any, problem: str
) -> None:
    path = _bundle(tmp_path / "b.json", _dispense(1), entry, _dispense(2, quantity={"value": 5}))
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert len(result.dispensings) == 2
    assert result.notes == (f"b.json, entry 1: {problem}; not read",)
    _reconciles(result, 3)
    assert "Bloemendaal" not in _messages(result)
    with pytest.raises(ReadError) as caught:
        read_source(path)
    assert f"b.json, entry 1: {problem}" in str(caught.value)
    assert "Bloemendaal" not in str(caught.value)


@pytest.mark.parametrize("entry", [{}, "x", 5])
def test_a_bundle_entry_that_is_not_a_list_is_a_file_error(tmp_path: Path, entry: Any) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": entry}))
    with pytest.raises(ReadError, match=r"^b\.json: Bundle\.entry is .*, not a list$"):
        read_source(path, format="fhir", strict=False)


def test_a_resource_with_a_key_twice_is_rejected(tmp_path: Path) -> None:
    """JSON names are unique in FHIR: which of two quantities holds is unknown."""
    twice = json.dumps(_dispense(2)).replace(
        '"quantity":', '"quantity": {"value": 3000}, "quantity":'
    )
    path = _ndjson(tmp_path / "d.ndjson", _dispense(1), twice)
    result = read_source(path, strict=False)
    assert _problems(result) == [
        [
            2,
            None,
            "MedicationDispense holds an object with the same key twice (JSON names must "
            "be unique)",
        ]
    ]
    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": _dispense(1)}]}).replace(
            '"resourceType": "Bundle"', '"resourceType": "Bundle", "entry": []'
        )
    )
    with pytest.raises(ReadError, match="the Bundle has the same key twice"):
        read_source(bundle, format="fhir", strict=False)


def test_records_that_are_not_resources_do_not_stop_a_lenient_read(tmp_path: Path) -> None:
    path = _ndjson(
        tmp_path / "x.ndjson",
        _dispense(1),
        "{oops",
        '"Bloemendaal"',
        b"\xff\xfe not UTF-8",
        '{"resourceType": "Bloemendaal", "id": "111222333"}',
        _dispense(2, quantity={"value": 5}),
    )
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert len(result.dispensings) == 2
    assert result.ignored == {"records that are not FHIR R4 resources (named in notes)": 4}
    assert result.notes == (
        "x.ndjson, line 2: not JSON (Expecting property name enclosed in double quotes); not read",
        "x.ndjson, line 3: not a FHIR resource (text, not an object); not read",
        "x.ndjson, line 4: not UTF-8 text; not read",
        "x.ndjson, line 5: not a FHIR R4 resource (its resourceType is no R4 resource type); "
        "not read",
    )
    _reconciles(result, 6)
    assert not any(value in _messages(result) for value in PERSONAL)


def test_a_line_separator_inside_a_string_does_not_split_an_ndjson_line(tmp_path: Path) -> None:
    """JSON allows U+2028 unescaped in a string; str.splitlines() would cut the line there."""
    path = tmp_path / "p.ndjson"
    path.write_text(json.dumps({**PATIENT, "name": [{"family": "a\u2028b"}]}, ensure_ascii=False))
    result = read_source(path, format="fhir")
    assert result.patients is not None
    assert result.patients["family_name"].tolist() == ["a\u2028b"]


def test_record_labels_and_codings_carry_no_personal_data(tmp_path: Path) -> None:
    """A resource id (which may be a BSN) is not repeated, nor a code shaped like personal data;
    a product code is (it is what a code map needs)."""
    codings = [
        {"system": "urn:oid:2.16.840.1.113883.2.4.4.7", "code": "1234567"},
        {"system": "urn:oid:2.16.840.1.113883.2.4.4.7", "code": "123456782"},
        {"system": "http://example.org/names", "code": "Bloemendaal"},
        {"system": "Hendrikje", "code": "1948-05-12"},
    ]
    dispense = _dispense(1, id="111222333", medicationCodeableConcept={"coding": codings})
    path = _bundle(tmp_path / "b.json", dispense)
    result = read_source(path, strict=False)
    assert result.rejected["record"].tolist() == ["entry 0 (MedicationDispense)"]
    assert result.rejected["reason"].tolist() == [
        "medication has no ATC coding (http://www.whocc.no/atc) and no code-map or G-Standaard "
        "table entry for its codings (urn:oid:2.16.840.1.113883.2.4.4.7|1234567, "
        "urn:oid:2.16.840.1.113883.2.4.4.7|<hidden>, http://example.org/names|<hidden>, "
        "<hidden>|<hidden>)"
    ]
    assert not any(value in _messages(result) for value in PERSONAL)


def test_an_unknown_resource_type_is_not_repeated(tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "x.ndjson", _dispense(1), {"resourceType": "Observation", "id": "o"})
    assert read_source(path).ignored == {"Observation": 1}
    path = _ndjson(tmp_path / "y.ndjson", _dispense(1), {"resourceType": "Bloemendaal"})
    with pytest.raises(ReadError) as caught:
        read_source(path, format="fhir")
    assert "Bloemendaal" not in str(caught.value)
    assert caught.value.result is not None
    assert "Bloemendaal" not in "".join(caught.value.result.ignored)


def test_a_status_outside_its_value_set_is_rejected_not_shown(tmp_path: Path) -> None:
    """An unknown status was an ``ignored`` key holding the value as written."""
    path = _ndjson(tmp_path / "x.ndjson", _dispense(1), _dispense(2, status="Bloemendaal"))
    result = read_source(path, strict=False)
    assert "Bloemendaal" not in _messages(result)
    assert result.counts["dispensings"].rows_rejected == 1


@pytest.mark.parametrize(
    ("when", "date"),
    [
        ("2025-12-31T23:59:60Z", "2026-01-01"),  # a leap second (23:59:59 UTC is 00:59 in NL)
        ("2025-06-30T23:30:00Z", "2025-07-01"),
        ("2025-06-30T12:00:00.123456789+02:00", "2025-06-30"),
    ],
)
def test_fhir_date_times_become_the_dutch_date(tmp_path: Path, when: str, date: str) -> None:
    path = _ndjson(tmp_path / "d.ndjson", _dispense(1, whenHandedOver=when))
    dispensings = read_source(path).dispensings
    assert dispensings is not None
    assert dispensings["date"].tolist() == [pd.Timestamp(date)]


def test_a_quantity_in_exponent_notation_is_read_as_its_number(tmp_path: Path) -> None:
    """1e20 was passed on as "1e+20" and rejected as not written with a decimal point; it is a
    number (whether it is a plausible quantity is the dispensings schema's question)."""
    path = _ndjson(tmp_path / "d.ndjson", _dispense(1, quantity={"value": 1e20}))
    result = read_source(path, strict=False)
    assert "decimal point" not in _messages(result)
    kept = result.dispensings
    assert kept is not None
    assert kept["quantity"].tolist() == [1e20] or result.rejected["column"].tolist() == ["quantity"]
