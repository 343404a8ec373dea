"""Build the default letter templates (``templates/*.docx``) from code, reproducibly.

The default stop letter, invitation and address-label sheet are written for this project in
plain, respectful Dutch (about B1 level), after the principles of the FTO module and the
Benzoredux study: a personal letter from the patient's own GP (optionally with the
pharmacist), why long-term use is worth reconsidering, *not* to stop at once but to taper, help
on offer, the patient decides, and an evaluation consult in about three months. No text is
copied from the seeds or the published example letter.

The ``.docx`` files are committed next to this script, and a test checks that building them
again gives the very same bytes (fixed dates in the zip and the document properties). After
changing the text here, run::

    python -m benzoredux.letters.build_templates

A practice that wants its own letters edits a copy of a template in Word and registers it
through a house style (``docs/domain/letters.rst``); the fields a template may use are listed
in :data:`benzoredux.letters.compose.LETTER_FIELDS`.
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

__all__ = ["TEMPLATE_DIR", "build_all", "build_invitation", "build_labels", "build_stop_letter"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _new_document() -> Any:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.5)
    section.header_distance = section.footer_distance = Cm(0.8)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.0
    properties = normal.element.get_or_add_rPr()
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "nl-NL")
    properties.append(language)
    return document


def _letterhead(document: Any) -> None:
    from docx.shared import Pt

    header = document.sections[0].header
    first = header.paragraphs[0]
    name = first.add_run("{{ practice_name }}")
    name.bold = True
    name.font.size = Pt(13)
    header.add_paragraph().add_run("{{ practice_address }}")
    header.add_paragraph().add_run(
        "{% if practice_phone %}Telefoon {{ practice_phone }}{% endif %}"
    )


def _address_block(document: Any) -> None:
    from docx.shared import Pt

    for index, field in enumerate(
        ("{{ address_name }}", "{{ address_street }}", "{{ address_city }}")
    ):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        if index == 0:
            paragraph.paragraph_format.space_before = Pt(18)
        paragraph.add_run(field)
    document.add_paragraph()


def _heading(document: Any, text: str) -> None:
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.space_after = Pt(2)
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run(text).bold = True


def _signature(document: Any) -> None:
    from docx.shared import Pt

    document.add_paragraph().add_run("Met vriendelijke groet,")
    document.add_paragraph()
    document.add_paragraph().add_run("{%p for signer in signatories %}")
    name = document.add_paragraph()
    name.paragraph_format.space_after = Pt(0)
    name.add_run("{{ signer.name }}")
    role = document.add_paragraph()
    role.add_run("{{ signer.role }}").italic = True
    document.add_paragraph().add_run("{%p endfor %}")


def build_stop_letter() -> Any:
    """The stop letter (step 3): personal, from the patient's GP, about tapering off."""
    document = _new_document()
    _letterhead(document)
    _address_block(document)
    _paragraphs(document, "{% if practice_city %}{{ practice_city }}, {% endif %}{{ letter_date }}")
    _heading(document, "Betreft: uw slaapmiddel of kalmeringsmiddel")
    _paragraphs(
        document,
        "{{ salutation }},",
        "U gebruikt al langere tijd een slaapmiddel of een kalmeringsmiddel. Het gaat om "
        "middelen zoals oxazepam, temazepam, diazepam, lorazepam, zolpidem of zopiclon. Wij "
        "schrijven u deze brief omdat wij denken dat het goed voor u kan zijn om minder van dit "
        "middel te gebruiken, of om ermee te stoppen.",
    )
    _heading(document, "Waarom krijgt u deze brief?")
    _paragraphs(
        document,
        "Deze middelen werken goed als u ze een paar dagen of weken gebruikt. Gebruikt u ze "
        "langer, dan werken ze vaak minder goed. De nadelen blijven wel. U kunt er overdag suf "
        "of vergeetachtig van worden. De kans dat u valt of een verkeersongeluk krijgt, wordt "
        "groter. Ook went uw lichaam aan het middel.",
        "Veel mensen die lang zo'n middel gebruiken, kunnen goed zonder. Zij merken vaak dat ze "
        "na het stoppen net zo goed slapen als eerst, en zich helderder voelen.",
    )
    _heading(document, "Hoe pakt u het aan?")
    _paragraphs(
        document,
        "Stop niet in één keer als u het middel elke dag gebruikt. Bouw het rustig af, in "
        "kleine stappen. Neem bijvoorbeeld twee weken lang een halve tablet minder. Gaat dat "
        "goed, zet dan de volgende stap.",
        "In het begin slaapt u misschien wat slechter of voelt u zich wat onrustiger. Dat is "
        "normaal en gaat meestal binnen een paar weken over.",
    )
    _heading(document, "Wij helpen u graag")
    _paragraphs(
        document,
        "Wilt u hulp bij het afbouwen, of heeft u vragen over deze brief? Bel dan de praktijk"
        "{% if practice_phone %} op {{ practice_phone }}{% endif %}. U kunt ook een afspraak "
        "maken met uw huisarts of met de praktijkondersteuner. Bij de apotheek kunt u vragen "
        "of u uw tabletten kunt breken, of dat er een lagere sterkte is.",
        "Over ongeveer drie maanden krijgt u van ons een uitnodiging voor een gesprek. Dan "
        "praten we samen over hoe het gaat, of u nu gestopt bent of niet.",
        "U beslist zelf wat u doet. Wij denken graag met u mee.",
    )
    _signature(document)
    return document


def build_invitation() -> Any:
    """The invitation for the evaluation consult (step 4), about three months later."""
    document = _new_document()
    _letterhead(document)
    _address_block(document)
    _paragraphs(document, "{% if practice_city %}{{ practice_city }}, {% endif %}{{ letter_date }}")
    _heading(document, "Betreft: uitnodiging voor een gesprek over uw slaap- of kalmeringsmiddel")
    _paragraphs(
        document,
        "{{ salutation }},",
        "{% if stop_letter_date %}Op {{ stop_letter_date }} kreeg u{% else %}Een tijd geleden "
        "kreeg u{% endif %} van ons een brief over uw slaapmiddel of kalmeringsmiddel. Wij "
        "willen graag met u bespreken hoe het nu met u gaat. Het gesprek "
        "is voor iedereen bedoeld: of u nu gestopt bent, minder gebruikt of nog evenveel "
        "gebruikt.",
        "{%p if appointment %}",
        "Wij hebben een afspraak voor u gemaakt op {{ appointment }}{% if consult_with %} bij "
        "{{ consult_with }}{% endif %}. Komt dit moment u niet goed uit? Bel dan de praktijk"
        "{% if practice_phone %} op {{ practice_phone }}{% endif %}. Dan zoeken we samen een "
        "ander moment.",
        "{%p else %}",
        "Wij vragen u een afspraak te maken{% if consult_with %} met {{ consult_with }}"
        "{% endif %}. Bel daarvoor de praktijk{% if practice_phone %} op {{ practice_phone }}"
        "{% endif %}.",
        "{%p endif %}",
        "Neemt u de doosjes of de strips van uw medicijnen mee? U mag ook iemand meenemen als u "
        "dat prettig vindt.",
        # With an appointment, silence means the patient comes: the practice phones those who
        # do not come, after the appointment, and names no date (a call date before the
        # appointment would be pointless, one after it contradicts it). Without an appointment
        # the practice phones those who have not made one, about two weeks after the
        # invitation (FTO module, bijlage 2, step 4).
        "{%p if appointment %}",
        "Komt u niet en horen wij niets van u? Dan bellen wij u na de afspraak om een nieuw "
        "moment te zoeken.",
        "{%p elif call_date %}",
        "Horen wij niets van u? Dan bellen wij u rond {{ call_date }} om een afspraak te maken.",
        "{%p endif %}",
    )
    _signature(document)
    return document


def build_labels() -> Any:
    """An A4 sheet of 3 x 8 address labels (70 x 37 mm), the alternative to merged letters."""
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt

    document = _new_document()
    section = document.sections[0]
    section.left_margin = section.right_margin = Mm(0)
    section.top_margin = section.bottom_margin = Mm(0)
    section.header_distance = section.footer_distance = Mm(0)
    document.styles["Normal"].paragraph_format.space_after = Pt(0)
    body = document.element.body
    for paragraph in list(document.paragraphs):
        body.remove(paragraph._element)
    table = document.add_table(rows=3, cols=3)
    table.autofit = False
    table.cell(0, 0).text = "{%tr for row in label_rows %}"
    for column in range(3):
        table.cell(1, column).text = "{{ row[" + str(column) + "] }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    for column in table.columns:
        column.width = Mm(70)
    for row in table.rows:
        row.height = Mm(37)
        row.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
        for cell in row.cells:
            cell.width = Mm(70)
            properties = cell._element.get_or_add_tcPr()
            margins = OxmlElement("w:tcMar")
            for side in ("top", "left", "bottom", "right"):
                margin = OxmlElement(f"w:{side}")
                margin.set(qn("w:w"), str(int(Cm(0.6).twips if side != "top" else Cm(0.8).twips)))
                margin.set(qn("w:type"), "dxa")
                margins.append(margin)
            properties.append(margins)
    _closing_paragraph(document)
    return document


def _closing_paragraph(document: Any) -> None:
    """The paragraph Word needs after the last table, made too small to start a page.

    Eight rows of 37 mm fill 296 of the A4 page's 297 mm. A paragraph after the table at the
    normal line height (about 4 mm) does not fit in the last millimetre, so LibreOffice (and
    Word) put it on a page of its own: 96 labels printed four sheets and a fifth, blank one.
    Its line is therefore exactly 1 pt (0.35 mm) high, with no space before or after, and its
    paragraph mark (which sets the height of an empty paragraph) is 1 pt too.
    """
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    end = document.add_paragraph()
    end.paragraph_format.space_before = Pt(0)
    end.paragraph_format.space_after = Pt(0)
    end.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    end.paragraph_format.line_spacing = Pt(1)
    mark = OxmlElement("w:rPr")
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), "2")  # half-points
        mark.append(size)
    end._p.get_or_add_pPr().append(mark)


def _core_properties(title: str) -> bytes:
    """``docProps/core.xml`` written out in full, so no date or user name of the build leaks in."""
    from xml.sax.saxutils import escape

    stamp = _FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>benzoredux</dc:creator>"
        "<cp:lastModifiedBy>benzoredux</cp:lastModifiedBy><cp:revision>1</cp:revision>"
        "<dc:language>nl-NL</dc:language>"
        "<dc:description>Default template of benzoredux; see docs/domain/letters.rst."
        "</dc:description>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


def _reproducible(document: Any, title: str) -> bytes:
    """The document as bytes with fixed zip dates and properties: a rebuild gives the same file."""
    return reproducible_docx(document, {"docProps/core.xml": _core_properties(title)})


BUILDERS: dict[str, tuple[Callable[[], Any], str]] = {
    "stop_letter.docx": (build_stop_letter, "Brief over uw slaap- of kalmeringsmiddel"),
    "invitation.docx": (build_invitation, "Uitnodiging voor een gesprek"),
    "labels.docx": (build_labels, "Adresetiketten"),
}


def build_all(directory: Path = TEMPLATE_DIR) -> dict[str, bytes]:
    """Every default template as bytes, by file name (written to ``directory`` if given)."""
    built = {name: _reproducible(build(), title) for name, (build, title) in BUILDERS.items()}
    write_templates(built, directory)
    return built


def main(argv: list[str] | None = None) -> int:
    """Write the templates (to ``TEMPLATE_DIR``, or the folder given as the only argument)."""
    return build_main(build_all, TEMPLATE_DIR, argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
