"""``read_canonical_rows``: a canonical file read by the strict rules, going on with the usable
rows (``--skip-invalid``). The rows kept are exactly those ``read_canonical`` accepts; the
others come back with file, line, column and reason, and the counts reconcile."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benzoredux.errors import IdentifierWarning
from benzoredux.reading.canonical import read_canonical, read_canonical_rows
from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS, Plausibility


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_kind_of_problem_with_its_line_and_the_counts(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "episodes.csv",
        "patient_id,icpc,start,end\n"
        "P1,P06,2024-01-01,\n"
        "P2,P06,2024-01-01,,x\n"  # one field too many
        "\n"
        "P3,P06,2024-13-01,\n"  # no such month
        ",P06,2024-01-01,\n"  # no patient
        "P5,P06,2024-01-01,2023-01-01\n",  # ends before it starts
    )
    result = read_canonical_rows(path, EPISODES)
    assert result.tables["episodes"]["patient_id"].tolist() == ["P1"]
    assert result.rejected[["line", "column", "reason"]].astype(object).values.tolist() == [
        [3, pd.NA, "the line has 5 fields where the header has 4"],
        [5, "start", "not an ISO date (YYYY-MM-DD)"],
        [6, "patient_id", "patient_id is missing"],
        [7, "end", "end is before start"],
    ]
    counts = result.counts["episodes"]
    assert (counts.rows_read, counts.rows_valid, counts.rows_rejected) == (5, 1, 4)
    assert result.reconciles
    assert result.ignored == {"blank lines": 1}
    assert set(result.rejected["file"]) == {"episodes.csv"}


def test_a_clean_file_reads_as_read_canonical_reads_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "dispensings.csv",
        "patient_id,date,atc,quantity,strength_mg\n"
        "p1,2025-03-01,N05BA04,50,10\n"
        "p1,2025-03-01,N05BA04,50,10\n"  # two packs on one day: both count
        "p2,2025-04-01,N05CD08,30.5,\n",
    )
    strict = read_canonical(path, DISPENSINGS)
    lenient = read_canonical_rows(path, DISPENSINGS)
    pd.testing.assert_frame_equal(lenient.tables["dispensings"], strict)
    assert not len(lenient.rejected)


def test_personal_values_are_hidden_and_messages_name_no_value(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "patients.csv",
        "patient_id,gp_id,birth_date,family_name\np1,G1,1950-02-31,Jansen\n",
    )
    result = read_canonical_rows(path, PATIENTS)
    assert result.rejected["value"].tolist() == ["<hidden>"]
    assert "1950" not in result.report()


def test_identifiers_are_warnings_never_rejected_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "patients.csv",
        "patient_id,gp_id,bsn,postcode\np1,G1,123456789,ABCD 12\np2,G1,111222333,3431 AA\n",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read_canonical_rows(path, PATIENTS)
    assert result.tables["patients"]["patient_id"].tolist() == ["p1", "p2"]
    assert not len(result.rejected)
    shown = [str(w.message) for w in caught if issubclass(w.category, IdentifierWarning)]
    assert any("line 2" in m and "BSN" in m for m in shown)
    assert any("line 2" in m and "postcode" in m for m in shown)


def test_the_bounds_are_the_runs_own(tmp_path: Path) -> None:
    """A dispensing 2 months after today is kept for a run dated a year ahead, and refused
    for a run dated today (the step checks the same bounds)."""
    ahead = dt.date.today() + dt.timedelta(days=60)
    path = _write(
        tmp_path / "dispensings.csv",
        f"patient_id,date,atc,quantity\np1,{ahead.isoformat()},N05BA04,30\n",
    )
    later = Plausibility(as_of=ahead + dt.timedelta(days=300))
    assert len(read_canonical_rows(path, DISPENSINGS, plausibility=later).rejected) == 0
    refused = read_canonical_rows(path, DISPENSINGS, plausibility=Plausibility())
    assert refused.rejected["column"].tolist() == ["date"]


def test_parquet_rows_are_named_by_their_number(tmp_path: Path) -> None:
    path = tmp_path / "dispensings.parquet"
    pd.DataFrame(
        {
            "patient_id": ["p1", None, "p3", None],
            "date": pd.to_datetime(["2025-03-01"] * 4),
            "atc": ["N05BA04"] * 4,
            "quantity": [30.0] * 4,
        }
    ).to_parquet(path)
    result = read_canonical_rows(path, DISPENSINGS)
    assert result.rejected["record"].tolist() == ["row 2", "row 4"]
    assert result.rejected["line"].isna().all()
    assert result.tables["dispensings"]["patient_id"].tolist() == ["p1", "p3"]


_GOOD = st.sampled_from(["2024-01-01", "2023-02-28", "2024-02-29", ""])
_BAD = st.sampled_from(["2023-02-29", "01-01-2024", "2024-01-32", "x", "2024-00-10"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.booleans(), _GOOD, _BAD), min_size=1, max_size=12))
def test_kept_rows_are_what_the_strict_reader_accepts(
    tmp_path: Path, rows: list[tuple[bool, str, str]]
) -> None:
    """Against a plain reference: the kept rows are those whose dates all parse, in order,
    read exactly as read_canonical reads a file of only them; every other row is rejected
    once, on its own line."""
    lines = [f"p{i},P06,{good if ok else bad},\n" for i, (ok, good, bad) in enumerate(rows)]
    usable = [i for i, (ok, _, _) in enumerate(rows) if ok]  # an empty start is no problem
    path = _write(tmp_path / "episodes.csv", "patient_id,icpc,start,end\n" + "".join(lines))
    result = read_canonical_rows(path, EPISODES)
    assert result.reconciles
    assert result.tables["episodes"]["patient_id"].tolist() == [f"p{i}" for i in usable]
    assert sorted(set(result.rejected["line"].tolist())) == [
        i + 2 for i in range(len(rows)) if i not in usable
    ]
    only = _write(
        tmp_path / "only.csv", "patient_id,icpc,start,end\n" + "".join(lines[i] for i in usable)
    )
    pd.testing.assert_frame_equal(
        result.tables["episodes"], read_canonical(only, EPISODES), check_dtype=False
    )


def test_a_parquet_files_rejected_date_is_listed_as_a_date(tmp_path: Path) -> None:
    path = tmp_path / "dispensings.parquet"
    pd.DataFrame(
        {
            "patient_id": ["p1", "p2"],
            "date": pd.to_datetime(["2025-03-01", "2099-01-01"]),
            "atc": ["N05BA04"] * 2,
            "quantity": [30.0] * 2,
        }
    ).to_parquet(path)
    result = read_canonical_rows(path, DISPENSINGS, plausibility=Plausibility())
    assert result.rejected[["record", "column", "value"]].values.tolist() == [
        ["row 2", "date", "2099-01-01"]
    ]
