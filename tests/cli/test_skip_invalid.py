"""Issue 17: ``--skip-invalid`` on every command that reads a practice's files (select, screen,
letters, evaluate). Without it one unusable row stops the command and the refusal names the
option; with it the usable rows go on, the others are listed owner-only in ``rejected.csv`` in
the output folder with file, line, column and reason, the counts are said and recorded."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from benzoredux.cli import EXIT_DATA_ERROR, main
from benzoredux.register import open_register

PRACTICE = """
practice_id = "noord"
name = "Huisartsenpraktijk Noord"
address = "Kerkpad 1, 3431 AA Nieuwegein"
phone = "030-1234567"

[[gps]]
gp_id = "G1"
name = "A. de Vries"
"""

SELECTION = (
    "patient_id,gp_id,status,units,dispensings,complex_comedication,first_date,last_date\n"
    "p1,G1,listed,200,4,0,2025-01-01,2025-12-01\n"
    "p2,G1,listed,200,4,0,2025-01-01,2025-12-01\n"
    "p3,G1,listed,200,4,0,2025-01-01,2025-12-01\n"
)

PATIENTS_HEADER = (
    "patient_id,gp_id,birth_date,sex,initials,family_name,street,house_number,postcode,city,"
    "status,status_date,palliative,dutch_language,immobile,serious_comorbidity\n"
)


def _patient(pid: str, birth: str = "1960-05-01") -> str:
    return f"{pid},G1,{birth},F,J.,Jansen,Kerkweg,12,3431 AA,Nieuwegein,active,,0,1,0,0\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _recorded(register: Path, step: str) -> dict[str, int]:
    with open_register(register) as opened:
        programme = opened.programme()
    assert programme is not None
    return dict(programme["options"][f"{step}_input"])


def _refused_then_skipped(
    command: list[str], out: Path, register: Path, nothing: str
) -> tuple[Result, list[dict[str, str]]]:
    """The command refuses without the option (naming it) and writes nothing; with it, it goes
    on and lists the rows it left out, owner-only."""
    refused = _run(*command, "--out", str(out / "a"), "--register", str(out / "a.sqlite"))
    assert refused.exit_code == EXIT_DATA_ERROR, refused.output
    assert "--skip-invalid" in refused.output
    assert nothing in refused.output
    assert not (out / "a" / "rejected.csv").exists()
    assert not (out / "a.sqlite").exists()  # a refused step leaves no register behind
    done = _run(*command, "--skip-invalid", "--out", str(out / "b"), "--register", str(register))
    assert done.exit_code == 0, done.output
    listed = out / "b" / "rejected.csv"
    assert stat.S_IMODE(listed.stat().st_mode) == 0o600
    return done, _rows(listed)


def test_screen_goes_on_without_a_patients_row_that_cannot_be_read(tmp_path: Path) -> None:
    selection = _write(tmp_path / "chronic_users.csv", SELECTION)
    patients = _write(
        tmp_path / "patients.csv",
        PATIENTS_HEADER + _patient("p1") + _patient("p2", "1950-02-31") + _patient("p3"),
    )
    episodes = _write(
        tmp_path / "episodes.csv",
        "patient_id,icpc,start,end\np1,P06,2024-01-01,\np3,P06,2024-13-01,\n",
    )
    register = tmp_path / "programme.sqlite"
    done, rejected = _refused_then_skipped(
        [
            "screen", str(selection), "--reference-date", "2025-12-31",
            "--patients", str(patients), "--episodes", str(episodes),
        ],
        tmp_path,
        register,
        "Nothing was screened",
    )  # fmt: skip
    assert "2 row(s) could not be used and were left out" in done.output
    assert [(r["file"], r["line"], r["column"]) for r in rejected] == [
        ("patients.csv", "3", "birth_date"),
        ("episodes.csv", "3", "start"),
    ]
    assert "1950-02-31" not in done.output  # a birth date is never shown
    screened = {r["patient_id"]: r for r in _rows(tmp_path / "b" / "screening.csv")}
    assert set(screened) == {"p1", "p2", "p3"}  # p2 stays in the programme, for review
    assert _recorded(register, "screen") == {"rows_rejected": 2, "problems": 2}


def test_letters_go_on_without_a_patients_row_and_say_whom_they_skipped(tmp_path: Path) -> None:
    screening = _write(
        tmp_path / "screening.csv",
        "patient_id,gp_id,excluded\np1,G1,False\np2,G1,False\np3,G1,False\n",
    )
    patients = _write(
        tmp_path / "patients.csv",
        PATIENTS_HEADER + _patient("p1") + _patient("p2", "01-05-1960") + _patient("p3"),
    )
    practice = _write(tmp_path / "practice.toml", PRACTICE)
    register = tmp_path / "programme.sqlite"
    done, rejected = _refused_then_skipped(
        [
            "letters", str(screening), "--patients", str(patients), "--practice", str(practice),
            "--letter-date", "2026-01-12", "--pdf", "no",
        ],
        tmp_path,
        register,
        "No letter was written",
    )  # fmt: skip
    assert [(r["line"], r["column"]) for r in rejected] == [("3", "birth_date")]
    assert "2 stop letter(s)" in done.output
    assert "skipped p2" in done.output
    assert _recorded(register, "letters") == {"rows_rejected": 1, "problems": 1}
    with open_register(register) as opened:
        assert sorted(e["patient_id"] for e in opened.letters()) == ["p1", "p3"]


def test_evaluate_goes_on_without_unusable_dispensings_and_consults(tmp_path: Path) -> None:
    letters = _write(
        tmp_path / "letters.csv",
        "patient_id,gp_id,letter_date,invitation_date\n"
        + "".join(f"p{i},G1,2025-01-15,2025-04-15\n" for i in range(4)),
    )
    dispensings = _write(
        tmp_path / "dispensings.csv",
        "patient_id,date,atc,quantity,strength_mg\n"
        + "".join(f"p{i},2024-12-01,N05BA04,90,10\n" for i in range(4))
        + "p0,2025-06-01,N05BA04,30,10\n"
        + "p1,2025-06-31,N05BA04,30,10\n"  # no such day: left out
        + "p2,2025-06-01,N05BA04,3O,10\n",  # a letter O for a zero
    )
    consults = _write(
        tmp_path / "consults.csv",
        "patient_id,date,held_by,contact\np0,2025-04-20,gp,in_person\np1,20-04-2025,gp,phone\n",
    )
    register = tmp_path / "programme.sqlite"
    done, rejected = _refused_then_skipped(
        [
            "evaluate", str(letters), "--dispensings", str(dispensings),
            "--consults", str(consults), "--evaluation-date", "2025-12-31",
        ],
        tmp_path,
        register,
        "Nothing was evaluated",
    )  # fmt: skip
    assert sorted((r["file"], r["line"], r["column"]) for r in rejected) == [
        ("consults.csv", "3", "date"),
        ("dispensings.csv", "7", "date"),
        ("dispensings.csv", "8", "quantity"),
    ]
    # p1 and p2's later dispensings are gone, so only p0 did not stop: 3 of 4.
    assert "short_term_stop: 75% of 4" in done.output
    assert _recorded(register, "evaluate") == {"rows_rejected": 3, "problems": 3}


@pytest.mark.parametrize("flag", [[], ["--skip-invalid"]])
def test_a_clean_canonical_file_gives_the_same_selection_with_or_without_it(
    tmp_path: Path, flag: list[str]
) -> None:
    """--skip-invalid reads a canonical file by the canonical rules: it leaves out only what
    cannot be used. (It used to route the file through the export reader, which drops exact
    duplicates: two identical dispensings on one day are two packs, and count.)"""
    source = _write(
        tmp_path / "dispensings.csv",
        "patient_id,date,atc,quantity\n"
        "p1,2025-03-01,N05BA04,50\n"
        "p1,2025-03-01,N05BA04,50\n"
        "p1,2025-09-01,N05BA04,10\n",
    )
    out = tmp_path / "out"
    done = _run(
        "select", str(source), "--reference-date", "2025-12-31", "--out", str(out),
        "--no-register", *flag,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    chronic = _rows(out / "chronic_users.csv")
    assert [(r["patient_id"], float(r["units"])) for r in chronic] == [("p1", 110.0)]
