"""No staff password, Basic header, AccessToken or AccessSecret shows anywhere, even on failure;
a patron's password is never kept."""

from __future__ import annotations

import base64
import logging
import secrets as secrets_module

import pytest

from fsi_patron_kit import APIError, AuthError, TransportError
from fsi_patron_kit.polaris import PAPIProcedureStep, PromptRequired
from fsi_patron_kit.sandbox.polaris import _auth as issuing

from .conftest import make_polaris_client


@pytest.fixture
def issued(monkeypatch):
    """Every token and secret the sandbox hands out, recorded as it is made."""
    values: list[str] = []
    make = secrets_module.token_urlsafe

    def recording(size):
        value = make(size)
        values.append(value)
        return value

    monkeypatch.setattr(issuing.secrets, "token_urlsafe", recording)
    return values


def test_no_secret_in_reprs_logs_exceptions_or_history(polaris_emulator, issued, caplog):
    caplog.set_level(logging.DEBUG)
    examples = polaris_emulator.examples
    shown: list[str] = []
    with make_polaris_client(polaris_emulator, record_bodies=True) as client:
        shown += [repr(client), repr(client._auth), repr(client.session), repr(client._auth.current())]
        patron = client.get_patron(examples["clean"])
        shown += [repr(patron), patron._repr_html_()]

        def expire_then_agree(prompt):
            polaris_emulator.expire_tokens()
            return "Yes"

        conversation = client.update_registration(examples["duplicate_name"], {"password": "new-pin-97531"},
                                                  answers=expire_then_agree)
        shown += [repr(conversation), conversation.transcript(), conversation._repr_html_(),
                  conversation.to_frame().to_csv(), repr(conversation.rounds)]
        preview = client.update_registration(examples["clean"], {"password": "new-pin-97531"}, dry_run=True)
        shown.append(repr(preview))
        with pytest.raises(PromptRequired) as stopped:
            client.update_registration(examples["expired_registration_block"], {"name_middle": "Q"})
        shown += [str(stopped.value), repr(stopped.value.prompt)]
        with pytest.raises(APIError) as caught:
            client.get_patron(999)
        shown += [str(caught.value), repr(caught.value)]
        polaris_emulator.knobs.fail_next("reset", 4)  # every attempt of the (retried) read dropped
        with pytest.raises(TransportError) as dropped:
            client.update_registration(examples["clean"], {"name_middle": "Q"},
                                       answers={PAPIProcedureStep.DuplicatePatrons: "No"})
        shown.append(str(dropped.value))
        shown.append(client.history.to_frame(bodies=True).to_csv())
        shown += [f"{row!r} {row.request_body} {row.response_body}" for row in client.history]
    with make_polaris_client(polaris_emulator, password="wrong-password-8642") as refused, \
            pytest.raises(AuthError) as denied:
        refused.login()
    shown += [str(denied.value), repr(denied.value), repr(refused._auth), refused.history.to_frame().to_csv()]
    shown += [r.getMessage() for r in caplog.records]
    credentials = polaris_emulator.credentials
    basic = base64.b64encode(f"{credentials.domain}\\{credentials.username}:{credentials.password}".encode()).decode()
    secrets = {credentials.password, "wrong-password-8642", "new-pin-97531", basic, *issued}
    assert len(issued) >= 4  # two logins, each a token and a secret
    assert any('"AccessToken": "***"' in text for text in shown)  # the login answer was recorded, masked
    assert any('"Password": "***"' in text for text in shown)  # and the new patron password, masked
    for text in shown:
        for secret in secrets:
            assert secret not in text


def test_the_sandbox_really_sent_what_we_masked(polaris_emulator, issued):
    """Guard against a vacuous test: the values looked for are the ones on the wire."""
    with make_polaris_client(polaris_emulator) as client:
        client.login()
        token = client._auth.current()
    assert {token.access_token, token.access_secret} <= set(issued)
    assert "PAS polaris:" in token.header() and token.access_secret in token.header()
    assert token.access_token not in repr(token)
