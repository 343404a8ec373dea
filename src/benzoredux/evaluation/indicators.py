"""Indicators for the FTO meeting: chronic users against the standard practice, prescriptions
outside a consult, and progress against the practice's own targets.

* **Chronic users per 1,000 listed patients**, set against the Proscoop figure that an average
  standard practice ("normpraktijk") has 35 to 65 chronic users. A standard practice is one
  full-time GP with 2,350 listed patients (the Dutch reference size used for GP funding); both
  numbers are fields of :class:`StandardPractice`, so a region can use its own.
* **Prescriptions not issued through a (telephone) consult** (bijlage 4): of the
  benzodiazepine dispensings per prescribing GP in a window, the share whose ``channel`` is
  ``repeat_prescription`` or ``other``. Rows without a channel are counted as unknown and left
  out of the share; returns are not prescriptions.
* **Progress against targets** (the FTO module's example targets): chronic users down 25% in 12
  months, at least 15 stop letters per GP within 3 months of the start, and all repeat
  prescriptions through the (telephone) consult. :class:`Targets` holds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
from attrs import field, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux import codes
from benzoredux.dates import DateLike, parse_reference_date, window_before
from benzoredux.engine import Engine, Execution
from benzoredux.evaluation.letters import letters_lazy
from benzoredux.evaluation.stats import wilson_expressions
from benzoredux.tables import DISPENSINGS, MAX_QUANTITY, DistinctValues, Plausibility, check_rows

__all__ = [
    "CONSULT_CHANNELS",
    "StandardPractice",
    "Targets",
    "chronic_users_indicator",
    "prescriptions_outside_consult",
    "progress_against_targets",
]

CONSULT_CHANNELS = ("consult", "telephone_consult")
"""Channels that count as issued through a (telephone) consult."""


@frozen(kw_only=True)
class StandardPractice:
    """The standard practice ("normpraktijk") a practice's chronic users are set against."""

    listed_patients: int = field(default=2350, validator=validators.gt(0))
    """Listed patients of a standard practice (one full-time GP)."""
    low: float = field(default=35, validator=validators.ge(0))
    """Fewest chronic users of an average standard practice (Proscoop)."""
    high: float = field(default=65, validator=validators.ge(0))
    """Most chronic users of an average standard practice (Proscoop)."""


@frozen(kw_only=True)
class Targets:
    """A practice's result targets (defaults: the FTO module's example targets)."""

    chronic_reduction: float = field(default=0.25, validator=[validators.ge(0), validators.le(1)])
    """Fraction by which the number of chronic users should fall ..."""
    chronic_months: int = field(default=12, validator=validators.ge(1))
    """... within this many months."""
    letters_per_gp: int = field(default=15, validator=validators.ge(0))
    """Stop letters every GP should have sent ..."""
    letters_months: int = field(default=3, validator=validators.ge(1))
    """... within this many months of the start."""
    max_outside_consult: float = field(default=0.0, validator=[validators.ge(0), validators.le(1)])
    """Largest acceptable share of prescriptions not issued through a (telephone) consult."""


def chronic_users_indicator(
    counts: IntoFrame, *, standard: StandardPractice | None = None, engine: Engine = "auto"
) -> Any:
    """Chronic users per GP and in total against the standard practice's range.

    :param counts: the result of :func:`benzoredux.count_per_gp` called with a patients table
        (``gp_id``, ``chronic_users``, ``listed_patients``).
    :returns: ``level``, ``gp_id``, ``chronic_users``, ``listed_patients``,
        ``per_1000_listed``, ``per_standard_practice`` (chronic users scaled to the standard
        practice's list size), ``standard_low``, ``standard_high`` and ``vs_standard``
        (``below``, ``within`` or ``above``; empty without listed patients).

    >>> import pandas as pd
    >>> counts = pd.DataFrame({"gp_id": ["G1", "G2"], "chronic_users": [80, 30],
    ...                        "listed_patients": [2350, 2350]})
    >>> chronic_users_indicator(counts)[["level", "gp_id", "per_standard_practice", "vs_standard"]]
       level gp_id  per_standard_practice vs_standard
    0     gp    G1                   80.0       above
    1     gp    G2                   30.0       below
    2  total   NaN                   55.0      within
    """
    norm = standard or StandardPractice()
    execution = Execution.for_input(counts, engine)
    lazy = execution.lazy(counts, "counts")
    columns = lazy.collect_schema()
    missing = [c for c in ("gp_id", "chronic_users", "listed_patients") if c not in columns]
    if missing:
        raise ValueError(
            f"chronic_users_indicator: counts needs column(s) {', '.join(missing)} (call "
            f"count_per_gp with a patients table); columns found: {', '.join(columns)}"
        )
    rows = lazy.select(
        nw.col("gp_id").cast(nw.String),
        nw.col("chronic_users").cast(nw.Int64),
        nw.col("listed_patients").cast(nw.Int64),
    )
    per_gp = rows.with_columns(level=nw.lit("gp"), _order=nw.lit(0))
    total = rows.select(
        nw.col("chronic_users").sum(), nw.col("listed_patients").sum()
    ).with_columns(level=nw.lit("total"), gp_id=nw.lit(None, nw.String), _order=nw.lit(1))
    combined = nw.concat([per_gp, total.select(per_gp.collect_schema().names())], how="vertical")
    has_list = nw.col("listed_patients") > 0
    scaled = nw.col("chronic_users") * norm.listed_patients / nw.col("listed_patients")
    result = combined.with_columns(
        nw.col("chronic_users").cast(nw.Int64),
        nw.col("listed_patients").cast(nw.Int64),
        per_1000_listed=nw.when(has_list).then(
            nw.col("chronic_users") * 1000 / nw.col("listed_patients")
        ),
        per_standard_practice=nw.when(has_list).then(scaled),
        standard_low=nw.lit(float(norm.low)),
        standard_high=nw.lit(float(norm.high)),
        vs_standard=nw.when(has_list & (scaled < norm.low))
        .then(nw.lit("below"))
        .when(has_list & (scaled > norm.high))
        .then(nw.lit("above"))
        .when(has_list)
        .then(nw.lit("within")),
    )
    output = [
        "level",
        "gp_id",
        "chronic_users",
        "listed_patients",
        "per_1000_listed",
        "per_standard_practice",
        "standard_low",
        "standard_high",
        "vs_standard",
    ]
    return execution.finish(result.sort("_order", "gp_id", nulls_last=True).select(output))


_CHANNEL_COLUMNS = ("patient_id", "date", "atc", "quantity", "prescriber_id", "channel")


def prescriptions_outside_consult(
    dispensings: IntoFrame,
    reference_date: DateLike,
    *,
    months: int = 12,
    engine: Engine = "auto",
    max_quantity: float = MAX_QUANTITY,
) -> Any:
    """Share of benzodiazepine prescriptions per GP not issued through a (telephone) consult.

    :param dispensings: a :data:`~benzoredux.tables.DISPENSINGS` table with ``prescriber_id``
        and ``channel``.
    :param reference_date: the window is the ``months`` months up to and including this day.
    :param max_quantity: the most units one dispensing of a benzodiazepine may hold, as for the
        selection (:class:`~benzoredux.tables.Plausibility`).
    :returns: ``level``, ``gp_id`` (the prescriber), ``prescriptions`` (with a known channel),
        ``outside_consult``, ``unknown_channel``, ``share_outside``, ``ci_low``, ``ci_high``;
        per GP, then the total.
    """
    reference = parse_reference_date(reference_date)
    window = window_before(reference, months=months)
    execution = Execution.for_input(dispensings, engine)
    present = execution.columns(dispensings, "dispensings")
    DISPENSINGS.check_present(present)
    missing = [c for c in ("prescriber_id", "channel") if c not in present]
    if missing:
        raise ValueError(
            f"prescriptions_outside_consult: dispensings need column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(present)}"
        )
    lazy = execution.lazy(dispensings, "dispensings", columns=_CHANNEL_COLUMNS)
    schema = lazy.collect_schema()
    distinct = DistinctValues(lazy, scan=execution.scans_parquet(dispensings))
    check_rows(
        dispensings,
        lazy,
        DISPENSINGS,
        execution,
        used=_CHANNEL_COLUMNS,
        distinct=distinct,
        plausibility=Plausibility(as_of=reference, max_quantity=max_quantity),
    )
    channel = nw.col("channel").cast(nw.String)
    rows = (
        lazy.filter(window.expression("date", schema["date"]), nw.col("quantity") > 0)
        .with_columns(nw.col("atc").cast(nw.String))
        .filter(distinct.atc_in(codes.benzodiazepine_groups()))
        .select(
            nw.col("prescriber_id").cast(nw.String).alias("gp_id"),
            _known=(~channel.is_null()).cast(nw.Int64),
            _outside=(~channel.is_null() & ~channel.is_in(list(CONSULT_CHANNELS))).cast(nw.Int64),
            _unknown=channel.is_null().cast(nw.Int64),
        )
    )
    aggregations = [
        nw.col("_known").sum().alias("prescriptions"),
        nw.col("_outside").sum().alias("outside_consult"),
        nw.col("_unknown").sum().alias("unknown_channel"),
    ]
    # The total adds up the GPs' counts (prescriptions without a prescriber form a group of
    # their own): the rows are read once, and the stacking of per-GP and total rows runs on a
    # row per GP (brought to the client on Dask, whose planner stalls on it otherwise).
    counts = execution.on_client(rows.group_by("gp_id").agg(*aggregations))
    sums = ["prescriptions", "outside_consult", "unknown_channel"]
    per_gp = counts.with_columns(level=nw.lit("gp"), _order=nw.lit(0))
    total = counts.select(
        *(nw.col(c).sum() for c in sums),
        level=nw.lit("total"),
        gp_id=nw.lit(None, nw.String),
        _order=nw.lit(1),
    )
    combined = nw.concat(
        [per_gp, total.select(per_gp.collect_schema().names())], how="vertical"
    ).with_columns(
        nw.col(c).fill_null(0).cast(nw.Int64)
        for c in ("prescriptions", "outside_consult", "unknown_channel")
    )
    low, high = wilson_expressions("outside_consult", "prescriptions")
    result = combined.with_columns(
        share_outside=nw.when(nw.col("prescriptions") > 0).then(
            nw.col("outside_consult") / nw.col("prescriptions")
        ),
        ci_low=low,
        ci_high=high,
    )
    output = [
        "level",
        "gp_id",
        "prescriptions",
        "outside_consult",
        "unknown_channel",
        "share_outside",
        "ci_low",
        "ci_high",
    ]
    return execution.finish(result.sort("_order", "gp_id", nulls_last=True).select(output))


def _as_eager(frame: IntoFrame, name: str, columns: tuple[str, ...]) -> nw.DataFrame[Any]:
    native = nw.from_native(frame)
    eager = native.collect() if isinstance(native, nw.LazyFrame) else native
    missing = [c for c in columns if c not in eager.columns]
    if missing:
        raise ValueError(
            f"progress_against_targets: {name} needs column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(eager.columns)}"
        )
    return eager


def progress_against_targets(
    *,
    start_date: DateLike,
    as_of: DateLike,
    chronic_at_start: IntoFrame | None = None,
    chronic_now: IntoFrame | None = None,
    letters: IntoFrame | None = None,
    outside_consult: IntoFrame | None = None,
    targets: Targets | None = None,
) -> list[dict[str, Any]]:
    """Where the practice stands against its targets on ``as_of``: one record per target (and
    per GP for the letters target).

    :param start_date: the start of the programme; the targets' months count from it.
    :param as_of: the day of the check.
    :param chronic_at_start: :func:`benzoredux.count_per_gp` at the start.
    :param chronic_now: :func:`benzoredux.count_per_gp` on ``as_of``.
    :param letters: the stop letters sent (:data:`~benzoredux.evaluation.letters.LETTERS_SENT`).
    :param outside_consult: the result of :func:`prescriptions_outside_consult`.
    :returns: records with ``target``, ``gp_id``, ``value``, ``goal``, ``met`` (true, false),
        ``due`` (the target's deadline) and ``overdue`` (deadline passed and not met). A
        target whose input is not given is left out.
    """
    goals = targets or Targets()
    start = parse_reference_date(start_date, name="start_date")
    today = parse_reference_date(as_of, name="as_of")
    records: list[dict[str, Any]] = []

    def add(  # noqa: PLR0917 - a local record builder
        target: str, gp: str | None, value: float | None, goal: float, met: bool, due: dt.date
    ) -> None:
        records.append(
            {
                "target": target,
                "gp_id": gp,
                "value": value,
                "goal": goal,
                "met": met,
                "due": due,
                "overdue": (not met) and today > due,
            }
        )

    if chronic_at_start is not None and chronic_now is not None:
        due = _months_after(start, goals.chronic_months)
        before = int(
            _as_eager(chronic_at_start, "chronic_at_start", ("chronic_users",))[
                "chronic_users"
            ].sum()
        )
        now = int(_as_eager(chronic_now, "chronic_now", ("chronic_users",))["chronic_users"].sum())
        reduction = 1 - now / before if before else None
        add(
            "chronic_users_reduction",
            None,
            reduction,
            goals.chronic_reduction,
            reduction is not None and reduction >= goals.chronic_reduction,
            due,
        )
    if letters is not None:
        due = _months_after(start, goals.letters_months)
        execution = Execution.for_input(letters, "native")
        sent = letters_lazy(execution, letters).with_columns(
            _in_time=(nw.col("letter_date") <= due).cast(nw.Int64)
        )
        counted = dict(sent.group_by("gp_id").agg(nw.col("_in_time").sum()).collect().rows())
        # GPs with chronic users but no letter at all are behind too: list them with 0.
        for frame in (chronic_now, chronic_at_start):
            if frame is not None:
                table = _as_eager(frame, "chronic users per GP", ("gp_id", "chronic_users"))
                for gp, users in table.select("gp_id", "chronic_users").rows():
                    if gp is not None and users:
                        counted.setdefault(str(gp), 0)
        for gp in sorted(counted, key=lambda g: (g is None, g or "")):
            count = int(counted[gp])
            add(
                "letters_per_gp",
                gp,
                count,
                goals.letters_per_gp,
                count >= goals.letters_per_gp,
                due,
            )
    if outside_consult is not None:
        table = _as_eager(outside_consult, "outside_consult", ("level", "share_outside"))
        share = table.filter(nw.col("level") == "total")["share_outside"].to_list()
        value = share[0] if share else None
        add(
            "prescriptions_outside_consult",
            None,
            value,
            goals.max_outside_consult,
            value is not None and value <= goals.max_outside_consult,
            today,
        )
    return records


def _months_after(day: dt.date, months: int) -> dt.date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)
