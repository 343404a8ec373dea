"""The selection on every input kind and both data shapes, each engine in a process of its own.

Run ``python benchmarks/bench_scale.py --rows 10000000 [--rows 100000000] [--repeat 5]``.

For each size and shape (``--shape sparse --shape dense``; both by default) the script generates
(once; later runs reuse it) a synthetic dataset of dispensings as Parquet files under
``--data-dir`` (default ``benchmarks/data``, not in git): regions of at most 10 million rows each
from ``benchmarks/generate.py``, each region with its own patients and prescribers (ids prefixed
``R00-``, ``R01-``, ...), written one region at a time so that generating 100 million rows needs
the memory of 10 million. The *sparse* shape is a pharmacy's whole export (8% benzodiazepines,
20 rows a patient), the *dense* one a pre-filtered export (a third benzodiazepines, ten rows a
patient).

Then, for every input kind (``--inputs``, all by default):

* ``path``: the Parquet file (one region) or the folder (several) as a ``str``;
* ``glob``: ``"<folder>/*.parquet"``;
* ``scan``: ``pl.scan_parquet(glob)``, a polars LazyFrame;
* ``duckdb``: ``duckdb.read_parquet(glob)``, a DuckDB relation;
* ``duckdb-table``: a relation over an in-memory DuckDB table of the data
  (``con.table(...)``; the table is made before the clock, as the frames in memory are);
* ``lazy``: a polars DataFrame in memory, passed as ``.lazy()``;
* ``polars``, ``pandas``, ``pyarrow``: the data in memory as that library's table;
* ``dask`` (only when named in ``--inputs``): ``dask.dataframe.read_parquet(glob)`` on a local
  cluster of two single-threaded workers in the same process;

it times three engines, each run in a fresh process (``--worker``), the engines taking turns:

* ``benzoredux``: ``select_chronic_users(input, reference)``, its result fetched (a lazy
  result collected, a relation fetched as Arrow);
* ``duckdb_same``: the hand-written DuckDB query of the library's whole output
  (``bench_selection.SQL``) over the same data: ``read_parquet()`` for the inputs on disk,
  DuckDB's replacement scan of the frame for the inputs in memory (the table itself for
  ``duckdb-table``), fetched as the input's kind;
* ``duckdb_bare``: the bare rule (``bench_selection.BARE_SQL``: the window, more than 90 units,
  no complex co-medication; patient and units only) on the same data, the yardstick of issue 19.

Each child imports its libraries and loads the data in memory *before* its clock starts, then
resets its peak-memory mark (``/proc/self/clear_refs``), so that ``peak_rss_mb`` is the peak of
the process during the query and ``working_mb`` the memory the query itself added (the data in
memory and the imports left out). Every run reports the wall and CPU time of the call, the
number of selected patients and a checksum of its (patient, units) pairs, which must agree
between all engines. The load average is recorded before and after each cell, with the versions
of the libraries. Results go to ``benchmarks/results/scale.json``; the goals of issue 19 (at or
below the same-output query's time and memory; at most 1.5 times the bare query's) are printed
with PASS/MISS.

``--cli`` adds the whole-process time of ``benzoredux select`` on the Parquet file (imports,
reading, the selection, writing the CSV and spreadsheet files, the register; wall and CPU
time), ``--cli-only`` measures that alone (``python benchmarks/bench_scale.py --cli-only
--rows 10000000 --repeat 3``), and ``--startup`` the time of
``import benzoredux`` plus a first selection on a practice-sized file in a fresh interpreter.
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
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.json"
REGION_ROWS = 10_000_000
ROW_GROUP = 1_000_000
PRACTICE_ROWS = 50_000
GOALS = {"same_ratio": 1.0, "bare_ratio": 1.5, "startup_seconds": 0.3}
SHAPES = ("sparse", "dense")
INPUTS = ("path", "glob", "scan", "duckdb", "duckdb-table", "lazy", "polars", "pandas", "pyarrow")
OPTIONAL_INPUTS = ("dask",)  # --inputs dask: a local cluster of two single-threaded workers
IN_MEMORY = frozenset({"lazy", "polars", "pandas", "pyarrow"})
ENGINES = ("benzoredux", "duckdb_same", "duckdb_bare")
REFERENCE = dt.date(2025, 12, 31)  # generate.END: the last day of the generated data


# --- the dataset ------------------------------------------------------------------------------


def dataset(rows: int, data_dir: Path, shape: str) -> Path:
    """The folder of Parquet files holding ``rows`` dispensings of ``shape``, generated when
    not there yet."""
    folder = data_dir / f"dispensings-{shape}-{rows}"
    # The mark of a finished dataset lies beside the folder, not in it: polars refuses to scan
    # a folder that holds files other than Parquet files (a Spark "_SUCCESS" file too).
    done = data_dir / f"dispensings-{shape}-{rows}.complete"
    if done.exists():
        return folder
    sys.path.insert(0, str(HERE))
    import pyarrow as pa
    import pyarrow.parquet as pq

    from generate import generate

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    left, region = rows, 0
    while left > 0:
        size = min(left, REGION_ROWS)
        started = time.perf_counter()
        frame = generate(size, seed=2025 + region, shape=shape)
        prefix = f"R{region:02d}-"
        frame["patient_id"] = prefix + frame["patient_id"]
        frame["prescriber_id"] = prefix + frame["prescriber_id"]
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        del frame
        pq.write_table(table, folder / f"region-{region:03d}.parquet", row_group_size=ROW_GROUP)
        del table
        print(
            f"  generated {shape} region {region} ({size:,} rows) in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        left -= size
        region += 1
    done.write_text(f"{rows}\n")
    return folder


def _path_of(folder: Path) -> str:
    """The ``path`` input: the one file of a one-region dataset, else the folder."""
    files = sorted(folder.glob("*.parquet"))
    return str(files[0] if len(files) == 1 else folder)


# --- one engine, in its own process -----------------------------------------------------------


def _status(key: str) -> float:
    """A memory figure of this process from ``/proc/self/status``, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _reset_peak() -> None:
    """Start the peak-memory mark (``VmHWM``) afresh at the current resident memory (Linux)."""
    Path("/proc/self/clear_refs").write_text("5")


def _as_arrow(result: Any) -> Any:
    """A result of any kind as an Arrow table (after the clock: for the checksum only)."""
    import pyarrow as pa

    if isinstance(result, pa.Table):
        return result
    module = type(result).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(result, preserve_index=False)
    if module == "polars":
        return result.to_arrow()
    raise TypeError(f"unexpected result {type(result).__name__}")


def _checksums(table: Any) -> dict[str, Any]:
    """Row count and hashes of the sorted (patient_id, units) pairs and, when the result has
    them, of the exact output columns shared with the same-output query."""
    import pyarrow.compute as pc

    order = pc.sort_indices(table, sort_keys=[("patient_id", "ascending")])
    rows = table.take(order)
    pairs = hashlib.sha256()
    ids = rows.column("patient_id").to_pylist()
    units = rows.column("units").to_pylist()
    for patient, value in zip(ids, units, strict=True):
        pairs.update(f"{patient}:{float(value):.6f}\n".encode())
    out: dict[str, Any] = {"rows": rows.num_rows, "checksum": pairs.hexdigest()[:16]}
    exact = ("n_dispensings", "n_returns", "first_date", "last_date", "gp_id", "complex_groups")
    if all(c in rows.column_names for c in exact):
        columns = hashlib.sha256()
        values = [rows.column(c).to_pylist() for c in ("patient_id", *exact)]
        for row in zip(*values, strict=True):
            text = [v.date().isoformat() if isinstance(v, dt.datetime) else str(v) for v in row]
            columns.update(("|".join(text) + "\n").encode())
        out["checksum_columns"] = columns.hexdigest()[:16]
    return out


def _load(kind: str, folder: Path) -> Any:
    """The input of ``kind`` (before the clock: reading a file into memory is not the query)."""
    glob = str(folder / "*.parquet")
    if kind == "path":
        return _path_of(folder)
    if kind == "glob":
        return glob
    if kind == "scan":
        import polars as pl

        return pl.scan_parquet(glob)
    if kind == "duckdb":
        import duckdb

        return duckdb.connect().read_parquet(glob)
    if kind == "duckdb-table":
        import duckdb

        con = duckdb.connect()
        con.sql(f"CREATE TABLE dispensings_table AS SELECT * FROM read_parquet('{glob}')")
        return con.table("dispensings_table")
    if kind in ("polars", "lazy"):
        import polars as pl

        frame = pl.read_parquet(glob)
        return frame.lazy() if kind == "lazy" else frame
    if kind == "pandas":
        import pandas as pd

        return pd.read_parquet(folder)
    if kind == "pyarrow":
        import pyarrow.parquet as pq

        return pq.read_table(folder)
    if kind == "dask":
        import dask.dataframe as dd

        return dd.read_parquet(glob)
    raise ValueError(kind)


def _run_library(kind: str, data: Any) -> Any:
    import benzoredux

    if kind == "dask":
        return _run_dask(data)
    result = benzoredux.select_chronic_users(data, REFERENCE)
    if kind in ("path", "glob", "scan", "lazy"):
        return result.collect()
    if kind in ("duckdb", "duckdb-table"):
        return result.to_arrow_table()
    return result


def _run_dask(frame: Any) -> Any:
    import warnings

    import dask
    import distributed

    import benzoredux

    warnings.filterwarnings("ignore", message="Dask support is moving")
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        return benzoredux.select_chronic_users(frame, REFERENCE).compute()


def _run_duckdb(kind: str, data: Any, folder: Path, sql: str) -> Any:
    import duckdb

    if kind == "duckdb-table":  # the query on the table's own connection, as ``dispensings``
        return data.query("dispensings", sql).to_arrow_table()
    con = duckdb.connect()
    if kind in IN_MEMORY:
        dispensings = data.collect() if kind == "lazy" else data  # noqa: F841 - DuckDB reads it
        relation = con.sql(sql)  # the replacement scan finds ``dispensings`` here
        if kind in ("polars", "lazy"):
            return relation.pl()
        if kind == "pandas":
            return relation.df()
        return relation.to_arrow_table()
    con.sql(f"CREATE VIEW dispensings AS SELECT * FROM read_parquet('{folder / '*.parquet'}')")
    return con.sql(sql).to_arrow_table()


def worker(engine: str, kind: str, folder: Path, sql_file: str | None) -> None:
    """Run one engine once on one input kind; print one JSON line: times, memory, checksums."""
    sql = Path(sql_file).read_text() if sql_file else ""
    # Import the engine's libraries before the clock starts (they are not the query).
    import pyarrow
    import pyarrow.parquet  # noqa: F401 - the library reads Parquet footers with it

    if kind == "pandas":
        import pandas  # noqa: F401
    if kind in ("polars", "lazy", "scan") or engine == "benzoredux":
        import polars  # noqa: F401
    if kind in ("duckdb", "duckdb-table") or engine != "benzoredux":
        import duckdb  # noqa: F401
    if kind == "dask":
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    if engine == "benzoredux":
        import benzoredux.selection  # noqa: F401 - ``import benzoredux`` alone loads nothing
    data = _load(kind, folder)
    if kind == "lazy" and engine != "benzoredux":
        data = data.collect()  # DuckDB reads the polars DataFrame under the LazyFrame
        kind_for_duckdb = "polars"
    elif kind == "dask":
        kind_for_duckdb = "glob"  # DuckDB reads the same files
    else:
        kind_for_duckdb = kind
    rss_before = _status("VmRSS")
    _reset_peak()
    cpu = time.process_time()
    start = time.perf_counter()
    if engine == "benzoredux":
        result = _run_library(kind, data)
    else:
        result = _run_duckdb(kind_for_duckdb, data, folder, sql)
    wall = time.perf_counter() - start
    cpu_time = time.process_time() - cpu
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "engine": engine,
                "input": kind,
                "seconds": wall,
                "cpu_seconds": cpu_time,
                "peak_rss_mb": peak,
                "rss_before_mb": rss_before,
                "working_mb": peak - rss_before,
                **_checksums(_as_arrow(result)),
            }
        ),
        flush=True,
    )


def run_once(engine: str, kind: str, folder: Path, sql_files: dict[str, Path]) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        engine,
        "--input",
        kind,
        "--folder",
        str(folder),
    ]
    if engine in sql_files:
        command += ["--sql-file", str(sql_files[engine])]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} on {kind} failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- the comparison ---------------------------------------------------------------------------


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "best": min(values),
        "median": statistics.median(values),
        "worst": max(values),
    }


def bench_cell(folder: Path, kind: str, repeat: int, sql_files: dict[str, Path]) -> dict[str, Any]:
    """One input kind on one dataset: every engine ``repeat`` times, taking turns."""
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
    load_before = os.getloadavg()
    for round_ in range(repeat):
        order = ENGINES if round_ % 2 == 0 else tuple(reversed(ENGINES))
        for engine in order:
            result = run_once(engine, kind, folder, sql_files)
            runs[engine].append(result)
            print(
                f"    {kind:8s} round {round_ + 1}/{repeat}: {engine:12s} "
                f"{result['seconds']:6.2f} s (CPU {result['cpu_seconds']:5.2f} s), "
                f"peak {result['peak_rss_mb']:6.0f} MB (+{result['working_mb']:.0f}), "
                f"{result['rows']} patients",
                flush=True,
            )
    load_after = os.getloadavg()
    summary: dict[str, Any] = {}
    for engine, results in runs.items():
        seconds = [r["seconds"] for r in results]
        summary[engine] = {
            "seconds": _spread(seconds),
            "times_s": seconds,
            "cpu_s": [r["cpu_seconds"] for r in results],
            "cpu_best_s": min(r["cpu_seconds"] for r in results),
            "peak_rss_mb": min(r["peak_rss_mb"] for r in results),
            "peak_rss_runs_mb": [r["peak_rss_mb"] for r in results],
            "working_mb": min(r["working_mb"] for r in results),
            "working_runs_mb": [r["working_mb"] for r in results],
            "rss_before_mb": results[0]["rss_before_mb"],
            "patients": results[0]["rows"],
            "checksum": results[0]["checksum"],
            "checksum_columns": results[0].get("checksum_columns"),
            "checksums_stable": len({r["checksum"] for r in results}) == 1,
        }
    library = summary["benzoredux"]
    for name in ("duckdb_same", "duckdb_bare"):
        base = summary[name]
        key = name.removeprefix("duckdb_")
        library[f"time_vs_{key}"] = library["seconds"]["best"] / base["seconds"]["best"]
        library[f"cpu_vs_{key}"] = library["cpu_best_s"] / base["cpu_best_s"]
        library[f"peak_vs_{key}"] = library["peak_rss_mb"] / base["peak_rss_mb"]
        library[f"working_vs_{key}"] = library["working_mb"] / max(base["working_mb"], 1.0)
        library[f"same_result_as_{key}"] = (library["patients"], library["checksum"]) == (
            base["patients"],
            base["checksum"],
        )
    library["same_columns_as_same"] = (
        library["checksum_columns"] == summary["duckdb_same"]["checksum_columns"]
    )
    return {
        "input": kind,
        "load_average_before": list(load_before),
        "load_average_after": list(load_after),
        "engines": summary,
    }


def bench_size(
    rows: int, shape: str, data_dir: Path, repeat: int, inputs: tuple[str, ...]
) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import pyarrow.parquet as pq

    from bench_selection import bare_sql, duckdb_sql

    folder = dataset(rows, data_dir, shape)
    columns = pq.read_schema(next(folder.glob("*.parquet"))).names
    sql_files = {
        "duckdb_same": data_dir / "same_output.sql",
        "duckdb_bare": data_dir / "bare_rule.sql",
    }
    sql_files["duckdb_same"].write_text(duckdb_sql(REFERENCE, columns))
    sql_files["duckdb_bare"].write_text(bare_sql(REFERENCE, columns))
    size_mb = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    print(f"{shape}, {rows:,} rows ({size_mb:.0f} MB of Parquet)", flush=True)
    cells = [bench_cell(folder, kind, repeat, sql_files) for kind in inputs]
    return {
        "rows": rows,
        "shape": shape,
        "parquet_files": len(list(folder.glob("*.parquet"))),
        "parquet_mb": round(size_mb, 1),
        "cells": cells,
    }


def _verdict(ratio: float, limit: float) -> str:
    return "PASS" if ratio <= limit else "MISS"


def report(entry: dict[str, Any]) -> list[str]:
    lines = [
        f"{entry['shape']}, {entry['rows']:,} dispensings ({entry['parquet_mb']:.0f} MB Parquet):",
        f"  {'input':8s} {'library s':>9s} {'same s':>7s} {'bare s':>7s}  "
        f"{'x same':>6s} {'x bare':>6s}  {'peak MB':>7s} {'same':>6s} {'bare':>6s}  "
        f"{'+MB':>5s} {'same':>5s} {'bare':>5s}  verdicts (time/memory vs same, vs bare)",
    ]
    for cell in entry["cells"]:
        e = cell["engines"]
        lib, same, bare = e["benzoredux"], e["duckdb_same"], e["duckdb_bare"]
        verdicts = (
            f"{_verdict(lib['time_vs_same'], GOALS['same_ratio'])}/"
            f"{_verdict(lib['peak_vs_same'], GOALS['same_ratio'])} "
            f"{_verdict(lib['time_vs_bare'], GOALS['bare_ratio'])}/"
            f"{_verdict(lib['peak_vs_bare'], GOALS['bare_ratio'])}"
        )
        same_result = lib["same_result_as_same"] and lib["same_result_as_bare"]
        lines.append(
            f"  {cell['input']:8s} {lib['seconds']['best']:9.2f} {same['seconds']['best']:7.2f} "
            f"{bare['seconds']['best']:7.2f}  {lib['time_vs_same']:6.2f} "
            f"{lib['time_vs_bare']:6.2f}  {lib['peak_rss_mb']:7.0f} {same['peak_rss_mb']:6.0f} "
            f"{bare['peak_rss_mb']:6.0f}  {lib['working_mb']:5.0f} {same['working_mb']:5.0f} "
            f"{bare['working_mb']:5.0f}  {verdicts}"
            f"{'' if same_result else '  RESULTS DIFFER'}"
            f"  load {cell['load_average_before'][0]:.2f}"
        )
    return lines


# --- whole processes: the command line, and start-up ------------------------------------------


def _whole_process(command: list[str], repeat: int) -> dict[str, Any]:
    """Wall time and CPU time (user + system, all threads) of ``command``, ``repeat`` times."""
    import resource

    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"seconds": _spread(times), "times_s": times, "cpu_s": cpu, "cpu_best_s": min(cpu)}


def bench_cli(folder: Path, repeat: int) -> dict[str, Any]:
    """Whole-process time of ``benzoredux select`` on the Parquet file (or folder), imports
    included, beside a whole Python process running the same-output DuckDB query to CSV."""
    path = _path_of(folder)
    sql = (folder.parent / "same_output.sql").read_text()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as out:
        cli = _whole_process(
            [
                sys.executable,
                "-m",
                "benzoredux",
                "select",
                path,
                "--reference-date",
                REFERENCE.isoformat(),
                "--out",
                out,
            ],
            repeat,
        )
        script = (
            "import duckdb, sys\n"
            "con = duckdb.connect()\n"
            'con.sql("CREATE VIEW dispensings AS SELECT * FROM read_parquet(\'" + sys.argv[1]'
            ' + "/*.parquet\')")\n'
            "con.sql(open(sys.argv[2]).read()).write_csv(sys.argv[3])\n"
        )
        sql_file = Path(out) / "same.sql"
        sql_file.write_text(sql)
        duck = _whole_process(
            [sys.executable, "-c", script, str(folder), str(sql_file), f"{out}/duckdb.csv"],
            repeat,
        )
    return {
        "command": f"benzoredux select {path} --reference-date {REFERENCE} --out DIR",
        "benzoredux_cli": cli,
        "duckdb_script_to_csv": duck,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
    }


def cli_entry(folder: Path, repeat: int) -> dict[str, Any]:
    """:func:`bench_cli`, its figures printed."""
    entry = bench_cli(folder, repeat)
    cli, duck = entry["benzoredux_cli"], entry["duckdb_script_to_csv"]
    print(
        f"  CLI whole process: best {cli['seconds']['best']:.2f} s "
        f"(CPU {cli['cpu_best_s']:.2f} s); DuckDB script to CSV "
        f"{duck['seconds']['best']:.2f} s (CPU {duck['cpu_best_s']:.2f} s); load "
        f"{entry['load_average_before'][0]:.2f}",
        flush=True,
    )
    return entry


STARTUP_CODE = """
import json, sys, time
source = sys.argv[1]
if sys.argv[2] == "pandas":  # the caller's own frame, read before the clock
    import pandas
    source = pandas.read_parquet(source)
start = time.perf_counter()
import benzoredux
imported = time.perf_counter()
result = benzoredux.select_chronic_users(source, "2025-12-31")
if sys.argv[2] == "path":
    result = result.collect()
done = time.perf_counter()
heavy = ("polars", "pyarrow", "duckdb", "pandas", "narwhals", "numpy")
print(json.dumps({
    "import_s": imported - start, "first_selection_s": done - imported, "total_s": done - start,
    "patients": len(result), "libraries": sorted({m.split(".")[0] for m in sys.modules} &
                                                 set(heavy)),
}))
"""


def bench_startup(data_dir: Path, repeat: int) -> dict[str, Any]:
    """``import benzoredux`` plus the first selection on a practice-sized Parquet file (and on
    the same rows as a pandas frame the caller already holds), in a fresh interpreter each time
    (the interpreter's own start, and pandas reading the file, are not counted)."""
    sys.path.insert(0, str(HERE))
    import pyarrow as pa
    import pyarrow.parquet as pq

    from generate import generate

    path = data_dir / f"practice-{PRACTICE_ROWS}.parquet"
    if not path.exists():
        frame = generate(PRACTICE_ROWS)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    result: dict[str, Any] = {"rows": PRACTICE_ROWS, "load_average": list(os.getloadavg())}
    for kind in ("path", "pandas"):
        samples = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, "-c", STARTUP_CODE, str(path), kind],
                capture_output=True,
                text=True,
                check=True,
            )
            samples.append(json.loads(out.stdout))
        result[kind] = {
            "total_s": _spread([s["total_s"] for s in samples]),
            "import_s": statistics.median(s["import_s"] for s in samples),
            "first_selection_s": statistics.median(s["first_selection_s"] for s in samples),
            "libraries_loaded": samples[-1]["libraries"],
            "runs": samples,
        }
    return result


def versions() -> dict[str, str]:
    found = {}
    for name in ("benzoredux", "polars", "duckdb", "narwhals", "pyarrow", "pandas", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "note": "shared machine: other jobs may run; see the load averages per cell",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="dataset size (repeatable)")
    parser.add_argument("--shape", action="append", choices=SHAPES, help="(repeatable)")
    parser.add_argument("--inputs", help=f"comma-separated subset of {','.join(INPUTS)}, or dask")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--cli", action="store_true", help="whole-process time of the CLI")
    parser.add_argument(
        "--cli-only",
        action="store_true",
        help="only the CLI's whole-process time (implies --cli; the selection cells of --out "
        "are kept as they are)",
    )
    parser.add_argument("--startup", action="store_true", help="import + first selection")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sql-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.input, args.folder, args.sql_file)
        return
    inputs = tuple(args.inputs.split(",")) if args.inputs else INPUTS
    unknown = set(inputs) - set(INPUTS) - set(OPTIONAL_INPUTS)
    if unknown:
        parser.error(f"unknown inputs: {', '.join(sorted(unknown))}")
    shapes = tuple(args.shape or SHAPES)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    previous: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    key = "{shape}-{rows}"
    by_size = {key.format(**e): e for e in previous.get("sizes", []) if "shape" in e}
    args.cli = args.cli or args.cli_only
    inputs = () if args.cli_only else inputs
    for rows in args.rows or [REGION_ROWS]:
        for shape in shapes:
            entry = bench_size(rows, shape, args.data_dir, args.repeat, inputs)
            old = by_size.get(key.format(**entry))
            if old is not None:  # keep the cells of inputs not measured this time
                measured = {c["input"] for c in entry["cells"]}
                entry["cells"] = [c for c in old["cells"] if c["input"] not in measured] + entry[
                    "cells"
                ]
                order = (*INPUTS, *OPTIONAL_INPUTS)
                entry["cells"].sort(key=lambda c: order.index(c["input"]))
            by_size[key.format(**entry)] = entry
            if args.cli:
                print("  the command line, whole process ...", flush=True)
                entry["cli"] = cli_entry(dataset(rows, args.data_dir, shape), args.repeat)
            print("\n".join(report(entry)), flush=True)
    result: dict[str, Any] = {
        "machine": machine(),
        "versions": versions(),
        "reference_date": REFERENCE.isoformat(),
        "goals": GOALS,
        "sizes": sorted(by_size.values(), key=lambda e: (e["rows"], e["shape"])),
    }
    if args.startup:
        result["startup"] = bench_startup(args.data_dir, max(args.repeat, 5))
        for kind in ("path", "pandas"):
            startup = result["startup"][kind]
            print(
                f"start-up, {kind}: {json.dumps(startup['total_s'])} "
                f"(loads {', '.join(startup['libraries_loaded'])})",
                flush=True,
            )
    elif "startup" in previous:
        result["startup"] = previous["startup"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
