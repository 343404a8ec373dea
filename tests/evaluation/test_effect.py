"""Effect evaluation (bijlage 4): stoppers, censoring, reduction, Wilson intervals."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
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
    result = evaluate_effect(letters, disp, "2024-12-31").per_patient
    assert result.set_index("patient_id")["short_term_stop"].to_dict() == {
        "a": True,
        "b": False,
        "c": False,
        "d": True,
    }


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
                }
            ),
            max_size=25,
        )
    )
    patients = [
        {
            "patient_id": p,
            "status": draw(st.sampled_from(["active", "deceased", "moved", "changed_gp"])),
            "status_date": draw(_day),
        }
        for p in ids
    ]
    return letters, dispensings, patients


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.dates(D(2024, 1, 1), D(2026, 6, 1)))
def test_vectorised_path_matches_plain_reference(cases: Any, evaluation: dt.date) -> None:
    letters, dispensings, patients = cases
    expected = reference_effect(letters, dispensings, evaluation, patients)
    disp = pl.DataFrame(
        dispensings,
        schema={
            "patient_id": pl.String,
            "date": pl.Date,
            "atc": pl.String,
            "quantity": pl.Float64,
            "strength_mg": pl.Float64,
        },
    )
    evaluated = evaluate_effect(
        pl.DataFrame(letters), disp, evaluation, patients=pl.DataFrame(patients)
    )
    result = evaluated.per_patient
    assert result.height == len(letters)
    # The total reconciles: every letter is evaluated, not due, or left.
    for row in evaluated.summary.filter(pl.col("level") == "total").iter_rows(named=True):
        left = row["left_deceased"] + row["left_moved"] + row["left_changed_gp"]
        if row["measure"] != "ddd_reduction":
            assert row["evaluated"] + row["not_due"] + left == len(letters)
            name = row["measure"].removesuffix("_stop")
            assert row["events"] == sum(1 for w in expected.values() if w[name] is True)
    for row in result.iter_rows(named=True):
        want = expected[row["patient_id"]]
        assert row["left_reason"] == want["left_reason"]
        for name in ("short_term", "mid_term", "sustained"):
            assert row[f"{name}_stop"] == want[name], name
        for ours, theirs in (("ddd_per_day_before", "before"), ("ddd_per_day_after", "after")):
            if want[theirs] is None:
                assert row[ours] is None
            else:
                assert row[ours] == pytest.approx(want[theirs])
