"""The shared transport: one pooled session, timeouts, retries, auth, redaction and history.

Vendor clients describe *what* to send as a :class:`Call`; the transport decides *how*: it
asks the auth hook for credentials, retries what is safe to retry, records every attempt in the
history, and turns network failures into :class:`~fsi_patron_kit.errors.TransportError` with
secrets removed. It never knows a vendor's field names; decoding answers is the client's job.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

import attrs
import requests
from requests.adapters import HTTPAdapter

from ._checks import check_seconds
from ._display import card, masked_body
from ._history import Exchange, History
from ._redact import (
    install_log_filter,
    redact_body,
    redact_text,
    redact_url,
    redact_value,
    register_secret,
)
from ._version import __version__
from .errors import (
    APIError,
    AuthError,
    ConfigError,
    ConflictError,
    NotFoundError,
    PatronKitError,
    RateLimitError,
    RedirectRefused,
    ServerError,
    TransportError,
)

log = logging.getLogger("fsi_patron_kit.http")
# A logger's filter does not see its children's records, so each logger that writes URLs is named.
install_log_filter("fsi_patron_kit.http", "urllib3.connectionpool", "urllib3.util.retry", "requests")

USER_AGENT = f"fsi-patron-kit/{__version__}"
DEFAULT_TIMEOUT = (3.05, 30.0)
T = TypeVar("T")
MAX_REDIRECTS = 5


def _masked(value: Any) -> str:
    return repr(redact_value(value))


@attrs.frozen(kw_only=True)
class Call:
    """One logical request. ``idempotent`` says whether repeating it is harmless."""

    method: str
    path: str
    action: str | None = None
    # Once credentials are attached these hold them: their repr is masked, even in a traceback.
    params: Mapping[str, Any] | None = attrs.field(default=None, repr=_masked)
    json: Any = attrs.field(default=None, repr=_masked)
    data: Mapping[str, Any] | None = attrs.field(default=None, repr=_masked)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_masked)
    idempotent: bool = False
    authenticated: bool = True
    #: which credential the call needs, for an auth that holds several (Wise: staff, payment)
    scope: str | None = None


class Auth(Protocol):
    """How a vendor gets, attaches and renews credentials; the transport calls it.

    Session vendors subclass :class:`~fsi_patron_kit._session.SessionAuth`, which implements
    the lifecycle (``current``, ``ensure``, ``recover``) once.
    """

    def current(self, call: Call | None = None) -> Any:
        """The credentials held now, without any I/O (a dry run shows them masked)."""

    def ensure(self, transport: Transport, call: Call | None = None) -> Any:
        """Credentials to send ``call`` with, logging in or renewing first if needed."""

    def apply(self, call: Call, credentials: Any) -> Call:
        """Return ``call`` with ``credentials`` attached (header, cookie, query or body field)."""

    def sign(self, request: requests.PreparedRequest) -> None:
        """Add headers computed over the final request: method, URL, body bytes and headers."""

    def is_rejection(self, response: requests.Response) -> bool:
        """Whether ``response`` says the credentials were refused or expired."""

    def recover(self, transport: Transport, call: Call, rejected: Any) -> None:
        """Renew (or log in again) after the server refused the ``rejected`` credentials."""

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        """Credentials that ``response`` hands out, to be masked before it is recorded."""


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Jittered exponential backoff.

    Idempotent calls are retried after connection failures, timeouts and 502/503/504.
    Any call is retried after a 429 (the server refused it unprocessed) and after a connect
    timeout (it was never sent). ``Retry-After`` is honoured up to ``max_retry_after``.
    """

    attempts: int = 4
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = frozenset({502, 503, 504})
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Checked when made, not at the first retry of some later call."""
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise ConfigError("retry.attempts", "must be an integer of at least 1")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            check_seconds(f"retry.{name}", getattr(self, name), error=ConfigError)
        if not isinstance(self.statuses, frozenset | set) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in self.statuses):
            raise ConfigError("retry.statuses", "must be a set of HTTP status codes")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def run(self, action: Callable[[], T], *, retry_on: tuple[type[BaseException], ...]) -> T:
        """Call ``action`` until it succeeds, backing off between tries; the last failure is raised."""
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except retry_on:
                if attempt >= self.attempts:
                    raise
                time.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover - attempts >= 1


@attrs.frozen
class Preview:
    """A write not sent (``dry_run=True``): what would go over the wire, secrets masked."""

    method: str
    url: str
    body: Any = attrs.field(default=None, repr=False)

    def __repr__(self) -> str:  # the body may be long and personal: ``.body`` holds it
        size = f"{len(self.body)} fields" if isinstance(self.body, dict) else "none" if self.body is None else "yes"
        return f"Preview({self.method} {self.url}, body: {size}; nothing was sent)"

    def _repr_html_(self) -> str:
        shown = json.dumps(masked_body(self.body), indent=2, ensure_ascii=False) if self.body is not None else "(no body)"
        return card(f"dry run: {self.method} {self.url}", [("sent", "nothing (dry run)")], details={"body": shown})


class _Pause:
    """A wait every thread of one transport keeps: after a 429, no thread sends until it is over."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._waiting = threading.local()

    def hold(self, seconds: float) -> None:
        """Hold every thread back for ``seconds``, this one included (it sleeps them out here)."""
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)
        self._waiting.now = True
        try:
            time.sleep(seconds)
        finally:
            self._waiting.now = False

    def wait(self) -> None:
        """Wait out a pause another thread holds (a call made while waiting one out goes ahead)."""
        remaining = self._until - time.monotonic()
        if remaining > 0 and not getattr(self._waiting, "now", False):
            time.sleep(remaining)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def check_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Refuse anything but https, except plain http to this machine (the sandbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("url", "must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ConfigError("url", "must not carry credentials; a profile's secrets hold them")
    if parts.scheme == "http" and not (allow_insecure_http or is_loopback(parts.hostname)):
        raise ConfigError(
            "url",
            "plain http is only allowed to loopback; use https or pass allow_insecure_http=True",
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def error_for_status(status: int | None) -> type[APIError]:
    """The exception class that an HTTP status means, before any vendor refinement."""
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if status is not None and status >= 500:
        return ServerError
    return APIError


def json_answer(response: requests.Response, *, vendor: str, action: str) -> Any:
    """The JSON of a successful answer (None when it is empty); APIError if it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise APIError("answer is not JSON", status=response.status_code, vendor=vendor, action=action) from None


def answer_error(response: requests.Response, message: str, *, vendor: str, action: str,
                 code: str | int | None = None, cls: type[APIError] | None = None, **extra: Any) -> APIError:
    """The typed exception for a failed answer: the class its status means (unless the vendor's
    code says better), the vendor's code and message, the redacted URL, and a 429's wait."""
    cls = cls or error_for_status(response.status_code)
    if cls is RateLimitError:
        extra["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    return cls(message, status=response.status_code, code=code, vendor=vendor,
               method=response.request.method or "" if response.request is not None else "",
               url=redact_url(response.url or ""), action=action, **extra)


class Transport:
    """A pooled ``requests.Session`` for one client, with everything around it."""

    def __init__(
        self,
        base_url: str,
        *,
        vendor: str,
        auth: Auth | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pool_size: int = 16,
        history_size: int = 1000,
        record_bodies: bool = False,
        allow_insecure_http: bool = False,
        verify: bool | str = True,
        describe_failure: Callable[[requests.Response], str | None] | None = None,
    ) -> None:
        if verify is not True and not (isinstance(verify, str) and os.path.isfile(verify)):
            raise ConfigError("verify", "must be True or the path of a CA bundle file; TLS verification cannot be turned off")
        self.base_url = check_url(base_url, allow_insecure_http=allow_insecure_http)
        self.vendor = vendor
        self.auth = auth
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.history = History(history_size)
        self._rate_limited = _Pause()
        self.record_bodies = record_bodies
        self._describe_failure = describe_failure
        self.session = requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = USER_AGENT
        # Credentials travel only as the auth hook attaches them: a cookie jar that keeps and
        # replays what servers set would be a second, invisible copy of every session token.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Proxy and CA-bundle settings from the environment, resolved once: requests would
        # otherwise scan the environment on every call, the largest cost of a small call.
        settings = self.session.merge_environment_settings(self.base_url, {}, None, verify, None)
        self._send_options = {"proxies": settings["proxies"], "verify": settings["verify"]}
        # With those resolved, the environment has nothing more to give but ~/.netrc, whose
        # password requests would send as Basic auth on every call: a credential the auth hook
        # never chose.
        self.session.trust_env = False

    def __repr__(self) -> str:
        # Also shown for a transport whose constructor failed, as a traceback's ``self``.
        where = getattr(self, "base_url", None)
        return f"<Transport {getattr(self, 'vendor', '?')} {redact_url(where) if where else '(not opened)'}>"

    def close(self) -> None:
        self.session.close()

    def url_for(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def preview(self, call: Call) -> Preview:
        """The redacted form of ``call`` as a dry run shows it (credentials masked); nothing is sent."""
        applied = self.auth.apply(call, self.auth.current(call)) if call.authenticated and self.auth else call
        url = requests.Request(call.method, self.url_for(call.path), params=applied.params).prepare().url or ""
        return Preview(method=call.method, url=redact_url(url), body=redact_value(call.json))

    def send(self, call: Call) -> requests.Response:
        """Send ``call`` with credentials, retrying what is safe; renew credentials once if refused."""
        response, used = self._send_with_retries(call)
        if call.authenticated and self.auth is not None and self.auth.is_rejection(response):
            self.auth.recover(self, call, used)
            response, _ = self._send_with_retries(call)
        return response

    def _send_with_retries(self, call: Call) -> tuple[requests.Response, Any]:
        """The final answer, and the credentials it was sent with.

        Credentials are fetched and attached for every attempt, so a retry after a wait sends
        the token another thread may have renewed meanwhile, not the one it first held.
        """
        authorize = call.authenticated and self.auth is not None
        attempt = 0
        paused = False
        while True:
            attempt += 1
            last_try = attempt >= self.retry.attempts
            if not paused:  # another thread's 429 holds this one back too
                self._rate_limited.wait()
            paused = False
            credentials = self.auth.ensure(self, call) if authorize else None  # type: ignore[union-attr]
            sent = self.auth.apply(call, credentials) if authorize else call  # type: ignore[union-attr]
            failure: PatronKitError | None = None
            try:
                response = self._attempt(sent, attempt)
            except requests.ConnectTimeout as exc:
                failure = self._transport_error(call, exc) if last_try else None
                retry = not last_try
            except requests.exceptions.InvalidHeader as exc:  # nothing was sent; sending again won't mend it
                failure, retry = self._transport_error(call, exc), False
            except requests.RequestException as exc:
                failure = self._transport_error(call, exc) if last_try or not call.idempotent else None
                retry = failure is None
            except _RedirectRefused as refused:
                failure, retry = refused.error, False
            else:
                retry = False
            if failure is not None:
                # Raised outside the except block, so requests' unredacted exception (which
                # names the URL, apikey and all) is not kept as its __context__.
                raise failure
            if retry:
                time.sleep(self.retry.delay(attempt))
                continue
            retryable = response.status_code == 429 or (
                call.idempotent and response.status_code in self.retry.statuses
            )
            if not retryable or last_try:
                return response, credentials
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.retry.max_retry_after:
                return response, credentials
            pause = self.retry.delay(attempt, wait)
            if response.status_code == 429:  # the server is busy for every thread, not only this one
                self._rate_limited.hold(pause)
                paused = True
            else:
                time.sleep(pause)

    def _attempt(self, call: Call, attempt: int) -> requests.Response:
        """One attempt, following same-origin redirects only (each hop recorded)."""
        request = self.session.prepare_request(
            requests.Request(
                call.method,
                self.url_for(call.path),
                params=call.params,
                json=call.json,
                data=call.data,
                headers=dict(call.headers),
            )
        )
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._exchange(call, request, attempt)
            if not response.is_redirect:
                return response
            request = self._redirected(call, request, response)
        raise _RedirectRefused(RedirectRefused(
            f"{self.vendor} {call.action or call.method}: more than {MAX_REDIRECTS} redirects",
            method=call.method, url=redact_url(request.url or "")))

    def _exchange(self, call: Call, request: requests.PreparedRequest, attempt: int) -> requests.Response:
        if self.auth is not None:  # every request is signed, the login's too
            self.auth.sign(request)
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        try:
            response = self.session.send(request, timeout=self.timeout, allow_redirects=False,
                                         **self._send_options)
        except requests.RequestException as exc:
            self._record(call, request, attempt, started, clock, None, error=type(exc).__name__)
            raise
        self._record(call, request, attempt, started, clock, response)
        return response

    def _redirected(self, call: Call, request: requests.PreparedRequest,
                    response: requests.Response) -> requests.PreparedRequest:
        """The request a redirect asks for, or a refusal if it would leave the origin.

        Credentials ride in headers, bodies and query strings; following a redirect to another
        host, port or scheme (an https -> http downgrade included) would hand them over.
        """
        target = urljoin(request.url or "", response.headers.get("Location", ""))
        here, there = urlsplit(request.url or ""), urlsplit(target)
        response.close()
        if (here.scheme, here.hostname, here.port) != (there.scheme, there.hostname, there.port):
            raise _RedirectRefused(RedirectRefused(
                f"{self.vendor} {call.action or call.method}: refused a redirect to {redact_url(target)}: "
                "credentials are only sent to the origin they belong to",
                method=call.method, url=redact_url(request.url or "")))
        following = request.copy()
        following.url = target
        if response.status_code == 303 or (response.status_code in (301, 302) and request.method == "POST"):
            following.method, following.body = "GET", None
            for header in ("Content-Type", "Content-Length"):
                following.headers.pop(header, None)
        return following

    def _record(
        self,
        call: Call,
        request: requests.PreparedRequest,
        attempt: int,
        started: datetime,
        clock: float,
        response: requests.Response | None,
        *,
        error: str | None = None,
    ) -> None:
        elapsed_ms = (time.perf_counter() - clock) * 1000
        if response is not None and self.auth is not None:
            for secret in self.auth.secrets_in(call, response):
                register_secret(secret)
        url = redact_url(request.url or "")
        status = response.status_code if response is not None else None
        if response is not None and error is None:
            error = self._failure_of(response)
        outcome = "ok" if response is not None and response.ok and not error else "error"
        body = request.body
        keep = self.record_bodies
        self.history.add(
            Exchange(
                started=started,
                vendor=self.vendor,
                action=call.action,
                method=call.method,
                url=url,
                status=status,
                elapsed_ms=round(elapsed_ms, 3),
                attempt=attempt,
                request_bytes=len(body) if body else 0,
                response_bytes=len(response.content) if response is not None else 0,
                outcome=outcome,
                error=redact_text(error) if error else None,
                request_headers=request.headers,
                response_headers=response.headers if response is not None else {},
                request_body=redact_body(body, request.headers.get("Content-Type", "")) if keep else None,
                response_body=(
                    redact_body(response.content, response.headers.get("Content-Type", ""))
                    if keep and response is not None
                    else None
                ),
            )
        )
        log.debug(
            "%s %s %s -> %s in %.1f ms (attempt %d)",
            self.vendor,
            call.action or call.method,
            url,
            status if status is not None else error,
            elapsed_ms,
            attempt,
        )

    def _failure_of(self, response: requests.Response) -> str | None:
        if self._describe_failure is not None:
            try:
                return self._describe_failure(response)
            except Exception:  # a describer must never break the request it describes
                return None
        return None if response.ok else response.reason

    def _transport_error(self, call: Call, exc: requests.RequestException) -> TransportError:
        url = redact_url(self.url_for(call.path))
        # requests quotes the offending header value, which is often a token the server sent
        reason = "a header value holds a character HTTP forbids (a line break or a leading space)" \
            if isinstance(exc, requests.exceptions.InvalidHeader) else redact_text(str(exc))
        return TransportError(
            f"{self.vendor} {call.action or call.method} {url} failed: {type(exc).__name__}: {reason}",
            method=call.method,
            url=url,
        )


class _RedirectRefused(Exception):
    """Carries a refusal out of the redirect loop; never retried."""

    def __init__(self, error: RedirectRefused) -> None:
        super().__init__(error)
        self.error = error
