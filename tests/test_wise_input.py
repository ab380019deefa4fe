"""Every input rule of the Wise document refused before sending, naming the field and the rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fsi_patron_kit import InputError, Secret
from fsi_patron_kit.wise import Applicant, ExternalCustomer, InputProblems, PatronLogin

from .test_wise_client import NEW

PSID = "0123456789abcdef0123456789abcdef"
LOGIN = PatronLogin(library_id="I018", patron_system_id=PSID, token=Secret("tok-1234"))
MANDATORY = {"street": "STREET", "city": "CITY", "last_name": "LAST_NAME", "date_of_birth": "DATE_OF_BIRTH",
             "house_number": "HOUSE_NUMBER", "home_branch": "HOME_BRANCH", "username": "USERNAME",
             "password": "PASSWORD", "zip_code": "ZIPCODE", "gender": "GENDER", "email_address": "EMAIL_ADDRESS"}


@pytest.fixture
def quiet(wise_emulator):
    """Asserts that the test sent nothing at all to the emulator."""
    before = wise_emulator.counters.requests
    yield
    assert wise_emulator.counters.requests == before


def both_subscribe_calls(client, applicant):
    return (lambda: client.subscribe(library_id="I018", applicant=applicant, subscription_id=45),
            lambda: client.resubscribe(library_id="I018", login=LOGIN, applicant=applicant, subscription_id=45),
            lambda: client.register(library_id="I018", applicant=applicant))


@pytest.mark.parametrize("attribute", list(MANDATORY))
def test_each_mandatory_subscription_field(wise_client, quiet, attribute):
    for call in both_subscribe_calls(wise_client, Applicant(**{**NEW, attribute: ""})):
        with pytest.raises(InputError) as caught:
            call()
        assert (caught.value.field, caught.value.rule) == (attribute, f"is required ({MANDATORY[attribute]})")


def test_every_problem_is_reported_at_once(wise_client, quiet):
    person = Applicant(**{**NEW, "street": "", "city": " ", "gender": "X", "email_address": "no-at-sign"})
    with pytest.raises(InputProblems) as caught:
        wise_client.subscribe(library_id="I018", applicant=person, subscription_id=45)
    assert [field for field, _ in caught.value.problems] == ["street", "city", "gender", "email_address"]
    assert caught.value.field == "street" and "city" in str(caught.value)


TOMORROW = date.today() + timedelta(days=2)
APPLICANT_RULES = [
    ({"gender": "UNKNOWN"}, "gender", "FEMALE or MALE"),
    ({"address_type": "T"}, "address_type", "must be H"),
    ({"identification_type": "BSN"}, "identification_type", "must be EID"),
    ({"date_of_birth": "01-01-1980"}, "date_of_birth", "YYYY-MM-DD"),
    ({"date_of_birth": "1980-02-30"}, "date_of_birth", "YYYY-MM-DD"),
    ({"date_of_birth": TOMORROW}, "date_of_birth", "future"),
    ({"email_address": "test@@testdomain"}, "email_address", "valid email"),
    ({"accepted_terms_and_agreement": False}, "accepted_terms_and_agreement", "must be True"),
]


@pytest.mark.parametrize("change, field, rule", APPLICANT_RULES, ids=[c[1] + ":" + c[2] for c in APPLICANT_RULES])
def test_applicant_rules(wise_client, quiet, change, field, rule):
    for call in both_subscribe_calls(wise_client, Applicant(**{**NEW, **change})):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.field == field and rule in caught.value.rule


def test_resubscribe_needs_a_patron_login(wise_client, quiet):
    for login, field in (("token", "login"), (PatronLogin(library_id="I018", patron_system_id="",
                                                           token=LOGIN.token), "login.patron_system_id")):
        with pytest.raises(InputError) as caught:
            wise_client.resubscribe(library_id="I018", login=login, applicant=Applicant(**NEW), subscription_id=45)
        assert caught.value.field == field


CALL_RULES = [
    (lambda c: c.validate_card(card_number="2X1/2", library_id="I018"), "card_number", "without slashes"),
    (lambda c: c.validate_card(card_number="2X1", library_id=""), "library_id", "non-empty"),
    (lambda c: c.lookup_cards(library_id="I018", page_size=0), "page_size", "from 1 to 100"),
    (lambda c: c.lookup_cards(library_id="I018", page_size=101), "page_size", "from 1 to 100"),
    (lambda c: c.lookup_cards(library_id="I018", page_size=True), "page_size", "from 1 to 100"),
    (lambda c: c.lookup_cards(library_id="I018", search=" "), "search", "non-empty"),
    (lambda c: c.authenticate_patron(username="", password="x-123"), "username", "non-empty"),
    (lambda c: c.authenticate_patron(username="a", password=""), "password", "non-empty secret"),
    (lambda c: c.patron_information(patron_system_id="abc", library_id="I018", login=LOGIN), "login", "this patron"),
    (lambda c: c.offers(library_id="I018", branch_id="9042", date_of_birth="1980-1-1", gender="MALE"),
     "date_of_birth", "YYYY-MM-DD"),
    (lambda c: c.offers(library_id="I018", branch_id="9042", date_of_birth="1980-01-01", gender="female"),
     "gender", "FEMALE, MALE"),
    (lambda c: c.offers(library_id="I018", branch_id="", date_of_birth="1980-01-01", gender="MALE"),
     "branch_id", "non-empty"),
    (lambda c: c.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id="45"),
     "subscription_id", "whole number"),
    (lambda c: c.subscribe(library_id="I018", applicant=dict(NEW), subscription_id=45), "applicant", "wise.Applicant"),
    (lambda c: c.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id=45, dry_run="yes"),
     "dry_run", "True or False"),
    (lambda c: c.pay(payment_id="abc", status="PENDING"), "status", "SUCCESS"),
    (lambda c: c.pay(payment_id="", status="SUCCESS"), "payment_id", "non-empty"),
    (lambda c: c.set_blocks(patron_system_id=PSID, library_id="I018", general_block="yes"), "general_block",
     "True or False"),
    (lambda c: c.set_blocks(patron_system_id=PSID, library_id="I018", block_message=3), "block_message", "text"),
    (lambda c: c.set_blocks(patron_system_id=PSID, library_id="I018"), "blocks", "at least one"),
    (lambda c: c.set_blocks(patron_system_id=PSID, library_id="I018", online_block=True, dry_run=1), "dry_run",
     "True or False"),
    (lambda c: c.updated_patrons(library_id="I018", since="2026/01/01"), "since", "YYYY-MM-DD"),
    (lambda c: c.deleted_patrons(library_id="I018", since=20260101), "since", "YYYY-MM-DD"),
    (lambda c: c.duplicate_check(search_value="a@example.nl", search_type="NAME"), "search_type", "EMAIL, EID"),
    (lambda c: c.duplicate_check(search_value="not an email", search_type="EMAIL"), "search_value", "valid email"),
    (lambda c: c.duplicate_check(search_value="", search_type="EID"), "search_value", "non-empty"),
    (lambda c: c.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name="K", email_address="k@")), "email_address", "valid email"),
    (lambda c: c.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name=" ", email_address="k@example.nl")), "last_name", "non-empty"),
    (lambda c: c.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name="K", email_address="k@example.nl", gender="X")), "gender", "FEMALE, MALE"),
    (lambda c: c.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name="K", email_address="k@example.nl", date_of_birth="1-1-1990")), "date_of_birth", "YYYY-MM-DD"),
    (lambda c: c.store_external_customer(library_id="I018", customer={"lastName": "K"}), "customer",
     "wise.ExternalCustomer"),
    (lambda c: c.register(library_id="I018", applicant=Applicant(**NEW), pay="no"), "pay", "True or False"),
]


@pytest.mark.parametrize("call, field, rule", CALL_RULES, ids=[f"{n}-{c[1]}" for n, c in enumerate(CALL_RULES)])
def test_call_rules(wise_client, quiet, call, field, rule):
    with pytest.raises(InputError) as caught:
        call(wise_client)
    assert caught.value.field == field and rule in caught.value.rule


def test_the_librarys_own_rules_stop_registration_before_subscribing(wise_client, wise_emulator):
    """Drenthe requires a phone number and writes zip codes "9999 AA": known only from its fields answer."""
    before = wise_emulator.counters.requests
    person = Applicant(**{**NEW, "home_branch": "3041", "phone_number": "", "zip_code": "9765tk",
                          "house_number": "5a"})
    with pytest.raises(InputProblems) as caught:
        wise_client.register(library_id="I304", applicant=person)
    assert [field for field, _ in caught.value.problems] == ["house_number", "zip_code", "phone_number"]
    assert "is required by library I304" in dict(caught.value.problems)["phone_number"]
    assert wise_emulator.counters.requests == before + 1  # only the required-fields answer was asked for
    assert wise_emulator.counters.actions["subscribe_new"] == 0


def test_a_subscription_not_offered_is_refused_before_subscribing(wise_client, wise_emulator):
    with pytest.raises(InputError) as caught:
        wise_client.register(library_id="I018", applicant=Applicant(**NEW), subscription_id=46)  # seniors only
    assert caught.value.field == "subscription_id" and "offered: [45, 200]" in caught.value.rule
    with pytest.raises(InputError, match=r"choose one of the offered subscriptions: \[45, 200\]"):
        wise_client.register(library_id="I018", applicant=Applicant(**NEW))
    assert wise_emulator.counters.actions["subscribe_new"] == 0
