"""Benchmark rendering 1,000 stop letters plus the merged document, against a naive docxtpl loop.

Run ``python benchmarks/bench_letters.py [--letters N] [--repeat K]``. Both sides render the
same default stop-letter template with the same fields (synthetic patients whose names and
addresses hold ``&``, ``<``, quotes and accents), into a temporary folder, and both produce one
``.docx`` per letter plus one merged printable document:

* **naive**: the way docxtpl is usually used: per letter, load the template
  (``DocxTemplate(path)``), ``render`` with the same sandboxed, autoescaping Jinja environment
  and ``save``. Merging its files with docxcompose (``Composer.append`` with page breaks) costs
  far more than the loop itself (about 80 ms a letter here, so minutes for 1,000), so by default
  the naive side is timed *without* its merged document, which only flatters it; the merge is
  timed on ``--merge-sample`` letters (100) and reported per letter, and ``--naive-merge``
  includes it in the naive run;
* **benzoredux**: :func:`benzoredux.letters.rendering.render_docx_batch`: the template is read
  and compiled once, each letter's XML parts are rendered with the compiled Jinja templates and
  written into a zip that already holds the unchanged parts, and the merged document is built
  by joining the letters' bodies (one section per letter); once in one process and once with
  ``workers=2``.

Each side is timed as a whole (best of ``K``; the naive side once by default, it is slow) and
the script prints letters per second and the ratio, then checks that both sides produced the
same text for a sample of letters. Results go to ``benchmarks/results/letters.json``. The
benchmark is not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import docx
from docxcompose.composer import Composer
from docxtpl import DocxTemplate

from benzoredux import GeneralPractitioner, Pharmacist, Practice, StopLetter
from benzoredux.letters.compose import address_fields
from benzoredux.letters.default_style import default_template
from benzoredux.letters.rendering import letter_environment, render_docx_batch

RESULTS = Path(__file__).resolve().parent / "results" / "letters.json"
TARGET_RATIO = 3.0

FIRST = ("Anna", "Jan", "Zoë", "Fatima", "Kees", "Ümit", "Sanne", "Mohamed")
FAMILY = (
    ("", "Jansen & Zn"),
    ("de", "<Vries>"),
    ("van 't", "Hof"),
    ("", 'O"Brien'),
    ("van den", "Berg"),
    ("", "Çelik"),
    ("'t", "Hart"),
    ("", "Bakker"),
)


def contexts(n: int) -> list[dict[str, Any]]:
    """The same fields render_letters would give, for n synthetic patients."""
    practice = Practice(
        practice_id="bench",
        name="Huisartsen Rijn & Lek",
        address="Kerkpad 1, 3431 AA Nieuwegein",
        phone="030-1234567",
        gps=[GeneralPractitioner(gp_id="g1", name="J. 't Hooft")],
        pharmacists=[Pharmacist(pharmacist_id="a1", name="M. Öztürk", pharmacy_name="De Brug")],
    )
    out = []
    for i in range(n):
        prefix, family = FAMILY[i % len(FAMILY)]
        letter = StopLetter(
            patient_id=f"p{i:05d}",
            gp_ids=["g1"],
            pharmacist_ids=["a1"],
            letter_date=dt.date(2026, 1, 12),
        )
        patient = {
            "sex": "FMX"[i % 3],
            "initials": f"{FIRST[i % len(FIRST)][0]}.",
            "first_name": FIRST[i % len(FIRST)],
            "name_prefix": prefix,
            "family_name": family,
            "street": "Lange Gracht & Zn" if i % 5 == 0 else "Dorpsstraat",
            "house_number": f"{i % 200 + 1}",
            "postcode": f"{1000 + i % 8999} AB",
            "city": "Nieuwegein",
        }
        out.append(
            {
                "patient_id": letter.patient_id,
                "kind": letter.kind.value,
                "letter_date": letter.letter_date,
                "batch": None,
                **address_fields(patient),
                "gp_names": practice.gps[0].name,
                "signatories": [
                    {"name": practice.gps[0].name, "role": "huisarts"},
                    {"name": "M. Öztürk", "role": "apotheker, De Brug"},
                ],
                "practice_name": practice.name,
                "practice_address": practice.address,
                "practice_phone": practice.phone,
                "practice_city": "Nieuwegein",
                "stop_letter_date": None,
                "appointment": None,
                "consult_with": None,
                "call_date": None,
            }
        )
    return out


def naive(template: Path, fields: list[dict[str, Any]], folder: Path, *, merge: bool) -> None:
    environment = letter_environment()  # a SandboxedEnvironment(autoescape=True), as ours
    paths = []
    for context in fields:
        document = DocxTemplate(str(template))
        document.render(context, jinja_env=environment)
        path = folder / f"{context['patient_id']}.docx"
        document.save(str(path))
        paths.append(path)
    if merge:
        compose(paths, folder / "merged.docx")


def compose(paths: list[Path], out: Path) -> None:
    composer = Composer(docx.Document(str(paths[0])))
    for path in paths[1:]:
        composer.doc.add_page_break()
        composer.append(docx.Document(str(path)))
    composer.save(str(out))


def fast(template: Path, fields: list[dict[str, Any]], folder: Path, workers: int) -> None:
    letters = [(c, folder / f"{c['patient_id']}.docx") for c in fields]
    render_docx_batch(template, letters, merged=folder / "merged.docx", workers=workers)


def timed(run: Callable[[Path], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-letters-") as folder:
            start = time.perf_counter()
            run(Path(folder))
            best = min(best, time.perf_counter() - start)
    return best


def sample_texts(run: Callable[[Path], None], names: list[str]) -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="bench-letters-") as folder:
        run(Path(folder))
        out = {
            n: [p.text for p in docx.Document(str(Path(folder) / f"{n}.docx")).paragraphs]
            for n in names
        }
        merged = docx.Document(str(Path(folder) / "merged.docx"))
        out["merged-greetings"] = [
            p.text for p in merged.paragraphs if p.text.startswith("Geachte")
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the fast runs")
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--naive-merge", action="store_true", help="merge in the naive run too")
    parser.add_argument("--merge-sample", type=int, default=100)
    parser.add_argument("--no-workers", action="store_true", help="skip the 2-process run")
    args = parser.parse_args()

    template = default_template("stop_letter")
    fields = contexts(args.letters)
    naive_name = "naive docxtpl loop" + (" + docxcompose" if args.naive_merge else "")
    runs: dict[str, Callable[[Path], None]] = {
        naive_name: lambda f: naive(template, fields, f, merge=args.naive_merge),
        "benzoredux + merged, 1 process": lambda f: fast(template, fields, f, workers=1),
    }
    if not args.no_workers:
        runs["benzoredux + merged, 2 processes"] = lambda f: fast(template, fields, f, workers=2)
    seconds = {}
    for name, run in runs.items():
        repeat = args.naive_repeat if name.startswith("naive") else args.repeat
        seconds[name] = timed(run, repeat)
        rate = args.letters / seconds[name]
        print(f"{name:36s} {seconds[name]:8.2f} s  {rate:8.1f} letters/s", flush=True)

    merge_seconds = None
    if not args.naive_merge and args.merge_sample > 1:
        count = min(args.merge_sample, args.letters)
        with tempfile.TemporaryDirectory(prefix="bench-letters-") as folder:
            naive(template, fields[:count], Path(folder), merge=False)
            paths = [Path(folder) / f"{c['patient_id']}.docx" for c in fields[:count]]
            start = time.perf_counter()
            compose(paths, Path(folder) / "merged.docx")
            merge_seconds = (time.perf_counter() - start) / count
        print(f"docxcompose merge of {count} naive letters: {merge_seconds * 1000:.0f} ms a letter")

    base = seconds[naive_name]
    best_name = min((n for n in seconds if not n.startswith("naive")), key=seconds.__getitem__)
    ratio = base / seconds[best_name]
    one_process = base / seconds["benzoredux + merged, 1 process"]
    print(f"speed-up, best ({best_name}): {ratio:.1f}x; in one process: {one_process:.1f}x")
    print(f"target >= {TARGET_RATIO:.0f}x: {'PASS' if ratio >= TARGET_RATIO else 'MISS'}")

    small = fields[: min(len(fields), 12)]
    sample = [c["patient_id"] for c in small]
    reference = sample_texts(lambda f: naive(template, small, f, merge=True), sample)
    ours = sample_texts(lambda f: fast(template, small, f, workers=1), sample)
    same_letters = all(reference[n] == ours[n] for n in sample)
    same_merged = reference["merged-greetings"] == ours["merged-greetings"]
    print(f"same letter text as the naive loop: {same_letters}; same merged order: {same_merged}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "letters": args.letters,
                "seconds": seconds,
                "letters_per_second": {k: args.letters / v for k, v in seconds.items()},
                "ratio_best": ratio,
                "ratio_one_process": one_process,
                "naive_includes_merge": args.naive_merge,
                "docxcompose_seconds_per_letter": merge_seconds,
                "target_ratio": TARGET_RATIO,
                "same_text": same_letters and same_merged,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "versions": {
                    d: metadata.version(d)
                    for d in ("docxtpl", "docxcompose", "python-docx", "jinja2", "lxml")
                },
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if ratio >= TARGET_RATIO and same_letters and same_merged else 1


if __name__ == "__main__":
    sys.exit(main())
