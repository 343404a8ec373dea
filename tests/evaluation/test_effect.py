"""Effect evaluation (bijlage 4): stoppers, censoring, reduction, Wilson intervals."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import polars as pl
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from benzoredux.errors import InvalidRowsError, MissingColumnsError
from benzoredux.evaluation.effect import REFERENCE_FIGURES, evaluate_effect
from benzoredux.evaluation.stats import wilson_expressions, wilson_interval

from .reference import reference_effect

D = dt.date
LETTER = D(2024, 1, 15)


def _letters(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series([p for p, _ in rows], dtype="string"),
            "gp_id": pd.Series([g for _, g in rows], dtype="string"),
            "letter_date": pd.to_datetime(pd.Series([LETTER] * len(rows), dtype="object")),
        }
    )


def _disp(rows: list[tuple[str, dt.date, float]], atc: str = "N05BA04") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series([p for p, _, _ in rows], dtype="string"),
            "date": pd.to_datetime(pd.Series([d for _, d, _ in rows], dtype="object")),
            "atc": pd.Series([atc] * len(rows), dtype="string"),
            "quantity": pd.Series([q for _, _, q in rows], dtype="float64"),
            "strength_mg": pd.Series([10.0] * len(rows), dtype="float64"),
        }
    )


def _row(summary: pd.DataFrame, measure: str, gp: str | None) -> dict[str, Any]:
    level = summary[summary["measure"] == measure]
    level = level[level["level"] == "total"] if gp is None else level[level["gp_id"] == gp]
    assert len(level) == 1
    return dict(level.iloc[0])


def test_short_term_window_is_3_to_6_months_after_the_letter() -> None:
    # a: dispensing exactly 3 months after (outside, half-open); b: one day later (inside);
    # c: exactly 6 months after (inside); d: one day after 6 months (outside).
    letters = _letters([("a", "G1"), ("b", "G1"), ("c", "G1"), ("d", "G1")])
    disp = _disp(
        [
            ("a", D(2024, 4, 15), 30),
            ("b", D(2024, 4, 16), 30),
            ("c", D(2024, 7, 15), 30),
            ("d", D(2024, 7, 16), 30),
        ]
    )
    result = evaluate_effect(letters, disp, "2024-12-31").per_patient.set_index("patient_id")
    assert result["short_term_stop_plain"].to_dict() == {
        "a": True,
        "b": False,
        "c": False,
        "d": True,
    }
    # Supply-aware: a's 30 tablets, collected on the day before the window, last into it.
    assert result["short_term_stop"].to_dict() == {"a": False, "b": False, "c": False, "d": True}
    plain = evaluate_effect(letters, disp, "2024-12-31", stop_definition="plain").per_patient
    assert plain["short_term_stop"].tolist() == [True, False, False, True]


def test_a_return_nets_out_and_other_drugs_do_not_count() -> None:
    letters = _letters([("a", "G1"), ("b", "G1")])
    disp = pd.concat(
        [
            _disp([("a", D(2024, 5, 1), 30), ("a", D(2024, 5, 3), -30)]),
            _disp([("b", D(2024, 5, 1), 30)], atc="N06AB06"),  # an antidepressant
        ]
    )
    result = evaluate_effect(letters, disp, "2024-12-31").per_patient
    assert result["short_term_stop"].tolist() == [True, True]


# --- what "stopped" means: the supply-aware definition (issue 14) ------------------------------
# The letter is sent on 15 January 2024; the short-term window runs from after 15 April (the
# 3-month mark) to 15 July 2024 and its first day, 16 April, begins at day number "15 April + 1".

ONE_A_DAY = [D(2023, 1, 20), D(2023, 4, 20), D(2023, 7, 19), D(2023, 10, 17), D(2024, 1, 15)]
"""90 tablets every 90 days up to the letter: 360 tablets before the last of these days over
the 360 days from the first to the last, one tablet a day; the supply runs out on 14 April."""


def _rows(rows: list[tuple[str, dt.date, float, str | None]]) -> pd.DataFrame:
    """Oxazepam dispensings with a dosage form: (patient, day, quantity, form)."""
    frame = _disp([(p, d, q) for p, d, q, _ in rows])
    frame["form"] = pd.Series([f for *_, f in rows], dtype="string")
    return frame


def _one_a_day(patient: str, *extra: tuple[dt.date, float]) -> list[tuple[str, dt.date, float]]:
    return [(patient, day, 90.0) for day in ONE_A_DAY] + [(patient, d, q) for d, q in extra]


def _per(letters: pd.DataFrame, disp: pd.DataFrame, **options: Any) -> pd.DataFrame:
    return evaluate_effect(letters, disp, "2025-12-31", **options).per_patient.set_index(
        "patient_id"
    )


def test_tablets_collected_before_the_window_that_last_into_it_are_use() -> None:
    # The case: one tablet a day all year, 90 tablets collected the day before the
    # 3-month mark. No dispensing from 3 to 6 months, but those tablets last to 13 July.
    letters = _letters([("b", "G1")])
    per = _per(letters, _disp(_one_a_day("b", (D(2024, 4, 14), 90.0))))
    assert per.loc["b", "units_per_day"] == pytest.approx(1.0)
    assert not per.loc["b", "units_per_day_assumed"]
    assert not per.loc["b", "short_term_stop"]
    assert per.loc["b", "short_term_stop_plain"]
    assert not per.loc["b", "sustained_stop"]  # the sustained window also starts at 3 months
    assert per.loc["b", "sustained_stop_plain"]
    # By 9-12 months the supply has run out: a stopper by both definitions.
    assert per.loc["b", "mid_term_stop"]
    assert per.loc["b", "mid_term_stop_plain"]
    # The plain definition, chosen, gives the old answer.
    plain = _per(letters, _disp(_one_a_day("b", (D(2024, 4, 14), 90.0))), stop_definition="plain")
    assert plain.loc["b", "short_term_stop"]
    assert plain.loc["b", "sustained_stop"]


def test_stopped_in_a_window_once_the_supply_has_run_out() -> None:
    letters = _letters([("b", "G1")])
    disp = _disp(_one_a_day("b", (D(2024, 4, 14), 90.0)))
    # A window from 6 to 9 months starts on 15 July: the tablets ran out on 13 July.
    per = _per(letters, disp, short_term=(6, 9))
    assert per.loc["b", "short_term_stop"]


@pytest.mark.parametrize(
    ("days", "short_term", "mid_term"),
    [
        (None, False, True),  # 90 tablets at one a day: to 13 July
        (200.0, False, False),  # a tapering instruction: 200 days, to 31 October
        (30.0, False, True),  # given days shorter than the rate's: the rate's end, the later
    ],
)
def test_days_of_supply_last_the_later_of_given_days_and_the_rate(
    days: float | None, short_term: bool, mid_term: bool
) -> None:
    """Rule: docs/domain/evaluation.rst, "What stopped means", days of supply."""
    letters = _letters([("b", "G1")])
    disp = _disp(_one_a_day("b", (D(2024, 4, 14), 90.0)))
    disp["days_supply"] = pd.Series([None] * (len(disp) - 1) + [days], dtype="float64")
    per = _per(letters, disp)
    assert per.loc["b", "short_term_stop"] == short_term
    assert per.loc["b", "mid_term_stop"] == mid_term
    assert per.loc["b", "mid_term_stop_plain"]


def test_supply_that_ends_as_the_window_begins_does_not_reach_into_it() -> None:
    # The old supply runs out on 14 April: 2 tablets on 14 April last 14 and 15 April, up to the
    # start of 16 April, the window's first day; a third tablet reaches into it.
    letters = _letters([("two", "G1"), ("three", "G1")])
    disp = _disp(
        _one_a_day("two", (D(2024, 4, 14), 2.0)) + _one_a_day("three", (D(2024, 4, 14), 3.0))
    )
    per = _per(letters, disp)
    assert per["short_term_stop"].to_dict() == {"three": False, "two": True}
    assert per["short_term_stop_plain"].to_dict() == {"three": True, "two": True}


def test_supply_left_over_at_early_refills_carries_forward() -> None:
    # One a day (30 every 30 days) up to the letter, then three refills of 30 at 10-day
    # intervals: each starts when the earlier tablets are used up, so the supply lasts to 14 May.
    # Counted from the last refill alone it would end on 15 March, before the window.
    letters = _letters([("c", "G1")])
    before = [D(2023, 10, 17), D(2023, 11, 16), D(2023, 12, 16), D(2024, 1, 15)]
    after = [D(2024, 1, 25), D(2024, 2, 4), D(2024, 2, 14)]
    per = _per(letters, _disp([("c", day, 30.0) for day in before + after]))
    assert per.loc["c", "units_per_day"] == pytest.approx(1.0)
    assert not per.loc["c", "short_term_stop"]
    assert per.loc["c", "short_term_stop_plain"]


def test_without_an_observed_rate_one_tablet_a_day_is_assumed() -> None:
    # One dispensing day only (before or after the letter): the rate cannot be observed. 60
    # tablets on 15 February last to 15 April at one a day (stopped), to 14 June at half a day.
    letters = _letters([("once", "G1"), ("after", "G1"), ("none", "G1")])
    disp = _disp([("once", D(2023, 12, 1), 30.0), ("once", D(2023, 12, 1), 30.0)])
    disp = pd.concat([disp, _disp([("after", D(2024, 2, 15), 60.0)])], ignore_index=True)
    per = _per(letters, disp)
    assert per.loc["after", "units_per_day"] == 1.0
    assert per.loc["after", "units_per_day_assumed"]
    assert per.loc["once", "units_per_day_assumed"]
    assert pd.isna(per.loc["none", "units_per_day"])  # nothing dispensed: no rate needed
    assert per["short_term_stop"].to_dict() == {"after": True, "none": True, "once": True}
    slow = _per(letters, disp, assumed_units_per_day=0.5)
    assert slow.loc["after", "units_per_day"] == 0.5
    assert slow["short_term_stop"].to_dict() == {"after": False, "none": True, "once": True}
    with pytest.raises(ValueError, match="assumed_units_per_day"):
        evaluate_effect(letters, disp, "2025-12-31", assumed_units_per_day=0)


def test_the_rate_is_observed_over_use_rate_months_before_the_letter() -> None:
    # r: 180 tablets on 20 January 2023 and 90 on 19 July 2023, then 90 the day before the
    # 3-month mark. Over 12 months: 180 tablets in 180 days, one a day (not the assumed 2), and
    # the 90 last into the window. fast: 540 tablets in the 180 days to 15 January, 3 a day:
    # the 90 of 1 March last 30 days, not into the window (at one a day they would).
    letters = _letters([("r", "G1"), ("fast", "G1")])
    disp = _disp(
        [
            ("r", D(2023, 1, 20), 180.0),
            ("r", D(2023, 7, 19), 90.0),
            ("r", D(2024, 4, 14), 90.0),
            ("fast", D(2023, 7, 19), 540.0),
            ("fast", D(2024, 1, 15), 90.0),
            ("fast", D(2024, 3, 1), 90.0),
        ]
    )
    per = _per(letters, disp, assumed_units_per_day=2.0)
    assert per.loc["r", "units_per_day"] == pytest.approx(1.0)
    assert per.loc["fast", "units_per_day"] == pytest.approx(3.0)  # 540 in 180 days
    assert per["short_term_stop"].to_dict() == {"fast": True, "r": False}
    short = _per(letters, disp, use_rate_months=3, assumed_units_per_day=2.0)
    assert short.loc["r", "units_per_day_assumed"]  # no dispensing day from 16 October on
    assert short.loc["fast", "units_per_day"] == 2.0  # only 15 January in the 3 months


def test_returns_take_their_days_off_the_supply() -> None:
    letters = _letters([("back_in", "G1"), ("back_before", "G1"), ("pair_in", "G1")])
    disp = _disp(
        # 90 collected the day before the mark and returned two days later, in the window.
        _one_a_day("back_in", (D(2024, 4, 14), 90.0), (D(2024, 4, 16), -90.0))
        # 90 collected and returned before the window.
        + _one_a_day("back_before", (D(2024, 4, 10), 90.0), (D(2024, 4, 12), -90.0))
        # Tablets left from the day before the mark; 30 collected and returned in the window:
        # that return does not take the earlier tablets' days off.
        + _one_a_day(
            "pair_in", (D(2024, 4, 14), 90.0), (D(2024, 5, 1), 30.0), (D(2024, 5, 3), -30.0)
        )
    )
    per = _per(letters, disp)
    assert per["short_term_stop"].to_dict() == {
        "back_before": True,
        "back_in": True,
        "pair_in": False,
    }
    assert per["short_term_stop_plain"].to_dict() == {
        "back_before": True,
        "back_in": True,
        "pair_in": True,
    }


def test_only_solid_oral_units_give_supply() -> None:
    # Drops collected before the window have no number of days in them: no supply; drops in the
    # window are a dispensing. An unknown form is refused, as by the selection.
    letters = _letters([("drops", "G1"), ("drops_in", "G1"), ("tablets", "G1")])
    rows = [(p, d, q, "tablet") for p, d, q in _one_a_day("drops")]
    rows += [("drops", D(2024, 4, 14), 90.0, "druppels")]
    rows += [(p, d, q, "tablet") for p, d, q in _one_a_day("drops_in")]
    rows += [("drops_in", D(2024, 5, 1), 20.0, "druppels")]
    rows += [(p, d, q, None) for p, d, q in _one_a_day("tablets", (D(2024, 4, 14), 90.0))]
    disp = _rows(rows)
    per = _per(letters, disp)
    assert per["short_term_stop"].to_dict() == {"drops": True, "drops_in": False, "tablets": False}
    odd = pd.concat([disp, _rows([("drops", D(2024, 4, 14), 3.0, "stickje")])], ignore_index=True)
    with pytest.raises(InvalidRowsError, match="dosage form"):
        evaluate_effect(letters, odd, "2025-12-31")
    per = _per(letters, odd, extra_forms={"Stickje": True})
    assert not per.loc["drops", "short_term_stop"]  # 3 units from 14 April last into 16 April


def test_non_stoppers_follow_the_stop_definition() -> None:
    letters = _letters([("b", "G1")])
    disp = _disp(_one_a_day("b", (D(2024, 4, 14), 90.0)))
    assert _per(letters, disp, non_stoppers="short_term").loc["b", "non_stopper"]
    plain = _per(letters, disp, non_stoppers="short_term", stop_definition="plain")
    assert not plain.loc["b", "non_stopper"]
    with pytest.raises(ValueError, match="stop_definition"):
        evaluate_effect(letters, disp, "2025-12-31", stop_definition="supplies")


def test_summary_gives_both_definitions_the_plain_one_as_upper_bound() -> None:
    # G1: b keeps tablets into the window, a has none; G2: c collects in the window.
    letters = _letters([("a", "G1"), ("b", "G1"), ("c", "G2")])
    disp = _disp([*_one_a_day("b", (D(2024, 4, 14), 90.0)), ("c", D(2024, 5, 1), 30.0)])
    summary = evaluate_effect(letters, disp, "2025-12-31").summary
    g1 = _row(summary, "short_term_stop", "G1")
    assert g1["stop_definition"] == "supply"
    assert (g1["events"], g1["events_plain"], g1["evaluated"]) == (1, 2, 2)
    assert (g1["rate"], g1["rate_plain"]) == (0.5, 1.0)
    assert (g1["ci_low"], g1["ci_high"]) == pytest.approx(wilson_interval(1, 2))
    assert (g1["ci_low_plain"], g1["ci_high_plain"]) == pytest.approx(wilson_interval(2, 2))
    assert g1["reference"] == 0.27
    total = _row(summary, "short_term_stop", None)
    assert (total["events"], total["events_plain"], total["evaluated"]) == (1, 2, 3)
    reduction = _row(summary, "ddd_reduction", None)
    assert pd.isna(reduction["events_plain"])
    assert pd.isna(reduction["rate_plain"])
    assert pd.isna(reduction["ci_low_plain"])
    plain = evaluate_effect(letters, disp, "2025-12-31", stop_definition="plain").summary
    g1 = _row(plain, "short_term_stop", "G1")
    assert g1["stop_definition"] == "plain"
    assert (g1["events"], g1["events_plain"], g1["rate"]) == (2, 2, 1.0)


def _as_pandas(frame: Any) -> pd.DataFrame:
    """Any backend's result as a pandas frame in a fixed order, missing values as None."""
    for method in ("collect", "compute", "df"):  # polars lazy, Dask, DuckDB
        if hasattr(frame, method) and not isinstance(frame, pd.DataFrame):
            frame = getattr(frame, method)()
    frame = frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns[:3]), key=lambda c: c.astype(str)).reset_index(
        drop=True
    )


@pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")
@pytest.mark.parametrize(
    "kind", ["pandas-pyarrow", "polars", "polars-lazy", "pyarrow", "duckdb", "dask"]
)
def test_every_backend_gives_the_pandas_answer_with_supply(kind: str) -> None:
    """Lazy in, lazy out, same answer: the running totals are self-joins every backend runs."""
    import pyarrow as pa

    letters = _letters([("b", "G1"), ("c", "G1"), ("d", "G2"), ("e", "G2")])
    rows = [(p, d, q, "tablet") for p, d, q in _one_a_day("b", (D(2024, 4, 14), 90.0))]
    rows += [("c", D(2024, 2, 1), 60.0, None), ("c", D(2024, 2, 3), -60.0, None)]
    rows += [("c", D(2024, 4, 10), 30.0, None), ("d", D(2024, 4, 1), 30.0, "druppels")]
    disp = _rows(rows)
    disp["form"] = disp["form"].astype(object)
    table = pa.Table.from_pandas(disp, preserve_index=False)
    if kind == "pandas-pyarrow":
        native: Any = disp.convert_dtypes(dtype_backend="pyarrow")
    elif kind == "polars":
        native = pl.from_arrow(table)
    elif kind == "polars-lazy":
        native = pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    elif kind == "pyarrow":
        native = table
    elif kind == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        native = duckdb.from_arrow(table)
    else:
        dd = pytest.importorskip("dask.dataframe")
        dask = pytest.importorskip("dask")
        dask.config.set(scheduler="synchronous")
        native = dd.from_pandas(disp, npartitions=2)
    expected = evaluate_effect(letters, disp, "2025-12-31")
    assert expected.per_patient["short_term_stop"].tolist() == [False, False, True, True]
    got = evaluate_effect(letters, native, "2025-12-31")
    for ours, theirs in ((got.per_patient, expected.per_patient), (got.summary, expected.summary)):
        left, right = _as_pandas(ours), _as_pandas(theirs)
        assert list(left.columns) == list(right.columns)
        for column in left.columns:
            for a, b in zip(left[column], right[column], strict=True):
                if isinstance(b, float):
                    assert a == pytest.approx(b), column
                else:
                    assert str(a)[:10] == str(b)[:10], column


def test_known_rates_per_gp_and_total_with_wilson() -> None:
    # G1: 4 letters, 1 stops short term; G2: 2 letters, both stop.
    letters = _letters(
        [("a", "G1"), ("b", "G1"), ("c", "G1"), ("d", "G1"), ("e", "G2"), ("f", "G2")]
    )
    disp = _disp([(p, D(2024, 5, 1), 30) for p in "bcd"])
    summary = evaluate_effect(letters, disp, "2024-12-31").summary
    g1 = _row(summary, "short_term_stop", "G1")
    assert (g1["events"], g1["evaluated"], g1["rate"]) == (1, 4, 0.25)
    low, high = wilson_interval(1, 4)  # type: ignore[misc]
    assert g1["ci_low"] == pytest.approx(low)
    assert g1["ci_high"] == pytest.approx(high)
    total = _row(summary, "short_term_stop", None)
    assert (total["events"], total["evaluated"]) == (3, 6)
    assert total["reference"] == REFERENCE_FIGURES["short_term_stop"] == 0.27
    assert _row(summary, "sustained_stop", None)["reference"] == 0.14
    assert _row(summary, "ddd_reduction", None)["reference"] == 0.20


def test_patients_who_left_before_the_evaluation_leave_the_denominator() -> None:
    letters = _letters([("a", "G1"), ("b", "G1"), ("c", "G1"), ("d", "G1"), ("e", "G1")])
    patients = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e"],
            "status": ["deceased", "moved", "changed_gp", "moved", "active"],
            "status_date": pd.to_datetime(
                ["2024-03-01", "2024-06-01", "2024-12-31", "2025-01-01", None]
            ),
        }
    )
    evaluation = evaluate_effect(letters, _disp([]), "2024-12-31", patients=patients)
    per = evaluation.per_patient.set_index("patient_id")
    assert per["left_reason"].tolist()[:3] == ["deceased", "moved", "changed_gp"]
    assert pd.isna(per.loc["d", "left_reason"])  # moved after the evaluation date: still counts
    row = _row(evaluation.summary, "short_term_stop", None)
    assert (row["events"], row["evaluated"]) == (2, 2)
    assert (row["left_deceased"], row["left_moved"], row["left_changed_gp"]) == (1, 1, 1)


def test_measures_whose_window_has_not_ended_are_not_due() -> None:
    letters = _letters([("a", "G1")])
    evaluation = evaluate_effect(letters, _disp([]), "2024-09-30")
    per = evaluation.per_patient.iloc[0]
    assert per["short_term_stop"] is True or per["short_term_stop"] == True  # noqa: E712
    assert pd.isna(per["mid_term_stop"])
    assert pd.isna(per["sustained_stop"])
    row = _row(evaluation.summary, "mid_term_stop", None)
    assert (row["evaluated"], row["not_due"]) == (0, 1)
    assert pd.isna(row["rate"])
    assert pd.isna(row["ci_low"])


def test_dispensings_after_the_evaluation_date_are_ignored() -> None:
    letters = _letters([("a", "G1")])
    disp = _disp([("a", D(2024, 5, 1), 30)])
    per = evaluate_effect(letters, disp, "2024-07-15", short_term=(3, 6)).per_patient
    assert per["short_term_stop"].tolist() == [False]
    per = evaluate_effect(letters, disp, "2024-07-15", short_term=(1, 2)).per_patient
    assert per["short_term_stop"].tolist() == [True]


def test_reduction_among_non_stoppers_is_one_minus_after_over_before() -> None:
    letters = _letters([("a", "G1"), ("b", "G1"), ("c", "G1")])
    # a: 60 units before, 45 after (non-stopper); b: 30 before, 15 after (non-stopper);
    # c: stops, does not enter the reduction.
    disp = _disp(
        [
            ("a", D(2023, 6, 1), 60),
            ("a", D(2024, 5, 1), 45),
            ("b", D(2023, 6, 1), 30),
            ("b", D(2024, 5, 1), 15),
            ("c", D(2023, 6, 1), 90),
        ]
    )
    evaluation = evaluate_effect(letters, disp, "2025-06-30", sustained=(3, 12))
    per = evaluation.per_patient.set_index("patient_id")
    ddd = 10.0 / 50  # a 10 mg oxazepam tablet is 0.2 DDD (WHO DDD 50 mg)
    assert per.loc["a", "ddd_per_day_before"] == pytest.approx(60 * ddd / 365)
    assert per.loc["a", "ddd_per_day_after"] == pytest.approx(45 * ddd / 366)  # 2024 leap
    row = _row(evaluation.summary, "ddd_reduction", None)
    expected = 1 - (45 / 366 + 15 / 366) / (60 / 365 + 30 / 365)
    assert row["rate"] == pytest.approx(expected)
    assert row["evaluated"] == 2
    assert pd.isna(row["ci_low"])


def test_unknown_strength_leaves_the_reduction_but_not_the_stop() -> None:
    letters = _letters([("a", "G1")])
    disp = _disp([("a", D(2023, 6, 1), 60)])
    disp["strength_mg"] = pd.Series([None], dtype="float64")
    evaluation = evaluate_effect(letters, disp, "2025-12-31")
    per = evaluation.per_patient
    assert pd.isna(per.loc[0, "ddd_per_day_before"])
    assert bool(per.loc[0, "short_term_stop"])
    row = _row(evaluation.summary, "ddd_reduction", None)
    assert (row["evaluated"], row["not_due"], row["ddd_unknown"]) == (0, 0, 1)
    assert _row(evaluation.summary, "short_term_stop", None)["ddd_unknown"] == 0


def test_empty_letters_and_empty_gp_give_empty_rates() -> None:
    letters = _letters([])
    summary = evaluate_effect(letters, _disp([]), "2025-12-31").summary
    assert summary["level"].tolist() == ["total"] * 4
    assert summary["evaluated"].tolist() == [0, 0, 0, 0]
    assert summary["rate"].isna().all()


def test_lazy_in_lazy_out_and_engines_agree() -> None:
    letters = _letters([("a", "G1"), ("b", "G2")])
    disp = _disp([("a", D(2024, 5, 1), 30), ("b", D(2023, 5, 1), 30)])
    eager = evaluate_effect(letters, disp, "2025-12-31")
    lazy = evaluate_effect(pl.from_pandas(letters), pl.from_pandas(disp).lazy(), "2025-12-31")
    assert isinstance(lazy.summary, pl.LazyFrame)
    native = evaluate_effect(letters, disp, "2025-12-31", engine="native")
    for other in (lazy.summary.collect().to_pandas(), native.summary):
        pd.testing.assert_frame_equal(
            eager.summary.reset_index(drop=True), other.reset_index(drop=True), check_dtype=False
        )


def test_bad_input_is_named() -> None:
    letters = _letters([("a", "G1"), ("a", "G1")])
    with pytest.raises(InvalidRowsError, match="patient_id occurs more than once"):
        evaluate_effect(letters, _disp([]), "2025-12-31")
    with pytest.raises(MissingColumnsError, match="letter_date"):
        evaluate_effect(letters.drop(columns="letter_date"), _disp([]), "2025-12-31")
    with pytest.raises(ValueError, match="short_term"):
        evaluate_effect(_letters([]), _disp([]), "2025-12-31", short_term=(6, 3))


def test_wilson_expression_matches_the_python_formula() -> None:
    frame = pl.DataFrame({"x": [0, 1, 5, 7, 0], "n": [7, 4, 5, 40, 0]})
    low, high = wilson_expressions("x", "n")
    import narwhals as nw

    out = nw.from_native(frame).with_columns(lo=low, hi=high).to_native()
    for x, n, lo, hi in out.select("x", "n", "lo", "hi").rows():
        expected = wilson_interval(x, n)
        if expected is None:
            assert lo is None
            assert hi is None
        else:
            assert (lo, hi) == pytest.approx(expected)
    assert wilson_interval(0, 10)[0] == 0.0  # type: ignore[index]
    assert math.isclose(wilson_interval(10, 10)[1], 1.0)  # type: ignore[index]


_day = st.dates(D(2022, 6, 1), D(2026, 6, 1))
_form = st.sampled_from([None, None, "tablet", "Tablet ", "druppels"])
_days_supply = st.sampled_from([None, None, 10.0, 30.0, 45.5, 180.0])


@st.composite
def _refills(draw: st.DrawFn, patient: str, letter: dt.date) -> list[dict[str, Any]]:
    """A run of regular refills around the letter, some early, some returned: the supply
    carried forward, the rate of use and the window starts meet here."""
    day = letter + dt.timedelta(days=draw(st.integers(-400, 200)))
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        quantity = draw(st.sampled_from([2.0, 30.0, 60.0, 90.0]))
        rows.append(
            {
                "patient_id": patient,
                "date": day,
                "atc": "N05BA04",
                "quantity": quantity,
                "strength_mg": 10.0,
                "form": draw(_form),
                "days_supply": draw(_days_supply),
            }
        )
        if draw(st.booleans()) and draw(st.booleans()):  # now and then a return
            back = day + dt.timedelta(days=draw(st.integers(0, 5)))
            rows.append({**rows[-1], "date": back, "quantity": -quantity})
        day += dt.timedelta(days=draw(st.sampled_from([1, 10, 29, 30, 45, 90, 91, 92])))
    if draw(st.booleans()):  # the run ends with tablets collected just before a window
        months = draw(st.sampled_from([3, 9]))
        start = letter + relativedelta(months=months) - dt.timedelta(days=draw(st.integers(0, 3)))
        last = {**rows[0], "date": start, "quantity": draw(st.sampled_from([1.0, 90.0]))}
        rows = [*(row for row in rows if row["date"] < start), last]
    return rows


@st.composite
def _cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], ...]:
    ids = [f"p{i}" for i in range(draw(st.integers(1, 5)))]
    letters = [
        {
            "patient_id": p,
            "gp_id": draw(st.sampled_from(["G1", "G2"])),
            "letter_date": draw(st.dates(D(2023, 1, 1), D(2024, 12, 31))),
        }
        for p in ids
    ]
    dispensings = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "patient_id": st.sampled_from(ids),
                    "date": _day,
                    "atc": st.sampled_from(["N05BA04", "N05CF02", "N06AB06", "N05CD08"]),
                    "quantity": st.sampled_from([-30.0, 10.0, 30.0, 90.0]),
                    "strength_mg": st.sampled_from([None, 5.0, 10.0]),
                    "form": _form,
                    "days_supply": _days_supply,
                }
            ),
            max_size=25,
        )
    )
    for letter in letters:
        if draw(st.booleans()):
            dispensings += draw(_refills(letter["patient_id"], letter["letter_date"]))
    if draw(st.booleans()):  # half the cases without a days_supply column
        dispensings = [{k: v for k, v in row.items() if k != "days_supply"} for row in dispensings]
    patients = [
        {
            "patient_id": p,
            "status": draw(st.sampled_from(["active"] * 3 + ["deceased", "moved", "changed_gp"])),
            "status_date": draw(_day),
        }
        for p in ids
    ]
    return letters, dispensings, patients


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.dates(D(2024, 1, 1), D(2026, 6, 1)))
def test_vectorised_path_matches_plain_reference(cases: Any, evaluation: dt.date) -> None:
    letters, dispensings, patients = cases
    expected = reference_effect(letters, dispensings, evaluation, patients)
    schema = {
        "patient_id": pl.String,
        "date": pl.Date,
        "atc": pl.String,
        "quantity": pl.Float64,
        "strength_mg": pl.Float64,
        "form": pl.String,
    }
    if any("days_supply" in row for row in dispensings):
        schema["days_supply"] = pl.Float64
    disp = pl.DataFrame(dispensings, schema=schema)
    evaluated = evaluate_effect(
        pl.DataFrame(letters), disp, evaluation, patients=pl.DataFrame(patients)
    )
    result = evaluated.per_patient
    assert result.height == len(letters)
    # Within rounding of the supply's end from the window's first day, either answer is right.
    on_edge = {
        (pid, name)
        for pid, want in expected.items()
        for name in ("short_term", "mid_term", "sustained")
        if want[f"{name}_margin"] is not None and abs(want[f"{name}_margin"]) < 1e-6
    }
    for name in ("short_term", "mid_term", "sustained"):
        differs = any(w[name] and w[f"{name}_supply"] is False for w in expected.values())
        event(f"{name}: supply into the window changes a stop: {differs}")
    event(f"rate observed: {any(w['rate'] not in (None, 1.0) for w in expected.values())}")
    # The total reconciles: every letter is evaluated, not due, or left.
    for row in evaluated.summary.filter(pl.col("level") == "total").iter_rows(named=True):
        left = row["left_deceased"] + row["left_moved"] + row["left_changed_gp"]
        if row["measure"] != "ddd_reduction":
            assert row["evaluated"] + row["not_due"] + left == len(letters)
            name = row["measure"].removesuffix("_stop")
            assert row["events_plain"] == sum(1 for w in expected.values() if w[name] is True)
            assert row["events_plain"] >= row["events"]  # the plain definition: an upper bound
            if not any(n == name for _, n in on_edge):
                supply = sum(1 for w in expected.values() if w[f"{name}_supply"] is True)
                assert row["events"] == supply
    for row in result.iter_rows(named=True):
        want = expected[row["patient_id"]]
        assert row["left_reason"] == want["left_reason"]
        for name in ("short_term", "mid_term", "sustained"):
            assert row[f"{name}_stop_plain"] == want[name], name
            if (row["patient_id"], name) not in on_edge:
                assert row[f"{name}_stop"] == want[f"{name}_supply"], name
        if want["rate"] is None:
            assert row["units_per_day"] is None
        else:
            assert row["units_per_day"] == pytest.approx(want["rate"])
        for ours, theirs in (("ddd_per_day_before", "before"), ("ddd_per_day_after", "after")):
            if want[theirs] is None:
                assert row[ours] is None
            else:
                assert row[ours] == pytest.approx(want[theirs])
