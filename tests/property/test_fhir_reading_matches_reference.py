"""Property: the fast FHIR reader (issue 19) reads exactly what the record-by-record one read.

Rule under test: "Reading stays exactly as strict: every row checked, rejected rows with
reasons" (issue 19). The reference is the code the fast path replaced
(``fhir_reference.py``: every record parsed with the duplicate-key hook and held, the index
built over all of them, then each resource read on its own). The fast reader decodes without
the hook where a count of the keys proves it safe, remembers each lookup per distinct concept
or reference, and turns each resource into its row as it is read, reading again at the end
the ones whose lookups a later record changed (a resource referred to before it is read).

Generated sources (NDJSON, two NDJSON files in a folder, a Bundle, a Bundle next to NDJSON)
hold the resources a dispense refers to in any order, before or after it: patients,
practitioners, roles, pharmacies, medications (ATC, G-Standaard HPK and GPK through the
practice's code table, unknown codes, magistral codes, a product name with its strength),
prescriptions by reference and by identifier, identifiers two resources share, resources
read twice (the last one counts), references to nothing, statuses that do not count or are
no status, administration agreements, units that are not pieces, days of supply; and damage:
elements of the wrong JSON type, duplicate keys, lines that are not resources. Both readers
must give the same tables, the same rejected rows with the same reasons and line numbers, the
same notes and ``ignored`` counts (in the same order), or the same error.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import random
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from benzoredux_adapters.fhir import ATC_SYSTEM, BSN_SYSTEM, FhirReader


def _load(name: str, folder: Path) -> Any:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load the file.
    module_name = f"_benzoredux_fhir_property_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, folder / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        sys.modules[module_name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module_name])
    return sys.modules[module_name]


HERE = Path(__file__).parent
reference = _load("fhir_reference", HERE)
fuzz = _load("test_fhir_fuzz", HERE.parent / "adapters")
DATA = HERE.parent / "adapters" / "data"
TABLE = DATA / "mp9" / "g-standaard.csv"
TODAY = dt.date(2026, 1, 15)

AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
URA = "http://fhir.nl/fhir/NamingSystem/ura"
HPK = "urn:oid:2.16.840.1.113883.2.4.4.7"
GPK = "urn:oid:2.16.840.1.113883.2.4.4.1"
PRK = "urn:oid:2.16.840.1.113883.2.4.4.10"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
G_UNIT = "urn:oid:2.16.840.1.113883.2.4.4.1.900.2"
PQ = "http://hl7.org/fhir/StructureDefinition/iso21090-PQ-translation"
PRESCRIPTION = "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.52711000146108.1"
PROFILE = "http://nictiz.nl/fhir/StructureDefinition/mp-AdministrationAgreement"


def outcome(read: Any, source: Path, options: dict[str, Any]) -> tuple[str, Any]:
    """``("ok", result)`` or ``("error", (type name, message, result or None))``."""
    try:
        return "ok", read(source, options=options)
    except Exception as error:  # compared between the two paths, whatever it is
        return "error", (type(error).__name__, str(error), getattr(error, "result", None))


def assert_same_result(expected: Any, got: Any) -> None:
    assert got.format == expected.format
    assert got.counts == expected.counts
    assert list(got.ignored.items()) == list(expected.ignored.items())
    assert got.notes == expected.notes
    assert sorted(got.tables) == sorted(expected.tables)
    for name, frame in expected.tables.items():
        pd.testing.assert_frame_equal(got.tables[name], frame, obj=name)
    pd.testing.assert_frame_equal(got.rejected, expected.rejected, obj="rejected")


def assert_same_read(source: Path, options: dict[str, Any]) -> None:
    kind, expected = outcome(reference.FhirReader().read, source, options)
    got_kind, got = outcome(FhirReader().read, source, options)
    assert got_kind == kind, (expected, got)
    if kind == "ok":
        assert_same_result(expected, got)
        return
    assert got[:2] == expected[:2]
    assert (got[2] is None) == (expected[2] is None)
    if expected[2] is not None:
        assert_same_result(expected[2], got[2])


# --- generated sources --------------------------------------------------------------------------


def _reference(target: str) -> dict[str, Any]:
    return {"reference": target}


def _by_identifier(system: str, value: str, kind: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"identifier": {"system": system, "value": value}}
    if kind is not None:
        element["type"] = kind
    return element


CONCEPTS: tuple[dict[str, Any] | None, ...] = (
    {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}], "text": "OXAZEPAM TABLET 10MG"},
    {"coding": [{"system": ATC_SYSTEM, "code": "C09AA02"}], "text": "GENERIEK TABLET 5MG"},
    {"coding": [{"system": ATC_SYSTEM, "code": "N05CD07"}], "text": "TEMAZEPAM 2MG/ML"},
    {"coding": [{"system": HPK, "code": "1000017", "display": "OXAZEPAM TABLET 10MG"}]},
    {"coding": [{"system": HPK, "code": "1000017"}, {"system": GPK, "code": "100013"}]},
    {"coding": [{"system": GPK, "code": "00100029", "display": "TEMAZEPAM CAPSULE 20MG"}]},
    {"coding": [{"system": HPK, "code": "7777777", "display": "ONBEKEND TABLET 5MG"}]},
    {"coding": [{"system": HPK, "code": "1234567"}, {"system": GPK, "code": "100013"}]},
    {"coding": [{"system": GPK, "code": "90000001"}], "text": "eigen bereiding"},
    {"coding": [{"system": ATC_SYSTEM, "code": "NOT-AN-ATC"}]},
    {"coding": [{"system": ATC_SYSTEM, "code": 5}]},
    {"coding": "N05BA04"},
    {"text": "OXAZEPAM 10 MG"},
    None,
)
"""Medication concepts, valid and not: a few, so that dispenses share them."""


def _medications() -> list[dict[str, Any]]:
    strength = {"numerator": {"value": 10, "code": "mg"}, "denominator": {"value": 1}}
    return [
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {"coding": [{"system": HPK, "code": "1000017"}]},
            "form": {"text": "tablet"},
            "ingredient": [{"strength": strength}],
        },
        {
            "resourceType": "Medication",
            "id": "m2",
            "code": {"coding": [{"system": GPK, "code": "90000002"}]},
            "ingredient": [
                {
                    "itemCodeableConcept": {"coding": [{"system": ATC_SYSTEM, "code": "N05BA01"}]},
                    "isActive": True,
                    "strength": strength,
                }
            ],
        },
        {
            "resourceType": "Medication",
            "id": "m2",
            "code": {"coding": [{"system": ATC_SYSTEM, "code": "N05CD08"}]},
            "form": {"coding": [{"display": "capsule"}]},
        },
    ]


def _lookups() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "Practitioner",
            "id": "pr1",
            "identifier": [{"system": AGB, "value": "01000001"}],
        },
        {"resourceType": "Practitioner", "id": "pr2"},
        {
            "resourceType": "PractitionerRole",
            "id": "r1",
            "practitioner": _reference("Practitioner/pr2"),
            "organization": _reference("Organization/o1"),
        },
        {
            "resourceType": "Organization",
            "id": "o1",
            "identifier": [{"system": URA, "value": "00001234"}],
        },
        {
            "resourceType": "Organization",
            "id": "o2",
            "identifier": [{"system": AGB, "value": "06000001"}],
        },
        {
            "resourceType": "Organization",
            "id": "o3",
            "identifier": [{"system": AGB, "value": "06000001"}, {"system": URA, "value": "9"}],
        },
    ]


def _patients() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": BSN_SYSTEM, "value": "111222333"}],
            "birthDate": "1950-02-03",
            "gender": "female",
            "generalPractitioner": [_reference("Practitioner/pr1")],
        },
        {
            "resourceType": "Patient",
            "id": "p2",
            "gender": "male",
            "generalPractitioner": [_by_identifier(AGB, "01000001", "Practitioner")],
        },
        {"resourceType": "Patient", "id": "p2", "gender": "other"},
    ]


def _requests() -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "MedicationRequest",
            "id": "q1",
            "status": "active",
            "intent": "order",
            "subject": _reference("Patient/p1"),
            "medicationCodeableConcept": CONCEPTS[0],
            "requester": _reference("Practitioner/pr1"),
            "authoredOn": "2025-01-05",
            "dispenseRequest": {"quantity": {"value": 30}},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "q2",
            "identifier": [{"system": PRESCRIPTION, "value": "VV-1"}],
            "status": "active",
            "intent": "order",
            "subject": _reference("Patient/p2"),
            "medicationReference": _reference("Medication/m1"),
            "basedOn": [_reference("MedicationRequest/q3")],
            "authoredOn": "2025-02-05",
        },
        {
            "resourceType": "MedicationRequest",
            "id": "q3",
            "identifier": [{"system": PRESCRIPTION, "value": "VV-1"}],
            "category": [{"coding": [{"system": SNOMED, "code": "16076005"}]}],
            "status": "active",
            "intent": "order",
            "subject": _reference("Patient/p2"),
            "requester": _reference("PractitionerRole/r1"),
        },
    ]


SUBJECTS = ("Patient/p1", "Patient/p2", "Patient/p9", "p1", "#p1")
PERFORMERS: tuple[dict[str, Any], ...] = (
    _reference("Organization/o1"),
    _reference("Organization/o2"),
    _reference("Organization/o3"),
    _reference("Organization/o9"),
    _reference("PractitionerRole/r1"),
    _reference("Practitioner/pr1"),
    _by_identifier(AGB, "APO0001"),
    _by_identifier(AGB, "06000001", "Organization"),
    _by_identifier(AGB, "06000001"),
    _by_identifier(URA, "9", "Organization"),
    _by_identifier(URA, "9"),
)
PRESCRIPTIONS: tuple[dict[str, Any], ...] = (
    _reference("MedicationRequest/q1"),
    _reference("MedicationRequest/q2"),
    _reference("MedicationRequest/q9"),
    _by_identifier(PRESCRIPTION, "VV-1", "MedicationRequest"),
    _by_identifier(PRESCRIPTION, "VV-1"),
)
QUANTITIES: tuple[dict[str, Any], ...] = (
    {"value": 30},
    {"value": 30, "unit": "stuk"},
    {"value": 2.5, "system": UCUM, "code": "ml"},
    {"value": 20, "system": UCUM, "code": "1"},
    {
        "value": 60,
        "extension": [{"url": PQ, "valueQuantity": {"value": 60, "system": G_UNIT, "code": "245"}}],
    },
)
DAYS: tuple[Any, ...] = (
    None,
    {"value": 30, "unit": "dagen"},
    {"value": 2, "system": UCUM, "code": "wk"},
    {"value": 3, "system": UCUM, "code": "mo"},
)
STATUSES = ("completed", "completed", "completed", None, "in-progress", "stopped", "done")
DATES = ("2025-01-11", "2025-06-30T23:30:00Z", "2025-02-30", "11-01-2025", None)


@st.composite
def dispenses(
    draw: st.DrawFn,
    number: int,
    performers: list[dict[str, Any]],
    prescriptions: list[dict[str, Any]],
) -> dict[str, Any]:
    """A MedicationDispense built from the pools above (the performers and prescriptions
    from a few drawn for the whole source, so that dispenses share their lookups)."""
    resource: dict[str, Any] = {"resourceType": "MedicationDispense", "id": f"d{number}"}
    status = draw(st.sampled_from(STATUSES))
    if status is not None:
        resource["status"] = status
    resource["subject"] = _reference(draw(st.sampled_from(SUBJECTS)))
    medication = draw(st.integers(0, len(CONCEPTS) + 3))
    if medication < len(CONCEPTS):
        if CONCEPTS[medication] is not None:
            resource["medicationCodeableConcept"] = copy.deepcopy(CONCEPTS[medication])
    else:
        target = ("Medication/m1", "Medication/m2", "Medication/m9", "#c1")[
            medication - len(CONCEPTS)
        ]
        resource["medicationReference"] = _reference(target)
        if target == "#c1":
            resource["contained"] = [copy.deepcopy(_medications()[0]) | {"id": "c1"}]
    if draw(st.booleans()):
        resource["performer"] = [{"actor": copy.deepcopy(draw(st.sampled_from(performers)))}]
    if draw(st.booleans()):
        chosen = draw(st.sampled_from(prescriptions))
        resource["authorizingPrescription"] = [copy.deepcopy(chosen)]
    resource["quantity"] = copy.deepcopy(draw(st.sampled_from(QUANTITIES)))
    days = draw(st.sampled_from(DAYS))
    if days is not None:
        resource["daysSupply"] = copy.deepcopy(days)
    when = draw(st.sampled_from(DATES))
    if when is not None:
        resource["whenHandedOver" if draw(st.booleans()) else "whenPrepared"] = when
    category = draw(st.integers(0, 9))
    if category == 0:
        resource["category"] = {"coding": [{"system": SNOMED, "code": "422037009"}]}
    elif category == 1:
        resource["meta"] = {"profile": [PROFILE]}
    return resource


@st.composite
def sources(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, Any], list[str]]:
    """Files of a source (name: bytes), the read's options, and what was done to them."""
    resources: list[Any] = [
        *_lookups(),
        *_medications(),
        *_patients(),
        *_requests(),
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": _reference("Patient/p1"),
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icpc-2", "code": "P06"}]},
            "onsetDateTime": "2024-01-01",
        },
        {"resourceType": "Observation", "id": "x1", "status": "final"},
    ]
    kept = draw(st.lists(st.booleans(), min_size=len(resources), max_size=len(resources)))
    resources = [r for r, keep in zip(resources, kept, strict=True) if keep or draw_keep(r)]
    count = draw(st.integers(0, 12))
    performers = draw(st.lists(st.sampled_from(PERFORMERS), min_size=1, max_size=3))
    prescriptions = draw(st.lists(st.sampled_from(PRESCRIPTIONS), min_size=1, max_size=2))
    resources += [draw(dispenses(number, performers, prescriptions)) for number in range(count)]
    # A copy: the damage below changes resources in place, and some share elements with the
    # module's constants (CONCEPTS), which the fixed cases below read as written.
    resources = copy.deepcopy(draw(st.permutations(resources)))
    # Damage: elements of the wrong type, odd values, duplicate keys (fuzzer's damages).
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    writer = fuzz._Writer()
    case = fuzz.Case(number=0, files={}, records=0)
    for _ in range(draw(st.sampled_from((0, 0, 0, 1, 2)))):
        if resources:
            fuzz._damage(rng, rng.choice(resources), writer, case)
    layout = draw(st.sampled_from(("ndjson", "ndjson", "two-ndjson", "bundle", "bundle-ndjson")))
    files: dict[str, bytes] = {}
    if layout in ("ndjson", "two-ndjson"):
        lines = [writer.dumps(r).encode("utf-8", "surrogatepass") for r in resources]
        if draw(st.integers(0, 3)) == 0:
            bad = draw(st.sampled_from(fuzz.BAD_LINES[:-1]))
            lines.insert(draw(st.integers(0, len(lines))), bad)
            case.damage.append(f"line {bad[:30]!r} inserted")
        cut = draw(st.integers(0, len(lines))) if layout == "two-ndjson" else len(lines)
        files["a.ndjson"] = b"\n".join(lines[:cut]) + b"\n"
        if layout == "two-ndjson":
            files["b.ndjson"] = b"\n".join(lines[cut:])
    else:
        cut = draw(st.integers(0, len(resources))) if layout == "bundle-ndjson" else 0
        entries = [
            {"fullUrl": f"urn:uuid:{number}", "resource": r}
            for number, r in enumerate(resources[cut:])
        ]
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        files["b.json"] = writer.dumps(bundle, indent=draw(st.sampled_from((None, 1)))).encode(
            "utf-8", "surrogatepass"
        )
        if layout == "bundle-ndjson":
            lines = [writer.dumps(r).encode("utf-8", "surrogatepass") for r in resources[:cut]]
            files["a.ndjson"] = b"\n".join(lines)
    options: dict[str, Any] = {
        "mapping": None,
        "strict": draw(st.booleans()),
        "duplicates": "reject",
        "code_map": dict(fuzz.CODE_MAP) if draw(st.booleans()) else {},
        "fhir_requests": draw(st.sampled_from(("auto", "auto", "always", "never"))),
        "today": TODAY,
    }
    if draw(st.booleans()):
        options["code_table"] = TABLE
    return files, options, [layout, *case.damage]


def draw_keep(resource: dict[str, Any]) -> bool:
    """Keep the resources most dispenses name more often than not (the pharmacy, the first
    patient, the first medication)."""
    return resource.get("id") in ("o1", "p1", "m1")


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / next(iter(files)) if len(files) == 1 else folder


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=sources())
def test_the_fast_reader_reads_what_the_record_by_record_reader_read(
    tmp_path: Path, source: tuple[dict[str, bytes], dict[str, Any], list[str]]
) -> None:
    files, options, done = source
    note(f"{done}; options {options}")
    for name, data in files.items():
        note(f"{name}: {data[:3000]!r}")
    assert_same_read(_write(tmp_path / "source", files), options)


@settings(max_examples=15, deadline=None)
@given(number=st.integers(0, 10_000))
def test_fuzzed_sources_are_read_as_the_record_by_record_reader_read_them(
    tmp_path_factory: pytest.TempPathFactory, number: int
) -> None:
    """The FHIR fuzzer's damaged sources (issue 16), read by both readers."""
    case = fuzz._case(number)
    note(f"case {number}: {case.damage}")
    folder = tmp_path_factory.mktemp("fuzzed")
    source = _write(folder, case.files)
    options = {
        "mapping": None,
        "strict": case.strict,
        "duplicates": "reject",
        "code_map": dict(fuzz.CODE_MAP),
        "fhir_requests": case.requests,
    }
    assert_same_read(source, options)


@pytest.mark.parametrize(
    "name",
    [
        "fhir-transaction.json",
        "fhir-transaction.xml",
        "mp9/mp9-dispenses.json",
        "mp9/mp9-dispenses.xml",
    ],
)
def test_the_example_files_are_read_as_before(name: str) -> None:
    options = {
        "mapping": None,
        "strict": False,
        "duplicates": "reject",
        "code_map": {},
        "code_table": TABLE,
    }
    assert_same_read(DATA / name, options)


def test_a_resource_referred_to_before_it_is_read_is_found(tmp_path: Path) -> None:
    """A bulk export's files come in name order: the dispenses before the patients and
    pharmacies they name. Each dispense is read as it comes, and read again at the end when
    a lookup it made changed (here: the pharmacy's AGB code)."""
    dispense = {
        "resourceType": "MedicationDispense",
        "id": "d1",
        "status": "completed",
        "subject": _reference("Patient/p1"),
        "medicationCodeableConcept": CONCEPTS[0],
        "performer": [{"actor": _reference("Organization/o2")}],
        "quantity": {"value": 30},
        "whenHandedOver": "2025-01-11",
    }
    (tmp_path / "MedicationDispense.ndjson").write_text(json.dumps(dispense) + "\n")
    (tmp_path / "Organization.ndjson").write_text(json.dumps(_lookups()[4]) + "\n")
    (tmp_path / "Patient.ndjson").write_text(json.dumps({**_patients()[0], "id": "p1"}) + "\n")
    options = {"mapping": None, "strict": True, "duplicates": "reject", "code_map": {}}
    result = FhirReader().read(tmp_path, options=options)
    assert result.tables["dispensings"]["pharmacy_id"].tolist() == ["06000001"]
    assert_same_read(tmp_path, options)


def test_an_identifier_a_later_resource_shares_names_nothing(tmp_path: Path) -> None:
    """A dispense refers to its prescription by identifier (MP9) and is read before a second,
    different request with the same identifier: which one is meant cannot be told, so the
    dispense has no prescriber, as when every resource was read first."""
    q2, q3 = _requests()[1:]
    dispense = {
        "resourceType": "MedicationDispense",
        "id": "d1",
        "subject": _reference("Patient/p2"),
        "medicationCodeableConcept": CONCEPTS[0],
        "authorizingPrescription": [_by_identifier(PRESCRIPTION, "VV-1", "MedicationRequest")],
        "quantity": {"value": 30},
        "whenHandedOver": "2025-01-11",
    }
    lines = [json.dumps(r) for r in (*_lookups(), q3, dispense, q2)]
    source = tmp_path / "export.ndjson"
    source.write_text("\n".join(lines) + "\n")
    options = {"mapping": None, "strict": True, "duplicates": "reject", "code_map": {}}
    result = FhirReader().read(source, options=options)
    assert result.tables["dispensings"]["prescriber_id"].isna().all()
    assert_same_read(source, options)
    source.write_text("\n".join(lines[:-1]) + "\n")  # without the second: the first counts
    result = FhirReader().read(source, options=options)
    assert result.tables["dispensings"]["prescriber_id"].tolist() == ["pr2"]
    assert_same_read(source, options)


def test_lookups_are_remembered_by_everything_they_read(tmp_path: Path) -> None:
    """Two pharmacies named by the same identifier, once with the type of resource it is an
    identifier of and once without: the first finds the Organization (and gives its AGB code),
    the second cannot look it up (and gives the URA number it carries). Remembering the
    lookup by the identifier alone would give both the same."""

    def dispense(number: int, actor: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "MedicationDispense",
            "id": f"d{number}",
            "subject": _reference("Patient/p1"),
            "medicationCodeableConcept": CONCEPTS[0],
            "performer": [{"actor": actor}],
            "quantity": {"value": 30},
            "whenHandedOver": "2025-01-11",
        }

    typed, untyped = _by_identifier(URA, "9", "Organization"), _by_identifier(URA, "9")
    lines = [json.dumps(r) for r in (_lookups()[5], dispense(1, typed), dispense(2, untyped))]
    source = tmp_path / "export.ndjson"
    source.write_text("\n".join(lines) + "\n")
    options = {"mapping": None, "strict": True, "duplicates": "reject", "code_map": {}}
    result = FhirReader().read(source, options=options)
    assert result.tables["dispensings"]["pharmacy_id"].tolist() == ["06000001", "9"]
    assert_same_read(source, options)
