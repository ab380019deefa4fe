"""fsi_patron_kit: library patron APIs from Python notebooks, with a sandbox of each.

Start with ``connect("fsi")``, which talks to the embedded sandbox; pass ``profile=`` to talk to
a real tenant instead (see the docs page on profiles and secrets).
"""

from __future__ import annotations

from typing import Any

from . import _registry
from ._client import masked
from ._http import RetryPolicy
from ._version import __version__
from .config import SANDBOX, Profile, Secret, load_profile
from .errors import (
    APIError,
    AuthError,
    BatchInterrupted,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    PatronKitError,
    RateLimitError,
    RedirectRefused,
    ServerError,
    TransportError,
)
from .options import options
from .workflows import Audit, audit, available_checks, bulk, check, patrons, registration, validate

__all__ = [
    "__version__",
    "connect",
    "vendors",
    "options",
    "RetryPolicy",
    "Profile",
    "Secret",
    "load_profile",
    "patrons",
    "audit",
    "Audit",
    "validate",
    "registration",
    "check",
    "available_checks",
    "bulk",
    "PatronKitError",
    "InputError",
    "ConfigError",
    "TransportError",
    "APIError",
    "AuthError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "RedirectRefused",
    "ServerError",
    "BatchInterrupted",
]

def connect(vendor: str | None = None, *, profile: str = SANDBOX, **overrides: Any):
    """A client for ``profile`` (the embedded sandbox by default).

    ``vendor`` names the kind of client (``"fsi"``, ``"folio"``, ``"folio-edge"``, ...; see
    :func:`vendors`) and is needed for the sandbox profile; a named profile says its own.
    """
    overrides = masked(overrides)  # a secret passed here shows in no traceback's locals
    if profile != SANDBOX:
        vendor = vendor or load_profile(profile).vendor
    if not isinstance(vendor, str):
        raise InputError("vendor", f"must be one of {', '.join(_registry.clients())}")
    _, client = _registry.client_spec(vendor)
    return client.load().from_profile(profile, **overrides)


def vendors() -> list[str]:
    """The kinds of client ``connect()`` can make, one per registered vendor API."""
    return list(_registry.clients())
