"""The sending schedule (FTO module, steps 3 and 4): letters and invitations in weekly batches.

The seed's plan: send the stop letters, invite every addressee for an evaluation consult about
three months later, phone those who do not respond about two weeks after the invitation, and
spread the consults by sending in batches (for example 15 a week, at most about 2 consults a
day). :func:`plan_schedule` makes that plan for a list of patients:

* patients are split, in the order given, into batches of ``batch_size`` (15); batch ``b``
  (from 1) gets its stop letters ``b - 1`` weeks after ``first_letter_date``
  (``letters="together"``: all letters on the first date, as an FTO group sending on one day);
* each invitation goes ``invitation_months`` (3) calendar months after the letter
  (``letters="together"``: after the first date, plus ``b - 1`` weeks, so that invitations
  still go out in weekly batches). Calendar months follow ``dateutil.relativedelta``:
  31 January plus 3 months is 30 April, 30 November plus 3 months is 28 (or 29) February;
* the practice phones non-responders ``call_after_days`` (14) after the invitation;
* consult days are reserved from ``consult_after_days`` (7) after each invitation on, at most
  ``consults_per_day`` (2) a day (per GP with ``per_gp=True``), first come first served in
  batch order;
* every date falls on a working day: Saturdays, Sundays and the ``holidays`` given move to the
  next working day (the library does not guess the practice's holidays).

The plan exports as a spreadsheet (:func:`write_schedule_xlsx`, in Dutch and formula-safe) and
as an iCalendar file for the practice agenda (:func:`write_schedule_ics`, without patient data
unless asked; its event UIDs carry the programme, :func:`calendar_programme`, so that two
programmes in one agenda never replace each other's events). openpyxl and icalendar are optional
(the ``schedule`` extra).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, cast

import narwhals as nw
from attrs import field, fields, frozen, validators
from dateutil.relativedelta import relativedelta
from narwhals.typing import IntoFrame

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.errors import BenzoreduxError, describe_columns, shorten
from benzoredux.output import private_file, write_xlsx

__all__ = [
    "Schedule",
    "ScheduleError",
    "ScheduleOptions",
    "add_months",
    "calendar_programme",
    "calendar_programme_of",
    "calendar_uid",
    "invitation_fields",
    "next_working_day",
    "plan_schedule",
    "slot_time",
    "write_schedule_ics",
    "write_schedule_xlsx",
]

WEEKEND = frozenset({5, 6})


class ScheduleError(BenzoreduxError, ValueError):
    """The schedule cannot be made from the patients given (a missing column, a duplicate)."""


def _times(values: Iterable[dt.time | str]) -> tuple[dt.time, ...]:
    """Slot times as given, or written ``HH:MM`` (``09:00``, ``9:30``).

    Read strictly, with a plain sentence on what is expected: ``9u`` or ``9.30`` would
    otherwise stop the run with Python's "Invalid isoformat string".
    """
    times = []
    for value in values:
        if isinstance(value, dt.time):
            times.append(value)
            continue
        match = re.fullmatch(r"\s*([0-9]{1,2}):([0-9]{2})(?::00)?\s*", str(value))
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ScheduleError(
                f"the slot time {shorten(repr(str(value)))} is not a time written HH:MM "
                "(for example 09:00 or 13:30)"
            )
        times.append(dt.time(int(match[1]), int(match[2])))
    return tuple(times)


def slot_time(value: dt.time | str) -> dt.time:
    """One slot time, as given or written ``HH:MM``; anything else is a
    :class:`ScheduleError` saying what is expected (the command line's ``--slot-time``).

    >>> slot_time("9:30")
    datetime.time(9, 30)
    """
    return _times([value])[0]


@frozen(kw_only=True)
class ScheduleOptions:
    """The options of :func:`plan_schedule`, with the seed's example values as defaults."""

    batch_size: int = field(default=15, validator=validators.gt(0))
    """Letters (and so invitations) a week."""
    letters: Literal["batched", "together"] = field(
        default="batched", validator=validators.in_(("batched", "together"))
    )
    """``batched``: stop letters weekly too; ``together``: all on the first date."""
    invitation_months: int = field(default=3, validator=validators.gt(0))
    call_after_days: int = field(default=14, validator=validators.ge(0))
    consult_after_days: int = field(default=7, validator=validators.ge(0))
    """First day a consult is reserved, counted from the invitation."""
    consults_per_day: int = field(default=2, validator=validators.gt(0))
    per_gp: bool = False
    """Count ``consults_per_day`` per GP (``gp_id``) instead of for the whole practice."""
    slot_times: tuple[dt.time, ...] = field(default=(), converter=_times)
    """Times of the day's consult slots (``"09:00"``, ...); at least ``consults_per_day`` when
    given. Without them consults are reserved by day only."""
    holidays: frozenset[dt.date] = field(default=frozenset(), converter=frozenset)
    """Days the practice is closed, besides weekends."""

    def __attrs_post_init__(self) -> None:
        if self.slot_times and len(self.slot_times) < self.consults_per_day:
            raise ValueError(
                f"slot_times gives {len(self.slot_times)} time(s) for {self.consults_per_day} "
                "consults a day"
            )


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months; a day the month lacks becomes its last day.

    >>> add_months(dt.date(2026, 1, 31), 3), add_months(dt.date(2027, 11, 30), 3)
    (datetime.date(2026, 4, 30), datetime.date(2028, 2, 29))
    """
    result: dt.date = day + relativedelta(months=months)
    return result


def next_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> dt.date:
    """``day`` itself when it is a working day, else the first working day after it.

    >>> next_working_day(dt.date(2026, 2, 28))  # a Saturday
    datetime.date(2026, 3, 2)
    """
    closed = frozenset(holidays)
    while day.weekday() in WEEKEND or day in closed:
        day += dt.timedelta(days=1)
    return day


@frozen
class Schedule:
    """A sending schedule: one row per patient, and one per batch."""

    table: Any
    """Per patient (pandas): ``patient_id``, ``gp_id``, ``batch``, ``letter_date``,
    ``invitation_date``, ``call_date``, ``consult_date``, ``consult_at`` (with slot times)."""
    batches: Any
    """Per batch (pandas): ``batch``, ``patients``, ``letter_date``, ``invitation_date``,
    ``call_date``, ``first_consult``, ``last_consult``."""
    options: ScheduleOptions

    def summary(self) -> dict[str, Any]:
        """Process figures for the evaluation (bijlage 4): dates and numbers, no patient data."""
        table = self.table
        if not len(table):
            return {"letters": 0, "invitations": 0, "batches": 0}
        return {
            "letters": len(table),
            "invitations": len(table),
            "batches": len(self.batches),
            "letter_dates": sorted({d.isoformat() for d in table["letter_date"]}),
            "invitation_dates": sorted({d.isoformat() for d in table["invitation_date"]}),
            "first_consult": min(table["consult_date"]).isoformat(),
            "last_consult": max(table["consult_date"]).isoformat(),
        }


def _patients(patients: IntoFrame | Iterable[str]) -> list[tuple[str, str | None]]:
    try:
        frame = nw.from_native(cast(Any, patients))
    except TypeError:
        return [(str(p), None) for p in cast(Iterable[str], patients)]
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    if "patient_id" not in eager.columns:
        raise ScheduleError(
            f"schedule: no column 'patient_id'; columns found: {describe_columns(eager.columns)}"
        )
    if "eligible" in eager.columns:
        eager = eager.filter(nw.col("eligible"))
    gp = nw.col("gp_id").cast(nw.String) if "gp_id" in eager.columns else nw.lit(None, nw.String)
    rows = eager.select(nw.col("patient_id").cast(nw.String), gp.alias("gp_id")).rows()
    return [(str(p), g) for p, g in rows]


def plan_schedule(
    patients: IntoFrame | Iterable[str],
    first_letter_date: DateLike,
    **options: Any,
) -> Schedule:
    """Plan letters, invitations, calls and consults (see the module docstring for the rules).

    :param patients: patient ids in sending order, or a table with ``patient_id`` (and
        ``gp_id``); a screening table gives its ``eligible`` rows.
    :param first_letter_date: the day the first stop letters go out (moved to a working day).
    :param options: any field of :class:`ScheduleOptions`.

    >>> plan = plan_schedule([f"p{i}" for i in range(4)], "2026-01-30", batch_size=2)
    >>> plan.table[["batch", "letter_date", "invitation_date", "call_date", "consult_date"]]
       batch letter_date invitation_date   call_date consult_date
    0      1  2026-01-30      2026-04-30  2026-05-14   2026-05-07
    1      1  2026-01-30      2026-04-30  2026-05-14   2026-05-07
    2      2  2026-02-06      2026-05-06  2026-05-20   2026-05-13
    3      2  2026-02-06      2026-05-06  2026-05-20   2026-05-13
    """
    import pandas as pd

    known = {a.name for a in fields(ScheduleOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    settings = ScheduleOptions(**options)
    start = parse_reference_date(first_letter_date, name="first_letter_date")
    rows = _patients(patients)
    ids = [p for p, _ in rows]
    seen: set[str] = set()
    for patient_id in ids:
        if patient_id in seen:
            raise ScheduleError(f"schedule: patient {patient_id!r} occurs more than once")
        seen.add(patient_id)

    holidays = settings.holidays
    first = next_working_day(start, holidays)
    used: dict[tuple[str | None, dt.date], int] = {}
    pointer: dict[str | None, dt.date] = {}
    records = []
    for number, (patient_id, gp_id) in enumerate(rows):
        batch = number // settings.batch_size + 1
        week = dt.timedelta(weeks=batch - 1)
        if settings.letters == "batched":
            letter = next_working_day(first + week, holidays)
            invitation = next_working_day(add_months(letter, settings.invitation_months), holidays)
        else:
            letter = first
            invitation = next_working_day(
                add_months(first, settings.invitation_months) + week, holidays
            )
        call = next_working_day(invitation + dt.timedelta(days=settings.call_after_days), holidays)
        key = gp_id if settings.per_gp else None
        day = next_working_day(
            max(
                invitation + dt.timedelta(days=settings.consult_after_days), pointer.get(key, first)
            ),
            holidays,
        )
        while used.get((key, day), 0) >= settings.consults_per_day:
            day = next_working_day(day + dt.timedelta(days=1), holidays)
        slot = used.get((key, day), 0)
        used[key, day] = slot + 1
        pointer[key] = day
        at = dt.datetime.combine(day, settings.slot_times[slot]) if settings.slot_times else None
        records.append(
            {
                "patient_id": patient_id,
                "gp_id": gp_id,
                "batch": batch,
                "letter_date": letter,
                "invitation_date": invitation,
                "call_date": call,
                "consult_date": day,
                "consult_slot": slot + 1,
                "consult_at": at,
            }
        )
    columns = [
        "patient_id",
        "gp_id",
        "batch",
        "letter_date",
        "invitation_date",
        "call_date",
        "consult_date",
        "consult_slot",
        "consult_at",
    ]
    table = pd.DataFrame.from_records(records, columns=columns)
    table["consult_at"] = pd.to_datetime(table["consult_at"])
    batches = (
        table.groupby("batch", sort=True)
        .agg(
            patients=("patient_id", "size"),
            letter_date=("letter_date", "min"),
            invitation_date=("invitation_date", "min"),
            call_date=("call_date", "min"),
            first_consult=("consult_date", "min"),
            last_consult=("consult_date", "max"),
        )
        .reset_index()
    )
    return Schedule(table=table, batches=batches, options=settings)


def invitation_fields(
    schedule: Schedule,
    *,
    appointments: bool = False,
    consult_with: str | Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per patient, the invitation's fields for :func:`~benzoredux.letters.compose.render_letters`.

    ``stop_letter_date`` always; ``consult_with`` (``"de praktijkondersteuner"``, or per
    ``gp_id`` a mapping). Without ``appointments`` the invitation asks the patient to phone for
    an appointment and ``call_date`` says when the practice phones if the patient has not
    (the seed's call to non-responders, about two weeks after the invitation). With
    ``appointments=True``, ``appointment`` is the reserved consult as Dutch text and
    ``call_date`` is empty: the practice then phones those who do not come, after the
    appointment, and a call date of the sending schedule (which may fall before or after the
    reserved consult) would tell the patient something the letter contradicts.
    """
    from benzoredux.letters.rendering import dutch_date

    fields: dict[str, dict[str, Any]] = {}
    for row in schedule.table.to_dict("records"):
        appointment = None
        call_date = row["call_date"]
        if appointments:
            appointment = dutch_date(row["consult_date"], weekday=True)
            at = row["consult_at"]
            if at is not None and not _missing(at):
                appointment += f" om {at.hour}.{at.minute:02d} uur"
            call_date = None
        with_whom = (
            consult_with.get(str(row["gp_id"]))
            if isinstance(consult_with, Mapping)
            else consult_with
        )
        fields[str(row["patient_id"])] = {
            "stop_letter_date": row["letter_date"],
            "call_date": call_date,
            "appointment": appointment,
            "consult_with": with_whom,
        }
    return fields


def _missing(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def write_schedule_xlsx(
    schedule: Schedule,
    path: str | os.PathLike[str],
    *,
    patients: IntoFrame | None = None,
) -> Path:
    """Write the schedule as a spreadsheet for the assistant: sheets ``Planning`` (per
    patient), ``Groepen`` (per batch) and ``Nabellen`` (the call list by date).

    With ``patients``, the planning and call list also show the patient's name (for the
    assistant who phones). :func:`benzoredux.output.write_xlsx` writes it: Dutch headers, dates
    as date cells shown ``dd-mm-jjjj``, text as text cells (never a formula); the file is
    private and written atomically. ``schedule.csv`` keeps the canonical columns.
    """
    import pandas as pd

    from benzoredux.gp_lists import patient_details

    planning = schedule.table.copy()
    if patients is not None:
        table = patient_details(patients, address=False)
        if "name" in table.columns:
            planning = planning.merge(table[["patient_id", "name"]], on="patient_id", how="left")
    for column in ("letter_date", "invitation_date", "call_date", "consult_date"):
        planning[column] = pd.to_datetime(planning[column])
    calls = planning.sort_values(["call_date", "batch", "patient_id"])[
        [c for c in ("call_date", "batch", "patient_id", "name", "gp_id") if c in planning]
    ]
    batches = schedule.batches.copy()
    for column in ("letter_date", "invitation_date", "call_date", "first_consult", "last_consult"):
        batches[column] = pd.to_datetime(batches[column])
    return write_xlsx({"Planning": planning, "Groepen": batches, "Nabellen": calls}, path)


def calendar_programme(practice_id: str, reference_date: DateLike) -> str:
    """The programme's identity in calendar UIDs: the practice (or FTO group) and the reference
    date of its selection.

    Every event of :func:`write_schedule_ics` and
    :func:`~benzoredux.evaluation.plan.write_plan_ics` carries it in its UID. An agenda replaces
    an event whose UID it already holds, so events must keep their UID when the same programme
    writes its calendar again (an update replaces them) and must differ between programmes
    (otherwise the second programme's "letters of group 1" replaces the first's). A programme is
    one practice's (or FTO group's) selection on one reference date; a new selection with a new
    reference date is a new round of letters and gets new events.

    >>> calendar_programme("de-linde", "2025-12-31")
    'de-linde 2025-12-31'
    """
    if not practice_id.strip():
        raise ValueError("calendar_programme: practice_id must not be empty")
    day = parse_reference_date(reference_date, name="reference_date")
    return f"{practice_id.strip()} {day.isoformat()}"


def calendar_programme_of(programme: Any) -> str | None:
    """:func:`calendar_programme` of a :class:`benzoredux.Programme` (or a
    :class:`benzoredux.Register`) from the programme its register holds, or ``None`` while it
    holds none (``--no-register``, or no selection yet). Reading never makes a register."""
    from benzoredux.programme import Programme

    if isinstance(programme, Programme):
        if programme.practice is None:  # reads the register only if there is one
            return None
        programme = programme.register
    entry = programme.programme()
    if entry is None:
        return None
    return calendar_programme(str(entry["practice_id"]), entry["reference_date"])


def calendar_uid(event: str, programme: str) -> str:
    """The UID of one calendar event (``letters-1``, ``plan-select``) of a programme.

    The programme's identity is hashed (SHA-256, 16 hex digits): a UID is unique and stable,
    holds only safe characters, and does not spell out the practice in agendas synchronised to
    outside services.

    >>> calendar_uid("letters-1", "de-linde 2025-12-31")
    'letters-1.711ab77a8f4eb720@benzoredux'
    """
    digest = hashlib.sha256(programme.encode("utf-8")).hexdigest()[:16]
    return f"{event}.{digest}@benzoredux"


def _schedule_identity(schedule: Schedule) -> str:
    """A programme identity from the schedule itself, when none is given: its patients and
    first letter date (stable while the same patients are scheduled again)."""
    table = schedule.table
    ids = sorted(str(p) for p in table["patient_id"]) if len(table) else []
    first = min(table["letter_date"]).isoformat() if len(table) else ""
    return "schedule " + first + " " + "\x1f".join(ids)


def write_schedule_ics(
    schedule: Schedule,
    path: str | os.PathLike[str],
    *,
    programme: str | None = None,
    include_patient_ids: bool = False,
    stamp: dt.datetime | None = None,
    consult_minutes: int = 20,
) -> Path:
    """Write the schedule as an iCalendar file for the practice agenda.

    One all-day event per batch for sending the letters, sending the invitations and phoning
    non-responders, and one event per reserved consult (timed when the schedule has slot
    times). Agendas are often synchronised to outside services, so events carry no patient data;
    ``include_patient_ids=True`` adds the (pseudonymous) ids to the consult events. ``stamp``
    fixes the DTSTAMP (default: now, in UTC) for reproducible files.

    ``programme`` (:func:`calendar_programme`: the practice and reference date) goes into every
    UID (:func:`calendar_uid`), so the events of two programmes in one agenda stay apart and a
    new file of the same programme replaces its events. Without it the UIDs are derived from
    the schedule itself (its patients and first letter date): programmes still stay apart, but a
    schedule made again for other patients (after a changed screening) no longer replaces the
    events of the earlier one; give ``programme`` whenever it is known.
    """
    from icalendar import Calendar, Event

    when = stamp or dt.datetime.now(dt.UTC)
    identity = programme if programme is not None else _schedule_identity(schedule)
    calendar = Calendar()
    calendar.add("prodid", "-//benzoredux//sending schedule//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Benzodiazepinen: minimale interventie")

    def add(uid: str, summary: str, start: dt.date | dt.datetime, description: str = "") -> None:
        event = Event()
        event.add("uid", calendar_uid(uid, identity))
        event.add("dtstamp", when)
        event.add("summary", summary)
        event.add("dtstart", start)
        if isinstance(start, dt.datetime):
            event.add("dtend", start + dt.timedelta(minutes=consult_minutes))
        else:
            event.add("dtend", start + dt.timedelta(days=1))
        if description:
            event.add("description", description)
        calendar.add_component(event)

    for row in schedule.batches.to_dict("records"):
        batch, count = int(row["batch"]), int(row["patients"])
        add(
            f"letters-{batch}",
            f"Stopbrieven versturen: groep {batch} ({count})",
            row["letter_date"],
        )
        add(
            f"invitations-{batch}",
            f"Uitnodigingen evaluatieconsult versturen: groep {batch} ({count})",
            row["invitation_date"],
        )
        add(
            f"calls-{batch}",
            f"Nabellen wie niet reageerde: groep {batch}",
            row["call_date"],
            "Bel de patiënten van deze groep die nog geen afspraak hebben gemaakt. Kregen zij "
            "een afspraak in de uitnodiging, bel dan wie niet kwam en niet afbelde.",
        )
    for row in schedule.table.to_dict("records"):
        at = row["consult_at"]
        start = at.to_pydatetime() if at is not None and not _missing(at) else row["consult_date"]
        summary = "Evaluatieconsult benzodiazepinen (gereserveerd)"
        if include_patient_ids:
            summary += f": {row['patient_id']}"
        uid = f"consult-{row['consult_date'].isoformat()}-{row['consult_slot']}"
        if schedule.options.per_gp:
            uid += f"-{row['gp_id']}"
        add(uid, summary, start)
    target = Path(path)
    with private_file(target, "wb") as handle:
        handle.write(calendar.to_ical())
    return target
