"""What the FOLIO tenant keeps: its records indexed for the handlers' lookups, and its tokens.

Records stay in the generated lists (the order answers list them in); the indexes beside them
make every lookup cost in proportion to what it finds. Handlers take ``lock.reading()`` to look
and ``lock.writing()`` to change, and add or change users, requests and staging users only
through the methods here, which keep the indexes right. Tokens have a lock of their own, so a
login never waits for a write.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from typing import Any

import attrs

from .._server import Counters, Knobs, ReadWriteLock
from .data import PATRON_GROUPS, REMOTE_GROUP, Tenant

REMOTE_GROUP_ID = PATRON_GROUPS[REMOTE_GROUP]

Record = dict[str, Any]


@attrs.frozen
class Credentials:
    username: str
    password: str


def email_key(email: str) -> str:
    """Emails are matched case-insensitively, ignoring surrounding spaces."""
    return email.strip().lower()


class TenantState:
    """The tenant's records, their indexes, its clock, login and tokens, and the emulator's knobs and counters."""

    def __init__(self, data: Tenant, *, name: str, credentials: Credentials, clock: Callable[[], float],
                 knobs: Knobs, counters: Counters) -> None:
        self.name = name
        self.data = data
        self.credentials = credentials
        self.clock = clock
        self.knobs = knobs
        self.counters = counters
        self.lock = ReadWriteLock()
        self.tokens = Tokens(clock, tenant=name)
        self.items = {item["id"]: item for item in data.items}
        self.instances = {instance["id"]: instance for instance in data.instances}
        self.copies: defaultdict[str, list[Record]] = defaultdict(list)
        for item in data.items:
            self.copies[item["instanceId"]].append(item)
        self._users: dict[str, Record] = {}
        self._by_external_id: defaultdict[str, list[Record]] = defaultdict(list)
        self._by_email: defaultdict[str, list[Record]] = defaultdict(list)
        self._by_username: dict[str, Record] = {}
        self.remote: dict[str, Record] = {}  # Remote Non-circulating users, in stored order
        for user in data.users:
            self._index_user(user)
        self.loans_of = _grouped(data.loans, "userId")
        self.requests_of = _grouped(data.requests, "requesterId")
        self.queue_of = _grouped(data.requests, "itemId")
        self.charges_of = _grouped(data.charges, "userId")
        self.staging = {s["externalSystemId"]: s for s in data.staging_users}

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    @property
    def today(self) -> date:
        return self.now().date()

    # -- users -----------------------------------------------------------------------------------
    def user(self, user_id: str) -> Record | None:
        return self._users.get(user_id)

    def user_named(self, username: str) -> Record | None:
        return self._by_username.get(username.lower())

    def users_with_email(self, email: str) -> list[Record]:
        return list(self._by_email.get(email_key(email), ()))

    def users_with_external_id(self, external_id: str) -> list[Record]:
        return list(self._by_external_id.get(external_id, ()))

    def caller(self, identifier: str) -> Record | None:
        """The user an edge path names: by ``externalSystemId``, else by ``id``."""
        found = self._by_external_id.get(identifier)
        return found[0] if found else self._users.get(identifier)

    def add_user(self, user: Record) -> None:
        self.data.users.append(user)
        self._index_user(user)

    def change_user(self, user: Record, change: Callable[[Record], None]) -> None:
        """Apply ``change`` to ``user`` in place, keeping the indexes right (its ``id`` must stay)."""
        self._unindex_user(user)
        change(user)
        self._index_user(user)

    def _index_user(self, user: Record) -> None:
        self._users[user["id"]] = user
        if user.get("externalSystemId"):
            self._by_external_id[user["externalSystemId"]].append(user)
        self._by_email[email_key(user["personal"].get("email", ""))].append(user)
        if user.get("username"):
            self._by_username[user["username"].lower()] = user
        if user["patronGroup"] == REMOTE_GROUP_ID:
            self.remote[user["id"]] = user  # a user already there keeps its place
        else:
            self.remote.pop(user["id"], None)

    def _unindex_user(self, user: Record) -> None:
        """Undo :meth:`_index_user` but for ``remote``, which keeps its order (and ``id``, which stays)."""
        for index, key in ((self._by_external_id, user.get("externalSystemId")),
                           (self._by_email, email_key(user["personal"].get("email", "")))):
            if key in index:
                index[key] = [u for u in index[key] if u is not user]
        if self._by_username.get((user.get("username") or "").lower()) is user:
            del self._by_username[user["username"].lower()]

    # -- circulation -----------------------------------------------------------------------------
    def open_requests(self, item_id: str) -> list[Record]:
        return [r for r in self.queue_of.get(item_id, ()) if r["status"].startswith("Open")]

    def add_request(self, record: Record) -> None:
        self.data.requests.append(record)
        self.requests_of[record["requesterId"]].append(record)
        self.queue_of[record["itemId"]].append(record)

    def add_staging_user(self, staging: Record) -> None:
        self.data.staging_users.append(staging)
        self.staging[staging["externalSystemId"]] = staging


def _grouped(records: Iterable[Record], field: str) -> defaultdict[str, list[Record]]:
    groups: defaultdict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[record[field]].append(record)
    return groups


@attrs.define
class Grant:
    """An issued token: whose it is and until when (emulator clock seconds) it is good."""

    user_id: str
    expires: float


class Tokens:
    """Access and refresh tokens mod-login has issued."""

    def __init__(self, clock: Callable[[], float], *, tenant: str) -> None:
        self._clock = clock
        self._tenant = tenant
        self._lock = threading.Lock()
        self._grants: dict[str, dict[str, Grant]] = {"access": {}, "refresh": {}}

    def issue(self, kind: str, user_id: str, username: str, lifetime: float) -> str:
        """A new JWT-shaped token of ``kind`` ("access" or "refresh")."""
        now = self._clock()
        claims: dict[str, Any] = {"sub": username, "user_id": user_id, "type": kind, "tenant": self._tenant,
                                  "iat": int(now)}
        if lifetime != math.inf:
            claims["exp"] = int(now + lifetime)
        token = ".".join((_b64url({"alg": "HS256", "typ": "JWT"}), _b64url(claims), secrets.token_urlsafe(32)))
        with self._lock:
            self._grants[kind][token] = Grant(user_id=user_id, expires=now + lifetime)
        return token

    def expiry(self, kind: str, token: str) -> float:
        with self._lock:
            return self._grants[kind][token].expires

    def live_access(self, token: str) -> Grant | None:
        with self._lock:
            grant = self._grants["access"].get(token)
        return grant if grant is not None and grant.expires > self._clock() else None

    def use_refresh(self, token: str) -> Grant | None:
        """The live grant behind a refresh token, which cannot be used again whatever happens next."""
        with self._lock:
            grant = self._grants["refresh"].pop(token, None)
        return grant if grant is not None and grant.expires > self._clock() else None

    def end_refresh_of(self, user_id: str) -> None:
        """Invalidate every refresh token of a user (logout on all devices)."""
        with self._lock:
            refresh = self._grants["refresh"]
            for token in [t for t, grant in refresh.items() if grant.user_id == user_id]:
                del refresh[token]

    def expire_access(self) -> None:
        with self._lock:
            for grant in self._grants["access"].values():
                grant.expires = self._clock() - 1


def _b64url(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
