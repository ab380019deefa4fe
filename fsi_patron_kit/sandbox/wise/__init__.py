"""Emulator of OCLC Wise's patron-management REST API: a Dutch public library system.

Served under ``/restapi`` on 127.0.0.1, in Wise's wire format:

* every request needs ``WISE_KEY: {API-ID}:{hex HMAC-SHA256(API-KEY, str(epochDayUTC) +
  ApplicationName)}``, recomputed here from the header received and the server's clock
  (``emulator.clock``): missing is 403 ``Missing WISE_KEY header``, anything else that does not
  match today's key (a wrong key, yesterday's, a tampered header) is 403 ``Invalid WISE_KEY``;
* staff and payment accounts log in at ``POST /login``; patrons at ``POST
  /patron/authentication/`` or ``.../library/{id}``; a staff user with PROXY_AUTH gets a patron
  token at ``POST /patron/{patronSystemId}/library/{libraryId}/proxyauthentication``. Every
  token is sent back bare in ``Authorization`` and works until 23:59:59 of the day it was issued,
  server time (Europe/Amsterdam). None, unknown or expired: 401 (Spring's ``Full authentication
  is required to access this resource``, or ``Token is expired or invalid``);
* a token of the wrong kind, or a staff account without the permission (ACTOREN Read or Edit,
  PROXY_AUTH), is 403 ``Access is denied``; payment also needs the caller's IP on the safe list.

Tokens end with the server's day, not after ``knobs.token_lifetime``; the other knobs
(latency, faults, 429s) apply as in every emulator. See the area modules (auth, cards, registration, blocks, lists, external) for each endpoint,
``wire`` for the answer shapes and ``data`` for the libraries, subscriptions, patrons and
planted defects. ``counters.actions`` counts requests that reached a known endpoint;
``counters.writes`` counts each patron written, by patronSystemId.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._server import Knobs, ServedEmulator
from . import auth, blocks, cards, external, lists, registration
from .data import LIBRARIES, PLANTED, generate
from .routes import KEY, PATRON, PAYMENT, Route, routes_of
from .state import Account, Application, ServerClock, Store
from .wire import error, refuse

__all__ = ["WiseEmulator", "ServerClock", "for_sandbox", "DEFAULT_PATRONS"]

BASE_PATH = "/restapi"
DEFAULT_PATRONS = 600
ROUTES: list[Route] = routes_of(auth, cards, registration, blocks, lists, external)
_MAP = Map([Rule(BASE_PATH + r.path, methods=[r.method], endpoint=r.endpoint, strict_slashes=False)
            for r in ROUTES], merge_slashes=False)
_BY_ENDPOINT = {r.endpoint: r for r in ROUTES}


class WiseEmulator(ServedEmulator):
    """OCLC Wise over real HTTP, with three libraries' worth of patrons."""

    title = "Wise"

    vendor = "wise"

    def __init__(self, *, patrons: int = DEFAULT_PATRONS, seed: int = 2024, knobs: Knobs | None = None,
                 clock: ServerClock | None = None) -> None:
        self.application = Application(application_name="patron-kit-sandbox", api_id="PKSANDBOX01",
                                       api_key="sandbox-wise-api-key-5f2c9a")
        self.staff = Account("kit_api", "sandbox-wise-staff", frozenset({"ACTOREN_EDIT", "PROXY_AUTH"}))
        self.reader = Account("kit_reader", "sandbox-wise-reader", frozenset({"ACTOREN_READ"}))
        self.payment = Account("kit_payment", "sandbox-wise-payment", frozenset({"PAYMENT"}))
        self.clock = clock or ServerClock()
        super().__init__(knobs or Knobs())
        self.planted = dict(PLANTED)
        accounts = {a.username: a for a in (self.staff, self.reader, self.payment)}
        self.store = Store(generate(patrons, seed=seed, today=self.clock.today()), self.clock, accounts,
                           self.counters)

    # -- serving -------------------------------------------------------------------------------
    def apps(self) -> dict[str, Callable]:
        return {"restapi": self._app}

    def fault_response(self) -> Response:
        return self._fault()

    @property
    def url(self) -> str:
        """The REST API's base URL (ending in ``/restapi``, as a hosted Wise system's)."""
        return self.url_of("restapi") + BASE_PATH

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints (sandbox credentials are not secrets)."""
        app = self.application
        libraries = "; ".join(f"{lid} {lib['name']} (VWIZBET {'on' if lib['vwizbet'] else 'off'})"
                              for lid, lib in LIBRARIES.items())
        return [("url", self.url), ("application", app.application_name), ("api id", app.api_id),
                ("api key", app.api_key), ("staff login", f"{self.staff.username} / {self.staff.password}"),
                ("payment login", f"{self.payment.username} / {self.payment.password}"), ("libraries", libraries),
                ("patrons", str(len(self.store.patrons)))]

    # -- for tests and notebooks ---------------------------------------------------------------
    def patrons(self) -> list[dict[str, Any]]:
        """A copy of every patron record, including changes made through the API."""
        return self.store.copy_patrons()

    @property
    def showcase(self) -> dict[str, dict[str, Any]]:
        """Patrons in known situations (see ``data._showcase``): ids, login, card and library."""
        with self.store.lock:
            return {name: {"patron_system_id": p["patronSystemId"], "username": p["username"],
                           "password": p["password"], "card_number": p["libraryCards"][0]["cardNumber"],
                           "library_id": p["homeLibrary"], "branch_id": p["homeBranch"],
                           "membership_end": max(m["end"] for m in p["memberships"])}
                    for name, p in self.store.showcase.items()}

    def expire_tokens(self) -> None:
        """End every token now, as the end of the server's day would."""
        with self.store.lock:
            for grant in self.store.grants.values():
                grant.expires = self.clock() - 1

    # -- HTTP ----------------------------------------------------------------------------------
    def _fault(self) -> Response:
        return Response('{"status": 500, "error": "Internal Server Error", "message": "Unexpected error"}',
                        status=500, mimetype="application/json")

    def _app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = _MAP.bind_to_environ(environ).match()
        except NotFound:
            response = error(request, 404, "No handler found for " + request.path)
        except MethodNotAllowed:
            response = error(request, 405, f"Request method '{request.method}' is not supported")
        else:
            self.counters.action(endpoint)
            found = _BY_ENDPOINT[endpoint]
            try:
                with self.store.lock:
                    self._admit(request, found, args)
                    response = found.handler(self.store, request, **args)
            except HTTPException as refusal:
                response = refusal.get_response()
        return response(environ, start_response)

    def _admit(self, request: Request, found: Route, args: dict[str, str]) -> None:
        """The WISE_KEY first, then the token the endpoint needs."""
        sent = request.headers.get("WISE_KEY")
        if not sent:
            refuse(request, 403, "Missing WISE_KEY header")
        if not hmac.compare_digest(sent.encode(), self.application.expected_key(self.clock.epoch_day()).encode()):
            refuse(request, 403, "Invalid WISE_KEY")
        if found.access == KEY:
            return
        token = request.headers.get("Authorization")
        if not token:
            refuse(request, 401, "Full authentication is required to access this resource")
        grant = self.store.grant(token)
        if grant is None:
            refuse(request, 401, "Token is expired or invalid")
        if found.access == PATRON:
            allowed = grant.kind == "patron" and grant.subject == args.get("patron_system_id")
        elif found.access == PAYMENT:
            allowed = grant.kind == "payment"
        else:
            account = self.store.accounts[grant.subject] if grant.kind == "staff" else None
            allowed = account is not None and account.may(found.access.partition(":")[2])
        if not allowed:
            refuse(request, 403, "Access is denied")


def for_sandbox(*, size: int | None, seed: int, latency: float) -> WiseEmulator:
    """The registry's factory: a Wise emulator of ``size`` patrons (600 by default)."""
    return WiseEmulator(patrons=size or DEFAULT_PATRONS, seed=seed, knobs=Knobs(latency=latency))
