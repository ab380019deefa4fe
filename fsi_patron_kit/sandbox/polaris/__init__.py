"""Emulator of Polaris ApplicationServices (PAS): staff login, patrons, the registration conversation.

Routes, under ``/Polaris.ApplicationServices/api``:

* ``GET /Polaris.ApplicationServices/api`` -> ``{ServiceName, Version, Major, Minor, Build, Revision, Patches}``;
* ``POST /v1/{lang}/{productId}/authentication/staffuser`` (see :mod:`._auth`);
* ``GET  /v1/{lang}/{productId}/{siteDomain}/{orgId}/{workstationId}/patrons/{id}`` (see :mod:`._patrons`);
* ``PUT  .../patrons/{id}``, the registration conversation (see :mod:`._registration`);
* ``GET  .../ids/patrons?id={barcode}&type=barcode`` -> a bare JSON number;
* ``GET  .../barcodes/patrons/{id}`` -> a quoted JSON string.

``lang`` must be one of eng, spa, fre and ``productId`` one of 19, 20, 24 (otherwise 404);
``orgId`` must be an organization of the system and ``workstationId`` a number (otherwise 400).
Every patron route needs ``Authorization: PAS {siteDomain}:{AccessToken}:{AccessSecret}`` for a
live token; otherwise 401 with an empty body. Errors are PAS error bodies ``{ErrorCode, Message,
MessageDetail, StackTrace, InnerException, Data}``; unknown paths 404, other methods 405.

``counters.actions`` counts every request that reached a known route, ``counters.writes`` each
patron saved, by patron id. ``planted`` holds the defects planted for audits and their exact
counts; ``examples`` names one patron of each kind (``"clean"`` has none).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, abort
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._server import Knobs, ServedEmulator
from . import _patrons
from ._auth import StaffAuth
from ._data import (
    LANGUAGES,
    ORGANIZATIONS,
    PATRON_CODES,
    PAYMENT_METHODS,
    PLANTED,
    PRODUCT_IDS,
    SITE_DOMAIN,
    SITE_TIMEZONE,
    STAFF,
    TRANSACTION_CODES,
    USER_DOMAIN,
    generate,
    organization,
)
from ._registration import Registration
from ._wire import BAD_REQUEST, NOT_FOUND, fault, json_answer, pas_error

__all__ = ["PolarisEmulator", "Credentials", "for_sandbox", "TOKEN_LIFETIME"]

TOKEN_LIFETIME = 86400.0  # PAS staff tokens last a day, like PAPI's
DEFAULT_PATRONS = 200
SERVICE = "/Polaris.ApplicationServices/api"
SCOPE = "/v1/<lang>/<int:product>/<site>/<org>/<workstation>"
ROUTES = Map([
    Rule(SERVICE, methods=["GET"], endpoint="service"),
    Rule(f"{SERVICE}/v1/<lang>/<int:product>/authentication/staffuser", methods=["POST"], endpoint="login"),
    Rule(f"{SERVICE}{SCOPE}/patrons/<patron_id>", methods=["GET"], endpoint="get_patron"),
    Rule(f"{SERVICE}{SCOPE}/patrons/<patron_id>", methods=["PUT"], endpoint="update_registration"),
    Rule(f"{SERVICE}{SCOPE}/ids/patrons", methods=["GET"], endpoint="patron_id"),
    Rule(f"{SERVICE}{SCOPE}/barcodes/patrons/<patron_id>", methods=["GET"], endpoint="barcode"),
], merge_slashes=False, strict_slashes=False)


@attrs.frozen
class Credentials:
    """A staff login of the sandbox (fine to print: it opens nothing but this sandbox)."""

    domain: str
    username: str
    password: str


class PolarisEmulator(ServedEmulator):
    """Polaris ApplicationServices over real HTTP, with a library system's worth of patrons."""

    title = "Polaris"

    vendor = "polaris"

    def __init__(self, *, patrons: int = DEFAULT_PATRONS, seed: int = 2024, knobs: Knobs | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        admin, clerk = STAFF
        self.credentials = Credentials(domain=USER_DOMAIN, username=admin.username, password=admin.password)
        #: a staff login without "Patron Registration: Access": private fields come back cleared
        self.clerk_credentials = Credentials(domain=USER_DOMAIN, username=clerk.username, password=clerk.password)
        self.site_domain = SITE_DOMAIN
        self.site_timezone = SITE_TIMEZONE
        super().__init__(knobs or Knobs(token_lifetime=TOKEN_LIFETIME))
        self.planted = dict(PLANTED)
        self.organizations = [{"OrganizationID": o[0], "OrganizationCodeID": o[1], "Name": o[2], "Abbreviation": o[3],
                               "ParentOrganizationID": o[4]} for o in ORGANIZATIONS]
        self.patron_codes = {code: name for code, (name, _) in PATRON_CODES.items()}
        self.registration_charges = {code: charge for code, (_, charge) in PATRON_CODES.items() if charge}
        self.transaction_codes = dict(TRANSACTION_CODES)
        self.payment_methods = dict(PAYMENT_METHODS)
        self._clock = clock
        self._lock = threading.RLock()
        system = generate(patrons, seed=seed, today=datetime.fromtimestamp(clock(), timezone.utc).date())
        self._patrons = system.patrons
        self._blocks = system.blocks
        self.examples = dict(system.examples)
        self._auth = StaffAuth(lifetime=lambda: self.knobs.token_lifetime, clock=clock,
                               timezone_name=SITE_TIMEZONE)
        self._registration = Registration(self._patrons, self._blocks, lambda pid: self.counters.write(str(pid)),
                                          clock)
        #: True: answer barcode -> id as a one-element list, as some sites do, not a bare number
        self.ids_as_list = False

    # -- serving -------------------------------------------------------------------------------------
    def apps(self) -> dict[str, Callable]:
        return {"host": self.wsgi}

    def fault_response(self) -> Response:
        return fault()

    @property
    def url(self) -> str:
        """The host's base URL; the API lives under ``/Polaris.ApplicationServices/api``."""
        return self.url_of("host")

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints for this emulator (sandbox credentials only)."""
        return [
            ("url", self.url),
            ("staff login", f"{self.credentials.domain}\\{self.credentials.username} / {self.credentials.password}"),
            ("site domain", self.site_domain),
            ("route", "/Polaris.ApplicationServices/api/v1/eng/19/polaris/3/1/..."),
            ("patrons", f"{len(self._patrons)} (ids {min(self._patrons)}-{max(self._patrons)})"),
        ]

    # -- for tests and notebooks ---------------------------------------------------------------------
    def patron(self, patron_id: int) -> dict[str, Any]:
        """A copy of a patron as stored, password included."""
        with self._lock:
            return copy.deepcopy(self._patrons[patron_id])

    def patrons(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._patrons.values()))

    def blocks(self, patron_id: int) -> list[int]:
        with self._lock:
            return list(self._blocks.get(patron_id, []))

    @property
    def payments(self) -> list[dict[str, Any]]:
        """Registration charges taken: ``{PatronID, TxnCode, Amount, PaymentMethod}``."""
        with self._lock:
            return copy.deepcopy(self._registration.payments)

    @property
    def prompt_types(self) -> dict[int, int]:
        """Prompt type per procedure step, as this site is configured; change it to try other types."""
        return self._registration.prompt_types

    def expire_tokens(self) -> None:
        """Make every staff token expire now."""
        with self._lock:
            self._auth.expire_all()

    @property
    def logins(self) -> int:
        return self._auth.logins

    # -- HTTP ----------------------------------------------------------------------------------------
    def wsgi(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = ROUTES.bind_to_environ(environ).match()
        except NotFound:
            response = pas_error(404, NOT_FOUND, "No HTTP resource was found that matches the request URI.")
        except MethodNotAllowed:
            response = pas_error(405, NOT_FOUND, "The requested resource does not support this HTTP method.")
        else:
            self.counters.action(endpoint)
            try:
                with self._lock:
                    response = self._dispatch(request, endpoint, args)
            except HTTPException as refusal:
                response = refusal.get_response()
        return response(environ, start_response)

    def _dispatch(self, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
        if endpoint == "service":
            return json_answer({"ServiceName": "Polaris.ApplicationServices", "Version": "7.6.0.0", "Major": 7,
                                "Minor": 6, "Build": 0, "Revision": 0, "Patches": []})
        if args["lang"] not in LANGUAGES or args["product"] not in PRODUCT_IDS:
            abort(pas_error(404, NOT_FOUND, "No HTTP resource was found that matches the request URI."))
        if endpoint == "login":
            return self._auth.login(request)
        staff = self._auth.admit(request, args["site"])
        if not args["org"].isdigit() or organization(int(args["org"])) is None or not args["workstation"].isdigit():
            abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "Unknown organization or workstation."))
        if endpoint == "get_patron":
            return _patrons.get_patron(request, self._patrons, staff, args["patron_id"])
        if endpoint == "patron_id":
            return _patrons.patron_id_for_barcode(request, self._patrons, as_list=self.ids_as_list)
        if endpoint == "barcode":
            return _patrons.barcode_for_patron_id(self._patrons, args["patron_id"])
        patron_id = _patrons.patron_id_of(args["patron_id"])
        if patron_id not in self._patrons:
            abort(_patrons.not_found(patron_id))
        return self._registration.update(request, staff, patron_id)


def for_sandbox(*, size: int | None, seed: int, latency: float) -> PolarisEmulator:
    """The registry's factory: a Polaris emulator of ``size`` patrons (default 200)."""
    return PolarisEmulator(patrons=size or DEFAULT_PATRONS, seed=seed,
                           knobs=Knobs(latency=latency, token_lifetime=TOKEN_LIFETIME))
