"""Emulator of FOLIO's patron APIs: an Okapi gateway with mod-login and mod-patron, and edge-patron.

Two servers share one set of knobs and counters.

**Gateway** (``gateway_url``). Every request needs ``X-Okapi-Tenant: sandbox`` (400 text/plain
otherwise). mod-login:

* ``POST /authn/login-with-expiry`` ``{username, password}`` -> 201
  ``{accessTokenExpiration, refreshTokenExpiration}`` with the cookies ``folioAccessToken``
  (``Max-Age`` = ``knobs.token_lifetime``, 600 by default, ``Path=/``) and ``folioRefreshToken``
  (one week, ``Path=/authn``). A missing username or password is 400 text/plain; an unknown
  username (``username.incorrect``), an inactive user (``user.blocked``) or a wrong password
  (``password.incorrect``) is 422 with RMB errors.
* ``POST /authn/refresh`` with the ``folioRefreshToken`` cookie -> 201, the same body and new
  cookies. Refresh tokens are single use. No cookie is 400, an unknown, used or expired one 422
  ``token.refresh.unprocessable`` (RMB errors), as mod-login's RAML has it.
* ``POST /authn/login`` (legacy) -> 201 ``{"okapiToken": token}`` and header ``x-okapi-token``;
  that token has no expiry of its own.
* ``POST /authn/logout`` with the refresh cookie -> 204, the refresh token spent and both cookies
  cleared (the access token lives on until it expires, as mod-login documents); no cookie 400,
  an unknown or spent one 422. ``POST /authn/logout-all`` (needs an access token) -> 204, every
  refresh token of the user spent.

Every ``/patron`` call needs an access token, from the ``X-Okapi-Token`` header or else from the
``folioAccessToken`` cookie: none, unknown or expired is 401 text/plain ``Invalid token``.
mod-patron v4.2, with path UUIDs checked against the document's pattern (400 text/plain, as RMB
answers a URI parameter that breaks its pattern) and JSON bodies against the document's schema
(422 RMB errors: ``must not be null`` for a missing field, else the schema's complaint, with the
field as the parameter key):

* ``POST /patron`` -> 201 staging user; ``PUT /patron/{externalSystemId}`` -> 200, 404
  ``STAGING_USER_NOT_FOUND``;
* ``GET /patron/registration-status/{identifier}`` -> 200 user, 404 ``USER_NOT_FOUND``,
  400 ``MULTIPLE_USER_WITH_EMAIL``;
* ``GET /patron/account/{id}`` -> 200 account, 404 text/plain ``account not found``, 400
  text/plain for a bad ``include*``, ``sortBy``, ``offset`` or ``limit``;
* ``POST .../item/{itemId}/renew`` -> 201 loan, 404 ``item not found``, 422 when the item is
  recalled or the loan reached its renewal limit;
* ``POST .../item/{itemId}/hold`` and ``.../instance/{instanceId}/hold`` -> 201 hold, 404
  ``item not found``, 422 for an unknown or non-pickup service point, an inactive or unknown
  requester, or an item the requester already has on loan or on request;
* ``GET .../item/{itemId}/allowed-service-points`` and the instance form -> 200, 422 for an
  unknown user, item or instance (the document lists no 404 there);
* ``POST .../hold/{holdId}/cancel`` -> 200 hold ``Closed - Cancelled``, 404 ``hold not found``,
  422 for an unknown cancellation reason or a hold already closed.

**Edge** (``edge_url``), document 003's LC external patrons, and today's edge-patron (below). The apikey comes from the ``apikey``
query parameter or the ``Authorization`` header (bare, or after ``apikey ``); it is URL-safe
base64 of ``{"s": salt, "t": tenant, "u": user}`` and must name this sandbox's salt, tenant and
edge user, else 401 text/plain ``Invalid API Key``. ``{externalSystemID}`` is the caller: an
existing user's ``externalSystemId`` or ``id``, else 404 ``{"code": 404, "errorMessage":
"USER_NOT_FOUND"}``. Errors are ``{"code": <status>, "errorMessage": <CODE>}``.

* ``POST /patron/account/{externalSystemID}`` -> 201 echo, or 422 ``MULTIPLE_USER_WITH_EMAIL``,
  ``USER_ACCOUNT_INACTIVE``, ``INVALID_PATRON_GROUP``, ``USER_ALREADY_EXIST`` (in that order);
* ``GET /patron/account/{externalSystemID}/by-email/{email}`` -> 200, 404, 422 multiple;
* ``PUT`` the same -> 204, 404, 422 multiple, ``EMAIL_ALREADY_EXIST``, ``PATRON_GROUP_NOT_APPLICABLE``;
* ``GET /patron/account/{externalSystemID}/external-patrons[?expired=true]`` -> every remote
  patron, or those whose expiration date was the day before today (UTC).

Today's edge-patron serves the same four calls without the caller (``POST /patron/account``,
``GET``/``PUT /patron/account/by-email/{emailId}``, ``GET /patron/account/external-patrons``) and
proxies mod-patron: ``GET /patron/account/{id}``, ``.../item/{itemId}/renew``, the holds, the
allowed service points and ``.../hold/{holdId}/cancel``, where ``{id}`` is the patron's
``externalSystemId`` (404 text/plain ``Unable to find patron {id}`` if no user has it), and
``GET /patron/registration-status?emailId=|externalSystemId=`` with edge's user errors
``{"code", "errorMessage"}`` (400 ``INVALID_IDENTIFIERS`` or ``MULTIPLE_USER_WITH_EMAIL``, 404
``USER_NOT_FOUND``).

Choices where the documents are silent:

* ``POST /patron`` always creates a new staging user and generates its ``id`` and
  ``externalSystemId``, ignoring any sent; ``status`` defaults to TIER-1 and
  ``isEmailVerified`` to false. ``PUT`` replaces the sections the body carries and keeps the rest.
* A patron account is returned for any existing user, active or not, patron or staff: mod-patron
  reads the account by FOLIO user id and the document names no refusal.
* Renewal is refused while the item has an open Recall request, or after three renewals; a hold
  on an available item is a Page, otherwise a Hold.
* The cancel body may be the document's hold or edge's hold-cancellation; only
  ``cancellationReasonId`` and ``canceledByUserId`` are required.
* An edge body that breaks ``external_patron`` is 422 with ``"errorMessage": "<field>: <problem>"``;
  an ``externalSystemId`` another user already has is 422 with mod-users' message.
* Unknown paths are 404 text/plain, a known path with another method 405 text/plain (the
  document's answer to ``PUT /patron`` without an id).

``counters.actions`` counts every request that reached a known endpoint, authorised or not;
``counters.writes`` counts each record written, by its id.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._server import Knobs, ServedEmulator
from . import edge, login, patron, users
from .data import (
    ADMIN_USERNAME,
    CANCELLATION_REASONS,
    EDGE_USERNAME,
    PATRON_GROUPS,
    PLANTED,
    SERVICE_POINTS,
    generate,
)
from .edge import EDGE_SALT, edge_apikey
from .state import Credentials, TenantState
from .wire import refuse, text

__all__ = ["FolioEmulator", "Credentials", "ACCESS_TOKEN_LIFETIME", "edge_apikey", "for_sandbox"]

TENANT = "sandbox"
ACCESS_TOKEN_LIFETIME = 600.0
FAULT_TEXT = "internal server error, contact administrator"
NO_TOKEN_NEEDED = frozenset({"login", "login_with_expiry", "refresh", "logout", "missing"})

Handler = Callable[..., Response]


def _missing(state: TenantState, request: Request) -> Response:
    return text(404, f"Resource not found: {request.path}")


GATEWAY_ROUTES = Map([
    Rule("/authn/login", methods=["POST"], endpoint="login"),
    Rule("/authn/login-with-expiry", methods=["POST"], endpoint="login_with_expiry"),
    Rule("/authn/refresh", methods=["POST"], endpoint="refresh"),
    Rule("/authn/logout", methods=["POST"], endpoint="logout"),
    Rule("/authn/logout-all", methods=["POST"], endpoint="logout_all"),
    Rule("/patron", methods=["POST"], endpoint="create_staging_user"),
    Rule("/patron/<external_system_id>", methods=["PUT"], endpoint="update_staging_user"),
    Rule("/patron/registration-status/<identifier>", methods=["GET"], endpoint="registration_status"),
    Rule("/patron/account/<user_id>", methods=["GET"], endpoint="account"),
    Rule("/patron/account/<user_id>/item/<item_id>/renew", methods=["POST"], endpoint="renew"),
    Rule("/patron/account/<user_id>/item/<item_id>/hold", methods=["POST"], endpoint="hold_item"),
    Rule("/patron/account/<user_id>/instance/<instance_id>/hold", methods=["POST"], endpoint="hold_instance"),
    Rule("/patron/account/<user_id>/item/<item_id>/allowed-service-points", methods=["GET"],
         endpoint="item_service_points"),
    Rule("/patron/account/<user_id>/instance/<instance_id>/allowed-service-points", methods=["GET"],
         endpoint="instance_service_points"),
    Rule("/patron/account/<user_id>/hold/<hold_id>/cancel", methods=["POST"], endpoint="cancel_hold"),
    *users.ROUTES,
], merge_slashes=False)
GATEWAY_HANDLERS: dict[str, Handler] = {
    **users.HANDLERS,
    "login": login.login, "login_with_expiry": login.login_with_expiry, "refresh": login.refresh,
    "logout": login.logout, "logout_all": login.logout_all, "missing": _missing,
    "create_staging_user": patron.create_staging_user, "update_staging_user": patron.update_staging_user,
    "registration_status": patron.registration_status, "account": patron.account, "renew": patron.renew,
    "hold_item": patron.hold_item, "hold_instance": patron.hold_instance,
    "item_service_points": patron.item_service_points, "instance_service_points": patron.instance_service_points,
    "cancel_hold": patron.cancel_hold,
}
EDGE_ROUTES = Map([
    # document 003: the caller in the path
    Rule("/patron/account/<caller>", methods=["POST"], endpoint="create_external_patron"),
    Rule("/patron/account/<caller>/by-email/<email>", methods=["GET"], endpoint="external_patron"),
    Rule("/patron/account/<caller>/by-email/<email>", methods=["PUT"], endpoint="update_external_patron"),
    Rule("/patron/account/<caller>/external-patrons", methods=["GET"], endpoint="external_patrons"),
    # today's edge-patron: no caller, and the mod-patron proxies
    Rule("/patron/account", methods=["POST"], endpoint="create_external_patron"),
    Rule("/patron/account/by-email/<email>", methods=["GET"], endpoint="external_patron"),
    Rule("/patron/account/by-email/<email>", methods=["PUT"], endpoint="update_external_patron"),
    Rule("/patron/account/external-patrons", methods=["GET"], endpoint="external_patrons"),
    Rule("/patron/account/<patron_id>", methods=["GET"], endpoint="account"),
    Rule("/patron/account/<patron_id>/item/<item_id>/renew", methods=["POST"], endpoint="renew"),
    Rule("/patron/account/<patron_id>/item/<item_id>/hold", methods=["POST"], endpoint="hold_item"),
    Rule("/patron/account/<patron_id>/instance/<instance_id>/hold", methods=["POST"], endpoint="hold_instance"),
    Rule("/patron/account/<patron_id>/item/<item_id>/allowed-service-points", methods=["GET"],
         endpoint="item_service_points"),
    Rule("/patron/account/<patron_id>/instance/<instance_id>/allowed-service-points", methods=["GET"],
         endpoint="instance_service_points"),
    Rule("/patron/account/<patron_id>/hold/<hold_id>/cancel", methods=["POST"], endpoint="cancel_hold"),
    Rule("/patron/registration-status", methods=["GET"], endpoint="registration_status"),
], merge_slashes=False)
EDGE_HANDLERS: dict[str, Handler] = {
    "create_external_patron": edge.create_external_patron, "external_patron": edge.external_patron,
    "update_external_patron": edge.update_external_patron, "external_patrons": edge.external_patrons,
    "account": edge.ACCOUNT, "renew": edge.RENEW, "hold_item": edge.HOLD_ITEM, "hold_instance": edge.HOLD_INSTANCE,
    "item_service_points": edge.ITEM_SERVICE_POINTS, "instance_service_points": edge.INSTANCE_SERVICE_POINTS,
    "cancel_hold": edge.CANCEL_HOLD, "registration_status": edge.registration_status,
}


def _admit_to_gateway(state: TenantState, request: Request, endpoint: str, args: dict[str, str]) -> None:
    """Okapi's checks: the tenant header, then a live access token (header, else cookie)."""
    tenant = request.headers.get("X-Okapi-Tenant")
    if not tenant:
        refuse(text(400, "Missing X-Okapi-Tenant header"))
    if tenant != state.name:
        refuse(text(400, f"No such Tenant {tenant}"))
    if endpoint not in NO_TOKEN_NEEDED:
        token = request.headers.get("X-Okapi-Token") or request.cookies.get("folioAccessToken")
        grant = state.tokens.live_access(token or "")
        if grant is None:
            refuse(text(401, "Invalid token"))
        request.environ["folio.user_id"] = grant.user_id  # who stamps the records written


class FolioEmulator(ServedEmulator):
    """FOLIO's gateway and edge-patron over real HTTP, with a university's worth of users."""

    vendor = "folio"
    title = "FOLIO"

    def __init__(self, *, users: int = 300, seed: int = 2024, knobs: Knobs | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(knobs or Knobs(token_lifetime=ACCESS_TOKEN_LIFETIME))
        self.tenant = TENANT
        self.credentials = Credentials(username=ADMIN_USERNAME, password="sandbox-folio-password")
        self.edge_apikey = edge_apikey(EDGE_SALT, TENANT, EDGE_USERNAME)
        self.planted = dict(PLANTED)
        self.patron_groups = dict(PATRON_GROUPS)
        self.service_points = [{k: v for k, v in p.items() if k != "pickupLocation"} for p in SERVICE_POINTS]
        self.cancellation_reasons = [dict(r) for r in CANCELLATION_REASONS]
        self._clock = clock
        self.state = TenantState(generate(users, seed=seed, today=self.today), name=TENANT,
                                 credentials=self.credentials, clock=clock, knobs=self.knobs, counters=self.counters)
        self.planted.update(self.state.data.audit)
        self.caller_id: str = self.state.data.users[0]["externalSystemId"]  # the administrator, an active staff user
        self.legacy_login_only = False  # True: an older mod-login without /authn/login-with-expiry

    # -- serving -------------------------------------------------------------------------------
    def apps(self) -> dict[str, Callable]:
        return {"gateway": self._gateway_app, "edge": self._edge_app}

    def fault_response(self) -> Response:
        return text(500, FAULT_TEXT)

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints: where to connect (sandbox credentials, not secrets)."""
        return [("gateway url", self.gateway_url), ("tenant", self.tenant),
                ("username", self.credentials.username), ("password", self.credentials.password),
                ("edge url", self.edge_url), ("edge apikey", self.edge_apikey), ("edge caller", self.caller_id),
                ("users", str(len(self.state.data.users)))]

    @property
    def gateway_url(self) -> str:
        """Base URL of the Okapi gateway (mod-login and mod-patron)."""
        return self.url_of("gateway")

    @property
    def edge_url(self) -> str:
        """Base URL of edge-patron."""
        return self.url_of("edge")

    @property
    def url(self) -> str:
        return self.gateway_url

    @property
    def today(self) -> date:
        """The emulator's UTC date; "expired yesterday" means the day before it."""
        return datetime.fromtimestamp(self._clock(), timezone.utc).date()

    # -- for tests and notebooks ---------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        """A copy of every user (mod-users shape), including changes made through the APIs."""
        return self._copy(self.state.data.users)

    def staging_users(self) -> list[dict[str, Any]]:
        return self._copy(self.state.data.staging_users)

    def instances(self) -> list[dict[str, Any]]:
        return self._copy(self.state.data.instances)

    def items(self) -> list[dict[str, Any]]:
        return self._copy(self.state.data.items)

    def loans(self) -> list[dict[str, Any]]:
        return self._copy(self.state.data.loans)

    def requests(self) -> list[dict[str, Any]]:
        """A copy of every request (hold, page or recall), open or closed."""
        return self._copy(self.state.data.requests)

    def charges(self) -> list[dict[str, Any]]:
        """A copy of every fee/fine charge."""
        return self._copy(self.state.data.charges)

    def _copy(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.state.lock.reading():
            return copy.deepcopy(records)

    def expire_tokens(self) -> None:
        """Make every access token expire now (refresh tokens stay valid)."""
        self.state.tokens.expire_access()

    # -- HTTP ----------------------------------------------------------------------------------
    def _gateway_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._serve(environ, start_response, GATEWAY_ROUTES, GATEWAY_HANDLERS, _admit_to_gateway)

    def _edge_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._serve(environ, start_response, EDGE_ROUTES, EDGE_HANDLERS, edge.admit)

    def _serve(self, environ: dict, start_response: Callable, routes: Map, handlers: dict[str, Handler],
               admit: Callable[[TenantState, Request, str, dict[str, str]], None]) -> Iterable[bytes]:
        """Route, count, admit (tenant and token, or apikey and caller), then run the handler."""
        request = Request(environ)
        try:
            endpoint, args = routes.bind_to_environ(environ).match()
        except NotFound:
            response = text(404, f"Resource not found: {request.path}")
        except MethodNotAllowed:
            response = text(405, "the request's HTTP method is not supported by the server or the resource.")
        else:
            if self.legacy_login_only and endpoint in ("login_with_expiry", "refresh"):
                endpoint = "missing"  # an older mod-login: these paths do not exist
            self.counters.action(endpoint)
            try:
                admit(self.state, request, endpoint, args)
                response = handlers[endpoint](self.state, request, **args)
            except HTTPException as refusal:
                response = refusal.get_response()
        return response(environ, start_response)


def for_sandbox(*, size: int | None, seed: int, latency: float) -> FolioEmulator:
    """The FOLIO emulator as the sandbox starts it: ``size`` users, well-behaved but for ``latency``."""
    return FolioEmulator(users=size or 300, seed=seed, knobs=Knobs(latency=latency, token_lifetime=ACCESS_TOKEN_LIFETIME))
