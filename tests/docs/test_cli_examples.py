"""The command lines on the getting-started pages work as the pages say.

The practice page (``docs/start/practice.rst``) walks a practice through the whole programme on
the command line. This test reads the page's ``console`` blocks, runs every ``$ benzoredux ...``
line in order with click's ``CliRunner`` in a temporary folder (``$ cp ...`` lines are done with
``shutil``; any other command is an error, so the page cannot drift into steps nobody runs),
writes the files the page asks the reader to create (code blocks with a ``:caption:`` naming a
file, such as ``practice.toml``), and checks that each command exits with 0 and that every file
or folder the page names under ``results/`` or ``benzoredux-demo/`` exists afterwards.

Two things keep the run to a few seconds without changing what the commands do: LibreOffice is
kept off the ``PATH`` (``letters`` then writes Word files only, its documented fallback), and the
demo practice is made with fewer listed patients per GP (the same generator, the same chain).

With ``BENZOREDUX_GUIDE_EXECUTABLE`` set to a ``benzoredux`` program (CI installs one from a
wheel into a fresh virtual environment, as the page's "Install" section says), every
``$ benzoredux ...`` line runs as that program in a process of its own instead, with the demo at
its full size: the page as a practice runs it.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import benzoredux.demo
from benzoredux.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "docs" / "start" / "practice.rst",)
OUTPUT_ROOTS = ("results/", "benzoredux-demo/")
EXECUTABLE = os.environ.get("BENZOREDUX_GUIDE_EXECUTABLE")
"""A ``benzoredux`` program to run the page's commands with (see the module docstring)."""
DEMO_PATIENTS_PER_GP = 700
"""Listed patients per GP of the demo practice in this test (the command's default is 2,350)."""

# Commands the page documents before they exist in this tree: name -> why. Each listed command
# is expected to fail (strict xfail), so the entry must go as soon as the command works.
NOT_YET: dict[str, str] = {}

DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: *(?P<language>\S+)\s*$")
LITERAL = re.compile(r"``(?P<path>[^`\s]+)``")


def code_blocks(rst: str) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """Each ``code-block`` of ``rst``: its language, options and (dedented) lines."""
    lines = rst.splitlines()
    for number, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        indent = len(match["indent"]) + 3
        options: dict[str, str] = {}
        body: list[str] = []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) < indent:
                break
            text = following[indent:]
            option = re.match(r"^:(?P<name>[\w-]+):(?: +(?P<value>.*))?$", text)
            if option and not body:
                options[option["name"]] = option["value"] or ""
            else:
                body.append(text)
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        yield match["language"], options, body


def console_commands(rst: str) -> list[str]:
    """The ``$ `` command lines of the page's console blocks, continuation lines joined."""
    commands: list[str] = []
    for language, _, body in code_blocks(rst):
        if language != "console":
            continue
        current: str | None = None
        for line in body:
            if current is None:
                if not line.startswith("$ "):
                    continue  # output shown on the page
                current = line[2:]
            else:
                current += " " + line.strip()
            if current.endswith("\\"):
                current = current[:-1].rstrip()
                continue
            commands.append(current)
            current = None
        assert current is None, f"a command ends with a line continuation: {current!r}"
    return commands


def files_to_create(rst: str) -> dict[str, str]:
    """Files the reader is asked to write: code blocks captioned with a file name."""
    files = {}
    for _, options, body in code_blocks(rst):
        caption = options.get("caption", "")
        if re.fullmatch(r"[\w.-]+\.\w+", caption):
            files[caption] = "\n".join(body) + "\n"
    return files


def named_outputs(rst: str) -> list[str]:
    """Every ``results/...`` or ``benzoredux-demo/...`` path the page names, in order."""
    found: list[str] = []
    for match in LITERAL.finditer(rst):
        path = match["path"]
        if path.startswith(OUTPUT_ROOTS) and path not in found:
            found.append(path)
    return found


def test_extraction_reads_console_blocks() -> None:
    rst = (
        "Text.\n\n"
        ".. code-block:: console\n\n"
        "   $ benzoredux select a.csv \\\n"
        "         --out results\n"
        "   Written (readable by you only):\n"
        "   $ cp x y\n\n"
        ".. code-block:: toml\n"
        "   :caption: practice.toml\n\n"
        '   name = "X"\n\n'
        "See ``results/chronic_users.csv`` and ``benzoredux-demo/``, not ``other.csv``.\n"
    )
    assert console_commands(rst) == ["benzoredux select a.csv --out results", "cp x y"]
    assert files_to_create(rst) == {"practice.toml": 'name = "X"\n'}
    assert named_outputs(rst) == ["results/chronic_users.csv", "benzoredux-demo/"]


def _copy(arguments: list[str]) -> None:
    *sources, target = arguments
    destination = Path(target)
    for source in sources:
        shutil.copy(source, destination / Path(source).name if destination.is_dir() else target)


def _run_page(page: Path, folder: Path) -> list[tuple[str, Any]]:
    rst = page.read_text(encoding="utf-8")
    for name, text in files_to_create(rst).items():
        (folder / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    outcomes: list[tuple[str, Any]] = []
    for command in console_commands(rst):
        argv = shlex.split(command)
        if argv[0] == "cp":
            try:
                _copy(argv[1:])
                outcomes.append((command, None))
            except OSError as error:
                outcomes.append((command, error))
            continue
        assert argv[0] == "benzoredux", f"{page.name}: the test cannot run {command!r}"
        if EXECUTABLE:
            outcomes.append((command, _run_installed(EXECUTABLE, argv[1:], folder)))
        else:
            outcomes.append((command, runner.invoke(main, argv[1:])))
    return outcomes


class _Finished:
    """A finished process, read like click's ``Result``."""

    def __init__(self, process: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = process.returncode
        self.output = process.stdout + process.stderr
        self.exception = None


def _run_installed(executable: str, arguments: list[str], folder: Path) -> _Finished:
    return _Finished(
        subprocess.run(
            [executable, *arguments],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            env=os.environ.copy(),
        )
    )


@pytest.fixture(scope="module")
def practice_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, Any]]]:
    folder = tmp_path_factory.mktemp("practice-page")
    no_office = tmp_path_factory.mktemp("no-libreoffice")
    full_size = benzoredux.demo.demo_practice

    def smaller(**options: Any) -> Any:
        return full_size(**{"patients_per_gp": DEMO_PATIENTS_PER_GP, **options})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(benzoredux.demo, "demo_practice", smaller)
        patch.chdir(folder)
        patch.setenv("PATH", str(no_office))
        patch.setenv("BENZOREDUX_NO_PROGRESS", "1")
        outcomes = _run_page(PAGES[0], folder)
    return folder, outcomes


def _command_name(command: str) -> str:
    argv = shlex.split(command)
    return argv[1] if argv[0] == "benzoredux" and len(argv) > 1 else argv[0]


def _marks(command: str) -> list[pytest.MarkDecorator]:
    reason = NOT_YET.get(_command_name(command))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


PRACTICE_RST = PAGES[0].read_text(encoding="utf-8")
COMMANDS = console_commands(PRACTICE_RST)


def test_the_practice_page_shows_the_whole_chain() -> None:
    names = [_command_name(c) for c in COMMANDS]
    for step in ("demo", "select", "screen", "schedule", "letters", "plan", "evaluate", "report"):
        assert step in names, f"docs/start/practice.rst shows no `benzoredux {step}`"


@pytest.mark.parametrize(
    ("number", "command"),
    [
        pytest.param(n, c, id=f"{n:02d}-{_command_name(c)}", marks=_marks(c))
        for n, c in enumerate(COMMANDS)
    ],
)
def test_command_on_the_practice_page_succeeds(
    practice_run: tuple[Path, list[tuple[str, Any]]], number: int, command: str
) -> None:
    ran, result = practice_run[1][number]
    assert ran == command
    if result is None:
        return
    if isinstance(result, OSError):
        pytest.fail(f"{command}: {result}")
    assert result.exit_code == 0, (
        f"`{command}` exited with {result.exit_code}:\n{result.output}\n{result.exception!r}"
    )


def _output_marks(path: str) -> list[pytest.MarkDecorator]:
    stem = Path(path).name.split(".")[0]
    reason = NOT_YET.get(stem)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p, marks=_output_marks(p)) for p in named_outputs(PRACTICE_RST)],
)
def test_file_named_on_the_practice_page_is_written(
    practice_run: tuple[Path, list[tuple[str, Any]]], path: str
) -> None:
    folder = practice_run[0]
    matches = glob.glob(str(folder / path))
    assert matches, f"docs/start/practice.rst names {path}, but the commands did not write it"
    # The page promises that every file with patient data is readable by you only.
    for match in map(Path, matches):
        if match.is_file():
            assert match.stat().st_mode & 0o077 == 0, f"{match} is readable by others"
