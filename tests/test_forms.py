"""Each vendor's form driven as a person would: fill, see the error beside the field, fix,
submit, see the created id. The forms are built from the vendors' rules and send over HTTP."""

from __future__ import annotations

import pytest

from fsi_patron_kit.workflows import forms

from .test_wise_client import NEW

pytest.importorskip("ipywidgets")


def fill(form, values):
    for name, value in values.items():
        form.set(name, value)


def test_fsi_form_marks_required_fields_and_offers_the_document_roles(client):
    form = forms.fsi_form(client)
    assert form.inputs["username"].description.endswith("*")  # the keyfield
    assert not form.inputs["room"].description.endswith("*")
    assert [value for _, value in form.inputs["role"].options] == [None, "STUDENT", "TEACHER", "PARENT", "LIBRARIAN"]


def test_fsi_form_error_beside_the_field_then_created(client, emulator):
    form = forms.fsi_form(client)
    assert form.submit_button.disabled
    fill(form, {"username": "ada.lovelace", "first_name": "Ada", "surname": "Lovelace", "email": "ada@", "role": "STUDENT"})
    assert set(form.errors) == {"email"} and "valid email" in form.error_labels["email"].value
    assert form.error_labels["username"].value == "" and form.submit_button.disabled
    requests = emulator.counters.requests
    form.set("email", "ada@example.org")
    assert form.errors == {} and not form.submit_button.disabled
    assert emulator.counters.requests == requests  # checking sends nothing
    form.submit_button.click()
    barcode = form.result.ids["barcode"]
    assert f">{barcode}</code>" in form.output.value
    assert client.get_patron(keyfield="barcode", value=barcode).email == "ada@example.org"


def test_fsi_form_shows_a_duplicate_and_creates_nothing(client, emulator):
    values = {"username": "ada.lovelace", "first_name": "Ada", "surname": "Lovelace", "email": "ada@example.org"}
    first = forms.fsi_form(client)
    fill(first, values)
    first.submit()
    again = forms.fsi_form(client)
    fill(again, {**values, "username": "a.lovelace"})
    again.submit()
    assert again.result.outcome == "duplicate" and "data-outcome='duplicate'" in again.output.value
    assert first.result.ids["barcode"] in again.output.value
    assert sum(emulator.counters.writes.values()) == 1


def test_wise_form_comes_from_the_librarys_required_fields(wise_client):
    form = forms.wise_form(wise_client, library_id="I304")  # Drenthe also requires a phone number
    assert form.inputs["phone_number"].description == "Phone number *"
    assert form.inputs["first_name"].description == "First name (desired)"
    assert "identification_number" not in form.inputs  # not visible in the answer
    assert form.inputs["zip_code"].placeholder == "9999 AA" and form.inputs["date_of_birth"].placeholder == "yyyy-MM-dd"
    assert list(form.inputs)[:3] == ["initials", "first_name", "last_name"]  # the answer's order


def test_wise_form_offers_with_fees_then_subscribes(wise_client, wise_emulator):
    form = forms.wise_form(wise_client, library_id="I018")
    person = {name: value for name, value in NEW.items() if name in form.inputs}
    fill(form, {**person, "house_number": "5a"})
    assert set(form.errors) == {"house_number", "subscription"} and "digits only" in form.error_labels["house_number"].value
    form.set("house_number", "5")
    labels = [label for label, _ in form.offers.options]
    assert any(label.endswith("€ 43.50 /12 mnd") for label in labels)  # the fee, as Wise words it
    assert form.errors == {"subscription": "choose one of the subscriptions offered"} and form.submit_button.disabled
    form.offers.value = 45
    assert not form.submit_button.disabled
    form.submit()
    assert form.result.outcome == "created" and form.result.ids["subscription_id"] == "45"
    assert f">{form.result.ids['patron_system_id']}</code>" in form.output.value


def test_folio_form_from_the_schemas(folio_client, edge_client):
    form = forms.folio_form(folio_client, edge=edge_client)
    assert form.inputs["generalInfo.lastName"].description.endswith("*")
    assert form.inputs["contactInfo.email"].description.endswith("*")
    assert [v for _, v in form.inputs["status"].options] == [None, "TIER-1", "TIER-2"]
    assert [v for _, v in form.inputs["preferredEmailCommunication"].options] == ["Support", "Programs", "Services"]
    assert "externalSystemId" not in " ".join(form.inputs)  # FOLIO assigns it


def test_folio_form_error_then_staged_and_external(folio_client, edge_client, folio_emulator):
    form = forms.folio_form(folio_client, edge=edge_client)
    fill(form, {"generalInfo.firstName": "Grace", "generalInfo.lastName": "Hopper", "contactInfo.email": "grace",
                "status": "TIER-2", "preferredEmailCommunication": ("Programs",)})
    assert set(form.errors) == {"contactInfo.email"} and form.submit_button.disabled
    form.set("contactInfo.email", "grace.hopper@example.org")
    assert form.errors == {}
    form.submit()
    assert form.result.outcome == "created"
    assert form.result.ids["user_id"] == folio_client.registration_status("grace.hopper@example.org").id
    assert form.result.ids["user_id"] in form.output.value


def test_polaris_form_shows_the_duplicate_prompt_then_saves_when_allowed(polaris_client, polaris_emulator):
    clean, other = polaris_emulator.examples["clean"], polaris_emulator.examples["clean_other"]
    form = forms.polaris_form(polaris_client, clean)
    assert form.inputs["name_last"].description == "name last *"  # required in the document's table
    form.set("name_last", "")
    assert form.errors == {"name_last": "is required"} and form.submit_button.disabled
    form.set("name_last", polaris_client.get_patron(clean).registration.name_last)
    form.set("email_address", "not an email")
    assert set(form.errors) == {"email_address"}
    form.set("email_address", polaris_client.get_patron(other).registration.email_address)
    form.submit()
    assert form.result.outcome == "duplicate" and "Duplicate patrons are found" in form.output.value
    assert str(other) in form.output.value and polaris_emulator.counters.writes[str(clean)] == 0
    form.allow_duplicate.value = True
    form.submit()
    assert form.result.outcome == "updated" and polaris_emulator.counters.writes[str(clean)] == 1
    assert f">{clean}</code>" in form.output.value
