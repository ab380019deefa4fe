"""fsi_patron_kit: library patron APIs from Python notebooks, with a sandbox of each.

Start with ``connect("fsi")``, which talks to the embedded sandbox; pass ``profile=`` to talk to
a real tenant instead (see the docs page on profiles and secrets).
"""

from __future__ import annotations

from typing import Any

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
    ServerError,
    TransportError,
)

__all__ = [
    "__version__",
    "connect",
    "RetryPolicy",
    "Profile",
    "Secret",
    "load_profile",
    "PatronKitError",
    "InputError",
    "ConfigError",
    "TransportError",
    "APIError",
    "AuthError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "BatchInterrupted",
]

VENDORS = ("fsi", "folio", "folio-edge")


def connect(vendor: str | None = None, *, profile: str = SANDBOX, **overrides: Any):
    """A client for ``profile`` (the embedded sandbox by default).

    ``vendor`` is needed for the sandbox profile; a named profile says its own vendor.
    """
    if profile != SANDBOX:
        vendor = vendor or load_profile(profile).vendor
    if vendor not in VENDORS:
        raise InputError("vendor", f"must be one of {', '.join(VENDORS)}")
    if vendor == "fsi":
        from .fsi import Client
    elif vendor == "folio":
        from .folio import Client
    else:
        from .folio import EdgeClient as Client
    return Client.from_profile(profile, **overrides)
