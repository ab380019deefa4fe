"""The FOLIO emulator's wire behaviour, spoken to with plain requests: gateway, mod-login, mod-patron, edge."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from fsi_patron_kit.sandbox import FolioEmulator, Sandbox
from fsi_patron_kit.sandbox.folio.data import PATRON_GROUPS, generate

from .upstream import conforms, needs_upstream

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=timezone.utc)
REMOTE = PATRON_GROUPS["Remote Non-circulating"]
CIRC_DESK_1 = "3a40852d-49fd-4df2-a1f9-6e2641a6e91f"
ONLINE = "7c5abc9f-f3d7-4856-b8d7-6712462ca007"
PATRON_CANCELLED = "75187e8d-e25a-47a7-89ad-23ba612338de"
UNKNOWN_ID = "0f9c2a4e-6b1d-4c3e-9a7f-2d5b8e1c4a60"
# The documented counts (folio.data.PLANTED); the tests count them their own way from the users.
DOCUMENTED = {"duplicate_email": 6, "inactive": 10, "remote_expired_yesterday": 4, "remote_expired_earlier": 3,
              "expired_but_active": 3, "username_whitespace": 2, "inactive_account": 17, "inactive_with_open_loans": 6}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def folio(clock):
    emulator = FolioEmulator(clock=clock).start()
    yield emulator
    emulator.stop()


def login(folio: FolioEmulator) -> requests.Session:
    """A session holding the tenant header and the cookies of a login with expiry."""
    session = requests.Session()
    session.headers["X-Okapi-Tenant"] = folio.tenant
    credentials = {"username": folio.credentials.username, "password": folio.credentials.password}
    answer = session.post(folio.gateway_url + "/authn/login-with-expiry", json=credentials, timeout=5)
    assert answer.status_code == 201
    return session


@pytest.fixture
def staff(folio):
    with login(folio) as session:
        yield session


EDGE_FORMS = ["document-003", "today"]


@pytest.fixture(params=EDGE_FORMS)
def edge_form(request):
    """Each LC external-patron test runs against both edge forms: with the caller in the path, and without."""
    return request.param


def edge(folio: FolioEmulator, form: str, method: str, path: str, **options) -> requests.Response:
    options.setdefault("params", {"apikey": folio.edge_apikey})
    caller = f"/{folio.caller_id}" if form == "document-003" else ""
    return requests.request(method, f"{folio.edge_url}/patron/account{caller}{path}", timeout=5, **options)


def lower_emails(users: list[dict]) -> Counter:
    return Counter(u["personal"]["email"].lower() for u in users)


def one_with_email(folio: FolioEmulator, *, active: bool, remote: bool) -> dict:
    """A user whose email no one else has, in or out of the remote group."""
    users = folio.users()
    counts = lower_emails(users)
    return next(u for u in users if counts[u["personal"]["email"].lower()] == 1 and u["active"] == active
                and (u["patronGroup"] == REMOTE) == remote and u.get("username") != "sandbox_admin")


def shared_email(folio: FolioEmulator) -> str:
    counts = lower_emails(folio.users())
    return next(email for email, n in counts.items() if n > 1)


def text_of(answer: requests.Response) -> str:
    assert answer.headers["Content-Type"].startswith("text/plain")
    return answer.text


def rmb_error(answer: requests.Response) -> dict:
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()["errors"][0]


def new_patron(email: str = "pat.morgan@example.com", external_id: str = "ext-lc-000101") -> dict:
    return {
        "generalInfo": {"externalSystemId": external_id, "firstName": "Patricia", "preferredFirstName": "Pat",
                        "middleName": "", "lastName": "Morgan"},
        "addressInfo": {"addressLine0": "123 Main St", "addressLine1": "Apt 4B", "city": "Metropolis",
                        "province": "NY", "zip": "12345", "country": "USA"},
        "contactInfo": {"phone": "555-123456", "mobilePhone": "555-5678", "email": email},
        "preferredEmailCommunication": ["Support", "Programs"],
    }


def new_staging_user() -> dict:
    return {"generalInfo": {"firstName": "Ada", "lastName": "Okafor"},
            "addressInfo": {"addressLine0": "12 Elm St", "city": "Urbana", "province": "IL", "zip": "61801",
                            "country": "US"},
            "contactInfo": {"email": "ada.okafor@example.net"},
            "externalSystemId": "9eb67301-6f6e-468f-9b1a-6134dc39a684"}


# -- mod-login and the gateway ------------------------------------------------------------------
def test_login_with_expiry_answers_instants_and_sets_both_cookies(folio):
    credentials = {"username": folio.credentials.username, "password": folio.credentials.password}
    answer = requests.post(folio.gateway_url + "/authn/login-with-expiry", json=credentials,
                           headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert answer.status_code == 201
    body = answer.json()
    assert body["accessTokenExpiration"] == "2025-03-14T15:40:00Z"
    assert body["refreshTokenExpiration"] == "2025-03-21T15:30:00Z"
    cookies = {c.split("=", 1)[0]: c for c in answer.raw.headers.getlist("Set-Cookie")}
    assert {"Max-Age=600", "Path=/", "HttpOnly"} <= set(cookies["folioAccessToken"].split("; "))
    assert {"Max-Age=604800", "Path=/authn", "HttpOnly"} <= set(cookies["folioRefreshToken"].split("; "))


@pytest.mark.parametrize("headers, credentials, status, code", [
    ({"X-Okapi-Tenant": "sandbox"}, {"username": "sandbox_admin", "password": "nope"}, 422, "password.incorrect"),
    ({"X-Okapi-Tenant": "sandbox"}, {"username": "nobody", "password": "x"}, 422, "username.incorrect"),
    ({"X-Okapi-Tenant": "sandbox"}, {"username": "sandbox_admin"}, 400, None),
    ({}, {"username": "sandbox_admin", "password": "sandbox-folio-password"}, 400, None),
    ({"X-Okapi-Tenant": "diku"}, {"username": "sandbox_admin", "password": "sandbox-folio-password"}, 400, None),
], ids=["wrong-password", "unknown-user", "no-password", "no-tenant", "other-tenant"])
def test_login_refusals(folio, headers, credentials, status, code):
    answer = requests.post(folio.gateway_url + "/authn/login-with-expiry", json=credentials, headers=headers, timeout=5)
    assert answer.status_code == status
    if code:
        assert rmb_error(answer)["code"] == code
    else:
        assert text_of(answer)
    assert "folioAccessToken" not in answer.cookies


def test_patron_calls_need_a_live_token_from_cookie_or_header(folio, clock, staff):
    url = f"{folio.gateway_url}/patron/account/{folio.users()[2]['id']}"
    refused = requests.get(url, headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert refused.status_code == 401 and text_of(refused) == "Invalid token"
    assert staff.get(url, timeout=5).status_code == 200
    legacy = requests.post(folio.gateway_url + "/authn/login", headers={"X-Okapi-Tenant": "sandbox"}, timeout=5,
                           json={"username": "sandbox_admin", "password": "sandbox-folio-password"})
    assert legacy.status_code == 201 and legacy.headers["x-okapi-token"] == legacy.json()["okapiToken"]
    by_header = {"X-Okapi-Tenant": "sandbox", "X-Okapi-Token": legacy.json()["okapiToken"]}
    assert requests.get(url, headers=by_header, timeout=5).status_code == 200
    clock.now += 601  # the cookie's token has lived its 600 seconds; the legacy token never expires
    assert staff.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers=by_header, timeout=5).status_code == 200
    assert folio.counters.actions["account"] == 5  # refused requests reached the endpoint and were counted


def test_patron_calls_need_the_tenant(folio, staff):
    answer = staff.get(f"{folio.gateway_url}/patron/account/{folio.users()[2]['id']}",
                       headers={"X-Okapi-Tenant": ""}, timeout=5)
    assert answer.status_code == 400 and text_of(answer)


def test_refresh_replaces_expired_access_and_each_refresh_token_works_once(folio, staff):
    url = f"{folio.gateway_url}/patron/account/{folio.users()[2]['id']}"
    first_refresh = staff.cookies["folioRefreshToken"]
    folio.expire_tokens()
    assert staff.get(url, timeout=5).status_code == 401
    renewed = staff.post(folio.gateway_url + "/authn/refresh", timeout=5)
    assert renewed.status_code == 201 and set(renewed.json()) == {"accessTokenExpiration", "refreshTokenExpiration"}
    assert staff.cookies["folioRefreshToken"] != first_refresh
    assert staff.get(url, timeout=5).status_code == 200
    reused = requests.post(folio.gateway_url + "/authn/refresh", cookies={"folioRefreshToken": first_refresh},
                           headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert reused.status_code == 422 and rmb_error(reused)["code"] == "token.refresh.unprocessable"
    missing = requests.post(folio.gateway_url + "/authn/refresh", headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert missing.status_code == 400


def test_unknown_paths_and_methods(folio, staff):
    assert staff.get(folio.gateway_url + "/patron/unknown/path/here", timeout=5).status_code == 404
    assert staff.put(folio.gateway_url + "/patron", json={}, timeout=5).status_code == 405


# -- mod-patron: registration status and staging users --------------------------------------------
def test_registration_status_by_email_or_external_system_id(folio, staff):
    user = one_with_email(folio, active=True, remote=False)
    by_email = staff.get(f"{folio.gateway_url}/patron/registration-status/{user['personal']['email'].upper()}", timeout=5)
    assert by_email.status_code == 200 and by_email.json()["id"] == user["id"]
    by_id = staff.get(f"{folio.gateway_url}/patron/registration-status/{user['externalSystemId']}", timeout=5)
    assert by_id.json() == user
    unknown = staff.get(f"{folio.gateway_url}/patron/registration-status/nobody@example.com", timeout=5)
    assert unknown.status_code == 404 and rmb_error(unknown)["code"] == "USER_NOT_FOUND"
    several = staff.get(f"{folio.gateway_url}/patron/registration-status/{quote(shared_email(folio))}", timeout=5)
    assert several.status_code == 400 and rmb_error(several) == {
        "message": "Multiple users found with the same email", "type": "error",
        "code": "MULTIPLE_USER_WITH_EMAIL", "parameters": []}


def test_post_patron_always_creates_a_staging_user_with_server_ids_and_defaults(folio, staff):
    before = len(folio.staging_users())
    first = staff.post(folio.gateway_url + "/patron", json=new_staging_user(), timeout=5)
    second = staff.post(folio.gateway_url + "/patron", json=new_staging_user(), timeout=5)
    assert first.status_code == second.status_code == 201
    made = first.json()
    assert made["externalSystemId"] not in ("9eb67301-6f6e-468f-9b1a-6134dc39a684", second.json()["externalSystemId"])
    assert made["status"] == "TIER-1" and made["isEmailVerified"] is False
    assert made["metadata"]["createdDate"].startswith("2025-03-14T15:30")
    assert len(folio.staging_users()) == before + 2
    assert dict(folio.counters.writes) == {made["id"]: 1, second.json()["id"]: 1}


@pytest.mark.parametrize("change, key", [
    (lambda b: b["contactInfo"].pop("email"), "contactInfo.email"),
    (lambda b: b["generalInfo"].update(nickname="Addy"), "generalInfo"),
    (lambda b: b.update(status="TIER-3"), "status"),
    (lambda b: b["contactInfo"].update(email="not-an-email"), "contactInfo.email"),
], ids=["missing-email", "unknown-field", "bad-status", "bad-email"])
def test_post_patron_refuses_what_the_schema_refuses(folio, staff, change, key):
    body = new_staging_user()
    change(body)
    answer = staff.post(folio.gateway_url + "/patron", json=body, timeout=5)
    assert answer.status_code == 422
    assert rmb_error(answer)["parameters"][0]["key"] == key
    assert not folio.counters.writes


def test_put_patron_updates_a_staging_user(folio, staff):
    staging = folio.staging_users()[0]
    body = {"generalInfo": {"firstName": "Renamed", "lastName": "Person"}, "contactInfo": {"email": "renamed@example.org"},
            "status": "TIER-2"}
    answer = staff.put(f"{folio.gateway_url}/patron/{staging['externalSystemId']}", json=body, timeout=5)
    assert answer.status_code == 200
    updated = answer.json()
    assert updated["generalInfo"] == body["generalInfo"] and updated["status"] == "TIER-2"
    assert updated["addressInfo"] == staging["addressInfo"] and updated["id"] == staging["id"]
    assert folio.staging_users()[0] == updated
    unknown = staff.put(f"{folio.gateway_url}/patron/{UNKNOWN_ID}", json=body, timeout=5)
    assert unknown.status_code == 404 and rmb_error(unknown)["code"] == "STAGING_USER_NOT_FOUND"
    malformed = staff.put(f"{folio.gateway_url}/patron/not-a-uuid", json=body, timeout=5)
    assert malformed.status_code == 400 and "externalSystemId" in text_of(malformed)


# -- mod-patron: account, renew, holds, service points, cancel ------------------------------------
def busy_patron(folio: FolioEmulator) -> str:
    """A patron with open loans, open holds and open charges."""
    loans = {loan["userId"] for loan in folio.loans() if loan["status"] == "Open"}
    holds = {r["requesterId"] for r in folio.requests() if r["status"].startswith("Open")}
    charges = {c["userId"] for c in folio.charges() if c["remaining"] > 0}
    return sorted(loans & holds & charges)[0]


def test_account_totals_always_and_lists_on_request(folio, staff):
    user_id = busy_patron(folio)
    loans = [loan for loan in folio.loans() if loan["userId"] == user_id]
    holds = [r for r in folio.requests() if r["requesterId"] == user_id and r["status"].startswith("Open")]
    charges = [c for c in folio.charges() if c["userId"] == user_id]
    bare = staff.get(f"{folio.gateway_url}/patron/account/{user_id}", timeout=5).json()
    assert (bare["totalLoans"], bare["totalHolds"], bare["totalChargesCount"]) == (len(loans), len(holds), len(charges))
    assert bare["totalCharges"] == {"amount": round(sum(c["remaining"] for c in charges), 2), "isoCurrencyCode": "USD"}
    assert bare["loans"] == bare["holds"] == bare["charges"] == []
    full = staff.get(f"{folio.gateway_url}/patron/account/{user_id}", timeout=5,
                     params={"includeLoans": "true", "includeHolds": "TRUE", "includeCharges": "true"}).json()
    assert {loan["id"]: loan["overdue"] for loan in full["loans"]} == {
        loan["id"]: datetime.fromisoformat(loan["dueDate"]) < NOW for loan in loans}
    assert {h["requestId"] for h in full["holds"]} == {r["id"] for r in holds}
    assert len(full["charges"]) == len(charges)


def test_account_sorts_and_pages_each_list(folio, staff):
    counts = Counter(loan["userId"] for loan in folio.loans())
    user_id = next(user for user, n in counts.most_common() if n >= 2)
    url = f"{folio.gateway_url}/patron/account/{user_id}"
    titles = [loan["item"]["title"] for loan in staff.get(url, params={"includeLoans": "true"}, timeout=5).json()["loans"]]
    down = staff.get(url, params={"includeLoans": "true", "sortBy": "item.title/sort.descending"}, timeout=5).json()
    assert [loan["item"]["title"] for loan in down["loans"]] == sorted(titles, key=str.lower, reverse=True)
    page = staff.get(url, params={"includeLoans": "true", "sortBy": "item.title/sort.descending", "offset": 1,
                                  "limit": 1}, timeout=5).json()
    assert page["loans"] == down["loans"][1:2] and page["totalLoans"] == len(titles)
    for bad in ({"limit": "-1"}, {"offset": "x"}, {"includeLoans": "maybe"}, {"sortBy": "item.title/sort.sideways"}):
        answer = staff.get(url, params=bad, timeout=5)
        assert answer.status_code == 400 and text_of(answer), bad


def test_account_of_unknown_or_malformed_id(folio, staff):
    unknown = staff.get(f"{folio.gateway_url}/patron/account/{UNKNOWN_ID}", timeout=5)
    assert unknown.status_code == 404 and text_of(unknown) == "account not found"
    malformed = staff.get(f"{folio.gateway_url}/patron/account/12345", timeout=5)
    assert malformed.status_code == 400 and "must match" in text_of(malformed)


def test_renew_extends_the_due_date_unless_recalled_or_at_the_limit(folio, staff):
    recalled = {r["itemId"] for r in folio.requests() if r["requestType"] == "Recall" and r["status"].startswith("Open")}
    loans = folio.loans()
    free = next(loan for loan in loans if loan["itemId"] not in recalled and loan["renewalCount"] == 0)
    renewed = staff.post(f"{folio.gateway_url}/patron/account/{free['userId']}/item/{free['itemId']}/renew", timeout=5)
    assert renewed.status_code == 201
    assert renewed.json()["dueDate"] == "2025-04-11T23:59:59.000+00:00" and renewed.json()["overdue"] is False
    recall = next(loan for loan in loans if loan["itemId"] in recalled)
    refused = staff.post(f"{folio.gateway_url}/patron/account/{recall['userId']}/item/{recall['itemId']}/renew", timeout=5)
    assert refused.status_code == 422
    assert rmb_error(refused)["message"] == "items cannot be renewed when there is an active recall request"
    worn = next(loan for loan in loans if loan["renewalCount"] == 3)
    limit = staff.post(f"{folio.gateway_url}/patron/account/{worn['userId']}/item/{worn['itemId']}/renew", timeout=5)
    assert limit.status_code == 422 and rmb_error(limit)["message"] == "loan at maximum renewal number"
    stranger = staff.post(f"{folio.gateway_url}/patron/account/{UNKNOWN_ID}/item/{free['itemId']}/renew", timeout=5)
    assert stranger.status_code == 404 and text_of(stranger) == "item not found"
    assert dict(folio.counters.writes) == {free["id"]: 1}


def hold_body(pickup: str = CIRC_DESK_1) -> dict:
    return {"pickupLocationId": pickup, "requestDate": "2025-03-14T15:00:00Z", "patronComments": "For my thesis"}


def requester_and_lent_item(folio: FolioEmulator) -> tuple[str, dict]:
    user = one_with_email(folio, active=True, remote=False)
    lent = {loan["itemId"]: loan["userId"] for loan in folio.loans()}
    item = next(i for i in folio.items() if lent.get(i["id"]) not in (None, user["id"]))
    return user["id"], item


def test_hold_on_an_item_joins_its_queue(folio, staff):
    user_id, item = requester_and_lent_item(folio)
    queue = [r for r in folio.requests() if r["itemId"] == item["id"] and r["status"].startswith("Open")]
    answer = staff.post(f"{folio.gateway_url}/patron/account/{user_id}/item/{item['id']}/hold", json=hold_body(), timeout=5)
    assert answer.status_code == 201
    hold = answer.json()
    assert hold["status"] == "Open - Not yet filled" and hold["queuePosition"] == len(queue) + 1
    assert hold["item"]["itemId"] == item["id"] and hold["patronComments"] == "For my thesis"
    assert any(r["id"] == hold["requestId"] for r in folio.requests())
    again = staff.post(f"{folio.gateway_url}/patron/account/{user_id}/item/{item['id']}/hold", json=hold_body(), timeout=5)
    assert again.status_code == 422


@pytest.mark.parametrize("body, status", [
    (hold_body(ONLINE), 422),
    (hold_body(UNKNOWN_ID), 422),
    ({"requestDate": "2025-03-14T15:00:00Z"}, 422),
    ({"pickupLocationId": CIRC_DESK_1, "requestDate": "yesterday"}, 422),
], ids=["not-a-pickup-location", "unknown-service-point", "no-pickup-location", "bad-date"])
def test_hold_refusals(folio, staff, body, status):
    user_id, item = requester_and_lent_item(folio)
    answer = staff.post(f"{folio.gateway_url}/patron/account/{user_id}/item/{item['id']}/hold", json=body, timeout=5)
    assert answer.status_code == status and rmb_error(answer)["message"]
    assert not folio.counters.writes


def test_hold_on_unknown_item_or_instance_and_by_inactive_user(folio, staff):
    user_id, item = requester_and_lent_item(folio)
    for kind in ("item", "instance"):
        answer = staff.post(f"{folio.gateway_url}/patron/account/{user_id}/{kind}/{UNKNOWN_ID}/hold",
                            json=hold_body(), timeout=5)
        assert answer.status_code == 404 and text_of(answer) == "item not found"
    inactive = one_with_email(folio, active=False, remote=False)
    answer = staff.post(f"{folio.gateway_url}/patron/account/{inactive['id']}/item/{item['id']}/hold",
                        json=hold_body(), timeout=5)
    assert answer.status_code == 422 and rmb_error(answer)["message"] == "Inactive users cannot make requests"


def test_hold_on_an_instance_picks_one_of_its_items(folio, staff):
    user_id, item = requester_and_lent_item(folio)
    answer = staff.post(f"{folio.gateway_url}/patron/account/{user_id}/instance/{item['instanceId']}/hold",
                        json=hold_body(), timeout=5)
    assert answer.status_code == 201
    chosen = answer.json()["item"]
    assert chosen["instanceId"] == item["instanceId"]
    assert chosen["itemId"] in {i["id"] for i in folio.items() if i["instanceId"] == item["instanceId"]}


def test_allowed_service_points(folio, staff):
    user_id, item = requester_and_lent_item(folio)
    for kind, target in (("item", item["id"]), ("instance", item["instanceId"])):
        answer = staff.get(f"{folio.gateway_url}/patron/account/{user_id}/{kind}/{target}/allowed-service-points",
                           timeout=5)
        assert answer.status_code == 200
        assert [p["name"] for p in answer.json()["allowedServicePoints"]] == ["Circ Desk 1", "Circ Desk 2"]
        unknown = staff.get(f"{folio.gateway_url}/patron/account/{user_id}/{kind}/{UNKNOWN_ID}/allowed-service-points",
                            timeout=5)
        assert unknown.status_code == 422 and rmb_error(unknown)["message"]


def test_cancel_hold_closes_it_once_and_moves_the_queue_up(folio, staff):
    queues = Counter(r["itemId"] for r in folio.requests() if r["status"].startswith("Open"))
    first = next(r for r in folio.requests() if queues[r["itemId"]] >= 2 and r.get("position") == 1)
    cancel = {"holdId": first["id"], "cancellationReasonId": PATRON_CANCELLED, "canceledByUserId": first["requesterId"],
              "cancellationAdditionalInformation": "No longer needed", "canceledDate": "2025-03-14T15:20:00Z"}
    url = f"{folio.gateway_url}/patron/account/{first['requesterId']}/hold/{first['id']}/cancel"
    answer = staff.post(url, json=cancel, timeout=5)
    assert answer.status_code == 200
    hold = answer.json()
    assert hold["status"] == "Closed - Cancelled" and "queuePosition" not in hold
    assert {k: hold[k] for k in cancel if k != "holdId"} == {k: v for k, v in cancel.items() if k != "holdId"}
    still_open = [r for r in folio.requests() if r["itemId"] == first["itemId"] and r["status"].startswith("Open")]
    assert sorted(r["position"] for r in still_open) == list(range(1, len(still_open) + 1))
    again = staff.post(url, json=cancel, timeout=5)
    assert again.status_code == 422 and rmb_error(again)["message"]
    unknown = staff.post(f"{folio.gateway_url}/patron/account/{first['requesterId']}/hold/{UNKNOWN_ID}/cancel",
                         json=cancel, timeout=5)
    assert unknown.status_code == 404 and text_of(unknown) == "hold not found"
    incomplete = staff.post(url, json={"cancellationReasonId": PATRON_CANCELLED}, timeout=5)
    assert incomplete.status_code == 422 and rmb_error(incomplete)["parameters"][0]["key"] == "canceledByUserId"


# -- edge-patron ----------------------------------------------------------------------------------
def test_edge_apikey_is_padded_url_safe_base64_of_salt_tenant_and_user(folio):
    assert len(folio.edge_apikey) % 4 == 0
    decoded = json.loads(base64.urlsafe_b64decode(folio.edge_apikey))
    assert set(decoded) == {"s", "t", "u"} and decoded["t"] == "sandbox" and decoded["u"] == "edge_patron"


def test_edge_refuses_a_bad_apikey_and_an_unknown_caller(folio, edge_form):
    other_tenant = base64.urlsafe_b64encode(b'{"s":"x","t":"diku","u":"edge_patron"}').decode()
    for params in ({}, {"apikey": "not-a-key"}, {"apikey": other_tenant}):
        answer = edge(folio, edge_form, "GET", "/external-patrons", params=params)
        assert answer.status_code == 401 and text_of(answer)
    by_header = edge(folio, edge_form, "GET", "/external-patrons", params={}, headers={"Authorization": folio.edge_apikey})
    assert by_header.status_code == 200
    admin_id = next(u["id"] for u in folio.users() if u.get("username") == "sandbox_admin")
    by_id = requests.get(f"{folio.edge_url}/patron/account/{admin_id}/external-patrons",
                         params={"apikey": folio.edge_apikey}, timeout=5)
    assert by_id.status_code == 200
    stranger = requests.get(f"{folio.edge_url}/patron/account/ext-nobody/external-patrons",
                            params={"apikey": folio.edge_apikey}, timeout=5)
    assert stranger.status_code == 404 and stranger.json() == {"code": 404, "errorMessage": "USER_NOT_FOUND"}


def test_edge_post_creates_a_remote_patron_and_echoes_it(folio, edge_form):
    patron = new_patron()
    answer = edge(folio, edge_form, "POST", "", json=patron)
    assert answer.status_code == 201 and answer.json() == patron
    user = next(u for u in folio.users() if u["personal"]["email"] == "pat.morgan@example.com")
    assert (user["type"], user["patronGroup"], user["active"]) == ("patron", REMOTE, True)
    assert user["externalSystemId"] == "ext-lc-000101"
    assert user["preferredEmailCommunication"] == ["Support", "Programs"]
    home = user["personal"]["addresses"][0]
    assert (home["addressLine1"], home["addressLine2"], home["region"], home["postalCode"], home["countryId"]) == (
        "123 Main St", "Apt 4B", "NY", "12345", "USA")
    assert dict(folio.counters.writes) == {user["id"]: 1}


def test_edge_post_refusals_in_order(folio, edge_form):
    cases = {
        shared_email(folio): "MULTIPLE_USER_WITH_EMAIL",
        one_with_email(folio, active=False, remote=False)["personal"]["email"]: "USER_ACCOUNT_INACTIVE",
        one_with_email(folio, active=True, remote=False)["personal"]["email"]: "INVALID_PATRON_GROUP",
        one_with_email(folio, active=True, remote=True)["personal"]["email"]: "USER_ALREADY_EXIST",
    }
    for email, code in cases.items():
        answer = edge(folio, edge_form, "POST", "", json=new_patron(email=email))
        assert (answer.status_code, answer.json()) == (422, {"code": 422, "errorMessage": code})
    broken = new_patron()
    del broken["contactInfo"]["email"]
    answer = edge(folio, edge_form, "POST", "", json=broken)
    assert answer.status_code == 422 and answer.json()["code"] == 422 and "contactInfo.email" in answer.json()["errorMessage"]
    assert not folio.counters.writes


def test_edge_get_by_email(folio, edge_form):
    user = one_with_email(folio, active=True, remote=True)
    answer = edge(folio, edge_form, "GET", f"/by-email/{quote(user['personal']['email'], safe='')}")
    assert answer.status_code == 200
    patron = answer.json()
    assert patron["generalInfo"]["externalSystemId"] == user["externalSystemId"]
    assert patron["contactInfo"]["email"] == user["personal"]["email"]
    assert patron["addressInfo"]["addressLine0"] == user["personal"]["addresses"][0]["addressLine1"]
    missing = edge(folio, edge_form, "GET", "/by-email/nobody%40example.com")
    assert (missing.status_code, missing.json()) == (404, {"code": 404, "errorMessage": "USER_NOT_FOUND"})
    several = edge(folio, edge_form, "GET", f"/by-email/{quote(shared_email(folio), safe='')}")
    assert (several.status_code, several.json()["errorMessage"]) == (422, "MULTIPLE_USER_WITH_EMAIL")


def test_edge_put_by_email_updates_a_remote_patron(folio, edge_form):
    user = one_with_email(folio, active=True, remote=True)
    email = user["personal"]["email"]
    patron = new_patron(email=email, external_id=user["externalSystemId"])
    answer = edge(folio, edge_form, "PUT", f"/by-email/{quote(email, safe='')}", json=patron)
    assert answer.status_code == 204 and answer.content == b""
    assert edge(folio, edge_form, "GET", f"/by-email/{quote(email, safe='')}").json() == patron
    assert dict(folio.counters.writes) == {user["id"]: 1}


def test_edge_put_refusals(folio, edge_form):
    remote = one_with_email(folio, active=True, remote=True)
    campus = one_with_email(folio, active=True, remote=False)
    cases = [
        ("nobody@example.com", new_patron("nobody@example.com"), 404, "USER_NOT_FOUND"),
        (shared_email(folio), new_patron(shared_email(folio)), 422, "MULTIPLE_USER_WITH_EMAIL"),
        (remote["personal"]["email"], new_patron(campus["personal"]["email"]), 422, "EMAIL_ALREADY_EXIST"),
        (campus["personal"]["email"], new_patron(campus["personal"]["email"]), 422, "PATRON_GROUP_NOT_APPLICABLE"),
    ]
    for email, patron, status, code in cases:
        answer = edge(folio, edge_form, "PUT", f"/by-email/{quote(email, safe='')}", json=patron)
        assert (answer.status_code, answer.json()) == (status, {"code": status, "errorMessage": code})
    assert not folio.counters.writes


def test_edge_lists_remote_patrons_and_those_expired_yesterday(folio, edge_form):
    remote = [u for u in folio.users() if u["patronGroup"] == REMOTE]
    yesterday = (NOW - timedelta(days=1)).date()
    expired = {u["externalSystemId"] for u in remote if datetime.fromisoformat(u["expirationDate"]).date() == yesterday}
    assert len(expired) == DOCUMENTED["remote_expired_yesterday"]
    answer = edge(folio, edge_form, "GET", "/external-patrons", params={"apikey": folio.edge_apikey, "expired": "true"}).json()
    assert answer["totalRecords"] == len(expired)
    assert {p["generalInfo"]["externalSystemId"] for p in answer["externalPatrons"]} == expired
    everyone = edge(folio, edge_form, "GET", "/external-patrons").json()
    assert everyone["totalRecords"] == len(remote) == len(everyone["externalPatrons"])
    bad = edge(folio, edge_form, "GET", "/external-patrons", params={"apikey": folio.edge_apikey, "expired": "soon"})
    assert bad.status_code == 400


# -- data, faults, the sandbox ----------------------------------------------------------------------
def test_planted_defects_have_their_documented_counts(folio):
    users = folio.users()
    counts = lower_emails(users)
    remote = [u for u in users if u["patronGroup"] == REMOTE]
    expired = Counter((NOW.date() - datetime.fromisoformat(u["expirationDate"]).date()).days > 1
                      for u in remote if datetime.fromisoformat(u["expirationDate"]) < NOW)
    found = {
        "duplicate_email": sum(1 for u in users if counts[u["personal"]["email"].lower()] > 1),
        "inactive": sum(1 for u in users if not u["active"] and u["patronGroup"] != REMOTE),
        "remote_expired_yesterday": expired[False],
        "remote_expired_earlier": expired[True],
        "expired_but_active": sum(1 for u in users if u["active"] and datetime.fromisoformat(u["expirationDate"]) < NOW),
        "username_whitespace": sum(1 for u in users if u.get("username", "") != u.get("username", "").strip()),
        "inactive_account": sum(1 for u in users if not u["active"]),
        "inactive_with_open_loans": len({loan["userId"] for loan in folio.loans() if loan["status"] == "Open"}
                                        & {u["id"] for u in users if not u["active"]}),
    }
    assert found == DOCUMENTED == folio.planted
    assert all(not u["active"] for u in remote if datetime.fromisoformat(u["expirationDate"]) < NOW)
    assert len(users) == 300


def test_same_seed_same_tenant_other_seed_other_tenant():
    today = NOW.date()
    assert generate(300, seed=1, today=today) == generate(300, seed=1, today=today)
    assert generate(300, seed=1, today=today).users != generate(300, seed=2, today=today).users
    with pytest.raises(ValueError):
        generate(50, today=today)


def test_faults_answer_500_text_on_both_servers(folio, staff, edge_form):
    folio.knobs.fail_next("500", 2)
    gateway = staff.get(f"{folio.gateway_url}/patron/account/{folio.users()[2]['id']}", timeout=5)
    edge_answer = edge(folio, edge_form, "GET", "/external-patrons")
    for answer in (gateway, edge_answer):
        assert answer.status_code == 500 and text_of(answer) == "internal server error, contact administrator"
    assert folio.counters.faults["500"] == 2 and "account" not in folio.counters.actions


def test_sandbox_serves_folio_beside_fsi():
    with Sandbox(sizes={"fsi": 200, "folio": 150}) as sandbox:
        assert {"fsi", "folio"} <= set(sandbox.emulators)  # and every other registered vendor
        assert len(sandbox.folio.users()) == 150
        with login(sandbox.folio) as session:
            assert session.cookies.get("folioAccessToken")


def test_patron_kit_sandbox_command_prints_folio_addresses_and_credentials():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "fsi_patron_kit.cli", "sandbox", "--only", "folio",
                                "--size", "folio=150"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not (lines and lines[-1].lstrip().startswith("seed")):
            lines.append(process.stdout.readline())
        pairs = (line.strip().partition(":") for line in lines if ":" in line)
        value = {label: rest.strip() for label, _, rest in pairs}
        gateway, edge_url = value["gateway url"], value["edge url"]
        assert value["users"] == "150"
        answer = requests.post(gateway + "/authn/login-with-expiry", headers={"X-Okapi-Tenant": value["tenant"]},
                               json={"username": value["username"], "password": value["password"]}, timeout=5)
        assert answer.status_code == 201
        listing = requests.get(f"{edge_url}/patron/account/{value['edge caller']}/external-patrons",
                               params={"apikey": value["edge apikey"]}, timeout=5)
        assert listing.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- the upstream contract --------------------------------------------------------------------------
@pytest.mark.contract
@needs_upstream
def test_answers_conform_to_the_upstream_schemas(folio, staff, edge_form):
    gateway = folio.gateway_url
    user_id = busy_patron(folio)
    user = one_with_email(folio, active=True, remote=True)
    conforms(staff.post(gateway + "/authn/refresh", timeout=5).json(), "mod-login/loginResponseWithExpiry.json")
    conforms(requests.post(gateway + "/authn/login", headers={"X-Okapi-Tenant": "sandbox"}, timeout=5,
                           json={"username": "sandbox_admin", "password": "sandbox-folio-password"}).json(),
             "mod-login/loginResponse.json")
    for every in folio.users():
        conforms(every, "mod-patron/userdata.json")
    conforms(staff.get(f"{gateway}/patron/registration-status/{user['externalSystemId']}", timeout=5).json(),
             "mod-patron/userdata.json")
    account = staff.get(f"{gateway}/patron/account/{user_id}", timeout=5,
                        params={"includeLoans": "true", "includeHolds": "true", "includeCharges": "true"}).json()
    conforms(account, "mod-patron/account.json")
    loan = next(loan for loan in folio.loans() if loan["renewalCount"] == 0)
    conforms(staff.post(f"{gateway}/patron/account/{loan['userId']}/item/{loan['itemId']}/renew", timeout=5).json(),
             "mod-patron/loan.json")
    requester, item = requester_and_lent_item(folio)
    hold = staff.post(f"{gateway}/patron/account/{requester}/item/{item['id']}/hold", json=hold_body(), timeout=5).json()
    conforms(hold, "mod-patron/hold.json")
    cancelled = staff.post(f"{gateway}/patron/account/{requester}/hold/{hold['requestId']}/cancel", timeout=5,
                           json={"cancellationReasonId": PATRON_CANCELLED, "canceledByUserId": requester}).json()
    conforms(cancelled, "mod-patron/hold.json")
    for staging in [staff.post(gateway + "/patron", json=new_staging_user(), timeout=5).json(), *folio.staging_users()]:
        conforms(staging, "mod-patron/staging_userdata.json")
    conforms(staff.post(gateway + "/patron", json={}, timeout=5).json(), "raml-util/schemas/errors.schema")
    conforms(staff.get(f"{gateway}/patron/registration-status/x@example.com", timeout=5).json(),
             "raml-util/schemas/errors.schema")
    conforms(edge(folio, edge_form, "GET", f"/by-email/{quote(user['personal']['email'], safe='')}").json(),
             "edge-patron/external_patron.json")
    conforms(edge(folio, edge_form, "GET", "/external-patrons").json(), "edge-patron/external_patron_collection.json")
    conforms(edge(folio, edge_form, "GET", "/by-email/x%40example.com").json(), "edge-patron/schemas/external_patron_error_404.schema")
    conforms(edge(folio, edge_form, "POST", "", json=new_patron(email=user["personal"]["email"])).json(),
             "edge-patron/schemas/external_patron_error_post_422.schema")


# -- mod-login logout -------------------------------------------------------------------------------
def test_logout_spends_this_devices_refresh_token_and_clears_the_cookies(folio, staff):
    refresh_token = staff.cookies.get("folioRefreshToken")
    answer = staff.post(folio.gateway_url + "/authn/logout", timeout=5)
    assert answer.status_code == 204
    cleared = {c.split("=")[0] for c in answer.raw.headers.getlist("Set-Cookie") if "Max-Age=0" in c}
    assert cleared == {"folioAccessToken", "folioRefreshToken"}
    again = requests.post(folio.gateway_url + "/authn/refresh", headers={"X-Okapi-Tenant": "sandbox"},
                          cookies={"folioRefreshToken": refresh_token}, timeout=5)
    assert again.status_code == 422 and rmb_error(again)["code"] == "token.refresh.unprocessable"
    no_cookie = requests.post(folio.gateway_url + "/authn/logout", headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert no_cookie.status_code == 400
    spent = requests.post(folio.gateway_url + "/authn/logout", headers={"X-Okapi-Tenant": "sandbox"},
                          cookies={"folioRefreshToken": refresh_token}, timeout=5)
    assert spent.status_code == 422


def test_logout_leaves_the_access_token_live_until_it_expires(folio):
    with login(folio) as session:
        access = session.cookies.get("folioAccessToken")
        assert session.post(folio.gateway_url + "/authn/logout", timeout=5).status_code == 204
        account = requests.get(f"{folio.gateway_url}/patron/account/{folio.users()[2]['id']}", timeout=5,
                               headers={"X-Okapi-Tenant": "sandbox", "X-Okapi-Token": access})
        assert account.status_code == 200  # mod-login: access tokens are stateless


def test_logout_all_spends_every_refresh_token_of_the_user(folio):
    with login(folio) as laptop, login(folio) as phone:
        tokens = [laptop.cookies.get("folioRefreshToken"), phone.cookies.get("folioRefreshToken")]
        assert laptop.post(folio.gateway_url + "/authn/logout-all", timeout=5).status_code == 204
        for token in tokens:
            answer = requests.post(folio.gateway_url + "/authn/refresh", headers={"X-Okapi-Tenant": "sandbox"},
                                   cookies={"folioRefreshToken": token}, timeout=5)
            assert answer.status_code == 422
    anonymous = requests.post(folio.gateway_url + "/authn/logout-all", headers={"X-Okapi-Tenant": "sandbox"}, timeout=5)
    assert anonymous.status_code == 401
    assert folio.counters.actions["logout_all"] == 2


# -- today's edge-patron: the mod-patron proxies -----------------------------------------------------
def edge_today(folio: FolioEmulator, method: str, path: str, **options) -> requests.Response:
    options.setdefault("params", {"apikey": folio.edge_apikey})
    return requests.request(method, f"{folio.edge_url}/patron{path}", timeout=5, **options)


def external_id_of(folio: FolioEmulator, user_id: str) -> str:
    return next(u["externalSystemId"] for u in folio.users() if u["id"] == user_id)


def test_edge_account_proxy_answers_what_the_gateway_answers(folio, staff):
    user_id = busy_patron(folio)
    params = {"includeLoans": "true", "includeHolds": "true", "includeCharges": "true", "sortBy": "item.title"}
    direct = staff.get(f"{folio.gateway_url}/patron/account/{user_id}", params=params, timeout=5)
    proxied = edge_today(folio, "GET", f"/account/{external_id_of(folio, user_id)}",
                         params={**params, "apikey": folio.edge_apikey})
    assert proxied.status_code == 200 and proxied.json() == direct.json()
    unknown = edge_today(folio, "GET", "/account/ext-nobody")
    assert unknown.status_code == 404 and text_of(unknown) == "Unable to find patron ext-nobody"
    refused = edge_today(folio, "GET", f"/account/{external_id_of(folio, user_id)}", params={})
    assert refused.status_code == 401


def test_edge_renew_hold_and_cancel_proxies(folio):
    recalled = {r["itemId"] for r in folio.requests() if r["requestType"] == "Recall" and r["status"].startswith("Open")}
    loan = next(loan for loan in folio.loans() if loan["itemId"] not in recalled and loan["renewalCount"] == 0)
    renewed = edge_today(folio, "POST", f"/account/{external_id_of(folio, loan['userId'])}/item/{loan['itemId']}/renew")
    assert renewed.status_code == 201 and renewed.json()["dueDate"] == "2025-04-11T23:59:59.000+00:00"
    requester, item = requester_and_lent_item(folio)
    patron = external_id_of(folio, requester)
    points = edge_today(folio, "GET", f"/account/{patron}/item/{item['id']}/allowed-service-points")
    assert points.status_code == 200 and len(points.json()["allowedServicePoints"]) == 2
    hold = edge_today(folio, "POST", f"/account/{patron}/item/{item['id']}/hold", json=hold_body())
    assert hold.status_code == 201 and hold.json()["status"] == "Open - Not yet filled"
    cancel = {"holdId": hold.json()["requestId"], "cancellationReasonId": PATRON_CANCELLED,
              "canceledByUserId": requester}
    cancelled = edge_today(folio, "POST", f"/account/{patron}/hold/{hold.json()['requestId']}/cancel", json=cancel)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "Closed - Cancelled"
    record = next(r for r in folio.requests() if r["id"] == hold.json()["requestId"])
    assert record["requesterId"] == requester and record["status"] == "Closed - Cancelled"
    assert dict(folio.counters.writes) == {loan["id"]: 1, record["id"]: 2}


def test_edge_registration_status_by_query(folio):
    user = one_with_email(folio, active=True, remote=True)
    by_email = edge_today(folio, "GET", "/registration-status",
                          params={"apikey": folio.edge_apikey, "emailId": user["personal"]["email"].upper()})
    assert by_email.status_code == 200 and by_email.json()["id"] == user["id"]
    by_id = edge_today(folio, "GET", "/registration-status",
                       params={"apikey": folio.edge_apikey, "externalSystemId": user["externalSystemId"]})
    assert by_id.status_code == 200 and by_id.json()["id"] == user["id"]
    several = edge_today(folio, "GET", "/registration-status",
                         params={"apikey": folio.edge_apikey, "emailId": shared_email(folio)})
    assert (several.status_code, several.json()["code"]) == (400, "MULTIPLE_USER_WITH_EMAIL")
    missing = edge_today(folio, "GET", "/registration-status",
                         params={"apikey": folio.edge_apikey, "emailId": "nobody@example.com"})
    assert missing.status_code == 404 and missing.json() == {"code": "USER_NOT_FOUND",
                                                             "errorMessage": "User does not exist"}
    for params in ({}, {"emailId": "a@example.com", "externalSystemId": user["externalSystemId"]}):
        answer = edge_today(folio, "GET", "/registration-status", params={"apikey": folio.edge_apikey, **params})
        assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_IDENTIFIERS")


def test_edge_put_that_changes_the_email_moves_every_lookup(folio, edge_form):
    user = one_with_email(folio, active=True, remote=True)
    old = user["personal"]["email"]
    patron = new_patron(email="moved.patron@example.org", external_id="ext-moved-1")
    assert edge(folio, edge_form, "PUT", f"/by-email/{quote(old, safe='')}", json=patron).status_code == 204
    assert edge(folio, edge_form, "GET", "/by-email/moved.patron%40example.org").json() == patron
    assert edge(folio, edge_form, "GET", f"/by-email/{quote(old, safe='')}").status_code == 404
    listed = edge(folio, edge_form, "GET", "/external-patrons").json()["externalPatrons"]
    assert [p["generalInfo"]["externalSystemId"] for p in listed].count("ext-moved-1") == 1
    with login(folio) as staff:
        status = staff.get(f"{folio.gateway_url}/patron/registration-status/moved.patron@example.org", timeout=5)
        assert status.status_code == 200 and status.json()["id"] == user["id"]
