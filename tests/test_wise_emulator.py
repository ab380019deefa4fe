"""The Wise emulator spoken to with plain requests: the WISE_KEY recomputed from what it receives,
end-of-day tokens, permissions, data and planted defects."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from fsi_patron_kit.sandbox.wise import ServerClock, WiseEmulator, for_sandbox
from fsi_patron_kit.sandbox.wise.data import generate

# The documented counts (docs/vendors/wise.md); the test counts them its own way from the records.
DOCUMENTED = {"username_leading_space": 5, "shared_email": 6, "expired_unblocked": 7, "malformed_zipcode": 4}
DUTCH_ZIP = re.compile(r"^\d{4} [A-Z]{2}$")
# 2026-03-14 22:30 UTC is 23:30 in Amsterdam (CET): local midnight comes before UTC midnight.
EVENING = datetime(2026, 3, 14, 22, 30, tzinfo=timezone.utc)


def key_for(emulator: WiseEmulator, moment: datetime, *, api_key: str | None = None) -> str:
    """The document's formula, written out here: API-ID, then hex HMAC-SHA256 of the epoch day + name."""
    app = emulator.application
    day = int(moment.timestamp() // 86400)
    digest = hmac.new((api_key or app.api_key).encode(), f"{day}{app.application_name}".encode(),
                      hashlib.sha256).hexdigest()
    return f"{app.api_id}:{digest}"


@pytest.fixture
def clock():
    moved = ServerClock()
    moved.set(EVENING)
    return moved


@pytest.fixture
def wise(clock):
    emulator = WiseEmulator(patrons=200, clock=clock).start()
    yield emulator
    emulator.stop()


def login(wise: WiseEmulator, at: datetime, account=None) -> str:
    account = account or wise.staff
    answer = requests.post(wise.url + "/login", json={"username": account.username, "password": account.password},
                           headers={"WISE_KEY": key_for(wise, at)}, timeout=5)
    assert answer.status_code == 200
    return answer.json()["token"]


def get(wise: WiseEmulator, path: str, at: datetime, **headers: str) -> requests.Response:
    return requests.get(wise.url + path, headers={"WISE_KEY": key_for(wise, at), **headers}, timeout=5)


# -- WISE_KEY --------------------------------------------------------------------------------------
def test_key_is_recomputed_from_the_header_received(wise):
    card = wise.showcase["member"]["card_number"]
    path = f"/patron/cardnumber/{card}/library/I018"
    assert get(wise, path, EVENING).status_code == 200
    missing = requests.get(wise.url + path, timeout=5)
    assert (missing.status_code, missing.json()["message"]) == (403, "Missing WISE_KEY header")
    wrong = requests.get(wise.url + path, headers={"WISE_KEY": key_for(wise, EVENING, api_key="not-the-key")},
                         timeout=5)
    stale = get(wise, path, EVENING - timedelta(days=1))
    good = key_for(wise, EVENING)
    tampered_digest = good[:-1] + ("0" if good[-1] != "0" else "1")
    tampered_id = "OTHERAPP01:" + good.partition(":")[2]
    for refused in (wrong, stale, *(requests.get(wise.url + path, headers={"WISE_KEY": value}, timeout=5)
                                    for value in (tampered_digest, tampered_id, good.upper(), good + " "))):
        assert (refused.status_code, refused.json()["message"]) == (403, "Invalid WISE_KEY")


def test_key_changes_at_utc_midnight_not_before(wise, clock):
    clock.set(datetime(2026, 3, 14, 23, 59, 59, tzinfo=timezone.utc))
    path = "/subscription/R/instance/I018/field"
    before = datetime(2026, 3, 14, 12, tzinfo=timezone.utc)
    after = datetime(2026, 3, 15, 0, 0, 1, tzinfo=timezone.utc)
    assert get(wise, path, before).status_code == 200
    clock.shift(2)
    assert get(wise, path, before).status_code == 403
    assert get(wise, path, after).status_code == 200


# -- tokens ------------------------------------------------------------------------------------------
def test_a_token_works_until_the_end_of_the_server_day_then_401(wise, clock):
    token = login(wise, EVENING)
    path = "/library/I018/patron?limit=1"
    assert get(wise, path, EVENING, Authorization=token).status_code == 200
    clock.set(datetime(2026, 3, 14, 22, 59, 58, tzinfo=timezone.utc))  # 23:59:58 in Amsterdam
    assert get(wise, path, EVENING, Authorization=token).status_code == 200
    clock.shift(3)  # 00:00:01 in Amsterdam, still 14 March in UTC: the same WISE_KEY day
    expired = get(wise, path, EVENING, Authorization=token)
    assert (expired.status_code, expired.json()["message"]) == (401, "Token is expired or invalid")
    fresh = login(wise, EVENING)
    assert get(wise, path, EVENING, Authorization=fresh).status_code == 200


def test_no_token_bearer_scheme_and_unknown_tokens_are_401(wise):
    path = "/library/I018/patron"
    none = get(wise, path, EVENING)
    assert (none.status_code, none.json()["message"]) == (401, "Full authentication is required to access this resource")
    token = login(wise, EVENING)
    for sent in (f"Bearer {token}", "not-a-token"):
        assert get(wise, path, EVENING, Authorization=sent).status_code == 401


def test_permissions_and_token_kinds(wise):
    reader = login(wise, EVENING, wise.reader)
    payment = login(wise, EVENING, wise.payment)
    member = wise.showcase["member"]
    assert get(wise, "/library/I018/patron?limit=1", EVENING, Authorization=reader).status_code == 200
    external = requests.post(wise.url + "/patron/external/library/I018", json={"lastName": "X"},
                             headers={"WISE_KEY": key_for(wise, EVENING), "Authorization": reader}, timeout=5)
    assert (external.status_code, external.json()["message"]) == (403, "Access is denied")
    info = f"/patron/{member['patron_system_id']}/library/I018/patroninformation"
    staff_token = login(wise, EVENING)
    for token in (staff_token, payment):
        assert get(wise, info, EVENING, Authorization=token).status_code == 403
    assert get(wise, "/library/I018/patron", EVENING, Authorization=payment).status_code == 403


def test_wrong_login_and_bad_bodies(wise):
    headers = {"WISE_KEY": key_for(wise, EVENING)}
    wrong = requests.post(wise.url + "/login", json={"username": "kit_api", "password": "nope"}, headers=headers,
                          timeout=5)
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Invalid username or password")
    empty = requests.post(wise.url + "/login", json={}, headers=headers, timeout=5)
    assert empty.status_code == 400
    assert [(e["field"], e["code"]) for e in empty.json()["validationErrors"]] == [
        ("username", "REQUIRED"), ("password", "REQUIRED")]
    not_json = requests.post(wise.url + "/login", data=b"x", headers=headers, timeout=5)
    assert not_json.status_code == 400
    unknown = requests.get(wise.url + "/nothing", headers=headers, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["error"] == "Not Found"
    method = requests.delete(wise.url + "/login", headers=headers, timeout=5)
    assert method.status_code == 405


def test_card_lookup_limits(wise):
    token = login(wise, EVENING)
    for query in ("limit=0", "limit=101", "offset=-1", "limit=ten"):
        refused = get(wise, f"/library/I018/patron?{query}", EVENING, Authorization=token)
        assert refused.status_code == 400
        assert refused.json()["validationErrors"][0]["code"] == "INVALID_VALUE"


def test_patron_authentication_sample_shape(wise):
    """The document's sample answer: id, validationErrors, libraryId, patronSystemId, expiry, token, username."""
    member = wise.showcase["member"]
    answer = requests.post(wise.url + "/patron/authentication/library/I018",
                           json={"username": member["card_number"], "password": member["password"]},
                           headers={"WISE_KEY": key_for(wise, EVENING)}, timeout=5).json()
    assert set(answer) == {"id", "validationErrors", "libraryId", "patronSystemId", "membershipExpiryDate", "token",
                           "username"}
    assert answer["libraryId"] == "I018" and re.fullmatch(r"[0-9a-f]{32}", answer["patronSystemId"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer["membershipExpiryDate"])


# -- data -------------------------------------------------------------------------------------------
def test_same_seed_same_data_other_seed_other_data():
    day = date(2026, 3, 14)
    assert generate(200, seed=1, today=day) == generate(200, seed=1, today=day)
    assert generate(200, seed=1, today=day) != generate(200, seed=2, today=day)
    with pytest.raises(ValueError):
        generate(50, today=day)


def test_planted_defects_have_their_documented_counts(wise, clock):
    patrons = wise.patrons()
    today = clock.today()
    emails = Counter(p["emailAddress"] for p in patrons)
    found = {
        "username_leading_space": sum(p["username"].startswith(" ") for p in patrons),
        "shared_email": sum(emails[p["emailAddress"]] > 1 for p in patrons),
        "expired_unblocked": sum(all(m["end"] < today for m in p["memberships"]) and not any(
            b.get("generalBlock") for b in p["blocks"].values()) for p in patrons),
        "malformed_zipcode": sum(not DUTCH_ZIP.match(p["addresses"][0]["zipCode"]) for p in patrons),
    }
    assert found == DOCUMENTED == wise.planted


def test_libraries_branches_and_cards_look_dutch(wise):
    patrons = wise.patrons()
    assert {p["homeLibrary"] for p in patrons} == {"I018", "I304", "I410"}
    cards = [c["cardNumber"] for p in patrons for c in p["libraryCards"]]
    assert len(set(cards)) == len(cards) and all(re.fullmatch(r"2X\d{12}", c) for c in cards)
    assert all(p["gender"] in ("FEMALE", "MALE") for p in patrons)


def test_factory_and_banner():
    emulator = for_sandbox(size=150, seed=3, latency=0.0)
    assert len(emulator.patrons()) == 150
    with emulator:
        lines = dict(emulator.banner())
        assert lines["url"] == emulator.url and emulator.url.endswith("/restapi") and lines["patrons"] == "150"
        assert "I304 Bibliotheek Drenthe (VWIZBET off)" in lines["libraries"]


# -- the server's own checks (the client refuses these before sending, so they are spoken to here) --
def post(wise: WiseEmulator, path: str, body, at: datetime = EVENING, **headers: str) -> requests.Response:
    return requests.post(wise.url + path, json=body, headers={"WISE_KEY": key_for(wise, at), **headers}, timeout=5)


SUBSCRIPTION = {"lastName": "Testuser", "dateOfBirth": "1980-01-01", "gender": "MALE", "homeBranch": "9042",
                "addresses": [{"street": "Machlaan", "houseNumber": "5", "zipCode": "8102 TK", "city": "Raalte",
                               "type": "H"}],
                "emailAddress": "t@example.org", "username": "t.tester", "password": "x-123456",
                "futureSubscriptionId": 45, "acceptedTermsAndAgreement": "true"}


def test_subscribe_lists_every_problem_with_field_and_code(wise):
    body = {**SUBSCRIPTION, "gender": "OTHER", "dateOfBirth": "01-01-1980", "emailAddress": "t@",
            "addresses": [{"street": "", "houseNumber": "5b", "zipCode": "8102 TK", "city": "Raalte", "type": "P"}],
            "identificationNumber": {"identificationType": "BSN", "identificationNumber": "123"},
            "acceptedTermsAndAgreement": "false", "futureSubscriptionId": ""}
    answer = post(wise, "/library/I018/patron", body)
    assert answer.status_code == 400
    found = {(e["field"], e["code"]) for e in answer.json()["validationErrors"]}
    assert found == {("dateOfBirth", "INVALID_FORMAT"), ("addresses[0].street", "REQUIRED"),
                     ("addresses[0].houseNumber", "INVALID_FORMAT"), ("emailAddress", "INVALID_FORMAT"),
                     ("gender", "INVALID_VALUE"), ("addresses[0].type", "INVALID_VALUE"),
                     ("identificationNumber.identificationType", "INVALID_VALUE"),
                     ("acceptedTermsAndAgreement", "REQUIRED"), ("futureSubscriptionId", "REQUIRED")}
    assert answer.json()["lastName"] == "Testuser"  # the DTO is echoed with its problems
    ok = post(wise, "/library/I018/patron", SUBSCRIPTION)
    assert ok.status_code == 200 and ok.json()["subscriptionStatus"] == "INVOICE"


def test_resubscribe_needs_the_patron_system_id_in_the_body(wise):
    ending = wise.showcase["ending"]
    token = post(wise, "/patron/authentication/", {"username": ending["username"], "password": ending["password"]}
                 ).json()["token"]
    body = {**SUBSCRIPTION, "homeBranch": "3041", "phoneNumber": "0612345678", "subscriptionId": 320,
            "username": ending["username"], "addresses": [{**SUBSCRIPTION["addresses"][0], "zipCode": "9761 AB"}]}
    body.pop("futureSubscriptionId")
    path = f"/library/I304/patron/{ending['patron_system_id']}"
    refused = requests.put(wise.url + path, json=body, headers={"WISE_KEY": key_for(wise, EVENING),
                                                                "Authorization": token}, timeout=5)
    assert [(e["field"], e["code"]) for e in refused.json()["validationErrors"]] == [("patronSystemId", "REQUIRED")]
    accepted = requests.put(wise.url + path, json={**body, "patronSystemId": ending["patron_system_id"]},
                            headers={"WISE_KEY": key_for(wise, EVENING), "Authorization": token}, timeout=5)
    assert accepted.status_code == 200 and accepted.json()["subscriptionStatus"] == "BASKET"


def test_lists_need_a_date_and_the_duplicate_check_reads_the_query_too(wise):
    token = login(wise, EVENING)
    for query in ("", "?date=2026-3-1", "?date=yesterday"):
        refused = get(wise, f"/patronmanagement/patron/library/I018/updatedpatron{query}", EVENING,
                      Authorization=token)
        assert refused.status_code == 400 and refused.json()["validationErrors"][0]["field"] == "date"
    member = next(p for p in wise.patrons() if p["patronSystemId"] == wise.showcase["member"]["patron_system_id"])
    by_query = requests.post(wise.url + "/patronmanagement/duplicate", params={
        "searchValue": member["eid"], "searchType": "EID"}, headers={"WISE_KEY": key_for(wise, EVENING),
                                                                     "Authorization": token}, timeout=5)
    assert [p["patronSystemId"] for p in by_query.json()] == [member["patronSystemId"]]
    wrong = post(wise, "/patronmanagement/duplicate", {"searchValue": "x", "searchType": "NAME"},
                 Authorization=token)
    assert [(e["field"], e["code"]) for e in wrong.json()["validationErrors"]] == [("searchType", "INVALID_VALUE")]


def test_offers_list_every_problem(wise):
    answer = get(wise, "/library/I018/subscription?branchId=3041&dateOfBirth=1980&gender=X&patronSystemId=nobody",
                 EVENING)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["validationErrors"]] == ["branchId", "dateOfBirth", "gender",
                                                                       "patronSystemId"]


def test_patron_authentication_with_or_without_the_trailing_slash(wise):
    member = wise.showcase["member"]
    for path in ("/patron/authentication/", "/patron/authentication"):
        answer = post(wise, path, {"username": member["username"], "password": member["password"]})
        assert answer.status_code == 200 and answer.json()["patronSystemId"] == member["patron_system_id"]
