"""Build the default handout templates (``templates/*.docx``) from code, reproducibly.

Two patient handouts for the evaluation consult, written for this project in plain Dutch
(about B1 level), with no text copied from the seeds or published handouts:

* ``afbouwschema.docx``: the patient's tapering schedule, one table row per step (filled from
  a :class:`~benzoredux.consult.tapering.TaperSchedule` by
  :func:`benzoredux.consult.handouts.taper_handout`);
* ``slaap_waakkalender.docx``: a sleep-wake diary for two weeks (or as many days as asked),
  landscape, one row per night (:func:`benzoredux.consult.handouts.sleep_diary`).

The ``.docx`` files are committed next to this script, and a test checks that building them
again gives the same bytes. After changing the text here, run::

    python -m benzoredux.consult.handouts.build_templates

Each ``{{ field }}`` is written as one run, so Word keeps it together; table rows repeat with
docxtpl's ``{%tr for %}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benzoredux.letters.docx_building import (
    build_main,
    reproducible_docx,
    write_templates,
)
from benzoredux.letters.docx_building import paragraphs as _paragraphs

__all__ = ["TEMPLATE_DIR", "build_all", "build_sleep_diary", "build_taper_handout"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_FIXED = dt.datetime(2026, 1, 1)  # noqa: DTZ001 - a fixed, zone-less document date


def _new_document(title: str, *, landscape: bool = False) -> Any:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        section.left_margin = section.right_margin = Cm(1.5)
        section.top_margin = section.bottom_margin = Cm(1.5)
    else:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin = section.bottom_margin = Cm(2.0)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "nl-NL")
    normal.element.get_or_add_rPr().append(language)
    # Only dc: and dcterms: properties: importing docxtpl remaps python-docx's "cp" prefix to
    # the custom-properties namespace (docx.oxml.ns.nsmap), so setting lastModifiedBy or
    # revision after that import would write them into the wrong namespace.
    core = document.core_properties
    core.title = title
    core.author = "benzoredux"
    core.language = "nl-NL"
    core.created = core.modified = _FIXED
    core.comments = "Default handout of benzoredux; see docs/domain/tapering.rst."
    return document


def _title(document: Any, text: str) -> None:
    from docx.shared import Pt

    run = document.add_paragraph().add_run(text)
    run.bold = True
    run.font.size = Pt(16)


def _heading(document: Any, text: str) -> None:
    document.add_paragraph().add_run(text).bold = True


def _bullets(document: Any, *texts: str) -> None:
    for text in texts:
        document.add_paragraph(style="List Bullet").add_run(text)


def _table(document: Any, headers: tuple[str, ...], fields: tuple[str, ...], loop: str) -> Any:
    """A table with a header row and one row repeated for each element of ``loop``."""
    table = document.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for column, header in enumerate(headers):
        table.cell(0, column).paragraphs[0].add_run(header).bold = True
    table.cell(1, 0).paragraphs[0].add_run(f"{{%tr for row in {loop} %}}")
    for column, name in enumerate(fields):
        table.cell(2, column).paragraphs[0].add_run(f"{{{{ row.{name} }}}}")
    table.cell(3, 0).paragraphs[0].add_run("{%tr endfor %}")
    document.add_paragraph()
    return table


def build_taper_handout() -> Any:
    """The tapering schedule for the patient (afbouwschema)."""
    document = _new_document("Uw afbouwschema")
    _paragraphs(document, "{{ practice_name }}")
    _title(document, "Uw afbouwschema")
    _paragraphs(
        document,
        "{%p if patient_name %}",
        "Voor: {{ patient_name }}",
        "{%p endif %}",
        "Datum: {{ made_on }}",
        "U heeft afgesproken om {{ substance }} stap voor stap af te bouwen. Zo kan uw lichaam "
        "rustig wennen aan steeds minder. In de tabel hieronder staat hoeveel u per dag neemt, "
        "en vanaf wanneer.",
        "{%p if switched %}",
        "Eerst stapt u over op diazepam. Diazepam werkt lang. Daardoor gaat afbouwen meestal "
        "rustiger. U neemt dan in de eerste periode {{ switch_instruction }}, in plaats van "
        "{{ current_instruction }}. Daarna bouwt u de diazepam af.",
        "{{ switch_conversion }}",
        "{%p endif %}",
    )
    _table(
        document,
        ("Periode", "Wat neemt u per dag?", "Totaal per dag"),
        ("period", "instruction", "dose"),
        "steps",
    )
    _heading(document, "Goed om te weten")
    _bullets(
        document,
        "Neem per dag niet meer dan er in het schema staat. Verdeel de tabletten over de dag "
        "zoals u met {{ clinician }} heeft afgesproken.",
        "Staat er een halve tablet in het schema? Breek de tablet langs de breukstreep. Bij de "
        "apotheek kunt u een tablettendeler krijgen.",
        "Na een stap slaapt u misschien een paar nachten slechter, of voelt u zich wat "
        "onrustiger. Dat is normaal en gaat meestal vanzelf over.",
        "Lukt een stap niet? Blijf dan wat langer op de vorige hoeveelheid en bel de praktijk. "
        "Ga niet terug naar uw oude hoeveelheid zonder dat met ons te overleggen.",
        "Als u wilt, kunt u de slaap-waakkalender bijhouden. Dan ziet u zelf hoe het gaat, en "
        "kunnen we het samen bespreken.",
    )
    _heading(document, "Heeft u vragen?")
    _paragraphs(
        document,
        "Bel de praktijk{% if practice_phone %} op {{ practice_phone }}{% endif %}. "
        "{% if follow_up %}Uw volgende afspraak: {{ follow_up }}.{% endif %}",
    )
    return document


def build_sleep_diary() -> Any:
    """A sleep-wake diary (slaap-waakkalender), one row per night."""
    from docx.shared import Pt

    document = _new_document("Slaap-waakkalender", landscape=True)
    _title(document, "Slaap-waakkalender")
    _paragraphs(
        document,
        "{%p if patient_name %}",
        "Naam: {{ patient_name }}",
        "{%p endif %}",
        "Vul de kalender elke ochtend kort in: over de afgelopen nacht en de dag daarvoor. "
        "Schat de tijden: precies hoeft niet. Kijk 's nachts niet op de klok. Neem de "
        "kalender mee naar {{ bring_to }}.",
    )
    table = _table(
        document,
        (
            "Datum",
            "Naar bed (hoe laat)",
            "Hoe lang duurde het voor u sliep?",
            "Hoe vaak wakker?",
            "Opgestaan (hoe laat)",
            "Hoeveel uur geslapen?",
            "Slaapmiddel (wat, hoeveel, hoe laat)",
            "Dutjes overdag (hoe lang)",
            "Uitgerust? (1 = slecht, 5 = goed)",
        ),
        ("date",) + ("blank",) * 8,
        "days",
    )
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    _paragraphs(document, "Opmerkingen (bijvoorbeeld: zorgen, pijn, koffie of alcohol):")
    return document


BUILDERS: dict[str, Callable[[], Any]] = {
    "afbouwschema.docx": build_taper_handout,
    "slaap_waakkalender.docx": build_sleep_diary,
}


def build_all(directory: Path | None = TEMPLATE_DIR) -> dict[str, bytes]:
    """Every default handout template as bytes, by file name (written to ``directory``)."""
    built = {name: reproducible_docx(builder()) for name, builder in BUILDERS.items()}
    if directory is not None:
        write_templates(built, directory)
    return built


def main(argv: list[str] | None = None) -> int:
    """Write the templates (to ``TEMPLATE_DIR``, or the folder given as the only argument)."""
    return build_main(build_all, TEMPLATE_DIR, argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
