"""Emulator of FSI SmartSuite-Library's patron sync API (SmarteCloud).

One endpoint, ``POST /services/SSLIB_SER_PATRON_API.asmx/patron`` (any letter case, as IIS
serves it, so ``/Services/...`` too), dispatching on ``action`` (see :mod:`.actions` for both
dialects real tenants accept).

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
import time
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .._server import Knobs, ServedEmulator
from .actions import ACTIONS, DIALECT_ACTIONS, Failure
from .data import PLANTED, generate
from .state import Credentials, School, Sessions, Tenant

__all__ = ["FsiEmulator", "Credentials", "PATH", "for_sandbox"]

PATH = "/services/SSLIB_SER_PATRON_API.asmx/patron"
ENVELOPES = ("string", "object", "none")


class FsiEmulator(ServedEmulator):
    """The FSI API over real HTTP, with a school's worth of patrons."""

    vendor = "fsi"
    title = "FSI"

    def __init__(self, *, patrons: int = 1500, seed: int = 2024, knobs: Knobs | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(knobs or Knobs())
        self.credentials = Credentials(apikey="sandbox-fsi-apikey", apisecret="sandbox-fsi-apisecret")
        self.envelope = "string"
        self.planted = dict(PLANTED)
        #: What the action handlers work on.
        self.state = Tenant(credentials=self.credentials, counters=self.counters,
                            school=School(generate(patrons, seed=seed), self.counters),
                            sessions=Sessions(clock, lambda: self.knobs.token_lifetime))
        #: The action handlers by name; a test may replace one to imitate a misbehaving server.
        self.actions = dict(ACTIONS)

    @property
    def page_cap(self) -> int | None:
        """Answer at most this many patrons a page, silently, as a server with its own limit might."""
        return self.state.page_cap

    @page_cap.setter
    def page_cap(self, value: int | None) -> None:
        self.state.page_cap = value

    # -- serving ---------------------------------------------------------------------------
    def apps(self) -> dict[str, Callable]:
        return {"api": self.wsgi}

    def fault_response(self) -> Response:
        return _fault_response("System.Exception")

    @property
    def url(self) -> str:
        """Base URL of the tenant (what a client profile's ``url`` holds)."""
        return self.url_of("api")

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints: where to connect (sandbox credentials, not secrets)."""
        return [("url", self.url), ("endpoint", self.endpoint), ("apikey", self.credentials.apikey),
                ("apisecret", self.credentials.apisecret), ("patrons", str(len(self.state.school)))]

    # -- for tests and notebooks -------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """A copy of every stored patron record, for tests and notebooks to compare with."""
        with self.state.school.lock.reading():
            return self.state.school.copies()

    def expire_tokens(self) -> None:
        """Make every session token expire now (renew tokens stay valid)."""
        self.state.sessions.expire_all()

    def forget_sessions(self) -> None:
        """Forget every session and renew token, as a tenant does when it restarts."""
        self.state.sessions.forget_all()

    # -- HTTP ------------------------------------------------------------------------------
    def wsgi(self, environ: dict, start_response: Callable) -> Any:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path.lower() != PATH.lower():
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
        canonical = DIALECT_ACTIONS.get(action, action)
        try:
            handler = self.actions.get(canonical)
            if handler is None:
                raise Failure("Invalid action.")
            value = handler(self.state, params)
        except Failure as failure:
            value = {"result": False, "msg": str(failure)}
        return self._answer(value, as_json=as_json, action=canonical)

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


def _fault_response(exception_type: str, message: str = "There was an error processing the request.") -> Response:
    body = {"Message": message, "StackTrace": "", "ExceptionType": exception_type}
    return Response(json.dumps(body), status=500, mimetype="application/json",
                    headers={"jsonerror": "true"})


def for_sandbox(*, size: int | None, seed: int, latency: float) -> FsiEmulator:
    """The FSI emulator as the sandbox starts it: ``size`` patrons, well-behaved but for ``latency``."""
    return FsiEmulator(patrons=size or 1500, seed=seed, knobs=Knobs(latency=latency))
