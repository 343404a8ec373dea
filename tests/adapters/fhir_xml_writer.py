"""Test-only: FHIR resources in their JSON form written as FHIR XML.

It knows the XML representation's rules (https://hl7.org/fhir/R4/xml.html), not the reader's
table of R4 elements: a list becomes the element repeated, a primitive a ``value`` attribute
(with its ``_name`` object's ``id`` and extensions on the same element), an object an element
with children, a resource inside ``resource``, ``contained`` or ``outcome`` an element named
after its type, ``Resource.id`` an element and ``Element.id`` and ``Extension.url``
attributes. So a test can say "this JSON, written as XML, reads the same", and the reader's
table is tested rather than assumed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lxml import etree

FHIR = "http://hl7.org/fhir"
_WRAPPERS = ("resource", "contained", "outcome")
_EXTENSIONS = ("extension", "modifierExtension")


def to_xml(resource: Mapping[str, Any]) -> str:
    """``resource`` (a Bundle or any resource, as JSON has it) as an XML document."""
    root = resource_element(resource)
    text = etree.tostring(root, pretty_print=True, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text


def write_xml(path: Any, resource: Mapping[str, Any]) -> Any:
    path.write_text(to_xml(resource), encoding="utf-8")
    return path


def resource_element(resource: Mapping[str, Any]) -> etree._Element:
    """The element of one resource (named after its type, in the FHIR namespace)."""
    element = etree.Element(f"{{{FHIR}}}{resource['resourceType']}", nsmap={None: FHIR})
    _fill(element, resource, in_resource=True, extension=False)
    return element


def _fill(
    element: etree._Element, value: Mapping[str, Any], *, in_resource: bool, extension: bool
) -> None:
    for key, item in value.items():
        if key == "resourceType" or key.startswith("_"):
            continue
        if key == "id" and not in_resource and isinstance(item, str):
            element.set("id", item)
            continue
        if key == "url" and extension and isinstance(item, str):
            element.set("url", item)
            continue
        _add(element, key, item, value.get(f"_{key}"))
    for key, extra in value.items():
        if key.startswith("_") and key[1:] not in value:
            _add(element, key[1:], None, extra)


def _add(parent: etree._Element, name: str, value: Any, extra: Any) -> None:
    if isinstance(value, list) or isinstance(extra, list):
        values = value if isinstance(value, list) else [value] * len(extra)
        extras = extra if isinstance(extra, list) else [None] * len(values)
    else:
        values, extras = [value], [extra]
    for number in range(max(len(values), len(extras))):
        item = values[number] if number < len(values) else None
        more = extras[number] if number < len(extras) else None
        if item is None and more is None:
            continue
        child = etree.SubElement(parent, f"{{{FHIR}}}{name}")
        if isinstance(item, Mapping):
            if name in _WRAPPERS and "resourceType" in item:
                child.append(resource_element(item))
            else:
                _fill(child, item, in_resource=False, extension=name in _EXTENSIONS)
        elif item is not None:
            child.set("value", _text(item))
        if isinstance(more, Mapping):
            if isinstance(more.get("id"), str):
                child.set("id", more["id"])
            for extension in more.get("extension") or ():
                sub = etree.SubElement(child, f"{{{FHIR}}}extension")
                _fill(sub, extension, in_resource=False, extension=True)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)
