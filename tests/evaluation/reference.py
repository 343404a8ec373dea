"""A plain-Python reference for the effect evaluation, written from the docs of
``benzoredux.evaluation.effect`` as loops with :mod:`dateutil.relativedelta`; it shares no code
with the library except the tables of WHO DDDs and of dosage forms (data).

The supply-aware stop is computed the way one would by hand: the rate of use from the
dispensing days up to the letter, then the dispensing days walked in order, each one's tablets
starting when the earlier ones are used up ("carried forward")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil.relativedelta import relativedelta

from benzoredux import codes

BENZO_PREFIXES = ("N05BA", "N05CD", "N05CF")
WINDOWS = {"short_term": (3, 6), "mid_term": (9, 12), "sustained": (3, 21)}
LEFT = ("deceased", "moved", "changed_gp")
SOLID = {form for form, solid in codes.dosage_forms().items() if solid}


def _counted(row: Mapping[str, Any]) -> bool:
    form = row.get("form")
    return form is None or str(form).strip().lower() in SOLID


def reference_rate(
    mine: list[Mapping[str, Any]],
    letter: dt.date,
    through: dt.date,
    assumed: float,
    months: int = 12,
) -> float | None:
    """Tablets used a day, from the counted dispensings in the ``months`` up to the letter:
    units before the last dispensing day over the days from the first to the last. ``None``
    when the patient has no counted dispensing from the start of that period up to
    ``through`` (the start of the latest window: no supply to estimate)."""
    start = letter - relativedelta(months=months)
    net: dict[dt.date, float] = defaultdict(float)
    for row in mine:
        if _counted(row) and start < row["date"] <= through:
            net[row["date"]] += row["quantity"]
    if not net:
        return None
    days = sorted(day for day, units in net.items() if day <= letter and units > 0)
    if len(days) < 2:
        return assumed
    first, last = days[0], days[-1]
    before = sum(units for day, units in net.items() if day < last)
    return before / (last - first).days if before > 0 else assumed


def reference_supply_end(
    mine: list[Mapping[str, Any]], letter: dt.date, until: dt.date, rate: float, months: int = 12
) -> float | None:
    """The day number (``date.toordinal``) on which the tablets of the counted dispensings from
    ``months`` before the letter up to and including ``until`` run out; ``None`` without any."""
    start = letter - relativedelta(months=months)
    net: dict[dt.date, float] = defaultdict(float)
    # Per day, the rows with days of supply (MP9 daysSupply): their days, signed as their
    # units (a return takes its days off), and their units.
    given_days: dict[dt.date, float] = defaultdict(float)
    given_units: dict[dt.date, float] = defaultdict(float)
    for row in mine:
        if _counted(row) and start < row["date"] <= until:
            net[row["date"]] += row["quantity"]
            if row.get("days_supply") is not None:
                sign = -1.0 if row["quantity"] < 0 else 1.0
                given_days[row["date"]] += sign * row["days_supply"]
                given_units[row["date"]] += row["quantity"]
    end: float | None = None
    for day in sorted(net):
        # A day's tablets start when the earlier ones are used up (or on the day itself); a
        # return (negative units) takes its days off again. Units with days of supply last the
        # later of those days and units / rate.
        begin = day.toordinal() if end is None else max(end, day.toordinal())
        by_rate = given_units[day] / rate
        end = begin + (net[day] - given_units[day]) / rate + max(given_days[day], by_rate)
    return end


def reference_effect(
    letters: Iterable[Mapping[str, Any]],
    dispensings: Iterable[Mapping[str, Any]],
    evaluation: dt.date,
    patients: Iterable[Mapping[str, Any]] = (),
    *,
    assumed_units_per_day: float = 1.0,
) -> dict[str, dict[str, Any]]:
    """Per patient: the three stop flags by each definition (None when left or not due), how
    far the supply reached past each window's first day, the rate of use, and DDD per day.

    ``result[window]`` is the plain stop (no dispensing in the window),
    ``result[window + "_supply"]`` the supply-aware one, ``result[window + "_margin"]`` the
    supply's end (less the tablets returned in the window beyond those dispensed in it) minus
    the start of the window's first day (positive: it reaches into it)."""
    rows = list(dispensings)
    status = {
        p["patient_id"]: (p["status"], p["status_date"])
        for p in patients
        if p["status"] in LEFT and p["status_date"] <= evaluation
    }
    ddd = codes.ddd_table()
    out: dict[str, dict[str, Any]] = {}
    for letter in letters:
        pid, day = letter["patient_id"], letter["letter_date"]
        mine = [
            r
            for r in rows
            if r["patient_id"] == pid
            and r["atc"].startswith(BENZO_PREFIXES)
            and r["date"] <= evaluation
        ]
        latest = day + relativedelta(months=max(a for a, _ in WINDOWS.values()))
        rate = reference_rate(mine, day, latest, assumed_units_per_day)
        result: dict[str, Any] = {"left_reason": status.get(pid, (None,))[0], "rate": rate}
        for name, (a, b) in WINDOWS.items():
            start, end = day + relativedelta(months=a), day + relativedelta(months=b)
            supply_end = None if rate is None else reference_supply_end(mine, day, start, rate)
            if supply_end is not None and rate is not None:
                # More tablets returned in the window than dispensed in it: they went back
                # from the supply carried into the window.
                net = sum(r["quantity"] for r in mine if _counted(r) and start < r["date"] <= end)
                supply_end += min(net, 0.0) / rate
            # The window's first day is the day after ``start``; it begins at start + 1.
            margin = None if supply_end is None else supply_end - (start.toordinal() + 1)
            result[f"{name}_margin"] = margin
            if pid in status or end > evaluation:
                result[name] = result[f"{name}_supply"] = None
            else:
                plain = sum(r["quantity"] for r in mine if start < r["date"] <= end) <= 0
                result[name] = plain
                result[f"{name}_supply"] = plain and (margin is None or margin <= 0)
        start, end = day - relativedelta(months=12), day + relativedelta(months=12)
        in_windows = [r for r in mine if start < r["date"] <= end]
        unknown = any(r.get("strength_mg") is None or r["atc"] not in ddd for r in in_windows)
        if pid in status or unknown:
            result["before"] = result["after"] = None
        else:
            total_before = sum(
                r["quantity"] * r["strength_mg"] / ddd[r["atc"]]
                for r in in_windows
                if r["date"] <= day
            )
            total_after = sum(
                r["quantity"] * r["strength_mg"] / ddd[r["atc"]]
                for r in in_windows
                if r["date"] > day
            )
            result["before"] = total_before / (day - start).days
            result["after"] = total_after / (end - day).days if end <= evaluation else None
        out[pid] = result
    return out
