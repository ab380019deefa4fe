"""mod-login: logins with and without expiry, refresh, and logout (this device or all of them).

Tokens have their own lock (:class:`~.state.Tokens`); users are looked up under the read lock.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from .state import TenantState
from .wire import answer, json_object, refuse, rmb_errors, text

REFRESH_TOKEN_LIFETIME = 604800.0


def login_with_expiry(state: TenantState, request: Request) -> Response:
    user = _authenticate(state, request)
    return _with_new_tokens(state, user)


def refresh(state: TenantState, request: Request) -> Response:
    token = request.cookies.get("folioRefreshToken")
    if not token:
        refuse(rmb_errors(400, "Bad request: no folioRefreshToken cookie"))
    grant = state.tokens.use_refresh(token)
    if grant is None:
        refuse(rmb_errors(422, "Invalid or expired refresh token", "token.refresh.unprocessable"))
    with state.lock.reading():
        user = state.user(grant.user_id) or {"id": grant.user_id}
    return _with_new_tokens(state, user)


def login(state: TenantState, request: Request) -> Response:
    """The legacy login: the token in the body and in ``x-okapi-token``; it never expires."""
    user = _authenticate(state, request)
    token = state.tokens.issue("access", user["id"], user.get("username", user["id"]), math.inf)
    response = answer(201, {"okapiToken": token})
    response.headers["x-okapi-token"] = token
    return response


def logout(state: TenantState, request: Request) -> Response:
    """End this device's session: its refresh token is spent and both cookies are cleared.

    As mod-login documents, the access token stays valid until it expires (it is stateless).
    """
    token = request.cookies.get("folioRefreshToken")
    if not token:
        refuse(rmb_errors(400, "Bad request: no folioRefreshToken cookie"))
    if state.tokens.use_refresh(token) is None:
        refuse(rmb_errors(422, "Invalid or expired refresh token", "token.invalidate.unprocessable"))
    return _cleared(Response(status=204))


def logout_all(state: TenantState, request: Request) -> Response:
    """End every session of the logged-in user: all their refresh tokens are spent."""
    state.tokens.end_refresh_of(request.environ["folio.user_id"])
    return _cleared(Response(status=204))


def _authenticate(state: TenantState, request: Request) -> dict[str, Any]:
    """The user the posted credentials belong to, or the refusal mod-login would send."""
    body = json_object(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username:
        refuse(text(400, "You must provide a username or userId"))
    if not isinstance(password, str):
        refuse(text(400, "You must provide a password"))
    with state.lock.reading():
        user = state.user_named(username)
        user = dict(user) if user is not None else None
    if user is None:
        refuse(rmb_errors(422, f"Error verifying user existence: No user found by username {username}",
                          "username.incorrect", username=username))
    if not user["active"]:
        refuse(rmb_errors(422, "User must be flagged as active", "user.blocked", username=username))
    if user["username"] != state.credentials.username:
        refuse(text(400, "No credentials match that login"))
    if password != state.credentials.password:
        refuse(rmb_errors(422, "Password does not match", "password.incorrect", username=username))
    return user


def _with_new_tokens(state: TenantState, user: dict[str, Any]) -> Response:
    """201 with the expiry body and both cookies, as login-with-expiry and refresh answer."""
    lifetime = state.knobs.token_lifetime
    username = user.get("username", user["id"])
    access = state.tokens.issue("access", user["id"], username, lifetime)
    refresh_token = state.tokens.issue("refresh", user["id"], username, REFRESH_TOKEN_LIFETIME)
    response = answer(201, {
        "accessTokenExpiration": _zulu(state.tokens.expiry("access", access)),
        "refreshTokenExpiration": _zulu(state.tokens.expiry("refresh", refresh_token)),
    })
    response.set_cookie("folioAccessToken", access, max_age=math.ceil(lifetime), path="/", httponly=True,
                        samesite="Lax")
    response.set_cookie("folioRefreshToken", refresh_token, max_age=int(REFRESH_TOKEN_LIFETIME), path="/authn",
                        httponly=True, samesite="Lax")
    return response


def _cleared(response: Response) -> Response:
    response.delete_cookie("folioAccessToken", path="/", httponly=True, samesite="Lax")
    response.delete_cookie("folioRefreshToken", path="/authn", httponly=True, samesite="Lax")
    return response


def _zulu(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
