"""Logins: staff and payment accounts (``/login``), patrons, and proxy authentication."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from .routes import KEY, route, staff
from .state import Store
from .wire import invalid, json_body, json_response, library_or_404, patron_or_404, problem, refuse

BAD_LOGIN = "Invalid username or password"


def credentials(request: Request) -> tuple[str, str]:
    body = json_body(request)
    problems = [problem(name, "REQUIRED", f"{name} is required") for name in ("username", "password")
                if not isinstance(body.get(name), str) or not body[name].strip()]
    if problems:
        invalid({"username": body.get("username", "")}, problems)
    return body["username"], body["password"]


@route("/login", "POST", KEY)
def login(store: Store, request: Request) -> Response:
    """A staff or payment account's token, valid until 23:59:59 today (server time)."""
    username, password = credentials(request)
    account = store.accounts.get(username)
    if account is None or account.password != password:
        refuse(request, 401, BAD_LOGIN)
    kind = "payment" if "PAYMENT" in account.permissions else "staff"
    return json_response({"id": "", "validationErrors": [], "username": username,
                          "token": store.issue(kind, username)})


@route("/patron/authentication/library/<library_id>", "POST", KEY)
def authenticate_in_library(store: Store, request: Request, library_id: str) -> Response:
    """Succeeds only for a patron with an active subscription in the library."""
    library_or_404(request, library_id)
    patron = _patron_for(store, request)
    membership = store.active_membership(patron, library_id)
    if membership is None:
        refuse(request, 401, f"Patron has no active subscription in library {library_id}")
    return _logged_in(store, patron, library_id, membership)


@route("/patron/authentication/", "POST", KEY)
def authenticate(store: Store, request: Request) -> Response:
    """Any known patron; the library is the one of its latest active subscription, else its home."""
    patron = _patron_for(store, request)
    active = [m for m in (store.active_membership(patron, m["libraryId"]) for m in patron["memberships"]) if m]
    membership = max(active, key=lambda m: m["end"], default=None)
    library_id = membership["libraryId"] if membership else patron["homeLibrary"]
    return _logged_in(store, patron, library_id, membership)


@route("/patron/<patron_system_id>/library/<library_id>/proxyauthentication", "POST", staff("PROXY_AUTH"))
def proxy_authentication(store: Store, request: Request, patron_system_id: str, library_id: str) -> Response:
    """A patron token for a staff user allowed PROXY_AUTH, without the patron's password."""
    patron = patron_or_404(store, request, patron_system_id, library_id)
    return _logged_in(store, patron, library_id, store.active_membership(patron, library_id), proxy=True)


def _patron_for(store: Store, request: Request) -> dict[str, Any]:
    username, password = credentials(request)
    patron = store.patron_by_login(username)
    if patron is None or patron["password"] != password or "PATRON" not in patron["roles"]:
        refuse(request, 401, BAD_LOGIN)
    return patron


def _logged_in(store: Store, patron: dict[str, Any], library_id: str, membership: dict[str, Any] | None, *,
               proxy: bool = False) -> Response:
    token = store.issue("patron", patron["patronSystemId"], library_id=library_id, proxy=proxy)
    return json_response({"id": "", "validationErrors": [], "libraryId": library_id,
                          "patronSystemId": patron["patronSystemId"],
                          "membershipExpiryDate": membership["end"] if membership else "",
                          "token": token, "username": patron["username"]})
