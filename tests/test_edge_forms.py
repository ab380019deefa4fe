"""folio.EdgeClient in both edge forms: document 003's (caller in the path) and today's (without).

The same calls, over HTTP, for each form; the paths sent are read from the client's history.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.errors import InputError

from .conftest import make_edge_client

PATRON = {
    "generalInfo": {"externalSystemId": "ext-forms-1", "firstName": "Form", "lastName": "Tester"},
    "addressInfo": {"addressLine0": "1 Path St", "city": "Metropolis", "province": "NY", "zip": "12345",
                    "country": "USA"},
    "contactInfo": {"phone": "555-0100", "email": "form.tester@example.org"},
    "preferredEmailCommunication": ["Programs"],
}


def paths(client) -> list[str]:
    return [urlsplit(e.url).path for e in client.history]


@pytest.fixture(params=["document", "current"])
def form_client(request, folio_emulator):
    with make_edge_client(folio_emulator, edge_form=request.param, record_bodies=True) as client:
        yield client


def test_each_form_addresses_its_own_paths(form_client, folio_emulator):
    prefix = "/patron/account" + (f"/{folio_emulator.caller_id}" if form_client.edge_form == "document" else "")
    form_client.create_external_patron(PATRON)
    fetched = form_client.get_external_patron("form.tester@example.org")
    changed = {**PATRON, "addressInfo": {**PATRON["addressInfo"], "city": "Gotham"}}
    form_client.update_external_patron("form.tester@example.org", changed)
    listed = form_client.external_patrons()
    assert fetched.general_info.external_system_id == "ext-forms-1"
    assert form_client.get_external_patron("form.tester@example.org").address_info.city == "Gotham"
    assert "form.tester@example.org" in set(listed["email"])
    assert paths(form_client) == [
        prefix,
        f"{prefix}/by-email/form.tester%40example.org",
        f"{prefix}/by-email/form.tester%40example.org",
        f"{prefix}/external-patrons",
        f"{prefix}/by-email/form.tester%40example.org",
    ]


def test_a_dry_run_previews_the_forms_path(form_client, folio_emulator):
    preview = form_client.create_external_patron(PATRON, dry_run=True)
    expected = "/patron/account" + (f"/{folio_emulator.caller_id}" if form_client.edge_form == "document" else "")
    assert urlsplit(preview.url).path == expected
    assert folio_emulator.counters.actions.get("create-external-patron", 0) == 0


def test_the_documents_form_is_the_default_and_needs_a_caller(folio_emulator):
    with make_edge_client(folio_emulator) as client:
        assert client.edge_form == "document"
    with pytest.raises(InputError) as caught:
        make_edge_client(folio_emulator, caller=None)
    assert caught.value.field == "caller"


def test_todays_form_needs_no_caller(folio_emulator):
    with make_edge_client(folio_emulator, caller=None, edge_form="current") as client:
        assert client.caller is None


def test_an_unknown_form_is_refused(folio_emulator):
    with pytest.raises(InputError) as caught:
        make_edge_client(folio_emulator, edge_form="v2")
    assert caught.value.field == "edge_form"


def test_the_form_is_a_profile_setting(monkeypatch, tmp_path, folio_emulator):
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PATRON_KIT_CAMPUS_VENDOR", "folio-edge")
    monkeypatch.setenv("PATRON_KIT_CAMPUS_URL", folio_emulator.edge_url)
    monkeypatch.setenv("PATRON_KIT_CAMPUS_EDGE_FORM", "current")
    monkeypatch.setenv("PATRON_KIT_CAMPUS_APIKEY", folio_emulator.edge_apikey.reveal()
                       if hasattr(folio_emulator.edge_apikey, "reveal") else folio_emulator.edge_apikey)
    with pk.connect(profile="campus") as client:
        assert (client.edge_form, client.caller) == ("current", None)
