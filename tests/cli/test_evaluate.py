"""The ``evaluate`` command on constructed canonical files."""

from __future__ import annotations

import csv
import stat
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from benzoredux.cli import main


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_evaluate_writes_private_files_and_shares_suppressed_counts(tmp_path: Path) -> None:
    letters = _write(
        tmp_path / "letters.csv",
        "patient_id,gp_id,letter_date,invitation_date\n"
        + "\n".join(f"p{i},G1,2025-01-15,2025-04-15" for i in range(10)),
    )
    # p0..p2 get a benzodiazepine 3-6 months after the letter; the others stop.
    dispensings = _write(
        tmp_path / "dispensings.csv",
        "patient_id,date,atc,quantity,strength_mg\n"
        + "\n".join(f"p{i},2024-12-01,N05BA04,90,10" for i in range(10))
        + "\n"
        + "\n".join(f"p{i},2025-06-01,N05BA04,30,10" for i in range(3)),
    )
    patients = _write(
        tmp_path / "patients.csv",
        "patient_id,gp_id,status,status_date\n"
        + "\n".join(f"p{i},G1,active," for i in range(9))
        + "\np9,G1,deceased,2025-03-01",
    )
    out = tmp_path / "evaluation"
    done = CliRunner().invoke(
        main,
        [
            "evaluate", str(letters), "--dispensings", str(dispensings),
            "--patients", str(patients), "--evaluation-date", "2025-12-31",
            "--practice-id", "noord", "--out", str(out),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "short_term_stop: 67% of 9" in done.output
    assert "Benzoredux 27%" in done.output
    for name in ("effect_patients.csv", "effect_summary.csv", "process.csv", "aggregate.csv"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    summary = [r for r in _rows(out / "effect_summary.csv") if r["level"] == "total"]
    assert summary[0]["left_deceased"] == "1"
    shared = _rows(out / "aggregate.csv")
    assert all("p0" not in value for row in shared for value in row.values())
    stop = next(r for r in shared if r["level"] == "practice" and r["measure"] == "short_term_stop")
    assert (stop["numerator"], stop["denominator"]) == ("0", "10")  # 6 of 9: 6 suppressed


def test_evaluate_names_a_bad_file(tmp_path: Path) -> None:
    letters = _write(tmp_path / "letters.csv", "patient_id,letter_date\np1,15-01-2025")
    dispensings = _write(
        tmp_path / "d.csv", "patient_id,date,atc,quantity\np1,2025-01-01,N05BA04,30"
    )
    done = CliRunner().invoke(
        main,
        [
            "evaluate", str(letters), "--dispensings", str(dispensings),
            "--evaluation-date", "2025-12-31", "--out", str(tmp_path / "o"),
        ],
    )  # fmt: skip
    assert done.exit_code != 0
    assert "letters.csv, line 2, column 'letter_date'" in done.output


def test_evaluate_shows_both_stop_definitions(tmp_path: Path) -> None:
    # q0..q4 took one tablet a day all year and collected 90 the day before the 3-month mark
    # (15 April): no dispensing from 3 to 6 months, but tablets enough for it. q5..q9 stopped.
    letters = _write(
        tmp_path / "letters.csv",
        "patient_id,gp_id,letter_date\n" + "\n".join(f"q{i},G1,2025-01-15" for i in range(10)),
    )
    days = ["2024-01-20", "2024-04-19", "2024-07-18", "2024-10-16", "2025-01-14"]
    dispensings = _write(
        tmp_path / "dispensings.csv",
        "patient_id,date,atc,quantity,strength_mg,form\n"
        + "\n".join(f"q{i},{day},N05BA04,90,10,tablet" for i in range(10) for day in days)
        + "\n"
        + "\n".join(f"q{i},2025-04-14,N05BA04,90,10,tablet" for i in range(5)),
    )

    def run(*extra: str) -> Any:
        out = tmp_path / ("plain" if extra else "supply")
        done = CliRunner().invoke(
            main,
            [
                "evaluate", str(letters), "--dispensings", str(dispensings),
                "--evaluation-date", "2026-12-31", "--practice-id", "noord",
                "--out", str(out), "--no-register", *extra,
            ],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        return done, out

    done, out = run()
    assert "Stopped: no benzodiazepine dispensed in the window and no tablets left" in done.output
    assert "short_term_stop: 50% of 10" in done.output
    assert "no dispensing (upper bound) 100% (95% 72%-100%)" in done.output
    total = next(
        r
        for r in _rows(out / "effect_summary.csv")
        if r["level"] == "total" and r["measure"] == "short_term_stop"
    )
    assert total["stop_definition"] == "supply"
    assert (float(total["events"]), float(total["events_plain"])) == (5, 10)
    patients = {r["patient_id"]: r for r in _rows(out / "effect_patients.csv")}
    assert (patients["q0"]["short_term_stop"], patients["q0"]["short_term_stop_plain"]) == (
        "False",
        "True",
    )
    shared = {r["measure"]: r for r in _rows(out / "aggregate.csv") if r["level"] == "practice"}
    assert shared["short_term_stop_plain"]["numerator"] == "10"
    assert shared["short_term_stop"]["numerator"] == "0"  # 5: suppressed
    done, out = run("--stop-definition", "plain")
    assert "short_term_stop: 100% of 10" in done.output
    assert "upper bound" not in done.output.split("Stopped:")[1].split("\n", 1)[1]
