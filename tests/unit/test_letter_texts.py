"""What the patient reads (issue 17, "Letters, calendars"): Dutch usage of the letters and
handouts, an invitation that never names a call date after its appointment (checked on the
demo's schedule), a signature that prints the role once, and a label sheet without a blank
last page."""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import docx
import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree

from benzoredux import GeneralPractitioner, Pharmacist, Practice
from benzoredux.cli import main
from benzoredux.consult.handouts import build_templates as handout_templates
from benzoredux.letters import build_templates
from benzoredux.letters.compose import (
    LetterError,
    find_libreoffice,
    plan_letters,
    render_labels,
    render_letters,
)
from benzoredux.letters.default_style import default_template
from benzoredux.schedule import invitation_fields, plan_schedule

PRACTICE = Practice(
    practice_id="de-linde",
    name="Huisartsenpraktijk De Linde",
    address="Lindelaan 12, 7411 AB Deventer",
    phone="0570-123456",
    gps=[
        GeneralPractitioner(gp_id="huisarts-1", name="A. de Vries"),
        GeneralPractitioner(gp_id="huisarts-2", name="B. Yilmaz"),
    ],
    pharmacists=[
        Pharmacist(pharmacist_id="apotheek-1", name="M. Jansen", pharmacy_name="Apotheek De Brug")
    ],
)
MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
            "september", "oktober", "november", "december",
        ),
        start=1,
    )
}  # fmt: skip
DUTCH_DATE = re.compile(rf"\b(\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}})\b")


def patients(count: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(count)],
            "gp_id": ["huisarts-1", "huisarts-2"] * (count // 2) + ["huisarts-1"] * (count % 2),
            "sex": ["F"] * count,
            "initials": ["A."] * count,
            "name_prefix": ["van den"] * count,
            "family_name": ["Berg"] * count,
            "street": ["Dorpsstraat"] * count,
            "house_number": [str(i + 1) for i in range(count)],
            "postcode": ["7411AB"] * count,
            "city": ["Deventer"] * count,
        }
    )


def texts(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def dates_in(text: str) -> list[dt.date]:
    return [
        dt.date(int(year), MONTHS[month], int(day)) for day, month, year in DUTCH_DATE.findall(text)
    ]


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """A stop letter and the invitation with and without an appointment, as paragraphs."""
    out = tmp_path_factory.mktemp("letters")
    table = patients()
    plan = plan_schedule(table, "2026-01-12", slot_times=["09:00", "09:20"])
    made: dict[str, list[str]] = {}
    for name, kind, extra in (
        ("stop_letter", "stop_letter", None),
        ("appointment", "invitation", invitation_fields(plan, appointments=True)),
        ("phone", "invitation", invitation_fields(plan)),
    ):
        planned = plan_letters(
            table.iloc[:1], practice=PRACTICE, letter_date="2026-01-12", kind=kind,
            pharmacists=True,
        )  # fmt: skip
        written = render_letters(planned, table, PRACTICE, out / name, extra=extra)
        made[name] = texts(written.letters[0][1])
    return made


def test_subject_lines_say_betreft_and_repeat_no_word(letters: dict[str, list[str]]) -> None:
    for name, paragraphs in letters.items():
        subjects = [p for p in paragraphs if p.startswith("Betreft: ")]
        assert len(subjects) == 1, name
        assert not any(p.startswith("Over:") for p in paragraphs), name
        words = re.findall(r"[\w-]+", subjects[0].lower())
        repeated = {w for w in words if words.count(w) > 1}
        assert not repeated, f"{name}: {subjects[0]!r} repeats {repeated}"
    assert "Betreft: uw slaapmiddel of kalmeringsmiddel" in letters["stop_letter"]
    assert (
        "Betreft: uitnodiging voor een gesprek over uw slaap- of kalmeringsmiddel"
        in letters["appointment"]
    )


def test_the_stop_letter_says_worden_not_zijn(letters: dict[str, list[str]]) -> None:
    text = "\n".join(letters["stop_letter"])
    assert "U kunt er overdag suf of vergeetachtig van worden." in text
    assert "vergeetachtig van zijn" not in text
    assert "Het gaat om middelen zoals oxazepam" in text
    assert "De kans dat u valt of een verkeersongeluk krijgt, wordt groter." in text


def test_the_invitation_texts(letters: dict[str, list[str]]) -> None:
    appointment = "\n".join(letters["appointment"])
    assert "minder gebruikt of nog evenveel gebruikt." in appointment
    assert "Wij hebben een afspraak voor u gemaakt op maandag 20 april 2026 om 9.00 uur." in (
        appointment
    )
    assert "Komt u niet en horen wij niets van u? Dan bellen wij u na de afspraak" in appointment
    assert "rond" not in appointment
    phone = "\n".join(letters["phone"])
    assert "Wij vragen u een afspraak te maken. Bel daarvoor de praktijk op 0570-123456." in phone
    assert (
        "Horen wij niets van u? Dan bellen wij u rond 27 april 2026 om een afspraak te maken."
        in (phone)
    )


def test_the_role_is_printed_once_under_each_name(letters: dict[str, list[str]]) -> None:
    for name, paragraphs in letters.items():
        assert paragraphs[paragraphs.index("A. de Vries") + 1] == "huisarts", name
        assert paragraphs[paragraphs.index("M. Jansen") + 1] == "apotheker, Apotheek De Brug"
        assert sum("huisarts" in p for p in paragraphs[paragraphs.index("A. de Vries") :]) == 1


def test_letters_refuse_a_name_that_holds_the_role(tmp_path: Path) -> None:
    doubled = Practice(
        practice_id="de-linde",
        name="Huisartsenpraktijk De Linde",
        gps=[GeneralPractitioner(gp_id="huisarts-1", name="A. de Vries, huisarts")],
    )
    planned = plan_letters(patients(1), practice=doubled, letter_date="2026-01-12")
    with pytest.raises(LetterError, match=r"GP 'huisarts-1' holds the role 'huisarts'"):
        render_letters(planned, patients(1), doubled, tmp_path)
    assert not any(tmp_path.iterdir())


def test_the_handouts_read_as_dutch() -> None:
    documents = {name: build() for name, build in handout_templates.BUILDERS.items()}
    text = {
        name: "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for table in document.tables for row in table.rows for c in row.cells]
        )
        for name, document in documents.items()
    }
    taper, diary = text["afbouwschema.docx"], text["slaap_waakkalender.docx"]
    for right, wrong in (
        ("Totaal per dag", "Samen per dag"),
        ("zonder dat met ons te overleggen", "zonder dat te overleggen"),
        ("Als u wilt, kunt u de slaap-waakkalender bijhouden.", "Houd als u wilt"),
        ("Heeft u vragen?", "\nVragen?"),
    ):
        assert right in taper, right
        assert wrong not in taper, wrong
    for right, wrong in (
        ("over de afgelopen nacht en de dag daarvoor", "over de nacht ervoor en de dag ervoor"),
        ("Hoe lang duurde het voor u sliep?", "Hoe lang duurde inslapen?"),
    ):
        assert right in diary, right
        assert wrong not in diary, wrong


def test_no_letter_of_the_demo_names_a_call_date_after_its_appointment(tmp_path: Path) -> None:
    # The demo's invitations gave "maandag 20 april 2026 om 9.00 uur" and then "Horen wij
    # niets van u, dan bellen wij u rond 27 april 2026": a call a week after the appointment.
    out = tmp_path / "demo"
    done = CliRunner().invoke(main, ["demo", "--until", "letters", "--out", str(out)])
    assert done.exit_code == 0, done.output
    with (out / "schedule.csv").open(encoding="utf-8-sig", newline="") as handle:
        schedule = {row["patient_id"]: row for row in csv.DictReader(handle)}
    invitations = sorted((out / "letters" / "invitation").glob("invitation-*.docx"))
    assert len(invitations) > 50  # every scheduled patient with a complete address
    for path in invitations:
        text = "\n".join(texts(path))
        row = schedule[path.stem.removeprefix("invitation-")]
        consult = dt.date.fromisoformat(row["consult_date"])
        appointment = re.search(r"afspraak voor u gemaakt op \w+dag (\d+ \w+ \d{4})", text)
        assert appointment is not None, path.name
        assert dates_in(appointment.group(1)) == [consult], path.name
        later = [d for d in dates_in(text) if d > consult]
        assert not later, f"{path.name} names {later} after its appointment on {consult}"
        assert not any("bellen wij u rond" in p for p in text.splitlines()), path.name


# --- labels ---------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _twips(element: Any, attribute: str) -> int:
    return int(element.get(f"{_W}{attribute}", "0"))


def _label_patients(count: int) -> pd.DataFrame:
    table = patients(count)
    table["patient_id"] = [f"p{i:03d}" for i in range(count)]
    return table


def test_the_label_sheet_has_nothing_after_the_last_row_that_could_start_a_page(
    tmp_path: Path,
) -> None:
    table = _label_patients(96)
    path, _ = render_labels(
        list(table.patient_id), table, tmp_path / "labels.docx", on="2026-01-12"
    )
    assert path is not None
    body = docx.Document(str(path)).element.body
    children = [c for c in body if c.tag != f"{_W}sectPr"]
    tables = [c for c in children if c.tag == f"{_W}tbl"]
    assert len(tables) == 1
    after = children[children.index(tables[0]) + 1 :]
    # Word needs one paragraph after a table; it must be empty and too small to need a page.
    assert len(after) == 1
    assert after[0].tag == f"{_W}p"
    closing = after[0]
    assert "".join(closing.itertext()) == ""
    assert not closing.findall(f".//{_W}br")
    assert not closing.findall(f".//{_W}pageBreakBefore")
    section = body.find(f"{_W}sectPr")
    page = _twips(section.find(f"{_W}pgSz"), "h")
    margins = section.find(f"{_W}pgMar")
    usable = page - _twips(margins, "top") - _twips(margins, "bottom")
    heights = {(_twips(h, "val"), h.get(f"{_W}hRule")) for h in tables[0].iter(f"{_W}trHeight")}
    assert len(heights) == 1
    ((row, rule),) = heights
    assert rule == "exact"
    assert usable // row == 8  # 8 rows of labels on an A4 page
    spacing = closing.find(f"{_W}pPr/{_W}spacing")
    assert spacing is not None
    assert spacing.get(f"{_W}lineRule") == "exact"
    height = _twips(spacing, "line") + _twips(spacing, "before") + _twips(spacing, "after")
    assert 8 * row + height <= usable, (8 * row, height, usable)
    mark = closing.find(f"{_W}pPr/{_W}rPr/{_W}sz")
    assert mark is not None
    assert int(mark.get(f"{_W}val")) * 10 <= height


def test_the_label_template_is_what_the_builder_makes() -> None:
    # The structural promise above holds for the committed template, not just a rebuild.
    built = build_templates.build_labels()
    committed = docx.Document(str(default_template("labels")))
    for document in (built, committed):
        last = document.element.body[-2]
        assert etree.QName(last).localname == "p"
        spacing = last.find(f"{_W}pPr/{_W}spacing")
        assert spacing is not None
        assert spacing.get(f"{_W}lineRule") == "exact"


def _pdf_pages(path: Path, tmp_path: Path, soffice: str) -> int:
    subprocess.run(
        [
            soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
            "--norestore", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(path),
        ],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    data = (tmp_path / "pdf" / (path.stem + ".pdf")).read_bytes()
    counts = [int(c) for c in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count (\d+)", data)]
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert not counts or max(counts) == pages
    return pages


@pytest.mark.skipif(find_libreoffice() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize(("labels", "pages"), [(96, 4), (24, 1), (25, 2), (3, 1)])
def test_labels_print_on_as_many_pages_as_they_need(
    tmp_path: Path, labels: int, pages: int
) -> None:  # pragma: no cover - needs LibreOffice
    table = _label_patients(labels)
    path, _ = render_labels(
        list(table.patient_id), table, tmp_path / "labels.docx", on="2026-01-12"
    )
    assert path is not None
    soffice = find_libreoffice()
    assert soffice is not None
    assert _pdf_pages(path, tmp_path, soffice) == pages
