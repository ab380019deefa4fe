"""Local emulators of the vendors' patron APIs, over real HTTP on 127.0.0.1.

Notebooks, tests, benchmarks and a newcomer's first run use these instead of a real tenant::

    with Sandbox() as sandbox:
        creds = sandbox.fsi.credentials
        client = fsi.Client(url=sandbox.fsi.url, apikey=creds.apikey, apisecret=creds.apisecret)

or, in a notebook, ``connect("fsi", profile="sandbox")`` which starts a shared sandbox once per
process. ``patron-kit sandbox`` serves the same thing from a terminal. ``sandbox.folio`` is
FOLIO: an Okapi gateway (``gateway_url``) and edge-patron (``edge_url``).
"""

from __future__ import annotations

import atexit
import threading

from ._server import Counters, Knobs
from .folio import ACCESS_TOKEN_LIFETIME, FolioEmulator
from .fsi import FsiEmulator

__all__ = ["Sandbox", "Knobs", "Counters", "FsiEmulator", "FolioEmulator", "shared"]


class Sandbox:
    """Every emulator, started together; a context manager."""

    def __init__(self, *, patrons: int = 1500, seed: int = 2024, latency: float = 0.0,
                 folio_users: int = 300) -> None:
        self.fsi = FsiEmulator(patrons=patrons, seed=seed, knobs=Knobs(latency=latency))
        self.folio = FolioEmulator(users=folio_users, seed=seed,
                                   knobs=Knobs(latency=latency, token_lifetime=ACCESS_TOKEN_LIFETIME))
        self._running = False

    @property
    def emulators(self) -> dict[str, FsiEmulator | FolioEmulator]:
        return {"fsi": self.fsi, "folio": self.folio}

    def start(self) -> Sandbox:
        if not self._running:
            for emulator in self.emulators.values():
                emulator.start()
            self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            for emulator in self.emulators.values():
                emulator.stop()
            self._running = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        urls = ", ".join(f"{name}={e.url}" for name, e in self.emulators.items()) if self._running else ""
        return f"<Sandbox {state} {urls}>".replace(" >", ">")


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared() -> Sandbox:
    """The process-wide sandbox behind the ``sandbox`` profile, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox().start()
            atexit.register(_shared.stop)
        return _shared
