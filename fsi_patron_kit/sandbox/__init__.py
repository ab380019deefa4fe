"""Local emulators of the vendors' patron APIs, over real HTTP on 127.0.0.1.

Notebooks, tests, benchmarks and a newcomer's first run use these instead of a real tenant::

    with Sandbox() as sandbox:
        creds = sandbox.fsi.credentials
        client = fsi.Client(url=sandbox.fsi.url, apikey=creds.apikey, apisecret=creds.apisecret)

or, in a notebook, ``connect("fsi")``, which starts that vendor's shared emulator once per
process. ``patron-kit sandbox`` serves the same thing from a terminal. Which emulators exist is
the vendor registry's business: every registered vendor with an emulator is part of a sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from typing import Any

from .. import _registry
from ._server import Counters, Knobs, ports_from
from .folio import FolioEmulator
from .fsi import FsiEmulator

__all__ = ["Sandbox", "Knobs", "Counters", "FsiEmulator", "FolioEmulator", "shared"]


class Sandbox:
    """Emulators of every registered vendor (or of ``only`` these), started together.

    ``sizes`` says how many patrons a vendor's emulator seeds (``{"fsi": 200}``); each vendor
    has its own default. ``sandbox.fsi``, ``sandbox.folio`` ... are the emulators. ``port``: the
    emulators' servers listen on ``port``, ``port + 1``, ... in registry order (FOLIO has two),
    so the URLs stay the same across restarts; by default each takes a free port.
    """

    def __init__(self, *, seed: int = 2024, latency: float = 0.0, sizes: Mapping[str, int] | None = None,
                 only: Iterable[str] | None = None, emulators: Mapping[str, Any] | None = None,
                 port: int | None = None) -> None:
        specs = {name: spec for name, spec in _registry.vendors().items() if spec.emulator is not None}
        chosen = list(only) if only is not None else list(specs)
        unknown = sorted(set(chosen) - set(specs) | set(sizes or {}) - set(specs))
        if unknown:
            raise ValueError(f"no emulator for {', '.join(unknown)}; known: {', '.join(specs)}")
        self._emulators: dict[str, Any] = dict(emulators) if emulators is not None else {
            name: specs[name].make_emulator(size=(sizes or {}).get(name), seed=seed, latency=latency)
            for name in chosen
        }
        self._running = emulators is not None
        self._port = port

    @property
    def emulators(self) -> dict[str, Any]:
        return dict(self._emulators)

    def __getattr__(self, name: str) -> Any:
        emulators = self.__dict__.get("_emulators", {})
        if name in emulators:
            return emulators[name]
        raise AttributeError(name)

    def start(self) -> Sandbox:
        """Start every emulator; if one cannot (its port is taken), stop those already started."""
        if not self._running:
            started = []
            try:
                with ports_from(self._port) if self._port is not None else nullcontext():
                    for emulator in self._emulators.values():
                        emulator.start()
                        started.append(emulator)
            except BaseException:
                for emulator in started:
                    emulator.stop()
                raise
            self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            for emulator in self._emulators.values():
                emulator.stop()
            self._running = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        urls = ", ".join(f"{name}={e.url}" for name, e in self._emulators.items()) if self._running else ""
        return f"<Sandbox {state} {urls}>".replace(" >", ">")


def shared() -> Sandbox:
    """The process-wide emulators behind the ``sandbox`` profile, started on first use.

    The same emulators ``connect(vendor)`` talks to, so a notebook can look at what its client did.
    """
    names = [name for name, spec in _registry.vendors().items() if spec.emulator is not None]
    return Sandbox(emulators={name: _registry.shared_emulator(name) for name in names})
