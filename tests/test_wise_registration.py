"""register(): the document's three steps done for the caller, each visible in the transcript."""

from __future__ import annotations

import pytest

from fsi_patron_kit import InputError
from fsi_patron_kit.wise import Applicant

from .test_wise_client import NEW, applicant_from, record


def actions(client):
    return [(e.action, e.status) for e in client.history]


def test_a_new_patron_is_subscribed_and_invoiced_where_vwizbet_is_set(wise_client):
    done = wise_client.register(library_id="I018", applicant=Applicant(**NEW), subscription_id=45)
    assert (done.method, done.subscription_status, done.paid) == ("POST", "INVOICE", None)
    assert [s.step for s in done.transcript] == ["required fields", "offers", "authenticate", "subscribe"]
    assert actions(wise_client) == [("required-fields", 200), ("offers", 200), ("authenticate-patron", 401),
                                    ("subscribe", 200)]
    frame = done.transcript_frame()
    assert list(frame.columns) == ["step", "request", "outcome"] and frame["request"].iloc[-1] == \
        "POST /library/I018/patron"
    card = done.patron.library_cards[0].card_number
    assert wise_client.validate_card(card_number=card, library_id="I018").valid is True


def test_a_known_patron_resubscribes_into_the_basket_and_pays(wise_client, wise_emulator):
    lapsed = record(wise_emulator, "lapsed")
    person = applicant_from(lapsed, home_branch="3041", zip_code="9761 AB", city="Eelde")
    done = wise_client.register(library_id="I304", applicant=person, subscription_id=320)
    assert (done.method, done.subscription_status, done.paid) == ("PUT", "BASKET", True)
    assert done.patron_system_id == lapsed["patronSystemId"]
    assert [s.step for s in done.transcript] == ["required fields", "offers", "authenticate", "active here?",
                                                 "subscribe", "payment"]
    assert actions(wise_client)[2:] == [("authenticate-patron", 200), ("authenticate-patron", 401),
                                        ("resubscribe", 200), ("payment-login", 200), ("pay", 200)]
    assert wise_client.validate_card(card_number=lapsed["libraryCards"][0]["cardNumber"], library_id="I304").valid
    offer = done.transcript[1].outcome
    assert "chose 320 (€ 41.50 /12 mnd)" in offer  # Volwassen basis, 3900 + 250 for zip codes 9761 in Drenthe


def test_a_subscription_ending_this_month_may_be_renewed(wise_client, wise_emulator):
    ending = record(wise_emulator, "ending")
    done = wise_client.register(library_id="I304", applicant=applicant_from(ending), subscription_id=320,
                                pay=False)
    assert (done.method, done.subscription_status, done.paid) == ("PUT", "BASKET", False)
    assert done.transcript[3].outcome.endswith("re-subscription allowed")
    assert done.transcript[-1].outcome == "left in the basket (not paid)"
    assert wise_emulator.counters.actions["pay"] == 0


def test_no_resubscription_while_the_subscription_runs_beyond_this_month(wise_client, wise_emulator):
    active = record(wise_emulator, "active")
    with pytest.raises(InputError) as refused:
        wise_client.register(library_id="I304", applicant=applicant_from(active), subscription_id=320)
    assert refused.value.field == "library_id" and "only in its last month" in refused.value.rule
    assert wise_emulator.counters.actions["resubscribe"] == 0


def test_a_known_patron_without_membership_there_is_resubscribed_in_another_library(wise_client, wise_emulator):
    member = record(wise_emulator, "member")  # a Salland member joins Drenthe (no VWIZBET there)
    done = wise_client.register(library_id="I304", subscription_id=320, applicant=applicant_from(
        member, home_branch="3042", zip_code="9401 AB", city="Assen"))
    assert done.method == "PUT" and done.paid is True
    memberships = {m["libraryId"] for m in record(wise_emulator, "member")["memberships"]}
    assert memberships == {"I018", "I304"}


def test_a_dry_run_reads_and_logs_in_but_writes_nothing(wise_client, wise_emulator):
    lapsed = record(wise_emulator, "lapsed")
    person = applicant_from(lapsed, home_branch="3041", zip_code="9761 AB", city="Eelde")
    preview = wise_client.register(library_id="I304", applicant=person, subscription_id=320, dry_run=True)
    assert (preview.method, preview.url.rsplit("/", 1)[1]) == ("PUT", lapsed["patronSystemId"])
    assert preview.body["password"] == "***" and preview.body["subscriptionId"] == 320
    new = wise_client.register(library_id="I018", applicant=Applicant(**NEW), subscription_id=45, dry_run=True)
    assert new.method == "POST" and new.body["futureSubscriptionId"] == 45
    assert sum(wise_emulator.counters.writes.values()) == 0
    assert wise_emulator.counters.actions["resubscribe"] == wise_emulator.counters.actions["subscribe_new"] == 0
