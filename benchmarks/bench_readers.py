"""Benchmark the readers against polars reading and parsing the same file by hand.

Run ``python benchmarks/bench_readers.py [--rows N] [--repeat K] [--formats ais,sfk,...]``.
The script writes one export per format from the synthetic region of ``benchmarks/generate.py``
(seeded), then times, for each format, the library's reader
(:func:`benzoredux.reading.read_source`) and a hand-written polars baseline that reads and
parses what the reader parses: the same columns, decimal commas, day-first dates, Windows-1252,
Dutch codes (``V`` is ``F``, ``Herhaalrecept`` is ``repeat_prescription``), returns made
negative. Every measurement is a fresh Python process: the imports happen before the clock,
the clock runs around the read alone, and the process's peak resident memory (``ru_maxrss``)
is its memory. Each engine runs ``K`` times (the two take turns); the best time, every time,
and the peak memory of every run are recorded, with the load average at each run.

After the clock, each process reduces what it read to a checksum (the canonical tables, every
column, sorted, as CSV, hashed): reader and baseline must agree, or the comparison is void.
The exports hold no rows the reader rejects (exact duplicate dispensings are written once), so
the baseline need not validate.

The formats (``--rows`` rows each, default one million):

* ``ais``: a pharmacy dispensing export, Windows-1252, ``;``, CR LF, decimal commas, day-first
  dates, returns flagged ``Retour = J`` with a positive quantity, header ``Patiëntnummer``;
* ``sfk``: SFK lists (one row per patient and substance: list, first and last dispensing,
  units, GP, birth date, sex) under two title lines; all substances of the region, so that a
  list reaches the row count (a real one holds only benzodiazepines);
* ``his``: a GP system export folder: prescriptions (``--rows``), an episodes file and the
  patient register (a row per patient);
* ``delimited``: an export with its own column names described by a mapping file, UTF-8 with a
  BOM, ``,``, decimal points, ISO dates;
* ``fhir``: FHIR R4 NDJSON, one ``MedicationDispense`` a line (``--fhir-rows``, default a
  fifth of ``--rows``: the reader parses JSON record by record); the baseline is
  ``polars.read_ndjson`` of the same elements.

``--before`` also times, once per format, the readers as they were before issue 19 (the
reference copies in ``tests/property/reading_reference.py`` and, for FHIR,
``tests/property/fhir_reference.py`` with the old ``build_result``).

Results go to ``benchmarks/results/readers.json``; docs/performance.rst summarises them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "readers.json"
FORMATS = ("ais", "sfk", "his", "delimited", "fhir")
ENGINES = ("reader", "polars")
TARGETS = {"time_ratio": 3.0, "memory_ratio": 3.0, "memory_per_file_size": 5.0}
"""The issue's targets: within 3x of polars in time and memory, memory under 5x the file."""
TODAY = dt.date(2026, 12, 1)
"""The reader's day of reading (its plausibility bounds count from it): fixed, so that a run
on another day reads the same rows."""

# --- writing the exports ---------------------------------------------------------------------


def _region(rows: int, seed: int) -> Any:
    """``rows`` dispensings of the generated region as polars, each exact duplicate once."""
    import polars as pl

    sys.path.insert(0, str(HERE))
    from generate import generate

    frame = pl.from_pandas(generate(int(rows * 1.01) + 100, seed=seed))
    return frame.unique(maintain_order=True).head(rows)


def _decimal_comma(column: str) -> Any:
    """A float column as Dutch text: ``2,5``, ``30`` (no ``.0``)."""
    import polars as pl

    text = pl.col(column).cast(pl.String).str.replace(r"\.0$", "")
    return text.str.replace(".", ",", literal=True)


def _write(text: str, path: Path, encoding: str, newline: str = "\n") -> None:
    path.write_bytes(text.replace("\n", newline).encode(encoding))


def write_ais(frame: Any, path: Path) -> None:
    """An AIS export (see the module docstring) of the dispensings ``frame``."""
    import polars as pl

    returned = pl.col("quantity") < 0
    table = frame.select(
        pl.col("patient_id").alias("Patiëntnummer"),
        pl.col("date").dt.strftime("%d-%m-%Y").alias("Afleverdatum"),
        pl.col("atc").alias("ATC"),
        _decimal_comma("quantity").str.strip_prefix("-").alias("Aantal"),
        _decimal_comma("strength_mg").alias("Sterkte (mg)"),
        pl.col("form").alias("Farmaceutische vorm"),
        pl.col("prescriber_id").alias("Voorschrijver AGB"),
        pl.col("pharmacy_id").alias("Apotheek AGB"),
        pl.when(returned).then(pl.lit("J")).otherwise(pl.lit("N")).alias("Retour"),
    )
    _write(table.write_csv(separator=";"), path, "cp1252", "\r\n")


def _patients(frame: Any, seed: int) -> Any:
    """One row per patient: the GP (the patient's first prescriber), birth date and sex."""
    import numpy as np
    import polars as pl

    people = (
        frame.group_by("patient_id")
        .agg(pl.col("prescriber_id").drop_nulls().min().alias("gp_id"))
        .sort("patient_id")
    )
    rng = np.random.default_rng(seed)
    born = np.datetime64("1930-01-01") + rng.integers(0, 70 * 365, len(people))
    return people.with_columns(
        birth_date=pl.Series(born.astype("datetime64[us]")).cast(pl.Date),
        sex=pl.Series(np.where(rng.random(len(people)) < 0.6, "V", "M")),
        deceased=pl.Series(rng.random(len(people)) < 0.02),
    )


def write_sfk(frame: Any, path: Path, rows: int, seed: int) -> None:
    """SFK lists: per patient and substance of ``frame``, the first ``rows``."""
    import polars as pl

    people = _patients(frame, seed)
    lists = (
        frame.group_by("patient_id", "atc")
        .agg(
            first=pl.col("date").min(),
            last=pl.col("date").max(),
            units=pl.col("quantity").sum(),
        )
        .filter(pl.col("units") > 0)
        .sort("patient_id", "atc")
        .head(rows)
        .join(people, on="patient_id", how="left")
        .filter(pl.col("gp_id").is_not_null())
    )
    table = lists.select(
        pl.when(pl.col("units") > 90)
        .then(pl.lit("Langdurig gebruik"))
        .otherwise(pl.lit("Nieuw gebruik"))
        .alias("Lijst"),
        pl.col("patient_id").alias("Patientnummer"),
        pl.col("gp_id").alias("AGB huisarts"),
        pl.col("birth_date").dt.strftime("%d-%m-%Y").alias("Geboortedatum"),
        pl.col("sex").alias("Geslacht"),
        pl.col("atc").alias("ATC"),
        pl.col("first").dt.strftime("%d-%m-%Y").alias("Eerste aflevering"),
        pl.col("last").dt.strftime("%d-%m-%Y").alias("Laatste aflevering"),
        _decimal_comma("units").alias("Aantal eenheden"),
    )
    title = "Benzodiazepinegebruik per huisarts\nPeriode: 01-01-2024 t/m 31-12-2025\n"
    _write(title + table.write_csv(separator=";"), path, "cp1252", "\r\n")


CHANNELS = ("Consult", "Herhaalrecept", "Telefonisch consult", "Overig")


def write_his(frame: Any, folder: Path, seed: int) -> None:
    """A HIS export folder: prescriptions, episodes, the patient register."""
    import numpy as np
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # A prescription is never negative; the file has no pharmacy, so rows may repeat.
    kept = ["patient_id", "date", "atc", "quantity", "strength_mg", "form", "prescriber_id"]
    written = frame.filter(pl.col("quantity") > 0).unique(kept, maintain_order=True)
    channel = np.array(CHANNELS)[rng.integers(0, len(CHANNELS), len(written))]
    prescriptions = written.select(
        pl.col("patient_id").alias("Patientnummer"),
        pl.col("date").dt.strftime("%d-%m-%Y").alias("Voorschrijfdatum"),
        pl.col("atc").alias("ATC"),
        _decimal_comma("quantity").alias("Aantal"),
        _decimal_comma("strength_mg").alias("Sterkte"),
        pl.col("form").alias("Toedieningsvorm"),
        pl.col("prescriber_id").alias("Voorschrijver"),
        pl.Series(channel).alias("Wijze van voorschrijven"),
    )
    _write(prescriptions.write_csv(separator=";"), folder / "voorschriften.csv", "cp1252")
    people = _patients(frame, seed)
    register = people.select(
        pl.col("patient_id").alias("Patientnummer"),
        pl.col("gp_id").alias("Huisarts"),
        pl.col("birth_date").dt.strftime("%d-%m-%Y").alias("Geboortedatum"),
        pl.col("sex").alias("Geslacht"),
        pl.when(pl.col("deceased"))
        .then(pl.lit("Overleden"))
        .otherwise(pl.lit("Ingeschreven"))
        .alias("Inschrijfstatus"),
        pl.when(pl.col("deceased"))
        .then(pl.lit("01-06-2025"))
        .otherwise(pl.lit(None))
        .alias("Datum status"),
    ).filter(pl.col("Huisarts").is_not_null())
    _write(register.write_csv(separator=";"), folder / "patienten.csv", "cp1252")
    chosen = people.sample(fraction=0.3, seed=seed).sort("patient_id")
    starts = np.datetime64("2015-01-01") + rng.integers(0, 3000, len(chosen))
    ends = starts + rng.integers(30, 900, len(chosen))
    episodes = chosen.select(
        pl.col("patient_id").alias("Patientnummer"),
        pl.Series(
            np.array(["P06", "P74", "P76.01", "K86", "T90"])[rng.integers(0, 5, len(chosen))]
        ).alias("ICPC"),
        pl.Series(starts.astype("datetime64[us]")).dt.strftime("%d-%m-%Y").alias("Begindatum"),
        pl.when(pl.Series(rng.random(len(chosen)) < 0.5))
        .then(pl.Series(ends.astype("datetime64[us]")).dt.strftime("%d-%m-%Y"))
        .otherwise(pl.lit(None))
        .alias("Einddatum"),
    )
    _write(episodes.write_csv(separator=";"), folder / "episodes.csv", "cp1252")


DELIMITED_NAMES = {
    "Pat ID": "patient_id",
    "Datum": "date",
    "ATC code": "atc",
    "Eenheden": "quantity",
    "Sterkte mg": "strength_mg",
    "Vorm": "form",
    "Arts": "prescriber_id",
    "Apotheek": "pharmacy_id",
}


def write_delimited(frame: Any, path: Path) -> Path:
    """An export with its own names, UTF-8 with BOM, ``,``, ISO dates; and its mapping file."""
    import polars as pl

    renames = {canonical: own for own, canonical in DELIMITED_NAMES.items()}
    table = frame.select(
        *(pl.col(c).alias(renames[c]) for c in ("patient_id",)),
        pl.col("date").dt.strftime("%Y-%m-%d").alias("Datum"),
        *(pl.col(c).alias(renames[c]) for c in ("atc", "quantity", "strength_mg", "form")),
        *(pl.col(c).alias(renames[c]) for c in ("prescriber_id", "pharmacy_id")),
    )
    _write("\ufeff" + table.write_csv(separator=","), path, "utf-8")
    mapping = path.with_suffix(".toml")
    columns = "\n".join(f'"{own}" = "{canonical}"' for own, canonical in DELIMITED_NAMES.items())
    mapping.write_text(
        'table = "dispensings"\n\n[file]\nseparator = ","\ndecimal = "."\n'
        f'date_formats = ["%Y-%m-%d"]\n\n[columns]\n{columns}\n'
    )
    return mapping


def write_fhir(frame: Any, path: Path) -> None:
    """One MedicationDispense a line: patient, ATC, a product name with its strength, units
    in pieces, the day handed over and the pharmacy's AGB code."""
    import polars as pl

    template = (
        '{"resourceType":"MedicationDispense","id":"d%s","status":"completed",'
        '"subject":{"reference":"Patient/%s"},"medicationCodeableConcept":{"coding":'
        '[{"system":"http://www.whocc.no/atc","code":"%s"}],"text":"GENERIEK %s %sMG"},'
        '"quantity":{"value":%s,"unit":"stuk"},"whenHandedOver":"%s","performer":'
        '[{"actor":{"identifier":{"system":"http://fhir.nl/fhir/NamingSystem/agb-z",'
        '"value":"%s"}}}]}'
    )
    fields = (
        pl.int_range(pl.len()).cast(pl.String),
        pl.col("patient_id"),
        pl.col("atc"),
        pl.col("form").str.to_uppercase(),
        _decimal_comma("strength_mg"),
        pl.col("quantity").cast(pl.String).str.replace(r"\.0$", ""),
        pl.col("date").dt.strftime("%Y-%m-%d"),
        pl.col("pharmacy_id"),
    )
    pieces = template.split("%s")
    parts: list[Any] = [pl.lit(pieces[0])]
    for value, piece in zip(fields, pieces[1:], strict=True):
        parts += [value, pl.lit(piece)]
    shown = ["patient_id", "date", "atc", "quantity", "strength_mg", "pharmacy_id"]
    dispensed = frame.filter(pl.col("quantity") > 0).unique(shown, maintain_order=True)
    records = dispensed.select(pl.concat_str(parts).alias("line"))
    path.write_text("\n".join(records["line"].to_list()) + "\n", encoding="utf-8")


def write_inputs(folder: Path, rows: int, fhir_rows: int, seed: int) -> dict[str, dict[str, Any]]:
    """Every format's export under ``folder``: per format its path, options and size."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = _region(rows, seed)
    inputs: dict[str, dict[str, Any]] = {}
    write_ais(frame, folder / "ais.csv")
    inputs["ais"] = {"path": folder / "ais.csv", "options": {"format": "ais"}}
    write_sfk(_region(rows * 3, seed), folder / "sfk.csv", rows, seed)
    inputs["sfk"] = {"path": folder / "sfk.csv", "options": {"format": "sfk"}}
    write_his(frame, folder / "his", seed)
    inputs["his"] = {"path": folder / "his", "options": {"format": "his"}}
    mapping = write_delimited(frame, folder / "export.csv")
    inputs["delimited"] = {"path": folder / "export.csv", "options": {"mapping": str(mapping)}}
    write_fhir(frame.head(fhir_rows), folder / "dispenses.ndjson")
    inputs["fhir"] = {"path": folder / "dispenses.ndjson", "options": {"format": "fhir"}}
    for spec in inputs.values():
        path = spec["path"]
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        spec["bytes"] = sum(f.stat().st_size for f in files)
        spec["rows"] = sum(max(f.read_bytes().count(b"\n") - 1, 0) for f in files)
    return inputs


# --- the baselines: polars by hand ------------------------------------------------------------


def _number(column: str, decimal: str = ",") -> Any:
    import polars as pl

    text = pl.col(column)
    if decimal == ",":
        text = text.str.replace(",", ".", literal=True)
    return text.cast(pl.Float64)


def _day_first(column: str) -> Any:
    import polars as pl

    return pl.col(column).str.strptime(pl.Date, "%d-%m-%Y")


def baseline_ais(path: Path) -> dict[str, Any]:
    import polars as pl

    frame = pl.read_csv(path, separator=";", encoding="cp1252", infer_schema=False)
    quantity = _number("Aantal")
    return {
        "dispensings": frame.select(
            patient_id=pl.col("Patiëntnummer"),
            date=_day_first("Afleverdatum"),
            atc=pl.col("ATC"),
            quantity=pl.when(pl.col("Retour") == "J").then(-quantity).otherwise(quantity),
            strength_mg=_number("Sterkte (mg)"),
            form=pl.col("Farmaceutische vorm"),
            prescriber_id=pl.col("Voorschrijver AGB"),
            pharmacy_id=pl.col("Apotheek AGB"),
        )
    }


_SEXES = {"V": "F", "M": "M"}


def baseline_sfk(path: Path) -> dict[str, Any]:
    import polars as pl

    frame = pl.read_csv(path, separator=";", encoding="cp1252", infer_schema=False, skip_rows=2)
    kind = pl.col("Lijst").replace_strict(
        {"Langdurig gebruik": "long_term", "Nieuw gebruik": "new"}
    )
    long_term = kind == "long_term"
    return {
        "dispensings": frame.select(
            patient_id=pl.col("Patientnummer"),
            date=pl.when(long_term)
            .then(_day_first("Laatste aflevering"))
            .otherwise(_day_first("Eerste aflevering")),
            atc=pl.col("ATC"),
            quantity=_number("Aantal eenheden"),
            prescriber_id=pl.col("AGB huisarts"),
            sfk_list=kind,
        ),
        "patients": frame.select(
            patient_id=pl.col("Patientnummer"),
            gp_id=pl.col("AGB huisarts"),
            birth_date=_day_first("Geboortedatum"),
            sex=pl.col("Geslacht").replace_strict(_SEXES),
        ).unique(maintain_order=True),
    }


_CHANNELS = {
    "Consult": "consult",
    "Herhaalrecept": "repeat_prescription",
    "Telefonisch consult": "telephone_consult",
    "Overig": "other",
}


def baseline_his(path: Path) -> dict[str, Any]:
    import polars as pl

    def read(name: str) -> Any:
        return pl.read_csv(path / name, separator=";", encoding="cp1252", infer_schema=False)

    prescriptions = read("voorschriften.csv")
    episodes = read("episodes.csv")
    register = read("patienten.csv")
    return {
        "dispensings": prescriptions.select(
            patient_id=pl.col("Patientnummer"),
            date=_day_first("Voorschrijfdatum"),
            atc=pl.col("ATC"),
            quantity=_number("Aantal"),
            strength_mg=_number("Sterkte"),
            form=pl.col("Toedieningsvorm"),
            prescriber_id=pl.col("Voorschrijver"),
            channel=pl.col("Wijze van voorschrijven").replace_strict(_CHANNELS),
        ),
        "episodes": episodes.select(
            patient_id=pl.col("Patientnummer"),
            icpc=pl.col("ICPC"),
            start=_day_first("Begindatum"),
            end=_day_first("Einddatum"),
        ),
        "patients": register.select(
            patient_id=pl.col("Patientnummer"),
            gp_id=pl.col("Huisarts"),
            birth_date=_day_first("Geboortedatum"),
            sex=pl.col("Geslacht").replace_strict(_SEXES),
            status=pl.col("Inschrijfstatus").replace_strict(
                {"Ingeschreven": "active", "Overleden": "deceased"}
            ),
            status_date=_day_first("Datum status"),
        ),
    }


def baseline_delimited(path: Path) -> dict[str, Any]:
    import polars as pl

    frame = pl.read_csv(path, separator=",", infer_schema=False)
    return {
        "dispensings": frame.select(
            pl.col(own).alias(canonical) for own, canonical in DELIMITED_NAMES.items()
        ).with_columns(
            date=pl.col("date").str.strptime(pl.Date, "%Y-%m-%d"),
            quantity=_number("quantity", "."),
            strength_mg=_number("strength_mg", "."),
        )
    }


def baseline_fhir(path: Path) -> dict[str, Any]:
    import polars as pl

    coding = pl.Struct({"system": pl.String, "code": pl.String})
    identifier = pl.Struct({"system": pl.String, "value": pl.String})
    schema = {
        "resourceType": pl.String,
        "status": pl.String,
        "subject": pl.Struct({"reference": pl.String}),
        "medicationCodeableConcept": pl.Struct({"coding": pl.List(coding), "text": pl.String}),
        "quantity": pl.Struct({"value": pl.Float64, "unit": pl.String}),
        "whenHandedOver": pl.String,
        "performer": pl.List(pl.Struct({"actor": pl.Struct({"identifier": identifier})})),
    }
    frame = pl.read_ndjson(path, schema=schema)
    medication = pl.col("medicationCodeableConcept")
    atc = (
        medication.struct.field("coding")
        .list.eval(
            pl.element().filter(pl.element().struct.field("system") == "http://www.whocc.no/atc")
        )
        .list.first()
        .struct.field("code")
    )
    strength = medication.struct.field("text").str.extract(r"([0-9]+(?:,[0-9]+)?)MG", 1)
    pharmacy = (
        pl.col("performer").list.first().struct.field("actor").struct.field("identifier")
    ).struct.field("value")
    return {
        "dispensings": frame.filter(
            (pl.col("resourceType") == "MedicationDispense") & (pl.col("status") == "completed")
        ).select(
            patient_id=pl.col("subject").struct.field("reference").str.strip_prefix("Patient/"),
            date=pl.col("whenHandedOver").str.strptime(pl.Date, "%Y-%m-%d"),
            atc=atc,
            quantity=pl.col("quantity").struct.field("value"),
            strength_mg=strength.str.replace(",", ".", literal=True).cast(pl.Float64),
            pharmacy_id=pharmacy,
        )
    }


BASELINES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "ais": baseline_ais,
    "sfk": baseline_sfk,
    "his": baseline_his,
    "delimited": baseline_delimited,
    "fhir": baseline_fhir,
}


# --- one measurement (a fresh process) --------------------------------------------------------


def _status_mib(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (MiB): ``VmRSS`` (resident
    now) or ``VmHWM`` (the peak). ``ru_maxrss`` is not used: after ``fork`` and ``exec`` it
    starts at the parent's resident size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _checksum(tables: dict[str, Any]) -> dict[str, Any]:
    """Per table: rows, and a hash of every column's values, sorted (dates as days; numbers
    as their shortest text; empty as empty), so that two engines' tables compare whatever
    their types and row order."""
    import polars as pl

    found: dict[str, Any] = {}
    for name in sorted(tables):
        frame = tables[name]
        if not isinstance(frame, pl.DataFrame):
            frame = pl.from_pandas(frame)
        present = [c for c in frame.columns if frame[c].null_count() < len(frame)]
        columns = sorted(present)
        normal = frame.select(
            [
                pl.col(c).cast(pl.Date).cast(pl.String)
                if frame.schema[c] in (pl.Date, pl.Datetime("us"), pl.Datetime("ns"))
                else pl.col(c).cast(pl.String)
                for c in columns
            ]
        ).sort(columns, nulls_last=True)
        digest = hashlib.sha256(normal.write_csv(include_header=True).encode()).hexdigest()
        found[name] = {"rows": len(frame), "columns": columns, "sha256": digest[:16]}
    return found


def _before_issue_19() -> Callable[[str, Path, dict[str, Any]], Any]:
    """The readers as they were before issue 19 (record by record in Python, pandas on every
    cell): the reference copy the property tests hold the fast path to
    (``tests/property/reading_reference.py``); FHIR's reader as it was
    (``tests/property/fhir_reference.py``) with the toolkit under it (``build_result``) put
    back."""
    import importlib.util
    from unittest import mock

    from benzoredux.reading import load_mapping

    path = HERE.parent / "tests" / "property" / "reading_reference.py"
    spec = importlib.util.spec_from_file_location("reading_reference", path)
    assert spec is not None
    assert spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    path = HERE.parent / "tests" / "property" / "fhir_reference.py"
    spec = importlib.util.spec_from_file_location("fhir_reference", path)
    assert spec is not None
    assert spec.loader is not None
    fhir_reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fhir_reference)

    def read(fmt: str, source: Path, options: dict[str, Any]) -> Any:
        mapping = options.get("mapping")
        passed = {
            "mapping": load_mapping(mapping) if mapping else None,
            "strict": False,
            "duplicates": "reject",
            "code_map": {},
            "today": TODAY,
        }
        if fmt == "fhir":
            import benzoredux_adapters._results as results

            with mock.patch.object(results, "build_result", reference.build_result):
                return fhir_reference.FhirReader().read(source, options=passed)
        return reference.read(fmt, source, passed)

    return read


def child(fmt: str, engine: str, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """One read in this (fresh) process: imports first, then the clock around the read."""
    import gc

    import polars as pl  # noqa: F401 - imported before the clock, like the reader's own

    import benzoredux_adapters.ais  # noqa: F401 - the readers' modules, before the clock
    from benzoredux.plugins import get_plugins
    from benzoredux.reading import read_source

    get_plugins()  # the readers are found before the clock
    if engine == "reader":
        import pyarrow.csv  # noqa: F401 - the reader's splitter, loaded on first use

        def run() -> dict[str, Any]:
            result = read_source(path, strict=False, today=TODAY, **options)
            if len(result.rejected):
                reasons = result.rejected["reason"].value_counts().head(5).to_dict()
                raise SystemExit(f"{fmt}: the reader rejected rows: {reasons}")
            return dict(result.tables)

    elif engine == "before":
        before_issue = _before_issue_19()

        def run() -> dict[str, Any]:
            return dict(before_issue(fmt, path, options).tables)

    else:

        def run() -> dict[str, Any]:
            return BASELINES[fmt](path)

    gc.collect()
    load = os.getloadavg()
    before = _status_mib("VmRSS")
    cpu = time.process_time()
    start = time.perf_counter()
    tables = run()
    elapsed = time.perf_counter() - start
    cpu_time = time.process_time() - cpu
    peak = _status_mib("VmHWM")
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu_time,
        "rss_after_imports_mib": before,
        "peak_rss_mib": peak,
        "load_average_1_5_15": list(load),
        "checksum": _checksum(tables),
    }


def measure(fmt: str, engine: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in a fresh interpreter."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        fmt,
        engine,
        str(spec["path"]),
        json.dumps(spec["options"]),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{fmt}/{engine} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    """The machine and the versions the figures were measured with."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libraries = ("benzoredux", "pandas", "polars", "pyarrow", "numpy", "narwhals")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: metadata.version(name) for name in libraries},
        "load_average_1_5_15": list(os.getloadavg()),
    }


def summarise(fmt: str, spec: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> dict:
    """Best time, spread, memory and the ratios of one format."""
    summary: dict[str, Any] = {
        "file_bytes": spec["bytes"],
        "file_rows": spec["rows"],
        "engines": {},
    }
    for engine, measured in runs.items():
        times = [m["seconds"] for m in measured]
        peaks = [m["peak_rss_mib"] for m in measured]
        grown = [m["peak_rss_mib"] - m["rss_after_imports_mib"] for m in measured]
        summary["engines"][engine] = {
            "best_s": min(times),
            "median_s": statistics.median(times),
            "times_s": times,
            "cpu_best_s": min(m["cpu_seconds"] for m in measured),
            "peak_rss_mib": statistics.median(peaks),
            "peak_rss_runs_mib": peaks,
            "rss_after_imports_mib": statistics.median(
                m["rss_after_imports_mib"] for m in measured
            ),
            "grown_mib": statistics.median(grown),
            "load_averages": [m["load_average_1_5_15"] for m in measured],
            "checksum": measured[-1]["checksum"],
        }
    reader, polars = summary["engines"]["reader"], summary["engines"]["polars"]
    size_mib = spec["bytes"] / 2**20
    summary["time_ratio"] = reader["best_s"] / polars["best_s"]
    summary["cpu_ratio"] = reader["cpu_best_s"] / polars["cpu_best_s"]
    summary["memory_ratio"] = reader["peak_rss_mib"] / polars["peak_rss_mib"]
    summary["grown_ratio"] = reader["grown_mib"] / polars["grown_mib"]
    summary["reader_grown_per_file_size"] = reader["grown_mib"] / size_mib
    summary["reader_peak_per_file_size"] = reader["peak_rss_mib"] / size_mib
    summary["checksums_equal"] = reader["checksum"] == polars["checksum"]
    return summary


def print_summary(data: dict[str, Any]) -> None:
    print(
        f"\n{'format':<10} {'MiB':>6} {'reader s':>9} {'polars s':>9} {'x time':>7} "
        f"{'reader MiB':>11} {'polars MiB':>11} {'x mem':>6} {'grown/file':>10}  checksum"
    )
    for fmt, s in data["formats"].items():
        r, p = s["engines"]["reader"], s["engines"]["polars"]
        print(
            f"{fmt:<10} {s['file_bytes'] / 2**20:6.0f} {r['best_s']:9.2f} {p['best_s']:9.2f} "
            f"{s['time_ratio']:7.2f} {r['peak_rss_mib']:11.0f} {p['peak_rss_mib']:11.0f} "
            f"{s['memory_ratio']:6.2f} {s['reader_grown_per_file_size']:10.2f}  "
            f"{'equal' if s['checksums_equal'] else 'DIFFERENT'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fhir-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--folder", type=Path, default=Path("/tmp/benzoredux-bench-readers"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--before",
        action="store_true",
        help="also time, once per format, the readers as they were before issue 19",
    )
    parser.add_argument("--child", nargs=4, metavar=("FORMAT", "ENGINE", "PATH", "OPTIONS"))
    args = parser.parse_args()
    if args.child:
        fmt, engine, path, options = args.child
        print(json.dumps(child(fmt, engine, Path(path), json.loads(options))))
        return
    formats = [f for f in args.formats.split(",") if f]
    fhir_rows = args.fhir_rows or max(args.rows // 5, 100)
    print(f"writing the exports ({args.rows:,} rows, FHIR {fhir_rows:,}) ...", flush=True)
    inputs = write_inputs(args.folder, args.rows, fhir_rows, args.seed)
    data: dict[str, Any] = {
        "benchmark": "readers vs polars reading and parsing the same file by hand",
        "command": "python benchmarks/bench_readers.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "rows": args.rows,
        "fhir_rows": fhir_rows,
        "repeat": args.repeat,
        "seed": args.seed,
        "formats": {},
    }
    for fmt in formats:
        spec = inputs[fmt]
        runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
        for round_ in range(args.repeat):
            for engine in ENGINES:
                runs[engine].append(measure(fmt, engine, spec))
            print(
                f"  {fmt} round {round_ + 1}/{args.repeat}: "
                + ", ".join(
                    f"{e} {r[-1]['seconds']:.2f} s {r[-1]['peak_rss_mib']:.0f} MiB "
                    f"(load {r[-1]['load_average_1_5_15'][0]:.1f})"
                    for e, r in runs.items()
                ),
                flush=True,
            )
        data["formats"][fmt] = summarise(fmt, spec, runs)
        if args.before:
            before = measure(fmt, "before", spec)
            print(
                f"  {fmt} before issue 19: {before['seconds']:.2f} s "
                f"{before['peak_rss_mib']:.0f} MiB (load {before['load_average_1_5_15'][0]:.1f})",
                flush=True,
            )
            data["formats"][fmt]["before_issue_19"] = {
                **before,
                "checksum_equal": before["checksum"]
                == data["formats"][fmt]["engines"]["reader"]["checksum"],
            }
    data["targets"] = TARGETS
    data["load_average_at_end"] = list(os.getloadavg())
    print_summary(data)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
