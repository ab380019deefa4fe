"""No FOLIO password, access token or refresh token shows anywhere, even on failure."""

from __future__ import annotations

import logging

import attrs
import pytest

from fsi_patron_kit import APIError, AuthError, TransportError
from fsi_patron_kit.sandbox.folio import state as issuing

from .conftest import make_folio_client


@pytest.fixture
def issued(monkeypatch):
    """Every token the gateway issues, recorded as it is minted (the signature makes it unique)."""
    tokens: list[str] = []
    real = issuing.Tokens.issue

    def recording(self, *args, **kwargs):
        token = real(self, *args, **kwargs)
        tokens.append(token)
        return token

    monkeypatch.setattr(issuing.Tokens, "issue", recording)
    return tokens


def test_no_password_or_token_in_reprs_logs_exceptions_or_history(folio_emulator, issued, caplog):
    caplog.set_level(logging.DEBUG)
    user = folio_emulator.users()[2]["id"]
    shown: list[str] = []
    with make_folio_client(folio_emulator, record_bodies=True) as client:
        shown += [repr(client), repr(client._auth), repr(client.session)]
        client.account(user)
        client.refresh()
        folio_emulator.expire_tokens()
        client.account(user)  # 401, refresh, again
        client._auth._credentials = attrs.evolve(client._auth._credentials, refresh="stale")
        folio_emulator.expire_tokens()
        client.account(user)  # 401, refused refresh, login again
        with pytest.raises(APIError) as caught:
            client.account("0c9a8f1e-52f4-4b8a-9c3d-1e2f3a4b5c6d")
        shown += [str(caught.value), repr(caught.value)]
        folio_emulator.knobs.fail_next("reset")
        with pytest.raises(TransportError) as dropped:
            client.create_staging_patron({"generalInfo": {"firstName": "A", "lastName": "B"},
                                          "contactInfo": {"email": "a@example.org"}})
        shown += [str(dropped.value), repr(client.session)]
        shown.append(client.history.to_frame(bodies=True).to_csv())
        shown += [f"{row.request_body} {row.response_body}" for row in client.history]
    with make_folio_client(folio_emulator, password="wrong-password-123") as refused, \
            pytest.raises(AuthError) as denied:
        refused.login()
    shown += [str(denied.value), repr(denied.value), refused.history.to_frame(bodies=True).to_csv()]
    shown += [r.getMessage() for r in caplog.records]
    secrets = {folio_emulator.credentials.password, "wrong-password-123", *issued}
    assert len(issued) >= 6  # logins and refreshes really issued tokens
    assert any('"password": "***"' in text for text in shown)  # the login body was recorded, masked
    for text in shown:
        for secret in secrets:
            assert secret not in text
