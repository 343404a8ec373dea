"""Letters of the minimal intervention: the stop letter, the invitation and the address labels.

The functions of :mod:`benzoredux.letters.compose` make the letters of a screening or a sending
schedule (:func:`~benzoredux.letters.compose.plan_letters`,
:func:`~benzoredux.letters.compose.render_letters`,
:func:`~benzoredux.letters.compose.render_labels`). The rendering core
(:mod:`benzoredux.letters.rendering`) turns a ``.docx`` template and a mapping of fields into a
document, safely: values are escaped, templates run in a Jinja sandbox, unknown fields fail
before anything is written, files are private and atomic.

This package needs the optional ``letters`` extra (``pip install "benzoredux[letters]"``:
docxtpl, docxcompose); ``import benzoredux`` never imports it.
"""

from __future__ import annotations

from benzoredux.letters.compose import (
    LETTER_FIELDS,
    LetterError,
    LetterOutput,
    plan_letters,
    render_labels,
    render_letters,
)
from benzoredux.letters.rendering import (
    DocxLetterTemplate,
    RenderedBatch,
    TemplateFieldError,
    TemplateRenderError,
    TemplateSecurityError,
    dutch_date,
    letter_environment,
    merge_docx,
    render_docx,
    render_docx_batch,
)

__all__ = [
    "LETTER_FIELDS",
    "DocxLetterTemplate",
    "LetterError",
    "LetterOutput",
    "RenderedBatch",
    "TemplateFieldError",
    "TemplateRenderError",
    "TemplateSecurityError",
    "dutch_date",
    "letter_environment",
    "merge_docx",
    "plan_letters",
    "render_docx",
    "render_docx_batch",
    "render_labels",
    "render_letters",
]
