"""Column names that Dutch pharmacy (AIS) and GP (HIS) exports share, per canonical column.

The layouts of :mod:`benzoredux_adapters.ais` and :mod:`benzoredux_adapters.his` take these
from here, so a name added for one export (a new spelling of the patient number) is known to
both. Columns whose names differ per export stay in that reader's own layout.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DUTCH_NAMES"]

DUTCH_NAMES: Mapping[str, tuple[str, ...]] = {
    "patient_id": ("Patientnummer", "Patiëntnummer", "Patientnr", "Pat.nr", "Patient-ID"),
    "atc": ("ATC", "ATC-code", "ATC code"),
    "strength_mg": ("Sterkte (mg)", "Sterkte mg", "Sterkte"),
    "birth_date": ("Geboortedatum", "Geb.datum"),
    "sex": ("Geslacht",),
    "initials": ("Voorletters",),
    "name_prefix": ("Tussenvoegsel", "Voorvoegsel"),
    "street": ("Straat", "Straatnaam"),
    "house_number": ("Huisnummer",),
    "postcode": ("Postcode",),
    "city": ("Woonplaats", "Plaats"),
    "bsn": ("BSN", "Burgerservicenummer"),
    # A combined name ("Vries, A. de"), split into the name parts
    # (benzoredux.reading.names.split_name_column).
    "name": ("Naam", "Patiëntnaam", "Patientnaam", "Naam patiënt", "Naam patient"),
}
"""Canonical column -> the names both exports use for it (matched ignoring case)."""
