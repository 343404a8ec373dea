"""Splitting a combined name column ("Müller, Jürgen", "Vries, A. de") into the canonical
name parts: ``family_name``, ``name_prefix`` (tussenvoegsel), ``initials`` and ``first_name``.

Dutch pharmacy and GP systems often export the patient's name as one column (``Naam``), in
the sorted form the systems list patients by: the family name, a comma, then the initials or
given names and the tussenvoegsel ("Vries, A. de"). The letters address a patient by initials,
tussenvoegsel and family name ("Geachte heer De Vries"), so the parts must be separate: a
letter to "Geachte mevrouw Müller, Jürgen" is wrong, and so is sorting "de Vries" under D.

The rules (documented on the adapters page, :doc:`/adapters`):

* **With a comma** (the sorted form): what comes before the first comma is the family name;
  tussenvoegsel words at its start ("de Vries, A.") or end ("Vries de, A.") are the
  tussenvoegsel. After the comma: tokens written as initials (``A.``, ``A.B.``, ``Th.``) are the
  initials, tussenvoegsel words are the tussenvoegsel, a name in brackets is the first name
  (``Vries, A. (Anna)``), and the remaining words are the first name(s).
* **Without a comma**, only the display form with initials is split: initials first, then the
  tussenvoegsel, then the family name ("A. de Vries", "J.P. Jansen"). A name of words only
  ("Jan de Vries") cannot be told apart from a family name of several words ("Van Dam Zwart"),
  so it is kept whole as the family name, as before, and counted (a note says how many).
* A double family name ("Jansen-de Boer") is one family name: a hyphen joins it.
* A part the export also has in its own column (``Voorletters``, ``Tussenvoegsel``) wins over
  the split, and is never overwritten.

The tussenvoegsels are those of the Dutch civil registry's table of voorvoegsels (BRP tabel 36),
written in lower case: :data:`PREFIX_WORDS`; a tussenvoegsel of several words ("van der",
"in 't") is a run of them.

>>> split_name("Vries, A. de")
NameParts(family_name='Vries', name_prefix='de', initials='A.', first_name=None)
>>> split_name("Müller, Jürgen")
NameParts(family_name='Müller', name_prefix=None, initials=None, first_name='Jürgen')
>>> split_name("J.P. van der Berg")
NameParts(family_name='Berg', name_prefix='van der', initials='J.P.', first_name=None)
>>> split_name("Jan de Vries") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
from attrs import frozen

from benzoredux.reading.raw import RawTable

__all__ = [
    "COMBINED_NAME",
    "NAME_PARTS",
    "PREFIX_WORDS",
    "NameParts",
    "split_name",
    "split_name_column",
    "split_names",
]

PREFIX_WORDS = frozenset(
    {
        "'s", "'t", "aan", "af", "al", "am", "auf", "aus", "bij", "bin", "d'", "da", "dal",
        "dalla", "das", "de", "dei", "del", "della", "den", "der", "des", "di", "die", "do",
        "dos", "du", "el", "het", "im", "in", "l'", "la", "las", "le", "les", "lo", "los", "na",
        "onder", "op", "over", "te", "ten", "ter", "tot", "uit", "uijt", "van", "ver", "vom",
        "von", "voor", "vor", "zu", "zum", "zur",
    }
)  # fmt: skip
"""The words a Dutch tussenvoegsel is made of (BRP tabel 36, Voorvoegsels), lower case."""

NAME_PARTS = ("family_name", "name_prefix", "initials", "first_name")
"""The canonical columns a combined name is split into."""

_INITIALS = re.compile(r"^(?:(?:[^\W\d_]{1,3}\.)+(?:[^\W\d_])?|[A-Z]{1,3})$")
"""Initials: letters each followed by a dot (``A.``, ``A.B.``, ``Th.``, ``J.P.M``), or one to
three capitals written without dots (``A``, ``JP``)."""
_BRACKETED = re.compile(r"\(([^()]*)\)")


@frozen
class NameParts:
    """The parts of one name; ``None`` for a part the name does not give."""

    family_name: str | None
    name_prefix: str | None
    initials: str | None
    first_name: str | None


def _is_prefix(token: str) -> bool:
    return token.casefold() in PREFIX_WORDS


def _family_and_prefix(words: Sequence[str]) -> tuple[str | None, str | None]:
    """The family name and tussenvoegsel of the part before the comma: prefix words at the
    start ("de Vries") or the end ("Vries de"), as long as a family name remains."""
    start = 0
    while start < len(words) - 1 and _is_prefix(words[start]):
        start += 1
    end = len(words)
    if start == 0:
        while end > 1 and _is_prefix(words[end - 1]):
            end -= 1
    prefix = [*words[:start], *words[end:]]
    family = " ".join(words[start:end])
    return (family or None), (" ".join(w.casefold() for w in prefix) or None)


def _given(text: str) -> tuple[str | None, str | None, str | None]:
    """Initials, tussenvoegsel and first name(s) from the part after the comma."""
    bracketed = [b.strip() for b in _BRACKETED.findall(text) if b.strip()]
    words = _BRACKETED.sub(" ", text).split()
    initials = [w for w in words if _INITIALS.match(w)]
    prefix = [w.casefold() for w in words if not _INITIALS.match(w) and _is_prefix(w)]
    given = [w for w in words if not _INITIALS.match(w) and not _is_prefix(w)]
    first = " ".join(bracketed or given) or None
    return ("".join(initials) or None), (" ".join(prefix) or None), first


def split_name(text: str | None) -> NameParts | None:
    """The parts of a combined name, or ``None`` when the name cannot be split with certainty
    (then it is kept whole as the family name: see the module docstring)."""
    if text is None or not text.strip():
        return None
    if "," in text:
        head, _, rest = text.partition(",")
        family, prefix = _family_and_prefix(head.split())
        initials, given_prefix, first = _given(rest.replace(",", " "))
        if family is None:
            return None
        return NameParts(family, prefix or given_prefix, initials, first)
    words = text.split()
    if len(words) == 1:
        return NameParts(words[0], None, None, None)
    lead = 0
    while lead < len(words) and _INITIALS.match(words[lead]):
        lead += 1
    if lead == 0 or lead == len(words):
        return None
    start = lead
    while start < len(words) - 1 and _is_prefix(words[start]):
        start += 1
    prefix = " ".join(w.casefold() for w in words[lead:start]) or None
    return NameParts(" ".join(words[start:]), prefix, "".join(words[:lead]), None)


def split_names(names: pd.Series) -> tuple[pd.DataFrame, int]:
    """:func:`split_name` over a column: a frame with :data:`NAME_PARTS` (text, missing where
    the name gives no such part), and how many non-empty names were kept whole as the family
    name because they could not be split. The split runs once per distinct name."""
    text = names.astype("string")
    distinct = text.dropna().unique()
    parts = {name: split_name(str(name)) for name in distinct}
    kept_whole = {name for name, split in parts.items() if split is None and str(name).strip()}
    columns: dict[str, list[str | None]] = {column: [] for column in NAME_PARTS}
    values: Sequence[object] = text.tolist()
    for value in values:
        present = isinstance(value, str)
        split = parts.get(value) if present else None
        if split is None:
            whole = str(value).strip() or None if present else None
            split = NameParts(whole, None, None, None)
        for column in NAME_PARTS:
            columns[column].append(getattr(split, column))
    frame = pd.DataFrame(
        {c: pd.array(v, dtype=pd.StringDtype()) for c, v in columns.items()}, index=names.index
    )
    unsplit = int(text.isin(list(kept_whole)).sum()) if kept_whole else 0
    return frame, unsplit


COMBINED_NAME = "name"
"""The pseudo-column a reader's layout (or a mapping file) gives a combined name column:
split into :data:`NAME_PARTS` by :func:`split_name_column` before the table is built."""


def split_name_column(raw: RawTable) -> tuple[RawTable, list[str]]:
    """``raw`` with its combined name column (:data:`COMBINED_NAME`) split into
    :data:`NAME_PARTS`, and a note on the names kept whole. A part the export has in a column
    of its own is kept where that column has a value; the split fills only the gaps. The new
    parts are reported under the export's name column in messages."""
    from attrs import evolve

    if COMBINED_NAME not in raw.frame.columns:
        return raw, []
    parts, unsplit = split_names(raw.frame[COMBINED_NAME])
    frame = raw.frame.drop(columns=COMBINED_NAME)
    sources = dict(raw.source_columns)
    source = sources.pop(COMBINED_NAME, COMBINED_NAME)
    for part in NAME_PARTS:
        split = parts[part].astype(object).where(parts[part].notna(), None)
        if part in frame.columns:
            own = frame[part]
            frame[part] = own.where(own.notna() & (own.astype(str).str.strip() != ""), split)
        else:
            frame[part] = split
            sources[part] = source
    notes = (
        [
            f"{raw.file}: {unsplit} name(s) in column {source!r} kept whole as the family name "
            "(no comma and no initials, so the parts cannot be told apart)"
        ]
        if unsplit
        else []
    )
    return evolve(raw, frame=frame, source_columns=sources), notes
