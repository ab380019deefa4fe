"""wise.Client over HTTP against the emulator: every endpoint, every error form, the sessions."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

import fsi_patron_kit as pk
from fsi_patron_kit import (
    AuthError,
    ConfigError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from fsi_patron_kit._http import Preview
from fsi_patron_kit.sandbox.wise import ServerClock, WiseEmulator
from fsi_patron_kit.wise import (
    Applicant,
    Blocks,
    CardValidation,
    ExternalCustomer,
    Patron,
    PatronLogin,
    ValidationFailed,
    wise_key,
)

from .conftest import make_wise_client

NEW = dict(last_name="Testuser", first_name="Test", initials="T.", date_of_birth="1980-01-01", gender="MALE",
           street="Machlaan", house_number="5", zip_code="9765 TK", city="Eelde", email_address="test@testdomain.org",
           home_branch="9042", username="test.tester123", password="Welkom-2026", phone_number="0612345678")


def record(emulator, name):
    wanted = emulator.showcase[name]["patron_system_id"]
    return next(p for p in emulator.patrons() if p["patronSystemId"] == wanted)


def applicant_from(record_, **changes) -> Applicant:
    address = record_["addresses"][0]
    fields = dict(last_name=record_["lastName"], date_of_birth=record_["dateOfBirth"], gender=record_["gender"],
                  street=address["street"], house_number=address["houseNumber"], zip_code=address["zipCode"],
                  city=address["city"], email_address=record_["emailAddress"], home_branch=record_["homeBranch"],
                  username=record_["username"], password=record_["password"], phone_number=record_["phoneNumber"])
    return Applicant(**{**fields, **changes})


# -- the WISE_KEY ----------------------------------------------------------------------------------
def test_wise_key_follows_the_document_formula():
    at = datetime(2021, 5, 12, 10, tzinfo=timezone.utc).timestamp()
    expected = hmac.new(b"k3y", b"18759MyApp", hashlib.sha256).hexdigest()  # 18759 = days from 1970 to 2021-05-12
    assert wise_key(application_name="MyApp", api_id="APP1", api_key=pk.Secret("k3y"), at=at) == f"APP1:{expected}"


def test_every_request_carries_the_key_even_the_login(wise_client, wise_emulator):
    wise_client.updated_patrons(library_id="I018", since="2020-01-01")
    assert [(e.action, e.status) for e in wise_client.history] == [("login", 200), ("updated-patrons", 200)]


def test_wrong_api_key_and_stale_day_are_refused(wise_emulator):
    with make_wise_client(wise_emulator, api_key="not-the-systems-key") as client, \
            pytest.raises(AuthError) as refused:
        client.required_fields(library_id="I018")
    assert (refused.value.status, refused.value.message) == (403, "Invalid WISE_KEY")
    with make_wise_client(wise_emulator) as client:
        yesterday = ServerClock()
        yesterday.shift(-86400)
        client._auth.clock = yesterday
        with pytest.raises(AuthError, match="Invalid WISE_KEY"):
            client.required_fields(library_id="I018")


def test_key_is_computed_per_request_across_utc_midnight():
    clock = ServerClock()
    clock.set(datetime(2026, 3, 14, 23, 59, 58, tzinfo=timezone.utc))
    with WiseEmulator(patrons=150, clock=clock) as emulator, make_wise_client(emulator) as client:
        client._auth.clock = clock  # the client reads the same moving clock
        client.required_fields(library_id="I018")
        clock.shift(5)  # 00:00:03 UTC: a new day, a new key
        assert len(client.required_fields(library_id="I018")) == 16
    assert [e.status for e in client.history] == [200, 200]


# -- the staff session -----------------------------------------------------------------------------
def test_token_ends_with_the_server_day_and_the_client_logs_in_again_first():
    clock = ServerClock()
    clock.set(datetime(2026, 3, 14, 22, 30, tzinfo=timezone.utc))  # 23:30 in Amsterdam
    with WiseEmulator(patrons=150, clock=clock) as emulator, make_wise_client(emulator) as client:
        client._auth.clock = clock
        session = client.login()
        assert session.expires_at == datetime(2026, 3, 14, 22, 59, 59, tzinfo=timezone.utc)
        client.updated_patrons(library_id="I018", since="2020-01-01")
        clock.shift(3600)  # 00:30 on the 15th in Amsterdam
        client.updated_patrons(library_id="I018", since="2020-01-01")
    assert [(e.action, e.status) for e in client.history] == [
        ("login", 200), ("updated-patrons", 200), ("login", 200), ("updated-patrons", 200)]


def test_end_of_day_met_mid_run_is_recovered_without_the_caller_noticing():
    """The server's day ends before the client's clock says so: one 401, one login, the answer."""
    server, client_clock = ServerClock(), ServerClock()
    server.set(datetime(2026, 3, 14, 22, 0, tzinfo=timezone.utc))
    client_clock.set(datetime(2026, 3, 14, 22, 0, tzinfo=timezone.utc))
    with WiseEmulator(patrons=150, clock=server) as emulator, make_wise_client(emulator) as client:
        client._auth.clock = client_clock
        first = client.updated_patrons(library_id="I018", since="2020-01-01")
        server.shift(3600 + 30)  # 00:00:30 in Amsterdam, 23:00:30 UTC: same key, a new token day
        again = client.updated_patrons(library_id="I018", since="2020-01-01")
        assert again.equals(first)
    assert [(e.action, e.status) for e in client.history] == [
        ("login", 200), ("updated-patrons", 200), ("updated-patrons", 401), ("login", 200),
        ("updated-patrons", 200)]
    assert emulator.counters.actions["login"] == 2


def test_expired_tokens_mid_run(wise_client, wise_emulator):
    member = wise_emulator.showcase["member"]
    wise_client.blocks(patron_system_id=member["patron_system_id"], library_id="I018")
    wise_emulator.expire_tokens()
    assert wise_client.blocks(patron_system_id=member["patron_system_id"], library_id="I018").active == ()
    assert wise_client.session.logins == 2


def test_wrong_staff_password_is_an_auth_error_with_wise_message(wise_emulator):
    with make_wise_client(wise_emulator, password="wrong-password") as client, pytest.raises(AuthError) as refused:
        client.lookup_cards(library_id="I018")
    assert (refused.value.status, refused.value.message) == (401, "Invalid username or password")
    assert wise_emulator.counters.actions["login"] == 1  # a refused login is not retried


def test_missing_permission_is_an_auth_error(wise_emulator):
    reader = wise_emulator.reader
    with make_wise_client(wise_emulator, username=reader.username, password=reader.password) as client:
        assert len(client.lookup_cards(library_id="I018", search="2X1")) > 0  # ACTOREN Read suffices here
        for call in (lambda: client.store_external_customer(library_id="I018", customer=ExternalCustomer(
                         last_name="Klant", email_address="klant@example.nl")),
                     lambda: client.proxy_authenticate(patron_system_id=wise_emulator.showcase["member"][
                         "patron_system_id"], library_id="I018")):
            with pytest.raises(AuthError) as denied:
                call()
            assert (denied.value.status, denied.value.message) == (403, "Access is denied")


# -- cards and patrons -----------------------------------------------------------------------------
def test_validate_card(wise_client, wise_emulator):
    member = wise_emulator.showcase["member"]
    answer = wise_client.validate_card(card_number=member["card_number"], library_id="I018")
    assert answer == CardValidation(card_number=member["card_number"], library_id="I018", valid=True,
                                    membership_expiry_date=member["membership_end"])
    assert "patronSystemId" not in answer.raw
    assert wise_client.validate_card(card_number=member["card_number"], library_id="I304").valid is False
    with pytest.raises(NotFoundError) as unknown:
        wise_client.validate_card(card_number="2X000000000000", library_id="I018")
    assert unknown.value.message == "Card number 2X000000000000 not found"
    with pytest.raises(NotFoundError, match="Library I999 not found"):
        wise_client.validate_card(card_number=member["card_number"], library_id="I999")


def test_lookup_cards_pages_until_an_empty_page(wise_client, wise_emulator):
    expected = sorted(p["patronSystemId"] for p in wise_emulator.patrons() if
                      (p["homeLibrary"] == "I018" or any(m["libraryId"] == "I018" for m in p["memberships"]))
                      and any("2X1" in c["cardNumber"] for c in p["libraryCards"]))
    frame = wise_client.lookup_cards(library_id="I018", search="2X1", page_size=4, workers=1)
    assert sorted(frame["patron_system_id"]) == expected
    assert list(frame.columns) == ["patron_system_id", "patron_id", "card_number", "library_id",
                                   "membership_expiry_date"]
    assert str(frame["patron_id"].dtype) == "Int64" and str(frame["card_number"].dtype) == "string"
    pages = [e.url for e in wise_client.history if e.action == "lookup-cards"]
    assert len(pages) == math.ceil(len(expected) / 4) + 1  # the last, empty page ends the walk
    assert pages[1].endswith("offset=4&limit=4&search=2X1")
    assert sorted(wise_client.lookup_cards(library_id="I018", search="2X1", page_size=4)["patron_system_id"]) \
        == expected  # eight pages at a time by default: the same rows, once each


def test_patron_information_with_the_patrons_login_or_by_proxy(wise_client, wise_emulator):
    member = wise_emulator.showcase["member"]
    login = wise_client.authenticate_patron(username=member["username"], password=member["password"],
                                            library_id="I018")
    assert isinstance(login, PatronLogin) and login.patron_system_id == member["patron_system_id"]
    own = wise_client.patron_information(patron_system_id=member["patron_system_id"], library_id="I018", login=login)
    proxied = wise_client.patron_information(patron_system_id=member["patron_system_id"], library_id="I018")
    assert isinstance(own, Patron) and own.raw == proxied.raw
    stored = record(wise_emulator, "member")
    assert (own.last_name, own.email_address, own.library_cards[0].card_number) == (
        stored["lastName"], stored["emailAddress"], member["card_number"])
    assert own.membership_expiration_date == member["membership_end"]
    assert [e.action for e in wise_client.history] == ["authenticate-patron", "patron-information", "login",
                                                       "proxy-authentication", "patron-information"]


def test_patron_authentication_forms(wise_client, wise_emulator):
    ending = wise_emulator.showcase["ending"]
    anywhere = wise_client.authenticate_patron(username=ending["card_number"], password=ending["password"])
    assert (anywhere.library_id, anywhere.membership_expiry_date) == ("I304", ending["membership_end"])
    with pytest.raises(AuthError) as elsewhere:
        wise_client.authenticate_patron(username=ending["username"], password=ending["password"], library_id="I018")
    assert (elsewhere.value.status, elsewhere.value.message) == (
        401, "Patron has no active subscription in library I018")
    with pytest.raises(AuthError, match="Invalid username or password"):
        wise_client.authenticate_patron(username=ending["username"], password="wrong")
    assert wise_emulator.counters.actions["login"] == 0  # a patron's refusal never re-logs the staff user in


def test_leading_space_username_as_in_the_document_sample(wise_client, wise_emulator):
    spaced = next(p for p in wise_emulator.patrons() if p["username"].startswith(" ")
                  and any(wise_emulator.store.active_membership(p, m["libraryId"]) for m in p["memberships"]))
    login = wise_client.authenticate_patron(username=spaced["libraryCards"][0]["cardNumber"],
                                            password=spaced["password"])
    assert login.username == " " + spaced["libraryCards"][0]["cardNumber"]


# -- blocks ------------------------------------------------------------------------------------------
def test_blocks_set_read_back_and_removed(wise_client, wise_emulator):
    member = wise_emulator.showcase["member"]
    where = {"patron_system_id": member["patron_system_id"], "library_id": "I018"}
    assert wise_client.blocks(**where) == Blocks()
    preview = wise_client.set_blocks(**where, general_block=True, dry_run=True)
    assert isinstance(preview, Preview) and preview.body["generalBlock"] is True
    assert wise_emulator.counters.writes[member["patron_system_id"]] == 0
    after = wise_client.set_blocks(**where, general_block=True, patron_card_block=True, block_message="Boete")
    assert after.active == ("general_block", "patron_card_block") and after.block_message == "Boete"
    assert wise_client.blocks(**where) == after
    removed = wise_client.set_blocks(**where, general_block=False)
    assert removed.active == ("patron_card_block",) and removed.block_message == "Boete"
    assert wise_emulator.counters.writes[member["patron_system_id"]] == 2
    with pytest.raises(NotFoundError, match="not found in library I410"):
        wise_client.blocks(patron_system_id=member["patron_system_id"], library_id="I410")


# -- synchronisation lists and the duplicate check --------------------------------------------------
def test_updated_and_deleted_patrons(wise_client, wise_emulator):
    today = wise_emulator.clock.today()
    member = wise_emulator.showcase["member"]
    wise_client.set_blocks(patron_system_id=member["patron_system_id"], library_id="I018", online_block=True)
    updated = wise_client.updated_patrons(library_id="I018", since=today)
    assert member["patron_system_id"] in set(updated["patron_system_id"])
    since = today - timedelta(days=30)
    expected = [d["patronSystemId"] for d in wise_emulator.store.deleted if d["libraryId"] == "I304"
                and d["deleted"] >= since]
    deleted = wise_client.deleted_patrons(library_id="I304", since=since.isoformat())
    assert list(deleted["patron_system_id"]) == expected and list(deleted.columns) == ["patron_system_id"]
    with pytest.raises(NotFoundError):
        wise_client.updated_patrons(library_id="I999", since=today)


def test_duplicate_check_by_email_and_eid(wise_client, wise_emulator):
    patrons = wise_emulator.patrons()
    emails = pd.Series([p["emailAddress"] for p in patrons])
    shared = emails[emails.duplicated()].iloc[0]
    owners = {p["patronSystemId"] for p in patrons if p["emailAddress"] == shared}
    found = wise_client.duplicate_check(search_value=shared, search_type="EMAIL")
    assert set(found["patron_system_id"]) == owners and len(owners) == 2
    stored = record(wise_emulator, "member")
    by_eid = wise_client.duplicate_check(search_value=stored["eid"], search_type="EID")
    assert by_eid[["patron_system_id", "library_id", "status"]].values.tolist() == [
        [stored["patronSystemId"], "I018", "5"]]
    assert by_eid["subscription_end_date"].iloc[0].date() == wise_emulator.showcase["member"]["membership_end"]
    assert wise_client.duplicate_check(search_value="nobody@example.nl", search_type="EMAIL").empty


# -- external customers ---------------------------------------------------------------------------------
def test_external_customer_new_then_added_to_a_patron_then_ambiguous(wise_client, wise_emulator):
    new = wise_client.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name="Klant", first_name="Kim", email_address="kim.klant@example.nl"))
    assert new.created is True and new.existing == () and new.patron.customer_tag == "XTRN"
    stored = record(wise_emulator, "member")
    known = wise_client.store_external_customer(library_id="I018", customer=ExternalCustomer(
        last_name=stored["lastName"], email_address=stored["emailAddress"]))
    assert known.created is False and known.existing == (stored["patronSystemId"],)
    assert known.patron.patron_system_id == stored["patronSystemId"]
    assert "XTRN" in record(wise_emulator, "member")["roles"]
    # A second record with the same email and name makes the match ambiguous.
    wise_client.subscribe(library_id="I018", subscription_id=45, applicant=Applicant(**{
        **NEW, "last_name": "Klant", "email_address": "kim.klant@example.nl", "username": "kim.klant"}))
    with pytest.raises(ConflictError) as ambiguous:
        wise_client.store_external_customer(library_id="I018", customer=ExternalCustomer(
            last_name="Klant", email_address="kim.klant@example.nl"))
    assert ambiguous.value.message == "More than one patron matches this customer"


# -- registration endpoints ----------------------------------------------------------------------------
def test_required_fields_differ_per_library(wise_client):
    salland = wise_client.required_fields(library_id="I018").set_index("id")
    drenthe = wise_client.required_fields(library_id="I304").set_index("id")
    assert salland.loc["PML", "format"] == "email" and bool(salland.loc["PML", "required"])  # the document's sample
    assert bool(salland.loc["PGN", "required"]) and salland.loc["PGN", "group_label"] == "APP-FORMS__LABEL-AUTHENTICATION"
    assert not salland.loc["PTL", "required"] and drenthe.loc["PTL", "required"]
    assert drenthe.loc["PPC", "format"] == "9999 AA"
    assert str(salland["required"].dtype) == "boolean"
    with pytest.raises(ValidationFailed) as wrong_type:
        wise_client.required_fields(library_id="I018", subscription_type="X")
    assert (wrong_type.value.field, wrong_type.value.code) == ("subscriptionType", "INVALID_VALUE")


def test_offers_depend_on_age_branch_and_zip_code(wise_client):
    adult = wise_client.offers(library_id="I018", branch_id="9042", date_of_birth="1980-01-01", gender="MALE")
    standard = adult.set_index("subscription_id").loc[45]
    assert (standard["subscription_cost"], standard["cost"]) == (4350, "€ 43.50 /12 mnd")  # the document's example
    assert standard["additional_information"] == "Subscription: Default subscription. incl. Ebooks"
    assert set(adult["subscription_id"]) == {45, 200}
    child_born = date.today().replace(year=date.today().year - 10, day=1)
    child = wise_client.offers(library_id="I018", branch_id="9042", date_of_birth=child_born, gender="FEMALE")
    assert list(child["subscription_description"]) == ["Jeugd 0-17"]
    deventer = wise_client.offers(library_id="I018", branch_id="9043", date_of_birth="1980-01-01", gender="MALE")
    raalte_zip = wise_client.offers(library_id="I018", branch_id="9042", date_of_birth="1980-01-01", gender="MALE",
                                    zip_code="8102 AB")
    assert deventer.set_index("subscription_id").loc[45, "subscription_cost"] == 4650
    assert raalte_zip.set_index("subscription_id").loc[45, "subscription_cost"] == 3850
    with pytest.raises(ValidationFailed) as outside:
        wise_client.offers(library_id="I018", branch_id="3041", date_of_birth="1980-01-01", gender="MALE")
    assert outside.value.field == "branchId" and "branchId must be a branch of library I018" in outside.value.message


def test_subscribe_invoiced_where_vwizbet_is_set(wise_client, wise_emulator):
    patron = wise_client.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id=45)
    assert (patron.subscription_status, patron.subscription_id, patron.home_branch) == ("INVOICE", 45, "9042")
    assert patron.membership_expiration_date > wise_emulator.clock.today() + timedelta(days=330)
    assert patron.membership_expiration_date.day in (28, 29, 30, 31)  # the end of a month
    card = patron.library_cards[0].card_number
    assert wise_client.validate_card(card_number=card, library_id="I018").valid is True


def test_subscribe_lands_in_the_basket_without_vwizbet_until_paid(wise_client):
    patron = wise_client.subscribe(library_id="I304", subscription_id=320, applicant=Applicant(**{
        **NEW, "home_branch": "3041"}))
    assert patron.subscription_status == "BASKET" and patron.payment_id
    card = patron.library_cards[0].card_number
    assert wise_client.validate_card(card_number=card, library_id="I304").valid is False
    assert wise_client.pay(payment_id=patron.payment_id) is None
    assert wise_client.validate_card(card_number=card, library_id="I304").valid is True
    # Registration calls go on the WISE_KEY alone; only the payment account logged in.
    assert [e.action for e in wise_client.history if "login" in e.action] == ["payment-login"]
    with pytest.raises(ConflictError, match="already SUCCESS"):
        wise_client.pay(payment_id=patron.payment_id)
    with pytest.raises(NotFoundError, match="Payment 0000 not found"):
        wise_client.pay(payment_id="0000")


def test_payment_needs_the_safe_list_and_the_payment_account(wise_emulator):
    wise_emulator.store.safe_list.clear()
    with make_wise_client(wise_emulator) as client:
        patron = client.subscribe(library_id="I304", subscription_id=320, applicant=Applicant(**{
            **NEW, "home_branch": "3041"}))
        with pytest.raises(AuthError) as unsafe:
            client.pay(payment_id=patron.payment_id)
        assert (unsafe.value.status, unsafe.value.message) == (403, "IP address 127.0.0.1 is not on the safe list")
    with make_wise_client(wise_emulator, payment_username=None, payment_password=None) as client, \
            pytest.raises(ConfigError) as missing:
        client.pay(payment_id=patron.payment_id)
    assert missing.value.field == "payment_username"


def test_server_side_validation_errors_carry_wise_field_and_message(wise_client, wise_emulator):
    taken = record(wise_emulator, "member")["username"]
    with pytest.raises(ValidationFailed) as refused:
        wise_client.subscribe(library_id="I018", subscription_id=45, applicant=Applicant(**{**NEW, "username": taken}))
    error = refused.value
    assert (error.status, error.field, error.code) == (400, "username", "NOT_UNIQUE")
    assert error.message == "username: username is already in use"
    with pytest.raises(ValidationFailed) as not_offered:
        wise_client.subscribe(library_id="I018", subscription_id=10, applicant=Applicant(**NEW))  # youth, for an adult
    assert (not_offered.value.field, not_offered.value.code) == ("futureSubscriptionId", "NOT_OFFERED")
    with pytest.raises(ValidationFailed) as drenthe:
        wise_client.subscribe(library_id="I304", subscription_id=320, applicant=Applicant(**{
            **NEW, "home_branch": "3041", "phone_number": "", "zip_code": "9765tk"}))
    assert [(p.field, p.code) for p in drenthe.value.problems] == [
        ("addresses[0].zipCode", "INVALID_FORMAT"), ("phoneNumber", "REQUIRED")]


def test_home_branch_outside_the_library_is_a_500(wise_client):
    with pytest.raises(ServerError) as failed:
        wise_client.subscribe(library_id="I018", subscription_id=45, applicant=Applicant(**{**NEW, "home_branch": "3041"}))
    assert (failed.value.status, failed.value.message) == (500, "Branch 3041 does not belong to library I018")


def test_library_without_customer_type_n_cannot_complete_a_subscription(wise_client):
    with pytest.raises(ServerError, match="No subscription definition for customer type N in library I410"):
        wise_client.subscribe(library_id="I410", subscription_id=410, applicant=Applicant(**{**NEW, "home_branch": "4101"}))


def test_resubscribe_refused_while_a_subscription_runs_beyond_this_month(wise_client, wise_emulator):
    active = wise_emulator.showcase["active"]
    login = wise_client.authenticate_patron(username=active["username"], password=active["password"])
    with pytest.raises(ValidationFailed) as refused:
        wise_client.resubscribe(library_id="I304", login=login, subscription_id=320,
                                applicant=applicant_from(record(wise_emulator, "active")))
    assert (refused.value.field, refused.value.code) == ("subscriptionId", "NOT_ALLOWED")
    assert f"until {active['membership_end'].isoformat()}" in refused.value.message


def test_resubscribe_needs_the_patrons_own_token(wise_client, wise_emulator):
    ending = wise_emulator.showcase["ending"]
    member = wise_emulator.showcase["member"]
    other = wise_client.authenticate_patron(username=member["username"], password=member["password"])
    forged = PatronLogin(library_id="I304", patron_system_id=ending["patron_system_id"], token=other.token)
    with pytest.raises(AuthError) as denied:
        wise_client.resubscribe(library_id="I304", login=forged, subscription_id=320,
                                applicant=applicant_from(record(wise_emulator, "ending")))
    assert (denied.value.status, denied.value.message) == (403, "Access is denied")


# -- faults -------------------------------------------------------------------------------------------
def test_rate_limits_are_retried_and_faults_are_server_errors(wise_client, wise_emulator):
    wise_emulator.knobs.retry_after = 0
    wise_emulator.knobs.fail_next("429", 2)
    assert len(wise_client.required_fields(library_id="I018")) == 16
    wise_emulator.knobs.fail_next("429", 4)
    with pytest.raises(RateLimitError):
        wise_client.required_fields(library_id="I018")
    wise_emulator.knobs.fail_next("500")
    with pytest.raises(ServerError, match="Unexpected error"):
        wise_client.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id=45)


# -- the registry ------------------------------------------------------------------------------------
def test_connect_reaches_the_sandbox():
    client = pk.connect("wise")
    assert "wise" in pk.vendors()
    assert len(client.required_fields(library_id="I018")) == 16


def test_the_payment_account_keeps_its_own_session_and_recovers_it(wise_client, wise_emulator):
    baskets = [wise_client.subscribe(library_id="I304", subscription_id=320, applicant=Applicant(**{
        **NEW, "home_branch": "3041", "username": f"basket.{n}"})).payment_id for n in range(2)]
    wise_client.updated_patrons(library_id="I304", since="2020-01-01")  # the staff session, for contrast
    wise_client.pay(payment_id=baskets[0])
    wise_emulator.expire_tokens()
    wise_client.pay(payment_id=baskets[1], status="CANCELLED")
    assert [(e.action, e.status) for e in wise_client.history][2:] == [
        ("login", 200), ("updated-patrons", 200), ("payment-login", 200), ("pay", 200), ("pay", 401),
        ("payment-login", 200), ("pay", 200)]
    assert wise_client.session.logins == 1  # the staff session was not touched


def test_an_expired_patron_token_is_raised_not_renewed(wise_client, wise_emulator):
    """Only the patron's password renews their token; the client never re-logs a patron in by itself."""
    member = wise_emulator.showcase["member"]
    login = wise_client.authenticate_patron(username=member["username"], password=member["password"])
    wise_emulator.expire_tokens()
    with pytest.raises(AuthError) as expired:
        wise_client.patron_information(patron_system_id=member["patron_system_id"], library_id="I018", login=login)
    assert (expired.value.status, expired.value.message) == (401, "Token is expired or invalid")
    assert [e.action for e in wise_client.history] == ["authenticate-patron", "patron-information"]


def test_a_profile_reads_settings_from_the_environment_and_secrets_never_from_the_file(
        wise_emulator, monkeypatch, tmp_path):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.drenthe]\nvendor = "wise"\napi_key = "literal-key"\n')
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(profiles))
    with pytest.raises(ConfigError) as literal:
        pk.connect(profile="drenthe")
    assert literal.value.field == "profiles.drenthe.api_key"
    profiles.write_text('[profiles.drenthe]\nvendor = "wise"\n')
    app = wise_emulator.application
    settings = {"URL": wise_emulator.url, "APPLICATION_NAME": app.application_name, "API_ID": app.api_id,
                "USERNAME": wise_emulator.staff.username, "PAYMENT_USERNAME": wise_emulator.payment.username,
                "SERVER_TIMEZONE": "Europe/Amsterdam", "API_KEY": app.api_key,
                "PASSWORD": wise_emulator.staff.password, "PAYMENT_PASSWORD": wise_emulator.payment.password}
    for name, value in settings.items():
        monkeypatch.setenv(f"PATRON_KIT_DRENTHE_{name}", value)
    with pk.connect(profile="drenthe") as client:
        assert client.url == wise_emulator.url
        assert len(client.lookup_cards(library_id="I304", search=wise_emulator.showcase["ending"]["card_number"])) == 1


def test_threads_meeting_the_end_of_day_share_one_new_login(wise_client, wise_emulator):
    from concurrent.futures import ThreadPoolExecutor

    member = wise_emulator.showcase["member"]
    wise_client.login()
    wise_emulator.expire_tokens()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: wise_client.blocks(patron_system_id=member["patron_system_id"],
                                                             library_id="I018"), range(8)))
    assert all(a == Blocks() for a in answers)
    assert wise_emulator.counters.actions["login"] == 2 and wise_client.session.logins == 2
