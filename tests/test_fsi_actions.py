"""Every FSI action through the client, over HTTP, in every wire form a tenant may use."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import requests

from fsi_patron_kit import AuthError, ConflictError, NotFoundError, ServerError
from fsi_patron_kit.fsi import KEYFIELDS, Patron

from .conftest import make_client

WIRE_OF = {"barcode": "barcode", "username": "username", "externalid": "external_id", "email": "email"}


def raw(emulator, **fields):
    """A hand-made JSON post, to see the wire form itself."""
    return requests.post(emulator.endpoint, json=fields, timeout=5)


def raw_token(emulator) -> str:
    code = raw(emulator, action="getcode", apikey=emulator.credentials.apikey).json()["d"]
    answer = raw(emulator, action="gettoken", code=code, apisecret=emulator.credentials.apisecret)
    return json.loads(answer.json()["d"])["token"]


# -- the wire forms themselves ------------------------------------------------------------------
def test_json_call_is_answered_in_a_d_envelope_holding_a_json_string(emulator):
    code = raw(emulator, action="getcode", apikey=emulator.credentials.apikey).json()
    assert set(code) == {"d"} and isinstance(code["d"], str)
    answer = raw(emulator, action="gettoken", code=code["d"], apisecret=emulator.credentials.apisecret).json()
    session = json.loads(answer["d"])
    assert set(session) == {"token", "renewtoken", "expire"}


def test_form_post_is_answered_with_bare_json(emulator):
    answer = requests.post(emulator.endpoint, data={"action": "getcode", "apikey": emulator.credentials.apikey}, timeout=5)
    assert set(answer.json()) == {"code"}


def test_search_defaults_are_page_one_of_fifty(emulator):
    token = raw_token(emulator)
    first = json.loads(raw(emulator, action="searchpatron", token=token).json()["d"])
    explicit = json.loads(raw(emulator, action="searchpatron", token=token, pagenumber="1", pagecount="50").json()["d"])
    assert first["result"] is True
    assert len(first["item"]) == 50
    assert first["item"] == explicit["item"]


def test_one_time_code_cannot_be_reused(emulator):
    code = raw(emulator, action="getcode", apikey=emulator.credentials.apikey).json()["d"]
    secret = emulator.credentials.apisecret
    assert "token" in json.loads(raw(emulator, action="gettoken", code=code, apisecret=secret).json()["d"])
    again = json.loads(raw(emulator, action="gettoken", code=code, apisecret=secret).json()["d"])
    assert again == {"result": False, "msg": "Invalid or expired code."}


# -- auth ---------------------------------------------------------------------------------------
def test_login_runs_getcode_then_gettoken(any_client):
    session = any_client.login()
    assert [e.action for e in any_client.history] == ["getcode", "gettoken"]
    assert session.logins == 1 and session.expires_at is not None


def test_renew_exchanges_token_and_renewtoken(any_client, emulator):
    any_client.login()
    any_client.renew()
    assert any_client.session.renewals == 1
    assert any_client.get_patron(keyfield="barcode", value="0000001").barcode == "0000001"
    assert emulator.counters.actions["renewtoken"] == 1
    assert emulator.counters.actions["getcode"] == 1


def test_token_is_renewed_before_it_expires(emulator, later):
    emulator.knobs.token_lifetime = 30  # shorter than the client's 60 s renewal margin
    with make_client(emulator) as client:
        client.get_patron(keyfield="barcode", value="0000001")
        client.get_patron(keyfield="barcode", value="0000002")  # a fresh token is not renewed
        later(client, 20)  # 10 s left of 30
        client.get_patron(keyfield="barcode", value="0000003")
    assert emulator.counters.actions["renewtoken"] == 1
    assert emulator.counters.actions["getcode"] == 1


def test_short_lived_tokens_do_not_make_parallel_workers_renew_each_other_away(emulator):
    emulator.knobs.token_lifetime = 30
    records = [{"barcode": f"{n:07d}", "room": "W"} for n in range(1, 201)]
    with make_client(emulator) as client:
        results = client.set_patrons(records, keyfield="barcode", allow_new=False, workers=8)
    assert (results["status"] == "updated").all()
    assert emulator.counters.actions["renewtoken"] == 0


def test_expired_token_failure_is_renewed_once_and_the_call_repeated(any_client, emulator):
    any_client.login()
    emulator.expire_tokens()
    patron = any_client.get_patron(keyfield="barcode", value="0000003")
    assert patron.barcode == "0000003"
    actions = [e.action for e in any_client.history]
    assert actions == ["getcode", "gettoken", "getpatron", "renewtoken", "getpatron"]
    assert any_client.history.last()[0].outcome == "ok"


def test_renewal_refused_falls_back_to_a_new_login(client, emulator):
    client.login()
    emulator.expire_tokens()
    emulator.forget_sessions()  # as after a restart
    client.get_patron(keyfield="barcode", value="0000004")
    assert emulator.counters.actions["getcode"] == 2


def test_wrong_api_key_is_an_auth_error_with_the_vendor_message(emulator):
    with make_client(emulator, apikey="not-the-key") as client, pytest.raises(AuthError) as caught:
        client.login()
    assert caught.value.message == "Invalid API key."
    assert caught.value.action == "getcode"


def test_wrong_api_secret_is_an_auth_error(emulator):
    with make_client(emulator, apisecret="not-the-secret") as client, pytest.raises(AuthError) as caught:
        client.search(max_rows=1)
    assert caught.value.message == "Invalid API secret."
    assert caught.value.action == "gettoken"


# -- searchpatron -------------------------------------------------------------------------------
def test_search_pages_walk_lazily_until_an_empty_page(any_client, emulator):
    pages = any_client.search_pages(page_size=400)
    first = next(pages)
    assert emulator.counters.actions["searchpatron"] == 1
    rest = list(pages)
    sizes = [len(first)] + [len(p) for p in rest]
    assert sizes == [400, 400, 400, 300]  # then an empty page ends the walk, unseen
    assert [p.number for p in rest] == [2, 3, 4]


def test_search_returns_every_patron_as_a_typed_frame(any_client, emulator):
    frame = any_client.search()
    stored = emulator.records()
    assert len(frame) == len(stored) == 1500
    assert list(frame.columns) == ["barcode", "username", "external_id", "first_name", "surname", "email",
                                   "class_grade", "room", "role"]
    assert all(str(dtype) == "string" for dtype in frame.dtypes)
    assert frame["barcode"].tolist() == [r["barcode"] for r in stored]
    assert frame["barcode"].iloc[0] == "0000001"  # leading zeros survive


def test_search_when_total_is_a_multiple_of_the_page_size_stops_at_the_empty_page(client):
    frame = client.search(page_size=500)
    assert len(frame) == 1500
    assert [e.action for e in client.history][-4:] == ["searchpatron"] * 4


# A value no seeded patron holds in any field, one per searchable field.
UNIQUE = {"surname": "Qzxvbnm", "barcode": "9912345", "username": "qzxv.reader", "external_id": "EXT-QZXV-77",
          "email": "qzxv.mail@example.org", "class_grade": "QZX9K"}


@pytest.mark.parametrize("field", sorted(UNIQUE))
def test_keyword_search_matches_each_field(client, field):
    value = UNIQUE[field]
    assert client.search(value).empty  # the test's own value is nowhere yet
    fields = {"barcode": "9900001", "first_name": "Test", "surname": "Searcher", field: value}
    client.create_patron(**fields)
    for keyword in (value, value.upper(), value[1:-1].lower()):  # any case, any part
        assert client.search(keyword)["barcode"].tolist() == [fields["barcode"]]


def test_keyword_search_matches_the_role(client, emulator):
    created = client.create_patron(barcode="9900002", first_name="Test", surname="Searcher", role="LIBRARIAN")
    with_role = {r["barcode"] for r in emulator.records() if r["role"] == "LIBRARIAN"}
    found = set(client.search("librarian")["barcode"])
    assert created.patron.barcode in found and with_role <= found


def test_search_max_rows_stops_early(client, emulator):
    frame = client.search(page_size=50, max_rows=120)
    assert len(frame) == 120
    assert emulator.counters.actions["searchpatron"] == 3


def test_search_with_no_match_is_an_empty_typed_frame(client):
    frame = client.search("no-such-patron-anywhere")
    assert frame.empty and str(frame["barcode"].dtype) == "string"


# -- getpatron ----------------------------------------------------------------------------------
@pytest.mark.parametrize("keyfield", [k for k in KEYFIELDS if k != "fullname"])
def test_get_patron_by_each_keyfield(any_client, emulator, keyfield):
    emails = pd.Series([r["email"] for r in emulator.records()])
    target = next(r for r in emulator.records() if r["email"] and (emails == r["email"]).sum() == 1)
    patron = any_client.get_patron(keyfield=keyfield, value=target[keyfield])
    assert isinstance(patron, Patron)
    assert patron.to_wire() == target
    assert patron.raw == target


def test_get_patron_by_fullname_and_ambiguity(client, emulator):
    records = emulator.records()
    names = pd.Series([f"{r['firstname'].strip()} {r['surname'].strip()}" for r in records])
    unique = names[~names.duplicated(keep=False)].iloc[0]
    shared = names[names.duplicated(keep=False)].iloc[0]
    assert client.get_patron(keyfield="fullname", value=unique).full_name == unique
    with pytest.raises(ConflictError):
        client.get_patron(keyfield="fullname", value=shared)
    assert len(client.find_patrons(keyfield="fullname", value=shared)) == (names == shared).sum()


def test_unknown_patron_is_not_found_with_the_vendor_message(any_client):
    with pytest.raises(NotFoundError) as caught:
        any_client.get_patron(keyfield="barcode", value="9999999")
    assert caught.value.message == "Patron not found."
    assert isinstance(caught.value, LookupError)
    assert any_client.find_patrons(keyfield="barcode", value="9999999").empty


# -- setpatron ----------------------------------------------------------------------------------
def test_set_patron_updates_only_the_fields_given(any_client, emulator):
    before = next(r for r in emulator.records() if r["barcode"] == "0000010")
    result = any_client.set_patron(keyfield="barcode", allow_new=False, barcode="0000010", room="L01", class_grade="9C")
    after = next(r for r in emulator.records() if r["barcode"] == "0000010")
    assert result.status == "updated" and result.itemindex == 1
    assert after == {**before, "room": "L01", "classgrade": "9C"}
    assert result.patron.room == "L01"
    assert emulator.counters.writes["0000010"] == 1


def test_set_patron_with_empty_string_clears_a_field(client, emulator):
    client.set_patron(keyfield="barcode", allow_new=False, barcode="0000011", room="")
    assert next(r for r in emulator.records() if r["barcode"] == "0000011")["room"] == ""


def test_set_patron_matched_on_email_can_change_the_barcode(client, emulator):
    target = emulator.records()[20]
    client.set_patron(keyfield="username", allow_new=False, username=target["username"], barcode="X-500")
    assert any(r["barcode"] == "X-500" and r["username"] == target["username"] for r in emulator.records())


def test_allow_new_creates_a_patron(any_client, emulator):
    result = any_client.set_patron(
        keyfield="externalid", allow_new=True, external_id="SMS999001", first_name="Test", surname="Learner",
        email="test.learner@westfield.school.edu.au", class_grade="7A", room="R101", role="STUDENT",
    )
    assert result.status == "created"
    created = [r for r in emulator.records() if r["externalid"] == "SMS999001"]
    assert len(created) == 1 and created[0]["firstname"] == "Test" and created[0]["barcode"]
    assert any_client.get_patron(keyfield="externalid", value="SMS999001").surname == "Learner"


def test_without_allow_new_an_unknown_key_is_not_found_and_nothing_is_written(any_client, emulator):
    with pytest.raises(NotFoundError) as caught:
        any_client.set_patron(keyfield="barcode", allow_new=False, barcode="7777777", room="R1")
    assert caught.value.message == "Patron not found."
    assert len(emulator.records()) == 1500 and not emulator.counters.writes


def test_duplicate_barcode_is_a_conflict(client, emulator):
    with pytest.raises(ConflictError) as caught:
        client.set_patron(keyfield="username", allow_new=False, username=emulator.records()[5]["username"], barcode="0000001")
    assert caught.value.message == "Barcode already exists."


def test_create_patron_refuses_an_existing_key(client, emulator):
    with pytest.raises(ConflictError):
        client.create_patron(barcode="0000001", first_name="Dup", surname="Licate")
    assert not emulator.counters.writes
    assert client.create_patron(barcode="0099999", first_name="New", surname="Patron").status == "created"


def test_itemindex_is_sent_and_echoed(client, emulator):
    result = client.set_patron(keyfield="barcode", allow_new=False, itemindex=7, barcode="0000012", room="R7")
    assert result.itemindex == 7


def test_dry_run_sends_nothing_and_shows_the_payload(client, emulator):
    result = client.set_patron(keyfield="barcode", allow_new=False, dry_run=True, barcode="0000013", room="Z")
    assert emulator.counters.requests == 0
    assert result.status == "dry-run"
    assert result.payload == {"keyfield": "barcode", "allownew": False, "itemindex": 1,
                              "barcode": "0000013", "room": "Z", "token": "***"}


# -- faults -------------------------------------------------------------------------------------
def test_http_500_fault_becomes_a_server_error_with_the_exception_type(client, emulator):
    client.login()
    emulator.knobs.fail_next("500")
    with pytest.raises(ServerError) as caught:
        client.set_patron(keyfield="barcode", allow_new=False, barcode="0000014", room="R1")
    assert caught.value.status == 500
    assert caught.value.code == "System.Exception"
    assert caught.value.message == "There was an error processing the request."
    assert not emulator.counters.writes


def test_request_format_fault_from_the_server(emulator):
    answer = requests.post(emulator.endpoint, data=b"action=getcode", headers={"Content-Type": "text/plain"}, timeout=5)
    assert answer.status_code == 500
    assert answer.json()["ExceptionType"] == "System.InvalidOperationException"


def test_unknown_action_is_a_failure_at_http_200(emulator):
    answer = raw(emulator, action="deletepatron")
    assert answer.status_code == 200
    assert json.loads(answer.json()["d"]) == {"result": False, "msg": "Invalid action."}


def test_a_server_that_caps_the_page_size_still_yields_every_patron(client, emulator):
    emulator.page_cap = 100  # asked for 500 a page, the server quietly answers 100
    frame = client.search(page_size=500)
    assert len(frame) == 1500
    assert frame["barcode"].is_unique


def test_a_server_that_ignores_pagenumber_is_an_error_not_an_endless_loop(client, emulator):
    from fsi_patron_kit import APIError

    emulator.page_cap = 50
    original = emulator.actions["searchpatron"]
    emulator.actions["searchpatron"] = lambda tenant, p: original(tenant, {**p, "pagenumber": 1})
    with pytest.raises(APIError) as caught:
        client.search(page_size=50)
    assert "pagenumber" in caught.value.message


def test_create_patron_by_fullname_refuses_a_name_already_taken(client, emulator):
    taken = emulator.records()[1]
    with pytest.raises(ConflictError):
        client.create_patron(keyfield="fullname", first_name=taken["firstname"].strip(),
                             surname=taken["surname"].strip(), room="HACKED")
    assert not emulator.counters.writes
    assert all(r["room"] != "HACKED" for r in emulator.records())
