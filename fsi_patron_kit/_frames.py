"""Records -> DataFrame with declared columns and dtypes, at the cost of a plain DataFrame.

Every frame the kit returns goes through a :class:`FrameSpec`, so its column order and dtypes
are a promise rather than pandas' guess: identifiers and barcodes stay strings (a barcode
``"00123"`` must not become the number 123), counts are nullable ``Int64``, flags ``boolean``
and timestamps tz-aware UTC.

One missing-value convention for every vendor: a value that is absent (FOLIO leaves the key
out), ``null`` or an empty string (FSI sends ``""``) is ``pd.NA`` in a frame. Text of spaces
only is kept: it is data, and an audit may want to find it. A model's ``raw`` keeps what the
wire said.

Frames are built straight from the decoded JSON records, column by column from one object
array (pandas' own ``dicts_to_array``), without letting pandas infer dtypes it would then be
told to change: a frame costs about what ``pd.DataFrame.from_records`` costs, at 4 rows or
at 100,000. Going through attrs objects first costs several times as much for no gain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import numpy as np
import pandas as pd
from pandas._libs.lib import dicts_to_array

from ._time import parse_instant

STRING = "string"
INT = "Int64"
FLOAT = "Float64"
BOOL = "boolean"
DATETIME = "datetime64[us, UTC]"  # microseconds: FOLIO has due dates in the year 2525


@attrs.frozen
class Column:
    """One declared column: its name in the frame, its dtype and its name on the wire."""

    name: str
    dtype: str = STRING
    wire: str | None = None

    @property
    def source(self) -> str:
        return self.wire or self.name


@attrs.frozen
class FrameSpec:
    """The declared shape of a frame."""

    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def build(self, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
        """A frame of exactly these columns, in this order, with these dtypes; blanks are ``pd.NA``."""
        rows = records if isinstance(records, list) else list(records)
        values = dicts_to_array(rows, [c.source for c in self.columns]) if rows else np.empty(
            (0, len(self.columns)), dtype=object)
        if rows:
            values[values == ""] = None  # FSI's "" and FOLIO's absent key are the same: missing
        columns = {c.name: _array(values[:, i], c.dtype) for i, c in enumerate(self.columns)}
        return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)), copy=False)

    def empty(self) -> pd.DataFrame:
        return self.build([])


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON as one level of dotted keys (``item.title``); lists of text joined by ", "."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat[name] = ", ".join(value)
        else:
            flat[name] = value
    return flat


def _utc(value: Any) -> datetime | None:
    """A tz-aware UTC datetime from a datetime or ISO-8601 text; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        when = parse_instant(value)
        return when.astimezone(timezone.utc) if when else None
    return None


_STRING_DTYPE = pd.StringDtype()
_STRING_ARRAY = _STRING_DTYPE.construct_array_type()


def _array(values: np.ndarray, dtype: str) -> Any:
    """One column of objects (None or NaN where missing) as an array of ``dtype``."""
    if dtype == STRING:
        return _STRING_ARRAY._from_sequence(values, dtype=_STRING_DTYPE, copy=False)
    if dtype == DATETIME:
        return pd.array([_utc(v) for v in values], dtype=DATETIME)
    return pd.array(values, dtype=dtype)
