"""Stop letters, invitations and labels: fields, signatures, skipped patients, styles, files."""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import docx
import pandas as pd
import pytest

from benzoredux import GeneralPractitioner, Pharmacist, Practice, StopLetter
from benzoredux.hookspecs import hookimpl
from benzoredux.letters import build_templates
from benzoredux.letters.compose import (
    LETTER_FIELDS,
    LetterError,
    address_fields,
    find_libreoffice,
    plan_letters,
    render_labels,
    render_letters,
)
from benzoredux.letters.default_style import TEMPLATE_DIR
from benzoredux.letters.rendering import DocxLetterTemplate
from benzoredux.plugins import PluginError, using_plugins
from benzoredux.schedule import invitation_fields, plan_schedule

PRACTICE = Practice(
    practice_id="hap",
    name="Huisartsen Rijn & Lek <Oost>",
    address="Kerkpad 1, 3431 AA Nieuwegein",
    phone="030-1234567",
    gps=[
        GeneralPractitioner(gp_id="g1", name="J. 't Hooft"),
        GeneralPractitioner(gp_id="g2", name='A. "Ank" de Graaf'),
    ],
    pharmacists=[
        Pharmacist(pharmacist_id="a1", name="M. Öztürk", pharmacy_name="Apotheek <De Brug>")
    ],
)


def patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "gp_id": ["g1", "g2", "g1", "g1", "g2", "g1"],
            "sex": ["F", "M", "X", "F", "F", "M"],
            "initials": ["A.", "J.", "K.", "B.", "C.", ""],
            "name_prefix": ["van 't", "de", None, None, None, "'t"],
            "family_name": ["Hof & Zn", "<Vries>", 'O"Brien', "Jansen", "Smit", "Hart"],
            "street": ["Lange Gracht", "Dorpsstraat", "Laan 't Zand", None, "Kerkweg", "Weg"],
            "house_number": ["1 & 3", "2-bis <a>", "3", "4", "5", "6"],
            "postcode": ["1234ab", "2345 BC", "3456 CD", "4567 DE", "5678 EF", "6789 FG"],
            "city": ["Ede", "Zeist", "Baarn", "Epe", "Putten", "Ermelo"],
            "status": ["active", None, "active", "active", "deceased", "active"],
            "status_date": pd.to_datetime([None, None, None, None, "2025-12-01", None]),
        }
    )


def texts(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def members(data: bytes) -> list[tuple[str, tuple[int, ...], bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, i.date_time, archive.read(i)) for i in archive.infolist()]


def test_default_templates_are_rebuilt_exactly(tmp_path: Path) -> None:
    # Compared part by part (not as compressed bytes, which depend on the zlib build).
    built = build_templates.build_all(tmp_path)
    assert set(built) == {"stop_letter.docx", "invitation.docx", "labels.docx"}
    for name, data in built.items():
        committed = (TEMPLATE_DIR / name).read_bytes()
        assert members(committed) == members(data), f"{name}: run build_templates"


# Dutch words for a part of a tablet, and into how many parts a unit must split to make it.
FRACTION_WORDS = {"halve": 2, "half": 2, "helft": 2, "kwart": 4, "kwartje": 4, "driekwart": 4}


def test_patient_texts_advise_only_fractions_the_named_substances_allow() -> None:
    # Issue 14, part 5a: the stop letter advised "een kwart of een halve tablet minder" while no
    # shipped tablet of the substances it names may be quartered (tapering schedules use halves).
    # Every fraction a default letter or handout names must be one that a shipped product of
    # every substance the stop letter names allows.
    from benzoredux.consult.handouts import build_templates as handout_templates
    from benzoredux.consult.handouts import dutch_substance
    from benzoredux.consult.tapering import products

    documents = {
        **{name: build() for name, (build, _) in build_templates.BUILDERS.items()},
        **{name: build() for name, build in handout_templates.BUILDERS.items()},
    }
    texts = {
        name: "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for table in document.tables for row in table.rows for c in row.cells]
        ).lower()
        for name, document in documents.items()
    }
    by_dutch_name = {dutch_substance(p.substance): p.substance for p in products()}
    named = {
        substance
        for dutch, substance in by_dutch_name.items()
        if re.search(rf"\b{dutch}\b", texts["stop_letter.docx"])
    }
    assert {"oxazepam", "temazepam", "zopiclone"} <= named
    advised = {
        (name, word)
        for name, text in texts.items()
        for word in FRACTION_WORDS
        if re.search(rf"\b{word}\b", text)
    }
    assert ("stop_letter.docx", "halve") in advised
    for name, word in sorted(advised):
        for substance in sorted(named):
            assert any(p.parts % FRACTION_WORDS[word] == 0 for p in products(substance)), (
                f"{name} advises '{word}', which no shipped {substance} product allows"
            )


def test_default_templates_use_only_documented_fields() -> None:
    for name in ("stop_letter.docx", "invitation.docx"):
        fields = DocxLetterTemplate(TEMPLATE_DIR / name).fields
        assert fields <= set(LETTER_FIELDS), fields - set(LETTER_FIELDS)
    assert DocxLetterTemplate(TEMPLATE_DIR / "labels.docx").fields == {"label_rows"}


@pytest.mark.parametrize(
    ("patient", "salutation", "address_name"),
    [
        (
            {"sex": "M", "initials": "J.", "family_name": "Jansen"},
            "Geachte heer Jansen",
            "De heer J. Jansen",
        ),
        (
            {"sex": "F", "initials": "A.", "name_prefix": "van den", "family_name": "Berg"},
            "Geachte mevrouw Van den Berg",
            "Mevrouw A. van den Berg",
        ),
        (
            {"sex": "M", "name_prefix": "'t", "family_name": "Hart"},
            "Geachte heer 't Hart",
            "De heer 't Hart",
        ),
        ({"sex": "X", "initials": "K.", "family_name": "Smit"}, "Geachte K. Smit", "K. Smit"),
        ({"family_name": "Smit"}, "Geachte heer/mevrouw Smit", "Smit"),
    ],
)
def test_salutation_and_address_follow_dutch_usage(
    patient: dict[str, Any], salutation: str, address_name: str
) -> None:
    fields = address_fields(patient)
    assert (fields["salutation"], fields["address_name"]) == (salutation, address_name)


def test_stop_letters_for_hostile_names_and_addresses(tmp_path: Path) -> None:
    table = patients()
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12", pharmacists=True)
    out = render_letters(letters, table, PRACTICE, tmp_path / "out", place="Nieuwegein")
    assert dict(out.skipped) == {
        "p4": "incomplete name or address: street empty",
        "p5": "status deceased",
    }
    made = {letter.patient_id: path for letter, path in out.letters}
    assert sorted(made) == ["p1", "p2", "p3", "p6"]
    first = texts(made["p1"])
    assert first[:3] == ["Mevrouw A. van 't Hof & Zn", "Lange Gracht 1 & 3", "1234 AB  EDE"]
    assert "Nieuwegein, 12 januari 2026" in first
    assert "Geachte mevrouw Van 't Hof & Zn," in first
    # The patient's own GP signs: the name, and the role on the line under it.
    assert first[first.index("J. 't Hooft") + 1] == "huisarts"
    assert "apotheker, Apotheek <De Brug>" in first
    assert 'A. "Ank" de Graaf' not in first
    second = texts(made["p2"])
    assert second[:3] == ["De heer J. de <Vries>", "Dorpsstraat 2-bis <a>", "2345 BC  ZEIST"]
    assert 'A. "Ank" de Graaf' in second
    assert texts(made["p3"])[0] == 'K. O"Brien'
    header = docx.Document(str(made["p2"])).sections[0].header.paragraphs[0].text
    assert header == "Huisartsen Rijn & Lek <Oost>"
    merged = out.merged["stop_letter", None]
    greetings = [t for t in texts(merged) if t.startswith("Geachte")]
    assert greetings == [
        "Geachte mevrouw Van 't Hof & Zn,",
        "Geachte heer De <Vries>,",
        'Geachte K. O"Brien,',
        "Geachte heer 't Hart,",
    ]
    for path in out.paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_batches_get_their_own_merged_document(tmp_path: Path) -> None:
    table = patients()
    plan = plan_schedule(
        table[table.patient_id.isin(["p1", "p2", "p3"])], "2026-01-12", batch_size=2
    )
    batches = dict(zip(plan.table.patient_id, plan.table.batch, strict=True))
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12", batches=batches)
    letters = [lt for lt in letters if lt.patient_id in batches]
    out = render_letters(letters, table, PRACTICE, tmp_path)
    assert set(out.merged) == {("stop_letter", 1), ("stop_letter", 2)}
    assert out.merged["stop_letter", 1].name == "stop_letter-batch-01.docx"
    second = [t for t in texts(out.merged["stop_letter", 2]) if t.startswith("Geachte")]
    assert second == ['Geachte K. O"Brien,']


def test_invitations_with_the_schedule(tmp_path: Path) -> None:
    table = patients().iloc[:2]
    plan = plan_schedule(table, "2026-01-12", slot_times=["10:00", "10:20"])
    extra = invitation_fields(plan, appointments=True, consult_with="de praktijkondersteuner")
    letters = plan_letters(
        table, practice=PRACTICE, letter_date="2026-04-13", kind="invitation", signed_by="all_gps"
    )
    out = render_letters(letters, table, PRACTICE, tmp_path, extra=extra)
    text = texts(out.letters[0][1])
    assert any(t.startswith("Op 12 januari 2026 kreeg u van ons een brief") for t in text)
    assert any(
        "afspraak voor u gemaakt op maandag 20 april 2026 om 10.00 uur bij de "
        "praktijkondersteuner" in t
        for t in text
    )
    # With an appointment the practice phones those who do not come: no call date.
    assert not any("27 april" in t or "rond" in t for t in text)
    assert (
        "Komt u niet en horen wij niets van u? Dan bellen wij u na de afspraak om een "
        "nieuw moment te zoeken." in text
    )
    assert "J. 't Hooft" in text
    assert 'A. "Ank" de Graaf' in text
    plain = render_letters(letters, table, PRACTICE, tmp_path / "plain")
    text = texts(plain.letters[0][1])
    assert "Wij vragen u een afspraak te maken. Bel daarvoor de praktijk op 030-1234567." in text
    assert not any("bellen wij u" in t for t in text)
    asked = invitation_fields(plan)  # no appointment: the call for those who do not phone
    called = render_letters(letters, table, PRACTICE, tmp_path / "called", extra=asked)
    text = texts(called.letters[0][1])
    assert (
        "Horen wij niets van u? Dan bellen wij u rond 27 april 2026 om een afspraak te "
        "maken." in text
    )


def test_own_gp_must_belong_to_the_practice() -> None:
    table = pd.DataFrame({"patient_id": ["p1", "p2"], "gp_id": ["g1", "locum"]})
    with pytest.raises(LetterError, match="gp_id 'locum': 1 patient"):
        plan_letters(table, practice=PRACTICE, letter_date="2026-01-12")
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12", signed_by="all_gps")
    assert [lt.gp_ids for lt in letters] == [("g1", "g2"), ("g1", "g2")]


def test_plan_takes_only_eligible_rows_of_a_screening() -> None:
    table = pd.DataFrame(
        {"patient_id": ["p1", "p2"], "gp_id": ["g1", "g1"], "eligible": [False, True]}
    )
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12")
    assert [lt.patient_id for lt in letters] == ["p2"]


def test_patient_missing_from_the_table_is_skipped_with_a_reason(tmp_path: Path) -> None:
    letter = StopLetter(patient_id="zz", gp_ids=["g1"], letter_date=dt.date(2026, 1, 12))
    out = render_letters([letter], patients(), PRACTICE, tmp_path)
    assert out.skipped == (("zz", "not in the patients table"),)
    assert out.letters == ()
    assert not list(tmp_path.iterdir())


def test_labels_sheet(tmp_path: Path) -> None:
    path, skipped = render_labels(
        ["p1", "p2", "p3", "p4", "p6"], patients(), tmp_path / "labels.docx", on="2026-01-12"
    )
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert skipped == (("p4", "incomplete name or address: street empty"),)
    rows = docx.Document(str(path)).tables[0].rows
    cells = [[c.text for c in row.cells] for row in rows]
    assert cells[0][1] == "De heer J. de <Vries>\nDorpsstraat 2-bis <a>\n2345 BC  ZEIST"
    assert cells[1] == ["De heer 't Hart\nWeg 6\n6789 FG  ERMELO", "", ""]


class OwnStyle:
    name = "rijn-lek"
    description = "test style"

    def __init__(self, template: Path, context: dict[str, Any]) -> None:
        self._template = template
        self._context = context

    def template(self, kind: Any) -> Path | None:
        return self._template if kind == "stop_letter" else None

    def context(self) -> dict[str, Any]:
        return self._context


def own_template(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("{{ practice_name }} | {{ motto }}")
    document.add_paragraph("{{ salutation }}, {{ extra_line }}")
    document.save(str(path))
    return path


class Fields:
    @hookimpl
    def benzoredux_letter_fields(self, kind: Any, patient: Any, letter_date: dt.date) -> Any:
        return {
            "extra_line": f"{kind.value} {letter_date.isoformat()} for {patient['family_name']}"
        }


def test_a_practice_style_and_plugin_fields(tmp_path: Path) -> None:
    style = OwnStyle(
        own_template(tmp_path / "own.docx"), {"practice_name": "Rijn & Lek", "motto": "<samen>"}
    )

    class Styles:
        @hookimpl
        def benzoredux_register_house_styles(self, register: Any) -> None:
            register(style)

    table = patients().iloc[:1]
    letters = plan_letters(table, practice=PRACTICE, letter_date="2026-01-12")
    with using_plugins(Styles(), Fields(), entry_points=False):
        out = render_letters(letters, table, PRACTICE, tmp_path / "out", style="rijn-lek")
        assert texts(out.letters[0][1]) == [
            "Rijn & Lek | <samen>",
            "Geachte mevrouw Van 't Hof & Zn, stop_letter 2026-01-12 for Hof & Zn",
        ]
        # The style has no invitation: the default one is used.
        invitations = plan_letters(
            table, practice=PRACTICE, letter_date="2026-04-13", kind="invitation"
        )
        out = render_letters(invitations, table, PRACTICE, tmp_path / "inv", style="rijn-lek")
        assert (
            "Rijn & Lek"
            in docx.Document(str(out.letters[0][1])).sections[0].header.paragraphs[0].text
        )


def test_style_may_not_replace_patient_fields(tmp_path: Path) -> None:
    style = OwnStyle(own_template(tmp_path / "own.docx"), {"salutation": "Hoi"})

    class Styles:
        @hookimpl
        def benzoredux_register_house_styles(self, register: Any) -> None:
            register(style)

    letters = plan_letters(patients().iloc[:1], practice=PRACTICE, letter_date="2026-01-12")
    with (
        using_plugins(Styles(), entry_points=False),
        pytest.raises(LetterError, match="salutation"),
    ):
        render_letters(letters, patients(), PRACTICE, tmp_path, style="rijn-lek")


def test_plugin_field_may_not_replace_a_library_field(tmp_path: Path) -> None:
    class Clash:
        @hookimpl
        def benzoredux_letter_fields(self, kind: Any, patient: Any, letter_date: Any) -> Any:
            return {"salutation": "Hoi"}

    letters = plan_letters(patients().iloc[:1], practice=PRACTICE, letter_date="2026-01-12")
    with using_plugins(Clash(), entry_points=False), pytest.raises(PluginError, match="salutation"):
        render_letters(letters, patients(), PRACTICE, tmp_path)


def test_unknown_style_is_named(tmp_path: Path) -> None:
    letters = plan_letters(patients().iloc[:1], practice=PRACTICE, letter_date="2026-01-12")
    with pytest.raises(LetterError, match="unknown house style 'fancy'; known styles: default"):
        render_letters(letters, patients(), PRACTICE, tmp_path, style="fancy")


def test_outputs_written_hook_gets_counts_only(tmp_path: Path) -> None:
    seen: list[tuple[str, int, dict[str, Any]]] = []

    class Listener:
        @hookimpl
        def benzoredux_outputs_written(self, step: str, paths: Any, summary: Any) -> None:
            seen.append((step, len(paths), dict(summary)))

    letters = plan_letters(patients().iloc[:2], practice=PRACTICE, letter_date="2026-01-12")
    with using_plugins(Listener(), entry_points=False):
        render_letters(letters, patients(), PRACTICE, tmp_path)
    assert seen == [("letters", 3, {"letters": 2, "merged": 1, "skipped": 0})]


def test_pdf_without_libreoffice_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benzoredux.letters import compose

    monkeypatch.setattr(compose, "find_libreoffice", lambda: None)
    letters = plan_letters(patients().iloc[:1], practice=PRACTICE, letter_date="2026-01-12")
    with pytest.raises(LetterError, match="apt install libreoffice-writer"):
        render_letters(letters, patients(), PRACTICE, tmp_path, pdf=True)
    out = render_letters(letters, patients(), PRACTICE, tmp_path / "auto", pdf="auto")
    assert out.pdfs == ()


@pytest.mark.skipif(find_libreoffice() is None, reason="LibreOffice (soffice) is not installed")
def test_pdf_with_libreoffice(tmp_path: Path) -> None:  # pragma: no cover - needs LibreOffice
    letters = plan_letters(patients().iloc[:2], practice=PRACTICE, letter_date="2026-01-12")
    out = render_letters(letters, patients(), PRACTICE, tmp_path, pdf=True)
    assert len(out.pdfs) == 1
    pdf = out.pdfs[0]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600


@pytest.mark.skipif(find_libreoffice() is None, reason="LibreOffice (soffice) is not installed")
def test_letters_fit_on_one_page(tmp_path: Path) -> None:  # pragma: no cover - needs LibreOffice
    # Worst case: long names and address, every GP and the pharmacist sign, an appointment.
    long = pd.DataFrame(
        {
            "patient_id": ["p1"],
            "gp_id": ["g1"],
            "sex": ["F"],
            "initials": ["A.B.C."],
            "name_prefix": ["van der"],
            "family_name": ["Langenaamgeversdochter-Verhoeven"],
            "street": ["Burgemeester van Reenensingel"],
            "house_number": ["123 bis"],
            "postcode": ["1234AB"],
            "city": ["Gemeente Ergens"],
        }
    )
    plan = plan_schedule(long, "2026-01-12", slot_times=["09:00", "09:30"])
    extra = invitation_fields(plan, appointments=True, consult_with="de praktijkondersteuner")
    for kind in ("stop_letter", "invitation"):
        letters = plan_letters(
            long, practice=PRACTICE, letter_date="2026-01-12", kind=kind, signed_by="all_gps",
            pharmacists=True,
        )  # fmt: skip
        out = render_letters(letters, long, PRACTICE, tmp_path / kind, extra=extra, pdf=True)
        pages = re.findall(rb"/Type\s*/Page[^s]", out.pdfs[0].read_bytes())
        assert len(pages) == 1, kind
