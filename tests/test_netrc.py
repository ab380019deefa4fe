"""Credentials travel only as the vendor's auth hook attaches them: a ``~/.netrc`` entry for the
vendor's host is not turned into a Basic ``Authorization`` header (requests would, on every
call, when it reads the environment)."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Request, Response

from fsi_patron_kit import fsi
from fsi_patron_kit.errors import AuthError
from fsi_patron_kit.sandbox._server import Counters, EmulatorServer


@pytest.fixture
def recorder():
    headers: list[dict[str, str]] = []

    def app(environ, start_response):
        headers.append(dict(Request(environ).headers))
        answer = Response('{"d": "{\\"result\\": false, \\"msg\\": \\"Invalid API key\\"}"}',
                          mimetype="application/json")
        return answer(environ, start_response)

    server = EmulatorServer(app, counters=Counters()).start()
    yield server, headers
    server.stop()


def test_a_netrc_entry_for_the_host_is_not_sent(recorder, tmp_path, monkeypatch):
    server, headers = recorder
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password-never-sent\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = fsi.Client(url=server.url, apikey="the-api-key", apisecret="the-api-secret")
    with pytest.raises(AuthError):
        client.login()
    assert len(headers) == 1
    assert "Authorization" not in headers[0]
    assert "netrc-password-never-sent" not in repr(headers)


def test_proxies_from_the_environment_are_still_honoured(recorder, monkeypatch):
    server, headers = recorder  # here it plays the proxy
    monkeypatch.setenv("HTTP_PROXY", server.url)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = fsi.Client(url="http://fsi.example.org", apikey="the-api-key", apisecret="the-api-secret",
                        allow_insecure_http=True)
    with pytest.raises(AuthError):
        client.login()
    assert [h["Host"] for h in headers] == ["fsi.example.org"]  # the request for that host reached the proxy
