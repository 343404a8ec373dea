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

Parsed with the standard library's :mod:`json` (docs/explanation/dependencies.rst says why).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
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
OWN_PREFIX = "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix"
OWN_NAME = "http://hl7.org/fhir/StructureDefinition/humanname-own-name"
NETHERLANDS = ZoneInfo("Europe/Amsterdam")
_READ = ("MedicationDispense", "MedicationRequest", "Patient", "Condition")
_LOOKUP = ("Practitioner", "Medication")
_SEX = {"male": "M", "female": "F", "other": "X", "unknown": "X"}
_DISPENSE_OK = frozenset({"completed"})
_REQUEST_SKIP = frozenset({"cancelled", "entered-in-error", "draft"})


class _Entry:
    """One resource and where it is in the source."""

    __slots__ = ("file", "full_url", "line", "record", "resource")

    def __init__(
        self,
        resource: dict[str, Any],
        file: str,
        line: int | None,
        record: str,
        full_url: str | None = None,
    ) -> None:
        self.resource = resource
        self.file = file
        self.line = line
        self.record = record
        self.full_url = full_url


_SUFFIXES = frozenset({".json", ".ndjson"})


def _files(source: Path) -> list[Path]:
    return source_files(source, _SUFFIXES)


def _label(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


def _entries(path: Path) -> Iterator[_Entry]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".ndjson":
        bad = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except json.JSONDecodeError as error:
                bad.append(f"{path.name}, line {number}: not JSON ({error.msg})")
                continue
            if not isinstance(resource, dict):
                bad.append(f"{path.name}, line {number}: not a FHIR resource")
                continue
            yield _Entry(resource, path.name, number, _label(resource))
        if bad:
            raise ReadError("\n".join(bad))
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(f"{path.name}, line {error.lineno}: not JSON ({error.msg})") from None
    if not isinstance(document, dict) or "resourceType" not in document:
        raise ReadError(f"{path.name}: not a FHIR resource (no resourceType)")
    if document["resourceType"] != "Bundle":
        yield _Entry(document, path.name, None, _label(document))
        return
    for number, entry in enumerate(document.get("entry", [])):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise ReadError(f"{path.name}: Bundle.entry[{number}] has no resource")
        label = f"entry {number} ({_label(resource)})"
        yield _Entry(resource, path.name, None, label, entry.get("fullUrl"))


def _date(value: Any) -> str | None:
    """A FHIR date or dateTime as ``YYYY-MM-DD`` (Dutch date for a time-zoned instant); text
    that is not a full date is returned as it is, so that it is reported, not guessed."""
    if value is None:
        return None
    text = str(value).strip()
    if "T" in text:
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is not None:
            moment = moment.astimezone(NETHERLANDS)
        return moment.date().isoformat()
    return text


def _number(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return repr(float(value))


def _ref_id(reference: Any) -> str | None:
    if not isinstance(reference, Mapping):
        return None
    ref = reference.get("reference")
    if not isinstance(ref, str) or not ref:
        return None
    return ref


class _Index:
    """Resources by reference (``Type/id`` and ``fullUrl``), for looking up what is referred to."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.by_ref: dict[str, dict[str, Any]] = {}
        for entry in entries:
            resource = entry.resource
            key = f"{resource.get('resourceType')}/{resource.get('id')}"
            self.by_ref[key] = resource
            if entry.full_url:
                self.by_ref[str(entry.full_url)] = resource

    def get(self, reference: str | None, container: Mapping[str, Any] | None = None) -> Any:
        if reference is None:
            return None
        if reference.startswith("#") and container is not None:
            for contained in container.get("contained", []):
                if contained.get("id") == reference[1:]:
                    return contained
            return None
        return self.by_ref.get(reference) or self.by_ref.get(reference.split("/_history")[0])

    def patient_id(self, reference: Any) -> str | None:
        ref = _ref_id(reference)
        if ref is None:
            return None
        found = self.get(ref)
        if found is not None and found.get("resourceType") == "Patient" and found.get("id"):
            return str(found["id"])
        return ref.rsplit("/", 1)[-1]

    def practitioner(self, reference: Any) -> str | None:
        """The AGB code of a referenced practitioner, else its id."""
        ref = _ref_id(reference)
        if ref is None:
            return None
        found = self.get(ref)
        if isinstance(found, Mapping):
            for identifier in found.get("identifier", []):
                if identifier.get("system") == AGB_SYSTEM and identifier.get("value"):
                    return str(identifier["value"])
            if found.get("id"):
                return str(found["id"])
        return ref.rsplit("/", 1)[-1]


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


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, Mapping)]


class _Medication:
    """What a dispense or request says about its drug: ATC, form, strength."""

    def __init__(
        self, resource: Mapping[str, Any], index: _Index, code_map: Mapping[str, str]
    ) -> None:
        concept = resource.get("medicationCodeableConcept")
        medication = index.get(_ref_id(resource.get("medicationReference")), resource)
        if concept is None and isinstance(medication, Mapping):
            concept = medication.get("code")
        self.codings = _codings(concept)
        self.atc: str | None = None
        for coding in self.codings:
            if coding.get("system") == ATC_SYSTEM and coding.get("code"):
                self.atc = str(coding["code"])
                break
        if self.atc is None:
            for coding in self.codings:
                key = f"{coding.get('system')}|{coding.get('code')}"
                if key in code_map:
                    self.atc = code_map[key]
                    break
        self.form: str | None = None
        self.strength_mg: str | None = None
        if isinstance(medication, Mapping):
            form = medication.get("form")
            if isinstance(form, Mapping):
                self.form = form.get("text") or next(
                    (c.get("display") for c in _codings(form) if c.get("display")), None
                )
            self.strength_mg = _strength_mg(medication)

    def unknown(self) -> str:
        shown = ", ".join(f"{c.get('system')}|{c.get('code')}" for c in self.codings) or "none"
        return (
            f"medication has no ATC coding ({ATC_SYSTEM}) and no code-map entry for its "
            f"codings ({shown})"
        )


def _strength_mg(medication: Mapping[str, Any]) -> str | None:
    """mg per unit from a single ingredient's ``strength`` (numerator mg per 1 unit)."""
    ingredients = medication.get("ingredient", [])
    if len(ingredients) != 1:
        return None
    strength = ingredients[0].get("strength", {})
    numerator, denominator = strength.get("numerator", {}), strength.get("denominator", {})
    unit = str(numerator.get("code") or numerator.get("unit") or "").lower()
    if unit != "mg" or denominator.get("value", 1) != 1:
        return None
    return _number(numerator.get("value"))


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
        """Read every resource into the canonical tables."""
        entries = [entry for path in _files(source) for entry in _entries(path)]
        index = _Index(entries)
        code_map = {k: str(v).strip().upper() for k, v in options.get("code_map", {}).items()}
        has_dispenses = any(e.resource.get("resourceType") == "MedicationDispense" for e in entries)
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

        for entry in entries:
            resource = entry.resource
            kind = resource.get("resourceType")
            if kind == "MedicationDispense":
                _dispense(entry, index, code_map, dispensings, skip)
            elif kind == "MedicationRequest":
                if use_requests:
                    _request(entry, index, code_map, dispensings, skip)
                else:
                    skip(
                        "MedicationRequest (the dispenses are counted instead)"
                        if has_dispenses
                        else "MedicationRequest (fhir_requests='never')"
                    )
            elif kind == "Patient":
                patients.add(entry, _patient(resource, index))
            elif kind == "Condition":
                _condition(entry, index, episodes, skip)
            elif kind in _LOOKUP:
                skip(f"{kind} (looked up by reference)")
            else:
                skip(str(kind))
        raws = [
            *(dispensings.raw_tables(_DISPENSING_COLUMNS)),
            *(patients.raw_tables(_PATIENT_COLUMNS)),
            *(episodes.raw_tables(_EPISODE_COLUMNS)),
        ]
        return reader_result(
            self.name,
            source,
            raws,
            options,
            ignored=ignored,
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
    entry: _Entry, index: _Index, code_map: Mapping[str, str], rows: _Rows
) -> _Medication | None:
    """The drug of a dispense or request; ``None`` (the entry rejected) when it has no ATC code."""
    medication = _Medication(entry.resource, index, code_map)
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
    resource = entry.resource
    status = resource.get("status", "completed")
    if status not in _DISPENSE_OK:
        skip(f"MedicationDispense with status {status}")
        return
    medication = _coded_medication(entry, index, code_map, rows)
    if medication is None:
        return
    prescriber = None
    for prescription in resource.get("authorizingPrescription", []):
        request = index.get(_ref_id(prescription))
        if isinstance(request, Mapping):
            prescriber = index.practitioner(request.get("requester"))
            break
    quantity = resource.get("quantity", {})
    rows.add(
        entry,
        _dispensing_row(
            resource,
            index,
            medication,
            date=resource.get("whenHandedOver") or resource.get("whenPrepared"),
            quantity=quantity.get("value") if isinstance(quantity, Mapping) else None,
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
    resource = entry.resource
    status = resource.get("status")
    intent = resource.get("intent", "order")
    if status in _REQUEST_SKIP or intent not in {"order", "original-order", "instance-order"}:
        skip(f"MedicationRequest with status {status} and intent {intent}")
        return
    medication = _coded_medication(entry, index, code_map, rows)
    if medication is None:
        return
    quantity = resource.get("dispenseRequest", {}).get("quantity", {})
    rows.add(
        entry,
        _dispensing_row(
            resource,
            index,
            medication,
            date=resource.get("authoredOn"),
            quantity=quantity.get("value"),
            prescriber=index.practitioner(resource.get("requester")),
        ),
    )


def _dispensing_row(
    resource: Mapping[str, Any],
    index: _Index,
    medication: _Medication,
    *,
    date: Any,
    quantity: Any,
    prescriber: str | None,
) -> dict[str, str | None]:
    """The dispensings row of a dispense or request whose drug has an ATC code.

    ``date`` and ``quantity`` are the FHIR values (they differ between the two resources).
    """
    return {
        "patient_id": index.patient_id(resource.get("subject")),
        "date": _date(date),
        "atc": medication.atc,
        "quantity": _number(quantity),
        "strength_mg": medication.strength_mg,
        "form": medication.form,
        "prescriber_id": prescriber,
    }


def _extension(element: Any, url: str) -> str | None:
    if not isinstance(element, Mapping):
        return None
    for extension in element.get("extension", []):
        if extension.get("url") == url and extension.get("valueString"):
            return str(extension["valueString"])
    return None


def _patient(resource: Mapping[str, Any], index: _Index) -> dict[str, str | None]:
    names = resource.get("name", [])
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = [str(g) for g in name.get("given", [])]
    prefix = _extension(name.get("_family"), OWN_PREFIX)
    family = _extension(name.get("_family"), OWN_NAME) or name.get("family")
    addresses = resource.get("address", [])
    address = addresses[0] if addresses else {}
    lines = address.get("line", [])
    line_parts = (address.get("_line") or [None])[0]
    street = _extension(
        line_parts, "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName"
    )
    number = _extension(
        line_parts, "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber"
    )
    bsn = next(
        (
            str(i.get("value"))
            for i in resource.get("identifier", [])
            if i.get("system") == BSN_SYSTEM
        ),
        None,
    )
    gps = resource.get("generalPractitioner", [])
    gender = resource.get("gender")
    status, status_date = None, None
    if resource.get("deceasedDateTime"):
        status, status_date = "deceased", _date(resource["deceasedDateTime"])
    elif resource.get("deceasedBoolean") is True:
        status = "deceased"
    return {
        "patient_id": str(resource["id"]) if resource.get("id") else None,
        "gp_id": index.practitioner(gps[0]) if gps else None,
        "birth_date": _date(resource.get("birthDate")),
        # An unknown gender stays as it is, so the patients schema reports it.
        "sex": _SEX.get(str(gender), str(gender)) if gender else None,
        "initials": "".join(f"{g[0]}." for g in given if g) or None,
        "first_name": given[0] if given else None,
        "name_prefix": prefix,
        "family_name": family,
        "street": street or (lines[0] if lines else None),
        "house_number": number,
        "postcode": address.get("postalCode"),
        "city": address.get("city"),
        "bsn": bsn,
        "status": status,
        "status_date": status_date,
    }


def _condition(entry: _Entry, index: _Index, rows: _Rows, skip: Callable[[str], None]) -> None:
    resource = entry.resource
    verification = _codings(resource.get("verificationStatus"))
    if any(c.get("code") in {"refuted", "entered-in-error"} for c in verification):
        skip("Condition refuted or entered in error")
        return
    icpc = next(
        (
            str(c["code"])
            for c in _codings(resource.get("code"))
            if c.get("system") in ICPC_SYSTEMS and c.get("code")
        ),
        None,
    )
    if icpc is None:
        skip("Condition without an ICPC coding")
        return
    onset = resource.get("onsetDateTime") or resource.get("onsetPeriod", {}).get("start")
    abatement = resource.get("abatementDateTime") or resource.get("abatementPeriod", {}).get("end")
    rows.add(
        entry,
        {
            "patient_id": index.patient_id(resource.get("subject")),
            "icpc": icpc,
            "start": _date(onset),
            "end": _date(abatement),
        },
    )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the FHIR reader."""
    register(FhirReader())
