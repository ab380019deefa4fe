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
from typing import TYPE_CHECKING, Any, Literal, overload

import pandas as pd

from .._checks import check_flag, check_header_value, check_text, path_segment
from .._client import TokenClient, TransportOptions
from .._frames import flatten
from .._http import Call, Preview
from .._pager import DEFAULT_WORKERS, check_workers
from ..config import Secret
from ..errors import InputError, NotFoundError
from . import _schemas, _wire
from ._validate import check_body, check_uuid
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
        workers: pages a listing fetches at once (and the profile setting ``workers``).
        **transport: :class:`~fsi_patron_kit._client.TransportOptions` (timeout, retry,
            pool_size, record_bodies, allow_insecure_http, verify).
    """

    vendor = "folio"
    _shown = ("tenant",)

    def __init__(
        self,
        *,
        url: str,
        tenant: str,
        username: str,
        password: str | Secret,
        renew_margin: float = 30.0,
        workers: int = DEFAULT_WORKERS,
        **transport: Unpack[TransportOptions],
    ) -> None:
        password = Secret.of(password, field="password")  # masked at once, even in a traceback's locals
        self.workers = check_workers(workers)
        self._auth = _wire.FolioAuth(check_header_value("tenant", tenant), check_text("username", username),
                                     password, renew_margin=renew_margin)
        self._open(url, self._auth, _wire.describe, transport)

    @property
    def tenant(self) -> str:
        """The tenant id every call is sent for (``X-Okapi-Tenant``)."""
        return self._auth.tenant

    def refresh(self) -> _wire.SessionInfo:
        """Refresh the access token now (otherwise done shortly before it expires)."""
        self._auth.renew(self._transport)
        return self.session

    # -- staging patrons --------------------------------------------------------------------------
    # The overloads tell a type checker what a write returns: the record, or with dry_run a Preview.
    @overload
    def create_staging_patron(self, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: Literal[False] = ...) -> StagingUser: ...
    @overload
    def create_staging_patron(self, patron: StagingUser | Mapping[str, Any], *, dry_run: Literal[True]) -> Preview: ...
    @overload
    def create_staging_patron(self, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: bool = ...) -> StagingUser | Preview: ...

    def create_staging_patron(self, patron: StagingUser | Mapping[str, Any], *, dry_run: bool = False
                              ) -> StagingUser | Preview:
        """POST /patron: a new staging user (FOLIO assigns externalSystemId, TIER-1 by default)."""
        check_flag("dry_run", dry_run)
        body = _body(patron, _schemas.STAGING_USER)
        call = Call(method="POST", path="/patron", action="create-staging-patron", json=body)
        return self._transport.preview(call) if dry_run else StagingUser.from_wire(self._send(call))

    @overload
    def update_staging_patron(self, external_system_id: str, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: Literal[False] = ...) -> StagingUser: ...
    @overload
    def update_staging_patron(self, external_system_id: str, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: Literal[True]) -> Preview: ...
    @overload
    def update_staging_patron(self, external_system_id: str, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: bool = ...) -> StagingUser | Preview: ...

    def update_staging_patron(self, external_system_id: str, patron: StagingUser | Mapping[str, Any], *,
                              dry_run: bool = False) -> StagingUser | Preview:
        """PUT /patron/{externalSystemId}: replace a staging user's details."""
        check_flag("dry_run", dry_run)
        path = f"/patron/{_id('external_system_id', external_system_id)}"
        body = _body(patron, _schemas.STAGING_USER)
        call = Call(method="PUT", path=path, action="update-staging-patron", json=body, idempotent=True)
        return self._transport.preview(call) if dry_run else StagingUser.from_wire(self._send(call))

    def registration_status(self, identifier: str) -> User:
        """GET /patron/registration-status/{id}: a UUID is matched to externalSystemId, else email."""
        path = f"/patron/registration-status/{path_segment('identifier', identifier)}"
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
        path = self._account_path(user_id)
        return Account.from_wire(self._send(Call(method="GET", path=path, action="account", params=params,
                                                 idempotent=True)))

    def renew(self, user_id: str, item_id: str) -> Loan:
        """POST .../item/{itemId}/renew: the renewed loan, with its new due date."""
        path = f"{self._account_path(user_id)}/item/{_id('item_id', item_id)}/renew"
        return Loan.from_wire(self._send(Call(method="POST", path=path, action="renew")))

    # -- holds ------------------------------------------------------------------------------------
    @overload
    def place_item_hold(self, user_id: str, item_id: str, *, pickup_location_id: str,
                        request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                        patron_comments: str | None = ..., dry_run: Literal[False] = ...) -> Hold: ...
    @overload
    def place_item_hold(self, user_id: str, item_id: str, *, pickup_location_id: str,
                        request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                        patron_comments: str | None = ..., dry_run: Literal[True]) -> Preview: ...
    @overload
    def place_item_hold(self, user_id: str, item_id: str, *, pickup_location_id: str,
                        request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                        patron_comments: str | None = ..., dry_run: bool = ...) -> Hold | Preview: ...

    def place_item_hold(self, user_id: str, item_id: str, *, pickup_location_id: str,
                        request_date: str | datetime | None = None, expiration_date: str | datetime | None = None,
                        patron_comments: str | None = None, dry_run: bool = False) -> Hold | Preview:
        """POST .../item/{itemId}/hold: request a specific item (requestDate defaults to now)."""
        check_flag("dry_run", dry_run)
        path = f"{self._account_path(user_id)}/item/{_id('item_id', item_id)}/hold"
        return self._place_hold(path, "item-hold", pickup_location_id, request_date, expiration_date,
                                patron_comments, dry_run)

    @overload
    def place_instance_hold(self, user_id: str, instance_id: str, *, pickup_location_id: str,
                            request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                            patron_comments: str | None = ..., dry_run: Literal[False] = ...) -> Hold: ...
    @overload
    def place_instance_hold(self, user_id: str, instance_id: str, *, pickup_location_id: str,
                            request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                            patron_comments: str | None = ..., dry_run: Literal[True]) -> Preview: ...
    @overload
    def place_instance_hold(self, user_id: str, instance_id: str, *, pickup_location_id: str,
                            request_date: str | datetime | None = ..., expiration_date: str | datetime | None = ...,
                            patron_comments: str | None = ..., dry_run: bool = ...) -> Hold | Preview: ...

    def place_instance_hold(self, user_id: str, instance_id: str, *, pickup_location_id: str,
                            request_date: str | datetime | None = None,
                            expiration_date: str | datetime | None = None,
                            patron_comments: str | None = None, dry_run: bool = False) -> Hold | Preview:
        """POST .../instance/{instanceId}/hold: request any available item of a title."""
        check_flag("dry_run", dry_run)
        path = f"{self._account_path(user_id)}/instance/{_id('instance_id', instance_id)}/hold"
        return self._place_hold(path, "instance-hold", pickup_location_id, request_date, expiration_date,
                                patron_comments, dry_run)

    def allowed_service_points(self, user_id: str, *, item_id: str | None = None,
                               instance_id: str | None = None) -> pd.DataFrame:
        """Where the patron may pick up an item or an instance: one row per service point."""
        if (item_id is None) == (instance_id is None):
            raise InputError("item_id/instance_id", "give exactly one of them")
        kind, target = ("item", _id("item_id", item_id)) if item_id is not None else (
            "instance", _id("instance_id", instance_id))
        path = f"{self._account_path(user_id)}/{kind}/{target}/allowed-service-points"
        answer = self._send(Call(method="GET", path=path, action="allowed-service-points", idempotent=True))
        return SERVICE_POINT_FRAME.build([flatten(p) for p in (answer or {}).get("allowedServicePoints", [])])

    @overload
    def cancel_hold(self, user_id: str, hold_id: str, *, cancellation_reason_id: str, canceled_by_user_id: str,
                    additional_information: str | None = ..., canceled_date: str | datetime | None = ...,
                    dry_run: Literal[False] = ...) -> Hold: ...
    @overload
    def cancel_hold(self, user_id: str, hold_id: str, *, cancellation_reason_id: str, canceled_by_user_id: str,
                    additional_information: str | None = ..., canceled_date: str | datetime | None = ...,
                    dry_run: Literal[True]) -> Preview: ...
    @overload
    def cancel_hold(self, user_id: str, hold_id: str, *, cancellation_reason_id: str, canceled_by_user_id: str,
                    additional_information: str | None = ..., canceled_date: str | datetime | None = ...,
                    dry_run: bool = ...) -> Hold | Preview: ...

    def cancel_hold(self, user_id: str, hold_id: str, *, cancellation_reason_id: str, canceled_by_user_id: str,
                    additional_information: str | None = None, canceled_date: str | datetime | None = None,
                    dry_run: bool = False) -> Hold | Preview:
        """POST .../hold/{holdId}/cancel.

        The document's body for this call is the hold itself with the cancellation fields, so
        the hold is read from the patron's account first.
        """
        check_flag("dry_run", dry_run)
        path = f"{self._account_path(user_id)}/hold/{_id('hold_id', hold_id)}/cancel"
        cancellation: dict[str, Any] = {
            "cancellationReasonId": check_uuid("cancellation_reason_id", cancellation_reason_id),
            "canceledByUserId": check_uuid("canceled_by_user_id", canceled_by_user_id),
            "canceledDate": _iso_utc(datetime.now(timezone.utc) if canceled_date is None else canceled_date),
        }
        if additional_information is not None:
            cancellation["cancellationAdditionalInformation"] = additional_information
        check_body(_schemas.CANCELLATION_FIELDS, cancellation)  # before the account is read
        holds = self.account(user_id, include_holds=True).raw.get("holds", [])
        hold = next((h for h in holds if h.get("requestId") == hold_id), None)
        if hold is None:
            raise NotFoundError("hold not found", status=None, vendor=self.vendor, action="cancel-hold")
        body = {**hold, **cancellation}
        check_body(_schemas.HOLD_CANCELLATION, body, user_text=False)  # the hold's own text is FOLIO's
        call = Call(method="POST", path=path, action="cancel-hold", json=body)
        return self._transport.preview(call) if dry_run else Hold.from_wire(self._send(call))

    # -- plumbing ---------------------------------------------------------------------------------
    def _place_hold(self, path: str, action: str, pickup_location_id: str, request_date: Any,
                    expiration_date: Any, patron_comments: str | None, dry_run: bool) -> Hold | Preview:
        body: dict[str, Any] = {"pickupLocationId": pickup_location_id,
                                "requestDate": _iso_utc(datetime.now(timezone.utc) if request_date is None
                                                        else request_date)}
        if expiration_date is not None:
            body["expirationDate"] = _iso_utc(expiration_date)
        if patron_comments is not None:
            body["patronComments"] = patron_comments
        check_body(_schemas.HOLD, body)
        call = Call(method="POST", path=path, action=action, json=body)
        return self._transport.preview(call) if dry_run else Hold.from_wire(self._send(call))

    def _account_path(self, user_id: str) -> str:
        return f"/patron/account/{_id('user_id', user_id)}"

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


def _id(name: str, value: Any) -> str:
    """A UUID path parameter, matched in full and escaped as one segment."""
    return path_segment(name, check_uuid(name, value))


def _flag(name: str, value: Any) -> str:
    return "true" if check_flag(name, value) else "false"


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
