"""Exports of every reader with planted personal data in every column.

Each export starts from one valid record whose personal columns already hold planted values
(:mod:`tests.privacy.planting`), then adds one record per column and planted value, with that
value in that column (a swapped or shifted column, in effect): a name where the ATC code
belongs, a birth date in the quantity, a BSN in the sex. So one file drives every column's
error path (bad dates, bad numbers, bad codes, values outside a closed set, BSN 11-test,
postcode, duplicates) at once. The variants drive the file-level paths: no header line, an
empty file, a required column missing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import evolve, frozen
from tests.adapters.conftest import EXAMPLES
from tests.privacy.planting import (
    BIRTH_DATE,
    BIRTH_DATES,
    BSNS,
    GIVEN_NAME,
    NAME,
    PLANTED,
    POSTCODES,
)

DUTCH_BIRTH_DATE = BIRTH_DATE.strftime("%d-%m-%Y")
ISO_BIRTH_DATE = BIRTH_DATE.isoformat()


@frozen
class TabularFile:
    """One delimited file: its header, a valid record, and which columns get planted values."""

    name: str
    header: tuple[str, ...]
    base: Mapping[str, str]
    """The valid record (every header column), with planted values in its personal columns."""
    id_column: str
    """Each record gets its own patient number here, so records do not collide by accident."""
    id_prefix: str
    preamble: tuple[str, ...] = ()
    separator: str = ";"
    extra: tuple[Mapping[str, str], ...] = ()
    """Records added after the planted ones (duplicates, conflicting patient details)."""
    planted: tuple[str, ...] | None = None
    """The columns that get planted values (default: every column)."""

    def records(self) -> list[dict[str, str]]:
        rows = [dict(self.base)]
        number = 1
        for column in self.planted if self.planted is not None else self.header:
            for value in PLANTED:
                number += 1
                row = dict(self.base)
                row[self.id_column] = f"{self.id_prefix}{number}"
                row[column] = value
                rows.append(row)
        rows.extend({**self.base, **e} for e in self.extra)
        return rows

    def text(self, *, header: bool = True, drop: str | None = None) -> str:
        columns = [c for c in self.header if c != drop]
        lines = []
        if header:  # an export without its header line has no title lines either
            lines += [*self.preamble, self.separator.join(columns)]
        lines += [self.separator.join(r[c] for c in columns) for r in self.records()]
        return "\n".join(lines) + "\n"


@frozen
class Export:
    """A reader's input: its files, the reader's name and the mapping file, if any."""

    id: str
    format: str
    files: tuple[TabularFile, ...] = ()
    folder: bool = False
    """Several files in a folder (HIS) rather than one file."""
    mapping: str | None = None
    """The mapping file's text."""
    required: str = ""
    """A required column (its export name) to leave out for the missing-column path."""

    def write(
        self, root: Path, *, header: bool = True, empty: bool = False, missing: bool = False
    ) -> tuple[Path, Path | None]:
        """Write the export under ``root``; returns the source path and the mapping path."""
        root.mkdir(parents=True, exist_ok=True)
        folder = root / "export" if self.folder else root
        folder.mkdir(exist_ok=True)
        paths = []
        for file in self.files:
            path = folder / file.name
            if empty:
                path.write_text("", encoding="utf-8")
            else:
                drop = self.required if missing and self.required in file.header else None
                path.write_text(file.text(header=header, drop=drop), encoding="utf-8")
            paths.append(path)
        mapping = None
        if self.mapping is not None:
            mapping = root / "mapping.toml"
            mapping.write_text(self.mapping, encoding="utf-8")
        return (folder if self.folder else paths[0]), mapping


def _row(header: Sequence[str], values: Mapping[str, str]) -> dict[str, str]:
    return {c: values.get(c, "") for c in header}


AIS_HEADER = (
    "Patientnummer",
    "BSN",
    "Voorletters",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Geslacht",
    "Postcode",
    "Afleverdatum",
    "ATC",
    "Omschrijving",
    "Aantal",
    "Sterkte (mg)",
    "Farmaceutische vorm",
    "Voorschrijver AGB",
    "Apotheek AGB",
    "Retour",
)
AIS = TabularFile(
    "ais.csv",
    AIS_HEADER,
    _row(
        AIS_HEADER,
        {
            "Patientnummer": "A1",
            "BSN": BSNS[0],
            "Voorletters": "W.",
            "Tussenvoegsel": "van",
            "Achternaam": NAME,
            "Geboortedatum": DUTCH_BIRTH_DATE,
            "Geslacht": "V",
            "Postcode": POSTCODES[0],
            "Afleverdatum": "06-01-2025",
            "ATC": "N05BA04",
            "Omschrijving": "OXAZEPAM TABLET 10MG",
            "Aantal": "30",
            "Sterkte (mg)": "10",
            "Farmaceutische vorm": "tablet",
            "Voorschrijver AGB": "01012345",
            "Apotheek AGB": "06012345",
            "Retour": "N",
        },
    ),
    "Patientnummer",
    "A",
    # an exact duplicate dispensing, and the same patient with another birth date and BSN
    extra=({}, {"Afleverdatum": "07-02-2025", "Geboortedatum": "18-04-1937", "BSN": BSNS[1]}),
)

HIS_PRESCRIPTIONS_HEADER = (
    "Patientnummer",
    "Voorschrijfdatum",
    "ATC",
    "Omschrijving",
    "Aantal",
    "Sterkte (mg)",
    "Toedieningsvorm",
    "Voorschrijver",
    "Wijze van voorschrijven",
)
HIS_EPISODES_HEADER = ("Patientnummer", "ICPC", "Omschrijving", "Begindatum", "Einddatum")
HIS_PATIENTS_HEADER = (
    "Patientnummer",
    "BSN",
    "Voorletters",
    "Roepnaam",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Geslacht",
    "Straat",
    "Huisnummer",
    "Postcode",
    "Woonplaats",
    "Huisarts",
    "Inschrijfstatus",
    "Datum status",
)
HIS_FILES = (
    TabularFile(
        "voorschriften.csv",
        HIS_PRESCRIPTIONS_HEADER,
        _row(
            HIS_PRESCRIPTIONS_HEADER,
            {
                "Patientnummer": "H1",
                "Voorschrijfdatum": "10-01-2025",
                "ATC": "N05CD07",
                "Omschrijving": "TEMAZEPAM 10MG",
                "Aantal": "30",
                "Sterkte (mg)": "10",
                "Toedieningsvorm": "capsule",
                "Voorschrijver": "HA01",
                "Wijze van voorschrijven": "Herhaalrecept",
            },
        ),
        "Patientnummer",
        "H",
        extra=({},),
    ),
    TabularFile(
        "episodes.csv",
        HIS_EPISODES_HEADER,
        _row(
            HIS_EPISODES_HEADER,
            {
                "Patientnummer": "H1",
                "ICPC": "P06",
                "Omschrijving": "Slaapproblemen",
                "Begindatum": "01-03-2019",
            },
        ),
        "Patientnummer",
        "H",
    ),
    TabularFile(
        "patienten.csv",
        HIS_PATIENTS_HEADER,
        _row(
            HIS_PATIENTS_HEADER,
            {
                "Patientnummer": "H1",
                "BSN": BSNS[0],
                "Voorletters": "W.",
                "Roepnaam": GIVEN_NAME,
                "Achternaam": NAME,
                "Geboortedatum": DUTCH_BIRTH_DATE,
                "Geslacht": "M",
                "Straat": "Kerkstraat",
                "Huisnummer": "12",
                "Postcode": POSTCODES[1],
                "Woonplaats": "Delft",
                "Huisarts": "HA01",
                "Inschrijfstatus": "Ingeschreven",
            },
        ),
        "Patientnummer",
        "H",
        extra=({"Geboortedatum": "18-04-1937"},),  # a patient listed twice
    ),
)

SFK_HEADER = (
    "Huisarts",
    "AGB huisarts",
    "Lijst",
    "Patientnummer",
    "Geboortedatum",
    "Geslacht",
    "ATC",
    "Middel",
    "Eerste aflevering",
    "Laatste aflevering",
    "Aantal eenheden",
    "Aantal DDD",
)
SFK = TabularFile(
    "sfk.csv",
    SFK_HEADER,
    _row(
        SFK_HEADER,
        {
            "Huisarts": "Dr. A. Jansen",
            "AGB huisarts": "01012345",
            "Lijst": "Langdurig gebruik",
            "Patientnummer": "S1",
            "Geboortedatum": DUTCH_BIRTH_DATE,
            "Geslacht": "V",
            "ATC": "N05BA04",
            "Middel": "Oxazepam",
            "Eerste aflevering": "15-01-2025",
            "Laatste aflevering": "10-12-2025",
            "Aantal eenheden": "180",
            "Aantal DDD": "36",
        },
    ),
    "Patientnummer",
    "S",
    preamble=("SFK Benzodiazepinegebruik per huisarts", "Periode: 01-01-2025 t/m 31-12-2025"),
)

GENERIC_DISPENSINGS = TabularFile(
    "generic.csv",
    ("Pat", "Datum", "Code", "Stuks"),
    {"Pat": "G1", "Datum": "01-02-2025", "Code": "N05BA04", "Stuks": "30"},
    "Pat",
    "G",
)
GENERIC_PATIENTS_HEADER = ("Nr", "Naam", "Geboren", "Sekse", "PC", "Burgerservicenr", "Stand")
GENERIC_PATIENTS = TabularFile(
    "clienten.csv",
    GENERIC_PATIENTS_HEADER,
    {
        "Nr": "C1",
        "Naam": NAME,
        "Geboren": DUTCH_BIRTH_DATE,
        "Sekse": "V",
        "PC": POSTCODES[0],
        "Burgerservicenr": BSNS[1],
        "Stand": "actief",
    },
    "Nr",
    "C",
)
GENERIC_PATIENTS_MAPPING = """table = "patients"

[file]
separator = ";"

[columns]
Nr = "patient_id"
Naam = "family_name"
Geboren = "birth_date"
Sekse = "sex"
PC = "postcode"
Burgerservicenr = "bsn"
Stand = "status"
"""

CANONICAL_DISPENSINGS_HEADER = (
    "patient_id",
    "date",
    "atc",
    "quantity",
    "strength_mg",
    "form",
    "prescriber_id",
    "pharmacy_id",
    "channel",
)
CANONICAL_DISPENSINGS = TabularFile(
    "dispensings.csv",
    CANONICAL_DISPENSINGS_HEADER,
    {
        "patient_id": "p1",
        "date": "2025-03-01",
        "atc": "N05BA04",
        "quantity": "30",
        "strength_mg": "10",
        "form": "tablet",
        "prescriber_id": "g1",
        "pharmacy_id": "ph1",
        "channel": "consult",
    },
    "patient_id",
    "p",
    separator=",",
    extra=({},),
)
CANONICAL_PATIENTS_HEADER = (
    "patient_id",
    "gp_id",
    "birth_date",
    "sex",
    "initials",
    "first_name",
    "name_prefix",
    "family_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "bsn",
    "status",
    "status_date",
    "palliative",
    "dutch_language",
    "immobile",
    "serious_comorbidity",
)
CANONICAL_PATIENTS = TabularFile(
    "patients.csv",
    CANONICAL_PATIENTS_HEADER,
    {
        "patient_id": "p1",
        "gp_id": "g1",
        "birth_date": ISO_BIRTH_DATE,
        "sex": "F",
        "initials": "W.",
        "first_name": GIVEN_NAME,
        "name_prefix": "van",
        "family_name": NAME,
        "street": "Kerkstraat",
        "house_number": "12",
        "postcode": POSTCODES[0],
        "city": "Delft",
        "bsn": BSNS[0],
        "status": "active",
        "status_date": "",
        "palliative": "false",
        "dutch_language": "true",
        "immobile": "false",
        "serious_comorbidity": "false",
    },
    "patient_id",
    "p",
    separator=",",
    extra=({"birth_date": "1937-04-18"},),
)
CANONICAL_EPISODES = TabularFile(
    "episodes.csv",
    ("patient_id", "icpc", "start", "end"),
    {"patient_id": "p1", "icpc": "P06", "start": "2019-03-01", "end": ""},
    "patient_id",
    "p",
    separator=",",
)


def _fhir_mapping() -> str:
    return (EXAMPLES / "fhir-mapping.toml").read_text(encoding="utf-8")


EXPORTS: tuple[Export, ...] = (
    Export("ais", "ais", (AIS,), required="Aantal"),
    Export("his", "his", HIS_FILES, folder=True, required="Voorschrijfdatum"),
    Export("sfk", "sfk", (SFK,), required="ATC"),
    Export(
        "generic-dispensings",
        "delimited",
        (GENERIC_DISPENSINGS,),
        mapping=(EXAMPLES / "generic-mapping.toml").read_text(encoding="utf-8"),
        required="Code",
    ),
    Export(
        "generic-patients",
        "delimited",
        (GENERIC_PATIENTS,),
        mapping=GENERIC_PATIENTS_MAPPING,
        required="Nr",
    ),
    Export("canonical-dispensings", "delimited", (CANONICAL_DISPENSINGS,), required="atc"),
    Export("canonical-patients", "delimited", (CANONICAL_PATIENTS,), required="patient_id"),
    Export("canonical-episodes", "delimited", (CANONICAL_EPISODES,), required="icpc"),
)
"""Every tabular reader's input (AIS, HIS, SFK, the generic reader with a mapping file, and
canonical CSV files, which the generic reader and ``read_canonical`` both read)."""


# --- FHIR -------------------------------------------------------------------------------------

_FHIR_SKIPPED = frozenset({"resourceType"})
"""Leaves not planted: a resource without its type is not a resource of any kind."""
FHIR_KINDS: tuple[tuple[str, ...], ...] = ((NAME, GIVEN_NAME), BSNS, BIRTH_DATES, POSTCODES)
"""What each FHIR leaf gets in turn: a name, a BSN, a birth date and a postcode, each kind's
forms in rotation (every leaf and planted value would be too large a bundle)."""


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _set(target: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _renamed(entries: list[Any], suffix: str) -> list[Any]:
    """A copy of ``entries`` whose ids, references and full URLs end in ``suffix``."""

    def visit(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in {"id", "reference", "fullUrl"} and isinstance(item, str):
                    out[key] = item + suffix
                else:
                    out[key] = visit(item)
            return out
        if isinstance(value, list):
            return [visit(v) for v in value]
        return value

    renamed: list[Any] = visit(copy.deepcopy(entries))
    return renamed


def fhir_bundle(*, personal_only: bool = False) -> dict[str, Any]:
    """The example bundle with planted personal data, plus one copy of its entries per leaf and
    kind of planted value, with that value in that leaf (ids kept apart per copy)."""
    bundle = json.loads((EXAMPLES / "fhir-bundle.json").read_text(encoding="utf-8"))
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["name"][0]["family"] = NAME
    patient["name"][0]["given"] = [GIVEN_NAME]
    patient["birthDate"] = ISO_BIRTH_DATE
    patient["identifier"][0]["value"] = BSNS[0]
    patient["address"][0]["postalCode"] = POSTCODES[0]
    base = bundle["entry"]
    if personal_only:
        return bundle
    entries = list(base)
    leaves = [p for p in _leaves(base) if p[-1] not in _FHIR_SKIPPED]
    copies = 0
    for number, leaf in enumerate(leaves):
        for kind in FHIR_KINDS:
            copies += 1
            value = kind[number % len(kind)]
            planted = _renamed(base, f"-{copies}")
            _set(planted, leaf, value)
            entries.extend(planted)
    bundle["entry"] = entries
    return bundle


def write_fhir(root: Path, *, empty: bool = False, xml: bool = False) -> tuple[Path, Path]:
    """The planted bundle (or an empty file) and the example's mapping file under ``root``;
    with ``xml``, the bundle is written as FHIR XML."""
    from tests.adapters.fhir_xml_writer import to_xml

    root.mkdir(parents=True, exist_ok=True)
    path = root / ("bundle.xml" if xml else "bundle.json")
    text = "" if empty else to_xml(fhir_bundle()) if xml else json.dumps(fhir_bundle())
    path.write_text(text, encoding="utf-8")
    mapping = root / "fhir-mapping.toml"
    mapping.write_text(_fhir_mapping(), encoding="utf-8")
    return path, mapping


def with_files(export: Export, change: Callable[[TabularFile], TabularFile]) -> Export:
    """``export`` with every file changed by ``change``."""
    return evolve(export, files=tuple(change(f) for f in export.files))
