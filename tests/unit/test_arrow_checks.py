"""The row checks of a large pandas or pyarrow input, run on its Arrow data in slices (issue 19).

A pandas or pyarrow frame of :data:`benzoredux.engine.BATCHES_FROM_ROWS` rows or more is moved to
polars a slice at a time (:class:`benzoredux.engine.ArrowBatches`), and its row checks count the
rules per slice, with only the columns they read and a text identifier's bounds taken from the
Arrow data (:func:`benzoredux.tables._breaks_any_grouped`). Each test lowers the threshold to 0
and the slices to two rows, puts one bad row in the last slice, and expects the same refusal,
word for word, as the route that moves the frame whole: one test per kind of rule (missing
values, text identifiers by their bounds, values per code and form, numbers, rules per code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import benzoredux as br
import benzoredux.engine

REFERENCE = dt.date(2025, 12, 31)
BAD_ROW = 4  # of five rows in slices of two: alone in the last slice


def _rows() -> pd.DataFrame:
    """Five usable dispensings: a chronic user (p1), a benzodiazepine of another patient, and
    a drug that is no benzodiazepine."""
    return pd.DataFrame(
        {
            "patient_id": pd.Series(["p1", "p1", "p1", "p2", "p3"], dtype="str"),
            "date": pd.to_datetime(
                ["2025-02-01", "2025-06-01", "2025-10-01", "2025-03-01", "2025-04-01"]
            ),
            "atc": pd.Series(["N05BA04", "N05BA04", "N05BA04", "N05CD07", "C09AA02"], dtype="str"),
            "quantity": [60.0, 60.0, 60.0, 30.0, 90.0],
            "strength_mg": [10.0, 10.0, 10.0, 1.0, 20.0],
            "form": pd.Series(["tablet", "tablet", "tablet", "tablet", "tablet"], dtype="str"),
            "days_supply": [30.0, 30.0, 30.0, 15.0, 90.0],
            "prescriber_id": pd.Series(["g1", "g1", "g2", "g1", "g3"], dtype="str"),
        }
    )


def _with(column: str, value: Any, row: int = BAD_ROW, **columns: Any) -> pd.DataFrame:
    frame = _rows()
    for name, values in columns.items():
        frame[name] = values
    frame.loc[row, column] = value
    return frame


def _as(kind: str, frame: pd.DataFrame) -> Any:
    if kind == "pandas":
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def _outcome(source: Any) -> str | list[Any]:
    """The refusal's message, or the selected patients with their units."""
    try:
        result = br.select_chronic_users(source, REFERENCE)
    except br.InvalidRowsError as error:
        return str(error)
    table = pa.Table.from_pandas(result) if isinstance(result, pd.DataFrame) else result
    return sorted(zip(table["patient_id"].to_pylist(), table["units"].to_pylist(), strict=True))


def _in_slices(source: Any, monkeypatch: pytest.MonkeyPatch) -> str | list[Any]:
    with monkeypatch.context() as patch:
        patch.setattr(benzoredux.engine, "BATCHES_FROM_ROWS", 0)
        patch.setattr(benzoredux.engine, "SLICE_ROWS", 2)
        return _outcome(source)


def _refused_alike(
    kind: str, frame: pd.DataFrame, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _outcome(_as(kind, frame))
    assert isinstance(whole, str), whole  # the route that moves the frame whole refuses it
    assert reason in whole
    assert f"row {BAD_ROW}" in whole
    assert _in_slices(_as(kind, frame), monkeypatch) == whole


KINDS = ["pandas", "pyarrow"]

BAD: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    # A text identifier: missing, empty or blank (its bounds from the Arrow data).
    "missing patient": (lambda: _with("patient_id", None), "patient_id is missing"),
    "empty patient": (lambda: _with("patient_id", ""), "patient_id is missing"),
    "blank patient": (lambda: _with("patient_id", "  "), "patient_id is missing"),
    # Missing values of other columns, counted over the rows.
    "missing date": (lambda: _with("date", None), "date is missing"),
    "missing code": (lambda: _with("atc", None), "atc is missing"),
    "missing quantity": (lambda: _with("quantity", None), "quantity is missing"),
    # Rules on the distinct codes and forms.
    "malformed code": (lambda: _with("atc", "N05B"), "not a 7-character ATC code"),
    "unknown form": (
        lambda: _with("form", "zalf", row=3),
        "form of a benzodiazepine is not a known dosage form",
    ),
    # Rules on numbers, counted over the rows.
    "infinite quantity": (lambda: _with("quantity", float("inf")), "quantity is not a finite"),
    "zero strength": (lambda: _with("strength_mg", 0.0), "strength_mg is not a positive"),
    "negative days": (lambda: _with("days_supply", -5.0), "days_supply is not a positive"),
    # Implausible values: a date after the reference date, a benzodiazepine's quantity (per
    # code: the quantity counted per code, the code tested in Python).
    "future date": (lambda: _with("date", pd.Timestamp("2099-06-01")), "date is after"),
    "huge benzodiazepine quantity": (
        lambda: _with("quantity", 20000.0, row=3),
        "quantity is beyond",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_row_in_a_later_slice_is_refused_as_on_the_whole_frame(
    kind: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, reason = BAD[case]
    frame = make()
    if case in ("unknown form", "huge benzodiazepine quantity"):
        # The bad row must be in the last slice: move it there.
        frame = pd.concat([frame.drop(index=3), frame.loc[[3]]], ignore_index=True)
    _refused_alike(kind, frame, reason, monkeypatch)


@pytest.mark.parametrize("kind", KINDS)
def test_usable_rows_give_the_same_selection_in_slices(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rows, usable, selected alike whole and in slices: a non-benzodiazepine's form
    and quantity do not count, and an identifier starting with a space is not blank (its bounds
    leave a blank one possible, so the rule runs over the rows)."""
    frame = _with("quantity", 20000.0, form=["tablet", "tablet", "tablet", "tablet", "zalf"])
    frame.loc[3, "patient_id"] = " p2"
    whole = _outcome(_as(kind, frame))
    assert whole == [("p1", 180.0)]
    assert _in_slices(_as(kind, frame), monkeypatch) == whole


@pytest.mark.parametrize("value", [None, "  "])
def test_a_categorical_identifier_is_bounded_from_the_slices(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pandas categorical is Arrow dictionary data, which pyarrow cannot bound: its bounds and
    missing values come from the converted slices, and a blank or missing one is refused."""
    frame = _with("patient_id", value)
    frame["patient_id"] = frame["patient_id"].astype("category")
    _refused_alike("pandas", frame, "patient_id is missing", monkeypatch)
    usable = _rows().assign(patient_id=lambda f: f["patient_id"].astype("category"))
    assert _in_slices(usable, monkeypatch) == _outcome(usable) == [("p1", 180.0)]


def test_text_bounds_come_from_the_arrow_data() -> None:
    """pyarrow's bounds of a text column are polars' (byte order of UTF-8: code points), with
    its missing values; a dictionary column gets none."""
    table = pa.table(
        {
            "t": pa.chunked_array([["b", None, "é"], ["  ", "Z"]], type=pa.large_string()),
            "d": pa.array(["x", "y"] * 2 + ["x"]).dictionary_encode(),
        }
    )
    slices = benzoredux.engine.ArrowBatches(table).slices()
    assert slices.text_bounds("t") == (1, "  ", "é")
    assert slices.text_bounds("d") is None
    assert [part.collect().columns for part in slices.select(["d"])] == [["d"]]


@pytest.mark.parametrize("dtype", ["object", "str", "string"])
def test_a_group_whose_identifiers_are_all_missing_is_refused_on_pandas(dtype: str) -> None:
    """On pandas' own engine the bound of a group (code and form) whose identifiers are all
    missing is NaN or ``pd.NA``, not ``None``: the groups' bounds are added up without it, and
    the missing identifier refuses the row (found by the property tests: adding the bounds up
    before looking at the missing values compared a text with NaN)."""
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series([None, "p1"], dtype=dtype),
            "date": pd.to_datetime(["2024-06-01", "2024-06-01"]),
            "atc": ["N05BA04", "N05BA04"],
            "quantity": [0.0, 0.0],
            "strength_mg": [1.0, 1.0],
            "form": ["tablet", " Tablet "],
        }
    )
    with pytest.raises(br.InvalidRowsError, match="row 0: patient_id is missing"):
        br.select_chronic_users(frame, REFERENCE, engine="native")


def test_groups_are_added_up_without_missing_counts() -> None:
    """Counts summed per key; a part without a count, or with a missing one (None, NaN,
    ``pd.NA``), left out of it."""
    from benzoredux.tables import _added_up

    parts = [
        {"atc": "N05BA01", "__rows": 2, "__outside0": 0},
        {"atc": "N05BA01", "__rows": 1, "__outside0": pd.NA, "__null0": float("nan")},
        {"atc": "N05BA01", "__null0": 1, "__outside0": 1},
        {"atc": "N05CD08", "__rows": 4, "__outside0": None},
    ]
    assert _added_up(parts, ("atc",)) == [
        {"atc": "N05BA01", "__rows": 3, "__outside0": 1, "__null0": 1},
        {"atc": "N05CD08", "__rows": 4, "__outside0": None},
    ]
