"""Details of the selection found in review: each test pins one decision."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import benzoredux as br


def _rows(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "patient_id": ["p1", "p1", "p1"],
        "date": list(pd.to_datetime(["2025-02-01", "2025-08-01", "2025-08-01"])),
        "atc": ["N05BA04"] * 3,
        "quantity": [60.0, 60.0, -10.0],
        "prescriber_id": ["g1", "g2", "g9"],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_a_return_on_the_last_day_does_not_name_the_prescriber() -> None:
    """Attribution: the prescriber of the most recent *dispensing*, not of a return (g9)."""
    out = br.select_chronic_users(_rows(), "2025-12-31")
    assert out["gp_id"].tolist() == ["g2"]


def test_gp_route_code_given_as_subcode_matches_its_rubric() -> None:
    episodes = pd.DataFrame({"patient_id": ["p1"], "icpc": ["P74.02"]})
    out = br.select_chronic_users(
        _rows(), "2025-12-31", episodes=episodes, gp_route=True, gp_route_codes=["P74.01"]
    )
    assert out["patient_id"].tolist() == ["p1"]
    criteria = br.ChronicUseCriteria(gp_route_codes=["p06", "P06.01", "P74"])
    assert criteria.gp_route_codes == ("P06", "P74")


def test_rows_are_checked_only_on_the_columns_the_selection_reads() -> None:
    """A bad channel or postcode does not stop the selection; a bad ATC code does."""
    patients = pd.DataFrame({"patient_id": ["p1"], "gp_id": ["g"], "postcode": ["0000 XX"]})
    out = br.select_chronic_users(
        _rows(channel=["fax", "consult", None]), "2025-12-31", patients=patients
    )
    assert out["gp_id"].tolist() == ["g"]
    with pytest.raises(br.InvalidRowsError, match="row 0: atc"):
        br.select_chronic_users(_rows(atc=["X", "N05BA04", "N05BA04"]), "2025-12-31")


def test_duplicate_patients_would_double_count_so_they_stop_the_selection() -> None:
    patients = pd.DataFrame({"patient_id": ["p1", "p1"], "gp_id": ["g", "h"]})
    with pytest.raises(br.InvalidRowsError, match="patient_id occurs more than once"):
        br.select_chronic_users(_rows(), "2025-12-31", patients=patients)


def test_unknown_option_lists_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown option.*min_unit.*known options:.*min_units"):
        br.select_chronic_users(_rows(), "2025-12-31", min_unit=10)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_units", -1),
        ("window_months", 0),
        ("assumed_units_per_day", 0),
        ("engine", "spark"),
        ("definition", "sfk"),
    ],
)
def test_bad_option_values_are_refused(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        br.select_chronic_users(_rows(), "2025-12-31", **{option: value})


def test_unknown_form_matters_only_on_benzodiazepine_rows() -> None:
    """A fentanyl patch with an unlisted form still excludes the patient (co-medication)."""
    rows = _rows(form=["tablet", "tablet", "tablet"])
    patch = pd.DataFrame(
        {
            "patient_id": ["p1"],
            "date": [pd.Timestamp("2025-05-01")],
            "atc": ["N02AB03"],
            "quantity": [5.0],
            "prescriber_id": ["g1"],
            "form": ["matrixpleister 25 mcg/uur"],
        }
    )
    both = pd.concat([rows, patch], ignore_index=True)
    out = br.select_chronic_users(both, "2025-12-31", include_excluded=True)
    assert out["excluded_because"].tolist() == ["complex co-medication: N02A"]
    with pytest.raises(br.InvalidRowsError, match="form of a benzodiazepine"):
        br.select_chronic_users(rows.assign(form=["kauwtablet", "tablet", "tablet"]), "2025-12-31")


@pytest.mark.parametrize("rows", [0, 3])
def test_empty_text_columns_of_a_large_pandas_frame_are_text(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pandas ``object`` column holding only ``None`` (an empty frame, or an optional column
    left empty) is text; moved to polars in batches (large frames) it was Arrow's ``null`` type,
    and refused as "type Unknown" (found by the property tests)."""
    import benzoredux.engine

    monkeypatch.setattr(benzoredux.engine, "BATCHES_FROM_ROWS", 0)
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(["p1"] * rows, dtype="object"),
            "date": pd.Series(pd.to_datetime(["2024-01-01"] * rows), dtype="datetime64[ns]"),
            "atc": pd.Series(["N05BA04"] * rows, dtype="object"),
            "quantity": pd.Series([50.0] * rows, dtype="float64"),
            "prescriber_id": pd.Series([None] * rows, dtype="object"),
        }
    )
    result = br.select_chronic_users(frame, dt.date(2024, 2, 29))
    assert list(result["patient_id"]) == (["p1"] if rows else [])
    assert result["gp_id"].isna().all()
