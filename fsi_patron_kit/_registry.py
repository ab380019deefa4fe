"""The vendor registry: the one place that knows which vendors exist.

``connect()``, profiles (which settings the environment may set), redaction (which field
names are secret), the sandbox and the ``patron-kit`` command all read it, so a vendor is one
folder plus one line in :data:`BUILTIN` naming the module that defines its ``SPEC``. Specs
name their client classes and emulator factories as ``"module:attribute"`` strings, so reading
the registry imports no vendor's client or emulator until one is used.
"""

from __future__ import annotations

import atexit
import importlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._redact import add_secret_names
from .errors import InputError

#: One line per vendor: the module that defines its ``SPEC``.
BUILTIN = (
    "fsi_patron_kit.fsi.spec",
    "fsi_patron_kit.folio.spec",
    "fsi_patron_kit.wise.spec",
    "fsi_patron_kit.polaris.spec",
)


def load(target: str | Any) -> Any:
    """``"package.module:attribute"`` imported, or ``target`` itself if it is not a string."""
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@attrs.frozen(kw_only=True)
class ClientSpec:
    """One kind of client ``connect()`` can make (FOLIO has two: the gateway and the edge).

    ``settings`` are the profile settings this client takes besides the common ones, each with
    the function that reads it (environment values arrive as text). ``secrets`` are resolved
    from the environment or a prompt, never from the profile file; ``optional_secrets`` only
    when the profile names them (a Wise library without a payment account has no payment
    password). ``sandbox`` turns the vendor's running emulator into this client's constructor
    arguments. ``bulk_target`` (``"module:attribute"``) is how the bulk workflow reads, writes
    and verifies records through this client, where it can.
    """

    name: str
    target: str | type
    sandbox: Callable[[Any], dict[str, Any]]
    settings: Mapping[str, Callable[[Any], Any]] = attrs.field(factory=dict)
    secrets: tuple[str, ...] = ()
    optional_secrets: tuple[str, ...] = ()
    bulk_target: str | None = None

    def load(self) -> type:
        return load(self.target)


@attrs.frozen(kw_only=True)
class VendorSpec:
    """Everything the kit needs to know about one vendor.

    ``emulator`` is a factory ``(size=, seed=, latency=) -> emulator``; the emulator has
    ``start()``, ``stop()``, ``url``, ``knobs``, ``counters``, ``planted`` and ``banner()``
    (the lines ``patron-kit sandbox`` prints for it). ``size`` is how many patrons it seeds.
    ``adapter`` names the vendor's workflow adapter (``"module:attribute"``): how its patrons
    become the canonical frame, and how bulk changes are read, written and verified.
    """

    name: str
    title: str
    clients: tuple[ClientSpec, ...]
    emulator: str | Callable[..., Any] | None = None
    default_size: int | None = None
    adapter: str | Any | None = None

    def load_adapter(self) -> Any:
        if self.adapter is None:
            raise InputError("vendor", f"{self.name} has no workflow adapter yet")
        return load(self.adapter)

    def make_emulator(self, *, size: int | None = None, seed: int = 2024, latency: float = 0.0) -> Any:
        if self.emulator is None:
            raise InputError("vendor", f"{self.name} has no sandbox emulator")
        return load(self.emulator)(size=size or self.default_size, seed=seed, latency=latency)


_lock = threading.RLock()
_vendors: dict[str, VendorSpec] = {}
_loaded = False


def register(spec: VendorSpec) -> VendorSpec:
    """Add (or replace) a vendor. Built-in vendors register themselves through :data:`BUILTIN`."""
    with _lock:
        _vendors[spec.name] = spec
        add_secret_names(name for client in spec.clients for name in (*client.secrets, *client.optional_secrets))
    return spec


def unregister(name: str) -> None:
    """Remove a vendor (a test's own fake one), stopping its shared emulator if running."""
    with _lock:
        _vendors.pop(name, None)
        emulator = _shared.pop(name, None)
    if emulator is not None:
        emulator.stop()


def vendors() -> dict[str, VendorSpec]:
    """Every registered vendor by name, built-in ones first."""
    global _loaded
    with _lock:
        if not _loaded:
            _loaded = True
            for module in BUILTIN:
                register(load(module + ":SPEC"))
        return dict(_vendors)


def clients() -> dict[str, tuple[VendorSpec, ClientSpec]]:
    """Every client name ``connect()`` accepts, with its vendor."""
    return {client.name: (vendor, client) for vendor in vendors().values() for client in vendor.clients}


def client_spec(name: str) -> tuple[VendorSpec, ClientSpec]:
    known = clients()
    if name not in known:
        raise InputError("vendor", f"must be one of {', '.join(known)}")
    return known[name]


def spec_for_class(cls: type) -> tuple[VendorSpec, ClientSpec]:
    """The registration of a client class (``from_profile`` needs its settings and secrets)."""
    for vendor, client in clients().values():
        if client.target is cls or client.target == f"{cls.__module__}:{cls.__qualname__}":
            return vendor, client
    raise InputError("client", f"{cls.__qualname__} is not a registered client")


def setting_names() -> frozenset[str]:
    """Every vendor-specific profile setting (the environment may set these)."""
    return frozenset(name for _, client in clients().values() for name in client.settings)


# -- the process-wide sandbox behind the "sandbox" profile ----------------------------------------
_shared: dict[str, Any] = {}


def shared_emulator(vendor: str) -> Any:
    """The vendor's emulator for this process, started on first use and stopped at exit."""
    spec = vendors().get(vendor)
    if spec is None:
        raise InputError("vendor", f"must be one of {', '.join(vendors())}")
    with _lock:
        if vendor not in _shared:
            if not _shared:
                atexit.register(stop_shared)
            _shared[vendor] = spec.make_emulator().start()
        return _shared[vendor]


def stop_shared() -> None:
    """Stop every shared emulator (also registered to run at interpreter exit)."""
    with _lock:
        running = list(_shared.values())
        _shared.clear()
    for emulator in running:
        emulator.stop()
