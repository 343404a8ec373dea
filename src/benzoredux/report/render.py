"""The report as one self-contained HTML page.

Why the standard library's ``html.escape`` and not Jinja2: Jinja2 comes only with the
``letters`` extra (through docxtpl), and the report must work on a bare install. Every piece of
text goes through ``_e`` (escape, quotes included) before it is put into the page; the page
is assembled from small functions, each returning escaped HTML.

Self-contained: the style sheet is inline, charts are SVG images as ``data:`` URIs, and there
are no scripts, fonts, links to other pages or network addresses. A Content-Security-Policy in
the page itself tells the browser to load nothing from anywhere else (``default-src 'none'``),
so a mistake would show as a missing picture, not as a request leaving the practice.

The page's text is Dutch, like the charts: it is for the FTO meeting. Dates are written as a
Dutch reader writes them ("29 april 2026"), also inside texts that carry an ISO date (a task
"tot 2026-04-29" recorded by the schedule), and the sources are named in Dutch; only file names
stay as they are.

The figures the meeting discusses come first (per GP, the doses, the funnel, the evaluation);
the plan of action comes last, with only its overdue tasks in view and the full task list
folded away (``<details>``, which needs no script).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from benzoredux.dates import dutch_date
from benzoredux.report.gather import DOSE_LIMITS, FunnelStep, ReportData
from benzoredux.spreadsheets import TASK_STATUS_WORDS

__all__ = ["CONTENT_SECURITY_POLICY", "render_html"]

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's own policy: nothing is loaded from outside the file."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1d1d1d; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
.wide { overflow-x: auto; } td:first-child { white-space: nowrap; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
.not-done { background: #fff6d6; border-left: 4px solid #e0b000; padding: 0.5rem 0.8rem; }
.overdue { background: #fde2e1; }
tr.stage td { font-weight: 600; } tr.change td:first-child, tr.part td:first-child
{ padding-left: 1.6rem; } tr.start td { font-style: italic; }
details { margin: 0.8rem 0; } summary { cursor: pointer; font-weight: 600; }
h3 { margin-top: 1.4rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
.meta { color: #555; font-size: 0.9rem; }
"""

_MEASURES = {
    "short_term_stop": "Gestopt 3-6 maanden na de brief",
    "mid_term_stop": "Gestopt 9-12 maanden na de brief",
    "sustained_stop": "Blijvend gestopt (tot 21 maanden)",
    "ddd_reduction": "Minder gebruik bij wie niet stopte (DDD)",
}
_STOP_DEFINITION = {
    "supply": "gebruik, voorraad meegerekend",
    "plain": "geen uitgifte (bovengrens)",
}
"""How each stop definition of the effect evaluation is named in the report."""
_STATUS = TASK_STATUS_WORDS  # the words of plan.xlsx, so the report and the plan agree
_VS = {"below": "onder", "within": "binnen", "above": "boven"}


def _e(value: Any) -> str:
    """Any value as escaped text."""
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _number(value: Any, decimals: int = 0) -> str:
    """Dutch style: 2.350 and 21,4."""
    if _missing(value):
        return "-"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _percent(value: Any) -> str:
    if _missing(value):
        return "-"
    return f"{_number(100 * float(value))}%"


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _day(value: Any) -> dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _date(value: Any) -> str:
    """A date as the practice writes it: ``29 april 2026``."""
    day = _day(value)
    if day is None:
        return "-" if _missing(value) else str(value)
    return dutch_date(day)


def _period(first: Any, last: Any) -> str:
    """``12 januari - 23 februari 2026``; one day once; ``-`` when unknown."""
    start, end = _day(first), _day(last)
    if start is None or end is None:
        return _date(start or end)
    if start == end:
        return dutch_date(start)
    if start.year == end.year:
        return f"{dutch_date(start).rsplit(' ', 1)[0]} - {dutch_date(end)}"
    return f"{dutch_date(start)} - {dutch_date(end)}"


def _dutch_dates(text: str) -> str:
    """``text`` with its ISO dates (``2026-04-29``) written the Dutch way."""

    def replace(match: re.Match[str]) -> str:
        try:
            return dutch_date(dt.date(*(int(part) for part in match.groups())))
        except ValueError:
            return match.group(0)

    return _ISO_DATE.sub(replace, text)


def _cell(value: str, *, numeric: bool = False, attrs: str = "") -> str:
    cls = ' class="n"' if numeric else ""
    return f"<td{cls}{attrs}>{_e(value)}</td>"


def _table(
    table_id: str,
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
) -> str:
    numbers = set(numeric)
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = []
    for index, row in enumerate(rows):
        cls = row_classes[index] if row_classes else ""
        attr = f' class="{_e(cls)}"' if cls else ""
        cells = "".join(_cell(v, numeric=i in numbers) for i, v in enumerate(row))
        body.append(f"<tr{attr}>{cells}</tr>")
    return (
        f'<div class="wide"><table id="{_e(table_id)}"><caption>{_e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _not_done(text: str) -> str:
    return f'<p class="not-done">{_e(text)}</p>'


def _figure(uri: str | None, alt: str, charts_note: str | None) -> str:
    if uri is None:
        return _not_done(charts_note) if charts_note else ""
    return (
        f'<figure><img src="{_e(uri)}" alt="{_e(alt)}"><figcaption>{_e(alt)}</figcaption></figure>'
    )


def _gp_label(data: ReportData, gp_id: Any) -> str:
    gp = "" if _missing(gp_id) else str(gp_id)
    if not gp:
        return "(geen huisarts)"
    return data.gp_names.get(gp, gp)


def _section_per_gp(data: ReportData, chart: str | None, charts_note: str | None) -> str:
    parts = ['<section id="per-gp"><h2>Chronische gebruikers per huisarts</h2>']
    frame = data.per_gp
    if frame is None:
        parts.append(
            _not_done(
                "Nog niet gedaan: er is nog geen selectie "
                "(benzoredux select, of de selectie in het programmaregister)."
            )
        )
        return "".join(parts) + "</section>"
    parts.append(
        "<p>Een gemiddelde normpraktijk (2.350 ingeschreven patiënten) heeft 35 tot 65 "
        "chronische gebruikers (Proscoop). De kolom 'per normpraktijk' rekent de aantallen van "
        "elke huisarts om naar die praktijkgrootte.</p>"
    )
    has_standard = "per_standard_practice" in frame.columns
    has_new = data.new_users_known and "new_users" in frame.columns
    headers = ["Huisarts", "Chronische gebruikers"]
    if "probably_stopped" in frame.columns:
        headers.append("Waarschijnlijk al gestopt")
    if has_standard:
        headers += ["Ingeschreven", "Per 1.000", "Per normpraktijk", "t.o.v. 35-65"]
    if has_new:
        headers += ["Nieuwe gebruikers (3 mnd)", "Met grote eerste uitgifte"]
    rows = []
    for row in frame.to_dict("records"):
        cells = [_gp_label(data, row["gp_id"]), _number(row.get("chronic_users"))]
        if "probably_stopped" in frame.columns:
            cells.append(_number(row.get("probably_stopped")))
        if has_standard:
            cells += [
                _number(row.get("listed_patients")),
                _number(row.get("per_1000_listed"), 1),
                _number(row.get("per_standard_practice")),
                _VS.get(str(row.get("vs_standard")), "-"),
            ]
        if has_new:
            cells += [_number(row.get("new_users")), _number(row.get("large_first"))]
        rows.append(cells)
    numeric = [i for i, h in enumerate(headers) if h not in ("Huisarts", "t.o.v. 35-65")]
    parts.append(_table("per-gp-table", "Per huisarts", headers, rows, numeric=numeric))
    if not has_new:
        parts.append(_not_done("Nieuwe gebruikers: nog niet bekend (new_users.csv ontbreekt)."))
    parts.append(_figure(chart, "Chronische gebruikers per huisarts", charts_note))
    return "".join(parts) + "</section>"


def _section_dose(data: ReportData) -> str:
    """The chronic users' doses per GP: the year's average beside the current dose (issue 14),
    as medians and counts above the seed's limits of 1 and 2 DDD a day."""
    parts = ['<section id="dose"><h2>Dosis: DDD per dag</h2>']
    frame = data.dose
    if frame is None:
        parts.append(
            _not_done(
                "Nog niet gedaan: er is nog geen selectie met de dosis per patiënt "
                "(benzoredux select, of de selectie in het programmaregister)."
            )
        )
        return "".join(parts) + "</section>"
    year_months, recent_months = data.dose_months
    year = f"gemiddeld over {year_months} maanden"
    recent = f"laatste {recent_months} maanden"
    parts.append(
        "<p>Volgens het Benzoredux-onderzoek kunnen patiënten die meer dan 2 DDD per dag "
        "gebruiken niet op eigen kracht stoppen of minderen; de NHG-Standaard (2014) adviseert "
        "alleen patiënten met maximaal één standaarddagdosering (1 DDD) een stopbrief te "
        f"sturen. Het gemiddelde over {_e(year_months)} maanden verbergt een recente "
        f"verhoging: de screening vergelijkt standaard de dosis van de {_e(recent)}. Die telt "
        "wat er in die maanden is afgeleverd, dus bij afleveringen van twee of drie maanden "
        "tegelijk kan hij hoger of lager uitvallen dan het gebruik; daarom staan beide hier. "
        "'Te controleren': gemiddeld boven de grens, in de laatste maanden niet. Dat kan "
        "minder gebruik zijn, of een aflevering vlak voor die maanden; bij de gekozen grens "
        "legt de screening deze patiënten aan de huisarts voor.</p>"
    )
    # One column per GP and one for the practice; the measures as rows (their labels are long).
    records = frame.to_dict("records")
    headers = ["", *(_dose_column(data, row) for row in records)]
    measures: list[tuple[str, str, int]] = [
        ("Chronische gebruikers", "chronic_users", 0),
        (f"Mediaan DDD per dag, {year}", "year_median", 2),
        (f"Mediaan DDD per dag, {recent}", "recent_median", 2),
    ]
    for limit in DOSE_LIMITS:
        measures += [
            (f"Meer dan {limit} DDD per dag, {year}", f"year_above_{limit}", 0),
            (f"Meer dan {limit} DDD per dag, {recent}", f"recent_above_{limit}", 0),
            (
                f"Meer dan {limit} DDD per dag alleen in de {recent} (verhoogd)",
                f"rose_above_{limit}",
                0,
            ),
            (
                f"Meer dan {limit} DDD per dag alleen {year} (te controleren)",
                f"fell_above_{limit}",
                0,
            ),
        ]
    measures += [
        (f"Dosis onbekend, {year}", "year_unknown", 0),
        (f"Dosis onbekend, {recent}", "recent_unknown", 0),
    ]
    rows = [
        [label, *(_number(row.get(column), decimals) for row in records)]
        for label, column, decimals in measures
    ]
    parts.append(
        _table(
            "dose-table",
            "Dosis van de chronische gebruikers per huisarts",
            headers,
            rows,
            numeric=range(1, len(headers)),
        )
    )
    if frame["recent_unknown"].isna().all():
        parts.append(
            _not_done(
                f"DDD per dag over de {recent}: niet bekend, want de selectie is gemaakt met "
                "een eerdere versie van benzoredux. Selecteer opnieuw om de huidige dosis te "
                "zien."
            )
        )
    return "".join(parts) + "</section>"


def _dose_column(data: ReportData, row: Mapping[Any, Any]) -> str:
    return "hele praktijk" if row["level"] == "total" else _gp_label(data, row.get("gp_id"))


def _funnel_count(step: FunnelStep) -> str:
    if step.count is None:
        return "nog niet gedaan"
    if step.kind == "minus" and step.count:
        return f"\u2212{_number(step.count)}"
    if step.kind == "plus":
        return f"+{_number(step.count)}"
    return _number(step.count)


_FUNNEL_CLASS = {"stage": "stage", "start": "start", "minus": "change", "plus": "change"}


def _counts(data: ReportData) -> dict[str, int]:
    return {step.key: step.count for step in data.funnel if step.count is not None}


def _ratios(data: ReportData) -> list[str]:
    """The funnel against the Benzoredux figures of the FTO module: two thirds of the chronic
    users eligible (step 2, bijlage 1), two thirds of the invited at the consult (step 4), half
    of the chronic users at the consult (bijlage 1)."""
    counts = _counts(data)
    lines = []
    chronic, eligible = counts.get("chronic_users"), counts.get("eligible")
    if chronic and eligible is not None:
        lines.append(
            f"In aanmerking: {_number(eligible)} van de {_number(chronic)} chronische gebruikers "
            f"({_percent(eligible / chronic)}); Benzoredux: ongeveer twee derde."
        )
    invited, lost = counts.get("invited"), counts.get("minus_consults")
    if invited and lost is not None:
        came = invited - lost
        lines.append(
            f"Opkomst: {_number(came)} van de {_number(invited)} uitgenodigden "
            f"{'kwam' if came == 1 else 'kwamen'} op het "
            f"evaluatieconsult ({_percent(came / invited)}); Benzoredux: ongeveer twee derde "
            "van de uitgenodigden."
        )
    consulted = counts.get("consults")
    if chronic and consulted is not None:
        lines.append(
            f"Op het consult: {_number(consulted)} van de {_number(chronic)} chronische "
            f"gebruikers ({_percent(consulted / chronic)}); Benzoredux: de helft."
        )
    return lines


def _section_funnel(data: ReportData, chart: str | None, charts_note: str | None) -> str:
    parts = ['<section id="funnel"><h2>Van selectie tot stoppen</h2>']
    parts.append(
        "<p>Elke stap is de stap erboven, min de patiënten die afvielen (\u2212) en plus de "
        "enkeling die er buiten de gewone volgorde bij kwam (+). Het effect telt opnieuw vanaf "
        "de stopbrieven: wie overleed, verhuisde of van huisarts wisselde telt niet mee.</p>"
    )
    rows = [[step.label, _funnel_count(step)] for step in data.funnel]
    parts.append(
        _table(
            "funnel-table",
            "Aantal patiënten per stap",
            ["Stap", "Patiënten"],
            rows,
            numeric=[1],
            row_classes=[
                _FUNNEL_CLASS.get(s.kind, "part") + ("" if s.count is not None else " pending")
                for s in data.funnel
            ],
        )
    )
    ratios = _ratios(data)
    if ratios:
        parts.append("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in ratios) + "</ul>")
    else:
        parts.append(
            "<p>Ter vergelijking (Benzoredux): na alle uitsluitcriteria komt ongeveer twee "
            "derde van de chronische gebruikers in aanmerking, en ongeveer twee derde van de "
            "uitgenodigden komt op het consult.</p>"
        )
    if any(step.count is not None for step in data.funnel):
        parts.append(_figure(chart, "Van selectie tot stoppen", charts_note))
    return "".join(parts) + "</section>"


def _plan_rows(plan: pd.DataFrame, *, full: bool) -> list[list[str]]:
    rows = []
    for row in plan.to_dict("records"):
        status = _STATUS.get(str(row["status"]), str(row["status"]))
        cells = [_dutch_dates(str(row["what"])), str(row["who"] or ""), _date(row["due"])]
        if full:
            closed = row.get("closed_on")
            cells += [status, "" if _missing(closed) else _date(closed)]
        else:
            cells.append(status)
        cells.append(_dutch_dates(str(row.get("note") or "")))
        rows.append(cells)
    return rows


def _section_plan(data: ReportData) -> str:
    parts = ['<section id="plan"><h2>Plan van aanpak</h2>']
    plan = data.plan
    if plan is None or plan.empty:
        parts.append(
            _not_done("Nog niet gedaan: er is nog geen plan van aanpak (benzoredux plan).")
        )
        return "".join(parts) + "</section>"
    overdue = plan[plan["overdue"]]
    statuses = plan["status"].value_counts()
    counted = ", ".join(
        f"{_e(int(statuses[key]))} {_e(_STATUS[key])}"
        for key in ("done", "in_progress", "open", "skipped")
        if key in statuses
    )
    source = (
        "het programmaregister" if data.plan_source == "programmaregister" else data.plan_source
    )
    parts.append(
        f"<p>{_e(len(plan))} taken: {counted}; {_e(len(overdue))} over tijd op "
        f"{_e(_date(data.as_of))} (bron: {_e(source)}).</p>"
    )
    if data.plan_source == "programmaregister":
        parts.append(
            "<p>Een taak waarvan het programmaregister de uitkomst kent (de selectie, de "
            "screening, de verstuurde brieven, de consulten, de evaluatie) is daarmee "
            "afgevinkt, met de datum ervan. Een taak die niets in het register achterlaat "
            "(het team informeren, de voortgang bewaken) vinkt de praktijk zelf af.</p>"
        )
    if len(overdue):
        rows = _plan_rows(overdue, full=False)
        headers = ["Wat", "Wie", "Gepland tot", "Status", "Stand"]
        if not any(row[-1] for row in rows):  # no task has a note: no empty column
            headers, rows = headers[:-1], [row[:-1] for row in rows]
        parts.append(
            _table(
                "overdue-table",
                "Over tijd: open, de geplande datum is voorbij en het register kent geen uitkomst",
                headers,
                rows,
                row_classes=["overdue"] * len(overdue),
            )
        )
    else:
        parts.append("<p>Geen taken over tijd.</p>")
    parts.append(
        f"<details><summary>Alle taken van het plan ({_e(len(plan))})</summary>"
        + _table(
            "plan-table",
            "Taken",
            ["Wat", "Wie", "Gepland tot", "Status", "Afgerond op", "Stand"],
            _plan_rows(plan, full=True),
            row_classes=["overdue" if flag else "" for flag in plan["overdue"]],
        )
        + "</details>"
    )
    return "".join(parts) + "</section>"


def _interval(row: Mapping[Any, Any]) -> str:
    low, high = row.get("ci_low"), row.get("ci_high")
    if _missing(low) or _missing(high):
        return "-"
    return f"{_percent(low)} - {_percent(high)}"


def _effect_lines(row: Mapping[Any, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The report's lines for one row of the effect summary: a label and its figures
    (``events``, ``rate``, ``ci_low``, ``ci_high``).

    A stop measure gets a line per stop definition: supply-aware (still using tablets collected
    earlier is not a stop) and plain (no dispensing; an upper bound). A summary of an earlier
    version has no ``stop_definition``: it counted by the plain definition, and says so.
    """
    measure = str(row["measure"])
    label = _MEASURES.get(measure, measure)
    own: Mapping[str, Any] = {k: row.get(k) for k in ("events", "rate", "ci_low", "ci_high")}
    if measure == "ddd_reduction":
        return [(label, own)]
    definition = row.get("stop_definition")
    if _missing(definition) or definition not in _STOP_DEFINITION:
        definition = "plain"
    lines: list[tuple[str, Mapping[str, Any]]] = [
        (f"{label}: {_STOP_DEFINITION[str(definition)]}", own)
    ]
    if definition == "supply" and "events_plain" in row:
        plain = {k: row.get(f"{k}_plain") for k in ("events", "rate", "ci_low", "ci_high")}
        lines.append((f"{label}: {_STOP_DEFINITION['plain']}", plain))
    return lines


def _section_evaluation(data: ReportData) -> str:
    parts = ['<section id="evaluation"><h2>Evaluatie</h2>']
    summary = data.effect_summary
    if summary is None and data.process is None:
        parts.append(
            _not_done(
                "Nog niet gedaan: de evaluatie volgt ongeveer een jaar na de stopbrieven "
                "(benzoredux evaluate)."
            )
        )
        return "".join(parts) + "</section>"
    parts.append(f'<p class="meta">Bron: {_e(data.evaluation_source)}.</p>')
    if summary is not None:
        parts.append(
            "<p>Percentages met een 95%-betrouwbaarheidsinterval (Wilson), naast de uitkomsten "
            "van de Benzoredux-studie (Gorgels e.a., 2002). Patiënten die overleden, "
            "verhuisden of van huisarts wisselden tellen niet mee.</p>"
            "<p>Gestopt, twee tellingen. <em>Gebruik, voorraad meegerekend</em>: in de "
            "periode geen benzodiazepine uitgegeven, en de tabletten van eerdere uitgiften "
            "waren bij het begin ervan op (geschat met het eigen gebruik per dag van de "
            "patiënt vóór de brief). <em>Geen uitgifte (bovengrens)</em>: alleen geen uitgifte "
            "in de periode; wie nog tabletten had, telt hier ook als gestopt.</p>"
        )
        for level, table_id, caption in (
            ("total", "effect-table", "Effect, hele praktijk"),
            ("gp", "effect-gp-table", "Effect per huisarts"),
        ):
            rows = []
            for row in summary[summary["level"] == level].to_dict("records"):
                for label, figures in _effect_lines(row):
                    events = figures["events"]
                    counted = (
                        f"{_number(events)} van {_number(row.get('evaluated'))}"
                        if not _missing(events)
                        else f"{_number(row.get('evaluated'))} patiënten"
                    )
                    cells = [] if level == "total" else [_gp_label(data, row.get("gp_id"))]
                    cells += [
                        label,
                        counted,
                        _percent(figures["rate"]),
                        _interval(figures),
                        _percent(row.get("reference")),
                        _number(row.get("not_due")),
                    ]
                    rows.append(cells)
            headers = [] if level == "total" else ["Huisarts"]
            headers += [
                "Uitkomst",
                "Aantal",
                "Percentage",
                "95%-interval",
                "Benzoredux",
                "Nog niet",
            ]
            if rows:
                first_number = 2 if level == "total" else 3
                parts.append(
                    _table(
                        table_id,
                        caption,
                        headers,
                        rows,
                        numeric=range(first_number, len(headers)),
                    )
                )
    if data.process is not None:
        parts.append(_process_tables(data, data.process))
    else:
        parts.append(_not_done("Procesevaluatie: nog niet gedaan."))
    return "".join(parts) + "</section>"


def _came(row: Mapping[str, Any]) -> int | None:
    """The invited who came: the attendance is those patients over the invited (the process
    evaluation's rule), so the invited times the attendance gives them back exactly."""
    invited, share = row.get("invitations_sent"), row.get("attendance")
    if invited is None or share is None or _missing(invited) or _missing(share):
        return None
    return round(float(share) * float(invited))


def _process_tables(data: ReportData, process: pd.DataFrame) -> str:
    """Bijlage 4's process figures, and the attendance over the invited against the two
    thirds of the invited who came in the Benzoredux study (FTO module, step 4)."""
    rows, attendance = [], []
    for raw in process.to_dict("records"):
        row = {str(k): v for k, v in raw.items()}
        who = "hele praktijk" if row["level"] == "total" else _gp_label(data, row.get("gp_id"))
        rows.append(
            [
                who,
                _number(row.get("letters_sent")),
                _period(row.get("first_letter_date"), row.get("last_letter_date")),
                _number(row.get("invitations_sent")),
                _period(row.get("first_invitation_date"), row.get("last_invitation_date")),
                _number(row.get("consults_held")),
                _period(row.get("first_consult_date"), row.get("last_consult_date")),
            ]
        )
        attendance.append(
            [
                who,
                _number(row.get("invitations_sent")),
                _number(_came(row)),
                _percent(row.get("attendance")),
                _interval(
                    {
                        "ci_low": row.get("attendance_ci_low"),
                        "ci_high": row.get("attendance_ci_high"),
                    }
                ),
                _percent(row.get("attendance_reference", 2 / 3)),
            ]
        )
    return "".join(
        [
            _table(
                "process-table",
                "Proces (bijlage 4): wat is verstuurd en gehouden, en wanneer",
                [
                    "Huisarts",
                    "Stopbrieven",
                    "Stopbrieven verstuurd",
                    "Uitnodigingen",
                    "Uitnodigingen verstuurd",
                    "Consulten gehouden",
                    "Consulten van - tot",
                ],
                rows,
                numeric=[1, 3, 5],
            ),
            '<h3 id="attendance">Opkomst: van de uitgenodigden, tegen twee derde in het '
            "Benzoredux-onderzoek</h3>",
            "<p>De opkomst deelt wie op het evaluatieconsult kwam door wie een uitnodiging "
            "kreeg (niet door de stopbrieven). In het Benzoredux-onderzoek kwam twee derde van "
            "de patiënten met een uitnodiging op het evaluatieconsult (FTO-module, stap 4).</p>",
            _table(
                "attendance-table",
                "Opkomst op het evaluatieconsult",
                ["Huisarts", "Uitgenodigd", "Gekomen", "Opkomst", "95%-interval", "Benzoredux"],
                attendance,
                numeric=[1, 2, 3, 5],
            ),
        ]
    )


def _sources(sources: Sequence[str]) -> str:
    """``het programmaregister (programma, selectie, ...) en de bestanden a.csv, b.csv``."""
    prefix = "programmaregister: "
    register = [s.removeprefix(prefix) for s in sources if s.startswith(prefix)]
    files = [s for s in sources if not s.startswith(prefix)]
    parts = []
    if register:
        parts.append(f"het programmaregister ({', '.join(register)})")
    if files:
        parts.append(("het bestand " if len(files) == 1 else "de bestanden ") + ", ".join(files))
    return " en ".join(parts) or "niets"


def render_html(
    data: ReportData,
    *,
    title: str,
    charts: dict[str, str | None],
    charts_note: str | None,
) -> str:
    """The whole page; ``charts`` maps ``per_gp`` and ``funnel`` to data URIs (or ``None``)."""
    meta = []
    if data.programme:
        meta.append(f"Programma: {data.programme}")
    if data.reference_date:
        meta.append(f"peildatum {_date(data.reference_date)}")
    meta.append(f"stand per {_date(data.as_of)}")
    body = "".join(
        [
            f"<header><h1>{_e(title)}</h1>",
            f'<p class="meta">{_e("; ".join(meta))}</p>',
            f'<p class="meta">Gelezen: {_e(_sources(data.sources))}. Alleen aantallen, geen '
            "patiëntgegevens.</p>",
            "</header><main>",
            _section_per_gp(data, charts.get("per_gp"), charts_note),
            _section_dose(data),
            _section_funnel(data, charts.get("funnel"), charts_note),
            _section_evaluation(data),
            _section_plan(data),
            "</main>",
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CONTENT_SECURITY_POLICY)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
