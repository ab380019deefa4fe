"""FOLIO users and groups through mod-users, client and emulator together over HTTP."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import requests

from fsi_patron_kit import APIError, InputError, NotFoundError
from fsi_patron_kit._http import Call, Preview
from fsi_patron_kit.folio.users import USER_FRAME

from .conftest import make_folio_client
from .upstream import conforms, needs_upstream


@pytest.fixture
def users(folio_emulator):
    return folio_emulator.users()


def gets_of(emulator, action: str) -> int:
    return emulator.counters.actions[action]


def test_every_user_is_listed_once_in_declared_dtypes(folio_client, folio_emulator, users):
    frame = folio_client.users()
    assert list(frame.columns) == USER_FRAME.names
    assert sorted(frame["id"]) == sorted(u["id"] for u in users)
    assert str(frame["active"].dtype) == "boolean" and str(frame["expiration_date"].dtype) == "datetime64[us, UTC]"
    assert str(frame["barcode"].dtype) == "string" and str(frame["addresses"].dtype) == "Int64"
    groups = {v: k for k, v in folio_emulator.patron_groups.items()}
    by_id = frame.set_index("id")
    for user in users[:40]:
        row = by_id.loc[user["id"]]
        assert row["patron_group"] == groups[user["patronGroup"]]
        assert row["email"] == user["personal"]["email"] and row["last_name"] == user["personal"]["lastName"]
        assert bool(row["active"]) is user["active"]
        assert row["expiration_date"] == pd.Timestamp(user["expirationDate"])


def test_pages_until_an_empty_page_with_a_window_ahead(folio_client, folio_emulator, users):
    """Every user once, in id order; the walk ends at the first empty page (``totalRecords`` may be
    an estimate), and at most ``workers`` pages past the data are asked for."""
    frame = folio_client.users(page_size=7)
    assert frame["id"].tolist() == sorted(u["id"] for u in users)
    full_pages = math.ceil(len(users) / 7)
    assert full_pages + 1 <= gets_of(folio_emulator, "users") <= full_pages + folio_client.workers
    limited = folio_client.users(page_size=7, max_rows=10)
    assert len(limited) == 10


def test_cql_subset(folio_client, users):
    inactive = {u["id"] for u in users if not u["active"]}
    assert set(folio_client.users("active==false")["id"]) == inactive
    smiths = {u["id"] for u in users if u["personal"]["lastName"].lower() == "smith"}
    jones = {u["id"] for u in users if u["personal"]["lastName"] == "Jones"}
    assert set(folio_client.users('personal.lastName="smith" or personal.lastName==Jones')["id"]) == smiths | jones
    active_smiths = {u["id"] for u in users if u["id"] in smiths and u["active"]}
    found = folio_client.users("(personal.lastName==Smith or personal.lastName==SMITH) and active=true")
    assert set(found["id"]) == active_smiths
    starting = {u["id"] for u in users if u["personal"]["email"].startswith("a")}
    assert set(folio_client.users("personal.email==a*")["id"]) == starting
    ordered = folio_client.users("cql.allRecords=1 sortBy personal.lastName/sort.descending")["last_name"].tolist()
    assert ordered == sorted(ordered, key=str.lower, reverse=True)


def test_cql_words_negation_and_left_to_right_precedence(folio_client, users):
    remote = {u["id"] for u in users if "username" not in u}
    assert set(folio_client.users("username<>*")["id"]) == remote  # no username: never equal to anything
    towns = {u["id"] for u in users if "Ann Arbor" in [a["city"] for a in u["personal"]["addresses"]]}
    assert set(folio_client.users('personal.addresses.city="arbor ann"')["id"]) == towns  # every word, any order
    inactive = {u["id"] for u in users if not u["active"]}
    staff = {u["id"] for u in users if u["type"] == "staff"}
    # CQL's boolean operators bind equally, left to right: (a or b) and c
    found = set(folio_client.users("active==false or type==staff and active==true")["id"])
    assert found == (inactive | staff) & {u["id"] for u in users if u["active"]}


def test_a_malformed_query_is_refused_as_rmb_does(folio_client):
    with pytest.raises(APIError) as caught:
        folio_client.users("active==false and")
    assert caught.value.status == 400 and "malformed parameter 'query'" in str(caught.value)


def test_bad_paging_is_refused_before_sending(folio_client, folio_emulator):
    before = folio_emulator.counters.requests
    for options in ({"page_size": 0}, {"page_size": True}, {"max_rows": -1}):
        with pytest.raises(InputError):
            folio_client.users(**options)
    with pytest.raises(InputError):
        folio_client.users("  ")
    assert folio_emulator.counters.requests == before


def test_emulator_paging_parameters(folio_emulator):
    session = requests.Session()
    session.headers["X-Okapi-Tenant"] = folio_emulator.tenant
    credentials = {"username": folio_emulator.credentials.username, "password": folio_emulator.credentials.password}
    assert session.post(folio_emulator.gateway_url + "/authn/login-with-expiry", json=credentials, timeout=5).ok
    url = folio_emulator.gateway_url + "/users"
    default = session.get(url, timeout=5).json()
    assert len(default["users"]) == 10 and default["totalRecords"] == len(folio_emulator.users())  # RMB's default limit
    assert "totalRecords" not in session.get(url, params={"totalRecords": "none"}, timeout=5).json()
    for bad in ({"limit": "-1"}, {"offset": "x"}, {"totalRecords": "some"}):
        assert session.get(url, params=bad, timeout=5).status_code == 400
    assert session.get(url, timeout=5, headers={"X-Okapi-Token": "nope"}, cookies={"folioAccessToken": "x"}).status_code == 401


def test_groups_are_the_tenants_patron_groups(folio_client, folio_emulator):
    groups = folio_client.groups()
    assert dict(zip(groups["group"], groups["id"], strict=True)) == folio_emulator.patron_groups
    assert list(folio_client.groups("group==*grad*")["group"].sort_values()) == ["graduate", "undergrad"]


def test_listing_survives_faults(folio_client, folio_emulator, users):
    folio_emulator.knobs.fail_next("503")
    folio_emulator.knobs.fail_next("reset")
    assert len(folio_client.users(page_size=100)) == len(users)
    assert folio_emulator.counters.faults["503"] == 1 and folio_emulator.counters.faults["reset"] == 1


def test_replace_user_writes_the_whole_record(folio_client, folio_emulator, users):
    user = folio_client.get_user(users[10]["id"])
    body = dict(user.raw)
    body["personal"] = {**body["personal"], "email": "replaced@example.org"}
    body.pop("barcode")
    assert folio_client.replace_user(body) is None
    stored = next(u for u in folio_emulator.users() if u["id"] == body["id"])
    assert stored["personal"]["email"] == "replaced@example.org" and "barcode" not in stored
    assert stored["metadata"]["updatedByUserId"] == folio_emulator.users()[0]["id"]
    assert stored["metadata"]["createdDate"] == users[10]["metadata"]["createdDate"]
    assert folio_emulator.counters.writes[body["id"]] == 1


def test_replace_user_refusals(folio_client, folio_emulator, users):
    other = dict(users[11], username=users[12]["username"])
    with pytest.raises(APIError) as caught:
        folio_client.replace_user(other)
    assert caught.value.status == 422 and "username already exists" in str(caught.value)
    with pytest.raises(NotFoundError):
        folio_client.replace_user(dict(users[11], id="0f9c2a4e-6b1d-4c3e-9a7f-2d5b8e1c4a60"))
    with pytest.raises(APIError) as caught:
        folio_client.replace_user(dict(users[11], unknownField=1))
    assert caught.value.status == 422
    assert not folio_emulator.counters.writes


def test_replace_user_checks_before_sending_and_previews(folio_client, folio_emulator, users):
    before = folio_emulator.counters.requests
    with pytest.raises(InputError):
        folio_client.replace_user(dict(users[5], id="not-a-uuid"))
    with pytest.raises(InputError):
        folio_client.replace_user({**users[5], "personal": {"firstName": "No last name"}})
    preview = folio_client.replace_user(users[5], dry_run=True)
    assert isinstance(preview, Preview) and preview.method == "PUT" and preview.url.endswith(users[5]["id"])
    assert folio_emulator.counters.requests == before


def test_tenant_is_the_clients(folio_emulator):
    with make_folio_client(folio_emulator) as client:
        assert client.tenant == folio_emulator.tenant


@needs_upstream
def test_answers_conform_to_mod_users_schemas(folio_client, folio_emulator, users):
    for user in folio_client.user_records(page_size=50):
        conforms(user, "mod-users/userdata.json")
    collection = folio_client._send(Call(method="GET", path="/users", params={"limit": 5}))
    conforms(collection, "mod-users/userdataCollection.json")
    conforms(folio_client._send(Call(method="GET", path="/groups")), "mod-users/usergroups.json")
