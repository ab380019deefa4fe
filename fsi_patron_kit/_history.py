"""A bounded, redacted record of a client's exchanges, shown as a DataFrame or as the wire.

New integrators learn a protocol by looking at what went over the wire; analysts want to know
how many calls a job took. Each attempt is one row. Headers are always kept, masked (a cookie
shows its name, never its value); bodies only when asked for (``record_bodies=True``),
because they hold patrons' personal data. ``history.show(last=3)`` prints the last exchanges
with JSON bodies laid out readably, and :meth:`Exchange.to_curl` gives the command that
repeats one, secrets masked.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import pandas as pd

from ._frames import DATETIME, FLOAT, INT, Column, FrameSpec
from ._redact import MASK, is_secret_name, redact_text

_COOKIE_ATTRIBUTES = frozenset({"expires", "max-age", "domain", "path", "samesite", "secure", "httponly"})
_COOKIE_PAIR = re.compile(r"(^|;\s*|,\s*)([^=;,\s]+)=([^;,]*)")  # several Set-Cookie joined by ", "
#: Headers every request carries that say nothing about the API; left out of curl commands.
_TRANSPORT_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "connection", "content-length"})


def mask_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Headers as they may be shown: secret ones masked, cookies by name with values masked."""
    masked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if name.lower() in ("cookie", "set-cookie"):
            masked[name] = redact_text(_COOKIE_PAIR.sub(_mask_cookie, str(value)))
        elif is_secret_name(name):
            masked[name] = MASK
        else:
            masked[name] = redact_text(str(value))
    return masked


def _mask_cookie(match: re.Match[str]) -> str:
    lead, name, value = match.groups()
    return match.group(0) if name.lower() in _COOKIE_ATTRIBUTES else f"{lead}{name}={MASK}"


def pretty(body: str | None) -> str | None:
    """A body laid out for reading: JSON indented (JSON inside a string decoded too), a form one
    field per line; anything else as it is."""
    if not body:
        return body
    try:
        return json.dumps(_decoded(json.loads(body)), indent=2, ensure_ascii=False)
    except ValueError:
        pass
    if "=" in body and " " not in body and "\n" not in body:
        return "\n".join(f"{key}={value}" for key, value in parse_qsl(body, keep_blank_values=True))
    return body


def _decoded(value: Any) -> Any:
    """JSON with JSON-encoded strings inside it (ASP.NET's ``{"d": "{...}"}``) decoded in place."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _decoded(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


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
    request_headers: Mapping[str, str] = attrs.field(factory=dict, repr=False, converter=mask_headers)
    response_headers: Mapping[str, str] = attrs.field(factory=dict, repr=False, converter=mask_headers)
    request_body: str | None = attrs.field(default=None, repr=False)
    response_body: str | None = attrs.field(default=None, repr=False)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def to_curl(self) -> str:
        """The curl command that sends this request again, with every secret masked (``***``).

        Put the real credentials back in before running it; the kit never shows them.
        """
        lines = [f"curl -X {self.method} {shlex.quote(self.url)}"]
        lines += [f"  -H {shlex.quote(f'{name}: {value}')}" for name, value in self.request_headers.items()
                  if name.lower() not in _TRANSPORT_HEADERS]
        if self.request_body:
            lines.append(f"  --data-raw {shlex.quote(self.request_body)}")
        elif self.request_bytes:
            lines.append("  # the body was not recorded: record_bodies=True keeps it")
        return " \\\n".join(lines)

    def to_text(self, *, width: int | None = None) -> str:
        """The exchange as it went over the wire: request line, headers and bodies."""
        status = self.status if self.status is not None else (self.error or "no answer")
        head = f"{self.action or self.method}: {self.method} {self.path} -> {status}"
        if self.attempt > 1:
            head += f" (attempt {self.attempt})"
        parts = [head]
        for arrow, headers, body, size in (
            (">", self.request_headers, self.request_body, self.request_bytes),
            ("<", self.response_headers, self.response_body, self.response_bytes),
        ):
            parts += [f"{arrow} {name}: {value}" for name, value in headers.items()
                      if name.lower() not in _TRANSPORT_HEADERS and name.lower() != "date"]
            if body:
                parts.append(_cut(pretty(body) or "", width))
            elif size:
                parts.append(f"({size} bytes, not recorded: record_bodies=True keeps bodies)")
        return "\n".join(parts)


def _cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[:width] + " …"


@attrs.frozen
class Exchanges:
    """Some exchanges to look at (``history.show()``), as text and as HTML."""

    exchanges: tuple[Exchange, ...]
    width: int | None = None

    def __len__(self) -> int:
        return len(self.exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.exchanges)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Exchanges(self.exchanges[index], self.width)
        return self.exchanges[index]

    def __repr__(self) -> str:
        if not self.exchanges:
            return "(no exchanges)"
        return "\n\n".join(e.to_text(width=self.width) for e in self.exchanges)

    def _repr_html_(self) -> str:
        blocks = "".join(
            f"<pre style='white-space:pre-wrap;margin:0 0 1em 0'>{html.escape(e.to_text(width=self.width))}</pre>"
            for e in self.exchanges)
        return f"<div class='pk-exchanges'>{blocks or '(no exchanges)'}</div>"


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

    def show(self, last: int = 1, *, width: int | None = None) -> Exchanges:
        """The last ``last`` exchanges as they went over the wire, bodies laid out for reading
        (cut to ``width`` characters if given); secrets masked."""
        return Exchanges(tuple(self.last(last)) if last > 0 else (), width)

    def to_frame(self, *, bodies: bool = False) -> pd.DataFrame:
        """One row per attempt; body columns only with ``bodies=True`` (and only if recorded)."""
        rows = [{name: getattr(row, name) for name in HISTORY_FRAME.names} for row in self]
        frame = HISTORY_FRAME.build(rows)
        return frame if bodies else frame.drop(columns=["request_body", "response_body"])

    def __repr__(self) -> str:
        return f"<History {len(self)} exchanges>"

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(max_rows=50, notebook=True)
