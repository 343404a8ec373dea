"""A small programme with known figures, as the step commands would have left it: the files in
one folder, and a register that says more (so a test can tell which one the report read).

Files: GP gp-a 7 chronic users of 2,350 listed, gp-b 4 of 200 listed; new users 2 and 1, and
gp-c (a locum: no list, no chronic users) 1;
screening 6 eligible, 3 excluded, 2 to review; a plan from 2026-01-05 with ``select`` done; an
evaluation of 10 letters (3 patients got a benzodiazepine 3-6 months after the letter, and 1
still had tablets collected just before then: 6 stopped, 7 by the plain definition).

Register: the same selection (plus one patient excluded at selection, who must not count), the
screening with a GP decision (7 eligible, 3 excluded, 1 review), 5 stop letters, 3 invitations,
2 consults attended (and 1 missed), the plan, and the evaluation run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benzoredux.cli.evaluate import _records
from benzoredux.evaluation.effect import evaluate_effect
from benzoredux.evaluation.plan import plan_of_action
from benzoredux.evaluation.process import evaluate_process
from benzoredux.models import Consult, GeneralPractitioner, LetterKind, Practice, StopLetter
from benzoredux.output import write_csv
from benzoredux.register import Register, ScreeningDecision, open_register

GP_A_NAME = "dr. A. de Vries & <b>zn</b>"
"""A GP name with characters HTML must escape."""
PER_GP = {"gp-a": 7, "gp-b": 4}
LISTED = {"gp-a": 2350, "gp-b": 200}
AS_OF = dt.date(2026, 3, 1)
PLAN_START = dt.date(2026, 1, 5)


def patient(number: int) -> str:
    """Patient ids look like nothing else in the report, so a leak is easy to find."""
    return f"PX{number:05d}"


SCREENED = [patient(i) for i in range(7)] + [patient(10 + i) for i in range(4)]
"""The selection's chronic users (not the one it excluded), in the order the screening
decides them: 6 eligible, 3 excluded, 2 to review."""


def _selection() -> pd.DataFrame:
    rows = [
        {"patient_id": patient(i), "gp_id": "gp-a", "probably_stopped": i == 0} for i in range(7)
    ]
    rows += [
        {"patient_id": patient(10 + i), "gp_id": "gp-b", "probably_stopped": False}
        for i in range(4)
    ]
    frame = pd.DataFrame(rows)
    frame["excluded_because"] = None
    excluded = pd.DataFrame(
        [{"patient_id": patient(99), "gp_id": "gp-a", "probably_stopped": False,
          "excluded_because": "complex co-medication"}]
    )  # fmt: skip
    return pd.concat([frame, excluded], ignore_index=True)


def _evaluation() -> tuple[Any, Any]:
    ids = [patient(i) for i in range(6)] + [patient(10 + i) for i in range(4)]
    letters = pd.DataFrame(
        {
            "patient_id": ids,
            "gp_id": ["gp-a"] * 6 + ["gp-b"] * 4,
            "letter_date": pd.to_datetime(["2025-01-15"] * 10),
            "invitation_date": pd.to_datetime(["2025-04-15"] * 10),
        }
    )
    # ids[:3] collect again 3-6 months after the letter; ids[3] collects 90 tablets (at the
    # assumed one a day) five days before that window: a stopper only by the plain definition.
    dispensings = pd.DataFrame(
        {
            "patient_id": ids + ids[:3] + ids[3:4],
            "date": pd.to_datetime(["2024-12-01"] * 10 + ["2025-06-01"] * 3 + ["2025-04-10"]),
            "atc": ["N05BA04"] * 14,
            "quantity": [90.0] * 10 + [30.0] * 3 + [90.0],
        }
    )
    effect = evaluate_effect(letters, dispensings, "2025-12-31", engine="native")
    return effect.summary, evaluate_process(letters, engine="native")


@pytest.fixture(scope="session")
def evaluation() -> tuple[Any, Any]:
    return _evaluation()


@pytest.fixture
def folder(tmp_path: Path, evaluation: tuple[Any, Any]) -> Path:
    """The steps' output folder (files only)."""
    out = tmp_path / "results"
    selection = _selection()
    chosen = selection[selection["excluded_because"].isna()]
    write_csv(selection, out / "chronic_users.csv")
    per_gp = pd.DataFrame(
        {
            "gp_id": list(PER_GP),
            "chronic_users": list(PER_GP.values()),
            "probably_stopped": [1, 0],
            "listed_patients": [LISTED[g] for g in PER_GP],
        }
    )
    assert per_gp["chronic_users"].sum() == len(chosen)
    write_csv(per_gp, out / "chronic_users_per_gp.csv")
    write_csv(
        pd.DataFrame(
            {
                "patient_id": [patient(50), patient(51), patient(52), patient(53)],
                "gp_id": ["gp-a", "gp-a", "gp-b", "gp-c"],
                "large_first": [True, False, False, True],
            }
        ),
        out / "new_users.csv",
    )
    write_csv(
        pd.DataFrame(
            {
                "patient_id": SCREENED,
                "decision": ["eligible"] * 6 + ["excluded"] * 3 + ["review"] * 2,
            }
        ),
        out / "screening.csv",
    )
    plan = plan_of_action(PLAN_START).with_status("select", "done")
    write_csv(plan.table(), out / "plan.csv")
    summary, process = evaluation
    write_csv(summary, out / "evaluation" / "effect_summary.csv")
    write_csv(process, out / "evaluation" / "process.csv")
    return out


def fill_register(register: Register, evaluation: tuple[Any, Any]) -> None:
    by = "tester"
    practice = Practice(
        practice_id="noord",
        name="Praktijk Noord",
        gps=[
            GeneralPractitioner(gp_id="gp-a", name=GP_A_NAME),
            GeneralPractitioner(gp_id="gp-b", name="B. Bakker"),
        ],
    )
    register.set_programme(practice, reference_date=dt.date(2025, 12, 31), by=by)
    register.snapshot_selection(_selection(), reference_date=dt.date(2025, 12, 31), by=by)
    proposals = [ScreeningDecision(patient_id=p, excluded=False) for p in SCREENED[:6]]
    proposals += [
        ScreeningDecision(patient_id=p, excluded=True, reasons=["palliative"])
        for p in SCREENED[6:9]
    ]
    proposals += [
        ScreeningDecision(patient_id=p, excluded=True, reasons=["review"]) for p in SCREENED[9:]
    ]
    register.record_screening(proposals, source="proposal", by=by)
    register.record_screening(
        [ScreeningDecision(patient_id=SCREENED[9], excluded=False)], source="gp", by="dr. Vries"
    )
    sent = dt.date(2026, 2, 2)
    register.record_letters(
        [
            StopLetter(patient_id=patient(i), gp_ids=["gp-a"], letter_date=sent, batch=1)
            for i in range(5)
        ],
        by=by,
    )
    register.record_letters(
        [
            StopLetter(
                patient_id=patient(i),
                kind=LetterKind.INVITATION,
                gp_ids=["gp-a"],
                letter_date=dt.date(2026, 5, 4),
                batch=1,
            )
            for i in range(3)
        ],
        by=by,
    )
    for i, attended in ((0, True), (1, True), (2, False)):
        register.record_consult(
            Consult(
                patient_id=patient(i),
                date=dt.date(2026, 5, 20),
                held_by="gp",
                attended=attended,
            ),
            by=by,
        )
    plan_of_action(PLAN_START).with_status("brief-team", "done").record(register, by=by)
    summary, process = evaluation
    register.record_evaluation(
        kind="effect_and_process",
        run_date=dt.date(2025, 12, 31),
        results={"effect_summary": _records(summary), "process": _records(process)},
        by=by,
        run_id="evaluation-2025-12-31",
    )


@pytest.fixture
def register_path(folder: Path, evaluation: tuple[Any, Any]) -> Path:
    """The programme register in the folder, filled."""
    path = folder / "programme.sqlite"
    with open_register(path, create=True) as register:
        fill_register(register, evaluation)
    return path


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's folder (``benzoredux demo``: the whole programme on an invented practice,
    with its report.html), run once for the report's tests."""
    from click.testing import CliRunner

    from benzoredux.cli import main

    out = tmp_path_factory.mktemp("report-demo") / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
