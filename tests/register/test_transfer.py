"""Export to a folder of CSV files (and a workbook) and import back: the same register."""

from __future__ import annotations

import csv
import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from benzoredux.models import Consult, Practice, StopLetter
from benzoredux.register import (
    KINDS,
    Register,
    RegisterError,
    RegisterVersionError,
    ScreeningDecision,
    export_register,
    import_register,
    open_register,
)
from benzoredux.register.transfer import escape_cell, unescape_cell


def fill(register: Register, practice: Practice, stop_letter: Callable[..., StopLetter]) -> None:
    """A register with every kind, corrections, forced letters and awkward text."""
    register.set_programme(
        practice,
        reference_date=dt.date(2025, 12, 31),
        by="apotheker",
        criteria={"terminal": True},
        options={"batch_size": 15, "ratio": 0.5},
    )
    register.snapshot_selection(
        pd.DataFrame({"patient_id": ["p1", "p2"], "gp_id": ["gp1", "gp2"], "units": [180, 95.5]}),
        reference_date=dt.date(2025, 12, 31),
        by="apotheker",
    )
    register.record_screening(
        [ScreeningDecision(patient_id="p2", excluded=True, reasons=["terminal"])],
        source="proposal",
        by="benzoredux",
    )
    register.record_screening(
        [ScreeningDecision(patient_id="p2", excluded=False, note='=HYPERLINK("x")')],
        by="dr. Jansen",
    )
    register.record_letters([stop_letter("p1"), stop_letter("p2")], by="assistente")
    register.record_letters(
        [stop_letter("p1", batch=2)], by="dr. Jansen", force={"p1": "-retour, verhuisd"}
    )
    register.withdraw_letter("p2", "stop_letter", 1, by="assistente", remark="'niet verstuurd")
    register.record_call(
        "p1", called_on=dt.date(2026, 3, 16), outcome="no_answer", by="a", note="@later, \n2x"
    )
    register.record_consult(
        Consult(patient_id="p1", date=dt.date(2026, 3, 25), held_by="gp", scores={"x": -1.25}),
        by="dr. Jansen",
    )
    register.set_task("t1", what="Selectie ; via SFK", month=1, due=dt.date(2026, 1, 31), by="a")
    register.set_task_status("t1", "done", by="a")
    register.record_evaluation(
        kind="process", run_date=dt.date(2026, 4, 1), results={"letters": 3}, by="a"
    )


def everything(register: Register) -> dict[str, list[object]]:
    return {kind: register.history(kind) for kind in KINDS}


def test_export_and_import_give_the_same_register(
    register: Register,
    practice: Practice,
    stop_letter: Callable[..., StopLetter],
    tmp_path: Path,
) -> None:
    fill(register, practice, stop_letter)
    written = export_register(register, tmp_path / "export", xlsx=False)
    assert {p.name for p in written} == {f"{k}.csv" for k in KINDS} | {"register.json"}
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with import_register(tmp_path / "export", tmp_path / "copy.sqlite") as copy:
        assert everything(copy) == everything(register)
        assert copy.summary() == register.summary()
        # the imported register keeps the rules: p1 had a stop letter
        assert copy.check_letters([stop_letter("p1", batch=3)]).refused == ("p1",)


def test_cells_are_safe_in_a_spreadsheet(
    register: Register, practice: Practice, stop_letter: Callable[..., StopLetter], tmp_path: Path
) -> None:
    fill(register, practice, stop_letter)
    export_register(register, tmp_path, xlsx=False)
    with (tmp_path / "screening.csv").open(encoding="utf-8-sig", newline="") as handle:
        notes = [row["note"] for row in csv.DictReader(handle)]
    assert '\'=HYPERLINK("x")' in notes
    with (tmp_path / "consults.csv").open(encoding="utf-8-sig", newline="") as handle:
        (consult,) = csv.DictReader(handle)
    assert consult["attended"] == "true"


@pytest.mark.parametrize("text", ["=1+1", "+31", "-2", "@x", "\tx", "\rx", "'", "''=", "ok", ""])
def test_escaping_is_reversible(text: str) -> None:
    assert unescape_cell(escape_cell(text)) == text
    assert not escape_cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_workbook_export(
    register: Register, practice: Practice, stop_letter: Callable[..., StopLetter], tmp_path: Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    fill(register, practice, stop_letter)
    written = export_register(register, tmp_path)  # openpyxl is there: the workbook too
    assert tmp_path / "register.xlsx" in written
    assert stat.S_IMODE((tmp_path / "register.xlsx").stat().st_mode) == 0o600
    book = openpyxl.load_workbook(tmp_path / "register.xlsx")
    assert book.sheetnames == list(KINDS)
    rows = list(book["letters"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(register.history("letters"))
    forced = [r for r in rows[1:] if r[rows[0].index("forced")]]
    # A text cell, never a formula: shown as the register holds it, without a quote (issue 17).
    assert forced[0][rows[0].index("force_reason")] == "-retour, verhuisd"
    assert {c.data_type for c in book["letters"]["P"][1:] if c.value is not None} <= {"s"}
    when = forced[0][rows[0].index("recorded_at")]
    assert isinstance(when, dt.datetime)  # a date cell (UTC), not ISO text
    assert book["letters"].cell(2, 3).number_format == "dd-mm-yyyy hh:mm:ss"
    day = forced[0][rows[0].index("letter_date")]
    assert isinstance(day, dt.datetime)
    assert book["letters"].cell(2, rows[0].index("letter_date") + 1).number_format == "dd-mm-yyyy"


def test_import_refuses_a_register_that_is_not_empty(
    register: Register, stop_letter: Callable[..., StopLetter], tmp_path: Path
) -> None:
    register.record_letters([stop_letter("p1")], by="a")
    export_register(register, tmp_path / "export", xlsx=False)
    target = tmp_path / "existing.sqlite"
    with open_register(target, create=True) as existing:
        existing.set_task("t1", what="x", by="a")
    with pytest.raises(RegisterError, match="not empty"):
        import_register(tmp_path / "export", target)


def test_an_incomplete_or_damaged_export_is_refused_whole(
    register: Register, stop_letter: Callable[..., StopLetter], tmp_path: Path
) -> None:
    register.record_letters([stop_letter("p1"), stop_letter("p2")], by="a")
    folder = tmp_path / "export"
    export_register(register, folder, xlsx=False)
    letters = folder / "letters.csv"
    original = letters.read_text(encoding="utf-8-sig")

    letters.write_text(original.replace("2026-02-02", "02-02-2026", 1), encoding="utf-8-sig")
    with pytest.raises(
        RegisterError, match=r"letters\.csv line 2, column 'letter_date': '02-02-2026' must be"
    ):
        import_register(folder, tmp_path / "a.sqlite")

    letters.write_text("\n".join(original.splitlines()[:-1]) + "\n", encoding="utf-8-sig")
    with pytest.raises(RegisterError, match="1 rows, but the manifest says 2"):
        import_register(folder, tmp_path / "a.sqlite")
    with open_register(tmp_path / "a.sqlite") as failed:  # nothing half-imported
        assert failed.summary()["entries"] == 0

    (folder / "register.json").unlink()
    with pytest.raises(RegisterError, match="not a complete register export"):
        import_register(folder, tmp_path / "b.sqlite")


def test_an_export_of_another_schema_version_is_refused(register: Register, tmp_path: Path) -> None:
    export_register(register, tmp_path, xlsx=False)
    manifest = json.loads((tmp_path / "register.json").read_text())
    manifest["schema_version"] = 1
    (tmp_path / "register.json").write_text(json.dumps(manifest))
    with pytest.raises(RegisterVersionError, match="schema version 1"):
        import_register(tmp_path, tmp_path / "c.sqlite")
