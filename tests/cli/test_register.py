"""``benzoredux register init|show|export|import``."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from benzoredux.cli import EXIT_DATA_ERROR, main
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
