"""A plain-Python reference for :func:`benzoredux.select_chronic_users`.

Written from ``shared/DOMAIN.md`` (selection rules, bijlage 1) and the docstrings of
``benzoredux.selection`` only, as loops over a list of dicts with :mod:`datetime` and
:mod:`dateutil.relativedelta`. It deliberately shares no code path with the library: the code
lists are hard-coded here from DOMAIN.md, not read from the library's data files, so a wrong
code list in the package shows up as a disagreement too. The one exception is the table of WHO
DDDs and the list of dosage forms, which are data (``codes.ddd_table()``, ``codes.dosage_forms()``)
and which the reference reads rather than retyping 45 numbers.

It is slow and obvious on purpose: the property tests hold the vectorised library against it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil.relativedelta import relativedelta

from benzoredux import codes

# DOMAIN.md, "Selection rules": benzodiazepines are N05BA, N05CD and N05CF.
BENZO_PREFIXES = ("N05BA", "N05CD", "N05CF")

# DOMAIN.md: complex co-medication, in the order the output lists them, with their exceptions.
COMPLEX_GROUPS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("L", "L", frozenset()),
    ("M03", "M03", frozenset()),
    ("M09A", "M09A", frozenset({"M09AA01"})),  # hydroquinine is not complex
    # Paracetamol + codeine is not complex, under the module's code and today's (issue 14).
    ("N02A", "N02A", frozenset({"N02AA59", "N02AJ06"})),
    ("N03", "N03", frozenset()),  # includes clonazepam N03AE01
    ("N05A", "N05A", frozenset()),
)


def is_benzo(atc: str) -> bool:
    """DOMAIN.md: an ATC code starting with N05BA, N05CD or N05CF (clonazepam is not one)."""
    return any(atc.startswith(prefix) for prefix in BENZO_PREFIXES)


# Issue 14 (docs/domain/codes.rst): the other codeine combinations that left N02AA59 in 2017
# are exceptions too unless exempt_other_codeine_combinations=False; gabapentin and pregabalin,
# anti-epileptics when the module was written, are N03 unless gabapentinoids_as_antiepileptics
# is False.
OTHER_CODEINE_COMBINATIONS = frozenset({"N02AJ07", "N02AJ08", "N02AJ09"})
GABAPENTINOIDS = frozenset({"N02BF01", "N02BF02"})


def complex_groups_of(
    atc: str,
    *,
    exempt_other_codeine_combinations: bool = True,
    gabapentinoids_as_antiepileptics: bool = True,
) -> list[str]:
    """The complex co-medication groups ``atc`` falls in."""
    found = []
    for name, prefix, exceptions in COMPLEX_GROUPS:
        in_group = atc.startswith(prefix)
        if name == "N03" and gabapentinoids_as_antiepileptics and atc in GABAPENTINOIDS:
            in_group = True
        excepted = exceptions
        if name == "N02A" and exempt_other_codeine_combinations:
            excepted = exceptions | OTHER_CODEINE_COMBINATIONS
        if in_group and atc not in excepted:
            found.append(name)
    return found


def is_counted_form(form: str | None, extra_forms: Mapping[str, bool] | None = None) -> bool:
    """Units count as tablets when the form is unknown or a solid oral form."""
    if form is None:
        return True
    known = {
        **codes.dosage_forms(),
        **{k.strip().lower(): v for k, v in (extra_forms or {}).items()},
    }
    return bool(known.get(form.strip().lower(), False))


def as_day(value: dt.date | dt.datetime) -> dt.date:
    """The calendar day of a date or a (naive) datetime."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value


# docs/domain/tables.rst, "Implausible values" (issue 16): retyped here, not imported.
FUTURE_MARGIN_DAYS = 31
MAX_QUANTITY = 10_000.0


def implausible_rows(
    rows: Iterable[Mapping[str, Any]],
    reference_date: dt.date,
    *,
    today: dt.date,
    max_quantity: float = MAX_QUANTITY,
) -> list[int]:
    """The positions of the rows the library must refuse as implausible, over the whole table
    (not only the window): a date more than 31 days after the later of today and the
    reference date, or a benzodiazepine quantity beyond ``max_quantity`` either way (a return
    too). Other drugs' quantities, NaN and missing values are not this rule's business."""
    latest = max(today, reference_date) + dt.timedelta(days=FUTURE_MARGIN_DAYS)
    bad = []
    for position, row in enumerate(rows):
        quantity = row["quantity"]
        too_many = (
            quantity is not None
            and math.isfinite(float(quantity))
            and abs(float(quantity)) > max_quantity
            and is_benzo(str(row["atc"]))
        )
        if as_day(row["date"]) > latest or too_many:
            bad.append(position)
    return bad


def reference_select_chronic_users(
    rows: Iterable[Mapping[str, Any]],
    reference_date: dt.date,
    *,
    min_units: float = 90,
    window_months: int = 12,
    recent_months: int | None = None,
    exclude_complex: bool = True,
    exempt_other_codeine_combinations: bool = True,
    gabapentinoids_as_antiepileptics: bool = True,
    include_excluded: bool = False,
    stopped_grace_days: float = 60,
    assumed_units_per_day: float = 1.0,
    has_strength_column: bool = True,
) -> list[dict[str, Any]]:
    """The chronic users, one dict per patient, sorted by patient_id.

    ``rows`` are dicts with ``patient_id``, ``date`` (date or naive datetime), ``atc``,
    ``quantity`` and optionally ``form``, ``strength_mg``, ``prescriber_id``, ``days_supply``
    (missing or None: unknown). Each returned dict also carries ``_days_since_unrounded`` (the
    supply estimate before rounding), so that a caller can be lenient exactly at a rounding
    boundary.
    """
    window_start = reference_date - relativedelta(months=window_months)
    window_days = (reference_date - window_start).days
    # The current dose: the same half-open calendar window, recent_months long (documented
    # default: 3 months, or the whole window when that is shorter).
    if recent_months is None:
        recent_months = min(3, window_months)
    recent_start = reference_date - relativedelta(months=recent_months)
    recent_days = (reference_date - recent_start).days
    ddd = codes.ddd_table()

    per_patient: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        day = as_day(row["date"])
        # Half-open window: after the day `window_months` back, up to and including the reference.
        if not (window_start < day <= reference_date):
            continue
        per_patient.setdefault(str(row["patient_id"]), []).append({**row, "day": day})

    result: list[dict[str, Any]] = []
    for patient_id in sorted(per_patient):
        prows = per_patient[patient_id]
        units = 0.0
        n_dispensings = 0
        n_returns = 0
        dispensed_days: list[dt.date] = []
        counted_days: list[dt.date] = []
        prescribed: list[tuple[dt.date, str]] = []
        ddd_total = 0.0
        ddd_missing = False
        recent_total = 0.0
        recent_missing = False
        groups_seen: set[str] = set()
        for row in prows:
            atc = row["atc"]
            qty = float(row["quantity"])
            if qty > 0:
                groups_seen.update(
                    complex_groups_of(
                        atc,
                        exempt_other_codeine_combinations=exempt_other_codeine_combinations,
                        gabapentinoids_as_antiepileptics=gabapentinoids_as_antiepileptics,
                    )
                )
            if not is_benzo(atc):
                continue
            counted = is_counted_form(row.get("form"))
            if qty > 0:
                n_dispensings += 1
                dispensed_days.append(row["day"])
                if row.get("prescriber_id") is not None:
                    prescribed.append((row["day"], str(row["prescriber_id"])))
            if qty < 0:
                n_returns += 1
            if counted:
                units += qty
                if qty > 0:
                    counted_days.append(row["day"])
                strength = row.get("strength_mg") if has_strength_column else None
                ddd_mg = ddd.get(atc)
                recent = recent_start < row["day"] <= reference_date
                if strength is None or ddd_mg is None:
                    ddd_missing = True
                    recent_missing = recent_missing or recent
                else:
                    ddd_total += qty * float(strength) / ddd_mg
                    if recent:  # returns subtract here too
                        recent_total += qty * float(strength) / ddd_mg

        if not units > min_units:  # "more than": 90 is not chronic, 91 is
            continue

        # Attribution: the prescriber of the latest dispensing naming one; ties: smallest id.
        gp_id = None
        if prescribed:
            latest = max(day for day, _ in prescribed)
            gp_id = min(p for day, p in prescribed if day == latest)

        # Supply estimate (docstring of selection._supply_estimate, as the brief restates it).
        last_day = max(counted_days)
        first_day = min(counted_days)
        last_units = 0.0
        before_units = 0.0
        # The last day's rows with days of supply: their days (a return's taken off) and units.
        given_days = given_units = 0.0
        for row in prows:
            if not (is_benzo(row["atc"]) and is_counted_form(row.get("form"))):
                continue
            if row["day"] == last_day:
                last_units += float(row["quantity"])
                if row.get("days_supply") is not None:
                    sign = -1.0 if float(row["quantity"]) < 0 else 1.0
                    given_days += sign * float(row["days_supply"])
                    given_units += float(row["quantity"])
            elif row["day"] < last_day:
                before_units += float(row["quantity"])
        span = (last_day - first_day).days
        # Observed rate: units before the last day, used up over the span first -> last day.
        observed = span > 0 and before_units > 0
        rate = before_units / span if observed else assumed_units_per_day
        # Units with days of supply last the later of their days and units / rate.
        by_rate = given_units / rate
        supply_days = max((last_units - given_units) / rate + max(given_days, by_rate), 0.0)
        days_since = (reference_date - last_day).days - supply_days
        days_since_rounded = round(days_since, 1)

        groups = [name for name, _, _ in COMPLEX_GROUPS if name in groups_seen]
        complex_text = ", ".join(groups)
        excluded_because = None
        if exclude_complex and complex_text:
            excluded_because = f"complex co-medication: {complex_text}"
        if excluded_because is not None and not include_excluded:
            continue

        out: dict[str, Any] = {
            "patient_id": patient_id,
            "gp_id": gp_id,
            "gp_source": "prescriber" if gp_id is not None else None,
            "units": units,
            "n_dispensings": n_dispensings,
            "n_returns": n_returns,
            "first_date": min(dispensed_days) if dispensed_days else None,
            "last_date": max(dispensed_days) if dispensed_days else None,
            "ddd_per_day": None if ddd_missing else ddd_total / window_days,
            # Nothing dispensed recently: 0; more returned than dispensed there: 0, not negative.
            "ddd_per_day_recent": None if recent_missing else max(recent_total, 0.0) / recent_days,
            "days_since_supply_end": days_since_rounded,
            "probably_stopped": days_since_rounded > stopped_grace_days,
            "complex_groups": complex_text,
            "_days_since_unrounded": days_since,
        }
        if include_excluded:
            out["excluded_because"] = excluded_because
        result.append(out)
    return result
