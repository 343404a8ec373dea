"""The practice file is checked before any letter is made (issue 17, "Doubled role in the
signature"): a role inside a name, missing and unknown keys, wrong types, each named by file,
entry and key; the practice guide's own example passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from benzoredux.cli import main
from benzoredux.cli.steps import read_practice as cli_read_practice
from benzoredux.practice_file import PracticeFileError, read_practice, role_in_name

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
practice_id = "de-linde"
name = "Huisartsenpraktijk De Linde"
address = "Lindelaan 12, 7411 AB Deventer"
phone = "0570-123456"
place = "Deventer"

[[gps]]
gp_id = "huisarts-1"
name = "A. de Vries"
agb_code = "01234567"

[[gps]]
gp_id = "huisarts-2"
name = "B. Yilmaz"

[[pharmacists]]
pharmacist_id = "apotheek-1"
name = "M. Jansen"
pharmacy_name = "Apotheek De Brug"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practice.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(PracticeFileError) as caught:
        read_practice(write(tmp_path, text))
    assert str(caught.value).startswith("practice.toml: ")
    return caught.value.problems


def guide_practice_toml() -> str:
    rst = (ROOT / "docs" / "start" / "practice.rst").read_text(encoding="utf-8")
    block = re.search(r":caption: practice.toml\n\n((?:   .*\n|\n)+)", rst)
    assert block is not None, "docs/start/practice.rst has no practice.toml block"
    return "\n".join(line[3:] for line in block.group(1).splitlines()) + "\n"


def test_a_good_file_gives_the_practice_and_place(tmp_path: Path) -> None:
    practice, place = read_practice(write(tmp_path, GOOD))
    assert place == "Deventer"
    assert practice.practice_id == "de-linde"
    assert [gp.name for gp in practice.gps] == ["A. de Vries", "B. Yilmaz"]
    assert practice.gps[0].agb_code == "01234567"
    assert practice.pharmacists[0].pharmacy_name == "Apotheek De Brug"
    assert practice.phone == "0570-123456"
    # The command line's import path still works, and is the same function.
    assert cli_read_practice is read_practice


def test_the_practice_guides_example_passes_the_check(tmp_path: Path) -> None:
    # The guide's example had name = "A. de Vries, huisarts": every letter then printed
    # "A. de Vries, huisarts" with "huisarts" again under it.
    practice, _ = read_practice(write(tmp_path, guide_practice_toml()))
    for person in (*practice.gps, *practice.pharmacists):
        assert role_in_name(person.name) is None, person.name


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("A. de Vries, huisarts", "huisarts"),
        ("A. de Vries, Huisarts", "huisarts"),
        ("A. de Vries (huisarts)", "huisarts"),
        ("huisarts A. de Vries", "huisarts"),
        ("Huisarts A. de Vries", "huisarts"),
        ("A. de Vries - huisarts", "huisarts"),
        ("A. de Vries, waarnemend huisarts", "huisarts"),
        ("A. de Vries, huisarts in opleiding", "huisarts"),
        ("M. Jansen, apotheker", "apotheker"),
        ("M. Jansen / Apotheker", "apotheker"),
        ("A. de Vries, arts", "arts"),
        ("dr. A. de Vries", None),
        ("A. de Vries", None),
        ("J. Arts", None),
        ("B. de Vries-Arts", None),
        ("M. Apotheker", None),
        ("C. Huisartsen", None),
    ],
)
def test_role_in_name(name: str, role: str | None) -> None:
    assert role_in_name(name) == role


def test_a_role_in_a_name_is_refused_naming_the_entry_not_the_person(tmp_path: Path) -> None:
    text = GOOD.replace('name = "A. de Vries"', 'name = "A. de Vries, huisarts"').replace(
        'name = "M. Jansen"', 'name = "M. Jansen, apotheker"'
    )
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert found[0].startswith("[[gps]] no. 1 (gp_id 'huisarts-1'): key 'name' holds the role")
    assert "'huisarts'" in found[0]
    assert "printed twice" in found[0] or "appear twice" in found[0]
    assert found[1].startswith("[[pharmacists]] no. 1 (pharmacist_id 'apotheek-1'): key 'name'")
    assert "'apotheker'" in found[1]
    for problem in found:  # the people's names stay out of the message
        assert "de Vries," not in problem
        assert "Jansen" not in problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """\
practice_id = "de-linde"
adress = "Lindelaan 12"
phone = 570123456

[[gps]]
gp_id = "huisarts-1"
naam = "A. de Vries"

[[gps]]
gp_id = "huisarts-1"
name = "B. Yilmaz"
agb_code = "123"
"""
    found = problems(tmp_path, text)
    assert found == (
        "unknown key 'adress' (did you mean 'address'?); the keys here are practice_id, name, "
        "address, phone, place, gps, pharmacists",
        "key 'name' is missing: the practice's name, at the top of every letter",
        "key 'phone' must be text in quotes, not a number (write phone = \"570123456\")",
        "[[gps]] no. 1 (gp_id 'huisarts-1'): unknown key 'naam' (did you mean 'name'?); the keys "
        "here are gp_id, name, agb_code, practice_id",
        "[[gps]] no. 1 (gp_id 'huisarts-1'): key 'name' is missing: the GP's name as signed "
        "under the letter, without the role",
        "[[gps]] no. 2 (gp_id 'huisarts-1'): key 'agb_code' must be 8 digits",
        "[[gps]] no. 2 (gp_id 'huisarts-1'): gp_id 'huisarts-1' occurs more than once",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'practice_id = "x"\nname = "X"\n',
            "no [[gps]]: list each GP of the practice (gp_id and name), who sign the letters",
        ),
        (
            'practice_id = "x"\nname = "X"\n[gps]\ngp_id = "a"\nname = "A"\n',
            "'gps' is a single table ([gps]); write each entry as [[gps]], with double brackets",
        ),
        (
            'practice_id = "x"\nname = "X"\ngps = "A. de Vries"\n',
            "'gps' must be a list of [[gps]] tables, each with its own keys, not text",
        ),
        (
            'practice_id = "x"\nname = "  "\n[[gps]]\ngp_id = "a"\nname = "A"\n',
            "key 'name' is empty: the practice's name, at the top of every letter",
        ),
        (
            'practice_id = "x"\nname = "X"\nplace = true\n[[gps]]\ngp_id = "a"\nname = "A"\n',
            "key 'place' must be text in quotes, not true/false",
        ),
        (
            'practice_id = "x"\nname = X\n',
            "is not a valid TOML file: Invalid value (at line 2, column 8). Text values need "
            'double quotes (name = "Huisartsenpraktijk De Linde")',
        ),
    ],
)
def test_wrong_shapes_and_types_are_named(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text) == (expected,)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_bytes(GOOD.replace("Yilmaz", "M\u00fcller").encode("cp1252"))  # Notepad's ANSI
    with pytest.raises(PracticeFileError, match=r"^practice.toml: is not UTF-8 text"):
        read_practice(path)


def test_the_letters_command_refuses_a_role_in_a_name(tmp_path: Path) -> None:
    practice = write(tmp_path, GOOD.replace('"A. de Vries"', '"A. de Vries, huisarts"'))
    source = tmp_path / "screening.csv"
    source.write_text("patient_id,gp_id,eligible\np1,huisarts-1,True\n", encoding="utf-8")
    patients = tmp_path / "patients.csv"
    patients.write_text(
        "patient_id,sex,initials,family_name,street,house_number,postcode,city\n"
        "p1,F,A.,Berg,Dorpsstraat,1,1234 AB,Ede\n",
        encoding="utf-8",
    )
    done = CliRunner().invoke(
        main,
        [
            "letters", str(source), "--patients", str(patients), "--practice", str(practice),
            "--letter-date", "2026-01-12", "--no-register", "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert done.exit_code == 3, done.output
    assert "practice.toml: [[gps]] no. 1 (gp_id 'huisarts-1'): key 'name' holds the role" in (
        done.output
    )
    assert not (tmp_path / "out" / "stop_letter").exists()
