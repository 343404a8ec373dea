"""Issue 17, "Funnel": the report's funnel adds up, row by row.

Before, the demo's report showed 136 chronic users selected, then 96 eligible + 54 excluded =
150 screened: the screening counted the patients the selection had already excluded (complex
co-medication, left the practice), and nothing showed them. Now they are their own row, and
every step is the step above it less the patients it lost (and plus the rare ones it gained):
selected = excluded at selection + chronic users, chronic users = eligible + excluded at
screening + to review (+ not yet screened), and so on down to the letters, the invitations,
the consults and the stoppers. Checked on the demo and on random programmes (hypothesis), from
the register and from the steps' files, on the figures gathered and on the page as shown.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from benzoredux.register import Register
from benzoredux.register.memory import MemoryStore
from benzoredux.report import write_report
from benzoredux.report.gather import FunnelStep, funnel_mismatches, gather
from benzoredux.report.render import render_html

from .conftest import AS_OF
from .pages import Shown, added_up, count
from .programmes import Programme, build_register, programmes, write_files


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _funnel(page: Shown) -> dict[str, str]:
    return {cells[0]: cells[1] for _, cells in page.rows("funnel-table")}


def _counts(funnel: tuple[FunnelStep, ...]) -> dict[str, int | None]:
    return {step.key: step.count for step in funnel}


# --- the case ----------------------------------------------------------------------
def test_the_patients_excluded_at_selection_are_their_own_row(
    folder: Path, register_path: Path
) -> None:
    """The fixture's selection keeps 12 patients, one excluded at selection (complex
    co-medication): 12 selected - 1 = 11 chronic users = 6 eligible + 3 excluded + 2 to review
    (files); the register's GP made one of the two to review eligible."""
    for register in (None, register_path):
        page = Shown(write_report(folder, register=register, as_of=AS_OF).read_text("utf-8"))
        funnel = _funnel(page)
        assert funnel["Geselecteerd: boven de drempel voor chronisch gebruik"] == "12"
        excluded = "bij de selectie uitgesloten (complexe comedicatie, overleden of vertrokken)"
        assert funnel[excluded] == "\u22121"
        assert funnel["Chronische gebruikers"] == "11"
        screened = [
            count(funnel[label])
            for label in (
                "Komen in aanmerking voor de stopbrief",
                "bij de screening uitgesloten",
                "nog te beoordelen door de huisarts",
            )
        ]
        assert screened == ([6, -3, -2] if register is None else [7, -3, -1])
        assert added_up(page.rows("funnel-table")) == []
        # The per-GP table counts the same chronic users as the funnel.
        per_gp = sum(int(cells[1]) for _, cells in page.rows("per-gp-table"))
        assert per_gp == count(funnel["Chronische gebruikers"])


def test_the_register_funnel_follows_each_patient(folder: Path, register_path: Path) -> None:
    """Register: 7 eligible, 5 stop letters (2 eligible without), 3 invited (2 letters without
    an invitation), 2 came and 1 missed; the evaluation (from its own 10 letters) judged 10."""
    page = Shown(write_report(folder, register=register_path, as_of=AS_OF).read_text("utf-8"))
    funnel = _funnel(page)
    assert funnel["komen in aanmerking, (nog) geen stopbrief"] == "\u22122"
    assert funnel["Stopbrief verstuurd"] == "5"
    assert funnel["stopbrief, (nog) niet uitgenodigd"] == "\u22122"
    assert funnel["Uitgenodigd voor het evaluatieconsult"] == "3"
    assert funnel["uitgenodigd, niet op het consult geweest"] == "\u22121"
    assert funnel["Op het evaluatieconsult geweest"] == "2"
    # The evaluation was run on 10 letters from a file, the register holds 5.
    assert funnel["stopbrief alleen in de evaluatie (uit een bestand)"] == "+5"
    assert funnel["Beoordeeld, 3-6 maanden na de brief"] == "10"
    assert funnel["waarvan gestopt (gebruik, voorraad meegerekend)"] == "6"
    assert added_up(page.rows("funnel-table")) == []


# --- the demo ------------------------------------------------------------------------------
def test_the_demo_funnel_adds_up_and_matches_its_files(demo_folder: Path) -> None:
    page = Shown((demo_folder / "report.html").read_text(encoding="utf-8"))
    rows = page.rows("funnel-table")
    assert added_up(rows) == []
    assert "nog niet gedaan" not in [cells[1] for _, cells in rows]
    funnel = {cells[0]: count(cells[1]) for _, cells in rows}
    selection = _rows(demo_folder / "chronic_users.csv")
    excluded = {r["patient_id"] for r in selection if r["excluded_because"]}
    assert funnel["Geselecteerd: boven de drempel voor chronisch gebruik"] == len(selection)
    assert -funnel[
        "bij de selectie uitgesloten (complexe comedicatie, overleden of vertrokken)"
    ] == len(excluded)
    chronic = len(selection) - len(excluded)
    assert funnel["Chronische gebruikers"] == chronic
    assert chronic == sum(
        int(r["chronic_users"]) for r in _rows(demo_folder / "chronic_users_per_gp.csv")
    )
    screening = [r for r in _rows(demo_folder / "screening.csv") if r["patient_id"] not in excluded]
    decided = {
        d: sum(r["decision"] == d for r in screening) for d in ("eligible", "excluded", "review")
    }
    assert funnel["Komen in aanmerking voor de stopbrief"] == decided["eligible"]
    assert -funnel["bij de screening uitgesloten"] == decided["excluded"]
    assert -funnel["nog te beoordelen door de huisarts"] == decided["review"]
    assert sum(decided.values()) == chronic  # everyone screened once: eligible + excluded + review
    process = {r["level"]: r for r in _rows(demo_folder / "evaluation" / "process.csv")}["total"]
    assert funnel["Stopbrief verstuurd"] == int(process["letters_sent"])
    assert funnel["Uitgenodigd voor het evaluatieconsult"] == int(process["invitations_sent"])
    assert funnel["Op het evaluatieconsult geweest"] == int(process["patients_consulted"])


# --- random programmes ---------------------------------------------------------------------
def _expected(programme: Programme, *, register: bool) -> dict[str, int | None]:
    """The funnel's counts, from the people: what the register (or the files) should show."""
    people = programme.people
    chronic = [p for p in people if not p.excluded_at_selection]
    expected: dict[str, int | None] = {
        "selected": len(people),
        "minus_excluded_at_selection": len(people) - len(chronic),
        "chronic_users": len(chronic),
        "eligible": None,  # until the screening is done
    }
    if any(p.decision is not None for p in people):
        expected["minus_excluded"] = sum(p.decision == "excluded" for p in chronic)
        expected["minus_review"] = sum(p.decision == "review" for p in chronic)
        expected["eligible"] = sum(p.decision == "eligible" for p in people)
        not_screened = sum(p.decision is None for p in chronic)
        if not_screened:
            expected["minus_not_screened"] = not_screened
    sent = any(p.letter for p in people)
    evaluated = programme.evaluated and sent
    if register:
        # The register's letters, invitations and consults; where it holds none, the
        # evaluation's process figures (which count among the letters' recipients).
        expected["letters"] = sum(p.letter for p in people) or None
        expected["invited"] = sum(p.invited for p in people) or (
            sum(p.invited for p in people if p.letter) if evaluated else None
        )
        if any(p.consult for p in people):
            expected["consults"] = sum(p.consult == "came" for p in people)
        elif evaluated:
            expected["consults"] = 0
    elif programme.evaluated and sent:
        letters = [p for p in people if p.letter]
        expected["letters"] = len(letters)
        expected["invited"] = sum(p.invited for p in letters)
        expected["consults"] = sum(p.consult == "came" for p in people)
    if programme.evaluated and sent:
        letters = [p for p in people if p.letter]
        stayed = [p for p in letters if p.left is None]
        expected["minus_left"] = len(letters) - len(stayed)
        expected["evaluated"] = len(stayed)
        expected["stoppers"] = sum(not p.used_again for p in stayed)
    return expected


def _check(programme: Programme, folder: Path, register: Register | None) -> None:
    data = gather(folder, register, as_of=dt.date(2027, 7, 1))
    shown = _counts(data.funnel)
    assert funnel_mismatches(data.funnel) == []
    for key, value in _expected(programme, register=register is not None).items():
        assert shown.get(key) == value, (key, shown)
    # The page as shown (without its charts, which do not change the tables and are slow).
    page = Shown(render_html(data, title="Random", charts={}, charts_note=None))
    assert added_up(page.rows("funnel-table")) == []


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(programme=programmes)
def test_random_programmes_add_up_from_the_register(programme: Programme) -> None:
    register = Register(MemoryStore())
    build_register(register, programme)
    with tempfile.TemporaryDirectory() as folder, register.transaction():
        _check(programme, Path(folder), register)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programme=programmes)
def test_random_programmes_add_up_from_the_files(programme: Programme) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_files(Path(folder), programme)
        _check(programme, Path(folder), None)


def test_funnel_mismatches_names_a_row_that_does_not_add_up() -> None:
    rows: list[Any] = [
        FunnelStep("selected", "Geselecteerd", 12),
        FunnelStep("minus_x", "uitgesloten", 1, kind="minus", of="chronic_users"),
        FunnelStep("chronic_users", "Chronische gebruikers", 12, of="selected"),
    ]
    assert funnel_mismatches(rows) == ["chronic_users: 12 - 1 + 0 is not 12"]
