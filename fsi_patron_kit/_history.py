"""A bounded, redacted record of a client's exchanges, shown as a DataFrame.

New integrators learn a protocol by looking at what went over the wire; analysts want to know
how many calls a job took. Each attempt is one row. Bodies are kept only when asked for
(``record_bodies=True``), because they hold patrons' personal data.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from datetime import datetime

import attrs
import pandas as pd

from ._frames import DATETIME, FLOAT, INT, Column, FrameSpec


@attrs.frozen(kw_only=True)
class Exchange:
    """One HTTP attempt, already redacted."""

    started: datetime
    vendor: str
    action: str | None
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    attempt: int
    request_bytes: int
    response_bytes: int
    outcome: str
    error: str | None = None
    request_body: str | None = attrs.field(default=None, repr=False)
    response_body: str | None = attrs.field(default=None, repr=False)


HISTORY_FRAME = FrameSpec(
    (
        Column("started", DATETIME),
        Column("vendor"),
        Column("action"),
        Column("method"),
        Column("url"),
        Column("status", INT),
        Column("elapsed_ms", FLOAT),
        Column("attempt", INT),
        Column("request_bytes", INT),
        Column("response_bytes", INT),
        Column("outcome"),
        Column("error"),
        Column("request_body"),
        Column("response_body"),
    )
)


class History:
    """The last ``maxlen`` exchanges of one client, oldest first."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._rows: deque[Exchange] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._rows.append(exchange)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Exchange]:
        with self._lock:
            return iter(list(self._rows))

    def last(self, n: int = 1) -> list[Exchange]:
        with self._lock:
            return list(self._rows)[-n:]

    def to_frame(self, *, bodies: bool = False) -> pd.DataFrame:
        """One row per attempt; body columns only with ``bodies=True`` (and only if recorded)."""
        frame = HISTORY_FRAME.build([attrs.asdict(row) for row in self])
        return frame if bodies else frame.drop(columns=["request_body", "response_body"])

    def __repr__(self) -> str:
        return f"<History {len(self)} exchanges>"

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(max_rows=50, notebook=True)
