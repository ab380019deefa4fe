"""Bulk changes: plan, validate, preview, dry-run, apply with a journal, resume, roll back.

A :class:`Plan` is a frame of intended changes, one row per (record, field): ``vendor``,
``record_key``, ``field`` (a canonical column), ``before`` and ``after``. It is built from an
edited copy of a frame, from a function over rows, or from an audit's fixes; it can be checked
(:meth:`Plan.validate`), looked at (:meth:`Plan.preview`), and dry-run (:meth:`Plan.dry_run`)
before :meth:`Plan.apply` writes it through the vendor's bulk target.

Apply, per record, journaled (:mod:`.journal`) so that nothing is lost or written twice:

1. read the record (in bulk where the vendor can list; the read is the before-image);
2. compare with the plan's ``before``: changed since the plan -> a **conflict**, not written;
   already as planned -> **skipped**;
3. commit the intent, then send the write;
4. answered -> **applied**; refused by the vendor -> **failed** with its message; answer lost
   (reset, timeout, 5xx) -> read the record back: as planned -> applied, as before -> sent again,
   anything else -> conflict. A write is never sent again unless the read-back showed it was
   not applied. Only an authentication failure or the user stops the batch.

:func:`resume` continues a journal after a crash; :func:`rollback` restores the before-images
of the rows a run applied, as a journaled run of its own.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from .. import _registry
from .._registry import load
from ..errors import APIError, AuthError, InputError, RateLimitError, ServerError, TransportError
from .journal import DONE, IN_FLIGHT, Journal, norm

__all__ = ["Plan", "Result", "BulkTarget", "Snapshot", "resume", "rollback", "target_for", "targets"]

PLAN_COLUMNS = ("vendor", "record_key", "field", "before", "after")
LOST = (TransportError, ServerError, RateLimitError)
IDENTIFYING = frozenset({"vendor", "tenant", "record_key", "link", "updated"})


# -- the vendor side -------------------------------------------------------------------------------
class Snapshot:
    """A record as read: canonical ``values`` of the writable fields, and the vendor's ``raw`` record."""

    __slots__ = ("values", "raw")

    def __init__(self, values: Mapping[str, Any], raw: Any = None) -> None:
        self.values = {k: norm(v) for k, v in values.items()}
        self.raw = raw

    def __repr__(self) -> str:
        return f"<Snapshot {len(self.values)} fields>"


class BulkTarget:
    """How bulk changes reach one vendor API: read many, read one, write, verify.

    A vendor's module defines one subclass per API (``fsi/bulk.py``, ``folio/bulk.py``).
    ``fields`` maps the canonical columns it can write to the vendor's fields; ``canonical``
    is the vendor's workflow adapter, whose ``refusal`` holds the kit's input rules.
    """

    vendor: str
    client_type: str  # "module:Class" of the client it writes through
    fields: Mapping[str, str]
    canonical: Any
    can_list = False  # whether read_many can read many records in few requests
    #: Plan columns, besides the five, that instruct a record's write rather than change it
    #: (Polaris: ``answers``). Journaled with the run; ``write`` gets them as ``options``.
    row_options: tuple[str, ...] = ()

    def option_refusal(self, column: str, value: Any) -> str | None:
        """Why a row's ``column`` (one of ``row_options``) holding ``value`` would be refused, or None."""
        return None

    def accepts(self, client: Any) -> bool:
        return isinstance(client, load(self.client_type))

    def refusal(self, field: str, value: Any) -> str | None:
        """Why the kit would refuse to write ``value`` to ``field`` (input rules), or None."""
        if field not in self.fields:
            return f"{self.vendor} bulk updates cannot write this column (they can: {', '.join(self.fields)})"
        return self.canonical.refusal(field, None if norm(value) is None else value)

    def key_refusal(self, key: Any) -> str | None:
        return self.canonical.key_refusal(key)

    def read_many(self, client: Any, keys: list[str]) -> dict[str, Snapshot] | None:
        """The records of ``keys`` in few requests, or None if the vendor cannot list them."""
        return None

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        """One record, or None if there is none with this key."""
        raise NotImplementedError

    def read_back(self, client: Any, key: str, changes: Mapping[str, Any]) -> Snapshot | None:
        """The record after a write whose answer was lost (found where it is after the write)."""
        return self.read_one(client, key)

    def key_after(self, key: str, changes: Mapping[str, Any]) -> str:
        """The record's key once ``changes`` are applied (an email-keyed API moves with the email)."""
        return key

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        """The exact request ``write`` would send (method, url, body), credentials masked."""
        raise NotImplementedError

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False) -> dict[str, Any]:
        """Send the write; return the vendor's answer, redacted.

        The kit's input rules are applied unless ``restore``: a rollback writes back what was
        there before, which may be a value the rules refuse (an old malformed email). A target
        with ``row_options`` also takes ``options``: the record's values of those columns.
        """
        raise NotImplementedError

    def check(self, changes: Mapping[str, Any], *, restore: bool) -> None:
        """Raise ``InputError`` for a change the target must not send (a restore: only unknown columns)."""
        for field, value in changes.items():
            rule = self.refusal(field, value) if not restore or field not in self.fields else None
            if rule:
                raise InputError(field, rule)

    def verify(self, client: Any, key: str, after: Mapping[str, Any],
               before: Mapping[str, Any]) -> tuple[str, Snapshot | None]:
        """After a lost answer: ``"applied"``, ``"not-applied"`` (the record holds ``before``),
        ``"other"`` (someone else changed it) or ``"missing"``, with the record read back."""
        found = self.read_back(client, key, after)
        if found is None:
            return "missing", None
        if _holds(found, after):
            return "applied", found
        return ("not-applied" if _holds(found, before) else "other"), found


def targets() -> dict[str, str]:
    """Every registered client kind that has a bulk target, with the target (``"module:attribute"``)."""
    return {name: client.bulk_target for name, (_, client) in _registry.clients().items() if client.bulk_target}


def target_for(client: Any) -> BulkTarget:
    """The bulk target that writes through ``client``."""
    for path in targets().values():
        target = load(path)
        if target.accepts(client):
            return target
    raise InputError("client", f"no bulk target writes through {type(client).__name__}")


def _holds(snapshot: Snapshot, values: Mapping[str, Any]) -> bool:
    return all(snapshot.values.get(field) == norm(value) for field, value in values.items())


# -- the plan --------------------------------------------------------------------------------------
class Plan:
    """Intended changes, one row per (record, field): vendor, record_key, field, before, after."""

    def __init__(self, changes: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        frame = pd.DataFrame(changes if isinstance(changes, pd.DataFrame) else list(changes))
        missing = [c for c in PLAN_COLUMNS if c not in frame.columns]
        if missing and not frame.empty:
            raise InputError(missing[0], "is a column every plan needs (vendor, record_key, field, before, after)")
        frame = frame.reindex(columns=[*PLAN_COLUMNS, *(c for c in frame.columns if c not in PLAN_COLUMNS)])
        self.frame = frame.astype(object).where(frame.notna(), None).reset_index(drop=True)

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def from_edits(cls, original: pd.DataFrame, edited: pd.DataFrame, *, vendor: str | None = None,
                   key: str = "record_key") -> Plan:
        """The cells that differ between ``original`` and an ``edited`` copy (same rows, same index)."""
        if not original.index.equals(edited.index):
            raise InputError("edited", "must have the same rows (index) as the original")
        columns = [c for c in edited.columns if c not in IDENTIFYING and c != key and c in original.columns]
        found = []  # (row position, column position, index, column): a record's changes stay together
        for place, column in enumerate(columns):
            differs = [norm(b) != norm(a) for b, a in zip(original[column], edited[column], strict=True)]
            found += [(row, place, edited.index[row], column) for row, d in enumerate(differs) if d]
        rows = [_change(original.loc[index], vendor, key, column, original.at[index, column],
                        edited.at[index, column]) for _, _, index, column in sorted(found)]
        return cls(pd.DataFrame(rows, columns=list(PLAN_COLUMNS)))

    @classmethod
    def from_function(cls, frame: pd.DataFrame, function: Callable[[dict[str, Any]], Mapping[str, Any] | None], *,
                      vendor: str | None = None, key: str = "record_key") -> Plan:
        """``function(row)`` returns the fields to change (``{field: new value}``) or None."""
        rows = []
        for index, row in frame.iterrows():
            wanted = function(row.to_dict()) or {}
            for field, after in wanted.items():
                before = row.get(field)
                if norm(before) != norm(after):
                    rows.append(_change(frame.loc[index], vendor, key, field, before, after))
        return cls(pd.DataFrame(rows, columns=list(PLAN_COLUMNS)))

    @classmethod
    def from_findings(cls, findings: Any) -> Plan:
        """An audit's fixable findings (an ``Audit`` or its ``fixes()`` frame) as a plan."""
        fixes = findings.fixes() if hasattr(findings, "fixes") else findings
        fixes = fixes[[norm(b) != norm(a) for b, a in zip(fixes["before"], fixes["after"], strict=True)]]
        return cls(fixes)

    # -- looking -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def records(self) -> int:
        return self.frame[["vendor", "record_key"]].drop_duplicates().shape[0]

    def for_vendor(self, vendor: str) -> Plan:
        return Plan(self.frame[self.frame["vendor"].eq(vendor)])

    def counts(self) -> dict[str, Any]:
        return {"changes": len(self), "records": self.records,
                "by_field": self.frame["field"].value_counts().to_dict(),
                "by_vendor": self.frame["vendor"].value_counts().to_dict()}

    def validate(self, *, restore: bool = False) -> pd.DataFrame:
        """Every row the kit would refuse, all at once: position, vendor, record_key, field, rule.

        Nothing is sent. A field the vendor's bulk target cannot write is refused here; so is a
        (record, field) planned twice. ``restore`` (rollbacks) skips the input rules on values.
        """
        duplicated = self.frame.duplicated(["vendor", "record_key", "field"], keep="first").tolist()
        known = targets()
        refused = [{"position": position, "vendor": row["vendor"], "record_key": row["record_key"],
                    "field": field, "rule": rule}
                   for position, row in enumerate(self.frame.to_dict("records"))
                   for field, rule in _row_refusals(row, known, duplicated[position], restore)]
        return pd.DataFrame(refused, columns=["position", "vendor", "record_key", "field", "rule"])

    def by_record(self) -> dict[tuple[str, str], dict[str, tuple[Any, Any]]]:
        """``{(vendor, key): {field: (before, after)}}`` in plan order."""
        grouped: dict[tuple[str, str], dict[str, tuple[Any, Any]]] = {}
        for row in self.frame.itertuples(index=False):
            grouped.setdefault((row.vendor, str(row.record_key)), {})[row.field] = (row.before, row.after)
        return grouped

    def preview(self, *, limit: int = 50) -> PlanPreview:
        """Before -> after per record (HTML with changed cells highlighted; text for CI), and counts."""
        return PlanPreview(self, limit)

    def _repr_html_(self) -> str:
        return self.preview()._repr_html_()

    def __repr__(self) -> str:
        return f"<Plan {len(self)} changes to {self.records} records>"

    def dry_run(self, client: Any) -> pd.DataFrame:
        """Each record's exact request (method, url, body), credentials masked. Reads, never writes.

        Vendors that replace the whole record need it read first (the body is the merged record).
        """
        target = _single_target(self, client)
        grouped = self.by_record()
        keys = [key for _, key in grouped]
        snapshots = target.read_many(client, keys) if target.can_list else None
        rows = []
        for (_, key), fields in grouped.items():
            current = snapshots.get(key) if snapshots is not None else target.read_one(client, key)
            request = target.payload(client, key, {f: a for f, (_, a) in fields.items()}, current)
            rows.append({"record_key": key, **request})
        return pd.DataFrame(rows, columns=["record_key", "method", "url", "body"])

    def apply(self, client: Any, *, workers: int = 4, journal: str | Path | None = None, progress: bool = True,
              chunk: int | None = None, durable: bool = True) -> Result:
        """Write the plan through ``client``'s bulk target, journaled; see the module docstring.

        ``journal`` is the SQLite file to create (a new one in ``patron-kit-journals/`` if None);
        its path is printed and kept on the result. ``chunk`` records (32 per worker by default)
        are read in bulk at a time, while the part before them is written.
        """
        return _start(self, client, kind="apply", workers=workers, journal=journal, progress=progress,
                      chunk=chunk, durable=durable, source=None)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()


def _row_refusals(row: Mapping[str, Any], known: Mapping[str, str], duplicated: bool,
                  restore: bool) -> list[tuple[str, str]]:
    """(field, rule) for each reason to refuse one plan row; ``known``: the bulk targets by vendor."""
    if row["vendor"] not in known:
        return [("vendor", f"must be one of {', '.join(known)}")]
    target = load(known[row["vendor"]])
    found = []
    rule = target.key_refusal(row["record_key"])
    if rule:
        found.append(("record_key", rule))
    if row["field"] not in target.fields or not restore:
        rule = target.refusal(row["field"], row["after"])
        if rule:
            found.append((row["field"], rule))
    if duplicated:
        found.append((row["field"], "planned twice for this record"))
    for column in target.row_options:
        rule = target.option_refusal(column, row.get(column)) if norm(row.get(column)) is not None else None
        if rule:
            found.append((column, rule))
    return found


def _options_of(plan: Plan, target: BulkTarget) -> dict[str, dict[str, Any]]:
    """Each record's ``row_options`` values (the last row that gives one wins), for the journal."""
    found: dict[str, dict[str, Any]] = {}
    for column in target.row_options:
        if column in plan.frame.columns:
            for key, value in zip(plan.frame["record_key"], plan.frame[column], strict=True):
                if norm(value) is not None:
                    found.setdefault(str(key), {})[column] = value
    return found


def _change(row: pd.Series, vendor: str | None, key: str, field: str, before: Any, after: Any) -> dict[str, Any]:
    name = vendor or row.get("vendor")
    if name is None:
        raise InputError("vendor", "give vendor= or a vendor column")
    return {"vendor": name, "record_key": str(row[key]), "field": field, "before": before, "after": after}


def _single_target(plan: Plan, client: Any) -> BulkTarget:
    target = target_for(client)
    others = set(plan.frame["vendor"]) - {target.vendor}
    if others:
        raise InputError("plan", f"has rows for {', '.join(sorted(others))}, not only for {target.vendor}; "
                                 "split it with plan.for_vendor()")
    return target


class PlanPreview:
    """What a plan would change, record by record (``_repr_html_`` in notebooks, text otherwise)."""

    def __init__(self, plan: Plan, limit: int) -> None:
        self.plan, self.limit = plan, limit

    def __repr__(self) -> str:
        counts = self.plan.counts()
        lines = [f"{counts['changes']} changes to {counts['records']} records; by field: "
                 + ", ".join(f"{f} {n}" for f, n in counts["by_field"].items())]
        for row in self.plan.frame.head(self.limit).itertuples(index=False):
            lines.append(f"  {row.vendor} {row.record_key} {row.field}: {row.before!r} -> {row.after!r}")
        if len(self.plan) > self.limit:
            lines.append(f"  ... and {len(self.plan) - self.limit} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        grouped = self.plan.by_record()
        fields = list(dict.fromkeys(self.plan.frame["field"]))
        head = "".join(f"<th>{html.escape(str(f))}</th>" for f in ["vendor", "record", *fields])
        body = []
        for (vendor, key), changes in list(grouped.items())[:self.limit]:
            cells = [f"<td>{html.escape(vendor)}</td><td>{html.escape(key)}</td>"]
            for field in fields:
                if field in changes:
                    before, after = changes[field]
                    cells.append(f"<td style='background:#fff3c4'><s>{html.escape(_shown(before))}</s> &rarr; "
                                 f"<b>{html.escape(_shown(after))}</b></td>")
                else:
                    cells.append("<td></td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        counts = self.plan.counts()
        more = len(grouped) - self.limit
        note = f"<p>... and {more} more records</p>" if more > 0 else ""
        return (f"<div><strong>Plan: {counts['changes']} changes to {counts['records']} records</strong>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}</div>")


def _shown(value: Any) -> str:
    value = norm(value)
    return "(blank)" if value is None else repr(value) if isinstance(value, str) and value != value.strip() \
        else str(value)


# -- the result ------------------------------------------------------------------------------------
class Result:
    """A run's outcome, read from its journal: totals, one row per record, how to go on."""

    def __init__(self, journal: Journal, client: Any, stopped_by: BaseException | None = None) -> None:
        self.journal_path = journal.path
        self._journal = journal
        self._client = client
        self.stopped_by = stopped_by
        self.totals = journal.totals()
        self.kind = journal.meta.get("kind", "apply")

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def records(self) -> pd.DataFrame:
        return self._journal.records()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.totals.items() if v)
        stop = f"; stopped: {self.stopped_by}" if self.stopped_by else ""
        return f"<bulk {self.kind}: {shown}{stop}; journal {self.journal_path.name}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in self.totals.items() if v or k == "planned")
        stop = f"<p>Stopped: {html.escape(str(self.stopped_by))}</p>" if self.stopped_by else ""
        return (f"<div><strong>bulk {self.kind}</strong> (rows of the plan by outcome)<table>{rows}</table>{stop}"
                f"<p>journal: {html.escape(self.journal_path.name)}</p></div>")

    def to_plan(self, states: Iterable[str] = ("failed", "conflict")) -> Plan:
        """The rows whose record ended in ``states``, as a new plan to fix and run again.

        A conflict's ``before`` becomes the value found, so the new plan expects what is there now.
        """
        records = self._journal.records(states)
        changes = self._journal.changes()
        changes = changes[changes["record_key"].isin(records["record_key"])].copy()
        found = dict(zip(records["record_key"], records["before_image"], strict=True))
        changes["before"] = [(found.get(k) or {}).get(f, b) for k, f, b in
                             zip(changes["record_key"], changes["field"], changes["before"], strict=True)]
        options = self._journal.meta.get("options") or {}  # the rows' own options go with them
        for column in dict.fromkeys(c for given in options.values() for c in given):
            changes[column] = [options.get(k, {}).get(column) for k in changes["record_key"]]
        return Plan(changes)

    def rollback(self, client: Any | None = None, **options: Any) -> Result:
        """Restore the before-images of the records this run applied (see :func:`rollback`)."""
        return rollback(self.journal_path, client or self._client, **options)


# -- running ---------------------------------------------------------------------------------------
def _start(plan: Plan, client: Any, *, kind: str, workers: int, journal: str | Path | None, progress: bool,
           chunk: int | None, durable: bool, source: Path | None) -> Result:
    target = _single_target(plan, client)
    _check_count("workers", workers)
    restore = kind == "rollback"
    refused = plan.validate(restore=restore)
    if not refused.empty:
        raise InputError("plan", f"{len(refused)} rows would be refused; see plan.validate() (nothing was sent)")
    path = Path(journal) if journal is not None else _default_journal(target.vendor, kind)
    meta = {"kind": kind, "vendor": target.vendor, "source": str(source) if source else None}
    if target.row_options:
        meta["options"] = _options_of(plan, target)
    opened = Journal.create(path, plan.frame, meta, durable=durable)
    print(f"journal: {path}")
    return _Runner(opened, client, target, restore=restore, workers=workers, progress=progress, chunk=chunk).run()


def resume(journal: str | Path, client: Any, *, workers: int = 4, progress: bool = True,
           chunk: int | None = None) -> Result:
    """Continue a run from its journal: done records skipped, in-flight ones read back, the rest sent."""
    opened = Journal.open(journal)
    meta = opened.meta
    target = target_for(client)
    if meta.get("vendor") != target.vendor:
        raise InputError("client", f"the journal is for {meta.get('vendor')}, the client for {target.vendor}")
    _check_count("workers", workers)
    return _Runner(opened, client, target, restore=meta.get("kind") == "rollback", workers=workers,
                   progress=progress, chunk=chunk).run()


def rollback(journal: str | Path, client: Any, *, keys: Iterable[str] | None = None, workers: int = 4,
             progress: bool = True, into: str | Path | None = None, chunk: int | None = None) -> Result:
    """Restore the before-images of the records a run applied (all, or only ``keys``).

    The rollback is a journaled run of its own (``into``, by default next to the journal): each
    record is read first, and one changed since the kit wrote it is a conflict, not restored.
    Values the input rules refuse are written back, because they are what was there.
    """
    source = Journal.open(journal)
    target = target_for(client)
    applied = source.records(["applied"])
    if keys is not None:
        wanted = {str(k) for k in keys}
        applied = applied[applied["record_key"].isin(wanted)]
    changes = source.changes()
    options = source.meta.get("options") or {}  # a restore is answered as the write was (Polaris)
    rows = []
    for key, image in zip(applied["record_key"], applied["before_image"], strict=True):
        written = {r.field: r.after for r in changes[changes["record_key"].eq(key)].itertuples()}
        now_at = target.key_after(key, written)
        for field, after in written.items():
            rows.append({"vendor": target.vendor, "record_key": now_at, "field": field, "before": after,
                         "after": (image or {}).get(field), **options.get(key, {})})
    path = Path(into) if into is not None else _next_to(Path(journal), "rollback")
    plan = Plan(pd.DataFrame(rows).reindex(columns=[*PLAN_COLUMNS, *target.row_options]))
    return _start(plan, client, kind="rollback", workers=workers, journal=path, progress=progress, chunk=chunk,
                  durable=True, source=Path(journal))


class _Runner:
    """One pass over a journal's unfinished records."""

    max_sends = 6  # sends of one write, each after a read-back showed the one before not applied
    resend_backoff = 0.1  # seconds before the second send, doubling up to 5 s
    read_attempts = 4

    def __init__(self, journal: Journal, client: Any, target: BulkTarget, *, restore: bool, workers: int,
                 progress: bool, chunk: int | None) -> None:
        if chunk is not None:
            _check_count("chunk", chunk)
        self.journal, self.client, self.target = journal, client, target
        self.restore, self.workers, self.progress = restore, workers, progress
        self.chunk = chunk or max(128, 32 * workers)
        self.changes = {}
        for row in journal.changes().itertuples(index=False):
            self.changes.setdefault(row.record_key, {})[row.field] = (row.before, row.after)
        self.options = journal.meta.get("options") or {}
        self.stop = threading.Event()
        self.stopped_by: BaseException | None = None

    def run(self) -> Result:
        with self.journal.running():
            self._run()
        return Result(self.journal, self.client, self.stopped_by)

    def _run(self) -> None:
        records = self.journal.records()
        todo = records[~records["state"].isin(DONE)]
        images = dict(zip(records["record_key"], records["before_image"], strict=True))
        bar = tqdm(total=len(records), initial=len(records) - len(todo), desc=f"bulk {self.target.vendor}",
                   unit=" records", disable=not self.progress)
        rows = list(zip(todo["record_key"], todo["state"], strict=True))
        parts = [rows[start:start + self.chunk] for start in range(0, len(rows), self.chunk)]
        pool = ThreadPoolExecutor(max_workers=self.workers)
        # The next part's records are read while this one is handed out: reads overlap writes,
        # and a record is still read at most about one part's time before it is written.
        reader = ThreadPoolExecutor(max_workers=1)
        handed = _Handed(2 * self.workers, bar)
        try:
            upcoming = reader.submit(self._read_many, _pending(parts[0])) if parts else None
            for number, part in enumerate(parts):
                if self.stop.is_set():
                    break
                snapshots = upcoming.result() if upcoming else None
                upcoming = reader.submit(self._read_many, _pending(parts[number + 1])) \
                    if number + 1 < len(parts) else None
                for start in range(0, len(part), self.workers):
                    if self.stop.is_set():
                        break
                    self._hand_out(pool, part[start:start + self.workers], images, snapshots, handed)
            handed.wait()
        except KeyboardInterrupt as interrupt:
            self.stop.set()
            self.stopped_by = interrupt
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            reader.shutdown(wait=True, cancel_futures=True)
            bar.close()
            self.journal.flush()

    def _hand_out(self, pool: ThreadPoolExecutor, batch: list[tuple[str, str]], images: Mapping[str, Any],
                  snapshots: dict[str, Snapshot] | None, handed: _Handed) -> None:
        """Give a batch of records (one per worker) to the workers, once there is room.

        Records read in bulk are decided here, and the intents of those to write are committed
        with the decisions in one commit before any is sent, so the workers only send. At most
        two batches are handed out and unfinished: a crash leaves at most that many records
        ``sending`` for a resume to read back.
        """
        handed.make_room(len(batch))
        work: list[tuple[str, str, Any, Any] | None] = []
        for key, state in batch:
            if state == "pending" and snapshots is not None:
                intended = self._decide(key, snapshots.get(key), defer=True)
                work.append((key, "sending", None, intended) if intended else None)
            else:
                work.append((key, state, images.get(key), None))
        self.journal.flush()
        for job in work:
            handed.track(pool.submit(self._settle, *job) if job else None)

    def _read_many(self, keys: list[str]) -> dict[str, Snapshot] | None:
        if not keys or not self.target.can_list:
            return None
        try:
            return self.target.read_many(self.client, keys)
        except LOST:
            return None  # each record is read on its own instead
        except AuthError as exc:
            self._halt(exc)
            return None

    def _halt(self, exc: BaseException) -> None:
        self.stopped_by = self.stopped_by or exc
        self.stop.set()

    def _settle(self, key: str, state: str, image: dict[str, Any] | None,
                intended: tuple[dict[str, Any], dict[str, Any], Snapshot] | None) -> None:
        """One record in a worker: send what was ``intended`` (intent committed); read back a
        record in flight; or read the record, decide and send."""
        if self.stop.is_set():
            return  # an intended record stays ``sending``: a resume reads it back
        try:
            if intended:
                self._transmit(key, *intended)
            elif state in IN_FLIGHT:
                self._verify(key, image or {}, self._after(key))
            else:
                intended = self._decide(key, self.target.read_one(self.client, key), defer=False)
                if intended:
                    self._transmit(key, *intended)
        except AuthError as exc:
            self._halt(exc)
        except LOST as exc:  # a read failed after its retries: the record stays as it was
            if state == "pending":
                self.journal.step(key, "pending", "read-failed", detail=str(exc))
        except APIError as exc:
            self.journal.step(key, "failed", "refused", detail=exc.message if hasattr(exc, "message") else str(exc))

    def _after(self, key: str) -> dict[str, Any]:
        return {f: a for f, (_, a) in self.changes[key].items()}

    def _decide(self, key: str, current: Snapshot | None, *,
                defer: bool) -> tuple[dict[str, Any], dict[str, Any], Snapshot] | None:
        """Journal what the record as read says: not found, already as planned, a conflict, or
        the intent to write it, returned as ``(image, after, current)``; ``defer`` leaves the
        commit to the caller's next flush."""
        planned, after = self.changes[key], self._after(key)
        if current is None:
            self.journal.step(key, "failed", "not-found", detail="no record with this key", defer=defer)
            return None
        image = {f: current.values.get(f) for f in planned}
        if _holds(current, after):
            self.journal.step(key, "skipped", "already", detail="already as planned", before_image=image, defer=defer)
            return None
        moved = {f: {"planned": norm(b), "found": image[f]} for f, (b, _) in planned.items() if image[f] != norm(b)}
        if moved:
            self.journal.step(key, "conflict", "conflict", detail=_describe(moved), before_image=image, defer=defer)
            return None
        self.journal.step(key, "sending", "intent", before_image=image, intent=after, sent=True, defer=defer)
        return image, after, current

    def _send(self, key: str, image: dict[str, Any], after: dict[str, Any], current: Snapshot) -> None:
        self.journal.step(key, "sending", "intent", before_image=image, intent=after, sent=True)
        self._transmit(key, image, after, current)

    def _transmit(self, key: str, image: dict[str, Any], after: dict[str, Any], current: Snapshot) -> None:
        """Send a write whose intent is committed, and journal its outcome."""
        try:
            extra = {"options": self.options.get(key, {})} if self.target.row_options else {}
            answer = self.target.write(self.client, key, after, current, restore=self.restore, **extra)
        except AuthError as exc:
            self.journal.step(key, "unknown", "lost", detail=str(exc))
            self._halt(exc)
            return
        except LOST as exc:
            self.journal.step(key, "unknown", "lost", detail=str(exc))
            self._verify(key, image, after)
            return
        except APIError as exc:
            self.journal.step(key, "failed", "refused", detail=exc.message,
                              answer={"error": type(exc).__name__, "message": exc.message,
                                      **(getattr(exc, "details", None) or {})})
            return
        except InputError as exc:
            self.journal.step(key, "failed", "refused", detail=str(exc))
            return
        self.journal.step(key, "applied", "answered", answer=answer, defer=True)

    def _verify(self, key: str, image: dict[str, Any], after: dict[str, Any]) -> None:
        """Read back a record whose write's answer was lost, and decide from what it holds."""
        for attempt in range(self.read_attempts):
            try:
                verdict, found = self.target.verify(self.client, key, after, image)
                break
            except LOST as exc:
                if attempt + 1 == self.read_attempts:
                    self.journal.step(key, "unknown", "unverified", detail=f"read-back failed: {exc}")
                    return
                time.sleep(0.05 * 2 ** attempt)
            except AuthError:
                raise
            except APIError as exc:  # the outcome stays unknown; a resume reads it back again
                self.journal.step(key, "unknown", "unverified", detail=f"read-back refused: {exc.message}")
                return
        if verdict == "applied":
            self.journal.step(key, "applied", "verified-applied", detail="answer lost; read-back shows it applied")
        elif verdict == "not-applied":
            sends = self.journal.sends(key)
            if sends >= self.max_sends:
                self.journal.step(key, "failed", "gave-up", detail=f"not applied after {sends} sends")
                return
            self.journal.step(key, "pending", "verified-not-applied", detail="read-back shows it not applied")
            time.sleep(min(self.resend_backoff * 2 ** (sends - 1), 5.0))
            self._send(key, image, after, found)
        else:
            detail = "record not found on read-back" if found is None else \
                "changed by someone else while in flight: " + _describe(
                    {f: {"planned": norm(a), "found": found.values.get(f)} for f, a in after.items()})
            self.journal.step(key, "conflict", "verified-other", detail=detail)


class _Handed:
    """Records handed to the workers: at most ``room`` unfinished at once; the progress bar."""

    def __init__(self, room: int, bar: Any) -> None:
        self._room = threading.Semaphore(room)
        self._bar, self._bar_lock = bar, threading.Lock()
        self._jobs: list[Future] = []

    def make_room(self, count: int) -> None:
        for _ in range(count):
            self._room.acquire()

    def track(self, job: Future | None) -> None:
        """Follow a worker's job (None: a record decided without one)."""
        if job is None:
            self._done(None)
        else:
            self._jobs.append(job)
            job.add_done_callback(self._done)

    def _done(self, _job: Future | None) -> None:
        self._room.release()
        with self._bar_lock:
            self._bar.update()

    def wait(self) -> None:
        """Until every job is finished; a job's unexpected error is raised here."""
        for job in self._jobs:
            job.result()


def _pending(part: list[tuple[str, str]]) -> list[str]:
    return [key for key, state in part if state == "pending"]


def _describe(moved: Mapping[str, Mapping[str, Any]]) -> str:
    return "; ".join(f"{f}: planned {v['planned']!r}, found {v['found']!r}" for f, v in moved.items())


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(name, "must be an integer of at least 1")


def _default_journal(vendor: str, kind: str) -> Path:
    folder = Path("patron-kit-journals")
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return folder / f"{vendor}-{kind}-{stamp}.journal.sqlite"


def _next_to(path: Path, kind: str) -> Path:
    """``fix.journal.sqlite`` -> ``fix.rollback.journal.sqlite`` (then ``fix.rollback2...``)."""
    base = path.name.removesuffix(".sqlite").removesuffix(".journal")
    candidate, n = path.with_name(f"{base}.{kind}.journal.sqlite"), 2
    while candidate.exists():
        candidate, n = path.with_name(f"{base}.{kind}{n}.journal.sqlite"), n + 1
    return candidate
