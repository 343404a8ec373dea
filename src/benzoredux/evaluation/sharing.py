"""Sharing results without patient data: an aggregate export and a mirror report.

A regional care organisation collects the practices' results in a monitoring database and
sends each practice its "spiegelinformatie": where it stands among the others. What leaves the
practice is counts and rates only, per practice and per GP, with no patient identifiers, and
with small counts suppressed so that no single patient can be recognised from a cell.

**The disclosure rule** (:class:`DisclosureRule`) follows OpenSAFELY's for its measures
(``ehrql/measures/disclosure_control.py``): every count of 7 or less becomes 0, then every count
is rounded to the nearest multiple of 5, and every rate is computed from the rounded counts (a
rate with a rounded denominator of 0 is empty). Rounding also the large counts stops a reader
from recovering a suppressed cell by subtracting one total from another. Both numbers are
options. GP ids (AGB codes) are replaced by labels ``huisarts 1``, ``huisarts 2``, ... in the
order of the ids unless the practice chooses to keep them.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import narwhals as nw
from attrs import field, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux.output import write_csv

__all__ = [
    "AGGREGATE_COLUMNS",
    "DisclosureRule",
    "aggregate_export",
    "mirror_report",
    "write_aggregate_csv",
]

AGGREGATE_COLUMNS = ("practice_id", "level", "gp", "measure", "numerator", "denominator", "rate")
"""The columns of the aggregate export."""


@frozen(kw_only=True)
class DisclosureRule:
    """Small-count suppression and rounding for shared aggregates (OpenSAFELY's by default)."""

    threshold: int = field(default=7, validator=validators.ge(0))
    """Counts at or below this become 0."""
    multiple: int = field(default=5, validator=validators.ge(1))
    """Every count is then rounded to the nearest multiple of this."""

    def apply(self, value: int | None) -> int | None:
        """The count as it may be shared.

        >>> rule = DisclosureRule()
        >>> [rule.apply(v) for v in (0, 7, 8, 12, 13, 102)]
        [0, 0, 10, 10, 15, 100]
        """
        if value is None:
            return None
        if value < 0:
            raise ValueError(f"a count cannot be negative: {value}")
        kept = 0 if value <= self.threshold else int(value)
        return int(self.multiple * round(kept / self.multiple))


def _eager(frame: IntoFrame, name: str, columns: Iterable[str]) -> nw.DataFrame[Any]:
    native = nw.from_native(frame)
    eager = native.collect() if isinstance(native, nw.LazyFrame) else native
    missing = [c for c in columns if c not in eager.columns]
    if missing:
        raise ValueError(
            f"aggregate_export: {name} lacks column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(eager.columns)}"
        )
    return eager


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def aggregate_export(
    practice_id: str,
    *,
    effect_summary: IntoFrame | None = None,
    process: IntoFrame | None = None,
    chronic: IntoFrame | None = None,
    rule: DisclosureRule | None = None,
    keep_gp_ids: bool = False,
) -> Any:
    """The practice's results as counts and rates fit to share (see the module docstring).

    :param practice_id: how the practice is known in the monitoring database.
    :param effect_summary: ``EffectEvaluation.summary`` of
        :func:`~benzoredux.evaluation.effect.evaluate_effect`: each stop measure as events over
        evaluated patients; ``ddd_reduction`` as the reduction over the non-stoppers counted.
        A summary with the plain stop counts (``events_plain``) also gives each stop measure
        by the plain definition, as ``short_term_stop_plain`` and so on: the figure an earlier
        version shared as ``short_term_stop``, so practices can be compared either way.
    :param process: :func:`~benzoredux.evaluation.process.evaluate_process`: letters,
        invitations, consults held, and attendance (patients who came over invitations).
    :param chronic: :func:`~benzoredux.evaluation.indicators.chronic_users_indicator`: chronic
        users per 1,000 listed patients.
    :returns: a pandas DataFrame with :data:`AGGREGATE_COLUMNS`: ``level`` is ``practice`` or
        ``gp``; counts are suppressed and rounded; ``rate`` is recomputed from them.

    >>> import pandas as pd
    >>> process = pd.DataFrame({"level": ["gp", "total"], "gp_id": ["01234567", None],
    ...     "letters_sent": [12, 12], "invitations_sent": [12, 12], "consults_held": [6, 6],
    ...     "patients_consulted": [6, 6], "attendance": [0.5, 0.5]})
    >>> aggregate_export("P1", process=process).query("measure == 'letters_sent'")
      practice_id     level          gp       measure  numerator  denominator  rate
    0          P1        gp  huisarts 1  letters_sent         10         <NA>   NaN
    5          P1  practice         NaN  letters_sent         10         <NA>   NaN
    """
    import pandas as pd

    sdc = rule or DisclosureRule()
    raw: list[tuple[str | None, str, int | None, int | None, float | None]] = []
    # (gp_id or None for the practice, measure, numerator, denominator, raw rate for ratios)
    if effect_summary is not None:
        table = _eager(
            effect_summary,
            "effect_summary",
            ("level", "gp_id", "measure", "events", "evaluated", "rate"),
        )
        plain: list[tuple[str | None, str, int | None, int | None, float | None]] = []
        for row in table.rows(named=True):
            gp = None if row["level"] == "total" else row["gp_id"]
            evaluated = int(row["evaluated"])
            if row["measure"] == "ddd_reduction":
                raw.append((gp, "ddd_reduction", None, evaluated, _number(row["rate"])))
            else:
                raw.append((gp, str(row["measure"]), int(row["events"]), evaluated, None))
                if _number(row.get("events_plain")) is not None:
                    events = int(row["events_plain"])
                    plain.append((gp, f"{row['measure']}_plain", events, evaluated, None))
        raw += plain  # after the measures themselves, in the same order
    if process is not None:
        table = _eager(
            process,
            "process",
            (
                "level",
                "gp_id",
                "letters_sent",
                "invitations_sent",
                "consults_held",
                "patients_consulted",
                "attendance",
            ),
        )
        for row in table.rows(named=True):
            gp = None if row["level"] == "total" else row["gp_id"]
            for measure in (
                "letters_sent",
                "invitations_sent",
                "consults_held",
                "patients_consulted",
            ):
                raw.append((gp, measure, int(row[measure]), None, None))
            invited = int(row["invitations_sent"])
            share = _number(row["attendance"])
            came = round(share * invited) if share is not None else 0
            raw.append((gp, "attendance", came, invited, None))
    if chronic is not None:
        table = _eager(chronic, "chronic", ("level", "gp_id", "chronic_users", "listed_patients"))
        for row in table.rows(named=True):
            gp = None if row["level"] == "total" else row["gp_id"]
            raw.append(
                (
                    gp,
                    "chronic_users_per_1000",
                    int(row["chronic_users"]),
                    int(row["listed_patients"]),
                    None,
                )
            )
    gp_ids = sorted({str(gp) for gp, *_ in raw if gp is not None})
    labels: Mapping[str, str] = (
        {g: g for g in gp_ids}
        if keep_gp_ids
        else {g: f"huisarts {i}" for i, g in enumerate(gp_ids, 1)}
    )
    records = []
    for gp, measure, numerator, denominator, ratio in raw:
        shared_num, shared_den = sdc.apply(numerator), sdc.apply(denominator)
        rate: float | None
        if measure == "ddd_reduction":
            rate = ratio if shared_den else None
        elif shared_num is not None and shared_den is not None:
            scale = 1000 if measure == "chronic_users_per_1000" else 1
            rate = shared_num * scale / shared_den if shared_den else None
        else:
            rate = None
        records.append(
            {
                "practice_id": practice_id,
                "level": "practice" if gp is None else "gp",
                "gp": None if gp is None else labels[str(gp)],
                "measure": measure,
                "numerator": shared_num,
                "denominator": shared_den,
                "rate": rate,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(AGGREGATE_COLUMNS))
    for column in ("numerator", "denominator"):
        frame[column] = frame[column].astype("Int64")
    frame["rate"] = frame["rate"].astype("float64")
    return frame


def write_aggregate_csv(table: IntoFrame, path: str | os.PathLike[str]) -> Path:
    """Write an aggregate export as UTF-8 CSV (private, atomic, formula-safe)."""
    return write_csv(table, path)


def mirror_report(aggregates: IntoFrame, practice_id: str) -> Any:
    """Place one practice among the others (spiegelinformatie), measure by measure.

    :param aggregates: the :func:`aggregate_export` tables of several practices, concatenated.
    :param practice_id: the practice to report on.
    :returns: a pandas DataFrame, one row per practice-level measure with a rate:
        ``measure``, ``rate`` (the practice's), ``peers`` (other practices with a rate),
        ``peer_median``, ``peer_p25``, ``peer_p75``, ``peer_min``, ``peer_max``,
        ``pooled_rate`` (the others' numerators over their denominators), and ``rank``
        (1 = the highest rate among the practice and its peers).
    """
    import pandas as pd

    table = _eager(aggregates, "aggregates", AGGREGATE_COLUMNS)
    rows = [r for r in table.rows(named=True) if r["level"] == "practice"]
    if not any(r["practice_id"] == practice_id for r in rows):
        raise ValueError(f"mirror_report: practice {practice_id!r} is not in the aggregates")
    measures = sorted({r["measure"] for r in rows}, key=lambda m: (m != "short_term_stop", m))
    records = []
    for measure in measures:
        own = [r for r in rows if r["measure"] == measure and r["practice_id"] == practice_id]
        others = [r for r in rows if r["measure"] == measure and r["practice_id"] != practice_id]
        rate = _number(own[0]["rate"]) if own else None
        if rate is None and not any(_number(r["rate"]) is not None for r in others):
            continue
        peer_rates = sorted(v for r in others if (v := _number(r["rate"])) is not None)
        numerators = [
            r["numerator"] for r in others if r["numerator"] is not None and r["denominator"]
        ]
        denominators = [
            r["denominator"] for r in others if r["numerator"] is not None and r["denominator"]
        ]
        pooled = sum(numerators) / sum(denominators) if sum(denominators) else None
        if pooled is not None and measure == "chronic_users_per_1000":
            pooled *= 1000
        quartiles = (
            statistics.quantiles(peer_rates, n=4, method="inclusive")
            if len(peer_rates) >= 2
            else None
        )
        records.append(
            {
                "measure": measure,
                "rate": rate,
                "peers": len(peer_rates),
                "peer_median": statistics.median(peer_rates) if peer_rates else None,
                "peer_p25": quartiles[0] if quartiles else (peer_rates[0] if peer_rates else None),
                "peer_p75": quartiles[2] if quartiles else (peer_rates[0] if peer_rates else None),
                "peer_min": peer_rates[0] if peer_rates else None,
                "peer_max": peer_rates[-1] if peer_rates else None,
                "pooled_rate": pooled,
                "rank": 1 + sum(1 for v in peer_rates if v > rate) if rate is not None else None,
            }
        )
    columns = [
        "measure",
        "rate",
        "peers",
        "peer_median",
        "peer_p25",
        "peer_p75",
        "peer_min",
        "peer_max",
        "pooled_rate",
        "rank",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame
