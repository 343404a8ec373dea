"""The programme register: what was decided and done, kept safely between runs.

:class:`Register` holds the rules; a :class:`~benzoredux.hookspecs.RegisterStore` keeps
the entries. Every write method:

* takes ``by`` (who) and stamps the time (when, UTC);
* runs in one transaction (:meth:`Register.transaction` groups several calls into one step);
* appends, never overwrites: a change is a new revision of the same key, and the current state
  of a key is its latest revision (:meth:`Register.history` shows all of them);
* is idempotent: recording what is already recorded adds nothing.

Stop letters have one rule more: a patient who already had a stop letter in this programme is
refused a second one (:class:`~benzoredux.register.errors.LetterRefusedError`) unless it is
forced with a reason, which is recorded with the letter.

>>> import datetime as dt
>>> from benzoredux.models import StopLetter
>>> from benzoredux.register.core import Register
>>> from benzoredux.register.memory import MemoryStore
>>> register = Register(MemoryStore())
>>> letter = StopLetter(patient_id="p1", gp_ids=["gp1"], letter_date=dt.date(2026, 2, 2), batch=1)
>>> len(register.record_letters([letter], by="assistant").recorded)
1
>>> len(register.record_letters([letter], by="assistant").unchanged)  # the same batch again
1
>>> again = StopLetter(patient_id="p1", gp_ids=["gp1"], letter_date=dt.date(2026, 3, 2), batch=2)
>>> register.record_letters([again], by="assistant")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
benzoredux.register.errors.LetterRefusedError: refused 1 stop letter(s): patient(s) 'p1' ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import pandas as pd
from attrs import field, frozen
from narwhals.typing import IntoFrame

from benzoredux.models import Consult, LetterKind, Practice, StopLetter
from benzoredux.register.errors import LetterRefusedError, RegisterError
from benzoredux.register.schema import (
    KINDS,
    CallOutcome,
    LetterStatus,
    ProgrammeUnit,
    ScreeningSource,
    TaskStatus,
)
from benzoredux.register.store import Entry, RegisterStore

__all__ = ["LetterResult", "Register", "ScreeningDecision", "default_by"]


def default_by() -> str:
    """Who acts when nobody says: the login name (``unknown`` where there is none, as in some
    containers). Every write to the register records who made it; the command line's ``--by``
    and :class:`benzoredux.Programme` default to this."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@frozen(kw_only=True)
class ScreeningDecision:
    """One patient's screening outcome, as the program proposes it or the GP decides it.

    ``reasons`` are the keys of the criteria that exclude (or short reasons in words).
    """

    patient_id: str
    excluded: bool
    reasons: tuple[str, ...] = field(default=(), converter=tuple)
    note: str = ""


@frozen(kw_only=True)
class LetterResult:
    """What :meth:`Register.record_letters` did (or :meth:`Register.check_letters` would do)."""

    recorded: tuple[Entry, ...]
    """Letters recorded now (forced ones have ``forced`` true and a ``force_reason``)."""
    unchanged: tuple[Entry, ...]
    """Letters already recorded for the same patient, kind and batch: nothing added."""
    refused: tuple[str, ...]
    """Patients refused a second stop letter (only with ``skip_refused=True``)."""


class Register:
    """The programme register over a store (see the module docstring for the rules).

    Open one with :func:`~benzoredux.register.open_register`; ``clock`` gives the time stamps
    (UTC) and exists for tests and imports.
    """

    def __init__(
        self, store: RegisterStore, *, clock: Callable[[], dt.datetime] = _utc_now
    ) -> None:
        self.store = store
        self._clock = clock
        self._depth = 0

    # --- housekeeping ---------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the register is kept."""
        return self.store.location

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Register({self.location!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One step: every write inside the block is kept, or (on any exception) none is.

        Write methods called inside join this transaction instead of opening their own.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        with self.store.transaction():
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0

    # --- reading --------------------------------------------------------------------------
    def history(self, kind: str, key: Sequence[Any] | None = None) -> list[Entry]:
        """Every entry of ``kind`` (of one key), oldest first: the audit trail."""
        _spec(kind)
        return self.store.entries(kind, None if key is None else tuple(key))

    def current(self, kind: str) -> list[Entry]:
        """The latest revision of every key of ``kind``, in the order the keys first appeared."""
        latest: dict[tuple[Any, ...], Entry] = {}
        for entry in self.history(kind):
            if entry.key not in latest or entry.revision > latest[entry.key].revision:
                latest[entry.key] = entry
        return list(latest.values())

    def latest(self, kind: str, key: Sequence[Any]) -> Entry | None:
        """The current entry of one key, or ``None`` if it was never recorded."""
        history = self.history(kind, key)
        return max(history, key=lambda e: e.revision) if history else None

    # --- the generic write ----------------------------------------------------------------
    def _entry(
        self, kind: str, data: Mapping[str, Any], *, by: str, remark: str, revision: int
    ) -> Entry:
        if not isinstance(by, str) or not by.strip():
            raise RegisterError(f"{kind}: say who records this (by=...)")
        return Entry(
            kind=kind,
            revision=revision,
            recorded_at=self._clock().astimezone(dt.UTC),
            recorded_by=by.strip(),
            remark=remark,
            data=data,
        )

    def _put(self, kind: str, values: Mapping[str, Any], *, by: str, remark: str = "") -> Entry:
        """Record ``values`` as the current state of their key, unless it already is."""
        spec = _spec(kind)
        data = spec.normalise(values)
        with self.transaction():
            previous = self.latest(kind, spec.key_of(data))
            if previous is not None and previous.data == data:
                return previous
            if previous is not None and spec.immutable:
                raise RegisterError(
                    f"{kind} {spec.describe_key(spec.key_of(data))} is kept as recorded and "
                    "cannot be changed"
                )
            revision = previous.revision + 1 if previous else 1
            entry = self._entry(kind, data, by=by, remark=remark, revision=revision)
            return self.store.append([entry])[0]

    def correct(
        self, kind: str, key: Sequence[Any], *, by: str, remark: str, **changes: Any
    ) -> Entry:
        """Record a correction of one key: a new revision with ``changes``, and why.

        The earlier revisions stay in :meth:`history`. Key fields cannot change (record the
        right key instead, and withdraw or correct the wrong one).
        """
        spec = _spec(kind)
        if not remark.strip():
            raise RegisterError(f"{kind}: a correction needs a remark saying why")
        touched = sorted(set(changes) & set(spec.key))
        if touched:
            raise RegisterError(f"{kind}: a correction cannot change the key field(s) {touched}")
        with self.transaction():
            previous = self.latest(kind, tuple(key))
            if previous is None:
                raise RegisterError(
                    f"{kind} {spec.describe_key(tuple(key))} is not in the register"
                )
            return self._put(kind, {**previous.data, **changes}, by=by, remark=remark)

    # --- the programme --------------------------------------------------------------------
    def set_programme(
        self,
        practice: Practice,
        *,
        reference_date: dt.date,
        by: str,
        unit: ProgrammeUnit | str = ProgrammeUnit.PRACTICE,
        name: str | None = None,
        criteria: Mapping[str, bool] | None = None,
        options: Mapping[str, Any] | None = None,
        remark: str = "",
    ) -> Entry:
        """Record the programme: the practice or FTO group, its GPs, the reference date, the
        screening criteria switched on or off (by key) and other options."""
        return self._put(
            "programme",
            {
                "name": name or practice.name,
                "unit": ProgrammeUnit(unit),
                "practice_id": practice.practice_id,
                "gps": [
                    {"gp_id": g.gp_id, "name": g.name, "agb_code": g.agb_code} for g in practice.gps
                ],
                "pharmacists": [
                    {
                        "pharmacist_id": p.pharmacist_id,
                        "name": p.name,
                        "pharmacy_name": p.pharmacy_name,
                        "agb_code": p.agb_code,
                    }
                    for p in practice.pharmacists
                ],
                "reference_date": reference_date,
                "criteria": dict(criteria or {}),
                "options": dict(options or {}),
            },
            by=by,
            remark=remark,
        )

    def programme(self) -> Entry | None:
        """The programme as currently recorded, or ``None`` before :meth:`set_programme`."""
        return self.latest("programme", ())

    # --- step 1: the selection snapshot ---------------------------------------------------
    def snapshot_selection(
        self,
        selection: IntoFrame,
        *,
        reference_date: dt.date,
        by: str,
        source: str = "",
    ) -> Entry:
        """Keep the selection as it was: one row per patient (``patient_id`` required).

        ``selection`` is any dataframe narwhals reads (pandas, polars, ...). ``gp_id`` is kept
        as a column; the other columns go into each row's ``data``. Taking the same selection
        again (same reference date and rows) returns the latest snapshot instead of a new one.
        """
        rows, columns = _selection_rows(selection)
        with self.transaction():
            snapshots = self.current("selections")
            if snapshots:
                last = snapshots[-1]
                if (
                    last["reference_date"] == reference_date
                    and self._snapshot_rows(last["snapshot_id"]) == rows
                ):
                    return last
            snapshot_id = len(snapshots) + 1
            meta = self._entry(
                "selections",
                KINDS["selections"].normalise(
                    {
                        "snapshot_id": snapshot_id,
                        "reference_date": reference_date,
                        "source": source,
                        "rows": len(rows),
                        "columns": columns,
                    }
                ),
                by=by,
                remark="",
                revision=1,
            )
            spec = KINDS["selection_rows"]
            entries = [meta] + [
                self._entry(
                    "selection_rows",
                    # data is JSON's values already (_selection_rows): normalised as it is
                    {
                        **spec.normalise({"snapshot_id": snapshot_id, **row, "data": None}),
                        "data": row["data"],
                    },
                    by=by,
                    remark="",
                    revision=1,
                )
                for row in rows
            ]
            return self.store.append(entries)[0]

    def _snapshot_rows(self, snapshot_id: int) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in e.data.items() if k != "snapshot_id"}
            for e in self.history("selection_rows")
            if e["snapshot_id"] == snapshot_id
        ]

    def selection(self, snapshot_id: int | None = None) -> pd.DataFrame:
        """The patients of a snapshot (the latest by default) as a pandas DataFrame."""
        snapshots = self.current("selections")
        if not snapshots:
            raise RegisterError("the register holds no selection yet")
        chosen = snapshots[-1] if snapshot_id is None else None
        for snapshot in snapshots:
            if snapshot["snapshot_id"] == snapshot_id:
                chosen = snapshot
        if chosen is None:
            raise RegisterError(f"the register holds no selection snapshot {snapshot_id}")
        rows = self._snapshot_rows(chosen["snapshot_id"])
        columns = ["patient_id", "gp_id", *chosen["columns"]]
        return pd.DataFrame(
            [{"patient_id": r["patient_id"], "gp_id": r["gp_id"], **r["data"]} for r in rows],
            columns=columns,
        )

    # --- step 2: screening ----------------------------------------------------------------
    def record_screening(
        self,
        decisions: Iterable[ScreeningDecision],
        *,
        by: str,
        source: ScreeningSource | str = ScreeningSource.GP,
        remark: str = "",
    ) -> list[Entry]:
        """Record screening decisions in one transaction; returns the entries added.

        ``source="proposal"`` is what the program proposes; ``source="gp"`` (the default) is
        the GP's decision, which wins over any proposal, also one recorded later. A GP decision
        that differs from the current proposal is marked ``overrides_proposal``.
        """
        source = ScreeningSource(source)
        added = []
        with self.transaction():
            for decision in decisions:
                overrides = False
                if source is ScreeningSource.GP:
                    proposal = self.latest("screening", (decision.patient_id, "proposal"))
                    overrides = proposal is not None and proposal["excluded"] != decision.excluded
                before = self.latest("screening", (decision.patient_id, source.value))
                entry = self._put(
                    "screening",
                    {
                        "patient_id": decision.patient_id,
                        "source": source,
                        "excluded": decision.excluded,
                        "reasons": list(decision.reasons),
                        "overrides_proposal": overrides,
                        "note": decision.note,
                    },
                    by=by,
                    remark=remark,
                )
                if before is None or entry.entry_id != before.entry_id:
                    added.append(entry)
        return added

    def screening(self) -> dict[str, Entry]:
        """The decision in force per patient: the GP's if there is one, else the proposal."""
        decided: dict[str, Entry] = {}
        for entry in self.current("screening"):
            patient = entry["patient_id"]
            if entry["source"] == "gp" or patient not in decided:
                decided[patient] = entry
        return decided

    # --- steps 3 and 4: letters and invitations -------------------------------------------
    def check_letters(
        self, letters: Iterable[StopLetter], *, force: Mapping[str, str] | None = None
    ) -> LetterResult:
        """What :meth:`record_letters` would do, without recording anything.

        Ask this before printing: ``refused`` lists the patients who already had a stop letter.
        """
        recorded, unchanged, refused = self._plan_letters(letters, force or {}, by="check")
        return LetterResult(recorded=tuple(recorded), unchanged=tuple(unchanged), refused=refused)

    def record_letters(
        self,
        letters: Iterable[StopLetter],
        *,
        by: str,
        force: Mapping[str, str] | None = None,
        skip_refused: bool = False,
    ) -> LetterResult:
        """Record stop letters and invitations as sent, in one transaction.

        * A letter already recorded for the same patient, kind and batch is not recorded
          again (``unchanged``): sending a batch twice does not duplicate letters.
        * A stop letter for a patient who already had one in this programme (another batch)
          is refused: :class:`~benzoredux.register.errors.LetterRefusedError`, and nothing is
          recorded. ``force={patient_id: reason}`` sends it on purpose; the letter is recorded
          with ``forced`` and the reason. ``skip_refused=True`` records the others and lists
          the refused patients in the result.
        * ``sent_date`` is the letter's own, or else its ``letter_date``.
        """
        with self.transaction():
            recorded, unchanged, refused = self._plan_letters(letters, force or {}, by=by)
            if refused and not skip_refused:
                raise LetterRefusedError(refused)
            stored = self.store.append(recorded)
        return LetterResult(recorded=tuple(stored), unchanged=tuple(unchanged), refused=refused)

    def _plan_letters(
        self, letters: Iterable[StopLetter], force: Mapping[str, str], *, by: str
    ) -> tuple[list[Entry], list[Entry], tuple[str, ...]]:
        for patient_id, reason in force.items():
            if not str(reason).strip():
                raise RegisterError(f"letters: forcing a letter for {patient_id!r} needs a reason")
        spec = KINDS["letters"]
        current = {e.key: e for e in self.current("letters")}
        stop_letter_holders = {
            e["patient_id"]
            for e in current.values()
            if e["kind"] == LetterKind.STOP_LETTER and e["status"] == LetterStatus.SENT
        }
        recorded: list[Entry] = []
        unchanged: list[Entry] = []
        refused: list[str] = []
        planned: set[tuple[Any, ...]] = set()
        for letter in letters:
            key = (letter.patient_id, letter.kind.value, letter.batch or 0)
            previous = current.get(key)
            if key in planned:
                continue
            if previous is not None and previous["status"] == LetterStatus.SENT:
                unchanged.append(previous)
                continue
            forced = False
            is_stop = letter.kind is LetterKind.STOP_LETTER
            if is_stop and letter.patient_id in stop_letter_holders:
                if letter.patient_id not in force:
                    refused.append(letter.patient_id)
                    continue
                forced = True
            data = spec.normalise(
                {
                    "patient_id": letter.patient_id,
                    "kind": letter.kind,
                    "batch": letter.batch or 0,
                    "letter_date": letter.letter_date,
                    "sent_date": letter.sent_date or letter.letter_date,
                    "gp_ids": list(letter.gp_ids),
                    "pharmacist_ids": list(letter.pharmacist_ids),
                    "template": letter.template,
                    "status": LetterStatus.SENT,
                    "forced": forced,
                    "force_reason": force[letter.patient_id] if forced else "",
                }
            )
            revision = previous.revision + 1 if previous else 1
            recorded.append(self._entry("letters", data, by=by, remark="", revision=revision))
            planned.add(key)
            if is_stop:
                stop_letter_holders.add(letter.patient_id)
        return recorded, unchanged, tuple(refused)

    def withdraw_letter(
        self, patient_id: str, kind: LetterKind | str, batch: int | None, *, by: str, remark: str
    ) -> Entry:
        """Record that a letter was not sent after all (recorded by mistake); says why."""
        key = (patient_id, LetterKind(kind).value, batch or 0)
        return self.correct("letters", key, by=by, remark=remark, status=LetterStatus.WITHDRAWN)

    def letters(self, kind: LetterKind | str | None = None) -> list[Entry]:
        """The letters sent (current, not withdrawn), of one kind if given."""
        wanted = None if kind is None else LetterKind(kind).value
        return [
            e
            for e in self.current("letters")
            if e["status"] == LetterStatus.SENT and wanted in (None, e["kind"])
        ]

    def stop_letter(self, patient_id: str) -> Entry | None:
        """The first stop letter sent to ``patient_id`` in this programme, if any."""
        for entry in self.letters(LetterKind.STOP_LETTER):
            if entry["patient_id"] == patient_id:
                return entry
        return None

    # --- step 4: phone calls to non-responders --------------------------------------------
    def record_call(
        self,
        patient_id: str,
        *,
        called_on: dt.date,
        outcome: CallOutcome | str,
        by: str,
        invitation_batch: int | None = None,
        note: str = "",
        remark: str = "",
    ) -> Entry:
        """Record a phone call to a patient who did not respond to the invitation.

        One entry per patient and day: recording the same day again with another outcome is a
        new revision of that call.
        """
        return self._put(
            "phone_calls",
            {
                "patient_id": patient_id,
                "called_on": called_on,
                "outcome": CallOutcome(outcome),
                "invitation_batch": invitation_batch,
                "note": note,
            },
            by=by,
            remark=remark,
        )

    # --- step 5: consults -----------------------------------------------------------------
    def record_consult(self, consult: Consult, *, by: str, remark: str = "") -> Entry:
        """Record an evaluation consult (one per patient and day)."""
        return self._put(
            "consults",
            {
                "patient_id": consult.patient_id,
                "date": consult.date,
                "held_by": consult.held_by,
                "attended": consult.attended,
                "by_phone": consult.by_phone,
                "outcome": consult.outcome,
                "plan": consult.plan,
                "scores": dict(consult.scores),
                "note": consult.note,
            },
            by=by,
            remark=remark,
        )

    # --- step 6: the plan of action and evaluation ----------------------------------------
    def set_task(
        self,
        task_id: str,
        *,
        what: str,
        by: str,
        step: str = "",
        who: str = "",
        month: int | None = None,
        due: dt.date | None = None,
        status: TaskStatus | str = TaskStatus.OPEN,
        note: str = "",
        remark: str = "",
    ) -> Entry:
        """Record a task of the plan of action (bijlage 3), or change it."""
        return self._put(
            "tasks",
            {
                "task_id": task_id,
                "step": step,
                "what": what,
                "who": who,
                "month": month,
                "due": due,
                "status": TaskStatus(status),
                "note": note,
            },
            by=by,
            remark=remark,
        )

    def set_task_status(
        self,
        task_id: str,
        status: TaskStatus | str,
        *,
        by: str,
        note: str | None = None,
        remark: str = "",
    ) -> Entry:
        """Move a task to ``status`` (a new revision; the earlier ones stay in the history)."""
        with self.transaction():
            previous = self.latest("tasks", (task_id,))
            if previous is None:
                raise RegisterError(f"tasks: no task {task_id!r} in the register")
            changes: dict[str, Any] = {"status": TaskStatus(status)}
            if note is not None:
                changes["note"] = note
            return self._put("tasks", {**previous.data, **changes}, by=by, remark=remark)

    def record_evaluation(
        self,
        *,
        kind: str,
        run_date: dt.date,
        results: Mapping[str, Any],
        by: str,
        parameters: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> Entry:
        """Record an evaluation run and its figures (never patient data: counts and rates).

        ``run_id`` defaults to ``run-1``, ``run-2``, ...; recording a run with an existing
        ``run_id`` and other figures is a new revision of that run.
        """
        with self.transaction():
            if run_id is None:
                run_id = f"run-{len(self.current('evaluations')) + 1}"
            return self._put(
                "evaluations",
                {
                    "run_id": run_id,
                    "run_date": run_date,
                    "kind": kind,
                    "parameters": dict(parameters or {}),
                    "results": dict(results),
                },
                by=by,
            )

    # --- overview -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts for ``benzoredux register show`` (no patient data)."""
        programme = self.programme()
        screening = self.screening()
        snapshots = self.current("selections")
        tasks: dict[str, int] = {}
        for task in self.current("tasks"):
            tasks[task["status"]] = tasks.get(task["status"], 0) + 1
        return {
            "programme": programme["name"] if programme else None,
            "reference_date": programme["reference_date"] if programme else None,
            "selection_snapshots": len(snapshots),
            "selected_patients": snapshots[-1]["rows"] if snapshots else 0,
            "screened": len(screening),
            "excluded": sum(1 for e in screening.values() if e["excluded"]),
            "gp_overrides": sum(1 for e in screening.values() if e["overrides_proposal"]),
            "stop_letters": len(self.letters(LetterKind.STOP_LETTER)),
            "forced_stop_letters": sum(
                1 for e in self.letters(LetterKind.STOP_LETTER) if e["forced"]
            ),
            "invitations": len(self.letters(LetterKind.INVITATION)),
            "phone_calls": len(self.current("phone_calls")),
            "consults": len(self.current("consults")),
            "tasks": tasks,
            "evaluations": len(self.current("evaluations")),
            "entries": sum(len(self.history(kind)) for kind in KINDS),
        }


def _spec(kind: str) -> Any:
    try:
        return KINDS[kind]
    except KeyError:
        raise RegisterError(
            f"the register has no kind {kind!r}; kinds: {', '.join(KINDS)}"
        ) from None


def _selection_rows(selection: Any) -> tuple[list[dict[str, Any]], list[str]]:
    import narwhals as nw

    from benzoredux.errors import MissingColumnsError

    frame = nw.from_native(cast(Any, selection))
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if "patient_id" not in frame.columns:
        raise MissingColumnsError("selection", ["patient_id"], frame.columns)
    columns = [c for c in frame.columns if c not in ("patient_id", "gp_id")]
    records = frame.rows(named=True)  # the values as a row gives them (pd.NA as None)
    data = _data_by_column(records, columns)
    rows = []
    seen: set[str] = set()
    for number, raw in enumerate(records, start=1):
        patient = raw["patient_id"]
        if not isinstance(patient, str) or not patient.strip():
            raise RegisterError(f"selection row {number}: patient_id is missing or not text")
        if patient in seen:
            raise RegisterError(f"selection row {number}: patient_id {patient!r} occurs twice")
        seen.add(patient)
        gp = raw.get("gp_id")
        # A value JSON cannot hold is refused with the message of the row's own check.
        values = data[number - 1] if data is not None else _row_data(raw, columns)
        rows.append(
            {"patient_id": patient, "gp_id": "" if _missing(gp) else str(gp), "data": values}
        )
    return rows, columns


def _row_data(raw: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
    """A row's ``data`` as the register keeps it (missing values ``None``, the rest as JSON
    holds it); raises :class:`RegisterError` for a value JSON cannot hold."""
    return cast(
        dict[str, Any],
        KINDS["selection_rows"].normalise(
            {
                "snapshot_id": 0,
                "patient_id": raw["patient_id"],
                "data": {c: (None if _missing(raw[c]) else raw[c]) for c in columns},
            }
        )["data"],
    )


def _data_by_column(
    records: list[dict[str, Any]], columns: list[str]
) -> list[dict[str, Any]] | None:
    """Every row's ``data`` as :func:`_row_data` gives it, a column at a time: one JSON text
    per column instead of one per row (a region's snapshot of 50,000 patients took seconds,
    issue 19). ``None`` when a value cannot be held, so that the rows are checked one by one
    and the row is named."""
    import json

    from benzoredux.register.schema import _json_default

    converted = []
    for column in columns:
        values = [None if _missing(v) else v for v in (raw[column] for raw in records)]
        try:
            text = json.dumps(values, default=_json_default, allow_nan=False)
        except (TypeError, ValueError):
            return None
        converted.append(json.loads(text))
    if not columns:
        return [{} for _ in records]
    return [dict(zip(columns, values, strict=True)) for values in zip(*converted, strict=True)]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # noqa: PLR0124 (NaN and NaT are not equal to themselves)
    except (TypeError, ValueError):
        return False
