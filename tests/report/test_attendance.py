"""Issue 17, "Attendance": "Opkomst" divides the patients who came by the invited (those who
got an invitation), not by the letters, under a heading that compares it with the two thirds
of the invited who came in the Benzoredux study (FTO module, step 4: "kwam twee derde van de
patiënten met een uitnodiging op het evaluatieconsult").

The case: 10 stop letters, 6 invitations; 4 of the invited came, 1 missed, and 1 letter
recipient who was never invited came all the same. Attendance is 4 of 6 (67%): not 4 or 5 of
the 10 letters (40%, 50%), and not the 5 who came over the 6 invited.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benzoredux.evaluation.process import evaluate_process
from benzoredux.output import write_csv
from benzoredux.report import write_report

from .conftest import AS_OF
from .pages import Shown


def _folder(tmp_path: Path) -> Path:
    ids = [f"PX{i:05d}" for i in range(10)]
    letters = pd.DataFrame(
        {
            "patient_id": ids,
            "gp_id": ["gp-a"] * 10,
            "letter_date": pd.to_datetime(["2026-02-02"] * 10),
            "invitation_date": pd.to_datetime(["2026-05-04"] * 6 + [None] * 4),
        }
    )
    consults = pd.DataFrame(
        {
            "patient_id": [*ids[:5], ids[7]],
            "date": pd.to_datetime(["2026-05-20"] * 6),
            "held_by": ["gp"] * 6,
            "contact": ["in_person"] * 4 + ["did_not_attend", "in_person"],
        }
    )
    folder = tmp_path / "results"
    write_csv(evaluate_process(letters, consults, engine="native"), folder / "process.csv")
    return folder


def test_attendance_is_the_invited_who_came_over_the_invited(tmp_path: Path) -> None:
    page = Shown(write_report(_folder(tmp_path), as_of=AS_OF).read_text(encoding="utf-8"))
    header, *_ = page.tables["attendance-table"]
    assert header[1] == ["Huisarts", "Uitgenodigd", "Gekomen", "Opkomst", "95%-interval",
                         "Benzoredux"]  # fmt: skip
    total = {cells[0]: cells for _, cells in page.rows("attendance-table")}["hele praktijk"]
    assert total[1:4] == ["6", "4", "67%"]
    assert total[5] == "67%"  # the Benzoredux study: two thirds of the invited
    text = page.text()
    assert "Opkomst: van de uitgenodigden, tegen twee derde in het Benzoredux-onderzoek" in text
    # The funnel says the same, from the same figures.
    assert "Opkomst: 4 van de 6 uitgenodigden kwamen op het evaluatieconsult (67%)" in text
    funnel = {cells[0]: cells[1] for _, cells in page.rows("funnel-table")}
    assert funnel["Uitgenodigd voor het evaluatieconsult"] == "6"
    assert funnel["uitgenodigd, niet op het consult geweest"] == "\u22122"
    assert funnel["op het consult geweest zonder uitnodiging"] == "+1"
    assert funnel["Op het evaluatieconsult geweest"] == "5"


def test_the_process_table_keeps_bijlage_4s_figures_with_dutch_dates(tmp_path: Path) -> None:
    page = Shown(write_report(_folder(tmp_path), as_of=AS_OF).read_text(encoding="utf-8"))
    total = {cells[0]: cells for _, cells in page.rows("process-table")}["hele praktijk"]
    assert total == ["hele praktijk", "10", "2 februari 2026", "6", "4 mei 2026", "5",
                     "20 mei 2026"]  # fmt: skip
