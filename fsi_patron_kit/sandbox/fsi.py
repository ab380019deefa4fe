"""Emulator of FSI SmartSuite-Library's patron sync API (SmarteCloud).

One endpoint, ``POST /services/SSLIB_SER_PATRON_API.asmx/patron``, dispatching on ``action``:
getcode, gettoken, searchpatron, getpatron, setpatron, renewtoken.

Wire forms, as a real tenant may send them:

* a JSON post is answered the ASP.NET script-service way, ``{"d": value}``; ``envelope``
  chooses whether ``value`` is a JSON-encoded string (the default, and getcode's ``d`` is then
  the code itself), the object itself (``"object"``) or no envelope at all (``"none"``);
* a form post is answered with bare JSON;
* failures are ``{"result": false, "msg": ...}`` with HTTP 200; unhandled faults are HTTP 500
  ``{"Message", "StackTrace", "ExceptionType"}``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.wrappers import Request, Response

from ._schooldata import PLANTED, generate
from ._server import Counters, EmulatorServer, FaultLayer, Knobs

PATH = "/services/SSLIB_SER_PATRON_API.asmx/patron"
KEYFIELDS = ("barcode", "username", "externalid", "email", "fullname")
ROLES = ("STUDENT", "TEACHER", "PARENT", "LIBRARIAN")
PATRON_FIELDS = ("barcode", "username", "externalid", "firstname", "surname", "email", "classgrade", "room", "role")
MAX_PAGECOUNT = 1000
CODE_LIFETIME = 300.0
RENEWTOKEN_LIFETIME = 86400.0
ENVELOPES = ("string", "object", "none")

MSG_BAD_TOKEN = "Invalidate session token."


class Failure(Exception):
    """An FSI-style failure: answered as ``{"result": false, "msg": ...}`` with HTTP 200."""


@attrs.frozen
class Credentials:
    apikey: str
    apisecret: str


@attrs.define
class _Session:
    token: str
    renewtoken: str
    expires: float
    renew_until: float


class FsiEmulator:
    """The FSI API over real HTTP, with a school's worth of patrons."""

    vendor = "fsi"

    def __init__(self, *, patrons: int = 1500, seed: int = 2024, knobs: Knobs | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.credentials = Credentials(apikey="sandbox-fsi-apikey", apisecret="sandbox-fsi-apisecret")
        self.knobs = knobs or Knobs()
        self.counters = Counters()
        self.envelope = "string"
        self.page_cap: int | None = None  # answer at most this many per page, silently
        self.planted = dict(PLANTED)
        self._clock = clock
        self._lock = threading.RLock()
        self._records = generate(patrons, seed=seed)
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, _Session] = {}
        self._server: EmulatorServer | None = None

    # -- serving ---------------------------------------------------------------------------
    def start(self) -> FsiEmulator:
        app = FaultLayer(self.wsgi, self.knobs, self.counters, lambda: _fault_response("System.Exception"))
        self._server = EmulatorServer(app, counters=self.counters).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        """Base URL of the tenant (what a client profile's ``url`` holds)."""
        if not self._server:
            raise RuntimeError("the FSI emulator is not running")
        return self._server.url

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints: where to connect (sandbox credentials, not secrets)."""
        return [("url", self.url), ("endpoint", self.endpoint), ("apikey", self.credentials.apikey),
                ("apisecret", self.credentials.apisecret), ("patrons", str(len(self._records)))]

    def records(self) -> list[dict[str, Any]]:
        """A copy of every stored patron record, for tests and notebooks to compare with."""
        with self._lock:
            return [dict(r) for r in self._records]

    def expire_tokens(self) -> None:
        """Make every session token expire now (renew tokens stay valid)."""
        with self._lock:
            for session in self._sessions.values():
                session.expires = self._clock() - 1

    # -- HTTP ------------------------------------------------------------------------------
    def wsgi(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path != PATH:
            return Response("Not Found", status=404, mimetype="text/plain")
        if request.method != "POST":
            return _fault_response("System.InvalidOperationException",
                                   "Request format is invalid: only POST is supported.")
        as_json = request.mimetype == "application/json"
        if as_json:
            params = request.get_json(silent=True)
            if not isinstance(params, dict):
                return _fault_response("System.ArgumentException", "Invalid JSON primitive.")
        elif request.mimetype == "application/x-www-form-urlencoded":
            params = request.form.to_dict()
        else:
            return _fault_response("System.InvalidOperationException",
                                   f"Request format is unrecognized: {request.mimetype or 'none'}.")
        action = str(params.get("action", ""))
        self.counters.action(action or "(none)")
        try:
            handler = self._actions().get(action)
            if handler is None:
                raise Failure("Invalid action.")
            with self._lock:
                value = handler(params)
        except Failure as failure:
            value = {"result": False, "msg": str(failure)}
        return self._answer(value, as_json=as_json, action=action)

    def _answer(self, value: dict[str, Any], *, as_json: bool, action: str) -> Response:
        if not as_json or self.envelope == "none":
            body: Any = value
        elif self.envelope == "object":
            body = {"d": value}
        elif action == "getcode" and "code" in value:
            body = {"d": value["code"]}
        else:
            body = {"d": json.dumps(value)}
        return Response(json.dumps(body), mimetype="application/json")

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "getcode": self._getcode,
            "gettoken": self._gettoken,
            "renewtoken": self._renewtoken,
            "searchpatron": self._searchpatron,
            "getpatron": self._getpatron,
            "setpatron": self._setpatron,
        }

    # -- authentication ----------------------------------------------------------------------
    def _getcode(self, params: dict[str, Any]) -> dict[str, Any]:
        if _text(params, "apikey") != self.credentials.apikey:
            raise Failure("Invalid API key.")
        code = secrets.token_hex(8)
        self._codes[code] = self._clock() + CODE_LIFETIME
        return {"code": code}

    def _gettoken(self, params: dict[str, Any]) -> dict[str, Any]:
        code = _required(params, "code")
        valid_until = self._codes.pop(code, None)  # one use only, whatever happens next
        if valid_until is None or valid_until < self._clock():
            raise Failure("Invalid or expired code.")
        if _required(params, "apisecret") != self.credentials.apisecret:
            raise Failure("Invalid API secret.")
        return self._new_session()

    def _renewtoken(self, params: dict[str, Any]) -> dict[str, Any]:
        session = self._sessions.get(_required(params, "token"))
        if _required(params, "apisecret") != self.credentials.apisecret:
            raise Failure("Invalid API secret.")
        renewtoken = _required(params, "renewtoken")
        if session is None or session.renewtoken != renewtoken or session.renew_until < self._clock():
            raise Failure("Invalid renew token.")
        del self._sessions[session.token]
        return self._new_session()

    def _new_session(self) -> dict[str, Any]:
        now = self._clock()
        session = _Session(
            token=secrets.token_urlsafe(24),
            renewtoken=secrets.token_urlsafe(24),
            expires=now + self.knobs.token_lifetime,
            renew_until=now + RENEWTOKEN_LIFETIME,
        )
        self._sessions[session.token] = session
        expire = datetime.fromtimestamp(session.expires, timezone.utc).isoformat(timespec="seconds")
        return {"token": session.token, "renewtoken": session.renewtoken, "expire": expire.replace("+00:00", "Z")}

    def _check_token(self, params: dict[str, Any]) -> None:
        session = self._sessions.get(_text(params, "token"))
        if session is None or session.expires < self._clock():
            raise Failure(MSG_BAD_TOKEN)

    # -- patrons -----------------------------------------------------------------------------
    def _searchpatron(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_token(params)
        page = _integer(params, "pagenumber", default=1, minimum=1)
        size = _integer(params, "pagecount", default=50, minimum=1)
        if size > MAX_PAGECOUNT:
            raise Failure(f"Invalid pagecount: at most {MAX_PAGECOUNT}.")
        size = min(size, self.page_cap or size)
        keyword = _text(params, "keyword").strip().lower()
        matches = [r for r in self._records if not keyword or keyword in _haystack(r)]
        start = (page - 1) * size
        return {"result": True, "item": [dict(r) for r in matches[start:start + size]]}

    def _getpatron(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_token(params)
        keyfield = _keyfield(params)
        value = _required(params, "keyvalue")
        found = self._match(keyfield, value)
        if not found:
            raise Failure("Patron not found.")
        return {"result": True, "item": [dict(r) for r in found]}

    def _setpatron(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_token(params)
        keyfield = _keyfield(params)
        itemindex = _integer(params, "itemindex", default=None, minimum=1)
        allownew = _boolean(params, "allownew")
        role = _text(params, "role")
        if role and role not in ROLES:
            raise Failure(f"Invalid role: must be one of {', '.join(ROLES)}.")
        if keyfield == "fullname":
            key = f"{_text(params, 'firstname').strip()} {_text(params, 'surname').strip()}".strip()
        else:
            key = _text(params, keyfield).strip()
        if not key:
            raise Failure(f"Missing key value: {keyfield}.")
        changes = {f: str(params[f]) for f in PATRON_FIELDS if f in params and params[f] is not None}
        found = self._match(keyfield, key)
        if len(found) > 1:
            raise Failure(f"Multiple patrons match {keyfield}.")
        barcode = changes.get("barcode")
        owner = next((r for r in self._records if barcode and r["barcode"] == barcode), None)
        if owner is not None and (not found or owner is not found[0]):
            raise Failure("Barcode already exists.")
        if found:
            record, outcome = found[0], "updated"
        elif allownew:
            record, outcome = dict.fromkeys(PATRON_FIELDS, ""), "created"
            record["barcode"] = self._next_barcode()
            self._records.append(record)
        else:
            raise Failure("Patron not found.")
        record.update(changes)
        self.counters.write(record["barcode"])
        return {"result": True, "itemindex": itemindex, "msg": f"Patron {outcome}.", "item": [dict(record)]}

    def _match(self, keyfield: str, value: str) -> list[dict[str, Any]]:
        wanted = value.strip().lower()
        if keyfield == "fullname":
            return [r for r in self._records if f"{r['firstname'].strip()} {r['surname'].strip()}".lower() == wanted]
        return [r for r in self._records if r[keyfield] and r[keyfield].strip().lower() == wanted]

    def _next_barcode(self) -> str:
        return f"{max(int(r['barcode']) for r in self._records if r['barcode'].isdigit()) + 1:07d}"


def _haystack(record: dict[str, Any]) -> str:
    return " ".join(str(record[f]) for f in PATRON_FIELDS).lower() + f" {record['firstname'].strip()} {record['surname'].strip()}".lower()


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)


def _required(params: dict[str, Any], name: str) -> str:
    value = _text(params, name)
    if not value.strip():
        raise Failure(f"Missing parameter: {name}.")
    return value


def _keyfield(params: dict[str, Any]) -> str:
    keyfield = _required(params, "keyfield").lower()
    if keyfield not in KEYFIELDS:
        raise Failure(f"Invalid keyfield: must be one of {', '.join(KEYFIELDS)}.")
    return keyfield


def _integer(params: dict[str, Any], name: str, *, default: int | None, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise Failure(f"Missing parameter: {name}.")
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise Failure(f"Invalid {name}: must be an integer.") from None
    if value < minimum:
        raise Failure(f"Invalid {name}: must be at least {minimum}.")
    return value


def _boolean(params: dict[str, Any], name: str) -> bool:
    raw = params.get(name, False)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise Failure(f"Invalid {name}: must be true or false.")


def _fault_response(exception_type: str, message: str = "There was an error processing the request.") -> Response:
    body = {"Message": message, "StackTrace": "", "ExceptionType": exception_type}
    return Response(json.dumps(body), status=500, mimetype="application/json",
                    headers={"jsonerror": "true"})


def for_sandbox(*, size: int | None, seed: int, latency: float) -> FsiEmulator:
    """The FSI emulator as the sandbox starts it: ``size`` patrons, well-behaved but for ``latency``."""
    return FsiEmulator(patrons=size or 1500, seed=seed, knobs=Knobs(latency=latency))
