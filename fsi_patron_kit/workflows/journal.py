"""The bulk journal: one SQLite file per run that says, row by row, what was done.

A bulk change on production data must survive a crash, a ``kill -9`` or a closed laptop, and
must never write a record twice by guessing. So before a request leaves, its intent is
committed here; after it, the outcome. A run can then be resumed from the file alone: records
whose state is ``sending`` or ``unknown`` were in flight, and are read back before anything is
sent again.

Tables:

* ``meta``: what the run is (``kind`` apply or rollback, ``vendor``, ``target``, ``created``,
  the journal it rolls back);
* ``changes``: the plan, one row per (record, field): before and after;
* ``records``: one row per record: ``state`` (pending, sending, unknown, applied, conflict,
  failed, skipped), the before-image read at apply time, the intent, the vendor's answer
  (redacted), a detail, and how many times the write was sent;
* ``events``: every step (intent, answer, lost, verified, conflict...) with its time and what it
  set; a trigger carries each step into its record, so a step is one row written.

An intent is committed before its request is sent; an answered write's outcome may wait for the
next commit (a killed run leaves that record ``sending``, and a resume reads it back). Commits
are grouped: a worker whose intent must be committed commits everything queued so far, its
own and other workers' steps, in one statement, while the workers that queue meanwhile wait
for the next one. Sixteen workers then share commits instead of queueing for one each.
WAL mode with ``synchronous=NORMAL``: a committed step survives the process being killed.
Values are stored as JSON; date-times as ``{"$time": iso}``.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError

__all__ = ["Journal", "STATES", "DONE", "IN_FLIGHT", "encode", "decode", "norm"]

STATES = ("pending", "sending", "unknown", "applied", "conflict", "failed", "skipped")
DONE = frozenset({"applied", "conflict", "failed", "skipped"})
IN_FLIGHT = frozenset({"sending", "unknown"})
DEFER_LIMIT = 256  # deferred steps held before they are committed anyway

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS changes (
    position INTEGER PRIMARY KEY, vendor TEXT, record_key TEXT, field TEXT, before TEXT, after TEXT);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, record_key TEXT UNIQUE, state TEXT NOT NULL, before_image TEXT,
    intent TEXT, answer TEXT, detail TEXT, sends INTEGER NOT NULL DEFAULT 0, updated TEXT);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, record_key TEXT, at TEXT, event TEXT, detail TEXT,
    state TEXT, before_image TEXT, intent TEXT, answer TEXT, sent INTEGER NOT NULL DEFAULT 0);
-- A step is one row of events; this trigger carries it into its record, in the same statement.
CREATE TRIGGER IF NOT EXISTS step_record AFTER INSERT ON events BEGIN
    UPDATE records SET state = NEW.state, updated = NEW.at, detail = NEW.detail,
        before_image = COALESCE(NEW.before_image, before_image), intent = COALESCE(NEW.intent, intent),
        answer = COALESCE(NEW.answer, answer), sends = sends + NEW.sent
    WHERE record_key = NEW.record_key;
END;
"""


def norm(value: Any) -> Any:
    """A value as the journal compares it: blank is None, a date-time is its UTC ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return stamp.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def encode(value: Any) -> str:
    return json.dumps(_to_json(value), ensure_ascii=False)


def decode(text: str | None) -> Any:
    return None if text is None else _from_json(json.loads(text))


def _to_json(value: Any) -> Any:
    value = norm(value)
    return {"$time": value} if isinstance(value, str) and _looks_like_time(value) else value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$time"}:
        return pd.Timestamp(value["$time"])
    return value


def _looks_like_time(text: str) -> bool:
    return len(text) >= 20 and text[4] == "-" and text[10] == "T" and text.endswith("+00:00")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    """One run's journal. Thread-safe: every step is one short transaction under a lock."""

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self._db_lock = threading.Lock()  # one user of the connection at a time
        self._turn = threading.Condition()  # guards the queue and the counters below
        self._queue: list[tuple[Any, ...]] = []  # steps (rows of events) waiting for a commit
        self._queued = 0  # steps ever queued; the n-th is committed once _committed >= n
        self._committed = 0
        self._committing = False
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   cached_statements=2 * _ROWS_PER_INSERT)  # an INSERT per batch size
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    @classmethod
    def create(cls, path: str | Path, changes: pd.DataFrame, meta: Mapping[str, Any], *,
               durable: bool = True) -> Journal:
        """A new journal holding ``changes`` (vendor, record_key, field, before, after), all pending."""
        if Path(path).exists():
            raise InputError("journal", f"{path} exists already; resume it, or give a new path")
        journal = cls(path, durable=durable)
        rows = changes[["vendor", "record_key", "field", "before", "after"]].to_dict("records")
        with journal._db_lock, journal._db:
            journal._db.execute("BEGIN")
            journal._db.executemany("INSERT INTO meta VALUES (?, ?)",
                                    [(k, json.dumps(v)) for k, v in {**meta, "created": _now()}.items()])
            journal._db.executemany(
                "INSERT INTO changes (vendor, record_key, field, before, after) VALUES (?, ?, ?, ?, ?)",
                [(r["vendor"], str(r["record_key"]), r["field"], encode(r["before"]), encode(r["after"]))
                 for r in rows])
            keys = list(dict.fromkeys(str(r["record_key"]) for r in rows))
            journal._db.executemany("INSERT INTO records (record_key, state, updated) VALUES (?, 'pending', ?)",
                                    [(k, _now()) for k in keys])
        return journal

    @classmethod
    def open(cls, path: str | Path) -> Journal:
        if not Path(path).is_file():
            raise InputError("journal", f"no journal at {path}")
        return cls(path)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Hold the journal for one run, so that no second process (or notebook) runs it at the
        same time and sends what this one is sending. A killed process lets go of it."""
        try:
            import fcntl
        except ImportError:  # not on POSIX: no lock
            yield
            return
        with open(self.path, "rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError("journal", f"{self.path} is being run by another process; "
                                            "let it finish or stop it first") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self.flush()
        with self._db_lock:
            self._db.close()

    # -- reading -------------------------------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._read("SELECT key, value FROM meta")}

    def changes(self) -> pd.DataFrame:
        """The plan as journaled: vendor, record_key, field, before, after (values decoded)."""
        rows = self._read("SELECT vendor, record_key, field, before, after FROM changes ORDER BY position")
        found = [(v, k, f, decode(b), decode(a)) for v, k, f, b, a in rows]
        return pd.DataFrame(found, columns=["vendor", "record_key", "field", "before", "after"], dtype=object)

    def records(self, states: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per record: key, state, before-image, intent, answer, detail, sends, updated."""
        query = "SELECT record_key, state, before_image, intent, answer, detail, sends, updated FROM records"
        wanted = list(states) if states is not None else None
        if wanted is not None:
            query += f" WHERE state IN ({','.join('?' * len(wanted))})"
        rows = self._read(query + " ORDER BY seq", wanted or [])
        frame = pd.DataFrame(rows, columns=["record_key", "state", "before_image", "intent", "answer", "detail",
                                            "sends", "updated"])
        for column in ("before_image", "intent", "answer"):
            frame[column] = [_decode_map(t) for t in frame[column]]
        return frame

    def events(self) -> pd.DataFrame:
        rows = self._read("SELECT record_key, at, event, detail FROM events ORDER BY id")
        return pd.DataFrame(rows, columns=["record_key", "at", "event", "detail"])

    def sends(self, key: str) -> int:
        """How many times the write of ``key`` was sent."""
        return int(self._read("SELECT sends FROM records WHERE record_key = ?", (key,))[0][0])

    def totals(self) -> dict[str, int]:
        """Planned rows (record × field) by their record's state; ``planned`` is the sum."""
        rows = self._read("SELECT r.state, COUNT(*) FROM changes c JOIN records r ON r.record_key = c.record_key "
                          "GROUP BY r.state")
        counts = dict.fromkeys(STATES, 0) | dict(rows)
        counts["planned"] = sum(counts[s] for s in STATES)
        return counts

    # -- writing -------------------------------------------------------------------------------
    def step(self, key: str, state: str, event: str, *, detail: str | None = None, before_image: Any = None,
             intent: Any = None, answer: Any = None, sent: bool = False, defer: bool = False) -> None:
        """Move ``key`` to ``state`` and log ``event``; committed when this returns, unless ``defer``.

        ``defer`` lets the step wait for the next commit (a step that does not defer, or
        :meth:`flush`). An answered write's outcome may wait: if the process dies first, the
        record is still ``sending`` and a resume reads it back, so deferring never loses it. An
        intent may wait only for a flush its caller makes before the request is sent.
        """
        images = [None if value is None else _encode_map(value) for value in (before_image, intent, answer)]
        self._write([(key, _now(), event, detail, state, *images, int(sent))], wait=not defer)

    def flush(self) -> None:
        """Commit the deferred steps."""
        self._write([], wait=True)

    def _write(self, steps: list[tuple[Any, ...]], *, wait: bool) -> None:
        """Queue ``steps`` (rows of ``events``); if ``wait``, return once they are committed.

        Group commit: the first waiting worker commits the whole queue, its steps and other
        workers', as one statement; workers that queue meanwhile wait for its turn to end, and
        the first of them commits the next queue. One statement, because each statement makes
        the committing thread wait for the interpreter's lock again when SQLite returns.
        """
        with self._turn:
            self._queue += steps
            self._queued += len(steps)
            mine = self._queued
            if not wait and len(self._queue) < DEFER_LIMIT:
                return
            while self._committed < mine:
                if self._committing:
                    self._turn.wait()
                    continue
                batch, upto = self._queue, self._queued
                self._queue, self._committing = [], True
                self._turn.release()
                try:
                    with self._db_lock:
                        self._insert(batch)
                except BaseException:
                    self._turn.acquire()
                    self._queue[:0] = batch  # none of it was committed: the next turn tries again
                    self._committing = False
                    self._turn.notify_all()
                    raise
                self._turn.acquire()
                self._committed, self._committing = upto, False
                self._turn.notify_all()

    def _insert(self, batch: list[tuple[Any, ...]]) -> None:
        """Commit ``batch``: one multi-row INSERT (its own transaction), or several in one."""
        statements = [batch[start:start + _ROWS_PER_INSERT] for start in range(0, len(batch), _ROWS_PER_INSERT)]
        if not statements:
            return
        if len(statements) == 1:
            self._db.execute(*_insert_statement(statements[0]))
            return
        with self._db:
            self._db.execute("BEGIN")
            for rows in statements:
                self._db.execute(*_insert_statement(rows))

    def _read(self, query: str, parameters: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``query``, after every queued step is committed."""
        self.flush()
        with self._db_lock:
            return self._db.execute(query, tuple(parameters)).fetchall()


_STEP_COLUMNS = "record_key, at, event, detail, state, before_image, intent, answer, sent"
_ROWS_PER_INSERT = 100  # 900 parameters: under SQLite's oldest limit of 999 a statement


def _insert_statement(rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    return (f"INSERT INTO events ({_STEP_COLUMNS}) VALUES {', '.join([marks] * len(rows))}",
            [value for row in rows for value in row])


def _encode_map(value: Mapping[str, Any]) -> str:
    return json.dumps({k: _to_json(v) for k, v in value.items()}, ensure_ascii=False)


def _decode_map(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    return {k: _from_json(v) for k, v in json.loads(text).items()}
