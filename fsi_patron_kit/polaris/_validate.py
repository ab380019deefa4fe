"""Check a registration update before sending it: every rule of document 004's tables, every problem.

The rules come from the models' property tables (type, nullable, "Required"), plus the one the
document states in words: an address needs ``AddressLabelID`` or ``AddressLabelDescription``.
``NameFirst`` is "required based on SA", a setting of the tenant the kit cannot see: Polaris
itself answers that one (a Stop naming the empty fields). All problems are gathered and raised
together as :class:`InvalidRegistration`, an :class:`~fsi_patron_kit.errors.InputError` whose
``field`` and ``rule`` are the first one. Values never appear in messages: they are personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .._checks import EMAIL
from .._time import parse_iso
from ..config import Secret
from ..errors import InputError
from .models import (
    BOOLEAN,
    BYTE,
    DATETIME_TEXT,
    DECIMAL,
    INT,
    STRING,
    PatronAddress,
    PatronRegistration,
    PatronRegUpdateData,
)

#: Top-level properties a caller may change; the rest are the system's counters.
TOP_LEVEL = ("barcode", "patron_code_id", "organization_id")
LABEL_RULE = "is required unless address_label_description is given"
EMAILS = ("email_address", "alt_email_address", "sdi_email_address")
RULES = {
    INT: "must be an integer",
    BYTE: "must be an integer from 0 to 255",
    DECIMAL: "must be a number",
    BOOLEAN: "must be True or False",
    STRING: "must be a string",
    DATETIME_TEXT: "must be an ISO-8601 date-time (text, date or datetime)",
}


class InvalidRegistration(InputError):
    """Every problem found in a registration update; ``field``/``rule`` are the first one."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(*problems[0])
        self.problems = problems
        self.args = ("; ".join(f"{field}: {rule}" for field, rule in problems),)

    def __str__(self) -> str:
        return str(self.args[0])


def check_patron_id(value: Any, field: str = "patron_id") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(field, "must be a positive integer (Polaris's PatronID)")
    return value


def changes_for(changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``changes`` split into top-level and Registration values, checked and put in wire form.

    Keys are the models' snake_case names: ``barcode``, ``patron_code_id``, ``organization_id``
    and any DtoPatronRegistration property (``name_first``, ``email_address``, ``addresses``...).
    """
    if not isinstance(changes, Mapping):
        raise InputError("changes", "must be a mapping of field name to new value")
    registration_fields = attrs.fields_dict(PatronRegistration)
    update_fields = attrs.fields_dict(PatronRegUpdateData)
    problems: list[tuple[str, str]] = []
    top: dict[str, Any] = {}
    registration: dict[str, Any] = {}
    for key, value in changes.items():
        if key in TOP_LEVEL:
            top[key] = _checked(update_fields[key], value, key, problems)
        elif key == "addresses":
            registration[key] = _addresses(value, problems)
        elif key == "password":
            registration[key] = _password(value, problems)
        elif key in registration_fields and key not in ("patron_id", "private_fields_cleared"):
            registration[key] = _checked(registration_fields[key], value, key, problems)
        else:
            problems.append((str(key), "is not a field a registration update can change"))
    problems += _email_problems(registration)
    if problems:
        raise InvalidRegistration(problems)
    return top, registration


def _email_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(field, "must be a valid email address") for field in EMAILS
            if isinstance(values.get(field), str) and values[field] and not EMAIL.match(values[field])]


def check_update(data: PatronRegUpdateData) -> None:
    """Every rule of the document's three tables over the body about to be sent."""
    problems: list[tuple[str, str]] = []
    _check_model(data, "", problems)
    if data.registration is not None:
        _check_model(data.registration, "", problems)
        problems += _email_problems({field: getattr(data.registration, field) for field in EMAILS})
        for n, address in enumerate(data.registration.addresses or []):
            _check_model(address, f"addresses[{n}].", problems)
            if address.address_label_id is None and not address.address_label_description:
                problems.append((f"addresses[{n}].address_label_id", LABEL_RULE))
    if problems:
        raise InvalidRegistration(problems)


def _check_model(model: Any, prefix: str, problems: list[tuple[str, str]]) -> None:
    for field in attrs.fields(type(model)):
        meta = field.metadata
        if "kind" not in meta or meta["kind"] in ("object", "array") or field.name == "password":
            if meta.get("kind") == "object" and not meta.get("nullable", True) and getattr(model, field.name) is None:
                problems.append((prefix + field.name, "is required"))
            continue
        value = getattr(model, field.name)
        if value is None:
            if not meta["nullable"] or meta["required"]:
                problems.append((prefix + field.name, "is required"))
        elif not _fits(meta["kind"], value):
            problems.append((prefix + field.name, RULES[meta["kind"]]))
        elif meta["required"] and meta["kind"] == STRING and not value.strip():
            problems.append((prefix + field.name, "must not be blank"))


def _fits(kind: str, value: Any) -> bool:
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BYTE:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255
    if kind == DECIMAL:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == STRING:
        return isinstance(value, str)
    try:
        parse_iso(value)
        return True
    except ValueError:
        return False


def _checked(field: attrs.Attribute, value: Any, name: str, problems: list[tuple[str, str]]) -> Any:
    """``value`` in wire form (dates as ISO text), or a problem noted."""
    meta = field.metadata
    if isinstance(value, datetime | date) and meta["kind"] == DATETIME_TEXT:
        return value.isoformat()
    if value is None:
        if not meta["nullable"] or meta["required"]:
            problems.append((name, "is required"))
    elif not _fits(meta["kind"], value):
        problems.append((name, RULES[meta["kind"]]))
    elif meta["required"] and meta["kind"] == STRING and not value.strip():
        problems.append((name, "must not be blank"))
    return value


def _password(value: Any, problems: list[tuple[str, str]]) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not value:
        problems.append(("password", "must be a non-empty string or a Secret"))
        return None
    return Secret(value)


def _addresses(value: Any, problems: list[tuple[str, str]]) -> list[PatronAddress] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        problems.append(("addresses", "must be a list of PatronAddress or mappings"))
        return None
    fields = attrs.fields_dict(PatronAddress)
    addresses = []
    for n, item in enumerate(value):
        if isinstance(item, PatronAddress):
            addresses.append(item)
            continue
        if not isinstance(item, Mapping):
            problems.append((f"addresses[{n}]", "must be a PatronAddress or a mapping"))
            continue
        unknown = [k for k in item if k not in fields]
        problems += [(f"addresses[{n}].{k}", "is not a PatronAddress field") for k in unknown]
        addresses.append(PatronAddress(**{k: v.isoformat() if isinstance(v, datetime | date) else v
                                          for k, v in item.items() if k in fields}))
    for n, address in enumerate(addresses):
        found: list[tuple[str, str]] = []
        _check_model(address, f"addresses[{n}].", found)
        # An address's PatronID is the patron's: the client fills it in.
        problems += [p for p in found if p[0] != f"addresses[{n}].patron_id"]
        if address.address_label_id is None and not address.address_label_description:
            problems.append((f"addresses[{n}].address_label_id", LABEL_RULE))
    return addresses
