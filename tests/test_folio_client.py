"""folio.Client over HTTP against the emulated gateway: every mod-patron endpoint and error."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pandas as pd
import pytest

from fsi_patron_kit import APIError, AuthError, ConflictError, NotFoundError, ServerError
from fsi_patron_kit._http import Preview
from fsi_patron_kit.folio import Account, Hold, Loan, StagingUser, User

from .conftest import make_folio_client

STAGING = {
    "generalInfo": {"firstName": "Ada", "preferredFirstName": "Addie", "lastName": "Byron"},
    "addressInfo": {"addressLine0": "1 Main St", "addressLine1": "Apt 2", "city": "Metropolis", "province": "NY",
                    "zip": "12345", "country": "USA"},
    "contactInfo": {"phone": "555-0100", "email": "ada.byron@example.org"},
    "preferredEmailCommunication": ["Support", "Programs"],
}


def patron_with_everything(emulator) -> dict:
    """A patron that has loans, open holds and charges, found from the tenant's own records."""
    loans = {r["userId"] for r in emulator.loans()}
    holds = {r["requesterId"] for r in emulator.requests() if r["status"].startswith("Open")}
    charges = {r["userId"] for r in emulator.charges()}
    return next(u for u in emulator.users() if u["id"] in loans & holds & charges)


# -- login, refresh, re-login -----------------------------------------------------------------------
def test_login_with_expiry_uses_cookies(folio_client, folio_emulator):
    session = folio_client.login()
    assert session.mode == "cookie" and session.expires_at is not None
    folio_client.registration_status(folio_emulator.users()[2]["personal"]["email"])
    assert [e.action for e in folio_client.history] == ["login-with-expiry", "registration-status"]


def test_token_is_refreshed_before_it_expires(folio_emulator, later):
    folio_emulator.knobs.token_lifetime = 20  # shorter than the client's 30 s margin
    user = folio_emulator.users()[2]["id"]
    with make_folio_client(folio_emulator) as client:
        client.account(user)
        client.account(user)  # a fresh token is not renewed, however short its life
        later(client, 12)  # 8 s left of 20: past half its life and inside the margin
        client.account(user)
    assert folio_emulator.counters.actions["refresh"] == 1
    assert folio_emulator.counters.actions["login_with_expiry"] == 1


def test_token_expiring_mid_run_is_refreshed_without_the_caller_noticing(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    folio_client.account(user)
    folio_emulator.expire_tokens()
    assert folio_client.account(user).total_loans >= 1
    actions = [(e.action, e.status) for e in folio_client.history]
    assert actions == [("login-with-expiry", 201), ("account", 200), ("account", 401), ("refresh", 201),
                       ("account", 200)]
    assert folio_client.session.refreshes == 1


def test_refused_refresh_falls_back_to_logging_in_again(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    folio_client.account(user)
    folio_client.refresh()  # uses up the refresh token the client holds ...
    folio_client._auth._credentials = attrs.evolve(folio_client._auth._credentials, refresh="spent-refresh-token")  # ... and now holds a stale one
    folio_emulator.expire_tokens()
    assert folio_client.account(user).total_loans >= 1
    statuses = [(e.action, e.status) for e in folio_client.history][-4:]
    assert statuses == [("account", 401), ("refresh", 422), ("login-with-expiry", 201), ("account", 200)]


def test_legacy_login_where_login_with_expiry_is_missing(folio_emulator):
    folio_emulator.legacy_login_only = True
    with make_folio_client(folio_emulator) as client:
        client.account(folio_emulator.users()[2]["id"])
        assert client.session.mode == "legacy"
        folio_emulator.expire_tokens()
        client.account(folio_emulator.users()[2]["id"])  # a 401, then a new legacy login
    assert [e.action for e in client.history] == ["login-with-expiry", "login", "account", "account", "login-with-expiry",
                                                  "login", "account"]


def test_wrong_password_is_an_auth_error_with_folios_code(folio_emulator):
    with make_folio_client(folio_emulator, password="not-the-password") as client, pytest.raises(AuthError) as caught:
        client.login()
    assert caught.value.status == 422 and caught.value.code == "password.incorrect"


def test_wrong_tenant_is_refused(folio_emulator):
    from fsi_patron_kit import folio

    with folio.Client(url=folio_emulator.gateway_url, tenant="elsewhere", username="sandbox_admin",
                      password=folio_emulator.credentials.password) as client, pytest.raises(AuthError) as caught:
        client.login()
    assert caught.value.status == 400


# -- staging patrons ------------------------------------------------------------------------------------
def test_create_staging_patron_gets_server_defaults(folio_client, folio_emulator):
    sent_id = "9eb67301-6f6e-468f-9b1a-6134dc39a684"
    created = folio_client.create_staging_patron({**STAGING, "externalSystemId": sent_id})
    assert isinstance(created, StagingUser)
    assert created.status == "TIER-1" and created.is_email_verified is False
    assert created.external_system_id and created.external_system_id != sent_id
    assert created.metadata.created_date
    stored = [s for s in folio_emulator.staging_users() if s["externalSystemId"] == created.external_system_id]
    assert stored[0]["contactInfo"]["email"] == "ada.byron@example.org"


def test_post_always_creates_a_new_staging_user(folio_client, folio_emulator):
    first = folio_client.create_staging_patron(STAGING)
    second = folio_client.create_staging_patron(STAGING)
    assert first.external_system_id != second.external_system_id
    assert len(folio_emulator.staging_users()) == 12 + 2


def test_update_staging_patron(folio_client, folio_emulator):
    created = folio_client.create_staging_patron(STAGING)
    changed = {**STAGING, "status": "TIER-2", "contactInfo": {"email": "ada@example.org"}}
    updated = folio_client.update_staging_patron(created.external_system_id, changed)
    assert updated.status == "TIER-2" and updated.contact_info.email == "ada@example.org"
    assert updated.external_system_id == created.external_system_id


def test_update_unknown_staging_patron_is_staging_user_not_found(folio_client):
    with pytest.raises(NotFoundError) as caught:
        folio_client.update_staging_patron("0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d", STAGING)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404, "STAGING_USER_NOT_FOUND", "Staging user does not exist")


def test_staging_patron_accepts_a_model_and_dry_run_sends_nothing(folio_client, folio_emulator):
    model = StagingUser.from_wire(STAGING)
    before = folio_emulator.counters.requests
    preview = folio_client.create_staging_patron(model, dry_run=True)
    assert isinstance(preview, Preview) and preview.method == "POST" and preview.body == STAGING
    assert folio_emulator.counters.requests == before
    assert folio_client.create_staging_patron(model).general_info.last_name == "Byron"


# -- registration status -----------------------------------------------------------------------------------
def test_registration_status_by_email_and_by_external_system_id(folio_client, folio_emulator):
    emails = pd.Series([u["personal"].get("email", "").lower() for u in folio_emulator.users()])
    user = next(u for u, e in zip(folio_emulator.users(), emails, strict=True) if (emails == e).sum() == 1)
    by_email = folio_client.registration_status(user["personal"]["email"].upper())
    by_id = folio_client.registration_status(user["externalSystemId"])
    assert isinstance(by_email, User)
    assert by_email.id == by_id.id == user["id"]
    assert by_email.personal.email == user["personal"]["email"]


def test_registration_status_shared_email_is_multiple_user_with_email(folio_client, folio_emulator):
    emails = pd.Series([u["personal"].get("email", "").lower() for u in folio_emulator.users()])
    shared = emails[emails.duplicated() & (emails != "")].iloc[0]
    with pytest.raises(ConflictError) as caught:
        folio_client.registration_status(shared)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        400, "MULTIPLE_USER_WITH_EMAIL", "Multiple users found with the same email")


def test_registration_status_unknown_is_user_not_found(folio_client):
    with pytest.raises(NotFoundError) as caught:
        folio_client.registration_status("nobody@example.org")
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "USER_NOT_FOUND",
                                                                              "User does not exist")


# -- the account --------------------------------------------------------------------------------------------
def test_account_with_loans_holds_and_charges_as_frames(folio_client, folio_emulator):
    user = patron_with_everything(folio_emulator)
    account = folio_client.account(user["id"], include_loans=True, include_holds=True, include_charges=True)
    assert isinstance(account, Account)
    loans = [r for r in folio_emulator.loans() if r["userId"] == user["id"] and r["status"] == "Open"]
    assert account.total_loans == len(loans) == len(account.loans_frame)
    assert sorted(account.loans_frame["item_id"]) == sorted(r["itemId"] for r in loans)
    assert str(account.loans_frame["due_date"].dtype) == "datetime64[us, UTC]"
    assert str(account.loans_frame["overdue"].dtype) == "boolean"
    assert len(account.holds_frame) == account.total_holds >= 1
    charges = [r for r in folio_emulator.charges() if r["userId"] == user["id"]]
    assert len(account.charges_frame) == account.total_charges_count == len(charges)
    assert account.total_charges.amount == pytest.approx(sum(r["remaining"] for r in charges))
    assert str(account.charges_frame["amount"].dtype) == "Float64"


def test_account_lists_are_empty_unless_asked_for(folio_client, folio_emulator):
    account = folio_client.account(patron_with_everything(folio_emulator)["id"])
    assert account.total_loans >= 1 and account.loans == [] and account.holds == [] and account.charges == []
    assert account.loans_frame.empty and list(account.loans_frame.columns)[0] == "loan_id"


def test_account_sort_offset_and_limit(folio_client, folio_emulator):
    user = max(folio_emulator.users(), key=lambda u: sum(r["userId"] == u["id"] for r in folio_emulator.loans()))
    everything = folio_client.account(user["id"], include_loans=True, sort_by="item.title/sort.descending")
    titles = list(everything.loans_frame["title"])
    assert titles == sorted(titles, reverse=True) and len(titles) >= 2
    window = folio_client.account(user["id"], include_loans=True, sort_by="item.title/sort.descending",
                                  offset=1, limit=1)
    assert list(window.loans_frame["title"]) == titles[1:2]


def test_unknown_account_is_not_found_text(folio_client):
    with pytest.raises(NotFoundError) as caught:
        folio_client.account("0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d")
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, None, "account not found")


# -- renew ---------------------------------------------------------------------------------------------------
def test_renew_moves_the_due_date(folio_client, folio_emulator):
    recalled = {r["itemId"] for r in folio_emulator.requests() if r["requestType"] == "Recall"}
    loan = next(r for r in folio_emulator.loans() if r["status"] == "Open" and r["itemId"] not in recalled
                and r["renewalCount"] == 0)
    renewed = folio_client.renew(loan["userId"], loan["itemId"])
    assert isinstance(renewed, Loan)
    assert datetime.fromisoformat(renewed.due_date.replace("Z", "+00:00")) > datetime.fromisoformat(
        loan["dueDate"].replace("Z", "+00:00"))
    assert folio_emulator.counters.writes[loan["id"]] == 1


def test_renew_refused_for_a_recalled_item(folio_client, folio_emulator):
    recalled = {r["itemId"] for r in folio_emulator.requests() if r["requestType"] == "Recall" and
                r["status"].startswith("Open")}
    loan = next(r for r in folio_emulator.loans() if r["status"] == "Open" and r["itemId"] in recalled)
    with pytest.raises(APIError) as caught:
        folio_client.renew(loan["userId"], loan["itemId"])
    assert caught.value.status == 422
    assert caught.value.message == "items cannot be renewed when there is an active recall request"


def test_renew_an_item_not_on_loan_is_not_found(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    on_loan = {r["itemId"] for r in folio_emulator.loans()}
    item = next(i["id"] for i in folio_emulator.items() if i["id"] not in on_loan)
    with pytest.raises(NotFoundError) as caught:
        folio_client.renew(user, item)
    assert caught.value.message == "item not found"


# -- holds ------------------------------------------------------------------------------------------------------
def test_item_and_instance_holds_then_cancel(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    desk = folio_emulator.service_points[0]["id"]
    taken = {r["itemId"] for r in folio_emulator.loans() if r["userId"] == user} | {
        r["itemId"] for r in folio_emulator.requests() if r["requesterId"] == user}
    items = [i for i in folio_emulator.items() if i["id"] not in taken]
    item_hold = folio_client.place_item_hold(user, items[0]["id"], pickup_location_id=desk,
                                             patron_comments="Front desk please")
    assert isinstance(item_hold, Hold) and item_hold.status == "Open - Not yet filled"
    assert item_hold.pickup_location_id == desk and item_hold.queue_position >= 1
    other = next(i for i in items if i["instanceId"] != items[0]["instanceId"])
    instance_hold = folio_client.place_instance_hold(user, other["instanceId"], pickup_location_id=desk)
    assert instance_hold.item.instance_id == other["instanceId"]
    reason = folio_emulator.cancellation_reasons[0]["id"]
    cancelled = folio_client.cancel_hold(user, item_hold.request_id, cancellation_reason_id=reason,
                                         canceled_by_user_id=user, additional_information="No longer needed")
    assert cancelled.status == "Closed - Cancelled"
    assert cancelled.cancellation_reason_id == reason and cancelled.canceled_date
    stored = next(r for r in folio_emulator.requests() if r["id"] == item_hold.request_id)
    assert stored["status"] == "Closed - Cancelled"


def test_hold_at_a_service_point_that_is_not_a_pickup_location_is_refused(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    online = next(p["id"] for p in folio_emulator.service_points if p["name"] == "Online")
    item = folio_emulator.items()[-1]["id"]
    with pytest.raises(APIError) as caught:
        folio_client.place_item_hold(user, item, pickup_location_id=online)
    assert caught.value.status == 422 and caught.value.message


def test_hold_on_an_unknown_item_is_not_found(folio_client, folio_emulator):
    with pytest.raises(NotFoundError) as caught:
        folio_client.place_item_hold(folio_emulator.users()[2]["id"], "0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d",
                                     pickup_location_id=folio_emulator.service_points[0]["id"],
                                     request_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert caught.value.message == "item not found"


def test_cancel_an_unknown_hold_is_not_found_before_anything_is_written(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    with pytest.raises(NotFoundError):
        folio_client.cancel_hold(user, "0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d",
                                 cancellation_reason_id=folio_emulator.cancellation_reasons[0]["id"],
                                 canceled_by_user_id=user)
    assert not folio_emulator.counters.writes


def test_allowed_service_points_for_item_and_instance(folio_client, folio_emulator):
    user = folio_emulator.users()[2]["id"]
    item = folio_emulator.items()[0]
    pickup = [p for p in folio_emulator.service_points if p["name"] != "Online"]
    for frame in (folio_client.allowed_service_points(user, item_id=item["id"]),
                  folio_client.allowed_service_points(user, instance_id=item["instanceId"])):
        assert list(frame.columns) == ["id", "name", "discovery_name"]
        assert sorted(frame["name"]) == sorted(p["name"] for p in pickup)


def test_allowed_service_points_for_an_unknown_item_is_a_422(folio_client, folio_emulator):
    with pytest.raises(APIError) as caught:
        folio_client.allowed_service_points(folio_emulator.users()[2]["id"],
                                            item_id="0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d")
    assert caught.value.status == 422


def test_server_fault_is_a_server_error_with_folios_text(folio_client, folio_emulator):
    folio_client.login()
    folio_emulator.knobs.fail_next("500")
    with pytest.raises(ServerError) as caught:
        folio_client.create_staging_patron(STAGING)
    assert caught.value.message == "internal server error, contact administrator"


def test_a_dropped_login_is_tried_again(folio_emulator):
    folio_emulator.knobs.fail_next("reset")
    with make_folio_client(folio_emulator) as client:
        assert client.account(folio_emulator.users()[2]["id"]).total_loans >= 1
    assert [(e.action, e.outcome) for e in client.history][:2] == [("login-with-expiry", "error"),
                                                                   ("login-with-expiry", "ok")]


def test_a_rate_limited_login_is_a_rate_limit_not_a_refusal(folio_emulator, monkeypatch):
    from fsi_patron_kit import RateLimitError, _http

    monkeypatch.setattr(_http.time, "sleep", lambda seconds: None)
    folio_emulator.knobs.retry_after = 120  # longer than the client waits
    folio_emulator.knobs.fail_next("429")
    with make_folio_client(folio_emulator) as client, pytest.raises(RateLimitError) as caught:
        client.login()
    assert (caught.value.status, caught.value.retry_after) == (429, 120.0)
