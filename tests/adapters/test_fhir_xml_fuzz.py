"""A fuzzer of the FHIR reader on XML (issue 18): damaged FHIR XML never crashes or leaks.

The same valid little source as the JSON fuzzer (:mod:`.test_fhir_fuzz`: a Practitioner, a
Patient, a Medication, a MedicationRequest, dispenses, a Condition, an Observation and a
sentinel dispense no damage touches), written as a FHIR XML Bundle and damaged the ways XML
can be: elements deleted, written twice, renamed (to other FHIR names and to personal names),
wrapped, moved into text, given values that are no number, date or code, or values from
outside the FHIR namespace; text, CDATA, comments, processing instructions, narratives and
unknown attributes holding personal data; Bundle entries that are text, empty, hold no resource
or a resource of no R4 type; elements nested 300 deep; and damage to the whole file: a DOCTYPE
(billion laughs, an external entity), an entity that is not defined, the file cut short, a byte
that is not UTF-8, the root in another namespace, an encoding other than UTF-8. Personal values
(names, BSNs, birth dates, postcodes, a street) are planted throughout. The checks are the JSON
fuzzer's (:func:`.test_fhir_fuzz.check`): only a ReadError, and a result-less one only for damage
to the whole file, naming the file; counts that reconcile (every Bundle entry is a row read or
counted in ``ignored``); no planted value in any message, exception chain, warning or log
record; the sentinel read whenever a result comes back.

The default run (:data:`CASES` files) takes a few seconds. A longer run::

    BENZOREDUX_FUZZ_CASES=2000 python -m pytest -q -p no:cacheprovider \\
        tests/adapters/test_fhir_xml_fuzz.py

``BENZOREDUX_FUZZ_SEED`` picks another seed; ``BENZOREDUX_FUZZ_REPORT=fuzz.txt`` appends the
run's outcomes (files read, refused as a whole, failures) to that file.
"""

from __future__ import annotations

import copy
import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from .fhir_xml_writer import FHIR, resource_element
from .test_fhir_fuzz import (
    BIRTH_DATES,
    BSNS,
    NAMES,
    PERSONAL,
    POSTCODES,
    SENTINEL,
    STREETS,
    Case,
    _resources,
    check,
)

CASES = int(os.environ.get("BENZOREDUX_FUZZ_CASES", "30"))
"""How many files the fuzzer reads (``BENZOREDUX_FUZZ_CASES``, as the other fuzzers)."""
SEED = int(os.environ.get("BENZOREDUX_FUZZ_SEED", "0"))
"""The seed of the first file (``BENZOREDUX_FUZZ_SEED``); file ``n`` uses ``SEED + n``."""

F = f"{{{FHIR}}}"
XHTML = "http://www.w3.org/1999/xhtml"
ODD_VALUES = (
    "",
    " ",
    "x",
    "1,5",
    "NaN",
    "Infinity",
    "1e400",
    "-0",
    "1e20",
    "9" * 401,
    "9" * 5000,
    "-" + "9" * 5000,
    "0.1",
    "true",
    "false",
    "TRUE",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-10:00",
    "2025-02-30",
    "2025-12-31T23:59:60Z",
    "2025-03",
    "31-12-9999",
    "a\u2028b",
    "&<>\"'",
    "completed",
    "cancelled",
    "N05BA04",
    "P06",
    "urn:uuid:1",
    "#m1",
    "Patient/p1",
    *PERSONAL,
)
"""What a ``value`` attribute can be set to (XML cannot hold a lone surrogate at all)."""
NEW_NAMES = (
    "value",
    "code",
    "system",
    "reference",
    "coding",
    "quantity",
    "given",
    "family",
    "extension",
    "status",
    "id",
    "resourceType",
    "_family",
    *NAMES,
)
"""What an element can be renamed to: other FHIR names, JSON-only names and personal names."""
PLANTED = (*NAMES, *BSNS, *BIRTH_DATES, *POSTCODES, *STREETS)


def _bundle_tree() -> etree._Element:
    """The valid source as an XML Bundle; the sentinel's entry is marked."""
    resources = _resources()
    root = etree.Element(f"{F}Bundle", nsmap={None: FHIR})
    etree.SubElement(root, f"{F}type").set("value", "collection")
    for number, resource in enumerate([*resources, copy.deepcopy(SENTINEL)]):
        entry = etree.SubElement(root, f"{F}entry")
        etree.SubElement(entry, f"{F}fullUrl").set("value", f"urn:uuid:{number}")
        etree.SubElement(entry, f"{F}resource").append(resource_element(resource))
        if resource.get("id") == "sentinel":
            entry.set("{urn:fuzz}sentinel", "1")
    return root


def _inside(entries: list[etree._Element]) -> list[etree._Element]:
    """The elements inside the resources of ``entries`` (the resource elements too)."""
    found = []
    for entry in entries:
        for wrapper in entry.iterchildren(f"{F}resource"):
            found.extend(wrapper.iter(tag=etree.Element))
    return found


def _damage(rng: random.Random, root: etree._Element, case: Case) -> None:
    """One damage to an element inside a resource, or to a Bundle entry."""
    entries = [e for e in root.iterchildren(f"{F}entry") if e.get("{urn:fuzz}sentinel") is None]
    if not entries:
        return
    if rng.random() < 0.15:
        _damage_entry(rng, root, entries, case)
        return
    targets = [e for e in _inside(entries) if e.tag.startswith(F) and e.getparent() is not None]
    target = rng.choice(targets)
    name = etree.QName(target).localname
    action = rng.randrange(17)
    parent = target.getparent()
    if action == 0:
        parent.remove(target)
        case.damage.append(f"deleted <{name}>")
    elif action == 1:
        target.addnext(copy.deepcopy(target))
        case.damage.append(f"<{name}> twice")
    elif action == 2:
        target.tag = F + rng.choice(NEW_NAMES)
        case.damage.append(f"<{name}> renamed")
    elif action == 3:
        value = rng.choice(ODD_VALUES)
        target.set("value", value)
        case.damage.append(f"<{name} value={value[:30]!r}>")
    elif action == 4:
        target.attrib.pop("value", None)
        case.damage.append(f"<{name}> lost its value")
    elif action == 5:
        value = target.attrib.pop("value", None) or rng.choice(PLANTED)
        target.text = value
        case.damage.append(f"<{name}> value as text")
    elif action == 6:
        planted = rng.choice(PLANTED)
        if rng.random() < 0.5:
            target.tail = (target.tail or "") + planted
        else:
            target.text = (target.text or "") + planted
        case.damage.append(f"text in or after <{name}>")
    elif action == 7:
        foreign = etree.SubElement(target, f"{{urn:{rng.choice(NAMES)}}}value")
        foreign.set("value", rng.choice(PLANTED))
        case.damage.append(f"a foreign element in <{name}>")
    elif action == 8:
        wrapper = etree.Element(F + rng.choice(NEW_NAMES))
        target.addprevious(wrapper)
        wrapper.append(target)
        case.damage.append(f"<{name}> wrapped")
    elif action == 9:
        target.addprevious(etree.Comment(f" {rng.choice(PLANTED)} "))
        target.append(etree.ProcessingInstruction("x", rng.choice(PLANTED)))
        case.damage.append(f"a comment and a PI at <{name}>")
    elif action == 10:
        target.set(rng.choice(("id", "url", "lang", "Bloemendaal")), rng.choice(PLANTED))
        case.damage.append(f"an attribute on <{name}>")
    elif action == 11:
        text = etree.SubElement(target, f"{F}text")
        etree.SubElement(text, f"{F}status").set("value", "generated")
        div = etree.SubElement(text, f"{{{XHTML}}}div", nsmap={None: XHTML})
        etree.SubElement(div, f"{{{XHTML}}}p").text = " ".join(PLANTED)
        case.damage.append(f"a narrative in <{name}>")
    elif action == 12:
        target.text = etree.CDATA(rng.choice(PLANTED))
        case.damage.append(f"CDATA in <{name}>")
    elif action == 13:
        deep = target
        for _ in range(300):
            deep = etree.SubElement(deep, f"{F}extension")
        case.damage.append(f"300 levels in <{name}>")
        case.whole_file_damage = True
    elif action == 14:
        target.set("value", rng.choice(PLANTED))
        etree.SubElement(target, f"{F}extension").set("url", rng.choice(PLANTED))
        case.damage.append(f"<{name}> made a primitive with an extension")
    elif action == 15:
        for child in list(target):
            target.remove(child)
        case.damage.append(f"<{name}> emptied")
    else:
        target.tag = F + rng.choice(("Vermeulenplant", "Observation", "Patient", "Bundle"))
        case.damage.append(f"<{name}> renamed to a resource name")


def _damage_entry(
    rng: random.Random, root: etree._Element, entries: list[etree._Element], case: Case
) -> None:
    entry = rng.choice(entries)
    action = rng.randrange(6)
    if action == 0:
        root.remove(entry)
        case.records -= 1
        case.damage.append("an entry deleted")
    elif action == 1:
        entry.addnext(copy.deepcopy(entry))
        case.records += 1
        case.damage.append("an entry twice")
    else:
        for child in list(entry):
            entry.remove(child)
        if action == 2:
            entry.set("value", rng.choice(PLANTED))
        elif action == 3:
            etree.SubElement(entry, f"{F}fullUrl").set("value", rng.choice(PLANTED))
        elif action == 4:
            etree.SubElement(entry, f"{F}resource")
        else:
            wrapper = etree.SubElement(entry, f"{F}resource")
            etree.SubElement(wrapper, F + rng.choice(NAMES)).set("value", rng.choice(PLANTED))
        case.damage.append(f"an entry replaced ({action})")


def _whole(rng: random.Random, text: bytes, case: Case) -> bytes:
    """Damage to the whole file (rarely): the reader refuses it, naming the file."""
    roll = rng.random()
    planted = rng.choice(PLANTED).encode()
    damage = {
        0: (
            "a DOCTYPE with an entity",
            lambda t: t.replace(
                b"?>\n", b'?>\n<!DOCTYPE Bundle [<!ENTITY x "' + planted + b'">]>\n', 1
            ),
        ),
        1: (
            "an external entity",
            lambda t: t.replace(
                b"?>\n", b'?>\n<!DOCTYPE Bundle [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', 1
            ),
        ),
        2: (
            "an undefined entity",
            lambda t: t.replace(b'value="collection"', b'value="&' + planted + b';"', 1),
        ),
        3: ("cut short", lambda t: t[: rng.randrange(len(t))]),
        4: (
            "a byte that is not UTF-8",
            lambda t: (
                t.replace(planted, planted + b"\xff", 1)
                if planted in t
                else t[:200] + b"\xff" + t[200:]
            ),
        ),
        5: (
            "the root in another namespace",
            lambda t: t.replace(b'xmlns="http://hl7.org/fhir"', b'xmlns="urn:' + planted + b'"', 1),
        ),
        6: (
            "an encoding other than UTF-8",
            lambda t: t.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1),
        ),
        7: (
            "an end tag that does not match",
            lambda t: t.replace(b"</entry>", b"</" + planted.replace(b" ", b"") + b">", 1),
        ),
    }
    if roll < 0.1:
        what, change = damage[rng.randrange(len(damage))]
        case.damage.append(what)
        case.whole_file_damage = True
        return change(text)
    if roll < 0.2:
        case.damage.append("a byte order mark and CRLF")
        return b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")
    return text


def _case(number: int) -> Case:
    rng = random.Random(SEED + number)
    case = Case(
        number=number,
        files={},
        records=0,
        strict=rng.random() < 0.5,
        requests=rng.choice(("auto", "auto", "always", "never")),
    )
    root = _bundle_tree()
    case.records = len(root.findall(f"{F}entry"))
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        _damage(rng, root, case)
    for entry in root.iterchildren(f"{F}entry"):
        entry.attrib.pop("{urn:fuzz}sentinel", None)
    etree.cleanup_namespaces(root)
    body = etree.tostring(root, pretty_print=rng.random() < 0.7, encoding="unicode")
    text = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")
    name = "export.json" if rng.random() < 0.1 else "export.xml"  # the content decides
    case.files[name] = _whole(rng, text, case)
    return case


def cases(count: int = CASES) -> Iterator[Case]:
    for number in range(count):
        yield _case(number)


def test_fuzzed_fhir_xml_is_read_without_crash_or_leak(tmp_path: Path) -> None:
    failures = []
    outcomes: Counter[str] = Counter()
    for case in cases():
        found = check(case, tmp_path / str(case.number))
        outcomes["whole file damaged" if case.whole_file_damage else "read"] += 1
        if found:
            outcomes["failed"] += 1
            failures.append(f"case {case.number} (seed {SEED}; {case.damage}): {found}")
    report = os.environ.get("BENZOREDUX_FUZZ_REPORT")
    if report:
        with Path(report).open("a", encoding="utf-8") as handle:
            handle.write(f"fhir-xml (seed {SEED}, {CASES} cases): {dict(outcomes)}\n")
            handle.writelines(f"  {failure[:400]}\n" for failure in failures[:50])
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n" + "\n".join(failures[:20])


def test_the_damage_reaches_the_reader(tmp_path: Path) -> None:
    """The fuzzer is not reading valid files only: of its cases, some have rejected rows, some
    records that are no resources, and some are refused as a whole."""
    from benzoredux.reading import ReadError

    from .test_fhir_fuzz import read_case

    seen: Counter[str] = Counter()
    for case in cases(20):
        folder = tmp_path / str(case.number)
        folder.mkdir()
        name, data = next(iter(case.files.items()))
        (folder / name).write_bytes(data)
        try:
            result = read_case(folder / name, case)
        except ReadError as error:
            result = error.result
            seen["refused" if result is None else "strict error"] += 1
        if result is not None:
            seen["rejected rows"] += bool(len(result.rejected))
            seen["not resources"] += bool(result.notes)
    assert seen["refused"]
    assert seen["rejected rows"]
    assert seen["strict error"]
