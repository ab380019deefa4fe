"""The signing hook sees the final request: the server recomputes the signature from the bytes
it received and accepts it; a request changed after signing is refused."""

from __future__ import annotations

import pytest
import requests

from . import fake_vendor


@pytest.fixture
def emulator():
    running = fake_vendor.FakeEmulator(size=5, seed=1, latency=0).start()
    yield running
    running.stop()


@pytest.fixture
def client(emulator):
    with fake_vendor.FakeClient(url=emulator.url, passphrase=fake_vendor.PASSPHRASE) as made:
        yield made


@pytest.mark.parametrize("payload", [{"name": "Zoë Åberg", "tags": ["a b", "c&d"]}, [], "plain text", None])
def test_signed_requests_are_accepted_with_any_body_and_query(client, emulator, payload):
    response = client.echo(payload, q="roald dahl+", empty="")
    assert response.status_code == 200
    assert emulator.echoes[-1] == payload


def test_a_tampered_body_is_refused(client, emulator):
    client.patrons()  # logged in
    token = client._auth.current().value
    signed_for = b'{"amount": 1}'
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "X-Signature": fake_vendor.signature("POST", "/echo", signed_for)}
    tampered = requests.post(emulator.url + "/echo", data=b'{"amount": 1000}', headers=headers, timeout=5)
    assert tampered.status_code == 403 and tampered.json() == {"error": "bad signature"}
    honest = requests.post(emulator.url + "/echo", data=signed_for, headers=headers, timeout=5)
    assert honest.status_code == 200


def test_every_retry_is_signed_again(client, emulator):
    client.login()
    emulator.knobs.retry_after = 0
    emulator.knobs.fail_next("429", 2)
    assert len(client.patrons()) == 5
    assert emulator.counters.faults["429"] == 2
    assert [e.status for e in client.history][-3:] == [429, 429, 200]
