"""``benzoredux register init|show|export|import``."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from click.testing import CliRunner

from benzoredux.cli import EXIT_DATA_ERROR, main
from benzoredux.models import StopLetter
from benzoredux.register import open_register


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_init_show_export_import(tmp_path: Path) -> None:
    path = tmp_path / "programme.sqlite"
    code, output = run(
        "register", "init", str(path), "--name", "FTO Noord 2026", "--practice-id", "fto-noord",
        "--reference-date", "2025-12-31", "--unit", "fto_group",
        "--gp", "gp1=dr. A. Jansen", "--gp", "gp2=dr. B. de Vries", "--by", "apotheker",
    )  # fmt: skip
    assert code == 0, output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open_register(path) as register:
        programme = register.programme()
        assert programme is not None
        assert programme.recorded_by == "apotheker"
        assert [g["gp_id"] for g in programme["gps"]] == ["gp1", "gp2"]
        assert programme["unit"] == "fto_group"

    code, output = run("register", "show", str(path))
    assert code == 0, output
    assert "programme: FTO Noord 2026" in output
    assert "stop letters: 0" in output
    assert "integrity: ok" in output

    code, output = run("register", "export", str(path), str(tmp_path / "out"), "--no-xlsx")
    assert code == 0, output
    assert (tmp_path / "out" / "register.json").exists()
    assert not (tmp_path / "out" / "register.xlsx").exists()

    copy = tmp_path / "copy.sqlite"
    code, output = run("register", "import", str(tmp_path / "out"), str(copy))
    assert code == 0, output
    assert "Imported 1 entries" in output
    with open_register(copy) as register, open_register(path) as original:
        assert register.history("programme") == original.history("programme")


def test_init_refuses_an_existing_file_and_bad_gps(tmp_path: Path) -> None:
    path = tmp_path / "programme.sqlite"
    path.write_text("mine")
    base = ["register", "init", str(path), "--name", "x", "--practice-id", "p",
            "--reference-date", "2025-12-31"]  # fmt: skip
    code, output = run(*base)
    assert code == 2
    assert "already exists" in output
    assert path.read_text() == "mine"
    code, output = run(*base[:2], str(tmp_path / "new.sqlite"), *base[3:], "--gp", "gp1")
    assert code == 2
    assert "'gp1' is not ID=NAME" in output


def test_show_on_a_missing_register_is_a_readable_error(tmp_path: Path) -> None:
    code, output = run("register", "show", str(tmp_path / "typo.sqlite"))
    assert code == EXIT_DATA_ERROR
    assert "no register here" in output


def test_a_step_refuses_a_damaged_register_and_says_how_to_restore_it(tmp_path: Path) -> None:
    """A command that writes (here ``plan``) on a register with one flipped byte in a letter
    row exits with 3 and the way out; ``register show`` still reads it and names the damage."""
    path = tmp_path / "programme.sqlite"
    letters = [
        StopLetter(patient_id=f"patient-{n:04d}", gp_ids=["gp1"], letter_date=dt.date(2026, 2, 2))
        for n in range(200)
    ]
    with open_register(path, create=True) as register:
        register.record_letters(letters, by="assistente")
    data = bytearray(path.read_bytes())
    at = data.find(b"patient-0123")
    assert at >= 0
    data[at + 11] ^= 0x01
    path.write_bytes(bytes(data))
    code, output = run(
        "plan", "--start-date", "2026-01-05", "--out", str(tmp_path / "out"),
        "--register", str(path),
    )  # fmt: skip
    assert code == EXIT_DATA_ERROR, output
    assert "the register is damaged" in output
    assert "benzoredux register import" in output
    code, output = run("register", "show", str(path))
    assert code == 0, output
    assert "integrity: ok" not in output
