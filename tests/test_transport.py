"""Retries, Retry-After, resets, timeouts, URL policy and history, against the sandbox."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from fsi_patron_kit import (
    ConfigError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    _http,
)
from fsi_patron_kit._http import RetryPolicy, Transport, check_url, parse_retry_after

from .conftest import make_client


@pytest.fixture
def sleeps(monkeypatch):
    """Record the transport's back-off sleeps instead of sleeping (time itself, not our code)."""
    recorded: list[float] = []
    monkeypatch.setattr(_http.time, "sleep", recorded.append)
    return recorded


def test_429_is_retried_after_the_servers_retry_after(client, emulator, sleeps):
    client.login()
    emulator.knobs.retry_after = 3
    emulator.knobs.fail_next("429", 2)
    assert client.get_patron(keyfield="barcode", value="0000001").barcode == "0000001"
    assert sleeps == [3.0, 3.0]
    assert [e.status for e in client.history][-3:] == [429, 429, 200]
    assert [e.attempt for e in client.history][-3:] == [1, 2, 3]


def test_429_is_retried_even_for_writes_because_nothing_was_done(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("429")
    client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="Q1")
    assert emulator.counters.writes["0000001"] == 1


def test_persistent_429_ends_as_rate_limit_error(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("429", 10)
    with pytest.raises(RateLimitError) as caught:
        client.get_patron(keyfield="barcode", value="0000001")
    assert caught.value.status == 429
    assert len(sleeps) == 3  # four attempts in all


def test_retry_after_longer_than_allowed_is_not_waited_for(emulator, sleeps):
    emulator.knobs.retry_after = 3600
    with make_client(emulator) as client:
        client.login()
        emulator.knobs.fail_next("429")
        with pytest.raises(RateLimitError):
            client.get_patron(keyfield="barcode", value="0000001")
    assert sleeps == []


def test_503_is_retried_for_reads_only(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("503")
    assert client.get_patron(keyfield="barcode", value="0000002").barcode == "0000002"
    emulator.knobs.fail_next("503")
    with pytest.raises(ServerError) as caught:
        client.set_patron(keyfield="barcode", allow_new=False, barcode="0000002", room="Q")
    assert caught.value.status == 503
    assert not emulator.counters.writes


def test_connection_reset_is_retried_for_reads(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("reset", 2)
    frame = client.search(max_rows=10)
    assert len(frame) == 10
    assert emulator.counters.faults["reset"] == 2
    assert [e.outcome for e in client.history][-3:] == ["error", "error", "ok"]


def test_connection_reset_is_not_retried_for_writes(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("reset")
    with pytest.raises(TransportError) as caught:
        client.set_patron(keyfield="barcode", allow_new=False, barcode="0000003", room="Q")
    assert "setpatron" in str(caught.value)
    assert emulator.counters.actions["setpatron"] == 0  # the reset came before the emulator
    assert sleeps == []


def test_random_faults_at_a_rate_are_absorbed_for_reads(emulator):
    emulator.knobs.error_rate = 0.0
    emulator.knobs.reset_rate = 0.2
    with make_client(emulator) as client:
        frame = client.search(page_size=100)
    assert len(frame) == 1500
    assert emulator.counters.faults["reset"] > 0


def test_rate_limit_knob_answers_429_with_retry_after(emulator):
    emulator.knobs.rate_limit = 5.0  # requests per second, burst of 5
    emulator.knobs.retry_after = 2
    with requests.Session() as session:
        answers = [session.post(emulator.endpoint, json={"action": "getcode", "apikey": "x"}, timeout=5)
                   for _ in range(20)]
    limited = [a for a in answers if a.status_code == 429]
    assert 0 < len(limited) == emulator.counters.faults["429"]
    assert all(a.headers["Retry-After"] == "2" for a in limited)
    assert answers[0].status_code == 200


def test_read_timeout_is_a_transport_error():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    transport = Transport(url, vendor="test", timeout=(1.0, 0.2), retry=RetryPolicy(attempts=1))
    with pytest.raises(TransportError) as caught:
        transport.send(_http.Call(method="GET", path="/slow", idempotent=True))
    assert "ReadTimeout" in str(caught.value)
    assert transport.history.last()[0].error == "ReadTimeout"
    listener.close()
    for conn in accepted:
        conn.close()


def test_history_rows_describe_each_attempt(client, emulator):
    client.get_patron(keyfield="barcode", value="0000001")
    with pytest.raises(NotFoundError):
        client.get_patron(keyfield="barcode", value="0999999")
    frame = client.history.to_frame()
    assert list(frame["action"]) == ["getcode", "gettoken", "getpatron", "getpatron"]
    assert list(frame["outcome"]) == ["ok", "ok", "ok", "error"]
    assert frame["error"].iloc[-1] == "Patron not found."
    assert str(frame["status"].dtype) == "Int64" and str(frame["started"].dtype).startswith("datetime64")
    assert "request_body" not in frame.columns
    assert client.history.to_frame(bodies=True)["request_body"].isna().all()  # not recorded unless asked


def test_history_is_bounded(emulator):
    with make_client(emulator) as client:
        client._transport.history._rows = type(client.history._rows)(maxlen=5)
        client.search(page_size=100)
    assert len(client.history) == 5


def test_connections_are_pooled_and_kept_alive(client, emulator):
    client.search(page_size=100, workers=1)
    assert emulator.counters.requests == 18
    assert emulator.counters.connections == 1


@pytest.mark.parametrize(
    "url",
    ["http://library.example.org", "http://10.0.0.5:8080", "ftp://127.0.0.1/", "library.example.org", "https://",
     "https://svc:hunter2@fsi.example:8443"],
)
def test_insecure_or_malformed_urls_are_refused(url):
    with pytest.raises(ConfigError) as caught:
        check_url(url)
    assert caught.value.field == "url"


@pytest.mark.parametrize("url", ["https://library.example.org", "http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80"])
def test_https_and_loopback_http_are_allowed(url):
    assert check_url(url) == url


def test_plain_http_can_be_allowed_explicitly():
    assert check_url("http://library.example.org", allow_insecure_http=True)


def test_tls_verification_cannot_be_turned_off():
    with pytest.raises(ConfigError) as caught:
        Transport("https://library.example.org", vendor="test", verify=False)
    assert caught.value.field == "verify"


def test_retry_after_parses_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= parse_retry_after(format_datetime(later, usegmt=True)) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_jittered_and_capped():
    policy = RetryPolicy(backoff=0.2, max_backoff=1.0)
    delays = [policy.delay(attempt) for attempt in (1, 2, 3, 4, 5, 6) for _ in range(20)]
    assert all(0.1 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 50


def test_rate_limit_error_carries_the_servers_retry_after(client, emulator, sleeps):
    client.login()
    emulator.knobs.retry_after = 120  # longer than the policy waits, so it surfaces at once
    emulator.knobs.fail_next("429")
    with pytest.raises(RateLimitError) as caught:
        client.get_patron(keyfield="barcode", value="0000001")
    assert caught.value.retry_after == 120.0
