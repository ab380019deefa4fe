"""The exchange history: masked headers, readable bodies, show(last=n) and to_curl()."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote

import pytest

from fsi_patron_kit._history import mask_headers, pretty

from .conftest import make_client, make_edge_client, make_folio_client


def secrets_of(client) -> list[str]:
    """Every credential the client holds or was handed (looked up inside the kit's own objects)."""
    held = client._auth._credentials
    values = [getattr(held, name) for name in ("token", "renewtoken", "access", "refresh")
              if isinstance(getattr(held, name, None), str)]
    return [v for v in values if v]


def test_fsi_json_inside_a_string_is_shown_as_json(emulator):
    with make_client(emulator, record_bodies=True) as client:
        client.get_patron(keyfield="barcode", value="0000001")
        shown = repr(client.history.show(last=1))
        recorded = client.history.last()[0].response_body
    assert '\\"' in recorded  # the wire: {"d": "{\"result\": true, ...}"}
    assert '\\"' not in shown
    assert '"result": true' in shown and '"barcode": "0000001"' in shown
    assert shown.startswith("getpatron: POST /services/SSLIB_SER_PATRON_API.asmx/patron -> 200")


def test_show_gives_the_last_exchanges_in_order_and_cuts_long_bodies(emulator):
    with make_client(emulator, record_bodies=True) as client:
        client.search(page_size=10, max_rows=10, workers=1)
        client.get_patron(keyfield="barcode", value="0000002")
        shown = client.history.show(last=3, width=80)
    assert [e.action for e in shown] == ["gettoken", "searchpatron", "getpatron"]
    text = repr(shown)
    assert text.count(" …") >= 1
    assert "<pre" in shown._repr_html_()
    assert repr(client.history.show(last=0)) == "(no exchanges)"


def test_no_secret_reaches_show_or_curl(emulator):
    with make_client(emulator, record_bodies=True) as client:
        client.get_patron(keyfield="barcode", value="0000001")
        client.renew()
        shown = repr(client.history.show(last=len(client.history)))
        curls = "\n".join(e.to_curl() for e in client.history)
        held = secrets_of(client)
    assert held
    for secret in [*held, emulator.credentials.apikey, emulator.credentials.apisecret]:
        assert secret not in shown
        assert secret not in curls
    assert '"token": "***"' in curls


def test_to_curl_repeats_the_request_with_secrets_masked(emulator):
    with make_client(emulator, record_bodies=True) as client:
        client.get_patron(keyfield="barcode", value="0000003")
        command = client.history.last()[0].to_curl()
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", emulator.endpoint]
    assert words[words.index("-H") + 1] == "Content-Type: application/json"
    body = json.loads(words[words.index("--data-raw") + 1])
    assert body == {"action": "getpatron", "keyfield": "barcode", "keyvalue": "0000003", "token": "***"}


def test_a_body_not_recorded_is_said_so(emulator):
    with make_client(emulator) as client:
        client.get_patron(keyfield="barcode", value="0000003")
        exchange = client.history.last()[0]
    assert "record_bodies=True" in exchange.to_curl()
    assert "not recorded" in exchange.to_text()


def test_folio_headers_are_recorded_tenant_shown_cookies_by_name_only(folio_emulator):
    with make_folio_client(folio_emulator) as client:
        client.registration_status(folio_emulator.users()[3]["externalSystemId"])
        login, call = client.history.last(2)
        held = secrets_of(client)
    assert call.request_headers["X-Okapi-Tenant"] == folio_emulator.tenant
    cookie = call.request_headers["Cookie"]
    assert "folioAccessToken=***" in cookie
    set_cookie = login.response_headers["Set-Cookie"]
    assert "folioAccessToken=***" in set_cookie and "folioRefreshToken=***" in set_cookie
    assert "Max-Age=600" in set_cookie  # attributes stay readable
    everything = repr(client.history.show(last=2)) + call.to_curl() + login.to_curl()
    assert held and not any(secret in everything for secret in held)


def test_the_edge_apikey_is_masked_in_the_curl_url(folio_emulator):
    with make_edge_client(folio_emulator) as client:
        client.external_patrons()
        command = client.history.last()[0].to_curl()
    key = folio_emulator.edge_apikey
    assert "apikey=***" in command
    assert key not in command and quote(key, safe="") not in command


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Authorization": "Bearer abc123"}, {"Authorization": "***"}),
        ({"Cookie": "a=1; folioAccessToken=xyz"}, {"Cookie": "a=***; folioAccessToken=***"}),
        ({"Set-Cookie": "t=v1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, u=v2; HttpOnly"},
         {"Set-Cookie": "t=***; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, u=***; HttpOnly"}),
        ({"X-Okapi-Tenant": "diku"}, {"X-Okapi-Tenant": "diku"}),
    ],
)
def test_header_masking(headers, expected):
    assert mask_headers(headers) == expected


def test_pretty_lays_out_forms_one_field_per_line():
    assert pretty("action=getpatron&keyvalue=0000001&token=%2A%2A%2A") == "action=getpatron\nkeyvalue=0000001\ntoken=***"
    assert pretty("plain text answer") == "plain text answer"


# -- what reprs show ------------------------------------------------------------------------------------
@pytest.fixture
def personal_data_shown():
    import fsi_patron_kit as pk

    pk.options.show_personal_data = True
    yield
    pk.options.show_personal_data = False


def test_a_patron_card_hides_personal_data_unless_asked(emulator, request):
    record = emulator.records()[0]
    with make_client(emulator) as client:
        patron = client.get_patron(keyfield="barcode", value=record["barcode"])
        frame = client.find_patrons(keyfield="barcode", value=record["barcode"])
    hidden = patron._repr_html_()
    assert record["email"] not in hidden and record["surname"] not in hidden and record["barcode"] in hidden
    assert record["email"] not in repr(patron)
    assert frame.loc[0, "email"] == record["email"]  # frames hold the data asked for
    request.getfixturevalue("personal_data_shown")
    assert record["email"] in patron._repr_html_()


def test_show_personal_data_takes_only_true_or_false():
    import fsi_patron_kit as pk

    with pytest.raises(TypeError):
        pk.options.show_personal_data = "yes"
    assert pk.options.show_personal_data is False


def test_a_preview_repr_does_not_print_the_body(folio_emulator):
    patron = {"generalInfo": {"externalSystemId": "x-1", "firstName": "Ada", "lastName": "Lovelace"},
              "addressInfo": {"addressLine0": "1 Main St", "city": "Metropolis", "province": "NY", "zip": "12345",
                              "country": "USA"},
              "contactInfo": {"email": "ada@example.org"}, "preferredEmailCommunication": ["Programs"]}
    with make_edge_client(folio_emulator) as client:
        preview = client.create_external_patron(patron, dry_run=True)
    assert "Lovelace" not in repr(preview) and "ada@example.org" not in repr(preview)
    assert "4 fields" in repr(preview)
    shown = preview._repr_html_()
    assert "Lovelace" not in shown and "x-1" in shown and "USA" in shown
    assert preview.body == patron  # the preview still holds the whole body


def test_a_batch_dry_run_shows_each_rows_payload_as_it_would_be_sent(emulator):
    rows = [{"barcode": "0000001", "room": "R1"}, {"barcode": "0000002", "class_grade": ""}]
    with make_client(emulator, record_bodies=True) as client:
        planned = client.set_patrons(rows, keyfield="barcode", allow_new=False, dry_run=True)
        assert emulator.counters.actions["setpatron"] == 0
        client.set_patrons(rows, keyfield="barcode", allow_new=False)
        sent = [json.loads(e.request_body) for e in client.history if e.action == "setpatron"]
    for payload, body in zip(planned["payload"], sent, strict=True):
        assert {**json.loads(payload), "action": "setpatron", "token": "***"} == body


def test_the_session_has_an_html_card(emulator):
    with make_client(emulator) as client:
        client.login()
        card = client.session._repr_html_()
    assert "logins" in card and "<td>1</td>" in card
