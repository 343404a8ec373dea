"""Run the minimal intervention over a programme register, from an add-on, without the CLI.

:class:`Programme` is the public API for a whole programme: one method per step of the FTO
module (select, screen, schedule, letters, plan, evaluate, report) plus what a programme needs
between the steps (the GP's own screening decisions, the calls to non-responders, the consult
results). Each step method takes dataframes (any kind narwhals reads) or the paths of canonical
files, calls the same library function the command line calls, records the result in the
register exactly as the command records it (:mod:`benzoredux.register.steps`) and returns the
step's result. Recording is idempotent, so running a step again adds nothing twice, and a
second stop letter to the same patient is refused unless forced with a reason, as on the
command line.

Who acts (``by``) is given once, when the programme is opened; it defaults to the login name,
like ``--by``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from attrs import frozen

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.register.core import default_by

__all__ = ["Evaluation", "Programme", "planned_letters"]

PathOrFrame = Any
"""A dataframe of any supported kind, or the path of a canonical CSV or Parquet file."""


def _canonical(value: PathOrFrame | None, schema: Any) -> Any:
    """A table given as a frame is used as is; a path is read as the CLI reads it."""
    if value is None:
        return None
    if isinstance(value, str | os.PathLike):
        from benzoredux.reading import read_canonical

        return read_canonical(value, schema)
    return value


def _source_name(value: Any, default: str) -> str:
    return Path(value).name if isinstance(value, str | os.PathLike) else default


@frozen
class Evaluation:
    """Step 6's result: the effect evaluation and the process table."""

    effect: Any
    """The :class:`benzoredux.EffectEvaluation`."""
    process: Any
    """:func:`benzoredux.evaluate_process`'s table (pandas)."""


def planned_letters(
    table: Any,
    *,
    practice: Any,
    kind: Literal["stop_letter", "invitation"] = "stop_letter",
    letter_date: DateLike | None = None,
    signed_by: Literal["own_gp", "all_gps"] = "own_gp",
    pharmacists: bool = False,
    appointments: bool = False,
    consult_with: str | None = None,
) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """The letters to write from a schedule (pandas,
    :attr:`benzoredux.schedule.Schedule.table`) or a screening table, and the extra fields of
    each letter.

    From a schedule every batch gets its own date (stop letters: ``letter_date``, invitations:
    ``invitation_date``, with the call date and, with ``appointments``, the reserved consult).
    Without a schedule every letter gets ``letter_date``; without one that raises
    :class:`ValueError`.
    """
    from benzoredux.letters.compose import plan_letters
    from benzoredux.schedule import Schedule, ScheduleOptions, invitation_fields

    planned: list[Any] = []
    extra: dict[str, dict[str, Any]] = {}
    if "letter_date" in table.columns and "batch" in table.columns:
        date_column = "letter_date" if kind == "stop_letter" else "invitation_date"
        for (batch, day), group in table.groupby(["batch", date_column], sort=True):
            planned += plan_letters(
                group,
                practice=practice,
                letter_date=day,
                kind=kind,
                signed_by=signed_by,
                pharmacists=pharmacists,
                batches=dict.fromkeys(group["patient_id"], int(batch)),
            )
        if kind == "invitation":
            if "consult_at" in table.columns:
                import pandas as pd

                table["consult_at"] = pd.to_datetime(table["consult_at"], format="ISO8601")
            schedule = Schedule(table=table, batches=None, options=ScheduleOptions())
            extra = invitation_fields(
                schedule, appointments=appointments, consult_with=consult_with
            )
        return planned, extra
    if letter_date is None:
        raise ValueError("without a schedule, give a letter date")
    planned = plan_letters(
        table,
        practice=practice,
        letter_date=letter_date,
        kind=kind,
        signed_by=signed_by,
        pharmacists=pharmacists,
    )
    if consult_with:
        extra = {letter.patient_id: {"consult_with": consult_with} for letter in planned}
    return planned, extra


class Programme:
    """One programme of the minimal intervention, over its register.

    Open it with :meth:`create` or :meth:`open`, as a context manager (the register is closed
    at the end). The step methods remember their last result, so a step without its input
    continues from the previous one, as the commands continue from the previous step's file.
    """

    def __init__(self, register: Any, *, by: str | None = None) -> None:
        self.register = register
        """The :class:`benzoredux.Register` the steps record in."""
        self.by = by or default_by()
        """Who acts: recorded in the register's audit trail."""
        self._selection: Any = None
        self._screening: Any = None
        self._schedule: Any = None

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        location: str | os.PathLike[str],
        *,
        practice: Any = None,
        reference_date: DateLike | None = None,
        by: str | None = None,
    ) -> Programme:
        """Make (or open) the register at ``location``; with ``practice`` and
        ``reference_date`` also record the programme
        (:meth:`benzoredux.register.core.Register.set_programme`), which :meth:`select` would
        otherwise make with a placeholder practice."""
        from benzoredux.register import open_register

        programme = cls(open_register(location, create=True), by=by)
        if practice is not None:
            if reference_date is None:
                programme.close()
                raise ValueError("a practice needs its programme's reference_date")
            programme.register.set_programme(
                practice,
                reference_date=parse_reference_date(reference_date),
                by=programme.by,
            )
        return programme

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, by: str | None = None) -> Programme:
        """Open an existing register (it must exist: a mistyped path raises instead of making
        an empty programme)."""
        from benzoredux.register import open_register

        return cls(open_register(location), by=by)

    def close(self) -> None:
        """Close the register."""
        self.register.close()

    def __enter__(self) -> Programme:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def practice(self) -> Any:
        """The programme's :class:`benzoredux.Practice` as the register holds it (``None``
        before a programme is recorded)."""
        from benzoredux.register.steps import programme_practice

        current = self.register.programme()
        return None if current is None else programme_practice(current)

    def _reference_date(self, value: DateLike | None) -> dt.date:
        if value is not None:
            return parse_reference_date(value)
        current = self.register.programme()
        if current is None:
            raise ValueError("give a reference_date: the register holds no programme yet")
        return cast(dt.date, current["reference_date"])

    # --- step 1 -------------------------------------------------------------------------
    def select(
        self,
        dispensings: PathOrFrame,
        reference_date: DateLike | None = None,
        *,
        patients: PathOrFrame | None = None,
        episodes: PathOrFrame | None = None,
        practice: Any = None,
        **options: Any,
    ) -> Any:
        """Step 1: :func:`benzoredux.select_chronic_users`, recorded as the ``select``
        command records it (the programme with these options, and the selection snapshot).

        ``reference_date`` defaults to the programme's; ``practice`` replaces the programme's
        practice and GPs. Returns the selection (pandas).
        """
        from benzoredux.register.steps import record_selection_step
        from benzoredux.selection import select_chronic_users
        from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

        reference = self._reference_date(reference_date)
        selection = select_chronic_users(
            _canonical(dispensings, DISPENSINGS),
            reference,
            patients=_canonical(patients, PATIENTS),
            episodes=_canonical(episodes, EPISODES),
            **options,
        )
        record_selection_step(
            self.register,
            selection,
            reference_date=reference,
            practice=practice,
            options=options,
            source=_source_name(dispensings, "dataframe"),
            by=self.by,
        )
        self._selection = selection
        return selection

    # --- step 2 -------------------------------------------------------------------------
    def screen(
        self,
        selection: Any = None,
        reference_date: DateLike | None = None,
        *,
        patients: PathOrFrame | None = None,
        episodes: PathOrFrame | None = None,
        **options: Any,
    ) -> Any:
        """Step 2: :func:`benzoredux.screen` (``options``: ``enable``, ``disable``,
        ``parameters``, ``overrides``, ``missing_data``), recorded as the ``screen`` command
        records it. ``selection`` defaults to this programme's last :meth:`select`.
        Returns the :class:`benzoredux.Screening`."""
        from benzoredux.register.steps import record_screening_step
        from benzoredux.screening import screen
        from benzoredux.tables import EPISODES, PATIENTS

        chosen = self._selection if selection is None else selection
        if chosen is None:
            raise ValueError("give the selection to screen (or run select first)")
        result = screen(
            chosen,
            self._reference_date(reference_date),
            patients=_canonical(patients, PATIENTS),
            episodes=_canonical(episodes, EPISODES),
            **options,
        )
        # As the command names the overrides file (or the selection) the decisions came from.
        overrides = options.get("overrides")
        source = _source_name(selection if overrides is None else overrides, "dataframe")
        record_screening_step(
            self.register, result.table, result.summary, source=source, by=self.by
        )
        self._screening = result
        return result

    def override(
        self,
        patient_id: str,
        decision: Literal["eligible", "excluded"],
        *,
        by: str | None = None,
        note: str = "",
    ) -> Any:
        """Record a GP's own screening decision for one patient (the GP decides, bijlage 2):
        ``by`` is the GP (default: who acts). Recorded as the ``screen`` command records the
        override columns; returns the entries added (none when already recorded)."""
        from benzoredux.register.steps import record_gp_decision

        if decision not in ("eligible", "excluded"):
            raise ValueError(f"decision must be 'eligible' or 'excluded', not {decision!r}")
        return record_gp_decision(
            self.register,
            patient_id,
            excluded=decision == "excluded",
            note=note,
            by=by or self.by,
            remark=f"entered by {self.by}",
        )

    # --- steps 3 and 4 ------------------------------------------------------------------
    def schedule(
        self, screening: Any = None, first_letter_date: DateLike | None = None, **options: Any
    ) -> Any:
        """Steps 3-4: :func:`benzoredux.plan_schedule` for the eligible patients
        (``options``: any field of :class:`benzoredux.schedule.ScheduleOptions`), its batches
        recorded as tasks as the ``schedule`` command records them. ``screening`` defaults to
        the last :meth:`screen`. Returns the :class:`benzoredux.Schedule`."""
        from benzoredux.register.steps import record_schedule_tasks
        from benzoredux.schedule import plan_schedule

        if first_letter_date is None:
            raise ValueError("give the first_letter_date")
        chosen = self._screening if screening is None else screening
        if chosen is None:
            raise ValueError("give the screening to schedule (or run screen first)")
        table = getattr(chosen, "table", chosen)
        plan = plan_schedule(table, first_letter_date, **options)
        if len(plan.table):
            record_schedule_tasks(self.register, plan.batches, by=self.by)
        self._schedule = plan
        return plan

    def letters(
        self,
        patients: PathOrFrame,
        out: str | os.PathLike[str],
        *,
        source: Any = None,
        kind: Literal["stop_letter", "invitation"] = "stop_letter",
        letter_date: DateLike | None = None,
        practice: Any = None,
        place: str | None = None,
        style: str = "default",
        signed_by: Literal["own_gp", "all_gps"] = "own_gp",
        pharmacists: bool = False,
        appointments: bool = False,
        consult_with: str | None = None,
        pdf: bool | Literal["auto"] = False,
        force_second_letter: str | None = None,
    ) -> Any:
        """Steps 3-4: write the stop letters or invitations into ``out``
        (:func:`benzoredux.letters.compose.render_letters`) and record them as sent.

        ``source`` is a schedule or screening table (default: the last :meth:`schedule`);
        ``practice`` defaults to the programme's. Patients who already had a stop letter in
        this programme are refused **before** anything is written
        (:class:`benzoredux.register.errors.LetterRefusedError`), unless
        ``force_second_letter`` says why a second one goes out. Returns the
        :class:`~benzoredux.letters.compose.LetterOutput`.
        """
        from benzoredux.letters.compose import render_letters
        from benzoredux.register import LetterRefusedError
        from benzoredux.register.steps import (
            forced_letters,
            record_letters_sent,
            refused_stop_letters,
        )
        from benzoredux.tables import PATIENTS

        chosen = self._schedule if source is None else source
        if chosen is None:
            raise ValueError("give the source of the letters (or run schedule first)")
        table = getattr(chosen, "table", chosen)
        the_practice = practice if practice is not None else self.practice
        if the_practice is None:
            raise ValueError("give the practice: the register holds no programme yet")
        planned, extra = planned_letters(
            table.copy(),
            practice=the_practice,
            kind=kind,
            letter_date=letter_date,
            signed_by=signed_by,
            pharmacists=pharmacists,
            appointments=appointments,
            consult_with=consult_with,
        )
        force = forced_letters(planned, force_second_letter)
        refused = refused_stop_letters(self.register, planned, force)
        if refused:
            error = LetterRefusedError(refused)
            error.args = (
                f"refused: {len(refused)} patient(s) already had a stop letter in this "
                "programme; nothing was written. Leave them out of the source, or send a second "
                "letter on purpose with force_second_letter=REASON",
            )
            raise error
        result = render_letters(
            planned,
            _canonical(patients, PATIENTS),
            the_practice,
            out,
            style=style,
            place=place,
            extra=extra,
            pdf=pdf,
        )
        record_letters_sent(
            self.register, [letter for letter, _ in result.letters], by=self.by, force=force
        )
        return result

    def record_call(
        self,
        patient_id: str,
        *,
        called_on: DateLike,
        outcome: str,
        invitation_batch: int | None = None,
        note: str = "",
    ) -> Any:
        """Step 4: a phone call to a patient who did not respond to the invitation
        (:meth:`benzoredux.register.core.Register.record_call`; ``outcome`` a
        :class:`benzoredux.models.CallOutcome` value)."""
        return self.register.record_call(
            patient_id,
            called_on=parse_reference_date(called_on, name="called_on"),
            outcome=outcome,
            by=self.by,
            invitation_batch=invitation_batch,
            note=note,
        )

    # --- step 5 -------------------------------------------------------------------------
    def record_consult(self, consults: Any) -> list[Any]:
        """Step 5: the results of evaluation consults: one :class:`benzoredux.Consult`, several,
        or a :data:`~benzoredux.CONSULTS` table (a frame or a canonical file). Returns the
        register's entries (recording the same consult again adds no revision)."""
        from benzoredux.consult.records import CONSULTS, consults_from_frame
        from benzoredux.models import Consult

        if isinstance(consults, Consult):
            records: Iterable[Any] = [consults]
        elif isinstance(consults, list | tuple):
            records = consults
        else:
            records = consults_from_frame(_canonical(consults, CONSULTS))
        with self.register.transaction():
            return [self.register.record_consult(c, by=self.by) for c in records]

    # --- step 6 -------------------------------------------------------------------------
    def plan(
        self,
        *,
        start_date: DateLike | None = None,
        letter_date: DateLike | None = None,
        gps: Iterable[str] = (),
        done: Iterable[str] = (),
    ) -> Any:
        """The plan of action (bijlage 3) as the ``plan`` command makes it: the example dated
        from ``start_date`` (default: a month before ``letter_date``, or the programme's
        reference date), the GPs named (default: the programme's), the register's statuses
        kept, its progress applied, the tasks in ``done`` ticked off; recorded keeping what
        someone else recorded meanwhile. Returns the
        :class:`~benzoredux.evaluation.plan.PlanOfAction`."""
        from benzoredux.evaluation.plan import (
            dated_example,
            month_one,
            recorded_progress,
            recorded_tasks,
        )

        letters = parse_reference_date(letter_date, name="letter_date") if letter_date else None
        programme = self.register.programme()
        if start_date is not None:
            start = parse_reference_date(start_date, name="start_date")
        else:
            start = month_one(
                letter_date=letters,
                reference_date=programme["reference_date"] if programme is not None else None,
            )
        names = list(gps) or (
            [str(gp.get("name") or gp["gp_id"]) for gp in programme["gps"]] if programme else []
        )
        ticked = tuple(done)
        existing = recorded_tasks(self.register)
        plan = dated_example(start, letter_date=letters, gp_names=names, recorded=existing)
        plan, _ = plan.moved_along(recorded_progress(self.register), ticked)
        with self.register.transaction():
            plan = plan.with_concurrent_changes(existing, self.register, ticked)
            plan.record(self.register, by=self.by)
        return plan

    def evaluate(
        self,
        dispensings: PathOrFrame,
        evaluation_date: DateLike,
        *,
        letters: PathOrFrame | None = None,
        patients: PathOrFrame | None = None,
        consults: PathOrFrame | None = None,
        sustained_months: int = 21,
        stop_definition: Literal["supply", "plain"] = "supply",
    ) -> Evaluation:
        """Step 6: :func:`benzoredux.evaluate_effect` and :func:`benzoredux.evaluate_process`,
        recorded (counts and rates only) as the ``evaluate`` command records them.

        Without ``letters`` the stop letters come from the register (the first of each
        patient) and, without ``consults``, so do the consults.
        """
        from benzoredux.consult.records import CONSULTS
        from benzoredux.evaluation.effect import evaluate_effect
        from benzoredux.evaluation.letters import (
            LETTERS_SENT,
            consults_from_register,
            letters_from_register,
        )
        from benzoredux.evaluation.process import evaluate_process
        from benzoredux.register.steps import record_evaluation_run
        from benzoredux.tables import DISPENSINGS, PATIENTS

        day = parse_reference_date(evaluation_date, name="evaluation_date")
        consult_table = _canonical(consults, CONSULTS)
        consults_source = _source_name(consults, "dataframe") if consults is not None else None
        if letters is not None:
            sent = _canonical(letters, LETTERS_SENT)
            letters_source = _source_name(letters, "dataframe")
        else:
            sent = letters_from_register(self.register)
            if sent.empty:
                raise ValueError("the register has no stop letters yet; give the letters")
            letters_source = f"register {self.register.location}"
            if consult_table is None:
                consult_table = consults_from_register(self.register)
                consults_source = letters_source if consult_table is not None else None
        effect = evaluate_effect(
            sent,
            _canonical(dispensings, DISPENSINGS),
            day,
            patients=_canonical(patients, PATIENTS),
            sustained=(3, sustained_months),
            stop_definition=stop_definition,
            engine="native",
        )
        process = evaluate_process(sent, consult_table, engine="native")
        parameters: Mapping[str, Any] = {
            "evaluation_date": day.isoformat(),
            "sustained_months": sustained_months,
            "stop_definition": stop_definition,
            "letters": letters_source,
            "dispensings": _source_name(dispensings, "dataframe"),
            "patients": _source_name(patients, "dataframe") if patients is not None else None,
            "consults": consults_source,
        }
        record_evaluation_run(self.register, day, effect.summary, process, parameters, by=self.by)
        return Evaluation(effect=effect, process=process)

    def report(
        self,
        folder: str | os.PathLike[str],
        *,
        out: str | os.PathLike[str] | None = None,
        title: str | None = None,
        as_of: DateLike | None = None,
    ) -> Path:
        """The HTML report for the FTO meeting (:func:`benzoredux.write_report`) from this
        programme's register and the step files in ``folder`` (default output
        ``folder/report.html``). Returns its path."""
        from benzoredux.report import write_report

        day = (
            parse_reference_date(as_of, name="as_of")
            if as_of is not None
            else dt.datetime.now(dt.UTC).astimezone().date()
        )
        return write_report(
            folder,
            register=self.register.location,
            out=out if out is not None else Path(folder) / "report.html",
            title=title,
            as_of=day,
        )
