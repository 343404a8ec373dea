"""No personal data in any message (issue 16, item 1), tested generically.

Every reader's input (AIS, HIS, SFK, FHIR in JSON and XML, the generic reader with a mapping
file, canonical CSV) gets planted names, BSNs, birth dates in six formats and postcodes in
every column (:mod:`tests.privacy.exports`); so does dataframe input to the validation and the
selection.
The tests drive each through its error paths (bad dates, numbers and codes, values outside a
closed set, duplicates, no header line, an empty file, a required column missing; strict and
not strict), through the library and through the command line with and without ``--debug``,
and look for the planted values in every message, note, warning, log record and exception
text with its whole chain (what a ``--debug`` traceback prints). None may appear. The rejected
rows (:attr:`~benzoredux.reading.ReadResult.rejected`) may hold them: they are patient data.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from attrs import evolve
from click.testing import CliRunner
from tests.privacy.exports import (
    CANONICAL_DISPENSINGS,
    CANONICAL_EPISODES,
    CANONICAL_PATIENTS,
    EXPORTS,
    Export,
    TabularFile,
    fhir_bundle,
    write_fhir,
)
from tests.privacy.planting import (
    BIRTH_DATE,
    BSNS,
    GIVEN_NAME,
    NAME,
    PLANTED,
    POSTCODES,
    assert_no_leak,
    exception_texts,
    leaks,
    log_texts,
    warning_texts,
)

import benzoredux as br
from benzoredux.cli import main
from benzoredux.reading import ReadError, read_canonical, read_source
from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

REFERENCE_DATE = "2025-12-31"
SCHEMAS = {"dispensings": DISPENSINGS, "patients": PATIENTS, "episodes": EPISODES}


def _result_texts(result: br.ReadResult) -> Iterator[str]:
    """What a reader's result says to a person: its report, notes, counts and what it ignored."""
    yield result.report(limit=max(len(result.rejected), 1))
    yield from result.notes
    yield from (str(c) for c in result.counts.values())
    yield from (str(k) for k in result.ignored)


def _reading_texts(
    source: Path, format: str, mapping: Path | None, records: Callable[[], list[logging.LogRecord]]
) -> list[str]:
    """Everything reading ``source`` says, not strict (then raising as strict would) and
    strict."""
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for strict in (False, True):
            try:
                result = read_source(source, format=format, mapping=mapping, strict=strict)
            except Exception as error:  # every error's text is what is checked
                texts += exception_texts(error)
                continue
            texts += _result_texts(result)
            if not strict:
                assert result.reconciles
                try:
                    result.raise_if_rejected()
                except ReadError as error:
                    texts += exception_texts(error)
    return [*texts, *warning_texts(caught), *log_texts(records())]


VARIANTS: dict[str, dict[str, bool]] = {
    "planted": {},
    "no-header-line": {"header": False},
    "empty-file": {"empty": True},
    "required-column-missing": {"missing": True},
}


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Callable[[], list[logging.LogRecord]]:
    """Every log record of every logger, from DEBUG up."""
    caplog.set_level(logging.DEBUG)
    return lambda: list(caplog.records)


def test_the_exports_plant_every_value_in_every_column(tmp_path: Path) -> None:
    """The sweep below is only as good as its input: each planted value is in each column."""
    for export in EXPORTS:
        source, _ = export.write(tmp_path / export.id)
        files = [source] if source.is_file() else sorted(source.iterdir())
        for file, spec in zip(files, sorted(export.files, key=lambda f: f.name), strict=True):
            text = file.read_text(encoding="utf-8")
            rows = [line.split(spec.separator) for line in text.splitlines()]
            header = rows[len(spec.preamble)]
            for position, column in enumerate(header):
                cells = {row[position] for row in rows[len(spec.preamble) + 1 :]}
                assert set(PLANTED) <= cells, (export.id, column)
    bundle = fhir_bundle()
    text = str(bundle)
    assert all(value in text for value in PLANTED)
    assert len(bundle["entry"]) > 100 * len(fhir_bundle(personal_only=True)["entry"])


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("export", EXPORTS, ids=[e.id for e in EXPORTS])
def test_reading_an_export_says_nothing_planted(
    export: Export,
    variant: str,
    tmp_path: Path,
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    source, mapping = export.write(tmp_path, **VARIANTS[variant])
    texts = _reading_texts(source, export.format, mapping, records)
    assert texts  # every variant has something to say: problems, notes, an error
    if export.id.startswith("canonical") and variant != "required-column-missing":
        # the command line reads canonical files with read_canonical, strictly
        try:
            read_canonical(source, SCHEMAS[export.id.removeprefix("canonical-")])
        except Exception as error:  # every error's text is what is checked
            texts += exception_texts(error)
    assert_no_leak(texts, f"{export.id}, {variant}")


@pytest.mark.parametrize("xml", [False, True], ids=["json", "xml"])
@pytest.mark.parametrize("variant", ["planted", "empty-file"])
def test_reading_fhir_says_nothing_planted(
    variant: str, xml: bool, tmp_path: Path, records: Callable[[], list[logging.LogRecord]]
) -> None:
    source, mapping = write_fhir(tmp_path, empty=variant == "empty-file", xml=xml)
    assert_no_leak(_reading_texts(source, "fhir", mapping, records), f"fhir, {variant}")


# --- the command line -------------------------------------------------------------------------


def _cli_texts(arguments: list[str], debug: bool) -> list[str]:
    """Everything ``benzoredux [--debug] ARGUMENTS`` prints, and its exception's whole chain."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, [*(["--debug"] if debug else []), *arguments])
    texts = [result.stdout, result.stderr, *warning_texts(caught)]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        texts += exception_texts(result.exception)
    if debug and result.exit_code == 1:
        assert result.exception is not None  # --debug lets the error through, traceback and all
    elif result.exit_code == 0:
        # The per-GP summary of a successful selection names each GP by the gp_id of the data
        # (the practice's own GP codes); a planted value the export put there is the export's.
        texts = [
            "\n".join(line for line in text.splitlines() if not line.startswith("  "))
            for text in texts
        ]
    else:
        assert result.exit_code in {2, 3, 4}, (result.exit_code, result.output)
    return texts


def _select(source: Path, out: Path, *options: str) -> list[str]:
    return [
        "select",
        str(source),
        "--reference-date",
        REFERENCE_DATE,
        "--out",
        str(out),
        "--no-register",
        *options,
    ]


CLI_EXPORTS = [e for e in EXPORTS if not e.id.startswith("canonical")]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("variant", ["planted", "no-header-line", "empty-file"])
@pytest.mark.parametrize("export", CLI_EXPORTS, ids=[e.id for e in CLI_EXPORTS])
def test_select_from_an_export_says_nothing_planted(
    export: Export,
    variant: str,
    debug: bool,
    tmp_path: Path,
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    source, mapping = export.write(tmp_path / "in", **VARIANTS[variant])
    options = ["--format", export.format, *(["--mapping", str(mapping)] if mapping else [])]
    texts = _cli_texts(_select(source, tmp_path / "out", *options), debug)
    assert_no_leak([*texts, *log_texts(records())], f"select {export.id}, {variant}")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("xml", [False, True], ids=["json", "xml"])
@pytest.mark.parametrize("variant", ["planted", "empty-file"])
def test_select_from_fhir_says_nothing_planted(
    variant: str,
    xml: bool,
    debug: bool,
    tmp_path: Path,
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    source, mapping = write_fhir(tmp_path / "in", empty=variant == "empty-file", xml=xml)
    arguments = _select(source, tmp_path / "out", "--format", "fhir", "--mapping", str(mapping))
    assert_no_leak(
        [*_cli_texts(arguments, debug), *log_texts(records())], f"select fhir, {variant}"
    )


def _valid_only(file: TabularFile) -> TabularFile:
    return evolve(file, planted=(), extra=())


CANONICAL_CASES = {
    # which canonical file holds the planted values; the others are valid
    "dispensings": (CANONICAL_DISPENSINGS, _valid_only(CANONICAL_PATIENTS), None),
    "patients": (_valid_only(CANONICAL_DISPENSINGS), CANONICAL_PATIENTS, None),
    "episodes": (
        _valid_only(CANONICAL_DISPENSINGS),
        _valid_only(CANONICAL_PATIENTS),
        CANONICAL_EPISODES,
    ),
}


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header-line"])
@pytest.mark.parametrize("planted", list(CANONICAL_CASES))
def test_select_from_canonical_files_says_nothing_planted(
    planted: str,
    header: bool,
    debug: bool,
    tmp_path: Path,
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    dispensings, patients, episodes = CANONICAL_CASES[planted]
    paths = []
    for file in (dispensings, patients, episodes):
        if file is None:
            continue
        path = tmp_path / file.name
        path.write_text(file.text(header=header or file.planted == ()), encoding="utf-8")
        paths.append(path)
    options = ["--patients", str(paths[1]), *(["--episodes", str(paths[2])] if episodes else [])]
    texts = _cli_texts(_select(paths[0], tmp_path / "out", *options, "--gp-route"), debug)
    assert_no_leak([*texts, *log_texts(records())], f"select canonical {planted}")


# --- dataframes -------------------------------------------------------------------------------


def _diagonal(base: dict[str, Any], columns: list[str], values: list[Any]) -> pd.DataFrame:
    """``base`` once, then once per column and value with that value in that column."""
    rows = [dict(base)]
    for column in columns:
        for value in values:
            rows.append({**base, "patient_id": f"p{len(rows)}", column: value})
    return pd.DataFrame(rows)


TEXT_PLANTED = list(PLANTED)
BIRTH_TIMESTAMP = pd.Timestamp(BIRTH_DATE)


def _dispensings() -> pd.DataFrame:
    base = {
        "patient_id": "p0",
        "date": pd.Timestamp("2025-03-01"),
        "atc": "N05BA04",
        "quantity": 30.0,
        "strength_mg": 10.0,
        "form": "tablet",
        "prescriber_id": "g1",
        "pharmacy_id": "ph1",
        "channel": "consult",
    }
    text = [c.name for c in DISPENSINGS.columns if c.kind is br.tables.Kind.TEXT]
    frame = _diagonal(base, text, TEXT_PLANTED)
    # numbers and dates that are planted values too: a BSN as a quantity, a birth date as a
    # dispensing date (both of the right type, so only the row rules can refuse them)
    extra = _diagonal(base, ["quantity", "strength_mg"], [float(b) for b in BSNS])
    dated = _diagonal(base, ["date"], [BIRTH_TIMESTAMP])
    return pd.concat([frame, extra.iloc[1:], dated.iloc[1:]], ignore_index=True)


def _patients() -> pd.DataFrame:
    base = {
        "patient_id": "p0",
        "gp_id": "g1",
        "birth_date": BIRTH_TIMESTAMP,
        "sex": "F",
        "initials": "W.",
        "first_name": GIVEN_NAME,
        "name_prefix": "van",
        "family_name": NAME,
        "street": "Kerkstraat",
        "house_number": "12",
        "postcode": POSTCODES[0],
        "city": "Delft",
        "bsn": BSNS[0],
        "status": "active",
        "status_date": pd.NaT,
    }
    text = [c.name for c in PATIENTS.columns if c.kind is br.tables.Kind.TEXT]
    frame = _diagonal(base, text, TEXT_PLANTED)
    frame.loc[len(frame)] = {**base, "birth_date": pd.Timestamp("1937-04-18")}  # p0 twice
    return frame


def _episodes() -> pd.DataFrame:
    base = {"patient_id": "p0", "icpc": "P06", "start": pd.Timestamp("2019-03-01"), "end": pd.NaT}
    return _diagonal(base, ["patient_id", "icpc"], TEXT_PLANTED)


BACKENDS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "pandas": lambda frame: frame,
    "polars": pl.from_pandas,
    "polars-lazy": lambda frame: pl.from_pandas(frame).lazy(),
    "pyarrow": lambda frame: pa.Table.from_pandas(frame, preserve_index=False),
    "duckdb": duckdb.from_df,
}
"""The kinds of frame the tests take through validation and selection (the messages are built
the same way for every kind, after the rows are collected)."""


def _library_texts(call: Callable[[], Any]) -> list[str]:
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = call()
        except Exception as error:  # every error's text is what is checked
            texts += exception_texts(error)
        else:
            if isinstance(outcome, br.Validation):
                texts += outcome.examples
                texts += [str(k) for k in outcome.reasons]
                try:
                    outcome.raise_if_rejected()
                except br.InvalidRowsError as error:
                    texts += exception_texts(error)
    return [*texts, *warning_texts(caught)]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_validating_and_selecting_dataframes_says_nothing_planted(
    backend: str, records: Callable[[], list[logging.LogRecord]]
) -> None:
    to = BACKENDS[backend]
    dispensings, patients, episodes = _dispensings(), _patients(), _episodes()
    valid = dispensings.iloc[:1]
    calls: dict[str, Callable[[], Any]] = {
        "validate_dispensings": lambda: br.validate_dispensings(to(dispensings)),
        "validate_patients": lambda: br.validate_patients(to(patients)),
        "validate_episodes": lambda: br.validate_episodes(to(episodes)),
        "select dispensings": lambda: br.select_chronic_users(to(dispensings), REFERENCE_DATE),
        "select patients": lambda: br.select_chronic_users(
            to(valid), REFERENCE_DATE, patients=to(patients)
        ),
        "select episodes": lambda: br.select_chronic_users(
            to(valid), REFERENCE_DATE, episodes=to(episodes), gp_route=True
        ),
        "new users": lambda: br.select_new_users(to(dispensings), REFERENCE_DATE),
        # text where a date or a number belongs: the column's type is refused
        "text dates": lambda: br.validate_patients(
            to(patients.assign(birth_date=patients["birth_date"].dt.strftime("%d-%m-%Y")))
        ),
        "text numbers": lambda: br.validate_dispensings(
            to(dispensings.assign(quantity=[NAME, *dispensings["quantity"].iloc[1:].astype(str)]))
        ),
    }
    said = {name: _library_texts(call) for name, call in calls.items()}
    assert all(said.values()), [name for name, texts in said.items() if not texts]
    for name, texts in said.items():
        assert_no_leak([*texts, *log_texts(records())], f"{name} ({backend})")


def test_a_frame_read_without_its_header_line_is_described_not_listed(tmp_path: Path) -> None:
    """``pd.read_csv`` of an export without a header line takes its first record for the column
    names; the missing-columns error describes them."""
    path = tmp_path / "patients.csv"
    path.write_text(CANONICAL_PATIENTS.text(header=False), encoding="utf-8")
    frame = pd.read_csv(path, dtype=str)
    with pytest.raises(br.MissingColumnsError) as caught:
        br.validate_patients(frame)
    text = "\n".join(exception_texts(caught.value))
    assert leaks(text) == []
    assert "look like data, not column names" in text
    assert caught.value.found == tuple(frame.columns)  # the attribute keeps them, for code
