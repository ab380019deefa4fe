"""External customers (CRM): stored with role XTRN, or XTRN added to a matching patron."""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Request, Response

from .registration import FORMATS
from .routes import route, staff
from .state import Store
from .wire import (
    invalid,
    json_body,
    json_response,
    library_or_404,
    parse_date,
    patron_dto,
    problem,
    refuse,
)


@route("/patron/external/library/<library_id>", "POST", staff("ACTOREN_EDIT"))
def store_external_customer(store: Store, request: Request, library_id: str) -> Response:
    """201 with a new XTRN customer, or 200 with the matching patron (same email and last name)."""
    library_or_404(request, library_id)
    body = json_body(request)
    problems = [problem(name, "REQUIRED", f"{name} is required") for name in ("lastName", "emailAddress")
                if not isinstance(body.get(name), str) or not body[name].strip()]
    email = body.get("emailAddress")
    if isinstance(email, str) and email.strip() and not FORMATS["email"].match(email):
        problems.append(problem("emailAddress", "INVALID_FORMAT", "emailAddress has the wrong format"))
    if body.get("dateOfBirth") and parse_date(body["dateOfBirth"]) is None:
        problems.append(problem("dateOfBirth", "INVALID_FORMAT", "dateOfBirth must be yyyy-mm-dd"))
    if body.get("gender") and body["gender"] not in ("FEMALE", "MALE"):
        problems.append(problem("gender", "INVALID_VALUE", "gender must be FEMALE or MALE"))
    if problems:
        invalid(body, problems)
    matches = [p for p in store.patrons if p["emailAddress"].strip().lower() == email.strip().lower()
               and p["lastName"].lower() == body["lastName"].strip().lower()]
    if len(matches) > 1:
        refuse(request, 409, "More than one patron matches this customer")
    today = store.clock.today()
    if matches:
        patron = matches[0]
        if "XTRN" not in patron["roles"]:
            patron["roles"].append("XTRN")
        status = 200
    else:
        addresses = [dict(a, type=a.get("type", "H")) for a in body.get("addresses") or [] if isinstance(a, dict)]
        patron = {"patronId": store.new_patron_id(), "patronSystemId": secrets.token_hex(16), "memberships": [],
                  "blocks": {}, "roles": ["XTRN"], "registrationDate": today, "libraryCards": [],
                  "homeLibrary": library_id, "homeBranch": "", "initials": body.get("initials", ""),
                  "firstName": body.get("firstName", ""), "prefix": body.get("prefix", ""),
                  "lastName": body["lastName"].strip(), "dateOfBirth": parse_date(body.get("dateOfBirth")) or "",
                  "gender": body.get("gender", ""), "addresses": addresses,
                  "phoneNumber": body.get("phoneNumber", ""), "smsNumber": "", "emailAddress": email.strip(),
                  "username": "", "password": secrets.token_hex(8), "eid": "", "language": "nl_NL"}
        store.patrons.append(patron)
        status = 201
    store.touch(patron)
    store.counters.write(patron["patronSystemId"])
    return json_response(patron_dto(patron, library_id, today), status)
