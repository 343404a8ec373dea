"""Printable Dutch handouts for the evaluation consult: the tapering schedule and a sleep diary.

The GP or POH-GGZ gives the patient two things to take home from the consult (FTO module,
bijlage 2, step 5): the agreed **afbouwschema** (tapering schedule) and a **slaap-waakkalender**
(sleep-wake diary). Both are ``.docx`` files made from templates in ``templates/`` (built by
:mod:`benzoredux.consult.handouts.build_templates`), filled by the letters' rendering machinery
(``benzoredux.letters.rendering.render_docx``): values are escaped, templates run in a
Jinja sandbox, a missing field fails before anything is written, and files are created
owner-only and atomically, because a handout carries the patient's name and medication.

The ``*_context`` functions build the fields a template uses, so an HIS add-on with its own
template (or its own renderer) can use them directly. Rendering needs the optional ``letters``
extra (docxtpl); ``import benzoredux`` imports neither this package nor docxtpl.
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path
from typing import Any

from benzoredux.consult.tapering import (
    TaperSchedule,
    TaperStep,
    dutch_decimal,
    dutch_mg,
    source_name,
)

__all__ = [
    "SLEEP_DIARY_TEMPLATE",
    "TAPER_HANDOUT_TEMPLATE",
    "conversion_sentence",
    "sleep_diary",
    "sleep_diary_context",
    "taper_handout",
    "taper_handout_context",
]

TAPER_HANDOUT_TEMPLATE = "afbouwschema.docx"
"""File name of the default tapering-schedule handout in ``templates/`` beside this module."""
SLEEP_DIARY_TEMPLATE = "slaap_waakkalender.docx"
"""File name of the default sleep-wake diary in ``templates/`` beside this module."""

_DUTCH_NAMES = {
    "zopiclone": "zopiclon",
    "chlordiazepoxide": "chloordiazepoxide",
    "potassium clorazepate": "clorazepinezuur",
}


def dutch_substance(name: str) -> str:
    """A substance name as Dutch patients read it on the box (``zopiclone`` -> ``zopiclon``).

    >>> dutch_substance("zopiclone"), dutch_substance("oxazepam")
    ('zopiclon', 'oxazepam')
    """
    return _DUTCH_NAMES.get(name.lower(), name.lower())


def _template(name: str) -> bytes:
    return resources.files("benzoredux.consult.handouts").joinpath("templates", name).read_bytes()


def _today() -> dt.date:
    return dt.date.today()  # noqa: DTZ011 - the practice's own calendar day


def conversion_sentence(schedule: TaperSchedule) -> str:
    """The handout's Dutch sentence on a switch to diazepam: the source, the factor, the dose.

    Empty when the schedule does not switch. The patient (and the next clinician) can see which
    table the dose comes from; the tables disagree, sometimes by a factor two.

    >>> from benzoredux.consult.tapering import build_taper_schedule
    >>> conversion_sentence(build_taper_schedule("midazolam", 7.5, 1, switch_to_diazepam=True))
    'Omgerekend naar diazepam volgens WHO (2009): 7,5 mg midazolam = 15 mg diazepam (factor 2).'
    """
    row, factor = schedule.equivalence, schedule.equivalence_factor
    if row is None or factor is None:
        return ""
    exact = schedule.start_mg * factor
    sentence = (
        f"Omgerekend naar diazepam volgens {source_name(row.source)}: "
        f"{dutch_mg(schedule.start_mg)} mg {dutch_substance(schedule.substance)} = "
        f"{dutch_decimal(exact)} mg diazepam (factor {dutch_decimal(factor)})."
    )
    if exact != schedule.taper_start_mg:
        sentence += f" Afgerond is dat {dutch_mg(schedule.taper_start_mg)} mg diazepam per dag."
    return sentence


def _period(step: TaperStep, index: int) -> str:
    from benzoredux.letters.rendering import dutch_date

    if step.first_day is not None:
        if step.last_day is None:
            return f"Vanaf {dutch_date(step.first_day)}"
        return f"{dutch_date(step.first_day)} tot en met {dutch_date(step.last_day)}"
    if step.days is None:
        return "Daarna"
    return f"Stap {index}: {step.days} dagen"


def taper_handout_context(
    schedule: TaperSchedule,
    *,
    made_on: dt.date | None = None,
    patient_name: str = "",
    practice_name: str = "",
    practice_phone: str = "",
    clinician: str = "uw huisarts",
    follow_up: dt.date | None = None,
) -> dict[str, Any]:
    """The fields of the tapering-schedule handout, from a schedule (all values plain text).

    ``clinician`` is who the patient agreed the schedule with, as the sentence needs it
    (``uw huisarts``, ``de praktijkondersteuner``); ``made_on`` defaults to today.

    >>> from benzoredux.consult.tapering import build_taper_schedule
    >>> context = taper_handout_context(
    ...     build_taper_schedule("diazepam", 10, 1), made_on=dt.date(2025, 3, 3))
    >>> context["steps"][0]
    {'period': 'Stap 1: 7 dagen', 'instruction': '1½ tablet van 5 mg per dag', 'dose': '7,5 mg'}
    >>> context["steps"][-1]["instruction"]
    'Niets meer: u bent gestopt'
    """
    from benzoredux.letters.rendering import dutch_date

    switch = next((s for s in schedule.steps if s.phase == "switch"), None)
    current = schedule.current
    rows = []
    for index, step in enumerate(schedule.steps, start=1):
        stopped = step.phase == "stopped"
        rows.append(
            {
                "period": _period(step, index),
                "instruction": "Niets meer: u bent gestopt" if stopped else step.instruction(),
                "dose": f"{dutch_mg(step.dose_mg)} mg",
            }
        )
    return {
        "practice_name": practice_name,
        "patient_name": patient_name,
        "made_on": dutch_date(made_on or _today()),
        "substance": dutch_substance(schedule.substance),
        "switched": switch is not None,
        "switch_instruction": switch.instruction() if switch else "",
        "switch_conversion": conversion_sentence(schedule),
        "current_instruction": f"{current.dutch()} per dag" if current else "",
        "steps": rows,
        "clinician": clinician,
        "practice_phone": practice_phone,
        "follow_up": dutch_date(follow_up) if follow_up else "",
    }


def taper_handout(
    schedule: TaperSchedule,
    out: str | os.PathLike[str],
    *,
    template: bytes | str | os.PathLike[str] | None = None,
    **fields: Any,
) -> Path:
    """Write the tapering-schedule handout for ``schedule`` to ``out`` (``.docx``, owner-only).

    ``fields`` are the keyword arguments of :func:`taper_handout_context`; ``template``
    replaces the default template (it may use the same fields).
    """
    from benzoredux.letters.rendering import render_docx

    context = taper_handout_context(schedule, **fields)
    source = _template(TAPER_HANDOUT_TEMPLATE) if template is None else template
    return render_docx(source, context, out)


def sleep_diary_context(
    *,
    start: dt.date | None = None,
    days: int = 14,
    patient_name: str = "",
    bring_to: str = "uw volgende afspraak",
) -> dict[str, Any]:
    """The fields of the sleep-wake diary: one row per day from ``start`` (blank dates without).

    >>> rows = sleep_diary_context(start=dt.date(2025, 3, 3), days=2)["days"]
    >>> [row["date"] for row in rows]
    ['ma 3 maart', 'di 4 maart']
    """
    if not 1 <= days <= 62:
        raise ValueError(f"days must be from 1 to 62, got {days!r}")
    from benzoredux.letters.rendering import dutch_date

    def label(day: dt.date) -> str:
        weekday, text = dutch_date(day, weekday=True).split(" ", 1)
        return f"{weekday[:2]} {text.rsplit(' ', 1)[0]}"

    dates = [label(start + dt.timedelta(days=offset)) if start else "" for offset in range(days)]
    return {
        "patient_name": patient_name,
        "bring_to": bring_to,
        "days": [{"date": date, "blank": ""} for date in dates],
    }


def sleep_diary(
    out: str | os.PathLike[str],
    *,
    template: bytes | str | os.PathLike[str] | None = None,
    **fields: Any,
) -> Path:
    """Write a sleep-wake diary to ``out`` (``.docx``, owner-only); fields as
    :func:`sleep_diary_context` takes them."""
    from benzoredux.letters.rendering import render_docx

    context = sleep_diary_context(**fields)
    source = _template(SLEEP_DIARY_TEMPLATE) if template is None else template
    return render_docx(source, context, out)
