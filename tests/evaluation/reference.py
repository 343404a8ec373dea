"""A plain-Python reference for the effect evaluation, written from the docs of
``benzoredux.evaluation.effect`` as loops with :mod:`dateutil.relativedelta`; it shares no code
with the library except the table of WHO DDDs (data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil.relativedelta import relativedelta

from benzoredux import codes

BENZO_PREFIXES = ("N05BA", "N05CD", "N05CF")
WINDOWS = {"short_term": (3, 6), "mid_term": (9, 12), "sustained": (3, 21)}
LEFT = ("deceased", "moved", "changed_gp")


def reference_effect(
    letters: Iterable[Mapping[str, Any]],
    dispensings: Iterable[Mapping[str, Any]],
    evaluation: dt.date,
    patients: Iterable[Mapping[str, Any]] = (),
) -> dict[str, dict[str, Any]]:
    """Per patient: the three stop flags (None when left or not due) and DDD per day."""
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
        result: dict[str, Any] = {"left_reason": status.get(pid, (None,))[0]}
        for name, (a, b) in WINDOWS.items():
            start, end = day + relativedelta(months=a), day + relativedelta(months=b)
            if pid in status or end > evaluation:
                result[name] = None
            else:
                result[name] = sum(r["quantity"] for r in mine if start < r["date"] <= end) <= 0
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
