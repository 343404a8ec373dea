"""Process evaluation (bijlage 4): dates and counts of letters, invitations and consults."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest

from benzoredux.errors import InvalidRowsError
from benzoredux.evaluation.process import evaluate_process, sending_dates
from benzoredux.evaluation.stats import wilson_interval

D = dt.date


def _letters() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e"],
            "gp_id": ["G1", "G1", "G1", "G2", "G2"],
            "letter_date": [
                D(2025, 2, 3),
                D(2025, 2, 3),
                D(2025, 2, 10),
                D(2025, 2, 4),
                D(2025, 2, 4),
            ],
            "invitation_date": [D(2025, 5, 5), D(2025, 5, 12), None, D(2025, 5, 5), D(2025, 5, 5)],
        }
    )


def _consults() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": ["a", "a", "b", "d", "x"],
            "date": [D(2025, 5, 20), D(2025, 6, 20), D(2025, 5, 21), D(2025, 5, 22), D(2025, 5, 1)],
            "held_by": ["gp", "poh_ggz", "gp", "gp", "gp"],
            "contact": ["in_person", "phone", "did_not_attend", "in_person", "in_person"],
        }
    )


def test_counts_and_dates_per_gp_and_total() -> None:
    result = evaluate_process(_letters(), _consults())
    rows = {(r["level"], r["gp_id"]): r for r in result.iter_rows(named=True)}
    g1 = rows[("gp", "G1")]
    assert g1["letters_sent"] == 3
    assert g1["letter_days"] == 2
    assert (g1["first_letter_date"], g1["last_letter_date"]) == (D(2025, 2, 3), D(2025, 2, 10))
    assert g1["invitations_sent"] == 2
    assert (g1["first_invitation_date"], g1["last_invitation_date"]) == (
        D(2025, 5, 5),
        D(2025, 5, 12),
    )
    # a came twice (in person, then by phone: both held), b did not come.
    assert (g1["consults_held"], g1["consults_missed"], g1["patients_consulted"]) == (2, 1, 1)
    assert (g1["first_consult_date"], g1["last_consult_date"]) == (D(2025, 5, 20), D(2025, 6, 20))
    assert g1["attendance"] == 0.5
    assert (g1["attendance_ci_low"], g1["attendance_ci_high"]) == pytest.approx(
        wilson_interval(1, 2)
    )
    # The consult of x (no letter) is kept, under an empty GP.
    orphan = rows[("gp", None)]
    assert orphan["letters_sent"] == 0
    assert orphan["consults_held"] == 1
    assert orphan["attendance"] is None
    total = rows[("total", None)]
    assert (total["letters_sent"], total["invitations_sent"], total["consults_held"]) == (5, 4, 4)
    assert total["consults_without_letter"] == 1
    assert total["patients_consulted"] == 3
    assert total["attendance"] == pytest.approx(2 / 4)  # x was not invited
    assert total["attendance_reference"] == pytest.approx(2 / 3)


def test_without_consults_and_pandas_in_pandas_out() -> None:
    result = evaluate_process(_letters().to_pandas())
    assert isinstance(result, pd.DataFrame)
    assert result["consults_held"].tolist() == [0, 0, 0]
    assert result["level"].tolist() == ["gp", "gp", "total"]


def test_lazy_stays_lazy() -> None:
    result = evaluate_process(_letters().lazy(), _consults())
    assert isinstance(result, pl.LazyFrame)
    assert result.collect().height == 4


def test_sending_dates() -> None:
    result = sending_dates(_letters())
    assert result.filter(pl.col("gp_id") == "G1").rows() == [
        ("G1", "invitation", D(2025, 5, 5), 1),
        ("G1", "invitation", D(2025, 5, 12), 1),
        ("G1", "stop_letter", D(2025, 2, 3), 2),
        ("G1", "stop_letter", D(2025, 2, 10), 1),
    ]


def test_invitation_before_letter_is_rejected() -> None:
    letters = _letters().with_columns(
        invitation_date=pl.when(pl.col("patient_id") == "c")
        .then(D(2025, 1, 1))
        .otherwise(pl.col("invitation_date"))
    )
    with pytest.raises(InvalidRowsError, match="invitation_date is before letter_date"):
        evaluate_process(letters)


def test_bad_consult_contact_is_rejected() -> None:
    consults = _consults().with_columns(contact=pl.lit("maybe"))
    with pytest.raises(InvalidRowsError, match="contact is not one of"):
        evaluate_process(_letters(), consults)
