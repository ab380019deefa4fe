"""Reading FOLIO answers and FOLIO's credentials: gateway tokens and the edge apikey.

Errors come in three shapes and :func:`decode` reads them all into one typed exception
carrying FOLIO's code and message:

* RMB's ``{"errors": [{"message", "code", "type", "parameters"}]}`` (mod-patron, mod-login);
* the edge LC form ``{"code": 422, "errorMessage": "USER_ALREADY_EXIST"}`` (document 003), and
  its upstream variant ``{"code": "STAGING_USER_NOT_FOUND", "errorMessage": "Staging ..."}``;
* text/plain bodies (``account not found``), for most 4xx and 5xx.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from http.cookies import SimpleCookie
from typing import Any

import attrs
import requests

from .._display import attrs_card
from .._http import Call, Transport, answer_error, json_answer
from .._redact import redact_url
from .._session import Grant, SessionAuth
from .._time import parse_instant
from ..config import Secret
from ..errors import AuthError, ConflictError, InputError, NotFoundError

VENDOR = "folio"

#: FOLIO's codes and their messages, for answers that carry only the code (document 003's table).
MESSAGES: dict[str, str] = {
    "MULTIPLE_USER_WITH_EMAIL": "Multiple users found with the same email",
    "USER_ACCOUNT_INACTIVE": "User account is not active",
    "USER_ALREADY_EXIST": "User already exists",
    "USER_NOT_FOUND": "User does not exist",
    "STAGING_USER_NOT_FOUND": "Staging user does not exist",
    "EMAIL_ALREADY_EXIST": "User already exist with email provided in payload",
    "INVALID_PATRON_GROUP": "User does not belong to the required patron group",
    "PATRON_GROUP_NOT_APPLICABLE": "Required Patron group not applicable for user",
}
NOT_FOUND_CODES = frozenset({"USER_NOT_FOUND", "STAGING_USER_NOT_FOUND"})
# Each of these refuses a write because of a user that already exists and does not fit.
CONFLICT_CODES = frozenset(MESSAGES) - NOT_FOUND_CODES
_CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def decode(response: requests.Response, *, action: str, vendor: str = VENDOR) -> Any:
    """The answer's JSON (None when empty), or the typed exception it stands for."""
    if response.ok:
        return json_answer(response, vendor=vendor, action=action)
    code, message = error_of(response)
    cls = NotFoundError if code in NOT_FOUND_CODES else ConflictError if code in CONFLICT_CODES else None
    raise answer_error(response, message, vendor=vendor, action=action, code=code, cls=cls)


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """FOLIO's (code, message) from any of its error shapes."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text.strip() or response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        return first.get("code"), str(first.get("message") or MESSAGES.get(first.get("code"), ""))
    if isinstance(body, dict) and "errorMessage" in body:
        text, code = str(body["errorMessage"]), body.get("code")
        if _CODE.match(text):  # document 003: the code travels in errorMessage
            return text, MESSAGES.get(text, text)
        return (code if isinstance(code, str) else None), text
    return None, response.text.strip()[:500]


def describe(response: requests.Response) -> str | None:
    """A history note: FOLIO's code (or message) for a failed answer."""
    if response.ok:
        return None
    code, message = error_of(response)
    return code or message[:120]


# -- the gateway: login-with-expiry, refresh, legacy login ---------------------------------------
ACCESS_COOKIE = "folioAccessToken"
REFRESH_COOKIE = "folioRefreshToken"


@attrs.frozen
class SessionInfo:
    """What a notebook may see of the session: never the tokens."""

    mode: str | None
    expires_at: datetime | None
    logins: int
    refreshes: int

    def _repr_html_(self) -> str:
        return attrs_card("FOLIO session", self)


@attrs.frozen
class Tokens:
    """A gateway session: cookie mode (access and refresh tokens) or legacy (one token); never shown."""

    mode: str
    access: str = attrs.field(repr=False)
    refresh: str | None = attrs.field(default=None, repr=False)


class FolioAuth(SessionAuth):
    """Okapi gateway credentials for one client (thread-safe).

    Logs in with ``/authn/login-with-expiry`` (cookies), refreshes with ``/authn/refresh``
    shortly before the access token expires, and falls back to the legacy ``/authn/login``
    (``x-okapi-token`` header) where the newer endpoint does not exist.
    """

    def __init__(self, tenant: str, username: str, password: Secret, *, renew_margin: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(renew_margin=renew_margin, clock=clock)
        self.tenant = tenant
        self._username = username
        self._password = password

    def __repr__(self) -> str:
        return f"<FolioAuth tenant={self.tenant} mode={self.mode}>"

    @property
    def mode(self) -> str | None:
        """``"cookie"`` or ``"legacy"`` once logged in."""
        tokens = self._credentials
        return tokens.mode if tokens is not None else None

    @property
    def session(self) -> SessionInfo:
        base = super().session
        return SessionInfo(mode=self.mode, expires_at=base.expires_at, logins=base.logins, refreshes=base.renewals)

    # -- the wire ------------------------------------------------------------------------------
    def apply(self, call: Call, credentials: Tokens | None) -> Call:
        headers = {**call.headers, "X-Okapi-Tenant": self.tenant}
        if credentials is not None and credentials.mode == "legacy":
            headers["X-Okapi-Token"] = credentials.access
        else:
            headers["Cookie"] = f"{ACCESS_COOKIE}={credentials.access if credentials else ''}"
        return attrs.evolve(call, headers=headers)

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        if call.action not in ("login-with-expiry", "refresh", "login"):
            return []
        found = [v for v in _cookies(response).values() if v]
        token = response.headers.get("x-okapi-token")
        return [*found, token] if token else found

    # -- the flows -----------------------------------------------------------------------------
    def _login(self, transport: Transport) -> Grant:
        """login-with-expiry, or the legacy login where that is missing.

        Logging in again reads and writes no patron data, so the transport may repeat it. The
        password is revealed only inside the call, whose repr is masked.
        """
        response = transport.send(self._call("/authn/login-with-expiry", "login-with-expiry", idempotent=True,
                                             json={"username": self._username, "password": self._password.reveal()}))
        if response.status_code != 404:
            return self._cookie_grant(response, "login-with-expiry", previous=None)
        response = transport.send(self._call("/authn/login", "login", idempotent=True,
                                             json={"username": self._username, "password": self._password.reveal()}))
        _refuse_unless_ok(response, "login")
        token = response.headers.get("x-okapi-token")
        if not token:
            raise AuthError("login answered without an x-okapi-token header", vendor=VENDOR, action="login")
        return Grant(Tokens(mode="legacy", access=token))

    def _renew(self, transport: Transport, credentials: Tokens) -> Grant:
        """A new access token from the refresh token (no password sent)."""
        if credentials.mode != "cookie" or not credentials.refresh:
            raise AuthError("no refresh token; log in again", vendor=VENDOR, action="refresh")
        response = transport.send(self._call("/authn/refresh", "refresh",
                                             headers={"Cookie": f"{REFRESH_COOKIE}={credentials.refresh}"}))
        return self._cookie_grant(response, "refresh", previous=credentials)

    def _call(self, path: str, action: str, **kwargs: Any) -> Call:
        headers = {"X-Okapi-Tenant": self.tenant, **kwargs.pop("headers", {})}
        return Call(method="POST", path=path, action=action, authenticated=False, headers=headers, **kwargs)

    def _cookie_grant(self, response: requests.Response, action: str, *, previous: Tokens | None) -> Grant:
        """The session the answer's cookies hold. Tokens stay inside masked objects in every
        frame that may raise: a traceback's captured locals must not show them."""
        _refuse_unless_ok(response, action)
        answer = decode(response, action=action)
        tokens = _cookie_tokens(response, previous)
        if tokens is None:
            raise AuthError(f"{action} answered without a {ACCESS_COOKIE} cookie", vendor=VENDOR, action=action)
        expires = parse_instant(answer.get("accessTokenExpiration") if isinstance(answer, dict) else None)
        return Grant(tokens, expires.timestamp() if expires else None)


def _refuse_unless_ok(response: requests.Response, action: str) -> None:
    """A refused login or refresh is an AuthError, whatever status FOLIO chose (400, 401, 422).

    A rate limit or a server failure is not a refusal: it keeps its own type.
    """
    if response.status_code == 429 or response.status_code >= 500:
        decode(response, action=action)
    if response.ok:
        return
    code, message = error_of(response)
    raise AuthError(message, status=response.status_code, code=code, vendor=VENDOR, method="POST",
                    url=redact_url(response.url or ""), action=action)


def _cookie_tokens(response: requests.Response, previous: Tokens | None) -> Tokens | None:
    """The cookie-mode session ``response`` sets (keeping ``previous``'s refresh token if it sets
    none), or None without an access token. Never raises, so its plain locals are in no traceback."""
    cookies = _cookies(response)
    if not cookies.get(ACCESS_COOKIE):
        return None
    return Tokens(mode="cookie", access=cookies[ACCESS_COOKIE],
                  refresh=cookies.get(REFRESH_COOKIE) or (previous.refresh if previous is not None else None))


def _cookies(response: requests.Response) -> dict[str, str]:
    """Cookies set by ``response``, read from its Set-Cookie headers (no cookie jar involved)."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.raw.headers.getlist("Set-Cookie") if response.raw is not None else []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


# -- the edge apikey ------------------------------------------------------------------------------
@attrs.frozen
class ApiKeyInfo:
    """Who an edge apikey acts as (the salt stays out of it)."""

    tenant: str
    username: str


def make_apikey(*, salt: str, tenant: str, username: str) -> Secret:
    """An edge apikey: URL-safe base64 of ``{"s": salt, "t": tenant, "u": username}``."""
    document = json.dumps({"s": salt, "t": tenant, "u": username}, separators=(",", ":"))
    return Secret(base64.urlsafe_b64encode(document.encode()).decode())


def read_apikey(apikey: str | Secret) -> ApiKeyInfo:
    """The tenant and user an apikey stands for; InputError if it is not one.

    The error is raised here, outside any ``except``: the decoding error it replaces quotes the
    decoded key, salt included, and ``from None`` would still keep it as ``__context__``.
    """
    apikey = Secret.of(apikey, field="apikey")  # masked in this frame's locals from here on
    identity = _identity_in(apikey)
    if identity is None:
        raise InputError("apikey", 'must be URL-safe base64 of {"s": salt, "t": tenant, "u": username}')
    return identity


def _identity_in(apikey: Secret) -> ApiKeyInfo | None:
    """Who ``apikey`` acts as, or None; never raises, so its plain locals are in no traceback."""
    text = apikey.reveal()
    try:
        document = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return ApiKeyInfo(tenant=str(document["t"]), username=str(document["u"]))
    except (ValueError, KeyError, TypeError):
        return None


class EdgeAuth:
    """The edge apikey, sent as the ``apikey`` query parameter on every call."""

    def __init__(self, apikey: Secret) -> None:
        self._apikey = apikey

    def __repr__(self) -> str:
        return "<EdgeAuth apikey=***>"

    def current(self, call: Call | None = None) -> Secret:
        return self._apikey

    def ensure(self, transport: Transport, call: Call | None = None) -> Secret:
        """Nothing to acquire: the apikey is the credential."""
        return self._apikey

    def apply(self, call: Call, credentials: Secret) -> Call:
        return attrs.evolve(call, params={**(call.params or {}), "apikey": credentials.reveal()})

    def sign(self, request: requests.PreparedRequest) -> None:
        """Edge requests are not signed."""

    def is_rejection(self, response: requests.Response) -> bool:
        return False  # a refused apikey cannot be renewed; decode() raises AuthError

    def recover(self, transport: Transport, call: Call, rejected: Secret) -> None:
        """Never called: see is_rejection."""

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        return []
