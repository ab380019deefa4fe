"""What an FSI tenant keeps: its patrons, indexed for lookups and searches, and its sessions.

A search costs in proportion to its page: the unfiltered list is the stored order itself, and
each filtered search is computed once into an ordered view that later pages slice. Every write
drops the views, so a page never shows a stale match. ``counters.scanned`` counts the records
each search and lookup examined, so tests can show that cost without timing anything.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable
from datetime import datetime, timezone
from typing import Any

import attrs

from .._server import Counters, ReadWriteLock

KEYFIELDS = ("barcode", "username", "externalid", "email", "fullname")
PATRON_FIELDS = ("barcode", "username", "externalid", "firstname", "surname", "email", "classgrade", "room", "role")
CODE_LIFETIME = 300.0
RENEWTOKEN_LIFETIME = 86400.0
CACHED_VIEWS = 32

Record = dict[str, Any]


def normal(value: str) -> str:
    """How key fields are compared: case-insensitively, ignoring surrounding spaces."""
    return value.strip().lower()


def key_of(record: Record, keyfield: str) -> str:
    if keyfield == "fullname":
        return normal(f"{record['firstname'].strip()} {record['surname'].strip()}")
    return normal(record[keyfield])


class School:
    """The stored patrons, in creation order, with an index per key field and cached search views.

    Handlers take ``lock.reading()`` to look and ``lock.writing()`` to change, and change
    records only through :meth:`add` and :meth:`update`, which keep the indexes right.
    """

    def __init__(self, records: list[Record], counters: Counters) -> None:
        self.lock = ReadWriteLock()
        self._counters = counters
        self._records = records
        self._index: dict[str, defaultdict[str, list[Record]]] = {field: defaultdict(list) for field in KEYFIELDS}
        self._barcodes: dict[str, Record] = {}
        self._views: OrderedDict[Hashable, list[Record]] = OrderedDict()
        self._views_lock = threading.Lock()
        self._top_barcode = 0
        for record in records:
            self._enter(record)

    def __len__(self) -> int:
        return len(self._records)

    def copies(self) -> list[Record]:
        return [dict(r) for r in self._records]

    # -- reading ---------------------------------------------------------------------------------
    def matching(self, keyfield: str, value: str) -> list[Record]:
        """The patrons whose ``keyfield`` equals ``value`` as key fields compare."""
        found = list(self._index[keyfield].get(normal(value), ()))
        self._counters.scan(len(found))
        return found

    def owner_of_barcode(self, barcode: str) -> Record | None:
        return self._barcodes.get(barcode)

    def page(self, key: Hashable | None, accepts: Callable[[Record], bool], start: int, size: int) -> list[Record]:
        """Records ``start`` to ``start + size`` of those ``accepts`` admits, in stored order.

        ``key`` names the filter (None: no filter); a filtered view is built once and kept until
        the next write, so walking its pages costs one scan plus the pages themselves.
        """
        view = self._records if key is None else self._view(key, accepts)
        chosen = view[start:start + size]
        self._counters.scan(len(chosen))
        return chosen

    def _view(self, key: Hashable, accepts: Callable[[Record], bool]) -> list[Record]:
        with self._views_lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]
        view = [r for r in self._records if accepts(r)]
        self._counters.scan(len(self._records))
        with self._views_lock:
            self._views[key] = view
            while len(self._views) > CACHED_VIEWS:
                self._views.popitem(last=False)
        return view

    # -- writing (under lock.writing()) ---------------------------------------------------------
    def add(self, record: Record) -> None:
        self._records.append(record)
        self._enter(record)
        self._forget_views()

    def update(self, record: Record, changes: dict[str, str]) -> None:
        self._leave(record)
        record.update(changes)
        self._enter(record)
        self._forget_views()

    def next_barcode(self) -> str:
        return f"{self._top_barcode + 1:07d}"

    def _enter(self, record: Record) -> None:
        for field, index in self._index.items():
            if field == "fullname" or record[field]:
                index[key_of(record, field)].append(record)
        self._barcodes[record["barcode"]] = record
        if record["barcode"].isdigit():
            self._top_barcode = max(self._top_barcode, int(record["barcode"]))

    def _leave(self, record: Record) -> None:
        for field, index in self._index.items():
            bucket = index.get(key_of(record, field), [])
            if any(r is record for r in bucket):
                bucket[:] = [r for r in bucket if r is not record]
        if self._barcodes.get(record["barcode"]) is record:
            del self._barcodes[record["barcode"]]

    def _forget_views(self) -> None:
        with self._views_lock:
            self._views.clear()


@attrs.define
class Session:
    token: str
    renewtoken: str
    expires: float
    renew_until: float


class Sessions:
    """One-time codes and session tokens, with their own lock (logging in never waits for a search)."""

    def __init__(self, clock: Callable[[], float], lifetime: Callable[[], float]) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, Session] = {}

    def new_code(self) -> str:
        code = secrets.token_hex(8)
        with self._lock:
            self._codes[code] = self._clock() + CODE_LIFETIME
        return code

    def use_code(self, code: str) -> bool:
        """True if the code was issued and is still fresh; either way it cannot be used again."""
        with self._lock:
            valid_until = self._codes.pop(code, None)
        return valid_until is not None and valid_until >= self._clock()

    def open(self) -> dict[str, str]:
        """A new session, as gettoken and renewtoken answer it."""
        now = self._clock()
        session = Session(token=secrets.token_urlsafe(24), renewtoken=secrets.token_urlsafe(24),
                          expires=now + self._lifetime(), renew_until=now + RENEWTOKEN_LIFETIME)
        with self._lock:
            self._sessions[session.token] = session
        expire = datetime.fromtimestamp(session.expires, timezone.utc).isoformat(timespec="seconds")
        return {"token": session.token, "renewtoken": session.renewtoken, "expire": expire.replace("+00:00", "Z")}

    def renew(self, token: str, renewtoken: str) -> bool:
        """End the session if ``renewtoken`` renews it (the caller then opens a new one)."""
        with self._lock:
            session = self._sessions.get(token)
            if session is None or session.renewtoken != renewtoken or session.renew_until < self._clock():
                return False
            del self._sessions[token]
        return True

    def is_live(self, token: str) -> bool:
        with self._lock:
            session = self._sessions.get(token)
        return session is not None and session.expires >= self._clock()

    def expire_all(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.expires = self._clock() - 1

    def forget_all(self) -> None:
        with self._lock:
            self._sessions.clear()


@attrs.frozen
class Credentials:
    apikey: str
    apisecret: str


@attrs.define
class Tenant:
    """Everything an action handler works on."""

    credentials: Credentials
    school: School
    sessions: Sessions
    counters: Counters
    page_cap: int | None = None  # answer at most this many per page, silently
