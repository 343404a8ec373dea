"""Letters' file names are safe for any patient id, and nothing is half-written.

Rule under test: ``benzoredux.letters.compose`` (``_safe_name``, ``_file_names`` and the checks
of :func:`render_letters` before the first file; docs/domain/letters.rst, "File names"). The
issue's case (issue 16, item 5): a 300-character patient id failed with "File name too long"
after 6 of 15 letters were written, with a register created and nothing recorded.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from benzoredux import GeneralPractitioner, Practice
from benzoredux.cli import main
from benzoredux.letters import compose
from benzoredux.letters.compose import NAME_PART_LENGTH, plan_letters, render_letters
from benzoredux.letters.rendering import DocxLetterTemplate, TemplateFieldError
from benzoredux.programme import Programme
from benzoredux.register import open_register

PRACTICE = Practice(
    practice_id="hap",
    name="Huisartsen De Brug",
    address="Kerkpad 1, 3431 AA Nieuwegein",
    phone="030-1234567",
    gps=[GeneralPractitioner(gp_id="g1", name="A. de Vries")],
)
LONG_ID = "x" * 300
IDS = [f"p{i:02d}" for i in range(1, 16)]
IDS[6] = LONG_ID  # the 7th of 15, as in the issue


def _patients(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ids,
            "gp_id": "g1",
            "sex": "F",
            "initials": "A.",
            "family_name": [f"Jansen {n}" for n in range(len(ids))],
            "street": "Kerkweg",
            "house_number": [str(n + 1) for n in range(len(ids))],
            "postcode": "3431 AA",
            "city": "Nieuwegein",
        }
    )


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_fifteen_letters_one_with_a_300_character_id_are_all_written(tmp_path: Path) -> None:
    table = _patients(IDS)
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12")
    out = render_letters(letters, table, PRACTICE, tmp_path / "out")
    assert len(out.letters) == 15
    assert not out.skipped
    names = {letter.patient_id: path.name for letter, path in out.letters}
    long_name = names[LONG_ID]
    assert re.fullmatch(r"stop_letter-x{47}-[0-9a-f]{16}\.docx", long_name)
    assert all(len(name) <= len("stop_letter-.docx") + NAME_PART_LENGTH for name in names.values())
    assert names["p01"] == "stop_letter-p01.docx"  # a plain id keeps its name
    # Stable from run to run: the same id gets the same name again.
    again = render_letters(letters, table, PRACTICE, tmp_path / "again")
    assert {lt.patient_id: p.name for lt, p in again.letters} == names


def test_names_differing_in_case_only_get_apart(tmp_path: Path) -> None:
    table = _patients(["P1", "p1", "p2"])
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12")
    out = render_letters(letters, table, PRACTICE, tmp_path)
    names = [path.name.casefold() for _, path in out.letters]
    assert len(set(names)) == 3
    assert len(list((tmp_path / "stop_letter").iterdir())) == 3
    assert "stop_letter-p2.docx" in names


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.text(min_size=1, max_size=400).filter(str.strip), min_size=1, max_size=6, unique=True
    )
)
@example([LONG_ID, "x" * 299, "P1", "p1"])
@example(["a/b", "a_b", "a:b", "." * 80])
def test_any_ids_give_short_safe_distinct_names(ids: list[str]) -> None:
    letters = plan_letters(_patients(ids), practice=PRACTICE, letter_date="2026-01-12")
    names = compose._file_names(letters)
    assert len({n.casefold() for n in names.values()}) == len(ids)
    for name in names.values():
        assert re.fullmatch(r"stop_letter-[A-Za-z0-9_.-]+\.docx", name)
        # With its hash for a case clash, a name stays far below 255 bytes, also as the
        # temporary ".<name>.<random>.tmp" it is first written to.
        assert len(name) <= len("stop_letter-.docx") + NAME_PART_LENGTH + 17


def test_a_problem_in_any_batch_leaves_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every letter of every batch is checked before the first file: a letter of the second
    batch that the template cannot take stops the run before the first batch is written."""
    table = _patients(IDS)
    batches = {pid: 1 if n < 8 else 2 for n, pid in enumerate(IDS)}
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12", batches=batches)
    original = DocxLetterTemplate.check_fields

    def refuse_p12(self: DocxLetterTemplate, available: Any, *, where: str = "") -> None:
        if "p12" in where:
            raise TemplateFieldError(self.name, ["appointment"], available, where)
        original(self, available, where=where)

    monkeypatch.setattr(DocxLetterTemplate, "check_fields", refuse_p12)
    with pytest.raises(TemplateFieldError, match="Nothing was written"):
        render_letters(letters, table, PRACTICE, tmp_path / "out")
    assert [p for p in _files(tmp_path) if p.suffix == ".docx"] == []


def test_the_programme_writes_and_records_all_fifteen(tmp_path: Path) -> None:
    screening = tmp_path / "screening.csv"
    pd.DataFrame({"patient_id": IDS, "gp_id": "g1", "eligible": True}).to_csv(
        screening, index=False
    )
    register = tmp_path / "programme.sqlite"
    with Programme.create(
        register, practice=PRACTICE, reference_date="2025-12-31", by="tester"
    ) as programme:
        out = programme.letters(
            _patients(IDS), tmp_path / "letters", source=screening, letter_date="2026-01-12"
        )
        assert len(out.letters) == 15
        assert len(programme.recorded.recorded) == 15
    with open_register(register) as opened:
        assert sorted(e["patient_id"] for e in opened.letters()) == sorted(IDS)


def test_the_letters_command_writes_and_records_all_fifteen(tmp_path: Path) -> None:
    screening = tmp_path / "screening.csv"
    with screening.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "gp_id", "eligible"])
        writer.writerows([pid, "g1", "True"] for pid in IDS)
    patients = tmp_path / "patients.csv"
    _patients(IDS).to_csv(patients, index=False)
    practice = tmp_path / "practice.toml"
    practice.write_text(
        'practice_id = "hap"\nname = "Huisartsen De Brug"\n'
        'address = "Kerkpad 1, 3431 AA Nieuwegein"\nphone = "030-1234567"\n'
        '[[gps]]\ngp_id = "g1"\nname = "A. de Vries"\n',
        encoding="utf-8",
    )
    done = CliRunner().invoke(
        main,
        [
            "letters", str(screening), "--patients", str(patients), "--practice", str(practice),
            "--letter-date", "2026-01-12", "--pdf", "no", "--out", str(tmp_path / "letters"),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "15 stop letter(s)" in done.output
    assert "15 letter(s) recorded" in done.output
    assert len(list((tmp_path / "letters" / "stop_letter").glob("*.docx"))) == 15
    with open_register(tmp_path / "programme.sqlite") as opened:
        assert len(opened.letters()) == 15
