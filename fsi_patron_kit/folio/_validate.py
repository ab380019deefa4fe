"""Check a request body against its schema before sending; name the field and the rule.

jsonschema is FOLIO's own language for these contracts, so the reference validator checks them;
this module only turns its findings into :class:`~fsi_patron_kit.errors.InputError` with a
dotted field path (``contactInfo.email``) and a rule a person can act on. Values are never put
in the message: they may be a patron's personal data.

The schemas keep the document's (ECMA-262) patterns, ``^...$``; Python's ``$`` also matches
before a trailing newline, so no string of a body may hold a control character (checked before
the schema), and path ids are matched in full. Each schema is compiled once, on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .._checks import CONTROL, EMAIL, control_character_at
from .._time import parse_iso
from ..errors import InputError
from ._schemas import ANY_UUID, UUID

_UUID = re.compile(r"\A" + UUID.removeprefix("^").removesuffix("$") + r"\Z")  # whole string, whatever the call

_formats = FormatChecker(formats=())


@_formats.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or (EMAIL.fullmatch(value) is not None and not CONTROL.search(value))


_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        if not _DATE_AND_TIME.match(value):
            raise ValueError("a date-time needs a date and a time")
        parse_iso(value)
    return True


_compiled: dict[int, tuple[Mapping[str, Any], Draft4Validator]] = {}
_compiling = threading.Lock()


def validator_for(schema: Mapping[str, Any]) -> Draft4Validator:
    """The one compiled validator of ``schema`` (a module-level schema object), built on first use."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        with _compiling:
            entry = _compiled.get(id(schema))
            if entry is None or entry[0] is not schema:
                entry = _compiled[id(schema)] = (schema, Draft4Validator(schema, format_checker=_formats))
    return entry[1]


def check_body(schema: Mapping[str, Any], body: Any, *, user_text: bool = True) -> None:
    """Raise InputError for the first rule ``body`` breaks (in document order).

    ``user_text=False`` skips the control-character rule, for a body that carries back what the
    server sent (its text is the server's business) around fields already checked.
    """
    title = str(schema.get("title", "body"))
    where = control_character_at(body) if user_text else None
    if where is not None:
        raise InputError(where or title, "must not contain control characters (line breaks, tabs, NUL)")
    found = problems(schema, body)
    if found:
        raise InputError(*found[0])


def problems(schema: Mapping[str, Any], body: Any) -> list[tuple[str, str]]:
    """(field, rule) for every rule ``body`` breaks, in document order, each once; nothing is sent."""
    title = str(schema.get("title", "body"))
    errors = sorted(validator_for(schema).iter_errors(body), key=_order)
    return list(dict.fromkeys(_describe(error, title) for error in errors))


def check_uuid(name: str, value: Any) -> str:
    """A path id: FOLIO's UUID pattern, matched in full."""
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise InputError(name, "must be a UUID (FOLIO's pattern, version 1-5)")
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
