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

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import (
    COMBINED_NAME,
    EXCEL_SUFFIXES,
    RawTable,
    ReadError,
    ReadResult,
    SourceMapping,
    raw_table,
    split_name_column,
)
from benzoredux_adapters._column_names import DUTCH_NAMES
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._sources import source_files
from benzoredux_adapters._tabular import (
    TEXT_SUFFIXES,
    before_name_split,
    best_header,
    best_header_score,
    mapped_layout,
    mapping_of,
    missing_signature,
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
    COMBINED_NAME: DUTCH_NAMES[COMBINED_NAME],
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


RECOGNISED = 0.75
"""A file is of a kind when its header has this share of the kind's signature columns."""


def _kind_of(path: Path) -> tuple[str | None, float]:
    """The table a file holds, and how sure the header makes that."""
    scores = {t: best_header_score(path, layout, sig) for t, (layout, sig) in KINDS.items()}
    table = max(scores, key=lambda t: scores[t])
    return (table, scores[table]) if scores[table] >= RECOGNISED else (None, scores[table])


@frozen
class _Recognised:
    """What a file's header says about it (under the layouts and the mapping file)."""

    table: str | None
    """The kind the file is, or ``None`` when no kind's signature is complete enough."""
    nearest: str
    """The kind its header is closest to (the most columns of that kind's layout)."""
    missing: tuple[str, ...]
    """The signature columns of ``nearest`` the header lacks (canonical names)."""
    data: bool
    """Whether the file holds export data: its header has the patient number, or half the
    signature of a kind. A README next to the export has neither."""


def _recognise(path: Path, mapping: SourceMapping | None) -> _Recognised:
    """Which kind of HIS file ``path`` is; the mapping file's column names count too."""
    best: dict[str, tuple[float, list[str] | None]] = {}
    layouts: dict[str, Mapping[str, Sequence[str]]] = {}
    for table, (layout, signature) in KINDS.items():
        layouts[table] = mapped_layout(layout, mapping, table)
        best[table] = best_header(path, layouts[table], signature)
    table = max(best, key=lambda t: best[t][0])
    if best[table][0] >= RECOGNISED:
        return _Recognised(table, table, (), True)

    def nearness(kind: str) -> tuple[int, float]:
        """How many columns of the kind's whole layout the header has, then the score."""
        columns = tuple(layouts[kind])
        lacking = missing_signature(best[kind][1] or [], layouts[kind], columns)
        return (len(columns) - len(lacking), best[kind][0])

    nearest = max(best, key=nearness)
    record = best[nearest][1] or []
    nearest_layout, signature = layouts[nearest], KINDS[nearest][1]
    has_patient = any(
        not missing_signature(r or [], layouts[t], ("patient_id",)) for t, (_, r) in best.items()
    )
    data = has_patient or any(score >= 0.5 for score, _ in best.values())
    lacking = tuple(missing_signature(record, nearest_layout, signature))
    return _Recognised(None, nearest, lacking, data)


def _files(source: Path) -> list[Path]:
    return source_files(source, TEXT_SUFFIXES | EXCEL_SUFFIXES)


def _lacking(kind: _Recognised) -> str:
    """Why a file that looks like export data is not read: the columns its kind needs."""
    layout = KINDS[kind.nearest][0]
    missing = ", ".join(f"{layout[c][0]!r} ({c})" for c in kind.missing)
    return f"looks like the HIS {_FILE_NAMES[kind.nearest]} but lacks the column(s) {missing}"


_FILE_NAMES = {
    "dispensings": "prescriptions file",
    "episodes": "episodes file",
    "patients": "patient register",
}


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
        """Read every file of the export into the table its header shows.

        A file of the folder that is not read is never passed over in silence: it is counted
        in ``ignored["unread files"]`` with a note saying why. A file that holds export data
        (it has the patient number) but lacks columns its kind needs is an error in strict
        mode, naming the file and the columns; a file that is no export at all (a README) is
        only noted.
        """
        mapping = mapping_of(options)
        settings = settings_for(mapping, options)
        raws: list[RawTable] = []
        notes: list[str] = []
        lacking: list[str] = []
        unread = 0
        for path in _files(source):
            kind = _recognise(path, mapping)
            table = kind.table
            if table is None and mapping is not None and mapping.table is not None:
                table = mapping.table
            if table is None:
                reason = _lacking(kind) if kind.data else "not a HIS file this reader knows"
                if not source.is_dir():
                    raise ReadError(
                        f"{path.name}: {reason}; the header is not that of a HIS prescriptions, "
                        "episodes or patients file; name its columns in a mapping file "
                        '(format = "his", [columns.<table>] or table = "...")'
                    )
                notes.append(f"{path.name}: {reason}; not read")
                unread += 1
                if kind.data:
                    lacking.append(f"{path.name}: {reason}")
                continue
            layout, signature = KINDS[table]
            text = read_table_file(path, mapping, layout=layout, signature=signature, table=table)
            raw, more = raw_table(text, table, layout, mapping=mapping, settings=settings)
            # A combined name column ("Vries, A. de") becomes the name parts the letters need.
            raw, named = split_name_column(before_name_split(raw))
            raws.append(raw)
            notes.extend([*more, *named])
        if lacking and options.get("strict", True):
            raise ReadError(
                f"{source.name} (his): {len(lacking)} file(s) of the export cannot be read, so "
                "their rows would be missing:\n"
                + "\n".join(lacking)
                + '\nname the columns in a mapping file (format = "his", [columns.patients] '
                '"Export name" = "canonical_name"), or read with strict=False to go on without '
                "these files (they are counted in ignored['unread files'])"
            )
        if not raws:
            raise ReadError(
                f"{source.name} (his): no file of the export could be read:\n"
                + "\n".join(notes or ["the folder holds no .csv, .txt, .tsv or .xlsx file"])
            )
        return reader_result(
            self.name,
            source,
            raws,
            options,
            notes=notes,
            ignored={"unread files": unread} if unread else None,
        )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the HIS reader."""
    register(HisReader())
