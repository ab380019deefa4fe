"""When a session token expires, and when to renew it ahead of that.

Shared by every auth hook. A token is renewed once less than ``margin`` seconds of it are
left, but never before half its life is over: a server that grants tokens shorter than the
margin would otherwise see a renewal before every call, and parallel workers would keep
invalidating each other's tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import attrs


@attrs.define
class Expiry:
    margin: float
    clock: Callable[[], float] = time.time
    expires: float | None = None
    lifetime: float | None = None

    def granted(self, expires: float | None) -> None:
        """A new token arrived; ``expires`` is its expiry in epoch seconds, if the server said."""
        self.expires = expires
        self.lifetime = expires - self.clock() if expires is not None else None

    def due(self) -> bool:
        """Whether to renew before the next call."""
        if self.expires is None:
            return False
        ahead = min(self.margin, self.lifetime / 2) if self.lifetime and self.lifetime > 0 else self.margin
        return self.expires - self.clock() < ahead

    @property
    def at(self) -> datetime | None:
        return datetime.fromtimestamp(self.expires, timezone.utc) if self.expires is not None else None
