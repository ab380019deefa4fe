"""A token the server hands out that cannot go into a header (a line break, a leading space) is
refused before anything is sent, by name of the problem, without showing the token."""

from __future__ import annotations

import pytest

from fsi_patron_kit.errors import TransportError

from . import fake_vendor

FORBIDDEN = r"^fake GET \S+/patrons failed: InvalidHeader: a header value holds a character HTTP forbids " \
            r"\(a line break or a leading space\)$"


@pytest.mark.parametrize("tail", ["\r\nX-Injected: yes", "\nmore", " trailing\r"])
def test_a_token_with_a_line_break_fails_once_and_is_not_shown(tail):
    emulator = fake_vendor.FakeEmulator(size=5, seed=1, latency=0).start()
    emulator.token_tail = tail
    try:
        with fake_vendor.FakeClient(url=emulator.url, passphrase=fake_vendor.PASSPHRASE) as client, \
                pytest.raises(TransportError, match=FORBIDDEN) as caught:
            client.patrons()
        token = next(iter(emulator.tokens))
        shown = f"{caught.value!s} {caught.value!r} {caught.value.args!r}"
        assert token.removesuffix(tail) not in shown and repr(token)[1:-1] not in shown
        assert emulator.counters.actions == {"login": 1}  # the call was not sent, nor retried
    finally:
        emulator.stop()
