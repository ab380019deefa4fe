"""Input rules every vendor shares, checked before anything is sent.

Patterns are used with ``fullmatch``: ``re.match(...$)`` lets a trailing newline through. Text
may not hold control characters (a CR, LF or NUL can split a header, end a line in a log, or
cut a value short on the server). A value that becomes a URL path segment is escaped so it
stays one segment, and ``.``/``..`` are refused outright: a URL resolver removes them.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

from .errors import InputError

__all__ = ["EMAIL", "CONTROL", "check_text", "check_chars", "check_email", "check_flag", "check_seconds",
           "check_header_value", "path_segment", "control_character_at"]

#: Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces. Anchored with
#: \A and \Z, so that match, search and fullmatch all match the whole string.
EMAIL = re.compile(r"\A[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")
#: C0 controls (tab, CR, LF and NUL among them), DEL and the C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: What a header value built from user input may hold: visible ASCII, no spaces.
_HEADER_SAFE = re.compile(r"[!-~]+")


def check_chars(name: str, value: Any, *, index: int | None = None) -> str:
    """A string (possibly empty) without control characters."""
    if not isinstance(value, str):
        raise InputError(name, "must be a string", index=index)
    if CONTROL.search(value):
        raise InputError(name, "must not contain control characters (line breaks, tabs, NUL)", index=index)
    return value


def check_text(name: str, value: Any, *, index: int | None = None) -> str:
    """A non-blank string without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be a non-empty string", index=index)
    return check_chars(name, value, index=index)


def check_email(name: str, value: Any, *, index: int | None = None) -> str:
    """An email address, matched in full (no trailing newline, no control characters)."""
    if not isinstance(value, str) or CONTROL.search(value) or not EMAIL.fullmatch(value):
        raise InputError(name, "must be a valid email address (name@domain.tld, no spaces)", index=index)
    return value


def check_flag(name: str, value: Any, *, error: type[InputError] = InputError) -> bool:
    """Exactly True or False: a flag that guards a write must not be guessed from ``None`` or ``"no"``."""
    if not isinstance(value, bool):
        raise error(name, "must be True or False")
    return value


def check_seconds(name: str, value: Any, *, positive: bool = False, error: type[InputError] = InputError) -> float:
    """A finite number of seconds (not a bool, not text), at least 0 (above 0 if ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise error(name, f"must be a finite number of seconds {'> 0' if positive else '>= 0'}")
    return float(value)


def check_header_value(name: str, value: Any) -> str:
    """A value sent as an HTTP header: visible ASCII only, so no CR/LF/NUL and nothing http.client cannot encode."""
    if not isinstance(value, str) or not _HEADER_SAFE.fullmatch(value):
        raise InputError(name, "must be a non-empty string of visible ASCII characters (no spaces or line breaks)")
    return value


def path_segment(name: str, value: Any) -> str:
    """``value`` escaped as one URL path segment (``/``, ``?``, ``#`` and ``%`` included)."""
    check_text(name, value)
    if value in (".", ".."):
        raise InputError(name, "must not be '.' or '..' (a URL resolver would drop or climb the path)")
    return quote(value, safe="")


def control_character_at(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string (key or value) in a JSON document holding a control
    character, or None."""
    if isinstance(value, str):
        return ".".join(path) if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = (*path, str(key))
            if isinstance(key, str) and CONTROL.search(key):
                return ".".join(where)
            found = control_character_at(item, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            found = control_character_at(item, (*path, str(position)))
            if found is not None:
                return found
    return None
