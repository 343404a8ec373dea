"""Reading report.html back as a reader sees it, with the standard library's HTML parser: the
visible text (no style sheet), each table's rows with their classes, and the charts' own text."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser


class Shown(HTMLParser):
    """The page's visible text, its tables (by id: rows of cells, and each row's class) and
    its images' sources."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.images: list[str] = []
        self._hidden = 0
        self._table: str | None = None
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("style", "script"):
            self._hidden += 1
        elif tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = (attributes.get("class") or "", [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attributes.get("src") or "")
            self.parts.append(attributes.get("alt") or "")
        if tag in ("p", "li", "tr", "td", "th", "h1", "h2", "h3", "caption", "summary"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def text(self) -> str:
        return " ".join(self.parts)

    def rows(self, table: str) -> list[tuple[str, list[str]]]:
        """The body rows (class, cells) of a table, without its header row."""
        return self.tables[table][1:]

    def chart_text(self) -> str:
        """The text in the charts (SVG keeps its text as text)."""
        texts = []
        for src in self.images:
            if src.startswith("data:image/svg+xml;base64,"):
                svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
                texts += re.findall(r"<text[^>]*>([^<]*)</text>", svg)
                texts += re.findall(r"<!-- (.*?) -->", svg)
        return " ".join(texts)


ENGLISH = (
    "selection", "snapshot", "decisions", "tasks", "task", "evaluation", "letters", "letter",
    "consults", "overdue", "done", "skipped", "in_progress", "eligible", "excluded",
    "review", "programme", "source", "register:", "patients", "invited", "stoppers", "recorded",
    "sent", "the", "and", "from", "not", "yet", "per GP", "chronic", "users", "screened",
    "attendance", "missing", "unknown", "charts", "chart", "funnel",
)  # fmt: skip
"""English words a Dutch reader must not meet in the report (file names aside)."""

FILE_NAME = re.compile(r"[\w./-]+\.(?:csv|xlsx|sqlite|html|toml|ics)\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
NUMERIC_DATE = re.compile(r"\b\d{1,2}-\d{1,2}-\d{4}\b")


def english_words(text: str) -> list[str]:
    """The words of :data:`ENGLISH` in ``text``, file names left out."""
    words = FILE_NAME.sub(" ", text)
    return sorted(
        {
            word
            for word in ENGLISH
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", words, re.IGNORECASE)
        }
    )


def count(cell: str) -> int:
    """A funnel cell as a number: a minus sign (U+2212) or ``+`` keeps its sign, and
    ``1.234`` is 1234."""
    text = cell.replace("\u2212", "-").replace(".", "")
    return int(text)


def added_up(rows: list[tuple[str, list[str]]]) -> list[str]:
    """The funnel as shown: each bold step (class ``stage``) is the step or start row above it
    plus the signed changes in between; a ``part`` row is at most the step above it. Returns the
    rows that do not add up (empty when all do)."""
    wrong = []
    base: int | None = None
    changes = 0
    for kind, cells in rows:
        label, shown = cells[0], cells[1]
        if shown == "nog niet gedaan":
            base, changes = None, 0
            continue
        value = count(shown)
        classes = kind.split()
        if "change" in classes:
            changes += value
        elif "stage" in classes or "start" in classes:
            if "stage" in classes and base is not None and base + changes != value:
                wrong.append(f"{label}: {base} {changes:+d} is not {value}")
            base, changes = value, 0
        elif "part" in classes and (base is None or not 0 <= value <= base):
            wrong.append(f"{label}: {value} is not part of {base}")
    return wrong
