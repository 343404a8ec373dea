"""Effect evaluation (FTO module, bijlage 4): who stopped after the stop letter, and by how much
the others cut down, from the dispensings around the letter.

The measures, each relative to a patient's own letter date and each a documented default of
:class:`EffectDefinitions`:

* **short-term stopper**: no benzodiazepine used from 3 to 6 months after the letter (the
  Benzoredux trial's short-term outcome: 27% of letter recipients);
* **stopper at 9-12 months**: no benzodiazepine used from 9 to 12 months after the letter
  (bijlage 4's "percentage stoppers": patients "die na 9-12 maanden geen benzodiazepinen meer
  gebruikt");
* **sustained stopper**: no benzodiazepine used from 3 months after the letter to the end of a
  chosen follow-up, 21 months by default (Benzoredux: 14% stayed benzodiazepine-free for the
  whole 21 months);
* **reduction among non-stoppers**: DDD per day in the 12 months after the letter against the
  12 months before, among those who did not stop (by default: not sustained stoppers, as the
  seed puts it, "bij diegenen, waarbij het niet lukte op lange termijn geheel te stoppen";
  Benzoredux: use fell by 20%). The group's figure is ``1 - sum(after) / sum(before)``.

A window "from a to b months" runs after ``letter + a months`` up to and including
``letter + b months`` (calendar months; 31 January plus one month is 29 February).

**What "stopped" means** (``stop_definition``). Bijlage 4 counts patients who no longer *use*
benzodiazepines, and tablets collected before a window are used in it. By default
(``"supply"``) a patient stopped in a window when (a) no benzodiazepine was dispensed in it
(returns netted out: units summing to zero or less are none) and (b) no supply from earlier
dispensings reaches into it: the supply of the dispensings from ``use_rate_months`` before the
letter up to the window's start, carried forward across refills at the patient's own rate of
use (:mod:`benzoredux.supply`, the arithmetic the selection uses for
``days_since_supply_end``), runs out by the start of the window's first day. The rate is the
units dispensed before the last dispensing day over the days from the first to the last, both
within the ``use_rate_months`` up to the letter; with a single dispensing day it is
``assumed_units_per_day``. Returns take their days off the supply (those in the window
beyond what was dispensed there, off the supply carried into it). Only units of solid oral
forms give supply; other forms count for (a) only. There is no grace period. The plain
definition (``"plain"``) is (a) alone: "no dispensing", an upper bound of
the stoppers, which the results always carry as well (``*_stop_plain``, ``*_plain``).
Dispensings after the evaluation date are ignored.

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
from benzoredux.evaluation.months import month_parts, with_month_offsets
from benzoredux.evaluation.stats import wilson_expressions
from benzoredux.models import LEFT_PRACTICE
from benzoredux.supply import (
    GIVEN_DAYS,
    GIVEN_UNITS,
    counted_expr,
    given_days_columns,
    supply_days,
    supply_offsets,
    use_rate,
)
from benzoredux.tables import (
    DISPENSINGS,
    MAX_QUANTITY,
    PATIENTS,
    DistinctValues,
    Plausibility,
    check_max_quantity,
    check_rows,
)

__all__ = [
    "LEFT_REASONS",
    "MEASURES",
    "REFERENCE_FIGURES",
    "STOP_DEFINITIONS",
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

LEFT_REASONS = LEFT_PRACTICE
"""Patient statuses that take a patient out of the denominators: those who left the practice
(:data:`benzoredux.models.LEFT_PRACTICE`)."""

STOP_DEFINITIONS = ("supply", "plain")
"""The definitions of a stop: ``supply`` (no dispensing in the window and no supply from earlier
dispensings reaching into it; the default) and ``plain`` (no dispensing in the window: an upper
bound)."""

_DISPENSING_COLUMNS = (
    "patient_id",
    "date",
    "atc",
    "quantity",
    "strength_mg",
    "form",
    "days_supply",
)
_STOPS = MEASURES[:3]


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
    """Who counts as a non-stopper for the reduction: not a stopper by this measure (and by
    ``stop_definition``)."""
    stop_definition: Literal["supply", "plain"] = field(
        default="supply", validator=validators.in_(STOP_DEFINITIONS)
    )
    """What a stop is: ``supply`` (default), no benzodiazepine dispensed in the window and no
    supply from earlier dispensings reaching into it (bijlage 4 counts patients who no longer
    *use* them); ``plain``, no benzodiazepine dispensed in the window (an upper bound: tablets
    collected just before a window last into it). It decides ``*_stop``, ``non_stopper``, the
    summary's ``events`` and ``rate``; the plain definition is always given as well."""
    use_rate_months: int = field(default=12, validator=validators.ge(1))
    """Months up to and including the letter date whose dispensings give the patient's own rate
    of use; the supply carried into a window starts with the dispensings of this period."""
    assumed_units_per_day: float = field(default=1.0, validator=validators.gt(0))
    """Rate of use when it cannot be observed (a single dispensing day in the period): one
    tablet a day, as the selection assumes."""
    extra_forms: Mapping[str, bool] = field(factory=dict, converter=codes.normalise_forms)
    """Dosage-form names to add to the shipped list, each marked solid oral (True) or not, as
    for the selection; an unknown form of a benzodiazepine is refused."""
    max_quantity: float = field(default=MAX_QUANTITY, validator=check_max_quantity)
    """The most units one dispensing (or return) of a benzodiazepine may hold, as for the
    selection; a row beyond it is refused as implausible."""
    engine: Engine = "auto"
    """Where the computation runs (see :mod:`benzoredux.engine`)."""


@frozen
class EffectEvaluation:
    """The effect evaluation: one row per letter recipient, and the rates per GP and in total.

    Both frames are of the kind of the dispensings passed (lazy in, lazy out).
    """

    per_patient: Any
    """``patient_id``, ``gp_id``, ``letter_date``, ``left_reason`` and ``left_date`` (empty while
    the patient counts), ``short_term_stop``, ``mid_term_stop``, ``sustained_stop`` (true/false
    by ``stop_definition``; empty when left or not due), ``ddd_per_day_before``,
    ``ddd_per_day_after`` (empty when a strength or a DDD is unknown, or the window is not
    due), ``non_stopper``, then ``short_term_stop_plain``, ``mid_term_stop_plain``,
    ``sustained_stop_plain`` (the plain definition: no dispensing in the window),
    ``units_per_day`` (the rate of use the supply was estimated with; empty without a counted
    dispensing from ``use_rate_months`` before the letter up to the latest window's start) and
    ``units_per_day_assumed``
    (true when that rate is ``assumed_units_per_day``, not observed)."""
    summary: Any
    """One row per measure and GP, then per measure in total (``gp_id`` empty, ``level``
    ``total``): ``events``, ``evaluated``, ``rate``, ``ci_low``, ``ci_high``, ``reference``,
    ``not_due``, ``ddd_unknown`` and ``left_deceased``, ``left_moved``, ``left_changed_gp``,
    then ``stop_definition`` (what ``events`` and ``rate`` count) and ``events_plain``,
    ``rate_plain``, ``ci_low_plain``, ``ci_high_plain``: the same stop measure by the plain
    definition, an upper bound (equal to ``events`` and ``rate`` when ``stop_definition`` is
    ``plain``). For ``ddd_reduction``, ``evaluated`` counts the non-stoppers with known DDDs
    before and after and some use before the letter, ``rate`` is the reduction, ``events``, the
    interval and the plain columns are empty, and ``ddd_unknown`` counts the patients whose
    DDDs are unknown (a strength or a substance's DDD missing); it is 0 on the stop measures,
    which do not need DDDs."""
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
        ``ddd_months`` and the ``use_rate_months`` (12 each by default) before the first letter
        up to the evaluation date.
    :param evaluation_date: the day of the evaluation; later dispensings are ignored.
    :param patients: optional :data:`~benzoredux.tables.PATIENTS` table with ``status`` and
        ``status_date``: who died, moved or changed GP.
    :param options: any field of :class:`EffectDefinitions`.

    Patient ``a`` collected 30 tablets a month before the letter and nothing since: a stopper
    3-6 months after it. Patient ``b`` took one tablet a day all year and collected 90 the day
    before the 3-month mark: no dispensing from 3 to 6 months (a stopper by the plain
    definition), but those tablets last through month 6, so not a stopper; by 9-12 months
    the supply has run out:

    >>> import pandas as pd
    >>> letters = pd.DataFrame({"patient_id": ["a", "b"], "gp_id": ["G1", "G1"],
    ...                         "letter_date": pd.to_datetime(["2024-01-15", "2024-01-15"])})
    >>> dispensings = pd.DataFrame({
    ...     "patient_id": ["a", "b", "b", "b", "b"],
    ...     "date": pd.to_datetime(
    ...         ["2023-12-15", "2023-07-19", "2023-10-17", "2024-01-15", "2024-04-14"]),
    ...     "atc": ["N05BA04"] * 5, "quantity": [30.0, 90.0, 90.0, 90.0, 90.0]})
    >>> result = evaluate_effect(letters, dispensings, "2025-06-30")
    >>> result.per_patient[["patient_id", "short_term_stop", "short_term_stop_plain",
    ...                     "mid_term_stop"]]
      patient_id  short_term_stop  short_term_stop_plain  mid_term_stop
    0          a             True                   True           True
    1          b            False                   True           True
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
        dispensings,
        lazy,
        DISPENSINGS,
        execution,
        forms=definitions.extra_forms,
        used=_DISPENSING_COLUMNS,
        distinct=distinct,
        plausibility=Plausibility(as_of=evaluation, max_quantity=definitions.max_quantity),
    )
    windows = {
        "short_term": definitions.short_term,
        "mid_term": definitions.mid_term,
        "sustained": definitions.sustained,
    }
    months = definitions.ddd_months
    last_day = epoch_day(evaluation)
    offsets = {
        **{f"_{name}_from": a for name, (a, _) in windows.items()},
        **{f"_{name}_to": b for name, (_, b) in windows.items()},
        "_before_from": -months,
        "_after_to": months,
        "_rate_from": -definitions.use_rate_months,
        # The latest window start: supply is carried forward up to there, no further.
        "_supply_to": max(a for a, _ in windows.values()),
    }
    bounds = with_month_offsets(
        sent.with_columns(**month_parts("letter_date", "_letter")), "_letter", offsets
    ).with_columns(_letter=epoch_days(nw.col("letter_date")))
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
            _counted=counted_expr(schema, definitions.extra_forms, distinct),
        )
        .filter(nw.col("_day") <= last_day)
    )
    given = given_days_columns(schema, "_counted", "_qty")
    if given:
        benzo = benzo.with_columns(**given)
    benzo = benzo.select("patient_id", "_day", "_qty", "_ddd", "_counted", *given)
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
        **{
            f"_{name}_counted_qty": nw.when(
                inside(f"_{name}_from", f"_{name}_to") & nw.col("_counted")
            )
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
        *(nw.col(f"_{name}_counted_qty").sum() for name in windows),
        nw.col("_ddd_before").sum(),
        nw.col("_ddd_after").sum(),
        nw.col("_ddd_unknown").max(),
    )
    result = bounds.join(sums, on="patient_id", how="left").with_columns(
        *(nw.col(f"_{name}_qty").fill_null(0.0) for name in windows),
        *(nw.col(f"_{name}_counted_qty").fill_null(0.0) for name in windows),
        nw.col("_ddd_before").fill_null(0.0),
        nw.col("_ddd_after").fill_null(0.0),
        nw.col("_ddd_unknown").fill_null(0),
    )
    reach = _supply_reach(
        rows, list(windows), definitions.assumed_units_per_day, days_given=bool(given)
    )

    def returned_days(name: str) -> nw.Expr:
        """Days of the tablets returned in the window beyond those dispensed in it: they went
        back from the supply carried into it (a reversal a few days after a dispensing)."""
        net = nw.col(f"_{name}_counted_qty")
        return nw.when(net < 0).then(net / nw.col("units_per_day")).otherwise(0.0)

    result = result.join(reach, on="patient_id", how="left").with_columns(
        # Supply reaches into a window when it lasts past the start of the window's first day
        # (the day after "letter + a months"); no counted dispensing up to then: no supply.
        **{
            f"_{name}_supplied": (
                nw.col(f"_{name}_end") + returned_days(name) > nw.col(f"_{name}_from") + 1
            ).fill_null(value=False)
            for name in windows
        }
    )
    result = _attach_left(execution, result, patients, evaluation)
    stays = nw.col("left_reason").is_null()

    def due(name: str) -> nw.Expr:
        return stays & (nw.col(f"_{name}_to") <= last_day)

    def dispensed(name: str) -> nw.Expr:
        return nw.col(f"_{name}_qty") > 0

    def still_using(name: str) -> nw.Expr:
        """Not a stopper in the window, by ``stop_definition``; never missing."""
        if definitions.stop_definition == "plain":
            return dispensed(name)
        return dispensed(name) | nw.col(f"_{name}_supplied")

    chosen = definitions.non_stoppers
    result = result.with_columns(
        # From the quantities and the supply, not by negating a flag: a missing flag on
        # numpy-backed pandas is a float NaN, which has no logical "not".
        **{f"{name}_stop": nw.when(due(name)).then(~still_using(name)) for name in windows},
        **{
            f"{name}_stop_plain": nw.when(due(name)).then(nw.col(f"_{name}_qty") <= 0)
            for name in windows
        },
        non_stopper=nw.when(due(chosen)).then(still_using(chosen)),
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
        "short_term_stop_plain",
        "mid_term_stop_plain",
        "sustained_stop_plain",
        "units_per_day",
        "units_per_day_assumed",
    )


def _supply_reach(
    rows: nw.LazyFrame[Any], windows: list[str], assumed: float, *, days_given: bool
) -> nw.LazyFrame[Any]:
    """Per patient: ``_{window}_end``, the day the supply of the counted dispensings up to the
    window's start runs out, and the rate of use it was estimated with.

    ``rows`` are the benzodiazepine rows joined to the letters' day numbers. Units are netted
    per day (a return on a later day takes its days off again). The rate comes from the days up
    to the letter (:func:`benzoredux.supply.use_rate`); the supply ends at the running total
    plus the largest offset of the days up to the window's start
    (:func:`benzoredux.supply.supply_offsets`): a plain maximum per window, so one running
    total serves all windows. The letter's columns ride along in the aggregations (one value
    per patient) rather than being joined back: DuckDB plans every reading of a frame anew.

    With ``days_given`` (a ``days_supply`` column), a day's units with given days last the
    later of those days and ``units / rate`` (:func:`benzoredux.supply.supply_days`).
    """
    by = "patient_id"
    given_names = (GIVEN_DAYS, GIVEN_UNITS) if days_given else ()
    starts = [f"_{name}_from" for name in windows]
    daily = (
        rows.filter(
            nw.col("_counted"),
            nw.col("_day") > nw.col("_rate_from"),
            nw.col("_day") <= nw.col("_supply_to"),
        )
        .group_by(by, "_day")
        .agg(
            nw.col("_qty").sum().alias("_net"),
            *(nw.col(c).sum() for c in given_names),
            *(nw.col(c).max() for c in ("_letter", *starts)),
        )
    )
    up_to_letter = nw.col("_day") <= nw.col("_letter")
    dispensed_day = nw.when(up_to_letter & (nw.col("_net") > 0)).then(nw.col("_day"))
    span = (
        daily.with_columns(_dispensed_day=dispensed_day)
        .group_by(by)
        .agg(
            nw.col("_dispensed_day").min().alias("_first"),
            nw.col("_dispensed_day").max().alias("_last"),
        )
    )
    observed = (nw.col("_span") > 0) & (nw.col("_before_units") > 0)
    daily = (
        daily.join(span, on=by, how="inner")
        .with_columns(
            _before_units=nw.when(up_to_letter & (nw.col("_day") < nw.col("_last")))
            .then(nw.col("_net"))
            .otherwise(0.0),
        )
        .with_columns(
            # The units before the last dispensing day, on every day of the patient: a sum
            # over the patient's days (a window function; every backend has it unordered).
            nw.col("_before_units").sum().over(by),
            _span=nw.col("_last") - nw.col("_first"),
        )
        .with_columns(
            units_per_day=use_rate(nw.col("_before_units"), nw.col("_span"), assumed),
            _assumed=(~observed.fill_null(value=False)).cast(nw.Int64),
        )
        .select(
            by,
            "_day",
            *starts,
            "units_per_day",
            "_assumed",
            _supply=supply_days(
                nw.col("_net"),
                nw.col("units_per_day"),
                (nw.col(GIVEN_DAYS), nw.col(GIVEN_UNITS)) if days_given else None,
                later_end=True,
            ),
        )
    )
    daily = supply_offsets(daily, by)
    per_window = daily.with_columns(
        **{
            f"_{name}_s": nw.when(nw.col("_day") <= nw.col(start))
            .then(nw.col("_supply"))
            .otherwise(0.0)
            for name, start in zip(windows, starts, strict=True)
        },
        **{
            f"_{name}_r": nw.when(nw.col("_day") <= nw.col(start)).then(nw.col("_offset"))
            for name, start in zip(windows, starts, strict=True)
        },
    )
    return (
        per_window.group_by(by)
        .agg(
            *(nw.col(f"_{name}_s").sum() for name in windows),
            *(nw.col(f"_{name}_r").max() for name in windows),
            nw.col("units_per_day").max(),
            nw.col("_assumed").max(),
        )
        .select(
            by,
            "units_per_day",
            units_per_day_assumed=nw.col("_assumed") == 1,
            **{f"_{name}_end": nw.col(f"_{name}_s") + nw.col(f"_{name}_r") for name in windows},
        )
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
        **{f"_{m}_events": nw.col(m).fill_null(value=False).cast(nw.Int64) for m in _STOPS},
        **{
            f"_{m}_plain_events": nw.col(f"{m}_plain").fill_null(value=False).cast(nw.Int64)
            for m in _STOPS
        },
        **{f"_{m}_evaluated": (~nw.col(m).is_null()).cast(nw.Int64) for m in _STOPS},
        **{f"_{m}_not_due": (stays & nw.col(m).is_null()).cast(nw.Int64) for m in _STOPS},
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
        *(
            f"_{m}_{part}"
            for m in _STOPS
            for part in ("events", "plain_events", "evaluated", "not_due")
        ),
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
    low_plain, high_plain = wilson_expressions("events_plain", "evaluated")
    parts = []
    for rank, measure in enumerate(MEASURES):
        events: nw.Expr
        events_plain: nw.Expr
        rate: nw.Expr
        rate_plain: nw.Expr
        if measure == "ddd_reduction":
            # No count of events: a null of the counts' integer type (a typed null literal
            # cannot be built on numpy-backed pandas).
            counted = nw.col("_ddd_reduction_evaluated")
            events = events_plain = nw.when(counted < 0).then(counted)
            rate = nw.when(nw.col("_before") > 0).then(1 - nw.col("_after") / nw.col("_before"))
            rate_plain = nw.lit(None, nw.Float64)  # the reduction has no plain twin
        else:
            evaluated = nw.col(f"_{measure}_evaluated")
            events = nw.col(f"_{measure}_events")
            events_plain = nw.col(f"_{measure}_plain_events")
            rate = nw.when(evaluated > 0).then(events / evaluated)
            rate_plain = nw.when(evaluated > 0).then(events_plain / evaluated)
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
            nw.lit(definitions.stop_definition).alias("stop_definition"),
            events_plain.alias("events_plain"),
            rate_plain.cast(nw.Float64).alias("rate_plain"),
        )
        if measure == "ddd_reduction":
            part = part.with_columns(
                ci_low=nw.lit(None, nw.Float64),
                ci_high=nw.lit(None, nw.Float64),
                ci_low_plain=nw.lit(None, nw.Float64),
                ci_high_plain=nw.lit(None, nw.Float64),
            )
        else:
            part = part.with_columns(
                ci_low=low, ci_high=high, ci_low_plain=low_plain, ci_high_plain=high_plain
            )
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
        "stop_definition",
        "events_plain",
        "rate_plain",
        "ci_low_plain",
        "ci_high_plain",
    ]
    combined = nw.concat([p.select(*output, "_order", "_rank") for p in parts], how="vertical")
    return combined.sort("_order", "_rank", "gp_id", nulls_last=True).select(output)
