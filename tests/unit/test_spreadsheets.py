"""Spreadsheets are for people (issue 17): Dutch headers and words, numbers rounded for display,
dates as date cells, and text that starts like a formula shown without a quote; the CSV files
keep the canonical columns, codes, exact numbers and the neutralising quote.

The cases are the issue's: ``0.5342465753424658``, ``'+31 Kerkweg 124``, ``excluded_because``,
``birth_date`` and dates held as ISO text.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from benzoredux import demo
from benzoredux.evaluation.plan import (
    PLAN_COLUMNS,
    dated_example,
    plan_of_action,
    read_plan,
    write_plan_xlsx,
)
from benzoredux.gp_lists import write_per_gp_xlsx, write_screening_xlsx
from benzoredux.models import TaskStatus
from benzoredux.output import write_csv, write_xlsx
from benzoredux.schedule import plan_schedule, write_schedule_xlsx
from benzoredux.screening import Override, screen
from benzoredux.screening.criteria import builtin_criteria
from benzoredux.selection import select_chronic_users, select_new_users

# benzoredux.spreadsheets is imported inside the tests that use it, so that the tests of the
# issue's cases run (and fail) on a version without it too.

DOCS = Path(__file__).resolve().parents[2] / "docs"


def sheet_rows(path: Path, sheet: str | None = None) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(path)
    rows = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def cell(path: Path, header: str, row: int = 2, sheet: str | None = None) -> Any:
    """The cell under ``header`` in ``row`` (the header is row 1)."""
    book = openpyxl.load_workbook(path)
    found = book[sheet] if sheet else book.worksheets[0]
    names = [c.value for c in found[1]]
    return found.cell(row, names.index(header) + 1)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def selection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "gp_id": ["G1", "G1"],
            "gp_source": ["listed", "prescriber"],
            "units": [120.0, 90.5],
            "n_dispensings": [5, 3],
            "first_date": ["2025-01-26", "2025-02-03"],  # ISO text, as a CSV read gives it
            "ddd_per_day": [0.5342465753424658, 2.0],
            "ddd_per_day_recent": [0.6521739130434783, None],
            "days_since_supply_end": [-47.4, 12.6],
            "probably_stopped": [False, True],
            "excluded_because": [None, "complex co-medication: N03, N05A"],
        }
    )


def patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "initials": ["A.", "B."],
            "family_name": ["Jansen", "de Boer"],
            "street": ["+31 Kerkweg", "Molenlaan"],
            "house_number": ["124", "2"],
            "birth_date": pd.to_datetime(["1958-09-15", "1937-07-17"]),
        }
    )


# --- The cases -------------------------------------------------------------------------


def test_numbers_are_rounded_for_display_and_exact_in_the_csv(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(selection(), tmp_path / "chronic_users.xlsx")
    p1, p2 = sheet_rows(path)
    assert p1["DDD per dag (gemiddeld)"] == 0.53  # not 0.5342465753424658
    assert cell(path, "DDD per dag (gemiddeld)").number_format == "0.00"
    assert p1["DDD per dag (recent)"] == 0.65
    assert p2["DDD per dag (recent)"] is None
    assert p1["Eenheden"] == 120  # a count: a whole number
    assert isinstance(p1["Eenheden"], int)
    assert cell(path, "Eenheden").number_format == "0"
    assert p2["Eenheden"] == 90.5  # half a tablet is not rounded away
    assert cell(path, "Eenheden", row=3).number_format == "0.0#"
    assert p1["Verstrekkingen"] == 5
    assert (p1["Dagen sinds einde voorraad"], p2["Dagen sinds einde voorraad"]) == (-47, 13)
    csv_path = write_csv(selection(), tmp_path / "chronic_users.csv")
    assert csv_rows(csv_path)[0]["ddd_per_day"] == "0.5342465753424658"


def test_headers_are_dutch_and_the_csv_keeps_the_canonical_names(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(selection(), tmp_path / "chronic_users.xlsx", patients=patients())
    header = list(sheet_rows(path)[0])
    assert "Uitgesloten omdat" in header
    assert "Geboortedatum" in header
    assert not {"excluded_because", "birth_date", "patient_id", "ddd_per_day"} & set(header)
    assert header[:5] == ["Patiëntnummer", "Naam", "Adres", "Geboortedatum", "Huisarts"]
    csv_path = write_csv(selection(), tmp_path / "chronic_users.csv")
    assert list(csv_rows(csv_path)[0]) == list(selection().columns)


def test_a_value_that_starts_like_a_formula_shows_without_a_quote(tmp_path: Path) -> None:
    path = write_per_gp_xlsx(selection(), tmp_path / "chronic_users.xlsx", patients=patients())
    address = cell(path, "Adres")
    assert address.value == "+31 Kerkweg 124"  # not '+31 Kerkweg 124
    assert address.data_type == "s"  # a text cell, which a spreadsheet never runs
    assert address.number_format == "@"  # and stays text when edited
    assert address.quotePrefix  # Excel's own mark for text typed with a quote, not shown
    book = openpyxl.load_workbook(path)
    assert not [c for row in book.worksheets[0].iter_rows() for c in row if c.data_type == "f"]
    # The CSV file has no cell types: there the quote stays.
    table = pd.DataFrame({"patient_id": ["p1"], "address": ["+31 Kerkweg 124"]})
    assert csv_rows(write_csv(table, tmp_path / "x.csv"))[0]["address"] == "'+31 Kerkweg 124"


def test_dates_are_date_cells_shown_day_first_also_from_iso_text(tmp_path: Path) -> None:
    frame = selection().assign(
        override_at=[dt.datetime(2026, 1, 5, 14, 30), None],
        last_date=["2025-12-28", "onbekend"],
    )
    path = write_per_gp_xlsx(frame, tmp_path / "chronic_users.xlsx", patients=patients())
    first = cell(path, "Eerste verstrekking")
    assert first.value == dt.datetime(2025, 1, 26)  # a date cell, not the text "2025-01-26"
    assert first.data_type == "d"
    assert first.number_format == "dd-mm-yyyy"
    assert cell(path, "Geboortedatum").number_format == "dd-mm-yyyy"
    decided = cell(path, "Besloten op")
    assert decided.value == dt.datetime(2026, 1, 5, 14, 30)
    assert decided.number_format == "dd-mm-yyyy hh:mm"
    assert cell(path, "Laatste verstrekking", row=3).value == "onbekend"  # never guessed


def test_codes_are_dutch_words(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "gp_id": ["G1"] * 3,
            "decision": ["excluded", "review", "eligible"],
            "eligible": [False, False, True],
            "proposed": ["excluded", "review", "excluded"],
            "excluded_by": ["immobile; ddd_per_day", "", "my_plugin_rule"],
            "reasons": [
                "cannot come to the practice (immobile); 3.0 DDD a day recently "
                "(ddd_per_day_recent), more than 2 DDD",
                "",
                "de eigen reden van een plugin",
            ],
            "undecided": ["", "immobile: mobility unknown", ""],
            "override": [None, None, "eligible"],
            "gp_source": ["listed", "listed", "prescriber"],
        }
    )
    path = write_screening_xlsx(table, tmp_path / "screening.xlsx")
    rows = {r["Patiëntnummer"]: r for r in sheet_rows(path)}
    assert [rows[p]["Besluit"] for p in ("p1", "p2", "p3")] == [
        "uitgesloten",
        "te beoordelen",
        "in aanmerking",
    ]
    assert rows["p3"]["Voorstel"] == "uitgesloten"
    assert rows["p3"]["Besluit huisarts"] == "in aanmerking"
    assert [rows[p]["In aanmerking"] for p in ("p1", "p3")] == ["nee", "ja"]
    assert rows["p1"]["Uitgesloten door"] == (
        "kan niet naar het spreekuur komen (immobiel); meer dan het maximum aantal DDD per dag"
    )
    assert rows["p3"]["Uitgesloten door"] == "my_plugin_rule"  # a plugin's key, as it is
    assert rows["p1"]["Redenen"] == (
        "kan niet naar de praktijk komen (immobiel); 3,0 DDD per dag recent, meer dan 2 DDD"
    )
    assert rows["p3"]["Redenen"] == "de eigen reden van een plugin"
    assert rows["p2"]["Niet beslist"] == (
        "kan niet naar het spreekuur komen (immobiel): onbekend of de patiënt naar de praktijk "
        "kan komen"
    )
    assert rows["p3"]["Huisarts volgens"] == "voorschrijver"
    assert csv_rows(write_csv(table, tmp_path / "s.csv"))[0]["decision"] == "excluded"


def test_dutch_false_keeps_names_and_values(tmp_path: Path) -> None:
    path = write_xlsx({"s": selection()}, tmp_path / "raw.xlsx", dutch=False)
    row = sheet_rows(path)[0]
    assert row["ddd_per_day"] == 0.5342465753424658
    assert row["gp_source"] == "listed"


# --- Every column and every reason the library writes ------------------------------------------


@functools.cache
def _demo() -> demo.DemoPractice:
    return demo.demo_practice(patients_per_gp=400)


def _written_headers(path: Path) -> dict[str, list[str]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [c.value for c in sheet[1]] for sheet in book.worksheets}


def _expected(workbook: str, sheet: str, present: list[str]) -> list[str]:
    """The Dutch headers WORKBOOKS lists for the sheet, of the columns present, in its order."""
    from benzoredux.spreadsheets import DUTCH_HEADERS, WORKBOOKS

    return [DUTCH_HEADERS[c] for c in WORKBOOKS[workbook][sheet] if c in present]


@pytest.mark.parametrize("definition", ["units", "nhg"])
def test_every_column_the_writers_write_is_listed_in_order(tmp_path: Path, definition: str) -> None:
    from benzoredux.spreadsheets import CSV_FILES, DUTCH_HEADERS, FROM_PATIENTS, WORKBOOKS

    practice = _demo()
    ref = practice.reference_date
    chronic = select_chronic_users(
        practice.dispensings,
        ref,
        patients=practice.patients,
        include_excluded=True,
        definition=definition,
    )
    new = select_new_users(practice.dispensings, ref, patients=practice.patients)
    first = str(chronic["patient_id"].iloc[0])
    screened = screen(
        chronic,
        ref,
        patients=practice.patients,
        episodes=practice.episodes,
        overrides=[
            Override(patient_id=first, decision="eligible", decided_by="GP", decided_at=ref)
        ],
    ).table
    people = practice.patients
    files = {
        "chronic_users.xlsx": (
            write_per_gp_xlsx(chronic, tmp_path / "c.xlsx", patients=people),
            chronic,
        ),
        "new_users.xlsx": (write_per_gp_xlsx(new, tmp_path / "n.xlsx", patients=people), new),
        "screening.xlsx": (
            write_screening_xlsx(screened, tmp_path / "s.xlsx", patients=people),
            screened,
        ),
    }
    eligible = screened[screened["eligible"]]
    schedule = plan_schedule(eligible, "2026-01-12", slot_times=["09:00", "09:30"])
    files["schedule.xlsx"] = (
        write_schedule_xlsx(schedule, tmp_path / "sch.xlsx", patients=people),
        schedule.table,
    )
    plan = dated_example("2026-01-05", letter_date="2026-02-09")
    files["plan.xlsx"] = (write_plan_xlsx(plan, tmp_path / "p.xlsx"), plan.table())
    assert set(CSV_FILES) == set(WORKBOOKS)
    for workbook, (path, frame) in files.items():
        assert set(CSV_FILES[workbook]) == set(WORKBOOKS[workbook])
        for title, header in _written_headers(path).items():
            sheet = title if title in WORKBOOKS[workbook] else next(iter(WORKBOOKS[workbook]))
            canonical = [c for c in DUTCH_HEADERS if DUTCH_HEADERS[c] in header]
            assert header == _expected(workbook, sheet, canonical), (workbook, title)
            if CSV_FILES[workbook][sheet] is not None:  # the CSV file has the other columns
                assert set(canonical) - FROM_PATIENTS <= set(frame.columns), (workbook, title)
        assert set(frame.columns) <= set(DUTCH_HEADERS), workbook
    assert "Gebruiksdagen" in _written_headers(files["chronic_users.xlsx"][0])["huisarts-1"] or (
        definition == "units"
    )


def _reason_texts(table: pd.DataFrame) -> set[str]:
    texts: set[str] = set()
    for column in ("reasons", "undecided", "excluded_because"):
        if column in table.columns:
            texts.update(str(v) for v in table[column].dropna() if str(v))
    return texts


def _hand_made_screenings() -> list[pd.DataFrame]:
    """Screenings that reach every reason the built-in criteria give, known and unknown."""
    ref = dt.date(2025, 6, 30)
    chosen = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(1, 8)],
            "ddd_per_day": [3.0, 2.5, None, 0.5, 0.5, 0.5, 0.5],
            "ddd_per_day_recent": [3.0, 1.0, None, 0.5, 0.5, 0.5, 0.5],
            "probably_stopped": [False, False, False, True, None, False, False],
            "days_since_supply_end": [-10.0, -10.0, -10.0, 120.0, None, -5.0, -5.0],
            "excluded_because": [
                None,
                None,
                None,
                None,
                None,
                "moved on or before the reference date",
                None,
            ],
        }
    )
    people = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "birth_date": pd.to_datetime(
                ["1930-01-01", None, "1980-01-01", "1980-01-01", "1980-01-01", "1980-01-01"]
            ),
            "palliative": pd.array([True, None, False, False, False, False], dtype="boolean"),
            "dutch_language": pd.array([True, True, False, None, True, True], dtype="boolean"),
            "immobile": pd.array([False, False, False, False, True, None], dtype="boolean"),
            "serious_comorbidity": pd.array(
                [None, True, False, False, False, False], dtype="boolean"
            ),
        }
    )
    episodes = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "icpc": ["P15", "Z12", "K77"],
            "start": pd.to_datetime(["2020-01-01", "2025-01-01", "2024-01-01"]),
            "end": pd.to_datetime([None, None, None]),
        }
    )
    every = ["high_age", "serious_comorbidity", "psychosocial"]
    runs = [
        screen(chosen, ref, patients=people, episodes=episodes, enable=every),
        screen(
            chosen,
            ref,
            patients=people,
            episodes=episodes,
            enable=every,
            parameters={"serious_comorbidity": {"icpc_codes": ["K77"]}},
        ),
        screen(chosen, ref, enable=every),  # no patients, no episodes
        screen(chosen, ref, patients=people[["patient_id"]], episodes=episodes, enable=every),
        screen(chosen, ref, parameters={"ddd_per_day": {"dose_basis": "year"}}),
        screen(chosen, ref, parameters={"ddd_per_day": {"dose_basis": "higher"}}),
        screen(chosen.drop(columns=["ddd_per_day_recent", "probably_stopped"]), ref),
    ]
    return [run.table for run in runs]


def test_every_reason_benzoredux_writes_is_shown_in_dutch() -> None:
    """A reason the criteria or the selection write in English and the spreadsheet cannot show
    in Dutch fails here: a new or reworded reason needs its Dutch words."""
    from benzoredux.spreadsheets import dutch_reasons, untranslated_reasons

    practice = _demo()
    chronic = select_chronic_users(
        practice.dispensings,
        practice.reference_date,
        patients=practice.patients,
        episodes=practice.episodes,
        include_excluded=True,
        gp_route=True,
    )
    tables = [
        chronic,
        screen(
            chronic,
            practice.reference_date,
            patients=practice.patients,
            episodes=practice.episodes,
            enable=["high_age", "serious_comorbidity", "psychosocial"],
        ).table,
        *_hand_made_screenings(),
    ]
    texts = set().union(*(_reason_texts(t) for t in tables))
    assert len(texts) > 30  # the cases reach many reasons
    untranslated = {t: untranslated_reasons(t) for t in texts if untranslated_reasons(t)}
    assert not untranslated
    english = re.compile(r"\b(the|unknown|than|before|more|needs|or|with|without)\b")
    for text in texts:
        dutch = dutch_reasons(text)
        # Only ICPC titles, column names and parameters stay as they are.
        words = re.sub(r"'[^']*'|dose_basis|icpc_codes", "", dutch)
        assert not english.search(words), (text, dutch)


def test_reasons_benzoredux_did_not_write_stay_as_they_are() -> None:
    from benzoredux.spreadsheets import dutch_reasons, untranslated_reasons

    assert dutch_reasons("een eigen reden; complex co-medication: L") == (
        "een eigen reden; complexe comedicatie: L"
    )
    assert untranslated_reasons("een eigen reden; no answer for this patient") == [
        "een eigen reden"
    ]
    assert dutch_reasons("palliative: no answer for this patient") == (
        "terminale patiënt: geen antwoord voor deze patiënt"
    )
    assert dutch_reasons("immobile: cannot tell") == (
        "kan niet naar het spreekuur komen (immobiel): niet te bepalen"
    )


def test_the_mapping_covers_the_codes_and_reads_back() -> None:
    from benzoredux.spreadsheets import (
        COLUMNS,
        CRITERION_LABELS,
        DUTCH_HEADERS,
        TASK_STATUS_WORDS,
        WORKBOOKS,
        canonical_headers,
    )

    assert set(TASK_STATUS_WORDS) == {s.value for s in TaskStatus}
    assert {c.criterion.key for c in builtin_criteria()} == set(CRITERION_LABELS)
    assert len(set(DUTCH_HEADERS.values())) == len(DUTCH_HEADERS)
    for workbook, sheets in WORKBOOKS.items():
        for columns in sheets.values():
            assert set(columns) <= set(DUTCH_HEADERS), workbook
    headers = list(DUTCH_HEADERS.values())
    assert canonical_headers(headers) == {c.header: c.name for c in COLUMNS if c.header != c.name}


def test_the_docs_show_every_workbook() -> None:
    from benzoredux.spreadsheets import WORKBOOKS

    page = (DOCS / "spreadsheets.rst").read_text(encoding="utf-8")
    for workbook in WORKBOOKS:
        assert f".. spreadsheet-columns:: {workbook}" in page


# --- plan.xlsx read back -----------------------------------------------------------------------


def test_an_edited_dutch_plan_is_read_back(tmp_path: Path) -> None:
    plan = plan_of_action("2026-01-05").with_status("select", "done", note="+31 bellen")
    path = write_plan_xlsx(plan, tmp_path / "plan.xlsx")
    assert read_plan(path) == plan  # unedited: the same plan, the note without a quote
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        task = row[header.index("Taakcode")].value
        if task == "screen":
            row[header.index("Status")].value = " Klaar "  # as a person types it
        if task == "brief-team":
            row[header.index("Status")].value = "overgeslagen"
            row[header.index("Uiterlijk")].value = "20-02-2026"  # typed as text, day first
    book.save(path)
    again = read_plan(path)
    assert again.task("screen").status is TaskStatus.DONE
    assert again.task("brief-team").status is TaskStatus.SKIPPED
    assert again.task("brief-team").due == dt.date(2026, 2, 20)
    assert again.task("select").step == "select"  # "selecteren" is read back as the code
    assert again.task("select").note == "+31 bellen"


def test_a_plan_with_canonical_headers_and_quotes_is_still_read(tmp_path: Path) -> None:
    """A plan.xlsx written by an earlier version: canonical headers and codes, and a leading
    quote on text that starts like a formula."""
    plan = plan_of_action("2026-01-05")
    table = plan.table()
    table.loc[0, "status"] = "done"
    table.loc[0, "note"] = "'=1+1"
    path = write_xlsx({"Plan van aanpak": table}, tmp_path / "old.xlsx", dutch=False)
    assert [c.value for c in openpyxl.load_workbook(path).active[1]] == list(PLAN_COLUMNS)  # type: ignore[index]
    old = read_plan(path)
    assert old.task("select").status is TaskStatus.DONE
    assert old.task("select").note == "=1+1"


def test_a_bad_plan_row_names_the_row_and_the_dutch_column_not_the_value(tmp_path: Path) -> None:
    path = write_plan_xlsx(plan_of_action("2026-01-05"), tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet["H4"] = "Jansen belt"  # Status of the third task: not a status
    book.save(path)
    with pytest.raises(
        ValueError, match=r"plan\.xlsx, row 4: column 'Status' is not a status"
    ) as error:
        read_plan(path)
    assert "Jansen" not in str(error.value)
    assert "klaar" in str(error.value)
    sheet["H4"] = "open"
    sheet["F5"] = "morgen"
    book.save(path)
    with pytest.raises(ValueError, match=r"row 5: column 'Vanaf' holds no date"):
        read_plan(path)
