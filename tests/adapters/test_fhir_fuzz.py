"""A fuzzer of the FHIR reader (issue 16, item 3): one bad record never sinks a file.

A seeded generator builds a small, valid FHIR source (a Bundle or NDJSON: Practitioner,
Patient, Medication, MedicationRequest, MedicationDispenses, a Condition, an Observation, and
MP9 documents: an nl-core-Patient, a PractitionerRole, a pharmacy, G-Standaard-coded and
magistral products, agreements and a dispense request referred to by identifier) and
damages it the way a bad export, a damaged disk or a hostile user would: elements deleted or
swapped for another JSON type, lists where objects belong and back, extreme numbers (401 and
5,000 digits, ``1e308``, NaN, Infinity), extreme and impossible dates
(``0001-01-01T00:00:00+14:00``, leap seconds, 30 February), lone surrogates, duplicate keys,
JSON nested 100,000 deep, records that are not resources, invalid UTF-8, Bundle entries that
are not objects, a Bundle ``entry`` that is not a list, and personal values (names, BSNs, birth
dates, postcodes, a street) planted anywhere. For every file it asserts:

1. ``read_source`` returns, or raises :class:`~benzoredux.reading.result.ReadError`; nothing else (a
   ``PluginError`` "reader 'fhir' failed" is the wrapped crash the issue counted). A ReadError
   without a result (the whole file refused) only comes from a damage that leaves no file to
   read, and names the file.
2. The counts reconcile: every record of the source (NDJSON line, Bundle entry) is a row read,
   kept or rejected, or counted in ``ignored``; and ``ReadResult.reconciles``.
3. No personal value of the source appears in any message: the exception, the report of the
   rejected rows, the notes, the ``ignored`` keys, warnings and log records.
4. The rest is read: a dispense no damage touches is in the dispensings table whenever a
   result comes back.

The default run (:data:`CASES` files) takes a few seconds in CI. A longer run::

    BENZOREDUX_FUZZ_CASES=2000 python -m pytest -q -p no:cacheprovider \\
        tests/adapters/test_fhir_fuzz.py

``BENZOREDUX_FUZZ_SEED`` picks another seed; a failure names the case's number and damage.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benzoredux.reading import ReadError, ReadResult, read_source
from benzoredux_adapters.fhir import ATC_SYSTEM, BSN_SYSTEM

CASES = int(os.environ.get("BENZOREDUX_FUZZ_CASES", "50"))
"""How many files the fuzzer reads (``BENZOREDUX_FUZZ_CASES``, as the other readers' fuzzers)."""
SEED = int(os.environ.get("BENZOREDUX_FUZZ_SEED", "0"))
"""The seed of the first file (``BENZOREDUX_FUZZ_SEED``); file ``n`` uses ``SEED + n``."""

PRODUCT_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.7"
GPK_SYSTEM = "urn:oid:2.16.840.1.113883.2.4.4.1"
CODE_MAP = {
    f"{PRODUCT_SYSTEM}|1234567": "N05CD07",
    # MP9 (issue 18): an HPK linked to its GPK, the GPK to its ATC code.
    f"{PRODUCT_SYSTEM}|1000017": f"{GPK_SYSTEM}|100013",
    f"{GPK_SYSTEM}|100013": "N05BA04",
}

# Personal values of the source: the patient's own and the ones planted elsewhere. None may
# appear in a message. They are chosen so that no message can contain one by chance.
NAMES = ("Bloemendaal", "Hendrikje", "Vermeulenplant", "Kwakernaak")
BSNS = ("111222333", "123456782", "012345672")
BIRTH_DATES = ("1948-05-12", "12-05-1948", "19480512")
POSTCODES = ("9711 KL", "9711KL", "2601DC")
STREETS = ("Lindelaan 17", "Lindelaan")
PERSONAL = (*NAMES, *BSNS, *BIRTH_DATES, *POSTCODES, *STREETS)


class Raw:
    """A value written into the JSON text as it is (text ``json.dumps`` cannot produce)."""

    def __init__(self, text: str, *, breaks_bundle: bool = False) -> None:
        self.text = text
        self.breaks_bundle = breaks_bundle
        """Whether :mod:`json` cannot parse a document holding it (so a Bundle is refused)."""


DEEP = Raw("[" * 100_000 + "]" * 100_000, breaks_bundle=True)
ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2.5,
    1e308,
    -1e308,
    5e-324,
    99999999999999999999,
    int("9" * 401),
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " ",
    "x",
    "\udc80",
    "a\u2028b",
    [],
    {},
    [None],
    [1, "a"],
    {"a": {"b": []}},
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-10:00",
    "2025-02-30",
    "2025-02-30T10:00:00Z",
    "2025-12-31T23:59:60Z",
    "2025-03",
    "2025-06-30T23:30:00Z",
    "31-12-9999",
    Raw("9" * 5000),
    Raw("-" + "9" * 5000),
    Raw('{"value": 30, "value": 3000}'),
    Raw("[" * 500 + "]" * 500),
    DEEP,
    *NAMES,
    *BSNS,
    int(BSNS[1]),
    *BIRTH_DATES,
    *POSTCODES,
    *STREETS,
)
"""What an element can be swapped for."""

# Lines that are not resources, inserted into NDJSON (bytes: some are not UTF-8).
BAD_LINES: tuple[bytes, ...] = (
    b"{oops",
    b"[1, 2]",
    b"42",
    b"null",
    b'"Kwakernaak"',
    b"{}",
    b'{"resourceType": 5}',
    b'{"resourceType": "Vermeulenplant", "id": "123456782"}',
    b'{"resourceType": "MedicationDispence", "id": "x"}',
    b'{"resourceType": "Patient", "id": "dup", "id": "123456782"}',
    b'{"resourceType": "Patient", "name": "Bloemendaal"} trailing',
    b"\xff\xfe\x00 not utf-8 \xc3",
    ("[" * 100_000 + "]" * 100_000).encode(),
)


@dataclass
class Case:
    """One fuzzed source and what the reader must make of it."""

    number: int
    files: dict[str, bytes]
    records: int
    """NDJSON lines and Bundle entries: each is a row read or counted in ``ignored``."""
    whole_file_damage: bool = False
    """Whether a damage may leave no file to read (the only excuse for a result-less error)."""
    strict: bool = True
    requests: str = "auto"
    damage: list[str] = field(default_factory=list)


def _resources() -> list[dict[str, Any]]:
    """A valid little source: every kind of resource the reader reads or looks up."""
    atc = {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}]}
    return [
        {
            "resourceType": "Practitioner",
            "id": "prac-1",
            "identifier": [
                {"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "01012345"}
            ],
            "name": [{"family": "Kwakernaak", "given": ["Hendrikje"]}],
        },
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": BSN_SYSTEM, "value": "111222333"}],
            "name": [
                {
                    "use": "official",
                    "family": "van Bloemendaal",
                    "_family": {
                        "extension": [
                            {
                                "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                                "valueString": "van",
                            },
                            {
                                "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name",
                                "valueString": "Bloemendaal",
                            },
                        ]
                    },
                    "given": ["Hendrikje", None],
                }
            ],
            "gender": "female",
            "birthDate": "1948-05-12",
            "address": [
                {
                    "line": ["Lindelaan 17"],
                    "_line": [
                        {
                            "extension": [
                                {
                                    "url": "http://hl7.org/fhir/StructureDefinition/"
                                    "iso21090-ADXP-streetName",
                                    "valueString": "Lindelaan",
                                },
                                {
                                    "url": "http://hl7.org/fhir/StructureDefinition/"
                                    "iso21090-ADXP-houseNumber",
                                    "valueString": "17",
                                },
                            ]
                        }
                    ],
                    "postalCode": "9711 KL",
                    "city": "Groningen",
                }
            ],
            "generalPractitioner": [{"reference": "Practitioner/prac-1"}],
            "deceasedBoolean": False,
        },
        {
            "resourceType": "Medication",
            "id": "med-1",
            "code": {"coding": [{"system": PRODUCT_SYSTEM, "code": "1234567"}]},
            "form": {"text": "capsule"},
            "ingredient": [
                {
                    "strength": {
                        "numerator": {"value": 20, "code": "mg"},
                        "denominator": {"value": 1},
                    }
                }
            ],
        },
        {
            "resourceType": "MedicationRequest",
            "id": "mr-1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "authoredOn": "2025-01-10",
            "medicationReference": {"reference": "Medication/med-1"},
            "requester": {"reference": "Practitioner/prac-1"},
            "dispenseRequest": {"quantity": {"value": 30}},
        },
        {
            "resourceType": "MedicationDispense",
            "id": "md-1",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "medicationReference": {"reference": "Medication/med-1"},
            "authorizingPrescription": [{"reference": "MedicationRequest/mr-1"}],
            "whenHandedOver": "2025-01-11T10:00:00+01:00",
            "quantity": {"value": 30},
        },
        {
            "resourceType": "MedicationDispense",
            "id": "md-2",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": atc,
            "whenPrepared": "2025-02-11",
            "quantity": {"value": 2.5},
        },
        {
            "resourceType": "MedicationDispense",
            "id": "md-3",
            "subject": {"reference": "Patient/p1"},
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "m1",
                    "code": {"coding": [{"system": PRODUCT_SYSTEM, "code": "1234567"}]},
                }
            ],
            "medicationReference": {"reference": "#m1"},
            "whenHandedOver": "2025-03-11",
            "quantity": {"value": 60},
        },
        *_mp9_resources(),
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/p1"},
            "verificationStatus": {"coding": [{"code": "confirmed"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icpc-2", "code": "P06"}]},
            "onsetPeriod": {"start": "2024-01-01"},
            "abatementDateTime": "2024-06-01",
        },
        {
            "resourceType": "Observation",
            "id": "o1",
            "status": "final",
            "valueString": "Vermeulenplant",
        },
    ]


def _mp9_resources() -> list[dict[str, Any]]:
    """MP9 documents (issue 18): an nl-core-Patient with Dutch name parts and qualified given
    names, a pharmacy and a prescriber role, a product coded by G-Standaard HPK and GPK with a
    display, a magistral preparation, a medication agreement and a dispense request referred
    to by identifier, an administration agreement, and an mp-MedicationDispense with the
    G-Standaard unit, days of supply and performer."""
    sd = "http://hl7.org/fhir/StructureDefinition/"
    sct = "http://snomed.info/sct"
    vv = {"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.52711000146108.1", "value": "VV-1"}
    return [
        {
            "resourceType": "Patient",
            "id": "p2",
            "identifier": [{"system": BSN_SYSTEM, "value": "123456782"}],
            "name": [
                {
                    "extension": [{"url": sd + "humanname-assembly-order", "valueCode": "NL4"}],
                    "use": "official",
                    "family": "Bloemendaal-Kwakernaak",
                    "_family": {
                        "extension": [
                            {"url": sd + "humanname-own-name", "valueString": "Bloemendaal"},
                            {"url": sd + "humanname-partner-prefix", "valueString": "van"},
                            {"url": sd + "humanname-partner-name", "valueString": "Kwakernaak"},
                        ]
                    },
                    "given": ["Hendrikje", "H."],
                    "_given": [
                        {"extension": [{"url": sd + "iso21090-EN-qualifier", "valueCode": "BR"}]},
                        {"extension": [{"url": sd + "iso21090-EN-qualifier", "valueCode": "IN"}]},
                    ],
                },
                {"use": "usual", "given": ["Hendrikje"]},
            ],
            "gender": "female",
            "birthDate": "1948-05-12",
            "generalPractitioner": [{"reference": "PractitionerRole/role-1"}],
        },
        {
            "resourceType": "PractitionerRole",
            "id": "role-1",
            "practitioner": {"reference": "Practitioner/prac-1"},
            "organization": {"reference": "Organization/ph-1"},
        },
        {
            "resourceType": "Organization",
            "id": "ph-1",
            "identifier": [
                {"system": "http://fhir.nl/fhir/NamingSystem/ura", "value": "01236578"},
                {"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "06011234"},
            ],
            "name": "Apotheek Kwakernaak",
        },
        {
            "resourceType": "Medication",
            "id": "med-mp9",
            "code": {
                "coding": [
                    {
                        "system": PRODUCT_SYSTEM,
                        "code": "1000017",
                        "display": "OXAZEPAM ACME TABLET 10MG",
                    },
                    {"system": GPK_SYSTEM, "code": "100013", "display": "OXAZEPAM TABLET 10MG"},
                ],
                "text": "OXAZEPAM ACME TABLET 10MG",
            },
        },
        {
            "resourceType": "Medication",
            "id": "med-magistral",
            "code": {"coding": [{"system": PRODUCT_SYSTEM, "code": "90000123"}]},
            "form": {"text": "capsule"},
            "ingredient": [
                {
                    "itemCodeableConcept": {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}]},
                    "isActive": True,
                    "strength": {"numerator": {"value": 7.5, "code": "mg"}},
                },
                {"itemCodeableConcept": {"text": "lactose"}, "isActive": False},
            ],
        },
        {
            "resourceType": "MedicationRequest",
            "id": "ma-1",
            "identifier": [
                {"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.16076005.1", "value": "MA-1"}
            ],
            "status": "active",
            "intent": "order",
            "category": [{"coding": [{"system": sct, "code": "16076005"}]}],
            "medicationReference": {"reference": "Medication/med-mp9"},
            "subject": {"reference": "Patient/p2"},
            "authoredOn": "2025-01-14",
            "requester": {"reference": "PractitionerRole/role-1"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "vv-1",
            "identifier": [vv],
            "basedOn": [
                {
                    "type": "MedicationRequest",
                    "identifier": {
                        "system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.16076005.1",
                        "value": "MA-1",
                    },
                }
            ],
            "status": "unknown",
            "intent": "order",
            "category": [{"coding": [{"system": sct, "code": "52711000146108"}]}],
            "medicationReference": {"reference": "Medication/med-mp9"},
            "subject": {"reference": "Patient/p2"},
            "authoredOn": "2025-01-14",
            "dispenseRequest": {"quantity": {"value": 60, "unit": "stuk"}},
        },
        {
            "resourceType": "MedicationDispense",
            "id": "mve-1",
            "status": "completed",
            "category": {"coding": [{"system": sct, "code": "373784005"}]},
            "medicationReference": {"reference": "Medication/med-mp9"},
            "subject": {"reference": "Patient/p2"},
            "performer": [{"actor": {"reference": "Organization/ph-1"}}],
            "authorizingPrescription": [{"type": "MedicationRequest", "identifier": vv}],
            "quantity": {
                "extension": [
                    {
                        "url": sd + "iso21090-PQ-translation",
                        "valueQuantity": {
                            "value": 60,
                            "system": "urn:oid:2.16.840.1.113883.2.4.4.1.900.2",
                            "code": "245",
                        },
                    }
                ],
                "value": 60,
                "unit": "stuk",
                "system": "http://unitsofmeasure.org",
                "code": "1",
            },
            "daysSupply": {"value": 4, "system": "http://unitsofmeasure.org", "code": "wk"},
            "whenHandedOver": "2025-01-15T10:30:00+01:00",
        },
        {
            "resourceType": "MedicationDispense",
            "id": "mve-2",
            "status": "completed",
            "medicationReference": {"reference": "Medication/med-magistral"},
            "subject": {"reference": "Patient/p2"},
            "quantity": {"value": 150, "unit": "ml", "system": "http://unitsofmeasure.org"},
            "whenHandedOver": "2025-02-15",
        },
        {
            "resourceType": "MedicationDispense",
            "id": "ta-1",
            "status": "unknown",
            "category": {"coding": [{"system": sct, "code": "422037009"}]},
            "medicationReference": {"reference": "Medication/med-mp9"},
            "subject": {"reference": "Patient/p2"},
        },
    ]


SENTINEL = {
    "resourceType": "MedicationDispense",
    "id": "sentinel",
    "status": "completed",
    "subject": {"reference": "Patient/sentinel"},
    "medicationCodeableConcept": {"coding": [{"system": ATC_SYSTEM, "code": "N05BA04"}]},
    "whenHandedOver": "2024-07-07",
    "quantity": {"value": 17},
}
"""A dispense no damage touches: it must be read whatever happens to the rest of the file."""


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every element below ``value`` (object keys and list positions)."""
    children: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        tree = tree[key]
    return tree


class _Writer:
    """Turns resources with :class:`Raw` values into JSON text."""

    def __init__(self) -> None:
        self.raw: list[Raw] = []

    def value(self, raw: Raw) -> str:
        self.raw.append(raw)
        return f"@@RAW{len(self.raw) - 1}@@"

    def dumps(self, value: Any, **options: Any) -> str:
        text = json.dumps(value, **options)
        for number, raw in enumerate(self.raw):
            text = text.replace(f'"@@RAW{number}@@"', raw.text)
        return text


def _damage(rng: random.Random, resource: dict[str, Any], writer: _Writer, case: Case) -> None:
    """One damage to one element of ``resource``."""
    paths = list(_paths(resource))
    path = rng.choice(paths)
    parent, key = _parent(resource, path), path[-1]
    current = parent[key]
    action = rng.random()
    if action < 0.2:
        del parent[key]
        case.damage.append(f"deleted {path}")
        return
    if action < 0.3:
        parent[key] = [current]
        case.damage.append(f"wrapped {path} in a list")
        return
    if action < 0.35 and isinstance(current, list) and current:
        parent[key] = current[0]
        case.damage.append(f"unwrapped the list {path}")
        return
    new = rng.choice(ODD_VALUES)
    if isinstance(new, Raw):
        new = writer.value(new)
    parent[key] = copy.deepcopy(new)
    case.damage.append(f"{path} = {str(new)[:40]!r}")


def _case(number: int) -> Case:
    rng = random.Random(SEED + number)
    case = Case(
        number=number,
        files={},
        records=0,
        strict=rng.random() < 0.5,
        requests=rng.choice(("auto", "auto", "always", "never")),
    )
    resources = _resources()
    writer = _Writer()
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        target = rng.choice(resources)
        if rng.random() < 0.1:
            target["resourceType"] = rng.choice(
                (None, 5, "Vermeulenplant", "MedicationDispence", "Observation", "Patient")
            )
            case.damage.append(f"resourceType of {target.get('id')!r} swapped")
        else:
            _damage(rng, target, writer, case)
    resources.insert(rng.randrange(len(resources) + 1), copy.deepcopy(SENTINEL))
    if rng.random() < 0.5:
        _ndjson(rng, resources, writer, case)
    else:
        _bundle(rng, resources, writer, case)
    return case


def _ndjson(rng: random.Random, resources: list[Any], writer: _Writer, case: Case) -> None:
    lines = [
        writer.dumps(r, ensure_ascii=rng.random() < 0.8).encode("utf-8", "surrogatepass")
        for r in resources
    ]
    for _ in range(rng.choice((0, 0, 1, 2))):
        bad = rng.choice(BAD_LINES)
        lines.insert(rng.randrange(len(lines) + 1), bad)
        case.damage.append(f"line {bad[:30]!r} inserted")
    if rng.random() < 0.2:
        lines.insert(rng.randrange(len(lines) + 1), b"   ")
    case.records = sum(1 for line in lines if line.strip())
    text = b"\n".join(lines) + b"\n"
    if rng.random() < 0.2:
        text = b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")
    case.files["export.ndjson"] = text


def _bundle(rng: random.Random, resources: list[Any], writer: _Writer, case: Case) -> None:
    entries: list[Any] = [
        {"fullUrl": f"urn:uuid:{number}", "resource": r} for number, r in enumerate(resources)
    ]
    for _ in range(rng.choice((0, 0, 1))):
        at = rng.randrange(len(entries))
        if entries[at]["resource"].get("id") == "sentinel":
            continue
        entries[at] = rng.choice(("Kwakernaak", 5, None, [], {"fullUrl": "x"}, {"resource": []}))
        case.damage.append(f"entry {at} replaced")
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    case.records = len(entries)
    ascii_only = rng.random() < 0.8
    text = writer.dumps(bundle, ensure_ascii=ascii_only)
    # JSON nested deeper than the parser goes, and a lone surrogate written as UTF-8 bytes
    # (not UTF-8 at all), leave no Bundle to read.
    case.whole_file_damage = any(raw.breaks_bundle for raw in writer.raw) or (
        not ascii_only and "\udc80" in text
    )
    whole = rng.random()
    if whole < 0.03:
        text = text.replace('"entry": [', '"entry": {"0": [', 1).removesuffix("}") + "}}"
        case.damage.append("Bundle.entry is an object")
        case.whole_file_damage = True
    elif whole < 0.05:
        text = text.replace('"type": "collection"', '"type": "collection", "type": "batch"', 1)
        case.damage.append("the Bundle has a key twice")
        case.whole_file_damage = True
    elif whole < 0.07:
        text = text[: rng.randrange(len(text))]
        case.damage.append("the Bundle is cut short")
        case.whole_file_damage = True
    data = text.encode("utf-8", "surrogatepass")
    if whole > 0.97:
        at = rng.randrange(len(data))
        data = data[:at] + b"\xff" + data[at:]
        case.damage.append("a byte that is not UTF-8")
        case.whole_file_damage = True
    case.files["export.json"] = data


def _messages(error: BaseException | None, result: ReadResult | None) -> list[str]:
    """Every text the read put in front of a person."""
    texts = []
    while error is not None:
        texts.append(str(error))
        error = error.__cause__ or error.__context__
    if result is not None:
        texts.append(result.report(limit=len(result.rejected) + 1))
        texts.extend(result.notes)
        texts.extend(result.ignored)
        texts.extend(str(reason) for reason in result.rejected["reason"])
    return texts


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())


Read = Callable[[Path, Case], ReadResult]


def read_case(path: Path, case: Case) -> ReadResult:
    """How the test reads a case: :func:`read_source` with the FHIR reader."""
    return read_source(
        path, format="fhir", strict=case.strict, code_map=CODE_MAP, fhir_requests=case.requests
    )


def check(case: Case, folder: Path, read: Read = read_case) -> list[str]:
    """Read one case and return what is wrong (empty: nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    source = folder / next(iter(case.files))
    problems = []
    error: BaseException | None = None
    result: ReadResult | None = None
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(1)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = read(source, case)
            except ReadError as raised:
                error, result = raised, raised.result
            except Exception as raised:  # the point of the fuzzer: report it, do not stop
                error = raised
                problems.append(f"crash: {type(raised).__name__}: {str(raised)[:300]}")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    if error is not None and result is None and not problems:
        if not case.whole_file_damage:
            problems.append(f"the whole file was refused: {str(error)[:300]}")
        if source.name not in str(error):
            problems.append(f"a file-level error that does not name the file: {str(error)[:300]}")
    if result is not None:
        read_rows = sum(c.rows_read for c in result.counts.values())
        accounted = read_rows + sum(result.ignored.values())
        if not result.reconciles or accounted != case.records:
            problems.append(
                f"counts do not reconcile: {case.records} records, {read_rows} rows read, "
                f"ignored {dict(result.ignored)}"
            )
        dispensings = result.dispensings
        found = dispensings is not None and bool(
            ((dispensings["patient_id"] == "sentinel") & (dispensings["quantity"] == 17)).any()
        )
        if not found:
            problems.append("the undamaged dispense was not read")
    texts = [
        *_messages(error, result),
        *(str(w.message) for w in caught),
        *handler.texts,
    ]
    for text in texts:
        leaked = [value for value in PERSONAL if value in text]
        if leaked:
            problems.append(f"personal value(s) {leaked} in a message: {text[:300]!r}")
    return problems


def cases(count: int = CASES) -> Iterator[Case]:
    for number in range(count):
        yield _case(number)


def test_fuzzed_fhir_sources_are_read_without_crash_or_leak(tmp_path: Path) -> None:
    failures = []
    for case in cases():
        found = check(case, tmp_path / str(case.number))
        if found:
            failures.append(f"case {case.number} (seed {SEED}; {case.damage}): {found}")
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "Kwakernaak", 123456782])
def test_the_fuzzer_sees_a_planted_value_and_a_crash(tmp_path: Path, value: Any) -> None:
    """The checks themselves: a reader that leaks or crashes is caught."""

    def leaky(path: Path, case: Case) -> ReadResult:
        raise ReadError(f"{path.name}: bad value {value}")

    case = Case(number=0, files={"x.ndjson": b"{}\n"}, records=1, damage=["none"])
    assert any("personal" in p for p in check(case, tmp_path / "a", leaky)) == (
        value != "0001-01-01T00:00:00+14:00"
    )

    def crashing(path: Path, case: Case) -> ReadResult:
        raise OverflowError("date value out of range")

    assert check(case, tmp_path / "b", crashing)[0].startswith("crash: OverflowError")
