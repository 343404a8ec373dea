"""Forecast at selection time: how many patients to expect at each step, so a practice can plan
its consult hours before the first letter goes out.

The ratios are the seeds' reference figures, each a field of :class:`ReferenceRatios`:

* about two thirds of chronic users remain eligible after screening (DOMAIN, bijlage 2);
* every eligible patient gets a stop letter with an invitation;
* about two thirds of invited patients come to the evaluation consult (Benzoredux);
* 27% of letter recipients stop in the short term, 14% stay stopped for 21 months (Benzoredux).

The consult time is a planning choice, not a seed figure: 15 minutes per evaluation consult
by default.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
from attrs import field, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux.engine import Engine, Execution

__all__ = ["FORECAST_COLUMNS", "ReferenceRatios", "forecast"]

_share = [validators.ge(0.0), validators.le(1.0)]


@frozen(kw_only=True)
class ReferenceRatios:
    """The step-to-step ratios a forecast uses (defaults from the seeds)."""

    eligible: float = field(default=2 / 3, validator=_share)
    """Share of chronic users still eligible after screening."""
    letters: float = field(default=1.0, validator=_share)
    """Share of eligible patients who get a stop letter."""
    consults: float = field(default=2 / 3, validator=_share)
    """Share of letter recipients (invited) who come to the evaluation consult."""
    short_term_stop: float = field(default=0.27, validator=_share)
    """Share of letter recipients who stop 3-6 months after the letter."""
    sustained_stop: float = field(default=0.14, validator=_share)
    """Share of letter recipients still stopped after 21 months."""
    consult_minutes: float = field(default=15.0, validator=validators.ge(0))
    """Minutes planned per evaluation consult."""


FORECAST_COLUMNS = (
    "chronic_users",
    "expected_eligible",
    "expected_letters",
    "expected_consults",
    "expected_short_term_stoppers",
    "expected_sustained_stoppers",
    "consult_hours",
)
"""The columns :func:`forecast` adds (after ``gp_id``)."""


def forecast(
    counts: IntoFrame, *, ratios: ReferenceRatios | None = None, engine: Engine = "auto"
) -> Any:
    """Expected patients per step, per GP and in total, from chronic users per GP.

    :param counts: ``gp_id`` and ``chronic_users`` (the result of
        :func:`benzoredux.count_per_gp`).
    :returns: ``level``, ``gp_id`` and :data:`FORECAST_COLUMNS`; expectations are fractional
        (an expectation, not a count), the total row sums the GPs.

    >>> import pandas as pd
    >>> result = forecast(pd.DataFrame({"gp_id": ["G1"], "chronic_users": [60]}))
    >>> result.loc[0, ["expected_eligible", "expected_consults", "consult_hours"]].tolist()
    [40.0, 26.666666666666664, 6.666666666666666]
    """
    r = ratios or ReferenceRatios()
    execution = Execution.for_input(counts, engine)
    lazy = execution.lazy(counts, "counts")
    columns = lazy.collect_schema()
    missing = [c for c in ("gp_id", "chronic_users") if c not in columns]
    if missing:
        raise ValueError(
            f"forecast: counts need column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(columns)}"
        )
    rows = lazy.select(nw.col("gp_id").cast(nw.String), nw.col("chronic_users").cast(nw.Int64))
    per_gp = rows.with_columns(level=nw.lit("gp"), _order=nw.lit(0))
    total = rows.select(nw.col("chronic_users").sum()).with_columns(
        level=nw.lit("total"), gp_id=nw.lit(None, nw.String), _order=nw.lit(1)
    )
    combined = nw.concat([per_gp, total.select(per_gp.collect_schema().names())], how="vertical")
    users = nw.col("chronic_users").cast(nw.Float64)
    letters = users * (r.eligible * r.letters)
    consults = letters * r.consults
    result = combined.with_columns(
        nw.col("chronic_users").fill_null(0).cast(nw.Int64),
        expected_eligible=users * r.eligible,
        expected_letters=letters,
        expected_consults=consults,
        expected_short_term_stoppers=letters * r.short_term_stop,
        expected_sustained_stoppers=letters * r.sustained_stop,
        consult_hours=consults * (r.consult_minutes / 60),
    )
    output = ["level", "gp_id", *FORECAST_COLUMNS]
    return execution.finish(result.sort("_order", "gp_id", nulls_last=True).select(output))
