"""``benzoredux.Programme``: a whole programme on the demo practice without the CLI, leaving
the register the commands leave.

The CLI's ``demo`` runs the chain once on the same input files; the programme run through
:class:`~benzoredux.Programme` must hold the same selection, screening decisions, letters,
tasks and evaluation figures (the demo records no consults: it reads them from a file).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from benzoredux import Programme
from benzoredux.cli import main
from benzoredux.cli.demo import DEMO_FIRST_LETTER, DEMO_TICKED
from benzoredux.cli.steps import read_practice
from benzoredux.demo import simulate_calls
from benzoredux.register import LetterRefusedError, open_register

CLI_SELECT_OPTIONS: dict[str, Any] = {
    "gp_route": False,
    "exclude_complex": True,
    "exempt_other_codeine_combinations": True,
    "gabapentinoids_as_antiepileptics": True,
    "include_excluded": True,  # as the demo selects
    "definition": "units",
    "min_units": 90.0,
}
"""The options ``benzoredux select`` passes by default (the demo adds --include-excluded)."""


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


def snapshot(location: Path) -> dict[str, Any]:
    """What a register holds, without the audit trail (who, when), for comparing two runs."""
    with open_register(location) as register:
        summary = register.summary()
        return {
            "summary": {k: v for k, v in summary.items() if k not in ("entries", "consults")},
            "selection": register.selection().sort_values("patient_id").to_dict("records"),
            "screening": {
                p: (e["excluded"], tuple(e["reasons"]), e["source"])
                for p, e in register.screening().items()
            },
            "letters": sorted(
                (_status(e["kind"]), e["patient_id"], e["letter_date"], tuple(e["gp_ids"]))
                for e in register.letters()
            ),
            "tasks": {
                t["task_id"]: (t["what"], t["due"], _status(t["status"]), t["note"])
                for t in register.current("tasks")
            },
            "evaluations": [(e["run_id"], e["results"]) for e in register.current("evaluations")],
            "options": register.programme()["options"],  # type: ignore[index]
            "criteria": register.programme()["criteria"],  # type: ignore[index]
        }


def entries(location: Path) -> int:
    with open_register(location) as register:
        return int(register.summary()["entries"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CLI demo and the same chain through ``Programme``, each run once."""
    demo = tmp_path_factory.mktemp("cli") / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(demo)])
    assert result.exit_code == 0, result.output
    inputs = demo / "input"
    practice, place = read_practice(inputs / "practice.toml")
    folder = tmp_path_factory.mktemp("programme")
    location = folder / "programme.sqlite"
    results: dict[str, Any] = {"demo": demo, "folder": folder, "location": location}
    with Programme.create(location, by="demo") as programme:
        results["select"] = programme.select(
            inputs / "dispensings.csv",
            "2025-12-31",
            patients=inputs / "patients.csv",
            episodes=inputs / "episodes.csv",
            practice=practice,
            **CLI_SELECT_OPTIONS,
        )
        results["screen"] = programme.screen(
            patients=inputs / "patients.csv", episodes=inputs / "episodes.csv"
        )
        results["schedule"] = programme.schedule(
            first_letter_date=DEMO_FIRST_LETTER, slot_times=("09:00", "09:20")
        )
        results["stop_letters"] = programme.letters(
            inputs / "patients.csv", folder / "letters", place=place, pharmacists=True
        )
        results["invitations"] = programme.letters(
            inputs / "patients.csv",
            folder / "letters",
            kind="invitation",
            place=place,
            pharmacists=True,
            appointments=True,
            consult_with="de praktijkondersteuner",
        )
        results["plan"] = programme.plan(letter_date=DEMO_FIRST_LETTER)
        follow_up = inputs / "follow-up"
        with open_register(demo / "programme.sqlite") as cli_register:
            run = cli_register.current("evaluations")[-1]
        results["evaluation_date"] = run["run_date"]
        # As the demo's practice: the consults and the calls to who did not come are recorded.
        consults = pd.read_csv(follow_up / "consults.csv", dtype={"patient_id": str})
        programme.record_consult(follow_up / "consults.csv")
        for call in simulate_calls(consults).to_dict("records"):
            programme.record_call(
                call["patient_id"], called_on=call["called_on"], outcome=call["outcome"]
            )
        results["evaluate"] = programme.evaluate(
            follow_up / "dispensings.csv",
            run["run_date"],
            patients=follow_up / "patients.csv",
            consults=follow_up / "consults.csv",
        )
        # Before the meeting the practice ticks off the tasks no step records.
        programme.plan(letter_date=DEMO_FIRST_LETTER, done=DEMO_TICKED)
        results["report"] = programme.report(folder, as_of=DEMO_FIRST_LETTER)
    return results


def test_each_step_returns_what_the_cli_writes(runs: dict[str, Any]) -> None:
    demo = runs["demo"]
    read = {"dtype": {"patient_id": str}, "encoding": "utf-8-sig"}
    chronic = pd.read_csv(demo / "chronic_users.csv", **read)
    assert sorted(runs["select"].table["patient_id"]) == sorted(chronic["patient_id"])
    screening = pd.read_csv(demo / "screening.csv", **read)
    assert runs["screen"].table["proposed"].value_counts().to_dict() == (
        screening["proposed"].value_counts().to_dict()
    )
    schedule = pd.read_csv(demo / "schedule.csv", **read)
    assert list(runs["schedule"].table["patient_id"]) == list(schedule["patient_id"])
    stop = {letter.patient_id for letter, _ in runs["stop_letters"].letters}
    assert stop == set(schedule["patient_id"]) - {p for p, _ in runs["stop_letters"].skipped}
    assert all(path.is_file() for path in runs["stop_letters"].paths)
    assert len(runs["invitations"].letters) > 0
    summary = pd.read_csv(demo / "evaluation" / "effect_summary.csv")
    ours = runs["evaluate"].effect.summary
    assert list(ours["evaluated"]) == list(summary["evaluated"])
    assert runs["report"].is_file()
    assert "<html" in runs["report"].read_text(encoding="utf-8").lower()


def test_the_register_holds_what_the_cli_chain_records(runs: dict[str, Any]) -> None:
    ours, theirs = snapshot(runs["location"]), snapshot(runs["demo"] / "programme.sqlite")
    for part in theirs:
        assert ours[part] == theirs[part], part
    assert ours["summary"]["stop_letters"] == len(runs["stop_letters"].letters)
    assert ours["summary"]["evaluations"] == 1


def test_the_plan_moves_along_from_the_register(runs: dict[str, Any]) -> None:
    plan = runs["plan"]
    done = {t.task_id for t in plan.tasks if t.status.value == "done"}
    assert {"select", "screen", "merge-letters", "send-letters"} <= done
    assert plan.task("send-letters").due == DEMO_FIRST_LETTER
    assert "A. de Vries" in plan.task("screen").who


@pytest.fixture
def again(runs: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the programme's register to change without touching the shared one."""
    copy = tmp_path / "programme.sqlite"
    shutil.copy(runs["location"], copy)
    return copy


def test_running_the_steps_again_adds_nothing(runs: dict[str, Any], again: Path) -> None:
    inputs = runs["demo"] / "input"
    follow_up = inputs / "follow-up"

    def steps(programme: Programme) -> None:
        programme.select(
            inputs / "dispensings.csv",
            patients=inputs / "patients.csv",
            episodes=inputs / "episodes.csv",
            **CLI_SELECT_OPTIONS,
        )
        programme.screen(patients=inputs / "patients.csv", episodes=inputs / "episodes.csv")
        programme.schedule(first_letter_date=DEMO_FIRST_LETTER, slot_times=("09:00", "09:20"))
        programme.evaluate(
            follow_up / "dispensings.csv",
            runs["evaluation_date"],
            patients=follow_up / "patients.csv",
            consults=follow_up / "consults.csv",
        )
        programme.plan(letter_date=DEMO_FIRST_LETTER)

    before = entries(again)
    with Programme.open(again, by="someone else") as programme:
        steps(programme)
        # The copy's register has another path (the evaluation's letters source) and the
        # evaluation now moves the plan's "evaluate" task along, and (issue 17) closes the
        # consult tasks it counted consults for (7 batches and the example's): a few entries,
        # once.
        once = entries(again)
        assert once - before <= 2 + 8
        steps(programme)
    assert entries(again) == once


def test_a_second_stop_letter_is_refused_before_anything_is_written(
    runs: dict[str, Any], again: Path, tmp_path: Path
) -> None:
    patients = runs["demo"] / "input" / "patients.csv"
    before = entries(again)
    with Programme.open(again) as programme:
        # The same letters again (same dates): already recorded, nothing added.
        same = programme.letters(patients, tmp_path / "same", source=runs["schedule"])
        assert len(same.letters) == len(runs["stop_letters"].letters)
        assert entries(again) == before
        # A stop letter on another day to patients who had one: refused, nothing written.
        out = tmp_path / "letters"
        later = {"source": runs["screen"], "letter_date": "2026-06-01"}
        with pytest.raises(LetterRefusedError) as refused:
            programme.letters(patients, out, **later)
        assert len(refused.value.patient_ids) == len(runs["stop_letters"].letters)
        assert "force_second_letter" in str(refused.value)
        assert not out.exists()
        assert entries(again) == before
        with pytest.raises(ValueError, match="say why"):
            programme.letters(patients, out, force_second_letter=" ", **later)
        forced = programme.letters(
            patients, out, force_second_letter="first letter lost in the post", **later
        )
        # Everyone again, except who left the practice by then.
        written = len(forced.letters) + len(forced.skipped)
        assert written == len(runs["stop_letters"].letters)
        summary = programme.register.summary()
        assert summary["forced_stop_letters"] == len(forced.letters)


def test_overrides_calls_and_consults_are_recorded(runs: dict[str, Any], again: Path) -> None:
    table = runs["screen"].table
    excluded = str(table.loc[table["proposed"] == "excluded", "patient_id"].iloc[0])
    consults = runs["demo"] / "input" / "follow-up" / "consults.csv"
    with Programme.open(again, by="assistent") as programme:
        added = programme.override(excluded, "eligible", by="huisarts-1", note="toch een brief")
        assert len(added) == 1
        assert (
            programme.override(excluded, "eligible", by="huisarts-1", note="toch een brief") == []
        )
        decision = programme.register.screening()[excluded]
        assert (decision["excluded"], decision["source"], decision.recorded_by) == (
            False,
            "gp",
            "huisarts-1",
        )
        with pytest.raises(ValueError, match="eligible"):
            programme.override(excluded, "maybe")  # type: ignore[arg-type]
        calls_before = programme.register.summary()["phone_calls"]
        call = programme.record_call(
            excluded, called_on="2026-02-02", outcome="no_answer", invitation_batch=1
        )
        assert (call["patient_id"], call["called_on"], call.recorded_by) == (
            excluded,
            dt.date(2026, 2, 2),
            "assistent",
        )
        recorded = programme.record_consult(consults)
        assert len(recorded) == len(pd.read_csv(consults))
        assert programme.register.summary()["consults"] == len(recorded)
        assert programme.register.summary()["gp_overrides"] == 1
        assert programme.register.summary()["phone_calls"] == calls_before + 1
        again_recorded = programme.record_consult(consults)
        assert [e.entry_id for e in again_recorded] == [e.entry_id for e in recorded]


def test_open_needs_an_existing_register(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"programme\.sqlite"):
        Programme.open(tmp_path / "programme.sqlite")
    assert not (tmp_path / "programme.sqlite").exists()


def test_screening_with_the_gps_overrides_records_them_under_the_gps_name(
    runs: dict[str, Any], again: Path
) -> None:
    inputs = runs["demo"] / "input"
    table = runs["screen"].table
    review = str(table.loc[table["proposed"] == "review", "patient_id"].iloc[0])
    overrides = pd.DataFrame(
        {
            "patient_id": [review],
            "decision": ["eligible"],
            "decided_by": ["huisarts-2"],
            "decided_at": [dt.date(2026, 1, 5)],
            "note": ["besproken"],
        }
    )
    with Programme.open(again, by="assistent") as programme:
        result = programme.screen(
            runs["select"],
            patients=inputs / "patients.csv",
            episodes=inputs / "episodes.csv",
            overrides=overrides,
        )
        assert result.table.set_index("patient_id").loc[review, "override"] == "eligible"
        decision = programme.register.screening()[review]
        assert (decision["excluded"], decision["source"], decision.recorded_by) == (
            False,
            "gp",
            "huisarts-2",
        )
        assert decision.remark == "decided on 2026-01-05; entered from dataframe by assistent"


def test_steps_take_the_files_the_commands_wrote(runs: dict[str, Any], tmp_path: Path) -> None:
    """Each step reads the previous step's CSV as the command does: the same results."""
    demo = runs["demo"]
    inputs = demo / "input"
    with Programme.in_memory(by="assistent") as programme:
        result = programme.screen(
            demo / "chronic_users.csv",
            "2025-12-31",
            patients=inputs / "patients.csv",
            episodes=inputs / "episodes.csv",
        )
        assert list(result.table["proposed"]) == list(runs["screen"].table["proposed"])
        plan = programme.schedule(
            demo / "screening.csv", DEMO_FIRST_LETTER, slot_times=("09:00", "09:20")
        )
        assert list(plan.table["patient_id"]) == list(runs["schedule"].table["patient_id"])
        practice, place = read_practice(inputs / "practice.toml")
        letters = programme.letters(
            inputs / "patients.csv",
            tmp_path / "letters",
            source=demo / "schedule.csv",
            practice=practice,
            place=place,
        )
        assert {letter.patient_id for letter, _ in letters.letters} == {
            letter.patient_id for letter, _ in runs["stop_letters"].letters
        }
        assert programme.location == "memory://"
    assert not list(tmp_path.glob("*.sqlite"))


def test_an_edited_plan_is_read_back(runs: dict[str, Any], tmp_path: Path) -> None:
    """``plan(edited=...)`` reads plan.xlsx as ``benzoredux plan --edited`` does: its statuses
    win, and the register keeps them."""
    from openpyxl import load_workbook

    from benzoredux.evaluation.plan import write_plan_xlsx

    location = tmp_path / "programme.sqlite"
    shutil.copy(runs["location"], location)
    path = write_plan_xlsx(runs["plan"], tmp_path / "plan.xlsx")
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):  # the spreadsheet's Dutch headers and words
        if row[header.index("Taakcode")].value == "brief-team":
            row[header.index("Status")].value = "klaar"
    book.save(path)
    with Programme.open(location, by="assistent") as programme:
        plan = programme.plan(edited=path)
        assert plan.task("brief-team").status.value == "done"
        recorded = {t["task_id"]: t for t in programme.register.current("tasks")}
    assert _status(recorded["brief-team"]["status"]) == "done"


def test_files_first_then_the_register(runs: dict[str, Any], tmp_path: Path) -> None:
    """A step whose files cannot be written records nothing; a register named by path is
    made only when a step records, so a failing step leaves none behind."""
    inputs = runs["demo"] / "input"
    location = tmp_path / "programme.sqlite"

    def disk_full(_result: Any) -> None:
        raise OSError(28, "No space left on device")

    with Programme.create(location) as programme:
        with pytest.raises(OSError, match="No space"):
            programme.select(inputs / "dispensings.csv", "2025-12-31", write=disk_full)
        assert not location.exists()
        with pytest.raises(ValueError, match="reference_date"):
            programme.select(inputs / "dispensings.csv")
        assert not location.exists()
        written: list[Any] = []
        result = programme.select(inputs / "dispensings.csv", "2025-12-31", write=written.append)
        assert written == [result]
        assert location.exists()
        assert programme.recorded["rows"] == len(result.table)


def test_selection_result_holds_the_lists_of_the_first_meeting(runs: dict[str, Any]) -> None:
    demo = runs["demo"]
    result = runs["select"]
    read = {"dtype": {"patient_id": str, "gp_id": str}, "encoding": "utf-8-sig"}
    new_users = pd.read_csv(demo / "new_users.csv", **read)
    assert sorted(result.new_users["patient_id"]) == sorted(new_users["patient_id"])
    per_gp = pd.read_csv(demo / "chronic_users_per_gp.csv", **read)
    assert list(result.per_gp["chronic_users"]) == list(per_gp["chronic_users"])
    assert result.chronic_users["excluded_because"].isna().all()
    assert len(result.chronic_users) == int(per_gp["chronic_users"].sum())


def test_the_evaluation_gives_the_aggregate_to_share(runs: dict[str, Any]) -> None:
    evaluation = runs["evaluate"]
    shared = evaluation.aggregate("demo")
    assert set(shared["practice_id"]) == {"demo"}
    assert evaluation.parameters["dispensings"] == "dispensings.csv"
    assert len(evaluation.letters) == len(runs["stop_letters"].letters)


def test_a_damaged_register_is_refused_before_the_step_writes_its_files(tmp_path: Path) -> None:
    """The register is checked before a step computes or writes anything: a step's files never
    appear next to a register that refuses to record them."""
    from benzoredux.models import StopLetter
    from benzoredux.register import RegisterDamagedError

    location = tmp_path / "programme.sqlite"
    with open_register(location, create=True) as register:
        register.record_letters(
            [
                StopLetter(
                    patient_id=f"patient-{n:04d}",
                    gp_ids=("gp1",),
                    letter_date=dt.date(2026, 1, 12),
                    batch=1,
                )
                for n in range(200)
            ],
            by="assistente",
        )
    data = bytearray(location.read_bytes())
    at = data.find(b"patient-0123")
    data[at + len(b"patient-0123") - 1] ^= 0x01
    location.write_bytes(bytes(data))
    written: list[Any] = []
    table = pd.DataFrame({"patient_id": ["p1", "p2"], "gp_id": ["gp1", "gp1"]})
    with (
        Programme.open(location) as programme,
        pytest.raises(RegisterDamagedError, match="register import"),
    ):
        programme.schedule(table, "2026-03-02", write=written.append)
    assert written == []


def test_plan_ticks_off_the_schedules_tasks_per_batch(runs: dict[str, Any]) -> None:
    """The schedule's tasks per batch live only in the register; ``done`` ticks them off too
    (``benzoredux plan --done batch-1-calls``), and an id nobody knows is still refused."""
    with Programme.in_memory(by="assistent") as programme:
        programme.schedule(runs["screen"], DEMO_FIRST_LETTER, slot_times=("09:00", "09:20"))
        with pytest.raises(KeyError, match="nope"):
            programme.plan(letter_date=DEMO_FIRST_LETTER, done=["nope"])
        programme.plan(letter_date=DEMO_FIRST_LETTER, done=["batch-1-calls"])
        assert programme.recorded["batch-1-calls"][0] == "done"
        tasks = {t["task_id"]: t for t in programme.register.current("tasks")}
    assert _status(tasks["batch-1-calls"]["status"]) == "done"
    assert _status(tasks["batch-2-calls"]["status"]) != "done"
    assert "2026-" not in tasks["batch-1-consults"]["what"]  # a Dutch date in the task's text
