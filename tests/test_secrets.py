"""No API key, API secret, one-time code, token or renewtoken shows anywhere, even on failure."""

from __future__ import annotations

import json
import logging
import secrets as secrets_module

import pytest
import requests

from fsi_patron_kit import APIError, BatchInterrupted, TransportError
from fsi_patron_kit.sandbox.fsi import state as issuing

from .conftest import make_client


class Capture:
    """Every secret in play: the credentials, and each code and token the sandbox issues."""

    def __init__(self, emulator, monkeypatch):
        self.values = {emulator.credentials.apikey, emulator.credentials.apisecret}
        for name in ("token_hex", "token_urlsafe"):
            monkeypatch.setattr(issuing.secrets, name, self._recording(getattr(secrets_module, name)))

    def _recording(self, issue):
        def recorded(*args):
            value = issue(*args)
            self.values.add(value)
            return value

        return recorded

    def assert_absent(self, text: str, where: str):
        for value in self.values:
            assert value not in text, f"a secret leaked into {where}"


@pytest.fixture
def secrets(emulator, monkeypatch):
    return Capture(emulator, monkeypatch)


def exercise(client, emulator, secrets: Capture):
    """Log in, renew, fail in every way; collect every text the kit shows."""
    shown: list[tuple[str, str]] = [("client repr", repr(client)), ("transport repr", repr(client._transport)),
                                    ("auth repr", repr(client._auth))]
    client.login()
    client.renew()
    client.search(max_rows=10)
    shown.append(("patron repr", repr(client.get_patron(keyfield="barcode", value="0000001"))))
    shown.append(("session repr", repr(client.session)))
    emulator.expire_tokens()
    client.get_patron(keyfield="barcode", value="0000002")  # renewal after an expired-token failure
    shown.append(("dry run", repr(client.set_patron(keyfield="barcode", allow_new=False, dry_run=True,
                                                    barcode="0000001", room="X").payload)))
    for fault, call in [
        ("500", lambda: client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="Y")),
        ("reset", lambda: client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="Y")),
        (None, lambda: client.get_patron(keyfield="barcode", value="nobody")),
        ("reset", lambda: client.set_patrons([{"barcode": "0000001", "room": "Z"}], keyfield="barcode", allow_new=False)),
    ]:
        if fault:
            emulator.knobs.fail_next(fault)
        with pytest.raises((APIError, TransportError, BatchInterrupted)) as caught:
            call()
        shown += [("exception str", str(caught.value)), ("exception repr", repr(caught.value)),
                  ("exception args", repr(caught.value.args))]
        if isinstance(caught.value, BatchInterrupted):
            shown.append(("batch results", caught.value.results.to_string()))
    frame = client.history.to_frame(bodies=True)
    shown.append(("history frame", frame.to_csv()))
    shown.append(("history html", client.history._repr_html_()))
    shown += [("history row", repr(row)) for row in client.history]
    return shown


def test_no_secret_in_reprs_logs_exceptions_or_history(emulator, secrets, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    with make_client(emulator, record_bodies=True) as client:
        shown = exercise(client, emulator, secrets)
    assert len(secrets.values) >= 8  # key, secret, codes, tokens and renewtokens were really issued
    assert any("gettoken" in r.getMessage() for r in caplog.records)  # the log was really written
    shown.append(("log", "\n".join(r.getMessage() for r in caplog.records)))
    for where, text in shown:
        secrets.assert_absent(text, where)


def test_form_encoded_bodies_are_redacted_too(emulator, secrets):
    with make_client(emulator, encoding="form", record_bodies=True) as client:
        client.login()
        client.renew()
        bodies = client.history.to_frame(bodies=True)[["request_body", "response_body"]].to_csv()
    assert "token=***" in bodies or "token=%2A%2A%2A" in bodies
    secrets.assert_absent(bodies, "form history")


def test_transport_error_message_is_redacted(emulator):
    with make_client(emulator) as client:
        client.login()
        url = emulator.url
    emulator.stop()
    with make_client(type("Gone", (), {"url": url, "credentials": emulator.credentials})()) as client, \
            pytest.raises(TransportError) as caught:
        client.login()
    text = f"{caught.value} {caught.value!r}"
    assert "getcode" in text
    assert emulator.credentials.apikey not in text


def test_the_sandbox_really_sent_the_token_we_masked(emulator, secrets):
    """Guard against a vacuous test: the secrets we look for are the ones on the wire."""
    code = requests.post(emulator.endpoint, json={"action": "getcode", "apikey": emulator.credentials.apikey},
                         timeout=5).json()["d"]
    answer = requests.post(emulator.endpoint, json={"action": "gettoken", "code": code,
                                                    "apisecret": emulator.credentials.apisecret}, timeout=5)
    token = json.loads(answer.json()["d"])["token"]
    assert {code, token} <= secrets.values
