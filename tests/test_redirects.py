"""No credential leaves for another origin: redirects are followed within the origin only,
every hop is recorded, and a redirect elsewhere (another host, port or scheme) is refused."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Request, Response

from fsi_patron_kit import fsi
from fsi_patron_kit.errors import RedirectRefused
from fsi_patron_kit.sandbox._server import Counters, EmulatorServer

from .conftest import FAST_RETRY


class Recorder:
    """A server that remembers every request it received, with its body and query."""

    def __init__(self, answer):
        self.received: list[tuple[str, str, bytes]] = []
        self.answer = answer
        self.server = EmulatorServer(self._app, counters=Counters()).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.received.append((request.method, request.full_path, request.get_data()))
        return self.answer(request)(environ, start_response)

    @property
    def url(self):
        return self.server.url


@pytest.fixture
def elsewhere():
    recorder = Recorder(lambda request: Response('{"d": "{\\"code\\": \\"c0de\\"}"}', mimetype="application/json"))
    yield recorder
    recorder.server.stop()


def redirecting_to(target: str, status: int = 307):
    recorder = Recorder(lambda request: Response("", status=status, headers={"Location": target}))
    return recorder


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_fsi_login_is_not_reposted_to_another_origin(elsewhere, status):
    origin = redirecting_to(elsewhere.url + "/services/SSLIB_SER_PATRON_API.asmx/patron", status)
    try:
        client = fsi.Client(url=origin.url, apikey="key-that-must-stay", apisecret="secret-that-must-stay",
                            retry=FAST_RETRY)
        with pytest.raises(RedirectRefused, match="refused a redirect") as caught:
            client.login()
        assert elsewhere.received == []
        assert "key-that-must-stay" not in str(caught.value)
        assert [e.status for e in client.history] == [status]  # the hop is recorded
    finally:
        origin.server.stop()


def test_a_scheme_change_is_refused_even_to_the_same_host():
    origin = redirecting_to("placeholder")
    https = origin.url.replace("http://", "https://")
    origin.answer = lambda request: Response("", status=308, headers={"Location": https + request.full_path})
    try:
        client = fsi.Client(url=origin.url, apikey="k" * 8, apisecret="s" * 8, retry=FAST_RETRY)
        with pytest.raises(RedirectRefused, match="refused a redirect"):
            client.login()
        assert len(origin.received) == 1
    finally:
        origin.server.stop()


def test_edge_apikey_in_the_query_does_not_follow_a_redirect(folio_emulator, elsewhere):
    origin = redirecting_to(elsewhere.url + "/patron/account", 302)
    try:
        from fsi_patron_kit import folio

        client = folio.EdgeClient(url=origin.url, apikey=folio_emulator.edge_apikey, caller=folio_emulator.caller_id,
                                  retry=FAST_RETRY)
        with pytest.raises(RedirectRefused, match="refused a redirect") as caught:
            client.external_patrons()
        assert elsewhere.received == []
        assert folio_emulator.edge_apikey not in str(caught.value)
    finally:
        origin.server.stop()


def test_a_same_origin_redirect_is_followed_and_each_hop_recorded(folio_emulator):
    """A 307 within the origin keeps method and body; both exchanges are in the history."""
    state = {}

    def answer(request):
        if request.path == "/old":
            return Response("", status=307, headers={"Location": "/new?x=1"})
        state["last"] = (request.method, request.get_data())
        return Response("{}", mimetype="application/json")

    server = Recorder(answer)
    try:
        from fsi_patron_kit._http import Call, Transport

        transport = Transport(server.url, vendor="test", retry=FAST_RETRY)
        response = transport.send(Call(method="POST", path="/old", json={"a": 1}))
        assert response.status_code == 200
        assert state["last"] == ("POST", b'{"a": 1}')
        assert [(e.status, e.url.rsplit("/", 1)[-1]) for e in transport.history] == [(307, "old"), (200, "new?x=1")]
    finally:
        server.server.stop()
