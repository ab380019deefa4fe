"""mod-patron v4.2: staging users, registration status, the account, renewals, holds, cancellation.

Each handler is a function over the tenant state; it reads under the read lock and writes under
the write lock, and only for as long as its own logic runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from ..._time import parse_instant
from ...folio import _schemas
from .data import CANCELLATION_REASONS, LOAN_DAYS, MAX_RENEWALS, SERVICE_POINTS, end_of, iso
from .state import Record, TenantState
from .wire import answer, arranger, check_uuid, flag, is_uuid, refuse, rmb_errors, text, valid_body

CURRENCY = "USD"


# -- staging users and registration status --------------------------------------------------------
def create_staging_user(state: TenantState, request: Request) -> Response:
    body = valid_body(request, _schemas.STAGING_USER)
    staging = {
        **body,
        "id": str(uuid.uuid4()),
        "externalSystemId": str(uuid.uuid4()),
        "status": body.get("status", "TIER-1"),
        "isEmailVerified": body.get("isEmailVerified", False),
        "metadata": _metadata(state, request),
    }
    with state.lock.writing():
        state.add_staging_user(staging)
        state.counters.write(staging["id"])
        return answer(201, staging)


def update_staging_user(state: TenantState, request: Request, external_system_id: str) -> Response:
    check_uuid("externalSystemId", external_system_id)
    body = valid_body(request, _schemas.STAGING_USER)
    with state.lock.writing():
        staging = state.staging.get(external_system_id)
        if staging is None:
            refuse(rmb_errors(404, "Staging user does not exist", "STAGING_USER_NOT_FOUND"))
        created = {key: value for key, value in staging["metadata"].items() if key.startswith("created")}
        staging.update({key: value for key, value in body.items() if key not in ("id", "externalSystemId")})
        staging["metadata"] = {**_metadata(state, request), **created}
        state.counters.write(staging["id"])
        return answer(200, staging)


def _metadata(state: TenantState, request: Request) -> dict[str, str]:
    """Record metadata stamped now by the user whose token made the request."""
    user_id = request.environ["folio.user_id"]
    now = iso(state.now())
    return {"createdDate": now, "createdByUserId": user_id, "updatedDate": now, "updatedByUserId": user_id}


def registration_status(state: TenantState, request: Request, identifier: str) -> Response:
    """A UUID is matched against ``externalSystemId``, anything else against the email."""
    with state.lock.reading():
        if is_uuid(identifier, any_version=True):
            found = state.users_with_external_id(identifier)
        else:
            found = state.users_with_email(identifier)
        if not found:
            refuse(rmb_errors(404, "User does not exist", "USER_NOT_FOUND"))
        if len(found) > 1:
            refuse(rmb_errors(400, "Multiple users found with the same email", "MULTIPLE_USER_WITH_EMAIL"))
        return answer(200, found[0])


# -- the account ---------------------------------------------------------------------------------
def account(state: TenantState, request: Request, user_id: str) -> Response:
    check_uuid("id", user_id)
    include = {name: flag(request.args, f"include{name.title()}") for name in ("loans", "charges", "holds")}
    arrange = arranger(request.args)
    with state.lock.reading():
        if state.user(user_id) is None:
            refuse(text(404, "account not found"))
        now = state.now()
        lists = {
            "loans": [loan_json(state, loan, now) for loan in state.loans_of.get(user_id, ()) if loan["status"] == "Open"],
            "holds": [hold_json(state, r) for r in state.requests_of.get(user_id, ()) if r["status"].startswith("Open")],
            "charges": [_charge_json(state, c) for c in state.charges_of.get(user_id, ()) if c["remaining"] > 0],
        }
    owed = sum(charge["chargeAmount"]["amount"] for charge in lists["charges"])
    return answer(200, {
        "id": user_id,
        "totalCharges": {"amount": round(owed, 2), "isoCurrencyCode": CURRENCY},
        "totalChargesCount": len(lists["charges"]),
        "totalLoans": len(lists["loans"]),
        "totalHolds": len(lists["holds"]),
        **{name: arrange(records) if include[name] else [] for name, records in lists.items()},
    })


def _item_json(state: TenantState, item_id: str) -> dict[str, str]:
    item = state.items[item_id]
    instance = state.instances[item["instanceId"]]
    return {"instanceId": instance["id"], "itemId": item_id, "title": instance["title"],
            "author": instance["author"], "isbn": instance["isbn"]}


def loan_json(state: TenantState, loan: Record, now: datetime) -> dict[str, Any]:
    return {"id": loan["id"], "item": _item_json(state, loan["itemId"]), "loanDate": loan["loanDate"],
            "dueDate": loan["dueDate"], "overdue": parse_instant(loan["dueDate"]) < now}


def hold_json(state: TenantState, record: Record) -> dict[str, Any]:
    hold = {"requestId": record["id"], "item": _item_json(state, record["itemId"]),
            "requestDate": record["requestDate"], "pickupLocationId": record["pickupServicePointId"],
            "status": record["status"]}
    if "position" in record:
        hold["queuePosition"] = record["position"]
    for field in ("expirationDate", "patronComments", "cancellationReasonId", "canceledByUserId",
                  "cancellationAdditionalInformation", "canceledDate"):
        if field in record:
            hold[field] = record[field]
    return hold


def _charge_json(state: TenantState, charge: Record) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "itemId" in charge:
        found["item"] = _item_json(state, charge["itemId"])
    found.update({
        "chargeAmount": {"amount": charge["remaining"], "isoCurrencyCode": CURRENCY},
        "accrualDate": charge["accrualDate"],
        "state": charge["state"],
        "reason": charge["reason"],
        "feeFineId": charge["feeFineId"],
    })
    return found


# -- renew, holds, service points, cancel -------------------------------------------------------
def renew(state: TenantState, request: Request, user_id: str, item_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("itemId", item_id)
    with state.lock.writing():
        loan = next((loan for loan in state.loans_of.get(user_id, ())
                     if loan["itemId"] == item_id and loan["status"] == "Open"), None)
        if loan is None:
            refuse(text(404, "item not found"))
        recall = next((r for r in state.open_requests(item_id) if r["requestType"] == "Recall"), None)
        if recall is not None:
            refuse(rmb_errors(422, "items cannot be renewed when there is an active recall request",
                              requestId=recall["id"]))
        if loan["renewalCount"] >= MAX_RENEWALS:
            refuse(rmb_errors(422, "loan at maximum renewal number", renewalLimit=str(MAX_RENEWALS)))
        loan["dueDate"] = iso(end_of(state.today + timedelta(days=LOAN_DAYS)))
        loan["renewalCount"] += 1
        state.counters.write(loan["id"])
        return answer(201, loan_json(state, loan, state.now()))


def hold_item(state: TenantState, request: Request, user_id: str, item_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("itemId", item_id)
    body = valid_body(request, _schemas.HOLD)
    with state.lock.writing():
        if item_id not in state.items:
            refuse(text(404, "item not found"))
        return _place_hold(state, user_id, state.items[item_id], body)


def hold_instance(state: TenantState, request: Request, user_id: str, instance_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("instanceId", instance_id)
    body = valid_body(request, _schemas.HOLD)
    with state.lock.writing():
        if instance_id not in state.instances:
            refuse(text(404, "item not found"))
        return _place_hold(state, user_id, _item_to_request(state, instance_id), body)


def _item_to_request(state: TenantState, instance_id: str) -> Record:
    """The instance's first available copy, else the copy with the shortest queue."""
    copies = state.copies[instance_id]
    available = [item for item in copies if item["status"] == "Available"]
    return available[0] if available else min(copies, key=lambda item: len(state.open_requests(item["id"])))


def _place_hold(state: TenantState, user_id: str, item: Record, body: dict[str, Any]) -> Response:
    """Check the request as circulation would, then queue it: a Page if the item is on the shelf."""
    user = state.user(user_id)
    if user is None:
        refuse(rmb_errors(422, "A valid user and patron group are required. User is null", requesterId=user_id))
    if not user["active"]:
        refuse(rmb_errors(422, "Inactive users cannot make requests", requesterId=user_id))
    _check_pickup(body["pickupLocationId"])
    if any(loan["itemId"] == item["id"] and loan["status"] == "Open" for loan in state.loans_of.get(user_id, ())):
        refuse(rmb_errors(422, "This requester currently has this item on loan.", itemId=item["id"], userId=user_id))
    queue = state.open_requests(item["id"])
    if any(r["requesterId"] == user_id for r in queue):
        refuse(rmb_errors(422, "This requester already has an open request for this item",
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
    state.add_request(record)
    state.counters.write(record["id"])
    return answer(201, hold_json(state, record))


def _check_pickup(service_point_id: str) -> None:
    point = next((p for p in SERVICE_POINTS if p["id"] == service_point_id), None)
    if point is None:
        refuse(rmb_errors(422, "Pickup service point does not exist", pickupServicePointId=service_point_id))
    if not point["pickupLocation"]:
        refuse(rmb_errors(422, "Service point is not a pickup location", pickupServicePointId=service_point_id))


def item_service_points(state: TenantState, request: Request, user_id: str, item_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("itemId", item_id)
    if item_id not in state.items:
        refuse(rmb_errors(422, f"Item with ID {item_id} was not found", itemId=item_id))
    return _allowed_service_points(state, user_id)


def instance_service_points(state: TenantState, request: Request, user_id: str, instance_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("instanceId", instance_id)
    if instance_id not in state.instances:
        refuse(rmb_errors(422, f"Instance with ID {instance_id} was not found", instanceId=instance_id))
    return _allowed_service_points(state, user_id)


def _allowed_service_points(state: TenantState, user_id: str) -> Response:
    with state.lock.reading():
        known = state.user(user_id) is not None
    if not known:
        refuse(rmb_errors(422, f"User with ID {user_id} was not found", patronId=user_id))
    points = [{key: p[key] for key in ("id", "name", "discoveryName")} for p in SERVICE_POINTS if p["pickupLocation"]]
    return answer(200, {"allowedServicePoints": points})


def cancel_hold(state: TenantState, request: Request, user_id: str, hold_id: str) -> Response:
    check_uuid("id", user_id)
    check_uuid("holdId", hold_id)
    body = valid_body(request, _schemas.CANCELLATION_FIELDS, only=_schemas.CANCELLATION_FIELDS)
    with state.lock.writing():
        record = next((r for r in state.requests_of.get(user_id, ()) if r["id"] == hold_id), None)
        if record is None:
            refuse(text(404, "hold not found"))
        if body["cancellationReasonId"] not in {reason["id"] for reason in CANCELLATION_REASONS}:
            refuse(rmb_errors(422, "Cancellation reason does not exist",
                              cancellationReasonId=body["cancellationReasonId"]))
        if not record["status"].startswith("Open"):
            refuse(rmb_errors(422, "Request has already been closed", requestId=hold_id))
        record.update(status="Closed - Cancelled", cancellationReasonId=body["cancellationReasonId"],
                      canceledByUserId=body["canceledByUserId"], canceledDate=body.get("canceledDate", iso(state.now())))
        if "cancellationAdditionalInformation" in body:
            record["cancellationAdditionalInformation"] = body["cancellationAdditionalInformation"]
        _leave_queue(state, record)
        state.counters.write(hold_id)
        return answer(200, hold_json(state, record))


def _leave_queue(state: TenantState, record: Record) -> None:
    """Take a closed request out of its item's queue: the others move up, a paged item goes back."""
    del record["position"]
    queue = sorted(state.open_requests(record["itemId"]), key=lambda r: r["position"])
    for position, waiting in enumerate(queue, start=1):
        waiting["position"] = position
    item = state.items[record["itemId"]]
    if item["status"] == "Paged" and not any(r["requestType"] == "Page" for r in queue):
        item["status"] = "Available"
