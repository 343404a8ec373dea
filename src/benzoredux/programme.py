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

Files first, then the register: a step method takes ``write``, a function it calls with the
step's result *before* recording it. The command line writes its files there, so the register
never records a step whose files were not written (a full disk, a file in use), and an add-on
can do the same with its own output. A register named by path is made only when the first step
records in it, so a step that fails on its input leaves no empty register behind.

One unusable row in a canonical file (a date that is no date) stops a step, naming the file,
line and column. With ``skip_invalid=True`` the steps that read canonical files (select,
screen, letters, evaluate) go on with the usable rows instead: the others are in
:attr:`Programme.rejected` (file, line, column, reason) when ``write`` is called, and their
counts are recorded with the programme (the command line's ``--skip-invalid``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from attrs import frozen

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.errors import BenzoreduxError
from benzoredux.register.core import default_by

__all__ = ["Evaluation", "Programme", "SelectionResult", "StepInputError", "planned_letters"]


class StepInputError(BenzoreduxError, ValueError):
    """A step lacks what it needs (and no earlier step or the register gives it);
    :attr:`parameter` names the missing argument, so a caller can name its own option."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        """The name of the step method's argument that is missing."""


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


def _step_table(value: Any, dates: tuple[str, ...] = ()) -> Any:
    """A previous step's result: its object (``.table``), its table, or the path of the CSV
    the command wrote (:func:`benzoredux.output.read_step_csv`, ``dates`` as dates)."""
    if isinstance(value, str | os.PathLike):
        from benzoredux.output import read_step_csv

        return read_step_csv(value, dates)
    return getattr(value, "table", value)


def _latest(dates: Iterable[Any]) -> dt.date | None:
    """The latest of a schedule's letter dates (``None`` without one)."""
    import pandas as pd

    days = [pd.Timestamp(d).date() for d in dates if not pd.isna(d)]
    return max(days) if days else None


def _source_name(value: Any, default: str) -> str:
    return Path(value).name if isinstance(value, str | os.PathLike) else default


Write = Callable[[Any], object] | None
"""Called with a step's result before the step is recorded (files first, then the register)."""


@frozen
class SelectionResult:
    """Step 1's result: the FTO module's lists for the first meeting."""

    table: Any
    """:func:`benzoredux.select_chronic_users`'s result (with ``include_excluded``, also the
    excluded patients and why), in the kind of frame given."""
    chronic_users: Any
    """The chronic users selected (``table`` without the excluded patients)."""
    new_users: Any
    """:func:`benzoredux.select_new_users`: who started in the last 3 months."""
    per_gp: Any
    """:func:`benzoredux.count_per_gp` of the chronic users (every listed GP with patients)."""
    unknown_codes: Any
    """:func:`benzoredux.selection.unknown_code_rows`: dispensings of the window whose ATC code
    benzoredux does not know (empty when every code is known)."""


@frozen
class Evaluation:
    """Step 6's result: the effect evaluation and the process table, and what they came
    from."""

    effect: Any
    """The :class:`benzoredux.EffectEvaluation`."""
    process: Any
    """:func:`benzoredux.evaluate_process`'s table (pandas)."""
    letters: Any
    """The stop letters evaluated (pandas; from the register unless given)."""
    consults: Any
    """The consults counted (pandas), or ``None``."""
    parameters: Mapping[str, Any]
    """The run's parameters as recorded: the date, the follow-up, the stop definition and the
    source of each table."""

    def aggregate(self, practice_id: str, **options: Any) -> Any:
        """The aggregate to share with a regional monitoring database
        (:func:`benzoredux.aggregate_export`: no identifiers, small counts suppressed)."""
        from benzoredux.evaluation.sharing import aggregate_export

        return aggregate_export(
            practice_id, effect_summary=self.effect.summary, process=self.process, **options
        )


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


def _per_letter(progress: Callable[[int, int], object], total: int) -> Callable[[int], None]:
    def update(done: int) -> None:
        progress(done, total)

    return update


class Programme:
    """One programme of the minimal intervention, over its register.

    Open it with :meth:`create` or :meth:`open` (or :meth:`in_memory` to try the steps and
    keep nothing), as a context manager (the register is closed at the end). The step
    methods remember their last result, so a step without its input continues from the
    previous one, as the commands continue from the previous step's file. After each step
    :attr:`recorded` holds what it recorded.
    """

    def __init__(
        self,
        register: Any = None,
        *,
        by: str | None = None,
        location: str | os.PathLike[str] | None = None,
    ) -> None:
        """Over an open :class:`benzoredux.Register`, or over the register at ``location``,
        made when the first step records (give one of the two)."""
        if (register is None) == (location is None):
            raise ValueError("give the register or its location, not both or neither")
        self._register = register
        self._location = None if location is None else os.fspath(location)
        self.by = by or default_by()
        """Who acts: recorded in the register's audit trail."""
        self.recorded: Any = None
        """What the last step recorded (see each step's documentation), for messages."""
        self._selection: Any = None
        self._screening: Any = None
        self._schedule: Any = None
        self.rejected: Any = None
        """With ``skip_invalid``: the rows the last step left out of its canonical files
        (:attr:`benzoredux.reading.result.ReadResult.rejected`'s columns: file, line, column, value,
        reason; patient data), set before ``write`` is called; ``None`` without it."""
        self._reads: list[Any] | None = None
        self.inputs: dict[str, Any] = {}
        """The canonical tables the last step read from files, by table name (``patients``,
        ...): what a caller writes names and addresses from, without reading the file again."""

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        location: str | os.PathLike[str],
        *,
        practice: Any = None,
        reference_date: DateLike | None = None,
        unit: str = "practice",
        by: str | None = None,
    ) -> Programme:
        """The programme whose register is at ``location`` (made when the first step
        records, or opened if it is there); with ``practice`` and ``reference_date`` the
        programme is recorded now (:meth:`benzoredux.register.core.Register.set_programme`;
        ``unit``: ``practice`` or ``fto_group``), which :meth:`select` would otherwise make
        with a placeholder practice."""
        programme = cls(location=location, by=by)
        if practice is not None:
            if reference_date is None:
                raise StepInputError(
                    "reference_date", "a practice needs its programme's reference_date"
                )
            programme.register.set_programme(
                practice,
                reference_date=parse_reference_date(reference_date),
                by=programme.by,
                unit=unit,
            )
        return programme

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, by: str | None = None) -> Programme:
        """Open an existing register (it must exist: a mistyped path raises instead of making
        an empty programme)."""
        from benzoredux.register import open_register

        return cls(open_register(location), by=by)

    @classmethod
    def in_memory(cls, *, by: str | None = None) -> Programme:
        """A programme whose register is kept in memory only
        (:class:`benzoredux.register.memory.MemoryStore`): the steps run and check as always, and
        nothing is kept (the command line's ``--no-register``)."""
        from benzoredux.register import MemoryStore, Register

        return cls(Register(MemoryStore()), by=by)

    @property
    def register(self) -> Any:
        """The :class:`benzoredux.Register` the steps record in (made now if it was not)."""
        if self._register is None:
            from benzoredux.register import open_register

            assert self._location is not None
            self._register = open_register(self._location, create=True)
        return self._register

    @property
    def location(self) -> str:
        """Where the register is (``memory://`` for :meth:`in_memory`)."""
        if self._register is not None:
            return str(self._register.location)
        assert self._location is not None
        return self._location

    def _existing(self) -> Any:
        """The register if there is one to read; ``None`` while a register named by path is
        not made yet, or an in-memory one holds nothing (reading never makes a register)."""
        if self._register is None:
            assert self._location is not None
            if "://" in self._location or Path(self._location).exists():
                return self.register
            return None
        from benzoredux.register import KINDS, MemoryStore

        store = getattr(self._register, "store", None)
        if isinstance(store, MemoryStore) and not any(store.entries(k) for k in KINDS):
            return None
        return self._register

    def close(self) -> None:
        """Close the register (if it was opened)."""
        if self._register is not None:
            self._register.close()

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

        register = self._existing()
        current = None if register is None else register.programme()
        return None if current is None else programme_practice(current)

    def _trusted(self) -> None:
        """Check a register that is there before a step relies on it or writes its files: a
        damaged register is refused (:class:`~benzoredux.register.RegisterDamagedError`)
        before anything is computed or written, not after the step's files exist. The SQLite
        register runs its integrity check once per opening, so this costs nothing more."""
        register = self._existing()
        if register is not None:
            with register.transaction():
                pass

    def _programme(self) -> Any:
        register = self._existing()
        return None if register is None else register.programme()

    def _reference_date(self, value: DateLike | None) -> dt.date:
        if value is not None:
            return parse_reference_date(value)
        current = self._programme()
        if current is None:
            raise StepInputError(
                "reference_date", "give a reference_date: the register holds no programme yet"
            )
        return cast(dt.date, current["reference_date"])

    # --- reading canonical files -------------------------------------------------------
    def _reading(self, skip_invalid: bool) -> None:
        """Begin a step's reading: strict, or (``skip_invalid``) going on with usable rows."""
        self._reads = [] if skip_invalid else None
        self.rejected = None
        self.inputs = {}

    def _input(
        self,
        value: PathOrFrame | None,
        schema: Any,
        on: dt.date | None,
        max_quantity: float | None = None,
    ) -> Any:
        """A step's canonical input: a frame as is; a path read strictly, or with
        ``skip_invalid`` by :func:`~benzoredux.reading.canonical.read_canonical_rows`, with
        the bounds of implausible values counted from the step's own date ``on``, as the
        step checks them."""
        if not isinstance(value, str | os.PathLike):
            return value
        if self._reads is None:
            self.inputs[schema.name] = _canonical(value, schema)
            return self.inputs[schema.name]
        from benzoredux.reading.canonical import read_canonical_rows
        from benzoredux.tables import Plausibility

        bounds = (
            Plausibility(as_of=on)
            if max_quantity is None
            else Plausibility(as_of=on, max_quantity=max_quantity)
        )
        result = read_canonical_rows(value, schema, plausibility=bounds)
        self._reads.append(result)
        self.inputs[schema.name] = result.tables[schema.name]
        return self.inputs[schema.name]

    def _left_out(self) -> dict[str, int] | None:
        """After a step's reading: :attr:`rejected`, and the counts to record (``None``
        without ``skip_invalid``)."""
        if self._reads is None:
            return None
        import pandas as pd

        from benzoredux.reading.result import empty_problems

        frames = [r.rejected for r in self._reads if len(r.rejected)]
        self.rejected = pd.concat(frames, ignore_index=True) if frames else empty_problems()
        counts = {
            "rows_rejected": sum(r.rows_rejected for r in self._reads),
            "problems": len(self.rejected),
        }
        blank = sum(r.ignored.get("blank lines", 0) for r in self._reads)
        if blank:
            counts["blank_lines"] = blank
        return counts

    def _record_left_out(
        self, step: str, counts: Mapping[str, int] | None, reference_date: dt.date
    ) -> None:
        if counts is not None:
            from benzoredux.register.steps import record_input_counts

            record_input_counts(
                self.register, step, counts, reference_date=reference_date, by=self.by
            )

    # --- step 1 -------------------------------------------------------------------------
    def select(
        self,
        dispensings: PathOrFrame,
        reference_date: DateLike | None = None,
        *,
        patients: PathOrFrame | None = None,
        episodes: PathOrFrame | None = None,
        practice: Any = None,
        source: str | None = None,
        input_counts: Mapping[str, int] | None = None,
        skip_invalid: bool = False,
        write: Write = None,
        **options: Any,
    ) -> SelectionResult:
        """Step 1: :func:`benzoredux.select_chronic_users` (``options`` pass through), with
        the new users, the count per GP and the unknown codes, recorded as the ``select``
        command records it (the programme with these options, and the selection snapshot).

        ``reference_date`` defaults to the programme's; ``practice`` replaces the programme's
        practice and GPs; ``source`` names the input in the register (default: the file's
        name); ``input_counts`` are the rows left out of the input while reading (``select
        --skip-invalid``: rows and problems), recorded with the programme; with
        ``skip_invalid`` the canonical files given by path are read going on with the usable
        rows (:attr:`rejected`), and those counts are recorded.
        :func:`benzoredux.select_chronic_users`'s warnings (unknown codes) are issued as
        warnings. Afterwards :attr:`recorded` is the selection snapshot's entry.
        """
        from benzoredux.register.steps import record_selection_step
        from benzoredux.tables import DISPENSINGS, EPISODES, PATIENTS

        self._trusted()
        reference = self._reference_date(reference_date)
        self._reading(skip_invalid)
        limit = options.get("max_quantity")
        # A canonical Parquet file is scanned by the selection itself, unless the rows are to
        # be sorted into usable and unusable ones (skip_invalid) or an engine is asked for.
        route = (
            _parquet_route(dispensings) if self._reads is None and "engine" not in options else None
        )
        if route is None:
            table_in = self._input(dispensings, DISPENSINGS, reference, limit)
        people = self._input(patients, PATIENTS, reference, limit)
        the_episodes = self._input(episodes, EPISODES, reference, limit)
        left_out = self._left_out()
        result = None
        if route is not None:
            result = _scanned_selection(route, reference, people, the_episodes, options)
            if result is None:  # refused: read as before, so that it is refused as before
                table_in = self._input(dispensings, DISPENSINGS, reference, limit)
            else:
                inputs = _Inputs(self.inputs)
                inputs.defer(DISPENSINGS.name, lambda: _canonical(route, DISPENSINGS))
                self.inputs = inputs
        if result is None:
            result = _selection(table_in, reference, people, the_episodes, options)
        table = result.table
        if write is not None:
            write(result)
        self.recorded = record_selection_step(
            self.register,
            table,
            reference_date=reference,
            practice=practice,
            options=options,
            source=source or _source_name(dispensings, "dataframe"),
            by=self.by,
            input_counts=input_counts if input_counts is not None else left_out,
        )
        self._selection = result
        return result

    # --- step 2 -------------------------------------------------------------------------
    def screen(
        self,
        selection: Any = None,
        reference_date: DateLike | None = None,
        *,
        patients: PathOrFrame | None = None,
        episodes: PathOrFrame | None = None,
        overrides: PathOrFrame | None = None,
        skip_invalid: bool = False,
        write: Write = None,
        **options: Any,
    ) -> Any:
        """Step 2: :func:`benzoredux.screen` (``options``: ``enable``, ``disable``,
        ``parameters``, ``missing_data``), recorded as the ``screen`` command records it.
        With ``skip_invalid`` the patients and episodes files go on with their usable rows
        (:attr:`rejected`; the counts are recorded).

        ``selection`` defaults to this programme's last :meth:`select` (or give its result,
        a table, or the ``chronic_users.csv`` the command wrote); ``overrides`` are the GP's
        decisions (a table or its CSV). Returns the :class:`benzoredux.Screening`; afterwards
        :attr:`recorded` is ``(proposals added, GP decisions added)``."""
        from benzoredux.register.steps import record_screening_step
        from benzoredux.screening import read_overrides, screen
        from benzoredux.tables import EPISODES, PATIENTS

        self._trusted()
        chosen = self._selection if selection is None else selection
        if chosen is None:
            raise StepInputError("selection", "give the selection to screen (or run select first)")
        reference = self._reference_date(reference_date)
        self._reading(skip_invalid)
        people = self._input(patients, PATIENTS, reference)
        the_episodes = self._input(episodes, EPISODES, reference)
        left_out = self._left_out()
        result = screen(
            _step_table(chosen, ("first_date", "last_date")),
            reference,
            patients=people,
            episodes=the_episodes,
            overrides=(
                read_overrides(overrides)  # file, line and column in its messages
                if isinstance(overrides, str | os.PathLike)
                else _step_table(overrides)
            ),
            **options,
        )
        if write is not None:
            write(result)
        # As the command names the overrides file (or the selection) the decisions came from.
        source = _source_name(chosen if overrides is None else overrides, "dataframe")
        with self.register.transaction():
            self.recorded = record_screening_step(
                self.register, result.table, result.summary, source=source, by=self.by
            )
            self._record_left_out("screen", left_out, reference)
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
        self,
        screening: Any = None,
        first_letter_date: DateLike | None = None,
        *,
        write: Write = None,
        **options: Any,
    ) -> Any:
        """Steps 3-4: :func:`benzoredux.plan_schedule` for the eligible patients
        (``options``: any field of :class:`benzoredux.schedule.ScheduleOptions`), its batches
        recorded as tasks as the ``schedule`` command records them. ``screening`` defaults to
        the last :meth:`screen` (or give its result, its table or ``screening.csv``).
        Returns the :class:`benzoredux.Schedule`; afterwards :attr:`recorded` is
        ``(tasks changed, tasks planned)`` (nothing is recorded for an empty schedule)."""
        from benzoredux.register.steps import record_schedule_tasks
        from benzoredux.schedule import plan_schedule

        self._trusted()
        if first_letter_date is None:
            raise StepInputError("first_letter_date", "give the first_letter_date")
        chosen = self._screening if screening is None else screening
        if chosen is None:
            raise StepInputError(
                "screening", "give the screening to schedule (or run screen first)"
            )
        plan = plan_schedule(_step_table(chosen), first_letter_date, **options)
        if write is not None:
            write(plan)
        self.recorded = (
            record_schedule_tasks(self.register, plan.batches, by=self.by)
            if len(plan.table)
            else None
        )
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
        progress: Callable[[int, int], object] | None = None,
        skip_invalid: bool = False,
        write: Write = None,
    ) -> Any:
        """Steps 3-4: write the stop letters or invitations into ``out``
        (:func:`benzoredux.letters.compose.render_letters`) and record them as sent.

        ``source`` is a schedule or screening (its result, table or CSV; default: the last
        :meth:`schedule`); ``practice`` defaults to the programme's. Patients who already had
        a stop letter in this programme are refused **before** anything is written
        (:class:`benzoredux.register.errors.LetterRefusedError`), unless
        ``force_second_letter`` says why a second one goes out. ``progress`` is called with
        the letters done since the last call and the letters planned. Returns the
        :class:`~benzoredux.letters.compose.LetterOutput`; afterwards :attr:`recorded` is the
        register's :class:`~benzoredux.register.core.LetterResult`. With ``skip_invalid`` the
        patients file goes on with its usable rows (:attr:`rejected`; a patient left out gets
        no letter and is in the output's ``skipped``); ``write`` is called with the output
        after the letters are written and before they are recorded.
        """
        from benzoredux.letters.compose import render_letters
        from benzoredux.register import LetterRefusedError
        from benzoredux.register.steps import (
            forced_letters,
            record_letters_sent,
            refused_stop_letters,
        )
        from benzoredux.tables import PATIENTS

        self._trusted()
        chosen = self._schedule if source is None else source
        if chosen is None:
            raise StepInputError("source", "give the source of the letters (or run schedule first)")
        table = _step_table(chosen, ("letter_date", "invitation_date", "call_date", "consult_date"))
        the_practice = practice if practice is not None else self.practice
        if the_practice is None:
            raise StepInputError(
                "practice", "give the practice: the register holds no programme yet"
            )
        if letter_date is None and not {"letter_date", "batch"} <= set(table.columns):
            raise StepInputError("letter_date", "without a schedule, give the letter_date")
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
        existing = self._existing()
        refused = [] if existing is None else refused_stop_letters(existing, planned, force)
        if refused:
            error = LetterRefusedError(refused)
            error.args = (
                f"refused: {len(refused)} patient(s) already had a stop letter in this "
                "programme; nothing was written. Leave them out of the source, or send a second "
                "letter on purpose with force_second_letter=REASON",
            )
            raise error
        total = len(planned)
        self._reading(skip_invalid)
        dates = list(table.get("letter_date", [])) if letter_date is None else []
        on = parse_reference_date(letter_date) if letter_date is not None else _latest(dates)
        people = self._input(patients, PATIENTS, on)
        left_out = self._left_out()
        result = render_letters(
            planned,
            people,
            the_practice,
            out,
            style=style,
            place=place,
            extra=extra,
            pdf=pdf,
            progress=None if progress is None else _per_letter(progress, total),
        )
        if write is not None:
            write(result)
        with self.register.transaction():
            self.recorded = record_letters_sent(
                self.register, [letter for letter, _ in result.letters], by=self.by, force=force
            )
            self._record_left_out(
                "letters",
                left_out,
                on or dt.date.today(),  # noqa: DTZ011 - a calendar date
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
        edited: Any = None,
        previous: Any = None,
        skip_invalid: bool = False,
        write: Write = None,
    ) -> Any:
        """The plan of action (bijlage 3) as the ``plan`` command makes it, recorded keeping
        what someone else recorded meanwhile.

        Without ``edited`` or ``previous``, bijlage 3's example is dated from ``start_date``
        (default: a month before ``letter_date``, or the programme's reference date) with the
        GPs named (default: the programme's); the register's statuses are kept. ``edited`` is
        a plan read back after editing (a :class:`~benzoredux.evaluation.plan.PlanOfAction`,
        or its ``plan.xlsx``/``plan.csv``): its statuses win. ``previous`` is an earlier plan
        continued: what the register holds since wins. Then the register's progress is
        applied and the tasks in ``done`` are ticked off: the plan's own, and the schedule's
        tasks per batch the register holds (``batch-2-calls``); an id that is neither raises
        :class:`KeyError`. Returns the :class:`~benzoredux.evaluation.plan.PlanOfAction`;
        afterwards :attr:`recorded` is what the register's progress moved along
        (``{task_id: (status, why)}``). With ``skip_invalid`` an edited plan file goes on with
        its usable rows: a row left out (:attr:`rejected`) keeps its task as it was before the
        edit (:func:`~benzoredux.evaluation.plan.with_left_out_tasks`), and the count is
        recorded.
        """
        from benzoredux.evaluation.plan import (
            close_recorded_tasks,
            dated_example,
            month_one,
            read_plan,
            recorded_progress,
            recorded_tasks,
        )

        letters = parse_reference_date(letter_date, name="letter_date") if letter_date else None
        start = parse_reference_date(start_date, name="start_date") if start_date else None
        self._trusted()
        existing_register = self._existing()
        existing = {} if existing_register is None else recorded_tasks(existing_register)
        progress = {} if existing_register is None else recorded_progress(existing_register)
        self._reading(False)
        left_out: dict[str, int] | None = None
        if edited is not None and skip_invalid and isinstance(edited, str | os.PathLike):
            plan, left_out = self._edited_plan(edited, start, existing, gps)
        elif edited is not None:
            plan = read_plan(edited, start)
        elif previous is not None:
            plan = read_plan(previous, None).with_recorded(existing)
        else:
            programme = self._programme()
            if start is None:
                if letters is None and programme is None:
                    raise StepInputError(
                        "start_date",
                        "give the start_date (or the letter_date, or a register whose "
                        "programme has a reference date)",
                    )
                start = month_one(
                    letter_date=letters,
                    reference_date=programme["reference_date"] if programme else None,
                )
            try:
                plan = dated_example(
                    start, letter_date=letters, gp_names=self._gp_names(gps), recorded=existing
                )
            except ValueError as error:  # the letters before the start
                raise StepInputError("letter_date", str(error)) from None
        # A task id of the plan is ticked off in the plan; one of the schedule's tasks per batch
        # (which live only in the register, e.g. batch-2-calls) in the register itself.
        in_plan = {t.task_id for t in plan.tasks}
        ticked = tuple(t for t in done if t in in_plan or t not in existing)
        batch_tasks = tuple(t for t in done if t not in in_plan and t in existing)
        plan, progressed = plan.moved_along(progress, ticked)
        if write is not None:
            write(plan)
        register = self.register
        with register.transaction():
            plan = plan.with_concurrent_changes(existing, register, ticked)
            plan.record(register, by=self.by)
            for task_id in batch_tasks:
                status = existing[task_id]["status"]
                if str(getattr(status, "value", status)) != "done":
                    register.set_task_status(task_id, "done", by=self.by, remark="ticked off")
                    progressed[task_id] = ("done", "afgevinkt")
            # The schedule's tasks per batch live only in the register: the same evidence.
            progressed.update(close_recorded_tasks(register, by=self.by))
            self._record_left_out("plan", left_out, plan.start_date)
        self.recorded = progressed
        return plan

    def _gp_names(self, gps: Iterable[str]) -> list[str]:
        """The GPs named in the plan: as given, or the programme's."""
        programme = self._programme()
        return list(gps) or (
            [str(gp.get("name") or gp["gp_id"]) for gp in programme["gps"]] if programme else []
        )

    def _edited_plan(
        self,
        edited: str | os.PathLike[str],
        start: dt.date | None,
        existing: Mapping[str, Any],
        gps: Iterable[str],
    ) -> tuple[Any, dict[str, int]]:
        """An edited plan file read going on with its usable rows (``skip_invalid``), the
        tasks of the rows left out as they were before the edit; and the counts to record."""
        from benzoredux.evaluation.plan import read_plan_rows, with_left_out_tasks

        rows = read_plan_rows(edited, start)
        if rows.plan is None:
            raise ValueError(
                f"{Path(edited).name}: no row of the plan can be read:\n"
                + "\n".join(rows.rejected["reason"].astype(str).head(10))
            )
        self.rejected = rows.rejected
        counts = {
            "rows_rejected": len(set(rows.rejected["record"])),
            "problems": len(rows.rejected),
        }
        return with_left_out_tasks(rows.plan, rows.left_out, existing, self._gp_names(gps)), counts

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
        skip_invalid: bool = False,
        write: Write = None,
    ) -> Evaluation:
        """Step 6: :func:`benzoredux.evaluate_effect` and :func:`benzoredux.evaluate_process`,
        recorded (counts and rates only) as the ``evaluate`` command records them.

        Without ``letters`` the stop letters come from the register (the first of each
        patient) and, without ``consults``, so do the consults. With ``skip_invalid`` the
        dispensings, patients and consults files go on with their usable rows
        (:attr:`rejected`; the counts are recorded). Afterwards :attr:`recorded` is ``(the
        run's entry, whether it was already recorded)``.
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

        self._trusted()
        day = parse_reference_date(evaluation_date, name="evaluation_date")
        self._reading(skip_invalid)
        consult_table = self._input(consults, CONSULTS, day)
        the_dispensings = self._input(dispensings, DISPENSINGS, day)
        people = self._input(patients, PATIENTS, day)
        left_out = self._left_out()
        consults_source = _source_name(consults, "dataframe") if consults is not None else None
        if letters is not None:
            sent = _canonical(letters, LETTERS_SENT)
            letters_source = _source_name(letters, "dataframe")
        else:
            register = self._existing()
            sent = None if register is None else letters_from_register(register)
            if sent is None or sent.empty:
                raise StepInputError(
                    "letters",
                    f"the register {self.location} has no stop letters yet (the letters step "
                    "records them); give the letters",
                )
            letters_source = f"register {self.location}"
            if consult_table is None:
                consult_table = consults_from_register(register)
                consults_source = letters_source if consult_table is not None else None
        effect = evaluate_effect(
            sent,
            the_dispensings,
            day,
            patients=people,
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
        evaluation = Evaluation(
            effect=effect,
            process=process,
            letters=sent,
            consults=consult_table,
            parameters=parameters,
        )
        if write is not None:
            write(evaluation)
        with self.register.transaction():
            self.recorded = record_evaluation_run(
                self.register, day, effect.summary, process, parameters, by=self.by
            )
            self._record_left_out("evaluate", left_out, day)
        return evaluation

    def report(
        self,
        folder: str | os.PathLike[str],
        *,
        out: str | os.PathLike[str] | None = None,
        title: str | None = None,
        as_of: DateLike | None = None,
    ) -> Path:
        """The HTML report for the FTO meeting (:func:`benzoredux.write_report`) from this
        programme's register (when there is one to read) and the step files in ``folder``
        (default output ``folder/report.html``). Returns its path."""
        from benzoredux.report import write_report

        day = (
            parse_reference_date(as_of, name="as_of")
            if as_of is not None
            else dt.datetime.now(dt.UTC).astimezone().date()
        )
        return write_report(
            folder,
            register=self._existing(),
            out=out if out is not None else Path(folder) / "report.html",
            title=title,
            as_of=day,
        )


def _selection(
    table_in: Any, reference: dt.date, people: Any, episodes: Any, options: Mapping[str, Any]
) -> SelectionResult:
    """Step 1's lists from the dispensings ``table_in``: a frame (the lists of its kind), or the
    path of a Parquet file (the lists collected as pandas, as from the file read as pandas)."""
    import narwhals.stable.v1 as nw

    from benzoredux.selection import (
        count_per_gp,
        select_chronic_users,
        select_new_users,
        unknown_code_rows,
    )

    scanned = isinstance(table_in, str)

    def eager(frame: Any) -> Any:
        return nw.from_native(frame).collect().to_pandas() if scanned else frame

    table = eager(
        select_chronic_users(table_in, reference, patients=people, episodes=episodes, **options)
    )
    chosen = table
    if "excluded_because" in nw.from_native(table).columns:
        frame = nw.from_native(table)
        chosen = nw.to_native(frame.filter(nw.col("excluded_because").is_null()))
    return SelectionResult(
        table=table,
        chronic_users=chosen,
        new_users=eager(
            select_new_users(
                table_in,
                reference,
                patients=people,
                **{k: options[k] for k in ("extra_forms", "max_quantity") if k in options},
            )
        ),
        per_gp=count_per_gp(chosen, people),
        unknown_codes=eager(
            unknown_code_rows(table_in, reference, window_months=options.get("window_months", 12))
        ),
    )


def _parquet_route(value: Any) -> str | None:
    """The path of a canonical Parquet file the selection can scan itself, or ``None``.

    Reading the file into pandas first (:func:`~benzoredux.reading.read_canonical`) took a
    third of ``select``'s time on a region's export (issue 19); the selection checks the same
    rows on the file (from its footers, or row by row) and gives the same lists. A file with a
    ``bsn`` or ``postcode`` column is read as before, for the warnings about them; a file
    whose footer cannot be read is read as before, to be refused as before.
    """
    if not isinstance(value, str | os.PathLike):
        return None
    path = Path(value)
    if path.suffix.lower() not in {".parquet", ".pq"} or not path.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
    except Exception:  # any unreadable file is read (and refused) as before
        return None
    from benzoredux.reading.identifiers import IDENTIFIER_CHECKS

    return None if names & set(IDENTIFIER_CHECKS) else str(path)


def _scanned_selection(
    path: str, reference: dt.date, people: Any, episodes: Any, options: Mapping[str, Any]
) -> SelectionResult | None:
    """:func:`_selection` on the Parquet file at ``path``, its warnings issued after it; or
    ``None`` (and no warning) when it raises, so that the caller reads the file as before and
    the same error is raised, with the same message, as before the file was scanned."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _selection(path, reference, people, episodes, options)
        except Exception:  # refused again by the caller, by the route that reads the file
            return None
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return result


class _Inputs(dict[str, Any]):
    """:attr:`Programme.inputs` in which a table the step scanned from its file (instead of
    reading it) is read from the file when it is first asked for."""

    def defer(self, name: str, read: Callable[[], Any]) -> None:
        self[name] = _Deferred(read)

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        if isinstance(value, _Deferred):
            value = value.read()
            self[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self:
            return default
        return self[name]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[name] for name in self]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(name, self[name]) for name in self]


@frozen
class _Deferred:
    """A table to read when it is asked for."""

    read: Callable[[], Any]
