"""Reader for a pharmacy system (AIS) dispensing export: one row per dispensing, with prescriber.

No AIS vendor publishes its export layout. This reader expects the layout below (the column
names Dutch pharmacy systems commonly use; each canonical column accepts the names listed, in
any case), and a mapping file (``format = "ais"``) names any column it calls differently.
``;``-separated, decimal comma, dates ``31-12-2025``/``31-12-25``/``2025-12-31``, Windows-1252
or UTF-8 (with or without BOM); Excel workbooks (``.xlsx``) with the same columns work too.

A **return** is either a row with a negative ``Aantal``, or a row with ``Retour`` = ``J``; the
reader makes the latter negative, so it nets out. When the export also carries patient details
(``BSN``, ``Geboortedatum``, ``Geslacht``, name, address), the reader returns a patients table
as well: one row per patient (details that differ between rows of one patient are reported).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import (
    COMBINED_NAME,
    ReadResult,
    distinct_cells,
    raw_table,
    split_name_column,
    unused_columns_note,
)
from benzoredux_adapters._column_names import DUTCH_NAMES
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._tabular import (
    before_name_split,
    best_header_score,
    distinct_rows,
    drop_rows,
    mapping_of,
    read_table_file,
    settings_for,
    text_column,
)

__all__ = ["DISPENSINGS_LAYOUT", "PATIENTS_LAYOUT", "AisReader", "benzoredux_register_readers"]

DISPENSINGS_LAYOUT: Mapping[str, tuple[str, ...]] = {
    "patient_id": DUTCH_NAMES["patient_id"],
    "date": ("Afleverdatum", "Afl.datum", "Datum aflevering"),
    "atc": DUTCH_NAMES["atc"],
    "quantity": ("Aantal", "Aantal eenheden", "Afgeleverd aantal"),
    "strength_mg": DUTCH_NAMES["strength_mg"],
    "form": ("Farmaceutische vorm", "Toedieningsvorm", "Vorm"),
    "prescriber_id": ("Voorschrijver AGB", "AGB voorschrijver", "Voorschrijvercode"),
    "pharmacy_id": ("Apotheek AGB", "AGB apotheek", "Apotheekcode"),
    "return": ("Retour", "Retour (J/N)", "Retourmelding"),
}
"""Canonical column (and ``return``, the J/N return flag) -> the AIS export's column names."""

PATIENTS_LAYOUT: Mapping[str, tuple[str, ...]] = {
    "patient_id": DISPENSINGS_LAYOUT["patient_id"],
    "bsn": DUTCH_NAMES["bsn"],
    "birth_date": DUTCH_NAMES["birth_date"],
    "sex": DUTCH_NAMES["sex"],
    "initials": DUTCH_NAMES["initials"],
    "name_prefix": DUTCH_NAMES["name_prefix"],
    "family_name": ("Achternaam", "Geslachtsnaam"),
    COMBINED_NAME: DUTCH_NAMES[COMBINED_NAME],
    "street": DUTCH_NAMES["street"],
    "house_number": DUTCH_NAMES["house_number"],
    "postcode": DUTCH_NAMES["postcode"],
    "city": DUTCH_NAMES["city"],
    "gp_id": ("Huisarts AGB", "AGB huisarts"),
}
"""Patient details an AIS export may carry on every row -> its column names."""

SIGNATURE = ("patient_id", "date", "atc", "quantity")
_YES = frozenset({"j", "ja", "y", "yes", "1", "true", "x"})
_NO = frozenset({"n", "nee", "no", "0", "false"})


class AisReader:
    """The AIS dispensing export (see the module docstring for its layout)."""

    name: str = "ais"
    description: str = (
        "pharmacy system (AIS) dispensing export: Patientnummer;Afleverdatum;ATC;Aantal;..."
    )

    def detect(self, source: Path) -> float:
        """Sure when the header has the patient, Afleverdatum, ATC and Aantal columns."""
        return best_header_score(source, DISPENSINGS_LAYOUT, SIGNATURE)

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read the export into dispensings (and patients, when it has their details)."""
        mapping = mapping_of(options)
        text = read_table_file(
            source, mapping, layout=DISPENSINGS_LAYOUT, signature=SIGNATURE, table="dispensings"
        )
        settings = settings_for(mapping, options)
        dispensings, notes = raw_table(
            text, "dispensings", DISPENSINGS_LAYOUT, mapping=mapping, settings=settings
        )
        raws = [_apply_return_flag(dispensings)]
        patient_columns = set(PATIENTS_LAYOUT) - {"patient_id"}
        patients, _ = raw_table(
            text,
            "patients",
            PATIENTS_LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=PATIENTS_LAYOUT,
        )
        # A combined name column ("Vries, A. de") becomes the name parts the letters need.
        patients, name_notes = split_name_column(before_name_split(patients))
        if patient_columns & set(patients.frame.columns):
            raws.append(distinct_rows(patients))
            used = set(dispensings.source_columns.values()) | set(patients.source_columns.values())
            notes = [n for n in notes if "not used" not in n]
            notes.extend(unused_columns_note(text, used))
            notes.extend(name_notes)
        return reader_result(
            self.name,
            source,
            raws,
            options,
            notes=notes,
        )


def _apply_return_flag(raw: Any) -> Any:
    """A row flagged ``Retour = J`` is a return: its quantity becomes negative."""
    from attrs import evolve

    if "return" not in raw.frame.columns or "quantity" not in raw.frame.columns:
        # Without Aantal there is nothing to negate: the missing column is reported as such.
        return raw
    # Each distinct flag and quantity is looked at once (distinct_cells): a million rows hold
    # a few of each.
    flag_codes, flags = distinct_cells(raw.frame["return"])
    flag = flags.astype("string").str.strip().str.casefold()
    yes = flag.isin(_YES).to_numpy(dtype=bool)[flag_codes]
    unknown = (flag.notna() & ~flag.isin(_YES | _NO)).to_numpy(dtype=bool)[flag_codes]
    codes, quantities = distinct_cells(raw.frame["quantity"])
    quantity = quantities.astype("string").str.strip()
    negative = quantity.str.startswith("-").fillna(False).to_numpy(dtype=bool)[codes]
    negate = yes & ~negative
    # The quantity as written, trimmed; with a minus sign on a return.
    written = quantity.astype(object).where(quantity.notna(), None).to_numpy(dtype=object)
    minus = ("-" + quantity).astype(object).where(quantity.notna(), None).to_numpy(dtype=object)
    cells = np.concatenate([written, minus])
    chosen = np.where(negate, codes + len(written), codes)
    frame = raw.frame.drop(columns="return").assign(
        quantity=text_column(chosen, cells, raw.frame.index)
    )
    source_name = raw.source_columns.get("return", "Retour")
    # The reason names the column, not the value: a swapped column puts names here.
    reason = f"column {source_name!r} (return): return is not J or N (also ja/nee, 1/0)"
    return drop_rows(evolve(raw, frame=frame), np.asarray(unknown), [reason] * int(unknown.sum()))


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the AIS reader."""
    register(AisReader())
