"""The FOLIO client for mod-patron v4.2, through the Okapi gateway.

Every endpoint of the document: staging patrons (create, update), registration status, the
patron account with loans, holds and charges, renewals, item and instance holds, allowed
pickup service points and hold cancellation. Login, token refresh and re-login after a 401 are
the transport's business. Bodies are checked against the document's schemas, and path ids
against FOLIO's UUID pattern, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from .._client import TokenClient, TransportOptions
from .._frames import flatten
from .._http import Call, Preview
from ..config import Secret
from ..errors import InputError, NotFoundError
from . import _schemas, _wire
from ._validate import check_body, check_text, check_uuid
from .models import SERVICE_POINT_FRAME, Account, Hold, Loan, StagingUser, User
from .users import UsersMixin

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Client"]

MAX_INT = 2147483647


class Client(UsersMixin, TokenClient):
    """FOLIO mod-patron through the Okapi gateway, and mod-users (see :mod:`.users`).

    Args:
        url: the gateway's base URL.
        tenant: the tenant id (sent as ``X-Okapi-Tenant``).
        username: a FOLIO user allowed to call mod-patron.
        password: that user's password (kept as a :class:`~fsi_patron_kit.config.Secret`).
        renew_margin: refresh the access token this many seconds before it expires.
        **transport: :class:`~fsi_patron_kit._client.TransportOptions` (timeout, retry,
            pool_size, record_bodies, allow_insecure_http, verify).
    """

    vendor = "folio"

    def __init__(
        self,
        *,
        url: str,
        tenant: str,
        username: str,
        password: str | Secret,
        renew_margin: float = 30.0,
        **transport: Unpack[TransportOptions],
    ) -> None:
        self._auth = _wire.FolioAuth(check_text("tenant", tenant), check_text("username", username),
                                     Secret.of(password, field="password"), renew_margin=renew_margin)
        self._open(url, self._auth, _wire.describe, transport)

    def __repr__(self) -> str:
        return f"<folio.Client {self._transport.base_url} tenant={self._auth.tenant}>"

    def refresh(self) -> _wire.SessionInfo:
        """Refresh the access token now (otherwise done shortly before it expires)."""
        self._auth.renew(self._transport)
        return self.session

    # -- staging patrons --------------------------------------------------------------------------
    def create_staging_patron(self, patron: StagingUser | Mapping[str, Any], *, dry_run: bool = False
                              ) -> StagingUser | Preview:
        """POST /patron: a new staging user (FOLIO assigns externalSystemId, TIER-1 by default)."""
        body = _body(patron, _schemas.STAGING_USER)
        call = Call(method="POST", path="/patron", action="create-staging-patron", json=body)
        return self._transport.preview(call) if dry_run else StagingUser.from_wire(self._send(call))

    def update_staging_patron(self, external_system_id: str, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: bool = False) -> StagingUser | Preview:
        """PUT /patron/{externalSystemId}: replace a staging user's details."""
        path = f"/patron/{check_uuid('external_system_id', external_system_id)}"
        body = _body(patron, _schemas.STAGING_USER)
        call = Call(method="PUT", path=path, action="update-staging-patron", json=body, idempotent=True)
        return self._transport.preview(call) if dry_run else StagingUser.from_wire(self._send(call))

    def registration_status(self, identifier: str) -> User:
        """GET /patron/registration-status/{id}: a UUID is matched to externalSystemId, else email."""
        path = f"/patron/registration-status/{quote(check_text('identifier', identifier), safe='')}"
        return User.from_wire(self._send(Call(method="GET", path=path, action="registration-status", idempotent=True)))

    # -- the account ------------------------------------------------------------------------------
    def account(self, user_id: str, *, include_loans: bool = False, include_charges: bool = False,
                include_holds: bool = False, sort_by: str | None = None, offset: int = 0,
                limit: int = MAX_INT) -> Account:
        """GET /patron/account/{id}; loans, holds and charges show as DataFrames on the result."""
        params: dict[str, Any] = {
            "includeLoans": _flag("include_loans", include_loans),
            "includeCharges": _flag("include_charges", include_charges),
            "includeHolds": _flag("include_holds", include_holds),
            "offset": _bounded("offset", offset),
            "limit": _bounded("limit", limit),
        }
        if sort_by is not None:
            params["sortBy"] = check_text("sort_by", sort_by)
        path = f"/patron/account/{check_uuid('user_id', user_id)}"
        return Account.from_wire(self._send(Call(method="GET", path=path, action="account", params=params,
                                                 idempotent=True)))

    def renew(self, user_id: str, item_id: str) -> Loan:
        """POST .../item/{itemId}/renew: the renewed loan, with its new due date."""
        path = f"{self._account_path(user_id)}/item/{check_uuid('item_id', item_id)}/renew"
        return Loan.from_wire(self._send(Call(method="POST", path=path, action="renew")))

    # -- holds ------------------------------------------------------------------------------------
    def place_item_hold(self, user_id: str, item_id: str, *, pickup_location_id: str,
                        request_date: str | datetime | None = None, expiration_date: str | datetime | None = None,
                        patron_comments: str | None = None, dry_run: bool = False) -> Hold | Preview:
        """POST .../item/{itemId}/hold: request a specific item (requestDate defaults to now)."""
        path = f"{self._account_path(user_id)}/item/{check_uuid('item_id', item_id)}/hold"
        return self._place_hold(path, "item-hold", pickup_location_id, request_date, expiration_date,
                                patron_comments, dry_run)

    def place_instance_hold(self, user_id: str, instance_id: str, *, pickup_location_id: str,
                            request_date: str | datetime | None = None,
                            expiration_date: str | datetime | None = None,
                            patron_comments: str | None = None, dry_run: bool = False) -> Hold | Preview:
        """POST .../instance/{instanceId}/hold: request any available item of a title."""
        path = f"{self._account_path(user_id)}/instance/{check_uuid('instance_id', instance_id)}/hold"
        return self._place_hold(path, "instance-hold", pickup_location_id, request_date, expiration_date,
                                patron_comments, dry_run)

    def allowed_service_points(self, user_id: str, *, item_id: str | None = None,
                               instance_id: str | None = None) -> pd.DataFrame:
        """Where the patron may pick up an item or an instance: one row per service point."""
        if (item_id is None) == (instance_id is None):
            raise InputError("item_id/instance_id", "give exactly one of them")
        kind, target = ("item", check_uuid("item_id", item_id)) if item_id is not None else (
            "instance", check_uuid("instance_id", instance_id))
        path = f"{self._account_path(user_id)}/{kind}/{target}/allowed-service-points"
        answer = self._send(Call(method="GET", path=path, action="allowed-service-points", idempotent=True))
        return SERVICE_POINT_FRAME.build([flatten(p) for p in (answer or {}).get("allowedServicePoints", [])])

    def cancel_hold(self, user_id: str, hold_id: str, *, cancellation_reason_id: str, canceled_by_user_id: str,
                    additional_information: str | None = None, canceled_date: str | datetime | None = None,
                    dry_run: bool = False) -> Hold | Preview:
        """POST .../hold/{holdId}/cancel.

        The document's body for this call is the hold itself with the cancellation fields, so
        the hold is read from the patron's account first.
        """
        check_uuid("hold_id", hold_id)
        cancellation: dict[str, Any] = {
            "cancellationReasonId": check_uuid("cancellation_reason_id", cancellation_reason_id),
            "canceledByUserId": check_uuid("canceled_by_user_id", canceled_by_user_id),
            "canceledDate": _iso_utc(canceled_date or datetime.now(timezone.utc)),
        }
        if additional_information is not None:
            cancellation["cancellationAdditionalInformation"] = additional_information
        check_body(_schemas.CANCELLATION_FIELDS, cancellation)  # before the account is read
        holds = self.account(user_id, include_holds=True).raw.get("holds", [])
        hold = next((h for h in holds if h.get("requestId") == hold_id), None)
        if hold is None:
            raise NotFoundError("hold not found", status=None, vendor=self.vendor, action="cancel-hold")
        body = {**hold, **cancellation}
        check_body(_schemas.HOLD_CANCELLATION, body)
        call = Call(method="POST", path=f"{self._account_path(user_id)}/hold/{hold_id}/cancel",
                    action="cancel-hold", json=body)
        return self._transport.preview(call) if dry_run else Hold.from_wire(self._send(call))

    # -- plumbing ---------------------------------------------------------------------------------
    def _place_hold(self, path: str, action: str, pickup_location_id: str, request_date: Any,
                    expiration_date: Any, patron_comments: str | None, dry_run: bool) -> Hold | Preview:
        body: dict[str, Any] = {"pickupLocationId": pickup_location_id,
                                "requestDate": _iso_utc(request_date or datetime.now(timezone.utc))}
        if expiration_date is not None:
            body["expirationDate"] = _iso_utc(expiration_date)
        if patron_comments is not None:
            body["patronComments"] = patron_comments
        check_body(_schemas.HOLD, body)
        call = Call(method="POST", path=path, action=action, json=body)
        return self._transport.preview(call) if dry_run else Hold.from_wire(self._send(call))

    def _account_path(self, user_id: str) -> str:
        return f"/patron/account/{check_uuid('user_id', user_id)}"

    def _send(self, call: Call) -> Any:
        return _wire.decode(self._transport.send(call), action=call.action or call.method)


def _body(patron: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from a model or a plain JSON mapping, checked against ``schema``."""
    body = patron.to_wire() if hasattr(patron, "to_wire") else patron
    if not isinstance(body, Mapping):
        raise InputError("patron", "must be a model or a JSON object (dict)")
    body = dict(body)
    check_body(schema, body)
    return body


def _flag(name: str, value: Any) -> str:
    if not isinstance(value, bool):
        raise InputError(name, "must be True or False")
    return "true" if value else "false"


def _bounded(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise InputError(name, f"must be an integer from 0 to {MAX_INT}")
    return value


def _iso_utc(value: str | datetime) -> str:
    """An ISO-8601 UTC instant as FOLIO writes them (``2026-11-23T10:00:00Z``)."""
    if isinstance(value, datetime):
        moment = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return value
