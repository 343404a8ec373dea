"""Reader for a GP system (HIS) export: prescriptions, ICPC episodes and the patient register.

A HIS export is usually three files, one per kind; pass the folder that holds them (or a single
file). Each file's kind is recognised from its header. No HIS vendor publishes its layout; this
reader expects the column names below (any case), and a mapping file (``format = "his"``,
``[columns.dispensings]``/``[columns.patients]``/``[columns.episodes]`` for names that differ per
file) covers the rest. ``;``-separated, decimal comma, day-first dates, Windows-1252 or UTF-8;
``.xlsx`` works too.

* **Prescriptions** become the dispensings table (a prescription is the GP's side of a
  dispensing; ``Wijze van voorschrijven`` gives the channel the evaluation needs:
  ``Consult``, ``Telefonisch consult``, ``Herhaalrecept``, ``Overig``).
* **Episodes**: ICPC code with start and end date.
* **Patients** (the register): listed GP, birth date, sex, name, address, BSN, and the
  registration status with its date (``Ingeschreven``, ``Overleden``, ``Verhuisd``,
  ``Andere huisarts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import EXCEL_SUFFIXES, RawTable, ReadError, ReadResult, raw_table
from benzoredux_adapters._column_names import DUTCH_NAMES
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._sources import source_files
from benzoredux_adapters._tabular import (
    TEXT_SUFFIXES,
    best_header_score,
    mapping_of,
    read_table_file,
    settings_for,
)

__all__ = [
    "EPISODES_LAYOUT",
    "PATIENTS_LAYOUT",
    "PRESCRIPTIONS_LAYOUT",
    "HisReader",
    "benzoredux_register_readers",
]

_PATIENT = DUTCH_NAMES["patient_id"]

PRESCRIPTIONS_LAYOUT: Mapping[str, tuple[str, ...]] = {
    "patient_id": _PATIENT,
    "date": ("Voorschrijfdatum", "Datum voorschrift", "Receptdatum"),
    "atc": DUTCH_NAMES["atc"],
    "quantity": ("Aantal", "Aantal eenheden", "Hoeveelheid"),
    "strength_mg": DUTCH_NAMES["strength_mg"],
    "form": ("Toedieningsvorm", "Farmaceutische vorm", "Vorm"),
    "prescriber_id": ("Voorschrijver", "Voorschrijver AGB", "Arts"),
    "channel": ("Wijze van voorschrijven", "Voorschrijfwijze", "Contactsoort"),
}
"""Canonical dispensings column -> the HIS prescriptions file's column names."""

EPISODES_LAYOUT: Mapping[str, tuple[str, ...]] = {
    "patient_id": _PATIENT,
    "icpc": ("ICPC", "ICPC-code", "ICPC code", "Episodecode"),
    "start": ("Begindatum", "Startdatum", "Datum begin"),
    "end": ("Einddatum", "Datum einde"),
}
"""Canonical episodes column -> the HIS episodes file's column names."""

PATIENTS_LAYOUT: Mapping[str, tuple[str, ...]] = {
    "patient_id": _PATIENT,
    "gp_id": ("Huisarts", "Eigen huisarts", "Huisarts AGB"),
    "birth_date": DUTCH_NAMES["birth_date"],
    "sex": DUTCH_NAMES["sex"],
    "initials": DUTCH_NAMES["initials"],
    "first_name": ("Roepnaam", "Voornaam"),
    "name_prefix": DUTCH_NAMES["name_prefix"],
    "family_name": ("Achternaam", "Geslachtsnaam"),
    "street": DUTCH_NAMES["street"],
    "house_number": DUTCH_NAMES["house_number"],
    "postcode": DUTCH_NAMES["postcode"],
    "city": DUTCH_NAMES["city"],
    "bsn": DUTCH_NAMES["bsn"],
    "status": ("Inschrijfstatus", "Status"),
    "status_date": ("Datum status", "Statusdatum", "Datum uitschrijving"),
}
"""Canonical patients column -> the HIS patient register's column names."""

KINDS: Mapping[str, tuple[Mapping[str, tuple[str, ...]], tuple[str, ...]]] = {
    "dispensings": (PRESCRIPTIONS_LAYOUT, ("patient_id", "date", "atc", "quantity")),
    "episodes": (EPISODES_LAYOUT, ("patient_id", "icpc", "start")),
    "patients": (PATIENTS_LAYOUT, ("patient_id", "gp_id", "birth_date", "sex", "status")),
}
"""Per table: the layout of its file and the signature columns that recognise it."""


def _kind_of(path: Path) -> tuple[str | None, float]:
    """The table a file holds, and how sure the header makes that."""
    scores = {t: best_header_score(path, layout, sig) for t, (layout, sig) in KINDS.items()}
    table = max(scores, key=lambda t: scores[t])
    return (table, scores[table]) if scores[table] >= 0.75 else (None, scores[table])


def _files(source: Path) -> list[Path]:
    return source_files(source, TEXT_SUFFIXES | EXCEL_SUFFIXES)


class HisReader:
    """The HIS export (see the module docstring for its files and columns)."""

    name: str = "his"
    description: str = (
        "GP system (HIS) export: a folder with prescriptions (Voorschrijfdatum), ICPC episodes "
        "and the patient register, or one of those files"
    )

    def detect(self, source: Path) -> float:
        """Sure for a file, or a folder of files, whose headers are a HIS file kind's."""
        if source.is_dir():
            kinds = [_kind_of(p) for p in _files(source)]
            found = [score for table, score in kinds if table is not None]
            # Other files in the folder (a README) lower the confidence; they are not read.
            return min(found) * len(found) / len(kinds) if found else 0.0
        table, score = _kind_of(source)
        return score if table is not None else 0.0

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read every file of the export into the table its header shows."""
        mapping = mapping_of(options)
        settings = settings_for(mapping, options)
        raws: list[RawTable] = []
        notes: list[str] = []
        for path in _files(source):
            table, _ = _kind_of(path)
            if table is None and mapping is not None and mapping.table is not None:
                table = mapping.table
            if table is None:
                notes.append(f"{path.name}: not a HIS file this reader knows; not read")
                if not source.is_dir():
                    raise ReadError(
                        f"{path.name}: the header is not that of a HIS prescriptions, episodes "
                        "or patients file; name its columns in a mapping file "
                        '(format = "his", table = "...")'
                    )
                continue
            layout, signature = KINDS[table]
            text = read_table_file(path, mapping, layout=layout, signature=signature)
            raw, more = raw_table(text, table, layout, mapping=mapping, settings=settings)
            raws.append(raw)
            notes.extend(more)
        return reader_result(
            self.name,
            source,
            raws,
            options,
            notes=notes,
        )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the HIS reader."""
    register(HisReader())
