"""The FOLIO client against FOLIO's own upstream schemas and examples.

* every request body the client sends, and every answer it gets, validates against upstream;
* every upstream example loads into the client's models and writes back unchanged;
* the request schemas the client checks before sending match upstream's, except where the
  vendor document says otherwise (each difference is named here).
"""

from __future__ import annotations

import json

import pytest

from fsi_patron_kit.folio import _schemas
from fsi_patron_kit.folio import models as m

from .upstream import conforms, example, needs_upstream

pytestmark = [pytest.mark.contract, needs_upstream]

STAGING = {
    "generalInfo": {"firstName": "Ada", "lastName": "Byron"},
    "addressInfo": {"addressLine0": "1 Main St", "city": "Metropolis", "province": "NY", "zip": "12345",
                    "country": "USA"},
    "contactInfo": {"email": "ada.byron@example.org", "phone": "555-0100"},
    "preferredEmailCommunication": ["Programs"],
}
EXTERNAL = {
    "generalInfo": {"externalSystemId": "ext-contract-1", "firstName": "Ada", "lastName": "Byron"},
    "addressInfo": {"addressLine0": "1 Main St", "addressLine1": "Apt 2", "city": "Metropolis", "province": "NY",
                    "zip": "12345", "country": "USA"},
    "contactInfo": {"email": "ada.contract@example.org"},
    "preferredEmailCommunication": ["Support"],
}

# Which upstream schema each action's request and answer follow.
REQUESTS = {
    "login-with-expiry": "mod-login/loginCredentials.json",
    "create-staging-patron": "mod-patron/staging_userdata.json",
    "update-staging-patron": "mod-patron/staging_userdata.json",
    "item-hold": "mod-patron/hold.json",
    "instance-hold": "mod-patron/hold.json",
    "cancel-hold": "mod-patron/hold.json",  # the v4.2 document's cancel body is the hold
    "create-external-patron": "edge-patron/external_patron.json",
    "update-external-patron": "edge-patron/external_patron.json",
}
ANSWERS = {
    "login-with-expiry": "mod-login/loginResponseWithExpiry.json",
    "refresh": "mod-login/loginResponseWithExpiry.json",
    "create-staging-patron": "mod-patron/staging_userdata.json",
    "update-staging-patron": "mod-patron/staging_userdata.json",
    "registration-status": "mod-patron/userdata.json",
    "account": "mod-patron/account.json",
    "renew": "mod-patron/loan.json",
    "item-hold": "mod-patron/hold.json",
    "instance-hold": "mod-patron/hold.json",
    "cancel-hold": "mod-patron/hold.json",
    "create-external-patron": "edge-patron/external_patron.json",
    "get-external-patron": "edge-patron/external_patron.json",
    "external-patrons": "edge-patron/external_patron_collection.json",
}


def run_every_call(client, edge, emulator) -> None:
    """One of each call the clients make, successful ones, over HTTP."""
    patron = next(u for u in emulator.users() if u["id"] in {r["requesterId"] for r in emulator.requests()})
    desk = emulator.service_points[0]["id"]
    created = client.create_staging_patron(STAGING)
    client.update_staging_patron(created.external_system_id, {**STAGING, "status": "TIER-2"})
    client.registration_status(patron["externalSystemId"])
    client.account(patron["id"], include_loans=True, include_holds=True, include_charges=True)
    recalled = {r["itemId"] for r in emulator.requests() if r["requestType"] == "Recall"}
    loan = next(r for r in emulator.loans() if r["status"] == "Open" and r["renewalCount"] == 0
                and r["itemId"] not in recalled)
    client.renew(loan["userId"], loan["itemId"])
    taken = {r["itemId"] for r in emulator.loans()} | {r["itemId"] for r in emulator.requests()}
    free = [i for i in emulator.items() if i["id"] not in taken]
    hold = client.place_item_hold(patron["id"], free[0]["id"], pickup_location_id=desk, patron_comments="contract")
    client.place_instance_hold(patron["id"], free[-1]["instanceId"], pickup_location_id=desk)
    client.cancel_hold(patron["id"], hold.request_id, cancellation_reason_id=emulator.cancellation_reasons[0]["id"],
                       canceled_by_user_id=patron["id"], additional_information="contract test")
    edge.create_external_patron(EXTERNAL)
    edge.get_external_patron(EXTERNAL["contactInfo"]["email"])
    edge.update_external_patron(EXTERNAL["contactInfo"]["email"], {**EXTERNAL, "preferredEmailCommunication": []})
    edge.external_patrons(expired=True)
    emulator.expire_tokens()
    client.account(patron["id"])  # a 401, a refresh, the call again


def test_every_request_and_answer_conforms_to_upstream(folio_client, edge_client, folio_emulator):
    run_every_call(folio_client, edge_client, folio_emulator)
    rows = [*folio_client.history, *edge_client.history]
    checked = set()
    for row in rows:
        if row.action in REQUESTS and row.request_body:
            conforms(json.loads(row.request_body), REQUESTS[row.action])
            checked.add(("request", row.action))
        if row.action in ANSWERS and row.status and row.status < 300 and row.response_body:
            conforms(json.loads(row.response_body), ANSWERS[row.action])
            checked.add(("answer", row.action))
    assert {a for kind, a in checked if kind == "request"} == set(REQUESTS)
    assert {a for kind, a in checked if kind == "answer"} == set(ANSWERS)


EXAMPLES = [
    ("mod-patron/examples/account.json", m.Account),
    ("mod-patron/examples/hold.json", m.Hold),
    ("mod-patron/examples/loan.json", m.Loan),
    ("mod-patron/examples/user.json", m.User),
    ("edge-patron/examples/account.json", m.Account),
    ("edge-patron/examples/hold.json", m.Hold),
    ("edge-patron/examples/loan.json", m.Loan),
    ("edge-patron/examples/user.json", m.User),
    ("edge-patron/examples/staging_user.json", m.StagingUser),
    ("edge-patron/examples/external_patron.json", m.ExternalPatron),
    ("edge-patron/examples/external_patron_collection.json", m.ExternalPatronCollection),
    ("mod-patron-v6.2-lc/examples/external_patron.json", m.ExternalPatron),
    ("mod-patron-v6.2-lc/examples/external_patron_collection.json", m.ExternalPatronCollection),
    ("mod-patron-v6.2-lc/examples/user.json", m.User),
    ("edge-patron/examples/external_patron_error.json", m.EdgeError),
    ("edge-patron/examples/staging_user_error.json", m.EdgeError),
    ("edge-patron/examples/user_error.json", m.EdgeError),
    ("mod-patron/examples/staging_user.sample", m.StagingUser),
    ("mod-users/examples/staging_user.sample", m.StagingUser),
    ("edge-patron/test-resources/user_not_found_error.json", m.Errors),
    ("edge-patron/test-resources/multiple_user_error.json", m.Errors),
    ("edge-patron/test-resources/staging-users-post-request.json", m.StagingUser),
    ("edge-patron/test-resources/staging-users-post-response.json", m.StagingUser),
    ("edge-patron/test-resources/staging-users-post-error-response.json", m.Errors),
    ("edge-patron/test-resources/staging-users-put-request.json", m.StagingUser),
    ("edge-patron/test-resources/staging-users-put-response.json", m.StagingUser),
    ("edge-patron/test-resources/user_active.json", m.User),
    ("raml-util/examples/errors.sample", m.Errors),
    ("raml-util/examples/error.sample", m.Error),
]


@pytest.mark.parametrize("path, model", EXAMPLES, ids=[p for p, _ in EXAMPLES])
def test_upstream_examples_load_without_loss(path, model):
    document = example(path)
    assert model.from_wire(document).to_wire() == document


def properties(schema: dict) -> dict:
    return {name: sorted(properties(value)) if value.get("type") == "object" and "properties" in value else
            value.get("enum") or value.get("items", {}).get("enum")
            for name, value in schema.get("properties", {}).items()}


def test_staging_user_rules_match_upstream():
    upstream = example("mod-patron/staging_userdata.json")
    ours = _schemas.STAGING_USER
    assert set(ours["properties"]) == set(upstream["properties"])
    assert ours["required"] == upstream["required"]
    assert ours["properties"]["status"]["enum"] == upstream["properties"]["status"]["enum"]
    pec_ours, pec_up = ours["properties"]["preferredEmailCommunication"], upstream["properties"][
        "preferredEmailCommunication"]
    assert (pec_ours["maxItems"], pec_ours["uniqueItems"], pec_ours["items"]["enum"]) == (
        pec_up["maxItems"], pec_up["uniqueItems"], pec_up["items"]["enum"])
    for section in ("generalInfo", "addressInfo", "contactInfo"):
        assert set(ours["properties"][section]["properties"]) == set(upstream["properties"][section]["properties"])
        assert ours["properties"][section].get("required") == upstream["properties"][section].get("required")


def test_external_patron_rules_match_upstream_but_for_the_address():
    upstream = example("edge-patron/external_patron.json")
    ours = _schemas.EXTERNAL_PATRON
    assert set(ours["properties"]) == set(upstream["properties"])
    assert ours["required"] == upstream["required"]
    for section in ("generalInfo", "addressInfo", "contactInfo"):
        assert set(ours["properties"][section]["properties"]) == set(upstream["properties"][section]["properties"])
    assert ours["properties"]["generalInfo"]["required"] == upstream["properties"]["generalInfo"]["required"]
    # The one difference, on purpose: document 003's own answers omit address fields upstream requires.
    assert upstream["properties"]["addressInfo"]["required"] == ["addressLine0", "city", "province", "zip", "country"]
    assert "required" not in ours["properties"]["addressInfo"]


def test_hold_rules_match_upstream():
    upstream = example("mod-patron/hold.json")
    ours = _schemas.HOLD
    assert ours["required"] == upstream["required"]
    assert ours["properties"]["status"]["enum"] == upstream["properties"]["status"]["enum"]
    assert set(ours["properties"]) <= set(upstream["properties"])  # upstream adds batchRequestInfo since v4.2
    assert ours["properties"]["pickupLocationId"]["pattern"] == upstream["properties"]["pickupLocationId"]["pattern"]
