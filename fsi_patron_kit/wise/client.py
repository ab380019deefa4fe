"""The OCLC Wise client: every endpoint of the patron-management document.

Card validation and lookup, patron information, external customers, the registration flow
(required fields, offered subscriptions, patron authentication, subscribe, re-subscribe,
payment), blocks, updated and deleted patrons, and the duplicate check. The ``WISE_KEY``, the
staff and payment logins and re-login after a 401 are the transport's business (see
``_wire``); a patron's own token travels only in the calls the caller hands a
:class:`~fsi_patron_kit.wise.models.PatronLogin` to. Input is checked before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd

from .._checks import check_header_value
from .._client import TokenClient, TransportOptions
from .._display import Progress
from .._frames import flatten
from .._http import Call, Preview
from .._pager import DEFAULT_WORKERS, Offsets, Pager, Slice, check_workers
from ..config import Secret
from ..errors import AuthError, InputError
from . import _validate as check
from . import _wire
from .models import (
    BLOCK_FLAGS,
    CARD_FRAME,
    DUPLICATE_FRAME,
    FIELD_FRAME,
    ID_FRAME,
    OFFER_FRAME,
    Applicant,
    Blocks,
    CardValidation,
    ExternalCustomer,
    Patron,
    PatronLogin,
    Registration,
    RegistrationStep,
    StoredCustomer,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Client"]


class Client(TokenClient):
    """OCLC Wise's REST API (patron management).

    Args:
        url: the REST API's base URL, e.g. ``https://{system}.hostedwise.nl/restapi``.
        application_name, api_id: what Wise issued to the application (the same on every
            environment).
        api_key: the system's API-KEY (different on PROD and TEST); a secret.
        username, password: the staff API user (one role: ACTOREN Read or Edit, PROXY_AUTH).
        payment_username, payment_password: the library's payment account, needed only to pay
            a subscription left in the basket.
        server_timezone: where "23:59:59", the end of a token's day, is counted.
        renew_margin: log in again this many seconds before a token's day ends.
        **transport: :class:`~fsi_patron_kit._client.TransportOptions`.
    """

    vendor = "wise"
    _shown = ("api_id",)

    def __init__(
        self,
        *,
        url: str,
        application_name: str,
        api_id: str,
        api_key: str | Secret,
        username: str,
        password: str | Secret,
        payment_username: str | None = None,
        payment_password: str | Secret | None = None,
        server_timezone: str = "Europe/Amsterdam",
        renew_margin: float = 60.0,
        workers: int = DEFAULT_WORKERS,
        **transport: Unpack[TransportOptions],
    ) -> None:
        self.workers = check_workers(workers)
        # Secrets held masked from the first line on: a traceback's locals would show the plain strings.
        api_key, password = Secret.of(api_key, field="api_key"), Secret.of(password, field="password")
        if payment_password is not None:
            payment_password = Secret.of(payment_password, field="payment_password")
        application = _wire.Application(application_name=check.text("application_name", application_name),
                                        api_id=check_header_value("api_id", api_id),  # in every WISE_KEY header
                                        api_key=api_key)
        self._auth = _wire.WiseAuth(application, username=check.text("username", username), password=password,
                                    payment_username=None if payment_username is None else
                                    check.text("payment_username", payment_username),
                                    payment_password=payment_password,
                                    server_timezone=check.text("server_timezone", server_timezone),
                                    renew_margin=renew_margin)
        self._open(url, self._auth, _wire.describe, transport)

    @property
    def api_id(self) -> str:
        """The application's API-ID (shown in the repr; not a secret)."""
        return self._auth.application.api_id

    @property
    def server_timezone(self) -> ZoneInfo:
        """Where the server's day is counted: its tokens end at 23:59:59 there."""
        return self._auth.zone

    def server_today(self) -> date:
        """Today on the server (memberships and the updated/deleted lists count in its days)."""
        return self._auth.server_today()

    # -- cards and patrons ---------------------------------------------------------------------
    def validate_card(self, *, card_number: str, library_id: str) -> CardValidation:
        """GET /patron/cardnumber/{cardno}/library/{libraryid}: is the membership valid? (No patronSystemId.)"""
        path = f"/patron/cardnumber/{_part('card_number', card_number)}/library/{_part('library_id', library_id)}"
        return CardValidation.from_wire(self._send(_key_only("GET", path, "validate-card")))

    def lookup_cards(self, *, library_id: str, search: str | None = None, page_size: int = check.MAX_PAGE_SIZE,
                     workers: int | None = None, progress: Progress = False) -> pd.DataFrame:
        """GET /library/{libraryid}/patron?offset&limit&search: patronSystemIds by card number, every page.

        Pages are fetched ``workers`` at a time (the client's setting by default) through the
        kit's shared pager, in order, until an empty page.
        """
        path = f"/library/{_part('library_id', library_id)}/patron"
        size = check.page_size(page_size)
        params: dict[str, Any] = {} if search is None else {"search": check.text("search", search)}

        def fetch(asked: Slice) -> list[dict[str, Any]]:
            call = Call(method="GET", path=path, action="lookup-cards", idempotent=True,
                        params={"offset": asked.offset, "limit": asked.size, **params})
            return list((self._send(call) or {}).get("items", []))

        pager = Pager(fetch, Offsets(size), frame=CARD_FRAME, progress=progress, label="lookup-cards",
                      workers=self.workers if workers is None else check_workers(workers), vendor=self.vendor)
        return pager.frame()

    def authenticate_patron(self, *, username: str, password: str | Secret,
                            library_id: str | None = None) -> PatronLogin:
        """POST /patron/authentication[/library/{id}]: the patron's token and patronSystemId.

        With ``library_id`` it succeeds only if the patron has an active subscription there.
        ``username`` may be the username or a card number.
        """
        secret = Secret.of(password, field="password")
        path = "/patron/authentication/" if library_id is None else \
            f"/patron/authentication/library/{_part('library_id', library_id)}"
        # A login reads and writes no patron data, so the transport may send it again.
        call = _key_only("POST", path, "authenticate-patron", idempotent=True,
                         json={"username": check.text("username", username), "password": secret.reveal()})
        return PatronLogin.from_wire(self._send(call))

    def proxy_authenticate(self, *, patron_system_id: str, library_id: str) -> PatronLogin:
        """A patron token without the patron's password, for a staff user with PROXY_AUTH."""
        path = f"/patron/{_part('patron_system_id', patron_system_id)}/library/{_part('library_id', library_id)}" \
               "/proxyauthentication"
        return PatronLogin.from_wire(self._send(Call(method="POST", path=path, action="proxy-authentication",
                                                     idempotent=True)))

    def patron_information(self, *, patron_system_id: str, library_id: str,
                           login: PatronLogin | None = None) -> Patron:
        """GET /patron/{patronid}/library/{libraryid}/patroninformation.

        The patron must be logged in: pass their ``login``, or leave it out to log in by proxy.
        """
        path = f"/patron/{_part('patron_system_id', patron_system_id)}/library/" \
               f"{_part('library_id', library_id)}/patroninformation"
        login = _own_login(login, patron_system_id) or self.proxy_authenticate(
            patron_system_id=patron_system_id, library_id=library_id)
        return Patron.from_wire(self._send(_as_patron(login, "GET", path, "patron-information")))

    # -- external customers --------------------------------------------------------------------
    def store_external_customer(self, *, library_id: str, customer: ExternalCustomer, dry_run: bool = False
                                ) -> StoredCustomer | Preview:
        """Check whether the customer exists (duplicate check by email), then POST
        /patron/external/library/{libraryid}: a new XTRN customer, or XTRN added to the patron."""
        path = f"/patron/external/library/{_part('library_id', library_id)}"
        if not isinstance(customer, ExternalCustomer):
            raise InputError("customer", "must be a wise.ExternalCustomer")
        check.text("last_name", customer.last_name)
        check.email("email_address", customer.email_address)
        if customer.date_of_birth is not None:
            check.day("date_of_birth", customer.date_of_birth)
        if customer.gender is not None:
            check.choice("gender", customer.gender, check.GENDERS)
        call = Call(method="POST", path=path, action="store-external-customer", json=customer.to_wire())
        if check.flag("dry_run", dry_run):
            return self._transport.preview(call)
        existing = self.duplicate_check(search_value=customer.email_address, search_type="EMAIL")
        response = self._transport.send(call)
        patron = Patron.from_wire(_wire.decode(response, action="store-external-customer"))
        return StoredCustomer(created=response.status_code == 201,
                              existing=tuple(dict.fromkeys(existing["patron_system_id"].tolist())), patron=patron)

    # -- registration --------------------------------------------------------------------------
    def required_fields(self, *, library_id: str, subscription_type: str = "R") -> pd.DataFrame:
        """GET /subscription/{type}/instance/{id}/field: which fields the library requires, and how."""
        return FIELD_FRAME.build(self._field_definitions(library_id, subscription_type))

    def offers(self, *, library_id: str, branch_id: str, date_of_birth: date | str, gender: str,
               zip_code: str | None = None, patron_system_id: str | None = None) -> pd.DataFrame:
        """GET /library/{id}/subscription: subscriptions offered to this person, priced for branch and zip."""
        return OFFER_FRAME.build(self._offers(library_id, branch_id, date_of_birth, gender, zip_code,
                                              patron_system_id))

    def subscribe(self, *, library_id: str, applicant: Applicant, subscription_id: int,
                  dry_run: bool = False) -> Patron | Preview:
        """POST /library/{libraryId}/patron: a new patron with a subscription (invoiced, or in the basket)."""
        body = check.applicant(applicant, today=self._auth.server_today()).to_wire(
            subscription_id=_subscription_id(subscription_id))
        call = _key_only("POST", f"/library/{_part('library_id', library_id)}/patron", "subscribe", json=body)
        return self._transport.preview(call) if check.flag("dry_run", dry_run) else Patron.from_wire(self._send(call))

    def resubscribe(self, *, library_id: str, login: PatronLogin, applicant: Applicant, subscription_id: int,
                    dry_run: bool = False) -> Patron | Preview:
        """PUT /library/{libraryId}/patron/{patronSystemId} with the patron's token (from their login).

        Wise allows it only with no active subscription in the library, or one ending this month.
        """
        if not isinstance(login, PatronLogin):
            raise InputError("login", "must be the PatronLogin of authenticate_patron (its token is needed)")
        patron_system_id = _part("login.patron_system_id", login.patron_system_id)
        body = check.applicant(applicant, today=self._auth.server_today()).to_wire(
            subscription_id=_subscription_id(subscription_id), patron_system_id=patron_system_id)
        call = _as_patron(login, "PUT", f"/library/{_part('library_id', library_id)}/patron/{patron_system_id}",
                          "resubscribe", json=body)
        return self._transport.preview(call) if check.flag("dry_run", dry_run) else Patron.from_wire(self._send(call))

    def pay(self, *, payment_id: str, status: str = "SUCCESS", dry_run: bool = False) -> None | Preview:
        """POST /payment/{paymentId}/status/{paymentStatus}, with the payment account's token."""
        path = f"/payment/{_part('payment_id', payment_id)}/status/" \
               f"{check.choice('status', status, check.PAYMENT_STATUSES)}"
        call = Call(method="POST", path=path, action="pay", scope=_wire.PAYMENT)
        if check.flag("dry_run", dry_run):
            return self._transport.preview(call)
        self._send(call)
        return None

    def register(self, *, library_id: str, applicant: Applicant, subscription_id: int | None = None,
                 pay: bool = True, dry_run: bool = False) -> Registration | Preview:
        """The document's registration flow, each step in the returned transcript (and the history).

        1. the library's required fields, and the applicant checked against them;
        2. the subscriptions offered to this person (``subscription_id`` must be one; left out,
           the only offer is taken);
        3. a login with the applicant's credentials: unknown -> POST (a new patron); known -> PUT,
           only if the patron has no active subscription in the library or one ending this month;
        4. with VWIZBET the subscription is invoiced; otherwise it waits in the basket and, with
           ``pay=True``, is paid through the payment account.

        With ``dry_run=True`` steps 1 to 3 run (they only read and log the applicant in) and the
        subscribe or re-subscribe write is returned as a ``Preview`` instead of being sent.
        """
        check.path_part("library_id", library_id)
        check.applicant(applicant, today=self._auth.server_today())
        check.flag("pay", pay)
        check.flag("dry_run", dry_run)
        steps: list[RegistrationStep] = []

        def note(step: str, request: str, outcome: str) -> None:
            steps.append(RegistrationStep(step=step, request=request, outcome=outcome))

        fields = self._field_definitions(library_id, "R")
        note("required fields", f"GET /subscription/R/instance/{library_id}/field",
             f"{sum(bool(f.get('required')) for f in fields)} of {len(fields)} fields required")
        check.library_rules(applicant, fields, library_id)
        offered = self._offers(library_id, applicant.home_branch, applicant.date_of_birth, applicant.gender,
                               applicant.zip_code, None)
        chosen = _choose(offered, subscription_id)
        note("offers", f"GET /library/{library_id}/subscription",
             f"{len(offered)} offered; chose {chosen['subscriptionId']} ({chosen['cost']})")
        login = self._known_patron(applicant, library_id, note)
        if dry_run:
            write = self.subscribe if login is None else partial(self.resubscribe, login=login)
            return write(library_id=library_id, applicant=applicant, subscription_id=int(chosen["subscriptionId"]),
                         dry_run=True)
        if login is None:
            patron = self.subscribe(library_id=library_id, applicant=applicant,
                                    subscription_id=int(chosen["subscriptionId"]))
            note("subscribe", f"POST /library/{library_id}/patron", f"new patron, {patron.subscription_status}")
        else:
            patron = self.resubscribe(library_id=library_id, login=login, applicant=applicant,
                                      subscription_id=int(chosen["subscriptionId"]))
            note("subscribe", f"PUT /library/{library_id}/patron/{login.patron_system_id}",
                 f"re-subscribed, {patron.subscription_status}")
        paid: bool | None = None
        if patron.subscription_status != "INVOICE":
            paid = False
            if pay and patron.payment_id:
                self.pay(payment_id=patron.payment_id, status="SUCCESS")
                paid = True
                note("payment", f"POST /payment/{patron.payment_id}/status/SUCCESS", "paid; subscription active")
            else:
                note("payment", "-", "left in the basket (not paid)")
        return Registration(library_id=library_id, method="POST" if login is None else "PUT",
                            subscription_id=int(chosen["subscriptionId"]),
                            subscription_status=patron.subscription_status, payment_id=patron.payment_id,
                            paid=paid, patron=patron, transcript=tuple(steps))

    # -- blocks ----------------------------------------------------------------------------------
    def blocks(self, *, patron_system_id: str, library_id: str) -> Blocks:
        """GET .../property/blocking: the patron's current blocks in the library."""
        return Blocks.from_wire(self._send(Call(method="GET", path=_blocking(patron_system_id, library_id),
                                                action="blocks", idempotent=True)))

    def set_blocks(self, *, patron_system_id: str, library_id: str, address_block: bool | None = None,
                   general_block: bool | None = None, online_block: bool | None = None,
                   customer_at_terminal_block: bool | None = None,
                   web_portal_self_service_block: bool | None = None, collection_agency_block: bool | None = None,
                   patron_card_block: bool | None = None, block_message: str | None = None,
                   block_details: str | None = None, dry_run: bool = False) -> Blocks | Preview:
        """PUT .../property/blocking: set (True) or remove (False) blocks; None keeps a block as it is.

        The PUT carries the whole blocking DTO, so the current blocks are read first and only the
        named ones change. The answer is the patron's blocks after the change.
        """
        given = dict(zip(BLOCK_FLAGS, (address_block, general_block, online_block, customer_at_terminal_block,
                                       web_portal_self_service_block, collection_agency_block,
                                       patron_card_block), strict=True))
        changes = {name: check.flag(name, value) for name, value in given.items() if value is not None}
        for name, value in (("block_message", block_message), ("block_details", block_details)):
            if value is not None:
                if not isinstance(value, str):
                    raise InputError(name, "must be text")
                changes[name] = value
        check.flag("dry_run", dry_run)
        if not changes:
            raise InputError("blocks", "name at least one block (True or False) or a message to change")
        path = _blocking(patron_system_id, library_id)
        current = self.blocks(patron_system_id=patron_system_id, library_id=library_id)
        body = {**current.raw, **Blocks(**{**_fields(current), **changes}).to_wire()}
        call = Call(method="PUT", path=path, action="set-blocks", json=body, idempotent=True)
        return self._transport.preview(call) if dry_run else Blocks.from_wire(self._send(call))

    # -- synchronisation -------------------------------------------------------------------------
    def updated_patrons(self, *, library_id: str, since: date | str) -> pd.DataFrame:
        """GET .../updatedpatron?date=: patronSystemIds of patrons changed since ``since``."""
        return self._ids("updatedpatron", "updated-patrons", library_id, since)

    def deleted_patrons(self, *, library_id: str, since: date | str) -> pd.DataFrame:
        """GET .../deletedpatron?date=: patronSystemIds of patrons deleted since ``since``."""
        return self._ids("deletedpatron", "deleted-patrons", library_id, since)

    def duplicate_check(self, *, search_value: str, search_type: str) -> pd.DataFrame:
        """POST /patronmanagement/duplicate: patrons with this EMAIL or EID, one row per active subscription.

        A patron found without an active subscription shows as one row with no library.
        """
        kind = check.choice("search_type", search_type, check.SEARCH_TYPES)
        value = check.email("search_value", search_value) if kind == "EMAIL" else check.text("search_value",
                                                                                            search_value)
        call = Call(method="POST", path="/patronmanagement/duplicate", action="duplicate-check", idempotent=True,
                    json={"searchValue": value, "searchType": kind})
        rows = []
        for patron in self._send(call) or []:
            data = patron.get("subscriptionData") or [{}]
            rows += [{"patronSystemId": patron.get("patronSystemId"), **flatten(item)} for item in data]
        return DUPLICATE_FRAME.build(rows)

    # -- plumbing ----------------------------------------------------------------------------------
    def _send(self, call: Call) -> Any:
        return _wire.decode(self._transport.send(call), action=call.action or call.method)

    def _ids(self, endpoint: str, action: str, library_id: str, since: date | str) -> pd.DataFrame:
        path = f"/patronmanagement/patron/library/{_part('library_id', library_id)}/{endpoint}"
        answer = self._send(Call(method="GET", path=path, action=action, idempotent=True,
                                 params={"date": check.day("since", since)}))
        return ID_FRAME.build([{"patron_system_id": i} for i in (answer or {}).get("patronSystemIDs", [])])

    def _field_definitions(self, library_id: str, subscription_type: str) -> list[dict[str, Any]]:
        path = f"/subscription/{_part('subscription_type', subscription_type)}/instance/" \
               f"{_part('library_id', library_id)}/field"
        return list(self._send(_key_only("GET", path, "required-fields", idempotent=True)) or [])

    def _offers(self, library_id: str, branch_id: str, date_of_birth: date | str, gender: str,
                zip_code: str | None, patron_system_id: str | None) -> list[dict[str, Any]]:
        params = {"branchId": check.text("branch_id", branch_id),
                  "dateOfBirth": check.day("date_of_birth", date_of_birth),
                  "gender": check.choice("gender", gender, check.GENDERS)}
        if patron_system_id is not None:
            params["patronSystemId"] = check.text("patron_system_id", patron_system_id)
        if zip_code is not None:
            params["zipCode"] = check.text("zip_code", zip_code)
        path = f"/library/{_part('library_id', library_id)}/subscription"
        return list(self._send(_key_only("GET", path, "offers", params=params, idempotent=True)) or [])

    def _known_patron(self, applicant: Applicant, library_id: str,
                      note: Callable[[str, str, str], None]) -> PatronLogin | None:
        """Step 3 of the flow: the applicant's login decides POST or PUT, and whether PUT is allowed."""
        try:
            login = self.authenticate_patron(username=applicant.username, password=applicant.password)
        except AuthError as refused:
            note("authenticate", "POST /patron/authentication/", f"refused ({refused.message}): a new patron")
            return None
        note("authenticate", "POST /patron/authentication/", "known patron: re-subscribe")
        try:
            here = self.authenticate_patron(username=applicant.username, password=applicant.password,
                                            library_id=library_id)
        except AuthError:
            note("active here?", f"POST /patron/authentication/library/{library_id}", "no active subscription")
            return login
        ends = here.membership_expiry_date
        today = self._auth.server_today()
        if ends is not None and (ends.year, ends.month) > (today.year, today.month):
            raise InputError("library_id", f"the patron's subscription in {library_id} runs until "
                                           f"{ends.isoformat()}; Wise allows re-subscribing only in its last month")
        note("active here?", f"POST /patron/authentication/library/{library_id}",
             f"subscription ends {ends}: re-subscription allowed")
        return here


# Replace with the kit's shared pager once it exists (one pager for every vendor).
def _part(name: str, value: Any) -> str:
    return quote(check.path_part(name, value), safe="")


def _key_only(method: str, path: str, action: str, **kwargs: Any) -> Call:
    """A call Wise answers on the WISE_KEY alone (registration and patron logins)."""
    return Call(method=method, path=path, action=action, authenticated=False, **kwargs)


def _as_patron(login: PatronLogin, method: str, path: str, action: str, **kwargs: Any) -> Call:
    """A call made as the logged-in patron: their token, not the staff user's."""
    return Call(method=method, path=path, action=action, authenticated=False,
                headers={"Authorization": login.token.reveal()}, **kwargs)


def _own_login(login: PatronLogin | None, patron_system_id: str) -> PatronLogin | None:
    if login is None:
        return None
    if not isinstance(login, PatronLogin) or login.patron_system_id != patron_system_id:
        raise InputError("login", "must be the PatronLogin of this patron")
    return login


def _subscription_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError("subscription_id", "must be a subscriptionId from the offers (a whole number)")
    return value


def _choose(offered: list[dict[str, Any]], subscription_id: int | None) -> dict[str, Any]:
    ids = [int(o["subscriptionId"]) for o in offered]
    if subscription_id is None:
        if len(offered) != 1:
            raise InputError("subscription_id", f"choose one of the offered subscriptions: {ids}")
        return offered[0]
    chosen = next((o for o in offered if int(o["subscriptionId"]) == _subscription_id(subscription_id)), None)
    if chosen is None:
        raise InputError("subscription_id", f"is not offered to this applicant (offered: {ids})")
    return chosen


def _blocking(patron_system_id: str, library_id: str) -> str:
    return f"/patronmanagement/patron/{_part('patron_system_id', patron_system_id)}/library/" \
           f"{_part('library_id', library_id)}/property/blocking"


def _fields(blocks: Blocks) -> dict[str, Any]:
    return {name: getattr(blocks, name) for name in (*BLOCK_FLAGS, "block_message", "block_details")}


