"""Seeded generators of damaged and hostile exports and mapping files, and checks on reading them.

The fuzzers (``test_fuzz_readers.py``, ``test_fuzz_mapping.py``) draw files from these
generators, read them, and hold every outcome to three rules:

1. **Only documented errors**: reading returns a :class:`~benzoredux.reading.ReadResult` or
   raises one of the library's documented reading errors (:class:`~benzoredux.reading.ReadError`
   and its kinds, :class:`~benzoredux.reading.MappingFileError`). A
   :class:`~benzoredux.plugins.PluginError` means a reader crashed and ``read_source`` wrapped
   the crash; any other exception escaped unwrapped. Both are failures.
2. **Counts reconcile with the file**: every record after the header is a valid row, a rejected
   row or a blank row (``ReadResult.ignored["blank rows"]``); nothing disappears.
3. **No personal data in messages**: names, BSNs, birth dates and postcodes are planted in every
   column (also where they do not belong, as in an export with swapped columns or without a
   header row), and none may appear in an exception, a note or ``ReadResult.report()``.

Each case is drawn from ``random.Random(seed)``, so a failure names the seed that reproduces it
(:func:`reproduce`). The number of cases is ``BENZOREDUX_FUZZ_CASES`` (default: a few seconds'
worth per reader); the first seed is ``BENZOREDUX_FUZZ_SEED``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field

PLANTED: Mapping[str, tuple[str, ...]] = {
    "name": ("Vermeulenplant", "Bakkerzoon-Ottens", "Çelikmeester"),
    "bsn": ("111222333", "123456782", "012345672"),  # all three pass the 11-test
    "birth_date": ("17-03-1948", "1948-03-17", "17-03-48"),
    "postcode": ("9711 XK", "9711XK", "3581 ZW"),
}
"""Personal values planted in the files; none may appear in a message. The birth dates are
never used as dispensing or episode dates, so a date shown in a message is never one of them."""

PERSONAL = tuple(v for values in PLANTED.values() for v in values)
_SEARCHED = (*PERSONAL, "1948-03-17 00:00:00", "1948-03-17T")

GARBAGE: tuple[str, ...] = (
    "",
    " ",
    "\u00a0",
    "=HYPERLINK(1)",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "99999999999999999999",
    "9" * 401,
    "-0",
    "0x1F",
    "1,2,3",
    "1.234,5",
    "1.5",
    ",5",
    "5,",
    "+",
    "-",
    "31-12-9999",
    "00-00-0000",
    "0001-01-01",
    "9999-12-31",
    "29-02-2023",
    "31-06-2025",
    "1-1-1",
    "2025/02/01",
    "32-01-2025",
    "Ä€漢字",
    "\u202e",
    "\ud7ff",
    "'",
    '"',
    "a\nb",
    ";",
    ",",
    "\t",
    "|",
    "x" * 5000,
    "None",
    "null",
    "J",
    "N",
    "V",
    "Q",
    "P06",
    "n05ba04",
    "N05BA4",
)
"""Values that break some rule somewhere (or none): wrong notation, impossible dates, overflow,
control characters, separators and quotes, very long text."""

TITLES = (
    "Export apotheek De Linde, Delft, alle afleveringen",
    "Periode: 01-01-2025 t/m 31-12-2025",
    "Afleveringen; alle patiënten; per huisarts",
    "Rapport | benzodiazepinen",
    "Overzicht\tgemaakt op 02-01-2026",
)
"""Title lines above a header, some with separators in them."""

SEPARATORS = (";", ",", "\t", "|")

_DAY0 = dt.date(2024, 1, 1)


def _date(rng: random.Random) -> str:
    day = _DAY0 + dt.timedelta(days=rng.randrange(0, 730))
    return day.strftime(rng.choice(("%d-%m-%Y", "%d-%m-%Y", "%d-%m-%y", "%Y-%m-%d")))


def _number(rng: random.Random) -> str:
    return rng.choice(("30", "60", "2,5", "7,5", "-10", "90", "0", "1.000", "100,0"))


VALUES: Mapping[str, Callable[[random.Random], str]] = {
    "patient_id": lambda r: rng_choice(
        r, ("P1", "P2", "0042", "A-7", "Ä9", "P" + str(r.randrange(99)))
    ),
    "date": _date,
    "start": _date,
    "end": _date,
    "status_date": _date,
    "first_dispensing": _date,
    "last_dispensing": _date,
    "atc": lambda r: rng_choice(
        r, ("N05BA04", "N05CD07", "N05CF02", "N03AE01", "L01XE01", "N02AA59")
    ),
    "quantity": _number,
    "strength_mg": _number,
    "form": lambda r: rng_choice(r, ("tablet", "capsule", "zetpil", "zalf", "drank")),
    "prescriber_id": lambda r: rng_choice(r, ("01012345", "HA01", "01012399")),
    "pharmacy_id": lambda r: rng_choice(r, ("06012345", "06012399")),
    "gp_id": lambda r: rng_choice(r, ("HA01", "HA02", "01012345")),
    "return": lambda r: rng_choice(r, ("J", "N", "j", "nee", "", "ja")),
    "bsn": lambda r: rng_choice(r, PLANTED["bsn"] + ("123456789", "12345672", "abc")),
    "birth_date": lambda r: rng_choice(r, PLANTED["birth_date"] + ("01-01-2099",)),
    "sex": lambda r: rng_choice(r, ("V", "M", "O", "X", "vrouw", "Q")),
    "initials": lambda r: rng_choice(r, ("A.", "J.M.")),
    "first_name": lambda r: rng_choice(r, PLANTED["name"]),
    "name_prefix": lambda r: rng_choice(r, ("van der", "de", "van ’t")),  # noqa: RUF001 - a real prefix
    "family_name": lambda r: rng_choice(r, PLANTED["name"]),
    "street": lambda r: rng_choice(r, ("Kerkstraat", "Dorpsstraat")),
    "house_number": lambda r: rng_choice(r, ("12", "3a", "100-2")),
    "postcode": lambda r: rng_choice(r, PLANTED["postcode"]),
    "city": lambda r: rng_choice(r, ("Delft", "Utrecht")),
    "status": lambda r: rng_choice(
        r, ("Ingeschreven", "Overleden", "Verhuisd", "Andere huisarts", "Weg")
    ),
    "channel": lambda r: rng_choice(r, ("Consult", "Herhaalrecept", "Telefonisch consult", "Fax")),
    "icpc": lambda r: rng_choice(r, ("P06", "P74", "P01", "K86", "p06.01", "P6")),
    "sfk_list": lambda r: rng_choice(
        r, ("Langdurig gebruik", "Nieuw gebruik", "Chronisch gebruik", "Anders")
    ),
    "gp_name": lambda r: rng_choice(r, ("Dr. A. Jansen", "Dr. B. de Wit")),
}
"""A plausible (sometimes slightly wrong) value per canonical column."""


def rng_choice(rng: random.Random, values: Sequence[str]) -> str:
    return values[rng.randrange(len(values))]


def cell(rng: random.Random, column: str) -> str:
    """One cell: usually a value of its column, sometimes empty, garbage or a personal value."""
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.16:
        return rng.choice(GARBAGE)
    if roll < 0.24:
        return rng.choice(PERSONAL)  # a swapped or mislabelled column
    make = VALUES.get(column)
    return make(rng) if make is not None else rng.choice((*GARBAGE[:5], "extra", "12"))


@define
class Case:
    """One generated source, what reading it must show, and how to read it."""

    reader: str
    seed: int
    path: Path
    records: int | None
    """Records after the header (rows, ragged lines and blank rows); ``None``: not checkable
    (no header, or the file is broken before its rows)."""
    options: dict[str, Any] = field(factory=dict)
    excel: bool = False
    counted: tuple[str, ...] | None = None
    """The tables whose rows are the file's records (``None``: all); the patients of an AIS or
    SFK file are derived from its dispensing rows, not records of their own."""


@define
class Outcome:
    """What reading one case gave, classified."""

    kind: str
    """``ok``, ``documented`` (a documented error), ``wrapped`` (a reader crashed, wrapped in
    PluginError), ``raw`` (an exception escaped), ``warning`` (reading warned), ``counts`` (the
    counts do not reconcile with the file), ``leak`` (a planted personal value in a message)."""
    site: str = ""
    detail: str = ""


def _is_blank(fields: Sequence[str]) -> bool:
    return not any(f.strip() for f in fields)


def _layout(reader: str) -> dict[str, Mapping[str, Sequence[str]]]:
    """Per table: canonical column -> the names the reader knows for it."""
    if reader == "ais":
        from benzoredux_adapters.ais import DISPENSINGS_LAYOUT, PATIENTS_LAYOUT

        return {"dispensings": {**DISPENSINGS_LAYOUT, **PATIENTS_LAYOUT}}
    if reader == "sfk":
        from benzoredux_adapters.sfk import LAYOUT

        return {"dispensings": LAYOUT}
    if reader == "his":
        from benzoredux_adapters.his import EPISODES_LAYOUT, PATIENTS_LAYOUT, PRESCRIPTIONS_LAYOUT

        return {
            "dispensings": PRESCRIPTIONS_LAYOUT,
            "episodes": EPISODES_LAYOUT,
            "patients": PATIENTS_LAYOUT,
        }
    from benzoredux.reading import TABLES

    return {name: {c.name: (c.name,) for c in s.columns} for name, s in TABLES.items()}


_NEEDED = frozenset(
    {"patient_id", "date", "atc", "quantity", "icpc", "start", "gp_id", "birth_date", "sex"}
    | {"status", "sfk_list", "first_dispensing", "last_dispensing"}
)
"""Columns that some reader needs to recognise or read a file: usually present."""


def _header(rng: random.Random, layout: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """``(export names, canonical names)`` of a header: most of the layout in any order and
    case, sometimes a needed column left out, an unknown column, a duplicate or an empty name."""
    columns = [c for c in layout if rng.random() < (0.99 if c in _NEEDED else 0.6)]
    if rng.random() < 0.08 and columns:
        columns.remove(rng.choice(columns))
    rng.shuffle(columns)
    names = []
    for column in columns:
        name = rng.choice(tuple(layout[column]))
        name = rng.choice((name, name.upper(), name.lower(), f" {name} "))
        names.append(name)
    if rng.random() < 0.2:
        names.append(rng.choice(("Omschrijving", "Opmerking", "Extra kolom")))
        columns.append("extra")
    if rng.random() < 0.03 and names:
        names.append(names[0])
        columns.append(columns[0])
    if rng.random() < 0.03:
        names.insert(rng.randrange(len(names) + 1), "")
        columns.insert(names.index(""), "extra")
    return names, columns


def _encode(rng: random.Random, text: str) -> tuple[bytes, bool]:
    """``(bytes, damaged)``: ``text`` in one of the encodings exports come in, sometimes with a
    few bytes overwritten (then its records cannot be counted from the text)."""
    roll = rng.random()
    if roll < 0.3:
        data = b"\xef\xbb\xbf" + text.encode("utf-8", errors="surrogatepass")
    elif roll < 0.6:
        try:
            data = text.encode("cp1252")
        except UnicodeEncodeError:
            data = text.encode("utf-8", errors="surrogatepass")
    elif roll < 0.62:
        data = text.encode("utf-16")
    else:
        data = text.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.04 and data:
        buffer = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            buffer[rng.randrange(len(buffer))] = rng.randrange(256)
        return bytes(buffer), True
    return data, False


def delimited_text(
    rng: random.Random, layout: Mapping[str, Sequence[str]]
) -> tuple[str, int | None, bool]:
    """``(text, records after the header, damaged)`` of one hostile delimited export."""
    sep = rng.choice(SEPARATORS)
    names, columns = _header(rng, layout)
    swapped = rng.random() < 0.1
    value_columns = columns[:]
    if swapped:
        rng.shuffle(value_columns)  # the header says one thing, the cells hold another
    buffer = io.StringIO()
    newline = rng.choice(("\n", "\r\n"))
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    for _ in range(rng.choice((0, 0, 0, 1, 2, 3))):
        buffer.write(rng.choice(TITLES) + newline)
    headerless = rng.random() < 0.05
    trailing = rng.random() < 0.2
    if not headerless:
        writer.writerow([*names, ""] if trailing else names)
    records = 0
    for _ in range(rng.randrange(0, 25)):
        records += 1
        roll = rng.random()
        if roll < 0.06:
            buffer.write(rng.choice(("", "   ", sep * max(len(names) - 1, 0))) + newline)
            continue
        cells = [cell(rng, c) for c in value_columns]
        if roll < 0.1 and cells:
            cells = cells[:-1] if rng.random() < 0.5 else [*cells, "surplus"]
        if trailing or rng.random() < 0.05:
            cells.append("")
        if len(cells) == 1 and not cells[0].strip():
            buffer.write(newline)  # one empty field is an empty line
            continue
        writer.writerow(cells)
    text = buffer.getvalue()
    if rng.random() < 0.5 and text.endswith(newline) and not text.endswith(newline * 2):
        text = text[: -len(newline)]  # no newline after the last record (unless it is empty)
    damaged = rng.random() < 0.03
    if damaged and text:
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(('"', "\x00", "\r", sep * 3)) + text[at:]
    return text, (None if headerless or damaged else records), damaged


def write_delimited(
    rng: random.Random, path: Path, layout: Mapping[str, Sequence[str]]
) -> int | None:
    """Write a hostile export to ``path``; the records after its header (``None``: unknown)."""
    text, records, _ = delimited_text(rng, layout)
    data, damaged = _encode(rng, text)
    path.write_bytes(data)
    if damaged:
        return None
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return None
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return None
    return records


_EXCEL_ODD: tuple[object, ...] = (
    dt.datetime(1900, 1, 1),
    dt.datetime(9999, 12, 31),
    dt.date(2025, 2, 1),
    dt.time(12, 30),
    2**70,
    -(2**63),
    1e308,
    -0.0,
    True,
    0.1 + 0.2,
    "=1+1",
)


def write_workbook(
    rng: random.Random, path: Path, layout: Mapping[str, Sequence[str]]
) -> int | None:
    """A workbook with typed and text cells, blank rows, sometimes a far-away cell."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    names, columns = _header(rng, layout)
    for _ in range(rng.choice((0, 0, 1))):
        sheet.append([rng.choice(TITLES)])
    sheet.append(names)
    last_data = 0
    count = 0
    for _ in range(rng.randrange(0, 20)):
        count += 1
        if rng.random() < 0.08:
            sheet.append([None] * len(columns) if rng.random() < 0.5 else [" "])
            continue
        row: list[object] = []
        for column in columns:
            roll = rng.random()
            if roll < 0.1:
                row.append(rng.choice(_EXCEL_ODD))
            elif roll < 0.2 and column in {"date", "start", "end", "birth_date"}:
                row.append(dt.datetime(2025, 1, 1) + dt.timedelta(days=rng.randrange(300)))
            elif roll < 0.3 and column in {"quantity", "strength_mg"}:
                row.append(rng.choice((30, 2.5, -10, 0)))
            else:
                row.append(cell(rng, column) or None)
        sheet.append(row)
        if any(v not in (None, "") and str(v).strip() for v in row):
            last_data = count
    if rng.random() < 0.02:
        sheet["XFD1048576"] = "x"  # a cell far away: the declared range is the whole sheet
        workbook.save(path)
        return None
    workbook.save(path)
    return last_data


_EXPORT_NAMES = {"Pat": "patient_id", "Datum": "date", "ATC": "atc", "Aantal": "quantity"}
MAPPED_EXPORT = "Pat;Datum;ATC;Aantal\np1;01-02-2025;N05BA04;30\np2;03-02-2025;N05CD07;2,5\n"
"""A small export that :func:`hostile_mapping`'s undamaged mappings describe."""


def hostile_mapping(rng: random.Random) -> str:
    """The text of a mapping file: known and unknown keys with values of every TOML type."""
    scalars = (
        '"dispensings"',
        '"episodes"',
        '"patients"',
        '"ais"',
        '""',
        '";"',
        '","',
        '"."',
        '"\\t"',
        '"%d-%m-%Y"',
        '"%Q"',
        '"utf-8"',
        '"latin-1"',
        '"nope"',
        "3",
        "-1",
        "0",
        "true",
        "1.5",
        "1979-05-27",
        "[]",
        '["%d-%m-%Y"]',
        '["%d-%m-%Y", 3]',
        "{}",
        '{ Pat = "patient_id" }',
        "{ x = { y = 1 } }",
        '"Pat"',
        '"patient_id"',
    )
    keys = (
        "format",
        "table",
        "file",
        "columns",
        "values",
        "code_map",
        "seperator",
        "file.encoding",
        "file.separator",
        "file.decimal",
        "file.thousands",
        "file.date_formats",
        "file.sheet",
        "file.header_line",
        "file.colour",
        'columns."Pat"',
        'columns."Datum"',
        "columns.patients",
        'columns.episodes."Code"',
        "columns.nosuchtable",
        "values.sex",
        'values.sex."V"',
        "values.date",
        "values.nosuchcolumn",
        'code_map."urn:x|1"',
    )
    lines = []
    used: set[str] = set()
    if rng.random() < 0.7:  # a mapping that works, then damaged
        lines += [f'table = "{rng.choice(("dispensings", "dispensings", "episodes"))}"']
        lines += [f'columns.{k} = "{v}"' for k, v in _EXPORT_NAMES.items()]
        used |= {"table", *(f"columns.{k}" for k in _EXPORT_NAMES)}
    for _ in range(rng.randrange(0, 5)):
        key = rng.choice(keys)
        top = key.split(".")[0]
        if key in used or (top in used and top != key):
            continue  # TOML forbids defining a table twice; keep most files valid TOML
        if any(k.split(".")[0] == key for k in used):
            continue
        used.add(key)
        lines.append(f"{key} = {rng.choice(scalars)}")
    text = "\n".join(lines) + "\n"
    roll = rng.random()
    if roll < 0.05:
        text = text[: rng.randrange(len(text) + 1)] + rng.choice(("[", '"', "= =", "\x00"))
    elif roll < 0.07:
        text = "x = " + "[" * 2000 + "]" * 2000 + "\n"
    elif roll < 0.09:
        return "\ufffe" + text
    return text


def planted_in(text: str) -> list[str]:
    """The planted personal values that occur in ``text``."""
    return [value for value in _SEARCHED if value in text]


def site_of(error: BaseException) -> str:
    """Where an exception was raised, as ``file:line (function)`` of the innermost frame of
    the library (or of anything, when no library frame is on the traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "benzoredux" in f.filename] or frames
    if not ours:
        return type(error).__name__
    frame = ours[-1]
    here = frame.filename.split("src/")[-1]
    return f"{type(error).__name__} at {here}:{frame.lineno} ({frame.name})"


def documented_errors() -> tuple[type[BaseException], ...]:
    """The error types reading may raise: the reading errors and mapping-file errors."""
    from benzoredux.reading import MappingFileError, ReadError

    return (ReadError, MappingFileError)


def classify(
    read: Callable[[], Any],
    records: int | None,
    *,
    check_counts: bool = True,
    counted: Sequence[str] | None = None,
) -> Outcome:
    """Read (``read()``), and classify what happened (see :class:`Outcome`). The rows read of
    the ``counted`` tables (default: all) and the blank rows must add up to ``records``."""
    from benzoredux.plugins import PluginError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = read()
        except PluginError as error:
            cause = error.__cause__ or error
            return Outcome("wrapped", site_of(cause), str(error)[:300])
        except documented_errors() as error:
            found = planted_in(str(error))
            if found:
                return Outcome("leak", site_of(error), f"{found} in: {str(error)[:300]}")
            return Outcome("documented", type(error).__name__)
        except Exception as error:  # anything else escaped read_source
            return Outcome("raw", site_of(error), f"{type(error).__name__}: {str(error)[:300]}")
    if caught:  # reading warns about nothing: a problem is a rejected row or an error
        warning = caught[0]
        return Outcome("warning", warning.category.__name__, str(warning.message)[:300])
    try:
        shown = "\n".join([*result.notes, result.report(limit=10**9)])
    except Exception as error:  # the report itself must never fail
        return Outcome("raw", site_of(error), f"report: {type(error).__name__}: {error}")
    if not result.reconciles:
        return Outcome("counts", "result", "the result does not reconcile")
    if check_counts and records is not None:
        blank = result.ignored.get("blank rows", 0)
        unread = result.ignored.get("unread files", 0)
        read_rows = sum(
            c.rows_read for name, c in result.counts.items() if counted is None or name in counted
        )
        if not unread and read_rows + blank != records:
            return Outcome(
                "counts",
                "result",
                f"{records} records after the header, {read_rows} rows read + {blank} blank",
            )
    found = planted_in(shown)
    if found:
        return Outcome("leak", "result", f"{found} in: {shown[:300]}")
    return Outcome("ok")


@define
class Tally:
    """Outcomes of a run: how many of each kind, and the failures by site."""

    kinds: Counter[str] = field(factory=Counter)
    sites: Counter[str] = field(factory=Counter)
    failures: list[tuple[int, Outcome]] = field(factory=list)

    def add(self, seed: int, outcome: Outcome) -> None:
        self.kinds[outcome.kind] += 1
        if outcome.kind not in ("ok", "documented"):
            self.sites[f"{outcome.kind}: {outcome.site}"] += 1
            self.failures.append((seed, outcome))

    def describe(self, limit: int = 15) -> str:
        lines = [f"outcomes: {dict(self.kinds)}"]
        lines += [f"  {n} x {site}" for site, n in self.sites.most_common(limit)]
        lines += [
            f"  seed {seed}: {o.kind} {o.site}: {o.detail}" for seed, o in self.failures[:limit]
        ]
        return "\n".join(lines)


def cases_wanted(default: int) -> int:
    """``BENZOREDUX_FUZZ_CASES`` (cases per fuzzer), else ``default``."""
    return int(os.environ.get("BENZOREDUX_FUZZ_CASES", str(default)))


def write_tally(name: str, tally: Tally) -> None:
    """Append ``name``'s outcomes to the file ``BENZOREDUX_FUZZ_REPORT`` names, if any: the
    figures of a long run, for the reliability page."""
    target = os.environ.get("BENZOREDUX_FUZZ_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(f"{name}: {tally.describe()}\n")


def first_seed() -> int:
    """``BENZOREDUX_FUZZ_SEED``, else 0: the seeds run from here."""
    return int(os.environ.get("BENZOREDUX_FUZZ_SEED", "0"))


READERS = ("ais", "ais-xlsx", "his", "sfk", "delimited", "delimited-mapping", "delimited-xlsx")
"""The fuzzed readers: the AIS reader on text files and workbooks, the HIS reader on folders,
the SFK reader, and the generic reader on canonical CSV, on an export described by a mapping
file, and on workbooks."""


def make_case(reader: str, seed: int, folder: Path) -> Case:
    """The source of case ``seed`` for ``reader``, written under ``folder``."""
    rng = random.Random(f"{reader}-{seed}")
    folder.mkdir(parents=True, exist_ok=True)
    if reader == "his":
        layouts = _layout("his")
        total: int | None = 0
        for name, table in (
            ("voorschriften.csv", "dispensings"),
            ("episodes.csv", "episodes"),
            ("patienten.csv", "patients"),
        ):
            if rng.random() < 0.15:
                continue
            records = write_delimited(rng, folder / name, layouts[table])
            total = None if total is None or records is None else total + records
        if rng.random() < 0.1:
            (folder / "leesmij.txt").write_text("Export van 31-12-2025\n")
        return Case(reader, seed, folder, total, {"format": "his"})
    if reader == "ais-xlsx":
        path = folder / "ais.xlsx"
        records = write_workbook(rng, path, _layout("ais")["dispensings"])
        return Case(reader, seed, path, records, {"format": "ais"}, True, ("dispensings",))
    if reader in ("ais", "sfk"):
        path = folder / f"{reader}.csv"
        records = write_delimited(rng, path, _layout(reader)["dispensings"])
        return Case(reader, seed, path, records, {"format": reader}, counted=("dispensings",))
    table = rng.choice(("dispensings", "patients", "episodes"))
    canonical = _layout("delimited")[table]
    if reader == "delimited-xlsx":
        path = folder / "export.xlsx"
        records = write_workbook(rng, path, canonical)
        return Case(reader, seed, path, records, {"mapping": {"table": table}}, excel=True)
    if reader == "delimited":
        path = folder / f"{table}.csv"
        return Case(
            reader, seed, path, write_delimited(rng, path, canonical), {"format": "delimited"}
        )
    # An export with its own column names, described by a mapping file.
    own = {c: (f"Kolom {c[:3].upper()}{i}",) for i, c in enumerate(canonical)}
    path = folder / "export.txt"
    records = write_delimited(rng, path, own)
    mapping: dict[str, Any] = {"columns": {names[0]: c for c, names in own.items()}}
    if rng.random() < 0.7:
        mapping["table"] = table
    if rng.random() < 0.3:
        mapping["file"] = {"decimal": rng.choice((",", ".")), "date_formats": ["%d-%m-%Y"]}
    return Case(reader, seed, path, records, {"mapping": mapping})


def read_case(case: Case, *, strict: bool) -> Outcome:
    """Read ``case`` and classify the outcome (counts are checked in lenient mode only)."""
    from benzoredux.reading import read_source

    options = {**case.options, "strict": strict}
    return classify(
        lambda: read_source(case.path, **options),
        case.records,
        check_counts=not strict,
        counted=case.counted,
    )


def reproduce(reader: str, seed: int, folder: Path) -> Outcome:
    """Write and read one case again (lenient), for a failure the fuzzer reported."""
    return read_case(make_case(reader, seed, folder), strict=False)
