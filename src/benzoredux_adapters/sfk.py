"""Reader for SFK lists: the per-GP lists of long-term and new benzodiazepine users.

A pharmacist prints these lists from SFK (Stichting Farmaceutische Kengetallen) for the FTO
group, and exports them as a spreadsheet. SFK does not publish an export layout; this reader
expects the one below (any case), with one row per patient and substance and a ``Lijst`` column
saying which list the row is on; title lines above the header (``Benzodiazepinegebruik per
huisarts``, ``Periode: ...``) are skipped. A mapping file (``format = "sfk"``) names columns
that differ.

SFK lists give totals, not single dispensings, so each row becomes **one dispensings row**:
``Aantal eenheden`` on the date of the last dispensing (long-term list) or the first (new-user
list), prescribed by the listed GP. Selecting chronic users with the list's end date as the
reference date then gives back the long-term list, and the supply estimate ("probably
stopped") starts from the last dispensing, as it should. The dispensings table has one extra
column, ``sfk_list`` (``long_term`` or ``new``): the new users are the rows marked ``new``.
Do not run :func:`benzoredux.select_new_users` on SFK totals: without the single dispensings
before the list period, a long-term user dated on their last dispensing would look new. The
patients table holds patient number, GP, birth date and sex.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.reading import (
    ReadError,
    ReadResult,
    describe_columns,
    distinct_cells,
    raw_table,
    unused_columns_note,
)
from benzoredux_adapters._results import reader_result
from benzoredux_adapters._tabular import (
    best_header_score,
    distinct_rows,
    drop_rows,
    mapping_of,
    read_table_file,
    settings_for,
    text_column,
)

__all__ = ["LAYOUT", "LISTS", "SfkReader", "benzoredux_register_readers"]

LAYOUT: Mapping[str, tuple[str, ...]] = {
    "gp_name": ("Huisarts", "Naam huisarts"),
    "gp_id": ("AGB huisarts", "Huisarts AGB", "Voorschrijver AGB"),
    "sfk_list": ("Lijst", "Soort gebruik", "Gebruikerstype"),
    "patient_id": ("Patientnummer", "Patiëntnummer", "Patientnr", "Pat.nr"),
    "birth_date": ("Geboortedatum", "Geb.datum"),
    "sex": ("Geslacht",),
    "atc": ("ATC", "ATC-code", "ATC code"),
    "first_dispensing": ("Eerste aflevering", "Eerste afleverdatum", "Datum eerste aflevering"),
    "last_dispensing": ("Laatste aflevering", "Laatste afleverdatum", "Datum laatste aflevering"),
    "quantity": ("Aantal eenheden", "Eenheden", "Aantal"),
}
"""The SFK list's columns: canonical name (or the list's own) -> its names in the export."""

LISTS: Mapping[str, str] = {
    "langdurig gebruik": "long_term",
    "langdurige gebruikers": "long_term",
    "chronisch gebruik": "long_term",
    "chronische gebruikers": "long_term",
    "nieuw gebruik": "new",
    "nieuwe gebruikers": "new",
    "startend gebruik": "new",
}
"""``Lijst`` values (any case) -> ``sfk_list``."""

SIGNATURE = ("sfk_list", "patient_id", "atc", "quantity", "gp_id")


class SfkReader:
    """SFK long-term and new-user lists (see the module docstring)."""

    name: str = "sfk"
    description: str = (
        "SFK lists of long-term and new benzodiazepine users per GP (Lijst;Patientnummer;...)"
    )

    def detect(self, source: Path) -> float:
        """Sure when a header (under the title lines) has Lijst, patient, ATC, units, GP."""
        return best_header_score(source, LAYOUT, SIGNATURE)

    def read(self, source: Path, *, options: Mapping[str, Any]) -> ReadResult:
        """Read the lists into dispensings (one row per patient and substance) and patients."""
        mapping = mapping_of(options)
        text = read_table_file(
            source, mapping, layout=LAYOUT, signature=SIGNATURE, table="dispensings"
        )
        settings = settings_for(mapping, options)
        rows, notes = raw_table(
            text,
            "dispensings",
            LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=(
                "sfk_list",
                "patient_id",
                "atc",
                "first_dispensing",
                "last_dispensing",
                "quantity",
                "gp_id",
            ),
        )
        frame = rows.frame
        absent = [
            LAYOUT[c][0]
            for c in ("sfk_list", "first_dispensing", "last_dispensing")
            if c not in frame.columns
        ]
        if absent:
            raise ReadError(
                f"{source.name} (sfk): missing column(s) {', '.join(map(repr, absent))}; "
                f"columns found: {describe_columns(text.header)}"
            )
        # Each distinct list name and date is looked at once (distinct_cells).
        codes, lists = distinct_cells(frame["sfk_list"])
        kinds = lists.astype("string").str.strip().str.casefold().map(LISTS)
        unknown = kinds.isna().to_numpy(dtype=bool)[codes]
        long_term = (kinds == "long_term").fillna(False).to_numpy(dtype=bool)[codes]
        last_codes, last = distinct_cells(frame["last_dispensing"])
        first_codes, first = distinct_cells(frame["first_dispensing"])
        dates = np.concatenate([last.to_numpy(dtype=object), first.to_numpy(dtype=object)])
        date_codes = np.where(long_term, last_codes, first_codes + len(last))
        dispensings = (
            frame.drop(columns=["first_dispensing", "last_dispensing"])
            .rename(columns={"gp_id": "prescriber_id"})
            .assign(
                date=text_column(date_codes, dates, frame.index),
                sfk_list=text_column(codes, kinds.to_numpy(dtype=object), frame.index),
            )
        )
        names = rows.source_columns
        source_columns = {("prescriber_id" if k == "gp_id" else k): v for k, v in names.items()}
        source_columns["date"] = f"{names['last_dispensing']} / {names['first_dispensing']}"
        # The reason names the column, not the value: a swapped column puts names here.
        reason = (
            f"column {names['sfk_list']!r} (sfk_list): not a list this reader knows "
            "(Langdurig gebruik or Nieuw gebruik)"
        )
        dispensing_rows = drop_rows(
            evolve(rows, frame=dispensings, source_columns=source_columns),
            unknown,
            [reason] * int(unknown.sum()),
        )
        patients, _ = raw_table(
            text,
            "patients",
            LAYOUT,
            mapping=mapping,
            settings=settings,
            keep=("patient_id", "gp_id", "birth_date", "sex"),
        )
        # A column is unused only when neither table took it (the patients' birth date and
        # sex are not dispensings columns).
        used = {*rows.source_columns.values(), *patients.source_columns.values()}
        notes = [n for n in notes if "not used" not in n] + unused_columns_note(text, used)
        return reader_result(
            self.name,
            source,
            [dispensing_rows, distinct_rows(patients)],
            options,
            notes=notes,
        )


@hookimpl
def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
    """Register the SFK reader."""
    register(SfkReader())
