"""Issue 17 on the demo's report (``benzoredux demo``): Dutch throughout, a plan whose overdue
tasks really are overdue, and the figures before the plan's detail.

Before, the demo's report read "Gelezen: register: programme, register: selection snapshot, ...
register: plan tasks", "Bron: register, evaluation-2027-11-23 (2027-11-23)" and "Evaluatieconsulten
van groep 1 houden (tot 2026-04-29)", and showed every consult task of the schedule open and
overdue while the evaluation counted the consults held.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from benzoredux.evaluation.plan import recorded_evidence
from benzoredux.letters.rendering import dutch_date
from benzoredux.register import open_register

from .pages import ISO_DATE, NUMERIC_DATE, Shown, english_words


def test_the_demo_report_is_dutch_throughout(demo_folder: Path) -> None:
    page = Shown((demo_folder / "report.html").read_text(encoding="utf-8"))
    text = page.text()
    assert ISO_DATE.findall(text) == []
    assert NUMERIC_DATE.findall(text) == []
    assert english_words(text) == []
    # The charts' own labels too.
    charts = page.chart_text()
    assert "Van selectie tot stoppen" in charts
    assert ISO_DATE.findall(charts) == []
    assert english_words(charts) == []
    # The dates are written the Dutch way, also inside the schedule's task texts.
    assert "peildatum 31 december 2025" in text
    assert "Evaluatieconsulten van groep 1 houden (tot 29 april 2026)" in text
    with open_register(demo_folder / "programme.sqlite") as register:
        run = register.current("evaluations")[0]["run_date"]
    assert f"Bron: programmaregister, evaluatie van {dutch_date(run)}." in text
    assert "Gelezen: het programmaregister (programma, selectie, " in text


def test_the_check_finds_english_and_iso_dates() -> None:
    """The check itself: the old report's source notes fail it, file names pass."""
    old = "Gelezen: register: programme, register: selection snapshot, plan tasks."
    assert english_words(old) == ["programme", "register:", "selection", "snapshot", "tasks"]
    assert english_words("de bestanden chronic_users_per_gp.csv en evaluation/process.csv") == []
    assert ISO_DATE.findall("Bron: register, evaluation-2027-11-23 (2027-11-23)") == [
        "2027-11-23",
        "2027-11-23",
    ]


def test_only_tasks_without_an_outcome_in_the_register_are_overdue(demo_folder: Path) -> None:
    page = Shown((demo_folder / "report.html").read_text(encoding="utf-8"))
    shown = "overdue-table" in page.tables
    overdue = [cells[0] for _, cells in page.rows("overdue-table")] if shown else []
    tasks = {cells[0]: cells for _, cells in page.rows("plan-table")}
    with open_register(demo_folder / "programme.sqlite") as register:
        evidence = recorded_evidence(register)
        run = register.current("evaluations")[0]["run_date"]
        texts = {t["task_id"]: t["what"] for t in register.current("tasks")}
        open_without_evidence = sorted(
            t["task_id"]
            for t in register.current("tasks")
            if t["status"] in ("open", "in_progress")
            and t["task_id"] not in evidence
            and t["due"] < run
        )
    # The consults of every batch were held (the evaluation counted them): none is overdue.
    consults = [text for text in tasks if text.startswith("Evaluatieconsulten van groep")]
    assert len(consults) == 7
    assert all(tasks[text][3] == "klaar" for text in consults)
    assert not [text for text in overdue if text.startswith("Evaluatieconsulten")]
    # What stays overdue is exactly what the register knows nothing about.
    assert len(overdue) == len(open_without_evidence)
    assert {texts[t].split(" (")[0] for t in open_without_evidence} == {
        text.split(" (")[0] for text in overdue
    }
    # A closed task carries the date of its evidence: the letters of batch 1 went out on the
    # first letter day, the evaluation on its date.
    assert tasks["Stopbrieven van groep 1 versturen (15 patiënten)"][3:5] == [
        "klaar",
        "12 januari 2026",
    ]
    assert tasks["Evaluatie: proces en effect"][3:5] == ["klaar", dutch_date(run)]
    summary = re.search(r"(\d+) taken: (\d+) klaar.*?; (\d+) over tijd", page.text())
    assert summary is not None
    assert int(summary.group(3)) == len(overdue)
    # The demo's practice records its consults and calls and ticks off the team's tasks
    # (benzoredux plan --done): on the evaluation day nothing is left overdue.
    assert overdue == open_without_evidence == []


def test_the_figures_come_first_and_the_plans_detail_is_folded(demo_folder: Path) -> None:
    html = (demo_folder / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([a-z-]+)">', html)
    assert sections == ["per-gp", "dose", "funnel", "evaluation", "plan"]
    plan = html[html.index('<section id="plan">') :]
    # The full task list sits in a closed <details>; only the overdue tasks are in view.
    assert re.search(r"<details><summary>Alle taken van het plan \(\d+\)</summary>", plan)
    assert plan.index("<details>") < plan.index('id="plan-table"')
    if 'id="overdue-table"' in plan:
        assert plan.index('id="overdue-table"') < plan.index("<details>")
    else:
        assert "; 0 over tijd" in plan


def test_the_demo_report_is_as_of_the_evaluation(demo_folder: Path) -> None:
    """The demo reports on its evaluation day; a date in the future of the demo is no
    accident of the clock."""
    page = Shown((demo_folder / "report.html").read_text(encoding="utf-8"))
    with open_register(demo_folder / "programme.sqlite") as register:
        run: dt.date = register.current("evaluations")[0]["run_date"]
    assert f"stand per {dutch_date(run)}" in page.text()
