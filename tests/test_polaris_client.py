"""The Polaris client over HTTP: staff session, routes, companions, error forms, dry runs, the registry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import fsi_patron_kit
from fsi_patron_kit import (
    APIError,
    AuthError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from fsi_patron_kit.polaris import Client, Patron

from .conftest import make_polaris_client

NOW = datetime(2026, 3, 14, 15, 30, tzinfo=timezone.utc)


def test_login_reads_the_local_expiry_in_the_site_zone():
    from fsi_patron_kit.sandbox.polaris import PolarisEmulator

    emulator = PolarisEmulator(clock=lambda: NOW.timestamp()).start()
    try:
        with make_polaris_client(emulator) as client:
            session = client.login()
    finally:
        emulator.stop()
    assert session.expires_at == NOW + timedelta(seconds=emulator.knobs.token_lifetime)
    assert session.logins == 1


def test_one_login_serves_every_call_and_the_pas_header_is_sent(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    polaris_client.get_patron(patron_id)
    polaris_client.barcode_for_patron_id(patron_id)
    assert polaris_emulator.logins == 1
    actions = [row.action for row in polaris_client.history]
    assert actions == ["staff-login", "get-patron", "barcode"]
    urls = [row.url for row in polaris_client.history]
    assert urls[0].endswith("/Polaris.ApplicationServices/api/v1/eng/19/authentication/staffuser")
    assert "/Polaris.ApplicationServices/api/v1/eng/19/polaris/3/1/patrons/" in urls[1]


def test_the_login_sends_an_empty_body(polaris_emulator, polaris_client):
    polaris_client.login()
    first = polaris_client.history.last()[0]
    assert (first.method, first.request_bytes, first.status) == ("POST", 0, 200)


def test_an_expired_token_is_replaced_once_after_a_401(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    polaris_client.get_patron(patron_id)
    polaris_emulator.expire_tokens()
    assert polaris_client.get_patron(patron_id).patron_id == patron_id
    assert [row.status for row in polaris_client.history] == [200, 200, 401, 200, 200]
    assert polaris_client.session.logins == 2


def test_a_short_token_lifetime_is_renewed_ahead(polaris_emulator):
    polaris_emulator.knobs.token_lifetime = 5  # shorter than the margin: renewed once past half its life
    with make_polaris_client(polaris_emulator, renew_margin=60) as client:
        client.login()
        client._auth._clock = lambda: datetime.now(timezone.utc).timestamp() + 3  # the client's sense of time
        client.get_patron(polaris_emulator.examples["clean"])
    assert polaris_emulator.logins == 2
    assert [row.status for row in client.history] == [200, 200, 200]  # no 401 was needed


def test_refused_credentials_are_an_auth_error_and_nothing_is_kept(polaris_emulator):
    with make_polaris_client(polaris_emulator, password="not-the-password") as client:
        for _ in range(2):
            with pytest.raises(AuthError) as caught:
                client.get_patron(polaris_emulator.examples["clean"])
        assert caught.value.status == 401 and "empty body" in caught.value.message
        assert client.session.logins == 0 and client.session.expires_at is None
    assert polaris_emulator.counters.actions["login"] == 2  # tried again: a failure is not cached


def test_get_patron_with_flags(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    patron = polaris_client.get_patron(patron_id, basicdata=True, dateinfo=True, regpermissionpriority=False)
    assert isinstance(patron, Patron)
    stored = polaris_emulator.patron(patron_id)
    assert (patron.barcode, patron.patron_code_id, patron.organization_id) == (
        stored["Barcode"], stored["PatronCodeID"], stored["OrganizationID"])
    assert patron.registration.name_last == stored["Registration"]["NameLast"]
    assert len(patron.registration.addresses) == len(stored["Registration"]["Addresses"])
    assert patron.private_fields_cleared is False
    url = polaris_client.history.last()[0].url
    assert "basicdata=1" in url and "dateinfo=1" in url and "regpermissionpriority=false" in url


def test_a_patron_password_is_never_kept(polaris_emulator, polaris_client):
    patron = polaris_client.get_patron(polaris_emulator.examples["clean"])
    assert patron.registration.password is None
    assert "Password" not in patron.raw["Registration"]


def test_private_fields_cleared_is_read_and_an_update_is_refused(polaris_emulator):
    clerk = polaris_emulator.clerk_credentials
    patron_id = polaris_emulator.examples["clean"]
    with make_polaris_client(polaris_emulator, username=clerk.username, password=clerk.password) as client:
        patron = client.get_patron(patron_id)
        assert patron.private_fields_cleared is True
        assert patron.registration.addresses == []  # hidden, not missing
        with pytest.raises(AuthError, match="PrivateFieldsCleared"):
            client.update_registration(patron_id, {"name_middle": "Q"})
    assert polaris_emulator.counters.actions["update_registration"] == 0


def test_barcode_to_id_and_back(polaris_emulator, polaris_client):
    stored = polaris_emulator.patron(polaris_emulator.examples["clean_other"])
    assert polaris_client.patron_id_for_barcode(stored["Barcode"]) == stored["PatronID"]
    assert polaris_client.barcode_for_patron_id(stored["PatronID"]) == stored["Barcode"]
    polaris_emulator.ids_as_list = True  # a site answering [id]
    assert polaris_client.patron_id_for_barcode(stored["Barcode"]) == stored["PatronID"]


def test_a_pas_error_body_becomes_a_typed_error_with_polaris_code(polaris_emulator, polaris_client):
    with pytest.raises(NotFoundError) as caught:
        polaris_client.get_patron(999)
    assert (caught.value.status, caught.value.code) == (404, "60021")
    assert caught.value.message == "Patron with ID 999 not found."
    with pytest.raises(NotFoundError):
        polaris_client.patron_id_for_barcode("no-such-barcode")


def test_server_faults_and_rate_limits(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    body = polaris_client._update_body(patron_id, {}, {})  # the conversation's first round, read and built
    polaris_emulator.knobs.fail_next("500")
    with pytest.raises(ServerError) as caught:
        polaris_client._put(patron_id, body)
    assert caught.value.code == "60500"
    polaris_emulator.knobs.fail_next("429")
    assert polaris_client.get_patron(patron_id).patron_id == patron_id  # retried after Retry-After
    polaris_emulator.knobs.retry_after = 3600
    polaris_emulator.knobs.fail_next("429")
    with pytest.raises(RateLimitError) as limited:
        polaris_client.get_patron(patron_id)
    assert limited.value.retry_after == 3600


def test_a_dropped_write_is_not_resent(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    body = polaris_client._update_body(patron_id, {}, {})
    before = polaris_emulator.counters.requests
    polaris_emulator.knobs.fail_next("reset", 1)
    with pytest.raises(TransportError):
        polaris_client._put(patron_id, body)
    assert polaris_emulator.counters.requests == before + 1  # sent once, dropped, not sent again
    assert polaris_emulator.counters.writes[str(patron_id)] == 0


def test_dry_run_previews_the_first_put(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    preview = polaris_client.update_registration(patron_id, {"email_address": "ada@example.org",
                                                             "password": "new-pin-2468"}, dry_run=True)
    assert preview.method == "PUT" and preview.url.endswith(f"/patrons/{patron_id}")
    assert preview.body["ProcedureStep"] == 1 and preview.body["PatronID"] == patron_id
    assert preview.body["Registration"]["EmailAddress"] == "ada@example.org"
    assert preview.body["Registration"]["Password"] == "***"
    assert polaris_emulator.counters.actions["update_registration"] == 0


def test_service_info_needs_no_login(polaris_emulator, polaris_client):
    assert polaris_client.service_info()["ServiceName"] == "Polaris.ApplicationServices"
    assert polaris_emulator.logins == 0


def test_a_stop_error_is_not_success_despite_http_200(polaris_emulator, polaris_client):
    with pytest.raises(APIError) as caught:
        polaris_client.update_registration(polaris_emulator.examples["missing_first_name"], {"name_middle": "Q"})
    assert caught.value.status == 200 and int(caught.value.code) < 0
    assert polaris_client.history.last()[0].outcome == "error"


def test_connect_reaches_the_sandbox_through_the_registry():
    client = fsi_patron_kit.connect("polaris")
    try:
        assert isinstance(client, Client)
        assert "polaris" in fsi_patron_kit.vendors()
        assert client.service_info()["Major"] == 7
    finally:
        client.close()


def test_repr_names_the_route_not_the_secret(polaris_emulator, polaris_client):
    assert repr(polaris_client).endswith("eng/19/polaris/3/1 as SANDBOX\\staff_admin>")
    assert polaris_emulator.credentials.password not in repr(polaris_client._auth)


def test_a_profile_names_the_route_and_the_staff_user(polaris_emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(tmp_path / "none.toml"))
    settings = {"VENDOR": "polaris", "URL": polaris_emulator.url, "DOMAIN": "sandbox", "USERNAME": "staff_admin",
                "PRODUCT_ID": "20", "ORG_ID": "4", "WORKSTATION_ID": "7", "SITE_TIMEZONE": "America/New_York",
                "PASSWORD": polaris_emulator.credentials.password}
    for name, value in settings.items():
        monkeypatch.setenv(f"PATRON_KIT_COUNTY_{name}", value)
    with Client.from_profile("county") as client:
        patron = client.get_patron(polaris_emulator.examples["clean"])
        url = client.history.last()[0].url
    assert patron.patron_id == polaris_emulator.examples["clean"]
    assert "/Polaris.ApplicationServices/api/v1/eng/20/polaris/4/7/patrons/" in url
