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
ddd_per_day            on      the selection's average DDD per day is above ``max_ddd_per_day``
                               (2: the Benzoredux study; 1: the NHG guideline's advice)
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
from benzoredux.screening import ScreeningContext

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


def _ddd_per_day(context: ScreeningContext) -> nw.LazyFrame[Any]:
    limit = float(context.parameters["max_ddd_per_day"])
    frame = context.selection_columns("ddd_per_day")
    ddd = nw.col("ddd_per_day").cast(nw.Float64)
    shown = f"{limit:g}"
    return frame.select(
        "patient_id",
        (ddd > limit).alias("excluded"),
        nw.when(ddd.is_null())
        .then(nw.lit("DDD per day unknown (a dispensing without strength_mg or a DDD)"))
        .otherwise(
            nw.concat_str(
                [ddd.round(2).cast(nw.String), nw.lit(f" DDD a day, more than {shown} DDD")]
            )
        )
        .alias("reason"),
    )


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
                    "Average DDD a day over the selection window (the selection's ddd_per_day) "
                    "above max_ddd_per_day: 2 after the Benzoredux study (above 2 DDD patients "
                    "could not stop on their own), 1 after the NHG guideline (2014)."
                ),
                parameters=_parameters(max_ddd_per_day=2.0),
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
