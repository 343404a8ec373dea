"""read_source: format detection, the collected report, lenient mode, counts, duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.hookspecs import Reader, hookimpl
from benzoredux.plugins import PluginError, using_plugins
from benzoredux.reading import (
    PROBLEM_COLUMNS,
    ReadError,
    ReadResult,
    UnknownFormatError,
    build_result,
    detect_format,
    read_source,
)
from benzoredux.reading.mapping import MappingFileError, load_mapping

TODAY = dt.date(2026, 1, 15)
"""Two-digit birth years are placed in the past relative to this day."""

HEADER = "patient_id;date;atc;quantity\n"


def _write(tmp_path: Path, text: str, name: str = "d.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_every_problem_is_reported_at_once_with_file_line_column_and_value(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "p1;01-02-2025;N05BA04;30\n"
        + "p2;31-02-2025;N05BA04;30\n"  # no such day
        + "p3;01-03-2025;N05BA4;1.5\n"  # bad ATC and a decimal point in a comma file
        + "p4;01-03-2025;N05BA04\n",  # a field short
    )
    with pytest.raises(ReadError) as caught:
        read_source(path)
    message = str(caught.value)
    assert "3 of the 4 rows of dispensings cannot be used (4 problems)" in message
    assert "d.csv, line 3, column 'date': not a real date written DD-MM-YYYY" in message
    assert "(value hidden: a date written like 99-99-9999)" in message  # dates never shown
    assert "d.csv, line 4, column 'atc': atc is not a 7-character ATC code" in message
    assert "d.csv, line 4, column 'quantity': not a number written with a decimal comma" in message
    assert "d.csv, line 5: line has 3 fields where the header has 4" in message
    assert caught.value.result is not None
    assert len(caught.value.result.rejected) == 4


def test_lenient_mode_returns_good_rows_and_rejected_rows_that_reconcile(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "p1;01-02-2025;N05BA04;30\np2;31-02-2025;N05BA04;30\np3;;N05BA04;30\n",
    )
    result = read_source(path, strict=False)
    assert isinstance(result, ReadResult)
    assert result.format == "delimited"
    assert result.dispensings is not None
    assert result.dispensings["patient_id"].tolist() == ["p1"]
    counts = result.counts["dispensings"]
    assert (counts.rows_read, counts.rows_valid, counts.rows_rejected) == (3, 1, 2)
    assert result.reconciles
    assert tuple(result.rejected.columns) == PROBLEM_COLUMNS
    assert result.rejected["line"].tolist() == [3, 4]
    # The unparseable date is reported once, not also as "date is missing".
    assert result.rejected["reason"].tolist() == [
        "not a real date written DD-MM-YYYY, DD-MM-YY or YYYY-MM-DD",
        "date is missing",
    ]


def test_exact_duplicate_dispensings_are_rejected_keeping_the_first(tmp_path: Path) -> None:
    rows = "p1;01-02-2025;N05BA04;30\np1;01-02-2025;N05BA04;30,0\np1;02-02-2025;N05BA04;30\n"
    path = _write(tmp_path, HEADER + rows)
    result = read_source(path, strict=False)
    assert result.dispensings is not None
    assert len(result.dispensings) == 2
    assert result.rejected["reason"].tolist() == ["exact duplicate of line 2"]
    assert result.rejected["line"].tolist() == [3]
    kept = read_source(path, duplicates="keep")
    assert kept.dispensings is not None
    assert len(kept.dispensings) == 3


def test_bsn_is_checked_with_the_eleven_test_kept_and_never_shown(tmp_path: Path) -> None:
    """Issue 17: a BSN failing the 11-test is a warning with its line, not a rejected row (a
    practice may have odd data); the value is never in the note."""
    path = _write(
        tmp_path,
        "patient_id;bsn;birth_date\np1;123456782;01-01-1950\np2;123456789;01-01-1950\n"
        "p3;12345672;01-01-1950\n",
    )
    result = read_source(path)  # strict: nothing is rejected
    assert result.patients is not None
    assert result.patients["bsn"].tolist() == ["123456782", "123456789", "012345672"]
    assert len(result.rejected) == 0
    assert (
        "d.csv, column 'bsn', line 3: the BSN fails the 11-test; the row is kept, correct the "
        "BSN in the practice's own system"
    ) in result.notes
    assert not any("123456789" in note for note in result.notes)


def test_unknown_format_lists_every_known_format(tmp_path: Path) -> None:
    path = _write(tmp_path, "foo;bar\n1;2\n", name="x.csv")
    with pytest.raises(UnknownFormatError) as caught:
        read_source(path)
    message = str(caught.value)
    assert "no reader recognises this source" in message
    for name in ("ais", "delimited", "fhir", "his", "sfk"):
        assert f"\n  {name}: " in message


class _Claims:
    description = "claims everything"

    def __init__(self, name: str, score: float, result: Any = None) -> None:
        self.name = name
        self.score = score
        self.result = result

    def detect(self, source: Path) -> float:
        return self.score

    def read(self, source: Path, *, options: Mapping[str, Any]) -> Any:
        return self.result


def _plugin(*readers: Any) -> Any:
    class Plugin:
        @staticmethod
        @hookimpl
        def benzoredux_register_readers(register: Callable[[Reader], None]) -> None:
            for reader in readers:
                register(reader)

    return Plugin()


def test_the_most_confident_reader_wins_and_ties_are_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "x\n", name="x.weird")
    with using_plugins(_plugin(_Claims("low", 0.2), _Claims("high", 0.7)), entry_points=False):
        assert detect_format(path) == "high"
    with (
        using_plugins(_plugin(_Claims("one", 0.7), _Claims("two", 0.7)), entry_points=False),
        pytest.raises(UnknownFormatError, match="formats one, two recognise this source equally"),
    ):
        detect_format(path)
    with (
        using_plugins(entry_points=False),
        pytest.raises(UnknownFormatError, match="no reader is registered"),
    ):
        detect_format(path)


def test_a_reader_must_return_a_read_result_that_reconciles(tmp_path: Path) -> None:
    path = _write(tmp_path, "x\n", name="x.weird")
    with (
        using_plugins(_plugin(_Claims("bad", 1.0, {"rows": []})), entry_points=False),
        pytest.raises(PluginError, match=r"returned dict, not a benzoredux\.reading\.ReadResult"),
    ):
        read_source(path)
    good = build_result("cheat", path, [])
    from benzoredux.reading.result import TableCounts

    cheat = ReadResult(
        format="cheat",
        source=path,
        tables={"dispensings": pd.DataFrame({"patient_id": ["p1"]})},
        counts={"dispensings": TableCounts("dispensings", 5, 1, 0)},
    )
    assert good.reconciles
    with (
        using_plugins(_plugin(_Claims("cheat", 1.0, cheat)), entry_points=False),
        pytest.raises(PluginError, match="do not reconcile"),
    ):
        read_source(path)


def test_forcing_an_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER)
    with pytest.raises(UnknownFormatError, match=r"no reader called 'acme'.*\n  ais: "):
        read_source(path, format="acme")


def test_missing_required_columns_name_file_and_columns_found(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pat;Datum;Code\np1;01-02-2025;N05BA04\n")
    with pytest.raises(
        ReadError,
        match=r"d\.csv \(dispensings\): missing required column\(s\) 'quantity'; "
        r"columns found: 'Pat', 'Datum', 'Code'",
    ):
        read_source(
            path,
            mapping={
                "table": "dispensings",
                "columns": {"Pat": "patient_id", "Datum": "date", "Code": "atc"},
            },
        )


def test_mapping_file_renames_columns_and_sets_formats(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'table = "dispensings"\n[file]\nseparator = "|"\ndecimal = "."\nthousands = ","\n'
        'date_formats = ["%d.%m.%Y"]\n[columns]\n"Pat nr" = "patient_id"\nDatum = "date"\n'
        'ATC = "atc"\nAantal = "quantity"\n'
    )
    path = _write(tmp_path, "Pat nr|Datum|ATC|Aantal\np1|01.02.2025|n05ba04|1,000.5\n")
    result = read_source(path, mapping=mapping)
    assert result.dispensings is not None
    row = result.dispensings.iloc[0]
    assert (row["date"].date().isoformat(), row["atc"], row["quantity"]) == (
        "2025-02-01",
        "N05BA04",
        1000.5,
    )


def test_mapping_file_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match=r"unknown key 'file\.seperator'"):
        load_mapping({"file": {"seperator": ";"}})
    with pytest.raises(MappingFileError, match="'datum' is not a canonical column"):
        load_mapping({"columns": {"Datum": "datum"}})
    with pytest.raises(MappingFileError, match="table = 'prescriptions' is not one of"):
        load_mapping({"table": "prescriptions"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[columns\n")
    with pytest.raises(MappingFileError, match=r"bad\.toml: not a valid TOML file"):
        load_mapping(bad)


def test_a_missing_source_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read_source(tmp_path / "nope.csv")


def test_today_only_matters_for_two_digit_birth_years(tmp_path: Path) -> None:
    path = _write(tmp_path, "patient_id;birth_date\np1;01-05-45\n")
    result = read_source(path, today=TODAY)
    assert result.patients is not None
    assert result.patients["birth_date"].iloc[0] == pd.Timestamp("1945-05-01")
