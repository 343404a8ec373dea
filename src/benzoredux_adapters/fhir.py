"""Reader for FHIR R4: a Bundle or a single resource (JSON or XML), NDJSON (one resource per
line), or a folder of them.

Resources read (everything else is counted in ``ReadResult.ignored``):

* ``MedicationDispense`` -> dispensings: ``subject``, ``whenHandedOver`` (else
  ``whenPrepared``), ``quantity.value``; the prescriber is the ``requester`` of its
  ``authorizingPrescription`` (by reference or, as MP9 writes it, by identifier; else of the
  medication agreement that request is ``basedOn``); the pharmacy is the organisation of
  ``performer.actor``; ``daysSupply`` in days goes to the column ``days_supply``.
  Dispenses whose status is not ``completed`` are not counted (counted in ``ignored`` by
  status, and summed up in a note); an MP9 *toedieningsafspraak* (category 422037009) is no
  dispense.
* ``MedicationRequest`` -> dispensings, **only when the source has no MedicationDispense**
  (otherwise a prescription and its dispensing would be counted twice; ``fhir_requests=
  "always"`` or ``"never"`` overrides): ``authoredOn``, ``dispenseRequest.quantity.value``,
  ``requester``; only orders (``intent`` ``order``) that are not cancelled, draft or in error.
  An MP9 *medicatieafspraak* (category 16076005) never: an agreement is not a dispense.
* ``Patient`` -> patients: ``birthDate``, ``gender``, the BSN identifier
  (``http://fhir.nl/fhir/NamingSystem/bsn``), name (the Dutch name parts of nl-core-Patient
  in the name's assembly order; initials and call name from the qualified given names),
  address, ``generalPractitioner`` (the listed GP), ``deceased[x]``.
* ``Condition`` -> episodes: the ICPC coding (:data:`ICPC_SYSTEMS`), ``onset[x]`` and
  ``abatement[x]``; conditions refuted or entered in error are not counted.
* ``Practitioner``, ``PractitionerRole``, ``Organization`` and ``Medication`` are looked up by
  reference: a practitioner is named by their AGB code
  (``http://fhir.nl/fhir/NamingSystem/agb-z``) when they have one (a PractitionerRole by its
  own or its practitioner's), an organisation by its AGB code, else its URA number
  (:data:`URA_SYSTEM`).

**Drug codes**: ATC from a coding with system ``http://www.whocc.no/atc`` (of the
``medicationCodeableConcept`` or the referenced ``Medication.code``); any other coding (a
G-Standaard HPK, PRK or GPK, RxNorm) only through the caller's G-Standaard table
(``code_table``, :mod:`benzoredux_adapters.gstandaard`: an HPK through its PRK to its GPK) and
code map (``code_map={"system|code": "ATC"}`` or a mapping file's ``[code_map]``); a product
without a national G-Standaard code (a magistral preparation) through its one active
ingredient. A dispense whose drug cannot be coded is rejected with its codings named, never
guessed or dropped, and each such product is listed in the notes. ``strength_mg`` comes from the
one active ingredient's strength, else from the product's name (``OXAZEPAM TABLET 10MG``); a
quantity that is not in pieces, of a benzodiazepine without a form, is rejected (it would count
as tablets). A ``dateTime`` with a time zone is taken as the date in the Netherlands
(Europe/Amsterdam). docs/domain/codes.rst ("G-Standaard product codes") states these rules.

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

JSON is parsed with the standard library's :mod:`json` (docs/explanation/dependencies.rst says
why); XML with lxml, hardened, through :mod:`benzoredux_adapters.fhir_xml`, which builds the
same structure, so every rule above holds for XML too (a record is then located by its line).
A file is read as XML when its first character that is not white space is ``<``, whatever its
suffix.

**Speed** (issue 19; docs/performance.rst, "FHIR NDJSON"): a record is decoded without the
duplicate-key hook when counting its keys proves it has no key twice (``_load``); each
resource is turned into its row as it is read, and an NDJSON file's resources are not held,
only where their lines are (``_Stored``); the lookups (a medication concept, a patient,
practitioner, pharmacy or prescription referred to) are remembered per distinct element
(``_Index``). A resource referred to before it is read is handled by recording which
lookups each row used and reading again, at the end, the rows whose lookups came out
differently (``_Index.settle``). ``tests/property/fhir_reference.py`` keeps the reader as
it was before, and a property test holds this one to it.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

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
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise _ShapeError(path, f"is {_kind(value)}, not an object")


def _array(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is list or isinstance(value, list):
        return value
    raise _ShapeError(path, f"is {_kind(value)}, not a list")


def _objects(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The objects of a list element, each with its path; checked as they are read."""
    for number, item in enumerate(_array(value, path)):
        where = f"{path}[{number}]"
        if type(item) is not dict and not isinstance(item, Mapping):
            raise _ShapeError(where, f"is {_kind(item)}, not an object")
        yield where, item


def _text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if type(value) is not str and not isinstance(value, str):
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


_KEY_AFTER_SPACE = re.compile(r'"[ \t\r\n]+:')
_SPACE_AFTER_QUOTE = re.compile(r'"[ \t\r\n]')


def _keys_at_most(text: str) -> int:
    """At least as many as the keys the JSON text holds (a key ends with ``"`` and then,
    after optional white space, ``:``); ``":`` inside a string value counts too, so the
    figure can be higher, never lower."""
    count = text.count('":')
    if _SPACE_AFTER_QUOTE.search(text):
        count += len(_KEY_AFTER_SPACE.findall(text))
    return count


def _keys_decoded(value: Any) -> int:
    """How many keys the decoded objects hold (a key given twice is held once)."""
    if type(value) is dict:
        try:
            return _keys_in(value)
        except RecursionError:  # nested deeper than Python recurses: counted without
            pass
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return count


def _keys_in(value: dict[str, Any]) -> int:
    """:func:`_keys_decoded` of an object, recursively (faster for the usual few levels)."""
    count = len(value)
    for item in value.values():
        kind = type(item)
        if kind is dict:
            count += _keys_in(item)
        elif kind is list:
            for element in item:
                inner = type(element)
                if inner is dict:
                    count += _keys_in(element)
                elif inner is list:
                    count += _keys_decoded(element)
    return count


_PLAIN_LENGTH = 4000
"""Text shorter than this holds no integer of more than :func:`_parse_int`'s 4000 digits, so
the standard integer conversion gives what ``_parse_int`` would."""
_HUGE = 10**_PLAIN_LENGTH


def _keys_decoded_no_huge(value: Any) -> int:
    """:func:`_keys_decoded` for longer text; -1 when an integer has more than 4000 digits
    (which :func:`_parse_int` keeps as :class:`_Huge`)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            count += len(item)
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int and not -_HUGE < item < _HUGE:
            return -1
    return count


def _load(text: str) -> Any:
    """Parse JSON text; duplicate keys are marked (:class:`_Twice`), integers too long to
    convert kept as :class:`_Huge`, and every failure raised as :class:`_NotJsonError`.

    Fast path (issue 19): decoded without any hook, which is kept when the keys decoded are
    as many as the text can hold at most (:func:`_keys_at_most`): then no object had a key
    twice (a duplicate is decoded once, so fewer keys would be held). Otherwise, or for text
    long enough to hold a huge integer, the text is decoded again with the hooks, as before.
    """
    try:
        if len(text) < _PLAIN_LENGTH:
            value = json.loads(text)
            if _keys_decoded(value) == _keys_at_most(text):
                return value
        else:
            try:
                value = json.loads(text)
            except ValueError:  # not JSON, or an integer past Python's limit: as before
                pass
            else:
                if _keys_decoded_no_huge(value) == _keys_at_most(text):
                    return value
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
    if type(value) is dict:  # decoded without a duplicate key (and not from XML)
        kind = value.get("resourceType")
        if type(kind) is str and kind in R4_RESOURCE_TYPES:
            return _Entry(value, file, line, record, full_url=full_url)
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
        entry = _text_entry(file, raw, number)
        if entry is not None:
            yield entry


def _text_entry(file: str, raw: str, number: int) -> _Entry | None:
    """The entry of NDJSON line ``number`` (``None`` for a blank line)."""
    line = raw.strip()
    if not line:
        return None
    record = f"line {number}"
    if not line.isascii() and _SURROGATE.search(line):
        return _Entry(None, file, number, record, problem="not UTF-8 text")
    try:
        value = _load(line)
    except _NotJsonError as error:
        return _Entry(None, file, number, record, problem=error.reason)
    return _resource_entry(value, file, number, record)


def _line_entry(file: str, raw: bytes, number: int) -> _Entry | None:
    """:func:`_text_entry` of a line's bytes (bytes that are not UTF-8 become lone
    surrogates, as :func:`_decode` makes them: a UTF-8 character holds no newline byte, so a
    line decodes alone as it does within the file)."""
    return _text_entry(file, raw.decode("utf-8", errors="surrogateescape"), number)


def _ndjson_lines(path: Path) -> Iterator[tuple[_Entry, bytes, int, int]]:
    """Each record of an NDJSON file with where its line is (the file's bytes, the line's
    start and end), read one line at a time (the file is split on ``\n`` only, as
    :func:`_ndjson_entries` splits it)."""
    data = path.read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    number = 0
    while start <= len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        number += 1
        entry = _line_entry(path.name, data[start:end], number)
        if entry is not None:
            yield entry, data, start, end
        start = end + 1


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


class _Stored:
    """A resource of an NDJSON file as :class:`_Index` holds it: where its line is, not its
    parsed elements (issue 19: a million dispenses are not held as Python objects). The line
    is parsed again, as it was the first time, when something refers to the resource."""

    __slots__ = ("data", "end", "file", "line", "problem", "start")

    def __init__(
        self, data: bytes, start: int, end: int, file: str, line: int, *, problem: str | None
    ) -> None:
        self.data = data
        self.start = start
        self.end = end
        self.file = file
        self.line = line
        self.problem = problem

    def entry(self) -> _Entry:
        entry = _line_entry(self.file, self.data[self.start : self.end], self.line)
        assert entry is not None
        return entry

    @property
    def resource(self) -> Mapping[str, Any] | None:
        return self.entry().resource


_Held = _Entry | _Stored


class _Memo:
    """What one lookup gave (its value, or the message of the :class:`_ShapeError` it
    raised), the index keys it consulted, and the resources whose rows used it.

    While a source is read, resources are turned into rows as they come, so a lookup may be
    answered before a resource it refers to has been read. The keys say when that happened:
    a resource read later under one of them makes the memo stale, and at the end it is
    worked out again; the rows that used it are read again when the answer changed
    (:meth:`_Index.settle`)."""

    __slots__ = ("error", "key", "keys", "stale", "users", "value")

    def __init__(self, key: tuple[Any, ...] | None, keys: set[str]) -> None:
        self.key = key
        self.keys = keys
        self.value: Any = None
        self.error: str | None = None
        self.users: list[int] = []
        self.stale = False

    def same(self, other: _Memo) -> bool:
        return self.error == other.error and self.value == other.value


def _shape_error(message: str) -> _ShapeError:
    """A :class:`_ShapeError` with a message made before (a remembered lookup's)."""
    error = _ShapeError.__new__(_ShapeError)
    Exception.__init__(error, message)
    return error


_NOTHING = object()


def _plain(value: Any) -> bool:
    return value is None or type(value) is str


def _reference_key(element: Any) -> tuple[Any, ...] | None:
    """What a lookup reads of a Reference element (``reference``, ``type``, and the
    ``system`` and ``value`` of its ``identifier``), as a key to remember the lookup by;
    ``None`` when it cannot be (an element of the wrong shape, which the lookup reports, or a
    ``#id`` reference into the resource's own ``contained`` resources)."""
    if not isinstance(element, dict):
        return None
    reference, kind = element.get("reference"), element.get("type")
    if not (_plain(reference) and _plain(kind)) or (reference or "").startswith("#"):
        return None
    identifier = element.get("identifier")
    if identifier is None:
        return (reference, kind, None)
    if not isinstance(identifier, dict):
        return None
    system, value = identifier.get("system"), identifier.get("value")
    if not (_plain(system) and _plain(value)):
        return None
    return (reference, kind, (system, value))


def _reference_element(key: tuple[Any, ...]) -> dict[str, Any]:
    """A Reference element that reads as the key of :func:`_reference_key` says."""
    reference, kind, identifier = key
    element: dict[str, Any] = {"reference": reference, "type": kind}
    if identifier is not None:
        element["identifier"] = {"system": identifier[0], "value": identifier[1]}
    return element


def _medication_key(resource: Mapping[str, Any], path: str) -> tuple[Any, ...] | None:
    """What :class:`_Medication` reads of a dispense or request (its medication concept's
    codings and text, the reference to its Medication), as a key to remember the medication
    by; ``None`` when it cannot be (see :func:`_reference_key`)."""
    concept = resource.get("medicationCodeableConcept")
    concept_key: tuple[Any, ...] | None = None
    if concept is not None:
        if not isinstance(concept, dict):
            return None
        text, codings = concept.get("text"), concept.get("coding")
        if not _plain(text) or not (codings is None or type(codings) is list):
            return None
        found = []
        for coding in codings or ():
            if not isinstance(coding, dict):
                return None
            triple = (coding.get("system"), coding.get("code"), coding.get("display"))
            if not (_plain(triple[0]) and _plain(triple[1]) and _plain(triple[2])):
                return None
            found.append(triple)
        concept_key = (text, tuple(found))
    element = resource.get("medicationReference")
    reference = None
    if element is not None:
        if not isinstance(element, dict):
            return None
        reference = element.get("reference")
        if not _plain(reference) or (reference or "").startswith("#"):
            return None
    return ("medication", path, concept_key, reference)


def _medication_resource(key: tuple[Any, ...]) -> dict[str, Any]:
    """A resource that reads as the key of :func:`_medication_key` says."""
    _, _, concept_key, reference = key
    resource: dict[str, Any] = {}
    if concept_key is not None:
        text, codings = concept_key
        resource["medicationCodeableConcept"] = {
            "coding": [{"system": s, "code": c, "display": d} for s, c, d in codings],
            "text": text,
        }
    if reference is not None:
        resource["medicationReference"] = {"reference": reference}
    return resource


class _Index:
    """Resources by reference (``Type/id`` and ``fullUrl``) and by identifier, for looking up
    what is referred to.

    Lookups that depend only on what they read of an element and on the index (a patient,
    practitioner or organisation referred to, a prescription's prescriber, a medication) are
    remembered per distinct element (issue 19: a million dispenses name a few thousand
    products and pharmacies). While a source is read (``watching``), every index key a lookup
    consults is recorded, so that a lookup answered before the resource it refers to was read
    is found and worked out again at the end (:class:`_Memo`, :meth:`settle`).
    """

    def __init__(self, entries: list[_Entry] | None = None, table: CodeTable | None = None) -> None:
        self.by_ref: dict[str, _Held] = {}
        self.by_identifier: dict[str, _Held | None] = {}
        self.table = table if table is not None else CodeTable(source="no table")
        self.memos: dict[tuple[Any, ...], _Memo] = {}
        self.units: dict[tuple[Any, ...], bool | None] = {}
        self.dates: dict[tuple[str, str], str | None] = {}
        self.watchers: dict[str, list[_Memo]] | None = None
        self.stale: list[_Memo] = []
        self.reading: int | None = None
        self.direct: set[str] = set()
        self._keys: set[str] | None = None
        for entry in entries or ():
            if entry.resource is not None:
                self.add(entry, entry)

    def add(self, entry: _Entry, held: _Held) -> None:
        """Index a resource (``held``: the entry, or where its line is)."""
        resource = entry.resource
        assert resource is not None
        identity = resource.get("id")
        if isinstance(identity, str):
            self._set(f"{entry.kind}/{identity}", held)
        if entry.full_url:
            self._set(entry.full_url, held)
        for key in _identifier_keys(resource):
            if key not in self.by_identifier:
                self.by_identifier[key] = held
                self._changed(f"i{key}")
            elif (other := self.by_identifier[key]) is not None and (other.resource != resource):
                # Two different resources with one identifier: which one is meant cannot
                # be told, so neither is (the same resource in two files is one).
                self.by_identifier[key] = None
                self._changed(f"i{key}")

    def _set(self, key: str, held: _Held) -> None:
        self.by_ref[key] = held
        self._changed(f"r{key}")

    def _changed(self, key: str) -> None:
        if self.watchers is None:
            return
        for memo in self.watchers.pop(key, ()):
            if not memo.stale:
                memo.stale = True
                self.stale.append(memo)
                if memo.key is not None and self.memos.get(memo.key) is memo:
                    del self.memos[memo.key]

    def _watch(self, key: str) -> None:
        if self.watchers is None:
            return
        if self._keys is not None:
            self._keys.add(key)
        elif self.reading is not None:
            self.direct.add(key)

    def _ref(self, key: str) -> _Held | None:
        self._watch(f"r{key}")
        return self.by_ref.get(key)

    def _identified(self, key: str) -> _Held | None:
        self._watch(f"i{key}")
        return self.by_identifier.get(key)

    def watch(self, memo: _Memo) -> None:
        """Record the index keys ``memo`` (a lookup, or one resource's own) consulted."""
        assert self.watchers is not None
        for key in memo.keys:
            self.watchers.setdefault(key, []).append(memo)

    def remember(self, key: tuple[Any, ...]) -> Any:
        """The value of the lookup ``key`` names, worked out once (raising its
        :class:`_ShapeError` each time it is asked for, when it raised one)."""
        memo = self.memos.get(key)
        if memo is None:
            memo = self._work_out(key)
            self.memos[key] = memo
            if self.watchers is not None and memo.keys:
                self.watch(memo)
        if self.watchers is not None and memo.keys:
            if self._keys is not None:
                self._keys.update(memo.keys)  # a lookup inside a lookup: it depends on them
            elif self.reading is not None:
                memo.users.append(self.reading)
        if memo.error is not None:
            raise _shape_error(memo.error)
        return memo.value

    def _work_out(self, key: tuple[Any, ...]) -> _Memo:
        saved, self._keys = self._keys, set()
        memo = _Memo(key, self._keys)
        try:
            memo.value = self._compute(key)
        except _ShapeError as bad:
            memo.error = str(bad)
        finally:
            self._keys = saved
        return memo

    def _compute(self, key: tuple[Any, ...]) -> Any:
        what, path = key[0], key[1]
        if what == "medication":
            return _Medication(_medication_resource(key), path, self, self.table)
        if what == "patient":
            return self._patient_id(key[2], path, None)
        element = _reference_element(key[2:])
        container: tuple[Mapping[str, Any], str] = ({}, path)
        if what == "practitioner":
            return self._practitioner(element, path, container)
        if what == "organisation":
            return self._organisation(element, path, container)
        return self._prescription(element, container, path)

    def settle(self) -> set[int]:
        """The resources whose rows must be read again, now that every resource is indexed:
        those that used a lookup whose answer changed (or consulted a changed key
        themselves). Stops the watching."""
        self.watchers = None
        dirty: set[int] = set()
        for memo in self.stale:
            if memo.key is None:
                dirty.update(memo.users)
                continue
            fresh = self.memos.get(memo.key)
            if fresh is None:
                fresh = self.memos[memo.key] = self._work_out(memo.key)
            if not fresh.same(memo):
                dirty.update(memo.users)
        self.stale = []
        return dirty

    def pieces(self, quantity: Mapping[str, Any], path: str) -> bool | None:
        """:func:`_pieces`, remembered per unit (system, code and name) of a quantity without
        extensions."""
        system, code, unit = quantity.get("system"), quantity.get("code"), quantity.get("unit")
        if quantity.get("extension") is not None or not (
            _plain(system) and _plain(code) and _plain(unit)
        ):
            return _pieces(quantity, path)
        key = (path, system, code, unit)
        found = self.units.get(key, _NOTHING)
        if found is _NOTHING:
            found = self.units[key] = _pieces(quantity, path)
        return found  # type: ignore[return-value]

    def when(self, value: Any, path: str) -> str | None:
        """:func:`_when`, remembered per text (a million dispenses fall on a few hundred
        days)."""
        if type(value) is not str:
            return _when(value, path)
        key = (value, path)
        found = self.dates.get(key, _NOTHING)
        if found is _NOTHING:
            found = self.dates[key] = _when(value, path)
        return found  # type: ignore[return-value]

    def medication(self, resource: Mapping[str, Any], path: str) -> _Medication:
        """The resource's :class:`_Medication`, remembered per distinct concept and reference."""
        key = _medication_key(resource, path)
        if key is None:
            return _Medication(resource, path, self, self.table)
        medication: _Medication = self.remember(key)
        return medication

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
        entry = self._identified(f"{wanted}|{system}|{number}")
        resource = None if entry is None else entry.resource
        if entry is None or resource is None:
            return None
        target = f"{path} -> {_type_name(resource)}"
        if entry.problem is not None:
            raise _ShapeError(target, entry.problem)
        return resource, target, (resource, target)

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
        entry = self._ref(reference) or self._ref(reference.split("/_history")[0])
        held = None if entry is None else entry.resource
        if entry is None or held is None:
            return None
        target = f"{path} -> {_type_name(held)}"
        if entry.problem is not None:
            raise _ShapeError(target, entry.problem)
        return held, target

    def patient_id(
        self, value: Any, path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
        reference = _reference(value, path)
        if reference is None:
            return None
        if reference.startswith("#"):
            return self._patient_id(reference, path, container)
        found: str | None = self.remember(("patient", path, reference))
        return found

    def _patient_id(
        self, reference: str, path: str, container: tuple[Mapping[str, Any], str] | None
    ) -> str | None:
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
        key = _reference_key(element)
        if key is None:
            return self._practitioner(element, path, container)
        found: str | None = self.remember(("practitioner", path, *key))
        return found

    def _practitioner(
        self, element: Mapping[str, Any], path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
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
        key = _reference_key(element)
        if key is None:
            return self._organisation(element, path, container)
        found: str | None = self.remember(("organisation", path, *key))
        return found

    def _organisation(
        self, element: Mapping[str, Any], path: str, container: tuple[Mapping[str, Any], str]
    ) -> str | None:
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

    def prescription(
        self, element: Mapping[str, Any], container: tuple[Mapping[str, Any], str], path: str
    ) -> tuple[bool, str | None]:
        """Whether a dispense's ``authorizingPrescription`` element (at ``path``) is found,
        and the prescriber of the request it refers to."""
        key = _reference_key(element)
        if key is None:
            return self._prescription(element, container, path)
        found: tuple[bool, str | None] = self.remember(("prescription", path, *key))
        return found

    def _prescription(
        self, element: Mapping[str, Any], container: tuple[Mapping[str, Any], str], path: str
    ) -> tuple[bool, str | None]:
        found = self.resolve(element, container, path, "MedicationRequest")
        if found is None:
            return False, None
        return True, self.prescriber(found)

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
    """Rows of one canonical table as text cells (in the order of ``columns``), with where
    each came from."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows: list[tuple[Any, ...]] = []
        self.files: list[str] = []
        self.lines: list[int | None] = []
        self.records: list[str] = []
        self.unreadable: list[tuple[str, int | None, str, str]] = []

    def add(self, file: str, line: int | None, record: str, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        self.files.append(file)
        self.lines.append(line)
        self.records.append(record)

    def reject(self, file: str, line: int | None, record: str, reason: str) -> None:
        self.unreadable.append((file, line, record, reason))

    def raw_tables(self, columns: tuple[str, ...]) -> list[RawTable]:
        """One raw table per file (problems then name the file they are in)."""
        tables = []
        files = dict.fromkeys([*self.files, *(u[0] for u in self.unreadable)])
        for file in files:
            mine = [i for i, f in enumerate(self.files) if f == file]
            frame = pd.DataFrame(
                [self.rows[i] for i in mine] if len(files) > 1 else self.rows,
                columns=list(columns),
                dtype=object,
            )
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

    def __eq__(self, other: object) -> bool:
        """The same drug, read the same way (:meth:`_Index.settle` compares lookups)."""
        return isinstance(other, _Medication) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

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
        records: which are rejected rows, which are not resources, which stop the file).

        Each resource is turned into its row as it is read (:class:`_Reading`); an NDJSON
        file's resources are not held, only where their lines are (:class:`_Stored`). The
        cyclic garbage collector is paused meanwhile: the read makes no reference cycles, and
        its passes over the growing outcomes cost a fifth of the time (issue 19)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._read(source, options)
        finally:
            if collecting:
                gc.enable()

    def _read(self, source: Path, options: Mapping[str, Any]) -> ReadResult:
        reading = _stream(source, options)
        dispensings, patients, episodes, ignored, report, unread = reading.finish()
        del reading  # the index, the lookups and the files' bytes: not needed for the tables
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
        if unread and options.get("strict", True):
            raise ReadError(_unread_message(source, unread, result), result)
        return result


def _stream(source: Path, options: Mapping[str, Any]) -> _Reading:
    """Every record of the source, taken one by one (:meth:`_Reading.take`)."""
    reading = _Reading(options)
    for path in _files(source):
        if path.suffix.lower() == ".ndjson":
            for entry, data, start, end in _ndjson_lines(path):
                assert entry.line is not None
                held: _Held = entry
                if entry.resource is not None and entry.kind not in _LOOKUP:
                    held = _Stored(data, start, end, entry.file, entry.line, problem=entry.problem)
                reading.take(entry, held)
        else:
            for entry in _entries(path):
                reading.take(entry, entry)
    return reading


_TABLES = {
    "MedicationDispense": ("dispensings", _DISPENSING_COLUMNS),
    "MedicationRequest": ("dispensings", _DISPENSING_COLUMNS),
    "Patient": ("patients", _PATIENT_COLUMNS),
    "Condition": ("episodes", _EPISODE_COLUMNS),
}

_TABLE_NAMES = frozenset({"dispensings", "patients", "episodes"})
_Outcome = tuple[Any, ...]
"""What reading one record gave, kept in the order of the records until the end of the
read: ``("unread", entry)``, ``("skip", key)``, ``("request", agreement)`` (a
MedicationRequest not read because of the dispenses: the ``ignored`` key is known at the
end), or ``(table, file, line, record, row, reason, extras, held)`` for a resource read (its
row, or the reason it was rejected; ``extras``: ``None`` or the ``ignored`` keys, products
without an ATC code and daysSupply problems it counted; ``held``: how to read it again)."""


class _Recorder:
    """Collects what reading one resource does (rows, rejections, counts): it stands for the
    table's rows, the ``skip`` counter and the report of :class:`_Context`."""

    __slots__ = ("days", "products", "reason", "row", "skips")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.row: dict[str, str | None] | None = None
        self.reason: str | None = None
        self.skips: list[str] = []
        self.products: list[str] = []
        self.days: list[str] = []

    def add(self, entry: _Entry, row: dict[str, str | None]) -> None:
        self.row = row

    def reject(self, entry: _Entry, reason: str) -> None:
        self.reason = reason

    def skip(self, what: str) -> None:
        self.skips.append(what)

    def product(self, medication: _Medication) -> None:
        self.products.append(_product_key(medication))

    def day(self, problem: str) -> None:
        self.days.append(problem)


class _Reading:
    """One read of a source, record by record: each resource is indexed and turned into its
    row as it comes (:class:`_Recorder`), and what it gave is kept in order. At the end
    (:meth:`finish`) the resources whose lookups the later records changed are read again,
    and the MedicationRequests are settled (counted or not, by whether the source had a
    dispense); then the outcomes are put together as the whole-source read put them."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = options
        self.requests = options.get("fhir_requests", "auto")
        self.index = _Index()
        self.index.watchers = {}
        self.table_error: Exception | None = None
        self.table_loaded = False
        self.has_dispenses = False
        self.outcomes: list[_Outcome] = []
        self.requests_read: list[tuple[int, bool]] = []
        self.recorder = _Recorder()
        self.context = _Context(self.index, self.index.table, self.recorder.skip, self.recorder)

    def _table(self) -> bool:
        """Load the code table on first need; a failure is raised at the end, after every
        file was read (as when the whole source was read first)."""
        if not self.table_loaded:
            self.table_loaded = True
            try:
                self.index.table = self.context.table = _code_table(self.options)
            except Exception as error:
                self.table_error = error
        return self.table_error is None

    def take(self, entry: _Entry, held: _Held) -> None:
        """Read one record (``held``: how the index keeps it)."""
        seq = len(self.outcomes)
        resource, kind = entry.resource, entry.kind
        if resource is None or kind is None:
            self.outcomes.append(("unread", entry))
            return
        self.index.add(entry, held)
        if kind not in _TABLES:
            key = f"{kind} (looked up by reference)" if kind in _LOOKUP else kind
            self.outcomes.append(("skip", key))
            return
        if kind == "MedicationDispense" and not self.has_dispenses:
            self.has_dispenses = ADMINISTRATION_AGREEMENT not in _categories(resource)
        if kind == "MedicationRequest":
            agreement = MEDICATION_AGREEMENT in _categories(resource)
            if self.requests != "always" and (self.requests == "never" or self.has_dispenses):
                self.outcomes.append(("request", agreement))
                return
            self.requests_read.append((seq, agreement))
        if not self._table():
            self.outcomes.append(("table", None))
            return
        index = self.index
        index.reading, index.direct = seq, set()
        try:
            self.outcomes.append(self._read(entry, kind, held))
        finally:
            index.reading = None
        if index.direct:
            own = _Memo(None, index.direct)
            own.users.append(seq)
            index.watch(own)

    def _read(self, entry: _Entry, kind: str, held: _Held | None) -> _Outcome:
        """Read one resource of a table, as the whole-source read did (``held``: how to
        read it again, kept with the outcome)."""
        recorder = self.recorder
        recorder.clear()
        try:
            if entry.problem is not None:
                raise _ShapeError(kind, entry.problem)
            if kind == "MedicationDispense":
                _dispense(entry, recorder, self.context)
            elif kind == "MedicationRequest":
                _request(entry, recorder, self.context)
            elif kind == "Patient":
                recorder.add(entry, _patient(entry, self.index))
            else:
                _condition(entry, self.index, recorder, recorder.skip)
        except _ShapeError as bad:
            recorder.reject(entry, str(bad))
        table, columns = _TABLES[kind]
        row = recorder.row
        extras = None
        if recorder.skips or recorder.products or recorder.days:
            extras = (tuple(recorder.skips), tuple(recorder.products), tuple(recorder.days))
        return (
            table,
            entry.file,
            entry.line,
            entry.record,
            None
            if row is None
            else tuple(row.values())
            if tuple(row) == columns
            else tuple(row.get(c, math.nan) for c in columns),
            recorder.reason,
            extras,
            held,
        )

    def finish(
        self,
    ) -> tuple[_Rows, _Rows, _Rows, dict[str, int], _Report, list[_Entry]]:
        """Settle what the later records changed, then put the outcomes together."""
        self._table()
        if self.table_error is not None:
            raise self.table_error
        if self.requests not in ("auto", "always", "never"):
            raise ValueError(f"fhir_requests must be auto, always or never, got {self.requests!r}")
        if self.requests == "auto" and self.has_dispenses:
            for seq, agreement in self.requests_read:
                self.outcomes[seq] = ("request", agreement)
        for seq in sorted(self.index.settle()):
            held = self.outcomes[seq][-1]
            if self.outcomes[seq][0] not in _TABLE_NAMES or held is None:
                continue  # a request not read after all
            entry = held.entry() if isinstance(held, _Stored) else held
            assert entry.kind is not None
            self.outcomes[seq] = self._read(entry, entry.kind, None)
        tables = {name: _Rows(name) for name in ("dispensings", "patients", "episodes")}
        ignored: dict[str, int] = {}
        report = _Report()
        unread: list[_Entry] = []

        def skip(what: str) -> None:
            ignored[what] = ignored.get(what, 0) + 1

        for outcome in self.outcomes:
            tag = outcome[0]
            if tag == "unread":
                unread.append(outcome[1])
            elif tag == "skip":
                skip(outcome[1])
            elif tag == "request":
                skip(
                    _AGREEMENT_KEY
                    if outcome[1]
                    else "MedicationRequest (the dispenses are counted instead)"
                    if self.has_dispenses
                    else "MedicationRequest (fhir_requests='never')"
                )
            else:
                _, file, line, record, row, reason, extras, _ = outcome
                if extras is not None:
                    for what in extras[0]:
                        skip(what)
                    for product in extras[1]:
                        report.products[product] = report.products.get(product, 0) + 1
                    for problem in extras[2]:
                        report.day(problem)
                rows = tables[tag]
                if row is not None:
                    rows.add(file, line, record, row)
                if reason is not None:
                    rows.reject(file, line, record, reason)
        self.outcomes = []
        return (
            tables["dispensings"],
            tables["patients"],
            tables["episodes"],
            ignored,
            report,
            unread,
        )


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
        key = _product_key(medication)
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


def _product_key(medication: _Medication) -> str:
    """How a product without an ATC code is named in the notes."""
    shown = (
        ", ".join(f"{_system_name(s)} {_shown_code(c)}" for _, s, c in medication.codings)
        or "no coding"
    )
    return shown + medication.described()


def _system_name(system: str | None) -> str:
    """A coding system as a note names it: ``HPK``, ``PRK``, ``GPK`` or the system."""
    level = next((k.upper() for k, v in G_STANDAARD_SYSTEMS.items() if v == system), None)
    return level or _shown_system(system)


class _Context:
    """What reading a dispense or request needs besides the resource: the references, the
    code table, and where to count what is not a row (``skip``) or goes into the notes."""

    __slots__ = ("index", "report", "skip", "table")

    def __init__(
        self, index: _Index, table: CodeTable, skip: Callable[[str], None], report: _Recorder
    ) -> None:
        self.index = index
        self.table = table
        self.skip = skip
        self.report = report


def _coded_medication(
    entry: _Entry, path: str, rows: _Recorder, context: _Context
) -> _Medication | None:
    """The drug of a dispense or request; ``None`` (the entry rejected, the product reported)
    when it has no ATC code."""
    assert entry.resource is not None
    medication = context.index.medication(entry.resource, path)
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


def _dispense(entry: _Entry, rows: _Recorder, context: _Context) -> None:
    resource, path, index = entry.resource, "MedicationDispense", context.index
    assert resource is not None
    # Shortcuts (issue 19) where an element is absent or plainly valid; the checks they skip
    # would find nothing.
    if resource.get("category") is not None or resource.get("meta") is not None:
        category = _object(resource.get("category"), f"{path}.category")
        if any(
            system == SNOMED and code == ADMINISTRATION_AGREEMENT
            for _, system, code in _codings(category, f"{path}.category")
        ) or ADMINISTRATION_AGREEMENT in _categories(resource):
            context.skip(_ADMINISTRATION_KEY)
            return
    status = resource.get("status")
    if status is None:
        status = "completed"
    elif type(status) is not str or status not in _DISPENSE_STATUSES:
        status = _code(status, f"{path}.status", _DISPENSE_STATUSES) or "completed"
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
        found, prescriber = index.prescription(prescription, (resource, path), where)
        if found:
            break
    pharmacy = None
    for where, performer in _objects(resource.get("performer"), f"{path}.performer"):
        pharmacy = index.organisation(performer.get("actor"), f"{where}.actor", (resource, path))
        if pharmacy is not None:
            break
    quantity = _object(resource.get("quantity"), f"{path}.quantity") or {}
    if not _countable(medication, index.pieces(quantity, f"{path}.quantity")):
        rows.reject(entry, _NOT_PIECES)
        return
    days, problem = _days_supply(resource.get("daysSupply"), f"{path}.daysSupply")
    if problem is not None:
        context.report.day(problem)
    date = index.when(resource.get("whenHandedOver"), f"{path}.whenHandedOver") or index.when(
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


def _request(entry: _Entry, rows: _Recorder, context: _Context) -> None:
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


def _condition(entry: _Entry, index: _Index, rows: _Recorder, skip: Callable[[str], None]) -> None:
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
