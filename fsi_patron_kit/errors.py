"""One exception hierarchy for every vendor.

Callers catch by meaning (``NotFoundError``, ``AuthError``...) whatever system they talk to,
and still get the vendor's own code and message on the exception. Messages never carry a
secret: URLs are redacted before they reach an exception.
"""

from __future__ import annotations

from ._redact import redact_text

__all__ = [
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


class PatronKitError(Exception):
    """Base of every error the kit raises on purpose."""


class InputError(PatronKitError, ValueError):
    """Bad input, found before any request was sent.

    ``field`` names what was wrong and ``rule`` the rule it broke, so a notebook user can fix
    the cell without reading a stack trace. The offending value is deliberately not included:
    it may be a patron's personal data.
    """

    def __init__(self, field: str, rule: str, *, index: int | None = None) -> None:
        self.field = field
        self.rule = rule
        self.index = index
        where = f"record {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {rule}")


class ConfigError(InputError):
    """A profile or setting that cannot be used (missing, insecure, or holding a secret)."""


class TransportError(PatronKitError):
    """The request never got an answer: connection refused or reset, timeout, TLS failure."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(message)


class RedirectRefused(PatronKitError):
    """The server redirected the request to another origin (host, port or scheme), where its
    credentials must not go. Not retried: the same request would be redirected again."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(message)


class APIError(PatronKitError):
    """The vendor answered with an error.

    ``code`` and ``message`` are the vendor's own, except that any secret the server echoed
    back is masked in the message; ``url`` is redacted too.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        vendor: str = "",
        method: str = "",
        url: str = "",
        action: str | None = None,
    ) -> None:
        message = redact_text(message)
        self.message = message
        self.status = status
        self.code = code
        self.vendor = vendor
        self.method = method
        self.url = url
        self.action = action
        super().__init__(message)

    def __str__(self) -> str:
        parts = [p for p in (self.vendor, self.action) if p]
        where = f"[{' '.join(parts)}] " if parts else ""
        code = f"{self.code}: " if self.code else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{where}{code}{self.message}{status}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, vendor={self.vendor!r}, action={self.action!r})"
        )


class AuthError(APIError):
    """Credentials or session refused (bad key, expired token that could not be renewed)."""


class NotFoundError(APIError, LookupError):
    """The record asked for does not exist."""


class ConflictError(APIError):
    """The write clashes with existing data: duplicates, already exists, ambiguous match."""


class RateLimitError(APIError):
    """Too many requests; ``retry_after`` is the server's advice in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    """The vendor's server failed (HTTP 5xx or an unhandled fault)."""


class BatchInterrupted(PatronKitError):
    """A batch stopped part-way (transport or auth failure); ``results`` holds what was done."""

    def __init__(self, message: str, *, results: object, cause: Exception) -> None:
        self.results = results
        self.cause = cause
        super().__init__(message)
