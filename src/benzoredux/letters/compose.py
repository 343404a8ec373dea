"""Stop letters and invitations for the screened patients (FTO module, steps 3 and 4).

:func:`plan_letters` turns the eligible patients of a screening into :class:`~benzoredux.StopLetter`
records (who signs, which date, which batch); :func:`render_letters` merges them with the
patients' names and addresses into one ``.docx`` per patient and one printable document per
batch (and PDF when LibreOffice is installed); :func:`render_labels` prints the address-label
sheet, the seed's alternative to merged letters.

Fields a template can use are listed in :data:`LETTER_FIELDS`; the house style's
``context()`` and the ``benzoredux_letter_fields`` hook add more. A letter is never sent to a
patient whose address is incomplete or who left the practice: such patients come back in
:attr:`LetterOutput.skipped` with the reason, never silently dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import narwhals as nw
from attrs import frozen
from narwhals.typing import IntoFrame

from benzoredux.dates import DateLike, parse_reference_date
from benzoredux.errors import BenzoreduxError, describe_columns
from benzoredux.letters.default_style import DEFAULT_STYLE, default_template
from benzoredux.letters.rendering import DocxLetterTemplate, render_docx_batch
from benzoredux.models import LetterKind, Practice, StopLetter
from benzoredux.output import private_file
from benzoredux.practice_file import role_in_name

__all__ = [
    "LETTER_FIELDS",
    "NAME_PART_LENGTH",
    "LetterError",
    "LetterOutput",
    "address_fields",
    "find_libreoffice",
    "plan_letters",
    "render_labels",
    "render_letters",
    "to_pdf",
]

LETTER_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "patient_id": "The patient's (pseudonymous) id.",
        "kind": "stop_letter or invitation.",
        "letter_date": "The date printed on the letter (prints as 3 maart 2026).",
        "batch": "The sending batch number, or empty.",
        "salutation": "Geachte heer Jansen / Geachte mevrouw De Vries / Geachte J. de Wit.",
        "address_name": "First address line: De heer J. Jansen / Mevrouw A. de Vries.",
        "address_street": "Street and house number.",
        "address_city": "Postcode and city as PostNL asks: 1234 AB  AMSTERDAM.",
        "address_lines": "The three address lines as a list.",
        "name": "Initials, tussenvoegsel and family name: J. de Vries.",
        "initials": "From the patients table (may be empty), as are the fields below.",
        "first_name": "",
        "name_prefix": "",
        "family_name": "",
        "street": "",
        "house_number": "",
        "postcode": "Normalised to 1234 AB.",
        "city": "",
        "sex": "M, F or X.",
        "gp_names": "The signing GPs' names, joined with 'en'.",
        "signatories": "List of {name, role} for everyone who signs (GPs, then pharmacists); "
        "a name holding a role (A. de Vries, huisarts) is refused.",
        "practice_name": "From the Practice record, or the house style.",
        "practice_address": "",
        "practice_phone": "",
        "practice_city": "The place in the date line (the place= option, or the house style).",
        "stop_letter_date": "Invitations: the date of the stop letter.",
        "appointment": "Invitations: the planned consult as text, or empty (patient phones).",
        "consult_with": "Invitations: who holds the consult (de huisarts, de POH-GGZ), or empty.",
        "call_date": "Invitations without an appointment: when the practice phones if the "
        "patient has not made one. Empty when the invitation gives an appointment.",
    }
)
"""Every field the library fills for a letter, with what it holds."""

_PRACTICE_FIELDS = frozenset(
    {"practice_name", "practice_address", "practice_phone", "practice_city"}
)
_SCHEDULE_FIELDS = frozenset({"stop_letter_date", "appointment", "consult_with", "call_date"})
_REQUIRED = ("family_name", "street", "house_number", "postcode", "city")
_PATIENT_COLUMNS = (
    "patient_id",
    "sex",
    "initials",
    "first_name",
    "name_prefix",
    "family_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "status",
    "status_date",
)


class LetterError(BenzoreduxError, ValueError):
    """Letters cannot be made as asked (unknown GP, unknown style, no LibreOffice, ...)."""


@frozen
class LetterOutput:
    """What :func:`render_letters` wrote."""

    letters: tuple[tuple[StopLetter, Path], ...]
    """One ``.docx`` per letter, with its record."""
    merged: Mapping[tuple[str, int | None], Path]
    """One printable ``.docx`` per kind and batch (batch ``None``: letters without one)."""
    pdfs: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...]
    """``(patient_id, reason)`` for every letter not made (incomplete address, left the
    practice, not in the patients table)."""

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (*(path for _, path in self.letters), *self.merged.values(), *self.pdfs)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):  # missing, from pandas
        return ""
    return str(value).strip()


def _postcode(value: str) -> str:
    compact = value.replace(" ", "").upper()
    if re.fullmatch(r"[1-9][0-9]{3}[A-Z]{2}", compact):
        return f"{compact[:4]} {compact[4:]}"
    return value


def _capitalised(prefix: str) -> str:
    """A tussenvoegsel at the start of a name: ``de`` -> ``De``; ``'t`` stays ``'t``."""
    return prefix[:1].upper() + prefix[1:] if prefix[:1].isalpha() else prefix


def address_fields(patient: Mapping[str, Any]) -> dict[str, Any]:
    """Name and address fields of one patient, written the Dutch way.

    >>> fields = address_fields({"sex": "F", "initials": "A.", "name_prefix": "van den",
    ...     "family_name": "Berg", "street": "Dorpsstraat", "house_number": "1a",
    ...     "postcode": "1234ab", "city": "Ede"})
    >>> fields["salutation"], fields["address_name"], fields["address_city"]
    ('Geachte mevrouw Van den Berg', 'Mevrouw A. van den Berg', '1234 AB  EDE')
    """
    values = {name: _text(patient.get(name)) for name in _PATIENT_COLUMNS if name != "patient_id"}
    sex = values["sex"].upper()
    prefix, family, initials = values["name_prefix"], values["family_name"], values["initials"]
    formal = " ".join(p for p in (initials, prefix, family) if p)
    surname = " ".join(p for p in (_capitalised(prefix), family) if p)
    if sex == "M":
        salutation, address_name = f"Geachte heer {surname}", f"De heer {formal}"
    elif sex == "F":
        salutation, address_name = f"Geachte mevrouw {surname}", f"Mevrouw {formal}"
    elif initials:
        salutation, address_name = f"Geachte {formal}", formal
    else:
        salutation, address_name = f"Geachte heer/mevrouw {surname}", formal
    postcode = _postcode(values["postcode"])
    street = " ".join(p for p in (values["street"], values["house_number"]) if p)
    city = "  ".join(p for p in (postcode, values["city"].upper()) if p)
    return {
        **{name: values[name] for name in values if name not in {"status", "status_date"}},
        "postcode": postcode,
        "sex": sex,
        "name": formal,
        "salutation": salutation,
        "address_name": address_name,
        "address_street": street,
        "address_city": city,
        "address_lines": [address_name, street, city],
    }


def plan_letters(
    patients: IntoFrame | Iterable[str],
    *,
    practice: Practice,
    letter_date: DateLike,
    kind: LetterKind | str = LetterKind.STOP_LETTER,
    signed_by: Literal["own_gp", "all_gps"] = "own_gp",
    pharmacists: bool = False,
    batches: Mapping[str, int] | None = None,
    template: str = "default",
) -> list[StopLetter]:
    """One :class:`~benzoredux.StopLetter` per patient to write to.

    :param patients: patient ids, or a table with ``patient_id`` (and ``gp_id``): a screening
        table gives the rows whose ``eligible`` is true.
    :param signed_by: ``own_gp`` (default): the GP the patient is listed with (``gp_id``),
        which must be one of the practice's GPs; ``all_gps``: every GP of the practice (the FTO
        group sends on one day).
    :param pharmacists: the practice's pharmacists sign too.
    :param batches: a batch number per patient id (from the sending schedule).
    """
    date = parse_reference_date(letter_date, name="letter_date")
    rows: list[tuple[str, str | None]]
    if isinstance(patients, Iterable) and not _is_frame(patients):
        rows = [(str(p), None) for p in patients]
    else:
        frame = nw.from_native(cast(Any, patients))
        eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
        if "eligible" in eager.columns:
            eager = eager.filter(nw.col("eligible"))
        gp = (
            nw.col("gp_id").cast(nw.String) if "gp_id" in eager.columns else nw.lit(None, nw.String)
        )
        rows = [
            (str(p), g)
            for p, g in eager.select(nw.col("patient_id").cast(nw.String), gp.alias("g")).rows()
        ]
    known = {gp.gp_id for gp in practice.gps}
    if not known:
        raise LetterError(f"practice {practice.practice_id} has no GPs to sign the letters")
    pharmacist_ids = tuple(p.pharmacist_id for p in practice.pharmacists) if pharmacists else ()
    if pharmacists and not pharmacist_ids:
        raise LetterError(f"practice {practice.practice_id} has no pharmacists to co-sign")
    letters = []
    unknown: dict[str, list[str]] = {}
    for patient_id, gp_id in rows:
        if signed_by == "all_gps":
            signers = tuple(gp.gp_id for gp in practice.gps)
        elif gp_id in known:
            signers = (str(gp_id),)
        else:
            unknown.setdefault(str(gp_id), []).append(patient_id)
            continue
        letters.append(
            StopLetter(
                patient_id=patient_id,
                kind=LetterKind(kind),
                gp_ids=cast(Any, signers),
                pharmacist_ids=cast(Any, pharmacist_ids),
                letter_date=date,
                batch=(batches or {}).get(patient_id),
                template=template,
            )
        )
    if unknown:
        shown = "; ".join(
            f"gp_id {gp!r}: {len(ids)} patient(s), e.g. {ids[0]}" for gp, ids in unknown.items()
        )
        raise LetterError(
            f"signed_by='own_gp', but the GP of some patients is not one of the practice's GPs "
            f"({', '.join(sorted(known))}): {shown}. Add the GP to the practice, or use "
            "signed_by='all_gps'"
        )
    return letters


def _is_frame(value: object) -> bool:
    try:
        nw.from_native(cast(Any, value))
    except TypeError:
        return False
    return True


def _style(name: str) -> Any:
    if name == DEFAULT_STYLE.name:
        from benzoredux.plugins import get_plugins

        return get_plugins().house_styles().get(name, DEFAULT_STYLE)
    from benzoredux.plugins import get_plugins

    styles = get_plugins().house_styles()
    if name not in styles:
        raise LetterError(f"unknown house style {name!r}; known styles: {', '.join(styles)}")
    return styles[name]


def _template_path(style: Any, kind: LetterKind | Literal["labels"]) -> Path:
    if kind == "labels":
        chooser = getattr(style, "labels_template", None)
        chosen = chooser() if callable(chooser) else None
    else:
        chosen = style.template(kind)
    return Path(chosen) if chosen is not None else default_template(kind)


def _patient_rows(patients: IntoFrame, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    frame = nw.from_native(cast(Any, patients))
    eager = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    if "patient_id" not in eager.columns:
        raise LetterError(
            f"patients: no column 'patient_id'; columns found: {describe_columns(eager.columns)}"
        )
    present = [c for c in _PATIENT_COLUMNS if c in eager.columns]
    wanted = eager.select(*present).with_columns(nw.col("patient_id").cast(nw.String))
    wanted = wanted.filter(nw.col("patient_id").is_in(list(ids)))
    rows: dict[str, dict[str, Any]] = {}
    for row in wanted.rows(named=True):
        if row["patient_id"] in rows:
            raise LetterError(f"patients: patient {row['patient_id']!r} occurs more than once")
        rows[row["patient_id"]] = row
    return rows


def _skip_reason(row: Mapping[str, Any] | None, letter_date: dt.date) -> str | None:
    if row is None:
        return "not in the patients table"
    status = _text(row.get("status")) or "active"
    if status != "active":
        since = row.get("status_date")
        since_date = since.date() if isinstance(since, dt.datetime) else since
        if since_date is None or since_date <= letter_date:
            return f"status {status}"
    missing = [name for name in _REQUIRED if not _text(row.get(name))]
    if missing:
        return f"incomplete name or address: {', '.join(missing)} empty"
    return None


def _signatory(name: str, role: str, who: str, practice: Practice) -> dict[str, str]:
    """One signatory; a name that holds a role too would print it twice under the letter."""
    found = role_in_name(name)
    if found is not None:
        raise LetterError(
            f"practice {practice.practice_id}: the name of {who} holds the role '{found}', and "
            f"the letter prints the role ('{role}') under the name, so it would appear twice; "
            'give the name only (in practice.toml: name = "A. de Vries")'
        )
    return {"name": name, "role": role}


def _signatories(letter: StopLetter, practice: Practice) -> list[dict[str, str]]:
    people = [
        _signatory(practice.gp(gp_id).name, "huisarts", f"GP {gp_id!r}", practice)
        for gp_id in letter.gp_ids
    ]
    by_id = {p.pharmacist_id: p for p in practice.pharmacists}
    for pharmacist_id in letter.pharmacist_ids:
        if pharmacist_id not in by_id:
            raise LetterError(
                f"practice {practice.practice_id} has no pharmacist {pharmacist_id!r}"
            )
        pharmacist = by_id[pharmacist_id]
        role = "apotheker" + (f", {pharmacist.pharmacy_name}" if pharmacist.pharmacy_name else "")
        people.append(_signatory(pharmacist.name, role, f"pharmacist {pharmacist_id!r}", practice))
    return people


def _fields(
    letter: StopLetter,
    *,
    row: Mapping[str, Any],
    practice: Practice,
    style: Any,
    place: str | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    from benzoredux.plugins import get_plugins

    signatories = _signatories(letter, practice)
    fields: dict[str, Any] = {
        "patient_id": letter.patient_id,
        "kind": letter.kind.value,
        "letter_date": letter.letter_date,
        "batch": letter.batch,
        **address_fields(row),
        "gp_names": " en ".join(s["name"] for s in signatories if s["role"] == "huisarts"),
        "signatories": signatories,
        "practice_name": practice.name,
        "practice_address": practice.address or "",
        "practice_phone": practice.phone or "",
        "practice_city": place or "",
        **dict.fromkeys(_SCHEDULE_FIELDS),
    }
    style_fields = dict(style.context())
    clash = sorted(set(style_fields) & (set(fields) - _PRACTICE_FIELDS))
    if clash:
        raise LetterError(
            f"house style {style.name!r} gives field(s) {', '.join(clash)}, which the library "
            "fills; a style may set only the practice_* fields and new ones"
        )
    fields.update(style_fields)
    clash = sorted((set(extra) & set(fields)) - _SCHEDULE_FIELDS)
    if clash:
        raise LetterError(f"extra fields {', '.join(clash)} would replace the library's own")
    fields.update(extra)
    fields.update(
        get_plugins().letter_fields(letter.kind, MappingProxyType(dict(fields)), letter.letter_date)
    )
    return fields


NAME_PART_LENGTH = 64
"""The longest part of a letter's file name taken from a patient id. File systems allow 255
bytes per name (ext4, NTFS, APFS) and a letter is first written to a temporary name about 30
characters longer (``.stop_letter-<id>.docx.<random>.tmp``); a vendor may give ids of any
length (issue 16: a 300-character id failed after 6 of 15 letters). 64 keeps every name far
below the limit, also in a deep folder on Windows, and longer than any real patient number."""


def _digest(patient_id: str, length: int) -> str:
    return hashlib.sha256(patient_id.encode()).hexdigest()[:length]


def _safe_name(patient_id: str) -> str:
    """A file-name part from a patient id (which a vendor may give any characters and length).

    A plain id (letters, digits, ``_.-``) of at most :data:`NAME_PART_LENGTH` characters is
    used as it is. Other characters become ``_`` and an 8-character hash of the id follows, so
    ``a/b`` and ``a_b`` stay apart. A longer id is cut and followed by a 16-character hash of
    the whole id: stable from run to run, and distinct ids get distinct names (a shared
    prefix does not matter). Names that differ only in case are told apart by
    :func:`_file_names`.

    >>> _safe_name("p001"), _safe_name("a/b")
    ('p001', 'a_b-c14cddc0')
    >>> len(_safe_name("9" * 300))
    64
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", patient_id).strip(".") or "patient"
    if cleaned == patient_id and len(cleaned) <= NAME_PART_LENGTH:
        return cleaned
    if len(cleaned) + 9 <= NAME_PART_LENGTH:
        return f"{cleaned}-{_digest(patient_id, 8)}"
    return f"{cleaned[: NAME_PART_LENGTH - 17]}-{_digest(patient_id, 16)}"


def _file_names(letters: Sequence[StopLetter]) -> dict[tuple[str, LetterKind], str]:
    """Per letter (patient id and kind), the file name of its document, all of them distinct
    also where a file system ignores case (Windows, macOS): there ``P1`` and ``p1`` would be one
    file, the second letter replacing the first, so such names get the id's hash too."""
    base = {
        (lt.patient_id, lt.kind): f"{lt.kind.value}-{_safe_name(lt.patient_id)}" for lt in letters
    }
    seen: dict[str, int] = {}
    for name in base.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    names = {
        key: (f"{name}-{_digest(key[0], 16)}" if seen[name.casefold()] > 1 else name) + ".docx"
        for key, name in base.items()
    }
    if len({n.casefold() for n in names.values()}) != len(names):  # pragma: no cover - a hash clash
        raise LetterError("two letters would get the same file name; nothing was written")
    return names


def render_letters(
    letters: Sequence[StopLetter],
    patients: IntoFrame,
    practice: Practice,
    out_dir: str | os.PathLike[str],
    *,
    style: str = "default",
    place: str | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    merged: bool = True,
    pdf: bool | Literal["auto"] = False,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> LetterOutput:
    """Write one ``.docx`` per letter and one merged printable ``.docx`` per batch.

    :param letters: from :func:`plan_letters` (all of one kind, or several: each kind gets its
        own template and merged documents).
    :param patients: the :data:`~benzoredux.tables.PATIENTS` table with names and addresses.
    :param practice: the practice, its GPs and pharmacists (who sign).
    :param out_dir: the folder to write to (files are private, ``0o600``, and atomic).
    :param style: the house style's name (``default``, or one a plugin registers).
    :param place: the place in the date line (``Ede, 3 maart 2026``).
    :param extra: per patient id, extra fields (the schedule's ``appointment``, ``call_date``,
        ``consult_with``, ``stop_letter_date``).
    :param pdf: ``True``: also PDF (needs LibreOffice, else :class:`LetterError`); ``"auto"``:
        PDF when LibreOffice is installed.
    :param progress: called with the number of letters done (written or skipped) after each
        batch: a progress bar's ``update``.
    :returns: the files written and the patients skipped, with reasons.
    """
    chosen = _style(style)
    out = Path(out_dir)
    ids = [letter.patient_id for letter in letters]
    if len(set(zip(ids, (lt.kind for lt in letters), strict=True))) != len(letters):
        raise LetterError("a patient has two letters of the same kind in one call")
    rows = _patient_rows(patients, ids)
    skipped: list[tuple[str, str]] = []
    jobs: dict[LetterKind, list[tuple[StopLetter, dict[str, Any]]]] = {}
    for letter in letters:
        row = rows.get(letter.patient_id)
        reason = _skip_reason(row, letter.letter_date)
        if reason is not None:
            skipped.append((letter.patient_id, reason))
            continue
        fields = _fields(
            letter,
            row=cast(Mapping[str, Any], row),
            practice=practice,
            style=chosen,
            place=place,
            extra=(extra or {}).get(letter.patient_id, {}),
        )
        jobs.setdefault(letter.kind, []).append((letter, fields))
    if progress is not None and skipped:
        progress(len(skipped))
    written: list[tuple[StopLetter, Path]] = []
    merged_paths: dict[tuple[str, int | None], Path] = {}
    # Everything that can be checked is checked before the first file is written: each
    # letter's file name (distinct, short enough whatever the id), the templates' fields for
    # every letter of every batch, and the folders. A batch is rendered in memory before it is
    # written, so a problem found later still leaves no half-written batch.
    names = _file_names([letter for items in jobs.values() for letter, _ in items])
    templates = {kind: DocxLetterTemplate(_template_path(chosen, kind)) for kind in jobs}
    for kind, items in jobs.items():
        for number, (letter, fields) in enumerate(items, start=1):
            name = names[letter.patient_id, kind]
            templates[kind].check_fields(fields.keys(), where=f" (letter {number}, {name})")
        (out / kind.value).mkdir(parents=True, exist_ok=True)
    for kind, items in jobs.items():
        template = templates[kind]
        by_batch: dict[int | None, list[tuple[StopLetter, dict[str, Any]]]] = {}
        for letter, fields in items:
            by_batch.setdefault(letter.batch, []).append((letter, fields))
        for batch, group in sorted(
            by_batch.items(), key=lambda item: (item[0] is None, item[0] or 0)
        ):
            suffix = "all" if batch is None else f"batch-{batch:02d}"
            target = out / kind.value
            merged_path = out / f"{kind.value}-{suffix}.docx" if merged else None
            result = render_docx_batch(
                template,
                [(f, target / names[lt.patient_id, kind]) for lt, f in group],
                merged=merged_path,
                workers=workers,
            )
            written.extend(
                (letter, path) for (letter, _), path in zip(group, result.paths, strict=True)
            )
            if merged_path is not None:
                merged_paths[kind.value, batch] = merged_path
            if progress is not None:
                progress(len(group))
    pdfs: tuple[Path, ...] = ()
    want_pdf = pdf is True or (pdf == "auto" and find_libreoffice() is not None)
    if want_pdf and (written or merged_paths):
        pdfs = to_pdf([*merged_paths.values()] or [path for _, path in written], out / "pdf")
    output = LetterOutput(
        letters=tuple(written), merged=merged_paths, pdfs=pdfs, skipped=tuple(skipped)
    )
    from benzoredux.plugins import get_plugins

    get_plugins().outputs_written(
        "letters",
        output.paths,
        {"letters": len(written), "merged": len(merged_paths), "skipped": len(skipped)},
    )
    return output


def render_labels(
    patient_ids: Iterable[str] | Sequence[StopLetter],
    patients: IntoFrame,
    out: str | os.PathLike[str],
    *,
    on: DateLike,
    style: str = "default",
) -> tuple[Path | None, tuple[tuple[str, str], ...]]:
    """Write the address-label sheet (3 x 8 labels a page); returns the path and the skipped.

    Patients with an incomplete address or who left the practice are skipped (with the reason),
    as for letters (``on`` is the date the status is checked for); with nobody left, nothing is
    written and the path is ``None``.
    """
    ids = [p.patient_id if isinstance(p, StopLetter) else str(p) for p in patient_ids]
    rows = _patient_rows(patients, ids)
    today = parse_reference_date(on, name="on")
    skipped: list[tuple[str, str]] = []
    labels: list[str] = []
    for patient_id in ids:
        row = rows.get(patient_id)
        reason = _skip_reason(row, today)
        if reason is not None:
            skipped.append((patient_id, reason))
            continue
        labels.append("\n".join(address_fields(cast(Mapping[str, Any], row))["address_lines"]))
    if not labels:
        return None, tuple(skipped)
    padded = labels + [""] * (-len(labels) % 3)
    label_rows = [padded[i : i + 3] for i in range(0, len(padded), 3)]
    template = DocxLetterTemplate(_template_path(_style(style), "labels"))
    from benzoredux.letters.rendering import render_docx

    path = render_docx(template, {"label_rows": label_rows}, out)
    return path, tuple(skipped)


def find_libreoffice() -> str | None:
    """The LibreOffice program (``soffice``/``libreoffice``) on the ``PATH``, or ``None``."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def to_pdf(
    documents: Sequence[Path], out_dir: str | os.PathLike[str], *, timeout: float = 600
) -> tuple[Path, ...]:
    """Convert ``.docx`` files to PDF with LibreOffice, privately (one LibreOffice run).

    LibreOffice writes with the user's default permissions, so it writes into a private
    temporary folder, and each PDF is then copied into place owner-only and atomically.
    """
    program = find_libreoffice()
    if program is None:
        raise LetterError(
            "PDF needs LibreOffice (soffice), which is not installed; install it "
            "(Debian/Ubuntu: apt install libreoffice-writer) or leave PDF off"
        )
    target = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="benzoredux-pdf-") as work:
        os.chmod(work, 0o700)
        profile = Path(work) / "profile"
        command = [
            program,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(Path(work) / "out"),
            *(str(Path(d).resolve()) for d in documents),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)  # noqa: S603
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise LetterError(
                f"LibreOffice could not convert the letters to PDF: {error}"
            ) from None
        paths = []
        for document in documents:
            produced = Path(work) / "out" / (Path(document).stem + ".pdf")
            if not produced.exists():
                raise LetterError(f"LibreOffice made no PDF of {Path(document).name}")
            path = target / produced.name
            with private_file(path, "wb") as handle, produced.open("rb") as source:
                shutil.copyfileobj(source, handle)
            with contextlib.suppress(OSError):
                produced.unlink()
            paths.append(path)
    return tuple(paths)
