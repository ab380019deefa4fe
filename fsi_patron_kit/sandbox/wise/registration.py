"""Registration: required fields, offered subscriptions, subscribe (new and again), payment.

The subscribe endpoints check the library's required-fields answer (required, type and format)
and the document's own rules, and list every problem at once (HTTP 400). A home branch outside
the library answers 500, as the document says, and so does a library whose subscription table
has no definition for customer type N.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from werkzeug.wrappers import Request, Response

from .data import LIBRARIES, SUBSCRIPTIONS, age_on, end_of_month, field_definitions
from .routes import KEY, PATRON, PAYMENT, route
from .state import Store, subscription
from .wire import (
    invalid,
    json_body,
    json_response,
    library_or_404,
    offer,
    parse_date,
    patron_dto,
    problem,
    refuse,
)

GENDERS = ("FEMALE", "MALE")
ADDRESS_TYPES = ("H",)
PAYMENT_STATUSES = ("SUCCESS", "CANCELLED", "FAILED")
#: Where each field of the required-fields answer lives in the subscribe body.
FIELD_PATHS = {"PVL": "initials", "PVN": "firstName", "PAN": "lastName", "PGD": "dateOfBirth", "PGS": "gender",
               "PST": "addresses[0].street", "PHN": "addresses[0].houseNumber", "PTV": "addresses[0].addition",
               "PPC": "addresses[0].zipCode", "PWP": "addresses[0].city", "PTL": "phoneNumber",
               "PVS": "homeBranch", "PML": "emailAddress", "PGN": "username", "PWW": "password",
               "PID": "identificationNumber.identificationNumber"}
FORMATS = {"email": re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"), "9999 AA": re.compile(r"^\d{4} ?[A-Z]{2}$")}


@route("/subscription/<subscription_type>/instance/<library_id>/field", "GET", KEY)
def fields(store: Store, request: Request, subscription_type: str, library_id: str) -> Response:
    library_or_404(request, library_id)
    if subscription_type != "R":
        invalid({}, [problem("subscriptionType", "INVALID_VALUE", "subscriptionType must be R (registration)")])
    return json_response(field_definitions(library_id))


@route("/library/<library_id>/subscription", "GET", KEY)
def offers(store: Store, request: Request, library_id: str) -> Response:
    """Subscriptions offered through web registration to this person, priced for branch and zip code."""
    library = library_or_404(request, library_id)
    args = request.args
    born = parse_date(args.get("dateOfBirth"))
    problems = []
    if args.get("branchId") not in library["branches"]:
        problems.append(problem("branchId", "INVALID_VALUE", f"branchId must be a branch of library {library_id}"))
    if born is None:
        problems.append(problem("dateOfBirth", "INVALID_FORMAT", "dateOfBirth is required as yyyy-mm-dd"))
    if args.get("gender") not in GENDERS:
        problems.append(problem("gender", "INVALID_VALUE", "gender must be FEMALE or MALE"))
    if args.get("patronSystemId") and store.patron(args["patronSystemId"]) is None:
        problems.append(problem("patronSystemId", "INVALID_VALUE", "patronSystemId is not a known patron"))
    if problems:
        invalid(dict(args), problems)
    age = age_on(born, store.clock.today())
    return json_response([offer(library_id, args["branchId"], args.get("zipCode", ""), s)
                          for s in SUBSCRIPTIONS[library_id] if s.get("web", True) and s["ages"][0] <= age <= s["ages"][1]])


@route("/library/<library_id>/patron", "POST", KEY)
def subscribe_new(store: Store, request: Request, library_id: str) -> Response:
    library_or_404(request, library_id)
    body = json_body(request)
    subscription_id = body.get("futureSubscriptionId") or body.get("subscriptionId")
    _check(store, request, body, library_id, subscription_id, "futureSubscriptionId", own=None)
    patron = {"patronId": store.new_patron_id(), "patronSystemId": secrets.token_hex(16), "memberships": [],
              "blocks": {}, "roles": ["PATRON"], "registrationDate": store.clock.today(),
              "libraryCards": [{"cardNumber": _new_card(store), "type": "H", "mainCard": True}],
              "homeLibrary": library_id}
    _apply_details(patron, body)
    store.patrons.append(patron)
    return _subscribed(store, patron, library_id, subscription_id)


@route("/library/<library_id>/patron/<patron_system_id>", "PUT", PATRON)
def resubscribe(store: Store, request: Request, library_id: str, patron_system_id: str) -> Response:
    """Only with no active subscription in the library, or one that ends this month."""
    library_or_404(request, library_id)
    patron = store.patron(patron_system_id)
    if patron is None:
        refuse(request, 404, f"Patron {patron_system_id} not found")
    body = json_body(request)
    subscription_id = body.get("subscriptionId") or body.get("futureSubscriptionId")
    extra = []
    if body.get("patronSystemId") != patron_system_id:
        extra.append(problem("patronSystemId", "REQUIRED" if not body.get("patronSystemId") else "INVALID_VALUE",
                             "patronSystemId is required and must be the patron's of the path"))
    current = store.active_membership(patron, library_id)
    today = store.clock.today()
    if current is not None and current["end"] > end_of_month(today):
        extra.append(problem("subscriptionId", "NOT_ALLOWED",
                             f"Patron has an active subscription in library {library_id} until "
                             f"{current['end'].isoformat()}; re-subscription is possible in its last month"))
    _check(store, request, body, library_id, subscription_id, "subscriptionId", own=patron, extra=extra)
    _apply_details(patron, body)
    patron["homeLibrary"] = library_id
    return _subscribed(store, patron, library_id, subscription_id)


@route("/payment/<payment_id>/status/<payment_status>", "POST", PAYMENT)
def pay(store: Store, request: Request, payment_id: str, payment_status: str) -> Response:
    """Completes (or abandons) a subscription waiting in the basket; 200 with no body."""
    if request.remote_addr not in store.safe_list:
        refuse(request, 403, f"IP address {request.remote_addr} is not on the safe list")
    if payment_status not in PAYMENT_STATUSES:
        invalid({}, [problem("paymentStatus", "INVALID_VALUE",
                             f"paymentStatus must be one of {', '.join(PAYMENT_STATUSES)}")])
    payment = store.payments.get(payment_id)
    if payment is None:
        refuse(request, 404, f"Payment {payment_id} not found")
    if payment["status"] != "OPEN":
        refuse(request, 409, f"Payment {payment_id} is already {payment['status']}")
    payment["status"] = payment_status
    patron = store.patron(payment["patronSystemId"])
    membership = payment["membership"]
    membership["status"] = "5" if payment_status == "SUCCESS" else payment_status
    store.touch(patron)
    store.counters.write(patron["patronSystemId"])
    return Response(status=200)


# -- checks and effects -------------------------------------------------------------------------
def _check(store: Store, request: Request, body: dict[str, Any], library_id: str, subscription_id: Any,
           subscription_field: str, *, own: dict[str, Any] | None, extra: list[dict[str, str]] | None = None) -> None:
    problems = list(extra or [])
    for definition in field_definitions(library_id):
        path = FIELD_PATHS.get(definition["id"])
        value = _at(body, path) if path else None
        blank = value is None or (isinstance(value, str) and not value.strip())
        if definition["required"] and blank:
            problems.append(problem(path, "REQUIRED", f"{definition['label']} is required"))
        elif not blank and not _fits(value, definition):
            problems.append(problem(path, "INVALID_FORMAT", f"{definition['label']} has the wrong format"))
    if body.get("gender") and body["gender"] not in GENDERS:
        problems.append(problem("gender", "INVALID_VALUE", "gender must be FEMALE or MALE"))
    born = parse_date(body.get("dateOfBirth"))
    if born is not None and born > store.clock.today():
        problems.append(problem("dateOfBirth", "INVALID_VALUE", "dateOfBirth lies in the future"))
    for n, address in enumerate(body.get("addresses") or []):
        if isinstance(address, dict) and address.get("type", "H") not in ADDRESS_TYPES:
            problems.append(problem(f"addresses[{n}].type", "INVALID_VALUE", "address type must be H"))
    identification = body.get("identificationNumber") or {}
    if isinstance(identification, dict) and identification.get("identificationNumber") and \
            identification.get("identificationType") != "EID":
        problems.append(problem("identificationNumber.identificationType", "INVALID_VALUE",
                                "identificationType must be EID"))
    if str(body.get("acceptedTermsAndAgreement", "")).lower() != "true":
        problems.append(problem("acceptedTermsAndAgreement", "REQUIRED", "the terms must be accepted"))
    if not subscription_id:
        problems.append(problem(subscription_field, "REQUIRED", "a subscription is required"))
    username = body.get("username")
    if isinstance(username, str) and username.strip():
        holder = store.patron_by_login(username)
        if holder is not None and holder is not own:
            problems.append(problem("username", "NOT_UNIQUE", "username is already in use"))
    if problems:
        invalid(body, problems)
    if body["homeBranch"] not in LIBRARIES[library_id]["branches"]:
        refuse(request, 500, f"Branch {body['homeBranch']} does not belong to library {library_id}")
    if not LIBRARIES[library_id]["customer_type_n"]:
        refuse(request, 500, f"No subscription definition for customer type N in library {library_id}; "
                             "the subscription cannot be completed")
    definition = subscription(library_id, subscription_id)
    age = age_on(born, store.clock.today()) if born else -1
    if definition is None or not definition.get("web", True) or not definition["ages"][0] <= age <= definition["ages"][1]:
        invalid(body, [problem(subscription_field, "NOT_OFFERED",
                               f"subscription {subscription_id} is not offered to this patron")])


def _at(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _fits(value: Any, definition: dict[str, Any]) -> bool:
    if not isinstance(value, str):
        return False
    if definition["type"] == "D":
        return parse_date(value) is not None
    if definition["type"] == "N" and not value.isdigit():
        return False
    rule = FORMATS.get(definition["format"])
    return rule is None or bool(rule.match(value))


def _apply_details(patron: dict[str, Any], body: dict[str, Any]) -> None:
    address = dict(body["addresses"][0])
    address.setdefault("type", "H")
    address.setdefault("typeLabel", "Hoofdadres")
    address.pop("method", None)
    identification = body.get("identificationNumber") or {}
    patron.update({
        "initials": body.get("initials", ""), "firstName": body.get("firstName", ""), "prefix": body.get("prefix", ""),
        "lastName": body["lastName"], "dateOfBirth": date.fromisoformat(body["dateOfBirth"]),
        "gender": body["gender"], "addresses": [address], "phoneNumber": body.get("phoneNumber", ""),
        "smsNumber": body.get("smsNumber", ""), "emailAddress": body["emailAddress"], "username": body["username"],
        "password": body["password"], "eid": identification.get("identificationNumber", ""),
        "language": body.get("preferredLanguage") or "nl_NL", "homeBranch": body["homeBranch"],
    })


def _subscribed(store: Store, patron: dict[str, Any], library_id: str, subscription_id: Any) -> Response:
    """Invoiced and active with VWIZBET, else in the basket until paid."""
    definition = subscription(library_id, subscription_id)
    today = store.clock.today()
    invoiced = LIBRARIES[library_id]["vwizbet"]
    membership = {"libraryId": library_id, "subscriptionId": definition["id"],
                  "end": end_of_month(today, definition["months"]), "status": "5" if invoiced else "BASKET"}
    patron["memberships"].append(membership)
    payment_id = secrets.token_hex(16)
    store.payments[payment_id] = {"patronSystemId": patron["patronSystemId"], "membership": membership,
                                  "status": "INVOICED" if invoiced else "OPEN"}
    store.touch(patron)
    store.counters.write(patron["patronSystemId"])
    return json_response(patron_dto(patron, library_id, today, extra={
        "subscriptionId": definition["id"], "subscriptionStatus": "INVOICE" if invoiced else "BASKET",
        "paymentId": payment_id, "membershipExpirationDate": membership["end"],
        "membershipDescription": definition["description"]}))


def _new_card(store: Store) -> str:
    taken = {c["cardNumber"] for p in store.patrons for c in p["libraryCards"]}
    number = len(taken)
    while f"2X{number:012d}" in taken:
        number += 1
    return f"2X{number:012d}"
