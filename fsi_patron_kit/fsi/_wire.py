"""Reading FSI answers, whatever form a tenant sends, and FSI's token life cycle.

Answers seen in the wild: ``{"d": "<JSON string>"}``, ``{"d": {...}}``, ``{"d": "<code>"}``,
bare objects, ``{"result": false, "msg": ...}`` with HTTP 200, and HTTP 500
``{"Message", "StackTrace", "ExceptionType"}``. :func:`decode` turns each into the bare value
or a typed exception; :class:`FsiAuth` runs getcode -> gettoken, renews before expiry and once
after an expired-token failure.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import attrs
import requests

from .._http import Call, Transport, error_for_status, parse_retry_after
from .._redact import redact_url, register_secret
from .._session import Grant, SessionAuth
from .._time import parse_instant
from ..config import Secret
from ..errors import (
    APIError,
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitError,
)

VENDOR = "fsi"
PATH = "/services/SSLIB_SER_PATRON_API.asmx/patron"
TOKEN_REJECTED = re.compile(r"session token", re.IGNORECASE)
_ASPNET_DATE = re.compile(r"/Date\((-?\d+)")


def unwrap(body: Any) -> Any:
    """Strip the ASP.NET ``{"d": ...}`` envelope and decode a JSON-encoded string inside it."""
    if isinstance(body, dict) and set(body) == {"d"}:
        body = body["d"]
        if isinstance(body, str) and body[:1] in ("{", "["):
            try:
                body = json.loads(body)
            except ValueError:
                pass
    return body


_NOT_JSON = object()


def answer_of(response: requests.Response) -> Any:
    """The unwrapped JSON answer, decoded once per response however often it is asked for."""
    cached = response.__dict__.get("_fsi_answer")
    if cached is None:
        try:
            cached = unwrap(response.json())
        except ValueError:
            cached = _NOT_JSON
        response.__dict__["_fsi_answer"] = cached
    return cached


def failure_of(value: Any) -> str | None:
    """FSI's failure message if ``value`` is a ``{"result": false}`` answer."""
    if isinstance(value, dict) and str(value.get("result")).lower() == "false":
        return str(value.get("msg") or "Request failed.")
    return None


def decode(response: requests.Response, *, action: str) -> Any:
    """The answer's value, or the typed exception it stands for."""
    context = {"vendor": VENDOR, "method": "POST", "url": redact_url(response.url or ""), "action": action}
    value = answer_of(response)
    if response.status_code >= 400:
        fault = value if isinstance(value, dict) else {}
        message = fault.get("Message") or response.text[:200] or response.reason
        cls = error_for_status(response.status_code)
        extra = {"retry_after": parse_retry_after(response.headers.get("Retry-After"))} if cls is RateLimitError else {}
        return _raise(cls, message, status=response.status_code, code=fault.get("ExceptionType"), **context, **extra)
    if value is _NOT_JSON:
        _raise(APIError, "answer is not JSON", status=response.status_code, **context)
    message = failure_of(value)
    if message is not None:
        _raise(_failure_class(message), message, status=response.status_code, **context)
    return value


def describe(response: requests.Response) -> str | None:
    """A history note: the fault or failure message, if the answer is one."""
    value = answer_of(response)
    if value is _NOT_JSON:
        return None if response.ok else response.reason
    if not response.ok:
        return (value.get("ExceptionType") if isinstance(value, dict) else None) or response.reason
    return failure_of(value)


# FSI failures carry a message but no code; these patterns, checked in order, give the type.
_FAILURE_TYPES = (
    (re.compile(r"already exists|multiple", re.IGNORECASE), ConflictError),
    (re.compile(r"not found", re.IGNORECASE), NotFoundError),
    (re.compile(r"\b(token|renew token|api key|api secret|code)\b", re.IGNORECASE), AuthError),
)


def _failure_class(message: str) -> type[APIError]:
    return next((cls for pattern, cls in _FAILURE_TYPES if pattern.search(message)), APIError)


def _raise(cls: type[APIError], message: str, **kwargs: Any) -> Any:
    raise cls(message, **kwargs)


def parse_expire(value: Any, *, now: float) -> float | None:
    """Epoch seconds from ``expire``: ISO-8601, ``/Date(ms)/``, epoch s or ms, or a lifetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        number = float(value)
        if number > 1e11:
            return number / 1000
        return number if number > 1e9 else now + number
    text = str(value).strip()
    match = _ASPNET_DATE.search(text)
    if match:
        return int(match.group(1)) / 1000
    when = parse_instant(text, naive=None)  # FSI's servers send their local time without an offset
    return when.timestamp() if when else None


@attrs.frozen
class Tokens:
    """An FSI session: the token and the renew token, never shown (not even in tracebacks)."""

    token: str = attrs.field(repr=False)
    renewtoken: str | None = attrs.field(repr=False)


def _session_in(answer: Any) -> tuple[Tokens | None, Any]:
    """The tokens a gettoken or renewtoken answer hands out (registered as secrets) and its
    ``expire``; (None, None) without a token. Never raises, so its plain locals are in no traceback."""
    if not isinstance(answer, dict) or not answer.get("token"):
        return None, None
    tokens = Tokens(token=str(answer["token"]), renewtoken=str(answer.get("renewtoken") or "") or None)
    register_secret(tokens.token)
    register_secret(tokens.renewtoken)
    return tokens, answer.get("expire")


class FsiAuth(SessionAuth):
    """FSI's session: getcode -> gettoken, renewtoken ahead of expiry; the token rides in the body."""

    #: a one-time code cannot be sent twice, so a login that fails on the network starts over
    restart_login = True

    def __init__(self, apikey: Secret, apisecret: Secret, *, encoding: Callable[[dict], dict],
                 renew_margin: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(renew_margin=renew_margin, clock=clock)
        self._apikey = apikey
        self._apisecret = apisecret
        self._encode = encoding

    # -- the wire ------------------------------------------------------------------------------
    def apply(self, call: Call, credentials: Tokens | None) -> Call:
        payload = dict(call.json if call.json is not None else call.data or {})
        payload["token"] = credentials.token if credentials is not None else None
        if call.json is None and call.data is not None:  # a form post stays one (the structured keyword)
            return attrs.evolve(call, data={k: v for k, v in payload.items() if v is not None})
        return attrs.evolve(call, **self._encode(payload))

    def is_rejection(self, response: requests.Response) -> bool:
        message = failure_of(answer_of(response))
        return message is not None and bool(TOKEN_REJECTED.search(message))

    def secrets_in(self, call: Call, response: requests.Response) -> list[str]:
        if call.action not in ("getcode", "gettoken", "renewtoken"):
            return []
        answer = answer_of(response)
        if isinstance(answer, str):
            return [answer]
        if isinstance(answer, dict):
            return [str(answer[k]) for k in ("code", "token", "renewtoken") if answer.get(k)]
        return []

    # -- the flows -----------------------------------------------------------------------------
    def _login(self, transport: Transport) -> Grant:
        """getcode with the API key, then gettoken with the code and the API secret."""
        code = self._code(transport)
        return self._grant_of(transport, "gettoken", {"code": code, "apisecret": self._apisecret})

    def _code(self, transport: Transport) -> Secret:
        answer = self._post(transport, "getcode", {"apikey": self._apikey})
        code = answer.get("code") if isinstance(answer, dict) else answer
        if not isinstance(code, str) or not code:
            raise APIError("getcode answered without a code", vendor=VENDOR, action="getcode")
        return Secret(code, pin=False)

    def _renew(self, transport: Transport, credentials: Tokens) -> Grant:
        """renewtoken: a fresh token without a new login."""
        if credentials.renewtoken is None:
            raise AuthError("this session has no renew token", vendor=VENDOR, action="renewtoken")
        return self._grant_of(transport, "renewtoken", {"token": Secret(credentials.token, pin=False),
                                                        "apisecret": self._apisecret,
                                                        "renewtoken": Secret(credentials.renewtoken, pin=False)})

    def _grant_of(self, transport: Transport, action: str, fields: dict[str, Secret]) -> Grant:
        """gettoken or renewtoken, and the session it hands out.

        The plain answer is never a local of this frame (which may raise): a traceback's
        captured locals would show the tokens.
        """
        tokens, expire = _session_in(self._post(transport, action, fields))
        if tokens is None:
            raise APIError(f"{action} answered without a token", vendor=VENDOR, action=action)
        return Grant(tokens, parse_expire(expire, now=self._clock()))

    def _post(self, transport: Transport, action: str, fields: dict[str, Secret]) -> Any:
        """An unauthenticated action whose fields are secrets, revealed only inside the call."""
        call = Call(method="POST", path=PATH, action=action, authenticated=False,
                    **self._encode({"action": action, **{k: v.reveal() for k, v in fields.items()}}))
        return decode(transport.send(call), action=action)
