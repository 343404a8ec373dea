"""What the register holds: one record kind per thing the programme decides or does.

The register is an *append-only log*: every change is a new entry of its kind, stamped with who
made it and when, and numbered per key (``revision`` 1, 2, ...). Nothing is overwritten; a
correction is a new revision with a remark saying why. The current state of a key is its
latest revision. This module describes the kinds independently of where they are stored, so
the SQLite store, the in-memory store, the CSV export and an HIS add-on's own store all agree
on the same fields.

>>> from benzoredux.register.schema import KINDS
>>> KINDS["letters"].key
('patient_id', 'kind', 'batch')
>>> [f.name for f in KINDS["phone_calls"].fields][:3]
['patient_id', 'called_on', 'outcome']
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from attrs import frozen

from benzoredux.models import (
    CallOutcome,
    LetterStatus,
    ProgrammeUnit,
    ScreeningSource,
    TaskStatus,
)
from benzoredux.register.errors import RegisterError

__all__ = [
    "AUDIT_COLUMNS",
    "KINDS",
    "CallOutcome",
    "FieldSpec",
    "KindSpec",
    "LetterStatus",
    "ProgrammeUnit",
    "ScreeningSource",
    "TaskStatus",
]

FieldType = Literal["text", "integer", "real", "bool", "date", "json"]

# The register's enums (ProgrammeUnit, ScreeningSource, CallOutcome, TaskStatus, LetterStatus)
# are domain terms: they live with the other domain enums in benzoredux.models, and are imported
# here for the record kinds that use them (and for older imports from this module).


@frozen
class FieldSpec:
    """One field of a record kind.

    Text fields are never missing (``""`` stands for "none"); integer, real and date fields may
    be ``None``; booleans and JSON values are always present.
    """

    name: str
    type: FieldType
    description: str
    required: bool = False
    """A value must be given (``None`` or ``""`` is refused)."""
    choices: tuple[str, ...] = ()
    """For text fields: the allowed values."""


@frozen
class KindSpec:
    """A record kind: its key fields (which identify what an entry is about) and its fields."""

    name: str
    description: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    immutable: bool = False
    """Entries of this kind are never corrected (a selection snapshot is taken once)."""

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    def key_of(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key of an entry with ``data``."""
        return tuple(data[name] for name in self.key)

    def describe_key(self, key: tuple[Any, ...]) -> str:
        """``patient_id='p1', kind='stop_letter'``: a key for messages (identifiers only)."""
        if not self.key:
            return "(the programme)"
        return ", ".join(f"{name}={value!r}" for name, value in zip(self.key, key, strict=True))

    def normalise(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` checked against the fields, with defaults filled in and enums as text.

        Raises :class:`~benzoredux.register.errors.RegisterError` naming the kind and field.
        """
        unknown = sorted(set(data) - set(self.names))
        if unknown:
            raise RegisterError(f"{self.name}: unknown field(s) {', '.join(map(repr, unknown))}")
        return {
            spec.name: _normalise_value(self.name, spec, data.get(spec.name))
            for spec in self.fields
        }


AUDIT_COLUMNS = ("entry_id", "revision", "recorded_at", "recorded_by", "remark")
"""The columns every kind has besides its fields: which entry, which revision of its key, when
(UTC), by whom, and why (a correction's reason)."""


def _normalise_value(kind: str, spec: FieldSpec, value: Any) -> Any:
    where = f"{kind}.{spec.name}"
    if isinstance(value, enum.Enum):
        value = value.value
    if spec.type == "text":
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise RegisterError(f"{where} must be text, got {type(value).__name__}")
        if spec.required and not value.strip():
            raise RegisterError(f"{where} must not be empty")
        if spec.choices and value and value not in spec.choices:
            raise RegisterError(f"{where} must be one of {', '.join(spec.choices)}; got {value!r}")
        return value
    if spec.type == "json":
        try:
            return json.loads(json.dumps(value, default=_json_default, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise RegisterError(f"{where} cannot be stored as JSON: {error}") from None
    if value is None:
        if spec.required or spec.type == "bool":
            raise RegisterError(f"{where} is required")
        return None
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise RegisterError(f"{where} must be true or false, got {type(value).__name__}")
        return value
    if spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RegisterError(f"{where} must be a whole number, got {type(value).__name__}")
        return value
    if spec.type == "real":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise RegisterError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    # date
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise RegisterError(f"{where} must be a date (datetime.date), got {type(value).__name__}")
    return value


def _json_default(value: Any) -> Any:
    """Dates as ISO text, numpy/pandas scalars as Python numbers, missing values as null."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy and pandas scalars
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            return None
        return item
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _text(name: str, description: str, **kwargs: Any) -> FieldSpec:
    return FieldSpec(name, "text", description, **kwargs)


def _choices(enum_type: type[enum.StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum_type)


_PATIENT = _text(
    "patient_id", "The patient's id in the source system (no name, no BSN).", required=True
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "programme",
            "The programme itself: who runs it, the reference date, the chosen criteria.",
            key=(),
            fields=(
                _text("name", "A name for the programme (e.g. 'FTO Noord 2026').", required=True),
                _text(
                    "unit", "practice or fto_group.", required=True, choices=_choices(ProgrammeUnit)
                ),
                _text("practice_id", "The practice or FTO group's id.", required=True),
                FieldSpec("gps", "json", "The GPs: a list of {gp_id, name, agb_code}."),
                FieldSpec("pharmacists", "json", "The pharmacists: {pharmacist_id, name, ...}."),
                FieldSpec(
                    "reference_date", "date", "The selection's reference date.", required=True
                ),
                FieldSpec(
                    "criteria", "json", "Screening criteria by key: switched on (true) or off."
                ),
                FieldSpec("options", "json", "Other choices (selection options, batch size, ...)."),
            ),
        ),
        KindSpec(
            "selections",
            "A selection snapshot: the chronic users as selected, kept as they were.",
            key=("snapshot_id",),
            immutable=True,
            fields=(
                FieldSpec("snapshot_id", "integer", "1, 2, ... in the order taken.", required=True),
                FieldSpec(
                    "reference_date", "date", "The reference date of the selection.", required=True
                ),
                _text("source", "Where the selection came from (AIS, HIS, SFK, a file name)."),
                FieldSpec("rows", "integer", "Number of patients in the snapshot.", required=True),
                FieldSpec("columns", "json", "The columns kept for each patient."),
            ),
        ),
        KindSpec(
            "selection_rows",
            "One patient of a selection snapshot.",
            key=("snapshot_id", "patient_id"),
            immutable=True,
            fields=(
                FieldSpec(
                    "snapshot_id", "integer", "The snapshot this row belongs to.", required=True
                ),
                _PATIENT,
                _text("gp_id", "The GP the patient is attributed to."),
                FieldSpec("data", "json", "The other columns of the selection for this patient."),
            ),
        ),
        KindSpec(
            "screening",
            "Screening decisions: the program's proposal and the GP's decision, with reasons.",
            key=("patient_id", "source"),
            fields=(
                _PATIENT,
                _text(
                    "source",
                    "proposal (the program) or gp (the GP's decision).",
                    required=True,
                    choices=_choices(ScreeningSource),
                ),
                FieldSpec("excluded", "bool", "Whether the patient is left out of the letters."),
                FieldSpec("reasons", "json", "The criterion keys (or short reasons) that exclude."),
                FieldSpec(
                    "overrides_proposal", "bool", "A GP decision that differs from the proposal."
                ),
                _text("note", "The GP's note."),
            ),
        ),
        KindSpec(
            "letters",
            "Stop letters and invitations for the evaluation consult, per batch.",
            key=("patient_id", "kind", "batch"),
            fields=(
                _PATIENT,
                _text(
                    "kind",
                    "stop_letter or invitation.",
                    required=True,
                    choices=("stop_letter", "invitation"),
                ),
                FieldSpec(
                    "batch", "integer", "The batch number (0: not sent in batches).", required=True
                ),
                FieldSpec("letter_date", "date", "The date printed on the letter.", required=True),
                FieldSpec("sent_date", "date", "The date the letter was sent."),
                FieldSpec("gp_ids", "json", "The GPs who signed it."),
                FieldSpec("pharmacist_ids", "json", "The pharmacists who co-signed it."),
                _text("template", "The house style or template used."),
                _text(
                    "status",
                    "sent, or withdrawn by a correction.",
                    required=True,
                    choices=_choices(LetterStatus),
                ),
                FieldSpec(
                    "forced", "bool", "A second stop letter sent on purpose (schema version 2)."
                ),
                _text("force_reason", "Why the second stop letter was forced (schema version 2)."),
            ),
        ),
        KindSpec(
            "phone_calls",
            "Phone calls to patients who did not respond to the invitation, and their outcome.",
            key=("patient_id", "called_on"),
            fields=(
                _PATIENT,
                FieldSpec("called_on", "date", "The day of the call.", required=True),
                _text(
                    "outcome",
                    "What came of the call.",
                    required=True,
                    choices=_choices(CallOutcome),
                ),
                FieldSpec(
                    "invitation_batch", "integer", "The batch of the invitation followed up."
                ),
                _text("note", "A short note."),
            ),
        ),
        KindSpec(
            "consults",
            "Evaluation consults (step 5).",
            key=("patient_id", "date"),
            fields=(
                _PATIENT,
                FieldSpec("date", "date", "The day of the consult.", required=True),
                _text("held_by", "gp or poh_ggz.", required=True, choices=("gp", "poh_ggz")),
                FieldSpec("attended", "bool", "Whether the patient came."),
                FieldSpec("by_phone", "bool", "Held by phone."),
                _text("outcome", "stopped, tapering, reduced, continuing, referred (or empty)."),
                _text("plan", "The agreed plan (taper schedule, eHealth, ...)."),
                FieldSpec("scores", "json", "Questionnaire scores by name (Bendep-SRQ, BWSQ)."),
                _text("note", "Free text."),
            ),
        ),
        KindSpec(
            "tasks",
            "The plan of action (bijlage 3): step, what, who, month, and the task's status.",
            key=("task_id",),
            fields=(
                _text("task_id", "A short stable id (e.g. 'invitations-batch-1').", required=True),
                _text("step", "The step of the intervention (select, screen, letters, ...)."),
                _text("what", "What is to be done.", required=True),
                _text("who", "Who does it (GP, assistant, POH-GGZ, pharmacist)."),
                FieldSpec("month", "integer", "The programme month it is planned in."),
                FieldSpec("due", "date", "The due date."),
                _text(
                    "status",
                    "open, in_progress, done or skipped.",
                    required=True,
                    choices=_choices(TaskStatus),
                ),
                _text("note", "A short note."),
            ),
        ),
        KindSpec(
            "evaluations",
            "Evaluation runs (process and effect evaluation, bijlage 4) with their results.",
            key=("run_id",),
            fields=(
                _text("run_id", "The run's id (run-1, run-2, ... unless given).", required=True),
                FieldSpec("run_date", "date", "The date the evaluation looks at.", required=True),
                _text("kind", "process, effect, or another kind of evaluation.", required=True),
                FieldSpec("parameters", "json", "The options the evaluation ran with."),
                FieldSpec("results", "json", "The figures it produced (counts, percentages)."),
            ),
        ),
    )
}
"""Every record kind, by name (the name of its table and its export file)."""
