"""A seeded synthetic region of pharmacy dispensings, for the selection benchmarks.

``generate(n_rows)`` builds a :data:`benzoredux.tables.DISPENSINGS` table as a pandas DataFrame
(pandas 3 ``str`` columns, ``datetime64[us]`` dates), fully vectorised with numpy and pyarrow:
10 million rows take seconds, not minutes. ``to_polars`` hands the same data to polars.

The mix imitates a Dutch region (numbers for the default 10 million rows; everything scales
with ``n_rows`` unless given explicitly):

* ~500,000 patients, ~300 prescribers (about 80% of them GPs with their own list of patients,
  the rest specialists), ~30 pharmacies; each patient has a GP and a pharmacy of their own and
  gets most prescriptions there;
* two years of dispensings up to ``END`` (the benchmark's reference date), sorted by date as a
  pharmacy export is;
* ~8% benzodiazepine rows (N05BA, N05CD, N05CF), concentrated in ~3.5% of patients who get
  repeated dispensings (long-term users, some of whom stopped part-way) and ~5% occasional users
  with small packs; each user has a main substance and sometimes gets another one; some diazepam
  comes as rectal tubes (``rectiole``), whose units do not count as tablets;
* complex co-medication (N03AE01, N02AA01, N05AH04, L04AX03, M03BX01) for ~2% of patients,
  overlapping ~15% of the long-term benzodiazepine users, and the two exceptions of the rule
  (M09AA01 hydroquinine, N02AA59 codeine with paracetamol) for another ~2%;
* everything else common primary-care drugs (enalapril, omeprazole, paracetamol, atorvastatin,
  ...) with a skewed number of dispensings per patient;
* ~1% returns: copies of an earlier dispensing with a negative quantity, a few days later;
* ~0.2% of rows without a prescriber.

That is the *sparse* shape (``shape="sparse"``, the default): a pharmacy's whole export, 20 rows
a patient. The *dense* shape (``shape="dense"``) is a pre-filtered export, as pharmacies usually
send for this purpose: a third of the rows are benzodiazepines and there are ten rows a patient
(``n_rows // 10`` patients, of whom ~830,000 per 10 million rows have a dispensing); everything
else (roles, co-medication, returns) follows the same mix.

Run ``python benchmarks/generate.py --rows 1000000 [--shape dense]`` to print a summary of one
region.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["END", "SHAPES", "START", "Shape", "generate", "generate_both", "to_polars"]

START = dt.date(2024, 1, 1)
"""First day of the generated dispensings."""
END = dt.date(2025, 12, 31)
"""Last day of the generated dispensings (the benchmark's reference date)."""

# (ATC, relative weight, products as (strength_mg, form), pack sizes). A product listed twice is
# twice as likely. Forms are names benzoredux knows (data/dosage_forms.csv).
Drug = tuple[str, float, tuple[tuple[float, str], ...], tuple[float, ...]]

COMMON: tuple[Drug, ...] = (
    ("C09AA02", 8, ((5, "tablet"), (10, "tablet"), (20, "tablet")), (30, 90, 100)),  # enalapril
    ("A02BC01", 10, ((20, "capsule"), (40, "capsule")), (28, 30, 90)),  # omeprazole
    ("N02BE01", 7, ((500, "tablet"), (500, "tablet"), (1000, "zetpil")), (20, 50, 100)),
    ("C10AA05", 8, ((10, "filmomhulde tablet"), (20, "filmomhulde tablet")), (30, 90)),
    ("C10AA01", 6, ((20, "tablet"), (40, "tablet")), (30, 90)),  # simvastatin
    ("C07AB02", 7, ((50, "tablet met verlengde afgifte"), (100, "tablet")), (30, 90)),
    ("C08CA01", 6, ((5, "tablet"), (10, "tablet")), (30, 90)),  # amlodipine
    ("A10BA02", 6, ((500, "tablet"), (850, "tablet")), (60, 90, 180)),  # metformin
    ("B01AC06", 6, ((80, "dispergeerbare tablet"),), (30, 90)),  # acetylsalicylic acid
    ("C03CA01", 4, ((40, "tablet"),), (30, 90)),  # furosemide
    ("H03AA01", 4, ((0.05, "tablet"), (0.1, "tablet")), (50, 100)),  # levothyroxine
    ("N06AB06", 3, ((50, "filmomhulde tablet"), (100, "filmomhulde tablet")), (30, 90)),
    ("N06AA09", 2, ((10, "tablet"), (25, "tablet")), (30, 90)),  # amitriptyline
    ("M01AE01", 4, ((400, "tablet"), (600, "tablet")), (20, 30, 50)),  # ibuprofen
    ("M01AB05", 3, ((50, "tablet"),), (20, 30)),  # diclofenac
    ("J01CA04", 4, ((500, "capsule"), (250, "suspensie")), (21, 30)),  # amoxicillin
    ("J01AA02", 2, ((100, "tablet"),), (10, 14)),  # doxycycline
    ("R06AE07", 2, ((10, "tablet"), (1, "drank")), (30, 100)),  # cetirizine
    ("C09CA01", 3, ((50, "tablet"), (100, "tablet")), (30, 90)),  # losartan
)

BENZOS: tuple[Drug, ...] = (
    ("N05BA04", 25, ((10, "tablet"), (10, "tablet"), (50, "tablet")), ()),  # oxazepam
    ("N05CD07", 20, ((10, "capsule"), (20, "capsule")), ()),  # temazepam
    ("N05BA01", 15, ((2, "tablet"), (5, "tablet"), (10, "tablet"), (5, "rectiole")), ()),
    ("N05CF02", 12, ((10, "filmomhulde tablet"),), ()),  # zolpidem
    ("N05BA06", 8, ((1, "tablet"), (2.5, "tablet")), ()),  # lorazepam
    ("N05BA12", 6, ((0.25, "tablet"), (0.5, "tablet"), (1, "tablet")), ()),  # alprazolam
    ("N05CF01", 6, ((7.5, "filmomhulde tablet"),), ()),  # zopiclone
    ("N05CD06", 4, ((1, "tablet"), (2, "tablet")), ()),  # lormetazepam
    ("N05CD02", 2, ((5, "tablet"),), ()),  # nitrazepam
    ("N05BA08", 2, ((3, "tablet"), (6, "tablet")), ()),  # bromazepam
)
LONG_TERM_PACKS = (30.0, 30.0, 50.0, 60.0, 90.0, 100.0)
OCCASIONAL_PACKS = (5.0, 10.0, 10.0, 20.0, 30.0)

COMPLEX: tuple[Drug, ...] = (
    ("N03AE01", 3, ((0.5, "tablet"), (2, "tablet")), (30, 60)),  # clonazepam (not a benzo here)
    ("N02AA01", 3, ((10, "tablet met verlengde afgifte"), (30, "tablet")), (30, 60)),  # morphine
    ("N05AH04", 3, ((25, "tablet"), (100, "tablet")), (30, 60)),  # quetiapine
    ("L04AX03", 1, ((2.5, "tablet"),), (12, 24)),  # methotrexate
    ("M03BX01", 2, ((10, "tablet"),), (50, 100)),  # baclofen
)
EXCEPTIONS: tuple[Drug, ...] = (
    ("M09AA01", 1, ((100, "tablet"),), (30, 90)),  # hydroquinine: not complex
    ("N02AA59", 2, ((20, "tablet"),), (20, 30)),  # codeine + paracetamol: not complex
)

BENZO_SHARE = 0.08
COMPLEX_SHARE = 0.012
EXCEPTION_SHARE = 0.006
RETURN_SHARE = 0.01
MISSING_PRESCRIBER_SHARE = 0.002


@dataclass(frozen=True)
class Shape:
    """How dense the benzodiazepines are in an export: their share of the rows, rows a patient."""

    benzo_share: float
    rows_per_patient: int


SHAPES = {
    # A pharmacy's whole export: 8% benzodiazepines, 20 rows a patient.
    "sparse": Shape(benzo_share=BENZO_SHARE, rows_per_patient=20),
    # A pre-filtered export (issue 19): a third benzodiazepines, 10 rows a patient
    # (~830,000 patients with a row per 10 million rows).
    "dense": Shape(benzo_share=1 / 3, rows_per_patient=10),
}


class _Catalogue:
    """All drugs as flat arrays, so products and packs are picked with array indexing."""

    def __init__(self, drugs: tuple[Drug, ...]) -> None:
        self.atc = [d[0] for d in drugs]
        self.forms = sorted({form for d in drugs for _, form in d[2]})
        width = max(len(d[2]) for d in drugs)
        pack_width = max(*(len(d[3]) for d in drugs), 1)
        self.n_products = np.array([len(d[2]) for d in drugs])
        self.strength = np.zeros((len(drugs), width))
        self.form = np.zeros((len(drugs), width), dtype=np.int32)
        self.n_packs = np.array([max(len(d[3]), 1) for d in drugs])
        self.packs = np.full((len(drugs), pack_width), 30.0)
        for i, (_, _, products, packs) in enumerate(drugs):
            for j, (strength, form) in enumerate(products):
                self.strength[i, j] = strength
                self.form[i, j] = self.forms.index(form)
            self.packs[i, : len(packs)] = packs


def _pick(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """For each row, a uniform index below that row's count."""
    return (rng.random(len(counts)) * counts).astype(np.int64)


def _draw(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """``n`` indices drawn with probability proportional to ``weights``, grouped by index.

    A multinomial count per index and a repeat: much faster than ``rng.choice(p=...)`` over
    hundreds of thousands of patients. The rows are shuffled later, so grouping does not show.
    """
    counts = rng.multinomial(n, weights / weights.sum())
    return np.repeat(np.arange(len(weights)), counts)


def _weights(values: tuple[Drug, ...]) -> np.ndarray:
    w = np.array([d[1] for d in values], dtype=float)
    return w / w.sum()


def _strings(dictionary: list[str], codes: np.ndarray) -> pa.Array:
    """Arrow strings ``dictionary[codes]`` (codes < 0: null), decoded in C."""
    indices = pa.array(codes.astype(np.int32, copy=False), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary)).cast(pa.string())


@dataclass(frozen=True)
class _Region:
    """Who is who: patient roles and the attributes every dispensing of a patient shares."""

    n_days: int
    n_prescribers: int
    n_pharmacies: int
    long_term: np.ndarray
    occasional: np.ndarray
    complex_users: np.ndarray
    exception_users: np.ndarray
    activity: np.ndarray
    """Relative number of general dispensings per patient (skewed)."""
    own_gp: np.ndarray
    own_pharmacy: np.ndarray
    main_benzo: np.ndarray
    main_complex: np.ndarray
    main_exception: np.ndarray
    stop_day: np.ndarray
    """Day after which a patient gets no more benzodiazepines (long-term users who stopped)."""


def _region(rng: np.random.Generator, n_pat: int, n_presc: int, n_pharm: int) -> _Region:
    """Patient roles (disjoint random sets; complex and exception users overlap benzo users)."""
    n_days = (END - START).days + 1
    order = rng.permutation(n_pat)
    n_lt, n_occ = max(int(0.035 * n_pat), 1), max(int(0.05 * n_pat), 1)
    long_term, occasional, others = order[:n_lt], order[n_lt : n_lt + n_occ], order[n_lt + n_occ :]
    n_cx, n_ex = max(int(0.02 * n_pat), 1), max(int(0.02 * n_pat), 1)
    complex_users = np.concatenate([long_term[: int(0.15 * n_lt)], occasional[: int(0.08 * n_occ)]])
    complex_users = np.concatenate([complex_users, others[: max(n_cx - len(complex_users), 1)]])
    n_ex_lt = max(int(0.10 * n_lt), 1)
    exception_users = np.concatenate([long_term[-n_ex_lt:], others[-max(n_ex - n_ex_lt, 1) :]])
    stop_day = np.full(n_pat, n_days, dtype=np.int32)
    stopped = long_term[rng.random(n_lt) < 0.15]
    stop_day[stopped] = rng.integers(60, n_days - 90, len(stopped))
    return _Region(
        n_days=n_days,
        n_prescribers=n_presc,
        n_pharmacies=n_pharm,
        long_term=long_term,
        occasional=occasional,
        complex_users=complex_users,
        exception_users=exception_users,
        activity=rng.gamma(0.8, 1.0, n_pat),
        own_gp=rng.integers(0, max(int(n_presc * 0.8), 1), n_pat, dtype=np.int32),
        own_pharmacy=rng.integers(0, n_pharm, n_pat, dtype=np.int32),
        main_benzo=rng.choice(len(BENZOS), n_pat, p=_weights(BENZOS)),
        main_complex=rng.choice(len(COMPLEX), n_pat, p=_weights(COMPLEX)),
        main_exception=rng.choice(len(EXCEPTIONS), n_pat, p=_weights(EXCEPTIONS)),
        stop_day=stop_day,
    )


def _benzo_rows(
    rng: np.random.Generator, region: _Region, n_benzo: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Patients, drugs (index in BENZOS), days and pack sizes of the benzodiazepine rows.

    80% go to the long-term users (by a per-patient intensity), 20% to the occasional ones;
    a patient mostly gets their main substance, sometimes another.
    """
    n_lt = int(0.8 * n_benzo)
    intensity = rng.gamma(2.0, 1.0, len(region.long_term))
    patient = np.concatenate(
        [
            region.long_term[_draw(rng, n_lt, intensity)],
            region.occasional[rng.integers(0, len(region.occasional), n_benzo - n_lt)],
        ]
    )
    other = rng.choice(len(BENZOS), n_benzo, p=_weights(BENZOS))
    drug = np.where(rng.random(n_benzo) < 0.15, other, region.main_benzo[patient])
    packs = np.concatenate(
        [
            rng.choice(np.array(LONG_TERM_PACKS), n_lt),
            rng.choice(np.array(OCCASIONAL_PACKS), n_benzo - n_lt),
        ]
    )
    day = (rng.random(n_benzo) * region.stop_day[patient]).astype(np.int32)
    return patient, drug, day, packs


def _dispensed(
    rng: np.random.Generator,
    region: _Region,
    catalogue: _Catalogue,
    n_rows: int,
    benzo_share: float = BENZO_SHARE,
) -> dict[str, np.ndarray]:
    """All rows but the returns, as integer codes and numbers (one array per column)."""
    n_benzo = int(benzo_share * n_rows)
    n_complex = int(COMPLEX_SHARE * n_rows)
    n_exception = int(EXCEPTION_SHARE * n_rows)
    n_common = n_rows - n_benzo - n_complex - n_exception
    first_benzo = len(COMMON)
    first_complex = first_benzo + len(BENZOS)
    first_exception = first_complex + len(COMPLEX)

    benzo_patient, benzo_drug, benzo_day, benzo_packs = _benzo_rows(rng, region, n_benzo)
    common_patient = _draw(rng, n_common, region.activity)
    complex_patient = region.complex_users[rng.integers(0, len(region.complex_users), n_complex)]
    exception_patient = region.exception_users[
        rng.integers(0, len(region.exception_users), n_exception)
    ]
    patient = np.concatenate([common_patient, benzo_patient, complex_patient, exception_patient])
    drug = np.concatenate(
        [
            rng.choice(len(COMMON), n_common, p=_weights(COMMON)),
            first_benzo + benzo_drug,
            first_complex + region.main_complex[complex_patient],
            first_exception + region.main_exception[exception_patient],
        ]
    ).astype(np.int32)
    day = np.concatenate(
        [
            rng.integers(0, region.n_days, n_common, dtype=np.int32),
            benzo_day,
            rng.integers(0, region.n_days, n_complex + n_exception, dtype=np.int32),
        ]
    )
    product = _pick(rng, catalogue.n_products[drug])
    form = catalogue.form[drug, product]
    quantity = catalogue.packs[drug, _pick(rng, catalogue.n_packs[drug])]
    quantity[n_common : n_common + n_benzo] = benzo_packs
    rectal = form == catalogue.forms.index("rectiole")
    quantity[rectal] = np.minimum(quantity[rectal], 10.0)
    n = len(patient)
    elsewhere = rng.random(n) < 0.15
    other_pharmacy = rng.random(n) < 0.05
    return {
        "patient": patient.astype(np.int32),
        "day": day,
        "drug": drug,
        "quantity": quantity,
        "strength": catalogue.strength[drug, product],
        "form": form,
        "prescriber": np.where(
            elsewhere,
            rng.integers(0, region.n_prescribers, n, dtype=np.int32),
            region.own_gp[patient],
        ),
        "pharmacy": np.where(
            other_pharmacy,
            rng.integers(0, region.n_pharmacies, n, dtype=np.int32),
            region.own_pharmacy[patient],
        ),
    }


def _with_returns(
    rng: np.random.Generator, rows: dict[str, np.ndarray], n_returns: int, n_days: int
) -> dict[str, np.ndarray]:
    """Add returns: copies of earlier dispensings, 0-14 days later, half or all of it back."""
    source = rng.integers(0, len(rows["patient"]), n_returns)
    returns = {name: values[source] for name, values in rows.items()}
    returns["day"] = np.minimum(returns["day"] + rng.integers(0, 15, n_returns), n_days - 1)
    share = rng.choice(np.array([0.5, 1.0]), n_returns)
    returns["quantity"] = -np.maximum(np.floor(returns["quantity"] * share), 1.0)
    return {name: np.concatenate([rows[name], returns[name]]) for name in rows}


def generate(
    n_rows: int = 10_000_000,
    *,
    seed: int = 2025,
    n_patients: int | None = None,
    n_prescribers: int | None = None,
    n_pharmacies: int | None = None,
    with_form: bool = True,
    with_pharmacy: bool = True,
    shape: str = "sparse",
) -> pd.DataFrame:
    """A synthetic region of ``n_rows`` dispensings (see the module docstring), sorted by date.

    :param n_rows: number of rows.
    :param seed: the same seed gives the same frame.
    :param n_patients: default ``n_rows`` divided by the shape's rows a patient (500,000 for
        10 million sparse rows, 1,000,000 for dense ones).
    :param n_prescribers: default one per 33,333 rows (300 for 10 million), at least 3.
    :param n_pharmacies: default one per 333,333 rows (30 for 10 million), at least 1.
    :param with_form: include the optional ``form`` column.
    :param with_pharmacy: include the optional ``pharmacy_id`` column.
    :param shape: ``"sparse"`` (a whole export) or ``"dense"`` (a pre-filtered one): see
        :data:`SHAPES`.
    :returns: columns ``patient_id`` (str), ``date`` (``datetime64[us]``, midnight), ``atc``,
        ``quantity``, ``strength_mg``, ``form``, ``prescriber_id`` (str, ~0.2% missing),
        ``pharmacy_id``.
    """
    if n_rows < 100:
        raise ValueError("n_rows must be at least 100")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    mix = SHAPES[shape]
    rng = np.random.default_rng(seed)
    n_pat = n_patients or max(n_rows // mix.rows_per_patient, 50)
    n_presc = n_prescribers or max(n_rows // 33_333, 3)
    n_pharm = n_pharmacies or max(n_rows // 333_333, 1)
    region = _region(rng, n_pat, n_presc, n_pharm)
    catalogue = _Catalogue(COMMON + BENZOS + COMPLEX + EXCEPTIONS)
    n_returns = int(RETURN_SHARE * n_rows)
    rows = _dispensed(rng, region, catalogue, n_rows - n_returns, mix.benzo_share)
    rows = _with_returns(rng, rows, n_returns, region.n_days)
    rows["prescriber"][rng.random(n_rows) < MISSING_PRESCRIBER_SHARE] = -1

    # Sort by date (pharmacy exports are chronological), in random order within a day: shuffle,
    # then a stable (radix) sort on the 16-bit day number.
    shuffle = rng.permutation(n_rows)
    by_date = shuffle[np.argsort(rows["day"][shuffle].astype(np.int16), kind="stable")]
    rows = {name: values[by_date] for name, values in rows.items()}

    patient_ids = [f"P{i:07d}" for i in rng.permutation(n_pat) + 1]  # ids not in role order
    columns: dict[str, pa.Array] = {
        "patient_id": _strings(patient_ids, rows["patient"]),
        "date": pa.array((np.datetime64(START, "D") + rows["day"]).astype("datetime64[us]")),
        "atc": _strings(catalogue.atc, rows["drug"]),
        "quantity": pa.array(rows["quantity"]),
        "strength_mg": pa.array(rows["strength"]),
    }
    if with_form:
        columns["form"] = _strings(catalogue.forms, rows["form"])
    prescribers = [f"01{100_000 + i:06d}" for i in range(n_presc)]  # AGB-like codes
    columns["prescriber_id"] = _strings(prescribers, rows["prescriber"])
    if with_pharmacy:
        pharmacies = [f"APO{i + 1:04d}" for i in range(n_pharm)]
        columns["pharmacy_id"] = _strings(pharmacies, rows["pharmacy"])
    return pa.table(columns).to_pandas()


def to_polars(frame: pd.DataFrame) -> Any:
    """The same table as a polars DataFrame (strings and dates converted through Arrow)."""
    import polars as pl

    return pl.from_pandas(frame)


def generate_both(n_rows: int = 10_000_000, **options: Any) -> tuple[pd.DataFrame, Any]:
    """``generate(n_rows, **options)`` and its polars twin."""
    frame = generate(n_rows, **options)
    return frame, to_polars(frame)


def _summary(frame: pd.DataFrame) -> None:
    atc = frame["atc"]
    benzo = atc.str.startswith(("N05BA", "N05CD", "N05CF"))
    per_patient = frame.loc[benzo].groupby("patient_id")["quantity"].sum()
    print(frame.dtypes.to_string())
    print(frame.head().to_string())
    print(
        f"rows {len(frame):,}; patients {frame['patient_id'].nunique():,}; "
        f"prescribers {frame['prescriber_id'].nunique():,}"
    )
    print(
        f"benzodiazepine rows {benzo.mean():.1%}; returns {(frame['quantity'] < 0).mean():.1%}; "
        f"benzodiazepine patients {len(per_patient):,}; "
        f"> 90 units over two years {(per_patient > 90).sum():,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="sparse")
    args = parser.parse_args()
    start = time.perf_counter()
    frame = generate(args.rows, seed=args.seed, shape=args.shape)
    print(f"generated {len(frame):,} rows in {time.perf_counter() - start:.1f} s")
    _summary(frame)


if __name__ == "__main__":
    main()
