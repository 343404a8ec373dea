"""Effect evaluation (FTO module, bijlage 4): who stopped after the stop letter, and by how much
the others cut down, from the dispensings that follow the letter.

The measures, each relative to a patient's own letter date and each a documented default of
:class:`EffectDefinitions`:

* **short-term stopper**: no benzodiazepine dispensed from 3 to 6 months after the letter (the
  Benzoredux trial's short-term outcome: 27% of letter recipients);
* **stopper at 9-12 months**: no benzodiazepine dispensed from 9 to 12 months after the letter
  (bijlage 4's "percentage stoppers");
* **sustained stopper**: no benzodiazepine dispensed from 3 months after the letter to the end
  of a chosen follow-up, 21 months by default (Benzoredux: 14% stayed benzodiazepine-free for
  the whole 21 months);
* **reduction among non-stoppers**: DDD per day in the 12 months after the letter against the
  12 months before, among those who did not stop (by default: not sustained stoppers, as the
  seed puts it, "bij diegenen, waarbij het niet lukte op lange termijn geheel te stoppen";
  Benzoredux: use fell by 20%). The group's figure is ``1 - sum(after) / sum(before)``.

A window "from a to b months" runs after ``letter + a months`` up to and including
``letter + b months`` (calendar months; 31 January plus one month is 29 February). "Dispensed"
nets out returns: a patient whose benzodiazepine units in the window sum to zero or less
received none. Dispensings after the evaluation date are ignored.

**Censoring** (bijlage 4: "houd rekening met patiënten die overleden, verhuisd en/of van
huisarts veranderd zijn"): a patient whose status in the patients table is ``deceased``,
``moved`` or ``changed_gp`` with a ``status_date`` on or before the evaluation date leaves every
denominator, and is counted under that reason. A measure whose window has not ended by the
evaluation date is *not due* for that patient and is counted as such. Every rate comes per GP
and in total with a 95% Wilson interval (:mod:`benzoredux.evaluation.stats`) next to the
reference figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import narwhals as nw
from attrs import field, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux import codes
from benzoredux.dates import DateLike, epoch_day, epoch_days, parse_reference_date
from benzoredux.engine import Engine, Execution
from benzoredux.evaluation.letters import letters_lazy
from benzoredux.evaluation.months import month_offset_days, month_parts
from benzoredux.evaluation.stats import wilson_expressions
from benzoredux.tables import DISPENSINGS, PATIENTS, DistinctValues, check_rows

__all__ = [
    "LEFT_REASONS",
    "MEASURES",
    "REFERENCE_FIGURES",
    "EffectDefinitions",
    "EffectEvaluation",
    "evaluate_effect",
]

MEASURES = ("short_term_stop", "mid_term_stop", "sustained_stop", "ddd_reduction")
"""The measures of the summary, in its order."""

REFERENCE_FIGURES: Mapping[str, float | None] = {
    "short_term_stop": 0.27,
    "mid_term_stop": None,
    "sustained_stop": 0.14,
    "ddd_reduction": 0.20,
}
"""The Benzoredux trial's results (Gorgels et al., 2002, as the FTO module reports them): 27% of
letter recipients stopped 3-6 months after the letter, 14% stayed benzodiazepine-free for the
whole 21-month follow-up, and among the others use fell by 20%. The trial reports no figure for
9-12 months."""

LEFT_REASONS = ("deceased", "moved", "changed_gp")
"""Patient statuses that take a patient out of the denominators."""

_DISPENSING_COLUMNS = ("patient_id", "date", "atc", "quantity", "strength_mg")


def _window(_instance: object, attribute: Any, value: tuple[int, int]) -> None:
    start, end = value
    if not 0 <= start < end:
        raise ValueError(f"{attribute.name}: need 0 <= start < end months, got {value}")


@frozen(kw_only=True)
class EffectDefinitions:
    """The definitions of the effect measures (months count from each patient's letter date)."""

    short_term: tuple[int, int] = field(default=(3, 6), converter=tuple, validator=_window)
    """Window of the short-term stop: no benzodiazepine from 3 to 6 months after the letter."""
    mid_term: tuple[int, int] = field(default=(9, 12), converter=tuple, validator=_window)
    """Window of bijlage 4's stop: no benzodiazepine from 9 to 12 months after the letter."""
    sustained: tuple[int, int] = field(default=(3, 21), converter=tuple, validator=_window)
    """Window of the sustained stop: from 3 months after the letter to the end of follow-up
    (Benzoredux followed patients for 21 months)."""
    ddd_months: int = field(default=12, validator=validators.ge(1))
    """Length of the windows before and after the letter compared for the reduction."""
    non_stoppers: Literal["short_term", "mid_term", "sustained"] = field(
        default="sustained", validator=validators.in_(("short_term", "mid_term", "sustained"))
    )
    """Who counts as a non-stopper for the reduction: not a stopper by this measure."""
    engine: Engine = "auto"
    """Where the computation runs (see :mod:`benzoredux.engine`)."""


@frozen
class EffectEvaluation:
    """The effect evaluation: one row per letter recipient, and the rates per GP and in total.

    Both frames are of the kind of the dispensings passed (lazy in, lazy out).
    """

    per_patient: Any
    """``patient_id``, ``gp_id``, ``letter_date``, ``left_reason`` and ``left_date`` (empty while
    the patient counts), ``short_term_stop``, ``mid_term_stop``, ``sustained_stop`` (true/false;
    empty when left or not due), ``ddd_per_day_before``, ``ddd_per_day_after`` (empty when a
    strength or a DDD is unknown, or the window is not due), ``non_stopper``."""
    summary: Any
    """One row per measure and GP, then per measure in total (``gp_id`` empty, ``level``
    ``total``): ``events``, ``evaluated``, ``rate``, ``ci_low``, ``ci_high``, ``reference``,
    ``not_due``, ``ddd_unknown`` and ``left_deceased``, ``left_moved``, ``left_changed_gp``.
    For ``ddd_reduction``, ``evaluated`` counts the non-stoppers with known DDDs before and
    after and some use before the letter, ``rate`` is the reduction, ``events`` and the interval
    are empty, and ``ddd_unknown`` counts the patients whose DDDs are unknown (a strength or a
    substance's DDD missing); it is 0 on the stop measures, which do not need DDDs."""
    definitions: EffectDefinitions


def evaluate_effect(
    letters: IntoFrame,
    dispensings: IntoFrame,
    evaluation_date: DateLike,
    *,
    patients: IntoFrame | None = None,
    **options: Any,
) -> EffectEvaluation:
    """Evaluate the effect of the stop letters from the dispensings before and after them.

    :param letters: the stop letters sent, one row per patient: ``patient_id``, ``letter_date``
        and optionally ``gp_id`` (see :data:`~benzoredux.evaluation.letters.LETTERS_SENT`).
    :param dispensings: a :data:`~benzoredux.tables.DISPENSINGS` table covering the
        ``ddd_months`` before the first letter up to the evaluation date.
    :param evaluation_date: the day of the evaluation; later dispensings are ignored.
    :param patients: optional :data:`~benzoredux.tables.PATIENTS` table with ``status`` and
        ``status_date``: who died, moved or changed GP.
    :param options: any field of :class:`EffectDefinitions`.

    >>> import pandas as pd
    >>> letters = pd.DataFrame({"patient_id": ["a", "b"], "gp_id": ["G1", "G1"],
    ...                         "letter_date": pd.to_datetime(["2024-01-15", "2024-01-15"])})
    >>> dispensings = pd.DataFrame({
    ...     "patient_id": ["a", "b", "b"],
    ...     "date": pd.to_datetime(["2023-12-01", "2023-12-01", "2024-05-01"]),
    ...     "atc": ["N05BA04"] * 3, "quantity": [30.0, 30.0, 30.0]})
    >>> result = evaluate_effect(letters, dispensings, "2025-06-30")
    >>> result.per_patient[["patient_id", "short_term_stop", "mid_term_stop"]]
      patient_id short_term_stop mid_term_stop
    0          a            True          True
    1          b           False          True
    """
    definitions = EffectDefinitions(**options)
    evaluation = parse_reference_date(evaluation_date, name="evaluation_date")
    execution = Execution.for_input(dispensings, definitions.engine)
    per_patient = _per_patient(execution, letters, dispensings, patients, evaluation, definitions)
    # One row per letter: computed once here, not again by each part of the summary.
    per_patient = execution.reuse(per_patient)
    summary = _summary(execution.on_client(per_patient), definitions)
    return EffectEvaluation(
        per_patient=execution.finish(per_patient.sort("patient_id")),
        summary=execution.finish(summary),
        definitions=definitions,
    )


def _offset(months: int) -> nw.Expr:
    return month_offset_days("_letter", months)


def _per_patient(  # noqa: PLR0917 - private, called once
    execution: Execution,
    letters: IntoFrame,
    dispensings: IntoFrame,
    patients: IntoFrame | None,
    evaluation: dt.date,
    definitions: EffectDefinitions,
) -> nw.LazyFrame[Any]:
    sent = letters_lazy(execution, letters)
    DISPENSINGS.check_present(execution.columns(dispensings, "dispensings"))
    lazy = execution.lazy(dispensings, "dispensings", columns=_DISPENSING_COLUMNS)
    schema = lazy.collect_schema()
    distinct = DistinctValues(lazy, scan=execution.scans_parquet(dispensings))
    check_rows(
        dispensings, lazy, DISPENSINGS, execution, used=_DISPENSING_COLUMNS, distinct=distinct
    )
    windows = {
        "short_term": definitions.short_term,
        "mid_term": definitions.mid_term,
        "sustained": definitions.sustained,
    }
    months = definitions.ddd_months
    last_day = epoch_day(evaluation)
    bounds = sent.with_columns(**month_parts("letter_date", "_letter")).with_columns(
        **{f"_{name}_from": _offset(a) for name, (a, _) in windows.items()},
        **{f"_{name}_to": _offset(b) for name, (_, b) in windows.items()},
        _before_from=_offset(-months),
        _after_to=_offset(months),
        _letter=epoch_days(nw.col("letter_date")),
    )
    ddd_mg = nw.col("atc").replace_strict(
        list(codes.ddd_table()),
        list(codes.ddd_table().values()),
        # 0, not None, for a code without a DDD: Dask cannot fill a missing default; a DDD
        # is never 0, so "ddd_mg > 0" tells known from unknown.
        default=0.0,
        return_dtype=nw.Float64,
    )
    strength = (
        nw.col("strength_mg").cast(nw.Float64)
        if "strength_mg" in schema
        else nw.lit(None, nw.Float64)
    )
    benzo = (
        lazy.with_columns(nw.col("atc").cast(nw.String))
        .filter(distinct.atc_in(codes.benzodiazepine_groups()))
        .with_columns(
            nw.col("patient_id").cast(nw.String),
            _day=epoch_days(nw.col("date").cast(nw.Date)),
            _qty=nw.col("quantity").cast(nw.Float64),
            _ddd=nw.when(ddd_mg > 0).then(nw.col("quantity").cast(nw.Float64) * strength / ddd_mg),
        )
        .filter(nw.col("_day") <= last_day)
        .select("patient_id", "_day", "_qty", "_ddd")
    )
    rows = benzo.join(bounds, on="patient_id", how="inner")

    def inside(start: str, end: str) -> nw.Expr:
        return (nw.col("_day") > nw.col(start)) & (nw.col("_day") <= nw.col(end))

    before = inside("_before_from", "_letter")
    after = inside("_letter", "_after_to")
    flagged = rows.with_columns(
        **{
            f"_{name}_qty": nw.when(inside(f"_{name}_from", f"_{name}_to"))
            .then(nw.col("_qty"))
            .otherwise(0.0)
            for name in windows
        },
        _ddd_before=nw.when(before).then(nw.col("_ddd")).otherwise(0.0),
        _ddd_after=nw.when(after).then(nw.col("_ddd")).otherwise(0.0),
        _ddd_unknown=((before | after) & nw.col("_ddd").is_null()).cast(nw.Int64),
    )
    sums = flagged.group_by("patient_id").agg(
        *(nw.col(f"_{name}_qty").sum() for name in windows),
        nw.col("_ddd_before").sum(),
        nw.col("_ddd_after").sum(),
        nw.col("_ddd_unknown").max(),
    )
    result = bounds.join(sums, on="patient_id", how="left").with_columns(
        *(nw.col(f"_{name}_qty").fill_null(0.0) for name in windows),
        nw.col("_ddd_before").fill_null(0.0),
        nw.col("_ddd_after").fill_null(0.0),
        nw.col("_ddd_unknown").fill_null(0),
    )
    result = _attach_left(execution, result, patients, evaluation)
    stays = nw.col("left_reason").is_null()

    def due(name: str) -> nw.Expr:
        return stays & (nw.col(f"_{name}_to") <= last_day)

    chosen = definitions.non_stoppers
    result = result.with_columns(
        **{
            f"{name}_stop": nw.when(due(name)).then(nw.col(f"_{name}_qty") <= 0) for name in windows
        },
        # From the quantity, not by negating the flag: a missing flag on numpy-backed pandas
        # is a float NaN, which has no logical "not".
        non_stopper=nw.when(due(chosen)).then(nw.col(f"_{chosen}_qty") > 0),
    )
    before_days = nw.col("_letter") - nw.col("_before_from")
    after_days = nw.col("_after_to") - nw.col("_letter")
    ddd_known = stays & (nw.col("_ddd_unknown") == 0)
    result = result.with_columns(
        ddd_per_day_before=nw.when(ddd_known).then(nw.col("_ddd_before") / before_days),
        ddd_per_day_after=nw.when(ddd_known & (nw.col("_after_to") <= last_day)).then(
            nw.col("_ddd_after") / after_days
        ),
    )
    return result.select(
        "patient_id",
        "gp_id",
        "letter_date",
        "left_reason",
        "left_date",
        "short_term_stop",
        "mid_term_stop",
        "sustained_stop",
        "ddd_per_day_before",
        "ddd_per_day_after",
        "non_stopper",
    )


def _attach_left(
    execution: Execution,
    result: nw.LazyFrame[Any],
    patients: IntoFrame | None,
    evaluation: dt.date,
) -> nw.LazyFrame[Any]:
    """``left_reason`` and ``left_date`` for patients who left on or before the evaluation."""
    if patients is None:
        return result.with_columns(
            left_reason=nw.lit(None, nw.String), left_date=nw.lit(None, nw.Date)
        )
    table = execution.lazy(patients, "patients")
    columns = table.collect_schema()
    PATIENTS.check_columns(columns)
    check_rows(patients, table, PATIENTS, execution, used=("patient_id", "status", "status_date"))
    if "status" not in columns or "status_date" not in columns:
        raise ValueError(
            "evaluate_effect: the patients table needs status and status_date columns to "
            f"correct for patients who left; columns found: {', '.join(columns)}"
        )
    left = (
        table.select(
            nw.col("patient_id").cast(nw.String),
            nw.col("status").cast(nw.String),
            nw.col("status_date").cast(nw.Date),
        )
        .filter(nw.col("status").is_in(list(LEFT_REASONS)), nw.col("status_date") <= evaluation)
        .select(
            "patient_id",
            nw.col("status").alias("left_reason"),
            nw.col("status_date").alias("left_date"),
        )
    )
    return result.join(left, on="patient_id", how="left")


def _summary(per_patient: nw.LazyFrame[Any], definitions: EffectDefinitions) -> nw.LazyFrame[Any]:
    """Counts per GP and in total, one row per measure, with Wilson intervals."""
    stays = nw.col("left_reason").is_null()
    reduction_base = (
        nw.col("non_stopper").fill_null(value=False)
        & ~nw.col("ddd_per_day_after").is_null()
        & (nw.col("ddd_per_day_before") > 0)
    )
    indicators = per_patient.with_columns(
        nw.col("gp_id").cast(nw.String),
        **{
            f"_{reason}": (nw.col("left_reason") == reason).fill_null(value=False).cast(nw.Int64)
            for reason in LEFT_REASONS
        },
        **{f"_{m}_events": nw.col(m).fill_null(value=False).cast(nw.Int64) for m in MEASURES[:3]},
        **{f"_{m}_evaluated": (~nw.col(m).is_null()).cast(nw.Int64) for m in MEASURES[:3]},
        **{f"_{m}_not_due": (stays & nw.col(m).is_null()).cast(nw.Int64) for m in MEASURES[:3]},
        _ddd_reduction_evaluated=reduction_base.cast(nw.Int64),
        _ddd_unknown=(stays & nw.col("ddd_per_day_before").is_null()).cast(nw.Int64),
        _ddd_reduction_not_due=(
            stays
            & ~nw.col("ddd_per_day_before").is_null()
            & (nw.col("non_stopper").is_null() | nw.col("ddd_per_day_after").is_null())
        ).cast(nw.Int64),
        _before=nw.when(reduction_base).then(nw.col("ddd_per_day_before")).otherwise(0.0),
        _after=nw.when(reduction_base).then(nw.col("ddd_per_day_after")).otherwise(0.0),
    )
    count_columns = [
        *(f"_{reason}" for reason in LEFT_REASONS),
        *(f"_{m}_{part}" for m in MEASURES[:3] for part in ("events", "evaluated", "not_due")),
        "_ddd_reduction_evaluated",
        "_ddd_reduction_not_due",
        "_ddd_unknown",
    ]
    aggregations = [
        *(nw.col(c).sum() for c in count_columns),
        nw.col("_before").sum(),
        nw.col("_after").sum(),
    ]
    per_gp = indicators.group_by("gp_id").agg(*aggregations).with_columns(level=nw.lit("gp"))
    # Aggregates and literals in one select: Dask cannot plan a concatenation holding a
    # frame-wide aggregate with columns added afterwards.
    total = indicators.select(*aggregations, level=nw.lit("total"), gp_id=nw.lit(None, nw.String))
    counts = nw.concat([per_gp, total.select(per_gp.collect_schema().names())], how="vertical")
    counts = counts.with_columns(
        *(nw.col(c).fill_null(0).cast(nw.Int64) for c in count_columns),
        _order=nw.when(nw.col("level") == "gp").then(0).otherwise(1),
    )
    low, high = wilson_expressions("events", "evaluated")
    parts = []
    for rank, measure in enumerate(MEASURES):
        events: nw.Expr
        rate: nw.Expr
        if measure == "ddd_reduction":
            # No count of events: a null of the counts' integer type (a typed null literal
            # cannot be built on numpy-backed pandas).
            counted = nw.col("_ddd_reduction_evaluated")
            events = nw.when(counted < 0).then(counted)
            rate = nw.when(nw.col("_before") > 0).then(1 - nw.col("_after") / nw.col("_before"))
        else:
            events = nw.col(f"_{measure}_events")
            rate = nw.when(nw.col(f"_{measure}_evaluated") > 0).then(
                nw.col(f"_{measure}_events") / nw.col(f"_{measure}_evaluated")
            )
        reference = REFERENCE_FIGURES[measure]
        part = counts.select(
            "level",
            "gp_id",
            "_order",
            nw.lit(rank).alias("_rank"),
            nw.lit(measure).alias("measure"),
            events.alias("events"),
            nw.col(f"_{measure}_evaluated").alias("evaluated"),
            rate.cast(nw.Float64).alias("rate"),
            nw.lit(reference, nw.Float64).alias("reference"),
            nw.col(f"_{measure}_not_due").alias("not_due"),
            (nw.col("_ddd_unknown") if measure == "ddd_reduction" else nw.col("_ddd_unknown") * 0)
            .cast(nw.Int64)
            .alias("ddd_unknown"),
            *(nw.col(f"_{reason}").alias(f"left_{reason}") for reason in LEFT_REASONS),
        )
        if measure == "ddd_reduction":
            part = part.with_columns(
                ci_low=nw.lit(None, nw.Float64), ci_high=nw.lit(None, nw.Float64)
            )
        else:
            part = part.with_columns(ci_low=low, ci_high=high)
        parts.append(part)
    output = [
        "level",
        "gp_id",
        "measure",
        "events",
        "evaluated",
        "rate",
        "ci_low",
        "ci_high",
        "reference",
        "not_due",
        "ddd_unknown",
        *(f"left_{reason}" for reason in LEFT_REASONS),
    ]
    combined = nw.concat([p.select(*output, "_order", "_rank") for p in parts], how="vertical")
    return combined.sort("_order", "_rank", "gp_id", nulls_last=True).select(output)
