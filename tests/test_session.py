"""One session lifecycle for every vendor: renewal ahead of expiry but not before half the
life, one renewal however many threads meet the expiry, recovery after a rejection, no cached
failure, and retries that send the current token."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from fsi_patron_kit import _http
from fsi_patron_kit._session import Grant, SessionAuth
from fsi_patron_kit.errors import AuthError, ConfigError

from . import fake_vendor
from .conftest import make_client, make_folio_client


class _Clocked(SessionAuth):
    """A session whose logins are counted and whose grants the test chooses."""

    def __init__(self, lifetimes, now):
        super().__init__(renew_margin=60, clock=lambda: now[0])
        self.lifetimes = list(lifetimes)
        self.now = now

    def _login(self, transport):
        lifetime = self.lifetimes.pop(0)
        return Grant(object(), None if lifetime is None else self.now[0] + lifetime)


def test_renews_within_the_margin_but_never_before_half_the_life():
    now = [1000.0]
    auth = _Clocked([30, 3600, None], now)
    auth.ensure(transport=None)  # a 30 s token, shorter than the 60 s margin
    now[0] += 14
    assert not auth._due()
    now[0] += 2
    assert auth._due()  # past half its life
    auth.login(None)  # an hour: the margin rules
    now[0] += 3600 - 61
    assert not auth._due()
    now[0] += 2
    assert auth._due()
    auth.login(None)  # the server did not say: keep it until it is refused
    now[0] += 10**6
    assert not auth._due()
    assert auth.logins == 3


def test_a_failed_login_is_not_cached():
    class Flaky(SessionAuth):
        calls = 0

        def _login(self, transport):
            self.calls += 1
            if self.calls == 1:
                raise AuthError("refused")
            return Grant("credentials", None)

    auth = Flaky(renew_margin=1)
    with pytest.raises(AuthError):
        auth.ensure(None)
    assert auth.current() is None
    assert auth.ensure(None) == "credentials"
    assert auth.logins == 1


def test_threads_waiting_for_a_refused_login_share_its_failure():
    """Eight workers meet a wrong password: one login is sent, all eight get its refusal, and
    the next call (after the caller fixes nothing) tries again: a failure is not kept."""
    emulator = fake_vendor.FakeEmulator(size=3, seed=1, latency=0.05).start()
    try:
        with fake_vendor.FakeClient(url=emulator.url, passphrase="wrong-passphrase") as client:
            outcomes = _storm(lambda: _refusal_of(client.patrons))
            assert outcomes == ["wrong passphrase"] * 8
            assert emulator.counters.actions["login"] == 1
            assert _refusal_of(client.patrons) == "wrong passphrase"
            assert emulator.counters.actions["login"] == 2
    finally:
        emulator.stop()


def _refusal_of(call):
    try:
        call()
    except Exception as refused:  # the test compares what each thread met
        return getattr(refused, "message", str(refused))
    return None


@pytest.mark.parametrize("margin", [-1, "60", None, True])
def test_renew_margin_must_be_seconds(margin):
    with pytest.raises(ConfigError) as caught:
        SessionAuth(renew_margin=margin)
    assert caught.value.field == "renew_margin"


def _storm(call, threads=8):
    barrier = threading.Barrier(threads)

    def one(_):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


def test_fsi_eight_threads_across_an_expiry_renew_once(emulator, later):
    with make_client(emulator) as client:
        client.get_patron(keyfield="barcode", value="0000001")
        later(client, emulator.knobs.token_lifetime - 30)  # inside the renewal margin
        results = _storm(lambda: client.get_patron(keyfield="barcode", value="0000002"))
    assert {r.barcode for r in results} == {"0000002"}
    assert emulator.counters.actions["renewtoken"] == 1
    assert emulator.counters.actions["getcode"] == 1


def test_folio_eight_threads_across_an_expiry_refresh_once(folio_emulator, later):
    user = folio_emulator.users()[2]["id"]
    with make_folio_client(folio_emulator) as client:
        client.account(user)
        later(client, folio_emulator.knobs.token_lifetime - 10)
        _storm(lambda: client.account(user))
    assert folio_emulator.counters.actions["refresh"] == 1
    assert folio_emulator.counters.actions["login_with_expiry"] == 1


def test_eight_threads_meeting_a_rejected_token_log_in_once():
    emulator = fake_vendor.FakeEmulator(size=3, seed=1, latency=0).start()
    try:
        with fake_vendor.FakeClient(url=emulator.url, passphrase=fake_vendor.PASSPHRASE) as client:
            client.patrons()
            emulator.expire_tokens()  # the server forgets every session early
            _storm(client.patrons)
        assert emulator.counters.actions["login"] == 2
    finally:
        emulator.stop()


def test_a_retry_after_a_rate_limit_sends_the_token_renewed_meanwhile(emulator, monkeypatch):
    """Another thread renews during the wait: the retry must not send the ended token."""
    with make_client(emulator) as client:
        client.get_patron(keyfield="barcode", value="0000001")
        emulator.knobs.fail_next("429")
        real_sleep = _http.time.sleep

        def renew_while_waiting(seconds):
            client.renew()  # what a second worker would do meanwhile; renewtoken ends the old token
            real_sleep(0)

        monkeypatch.setattr(_http.time, "sleep", renew_while_waiting)
        assert client.get_patron(keyfield="barcode", value="0000002").barcode == "0000002"
    actions = [(e.action, e.outcome) for e in client.history][-3:]
    assert actions == [("getpatron", "error"), ("renewtoken", "ok"), ("getpatron", "ok")]
    assert emulator.counters.actions["getcode"] == 1  # no second login was needed
