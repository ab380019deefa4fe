"""Retries, Retry-After, resets, timeouts, URL policy and history, against the sandbox."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
from werkzeug.wrappers import Response

from fsi_patron_kit import (
    ConfigError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    _http,
)
from fsi_patron_kit._http import RetryPolicy, Transport, check_url, parse_retry_after
from fsi_patron_kit._redact import register_secret
from fsi_patron_kit.errors import RedirectRefused

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
    # Pages go out concurrently, so which request meets which fault depends on timing. With 4
    # attempts a request fails outright one time in 625 (0.2 ** 4), and a search of 16 pages now
    # and then did; with 10 attempts it is about one in ten million, so the test is not a lottery.
    retry = RetryPolicy(attempts=10, backoff=0.001, max_backoff=0.005)
    with make_client(emulator, retry=retry) as client:
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
     "https://svc:hunter2@fsi.example:8443", "https://TOKEN-abc123@fsi.example", "https://:pw-only@fsi.example"],
)
def test_insecure_or_malformed_urls_are_refused(url):
    with pytest.raises(ConfigError) as caught:
        check_url(url)
    assert caught.value.field == "url"
    parts = url.partition("://")
    assert caught.value.rule == (
        "must not carry credentials; a profile's secrets hold them" if "@" in url else
        "plain http is only allowed to loopback; use https or pass allow_insecure_http=True"
        if parts[0] == "http" else "must be an absolute http(s) URL")


@pytest.mark.parametrize("url", ["https://library.example.org", "http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80",
                                 "http://127.0.0.2:8000"])
def test_https_and_loopback_http_are_allowed(url):
    assert check_url(url) == url


def test_plain_http_can_be_allowed_explicitly():
    assert check_url("http://library.example.org/base/", allow_insecure_http=True) == "http://library.example.org/base"
    assert check_url("https://library.example.org/X/") == "https://library.example.org/X"


def test_a_transport_refuses_plain_http_unless_told():
    with pytest.raises(ConfigError) as caught:
        Transport("http://library.example.org", vendor="test")
    assert caught.value.field == "url"
    allowed = Transport("http://library.example.org", vendor="test", allow_insecure_http=True)
    assert allowed.base_url == "http://library.example.org"


@pytest.mark.parametrize("verify", [False, "", "/no/such/ca-bundle.pem", 0])
def test_tls_verification_cannot_be_turned_off(verify):
    with pytest.raises(ConfigError) as caught:
        Transport("https://library.example.org", vendor="test", verify=verify)
    assert (caught.value.field, caught.value.rule) == (
        "verify", "must be True or the path of a CA bundle file; TLS verification cannot be turned off")


def test_a_ca_bundle_file_is_accepted(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert Transport("https://library.example.org", vendor="test", verify=str(bundle)).session.verify == str(bundle)


def test_retry_after_parses_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= parse_retry_after(format_datetime(later, usegmt=True)) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


class _Edge:
    """A random source that always draws the low or the high end of the range asked for."""

    def __init__(self, end: int) -> None:
        self.end = end

    def uniform(self, low: float, high: float) -> float:
        return (low, high)[self.end]


def test_backoff_doubles_per_attempt_up_to_its_cap_and_is_jittered_within_half():
    # the documented rule: between half and all of backoff x 2^(attempt - 1), capped at max_backoff
    ceilings = [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    high = RetryPolicy(backoff=0.2, max_backoff=1.0, rng=_Edge(1))
    low = RetryPolicy(backoff=0.2, max_backoff=1.0, rng=_Edge(0))
    assert [high.delay(attempt) for attempt in range(1, 7)] == pytest.approx(ceilings)
    assert [low.delay(attempt) for attempt in range(1, 7)] == pytest.approx([c / 2 for c in ceilings])
    jittered = RetryPolicy(backoff=0.2, max_backoff=1.0)
    assert len({jittered.delay(3) for _ in range(20)}) > 10


def test_retry_after_is_honoured_up_to_its_limit():
    policy = RetryPolicy(max_retry_after=60.0, rng=_Edge(1))
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(3, retry_after=0.0) == 0.0
    assert policy.delay(1, retry_after=600.0) == 60.0


def test_the_transport_waits_the_growing_backoff_between_attempts(canned, sleeps):
    canned.queue(*[Response("busy", status=503)] * 3, Response("fine"))  # no Retry-After: backoff
    transport = Transport(canned.url, vendor="test",
                          retry=RetryPolicy(attempts=4, backoff=0.1, max_backoff=10.0, rng=_Edge(1)))
    assert transport.send(_http.Call(method="GET", path="/r", idempotent=True)).text == "fine"
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])


def test_retry_after_exactly_at_the_limit_is_waited_for(emulator, sleeps):
    emulator.knobs.retry_after = 60
    with make_client(emulator) as client:
        client.login()
        emulator.knobs.fail_next("429")
        client.get_patron(keyfield="barcode", value="0000001")
    assert sleeps == [60.0]


@pytest.mark.parametrize("fault", ["502", "504"])
def test_bad_gateway_and_gateway_timeout_are_retried_for_reads(canned, sleeps, fault):
    canned.queue(Response("busy", status=int(fault)), Response("fine"))
    transport = Transport(canned.url, vendor="test", retry=RetryPolicy(attempts=2))
    response = transport.send(_http.Call(method="GET", path="/r", idempotent=True))
    assert response.status_code == 200 and len(sleeps) == 1


def test_a_500_is_not_retried_even_for_reads(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("500")
    with pytest.raises(ServerError):
        client.get_patron(keyfield="barcode", value="0000001")
    assert sleeps == [] and [e.attempt for e in client.history][-1] == 1


def test_persistent_503_for_a_read_ends_after_the_policys_attempts(client, emulator, sleeps):
    client.login()
    emulator.knobs.fail_next("503", 10)
    with pytest.raises(ServerError):
        client.get_patron(keyfield="barcode", value="0000001")
    assert [e.attempt for e in client.history if e.action == "getpatron"] == [1, 2, 3, 4]


def test_rate_limit_error_carries_the_servers_retry_after(client, emulator, sleeps):
    client.login()
    emulator.knobs.retry_after = 120  # longer than the policy waits, so it surfaces at once
    emulator.knobs.fail_next("429")
    with pytest.raises(RateLimitError) as caught:
        client.get_patron(keyfield="barcode", value="0000001")
    assert caught.value.retry_after == 120.0


# -- connection failures ---------------------------------------------------------------------------
@pytest.fixture
def unanswered():
    """A port whose accept queue is full: a connection attempt times out (never reaches a server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    waiting = []
    for _ in range(3):
        queued = socket.socket()
        queued.setblocking(False)
        try:
            queued.connect(listener.getsockname())
        except BlockingIOError:
            pass
        waiting.append(queued)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    for queued in waiting:
        queued.close()
    listener.close()


def test_a_connect_timeout_is_retried_even_for_a_write_because_nothing_was_sent(unanswered, sleeps):
    transport = Transport(unanswered, vendor="test", timeout=(0.2, 1.0), retry=RetryPolicy(attempts=3))
    with pytest.raises(TransportError) as caught:
        transport.send(_http.Call(method="POST", path="/write", action="setpatron", json={"n": 1}))
    assert [(row.attempt, row.error) for row in transport.history] == [
        (1, "ConnectTimeout"), (2, "ConnectTimeout"), (3, "ConnectTimeout")]
    assert len(sleeps) == 2
    assert "ConnectTimeout" in str(caught.value) and caught.value.__context__ is None


def _silent_server():
    """A server that accepts connections and never answers: every read times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept_all():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_all, daemon=True).start()
    return listener, accepted


@pytest.mark.parametrize("idempotent, attempts", [(True, [1, 2, 3]), (False, [1])])
def test_a_read_timeout_is_retried_only_for_what_may_be_repeated(sleeps, idempotent, attempts):
    listener, accepted = _silent_server()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    transport = Transport(url, vendor="test", timeout=(1.0, 0.1), retry=RetryPolicy(attempts=3))
    try:
        with pytest.raises(TransportError):
            transport.send(_http.Call(method="POST", path="/w", idempotent=idempotent))
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert [row.attempt for row in transport.history] == attempts
    assert all(row.error == "ReadTimeout" for row in transport.history)


def test_a_refused_connection_names_what_failed_without_its_secrets(sleeps):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()  # nothing listens there now
    transport = Transport(url, vendor="test", retry=RetryPolicy(attempts=2))
    with pytest.raises(TransportError) as caught:
        transport.send(_http.Call(method="GET", path="/p", action="probe", params={"apikey": "key-abc-12345"},
                                  idempotent=True))
    assert str(caught.value).startswith(f"test probe {url}/p failed: ConnectionError: ")
    assert "key-abc-12345" not in str(caught.value)
    assert (caught.value.method, caught.value.url) == ("GET", f"{url}/p")
    assert [(row.attempt, row.error, row.outcome) for row in transport.history] == [
        (1, "ConnectionError", "error"), (2, "ConnectionError", "error")]


def test_login_is_started_over_after_a_transport_failure_as_often_as_the_policy_allows(emulator, sleeps):
    emulator.knobs.fail_next("reset", 3)  # getcode fails three times, on the network
    with make_client(emulator) as client:
        client.login()
        assert client.session.logins == 1
    assert emulator.counters.faults["reset"] == 3
    assert emulator.counters.actions["getcode"] == 1 and emulator.counters.actions["gettoken"] == 1
    assert len(sleeps) == 3


def test_login_gives_up_after_the_policys_attempts(emulator, sleeps):
    emulator.knobs.fail_next("reset", 10)
    with make_client(emulator) as client, pytest.raises(TransportError):
        client.login()
    assert emulator.counters.faults["reset"] == 4  # FAST_RETRY: four attempts in all
    assert emulator.counters.actions["getcode"] == 0
    assert len(sleeps) == 3


# -- what a transport keeps and shows ---------------------------------------------------------------------
def test_cookies_a_server_sets_are_neither_kept_nor_sent_back(canned):
    canned.queue(Response("set", headers={"Set-Cookie": "folioAccessToken=kept-abc-123; Path=/"}), Response("echo"))
    transport = Transport(canned.url, vendor="test")
    transport.send(_http.Call(method="GET", path="/login"))
    transport.send(_http.Call(method="GET", path="/next"))
    assert "Cookie" not in canned.seen[1][2]
    assert len(transport.session.cookies) == 0


def test_history_rows_count_bytes_and_outcomes(canned):
    canned.queue(Response("fine!"), Response("gone", status=404))
    transport = Transport(canned.url, vendor="test", record_bodies=True)
    transport.send(_http.Call(method="POST", path="/a", action="first", json={"k": "v"}))
    transport.send(_http.Call(method="GET", path="/b"))
    first, second = transport.history
    assert (first.action, first.method, first.status, first.outcome, first.error) == ("first", "POST", 200, "ok", None)
    assert (first.request_bytes, first.response_bytes) == (len(b'{"k": "v"}'), 5)
    assert (first.request_body, first.response_body) == ('{"k": "v"}', "fine!")
    assert (second.action, second.status, second.outcome, second.error) == (None, 404, "error", "NOT FOUND")
    assert (second.request_bytes, second.request_body) == (0, None)


def test_a_describer_that_fails_never_breaks_the_request(canned):
    def broken(response):
        raise KeyError("describer bug")

    canned.queue(Response("fine"), Response("bad", status=400))
    transport = Transport(canned.url, vendor="test", describe_failure=broken)
    assert transport.send(_http.Call(method="GET", path="/a")).text == "fine"
    assert transport.send(_http.Call(method="GET", path="/b")).status_code == 400
    assert [(row.outcome, row.error) for row in transport.history] == [("ok", None), ("error", None)]


def test_a_describers_note_makes_an_ok_answer_an_error(canned):
    canned.queue(Response('{"result": false}'))
    transport = Transport(canned.url, vendor="test", describe_failure=lambda response: "Patron not found.")
    transport.send(_http.Call(method="GET", path="/a"))
    assert [(row.status, row.outcome, row.error) for row in transport.history] == [(200, "error", "Patron not found.")]


def test_paths_join_under_the_base_url_and_the_repr_is_redacted(canned):
    register_secret("repr-secret-1234")
    transport = Transport(canned.url + "/base/", vendor="test")
    assert transport.url_for("/patron/x") == canned.url + "/base/patron/x"
    assert transport.url_for("patron/x") == canned.url + "/base/patron/x"
    assert repr(transport) == f"<Transport test {canned.url}/base>"
    assert "repr-secret-1234" not in repr(Transport(canned.url + "/repr-secret-1234", vendor="test"))


def test_retry_after_in_the_past_or_negative_is_no_wait():
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)) == 0.0
    assert parse_retry_after("") is None


# -- redirects within the origin, dry runs ---------------------------------------------------------------
@pytest.mark.parametrize("status, method, sent", [
    (303, "POST", ("GET", b"")),  # see other: always a GET without the body
    (303, "PUT", ("GET", b"")),
    (301, "POST", ("GET", b"")),  # as browsers do
    (302, "POST", ("GET", b"")),
    (302, "PUT", ("PUT", b'{"a": 1}')),
    (301, "PUT", ("PUT", b'{"a": 1}')),
    (307, "POST", ("POST", b'{"a": 1}')),
    (308, "POST", ("POST", b'{"a": 1}')),
])
def test_a_same_origin_redirect_keeps_or_drops_the_body_as_http_says(canned, status, method, sent):
    canned.queue(Response("", status=status, headers={"Location": "/moved?x=1"}), Response("here"))
    transport = Transport(canned.url, vendor="test")
    response = transport.send(_http.Call(method=method, path="/old", json={"a": 1}))
    assert response.text == "here"
    moved_method, moved_path, moved_headers, moved_body = canned.seen[1]
    assert (moved_method, moved_body) == sent and moved_path == "/moved?x=1"
    assert ("Content-Type" in moved_headers) == bool(sent[1])
    assert [(row.status, row.method) for row in transport.history] == [(status, method), (200, method)]


def test_a_redirect_elsewhere_names_the_call_and_both_places_redacted(canned):
    canned.queue(Response("", status=302, headers={"Location": "http://127.0.0.2:9/x?apikey=leak-123456"}))
    transport = Transport(canned.url, vendor="test")
    with pytest.raises(RedirectRefused) as caught:
        transport.send(_http.Call(method="GET", path="/p", params={"apikey": "key-abc-12345"}))
    assert str(caught.value) == ("test GET: refused a redirect to http://127.0.0.2:9/x?apikey=***: "
                                 "credentials are only sent to the origin they belong to")
    assert (caught.value.method, caught.value.url) == ("GET", canned.url + "/p?apikey=***")
    assert caught.value.__context__ is None


def test_endless_redirects_stop_after_five(canned):
    canned.queue(*[Response("", status=307, headers={"Location": f"/hop{n}"}) for n in range(10)])
    transport = Transport(canned.url, vendor="test")
    with pytest.raises(RedirectRefused) as caught:
        transport.send(_http.Call(method="GET", path="/start", action="loop"))
    assert str(caught.value) == "test loop: more than 5 redirects"
    assert (caught.value.method, caught.value.url) == ("GET", canned.url + "/hop5")
    assert len(canned.seen) == 6 and len(transport.history) == 6


def test_a_dry_run_preview_shows_the_call_with_credentials_masked(emulator):
    with make_client(emulator) as client:
        client.login()
        preview = client._transport.preview(_http.Call(method="POST", path="/p", action="setpatron",
                                                       params={"apikey": "key-abc-12345", "page": "2"},
                                                       json={"barcode": "0001", "token": "tok-abc-12345"}))
    assert preview == _http.Preview(method="POST", url=emulator.url + "/p?apikey=***&page=2",
                                    body={"barcode": "0001", "token": "***"})
    html = preview._repr_html_()
    assert "dry run: POST" in html and "tok-abc-12345" not in html and "0001" in html
    assert "(no body)" in _http.Preview(method="GET", url="u")._repr_html_()


def test_an_unauthenticated_preview_sends_nothing_and_applies_no_credentials(canned):
    transport = Transport(canned.url, vendor="test")
    preview = transport.preview(_http.Call(method="GET", path="/q", params={"a": "1"}))
    assert preview == _http.Preview(method="GET", url=canned.url + "/q?a=1", body=None)
    assert canned.seen == []


def test_requests_say_who_sends_them_and_history_keeps_its_bound(canned):
    from fsi_patron_kit import __version__

    canned.queue(*[Response("ok")] * 3)
    transport = Transport(canned.url, vendor="test", history_size=2)
    for _ in range(3):
        transport.send(_http.Call(method="GET", path="/a"))
    assert all(headers["User-Agent"] == f"fsi-patron-kit/{__version__}" for _, _, headers, _ in canned.seen)
    assert len(transport.history) == 2
    assert transport.timeout == (3.05, 30.0) and transport.retry == RetryPolicy()


@pytest.mark.parametrize("options, field, rule", [
    ({"attempts": 0}, "retry.attempts", "must be an integer of at least 1"),
    ({"attempts": True}, "retry.attempts", "must be an integer of at least 1"),
    ({"attempts": 2.5}, "retry.attempts", "must be an integer of at least 1"),
    ({"attempts": "3"}, "retry.attempts", "must be an integer of at least 1"),
    ({"backoff": -0.1}, "retry.backoff", "must be a finite number of seconds >= 0"),
    ({"max_backoff": float("inf")}, "retry.max_backoff", "must be a finite number of seconds >= 0"),
    ({"max_retry_after": "60"}, "retry.max_retry_after", "must be a finite number of seconds >= 0"),
    ({"statuses": [503]}, "retry.statuses", "must be a set of HTTP status codes"),
    ({"statuses": {"503"}}, "retry.statuses", "must be a set of HTTP status codes"),
    ({"statuses": frozenset({True})}, "retry.statuses", "must be a set of HTTP status codes"),
])
def test_a_retry_policy_is_checked_when_made(options, field, rule):
    with pytest.raises(ConfigError) as caught:
        RetryPolicy(**options)
    assert type(caught.value) is ConfigError and (caught.value.field, caught.value.rule) == (field, rule)


def test_a_retry_policy_takes_any_set_of_statuses_and_one_attempt():
    assert RetryPolicy(attempts=1, statuses={503}).statuses == {503}
    assert RetryPolicy(statuses=frozenset()).statuses == frozenset()


@pytest.mark.parametrize("body, shown", [({"a": 1, "b": 2}, "2 fields"), (None, "none"), (["x"], "yes")])
def test_a_previews_repr_says_what_it_holds_not_the_body(body, shown):
    preview = _http.Preview(method="POST", url="https://h.example/p", body=body)
    assert repr(preview) == f"Preview(POST https://h.example/p, body: {shown}; nothing was sent)"


def test_a_previews_html_shows_the_body_indented_and_readable():
    html = _http.Preview(method="POST", url="https://h.example/p", body={"status": "Zoë", "n": 1})._repr_html_()
    assert "<th>sent</th><td>nothing (dry run)</td>" in html
    assert "<summary>body</summary>" in html
    assert '{\n  &quot;status&quot;: &quot;Zoë&quot;,\n  &quot;n&quot;: 1\n}' in html


def test_a_transport_whose_constructor_failed_still_has_a_repr():
    unopened = Transport.__new__(Transport)  # what a traceback shows after __init__ raised early
    assert repr(unopened) == "<Transport ? (not opened)>"
    unopened.vendor = "fsi"
    assert repr(unopened) == "<Transport fsi (not opened)>"
