"""One session-token lifecycle for every vendor that logs in (FSI, FOLIO, Wise, Polaris).

A vendor says how to log in, how to renew if it can, and how credentials travel; this base
decides *when*: log in on first use, renew ahead of expiry (but never before half a token's
life, so short-lived tokens do not cause a renewal per call), recover once after the server
rejects a token, share one login among every thread that needs it, and never keep a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import requests

from ._checks import check_seconds
from .errors import AuthError, ConfigError, TransportError

if TYPE_CHECKING:
    from ._http import Call, Transport


@attrs.frozen
class Grant:
    """What a login or renewal handed out: the vendor's credentials object and its expiry.

    ``credentials`` is the vendor's own frozen object whose repr masks every secret, so that
    not even a traceback's locals can show a token. ``expires`` is in epoch seconds, or None
    when the server does not say (then the token is kept until the server rejects it).
    """

    credentials: Any
    expires: float | None = None


@attrs.frozen
class SessionInfo:
    """What a notebook may see of a session: when it expires and how it was obtained."""

    expires_at: datetime | None
    logins: int
    renewals: int

    def _repr_html_(self) -> str:
        from ._display import attrs_card

        return attrs_card("session", self)


class SessionAuth:
    """The transport's auth hook for vendors with session tokens (thread-safe).

    Subclasses implement :meth:`_login`, optionally :meth:`_renew`, and the wire-level
    :meth:`apply`, :meth:`is_rejection` and :meth:`secrets_in` (and :meth:`sign` if requests
    are signed).
    """

    #: Retry the whole login flow on a network failure with the transport's retry policy.
    #: For flows of several steps (FSI's one-time code cannot be sent twice); a one-request
    #: login marks its call idempotent instead.
    restart_login: ClassVar[bool] = False

    def __init__(self, *, renew_margin: float, clock: Callable[[], float] = time.time) -> None:
        self._margin = check_seconds("renew_margin", renew_margin, error=ConfigError)
        self._clock = clock
        self._lock = threading.RLock()
        self._credentials: Any = None
        self._expires: float | None = None
        self._lifetime: float | None = None
        self.logins = 0
        self.renewals = 0
        # Logins finished so far, and how the last one failed (if it did): threads that waited
        # for a login share its failure instead of each sending the refused credentials again.
        self._logins_tried = 0
        self._login_failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} logged_in={self._credentials is not None}>"

    @property
    def session(self) -> SessionInfo:
        expires_at = datetime.fromtimestamp(self._expires, timezone.utc) if self._expires is not None else None
        return SessionInfo(expires_at=expires_at, logins=self.logins, renewals=self.renewals)

    # -- what the vendor supplies ---------------------------------------------------------------
    def _login(self, transport: Transport) -> Grant:
        raise NotImplementedError

    def _renew(self, transport: Transport, credentials: Any) -> Grant:
        """A fresh grant without logging in; raise AuthError where the vendor cannot renew."""
        raise AuthError("this vendor renews by logging in again")

    def apply(self, call: Call, credentials: Any) -> Call:
        raise NotImplementedError

    def sign(self, request: requests.PreparedRequest) -> None:
        """Add headers computed over the final request (nothing, unless the vendor signs)."""

    def is_rejection(self, response: requests.Response) -> bool:
        return response.status_code == 401

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        return ()

    # -- the lifecycle ---------------------------------------------------------------------------
    def current(self, call: Call | None = None) -> Any:
        """The credentials held now (None before the first login); never does I/O."""
        return self._credentials

    def ensure(self, transport: Transport, call: Call | None = None) -> Any:
        """Credentials to send now, logging in or renewing first when needed."""
        credentials = self._credentials
        if credentials is not None and not self._due():
            return credentials
        tried = self._logins_tried
        with self._lock:  # one thread logs in or renews; the others wait and use its result
            if self._credentials is None and self._logins_tried != tried and self._login_failure is not None:
                raise self._login_failure  # the login this thread waited for failed: not tried again now
            if self._credentials is None:
                self.login(transport)
            elif self._due():
                self._renew_or_login(transport)
            return self._credentials

    def recover(self, transport: Transport, call: Call, rejected: Any) -> None:
        """After the server refused ``rejected``: renew once, unless another thread already did."""
        with self._lock:
            if rejected is self._credentials:
                self._renew_or_login(transport)

    def login(self, transport: Transport) -> None:
        """Log in now, replacing any session; a failed login leaves no session behind."""
        with self._lock:
            self._credentials = None
            try:
                if self.restart_login:
                    grant = transport.retry.run(lambda: self._login(transport), retry_on=(TransportError,))
                else:
                    grant = self._login(transport)
            except BaseException as failure:
                self._logins_tried, self._login_failure = self._logins_tried + 1, failure
                raise
            self._logins_tried, self._login_failure = self._logins_tried + 1, None
            self._grant(grant)
            self.logins += 1

    def renew(self, transport: Transport) -> None:
        """Renew now without a new login (where the vendor can)."""
        with self._lock:
            if self._credentials is None:
                raise AuthError("no session to renew; log in first")
            self._grant(self._renew(transport, self._credentials))
            self.renewals += 1

    def _renew_or_login(self, transport: Transport) -> None:
        try:
            self.renew(transport)
        except (AuthError, TransportError):
            self.login(transport)

    def _grant(self, grant: Grant) -> None:
        self._credentials = grant.credentials
        self._expires = grant.expires
        self._lifetime = grant.expires - self._clock() if grant.expires is not None else None

    def _due(self) -> bool:
        """Whether to renew before the next call: within the margin, but past half the life."""
        if self._expires is None:
            return False
        lifetime = self._lifetime
        ahead = min(self._margin, lifetime / 2) if lifetime and lifetime > 0 else self._margin
        return self._expires - self._clock() < ahead
