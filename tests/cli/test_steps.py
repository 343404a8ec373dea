"""The screen, schedule and letters commands, chained on the demo practice's files."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import docx
from click.testing import CliRunner

from benzoredux.cli import main

PRACTICE_TOML = """
practice_id = "demo"
name = "Huisartsen De Demo & Co"
address = "Kerkpad 1, 3431 AA Nieuwegein"
phone = "030-1234567"
place = "Nieuwegein"

[[gps]]
gp_id = "huisarts-1"
name = "A. de Vries"

[[gps]]
gp_id = "huisarts-2"
name = "B. Bakker"

[[gps]]
gp_id = "huisarts-3"
name = "C. Yilmaz"

[[pharmacists]]
pharmacist_id = "apo"
name = "M. Jansen"
pharmacy_name = "Apotheek De Brug"
"""


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_select_screen_schedule_letters(tmp_path: Path) -> None:
    runner = CliRunner()
    demo = tmp_path / "demo"
    done = runner.invoke(main, ["demo", "--out", str(demo), "--until", "select"])
    assert done.exit_code == 0, done.output
    patients = demo / "input" / "patients.csv"
    episodes = demo / "input" / "episodes.csv"

    done = runner.invoke(
        main,
        [
            "screen", str(demo / "chronic_users.csv"), "--reference-date", "2025-12-31",
            "--patients", str(patients), "--episodes", str(episodes),
            "--disable", "palliative", "--disable", "dutch_language", "--disable", "immobile",
            "--max-ddd", "1", "--out", str(tmp_path / "results"),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "selected patients are eligible" in done.output
    screening = rows(tmp_path / "results" / "screening.csv")
    eligible = [r["patient_id"] for r in screening if r["eligible"] == "True"]
    excluded = [r for r in screening if r["decision"] == "excluded"]
    assert eligible
    assert excluded
    assert all(r["reasons"] for r in excluded)

    done = runner.invoke(
        main,
        [
            "schedule", str(tmp_path / "results" / "screening.csv"),
            "--first-letter-date", "2026-01-12", "--slot-time", "09:00", "--slot-time", "09:30",
            "--out", str(tmp_path / "results"),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    schedule = rows(tmp_path / "results" / "schedule.csv")
    assert [r["patient_id"] for r in schedule] == eligible
    assert (tmp_path / "results" / "schedule.xlsx").exists()
    assert (tmp_path / "results" / "schedule.ics").exists()

    practice = tmp_path / "practice.toml"
    practice.write_text(PRACTICE_TOML, encoding="utf-8")
    for kind in ("stop_letter", "invitation"):
        done = runner.invoke(
            main,
            [
                "letters", str(tmp_path / "results" / "schedule.csv"), "--kind", kind,
                "--patients", str(patients), "--practice", str(practice), "--pharmacists",
                "--appointments", "--consult-with", "de praktijkondersteuner", "--pdf", "no",
                "--labels", "--out", str(tmp_path / "letters"),
            ],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    letters = sorted((tmp_path / "letters" / "stop_letter").glob("*.docx"))
    assert len(letters) == len(eligible)
    merged = sorted((tmp_path / "letters").glob("stop_letter-batch-*.docx"))
    assert len(merged) == len({r["batch"] for r in schedule})
    invitation = docx.Document(str(sorted((tmp_path / "letters" / "invitation").glob("*.docx"))[0]))
    text = "\n".join(p.text for p in invitation.paragraphs)
    assert "Wij hebben een afspraak voor u gemaakt op" in text
    assert "bij de praktijkondersteuner" in text
    assert "Apotheek De Brug" in text
    for path in (tmp_path / "letters").rglob("*.docx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bad_practice_file_is_named(tmp_path: Path) -> None:
    practice = tmp_path / "practice.toml"
    practice.write_text('practice_id = "x"\n', encoding="utf-8")
    source = tmp_path / "screening.csv"
    source.write_text("patient_id,gp_id,eligible\np1,g1,True\n", encoding="utf-8")
    patients = tmp_path / "patients.csv"
    patients.write_text("patient_id\np1\n", encoding="utf-8")
    done = CliRunner().invoke(
        main,
        [
            "letters", str(source), "--patients", str(patients), "--practice", str(practice),
            "--letter-date", "2026-01-12", "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert done.exit_code == 3
    assert "practice.toml: 2 problems: (1) key 'name' is missing" in done.output
    assert "(2) no [[gps]]" in done.output


def test_a_slot_time_not_written_hh_mm_is_a_usage_error(tmp_path: Path) -> None:
    """Issue 17: ``--slot-time 9u`` stopped with exit 3 (a data error); it is a mistyped
    option, so usage error 2 with the form expected, before anything is read."""
    screening = tmp_path / "screening.csv"
    screening.write_text("patient_id,gp_id,excluded\np1,G1,False\n", encoding="utf-8")
    done = CliRunner().invoke(
        main,
        [
            "schedule", str(screening), "--first-letter-date", "2026-01-12",
            "--consults-per-day", "1", "--slot-time", "9u", "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "'9u' is not a time written HH:MM (for example 09:00 or 13:30)" in done.output
    assert not (tmp_path / "out").exists()
