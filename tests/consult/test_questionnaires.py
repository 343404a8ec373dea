"""Questionnaire scoring (Bendep-SRQ, BWSQ): hand-computed examples, bad answers, and the
vectorised table scoring held against the one-questionnaire reference."""

from __future__ import annotations

import math
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings

from benzoredux import BENDEP_SRQ, BWSQ, score_bendep_srq, score_bwsq, score_response_table
from benzoredux.consult.questionnaires import (
    Instrument,
    InvalidAnswersError,
    InvalidResponsesError,
    Scale,
    bendep_srq_instrument,
    bwsq_instrument,
    score_responses,
    validate_responses,
)

# -- BWSQ: 20 items, 0 (no), 1 (yes, moderately), 2 (yes, severely); the total is the sum ------


def test_bwsq_has_twenty_items_scored_zero_to_two() -> None:
    assert len(BWSQ.items) == 20
    assert (BWSQ.response_min, BWSQ.response_max) == (0, 2)
    assert BWSQ.score_names == ("bwsq_total",)
    assert BWSQ.score_range("bwsq_total") == (0.0, 40.0)


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ([0] * 20, 0.0),
        ([2] * 20, 40.0),
        ([2, 2, 1] + [0] * 17, 5.0),  # 2 + 2 + 1
        ([1, 0] * 10, 10.0),  # ten items answered "yes, moderately"
    ],
)
def test_bwsq_total_is_the_sum_of_the_answers(answers: list[int], total: float) -> None:
    assert score_bwsq(answers).scores == {"total": total}
    assert score_bwsq(answers).as_consult_scores() == {"bwsq_total": total}


def test_bwsq_answers_by_item_name() -> None:
    answers = {f"bwsq_{n}": 0 for n in range(1, 21)} | {"bwsq_7": 2, "bwsq_20": 1}
    assert score_bwsq(answers).scores["total"] == 3.0


@pytest.mark.parametrize("bad", [3, -1, 1.5, True, "ja", float("inf")])
def test_an_answer_outside_the_range_is_an_error_naming_item_and_value(bad: Any) -> None:
    answers: list[Any] = [0] * 20
    answers[4] = bad
    with pytest.raises(InvalidAnswersError, match=rf"bwsq_5: {bad!r} is not an answer") as info:
        score_bwsq(answers)
    assert "expected a whole number from 0 to 2" in str(info.value)


def test_a_whole_float_is_an_answer() -> None:
    assert score_bwsq([2.0] + [0] * 19).scores["total"] == 2.0


def test_an_unanswered_item_is_an_error_by_default() -> None:
    answers: list[Any] = [1] * 20
    answers[0] = None
    with pytest.raises(InvalidAnswersError, match="1 of 20 items unanswered; at most 0 may be"):
        score_bwsq(answers)
    with pytest.raises(InvalidAnswersError, match="unanswered"):
        score_bwsq({"bwsq_1": 1})  # the other 19 are absent


def test_proration_when_switched_on() -> None:
    # 19 answers of 1 and one unanswered: 19 / 19 * 20 = 20.
    answers: list[Any] = [1] * 19 + [float("nan")]
    result = score_bwsq(answers, instrument=bwsq_instrument(max_missing=1))
    assert result.scores["total"] == 20.0
    assert result.prorated
    assert result.unanswered == {"total": 1}
    # 18 answers of 2 and two unanswered: 36 / 18 * 20 = 40.
    answers = [2] * 18 + [None, None]
    assert score_bwsq(answers, instrument=bwsq_instrument(max_missing=2)).scores["total"] == 40.0
    with pytest.raises(InvalidAnswersError, match="2 of 20 items unanswered; at most 1 may be"):
        score_bwsq(answers, instrument=bwsq_instrument(max_missing=1))


def test_unknown_items_and_wrong_lengths_are_errors() -> None:
    with pytest.raises(InvalidAnswersError, match="unknown item"):
        score_bwsq({"bwsq_21": 1})
    with pytest.raises(InvalidAnswersError, match="19 answers given; the instrument has 20"):
        score_bwsq([0] * 19)
    with pytest.raises(TypeError):
        score_bwsq("0" * 20)


# -- Bendep-SRQ: four scales ------------------------------------------------------------------


def test_bendep_srq_has_the_four_published_scales() -> None:
    assert [s.key for s in BENDEP_SRQ.scales] == [
        "problematic_use",
        "preoccupation",
        "lack_of_compliance",
        "withdrawal",
    ]
    assert BENDEP_SRQ.score_names == (
        "bendep_srq_problematic_use",
        "bendep_srq_preoccupation",
        "bendep_srq_lack_of_compliance",
        "bendep_srq_withdrawal",
    )
    assert BENDEP_SRQ.unverified, "the unverified defaults must stay listed"


ANSWERS = [5, 4, 3, 2, 1] + [4] * 5 + [1] * 5 + [2, 2, 2, 4, 5]


def test_bendep_srq_default_counts_endorsed_items_per_scale() -> None:
    # Endorsed = 4 or 5: problematic use 5, 4 -> 2; preoccupation all 4 -> 5; lack of
    # compliance all 1 -> 0; withdrawal 4, 5 -> 2.
    assert score_bendep_srq(ANSWERS).scores == {
        "problematic_use": 2.0,
        "preoccupation": 5.0,
        "lack_of_compliance": 0.0,
        "withdrawal": 2.0,
    }


def test_bendep_srq_summed_when_configured() -> None:
    summed = bendep_srq_instrument(endorsed_from=None)
    # 5+4+3+2+1 = 15; 4*5 = 20; 1*5 = 5; 2+2+2+4+5 = 15.
    assert score_bendep_srq(ANSWERS, instrument=summed).scores == {
        "problematic_use": 15.0,
        "preoccupation": 20.0,
        "lack_of_compliance": 5.0,
        "withdrawal": 15.0,
    }
    assert summed.score_range("bendep_srq_withdrawal") == (5.0, 25.0)


def test_bendep_srq_items_per_scale_is_a_parameter() -> None:
    longer = bendep_srq_instrument(
        items_per_scale={
            "problematic_use": 5,
            "preoccupation": 5,
            "lack_of_compliance": 5,
            "withdrawal": 20,
        }
    )
    assert len(longer.items) == 35
    assert longer.score_range("bendep_srq_withdrawal") == (0.0, 20.0)
    with pytest.raises(ValueError, match="missing"):
        bendep_srq_instrument(items_per_scale={"withdrawal": 20})


def test_bendep_srq_answer_zero_is_out_of_range_on_a_one_to_five_scale() -> None:
    answers = list(ANSWERS)
    answers[0] = 0
    with pytest.raises(InvalidAnswersError, match="bendep_srq_problematic_use_1: 0"):
        score_bendep_srq(answers)


# -- instrument definitions are checked --------------------------------------------------------


def test_instrument_definitions_are_checked() -> None:
    scale = Scale("a", "A", ("a_1", "a_2"))
    with pytest.raises(ValueError, match="endorsed_from"):
        Instrument(key="x", name="X", citation="", scales=(scale,), response_min=0,
                   response_max=2, endorsed_from=0)  # fmt: skip
    with pytest.raises(ValueError, match="leaves no answered item"):
        Instrument(key="x", name="X", citation="", scales=(scale,), response_min=0,
                   response_max=2, max_missing_per_scale=2)  # fmt: skip
    with pytest.raises(ValueError, match="more than one scale"):
        Instrument(key="x", name="X", citation="", response_min=0, response_max=2,
                   scales=(scale, Scale("b", "B", ("a_1",))))  # fmt: skip
    with pytest.raises(ValueError, match="lists an item twice"):
        Scale("a", "A", ("a_1", "a_1"))


# -- tables ------------------------------------------------------------------------------------


def bwsq_table(rows: list[list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(BWSQ.items), dtype="float64")
    frame.insert(0, "patient_id", [f"p{i}" for i in range(len(rows))])
    return frame


@pytest.mark.parametrize("kind", ["pandas", "polars", "polars-lazy"])
def test_table_scoring_matches_hand_computed_totals_on_every_kind(kind: str) -> None:
    frame: Any = bwsq_table([[0] * 20, [2] * 20, [2, 2, 1] + [0] * 17])
    if kind != "pandas":
        frame = pl.from_pandas(frame)
    if kind == "polars-lazy":
        frame = frame.lazy()
    result = score_response_table(frame, BWSQ)
    if kind == "polars-lazy":
        result = result.collect()
    native = result.to_pandas() if kind != "pandas" else result
    assert list(native["patient_id"]) == ["p0", "p1", "p2"]
    assert list(native["bwsq_total"]) == [0.0, 40.0, 5.0]


def test_table_rows_that_cannot_be_scored_are_named() -> None:
    frame = bwsq_table([[0] * 20, [0] * 20, [0] * 20])
    frame.loc[1, "bwsq_3"] = 7
    frame.loc[2, "bwsq_4"] = None
    frame.loc[2, "bwsq_9"] = 2  # an answer that must not appear in the message
    with pytest.raises(InvalidResponsesError) as info:
        score_response_table(frame, BWSQ)
    message = str(info.value)
    assert "2 of 3 rows cannot be scored" in message
    assert "row 1: bwsq_3 is not a whole number from 0 to 2 (bwsq_3=7.0)" in message
    assert "row 2: scale total has more than 0 unanswered item(s) of 20" in message
    assert "bwsq_9" not in message
    checked = validate_responses(frame, BWSQ)
    assert (checked.rows_in, checked.rows_rejected) == (3, 2)
    assert list(checked.valid["patient_id"]) == ["p0"]


def test_missing_item_column_is_an_error() -> None:
    frame = bwsq_table([[0] * 20]).drop(columns=["bwsq_20"])
    with pytest.raises(KeyError, match="bwsq_20"):
        score_response_table(frame, BWSQ)


ANSWER = st.one_of(st.none(), st.integers(min_value=1, max_value=5))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.lists(ANSWER, min_size=20, max_size=20), min_size=1, max_size=40))
def test_table_scoring_agrees_with_one_by_one_scoring(rows: list[list[int | None]]) -> None:
    """The vectorised rule and the plain reference give the same scores, or both refuse."""
    instrument = bendep_srq_instrument(max_missing=2)
    frame = pd.DataFrame(rows, columns=list(instrument.items), dtype="float64")
    expected: list[dict[str, float] | None] = []
    for row in rows:
        try:
            expected.append(score_responses(row, instrument).as_consult_scores())
        except InvalidAnswersError:
            expected.append(None)
    checked = validate_responses(frame, instrument)
    assert checked.rows_rejected == sum(e is None for e in expected)
    scorable = [e for e in expected if e is not None]
    if not scorable:
        return
    valid = frame[[e is not None for e in expected]].reset_index(drop=True)
    result = score_response_table(valid, instrument)
    for i, scores in enumerate(scorable):
        for name, value in scores.items():
            assert math.isclose(result.loc[i, name], value), (name, rows)
