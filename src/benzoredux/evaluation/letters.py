"""The letters table the evaluation counts from: who got a stop letter, when, from which GP.

One row per patient: the stop letter (step 3) and, when the invitation for the evaluation
consult (step 4) went separately, its date. :func:`benzoredux.plan_schedule` gives exactly this
shape (its ``table`` has ``patient_id``, ``gp_id``, ``letter_date`` and ``invitation_date``),
and so does a list of the register's letters (:func:`letters_from_register`). The table is
checked like the canonical tables (:mod:`benzoredux.tables`): a missing column or a bad row
stops the evaluation with an error naming the row, the column and the value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
from narwhals.typing import IntoFrame

from benzoredux.engine import Execution
from benzoredux.tables import (
    Column,
    Kind,
    RowRule,
    TableSchema,
    check_rows,
    missing_text_rule,
    unique_rule,
)

__all__ = ["LETTERS_SENT", "consults_from_register", "letters_from_register", "letters_lazy"]


LETTERS_SENT = TableSchema(
    name="letters",
    columns=(
        Column("patient_id", Kind.TEXT, True, "Pseudonymous patient identifier."),
        Column("letter_date", Kind.DATE, True, "Date the stop letter was sent."),
        Column("gp_id", Kind.TEXT, False, "The GP who signed the letter (empty: no GP)."),
        Column(
            "invitation_date",
            Kind.DATE,
            False,
            "Date the invitation for the evaluation consult was sent; empty if none was.",
        ),
    ),
    rules=(
        missing_text_rule("patient_id"),
        unique_rule("patient_id", "patient_id occurs more than once (one stop letter per patient)"),
        RowRule(
            ("letter_date",), "letter_date is missing", lambda: nw.col("letter_date").is_null()
        ),
        RowRule(
            ("letter_date", "invitation_date"),
            "invitation_date is before letter_date",
            lambda: nw.col("invitation_date") < nw.col("letter_date"),
        ),
    ),
)
"""The stop letters sent, one row per patient."""


def letters_lazy(execution: Execution, letters: IntoFrame) -> nw.LazyFrame[Any]:
    """The letters, checked, with ``patient_id`` and ``gp_id`` as text and dates as dates."""
    lazy = execution.lazy(letters, "letters")
    columns = lazy.collect_schema()
    check_rows(letters, lazy, LETTERS_SENT, execution)
    gp = nw.col("gp_id").cast(nw.String) if "gp_id" in columns else nw.lit(None, nw.String)
    invitation = (
        nw.col("invitation_date").cast(nw.Date)
        if "invitation_date" in columns
        else nw.lit(None, nw.Date)
    )
    return lazy.select(
        nw.col("patient_id").cast(nw.String),
        gp.alias("gp_id"),
        nw.col("letter_date").cast(nw.Date),
        invitation.alias("invitation_date"),
    )


def letters_from_register(register: Any) -> Any:
    """The letters table of the evaluation (:data:`~benzoredux.LETTERS_SENT`) from a register.

    One row per patient who got a stop letter: the first one sent (a second stop letter,
    forced on purpose, does not restart the patient's follow-up), its sending date, its first
    signing GP, and the date of the patient's first invitation, if any.
    """
    import pandas as pd

    first: dict[str, Any] = {}
    for entry in register.letters("stop_letter"):
        day = entry["sent_date"] or entry["letter_date"]
        if entry["patient_id"] not in first or day < first[entry["patient_id"]][0]:
            first[entry["patient_id"]] = (day, entry["gp_ids"][0] if entry["gp_ids"] else None)
    invited: dict[str, dt.date] = {}
    for entry in register.letters("invitation"):
        day = entry["sent_date"] or entry["letter_date"]
        if entry["patient_id"] not in invited or day < invited[entry["patient_id"]]:
            invited[entry["patient_id"]] = day
    rows = [
        {
            "patient_id": patient,
            "gp_id": gp,
            "letter_date": day,
            "invitation_date": invited.get(patient),
        }
        for patient, (day, gp) in sorted(first.items())
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "gp_id", "letter_date", "invitation_date"])
    for column in ("letter_date", "invitation_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def consults_from_register(register: Any) -> Any:
    """The consults the register holds as a :data:`~benzoredux.CONSULTS` table (pandas), or
    ``None`` when it holds none."""
    from benzoredux.consult.records import consults_to_frame
    from benzoredux.models import Consult

    fields = ("patient_id", "date", "held_by", "attended", "by_phone", "plan")
    records = [
        Consult(
            **{name: entry[name] for name in fields},
            outcome=entry["outcome"] or None,  # the register keeps "no outcome" as ""
            scores=entry["scores"] or {},
        )
        for entry in register.current("consults")
    ]
    return consults_to_frame(records) if records else None
