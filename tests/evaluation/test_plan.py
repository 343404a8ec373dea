"""The plan of action (bijlage 3): dated, editable, exported, overdue view."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from benzoredux.evaluation.plan import (
    EXAMPLE_PLAN,
    PlanOfAction,
    PlanTask,
    TemplateTask,
    plan_of_action,
    write_plan_ics,
    write_plan_xlsx,
)
from benzoredux.register import open_register

D = dt.date


def test_example_plan_follows_bijlage_3_months() -> None:
    months = {t.task_id: (t.first_month, t.last_month) for t in EXAMPLE_PLAN}
    assert months["select"] == (1, 1)
    assert months["send-letters"] == (2, 2)
    assert months["monitor-1"] == (2, 4)
    assert months["send-invitations"] == (5, 5)
    assert months["consults"] == (5, 6)
    assert months["monitor-3"] == (7, 14)
    assert months["evaluate"] == (15, 15)
    assert len(EXAMPLE_PLAN) == 14


def test_programme_months_are_calendar_months_from_the_start() -> None:
    plan = plan_of_action("2026-01-31")
    assert plan.task("select").start == D(2026, 1, 31)
    assert plan.task("select").due == D(2026, 2, 27)  # day before 28 Feb (31 Jan + 1 month)
    assert plan.task("evaluate").start == D(2027, 3, 31)
    assert plan.task("monitor-3").due == D(2027, 3, 30)


def test_overdue_ignores_done_and_skipped_tasks() -> None:
    plan = plan_of_action("2026-01-05")
    assert [t.task_id for t in plan.overdue("2026-02-04")] == []  # month 1 ends on 4 February
    assert len(plan.overdue("2026-02-05")) == 4
    edited = plan.with_status("select", "done").with_status("screen", "skipped", note="via HIS")
    assert [t.task_id for t in edited.overdue("2026-02-05")] == ["brief-team", "instruct-team"]
    assert edited.task("screen").note == "via HIS"
    assert plan.task("select").status == "open"  # plans are immutable


def test_editing_tasks() -> None:
    plan = plan_of_action("2026-01-05")
    extra = PlanTask(
        "press", "communicate", "Persbericht", "krant", "huisarts", D(2026, 2, 1), D(2026, 2, 10)
    )
    plan = plan.with_task(extra).without_task("inform-public")
    assert plan.tasks[-1].task_id == "press"
    with pytest.raises(KeyError):
        plan.task("inform-public")
    with pytest.raises(ValueError, match="occurs twice"):
        PlanOfAction(D(2026, 1, 5), [extra, extra])
    with pytest.raises(ValueError, match="before first_month"):
        TemplateTask("x", "s", "w", "h", "who", 3, 2)


def test_table_round_trip_and_bad_rows() -> None:
    plan = plan_of_action("2026-01-05").with_status("select", "done")
    table = plan.table()
    assert list(table.columns) == [
        "task_id",
        "step",
        "what",
        "how",
        "who",
        "start",
        "due",
        "status",
        "note",
    ]
    again = PlanOfAction.from_table(table, start_date="2026-01-05")
    assert again == plan
    table.loc[3, "status"] = "finished"
    with pytest.raises(ValueError, match="row 3: status 'finished'"):
        PlanOfAction.from_table(table, start_date="2026-01-05")


def test_xlsx_is_private_and_formula_safe(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    plan = plan_of_action("2026-01-05").with_status("select", "done", note="=HYPERLINK(1)")
    path = write_plan_xlsx(plan, tmp_path / "plan.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Taakcode", "Stap", "Wat", "Hoe", "Wie", "Vanaf", "Uiterlijk", "Status", "Toelichting",
    )  # fmt: skip
    assert len(rows) == 15
    assert rows[1][8] == "=HYPERLINK(1)"  # a text cell, never a formula: no quote shown
    assert sheet["I2"].data_type == "s"
    assert rows[1][7] == "klaar"
    assert rows[1][6] == dt.datetime(2026, 2, 4)
    assert sheet["G2"].number_format == "dd-mm-yyyy"


def test_ics_has_one_event_per_open_task(tmp_path: Path) -> None:
    from icalendar import Calendar

    plan = plan_of_action("2026-01-05").with_status("select", "done")
    path = write_plan_ics(plan, tmp_path / "plan.ics", stamp=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert len(events) == 13
    first = events[0]
    assert first.decoded("dtstart") == D(2026, 1, 5)
    assert first.decoded("dtend") == D(2026, 2, 5)  # exclusive end: due day included


def test_record_into_the_register(tmp_path: Path) -> None:
    plan = plan_of_action("2026-01-05").with_status("select", "done")
    with open_register(tmp_path / "programme.sqlite", create=True) as register:
        plan.record(register, by="monitor")
        tasks = {e.key[0]: e for e in register.current("tasks")}
        assert len(tasks) == 14
        assert tasks["select"]["status"] == "done"
        assert tasks["monitor-3"]["month"] == 7
        assert tasks["evaluate"]["due"] == D(2027, 4, 4)
