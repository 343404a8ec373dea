"""Random dispensings for the property tests, and the frames and records around a call.

Shared by the property tests in this folder: ``datasets()`` draws a dispensings table (as plain
row dicts) with a reference date and options; ``run()`` turns it into the frame of one input kind
(pandas, polars, polars LazyFrame; engine ``auto`` or ``native``), calls
:func:`benzoredux.select_chronic_users` and returns the columns and plain-Python records.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

import benzoredux
import benzoredux.engine


def load_sibling(name: str) -> Any:
    """A module from this folder (tests/ is not a package: pytest uses --import-mode=importlib)."""
    module_name = f"_benzoredux_property_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


REFERENCE = load_sibling("reference")

KINDS = [
    "pandas-auto",
    "pandas-native",
    "polars-auto",
    "polars-native",
    "polars-lazy",
    "polars-scan",
    "pyarrow-auto",
    "pyarrow-batches",
    "pandas-batches",
    "duckdb-lazy",
]
"""Input kind and engine: a pandas or polars DataFrame with ``engine=...``, a LazyFrame, a
bare ``pl.scan_parquet`` of the rows written to a Parquet file (the path's route: footer
proofs and filters, issue 19), a pyarrow Table, a pyarrow Table or pandas DataFrame moved to
polars batch by batch as a large one is (``*-batches``: the threshold lowered to 0, issue 19),
or a DuckDB relation (which runs on DuckDB, with the last day's details by window expressions,
issue 19)."""

# --- strategies -------------------------------------------------------------------------------

BENZOS = ["N05BA01", "N05BA04", "N05CD07", "N05CF02", "N05CF01", "N05BA12"]
BENZO_WITHOUT_DDD = ["N05BA10"]  # ketazolam: the WHO index gives no DDD
NON_BENZOS = ["N05BB01", "N05CH01", "C09AA02"]
COMPLEX = ["N03AE01", "L04AX03", "M03BX01", "N02AA01", "N05AH04", "N02AJ13", "N03AX16"]
COMPLEX_EXCEPTIONS = ["M09AA01", "N02AA59", "N02AJ06"]  # look complex, are not
# Complex or not by the options exempt_other_codeine_combinations (codeine with acetylsalicylic
# acid, ibuprofen, other analgesics) and gabapentinoids_as_antiepileptics (gabapentin, pregabalin).
COMPLEX_BY_OPTION = ["N02AJ07", "N02AJ08", "N02AJ09", "N02BF01", "N02BF02"]

# Benzodiazepines dominate so that chronic users (more than 90 units) are common.
atc_codes = st.one_of(
    st.sampled_from(BENZOS),
    st.sampled_from(BENZOS),
    st.sampled_from(BENZOS),
    st.sampled_from(BENZO_WITHOUT_DDD + NON_BENZOS),
    st.sampled_from(COMPLEX + COMPLEX_EXCEPTIONS),
    st.sampled_from(COMPLEX_BY_OPTION),
)

# Multiples of 1/4: sums are exact in binary floating point, so "more than 90" never hinges on
# the order of summation. Returns (negative), zero and fractions included.
quantities = st.one_of(
    st.sampled_from([-90.0, -30.0, -10.0, -0.5, 0.0, 0.25, 0.5, 1.0, 30.0, 45.0, 60.0, 90.0, 91.0]),
    st.integers(-200, 600).map(lambda k: k / 4),
)
forms = st.sampled_from(["tablet", "capsule", "drank", "zetpil", None, " Tablet ", "CAPSULE"])
known_strengths = st.sampled_from([0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 50.0])
prescribers = st.sampled_from(["g1", "g2", "g10", "huisarts B", None])
# Days of supply as MP9 gives them (whole or half days), or not given for a row.
days_supplied = st.sampled_from([None, None, 1.0, 7.0, 15.0, 30.0, 45.5, 90.0, 400.0])

SPECIAL_REFERENCE_DATES = [
    dt.date(2024, 2, 29),  # leap day: a year back is 2023-02-28
    dt.date(2028, 2, 29),
    dt.date(2025, 2, 28),  # a year back is 2024-02-28: 2024-02-29 is inside
    dt.date(2025, 3, 1),  # a year back is 2024-03-01: 2024-02-29 is outside
    dt.date(2024, 3, 1),
    dt.date(2025, 1, 31),  # month ends
    dt.date(2024, 3, 31),
    dt.date(2024, 4, 30),
    dt.date(2025, 12, 31),
    dt.date(2024, 12, 31),
]
reference_dates = st.one_of(
    st.sampled_from(SPECIAL_REFERENCE_DATES),
    st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2030, 12, 31)),
)

option_values = st.fixed_dictionaries(
    {},
    optional={
        "exclude_complex": st.booleans(),
        "exempt_other_codeine_combinations": st.booleans(),
        "gabapentinoids_as_antiepileptics": st.booleans(),
        "include_excluded": st.booleans(),
        "min_units": st.sampled_from([90, 90.0, 0, 30.5, 150]),
        "window_months": st.sampled_from([12, 12, 1, 6, 13, 24]),
        "stopped_grace_days": st.sampled_from([60, 0, 14.5, 200]),
        "assumed_units_per_day": st.sampled_from([1.0, 0.5, 3.0]),
    },
)


def boundary_days(reference: dt.date, window_months: int, recent_months: int = 3) -> list[dt.date]:
    """The days where an off-by-one in the window (or the recent window) would show."""
    days = []
    for months in {12, window_months, recent_months}:
        start = reference - relativedelta(months=months)
        days += [start - dt.timedelta(days=1), start, start + dt.timedelta(days=1)]
    days += [reference - dt.timedelta(days=1), reference, reference + dt.timedelta(days=1)]
    for year in range(reference.year - 2, reference.year + 2):
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            days += [dt.date(year, 2, 28), dt.date(year, 2, 29), dt.date(year, 3, 1)]
    return days


@st.composite
def datasets(draw: st.DrawFn, *, implausible: bool = False) -> dict[str, Any]:
    """Random dispensings of 1-8 patients around a reference date, and the call's options.

    With ``implausible``, a third of the datasets get one row at or beyond the bounds of the
    rules on implausible values (issue 16): a date just within or past the margin after the
    later of today and the reference date, or far in the future; a benzodiazepine quantity at
    or beyond the maximum, dispensed or returned; a huge quantity of another drug (allowed).
    """
    reference = draw(reference_dates)
    options: dict[str, Any] = draw(option_values)
    if draw(st.booleans()):  # the current dose's window: any length up to the window's
        longest = options.get("window_months", 12)
        options["recent_months"] = draw(
            st.sampled_from([m for m in (1, 2, 3, 6, 12) if m <= longest])
        )
    has_form = draw(st.booleans())
    has_strength = draw(st.sampled_from([True, True, False]))
    # Mostly every strength known (so that DDDs come out), else some missing (DDD/day unknown).
    strengths = draw(
        st.sampled_from([known_strengths, known_strengths, st.one_of(st.none(), known_strengths)])
    )
    has_prescriber = draw(st.booleans())
    # Days of supply (MP9 daysSupply): a third of the datasets, each row's given or not.
    has_days = draw(st.sampled_from([False, False, True]))
    with_times = draw(st.booleans())  # datetime column with a time of day instead of dates
    n_patients = draw(st.integers(1, 8))
    patient_ids = [f"p{i}" for i in draw(st.permutations(range(1, 11)))[:n_patients]]
    # Up to the margin after the reference date: later dates are implausible when the
    # reference date is today or later (``implausible`` below draws those on purpose).
    last = reference + dt.timedelta(days=REFERENCE.FUTURE_MARGIN_DAYS)
    edges = boundary_days(
        reference, options.get("window_months", 12), options.get("recent_months", 3)
    )
    days = st.one_of(
        st.sampled_from([day for day in edges if day <= last]),
        st.integers(-400, 10).map(lambda n: reference + dt.timedelta(days=n)),
        st.integers(-800, REFERENCE.FUTURE_MARGIN_DAYS).map(
            lambda n: reference + dt.timedelta(days=n)
        ),
    )
    minutes = st.integers(0, 24 * 60 - 1)

    def when(day: dt.date, minute: int) -> dt.date | dt.datetime:
        if not with_times:
            return day
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60))

    items = st.fixed_dictionaries(
        {
            "atc": atc_codes,
            "quantity": quantities,
            **({"form": forms} if has_form else {}),
            **({"strength_mg": strengths} if has_strength else {}),
            **({"prescriber_id": prescribers} if has_prescriber else {}),
            **({"days_supply": days_supplied} if has_days else {}),
        }
    )
    # Per patient a few visits to the pharmacy, each with one or more rows on the same day, so
    # that returns on the last dispensing day and prescriber ties happen as in real data.
    visits = st.lists(st.tuples(days, st.lists(items, min_size=1, max_size=3)), max_size=6)
    rows: list[dict[str, Any]] = []
    for patient_id in patient_ids:
        for day, day_items in draw(visits):
            for item in day_items:
                rows.append({"patient_id": patient_id, "date": when(day, draw(minutes)), **item})
    if draw(st.booleans()):
        # Half the datasets put one patient exactly at, or just over, the threshold ("more
        # than 90": 90 is not chronic, 90.25 and 91 are), which random sums almost never hit.
        threshold = float(options.get("min_units", 90))
        patient_id = draw(st.sampled_from(patient_ids))
        start = reference - relativedelta(months=options.get("window_months", 12))
        have = sum(
            float(r["quantity"])
            for r in rows
            if r["patient_id"] == patient_id
            and start < REFERENCE.as_day(r["date"]) <= reference
            and REFERENCE.is_benzo(r["atc"])
            and REFERENCE.is_counted_form(r.get("form"))
        )
        day = draw(st.sampled_from([reference, start + dt.timedelta(days=1)]))
        top_up = {
            "patient_id": patient_id,
            "date": when(day, draw(minutes)),
            "atc": "N05BA04",
            "quantity": threshold + draw(st.sampled_from([0.0, 0.25, 1.0])) - have,
        }
        if has_form:
            top_up["form"] = draw(st.sampled_from(["tablet", None]))
        if has_strength:
            top_up["strength_mg"] = 10.0
        if has_prescriber:
            top_up["prescriber_id"] = draw(prescribers)
        rows.append(top_up)
    if implausible and draw(st.integers(0, 2)) == 0:
        basis = max(dt.date.today(), reference)
        margin = REFERENCE.FUTURE_MARGIN_DAYS
        limit = REFERENCE.MAX_QUANTITY
        day, atc, quantity = draw(
            st.sampled_from(
                [
                    (basis + dt.timedelta(days=margin), "N05BA04", 30.0),  # the last day allowed
                    (basis + dt.timedelta(days=margin + 1), "N05BA04", 30.0),
                    (dt.date(2199, 12, 31), "N05CF02", 30.0),  # within datetime64[ns]
                    (reference, "N05BA04", limit),  # the most allowed
                    (reference, "N05BA04", limit + 0.25),
                    (reference, "N05CD07", 1e20),
                    (reference - dt.timedelta(days=30), "N05BA04", -1e20),  # a return
                    (reference, "N03AE01", 1e20),  # not a benzodiazepine: allowed
                ]
            )
        )
        odd: dict[str, Any] = {
            "patient_id": draw(st.sampled_from(patient_ids)),
            "date": when(day, draw(minutes)),
            "atc": atc,
            "quantity": quantity,
        }
        if has_form:
            odd["form"] = "tablet"
        if has_strength:
            odd["strength_mg"] = 10.0
        if has_prescriber:
            odd["prescriber_id"] = draw(prescribers)
        rows.append(odd)
    rows = draw(st.permutations(rows))  # the input order must not matter
    columns = ["patient_id", "date", "atc", "quantity"]
    columns += [
        c
        for c, present in (
            ("form", has_form),
            ("strength_mg", has_strength),
            ("prescriber_id", has_prescriber),
            ("days_supply", has_days),
        )
        if present
    ]
    return {
        "reference": reference,
        "rows": rows,
        "columns": columns,
        "with_times": with_times,
        "options": options,
        "pandas_dates": draw(st.sampled_from(["datetime64[ns]", "datetime64[us]", "date32"])),
        # Text columns as plain strings, or as categoricals (a pandas groupby classic: unused
        # categories) and, for pandas, as the old object dtype.
        "text": draw(st.sampled_from(["str", "str", "object", "category"])),
        # The reference date as a date, a datetime (its day counts) or ISO text.
        "reference_as": draw(st.sampled_from(["date", "datetime", "text"])),
    }


# --- frames in, records out -------------------------------------------------------------------


def polars_frame(data: dict[str, Any]) -> pl.DataFrame:
    text = pl.Categorical if data.get("text") == "category" else pl.String
    types = {
        "patient_id": text,
        "date": pl.Datetime("us") if data["with_times"] else pl.Date,
        "atc": text,
        "quantity": pl.Float64,
        "form": text,
        "strength_mg": pl.Float64,
        "prescriber_id": text,
        "days_supply": pl.Float64,
    }
    schema = {c: types[c] for c in data["columns"]}
    return pl.DataFrame(
        [{c: r.get(c) for c in data["columns"]} for r in data["rows"]], schema=schema, orient="row"
    )


def pandas_frame(data: dict[str, Any]) -> pd.DataFrame:
    rows = data["rows"]
    frame: dict[str, Any] = {}
    for column in data["columns"]:
        values = [r.get(column) for r in rows]
        if column == "date":
            if data["pandas_dates"] == "date32" and not data["with_times"]:
                frame[column] = pd.Series(values, dtype=pd.ArrowDtype(pa.date32()))
            else:
                unit = "ns" if data["pandas_dates"] == "datetime64[ns]" else "us"
                frame[column] = pd.Series(pd.to_datetime(values), dtype=f"datetime64[{unit}]")
        elif column in {"quantity", "strength_mg", "days_supply"}:
            frame[column] = pd.Series(
                [math.nan if v is None else v for v in values], dtype="float64"
            )
        else:
            dtype = data.get("text", "str")
            if (
                dtype == "category"
                and all(v is None for v in values)
                and not data.get("empty_categoricals")
            ):
                # A categorical without a single value (no categories) is a corner case of its
                # own; test_engines_agree.py generates it on purpose (empty_categoricals).
                dtype = "str"
            frame[column] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(frame, columns=data["columns"])


def _plain(value: Any) -> Any:
    """A library output value as a plain Python value (None for every kind of missing)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _plain(value.item())
    return value


def run(kind: str, data: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    source, engine = kind.split("-")
    if kind in ("polars-scan", "duckdb-lazy"):
        return _run_lazy_source(kind, data)
    if engine == "batches":
        # Moved to polars in slices of three rows: the checks and the rows kept for the
        # queries (benzoredux.engine.KeptRows) see several slices, each with its own codes.
        threshold, slice_rows = benzoredux.engine.BATCHES_FROM_ROWS, benzoredux.engine.SLICE_ROWS
        benzoredux.engine.BATCHES_FROM_ROWS, benzoredux.engine.SLICE_ROWS = 0, 3
        try:
            return run(f"{source}-auto", data)
        finally:
            benzoredux.engine.BATCHES_FROM_ROWS = threshold
            benzoredux.engine.SLICE_ROWS = slice_rows
    options = {**data["options"]}
    if source == "pyarrow":
        engine = "auto"
    if engine != "lazy":
        options["engine"] = engine
    if source == "pandas":
        frame: Any = pandas_frame(data)
    elif source == "pyarrow":
        frame = polars_frame(data).to_arrow()
    elif engine == "lazy":
        frame = polars_frame(data).lazy()
    else:
        frame = polars_frame(data)
    reference: dt.date = data["reference"]
    as_given: dt.date | dt.datetime | str = reference
    if data.get("reference_as") == "datetime":
        as_given = dt.datetime.combine(reference, dt.time(23, 59))
    elif data.get("reference_as") == "text":
        as_given = reference.isoformat()
    result = benzoredux.select_chronic_users(frame, as_given, **options)
    if source == "pandas":
        assert isinstance(result, pd.DataFrame)
        records: list[dict[Any, Any]] = result.to_dict("records")
        columns = list(result.columns)
    elif engine == "lazy":
        assert isinstance(result, pl.LazyFrame), "lazy in, lazy out"
        collected = result.collect()
        records, columns = collected.to_dicts(), collected.columns
    elif source == "pyarrow":
        assert isinstance(result, pa.Table)
        records, columns = result.to_pylist(), result.column_names
    else:
        assert isinstance(result, pl.DataFrame)
        records, columns = result.to_dicts(), result.columns
    return columns, [{str(k): _plain(v) for k, v in r.items()} for r in records]


def _reference_as_given(data: dict[str, Any]) -> dt.date | dt.datetime | str:
    reference: dt.date = data["reference"]
    if data.get("reference_as") == "datetime":
        return dt.datetime.combine(reference, dt.time(23, 59))
    if data.get("reference_as") == "text":
        return reference.isoformat()
    return reference


def _run_lazy_source(kind: str, data: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """``polars-scan``: the rows written to a Parquet file and passed as ``pl.scan_parquet``;
    ``duckdb-lazy``: the rows as a DuckDB relation. Both come back lazy, of their own kind."""
    table = polars_frame(data).to_arrow()
    options = data["options"]
    if kind == "duckdb-lazy":
        con = duckdb.connect()
        try:
            relation = con.from_arrow(table)
            result = benzoredux.select_chronic_users(relation, _reference_as_given(data), **options)
            assert isinstance(result, duckdb.DuckDBPyRelation), "lazy in, lazy out"
            collected = result.to_arrow_table()
        finally:
            con.close()
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dispensings.parquet"
            pq.write_table(table, path)
            result = benzoredux.select_chronic_users(
                pl.scan_parquet(path), _reference_as_given(data), **options
            )
            assert isinstance(result, pl.LazyFrame), "lazy in, lazy out"
            collected = result.collect().to_arrow()
    records = collected.to_pylist()
    return collected.column_names, [{str(k): _plain(v) for k, v in r.items()} for r in records]
