"""Fixtures: fresh emulators over real HTTP per test, clients pointed at them, a server of canned
answers, and a secret registry that every test starts from afresh."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Request, Response

import fsi_patron_kit as pk
from fsi_patron_kit import fsi
from fsi_patron_kit._http import RetryPolicy
from fsi_patron_kit._redact import isolated_secrets
from fsi_patron_kit.sandbox import FolioEmulator, FsiEmulator, Sandbox
from fsi_patron_kit.sandbox._server import EmulatorServer

FAST_RETRY = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.005)


@pytest.fixture
def away_from_utc(monkeypatch):
    """This machine's clock in New York, so that a value read as local time (or not) shows."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _own_secret_registry():
    """Every test starts from the same registry of secret values: what one test registers
    (a client's keys, a server's tokens) cannot mask, or seem to mask, text in another."""
    with isolated_secrets():
        yield


@pytest.fixture
def sandbox():
    with Sandbox() as running:
        yield running


@pytest.fixture
def emulator():
    """An FSI emulator of its own for each test (cheaper than a whole sandbox)."""
    running = FsiEmulator().start()
    yield running
    running.stop()


def make_client(emulator, **options) -> fsi.Client:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("apikey", emulator.credentials.apikey)
    options.setdefault("apisecret", emulator.credentials.apisecret)
    return fsi.Client(url=emulator.url, **options)


@pytest.fixture
def later():
    """Move a client's sense of time forward, to reach renewal points without waiting."""

    def advance(client, seconds: float) -> None:
        auth = client._auth
        base = auth._clock
        auth._clock = lambda: base() + seconds

    return advance


@pytest.fixture
def client(emulator):
    with make_client(emulator) as made:
        yield made


# Every combination of request encoding and answer envelope a tenant may use.
WIRE_FORMS = [
    ("json", "string"),
    ("json", "object"),
    ("json", "none"),
    ("form", "string"),  # form posts are answered bare whatever the envelope setting
]


@pytest.fixture(params=WIRE_FORMS, ids=[f"{e}-{v}" for e, v in WIRE_FORMS])
def any_client(request, emulator):
    encoding, envelope = request.param
    emulator.envelope = envelope
    with make_client(emulator, encoding=encoding, record_bodies=True) as made:
        yield made


# -- FOLIO ------------------------------------------------------------------------------------------
@pytest.fixture
def folio_emulator():
    running = FolioEmulator().start()
    yield running
    running.stop()


def make_folio_client(emulator, **options):
    from fsi_patron_kit import folio

    options.setdefault("retry", FAST_RETRY)
    options.setdefault("username", emulator.credentials.username)
    options.setdefault("password", emulator.credentials.password)
    return folio.Client(url=emulator.gateway_url, tenant=emulator.tenant, **options)


def make_edge_client(emulator, **options):
    from fsi_patron_kit import folio

    options.setdefault("retry", FAST_RETRY)
    options.setdefault("apikey", emulator.edge_apikey)
    options.setdefault("caller", emulator.caller_id)
    return folio.EdgeClient(url=emulator.edge_url, **options)


@pytest.fixture
def folio_client(folio_emulator):
    with make_folio_client(folio_emulator, record_bodies=True) as made:
        yield made


@pytest.fixture
def edge_client(folio_emulator):
    with make_edge_client(folio_emulator, record_bodies=True) as made:
        yield made


# -- a server that answers what the test queued ------------------------------------------------------
class Canned:
    """A WSGI app answering each request with the next queued werkzeug Response.

    For answers no emulator gives (a proxy's HTML page, an odd status, a cookie to keep): the
    kit still reads them from a real socket. ``seen`` holds each request's method, path with
    query, headers and body.
    """

    def __init__(self) -> None:
        self.answers: list[Response] = []
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.url = ""

    def queue(self, *answers: Response) -> None:
        self.answers.extend(answers)

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append((request.method, request.full_path.rstrip("?"), dict(request.headers), request.get_data()))
        answer = self.answers.pop(0) if self.answers else Response("nothing queued", status=599)
        return answer(environ, start_response)


@pytest.fixture
def canned():
    app = Canned()
    server = EmulatorServer(app).start()
    app.url = server.url
    yield app
    server.stop()


# -- OCLC Wise --------------------------------------------------------------------------------------
@pytest.fixture
def wise_emulator():
    from fsi_patron_kit.sandbox.wise import WiseEmulator

    running = WiseEmulator(patrons=300).start()
    yield running
    running.stop()


def make_wise_client(emulator, **options):
    from fsi_patron_kit.wise import Client, spec

    options.setdefault("retry", FAST_RETRY)
    return Client(**{**spec._sandbox_arguments(emulator), **options})


@pytest.fixture
def wise_client(wise_emulator):
    with make_wise_client(wise_emulator, record_bodies=True) as made:
        yield made


# -- Polaris ----------------------------------------------------------------------------------------
@pytest.fixture
def polaris_emulator():
    from fsi_patron_kit.sandbox.polaris import PolarisEmulator

    running = PolarisEmulator().start()
    yield running
    running.stop()


def make_polaris_client(emulator, **options):
    from fsi_patron_kit import polaris
    from fsi_patron_kit.polaris.spec import SPEC

    options.setdefault("retry", FAST_RETRY)
    return polaris.Client(**{**SPEC.clients[0].sandbox(emulator), **options})


@pytest.fixture
def polaris_client(polaris_emulator):
    with make_polaris_client(polaris_emulator, record_bodies=True) as made:
        yield made
# -- the default sandbox read into the canonical frame, shared by a module's audit tests -------------
@pytest.fixture(scope="module")
def audit_sandbox():
    with Sandbox() as running:
        yield running


@pytest.fixture(scope="module")
def audit_frame(audit_sandbox):
    with make_client(audit_sandbox.fsi) as fsi, make_folio_client(audit_sandbox.folio) as folio:
        return pk.patrons(fsi, folio)
