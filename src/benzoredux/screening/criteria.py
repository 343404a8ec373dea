"""The built-in exclusion criteria of the screening step, registered as an internal plugin.

One criterion per item of the FTO module's list (bijlage 2, step 2), plus two the selection
makes possible. Each is an ordinary :class:`~benzoredux.hookspecs.ScreeningCriterion`,
registered through the ``benzoredux_register_criteria`` hook like any plugin's, so a practice
switches it off, or a plugin replaces it, by key:

====================== ======= ===================================================================
key                    default excludes a patient when
====================== ======= ===================================================================
other_indication       on      an episode with an ICPC code of another indication than sleep or
                               anxiety problems (addiction, psychosis, schizophrenia, dementia,
                               epilepsy: ``use=other_indication`` in ``data/icpc_codes.csv``)
                               started on or before the reference date
palliative             on      the patients table marks terminal or palliative care
dutch_language         on      the patients table says the patient does not read Dutch well
                               enough to understand the letter
immobile               on      the patients table says the patient cannot come to a consult
ddd_per_day            on      the selection's current dose (``ddd_per_day_recent``, DDD a day
                               over by default the last 3 months) is above ``max_ddd_per_day``
                               (2: the Benzoredux study; 1: the NHG guideline's advice);
                               ``dose_basis``: ``recent`` (default; undecided when only the
                               year's average is above), ``year`` (the average over the
                               selection window, ``ddd_per_day``) or ``higher`` (of the two)
probably_stopped       on      the selection estimates the last supply ran out well before the
                               reference date (a recent stopper needs no stop letter)
excluded_at_selection  on      the selection kept the patient with ``excluded_because`` (complex
                               co-medication, left the practice); never undecided
high_age               off     older than ``max_age`` (80) on the reference date
serious_comorbidity    off     the patients table marks serious comorbidity, or an episode has
                               one of the practice's ``icpc_codes``
psychosocial           off     an episode open on the reference date codes a psychosocial problem
                               (ICPC chapter Z, social problems: ``use=psychosocial`` in
                               ``data/icpc_codes.csv``); ``icpc_codes`` replaces the list
====================== ======= ===================================================================

Defaults are choices the seed leaves open: the seed lists high age, psychosocial problems and
comorbidity under "other reasons" for the GP to weigh, so they are off until a practice switches
them on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals as nw
from attrs import define
from dateutil.relativedelta import relativedelta

from benzoredux import codes
from benzoredux.hookspecs import ScreeningCriterion, hookimpl
from benzoredux.models import ExclusionCriterion
from benzoredux.screening import ScreeningContext, ScreeningError

__all__ = ["BuiltinCriterion", "builtin_criteria"]


@define
class BuiltinCriterion:
    """A criterion whose decision is a function of the screening context."""

    criterion: ExclusionCriterion
    decider: Callable[[ScreeningContext], nw.LazyFrame[Any]]

    def decide(self, context: ScreeningContext) -> nw.LazyFrame[Any]:
        """See :meth:`benzoredux.hookspecs.ScreeningCriterion.decide`."""
        return self.decider(context)


def _episode_match(context: ScreeningContext, wanted: tuple[str, ...]) -> nw.LazyFrame[Any]:
    """Per selected patient, a flag per wanted code (rubric or subcode) found in an episode.

    An episode counts when it started on or before the reference date (or its start is
    unknown); with ``active_only`` it must also not have ended before the reference date.
    """
    episodes = context.require_episodes()
    columns = episodes.collect_schema()
    icpc = nw.col("icpc").cast(nw.String).str.strip_chars().str.to_uppercase()
    keep = nw.lit(value=True)
    if "start" in columns:
        start = nw.col("start").cast(nw.Date)
        keep = keep & (start.is_null() | (start <= context.reference_date))
    if context.parameters.get("active_only") and "end" in columns:
        end = nw.col("end").cast(nw.Date)
        keep = keep & (end.is_null() | (end >= context.reference_date))
    flags = {
        f"_c{n}": (icpc == code) | icpc.str.starts_with(f"{code}.") for n, code in enumerate(wanted)
    }
    per_patient = (
        episodes.filter(keep)
        .with_columns(**{name: expr.cast(nw.Int64) for name, expr in flags.items()})
        .group_by("patient_id")
        .agg(*(nw.col(name).max() for name in flags))
    )
    return context.selection.select("patient_id").join(per_patient, on="patient_id", how="left")


def _codes_reason(wanted: tuple[str, ...], titles: dict[str, str], prefix: str) -> nw.Expr:
    found = nw.concat_str(
        [
            nw.when(nw.col(f"_c{n}") > 0).then(nw.lit(f"{code} {titles.get(code, '')}".strip()))
            for n, code in enumerate(wanted)
        ],
        separator=", ",
        ignore_nulls=True,
    )
    return nw.concat_str([nw.lit(prefix), found])


def _any_code(wanted: tuple[str, ...]) -> nw.Expr:
    if not wanted:
        return nw.lit(value=False)
    return nw.any_horizontal(*(nw.col(f"_c{n}") > 0 for n in range(len(wanted))), ignore_nulls=True)


def _titles() -> dict[str, str]:
    return {str(e.code): e.title_en for e in codes.icpc_codes()}


def _codes_parameter(context: ScreeningContext, name: str) -> tuple[str, ...]:
    values = context.parameters.get(name) or ()
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    return tuple(dict.fromkeys(str(codes.ICPCCode(v)) for v in values))


def _coded_episode(prefix: str) -> Callable[[ScreeningContext], nw.LazyFrame[Any]]:
    """A criterion that excludes patients with an episode coded with one of ``icpc_codes``.

    Patients without any episode are decided (not excluded): the episodes table is there, and
    a problem the GP never coded is not known to the practice either.
    """

    def decide(context: ScreeningContext) -> nw.LazyFrame[Any]:
        wanted = _codes_parameter(context, "icpc_codes")
        frame = _episode_match(context, wanted)
        excluded = _any_code(wanted).fill_null(value=False)
        return context.answer(frame, excluded, _codes_reason(wanted, _titles(), prefix))

    return decide


def _flag_column(
    column: str, *, exclude_when: bool, reason: str, unknown: str
) -> Callable[[ScreeningContext], nw.LazyFrame[Any]]:
    def decide(context: ScreeningContext) -> nw.LazyFrame[Any]:
        frame = context.patient_columns(column)
        value = nw.col(column)
        excluded = value if exclude_when else ~value
        return frame.select(
            "patient_id",
            excluded.alias("excluded"),
            nw.when(value.is_null())
            .then(nw.lit(unknown))
            .otherwise(nw.lit(reason))
            .alias("reason"),
        )

    return decide


DOSE_BASES = ("recent", "year", "higher")
"""Values of the ``ddd_per_day`` criterion's ``dose_basis``: the dose it compares."""

# Per dose: the selection's column, how the reason names it, and the reason when it is unknown.
_DOSES = {
    "recent": (
        "ddd_per_day_recent",
        "recently",
        "recent DDD per day unknown (a dispensing in the recent window without strength_mg or "
        "a DDD)",
    ),
    "year": (
        "ddd_per_day",
        "on average over the selection window",
        "DDD per day unknown (a dispensing without strength_mg or a DDD)",
    ),
}


def _ddd_per_day(context: ScreeningContext) -> nw.LazyFrame[Any]:
    """Above ``max_ddd_per_day`` on the dose ``dose_basis`` names.

    ``recent`` (default) compares the current dose (``ddd_per_day_recent``): the seed's limit
    is on use now, and a year's average hides a recent rise. The recent value counts what was
    dispensed in a few months, so a steady high user whose last supply fell just before the
    recent window shows a low one: when the year's average is above the limit and the recent
    dose is not, the patient is undecided (the GP checks), not eligible. ``year`` compares the
    average over the selection window alone, ``higher`` excludes when either is above. An
    unknown dose compared is undecided, never eligible; with ``higher`` a known dose above the
    limit excludes even when the other one is unknown.
    """
    limit = float(context.parameters["max_ddd_per_day"])
    basis = context.parameters["dose_basis"]
    if basis not in DOSE_BASES:
        raise ScreeningError(
            f"criterion 'ddd_per_day': dose_basis {basis!r} is not one of {', '.join(DOSE_BASES)}"
        )
    schema = context.selection.collect_schema()
    used = ("recent", "year") if basis == "higher" else (basis,)
    columns = [_DOSES[b][0] for b in used]
    absent = [c for c in columns if c not in schema]
    if absent:
        hint = (
            " (a selection made by an earlier version has no current dose: select again, or "
            "compare the year's average with dose_basis='year')"
            if "ddd_per_day_recent" in absent
            else ""
        )
        raise context.missing(f"the selection has no column {', '.join(map(repr, absent))}{hint}")
    # With the recent dose, the year's average (when the selection has it) is a second opinion.
    second_opinion = basis == "recent" and "ddd_per_day" in schema
    frame = context.selection_columns(*columns, *(["ddd_per_day"] if second_opinion else []))
    shown = f"{limit:g}"
    doses = [(nw.col(_DOSES[b][0]).cast(nw.Float64), b) for b in used]
    above = [(dose > limit).fill_null(value=False) for dose, _ in doses]
    unknown = [dose.is_null() for dose, _ in doses]
    # The reason: the first dose above the limit, else the first dose that is unknown.
    cases: list[tuple[nw.Expr, nw.Expr]] = [
        (
            is_above,
            nw.concat_str(
                [
                    dose.round(2).cast(nw.String),
                    nw.lit(f" DDD a day {_DOSES[b][1]} ({_DOSES[b][0]}), more than {shown} DDD"),
                ]
            ),
        )
        for is_above, (dose, b) in zip(above, doses, strict=True)
    ] + [
        (is_unknown, nw.lit(_DOSES[b][2]))
        for is_unknown, (_, b) in zip(unknown, doses, strict=True)
    ]
    undecided = nw.any_horizontal(*unknown, ignore_nulls=True)
    if second_opinion:
        year = nw.col("ddd_per_day").cast(nw.Float64)
        year_above = (year > limit).fill_null(value=False)
        undecided = undecided | year_above
        cases.append(
            (
                year_above,
                nw.concat_str(
                    [
                        doses[0][0].round(2).cast(nw.String),
                        nw.lit(" DDD a day recently (ddd_per_day_recent), but "),
                        year.round(2).cast(nw.String),
                        nw.lit(
                            " on average over the selection window (ddd_per_day), more than "
                            f"{shown} DDD: check the current dose"
                        ),
                    ]
                ),
            )
        )
    excluded = (
        nw.when(nw.any_horizontal(*above, ignore_nulls=True))
        .then(nw.lit(value=True))
        .when(undecided)
        .then(nw.lit(None, nw.Boolean))
        .otherwise(nw.lit(value=False))
    )
    reason: Any = nw.when(cases[0][0]).then(cases[0][1])
    for condition, text in cases[1:]:
        reason = reason.when(condition).then(text)
    return frame.select("patient_id", excluded.alias("excluded"), reason.alias("reason"))


def _probably_stopped(context: ScreeningContext) -> nw.LazyFrame[Any]:
    frame = context.selection_columns("probably_stopped", "days_since_supply_end")
    stopped = nw.col("probably_stopped").cast(nw.Boolean)
    return frame.select(
        "patient_id",
        stopped.alias("excluded"),
        nw.when(stopped.is_null())
        .then(nw.lit("supply end unknown"))
        .otherwise(
            nw.concat_str(
                [
                    nw.lit("probably stopped: last supply ran out about "),
                    nw.col("days_since_supply_end").round(0).cast(nw.Int64).cast(nw.String),
                    nw.lit(" days before the reference date"),
                ]
            )
        )
        .alias("reason"),
    )


def _excluded_at_selection(context: ScreeningContext) -> nw.LazyFrame[Any]:
    columns = context.selection.collect_schema()
    if "excluded_because" not in columns:  # the selection left them out already
        return context.selection.select(
            "patient_id",
            nw.lit(value=False).alias("excluded"),
            nw.lit(None, nw.String).alias("reason"),
        )
    because = nw.col("excluded_because").cast(nw.String)
    excluded = ~because.is_null() & (because.str.strip_chars() != "")
    return context.answer(context.selection, excluded, because)


def _high_age(context: ScreeningContext) -> nw.LazyFrame[Any]:
    max_age = int(context.parameters["max_age"])
    # Older than max_age: born on or before the day max_age + 1 years before the reference date
    # (calendar arithmetic: someone born on 29 February has the birthday on 1 March).
    cutoff = context.reference_date - relativedelta(years=max_age + 1)
    frame = context.patient_columns("birth_date")
    born = nw.col("birth_date").cast(nw.Date)
    return frame.select(
        "patient_id",
        (born <= cutoff).alias("excluded"),
        nw.when(born.is_null())
        .then(nw.lit("birth date unknown"))
        .otherwise(nw.lit(f"older than {max_age} on the reference date"))
        .alias("reason"),
    )


def _serious_comorbidity(context: ScreeningContext) -> nw.LazyFrame[Any]:
    wanted = _codes_parameter(context, "icpc_codes")
    has_column = context.patients is not None and "serious_comorbidity" in (
        context.patients.collect_schema()
    )
    if not wanted and not has_column:
        raise context.missing(
            "it needs the patients table's 'serious_comorbidity' column, or ICPC codes "
            "(parameter icpc_codes) and the episodes table"
        )
    frame = context.selection.select("patient_id")
    marked = nw.lit(None, nw.Boolean)
    if has_column:
        frame = context.patient_columns("serious_comorbidity")
        marked = nw.col("serious_comorbidity")
    if wanted:
        frame = frame.join(_episode_match(context, wanted), on="patient_id", how="left")
        coded = _any_code(wanted).fill_null(value=False)
        # A coded episode decides; otherwise the column does (empty there: undecided).
        excluded = (
            nw.when(coded)
            .then(nw.lit(value=True))
            .otherwise(marked if has_column else nw.lit(value=False))
        )
        reason = (
            nw.when(coded)
            .then(_codes_reason(wanted, _titles(), "serious comorbidity: "))
            .when(marked.is_null() if has_column else nw.lit(value=False))
            .then(nw.lit("serious comorbidity unknown"))
            .otherwise(nw.lit("serious comorbidity (marked by the GP)"))
        )
    else:
        excluded = marked
        reason = (
            nw.when(marked.is_null())
            .then(nw.lit("serious comorbidity unknown"))
            .otherwise(nw.lit("serious comorbidity (marked by the GP)"))
        )
    return frame.select("patient_id", excluded.alias("excluded"), reason.alias("reason"))


def _parameters(**values: Any) -> Any:
    """Parameters for an :class:`ExclusionCriterion` (typed ``Any``: attrs converts them)."""
    return values


def builtin_criteria() -> tuple[BuiltinCriterion, ...]:
    """The built-in criteria, in the order screening applies them (and reports them)."""
    other = tuple(str(e.code) for e in codes.icpc_codes("other_indication"))
    psychosocial = tuple(str(e.code) for e in codes.icpc_codes("psychosocial"))
    return (
        BuiltinCriterion(
            ExclusionCriterion(
                key="other_indication",
                label="uses benzodiazepines for another indication than sleep or anxiety",
                description=(
                    "An ICPC episode of addiction, psychosis, schizophrenia, dementia or "
                    "epilepsy started on or before the reference date. Needs the episodes table."
                ),
                parameters=_parameters(icpc_codes=other, active_only=False),
            ),
            _coded_episode("other indication: "),
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="palliative",
                label="terminal or in palliative care",
                description="The patients table's 'palliative' column is true.",
            ),
            _flag_column(
                "palliative",
                exclude_when=True,
                reason="terminal or palliative care",
                unknown="palliative status unknown",
            ),
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="dutch_language",
                label="will not understand the letter (does not read Dutch)",
                description="The patients table's 'dutch_language' column is false.",
            ),
            _flag_column(
                "dutch_language",
                exclude_when=False,
                reason="does not read Dutch well enough for the letter",
                unknown="whether the patient reads Dutch is unknown",
            ),
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="immobile",
                label="cannot come to the evaluation consult (immobile)",
                description="The patients table's 'immobile' column is true.",
            ),
            _flag_column(
                "immobile",
                exclude_when=True,
                reason="cannot come to the practice (immobile)",
                unknown="mobility unknown",
            ),
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="ddd_per_day",
                label="uses more than the maximum DDD per day",
                description=(
                    "The current dose (the selection's ddd_per_day_recent: DDD a day over the "
                    "recent window, by default the last 3 months) above max_ddd_per_day: 2 "
                    "after the Benzoredux study (above 2 DDD patients could not stop on their "
                    "own), 1 after the NHG guideline (2014); undecided when only the average "
                    "over the selection window (ddd_per_day) is above. dose_basis='year' "
                    "compares that average instead, 'higher' the higher of the two."
                ),
                parameters=_parameters(max_ddd_per_day=2.0, dose_basis="recent"),
            ),
            _ddd_per_day,
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="probably_stopped",
                label="probably stopped already",
                description=(
                    "The selection's supply estimate ran out well before the reference date "
                    "(probably_stopped): a recent stopper is wrongly counted as a user."
                ),
            ),
            _probably_stopped,
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="excluded_at_selection",
                label="excluded at selection",
                description=(
                    "The selection, run with include_excluded=True, gave a reason in "
                    "excluded_because (complex co-medication, left the practice)."
                ),
            ),
            _excluded_at_selection,
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="high_age",
                label="high age",
                description="Older than max_age on the reference date (birth_date).",
                enabled=False,
                parameters=_parameters(max_age=80),
            ),
            _high_age,
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="serious_comorbidity",
                label="serious comorbidity",
                description=(
                    "The patients table's 'serious_comorbidity' column is true, or an episode "
                    "has one of the ICPC codes the practice lists in icpc_codes."
                ),
                enabled=False,
                parameters=_parameters(icpc_codes=(), active_only=True),
            ),
            _serious_comorbidity,
        ),
        BuiltinCriterion(
            ExclusionCriterion(
                key="psychosocial",
                label="psychosocial problems",
                description=(
                    "An episode open on the reference date with one of icpc_codes: by default "
                    "the social problems of ICPC chapter Z (use=psychosocial in "
                    "data/icpc_codes.csv). Needs the episodes table."
                ),
                enabled=False,
                parameters=_parameters(icpc_codes=psychosocial, active_only=True),
            ),
            _coded_episode("psychosocial problems: "),
        ),
    )


@hookimpl
def benzoredux_register_criteria(register: Callable[[ScreeningCriterion], None]) -> None:
    """Register the built-in criteria."""
    for criterion in builtin_criteria():
        register(criterion)
