"""The docx rendering core: escaped, sandboxed, checked before writing, private and atomic."""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
import zipfile
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate, RichText
from hypothesis import example, given, settings
from hypothesis import strategies as st

from benzoredux.letters.rendering import (
    DocxLetterTemplate,
    TemplateFieldError,
    TemplateRenderError,
    TemplateSecurityError,
    dutch_date,
    letter_environment,
    merge_docx,
    render_docx,
    render_docx_batch,
)

HOSTILE = [
    "Jansen & Zn",
    "<w:p>inject</w:p>",
    'O\'Brien "de Boer"',
    "'t Hart",
    "]]> <![CDATA[ x",
    "{{ 7*7 }}",
    '=HYPERLINK("x")',
    "Zoë Ümit-Çelik",
]


def make_template(path: Path, body: list[str], header: str | None = None) -> Path:
    document = docx.Document()
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    for line in body:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def texts(source: Path | bytes) -> list[str]:
    document = docx.Document(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    return [p.text for p in document.paragraphs]


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return make_template(
        tmp_path / "letter.docx",
        ["Beste {{ name }},", "{{ street }} {{ house_number }}", "Datum: {{ letter_date }}"],
        header="{{ practice }}",
    )


def context(name: str = "Jansen") -> dict[str, object]:
    return {
        "name": name,
        "street": "Dorpsstraat",
        "house_number": "1 & 2",
        "letter_date": dt.date(2027, 2, 28),
        "practice": "Huisartsen <Noord> & Zuid",
    }


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_values_print_as_written_and_the_file_stays_valid(
    template: Path, tmp_path: Path, name: str
) -> None:
    out = render_docx(template, context(name), tmp_path / "out.docx")
    document = docx.Document(str(out))
    assert [p.text for p in document.paragraphs] == [
        f"Beste {name},",
        "Dorpsstraat 1 & 2",
        "Datum: 28 februari 2027",
    ]
    assert document.sections[0].header.paragraphs[0].text == "Huisartsen <Noord> & Zuid"
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None


def test_control_characters_are_removed_not_turned_into_breaks(
    template: Path, tmp_path: Path
) -> None:
    # docxtpl turns \a into a new paragraph and \f into a page break; XML cannot hold \x00.
    out = render_docx(template, context("Jan\x07sen\x0c\x00\x1b"), tmp_path / "out.docx")
    assert texts(out)[0] == "Beste Jansen,"


def test_none_prints_as_nothing(template: Path, tmp_path: Path) -> None:
    values = context() | {"house_number": None}
    assert texts(render_docx(template, values, tmp_path / "o.docx"))[1] == "Dorpsstraat "


def test_a_newline_in_a_value_becomes_a_line_break(template: Path, tmp_path: Path) -> None:
    values = context() | {"street": "Postbus 12\nAntwoordnummer"}
    assert texts(render_docx(template, values, tmp_path / "o.docx"))[1] == (
        "Postbus 12\nAntwoordnummer 1 & 2"
    )


def test_output_is_owner_only(template: Path, tmp_path: Path) -> None:
    out = render_docx(template, context(), tmp_path / "sub" / "out.docx")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_unknown_field_fails_before_anything_is_written(template: Path, tmp_path: Path) -> None:
    values = context()
    del values["street"]
    with pytest.raises(TemplateFieldError, match="'street'") as caught:
        render_docx(template, values, tmp_path / "out" / "a.docx")
    assert caught.value.missing == ("street",)
    assert "Nothing was written" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_unknown_field_in_the_header_is_found_too(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.docx", ["Hallo"], header="{{ praktijk }}")
    assert DocxLetterTemplate(path).fields == frozenset({"praktijk"})


def test_unknown_field_in_one_letter_of_a_batch_writes_no_letter(
    template: Path, tmp_path: Path
) -> None:
    broken = context()
    del broken["practice"]
    letters = [(context(), tmp_path / "1.docx"), (broken, tmp_path / "2.docx")]
    with pytest.raises(TemplateFieldError, match=r"letter 2, 2\.docx"):
        render_docx_batch(template, letters, merged=tmp_path / "all.docx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["letter.docx"]


def test_missing_attribute_fails_at_rendering_and_the_batch_writes_nothing(
    tmp_path: Path,
) -> None:
    path = make_template(tmp_path / "t.docx", ["{{ gp.title }} {{ gp.name }}"])
    letters = [
        ({"gp": {"title": "dokter", "name": "A"}}, tmp_path / "1.docx"),
        ({"gp": {"name": "B"}}, tmp_path / "2.docx"),
    ]
    with pytest.raises(TemplateRenderError, match=r"UndefinedError.*title"):
        render_docx_batch(path, letters)
    assert not (tmp_path / "1.docx").exists()


@pytest.mark.parametrize(
    "attack",
    [
        "{{ name.__class__.__mro__[1].__subclasses__() }}",
        "{{ name.__init__.__globals__ }}",
        "{{ name.format.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.system('id') }}",
    ],
)
def test_sandbox_refuses_escape_attempts(tmp_path: Path, attack: str) -> None:
    path = make_template(tmp_path / "t.docx", [attack])
    with pytest.raises(TemplateSecurityError, match="refused by the sandbox"):
        render_docx(path, {"name": "x"}, tmp_path / "out.docx")
    assert not (tmp_path / "out.docx").exists()


def test_include_cannot_read_files(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.docx", ["{% include '/etc/passwd' %}"])
    with pytest.raises(TemplateRenderError):
        render_docx(path, {}, tmp_path / "out.docx")
    assert not (tmp_path / "out.docx").exists()


def test_syntax_error_names_the_template(tmp_path: Path) -> None:
    path = make_template(tmp_path / "kapot.docx", ["{{ name "])
    with pytest.raises(TemplateRenderError, match=r"'kapot\.docx'.*syntax"):
        DocxLetterTemplate(path)


def test_not_a_docx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_text("not a zip")
    with pytest.raises(TemplateRenderError, match=r"not a \.docx"):
        DocxLetterTemplate(path)


def test_fast_path_gives_the_same_text_as_docxtpl(template: Path) -> None:
    compiled = DocxLetterTemplate(template)
    for name in HOSTILE:
        values = context(name)
        reference = DocxTemplate(str(template))
        reference.render(values, jinja_env=letter_environment())
        buffer = io.BytesIO()
        reference.save(buffer)
        fast = compiled.render_bytes(values)
        assert texts(fast) == texts(buffer.getvalue())
        fast_header = docx.Document(io.BytesIO(fast)).sections[0].header.paragraphs[0].text
        assert fast_header == "Huisartsen <Noord> & Zuid"


def test_rich_text_is_not_escaped_twice(tmp_path: Path) -> None:
    template = make_template(tmp_path / "t.docx", ["Beste {{r name }},"])
    values = {"name": RichText("Jansen & Zn", bold=True)}
    out = render_docx(template, values, tmp_path / "o.docx")
    paragraph = docx.Document(str(out)).paragraphs[0]
    assert paragraph.text == "Beste Jansen & Zn,"
    assert any(run.bold for run in paragraph.runs)


def test_table_row_loop_renders(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=1)
    table.cell(0, 0).text = "{%tr for line in lines %}"
    table.cell(1, 0).text = "{{ line }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    document.save(str(tmp_path / "t.docx"))
    out = render_docx(tmp_path / "t.docx", {"lines": ["a & b", "<c>"]}, tmp_path / "o.docx")
    rows = docx.Document(str(out)).tables[0].rows
    assert [r.cells[0].text for r in rows] == ["a & b", "<c>"]


def test_batch_writes_each_letter_and_one_merged_document(template: Path, tmp_path: Path) -> None:
    names = ["A & B", "C <D>", "E 'F'"]
    letters = [(context(n), tmp_path / "out" / f"{i}.docx") for i, n in enumerate(names)]
    batch = render_docx_batch(template, letters, merged=tmp_path / "out" / "all.docx")
    assert [texts(p)[0] for p in batch.paths] == [f"Beste {n}," for n in names]
    assert batch.merged is not None
    merged = docx.Document(str(batch.merged))
    assert len(merged.sections) == 3  # each letter its own section: it starts on a new page
    greetings = [p.text for p in merged.paragraphs if p.text.startswith("Beste")]
    assert greetings == [f"Beste {n}," for n in names]
    for path in [*batch.paths, batch.merged]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_merged_document_falls_back_to_docxcompose_when_headers_differ(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.docx", ["Beste {{ name }},"], header="{{ name }}")
    letters = [({"name": n}, tmp_path / f"{n}.docx") for n in ("A", "B")]
    batch = render_docx_batch(path, letters, merged=tmp_path / "all.docx")
    assert batch.merged is not None
    merged_texts = texts(batch.merged)
    assert "Beste A," in merged_texts
    assert "Beste B," in merged_texts


def test_merge_docx_keeps_order(template: Path, tmp_path: Path) -> None:
    compiled = DocxLetterTemplate(template)
    parts = [compiled.render_bytes(context(n)) for n in ("één", "twee")]
    greetings = [t for t in texts(merge_docx(parts)) if t.startswith("Beste")]
    assert greetings == ["Beste één,", "Beste twee,"]


def test_duplicate_output_paths_are_refused(template: Path, tmp_path: Path) -> None:
    letters = [(context(), tmp_path / "a.docx"), (context(), tmp_path / "a.docx")]
    with pytest.raises(ValueError, match="share an output path"):
        render_docx_batch(template, letters)


def test_batch_in_two_processes_gives_the_same_letters(template: Path, tmp_path: Path) -> None:
    letters = [(context(f"P{i} & co"), tmp_path / f"{i}.docx") for i in range(4)]
    batch = render_docx_batch(template, letters, workers=2)
    assert [texts(p)[0] for p in batch.paths] == [f"Beste P{i} & co," for i in range(4)]


def test_dutch_date_needs_no_locale() -> None:
    assert dutch_date(dt.date(2028, 2, 29)) == "29 februari 2028"
    assert dutch_date(dt.date(2027, 12, 31), weekday=True) == "vrijdag 31 december 2027"


@given(name=st.text(max_size=40), street=st.text(max_size=20))
@example(name="", street="{_{")  # docxtpl's own escapes of braces, inside a value
@example(name="a}_}b", street="{_% x %_}")
@settings(max_examples=40, deadline=None)
def test_any_text_renders_into_a_valid_document(name: str, street: str) -> None:
    # Whatever a name or street holds, the letter opens again and shows it, minus only the
    # characters XML cannot hold (and those docxtpl would turn into breaks).
    template = HYPOTHESIS_TEMPLATE
    fast = template.render_bytes({"name": name, "street": street})
    shown = texts(fast)
    assert shown == [f"[{cleaned(name)}]", f"[{cleaned(street)}]"]


def cleaned(value: str) -> str:
    return re.sub("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]", "", value)


def _hypothesis_template() -> DocxLetterTemplate:
    document = docx.Document()
    document.add_paragraph("[{{ name }}]")
    document.add_paragraph("[{{ street }}]")
    buffer = io.BytesIO()
    document.save(buffer)
    return DocxLetterTemplate(buffer.getvalue(), name="hypothesis.docx")


HYPOTHESIS_TEMPLATE = _hypothesis_template()
