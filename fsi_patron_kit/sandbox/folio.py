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

**Edge** (``edge_url``), document 003's LC external patrons. The apikey comes from the ``apikey``
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

import base64
import copy
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
from jsonschema import Draft4Validator, FormatChecker
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, abort
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ._foliodata import (
    ADMIN_USERNAME,
    CANCELLATION_REASONS,
    EDGE_USERNAME,
    EMAIL_CONTACT_TYPE,
    HOME_ADDRESS_TYPE,
    LOAN_DAYS,
    MAX_RENEWALS,
    PATRON_GROUPS,
    PLANTED,
    REMOTE_GROUP,
    SERVICE_POINTS,
    end_of,
    generate,
    iso,
)
from ._server import Counters, EmulatorServer, FaultLayer, Knobs
from .folio_users import ROUTES as MOD_USERS_ROUTES
from .folio_users import ModUsers

TENANT = "sandbox"
ACCESS_TOKEN_LIFETIME = 600.0
REFRESH_TOKEN_LIFETIME = 604800.0
EDGE_SALT = "tZ8q2LmX4v"
CURRENCY = "USD"
MAX_INT = 2147483647
FAULT_TEXT = "internal server error, contact administrator"
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
FOLIO_UUID = re.compile(UUID_PATTERN)
ANY_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HOLD_STATUSES = ["Open - Not yet filled", "Open - Awaiting pickup", "Open - Awaiting delivery", "Open - In transit",
                 "New - Awaiting confirmation", "Closed - Filled", "Closed - Cancelled", "Closed - Unfilled",
                 "Closed - Pickup expired"]
REMOTE_GROUP_ID = PATRON_GROUPS[REMOTE_GROUP]
NO_TOKEN_NEEDED = frozenset({"login", "login_with_expiry", "refresh", "missing"})


# -- the documents' schemas --------------------------------------------------------------------
def _strings(*names: str, required: tuple[str, ...] = (), **special: dict[str, Any]) -> dict[str, Any]:
    """An object of string properties (plus ``special`` ones) that accepts no others."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "properties": {**{name: {"type": "string"} for name in names}, **special}}
    if required:
        schema["required"] = list(required)
    return schema


_EMAIL = {"type": "string", "format": "email"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_UUID = {"type": "string", "pattern": UUID_PATTERN}
_TOPICS = {"type": "array", "items": {"type": "string", "enum": ["Support", "Programs", "Services"]},
           "maxItems": 3, "uniqueItems": True}
_ADDRESS = ("addressLine0", "addressLine1", "city", "province", "zip", "country")
_CONTACT = _strings("phone", "mobilePhone", email=_EMAIL, required=("email",))

STAGING_USER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "isEmailVerified": {"type": "boolean"},
        "minor": {"type": "boolean"},
        "status": {"type": "string", "enum": ["TIER-1", "TIER-2"]},
        "externalSystemId": {"type": "string"},
        "generalInfo": _strings("firstName", "preferredFirstName", "middleName", "lastName",
                                required=("firstName", "lastName")),
        "addressInfo": _strings(*_ADDRESS),
        "contactInfo": _CONTACT,
        "preferredEmailCommunication": _TOPICS,
        "metadata": {"type": "object"},
    },
    "required": ["generalInfo", "contactInfo"],
    "additionalProperties": False,
}
EXTERNAL_PATRON_SCHEMA = {
    "type": "object",
    "properties": {
        "generalInfo": _strings("externalSystemId", "firstName", "preferredFirstName", "middleName", "lastName",
                                required=("externalSystemId", "firstName", "lastName")),
        # Document 003 (the contract) answers with address fields left out, so none is required
        # here; upstream's edge schema requires most of them.
        "addressInfo": _strings(*_ADDRESS),
        "contactInfo": _CONTACT,
        "preferredEmailCommunication": _TOPICS,
    },
    "required": ["generalInfo", "addressInfo", "contactInfo"],
    "additionalProperties": False,
}
HOLD_SCHEMA = {
    "type": "object",
    "properties": {
        "requestId": {"type": "string"},
        "item": {"type": "object"},
        "requestDate": _DATE_TIME,
        "expirationDate": _DATE_TIME,
        "status": {"type": "string", "enum": HOLD_STATUSES},
        "pickupLocationId": _UUID,
        "queuePosition": {"type": "integer"},
        "patronComments": {"type": "string"},
    },
    "required": ["requestDate", "pickupLocationId"],
}
CANCELLATION_SCHEMA = {
    "type": "object",
    "properties": {
        "holdId": _UUID,
        "cancellationReasonId": _UUID,
        "canceledByUserId": _UUID,
        "canceledDate": _DATE_TIME,
        "cancellationAdditionalInformation": {"type": "string"},
    },
    "required": ["cancellationReasonId", "canceledByUserId"],
}

FORMATS = FormatChecker(formats=())


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or EMAIL.match(value) is not None


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        if "T" not in value.upper():
            raise ValueError("a date-time needs a time")
        _instant(value)
    return True


STAGING_USER = Draft4Validator(STAGING_USER_SCHEMA, format_checker=FORMATS)
EXTERNAL_PATRON = Draft4Validator(EXTERNAL_PATRON_SCHEMA, format_checker=FORMATS)
HOLD = Draft4Validator(HOLD_SCHEMA, format_checker=FORMATS)
CANCELLATION = Draft4Validator(CANCELLATION_SCHEMA, format_checker=FORMATS)

GATEWAY_ROUTES = Map([
    Rule("/authn/login", methods=["POST"], endpoint="login"),
    Rule("/authn/login-with-expiry", methods=["POST"], endpoint="login_with_expiry"),
    Rule("/authn/refresh", methods=["POST"], endpoint="refresh"),
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
    *MOD_USERS_ROUTES,
], merge_slashes=False)
EDGE_ROUTES = Map([
    Rule("/patron/account/<caller>", methods=["POST"], endpoint="create_external_patron"),
    Rule("/patron/account/<caller>/by-email/<email>", methods=["GET"], endpoint="external_patron"),
    Rule("/patron/account/<caller>/by-email/<email>", methods=["PUT"], endpoint="update_external_patron"),
    Rule("/patron/account/<caller>/external-patrons", methods=["GET"], endpoint="external_patrons"),
], merge_slashes=False)


@attrs.frozen
class Credentials:
    username: str
    password: str


@attrs.define
class _Grant:
    """An issued token: whose it is and until when (emulator clock seconds) it is good."""

    user_id: str
    expires: float


def edge_apikey(salt: str, tenant: str, username: str) -> str:
    """An edge apikey as FOLIO makes them: URL-safe base64 of compact JSON, padding kept."""
    payload = json.dumps({"s": salt, "t": tenant, "u": username}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


class FolioEmulator:
    """FOLIO's gateway and edge-patron over real HTTP, with a university's worth of users."""

    vendor = "folio"

    def __init__(self, *, users: int = 300, seed: int = 2024, knobs: Knobs | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.tenant = TENANT
        self.credentials = Credentials(username=ADMIN_USERNAME, password="sandbox-folio-password")
        self.edge_apikey = edge_apikey(EDGE_SALT, TENANT, EDGE_USERNAME)
        self.knobs = knobs or Knobs(token_lifetime=ACCESS_TOKEN_LIFETIME)
        self.counters = Counters()
        self.planted = dict(PLANTED)
        self.patron_groups = dict(PATRON_GROUPS)
        self.service_points = [{k: v for k, v in p.items() if k != "pickupLocation"} for p in SERVICE_POINTS]
        self.cancellation_reasons = [dict(r) for r in CANCELLATION_REASONS]
        self._clock = clock
        self._lock = threading.RLock()
        self._data = generate(users, seed=seed, today=self.today)
        self.planted.update(self._data.audit)
        self.mod_users = ModUsers(users=self._data.users, groups=self.patron_groups, now=self._now,
                                  write=self.counters.write)
        self._items = {item["id"]: item for item in self._data.items}
        self._instances = {instance["id"]: instance for instance in self._data.instances}
        self.caller_id: str = self._data.users[0]["externalSystemId"]  # the administrator, an active staff user
        self._access_grants: dict[str, _Grant] = {}
        self._refresh_grants: dict[str, _Grant] = {}
        self._servers: dict[str, EmulatorServer] = {}
        self.legacy_login_only = False  # True: an older mod-login without /authn/login-with-expiry

    # -- serving -------------------------------------------------------------------------------
    def start(self) -> FolioEmulator:
        for name, app in (("gateway", self._gateway_app), ("edge", self._edge_app)):
            layer = FaultLayer(app, self.knobs, self.counters, lambda: _text(500, FAULT_TEXT))
            self._servers[name] = EmulatorServer(layer, counters=self.counters).start()
        return self

    def stop(self) -> None:
        """Stop both servers (one after the other: no new thread, so this works at interpreter exit)."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def banner(self) -> list[tuple[str, str]]:
        """What ``patron-kit sandbox`` prints: where to connect (sandbox credentials, not secrets)."""
        return [("gateway url", self.gateway_url), ("tenant", self.tenant),
                ("username", self.credentials.username), ("password", self.credentials.password),
                ("edge url", self.edge_url), ("edge apikey", self.edge_apikey), ("edge caller", self.caller_id),
                ("users", str(len(self._data.users)))]

    @property
    def gateway_url(self) -> str:
        """Base URL of the Okapi gateway (mod-login and mod-patron)."""
        return self._server_url("gateway")

    @property
    def edge_url(self) -> str:
        """Base URL of edge-patron."""
        return self._server_url("edge")

    @property
    def url(self) -> str:
        return self.gateway_url

    def _server_url(self, name: str) -> str:
        if name not in self._servers:
            raise RuntimeError("the FOLIO emulator is not running")
        return self._servers[name].url

    @property
    def today(self) -> date:
        """The emulator's UTC date; "expired yesterday" means the day before it."""
        return self._now().date()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    # -- for tests and notebooks ---------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        """A copy of every user (mod-users shape), including changes made through the APIs."""
        return self._copy(self._data.users)

    def staging_users(self) -> list[dict[str, Any]]:
        return self._copy(self._data.staging_users)

    def instances(self) -> list[dict[str, Any]]:
        return self._copy(self._data.instances)

    def items(self) -> list[dict[str, Any]]:
        return self._copy(self._data.items)

    def loans(self) -> list[dict[str, Any]]:
        return self._copy(self._data.loans)

    def requests(self) -> list[dict[str, Any]]:
        """A copy of every request (hold, page or recall), open or closed."""
        return self._copy(self._data.requests)

    def charges(self) -> list[dict[str, Any]]:
        """A copy of every fee/fine charge."""
        return self._copy(self._data.charges)

    def _copy(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(records)

    def expire_tokens(self) -> None:
        """Make every access token expire now (refresh tokens stay valid)."""
        with self._lock:
            for grant in self._access_grants.values():
                grant.expires = self._clock() - 1

    def _missing(self, request: Request) -> Response:
        return _text(404, f"Resource not found: {request.path}")

    # -- HTTP ----------------------------------------------------------------------------------
    def _gateway_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._serve(environ, start_response, GATEWAY_ROUTES, self._admit_to_gateway)

    def _edge_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self._serve(environ, start_response, EDGE_ROUTES, self._admit_to_edge)

    def _serve(self, environ: dict, start_response: Callable, routes: Map,
               admit: Callable[[Request, str, dict[str, str]], None]) -> Iterable[bytes]:
        """Route, count, admit (tenant and token, or apikey and caller), then run the handler."""
        request = Request(environ)
        try:
            endpoint, args = routes.bind_to_environ(environ).match()
        except NotFound:
            response = _text(404, f"Resource not found: {request.path}")
        except MethodNotAllowed:
            response = _text(405, "the request's HTTP method is not supported by the server or the resource.")
        else:
            if self.legacy_login_only and endpoint in ("login_with_expiry", "refresh"):
                endpoint = "missing"  # an older mod-login: these paths do not exist
            self.counters.action(endpoint)
            try:
                with self._lock:
                    admit(request, endpoint, args)
                    handler = self.mod_users.handler(endpoint) or getattr(self, f"_{endpoint}")
                    response = handler(request, **args)
            except HTTPException as refusal:
                response = refusal.get_response()
        return response(environ, start_response)

    def _admit_to_gateway(self, request: Request, endpoint: str, args: dict[str, str]) -> None:
        tenant = request.headers.get("X-Okapi-Tenant")
        if not tenant:
            abort(_text(400, "Missing X-Okapi-Tenant header"))
        if tenant != self.tenant:
            abort(_text(400, f"No such Tenant {tenant}"))
        if endpoint not in NO_TOKEN_NEEDED:
            grant = self._grant(request)
            if grant is None:
                abort(_text(401, "Invalid token"))
            request.environ["folio.user_id"] = grant.user_id  # who stamps the records written

    def _admit_to_edge(self, request: Request, endpoint: str, args: dict[str, str]) -> None:
        if _decode_apikey(_apikey(request)) != {"s": EDGE_SALT, "t": self.tenant, "u": EDGE_USERNAME}:
            abort(_text(401, "Invalid API Key"))
        if self._caller(args["caller"]) is None:
            abort(_edge_error(404, "USER_NOT_FOUND"))

    # -- mod-login -----------------------------------------------------------------------------
    def _login_with_expiry(self, request: Request) -> Response:
        user = self._authenticate(request)
        return self._with_new_tokens(user["id"])

    def _refresh(self, request: Request) -> Response:
        token = request.cookies.get("folioRefreshToken")
        if not token:
            abort(_errors(400, "Bad request: no folioRefreshToken cookie"))
        grant = self._refresh_grants.pop(token, None)  # single use, whatever happens next
        if grant is None or grant.expires <= self._clock():
            abort(_errors(422, "Invalid or expired refresh token", "token.refresh.unprocessable"))
        return self._with_new_tokens(grant.user_id)

    def _login(self, request: Request) -> Response:
        user = self._authenticate(request)
        token = self._issue(self._access_grants, "access", user["id"], math.inf)
        response = _json(201, {"okapiToken": token})
        response.headers["x-okapi-token"] = token
        return response

    def _authenticate(self, request: Request) -> dict[str, Any]:
        """The user the posted credentials belong to, or the refusal mod-login would send."""
        body = _json_object(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not username:
            abort(_text(400, "You must provide a username or userId"))
        if not isinstance(password, str):
            abort(_text(400, "You must provide a password"))
        user = next((u for u in self._data.users if u.get("username", "").lower() == username.lower()), None)
        if user is None:
            abort(_errors(422, f"Error verifying user existence: No user found by username {username}",
                          "username.incorrect", username=username))
        if not user["active"]:
            abort(_errors(422, "User must be flagged as active", "user.blocked", username=username))
        if user["username"] != self.credentials.username:
            abort(_text(400, "No credentials match that login"))
        if password != self.credentials.password:
            abort(_errors(422, "Password does not match", "password.incorrect", username=username))
        return user

    def _with_new_tokens(self, user_id: str) -> Response:
        """201 with the expiry body and both cookies, as login-with-expiry and refresh answer."""
        lifetime = self.knobs.token_lifetime
        access = self._issue(self._access_grants, "access", user_id, lifetime)
        refresh = self._issue(self._refresh_grants, "refresh", user_id, REFRESH_TOKEN_LIFETIME)
        response = _json(201, {
            "accessTokenExpiration": _zulu(self._access_grants[access].expires),
            "refreshTokenExpiration": _zulu(self._refresh_grants[refresh].expires),
        })
        response.set_cookie("folioAccessToken", access, max_age=math.ceil(lifetime), path="/", httponly=True,
                            samesite="Lax")
        response.set_cookie("folioRefreshToken", refresh, max_age=int(REFRESH_TOKEN_LIFETIME), path="/authn",
                            httponly=True, samesite="Lax")
        return response

    def _issue(self, store: dict[str, _Grant], kind: str, user_id: str, lifetime: float) -> str:
        """A new JWT-shaped token, recorded in ``store``."""
        now = self._clock()
        user = self._user(user_id) or {}
        claims: dict[str, Any] = {"sub": user.get("username", user_id), "user_id": user_id, "type": kind,
                                  "tenant": self.tenant, "iat": int(now)}
        if lifetime != math.inf:
            claims["exp"] = int(now + lifetime)
        token = ".".join((_b64url({"alg": "HS256", "typ": "JWT"}), _b64url(claims), secrets.token_urlsafe(32)))
        store[token] = _Grant(user_id=user_id, expires=now + lifetime)
        return token

    def _grant(self, request: Request) -> _Grant | None:
        """The live grant behind the request's access token: the header's, else the cookie's."""
        token = request.headers.get("X-Okapi-Token") or request.cookies.get("folioAccessToken")
        grant = self._access_grants.get(token or "")
        return grant if grant is not None and grant.expires > self._clock() else None

    # -- mod-patron: staging users and registration status -------------------------------------
    def _create_staging_user(self, request: Request) -> Response:
        body = _valid_body(request, STAGING_USER)
        staging = {
            **body,
            "id": str(uuid.uuid4()),
            "externalSystemId": str(uuid.uuid4()),
            "status": body.get("status", "TIER-1"),
            "isEmailVerified": body.get("isEmailVerified", False),
            "metadata": self._metadata(request),
        }
        self._data.staging_users.append(staging)
        self.counters.write(staging["id"])
        return _json(201, staging)

    def _update_staging_user(self, request: Request, external_system_id: str) -> Response:
        _check_uuid("externalSystemId", external_system_id)
        body = _valid_body(request, STAGING_USER)
        staging = next((s for s in self._data.staging_users if s["externalSystemId"] == external_system_id), None)
        if staging is None:
            abort(_errors(404, "Staging user does not exist", "STAGING_USER_NOT_FOUND"))
        created = {key: value for key, value in staging["metadata"].items() if key.startswith("created")}
        staging.update({key: value for key, value in body.items() if key not in ("id", "externalSystemId")})
        staging["metadata"] = {**self._metadata(request), **created}
        self.counters.write(staging["id"])
        return _json(200, staging)

    def _metadata(self, request: Request) -> dict[str, str]:
        """Record metadata stamped now by the user whose token made the request."""
        user_id = request.environ["folio.user_id"]
        now = iso(self._now())
        return {"createdDate": now, "createdByUserId": user_id, "updatedDate": now, "updatedByUserId": user_id}

    def _registration_status(self, request: Request, identifier: str) -> Response:
        if ANY_UUID.match(identifier):
            found = [u for u in self._data.users if u.get("externalSystemId") == identifier]
        else:
            found = self._users_with_email(identifier)
        if not found:
            abort(_errors(404, "User does not exist", "USER_NOT_FOUND"))
        if len(found) > 1:
            abort(_errors(400, "Multiple users found with the same email", "MULTIPLE_USER_WITH_EMAIL"))
        return _json(200, found[0])

    # -- mod-patron: account -------------------------------------------------------------------
    def _account(self, request: Request, user_id: str) -> Response:
        _check_uuid("id", user_id)
        include = {name: _flag(request.args, f"include{name.title()}") for name in ("loans", "charges", "holds")}
        arrange = _arranger(request.args)
        if self._user(user_id) is None:
            abort(_text(404, "account not found"))
        lists = {
            "loans": [self._loan_json(loan) for loan in self._data.loans
                      if loan["userId"] == user_id and loan["status"] == "Open"],
            "holds": [self._hold_json(r) for r in self._data.requests
                      if r["requesterId"] == user_id and r["status"].startswith("Open")],
            "charges": [self._charge_json(c) for c in self._data.charges
                        if c["userId"] == user_id and c["remaining"] > 0],
        }
        owed = sum(charge["chargeAmount"]["amount"] for charge in lists["charges"])
        return _json(200, {
            "id": user_id,
            "totalCharges": {"amount": round(owed, 2), "isoCurrencyCode": CURRENCY},
            "totalChargesCount": len(lists["charges"]),
            "totalLoans": len(lists["loans"]),
            "totalHolds": len(lists["holds"]),
            **{name: arrange(records) if include[name] else [] for name, records in lists.items()},
        })

    def _item_json(self, item_id: str) -> dict[str, str]:
        item = self._items[item_id]
        instance = self._instances[item["instanceId"]]
        return {"instanceId": instance["id"], "itemId": item_id, "title": instance["title"],
                "author": instance["author"], "isbn": instance["isbn"]}

    def _loan_json(self, loan: dict[str, Any]) -> dict[str, Any]:
        return {"id": loan["id"], "item": self._item_json(loan["itemId"]), "loanDate": loan["loanDate"],
                "dueDate": loan["dueDate"], "overdue": _instant(loan["dueDate"]) < self._now()}

    def _hold_json(self, record: dict[str, Any]) -> dict[str, Any]:
        hold = {"requestId": record["id"], "item": self._item_json(record["itemId"]),
                "requestDate": record["requestDate"], "pickupLocationId": record["pickupServicePointId"],
                "status": record["status"]}
        if "position" in record:
            hold["queuePosition"] = record["position"]
        for field in ("expirationDate", "patronComments", "cancellationReasonId", "canceledByUserId",
                      "cancellationAdditionalInformation", "canceledDate"):
            if field in record:
                hold[field] = record[field]
        return hold

    def _charge_json(self, charge: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        if "itemId" in charge:
            answer["item"] = self._item_json(charge["itemId"])
        answer.update({
            "chargeAmount": {"amount": charge["remaining"], "isoCurrencyCode": CURRENCY},
            "accrualDate": charge["accrualDate"],
            "state": charge["state"],
            "reason": charge["reason"],
            "feeFineId": charge["feeFineId"],
        })
        return answer

    # -- mod-patron: renew, holds, service points, cancel --------------------------------------
    def _renew(self, request: Request, user_id: str, item_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("itemId", item_id)
        loan = next((loan for loan in self._data.loans if loan["userId"] == user_id
                     and loan["itemId"] == item_id and loan["status"] == "Open"), None)
        if loan is None:
            abort(_text(404, "item not found"))
        recall = next((r for r in self._open_requests(item_id) if r["requestType"] == "Recall"), None)
        if recall is not None:
            abort(_errors(422, "items cannot be renewed when there is an active recall request",
                          requestId=recall["id"]))
        if loan["renewalCount"] >= MAX_RENEWALS:
            abort(_errors(422, "loan at maximum renewal number", renewalLimit=str(MAX_RENEWALS)))
        loan["dueDate"] = iso(end_of(self.today + timedelta(days=LOAN_DAYS)))
        loan["renewalCount"] += 1
        self.counters.write(loan["id"])
        return _json(201, self._loan_json(loan))

    def _hold_item(self, request: Request, user_id: str, item_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("itemId", item_id)
        body = _valid_body(request, HOLD)
        if item_id not in self._items:
            abort(_text(404, "item not found"))
        return self._place_hold(user_id, self._items[item_id], body)

    def _hold_instance(self, request: Request, user_id: str, instance_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("instanceId", instance_id)
        body = _valid_body(request, HOLD)
        if instance_id not in self._instances:
            abort(_text(404, "item not found"))
        return self._place_hold(user_id, self._item_to_request(instance_id), body)

    def _item_to_request(self, instance_id: str) -> dict[str, Any]:
        """The instance's first available copy, else the copy with the shortest queue."""
        copies = [item for item in self._data.items if item["instanceId"] == instance_id]
        available = [item for item in copies if item["status"] == "Available"]
        return available[0] if available else min(copies, key=lambda item: len(self._open_requests(item["id"])))

    def _place_hold(self, user_id: str, item: dict[str, Any], body: dict[str, Any]) -> Response:
        """Check the request as circulation would, then queue it: a Page if the item is on the shelf."""
        user = self._user(user_id)
        if user is None:
            abort(_errors(422, "A valid user and patron group are required. User is null", requesterId=user_id))
        if not user["active"]:
            abort(_errors(422, "Inactive users cannot make requests", requesterId=user_id))
        self._check_pickup(body["pickupLocationId"])
        if any(loan["itemId"] == item["id"] and loan["userId"] == user_id and loan["status"] == "Open"
               for loan in self._data.loans):
            abort(_errors(422, "This requester currently has this item on loan.", itemId=item["id"], userId=user_id))
        queue = self._open_requests(item["id"])
        if any(r["requesterId"] == user_id for r in queue):
            abort(_errors(422, "This requester already has an open request for this item",
                          itemId=item["id"], requesterId=user_id))
        record: dict[str, Any] = {
            "id": str(uuid.uuid4()), "requestType": "Page" if item["status"] == "Available" else "Hold",
            "requesterId": user_id, "itemId": item["id"], "instanceId": item["instanceId"],
            "requestDate": body["requestDate"], "pickupServicePointId": body["pickupLocationId"],
            "status": "Open - Not yet filled", "position": len(queue) + 1,
        }
        record.update({field: body[field] for field in ("expirationDate", "patronComments") if field in body})
        if record["requestType"] == "Page":
            item["status"] = "Paged"
        self._data.requests.append(record)
        self.counters.write(record["id"])
        return _json(201, self._hold_json(record))

    def _check_pickup(self, service_point_id: str) -> None:
        point = next((p for p in SERVICE_POINTS if p["id"] == service_point_id), None)
        if point is None:
            abort(_errors(422, "Pickup service point does not exist", pickupServicePointId=service_point_id))
        if not point["pickupLocation"]:
            abort(_errors(422, "Service point is not a pickup location", pickupServicePointId=service_point_id))

    def _item_service_points(self, request: Request, user_id: str, item_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("itemId", item_id)
        if item_id not in self._items:
            abort(_errors(422, f"Item with ID {item_id} was not found", itemId=item_id))
        return self._allowed_service_points(user_id)

    def _instance_service_points(self, request: Request, user_id: str, instance_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("instanceId", instance_id)
        if instance_id not in self._instances:
            abort(_errors(422, f"Instance with ID {instance_id} was not found", instanceId=instance_id))
        return self._allowed_service_points(user_id)

    def _allowed_service_points(self, user_id: str) -> Response:
        if self._user(user_id) is None:
            abort(_errors(422, f"User with ID {user_id} was not found", patronId=user_id))
        points = [{key: p[key] for key in ("id", "name", "discoveryName")} for p in SERVICE_POINTS if p["pickupLocation"]]
        return _json(200, {"allowedServicePoints": points})

    def _cancel_hold(self, request: Request, user_id: str, hold_id: str) -> Response:
        _check_uuid("id", user_id)
        _check_uuid("holdId", hold_id)
        body = _valid_body(request, CANCELLATION)
        record = next((r for r in self._data.requests if r["id"] == hold_id and r["requesterId"] == user_id), None)
        if record is None:
            abort(_text(404, "hold not found"))
        if body["cancellationReasonId"] not in {reason["id"] for reason in CANCELLATION_REASONS}:
            abort(_errors(422, "Cancellation reason does not exist", cancellationReasonId=body["cancellationReasonId"]))
        if not record["status"].startswith("Open"):
            abort(_errors(422, "Request has already been closed", requestId=hold_id))
        record.update(status="Closed - Cancelled", cancellationReasonId=body["cancellationReasonId"],
                      canceledByUserId=body["canceledByUserId"], canceledDate=body.get("canceledDate", iso(self._now())))
        if "cancellationAdditionalInformation" in body:
            record["cancellationAdditionalInformation"] = body["cancellationAdditionalInformation"]
        self._leave_queue(record)
        self.counters.write(hold_id)
        return _json(200, self._hold_json(record))

    def _leave_queue(self, record: dict[str, Any]) -> None:
        """Take a closed request out of its item's queue: the others move up, a paged item goes back."""
        del record["position"]
        queue = sorted(self._open_requests(record["itemId"]), key=lambda r: r["position"])
        for position, waiting in enumerate(queue, start=1):
            waiting["position"] = position
        item = self._items[record["itemId"]]
        if item["status"] == "Paged" and not any(r["requestType"] == "Page" for r in queue):
            item["status"] = "Available"

    def _open_requests(self, item_id: str) -> list[dict[str, Any]]:
        return [r for r in self._data.requests if r["itemId"] == item_id and r["status"].startswith("Open")]

    # -- edge-patron: LC external patrons ------------------------------------------------------
    def _create_external_patron(self, request: Request, caller: str) -> Response:
        patron = _valid_patron(request)
        found = self._users_with_email(patron["contactInfo"]["email"])
        if len(found) > 1:
            abort(_edge_error(422, "MULTIPLE_USER_WITH_EMAIL"))
        if found:
            user = found[0]
            if not user["active"]:
                abort(_edge_error(422, "USER_ACCOUNT_INACTIVE"))
            if user["patronGroup"] != REMOTE_GROUP_ID:
                abort(_edge_error(422, "INVALID_PATRON_GROUP"))
            abort(_edge_error(422, "USER_ALREADY_EXIST"))
        self._check_external_id_free(patron, owner=None)
        now, edge_user = self._now(), self._edge_user_id()
        user = {
            "id": str(uuid.uuid4()),
            "externalSystemId": patron["generalInfo"]["externalSystemId"],
            "active": True,
            "type": "patron",
            "patronGroup": REMOTE_GROUP_ID,
            "departments": [],
            "personal": _personal_from(patron, previous={}),
            "enrollmentDate": iso(now),
            "expirationDate": iso(end_of(now.date() + timedelta(days=365))),
            "createdDate": iso(now),
            "updatedDate": iso(now),
            "metadata": {"createdDate": iso(now), "createdByUserId": edge_user,
                         "updatedDate": iso(now), "updatedByUserId": edge_user},
        }
        if "preferredEmailCommunication" in patron:
            user["preferredEmailCommunication"] = list(patron["preferredEmailCommunication"])
        self._data.users.append(user)
        self.counters.write(user["id"])
        return _json(201, _as_external_patron(user))

    def _external_patron(self, request: Request, caller: str, email: str) -> Response:
        return _json(200, _as_external_patron(self._only_user_with_email(email)))

    def _update_external_patron(self, request: Request, caller: str, email: str) -> Response:
        patron = _valid_patron(request)
        user = self._only_user_with_email(email)
        new_email = patron["contactInfo"]["email"]
        if any(other is not user for other in self._users_with_email(new_email)):
            abort(_edge_error(422, "EMAIL_ALREADY_EXIST"))
        if user["patronGroup"] != REMOTE_GROUP_ID:
            abort(_edge_error(422, "PATRON_GROUP_NOT_APPLICABLE"))
        self._check_external_id_free(patron, owner=user)
        user["externalSystemId"] = patron["generalInfo"]["externalSystemId"]
        user["personal"] = _personal_from(patron, previous=user["personal"])
        if "preferredEmailCommunication" in patron:
            user["preferredEmailCommunication"] = list(patron["preferredEmailCommunication"])
        now, edge_user = iso(self._now()), self._edge_user_id()
        user["updatedDate"] = now
        user["metadata"].update(updatedDate=now, updatedByUserId=edge_user)
        self.counters.write(user["id"])
        return Response(status=204)

    def _external_patrons(self, request: Request, caller: str) -> Response:
        remote = [u for u in self._data.users if u["patronGroup"] == REMOTE_GROUP_ID]
        if _flag(request.args, "expired"):
            yesterday = self.today - timedelta(days=1)
            remote = [u for u in remote if "expirationDate" in u and _instant(u["expirationDate"]).date() == yesterday]
        return _json(200, {"externalPatrons": [_as_external_patron(u) for u in remote], "totalRecords": len(remote)})

    def _only_user_with_email(self, email: str) -> dict[str, Any]:
        found = self._users_with_email(email)
        if not found:
            abort(_edge_error(404, "USER_NOT_FOUND"))
        if len(found) > 1:
            abort(_edge_error(422, "MULTIPLE_USER_WITH_EMAIL"))
        return found[0]

    def _check_external_id_free(self, patron: dict[str, Any], *, owner: dict[str, Any] | None) -> None:
        wanted = patron["generalInfo"]["externalSystemId"]
        if any(u.get("externalSystemId") == wanted and u is not owner for u in self._data.users):
            abort(_edge_error(422, "User with this externalSystemId already exists"))

    def _edge_user_id(self) -> str:
        return next(u["id"] for u in self._data.users if u.get("username") == EDGE_USERNAME)

    # -- lookups -------------------------------------------------------------------------------
    def _user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self._data.users if u["id"] == user_id), None)

    def _caller(self, identifier: str) -> dict[str, Any] | None:
        return next((u for u in self._data.users if identifier in (u.get("externalSystemId"), u["id"])), None)

    def _users_with_email(self, email: str) -> list[dict[str, Any]]:
        wanted = email.strip().lower()
        return [u for u in self._data.users if u["personal"].get("email", "").strip().lower() == wanted]


# -- wire helpers ------------------------------------------------------------------------------
def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _errors(status: int, message: str, code: str | None = None, **parameters: str) -> Response:
    """RMB's error shape: ``{"errors": [{"message", "type", "code", "parameters"}], "total_records"}``."""
    error: dict[str, Any] = {"message": message, "type": "error"}
    if code:
        error["code"] = code
    error["parameters"] = [{"key": key, "value": value} for key, value in parameters.items()]
    return _json(status, {"errors": [error], "total_records": 1})


def _edge_error(status: int, code: str) -> Response:
    return _json(status, {"code": status, "errorMessage": code})


def _json_object(request: Request, *, bad: str = "Json content error") -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(_text(400, bad))
    return body


def _violations(validator: Draft4Validator, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, problem, value) for each way ``body`` breaks the schema, a missing field as RMB says it."""
    found: dict[str, tuple[str, str]] = {}
    for error in validator.iter_errors(body):
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    found[f"{path}.{name}".lstrip(".")] = ("must not be null", "null")
        else:
            value = error.instance if isinstance(error.instance, str) else json.dumps(error.instance)
            found[path or "body"] = (error.message, value)
    return [(field, problem, value) for field, (problem, value) in sorted(found.items())]


def _valid_body(request: Request, validator: Draft4Validator) -> dict[str, Any]:
    """The JSON body, or 422 with RMB validation errors (``type`` "1", ``code`` "-1")."""
    body = _json_object(request)
    problems = _violations(validator, body)
    if problems:
        errors = [{"message": problem, "type": "1", "code": "-1", "parameters": [{"key": field, "value": value}]}
                  for field, problem, value in problems]
        abort(_json(422, {"errors": errors, "total_records": len(errors)}))
    return body


def _valid_patron(request: Request) -> dict[str, Any]:
    """An ``external_patron`` body, or 422 naming the first problem in edge's error shape."""
    body = _json_object(request, bad="unable to process request")
    problems = _violations(EXTERNAL_PATRON, body)
    if problems:
        field, problem, _ = problems[0]
        abort(_edge_error(422, f"{field}: {problem}"))
    return body


def _check_uuid(name: str, value: str) -> None:
    if not FOLIO_UUID.match(value):
        abort(_text(400, f"'{name}' parameter is incorrect. parameter value {{{value}}} is not valid: "
                         f"must match \"{UUID_PATTERN}\""))


def _flag(args: MultiDict, name: str) -> bool:
    raw = args.get(name)
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    abort(_text(400, f"'{name}' parameter is incorrect. parameter value {{{raw}}} is not valid: must be true or false"))


def _whole(args: MultiDict, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > MAX_INT:
        abort(_text(400, f"'{name}' parameter is incorrect. parameter value {{{raw}}} is not valid: "
                         f"must be an integer from 0 to {MAX_INT}"))
    return int(raw)


def _arranger(args: MultiDict) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """Sorting (CQL ``field/sort.ascending|descending``, several keys allowed) and paging for each list."""
    offset, limit = _whole(args, "offset", 0), _whole(args, "limit", MAX_INT)
    keys: list[tuple[str, bool]] = []
    for term in (args.get("sortBy") or "").split():
        field, _, modifier = term.partition("/")
        if modifier not in ("", "sort.ascending", "sort.descending"):
            abort(_text(400, f"unable to process request -- unsupported sort modifier in sortBy: {term}"))
        keys.append((field, modifier == "sort.descending"))

    def arrange(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for field, descending in reversed(keys):
            present = [r for r in records if _dig(r, field) is not None]
            absent = [r for r in records if _dig(r, field) is None]
            records = sorted(present, key=lambda r: _sort_value(_dig(r, field)), reverse=descending) + absent
        return records[offset:offset + limit]

    return arrange


def _dig(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sort_value(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _apikey(request: Request) -> str:
    key = request.args.get("apikey") or request.headers.get("Authorization", "")
    return key[len("apikey "):] if key.lower().startswith("apikey ") else key


def _decode_apikey(key: str) -> Any:
    """What an edge apikey holds (``{"s", "t", "u"}`` if it is one), or None if it is not JSON."""
    try:
        return json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except ValueError:
        return None


def _as_external_patron(user: dict[str, Any]) -> dict[str, Any]:
    """A user as edge's ``external_patron``: the Home address becomes ``addressInfo``."""
    personal = user["personal"]
    general = {"externalSystemId": user.get("externalSystemId", ""), "firstName": personal.get("firstName", "")}
    general.update({key: personal[key] for key in ("preferredFirstName", "middleName") if key in personal})
    general["lastName"] = personal["lastName"]
    home = next((a for a in personal.get("addresses", []) if a["addressTypeId"] == HOME_ADDRESS_TYPE), {})
    # Fields the user has no value for are left out, as in document 003's own answers.
    address = {target: home[source] for target, source in (
        ("addressLine0", "addressLine1"), ("addressLine1", "addressLine2"), ("city", "city"),
        ("province", "region"), ("zip", "postalCode"), ("country", "countryId")) if home.get(source)}
    contact = {key: personal[key] for key in ("phone", "mobilePhone") if key in personal}
    contact["email"] = personal.get("email", "")
    patron: dict[str, Any] = {"generalInfo": general, "addressInfo": address, "contactInfo": contact}
    if "preferredEmailCommunication" in user:
        patron["preferredEmailCommunication"] = list(user["preferredEmailCommunication"])
    return patron


def _personal_from(patron: dict[str, Any], *, previous: dict[str, Any]) -> dict[str, Any]:
    """A user's ``personal`` from an ``external_patron``; other address types and details are kept."""
    general, address, contact = patron["generalInfo"], patron["addressInfo"], patron["contactInfo"]
    personal = {key: value for key, value in previous.items()
                if key not in ("firstName", "middleName", "preferredFirstName", "email", "phone", "mobilePhone")}
    personal.update(lastName=general["lastName"], firstName=general["firstName"])
    personal.update({key: general[key] for key in ("middleName", "preferredFirstName") if key in general})
    personal.update({key: contact[key] for key in ("email", "phone", "mobilePhone") if key in contact})
    addresses = previous.get("addresses", [])
    old_home = next((a for a in addresses if a["addressTypeId"] == HOME_ADDRESS_TYPE), {})
    home = {"id": old_home.get("id", str(uuid.uuid4()))}
    for source, target in (("country", "countryId"), ("addressLine0", "addressLine1"), ("addressLine1", "addressLine2"),
                           ("city", "city"), ("province", "region"), ("zip", "postalCode")):
        if address.get(source):
            home[target] = address[source]
    home.update(addressTypeId=HOME_ADDRESS_TYPE, primaryAddress=True)
    others = [{**a, "primaryAddress": False} for a in addresses if a["addressTypeId"] != HOME_ADDRESS_TYPE]
    personal["addresses"] = [home, *others]
    personal.setdefault("preferredContactTypeId", EMAIL_CONTACT_TYPE)
    return personal


def _instant(text: str) -> datetime:
    """An ISO-8601 instant, ``Z`` or offset, as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _zulu(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64url(claims: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")


def for_sandbox(*, size: int | None, seed: int, latency: float) -> FolioEmulator:
    """The FOLIO emulator as the sandbox starts it: ``size`` users, well-behaved but for ``latency``."""
    return FolioEmulator(users=size or 300, seed=seed, knobs=Knobs(latency=latency, token_lifetime=ACCESS_TOKEN_LIFETIME))
