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
along from the steps the register shows (:func:`recorded_progress`,
:meth:`PlanOfAction.moved_along`) and, while recording, keeps what someone else ticked off in
the meantime (:meth:`PlanOfAction.with_concurrent_changes`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import narwhals as nw
from attrs import evolve, field, frozen, validators
from dateutil.relativedelta import relativedelta
from narwhals.typing import IntoFrame

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.output import private_file, write_xlsx
from benzoredux.register.schema import TaskStatus

__all__ = [
    "EXAMPLE_PLAN",
    "PLAN_COLUMNS",
    "PlanOfAction",
    "PlanTask",
    "TemplateTask",
    "dated_example",
    "month_one",
    "name_gps",
    "plan_of_action",
    "read_plan",
    "recorded_progress",
    "recorded_tasks",
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

    :func:`benzoredux.output.write_xlsx` writes it: text cells a spreadsheet would read as a
    formula are neutralised (``'=...``) and stored as text; the file is private and written
    atomically.
    """
    return write_xlsx({"Plan van aanpak": plan.table()}, path)


def write_plan_ics(
    plan: PlanOfAction, path: str | os.PathLike[str], *, stamp: dt.datetime | None = None
) -> Path:
    """Write the open tasks as all-day iCalendar events from start to due (needs
    ``icalendar``, the ``schedule`` extra). ``stamp`` fixes DTSTAMP for reproducible files."""
    from icalendar import Calendar, Event

    when = stamp or dt.datetime.now(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//benzoredux//plan of action//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Benzodiazepinen: plan van aanpak")
    for task in plan.tasks:
        if task.status in {TaskStatus.DONE, TaskStatus.SKIPPED}:
            continue
        event = Event()
        event.add("uid", f"plan-{task.task_id}-{plan.start_date.isoformat()}@benzoredux")
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

    The written file neutralises formulas with a leading quote (``'=...``); that quote is taken
    off again. Month 1 starts on ``start_date``, or on the earliest task's start. A file that
    cannot be read raises :class:`ValueError` naming the file and the column, never a value.
    """
    if isinstance(plan, PlanOfAction):
        return plan
    import pandas as pd

    path = Path(plan)
    if path.suffix.lower() == ".xlsx":
        table = pd.read_excel(path, dtype={"task_id": str}, keep_default_na=False)
    else:
        table = pd.read_csv(
            path, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[]
        )
    for column in ("what", "how", "who", "note", "step"):
        if column in table.columns:
            table[column] = (
                table[column].astype(str).str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
            )
    try:
        starts = [
            value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
            for value in table["start"]
        ]
    except KeyError:
        raise ValueError(f"{path.name}: no column 'start'") from None
    except ValueError:
        raise ValueError(f"{path.name}: column 'start' holds a value that is no date") from None
    if not starts and start_date is None:
        raise ValueError(f"{path.name}: holds no tasks")
    first = start_date or min(d.date() if isinstance(d, dt.datetime) else d for d in starts)
    try:
        return PlanOfAction.from_table(table, start_date=first)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None


def recorded_tasks(register: Any) -> dict[str, Any]:
    """The plan tasks the register holds now, by ``task_id`` (for
    :meth:`PlanOfAction.with_recorded` and :meth:`PlanOfAction.with_concurrent_changes`)."""
    return {t["task_id"]: t for t in register.current("tasks")}


def recorded_progress(register: Any) -> dict[str, tuple[str, str]]:
    """How far the register shows the example plan's steps to be: ``task_id`` -> (status,
    note), for the tasks of :data:`~benzoredux.evaluation.plan.EXAMPLE_PLAN` that the steps
    record (selection, screening, stop letters, invitations, evaluation).

    A step is ``done`` when everyone it concerns has it (every eligible patient a stop letter,
    every letter recipient an invitation), ``in_progress`` when some have.
    """
    progress: dict[str, tuple[str, str]] = {}
    snapshots = register.current("selections")
    if snapshots:
        progress["select"] = ("done", f"selection snapshot {snapshots[-1]['snapshot_id']}")
    decided = register.screening()
    if decided:
        progress["screen"] = ("done", f"{len(decided)} patients screened")
    eligible = {p for p, e in decided.items() if not e["excluded"]}
    stopped = {e["patient_id"] for e in register.letters("stop_letter")}
    if stopped:
        status = "done" if eligible <= stopped else "in_progress"
        note = f"{len(stopped)} stop letters recorded"
        progress["merge-letters"] = progress["send-letters"] = (status, note)
    invited = {e["patient_id"] for e in register.letters("invitation")}
    if invited:
        status = "done" if stopped <= invited else "in_progress"
        progress["send-invitations"] = (status, f"{len(invited)} invitations recorded")
    runs = register.current("evaluations")
    if runs:
        progress["evaluate"] = ("done", f"evaluation {runs[-1]['run_id']} recorded")
    return progress
