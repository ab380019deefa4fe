"""Every rule of document 004's tables refused before anything is sent, naming the field and the rule."""

from __future__ import annotations

import pytest

from fsi_patron_kit import ConfigError, InputError
from fsi_patron_kit.polaris import InvalidRegistration, PatronAddress, Pay

from .conftest import make_polaris_client

ADDRESS = {"address_type_id": 1, "address_label_id": 1, "street_one": "1 Main Ave", "postal_code": "12010",
           "city": "AMSTERDAM", "state": "NY", "country_name": "USA"}


def address(**changes):
    return {**ADDRESS, **changes}


def without(name):
    return {k: v for k, v in ADDRESS.items() if k != name}


# (changes, field, words of the rule): the document's Required, Nullable and Type columns
CASES = [
    ({"name_last": None}, "name_last", "is required"),
    ({"name_last": "  "}, "name_last", "must not be blank"),
    ({"name_last": 7}, "name_last", "must be a string"),
    ({"name_first": 7}, "name_first", "must be a string"),
    ({"patron_code_id": None}, "patron_code_id", "is required"),
    ({"patron_code_id": "1"}, "patron_code_id", "must be an integer"),
    ({"organization_id": None}, "organization_id", "is required"),
    ({"organization_id": 3.0}, "organization_id", "must be an integer"),
    ({"barcode": None}, "barcode", "is required"),
    ({"barcode": 21756}, "barcode", "must be a string"),
    ({"gender": "female"}, "gender", "must be an integer"),
    ({"language_id": True}, "language_id", "must be an integer"),
    ({"txt_phone_number": 256}, "txt_phone_number", "from 0 to 255"),
    ({"reading_list_enabled": "yes"}, "reading_list_enabled", "True or False"),
    ({"birthdate": "last spring"}, "birthdate", "ISO-8601"),
    ({"expiration_date": 20301231}, "expiration_date", "ISO-8601"),
    ({"exclude_from_almost_overdue_auto_renew": None}, "exclude_from_almost_overdue_auto_renew", "is required"),
    ({"exclude_from_patron_rec_expiration": None}, "exclude_from_patron_rec_expiration", "is required"),
    ({"exclude_from_inactive_patron": None}, "exclude_from_inactive_patron", "is required"),
    ({"staff_accepted_use_single_name": None}, "staff_accepted_use_single_name", "is required"),
    ({"email_address": "ada@@example"}, "email_address", "valid email"),
    ({"alt_email_address": "nope"}, "alt_email_address", "valid email"),
    ({"password": ""}, "password", "non-empty string"),
    ({"nickname": "Ada"}, "nickname", "not a field"),
    ({"patron_id": 5}, "patron_id", "not a field"),
    ({"private_fields_cleared": True}, "private_fields_cleared", "not a field"),
    ({"addresses": "1 Main Ave"}, "addresses", "must be a list"),
    ({"addresses": ["1 Main Ave"]}, "addresses[0]", "must be a PatronAddress or a mapping"),
    ({"addresses": [address(floor=2)]}, "addresses[0].floor", "not a PatronAddress field"),
    ({"addresses": [without("street_one")]}, "addresses[0].street_one", "is required"),
    ({"addresses": [without("postal_code")]}, "addresses[0].postal_code", "is required"),
    ({"addresses": [without("city")]}, "addresses[0].city", "is required"),
    ({"addresses": [without("state")]}, "addresses[0].state", "is required"),
    ({"addresses": [without("country_name")]}, "addresses[0].country_name", "is required"),
    ({"addresses": [without("address_type_id")]}, "addresses[0].address_type_id", "is required"),
    ({"addresses": [without("address_label_id")]}, "addresses[0].address_label_id",
     "unless address_label_description"),
    ({"addresses": [address(verified="yes")]}, "addresses[0].verified", "True or False"),
    ({"addresses": [PatronAddress(**address(postal_code=12010))]}, "addresses[0].postal_code", "must be a string"),
]


@pytest.fixture
def quiet(polaris_emulator):
    """Asserts that the test sent nothing at all to the emulator."""
    before = polaris_emulator.counters.requests
    yield
    assert polaris_emulator.counters.requests == before


@pytest.mark.parametrize("changes, field, rule", CASES, ids=[f"{c[1]}:{c[2]}" for c in CASES])
def test_each_rule(polaris_emulator, polaris_client, quiet, changes, field, rule):
    with pytest.raises(InputError) as caught:
        polaris_client.update_registration(polaris_emulator.examples["clean"], changes)
    assert caught.value.field == field
    assert rule in caught.value.rule


def test_every_problem_is_reported_at_once(polaris_emulator, polaris_client, quiet):
    with pytest.raises(InvalidRegistration) as caught:
        polaris_client.update_registration(polaris_emulator.examples["clean"], {
            "name_last": None, "gender": "x", "addresses": [without("city")], "email_address": "bad"})
    assert [field for field, _ in caught.value.problems] == ["name_last", "gender", "addresses[0].city",
                                                              "email_address"]
    assert "addresses[0].city: is required" in str(caught.value)


def test_a_label_description_stands_in_for_the_label_id(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    label = {k: v for k, v in ADDRESS.items() if k != "address_label_id"}
    conversation = polaris_client.update_registration(patron_id, {
        "addresses": [{**label, "address_label_description": "Home"}]})
    assert conversation.outcome == "completed"


@pytest.mark.parametrize("arguments, field", [
    ({"patron_id": 0}, "patron_id"), ({"patron_id": "100001"}, "patron_id"), ({"patron_id": True}, "patron_id"),
    ({"changes": [("name_last", "X")]}, "changes"), ({"max_rounds": 0}, "max_rounds"),
    ({"dry_run": "yes"}, "dry_run"), ({"answers": "please"}, "answers"), ({"answers": 3}, "answers"),
    ({"answers": {"Nope": "Yes"}}, "answers"), ({"answers": {16: "Maybe"}}, "answers[16]"),
    ({"answers": {16.0: "Yes"}}, "answers"),
])
def test_call_arguments(polaris_emulator, polaris_client, quiet, arguments, field):
    call = {"patron_id": polaris_emulator.examples["clean"], "changes": {"name_middle": "Q"}, **arguments}
    with pytest.raises(InputError) as caught:
        polaris_client.update_registration(call.pop("patron_id"), call.pop("changes"), **call)
    assert caught.value.field == field


@pytest.mark.parametrize("arguments, field", [
    ({"txn_code": "2"}, "txn_code"), ({"txn_code": 2, "payment_method": 1.5}, "payment_method"),
    ({"txn_code": 2, "amount": -1}, "amount"), ({"txn_code": 2, "amount": True}, "amount"),
    ({"txn_code": 2, "return_receipt_url": "yes"}, "return_receipt_url"),
])
def test_payment_rules(arguments, field):
    with pytest.raises(InputError) as caught:
        Pay(**arguments)
    assert caught.value.field == field


@pytest.mark.parametrize("call, field", [
    (lambda c: c.get_patron("100001"), "patron_id"), (lambda c: c.get_patron(100001, basicdata=1), "basicdata"),
    (lambda c: c.get_patron(100001, regpermissionpriority="true"), "regpermissionpriority"),
    (lambda c: c.patron_id_for_barcode(""), "barcode"), (lambda c: c.barcode_for_patron_id(-4), "patron_id"),
])
def test_companion_arguments(polaris_client, quiet, call, field):
    with pytest.raises(InputError) as caught:
        call(polaris_client)
    assert caught.value.field == field


@pytest.mark.parametrize("setting, value", [("product_id", "19"), ("org_id", 0), ("workstation_id", True),
                                            ("lang", ""), ("site_domain", None), ("domain", " "),
                                            ("site_timezone", "Mars/Olympus_Mons")])
def test_settings(polaris_emulator, setting, value):
    with pytest.raises(InputError) as caught:
        make_polaris_client(polaris_emulator, **{setting: value})
    assert caught.value.field == setting
    assert isinstance(caught.value, ConfigError) or setting != "site_timezone"
