"""What the practice's spreadsheets show: Dutch headers, Dutch words for codes, rounded numbers,
dates as dates.

The steps write every list twice. The **CSV file** is for programs (the next step, the report, an
HIS add-on): canonical column names (``excluded_because``, ``birth_date``), canonical codes
(``eligible``, ``done``), exact numbers and ISO dates, so that reading it back gives what was
written. The **spreadsheet** (``.xlsx``) is for the people who work from it: the pharmacist, the
GP who screens, the assistant who sends and phones. A practice assistant should not have to
know that ``excluded_because`` means *uitgesloten omdat*, or read ``0.5342465753424658``.

:func:`benzoredux.output.write_xlsx` therefore shows each column of :data:`COLUMNS` as that
column says (:func:`spreadsheet_view`):

* the header in Dutch (:data:`DUTCH_HEADERS`, one mapping for every workbook, so a column has
  the same header wherever it appears and the docs' tables are rendered from it);
* codes as Dutch words (:data:`DECISION_WORDS`, :data:`TASK_STATUS_WORDS`, ...), the screening
  criteria by their Dutch label (:data:`CRITERION_LABELS`), and the reasons benzoredux itself
  writes (``complex co-medication: N03``) in Dutch (:func:`dutch_reasons`);
* counts as whole numbers, DDD per day with two decimals, days as whole days, yes/no as
  ``ja``/``nee``;
* dates as real date cells shown ``DD-MM-JJJJ`` (a date held as ISO text becomes a date too).

A column this module does not know keeps its name and values (a plugin's own column, say); a
code or reason it does not know is shown as it is, never guessed. Nothing here changes the CSV
files. :data:`WORKBOOKS` lists the columns of each workbook the command line writes, in order;
the docs render it (``.. spreadsheet-columns::``) and the tests check the writers against it.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from attrs import field, frozen, validators

from benzoredux.models import TaskStatus

__all__ = [
    "COLUMNS",
    "CRITERION_LABELS",
    "CSV_FILES",
    "DECISION_WORDS",
    "DUTCH_HEADERS",
    "FROM_PATIENTS",
    "GP_SOURCE_WORDS",
    "STEP_WORDS",
    "TASK_STATUS_WORDS",
    "WORKBOOKS",
    "Display",
    "SheetColumn",
    "canonical_headers",
    "dutch_reasons",
    "from_dutch",
    "number_format",
    "spreadsheet_view",
    "untranslated_reasons",
]


class Display(enum.StrEnum):
    """How a spreadsheet shows a column's values."""

    TEXT = "text"
    """As it is, stored as text (never a formula)."""
    CODE = "code"
    """A code, shown as its Dutch word (:attr:`SheetColumn.words`)."""
    CODES = "codes"
    """Codes separated by ``"; "``, each shown as its Dutch word."""
    REASONS = "reasons"
    """Reasons separated by ``"; "``, each in Dutch when benzoredux wrote it
    (:func:`dutch_reasons`)."""
    COUNT = "count"
    """A whole number; a fraction (half a tablet) keeps up to two decimals."""
    DECIMAL = "decimal"
    """Rounded to two decimals, shown with two."""
    DAYS = "days"
    """Rounded to whole days."""
    DATE = "date"
    """A date cell shown ``DD-MM-JJJJ`` (with the time of day when it has one)."""
    FLAG = "flag"
    """``ja`` or ``nee``."""


_NUMBER_FORMATS: Mapping[Display, str] = {
    Display.COUNT: "0",
    Display.DECIMAL: "0.00",
    Display.DAYS: "0",
}
"""The spreadsheet's number format per display (Excel shows ``0.00`` with the reader's own
decimal comma)."""
_FRACTION_FORMAT = "0.0#"
"""The number format of a count that is not whole."""
_DATE_FORMAT = "dd-mm-yyyy"
_DATETIME_FORMAT = "dd-mm-yyyy hh:mm"

DECISION_WORDS: Mapping[str, str] = {
    "eligible": "in aanmerking",
    "excluded": "uitgesloten",
    "review": "te beoordelen",
}
"""Screening's proposals and decisions (``eligible``, ``excluded``, ``review``; FTO module,
bijlage 2, step 2: patients who remain "komen in aanmerking")."""

TASK_STATUS_WORDS: Mapping[str, str] = {
    TaskStatus.OPEN.value: "open",
    TaskStatus.IN_PROGRESS.value: "bezig",
    TaskStatus.DONE.value: "klaar",
    TaskStatus.SKIPPED.value: "overgeslagen",
}
"""The plan's task statuses, as the report names them too. :func:`from_dutch` reads them back
(``benzoredux plan --edited``)."""

STEP_WORDS: Mapping[str, str] = {
    "select": "selecteren",
    "screen": "screenen",
    "communicate": "informeren",
    "letters": "brieven",
    "monitor": "bewaken",
    "invite": "uitnodigen",
    "consult": "consult",
    "evaluate": "evalueren",
}
"""The steps of the example plan of action (bijlage 3). A step a practice typed itself is shown
and kept as typed."""

GP_SOURCE_WORDS: Mapping[str, str] = {
    "listed": "inschrijving",
    "prescriber": "voorschrijver",
}
"""Where the patient's GP comes from: the patients table (listed with the GP) or, without one,
the prescriber of the last dispensing."""

CRITERION_LABELS: Mapping[str, str] = {
    "other_indication": "andere reden dan slaap- of angstproblemen",
    "palliative": "terminale patiënt",
    "dutch_language": "zal de stopbrief niet begrijpen (Nederlandse taal)",
    "immobile": "kan niet naar het spreekuur komen (immobiel)",
    "ddd_per_day": "meer dan het maximum aantal DDD per dag",
    "probably_stopped": "waarschijnlijk al gestopt",
    "excluded_at_selection": "uitgesloten bij de selectie",
    "high_age": "hoge leeftijd",
    "serious_comorbidity": "ernstige comorbiditeit",
    "psychosocial": "psychosociale problematiek",
}
"""The built-in screening criteria (:mod:`benzoredux.screening.criteria`) in the words of the
FTO module's list (bijlage 2, step 2: "Welke exclusiecriteria kiest u?"). A plugin's criterion
is shown by its key."""

_FLAG_WORDS = {True: "ja", False: "nee"}


def _unique_words(_instance: object, attribute: Any, value: Mapping[str, str]) -> None:
    if len(set(value.values())) != len(value):
        raise ValueError(
            f"{attribute.name}: two codes share a Dutch word, so it cannot be read back"
        )


@frozen
class SheetColumn:
    """One column as the spreadsheets show it."""

    name: str
    """The column in the CSV file and in the library's tables."""
    header: str = field(validator=validators.min_len(1))
    """Its Dutch header in the spreadsheet."""
    display: Display
    """How its values are shown."""
    meaning: str
    """What it holds (English, for the docs)."""
    words: Mapping[str, str] = field(factory=dict, validator=_unique_words)
    """For :attr:`Display.CODE` and :attr:`Display.CODES`: code to Dutch word."""


def _c(
    name: str, header: str, display: Display, meaning: str, words: Mapping[str, str] | None = None
) -> SheetColumn:
    return SheetColumn(name, header, display, meaning, dict(words or {}))


T, D = Display.TEXT, Display.DATE

COLUMNS: tuple[SheetColumn, ...] = (
    # The patient, from the patients table (benzoredux.gp_lists.patient_details).
    _c("patient_id", "Patiëntnummer", T, "The patient's id in the source system."),
    _c("name", "Naam", T, "Initials, prefix and family name (patients table)."),
    _c("address", "Adres", T, "Street and house number (patients table)."),
    _c("postcode", "Postcode", T, "Postcode (patients table)."),
    _c("city", "Woonplaats", T, "City (patients table)."),
    _c("birth_date", "Geboortedatum", D, "Date of birth (patients table)."),
    _c("gp_id", "Huisarts", T, "The GP the patient is attributed to."),
    _c(
        "gp_source",
        "Huisarts volgens",
        Display.CODE,
        "Where the GP comes from: the patients table (listed) or the last prescriber.",
        GP_SOURCE_WORDS,
    ),
    # The selection (step 1).
    _c(
        "units",
        "Eenheden",
        Display.COUNT,
        "Units (tablets) dispensed in the window, returns netted out.",
    ),
    _c("days_used", "Gebruiksdagen", Display.COUNT, "Days covered (NHG definition)."),
    _c("n_dispensings", "Verstrekkingen", Display.COUNT, "Dispensings in the window."),
    _c("n_returns", "Retouren", Display.COUNT, "Returns in the window."),
    _c("first_date", "Eerste verstrekking", D, "First dispensing in the window."),
    _c("last_date", "Laatste verstrekking", D, "Last dispensing in the window."),
    _c(
        "ddd_per_day",
        "DDD per dag (gemiddeld)",
        Display.DECIMAL,
        "WHO DDDs a day, averaged over the selection window.",
    ),
    _c(
        "ddd_per_day_recent",
        "DDD per dag (recent)",
        Display.DECIMAL,
        "WHO DDDs a day over the recent months: the current dose.",
    ),
    _c(
        "days_since_supply_end",
        "Dagen sinds einde voorraad",
        Display.DAYS,
        "Days between the estimated end of the last supply and the reference date "
        "(negative while supply remains).",
    ),
    _c(
        "probably_stopped",
        "Waarschijnlijk gestopt",
        Display.FLAG,
        "The supply ran out well before the reference date.",
    ),
    _c("complex_groups", "Complexe comedicatie", T, "ATC groups of complex co-medication."),
    _c(
        "excluded_because",
        "Uitgesloten omdat",
        Display.REASONS,
        "Why the selection excluded the patient (with include_excluded).",
    ),
    # New users.
    _c("first_atc", "ATC-code eerste verstrekking", T, "ATC code of the first dispensing."),
    _c(
        "first_units",
        "Eenheden eerste verstrekking",
        Display.COUNT,
        "Units of the first dispensing.",
    ),
    _c(
        "large_first",
        "Grote eerste verstrekking",
        Display.FLAG,
        "The first dispensing is above max_first_units.",
    ),
    # Screening (step 2).
    _c(
        "decision",
        "Besluit",
        Display.CODE,
        "The decision: the GP's, else the proposal.",
        DECISION_WORDS,
    ),
    _c(
        "eligible",
        "In aanmerking",
        Display.FLAG,
        "The decision is eligible: the patient gets the letter.",
    ),
    _c("proposed", "Voorstel", Display.CODE, "What the criteria propose.", DECISION_WORDS),
    _c("reasons", "Redenen", Display.REASONS, "Why the criteria exclude the patient."),
    _c(
        "excluded_by",
        "Uitgesloten door",
        Display.CODES,
        "The criteria that exclude the patient.",
        CRITERION_LABELS,
    ),
    _c("undecided", "Niet beslist", Display.REASONS, "Criteria that could not decide, and why."),
    _c("override", "Besluit huisarts", Display.CODE, "The GP's own decision.", DECISION_WORDS),
    _c("override_by", "Besloten door", T, "Who took the GP's decision."),
    _c("override_at", "Besloten op", D, "When the GP decided."),
    _c("override_note", "Toelichting huisarts", T, "The GP's note."),
    # The schedule (steps 3 and 4).
    _c("batch", "Groep", Display.COUNT, "The batch (group) of letters."),
    _c("letter_date", "Datum stopbrief", D, "Date of the stop letter."),
    _c("invitation_date", "Datum uitnodiging", D, "Date of the invitation."),
    _c("call_date", "Nabellen op", D, "Day to phone a patient who did not respond."),
    _c("consult_date", "Datum consult", D, "Day of the reserved consult."),
    _c("consult_slot", "Volgnummer consult", Display.COUNT, "The consult's number on its day."),
    _c("consult_at", "Tijdstip consult", D, "Day and time of the consult (with slot times)."),
    _c("patients", "Patiënten", Display.COUNT, "Patients in the batch."),
    _c("first_consult", "Eerste consult", D, "The batch's first consult."),
    _c("last_consult", "Laatste consult", D, "The batch's last consult."),
    # The plan of action (bijlage 3).
    _c("task_id", "Taakcode", T, "The task's id (benzoredux plan --done takes it)."),
    _c("step", "Stap", Display.CODE, "The step the task belongs to.", STEP_WORDS),
    _c("what", "Wat", T, "What is to be done."),
    _c("how", "Hoe", T, "How."),
    _c("who", "Wie", T, "Who does it."),
    _c("start", "Vanaf", D, "From."),
    _c("due", "Uiterlijk", D, "Due date."),
    _c("status", "Status", Display.CODE, "Where the task stands.", TASK_STATUS_WORDS),
    _c("note", "Toelichting", T, "The practice's note, or the register's evidence."),
)
"""Every column of the practice's spreadsheets, with its Dutch header and how it is shown."""

del T, D

_BY_NAME: dict[str, SheetColumn] = {column.name: column for column in COLUMNS}

DUTCH_HEADERS: Mapping[str, str] = {column.name: column.header for column in COLUMNS}
"""CSV column to the Dutch header the spreadsheets give it (one mapping for every workbook)."""

if len(set(DUTCH_HEADERS.values())) != len(DUTCH_HEADERS):  # pragma: no cover - a typo
    raise RuntimeError("two columns share a Dutch header: spreadsheets could not be read back")

_SELECTION = (
    "gp_id",
    "gp_source",
    "units",
    "days_used",
    "n_dispensings",
    "n_returns",
    "first_date",
    "last_date",
    "ddd_per_day",
    "ddd_per_day_recent",
    "days_since_supply_end",
    "probably_stopped",
    "complex_groups",
    "excluded_because",
)
_PERSON = ("patient_id", "name", "address", "postcode", "city", "birth_date")

WORKBOOKS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "chronic_users.xlsx": {"a sheet per GP": (*_PERSON, *_SELECTION)},
    "new_users.xlsx": {
        "a sheet per GP": (
            *_PERSON,
            "gp_id",
            "gp_source",
            "first_date",
            "first_atc",
            "first_units",
            "large_first",
            "units",
            "n_dispensings",
        )
    },
    "screening.xlsx": {
        "a sheet per GP": (
            *_PERSON,
            "decision",
            "eligible",
            "proposed",
            "reasons",
            "excluded_by",
            "undecided",
            "override",
            "override_by",
            "override_at",
            "override_note",
            "ddd_per_day",
            "ddd_per_day_recent",
            *(c for c in _SELECTION if not c.startswith("ddd_per_day")),
        )
    },
    "schedule.xlsx": {
        "Planning": (
            "patient_id",
            "gp_id",
            "batch",
            "letter_date",
            "invitation_date",
            "call_date",
            "consult_date",
            "consult_slot",
            "consult_at",
            "name",
        ),
        "Groepen": (
            "batch",
            "patients",
            "letter_date",
            "invitation_date",
            "call_date",
            "first_consult",
            "last_consult",
        ),
        "Nabellen": ("call_date", "batch", "patient_id", "name", "gp_id"),
    },
    "plan.xlsx": {
        "Plan van aanpak": (
            "task_id",
            "step",
            "what",
            "how",
            "who",
            "start",
            "due",
            "status",
            "note",
        )
    },
}
"""The workbooks the command line writes: per sheet, the columns it can have, in order (the
patient's name and address only with a patients table; ``days_used`` only with the NHG
definition; ``excluded_because`` only with ``--include-excluded``)."""

CSV_FILES: Mapping[str, Mapping[str, str | None]] = {
    "chronic_users.xlsx": {"a sheet per GP": "chronic_users.csv"},
    "new_users.xlsx": {"a sheet per GP": "new_users.csv"},
    "screening.xlsx": {"a sheet per GP": "screening.csv"},
    "schedule.xlsx": {"Planning": "schedule.csv", "Groepen": None, "Nabellen": None},
    "plan.xlsx": {"Plan van aanpak": "plan.csv"},
}
"""Per sheet of :data:`WORKBOOKS`, the CSV file with the same list for programs (``None``: the
sheet is made from another sheet's list and has no CSV file of its own)."""

FROM_PATIENTS: frozenset[str] = frozenset({"name", "address", "postcode", "city", "birth_date"})
"""Columns the spreadsheets add from the patients table for the people who work from them;
the CSV files leave them out (they hold no names or addresses)."""


def canonical_headers(headers: list[str]) -> dict[str, str]:
    """The renames that turn a spreadsheet's Dutch headers back into the CSV columns.

    A header that is already canonical, or unknown, is left alone; case and surrounding
    spaces do not matter (``" status "`` is ``Status``).

    >>> canonical_headers(["Taakcode", "Status", "note"])
    {'Taakcode': 'task_id', 'Status': 'status'}
    """
    by_header = {c.header.casefold(): c.name for c in COLUMNS}
    renames = {}
    for header in headers:
        name = by_header.get(str(header).strip().casefold())
        if name is not None and name != header:
            renames[header] = name
    return renames


def from_dutch(column: str, value: str) -> str:
    """The code a Dutch word of ``column`` stands for; any other value as it is.

    Case and surrounding spaces of the word do not matter, as a person types it.

    >>> from_dutch("status", "Klaar"), from_dutch("status", "done"), from_dutch("status", "??")
    ('done', 'done', '??')
    """
    spec = _BY_NAME.get(column)
    if spec is None or not spec.words:
        return value
    codes = {word.casefold(): code for code, word in spec.words.items()}
    return codes.get(value.strip().casefold(), value)


# --- Reasons -------------------------------------------------------------------------------------

_PATIENT_STATUS_WORDS = {
    "deceased": "overleden",
    "moved": "verhuisd",
    "changed_gp": "naar een andere huisarts",
}


def _number(text: str) -> str:
    """``2.5`` as a Dutch text writes it: ``2,5``."""
    return text.replace(".", ",")


@cache
def _icpc_titles() -> dict[str, str]:
    from benzoredux import codes

    return {str(entry.code): entry.title_nl for entry in codes.icpc_codes() if entry.title_nl}


def _icpc_list(text: str) -> str:
    """``P15 Chronic alcohol abuse, P72 Schizophrenia`` with the Dutch titles."""
    parts = []
    for part in text.split(", "):
        code = part.split(" ", 1)[0]
        title = _icpc_titles().get(code)
        parts.append(f"{code} {title}" if title else part)
    return ", ".join(parts)


@cache
def _english_labels() -> dict[str, str]:
    """The built-in criteria's English labels (the reason when a criterion gives none)."""
    from benzoredux.screening.criteria import builtin_criteria

    return {
        c.criterion.label: CRITERION_LABELS[c.criterion.key]
        for c in builtin_criteria()
        if c.criterion.key in CRITERION_LABELS
    }


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_NUMBER = r"-?\d+(?:\.\d+)?"
_QUOTED = r"'[^']*'(?:, '[^']*')*"


def _rules() -> tuple[_Rule, ...]:
    def fixed(dutch: str) -> Callable[[re.Match[str]], str]:
        return lambda _match: dutch

    def rule(pattern: str, make: Callable[[re.Match[str]], str]) -> _Rule:
        return re.compile(f"^{pattern}$"), make

    statuses = "|".join(map(re.escape, _PATIENT_STATUS_WORDS))
    return (
        # The selection (benzoredux.selection): excluded_because.
        rule(r"complex co-medication: (.+)", lambda m: f"complexe comedicatie: {m[1]}"),
        rule(
            rf"({statuses}) on or before the reference date",
            lambda m: f"{_PATIENT_STATUS_WORDS[m[1]]} op of voor de peildatum",
        ),
        rule(r"no (\S+) episode", lambda m: f"geen episode {m[1]}"),
        # The built-in criteria (benzoredux.screening.criteria): reasons and undecided.
        rule(
            r"other indication: (.*)",
            lambda m: f"andere reden dan slaap of angst: {_icpc_list(m[1])}",
        ),
        rule(
            r"psychosocial problems: (.*)",
            lambda m: f"psychosociale problematiek: {_icpc_list(m[1])}",
        ),
        rule(r"serious comorbidity: (.*)", lambda m: f"ernstige comorbiditeit: {_icpc_list(m[1])}"),
        rule(r"serious comorbidity unknown", fixed("onbekend of er ernstige comorbiditeit is")),
        rule(
            r"serious comorbidity \(marked by the GP\)",
            fixed("ernstige comorbiditeit (aangegeven door de huisarts)"),
        ),
        rule(r"terminal or palliative care", fixed("terminaal of in palliatieve zorg")),
        rule(r"palliative status unknown", fixed("onbekend of de patiënt terminaal is")),
        rule(
            r"does not read Dutch well enough for the letter",
            fixed("leest niet goed genoeg Nederlands voor de brief"),
        ),
        rule(
            r"whether the patient reads Dutch is unknown",
            fixed("onbekend of de patiënt Nederlands leest"),
        ),
        rule(
            r"cannot come to the practice \(immobile\)",
            fixed("kan niet naar de praktijk komen (immobiel)"),
        ),
        rule(r"mobility unknown", fixed("onbekend of de patiënt naar de praktijk kan komen")),
        rule(
            rf"({_NUMBER}) DDD a day recently \(ddd_per_day_recent\), more than ({_NUMBER}) DDD",
            lambda m: f"{_number(m[1])} DDD per dag recent, meer dan {_number(m[2])} DDD",
        ),
        rule(
            rf"({_NUMBER}) DDD a day on average over the selection window \(ddd_per_day\), "
            rf"more than ({_NUMBER}) DDD",
            lambda m: (
                f"{_number(m[1])} DDD per dag gemiddeld over de selectieperiode, meer dan "
                f"{_number(m[2])} DDD"
            ),
        ),
        rule(
            rf"({_NUMBER}) DDD a day recently \(ddd_per_day_recent\), but ({_NUMBER}) on average "
            rf"over the selection window \(ddd_per_day\), more than ({_NUMBER}) DDD: check the "
            r"current dose",
            lambda m: (
                f"{_number(m[1])} DDD per dag recent, maar {_number(m[2])} gemiddeld over de "
                f"selectieperiode, meer dan {_number(m[3])} DDD: controleer de huidige dosis"
            ),
        ),
        rule(
            r"recent DDD per day unknown \(a dispensing in the recent window without "
            r"strength_mg or a DDD\)",
            fixed(
                "recente DDD per dag onbekend (een verstrekking in de recente periode zonder "
                "sterkte of DDD)"
            ),
        ),
        rule(
            r"DDD per day unknown \(a dispensing without strength_mg or a DDD\)",
            fixed("DDD per dag onbekend (een verstrekking zonder sterkte of DDD)"),
        ),
        rule(r"supply end unknown", fixed("onbekend wanneer de voorraad op was")),
        rule(
            r"probably stopped: last supply ran out about (-?\d+) days before the reference date",
            lambda m: (
                f"waarschijnlijk gestopt: de laatste voorraad was ongeveer {m[1]} dagen voor "
                "de peildatum op"
            ),
        ),
        rule(r"birth date unknown", fixed("geboortedatum onbekend")),
        rule(
            r"older than (\d+) on the reference date", lambda m: f"ouder dan {m[1]} op de peildatum"
        ),
        # Undecided without a reason of the criterion's own (benzoredux.screening).
        rule(r"no answer for this patient", fixed("geen antwoord voor deze patiënt")),
        rule(r"cannot tell", fixed("niet te bepalen")),
        rule(
            r"it needs the episodes table \(ICPC episodes\)", fixed("de episodes (ICPC) ontbreken")
        ),
        rule(
            rf"it needs the patients table with column\(s\) ({_QUOTED})",
            lambda m: f"de patiëntentabel ontbreekt (nodig: kolom {m[1]})",
        ),
        rule(
            rf"the patients table has no column ({_QUOTED})",
            lambda m: f"de patiëntentabel heeft geen kolom {m[1]}",
        ),
        rule(
            rf"the selection has no column ({_QUOTED}) \(a selection made by an earlier version "
            r"has no current dose: select again, or compare the year's average with "
            r"dose_basis='year'\)",
            lambda m: (
                f"de selectie heeft geen kolom {m[1]} (een selectie van een eerdere versie heeft "
                "geen huidige dosis: selecteer opnieuw, of vergelijk met het gemiddelde over de "
                "selectieperiode: dose_basis='year')"
            ),
        ),
        rule(
            rf"the selection has no column ({_QUOTED})",
            lambda m: f"de selectie heeft geen kolom {m[1]}",
        ),
        rule(
            r"it needs the patients table's 'serious_comorbidity' column, or ICPC codes "
            r"\(parameter icpc_codes\) and the episodes table",
            fixed(
                "de kolom 'serious_comorbidity' van de patiëntentabel ontbreekt, of ICPC-codes "
                "(parameter icpc_codes) en de episodes"
            ),
        ),
    )


@cache
def _compiled() -> tuple[_Rule, ...]:
    return _rules()


_KEYED = re.compile(r"^([a-z][a-z0-9_]*): (.*)$", re.DOTALL)


def _translate(part: str) -> tuple[str, bool]:
    """One reason in Dutch, and whether benzoredux wrote it (else it is returned as it is)."""
    text = part.strip()
    if not text:
        return part, True
    keyed = _KEYED.match(text)
    if keyed and keyed[1] in CRITERION_LABELS:  # undecided: "<criterion key>: <why>"
        rest, known = _translate(keyed[2])
        return f"{CRITERION_LABELS[keyed[1]]}: {rest}", known
    label = _english_labels().get(text)
    if label is not None:
        return label, True
    for pattern, make in _compiled():
        found = pattern.match(text)
        if found:
            return make(found), True
    return part, False


def dutch_reasons(text: str) -> str:
    """``text``'s reasons (separated by ``"; "``) in Dutch, those benzoredux wrote; a reason
    it did not write (a plugin criterion's) stays as it is.

    >>> dutch_reasons("complex co-medication: N03; moved on or before the reference date")
    'complexe comedicatie: N03; verhuisd op of voor de peildatum'
    >>> dutch_reasons("2.5 DDD a day recently (ddd_per_day_recent), more than 2 DDD")
    '2,5 DDD per dag recent, meer dan 2 DDD'
    >>> dutch_reasons("immobile: mobility unknown; a plugin's own reason")
    "kan niet naar het spreekuur komen (immobiel): onbekend of de patiënt naar de praktijk kan komen; a plugin's own reason"
    """  # noqa: E501 - a doctest's output line
    return "; ".join(_translate(part)[0] for part in text.split("; "))


def untranslated_reasons(text: str) -> list[str]:
    """The reasons in ``text`` that :func:`dutch_reasons` leaves as they are (for the tests
    that keep every built-in reason translated)."""
    return [part for part in text.split("; ") if not _translate(part)[1]]


# --- The view ------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_DUTCH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 - NaN, NaT and pd.NA are not equal to themselves
    except (TypeError, ValueError):  # pd.NA's comparison is ambiguous
        return True


def _plain(value: Any) -> Any:
    """A numpy or pandas scalar as the Python value; missing values as ``None``."""
    if _missing(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, dt.date | str):  # numpy scalar
        return value.item()
    return value


def _as_date(value: Any) -> Any:
    """A date or datetime for a date column: ISO (``2025-12-31``, with a time) or Dutch
    (``31-12-2025``) text becomes one; other text stays text (shown, never guessed)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # a spreadsheet has no time zones: the local time
            value = value.astimezone().replace(tzinfo=None)
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date) or not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if iso := _ISO.match(text):
            year, month, day, hour, minute, second = iso.groups()
            if hour is None:
                return dt.date(int(year), int(month), int(day))
            moment = dt.datetime(  # noqa: DTZ001 - a local time, as written
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
            return moment.date() if moment.time() == dt.time() else moment
        if dutch := _DUTCH_DAY.match(text):
            day, month, year = dutch.groups()
            return dt.date(int(year), int(month), int(day))
    except ValueError:  # 2025-02-31: not a date, shown as it is
        return value
    return value


def _shown(spec: SheetColumn | None, value: Any) -> Any:
    """``value`` (already plain) as the spreadsheet shows it in column ``spec``."""
    if value is None:
        return None
    display = spec.display if spec is not None else None
    if display is Display.DATE:
        return _as_date(value)
    if isinstance(value, str):
        if display is Display.CODE and spec is not None:
            return spec.words.get(value, value)
        if display is Display.CODES and spec is not None:
            return "; ".join(spec.words.get(code, code) for code in value.split("; "))
        if display is Display.REASONS:
            return dutch_reasons(value)
        return value
    if display is Display.FLAG and isinstance(value, bool):
        return _FLAG_WORDS[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if display is Display.DECIMAL:
        return round(float(value), 2)
    if display is Display.DAYS:
        return round(value)
    if display is Display.COUNT:
        return int(value) if float(value).is_integer() else round(float(value), 2)
    return value


def number_format(header: str, value: Any) -> str | None:
    """The number format of a cell under ``header`` (a Dutch header or an unknown column)
    holding ``value`` as :func:`spreadsheet_view` made it; ``None`` for the default."""
    spec = _BY_HEADER.get(header)
    if isinstance(value, dt.datetime):
        return _DATE_FORMAT if value.time() == dt.time() else _DATETIME_FORMAT
    if isinstance(value, dt.date):
        return _DATE_FORMAT
    if isinstance(value, str):
        return "@"
    if spec is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if spec.display is Display.COUNT and isinstance(value, float):
        return _FRACTION_FORMAT
    return _NUMBER_FORMATS.get(spec.display)


_BY_HEADER: dict[str, SheetColumn] = {column.header: column for column in COLUMNS}


def spreadsheet_view(frame: Any) -> Any:
    """A pandas frame as a spreadsheet shows it: Dutch headers, Dutch words, rounded numbers,
    dates as :class:`datetime.date` (see the module docstring).

    Values become plain Python values (``None`` for missing ones), each column's distinct
    values translated once. Columns keep their order.

    >>> import pandas as pd
    >>> view = spreadsheet_view(pd.DataFrame({
    ...     "patient_id": ["p1"], "ddd_per_day": [0.5342465753424658],
    ...     "decision": ["eligible"], "first_date": ["2025-01-26"], "units": [120.0]}))
    >>> list(view.columns)
    ['Patiëntnummer', 'DDD per dag (gemiddeld)', 'Besluit', 'Eerste verstrekking', 'Eenheden']
    >>> view.iloc[0].tolist()
    ['p1', 0.53, 'in aanmerking', datetime.date(2025, 1, 26), 120]
    """
    import pandas as pd

    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        spec = _BY_NAME.get(str(name))
        values = [_plain(v) for v in frame[name].tolist()]
        shown: dict[Any, Any] = {}
        out = []
        for value in values:
            key = (type(value), value) if _hashable(value) else None
            if key is not None and key in shown:
                out.append(shown[key])
                continue
            result = _shown(spec, value)
            if key is not None:
                shown[key] = result
            out.append(result)
        columns[spec.header if spec is not None else str(name)] = out
    return pd.DataFrame(columns, columns=list(columns), dtype=object, index=range(len(frame)))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
