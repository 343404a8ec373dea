"""The plan-of-action rules a programme run applies (moved from the ``plan`` command into
:mod:`benzoredux.evaluation.plan`): dating bijlage 3's example, re-applying recorded statuses,
moving tasks along from the register and keeping concurrent changes. Plain errors, no click."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from benzoredux.evaluation.plan import (
    dated_example,
    month_one,
    name_gps,
    plan_of_action,
    recorded_progress,
    recorded_tasks,
)
from benzoredux.register import open_register


def test_month_one_is_a_month_before_the_letters_or_the_reference_date() -> None:
    assert month_one(letter_date=dt.date(2026, 2, 9)) == dt.date(2026, 1, 9)
    assert month_one(reference_date=dt.date(2025, 12, 31)) == dt.date(2025, 12, 31)
    # The letters date wins: bijlage 3 sends the letters in month 2.
    both = month_one(letter_date=dt.date(2026, 2, 9), reference_date=dt.date(2025, 12, 31))
    assert both == dt.date(2026, 1, 9)
    with pytest.raises(ValueError, match="no start date"):
        month_one()


def test_the_gps_are_named_only_where_the_example_says_huisarts() -> None:
    assert name_gps("huisarts of POH-GGZ", ["A", "B"]) == "huisarts (A, B) of POH-GGZ"
    assert name_gps("praktijkassistente", ["A"]) == "praktijkassistente"
    assert name_gps("huisarts", []) == "huisarts"


def test_the_letters_tasks_are_due_on_the_letters_date() -> None:
    plan = dated_example("2026-01-05", letter_date="2026-01-20")
    # Merging starts no later than the letters; both are due the day they go out.
    assert (plan.task("merge-letters").start, plan.task("merge-letters").due) == (
        dt.date(2026, 1, 20),
        dt.date(2026, 1, 20),
    )
    assert plan.task("send-letters").start == dt.date(2026, 1, 20)
    # The other tasks keep the example's months.
    assert plan.task("select") == plan_of_action("2026-01-05").task("select")
    with pytest.raises(ValueError, match="before the start"):
        dated_example("2026-01-05", letter_date="2026-01-04")


def test_recorded_statuses_win_and_progress_moves_only_open_tasks() -> None:
    recorded = {"select": {"status": "skipped", "note": "SFK-lijst"}}
    plan = dated_example("2026-01-05", recorded=recorded)
    assert (plan.task("select").status.value, plan.task("select").note) == ("skipped", "SFK-lijst")
    progress = {"select": ("done", "snapshot 1"), "screen": ("done", "3 screened")}
    moved, progressed = plan.moved_along(progress, done=("brief-team",))
    assert moved.task("select").status.value == "skipped"  # marked by hand: stays
    assert moved.task("screen").status.value == "done"
    assert moved.task("brief-team").status.value == "done"
    assert progressed == {"screen": ("done", "3 screened")}
    with pytest.raises(KeyError, match="no task 'nope'; tasks: select, screen"):
        plan.moved_along({}, done=("nope",))


def test_a_change_recorded_meanwhile_is_kept_unless_this_run_ticks_it(tmp_path: Any) -> None:
    with open_register(tmp_path / "programme.sqlite", create=True) as register:
        plan = dated_example("2026-01-05")
        plan.record(register, by="apotheker")
        before = recorded_tasks(register)
        for task_id in ("brief-team", "select"):
            register.set_task_status(task_id, "skipped", by="assistente", remark="besproken")
        kept = plan.with_concurrent_changes(before, register, done=("select",))
        assert kept.task("brief-team").status.value == "skipped"
        assert kept.task("select").status.value == "open"  # this run's own tick wins
        assert recorded_progress(register) == {}
