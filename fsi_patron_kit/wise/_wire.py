"""Wise's credentials and answers: the WISE_KEY, the logins, and error decoding.

* **WISE_KEY**, on every request: ``{API-ID}:{hex HMAC-SHA256(key=API-KEY,
  msg=str(epochDayUTC) + ApplicationName)}``. It changes at midnight UTC, so it is computed in
  the transport's signing hook for each request as it leaves, never cached.
* **Tokens**: a staff account and the library's payment account each log in at ``/login``; a
  token is sent bare in ``Authorization`` and is "valid for the current day until 23:59:59" in
  the server's time zone, which is not the WISE_KEY's UTC day. After a 401 the account logs in
  again, once. ``Call.scope`` picks the account: ``None`` for staff, ``"payment"`` for payment.
* **Errors**: HTTP 400 with the request's DTO and a non-empty ``validationErrors`` list (each
  item ``{"field", "code", "message"}``: Wise does not publish the item's shape, so this is the
  kit's and its sandbox's assumption), else Spring Boot's ``{"status", "error", "message",
  "path"}``. :func:`decode` turns each into one typed exception with Wise's message and field.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from datetime import time as daytime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import requests

from .._http import Call, Transport, answer_error, json_answer
from .._redact import redact_url, register_secret
from .._session import Grant, SessionAuth, SessionInfo
from ..config import Secret
from ..errors import APIError, AuthError, ConfigError

VENDOR = "wise"
SECONDS_PER_DAY = 86_400
PAYMENT = "payment"
#: Actions whose answers hand out a token (masked before the exchange is recorded).
TOKEN_ACTIONS = frozenset({"login", "payment-login", "authenticate-patron", "proxy-authentication"})


# -- the WISE_KEY --------------------------------------------------------------------------------
def epoch_day(at: float) -> int:
    """Whole days since 1970-01-01 UTC at ``at`` (epoch seconds): the day the WISE_KEY is for."""
    return math.floor(at / SECONDS_PER_DAY)


def wise_key(*, application_name: str, api_id: str, api_key: Secret, at: float) -> str:
    """The ``WISE_KEY`` header value for the UTC day of ``at`` (UTF-8, lower-case hex)."""
    message = f"{epoch_day(at)}{application_name}".encode()
    digest = hmac.new(api_key.reveal().encode(), message, hashlib.sha256).hexdigest()
    return f"{api_id}:{digest}"


@attrs.frozen
class Application:
    """What Wise issues to an application: its name and API-ID (the same on every environment)
    and the API-KEY (unique per Wise system, different on PROD and TEST)."""

    application_name: str
    api_id: str
    api_key: Secret = attrs.field(repr=False)


# -- errors ----------------------------------------------------------------------------------------
@attrs.frozen
class Problem:
    """One item of Wise's ``validationErrors``: the DTO field, Wise's code and its message."""

    field: str
    code: str | None
    message: str


class ValidationFailed(APIError):
    """Wise refused the request's content (HTTP 400 with ``validationErrors``).

    ``problems`` lists every item Wise returned; ``field`` is the first one's field.
    """

    def __init__(self, message: str, *, problems: tuple[Problem, ...], **kwargs: Any) -> None:
        self.problems = problems
        self.field = problems[0].field if problems else None
        super().__init__(message, **kwargs)


def decode(response: requests.Response, *, action: str) -> Any:
    """The answer's JSON (None when empty), or the typed exception it stands for."""
    if response.ok:
        return json_answer(response, vendor=VENDOR, action=action)
    problems = problems_of(response)
    if problems:
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise answer_error(response, message, vendor=VENDOR, action=action, code=problems[0].code,
                           cls=ValidationFailed, problems=problems)
    raise answer_error(response, message_of(response), vendor=VENDOR, action=action)


def problems_of(response: requests.Response) -> tuple[Problem, ...]:
    try:
        body = response.json()
    except ValueError:
        return ()
    items = body.get("validationErrors") if isinstance(body, dict) else None
    return tuple(Problem(field=str(i.get("field", "")), code=i.get("code"), message=str(i.get("message", "")))
                 for i in items or [] if isinstance(i, dict))


def message_of(response: requests.Response) -> str:
    """Wise's message from Spring's error body, or the text of the answer."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.text.strip()[:500]


def describe(response: requests.Response) -> str | None:
    """A history note for a failed answer: the fields Wise refused, or its message."""
    if response.ok:
        return None
    problems = problems_of(response)
    return ", ".join(p.field for p in problems) if problems else message_of(response)[:120]


# -- the logins ------------------------------------------------------------------------------------
@attrs.frozen
class Token:
    """A Wise token; never shown."""

    value: str = attrs.field(repr=False)


class AccountSession(SessionAuth):
    """One account's token (staff, or the payment account), good until 23:59:59 server time."""

    def __init__(self, *, action: str, username: str, password: Secret, server_timezone: ZoneInfo,
                 renew_margin: float, clock: Callable[[], float]) -> None:
        super().__init__(renew_margin=renew_margin, clock=clock)
        self.action = action
        self.username = username
        self._password = password
        self._zone = server_timezone

    def __repr__(self) -> str:
        return f"<AccountSession {self.action} user={self.username} logged_in={self._credentials is not None}>"

    def _login(self, transport: Transport) -> Grant:
        """POST /login; a refusal (401 or 400) is an AuthError with Wise's message."""
        call = Call(method="POST", path="/login", action=self.action, authenticated=False, idempotent=True,
                    json={"username": self.username, "password": self._password.reveal()})
        response = transport.send(call)
        if not response.ok and response.status_code != 429 and response.status_code < 500:
            raise AuthError(message_of(response), status=response.status_code, vendor=VENDOR, method="POST",
                            url=redact_url(response.url or ""), action=self.action)
        answer = decode(response, action=self.action)
        token = answer.get("token") if isinstance(answer, dict) else None
        if not token:
            raise AuthError("login answered without a token", vendor=VENDOR, action=self.action)
        return Grant(Token(token), end_of_day(self._clock(), self._zone))

    def apply(self, call: Call, credentials: Token | None) -> Call:
        return attrs.evolve(call, headers={**call.headers, "Authorization": credentials.value if credentials else ""})


def end_of_day(at: float, zone: ZoneInfo) -> float:
    """Epoch seconds of 23:59:59 on the server's local day at ``at``: when its tokens stop."""
    local = datetime.fromtimestamp(at, zone)
    return datetime.combine(local.date(), daytime(23, 59, 59), zone).timestamp()


class WiseAuth:
    """The transport's auth hook: signs every request and holds the staff and payment sessions."""

    def __init__(self, application: Application, *, username: str, password: Secret,
                 payment_username: str | None, payment_password: Secret | None, server_timezone: str,
                 renew_margin: float, clock: Callable[[], float] = time.time) -> None:
        try:
            zone = ZoneInfo(server_timezone)
        except (KeyError, ValueError):
            raise ConfigError("server_timezone", "must be an IANA time zone name, e.g. Europe/Amsterdam") from None
        self.application = application
        self.zone = zone
        self.clock = clock
        self._last_key: str | None = None
        options = {"server_timezone": zone, "renew_margin": renew_margin, "clock": lambda: self.clock()}
        self.staff = AccountSession(action="login", username=username, password=password, **options)
        self.payment = (AccountSession(action="payment-login", username=payment_username,
                                       password=payment_password, **options)
                        if payment_username and payment_password else None)

    def __repr__(self) -> str:
        payment = self.payment.username if self.payment else None
        return f"<WiseAuth api_id={self.application.api_id} staff={self.staff.username} payment={payment}>"

    @property
    def session(self) -> SessionInfo:
        return self.staff.session

    def server_today(self) -> date:
        """Today in the server's time zone (memberships and the end of a token's day count in it)."""
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    def _for(self, call: Call | None) -> AccountSession:
        if call is not None and call.scope == PAYMENT:
            if self.payment is None:
                raise ConfigError("payment_username", "paying needs the library's payment account "
                                                      "(payment_username and payment_password)")
            return self.payment
        return self.staff

    # -- the transport's Auth protocol ----------------------------------------------------------
    def current(self, call: Call | None = None) -> Any:
        return self._for(call).current(call)

    def ensure(self, transport: Transport, call: Call | None = None) -> Any:
        return self._for(call).ensure(transport, call)

    def apply(self, call: Call, credentials: Token | None) -> Call:
        return self._for(call).apply(call, credentials)

    def login(self, transport: Transport) -> None:
        """Log the staff account in now."""
        self.staff.login(transport)

    def sign(self, request: requests.PreparedRequest) -> None:
        """The WISE_KEY for this moment's UTC day, on the request as it leaves."""
        key = wise_key(application_name=self.application.application_name, api_id=self.application.api_id,
                       api_key=self.application.api_key, at=self.clock())
        if key != self._last_key:  # a new day's key is a new secret to keep out of every output
            register_secret(key.partition(":")[2])
            self._last_key = key
        request.headers["WISE_KEY"] = key

    def is_rejection(self, response: requests.Response) -> bool:
        return response.status_code == 401

    def recover(self, transport: Transport, call: Call, rejected: Any) -> None:
        self._for(call).recover(transport, call, rejected)

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        if call.action not in TOKEN_ACTIONS or not response.ok:
            return ()
        try:
            token = response.json().get("token")
        except (ValueError, AttributeError):
            return ()
        return (token,) if isinstance(token, str) and token else ()
