"""Scoring the two questionnaires of the evaluation consult: the Bendep-SRQ and the BWSQ.

The FTO module (bijlage 2, step 5) names two questionnaires the GP or POH-GGZ can use at the
evaluation consult:

* the **Bendep-SRQ** (Benzodiazepine Dependence Self-Report Questionnaire; Kan, Breteler,
  Timmermans, van der Ven and Zitman, *Compr Psychiatry* 1999;40:283-291), which measures the
  severity of dependence on four scales: *problematic use* (awareness of problematic use),
  *preoccupation* (with the availability of benzodiazepines), *lack of compliance* (with the
  therapeutic regimen) and *withdrawal* (Oude Voshaar et al., *Compr Psychiatry*
  2003;44:247-255);
* the **BWSQ** (Benzodiazepine Withdrawal Symptom Questionnaire; Tyrer, Murphy and Riley,
  *J Affect Disord* 1990;19:53-61), a self-report list of 20 withdrawal symptoms.

An instrument is described by an :class:`Instrument`: its scales, which items belong to each
scale, the answers allowed, how an answer becomes an item score, and what happens when items are
left unanswered. The library ships :data:`BWSQ` and :data:`BENDEP_SRQ`; details of the published
instruments that could not be checked against the original papers while this was written are
listed in each instrument's :attr:`Instrument.unverified` and on the docs page
``docs/domain/consult.rst``. Each is a parameter: :func:`bendep_srq_instrument` and
:func:`bwsq_instrument` build a definition that matches the printed form a practice hands out.
No item wording is stored: items are identified by their scale and number only.

Scoring works on one patient's answers (:func:`score_bwsq`, :func:`score_bendep_srq`,
:func:`score_responses`) and vectorised on a table with one row per completed questionnaire and
one column per item (:func:`score_response_table`). Both apply the same rules, and the tests
hold them against each other. A wrong answer (outside the range, not a whole number) or more
unanswered items than the instrument allows is an error that names the item (and, for tables,
the row); it is never silently scored.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import narwhals as nw
from attrs import field, frozen
from narwhals.typing import IntoFrame

from benzoredux.engine import Engine, Execution
from benzoredux.errors import BenzoreduxError, InvalidRowsError
from benzoredux.tables import Column, Kind, RowRule, TableSchema, Validation, validate

__all__ = [
    "BENDEP_SRQ",
    "BWSQ",
    "Instrument",
    "InvalidAnswersError",
    "InvalidResponsesError",
    "QuestionnaireScore",
    "Scale",
    "bendep_srq_instrument",
    "bwsq_instrument",
    "score_bendep_srq",
    "score_bwsq",
    "score_response_table",
    "score_responses",
    "validate_responses",
]

Answer = int | float | None


class InvalidAnswersError(BenzoreduxError, ValueError):
    """One questionnaire's answers cannot be scored; the message names every item at fault."""

    def __init__(self, instrument: str, problems: Sequence[str]) -> None:
        self.instrument = instrument
        self.problems = tuple(problems)
        listed = "".join(f"\n  {p}" for p in problems)
        super().__init__(f"{instrument}: the answers cannot be scored:{listed}")


class InvalidResponsesError(InvalidRowsError):
    """Rows of a table of answers cannot be scored; the message names row, item and value."""

    def __init__(self, checked: Validation) -> None:
        self.table = checked.table
        self.rows_in = checked.rows_in
        self.rows_rejected = checked.rows_rejected
        self.examples = checked.examples
        shown = "".join(f"\n  {line}" for line in checked.examples)
        more = checked.rows_rejected - len(checked.examples)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        BenzoreduxError.__init__(
            self,
            f"{checked.table}: {checked.rows_rejected} of {checked.rows_in} rows cannot be "
            f"scored:{shown}{tail}\nbenzoredux.consult.questionnaires.validate_responses() "
            "returns the scorable rows and the rejected rows with their reasons.",
        )


def _key(_instance: object, attribute: Any, value: str) -> None:
    if not value or not value.replace("_", "").isalnum() or not value[0].isalpha():
        raise ValueError(f"{attribute.name} {value!r} must be a name like 'problematic_use'")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _scales(value: Iterable[Scale]) -> tuple[Scale, ...]:
    return tuple(value)


def _labels(value: Mapping[int, str]) -> dict[int, str]:
    return dict(value)


def _floats(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


def _ints(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


@frozen
class Scale:
    """One scale of an instrument: a name and the items whose scores add up to it."""

    key: str = field(validator=_key)
    """Machine name, used in score names (``problematic_use``)."""
    label: str
    """What a person reads (``Problematic use``)."""
    items: tuple[str, ...] = field(converter=_strings)
    """Item identifiers, in the order of the printed form where that order is known."""

    @items.validator
    def _check_items(self, _attribute: Any, value: tuple[str, ...]) -> None:
        if not value:
            raise ValueError(f"scale {self.key!r} has no items")
        if len(set(value)) != len(value):
            raise ValueError(f"scale {self.key!r} lists an item twice")
        for item in value:
            _key(self, _ItemAttribute, item)


class _ItemAttribute:
    name = "item"


@frozen(kw_only=True)
class Instrument:
    """How a questionnaire is scored: scales, items, answers, item scores and missing answers.

    Every published detail is a field, so a definition can be set to match the form in use. An
    answer is a whole number from ``response_min`` to ``response_max``. With
    ``endorsed_from`` unset, an item scores its answer; with it set, an item scores 1 when
    the answer is at least that value and 0 otherwise (a count of endorsed items). A scale's
    score is the sum of its item scores.

    Unanswered items: a scale with at most ``max_missing_per_scale`` unanswered items is
    scored by proration (the mean of the answered items' scores times the number of items);
    more unanswered items is an error. The default, 0, accepts no unanswered item: neither
    published instrument states a missing-item rule that could be checked (see
    :attr:`unverified`), so proration is something a user switches on knowingly.
    """

    key: str = field(validator=_key)
    """Prefix of score names and item columns (``bwsq`` gives ``bwsq_total``)."""
    name: str
    citation: str
    scales: tuple[Scale, ...] = field(converter=_scales)
    response_min: int
    response_max: int
    response_labels: Mapping[int, str] = field(factory=dict, converter=_labels)
    """What each answer means (English, for documentation; forms are printed in Dutch)."""
    endorsed_from: int | None = None
    max_missing_per_scale: int = 0
    total: bool = False
    """Whether a ``total`` over all scales is reported as well (a scale key ``total`` is then
    not allowed)."""
    unverified: tuple[str, ...] = field(default=(), converter=_strings)
    """Details of this definition that could not be checked against the published instrument."""

    def __attrs_post_init__(self) -> None:
        if not self.scales:
            raise ValueError(f"{self.key}: an instrument has at least one scale")
        if self.response_max <= self.response_min:
            raise ValueError(f"{self.key}: response_max must be above response_min")
        if self.endorsed_from is not None and not (
            self.response_min < self.endorsed_from <= self.response_max
        ):
            raise ValueError(
                f"{self.key}: endorsed_from must lie above response_min and at most response_max"
            )
        if self.max_missing_per_scale < 0:
            raise ValueError(f"{self.key}: max_missing_per_scale must be zero or more")
        for scale in self.scales:
            if self.max_missing_per_scale >= len(scale.items):
                raise ValueError(
                    f"{self.key}: max_missing_per_scale ({self.max_missing_per_scale}) leaves "
                    f"no answered item in scale {scale.key!r}"
                )
        keys = [s.key for s in self.scales]
        if len(set(keys)) != len(keys) or (self.total and "total" in keys):
            raise ValueError(f"{self.key}: scale names must be unique (and not 'total')")
        items = [i for s in self.scales for i in s.items]
        if len(set(items)) != len(items):
            raise ValueError(f"{self.key}: an item belongs to more than one scale")

    @property
    def items(self) -> tuple[str, ...]:
        """All items, scale by scale."""
        return tuple(i for s in self.scales for i in s.items)

    @property
    def score_names(self) -> tuple[str, ...]:
        """Names of the scores, as :attr:`benzoredux.models.Consult.scores` keys them."""
        names = [f"{self.key}_{s.key}" for s in self.scales]
        return (*names, f"{self.key}_total") if self.total else tuple(names)

    def item_max(self) -> int:
        """The highest score one item can contribute."""
        return 1 if self.endorsed_from is not None else self.response_max

    def item_min(self) -> int:
        """The lowest score one item can contribute."""
        return 0 if self.endorsed_from is not None else self.response_min

    def score_range(self, score_name: str) -> tuple[float, float]:
        """The lowest and highest possible value of one score (for checking stored scores).

        >>> BWSQ.score_range("bwsq_total")
        (0.0, 40.0)
        """
        if score_name == f"{self.key}_total" and self.total:
            n = len(self.items)
        else:
            n = next(len(s.items) for s in self.scales if f"{self.key}_{s.key}" == score_name)
        return float(n * self.item_min()), float(n * self.item_max())


@frozen
class QuestionnaireScore:
    """The scores of one completed questionnaire."""

    instrument: str
    """The instrument's key (``bwsq``)."""
    scores: Mapping[str, float] = field(converter=_floats)
    """Score per scale (and ``total``), keyed by scale key."""
    unanswered: Mapping[str, int] = field(converter=_ints)
    """Unanswered items per scale; a scale with any was prorated."""

    @property
    def prorated(self) -> bool:
        """Whether any score was prorated over unanswered items."""
        return any(self.unanswered.values())

    def as_consult_scores(self) -> dict[str, float]:
        """The scores keyed as :attr:`benzoredux.models.Consult.scores` stores them.

        >>> score_bwsq([0] * 19 + [2]).as_consult_scores()
        {'bwsq_total': 2.0}
        """
        return {f"{self.instrument}_{k}": v for k, v in self.scores.items()}


# -- the two instruments ----------------------------------------------------------------------

_TYRER = (
    "Tyrer P, Murphy S, Riley P. The Benzodiazepine Withdrawal Symptom Questionnaire. "
    "J Affect Disord 1990;19(1):53-61. doi:10.1016/0165-0327(90)90009-W"
)
_KAN = (
    "Kan CC, Breteler MHM, Timmermans EAY, van der Ven AHGS, Zitman FG. Scalability, "
    "reliability, and validity of the benzodiazepine dependence self-report questionnaire in "
    "outpatient benzodiazepine users. Compr Psychiatry 1999;40(4):283-291. "
    "doi:10.1016/S0010-440X(99)90129-3; scales as named in Oude Voshaar RC et al., Compr "
    "Psychiatry 2003;44(3):247-255. doi:10.1016/S0010-440X(03)00040-3"
)

BWSQ_ITEMS = 20
"""The BWSQ has 20 items (Tyrer et al. 1990, abstract)."""

BENDEP_SRQ_SCALES: tuple[tuple[str, str], ...] = (
    ("problematic_use", "Problematic use (awareness of problematic use)"),
    ("preoccupation", "Preoccupation with the availability of benzodiazepines"),
    ("lack_of_compliance", "Lack of compliance with the therapeutic regimen"),
    ("withdrawal", "Withdrawal"),
)
"""The four Bendep-SRQ scales (Kan et al. 1999; Oude Voshaar et al. 2003, abstracts)."""


def bwsq_instrument(
    *, items: int = BWSQ_ITEMS, response_max: int = 2, max_missing: int = 0
) -> Instrument:
    """The BWSQ as a definition; the defaults are the library's :data:`BWSQ`.

    Items are ``bwsq_1`` .. ``bwsq_20`` in the order of the printed form. Each is answered
    *no* (0), *yes, moderately* (1) or *yes, severely* (2), and the total is the sum (0 to 40).
    ``max_missing`` items may be left unanswered and are then prorated (default: none).
    """
    return Instrument(
        key="bwsq",
        name="Benzodiazepine Withdrawal Symptom Questionnaire (BWSQ)",
        citation=_TYRER,
        scales=(Scale("total", "Total", tuple(f"bwsq_{n}" for n in range(1, items + 1))),),
        response_min=0,
        response_max=response_max,
        response_labels={0: "no", 1: "yes, moderately", 2: "yes, severely"}
        if response_max == 2
        else {},
        max_missing_per_scale=max_missing,
        unverified=(
            "The answer coding 0 = no, 1 = yes, moderately, 2 = yes, severely (total 0-40) is "
            "how the questionnaire is generally described; the full text of Tyrer et al. 1990 "
            "was not available to check it (parameter response_max).",
            "No missing-item rule could be found in the published descriptions; by default an "
            "unanswered item is an error (parameter max_missing).",
        ),
    )


def bendep_srq_instrument(
    *,
    items_per_scale: int | Mapping[str, int] = 5,
    response_min: int = 1,
    response_max: int = 5,
    endorsed_from: int | None = 4,
    max_missing: int = 0,
) -> Instrument:
    """The Bendep-SRQ as a definition; the defaults are the library's :data:`BENDEP_SRQ`.

    The four scales are those of Kan et al. (1999). Items are identified by scale and number
    (``bendep_srq_problematic_use_1`` ..), not by their position on a printed form, so a
    practice maps its form's questions to these names once. ``items_per_scale`` is one number
    for all scales or a mapping from scale key to number. By default an item counts as endorsed
    (1) when the answer is 4 or 5 on a 1-5 agreement scale, and a scale's score is the number of
    endorsed items. These defaults are not verified against the published instrument (see
    :attr:`Instrument.unverified`): set them to match the form and its scoring instructions.
    """
    counts = (
        dict.fromkeys((k for k, _ in BENDEP_SRQ_SCALES), items_per_scale)
        if isinstance(items_per_scale, int)
        else dict(items_per_scale)
    )
    unknown = set(counts) - {k for k, _ in BENDEP_SRQ_SCALES}
    missing = {k for k, _ in BENDEP_SRQ_SCALES} - set(counts)
    if unknown or missing:
        raise ValueError(
            "items_per_scale must give a number for each Bendep-SRQ scale "
            f"({', '.join(k for k, _ in BENDEP_SRQ_SCALES)}); "
            f"unknown: {sorted(unknown)}, missing: {sorted(missing)}"
        )
    scales = tuple(
        Scale(key, label, tuple(f"bendep_srq_{key}_{n}" for n in range(1, counts[key] + 1)))
        for key, label in BENDEP_SRQ_SCALES
    )
    return Instrument(
        key="bendep_srq",
        name="Benzodiazepine Dependence Self-Report Questionnaire (Bendep-SRQ)",
        citation=_KAN,
        scales=scales,
        response_min=response_min,
        response_max=response_max,
        response_labels=(
            {1: "totally disagree", 2: "disagree", 3: "neutral", 4: "agree", 5: "totally agree"}
            if (response_min, response_max) == (1, 5)
            else {}
        ),
        endorsed_from=endorsed_from,
        max_missing_per_scale=max_missing,
        unverified=(
            "The number of items per scale (parameter items_per_scale, default 5).",
            "The answer categories (parameters response_min and response_max, default a 1-5 "
            "agreement scale).",
            "The scoring of an item as endorsed from answer 4 on and a scale as the count of "
            "endorsed items (parameter endorsed_from; None sums the answers instead). The "
            "scales were built with Rasch analysis (Kan et al. 1999), which scores items "
            "dichotomously, but the cut could not be checked.",
            "The order of the items on the printed form: items are named by scale and number.",
            "No missing-item rule could be found; by default an unanswered item is an error "
            "(parameter max_missing).",
        ),
    )


BWSQ = bwsq_instrument()
"""The BWSQ (Tyrer et al. 1990): 20 items answered 0, 1 or 2; one score, ``bwsq_total``."""

BENDEP_SRQ = bendep_srq_instrument()
"""The Bendep-SRQ (Kan et al. 1999): four scales, scored per scale (defaults partly
unverified: see :func:`bendep_srq_instrument`)."""


# -- one questionnaire --------------------------------------------------------------------------


def _answer_problem(instrument: Instrument, item: str, value: object) -> str | None:
    """Why ``value`` is not an answer to ``item``, or ``None`` when it is one (or unanswered)."""
    allowed = f"a whole number from {instrument.response_min} to {instrument.response_max}"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{item}: {value!r} is not an answer; expected {allowed}"
    number = float(value)
    if math.isnan(number):
        return None  # a NaN from a table is an unanswered item
    if (
        not math.isfinite(number)
        or number != int(number)
        or not instrument.response_min <= number <= instrument.response_max
    ):
        return f"{item}: {value!r} is not an answer; expected {allowed}"
    return None


def _answered(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _as_mapping(
    instrument: Instrument, answers: Mapping[str, Answer] | Sequence[Answer]
) -> dict[str, object]:
    if isinstance(answers, Mapping):
        unknown = sorted(set(answers) - set(instrument.items))
        if unknown:
            raise InvalidAnswersError(
                instrument.key,
                [
                    f"unknown item(s) {', '.join(map(repr, unknown))}; the items are "
                    f"{instrument.items[0]} .. {instrument.items[-1]} "
                    f"({len(instrument.items)} in all)"
                ],
            )
        return {item: answers.get(item) for item in instrument.items}
    if isinstance(answers, str | bytes):
        raise TypeError("answers must be a mapping from item to answer, or a sequence of answers")
    values = list(answers)
    if len(values) != len(instrument.items):
        raise InvalidAnswersError(
            instrument.key,
            [f"{len(values)} answers given; the instrument has {len(instrument.items)} items"],
        )
    return dict(zip(instrument.items, values, strict=True))


def score_responses(
    answers: Mapping[str, Answer] | Sequence[Answer], instrument: Instrument
) -> QuestionnaireScore:
    """Score one completed questionnaire.

    ``answers`` maps item names to answers (``None`` or absent: unanswered), or lists all
    answers in item order (:attr:`Instrument.items`).

    >>> score_responses([1, 2, 0, 0, 1] + [0] * 15, BWSQ).scores
    {'total': 4.0}
    >>> score_responses({"bwsq_1": 3}, BWSQ)
    Traceback (most recent call last):
    ...
    benzoredux.consult.questionnaires.InvalidAnswersError: bwsq: the answers cannot be scored:
      bwsq_1: 3 is not an answer; expected a whole number from 0 to 2
      scale total: 19 of 20 items unanswered; at most 0 may be
    """
    given = _as_mapping(instrument, answers)
    problems = [
        p for item, value in given.items() if (p := _answer_problem(instrument, item, value))
    ]
    scores: dict[str, float] = {}
    unanswered: dict[str, int] = {}
    for scale in instrument.scales:
        answered = [given[i] for i in scale.items if _answered(given[i])]
        missing = len(scale.items) - len(answered)
        unanswered[scale.key] = missing
        if missing > instrument.max_missing_per_scale:
            problems.append(
                f"scale {scale.key}: {missing} of {len(scale.items)} items unanswered; "
                f"at most {instrument.max_missing_per_scale} may be"
            )
            continue
        if problems:
            continue
        # Every answer passed _answer_problem, so each is a real number.
        item_scores = [_item_score(instrument, float(cast(float, v))) for v in answered]
        total = float(sum(item_scores))
        scores[scale.key] = total if not missing else total / len(answered) * len(scale.items)
    if problems:
        raise InvalidAnswersError(instrument.key, problems)
    if instrument.total:
        scores["total"] = float(sum(scores.values()))
    return QuestionnaireScore(instrument.key, scores, unanswered)


def _item_score(instrument: Instrument, answer: float) -> float:
    if instrument.endorsed_from is None:
        return answer
    return 1.0 if answer >= instrument.endorsed_from else 0.0


def score_bwsq(
    answers: Mapping[str, Answer] | Sequence[Answer], *, instrument: Instrument = BWSQ
) -> QuestionnaireScore:
    """Score one BWSQ (Tyrer et al. 1990): the total of 20 answers of 0, 1 or 2.

    >>> score_bwsq([2, 2, 1] + [0] * 17).scores["total"]
    5.0
    """
    return score_responses(answers, instrument)


def score_bendep_srq(
    answers: Mapping[str, Answer] | Sequence[Answer], *, instrument: Instrument = BENDEP_SRQ
) -> QuestionnaireScore:
    """Score one Bendep-SRQ (Kan et al. 1999): one score per scale.

    With the default definition (see :func:`bendep_srq_instrument` for what is unverified) an
    answer of 4 or 5 counts as endorsed and each scale counts its endorsed items:

    >>> answers = [5, 4, 3, 2, 1] + [4] * 5 + [1] * 5 + [2, 2, 2, 4, 5]
    >>> score_bendep_srq(answers).scores
    {'problematic_use': 2.0, 'preoccupation': 5.0, 'lack_of_compliance': 0.0, 'withdrawal': 2.0}
    """
    return score_responses(answers, instrument)


# -- a table of questionnaires ------------------------------------------------------------------


def response_schema(instrument: Instrument) -> TableSchema:
    """The table of answers to ``instrument``: one number column per item, and its row rules.

    Other columns (a patient id, the date) may be present and pass through.
    """
    allowed = f"a whole number from {instrument.response_min} to {instrument.response_max}"

    def out_of_range(item: str) -> RowRule:
        def invalid() -> nw.Expr:
            col = nw.col(item).cast(nw.Float64)
            good = (
                col.is_finite()
                & (col >= instrument.response_min)
                & (col <= instrument.response_max)
                & ((col % 1) == 0)
            )
            return ~_unanswered(item) & ~good

        return RowRule((item,), f"{item} is not {allowed}", invalid)

    def too_many_missing(scale: Scale) -> RowRule:
        def invalid() -> nw.Expr:
            return _missing_count(scale) > instrument.max_missing_per_scale

        # No columns: the message then shows no answers (they are health data); the item
        # columns are required, so the rule always applies.
        return RowRule(
            (),
            f"scale {scale.key} has more than {instrument.max_missing_per_scale} unanswered "
            f"item(s) of {len(scale.items)}",
            invalid,
        )

    return TableSchema(
        name=f"{instrument.key}_responses",
        columns=tuple(
            Column(item, Kind.NUMBER, True, f"Answer to {item} ({allowed}); empty: unanswered.")
            for item in instrument.items
        ),
        rules=(
            *(out_of_range(item) for item in instrument.items),
            *(too_many_missing(scale) for scale in instrument.scales),
        ),
    )


def _unanswered(item: str) -> nw.Expr:
    value = nw.col(item).cast(nw.Float64)
    return value.is_null() | value.is_nan()


def _missing_count(scale: Scale) -> nw.Expr:
    return nw.sum_horizontal(*(_unanswered(i).cast(nw.Int64) for i in scale.items))


def validate_responses(
    frame: IntoFrame, instrument: Instrument, *, engine: Engine = "auto"
) -> Validation:
    """Split a table of answers into scorable rows and rejected rows with their reasons."""
    return validate(frame, response_schema(instrument), engine=engine)


def score_response_table(
    frame: IntoFrame, instrument: Instrument, *, engine: Engine = "auto"
) -> Any:
    """``frame`` (one row per completed questionnaire) with one score column per scale.

    The score columns are named as :attr:`Instrument.score_names` (``bwsq_total``,
    ``bendep_srq_problematic_use``, ...). Any row that cannot be scored raises
    :class:`InvalidResponsesError`, which names the row, the item and the value;
    :func:`validate_responses` gives the split instead. The result is of the caller's kind.
    """
    checked = validate_responses(frame, instrument, engine=engine)
    if checked.rows_rejected:
        raise InvalidResponsesError(checked)
    execution = Execution.for_input(frame, engine)
    lazy = execution.lazy(frame, f"{instrument.key}_responses")
    names = dict(zip(instrument.scales, instrument.score_names, strict=False))
    expressions = {
        names[scale]: _scale_expression(instrument, scale) for scale in instrument.scales
    }
    result = lazy.with_columns(**expressions)
    if instrument.total:
        result = result.with_columns(
            nw.sum_horizontal(*(nw.col(n) for n in expressions)).alias(f"{instrument.key}_total")
        )
    return execution.finish(result)


def _scale_expression(instrument: Instrument, scale: Scale) -> nw.Expr:
    """The same rule as :func:`score_responses`, as one expression per row."""

    def item(name: str) -> nw.Expr:
        value = nw.col(name).cast(nw.Float64)
        if instrument.endorsed_from is not None:
            value = (value >= instrument.endorsed_from).cast(nw.Float64)
        return nw.when(~_unanswered(name)).then(value).otherwise(nw.lit(0.0))

    n = len(scale.items)
    total = nw.sum_horizontal(*(item(i) for i in scale.items))
    missing = _missing_count(scale)
    answered = (nw.lit(n) - missing).cast(nw.Float64)
    return nw.when(missing == 0).then(total).otherwise(total / answered * n).cast(nw.Float64)
