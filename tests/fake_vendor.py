"""A vendor that exists only in the test suite: a signed, token-based API with its emulator.

It proves that a vendor is one registration: nothing outside this file knows it, yet
``connect()``, profiles, the sandbox and the ``patron-kit`` command reach it. Every request is
signed: ``X-Signature`` is the hex HMAC-SHA256 of ``METHOD\\nPATH?QUERY\\nBODY`` under a key
both sides hold, which the emulator recomputes from the bytes it received.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any

import attrs
import requests
from werkzeug.wrappers import Request, Response

from fsi_patron_kit._client import TokenClient
from fsi_patron_kit._http import Call, Transport
from fsi_patron_kit._registry import ClientSpec, VendorSpec
from fsi_patron_kit._session import Grant, SessionAuth
from fsi_patron_kit.config import Secret
from fsi_patron_kit.errors import APIError
from fsi_patron_kit.sandbox._server import Counters, EmulatorServer, FaultLayer, Knobs

SIGNING_KEY = b"fake-vendor-signing-key"
PASSPHRASE = "fake-sandbox-passphrase"


def signature(method: str, path_and_query: str, body: bytes) -> str:
    message = method.encode() + b"\n" + path_and_query.encode() + b"\n" + body
    return hmac.new(SIGNING_KEY, message, hashlib.sha256).hexdigest()


class FakeEmulator:
    def __init__(self, *, size: int | None, seed: int, latency: float) -> None:
        self.knobs = Knobs(latency=latency, token_lifetime=600)
        self.counters = Counters()
        self.planted: dict[str, int] = {}
        self.patrons = [{"id": f"P{n:04d}", "name": f"Patron {n}"} for n in range(size or 10)]
        self.tokens: dict[str, float] = {}
        self.token_tail = ""  # appended to every token handed out (a server's malformed token)
        self.echoes: list[Any] = []
        self._lock = threading.Lock()
        self._server: EmulatorServer | None = None

    def start(self) -> FakeEmulator:
        app = FaultLayer(self._app, self.knobs, self.counters, lambda: Response("boom", status=500))
        self._server = EmulatorServer(app, counters=self.counters).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def banner(self) -> list[tuple[str, str]]:
        return [("url", self.url), ("passphrase", PASSPHRASE)]

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        query = environ.get("QUERY_STRING", "")
        target = request.path + (f"?{query}" if query else "")
        expected = signature(request.method, target, body)
        if not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
            return _json({"error": "bad signature"}, 403)(environ, start_response)
        if request.path == "/login":
            return self._login(request)(environ, start_response)
        with self._lock:
            expires = self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if expires is None or expires < time.time():
            return _json({"error": "token expired"}, 401)(environ, start_response)
        if request.path == "/patrons":
            self.counters.action("patrons")
            return _json(self.patrons)(environ, start_response)
        if request.path == "/echo":
            self.counters.action("echo")
            self.echoes.append(request.get_json(silent=True))
            return _json({"received": self.echoes[-1]})(environ, start_response)
        return _json({"error": "no such path"}, 404)(environ, start_response)

    def _login(self, request: Request) -> Response:
        self.counters.action("login")
        if (request.get_json(silent=True) or {}).get("passphrase") != PASSPHRASE:
            return _json({"error": "wrong passphrase"}, 401)
        token = secrets.token_hex(16) + self.token_tail
        with self._lock:
            self.tokens[token] = time.time() + self.knobs.token_lifetime
        return _json({"token": token, "expires_in": self.knobs.token_lifetime})

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


@attrs.frozen
class FakeToken:
    value: str = attrs.field(repr=False)


class FakeAuth(SessionAuth):
    def __init__(self, passphrase: Secret) -> None:
        super().__init__(renew_margin=30)
        self._passphrase = passphrase

    def _login(self, transport: Transport) -> Grant:
        response = transport.send(Call(method="POST", path="/login", action="login", authenticated=False,
                                       json={"passphrase": self._passphrase.reveal()}))
        if response.status_code != 200:
            raise APIError(response.json()["error"], status=response.status_code, vendor="fake")
        answer = response.json()
        return Grant(FakeToken(answer["token"]), time.time() + answer["expires_in"])

    def apply(self, call: Call, credentials: FakeToken | None) -> Call:
        if credentials is None:
            return call
        return attrs.evolve(call, headers={**call.headers, "Authorization": f"Bearer {credentials.value}"})

    def sign(self, request: requests.PreparedRequest) -> None:
        split = requests.utils.urlparse(request.url)
        target = split.path + (f"?{split.query}" if split.query else "")
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        request.headers["X-Signature"] = signature(request.method or "", target, body)

    def secrets_in(self, call: Call, response: requests.Response) -> list[str]:
        return [response.json().get("token", "")] if call.action == "login" and response.ok else []


class FakeClient(TokenClient):
    vendor = "fake"

    def __init__(self, *, url: str, passphrase: str | Secret, realm: str = "main",
                 vault_key: str | Secret | None = None, **transport: Any) -> None:
        self.realm = realm
        self.vault_key = Secret.of(vault_key, field="vault_key") if vault_key is not None else None
        self._auth = FakeAuth(Secret.of(passphrase, field="passphrase"))
        self._open(url, self._auth, lambda response: None, transport)

    def patrons(self) -> list[dict[str, Any]]:
        return self._transport.send(Call(method="GET", path="/patrons", idempotent=True)).json()

    def echo(self, payload: Any, **params: str) -> requests.Response:
        return self._transport.send(Call(method="POST", path="/echo", json=payload, params=params or None))


SPEC = VendorSpec(
    name="fake",
    title="Fake Library",
    clients=(ClientSpec(name="fake", target=FakeClient, settings={"realm": str}, secrets=("passphrase",),
                        optional_secrets=("vault_key",),
                        sandbox=lambda emulator: {"url": emulator.url, "passphrase": PASSPHRASE}),),
    emulator=FakeEmulator,
    default_size=10,
)
