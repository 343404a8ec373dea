"""Random programmes for the report's tests: who was selected, excluded, screened, written to,
invited, seen and evaluated, built into a register or into the steps' files.

Every combination is allowed, also the unusual ones a real programme meets now and then (a GP
who makes a patient excluded at selection eligible after all, a letter to a patient who is no
longer eligible, an invitation without a stop letter, a consult without an invitation): the
funnel must add up for all of them. The expected counts are computed here from the people
directly, not by the code under test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from attrs import frozen
from hypothesis import strategies as st

from benzoredux.evaluation.effect import evaluate_effect
from benzoredux.evaluation.letters import consults_from_register, letters_from_register
from benzoredux.evaluation.process import evaluate_process
from benzoredux.models import Consult, GeneralPractitioner, LetterKind, Practice, StopLetter
from benzoredux.output import write_csv
from benzoredux.register import Register, ScreeningDecision
from benzoredux.register.steps import evaluation_records

REFERENCE = dt.date(2025, 12, 31)
FIRST_LETTER = dt.date(2026, 2, 2)
EVALUATION = dt.date(2027, 6, 30)
BY = "tester"


@frozen
class Person:
    """One patient of a random programme (no personal data: an id and what happened)."""

    excluded_at_selection: bool
    decision: str | None
    """``eligible``, ``excluded``, ``review`` (the program could not decide) or ``None``."""
    by_gp: bool
    """The decision is the GP's own (a proposal otherwise); ``review`` is always a proposal."""
    letter: bool
    batch: int
    invited: bool
    consult: str | None
    """``came``, ``missed`` or ``None``."""
    left: str | None
    """``deceased``, ``moved``, ``changed_gp`` (after the letter) or ``None``."""
    used_again: bool
    """Collected a benzodiazepine 3-6 months after the letter (else a stopper)."""


@frozen
class Programme:
    people: tuple[Person, ...]
    evaluated: bool

    @staticmethod
    def patient(index: int) -> str:
        return f"PX{index:05d}"

    def ids(self, **wanted: Any) -> set[str]:
        return {
            self.patient(i)
            for i, person in enumerate(self.people)
            if all(getattr(person, k) == v for k, v in wanted.items())
        }


people = st.builds(
    Person,
    excluded_at_selection=st.sampled_from([False, False, False, True]),
    decision=st.sampled_from([None, "eligible", "eligible", "eligible", "excluded", "review"]),
    by_gp=st.booleans(),
    letter=st.sampled_from([False, True, True]),
    batch=st.integers(1, 3),
    invited=st.sampled_from([False, True, True]),
    consult=st.sampled_from([None, "came", "came", "missed"]),
    left=st.sampled_from([None, None, None, "deceased", "moved", "changed_gp"]),
    used_again=st.booleans(),
)
programmes = st.builds(
    Programme, people=st.lists(people, min_size=1, max_size=25).map(tuple), evaluated=st.booleans()
)


def _selection(programme: Programme) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [programme.patient(i) for i in range(len(programme.people))],
            "gp_id": ["gp-a" if i % 2 else "gp-b" for i in range(len(programme.people))],
            "excluded_because": [
                "complex co-medication: N02A" if p.excluded_at_selection else None
                for p in programme.people
            ],
        }
    )


def _evaluation(letters: Any, consults: Any, programme: Programme) -> tuple[Any, Any]:
    """The effect and process evaluation of the letters the programme sent, run as the
    ``evaluate`` step runs it: a dispensing before each letter, again 3-6 months after for those
    who used again, and the patients who left."""
    rows, left = [], []
    for i, person in enumerate(programme.people):
        if not person.letter:
            continue
        patient = programme.patient(i)
        letter_day = FIRST_LETTER + dt.timedelta(weeks=person.batch - 1)
        rows.append((patient, letter_day - dt.timedelta(days=60), "N05BA04", 30.0))
        if person.used_again:
            rows.append((patient, letter_day + dt.timedelta(days=120), "N05BA04", 30.0))
        if person.left is not None:
            left.append((patient, person.left, letter_day + dt.timedelta(days=30)))
    dispensings = pd.DataFrame(rows, columns=["patient_id", "date", "atc", "quantity"])
    dispensings["date"] = pd.to_datetime(dispensings["date"])
    patients = pd.DataFrame(left, columns=["patient_id", "status", "status_date"])
    patients["status_date"] = pd.to_datetime(patients["status_date"])
    effect = evaluate_effect(letters, dispensings, EVALUATION, patients=patients, engine="native")
    return effect.summary, evaluate_process(letters, consults, engine="native")


def build_register(register: Register, programme: Programme) -> None:
    """The programme as the steps would have recorded it."""
    register.set_programme(
        Practice(
            practice_id="p",
            name="Praktijk",
            gps=[
                GeneralPractitioner(gp_id="gp-a", name="A"),
                GeneralPractitioner(gp_id="gp-b", name="B"),
            ],
        ),
        reference_date=REFERENCE,
        by=BY,
    )
    register.snapshot_selection(_selection(programme), reference_date=REFERENCE, by=BY)
    proposals, decisions = [], []
    for i, person in enumerate(programme.people):
        if person.decision is None:
            continue
        excluded = person.decision != "eligible"
        reasons = (
            ["review"] if person.decision == "review" else (["palliative"] if excluded else [])
        )
        decision = ScreeningDecision(
            patient_id=programme.patient(i), excluded=excluded, reasons=reasons
        )
        if person.by_gp and person.decision != "review":
            # The program proposed the opposite; the GP decided.
            proposals.append(
                ScreeningDecision(patient_id=programme.patient(i), excluded=not excluded)
            )
            decisions.append(decision)
        else:
            proposals.append(decision)
    if proposals:
        register.record_screening(proposals, source="proposal", by=BY)
    if decisions:
        register.record_screening(decisions, source="gp", by="dr. Vries")
    letters = []
    for i, person in enumerate(programme.people):
        letter_day = FIRST_LETTER + dt.timedelta(weeks=person.batch - 1)
        if person.letter:
            letters.append(
                StopLetter(
                    patient_id=programme.patient(i),
                    gp_ids=["gp-a"],
                    letter_date=letter_day,
                    batch=person.batch,
                )
            )
        if person.invited:
            letters.append(
                StopLetter(
                    patient_id=programme.patient(i),
                    kind=LetterKind.INVITATION,
                    gp_ids=["gp-a"],
                    letter_date=letter_day + dt.timedelta(days=91),
                    batch=person.batch,
                )
            )
    if letters:
        register.record_letters(letters, by=BY)
    for i, person in enumerate(programme.people):
        if person.consult is not None:
            register.record_consult(
                Consult(
                    patient_id=programme.patient(i),
                    date=FIRST_LETTER + dt.timedelta(days=100 + 7 * person.batch),
                    held_by="gp",
                    attended=person.consult == "came",
                ),
                by=BY,
            )
    if programme.evaluated and any(p.letter for p in programme.people):
        summary, process = _evaluation(
            letters_from_register(register), consults_from_register(register), programme
        )
        register.record_evaluation(
            kind="effect_and_process",
            run_date=EVALUATION,
            results={
                "effect_summary": evaluation_records(summary),
                "process": evaluation_records(process),
            },
            by=BY,
            run_id=f"evaluation-{EVALUATION.isoformat()}",
        )


def write_files(folder: Path, programme: Programme) -> None:
    """The programme as the step commands would have left it in their folder (no register):
    the selection, the screening, and the evaluation's process and effect files."""
    selection = _selection(programme)
    write_csv(selection, folder / "chronic_users.csv")
    decided = [
        (programme.patient(i), p.decision, selection["excluded_because"][i])
        for i, p in enumerate(programme.people)
        if p.decision is not None
    ]
    if decided:
        write_csv(
            pd.DataFrame(decided, columns=["patient_id", "decision", "excluded_because"]),
            folder / "screening.csv",
        )
    sent = [(i, p) for i, p in enumerate(programme.people) if p.letter]
    if not (programme.evaluated and sent):
        return
    letters = pd.DataFrame(
        {
            "patient_id": [programme.patient(i) for i, _ in sent],
            "gp_id": ["gp-a"] * len(sent),
            "letter_date": [FIRST_LETTER + dt.timedelta(weeks=p.batch - 1) for _, p in sent],
            "invitation_date": [
                FIRST_LETTER + dt.timedelta(weeks=p.batch - 1, days=91) if p.invited else None
                for _, p in sent
            ],
        }
    )
    letters["letter_date"] = pd.to_datetime(letters["letter_date"])
    letters["invitation_date"] = pd.to_datetime(letters["invitation_date"])
    seen = [(i, p) for i, p in enumerate(programme.people) if p.consult is not None]
    consults = pd.DataFrame(
        {
            "patient_id": [programme.patient(i) for i, _ in seen],
            "date": pd.to_datetime(
                [FIRST_LETTER + dt.timedelta(days=100 + 7 * p.batch) for _, p in seen]
            ),
            "held_by": ["gp"] * len(seen),
            "contact": ["in_person" if p.consult == "came" else "did_not_attend" for _, p in seen],
        }
    )
    summary, process = _evaluation(letters, consults if seen else None, programme)
    write_csv(summary, folder / "evaluation" / "effect_summary.csv")
    write_csv(process, folder / "evaluation" / "process.csv")
