"""Per-GP spreadsheets (chronic users, new users, screening): a sheet per GP, names and
addresses in front, private files, Dutch headers (issue 17), and text from patient data never a
formula (OWASP ASVS 1.2.10; pandas issue #29095: openpyxl turns a string starting with ``=``
into a formula) nor shown with a quote in front."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import polars as pl
import pytest
from click.testing import CliRunner, Result

from benzoredux.cli import main
from benzoredux.gp_lists import NO_GP, per_gp_sheets, write_per_gp_xlsx, write_screening_xlsx
from benzoredux.output import sheet_title, write_xlsx

EVIL = '=HYPERLINK("http://example.com/x","klik")'


def patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4"],
            "gp_id": ["G2", "G1", "G1", None],
            "initials": ["A.", "B.", "C.", "D."],
            "name_prefix": [None, "van der", None, None],
            "family_name": [EVIL, "Meer", "@SUM(A1)", "Bos"],
            "street": ["Kerkweg", "Molenlaan", "Dorpsstraat", None],
            "house_number": ["1", "2a", "3", None],
            "postcode": ["3431 AA", "3431 AB", "3431 AC", None],
            "city": ["Nieuwegein", "Nieuwegein", "Houten", None],
        }
    )


def selection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4"],
            "gp_id": ["G2", "G1", "G1", None],
            "units": [120.0, 200.0, 95.0, 100.0],
            "first_date": pd.to_datetime(["2025-01-03", "2025-02-01", "2025-03-01", "2025-04-01"]),
            "excluded_because": [None, None, "-complex co-medication", None],
        }
    )


def values(sheet: object) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_one_sheet_per_gp_with_names_and_addresses_in_front(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(selection(), tmp_path / "chronic_users.xlsx", patients=patients())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["G1", "G2", NO_GP]
    g1 = values(book["G1"])
    assert g1[0][:6] == ["Patiëntnummer", "Naam", "Adres", "Postcode", "Woonplaats", "Huisarts"]
    assert [row[0] for row in g1[1:]] == ["p2", "p3"]
    assert g1[1][1] == "B. van der Meer"
    assert g1[1][2] == "Molenlaan 2a"
    # Dates stay dates, shown day-first.
    first = book["G1"].cell(2, g1[0].index("Eerste verstrekking") + 1)
    assert first.value.year == 2025
    assert first.number_format == "dd-mm-yyyy"
    assert len(values(book[NO_GP])) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_text_from_patient_data_is_never_a_formula(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(selection(), tmp_path / "list.xlsx", patients=patients())
    book = openpyxl.load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    text = {c.value for c in cells if isinstance(c.value, str)}
    assert f"'A. {EVIL}" not in text  # the name is "A. =HYPERLINK..." and starts with "A."
    assert "A. " + EVIL in text
    assert "C. @SUM(A1)" in text
    assert "-complex co-medication" in text  # a text cell: no quote needed, none shown
    # A cell that starts with "=" itself is a text cell too, shown as it is.
    alone = write_xlsx({"x": pd.DataFrame({"name": [EVIL, "+31", "gewoon"]})}, tmp_path / "x.xlsx")
    sheet = openpyxl.load_workbook(alone)["x"]
    assert [c.value for c in sheet["A"]][1:] == [EVIL, "+31", "gewoon"]
    assert {c.data_type for c in sheet["A"]} == {"s"}
    assert [c.quotePrefix for c in sheet["A"]][1:] == [True, True, False]


def test_mixed_object_columns_and_numbers(tmp_path: Path) -> None:
    # An object column mixing numbers and text: the text is a text cell, the numbers stay.
    frame = pd.DataFrame({"v": pd.Series([1, "=1+1", 2.5, None], dtype=object), "n": [-1] * 4})
    sheet = openpyxl.load_workbook(write_xlsx({"s": frame}, tmp_path / "m.xlsx"))["s"]
    assert values(sheet)[1:] == [[1, -1], ["=1+1", -1], [2.5, -1], [None, -1]]
    assert sheet["A3"].data_type == "s"


def test_polars_frames_are_accepted(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(pl.from_pandas(selection()), tmp_path / "p.xlsx")
    assert openpyxl.load_workbook(path).sheetnames == ["G1", "G2", NO_GP]


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_title("dr/a:[b]*?\\", taken) == "dr_a__b____"
    assert sheet_title("x" * 40, taken) == "x" * 31
    assert sheet_title("X" * 40, taken) == "X" * 27 + " (2)"
    assert sheet_title("'", taken) == "-"


def test_an_empty_list_still_shows_its_columns(tmp_path: Path) -> None:
    sheets = per_gp_sheets(selection().iloc[:0])
    assert list(sheets) == ["Geen patiënten"]
    path = write_per_gp_xlsx(selection().iloc[:0], tmp_path / "empty.xlsx")
    assert values(openpyxl.load_workbook(path).active)[0][0] == "Patiëntnummer"


def test_a_workbook_needs_a_sheet(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        write_xlsx({}, tmp_path / "none.xlsx")


def test_screening_puts_decision_and_reasons_first_eligible_first(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "gp_id": ["G1", "G1", "G1"],
            "units": [100.0, 120.0, 130.0],
            "decision": ["excluded", "eligible", "eligible"],
            "eligible": [False, True, True],
            "reasons": ["cannot come to the practice (immobile)", None, None],
            "excluded_by": ["immobile", None, None],
        }
    )
    path = write_screening_xlsx(table, tmp_path / "screening.xlsx", patients=patients())
    rows = values(openpyxl.load_workbook(path)["G1"])
    assert rows[0][:3] == ["Patiëntnummer", "Naam", "Adres"]
    assert rows[0][rows[0].index("Besluit") :][:5] == [
        "Besluit",
        "In aanmerking",
        "Redenen",
        "Uitgesloten door",
        "Huisarts",
    ]
    assert [r[0] for r in rows[1:]] == ["p2", "p3", "p1"]
    p1 = dict(zip(rows[0], rows[3], strict=True))
    assert p1["Redenen"] == "kan niet naar de praktijk komen (immobiel)"
    assert p1["Besluit"] == "uitgesloten"
    assert p1["In aanmerking"] == "nee"
    assert p1["Uitgesloten door"] == "kan niet naar het spreekuur komen (immobiel)"


def test_screening_shows_both_doses_side_by_side_in_front(tmp_path: Path) -> None:
    """Issue 14: the GP sees the current dose next to the year's average, before the other
    selection columns."""
    table = pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "gp_id": ["G1", "G1"],
            "units": [609.0, 120.0],
            "ddd_per_day_recent": [3.0, 0.4],
            "ddd_per_day": [609 / 365, 0.5],
            "decision": ["excluded", "eligible"],
            "eligible": [False, True],
            "reasons": ["3.0 DDD a day recently (ddd_per_day_recent), more than 2 DDD", None],
            "override_note": [None, None],
        }
    )
    path = write_screening_xlsx(table, tmp_path / "screening.xlsx")
    rows = values(openpyxl.load_workbook(path)["G1"])
    header = rows[0]
    at = header.index("DDD per dag (gemiddeld)")
    assert header[at - 1 : at + 3] == [
        "Toelichting huisarts",
        "DDD per dag (gemiddeld)",
        "DDD per dag (recent)",
        "Huisarts",
    ]
    assert rows[2][at : at + 2] == [1.67, 3.0]  # p1, after eligible p2: rounded for display


def _files(tmp_path: Path) -> tuple[Path, Path]:
    dispensings = tmp_path / "dispensings.csv"
    dispensings.write_text(
        "patient_id,date,atc,quantity,strength_mg\n"
        "p1,2025-03-01,N05BA04,60,10\np1,2025-09-01,N05BA04,60,10\n"
        "p2,2025-03-01,N05BA04,60,10\np2,2025-08-01,N05BA04,60,10\n"
        "p3,2025-11-01,N05BA04,10,10\n",
        encoding="utf-8",
    )
    people = tmp_path / "patients.csv"
    frame = patients().assign(gp_id=["G2", "G1", "G1", "G1"])
    frame.to_csv(people, index=False)
    return dispensings, people


def _select(dispensings: Path, people: Path, out: Path) -> Result:
    """``benzoredux select`` on the two files, into ``out``, without a register."""
    return CliRunner().invoke(
        main,
        [
            "select", str(dispensings), "--patients", str(people), "--reference-date",
            "2025-12-31", "--out", str(out), "--no-register",
        ],
    )  # fmt: skip


def test_select_and_screen_write_the_spreadsheets(tmp_path: Path) -> None:
    dispensings, people = _files(tmp_path)
    out = tmp_path / "results"
    done = _select(dispensings, people, out)
    assert done.exit_code == 0, done.output
    chronic = openpyxl.load_workbook(out / "chronic_users.xlsx")
    assert chronic.sheetnames == ["G1", "G2"]
    g2 = values(chronic["G2"])
    assert g2[1][:2] == ["p1", "A. " + EVIL]
    assert chronic["G2"].cell(2, 2).data_type == "s"
    new = openpyxl.load_workbook(out / "new_users.xlsx")
    assert [r[0] for r in values(new["G1"])[1:]] == ["p3"]
    done = CliRunner().invoke(
        main,
        [
            "screen", str(out / "chronic_users.csv"), "--patients", str(people),
            "--reference-date", "2025-12-31", "--disable", "other_indication",
            "--disable", "palliative", "--disable", "dutch_language", "--disable", "immobile",
            "--out", str(out), "--no-register",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    screening = openpyxl.load_workbook(out / "screening.xlsx")
    assert screening.sheetnames == ["G1", "G2"]
    header = values(screening["G1"])[0]
    assert header[:4] == ["Patiëntnummer", "Naam", "Adres", "Postcode"]
    assert "Redenen" in header
    assert header[header.index("DDD per dag (gemiddeld)") + 1] == "DDD per dag (recent)"
    csv_columns = pd.read_csv(out / "screening.csv", encoding="utf-8-sig").columns
    assert {"ddd_per_day", "ddd_per_day_recent"} <= set(csv_columns)
    for name in ("chronic_users.xlsx", "new_users.xlsx", "screening.xlsx"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600


def test_without_openpyxl_select_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispensings, people = _files(tmp_path)
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    out = tmp_path / "results"
    done = _select(dispensings, people, out)
    assert done.exit_code == 0, done.output
    assert "pip install 'benzoredux[schedule]'" in done.output
    assert (out / "chronic_users.csv").exists()
    assert not (out / "chronic_users.xlsx").exists()
