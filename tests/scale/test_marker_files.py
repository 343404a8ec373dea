"""A Parquet dataset's marker and hidden files are left out, on every route (issue 19).

Rule under test: ``benzoredux.engine.parquet_files`` and ``open_lazy_source`` leave out the
files and folders whose names start with ``_`` or ``.`` below a dataset's folder, and in the
part of a glob's match that its wildcards matched, as Spark and pyarrow datasets do
(``IGNORED_PREFIXES``): ``_SUCCESS``, ``_metadata``, ``_committed_<id>``, ``.crc`` checksum
files, a ``_temporary`` folder. The scan reads exactly the files whose footers the row checks
read. Before, polars read the folder's ``_SUCCESS`` and failed, a glob ``folder/*`` was refused
for it, and a glob ``folder/*.parquet`` read hidden Parquet files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import benzoredux
from benzoredux import engine
from benzoredux.errors import InvalidRowsError
from benzoredux.parquet_statistics import read_statistics

REFERENCE = "2025-12-31"


def _table(patient: str, quantity: float = 50.0) -> pa.Table:
    """Two dispensings of oxazepam to one patient: a chronic user at 2 x 50 tablets."""
    return pa.table(
        {
            "patient_id": [patient, patient],
            "date": pa.array([dt.date(2025, 2, 1), dt.date(2025, 8, 1)]),
            "atc": ["N05BA04", "N05BA04"],
            "quantity": [quantity, quantity],
        }
    )


def _spark_folder(root: Path) -> Path:
    """A folder as Spark writes it: two data files, and beside them what is not data.

    Each file that is not data would change the answer if it were read: a Parquet file of
    another chronic user (hidden, or in the ``_temporary`` folder of an unfinished job), or
    bytes that are not Parquet at all.
    """
    folder = root / "dispensings"
    (folder / "_temporary" / "0").mkdir(parents=True)
    pq.write_table(_table("p1"), folder / "part-00000-c000.snappy.parquet")
    pq.write_table(_table("p2"), folder / "part-00001-c000.snappy.parquet")
    pq.write_table(_table("stale"), folder / "_temporary" / "0" / "part-00002.snappy.parquet")
    pq.write_table(_table("hidden"), folder / ".part-00003.snappy.parquet")
    pq.write_metadata(_table("p1").schema, folder / "_metadata")
    pq.write_metadata(_table("p1").schema, folder / "_common_metadata")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "_committed_8731").write_text('{"added": ["part-00000-c000.snappy.parquet"]}')
    (folder / "_started_8731").write_bytes(b"")
    (folder / ".part-00000-c000.snappy.parquet.crc").write_bytes(b"crc\x00\x01\x02\x03")
    return folder


def _selected(source: Any) -> list[tuple[str, float]]:
    result = benzoredux.select_chronic_users(source, REFERENCE).collect()
    return sorted(result.select("patient_id", "units").rows())


def test_a_folder_with_spark_markers_reads_its_data_files_only(tmp_path: Path) -> None:
    folder = _spark_folder(tmp_path)
    assert _selected(folder) == [("p1", 100.0), ("p2", 100.0)]
    assert _selected(str(folder) + "/") == [("p1", 100.0), ("p2", 100.0)]
    assert [p.name for p in engine.parquet_files(folder)] == [
        "part-00000-c000.snappy.parquet",
        "part-00001-c000.snappy.parquet",
    ]


@pytest.mark.parametrize("pattern", ["*", "*.parquet", "part-*", "**/*.parquet", "**/*"])
def test_a_glob_leaves_out_what_its_wildcards_match_of_markers(
    tmp_path: Path, pattern: str
) -> None:
    folder = _spark_folder(tmp_path)
    assert _selected(str(folder / pattern)) == [("p1", 100.0), ("p2", 100.0)]


def test_a_glob_that_names_an_underscore_folder_reads_it(tmp_path: Path) -> None:
    """Only what a wildcard matched is left out: a folder the caller spells out is read."""
    folder = _spark_folder(tmp_path)
    assert _selected(str(folder / "_temporary" / "*" / "*.parquet")) == [("stale", 100.0)]


def test_a_file_path_is_read_as_named(tmp_path: Path) -> None:
    folder = _spark_folder(tmp_path)
    assert _selected(folder / "part-00001-c000.snappy.parquet") == [("p2", 100.0)]
    assert _selected(folder / ".part-00003.snappy.parquet") == [("hidden", 100.0)]
    with pytest.raises(ValueError, match="is not a Parquet file"):
        benzoredux.select_chronic_users(folder / "_SUCCESS", REFERENCE)


def test_a_folder_of_markers_only_is_named_as_empty(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "_SUCCESS").write_bytes(b"")
    pq.write_table(_table("hidden"), folder / ".hidden.parquet")
    with pytest.raises(FileNotFoundError, match=r"no \.parquet file in directory.*left out"):
        benzoredux.select_chronic_users(folder, REFERENCE)
    with pytest.raises(FileNotFoundError, match=r"no file matches.*left out"):
        benzoredux.select_chronic_users(str(folder / "*"), REFERENCE)


def test_the_footer_proof_reads_the_files_the_scan_reads(
    tmp_path: Path, bounds_calls: list[str]
) -> None:
    """The footers of the data files prove the checks, for the folder and for a glob."""
    folder = _spark_folder(tmp_path)
    assert read_statistics(folder).rows == 4
    assert read_statistics(str(folder / "**" / "*")).rows == 4
    for source in (folder, str(folder / "*")):
        assert _selected(source) == [("p1", 100.0), ("p2", 100.0)]
    assert bounds_calls == []  # proven by the footers, not checked over the rows


def test_a_bad_row_in_a_marker_file_is_not_read_and_one_in_a_data_file_is(
    tmp_path: Path,
) -> None:
    folder = _spark_folder(tmp_path)
    bad = _table("p3").set_column(0, "patient_id", pa.array(["", "p3"]))
    pq.write_table(bad, folder / "_temporary" / "0" / "part-00004.snappy.parquet")
    assert _selected(folder) == [("p1", 100.0), ("p2", 100.0)]
    pq.write_table(bad, folder / "part-00004-c000.snappy.parquet")
    with pytest.raises(InvalidRowsError):
        _selected(folder)


def test_a_users_own_scan_of_hidden_files_is_not_proven_by_other_footers(
    tmp_path: Path,
) -> None:
    """polars' own glob reads a hidden Parquet file that the footers leave out: the caller's
    scan is what runs, so its rows are checked, and the bad row in the hidden file found."""
    folder = _spark_folder(tmp_path)
    bad = _table("p3").set_column(0, "patient_id", pa.array(["", "p3"]))
    pq.write_table(bad, folder / ".part-00005.snappy.parquet")
    scan = pl.scan_parquet(str(folder / "*.parquet"))
    assert engine.parquet_dataset(scan) is not None  # a bare scan: the footer route is tried
    with pytest.raises(InvalidRowsError):
        benzoredux.select_chronic_users(scan, REFERENCE)


def _hive(root: Path) -> Path:
    folder = root / "dispensings"
    for practice, patient in (("noord", "n1"), ("zuid", "z1")):
        (folder / f"practice={practice}").mkdir(parents=True)
        pq.write_table(_table(patient), folder / f"practice={practice}" / "part-0.parquet")
    (folder / "_temporary" / "practice=oost").mkdir(parents=True)
    pq.write_table(_table("stale"), folder / "_temporary" / "practice=oost" / "part-0.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    return folder


def test_a_hive_partitioned_folder_keeps_its_partition_column(tmp_path: Path) -> None:
    folder = _hive(tmp_path)
    scan = engine.open_lazy_source(folder)
    assert scan.collect_schema().names() == ["patient_id", "date", "atc", "quantity", "practice"]
    rows = scan.select("patient_id", "practice").unique().sort("patient_id").collect().rows()
    assert rows == [("n1", "noord"), ("z1", "zuid")]
    assert _selected(folder) == [("n1", 100.0), ("z1", 100.0)]


def test_a_hive_folder_below_a_partition_like_folder(tmp_path: Path) -> None:
    """A ``name=value`` part above the dataset is no partition, as for polars' own folder scan;
    with files to leave out below an ignored subfolder that cannot be kept apart: refused."""
    (tmp_path / "run=1").mkdir()
    folder = _hive(tmp_path / "run=1")
    with pytest.raises(ValueError, match="hive-partitioned folder"):
        engine.open_lazy_source(folder)
    for child in (folder / "_temporary" / "practice=oost").iterdir():
        child.unlink()
    scan = engine.open_lazy_source(folder)
    assert scan.collect_schema().names() == pl.scan_parquet(folder).collect_schema().names()
    assert "run" not in scan.collect_schema().names()
    assert _selected(folder) == [("n1", 100.0), ("z1", 100.0)]
