"""Domain records: validation with messages that name the field (and never personal data)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from benzoredux import (
    ATCCode,
    Consult,
    ConsultOutcome,
    Dispensing,
    Episode,
    ExclusionCriterion,
    GeneralPractitioner,
    LetterKind,
    Patient,
    PatientStatus,
    Practice,
    Sex,
    StopLetter,
)


def test_patient_normalises_postcode_and_checks_bsn_without_echoing_it() -> None:
    patient = Patient(patient_id="p1", postcode="2601dc", bsn="123456782", sex="F")
    assert patient.postcode == "2601 DC"
    assert patient.sex is Sex.FEMALE
    assert "123456782" not in repr(patient)
    with pytest.raises(ValueError, match="bsn is not a valid burgerservicenummer") as info:
        Patient(patient_id="p1", bsn="123456789")
    assert "123456789" not in str(info.value)
    with pytest.raises(ValueError, match="postcode"):
        Patient(patient_id="p1", postcode="0123 AB")


def test_patient_status_needs_a_date_after_birth() -> None:
    with pytest.raises(ValueError, match="status_date is required when status is moved"):
        Patient(patient_id="p1", status="moved")
    with pytest.raises(ValueError, match=r"status_date .* is before birth_date"):
        Patient(
            patient_id="p1",
            birth_date=dt.date(1950, 1, 1),
            status=PatientStatus.DECEASED,
            status_date=dt.date(1940, 1, 1),
        )
    with pytest.raises(ValueError, match="implausibly early"):
        Patient(patient_id="p1", birth_date=dt.date(1800, 1, 1))


def test_formal_name_in_dutch_order() -> None:
    patient = Patient(patient_id="p", initials="J.", name_prefix="van der", family_name="Meer")
    assert patient.formal_name == "J. van der Meer"


def test_records_are_frozen() -> None:
    patient = Patient(patient_id="p1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        patient.gp_id = "g1"  # type: ignore[misc]


def test_dispensing_validates_atc_quantity_strength_and_channel() -> None:
    item = Dispensing(patient_id="p", date=dt.date(2025, 1, 1), atc="n05ba01", quantity=-30)
    assert item.atc == ATCCode("N05BA01")
    assert item.is_return
    with pytest.raises(ValueError, match="well-formed ATC code"):
        Dispensing(patient_id="p", date=dt.date(2025, 1, 1), atc="N05BA", quantity=30)
    with pytest.raises(ValueError, match="quantity must be a finite number"):
        Dispensing(patient_id="p", date=dt.date(2025, 1, 1), atc="N05BA01", quantity=float("nan"))
    with pytest.raises(ValueError, match="strength_mg must be a positive number"):
        Dispensing(
            patient_id="p", date=dt.date(2025, 1, 1), atc="N05BA01", quantity=1, strength_mg=0
        )
    with pytest.raises(ValueError, match="channel"):
        Dispensing(
            patient_id="p", date=dt.date(2025, 1, 1), atc="N05BA01", quantity=1, channel="fax"
        )
    with pytest.raises(ValueError, match="patient_id must not be empty"):
        Dispensing(patient_id=" ", date=dt.date(2025, 1, 1), atc="N05BA01", quantity=1)


def test_episode_end_not_before_start() -> None:
    assert Episode(patient_id="p", icpc="p06").icpc.value == "P06"
    with pytest.raises(ValueError, match=r"end .* is before start"):
        Episode(patient_id="p", icpc="P06", start=dt.date(2025, 1, 2), end=dt.date(2025, 1, 1))


def test_practice_and_gps() -> None:
    gp = GeneralPractitioner(gp_id="g1", name="dr. A. de Vries", agb_code="01234567")
    practice = Practice(practice_id="x", name="Huisartsen De Linde", gps=[gp])
    assert practice.gp("g1") is gp
    with pytest.raises(KeyError):
        practice.gp("g2")
    with pytest.raises(ValueError, match="GP id occurs twice"):
        Practice(practice_id="x", name="x", gps=[gp, gp])
    with pytest.raises(ValueError, match="agb_code"):
        GeneralPractitioner(gp_id="g1", name="x", agb_code="123")


def test_exclusion_criterion_key_and_switch() -> None:
    criterion = ExclusionCriterion(
        key="ddd_above", label="Meer dan 2 DDD per dag", parameters={"max_ddd_per_day": 2}
    )
    assert criterion.switched(enabled=False).enabled is False
    assert criterion.enabled is True
    with pytest.raises(ValueError, match="key"):
        ExclusionCriterion(key="Not A Key", label="x")


def test_stop_letter_needs_a_signing_gp_and_sensible_dates() -> None:
    letter = StopLetter(patient_id="p", gp_ids=["g1"], letter_date=dt.date(2025, 3, 1))
    assert letter.kind is LetterKind.STOP_LETTER
    with pytest.raises(ValueError, match="at least one GP"):
        StopLetter(patient_id="p", gp_ids=[], letter_date=dt.date(2025, 3, 1))
    with pytest.raises(ValueError, match=r"sent_date .* is before letter_date"):
        StopLetter(
            patient_id="p",
            gp_ids=["g1"],
            letter_date=dt.date(2025, 3, 1),
            sent_date=dt.date(2025, 2, 1),
        )
    with pytest.raises(ValueError, match="batch"):
        StopLetter(patient_id="p", gp_ids=["g1"], letter_date=dt.date(2025, 3, 1), batch=0)


def test_consult_outcomes_and_phone() -> None:
    consult = Consult(
        patient_id="p",
        date=dt.date(2025, 6, 1),
        held_by="poh_ggz",
        outcome="reduced",
        note="persoonlijk",
    )
    assert consult.outcome is ConsultOutcome.REDUCED
    assert "persoonlijk" not in repr(consult)
    with pytest.raises(ValueError, match="by phone counts as attended"):
        Consult(
            patient_id="p", date=dt.date(2025, 6, 1), held_by="gp", attended=False, by_phone=True
        )
    with pytest.raises(ValueError, match="not a valid ConsultOutcome"):
        Consult(patient_id="p", date=dt.date(2025, 6, 1), held_by="gp", outcome="cured")
