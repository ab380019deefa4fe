"""Synchronisation lists (updated and deleted patrons since a date) and the duplicate check."""

from __future__ import annotations

from datetime import date

from werkzeug.wrappers import Request, Response

from .routes import route, staff
from .state import Store
from .wire import invalid, json_body, json_response, library_or_404, parse_date, problem

SEARCH_TYPES = ("EMAIL", "EID")


@route("/patronmanagement/patron/library/<library_id>/updatedpatron", "GET", staff("ACTOREN_READ"))
def updated_patrons(store: Store, request: Request, library_id: str) -> Response:
    """Patrons of the library changed on or after ``date``."""
    library_or_404(request, library_id)
    since = _since(request)
    ids = [p["patronSystemId"] for p in store.patrons if p["updated"] >= since
           and (p["homeLibrary"] == library_id or any(m["libraryId"] == library_id for m in p["memberships"]))]
    return json_response({"patronSystemIDs": ids})


@route("/patronmanagement/patron/library/<library_id>/deletedpatron", "GET", staff("ACTOREN_READ"))
def deleted_patrons(store: Store, request: Request, library_id: str) -> Response:
    """Patrons of the library deleted on or after ``date``."""
    library_or_404(request, library_id)
    since = _since(request)
    ids = [d["patronSystemId"] for d in store.deleted if d["libraryId"] == library_id and d["deleted"] >= since]
    return json_response({"patronSystemIDs": ids})


@route("/patronmanagement/duplicate", "POST", staff("ACTOREN_READ"))
def duplicate(store: Store, request: Request) -> Response:
    """Patrons with this email address or EID, each with its active subscriptions."""
    body = json_body(request) if request.get_data() else {}
    value = body.get("searchValue", request.args.get("searchValue"))
    kind = body.get("searchType", request.args.get("searchType"))
    problems = []
    if not isinstance(value, str) or not value.strip():
        problems.append(problem("searchValue", "REQUIRED", "searchValue is required"))
    if kind not in SEARCH_TYPES:
        problems.append(problem("searchType", "INVALID_VALUE", "searchType must be EMAIL or EID"))
    if problems:
        invalid({"searchValue": value, "searchType": kind}, problems)
    wanted = value.strip().lower()
    found = [p for p in store.patrons if
             (p["emailAddress"].strip().lower() if kind == "EMAIL" else p["eid"].lower()) == wanted]
    answer = []
    for patron in found:
        active = [store.active_membership(patron, lib) for lib in dict.fromkeys(m["libraryId"]
                                                                               for m in patron["memberships"])]
        answer.append({"patronSystemId": patron["patronSystemId"], "subscriptionData": [
            {"libraryId": m["libraryId"], "subscriptionEndDate": m["end"], "status": m["status"]}
            for m in active if m]})
    return json_response(answer)


def _since(request: Request) -> date:
    text = request.args.get("date")
    since = parse_date(text)
    if since is None:
        code = "REQUIRED" if not text else "INVALID_FORMAT"
        invalid({}, [problem("date", code, "date is required as yyyy-mm-dd")])
    return since
