"""``benzoredux demo``: the whole chain on the demo practice into one folder, recorded in the
register, with every file private; parts whose optional packages are missing are skipped with a
note naming the extra."""

from __future__ import annotations

import csv
import importlib.util
import stat
import sys
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner, Result

from benzoredux.cli import EXIT_USAGE, main
from benzoredux.cli import demo as cli_demo
from benzoredux.register import open_register


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The full demo, run once (about 20 seconds)."""
    out = tmp_path_factory.mktemp("demo") / "benzoredux-demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_the_chain_writes_every_step_into_one_folder(demo: tuple[Path, Result]) -> None:
    out, _ = demo
    for name in (
        "chronic_users.csv",
        "chronic_users_per_gp.csv",
        "new_users.csv",
        "chronic_users.xlsx",
        "new_users.xlsx",
        "screening.csv",
        "screening.xlsx",
        "schedule.csv",
        "schedule.xlsx",
        "schedule.ics",
        "plan.csv",
        "programme.sqlite",
        "report.html",
        "evaluation/effect_summary.csv",
        "evaluation/effect_patients.csv",
        "evaluation/process.csv",
        "evaluation/funnel.png",
        "evaluation/funnel.svg",
        "evaluation/chronic_users_per_gp.png",
        "evaluation/chronic_users_before_after.svg",
        "letters/stop_letter-batch-01.docx",
        "letters/invitation-batch-01.docx",
        "letters/labels.docx",
    ):
        assert (out / name).is_file(), name
    eligible = [r for r in rows(out / "screening.csv") if r["eligible"] == "True"]
    letters = sorted((out / "letters" / "stop_letter").glob("*.docx"))
    assert len(letters) == len(eligible)
    text = "\n".join(p.text for p in docx.Document(str(letters[0])).paragraphs)
    # Signed by the patient's GP and the pharmacist, dated the first letter day.
    assert "Nieuwegein, 12 januari 2026" in text
    assert "Apotheek De Brug" in text
    assert "A. de Vries, huisarts" not in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<html" in html.lower()


def test_every_file_is_private(demo: tuple[Path, Result]) -> None:
    out, _ = demo
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 200
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_register_holds_each_step(demo: tuple[Path, Result]) -> None:
    out, _ = demo
    schedule = rows(out / "schedule.csv")
    with open_register(out / "programme.sqlite") as register:
        programme = register.programme()
        assert programme is not None
        assert programme["practice_id"] == "demo"
        assert len(register.screening()) == len(rows(out / "screening.csv"))
        stop_letters = register.letters("stop_letter")
        assert {e["patient_id"] for e in stop_letters} == {r["patient_id"] for r in schedule}
        assert register.letters("invitation")
        assert register.summary()["entries"] > len(schedule)


def test_the_evaluation_looks_like_benzoredux(demo: tuple[Path, Result]) -> None:
    out, result = demo
    summary = [r for r in rows(out / "evaluation" / "effect_summary.csv") if r["level"] == "total"]
    rate = {r["measure"]: float(r["rate"]) for r in summary}
    plain = {r["measure"]: float(r["rate_plain"] or "nan") for r in summary}
    # The simulated courses are dispensings: the plain definition ("no dispensing") sees the
    # Benzoredux-like chances; the supply-aware one (the default) a little fewer stoppers.
    assert 0.2 <= plain["short_term_stop"] <= 0.34
    assert 0.08 <= plain["sustained_stop"] <= 0.2
    for measure in ("short_term_stop", "sustained_stop"):
        assert 0.6 * plain[measure] <= rate[measure] <= plain[measure]
    assert all(r["not_due"] == "0" for r in summary)
    assert "short_term_stop" in result.output
    assert "no dispensing (upper bound)" in result.output


def test_it_says_where_everything_was_written_grouped(demo: tuple[Path, Result]) -> None:
    out, result = demo
    text = result.output
    for heading in (
        "Report for the FTO meeting:",
        "Per-GP lists and screening (xlsx):",
        "Schedule and plan",
        "Stop letters and invitations, merged per batch (docx):",
        "Charts (PNG, SVG):",
        "Evaluation:",
        "Programme register:",
    ):
        assert heading in text, heading
    assert str(out / "report.html") in text
    assert "single letters" in text
    # The step commands' own lists of written files are not repeated.
    assert "Written (readable by you only):\n  Report" in text
    assert text.count("Written (readable by you only)") == 1


def test_the_per_gp_lists_have_a_sheet_per_gp_with_names(demo: tuple[Path, Result]) -> None:
    out, _ = demo
    book = openpyxl.load_workbook(out / "chronic_users.xlsx")
    assert book.sheetnames == ["huisarts-1", "huisarts-2", "huisarts-3"]
    selection = rows(out / "chronic_users.csv")
    for name in book.sheetnames:
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        assert header[:3] == ["Patiëntnummer", "Naam", "Adres"]
        assert sheet.max_row - 1 == sum(r["gp_id"] == name for r in selection)


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--until", "select"])
    assert result.exit_code == EXIT_USAGE
    assert "not empty" in result.output
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "chronic_users.csv").exists()


def test_an_earlier_demo_folder_is_run_again_with_a_new_register(tmp_path: Path) -> None:
    out = tmp_path / "again"
    (out / "letters").mkdir(parents=True)
    (out / "letters" / "stop_letter-batch-01.docx").write_bytes(b"old")
    (out / "programme.sqlite").write_bytes(b"an earlier demo's register")
    (out / "ABOUT-THIS-DEMO.txt").write_text("an earlier demo", encoding="utf-8")
    (out / "screening.csv").write_text("patient_id\n", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--until", "select"])
    assert result.exit_code == 0, result.output
    assert "Done: select." in result.output
    assert not (out / "letters").exists()
    assert not (out / "screening.csv").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    with open_register(out / "programme.sqlite") as register:
        assert register.selection() is not None


def test_without_the_letters_extra_the_letters_are_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "docxtpl" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path / "d"), "--until", "follow-up"]
    )
    assert result.exit_code == 0, result.output
    assert "skipped letters: docxtpl not installed; pip install 'benzoredux[letters]'" in (
        result.output
    )
    assert "skipped follow-up: no letters were written to follow up" in result.output
    assert "Done: select, screen, schedule, plan." in result.output
    assert (tmp_path / "d" / "schedule.xlsx").exists()
    assert not (tmp_path / "d" / "letters").exists()


def test_without_matplotlib_the_charts_are_skipped_with_a_note(
    demo: tuple[Path, Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = demo
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    chain = cli_demo._Chain(out=out, seed=2025)
    assert cli_demo._try_charts(chain) == (
        "charts (PNG/SVG): matplotlib is not installed; pip install 'benzoredux[charts]'"
    )
