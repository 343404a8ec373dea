"""Days of supply (``days_supply``, MP9's ``daysSupply``) in the supply estimates.

Rule: docs/domain/selection.rst, "Days of supply": the NHG days of use take the given days as
they are (tests/unit/test_nhg_definition.py); ``days_since_supply_end`` and the evaluation's
stop take the later of the given days and ``units / rate`` (here, and
tests/evaluation/test_effect.py). The property tests hold every input kind against the plain
references with the column present in a third of the datasets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest

import benzoredux as br

REFERENCE = dt.date(2025, 12, 31)


def _dispensings(days: list[float | None]) -> pl.DataFrame:
    """Per patient i: 60 tablets on 3 February and 60 on 2 June (119 days by the rate), the
    second with ``days[i]`` days of supply."""
    rows: list[dict[str, Any]] = []
    for i, given in enumerate(days):
        rows.append(
            {"patient_id": f"p{i}", "date": dt.date(2025, 2, 3), "quantity": 60.0, "days": None}
        )
        rows.append(
            {"patient_id": f"p{i}", "date": dt.date(2025, 6, 2), "quantity": 60.0, "days": given}
        )
    return pl.DataFrame(
        {
            "patient_id": [r["patient_id"] for r in rows],
            "date": [r["date"] for r in rows],
            "atc": ["N05BA04"] * len(rows),
            "quantity": [r["quantity"] for r in rows],
            "days_supply": [r["days"] for r in rows],
        },
        schema={
            "patient_id": pl.String,
            "date": pl.Date,
            "atc": pl.String,
            "quantity": pl.Float64,
            "days_supply": pl.Float64,
        },
    )


# 2 June + 119 days (the rate) is 29 September: 93 days before the reference date. Given 200
# days, the later end is 19 December (12 days); given 30, still the rate's 93; none: the rate's.
EXPECTED = {"p0": 93.0, "p1": 12.0, "p2": 93.0}
DAYS: list[float | None] = [None, 200.0, 30.0]


def _since(result: Any) -> dict[str, float]:
    frame = result if isinstance(result, pd.DataFrame) else pl.DataFrame(result).to_pandas()
    return dict(zip(frame["patient_id"], frame["days_since_supply_end"], strict=True))


@pytest.mark.parametrize("kind", ["polars", "pandas", "pyarrow", "parquet", "duckdb"])
def test_the_later_end_on_every_input_kind(kind: str, tmp_path: Path) -> None:
    frame = _dispensings(DAYS)
    source: Any = frame
    if kind == "pandas":
        source = frame.to_pandas()
    elif kind == "pyarrow":
        source = frame.to_arrow()
    elif kind == "parquet":  # the path route reads only the columns it uses: this one too
        source = str(tmp_path / "dispensings.parquet")
        frame.write_parquet(source)
    elif kind == "duckdb":
        source = duckdb.from_arrow(frame.to_arrow())
    result = br.select_chronic_users(source, REFERENCE, min_units=0)
    if kind == "duckdb":
        result = result.pl()
    elif kind == "parquet":
        result = result.collect()
    assert _since(result) == EXPECTED
    flagged = pl.DataFrame(result) if not isinstance(result, pd.DataFrame) else result
    assert dict(zip(flagged["patient_id"], flagged["probably_stopped"], strict=True)) == {
        "p0": True,
        "p1": False,
        "p2": True,
    }


def test_without_the_column_the_estimate_is_the_rate_alone() -> None:
    frame = _dispensings(DAYS).drop("days_supply")
    assert _since(br.select_chronic_users(frame, REFERENCE, min_units=0)) == {
        "p0": 93.0,
        "p1": 93.0,
        "p2": 93.0,
    }


def test_a_return_on_the_last_day_takes_the_fewer_days_off() -> None:
    # 60 tablets for 200 days and 30 of them returned, given as 100 days, on 2 June: the rate
    # gives the 30 kept tablets 59.5 days, the given days 100: the later end, 2 June + 100 days
    # = 10 September, 112 days before the reference date.
    frame = pl.concat(
        [
            _dispensings([200.0]),
            pl.DataFrame(
                {
                    "patient_id": ["p0"],
                    "date": [dt.date(2025, 6, 2)],
                    "atc": ["N05BA04"],
                    "quantity": [-30.0],
                    "days_supply": [100.0],
                }
            ),
        ]
    )
    assert _since(br.select_chronic_users(frame, REFERENCE, min_units=0)) == {"p0": 112.0}


@pytest.mark.parametrize("value", [0.0, -30.0, float("inf"), float("nan")])
def test_days_supply_must_be_a_positive_number(value: float) -> None:
    frame = _dispensings([value])
    with pytest.raises(br.InvalidRowsError, match="days_supply is not a positive number"):
        br.select_chronic_users(frame, REFERENCE, min_units=0)


def test_a_bottle_with_days_of_supply_still_gives_no_supply() -> None:
    # Only rows whose units count give supply, with or without days (drops: none).
    frame = _dispensings([200.0]).with_columns(
        form=pl.Series(["tablet", "druppels"], dtype=pl.String)
    )
    result = br.select_chronic_users(frame, REFERENCE, min_units=0)
    # The drops are not a counted dispensing day: the last one is 3 February, 60 tablets at
    # the assumed one a day, to 4 April: 271 days before the reference date.
    assert _since(result) == {"p0": 271.0}


def test_the_canonical_table_documents_the_column() -> None:
    from benzoredux.tables import DISPENSINGS

    column = next(c for c in DISPENSINGS.columns if c.name == "days_supply")
    assert not column.required
    assert "daysSupply" in column.description


def test_a_mapping_file_names_the_exports_days_column(tmp_path: Path) -> None:
    """A pharmacy export with its own column of days ("Dagen", decimal commas) reaches the
    estimate through a mapping, as any canonical column does."""
    from benzoredux.reading import read_source

    path = tmp_path / "export.csv"
    path.write_text(
        "Pat;Datum;Code;Stuks;Dagen\n"
        "p1;03-02-2025;N05BA04;60;\n"
        "p1;02-06-2025;N05BA04;60;200,0\n"
        "p2;03-02-2025;N05BA04;60;\n"
        "p2;02-06-2025;N05BA04;60;-5\n",
        encoding="utf-8",
    )
    mapping = {
        "table": "dispensings",
        "file": {"separator": ";", "decimal": ",", "date_formats": ["%d-%m-%Y"]},
        "columns": {
            "Pat": "patient_id",
            "Datum": "date",
            "Code": "atc",
            "Stuks": "quantity",
            "Dagen": "days_supply",
        },
    }
    result = read_source(path, mapping=mapping, strict=False)
    days = result.dispensings["days_supply"].tolist()
    assert pd.isna(days[0])
    assert days[1] == 200.0
    # p2's -5 days is a rejected row, named by line and column.
    assert len(result.rejected) == 1
    assert "days_supply is not a positive number" in str(result.rejected.iloc[0].to_dict())
    selected = br.select_chronic_users(result.dispensings, REFERENCE, min_units=0)
    assert _since(selected)["p1"] == 12.0
