"""Calendar UIDs belong to their programme (issue 17, "Calendar UIDs"): ``letters-1@benzoredux``
was the same in every programme, so two programmes in one agenda replaced each other's events.
The UIDs of schedule.ics and plan.ics now carry the programme (practice and reference date):
the same programme written again keeps them (an update replaces its events), another
programme gets others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from benzoredux.cli import main
from benzoredux.evaluation.plan import plan_of_action, write_plan_ics
from benzoredux.register import open_register
from benzoredux.schedule import (
    calendar_programme,
    calendar_programme_of,
    calendar_uid,
    plan_schedule,
    write_schedule_ics,
)

STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def uids(path: Path) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")]


def ids(count: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(count)]


def test_calendar_uid_is_stable_safe_and_hides_the_practice() -> None:
    first = calendar_uid("letters-1", calendar_programme("de-linde", "2025-12-31"))
    assert first == calendar_uid("letters-1", calendar_programme(" de-linde ", "2025-12-31"))
    assert first != calendar_uid("letters-1", calendar_programme("de-linde", "2026-06-30"))
    assert first != calendar_uid("letters-1", calendar_programme("de-eik", "2025-12-31"))
    assert first.startswith("letters-1.")
    assert first.endswith("@benzoredux")
    assert "linde" not in first
    with pytest.raises(ValueError, match="practice_id"):
        calendar_programme(" ", "2025-12-31")


def test_two_programmes_in_one_agenda_keep_their_own_schedule_events(tmp_path: Path) -> None:
    plan = plan_schedule(ids(30), "2026-01-12", batch_size=15, slot_times=["09:00", "09:20"])
    linde = calendar_programme("de-linde", "2025-12-31")
    eik = calendar_programme("de-eik", "2025-12-31")
    first = uids(write_schedule_ics(plan, tmp_path / "a.ics", programme=linde, stamp=STAMP))
    second = uids(write_schedule_ics(plan, tmp_path / "b.ics", programme=eik, stamp=STAMP))
    assert len(set(first)) == len(first) == 2 * 3 + 30
    assert not set(first) & set(second)
    # The same programme written again, even planned again for other patients (a changed
    # screening), replaces its batch events instead of adding to them.
    again = plan_schedule(ids(29, "q"), "2026-01-12", batch_size=15)
    rewritten = uids(write_schedule_ics(again, tmp_path / "c.ics", programme=linde, stamp=STAMP))
    batch_events = {u for u in first if u.split(".")[0].split("-")[0] != "consult"}
    assert batch_events <= set(rewritten)


def test_without_a_programme_the_schedule_itself_tells_programmes_apart(tmp_path: Path) -> None:
    one = plan_schedule(ids(4, "a"), "2026-01-12")
    other = plan_schedule(ids(4, "b"), "2026-01-12")
    first = uids(write_schedule_ics(one, tmp_path / "a.ics", stamp=STAMP))
    assert not set(first) & set(uids(write_schedule_ics(other, tmp_path / "b.ics", stamp=STAMP)))
    assert first == uids(write_schedule_ics(one, tmp_path / "c.ics", stamp=STAMP))


def test_two_programmes_in_one_agenda_keep_their_own_plan_events(tmp_path: Path) -> None:
    plan = plan_of_action("2026-01-05")
    linde = calendar_programme("de-linde", "2025-12-31")
    first = uids(write_plan_ics(plan, tmp_path / "a.ics", programme=linde, stamp=STAMP))
    other = calendar_programme("de-eik", "2025-12-31")
    second = uids(write_plan_ics(plan, tmp_path / "b.ics", programme=other, stamp=STAMP))
    assert len(set(first)) == len(first) == len(plan.tasks)
    assert not set(first) & set(second)
    # Re-dated, the same programme's plan replaces its events.
    moved = plan_of_action("2026-02-02")
    assert first == uids(write_plan_ics(moved, tmp_path / "c.ics", programme=linde, stamp=STAMP))


def run(args: Sequence[object]) -> None:
    done = CliRunner().invoke(main, [str(a) for a in args])
    assert done.exit_code == 0, done.output


def test_the_commands_derive_the_uids_from_the_registers_programme(tmp_path: Path) -> None:
    screening = tmp_path / "screening.csv"
    screening.write_text(
        "patient_id,gp_id,eligible\n" + "".join(f"p{i:03d},gp1,True\n" for i in range(20)),
        encoding="utf-8",
    )
    found: dict[str, dict[str, list[str]]] = {}
    for practice in ("de-linde", "de-eik", "de-linde-again"):
        register = tmp_path / f"{practice}.sqlite"
        practice_id = practice.removesuffix("-again")
        run([
            "register", "init", register, "--name", f"Praktijk {practice_id}",
            "--practice-id", practice_id, "--reference-date", "2025-12-31", "--gp", "gp1=A. Arts",
        ])  # fmt: skip
        out = tmp_path / practice
        run([
            "schedule", screening, "--first-letter-date", "2026-01-12", "--register", register,
            "--out", out,
        ])  # fmt: skip
        run(["plan", "--start-date", "2025-12-01", "--register", register, "--out", out])
        found[practice] = {name: uids(out / f"{name}.ics") for name in ("schedule", "plan")}
        with open_register(register) as opened:
            assert calendar_programme_of(opened) == f"{practice_id} 2025-12-31"
    for name in ("schedule", "plan"):
        assert not set(found["de-linde"][name]) & set(found["de-eik"][name]), name
        # A second register of the same practice and reference date is the same programme.
        assert found["de-linde"][name] == found["de-linde-again"][name], name


def test_without_a_register_the_commands_still_write_distinct_uids(tmp_path: Path) -> None:
    screening = tmp_path / "screening.csv"
    screening.write_text("patient_id,gp_id,eligible\np1,gp1,True\n", encoding="utf-8")
    run([
        "schedule", screening, "--first-letter-date", "2026-01-12", "--no-register",
        "--out", tmp_path / "out",
    ])  # fmt: skip
    assert all(u.endswith("@benzoredux") for u in uids(tmp_path / "out" / "schedule.ics"))
