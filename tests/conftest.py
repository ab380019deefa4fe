"""Fixtures: a fresh FSI emulator over real HTTP per test, and clients pointed at it."""

from __future__ import annotations

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit import fsi
from fsi_patron_kit._http import RetryPolicy
from fsi_patron_kit.sandbox import FolioEmulator, FsiEmulator, Sandbox

FAST_RETRY = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.005)


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


# -- the default sandbox read into the canonical frame, shared by a module's audit tests -------------
@pytest.fixture(scope="module")
def audit_sandbox():
    with Sandbox() as running:
        yield running


@pytest.fixture(scope="module")
def audit_frame(audit_sandbox):
    with make_client(audit_sandbox.fsi) as fsi, make_folio_client(audit_sandbox.folio) as folio:
        return pk.patrons(fsi, folio)
