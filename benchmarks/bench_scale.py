"""Benchmark the selection on a Parquet dataset on disk against DuckDB's SQL of the same rule.

Run ``python benchmarks/bench_scale.py --rows 10000000 [--rows 100000000] [--repeat 3]``.

For each size the script generates (once; later runs reuse it) a synthetic dataset of dispensings
as Parquet files under ``--data-dir`` (default ``benchmarks/data``, not in git): regions of at most
10 million rows each from ``benchmarks/generate.py`` (the mix of ``bench_selection.py``), each
region with its own patients and prescribers (ids prefixed ``R00-``, ``R01-``, ...), written one
region at a time so that generating 100 million rows needs the memory of 10 million. Then, side
by side in one run, it times:

* ``benzoredux``: ``select_chronic_users("<dir>/*.parquet", reference).collect()``, the lazy
  Parquet path of the library (polars scans the files; validation and query included);
* ``benzoredux_streaming``: the same, collected with polars' streaming engine;
* ``duckdb``: the hand-written SQL of the rule (``bench_selection.SQL``) over
  ``read_parquet('<dir>/*.parquet')``, fetched as an Arrow table;
* optionally (``--dask``) ``dask``: the selection on ``dask.dataframe.read_parquet`` on a local
  cluster of two single-threaded workers in the same process.

Every run is a fresh subprocess (``--worker``), so each engine's peak memory is its own: the
child reports its own peak resident memory (``VmHWM``: the interpreter and its imports
included, for every engine alike) and the wall and CPU time of the query alone (imports
excluded). Repeats alternate the order of the engines. Every run also reports the number of
selected patients and a checksum of (patient, units) pairs, which must agree between the
engines. The load average of the machine is recorded before and after each size. Results go
to ``benchmarks/results/scale.json``; the targets (library time at most 1.2x DuckDB's, peak
memory at most 1.5x) are printed with PASS/MISS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.json"
REGION_ROWS = 10_000_000
ROW_GROUP = 1_000_000
TARGETS = {"time_ratio": 1.2, "memory_ratio": 1.5}
ENGINES = ("benzoredux", "benzoredux_streaming", "duckdb")
REFERENCE = dt.date(2025, 12, 31)  # generate.END: the last day of the generated data


# --- the dataset ------------------------------------------------------------------------------


def dataset(rows: int, data_dir: Path) -> Path:
    """The folder of Parquet files holding ``rows`` dispensings, generated when not there yet."""
    folder = data_dir / f"dispensings-{rows}"
    done = folder / "_COMPLETE"
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
        frame = generate(size, seed=2025 + region)
        prefix = f"R{region:02d}-"
        frame["patient_id"] = prefix + frame["patient_id"]
        frame["prescriber_id"] = prefix + frame["prescriber_id"]
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        del frame
        pq.write_table(table, folder / f"region-{region:03d}.parquet", row_group_size=ROW_GROUP)
        del table
        print(
            f"  generated region {region} ({size:,} rows) in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        left -= size
        region += 1
    done.write_text(f"{rows}\n")
    return folder


# --- one engine, in its own process -----------------------------------------------------------


def _checksum(table: Any) -> dict[str, Any]:
    """Row count and a hash of the sorted (patient_id, units) pairs of a result (Arrow)."""
    import pyarrow.compute as pc

    order = pc.sort_indices(table, sort_keys=[("patient_id", "ascending")])
    sorted_table = table.take(order)
    digest = hashlib.sha256()
    ids = sorted_table.column("patient_id").to_pylist()
    units = sorted_table.column("units").to_pylist()
    for patient, value in zip(ids, units, strict=True):
        digest.update(f"{patient}:{float(value):.6f}\n".encode())
    return {"rows": sorted_table.num_rows, "checksum": digest.hexdigest()[:16]}


def _peak_rss_mb() -> float:
    """This process's peak resident memory (MB): ``VmHWM``, which starts afresh at ``exec``.

    Not ``ru_maxrss``: Linux carries it over from the parent through fork and exec, so every
    child would report at least the parent's peak (the generator's, here).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_benzoredux(glob: str, streaming: bool) -> Any:
    import benzoredux

    lazy = benzoredux.select_chronic_users(glob, REFERENCE)
    frame = lazy.collect(engine="streaming") if streaming else lazy.collect()
    return frame.to_arrow()


def _run_duckdb(glob: str, sql: str) -> Any:
    import duckdb

    con = duckdb.connect()
    con.sql(f"CREATE VIEW dispensings AS SELECT * FROM read_parquet('{glob}')")
    return con.sql(sql).fetch_arrow_table()


def _run_dask(glob: str) -> Any:
    import warnings

    import dask
    import dask.dataframe as dd
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
        frame = dd.read_parquet(glob)
        result = benzoredux.select_chronic_users(frame, REFERENCE).compute()
    import pyarrow as pa

    return pa.Table.from_pandas(result, preserve_index=False)


def worker(engine: str, glob: str, sql_file: str | None) -> None:
    """Run one engine once and print one JSON line: times, peak memory, result checksum."""
    sql = Path(sql_file).read_text() if sql_file else ""
    # Import the engine's libraries before the clock starts (they are not the query).
    if engine == "duckdb":
        import duckdb  # noqa: F401
        import pyarrow
    elif engine == "dask":
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401

        import benzoredux.selection
    else:
        # ``import benzoredux`` alone is lazy: import the modules the call uses, as DuckDB's
        # engine is loaded by ``import duckdb``. The library reads Parquet footers with pyarrow.
        import polars  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import benzoredux.selection  # noqa: F401
    rss_before = _peak_rss_mb()
    cpu = time.process_time()
    start = time.perf_counter()
    if engine == "duckdb":
        table = _run_duckdb(glob, sql)
    elif engine == "dask":
        table = _run_dask(glob)
    else:
        table = _run_benzoredux(glob, streaming=engine == "benzoredux_streaming")
    wall = time.perf_counter() - start
    cpu_time = time.process_time() - cpu
    peak = _peak_rss_mb()
    print(
        json.dumps(
            {
                "engine": engine,
                "seconds": wall,
                "cpu_seconds": cpu_time,
                "peak_rss_mb": peak,
                "rss_after_imports_mb": rss_before,
                **_checksum(table),
            }
        ),
        flush=True,
    )


def run_once(engine: str, glob: str, sql_file: Path) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, "--glob", glob]
    if engine == "duckdb":
        command += ["--sql-file", str(sql_file)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- the comparison ---------------------------------------------------------------------------


def bench_size(rows: int, data_dir: Path, repeat: int, engines: tuple[str, ...]) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import pyarrow.parquet as pq

    from bench_selection import duckdb_sql

    folder = dataset(rows, data_dir)
    glob = str(folder / "*.parquet")
    columns = pq.read_schema(next(folder.glob("*.parquet"))).names
    sql_file = data_dir / "selection.sql"
    sql_file.write_text(duckdb_sql(REFERENCE, columns))
    size_mb = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    load_before = os.getloadavg()
    for round_ in range(repeat):
        order = engines if round_ % 2 == 0 else tuple(reversed(engines))
        for engine in order:
            result = run_once(engine, glob, sql_file)
            runs[engine].append(result)
            print(
                f"  {rows:,} rows, round {round_ + 1}/{repeat}: {engine} "
                f"{result['seconds']:.2f} s, peak {result['peak_rss_mb']:.0f} MB, "
                f"{result['rows']} patients",
                flush=True,
            )
    load_after = os.getloadavg()
    summary: dict[str, Any] = {}
    for engine, results in runs.items():
        summary[engine] = {
            "best_s": min(r["seconds"] for r in results),
            "times_s": [r["seconds"] for r in results],
            "cpu_s": [r["cpu_seconds"] for r in results],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "peak_rss_runs_mb": [r["peak_rss_mb"] for r in results],
            "rss_after_imports_mb": results[0]["rss_after_imports_mb"],
            "patients": results[0]["rows"],
            "checksum": results[0]["checksum"],
        }
    base = summary["duckdb"]
    for entry in summary.values():
        entry["time_ratio_to_duckdb"] = entry["best_s"] / base["best_s"]
        entry["memory_ratio_to_duckdb"] = entry["peak_rss_mb"] / base["peak_rss_mb"]
        entry["same_result_as_duckdb"] = (entry["patients"], entry["checksum"]) == (
            base["patients"],
            base["checksum"],
        )
    return {
        "rows": rows,
        "parquet_files": len(list(folder.glob("*.parquet"))),
        "parquet_mb": round(size_mb, 1),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "engines": summary,
    }


def report(entry: dict[str, Any]) -> list[str]:
    lines = [f"{entry['rows']:,} dispensings ({entry['parquet_mb']:.0f} MB of Parquet):"]
    for name, e in entry["engines"].items():
        line = (
            f"  {name:22s} best {e['best_s']:7.2f} s  peak {e['peak_rss_mb']:7.0f} MB  "
            f"time x{e['time_ratio_to_duckdb']:.2f}  memory x{e['memory_ratio_to_duckdb']:.2f}"
            f"  same result: {e['same_result_as_duckdb']}"
        )
        if name != "duckdb":
            ok_time = e["time_ratio_to_duckdb"] <= TARGETS["time_ratio"]
            ok_mem = e["memory_ratio_to_duckdb"] <= TARGETS["memory_ratio"]
            line += (
                f"  [time {'PASS' if ok_time else 'MISS'} <= {TARGETS['time_ratio']}x, "
                f"memory {'PASS' if ok_mem else 'MISS'} <= {TARGETS['memory_ratio']}x]"
            )
        lines.append(line)
    return lines


def versions() -> dict[str, str]:
    found = {}
    for name in ("benzoredux", "polars", "duckdb", "narwhals", "pyarrow", "dask"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="dataset size (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--dask", action="store_true", help="also time Dask on a local cluster")
    parser.add_argument("--engines", help="comma-separated subset of the engines to time")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--glob", help=argparse.SUPPRESS)
    parser.add_argument("--sql-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.glob, args.sql_file)
        return
    engines = tuple(args.engines.split(",")) if args.engines else ENGINES
    if "duckdb" not in engines:
        engines = (*engines, "duckdb")
    if args.dask and "dask" not in engines:
        engines = (*engines, "dask")
    sizes = args.rows or [10_000_000]
    previous: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    by_size = {str(e["rows"]): e for e in previous.get("sizes", [])}
    for rows in sizes:
        entry = bench_size(rows, args.data_dir, args.repeat, engines)
        by_size[str(rows)] = entry
        print("\n".join(report(entry)), flush=True)
    result = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "note": "shared machine: other jobs may run; see the load averages per size",
        },
        "versions": versions(),
        "reference_date": REFERENCE.isoformat(),
        "targets": TARGETS,
        "sizes": sorted(by_size.values(), key=lambda e: e["rows"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
