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

__all__ = [
    "DEMO_REFERENCE_DATE",
    "FOLLOW_UP_COURSES",
    "DemoPractice",
    "FollowUp",
    "demo_practice",
    "simulate_calls",
    "simulate_consults",
    "simulate_follow_up",
]

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
_HIGH_DOSE_ATC = "N05CD06"  # lormetazepam, 1 mg = 1 DDD
_RISING_ATC = "N05BA04"  # oxazepam, 50 mg = 1 DDD
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
    # Every built-in screening criterion has someone to exclude in every GP's list (a stream
    # of its own again, so the rest of the practice stays the same).
    roles = _ensure_criteria(np.random.default_rng([seed, 3]), patients, chronic, age, reference)
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
        history = _rows(
            ids[idx], days=days, atc=atc, strength=strength, units=units, rng=rng, gp_ids=gp_ids
        )
        history = _with_role(
            history, roles, int(idx), interval=interval, units=units, when=reference
        )
        rows.append(history)
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
    dispensings = _with_returns(pd.concat(rows, ignore_index=True), seed, reference)
    episodes = _episodes(ids, chronic | occasional, rng, reference)
    episodes = _ensure_other_indication(episodes, roles.other_indication, ids, reference)
    episodes = _ensure_psychosocial(episodes, roles.other_indication, ids, reference)
    return DemoPractice(dispensings, patients, episodes, DEMO_REFERENCE_DATE)


def _with_returns(dispensings: pd.DataFrame, seed: int, reference: pd.Timestamp) -> pd.DataFrame:
    """Add a return (negative quantity, three days later) for 1% of the N05 dispensings."""
    returns = dispensings[dispensings["atc"].str.startswith("N05")].sample(
        frac=0.01, random_state=seed
    )
    returns = returns.assign(
        quantity=-returns["quantity"], date=returns["date"] + pd.Timedelta(days=3)
    )
    dispensings = pd.concat([dispensings, returns], ignore_index=True)
    return dispensings[dispensings["date"] <= reference].sort_values(
        ["date", "patient_id"], ignore_index=True
    )


@frozen
class _Roles:
    """Chronic users (row numbers) given a dose or an episode so that a criterion excludes them."""

    high_dose: frozenset[int]
    other_indication: tuple[int, ...]
    rising: frozenset[int] = frozenset()
    """Chronic users whose dose went up to 3 DDD a day in the last four months."""


def _ensure_criteria(
    rng: np.random.Generator,
    patients: pd.DataFrame,
    chronic: np.ndarray,
    age: np.ndarray,
    reference: pd.Timestamp,
) -> _Roles:
    """Make sure each GP's chronic users include someone every built-in criterion excludes.

    The flags of the patients table (palliative, not reading Dutch, immobile, serious
    comorbidity) and high age are set on a chronic user only where the GP has none yet; one or
    two chronic users per GP get a dose above 2 DDD a day, one a dose that rose to 3 DDD a day
    in the last four months (under 2 on average over the year: the screening compares the
    current dose), and one, when the GP has none, an episode of another indication (alcohol
    abuse, schizophrenia, dementia) and a psychosocial one. Changes ``patients`` in place;
    returns who needs the dose and the episode.
    """
    flags = (
        ("palliative", True),
        ("dutch_language", False),
        ("immobile", True),
        ("serious_comorbidity", True),
    )
    high_dose: set[int] = set()
    other: list[int] = []
    rising: set[int] = set()
    gp_of = patients["gp_id"].to_numpy()
    for gp in pd.unique(gp_of):
        users = np.flatnonzero(chronic & (gp_of == gp))
        if len(users) < 8:
            continue
        chosen = iter(rng.permutation(users))
        for column, value in flags:
            if not (patients[column].to_numpy()[users] == value).any():
                patients.loc[next(chosen), column] = value
        if not (age[users] > 80).any():
            one = next(chosen)
            patients.loc[one, "birth_date"] = (reference - pd.DateOffset(years=86)).normalize()
        high_dose.update(next(chosen) for _ in range(1 + int(rng.integers(0, 2))))
        other.append(next(chosen))
        # After every draw of the stream, so the others stay the same; a GP with just enough
        # chronic users for the other roles has none left for this one.
        spare = next(chosen, None)
        if spare is not None:
            rising.add(int(spare))
    return _Roles(frozenset(high_dose), tuple(other), frozenset(rising))


def _with_role(
    history: pd.DataFrame,
    roles: _Roles,
    idx: int,
    *,
    interval: int,
    units: int,
    when: pd.Timestamp,
) -> pd.DataFrame:
    """Chronic user ``idx``'s history, drawn as everyone's (so the rest of the practice stays
    the same), changed for a dose role: ``high_dose`` 3 or 4 tablets of 1 mg lormetazepam a day
    (above 2 DDD), ``rising`` :func:`_rising_dose` up to ``when``, the reference date."""
    if idx in roles.high_dose:
        history = history.assign(
            atc=_HIGH_DOSE_ATC,
            strength_mg=1.0,
            quantity=(history["quantity"] >= 2 * units) * interval + 3.0 * interval,
        )
    if idx in roles.rising:
        patient, prescriber = history["patient_id"].iloc[0], history["prescriber_id"].iloc[0]
        history = _rising_dose(str(patient), str(prescriber), when)
    return history


def _rising_dose(patient_id: str, prescriber: str, reference: pd.Timestamp) -> pd.DataFrame:
    """Oxazepam 50 mg (1 DDD) every 28 days for two years: one a day, and three a day from four
    months before the reference date (issue 14). About 1.7 DDD a day on average over the year,
    under the limit of 2; about 3 over the last three months, above it."""
    days = pd.date_range(reference - pd.DateOffset(years=2), reference, freq="28D")
    rise = reference - pd.DateOffset(months=4)
    return pd.DataFrame(
        {
            "patient_id": patient_id,
            "date": days,
            "atc": _RISING_ATC,
            "quantity": np.where(days > rise, 3 * 28.0, 28.0),
            "strength_mg": 50.0,
            "form": "tablet",
            "prescriber_id": prescriber,
        }
    )


def _ensure_other_indication(
    episodes: pd.DataFrame, chosen: tuple[int, ...], ids: list[str], reference: pd.Timestamp
) -> pd.DataFrame:
    """``episodes`` plus an episode of another indication for each chosen patient who has none."""
    from benzoredux import codes

    other = {str(e.code) for e in codes.icpc_codes("other_indication")}
    has_other = set(episodes.loc[episodes["icpc"].isin(other), "patient_id"])
    wanted = [ids[i] for i in chosen if ids[i] not in has_other]
    if not wanted:
        return episodes
    return _with_open_episodes(episodes, wanted, ("P15", "P72", "P70"), reference, years=3)


def _ensure_psychosocial(
    episodes: pd.DataFrame, chosen: tuple[int, ...], ids: list[str], reference: pd.Timestamp
) -> pd.DataFrame:
    """``episodes`` plus an open psychosocial episode (ICPC chapter Z) for each chosen patient.

    The patients chosen for another indication get it too: the psychosocial criterion (off by
    default) then excludes someone in every GP's list, and with the default criteria nobody's
    outcome changes, because another indication excludes these patients already.
    """
    wanted = [ids[i] for i in chosen]
    return _with_open_episodes(episodes, wanted, ("Z12", "Z05", "Z23"), reference, years=1)


def _with_open_episodes(
    episodes: pd.DataFrame,
    patient_ids: list[str],
    icpc: tuple[str, ...],
    reference: pd.Timestamp,
    *,
    years: int,
) -> pd.DataFrame:
    """``episodes`` plus an episode per patient, open on ``reference`` and started ``years``
    before it, coded with ``icpc`` in turn."""
    extra = pd.DataFrame(
        {
            "patient_id": patient_ids,
            "icpc": [icpc[i % len(icpc)] for i in range(len(patient_ids))],
            "start": (reference - pd.DateOffset(years=years)).normalize(),
            "end": pd.NaT,
        }
    ).astype({"end": "datetime64[ns]", "start": episodes["start"].dtype})
    return pd.concat([episodes, extra], ignore_index=True)


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


FOLLOW_UP_COURSES: dict[str, float] = {
    "stopped": 0.09,
    "tapered": 0.07,
    "relapsed": 0.12,
    "reduced": 0.30,
    "continued": 0.42,
}
"""How letter recipients of the simulated follow-up fare, with their chances.

``stopped``: no benzodiazepine after the letter; ``tapered``: two smaller dispensings in the
first two months (half, then a quarter), then none; ``relapsed``: stops as one of those two, and
starts again at the old dose 6 to 20 months after the letter; ``reduced``: carries on with 50 to
90% of the old quantity; ``continued``: carries on as before. The chances follow the Benzoredux
trial (Gorgels et al., 2002): about 27% stop in the short term (3-6 months after the letter),
about half of them stay off for the whole 21 months, and use among the others falls by about a
fifth."""


@frozen
class FollowUp:
    """The demo practice after the stop letters: what the evaluation counts from."""

    dispensings: pd.DataFrame
    """The practice's dispensings up to the evaluation date: the history and the follow-up."""
    patients: pd.DataFrame
    """The patients table on the evaluation date: some recipients died, moved or changed GP
    (``status``, ``status_date``)."""
    courses: pd.DataFrame
    """The simulated truth per letter recipient: ``patient_id``, ``letter_date``, ``course``
    (a key of :data:`FOLLOW_UP_COURSES`), ``restart_date`` (relapsed), ``factor`` (reduced),
    ``left`` and ``left_date`` (left the practice during the follow-up)."""
    evaluation_date: dt.date
    """The day the follow-up ends: every measure of the effect evaluation is due by then."""


def _regimens(dispensings: pd.DataFrame, reference: pd.Timestamp) -> pd.DataFrame:
    """Per patient with benzodiazepines in the last year: how the supply went on (vectorised).

    The last dispensing's product and prescriber, the mean quantity and the mean gap between
    dispensings; only patients whose last supply was in the last four months carry on.
    """
    from benzoredux import codes

    atcs = dispensings["atc"].astype(str)
    distinct = atcs.unique()
    is_benzo = dict(zip(distinct, (codes.is_benzodiazepine(a) for a in distinct), strict=True))
    year = dispensings[
        atcs.map(is_benzo).astype(bool)
        & (dispensings["date"] > reference - pd.DateOffset(years=1))
        & (dispensings["date"] <= reference)
        & (dispensings["quantity"] > 0)
    ].sort_values(["patient_id", "date"])
    per = year.groupby("patient_id", sort=True).agg(
        first=("date", "min"),
        last=("date", "max"),
        count=("date", "size"),
        quantity=("quantity", "mean"),
        atc=("atc", "last"),
        strength_mg=("strength_mg", "last"),
        form=("form", "last"),
        prescriber_id=("prescriber_id", "last"),
    )
    gap = (per["last"] - per["first"]).dt.days / (per["count"] - 1).where(per["count"] > 1)
    per["interval"] = gap.fillna(30).clip(lower=14).round().astype(int)
    carries_on = per["last"] > reference - pd.Timedelta(days=120)
    return per[carries_on & (per["count"] >= 2)].reset_index()


def _draw_courses(
    sent: pd.DataFrame,
    rng: np.random.Generator,
    chances: dict[str, float],
    *,
    months: int,
    left_share: float,
) -> pd.DataFrame:
    """One course per recipient, drawn in the order of the patient ids (deterministic)."""
    sent = sent.sort_values("patient_id", ignore_index=True)
    n = len(sent)
    names = list(FOLLOW_UP_COURSES)
    sent["course"] = rng.choice(names, n, p=[chances[k] for k in names])
    sent["restart_date"] = sent["letter_date"] + pd.to_timedelta(
        rng.integers(190, 600, n), unit="D"
    )
    sent["restart_date"] = sent["restart_date"].where(sent["course"] == "relapsed")
    sent["tapers"] = (sent["course"] == "tapered") | (
        (sent["course"] == "relapsed") & (rng.random(n) < 0.5)
    )
    sent["factor"] = np.where(sent["course"] == "reduced", rng.uniform(0.5, 0.9, n), 1.0)
    leaves = rng.random(n) < left_share
    sent["left"] = pd.Series(rng.choice(["deceased", "moved", "changed_gp"], n)).where(leaves)
    sent["left_date"] = (
        sent["letter_date"] + pd.to_timedelta(rng.integers(30, 30 * months, n), unit="D")
    ).where(leaves)
    return sent


def simulate_follow_up(
    practice: DemoPractice,
    letters: pd.DataFrame,
    *,
    seed: int = 2025,
    months: int = 21,
    courses: dict[str, float] | None = None,
    left_share: float = 0.05,
) -> FollowUp:
    """Simulate the dispensings after the stop letters actually sent, seeded.

    :param letters: one row per stop letter sent: ``patient_id`` and ``letter_date``.
    :param months: how long the follow-up runs after the last letter; the default, 21, is the
        Benzoredux trial's follow-up, so every measure of the evaluation is due.
    :param courses: the chance of each course (:data:`FOLLOW_UP_COURSES`); they must add up to 1.
    :param left_share: the share of recipients who die, move or change GP during the follow-up
        (their status and ``status_date`` go into the patients table, and their dispensings stop
        on that day).

    Chronic users who got no letter carry on as before. The same arguments give the same
    follow-up.

    >>> demo = demo_practice(gps=1, patients_per_gp=600)
    >>> letters = pd.DataFrame({"patient_id": ["P000011"],
    ...                         "letter_date": [dt.date(2026, 1, 12)]})
    >>> simulate_follow_up(demo, letters).evaluation_date
    datetime.date(2027, 10, 12)
    """
    chances = dict(FOLLOW_UP_COURSES if courses is None else courses)
    if abs(sum(chances.values()) - 1) > 1e-9 or set(chances) != set(FOLLOW_UP_COURSES):
        raise ValueError(
            f"courses: give a chance for each of {', '.join(FOLLOW_UP_COURSES)}, adding up to 1"
        )
    rng = np.random.default_rng([seed, 4])
    reference = pd.Timestamp(practice.reference_date)
    sent = pd.DataFrame(
        {
            "patient_id": letters["patient_id"].astype(str),
            "letter_date": pd.to_datetime(letters["letter_date"]).dt.normalize(),
        }
    ).drop_duplicates("patient_id")
    if sent.empty:
        raise ValueError("letters: no stop letters to follow up")
    until = (sent["letter_date"].max() + pd.DateOffset(months=months)).normalize()
    regimens = _regimens(practice.dispensings, reference).merge(sent, on="patient_id", how="left")

    sent = _draw_courses(sent, rng, chances, months=months, left_share=left_share)

    # The supply of every patient who carries on, as a grid of dispensing dates up to the end.
    plan = regimens.drop(columns="letter_date").merge(
        sent.drop(columns="left"), on="patient_id", how="left"
    )
    patients = practice.patients.set_index("patient_id")
    gone = patients["status_date"].reindex(plan["patient_id"]).to_numpy()
    plan["end"] = pd.Series(gone, dtype="datetime64[ns]").fillna(until).clip(upper=until)
    plan["end"] = plan["end"].where(plan["left_date"].isna(), plan["left_date"])
    slots = ((plan["end"] - plan["last"]).dt.days // plan["interval"]).clip(lower=0).astype(int)
    grid = plan.loc[plan.index.repeat(slots)].copy()
    step = grid.groupby(level=0).cumcount().to_numpy() + 1
    grid = grid.reset_index(drop=True)
    grid["date"] = grid["last"] + pd.to_timedelta(step * grid["interval"], unit="D")
    after = grid["letter_date"].notna() & (grid["date"] > grid["letter_date"])
    course = grid["course"]
    keep = (
        ~after
        | course.isin(["continued", "reduced"])
        | ((course == "relapsed") & (grid["date"] >= grid["restart_date"]))
    )
    reduce = after & (course == "reduced")
    grid["quantity"] = np.maximum(5.0, np.round(grid["quantity"] * grid["factor"].where(reduce, 1)))
    grid = grid[keep & (grid["date"] > reference) & (grid["date"] <= grid["end"])]

    # Tapering: half the quantity two weeks after the letter, a quarter five weeks later.
    taper = plan[plan["tapers"].fillna(False).astype(bool)]
    tapering = pd.concat(
        [
            taper.assign(
                date=taper["letter_date"] + pd.Timedelta(days=days),
                quantity=np.maximum(5.0, np.round(taper["quantity"] * share)),
            )
            for days, share in ((14, 0.5), (49, 0.25))
        ]
    )
    tapering = tapering[tapering["date"] <= tapering["end"]]
    columns = list(practice.dispensings.columns)
    follow_up = pd.concat([grid, tapering], ignore_index=True)[columns]
    dispensings = pd.concat([practice.dispensings, follow_up], ignore_index=True)
    dispensings = dispensings.astype(practice.dispensings.dtypes.to_dict()).sort_values(
        ["date", "patient_id"], ignore_index=True
    )

    # Who left during the follow-up: into the patients table with the day.
    at_end = practice.patients.copy()
    left = sent.dropna(subset=["left"]).set_index("patient_id")
    rows = at_end["patient_id"].isin(left.index) & (at_end["status"] == "active")
    if rows.any():
        at_end.loc[rows, "status"] = at_end.loc[rows, "patient_id"].map(left["left"])
        at_end.loc[rows, "status_date"] = at_end.loc[rows, "patient_id"].map(left["left_date"])
    truth = sent[
        ["patient_id", "letter_date", "course", "restart_date", "factor", "left", "left_date"]
    ]
    return FollowUp(dispensings, at_end, truth, until.date())


def simulate_consults(
    schedule: pd.DataFrame, *, seed: int = 2025, attend: float = 2 / 3
) -> pd.DataFrame:
    """Simulated evaluation consults (step 5) for a schedule of :func:`~benzoredux.plan_schedule`.

    About two thirds of the invited come (the Benzoredux trial: "about two thirds of invited
    patients came"), in person or by telephone, on the reserved day, to the POH-GGZ or the GP;
    the others are recorded as not attending. Returns a
    :data:`~benzoredux.consult.records.CONSULTS` table.
    """
    rng = np.random.default_rng([seed, 5])
    table = schedule.sort_values("patient_id", ignore_index=True)
    n = len(table)
    came = rng.random(n) < attend
    contact = np.where(came, np.where(rng.random(n) < 0.85, "in_person", "phone"), "did_not_attend")
    held_by = np.where(rng.random(n) < 0.6, "poh_ggz", "gp")
    outcomes = ["stopped", "tapering", "reduced", "continuing"]
    outcome = rng.choice(outcomes, n, p=[0.25, 0.3, 0.2, 0.25])
    return pd.DataFrame(
        {
            "patient_id": table["patient_id"].astype(str),
            "date": pd.to_datetime(table["consult_date"]).dt.normalize(),
            "held_by": held_by,
            "contact": contact,
            "clinician_id": np.where(held_by == "gp", table["gp_id"].astype(str), "poh-1"),
            "outcome": pd.Series(outcome).where(came),
        }
    )


def simulate_calls(consults: pd.DataFrame, *, seed: int = 2025) -> pd.DataFrame:
    """Simulated phone calls (step 4) to the invited patients who did not come: the practice
    calls each of them three days after the missed consult (bijlage 2: "patiënten die niet
    reageren worden nagebeld"). About a third makes a new appointment, some decline, some have
    stopped already, and some do not answer. Returns ``patient_id``, ``called_on`` and
    ``outcome`` (a :class:`~benzoredux.models.CallOutcome` value), one row per call.
    """
    rng = np.random.default_rng([seed, 6])
    missed = consults[consults["contact"] == "did_not_attend"].sort_values(
        "patient_id", ignore_index=True
    )
    outcomes = ["appointment_made", "declined", "already_stopped", "no_answer"]
    return pd.DataFrame(
        {
            "patient_id": missed["patient_id"].astype(str),
            "called_on": (pd.to_datetime(missed["date"]) + pd.Timedelta(days=3)).dt.date,
            "outcome": rng.choice(outcomes, len(missed), p=[0.35, 0.3, 0.15, 0.2]),
        }
    )
