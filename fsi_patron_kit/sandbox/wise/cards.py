"""Library cards and patron records: card validation, card lookup (paged), patron information."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from .routes import KEY, PATRON, route, staff
from .state import Store
from .wire import invalid, json_response, library_or_404, patron_dto, patron_or_404, problem, refuse

MAX_LIMIT = 100


@route("/patron/cardnumber/<card_number>/library/<library_id>", "GET", KEY)
def validate_card(store: Store, request: Request, card_number: str, library_id: str) -> Response:
    """Whether the card's holder has an active subscription in the library; never the patronSystemId."""
    library_or_404(request, library_id)
    patron = store.patron_by_card(card_number)
    if patron is None:
        refuse(request, 404, f"Card number {card_number} not found")
    membership = store.active_membership(patron, library_id)
    return json_response({"id": "", "validationErrors": [], "cardNumber": card_number, "libraryId": library_id,
                          "valid": membership is not None,
                          "membershipExpiryDate": membership["end"] if membership else ""})


@route("/library/<library_id>/patron", "GET", staff("ACTOREN_READ"))
def lookup_cards(store: Store, request: Request, library_id: str) -> Response:
    """``{"items": [...]}``: the library's patrons whose card number contains ``search``, a page at a time."""
    library_or_404(request, library_id)
    offset, limit = _whole(request, "offset", 0, 0, None), _whole(request, "limit", 10, 1, MAX_LIMIT)
    search = (request.args.get("search") or "").strip().upper()
    found = []
    for patron in store.patrons:
        cards = [c["cardNumber"] for c in patron["libraryCards"] if search in c["cardNumber"].upper()]
        if cards and (patron["homeLibrary"] == library_id or any(m["libraryId"] == library_id
                                                                 for m in patron["memberships"])):
            membership = store.active_membership(patron, library_id)
            found.append({"patronSystemId": patron["patronSystemId"], "patronId": patron["patronId"],
                          "cardNumber": cards[0], "libraryId": library_id,
                          "membershipExpiryDate": membership["end"] if membership else ""})
    return json_response({"items": found[offset:offset + limit]})


@route("/patron/<patron_system_id>/library/<library_id>/patroninformation", "GET", PATRON)
def patron_information(store: Store, request: Request, patron_system_id: str, library_id: str) -> Response:
    patron = patron_or_404(store, request, patron_system_id, library_id)
    return json_response(patron_dto(patron, library_id, store.clock.today()))


def _whole(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        upper = f" to {high}" if high is not None else " or more"
        invalid({}, [problem(name, "INVALID_VALUE", f"{name} must be a whole number from {low}{upper}")])
    return int(text)
