"""FSI patron records: the model, the frame, the enums and the input rules.

The wire uses flat lower-case names (``externalid``, ``classgrade``); Python code and frames use
snake_case (``external_id``, ``class_grade``). :data:`WIRE_NAMES` is the one place that maps
the two; the cattrs converter, the frame spec and request building all read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .._checks import check_chars, check_email, check_text
from .._display import card, masked_body
from .._frames import Column, FrameSpec
from ..errors import InputError

__all__ = ["Patron", "SetResult", "KEYFIELDS", "ROLES", "FIELDS", "WIRE_NAMES", "PATRON_FRAME", "SET_RESULT_FRAME"]

KEYFIELDS = ("barcode", "username", "externalid", "email", "fullname")
ROLES = ("STUDENT", "TEACHER", "PARENT", "LIBRARIAN")

#: Python/frame name -> FSI wire name, in the document's order.
WIRE_NAMES: dict[str, str] = {
    "barcode": "barcode",
    "username": "username",
    "external_id": "externalid",
    "first_name": "firstname",
    "surname": "surname",
    "email": "email",
    "class_grade": "classgrade",
    "room": "room",
    "role": "role",
}
FIELDS = tuple(WIRE_NAMES)
PERSONAL = frozenset({"username", "first_name", "surname", "email"})



def _personal(name: str) -> Any:
    return attrs.field(default=None, repr=name not in PERSONAL)


@attrs.frozen(kw_only=True)
class Patron:
    """One FSI patron. Personal fields stay out of ``repr``; ``raw`` keeps the wire record."""

    barcode: str | None = _personal("barcode")
    username: str | None = _personal("username")
    external_id: str | None = _personal("external_id")
    first_name: str | None = _personal("first_name")
    surname: str | None = _personal("surname")
    email: str | None = _personal("email")
    class_grade: str | None = _personal("class_grade")
    room: str | None = _personal("room")
    role: str | None = _personal("role")
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def full_name(self) -> str:
        return " ".join(p.strip() for p in (self.first_name, self.surname) if p and p.strip())

    @classmethod
    def from_wire(cls, record: Mapping[str, Any]) -> Patron:
        return _converter.structure(dict(record, raw=dict(record)), cls)

    def to_wire(self) -> dict[str, str]:
        return {wire: getattr(self, name) for name, wire in WIRE_NAMES.items() if getattr(self, name) is not None}

    def _repr_html_(self) -> str:
        rows = [(name, getattr(self, name)) for name in FIELDS]
        return card(f"FSI patron {self.barcode or ''}".strip(), rows)


@attrs.frozen(kw_only=True)
class SetResult:
    """The outcome of one setpatron call (or, with ``dry_run``, the call that would be made)."""

    itemindex: int
    status: str  # created | updated | dry-run | failed
    message: str | None = None
    patron: Patron | None = None
    payload: Mapping[str, Any] | None = attrs.field(default=None, repr=False)

    def _repr_html_(self) -> str:
        rows = [("itemindex", self.itemindex), ("status", self.status), ("message", self.message)]
        if self.patron is not None:
            rows.append(("barcode", self.patron.barcode))
        payload = {"payload": json.dumps(masked_body(dict(self.payload)), indent=2)} if self.payload else None
        return card("FSI setpatron", rows, details=payload)


def _wire_rename() -> dict[str, Any]:
    return {name: override(rename=wire) for name, wire in WIRE_NAMES.items()}


_converter = cattrs.Converter()
_converter.register_structure_hook(str | None, lambda v, _: None if v is None else str(v))
_converter.register_structure_hook(
    Patron, make_dict_structure_fn(Patron, _converter, **_wire_rename())
)

PATRON_FRAME = FrameSpec(tuple(Column(name, wire=wire) for name, wire in WIRE_NAMES.items()))
SET_RESULT_FRAME = FrameSpec(
    (
        Column("itemindex", "Int64"),
        Column("key"),
        Column("status"),
        Column("message"),
        Column("error_type"),
    )
)


# -- input rules, checked before anything is sent -----------------------------------------------
def check_keyfield(keyfield: Any) -> str:
    if keyfield not in KEYFIELDS:
        raise InputError("keyfield", f"must be one of {', '.join(KEYFIELDS)}")
    return keyfield


def check_key_value(value: Any, field: str = "value") -> str:
    return check_text(field, value)


def check_page(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(name, "must be an integer of at least 1")
    return value


def check_fields(fields: Mapping[str, Any], *, index: int | None = None) -> dict[str, str]:
    """Validate patron fields given by Python name; return them by wire name."""
    wire: dict[str, str] = {}
    for name, value in fields.items():
        if name not in WIRE_NAMES:
            raise InputError(str(name), f"is not an FSI patron field (one of {', '.join(FIELDS)})", index=index)
        if value is None:
            continue
        check_chars(name, value, index=index)
        if name == "role" and value not in ROLES:
            raise InputError("role", f"must be one of {', '.join(ROLES)}", index=index)
        if name == "email" and value:
            check_email("email", value, index=index)
        wire[WIRE_NAMES[name]] = value
    return wire


def key_of(keyfield: str, wire: Mapping[str, str], *, index: int | None = None) -> str:
    """The value a setpatron call is matched on; it must be present and non-empty."""
    if keyfield == "fullname":
        first, last = wire.get("firstname", "").strip(), wire.get("surname", "").strip()
        if not (first and last):
            raise InputError("first_name/surname", "both must be non-empty: together they are the keyfield (fullname)",
                             index=index)
        return f"{first} {last}"
    else:
        key = wire.get(keyfield, "").strip()
        field = next(name for name, w in WIRE_NAMES.items() if w == keyfield)
    if not key:
        raise InputError(field, f"must be non-empty: it is the keyfield ({keyfield})", index=index)
    return key
