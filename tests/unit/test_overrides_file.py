"""The GP's decisions file (``--overrides``): plain messages with file, line and column.

Rule under test: ``benzoredux.screening.read_overrides`` and the :class:`Override` record's own
checks (issue 16, item 5): a bad decision used to print attrs' internal validator text
(``("'decision' must be in ('eligible', 'excluded') (got 'ja')", Attribute(name='decision',
...``). A message names the file, the line, the column and the allowed decisions, and shows no
cell's value: the note next to it holds a name and a BSN here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benzoredux.cli import main
from benzoredux.programme import Programme
from benzoredux.screening import Override, ScreeningError, read_overrides, screen

HEADER = "patient_id,decision,decided_by,decided_at,note\n"
PERSONAL = ("Jansen", "123456782", "ja", "dr. De Wit")
"""Values in the bad files below that must never appear in a message."""


def _selection(folder: Path) -> Path:
    path = folder / "chronic_users.csv"
    path.write_text("patient_id,gp_id,ddd_per_day\np1,g1,0.5\np2,g1,0.8\n", encoding="utf-8")
    return path


def _overrides(folder: Path, text: str, encoding: str = "utf-8") -> Path:
    path = folder / "overrides.csv"
    path.write_bytes(text.encode(encoding))
    return path


BAD_DECISION = (
    HEADER
    + "p1,eligible,dr. De Wit,2026-01-05,\n"
    + 'p2,ja,dr. De Wit,2026-01-05,"Mevr. Jansen, BSN 123456782"\n'
)


def test_the_command_names_file_line_column_and_the_decisions(tmp_path: Path) -> None:
    selection = _selection(tmp_path)
    overrides = _overrides(tmp_path, BAD_DECISION)
    for debug in ([], ["--debug"]):
        done = CliRunner().invoke(
            main,
            [
                *debug, "screen", str(selection), "--reference-date", "2025-12-31",
                "--overrides", str(overrides), "--out", str(tmp_path / "out"), "--no-register",
            ],
        )  # fmt: skip
        text = done.output + (repr(done.exception) if debug else "")
        assert (
            "overrides.csv, line 3, column 'decision': not a decision; the decision is one of: "
            "eligible (in aanmerking), excluded (uitgesloten)"
        ) in text
        assert "Attribute(" not in text
        assert "must be in" not in text
        for value in PERSONAL:
            assert value not in text
    assert done.exit_code != 0
    assert not (tmp_path / "out" / "screening.csv").exists()


def test_a_good_file_is_read_with_dutch_spreadsheet_habits(tmp_path: Path) -> None:
    overrides = _overrides(
        tmp_path,
        "\ufeffpatient_id;Decision;decided_by;decided_at;note\n"
        "p1; Eligible ;dr. De Wit;05-01-2026;\n"
        "\n"
        'p2;excluded;POH;2026-01-06T09:30;"spoke with her;\nshe moves abroad"\n',
    )
    records = read_overrides(overrides)
    assert [(r.patient_id, r.decision, r.decided_by, r.decided_at) for r in records] == [
        ("p1", "eligible", "dr. De Wit", dt.date(2026, 1, 5)),
        ("p2", "excluded", "POH", dt.datetime(2026, 1, 6, 9, 30)),
    ]
    assert records[1].note == "spoke with her;\nshe moves abroad"
    result = screen(pd.read_csv(_selection(tmp_path)), "2025-12-31", overrides=records)
    assert result.summary.overridden == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            BAD_DECISION,
            "overrides.csv, line 3, column 'decision': not a decision; the decision is one of: "
            "eligible (in aanmerking), excluded (uitgesloten)",
        ),
        (
            # a note over two lines before the bad row: lines as an editor counts them
            HEADER
            + 'p1,eligible,dr. De Wit,2026-01-05,"Jansen\nBSN 123456782"\n'
            + "p2,,dr. De Wit,2026-01-05,\n",
            "overrides.csv, line 4, column 'decision': empty; the decision is one of: "
            "eligible (in aanmerking), excluded (uitgesloten)",
        ),
        (
            HEADER + "p1,excluded,dr. De Wit,31-02-2026,Jansen\n",
            "overrides.csv, line 2, column 'decided_at': not a date; give the day of the "
            "decision as YYYY-MM-DD",
        ),
        (
            HEADER + "p1,excluded,dr. De Wit,Jansen,\n",
            "overrides.csv, line 2, column 'decided_at': not a date",
        ),
        (
            HEADER + "p1,excluded, ,2026-01-05,Jansen\n",
            "overrides.csv, line 2, column 'decided_by': empty; give who decided",
        ),
        (
            HEADER + ",excluded,dr. De Wit,2026-01-05,Jansen\n",
            "overrides.csv, line 2, column 'patient_id': empty",
        ),
        (
            HEADER + "p1,excluded,dr. De Wit,2026-01-05,Jansen,123456782\n",
            "overrides.csv, line 2: 6 field(s) where the first line names 5",
        ),
        (
            # no header: the first line is data, and it is not quoted back
            "p1,ja,dr. De Wit,2026-01-05,Jansen 123456782\n",
            "overrides.csv, line 1: no column(s) 'patient_id', 'decision', 'decided_by', "
            "'decided_at'; the first line must name the columns",
        ),
        ("\n\n", "overrides.csv: empty; the first line must name the columns"),
    ],
)
def test_every_problem_is_named_without_a_value(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScreeningError) as caught:
        read_overrides(_overrides(tmp_path, text))
    assert message in str(caught.value)
    for value in PERSONAL:
        assert value not in str(caught.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = _overrides(tmp_path, HEADER + "p1,excluded,dr. Öztürk,2026-01-05,\n", "cp1252")
    with pytest.raises(ScreeningError, match=r"overrides\.csv: not UTF-8 text"):
        read_overrides(path)


def test_a_table_of_overrides_names_the_row_and_column() -> None:
    selection = pd.DataFrame({"patient_id": ["p1", "p2"], "ddd_per_day": [0.5, 0.8]})
    table = pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "decision": ["excluded", "ja"],
            "decided_by": ["dr. De Wit", "dr. De Wit"],
            "decided_at": pd.to_datetime(["2026-01-05", "2026-01-05"]),
            "note": ["", "Mevr. Jansen, BSN 123456782"],
        }
    )
    with pytest.raises(ScreeningError) as caught:
        screen(selection, "2025-12-31", overrides=table)
    assert str(caught.value) == (
        "overrides, row 2, column 'decision': not a decision; the decision is one of: "
        "eligible (in aanmerking), excluded (uitgesloten)"
    )
    table.loc[1, "decision"] = "excluded"
    table.loc[1, "decided_at"] = pd.NaT
    with pytest.raises(ScreeningError, match=r"row 2, column 'decided_at': empty"):
        screen(selection, "2025-12-31", overrides=table)
    table.loc[1, "patient_id"] = None
    with pytest.raises(ScreeningError, match=r"row 2, column 'patient_id': empty"):
        screen(selection, "2025-12-31", overrides=table)


def test_the_record_itself_says_what_a_decision_is() -> None:
    with pytest.raises(ValueError, match=r"^decision must be one of eligible, excluded$"):
        Override(patient_id="p1", decision="ja", decided_by="x", decided_at=dt.date(2026, 1, 5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^decided_at must be a date"):
        Override(patient_id="p1", decision="eligible", decided_by="x", decided_at="2026-01-05")  # type: ignore[arg-type]


def test_the_programme_reads_an_overrides_file_the_same_way(tmp_path: Path) -> None:
    with (
        Programme.create(tmp_path / "programme.sqlite", by="tester") as programme,
        pytest.raises(ScreeningError, match=r"overrides\.csv, line 3, column 'decision'"),
    ):
        programme.screen(
            _selection(tmp_path), "2025-12-31", overrides=_overrides(tmp_path, BAD_DECISION)
        )


def test_the_dutch_words_of_the_spreadsheet_are_decisions_too(tmp_path: Path) -> None:
    """A GP may copy "in aanmerking" or "Uitgesloten" from screening.xlsx into the file."""
    path = tmp_path / "overrides.csv"
    path.write_text(
        HEADER
        + "p1,In aanmerking,dr. De Wit,2026-01-05,\n"
        + "p2,uitgesloten,dr. De Wit,2026-01-05,\n",
        encoding="utf-8",
    )
    decisions = read_overrides(path)
    assert [o.decision for o in decisions] == ["eligible", "excluded"]
