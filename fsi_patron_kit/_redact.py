"""Keep secrets out of everything the kit shows: URLs, headers, bodies, logs, exceptions.

Two nets, because either alone leaks:

* by name: values of well-known secret fields (``apikey``, ``token``, ``Authorization``...)
  are masked wherever they appear in a query string, header set or body;
* by value: every secret a client holds or receives (keys, one-time codes, session tokens) is
  registered here, and any text shown later has those literal values replaced. This catches a
  secret that travels under an unexpected name, inside an error message from ``requests``, or
  in a log line written by ``urllib3``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_NAMES = frozenset(
    {
        "apikey",
        "api_key",
        "apisecret",
        "api_secret",
        "secret",
        "token",
        "renewtoken",
        "accesstoken",
        "accesssecret",
        "refreshtoken",
        "password",
        "authorization",
        "cookie",
        "set-cookie",
        "x-okapi-token",
        "wise_key",
    }
)

# Secrets shorter than this are not replaced by value: masking every "1" in a log is noise.
_MIN_SECRET_LENGTH = 4
_MAX_REMEMBERED = 2048


class _SecretRegistry:
    """A bounded, thread-safe set of literal secret values, longest first when replacing."""

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._pinned: set[str] = set()
        self._lock = threading.Lock()
        self._ordered: tuple[str, ...] = ()

    def add(self, value: str | None, *, pin: bool = False) -> None:
        """Remember ``value``; pinned values (a client's own keys) are never forgotten, the
        tokens servers hand out are, oldest first, past a bound."""
        if not value or len(value) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            if pin:
                self._pinned.add(value)
            else:
                self._values[value] = None
                self._values.move_to_end(value)
                while len(self._values) > _MAX_REMEMBERED:
                    self._values.popitem(last=False)
            self._reorder()

    def _reorder(self) -> None:
        self._ordered = tuple(sorted(self._pinned | set(self._values), key=len, reverse=True))

    def snapshot(self) -> tuple[OrderedDict[str, None], set[str]]:
        with self._lock:
            return OrderedDict(self._values), set(self._pinned)

    def restore(self, saved: tuple[OrderedDict[str, None], set[str]]) -> None:
        with self._lock:
            self._values, self._pinned = OrderedDict(saved[0]), set(saved[1])
            self._reorder()

    def scrub(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text


_registry = _SecretRegistry()


def register_secret(value: str | None, *, pin: bool = False) -> None:
    """Remember a secret value so that it is masked wherever it shows up later."""
    _registry.add(value, pin=pin)


@contextmanager
def isolated_secrets(*, empty: bool = False) -> Iterator[None]:
    """Forget, when the block ends, every secret registered inside it (``empty``: start with none).

    For tests: each starts from the same registry whatever ran before it, and a test of the
    name net alone can switch the value net off.
    """
    saved = _registry.snapshot()
    if empty:
        _registry.restore((OrderedDict(), set()))
    try:
        yield
    finally:
        _registry.restore(saved)


def is_secret_name(name: str) -> bool:
    return name.strip().lower() in SECRET_NAMES


def _named_value_pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # the value may be quoted (``token="..."``); the quote stays, the value goes
    return re.compile(r"(?i)\b(" + alternatives + r")=(['\"]?)[^&\s'\"),;]+")


_NAMED_VALUE = _named_value_pattern(SECRET_NAMES)


def add_secret_names(names: Iterable[str]) -> None:
    """Treat more field names as secret (a vendor's registration adds its profile secrets)."""
    global SECRET_NAMES, _NAMED_VALUE
    added = frozenset(n.strip().lower() for n in names) - SECRET_NAMES
    if added:
        SECRET_NAMES = SECRET_NAMES | added
        _NAMED_VALUE = _named_value_pattern(SECRET_NAMES)


def redact_text(text: str) -> str:
    """Mask every registered secret value, and every ``name=value`` pair of a secret name."""
    if not text:
        return text
    return _NAMED_VALUE.sub(lambda m: f"{m.group(1)}={m.group(2)}{MASK}", _registry.scrub(text))


def redact_url(url: str) -> str:
    """Mask secret query parameters and any registered value in a URL."""
    parts = urlsplit(url)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) else redact_text(v)) for k, v in pairs], safe="*")
        parts = parts._replace(query=query)
    if parts.password:
        parts = parts._replace(netloc=f"{parts.username}:{MASK}@{parts.netloc.rpartition('@')[2]}")
    return redact_text(urlunsplit(parts))


def redact_mapping(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a header set, form or JSON object with secret fields masked, recursively."""
    if not values:
        return {}
    return {key: MASK if is_secret_name(str(key)) else redact_value(val) for key, val in values.items()}


def redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        if value[:1] in ("{", "["):  # a JSON document inside a string, as in {"d": "{...}"}
            try:
                return json.dumps(redact_value(json.loads(value)), ensure_ascii=False)
            except ValueError:
                pass
        return redact_text(value)
    return value


def redact_body(body: bytes | str | None, content_type: str = "") -> str | None:
    """A printable, redacted copy of a request or response body."""
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.dumps(redact_value(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, MASK if is_secret_name(k) else redact_text(v)) for k, v in pairs], safe="*")
    return redact_text(text)


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with registered secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redact_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_filter = RedactingFilter()


def install_log_filter(*logger_names: str) -> None:
    """Attach the redacting filter to loggers that may print URLs (ours and urllib3's)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
