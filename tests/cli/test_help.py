"""Every command explains itself with examples, exit codes mean what the docstring of
:mod:`benzoredux.cli.app` says, ``python -m benzoredux`` is the same command line, and progress
bars show only on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from benzoredux.cli import (
    EXIT_DATA_ERROR,
    EXIT_FILE_ERROR,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    main,
)
from benzoredux.cli import app as cli_app
from benzoredux.cli import progress as cli_progress


def walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(main, ("benzoredux",)))


def test_the_expected_commands_are_there() -> None:
    names = {name for name, _ in COMMANDS}
    for wanted in (
        "select", "screen", "letters", "schedule", "plan", "evaluate", "report", "plugins",
        "demo", "register",
    ):  # fmt: skip
        assert f"benzoredux {wanted}" in names, wanted


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_help_has_an_example_that_names_its_command(
    name: str, command: click.Command
) -> None:
    args = name.split()[1:]
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == EXIT_OK, result.output
    assert "Example" in result.output, name
    example = result.output.split("Example", 1)[1]
    assert name in example, f"{name}: the example does not show the command itself"


def test_exit_codes_are_documented_in_the_module_docstring() -> None:
    doc = cli_app.__doc__ or ""
    for code in (EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_DATA_ERROR, EXIT_FILE_ERROR):
        assert f"\n{code}  " in doc, code
    assert (EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_DATA_ERROR, EXIT_FILE_ERROR) == (
        0, 1, 2, 3, 4,
    )  # fmt: skip


def _dispensings(tmp_path: Path) -> Path:
    source = tmp_path / "dispensings.csv"
    source.write_text(
        "patient_id,date,atc,quantity\np1,2025-03-01,N05BA04,60\np1,2025-09-01,N05BA04,60\n",
        encoding="utf-8",
    )
    return source


def test_exit_0_when_done(tmp_path: Path) -> None:
    args = ["--reference-date", "2025-12-31", "--out", str(tmp_path / "o"), "--no-register"]
    result = CliRunner().invoke(main, ["select", str(_dispensings(tmp_path)), *args])
    assert result.exit_code == EXIT_OK, result.output


def test_exit_2_on_wrong_usage(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["select", str(_dispensings(tmp_path)), "--out", "o"])
    assert missing.exit_code == EXIT_USAGE
    assert "--reference-date" in missing.output
    no_file = runner.invoke(
        main, ["select", "nowhere.csv", "--reference-date", "2025-12-31", "--out", "o"]
    )
    assert no_file.exit_code == EXIT_USAGE
    unknown = runner.invoke(main, ["no-such-command"])
    assert unknown.exit_code == EXIT_USAGE


def test_exit_3_on_bad_data(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("patient_id,date,atc,quantity\np1,31-12-2025,N05BA04,60\n")
    result = CliRunner().invoke(
        main, ["select", str(source), "--reference-date", "2025-12-31", "--out", str(tmp_path)]
    )
    assert result.exit_code == EXIT_DATA_ERROR
    assert "line 2" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_exit_4_when_a_file_cannot_be_written(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = CliRunner().invoke(
        main,
        [
            "select", str(_dispensings(tmp_path)), "--reference-date", "2025-12-31",
            "--out", str(locked / "out"), "--no-register",
        ],
    )  # fmt: skip
    assert result.exit_code == EXIT_FILE_ERROR, result.output


def test_exit_4_on_an_os_error_and_1_on_anything_unexpected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mapping itself, whoever runs the tests (root may write into a read-only folder).
    import benzoredux.output

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(benzoredux.output, "write_csv", disk_full)
    args = ["--reference-date", "2025-12-31", "--out", str(tmp_path / "o"), "--no-register"]
    result = CliRunner().invoke(main, ["select", str(_dispensings(tmp_path)), *args])
    assert result.exit_code == EXIT_FILE_ERROR, result.output
    assert "No space left on device" in result.output

    def bug(*_args: object, **_kwargs: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(benzoredux.output, "write_csv", bug)
    result = CliRunner().invoke(main, ["select", str(_dispensings(tmp_path)), *args])
    assert result.exit_code == EXIT_UNEXPECTED
    assert "--debug" in result.output


def test_python_dash_m_benzoredux_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benzoredux", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert "Usage:" in done.stdout
    assert "demo" in done.stdout
    assert "Exit codes" in done.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli_progress.NO_PROGRESS_VARIABLE, raising=False)
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with cli_progress.progress_bar("Letters", length=3) as bar:
        bar.update(3)
    assert piped.getvalue() == ""

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli_progress.shows_progress()
    with cli_progress.progress_bar("Letters", length=3) as bar:
        bar.update(3)
    assert "Letters" in terminal.getvalue()
    assert "3/3" in terminal.getvalue()

    monkeypatch.setenv(cli_progress.NO_PROGRESS_VARIABLE, "1")
    silent = _Terminal()
    monkeypatch.setattr(sys, "stderr", silent)
    with cli_progress.progress_bar("Letters", length=3) as bar:
        bar.update(3)
    assert silent.getvalue() == ""
