"""The FHIR XML reader's table of R4 elements, held against an independent source.

:data:`benzoredux_adapters.fhir_xml.R4_ELEMENTS` says, for every element of the resources and
data types the reader reads, whether it repeats and what type it has: XML has no arrays, so
this is how an element written once becomes the list JSON would have. It was written from the
R4 specification pages. The ``fhir.resources`` package (6.4.0, the last release of FHIR R4
4.0.1; later releases are R4B and R5) generates its models from the R4 StructureDefinitions:
every element of every type in the table, with its cardinality and type, must be the same
there, and no element may be missing.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest

from benzoredux_adapters.fhir_xml import R4_ELEMENTS, RESOURCE, UNKNOWN_RESOURCE

resources = pytest.importorskip("fhir.resources")
validators = pytest.importorskip("fhir.resources.fhirtypesvalidators")
base = pytest.importorskip("fhir.resources.resource")

_PROFILES = {"Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"}
"""Quantity's profiles, which the table writes as Quantity (they have its elements)."""


def _model_name(kind: str) -> str:
    """The model class of a table type: ``MedicationDispense.performer`` is
    ``MedicationDispensePerformer``."""
    return "".join(part[0].upper() + part[1:] for part in kind.split("."))


def _their_elements(model: Any, owner: str, is_resource: bool) -> dict[str, tuple[bool, str]]:
    """Their elements but ``Element.id`` and ``Extension.url``, which are attributes in XML
    (on a resource, ``id`` is an element and is compared)."""
    found = {}
    for field in model.element_properties():
        inner = field.type_
        if typing.get_origin(inner) is typing.Union:  # a list of primitives that may be null
            inner = next(a for a in typing.get_args(inner) if a is not type(None))
        kind = getattr(inner, "__resource_type__", None) or getattr(inner, "__visit_name__", None)
        if kind is None:  # plain Python types stand for two primitives
            kind = {bool: "boolean", str: "string"}[inner]
        if kind in _PROFILES:
            kind = "Quantity"
        if (field.alias, is_resource) == ("id", False) or (field.alias, owner) == (
            "url",
            "Extension",
        ):
            continue
        found[field.alias] = (typing.get_origin(field.outer_type_) is list, kind)
    return found


def test_the_package_is_fhir_r4() -> None:
    assert resources.__fhir_version__ == "4.0.1"


@pytest.mark.parametrize("owner", sorted(set(R4_ELEMENTS) - {"Element", UNKNOWN_RESOURCE}), ids=str)
def test_every_element_has_the_r4_cardinality_and_type(owner: str) -> None:
    model = validators.get_fhir_model_class(_model_name(owner))
    is_resource = issubclass(model, base.Resource)
    theirs = _their_elements(model, owner, is_resource)
    mine = {
        name: (repeats, _model_name(kind) if "." in kind else kind)
        for name, (repeats, kind) in R4_ELEMENTS[owner].items()
    }
    if not is_resource:
        assert "id" not in mine  # an attribute, read as one
    assert mine == theirs


def test_the_base_elements() -> None:
    """Every complex type has ``extension``; a resource the table does not describe still has
    the elements every R4 DomainResource has, ``contained`` among them."""
    assert R4_ELEMENTS["Element"] == {"extension": (True, "Extension")}
    domain = R4_ELEMENTS[UNKNOWN_RESOURCE]
    assert domain["contained"] == (True, RESOURCE)
    assert domain["text"] == (False, "Narrative")
    assert set(domain) == {
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
    }
