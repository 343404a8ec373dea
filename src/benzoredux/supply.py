"""Supply arithmetic shared by the selection and the effect evaluation: which units count as
tablets, how fast a patient uses them, and how far the supply of a run of dispensings reaches.

Why a module of its own: two rules ask the same question of the dispensings, "how long do the
tablets collected last?". The selection asks it to flag patients who probably stopped before
the reference date and, by the NHG definition, to count days of use; the effect evaluation asks
it to tell a patient who stopped from one who still has tablets from earlier dispensings at
hand. If each carried its own copy of the arithmetic, the two answers would drift apart, and a
patient could be "still using" by one and "stopped" by the other on the same data. The rules are
stated once here and on ``docs/domain/selection.rst`` and ``docs/domain/evaluation.rst``:

* **counted units**: only units of solid oral forms give tablets (a row without a form counts;
  a bottle of drops or a rectal tube has no number of days in it);
* **rate of use**: the patient's own rate, the units dispensed before the last dispensing day
  divided by the days from the first to the last dispensing day, or an assumed rate when it
  cannot be observed (a single dispensing day);
* **carry-forward**: a day's units supply ``units / rate`` days from that day on; supply left
  over at a refill carries forward (an early refill does not lose days), and a return (negative
  units) takes its days off again. With ``S_i`` the running total of supply up to and
  including day ``i`` and ``s_i`` the day's own supply, the supply of days up to ``i`` ends at
  ``S_i + max over days j <= i of (day_j - (S_j - s_j))``: the latest of "start on day ``j``
  and use up everything dispensed from then on".

* **days of supply**: where a dispensing carries ``days_supply`` (the days its dosage
  instruction makes it last: MP9's ``daysSupply``, a pharmacy's *dagen voorraad*), it supplies
  those days, signed as its units (a return takes its days off). The NHG days of use take them
  as they are: the definition counts days of use by the instruction, and
  ``nhg_units_per_day`` only stands in for an instruction the data do not give. The estimates
  of when the tablets run out (``days_since_supply_end``, the effect evaluation) take the
  *later* of the two ends, the given days or ``units / rate``: an instruction is written for
  the intended dose (for "zo nodig", the most a patient may take), the rate is what this
  patient did before, and either may be the longer (a lowered dose while tapering, tablets
  taken less often than allowed). Those estimates decide whether a patient is flagged as
  probably stopped or counted as a stopper; like the evaluation's lack of a grace period, they
  do not count a patient as out of tablets while either estimate says there are some left.
  Rows without ``days_supply`` keep ``units / rate``; rows whose units do not count (a bottle
  of drops) give no supply either way.

Everything works on narwhals lazy frames without ordered windows: a running total is a join of
each patient's days to themselves (Dask has no ordered window), which every backend runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import narwhals as nw

from benzoredux import codes
from benzoredux.tables import DistinctValues

__all__ = [
    "DAYS_SUPPLY",
    "counted_expr",
    "given_days_columns",
    "running",
    "supply_days",
    "supply_ends",
    "supply_offsets",
    "use_rate",
]

DAYS_SUPPLY = "days_supply"
"""The optional dispensings column of days of supply (:data:`benzoredux.tables.DISPENSINGS`)."""

GIVEN_DAYS = "_given_days"
GIVEN_UNITS = "_given_units"


def counted_expr(
    columns: Mapping[str, Any], extra_forms: Mapping[str, bool], distinct: DistinctValues
) -> nw.Expr:
    """Whether a row's units count as tablets: no form given, or a solid oral form.

    A table holds a handful of spellings of forms ("Tablet", "tablet ", "capsule"): each one
    present is classified once in Python, normalised as the form rule does (stripped, lower
    case), and rows are matched on their raw text with ``is_in``, instead of stripping and
    lower-casing the text of every row of the window (measured: a quarter of the time of the
    per-row columns on ten million dispensings).
    """
    if "form" not in columns:
        return nw.lit(value=True)
    solid = {f for f, s in {**codes.dosage_forms(), **extra_forms}.items() if s}
    form = nw.col("form")
    if distinct.scan:  # no distinct values read: normalise the (window's) rows themselves
        text = form.cast(nw.String).str.strip_chars().str.to_lowercase()
        return form.is_null() | text.is_in(sorted(solid))
    present = {str(f) for (f,) in distinct.rows(("form",)) if f is not None}
    raw = sorted(f for f in present if f.strip().lower() in solid)
    return form.is_null() | form.cast(nw.String).is_in(raw) if raw else form.is_null()


def given_days_columns(columns: Mapping[str, Any], counted: str, units: str) -> dict[str, nw.Expr]:
    """Per row, where the table has a ``days_supply`` column: ``_given_days``, the row's days
    of supply signed as its units (a return takes its days off), and ``_given_units``, the
    units those days are for; both 0 for a row without days of supply or whose units do not
    count (``counted``, a boolean column). Empty when the table has no such column: the
    estimates are then exactly ``units / rate`` and cost nothing more.

    Summed per patient and day like the units, they feed :func:`supply_days`.
    """
    if DAYS_SUPPLY not in columns:
        return {}
    days = nw.col(DAYS_SUPPLY).cast(nw.Float64)
    amount = nw.col(units).cast(nw.Float64)
    given = nw.col(counted) & ~days.is_null()
    return {
        GIVEN_DAYS: nw.when(given & (nw.col(units) < 0))
        .then(-days)
        .when(given)
        .then(days)
        .otherwise(0.0),
        GIVEN_UNITS: nw.when(given).then(amount).otherwise(0.0),
    }


def supply_days(
    units: nw.Expr,
    rate: nw.Expr | float,
    given: tuple[nw.Expr, nw.Expr] | None,
    *,
    later_end: bool,
) -> nw.Expr:
    """Days of supply of ``units`` (a patient's net units of a day, or of several days) at
    ``rate`` units a day.

    ``given`` is ``(given_days, given_units)``, the sums of :func:`given_days_columns` over the
    same rows, or None for a table without days of supply. The units with given days supply
    those days (``later_end=False``: the NHG days of use) or the larger of those days and
    ``given_units / rate`` (``later_end=True``: the estimates of when the tablets run out; the
    module docstring says why); the other units supply ``units / rate`` days.
    """
    if given is None:
        return units / rate
    given_days, given_units = given
    by_rate = given_units / rate
    days = (
        nw.when(given_days > by_rate).then(given_days).otherwise(by_rate)
        if later_end
        else given_days
    )
    return (units - given_units) / rate + days


def use_rate(before_units: nw.Expr, span: nw.Expr, assumed: float) -> nw.Expr:
    """Units used a day: ``before_units`` (the units dispensed before the last dispensing day)
    over ``span`` (days from the first to the last dispensing day), the patient's own rate.

    Those units were used up between the first and the last dispensing day, or the patient
    would not have come back for more. With a single dispensing day (``span`` 0 or missing) or
    nothing left before the last day once returns are netted, there is nothing to observe, and
    the rate is ``assumed``.
    """
    return nw.when((span > 0) & (before_units > 0)).then(before_units / span).otherwise(assumed)


def running(
    daily: nw.LazyFrame[Any],
    by: str,
    column: str,
    aggregate: Callable[[nw.Expr], nw.Expr],
    name: str,
    *,
    keep: Sequence[str] = (),
) -> nw.LazyFrame[Any]:
    """Per ``by`` and ``_day`` (unique pairs in ``daily``): ``aggregate`` of ``column`` over
    that key's days up to and including the day, as ``name``. A join of each key's days to
    themselves, which every backend runs (Dask has no ordered window).

    ``keep`` names columns of ``daily`` with one value per key and day, carried along: the
    caller then need not join the result back to ``daily``, which an engine that plans every
    reading of a frame anew (DuckDB) would plan a third time.
    """
    return (
        daily.select(by, "_day", *keep)
        .join(
            daily.select(by, nw.col("_day").alias("_day_j"), nw.col(column).alias("_v_j")),
            on=by,
            how="inner",
        )
        .filter(nw.col("_day_j") <= nw.col("_day"))
        .group_by(by, "_day")
        .agg(aggregate(nw.col("_v_j")).alias(name), *(nw.col(c).max() for c in keep))
    )


def supply_offsets(daily: nw.LazyFrame[Any], by: str) -> nw.LazyFrame[Any]:
    """``daily`` (one row per ``by`` and ``_day``, with the day's ``_supply`` in days) with
    ``_total``, the running total of supply up to and including the day, and ``_offset``,
    the day minus the supply dispensed before it.

    The supply of the days up to any day ``i`` ends at ``_total`` of day ``i`` plus the largest
    ``_offset`` of the days up to ``i`` (the module docstring's carry-forward): the caller takes
    that maximum as a running maximum (:func:`supply_ends`) or, for one cut-off day per key, as
    a plain maximum over the days up to the cut-off.
    """
    others = [c for c in daily.collect_schema().names() if c not in {by, "_day"}]
    totals = running(daily, by, "_supply", nw.Expr.sum, "_total", keep=others)
    return totals.with_columns(_offset=nw.col("_day") - (nw.col("_total") - nw.col("_supply")))


def supply_ends(daily: nw.LazyFrame[Any], by: str) -> nw.LazyFrame[Any]:
    """``daily`` as :func:`supply_offsets` gives it, with ``_end``: the day the supply of the
    dispensings up to and including each day runs out (carried forward across refills)."""
    daily = supply_offsets(daily, by)
    others = [c for c in daily.collect_schema().names() if c not in {by, "_day"}]
    reach = running(daily, by, "_offset", nw.Expr.max, "_reach", keep=others)
    return reach.with_columns(_end=nw.col("_total") + nw.col("_reach"))
