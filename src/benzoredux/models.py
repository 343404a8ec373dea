"""Domain records: what a person handles one at a time.

A GP screens *a* patient, signs *a* letter, holds *a* consult: these are frozen, validated attrs
classes. Whole tables (thousands of dispensings) never become lists of records; the algorithms
work on dataframes (:mod:`benzoredux.tables`). The records check what can be checked on one
record (a well-formed ATC code, a BSN that passes the 11-test, a status date for a deceased
patient) and say which field is wrong.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import Attribute, field, frozen, validators
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

from benzoredux.codes import ATCCode, ICPCCode

__all__ = [
    "LEFT_PRACTICE",
    "CallOutcome",
    "Consult",
    "ConsultOutcome",
    "ConsultRole",
    "Dispensing",
    "Episode",
    "ExclusionCriterion",
    "GeneralPractitioner",
    "LetterKind",
    "LetterStatus",
    "Patient",
    "PatientStatus",
    "Pharmacist",
    "Practice",
    "ProgrammeUnit",
    "ScreeningSource",
    "Sex",
    "StopLetter",
    "TaskStatus",
]


class Sex(enum.StrEnum):
    """Registered sex. Dutch systems write ``V`` (vrouw) for female: adapters map it to ``F``."""

    MALE = "M"
    FEMALE = "F"
    OTHER_OR_UNKNOWN = "X"


class PatientStatus(enum.StrEnum):
    """Whether a patient still belongs to the practice; evaluation censors the others."""

    ACTIVE = "active"
    DECEASED = "deceased"
    MOVED = "moved"
    CHANGED_GP = "changed_gp"


LEFT_PRACTICE: tuple[str, ...] = tuple(
    status.value for status in PatientStatus if status is not PatientStatus.ACTIVE
)
"""The statuses of a patient who left the practice (died, moved, changed GP): the one
definition the patients table, the selection (leaves them out) and the effect evaluation
(censors them: FTO module, bijlage 4) share."""


class LetterKind(enum.StrEnum):
    """The two letters of the intervention."""

    STOP_LETTER = "stop_letter"
    INVITATION = "invitation"


class ConsultRole(enum.StrEnum):
    """Who holds the evaluation consult: the GP or the mental-health practice nurse (POH-GGZ)."""

    GP = "gp"
    POH_GGZ = "poh_ggz"


class ConsultOutcome(enum.StrEnum):
    """Where the patient stands at the evaluation consult."""

    STOPPED = "stopped"
    TAPERING = "tapering"
    REDUCED = "reduced"
    CONTINUING = "continuing"
    REFERRED = "referred"


def _optional_sex(value: str | Sex | None) -> Sex | None:
    return None if value is None else Sex(value)


def _optional_outcome(value: str | ConsultOutcome | None) -> ConsultOutcome | None:
    return None if value is None else ConsultOutcome(value)


def _as_atc(value: str | ATCCode) -> ATCCode:
    return value if isinstance(value, ATCCode) else ATCCode(value)


def _as_icpc(value: str | ICPCCode) -> ICPCCode:
    return value if isinstance(value, ICPCCode) else ICPCCode(value)


def _non_empty(_instance: object, attribute: Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _optional_bsn(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(stdnum_bsn.validate(value))
    except StdnumValidationError as exc:
        # The value itself is personal data: say what is wrong, not what it was.
        raise ValueError(f"bsn is not a valid burgerservicenummer ({exc})") from None


def _optional_postcode(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(stdnum_postcode.validate(value))
    except StdnumValidationError:
        raise ValueError("postcode is not a Dutch postcode (1234 AB)") from None


def _optional_date_not_before(
    other: str,
) -> Callable[[object, Attribute[Any], dt.date | None], None]:
    def check(instance: object, attribute: Attribute[Any], value: dt.date | None) -> None:
        earlier = getattr(instance, other)
        if value is not None and earlier is not None and value < earlier:
            raise ValueError(f"{attribute.name} ({value}) is before {other} ({earlier})")

    return check


@frozen(kw_only=True)
class Patient:
    """A patient as the practice registers them.

    >>> Patient(patient_id="p1", status=PatientStatus.DECEASED)
    Traceback (most recent call last):
    ...
    ValueError: status_date is required when status is deceased
    """

    patient_id: str = field(validator=_non_empty)
    gp_id: str | None = None
    """The GP the patient is listed with."""
    birth_date: dt.date | None = None
    sex: Sex | None = field(default=None, converter=_optional_sex)
    initials: str | None = None
    first_name: str | None = None
    name_prefix: str | None = None
    """Tussenvoegsel (``van``, ``de``): sorted and addressed separately in Dutch."""
    family_name: str | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = field(default=None, converter=_optional_postcode)
    """Normalised to ``1234 AB``."""
    city: str | None = None
    bsn: str | None = field(default=None, converter=_optional_bsn, repr=False)
    """Burgerservicenummer, checked with the 11-test; never shown in ``repr``."""
    status: PatientStatus = field(default=PatientStatus.ACTIVE, converter=PatientStatus)
    status_date: dt.date | None = field(
        default=None, validator=_optional_date_not_before("birth_date")
    )

    def __attrs_post_init__(self) -> None:
        if self.status is not PatientStatus.ACTIVE and self.status_date is None:
            raise ValueError(f"status_date is required when status is {self.status.value}")
        if self.birth_date is not None and self.birth_date.year < 1850:
            raise ValueError(f"birth_date {self.birth_date} is implausibly early")

    @property
    def formal_name(self) -> str:
        """Name as a Dutch letter addresses it: initials, tussenvoegsel, family name."""
        parts = (self.initials, self.name_prefix, self.family_name)
        return " ".join(p for p in parts if p)


def _finite(_instance: object, attribute: Attribute[Any], value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be a finite number, got {value!r}")


def _positive_or_none(_instance: object, attribute: Attribute[Any], value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


@frozen(kw_only=True)
class Dispensing:
    """One dispensing (or, with a negative quantity, a return) of one product.

    >>> Dispensing(patient_id="p1", date=dt.date(2025, 3, 1), atc="N05BA4", quantity=30)
    Traceback (most recent call last):
    ...
    ValueError: 'N05BA4' is not a well-formed ATC code (7 characters, such as N05BA01)
    """

    patient_id: str = field(validator=_non_empty)
    date: dt.date
    atc: ATCCode = field(converter=_as_atc)
    quantity: float = field(converter=float, validator=_finite)
    """Units; negative for a return."""
    strength_mg: float | None = field(default=None, validator=_positive_or_none)
    form: str | None = None
    days_supply: float | None = field(default=None, validator=_positive_or_none)
    """Days the dispensing lasts by its dosage instruction (MP9 ``daysSupply``), if given."""
    prescriber_id: str | None = None
    pharmacy_id: str | None = None
    channel: str | None = field(
        default=None,
        validator=validators.optional(
            validators.in_(("consult", "telephone_consult", "repeat_prescription", "other"))
        ),
    )

    @property
    def is_return(self) -> bool:
        """A negative quantity: a return, netted out against dispensings."""
        return self.quantity < 0


@frozen(kw_only=True)
class Episode:
    """An ICPC episode from the GP system (the GP route and screening read these)."""

    patient_id: str = field(validator=_non_empty)
    icpc: ICPCCode = field(converter=_as_icpc)
    start: dt.date | None = None
    end: dt.date | None = field(default=None, validator=_optional_date_not_before("start"))


_AGB = validators.optional(validators.matches_re(r"^[0-9]{8}$"))


@frozen(kw_only=True)
class GeneralPractitioner:
    """A GP (huisarts) who signs letters and to whom patients are attributed."""

    gp_id: str = field(validator=_non_empty)
    name: str = field(validator=_non_empty)
    """As signed under a letter: ``dr. A. de Vries``."""
    agb_code: str | None = field(default=None, validator=_AGB)
    """The 8-digit AGB code, if known."""
    practice_id: str | None = None


@frozen(kw_only=True)
class Pharmacist:
    """A community pharmacist (apotheker) who may co-sign letters and provides the selection."""

    pharmacist_id: str = field(validator=_non_empty)
    name: str = field(validator=_non_empty)
    pharmacy_name: str | None = None
    agb_code: str | None = field(default=None, validator=_AGB)


@frozen(kw_only=True)
class Practice:
    """A practice or FTO group: its GPs and, for letters, its address."""

    practice_id: str = field(validator=_non_empty)
    name: str = field(validator=_non_empty)
    gps: tuple[GeneralPractitioner, ...] = field(converter=tuple, factory=tuple)
    pharmacists: tuple[Pharmacist, ...] = field(converter=tuple, factory=tuple)
    address: str | None = None
    phone: str | None = None

    def __attrs_post_init__(self) -> None:
        ids = [gp.gp_id for gp in self.gps]
        if len(ids) != len(set(ids)):
            raise ValueError(f"practice {self.practice_id}: a GP id occurs twice")

    def gp(self, gp_id: str) -> GeneralPractitioner:
        """The GP with ``gp_id``."""
        for gp in self.gps:
            if gp.gp_id == gp_id:
                return gp
        raise KeyError(f"practice {self.practice_id} has no GP {gp_id!r}")


@frozen(kw_only=True)
class ExclusionCriterion:
    """A screening criterion the GP can switch on or off (FTO module, bijlage 2, step 2).

    The record describes the criterion; deciding it for a table of patients is the screening
    step's work. ``key`` is stable (it is stored with every decision), ``label`` is what the
    GP reads.
    """

    key: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9_]*$"))
    label: str = field(validator=_non_empty)
    description: str = ""
    enabled: bool = True
    source: str = "benzoredux"
    """Who contributes it: ``benzoredux`` for built-ins, else the plugin's name."""
    parameters: Mapping[str, Any] = field(factory=dict, converter=dict)
    """Thresholds and code lists, e.g. ``{"max_ddd_per_day": 2}``."""

    def switched(self, *, enabled: bool) -> ExclusionCriterion:
        """The same criterion, switched on or off."""
        from attrs import evolve

        return evolve(self, enabled=enabled)


@frozen(kw_only=True)
class StopLetter:
    """A stop letter or an invitation for the evaluation consult, for one patient.

    Signed by one or more GPs and optionally the pharmacist(s) (FTO module, step 3).
    """

    patient_id: str = field(validator=_non_empty)
    kind: LetterKind = field(default=LetterKind.STOP_LETTER, converter=LetterKind)
    gp_ids: tuple[str, ...] = field(converter=tuple)
    pharmacist_ids: tuple[str, ...] = field(converter=tuple, factory=tuple)
    letter_date: dt.date
    """The date printed on the letter."""
    batch: int | None = field(default=None, validator=validators.optional(validators.ge(1)))
    sent_date: dt.date | None = field(
        default=None, validator=_optional_date_not_before("letter_date")
    )
    template: str = "default"

    @gp_ids.validator
    def _at_least_one_gp(self, _attribute: Attribute[Any], value: tuple[str, ...]) -> None:
        if not value:
            raise ValueError("a letter is signed by at least one GP (gp_ids is empty)")


def _score_dict(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


@frozen(kw_only=True)
class Consult:
    """An evaluation consult about three months after the stop letter (FTO module, step 5)."""

    patient_id: str = field(validator=_non_empty)
    date: dt.date
    held_by: ConsultRole = field(converter=ConsultRole)
    clinician_id: str | None = None
    """Who held it: the GP's or POH-GGZ's id (as in ``gp_id``), when recorded."""
    attended: bool = True
    """False when the patient did not come (then outcome is usually unknown)."""
    by_phone: bool = False
    outcome: ConsultOutcome | None = field(default=None, converter=_optional_outcome)
    plan: str = field(default="", repr=False)
    """The agreed plan (a tapering schedule, a follow-up date, ...): left out of ``repr``."""
    scores: Mapping[str, float] = field(factory=dict, converter=_score_dict)
    """Questionnaire scores by name (``bendep_srq_problematic_use``, ``bwsq_total``, ...); see
    :mod:`benzoredux.consult.questionnaires`."""
    note: str = field(default="", repr=False)
    """Free text: may hold personal details, so it is left out of ``repr``."""

    @scores.validator
    def _check_scores(self, _attribute: Attribute[Any], value: Mapping[str, float]) -> None:
        for name, score in value.items():
            if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
                raise ValueError(f"score name {name!r} must be a name like 'bwsq_total'")
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise ValueError(f"score {name} must be a number, got {type(score).__name__}")
            if not math.isfinite(score):
                raise ValueError(f"score {name} must be a finite number, got {score!r}")

    def __attrs_post_init__(self) -> None:
        if not self.attended and self.by_phone:
            raise ValueError("a consult by phone counts as attended (attended=True)")

    @property
    def contact(self) -> str:
        """``in_person``, ``phone`` or ``did_not_attend``: the ``contact`` column of the table.

        >>> Consult(patient_id="p1", date=dt.date(2025, 9, 1), held_by="gp", by_phone=True).contact
        'phone'
        """
        if not self.attended:
            return "did_not_attend"
        return "phone" if self.by_phone else "in_person"


# -- The programme's terms, recorded in the register (benzoredux.register) ---------------------


class ProgrammeUnit(enum.StrEnum):
    """Who runs the programme: one practice, or an FTO group of GPs and pharmacists."""

    PRACTICE = "practice"
    FTO_GROUP = "fto_group"


class ScreeningSource(enum.StrEnum):
    """Who made a screening decision: the program's proposal, or the GP (who decides)."""

    PROPOSAL = "proposal"
    GP = "gp"


class CallOutcome(enum.StrEnum):
    """The outcome of a phone call to a patient who did not respond to the invitation."""

    APPOINTMENT_MADE = "appointment_made"
    DECLINED = "declined"
    ALREADY_STOPPED = "already_stopped"
    CALL_BACK_LATER = "call_back_later"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"
    OTHER = "other"


class TaskStatus(enum.StrEnum):
    """Where a task of the plan of action stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"


class LetterStatus(enum.StrEnum):
    """A recorded letter is sent, or withdrawn by a correction (recorded by mistake)."""

    SENT = "sent"
    WITHDRAWN = "withdrawn"
