"""Evaluation consults as a table: the record of step 5 that the evaluation counts from.

A :class:`~benzoredux.models.Consult` is what a GP or POH-GGZ records about one consult. The
evaluation (FTO module, bijlage 4) counts them: the number of consults, the first and last
consult date, how many patients came, the outcomes. For that the consults are a table, one row
per consult, with the columns of :data:`CONSULTS`, validated like the other canonical tables
(:mod:`benzoredux.tables`): bad rows come back with their reasons, and values of the free-text
columns (``plan``, ``note``) never appear in messages.

Whether the patient came is one column, ``contact``: ``in_person``, ``phone`` (a consult by
telephone counts as held) or ``did_not_attend``. Questionnaire scores are number columns named
as :attr:`benzoredux.consult.questionnaires.Instrument.score_names` gives them (``bwsq_total``,
``bendep_srq_problematic_use``, ...); a score outside what its instrument can produce is
rejected.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import narwhals as nw
from narwhals.typing import IntoFrame

from benzoredux.consult.questionnaires import BENDEP_SRQ, BWSQ, Instrument
from benzoredux.engine import Engine
from benzoredux.errors import InvalidRowsError
from benzoredux.models import Consult, ConsultOutcome, ConsultRole
from benzoredux.tables import (
    Column,
    Kind,
    RowRule,
    TableSchema,
    Validation,
    missing_text_rule,
    validate,
)

__all__ = [
    "CONSULTS",
    "CONTACTS",
    "consults_from_frame",
    "consults_schema",
    "consults_to_frame",
    "validate_consults",
]

CONTACTS = ("in_person", "phone", "did_not_attend")
"""Whether the patient came: in person, by telephone, or not at all."""

_ROLES = tuple(r.value for r in ConsultRole)
_OUTCOMES = tuple(o.value for o in ConsultOutcome)


def _one_of(name: str, allowed: Sequence[str]) -> RowRule:
    return RowRule(
        (name,),
        f"{name} is not one of {', '.join(allowed)}",
        lambda: ~nw.col(name).is_null() & ~nw.col(name).cast(nw.String).is_in(list(allowed)),
    )


def _score_in_range(name: str, low: float, high: float) -> RowRule:
    def invalid() -> nw.Expr:
        col = nw.col(name).cast(nw.Float64)
        return ~col.is_null() & ~col.is_nan() & ~(col.is_finite() & (col >= low) & (col <= high))

    return RowRule((name,), f"{name} is not a score from {low:g} to {high:g}", invalid)


def consults_schema(instruments: Iterable[Instrument] = (BWSQ, BENDEP_SRQ)) -> TableSchema:
    """The consults table with score columns for ``instruments`` (default: BWSQ, Bendep-SRQ).

    A practice that scores the Bendep-SRQ with its own definition passes that definition, so
    that the score ranges checked are the ones its form produces.
    """
    score_columns: list[Column] = []
    score_rules: list[RowRule] = []
    for instrument in instruments:
        for name in instrument.score_names:
            low, high = instrument.score_range(name)
            score_columns.append(
                Column(
                    name, Kind.NUMBER, False, f"{instrument.name}: score {name} ({low:g}-{high:g})."
                )
            )
            score_rules.append(_score_in_range(name, low, high))
    return TableSchema(
        name="consults",
        columns=(
            Column("patient_id", Kind.TEXT, True, "Pseudonymous patient identifier."),
            Column("date", Kind.DATE, True, "Date of the consult (or of the planned consult)."),
            Column("held_by", Kind.TEXT, True, f"Who held it: one of {', '.join(_ROLES)}."),
            Column(
                "contact",
                Kind.TEXT,
                True,
                f"Whether the patient came: one of {', '.join(CONTACTS)}.",
            ),
            Column("clinician_id", Kind.TEXT, False, "The GP's or POH-GGZ's id."),
            Column(
                "outcome",
                Kind.TEXT,
                False,
                f"Where the patient stands: one of {', '.join(_OUTCOMES)}; empty if unknown.",
            ),
            Column("plan", Kind.TEXT, False, "The agreed plan (free text).", sensitive=True),
            Column("note", Kind.TEXT, False, "Free-text note.", sensitive=True),
            *score_columns,
        ),
        rules=(
            missing_text_rule("patient_id"),
            RowRule(("date",), "date is missing", lambda: nw.col("date").is_null()),
            missing_text_rule("held_by"),
            _one_of("held_by", _ROLES),
            missing_text_rule("contact"),
            _one_of("contact", CONTACTS),
            _one_of("outcome", _OUTCOMES),
            *score_rules,
        ),
    )


CONSULTS = consults_schema()
"""The consults table with the BWSQ and default Bendep-SRQ score columns."""


def validate_consults(
    frame: IntoFrame,
    *,
    instruments: Iterable[Instrument] = (BWSQ, BENDEP_SRQ),
    engine: Engine = "auto",
) -> Validation:
    """Split a consults table into usable rows and rejected rows with their reasons."""
    schema = CONSULTS if tuple(instruments) == (BWSQ, BENDEP_SRQ) else consults_schema(instruments)
    return validate(frame, schema, engine=engine)


def consults_to_frame(
    consults: Iterable[Consult],
    *,
    instruments: Iterable[Instrument] = (BWSQ, BENDEP_SRQ),
    backend: Literal["pandas", "polars", "pyarrow"] = "pandas",
) -> Any:
    """The table form of ``consults``: one row per consult, the columns of :data:`CONSULTS`.

    Score columns are there for every score of ``instruments`` (empty where not recorded), and
    for any other score name a consult carries.

    >>> table = consults_to_frame([Consult(patient_id="p1", date=dt.date(2025, 9, 1),
    ...     held_by="poh_ggz", outcome="tapering", scores={"bwsq_total": 6})])
    >>> table[["patient_id", "contact", "outcome", "bwsq_total"]].to_dict("records")
    [{'patient_id': 'p1', 'contact': 'in_person', 'outcome': 'tapering', 'bwsq_total': 6.0}]
    """
    records = list(consults)
    schema = consults_schema(instruments)
    fixed = ("patient_id", "date", "held_by", "contact", "clinician_id", "outcome", "plan", "note")
    score_names = [c.name for c in schema.columns if c.name not in fixed]
    extra = sorted({k for c in records for k in c.scores} - set(score_names))
    columns: dict[str, list[Any]] = {
        "patient_id": [c.patient_id for c in records],
        "date": [c.date for c in records],
        "held_by": [c.held_by.value for c in records],
        "contact": [c.contact for c in records],
        "clinician_id": [c.clinician_id for c in records],
        "outcome": [c.outcome.value if c.outcome else None for c in records],
        "plan": [c.plan or None for c in records],
        "note": [c.note or None for c in records],
    }
    for name in (*score_names, *extra):
        columns[name] = [float(c.scores[name]) if name in c.scores else None for c in records]
    return _frame(columns, backend, score_names=(*score_names, *extra))


def _frame(columns: dict[str, list[Any]], backend: str, *, score_names: Sequence[str]) -> Any:
    """A native frame with proper dtypes even when a column is empty or all missing."""
    import pyarrow as pa

    types: dict[str, Any] = {name: pa.string() for name in columns}
    types["date"] = pa.date32()
    types.update({name: pa.float64() for name in score_names})
    table = pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})
    if backend == "pyarrow":
        return table
    if backend == "pandas":
        return table.to_pandas(date_as_object=False)
    if backend == "polars":
        return nw.from_arrow(table, backend="polars").to_native()
    raise ValueError(f"backend must be pandas, polars or pyarrow; got {backend!r}")


def consults_from_frame(
    frame: IntoFrame,
    *,
    instruments: Iterable[Instrument] = (BWSQ, BENDEP_SRQ),
    extra_scores: Iterable[str] = (),
) -> list[Consult]:
    """The consults of a table, as records; raises if any row is rejected (naming the rows).

    Scores are read from the score columns of ``instruments`` and from the columns named in
    ``extra_scores``; other extra columns are ignored.
    """
    instruments = tuple(instruments)
    checked = validate_consults(frame, instruments=instruments, engine="native")
    checked.raise_if_rejected()
    native = nw.from_native(checked.valid)
    eager = native.collect() if isinstance(native, nw.LazyFrame) else native
    schema = consults_schema(instruments)
    fixed = {"patient_id", "date", "held_by", "contact", "clinician_id", "outcome", "plan", "note"}
    known = [c.name for c in schema.columns if c.name not in fixed]
    score_names = [n for n in (*known, *extra_scores) if n in eager.columns]
    consults = []
    for row in eager.rows(named=True):
        scores = {
            name: float(row[name])
            for name in score_names
            if row[name] is not None
            and not (isinstance(row[name], float) and math.isnan(row[name]))
        }
        consults.append(
            Consult(
                patient_id=str(row["patient_id"]),
                date=_as_date(row["date"]),
                held_by=row["held_by"],
                clinician_id=_text(row.get("clinician_id")),
                attended=row["contact"] != "did_not_attend",
                by_phone=row["contact"] == "phone",
                outcome=_text(row.get("outcome")),
                plan=_text(row.get("plan")) or "",
                scores=scores,
                note=_text(row.get("note")) or "",
            )
        )
    return consults


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InvalidRowsError("consults", 1, 1, [f"date {value!r} is not a date"])
