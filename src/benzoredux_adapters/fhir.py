"""Reader for FHIR R4: a Bundle (JSON), NDJSON (one resource per line), or a folder of them.

Resources read (everything else is counted in ``ReadResult.ignored``):

* ``MedicationDispense`` -> dispensings: ``subject``, ``whenHandedOver`` (else
  ``whenPrepared``), ``quantity.value``; the prescriber is the ``requester`` of its
  ``authorizingPrescription``. Dispenses whose status is not ``completed`` are not counted.
* ``MedicationRequest`` -> dispensings, **only when the source has no MedicationDispense**
  (otherwise a prescription and its dispensing would be counted twice; ``fhir_requests=
  "always"`` or ``"never"`` overrides): ``authoredOn``, ``dispenseRequest.quantity.value``,
  ``requester``; only orders (``intent`` ``order``) that are not cancelled, draft or in error.
* ``Patient`` -> patients: ``birthDate``, ``gender``, the BSN identifier
  (``http://fhir.nl/fhir/NamingSystem/bsn``), name (with the Dutch ``own-prefix`` extension for
  the tussenvoegsel), address, ``generalPractitioner`` (the listed GP), ``deceased[x]``.
* ``Condition`` -> episodes: the ICPC coding (:data:`ICPC_SYSTEMS`), ``onset[x]`` and
  ``abatement[x]``; conditions refuted or entered in error are not counted.
* ``Practitioner`` and ``Medication`` are looked up by reference: a practitioner is named by
  their AGB code (``http://fhir.nl/fhir/NamingSystem/agb-z``) when they have one.

**Drug codes**: ATC from a coding with system ``http://www.whocc.no/atc`` (of the
``medicationCodeableConcept`` or the referenced ``Medication.code``); any other coding (a
national product code, RxNorm) only through the caller's code map (``code_map=
{"system|code": "ATC"}`` or a mapping file's ``[code_map]``). A dispense whose drug cannot be
coded is rejected with its codings named, never guessed or dropped. A ``dateTime`` with a time
zone is taken as the date in the Netherlands (Europe/Amsterdam).

**Bad records** (issue 16): one resource of the wrong shape must not sink the file, and no
message may carry personal data. Every element the reader uses is checked against the JSON type
FHIR R4 gives it (an object, a list, text, a number, a code from its value set, a date); a
resource that fails is a rejected row of its table, with a reason naming where it is (the
file, its line or Bundle entry, its resourceType and the element path, such as
``Patient.name is an object, not a list``) and never a value from it, and the rest of the file
is read. A record that is not a FHIR resource at all (a line that is not JSON, a Bundle entry
without a resource, an unknown resourceType) belongs to no table: in strict mode it is part of
the :class:`~benzoredux.reading.result.ReadError`; otherwise it is counted in
``ReadResult.ignored`` and named in ``ReadResult.notes``. So every record read is a row read
(kept or rejected) or counted in ``ignored``. Only a file that cannot be parsed at all (not
JSON, not UTF-8, nested deeper than the parser can go, a Bundle whose ``entry`` is not a list)
raises for the whole file, naming the file and the line. docs/adapters.rst ("Bad records")
lists every rule and why.

Parsed with the standard library's :mod:`json` (docs/explanation/dependencies.rst says why).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import RawTable, ReadError, ReadResult
from benzoredux.tables import EPISODES, PATIENTS, Kind
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._sources import source_files

__all__ = [
    "AGB_SYSTEM",
    "ATC_SYSTEM",
    "BSN_SYSTEM",
    "ICPC_SYSTEMS",
    "R4_RESOURCE_TYPES",
    "FhirReader",
    "benzoredux_register_readers",
]

ATC_SYSTEM = "http://www.whocc.no/atc"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
ICPC_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/icpc-2",
        "http://hl7.org/fhir/sid/icpc-1",
        "http://hl7.org/fhir/sid/icpc-1-nl",
    }
)
"""Condition coding systems read as ICPC (ICPC-2, ICPC-1 and the Dutch ICPC-1-NL)."""
R4_RESOURCE_TYPES = frozenset(
    """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference
    EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare
    EventDefinition Evidence EvidenceVariable ExampleScenario ExplanationOfBenefit
    FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse HealthcareService
    ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation
    ImplementationGuide InsurancePlan Invoice Library Linkage List Location Measure MeasureReport
    Media Medication MedicationAdministration MedicationDispense MedicationKnowledge
    MedicationRequest MedicationStatement MedicinalProduct MedicinalProductAuthorization
    MedicinalProductContraindication MedicinalProductIndication MedicinalProductIngredient
    MedicinalProductInteraction MedicinalProductManufactured MedicinalProductPackaged
    MedicinalProductPharmaceutical MedicinalProductUndesirableEffect MessageDefinition
    MessageHeader MolecularSequence NamingSystem NutritionOrder Observation ObservationDefinition
    OperationDefinition OperationOutcome Organization OrganizationAffiliation Parameters Patient
    PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner PractitionerRole
    Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson RequestGroup
    ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
    """.split()  # noqa: SIM905 - the names as the R4 resource list prints them
)
"""The resource types of FHIR R4 (4.0.1). Only these names are shown in ``ignored`` and in
messages: a ``resourceType`` outside the list could be anything, a patient's name included,
so it is not repeated; the record is not a FHIR R4 resource and is reported as such."""
OWN_PREFIX = "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix"
OWN_NAME = "http://hl7.org/fhir/StructureDefinition/humanname-own-name"
STREET_NAME = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName"
HOUSE_NUMBER = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber"
NETHERLANDS = ZoneInfo("Europe/Amsterdam")
_READ = ("MedicationDispense", "MedicationRequest", "Patient", "Condition")
_LOOKUP = ("Practitioner", "Medication")
_SEX = {"male": "M", "female": "F", "other": "X", "unknown": "X"}
_DISPENSE_OK = frozenset({"completed"})
_REQUEST_SKIP = frozenset({"cancelled", "entered-in-error", "draft"})
_ORDERS = frozenset({"order", "original-order", "instance-order"})
# The R4 value sets of the codes the reader decides on (required bindings): a code outside its
# value set cannot be told to be "completed" or not, so the resource is rejected.
_DISPENSE_STATUSES = frozenset(
    {
        "preparation",
        "in-progress",
        "cancelled",
        "on-hold",
        "completed",
        "entered-in-error",
        "stopped",
        "declined",
        "unknown",
    }
)
_REQUEST_STATUSES = frozenset(
    {
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    }
)
_REQUEST_INTENTS = frozenset(
    {
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    }
)
_TOO_DEEP = "nested too deeply"
_UNREAD_KEY = "records that are not FHIR R4 resources (named in notes)"
"""The ``ignored`` key counting, in lenient mode, the records that are not resources."""
_NOTES_PER_FILE = 20


# --- checking the shape of what the reader uses -----------------------------------------------


class _ShapeError(Exception):
    """An element the reader uses has the wrong shape: where it is and what is wrong.

    The text is built from element names, list positions and JSON types only, never from a
    value of the resource, so that it can go into a message.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path} {problem}")


class _Huge:
    """An integer with more digits than Python converts (``sys.int_info``'s default limit is
    4300): only its length is kept, for the message."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _kind(value: Any) -> str:
    """What JSON type a value is, for messages (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float | _Huge):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__  # pragma: no cover - json gives nothing else


_SURROGATE = re.compile("[\ud800-\udfff]")


def _object(value: Any, path: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    raise _ShapeError(path, f"is {_kind(value)}, not an object")


def _array(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise _ShapeError(path, f"is {_kind(value)}, not a list")


def _objects(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The objects of a list element, each with its path; checked as they are read."""
    for number, item in enumerate(_array(value, path)):
        where = f"{path}[{number}]"
        if not isinstance(item, Mapping):
            raise _ShapeError(where, f"is {_kind(item)}, not an object")
        yield where, item


def _text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _ShapeError(path, f"is {_kind(value)}, not text")
    if not value.isascii() and _SURROGATE.search(value):
        # A lone surrogate ("\ud800" in the JSON) is no character: no table can hold it.
        raise _ShapeError(path, "holds an escape that is not a Unicode character")
    return value


def _texts(value: Any, path: str) -> list[str]:
    """The texts of a list of strings; ``null`` items (allowed next to ``_given`` extensions)
    are left out."""
    found = []
    for number, item in enumerate(_array(value, path)):
        text = _text(item, f"{path}[{number}]")
        if text is not None:
            found.append(text)
    return found


def _code(value: Any, path: str, allowed: frozenset[str]) -> str | None:
    code = _text(value, path)
    if code is None or code in allowed:
        return code
    raise _ShapeError(path, f"is not one of the codes {', '.join(sorted(allowed))}")


def _decimal(value: Any, path: str) -> str | None:
    """A FHIR ``decimal`` (a JSON number) as text in positional notation, which
    :func:`~benzoredux.reading.parse_numbers` reads (``1e+20`` it would not)."""
    if value is None:
        return None
    if isinstance(value, _Huge):
        raise _ShapeError(path, f"has {value.digits} digits, too many to be a number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _ShapeError(path, f"is {_kind(value)}, not a number")
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            digits = len(str(abs(value)))
            raise _ShapeError(path, f"has {digits} digits, too many to be a number") from None
        return str(value)
    if not math.isfinite(value):
        raise _ShapeError(path, "is not a finite number (NaN and Infinity are not JSON)")
    return format(Decimal(repr(value)), "f")


_DATE_TIME = re.compile(
    r"(?P<date>(?:[0-9](?:[0-9](?:[0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?)"
    r"(?:T(?P<time>(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?)"
    r"(?P<zone>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?)?"
)
"""A FHIR R4 ``date`` or ``dateTime`` (the R4 regular expressions, the time zone optional)."""


def _when(value: Any, path: str) -> str | None:
    """A FHIR date or dateTime as ``YYYY-MM-DD`` (the Dutch date of a time-zoned instant).

    A partial date (``2025`` or ``2025-03``) and a day that does not exist (``2025-02-30``) go
    on as written: the dispensings or patients schema reports them like any other reader's.
    Text that is no FHIR date at all, and an instant that falls outside the years 1 to 9999
    in Dutch time (``0001-01-01T00:00:00+14:00``), are rejected here.
    """
    text = _text(value, path)
    if text is None or not text.strip():
        return None
    match = _DATE_TIME.fullmatch(text.strip())
    if match is None:
        raise _ShapeError(
            path, "is not a FHIR date or dateTime (YYYY-MM-DD, optionally with a time)"
        )
    day, time = match["date"], match["time"]
    if time is None:
        return day
    if len(day) != len("YYYY-MM-DD"):
        raise _ShapeError(path, "has a time but not a full date")
    if time[6:8] == "60":  # a leap second: the same day as the second before it
        time = f"{time[:6]}59{time[8:]}"
    try:
        moment = dt.datetime.fromisoformat(f"{day}T{time}{match['zone'] or ''}")
    except ValueError:
        return day  # 2025-02-30T...: reported as a date that does not exist
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(NETHERLANDS)
        except OverflowError:
            raise _ShapeError(path, "falls outside the years 1 to 9999 in Dutch time") from None
    return moment.date().isoformat()


def _reference(value: Any, path: str) -> str | None:
    reference = _object(value, path)
    if reference is None:
        return None
    return _text(reference.get("reference"), f"{path}.reference") or None


def _type_name(resource: Mapping[str, Any]) -> str:
    """The resourceType, when it is an R4 type (anything else is not repeated)."""
    kind = resource.get("resourceType")
    return kind if isinstance(kind, str) and kind in R4_RESOURCE_TYPES else "resource"


_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,39}")
_SAFE_SYSTEM = re.compile(
    r"urn:oid:[0-9.]{1,64}|https?://[A-Za-z0-9.\-]+(?:/[A-Za-z0-9.\-_~#]*){0,8}"
)
_DATE_LIKE = re.compile(r"[0-9]{1,4}[-./][0-9]{1,2}[-./][0-9]{1,4}")
_POSTCODE_LIKE = re.compile(r"[1-9][0-9]{3}[A-Za-z]{2}")


def _bsn_like(code: str) -> bool:
    """Whether ``code`` passes the BSN 11-test (8 or 9 digits, as the patients schema pads)."""
    if not (code.isascii() and code.isdigit()) or len(code) not in (8, 9):
        return False
    digits = [int(c) for c in code.zfill(9)]
    total = sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and any(digits)


def _compact_date_like(code: str) -> bool:
    """Whether 8 digits read as a date of 1900-2099 (``DDMMYYYY`` or ``YYYYMMDD``)."""
    if len(code) != 8 or not (code.isascii() and code.isdigit()):
        return False
    for year, month, day in ((code[4:], code[2:4], code[:2]), (code[:4], code[4:6], code[6:])):
        try:
            if 1900 <= dt.date(int(year), int(month), int(day)).year <= 2099:
                return True
        except ValueError:
            continue
    return False


def _shown_code(code: str | None) -> str:
    """A drug code as a message may show it: only a code that cannot be personal data.

    A product code is what a person needs to write a code map, so it is shown when it is short
    and has the shape of a code (letters, digits, ``.-_``, at least one digit), and is hidden
    when it could be a name (letters only), a BSN (passes the 11-test), a date or a postcode.
    """
    if code is None:
        return "None"  # as in the code map's key "system|None"
    if (
        _SAFE_CODE.fullmatch(code)
        and any(c.isdigit() for c in code)
        and not _bsn_like(code)
        and not _compact_date_like(code)
        and not _DATE_LIKE.fullmatch(code)
        and not _POSTCODE_LIKE.fullmatch(code)
    ):
        return code
    return "<hidden>"


def _shown_system(system: str | None) -> str:
    """A coding system as a message may show it: an OID or a plain URL, else hidden."""
    if system is None:
        return "None"  # as in the code map's key "None|code"
    return system if _SAFE_SYSTEM.fullmatch(system) else "<hidden>"


# --- parsing -----------------------------------------------------------------------------------


class _DuplicateKeyError(Exception):
    """Raised by the first parse's object hook: some object has a key twice."""


class _Twice(dict[str, Any]):
    """A JSON object with a key twice (FHIR: names are unique; which value holds is unknown)."""


class _HoldsTwice(dict[str, Any]):
    """A JSON object that holds, somewhere inside it, an object with a key twice."""


_DUPLICATE = "holds an object with the same key twice (JSON names must be unique)"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKeyError
    return found


def _holds_twice(value: Any) -> bool:
    """Whether a parsed value is or holds (through lists) an object with a key twice."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Twice | _HoldsTwice):
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The second parse's object hook (only for text with a duplicate key): marks the objects
    that have a key twice and those that hold one, so the right resource is rejected."""
    found = dict(pairs)
    if len(found) != len(pairs):
        return _Twice(found)
    if any(_holds_twice(value) for _, value in pairs):
        return _HoldsTwice(found)
    return found


def _parse_int(text: str) -> int | _Huge:
    digits = len(text.lstrip("-"))
    return int(text) if digits <= 4000 else _Huge(digits)


class _NotJsonError(Exception):
    """Text that :mod:`json` cannot parse: the line and what is wrong."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _deepest(text: str) -> tuple[int, int]:
    """The line where ``text`` is nested deepest, and how deep (strings are skipped)."""
    depth = deepest = at = 0
    for token in _BRACKETS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, token.start()
        elif char in "]}":
            depth -= 1
    return text.count("\n", 0, at) + 1, deepest


def _load(text: str) -> Any:
    """Parse JSON text; duplicate keys are marked (:class:`_Twice`), integers too long to
    convert kept as :class:`_Huge`, and every failure raised as :class:`_NotJsonError`."""
    try:
        try:
            return json.loads(text, parse_int=_parse_int, object_pairs_hook=_unique)
        except _DuplicateKeyError:
            return json.loads(text, parse_int=_parse_int, object_pairs_hook=_marking)
    except json.JSONDecodeError as error:
        raise _NotJsonError(error.lineno, f"not JSON ({error.msg})") from None
    except RecursionError:
        line, depth = _deepest(text)
        raise _NotJsonError(
            line, f"not readable: {_TOO_DEEP} ({depth} levels; no FHIR resource is)"
        ) from None


# --- records -----------------------------------------------------------------------------------


class _Entry:
    """One record and where it is in the source.

    ``resource`` is ``None`` for a record that is not a FHIR resource (``problem`` says why);
    otherwise ``problem``, when set, is what is wrong with the whole resource.
    """

    __slots__ = ("file", "full_url", "line", "problem", "record", "resource")

    def __init__(
        self,
        resource: Mapping[str, Any] | None,
        file: str,
        line: int | None,
        record: str,
        *,
        full_url: str | None = None,
        problem: str | None = None,
    ) -> None:
        self.resource = resource
        self.file = file
        self.line = line
        self.record = record
        self.full_url = full_url
        self.problem = problem

    @property
    def kind(self) -> str | None:
        return None if self.resource is None else self.resource["resourceType"]

    @property
    def where(self) -> str:
        return f"{self.file}, {self.record}"


_SUFFIXES = frozenset({".json", ".ndjson"})


def _files(source: Path) -> list[Path]:
    return source_files(source, _SUFFIXES)


def _resource_entry(
    value: Any, file: str, line: int | None, record: str, full_url: str | None = None
) -> _Entry:
    """The entry of a parsed record: a resource, or a record that is not one (and why)."""
    if not isinstance(value, Mapping):
        return _Entry(
            None, file, line, record, problem=f"not a FHIR resource ({_kind(value)}, not an object)"
        )
    kind = value.get("resourceType")
    if kind is None:
        return _Entry(None, file, line, record, problem="not a FHIR resource (no resourceType)")
    if not isinstance(kind, str):
        problem = f"not a FHIR resource (its resourceType is {_kind(kind)}, not text)"
        return _Entry(None, file, line, record, problem=problem)
    if kind not in R4_RESOURCE_TYPES:
        problem = "not a FHIR R4 resource (its resourceType is no R4 resource type)"
        return _Entry(None, file, line, record, problem=problem)
    twice = isinstance(value, _Twice | _HoldsTwice)
    return _Entry(
        value, file, line, record, full_url=full_url, problem=_DUPLICATE if twice else None
    )


def _decode(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 become lone surrogates, found per line."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


def _entries(path: Path) -> Iterator[_Entry]:
    text = _decode(path)
    if path.suffix.lower() == ".ndjson":
        yield from _ndjson_entries(path.name, text)
        return
    bad = _SURROGATE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise ReadError(f"{path.name}, line {line}: not UTF-8 text; the file cannot be read")
    try:
        document = _load(text)
    except _NotJsonError as error:
        raise ReadError(
            f"{path.name}, line {error.line}: {error.reason}; the file cannot be read"
        ) from None
    if not isinstance(document, Mapping):
        raise ReadError(
            f"{path.name}: not a FHIR resource (the file holds {_kind(document)}, not an object)"
        )
    if document.get("resourceType") != "Bundle":
        entry = _resource_entry(document, path.name, None, "the resource")
        if entry.resource is None:
            raise ReadError(f"{path.name}: {entry.problem}")
        entry.record = _type_name(entry.resource)
        yield entry
        return
    if isinstance(document, _Twice):
        raise ReadError(
            f"{path.name}: the Bundle has the same key twice (JSON names must be unique)"
        )
    items = document.get("entry")
    if items is None:
        return
    if not isinstance(items, list):
        raise ReadError(f"{path.name}: Bundle.entry is {_kind(items)}, not a list")
    for number, item in enumerate(items):
        record = f"entry {number}"
        if not isinstance(item, Mapping):
            problem = f"Bundle.entry[{number}] is {_kind(item)}, not an object"
            yield _Entry(None, path.name, None, record, problem=problem)
            continue
        resource = item.get("resource")
        if resource is None:
            problem = f"Bundle.entry[{number}] has no resource"
            yield _Entry(None, path.name, None, record, problem=problem)
            continue
        full_url = item.get("fullUrl")
        entry = _resource_entry(
            resource, path.name, None, record, full_url if isinstance(full_url, str) else None
        )
        if entry.resource is not None:
            entry.record = f"{record} ({_type_name(entry.resource)})"
            if isinstance(item, _Twice):
                entry.problem = _DUPLICATE
        yield entry


def _ndjson_entries(file: str, text: str) -> Iterator[_Entry]:
    # Split on "\n" only: str.splitlines() would also split on U+2028 and U+2029, which JSON
    # allows unescaped inside a string.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        record = f"line {number}"
        if _SURROGATE.search(line):
            yield _Entry(None, file, number, record, problem="not UTF-8 text")
            continue
        try:
            value = _load(line)
        except _NotJsonError as error:
            yield _Entry(None, file, number, record, problem=error.reason)
            continue
        yield _resource_entry(value, file, number, record)


class _Index:
    """Resources by reference (``Type/id`` and ``fullUrl``), for looking up what is referred to."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.by_ref: dict[str, _Entry] = {}
        for entry in entries:
            if entry.resource is None:
                continue
            identity = entry.resource.get("id")
            if isinstance(identity, str):
                self.by_ref[f"{entry.kind}/{identity}"] = entry
            if entry.full_url:
                self.by_ref[entry.full_url] = entry

    def find(
        self,
        reference: str | None,
        container: tuple[Mapping[str, Any], str] | None,
        path: str,
    ) -> tuple[Mapping[str, Any], str] | None:
        """The resource ``reference`` (found at ``path``) refers to, with the path its own
        elements are named by in messages (``MedicationDispense.medicationReference ->
        Medication``); ``None`` when it is not in the source. ``#id`` is looked up among the
        ``contained`` resources of ``container`` (the resource and its path)."""
        if reference is None:
            return None
        if reference.startswith("#"):
            if container is None:
                return None
            resource, where = container
            for contained_path, contained in _objects(
                resource.get("contained"), f"{where}.contained"
            ):
                if _text(contained.get("id"), f"{contained_path}.id") == reference[1:]:
                    return contained, f"{path} -> {_type_name(contained)}"
            return None
        entry = self.by_ref.get(reference) or self.by_ref.get(reference.split("/_history")[0])
        if entry is None or entry.resource is None:
            return None
        target = f"{path} -> {_type_name(entry.resource)}"
        if entry.problem is not None:
            raise _ShapeError(target, entry.problem)
        return entry.resource, target

    def patient_id(
        self, value: Any, path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
        reference = _reference(value, path)
        if reference is None:
            return None
        found = self.find(reference, container, path)
        if found is not None and found[0].get("resourceType") == "Patient":
            identity = _text(found[0].get("id"), f"{found[1]}.id")
            if identity:
                return identity
        return reference.rsplit("/", 1)[-1]

    def practitioner(
        self, value: Any, path: str, container: tuple[Mapping[str, Any], str] | None
    ) -> str | None:
        """The AGB code of a referenced practitioner, else its id."""
        reference = _reference(value, path)
        if reference is None:
            return None
        found = self.find(reference, container, path)
        if found is not None:
            resource, target = found
            for where, identifier in _objects(resource.get("identifier"), f"{target}.identifier"):
                if _text(identifier.get("system"), f"{where}.system") == AGB_SYSTEM:
                    agb = _text(identifier.get("value"), f"{where}.value")
                    if agb:
                        return agb
            identity = _text(resource.get("id"), f"{target}.id")
            if identity:
                return identity
        return reference.rsplit("/", 1)[-1]


class _Rows:
    """Rows of one canonical table as text cells, with where each came from."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows: list[dict[str, str | None]] = []
        self.files: list[str] = []
        self.lines: list[int | None] = []
        self.records: list[str] = []
        self.unreadable: list[tuple[str, int | None, str, str]] = []

    def add(self, entry: _Entry, row: dict[str, str | None]) -> None:
        self.rows.append(row)
        self.files.append(entry.file)
        self.lines.append(entry.line)
        self.records.append(entry.record)

    def reject(self, entry: _Entry, reason: str) -> None:
        self.unreadable.append((entry.file, entry.line, entry.record, reason))

    def raw_tables(self, columns: tuple[str, ...]) -> list[RawTable]:
        """One raw table per file (problems then name the file they are in)."""
        tables = []
        files = dict.fromkeys([*self.files, *(u[0] for u in self.unreadable)])
        for file in files:
            mine = [i for i, f in enumerate(self.files) if f == file]
            frame = pd.DataFrame([self.rows[i] for i in mine], columns=list(columns), dtype=object)
            lines = [self.lines[i] for i in mine]
            numbered = [n for n in lines if n is not None]
            tables.append(
                RawTable(
                    table=self.table,
                    frame=frame,
                    file=file,
                    settings=_SETTINGS,
                    lines=numbered if numbered and len(numbered) == len(lines) else None,
                    records=[self.records[i] for i in mine],
                    unreadable=tuple(
                        (line, record if line is None else None, reason)
                        for f, line, record, reason in self.unreadable
                        if f == file
                    ),
                    source_columns={c: _FHIR_NAMES.get(c, c) for c in columns},
                )
            )
        return tables


_FHIR_NAMES = {
    "patient_id": "subject",
    "date": "date",
    "atc": "medication",
    "quantity": "quantity.value",
    "prescriber_id": "prescriber",
    "icpc": "code",
    "start": "onset",
    "end": "abatement",
}


def _settings() -> Any:
    from benzoredux.reading import ParseSettings

    return ParseSettings(date_formats=("%Y-%m-%d",), decimal=".", values={})


_SETTINGS = _settings()
_DISPENSING_COLUMNS = (
    "patient_id",
    "date",
    "atc",
    "quantity",
    "strength_mg",
    "form",
    "prescriber_id",
)
# The canonical columns a FHIR Patient and Condition fill; a Patient carries none of the yes/no
# screening columns (palliative, language, ...), which come from the HIS or the GP.
_PATIENT_COLUMNS = tuple(c.name for c in PATIENTS.columns if c.kind is not Kind.BOOLEAN)
_EPISODE_COLUMNS = tuple(c.name for c in EPISODES.columns)


def _codings(
    concept: Mapping[str, Any] | None, path: str
) -> list[tuple[str, str | None, str | None]]:
    """``(path, system, code)`` of each coding of a CodeableConcept."""
    if concept is None:
        return []
    return [
        (where, _text(c.get("system"), f"{where}.system"), _text(c.get("code"), f"{where}.code"))
        for where, c in _objects(concept.get("coding"), f"{path}.coding")
    ]


_ATC_SHAPE = re.compile(r"[A-Za-z](?:[0-9]{2}(?:[A-Za-z]{1,2}(?:[0-9]{2})?)?)?")
"""An ATC code of any level (``N``, ``N05``, ``N05B``, ``N05BA``, ``N05BA01``), any case: the
dispensings schema then insists on the 7-character substance level and may show such a code."""
_ICPC_SHAPE = re.compile(r"[A-Za-z][0-9]{2}(?:\.[0-9]{1,2})?")


class _Medication:
    """What a dispense or request says about its drug: ATC, form, strength."""

    def __init__(
        self,
        resource: Mapping[str, Any],
        path: str,
        index: _Index,
        code_map: Mapping[str, str],
    ) -> None:
        concept = _object(
            resource.get("medicationCodeableConcept"), f"{path}.medicationCodeableConcept"
        )
        concept_path = f"{path}.medicationCodeableConcept"
        where = f"{path}.medicationReference"
        found = index.find(
            _reference(resource.get("medicationReference"), where), (resource, path), where
        )
        if concept is None and found is not None:
            concept_path = f"{found[1]}.code"
            concept = _object(found[0].get("code"), concept_path)
        self.codings = _codings(concept, concept_path)
        self.atc: str | None = None
        for coding_path, system, code in self.codings:
            if system == ATC_SYSTEM and code:
                if not _ATC_SHAPE.fullmatch(code.strip()):
                    raise _ShapeError(f"{coding_path}.code", f"is not an ATC code ({ATC_SYSTEM})")
                self.atc = code
                break
        if self.atc is None:
            for _, system, code in self.codings:
                key = f"{system}|{code}"
                if key in code_map:
                    self.atc = code_map[key]
                    break
        self.form: str | None = None
        self.strength_mg: str | None = None
        if found is not None:
            medication, medication_path = found
            form = _object(medication.get("form"), f"{medication_path}.form")
            if form is not None:
                self.form = _text(form.get("text"), f"{medication_path}.form.text") or next(
                    (
                        display
                        for where, c in _objects(
                            form.get("coding"), f"{medication_path}.form.coding"
                        )
                        if (display := _text(c.get("display"), f"{where}.display"))
                    ),
                    None,
                )
            self.strength_mg = _strength_mg(medication, medication_path)

    def unknown(self) -> str:
        shown = (
            ", ".join(f"{_shown_system(s)}|{_shown_code(c)}" for _, s, c in self.codings) or "none"
        )
        return (
            f"medication has no ATC coding ({ATC_SYSTEM}) and no code-map entry for its "
            f"codings ({shown})"
        )


def _strength_mg(medication: Mapping[str, Any], path: str) -> str | None:
    """mg per unit from a single ingredient's ``strength`` (numerator mg per 1 unit)."""
    ingredients = list(_objects(medication.get("ingredient"), f"{path}.ingredient"))
    if len(ingredients) != 1:
        return None
    where, ingredient = ingredients[0]
    strength = _object(ingredient.get("strength"), f"{where}.strength") or {}
    numerator = _object(strength.get("numerator"), f"{where}.strength.numerator") or {}
    denominator = _object(strength.get("denominator"), f"{where}.strength.denominator") or {}
    unit = _text(numerator.get("code"), f"{where}.strength.numerator.code") or _text(
        numerator.get("unit"), f"{where}.strength.numerator.unit"
    )
    per = _decimal(denominator.get("value"), f"{where}.strength.denominator.value")
    if (unit or "").lower() != "mg" or (per is not None and Decimal(per) != 1):
        return None
    return _decimal(numerator.get("value"), f"{where}.strength.numerator.value")


class FhirReader:
    """FHIR R4 Bundle JSON and NDJSON (see the module docstring)."""

    name: str = "fhir"
    description: str = (
        "FHIR R4 Bundle (.json) or NDJSON (.ndjson, or a folder of them) with "
        "MedicationDispense, MedicationRequest, Patient, Condition, Practitioner"
    )

    def detect(self, source: Path) -> float:
        """Sure when the file (or a folder's file) starts as a FHIR resource."""
        files = _files(source)
        if not files:
            return 0.0
        scores = [_detect_file(path) for path in files]
        return min(scores) if source.is_dir() else scores[0]

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read every resource into the canonical tables (see the module docstring on bad
        records: which are rejected rows, which are not resources, which stop the file)."""
        entries = [entry for path in _files(source) for entry in _entries(path)]
        index = _Index(entries)
        code_map = {k: str(v).strip().upper() for k, v in options.get("code_map", {}).items()}
        has_dispenses = any(e.kind == "MedicationDispense" for e in entries)
        requests = options.get("fhir_requests", "auto")
        if requests not in ("auto", "always", "never"):
            raise ValueError(f"fhir_requests must be auto, always or never, got {requests!r}")
        use_requests = requests == "always" or (requests == "auto" and not has_dispenses)
        dispensings, patients, episodes = (
            _Rows("dispensings"),
            _Rows("patients"),
            _Rows("episodes"),
        )
        ignored: dict[str, int] = {}

        def skip(what: str) -> None:
            ignored[what] = ignored.get(what, 0) + 1

        unread: list[_Entry] = []
        for entry in entries:
            kind = entry.kind
            if kind is None:
                unread.append(entry)
                continue
            rows = {
                "MedicationDispense": dispensings,
                "MedicationRequest": dispensings,
                "Patient": patients,
                "Condition": episodes,
            }.get(kind)
            if rows is None:
                skip(f"{kind} (looked up by reference)" if kind in _LOOKUP else kind)
                continue
            if kind == "MedicationRequest" and not use_requests:
                skip(
                    "MedicationRequest (the dispenses are counted instead)"
                    if has_dispenses
                    else "MedicationRequest (fhir_requests='never')"
                )
                continue
            try:
                if entry.problem is not None:
                    raise _ShapeError(kind, entry.problem)
                if kind == "MedicationDispense":
                    _dispense(entry, index, code_map, rows, skip)
                elif kind == "MedicationRequest":
                    _request(entry, index, code_map, rows, skip)
                elif kind == "Patient":
                    rows.add(entry, _patient(entry, index))
                else:
                    _condition(entry, index, rows, skip)
            except _ShapeError as bad:
                rows.reject(entry, str(bad))
        raws = [
            *(dispensings.raw_tables(_DISPENSING_COLUMNS)),
            *(patients.raw_tables(_PATIENT_COLUMNS)),
            *(episodes.raw_tables(_EPISODE_COLUMNS)),
        ]
        if unread:
            ignored[_UNREAD_KEY] = len(unread)
        result = reader_result(
            self.name,
            source,
            raws,
            options,
            ignored=ignored,
            notes=_unread_notes(unread),
        )
        if unread and options.get("strict", True):
            raise ReadError(_unread_message(source, unread, result), result)
        return result


def _unread_notes(unread: list[_Entry]) -> list[str]:
    """One note per record that is not a resource, at most :data:`_NOTES_PER_FILE` per file."""
    notes: list[str] = []
    per_file: dict[str, int] = {}
    for entry in unread:
        per_file[entry.file] = per_file.get(entry.file, 0) + 1
        if per_file[entry.file] <= _NOTES_PER_FILE:
            notes.append(f"{entry.where}: {entry.problem}; not read")
    for file, count in per_file.items():
        if count > _NOTES_PER_FILE:
            notes.append(
                f"{file}: {count - _NOTES_PER_FILE} more records that are not FHIR R4 resources; "
                "not read"
            )
    return notes


def _unread_message(source: Path, unread: list[_Entry], result: ReadResult) -> str:
    lines = _unread_notes(unread)
    text = (
        f"{source.name} (fhir): {len(unread)} record(s) are not FHIR R4 resources:\n  "
        + "\n  ".join(lines)
    )
    if len(result.rejected):
        text += f"\nand {len(result.rejected)} problem(s) in the resources:\n{result.report()}"
    return (
        text + "\nread_source(..., strict=False) reads the rest: the records that are not "
        "resources are then counted in ReadResult.ignored and named in ReadResult.notes, the "
        "rejected rows are in ReadResult.rejected."
    )


def _detect_file(path: Path) -> float:
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in _SUFFIXES:
        return 0.0
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8-sig", errors="replace")
    except OSError:
        return 0.0
    if '"resourceType"' not in head:
        return 0.0
    if suffix == ".ndjson":
        return 0.9 if any(f'"{kind}"' in head for kind in (*_READ, *_LOOKUP)) else 0.5
    return 0.9 if '"Bundle"' in head or any(f'"{k}"' in head for k in _READ) else 0.5


def _coded_medication(
    entry: _Entry, path: str, index: _Index, code_map: Mapping[str, str], rows: _Rows
) -> _Medication | None:
    """The drug of a dispense or request; ``None`` (the entry rejected) when it has no ATC code."""
    assert entry.resource is not None
    medication = _Medication(entry.resource, path, index, code_map)
    if medication.atc is None:
        rows.reject(entry, medication.unknown())
        return None
    return medication


def _dispense(
    entry: _Entry,
    index: _Index,
    code_map: Mapping[str, str],
    rows: _Rows,
    skip: Callable[[str], None],
) -> None:
    resource, path = entry.resource, "MedicationDispense"
    assert resource is not None
    status = _code(resource.get("status"), f"{path}.status", _DISPENSE_STATUSES) or "completed"
    if status not in _DISPENSE_OK:
        skip(f"MedicationDispense with status {status}")
        return
    medication = _coded_medication(entry, path, index, code_map, rows)
    if medication is None:
        return
    prescriber = None
    for where, prescription in _objects(
        resource.get("authorizingPrescription"), f"{path}.authorizingPrescription"
    ):
        found = index.find(_reference(prescription, where), (resource, path), where)
        if found is not None:
            request, target = found
            prescriber = index.practitioner(request.get("requester"), f"{target}.requester", found)
            break
    quantity = _object(resource.get("quantity"), f"{path}.quantity") or {}
    date = _when(resource.get("whenHandedOver"), f"{path}.whenHandedOver") or _when(
        resource.get("whenPrepared"), f"{path}.whenPrepared"
    )
    rows.add(
        entry,
        _dispensing_row(
            index.patient_id(resource.get("subject"), f"{path}.subject", (resource, path)),
            medication,
            date=date,
            quantity=_decimal(quantity.get("value"), f"{path}.quantity.value"),
            prescriber=prescriber,
        ),
    )


def _request(
    entry: _Entry,
    index: _Index,
    code_map: Mapping[str, str],
    rows: _Rows,
    skip: Callable[[str], None],
) -> None:
    resource, path = entry.resource, "MedicationRequest"
    assert resource is not None
    status = _code(resource.get("status"), f"{path}.status", _REQUEST_STATUSES)
    intent = _code(resource.get("intent"), f"{path}.intent", _REQUEST_INTENTS) or "order"
    if status in _REQUEST_SKIP or intent not in _ORDERS:
        skip(f"MedicationRequest with status {status} and intent {intent}")
        return
    medication = _coded_medication(entry, path, index, code_map, rows)
    if medication is None:
        return
    dispense = _object(resource.get("dispenseRequest"), f"{path}.dispenseRequest") or {}
    quantity = _object(dispense.get("quantity"), f"{path}.dispenseRequest.quantity") or {}
    rows.add(
        entry,
        _dispensing_row(
            index.patient_id(resource.get("subject"), f"{path}.subject", (resource, path)),
            medication,
            date=_when(resource.get("authoredOn"), f"{path}.authoredOn"),
            quantity=_decimal(quantity.get("value"), f"{path}.dispenseRequest.quantity.value"),
            prescriber=index.practitioner(
                resource.get("requester"), f"{path}.requester", (resource, path)
            ),
        ),
    )


def _dispensing_row(
    patient_id: str | None,
    medication: _Medication,
    *,
    date: str | None,
    quantity: str | None,
    prescriber: str | None,
) -> dict[str, str | None]:
    """The dispensings row of a dispense or request whose drug has an ATC code.

    ``date`` and ``quantity`` come from different elements of the two resources.
    """
    return {
        "patient_id": patient_id,
        "date": date,
        "atc": medication.atc,
        "quantity": quantity,
        "strength_mg": medication.strength_mg,
        "form": medication.form,
        "prescriber_id": prescriber,
    }


def _extension(element: Mapping[str, Any] | None, url: str, path: str) -> str | None:
    if element is None:
        return None
    for where, extension in _objects(element.get("extension"), f"{path}.extension"):
        if _text(extension.get("url"), f"{where}.url") == url:
            value = _text(extension.get("valueString"), f"{where}.valueString")
            if value:
                return value
    return None


def _patient(entry: _Entry, index: _Index) -> dict[str, str | None]:
    resource, path = entry.resource, "Patient"
    assert resource is not None
    names = list(_objects(resource.get("name"), f"{path}.name"))
    official = [
        (where, name)
        for where, name in names
        if _text(name.get("use"), f"{where}.use") == "official"
    ]
    name_path, name = (official or names or [(f"{path}.name", {})])[0]
    given = _texts(name.get("given"), f"{name_path}.given")
    parts = _object(name.get("_family"), f"{name_path}._family")
    prefix = _extension(parts, OWN_PREFIX, f"{name_path}._family")
    family = _extension(parts, OWN_NAME, f"{name_path}._family") or _text(
        name.get("family"), f"{name_path}.family"
    )
    addresses = list(_objects(resource.get("address"), f"{path}.address"))
    address_path, address = addresses[0] if addresses else (f"{path}.address", {})
    lines = _texts(address.get("line"), f"{address_path}.line")
    line_parts = _array(address.get("_line"), f"{address_path}._line")
    first_line = _object(line_parts[0], f"{address_path}._line[0]") if line_parts else None
    street = _extension(first_line, STREET_NAME, f"{address_path}._line[0]")
    number = _extension(first_line, HOUSE_NUMBER, f"{address_path}._line[0]")
    bsn = None
    for where, identifier in _objects(resource.get("identifier"), f"{path}.identifier"):
        if _text(identifier.get("system"), f"{where}.system") == BSN_SYSTEM:
            bsn = _text(identifier.get("value"), f"{where}.value")
            break
    gps = list(_objects(resource.get("generalPractitioner"), f"{path}.generalPractitioner"))
    gp = index.practitioner(gps[0][1], gps[0][0], (resource, path)) if gps else None
    gender = _code(resource.get("gender"), f"{path}.gender", frozenset(_SEX))
    status, status_date = None, None
    died = _when(resource.get("deceasedDateTime"), f"{path}.deceasedDateTime")
    deceased = resource.get("deceasedBoolean")
    if deceased is not None and not isinstance(deceased, bool):
        raise _ShapeError(f"{path}.deceasedBoolean", f"is {_kind(deceased)}, not true or false")
    if died:
        status, status_date = "deceased", died
    elif deceased is True:
        status = "deceased"
    identity = _text(resource.get("id"), f"{path}.id")
    return {
        "patient_id": identity or None,
        "gp_id": gp,
        "birth_date": _when(resource.get("birthDate"), f"{path}.birthDate"),
        "sex": _SEX[gender] if gender else None,
        "initials": "".join(f"{g[0]}." for g in given if g) or None,
        "first_name": given[0] if given else None,
        "name_prefix": prefix,
        "family_name": family,
        "street": street or (lines[0] if lines else None),
        "house_number": number,
        "postcode": _text(address.get("postalCode"), f"{address_path}.postalCode"),
        "city": _text(address.get("city"), f"{address_path}.city"),
        "bsn": bsn,
        "status": status,
        "status_date": status_date,
    }


def _condition(entry: _Entry, index: _Index, rows: _Rows, skip: Callable[[str], None]) -> None:
    resource, path = entry.resource, "Condition"
    assert resource is not None
    verification = _object(resource.get("verificationStatus"), f"{path}.verificationStatus")
    codes = _codings(verification, f"{path}.verificationStatus")
    if any(code in {"refuted", "entered-in-error"} for _, _, code in codes):
        skip("Condition refuted or entered in error")
        return
    concept = _object(resource.get("code"), f"{path}.code")
    icpc = None
    for where, system, code in _codings(concept, f"{path}.code"):
        if system in ICPC_SYSTEMS and code:
            if not _ICPC_SHAPE.fullmatch(code.strip()):
                raise _ShapeError(f"{where}.code", "is not an ICPC code (such as P06 or P74.01)")
            icpc = code
            break
    if icpc is None:
        skip("Condition without an ICPC coding")
        return
    onset = _when(resource.get("onsetDateTime"), f"{path}.onsetDateTime")
    if onset is None:
        period = _object(resource.get("onsetPeriod"), f"{path}.onsetPeriod") or {}
        onset = _when(period.get("start"), f"{path}.onsetPeriod.start")
    abatement = _when(resource.get("abatementDateTime"), f"{path}.abatementDateTime")
    if abatement is None:
        period = _object(resource.get("abatementPeriod"), f"{path}.abatementPeriod") or {}
        abatement = _when(period.get("end"), f"{path}.abatementPeriod.end")
    rows.add(
        entry,
        {
            "patient_id": index.patient_id(
                resource.get("subject"), f"{path}.subject", (resource, path)
            ),
            "icpc": icpc,
            "start": onset,
            "end": abatement,
        },
    )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the FHIR reader."""
    register(FhirReader())
