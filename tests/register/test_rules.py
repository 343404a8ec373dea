"""The register's rules, on both stores: audit trail, corrections, idempotence, the
second-letter refusal, and each step's records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import polars as pl
import pytest

from benzoredux.models import Consult, LetterKind, Practice, StopLetter
from benzoredux.register import (
    LetterRefusedError,
    Register,
    RegisterError,
    ScreeningDecision,
)

Letter = Callable[..., StopLetter]


# --- audit trail and corrections --------------------------------------------------------------
def test_every_entry_records_who_and_when(register: Register, practice: Practice) -> None:
    entry = register.set_programme(
        practice, reference_date=dt.date(2025, 12, 31), by="apotheker", unit="fto_group"
    )
    assert entry.recorded_by == "apotheker"
    assert entry.recorded_at == dt.datetime(2026, 1, 5, 9, 1, tzinfo=dt.UTC)
    assert entry.revision == 1
    assert entry["gps"][1] == {"gp_id": "gp2", "name": "dr. B. de Vries", "agb_code": None}


@pytest.mark.parametrize("by", ["", "   "])
def test_a_change_without_who_is_refused(register: Register, by: str) -> None:
    with pytest.raises(RegisterError, match="say who"):
        register.set_task("t1", what="Selectie", by=by)
    assert register.history("tasks") == []


def test_a_correction_is_a_new_revision_and_the_old_one_stays(register: Register) -> None:
    register.set_task("t1", what="Selectie via SFK", who="apotheker", month=1, by="apotheker")
    corrected = register.correct(
        "tasks", ("t1",), who="huisarts", by="dr. Jansen", remark="huisarts doet de selectie"
    )
    history = register.history("tasks", ("t1",))
    assert [e.revision for e in history] == [1, 2]
    assert history[0]["who"] == "apotheker"  # not overwritten
    assert corrected["who"] == "huisarts"
    assert corrected.remark == "huisarts doet de selectie"
    assert corrected.recorded_by == "dr. Jansen"
    assert register.latest("tasks", ("t1",)) == corrected
    assert register.current("tasks") == [corrected]


def test_a_correction_needs_a_reason_and_cannot_change_the_key(register: Register) -> None:
    register.set_task("t1", what="Selectie", by="a")
    with pytest.raises(RegisterError, match="remark"):
        register.correct("tasks", ("t1",), who="b", by="a", remark=" ")
    with pytest.raises(RegisterError, match="key field"):
        register.correct("tasks", ("t1",), task_id="t2", by="a", remark="typo")
    with pytest.raises(RegisterError, match="not in the register"):
        register.correct("tasks", ("t9",), who="b", by="a", remark="typo")


def test_recording_the_same_again_adds_nothing(register: Register) -> None:
    first = register.set_task("t1", what="Selectie", by="a")
    again = register.set_task("t1", what="Selectie", by="b")
    assert again == first
    assert len(register.history("tasks")) == 1


def test_task_status_is_derived_from_the_latest_entry(register: Register) -> None:
    register.set_task("invite-1", what="Uitnodigingen batch 1", step="invite", month=5, by="a")
    register.set_task_status("invite-1", "in_progress", by="assistente")
    register.set_task_status("invite-1", "done", by="assistente", note="15 verstuurd")
    current = register.latest("tasks", ("invite-1",))
    assert current is not None
    assert (current["status"], current["note"], current.revision) == ("done", "15 verstuurd", 3)
    assert [e["status"] for e in register.history("tasks")] == ["open", "in_progress", "done"]
    with pytest.raises(RegisterError, match="no task"):
        register.set_task_status("nope", "done", by="a")
    with pytest.raises(ValueError, match="finished"):
        register.set_task_status("invite-1", "finished", by="a")


def test_bad_values_name_the_kind_and_field(register: Register) -> None:
    with pytest.raises(RegisterError, match=r"phone_calls\.called_on must be a date"):
        register.record_call("p1", called_on="2026-03-16", outcome="no_answer", by="a")  # type: ignore[arg-type]
    with pytest.raises(RegisterError, match=r"no kind 'letter'; kinds: programme"):
        register.history("letter")


# --- the programme and the selection ----------------------------------------------------------
def test_programme_holds_criteria_and_options(register: Register, practice: Practice) -> None:
    assert register.programme() is None
    register.set_programme(
        practice,
        reference_date=dt.date(2025, 12, 31),
        by="apotheker",
        criteria={"terminal": True, "not_dutch": False},
        options={"batch_size": 15},
    )
    register.set_programme(
        practice,
        reference_date=dt.date(2026, 1, 31),
        by="apotheker",
        criteria={"terminal": True, "not_dutch": False},
        options={"batch_size": 15},
        remark="selectie een maand later",
    )
    programme = register.programme()
    assert programme is not None
    assert programme["reference_date"] == dt.date(2026, 1, 31)
    assert programme["criteria"] == {"terminal": True, "not_dutch": False}
    assert programme.revision == 2


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_selection_snapshot_keeps_the_rows(register: Register, kind: str) -> None:
    rows = {
        "patient_id": ["p1", "p2"],
        "gp_id": ["gp1", None],
        "units": [180.0, float("nan")],
        "last_dispensed": [dt.date(2025, 12, 1), dt.date(2025, 11, 2)],
    }
    frame = pd.DataFrame(rows) if kind == "pandas" else pl.DataFrame(rows)
    snapshot = register.snapshot_selection(
        frame, reference_date=dt.date(2025, 12, 31), by="apotheker", source="AIS"
    )
    assert (snapshot["snapshot_id"], snapshot["rows"]) == (1, 2)
    kept = register.selection()
    assert kept["patient_id"].tolist() == ["p1", "p2"]
    assert kept["gp_id"].tolist() == ["gp1", ""]
    assert kept["units"].iloc[0] == 180.0
    assert pd.isna(kept["units"].iloc[1])
    assert kept["last_dispensed"].tolist() == ["2025-12-01", "2025-11-02"]
    # Re-running the step with the same selection does not make a second snapshot ...
    again = register.snapshot_selection(frame, reference_date=dt.date(2025, 12, 31), by="x")
    assert again == snapshot
    # ... a changed one does, and the first stays readable.
    register.snapshot_selection(
        pd.DataFrame({"patient_id": ["p1"]}), reference_date=dt.date(2025, 12, 31), by="x"
    )
    assert register.selection()["patient_id"].tolist() == ["p1"]
    assert register.selection(1)["patient_id"].tolist() == ["p1", "p2"]


def test_selection_snapshot_refuses_duplicates_and_missing_ids(register: Register) -> None:
    with pytest.raises(RegisterError, match="row 2: patient_id 'p1' occurs twice"):
        register.snapshot_selection(
            pd.DataFrame({"patient_id": ["p1", "p1"]}), reference_date=dt.date(2025, 12, 31), by="a"
        )
    with pytest.raises(KeyError, match="patient_id"):
        register.snapshot_selection(
            pd.DataFrame({"id": ["p1"]}), reference_date=dt.date(2025, 12, 31), by="a"
        )
    assert register.history("selections") == []
    assert register.history("selection_rows") == []
    with pytest.raises(RegisterError, match="no selection"):
        register.selection()


def test_a_snapshot_cannot_be_corrected(register: Register) -> None:
    register.snapshot_selection(
        pd.DataFrame({"patient_id": ["p1"]}), reference_date=dt.date(2025, 12, 31), by="a"
    )
    with pytest.raises(RegisterError, match="cannot be changed"):
        register.correct("selections", (1,), source="HIS", by="a", remark="wrong source")


# --- screening --------------------------------------------------------------------------------
def test_gp_decision_wins_over_proposal_and_override_is_recorded(register: Register) -> None:
    register.record_screening(
        [
            ScreeningDecision(patient_id="p1", excluded=True, reasons=["too_many_ddd"]),
            ScreeningDecision(patient_id="p2", excluded=False),
        ],
        source="proposal",
        by="benzoredux",
    )
    register.record_screening(
        [ScreeningDecision(patient_id="p1", excluded=False, note="wil het proberen")],
        by="dr. Jansen",
    )
    # Screening is run again later: the new proposal is kept, the GP's decision stays in force.
    register.record_screening(
        [ScreeningDecision(patient_id="p1", excluded=True, reasons=["terminal"])],
        source="proposal",
        by="benzoredux",
    )
    decided = register.screening()
    assert decided["p1"]["source"] == "gp"
    assert decided["p1"]["excluded"] is False
    assert decided["p1"]["overrides_proposal"] is True
    assert decided["p1"].recorded_by == "dr. Jansen"
    assert decided["p2"]["source"] == "proposal"
    proposals = register.history("screening", ("p1", "proposal"))
    assert [e["reasons"] for e in proposals] == [["too_many_ddd"], ["terminal"]]


def test_gp_agreeing_with_the_proposal_is_not_an_override(register: Register) -> None:
    register.record_screening(
        [ScreeningDecision(patient_id="p1", excluded=True, reasons=["terminal"])],
        source="proposal",
        by="benzoredux",
    )
    added = register.record_screening(
        [ScreeningDecision(patient_id="p1", excluded=True, reasons=["terminal"])], by="dr. J"
    )
    assert added[0]["overrides_proposal"] is False
    assert (
        register.record_screening(
            [ScreeningDecision(patient_id="p1", excluded=True, reasons=["terminal"])], by="dr. J"
        )
        == []
    )  # the same decision again adds nothing


# --- letters ----------------------------------------------------------------------------------
def test_resending_the_same_batch_does_not_duplicate_letters(
    register: Register, stop_letter: Letter
) -> None:
    batch = [stop_letter("p1"), stop_letter("p2")]
    first = register.record_letters(batch, by="assistente")
    second = register.record_letters(batch, by="assistente")
    assert len(first.recorded) == 2
    assert second.recorded == ()
    assert [e.entry_id for e in second.unchanged] == [e.entry_id for e in first.recorded]
    assert len(register.history("letters")) == 2


def test_a_second_stop_letter_is_refused_and_nothing_is_recorded(
    register: Register, stop_letter: Letter
) -> None:
    register.record_letters([stop_letter("p1", batch=1)], by="assistente")
    with pytest.raises(LetterRefusedError) as refused:
        register.record_letters([stop_letter("p2", batch=2), stop_letter("p1", batch=2)], by="a")
    assert refused.value.patient_ids == ("p1",)
    assert [e["patient_id"] for e in register.letters()] == ["p1"]  # p2 not recorded either


def test_a_stop_letter_twice_in_one_call_is_refused(
    register: Register, stop_letter: Letter
) -> None:
    with pytest.raises(LetterRefusedError):
        register.record_letters([stop_letter("p1", batch=1), stop_letter("p1", batch=2)], by="a")
    assert register.letters() == []


def test_forcing_a_second_stop_letter_is_recorded_with_its_reason(
    register: Register, stop_letter: Letter
) -> None:
    register.record_letters([stop_letter("p1", batch=1)], by="assistente")
    with pytest.raises(RegisterError, match="needs a reason"):
        register.record_letters([stop_letter("p1", batch=2)], by="a", force={"p1": " "})
    result = register.record_letters(
        [stop_letter("p1", batch=2)],
        by="dr. Jansen",
        force={"p1": "eerste brief kwam retour (verhuisd)"},
    )
    (forced,) = result.recorded
    assert forced["forced"] is True
    assert forced["force_reason"] == "eerste brief kwam retour (verhuisd)"
    assert forced.recorded_by == "dr. Jansen"
    first = register.stop_letter("p1")
    assert first is not None
    assert (first["batch"], first["forced"]) == (1, False)
    assert len(register.letters("stop_letter")) == 2


def test_skip_refused_records_the_others(register: Register, stop_letter: Letter) -> None:
    register.record_letters([stop_letter("p1", batch=1)], by="a")
    result = register.record_letters(
        [stop_letter("p1", batch=2), stop_letter("p2", batch=2)], by="a", skip_refused=True
    )
    assert result.refused == ("p1",)
    assert [e["patient_id"] for e in result.recorded] == ["p2"]


def test_check_letters_records_nothing(register: Register, stop_letter: Letter) -> None:
    register.record_letters([stop_letter("p1", batch=1)], by="a")
    check = register.check_letters([stop_letter("p1", batch=2), stop_letter("p2", batch=2)])
    assert check.refused == ("p1",)
    assert [e["patient_id"] for e in check.recorded] == ["p2"]
    assert len(register.history("letters")) == 1


def test_invitations_are_not_limited_to_one(register: Register) -> None:
    def invitation(batch: int) -> StopLetter:
        return StopLetter(
            patient_id="p1",
            kind=LetterKind.INVITATION,
            gp_ids=["gp1"],
            letter_date=dt.date(2026, 5, batch),
            batch=batch,
        )

    register.record_letters([invitation(1)], by="a")
    register.record_letters([invitation(2)], by="a")
    assert len(register.letters("invitation")) == 2
    assert register.stop_letter("p1") is None


def test_a_withdrawn_letter_no_longer_counts(register: Register, stop_letter: Letter) -> None:
    register.record_letters([stop_letter("p1", batch=1)], by="a")
    withdrawn = register.withdraw_letter(
        "p1", "stop_letter", 1, by="assistente", remark="per ongeluk geregistreerd"
    )
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn.revision == 2
    assert register.letters() == []
    result = register.record_letters([stop_letter("p1", batch=2)], by="a")  # no force needed
    assert result.recorded[0]["forced"] is False


def test_sent_date_defaults_to_the_letter_date(register: Register) -> None:
    letter = StopLetter(
        patient_id="p1",
        gp_ids=["gp1", "gp2"],
        pharmacist_ids=["ap1"],
        letter_date=dt.date(2026, 2, 2),
        sent_date=dt.date(2026, 2, 3),
    )
    (entry,) = register.record_letters([letter], by="a").recorded
    assert (entry["batch"], entry["sent_date"]) == (0, dt.date(2026, 2, 3))
    assert entry["gp_ids"] == ["gp1", "gp2"]
    assert entry["pharmacist_ids"] == ["ap1"]


# --- calls, consults, evaluations -------------------------------------------------------------
def test_phone_call_outcome_is_corrected_by_a_new_revision(register: Register) -> None:
    register.record_call("p1", called_on=dt.date(2026, 3, 16), outcome="no_answer", by="a")
    register.record_call(
        "p1",
        called_on=dt.date(2026, 3, 16),
        outcome="appointment_made",
        by="a",
        invitation_batch=1,
    )
    (current,) = register.current("phone_calls")
    assert (current["outcome"], current["invitation_batch"], current.revision) == (
        "appointment_made",
        1,
        2,
    )
    with pytest.raises(ValueError, match="maybe"):
        register.record_call("p1", called_on=dt.date(2026, 3, 17), outcome="maybe", by="a")


def test_consult_is_recorded_from_the_model(register: Register) -> None:
    consult = Consult(
        patient_id="p1",
        date=dt.date(2026, 3, 25),
        held_by="poh_ggz",
        outcome="tapering",
        plan="afbouwschema 8 weken",
        scores={"bwsq_total": 12},
    )
    entry = register.record_consult(consult, by="poh-ggz")
    assert entry["held_by"] == "poh_ggz"
    assert entry["outcome"] == "tapering"
    assert entry["scores"] == {"bwsq_total": 12}
    assert register.record_consult(consult, by="poh-ggz") == entry


def test_evaluation_runs_are_numbered(register: Register) -> None:
    first = register.record_evaluation(
        kind="process", run_date=dt.date(2026, 4, 1), results={"letters_sent": 40}, by="a"
    )
    second = register.record_evaluation(
        kind="effect",
        run_date=dt.date(2027, 1, 1),
        results={"stopped_pct": 27.5},
        parameters={"follow_up_months": 9},
        by="a",
    )
    assert (first["run_id"], second["run_id"]) == ("run-1", "run-2")
    assert second["results"] == {"stopped_pct": 27.5}


def test_summary_counts(register: Register, practice: Practice, stop_letter: Letter) -> None:
    register.set_programme(practice, reference_date=dt.date(2025, 12, 31), by="a")
    register.record_letters([stop_letter("p1"), stop_letter("p2")], by="a")
    register.record_letters([stop_letter("p1", batch=2)], by="a", force={"p1": "retour"})
    summary = register.summary()
    assert summary["programme"] == "FTO Voorbeeld"
    assert (summary["stop_letters"], summary["forced_stop_letters"]) == (3, 1)
    assert summary["entries"] == 4
