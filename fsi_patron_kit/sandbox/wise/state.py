"""What the Wise emulator remembers: its clock, accounts, tokens, patrons and baskets.

Time matters twice in Wise and differently each time: the ``WISE_KEY`` changes at midnight
UTC, while a token is "valid for the current day until 23:59:59" in the server's own time
(Europe/Amsterdam). :class:`ServerClock` is the knob that moves the server across either
midnight without waiting.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as daytime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from .._server import Counters
from .data import SUBSCRIPTIONS, SystemData

SERVER_TIMEZONE = ZoneInfo("Europe/Amsterdam")
SECONDS_PER_DAY = 86_400


class ServerClock:
    """The emulator's sense of time: the real clock plus an offset tests and notebooks move."""

    def __init__(self, base: Callable[[], float] = time.time) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def shift(self, seconds: float) -> None:
        """Move the server's time forward (or back) by ``seconds``."""
        self.offset += seconds

    def set(self, moment: datetime) -> None:
        """Make it ``moment`` (an aware datetime) on the server now."""
        self.offset = moment.timestamp() - self._base()

    def reset(self) -> None:
        self.offset = 0.0

    def local(self) -> datetime:
        """Now in the server's time zone."""
        return datetime.fromtimestamp(self(), SERVER_TIMEZONE)

    def today(self) -> date:
        """The server's local date: the day memberships and token lifetimes are counted in."""
        return self.local().date()

    def epoch_day(self) -> int:
        """Whole days since 1970-01-01 UTC: the day the WISE_KEY is computed for."""
        return math.floor(self() / SECONDS_PER_DAY)

    def end_of_day(self) -> float:
        """Epoch seconds of 23:59:59 today, server time: when today's tokens stop working."""
        local = self.local()
        return datetime.combine(local.date(), daytime(23, 59, 59), SERVER_TIMEZONE).timestamp()


@attrs.frozen
class Application:
    """The credentials Wise issues to an application (the API key is unique per Wise system)."""

    application_name: str
    api_id: str
    api_key: str = attrs.field(repr=False)

    def expected_key(self, epoch_day: int) -> str:
        digest = hmac.new(self.api_key.encode("utf-8"), f"{epoch_day}{self.application_name}".encode(),
                          hashlib.sha256).hexdigest()
        return f"{self.api_id}:{digest}"


@attrs.frozen
class Account:
    """A Wise API user: a staff account (with its one role's permissions) or the payment account."""

    username: str
    password: str = attrs.field(repr=False)
    permissions: frozenset[str]

    def may(self, permission: str) -> bool:
        # ACTOREN Edit includes Read.
        return permission in self.permissions or (permission == "ACTOREN_READ" and "ACTOREN_EDIT" in self.permissions)


@attrs.define
class Grant:
    """An issued token: what kind, for whom, and until when (epoch seconds)."""

    kind: str  # "staff", "payment" or "patron"
    subject: str  # the account's username, or the patron's patronSystemId
    expires: float
    library_id: str | None = None
    proxy: bool = False


class Store:
    """The emulator's state, guarded by one lock that the request handler holds."""

    def __init__(self, data: SystemData, clock: ServerClock, accounts: dict[str, Account], counters: Counters) -> None:
        self.lock = threading.RLock()
        self.counters = counters
        self.clock = clock
        self.accounts = accounts
        self.patrons = data.patrons
        self.deleted = data.deleted
        self.showcase = data.showcase
        self.grants: dict[str, Grant] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.safe_list: set[str] = {"127.0.0.1", "::1"}
        self._next_patron_id = 1_500_000 + len(self.patrons)

    # -- tokens --------------------------------------------------------------------------------
    def issue(self, kind: str, subject: str, *, library_id: str | None = None, proxy: bool = False) -> str:
        token = secrets.token_hex(24)
        self.grants[token] = Grant(kind=kind, subject=subject, expires=self.clock.end_of_day(),
                                   library_id=library_id, proxy=proxy)
        return token

    def grant(self, token: str | None) -> Grant | None:
        """The live grant behind ``token`` (None when unknown or past the end of its day)."""
        grant = self.grants.get(token or "")
        return grant if grant is not None and grant.expires >= self.clock() else None

    # -- patrons -------------------------------------------------------------------------------
    def patron(self, patron_system_id: str) -> dict[str, Any] | None:
        return next((p for p in self.patrons if p["patronSystemId"] == patron_system_id), None)

    def patron_by_login(self, username: str) -> dict[str, Any] | None:
        """By username or card number; Wise keeps usernames as entered, so spaces around are ignored."""
        wanted = username.strip()
        return next((p for p in self.patrons if p["username"].strip() == wanted
                     or any(c["cardNumber"] == wanted for c in p["libraryCards"])), None)

    def patron_by_card(self, card_number: str) -> dict[str, Any] | None:
        return next((p for p in self.patrons if any(c["cardNumber"] == card_number for c in p["libraryCards"])), None)

    def patron_of_library(self, patron_system_id: str, library_id: str) -> dict[str, Any] | None:
        """The patron, if it has (or had) a membership in the library or it is its home library."""
        patron = self.patron(patron_system_id)
        if patron is None or not in_library(patron, library_id):
            return None
        return patron

    def new_patron_id(self) -> int:
        self._next_patron_id += 1
        return self._next_patron_id

    def touch(self, patron: dict[str, Any]) -> None:
        patron["updated"] = self.clock.today()

    def active_membership(self, patron: dict[str, Any], library_id: str) -> dict[str, Any] | None:
        today = self.clock.today()
        current = [m for m in patron["memberships"] if m["libraryId"] == library_id and m["end"] >= today
                   and m["status"] == "5"]
        return max(current, key=lambda m: m["end"], default=None)

    def copy_patrons(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.patrons)


def in_library(patron: dict[str, Any], library_id: str) -> bool:
    return patron["homeLibrary"] == library_id or any(m["libraryId"] == library_id for m in patron["memberships"])


def subscription(library_id: str, subscription_id: Any) -> dict[str, Any] | None:
    return next((s for s in SUBSCRIPTIONS.get(library_id, []) if str(s["id"]) == str(subscription_id)), None)

