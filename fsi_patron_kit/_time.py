"""The package's one reader of ISO-8601 instants (vendors, frames, validation and emulators).

Python 3.10's ``datetime.fromisoformat`` does not read a trailing ``Z``; every vendor sends one.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo


def parse_iso(text: str) -> datetime:
    """The datetime ``text`` spells (naive if it has no offset); ValueError if it is not ISO-8601."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    stripped = text.strip()
    if stripped[-1:] in ("Z", "z"):
        stripped = stripped[:-1] + "+00:00"
    return datetime.fromisoformat(stripped)


def parse_instant(text: str | None, *, naive: tzinfo | None = timezone.utc) -> datetime | None:
    """A tz-aware instant from ``text``, or None when it is blank or not ISO-8601.

    A time without an offset is read in ``naive`` (UTC by default; ``None`` for this machine's
    local time, as servers that send local times without saying so need).
    """
    if not text:
        return None
    try:
        when = parse_iso(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=naive) if naive is not None else when.astimezone()
    return when
