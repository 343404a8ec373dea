"""Consult records and their table form (what the evaluation counts from)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from benzoredux import (
    CONSULTS,
    Consult,
    ConsultOutcome,
    InvalidRowsError,
    consults_from_frame,
    consults_to_frame,
    score_bwsq,
    validate_consults,
)
from benzoredux.consult.questionnaires import BWSQ, bendep_srq_instrument
from benzoredux.consult.records import CONTACTS, consults_schema

CONSULT_LIST = [
    Consult(
        patient_id="p1",
        date=dt.date(2025, 9, 1),
        held_by="gp",
        clinician_id="gp1",
        outcome="stopped",
        scores={"bwsq_total": 3, "bendep_srq_withdrawal": 2},
        plan="Afbouwschema 75-50-25-0",
        note="persoonlijke omstandigheden",
    ),
    Consult(patient_id="p2", date=dt.date(2025, 9, 2), held_by="poh_ggz", attended=False),
    Consult(
        patient_id="p3",
        date=dt.date(2025, 9, 3),
        held_by="gp",
        by_phone=True,
        outcome=ConsultOutcome.TAPERING,
    ),
]


def test_contact_says_whether_the_patient_came() -> None:
    assert [c.contact for c in CONSULT_LIST] == ["in_person", "did_not_attend", "phone"]
    assert set(CONTACTS) == {"in_person", "phone", "did_not_attend"}


def test_consult_scores_are_checked_and_free_text_stays_out_of_repr() -> None:
    consult = CONSULT_LIST[0]
    assert "persoonlijke" not in repr(consult)
    assert "Afbouwschema" not in repr(consult)
    with pytest.raises(ValueError, match="finite number"):
        Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp",
                scores={"bwsq_total": float("nan")})  # fmt: skip
    with pytest.raises(ValueError, match="must be a number"):
        Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp",
                scores={"bwsq_total": True})  # fmt: skip
    with pytest.raises(ValueError, match="score name"):
        Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp", scores={"BWSQ!": 1})


def test_questionnaire_scores_go_into_a_consult() -> None:
    scores = score_bwsq([1] * 20).as_consult_scores()
    consult = Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp", scores=scores)
    assert consult.scores == {"bwsq_total": 20.0}


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_table_form_round_trips(backend: str) -> None:
    frame = consults_to_frame(CONSULT_LIST, backend=backend)  # type: ignore[arg-type]
    kinds = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "pyarrow": pa.Table}
    assert isinstance(frame, kinds[backend])
    checked = validate_consults(frame)
    assert (checked.rows_in, checked.rows_rejected) == (3, 0)
    assert consults_from_frame(frame) == CONSULT_LIST


def test_table_columns_follow_the_schema() -> None:
    frame = consults_to_frame(CONSULT_LIST)
    assert [c.name for c in CONSULTS.columns] == list(frame.columns)
    assert list(frame["contact"]) == ["in_person", "did_not_attend", "phone"]
    assert frame["bwsq_total"].isna().tolist() == [False, True, True]
    empty = consults_to_frame([])
    assert len(empty) == 0
    assert validate_consults(empty).rows_in == 0


def test_bad_rows_come_back_with_reasons_and_free_text_hidden() -> None:
    frame = consults_to_frame(CONSULT_LIST)
    frame.loc[0, "bwsq_total"] = 41.0
    frame.loc[1, "contact"] = "no_show"
    frame.loc[2, "held_by"] = "assistant"
    frame.loc[2, "plan"] = "geheim plan"
    checked = validate_consults(frame)
    assert checked.rows_rejected == 3
    assert checked.examples == (
        "row 0: bwsq_total is not a score from 0 to 40 (bwsq_total=41.0)",
        # a value outside a closed set could be any word (a name, in a swapped column)
        "row 1: contact is not one of in_person, phone, did_not_attend (contact=<hidden: text>)",
        "row 2: held_by is not one of gp, poh_ggz (held_by=<hidden: a word>)",
    )
    assert "geheim" not in " ".join(checked.examples)
    with pytest.raises(InvalidRowsError, match="3 of 3 rows cannot be used"):
        consults_from_frame(frame)


def test_missing_required_columns_and_values() -> None:
    frame = consults_to_frame(CONSULT_LIST).drop(columns=["contact"])
    with pytest.raises(KeyError, match="contact"):
        validate_consults(frame)
    frame = consults_to_frame(CONSULT_LIST)
    frame.loc[0, "patient_id"] = " "
    frame.loc[1, "date"] = pd.NaT
    checked = validate_consults(frame)
    assert checked.reasons == {"patient_id is missing": 1, "date is missing": 1}


def test_score_ranges_follow_the_instrument_definition() -> None:
    longer = bendep_srq_instrument(
        items_per_scale={"problematic_use": 5, "preoccupation": 5,
                         "lack_of_compliance": 5, "withdrawal": 20}
    )  # fmt: skip
    consult = Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp",
                      scores={"bendep_srq_withdrawal": 17})  # fmt: skip
    frame = consults_to_frame([consult], instruments=(BWSQ, longer))
    assert validate_consults(frame).rows_rejected == 1  # the default scale has 5 items
    assert validate_consults(frame, instruments=(BWSQ, longer)).rows_rejected == 0
    assert "bendep_srq_withdrawal" in {c.name for c in consults_schema((BWSQ, longer)).columns}


def test_extra_scores_are_kept_when_named() -> None:
    consult = Consult(patient_id="p", date=dt.date(2025, 1, 1), held_by="gp",
                      scores={"phq9_total": 7})  # fmt: skip
    frame: Any = consults_to_frame([consult])
    assert frame.loc[0, "phq9_total"] == 7.0
    assert consults_from_frame(frame)[0].scores == {}
    assert consults_from_frame(frame, extra_scores=["phq9_total"]) == [consult]
