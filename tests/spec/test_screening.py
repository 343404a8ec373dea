"""Screening (FTO module, bijlage 2, step 2): each built-in criterion, GP overrides, missing data.

Every test states one rule of ``benzoredux.screening`` / ``benzoredux.screening.criteria`` on a
small hand-made selection, so that it fails when the rule is wrong.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from benzoredux import ExclusionCriterion
from benzoredux.errors import ColumnTypeError
from benzoredux.hookspecs import hookimpl
from benzoredux.plugins import using_plugins
from benzoredux.screening import (
    Override,
    ScreeningContext,
    ScreeningDataError,
    ScreeningError,
    screen,
)
from benzoredux.screening.criteria import builtin_criteria

REFERENCE = dt.date(2025, 6, 30)
KINDS = ("pandas", "polars", "polars-lazy", "pyarrow")


def convert(frame: pd.DataFrame, kind: str) -> Any:
    if kind == "polars":
        return pl.from_pandas(frame)
    if kind == "polars-lazy":
        return pl.from_pandas(frame).lazy()
    if kind == "pyarrow":
        return pa.Table.from_pandas(frame, preserve_index=False)
    return frame


def plain(value: Any) -> Any:
    if value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def by_patient(table: Any) -> dict[str, dict[str, Any]]:
    frame = nw.from_native(table)
    rows = (frame.collect() if isinstance(frame, nw.LazyFrame) else frame).rows(named=True)
    return {r["patient_id"]: {k: plain(v) for k, v in r.items()} for r in rows}


ALL_BUT = {
    "other_indication",
    "palliative",
    "dutch_language",
    "immobile",
    "ddd_per_day",
    "probably_stopped",
    "excluded_at_selection",
}


def selection(**extra: list[Any]) -> pd.DataFrame:
    ids = extra.pop("patient_id", ["p1", "p2", "p3"])
    return pd.DataFrame({"patient_id": ids, **extra})


def doses(recent: list[Any], year: list[Any] | None = None) -> dict[str, list[Any]]:
    """The selection's two doses: ``ddd_per_day_recent`` and ``ddd_per_day`` (the year's
    average; the same values unless given)."""
    return {"ddd_per_day": recent if year is None else year, "ddd_per_day_recent": recent}


def only(key: str) -> dict[str, Any]:
    """Options that switch on ``key`` and off every other built-in criterion."""
    return {"enable": [key], "disable": sorted((ALL_BUT | {"high_age"}) - {key})}


def result(outcome: Any) -> dict[str, dict[str, Any]]:
    return by_patient(outcome.table)


# --- the built-in criteria, one rule each ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_ddd_per_day_excludes_strictly_above_two_by_default(kind: str) -> None:
    # The recent dose decides by default (b's year's average is under the limit).
    sel = selection(
        patient_id=["a", "b", "c", "d"],
        **doses([2.0, 2.01, 0.5, None], year=[1.5, 0.5, 2.0, None]),
    )
    out = screen(convert(sel, kind), REFERENCE, **only("ddd_per_day"))
    rows = result(out)
    assert {k: r["proposed"] for k, r in rows.items()} == {
        "a": "eligible",
        "b": "excluded",
        "c": "eligible",
        "d": "review",  # no strength: cannot tell, never silently eligible
    }
    assert rows["b"]["excluded_by"] == "ddd_per_day"
    assert rows["b"]["reasons"] == "2.01 DDD a day recently (ddd_per_day_recent), more than 2 DDD"
    assert rows["d"]["undecided"].startswith("ddd_per_day: recent DDD per day unknown")


def test_ddd_per_day_nhg_position_is_one_ddd() -> None:
    sel = selection(**doses([1.0, 1.5, 0.9]))
    out = screen(sel, REFERENCE, parameters={"ddd_per_day": {"max_ddd_per_day": 1}})
    rows = result(out)
    assert [rows[p]["excluded_by"] for p in ("p1", "p2", "p3")] == ["", "ddd_per_day", ""]


def _issue_14_dispensings() -> pd.DataFrame:
    """Issue 14: oxazepam 50 mg (1 tablet = 1 DDD) on the 1st of each month of 2025, one a day
    for eight months, then three a day for the last four; 'rose_3x' has the issue's wording:
    3 x 50 mg a day for the last four months only (90 tablets a month from 3 September)."""
    days = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    rows = [
        ("rose", dt.datetime(2025, month, 1), days[month - 1] * (3 if month >= 9 else 1))
        for month in range(1, 13)
    ]
    rows += [
        ("rose_3x", dt.datetime(2025, month, day), 90)
        for month, day in ((9, 3), (10, 3), (11, 2), (12, 2))
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "date", "quantity"])
    return frame.assign(atc="N05BA04", strength_mg=50.0, quantity=frame["quantity"].astype(float))


def test_ddd_per_day_issue_14_a_recent_rise_to_three_ddd_is_excluded_by_default() -> None:
    """Issue 14 / DOMAIN.md Screening: the limit is on the *current* use, not a year's average
    that hides a recent rise ("meer dan 2 DDD per dag ... niet op eigen kracht")."""
    from benzoredux import select_chronic_users

    chosen = select_chronic_users(_issue_14_dispensings(), "2025-12-31")
    dose = chosen.set_index("patient_id")
    # rose: 609 DDD / 365 = 1.67 over the year, 276 DDD / 92 days = 3.0 recently;
    # rose_3x: 360 / 365 = 0.99 over the year (under both limits), 270 / 92 = 2.93 recently.
    assert dose.loc["rose", "ddd_per_day"] == pytest.approx(609 / 365)
    assert dose.loc["rose", "ddd_per_day_recent"] == pytest.approx(3.0)
    assert dose.loc["rose_3x", "ddd_per_day"] == pytest.approx(360 / 365)
    rows = result(screen(chosen, "2025-12-31", **only("ddd_per_day")))
    assert rows["rose"]["proposed"] == rows["rose_3x"]["proposed"] == "excluded"
    assert rows["rose"]["reasons"] == (
        "3.0 DDD a day recently (ddd_per_day_recent), more than 2 DDD"
    )
    assert rows["rose_3x"]["reasons"] == (
        "2.93 DDD a day recently (ddd_per_day_recent), more than 2 DDD"
    )
    # The year's average (the option) lets both through the Benzoredux limit of 2 ...
    year = {"ddd_per_day": {"dose_basis": "year"}}
    rows = result(screen(chosen, "2025-12-31", parameters=year, **only("ddd_per_day")))
    assert rows["rose"]["proposed"] == rows["rose_3x"]["proposed"] == "eligible"
    # ... and rose_3x through the NHG limit of 1 too; rose is 1.67 over the year.
    nhg = {"ddd_per_day": {"dose_basis": "year", "max_ddd_per_day": 1}}
    rows = result(screen(chosen, "2025-12-31", parameters=nhg, **only("ddd_per_day")))
    assert (rows["rose"]["proposed"], rows["rose_3x"]["proposed"]) == ("excluded", "eligible")
    assert rows["rose"]["reasons"] == (
        "1.67 DDD a day on average over the selection window (ddd_per_day), more than 1 DDD"
    )


def test_ddd_per_day_recent_under_but_year_above_the_limit_is_for_the_gp_to_check() -> None:
    """The recent dose counts what was dispensed in the last 3 months: a steady 3-DDD user with
    a supply every 51 days may have one supply in them (1.66). Not eligible, not excluded: the
    GP checks. Under both limits, or above the recent one, the recent dose decides."""
    sel = selection(
        patient_id=["steady", "tapered", "rose", "low"],
        **doses([1.66, 0.9, 3.0, 0.5], year=[3.21, 1.5, 1.67, 0.6]),
    )
    rows = result(screen(sel, REFERENCE, **only("ddd_per_day")))
    assert {p: r["proposed"] for p, r in rows.items()} == {
        "steady": "review",
        "tapered": "eligible",
        "rose": "excluded",
        "low": "eligible",
    }
    assert rows["steady"]["undecided"] == (
        "ddd_per_day: 1.66 DDD a day recently (ddd_per_day_recent), but 3.21 on average over "
        "the selection window (ddd_per_day), more than 2 DDD: check the current dose"
    )
    nhg = {"ddd_per_day": {"max_ddd_per_day": 1}}
    rows = result(screen(sel, REFERENCE, parameters=nhg, **only("ddd_per_day")))
    assert rows["tapered"]["proposed"] == "review"  # 1.5 over the year, above 1
    # A selection of one's own without the year's average: the recent dose alone decides.
    recent_only = selection(patient_id=["steady"], ddd_per_day_recent=[1.66])
    rows = result(screen(recent_only, REFERENCE, **only("ddd_per_day")))
    assert rows["steady"]["proposed"] == "eligible"


def test_ddd_per_day_year_basis_compares_the_average() -> None:
    sel = selection(**doses([3.0, 0.5, None], year=[1.5, 2.5, None]))
    year = {"ddd_per_day": {"dose_basis": "year"}}
    rows = result(screen(sel, REFERENCE, parameters=year, **only("ddd_per_day")))
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3")] == ["eligible", "excluded", "review"]
    assert rows["p3"]["undecided"] == (
        "ddd_per_day: DDD per day unknown (a dispensing without strength_mg or a DDD)"
    )


def test_ddd_per_day_higher_basis_excludes_when_either_dose_is_above() -> None:
    # p1 rose recently; p2 is a steady high user whose last supply fell just before the recent
    # window; p3 is under both; p4's year is unknown but its recent dose is above: excluded;
    # p5's year is unknown and its recent dose under: undecided.
    sel = selection(
        patient_id=["p1", "p2", "p3", "p4", "p5"],
        **doses([3.0, 1.0, 1.0, 2.5, 1.0], year=[1.5, 2.9, 1.5, None, None]),
    )
    higher = {"ddd_per_day": {"dose_basis": "higher"}}
    rows = result(screen(sel, REFERENCE, parameters=higher, **only("ddd_per_day")))
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3", "p4", "p5")] == [
        "excluded",
        "excluded",
        "eligible",
        "excluded",
        "review",
    ]
    assert rows["p1"]["reasons"] == "3.0 DDD a day recently (ddd_per_day_recent), more than 2 DDD"
    assert rows["p2"]["reasons"] == (
        "2.9 DDD a day on average over the selection window (ddd_per_day), more than 2 DDD"
    )
    assert rows["p5"]["undecided"].startswith("ddd_per_day: DDD per day unknown")


def test_ddd_per_day_a_selection_without_the_recent_dose_is_reviewed_and_says_why() -> None:
    """A selection made by an earlier version has no ddd_per_day_recent: never silently
    compared on the year's average; the GP reviews, or the practice chooses the year."""
    old = selection(ddd_per_day=[0.5, 3.0, 1.0])
    out = screen(old, REFERENCE, **only("ddd_per_day"))
    rows = result(out)
    assert {r["proposed"] for r in rows.values()} == {"review"}
    assert "no column 'ddd_per_day_recent'" in rows["p1"]["undecided"]
    assert "dose_basis='year'" in rows["p1"]["undecided"]
    year = {"ddd_per_day": {"dose_basis": "year"}}
    rows = result(screen(old, REFERENCE, parameters=year, **only("ddd_per_day")))
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3")] == ["eligible", "excluded", "eligible"]


def test_ddd_per_day_unknown_dose_basis_is_an_error() -> None:
    with pytest.raises(ScreeningError, match="dose_basis 'average' is not one of recent, year"):
        screen(
            selection(**doses([0.1] * 3)),
            REFERENCE,
            parameters={"ddd_per_day": {"dose_basis": "average"}},
            **only("ddd_per_day"),
        )


def episodes(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["patient_id", "icpc", "start", "end"])
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return frame


def test_other_indication_codes_subcodes_and_dates() -> None:
    eps = episodes(
        [
            ("p1", "P72", "2010-01-01", None),  # schizophrenia
            ("p2", "P06", "2020-01-01", None),  # sleep: the indication the letter is for
            ("p2", "N88.01", "2025-06-30", None),  # epilepsy subcode, started on the reference day
            ("p3", "P15", "2025-07-01", None),  # alcohol abuse, but only after the reference date
        ]
    )
    out = screen(selection(), REFERENCE, episodes=eps, **only("other_indication"))
    rows = result(out)
    assert rows["p1"]["reasons"] == "other indication: P72 Schizophrenia"
    assert rows["p2"]["reasons"] == "other indication: N88 Epilepsy"
    assert rows["p3"]["proposed"] == "eligible"


def test_other_indication_lists_every_code_found() -> None:
    eps = episodes([("p1", "P15", None, None), ("p1", "P70", None, None)])
    rows = result(screen(selection(), REFERENCE, episodes=eps, **only("other_indication")))
    assert rows["p1"]["reasons"] == "other indication: P15 Chronic alcohol abuse, P70 Dementia"


def test_other_indication_active_only_skips_ended_episodes() -> None:
    eps = episodes([("p1", "P19", "2015-01-01", "2016-01-01"), ("p2", "P19", "2015-01-01", None)])
    out = screen(
        selection(),
        REFERENCE,
        episodes=eps,
        parameters={"other_indication": {"active_only": True}},
        **only("other_indication"),
    )
    rows = result(out)
    assert (rows["p1"]["proposed"], rows["p2"]["proposed"]) == ("eligible", "excluded")


def flags(**columns: list[bool | None]) -> pd.DataFrame:
    frame = pd.DataFrame({"patient_id": ["p1", "p2", "p3"]})
    for name, values in columns.items():
        frame[name] = pd.array(values, dtype="boolean")
    return frame


@pytest.mark.parametrize(
    ("key", "column", "values", "expected"),
    [
        ("palliative", "palliative", [True, False, None], ["excluded", "eligible", "review"]),
        (
            "dutch_language",
            "dutch_language",
            [False, True, None],
            ["excluded", "eligible", "review"],
        ),
        ("immobile", "immobile", [True, False, None], ["excluded", "eligible", "review"]),
        (
            "serious_comorbidity",
            "serious_comorbidity",
            [True, False, None],
            ["excluded", "eligible", "review"],
        ),
    ],
)
def test_patient_flag_criteria(
    key: str, column: str, values: list[bool | None], expected: list[str]
) -> None:
    out = screen(selection(), REFERENCE, patients=flags(**{column: values}), **only(key))
    rows = result(out)
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3")] == expected


def test_a_patient_missing_from_the_patients_table_is_undecided() -> None:
    patients = flags(immobile=[False, False, False]).iloc[:2]
    rows = result(screen(selection(), REFERENCE, patients=patients, **only("immobile")))
    assert rows["p3"]["proposed"] == "review"


def test_serious_comorbidity_from_the_practice_codes() -> None:
    eps = episodes([("p1", "K77", "2024-01-01", None), ("p2", "K77", "2020-01-01", "2021-01-01")])
    out = screen(
        selection(),
        REFERENCE,
        episodes=eps,
        parameters={"serious_comorbidity": {"icpc_codes": ["K77"]}},
        **only("serious_comorbidity"),
    )
    rows = result(out)
    # active_only is on by default for comorbidity: an ended episode does not count.
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3")] == ["excluded", "eligible", "eligible"]
    assert rows["p1"]["reasons"] == "serious comorbidity: K77"


def test_psychosocial_problems_are_off_by_default() -> None:
    eps = episodes([("p1", "Z12", "2024-01-01", None)])
    rows = result(screen(selection(), REFERENCE, episodes=eps, disable=sorted(ALL_BUT)))
    assert rows["p1"]["proposed"] == "eligible"


def test_psychosocial_problems_from_open_chapter_z_episodes() -> None:
    """The seed's "other reasons" include psychosocial problems (bijlage 2, step 2): by default
    an episode of ICPC chapter Z (social problems) open on the reference date."""
    eps = episodes(
        [
            ("p1", "Z12", "2024-01-01", None),  # relationship problem with partner, open
            ("p1", "Z05.01", "2023-01-01", None),  # a subcode of work problem
            ("p2", "Z15", "2020-01-01", "2021-01-01"),  # loss of partner, ended long ago
            ("p3", "P06", "2024-01-01", None),  # sleep: not psychosocial
        ]
    )
    out = screen(selection(), REFERENCE, episodes=eps, **only("psychosocial"))
    rows = result(out)
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3")] == ["excluded", "eligible", "eligible"]
    assert rows["p1"]["reasons"] == (
        "psychosocial problems: Z05 Work problem, Z12 Relationship problem with partner"
    )


def test_psychosocial_codes_can_be_replaced_by_the_practice() -> None:
    eps = episodes([("p1", "Z12", "2024-01-01", None), ("p2", "P02", "2025-01-01", None)])
    out = screen(
        selection(),
        REFERENCE,
        episodes=eps,
        parameters={"psychosocial": {"icpc_codes": ["P02"]}},
        **only("psychosocial"),
    )
    rows = result(out)
    assert [rows[p]["proposed"] for p in ("p1", "p2")] == ["eligible", "excluded"]


def test_high_age_is_calendar_arithmetic_on_the_reference_date() -> None:
    patients = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4"],
            "birth_date": pd.to_datetime(
                ["1944-06-30", "1944-07-01", "1945-02-28", None], format="ISO8601"
            ),
        }
    )
    sel = selection(patient_id=["p1", "p2", "p3", "p4"])
    out = screen(sel, REFERENCE, patients=patients, **only("high_age"))
    rows = result(out)
    # max_age 80: p1 turns 81 on the reference date, p2 the day after (still 80).
    assert [rows[p]["proposed"] for p in ("p1", "p2", "p3", "p4")] == [
        "excluded",
        "eligible",
        "eligible",
        "review",
    ]


def test_high_age_for_someone_born_on_29_february() -> None:
    patients = pd.DataFrame(
        {"patient_id": ["p1"], "birth_date": pd.to_datetime(["1944-02-29"], format="ISO8601")}
    )
    options = only("high_age") | {"parameters": {"high_age": {"max_age": 82}}}
    before = screen(selection(patient_id=["p1"]), "2027-02-28", patients=patients, **options)
    after = screen(selection(patient_id=["p1"]), "2027-03-01", patients=patients, **options)
    assert result(before)["p1"]["proposed"] == "eligible"  # still 82 on 28 February 2027
    assert result(after)["p1"]["proposed"] == "excluded"  # 83 from 1 March


def test_probably_stopped_comes_from_the_selection() -> None:
    sel = selection(probably_stopped=[True, False, False], days_since_supply_end=[120.4, -3.0, 0])
    rows = result(screen(sel, REFERENCE, **only("probably_stopped")))
    assert rows["p1"]["reasons"] == (
        "probably stopped: last supply ran out about 120 days before the reference date"
    )
    assert rows["p2"]["proposed"] == "eligible"


def test_exclusions_kept_by_the_selection_carry_over() -> None:
    sel = selection(excluded_because=["complex co-medication: N03", None, ""])
    rows = result(screen(sel, REFERENCE, **only("excluded_at_selection")))
    assert rows["p1"]["reasons"] == "complex co-medication: N03"
    assert [rows[p]["proposed"] for p in ("p2", "p3")] == ["eligible", "eligible"]


# --- combining, missing data, overrides ---------------------------------------------------


def full_patients() -> pd.DataFrame:
    return flags(
        palliative=[False, True, False],
        dutch_language=[True, False, True],
        immobile=[False, False, False],
    )


def test_all_matching_reasons_are_kept_and_the_summary_counts_them() -> None:
    sel = selection(
        **doses([0.5, 3.0, 1.0]),
        probably_stopped=[False, False, False],
        days_since_supply_end=[0, 0, 0],
    )
    eps = episodes([("p3", "P06", None, None)])
    out = screen(sel, REFERENCE, patients=full_patients(), episodes=eps)
    rows = result(out)
    assert rows["p2"]["excluded_by"] == "palliative; dutch_language; ddd_per_day"
    assert rows["p2"]["reasons"] == (
        "terminal or palliative care; does not read Dutch well enough for the letter; "
        "3.0 DDD a day recently (ddd_per_day_recent), more than 2 DDD"
    )
    assert [rows[p]["decision"] for p in ("p1", "p2", "p3")] == ["eligible", "excluded", "eligible"]
    summary = out.summary
    assert summary.patients == 3
    assert summary.eligible == 2
    assert summary.proposed == {"eligible": 2, "excluded": 1, "review": 0}
    counts = {c.key: c.excluded for c in summary.criteria}
    assert counts["palliative"] == counts["dutch_language"] == counts["ddd_per_day"] == 1
    assert summary.disabled == ("high_age", "serious_comorbidity", "psychosocial")
    assert "2 of 3 selected patients are eligible (67%" in summary.describe()[0]


def test_missing_data_marks_every_patient_for_review_and_says_why() -> None:
    sel = selection(**doses([0.5, 0.5, 0.5]))
    out = screen(sel, REFERENCE, disable=["other_indication", "probably_stopped"])
    rows = result(out)
    assert {r["proposed"] for r in rows.values()} == {"review"}
    assert rows["p1"]["undecided"] == (
        "palliative: it needs the patients table with column(s) 'palliative'; "
        "dutch_language: it needs the patients table with column(s) 'dutch_language'; "
        "immobile: it needs the patients table with column(s) 'immobile'"
    )
    needs = {c.key: c.needs for c in out.summary.criteria}
    assert needs["ddd_per_day"] is None
    assert out.summary.eligible == 0


def test_missing_data_can_stop_the_run_naming_every_criterion() -> None:
    sel = selection(**doses([0.5, 0.5, 0.5]))
    patients = flags(palliative=[False, False, False])
    with pytest.raises(ScreeningDataError) as caught:
        screen(sel, REFERENCE, patients=patients, missing_data="error")
    message = str(caught.value)
    for key in ("other_indication", "dutch_language", "immobile", "probably_stopped"):
        assert key in message
    assert "palliative:" not in message
    assert "disable=" in message


def test_overrides_win_and_are_kept_with_who_and_when() -> None:
    sel = selection(**doses([0.5, 3.0, None]))
    overrides = [
        Override(
            patient_id="p2",
            decision="eligible",
            decided_by="dr. De Wit",
            decided_at=dt.datetime(2025, 7, 2, 9, 30),
            note="spoke with patient",
        ),
        Override(
            patient_id="p3", decision="excluded", decided_by="dr. De Wit", decided_at=REFERENCE
        ),
    ]
    out = screen(sel, REFERENCE, overrides=overrides, **only("ddd_per_day"))
    rows = result(out)
    assert (rows["p2"]["proposed"], rows["p2"]["decision"], rows["p2"]["eligible"]) == (
        "excluded",
        "eligible",
        True,
    )
    assert rows["p2"]["override_by"] == "dr. De Wit"
    assert rows["p2"]["override_at"] == dt.datetime(2025, 7, 2, 9, 30)
    assert rows["p2"]["override_note"] == "spoke with patient"
    assert (rows["p3"]["proposed"], rows["p3"]["decision"]) == ("review", "excluded")
    assert rows["p1"]["override"] is None
    assert out.summary.overridden == 2
    assert out.summary.decided == {"eligible": 2, "excluded": 1, "review": 0}


def test_overrides_from_a_table() -> None:
    table = pd.DataFrame(
        {
            "patient_id": ["p1"],
            "decision": ["excluded"],
            "decided_by": ["POH"],
            "decided_at": pd.to_datetime(["2025-07-01"]),
        }
    )
    rows = result(
        screen(selection(**doses([0.1] * 3)), REFERENCE, overrides=table, **only("ddd_per_day"))
    )
    assert rows["p1"]["decision"] == "excluded"


def test_override_for_an_unknown_patient_is_an_error() -> None:
    override = Override(patient_id="zz", decision="eligible", decided_by="x", decided_at=REFERENCE)
    with pytest.raises(ScreeningError, match="not in the selection: zz"):
        screen(
            selection(**doses([0.1] * 3)), REFERENCE, overrides=[override], **only("ddd_per_day")
        )


def test_two_overrides_for_one_patient_are_an_error() -> None:
    one = Override(patient_id="p1", decision="eligible", decided_by="x", decided_at=REFERENCE)
    with pytest.raises(ScreeningError, match="two overrides"):
        screen(
            selection(**doses([0.1] * 3)), REFERENCE, overrides=[one, one], **only("ddd_per_day")
        )


def test_override_decision_must_be_eligible_or_excluded() -> None:
    with pytest.raises(ValueError, match="decision"):
        Override(patient_id="p1", decision="maybe", decided_by="x", decided_at=REFERENCE)  # type: ignore[arg-type]


def test_unknown_keys_and_parameters_are_errors() -> None:
    sel = selection(**doses([0.1] * 3))
    with pytest.raises(ScreeningError, match=r"unknown criterion key.*'age'"):
        screen(sel, REFERENCE, disable=["age"])
    with pytest.raises(ScreeningError, match=r"unknown parameter.*'max_ddd'"):
        screen(sel, REFERENCE, parameters={"ddd_per_day": {"max_ddd": 1}})
    with pytest.raises(ScreeningError, match="both enabled and disabled"):
        screen(sel, REFERENCE, enable=["high_age"], disable=["high_age"])


def test_duplicate_patients_in_the_selection_are_an_error() -> None:
    with pytest.raises(ScreeningError, match="'p1' occurs more than once"):
        screen(selection(patient_id=["p1", "p1"]), REFERENCE, **only("ddd_per_day"))


def test_boolean_columns_must_be_booleans() -> None:
    patients = pd.DataFrame({"patient_id": ["p1"], "immobile": ["ja"]})
    with pytest.raises(ColumnTypeError, match="'immobile' must hold boolean"):
        screen(selection(patient_id=["p1"]), REFERENCE, patients=patients, **only("immobile"))


def test_result_keeps_the_callers_kind_and_every_patient() -> None:
    sel = pl.DataFrame({"patient_id": ["b", "a"], **doses([3.0, 0.1])})
    out = screen(sel, REFERENCE, **only("ddd_per_day"))
    assert isinstance(out.table, pl.DataFrame)
    assert out.table["patient_id"].to_list() == ["a", "b"]
    lazy = screen(sel.lazy(), REFERENCE, **only("ddd_per_day"))
    assert isinstance(lazy.table, pl.LazyFrame)


def test_criteria_as_applied_are_reported() -> None:
    out = screen(
        selection(**doses([0.1] * 3)),
        REFERENCE,
        parameters={"ddd_per_day": {"max_ddd_per_day": 1}},
        **only("ddd_per_day"),
    )
    applied = {c.key: c for c in out.criteria}
    assert applied["ddd_per_day"].enabled
    assert applied["ddd_per_day"].parameters == {"max_ddd_per_day": 1, "dose_basis": "recent"}
    assert not applied["immobile"].enabled


# --- plugin criteria -------------------------------------------------------------------------


class OwnList:
    """A practice's own criterion: patients on its do-not-write list."""

    criterion = ExclusionCriterion(
        key="practice_list", label="on the practice's list", source="tests"
    )

    def decide(self, context: ScreeningContext) -> Any:
        ids = context.selection.select("patient_id").collect().to_native()
        frame = nw.from_native(ids).to_pandas()
        frame["excluded"] = frame["patient_id"] == "p2"
        frame["reason"] = "on the practice's own list"
        return frame[frame["patient_id"] != "p3"]  # says nothing about p3


class Plugin:
    @hookimpl
    def benzoredux_register_criteria(self, register: Any) -> None:
        register(OwnList())


def test_a_plugin_criterion_is_applied_and_silence_means_review() -> None:
    with using_plugins(Plugin(), entry_points=False):
        out = screen(
            selection(**doses([0.1] * 3)),
            REFERENCE,
            disable=sorted(ALL_BUT - {"ddd_per_day"}),
        )
    rows = result(out)
    assert rows["p2"]["excluded_by"] == "practice_list"
    assert rows["p3"]["proposed"] == "review"
    assert rows["p3"]["undecided"] == "practice_list: no answer for this patient"


def test_a_criterion_answering_badly_is_named() -> None:
    class Broken(OwnList):
        def decide(self, context: ScreeningContext) -> Any:
            return pd.DataFrame({"patient_id": ["p1"], "excluded": ["yes"], "reason": [""]})

    with pytest.raises(ScreeningError, match=r"'practice_list'.*boolean"):
        screen(selection(**doses([0.1] * 3)), REFERENCE, criteria=[Broken(), *builtin_criteria()])


def test_builtins_are_registered_through_the_hook() -> None:
    from benzoredux.plugins import make_plugins

    keys = list(make_plugins(entry_points=False).criteria())
    assert keys == [c.criterion.key for c in builtin_criteria()]
