"""Turning field values into text and back, the same way for SQLite and for CSV.

Dates are ISO text, booleans ``1``/``0`` in SQLite and ``true``/``false`` in CSV, JSON values
compact JSON with sorted keys, missing numbers and dates an empty cell (SQL ``NULL``).

>>> import datetime as dt
>>> from benzoredux.register.codec import decode_text, encode_text
>>> from benzoredux.register.schema import KINDS
>>> spec = KINDS["letters"].field("letter_date")
>>> decode_text(spec, encode_text(spec, dt.date(2026, 2, 3)))
datetime.date(2026, 2, 3)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from benzoredux.register.schema import FieldSpec

__all__ = ["decode_sql", "decode_text", "dump_json", "encode_sql", "encode_text"]


def dump_json(value: Any) -> str:
    """Compact JSON with sorted keys, so equal values give equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def encode_sql(spec: FieldSpec, value: Any) -> Any:
    """The value as SQLite stores it."""
    if value is None:
        return None
    if spec.type == "json":
        return dump_json(value)
    if spec.type == "date":
        return value.isoformat()
    if spec.type == "bool":
        return int(value)
    return value


def decode_sql(spec: FieldSpec, value: Any) -> Any:
    """The Python value of what SQLite returned."""
    if spec.type == "json":
        return json.loads(value)
    if value is None:
        return None
    if spec.type == "date":
        return dt.date.fromisoformat(value)
    if spec.type == "bool":
        return bool(value)
    if spec.type == "real":
        return float(value)
    return value


def encode_text(spec: FieldSpec, value: Any) -> str:
    """The value as one CSV cell (before formula escaping, which applies to text and JSON)."""
    if value is None:
        return ""
    if spec.type == "bool":
        return "true" if value else "false"
    if spec.type == "real":
        return repr(float(value))
    if spec.type == "integer":
        return str(value)
    return str(encode_sql(spec, value))


def decode_text(spec: FieldSpec, text: str) -> Any:
    """The Python value of one CSV cell; raises ``ValueError`` saying what was expected."""
    if spec.type == "text":
        return text
    if spec.type == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("is not valid JSON") from None
    if text == "":
        return None
    if spec.type == "bool":
        if text not in ("true", "false"):
            raise ValueError("must be true or false")
        return text == "true"
    if spec.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if spec.type == "real":
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO date (YYYY-MM-DD)") from None
