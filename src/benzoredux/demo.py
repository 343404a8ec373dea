"""A seeded synthetic practice, so the whole chain can be tried without patient data.

Everything here is invented: names, addresses, BSNs (valid 11-test numbers drawn at random),
dispensing histories. The shape follows the seeds: a standard practice (about 2,350 listed
patients per GP) has 35 to 65 chronic users, twice as many women as men among users, a third of
long-term users over 65, some with complex co-medication, some who stopped recently, some new
users. The same ``seed`` always gives the same practice.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from attrs import frozen

__all__ = ["DEMO_REFERENCE_DATE", "DemoPractice", "demo_practice"]

DEMO_REFERENCE_DATE = dt.date(2025, 12, 31)
"""The reference date the demo data are built around."""

_BENZOS = (  # (atc, strength in mg, typical units per dispensing)
    ("N05BA04", 10.0, 30),  # oxazepam
    ("N05BA01", 5.0, 30),  # diazepam
    ("N05CD07", 10.0, 30),  # temazepam
    ("N05CF01", 7.5, 20),  # zopiclone
    ("N05CF02", 10.0, 20),  # zolpidem
    ("N05CD06", 1.0, 30),  # lormetazepam
    ("N05BA12", 0.5, 30),  # alprazolam
)
_OTHER = ("C09AA02", "A02BC01", "N02BE01", "C10AA05", "N06AB06", "R03AC02", "N05BB01", "N05CH01")
_COMPLEX = ("N03AE01", "N02AA01", "N05AH04", "L04AX03", "M03BX01")
_FIRST = (
    "Anna",
    "Maria",
    "Johanna",
    "Cornelia",
    "Fatima",
    "Sanne",
    "Emma",
    "Jan",
    "Pieter",
    "Kees",
    "Mohamed",
    "Daan",
    "Henk",
    "Wilhelmina",
    "Gerrit",
    "Ingrid",
    "Sophie",
    "Noah",
)
_FAMILY = (
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("", "Bakker"),
    ("van", "Dijk"),
    ("", "Visser"),
    ("", "Smit"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("", "Yilmaz"),
    ("", "El Amrani"),
    ("van der", "Meer"),
    ("", "Bos"),
    ("", "Kok"),
    ("'t", "Hart"),
)
_STREETS = ("Dorpsstraat", "Kerkweg", "Molenlaan", "Schoolstraat", "Stationsweg", "Beukenlaan")


@frozen
class DemoPractice:
    """The demo practice's three canonical tables (pandas) and its reference date."""

    dispensings: pd.DataFrame
    patients: pd.DataFrame
    episodes: pd.DataFrame
    reference_date: dt.date


def _bsns(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct random 9-digit numbers that pass the BSN 11-test."""
    out: set[str] = set()
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
    while len(out) < n:
        digits = rng.integers(0, 10, size=(n * 12, 9))
        ok = (digits @ weights) % 11 == 0
        ok &= digits[:, 0] != 0
        out.update("".join(map(str, row)) for row in digits[ok])
    return sorted(out)[:n]


def demo_practice(*, seed: int = 2025, gps: int = 3, patients_per_gp: int = 2350) -> DemoPractice:
    """Build the synthetic practice: listed patients, two years of dispensings, ICPC episodes."""
    rng = np.random.default_rng(seed)
    reference = pd.Timestamp(DEMO_REFERENCE_DATE)
    gp_ids = [f"huisarts-{i + 1}" for i in range(gps)]
    n = gps * patients_per_gp
    ids = [f"P{i:06d}" for i in range(1, n + 1)]
    age = rng.integers(0, 95, n)
    birth = reference - pd.to_timedelta(age * 365.25 + rng.integers(0, 365, n), unit="D")
    sex = rng.choice(["F", "M"], n)
    family = [_FAMILY[i] for i in rng.integers(0, len(_FAMILY), n)]
    status = rng.choice(
        ["active", "deceased", "moved", "changed_gp"], n, p=[0.97, 0.01, 0.01, 0.01]
    )
    status_date = pd.Series(
        reference - pd.to_timedelta(rng.integers(-200, 500, n), unit="D")
    ).where(status != "active")
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "gp_id": np.repeat(gp_ids, patients_per_gp),
            "birth_date": birth.normalize(),
            "sex": sex,
            "initials": [f"{first[0]}." for first in rng.choice(_FIRST, n)],
            "first_name": rng.choice(_FIRST, n),
            "name_prefix": [f[0] or None for f in family],
            "family_name": [f[1] for f in family],
            "street": rng.choice(_STREETS, n),
            "house_number": rng.integers(1, 200, n).astype(str),
            "postcode": [
                f"{a} {b}"
                for a, b in zip(
                    rng.integers(1000, 9999, n),
                    rng.choice(["AB", "CD", "EF", "GH", "KL"], n),
                    strict=True,
                )
            ],
            "city": rng.choice(["Zwolle", "Kampen", "Deventer"], n),
            "bsn": _bsns(rng, n),
            "status": status,
            "status_date": status_date,
        }
    )
    # What the GP knows for screening (step 2), drawn from a stream of its own so the rest of
    # the practice stays the same: a few patients in palliative care, not reading Dutch well
    # enough for a letter, unable to come to the practice, or with serious comorbidity (more
    # often when old). Booleans, as the patients table defines them.
    screening_rng = np.random.default_rng([seed, 2])
    old = age >= 75
    patients["palliative"] = screening_rng.random(n) < np.where(old, 0.03, 0.005)
    patients["dutch_language"] = screening_rng.random(n) >= 0.05
    patients["immobile"] = screening_rng.random(n) < np.where(old, 0.10, 0.01)
    patients["serious_comorbidity"] = screening_rng.random(n) < np.where(old, 0.08, 0.02)
    # Benzodiazepine use: older patients and women more often (seeds: 2x women, 1/3 over 65).
    p_use = 0.05 * np.where(sex == "F", 1.4, 0.7) * np.where(age >= 65, 1.6, 1.0) * (age >= 18)
    role = rng.random(n)
    chronic = role < p_use * 0.45
    occasional = (~chronic) & (role < p_use)
    rows: list[pd.DataFrame] = []
    start = reference - pd.DateOffset(years=2)
    for idx in np.flatnonzero(chronic):
        atc, strength, units = _BENZOS[rng.integers(0, len(_BENZOS))]
        interval = int(rng.integers(25, 95))
        first = start + pd.Timedelta(days=int(rng.integers(0, 120)))
        last = reference
        if rng.random() < 0.08:  # stopped in the last months: the "recently stopped" case
            last = reference - pd.Timedelta(days=int(rng.integers(150, 300)))
        days = pd.date_range(first, last, freq=f"{interval}D")
        rows.append(
            _rows(
                ids[idx], days=days, atc=atc, strength=strength, units=units, rng=rng, gp_ids=gp_ids
            )
        )
        if rng.random() < 0.1:
            cx = _COMPLEX[rng.integers(0, len(_COMPLEX))]
            rows.append(
                _rows(
                    ids[idx],
                    days=days[-3:],
                    atc=cx,
                    strength=None,
                    units=30,
                    rng=rng,
                    gp_ids=gp_ids,
                )
            )
    for idx in np.flatnonzero(occasional):
        atc, strength, _units = _BENZOS[rng.integers(0, len(_BENZOS))]
        count = int(rng.integers(1, 4))
        days = pd.DatetimeIndex(
            sorted(start + pd.to_timedelta(rng.integers(0, 730, count), unit="D"))
        )
        rows.append(
            _rows(
                ids[idx],
                days=days,
                atc=atc,
                strength=strength,
                units=int(rng.choice([10, 15, 20, 30])),
                rng=rng,
                gp_ids=gp_ids,
            )
        )
    others = rng.integers(0, n, n * 3)
    rows.append(
        pd.DataFrame(
            {
                "patient_id": [ids[i] for i in others],
                "date": start + pd.to_timedelta(rng.integers(0, 731, len(others)), unit="D"),
                "atc": rng.choice(_OTHER, len(others)),
                "quantity": rng.choice([30.0, 60.0, 90.0], len(others)),
                "strength_mg": np.nan,
                "form": "tablet",
                "prescriber_id": rng.choice(gp_ids, len(others)),
            }
        )
    )
    dispensings = pd.concat(rows, ignore_index=True)
    returns = dispensings[dispensings["atc"].str.startswith("N05")].sample(
        frac=0.01, random_state=seed
    )
    returns = returns.assign(
        quantity=-returns["quantity"], date=returns["date"] + pd.Timedelta(days=3)
    )
    dispensings = pd.concat([dispensings, returns], ignore_index=True)
    dispensings = dispensings[dispensings["date"] <= reference].sort_values(
        ["date", "patient_id"], ignore_index=True
    )
    episodes = _episodes(ids, chronic | occasional, rng, reference)
    return DemoPractice(dispensings, patients, episodes, DEMO_REFERENCE_DATE)


def _rows(
    patient_id: str,
    *,
    days: pd.DatetimeIndex,
    atc: str,
    strength: float | None,
    units: int,
    rng: np.random.Generator,
    gp_ids: list[str],
) -> pd.DataFrame:
    n = len(days)
    prescriber = gp_ids[int(rng.integers(0, len(gp_ids)))]
    return pd.DataFrame(
        {
            "patient_id": patient_id,
            "date": days,
            "atc": atc,
            "quantity": (units * rng.choice([1, 1, 1, 2], n)).astype(float),
            "strength_mg": np.nan if strength is None else strength,
            "form": "tablet",
            "prescriber_id": np.where(rng.random(n) < 0.9, prescriber, rng.choice(gp_ids, n)),
        }
    )


def _episodes(
    ids: list[str], users: np.ndarray, rng: np.random.Generator, reference: pd.Timestamp
) -> pd.DataFrame:
    idx = np.flatnonzero(users)
    codes = rng.choice(
        ["P06", "P74", "P01", "P72", "P15", "N88", "P70", "T90"],
        len(idx),
        p=[0.4, 0.25, 0.15, 0.04, 0.05, 0.03, 0.03, 0.05],
    )
    begin = reference - pd.to_timedelta(rng.integers(100, 4000, len(idx)), unit="D")
    return pd.DataFrame(
        {
            "patient_id": [ids[i] for i in idx],
            "icpc": codes,
            "start": begin.normalize(),
            "end": pd.NaT,
        }
    ).astype({"end": "datetime64[ns]"})
