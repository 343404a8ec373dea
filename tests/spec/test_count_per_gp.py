"""Specification tests for ``benzoredux.count_per_gp`` (DOMAIN.md, "Evaluation (bijlage 4)").

DOMAIN.md: the FTO meeting gets a chart of the "number of chronic users per GP" (bijlage 1,
"voorbeeldgrafiek 1"), and the evaluation reports the "percentage of chronic users". The
documented output (``benzoredux.selection.count_per_gp``): ``gp_id``, ``chronic_users``,
``probably_stopped`` and, with a patients table, every listed GP (also with zero users) with
``listed_patients`` (active listed patients) and ``per_1000_listed``; sorted by ``gp_id``;
patients without a GP counted under an empty ``gp_id``.

The selection is made with ``select_chronic_users`` on reference date 2025-06-30 from a table
where each patient's supply state is known by hand:

* 100 tablets on 2025-06-01 (one dispensing day, 1 a day): supply left on the reference date;
* 100 tablets on 2024-08-01: supply ran out 2024-11-09, long ago: ``probably_stopped``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import benzoredux as br

REF = dt.date(2025, 6, 30)
OXAZEPAM = "N05BA04"
RECENT, LONG_AGO = "2025-06-01", "2024-08-01"


@pytest.fixture
def selection_rows(disp):
    """Dispensings: g1 has 3 chronic users (1 stopped), g2 one (stopped), one has no GP."""
    return disp(
        [
            ("a", RECENT, OXAZEPAM, 100, "g1"),
            ("b", RECENT, OXAZEPAM, 100, "g1"),
            ("c", LONG_AGO, OXAZEPAM, 100, "g1"),
            ("d", LONG_AGO, OXAZEPAM, 100, "g2"),
            ("e", RECENT, OXAZEPAM, 100, None),  # no prescriber, no patients table: no GP
            ("f", RECENT, OXAZEPAM, 90, "g3"),  # not chronic: g3 has no users
        ],
        extra=["prescriber_id"],
    )


def _counts(records):
    return {r["gp_id"]: r for r in records}


def test_count_per_gp_counts_chronic_users_and_probably_stopped(selection_rows, records):
    """DOMAIN.md Evaluation (charts): number of chronic users per GP; stopped ones are shown."""
    selection = br.select_chronic_users(selection_rows, REF)
    out = records(br.count_per_gp(selection))
    assert [r["gp_id"] for r in out] == ["g1", "g2", None]  # sorted, no-GP row last
    counts = _counts(out)
    assert (counts["g1"]["chronic_users"], counts["g1"]["probably_stopped"]) == (3, 1)
    assert (counts["g2"]["chronic_users"], counts["g2"]["probably_stopped"]) == (1, 1)
    assert (counts[None]["chronic_users"], counts[None]["probably_stopped"]) == (1, 0)
    assert sum(r["chronic_users"] for r in out) == 5  # every selected patient counted once


def test_count_per_gp_with_patients_lists_every_gp_and_rate_per_1000(
    selection_rows, table, records
):
    """DOMAIN.md Evaluation: percentage of chronic users, per GP, including GPs with none."""
    # listed: g1 has 4 active patients (a, b, c, x1; x9 moved away), g2 has 2 (d, x2),
    # g3 has 1 (f), g4 has 1 (x4) and no chronic users; e has no listed GP
    patients = table(
        {
            "patient_id": ["a", "b", "c", "x1", "x9", "d", "x2", "f", "x4", "e"],
            "gp_id": ["g1", "g1", "g1", "g1", "g1", "g2", "g2", "g3", "g4", None],
            "status": ["active", None, "active", None, "moved", None, None, None, None, None],
            "status_date": [None, None, None, None, "2020-01-01", None, None, None, None, None],
        },
        date_columns=["status_date"],
    )
    selection = br.select_chronic_users(selection_rows, REF, patients=patients)
    out = records(br.count_per_gp(selection, patients))
    assert [r["gp_id"] for r in out] == ["g1", "g2", "g3", "g4", None]
    counts = _counts(out)
    assert counts["g1"]["chronic_users"] == 3
    assert counts["g1"]["listed_patients"] == 4
    assert counts["g1"]["per_1000_listed"] == pytest.approx(3 * 1000 / 4)
    assert counts["g2"]["chronic_users"] == 1
    assert counts["g2"]["listed_patients"] == 2
    assert counts["g2"]["per_1000_listed"] == pytest.approx(500.0)
    for gp in ("g3", "g4"):  # GPs with zero users appear, with a rate of 0
        assert counts[gp]["chronic_users"] == 0, gp
        assert counts[gp]["probably_stopped"] == 0, gp
        assert counts[gp]["listed_patients"] == 1, gp
        assert counts[gp]["per_1000_listed"] == 0.0, gp
    # e is neither listed with a GP nor attributed to a prescriber
    assert counts[None]["chronic_users"] == 1
    assert counts[None]["listed_patients"] == 0
    assert counts[None]["per_1000_listed"] is None


def test_count_per_gp_prescriber_attributed_gp_without_listed_patients(
    selection_rows, table, records
):
    """selection.count_per_gp: a GP known only as prescriber appears with no listed patients."""
    selection = br.select_chronic_users(selection_rows, REF)  # attributed to prescribers
    patients = table({"patient_id": ["x"], "gp_id": ["g9"]})
    counts = _counts(records(br.count_per_gp(selection, patients)))
    assert set(counts) == {"g1", "g2", "g9", None}
    assert counts["g1"]["listed_patients"] == 0
    assert counts["g1"]["per_1000_listed"] is None
    assert counts["g9"]["chronic_users"] == 0
    assert counts["g9"]["per_1000_listed"] == 0.0


RESULT_TYPES = {
    "polars": pl.DataFrame,
    "polars-lazy": pl.LazyFrame,
    "pyarrow": pa.Table,
    "pandas": pd.DataFrame,
}


@pytest.mark.parametrize("kind", list(RESULT_TYPES))
def test_count_per_gp_result_kind_follows_selection_kind(
    selection_rows, kind_of, table, records, kind
):
    """engine.py: the counts come back in the kind of the selection (lazy in, lazy out)."""
    selection = br.select_chronic_users(kind_of(selection_rows, kind), REF)
    patients = table({"patient_id": ["a"], "gp_id": ["g1"]})
    result = br.count_per_gp(selection, patients)
    assert type(result) is RESULT_TYPES[kind]
    counts = _counts(records(result))
    assert counts["g1"]["chronic_users"] == 3
    assert counts["g1"]["listed_patients"] == 1


def test_count_per_gp_native_engine_matches_auto(selection_rows, table, records):
    """engine.py: engine='native' and engine='auto' give the same answer (integer counts)."""
    patients = table({"patient_id": ["a", "x"], "gp_id": ["g1", "g4"]})
    selection = br.select_chronic_users(selection_rows, REF)
    auto = br.count_per_gp(selection, patients)
    native = br.count_per_gp(selection, patients, engine="native")
    assert records(native) == records(auto)
    for column in ("chronic_users", "probably_stopped", "listed_patients"):
        assert pd.api.types.is_integer_dtype(native[column]), column
