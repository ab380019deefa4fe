"""Check a request body against its schema before sending; name the field and the rule.

jsonschema is FOLIO's own language for these contracts, so the reference validator checks them;
this module only turns its findings into :class:`~fsi_patron_kit.errors.InputError` with a
dotted field path (``contactInfo.email``) and a rule a person can act on. Values are never put
in the message: they may be a patron's personal data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .._checks import EMAIL
from .._time import parse_iso
from ..errors import InputError
from ._schemas import ANY_UUID, UUID

_UUID = re.compile(UUID)

_formats = FormatChecker(formats=())


@_formats.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(EMAIL.match(value))


_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        if not _DATE_AND_TIME.match(value):
            raise ValueError("a date-time needs a date and a time")
        parse_iso(value)
    return True


def check_body(schema: Mapping[str, Any], body: Any) -> None:
    """Raise InputError for the first rule ``body`` breaks (in document order)."""
    errors = sorted(Draft4Validator(schema, format_checker=_formats).iter_errors(body), key=_order)
    if errors:
        field, rule = _describe(errors[0], str(schema.get("title", "body")))
        raise InputError(field, rule)


def check_uuid(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        raise InputError(name, "must be a UUID (FOLIO's pattern, version 1-5)")
    return value


def check_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be a non-empty string")
    return value


def check_email(name: str, value: Any) -> str:
    if not isinstance(value, str) or not EMAIL.match(value):
        raise InputError(name, "must be a valid email address")
    return value


def _order(error: ValidationError) -> tuple:
    return (len(error.absolute_path), [str(p) for p in error.absolute_path])


def _describe(error: ValidationError, title: str) -> tuple[str, str]:
    path = [str(p) for p in error.absolute_path]
    rule: str
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        return ".".join([*path, missing]), "is required"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))[0]
        return ".".join([*path, extra]), f"is not a property of the {title} (allowed: {', '.join(allowed)})"
    if error.validator == "enum":
        rule = f"must be one of {', '.join(map(str, error.validator_value))}"
    elif error.validator == "pattern":
        rule = {UUID: "must be a UUID (FOLIO's pattern, version 1-5)", ANY_UUID: "must be a UUID"}.get(
            error.validator_value, "has the wrong form")
    elif error.validator == "format":
        rule = {"email": "must be a valid email address", "date-time": "must be an ISO-8601 date-time"}.get(
            error.validator_value, f"must be a {error.validator_value}")
    elif error.validator == "maxItems":
        rule = f"must have at most {error.validator_value} items"
    elif error.validator == "uniqueItems":
        rule = "must not repeat an item"
    elif error.validator == "type":
        rule = f"must be of type {error.validator_value}"
    else:
        rule = f"breaks the schema rule '{error.validator}'"
    return ".".join(path) or title, rule
