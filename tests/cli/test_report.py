"""The plan, evaluate and report commands, and how they continue from the register."""

from __future__ import annotations

import csv
import datetime as dt
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner, Result
from tests.report.conftest import AS_OF, GP_A_NAME, fill_register

from benzoredux.cli import main
from benzoredux.cli.evaluate import letters_from_register
from benzoredux.models import Consult, GeneralPractitioner, LetterKind, Practice, StopLetter
from benzoredux.register import open_register


def run(args: Sequence[Any]) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tasks(register: Path) -> dict[str, Any]:
    with open_register(register) as opened:
        return {t["task_id"]: t for t in opened.current("tasks")}


# --- plan ---------------------------------------------------------------------------------
def test_plan_writes_private_files_and_records_the_tasks(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = run(
        ["plan", "--start-date", "2026-01-05", "--gp", "A. de Vries", "--gp", "B. Bakker",
         "--as-of", "2026-03-01", "--by", "apotheker", "--out", out]
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    for name in ("plan.csv", "plan.xlsx", "plan.ics"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    table = {row["task_id"]: row for row in rows(out / "plan.csv")}
    assert len(table) == 14
    # Bijlage 3: invitations in month 5, the evaluation in month 15.
    assert (table["send-invitations"]["start"], table["send-invitations"]["due"]) == (
        "2026-05-05",
        "2026-06-04",
    )
    assert table["evaluate"]["due"] == "2027-04-04"
    assert table["screen"]["who"] == "huisarts (A. de Vries, B. Bakker)"
    assert table["select"]["who"] == "apotheker"  # not a GP's task
    assert "4 overdue on 2026-03-01" in done.output  # the month-1 tasks (month 2: to 4 March)
    recorded = tasks(out / "programme.sqlite")
    assert set(recorded) == set(table)
    assert recorded["send-invitations"]["month"] == 5
    assert recorded["send-invitations"]["due"] == dt.date(2026, 6, 4)
    assert recorded["screen"].recorded_by == "apotheker"
    assert b"BEGIN:VEVENT" in (out / "plan.ics").read_bytes()


def test_plan_pins_the_letters_and_keeps_what_was_done(tmp_path: Path) -> None:
    out = tmp_path / "results"
    first = run(["plan", "--letter-date", "2026-02-09", "--out", out, "--as-of", "2026-01-10"])
    assert first.exit_code == 0, first.output
    table = {row["task_id"]: row for row in rows(out / "plan.csv")}
    # Letters in month 2: month 1 starts a month before them.
    assert table["select"]["start"] == "2026-01-09"
    assert (table["send-letters"]["start"], table["send-letters"]["due"]) == (
        "2026-02-09",
        "2026-02-09",
    )
    assert table["merge-letters"]["due"] == "2026-02-09"
    marked = run(["plan", "--done", "brief-team", "--out", out])
    assert marked.exit_code == 0, marked.output
    assert "continued from" in marked.output
    again = run(["plan", "--letter-date", "2026-02-09", "--out", out])
    assert again.exit_code == 0, again.output
    recorded = tasks(out / "programme.sqlite")
    assert recorded["brief-team"]["status"] == "done"  # making the plan again did not reopen it
    assert {row["task_id"]: row["status"] for row in rows(out / "plan.csv")}["brief-team"] == "done"
    unknown = run(["plan", "--done", "nope", "--out", out])
    assert unknown.exit_code == 2
    assert "no task 'nope'" in unknown.output


def test_plan_keeps_a_task_someone_ticked_off_while_it_ran(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A change recorded by another user between plan's reading and its recording is kept."""
    from benzoredux.cli import plan as cli_plan

    out = tmp_path / "results"
    assert run(["plan", "--start-date", "2026-01-05", "--out", out]).exit_code == 0
    assert tasks(out / "programme.sqlite")["brief-team"]["status"] == "open"
    write_plan = cli_plan._write_plan

    def assistant_ticks_off_meanwhile(*args: Any) -> Any:
        # While plan writes its files (after reading the register, before recording).
        with open_register(out / "programme.sqlite") as other:
            other.correct(
                "tasks", ("brief-team",), by="assistent", remark="besproken", status="done"
            )
        return write_plan(*args)

    monkeypatch.setattr(cli_plan, "_write_plan", assistant_ticks_off_meanwhile)
    again = run(["plan", "--start-date", "2026-01-05", "--done", "select", "--out", out])
    assert again.exit_code == 0, again.output
    recorded = tasks(out / "programme.sqlite")
    assert recorded["brief-team"]["status"] == "done"
    assert recorded["select"]["status"] == "done"


def test_plan_takes_the_programme_and_progress_from_the_register(
    tmp_path: Path, evaluation: Any
) -> None:
    out = tmp_path / "results"
    with open_register(out / "programme.sqlite", create=True) as register:
        fill_register(register, evaluation)
        register.correct("tasks", ("select",), by="t", remark="again", status="open")
    done = run(["plan", "--out", out, "--as-of", "2026-01-06"])
    assert done.exit_code == 0, done.output
    table = {row["task_id"]: row for row in rows(out / "plan.csv")}
    # Month 1 starts on the programme's reference date; the GPs are the programme's.
    assert table["select"]["start"] == "2025-12-31"
    assert table["screen"]["who"] == f"huisarts ({GP_A_NAME}, B. Bakker)"
    # Selection and screening are in the register; 5 of the 7 eligible patients have a letter.
    assert table["select"]["status"] == "done"
    assert table["screen"]["status"] == "done"
    assert table["send-letters"]["status"] == "in_progress"
    assert table["evaluate"]["status"] == "done"
    assert tasks(out / "programme.sqlite")["select"]["status"] == "done"


def test_plan_reads_an_edited_spreadsheet_back(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert run(["plan", "--start-date", "2026-01-05", "--out", out]).exit_code == 0
    edited = pd.read_excel(out / "plan.xlsx", dtype={"Taakcode": str, "Toelichting": str})
    edited.loc[edited["Taakcode"] == "inform-public", "Status"] = "overgeslagen"
    edited.loc[edited["Taakcode"] == "inform-public", "Toelichting"] = "geen krant dit jaar"
    edited.to_excel(tmp_path / "edited.xlsx", index=False)
    done = run(["plan", "--edited", tmp_path / "edited.xlsx", "--out", out])
    assert done.exit_code == 0, done.output
    recorded = tasks(out / "programme.sqlite")
    assert recorded["inform-public"]["status"] == "skipped"
    assert recorded["inform-public"]["note"] == "geen krant dit jaar"


def test_plan_reads_its_formula_safe_csv_back_as_written(tmp_path: Path) -> None:
    """plan.csv has '=... for a note starting with =; read back, the note is the text again."""
    out = tmp_path / "results"
    assert run(["plan", "--start-date", "2026-01-05", "--out", out]).exit_code == 0
    table = pd.read_csv(out / "plan.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table.loc[table["task_id"] == "inform-public", "note"] = "=1+1"
    edited = tmp_path / "edited.csv"
    from benzoredux.output import write_csv

    write_csv(table, edited)
    assert "'=1+1" in edited.read_text(encoding="utf-8-sig")
    done = run(["plan", "--edited", edited, "--out", out])
    assert done.exit_code == 0, done.output
    assert tasks(out / "programme.sqlite")["inform-public"]["note"] == "=1+1"
    written = {row["task_id"]: row for row in rows(out / "plan.csv")}
    assert written["inform-public"]["note"] == "'=1+1"


def test_plan_without_a_start_says_what_to_give(tmp_path: Path) -> None:
    done = run(["plan", "--out", tmp_path / "results"])
    assert done.exit_code == 2
    assert "give --start-date" in done.output


# --- evaluate -----------------------------------------------------------------------------
def _evaluation_inputs(tmp_path: Path) -> tuple[Path, Path]:
    ids = [f"PX{i:05d}" for i in range(10)]
    dispensings = tmp_path / "dispensings.csv"
    lines = [f"{p},2025-12-01,N05BA04,90" for p in ids] + [
        f"{p},2026-06-01,N05BA04,30" for p in ids[:3]
    ]
    dispensings.write_text("patient_id,date,atc,quantity\n" + "\n".join(lines) + "\n")
    register = tmp_path / "results" / "programme.sqlite"
    with open_register(register, create=True) as opened:
        opened.set_programme(
            Practice(
                practice_id="p",
                name="P",
                gps=[
                    GeneralPractitioner(gp_id="gp-a", name="A"),
                    GeneralPractitioner(gp_id="gp-b", name="B"),
                ],
            ),
            reference_date=dt.date(2025, 12, 31),
            by="t",
        )
        opened.record_letters(
            [StopLetter(patient_id=p, gp_ids=["gp-a" if i < 6 else "gp-b"],
                        letter_date=dt.date(2026, 1, 15), batch=1) for i, p in enumerate(ids)]
            + [StopLetter(patient_id=p, kind=LetterKind.INVITATION, gp_ids=["gp-a"],
                          letter_date=dt.date(2026, 4, 15), batch=1) for p in ids[:4]],
            by="t",
        )  # fmt: skip
        for i, attended in ((0, True), (1, True), (2, False)):
            opened.record_consult(
                Consult(patient_id=ids[i], date=dt.date(2026, 5, 1), held_by="poh_ggz",
                        attended=attended, outcome="tapering" if i == 0 else None),
                by="t",
            )  # fmt: skip
        # A second stop letter, forced: the patient's follow-up still starts at the first.
        second = dt.date(2026, 3, 2)
        opened.record_letters(
            [StopLetter(patient_id=ids[0], gp_ids=["gp-a"], letter_date=second, batch=2)],
            by="t",
            force={ids[0]: "address was wrong"},
        )  # fmt: skip
    return dispensings, register


def test_letters_from_register_take_the_first_stop_letter(tmp_path: Path) -> None:
    _, register = _evaluation_inputs(tmp_path)
    with open_register(register) as opened:
        table = letters_from_register(opened)
    assert len(table) == 10
    first = table[table["patient_id"] == "PX00000"].iloc[0]
    assert first["letter_date"] == pd.Timestamp("2026-01-15")
    assert first["invitation_date"] == pd.Timestamp("2026-04-15")
    assert table["invitation_date"].notna().sum() == 4
    assert table.groupby("gp_id").size().to_dict() == {"gp-a": 6, "gp-b": 4}


def test_evaluate_takes_the_letters_from_the_register_and_records_the_run(tmp_path: Path) -> None:
    dispensings, register = _evaluation_inputs(tmp_path)
    out = tmp_path / "results" / "evaluation"
    args = ["evaluate", "--dispensings", dispensings, "--evaluation-date", "2026-12-31",
            "--out", out, "--by", "apotheker"]  # fmt: skip
    done = run(args)
    assert done.exit_code == 0, done.output
    assert f"10 stop letter(s) from the register {register}" in done.output
    assert "short_term_stop: 70% of 10" in done.output
    assert "evaluation evaluation-2026-12-31 recorded (revision 1)" in done.output
    with open_register(register) as opened:
        runs = opened.current("evaluations")
    assert len(runs) == 1
    run_entry = runs[0]
    assert run_entry.recorded_by == "apotheker"
    assert run_entry["run_date"] == dt.date(2026, 12, 31)
    total = [
        r
        for r in run_entry["results"]["effect_summary"]
        if r["level"] == "total" and r["measure"] == "short_term_stop"
    ]
    assert (total[0]["events"], total[0]["evaluated"]) == (7, 10)
    process_total = run_entry["results"]["process"][-1]
    assert (process_total["letters_sent"], process_total["invitations_sent"]) == (10, 4)
    # The consults come from the register too: 2 held, 1 missed, 2 of the 4 invited came.
    assert "3 consult(s) from the register" in done.output
    assert (process_total["consults_held"], process_total["consults_missed"]) == (2, 1)
    assert process_total["attendance"] == 0.5
    assert "PX0" not in repr(run_entry.data)  # aggregates only
    again = run(args)
    assert again.exit_code == 0, again.output
    assert "already recorded" in again.output
    with open_register(register) as opened:
        assert len(opened.history("evaluations")) == 1


def test_evaluate_with_a_letters_file_records_next_to_it(tmp_path: Path) -> None:
    dispensings, _ = _evaluation_inputs(tmp_path)
    letters = tmp_path / "other" / "schedule.csv"
    letters.parent.mkdir()
    letters.write_text("patient_id,gp_id,letter_date\nPX00001,gp-a,2026-01-15\n")
    done = run(["evaluate", letters, "--dispensings", dispensings,
                "--evaluation-date", "2026-12-31", "--out", tmp_path / "ev"])  # fmt: skip
    assert done.exit_code == 0, done.output
    with open_register(tmp_path / "other" / "programme.sqlite") as opened:
        assert opened.current("evaluations")[0]["parameters"]["letters"] == "schedule.csv"


def test_evaluate_without_letters_or_register_says_what_to_give(tmp_path: Path) -> None:
    dispensings = tmp_path / "d.csv"
    dispensings.write_text("patient_id,date,atc,quantity\nPX1,2025-01-01,N05BA04,30\n")
    base = ["evaluate", "--dispensings", dispensings, "--evaluation-date", "2026-12-31"]
    missing = run([*base, "--out", tmp_path / "ev"])
    assert missing.exit_code == 2
    assert "give LETTERS (schedule.csv) or --register" in missing.output
    refused = run([*base, "--no-register", "--out", tmp_path / "ev"])
    assert refused.exit_code == 2
    empty = tmp_path / "empty.sqlite"
    open_register(empty, create=True).close()
    nothing = run([*base, "--register", empty, "--out", tmp_path / "ev"])
    assert nothing.exit_code == 2
    assert "has no stop letters yet" in nothing.output


# --- report -------------------------------------------------------------------------------
def test_report_reads_the_folder_and_its_register(folder: Path, register_path: Path) -> None:
    done = run(["report", "--out", folder, "--as-of", AS_OF.isoformat()])
    assert done.exit_code == 0, done.output
    assert f"and the register {register_path}" in done.output
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "B. Bakker" in text  # the programme's GP names come from the register
    assert stat.S_IMODE((folder / "report.html").stat().st_mode) == 0o600
    files_only = run(["report", folder, "--no-register", "--out", folder / "meeting",
                      "--title", "FTO 12 maart"])  # fmt: skip
    assert files_only.exit_code == 0, files_only.output
    meeting = (folder / "meeting" / "report.html").read_text(encoding="utf-8")
    assert "B. Bakker" not in meeting
    assert "<title>FTO 12 maart</title>" in meeting


def test_report_help_has_an_example() -> None:
    for command in ("report", "plan", "evaluate"):
        shown = run([command, "--help"])
        assert shown.exit_code == 0
        assert f"benzoredux {command} " in shown.output
        assert "Example" in shown.output


def test_report_on_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    done = run(["report", "--out", tmp_path / "nope"])
    assert done.exit_code == 2
    assert "no such folder" in done.output


def test_plan_skip_invalid_keeps_the_tasks_of_unusable_rows_as_they_were(tmp_path: Path) -> None:
    """Issue 17: --skip-invalid on every command that reads input, the edited plan too. A row
    that cannot be read is left out of the edit (listed, counted, recorded) and its task kept
    as it was before, so the written plan still shows it to correct; the other rows' edits
    are taken."""
    out = tmp_path / "results"
    assert run(["plan", "--start-date", "2026-01-05", "--out", out]).exit_code == 0
    before = tasks(out / "programme.sqlite")
    edited = pd.read_excel(out / "plan.xlsx", dtype={"Taakcode": str, "Toelichting": str})
    edited.loc[edited["Taakcode"] == "inform-public", "Status"] = "overgeslagen"
    edited.loc[edited["Taakcode"] == "brief-team", "Status"] = "klaar?"  # no status
    edited.loc[edited["Taakcode"] == "screen", "Status"] = "klaar"
    edited["Uiterlijk"] = edited["Uiterlijk"].astype(object)
    edited.loc[edited["Taakcode"] == "screen", "Uiterlijk"] = "31-02-2026"  # no date
    edited.to_excel(tmp_path / "edited.xlsx", index=False)
    refused = run(["plan", "--edited", tmp_path / "edited.xlsx", "--out", out])
    assert refused.exit_code == 3, refused.output
    assert "--skip-invalid" in refused.output
    assert "The plan was not changed" in refused.output
    assert tasks(out / "programme.sqlite")["inform-public"]["status"] == "open"
    done = run(["plan", "--edited", tmp_path / "edited.xlsx", "--skip-invalid", "--out", out])
    assert done.exit_code == 0, done.output
    assert "2 row(s) could not be used and were left out" in done.output
    recorded = tasks(out / "programme.sqlite")
    assert recorded["inform-public"]["status"] == "skipped"
    assert recorded["brief-team"]["status"] == before["brief-team"]["status"]
    assert recorded["screen"]["status"] == before["screen"]["status"]
    written = {row["task_id"]: row for row in rows(out / "plan.csv")}
    assert {"brief-team", "screen", "inform-public"} <= set(written)
    assert written["screen"]["due"] == str(before["screen"]["due"])
    rejected = rows(out / "rejected.csv")
    assert sorted((r["record"], r["source_column"]) for r in rejected) == sorted(
        [
            (f"row {edited.index[edited['Taakcode'] == 'brief-team'][0] + 2}", "Status"),
            (f"row {edited.index[edited['Taakcode'] == 'screen'][0] + 2}", "Uiterlijk"),
        ]
    )
    with open_register(out / "programme.sqlite") as register:
        programme = register.programme()
    assert programme is not None
    assert programme["options"]["plan_input"] == {"rows_rejected": 2, "problems": 2}
