"""Property: the fast readers (issue 19) read exactly what the record-by-record readers read.

Rule under test: "Reading stays exactly as strict: every row checked, rejected rows with
reasons" (issue 19). The reference is the code the fast path replaced
(``reading_reference.py``: Python's csv module record by record, pandas on every cell). For
generated exports, including broken ones, both must give the same text table (cells, line
numbers, ragged and unsplittable lines, blank rows, title lines) or the same error; and the
readers the same usable rows (values and dtypes), the same rejected rows with the same file,
line, column, value and reason, the same counts and notes.

Each property runs in several modes, so that every way of the fast path is held to the
reference on small files too: as is (a plain file split by polars' CSV reader); with pyarrow
splitting even a single line of a width (``_FEW = 1``); without the plain-file shortcut (every
file sorted line by line); and with a plain file split in pieces that pyarrow reads at the same
time (polars' split switched off, as on a polars without per-column categories).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import importlib.util
import io
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from benzoredux.reading import load_mapping, raw_table
from benzoredux.reading import raw as raw_module
from benzoredux.reading import text as text_module
from benzoredux.reading.raw import ParseSettings, RawTable, build_result
from benzoredux.reading.text import read_text_table


def _load(name: str, folder: Path) -> Any:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load the file.
    module_name = f"_benzoredux_reading_property_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, folder / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        sys.modules[module_name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module_name])
    return sys.modules[module_name]


HERE = Path(__file__).parent
reference = _load("reading_reference", HERE)
fuzzing = _load("fuzzing", HERE.parent / "reading")

TODAY = dt.date(2026, 1, 15)
MODES = ("as-is", "pyarrow-everywhere", "line-by-line", "in-pieces")


@contextlib.contextmanager
def mode(name: str) -> Iterator[None]:
    """The fast path as shipped, or forced into one of its ways (see the module docstring)."""
    saved = text_module._FEW, text_module._plain, text_module._PIECE, text_module._cores
    saved_polars = text_module._polars_plain
    try:
        if name == "pyarrow-everywhere":
            text_module._FEW = 1
        elif name == "line-by-line":
            text_module._plain = lambda *_args: None  # type: ignore[assignment]
        elif name == "in-pieces":  # a plain body split in three pieces at once, however small
            text_module._PIECE, text_module._cores = 8, lambda: 3
            text_module._polars_plain = lambda *_args: None  # type: ignore[assignment]
        yield
    finally:
        text_module._FEW, text_module._plain, text_module._PIECE, text_module._cores = saved
        text_module._polars_plain = saved_polars


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", result)`` or ``("error", (type name, message))``."""
    try:
        return "ok", call()
    except Exception as error:  # compared between the two paths, whatever it is
        return "error", (type(error).__name__, str(error))


def _cells(values: pd.Series) -> list[Any]:
    """Cells with every kind of missing as ``None`` (the reference's object columns hold
    ``None``, the fast path's categoricals ``NaN``: both are an empty field)."""
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def text_table_view(table: Any) -> dict[str, Any]:
    rows = table.rows
    return {
        "header": table.header,
        "columns": list(rows.columns),
        "cells": {name: _cells(rows[name]) for name in rows.columns},
        "bad_lines": table.bad_lines,
        "header_line": table.header_line,
        "preamble": table.preamble,
        "encoding": table.encoding,
        "separator": table.separator,
        "blank_rows": table.blank_rows,
        "blank_lines": table.blank_lines,
    }


def assert_same_text(path: Path, **options: Any) -> None:
    kind, expected = outcome(lambda: reference.read_text_table(path, **options))
    for name in MODES:
        with mode(name):
            got_kind, got = outcome(lambda: read_text_table(path, **options))
        assert got_kind == kind, (name, expected, got)
        if kind == "error":
            assert got == expected, name
        else:
            assert text_table_view(got) == text_table_view(expected), name


def assert_same_result(expected: Any, got: Any, where: str) -> None:
    assert got.format == expected.format, where
    assert got.counts == expected.counts, where
    assert dict(got.ignored) == dict(expected.ignored), where
    assert got.notes == expected.notes, where
    assert sorted(got.tables) == sorted(expected.tables), where
    for name, frame in expected.tables.items():
        pd.testing.assert_frame_equal(got.tables[name], frame, obj=f"{where}: {name}")
    pd.testing.assert_frame_equal(got.rejected, expected.rejected, obj=f"{where}: rejected")


# --- text: generated exports ---------------------------------------------------------------------

SEPARATORS = (";", ",", "\t", "|")
WORDS = ("P1", "01-02-2025", "N05BA04", "30", "2,5", "tablet", "Ça", "van ’t", "x" * 14)  # noqa: RUF001 - a real prefix
ODD = ("", " ", "\u00a0", "\u2003", "\x1c", "\x00", '"', 'a"b', '"x"y', "é", "€", "\r", "\n")


@st.composite
def cells(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.sampled_from(WORDS),
            st.sampled_from(ODD),
            st.text(alphabet=[*";,\t| \"'a1é\u00a0\r\n"], max_size=5),
        )
    )


@st.composite
def delimited_texts(draw: st.DrawFn) -> tuple[str, str]:
    """``(text, separator)``: title lines, a header, rows written as csv writes them or
    joined by hand (stray quotes), blank, spaces-only and separator-only lines, ragged rows,
    trailing separators, any line end."""
    sep = draw(st.sampled_from(SEPARATORS))
    width = draw(st.integers(1, 4))
    newline = draw(st.sampled_from(("\n", "\r\n", "\r")))
    lines = [draw(st.sampled_from(("Titel, met komma", "Periode: 2025", "")))]
    lines = lines[: draw(st.integers(0, 1))]
    trailing = draw(st.booleans())
    lines.append(sep.join([f"c{i}" for i in range(width)] + ([""] if trailing else [])))
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(("", "  ", "\u00a0", sep * width, sep + " "))))
            continue
        size = width if kind > 2 else draw(st.integers(1, width + 2))
        row = [draw(cells()) for _ in range(size)]
        if trailing:
            row.append(draw(st.sampled_from(("", " "))))
        if kind % 2:
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=sep, lineterminator="").writerow(row)
            lines.append(buffer.getvalue())
        else:
            lines.append(sep.join(row))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    if draw(st.booleans()):  # mixed line ends
        text = text.replace("\n", draw(st.sampled_from(("\r\n", "\n", "\r"))), 2)
    return text, sep


def _write(path: Path, text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path.write_bytes(data)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    export=delimited_texts(),
    encoding=st.sampled_from(("utf-8", "utf-8-sig", "cp1252")),
    option=st.sampled_from(("none", "is_header", "header_line", "separator")),
)
@example(export=('c0;c1\n1;"two\nlines"\n\n3;4\n', ";"), encoding="utf-8", option="none")
@example(
    export=('c0;c1\n1;2\n"Bakker" Jansen;3\n4;5\n6;"never closed\n7;8\n', ";"),
    encoding="utf-8",
    option="none",
)
@example(export=("c0;c1;c2;\n1;2;3;\n4;5\n6;7;8;9\n", ";"), encoding="utf-8", option="none")
@example(export=("\nc0;c1\n1;2\n;\n   ;  \n\n3;4\n", ";"), encoding="utf-8-sig", option="none")
@example(export=('c0;c1\r\n"a;b";"say ""hi"""\r\n' * 20, ";"), encoding="cp1252", option="none")
def test_text_tables_match_the_record_by_record_reader(
    tmp_path: Path, export: tuple[str, str], encoding: str, option: str
) -> None:
    text, sep = export
    note(repr(text))
    path = tmp_path / "export.csv"
    _write(path, text, encoding)
    options: dict[str, Any] = {
        "none": {},
        "is_header": {"is_header": lambda fields: "c0" in fields},
        "header_line": {"header_line": 2},
        "separator": {"separator": sep},
    }[option]
    assert_same_text(path, **options)


def test_a_large_plain_export_matches_line_for_line(tmp_path: Path) -> None:
    """Thousands of rows (pyarrow's blocks, dictionary chunks), a few odd lines among them."""
    rng = random.Random(19)
    rows = ["Patiëntnummer;Afleverdatum;ATC;Aantal"]
    for _ in range(20_000):
        day = f"{rng.randrange(1, 29):02d}-0{rng.randrange(1, 9)}-2025"
        rows.append(f"P{rng.randrange(900):04d};{day};N05BA04;{rng.choice(['30', '2,5', ' 60'])}")
    plain = "\r\n".join(rows) + "\r\n"
    for name, text in {
        "plain": plain,
        "odd": plain.replace("\r\nP0001;", '\r\n"P0001";', 3).replace("\r\nP0002;", "\r\n\r\n;", 2),
    }.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(text.encode("cp1252"))
        assert_same_text(path)


# --- text: files polars splits, and files it must hand back ---------------------------------------

PLAIN_WORDS = ("P1", "01-02-2025", "N05BA04", "30", "2,5", "", " ", "\u00a0", "é", "€", "#1", "'a'")


@st.composite
def plain_texts(draw: st.DrawFn) -> tuple[str, str]:
    """``(text, separator)``: quote-free files, mostly rows as wide as the first (which polars
    splits), now and then a line it must hand back: fewer or more fields, an empty or
    spaces-only line, a lone CR, a byte-order mark opening a line, a quote or a NUL byte."""
    sep = draw(st.sampled_from(SEPARATORS))
    width = draw(st.integers(1, 4))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    trailing = draw(st.booleans())  # a trailing separator on every line (the header's too)
    fields = width + trailing
    lines = [sep.join([f"c{i}" for i in range(width)] + ([""] if trailing else []))]
    for _ in range(draw(st.integers(1, 30))):
        row = [draw(st.sampled_from(PLAIN_WORDS)) for _ in range(fields)]
        if draw(st.integers(0, 9)) == 0:  # a line polars must not split
            odd = draw(st.sampled_from(("short", "long", "empty", "spaces", "cr", "bom", "quote")))
            if odd == "short":
                row = row[: draw(st.integers(0, max(fields - 1, 0)))]
            elif odd == "long":
                row += [draw(st.sampled_from(("", " ", "x")))]
            elif odd in ("empty", "spaces"):
                row = [] if odd == "empty" else ["  "]
            else:
                row[0] = {"cr": "a\rb", "bom": "\ufeff", "quote": 'a"b'}[odd] + row[0]
        lines.append(sep.join(row))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    return text, sep


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    export=plain_texts(),
    encoding=st.sampled_from(("utf-8", "utf-8-sig", "cp1252")),
    given_separator=st.booleans(),
)
@example(export=("c0;c1\n1;2\n3\n;\n", ";"), encoding="utf-8", given_separator=False)
@example(export=("c0;c1\r\n1;2\r\n3;4;5\r\n", ";"), encoding="utf-8", given_separator=False)
@example(export=("c0;c1\n\ufeff1;2\n3;4\n", ";"), encoding="utf-8", given_separator=False)
@example(export=("c0;c1\n1;2\r3;4\n", ";"), encoding="utf-8", given_separator=False)
def test_plain_text_tables_match_the_record_by_record_reader(
    tmp_path: Path, export: tuple[str, str], encoding: str, given_separator: bool
) -> None:
    text, sep = export
    note(repr(text))
    path = tmp_path / "export.csv"
    _write(path, text, encoding)
    assert_same_text(path, **({"separator": sep} if given_separator else {}))


@pytest.mark.parametrize(
    ("text", "split_by_polars"),
    [
        ("c0;c1\r\n1;2\r\n;\r\n ; \r\n3;4", True),  # blank rows of separators and spaces
        ("c0;c1;\n1;2;\n3;4; \n", True),  # a trailing separator on every line
        ("c0\n1\n\n \n2\n", True),  # one column: an empty line is a blank row
        ("c0;c1\n1;2\n3\n", False),  # a line with fewer fields
        ("c0;c1\n1;2\n3;4;5\n", False),  # a line with more fields
        ("c0;c1\n1;2\n\n3;4\n", False),  # an empty line among two columns
        ("c0;c1\n1;2\r3;4\n", False),  # a lone CR ends a line for csv
        ("c0;c1\n\ufeff1;2\n", False),  # a byte-order mark opening the body
        ("c0;c1\n1;" + "x" * 140_000 + "\n", False),  # a field csv refuses as too large
    ],
)
def test_polars_splits_only_what_it_splits_as_csv_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, split_by_polars: bool
) -> None:
    """The polars split is taken on plain files and handed back otherwise; either way the
    table is the record-by-record reader's."""
    taken: list[bool] = []
    split = text_module._polars_plain

    def spy(*args: Any) -> Any:
        found = split(*args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(text_module, "_polars_plain", spy)
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8"))
    assert_same_text(path)
    assert taken[0] is split_by_polars


def test_a_column_of_many_values_is_named_by_polars_as_the_reference_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past :data:`~benzoredux.reading.text._MANY_CATEGORIES` codes, a column's values are
    named by casting its codes in polars, not listed: empty and blank cells among them, and
    values that repeat, read as the record-by-record reader reads them."""
    named: list[int] = []
    values = text_module._category_values

    def spy(column: Any, physical: Any) -> Any:
        found = values(column, physical)
        named.append(len(found))
        return found

    monkeypatch.setattr(text_module, "_category_values", spy)
    many = text_module._MANY_CATEGORIES + 500
    lines = ["id;kind"]
    for i in range(many):
        cell = "" if i % 97 == 0 else " " if i % 89 == 0 else f"P{i % (many - 7):06d}"
        lines.append(f"{cell};{'' if i % 5 == 0 else i % 3}")
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    assert_same_text(path)
    assert max(named) > text_module._MANY_CATEGORIES


@pytest.mark.parametrize(
    ("text", "header_line"),
    [
        ("Export, Delft\n\nc0;c1\n1;2\n3;4\n", 3),  # a title and an empty line first
        ("Export\rtitel\r\nc0;c1\r\n1;2\r\n3;4", 3),  # a title ending in a lone CR
        ('"titel\nover twee regels"\nc0;c1\n1;2\n', 3),  # a quoted title over two lines
        ("\ufeffExport\nc0;c1\n1;2\n", 2),  # a byte-order mark opening the title
        ("c0;c1\n1;2\n", 1),
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_polars_reads_the_body_in_the_file_below_the_lines_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, header_line: int, encoding: str
) -> None:
    """polars is handed the file's bytes and told how many lines (line feeds) lie above the
    body, not a copy of the body: the rows are the record-by-record reader's whatever the
    lines above hold (a lone CR, a quoted line feed, a byte-order mark)."""
    import polars as pl

    skipped: list[int] = []
    read_csv = pl.read_csv

    def spy(source: Any, **options: Any) -> Any:
        skipped.append(options.get("skip_lines", 0))
        return read_csv(source, **options)

    monkeypatch.setattr(pl, "read_csv", spy)
    path = tmp_path / "export.csv"
    if encoding == "cp1252":  # transcoded to UTF-8 first (an accent in the body)
        text = text.replace("\ufeff", "").replace("1;2", "é;2")
    _write(path, text, encoding)
    assert_same_text(path, header_line=header_line)
    assert skipped
    assert skipped[0] == text[: text.index("c0;c1")].count("\n") + 1


@pytest.mark.parametrize(("long", "short"), [(None, 45_000), (45_000, 20_000)])
def test_a_large_file_polars_must_hand_back_is_read_as_csv_reads_it(
    tmp_path: Path, long: int | None, short: int | None
) -> None:
    """Lines of another width deep in a large file (which polars reads in chunks on every
    core): a line with more fields and one with fewer leave the separators' count as if every
    line were as wide as the first, so only polars' own refusal of the longer line stops the
    split; either way the file is read line by line, as csv reads it."""
    rng = random.Random(7)
    lines = ["Patiëntnummer;Afleverdatum;ATC;Aantal"]
    for _ in range(60_000):
        lines.append(f"P{rng.randrange(900):04d};0{rng.randrange(1, 9)}-03-2025;N05BA04;30")
    if long is not None:
        lines[long] = "P1;01-03-2025;N05BA04;30;extra"
    if short is not None:
        lines[short] = "P2;01-03-2025;N05BA04"
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    assert_same_text(path)


# --- readers: the fuzzers' exports ----------------------------------------------------------------

READERS = ("ais", "sfk", "his", "delimited", "delimited-mapping")


def _read_both(case: Any) -> None:
    from benzoredux.plugins import get_plugins

    options = dict(case.options)
    mapping = options.pop("mapping", None)
    parsed = load_mapping(mapping) if mapping is not None else None
    reader = options.pop("format", None) or (parsed.format if parsed else None) or "delimited"
    passed = {
        **options,
        "mapping": parsed,
        "strict": False,
        "duplicates": "reject",
        "code_map": {},
        "today": TODAY,
    }
    kind, expected = outcome(lambda: reference.read(reader, case.path, passed))
    for name in MODES:
        with mode(name):
            read = get_plugins().readers()[reader].read
            got_kind, got = outcome(lambda: read(case.path, options=passed))  # noqa: B023
        where = f"{case.reader} seed {case.seed} ({name})"
        assert got_kind == kind, (where, expected, got)
        if kind == "error":
            assert got == expected, where
        else:
            assert_same_result(expected, got, where)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reader=st.sampled_from(READERS), seed=st.integers(0, 10**6))
def test_readers_match_the_record_by_record_readers(
    tmp_path_factory: pytest.TempPathFactory, reader: str, seed: int
) -> None:
    folder = tmp_path_factory.mktemp(f"{reader}-{seed}")
    case = fuzzing.make_case(reader, seed, folder)
    note(f"{reader} seed {seed}")
    _read_both(case)


@pytest.mark.parametrize("reader", ["ais-xlsx", "delimited-xlsx"])
def test_workbooks_match_the_record_by_record_readers(tmp_path: Path, reader: str) -> None:
    pytest.importorskip("openpyxl")
    for seed in range(6):
        _read_both(fuzzing.make_case(reader, seed, tmp_path / str(seed)))


# --- build_result: any frame a reader hands over --------------------------------------------------

VALUES = (
    "P1",
    " P1",
    "p1",
    "01-02-2025",
    "2025-02-01",
    "31-02-2025",
    "N05BA04",
    "n05ba04",
    "30",
    "30,0",
    " 30 ",
    "2,5",
    "1.000",
    "-0",
    "9" * 30,
    "tablet",
    "Zalf",
    "",
    "  ",
    "ja",
    "Nee",
    "V",
    "q",
)


@st.composite
def raw_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A dispensings frame of text cells, as a plugin might hand it over: object cells that
    are strings (the same value as one object or as several), numbers, ``None`` or ``NaN``;
    or a pandas string or categorical column."""
    rows = draw(st.integers(0, 12))
    columns: dict[str, Any] = {}
    for name in ("patient_id", "date", "atc", "quantity", "strength_mg", "form", "channel"):
        if name not in ("patient_id", "date", "atc", "quantity") and draw(st.booleans()):
            continue
        picked = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(VALUES),
                    st.sampled_from([None, float("nan"), 30, 2.5, True]),
                ),
                min_size=rows,
                max_size=rows,
            )
        )
        # Equal strings as distinct objects too (the fast path tells cells apart by identity).
        values = [
            ("".join(list(v)) if isinstance(v, str) and draw(st.booleans()) else v) for v in picked
        ]
        kind = draw(st.sampled_from(("object", "string", "category")))
        series = pd.Series(values, dtype=object)
        if kind == "string":
            series = series.map(lambda v: v if isinstance(v, str) else None).astype("string")
        elif kind == "category":
            series = series.map(lambda v: v if isinstance(v, str) else None).astype("category")
        columns[name] = series
    return pd.DataFrame(columns)


@settings(max_examples=100, deadline=None)
@given(frames=st.lists(raw_frames(), min_size=1, max_size=2), duplicates=st.booleans())
def test_build_result_matches_converting_every_cell(
    frames: list[pd.DataFrame], duplicates: bool
) -> None:
    settings_ = ParseSettings.dutch(today=TODAY)
    raws = [
        RawTable(
            table="dispensings",
            frame=frame,
            file=f"f{i}.csv",
            settings=settings_,
            lines=list(range(2, len(frame) + 2)),
        )
        for i, frame in enumerate(frames)
    ]
    option = "reject" if duplicates else "keep"
    kind, expected = outcome(
        lambda: reference.build_result("x", Path("x"), raws, duplicates=option)
    )
    got_kind, got = outcome(lambda: build_result("x", Path("x"), raws, duplicates=option))
    assert got_kind == kind, (expected, got)
    if kind == "error":
        assert got == expected
    else:
        assert_same_result(expected, got, "build_result")


def test_the_rows_are_checked_a_block_at_a_time_like_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of three rows: a duplicate, a bad code and a missing value in different
    blocks are all found, with their own lines."""
    path = tmp_path / "d.csv"
    path.write_text(
        "patient_id;date;atc;quantity\n"
        + "".join(f"p{i};0{1 + i % 9}-02-2025;N05BA04;30\n" for i in range(10))
        + "p1;02-02-2025;N05BA04;30\np2;01-02-2025;N05BAX;30\np3;01-02-2025;N05BA04;\n"
    )
    monkeypatch.setattr(raw_module, "CHECK_ROWS", 3)
    case = fuzzing.Case("delimited", 0, path, None, {"format": "delimited"})
    _read_both(case)


def test_every_row_is_checked_a_block_at_a_time_when_combinations_cannot_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row checks on every row, a block at a time (what the check of distinct
    combinations falls back to), find what the record-by-record reader finds."""
    path = tmp_path / "d.csv"
    path.write_text(
        "patient_id;date;atc;quantity;form\n"
        + "".join(f"p{i};0{1 + i % 9}-02-2025;N05BA04;30;tablet\n" for i in range(10))
        + "p1;02-02-2025;N05BA04;30;tablet\np2;01-02-2025;N05BAX;30;zalf\n"
        + "p3;01-02-2025;N05BA04;;tablet\np4;01-02-2025;N05BA04;30;zalf\n"
    )
    monkeypatch.setattr(raw_module, "CHECK_ROWS", 3)
    monkeypatch.setattr(raw_module, "_distinct_rule_pairs", lambda *_args: None)
    case = fuzzing.Case("delimited", 0, path, None, {"format": "delimited"})
    _read_both(case)


def test_a_count_over_rows_is_checked_over_all_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patients' patient_id must be unique: a rule over all rows, so the rows are not
    checked a block at a time, and copies far apart are still found."""
    path = tmp_path / "patients.csv"
    path.write_text(
        "patient_id;birth_date;sex\n"
        + "".join(f"p{i};01-02-1950;V\n" for i in range(8))
        + "p1;01-02-1950;M\np7;02-02-1950;V\n"
    )
    monkeypatch.setattr(raw_module, "CHECK_ROWS", 2)
    case = fuzzing.Case("delimited", 0, path, None, {"format": "delimited"})
    _read_both(case)
    from benzoredux.reading import read_source

    rejected = read_source(path, strict=False, today=TODAY).rejected
    assert sorted(rejected["line"].tolist()) == [3, 9, 10, 11]  # every copy of p1 and p7


def test_the_reference_is_the_record_by_record_reader(tmp_path: Path) -> None:
    """The reference reads what the shipped readers read on a plain file (a check that the
    copy in reading_reference.py is whole)."""
    path = tmp_path / "d.csv"
    path.write_text("patient_id;date;atc;quantity\np1;01-02-2025;N05BA04;30\n")
    text = reference.read_text_table(path)
    table, _ = reference.raw_table(text, "dispensings", {"patient_id": ("patient_id",)})
    assert text.rows["patient_id"].tolist() == ["p1"]
    assert table.lines == [2]
    fast, _ = raw_table(read_text_table(path), "dispensings", {"patient_id": ("patient_id",)})
    assert list(fast.lines) == [2]
