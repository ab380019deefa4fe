"""edge-patron: the LC external patrons, in document 003's form and today's, and the mod-patron proxies.

Document 003's form names a caller in the path (``/patron/account/{externalSystemID}/...``);
today's edge-patron serves the same calls without it (``POST /patron/account``,
``/patron/account/by-email/{emailId}``, ``/patron/account/external-patrons``) and proxies
mod-patron's account, renew, holds, cancel and registration status, with the patron named by
the ``externalSystemId`` of their FOLIO user record. A proxied call answers what mod-patron
answers.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from ..._time import parse_instant
from . import patron
from .data import EDGE_USERNAME, EMAIL_CONTACT_TYPE, HOME_ADDRESS_TYPE, end_of, iso
from .state import REMOTE_GROUP_ID, Record, TenantState
from .wire import answer, edge_error, flag, is_uuid, refuse, text, valid_patron

EDGE_SALT = "tZ8q2LmX4v"


def edge_apikey(salt: str, tenant: str, username: str) -> str:
    """An edge apikey as FOLIO makes them: URL-safe base64 of compact JSON, padding kept."""
    payload = json.dumps({"s": salt, "t": tenant, "u": username}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def admit(state: TenantState, request: Request, endpoint: str, args: dict[str, str]) -> None:
    """The apikey must be this sandbox's; a caller named in the path must exist."""
    if _decode_apikey(_apikey(request)) != {"s": EDGE_SALT, "t": state.name, "u": EDGE_USERNAME}:
        refuse(text(401, "Invalid API Key"))
    if "caller" in args:
        with state.lock.reading():
            known = state.caller(args.pop("caller")) is not None
        if not known:
            refuse(edge_error(404, "USER_NOT_FOUND"))


# -- LC external patrons ---------------------------------------------------------------------------
def create_external_patron(state: TenantState, request: Request) -> Response:
    body = valid_patron(request)
    with state.lock.writing():
        found = state.users_with_email(body["contactInfo"]["email"])
        if len(found) > 1:
            refuse(edge_error(422, "MULTIPLE_USER_WITH_EMAIL"))
        if found:
            user = found[0]
            if not user["active"]:
                refuse(edge_error(422, "USER_ACCOUNT_INACTIVE"))
            if user["patronGroup"] != REMOTE_GROUP_ID:
                refuse(edge_error(422, "INVALID_PATRON_GROUP"))
            refuse(edge_error(422, "USER_ALREADY_EXIST"))
        _check_external_id_free(state, body, owner=None)
        now, edge_user = state.now(), state.user_named(EDGE_USERNAME)["id"]
        user = {
            "id": str(uuid.uuid4()),
            "externalSystemId": body["generalInfo"]["externalSystemId"],
            "active": True,
            "type": "patron",
            "patronGroup": REMOTE_GROUP_ID,
            "departments": [],
            "personal": _personal_from(body, previous={}),
            "enrollmentDate": iso(now),
            "expirationDate": iso(end_of(now.date() + timedelta(days=365))),
            "createdDate": iso(now),
            "updatedDate": iso(now),
            "metadata": {"createdDate": iso(now), "createdByUserId": edge_user,
                         "updatedDate": iso(now), "updatedByUserId": edge_user},
        }
        if "preferredEmailCommunication" in body:
            user["preferredEmailCommunication"] = list(body["preferredEmailCommunication"])
        state.add_user(user)
        state.counters.write(user["id"])
        return answer(201, _as_external_patron(user))


def external_patron(state: TenantState, request: Request, email: str) -> Response:
    with state.lock.reading():
        return answer(200, _as_external_patron(_only_user_with_email(state, email)))


def update_external_patron(state: TenantState, request: Request, email: str) -> Response:
    body = valid_patron(request)
    with state.lock.writing():
        user = _only_user_with_email(state, email)
        if any(other is not user for other in state.users_with_email(body["contactInfo"]["email"])):
            refuse(edge_error(422, "EMAIL_ALREADY_EXIST"))
        if user["patronGroup"] != REMOTE_GROUP_ID:
            refuse(edge_error(422, "PATRON_GROUP_NOT_APPLICABLE"))
        _check_external_id_free(state, body, owner=user)
        now, edge_user = iso(state.now()), state.user_named(EDGE_USERNAME)["id"]

        def change(record: Record) -> None:
            record["externalSystemId"] = body["generalInfo"]["externalSystemId"]
            record["personal"] = _personal_from(body, previous=record["personal"])
            if "preferredEmailCommunication" in body:
                record["preferredEmailCommunication"] = list(body["preferredEmailCommunication"])
            record["updatedDate"] = now
            record["metadata"].update(updatedDate=now, updatedByUserId=edge_user)

        state.change_user(user, change)
        state.counters.write(user["id"])
    return Response(status=204)


def external_patrons(state: TenantState, request: Request) -> Response:
    expired = flag(request.args, "expired")
    with state.lock.reading():
        remote = list(state.remote.values())
        if expired:
            yesterday = state.today - timedelta(days=1)
            remote = [u for u in remote if "expirationDate" in u
                      and parse_instant(u["expirationDate"]).date() == yesterday]
        patrons = [_as_external_patron(u) for u in remote]
    return answer(200, {"externalPatrons": patrons, "totalRecords": len(patrons)})


def _only_user_with_email(state: TenantState, email: str) -> Record:
    found = state.users_with_email(email)
    if not found:
        refuse(edge_error(404, "USER_NOT_FOUND"))
    if len(found) > 1:
        refuse(edge_error(422, "MULTIPLE_USER_WITH_EMAIL"))
    return found[0]


def _check_external_id_free(state: TenantState, body: dict[str, Any], *, owner: Record | None) -> None:
    if any(u is not owner for u in state.users_with_external_id(body["generalInfo"]["externalSystemId"])):
        refuse(edge_error(422, "User with this externalSystemId already exists"))


# -- today's proxies of mod-patron -----------------------------------------------------------------
def proxy(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A mod-patron call through edge: the path's ``patron`` (an ``externalSystemId``) becomes the user id."""

    def proxied(state: TenantState, request: Request, patron_id: str, **args: str) -> Response:
        with state.lock.reading():
            found = state.users_with_external_id(patron_id)
            user_id = found[0]["id"] if found else None
        if user_id is None:
            refuse(text(404, f"Unable to find patron {patron_id}"))
        request.environ["folio.user_id"] = user_id
        return handler(state, request, user_id, **args)

    return proxied


def registration_status(state: TenantState, request: Request) -> Response:
    """Today's form: ``?emailId=`` or ``?externalSystemId=`` (exactly one), errors in edge's user-error shape."""
    email, external_id = request.args.get("emailId"), request.args.get("externalSystemId")
    if (email is None) == (external_id is None):
        message = ("Provide either emailId or externalSystemId, not both." if email is not None
                   else "Either emailId or externalSystemId must be provided in the request.")
        refuse(answer(400, {"code": "INVALID_IDENTIFIERS", "errorMessage": message}))
    if external_id is not None and not is_uuid(external_id):
        refuse(answer(400, {"code": "INVALID_IDENTIFIERS", "errorMessage": "externalSystemId must be a UUID"}))
    with state.lock.reading():
        found = state.users_with_email(email) if email is not None else state.users_with_external_id(external_id)
        if not found:
            refuse(answer(404, {"code": "USER_NOT_FOUND", "errorMessage": "User does not exist"}))
        if len(found) > 1:
            refuse(answer(400, {"code": "MULTIPLE_USER_WITH_EMAIL",
                                "errorMessage": "Multiple users found with the same email"}))
        return answer(200, found[0])


ACCOUNT = proxy(patron.account)
RENEW = proxy(patron.renew)
HOLD_ITEM = proxy(patron.hold_item)
HOLD_INSTANCE = proxy(patron.hold_instance)
ITEM_SERVICE_POINTS = proxy(patron.item_service_points)
INSTANCE_SERVICE_POINTS = proxy(patron.instance_service_points)
CANCEL_HOLD = proxy(patron.cancel_hold)


# -- external_patron <-> user ----------------------------------------------------------------------
def _apikey(request: Request) -> str:
    key = request.args.get("apikey") or request.headers.get("Authorization", "")
    return key[len("apikey "):] if key.lower().startswith("apikey ") else key


def _decode_apikey(key: str) -> Any:
    """What an edge apikey holds (``{"s", "t", "u"}`` if it is one), or None if it is not JSON."""
    try:
        return json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except ValueError:
        return None


def _as_external_patron(user: Record) -> dict[str, Any]:
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
    found: dict[str, Any] = {"generalInfo": general, "addressInfo": address, "contactInfo": contact}
    if "preferredEmailCommunication" in user:
        found["preferredEmailCommunication"] = list(user["preferredEmailCommunication"])
    return found


def _personal_from(body: dict[str, Any], *, previous: dict[str, Any]) -> dict[str, Any]:
    """A user's ``personal`` from an ``external_patron``; other address types and details are kept."""
    general, address, contact = body["generalInfo"], body["addressInfo"], body["contactInfo"]
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
