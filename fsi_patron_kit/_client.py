"""What every vendor client shares: profiles, the sandbox default, closing, and the history.

A vendor client says which settings and secrets its profiles hold and where the sandbox keeps
its credentials; everything else about connecting lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypedDict, TypeVar

import requests

from . import _registry
from ._history import History
from ._http import Auth, RetryPolicy, Transport
from .config import SANDBOX, load_profile
from .errors import InputError

C = TypeVar("C", bound="BaseClient")


class TransportOptions(TypedDict, total=False):
    """How a client talks HTTP; every client takes these, with the transport's defaults.

    timeout: (connect, read) seconds. retry: a :class:`RetryPolicy`. pool_size: pooled
    connections per host. record_bodies: keep redacted bodies in the history (personal data,
    so off by default). allow_insecure_http: allow plain http beyond loopback. verify: True or
    a CA bundle path (turning TLS verification off is refused).
    """

    timeout: tuple[float, float]
    retry: RetryPolicy | None
    pool_size: int
    record_bodies: bool
    allow_insecure_http: bool
    verify: bool | str


class BaseClient:
    """Profiles, the sandbox default, closing and the history, for every vendor's client.

    What a profile of this client may hold (settings, secrets) and how the sandbox connects to
    it are the vendor's registration (see :mod:`fsi_patron_kit._registry`), not the class's.
    """

    vendor: ClassVar[str]
    _transport: Transport

    def _open(self, url: str, auth: Auth, describe_failure: Callable[[requests.Response], str | None],
              options: TransportOptions) -> None:
        self._transport = Transport(url, vendor=self.vendor, auth=auth, describe_failure=describe_failure, **options)

    @classmethod
    def from_profile(cls: type[C], profile: str = SANDBOX, **overrides: Any) -> C:
        """A client for a named profile; ``"sandbox"`` starts the vendor's emulator if needed."""
        vendor, client = _registry.spec_for_class(cls)
        if profile == SANDBOX:
            settings = client.sandbox(_registry.shared_emulator(vendor.name))
        else:
            loaded = load_profile(profile)
            if loaded.vendor != client.name:
                raise InputError("profile", f"{profile!r} is a {loaded.vendor} profile, not {client.name}")
            settings = {"url": loaded.url, **loaded.options(client.settings)}
            settings.update({key: loaded.secret(key) for key in client.secrets if key not in overrides})
            settings.update({key: loaded.secret(key) for key in client.optional_secrets
                             if key not in overrides and loaded.names_secret(key)})
        return cls(**{**settings, **overrides})

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    @property
    def url(self) -> str:
        return self._transport.base_url

    @property
    def history(self) -> History:
        """Every exchange so far, redacted; ``client.history.to_frame()`` for a DataFrame."""
        return self._transport.history


class TokenClient(BaseClient):
    """A client whose auth hook holds a session (FSI tokens, FOLIO gateway tokens)."""

    _auth: Any

    @property
    def session(self) -> Any:
        """When the current token expires and how often the client logged in or renewed; never the token."""
        return self._auth.session

    def login(self) -> Any:
        """Log in now (otherwise done on the first call that needs a token)."""
        self._auth.login(self._transport)
        return self.session
