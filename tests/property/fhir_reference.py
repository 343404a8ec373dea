"""The FHIR reader as it was before issue 19's FHIR work, kept as the reference.

Issue 19 made ``benzoredux_adapters.fhir`` fast: JSON decoded without the duplicate-key hook
where a count of the keys proves it safe, the work per medication concept, product name and
reference remembered, and NDJSON streamed (each resource turned into its row as it is read,
only the resources others refer to kept). ``test_fhir_reading_matches_reference.py`` holds the
fast reader to this module, which is the code it replaced, copied without change (the module
docstring aside: ``benzoredux_adapters.fhir`` has it): every record parsed and held, then read
one by one. Same rows, same rejected rows with the same reasons and line numbers, same notes
and counts, or the same error.
"""

# ruff: noqa

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
from attrs import evolve

from benzoredux.codes import is_benzodiazepine
from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import RawTable, ReadError, ReadResult, SourceMapping
from benzoredux.tables import EPISODES, PATIENTS, Kind
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._sources import source_files
from benzoredux_adapters.fhir_xml import (
    FHIR_NAMESPACE,
    XmlError,
    XmlObject,
    root_element,
    starts_as_xml,
)
from benzoredux_adapters.fhir_xml import load as load_xml
from benzoredux_adapters.gstandaard import (
    G_STANDAARD_SYSTEMS,
    PIECE_UNIT,
    UNIT_SYSTEM,
    CodeTable,
    code_table_from_map,
    is_own_code,
    load_code_table,
)

__all__ = [
    "AGB_SYSTEM",
    "ATC_SYSTEM",
    "BSN_SYSTEM",
    "ICPC_SYSTEMS",
    "R4_RESOURCE_TYPES",
    "URA_SYSTEM",
    "FhirReader",
    "benzoredux_register_readers",
]

ATC_SYSTEM = "http://www.whocc.no/atc"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
URA_SYSTEM = "http://fhir.nl/fhir/NamingSystem/ura"
"""UZI register subscriber number of a care provider organisation (a pharmacy, a practice)."""
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
PARTNER_PREFIX = "http://hl7.org/fhir/StructureDefinition/humanname-partner-prefix"
PARTNER_NAME = "http://hl7.org/fhir/StructureDefinition/humanname-partner-name"
ASSEMBLY_ORDER = "http://hl7.org/fhir/StructureDefinition/humanname-assembly-order"
EN_QUALIFIER = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier"
PQ_TRANSLATION = "http://hl7.org/fhir/StructureDefinition/iso21090-PQ-translation"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ADMINISTRATION_AGREEMENT = "422037009"
"""SNOMED category of an MP9 toedieningsafspraak (a MedicationDispense that is no dispense)."""
MEDICATION_AGREEMENT = "16076005"
"""SNOMED category of an MP9 medicatieafspraak (a MedicationRequest that is no order to
dispense: the prescriber's decision on a treatment)."""
STREET_NAME = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName"
HOUSE_NUMBER = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber"
NETHERLANDS = ZoneInfo("Europe/Amsterdam")
_READ = ("MedicationDispense", "MedicationRequest", "Patient", "Condition")
_LOOKUP = ("Practitioner", "PractitionerRole", "Organization", "Medication")
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


_SUFFIXES = frozenset({".json", ".ndjson", ".xml"})


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
        # XML: the element wrapping the resource is empty, or holds no FHIR element.
        why = value.problem if isinstance(value, XmlObject) else None
        problem = f"not a FHIR resource ({why or 'no resourceType'})"
        return _Entry(None, file, line, record, problem=problem)
    if not isinstance(kind, str):
        problem = f"not a FHIR resource (its resourceType is {_kind(kind)}, not text)"
        return _Entry(None, file, line, record, problem=problem)
    if kind not in R4_RESOURCE_TYPES:
        problem = "not a FHIR R4 resource (its resourceType is no R4 resource type)"
        return _Entry(None, file, line, record, problem=problem)
    twice = isinstance(value, _Twice | _HoldsTwice)
    inside = value.problem if isinstance(value, XmlObject) else None
    return _Entry(
        value, file, line, record, full_url=full_url, problem=_DUPLICATE if twice else inside
    )


def _decode(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 become lone surrogates, found per line."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


def _json_number(text: str) -> Any:
    """A number written in FHIR XML, converted as :func:`_load` converts a JSON number (an
    integer too long to convert kept as :class:`_Huge`, ``1e400`` an infinite float)."""
    return json.loads(text, parse_int=_parse_int)


def _line_of(value: Any) -> int | None:
    """The line an XML element starts on (a JSON value has none)."""
    return value.line if isinstance(value, XmlObject) else None


def _document(path: Path, text: str) -> Any:
    """The parsed file: XML when its first character that is not white space is ``<``,
    else JSON, whatever its suffix (a message says so when the two disagree)."""
    suffix = path.suffix.lower()
    xml = starts_as_xml(text)
    holds = ""
    if xml and suffix == ".json":
        holds = " (the file holds XML, not JSON)"
    elif not xml and suffix == ".xml":
        start = len(text) - len(text.lstrip())
        if text[start : start + 1] != "{":
            line = text.count("\n", 0, start) + 1
            raise ReadError(
                f"{path.name}, line {line}: not XML (it does not start with '<') and not JSON; "
                "the file cannot be read"
            )
        holds = " (the file holds JSON, not XML)"
    failure: tuple[int, str] | None = None
    if xml:
        try:
            return load_xml(text, number=_json_number)
        except XmlError as error:
            failure = error.line, error.reason
    else:
        try:
            return _load(text)
        except _NotJsonError as error:
            failure = error.line, error.reason
    line, reason = failure
    raise ReadError(f"{path.name}, line {line}: {reason}; the file cannot be read{holds}")


def _entries(path: Path) -> Iterator[_Entry]:
    text = _decode(path)
    if path.suffix.lower() == ".ndjson":
        yield from _ndjson_entries(path.name, text)
        return
    bad = _SURROGATE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise ReadError(f"{path.name}, line {line}: not UTF-8 text; the file cannot be read")
    document = _document(path, text)
    if not isinstance(document, Mapping):
        raise ReadError(
            f"{path.name}: not a FHIR resource (the file holds {_kind(document)}, not an object)"
        )
    if document.get("resourceType") != "Bundle":
        entry = _resource_entry(document, path.name, _line_of(document), "the resource")
        if entry.resource is None:
            where = path.name if entry.line is None else f"{path.name}, line {entry.line}"
            raise ReadError(f"{where}: {entry.problem}")
        entry.record = _type_name(entry.resource)
        yield entry
        return
    if isinstance(document, _Twice):
        raise ReadError(
            f"{path.name}: the Bundle has the same key twice (JSON names must be unique)"
        )
    if isinstance(document, XmlObject) and document.problem is not None:
        raise ReadError(f"{path.name}: the Bundle {document.problem}; the file cannot be read")
    items = document.get("entry")
    if items is None:
        return
    if not isinstance(items, list):
        raise ReadError(f"{path.name}: Bundle.entry is {_kind(items)}, not a list")
    for number, item in enumerate(items):
        record = f"entry {number}"
        starts = _line_of(item)
        # An XML record that is not a resource is named by its line (and entry) in notes.
        unread = record if starts is None else f"line {starts} ({record})"
        if not isinstance(item, Mapping):
            problem = f"Bundle.entry[{number}] is {_kind(item)}, not an object"
            yield _Entry(None, path.name, starts, unread, problem=problem)
            continue
        resource = item.get("resource")
        if resource is None:
            problem = f"Bundle.entry[{number}] has no resource"
            yield _Entry(None, path.name, starts, unread, problem=problem)
            continue
        full_url = item.get("fullUrl")
        entry = _resource_entry(
            resource,
            path.name,
            _line_of(resource) or starts,
            record,
            full_url if isinstance(full_url, str) else None,
        )
        if entry.resource is None:
            entry.record = record if entry.line is None else f"line {entry.line} ({record})"
        else:
            entry.record = f"{record} ({_type_name(entry.resource)})"
            if isinstance(item, _Twice):
                entry.problem = _DUPLICATE
            elif isinstance(item, XmlObject) and entry.problem is None:
                entry.problem = item.problem  # the entry's own elements (two fullUrls, text)
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


_Found = tuple[Mapping[str, Any], str, tuple[Mapping[str, Any], str]]
"""A resource referred to, the path its elements are named by in messages, and the resource
whose ``contained`` resources its own ``#id`` references point into."""


def _identifier_keys(resource: Mapping[str, Any]) -> Iterator[str]:
    """``Type|system|value`` of each well-formed identifier of a resource (for references by
    identifier, as MP9 writes them); a malformed identifier is skipped here and reported only
    where a resource reads it."""
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else ():
        if isinstance(identifier, Mapping):
            system, value = identifier.get("system"), identifier.get("value")
            if isinstance(system, str) and isinstance(value, str) and value:
                yield f"{resource['resourceType']}|{system}|{value}"


class _Index:
    """Resources by reference (``Type/id`` and ``fullUrl``) and by identifier, for looking up
    what is referred to."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.by_ref: dict[str, _Entry] = {}
        self.by_identifier: dict[str, _Entry | None] = {}
        for entry in entries:
            if entry.resource is None:
                continue
            identity = entry.resource.get("id")
            if isinstance(identity, str):
                self.by_ref[f"{entry.kind}/{identity}"] = entry
            if entry.full_url:
                self.by_ref[entry.full_url] = entry
            for key in _identifier_keys(entry.resource):
                if key not in self.by_identifier:
                    self.by_identifier[key] = entry
                elif (other := self.by_identifier[key]) is not None and (
                    other.resource != entry.resource
                ):
                    # Two different resources with one identifier: which one is meant cannot
                    # be told, so neither is (the same resource in two files is one).
                    self.by_identifier[key] = None

    def resolve(
        self,
        value: Any,
        container: tuple[Mapping[str, Any], str],
        path: str,
        kind: str | None = None,
    ) -> _Found | None:
        """What a Reference element (at ``path``) refers to: by its ``reference`` (as
        :meth:`find`), or, without one, by its ``identifier`` among the resources of the source
        of its ``type`` (else ``kind``). MP9 refers to a prescription by identifier
        (``authorizingPrescription.identifier``): it is often in another message."""
        element = _object(value, path)
        if element is None:
            return None
        reference = _text(element.get("reference"), f"{path}.reference") or None
        if reference is not None:
            found = self.find(reference, container, path)
            if found is None:
                return None
            return found[0], found[1], container if reference.startswith("#") else found
        identifier = _object(element.get("identifier"), f"{path}.identifier")
        if identifier is None:
            return None
        system = _text(identifier.get("system"), f"{path}.identifier.system")
        number = _text(identifier.get("value"), f"{path}.identifier.value")
        wanted = _text(element.get("type"), f"{path}.type") or kind
        entry = self.by_identifier.get(f"{wanted}|{system}|{number}")
        if entry is None or entry.resource is None:
            return None
        target = f"{path} -> {_type_name(entry.resource)}"
        if entry.problem is not None:
            raise _ShapeError(target, entry.problem)
        return entry.resource, target, (entry.resource, target)

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
        self, value: Any, path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
        """The AGB code of a referenced practitioner: of a Practitioner, or of a
        PractitionerRole (its own, else its ``practitioner``'s, as MP9 refers to a
        prescriber); else the AGB code the reference itself carries; else the id."""
        element = _object(value, path)
        if element is None:
            return None
        found = self.resolve(element, container, path)
        if found is not None:
            resource, target, inner = found
            agb = _identifier_of(resource, target, (AGB_SYSTEM,))
            if agb:
                return agb
            if resource.get("resourceType") == "PractitionerRole":
                where = f"{target}.practitioner"
                person = self.resolve(resource.get("practitioner"), inner, where, "Practitioner")
                if person is not None:
                    agb = _identifier_of(person[0], person[1], (AGB_SYSTEM,))
                    identity = _text(person[0].get("id"), f"{person[1]}.id")
                    if agb or identity:
                        return agb or identity
            identity = _text(resource.get("id"), f"{target}.id")
            if identity:
                return identity
        return _own_identifier(element, path, (AGB_SYSTEM,)) or _tail(element, path)

    def organisation(
        self, value: Any, path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
        """The AGB code, else the URA number, of a referenced Organization (directly, or a
        PractitionerRole's ``organization``); else the one the reference carries; else the
        id. A reference to a person (a Practitioner) names no organisation: ``None``."""
        element = _object(value, path)
        if element is None:
            return None
        found = self.resolve(element, container, path)
        systems = (AGB_SYSTEM, URA_SYSTEM)
        if found is not None:
            resource, target, inner = found
            kind = resource.get("resourceType")
            if kind == "PractitionerRole":
                where = f"{target}.organization"
                found = self.resolve(resource.get("organization"), inner, where, "Organization")
                if found is None:
                    return None
                resource, target, inner = found
            elif kind != "Organization":
                return None
            return _identifier_of(resource, target, systems) or _text(
                resource.get("id"), f"{target}.id"
            )
        return _own_identifier(element, path, systems) or _tail(element, path)

    def prescriber(self, found: _Found) -> str | None:
        """The prescriber of a MedicationRequest: its ``requester``; for an MP9 dispense
        request without one, the requester of the medication agreement it is ``basedOn``."""
        request, target, inner = found
        who = self.practitioner(request.get("requester"), f"{target}.requester", inner)
        if who is not None:
            return who
        for where, based in _objects(request.get("basedOn"), f"{target}.basedOn"):
            agreement = self.resolve(based, inner, where, "MedicationRequest")
            if agreement is not None:
                who = self.practitioner(
                    agreement[0].get("requester"), f"{agreement[1]}.requester", agreement[2]
                )
                if who is not None:
                    return who
        return None


def _identifier_of(resource: Mapping[str, Any], path: str, systems: tuple[str, ...]) -> str | None:
    """The value of the resource's first identifier of the first of ``systems`` it has."""
    found: dict[str, str] = {}
    for where, identifier in _objects(resource.get("identifier"), f"{path}.identifier"):
        system = _text(identifier.get("system"), f"{where}.system")
        value = _text(identifier.get("value"), f"{where}.value")
        if system in systems and value and system not in found:
            found[system] = value
    return next((found[s] for s in systems if s in found), None)


def _own_identifier(element: Mapping[str, Any], path: str, systems: tuple[str, ...]) -> str | None:
    """The identifier a Reference element carries itself, when of one of ``systems``."""
    identifier = _object(element.get("identifier"), f"{path}.identifier")
    if identifier is None:
        return None
    system = _text(identifier.get("system"), f"{path}.identifier.system")
    value = _text(identifier.get("value"), f"{path}.identifier.value")
    return value if system in systems and value else None


def _tail(element: Mapping[str, Any], path: str) -> str | None:
    """The id at the end of a Reference element's ``reference`` (``Practitioner/p1``: p1)."""
    reference = _text(element.get("reference"), f"{path}.reference") or None
    return reference.rsplit("/", 1)[-1] if reference is not None else None


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
    "pharmacy_id": "performer",
    "days_supply": "daysSupply",
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
    "pharmacy_id",
    "days_supply",
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
    """What a dispense or request says about its drug: ATC, form, strength.

    The ATC code, in this order (docs/adapters.rst, "Drug codes"): a coding with the ATC
    system; else the practice's code map and G-Standaard table (:class:`CodeTable`) for the
    product's codings, which must agree; else, for a product without a national G-Standaard
    code (a magistral preparation), the ATC code of its single active ingredient.
    """

    def __init__(
        self,
        resource: Mapping[str, Any],
        path: str,
        index: _Index,
        table: CodeTable,
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
        self.displays = _displays(concept, concept_path)
        self.atc: str | None = None
        self.disagreeing: tuple[str, ...] = ()
        for coding_path, system, code in self.codings:
            if system == ATC_SYSTEM and code:
                if not _ATC_SHAPE.fullmatch(code.strip()):
                    raise _ShapeError(f"{coding_path}.code", f"is not an ATC code ({ATC_SYSTEM})")
                self.atc = code
                break
        if self.atc is None:
            self.atc, self.disagreeing = _table_atc(self.codings, table)
        national = any(
            system in G_STANDAARD_SYSTEMS.values() and code and not is_own_code(system, code)
            for _, system, code in self.codings
        )
        self.magistral = not national and any(is_own_code(s, c) for _, s, c in self.codings)
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
            active = _active_ingredients(medication, medication_path)
            self.strength_mg = _strength_mg(active)
            if self.atc is None and not self.disagreeing and not national and len(active) == 1:
                # A magistral preparation (or any product without a national code): what is
                # known of it is its composition; one active substance gives its ATC code.
                item_path = f"{active[0][0]}.itemCodeableConcept"
                item = _object(active[0][1].get("itemCodeableConcept"), item_path)
                item_codings = _codings(item, item_path)
                for coding_path, system, code in item_codings:
                    if system == ATC_SYSTEM and code:
                        if not _ATC_SHAPE.fullmatch(code.strip()):
                            raise _ShapeError(
                                f"{coding_path}.code", f"is not an ATC code ({ATC_SYSTEM})"
                            )
                        self.atc = code
                        break
                if self.atc is None:
                    self.atc = _table_atc(item_codings, table)[0]
        if self.strength_mg is None:
            self.strength_mg = _strength_from_names(self.displays)

    def unknown(self) -> str:
        """Why the drug has no ATC code, with its codings and its name where a message may
        show them (:func:`_shown_code`, :func:`_shown_display`)."""
        shown = (
            ", ".join(f"{_shown_system(s)}|{_shown_code(c)}" for _, s, c in self.codings) or "none"
        )
        if self.disagreeing:
            text = (
                f"medication's codings ({shown}) give different ATC codes in the code map or "
                f"G-Standaard table ({', '.join(self.disagreeing)}); correct the table"
            )
        else:
            text = (
                f"medication has no ATC coding ({ATC_SYSTEM}) and no code-map or G-Standaard "
                f"table entry for its codings ({shown})"
            )
        return text + self.described()

    def described(self) -> str:
        """The product's name (when a message may show it) and whether it is magistral."""
        name = next((n for n in map(_shown_display, self.displays) if n), None)
        text = f"; product {name}" if name else ""
        if self.magistral:
            text += (
                "; a magistral preparation (a pharmacy's own code, 90000000 to 99999999) "
                "without one active ingredient with an ATC code"
            )
        return text


def _table_atc(
    codings: list[tuple[str, str | None, str | None]], table: CodeTable
) -> tuple[str | None, tuple[str, ...]]:
    """The ATC code the table gives the codings, and the codes when they disagree.

    An HPK, its PRK and its GPK share one ATC code; two different ones mean the table (or the
    source) is wrong, and which one holds cannot be told, so neither is used.
    """
    found = sorted(
        {atc.strip().upper() for _, s, c in codings if (atc := table.atc_of(s, c)) is not None}
    )
    if len(found) == 1:
        return found[0], ()
    return None, tuple(found)


def _displays(concept: Mapping[str, Any] | None, path: str) -> list[str]:
    """The displays of a CodeableConcept's codings, then its text: the product's names."""
    if concept is None:
        return []
    names = [
        display
        for where, c in _objects(concept.get("coding"), f"{path}.coding")
        if (display := _text(c.get("display"), f"{where}.display"))
    ]
    text = _text(concept.get("text"), f"{path}.text")
    return [*names, text] if text else names


_PRODUCT_NAME = re.compile(r"[A-Z0-9 ,./%+()\-]{3,80}")
_STRENGTH_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)? ?(?:MG|MCG|MICROGRAM|ML|IE|MMOL|%)")


def _shown_display(display: str) -> str | None:
    """A product name as a message may show it, quoted; ``None`` when it could be anything else.

    A G-Standaard name is written in capitals with its strength (``TEMAZEPAM CAPSULE 20MG``).
    A display of that shape (capitals, digits, spaces and ``,./%+()-``, 3 to 80 characters, a
    word of three letters and a strength such as ``20MG``, ``2MG/ML`` or ``5%``) names a
    product, not a person; any other display (a pharmacy's own text for a magistral
    preparation, a name planted in a damaged file) is not shown.
    """
    text = display.strip()
    if (
        _PRODUCT_NAME.fullmatch(text)
        and _STRENGTH_TOKEN.search(text)
        and re.search("[A-Z]{3}", text)
    ):
        return f"'{text}'"
    return None


_MG = re.compile(r"(?<![0-9.,/])([0-9]+(?:[.,][0-9]+)?) ?MG(?![A-Z/])", re.IGNORECASE)
_ANY_STRENGTH = re.compile(
    r"[0-9] ?(?:MG|MCG|MICROG|µG|UG|G|ML|IE|E|MMOL|%)(?![A-Z])|[0-9] ?/|/ ?[0-9]", re.IGNORECASE
)


def _strength_from_name(name: str) -> str | None:
    """mg per unit from a product name such as ``OXAZEPAM TABLET 10MG``: its one strength,
    in mg, with nothing per volume or weight (``2MG/ML``), no second strength
    (``10/500MG``) and no other unit (``250MCG``) in the name; else ``None`` (refused, not
    guessed). A decimal comma is read as the G-Standaard writes it (``0,5MG``)."""
    found = _MG.findall(name)
    if len(found) != 1 or len(_ANY_STRENGTH.findall(name)) != 1:
        return None
    value = Decimal(found[0].replace(",", "."))
    return format(value, "f") if value > 0 else None


def _strength_from_names(names: list[str]) -> str | None:
    """The strength the product's names agree on (:func:`_strength_from_name`); ``None``
    when none gives one or two give different ones."""
    found = {s for s in map(_strength_from_name, names) if s is not None}
    values = {Decimal(s) for s in found}
    return format(values.pop(), "f") if len(values) == 1 else None


def _active_ingredients(
    medication: Mapping[str, Any], path: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """The ingredients that are active substances (``isActive`` true or not given)."""
    found = []
    for where, ingredient in _objects(medication.get("ingredient"), f"{path}.ingredient"):
        active = ingredient.get("isActive")
        if active is not None and not isinstance(active, bool):
            raise _ShapeError(f"{where}.isActive", f"is {_kind(active)}, not true or false")
        if active is not False:
            found.append((where, ingredient))
    return found


def _strength_mg(ingredients: list[tuple[str, Mapping[str, Any]]]) -> str | None:
    """mg per unit from a single active ingredient's ``strength`` (numerator mg per 1 unit)."""
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
    """FHIR R4 Bundles and resources in JSON or XML, and NDJSON (see the module docstring)."""

    name: str = "fhir"
    description: str = (
        "FHIR R4 Bundle or resource, JSON (.json) or XML (.xml), or NDJSON (.ndjson), or a "
        "folder of them, with MedicationDispense, MedicationRequest, Patient, Condition, "
        "Practitioner"
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
        table = _code_table(options)
        has_dispenses = any(
            e.kind == "MedicationDispense"
            and ADMINISTRATION_AGREEMENT not in _categories(e.resource)
            for e in entries
        )
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
        report = _Report()

        def skip(what: str) -> None:
            ignored[what] = ignored.get(what, 0) + 1

        context = _Context(index, table, skip, report)

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
                    _AGREEMENT_KEY
                    if MEDICATION_AGREEMENT in _categories(entry.resource)
                    else "MedicationRequest (the dispenses are counted instead)"
                    if has_dispenses
                    else "MedicationRequest (fhir_requests='never')"
                )
                continue
            try:
                if entry.problem is not None:
                    raise _ShapeError(kind, entry.problem)
                if kind == "MedicationDispense":
                    _dispense(entry, rows, context)
                elif kind == "MedicationRequest":
                    _request(entry, rows, context)
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
            notes=[*_unread_notes(unread), *report.notes(ignored)],
        )
        result = _days_as_numbers(result)
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
    """Sure (0.9) of a file that starts as a Bundle or a resource the reader reads, in JSON or
    in FHIR XML (its root element in the FHIR namespace); half sure of another R4 resource;
    not at all of anything else (XML in another namespace is some other format)."""
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in _SUFFIXES:
        return 0.0
    try:
        with path.open("rb") as handle:
            # XML may open with a long comment (a licence) before its root element.
            start = handle.read(65536).decode("utf-8-sig", errors="replace")
    except OSError:
        return 0.0
    if suffix != ".ndjson" and starts_as_xml(start):
        root = root_element(start)
        if root is None or root[0] != FHIR_NAMESPACE:
            return 0.0
        name = root[1]
        if name == "Bundle" or name in _READ:
            return 0.9
        return 0.5 if name in R4_RESOURCE_TYPES or not name else 0.0
    head = start[:4096]
    if '"resourceType"' not in head:
        return 0.0
    if suffix == ".ndjson":
        return 0.9 if any(f'"{kind}"' in head for kind in (*_READ, *_LOOKUP)) else 0.5
    return 0.9 if '"Bundle"' in head or any(f'"{k}"' in head for k in _READ) else 0.5


def _code_table(options: Mapping[str, Any]) -> CodeTable:
    """The product codings the caller maps to ATC codes: the G-Standaard table (the
    ``code_table`` option, else the mapping file's ``code_table``) with the code map's entries
    over it (the ``code_map`` option's, which ``read_source`` merges over the mapping file's)."""
    mapping = options.get("mapping")
    chosen = options.get("code_table")
    if chosen is None and isinstance(mapping, SourceMapping):
        chosen = mapping.code_table
    if isinstance(chosen, CodeTable):
        table = chosen
    elif chosen is not None:
        table = load_code_table(chosen)
    else:
        table = CodeTable(source="no table")
    code_map = options.get("code_map") or {}
    return table.merged(code_table_from_map(code_map)) if code_map else table


def _categories(resource: Mapping[str, Any] | None) -> set[str]:
    """The SNOMED codes of a resource's ``category`` (a list, as in MedicationRequest, or one
    CodeableConcept, as in MedicationDispense), and its MP9 profile's; elements of the wrong
    shape are left out here (a dispense is read, and its shape checked, on its own)."""
    if resource is None:
        return set()
    found: set[str] = set()
    category = resource.get("category")
    for concept in category if isinstance(category, list) else [category]:
        codings = concept.get("coding") if isinstance(concept, Mapping) else None
        for coding in codings if isinstance(codings, list) else ():
            if isinstance(coding, Mapping) and coding.get("system") == SNOMED:
                code = coding.get("code")
                if isinstance(code, str):
                    found.add(code)
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, Mapping) else None
    for profile in profiles if isinstance(profiles, list) else ():
        if isinstance(profile, str) and profile.endswith("/mp-AdministrationAgreement"):
            found.add(ADMINISTRATION_AGREEMENT)
    return found


_AGREEMENT_KEY = "MedicationRequest (medicatieafspraak: an agreement is not a dispense)"
_ADMINISTRATION_KEY = (
    "MedicationDispense (toedieningsafspraak: an administration agreement, not a dispense)"
)
_STATUS_KEY = "MedicationDispense with status "
_REPORTED_PRODUCTS = 20


class _Report:
    """What a read says besides its rows, for ``ReadResult.notes``: the products without an
    ATC code (each once, with its number of dispenses), the dispenses not counted by their
    status, and the days of supply that could not be read."""

    def __init__(self) -> None:
        self.products: dict[str, int] = {}
        self.days: dict[str, int] = {}

    def product(self, medication: _Medication) -> None:
        shown = (
            ", ".join(f"{_system_name(s)} {_shown_code(c)}" for _, s, c in medication.codings)
            or "no coding"
        )
        key = shown + medication.described()
        self.products[key] = self.products.get(key, 0) + 1

    def day(self, problem: str) -> None:
        self.days[problem] = self.days.get(problem, 0) + 1

    def notes(self, ignored: Mapping[str, int]) -> list[str]:
        notes = []
        statuses = {
            k.removeprefix(_STATUS_KEY): n for k, n in ignored.items() if k.startswith(_STATUS_KEY)
        }
        if statuses:
            counts = ", ".join(f"{status} {n}" for status, n in sorted(statuses.items()))
            notes.append(
                "MedicationDispense not counted, by status (only completed dispenses count): "
                + counts
            )
        for number, (product, count) in enumerate(sorted(self.products.items())):
            if number == _REPORTED_PRODUCTS:
                notes.append(
                    f"and {len(self.products) - number} more products without an ATC code "
                    "(ReadResult.rejected lists every dispense)"
                )
                break
            notes.append(
                f"product without an ATC code, {count} dispense(s) or request(s) rejected: "
                f"{product}; add it to the G-Standaard table or the code map"
            )
        notes.extend(
            f"daysSupply left empty in {count} dispense(s): {problem}"
            for problem, count in sorted(self.days.items())
        )
        return notes


def _system_name(system: str | None) -> str:
    """A coding system as a note names it: ``HPK``, ``PRK``, ``GPK`` or the system."""
    level = next((k.upper() for k, v in G_STANDAARD_SYSTEMS.items() if v == system), None)
    return level or _shown_system(system)


def _days_as_numbers(result: ReadResult) -> ReadResult:
    """The dispensings' ``days_supply`` as numbers (``build_result`` keeps a column the
    canonical table does not have as text; the reader wrote plain decimals into it)."""
    frame = result.tables.get("dispensings")
    if frame is None or "days_supply" not in frame.columns:
        return result
    days = pd.to_numeric(frame["days_supply"], errors="raise").astype("float64")
    return evolve(result, tables={**result.tables, "dispensings": frame.assign(days_supply=days)})


class _Context:
    """What reading a dispense or request needs besides the resource: the references, the
    code table, and where to count what is not a row (``skip``) or goes into the notes."""

    __slots__ = ("index", "report", "skip", "table")

    def __init__(
        self, index: _Index, table: CodeTable, skip: Callable[[str], None], report: _Report
    ) -> None:
        self.index = index
        self.table = table
        self.skip = skip
        self.report = report


def _coded_medication(
    entry: _Entry, path: str, rows: _Rows, context: _Context
) -> _Medication | None:
    """The drug of a dispense or request; ``None`` (the entry rejected, the product reported)
    when it has no ATC code."""
    assert entry.resource is not None
    medication = _Medication(entry.resource, path, context.index, context.table)
    if medication.atc is None:
        rows.reject(entry, medication.unknown())
        context.report.product(medication)
        return None
    return medication


_PIECES = frozenset({"stuk", "stuks", "st", "tablet", "tabletten", "capsule", "capsules"})


def _pieces(quantity: Mapping[str, Any], path: str) -> bool | None:
    """Whether a quantity counts pieces (tablets, capsules: G-Standaard unit 245 "stuk", UCUM
    ``1`` or an annotation such as ``{tablet}``); ``False`` for another unit (ml, g);
    ``None`` when it gives no unit. MP9 writes the G-Standaard unit in an
    ``iso21090-PQ-translation`` extension next to the UCUM one; the G-Standaard one decides."""
    units = [(path, quantity)]
    for where, extension in _objects(quantity.get("extension"), f"{path}.extension"):
        if _text(extension.get("url"), f"{where}.url") == PQ_TRANSLATION:
            value = _object(extension.get("valueQuantity"), f"{where}.valueQuantity")
            if value is not None:
                units.insert(0, (f"{where}.valueQuantity", value))
    for where, unit in units:
        if _text(unit.get("system"), f"{where}.system") == UNIT_SYSTEM:
            return (_text(unit.get("code"), f"{where}.code") or "").strip() == PIECE_UNIT
    system = _text(quantity.get("system"), f"{path}.system")
    code = (_text(quantity.get("code"), f"{path}.code") or "").strip()
    if system == UCUM and code:
        return code == "1" or (code.startswith("{") and code.endswith("}"))
    text = (_text(quantity.get("unit"), f"{path}.unit") or "").strip().lower()
    if text:
        return text in _PIECES
    return None


_DAYS = {"d": 1, "wk": 7}
_DAY_NAMES = {"dag": 1, "dagen": 1, "day": 1, "days": 1, "week": 7, "weken": 7, "weeks": 7}


def _days_supply(value: Any, path: str) -> tuple[str | None, str | None]:
    """``daysSupply`` in days (a UCUM ``d`` or ``wk``, or a unit named so; no unit: days, as
    the element's name says), and what is wrong when it cannot be read as days."""
    supply = _object(value, path)
    if supply is None:
        return None, None
    number = _decimal(supply.get("value"), f"{path}.value")
    if number is None:
        return None, None
    system = _text(supply.get("system"), f"{path}.system")
    code = (_text(supply.get("code"), f"{path}.code") or "").strip()
    name = (_text(supply.get("unit"), f"{path}.unit") or "").strip().lower()
    factor = _DAYS.get(code) if system == UCUM or (code and not system) else None
    if factor is None and not code:
        factor = _DAY_NAMES.get(name) if name else 1
    if factor is None:
        return None, "its unit is not days (d) or weeks (wk)"
    days = Decimal(number) * factor
    if days <= 0:
        return None, "it is not a positive number of days"
    return format(days.normalize(), "f"), None


def _dispense(entry: _Entry, rows: _Rows, context: _Context) -> None:
    resource, path, index = entry.resource, "MedicationDispense", context.index
    assert resource is not None
    category = _object(resource.get("category"), f"{path}.category")
    if any(
        system == SNOMED and code == ADMINISTRATION_AGREEMENT
        for _, system, code in _codings(category, f"{path}.category")
    ) or ADMINISTRATION_AGREEMENT in _categories(resource):
        context.skip(_ADMINISTRATION_KEY)
        return
    status = _code(resource.get("status"), f"{path}.status", _DISPENSE_STATUSES) or "completed"
    if status not in _DISPENSE_OK:
        context.skip(f"{_STATUS_KEY}{status}")
        return
    medication = _coded_medication(entry, path, rows, context)
    if medication is None:
        return
    prescriber = None
    for where, prescription in _objects(
        resource.get("authorizingPrescription"), f"{path}.authorizingPrescription"
    ):
        found = index.resolve(prescription, (resource, path), where, "MedicationRequest")
        if found is not None:
            prescriber = index.prescriber(found)
            break
    pharmacy = None
    for where, performer in _objects(resource.get("performer"), f"{path}.performer"):
        pharmacy = index.organisation(performer.get("actor"), f"{where}.actor", (resource, path))
        if pharmacy is not None:
            break
    quantity = _object(resource.get("quantity"), f"{path}.quantity") or {}
    if not _countable(medication, _pieces(quantity, f"{path}.quantity")):
        rows.reject(entry, _NOT_PIECES)
        return
    days, problem = _days_supply(resource.get("daysSupply"), f"{path}.daysSupply")
    if problem is not None:
        context.report.day(problem)
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
            pharmacy=pharmacy,
            days_supply=days,
        ),
    )


_NOT_PIECES = (
    "quantity is in a unit other than pieces (stuk) and the medication gives no dosage form, "
    "so its units cannot be told to be tablets; a benzodiazepine's units are not counted on a "
    "guess"
)


def _countable(medication: _Medication, pieces: bool | None) -> bool:
    """Whether a dispense's units may go on as units of its drug: not when they are not
    pieces (ml, g) of a benzodiazepine whose form is unknown, which the selection would count
    as tablets (a row without a form counts)."""
    return not (
        pieces is False
        and medication.form is None
        and medication.atc is not None
        and is_benzodiazepine(medication.atc)
    )


def _request(entry: _Entry, rows: _Rows, context: _Context) -> None:
    resource, path, index = entry.resource, "MedicationRequest", context.index
    assert resource is not None
    for where, concept in _objects(resource.get("category"), f"{path}.category"):
        codes_found = _codings(concept, where)
        if any(s == SNOMED and c == MEDICATION_AGREEMENT for _, s, c in codes_found):
            context.skip(_AGREEMENT_KEY)
            return
    status = _code(resource.get("status"), f"{path}.status", _REQUEST_STATUSES)
    intent = _code(resource.get("intent"), f"{path}.intent", _REQUEST_INTENTS) or "order"
    if status in _REQUEST_SKIP or intent not in _ORDERS:
        context.skip(f"MedicationRequest with status {status} and intent {intent}")
        return
    medication = _coded_medication(entry, path, rows, context)
    if medication is None:
        return
    dispense = _object(resource.get("dispenseRequest"), f"{path}.dispenseRequest") or {}
    quantity = _object(dispense.get("quantity"), f"{path}.dispenseRequest.quantity") or {}
    if not _countable(medication, _pieces(quantity, f"{path}.dispenseRequest.quantity")):
        rows.reject(entry, f"dispenseRequest.{_NOT_PIECES}")
        return
    rows.add(
        entry,
        _dispensing_row(
            index.patient_id(resource.get("subject"), f"{path}.subject", (resource, path)),
            medication,
            date=_when(resource.get("authoredOn"), f"{path}.authoredOn"),
            quantity=_decimal(quantity.get("value"), f"{path}.dispenseRequest.quantity.value"),
            prescriber=index.prescriber((resource, path, (resource, path))),
        ),
    )


def _dispensing_row(
    patient_id: str | None,
    medication: _Medication,
    *,
    date: str | None,
    quantity: str | None,
    prescriber: str | None,
    pharmacy: str | None = None,
    days_supply: str | None = None,
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
        "pharmacy_id": pharmacy,
        "days_supply": days_supply,
    }


def _extension(
    element: Mapping[str, Any] | None, url: str, path: str, value: str = "valueString"
) -> str | None:
    """The text of an element's extension ``url`` (its ``valueString``, or ``value``)."""
    if element is None:
        return None
    for where, extension in _objects(element.get("extension"), f"{path}.extension"):
        if _text(extension.get("url"), f"{where}.url") == url:
            found = _text(extension.get(value), f"{where}.{value}")
            if found:
                return found
    return None


def _given_names(name: Mapping[str, Any], path: str) -> list[tuple[str, str | None]]:
    """Each given name with its ``iso21090-EN-qualifier`` (``IN`` initials, ``BR`` official
    first name, ``CL`` call name), read from the ``_given`` element at the same position."""
    given = _array(name.get("given"), f"{path}.given")
    parts = _array(name.get("_given"), f"{path}._given")
    found = []
    for number, value in enumerate(given):
        text = _text(value, f"{path}.given[{number}]")
        if not text or not text.strip():
            continue  # null next to a _given extension, or empty
        where = f"{path}._given[{number}]"
        element = _object(parts[number], where) if number < len(parts) else None
        found.append((text.strip(), _extension(element, EN_QUALIFIER, where, "valueCode")))
    return found


def _initials(given: list[tuple[str, str | None]]) -> str | None:
    """The initials (voorletters): the given names marked ``IN`` as written (``J.`` and
    ``Th.``), else the first letters of the official first names (``BR``), else of the given
    names without a qualifier. A call name (``CL``) is no initial."""
    marked = [g.replace(" ", "") for g, q in given if q == "IN"]
    if marked:
        return "".join(g if g.endswith(".") else f"{g}." for g in marked)
    first_names = [g for g, q in given if q == "BR"] or [g for g, q in given if q is None]
    return "".join(f"{g[0]}." for g in first_names) or None


def _call_name(
    given: list[tuple[str, str | None]],
    names: list[tuple[str, Mapping[str, Any]]],
) -> str | None:
    """The name the patient is called by (roepnaam): a given name marked ``CL``, else the
    given name of a name with ``use`` usual (as nl-core-Patient writes it), else the first
    given name without a qualifier. An official first name (``BR``) is not taken for it: the
    call name is often another one (Johanna Petronella, called Jo)."""
    called = next((g for g, q in given if q == "CL"), None)
    if called:
        return called
    for where, name in names:
        if _text(name.get("use"), f"{where}.use") == "usual":
            usual = _given_names(name, where)
            if usual:
                return usual[0][0]
    return next((g for g, q in given if q is None), None)


def _family_name(name: Mapping[str, Any], path: str) -> tuple[str | None, str | None]:
    """``(name_prefix, family_name)`` from the Dutch name parts and the name's assembly
    order (``humanname-assembly-order``, the BRP's naamgebruik): NL1 (or none) the own name,
    NL2 the partner's, NL3 the partner's then the own, NL4 the own then the partner's
    (``van Putten-van der Giessen``: prefix ``van``, family ``Putten-van der Giessen``).
    Without the parts, the ``family`` text as written."""
    where = f"{path}._family"
    parts = _object(name.get("_family"), where)
    own_prefix = _extension(parts, OWN_PREFIX, where)
    own = _extension(parts, OWN_NAME, where)
    partner_prefix = _extension(parts, PARTNER_PREFIX, where)
    partner = _extension(parts, PARTNER_NAME, where)
    order = _extension(name, ASSEMBLY_ORDER, path, "valueCode")
    if partner and order == "NL2":
        return partner_prefix, partner
    if partner and own and order == "NL3":
        return partner_prefix, f"{partner}-{_joined(own_prefix, own)}"
    if partner and own and order == "NL4":
        return own_prefix, f"{own}-{_joined(partner_prefix, partner)}"
    return own_prefix, own or _text(name.get("family"), f"{path}.family")


def _joined(prefix: str | None, name: str) -> str:
    return f"{prefix} {name}" if prefix else name


def _patient(entry: _Entry, index: _Index) -> dict[str, str | None]:
    resource, path = entry.resource, "Patient"
    assert resource is not None
    names = list(_objects(resource.get("name"), f"{path}.name"))
    official = [
        (where, name)
        for where, name in names
        if _text(name.get("use"), f"{where}.use") == "official"
    ]
    with_family = [(w, n) for w, n in names if n.get("family") or n.get("_family")]
    name_path, name = (official or with_family or names or [(f"{path}.name", {})])[0]
    given = _given_names(name, name_path)
    prefix, family = _family_name(name, name_path)
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
        "initials": _initials(given),
        "first_name": _call_name(given, names),
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
