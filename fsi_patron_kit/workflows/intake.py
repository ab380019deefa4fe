"""A whole intake: many people from a frame or CSV registered one by one, journaled, resumable.

Each row goes through :mod:`.registration` (the vendor's rules, its duplicate check, its flow).
:func:`check_intake` lists every refusal of every row before anything is sent; :func:`intake`
then registers row by row, with a journal (:mod:`.journal`) that survives a crash:

1. rows the rules refuse are marked **refused** and never sent;
2. the duplicate check runs first (the registration's dry run): a person found **already
   existed** and is not registered again;
3. the intent is committed, then the person registered: **created**, with the vendor's ids;
4. an answer lost (reset, timeout, 5xx) leaves the row **unknown**; so does a process killed
   after the intent. :func:`intake` with the same journal resumes: an unknown row's duplicate
   check is its read-back (found -> it was created; not found -> it is sent again), so no
   person is created twice.

The journal keeps row numbers, states, outcomes and vendor ids, not the people: a resume is
given the same frame or CSV again. Supported: FSI, OCLC Wise, and FOLIO through the edge (whose
users the registration status finds, which the read-back needs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import APIError, InputError, RateLimitError, ServerError, TransportError
from . import registration
from .journal import DONE, Journal

__all__ = ["intake", "check_intake", "Intake", "OUTCOMES"]

CREATED, EXISTED, REFUSED, UNKNOWN = "created", "already existed", "refused", "unknown"
OUTCOMES = (CREATED, EXISTED, REFUSED, UNKNOWN)
#: The journal's states the outcomes are kept in.
STATE_OF = {CREATED: "applied", EXISTED: "skipped", REFUSED: "failed", UNKNOWN: "unknown"}
LOST = (TransportError, ServerError, RateLimitError)
REPORT_COLUMNS = ("row", "outcome", "ids", "detail")


def _people(people: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(people, str | Path):
        return pd.read_csv(people, dtype=str, keep_default_na=False)
    if not isinstance(people, pd.DataFrame):
        raise InputError("people", "must be a DataFrame or the path of a CSV file")
    return people.reset_index(drop=True)


def _cells(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's filled cells (blank and missing cells left out)."""
    return {str(k): v for k, v in row.items()
            if not (v is None or (isinstance(v, str) and not v.strip()) or (not isinstance(v, str) and pd.isna(v)))}


class _Vendor:
    """How one vendor's rows become registrations."""

    def __init__(self, client: Any, options: Mapping[str, Any]) -> None:
        self.client, self.options = client, dict(options)
        self.vendor = getattr(client, "vendor", None)
        if self.vendor not in ("fsi", "wise", "folio"):
            raise InputError("client", "must be an FSI, OCLC Wise or FOLIO client")
        if self.vendor == "wise" and "library_id" not in self.options:
            raise InputError("library_id", "is needed for a Wise intake (the library people subscribe in)")
        if self.vendor == "folio" and self.options.get("edge") is None:
            raise InputError("edge", "is needed for a FOLIO intake: the read-back after a lost answer finds the "
                                     "edge's users by email")

    def person(self, row: Mapping[str, Any]) -> Any:
        cells = _cells(row)
        if self.vendor == "wise":
            from ..wise import Applicant
            from ..wise._validate import DOCUMENT_REQUIRED

            cells.pop("subscription_id", None)
            try:
                return Applicant(**{**dict.fromkeys(DOCUMENT_REQUIRED, ""), **cells})
            except TypeError as unknown:
                raise InputError("columns", f"are not all Wise applicant fields ({unknown})") from None
        if self.vendor == "folio":
            body: dict[str, Any] = {}
            for name, value in cells.items():
                section, _, inner = name.partition(".")
                if name == "preferredEmailCommunication":
                    body[name] = [v.strip() for v in str(value).split(";") if v.strip()]
                elif inner:
                    body.setdefault(section, {})[inner] = value
                else:
                    body[name] = value
            return body
        return cells

    def problems(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        try:
            person = self.person(row)
            if self.vendor == "fsi":
                return registration.fsi_problems(person, keyfield=self.options.get("keyfield", "username"))
            if self.vendor == "folio":
                return registration.folio_problems(person, edge=True)
            from ..wise._validate import applicant

            applicant(person, today=self.client.server_today())
        except InputError as refused:
            return list(getattr(refused, "problems", None) or [(refused.field, refused.rule)])
        return []

    def register(self, row: Mapping[str, Any], *, dry_run: bool = False) -> registration.Registration:
        person = self.person(row)
        if self.vendor == "fsi":
            return registration.fsi(self.client, person, keyfield=self.options.get("keyfield", "username"),
                                    dry_run=dry_run)
        if self.vendor == "folio":
            return registration.folio(self.client, person, edge=self.options["edge"], dry_run=dry_run)
        subscription = _cells(row).get("subscription_id", self.options.get("subscription_id"))
        return registration.wise(self.client, person, library_id=self.options["library_id"],
                                 subscription_id=None if subscription is None else int(subscription),
                                 pay=self.options.get("pay", True), dry_run=dry_run)


def check_intake(people: pd.DataFrame | str | Path, client: Any, **options: Any) -> pd.DataFrame:
    """Every refusal of every row (row, field, rule), by the vendor's rules; nothing is sent."""
    frame, vendor = _people(people), _Vendor(client, options)
    rows = [{"row": n + 1, "field": field, "rule": rule}
            for n, row in enumerate(frame.to_dict("records")) for field, rule in vendor.problems(row)]
    return pd.DataFrame(rows, columns=["row", "field", "rule"]).astype({"row": "Int64", "field": "string",
                                                                        "rule": "string"})


def intake(people: pd.DataFrame | str | Path, client: Any, *, journal: str | Path,
           on_row: Callable[[int, str], None] | None = None, **options: Any) -> Intake:
    """Register every row (see the module's steps); an existing ``journal`` is resumed.

    ``options``: FSI ``keyfield``; Wise ``library_id`` (needed), ``subscription_id`` (or a
    column of that name), ``pay``; FOLIO ``edge`` (needed). ``on_row(row, outcome)`` is called
    after each row (for a progress display).
    """
    frame, vendor = _people(people), _Vendor(client, options)
    path = Path(journal)
    keys = [f"row-{n + 1}" for n in range(len(frame))]
    if path.exists():
        book = Journal.open(path)
        if book.meta.get("kind") != "intake" or book.meta.get("rows") != len(frame):
            raise InputError("journal", f"{path} is not the journal of an intake of these {len(frame)} rows")
    else:
        plan = pd.DataFrame({"vendor": vendor.vendor, "record_key": keys, "field": "person", "before": None,
                             "after": None})
        book = Journal.create(path, plan, {"kind": "intake", "vendor": vendor.vendor, "rows": len(frame)})
    try:
        with book.running():
            states = dict(zip(*[book.records()[c] for c in ("record_key", "state")], strict=True))
            for key, row in zip(keys, frame.to_dict("records"), strict=True):
                if states[key] in DONE:
                    continue
                outcome = _one(book, key, row, vendor, in_flight=states[key] != "pending")
                if on_row is not None:
                    on_row(int(key.removeprefix("row-")), outcome)
        return Intake(book)
    finally:
        book.close()


def _one(book: Journal, key: str, row: Mapping[str, Any], vendor: _Vendor, *, in_flight: bool) -> str:
    def done(outcome: str, detail: str, ids: Mapping[str, str] | None = None, event: str = "outcome") -> str:
        book.step(key, STATE_OF[outcome], event, detail=detail, answer={"outcome": outcome, "ids": dict(ids or {})})
        return outcome

    problems = vendor.problems(row)
    if problems:
        return done(REFUSED, "; ".join(f"{f}: {r}" for f, r in problems))
    intent = False
    try:
        first = vendor.register(row, dry_run=True)
        if first.outcome == registration.DUPLICATE and in_flight:
            # The intent was committed and the answer never recorded: the duplicate check is the read-back.
            return done(CREATED, "created before the interruption (found by the duplicate check)",
                        {"found": ", ".join(first.duplicates["id"])}, event="verified")
        if first.outcome == registration.DUPLICATE:
            return done(EXISTED, "found by the duplicate check; not registered",
                        {"found": ", ".join(first.duplicates["id"])})
        book.step(key, "sending", "intent", sent=True)
        intent = True
        made = vendor.register(row)
    except LOST as lost:
        if not intent:  # nothing was written: the row starts afresh on the next run
            book.step(key, "pending", "lost", detail=f"a read failed ({type(lost).__name__}); run again")
            return "pending"
        return done(UNKNOWN, f"answer lost ({type(lost).__name__}); resume to read it back", event="lost")
    except InputError as refused:
        return done(REFUSED, f"{refused.field}: {refused.rule}")
    except APIError as refused:
        return done(REFUSED, f"refused by {vendor.vendor}: {refused.message}")
    if made.outcome == registration.DUPLICATE:
        return done(EXISTED, "registered by someone else meanwhile; not registered",
                    {"found": ", ".join(made.duplicates["id"])})
    return done(CREATED, "; ".join(f"{s.step}: {s.outcome}" for s in made.transcript[-2:]), made.ids)


class Intake:
    """An intake's report from its journal: one row per person, and the totals per outcome."""

    def __init__(self, book: Journal) -> None:
        self.journal_path = book.path
        records = book.records()
        answers = [a or {} for a in records["answer"]]
        self.report = pd.DataFrame({
            "row": records["record_key"].str.removeprefix("row-").astype("Int64"),
            "outcome": pd.array([a.get("outcome", "pending") for a in answers], dtype="string"),
            "ids": [a.get("ids", {}) for a in answers],
            "detail": records["detail"].astype("string"),
        }, columns=list(REPORT_COLUMNS))

    @property
    def totals(self) -> dict[str, int]:
        counts = self.report["outcome"].value_counts()
        return {outcome: int(counts.get(outcome, 0)) for outcome in (*OUTCOMES, "pending")}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.totals.items() if v)
        return f"<Intake {len(self.report)} rows: {shown}>"
