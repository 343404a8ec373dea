"""The sending schedule: weekly batches, calendar months, call list, consult capacity, exports."""

from __future__ import annotations

import datetime as dt
import stat
from collections import Counter
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from benzoredux.schedule import (
    ScheduleOptions,
    add_months,
    invitation_fields,
    next_working_day,
    plan_schedule,
    write_schedule_ics,
    write_schedule_xlsx,
)


def ids(n: int) -> list[str]:
    return [f"p{i:03d}" for i in range(n)]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 1, 31), dt.date(2026, 4, 30)),  # April has 30 days
        (dt.date(2025, 11, 30), dt.date(2026, 2, 28)),  # February, common year
        (dt.date(2027, 11, 30), dt.date(2028, 2, 29)),  # February, leap year
        (dt.date(2027, 11, 29), dt.date(2028, 2, 29)),
        (dt.date(2026, 12, 31), dt.date(2027, 3, 31)),  # over the year end
        (dt.date(2026, 3, 15), dt.date(2026, 6, 15)),
    ],
)
def test_invitation_is_three_calendar_months_later(day: dt.date, expected: dt.date) -> None:
    assert add_months(day, 3) == expected


def test_batches_of_fifteen_a_week_in_the_order_given() -> None:
    plan = plan_schedule(ids(31), "2026-03-02")  # a Monday
    table = plan.table
    assert Counter(table["batch"]) == {1: 15, 2: 15, 3: 1}
    assert table["patient_id"].tolist() == ids(31)
    by_batch = table.groupby("batch")["letter_date"].unique()
    assert by_batch[1].tolist() == [dt.date(2026, 3, 2)]
    assert by_batch[2].tolist() == [dt.date(2026, 3, 9)]
    assert by_batch[3].tolist() == [dt.date(2026, 3, 16)]
    assert plan.batches["patients"].tolist() == [15, 15, 1]


def test_invitation_at_a_month_end_and_weekends_roll_forward() -> None:
    plan = plan_schedule(ids(2), "2026-01-30", batch_size=1)  # Friday 30 January
    rows = plan.table.to_dict("records")
    # 30 January + 3 months = 30 April (Thursday); the second batch a week later: 6 February
    # + 3 months = 6 May.
    assert rows[0]["invitation_date"] == dt.date(2026, 4, 30)
    assert rows[1]["letter_date"] == dt.date(2026, 2, 6)
    assert rows[1]["invitation_date"] == dt.date(2026, 5, 6)
    # 30 November 2025 is a Sunday: letters go on Monday 1 December, invitations on
    # 1 March 2026 (a Sunday as well), so on Monday 2 March.
    late = plan_schedule(ids(1), "2025-11-30").table.iloc[0]
    assert late["letter_date"] == dt.date(2025, 12, 1)
    assert late["invitation_date"] == dt.date(2026, 3, 2)


def test_every_date_is_a_working_day_and_holidays_are_skipped() -> None:
    kings_day = dt.date(2026, 4, 27)  # a Monday
    plan = plan_schedule(ids(40), "2026-01-26", holidays=[kings_day, dt.date(2026, 5, 5)])
    for column in ("letter_date", "invitation_date", "call_date", "consult_date"):
        for day in plan.table[column]:
            assert day.weekday() < 5, (column, day)
            assert day not in {kings_day, dt.date(2026, 5, 5)}
    assert next_working_day(kings_day, [kings_day]) == dt.date(2026, 4, 28)


def test_call_list_two_weeks_after_each_invitation() -> None:
    plan = plan_schedule(ids(20), "2026-02-02")
    for row in plan.table.to_dict("records"):
        assert row["call_date"] == next_working_day(row["invitation_date"] + dt.timedelta(days=14))


def test_at_most_two_consults_a_day_never_before_the_invitation_lead() -> None:
    plan = plan_schedule(ids(45), "2026-02-02")
    per_day = Counter(plan.table["consult_date"])
    assert max(per_day.values()) == 2
    for row in plan.table.to_dict("records"):
        assert row["consult_date"] >= row["invitation_date"] + dt.timedelta(days=7)
        assert row["consult_date"].weekday() < 5
    # First come, first served: consults never go back in time along the sending order.
    days = plan.table["consult_date"].tolist()
    assert days == sorted(days)


def test_consult_capacity_per_gp() -> None:
    table = pd.DataFrame({"patient_id": ids(6), "gp_id": ["a", "b"] * 3})
    plan = plan_schedule(table, "2026-02-02", per_gp=True, consults_per_day=1)
    per_gp_day = Counter(zip(plan.table["gp_id"], plan.table["consult_date"], strict=True))
    assert max(per_gp_day.values()) == 1
    assert len(set(plan.table["consult_date"])) == 3  # a and b in parallel


def test_slot_times_give_appointments() -> None:
    plan = plan_schedule(ids(3), "2026-02-02", slot_times=["09:00", "09:30"])
    at = plan.table["consult_at"].tolist()
    assert [t.time() for t in at] == [dt.time(9), dt.time(9, 30), dt.time(9)]
    fields = invitation_fields(plan, appointments=True, consult_with="de praktijkondersteuner")
    assert fields["p001"]["appointment"] == "maandag 11 mei 2026 om 9.30 uur"
    assert fields["p001"]["stop_letter_date"] == dt.date(2026, 2, 2)
    assert fields["p001"]["consult_with"] == "de praktijkondersteuner"
    assert invitation_fields(plan)["p001"]["appointment"] is None


def test_letters_together_keep_invitations_weekly() -> None:
    plan = plan_schedule(ids(30), "2026-02-02", letters="together")
    assert set(plan.table["letter_date"]) == {dt.date(2026, 2, 2)}
    assert sorted(set(plan.table["invitation_date"])) == [dt.date(2026, 5, 4), dt.date(2026, 5, 11)]


def test_screening_table_gives_its_eligible_patients() -> None:
    table = pl.DataFrame({"patient_id": ["a", "b", "c"], "eligible": [True, False, True]})
    assert plan_schedule(table, "2026-02-02").table["patient_id"].tolist() == ["a", "c"]


def test_bad_options_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        plan_schedule(ids(1), "2026-02-02", batch=3)
    with pytest.raises(ValueError, match="batch_size"):
        ScheduleOptions(batch_size=0)
    with pytest.raises(ValueError, match="slot_times"):
        ScheduleOptions(consults_per_day=3, slot_times=["09:00"])
    with pytest.raises(ValueError, match="occurs more than once"):
        plan_schedule(["a", "a"], "2026-02-02")


def test_spreadsheet_is_private_and_formula_safe(tmp_path: Path) -> None:
    plan = plan_schedule(["=HYPERLINK(1)", "p2"], "2026-02-02")
    patients = pd.DataFrame(
        {
            "patient_id": ["=HYPERLINK(1)", "p2"],
            "initials": ["A.", "@B."],
            "family_name": ["X", "Y"],
        }
    )
    path = write_schedule_xlsx(plan, tmp_path / "plan.xlsx", patients=patients)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Planning", "Groepen", "Nabellen"]
    planning = list(workbook["Planning"].values)
    header = planning[0]
    first = dict(zip(header, planning[1], strict=True))
    assert first["Patiëntnummer"] == "=HYPERLINK(1)"  # a text cell: never a formula, no quote
    assert workbook["Planning"]["A2"].data_type == "s"
    assert first["Datum stopbrief"] == dt.datetime(2026, 2, 2)
    assert workbook["Planning"]["D2"].number_format == "dd-mm-yyyy"
    second = dict(zip(header, planning[2], strict=True))
    assert second["Naam"] == "@B. Y"
    calls = list(workbook["Nabellen"].values)
    assert calls[0][:3] == ("Nabellen op", "Groep", "Patiëntnummer")


def test_icalendar_has_batches_and_consults_without_patient_data(tmp_path: Path) -> None:
    plan = plan_schedule(ids(4), "2026-02-02", batch_size=2, slot_times=["09:00", "09:30"])
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    path = write_schedule_ics(plan, tmp_path / "plan.ics", stamp=stamp)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert b"p000" not in data
    calendar = Calendar.from_ical(data)
    events = list(calendar.walk("VEVENT"))
    summaries = [str(e["SUMMARY"]) for e in events]
    assert sum(s.startswith("Stopbrieven versturen") for s in summaries) == 2
    assert sum(s.startswith("Nabellen") for s in summaries) == 2
    consults = [e for e in events if str(e["SUMMARY"]).startswith("Evaluatieconsult")]
    assert len(consults) == 4
    assert consults[0].decoded("DTSTART") == dt.datetime(2026, 5, 11, 9, 0)
    assert len({str(e["UID"]) for e in events}) == len(events)
    again = write_schedule_ics(plan, tmp_path / "again.ics", stamp=stamp)
    assert again.read_bytes() == data  # reproducible with a fixed stamp
    with_ids = write_schedule_ics(plan, tmp_path / "ids.ics", stamp=stamp, include_patient_ids=True)
    assert b"p000" in with_ids.read_bytes()
