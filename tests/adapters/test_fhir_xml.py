"""FHIR XML (issue 18): the same content in XML reads as it does in JSON, safely.

Most tests write a JSON case as XML with a test-only writer (:mod:`.fhir_xml_writer`, which
knows the XML representation's rules but not the reader's element table) and read both: the
tables, the rows counted as ignored, the notes and the reasons of the rejected rows must be
the same. Where XML cannot say what JSON says (a number where text belongs, an object where a
list belongs) the XML outcome is stated. Then what only XML has: transaction Bundles, primitive
extensions, repeated elements, malformed documents and the attacks an XML parser must refuse.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from benzoredux.cli import main
from benzoredux.reading import ReadError, ReadResult, read_source
from benzoredux_adapters import fhir_xml
from benzoredux_adapters.fhir import ATC_SYSTEM, BSN_SYSTEM, FhirReader

from .fhir_xml_writer import to_xml, write_xml

DATA = Path(__file__).parent / "data"
PERSONAL = ("Bloemendaal", "Hendrikje", "111222333", "1948-05-12", "123456782", "9711 KL")
HPK = "urn:oid:2.16.840.1.113883.2.4.4.7"

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "gender": "female",
    "birthDate": "1948-05-12",
    "name": [{"family": "Bloemendaal", "given": ["Hendrikje"]}],
    "identifier": [{"system": BSN_SYSTEM, "value": "111222333"}],
}


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
    return {k: v for k, v in resource.items() if v is not None}


def _bundle(*entries: Any, kind: str = "collection") -> dict[str, Any]:
    items = [{"resource": e} if isinstance(e, dict) and "resourceType" in e else e for e in entries]
    return {"resourceType": "Bundle", "type": kind, "entry": items}


def _location_free(text: str) -> str:
    """A message without where it is: JSON names a Bundle entry, XML the line (and entry)."""
    text = re.sub(r"line \d+ \((entry \d+)\)", r"\1", text)
    text = re.sub(r", (?:line \d+|entry \d+ \(\w+\)):", ":", text)
    return re.sub(r"\b\w+\.(?:json|xml)\b", "FILE", text)


def _reasons(result: ReadResult) -> list[list[Any]]:
    frame = result.rejected[["table", "column", "reason"]].astype(object)
    return frame.where(frame.notna(), None).values.tolist()


def _same(json_result: ReadResult, xml_result: ReadResult) -> None:
    """The two reads agree on everything but where a record is (entry or line)."""
    assert set(json_result.tables) == set(xml_result.tables)
    for name, table in json_result.tables.items():
        pd.testing.assert_frame_equal(table, xml_result.tables[name])
    assert dict(json_result.ignored) == dict(xml_result.ignored)
    assert [_location_free(n) for n in json_result.notes] == [
        _location_free(n) for n in xml_result.notes
    ]
    assert _reasons(json_result) == _reasons(xml_result)
    assert {
        k: (c.rows_read, c.rows_valid, c.rows_rejected) for k, c in json_result.counts.items()
    } == {k: (c.rows_read, c.rows_valid, c.rows_rejected) for k, c in xml_result.counts.items()}


def _both(tmp_path: Path, document: dict[str, Any], **options: Any) -> tuple[Any, Any]:
    """Read ``document`` as JSON and as XML; each is a ReadResult or the ReadError raised."""
    found = []
    for path in (tmp_path / "export.json", tmp_path / "export.xml"):
        if path.suffix == ".json":
            path.write_text(json.dumps(document, indent=1))
        else:
            write_xml(path, document)
        try:
            found.append(read_source(path, format="fhir", **options))
        except ReadError as error:
            found.append(error)
    return found[0], found[1]


def _messages(result: ReadResult) -> str:
    return "\n".join([result.report(limit=1000), *result.notes, *result.ignored])


# --- the same content, JSON and XML ------------------------------------------------------------


def test_the_example_bundle_reads_the_same_in_xml(examples: Path, tmp_path: Path) -> None:
    """The shipped example Bundle, written as XML: the same dispensings, patients, episodes,
    ignored resources and notes; detected as FHIR without a format."""
    document = json.loads((examples / "fhir-bundle.json").read_text())
    source = write_xml(tmp_path / "fhir-bundle.xml", document)
    mapping = examples / "fhir-mapping.toml"
    as_xml = read_source(source, mapping=mapping)
    assert as_xml.format == "fhir"
    _same(read_source(examples / "fhir-bundle.json", mapping=mapping), as_xml)


def test_without_the_code_map_the_same_dispense_is_refused_by_its_line(
    examples: Path, tmp_path: Path
) -> None:
    document = json.loads((examples / "fhir-bundle.json").read_text())
    source = write_xml(tmp_path / "fhir-bundle.xml", document)
    with pytest.raises(ReadError) as from_json:
        read_source(examples / "fhir-bundle.json")
    with pytest.raises(ReadError) as from_xml:
        read_source(source)
    assert _location_free(str(from_json.value)) == _location_free(str(from_xml.value))
    # The XML message names the line where the dispense's resource starts.
    lines = source.read_text().splitlines()
    line = int(re.search(r"fhir-bundle\.xml, line (\d+):", str(from_xml.value))[1])  # type: ignore[index]
    assert lines[line - 1].strip() == "<MedicationDispense>"
    assert "entry 7 (MedicationDispense)" in from_json.value.result.rejected["record"].tolist()  # type: ignore[union-attr]


def test_the_mp9_example_reads_the_same_in_xml(examples: Path, tmp_path: Path) -> None:
    """Issue 18's "done when": an MP9 bundle in XML or JSON, with G-Standaard codes and the
    practice's table, gives the same dispensings, patients and counts, and the same product
    without an ATC code reported."""
    source = examples / "mp9-bundle.json"
    if not source.exists():  # pragma: no cover - the MP9 example comes with the MP9 reader
        pytest.skip("no MP9 example")
    mapping = tmp_path / "mp9-mapping.toml"
    shutil.copy(examples / "mp9-mapping.toml", mapping)
    shutil.copy(examples / "g-standaard.csv", tmp_path / "g-standaard.csv")
    as_xml = write_xml(tmp_path / "mp9-bundle.xml", json.loads(source.read_text()))
    from_json = read_source(source, mapping=examples / "mp9-mapping.toml", strict=False)
    from_xml = read_source(as_xml, mapping=mapping, strict=False)
    _same(from_json, from_xml)
    assert len(from_xml.rejected) >= 1  # the product without an ATC code, by its line
    assert from_xml.rejected["line"].notna().all()


def test_ndjson_lines_as_a_folder_of_xml_resources(examples: Path, tmp_path: Path) -> None:
    """FHIR XML has no NDJSON: one resource per file is its bulk form. The example NDJSON
    as a folder of XML files gives the same tables and ignored rows."""
    lines = (examples / "fhir-requests.ndjson").read_text().splitlines()
    folder = tmp_path / "export"
    folder.mkdir()
    for number, line in enumerate(lines):
        write_xml(folder / f"resource-{number:02d}.xml", json.loads(line))
    code_map = {f"{HPK}|1234567": "n05cd07"}
    as_json = read_source(examples / "fhir-requests.ndjson", code_map=code_map)
    as_xml = read_source(folder, code_map=code_map)
    assert as_xml.format == "fhir"
    for name, table in as_json.tables.items():
        pd.testing.assert_frame_equal(table, as_xml.tables[name])
    assert dict(as_json.ignored) == dict(as_xml.ignored)


def test_round_trip_of_a_bundle(tmp_path: Path) -> None:
    rows = [("p1", "2025-01-02", "N05BA04", 30), ("p1", "2025-02-03", "N05CD07", 2.5)]
    rows.append(("p2", "2025-12-31", "N05CF01", -10))
    document = _bundle(
        *(
            _dispense(
                i,
                subject={"reference": f"Patient/{patient}"},
                whenHandedOver=date,
                quantity={"value": quantity},
                medicationCodeableConcept={"coding": [{"system": ATC_SYSTEM, "code": atc}]},
            )
            for i, (patient, date, atc, quantity) in enumerate(rows)
        )
    )
    as_json, as_xml = _both(tmp_path, document)
    _same(as_json, as_xml)
    assert as_xml.dispensings["quantity"].tolist() == [30.0, 2.5, -10.0]


SAME = "the same as JSON"


@pytest.mark.parametrize(
    ("fields", "xml_reason"),
    [
        ({"whenHandedOver": "0001-01-01T00:00:00+14:00"}, SAME),
        ({"whenHandedOver": "9999-12-31T23:59:59-10:00"}, SAME),
        ({"whenHandedOver": "12-05-1948"}, SAME),
        ({"quantity": {"value": int("9" * 401)}}, SAME),
        # The issue's own example: a decimal comma is text, not a number, in both.
        ({"quantity": {"value": "1,5"}}, SAME),
        ({"quantity": {"value": "veel"}}, SAME),
        ({"subject": "Patient/p1"}, SAME),
        ({"medicationCodeableConcept": {"coding": ["N05BA04"]}}, SAME),
        ({"status": "Vermeulenplant"}, SAME),
        # XML has numbers and booleans only where FHIR has them: elsewhere a value is text.
        ({"quantity": 30}, "MedicationDispense.quantity is text, not an object"),
        ({"quantity": {"value": True}}, "MedicationDispense.quantity.value is text, not a number"),
        (
            {"quantity": {"value": float("nan")}},
            "MedicationDispense.quantity.value is text, not a number",
        ),
    ],
)
def test_a_dispense_of_the_wrong_shape_is_rejected_as_in_json(
    tmp_path: Path, fields: dict[str, Any], xml_reason: str
) -> None:
    document = _bundle(_dispense(1), _dispense(2, **fields), _dispense(3, quantity={"value": 5}))
    as_json, as_xml = _both(tmp_path, document, strict=False)
    if xml_reason == SAME:
        _same(as_json, as_xml)
    else:
        assert _reasons(as_xml) == [["dispensings", None, xml_reason]]
    assert as_xml.dispensings["quantity"].tolist() == [30.0, 5.0]
    assert as_xml.rejected["line"].notna().all()
    assert as_xml.reconciles


def test_a_number_in_exponent_notation_and_an_infinite_one(tmp_path: Path) -> None:
    as_json, as_xml = _both(tmp_path, _bundle(_dispense(1, quantity={"value": 1e20})), strict=False)
    _same(as_json, as_xml)
    source = tmp_path / "inf.xml"
    source.write_text(to_xml(_bundle(_dispense(1))).replace('value="30"', 'value="1e400"'))
    result = read_source(source, strict=False)
    assert _reasons(result) == [
        [
            "dispensings",
            None,
            "MedicationDispense.quantity.value is not a finite number (NaN and Infinity are "
            "not JSON)",
        ]
    ]


@pytest.mark.parametrize(
    ("fields", "xml_reason"),
    [
        ({"gender": "Vermeulenplant"}, SAME),
        ({"deceasedBoolean": "Bloemendaal"}, SAME),
        ({"address": [{"postalCode": {"code": "9711 KL"}}]}, SAME),
        ({"deceasedBoolean": True}, SAME),
        # A list where FHIR allows one: in XML the element twice.
        (
            {"birthDate": ["1948-05-12", "1948-05-13"]},
            r"Patient has birthDate 2 times \(lines \d+, \d+; FHIR R4 allows it once\)",
        ),
    ],
)
def test_a_patient_of_the_wrong_shape_is_rejected_without_its_values(
    tmp_path: Path, fields: dict[str, Any], xml_reason: str
) -> None:
    document = _bundle(PATIENT, {**PATIENT, "id": "p2", **fields})
    as_json, as_xml = _both(tmp_path, document, strict=False)
    if xml_reason == SAME:
        _same(as_json, as_xml)
    else:
        [[_, _, reason]] = _reasons(as_xml)
        assert re.fullmatch(xml_reason, reason)
    assert not any(value in _messages(as_xml) for value in PERSONAL)


def test_a_referenced_resource_of_the_wrong_shape_rejects_who_refers_to_it(
    tmp_path: Path,
) -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"coding": ["N05BA04"]}}
    document = _bundle(
        medication,
        _dispense(
            1, medicationCodeableConcept=None, medicationReference={"reference": "Medication/m1"}
        ),
        _dispense(3, quantity={"value": 12}),
    )
    as_json, as_xml = _both(tmp_path, document, strict=False)
    _same(as_json, as_xml)
    assert _reasons(as_xml) == [
        [
            "dispensings",
            None,
            "MedicationDispense.medicationReference -> Medication.code.coding[0] is text, not an "
            "object",
        ]
    ]


@pytest.mark.parametrize(
    ("entry", "xml_problem"),
    [
        ("Bloemendaal", SAME),
        ({"fullUrl": "urn:uuid:1"}, SAME),
        ({"resource": {"resourceType": "Bloemendaal"}}, SAME),
        # In XML a resource is an element named after its type: this one is named "id".
        ({"resource": {"id": "x"}}, "not a FHIR resource (an empty resource element)"),
        (
            {"resource": {"Bloemendaal": {"id": "x"}}},
            "not a FHIR R4 resource (its resourceType is no R4 resource type)",
        ),
    ],
)
def test_a_bundle_entry_that_is_no_resource_is_named_and_the_rest_read(
    tmp_path: Path, entry: Any, xml_problem: str
) -> None:
    document = _bundle(_dispense(1), entry, _dispense(2, quantity={"value": 5}))
    as_json, as_xml = _both(tmp_path, document, strict=False)
    if xml_problem == SAME:
        _same(as_json, as_xml)
    else:
        [note] = as_xml.notes
        assert re.fullmatch(
            rf"export\.xml, line \d+ \(entry 1\): {re.escape(xml_problem)}; not read", note
        )
    assert as_xml.dispensings is not None
    assert len(as_xml.dispensings) == 2
    assert sum(c.rows_read for c in as_xml.counts.values()) + sum(as_xml.ignored.values()) == 3
    assert "Bloemendaal" not in _messages(as_xml)


def test_the_same_element_twice_rejects_the_resource_and_at_bundle_level_the_file(
    tmp_path: Path,
) -> None:
    """As a JSON key written twice: which of two quantities holds is unknown."""
    source = tmp_path / "b.xml"
    text = to_xml(_bundle(_dispense(1), _dispense(2)))
    # The second dispense gets a second quantity.
    at = text.rindex("<quantity>")
    source.write_text(text[:at] + '<quantity><value value="3000"/></quantity>\n' + text[at:])
    result = read_source(source, strict=False)
    [[_, _, reason]] = _reasons(result)
    assert re.fullmatch(
        r"MedicationDispense has quantity 2 times \(lines \d+, \d+; FHIR R4 allows it once\)",
        reason,
    )
    assert result.dispensings["quantity"].tolist() == [30.0]
    twice = tmp_path / "t.xml"
    twice.write_text(
        text.replace(
            '<type value="collection"/>', '<type value="collection"/><type value="batch"/>'
        )
    )
    with pytest.raises(ReadError, match=r"^t\.xml: the Bundle has Bundle\.type 2 times"):
        read_source(twice, format="fhir", strict=False)


def test_record_labels_and_codings_carry_no_personal_data(tmp_path: Path) -> None:
    codings = [
        {"system": HPK, "code": "1234567"},
        {"system": HPK, "code": "123456782"},
        {"system": "http://example.org/names", "code": "Bloemendaal"},
        {"system": "Hendrikje", "code": "1948-05-12"},
    ]
    document = _bundle(_dispense(1, id="111222333", medicationCodeableConcept={"coding": codings}))
    as_json, as_xml = _both(tmp_path, document, strict=False)
    _same(as_json, as_xml)
    assert not any(value in _messages(as_xml) for value in PERSONAL)


# --- what only XML has -------------------------------------------------------------------------


def test_a_transaction_bundle_resolves_its_uuid_references(tmp_path: Path) -> None:
    """Nictiz's qualification examples are transaction Bundles: every entry has a request
    (ignored here) and resources refer to each other by their urn:uuid fullUrl."""
    entries = [
        {
            "fullUrl": "urn:uuid:8b5b2c0e-0000-4000-8000-000000000001",
            "resource": PATIENT,
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": "urn:uuid:8b5b2c0e-0000-4000-8000-000000000002",
            "resource": {
                "resourceType": "Medication",
                "code": {"coding": [{"system": HPK, "code": "1234567"}]},
            },
            "request": {"method": "POST", "url": "Medication"},
        },
        {
            "fullUrl": "urn:uuid:8b5b2c0e-0000-4000-8000-000000000003",
            "resource": _dispense(
                1,
                id=None,
                subject={"reference": "urn:uuid:8b5b2c0e-0000-4000-8000-000000000001"},
                medicationCodeableConcept=None,
                medicationReference={"reference": "urn:uuid:8b5b2c0e-0000-4000-8000-000000000002"},
            ),
            "request": {"method": "POST", "url": "MedicationDispense"},
        },
    ]
    for kind in ("transaction", "batch"):
        document = _bundle(*entries, kind=kind)
        as_json, as_xml = _both(tmp_path, document, code_map={f"{HPK}|1234567": "N05CD07"})
        _same(as_json, as_xml)
        assert as_xml.dispensings[["atc", "quantity"]].values.tolist() == [["N05CD07", 30.0]]


def test_the_hand_written_fixtures_read_alike() -> None:
    """A hand-written MP9-like transaction Bundle in XML and the same content in JSON:
    primitive extensions on names and address lines, repeated given names, a contained
    Medication, a narrative and comments."""
    code_map = {f"{HPK}|1234567": "N05CD07"}
    as_xml = read_source(DATA / "fhir-transaction.xml", code_map=code_map)
    as_json = read_source(DATA / "fhir-transaction.json", code_map=code_map)
    assert as_xml.format == "fhir"
    _same(as_json, as_xml)
    patients = as_xml.patients
    assert patients[
        ["name_prefix", "family_name", "initials", "street", "house_number"]
    ].values.tolist() == [["van", "Kwakernaak", "H.M.", "Lindelaan", "17"]]
    dispensings = as_xml.dispensings[["patient_id", "atc", "quantity", "strength_mg"]]
    assert dispensings.astype(object).where(dispensings.notna(), None).values.tolist() == [
        ["fx-p1", "N05CD07", 30.0, 20.0],
        ["fx-p1", "N05BA04", 60.0, None],
    ]


def test_repeated_and_unknown_elements_become_lists(tmp_path: Path) -> None:
    """An element R4 lets repeat is a list even when it occurs once; an element the table does
    not know is a list only when it repeats, and is never lost."""
    text = """<Patient xmlns="http://hl7.org/fhir">
      <id value="p1"/>
      <identifier><system value="s"/><value value="1"/></identifier>
      <name><given value="A"/><given><extension url="u"><valueCode value="BR"/></extension></given>
        <given value="C" id="g3"/></name>
      <unknownThing value="a"/><unknownThing value="b"/>
      <otherThing value="c"/>
      <gender value="female"/>
    </Patient>"""
    found = fhir_xml.load(text, number=json.loads)
    assert found["identifier"] == [{"system": "s", "value": "1"}]
    assert found["name"][0]["given"] == ["A", None, "C"]
    assert found["name"][0]["_given"] == [
        None,
        {"extension": [{"url": "u", "valueCode": "BR"}]},
        {"id": "g3"},
    ]
    assert found["unknownThing"] == ["a", "b"]
    assert found["otherThing"] == "c"
    assert found.problem is None


def test_numbers_and_booleans_are_typed_only_where_fhir_types_them() -> None:
    text = """<MedicationRequest xmlns="http://hl7.org/fhir">
      <doNotPerform value="false"/>
      <dispenseRequest><numberOfRepeatsAllowed value="2"/>
        <quantity><value value="30.50"/><unit value="1.5"/></quantity></dispenseRequest>
      <note><text value="true"/></note>
    </MedicationRequest>"""
    found = fhir_xml.load(text, number=json.loads)
    assert found["doNotPerform"] is False
    request = found["dispenseRequest"]
    assert request["numberOfRepeatsAllowed"] == 2
    assert request["quantity"] == {"value": 30.5, "unit": "1.5"}
    assert found["note"] == [{"text": "true"}]


def test_narrative_is_skipped_and_never_shown(tmp_path: Path) -> None:
    text = to_xml(_bundle(PATIENT)).replace(
        '<id value="p1"/>',
        '<id value="p1"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/'
        'xhtml"><p>Bloemendaal, Hendrikje <b>111222333</b></p></div></text>',
    )
    source = tmp_path / "p.xml"
    source.write_text(text)
    result = read_source(source, format="fhir")
    assert result.patients["family_name"].tolist() == ["Bloemendaal"]
    assert "div" not in fhir_xml.load(text, number=json.loads)["entry"][0]["resource"]["text"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        # Text where FHIR XML has only elements (a value written as text).
        (
            ('<status value="completed"/>', "<status>completed</status>"),
            r"MedicationDispense has text in status \(line \d+; FHIR XML keeps values in value "
            r"attributes\)",
        ),
        (
            ("<quantity>", "<quantity>Bloemendaal"),
            r"MedicationDispense has text in quantity \(line \d+; FHIR XML keeps values in value "
            r"attributes\)",
        ),
        # An element in another namespace.
        (
            ("<quantity>", '<quantity><x:value xmlns:x="urn:other" value="30"/>'),
            r"MedicationDispense has an element outside the FHIR namespace in quantity "
            r"\(line \d+\)",
        ),
        # A primitive given a child element that is not an extension: an object, as in JSON.
        (
            ('<status value="completed"/>', '<status><coding value="completed"/></status>'),
            r"MedicationDispense\.status is an object, not text",
        ),
    ],
)
def test_a_malformed_resource_is_rejected_with_its_line_and_no_value(
    tmp_path: Path, damage: tuple[str, str], reason: str
) -> None:
    text = to_xml(_bundle(_dispense(1), _dispense(2, quantity={"value": 5})))
    at = text.index("<MedicationDispense>")
    old, new = damage
    source = tmp_path / "b.xml"
    source.write_text(text[:at] + text[at:].replace(old, new, 1))
    result = read_source(source, strict=False)
    [[_, _, found]] = _reasons(result)
    assert re.fullmatch(reason, found)
    assert result.rejected["line"].tolist() == [text[:at].count("\n") + 1]
    assert result.dispensings["quantity"].tolist() == [5.0]
    assert "Bloemendaal" not in _messages(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<Bundle xmlns="http://hl7.org/fhir">\n<entry>\n<resource>\n<Patient>\n</Bundle>\n',
            r"b\.xml, line 5: not well-formed XML: an end tag does not match its start tag",
        ),
        (
            '<Bundle xmlns="http://hl7.org/fhir">\n<entry>\n',
            r"b\.xml, line \d: not well-formed XML: the file ends inside an element",
        ),
        (
            '<Bundle xmlns="urn:Bloemendaal">\n<entry/>\n</Bundle>',
            r"b\.xml, line 1: not FHIR XML \(the root element is not in the FHIR namespace "
            r"http://hl7\.org/fhir\)",
        ),
        (
            '<Bundle xmlns="http://hl7.org/fhir">\n<id value="&Bloemendaal;"/>\n</Bundle>',
            r"b\.xml, line 2: not well-formed XML: an entity reference that is not defined",
        ),
        (
            '<Bundle xmlns="http://hl7.org/fhir">\n<Bloemendaal></Hendrikje>\n</Bundle>',
            r"b\.xml, line 2: not well-formed XML: an end tag does not match its start tag",
        ),
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Bundle xmlns="http://hl7.org/fhir"/>',
            r"b\.xml, line 1: declares an encoding other than UTF-8",
        ),
        (
            '<Bundle xmlns="http://hl7.org/fhir">' + "<a>" * 300 + "</a>" * 300 + "</Bundle>",
            r"b\.xml, line 1: nested too deeply \(more than 256 levels; no FHIR resource is\)",
        ),
        (
            '<Bundle xmlns="http://hl7.org/fhir"/>\n<Bloemendaal/>',
            r"b\.xml, line 2: not well-formed XML: there is more after the root element",
        ),
        ("   Bloemendaal", r"b\.xml, line 1: not XML \(it does not start with '<'\) and not JSON"),
    ],
)
def test_a_document_that_is_not_well_formed_is_refused_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    source = tmp_path / "b.xml"
    source.write_text(text)
    with pytest.raises(ReadError) as caught:
        read_source(source, format="fhir", strict=False)
    assert re.match(message, str(caught.value))
    assert str(caught.value).endswith("the file cannot be read")
    chain = []
    error: BaseException | None = caught.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    assert not any(v in message for message in chain for v in ("Bloemendaal", "Hendrikje"))


# --- attacks on the parser ---------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE Bundle [\n  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + ']>\n<Bundle xmlns="http://hl7.org/fhir"><id value="&lol9;"/></Bundle>\n'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE Patient [<!ENTITY name SYSTEM "file:///etc/passwd">]>\n'
    '<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
    '<name>&name;<family value="x"/></name></Patient>\n'
)
QUADRATIC = (
    '<?xml version="1.0"?>\n<!DOCTYPE Patient [<!ENTITY a "' + "a" * 50_000 + '">]>\n'
    '<Patient xmlns="http://hl7.org/fhir"><name><family value="' + "&a;" * 50_000 + '"/>'
    "</name></Patient>\n"
)
EXTERNAL_DTD = (
    '<!-- a comment first -->\n<!DOCTYPE Patient SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
    '<Patient xmlns="http://hl7.org/fhir"/>\n'
)
PARAMETER_ENTITY = (
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
    '<Patient xmlns="http://hl7.org/fhir"/>\n'
)


@pytest.mark.parametrize(
    "text",
    [BILLION_LAUGHS, XXE, QUADRATIC, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["billion-laughs", "xxe", "quadratic", "external-dtd", "parameter-entity"],
)
def test_a_document_with_a_doctype_is_refused_quickly_unexpanded(tmp_path: Path, text: str) -> None:
    source = tmp_path / "attack.xml"
    source.write_text(text)
    assert FhirReader().detect(source) > 0  # the FHIR reader takes it, and refuses it plainly
    started = time.perf_counter()
    with pytest.raises(ReadError) as caught:
        read_source(source)
    assert time.perf_counter() - started < 2
    line = text[: text.index("<!DOCTYPE")].count("\n") + 1
    assert str(caught.value) == (
        f"attack.xml, line {line}: has a DOCTYPE (a document type declaration), which FHIR XML "
        "never has; it was refused unread, so no entity in it was expanded or fetched; the file "
        "cannot be read"
    )
    assert "root:" not in str(caught.value)


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE, QUADRATIC])
def test_the_parser_alone_expands_no_entity(text: str) -> None:
    """Behind the DOCTYPE check, the parser's own settings: even given a DTD it resolves no
    entity, loads nothing and keeps libxml2's limits."""
    from lxml import etree

    started = time.perf_counter()
    try:
        root = etree.fromstring(text.encode(), fhir_xml._parser())
    except etree.XMLSyntaxError:
        pass
    else:
        assert "lol" not in etree.tostring(root, encoding="unicode")
        assert "root:" not in etree.tostring(root, encoding="unicode")
    assert time.perf_counter() - started < 2


# --- files, folders and detection --------------------------------------------------------------


def test_detection_claims_fhir_xml_and_nothing_else(tmp_path: Path) -> None:
    reader = FhirReader()
    cases = {
        "bundle.xml": (to_xml(_bundle(_dispense(1))), 0.9),
        "patient.xml": (to_xml(PATIENT), 0.9),
        "observation.xml": (to_xml({"resourceType": "Observation", "id": "o"}), 0.5),
        "prefixed.xml": (
            '<f:Bundle xmlns:f="http://hl7.org/fhir"><f:type value="batch"/></f:Bundle>',
            0.9,
        ),
        "licence.xml": ("<!--" + "licence text " * 1000 + "-->\n" + to_xml(PATIENT)[39:], 0.9),
        "other.xml": ('<Bundle xmlns="urn:not-fhir"><entry/></Bundle>', 0.0),
        "html.xml": ("<html><body>Bloemendaal</body></html>", 0.0),
        "cda.xml": ('<ClinicalDocument xmlns="urn:hl7-org:v3"/>', 0.0),
        "nonsense.xml": ('<Bloemendaal xmlns="http://hl7.org/fhir"/>', 0.0),
    }
    for name, (text, score) in cases.items():
        (tmp_path / name).write_text(text)
        assert reader.detect(tmp_path / name) == score, name


def test_select_picks_the_fhir_reader_for_an_xml_export(examples: Path, tmp_path: Path) -> None:
    """`benzoredux select export.xml` without --format or a mapping file."""
    dispenses = [
        _dispense(n, whenHandedOver=f"2025-{month:02d}-01", quantity={"value": 60})
        for n, month in enumerate((3, 5, 7, 9, 11))
    ]
    source = write_xml(tmp_path / "export.xml", _bundle(PATIENT, *dispenses))
    result = CliRunner().invoke(
        main,
        [
            "select",
            str(source),
            "--reference-date",
            "2025-12-31",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "read as fhir (detected)" in result.output


def test_a_folder_mixing_json_ndjson_and_xml(tmp_path: Path) -> None:
    write_xml(tmp_path / "patients.xml", _bundle(PATIENT))
    (tmp_path / "dispenses.ndjson").write_text(json.dumps(_dispense(1)) + "\n")
    (tmp_path / "more.json").write_text(json.dumps(_bundle(_dispense(2, quantity={"value": 5}))))
    write_xml(tmp_path / "one.xml", _dispense(3, quantity={"value": 7}))
    (tmp_path / "README.txt").write_text("Bloemendaal")
    assert FhirReader().detect(tmp_path) == 0.9
    result = read_source(tmp_path)
    assert result.format == "fhir"
    assert sorted(result.dispensings["quantity"].tolist()) == [5.0, 7.0, 30.0]
    assert result.patients["patient_id"].tolist() == ["p1"]


def test_content_decides_json_or_xml_whatever_the_suffix(tmp_path: Path) -> None:
    document = _bundle(_dispense(1))
    xml_named_json = tmp_path / "a.json"
    xml_named_json.write_text(to_xml(document))
    json_named_xml = tmp_path / "b.xml"
    json_named_xml.write_text(json.dumps(document))
    for source in (xml_named_json, json_named_xml):
        assert FhirReader().detect(source) == 0.9
        assert read_source(source).dispensings["quantity"].tolist() == [30.0]
    xml_named_json.write_text(to_xml(document).replace("</Bundle>", ""))
    with pytest.raises(
        ReadError, match=r"the file cannot be read \(the file holds XML, not JSON\)$"
    ):
        read_source(xml_named_json, format="fhir")
    json_named_xml.write_text(json.dumps(document)[:-1])
    with pytest.raises(ReadError, match=r"\(the file holds JSON, not XML\)$"):
        read_source(json_named_xml, format="fhir")


def test_a_byte_order_mark_and_a_comment_before_the_root(tmp_path: Path) -> None:
    source = tmp_path / "b.xml"
    text = to_xml(_bundle(_dispense(1)))
    source.write_bytes(b"\xef\xbb\xbf" + text.replace("?>\n", "?>\n<!-- export -->\n", 1).encode())
    assert FhirReader().detect(source) == 0.9
    assert read_source(source).dispensings["quantity"].tolist() == [30.0]


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    source = tmp_path / "b.xml"
    text = to_xml(_bundle(PATIENT)).replace("Bloemendaal", "Bl\udc80oemendaal")
    source.write_bytes(text.encode("utf-8", "surrogateescape"))
    line = text[: text.index("Bl\udc80")].count("\n") + 1
    with pytest.raises(ReadError, match=rf"^b\.xml, line {line}: not UTF-8 text"):
        read_source(source, format="fhir")
