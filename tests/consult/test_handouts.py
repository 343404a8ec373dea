"""The patient handouts: the tapering schedule and the sleep-wake diary, rendered through the
letters' machinery (escaped, sandboxed, owner-only), read back and checked."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

docx = pytest.importorskip("docx")

from benzoredux.consult.handouts import (  # noqa: E402 - after the optional-dependency check
    SLEEP_DIARY_TEMPLATE,
    TAPER_HANDOUT_TEMPLATE,
    sleep_diary,
    sleep_diary_context,
    taper_handout,
    taper_handout_context,
)
from benzoredux.consult.handouts.build_templates import TEMPLATE_DIR, build_all  # noqa: E402
from benzoredux.consult.tapering import build_taper_schedule  # noqa: E402
from benzoredux.letters.rendering import TemplateFieldError  # noqa: E402


def text_of(path: Path) -> tuple[str, list[list[str]]]:
    document = docx.Document(str(path))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    return paragraphs, rows


def test_taper_handout_lists_every_step_with_dates(tmp_path: Path) -> None:
    schedule = build_taper_schedule(
        "lorazepam", 2.5, 1, switch_to_diazepam=True, start=dt.date(2025, 3, 3)
    )
    out = taper_handout(
        schedule,
        tmp_path / "afbouwschema.docx",
        patient_name="Mw. A. de Vries & 't Hart <b>",
        practice_name="Huisartsenpraktijk De Linde",
        practice_phone="010 123 45 67",
        made_on=dt.date(2025, 3, 1),
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    paragraphs, rows = text_of(out)
    assert "Voor: Mw. A. de Vries & 't Hart <b>" in paragraphs  # escaped, printed as written
    assert "Datum: 1 maart 2025" in paragraphs
    assert "om lorazepam stap voor stap af te bouwen" in paragraphs
    assert "Eerst stapt u over op diazepam" in paragraphs
    assert "in plaats van 1 tablet van 2,5 mg per dag" in paragraphs
    assert (
        "Omgerekend naar diazepam volgens Ashton (2002): 2,5 mg lorazepam = 25 mg diazepam "
        "(factor 10)." in paragraphs.splitlines()
    )
    assert rows == [
        ["Periode", "Wat neemt u per dag?", "Totaal per dag"],
        ["3 maart 2025 tot en met 9 maart 2025",
         "2 tabletten van 10 mg en 1 tablet van 5 mg per dag", "25 mg"],
        ["10 maart 2025 tot en met 16 maart 2025",
         "1 tablet van 10 mg, 1 tablet van 5 mg en 2 tabletten van 2 mg per dag", "19 mg"],
        ["17 maart 2025 tot en met 23 maart 2025",
         "1 tablet van 10 mg en ½ tablet van 5 mg per dag", "12,5 mg"],
        ["24 maart 2025 tot en met 30 maart 2025",
         "½ tablet van 5 mg en 2 tabletten van 2 mg per dag", "6,5 mg"],
        ["Vanaf 31 maart 2025", "Niets meer: u bent gestopt", "0 mg"],
    ]  # fmt: skip


def test_taper_handout_names_the_source_and_factor_of_the_switch(tmp_path: Path) -> None:
    # Issue 14: 6 mg bromazepam by the default chain (Ashton, 5-6 mg ~ 10 mg diazepam).
    schedule = build_taper_schedule("bromazepam", 6, 1, switch_to_diazepam=True)
    out = taper_handout(schedule, tmp_path / "a.docx", made_on=dt.date(2025, 1, 2))
    paragraphs, rows = text_of(out)
    assert (
        "Omgerekend naar diazepam volgens Ashton (2002): 6 mg bromazepam = 10,91 mg diazepam "
        "(factor 1,82). Afgerond is dat 11 mg diazepam per dag." in paragraphs.splitlines()
    )
    assert rows[1][2] == "11 mg"
    # Names the handout gives differ from the library's: zopiclone is "zopiclon" on the box.
    zopiclone = build_taper_schedule("zopiclone", 7.5, 1, switch_to_diazepam=True)
    assert taper_handout_context(zopiclone)["switch_conversion"] == (
        "Omgerekend naar diazepam volgens Ashton (2002): 7,5 mg zopiclon = 5 mg diazepam "
        "(factor 0,67)."
    )


def test_taper_handout_without_switch_or_dates(tmp_path: Path) -> None:
    schedule = build_taper_schedule("oxazepam", 50, 1)
    out = taper_handout(schedule, tmp_path / "a.docx", made_on=dt.date(2025, 1, 2))
    paragraphs, rows = text_of(out)
    assert "diazepam" not in paragraphs
    assert "Omgerekend" not in paragraphs
    assert "Voor:" not in paragraphs  # no name, no line
    assert [r[0] for r in rows[1:]] == [
        "Stap 1: 7 dagen",
        "Stap 2: 7 dagen",
        "Stap 3: 7 dagen",
        "Daarna",
    ]
    assert rows[1][1:] == ["4 tabletten van 10 mg per dag", "40 mg"]


def test_context_fields_match_what_the_template_uses(tmp_path: Path) -> None:
    schedule = build_taper_schedule("diazepam", 10, 1)
    context = taper_handout_context(schedule, made_on=dt.date(2025, 1, 2))
    assert context["substance"] == "diazepam"
    assert context["switched"] is False
    broken = tmp_path / "template.docx"
    document = docx.Document()
    document.add_paragraph().add_run("{{ unknown_field }}")
    document.save(str(broken))
    with pytest.raises(TemplateFieldError, match="unknown_field"):
        taper_handout(schedule, tmp_path / "never.docx", template=broken)
    assert not (tmp_path / "never.docx").exists()


def test_sleep_diary_has_one_row_per_day(tmp_path: Path) -> None:
    out = sleep_diary(tmp_path / "kalender.docx", start=dt.date(2025, 3, 3), patient_name="Jansen")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    paragraphs, rows = text_of(out)
    assert "Naam: Jansen" in paragraphs
    assert rows[0][0] == "Datum"
    assert len(rows) == 1 + 14
    assert [r[0] for r in rows[1:4]] == ["ma 3 maart", "di 4 maart", "wo 5 maart"]
    assert all(cell == "" for row in rows[1:] for cell in row[1:])
    blank = sleep_diary_context(days=7)
    assert [d["date"] for d in blank["days"]] == [""] * 7
    with pytest.raises(ValueError, match="days must be from 1 to 62"):
        sleep_diary_context(days=0)


def test_shipped_templates_are_what_the_builder_makes() -> None:
    built = build_all(None)
    assert set(built) == {TAPER_HANDOUT_TEMPLATE, SLEEP_DIARY_TEMPLATE}
    for name, data in built.items():
        assert (TEMPLATE_DIR / name).read_bytes() == data, (
            f"{name} is stale: run python -m benzoredux.consult.handouts.build_templates"
        )
