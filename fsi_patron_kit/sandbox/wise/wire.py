"""How the Wise emulator writes its answers: DTOs, Spring's error body, validation errors.

Every Wise DTO carries ``"id": ""`` and ``"validationErrors": []``. The shape of a non-empty
``validationErrors`` item is not public; this emulator (and the kit's client) use
``{"field": <DTO property>, "code": <rule>, "message": <text>}`` and answer HTTP 400 with the
request's DTO echoed and its problems listed. Other failures come as Spring Boot's default error
body ``{"timestamp", "status", "error", "message", "path"}``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

from .data import BRANCH_SURCHARGE, LIBRARIES, ZIP_ADJUSTMENT
from .state import Store, subscription

BLOCK_FLAGS = ("addressBlock", "generalBlock", "onlineBlock", "customerAtTerminalBlock", "webPortalSelfServiceBlock",
               "collectionAgencyBlock", "patronCardBlock")


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=_plain), status=status, mimetype="application/json")


def _plain(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def error(request: Request, status: int, message: str) -> Response:
    """Spring Boot's error body."""
    body = {"timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "status": status,
            "error": HTTPStatus(status).phrase, "message": message, "path": request.path}
    return json_response(body, status)


def refuse(request: Request, status: int, message: str) -> None:
    abort(error(request, status, message))


def library_or_404(request: Request, library_id: str) -> dict[str, Any]:
    library = LIBRARIES.get(library_id)
    if library is None:
        refuse(request, 404, f"Library {library_id} not found")
    return library


def patron_or_404(store: Store, request: Request, patron_system_id: str, library_id: str) -> dict[str, Any]:
    """The patron, known in the library (a member, once or now, or its home), else 404."""
    library_or_404(request, library_id)
    patron = store.patron_of_library(patron_system_id, library_id)
    if patron is None:
        refuse(request, 404, f"Patron {patron_system_id} not found in library {library_id}")
    return patron


def problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def invalid(echo: dict[str, Any], problems: list[dict[str, str]]) -> None:
    """Answer 400 with the DTO echoed and every problem found."""
    abort(json_response({"id": "", **{k: v for k, v in echo.items() if k != "validationErrors"},
                         "validationErrors": problems}, 400))


def json_body(request: Request) -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        refuse(request, 400, "Required request body is missing or is not a JSON object")
    return body


def parse_date(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def fee(library_id: str, branch_id: str, zip_code: str, definition: dict[str, Any]) -> int:
    """The subscription's fee in cents for this branch and zip code (a free one stays free)."""
    cents = definition["cents"]
    if not cents:
        return 0
    cents += BRANCH_SURCHARGE.get(branch_id, 0)
    digits = zip_code.replace(" ", "")[:4]
    cents += ZIP_ADJUSTMENT.get(library_id, {}).get(digits, 0)
    return max(cents, 0)


def cost_text(cents: int, months: int) -> str:
    return f"€ {cents / 100:.2f} /{months} mnd"


def offer(library_id: str, branch_id: str, zip_code: str, definition: dict[str, Any]) -> dict[str, Any]:
    cents = fee(library_id, branch_id, zip_code, definition)
    return {"subscriptionId": definition["id"], "subscriptionDescription": definition["description"],
            "cost": cost_text(cents, definition["months"]), "renewalType": "0", "subscriptionCost": cents,
            "subscriptionType": definition["type"], "subscriptionLength": definition["months"],
            "internetFee": definition.get("internet_fee", 0), "additionalInformation": definition.get("info", ""),
            "requiresCAPTCHA": definition.get("captcha", False)}


def address_dto(address: dict[str, Any]) -> dict[str, Any]:
    return {"id": "", "links": [{"rel": "self", "href": "/restapi/country/nl/address"}], "validationErrors": [],
            **{k: address.get(k, "") for k in ("street", "houseNumber", "addition", "zipCode", "city", "region",
                                                "country", "type", "typeLabel")}}


def display_name(patron: dict[str, Any]) -> str:
    last = " ".join(p for p in (patron.get("prefix"), patron["lastName"]) if p)
    return f"{last}, {patron.get('initials') or ''}".rstrip(", ")


def patron_dto(patron: dict[str, Any], library_id: str, today: date, *, extra: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    """A patron as the patron-information and subscribe endpoints show it, for one library."""
    memberships = [m for m in patron["memberships"] if m["libraryId"] == library_id]
    latest = max(memberships, key=lambda m: m["end"], default=None)
    definition = subscription(library_id, latest["subscriptionId"]) if latest else None
    branch = LIBRARIES.get(patron["homeLibrary"], {}).get("branches", {}).get(patron["homeBranch"], ("",))
    dto = {
        "id": "", "validationErrors": [], "patronId": patron["patronId"], "patronSystemId": patron["patronSystemId"],
        "initials": patron.get("initials", ""), "firstName": patron.get("firstName", ""),
        "lastName": patron["lastName"], "prefix": patron.get("prefix", ""), "suffix": "",
        "dateOfBirth": patron["dateOfBirth"], "addresses": [address_dto(a) for a in patron["addresses"]],
        "phoneNumber": patron.get("phoneNumber", ""), "emailAddress": patron.get("emailAddress", ""),
        "membershipExpirationDate": latest["end"] if latest else "", "homeBranch": patron["homeBranch"],
        "language": patron.get("language", "nl_NL"), "updatedPassword": False, "username": patron["username"],
        "gender": patron.get("gender", ""),
        "libraryCards": [{"id": "", "validationErrors": [], **card} for card in patron["libraryCards"]],
        "showResetPinEditLink": False, "selfPayAllowed": False, "smsNumber": patron.get("smsNumber", ""),
        "subscriptionId": latest["subscriptionId"] if latest else 0,
        "subscriptionStatus": _status(latest, today), "preferredName": "", "paymentId": "",
        "displayName": display_name(patron), "title": "",
        "membershipDescription": definition["description"] if definition else "", "middleName": "",
        "customerTag": ",".join(r for r in patron["roles"] if r != "PATRON"),
        "registrationDate": f"{patron['registrationDate'].isoformat()}T00:00:00",
        "homeBranchName": branch[0], "showLoanHistory": "B",
    }
    dto.update(extra or {})
    return dto


def _status(membership: dict[str, Any] | None, today: date) -> str:
    if membership is None:
        return ""
    if membership["status"] == "BASKET":
        return "BASKET"
    return "ACTIVE" if membership["end"] >= today else "EXPIRED"


def blocks_dto(patron: dict[str, Any], library_id: str) -> dict[str, Any]:
    current = patron["blocks"].get(library_id, {})
    return {"id": "", "validationErrors": [], **{flag: bool(current.get(flag, False)) for flag in BLOCK_FLAGS},
            "blockMessage": current.get("blockMessage", ""), "blockDetails": current.get("blockDetails", "")}
