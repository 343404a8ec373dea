"""The select, screen, schedule and letters commands record into the programme register."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from benzoredux.cli import main
from benzoredux.register import open_register

PRACTICE_TOML = """
practice_id = "demo"
name = "Huisartsen De Demo"
address = "Kerkpad 1, 3431 AA Nieuwegein"

[[gps]]
gp_id = "huisarts-1"
name = "A. de Vries"

[[gps]]
gp_id = "huisarts-2"
name = "B. Bakker"

[[gps]]
gp_id = "huisarts-3"
name = "C. Yilmaz"
"""


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def run(args: Sequence[str]) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def entries(register: Path) -> int:
    with open_register(register) as opened:
        return int(opened.summary()["entries"])


class Chain:
    """The demo practice taken through select, screen, schedule and stop letters."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.input = root / "demo" / "input"
        self.results = root / "results"
        self.register = self.results / "programme.sqlite"
        self.practice = root / "practice.toml"

    def select(self, *extra: str) -> Result:
        return run([
            "select", self.input / "dispensings.csv", "--patients", self.input / "patients.csv",
            "--episodes", self.input / "episodes.csv", "--reference-date", "2025-12-31",
            "--include-excluded", "--practice", self.practice, "--by", "assistente",
            "--out", self.results, *extra,
        ])  # fmt: skip

    def screen(self, *extra: str) -> Result:
        return run([
            "screen", self.results / "chronic_users.csv", "--reference-date", "2025-12-31",
            "--patients", self.input / "patients.csv", "--episodes", self.input / "episodes.csv",
            "--disable", "palliative", "--disable", "dutch_language", "--disable", "immobile",
            "--max-ddd", "1", "--overrides", self.root / "overrides.csv", "--by", "assistente",
            "--out", self.results, *extra,
        ])  # fmt: skip

    def schedule(self, *extra: str) -> Result:
        return run([
            "schedule", self.results / "screening.csv", "--first-letter-date", "2026-01-12",
            "--by", "assistente", "--out", self.results, *extra,
        ])  # fmt: skip

    def letters(self, source: Path, out: Path, *extra: str) -> Result:
        return run([
            "letters", source, "--patients", self.input / "patients.csv",
            "--practice", self.practice, "--pdf", "no", "--out", out, *extra,
        ])  # fmt: skip


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The chain run once; tests that change the register work on a copy (:func:`fresh`)."""
    made = Chain(tmp_path_factory.mktemp("chain"))
    done = run(["demo", "--out", made.root / "demo", "--until", "select"])
    assert done.exit_code == 0, done.output
    made.practice.write_text(PRACTICE_TOML, encoding="utf-8")
    done = made.select()
    assert done.exit_code == 0, done.output
    # The GP overrides a patient the program proposes as eligible: found by a screening
    # without overrides and without the register.
    (made.root / "overrides.csv").write_text(
        "patient_id,decision,decided_by,decided_at,note\n", encoding="utf-8"
    )
    done = made.screen("--no-register", "--out", made.root / "proposal")
    assert done.exit_code == 0, done.output
    proposal = rows(made.root / "proposal" / "screening.csv")
    kept = next(r["patient_id"] for r in proposal if r["proposed"] == "eligible")
    (made.root / "overrides.csv").write_text(
        "patient_id,decision,decided_by,decided_at,note\n"
        f"{kept},excluded,dr. De Vries,2026-01-08,wil eerst zelf afbouwen\n",
        encoding="utf-8",
    )
    for step in (made.screen, made.schedule):
        done = step()
        assert done.exit_code == 0, done.output
    done = made.letters(made.results / "schedule.csv", made.results / "letters", "--by", "poh")
    assert done.exit_code == 0, done.output
    return made


@pytest.fixture
def fresh(chain: Chain, tmp_path: Path) -> Chain:
    copy = Chain(tmp_path)
    shutil.copytree(chain.root, tmp_path, dirs_exist_ok=True)
    return copy


def test_the_chain_records_each_step(chain: Chain) -> None:
    selection = rows(chain.results / "chronic_users.csv")
    screening = {r["patient_id"]: r for r in rows(chain.results / "screening.csv")}
    schedule = rows(chain.results / "schedule.csv")
    assert stat.S_IMODE(chain.register.stat().st_mode) == 0o600
    with open_register(chain.register) as register:
        programme = register.programme()
        assert programme is not None
        assert programme["practice_id"] == "demo"
        assert [gp["gp_id"] for gp in programme["gps"]] == [
            "huisarts-1",
            "huisarts-2",
            "huisarts-3",
        ]
        assert programme["reference_date"] == dt.date(2025, 12, 31)
        assert programme["options"]["select"]["include_excluded"] is True
        assert programme["criteria"]["palliative"] is False
        assert programme["criteria"]["ddd_per_day"] is True

        snapshot = register.selection()
        assert list(snapshot["patient_id"]) == [r["patient_id"] for r in selection]
        assert register.current("selections")[0].recorded_by == "assistente"

        decided = register.screening()
        assert set(decided) == set(screening)
        for patient_id, entry in decided.items():
            assert entry["excluded"] is (screening[patient_id]["eligible"] != "True")
        proposals = {e["patient_id"]: e for e in register.current("screening")}
        excluded = next(r for r in screening.values() if r["proposed"] == "excluded")
        proposal = register.latest("screening", (excluded["patient_id"], "proposal"))
        assert proposal is not None
        assert list(proposal["reasons"]) == excluded["excluded_by"].split("; ")
        assert len(proposals) == len(selection)
        (override,) = [e for e in register.current("screening") if e["source"] == "gp"]
        assert override.recorded_by == "dr. De Vries"
        assert override["overrides_proposal"] is True
        assert "2026-01-08" in override.remark

        letters = register.letters("stop_letter")
        assert sorted((e["patient_id"], e["batch"]) for e in letters) == sorted(
            (r["patient_id"], int(r["batch"])) for r in schedule
        )
        assert {e.recorded_by for e in letters} == {"poh"}
        assert not any(e["forced"] for e in letters)

        tasks = {t["task_id"]: t for t in register.current("tasks")}
        batches = sorted({int(r["batch"]) for r in schedule})
        assert len(tasks) == 4 * len(batches)
        first = next(r for r in schedule if r["batch"] == "1")
        assert tasks["batch-1-stop-letters"]["due"].isoformat() == first["letter_date"]
        assert tasks["batch-1-invitations"]["due"].isoformat() == first["invitation_date"]
        assert {tasks[f"batch-{b}-stop-letters"]["status"] for b in batches} == {"done"}
        assert {tasks[f"batch-{b}-invitations"]["status"] for b in batches} == {"open"}


def test_running_every_step_again_adds_nothing(fresh: Chain) -> None:
    before = entries(fresh.register)
    for step in (fresh.select, fresh.screen, fresh.schedule):
        done = step()
        assert done.exit_code == 0, done.output
    done = fresh.letters(fresh.results / "schedule.csv", fresh.root / "again")
    assert done.exit_code == 0, done.output
    assert "0 letter(s) recorded" in done.output
    assert entries(fresh.register) == before
    with open_register(fresh.register) as register:
        # planning again does not reopen the letter tasks already done
        task = register.latest("tasks", ("batch-1-stop-letters",))
        assert task is not None
        assert task["status"] == "done"


def test_a_second_stop_letter_is_refused_and_nothing_written(fresh: Chain) -> None:
    schedule = rows(fresh.results / "schedule.csv")
    excluded = next(r for r in rows(fresh.results / "screening.csv") if r["eligible"] != "True")
    source = fresh.root / "again.csv"
    source.write_text(
        "patient_id,gp_id,eligible\n"
        f"{schedule[0]['patient_id']},{schedule[0]['gp_id']},True\n"
        f"{excluded['patient_id']},{excluded['gp_id']},True\n",
        encoding="utf-8",
    )
    before = entries(fresh.register)
    out = fresh.root / "second"
    done = fresh.letters(
        source, out, "--letter-date", "2026-03-02", "--register", str(fresh.register)
    )
    assert done.exit_code == 3
    assert "already had a stop letter in this programme" in done.output
    assert schedule[0]["patient_id"] in done.output
    assert "--force-second-letter" in done.output
    assert not out.exists()
    assert entries(fresh.register) == before


def test_forcing_a_second_stop_letter_is_recorded(fresh: Chain) -> None:
    first = rows(fresh.results / "schedule.csv")[0]
    source = fresh.root / "again.csv"
    source.write_text(
        f"patient_id,gp_id,eligible\n{first['patient_id']},{first['gp_id']},True\n",
        encoding="utf-8",
    )
    args = ["--letter-date", "2026-03-02", "--register", str(fresh.register), "--by", "dr. Bakker"]
    reason = "eerste brief kwam retour (verhuisd)"
    done = fresh.letters(source, fresh.root / "second", *args, "--force-second-letter", reason)
    assert done.exit_code == 0, done.output
    assert "1 second stop letter(s) forced" in done.output
    with open_register(fresh.register) as register:
        letters = [
            e for e in register.letters("stop_letter") if e["patient_id"] == first["patient_id"]
        ]
        assert [(e["batch"], e["forced"]) for e in letters] == [
            (int(first["batch"]), False),
            (0, True),
        ]
        assert letters[1]["force_reason"] == reason
        assert letters[1].recorded_by == "dr. Bakker"
    before = entries(fresh.register)
    done = fresh.letters(source, fresh.root / "second", *args, "--force-second-letter", reason)
    assert done.exit_code == 0, done.output
    assert entries(fresh.register) == before


def test_default_register_is_next_to_the_input_and_can_be_left_out(fresh: Chain) -> None:
    elsewhere = fresh.root / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(fresh.results / "screening.csv", elsewhere)
    done = run([
        "schedule", elsewhere / "screening.csv", "--first-letter-date", "2026-01-12",
        "--no-register", "--out", elsewhere,
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert not (elsewhere / "programme.sqlite").exists()
    done = run([
        "schedule", elsewhere / "screening.csv", "--first-letter-date", "2026-01-12",
        "--out", fresh.root / "out",
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "new programme register made" in done.output
    assert (elsewhere / "programme.sqlite").exists()
    done = run([
        "schedule", elsewhere / "screening.csv", "--first-letter-date", "2026-01-12",
        "--no-register", "--register", fresh.register, "--out", elsewhere,
    ])  # fmt: skip
    assert done.exit_code == 2
    assert "not both" in done.output


def test_a_step_that_fails_on_its_input_makes_no_register(tmp_path: Path) -> None:
    """The register is made when a step records, after its files: a schedule from a file
    that is no screening fails and leaves no empty register behind."""
    screening = tmp_path / "screening.csv"
    screening.write_text("pseudonym,something\np1,x\n", encoding="utf-8")
    result = run(["schedule", screening, "--first-letter-date", "2026-01-12", "--out", tmp_path])
    assert result.exit_code != 0
    assert not (tmp_path / "programme.sqlite").exists()
    assert "new programme register" not in result.output


def test_no_register_keeps_nothing(tmp_path: Path) -> None:
    """--no-register runs the step through an in-memory programme: files, and no register."""
    (tmp_path / "demo").mkdir()
    made = run(["demo", "--out", tmp_path / "demo"])
    assert made.exit_code == 0, made.output
    inputs = tmp_path / "demo" / "input"
    out = tmp_path / "results"
    result = run(
        [
            "select",
            inputs / "dispensings.csv",
            "--reference-date",
            "2025-12-31",
            "--out",
            out,
            "--no-register",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (out / "chronic_users.csv").is_file()
    assert not list(out.glob("*.sqlite"))
    assert "Register" not in result.output
