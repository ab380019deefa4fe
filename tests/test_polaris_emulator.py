"""The Polaris emulator's wire behaviour, spoken to with plain requests: login, PAS header, errors,
patrons, lookups, the registration procedure's own rules, and the planted defects."""

from __future__ import annotations

import base64
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from fsi_patron_kit.sandbox.polaris import PolarisEmulator

NOW = datetime(2026, 3, 14, 15, 30, tzinfo=timezone.utc)
SERVICE = "/Polaris.ApplicationServices/api"
# The documented counts (_data.PLANTED); the tests count them their own way from the patrons.
DOCUMENTED = {"duplicate_name": 6, "invalid_postal_code": 5, "address_empty": 4, "verify_data_block": 5,
              "expired_registration_block": 3, "missing_first_name": 2, "missing_email": 8}
PAS_ERROR_KEYS = {"ErrorCode", "Message", "MessageDetail", "StackTrace", "InnerException", "Data"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def polaris(clock):
    emulator = PolarisEmulator(clock=clock).start()
    yield emulator
    emulator.stop()


def basic(domain: str, user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{domain}\\{user}:{password}".encode()).decode()}


def login(polaris: PolarisEmulator, credentials=None) -> dict:
    c = credentials or polaris.credentials
    answer = requests.post(f"{polaris.url}{SERVICE}/v1/eng/19/authentication/staffuser",
                           headers=basic(c.domain, c.username, c.password), timeout=5)
    assert answer.status_code == 200
    return answer.json()


def pas(grant: dict) -> dict[str, str]:
    return {"Authorization": f"PAS {grant['SiteDomain']}:{grant['AccessToken']}:{grant['AccessSecret']}"}


def scope(polaris: PolarisEmulator, product: int = 20) -> str:
    return f"{polaris.url}{SERVICE}/v1/eng/{product}/polaris/3/1"


# -- staff authentication -----------------------------------------------------------------------------
def test_login_answers_the_documented_fields_with_a_local_expiry(polaris):
    grant = login(polaris)
    assert {"SiteDomain", "UserDomain", "AccessToken", "AccessSecret", "AuthExpDate", "PolarisUser",
            "ERMSNetworkAddress", "DataSource"} <= set(grant)
    assert grant["SiteDomain"] == "polaris" and grant["PolarisUser"]["PolarisUserID"] == 1
    expected = (NOW + timedelta(seconds=polaris.knobs.token_lifetime)).astimezone(ZoneInfo(polaris.site_timezone))
    assert grant["AuthExpDate"] == expected.replace(tzinfo=None).isoformat(timespec="milliseconds")


@pytest.mark.parametrize("headers", [
    basic("SANDBOX", "staff_admin", "wrong"), basic("OTHER", "staff_admin", "sandbox-polaris-password"),
    basic("SANDBOX", "nobody", "x"), {"Authorization": "Bearer abc"}, {}, {"Authorization": "Basic !!!"},
], ids=["password", "domain", "user", "scheme", "none", "not-base64"])
def test_a_refused_login_is_a_401_with_an_empty_body(polaris, headers):
    answer = requests.post(f"{polaris.url}{SERVICE}/v1/eng/19/authentication/staffuser", headers=headers, timeout=5)
    assert answer.status_code == 401 and answer.content == b""


def test_a_login_with_a_body_is_refused_as_peers_found(polaris):
    c = polaris.credentials
    answer = requests.post(f"{polaris.url}{SERVICE}/v1/eng/19/authentication/staffuser", json={},
                           headers=basic(c.domain, c.username, c.password), timeout=5)
    assert answer.status_code == 400 and set(answer.json()) == PAS_ERROR_KEYS


def test_the_pas_header_opens_patron_routes_until_the_token_expires(polaris, clock):
    grant = login(polaris)
    patron = polaris.examples["clean"]
    assert requests.get(f"{scope(polaris)}/patrons/{patron}", headers=pas(grant), timeout=5).status_code == 200
    clock.now += polaris.knobs.token_lifetime
    expired = requests.get(f"{scope(polaris)}/patrons/{patron}", headers=pas(grant), timeout=5)
    assert expired.status_code == 401 and expired.content == b""


@pytest.mark.parametrize("header", ["PAS polaris:{t}:wrong", "PAS other:{t}:{s}", "PWS polaris:{t}:{s}", "PAS {t}"])
def test_a_wrong_pas_header_is_a_401(polaris, header):
    grant = login(polaris)
    value = header.format(t=grant["AccessToken"], s=grant["AccessSecret"])
    answer = requests.get(f"{scope(polaris)}/patrons/{polaris.examples['clean']}", headers={"Authorization": value},
                          timeout=5)
    assert answer.status_code == 401 and answer.content == b""


def test_the_route_site_domain_must_match(polaris):
    grant = login(polaris)
    answer = requests.get(f"{polaris.url}{SERVICE}/v1/eng/19/other/3/1/patrons/{polaris.examples['clean']}",
                          headers=pas(grant), timeout=5)
    assert answer.status_code == 401


@pytest.mark.parametrize("path, status", [("/v1/xxx/19/polaris/3/1/patrons/1", 404),
                                          ("/v1/eng/99/polaris/3/1/patrons/1", 404),
                                          ("/v1/eng/19/polaris/777/1/patrons/1", 400),
                                          ("/v1/eng/19/polaris/3/ws/patrons/1", 400),
                                          ("/v1/eng/19/polaris/3/1/nothing", 404)])
def test_route_errors_are_pas_error_bodies(polaris, path, status):
    answer = requests.get(f"{polaris.url}{SERVICE}{path}", headers=pas(login(polaris)), timeout=5)
    assert answer.status_code == status and set(answer.json()) == PAS_ERROR_KEYS


def test_service_status(polaris):
    answer = requests.get(polaris.url + SERVICE, timeout=5).json()
    assert {"ServiceName", "Version", "Major", "Minor", "Build", "Revision", "Patches"} == set(answer)


# -- patrons and lookups --------------------------------------------------------------------------------
def test_get_patron_and_its_errors(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["clean"]
    answer = requests.get(f"{scope(polaris)}/patrons/{patron_id}", params={"basicdata": "1"}, headers=headers,
                          timeout=5).json()
    assert answer["PatronID"] == patron_id and answer["Registration"]["PrivateFieldsCleared"] is False
    missing = requests.get(f"{scope(polaris)}/patrons/999", headers=headers, timeout=5)
    assert missing.status_code == 404 and missing.json()["ErrorCode"] == 60021
    bad_flag = requests.get(f"{scope(polaris)}/patrons/{patron_id}", params={"basicdata": "yes"}, headers=headers,
                            timeout=5)
    assert bad_flag.status_code == 400


def test_without_registration_access_private_fields_are_cleared(polaris):
    headers = pas(login(polaris, polaris.clerk_credentials))
    patron_id = polaris.examples["clean"]
    registration = requests.get(f"{scope(polaris)}/patrons/{patron_id}", headers=headers, timeout=5).json()[
        "Registration"]
    stored = polaris.patron(patron_id)["Registration"]
    assert registration["PrivateFieldsCleared"] is True
    assert registration["Addresses"] == [] and stored["Addresses"]
    assert registration["PhoneVoice1"] == "" and stored["PhoneVoice1"]
    assert registration["NameLast"] == stored["NameLast"]


def test_barcode_to_id_and_back(polaris):
    headers = pas(login(polaris))
    patron = polaris.patron(polaris.examples["clean"])
    by_id = requests.get(f"{scope(polaris)}/ids/patrons", params={"id": patron["Barcode"], "type": "barcode"},
                         headers=headers, timeout=5)
    assert by_id.text == str(patron["PatronID"])  # a bare JSON number
    postman = requests.get(f"{scope(polaris)}/ids/patrons", params={"barcode": patron["Barcode"], "type": "barcode"},
                           headers=headers, timeout=5)
    assert postman.json() == patron["PatronID"]
    barcode = requests.get(f"{scope(polaris)}/barcodes/patrons/{patron['PatronID']}", headers=headers, timeout=5)
    assert barcode.text == f'"{patron["Barcode"]}"'  # a quoted JSON string
    assert requests.get(f"{scope(polaris)}/ids/patrons", params={"id": "nope", "type": "barcode"}, headers=headers,
                        timeout=5).status_code == 404
    assert requests.get(f"{scope(polaris)}/ids/patrons", params={"id": "x"}, headers=headers,
                        timeout=5).status_code == 400


# -- the registration procedure's own rules -------------------------------------------------------------
def update_body(polaris, patron_id: int, **top) -> dict:
    patron = polaris.patron(patron_id)
    body = {k: patron[k] for k in ("PatronID", "PatronCodeID", "OrganizationID", "Barcode")}
    body["Registration"] = patron["Registration"]
    body.update(top)
    return body


def put(polaris, headers, patron_id, body) -> dict:
    answer = requests.put(f"{scope(polaris)}/patrons/{patron_id}", json=body, headers=headers, timeout=5)
    assert answer.status_code == 200
    return answer.json()


def test_ints_as_strings_and_the_documents_dates_are_read(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["clean"]
    body = update_body(polaris, patron_id, ProcedureStep="1", Answer="0", PatronCodeID="1", OrganizationID=3)
    body["Registration"] = {**body["Registration"], "RegistrationDate": "4/11/2013"}
    assert put(polaris, headers, patron_id, body)["PAPIReturnCode"] == 0
    assert polaris.counters.writes[str(patron_id)] == 1


def test_a_property_of_the_wrong_type_is_a_400_naming_it(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["clean"]
    body = update_body(polaris, patron_id, ProcedureStep=1)
    body["Registration"] = {**body["Registration"], "Gender": "female"}
    answer = requests.put(f"{scope(polaris)}/patrons/{patron_id}", json=body, headers=headers, timeout=5)
    assert answer.status_code == 400 and "Registration.Gender" in answer.json()["MessageDetail"]


def test_a_reply_must_echo_the_step_last_prompted(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["duplicate_name"]
    assert put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=1))["PAPIProcedureStep"] == 16
    # The document's prose says to reply with step 2; this sandbox reads the field description (echo 16).
    wrong = put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=2, Answer=1))
    assert (wrong["PAPIReturnCode"], wrong["PAPIStopType"]) == (-3504, 2)
    assert polaris.counters.writes[str(patron_id)] == 0


def test_the_reply_example_with_step_1_starts_over(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["duplicate_name"]
    put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=1))
    again = put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=1, Answer=1))
    assert again["PAPIProcedureStep"] == 16 and again["PAPIReturnCode"] == -3608


def test_an_answer_the_prompt_does_not_offer_is_refused(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["duplicate_name"]
    put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=1))
    refused = put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=16, Answer=2))  # OK
    assert refused["PAPIReturnCode"] == -3505
    assert polaris.counters.writes[str(patron_id)] == 0


def test_the_duplicate_prompt_matches_the_documents_example(polaris):
    headers = pas(login(polaris))
    patron_id = polaris.examples["duplicate_name"]
    answer = put(polaris, headers, patron_id, update_body(polaris, patron_id, ProcedureStep=1))
    assert {k: answer[k] for k in ("PAPIProcedureStep", "PAPIAction", "PAPIPromptType", "PAPIStopType",
                                   "PAPIReturnCode", "Success", "Message")} == {
        "PAPIProcedureStep": 16, "PAPIAction": 1, "PAPIPromptType": 4, "PAPIStopType": 0, "PAPIReturnCode": -3608,
        "Success": False, "Message": "Duplicate patrons are found, Do you want to continue?"}
    assert {p["Name"] for p in answer["DuplicatePatronDisplayProperties"]} <= set(answer["DuplicatePatrons"][0])


# -- planted defects ------------------------------------------------------------------------------------
def test_planted_defects_have_their_documented_counts(polaris):
    assert polaris.planted == DOCUMENTED
    patrons = polaris.patrons()
    names = Counter((p["Registration"]["NameFirst"], p["Registration"]["NameLast"]) for p in patrons)
    found = {
        "duplicate_name": sum(n for name, n in names.items() if n > 1 and name[0]),
        "invalid_postal_code": sum(any(not re.fullmatch(r"\d{5}(-\d{4})?", a["PostalCode"])
                                       for a in p["Registration"]["Addresses"]) for p in patrons),
        "address_empty": sum(not p["Registration"]["Addresses"] for p in patrons),
        "verify_data_block": sum(3 in polaris.blocks(p["PatronID"]) for p in patrons),
        "expired_registration_block": sum(100 in polaris.blocks(p["PatronID"]) for p in patrons),
        "missing_first_name": sum(not p["Registration"]["NameFirst"] for p in patrons),
        "missing_email": sum(p["Registration"]["EmailAddress"] is None for p in patrons),
    }
    assert found == DOCUMENTED


def test_the_same_seed_gives_the_same_system():
    at = Clock()
    first, second = PolarisEmulator(seed=5, clock=at), PolarisEmulator(seed=5, clock=at)
    assert first.patrons() == second.patrons() and first.examples == second.examples
    assert PolarisEmulator(seed=6, clock=at).patrons() != first.patrons()
