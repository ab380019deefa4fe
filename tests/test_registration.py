"""pk.registration: one person per vendor, rules first (nothing sent), duplicates first (nothing
created), then the vendor's own flow, with ids and a transcript. All over HTTP to the emulators."""

from __future__ import annotations

import attrs
import pytest

import fsi_patron_kit as pk
from fsi_patron_kit import InputError
from fsi_patron_kit.wise import Applicant

from .test_wise_client import NEW, record

ADA = {"username": "ada.lovelace", "first_name": "Ada", "surname": "Lovelace", "email": "ada@example.org",
       "role": "STUDENT", "class_grade": "9"}
STAGED = {"generalInfo": {"firstName": "Grace", "lastName": "Hopper"},
          "contactInfo": {"email": "grace.hopper@example.org"},
          "addressInfo": {"addressLine0": "1 Navy Way", "city": "Arlington", "zip": "22202", "country": "US"},
          "preferredEmailCommunication": ["Programs"]}


def fields_of(problems):
    return [field for field, _ in problems]


# -- FSI -------------------------------------------------------------------------------------------
def test_fsi_lists_every_problem_at_once_and_sends_nothing(client, emulator):
    before = emulator.counters.requests
    with pytest.raises(InputError) as refused:
        pk.registration.fsi(client, {"username": " ", "role": "PRINCIPAL", "email": "not-an-email", "shoe": "42"})
    assert fields_of(refused.value.problems) == ["first_name", "surname", "username", "role", "email", "shoe"]
    assert "STUDENT, TEACHER, PARENT, LIBRARIAN" in dict(refused.value.problems)["role"]  # the document's roles
    assert emulator.counters.requests == before


def test_fsi_creates_a_new_patron_and_says_where(client, emulator):
    done = pk.registration.fsi(client, ADA)
    assert done.outcome == "created" and done.saved and len(done.duplicates) == 0
    assert [(s.step, s.request) for s in done.transcript] == [
        ("duplicates", "getpatron keyfield=email"), ("duplicates", "getpatron keyfield=username"),
        ("create", "setpatron allownew=true")]
    stored = client.get_patron(keyfield="barcode", value=done.ids["barcode"])
    assert (stored.username, stored.email, stored.role) == ("ada.lovelace", "ada@example.org", "STUDENT")
    assert sum(emulator.counters.writes.values()) == 1


def test_fsi_duplicate_by_email_creates_nothing_unless_allowed(client, emulator):
    first = pk.registration.fsi(client, ADA)
    twin = {**ADA, "username": "a.lovelace"}  # another username, the same email
    found = pk.registration.fsi(client, twin)
    assert found.outcome == "duplicate" and not found.saved and found.ids == {}
    assert found.duplicates.to_dict("records") == [{"id": first.ids["barcode"], "matched_on": "email"}]
    assert sum(emulator.counters.writes.values()) == 1
    allowed = pk.registration.fsi(client, twin, allow_duplicate=True)
    assert allowed.outcome == "created" and allowed.ids["barcode"] != first.ids["barcode"]
    assert sum(emulator.counters.writes.values()) == 2


def test_fsi_dry_run_previews_the_setpatron(client, emulator):
    done = pk.registration.fsi(client, ADA, dry_run=True)
    assert done.outcome == "preview" and done.detail.payload["allownew"] is True
    assert sum(emulator.counters.writes.values()) == 0


# -- OCLC Wise -------------------------------------------------------------------------------------
def test_wise_refuses_a_broken_applicant_before_sending(wise_client, wise_emulator):
    before = wise_emulator.counters.requests
    broken = attrs.evolve(Applicant(**NEW), last_name="", gender="X", email_address="nope")
    with pytest.raises(InputError) as refused:
        pk.registration.wise(wise_client, broken, library_id="I018")
    assert fields_of(refused.value.problems) == ["last_name", "gender", "email_address"]
    assert wise_emulator.counters.requests == before


def test_wise_registers_a_new_person_through_register(wise_client, wise_emulator):
    done = pk.registration.wise(wise_client, Applicant(**NEW), library_id="I018", subscription_id=45)
    assert done.outcome == "created" and done.ids["subscription_id"] == "45"
    assert [s.step for s in done.transcript] == ["duplicates", "required fields", "offers", "authenticate",
                                                 "subscribe"]
    assert wise_emulator.counters.actions["duplicate"] == 1
    card = done.detail.patron.library_cards[0].card_number
    assert wise_client.validate_card(card_number=card, library_id="I018").valid is True
    assert done.ids["patron_system_id"] == done.detail.patron_system_id


def test_wise_duplicate_by_email_stops_before_the_flow(wise_client, wise_emulator):
    known = record(wise_emulator, "active")
    person = attrs.evolve(Applicant(**NEW), email_address=known["emailAddress"], identification_number="EID-1")
    found = pk.registration.wise(wise_client, person, library_id="I018", subscription_id=45)
    assert found.outcome == "duplicate"
    assert found.duplicates.to_dict("records") == [{"id": known["patronSystemId"], "matched_on": "EMAIL"}]
    assert [s.request for s in found.transcript] == ["POST /patronmanagement/duplicate (EMAIL)",
                                                     "POST /patronmanagement/duplicate (EID)"]
    assert wise_emulator.counters.actions["fields"] == 0
    assert sum(wise_emulator.counters.writes.values()) == 0


# -- FOLIO -----------------------------------------------------------------------------------------
def test_folio_lists_every_schema_problem_and_sends_nothing(folio_client, edge_client, folio_emulator):
    before = folio_emulator.counters.requests
    broken = {"generalInfo": {"firstName": "Grace"}, "contactInfo": {"email": "x"}, "status": "TIER-3",
              "preferredEmailCommunication": ["Spam"]}
    with pytest.raises(InputError) as refused:
        pk.registration.folio(folio_client, broken, edge=edge_client)
    problems = dict(refused.value.problems)
    assert problems["generalInfo.lastName"] == "is required"
    assert problems["status"] == "must be one of TIER-1, TIER-2"
    assert problems["preferredEmailCommunication.0"] == "must be one of Support, Programs, Services"
    assert problems["contactInfo.email"] == "must be a valid email address"
    assert folio_emulator.counters.requests == before


def test_folio_stages_then_creates_the_external_patron(folio_client, edge_client, folio_emulator):
    done = pk.registration.folio(folio_client, STAGED, edge=edge_client)
    assert done.outcome == "created"
    assert [s.step for s in done.transcript] == ["registration status", "stage", "external patron",
                                                 "registration status"]
    assert done.transcript[0].outcome == "no user with this email"
    user = folio_client.registration_status("grace.hopper@example.org")
    assert done.ids["user_id"] == user.id and user.external_system_id == done.ids["external_system_id"]
    assert done.detail["staging_user"].status == "TIER-1"  # FOLIO's default for a new staging user


def test_folio_duplicate_by_email_creates_nothing(folio_client, edge_client, folio_emulator):
    pk.registration.folio(folio_client, STAGED, edge=edge_client)
    writes = sum(folio_emulator.counters.writes.values())
    again = pk.registration.folio(folio_client, STAGED, edge=edge_client)
    assert again.outcome == "duplicate" and len(again.duplicates) == 1
    assert sum(folio_emulator.counters.writes.values()) == writes


def test_folio_staging_only_without_an_edge(folio_client, folio_emulator):
    done = pk.registration.folio(folio_client, {**STAGED, "status": "TIER-2"})
    assert done.outcome == "created" and set(done.ids) == {"staging_user_id", "external_system_id"}
    assert done.detail["staging_user"].status == "TIER-2"


# -- Polaris ---------------------------------------------------------------------------------------
def test_polaris_refuses_bad_changes_before_sending(polaris_client, polaris_emulator):
    before = polaris_emulator.counters.requests
    with pytest.raises(InputError) as refused:
        pk.registration.polaris(polaris_client, polaris_emulator.examples["clean"],
                                {"email_address": "nope", "patron_code_id": "adult", "favourite": 1})
    assert set(fields_of(refused.value.problems)) == {"email_address", "patron_code_id", "favourite"}
    assert polaris_emulator.counters.requests == before


def test_polaris_duplicate_prompt_is_declined_and_nothing_saved(polaris_client, polaris_emulator):
    clean, other = polaris_emulator.examples["clean"], polaris_emulator.examples["clean_other"]
    email = polaris_client.get_patron(other).registration.email_address
    found = pk.registration.polaris(polaris_client, clean, {"email_address": email})
    assert found.outcome == "duplicate" and not found.saved
    assert str(other) in found.duplicates["id"].tolist()
    assert polaris_emulator.counters.writes[str(clean)] == 0
    assert "answered No" in found.transcript[0].outcome


def test_polaris_duplicate_allowed_saves_once(polaris_client, polaris_emulator):
    clean, other = polaris_emulator.examples["clean"], polaris_emulator.examples["clean_other"]
    email = polaris_client.get_patron(other).registration.email_address
    done = pk.registration.polaris(polaris_client, clean, {"email_address": email}, allow_duplicate=True)
    assert done.outcome == "updated" and done.ids == {"patron_id": str(clean)}
    assert polaris_emulator.counters.writes[str(clean)] == 1
    assert polaris_client.get_patron(clean).registration.email_address == email


def test_polaris_prompt_without_a_rule_needs_a_person(polaris_client, polaris_emulator):
    from fsi_patron_kit.polaris import PAPIProcedureStep

    patron = polaris_emulator.examples["address_empty"]  # Polaris asks step 17, PatronAddressEmpty
    asked = pk.registration.polaris(polaris_client, patron, {"name_middle": "Q"})
    assert asked.outcome == "needs a person" and asked.prompt.step == PAPIProcedureStep.PatronAddressEmpty
    assert polaris_emulator.counters.writes[str(patron)] == 0
    done = pk.registration.polaris(polaris_client, patron, {"name_middle": "Q"},
                                   answers={PAPIProcedureStep.PatronAddressEmpty: "Yes"})
    assert done.outcome == "updated" and polaris_emulator.counters.writes[str(patron)] == 1
