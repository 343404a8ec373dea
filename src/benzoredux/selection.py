"""Step 1 of the minimal intervention: find the chronic (and the new) benzodiazepine users.

The rules (FTO module "Minimale interventie", bijlage 1; ``docs/domain/selection.rst`` restates
them with their sources):

* benzodiazepines are ATC ``N05BA``, ``N05CD`` and ``N05CF`` (clonazepam, ``N03AE01``, is not);
* a **chronic user** got *more than 90* tablets of benzodiazepines dispensed in the 12 months up
  to and including the reference date; units of all benzodiazepines add up, returns (negative
  quantities) subtract, and only solid oral units count when the data tell the form;
* **complex co-medication** (at least one dispensing of L, M03, M09A except M09AA01, N02A except
  paracetamol + codeine, N03 or N05A in the same 12 months) excludes a patient by default; the
  groups follow the module's substances through later changes of the WHO index (paracetamol +
  codeine is exempt as N02AA59 and as today's N02AJ06; ``docs/domain/codes.rst``);
* dispensings with a code of these groups that the library does not know are still counted in
  their group, and reported (:class:`~benzoredux.errors.UnknownCodesWarning`,
  :func:`unknown_code_rows`);
* the optional **GP route** keeps only patients with an ICPC P01, P06 or P74 episode.

Everything is one lazy query per call, grouped once per patient: no Python loop ever touches a
dispensing. :mod:`benzoredux.engine` decides where the query runs and hands the result back in
the caller's own kind.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

import narwhals as nw
from attrs import Attribute, field, fields, frozen, validators
from narwhals.typing import IntoFrame

from benzoredux import codes
from benzoredux.dates import (
    DateLike,
    Window,
    epoch_day,
    epoch_days,
    parse_reference_date,
    window_before,
)
from benzoredux.engine import Engine, Execution, KeptRows, PathSource
from benzoredux.errors import DataCoverageWarning, UnknownCodesWarning
from benzoredux.models import LEFT_PRACTICE
from benzoredux.supply import (
    DAYS_SUPPLY,
    GIVEN_DAYS,
    GIVEN_UNITS,
    counted_expr,
    given_days_columns,
    supply_days,
    supply_ends,
    use_rate,
)
from benzoredux.tables import (
    DISPENSINGS,
    EPISODES,
    MAX_QUANTITY,
    PATIENTS,
    DistinctValues,
    Plausibility,
    check_max_quantity,
    check_rows,
)

__all__ = [
    "ChronicUseCriteria",
    "NewUseCriteria",
    "count_per_gp",
    "select_chronic_users",
    "select_new_users",
    "unknown_code_rows",
]

# The columns the selection reads: rows are checked on these only, so that (say) a malformed
# postcode in the patients table does not stop a selection that never looks at postcodes.
_USED_DISPENSINGS = (
    "patient_id",
    "date",
    "atc",
    "quantity",
    "strength_mg",
    "form",
    "prescriber_id",
    "days_supply",
)
_USED_PATIENTS = ("patient_id", "gp_id", "status", "status_date")
_USED_EPISODES = ("patient_id", "icpc", "start", "end")


def _within_window(instance: Any, attribute: Attribute[Any], value: int) -> None:
    """The recent window must lie inside the selection window: one scan reads both."""
    if value > instance.window_months:
        raise ValueError(
            f"{attribute.name} ({value}) must not be more than window_months "
            f"({instance.window_months})"
        )


def _icpc_rubrics(values: Any) -> tuple[str, ...]:
    """ICPC codes as their 3-character rubrics: episodes are matched by rubric."""
    return tuple(dict.fromkeys(codes.ICPCCode(v).rubric for v in values))


@frozen(kw_only=True)
class ChronicUseCriteria:
    """The options of :func:`select_chronic_users`, with the FTO module's values as defaults.

    Pass them as keyword arguments to :func:`select_chronic_users`; an unknown name is an error.
    """

    definition: Literal["units", "nhg"] = field(
        default="units", validator=validators.in_(("units", "nhg"))
    )
    """``units`` (the FTO module): more than ``min_units`` units in the window. ``nhg`` (the NHG
    guideline's alternative): more than ``nhg_min_days`` days of use in the last ``nhg_months``
    months, each dispensing supplying ``quantity / nhg_units_per_day`` days."""
    min_units: float = field(default=90, validator=validators.ge(0))
    """A chronic user got *more than* this many units in the window (90: 90 is not, 91 is)."""
    window_months: int = field(default=12, validator=validators.gt(0))
    """Length of the window, in calendar months up to and including the reference date."""
    recent_months: int = field(validator=[validators.gt(0), _within_window])
    """Length of the recent window of ``ddd_per_day_recent`` (the patient's current dose), in
    calendar months up to and including the reference date: 3, or ``window_months`` when that
    is shorter. At most ``window_months``, so it is computed from the rows the selection
    reads anyway."""
    exclude_complex: bool = True
    """Leave out patients with complex co-medication (their groups are listed either way)."""
    exempt_other_codeine_combinations: bool = field(
        default=True, validator=validators.instance_of(bool)
    )
    """Exempt codeine with acetylsalicylic acid, ibuprofen or other non-opioid analgesics
    (N02AJ07-N02AJ09) from complex co-medication N02A, like paracetamol + codeine (N02AA59,
    N02AJ06, always exempt): when the module was written N02AA59 held all these combinations,
    ordinary analgesics rather than treatment of a serious condition. ``False`` exempts
    paracetamol + codeine only."""
    gabapentinoids_as_antiepileptics: bool = field(
        default=True, validator=validators.instance_of(bool)
    )
    """Count gabapentin and pregabalin (N02BF01, N02BF02) as complex co-medication N03, as under
    their codes when the module was written (N03AX12, N03AX16). ``False`` follows today's WHO
    index, which classes them as analgesics, outside the module's groups."""
    gp_route: bool = False
    """Keep only patients with an episode whose code is in ``gp_route_codes`` (HIS route)."""
    gp_route_codes: tuple[str, ...] = field(default=("P01", "P06", "P74"), converter=_icpc_rubrics)
    """ICPC rubrics of the GP route; a Dutch subcode (``P74.01``) matches its rubric."""
    gp_route_active_only: bool = False
    """Count only episodes that overlap the window (default: any episode started by then)."""
    exclude_departed: bool = True
    """With a patients table: leave out patients who died, moved or changed GP on or before the
    reference date."""
    include_excluded: bool = False
    """Also return patients over the threshold who were excluded, with ``excluded_because``."""
    stopped_grace_days: float = field(default=60, validator=validators.ge(0))
    """Flag ``probably_stopped`` when the estimated last supply ran out more than this many days
    before the reference date."""
    assumed_units_per_day: float = field(default=1.0, validator=validators.gt(0))
    """Use rate for the supply estimate when it cannot be observed (one dispensing date)."""
    extra_forms: Mapping[str, bool] = field(factory=dict, converter=codes.normalise_forms)
    """Dosage-form names to add to the shipped list, each marked solid oral (True) or not."""
    max_quantity: float = field(default=MAX_QUANTITY, validator=check_max_quantity)
    """The most units one dispensing (or return) of a benzodiazepine may hold; a row beyond
    it is refused as implausible (:data:`~benzoredux.tables.MAX_QUANTITY`, with its reasons)."""
    nhg_months: int = field(default=3, validator=validators.gt(0))
    """NHG definition: the period, in calendar months up to the reference date."""
    nhg_min_days: float = field(default=60, validator=validators.ge(0))
    """NHG definition: a chronic user used on *more than* this many days of the period."""
    nhg_units_per_day: float = field(default=1.0, validator=validators.gt(0))
    """NHG definition: units taken a day, to turn a dispensing into days of supply."""
    engine: Engine = field(default="auto", validator=validators.in_(("auto", "native")))
    """Where the query runs: see :mod:`benzoredux.engine`. For a DuckDB relation, ``auto``
    has DuckDB check the rows and compute the window's rows of the drugs concerned, and polars
    group them per patient, at the call (faster; the result is a relation over the rows
    computed then); a relation that is exactly ``read_parquet(paths)`` is read by polars from
    those files (:meth:`~benzoredux.engine.Execution.polars_scan`). ``native`` runs the whole
    query on DuckDB when the relation runs."""

    def complex_groups(self) -> tuple[codes.ATCGroup, ...]:
        """The complex co-medication groups with these options applied: the one definition
        the query, :func:`benzoredux.codes.complex_groups_of` and the docs share."""
        return codes.complex_comedication_groups(
            exempt_other_codeine_combinations=self.exempt_other_codeine_combinations,
            gabapentinoids_as_antiepileptics=self.gabapentinoids_as_antiepileptics,
        )

    @recent_months.default
    def _recent_months_default(self) -> int:
        # A window shorter than 3 months (window_months=1) keeps working: its whole length.
        return min(3, self.window_months)


@frozen(kw_only=True)
class NewUseCriteria:
    """The options of :func:`select_new_users`."""

    window_months: int = field(default=3, validator=validators.gt(0))
    """A new user's first dispensing falls in this many months up to the reference date."""
    lookback_months: int = field(default=12, validator=validators.gt(0))
    """... and no benzodiazepine was dispensed in this many months before the window."""
    max_first_units: float = field(default=10, validator=validators.ge(0))
    """A first dispensing of more units than this is flagged ``large_first`` (the guideline
    allows 5 to 10 tablets for short-term insomnia)."""
    extra_forms: Mapping[str, bool] = field(factory=dict, converter=codes.normalise_forms)
    """As in :class:`ChronicUseCriteria`."""
    max_quantity: float = field(default=MAX_QUANTITY, validator=check_max_quantity)
    """As in :class:`ChronicUseCriteria`."""
    engine: Engine = field(default="auto", validator=validators.in_(("auto", "native")))
    """Where the query runs: see :mod:`benzoredux.engine`."""


def _criteria(cls: type[Any], options: Mapping[str, Any]) -> Any:
    known = {a.name for a in fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}"
        )
    return cls(**options)


def _relevant_groups(complex_groups: tuple[codes.ATCGroup, ...]) -> tuple[codes.ATCGroup, ...]:
    """Benzodiazepines and complex co-medication: the rows the selection reads."""
    return (*codes.benzodiazepine_groups(), *complex_groups)


def _report_unknown_codes(
    rows: nw.LazyFrame[Any], distinct: DistinctValues, where: str, *, stacklevel: int
) -> None:
    """Warn about rows of ``rows`` whose code is in a group but unknown to the library.

    ``distinct`` holds the distinct codes of ``rows`` or of a table they come from: the codes are
    classified once in Python, and only when one is unknown are the rows counted (a second,
    small query; none when every code is known). The message names codes and counts only.
    """
    unknown = codes.unknown_atc_codes(distinct.atc_codes())
    if not unknown:
        return
    counts = sorted(
        (str(code), int(n))
        for code, n in rows.filter(nw.col("atc").cast(nw.String).is_in(list(unknown)))
        .group_by("atc")
        .agg(nw.len().alias("rows"))
        .collect()
        .rows()
    )
    if not counts:  # the unknown codes are on rows outside the period
        return
    total = sum(n for _, n in counts)
    listing = ", ".join(f"{code}: {n} row{'s' if n != 1 else ''}" for code, n in counts)
    warnings.warn(
        f"{total} dispensing row{'s' if total != 1 else ''} {where} "
        f"{'have' if total != 1 else 'has'} an ATC code that benzoredux does not know "
        f"({listing}): mistyped, retired before 2020 or newer than "
        "this version? They count in the group their code starts with (units of a "
        "benzodiazepine code add up); benzoredux.unknown_code_rows() lists the rows",
        UnknownCodesWarning,
        stacklevel=stacklevel + 1,
    )


def _prepare_dispensings(
    execution: Execution,
    dispensings: IntoFrame | PathSource,
    extra_forms: Mapping[str, bool],
    plausibility: Plausibility,
    *,
    keep: Callable[[nw.LazyFrame[Any], DistinctValues], nw.LazyFrame[Any]] | None = None,
) -> tuple[nw.LazyFrame[Any], Mapping[str, Any], DistinctValues]:
    """The dispensings as a lazy frame on the chosen engine, checked row by row (implausible
    values with the bounds of ``plausibility``: the run's reference date).

    The distinct ATC codes found by the check are kept: the queries match rows to code groups
    by ``is_in`` on the few codes present instead of by prefix on every row.

    ``keep`` says which rows the caller's queries read (given a frame and its distinct
    values): where the checks pass over a pandas or pyarrow table slice by slice, they keep
    those rows as they go (:class:`~benzoredux.engine.KeptRows`), and the frame returned holds
    only them, in polars. Elsewhere the frame is the whole table, and the queries filter it.
    """
    # Required columns are checked against the whole table, before it is cut to what is read.
    DISPENSINGS.check_present(execution.columns(dispensings, "dispensings"))
    batches = execution.batches(dispensings, "dispensings", columns=_USED_DISPENSINGS)
    lazy = (
        batches.scan()
        if batches is not None
        else execution.lazy(dispensings, "dispensings", columns=_USED_DISPENSINGS)
    )
    schema = lazy.collect_schema()
    distinct = DistinctValues(lazy, scan=execution.scans_parquet(dispensings))
    kept = KeptRows(schema, keep) if batches is not None and keep is not None else None
    check_rows(
        dispensings,
        lazy,
        DISPENSINGS,
        execution,
        forms=extra_forms,
        used=_USED_DISPENSINGS,
        distinct=distinct,
        plausibility=plausibility,
        slices=batches.slices(kept) if batches is not None else None,
    )
    if kept is not None and kept.complete:
        lazy = kept.frame()
    return lazy, schema, distinct


def select_chronic_users(
    dispensings: IntoFrame | PathSource,
    reference_date: DateLike,
    *,
    patients: IntoFrame | PathSource | None = None,
    episodes: IntoFrame | PathSource | None = None,
    **options: Any,
) -> Any:
    """The chronic benzodiazepine users on ``reference_date``: one row per patient.

    :param dispensings: a :data:`~benzoredux.tables.DISPENSINGS` table of any supported kind,
        or the path of a Parquet dataset (a file, a directory of ``.parquet`` files or a glob,
        as ``str`` or ``pathlib.Path``), scanned lazily with polars: see
        :func:`~benzoredux.engine.open_lazy_source`.
    :param reference_date: a ``date``, ``datetime`` or ISO ``YYYY-MM-DD`` text; the window runs
        up to and including this day.
    :param patients: optional :data:`~benzoredux.tables.PATIENTS` table (or Parquet path):
        attributes patients to their listed GP and leaves out those who left the practice.
    :param episodes: optional :data:`~benzoredux.tables.EPISODES` table (or Parquet path),
        needed for ``gp_route=True``.
    :param options: any field of :class:`ChronicUseCriteria`.
    :returns: a frame of the same kind as ``dispensings`` (lazy in, lazy out: a Parquet path
        gives a polars ``LazyFrame``, a DuckDB relation a relation on the caller's connection;
        with ``engine="auto"`` that relation holds the result computed at the call, from the
        selection window's rows of the drugs concerned, which the call holds in memory while
        it runs: :attr:`~benzoredux.engine.Execution.hands_rows_to_polars`) with columns
        ``patient_id``, ``gp_id``, ``gp_source`` (``listed`` or ``prescriber``), ``units``,
        ``n_dispensings``, ``n_returns``, ``first_date``, ``last_date``, ``ddd_per_day`` (the
        WHO DDDs a day averaged over the window), ``ddd_per_day_recent`` (the same over the last
        ``recent_months``: the current dose, which a year's average hides after a recent rise),
        ``days_since_supply_end``, ``probably_stopped``, ``complex_groups`` and, with
        ``include_excluded=True``, ``excluded_because``; sorted by ``patient_id``.
    :raises ~benzoredux.errors.MissingColumnsError: a required column is missing.
    :raises ~benzoredux.errors.InvalidRowsError: rows that cannot be used (see
        :func:`~benzoredux.tables.validate_dispensings` to split them off first).
    :warns ~benzoredux.errors.UnknownCodesWarning: when rows of the window carry a code of the
        benzodiazepine or complex co-medication groups that the library does not know: they
        count in their group, and :func:`unknown_code_rows` lists them.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "patient_id": ["p1", "p1", "p2"],
    ...     "date": pd.to_datetime(["2025-02-01", "2025-08-01", "2025-03-01"]),
    ...     "atc": ["N05BA04", "N05BA04", "N05CF02"],
    ...     "quantity": [50.0, 50.0, 90.0],
    ... })
    >>> select_chronic_users(rows, "2025-12-31")[["patient_id", "units", "n_dispensings"]]
      patient_id  units  n_dispensings
    0         p1  100.0              2
    """
    criteria: ChronicUseCriteria = _criteria(ChronicUseCriteria, options)
    reference = parse_reference_date(reference_date)
    window = window_before(reference, months=criteria.window_months)
    recent = window_before(reference, months=criteria.recent_months)
    execution = Execution.for_input(dispensings, criteria.engine, name="dispensings")
    groups = criteria.complex_groups()
    # A DuckDB relation that only reads Parquet files is read as those files, by polars (as a
    # path is); its result goes back to the relation's connection below, like the result of
    # rows DuckDB hands over (Execution.polars_scan).
    scan = execution.polars_scan(dispensings)
    source = dispensings if scan is None else scan
    reading = execution if scan is None else Execution.for_input(scan, name="dispensings")
    lazy, schema, distinct = _prepare_dispensings(
        reading,
        source,
        criteria.extra_forms,
        Plausibility(as_of=reference, max_quantity=criteria.max_quantity),
        keep=lambda frame, found: _window_rows(frame, found, window, groups),
    )

    aggregated = _aggregate_window(
        lazy,
        schema,
        distinct,
        window,
        criteria.extra_forms,
        recent=recent,
        complex_groups=groups,
        execution=reading,
    )
    # What is read from here on is aggregated.rows and .complex_flags. An eager input's are
    # computed already: the rows kept from the checks' pass of a pandas or pyarrow table (95 MB
    # at 10 million dense rows) are let go before the per-patient passes run, not after.
    del lazy
    per_patient = aggregated.per_patient
    if criteria.definition == "nhg":
        period = window_before(reference, months=criteria.nhg_months)
        days = _days_of_use(
            aggregated.rows,
            period,
            criteria.nhg_units_per_day,
            days_given=aggregated.days_given,
        )
        candidates = per_patient.join(days, on="patient_id", how="inner").filter(
            nw.col("days_used") > criteria.nhg_min_days
        )
    else:
        candidates = per_patient.filter(nw.col("units") > criteria.min_units)
    if aggregated.details_included:
        result = candidates
    else:
        detail = _last_supply_and_prescriber(
            aggregated.rows, candidates, days_given=aggregated.days_given
        )
        result = candidates.join(detail, on="patient_id", how="left")
    # Patients without complex co-medication have no row of flags: 0 for each group.
    result = result.join(aggregated.complex_flags, on="patient_id", how="left").with_columns(
        nw.col(f"_cx_{g.group}").fill_null(0) for g in groups
    )
    result = _supply_estimate(result, reference, criteria, days_given=aggregated.days_given)
    result = result.with_columns(
        ddd_per_day=nw.when(nw.col("_no_ddd") == 0).then(nw.col("_ddd") / window.days),
        # Net DDDs of the recent window; more returned than dispensed there is no dose: 0.
        ddd_per_day_recent=nw.when(nw.col("_no_ddd_recent") == 0).then(
            nw.col("_ddd_recent").clip(lower_bound=0.0) / recent.days
        ),
        complex_groups=_complex_groups_expr(),
    )
    if execution.hands_rows_to_polars:
        # Computed on polars from the rows DuckDB handed over: back on the caller's connection,
        # in the types the query gave there (DuckDB sums counts as HUGEINT).
        result = execution.back_from_polars(result).with_columns(
            nw.col("n_dispensings").cast(nw.Int128), nw.col("n_returns").cast(nw.Int128)
        )

    exclusions: list[nw.Expr] = []
    if criteria.exclude_complex:
        exclusions.append(
            nw.when(nw.col("complex_groups") != "").then(
                nw.concat_str([nw.lit("complex co-medication: "), nw.col("complex_groups")])
            )
        )
    result, gp_source = _attach_patients(
        execution,
        result=result,
        patients=patients,
        reference=reference,
        criteria=criteria,
        exclusions=exclusions,
    )
    if criteria.gp_route:
        result = _attach_gp_route(
            execution,
            result=result,
            episodes=episodes,
            window=window,
            criteria=criteria,
            exclusions=exclusions,
        )

    excluded_because = (
        nw.concat_str(exclusions, separator="; ", ignore_nulls=True)
        if exclusions
        else nw.lit(None, nw.String)
    )
    result = result.with_columns(excluded_because=excluded_because, gp_source=gp_source)
    result = result.with_columns(
        excluded_because=nw.when(nw.col("excluded_because") != "").then(nw.col("excluded_because"))
    )
    if not criteria.include_excluded:
        result = result.filter(nw.col("excluded_because").is_null())
    output = [
        "patient_id",
        "gp_id",
        "gp_source",
        "units",
        "n_dispensings",
        "n_returns",
        "first_date",
        "last_date",
        "ddd_per_day",
        "ddd_per_day_recent",
        "days_since_supply_end",
        "probably_stopped",
        "complex_groups",
    ]
    if criteria.definition == "nhg":
        output.insert(output.index("units") + 1, "days_used")
    if criteria.include_excluded:
        output.append("excluded_because")
    return execution.finish(result.select(output).sort("patient_id"))


_ROW_COLUMNS = ("patient_id", "date", "quantity", "_counted", "_prescriber", "_units", "_ddd")
"""The columns of the window's benzodiazepine rows that both per-patient passes read: the
rows are kept between the passes (computed once), so they are kept narrow (on a dense export,
a third of whose rows are benzodiazepines, they are a sixth of the table). Everything else the
passes need is derived from these in each pass."""


@frozen
class _WindowAggregates:
    """What one reading of the window's rows gives :func:`select_chronic_users`."""

    per_patient: nw.LazyFrame[Any]
    """Per patient with a benzodiazepine row in the window: sums, dates and current dose (and,
    when :attr:`details_included`, the last dispensing day's units, the units before it and
    the last prescriber)."""
    complex_flags: nw.LazyFrame[Any]
    """Per patient with complex co-medication dispensed in the window: a ``_cx_<group>`` flag
    (0 or 1) per group."""
    rows: nw.LazyFrame[Any]
    """The window's benzodiazepine rows (:data:`_ROW_COLUMNS`), for the passes that need the
    rows again (:func:`_last_supply_and_prescriber`, :func:`_days_of_use`)."""
    details_included: bool
    """Whether :attr:`per_patient` holds the last day's details already (one pass with window
    expressions), so that :func:`_last_supply_and_prescriber` is not needed."""
    days_given: bool
    """Whether the dispensings have a ``days_supply`` column: :attr:`rows` then carry the
    given days of supply and their units (:func:`benzoredux.supply.given_days_columns`)."""


def _aggregate_window(
    lazy: nw.LazyFrame[Any],
    schema: Mapping[str, Any],
    distinct: DistinctValues,
    window: Window,
    extra_forms: Mapping[str, bool],
    *,
    recent: Window,
    complex_groups: tuple[codes.ATCGroup, ...],
    execution: Execution,
) -> _WindowAggregates:
    """One pass over the window's benzodiazepine rows: per-patient sums, dates and the current
    dose; and the complex co-medication flags from the co-medication rows alone.

    Conditional columns are computed first and then aggregated with plain sums and extremes:
    narwhals runs that as a native group-by on every backend (a conditional inside ``agg`` would
    fall back to a slow per-group ``apply`` on pandas).

    Why the co-medication rows are aggregated apart: they are a few percent of the window's
    rows, while the benzodiazepine rows are many (a third of a pre-filtered export). One
    group-by over both with a flag per group carried by every benzodiazepine row cost the
    flags' memory and time on all of them (issue 19: the dense export took twice the time and
    memory of the bare rule query); now the big group-by carries only what the benzodiazepine
    rows give, and the flags are a small group-by of their own, joined to the candidates.

    ``recent`` (a window ending on the same day, inside ``window``) gives the net DDDs of its
    counted rows (``_ddd_recent``) and whether one of them has no known DDD
    (``_no_ddd_recent``), from the same rows and in the same group-by: the current dose costs
    two conditional columns, not a second scan.

    On an engine that plans every reading of a frame anew
    (:attr:`~benzoredux.engine.Execution.plans_each_reading`: DuckDB) the last dispensing
    day's details are computed in the same pass, with window expressions (the latest dates per
    patient broadcast to their rows): there the second pass of
    :func:`_last_supply_and_prescriber` read the files and grouped the rows again. Engines that
    compute a frame read twice once (polars caches it; eager inputs are collected) use the
    second pass, which is faster there than a window (measured on polars: 0.40 s against
    0.19 s for 1.6 million rows).

    A DuckDB relation (:attr:`~benzoredux.engine.Execution.hands_rows_to_polars`) takes
    neither: in one run DuckDB computes the window's rows of the codes concerned with every
    per-row value of the query (:data:`_ROW_COLUMNS`, whether the row is a benzodiazepine's,
    its co-medication flags), on the caller's data and with the same expressions; they are
    handed over as Arrow, and polars runs the per-patient passes, as for a polars frame
    (issue 19: 1.1 to 1.2 times the same-output DuckDB query's CPU time instead of 1.5 to 1.8).
    """
    groups = complex_groups
    hand_over = execution.hands_rows_to_polars
    details_by_window = execution.plans_each_reading and not hand_over
    days_given = DAYS_SUPPLY in schema
    has_strength = "strength_mg" in schema
    prescriber = (
        nw.col("prescriber_id").cast(nw.String)
        if "prescriber_id" in schema
        else nw.lit(None, nw.String)
    )
    in_window = lazy.filter(window.expression("date", schema["date"])).with_columns(
        nw.col("atc").cast(nw.String)
    )
    window_rows = _window_rows(lazy, distinct, window, groups).with_columns(
        nw.col("atc").cast(nw.String)
    )
    if distinct.scan:
        # The codes and forms present are read from the window's rows of the codes concerned:
        # few rows, found by a filter polars evaluates on the columns' dictionaries.
        distinct = DistinctValues(window_rows)
    # select_chronic_users -> _aggregate_window -> here: the warning points at the caller.
    _report_unknown_codes(window_rows, distinct, "in the selection window", stacklevel=3)
    counted = counted_expr(schema, extra_forms, distinct)
    ddd_mg = _ddd_mg(distinct, by_case=execution.plans_each_reading)
    given = (GIVEN_DAYS, GIVEN_UNITS) if days_given else ()
    benzodiazepine = distinct.atc_in(codes.benzodiazepine_groups())

    def with_row_values(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        """Each row's values for the per-patient passes (row by row: on any set of rows)."""
        return frame.with_columns(
            nw.col("date").cast(nw.Date),
            nw.col("patient_id").cast(nw.String),
            _counted=counted,
            _prescriber=prescriber,
        ).with_columns(
            _units=nw.when(nw.col("_counted"))
            .then(nw.col("quantity").cast(nw.Float64))
            .otherwise(0.0),
            _ddd=(
                nw.when(nw.col("_counted") & (ddd_mg > 0)).then(
                    nw.col("quantity") * nw.col("strength_mg") / ddd_mg
                )
                if has_strength
                else nw.lit(None, nw.Float64)
            ),
            **given_days_columns(schema, "_counted", "quantity"),
        )

    if hand_over:
        # One run of the caller's engine, now: the window's rows of the codes concerned with
        # each row's values and co-medication flags; polars reads them from here on (lazy in,
        # and out as a relation, but computed at the call: Execution.hands_rows_to_polars).
        handed = execution.to_polars(
            with_row_values(window_rows).select(
                *_ROW_COLUMNS,
                *given,
                benzodiazepine.alias("_benzodiazepine"),
                distinct.atc_in(groups).alias("_complex"),
                *_complex_flag_columns(distinct, groups),
            )
        )
        rows = handed.filter(nw.col("_benzodiazepine")).select(*_ROW_COLUMNS, *given)
        complex_flags = _complex_flags(handed.filter(nw.col("_complex")), groups)
    else:
        rows = with_row_values(in_window.filter(benzodiazepine)).select(*_ROW_COLUMNS, *given)
        complex_flags = _complex_flags(
            in_window.filter(distinct.atc_in(groups)).select(
                nw.col("patient_id").cast(nw.String),
                "quantity",
                *_complex_flag_columns(distinct, groups),
            ),
            groups,
        )
    if not details_by_window and not hand_over:
        # Read by the aggregation and again by the second pass: computed once (eager inputs:
        # collected; a lazy input is never collected behind the caller's back:
        # Execution.reuse). Rows handed over are in memory already: each pass filters them
        # (collecting the filter would copy them: 60 MB more at 10 million dense rows).
        rows = execution.reuse(rows)
        if not execution.lazy_input:
            # The co-medication flags too (a row per patient): then nothing the rest of the
            # query reads holds on to the input's rows, which the caller can let go of.
            complex_flags = execution.reuse(complex_flags)
    dispensed = nw.col("quantity") > 0
    counted_rows = nw.col("_counted")
    # The date is a Date by now: the recent window is tested on calendar days.
    in_recent = recent.expression("date", nw.Date()) & counted_rows
    no_ddd = counted_rows & nw.col("_ddd").is_null()
    per_row = rows.with_columns(
        _disp=dispensed.cast(nw.Int64),
        _ret=(nw.col("quantity") < 0).cast(nw.Int64),
        _bdate=nw.when(dispensed).then(nw.col("date")),
        _udate=nw.when(counted_rows & dispensed).then(nw.col("date")),
        _pdate=nw.when(dispensed & ~nw.col("_prescriber").is_null()).then(nw.col("date")),
        _no_ddd=no_ddd.cast(nw.Int8),
        # 0.0, not null, off the recent window: a sum of nulls only is null on some
        # backends, and a patient with nothing dispensed recently has 0 DDD there.
        _ddd_recent=nw.when(in_recent).then(nw.col("_ddd")).otherwise(0.0),
        _no_ddd_recent=(in_recent & no_ddd).cast(nw.Int8),
    )
    aggregates = [
        nw.col("_units").sum().alias("units"),
        nw.col("_disp").sum().alias("n_dispensings"),
        nw.col("_ret").sum().alias("n_returns"),
        nw.col("_bdate").min().alias("first_date"),
        nw.col("_bdate").max().alias("last_date"),
        nw.col("_udate").min().alias("_first_unit_date"),
        nw.col("_udate").max().alias("_last_unit_date"),
        nw.col("_pdate").max().alias("_last_prescriber_date"),
        nw.col("_ddd").sum().alias("_ddd"),
        nw.col("_no_ddd").max().alias("_no_ddd"),
        nw.col("_ddd_recent").sum().alias("_ddd_recent"),
        nw.col("_no_ddd_recent").max().alias("_no_ddd_recent"),
    ]
    if details_by_window:
        per_row = per_row.with_columns(
            _last_day_row=nw.col("_udate").max().over("patient_id"),
            _last_rx_row=nw.col("_pdate").max().over("patient_id"),
        ).with_columns(**_detail_columns("_last_day_row", "_last_rx_row", days_given=days_given))
        aggregates += _detail_aggregates(days_given=days_given)
    per_patient = per_row.group_by("patient_id").agg(*aggregates)
    return _WindowAggregates(
        per_patient=per_patient,
        complex_flags=complex_flags,
        rows=rows,
        details_included=details_by_window,
        days_given=days_given,
    )


def _window_rows(
    frame: nw.LazyFrame[Any],
    distinct: DistinctValues,
    window: Window,
    complex_groups: tuple[codes.ATCGroup, ...],
) -> nw.LazyFrame[Any]:
    """The rows of ``frame`` that the chronic-use selection reads: the selection ``window``'s
    rows of the benzodiazepines and of the ``complex_groups`` in use (with the codes present,
    ``distinct``, matched by ``is_in``)."""
    in_window = window.expression("date", frame.collect_schema()["date"])
    return frame.filter(in_window & distinct.atc_in(_relevant_groups(complex_groups)))


def _ddd_mg(distinct: DistinctValues, *, by_case: bool) -> nw.Expr:
    """A row's DDD in mg, by its ATC code; 0 for a code without a DDD (a DDD is never 0, so
    ``> 0`` tells known from unknown; 0, not None: Dask cannot fill a missing default).

    Only the codes present are looked up (a dozen benzodiazepines in a real export, of the
    library's thirty-odd with a DDD): a smaller table is a faster lookup on every engine
    (measured on polars: 0.08 s against 0.23 s for 3.4 million rows). ``by_case`` writes the
    lookup as a chain of conditions: DuckDB builds ``replace_strict``'s mapping for every row
    (0.38 s against 0.05 s for a chain, on the same rows).
    """
    table = codes.ddd_table()
    present = {code: table[code] for code in distinct.atc_codes() if code in table}
    atc = nw.col("atc")
    if not present:  # no code with a DDD: every row's lookup gives 0
        return nw.when(atc.is_null() & ~atc.is_null()).then(1.0).otherwise(0.0)
    if by_case:
        chain: Any = None
        for code, mg in present.items():
            chain = (nw.when if chain is None else chain.when)(atc == code).then(mg)
        lookup: nw.Expr = chain.otherwise(0.0)
        return lookup
    return atc.replace_strict(
        list(present), list(present.values()), default=0.0, return_dtype=nw.Float64
    )


def _complex_flag_columns(
    distinct: DistinctValues, groups: tuple[codes.ATCGroup, ...]
) -> list[nw.Expr]:
    """Per row, a ``_cx_<group>`` flag (1 or 0) per complex co-medication group: one byte each."""
    return [distinct.atc_in([g]).cast(nw.Int8).alias(f"_cx_{g.group}") for g in groups]


def _complex_flags(
    rows: nw.LazyFrame[Any], groups: tuple[codes.ATCGroup, ...]
) -> nw.LazyFrame[Any]:
    """Per patient with complex co-medication dispensed in the window, a ``_cx_<group>`` flag
    (1 or 0) per group, from the window's rows of complex co-medication (a few percent of the
    window) carrying their flags (:func:`_complex_flag_columns`): their dispensings, not their
    returns. Flags aggregated by their maximum.
    """
    flags = [f"_cx_{g.group}" for g in groups]
    return (
        rows.filter(nw.col("quantity") > 0)
        .select("patient_id", *flags)
        .group_by("patient_id")
        .agg(*(nw.col(f).max() for f in flags))
    )


def _detail_columns(last_day: str, last_rx_day: str, *, days_given: bool) -> dict[str, nw.Expr]:
    """Per benzodiazepine row: its counted units if on the patient's last dispensing day
    (``last_day``) or before it, and its prescriber if a dispensing on the day of the last
    prescriber (``last_rx_day``); with ``days_given``, its given days of supply and their
    units if on the last dispensing day."""
    on_last = nw.col("_counted") & (nw.col("date") == nw.col(last_day))
    before_last = nw.col("_counted") & (nw.col("date") < nw.col(last_day))
    given = {
        f"_last{name}": nw.when(on_last).then(nw.col(name)).otherwise(0.0)
        for name in ((GIVEN_DAYS, GIVEN_UNITS) if days_given else ())
    }
    return {
        **given,
        "_last_units": nw.when(on_last).then(nw.col("_units")).otherwise(0.0),
        "_before_units": nw.when(before_last).then(nw.col("_units")).otherwise(0.0),
        "_last_prescriber": nw.when(
            (nw.col("quantity") > 0) & (nw.col("date") == nw.col(last_rx_day))
        ).then(nw.col("_prescriber")),
    }


def _detail_aggregates(*, days_given: bool) -> list[nw.Expr]:
    return [
        *(
            nw.col(f"_last{name}").sum()
            for name in ((GIVEN_DAYS, GIVEN_UNITS) if days_given else ())
        ),
        nw.col("_last_units").sum(),
        nw.col("_before_units").sum(),
        nw.col("_last_prescriber").min(),
    ]


def _last_supply_and_prescriber(
    benzo_rows: nw.LazyFrame[Any], candidates: nw.LazyFrame[Any], *, days_given: bool
) -> nw.LazyFrame[Any]:
    """Per candidate: units of the last dispensing day, units before it, the last prescriber.

    A second, small pass: only the benzodiazepine rows of patients over the threshold.
    """
    joined = benzo_rows.join(
        candidates.select("patient_id", "_last_unit_date", "_last_prescriber_date"),
        on="patient_id",
        how="inner",
    )
    return (
        joined.with_columns(
            **_detail_columns("_last_unit_date", "_last_prescriber_date", days_given=days_given)
        )
        .group_by("patient_id")
        .agg(*_detail_aggregates(days_given=days_given))
    )


def _days_of_use(
    benzo_rows: nw.LazyFrame[Any], period: Window, units_per_day: float, *, days_given: bool
) -> nw.LazyFrame[Any]:
    """Days in ``period`` covered by supply, per patient (the NHG definition of chronic use).

    Units are netted per day; a day's units supply ``units / units_per_day`` days from that day
    on (a day that nets to a return supplies none), and supply left over at a refill carries
    forward (an early refill does not lose days): :func:`benzoredux.supply.supply_ends`, shared
    with the effect evaluation. Its running totals join each patient's days to themselves (no
    ordered window: Dask has none; the days of one patient in one window are few, so the pairs
    are too). Only dispensings in the selection window are read.

    A dispensing with ``days_supply`` supplies those days instead
    (:func:`benzoredux.supply.supply_days`: the NHG counts days of use by the instruction).
    """
    by = "patient_id"
    given_names = (GIVEN_DAYS, GIVEN_UNITS) if days_given else ()
    days = supply_days(
        nw.col("_net"),
        units_per_day,
        (nw.col(GIVEN_DAYS), nw.col(GIVEN_UNITS)) if days_given else None,
        later_end=False,
    )
    daily = (
        benzo_rows.filter(nw.col("_counted"))
        .group_by(by, "date")
        .agg(nw.col("_units").sum().alias("_net"), *(nw.col(c).sum() for c in given_names))
        .select(
            by,
            _day=epoch_days(nw.col("date")),
            _supply=nw.when(days > 0).then(days).otherwise(0.0),
        )
    )
    daily = supply_ends(daily, by)
    low, high = epoch_day(period.start) + 1, epoch_day(period.end) + 1
    # clip, not min/max_horizontal with a literal: Dask cannot align a literal as a column.
    covered = nw.col("_end").clip(upper_bound=high) - (nw.col("_end") - nw.col("_supply")).clip(
        lower_bound=low
    )
    return (
        daily.with_columns(_covered=nw.when(covered > 0).then(covered).otherwise(0.0))
        .group_by(by)
        .agg(nw.col("_covered").sum().alias("days_used"))
        .with_columns(nw.col("days_used").round(1))
    )


def _supply_estimate(
    result: nw.LazyFrame[Any],
    reference: dt.date,
    criteria: ChronicUseCriteria,
    *,
    days_given: bool,
) -> nw.LazyFrame[Any]:
    """Estimate when the last supply ran out, to flag patients who probably stopped already.

    The patient's own rate of use is observed between the first and the last dispensing day
    (the units dispensed before the last day were used up over that span); with a single
    dispensing day the rate is ``assumed_units_per_day`` (:func:`benzoredux.supply.use_rate`,
    shared with the effect evaluation). The last day's units last ``units / rate`` days, or,
    with ``days_supply``, the later of that and their given days
    (:func:`benzoredux.supply.supply_days`). ``days_since_supply_end`` is negative while supply
    remains.
    """
    result = result.with_columns(
        _last_day=epoch_days(nw.col("_last_unit_date")),
        _first_day=epoch_days(nw.col("_first_unit_date")),
    )
    last_day = nw.col("_last_day")
    span = last_day - nw.col("_first_day")
    rate = use_rate(nw.col("_before_units"), span, criteria.assumed_units_per_day)
    if days_given:
        days = supply_days(
            nw.col("_last_units"),
            rate,
            (nw.col(f"_last{GIVEN_DAYS}"), nw.col(f"_last{GIVEN_UNITS}")),
            later_end=True,
        )
        supplied = nw.when(days > 0).then(days).otherwise(0.0)
    else:
        last_units = nw.when(nw.col("_last_units") > 0).then(nw.col("_last_units"))
        supplied = last_units.otherwise(0.0) / rate
    days_since = epoch_day(reference) - (last_day + supplied)
    return result.with_columns(days_since_supply_end=days_since.round(1)).with_columns(
        probably_stopped=nw.col("days_since_supply_end") > criteria.stopped_grace_days
    )


def _complex_groups_expr() -> nw.Expr:
    return nw.concat_str(
        [
            nw.when(nw.col(f"_cx_{g.group}") > 0).then(nw.lit(g.group))
            for g in codes.complex_comedication_groups()
        ],
        separator=", ",
        ignore_nulls=True,
    )


def _attach_patients(
    execution: Execution,
    *,
    result: nw.LazyFrame[Any],
    patients: IntoFrame | PathSource | None,
    reference: dt.date,
    criteria: ChronicUseCriteria,
    exclusions: list[nw.Expr],
) -> tuple[nw.LazyFrame[Any], nw.Expr]:
    """Attribute each patient to a GP; leave out those who left the practice (documented)."""
    prescriber = nw.col("_last_prescriber")
    if patients is None:
        result = result.with_columns(gp_id=prescriber)
        return result, nw.when(~prescriber.is_null()).then(nw.lit("prescriber"))
    PATIENTS.check_present(execution.columns(patients, "patients"))
    table = execution.lazy(patients, "patients", columns=_USED_PATIENTS)
    columns = table.collect_schema()
    check_rows(
        patients,
        table,
        PATIENTS,
        execution,
        used=_USED_PATIENTS,
        plausibility=Plausibility(as_of=reference),
    )
    listed = (
        nw.col("gp_id").cast(nw.String).alias("_listed_gp")
        if "gp_id" in columns
        else nw.lit(None, nw.String).alias("_listed_gp")
    )
    status = (
        nw.col("status").cast(nw.String).alias("_status")
        if "status" in columns
        else nw.lit(None, nw.String).alias("_status")
    )
    status_date = (
        nw.col("status_date").cast(nw.Date).alias("_status_date")
        if "status_date" in columns
        else nw.lit(None, nw.Date).alias("_status_date")
    )
    table = table.select(nw.col("patient_id").cast(nw.String), listed, status, status_date)
    result = result.join(table, on="patient_id", how="left").with_columns(
        gp_id=nw.coalesce(nw.col("_listed_gp"), prescriber)
    )
    if criteria.exclude_departed:
        departed = nw.col("_status").is_in(list(LEFT_PRACTICE)) & (
            nw.col("_status_date") <= reference
        )
        exclusions.append(
            nw.when(departed).then(
                nw.concat_str([nw.col("_status"), nw.lit(" on or before the reference date")])
            )
        )
    source = (
        nw.when(~nw.col("_listed_gp").is_null())
        .then(nw.lit("listed"))
        .when(~prescriber.is_null())
        .then(nw.lit("prescriber"))
    )
    return result, source


def _attach_gp_route(
    execution: Execution,
    *,
    result: nw.LazyFrame[Any],
    episodes: IntoFrame | PathSource | None,
    window: Window,
    criteria: ChronicUseCriteria,
    exclusions: list[nw.Expr],
) -> nw.LazyFrame[Any]:
    """Flag patients without a GP-route episode (P01/P06/P74 by default)."""
    if episodes is None:
        raise ValueError("gp_route=True needs an episodes table (episodes=...)")
    EPISODES.check_present(execution.columns(episodes, "episodes"))
    table = execution.lazy(episodes, "episodes", columns=_USED_EPISODES)
    columns = table.collect_schema()
    check_rows(episodes, table, EPISODES, execution, used=_USED_EPISODES)
    keep = nw.col("icpc").cast(nw.String).str.slice(0, 3).is_in(list(criteria.gp_route_codes))
    # As dates: a time of day must not move an episode to the other side of the window.
    start, end = nw.col("start").cast(nw.Date), nw.col("end").cast(nw.Date)
    if "start" in columns:
        keep = keep & (start.is_null() | (start <= window.end))
    if criteria.gp_route_active_only and "end" in columns:
        keep = keep & (end.is_null() | (end > window.start))
    route = (
        table.filter(keep)
        .select(nw.col("patient_id").cast(nw.String))
        .unique()
        .with_columns(_on_route=nw.lit(value=True))
    )
    codes_text = "/".join(criteria.gp_route_codes)
    exclusions.append(
        nw.when(nw.col("_on_route").is_null()).then(nw.lit(f"no {codes_text} episode"))
    )
    return result.join(route, on="patient_id", how="left")


def select_new_users(
    dispensings: IntoFrame | PathSource,
    reference_date: DateLike,
    *,
    patients: IntoFrame | PathSource | None = None,
    **options: Any,
) -> Any:
    """Patients whose first benzodiazepine dispensing falls in the window: new users.

    For the preventive action at a first request (Proscoop): a patient is new when a
    benzodiazepine was dispensed in the ``window_months`` up to the reference date and none in the
    ``lookback_months`` before that window. ``large_first`` flags a first dispensing of more than
    ``max_first_units`` units.

    ``dispensings`` and ``patients`` are tables of any supported kind or Parquet paths, as in
    :func:`select_chronic_users`.

    :returns: one row per new user with ``patient_id``, ``gp_id``, ``gp_source``, ``first_date``,
        ``first_atc``, ``first_units``, ``large_first``, ``units`` and ``n_dispensings`` (in the
        window); of the caller's kind (lazy in, lazy out: a Parquet path gives a polars
        ``LazyFrame``), sorted by ``patient_id``.
    :warns ~benzoredux.errors.DataCoverageWarning: when the data start after the look-back
        period begins, so earlier use cannot be ruled out.
    :warns ~benzoredux.errors.UnknownCodesWarning: when benzodiazepine rows of the period carry
        a code the library does not know (they count; :func:`unknown_code_rows` lists them).
    """
    criteria: NewUseCriteria = _criteria(NewUseCriteria, options)
    reference = parse_reference_date(reference_date)
    window = window_before(reference, months=criteria.window_months)
    lookback = window_before(window.start, months=criteria.lookback_months)
    execution = Execution.for_input(dispensings, criteria.engine, name="dispensings")
    lazy, schema, distinct = _prepare_dispensings(
        execution,
        dispensings,
        criteria.extra_forms,
        Plausibility(as_of=reference, max_quantity=criteria.max_quantity),
    )

    earliest = lazy.select(nw.col("date").cast(nw.Date).min()).collect().item()
    if earliest is None:
        # An empty table (a file with only its header line): say so, not "start on None".
        warnings.warn(
            "the dispensings table holds no dispensings, so no one can be counted as a new "
            "user; check that the file is the pharmacy's full export",
            DataCoverageWarning,
            stacklevel=2,
        )
    elif earliest > lookback.start + dt.timedelta(days=1):
        warnings.warn(
            f"dispensings start on {earliest}, after the look-back period begins "
            f"({lookback.start + dt.timedelta(days=1)}): earlier use cannot be ruled out and "
            "some patients may wrongly count as new users",
            DataCoverageWarning,
            stacklevel=2,
        )
    period = Window(lookback.start, window.end)
    counted = counted_expr(schema, criteria.extra_forms, distinct)
    prescriber = (
        nw.col("prescriber_id").cast(nw.String)
        if "prescriber_id" in schema
        else nw.lit(None, nw.String)
    )
    rows = (
        lazy.filter(period.expression("date", schema["date"]), nw.col("quantity") > 0)
        .with_columns(nw.col("atc").cast(nw.String))
        .filter(distinct.atc_in(codes.benzodiazepine_groups()))
        .with_columns(
            nw.col("date").cast(nw.Date),
            nw.col("patient_id").cast(nw.String),
            _units=nw.when(counted).then(nw.col("quantity").cast(nw.Float64)).otherwise(0.0),
            _prescriber=prescriber,
        )
    )
    _report_unknown_codes(
        rows,
        DistinctValues(rows) if distinct.scan else distinct,
        "in the new-user period",
        stacklevel=2,
    )
    first = rows.group_by("patient_id").agg(nw.col("date").min().alias("first_date"))
    new = first.filter(nw.col("first_date") > window.start)
    on_first = nw.col("date") == nw.col("first_date")
    in_window = rows.join(new, on="patient_id", how="inner").with_columns(
        _first_units=nw.when(on_first).then(nw.col("_units")).otherwise(0.0),
        _first_atc=nw.when(on_first).then(nw.col("atc")),
        _first_prescriber=nw.when(on_first).then(nw.col("_prescriber")),
    )
    summary = in_window.group_by("patient_id").agg(
        nw.col("first_date").min(),
        nw.col("_units").sum().alias("units"),
        nw.len().alias("n_dispensings"),
        nw.col("_first_units").sum().alias("first_units"),
        nw.col("_first_atc").min().alias("first_atc"),
        nw.col("_first_prescriber").min().alias("_last_prescriber"),
    )
    summary = summary.with_columns(
        large_first=nw.col("first_units") > criteria.max_first_units,
        n_dispensings=nw.col("n_dispensings").cast(nw.Int64),
    )
    chronic_like = ChronicUseCriteria(exclude_departed=False)
    summary, gp_source = _attach_patients(
        execution,
        result=summary,
        patients=patients,
        reference=reference,
        criteria=chronic_like,
        exclusions=[],
    )
    summary = summary.with_columns(gp_source=gp_source)
    output = [
        "patient_id",
        "gp_id",
        "gp_source",
        "first_date",
        "first_atc",
        "first_units",
        "large_first",
        "units",
        "n_dispensings",
    ]
    return execution.finish(summary.select(output).sort("patient_id"))


def count_per_gp(
    selection: IntoFrame, patients: IntoFrame | None = None, *, engine: Engine = "auto"
) -> Any:
    """Chronic users per GP: the table behind the FTO module's chart "chronic users per GP".

    :param selection: the result of :func:`select_chronic_users`.
    :param patients: optional patients table; then every listed GP appears (also with zero
        users), with ``listed_patients`` (active listed patients) and ``per_1000_listed``.
    :returns: ``gp_id``, ``chronic_users``, ``probably_stopped`` (and the two listed columns),
        sorted by ``gp_id``; patients without a GP are counted under an empty ``gp_id``.
    """
    execution = Execution.for_input(selection, engine)
    lazy = execution.lazy(selection, "selection").with_columns(
        nw.col("gp_id").cast(nw.String), _stopped=nw.col("probably_stopped").cast(nw.Int64)
    )
    counts = lazy.group_by("gp_id").agg(  # simple aggregations only: native on every backend
        nw.len().alias("chronic_users"), nw.col("_stopped").sum().alias("probably_stopped")
    )
    if patients is None:
        counts = counts.with_columns(
            nw.col("chronic_users").cast(nw.Int64), nw.col("probably_stopped").cast(nw.Int64)
        )
        return execution.finish(counts.sort("gp_id", nulls_last=True))
    table = execution.lazy(patients, "patients")
    columns = table.collect_schema()
    PATIENTS.check_columns(columns)
    if "gp_id" not in columns:
        raise ValueError("count_per_gp: the patients table needs a gp_id column")
    active = (
        nw.col("status").is_null() | (nw.col("status") == "active")
        if "status" in columns
        else (nw.lit(value=True))
    )
    listed = (
        table.filter(~nw.col("gp_id").is_null(), active)
        .with_columns(nw.col("gp_id").cast(nw.String))
        .group_by("gp_id")
        .agg(nw.len().alias("listed_patients"))
    )
    joined = listed.join(counts, on="gp_id", how="full", suffix="_right").with_columns(
        gp_id=nw.coalesce(nw.col("gp_id"), nw.col("gp_id_right"))
    )
    joined = joined.with_columns(
        nw.col(name).fill_null(0).cast(nw.Int64)
        for name in ("chronic_users", "probably_stopped", "listed_patients")
    ).with_columns(
        per_1000_listed=nw.when(nw.col("listed_patients") > 0).then(
            nw.col("chronic_users") * 1000 / nw.col("listed_patients")
        )
    )
    output = ["gp_id", "chronic_users", "probably_stopped", "listed_patients", "per_1000_listed"]
    return execution.finish(joined.select(output).sort("gp_id", nulls_last=True))


def unknown_code_rows(
    dispensings: IntoFrame | PathSource,
    reference_date: DateLike | None = None,
    *,
    window_months: int = 12,
    engine: Engine = "auto",
) -> Any:
    """The dispensings whose ATC code is in a group of the selection but unknown to the library.

    A code counts as unknown when it is well formed, starts with the prefix of a benzodiazepine
    or complex co-medication group (``data/atc_groups.csv``) and is neither in today's WHO index
    nor one of the retired codes the library recognises (``data/atc_codes.csv``): a typing
    error, a code retired before 2020, or one newer than this version of benzoredux. The
    selection counts such rows in the group their code starts with and warns
    (:class:`~benzoredux.errors.UnknownCodesWarning`); this function lists them, to check and
    correct the export. The distinct codes are classified once in Python; the rows are found by
    ``is_in`` on the few unknown ones.

    :param dispensings: a :data:`~benzoredux.tables.DISPENSINGS` table of any supported kind, or
        a Parquet path, as for :func:`select_chronic_users`.
    :param reference_date: with a date, only the rows of the selection window (the
        ``window_months`` up to and including it), as :func:`select_chronic_users` reads them;
        without one, the whole table.
    :returns: the rows as given (all their columns), sorted by code, patient and date; of the
        caller's kind (lazy in, lazy out).

    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "patient_id": ["p1", "p1", "p2"],
    ...     "date": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-03-01"]),
    ...     "atc": ["N05BA04", "N05BA99", "N02AJ06"],
    ...     "quantity": [50.0, 30.0, 20.0],
    ... })
    >>> unknown_code_rows(rows)[["patient_id", "atc"]]
      patient_id      atc
    0         p1  N05BA99
    """
    if not (isinstance(window_months, int) and window_months > 0):
        raise ValueError(f"window_months must be a positive whole number, got {window_months!r}")
    execution = Execution.for_input(dispensings, engine, name="dispensings")
    lazy = execution.lazy(dispensings, "dispensings")
    schema = lazy.collect_schema()
    DISPENSINGS.check_columns(schema)
    if reference_date is not None:
        window = window_before(parse_reference_date(reference_date), months=window_months)
        lazy = lazy.filter(window.expression("date", schema["date"]))
    atc = nw.col("atc").cast(nw.String)
    present = lazy.select(atc.alias("atc")).unique().collect()["atc"].to_list()
    unknown = codes.unknown_atc_codes(present)
    # No unknown code: a row-wise false test (a literal cannot filter on every backend).
    keep = atc.is_in(list(unknown)) if unknown else atc.is_null() & ~atc.is_null()
    return execution.finish(lazy.filter(keep).sort("atc", "patient_id", "date"))
