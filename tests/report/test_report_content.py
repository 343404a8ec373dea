"""What the report says, read back with the standard library's HTML parser (no browser)."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import re
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.evaluation.stats import wilson_interval
from benzoredux.output import write_csv
from benzoredux.report import CHARTS_NOTE, write_report
from benzoredux.report.render import CONTENT_SECURITY_POLICY

from .conftest import AS_OF, GP_A_NAME, LISTED, PER_GP


class Page(HTMLParser):
    """Tags, text, tables (by id) and the sections' headings of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.headings: list[str] = []
        self.text: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for part in (self._cell, self._heading):
            if part is not None:
                part.append(data)

    def body(self, table: str) -> list[list[str]]:
        return self.tables[table][1:]

    def all_text(self) -> str:
        return " ".join(self.text)


def _page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


HEADINGS = [
    "Chronische gebruikers per huisarts",
    "Dosis: DDD per dag",
    "Van selectie tot stoppen",
    "Evaluatie",
    "Plan van aanpak",
]
"""The figures the meeting discusses first; the plan of action last (issue 17, "Length")."""


def test_files_only_per_gp_figures_equal_the_input_counts(folder: Path) -> None:
    page = _page(write_report(folder, as_of=AS_OF))
    rows = {row[0]: row for row in page.body("per-gp-table")}
    assert {gp: int(rows[gp][1]) for gp in PER_GP} == PER_GP
    header = page.tables["per-gp-table"][0]
    listed = header.index("Ingeschreven")
    standard = header.index("Per normpraktijk")
    verdict = header.index("t.o.v. 35-65")
    new_users = header.index("Nieuwe gebruikers (3 mnd)")
    # gp-a: 7 of 2,350 listed is 7 per standard practice, below 35-65; gp-b: 4 of 200 is 47.
    assert rows["gp-a"][listed] == "2.350"
    assert (rows["gp-a"][standard], rows["gp-a"][verdict]) == ("7", "onder")
    assert (rows["gp-b"][standard], rows["gp-b"][verdict]) == ("47", "binnen")
    assert (rows["gp-a"][new_users], rows["gp-b"][new_users]) == ("2", "1")
    assert LISTED["gp-b"] == 200
    # A GP with new users only: no chronic users, and no list to set them against.
    assert rows["gp-c"][1] == "0"
    assert (rows["gp-c"][listed], rows["gp-c"][verdict], rows["gp-c"][new_users]) == ("-", "-", "1")


def test_files_only_funnel_plan_and_evaluation(folder: Path, evaluation: Any) -> None:
    page = _page(write_report(folder, as_of=AS_OF))
    assert page.headings[1:] == HEADINGS
    funnel = dict(page.body("funnel-table"))
    assert funnel["Chronische gebruikers"] == "11"
    assert funnel["Komen in aanmerking voor de stopbrief"] == "6"
    assert funnel["bij de screening uitgesloten"] == "\u22123"
    assert funnel["nog te beoordelen door de huisarts"] == "\u22122"
    # Without a register the letters come from the process evaluation.
    assert funnel["Stopbrief verstuurd"] == "10"
    assert funnel["waarvan gestopt (gebruik, voorraad meegerekend)"] == "6"  # the default
    plan = page.body("plan-table")
    assert len(plan) == 14
    overdue = [row[0] for row in page.body("overdue-table")]
    # On 1 March 2026 the month-1 tasks (due 4 February) are overdue, except select (done).
    assert "Lijst maken van chronische gebruikers" not in overdue
    assert "Patiënten screenen op de uitsluitcriteria" in overdue
    assert "Stopbrieven versturen" not in overdue  # month 2 ends on 4 March
    summary, _ = evaluation
    total = {row[0]: row for row in page.body("effect-table")}
    # Both stop definitions, each with its interval, next to the Benzoredux figure.
    short = total["Gestopt 3-6 maanden na de brief: gebruik, voorraad meegerekend"]
    low, high = wilson_interval(6, 10)
    assert short[1:5] == ["6 van 10", "60%", f"{100 * low:.0f}% - {100 * high:.0f}%", "27%"]
    plain = total["Gestopt 3-6 maanden na de brief: geen uitgifte (bovengrens)"]
    low, high = wilson_interval(7, 10)
    assert plain[1:5] == ["7 van 10", "70%", f"{100 * low:.0f}% - {100 * high:.0f}%", "27%"]
    sustained = total["Blijvend gestopt (tot 21 maanden): geen uitgifte (bovengrens)"]
    assert sustained[4] == "14%"
    # Each stop measure twice, the reduction once.
    assert len(total) == 2 * (len(summary[summary["level"] == "total"]) - 1) + 1


def test_overdue_follows_the_due_date(folder: Path) -> None:
    """A task is overdue the day after its due date, not on it."""
    due = dt.date(2026, 3, 4)  # send-letters: month 2 of a plan from 5 January
    on_due = [r[0] for r in _page(write_report(folder, as_of=due)).body("overdue-table")]
    after = [
        r[0]
        for r in _page(write_report(folder, as_of=due + dt.timedelta(days=1))).body("overdue-table")
    ]
    assert "Stopbrieven versturen" not in on_due
    assert "Stopbrieven versturen" in after


def test_register_wins_where_it_holds_the_part(folder: Path, register_path: Path) -> None:
    page = _page(write_report(folder, register=register_path, as_of=AS_OF))
    rows = {row[0]: row for row in page.body("per-gp-table")}
    # The GP's name from the programme; the patient excluded at selection does not count.
    assert int(rows[GP_A_NAME][1]) == PER_GP["gp-a"]
    assert int(rows["B. Bakker"][1]) == PER_GP["gp-b"]
    funnel = dict(page.body("funnel-table"))
    assert funnel["Komen in aanmerking voor de stopbrief"] == "7"  # the GP's decision counts
    assert funnel["nog te beoordelen door de huisarts"] == "\u22121"
    assert funnel["Stopbrief verstuurd"] == "5"
    assert funnel["Uitgenodigd voor het evaluatieconsult"] == "3"
    assert funnel["Op het evaluatieconsult geweest"] == "2"
    # The recorded evaluation.
    assert funnel["waarvan gestopt (gebruik, voorraad meegerekend)"] == "6"
    plan = {row[0]: row for row in page.body("plan-table")}
    overdue = [row[0] for row in page.body("overdue-table")]
    assert plan["Assistente, POH-GGZ en apotheker informeren"][3] == "klaar"
    # The register shows the selection and the screening done, so their tasks are not overdue.
    assert plan["Lijst maken van chronische gebruikers"][3] == "klaar"
    assert plan["Patiënten screenen op de uitsluitcriteria"][3] == "klaar"
    assert "Lijst maken van chronische gebruikers" not in overdue
    assert plan["Assistente en POH-GGZ instrueren"][3] == "open"
    assert "Assistente en POH-GGZ instrueren" in overdue
    assert "Bron: programmaregister, evaluatie van 31 december 2025." in page.all_text()


def test_evaluation_from_the_register_equals_the_files(folder: Path, register_path: Path) -> None:
    from_files = _page(write_report(folder, out=folder / "a.html", as_of=AS_OF))
    (folder / "evaluation" / "effect_summary.csv").unlink()
    (folder / "evaluation" / "process.csv").unlink()
    from_register = _page(
        write_report(folder, register=register_path, out=folder / "b.html", as_of=AS_OF)
    )
    ids = {GP_A_NAME: "gp-a", "B. Bakker": "gp-b"}  # the register knows the GPs' names
    for table in ("effect-table", "effect-gp-table", "process-table", "attendance-table"):
        named = [[ids.get(c, c) for c in row] for row in from_register.tables[table]]
        assert from_files.tables[table] == named
    gp_rows = from_register.body("effect-gp-table")
    assert {row[0] for row in gp_rows} == {GP_A_NAME, "B. Bakker"}


def test_an_evaluation_of_an_earlier_version_is_the_plain_definition(
    folder: Path, evaluation: Any
) -> None:
    """Its summary has no stop_definition: it counted "no dispensing", and the report says so."""
    summary, _ = evaluation
    new = ["stop_definition", "events_plain", "rate_plain", "ci_low_plain", "ci_high_plain"]
    old = summary.drop(columns=new).assign(
        events=summary["events_plain"],
        rate=summary["rate_plain"],
        ci_low=summary["ci_low_plain"],
        ci_high=summary["ci_high_plain"],
    )
    write_csv(old, folder / "evaluation" / "effect_summary.csv")
    total = {row[0]: row for row in _page(write_report(folder, as_of=AS_OF)).body("effect-table")}
    assert list(total) == [
        "Gestopt 3-6 maanden na de brief: geen uitgifte (bovengrens)",
        "Gestopt 9-12 maanden na de brief: geen uitgifte (bovengrens)",
        "Blijvend gestopt (tot 21 maanden): geen uitgifte (bovengrens)",
        "Minder gebruik bij wie niet stopte (DDD)",
    ]
    assert total["Gestopt 3-6 maanden na de brief: geen uitgifte (bovengrens)"][1] == "7 van 10"
    funnel = dict(_page(write_report(folder, as_of=AS_OF)).body("funnel-table"))
    assert funnel["waarvan gestopt (geen uitgifte (bovengrens))"] == "7"


def test_steps_not_done_say_so(tmp_path: Path) -> None:
    page = _page(write_report(tmp_path, as_of=AS_OF))
    notes = [a.get("class") for tag, a in page.tags if tag == "p"].count("not-done")
    assert notes == 4  # the selection, its doses, the plan, the evaluation
    text = page.all_text()
    assert "Nog niet gedaan: er is nog geen selectie" in text
    assert "Nog niet gedaan: er is nog geen plan van aanpak" in text
    assert "Nog niet gedaan: de evaluatie volgt" in text
    funnel = dict(page.body("funnel-table"))
    assert set(funnel.values()) == {"nog niet gedaan"}


def test_text_is_escaped_and_nothing_is_loaded_from_elsewhere(
    folder: Path, register_path: Path
) -> None:
    path = write_report(
        folder, register=register_path, title="<script>alert('x')</script>", as_of=AS_OF
    )
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "base", "b"}
    assert page.headings[0] == "<script>alert('x')</script>"
    assert GP_A_NAME in page.all_text()
    csp = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv")]
    assert csp[0]["content"] == CONTENT_SECURITY_POLICY
    for tag, attributes in page.tags:
        for name in ("src", "href", "action", "srcset", "poster"):
            value = attributes.get(name)
            assert value is None or value.startswith("data:image/"), (tag, name)
    assert not re.search(r"url\(|@import|https?://", text.split("<body>")[0])
    assert "http" not in page.all_text()


def test_charts_are_inline_svg_without_outside_addresses(folder: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib (the charts extra) is not installed")
    page = _page(write_report(folder, as_of=AS_OF))
    images = [a["src"] for tag, a in page.tags if tag == "img"]
    assert len(images) == 2
    for src in images:
        assert src is not None
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        assert svg.startswith("<svg")
        assert "<!DOCTYPE" not in svg
        assert "<metadata>" not in svg
        assert "matplotlib.org" not in svg


def test_without_matplotlib_the_tables_stay_and_the_note_says_why(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def no_matplotlib(name: str, *args: Any) -> Any:
        return None if name == "matplotlib" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", no_matplotlib)
    page = _page(write_report(folder, as_of=AS_OF))
    assert not [tag for tag, _ in page.tags if tag == "img"]
    assert CHARTS_NOTE in page.all_text()
    assert int({r[0]: r[1] for r in page.body("per-gp-table")}["gp-a"]) == 7


def test_no_patient_identifiers_and_an_owner_only_file(folder: Path, register_path: Path) -> None:
    path = write_report(folder, register=register_path, as_of=AS_OF)
    text = path.read_text(encoding="utf-8")
    assert "PX0" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(folder.glob(".report.html.*"))  # no temporary file left behind


def test_a_bad_file_is_named(folder: Path) -> None:
    pd.DataFrame({"patient_id": ["PX1"], "decision": ["maybe"]}).to_csv(
        folder / "screening.csv", index=False
    )
    with pytest.raises(ValueError, match=r"screening\.csv: column 'decision' holds \['maybe'\]"):
        write_report(folder, as_of=AS_OF)


def test_a_missing_register_or_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no programme register there"):
        write_report(tmp_path, register=tmp_path / "nope.sqlite")
    with pytest.raises(ValueError, match="no such folder"):
        write_report(tmp_path / "nope")
