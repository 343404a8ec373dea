"""The plan of action (FTO module, bijlage 3) as a dated task list a practice edits and ticks off.

Bijlage 3 gives an example plan as rows of (step, what, how, who, month): selecting in month 1,
sending the letters in month 2, invitations in month 5, consults in months 5-6, monitoring until
month 14, the evaluation in month 15. :func:`plan_of_action` dates those months from a start
date: programme month *m* runs from the start date plus *m* - 1 calendar months up to the day
before the start plus *m* months, so a task "in months 5-6" starts with month 5 and is due on
the last day of month 6.

The task texts are the practice's working language (Dutch), written for this library after the
example; a practice changes them, adds its own tasks or drops some, with
:meth:`PlanOfAction.with_task`, :meth:`PlanOfAction.without_task` and
:meth:`PlanOfAction.with_status`, or edits the exported spreadsheet and reads the table back
with :meth:`PlanOfAction.from_table`. The monitor (about one hour every two weeks) asks for
:meth:`PlanOfAction.overdue`. The register (:mod:`benzoredux.register`) keeps the same tasks
over time; :meth:`PlanOfAction.record` writes them there.

A programme run over a register (:class:`benzoredux.Programme`, the ``plan`` command) dates the
example with :func:`dated_example` (the GPs named, the stop letters pinned to their date),
re-applies what the register already holds (:meth:`PlanOfAction.with_recorded`), moves tasks
along from the outcomes the register holds (:func:`recorded_evidence`,
:meth:`PlanOfAction.moved_along`, and :func:`close_recorded_tasks` for the schedule's tasks
per batch) and, while recording, keeps what someone else ticked off in the meantime
(:meth:`PlanOfAction.with_concurrent_changes`). The evidence also dates each closed task; the
report for the FTO meeting shows the plan by the same rule.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import narwhals as nw
from attrs import evolve, field, frozen, validators
from dateutil.relativedelta import relativedelta
from narwhals.typing import IntoFrame

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.errors import BenzoreduxError
from benzoredux.output import private_file, write_xlsx
from benzoredux.register.schema import TaskStatus

__all__ = [
    "EXAMPLE_PLAN",
    "PLAN_COLUMNS",
    "PlanOfAction",
    "PlanRowError",
    "PlanRows",
    "PlanTask",
    "TaskEvidence",
    "TemplateTask",
    "close_recorded_tasks",
    "dated_example",
    "month_one",
    "name_gps",
    "plan_of_action",
    "read_plan",
    "read_plan_rows",
    "recorded_evidence",
    "recorded_progress",
    "recorded_tasks",
    "with_left_out_tasks",
    "write_plan_ics",
    "write_plan_xlsx",
]


@frozen
class TemplateTask:
    """One row of a plan template: a task in programme months, not yet dated."""

    task_id: str = field(validator=validators.matches_re(r"^[a-z0-9][a-z0-9_-]*$"))
    step: str
    what: str
    how: str
    who: str
    first_month: int = field(validator=validators.ge(1))
    last_month: int = field(validator=validators.ge(1))

    def __attrs_post_init__(self) -> None:
        if self.last_month < self.first_month:
            raise ValueError(
                f"task {self.task_id}: last_month {self.last_month} is before first_month "
                f"{self.first_month}"
            )


EXAMPLE_PLAN: tuple[TemplateTask, ...] = (
    TemplateTask(
        "select",
        "select",
        "Lijst maken van chronische gebruikers",
        "SFK-rapport",
        "apotheker",
        1,
        1,
    ),
    TemplateTask(
        "screen",
        "screen",
        "Patiënten screenen op de uitsluitcriteria",
        "in het HIS",
        "huisarts",
        1,
        1,
    ),
    TemplateTask(
        "brief-team",
        "communicate",
        "Assistente, POH-GGZ en apotheker informeren",
        "mondeling en op papier",
        "huisarts",
        1,
        1,
    ),
    TemplateTask(
        "instruct-team",
        "communicate",
        "Assistente en POH-GGZ instrueren",
        "mondeling en op papier",
        "huisarts",
        1,
        1,
    ),
    TemplateTask(
        "merge-letters",
        "letters",
        "Stopbrief en uitnodiging koppelen aan de gescreende patiënten",
        "standaardbrief samenvoegen met patiëntgegevens",
        "huisarts",
        2,
        2,
    ),
    TemplateTask(
        "send-letters",
        "letters",
        "Stopbrieven versturen",
        "per post",
        "praktijkassistente",
        2,
        2,
    ),
    TemplateTask(
        "inform-public",
        "communicate",
        "Patiënten algemeen informeren",
        "bericht in de lokale krant",
        "huisarts",
        2,
        2,
    ),
    TemplateTask(
        "monitor-1",
        "monitor",
        "Voortgang bewaken",
        "ongeveer een uur per twee weken",
        "apotheker",
        2,
        4,
    ),
    TemplateTask(
        "send-invitations",
        "invite",
        "Uitnodigingen voor het evaluatieconsult versturen",
        "in groepen van 15 per week",
        "praktijkassistente",
        5,
        5,
    ),
    TemplateTask(
        "monitor-2",
        "monitor",
        "Voortgang bewaken",
        "ongeveer een uur per twee weken",
        "apotheker",
        5,
        6,
    ),
    TemplateTask(
        "call-non-responders",
        "invite",
        "Patiënten nabellen die niet reageerden",
        "telefonisch, twee weken na de uitnodiging",
        "praktijkassistente",
        5,
        6,
    ),
    TemplateTask(
        "consults",
        "consult",
        "Evaluatieconsulten: stoppen of minderen bespreken",
        "op het spreekuur",
        "huisarts of POH-GGZ",
        5,
        6,
    ),
    TemplateTask(
        "monitor-3",
        "monitor",
        "Voortgang bewaken",
        "ongeveer een uur per twee weken",
        "apotheker",
        7,
        14,
    ),
    TemplateTask(
        "evaluate",
        "evaluate",
        "Evaluatie: proces en effect",
        "zie de evaluatie van benzoredux",
        "apotheker",
        15,
        15,
    ),
)
"""The example plan of bijlage 3, in the library's own words. The months follow the seed, which
puts the monitoring and the calls in months 5-6 alongside the consults."""


@frozen
class PlanTask:
    """A dated task of the plan of action."""

    task_id: str
    step: str
    what: str
    how: str
    who: str
    start: dt.date
    due: dt.date
    status: TaskStatus = field(default=TaskStatus.OPEN, converter=TaskStatus)
    note: str = ""

    def is_overdue(self, as_of: dt.date) -> bool:
        """Not done or skipped, and its due date has passed."""
        return self.status in {TaskStatus.OPEN, TaskStatus.IN_PROGRESS} and self.due < as_of


PLAN_COLUMNS = ("task_id", "step", "what", "how", "who", "start", "due", "status", "note")
"""The columns of :meth:`PlanOfAction.table`, in order."""


def _month_start(start: dt.date, month: int) -> dt.date:
    return start + relativedelta(months=month - 1)


def _month_end(start: dt.date, month: int) -> dt.date:
    return start + relativedelta(months=month) - dt.timedelta(days=1)


def _as_tasks(values: Iterable[PlanTask]) -> tuple[PlanTask, ...]:
    return tuple(values)


@frozen
class PlanOfAction:
    """A plan of action: dated tasks, in order. Immutable: every change returns a new plan."""

    start_date: dt.date
    tasks: tuple[PlanTask, ...] = field(converter=_as_tasks)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for task in self.tasks:
            if task.task_id in seen:
                raise ValueError(f"plan of action: task_id {task.task_id!r} occurs twice")
            seen.add(task.task_id)

    def task(self, task_id: str) -> PlanTask:
        """The task called ``task_id``."""
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        raise KeyError(f"plan of action: no task {task_id!r}")

    def with_status(
        self, task_id: str, status: TaskStatus | str, *, note: str | None = None
    ) -> PlanOfAction:
        """The plan with one task moved to ``status`` (``open``, ``in_progress``, ``done``,
        ``skipped``)."""
        self.task(task_id)
        return evolve(
            self,
            tasks=tuple(
                evolve(t, status=TaskStatus(status), note=t.note if note is None else note)
                if t.task_id == task_id
                else t
                for t in self.tasks
            ),
        )

    def with_task(self, task: PlanTask) -> PlanOfAction:
        """The plan with ``task`` added, or replacing the task with the same id."""
        if any(t.task_id == task.task_id for t in self.tasks):
            return evolve(
                self, tasks=tuple(task if t.task_id == task.task_id else t for t in self.tasks)
            )
        return evolve(self, tasks=(*self.tasks, task))

    def without_task(self, task_id: str) -> PlanOfAction:
        """The plan without the task ``task_id``."""
        self.task(task_id)
        return evolve(self, tasks=tuple(t for t in self.tasks if t.task_id != task_id))

    def overdue(self, as_of: DateLike) -> tuple[PlanTask, ...]:
        """Tasks still open or in progress whose due date lies before ``as_of``."""
        day = parse_reference_date(as_of, name="as_of")
        return tuple(t for t in self.tasks if t.is_overdue(day))

    def table(self) -> Any:
        """The tasks as a pandas DataFrame with :data:`PLAN_COLUMNS` (status as text)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "task_id": t.task_id,
                    "step": t.step,
                    "what": t.what,
                    "how": t.how,
                    "who": t.who,
                    "start": t.start,
                    "due": t.due,
                    "status": t.status.value,
                    "note": t.note,
                }
                for t in self.tasks
            ],
            columns=list(PLAN_COLUMNS),
        )

    @classmethod
    def from_table(cls, frame: IntoFrame, *, start_date: DateLike) -> PlanOfAction:
        """A plan from an edited table with :data:`PLAN_COLUMNS` (``how``, ``who``, ``status``
        and ``note`` may be missing or empty). Bad rows raise with their row number."""
        native = nw.from_native(frame)
        eager = native.collect() if isinstance(native, nw.LazyFrame) else native
        missing = [c for c in ("task_id", "what", "start", "due") if c not in eager.columns]
        if missing:
            raise ValueError(
                f"plan of action: missing column(s) {', '.join(missing)}; "
                f"columns found: {', '.join(eager.columns)}"
            )
        tasks = []
        for number, row in enumerate(eager.rows(named=True)):
            try:
                tasks.append(_task_from_row(row))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"plan of action, row {number}: {exc}") from None
        return cls(parse_reference_date(start_date, name="start_date"), tasks)

    def with_recorded(self, recorded: Mapping[str, Mapping[str, Any]]) -> PlanOfAction:
        """The plan with the status and note the register already holds for its tasks.

        ``recorded`` is :func:`recorded_tasks`: making or reading the plan again never reopens
        a task the practice ticked off.
        """
        plan = self
        for task in self.tasks:
            known = recorded.get(task.task_id)
            if known is not None:
                plan = plan.with_status(task.task_id, known["status"], note=known["note"])
        return plan

    def moved_along(
        self, progress: Mapping[str, tuple[str, str]], done: Iterable[str] = ()
    ) -> tuple[PlanOfAction, dict[str, tuple[str, str]]]:
        """The plan with the register's progress (:func:`recorded_progress`) and the tasks in
        ``done`` marked done, and the progress that changed a task.

        Only open or in-progress tasks move: a task the practice marked done or skipped keeps
        that. An unknown id in ``done`` raises :class:`KeyError` naming the known tasks.
        """
        plan = self
        progressed: dict[str, tuple[str, str]] = {}
        for task_id, (status, note) in progress.items():
            if task_id in {t.task_id for t in plan.tasks}:
                task = plan.task(task_id)
                if task.status.value in ("open", "in_progress") and task.status.value != status:
                    plan = plan.with_status(task_id, status, note=note)
                    progressed[task_id] = (status, note)
        for task_id in done:
            try:
                plan = plan.with_status(task_id, "done")
            except KeyError:
                known = ", ".join(t.task_id for t in plan.tasks)
                raise KeyError(f"no task {task_id!r}; tasks: {known}") from None
        return plan, progressed

    def with_concurrent_changes(
        self, before: Mapping[str, Mapping[str, Any]], register: Any, done: Iterable[str] = ()
    ) -> PlanOfAction:
        """The plan with the task changes someone else recorded since ``before`` was read.

        Call it inside the recording transaction, which holds the register's write lock: an
        assistant who ticked a task off while the plan was being made keeps that change instead
        of having it overwritten by the status read at the start. Only the tasks in ``done``
        (this run's own ticks) win over it.
        """
        plan = self
        ours = set(done)
        for task_id, now in {t["task_id"]: t for t in register.current("tasks")}.items():
            then = before.get(task_id)
            changed = then is None or (then["status"], then["note"]) != (now["status"], now["note"])
            if changed and task_id not in ours and task_id in {t.task_id for t in plan.tasks}:
                plan = plan.with_status(task_id, now["status"], note=now["note"])
        return plan

    def record(self, register: Any, *, by: str) -> None:
        """Write every task into ``register`` (a :class:`benzoredux.Register`) as one
        transaction; the register keeps earlier revisions."""
        with register.transaction():
            for task in self.tasks:
                months = relativedelta(task.start, self.start_date)
                register.set_task(
                    task.task_id,
                    what=task.what,
                    by=by,
                    step=task.step,
                    who=task.who,
                    month=months.years * 12 + months.months + 1,
                    due=task.due,
                    status=task.status,
                    note=task.note,
                )


def _date(value: Any, column: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_reference_date(value, name=column)
    raise ValueError(f"{column} is not a date: {value!r}")


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value)


def _task_from_row(row: Mapping[str, Any]) -> PlanTask:
    task_id = _text(row, "task_id").strip()
    if not task_id:
        raise ValueError("task_id is missing")
    start, due = _date(row["start"], "start"), _date(row["due"], "due")
    if due < start:
        raise ValueError(f"due {due.isoformat()} is before start {start.isoformat()}")
    status = _text(row, "status").strip() or TaskStatus.OPEN.value
    if status not in {s.value for s in TaskStatus}:
        raise ValueError(
            f"status {status!r} is not one of {', '.join(s.value for s in TaskStatus)}"
        )
    return PlanTask(
        task_id=task_id,
        step=_text(row, "step"),
        what=_text(row, "what"),
        how=_text(row, "how"),
        who=_text(row, "who"),
        start=start,
        due=due,
        status=TaskStatus(status),
        note=_text(row, "note"),
    )


def plan_of_action(
    start_date: DateLike, *, template: Iterable[TemplateTask] = EXAMPLE_PLAN
) -> PlanOfAction:
    """Date a plan template (default: bijlage 3's example) from ``start_date`` (month 1's first
    day).

    >>> plan = plan_of_action("2026-01-05")
    >>> task = plan.task("send-invitations")
    >>> task.start, task.due
    (datetime.date(2026, 5, 5), datetime.date(2026, 6, 4))
    >>> [t.task_id for t in plan.overdue("2026-02-05")]
    ['select', 'screen', 'brief-team', 'instruct-team']
    """
    start = parse_reference_date(start_date, name="start_date")
    return PlanOfAction(
        start,
        tuple(
            PlanTask(
                task_id=t.task_id,
                step=t.step,
                what=t.what,
                how=t.how,
                who=t.who,
                start=_month_start(start, t.first_month),
                due=_month_end(start, t.last_month),
            )
            for t in template
        ),
    )


def write_plan_xlsx(plan: PlanOfAction, path: str | os.PathLike[str]) -> Path:
    """Write the plan as a spreadsheet to edit (needs ``openpyxl``).

    :func:`benzoredux.output.write_xlsx` writes it for people: Dutch headers (``Taakcode``,
    ``Stap``, ``Wat``, ... ``Status``, ``Toelichting``), the status and step as Dutch words
    (``klaar``, ``bewaken``), dates as date cells shown ``dd-mm-jjjj``, text as text cells
    (never a formula, no visible quote); the file is private and written atomically.
    :func:`read_plan` reads it back, edited or not. ``plan.csv`` keeps :data:`PLAN_COLUMNS`.
    """
    return write_xlsx({"Plan van aanpak": plan.table()}, path)


def write_plan_ics(
    plan: PlanOfAction,
    path: str | os.PathLike[str],
    *,
    programme: str | None = None,
    stamp: dt.datetime | None = None,
) -> Path:
    """Write the open tasks as all-day iCalendar events from start to due (needs
    ``icalendar``, the ``schedule`` extra). ``stamp`` fixes DTSTAMP for reproducible files.

    ``programme`` (:func:`benzoredux.schedule.calendar_programme`: the practice and reference
    date) goes into every UID (:func:`benzoredux.schedule.calendar_uid`): the plans of two
    programmes in one agenda stay apart, and the plan written again (re-dated, or with tasks
    done) replaces its own events. Without it the UIDs carry the plan's start date only, so two
    programmes that start on the same day would replace each other's events.
    """
    from icalendar import Calendar, Event

    from benzoredux.schedule import calendar_uid

    identity = programme if programme is not None else f"plan {plan.start_date.isoformat()}"
    when = stamp or dt.datetime.now(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//benzoredux//plan of action//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Benzodiazepinen: plan van aanpak")
    for task in plan.tasks:
        if task.status in {TaskStatus.DONE, TaskStatus.SKIPPED}:
            continue
        event = Event()
        event.add("uid", calendar_uid(f"plan-{task.task_id}", identity))
        event.add("dtstamp", when)
        event.add("summary", f"{task.what} ({task.who})" if task.who else task.what)
        event.add("dtstart", task.start)
        event.add("dtend", task.due + dt.timedelta(days=1))
        if task.how:
            event.add("description", task.how)
        calendar.add_component(event)
    target = Path(path)
    with private_file(target, "wb") as handle:
        handle.write(calendar.to_ical())
    return target


_GP_WORDS = ("huisarts",)
"""The example's word for the GP in ``who``: replaced by the GPs' names when they are known."""


def name_gps(who: str, names: Iterable[str]) -> str:
    """``who`` with the GPs' names after the word for the GP (``huisarts (A, B)``).

    >>> from benzoredux.evaluation.plan import name_gps
    >>> name_gps("huisarts", ["A. de Vries", "B. Bakker"])
    'huisarts (A. de Vries, B. Bakker)'
    >>> name_gps("apotheker", ["A. de Vries"])
    'apotheker'
    """
    listed = list(names)
    if not listed:
        return who
    for word in _GP_WORDS:
        if word in who.split():
            return who.replace(word, f"{word} ({', '.join(listed)})", 1)
    return who


def month_one(
    *, letter_date: dt.date | None = None, reference_date: dt.date | None = None
) -> dt.date:
    """The first day of programme month 1 when no start date is given.

    Bijlage 3 sends the letters in month 2, so month 1 starts a month before the letters;
    without a letters date it starts on the programme's reference date (the selection).
    Raises :class:`ValueError` when neither is known.
    """
    if letter_date is not None:
        return letter_date - relativedelta(months=1)
    if reference_date is not None:
        return reference_date
    raise ValueError("no start date: give a start date, a letters date or a reference date")


def dated_example(
    start: DateLike,
    *,
    letter_date: DateLike | None = None,
    gp_names: Iterable[str] = (),
    recorded: Mapping[str, Mapping[str, Any]] | None = None,
    template: Iterable[TemplateTask] = EXAMPLE_PLAN,
) -> PlanOfAction:
    """Bijlage 3's example dated from ``start``, the GPs named, the letters pinned to their
    date, and the statuses the register already holds (``recorded``, :func:`recorded_tasks`).

    The stop letters go out on ``letter_date``, so they are merged by then: both letters
    tasks are due that day. A ``letter_date`` before ``start`` raises :class:`ValueError`.

    >>> from benzoredux.evaluation.plan import dated_example
    >>> plan = dated_example("2026-01-05", letter_date="2026-02-09", gp_names=["A. de Vries"])
    >>> plan.task("send-letters").start, plan.task("send-letters").due
    (datetime.date(2026, 2, 9), datetime.date(2026, 2, 9))
    >>> plan.task("screen").who
    'huisarts (A. de Vries)'
    """
    first = parse_reference_date(start, name="start_date")
    names = list(gp_names)
    plan = plan_of_action(first, template=template)
    for task in plan.tasks:
        plan = plan.with_task(evolve(task, who=name_gps(task.who, names)))
    if letter_date is not None:
        letters = parse_reference_date(letter_date, name="letter_date")
        if letters < first:
            raise ValueError(f"{letters} is before the start {first}")
        for task_id in ("merge-letters", "send-letters"):
            if task_id not in {t.task_id for t in plan.tasks}:
                continue
            task = plan.task(task_id)
            start_day = letters if task_id == "send-letters" else min(task.start, letters)
            plan = plan.with_task(evolve(task, start=start_day, due=letters))
    return plan.with_recorded(recorded or {})


def read_plan(plan: Any, start_date: dt.date | None = None) -> PlanOfAction:
    """A plan written by the ``plan`` step and perhaps edited since (``plan.xlsx`` or
    ``plan.csv``), read back; a :class:`PlanOfAction` is returned as it is.

    Both the spreadsheet's Dutch headers and words (``Status``: ``open``, ``bezig``,
    ``klaar``, ``overgeslagen``; :mod:`benzoredux.spreadsheets`) and the CSV file's canonical
    ones (``status``: ``open``, ``in_progress``, ``done``, ``skipped``) are read, in any case.
    A date is a date cell, ``YYYY-MM-DD`` or ``DD-MM-YYYY``. The CSV file neutralises formulas
    with a leading quote (``'=...``), as an earlier version did in the spreadsheet too; that
    quote is taken off again. Month 1 starts on ``start_date``, or on the earliest task's
    start. A file that cannot be read raises :class:`ValueError` naming the file, the row (as
    the spreadsheet numbers it) and the column as the file names it, never a value.
    """
    if isinstance(plan, PlanOfAction):
        return plan
    path = Path(plan)
    table, named = _plan_table(path)
    problems = _plan_row_problems(table, path.name, named)
    if problems:
        raise PlanRowError(problems[0][2])
    return _plan_from(table, path.name, start_date)


class PlanRowError(BenzoreduxError, ValueError):
    """A row of an edited plan cannot be a task; the message names the file, the row as the
    spreadsheet numbers it and the column, never the value (:func:`read_plan_rows` goes on
    without such rows)."""


@frozen
class PlanRows:
    """An edited plan read going on with its usable rows (:func:`read_plan_rows`)."""

    plan: PlanOfAction | None
    """The plan of the rows that can be read (``None`` when none can)."""
    rejected: Any
    """The rows left out, with the columns of :attr:`benzoredux.reading.result.ReadResult.rejected`
    (``record`` is the row as the spreadsheet numbers it, the header being row 1)."""
    left_out: tuple[str, ...]
    """The task ids of the rows left out, where the row has one."""


def read_plan_rows(plan: str | os.PathLike[str], start_date: dt.date | None = None) -> PlanRows:
    """:func:`read_plan`, going on with the usable rows (the ``plan`` command's
    ``--skip-invalid``). A file that cannot be read at all still raises."""
    import pandas as pd

    from benzoredux.reading.result import empty_problems, problem_frame

    path = Path(plan)
    table, named = _plan_table(path)
    problems = _plan_row_problems(table, path.name, named)
    if not problems:
        return PlanRows(_plan_from(table, path.name, start_date), empty_problems(), ())
    bad = sorted({index for index, _, _ in problems})
    ids = table["task_id"] if "task_id" in table.columns else pd.Series([""] * len(table))
    left_out = tuple(
        dict.fromkeys(str(ids.iloc[i]).strip() for i in bad if str(ids.iloc[i]).strip())
    )
    rejected = problem_frame(
        table=["plan"] * len(problems),
        file=[path.name] * len(problems),
        line=[None] * len(problems),
        record=[f"row {index + 2}" for index, _, _ in problems],
        column=[column for _, column, _ in problems],
        source_column=[named.get(column, column) if column else None for _, column, _ in problems],
        value=[None] * len(problems),
        reason=[message.split(": ", 2)[-1] for _, _, message in problems],
    )
    rest = table.drop(index=table.index[bad]).reset_index(drop=True)
    if not len(rest) and start_date is None:
        return PlanRows(None, rejected, left_out)
    return PlanRows(_plan_from(rest, path.name, start_date), rejected, left_out)


def with_left_out_tasks(
    plan: PlanOfAction,
    left_out: Iterable[str],
    recorded: Mapping[str, Mapping[str, Any]],
    gp_names: Iterable[str] = (),
) -> PlanOfAction:
    """``plan`` with the tasks of the rows :func:`read_plan_rows` left out put back as they
    were before the edit: bijlage 3's task dated from the plan's start, with the status,
    note and due date the register holds (``recorded``, :func:`recorded_tasks`). The edit of
    such a row is not taken, but the task stays in the plan, so the written plan still shows
    it to correct. A left-out task that is neither in bijlage 3 nor in the register (a row the
    practice added) cannot be rebuilt and stays out; it is in the rejected rows."""
    example = dated_example(plan.start_date, gp_names=gp_names, recorded=recorded)
    known = {t.task_id for t in example.tasks}
    for task_id in left_out:
        if task_id not in known or any(t.task_id == task_id for t in plan.tasks):
            continue
        task = example.task(task_id)
        entry = recorded.get(task_id)
        due = entry["due"] if entry is not None else None
        if isinstance(due, dt.date) and due >= task.start:
            task = evolve(task, due=due)
        plan = plan.with_task(task)
    order = {t.task_id: i for i, t in enumerate(example.tasks)}
    tasks = sorted(plan.tasks, key=lambda t: (t.start, order.get(t.task_id, len(order))))
    return evolve(plan, tasks=tuple(tasks))


def _plan_table(path: Path) -> tuple[Any, dict[str, str]]:
    """A plan file's rows with canonical column names and words, and each canonical column's
    name as the file writes it (for messages)."""
    import pandas as pd

    from benzoredux.spreadsheets import canonical_headers, from_dutch

    try:
        if path.suffix.lower() == ".xlsx":
            table = pd.read_excel(path, dtype=object, keep_default_na=False)
        else:
            table = pd.read_csv(
                path, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[]
            )
    except pd.errors.EmptyDataError:
        # pandas says "No columns to parse from file", without the file's name.
        raise ValueError(
            f"{path.name}: the file is empty; expected the plan as plan.csv or plan.xlsx "
            "wrote it, with its header line"
        ) from None
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile):
        raise ValueError(
            f"{path.name}: cannot be read as a plan; save it as a CSV file in UTF-8 or as an "
            ".xlsx workbook, as the plan command wrote it"
        ) from None
    renames = canonical_headers([str(c) for c in table.columns])
    named = {renames.get(str(c), str(c)): str(c) for c in table.columns}
    table = table.rename(columns=renames)
    for column in ("task_id", "what", "how", "who", "note", "step", "status"):
        if column in table.columns:
            table[column] = [
                "" if value is None or value != value else str(value)  # noqa: PLR0124 - NaN
                for value in table[column]
            ]
    for column in ("what", "how", "who", "note", "step"):
        if column in table.columns:
            table[column] = table[column].str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
    for column in ("step", "status"):
        if column in table.columns:
            table[column] = [from_dutch(column, value).strip() for value in table[column]]
    for column in ("start", "due"):
        if column not in table.columns:
            raise ValueError(f"{path.name}: no column {_column_names(column)}")
    return table, named


def _plan_from(table: Any, name: str, start_date: dt.date | None) -> PlanOfAction:
    """The plan of rows that passed :func:`_plan_row_problems`."""
    table = table.copy()
    for column in ("start", "due"):
        table[column] = [_plan_day(value) for value in table[column]]
    starts = list(table["start"])
    if not starts and start_date is None:
        raise ValueError(f"{name}: holds no tasks")
    first = start_date or min(starts)
    try:
        return PlanOfAction.from_table(table, start_date=first)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _column_names(column: str) -> str:
    """``'start' (Vanaf)``: a plan column by both its names, for messages."""
    from benzoredux.spreadsheets import DUTCH_HEADERS

    return f"{column!r} ({DUTCH_HEADERS[column]})"


_DUTCH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def _plan_day(value: Any) -> dt.date | None:
    """A plan date: a date cell, ``YYYY-MM-DD`` (a time after it is ignored, as a spreadsheet
    program may add one) or ``DD-MM-YYYY`` text; else ``None``. The two text forms cannot be
    mistaken for one another."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = "" if value is None else str(value).strip()
    try:
        if dutch := _DUTCH_DAY.match(text):
            day, month, year = dutch.groups()
            return dt.date(int(year), int(month), int(day))
        if len(text) >= 10 and text[4] == "-" and text[7] == "-":
            return dt.date.fromisoformat(text[:10])
    except ValueError:  # 31-02-2026
        return None
    return None


def _plan_row_problems(
    table: Any, name: str, named: Mapping[str, str]
) -> list[tuple[int, str | None, str]]:
    """``(row index, canonical column, message)`` for each plan row that cannot be a task
    (its first problem): the message names the row as the spreadsheet numbers it (the header
    is row 1) and the column as the file names it; never the value."""
    from benzoredux.spreadsheets import TASK_STATUS_WORDS

    statuses = {s.value for s in TaskStatus}
    problems: list[tuple[int, str | None, str]] = []
    task_ids: set[str] = set()
    for index, row in enumerate(table.to_dict("records")):
        where = f"{name}, row {index + 2}"
        if "task_id" in row and not row["task_id"].strip():
            column = named.get("task_id", "task_id")
            problems.append((index, "task_id", f"{where}: column {column!r} is empty"))
            continue
        days: dict[str, dt.date] = {}
        for column in ("start", "due"):
            day = _plan_day(row[column])
            if day is None:
                problems.append(
                    (
                        index,
                        column,
                        f"{where}: column {named[column]!r} holds no date "
                        "(a date, YYYY-MM-DD or DD-MM-YYYY)",
                    )
                )
                break
            days[column] = day
        else:
            status = row.get("status", "")
            if days["due"] < days["start"]:
                problems.append(
                    (
                        index,
                        "due",
                        f"{where}: the date in {named['due']!r} is before the date in "
                        f"{named['start']!r}",
                    )
                )
            elif status and status not in statuses:
                problems.append(
                    (
                        index,
                        "status",
                        f"{where}: column {named.get('status', 'status')!r} is not a status: "
                        f"give one of {', '.join(TASK_STATUS_WORDS.values())} (or "
                        f"{', '.join(sorted(statuses))})",
                    )
                )
            elif row.get("task_id", "").strip() in task_ids:
                problems.append(
                    (
                        index,
                        "task_id",
                        f"{where}: column {named.get('task_id', 'task_id')!r} repeats the task "
                        "of an earlier row",
                    )
                )
        task_ids.add(str(row.get("task_id", "")).strip())
    return problems


def recorded_tasks(register: Any) -> dict[str, Any]:
    """The plan tasks the register holds now, by ``task_id`` (for
    :meth:`PlanOfAction.with_recorded` and :meth:`PlanOfAction.with_concurrent_changes`)."""
    return {t["task_id"]: t for t in register.current("tasks")}


@frozen
class TaskEvidence:
    """What the register shows of one task's outcome (:func:`recorded_evidence`)."""

    status: str
    """``done``, or ``in_progress`` when only part of what the task covers is recorded."""
    note: str
    """What the evidence is, in the practice's words (Dutch): counts and dates, no patients."""
    on: dt.date | None = None
    """The date of the evidence: the letters' date, the last consult or call, the evaluation
    date, or the day the selection or screening was recorded."""


_CLOSING_CALLS = frozenset({"declined", "already_stopped"})
"""Call outcomes that settle a patient's consult without one: the patient declined, or has
already stopped. Other outcomes (no answer, call back later, ...) leave the consult to come."""


def _dutch(day: dt.date | None) -> str:
    from benzoredux.letters.rendering import dutch_date

    return dutch_date(day)


def _n(count: int, one: str, many: str) -> str:
    """``1 stopbrief``, ``2 stopbrieven``."""
    return f"{count} {one if count == 1 else many}"


def _period(days: Iterable[dt.date]) -> str:
    """``op 12 januari 2026``, or ``van 12 januari 2026 tot en met 23 februari 2026``."""
    known = sorted(set(days))
    if not known:
        return ""
    if len(known) == 1:
        return f"op {_dutch(known[0])}"
    return f"van {_dutch(known[0])} tot en met {_dutch(known[-1])}"


def _recorded_on(entry: Any) -> dt.date:
    """The local calendar day an entry was recorded (the register keeps UTC)."""
    moment: dt.datetime = entry.recorded_at
    return moment.astimezone().date()


def _letter_day(entry: Any) -> dt.date:
    day: dt.date = entry["sent_date"] or entry["letter_date"]
    return day


def _iso(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _batch_tasks(register: Any) -> dict[str, dict[int, Any]]:
    """The schedule's tasks in the register (``batch-N-<suffix>``, not skipped), by suffix and
    batch number."""
    from benzoredux.register.steps import SCHEDULE_TASKS

    suffixes = {suffix for suffix, *_ in SCHEDULE_TASKS}
    found: dict[str, dict[int, Any]] = {suffix: {} for suffix in suffixes}
    for task in register.current("tasks"):
        head, _, rest = str(task["task_id"]).partition("-")
        number, _, suffix = rest.partition("-")
        planned = task["status"] != TaskStatus.SKIPPED.value
        if head == "batch" and number.isdigit() and suffix in suffixes and planned:
            found[suffix][int(number)] = task
    return found


def _by_batch(entries: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for entry in entries:
        grouped.setdefault(int(entry["batch"]), []).append(entry)
    return grouped


def _to_screen(register: Any, decided: Mapping[str, Any]) -> set[str]:
    """The patients the screening must decide: the latest selection's, without those the
    selection excluded already; without a selection, those decided."""
    if not register.current("selections"):
        return set(decided)
    selection = register.selection()
    patients = selection["patient_id"].astype(str)
    if "excluded_because" in selection.columns:
        because = selection["excluded_because"]
        excluded = because.notna() & (because.astype(str).str.strip() != "")
        patients = patients[~excluded]
    return set(patients)


def _sent_evidence(
    entries: list[Any],
    patients_due: set[str],
    planned: Mapping[int, Any],
    what: tuple[str, str],
    gap: tuple[str, str],
) -> TaskEvidence:
    """The example's letters tasks: ``done`` when everyone due has the letter, or when every
    batch the schedule planned has its letters; ``in_progress`` before."""
    have = {e["patient_id"] for e in entries}
    batches = {int(e["batch"]) for e in entries}
    every_batch = bool(planned) and set(planned) <= batches
    done = patients_due <= have or every_batch
    note = f"{_n(len(have), *what)} verstuurd, {_period(_letter_day(e) for e in entries)}"
    missing = len(patients_due - have)
    if missing:
        note += "; " + _n(missing, *gap)
    return TaskEvidence(
        "done" if done else "in_progress", note, max(_letter_day(e) for e in entries)
    )


def _settled_evidence(
    patients: set[str],
    consults: Mapping[str, list[Any]],
    calls: Mapping[str, list[Any]],
) -> TaskEvidence | None:
    """Consults of ``patients`` (the invited of a batch, or all): ``done`` when each has a
    consult recorded (came or not) or a call that settles it (declined, already stopped)."""
    settled: dict[str, list[dt.date]] = {}
    for patient in patients:
        days = [c["date"] for c in consults.get(patient, [])]
        days += [c["called_on"] for c in calls.get(patient, []) if c["outcome"] in _CLOSING_CALLS]
        if days:
            settled[patient] = days
    if not settled:
        return None
    came = sum(any(c["attended"] for c in consults.get(p, [])) for p in settled)
    note = (
        f"consult vastgelegd voor {len(settled)} van {len(patients)} uitgenodigden "
        f"({came} op het consult geweest)"
    )
    last = max(day for days in settled.values() for day in days)
    return TaskEvidence("done" if len(settled) == len(patients) else "in_progress", note, last)


def _called_evidence(
    patients: set[str],
    consults: Mapping[str, list[Any]],
    calls: list[Any],
) -> TaskEvidence | None:
    """Calls to the invited who did not respond: ``done`` when each invited patient who did
    not come to a consult has been called (or, with every consult recorded, when all came);
    ``in_progress`` when some have been called."""
    came = {p for p in patients if any(c["attended"] for c in consults.get(p, []))}
    need = patients - came
    called = {c["patient_id"] for c in calls}
    if calls:
        note = f"{_n(len(called), 'patiënt', 'patiënten')} gebeld, "
        note += _period(c["called_on"] for c in calls)
        status = "done" if need <= called else "in_progress"
        if need - called:
            note += f"; {len(need - called)} die niet kwamen nog niet gebeld"
        return TaskEvidence(status, note, max(c["called_on"] for c in calls))
    if patients and not need:
        last = max(c["date"] for p in came for c in consults[p] if c["attended"])
        everyone = "alle uitgenodigden kwamen op het consult: niemand te bellen"
        return TaskEvidence("done", everyone, last)
    return None


def _evaluated_consults(register: Any) -> tuple[TaskEvidence, dt.date] | None:
    """The latest evaluation run that counted consults (held or missed): evidence that the
    consults it counted were held, up to its last consult date."""
    runs = [e for e in register.current("evaluations") if e["results"].get("process")]
    for run in sorted(runs, key=lambda e: (e["run_date"], e.recorded_at), reverse=True):
        totals = [r for r in run["results"]["process"] if r.get("level") == "total"]
        if not totals:
            continue
        total = totals[0]
        held = int(total.get("consults_held") or 0)
        missed = int(total.get("consults_missed") or 0)
        first, last = _iso(total.get("first_consult_date")), _iso(total.get("last_consult_date"))
        if held + missed == 0 or last is None:
            continue
        days = [d for d in (first, last) if d is not None]
        note = (
            f"volgens de evaluatie van {_dutch(run['run_date'])}: "
            f"{_n(held, 'consult', 'consulten')} gehouden en {missed} gemist, {_period(days)}"
        )
        return TaskEvidence("done", note, last), last
    return None


def recorded_evidence(register: Any) -> dict[str, TaskEvidence]:
    """What the register shows of the plan's tasks: ``task_id`` -> :class:`TaskEvidence`.

    It covers bijlage 3's example (:data:`EXAMPLE_PLAN`) and the schedule's tasks per batch
    (``batch-N-stop-letters``, ``-invitations``, ``-calls``, ``-consults``, recorded by
    ``benzoredux schedule``). The rules (stated on :doc:`/domain/evaluation`):

    * ``select``: done by a selection snapshot (the day it was recorded);
    * ``screen``: done when every patient of the latest selection that the selection did not
      exclude has a screening decision (in progress when some have; the day of the last
      decision);
    * ``batch-N-stop-letters``, ``batch-N-invitations``: done by the batch's letters (their
      date);
    * ``merge-letters``, ``send-letters``: done when every eligible patient has a stop letter
      or every planned batch has its stop letters, in progress before (the last letter date);
      ``send-invitations`` likewise for the letter recipients and the invitations;
    * ``batch-N-consults`` and ``consults``: done when each patient invited (in the batch) has
      a consult recorded, came or not, or a call that settles it (declined, already stopped);
      in progress when some have (the last consult). When the register holds no consult of
      them, the latest evaluation run that counted consults closes them (its last consult
      date): ``consults`` always, a batch's when its first slot lies on or before that date;
    * ``batch-N-calls`` and ``call-non-responders``: done when each invited patient who did not
      come has a call recorded (or when everyone came), in progress when some have (the last
      call);
    * ``evaluate``: done by an evaluation run (its evaluation date).

    Briefing the team, informing patients and monitoring leave nothing in the register: the
    practice ticks them off (``benzoredux plan --done``).
    """
    found: dict[str, TaskEvidence] = {}
    found.update(_steps_one_and_two(register))
    found.update(_letters_evidence(register))
    found.update(_consults_and_calls_evidence(register))
    runs = register.current("evaluations")
    if runs:
        run = max(runs, key=lambda e: (e["run_date"], e.recorded_at))
        found["evaluate"] = TaskEvidence(
            "done", f"evaluatie van {_dutch(run['run_date'])} vastgelegd", run["run_date"]
        )
    return found


def _steps_one_and_two(register: Any) -> dict[str, TaskEvidence]:
    found: dict[str, TaskEvidence] = {}
    snapshots = register.current("selections")
    if snapshots:
        latest = snapshots[-1]
        found["select"] = TaskEvidence(
            "done",
            f"selectie van {latest['rows']} patiënten, "
            f"peildatum {_dutch(latest['reference_date'])}",
            _recorded_on(latest),
        )
    decided = register.screening()
    if decided:
        to_screen = _to_screen(register, decided)
        done = to_screen & set(decided)
        review = sum(
            1
            for p in done
            if decided[p]["source"] == "proposal" and list(decided[p]["reasons"]) == ["review"]
        )
        note = f"{len(done)} van {_n(len(to_screen), 'patiënt', 'patiënten')} gescreend"
        if review:
            note += f", {review} nog te beoordelen door de huisarts"
        found["screen"] = TaskEvidence(
            "done" if to_screen <= done else "in_progress",
            note,
            max(_recorded_on(e) for e in decided.values()),
        )
    return found


def _letters_evidence(register: Any) -> dict[str, TaskEvidence]:
    found: dict[str, TaskEvidence] = {}
    planned = _batch_tasks(register)
    eligible = {p for p, e in register.screening().items() if not e["excluded"]}
    stop_letters = register.letters("stop_letter")
    invitations = register.letters("invitation")
    for suffix, entries, what in (
        ("stop-letters", stop_letters, ("stopbrief", "stopbrieven")),
        ("invitations", invitations, ("uitnodiging", "uitnodigingen")),
    ):
        for batch, of_batch in _by_batch(entries).items():
            found[f"batch-{batch}-{suffix}"] = TaskEvidence(
                "done",
                f"{_n(len(of_batch), *what)} verstuurd, "
                f"{_period(_letter_day(e) for e in of_batch)}",
                max(_letter_day(e) for e in of_batch),
            )
    if stop_letters:
        found["merge-letters"] = found["send-letters"] = _sent_evidence(
            stop_letters,
            eligible,
            planned["stop-letters"],
            ("stopbrief", "stopbrieven"),
            (
                "patiënt die in aanmerking komt heeft (nog) geen stopbrief",
                "patiënten die in aanmerking komen hebben (nog) geen stopbrief",
            ),
        )
    if invitations:
        found["send-invitations"] = _sent_evidence(
            invitations,
            {e["patient_id"] for e in stop_letters},
            planned["invitations"],
            ("uitnodiging", "uitnodigingen"),
            (
                "ontvanger van een stopbrief (nog) niet uitgenodigd",
                "ontvangers van een stopbrief (nog) niet uitgenodigd",
            ),
        )
    return found


def _consults_and_calls_evidence(register: Any) -> dict[str, TaskEvidence]:
    found: dict[str, TaskEvidence] = {}
    consults: dict[str, list[Any]] = {}
    for entry in register.current("consults"):
        consults.setdefault(entry["patient_id"], []).append(entry)
    every_call = register.current("phone_calls")
    calls: dict[str, list[Any]] = {}
    for entry in every_call:
        calls.setdefault(entry["patient_id"], []).append(entry)
    invitations = register.letters("invitation")
    groups: dict[int | None, set[str]] = {
        batch: {e["patient_id"] for e in of_batch}
        for batch, of_batch in _by_batch(invitations).items()
    }
    for planned in _batch_tasks(register)["consults"]:
        groups.setdefault(planned, set())
    groups[None] = {e["patient_id"] for e in invitations}  # the example's tasks: everyone
    evaluated = _evaluated_consults(register)
    due = {t["task_id"]: t["due"] for t in register.current("tasks")}
    for batch, patients in groups.items():
        consult_task = "consults" if batch is None else f"batch-{batch}-consults"
        shown = _settled_evidence(patients, consults, calls)
        if shown is None and evaluated is not None:
            # A batch's consults: only when the evaluation's consults reach its first slot.
            task_due = due.get(consult_task)
            if batch is None or task_due is None or task_due <= evaluated[1]:
                shown = evaluated[0]
        if shown is not None:
            found[consult_task] = shown
        batch_calls = [
            c
            for c in every_call
            if c["patient_id"] in patients or (batch is not None and c["invitation_batch"] == batch)
        ]
        called = _called_evidence(patients, consults, batch_calls)
        if called is not None:
            found["call-non-responders" if batch is None else f"batch-{batch}-calls"] = called
    return found


def recorded_progress(register: Any) -> dict[str, tuple[str, str]]:
    """How far the register shows the plan's tasks to be: ``task_id`` -> (status, note), from
    :func:`recorded_evidence` (which also gives each outcome's date)."""
    return {task_id: (e.status, e.note) for task_id, e in recorded_evidence(register).items()}


def close_recorded_tasks(
    register: Any, *, by: str, evidence: Mapping[str, TaskEvidence] | None = None
) -> dict[str, tuple[str, str]]:
    """Move the register's open and in-progress tasks along by :func:`recorded_evidence`, in
    one transaction, and return what moved (``task_id`` -> (status, note)).

    This is how the schedule's tasks per batch, which live only in the register, are closed
    by ``benzoredux plan`` and :meth:`benzoredux.programme.Programme.plan`; the plan's own
    tasks move with :meth:`PlanOfAction.moved_along` by the same evidence. A task the practice
    marked done or skipped is never changed.
    """
    shown = recorded_evidence(register) if evidence is None else evidence
    moved: dict[str, tuple[str, str]] = {}
    with register.transaction():
        for task in register.current("tasks"):
            found = shown.get(task["task_id"])
            open_ = task["status"] in (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
            if found is None or not open_ or task["status"] == found.status:
                continue
            register.set_task_status(
                task["task_id"], found.status, by=by, note=found.note, remark="from the register"
            )
            moved[task["task_id"]] = (found.status, found.note)
    return moved
