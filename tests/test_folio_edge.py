"""folio.EdgeClient over HTTP: document 003's calls, each of its error codes, and the apikey."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pandas as pd
import pytest

from fsi_patron_kit import AuthError, ConflictError, NotFoundError, TransportError
from fsi_patron_kit.folio import ExternalPatron, make_apikey, read_apikey
from fsi_patron_kit.sandbox.folio.data import PATRON_GROUPS, REMOTE_GROUP

from .conftest import make_edge_client


@pytest.fixture(params=["document", "current"])
def edge_client(request, folio_emulator):
    """The edge client in each edge form: document 003's (caller in the path) and today's."""
    with make_edge_client(folio_emulator, edge_form=request.param, record_bodies=True) as made:
        yield made


# Document 003's own example payload.
DOC_PATRON = {
    "generalInfo": {"externalSystemId": "ext-kapil-new-record-100", "firstName": "new-record-100",
                    "preferredFirstName": "New Record", "middleName": "", "lastName": "new-record-100"},
    "addressInfo": {"addressLine0": "123 Main St", "addressLine1": "Apt 4B", "city": "Metropolis", "province": "NY",
                    "zip": "12345", "country": "USA"},
    "contactInfo": {"phone": "555-123456", "mobilePhone": "555-5678", "email": "new-record-100@test.com"},
    "preferredEmailCommunication": ["Support", "Programs", "Services"],
}


def with_email(email: str, external_id: str = "ext-test-1") -> dict:
    return {**DOC_PATRON, "generalInfo": {**DOC_PATRON["generalInfo"], "externalSystemId": external_id},
            "contactInfo": {**DOC_PATRON["contactInfo"], "email": email}}


def users_by_email(emulator) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for user in emulator.users():
        email = user["personal"].get("email", "").lower()
        if email:
            found.setdefault(email, []).append(user)
    return found


def remote(user) -> bool:
    return user["patronGroup"] == PATRON_GROUPS[REMOTE_GROUP]


def test_the_documents_apikey_format():
    key = make_apikey(salt="xqi73c4Fs9", tenant="diku", username="diku_admin")
    assert key.reveal() == "eyJzIjoieHFpNzNjNEZzOSIsInQiOiJkaWt1IiwidSI6ImRpa3VfYWRtaW4ifQ=="
    assert read_apikey(key) == read_apikey(key.reveal())
    assert (read_apikey(key).tenant, read_apikey(key).username) == ("diku", "diku_admin")


def test_create_get_and_update_an_external_patron(edge_client, folio_emulator):
    created = edge_client.create_external_patron(DOC_PATRON)
    assert isinstance(created, ExternalPatron) and created.to_wire() == DOC_PATRON  # the document: echoed back
    user = users_by_email(folio_emulator)["new-record-100@test.com"][0]
    assert (user["type"], user["patronGroup"], user["active"]) == ("patron", PATRON_GROUPS[REMOTE_GROUP], True)
    fetched = edge_client.get_external_patron("new-record-100@test.com")
    assert fetched.general_info.external_system_id == "ext-kapil-new-record-100"
    assert fetched.address_info.city == "Metropolis"
    changed = {**DOC_PATRON, "generalInfo": {**DOC_PATRON["generalInfo"], "lastName": "Renamed"},
               "preferredEmailCommunication": ["Support", "Programs"]}
    assert edge_client.update_external_patron("new-record-100@test.com", changed) is None  # 204
    again = edge_client.get_external_patron("new-record-100@test.com")
    assert again.general_info.last_name == "Renamed"
    assert again.preferred_email_communication == ["Support", "Programs"]
    assert [e.status for e in edge_client.history] == [201, 200, 204, 200]


def test_dry_run_create_sends_nothing(edge_client, folio_emulator):
    preview = edge_client.create_external_patron(DOC_PATRON, dry_run=True)
    assert preview.body == DOC_PATRON and "apikey=***" in preview.url
    assert folio_emulator.counters.requests == 0


@pytest.mark.parametrize(
    "pick, code, message",
    [
        (lambda users: next(e for e, us in users.items() if len(us) > 1), "MULTIPLE_USER_WITH_EMAIL",
         "Multiple users found with the same email"),
        (lambda users: next(e for e, us in users.items() if len(us) == 1 and not us[0]["active"]),
         "USER_ACCOUNT_INACTIVE", "User account is not active"),
        (lambda users: next(e for e, us in users.items() if len(us) == 1 and us[0]["active"] and not remote(us[0])),
         "INVALID_PATRON_GROUP", "User does not belong to the required patron group"),
        (lambda users: next(e for e, us in users.items() if len(us) == 1 and us[0]["active"] and remote(us[0])),
         "USER_ALREADY_EXIST", "User already exists"),
    ],
    ids=["multiple", "inactive", "wrong-group", "exists"],
)
def test_create_refusals(edge_client, folio_emulator, pick, code, message):
    email = pick(users_by_email(folio_emulator))
    before = len(folio_emulator.users())
    with pytest.raises(ConflictError) as caught:
        edge_client.create_external_patron(with_email(email))
    assert (caught.value.status, caught.value.code, caught.value.message) == (422, code, message)
    assert len(folio_emulator.users()) == before


def test_get_unknown_is_user_not_found_and_shared_is_multiple(edge_client, folio_emulator):
    with pytest.raises(NotFoundError) as caught:
        edge_client.get_external_patron("nobody@example.org")
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "USER_NOT_FOUND",
                                                                              "User does not exist")
    assert caught.value.vendor == "folio-edge"
    shared = next(e for e, us in users_by_email(folio_emulator).items() if len(us) > 1)
    with pytest.raises(ConflictError) as caught:
        edge_client.get_external_patron(shared)
    assert (caught.value.status, caught.value.code) == (422, "MULTIPLE_USER_WITH_EMAIL")


def test_update_refusals(edge_client, folio_emulator):
    users = users_by_email(folio_emulator)
    with pytest.raises(NotFoundError) as caught:
        edge_client.update_external_patron("nobody@example.org", with_email("nobody@example.org"))
    assert (caught.value.status, caught.value.code) == (404, "USER_NOT_FOUND")

    shared = next(e for e, us in users.items() if len(us) > 1)
    with pytest.raises(ConflictError) as caught:
        edge_client.update_external_patron(shared, with_email(shared))
    assert caught.value.code == "MULTIPLE_USER_WITH_EMAIL"

    mine, theirs = [e for e, us in users.items() if len(us) == 1 and us[0]["active"] and remote(us[0])][:2]
    with pytest.raises(ConflictError) as caught:
        edge_client.update_external_patron(mine, with_email(theirs))
    assert (caught.value.code, caught.value.message) == (
        "EMAIL_ALREADY_EXIST", "User already exist with email provided in payload")

    local = next(e for e, us in users.items() if len(us) == 1 and us[0]["active"] and not remote(us[0]))
    with pytest.raises(ConflictError) as caught:
        edge_client.update_external_patron(local, with_email(local))
    assert (caught.value.code, caught.value.message) == (
        "PATRON_GROUP_NOT_APPLICABLE", "Required Patron group not applicable for user")
    assert not folio_emulator.counters.writes


def test_expired_external_patrons_are_yesterdays(edge_client, folio_emulator):
    frame = edge_client.expired_external_patrons()
    yesterday = folio_emulator.today - timedelta(days=1)
    expected = {u["personal"]["email"] for u in folio_emulator.users()
                if remote(u) and date.fromisoformat(u["expirationDate"][:10]) == yesterday}
    assert set(frame["email"]) == expected
    assert len(frame) == folio_emulator.planted["remote_expired_yesterday"]
    assert list(frame.columns)[:2] == ["external_system_id", "first_name"]
    assert all(str(t) == "string" for t in frame.dtypes)


def test_all_external_patrons(edge_client, folio_emulator):
    frame = edge_client.external_patrons()
    assert len(frame) == sum(remote(u) for u in folio_emulator.users())
    assert frame["preferred_email_communication"].notna().any()


def test_bad_apikey_is_an_auth_error(folio_emulator):
    wrong = make_apikey(salt="guess", tenant=folio_emulator.tenant, username="edge_patron")
    with make_edge_client(folio_emulator, apikey=wrong) as client, pytest.raises(AuthError) as caught:
        client.external_patrons()
    assert caught.value.status == 401


def test_unknown_caller_is_user_not_found(folio_emulator):
    with make_edge_client(folio_emulator, caller="ext-nobody") as client, pytest.raises(NotFoundError) as caught:
        client.external_patrons()
    assert caught.value.code == "USER_NOT_FOUND"


def test_apikey_never_shows(folio_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    key = folio_emulator.edge_apikey
    with make_edge_client(folio_emulator, record_bodies=True) as client:
        client.external_patrons(expired=True)
        with pytest.raises(NotFoundError) as caught:
            client.get_external_patron("nobody@example.org")
        folio_emulator.stop()
        with pytest.raises(TransportError) as gone:
            client.external_patrons()
    assert gone.value.__context__ is None  # requests' own exception, URL and all, is not kept
    shown = [repr(client), client.history.to_frame(bodies=True).to_csv(), str(caught.value), repr(caught.value),
             caught.value.url, str(gone.value), *(r.getMessage() for r in caplog.records)]
    assert all(parse_qs(urlsplit(row.url).query)["apikey"] == ["***"] for row in client.history)
    assert any("urllib3" in r.name for r in caplog.records)
    forms = {key, quote(key, safe=""), key.rstrip("=")}  # as sent, as in a URL, unpadded
    for text in shown:
        for form in forms:
            assert form not in text


def test_frame_dates_for_yesterday_are_stable(folio_emulator):
    """The planted 'expired yesterday' users follow the emulator's clock, not the wall clock."""
    users = [u for u in folio_emulator.users() if remote(u)]
    days = pd.Series([datetime.fromisoformat(u["expirationDate"].replace("Z", "+00:00")).date() for u in users])
    assert (days == folio_emulator.today - timedelta(days=1)).sum() == folio_emulator.planted["remote_expired_yesterday"]


def test_a_patron_with_the_documents_partial_address_is_accepted(edge_client, folio_emulator):
    """Document 003's own answers leave province and zip out; the kit and the sandbox follow it."""
    partial = {**with_email("partial.address@example.org", "ext-partial"),
               "addressInfo": {"addressLine0": "123 Main St", "addressLine1": "Apt 4B", "city": "Metropolis",
                               "country": ""}}
    created = edge_client.create_external_patron(partial)
    assert created.address_info.city == "Metropolis" and created.address_info.zip is None
    assert created.address_info.country is None  # an empty country is not stored
    assert edge_client.get_external_patron("partial.address@example.org").address_info.city == "Metropolis"


def test_an_update_that_changes_the_email_is_never_sent_twice(edge_client, folio_emulator):
    from fsi_patron_kit import ServerError

    edge_client.create_external_patron(with_email("first.address@example.org", "ext-move"))
    folio_emulator.knobs.fail_next("503")  # as if the answer to an applied update were lost
    with pytest.raises(ServerError):
        edge_client.update_external_patron("first.address@example.org",
                                           with_email("second.address@example.org", "ext-move"))
    assert [e.action for e in edge_client.history].count("update-external-patron") == 1
    # The same email: repeating is harmless, so a lost answer is retried.
    folio_emulator.knobs.fail_next("503")
    assert edge_client.update_external_patron("first.address@example.org",
                                              with_email("first.address@example.org", "ext-move")) is None
