"""The message rule itself: which values may be quoted, how others are described, and when
column names are data.

Properties over generated personal data (names, BSNs, birth dates in every export format,
postcodes, phone numbers): no column of any table quotes one, and no description contains
one. Examples fix what stays quoted (codes, short numbers), because a message that hides
everything helps no one correct the export.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.nl import bsn as stdnum_bsn
from tests.privacy.planting import DATE_FORMATS

from benzoredux.consult.records import CONSULTS
from benzoredux.errors import (
    SHOWN_LENGTH,
    MissingColumnsError,
    describe_columns,
    describe_value,
    looks_like_data,
    shorten,
)
from benzoredux.evaluation.letters import LETTERS_SENT
from benzoredux.tables import (
    DISPENSINGS,
    EPISODES,
    PATIENTS,
    Column,
    Kind,
    Shown,
    TableSchema,
    shown_value,
)

SCHEMAS: tuple[TableSchema, ...] = (DISPENSINGS, PATIENTS, EPISODES, CONSULTS, LETTERS_SENT)
COLUMNS = [column for schema in SCHEMAS for column in schema.columns]

LETTERS = st.characters(categories=("Lu", "Ll"), max_codepoint=0x24F)
names = st.builds(
    lambda first, rest: first.upper() + rest,
    st.text(LETTERS, min_size=1, max_size=1),
    st.text(LETTERS, min_size=1, max_size=20),
)
"""Names as exports write them: a capital and letters (Dutch accents included)."""
bsns = st.integers(10_000_000, 999_999_999).map(lambda n: f"{n:09d}").filter(stdnum_bsn.is_valid)
birth_dates = st.builds(
    lambda day, fmt: day.strftime(fmt),
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.sampled_from(DATE_FORMATS),
)
postcodes = st.builds(
    lambda digits, letters, space: f"{digits}{space}{letters}",
    st.integers(1000, 9999),
    st.text(st.sampled_from("ABCDEFGHJKLMNPRSTVWXZ"), min_size=2, max_size=2),
    st.sampled_from(["", " "]),
)
phone_numbers = st.integers(600_000_000, 699_999_999).map(lambda n: f"0{n}")
personal_data = st.one_of(names, bsns, birth_dates, postcodes, phone_numbers)

DESCRIPTION = re.compile(
    r"empty|a word|words|text|a postcode|a nine-digit number|a number|a number of \d+ digits"
    r"|a date|a date written like [9\W]+…?|true or false|not a number \(NaN\)|an infinite number"
)
"""Every description :func:`describe_value` can give: fixed words, a count of digits, and the
layout of a date with each digit written as ``9``."""


@settings(max_examples=300, deadline=None)
@given(personal_data)
def test_no_column_quotes_personal_data(value: str) -> None:
    for column in COLUMNS:
        assert shown_value(column, value) is None, (column.name, value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(personal_data, st.text(max_size=30)))
def test_a_description_is_made_of_fixed_words(value: str) -> None:
    """Fixed words, a count of digits, a date's layout in 9s: no room for the value itself."""
    assert DESCRIPTION.fullmatch(describe_value(value)), value


@settings(max_examples=300, deadline=None)
@given(personal_data)
def test_a_description_never_holds_personal_data(value: str) -> None:
    assert value not in describe_value(value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Vermeulen", "a word"),
        ("J.", "a word"),
        ("van der Berg", "words"),
        ("111222333", "a nine-digit number"),
        ("111 222 333", "a nine-digit number"),
        ("17-04-1937", "a date written like 99-99-9999"),
        ("1937-04-17T00:00:00", "a date written like 9999-99-99T99:99:99"),
        ("17.04.37", "a date written like 99.99.99"),
        ("9405 TQ", "a postcode"),
        ("9405tq", "a postcode"),
        ("1,5", "a number"),
        ("19370417", "a number of 8 digits"),
        ("no_show", "text"),
        ("", "empty"),
        (None, "empty"),
        (dt.date(1937, 4, 17), "a date"),
        (1e20, "a number of 21 digits"),
        (float("nan"), "not a number (NaN)"),
    ],
)
def test_values_are_described_by_their_kind(value: object, kind: str) -> None:
    assert describe_value(value) == kind


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("atc", "N05BA1", "'N05BA1'"),
        ("atc", "n05ba012", "'n05ba012'"),
        ("atc", "N", "'N'"),
        ("atc", "A1001", None),  # a patient number is no code
        ("atc", "N05BA01 extra", None),
        ("form", "zetpil", None),  # a word outside the known forms could be any word
        ("quantity", "1.5", "'1.5'"),
        ("quantity", "1.500", "'1.500'"),
        ("quantity", "-30", "'-30'"),
        ("quantity", 2.5, "2.5"),
        ("quantity", float("inf"), "inf"),
        ("quantity", 12345.0, None),  # five digits: part of a BSN or a date, perhaps
        ("quantity", np.int64(30), "30"),
        ("quantity", np.int64(111222333), None),
        ("quantity", "99999999999999999999", None),
        ("quantity", True, None),
        ("date", "31-02-2025", None),  # a date may be a birth date
        ("patient_id", "p1", None),  # a patient number may be a BSN
        ("prescriber_id", "01012345", None),
    ],
)
def test_only_codes_and_short_numbers_are_quoted(column: str, value: object, shown: str) -> None:
    assert shown_value(DISPENSINGS.column(column), value) == shown


def test_the_columns_that_quote_values() -> None:
    """The list on the privacy page: codes of coded columns, short numbers of number columns."""
    quoting = {
        schema.name: {c.name: c.shown.value for c in schema.columns if c.shown is not Shown.NEVER}
        for schema in (DISPENSINGS, PATIENTS, EPISODES)
    }
    assert quoting == {
        "dispensings": {
            "atc": "code",
            "quantity": "number",
            "strength_mg": "number",
            "form": "code",
            "days_supply": "number",
            "channel": "code",
        },
        "patients": {"sex": "code", "status": "code"},
        "episodes": {"icpc": "code"},
    }
    assert all(c.shown is Shown.NEVER for c in COLUMNS if c.sensitive)


def test_a_sensitive_column_cannot_quote_values() -> None:
    with pytest.raises(ValueError, match="personal data"):
        Column("bsn", Kind.TEXT, False, "BSN.", sensitive=True, shown=Shown.CODE)
    assert Column("score", Kind.NUMBER, False, "A score.").shown is Shown.NUMBER
    assert Column("note", Kind.NUMBER, False, "Secret.", sensitive=True).shown is Shown.NEVER


def test_quoted_text_is_cut_short() -> None:
    assert shorten("x" * 40) == "x" * (SHOWN_LENGTH - 1) + "…"
    assert len(shorten("x" * 40)) == SHOWN_LENGTH
    assert shorten("N05BA01") == "N05BA01"


@pytest.mark.parametrize(
    ("names", "data"),
    [
        (["Patientnummer", "Afleverdatum", "ATC", "Aantal"], False),
        (["patient_id", "date", "atc", "quantity", "strength_mg"], False),
        (["Sterkte (mg)", "Retour (J/N)", "Pat.nr"], False),
        ([0, 1, 2, 3], False),  # positions of a frame read without a header: no data
        (["A1", "17-04-1937", "Vermeulen"], True),
        (["A1", "111222333", "Vermeulen"], True),
        (["A1", "9405 TQ"], True),
        (["A1", "30", "N05BA04"], True),
    ],
)
def test_column_names_that_look_like_data(names: list[object], data: bool) -> None:
    assert looks_like_data(names) is data


def test_column_names_are_listed_unless_they_look_like_data() -> None:
    assert describe_columns(["Patientnummer", "ATC"]) == "'Patientnummer', 'ATC'"
    assert describe_columns([0, 1]) == "0, 1"
    assert describe_columns([]) == "none"
    described = describe_columns(["A1", "111222333", "Vermeulen", "17-04-1937", "9405 TQ"])
    assert described == (
        "5 fields that look like data, not column names (1 date, 1 nine-digit number, "
        "1 postcode): does the file lack its header line?"
    )
    error = MissingColumnsError("dispensings", ["atc"], ["A1", "111222333", "Vermeulen"])
    assert "111222333" not in str(error)
    assert "Vermeulen" not in str(error)
    assert error.found == ("A1", "111222333", "Vermeulen")
