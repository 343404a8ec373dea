"""Render ``.docx`` templates with patient data: escaped, sandboxed, checked, written privately.

Letters carry names and addresses, and templates may come from a practice. Four promises follow
(see ``docs/domain/letters.rst``; the pitfalls are docxtpl issues #634, #38, #549 and #632):

* **Escaped**: every value is XML-escaped (Jinja ``autoescape``), so ``Jansen & Zn``,
  ``<b>`` or ``'t Hart`` print as written and the file stays valid. Control characters that XML
  cannot hold (or that docxtpl would turn into page and paragraph breaks) are removed; ``None``
  prints as nothing. Every rendered part is parsed again (strictly) before it is written.
* **Sandboxed**: templates run in a Jinja ``SandboxedEnvironment``: a template cannot reach
  Python internals (``{{ x.__class__ }}`` is refused with :class:`TemplateSecurityError`).
* **Checked first**: a template that uses a field the caller does not supply fails with
  :class:`TemplateFieldError` before any file is written; a field that is missing deeper down
  (``{{ gp.title }}``) fails at rendering (``StrictUndefined``), still before anything of a
  batch is written.
* **Private and atomic**: files are created owner-only (``0o600``) through a temporary file that
  is renamed into place (:func:`benzoredux.output.private_file`).

:class:`DocxLetterTemplate` reads and compiles a template once and renders it many times by
rendering the XML parts with the compiled Jinja templates and writing the zip directly, which is
several times faster than a docxtpl ``DocxTemplate`` per letter (``benchmarks/bench_letters.py``).
It uses docxtpl's own pre- and post-processing of the XML (``patch_xml``, ``resolve_listing``),
so templates behave as in docxtpl; templates with table-column tags (``{%tc %}``, ``colspan``,
``hm``, ``vm``) and values that need the document (``InlineImage``, ``Subdoc``) are rendered by
docxtpl itself.

docxtpl and docxcompose are optional (the ``letters`` extra) and imported on first use.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from benzoredux.dates import dutch_date
from benzoredux.errors import BenzoreduxError
from benzoredux.output import private_file

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "DocxLetterTemplate",
    "RenderedBatch",
    "TemplateFieldError",
    "TemplateRenderError",
    "TemplateSecurityError",
    "dutch_date",
    "letter_environment",
    "merge_docx",
    "render_docx",
    "render_docx_batch",
]

TemplateSource = str | os.PathLike[str] | bytes

_CORE_PART = "docProps/core.xml"
_TEMPLATED_PART = re.compile(r"^word/(document|header\d*|footer\d*|footnotes)\.xml$")
_TABLE_TAGS = re.compile(r"\{%-?\s*(tc|colspan|cellbg|hm|vm)\b")
# Characters XML 1.0 cannot hold, plus \a \f \v that docxtpl turns into breaks; \t and \n stay.
_UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


class TemplateFieldError(BenzoreduxError, KeyError):
    """A template uses fields the caller does not supply; nothing has been written."""

    def __init__(
        self, template: str, missing: Iterable[str], available: Iterable[str], where: str = ""
    ) -> None:
        self.template = template
        self.missing = tuple(sorted(missing))
        self.available = tuple(sorted(available))
        super().__init__(
            f"template {template!r}{where} uses unknown field(s) "
            f"{', '.join(map(repr, self.missing))}; fields available: "
            f"{', '.join(self.available) or 'none'}. Nothing was written."
        )

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class TemplateRenderError(BenzoreduxError, ValueError):
    """A template could not be compiled or rendered, or rendered into invalid XML."""


class TemplateSecurityError(TemplateRenderError):
    """The sandbox refused what a template tried to do (reach Python internals, ...)."""


def _finalise(value: Any) -> Any:
    """Applied by Jinja to every ``{{ value }}`` before escaping."""
    from markupsafe import Markup, escape

    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        text = _UNSAFE_CHARACTERS.sub("", value)
        if "{_" in text or "_}" in text:
            # docxtpl turns ``{_{``, ``}_}``, ``{_%`` and ``%_}`` of the rendered XML into
            # Jinja's braces (its way of writing them in a template), also inside a value: an
            # underscore beside a brace is written as a character reference, which that step
            # does not match and Word shows as "_".
            escaped = str(escape(text)).replace("{_", "{&#95;").replace("_}", "&#95;}")
            return Markup(escaped)  # noqa: S704 - escaped just above
        return text
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return dutch_date(value)
    return value


def letter_environment() -> SandboxedEnvironment:
    """The Jinja environment every letter template renders in.

    Sandboxed, autoescaping, strict about undefined names; dates print the Dutch way
    (``1 maart 2027``); filters ``datum`` (the same, or ``datum(weekday=True)`` with the day's
    name) and ``upper``/``lower``/``title`` (Jinja's own) are available.
    """
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, finalize=_finalise
    )
    environment.filters["datum"] = dutch_date
    return environment


def _docxtpl_patcher(data: bytes) -> Any:
    """A docxtpl ``DocxTemplate`` used for its XML pre- and post-processing only."""
    from docxtpl import DocxTemplate

    return DocxTemplate(io.BytesIO(data))


def _needs_document(context: Mapping[str, Any]) -> bool:
    """Whether a value needs docxtpl's document object (images, subdocuments)."""
    from docxtpl import InlineImage, Subdoc

    def needs(value: Any, depth: int) -> bool:
        if isinstance(value, InlineImage | Subdoc):
            return True
        if depth and isinstance(value, Mapping):
            return any(needs(v, depth - 1) for v in value.values())
        if depth and isinstance(value, list | tuple):
            return any(needs(v, depth - 1) for v in value)
        return False

    return any(needs(v, 2) for v in context.values())


@contextlib.contextmanager
def _render_errors(name: str, where: str, part: str | None = None) -> Iterator[None]:
    """Turn what rendering a template raises into :class:`TemplateSecurityError` (the sandbox
    refused) or :class:`TemplateRenderError` (anything else, naming ``part`` when given)."""
    from jinja2.exceptions import SecurityError

    try:
        yield
    except SecurityError as error:
        raise TemplateSecurityError(
            f"template {name!r}{where}: refused by the sandbox: {error}; nothing was written"
        ) from None
    except Exception as error:
        at = "" if part is None else f", part {part}"
        raise TemplateRenderError(
            f"template {name!r}{where}{at}: {_describe(error)}; nothing was written"
        ) from None


def _describe(error: Exception) -> str:
    """An error raised inside a template, without values that may be patient data.

    Jinja's own errors and type errors describe the template; other messages (a ``KeyError``
    holds the key) may quote a value, so only their type is shown.
    """
    from jinja2 import TemplateError

    if isinstance(error, TemplateError | TypeError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__} (message hidden: it may hold patient data)"


def _well_formed(data: bytes, template: str, part: str, where: str) -> None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise TemplateRenderError(
            f"template {template!r}{where}: part {part} rendered into invalid XML ({error}); "
            "nothing was written"
        ) from None


class DocxLetterTemplate:
    """A ``.docx`` template read and compiled once, rendered for many letters.

    ``fields`` are the names the template uses; :meth:`check_fields` compares them with what a
    caller supplies. :meth:`render_bytes` gives one rendered document.
    """

    def __init__(
        self,
        source: TemplateSource,
        *,
        name: str | None = None,
        environment: Environment | None = None,
    ) -> None:
        from jinja2 import TemplateSyntaxError, meta

        if isinstance(source, bytes):
            self.data = source
            self.name = name or "<template>"
        else:
            path = Path(source)
            self.name = name or path.name
            try:
                self.data = path.read_bytes()
            except OSError as error:
                raise TemplateRenderError(
                    f"template {self.name!r} cannot be read: {error.strerror}"
                ) from error
        self.environment = environment if environment is not None else letter_environment()
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                self._infos = archive.infolist()
                contents = {info.filename: archive.read(info) for info in self._infos}
        except zipfile.BadZipFile as error:
            raise TemplateRenderError(f"template {self.name!r} is not a .docx file") from error
        if "word/document.xml" not in contents:
            raise TemplateRenderError(f"template {self.name!r} has no word/document.xml")
        self._patcher = _docxtpl_patcher(self.data)
        self._sources: dict[str, str] = {}
        for part, content in contents.items():
            if part != _CORE_PART and not _TEMPLATED_PART.match(part):
                continue
            text = content.decode("utf-8")
            if "{" not in text:
                continue
            self._sources[part] = text if part == _CORE_PART else self._patcher.patch_xml(text)
        self._static = {p: c for p, c in contents.items() if p not in self._sources}
        self.uses_table_tags = any(_TABLE_TAGS.search(s) for s in self._sources.values())
        self._compiled: dict[str, Template] = {}
        fields: set[str] = set()
        for part, text in self._sources.items():
            try:
                self._compiled[part] = self.environment.from_string(text)
                fields |= meta.find_undeclared_variables(self.environment.parse(text))
            except TemplateSyntaxError as error:
                raise TemplateRenderError(
                    f"template {self.name!r}, part {part}: Jinja syntax error: {error.message} "
                    "(keep each {{ field }} in one run of text)"
                ) from None
        self.fields: frozenset[str] = frozenset(fields - set(self.environment.globals))
        self._prefix = self._static_zip()

    def _static_zip(self) -> bytes:
        """A zip holding the unchanged parts once; each letter appends its rendered parts."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for info in self._infos:
                if info.filename in self._static:
                    archive.writestr(info, self._static[info.filename])
        return buffer.getvalue()

    def missing_fields(self, available: Iterable[str]) -> frozenset[str]:
        """The fields this template uses that ``available`` lacks."""
        return self.fields - frozenset(available)

    def check_fields(self, available: Iterable[str], *, where: str = "") -> None:
        """Raise :class:`TemplateFieldError` when the template uses a field not in ``available``."""
        names = frozenset(available)
        missing = self.fields - names
        if missing:
            raise TemplateFieldError(self.name, missing, names, where)

    def _render_part(self, part: str, context: dict[str, Any], where: str) -> bytes:
        with _render_errors(self.name, where, part):
            xml = self._compiled[part].render(context)
        if part != _CORE_PART:
            xml = (
                xml.replace("{_{", "{{")
                .replace("}_}", "}}")
                .replace("{_%", "{%")
                .replace("%_}", "%}")
            )
            xml = self._patcher.resolve_listing(xml)
        data = xml.encode("utf-8")
        _well_formed(data, self.name, part, where)
        return data

    def render_parts(self, context: Mapping[str, Any], *, where: str = "") -> dict[str, bytes]:
        """The rendered XML parts (document, headers, footers, ...) for one letter."""
        values = dict(context)
        return {part: self._render_part(part, values, where) for part in self._compiled}

    def render_bytes(self, context: Mapping[str, Any], *, where: str = "") -> bytes:
        """One rendered ``.docx`` as bytes; fields are checked first."""
        self.check_fields(context.keys(), where=where)
        if self.uses_table_tags or _needs_document(context):
            return self._render_with_docxtpl(context, where)
        return self._assemble(self.render_parts(context, where=where))

    def _assemble(self, parts: Mapping[str, bytes]) -> bytes:
        buffer = io.BytesIO(self._prefix)
        buffer.seek(0, io.SEEK_END)
        with zipfile.ZipFile(buffer, "a") as archive:
            for info in self._infos:
                if info.filename in parts:
                    archive.writestr(info, parts[info.filename])
        return buffer.getvalue()

    def _render_with_docxtpl(self, context: Mapping[str, Any], where: str) -> bytes:
        from docxtpl import DocxTemplate

        document = DocxTemplate(io.BytesIO(self.data))
        with _render_errors(self.name, where):
            document.render(dict(context), jinja_env=self.environment)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    def merge_rendered(self, documents: Sequence[bytes]) -> bytes:
        """One printable document from letters rendered with this template, a page per letter.

        When every letter shares its headers, footers and properties (the usual case: they hold
        the practice's details), the bodies are joined directly, each letter its own section;
        otherwise :func:`merge_docx` (docxcompose) does the work.
        """
        if not documents:
            raise ValueError("there are no letters to merge")
        opened = [zipfile.ZipFile(io.BytesIO(d)) for d in documents]
        try:
            shared = [p for p in self._compiled if p != "word/document.xml"]
            same = all(
                archive.read(part) == opened[0].read(part) for archive in opened for part in shared
            )
            if not same or self.uses_table_tags:
                return merge_docx(documents)
            bodies = [archive.read("word/document.xml") for archive in opened]
            first = {p: opened[0].read(p) for p in self._compiled if p != "word/document.xml"}
        finally:
            for archive in opened:
                archive.close()
        return self._assemble({**first, "word/document.xml": _join_bodies(bodies)})


def _join_bodies(documents: Sequence[bytes]) -> bytes:
    """One ``word/document.xml`` holding each document's body as its own section."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(documents[0], parser)
    body = root.find(f"{{{_W}}}body")
    if body is None:
        raise TemplateRenderError("a rendered letter has no body")
    for child in list(body):
        body.remove(child)
    final_section = None
    for number, document in enumerate(documents):
        letter = etree.fromstring(document, parser).find(f"{{{_W}}}body")
        if letter is None:
            raise TemplateRenderError(f"rendered letter {number + 1} has no body")
        children = list(letter)
        section = children.pop() if children and children[-1].tag == f"{{{_W}}}sectPr" else None
        body.extend(children)
        if number < len(documents) - 1:
            # A paragraph holding the section's properties ends it: the next letter starts on
            # a new page with the same page set-up, headers and footers.
            paragraph = etree.SubElement(body, f"{{{_W}}}p")
            properties = etree.SubElement(paragraph, f"{{{_W}}}pPr")
            if section is not None:
                properties.append(copy.deepcopy(section))
            else:
                run = etree.SubElement(paragraph, f"{{{_W}}}r")
                etree.SubElement(run, f"{{{_W}}}br", {f"{{{_W}}}type": "page"})
        final_section = section
    if final_section is not None:
        body.append(final_section)
    for number, drawing in enumerate(root.iter(f"{{{_WP}}}docPr"), start=1):
        drawing.set("id", str(number))  # unique ids, or Word reports the file as damaged
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def merge_docx(documents: Sequence[bytes | str | os.PathLike[str]]) -> bytes:
    """Join any ``.docx`` documents into one, each starting on a new page (docxcompose)."""
    from docx import Document
    from docxcompose.composer import Composer

    if not documents:
        raise ValueError("there are no documents to merge")

    def opened(document: bytes | str | os.PathLike[str]) -> Any:
        return Document(io.BytesIO(document) if isinstance(document, bytes) else str(document))

    composer = Composer(opened(documents[0]))
    for document in documents[1:]:
        composer.doc.add_page_break()
        composer.append(opened(document))
    buffer = io.BytesIO()
    composer.save(buffer)
    return buffer.getvalue()


def _compiled(template: TemplateSource | DocxLetterTemplate) -> DocxLetterTemplate:
    return template if isinstance(template, DocxLetterTemplate) else DocxLetterTemplate(template)


def _write(path: Path, data: bytes) -> Path:
    with private_file(path, "wb") as handle:
        handle.write(data)
    return path


def render_docx(
    template: TemplateSource | DocxLetterTemplate,
    context: Mapping[str, Any],
    out: str | os.PathLike[str],
) -> Path:
    """Render ``template`` with ``context`` into ``out`` (owner-only, atomic); returns ``out``.

    Raises :class:`TemplateFieldError` before writing when the template uses a field that
    ``context`` lacks, and :class:`TemplateSecurityError` when the sandbox refuses the template.
    """
    compiled = _compiled(template)
    return _write(Path(out), compiled.render_bytes(context))


@frozen
class RenderedBatch:
    """The files a batch rendering wrote."""

    paths: tuple[Path, ...]
    """One document per letter, in the order given."""
    merged: Path | None
    """The single printable document, when asked for."""


_worker_template: list[DocxLetterTemplate] = []


def _start_worker(data: bytes, name: str) -> None:
    _worker_template[:] = [DocxLetterTemplate(data, name=name)]


def _render_in_worker(job: tuple[int, Mapping[str, Any], str]) -> bytes:
    _number, context, where = job
    return _worker_template[0].render_bytes(context, where=where)


def render_docx_batch(
    template: TemplateSource | DocxLetterTemplate,
    letters: Iterable[tuple[Mapping[str, Any], str | os.PathLike[str]]],
    *,
    merged: str | os.PathLike[str] | None = None,
    workers: int = 1,
) -> RenderedBatch:
    """Render one document per ``(context, path)`` and optionally one merged document.

    Every letter's fields are checked, and every letter is rendered in memory, before the first
    file is written: a bad template or a missing field leaves no partial batch behind. Each file
    is written owner-only and atomically. ``workers > 1`` renders in that many processes (worth
    it from a few hundred letters on; the contexts must then be picklable).
    """
    compiled = _compiled(template)
    jobs = [(dict(context), Path(path)) for context, path in letters]
    targets = [path for _, path in jobs] + ([Path(merged)] if merged is not None else [])
    resolved = [p.resolve() for p in targets]
    if len(set(resolved)) != len(resolved):
        raise ValueError("two letters (or a letter and the merged document) share an output path")
    for number, (context, path) in enumerate(jobs, start=1):
        compiled.check_fields(context.keys(), where=f" (letter {number}, {path.name})")
    labelled = [
        (number, context, f" (letter {number}, {path.name})")
        for number, (context, path) in enumerate(jobs, start=1)
    ]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(compiled.data, compiled.name),
        ) as pool:
            chunk = max(1, len(jobs) // (workers * 4))
            rendered = list(pool.map(_render_in_worker, labelled, chunksize=chunk))
    else:
        rendered = [compiled.render_bytes(context, where=where) for _, context, where in labelled]
    merged_path = Path(merged) if merged is not None and jobs else None
    merged_bytes = compiled.merge_rendered(rendered) if merged_path is not None else None
    paths = tuple(_write(path, data) for (_, path), data in zip(jobs, rendered, strict=True))
    if merged_path is not None and merged_bytes is not None:
        _write(merged_path, merged_bytes)
    return RenderedBatch(paths=paths, merged=merged_path)
