"""The default house style: the project's own Dutch templates, registered as an internal plugin.

A practice replaces it by registering its own :class:`~benzoredux.hookspecs.HouseStyle` under
another name (and choosing it with ``style=...`` or ``--style``); a style that returns ``None``
for a kind falls back to these templates. A style may also offer ``labels_template()`` for the
address-label sheet.

Importing this module is cheap (no docx libraries): the plugin manager imports it whenever
plugins are loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benzoredux.hookspecs import HouseStyle, hookimpl
from benzoredux.models import LetterKind

__all__ = ["DEFAULT_STYLE", "TEMPLATE_DIR", "DefaultStyle", "default_template"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
_FILES = {LetterKind.STOP_LETTER: "stop_letter.docx", LetterKind.INVITATION: "invitation.docx"}


def default_template(kind: LetterKind | str) -> Path:
    """The default template for a letter kind (``stop_letter`` or ``invitation``), or ``labels``.

    >>> default_template("invitation").name
    'invitation.docx'
    """
    if kind == "labels":
        return TEMPLATE_DIR / "labels.docx"
    return TEMPLATE_DIR / _FILES[LetterKind(kind)]


class DefaultStyle:
    """The built-in style: plain letters with the practice's name, address and phone on top."""

    name = "default"
    description = "benzoredux's own Dutch stop letter, invitation and label sheet"

    def template(self, kind: LetterKind) -> Path | None:
        """The default template for ``kind``."""
        return default_template(kind)

    def labels_template(self) -> Path:
        """The A4 sheet of 3 x 8 address labels."""
        return default_template("labels")

    def context(self) -> Mapping[str, Any]:
        """No fields of its own: the letterhead comes from the :class:`~benzoredux.Practice`."""
        return {}


DEFAULT_STYLE = DefaultStyle()


@hookimpl
def benzoredux_register_house_styles(register: Callable[[HouseStyle], None]) -> None:
    """Register the default style."""
    register(DEFAULT_STYLE)
