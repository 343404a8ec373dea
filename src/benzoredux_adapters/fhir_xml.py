"""FHIR R4 XML, parsed safely into the structure the FHIR reader builds from JSON.

The FHIR reader (:mod:`benzoredux_adapters.fhir`) checks and reads resources in their JSON
form: objects, lists, text, numbers, ``true``/``false``. This module turns a FHIR XML document
(`XML representation <https://hl7.org/fhir/R4/xml.html>`_) into that same form, so that every
rule of the reader (rejected records with reasons, no personal data in messages, a repeated
element, exact decimals, lines in messages) applies to XML unchanged:

* Elements are in the namespace ``http://hl7.org/fhir``. A primitive carries its value in the
  ``value`` attribute and may carry an ``id`` attribute and ``extension`` children, which
  become JSON's ``_name`` object; a complex element becomes an object (its ``id`` attribute
  the ``id`` key, an extension's ``url`` attribute the ``url`` key).
* ``Bundle.entry.resource`` and ``contained`` wrap the resource in an element named after its
  type, which becomes ``resourceType``; ``Resource.id`` is an element with a value.
* Narrative ``<div>`` (XHTML) is skipped: its text is never read, so it never reaches a message.
* XML has no arrays. Which elements repeat (become lists, as in JSON, even when they occur
  once) is in :data:`R4_ELEMENTS`, the cardinality and type of every element of the resources
  and data types the reader reads, taken from the FHIR R4 (4.0.1) definitions. An element the
  table does not know becomes a list only when it occurs more than once, so nothing is lost.
  An element the table allows once that occurs twice makes the resource holding it rejected,
  as a JSON key written twice does.
* A value becomes what JSON would hold: a ``decimal``, ``integer``, ``positiveInt`` or
  ``unsignedInt`` that is written as a JSON number (``-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?
  [0-9]+)?``, the same grammar as FHIR's own) is converted by the caller's ``number`` function
  (the reader passes the conversion its JSON parser makes); a ``boolean`` ``true`` or
  ``false`` becomes ``True`` or ``False``; anything else stays text. So ``value="1,5"`` in a
  quantity arrives as text and is rejected exactly like JSON's ``"1,5"``.

**Safety.** FHIR XML never has a DTD (the R4 XML page asks that no entities beyond the XML
standard's own be produced, and that parsers ignore them): a document with a ``DOCTYPE`` is
refused before the parser sees it, so no entity is ever expanded (billion laughs, quadratic
blow-up) or fetched (an external entity such as ``file:///etc/passwd``). The parser is lxml
with entities not resolved, no DTD loaded, no network, and libxml2's limits kept
(``huge_tree`` off: elements nested deeper than 256 levels, or a value over 10 MB, are
refused). A document that is not well-formed is refused naming its line and what kind of
error it is, never with the parser's own message, which can quote names from the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from lxml import etree

__all__ = [
    "FHIR_NAMESPACE",
    "R4_ELEMENTS",
    "XmlError",
    "XmlObject",
    "load",
    "root_element",
    "starts_as_xml",
]

FHIR_NAMESPACE: Final = "http://hl7.org/fhir"
XHTML_NAMESPACE: Final = "http://www.w3.org/1999/xhtml"
_FHIR = "{" + FHIR_NAMESPACE + "}"

# --- the R4 element table ----------------------------------------------------------------------

PRIMITIVES: Final = frozenset(
    """boolean integer string decimal uri url canonical base64Binary instant date dateTime
    time code oid id markdown unsignedInt positiveInt uuid xhtml""".split()  # noqa: SIM905
)
"""The primitive types of FHIR R4 (https://hl7.org/fhir/R4/datatypes.html#primitive)."""
_NUMBERS = frozenset({"decimal", "integer", "positiveInt", "unsignedInt"})
"""The primitive types JSON writes as numbers (https://hl7.org/fhir/R4/json.html#primitive)."""

_EXTENSION_VALUES = (
    "base64Binary|boolean|canonical|code|date|dateTime|decimal|id|instant|integer|markdown|oid|"
    "positiveInt|string|time|unsignedInt|uri|url|uuid|Address|Age|Annotation|Attachment|"
    "CodeableConcept|Coding|ContactPoint|Count|Distance|Duration|HumanName|Identifier|Money|"
    "Period|Quantity|Range|Ratio|Reference|SampledData|Signature|Timing|ContactDetail|"
    "Contributor|DataRequirement|Expression|ParameterDefinition|RelatedArtifact|"
    "TriggerDefinition|UsageContext|Dosage|Meta"
)

# Each type: its elements in R4 order, as ``name:Type`` (at most once) or ``name*:Type``
# (repeats); ``name[x]:A|B`` is a choice, one element per type (``valueString``); a type
# ``@`` is a backbone element, defined under ``Owner.name``; ``Resource`` is a contained
# resource (an element wrapping one resource). Quantity stands for its profiles
# SimpleQuantity, Age, Count, Distance, Duration and MoneyQuantity, which have its elements.
# The inherited elements (Element.extension, BackboneElement.modifierExtension, Resource.id,
# meta, implicitRules, language, DomainResource.text, contained, extension,
# modifierExtension) are added by :func:`_build`. Source: the R4 (4.0.1) resource and data
# type pages, https://hl7.org/fhir/R4/<type>.html and https://hl7.org/fhir/R4/datatypes.html
# (also metadatatypes.html, dosage.html); tests/adapters/test_fhir_xml_table.py holds the
# table against the models of the fhir.resources package.
_DATA_TYPES: Final = {
    "Extension": f"value[x]:{_EXTENSION_VALUES}",
    "Meta": "versionId:id lastUpdated:instant source:uri profile*:canonical security*:Coding "
    "tag*:Coding",
    "Narrative": "status:code div:xhtml",
    "Identifier": "use:code type:CodeableConcept system:uri value:string period:Period "
    "assigner:Reference",
    "HumanName": "use:code text:string family:string given*:string prefix*:string "
    "suffix*:string period:Period",
    "Address": "use:code type:code text:string line*:string city:string district:string "
    "state:string postalCode:string country:string period:Period",
    "ContactPoint": "system:code value:string use:code rank:positiveInt period:Period",
    "CodeableConcept": "coding*:Coding text:string",
    "Coding": "system:uri version:string code:code display:string userSelected:boolean",
    "Quantity": "value:decimal comparator:code unit:string system:uri code:code",
    "Money": "value:decimal currency:code",
    "Range": "low:Quantity high:Quantity",
    "Ratio": "numerator:Quantity denominator:Quantity",
    "Period": "start:dateTime end:dateTime",
    "Reference": "reference:string type:uri identifier:Identifier display:string",
    "Annotation": "author[x]:Reference|string time:dateTime text:markdown",
    "Attachment": "contentType:code language:code data:base64Binary url:url size:unsignedInt "
    "hash:base64Binary title:string creation:dateTime",
    "SampledData": "origin:Quantity period:decimal factor:decimal lowerLimit:decimal "
    "upperLimit:decimal dimensions:positiveInt data:string",
    "Signature": "type*:Coding when:instant who:Reference onBehalfOf:Reference "
    "targetFormat:code sigFormat:code data:base64Binary",
    "Timing": "event*:dateTime repeat:@ code:CodeableConcept",
    "Timing.repeat": "bounds[x]:Duration|Range|Period count:positiveInt countMax:positiveInt "
    "duration:decimal durationMax:decimal durationUnit:code frequency:positiveInt "
    "frequencyMax:positiveInt period:decimal periodMax:decimal periodUnit:code "
    "dayOfWeek*:code timeOfDay*:time when*:code offset:unsignedInt",
    "Dosage": "sequence:integer text:string additionalInstruction*:CodeableConcept "
    "patientInstruction:string timing:Timing asNeeded[x]:boolean|CodeableConcept "
    "site:CodeableConcept route:CodeableConcept method:CodeableConcept doseAndRate*:@ "
    "maxDosePerPeriod:Ratio maxDosePerAdministration:Quantity maxDosePerLifetime:Quantity",
    "Dosage.doseAndRate": "type:CodeableConcept dose[x]:Range|Quantity "
    "rate[x]:Ratio|Range|Quantity",
    "ContactDetail": "name:string telecom*:ContactPoint",
    "Contributor": "type:code name:string contact*:ContactDetail",
    "DataRequirement": "type:code profile*:canonical subject[x]:CodeableConcept|Reference "
    "mustSupport*:string codeFilter*:@ dateFilter*:@ limit:positiveInt sort*:@",
    "DataRequirement.codeFilter": "path:string searchParam:string valueSet:canonical code*:Coding",
    "DataRequirement.dateFilter": "path:string searchParam:string "
    "value[x]:dateTime|Period|Duration",
    "DataRequirement.sort": "path:string direction:code",
    "Expression": "description:string name:id language:code expression:string reference:uri",
    "ParameterDefinition": "name:code use:code min:integer max:string documentation:string "
    "type:code profile:canonical",
    "RelatedArtifact": "type:code label:string display:string citation:markdown url:url "
    "document:Attachment resource:canonical",
    "TriggerDefinition": "type:code name:string timing[x]:Timing|Reference|date|dateTime "
    "data*:DataRequirement condition:Expression",
    "UsageContext": "code:Coding value[x]:CodeableConcept|Quantity|Range|Reference",
}
_BACKBONE_DATA_TYPES = frozenset({"Timing", "Dosage"})
"""Data types that are BackboneElements in R4 (they have ``modifierExtension``)."""

_RESOURCES: Final = {
    "Bundle": "identifier:Identifier type:code timestamp:instant total:unsignedInt link*:@ "
    "entry*:@ signature:Signature",
    "Bundle.link": "relation:string url:uri",
    "Bundle.entry": "link*:Bundle.link fullUrl:uri resource:Resource search:@ request:@ response:@",
    "Bundle.entry.search": "mode:code score:decimal",
    "Bundle.entry.request": "method:code url:uri ifNoneMatch:string ifModifiedSince:instant "
    "ifMatch:string ifNoneExist:string",
    "Bundle.entry.response": "status:string location:uri etag:string lastModified:instant "
    "outcome:Resource",
    "Patient": "identifier*:Identifier active:boolean name*:HumanName telecom*:ContactPoint "
    "gender:code birthDate:date deceased[x]:boolean|dateTime address*:Address "
    "maritalStatus:CodeableConcept multipleBirth[x]:boolean|integer photo*:Attachment "
    "contact*:@ communication*:@ generalPractitioner*:Reference "
    "managingOrganization:Reference link*:@",
    "Patient.contact": "relationship*:CodeableConcept name:HumanName telecom*:ContactPoint "
    "address:Address gender:code organization:Reference period:Period",
    "Patient.communication": "language:CodeableConcept preferred:boolean",
    "Patient.link": "other:Reference type:code",
    "Practitioner": "identifier*:Identifier active:boolean name*:HumanName "
    "telecom*:ContactPoint address*:Address gender:code birthDate:date photo*:Attachment "
    "qualification*:@ communication*:CodeableConcept",
    "Practitioner.qualification": "identifier*:Identifier code:CodeableConcept period:Period "
    "issuer:Reference",
    "PractitionerRole": "identifier*:Identifier active:boolean period:Period "
    "practitioner:Reference organization:Reference code*:CodeableConcept "
    "specialty*:CodeableConcept location*:Reference healthcareService*:Reference "
    "telecom*:ContactPoint availableTime*:@ notAvailable*:@ availabilityExceptions:string "
    "endpoint*:Reference",
    "PractitionerRole.availableTime": "daysOfWeek*:code allDay:boolean "
    "availableStartTime:time availableEndTime:time",
    "PractitionerRole.notAvailable": "description:string during:Period",
    "Organization": "identifier*:Identifier active:boolean type*:CodeableConcept name:string "
    "alias*:string telecom*:ContactPoint address*:Address partOf:Reference contact*:@ "
    "endpoint*:Reference",
    "Organization.contact": "purpose:CodeableConcept name:HumanName telecom*:ContactPoint "
    "address:Address",
    "Medication": "identifier*:Identifier code:CodeableConcept status:code "
    "manufacturer:Reference form:CodeableConcept amount:Ratio ingredient*:@ batch:@",
    "Medication.ingredient": "item[x]:CodeableConcept|Reference isActive:boolean strength:Ratio",
    "Medication.batch": "lotNumber:string expirationDate:dateTime",
    "MedicationDispense": "identifier*:Identifier partOf*:Reference status:code "
    "statusReason[x]:CodeableConcept|Reference category:CodeableConcept "
    "medication[x]:CodeableConcept|Reference subject:Reference context:Reference "
    "supportingInformation*:Reference performer*:@ location:Reference "
    "authorizingPrescription*:Reference type:CodeableConcept quantity:Quantity "
    "daysSupply:Quantity whenPrepared:dateTime whenHandedOver:dateTime "
    "destination:Reference receiver*:Reference note*:Annotation dosageInstruction*:Dosage "
    "substitution:@ detectedIssue*:Reference eventHistory*:Reference",
    "MedicationDispense.performer": "function:CodeableConcept actor:Reference",
    "MedicationDispense.substitution": "wasSubstituted:boolean type:CodeableConcept "
    "reason*:CodeableConcept responsibleParty*:Reference",
    "MedicationRequest": "identifier*:Identifier status:code statusReason:CodeableConcept "
    "intent:code category*:CodeableConcept priority:code doNotPerform:boolean "
    "reported[x]:boolean|Reference medication[x]:CodeableConcept|Reference "
    "subject:Reference encounter:Reference supportingInformation*:Reference "
    "authoredOn:dateTime requester:Reference performer:Reference "
    "performerType:CodeableConcept recorder:Reference reasonCode*:CodeableConcept "
    "reasonReference*:Reference instantiatesCanonical*:canonical instantiatesUri*:uri "
    "basedOn*:Reference groupIdentifier:Identifier courseOfTherapyType:CodeableConcept "
    "insurance*:Reference note*:Annotation dosageInstruction*:Dosage dispenseRequest:@ "
    "substitution:@ priorPrescription:Reference detectedIssue*:Reference "
    "eventHistory*:Reference",
    "MedicationRequest.dispenseRequest": "initialFill:@ dispenseInterval:Quantity "
    "validityPeriod:Period numberOfRepeatsAllowed:unsignedInt quantity:Quantity "
    "expectedSupplyDuration:Quantity performer:Reference",
    "MedicationRequest.dispenseRequest.initialFill": "quantity:Quantity duration:Quantity",
    "MedicationRequest.substitution": "allowed[x]:boolean|CodeableConcept reason:CodeableConcept",
    "MedicationStatement": "identifier*:Identifier basedOn*:Reference partOf*:Reference "
    "status:code statusReason*:CodeableConcept category:CodeableConcept "
    "medication[x]:CodeableConcept|Reference subject:Reference context:Reference "
    "effective[x]:dateTime|Period dateAsserted:dateTime informationSource:Reference "
    "derivedFrom*:Reference reasonCode*:CodeableConcept reasonReference*:Reference "
    "note*:Annotation dosage*:Dosage",
    "Condition": "identifier*:Identifier clinicalStatus:CodeableConcept "
    "verificationStatus:CodeableConcept category*:CodeableConcept severity:CodeableConcept "
    "code:CodeableConcept bodySite*:CodeableConcept subject:Reference encounter:Reference "
    "onset[x]:dateTime|Age|Period|Range|string abatement[x]:dateTime|Age|Period|Range|string "
    "recordedDate:dateTime recorder:Reference asserter:Reference stage*:@ evidence*:@ "
    "note*:Annotation",
    "Condition.stage": "summary:CodeableConcept assessment*:Reference type:CodeableConcept",
    "Condition.evidence": "code*:CodeableConcept detail*:Reference",
}
_QUANTITIES = {"Age": "Quantity", "Count": "Quantity", "Distance": "Quantity"}
_QUANTITIES |= {"Duration": "Quantity", "SimpleQuantity": "Quantity"}
"""Profiles of Quantity that R4 names as types of their own; their elements are Quantity's."""

_ELEMENT = "extension*:Extension"
_BACKBONE = f"{_ELEMENT} modifierExtension*:Extension"
_RESOURCE = "id:id meta:Meta implicitRules:uri language:code"
_DOMAIN_RESOURCE = (
    f"{_RESOURCE} text:Narrative contained*:Resource extension*:Extension "
    "modifierExtension*:Extension"
)
RESOURCE: Final = "Resource"
"""The type of an element that wraps a resource (``contained``, ``Bundle.entry.resource``)."""
UNKNOWN_RESOURCE: Final = "DomainResource"
"""The type used for a resource the table does not describe: its inherited elements only."""


def _slots(owner: str, spec: str) -> Iterator[tuple[str, bool, str]]:
    """``(element name, repeats, type)`` of one type's specification text."""
    for item in spec.split():
        name, _, types = item.partition(":")
        repeats = name.endswith("*")
        name = name.rstrip("*")
        if name.endswith("[x]"):
            stem = name[:-3]
            for choice in types.split("|"):
                kind = _QUANTITIES.get(choice, choice)
                yield f"{stem}{choice[0].upper()}{choice[1:]}", repeats, kind
        elif types == "@":
            yield name, repeats, f"{owner}.{name}"
        else:
            yield name, repeats, _QUANTITIES.get(types, types)


def _build() -> dict[str, dict[str, tuple[bool, str]]]:
    table: dict[str, dict[str, tuple[bool, str]]] = {}
    specs = {**_DATA_TYPES, **_RESOURCES}
    resources = {name for name in _RESOURCES if "." not in name}
    for owner, spec in specs.items():
        root = owner.split(".")[0]
        if owner == "Bundle":
            inherited = _RESOURCE
        elif owner in resources:
            inherited = _DOMAIN_RESOURCE
        elif owner in _BACKBONE_DATA_TYPES or (root in resources and owner != root):
            inherited = _BACKBONE
        else:
            inherited = _ELEMENT
        table[owner] = {
            name: (repeats, kind)
            for name, repeats, kind in (*_slots(owner, inherited), *_slots(owner, spec))
        }
    table["Element"] = {name: (r, k) for name, r, k in _slots("Element", _ELEMENT)}
    table[UNKNOWN_RESOURCE] = {n: (r, k) for n, r, k in _slots(UNKNOWN_RESOURCE, _DOMAIN_RESOURCE)}
    return table


R4_ELEMENTS: Final = _build()
"""Type name -> element name -> ``(repeats, type)``: the cardinality (at most once, or a list)
and type of each element of the resources the reader reads or looks up (Bundle, Patient,
Practitioner, PractitionerRole, Organization, Medication, MedicationDispense,
MedicationRequest, MedicationStatement, Condition), their backbone elements
(``MedicationDispense.performer``) and the data types they use, from FHIR R4 (4.0.1).
``Element`` is the base of a primitive's extensions; ``DomainResource`` stands for any other
resource (only its inherited elements are known)."""


# --- errors and results ------------------------------------------------------------------------


class XmlError(Exception):
    """A document that cannot be read at all: the line and a reason that quotes nothing from
    the file (element names, values and the parser's own message are left out)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class XmlObject(dict[str, Any]):
    """A JSON object built from FHIR XML: ``line`` is its start tag's line.

    ``problem`` is set on a resource (everything inside it), a Bundle entry and a Bundle (their
    own elements): what makes it unreadable, such as an element FHIR allows once written
    twice, text where FHIR XML has only elements, or an element outside the FHIR namespace.
    The text names elements by the table's names and lines only, never a value.
    """

    __slots__ = ("line", "problem")

    def __init__(self, line: int | None) -> None:
        super().__init__()
        self.line = line
        self.problem: str | None = None


class _Sink:
    """Where the problems of one record go: the first one is kept."""

    __slots__ = ("problem",)

    def __init__(self) -> None:
        self.problem: str | None = None

    def add(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem


# --- reading the prolog --------------------------------------------------------------------------


_ENCODING = re.compile(r"""\bencoding\s*=\s*["']([A-Za-z0-9._-]*)["']""")


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _prolog(text: str) -> int:
    """Where the root element starts; refuses a DOCTYPE and an encoding other than UTF-8.

    Follows the XML prolog (``XMLDecl? Misc* (doctypedecl Misc*)?``, Misc being comments,
    processing instructions and white space) without parsing it: a document type declaration
    is refused where it starts, before anything in it (an entity) is looked at.
    """
    at = 0
    size = len(text)
    while at < size:
        if text[at] in " \t\r\n":
            at += 1
            continue
        if text.startswith("<?", at):
            end = text.find("?>", at + 2)
            if end < 0:
                return at  # not well-formed: the parser says where
            declaration = text[at : end + 2]
            if at == 0 and re.match(r"<\?xml\s", declaration):
                found = _ENCODING.search(declaration)
                if found is not None and found.group(1).lower() not in ("utf-8", "utf8"):
                    raise XmlError(
                        _line(text, at),
                        "declares an encoding other than UTF-8 (FHIR XML is UTF-8)",
                    )
            at = end + 2
            continue
        if text.startswith("<!--", at):
            end = text.find("-->", at + 4)
            if end < 0:
                return at
            at = end + 3
            continue
        if text[at : at + 9].upper() == "<!DOCTYPE":
            raise XmlError(
                _line(text, at),
                "has a DOCTYPE (a document type declaration), which FHIR XML never has; it "
                "was refused unread, so no entity in it was expanded or fetched",
            )
        return at
    return at


def starts_as_xml(text: str) -> bool:
    """Whether the text's first character that is not white space is ``<`` (XML, not JSON)."""
    return text.lstrip(" \t\r\n\ufeff")[:1] == "<"


_START_TAG = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)([^<>]*)>")
_NAMESPACE = re.compile(r"""xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*["']([^"']*)["']""")


def root_element(head: str) -> tuple[str | None, str] | None:
    """The namespace and local name of the root element of a document's first characters,
    for detection only (the document is not parsed): ``None`` when there is none to be seen.

    A document with a DOCTYPE gives ``(FHIR_NAMESPACE, "")`` when the FHIR namespace is
    declared in what is shown, so that the FHIR reader takes the file and refuses it plainly.
    """
    try:
        at = _prolog(head)
    except XmlError:
        if _NAMESPACE.search(head) and FHIR_NAMESPACE in head:
            return FHIR_NAMESPACE, ""
        return None
    tag = _START_TAG.match(head, at)
    if tag is None:
        return None
    prefix, name, attributes = tag.groups()
    for declared in _NAMESPACE.finditer(attributes):
        if declared.group(1) == prefix:
            return declared.group(2), name
    return None, name


# --- parsing -------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    """A new hardened parser (a parser must not be shared between threads)."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        encoding="utf-8",
    )


_SYNTAX = {
    "ERR_TAG_NAME_MISMATCH": "an end tag does not match its start tag (an element is not "
    "closed, or closed twice)",
    "ERR_TAG_NOT_FINISHED": "the file ends inside an element (an element is not closed)",
    "ERR_LTSLASH_REQUIRED": "an element is not closed",
    "ERR_DOCUMENT_END": "there is more after the root element",
    "ERR_DOCUMENT_EMPTY": "there is no root element",
    "ERR_UNDECLARED_ENTITY": "an entity reference that is not defined (FHIR XML uses only "
    "&amp; &lt; &gt; &quot; &apos; and character references)",
    "WAR_UNDECLARED_ENTITY": "an entity reference that is not defined (FHIR XML uses only "
    "&amp; &lt; &gt; &quot; &apos; and character references)",
    "ERR_INVALID_CHAR": "a character that XML does not allow",
    "ERR_INVALID_CHARREF": "a character reference to a character that XML does not allow",
    "ERR_INVALID_DEC_CHARREF": "a character reference to a character that XML does not allow",
    "ERR_INVALID_HEX_CHARREF": "a character reference to a character that XML does not allow",
    "ERR_ATTRIBUTE_REDEFINED": "an element has the same attribute twice",
    "NS_ERR_UNDEFINED_NAMESPACE": "a namespace prefix that is not declared",
}


_ERROR_NAMES = {
    getattr(etree.ErrorTypes, name): name for name in dir(etree.ErrorTypes) if name.isupper()
}
"""libxml2's error codes by name (``ERR_TAG_NAME_MISMATCH``)."""


def _syntax_reason(error: etree.XMLSyntaxError) -> str:
    """What kind of error the parser found, in words of our own (its message can quote element
    names and entity names from the file, which may be personal data)."""
    name = _ERROR_NAMES.get(error.code, "")
    if name == "ERR_RESOURCE_LIMIT" or "XML_PARSE_HUGE" in str(error):
        if "depth" in str(error):
            return "nested too deeply (more than 256 levels; no FHIR resource is)"
        return "a value or text longer than the parser allows (10 MB)"
    if name.startswith("ERR_ATTRIBUTE") or name.startswith("ERR_LT_IN_ATTRIBUTE"):
        return 'not well-formed XML: an attribute is not written name="value"'
    return f"not well-formed XML: {_SYNTAX.get(name, 'a syntax error')}"


def load(text: str, *, number: Callable[[str], Any]) -> XmlObject:
    """The JSON form of a FHIR XML document (a resource, a Bundle holding resources).

    ``number`` converts a value written as a JSON number in a numeric element. Raises
    :class:`XmlError` for a document that cannot be read at all: a DOCTYPE, not well-formed,
    nested deeper than 256, a root element outside the FHIR namespace.
    """
    text = text.removeprefix("\ufeff")
    at = _prolog(text)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = error.start
    else:
        bad = -1
    if bad >= 0:
        raise XmlError(_line(text, bad), "not UTF-8 text")
    failure: tuple[int, str] | None = None
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        # Raised below, outside this block, so the parser's message is not chained to ours.
        failure = (error.lineno or _line(text, at), _syntax_reason(error))
    if failure is not None:
        line, reason = failure
        raise XmlError(line, reason)
    if not isinstance(root.tag, str) or not root.tag.startswith(_FHIR):
        raise XmlError(
            root.sourceline or 1,
            f"not FHIR XML (the root element is not in the FHIR namespace {FHIR_NAMESPACE})",
        )
    return _Converter(number).root(root)


# --- conversion ----------------------------------------------------------------------------------


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BLANK = " \t\r\n"
_VALUES_IN_ATTRIBUTES = "FHIR XML keeps values in value attributes"


class _Converter:
    """Builds the JSON form of one document (the rules are in the module docstring).

    Problems go to a :class:`_Sink`: one per resource that is a record of its own (a Bundle
    entry's, or the document's), which a contained resource shares with its holder; the Bundle
    and each entry have one for their own elements only (``own_only``: what is below them,
    such as ``entry.request``, is not read, so it is not checked, as in JSON).
    """

    def __init__(self, number: Callable[[str], Any]) -> None:
        self.number = number

    def root(self, element: etree._Element) -> XmlObject:
        sink = _Sink()
        if element.tag == f"{_FHIR}Bundle":
            found = self.resource(element, sink=sink, path="Bundle", own_only=True)
        else:
            found = self.resource(element, sink=sink, path="")
        found.problem = sink.problem
        return found

    def resource(
        self, element: etree._Element, *, sink: _Sink | None, path: str, own_only: bool = False
    ) -> XmlObject:
        """A resource element (named after its type): ``resourceType`` and its elements."""
        name = element.tag[len(_FHIR) :]
        found = XmlObject(element.sourceline)
        found["resourceType"] = name
        kind = name if name in R4_ELEMENTS else UNKNOWN_RESOURCE
        self.fill(element, kind, found, path=path, sink=sink, own_only=own_only)
        return found

    def value(self, text: str, kind: str | None) -> Any:
        """A ``value`` attribute as JSON would hold it (see the module docstring)."""
        if kind in _NUMBERS and _JSON_NUMBER.fullmatch(text):
            return self.number(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
        return text

    def fill(
        self,
        element: etree._Element,
        kind: str | None,
        into: XmlObject,
        *,
        path: str,
        sink: _Sink | None,
        own_only: bool = False,
    ) -> None:
        """Convert the child elements of ``element`` (of type ``kind``) into ``into``."""
        _check_text(element, path, sink)
        slots = R4_ELEMENTS.get(kind or "", R4_ELEMENTS["Element"])
        groups: dict[str, list[etree._Element]] = {}
        for child in _children(element, path, sink):
            if kind == "Narrative" and child.tag.endswith("}div"):
                continue  # XHTML: never read, never shown
            if not child.tag.startswith(_FHIR):
                if sink is not None:
                    sink.add(
                        f"has an element outside the FHIR namespace {_inside(path)} "
                        f"(line {child.sourceline})"
                    )
                continue
            groups.setdefault(child.tag[len(_FHIR) :], []).append(child)
        for name, items in groups.items():
            slot = slots.get(name)
            repeats, child_kind = slot if slot is not None else (len(items) > 1, None)
            where = f"{path}.{name if slot else '*'}" if path else (name if slot else "*")
            kept = items
            if not repeats and len(items) > 1:
                if sink is not None:
                    lines = ", ".join(str(item.sourceline) for item in items)
                    sink.add(
                        f"has {where} {len(items)} times (lines {lines}; FHIR R4 allows it once)"
                    )
                kept = items[-1:]  # as JSON's last key wins; the record is rejected anyway
            values: list[Any] = []
            extras: list[XmlObject | None] = []
            for number, item in enumerate(kept):
                value, extra = self.element(
                    item,
                    name=name,
                    parent=kind,
                    kind=child_kind,
                    path=f"{where}[{number}]" if repeats else where,
                    sink=None if own_only else sink,
                    own=sink,
                )
                values.append(value)
                extras.append(extra)
            for key, found in ((name, values), (f"_{name}", extras)):
                if all(v is None for v in found):
                    continue
                if key in into:  # an id attribute and an id element; an element resourceType
                    if sink is not None:
                        sink.add(f"has {where} twice (FHIR R4 allows it once)")
                    continue
                into[key] = found if repeats else found[-1]

    def element(
        self,
        element: etree._Element,
        *,
        name: str,
        parent: str | None,
        kind: str | None,
        path: str,
        sink: _Sink | None,
        own: _Sink | None,
    ) -> tuple[Any, XmlObject | None]:
        """One element: ``(value, its _name object)`` for a primitive, ``(object, None)`` else.

        An element with a ``value`` attribute is a primitive whatever the table says (so a
        ``<quantity value="30"/>`` is text where an object belongs, as JSON's
        ``"quantity": "30"`` would be); one without is an object, unless the table makes it a
        primitive and it holds only extensions.
        """
        if kind == RESOURCE:
            return self.wrapped(
                element,
                record=(parent, name) == ("Bundle.entry", "resource"),
                path=path,
                sink=sink,
                own=own,
            ), None
        text = element.get("value")
        identity = element.get("id")
        if text is not None or (kind in PRIMITIVES and _only_extensions(element)):
            extra: XmlObject | None = None
            if identity is not None or len(element):
                extra = XmlObject(element.sourceline)
                if identity is not None:
                    extra["id"] = identity
                self.fill(element, "Element", extra, path=path, sink=sink)
            else:
                _check_text(element, path, sink)  # <status>completed</status>
            return (None if text is None else self.value(text, kind)), extra
        found = XmlObject(element.sourceline)
        if identity is not None:
            found["id"] = identity
        url = element.get("url")
        if url is not None and (kind == "Extension" or (kind is None and "xtension" in name)):
            found["url"] = url
        if (parent, name) == ("Bundle", "entry"):
            entry = _Sink()
            self.fill(element, kind, found, path=path, sink=entry, own_only=True)
            found.problem = entry.problem
        else:
            self.fill(element, kind, found, path=path, sink=sink)
        return found, None

    def wrapped(
        self,
        element: etree._Element,
        *,
        record: bool,
        path: str,
        sink: _Sink | None,
        own: _Sink | None,
    ) -> XmlObject:
        """The resource an element such as ``contained`` wraps.

        A Bundle entry's resource is a ``record`` of its own: it keeps its own problems, and its
        paths start at the resource; the wrapper's own problems are the entry's (``own``). A
        contained resource passes its problems to its holder.
        """
        holder = own if record else sink
        _check_text(element, path, holder)
        children = list(_children(element, path, holder))
        if not children or not children[0].tag.startswith(_FHIR):
            missing = (
                "a resource element outside the FHIR namespace"
                if children
                else "an empty resource element"
            )
            empty = XmlObject(element.sourceline)
            empty.problem = missing
            if not record and sink is not None:
                sink.add(f"has {missing} in {path} (line {element.sourceline})")
            return empty
        if len(children) > 1 and holder is not None:
            holder.add(f"has more than one resource in {path} (line {element.sourceline})")
        if not record:
            return self.resource(children[0], sink=sink, path=path)
        mine = _Sink()
        found = self.resource(children[0], sink=mine, path="")
        found.problem = mine.problem
        return found


def _children(element: etree._Element, path: str, sink: _Sink | None) -> Iterator[etree._Element]:
    """The child elements, text between them reported to ``sink``."""
    for child in element:
        if sink is not None and child.tail is not None and child.tail.strip(_BLANK):
            sink.add(f"has text {_inside(path)} (line {child.sourceline}; {_VALUES_IN_ATTRIBUTES})")
        if isinstance(child.tag, str):  # not an entity reference (there is no DTD to define one)
            yield child


def _check_text(element: etree._Element, path: str, sink: _Sink | None) -> None:
    if sink is not None and element.text is not None and element.text.strip(_BLANK):
        sink.add(f"has text {_inside(path)} (line {element.sourceline}; {_VALUES_IN_ATTRIBUTES})")


def _only_extensions(element: etree._Element) -> bool:
    """Whether an element's children are all ``extension`` (a primitive without a value)."""
    return all(
        not isinstance(child.tag, str) or child.tag == f"{_FHIR}extension" for child in element
    )


def _inside(path: str) -> str:
    return f"in {path}" if path else "directly inside it"
