"""The canonical patron frame: one set of columns for every vendor, filled by each vendor's adapter.

An analyst compares systems by putting their patrons side by side, so every vendor's patrons
become the same columns with the same dtypes and one missing-value convention: a cell the vendor
has no value for (or no field for) is missing, and ``pd.isna`` says so (``pd.NA`` in text, flag
and count columns, ``NaT`` in timestamps). Blank text is missing too; text with stray spaces is
kept as it is, since that is something an audit looks for.

Each vendor's adapter (named by ``adapter=`` in its registration) says which of its fields fills
which column and what is lost; its docs page shows that mapping as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from .. import _registry
from .._frames import BOOL, DATETIME, INT, Column, FrameSpec
from ..errors import InputError

__all__ = ["CANONICAL", "COLUMNS", "PERSONAL", "Adapter", "patrons", "canonical_frame", "adapter_for"]

#: The columns, in order, with their dtypes.
CANONICAL = FrameSpec((
    Column("vendor"),  # the registered vendor name ("fsi", "folio", ...)
    Column("tenant"),  # which system of that vendor: FOLIO's tenant id, FSI's host
    Column("record_key"),  # the vendor's own id of the record
    Column("barcode"),
    Column("username"),
    Column("external_id"),
    Column("first_name"),
    Column("last_name"),
    Column("preferred_name"),
    Column("email"),
    Column("phone"),
    Column("role"),  # the role or patron group, by name
    Column("active", BOOL),
    Column("expires", DATETIME),
    Column("branch"),  # home library or branch
    Column("class_grade"),
    Column("room"),
    Column("birth_date", DATETIME),
    Column("open_loans", INT),  # only where the adapter read the patron's account
    Column("updated", DATETIME),
    Column("link"),  # where the vendor record is read
))
COLUMNS = tuple(CANONICAL.names)
#: Personal columns and how an export masks them.
PERSONAL: Mapping[str, str] = {
    "first_name": "name", "last_name": "name", "preferred_name": "name", "email": "email",
    "username": "text", "phone": "text", "birth_date": "text",
}


class Adapter(Protocol):
    """A vendor's workflow adapter, as the audit and the write checks use it.

    ``mapping`` is the documented mapping: (canonical column, vendor field or None, note) for
    every column. ``writable`` maps the columns a write may change to the vendor's field names.
    """

    vendor: str
    mapping: tuple[tuple[str, str | None, str], ...]
    lost: tuple[str, ...]
    writable: Mapping[str, str]

    def read(self, client: Any, **options: Any) -> pd.DataFrame: ...

    def refusal(self, column: str, value: Any) -> str | None: ...

    def key_refusal(self, key: Any) -> str | None: ...


def adapter_for(vendor: str) -> Adapter:
    """The registered adapter of ``vendor`` (InputError if it has none)."""
    spec = _registry.vendors().get(vendor)
    if spec is None:
        raise InputError("vendor", f"must be one of {', '.join(_registry.vendors())}")
    return spec.load_adapter()


def patrons(*clients: Any, open_loans: str = "inactive") -> pd.DataFrame:
    """Every patron of every client's system, in one canonical frame (one row per patron).

    Reading never changes data: adapters only call the vendors' list and read endpoints.
    ``open_loans`` says whose accounts a vendor that keeps loans apart (FOLIO) reads to fill
    the ``open_loans`` column: ``"inactive"`` patrons only (what the audit needs), ``"all"``
    or ``"none"``. A vendor whose staff API cannot list every patron is given as a pair with what
    to read: ``pk.patrons((wise, {"library_ids": ["I018"]}), (polaris, {"patron_ids": ids}))``.
    """
    if not clients:
        raise InputError("clients", "give at least one client (e.g. pk.connect('fsi'))")
    if open_loans not in ("inactive", "all", "none"):
        raise InputError("open_loans", "must be 'inactive', 'all' or 'none'")
    frames = []
    for given in clients:
        client, options = given if isinstance(given, tuple) else (given, {})
        vendor, _ = _registry.spec_for_class(type(client))
        frames.append(vendor.load_adapter().read(client, open_loans=open_loans, **options))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def canonical_frame(columns: Mapping[str, Iterable[Any] | Any], length: int) -> pd.DataFrame:
    """A canonical frame of ``length`` rows from column values (scalars fill every row).

    Columns not given are missing; blank text becomes missing. Adapters build their frames
    with this, vectorised, so 100,000 patrons take a fraction of a second.
    """
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        raise InputError(sorted(unknown)[0], f"is not a canonical column (one of {', '.join(COLUMNS)})")
    index = pd.RangeIndex(length)
    data = {}
    for column in CANONICAL.columns:
        given = columns.get(column.name)
        if isinstance(given, pd.Series | pd.Index):
            given = given.to_numpy(dtype=object)  # by position, whatever the source's index
        if column.dtype == DATETIME:
            data[column.name] = pd.to_datetime(pd.Series(given, index=index, dtype=object), utc=True,
                                               errors="coerce", format="ISO8601").astype(DATETIME)
        elif column.dtype in (BOOL, INT):
            data[column.name] = pd.Series(given, index=index, dtype=object).astype(column.dtype)
        else:
            text = pd.Series(given, index=index, dtype=object).astype("string")
            data[column.name] = text.mask(text.str.len() == 0)
    return pd.DataFrame(data, index=index)
