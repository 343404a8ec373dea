"""The rows a pandas or pyarrow selection reads, kept from the pass of its row checks (issue 19).

A large pandas or pyarrow input is checked slice by slice (:class:`benzoredux.engine.ArrowSlices`);
each slice, once converted and checked, gives the selection window's rows of the drugs concerned
(:class:`benzoredux.engine.KeptRows`), and the selection reads only those. These tests lower the
threshold to 0 and the slices to two rows, so that the rows the selection needs lie in different
slices, with different codes in each, and hold the result to the route that moves the frame whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import benzoredux as br
import benzoredux.engine
import benzoredux.selection
from benzoredux.engine import ArrowSlices, KeptRows
from benzoredux.tables import DistinctValues

REFERENCE = dt.date(2025, 12, 31)


def _rows() -> pd.DataFrame:
    """Dispensings whose rows of interest are spread over slices of two rows: a chronic user
    (p1) with a complex co-medication row in a later slice, a chronic user without (p2), rows
    before the window and a drug that is no benzodiazepine."""
    return pd.DataFrame(
        {
            "patient_id": pd.Series(
                ["p1", "p2", "p1", "p3", "p2", "p1", "p9", "p2", "p1"], dtype="str"
            ),
            "date": pd.to_datetime(
                [
                    "2025-02-01",
                    "2025-02-10",
                    "2025-06-01",
                    "2025-04-01",
                    "2025-07-01",
                    "2024-03-01",
                    "2025-05-01",
                    "2025-11-01",
                    "2025-09-01",
                ]
            ),
            "atc": pd.Series(
                [
                    "N05BA04",
                    "N05CD08",
                    "N05BA04",
                    "C09AA02",
                    "N05CD08",
                    "N05BA04",
                    "N05BA01",
                    "N05CD08",
                    "N05AH04",
                ],
                dtype="str",
            ),
            "quantity": [60.0, 40.0, 60.0, 90.0, 40.0, 300.0, 20.0, 40.0, 30.0],
            "strength_mg": [10.0, 7.5, 10.0, 20.0, 7.5, 10.0, 2.0, 7.5, 25.0],
            "form": pd.Series(["tablet"] * 9, dtype="str"),
            "prescriber_id": pd.Series(
                ["g1", "g2", "g1", "g3", "g2", "g1", "g4", "g5", "g1"], dtype="str"
            ),
        }
    )


def _table(result: Any) -> pa.Table:
    return pa.Table.from_pandas(result) if isinstance(result, pd.DataFrame) else result


def _select(source: Any, monkeypatch: pytest.MonkeyPatch | None, **options: Any) -> pa.Table:
    if monkeypatch is None:
        return _table(br.select_chronic_users(source, REFERENCE, **options))
    with monkeypatch.context() as patch:
        patch.setattr(benzoredux.engine, "BATCHES_FROM_ROWS", 0)
        patch.setattr(benzoredux.engine, "SLICE_ROWS", 2)
        return _table(br.select_chronic_users(source, REFERENCE, **options))


@pytest.mark.parametrize("kind", ["pandas", "pyarrow"])
@pytest.mark.parametrize("include_excluded", [False, True])
def test_selection_from_kept_rows_equals_the_whole_frame(
    kind: str, include_excluded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _rows()
    source = frame if kind == "pandas" else pa.Table.from_pandas(frame, preserve_index=False)
    taken: list[int] = []
    original = KeptRows.frame

    def spy(self: KeptRows) -> nw.LazyFrame[Any]:
        result = original(self)
        taken.append(len(result.collect()))
        return result

    monkeypatch.setattr(KeptRows, "frame", spy)
    sliced = _select(source, monkeypatch, include_excluded=include_excluded)
    whole = _select(source, None, include_excluded=include_excluded)
    # The window's rows of benzodiazepines and of the co-medication groups: seven of nine
    # (the row of 2024 and the drug that is no benzodiazepine are not kept).
    assert taken == [7]
    assert sliced.equals(whole)
    selected = dict(zip(sliced["patient_id"].to_pylist(), sliced["units"].to_pylist(), strict=True))
    if include_excluded:
        assert selected == {"p1": 120.0, "p2": 120.0}
        assert sliced["complex_groups"].to_pylist() == ["N05A", ""]
    else:
        assert selected == {"p2": 120.0}  # p1 is excluded: complex co-medication (N05AH04)


def test_unknown_codes_are_still_reported_from_kept_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _rows()
    frame.loc[6, "atc"] = "N05BA99"  # a code of the group that the library does not know
    with pytest.warns(br.UnknownCodesWarning, match=r"N05BA99: 1 row"):
        sliced = _select(frame, monkeypatch)
    with pytest.warns(br.UnknownCodesWarning, match=r"N05BA99: 1 row"):
        whole = _select(frame, None)
    assert sliced.equals(whole)


def test_without_a_pass_over_every_slice_the_queries_read_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checks that decide without reading the slices keep no rows: the selection then reads
    the Arrow table itself, and gives the same answer."""
    monkeypatch.setattr(benzoredux.selection, "check_rows", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        KeptRows, "frame", lambda self: pytest.fail("no rows were kept, none may be read")
    )
    assert _select(_rows(), monkeypatch).equals(_select(_rows(), None))


def _kept(table: pa.Table) -> tuple[KeptRows, ArrowSlices]:
    kept = KeptRows(
        ["patient_id", "quantity"],
        lambda part, found: part.filter(found.atc_in(br.codes.benzodiazepine_groups())),
    )
    return kept, ArrowSlices(table, ["atc"], kept=kept)


def test_kept_rows_are_whole_only_after_every_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(benzoredux.engine, "SLICE_ROWS", 2)
    table = pa.Table.from_pandas(_rows(), preserve_index=False)
    kept, slices = _kept(table)
    parts = iter(slices)
    first = next(parts)
    assert set(first.collect_schema()) == {"atc", "patient_id", "quantity"}  # and kept columns
    kept.take(first, DistinctValues(first), 2)
    assert not kept.complete
    with pytest.raises(RuntimeError, match="did not read every row"):
        kept.frame()
    for part in parts:
        kept.take(part, DistinctValues(part), len(part.collect()))
    assert kept.complete
    rows = kept.frame().collect().to_native()
    assert rows.columns == ["patient_id", "quantity"]
    assert rows["quantity"].to_list() == [60.0, 40.0, 60.0, 40.0, 300.0, 20.0, 40.0]


def test_kept_rows_of_an_empty_table_have_the_table_s_types() -> None:
    table = pa.Table.from_pandas(_rows(), preserve_index=False).slice(0, 0)
    kept, slices = _kept(table)
    assert list(slices) == []
    assert kept.complete
    rows = kept.frame().collect().to_native()
    assert rows.schema == pl.Schema({"patient_id": pl.String, "quantity": pl.Float64})
    assert rows.height == 0


def test_a_text_column_kept_is_bounded_on_the_slices_not_by_pyarrow() -> None:
    """A column converted anyway for the rows kept is bounded by polars on the slices."""
    table = pa.Table.from_pandas(_rows(), preserve_index=False)
    _, slices = _kept(table)
    assert slices.text_bounds("patient_id") is None
    assert slices.text_bounds("prescriber_id") == (0, "g1", "g5")
