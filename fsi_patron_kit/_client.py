"""What every vendor client shares: profiles, the sandbox default, closing, and the history.

A vendor client says which settings and secrets its profiles hold and where the sandbox keeps
its credentials; everything else about connecting lives here once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypedDict, TypeVar
from urllib.parse import urlsplit

import requests

from . import _registry
from ._checks import CONTROL, check_flag, check_seconds
from ._history import History
from ._http import Auth, RetryPolicy, Transport
from ._redact import is_secret_name
from .config import SANDBOX, Secret, load_profile
from .errors import ConfigError, InputError

C = TypeVar("C", bound="BaseClient")


class TransportOptions(TypedDict, total=False):
    """How a client talks HTTP; every client takes these, with the transport's defaults.

    timeout: seconds, or (connect, read) seconds. retry: a :class:`RetryPolicy`. pool_size: pooled
    connections per host. record_bodies: keep redacted bodies in the history (personal data,
    so off by default). allow_insecure_http: allow plain http beyond loopback. verify: True or
    a CA bundle path (turning TLS verification off is refused).
    """

    timeout: float | tuple[float, float]
    retry: RetryPolicy | None
    pool_size: int
    record_bodies: bool
    allow_insecure_http: bool
    verify: bool | str


def masked(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` with each secret (by name) held as a :class:`Secret`: a function that passes
    secrets on rebinds its arguments to this first, so its frame's locals show in no traceback."""
    _registry.vendors()  # every registered vendor's secret names are known from here on
    return {key: Secret.of(value, field=key) if is_secret_name(key) and isinstance(value, str) else value
            for key, value in arguments.items()}


def check_transport(url: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked and normalised, for every client, before anything is built or sent.

    Each wrong value is a :class:`ConfigError` naming the option, never a ``TypeError`` from
    deep inside ``requests`` on the first call. ``verify`` and the URL's scheme and host are
    checked by the transport itself.
    """
    check_base_url(url)
    known = TransportOptions.__annotations__
    checked: dict[str, Any] = {}
    for name, value in options.items():
        if name not in known:
            raise ConfigError(name, f"is not a transport option (one of {', '.join(known)})")
        if name == "timeout":
            value = _timeout(value)
        elif name == "retry" and value is not None and not isinstance(value, RetryPolicy):
            raise ConfigError("retry", "must be a RetryPolicy or None")
        elif name == "pool_size" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError("pool_size", "must be an integer of at least 1")
        elif name in ("record_bodies", "allow_insecure_http"):
            check_flag(name, value, error=ConfigError)
        checked[name] = value
    return checked


def check_base_url(url: Any) -> str:
    """A URL ``requests`` can send to: text, no whitespace or control characters, a valid port."""
    if not isinstance(url, str) or not url or CONTROL.search(url) or any(c.isspace() for c in url):
        raise ConfigError("url", "must be an absolute http(s) URL without spaces or control characters")
    try:
        urlsplit(url).port  # noqa: B018 - reading the port is what checks it
        requests.Request("GET", url).prepare()
    except (ValueError, requests.RequestException):
        raise ConfigError("url", "is not a valid URL (host or port)") from None
    return url


def _timeout(value: Any) -> tuple[float, float]:
    """Seconds > 0: one number for both, or (connect, read)."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ConfigError("timeout", "must be seconds > 0: one number, or (connect, read)")
        connect, read = (check_seconds("timeout", part, positive=True, error=ConfigError) for part in value)
        return connect, read
    seconds = check_seconds("timeout", value, positive=True, error=ConfigError)
    return seconds, seconds


class BaseClient:
    """Profiles, the sandbox default, closing and the history, for every vendor's client.

    What a profile of this client may hold (settings, secrets) and how the sandbox connects to
    it are the vendor's registration (see :mod:`fsi_patron_kit._registry`), not the class's.
    """

    vendor: ClassVar[str]
    #: attributes the repr shows after the URL (never secrets or personal data)
    _shown: ClassVar[tuple[str, ...]] = ()
    _transport: Transport

    def _open(self, url: str, auth: Auth, describe_failure: Callable[[requests.Response], str | None],
              options: TransportOptions) -> None:
        self._transport = Transport(url, vendor=self.vendor, auth=auth, describe_failure=describe_failure,
                                    **check_transport(url, options))

    def __repr__(self) -> str:
        """``<fsi.Client https://... encoding=json>``; works on a half-built client too (a traceback
        shows the ``self`` of a constructor that failed)."""
        transport = getattr(self, "_transport", None)
        where = transport.base_url if transport is not None else "(not connected)"
        details = "".join(f" {name}={getattr(self, name, None)}" for name in self._shown)
        vendor_package = type(self).__module__.removeprefix("fsi_patron_kit.").split(".")[0]
        return f"<{vendor_package}.{type(self).__qualname__} {where}{details}>"

    @classmethod
    def from_profile(cls: type[C], profile: str = SANDBOX, **overrides: Any) -> C:
        """A client for a named profile; ``"sandbox"`` starts the vendor's emulator if needed."""
        overrides = masked(overrides)
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
