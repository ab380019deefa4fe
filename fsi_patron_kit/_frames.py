"""Records -> DataFrame with declared columns and dtypes.

Every frame the kit returns goes through a :class:`FrameSpec`, so its column order and dtypes
are a promise rather than pandas' guess: identifiers and barcodes stay strings (a barcode
``"00123"`` must not become the number 123), counts are nullable ``Int64``, flags ``boolean``
and timestamps tz-aware UTC. Frames are built straight from decoded JSON records; going through
attrs objects first costs several times as much for no gain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import pandas as pd

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
        """A frame of exactly these columns, in this order, with these dtypes."""
        rows = records if isinstance(records, list) else list(records)
        sources = [c.source for c in self.columns]
        frame = pd.DataFrame.from_records(rows, columns=sources) if rows else pd.DataFrame(columns=sources)
        frame.columns = self.names
        return conform(frame, self)

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


def conform(frame: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """Cast ``frame``'s declared columns to their dtypes (datetimes parsed as UTC)."""
    for column in spec.columns:
        values = frame[column.name]
        if column.dtype == DATETIME:
            frame[column.name] = pd.Series([_utc(v) for v in values], index=frame.index, dtype=DATETIME)
        elif column.dtype == STRING:
            frame[column.name] = values.astype(object).where(values.notna(), None).astype(STRING)
        else:
            frame[column.name] = values.astype(column.dtype)
    return frame
