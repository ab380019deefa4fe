"""Every row of a write frame the kit would refuse, all at once, before anything is sent.

A client refuses bad input at the first problem (``InputError``); a bulk change wants the whole
list first, as pandera's lazy validation gives its ``failure_cases``. ``validate(frame)`` asks each
row's vendor adapter the same rules the clients apply, and returns one row per refusal: the
row's position and key, the field and the rule. It sends nothing.

Two shapes are read:

* a canonical frame (``vendor``, ``record_key`` and the columns to write): every present cell of
  a column other than the identifying ones is checked;
* a change list (``vendor``, ``record_key``, ``field``, ``after``), as ``Audit.fixes()`` and a bulk
  plan have it: each row's ``after`` is checked for its ``field``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._registry import vendors
from ..errors import InputError
from ._masking import mask_values
from .canonical import COLUMNS

__all__ = ["validate", "REFUSAL_COLUMNS"]

REFUSAL_COLUMNS = ("position", "vendor", "record_key", "field", "rule", "value")
#: Columns that say which record a row is, not what to write.
IDENTIFYING = frozenset({"vendor", "tenant", "record_key", "link", "updated"})


def validate(frame: pd.DataFrame, *, personal: bool = False) -> pd.DataFrame:
    """The refusals: position, vendor, record key, field, rule and value (masked unless ``personal``).

    An empty result means the kit would send every row. Nothing is sent either way.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", "must be a DataFrame")
    if not isinstance(personal, bool):
        raise InputError("personal", "must be True or False")
    for needed in ("vendor", "record_key"):
        if needed not in frame.columns:
            raise InputError(needed, "is a column every write frame needs")
    changes = {"field", "after"} <= set(frame.columns)
    if not changes:
        unknown = [c for c in frame.columns if c not in COLUMNS]
        if unknown:
            raise InputError(str(unknown[0]), "is not a canonical column")
    refusals: list[dict[str, Any]] = []
    adapters = {name: spec.adapter and spec.load_adapter() for name, spec in vendors().items()}
    for position, row in enumerate(frame.to_dict("records")):
        refusals += _refusals(position, row, adapters, changes)
    found = pd.DataFrame(refusals, columns=list(REFUSAL_COLUMNS))
    found = found.astype({c: "string" for c in REFUSAL_COLUMNS if c != "position"} | {"position": "Int64"})
    if not personal:
        found["value"] = mask_values(found["value"], found["field"])
    return found


def _refusals(position: int, row: dict[str, Any], adapters: dict[str, Any], changes: bool) -> list[dict[str, Any]]:
    vendor, key = row.get("vendor"), row.get("record_key")
    refused = []

    def refuse(field: str, rule: str, value: Any = None) -> None:
        shown = None if _missing(value) else str(value)
        refused.append({"position": position, "vendor": vendor, "record_key": None if _missing(key) else key,
                        "field": field, "rule": rule, "value": shown})

    adapter = adapters.get(vendor) if isinstance(vendor, str) else None
    if adapter is None:
        refuse("vendor", f"must be a vendor with a workflow adapter ({', '.join(n for n, a in adapters.items() if a)})",
               vendor)
        return refused
    key_rule = adapter.key_refusal(None if _missing(key) else key)
    if key_rule:
        refuse("record_key", key_rule, key)
    cells = [(row["field"], row["after"])] if changes else [
        (column, value) for column, value in row.items() if column not in IDENTIFYING and not _missing(value)]
    for column, value in cells:
        rule = adapter.refusal(column, None if _missing(value) else value)
        if rule:
            refuse(column, rule, value)
    return refused


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, list | dict | str) and bool(pd.isna(value)))
