"""Spreadsheets the practice already works in: per-GP lists of chronic and new users, and the
screening results with their reasons.

Each GP gets a sheet of their own (the FTO module: each GP screens their own patients, step 2),
with the patient's name and address in front when a patients table has them, so the assistant
can work from the list without looking everybody up. The files are written by
:func:`benzoredux.output.write_xlsx`: private, atomic, and formula-safe (a name like
``=HYPERLINK(...)`` stays text), and for people: Dutch headers and words, rounded numbers, dates
as dates (:mod:`benzoredux.spreadsheets`; the CSV files keep the canonical columns). openpyxl is
needed (the ``schedule`` extra, a dependency).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import narwhals as nw
from narwhals.typing import IntoFrame

from benzoredux.output import write_xlsx

__all__ = [
    "NO_GP",
    "patient_details",
    "per_gp_sheets",
    "write_per_gp_xlsx",
    "write_screening_xlsx",
]

NO_GP = "(geen huisarts)"
"""Sheet title for patients without a GP."""

_NAME_PARTS = ("initials", "name_prefix", "family_name")
_ADDRESS_PARTS = ("street", "house_number")

# The screening columns a GP reads, in this order; the others follow.
_SCREENING_FIRST = (
    "patient_id",
    "decision",
    "eligible",
    "proposed",
    "reasons",
    "excluded_by",
    "undecided",
    "override",
    "override_by",
    "override_at",
    "override_note",
    "ddd_per_day",
    "ddd_per_day_recent",
)


def _pandas(frame: IntoFrame) -> Any:
    native = nw.from_native(cast(Any, frame))
    eager = native.collect() if isinstance(native, nw.LazyFrame) else native
    return eager.to_pandas()


def _joined(table: Any, columns: list[str]) -> Any:
    """The columns' text joined by single spaces (empty parts left out), vectorised."""
    parts = [table[c].astype("string").fillna("") for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.str.cat(part, sep=" ")
    return joined.str.replace(r"\s+", " ", regex=True).str.strip()


def patient_details(patients: IntoFrame, *, address: bool = True) -> Any:
    """Per patient, ``name`` (initials, prefix, family name) and, with ``address``,
    ``address`` (street and number), ``postcode``, ``city`` and ``birth_date``: those the
    patients table has. A pandas frame keyed by ``patient_id`` (text).

    >>> import pandas as pd
    >>> patients = pd.DataFrame({"patient_id": ["p1"], "initials": ["A."],
    ...     "name_prefix": ["van der"], "family_name": ["Meer"], "street": ["Kerkweg"],
    ...     "house_number": ["12a"], "postcode": ["3431 AA"], "city": ["Nieuwegein"]})
    >>> patient_details(patients).iloc[0].to_dict()
    {'patient_id': 'p1', 'name': 'A. van der Meer', 'address': 'Kerkweg 12a', 'postcode': '3431 AA', 'city': 'Nieuwegein'}
    """  # noqa: E501 - a doctest's output line
    table = _pandas(patients)
    out = table[["patient_id"]].astype(str)
    names = [c for c in _NAME_PARTS if c in table.columns]
    if names:
        out["name"] = _joined(table, names)
    if address:
        streets = [c for c in _ADDRESS_PARTS if c in table.columns]
        if streets:
            out["address"] = _joined(table, streets)
        for column in ("postcode", "city", "birth_date"):
            if column in table.columns:
                out[column] = table[column]
    return out.drop_duplicates("patient_id")


def _with_details(frame: Any, patients: IntoFrame | None, *, address: bool = True) -> Any:
    if patients is None:
        return frame
    people = _pandas(patients)
    wanted = people["patient_id"].astype(str).isin(frame["patient_id"].astype(str))
    details = patient_details(people[wanted], address=address)
    if len(details.columns) == 1:
        return frame
    keyed = frame.assign(patient_id=frame["patient_id"].astype(str))
    extra = [c for c in details.columns if c != "patient_id" and c not in keyed.columns]
    merged = keyed.merge(details[["patient_id", *extra]], on="patient_id", how="left")
    return merged[["patient_id", *extra, *(c for c in keyed.columns if c != "patient_id")]]


def per_gp_sheets(frame: IntoFrame, *, patients: IntoFrame | None = None) -> dict[str, Any]:
    """``frame`` split by ``gp_id``: GP to rows (pandas), with the patients' details in front.

    GPs come in sorted order, patients without a GP last under :data:`NO_GP`. An empty frame
    gives one empty sheet, so the workbook still shows the columns.
    """
    table = _with_details(_pandas(frame), patients)
    if "gp_id" not in table.columns:
        return {"Alle patiënten": table}
    gp = table["gp_id"].astype("string").str.strip().replace("", None)
    sheets: dict[str, Any] = {
        str(name): group.reset_index(drop=True)
        for name, group in table.groupby(gp.fillna(NO_GP), sort=True)
        if name != NO_GP
    }
    missing = table[gp.isna()]
    if len(missing) or not sheets:
        sheets[NO_GP if len(missing) else "Geen patiënten"] = missing.reset_index(drop=True)
    return sheets


def write_per_gp_xlsx(
    frame: IntoFrame, path: str | os.PathLike[str], *, patients: IntoFrame | None = None
) -> Path:
    """Write ``frame`` (chronic users, new users, ...) with one sheet per GP.

    :param patients: a :data:`~benzoredux.tables.PATIENTS` table: the name, address, postcode,
        city and birth date go in front of each row when it has them.
    """
    return write_xlsx(per_gp_sheets(frame, patients=patients), path)


def write_screening_xlsx(
    table: IntoFrame, path: str | os.PathLike[str], *, patients: IntoFrame | None = None
) -> Path:
    """Write the screening's table (``Screening.table``) with one sheet per GP: the
    decision, the reasons and the criteria that exclude each patient in front, eligible
    patients first."""
    frame = _pandas(table)
    first = [c for c in _SCREENING_FIRST if c in frame.columns]
    frame = frame[[*first, *(c for c in frame.columns if c not in first)]]
    if "eligible" in frame.columns:
        frame = frame.sort_values(["eligible", "patient_id"], ascending=[False, True])
    return write_per_gp_xlsx(frame, path, patients=patients)
