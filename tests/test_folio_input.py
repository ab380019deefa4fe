"""Every schema rule of the FOLIO documents refused before sending, naming the field and rule."""

from __future__ import annotations

import copy
import uuid

import pytest

from fsi_patron_kit import InputError

USER = str(uuid.UUID(int=1, version=4))
ITEM = str(uuid.UUID(int=2, version=4))
PICKUP = str(uuid.UUID(int=3, version=4))

STAGING = {
    "generalInfo": {"firstName": "Ada", "lastName": "Byron"},
    "addressInfo": {"addressLine0": "1 Main St", "city": "Metropolis", "province": "NY", "zip": "12345",
                    "country": "USA"},
    "contactInfo": {"email": "ada@example.org"},
    "preferredEmailCommunication": ["Support"],
}
EXTERNAL = {
    "generalInfo": {"externalSystemId": "ext-1", "firstName": "Ada", "lastName": "Byron"},
    "addressInfo": {"addressLine0": "1 Main St", "city": "Metropolis", "province": "NY", "zip": "12345",
                    "country": "USA"},
    "contactInfo": {"email": "ada@example.org"},
}


def changed(base, path, value=None, *, drop=False):
    body = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    if drop:
        del target[last]
    else:
        target[last] = value
    return body


STAGING_CASES = [
    (changed(STAGING, "generalInfo", drop=True), "generalInfo", "is required"),
    (changed(STAGING, "generalInfo.firstName", drop=True), "generalInfo.firstName", "is required"),
    (changed(STAGING, "generalInfo.lastName", drop=True), "generalInfo.lastName", "is required"),
    (changed(STAGING, "contactInfo.email", drop=True), "contactInfo.email", "is required"),
    (changed(STAGING, "contactInfo.email", "ada@@example"), "contactInfo.email", "valid email"),
    (changed(STAGING, "status", "TIER-3"), "status", "TIER-1, TIER-2"),
    (changed(STAGING, "preferredEmailCommunication", ["Support", "Support"]), "preferredEmailCommunication", "repeat"),
    (changed(STAGING, "preferredEmailCommunication", ["Support", "Programs", "Services", "Support"]),
     "preferredEmailCommunication", "at most 3"),
    (changed(STAGING, "preferredEmailCommunication", ["Newsletters"]), "preferredEmailCommunication.0",
     "Support, Programs, Services"),
    (changed(STAGING, "nickname", "Ada"), "nickname", "not a property"),
    (changed(STAGING, "generalInfo.title", "Lady"), "generalInfo.title", "not a property"),
    (changed(STAGING, "addressInfo.state", "NY"), "addressInfo.state", "not a property"),
    (changed(STAGING, "metadata", {"createdDate": "2026-01-01T00:00:00Z", "createdByUserId": "not-a-uuid"}),
     "metadata.createdByUserId", "UUID"),
    (changed(STAGING, "metadata", {"updatedDate": "2026-01-01T00:00:00Z"}), "metadata.createdDate", "is required"),
    (changed(STAGING, "isEmailVerified", "yes"), "isEmailVerified", "boolean"),
]


@pytest.fixture
def quiet(folio_emulator):
    """Asserts that the test sent nothing at all to either FOLIO server."""
    before = folio_emulator.counters.requests
    yield
    assert folio_emulator.counters.requests == before


@pytest.mark.parametrize("body, field, rule", STAGING_CASES, ids=[c[1] + ":" + c[2] for c in STAGING_CASES])
def test_staging_patron_rules(folio_client, quiet, body, field, rule):
    for call in (lambda: folio_client.create_staging_patron(body),
                 lambda: folio_client.update_staging_patron(USER, body)):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.field == field
        assert rule in caught.value.rule


EXTERNAL_CASES = [
    (changed(EXTERNAL, "generalInfo.externalSystemId", drop=True), "generalInfo.externalSystemId", "is required"),
    (changed(EXTERNAL, "addressInfo", drop=True), "addressInfo", "is required"),
    (changed(EXTERNAL, "contactInfo.email", "nobody"), "contactInfo.email", "valid email"),
    (changed(EXTERNAL, "status", "TIER-1"), "status", "not a property"),
    (changed(EXTERNAL, "preferredEmailCommunication", ["Programs", "Programs"]), "preferredEmailCommunication",
     "repeat"),
]


@pytest.mark.parametrize("body, field, rule", EXTERNAL_CASES, ids=[c[1] + ":" + c[2] for c in EXTERNAL_CASES])
def test_external_patron_rules(edge_client, quiet, body, field, rule):
    for call in (lambda: edge_client.create_external_patron(body),
                 lambda: edge_client.update_external_patron("ada@example.org", body)):
        with pytest.raises(InputError) as caught:
            call()
        assert (caught.value.field, rule in caught.value.rule) == (field, True)


PATH_CASES = {
    "user id": (lambda c: c.account("12345"), "user_id"),
    "user id of version 6": (lambda c: c.account("1ef0d1a2-3b4c-6d5e-8f70-0123456789ab"), "user_id"),
    "item id": (lambda c: c.renew(USER, "item-1"), "item_id"),
    "instance id": (lambda c: c.place_instance_hold(USER, "x", pickup_location_id=PICKUP), "instance_id"),
    "hold id": (lambda c: c.cancel_hold(USER, "h", cancellation_reason_id=PICKUP, canceled_by_user_id=USER),
                "hold_id"),
    "externalSystemId": (lambda c: c.update_staging_patron("ext-1", STAGING), "external_system_id"),
    "pickup location": (lambda c: c.place_item_hold(USER, ITEM, pickup_location_id="desk-1"), "pickupLocationId"),
    "request date": (lambda c: c.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, request_date="yesterday"),
                     "requestDate"),
    "cancellation reason": (lambda c: c.cancel_hold(USER, ITEM, cancellation_reason_id="lost",
                                                    canceled_by_user_id=USER), "cancellation_reason_id"),
    "offset": (lambda c: c.account(USER, offset=-1), "offset"),
    "limit": (lambda c: c.account(USER, limit=2**31), "limit"),
    "include flag": (lambda c: c.account(USER, include_loans="yes"), "include_loans"),
    "sort by": (lambda c: c.account(USER, sort_by=""), "sort_by"),
    "identifier": (lambda c: c.registration_status(" "), "identifier"),
    "identifier of dots": (lambda c: c.registration_status(".."), "identifier"),
    "user id with a trailing newline": (lambda c: c.account(USER + "\n"), "user_id"),
    "dry_run not a bool": (lambda c: c.create_staging_patron(STAGING, dry_run=None), "dry_run"),
    "service point target": (lambda c: c.allowed_service_points(USER), "item_id/instance_id"),
    "not a mapping": (lambda c: c.create_staging_patron(["Ada"]), "patron"),
}


@pytest.mark.parametrize("case", list(PATH_CASES))
def test_ids_and_parameters(folio_client, quiet, case):
    call, field = PATH_CASES[case]
    with pytest.raises(InputError) as caught:
        call(folio_client)
    assert caught.value.field == field


def test_edge_email_and_flags(edge_client, quiet):
    with pytest.raises(InputError) as caught:
        edge_client.get_external_patron("not an email")
    assert caught.value.field == "email"
    with pytest.raises(InputError) as caught:
        edge_client.external_patrons(expired="yes")
    assert caught.value.field == "expired"


def test_a_malformed_apikey_is_refused_before_sending(folio_emulator, quiet):
    from fsi_patron_kit import folio

    with pytest.raises(InputError) as caught:
        folio.EdgeClient(url=folio_emulator.edge_url, apikey="not base64 json", caller="x")
    assert caught.value.field == "apikey"


def test_date_only_is_not_a_date_time(folio_client, quiet):
    with pytest.raises(InputError) as caught:
        folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, request_date="2026-11-23")
    assert (caught.value.field, caught.value.rule) == ("requestDate", "must be an ISO-8601 date-time")


def test_metadata_accepts_any_uuid_shape_as_the_document_does(folio_client, folio_emulator):
    version_6 = "1ef0d1a2-3b4c-6d5e-8f70-0123456789ab"
    body = changed(STAGING, "metadata", {"createdDate": "2026-01-01T00:00:00Z", "createdByUserId": version_6})
    preview = folio_client.create_staging_patron(body, dry_run=True)
    assert preview.body["metadata"]["createdByUserId"] == version_6


@pytest.mark.parametrize(
    "options, field",
    [({"canceled_date": "yesterday"}, "canceledDate"), ({"additional_information": 42},
                                                        "cancellationAdditionalInformation")],
)
def test_cancellation_fields_are_checked_before_the_account_is_read(folio_client, quiet, options, field):
    with pytest.raises(InputError) as caught:
        folio_client.cancel_hold(USER, ITEM, cancellation_reason_id=PICKUP, canceled_by_user_id=USER, **options)
    assert caught.value.field == field
