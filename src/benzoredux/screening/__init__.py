"""Step 2 of the minimal intervention: screen the selected chronic users on exclusion criteria.

The FTO module sends the stop letter only to patients who can be expected to stop on their own
without undue risk (bijlage 2, step 2). The program proposes, the GP decides:

* every criterion is a :class:`~benzoredux.hookspecs.ScreeningCriterion` (the built-in ones live
  in :mod:`benzoredux.screening.criteria`; plugins add their own through the
  ``benzoredux_register_criteria`` hook) that the practice switches on or off by key;
* :func:`screen` decides every enabled criterion for the whole selection at once (one lazy
  query per criterion, joined per patient) and returns **every** selected patient with the
  proposal (``eligible``, ``excluded`` or ``review``), all reasons that matched, and the GP's own
  decision where one was given (:class:`Override`, kept with who and when);
* a criterion that lacks the data it needs never passes silently: its patients are marked
  ``review`` with the reason (or, with ``missing_data="error"``, screening stops and says which
  data to supply or which criterion to switch off).

**The screening context** (what :meth:`~benzoredux.hookspecs.ScreeningCriterion.decide`
receives) is a :class:`ScreeningContext`: the selection (one row per patient, ``patient_id`` as
text, every column of the selection), the patients and episodes tables when given
(``patient_id`` as text, checked against :data:`~benzoredux.tables.PATIENTS` and
:data:`~benzoredux.tables.EPISODES`), the reference date, and the criterion with its effective
parameters, all as narwhals lazy frames on one engine. **The answer** is a table (a narwhals or
native frame) with one row per selected patient: ``patient_id``, ``excluded`` (bool; empty when
the criterion cannot tell for that patient) and ``reason`` (text shown to the GP; used when
excluded or undecided). A patient missing from the answer counts as undecided, never as
eligible.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import narwhals as nw
from attrs import evolve, field, frozen
from narwhals.typing import IntoFrame

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.engine import Engine, Execution
from benzoredux.errors import BenzoreduxError, describe_columns
from benzoredux.hookspecs import ScreeningCriterion
from benzoredux.models import ExclusionCriterion
from benzoredux.tables import EPISODES, PATIENTS, Plausibility, check_rows

__all__ = [
    "DECISIONS",
    "CriterionCount",
    "Override",
    "Screening",
    "ScreeningContext",
    "ScreeningDataError",
    "ScreeningError",
    "ScreeningSummary",
    "read_overrides",
    "screen",
]

ELIGIBLE, EXCLUDED, REVIEW = "eligible", "excluded", "review"
DECISIONS = (ELIGIBLE, EXCLUDED, REVIEW)
"""What screening proposes for a patient: ``review`` means no criterion excluded the patient
but at least one could not decide, so the GP must look."""

EXPECTED_ELIGIBLE_SHARE = 2 / 3
"""The FTO module: with all criteria applied, about two thirds of chronic users remain."""

# Columns screening reads: rows are checked on these only (a malformed postcode does not stop
# screening, which never reads postcodes).
_USED_PATIENTS = (
    "patient_id",
    "birth_date",
    "status",
    "status_date",
    "palliative",
    "dutch_language",
    "immobile",
    "serious_comorbidity",
)
_USED_EPISODES = ("patient_id", "icpc", "start", "end")


class ScreeningError(BenzoreduxError, ValueError):
    """Screening cannot run as asked (unknown criterion, bad override, bad criterion answer)."""


class ScreeningDataError(BenzoreduxError, LookupError):
    """A criterion needs data the caller did not supply (a table, or a column of it).

    Criteria raise it from :meth:`ScreeningContext.patient_columns` and friends;
    :func:`screen` turns it into ``review`` for every patient, or re-raises it (listing every
    such criterion) with ``missing_data="error"``.
    """

    def __init__(self, key: str, needs: str) -> None:
        self.key = key
        self.needs = needs
        super().__init__(f"criterion {key!r} cannot be decided: {needs}")


def _non_empty(_instance: object, attribute: Any, value: str) -> None:
    if not str(value).strip():
        raise ValueError(f"{attribute.name} must not be empty")


OVERRIDE_DECISIONS = (ELIGIBLE, EXCLUDED)
"""The decisions a GP may give (:class:`Override`)."""


def _a_decision(_instance: object, attribute: Any, value: Any) -> None:
    # attrs' own ``in_`` validator puts its internals into the message (issue 16); and the
    # value is not repeated: a swapped column could put a name here.
    if value not in OVERRIDE_DECISIONS:
        raise ValueError(f"{attribute.name} must be one of {', '.join(OVERRIDE_DECISIONS)}")


def _a_day(_instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, dt.date) or value != value:  # noqa: PLR0124 - NaT is not a day
        raise ValueError(f"{attribute.name} must be a date (or a datetime)")


@frozen(kw_only=True)
class Override:
    """The GP's own decision for one patient, which wins over the proposal (kept with who, when).

    >>> Override(patient_id="p7", decision="eligible", decided_by="GP van Dam",
    ...          decided_at=dt.date(2026, 1, 5)).decision
    'eligible'
    """

    patient_id: str = field(validator=_non_empty)
    decision: Literal["eligible", "excluded"] = field(validator=_a_decision)
    decided_by: str = field(validator=_non_empty)
    """Who decided (the GP's name or id)."""
    decided_at: dt.date = field(validator=_a_day)
    """When (a ``date``, or a ``datetime``)."""
    note: str = field(default="", repr=False)
    """Why, in the GP's words; may hold personal details, so left out of ``repr``."""


@frozen
class ScreeningContext:
    """What a criterion's ``decide`` receives (the module docstring defines it in full)."""

    selection: nw.LazyFrame[Any]
    """The selection: one row per patient, ``patient_id`` as text, all the selection's columns."""
    patients: nw.LazyFrame[Any] | None
    episodes: nw.LazyFrame[Any] | None
    reference_date: dt.date
    criterion: ExclusionCriterion
    """The criterion being decided, with its effective parameters."""
    execution: Execution
    """The engine: use ``execution.lazy(frame, name)`` to bring another frame onto it."""

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The criterion's effective parameters (its defaults, updated by the caller's)."""
        return self.criterion.parameters

    def missing(self, needs: str) -> ScreeningDataError:
        """The error to raise when this criterion lacks data (``needs`` says what)."""
        return ScreeningDataError(self.criterion.key, needs)

    def selection_columns(self, *names: str) -> nw.LazyFrame[Any]:
        """``patient_id`` and ``names`` of the selection; raises when a column is absent."""
        columns = self.selection.collect_schema()
        absent = [n for n in names if n not in columns]
        if absent:
            raise self.missing(f"the selection has no column {', '.join(map(repr, absent))}")
        return self.selection.select("patient_id", *names)

    def patient_columns(self, *names: str) -> nw.LazyFrame[Any]:
        """Every selected patient with ``names`` from the patients table (empty if unlisted).

        Raises :class:`ScreeningDataError` when there is no patients table or it lacks a
        column.
        """
        if self.patients is None:
            raise self.missing(
                f"it needs the patients table with column(s) {', '.join(map(repr, names))}"
            )
        columns = self.patients.collect_schema()
        absent = [n for n in names if n not in columns]
        if absent:
            raise self.missing(f"the patients table has no column {', '.join(map(repr, absent))}")
        return self.selection.select("patient_id").join(
            self.patients.select("patient_id", *names), on="patient_id", how="left"
        )

    def require_episodes(self) -> nw.LazyFrame[Any]:
        """The episodes table; raises :class:`ScreeningDataError` without one."""
        if self.episodes is None:
            raise self.missing("it needs the episodes table (ICPC episodes)")
        return self.episodes

    def answer(
        self, frame: nw.LazyFrame[Any], excluded: nw.Expr, reason: nw.Expr | str
    ) -> nw.LazyFrame[Any]:
        """An answer from a frame of selected patients: ``reason`` where ``excluded`` holds."""
        text = nw.lit(reason) if isinstance(reason, str) else reason
        return frame.select(
            "patient_id",
            excluded.alias("excluded"),
            nw.when(excluded).then(text).alias("reason"),
        )


@frozen
class CriterionCount:
    """How one criterion came out over the selection."""

    key: str
    label: str
    excluded: int
    """Patients it excludes (a patient may be excluded by several criteria)."""
    undecided: int
    """Patients it could not decide for."""
    needs: str | None = None
    """Set when it could not be decided for anyone: the data it lacks."""


@frozen
class ScreeningSummary:
    """Counts of a screening, for the GP and for the process evaluation (never patient data)."""

    patients: int
    proposed: Mapping[str, int]
    """Patients per proposal (``eligible``, ``excluded``, ``review``)."""
    decided: Mapping[str, int]
    """Patients per final decision, after the GP's overrides."""
    overridden: int
    criteria: tuple[CriterionCount, ...]
    """Every enabled criterion, in the order applied."""
    disabled: tuple[str, ...]
    """Keys of the known criteria that were switched off."""

    @property
    def eligible(self) -> int:
        """Patients who get a letter (final decision ``eligible``)."""
        return self.decided.get(ELIGIBLE, 0)

    @property
    def eligible_share(self) -> float | None:
        """Eligible patients as a share of the selection (``None`` for an empty selection)."""
        return self.eligible / self.patients if self.patients else None

    def describe(self) -> list[str]:
        """The summary as lines of text (for the command line and the log)."""
        share = self.eligible_share
        lines = [
            f"{self.eligible} of {self.patients} selected patients are eligible"
            + (f" ({share:.0%}; the FTO module expects about two thirds)" if share else ""),
            "proposed: " + ", ".join(f"{self.proposed.get(d, 0)} {d}" for d in DECISIONS),
            "decided: "
            + ", ".join(f"{self.decided.get(d, 0)} {d}" for d in DECISIONS)
            + f" ({self.overridden} by the GP's own decision)",
        ]
        for count in self.criteria:
            line = f"  {count.key}: excludes {count.excluded}"
            if count.undecided:
                line += f", cannot decide for {count.undecided}"
            if count.needs:
                line += f" ({count.needs})"
            lines.append(line)
        if self.disabled:
            lines.append(f"switched off: {', '.join(self.disabled)}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain data (for ``benzoredux_outputs_written`` and JSON)."""
        return {
            "patients": self.patients,
            "eligible": self.eligible,
            "proposed": dict(self.proposed),
            "decided": dict(self.decided),
            "overridden": self.overridden,
            "criteria": {
                c.key: {"excluded": c.excluded, "undecided": c.undecided, "needs": c.needs}
                for c in self.criteria
            },
            "disabled": list(self.disabled),
        }


@frozen
class Screening:
    """The result of :func:`screen`."""

    table: Any
    """Every selected patient (the caller's frame kind), sorted by ``patient_id``: the
    selection's columns, then ``proposed``, ``excluded_by`` (criterion keys, ``"; "``-separated),
    ``reasons``, ``undecided``, ``override``, ``override_by``, ``override_at``, ``override_note``,
    ``decision`` and ``eligible`` (bool)."""
    summary: ScreeningSummary
    criteria: tuple[ExclusionCriterion, ...]
    """The criteria as applied (switched on or off, with their effective parameters)."""


def _resolve_criteria(
    registry: Mapping[str, ScreeningCriterion],
    enable: Iterable[str],
    disable: Iterable[str],
    parameters: Mapping[str, Mapping[str, Any]],
) -> list[tuple[ScreeningCriterion, ExclusionCriterion]]:
    enable, disable = set(enable), set(disable)
    known = set(registry)
    for what, keys in (("enable", enable), ("disable", disable), ("parameters", parameters)):
        unknown = sorted(set(keys) - known)
        if unknown:
            raise ScreeningError(
                f"{what}: unknown criterion key(s) {', '.join(map(repr, unknown))}; known: "
                f"{', '.join(sorted(known))}"
            )
    both = sorted(enable & disable)
    if both:
        raise ScreeningError(f"criterion {', '.join(map(repr, both))} is both enabled and disabled")
    resolved = []
    for key, implementation in registry.items():
        base = implementation.criterion
        given = dict(parameters.get(key, {}))
        unknown = sorted(set(given) - set(base.parameters))
        if unknown:
            raise ScreeningError(
                f"criterion {key!r}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(base.parameters)) or 'none'}"
            )
        enabled = (base.enabled or key in enable) and key not in disable
        resolved.append(
            (
                implementation,
                evolve(base, enabled=enabled, parameters={**base.parameters, **given}),
            )
        )
    return resolved


def _answer(
    context: ScreeningContext, implementation: ScreeningCriterion, index: int
) -> nw.LazyFrame[Any]:
    """A criterion's answer on the engine, checked, as ``patient_id, _x{index}, _r{index}``."""
    key = context.criterion.key
    try:
        raw = implementation.decide(context)
    except BenzoreduxError:
        raise
    except Exception as error:
        raise ScreeningError(
            f"criterion {key!r} ({context.criterion.source}) failed: "
            f"{type(error).__name__}: {error}"
        ) from error
    native = raw.to_native() if isinstance(raw, nw.DataFrame | nw.LazyFrame) else raw
    if isinstance(raw, nw.LazyFrame) and raw.implementation is context.execution.backend:
        lazy = raw
    else:
        lazy = context.execution.lazy(native, f"answer of criterion {key!r}")
    columns = lazy.collect_schema()
    absent = [c for c in ("patient_id", "excluded", "reason") if c not in columns]
    if absent:
        raise ScreeningError(
            f"criterion {key!r} answered without column(s) {', '.join(map(repr, absent))}; an "
            "answer has patient_id, excluded and reason (see benzoredux.screening)"
        )
    if not isinstance(columns["excluded"], nw.Boolean):
        raise ScreeningError(
            f"criterion {key!r}: column 'excluded' must be boolean, not {columns['excluded']}"
        )
    lazy = lazy.select(
        nw.col("patient_id").cast(nw.String),
        nw.col("excluded").alias(f"_x{index}"),
        nw.col("reason").cast(nw.String).alias(f"_r{index}"),
        nw.lit(value=True).alias(f"_a{index}"),
    )
    twice = (
        lazy.group_by("patient_id")
        .agg(nw.len().alias("n"))
        .filter(nw.col("n") > 1)
        .head(1)
        .collect()
        .rows()
    )
    if twice:
        raise ScreeningError(
            f"criterion {key!r} answered for patient {twice[0][0]!r} more than once"
        )
    return lazy


def _overrides_frame(overrides: Sequence[Override], execution: Execution) -> nw.LazyFrame[Any]:
    import pyarrow as pa

    seen: set[str] = set()
    for override in overrides:
        if override.patient_id in seen:
            raise ScreeningError(
                f"there are two overrides for patient {override.patient_id!r}; keep one"
            )
        seen.add(override.patient_id)
    at = [
        o.decided_at
        if isinstance(o.decided_at, dt.datetime)
        else dt.datetime.combine(o.decided_at, dt.time())
        for o in overrides
    ]
    table = pa.table(
        {
            "patient_id": pa.array([o.patient_id for o in overrides], pa.string()),
            "override": pa.array([o.decision for o in overrides], pa.string()),
            "override_by": pa.array([o.decided_by for o in overrides], pa.string()),
            "override_at": pa.array(at, pa.timestamp("us")),
            "override_note": pa.array([o.note for o in overrides], pa.string()),
        }
    )
    return execution.lazy(table, "overrides")


_OVERRIDE_COLUMNS = ("patient_id", "decision", "decided_by", "decided_at")
"""The columns of a table of overrides; ``note`` may follow."""

_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_DUTCH_DAY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


def _missing(value: object) -> bool:
    """Empty: ``None``, NaN/NaT, or text of only spaces."""
    if value is None or value != value:  # noqa: PLR0124 - NaN and NaT are not equal to themselves
        return True
    return isinstance(value, str) and not value.strip()


def _decision_day(value: object) -> dt.date | None:
    """A ``date``/``datetime`` as it is; text as ``YYYY-MM-DD`` (optionally with a time of
    day, as ISO 8601 writes it) or ``DD-MM-YYYY`` (as a Dutch spreadsheet saves it); else
    ``None``. The two text forms cannot be mistaken for one another."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if iso := _ISO_DAY.match(text):
            year, month, day, hour, minute, second = iso.groups()
            if hour is None:
                return dt.date(int(year), int(month), int(day))
            return dt.datetime(  # noqa: DTZ001 - a local time, as written
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        if dutch := _DUTCH_DAY.match(text):
            day, month, year = dutch.groups()
            return dt.date(int(year), int(month), int(day))
    except ValueError:  # 31-02-2026
        return None
    return None


def _override(values: Mapping[str, Any], where: str) -> Override:
    """One :class:`Override` from a row's values. A problem names ``where`` (the file and
    line, or the row), the column and what it must hold, never the value: a decision typed
    into the wrong column may be a name."""

    def wrong(column: str, problem: str) -> ScreeningError:
        return ScreeningError(f"{where}, column {column!r}: {problem}")

    patient_id, decision = values.get("patient_id"), values.get("decision")
    decided_by, decided_at = values.get("decided_by"), values.get("decided_at")
    if _missing(patient_id):
        raise wrong("patient_id", "empty; give the patient the decision is for")
    from benzoredux.spreadsheets import DECISION_WORDS

    allowed = "the decision is one of: " + ", ".join(
        f"{code} ({DECISION_WORDS[code]})" for code in OVERRIDE_DECISIONS
    )
    if _missing(decision):
        raise wrong("decision", f"empty; {allowed}")
    chosen = str(decision).strip().casefold()
    # The words of screening.xlsx are decisions too: a GP may copy "in aanmerking" from it.
    chosen = {word: code for code, word in DECISION_WORDS.items()}.get(chosen, chosen)
    if chosen not in OVERRIDE_DECISIONS:
        raise wrong("decision", f"not a decision; {allowed}")
    if _missing(decided_by):
        raise wrong("decided_by", "empty; give who decided (the GP's name or id)")
    day = None if _missing(decided_at) else _decision_day(decided_at)
    if day is None:
        problem = "empty" if _missing(decided_at) else "not a date"
        raise wrong("decided_at", f"{problem}; give the day of the decision as YYYY-MM-DD")
    note = values.get("note")
    return Override(
        patient_id=str(patient_id).strip(),
        decision=cast(Literal["eligible", "excluded"], chosen),
        decided_by=str(decided_by).strip(),
        decided_at=day,
        note="" if _missing(note) else str(note),
    )


def read_overrides(path: str | os.PathLike[str]) -> list[Override]:
    """The GP's decisions from a CSV file (the ``--overrides`` of ``benzoredux screen``).

    The first line names the columns: ``patient_id``, ``decision`` (``eligible`` or
    ``excluded``; case and spaces do not matter), ``decided_by``, ``decided_at`` (the day,
    ``YYYY-MM-DD`` or ``DD-MM-YYYY``) and optionally ``note``, separated by ``,`` or (as a Dutch
    spreadsheet saves it) ``;``; UTF-8, with or without a byte-order mark. Empty lines are
    skipped. A problem raises :class:`ScreeningError` naming the file, the line (as a text
    editor counts it, also when a quoted note spans lines), the column and what it must hold;
    no cell's value is repeated.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScreeningError(
            f"{file.name}: not UTF-8 text; save the overrides as CSV UTF-8"
        ) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    separator = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header: list[str] | None = None
    records: list[Override] = []
    try:
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().casefold() for cell in record]
                absent = [c for c in _OVERRIDE_COLUMNS if c not in header]
                if absent:
                    raise ScreeningError(
                        f"{file.name}, line {line}: no column(s) "
                        f"{', '.join(map(repr, absent))}; the first line must name the "
                        f"columns {', '.join(_OVERRIDE_COLUMNS)} (and optionally note)"
                    )
                continue
            if len(record) != len(header):
                raise ScreeningError(
                    f"{file.name}, line {line}: {len(record)} field(s) where the first line "
                    f"names {len(header)}"
                )
            values = dict(zip(header, record, strict=True))
            records.append(_override(values, f"{file.name}, line {line}"))
    except csv.Error as error:
        raise ScreeningError(
            f"{file.name}, line {reader.line_num}: not a CSV line ({error})"
        ) from None
    if header is None:
        raise ScreeningError(
            f"{file.name}: empty; the first line must name the columns "
            f"{', '.join(_OVERRIDE_COLUMNS)} (and optionally note)"
        )
    return records


def _as_overrides(overrides: Iterable[Override] | IntoFrame | None) -> list[Override]:
    """Overrides from records, or from a table with the columns of :class:`Override` (a
    problem names the row, counted from 1, and the column; :func:`read_overrides` for a file)."""
    if overrides is None:
        return []
    if isinstance(overrides, list | tuple):
        return list(overrides)
    try:
        frame = nw.from_native(cast(Any, overrides), eager_only=True)
    except TypeError:
        return list(cast(Iterable[Override], overrides))
    absent = [c for c in _OVERRIDE_COLUMNS if c not in frame.columns]
    if absent:
        raise ScreeningError(
            f"overrides: missing column(s) {', '.join(map(repr, absent))}; the table needs the "
            f"columns {', '.join(_OVERRIDE_COLUMNS)} (and optionally note)"
        )
    return [
        _override(row, f"overrides, row {number}")
        for number, row in enumerate(frame.rows(named=True), start=1)
    ]


def _auxiliary_tables(
    execution: Execution,
    patients: IntoFrame | None,
    episodes: IntoFrame | None,
    reference: dt.date,
) -> tuple[nw.LazyFrame[Any] | None, nw.LazyFrame[Any] | None]:
    """The patients and episodes tables on the engine, checked on the columns screening reads
    (a birth date in the future or over 120 years ago is refused: it would decide "high age"
    wrongly; :class:`~benzoredux.tables.Plausibility`, with the reference date)."""
    patients_lazy = None
    if patients is not None:
        patients_lazy = execution.lazy(patients, "patients")
        check_rows(
            patients,
            patients_lazy,
            PATIENTS,
            execution,
            used=_USED_PATIENTS,
            plausibility=Plausibility(as_of=reference),
        )
        patients_lazy = patients_lazy.with_columns(nw.col("patient_id").cast(nw.String))
    episodes_lazy = None
    if episodes is not None:
        episodes_lazy = execution.lazy(episodes, "episodes")
        check_rows(episodes, episodes_lazy, EPISODES, execution, used=_USED_EPISODES)
        episodes_lazy = episodes_lazy.with_columns(nw.col("patient_id").cast(nw.String))
    return patients_lazy, episodes_lazy


def screen(
    selection: IntoFrame,
    reference_date: DateLike,
    *,
    patients: IntoFrame | None = None,
    episodes: IntoFrame | None = None,
    criteria: Iterable[ScreeningCriterion] | Mapping[str, ScreeningCriterion] | None = None,
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    overrides: Iterable[Override] | IntoFrame | None = None,
    missing_data: Literal["review", "error"] = "review",
    engine: Engine = "auto",
) -> Screening:
    """Screen every selected patient on the exclusion criteria (FTO module, step 2).

    :param selection: the result of :func:`~benzoredux.select_chronic_users` (any frame with a
        unique ``patient_id``; criteria read the columns they need, e.g. ``ddd_per_day``).
    :param reference_date: the selection's reference date (ages are computed on it).
    :param patients: the :data:`~benzoredux.tables.PATIENTS` table, for the criteria on age,
        language, mobility, palliative care and comorbidity.
    :param episodes: the :data:`~benzoredux.tables.EPISODES` table, for other indications.
    :param criteria: the criteria to choose from; default: all registered ones (built-in and
        plugins, ``benzoredux.plugins.Plugins.criteria()``).
    :param enable: keys of criteria to switch on (on top of those on by default).
    :param disable: keys of criteria to switch off.
    :param parameters: per criterion key, parameters to change (``{"ddd_per_day":
        {"max_ddd_per_day": 1}}`` for the NHG position; ``{"ddd_per_day": {"dose_basis":
        "year"}}`` to compare the year's average instead of the recent dose).
    :param overrides: the GP's own decisions (:class:`Override` records, or a table with
        their fields as columns); an override for a patient not in the selection is an error.
    :param missing_data: ``review`` (default): a criterion that lacks its data marks its
        patients for review; ``error``: raise :class:`ScreeningDataError` naming all of them.
    :returns: a :class:`Screening`: the table (the caller's frame kind), the summary and the
        criteria as applied.

    >>> import pandas as pd
    >>> selection = pd.DataFrame({"patient_id": ["p1", "p2"], "ddd_per_day": [0.5, 1.6],
    ...                           "ddd_per_day_recent": [0.5, 2.5]})
    >>> result = screen(selection, "2025-12-31", enable=["ddd_per_day"],
    ...                 disable=["other_indication", "palliative", "dutch_language",
    ...                          "immobile", "probably_stopped"])
    >>> result.table[["patient_id", "decision"]]
      patient_id  decision
    0         p1  eligible
    1         p2  excluded
    >>> print(result.table.loc[1, "reasons"])
    2.5 DDD a day recently (ddd_per_day_recent), more than 2 DDD
    """
    reference = parse_reference_date(reference_date)
    execution = Execution.for_input(selection, engine)
    base = execution.lazy(selection, "selection")
    columns = base.collect_schema()
    if "patient_id" not in columns:
        raise ScreeningError(
            f"selection: no column 'patient_id'; columns found: {describe_columns(list(columns))}"
        )
    base = base.with_columns(nw.col("patient_id").cast(nw.String))
    twice = (
        (base.group_by("patient_id").agg(nw.len().alias("n")).filter(nw.col("n") > 1).head(1))
        .collect()
        .rows()
    )
    if twice:
        raise ScreeningError(f"selection: patient {twice[0][0]!r} occurs more than once")

    patients_lazy, episodes_lazy = _auxiliary_tables(execution, patients, episodes, reference)

    if criteria is None:
        from benzoredux.plugins import get_plugins

        registry: Mapping[str, ScreeningCriterion] = get_plugins().criteria()
    elif isinstance(criteria, Mapping):
        registry = dict(criteria)
    else:
        registry = {}
        for item in criteria:
            if item.criterion.key in registry:
                raise ScreeningError(f"two criteria share the key {item.criterion.key!r}")
            registry[item.criterion.key] = item
    applied = _resolve_criteria(registry, enable, disable, parameters or {})

    result = base
    enabled: list[tuple[int, ExclusionCriterion, str | None]] = []
    lacking: list[ScreeningDataError] = []
    for index, (implementation, criterion) in enumerate(applied):
        if not criterion.enabled:
            continue
        context = ScreeningContext(
            selection=base,
            patients=patients_lazy,
            episodes=episodes_lazy,
            reference_date=reference,
            criterion=criterion,
            execution=execution,
        )
        try:
            answer = _answer(context, implementation, index)
        except ScreeningDataError as missing:
            lacking.append(missing)
            enabled.append((index, criterion, missing.needs))
            continue
        result = result.join(answer, on="patient_id", how="left")
        enabled.append((index, criterion, None))
    if lacking and missing_data == "error":
        raise ScreeningDataError(
            ", ".join(m.key for m in lacking),
            "; ".join(f"{m.key}: {m.needs}" for m in lacking)
            + ". Supply the data, switch the criterion off (disable=[...]), or use "
            "missing_data='review' to have the GP review these patients",
        )

    result = _decide(result, enabled, overrides, execution)
    summary = _summarise(result, enabled, [c.key for _, c in applied if not c.enabled])
    output = [
        *columns,
        "proposed",
        "excluded_by",
        "reasons",
        "undecided",
        "override",
        "override_by",
        "override_at",
        "override_note",
        "decision",
        "eligible",
    ]
    table = execution.finish(result.select(output).sort("patient_id"))
    return Screening(table=table, summary=summary, criteria=tuple(c for _, c in applied))


def _decide(
    result: nw.LazyFrame[Any],
    enabled: Sequence[tuple[int, ExclusionCriterion, str | None]],
    overrides: Iterable[Override] | IntoFrame | None,
    execution: Execution,
) -> nw.LazyFrame[Any]:
    """Combine the answers into the proposal, then apply the GP's overrides."""
    decided = [(i, c) for i, c, needs in enabled if needs is None]
    excluded_by = [nw.when(nw.col(f"_x{i}")).then(nw.lit(c.key)) for i, c in decided]
    reasons = [
        nw.when(nw.col(f"_x{i}")).then(
            nw.when(nw.col(f"_r{i}").str.strip_chars() != "")
            .then(nw.col(f"_r{i}"))
            .otherwise(nw.lit(c.label))
        )
        for i, c in decided
    ]
    undecided = [
        nw.when(nw.col(f"_a{i}").is_null())
        .then(nw.lit(f"{c.key}: no answer for this patient"))
        .when(nw.col(f"_x{i}").is_null())
        .then(nw.concat_str([nw.lit(f"{c.key}: "), nw.col(f"_r{i}").fill_null("cannot tell")]))
        for i, c in decided
    ] + [nw.lit(f"{c.key}: {needs}") for _, c, needs in enabled if needs is not None]

    def joined(parts: Sequence[nw.Expr]) -> nw.Expr:
        if not parts:
            return nw.lit("")
        return nw.concat_str(parts, separator="; ", ignore_nulls=True).fill_null("")

    result = result.with_columns(
        excluded_by=joined(excluded_by), reasons=joined(reasons), undecided=joined(undecided)
    ).with_columns(
        proposed=nw.when(nw.col("excluded_by") != "")
        .then(nw.lit(EXCLUDED))
        .when(nw.col("undecided") != "")
        .then(nw.lit(REVIEW))
        .otherwise(nw.lit(ELIGIBLE))
    )
    records = _as_overrides(overrides)
    if records:
        present = set(result.select("patient_id").collect().get_column("patient_id").to_list())
        unknown = sorted({o.patient_id for o in records} - present)
        if unknown:
            raise ScreeningError(
                f"overrides for patient(s) not in the selection: {', '.join(unknown[:10])}"
            )
        result = result.join(_overrides_frame(records, execution), on="patient_id", how="left")
    else:
        result = result.with_columns(
            override=nw.lit(None, nw.String),
            override_by=nw.lit(None, nw.String),
            override_at=nw.lit(None, nw.Datetime("us")),
            override_note=nw.lit(None, nw.String),
        )
    return result.with_columns(
        decision=nw.coalesce(nw.col("override"), nw.col("proposed"))
    ).with_columns(eligible=nw.col("decision") == ELIGIBLE)


def _summarise(
    result: nw.LazyFrame[Any],
    enabled: Sequence[tuple[int, ExclusionCriterion, str | None]],
    disabled: Sequence[str],
) -> ScreeningSummary:
    flags: dict[str, nw.Expr] = {}
    for decision in DECISIONS:
        flags[f"p_{decision}"] = (nw.col("proposed") == decision).cast(nw.Int64)
        flags[f"d_{decision}"] = (nw.col("decision") == decision).cast(nw.Int64)
    flags["overridden"] = (~nw.col("override").is_null()).cast(nw.Int64)
    for i, _criterion, needs in enabled:
        if needs is None:
            flags[f"x_{i}"] = nw.col(f"_x{i}").fill_null(value=False).cast(nw.Int64)
            flags[f"u_{i}"] = nw.col(f"_x{i}").is_null().cast(nw.Int64)
    row = (
        result.with_columns(**flags)
        .select(nw.len().alias("n"), *(nw.col(name).sum() for name in flags))
        .collect()
        .rows(named=True)[0]
    )
    n = int(row["n"])

    def count(name: str) -> int:
        return int(row.get(name) or 0)

    return ScreeningSummary(
        patients=n,
        proposed={d: count(f"p_{d}") for d in DECISIONS},
        decided={d: count(f"d_{d}") for d in DECISIONS},
        overridden=count("overridden"),
        criteria=tuple(
            CriterionCount(
                key=c.key,
                label=c.label,
                excluded=count(f"x_{i}") if needs is None else 0,
                undecided=count(f"u_{i}") if needs is None else n,
                needs=needs,
            )
            for i, c, needs in enabled
        ),
        disabled=tuple(disabled),
    )
