"""The FSI SmartSuite-Library client: every action of the patron sync API.

Authentication is done for you (getcode -> gettoken, renewtoken before expiry, once more after
an expired-token failure). Searches come back as lazy pages or as one DataFrame; writes can be
previewed with ``dry_run=True``. Input is checked before anything is sent.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pandas as pd
from tqdm.auto import tqdm

from .._checks import check_chars, check_flag
from .._client import TokenClient, TransportOptions
from .._http import Call
from .._redact import MASK
from .._session import SessionInfo
from ..config import Secret
from ..errors import (
    APIError,
    AuthError,
    BatchInterrupted,
    ConflictError,
    InputError,
    NotFoundError,
    PatronKitError,
    TransportError,
)
from . import _wire
from .models import (
    FIELDS,
    PATRON_FRAME,
    SET_RESULT_FRAME,
    Patron,
    SetResult,
    check_fields,
    check_key_value,
    check_keyfield,
    check_page,
    key_of,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Client", "Page"]

Encoding = Literal["json", "form"]


@attrs.frozen
class Page:
    """One page of search results, as the API returned it."""

    number: int
    size: int
    records: list[dict[str, Any]] = attrs.field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return PATRON_FRAME.build(self.records)

    def __len__(self) -> int:
        return len(self.records)


class Client(TokenClient):
    """FSI SmartSuite-Library patron sync (``/services/SSLIB_SER_PATRON_API.asmx/patron``).

    Args:
        url: the tenant's base URL, e.g. ``https://library.school.example``.
        apikey: the organisation's API key (kept as a :class:`~fsi_patron_kit.config.Secret`).
        apisecret: the organisation's API secret.
        encoding: ``"json"`` (as the FSI document's examples) or ``"form"`` posts.
        renew_margin: renew the token this many seconds before it expires.
        **transport: :class:`~fsi_patron_kit._client.TransportOptions` (timeout, retry,
            pool_size, record_bodies, allow_insecure_http, verify).
    """

    vendor = "fsi"
    _shown = ("encoding",)

    def __init__(
        self,
        *,
        url: str,
        apikey: str | Secret,
        apisecret: str | Secret,
        encoding: Encoding = "json",
        renew_margin: float = 60.0,
        **transport: Unpack[TransportOptions],
    ) -> None:
        # Held masked from the first line on: a traceback's locals would show the plain strings.
        apikey, apisecret = Secret.of(apikey, field="apikey"), Secret.of(apisecret, field="apisecret")
        if encoding not in ("json", "form"):
            raise InputError("encoding", "must be 'json' or 'form'")
        self.encoding = encoding
        self._auth = _wire.FsiAuth(apikey, apisecret, encoding=self._encode, renew_margin=renew_margin)
        self._open(url, self._auth, _wire.describe, transport)

    # -- authentication (login() and session come from TokenClient) -----------------------
    def renew(self) -> SessionInfo:
        """renewtoken now (otherwise done shortly before the token expires)."""
        self._auth.renew(self._transport)
        return self.session

    # -- searchpatron -------------------------------------------------------------------------
    def search_pages(
        self, keyword: str | None = None, *, page_size: int = 50, start_page: int = 1, max_pages: int | None = None
    ) -> Iterator[Page]:
        """Walk the pages of a keyword search lazily, until an empty page or ``max_pages``."""
        check_page("page_size", page_size)
        check_page("start_page", start_page)
        if max_pages is not None:
            check_page("max_pages", max_pages)
        if keyword is not None:
            check_chars("keyword", keyword)
        return self._pages(keyword, page_size, start_page, max_pages)

    def _pages(self, keyword: str | None, size: int, number: int, max_pages: int | None) -> Iterator[Page]:
        """Pages until an empty one.

        The document gives no total and no largest ``pagecount``: a server that quietly caps
        the page size answers short pages that are not the last, so only an empty page ends
        the walk (one extra request per search, against silently missing patrons).
        """
        fetched = 0
        previous_first: dict[str, Any] | None = None
        while max_pages is None or fetched < max_pages:
            fields: dict[str, Any] = {"pagenumber": number, "pagecount": size}
            if keyword:
                fields["keyword"] = keyword
            records = _items(self._call("searchpatron", fields, idempotent=True))
            if not records:
                return
            if records[0] == previous_first:
                raise APIError("the server answered the same page twice; it ignores pagenumber",
                               vendor=self.vendor, action="searchpatron")
            previous_first = records[0]
            yield Page(number=number, size=size, records=records)
            fetched += 1
            number += 1

    def search(
        self, keyword: str | None = None, *, page_size: int = 100, max_rows: int | None = None, progress: bool = False
    ) -> pd.DataFrame:
        """Every patron matching ``keyword`` (all patrons if None) as one DataFrame."""
        check_flag("progress", progress)
        if max_rows is not None:
            check_page("max_rows", max_rows)
        records: list[dict[str, Any]] = []
        bar = tqdm(desc="searchpatron", unit=" patrons", disable=not progress)
        with bar:
            for page in self.search_pages(keyword, page_size=page_size):
                records.extend(page.records)
                bar.update(len(page))
                if max_rows is not None and len(records) >= max_rows:
                    records = records[:max_rows]
                    break
        return PATRON_FRAME.build(records)

    # -- getpatron ----------------------------------------------------------------------------
    def find_patrons(self, *, keyfield: str, value: str) -> pd.DataFrame:
        """All patrons whose ``keyfield`` equals ``value`` (``fullname`` may match several)."""
        try:
            return PATRON_FRAME.build(self._getpatron(keyfield, value))
        except NotFoundError:
            return PATRON_FRAME.empty()

    def get_patron(self, *, keyfield: str, value: str) -> Patron:
        """The one patron whose ``keyfield`` equals ``value``.

        Raises:
            NotFoundError: no patron matches.
            ConflictError: several patrons match (use :meth:`find_patrons`).
        """
        records = self._getpatron(keyfield, value)
        if not records:
            raise NotFoundError("Patron not found.", vendor=self.vendor, action="getpatron")
        if len(records) > 1:
            raise ConflictError(
                f"{len(records)} patrons match keyfield {keyfield}; use find_patrons()",
                vendor=self.vendor,
                action="getpatron",
            )
        return Patron.from_wire(records[0])

    def _getpatron(self, keyfield: str, value: str) -> list[dict[str, Any]]:
        fields = {"keyfield": check_keyfield(keyfield), "keyvalue": check_key_value(value)}
        return _items(self._call("getpatron", fields, idempotent=True))

    # -- setpatron ----------------------------------------------------------------------------
    def set_patron(
        self, *, keyfield: str, allow_new: bool, itemindex: int = 1, dry_run: bool = False, **fields: str | None
    ) -> SetResult:
        """Update the patron matched on ``keyfield`` (create it if ``allow_new``).

        Only the fields given are sent; pass ``""`` to clear a field. With ``dry_run`` nothing
        is sent and the result carries the payload that would have been.
        """
        check_flag("dry_run", dry_run)
        payload = self._set_payload(keyfield, allow_new, itemindex, fields)
        if dry_run:
            return SetResult(itemindex=itemindex, status="dry-run", payload={**payload, "token": MASK})
        answer = self._call("setpatron", payload, idempotent=False)
        items = _items(answer)
        message = answer.get("msg") if isinstance(answer, dict) else None
        return SetResult(
            itemindex=itemindex,
            status=_set_status(message),
            message=message,
            patron=Patron.from_wire(items[0]) if items else None,
        )

    def create_patron(self, *, keyfield: str = "barcode", dry_run: bool = False, **fields: str | None) -> SetResult:
        """Create a patron; refuses (ConflictError) if one already matches ``keyfield``."""
        check_flag("dry_run", dry_run)
        payload = self._set_payload(keyfield, True, 1, fields)
        key = key_of(keyfield, payload)
        if not dry_run and not self.find_patrons(keyfield=keyfield, value=key).empty:
            raise ConflictError(f"a patron with this {keyfield} already exists", vendor=self.vendor, action="setpatron")
        return self.set_patron(keyfield=keyfield, allow_new=True, dry_run=dry_run, **fields)

    def set_patrons(
        self,
        records: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        keyfield: str,
        allow_new: bool,
        dry_run: bool = False,
        workers: int = 1,
        progress: bool = False,
    ) -> pd.DataFrame:
        """A batch of setpatron calls with ``itemindex`` 1..n; one result row per record.

        Every record is checked before the first is sent. A vendor error on one record is
        reported in its row and the batch goes on; a transport or authentication failure stops
        the batch with :class:`BatchInterrupted`, whose ``results`` keep what was done.
        """
        check_flag("dry_run", dry_run)
        check_flag("progress", progress)
        check_page("workers", workers)
        rows = _rows(records)
        payloads = [self._set_payload(keyfield, allow_new, i, row, index=i) for i, row in enumerate(rows, start=1)]
        if dry_run:
            results = [_result_row(p, keyfield, "dry-run", None) for p in payloads]
            return SET_RESULT_FRAME.build(results)
        stop = threading.Event()
        stopped_by: list[PatronKitError] = []

        def send(payload: dict[str, Any]) -> dict[str, Any]:
            if stop.is_set():
                return _result_row(payload, keyfield, "not-sent", None)
            try:
                answer = self._call("setpatron", payload, idempotent=False)
            except (TransportError, AuthError) as exc:
                stop.set()
                stopped_by.append(exc)
                return _result_row(payload, keyfield, "failed", str(exc), type(exc).__name__)
            except APIError as exc:
                return _result_row(payload, keyfield, "failed", exc.message, type(exc).__name__)
            message = answer.get("msg") if isinstance(answer, dict) else None
            return _result_row(payload, keyfield, _set_status(message), message)

        with tqdm(total=len(payloads), desc="setpatron", unit=" patrons", disable=not progress) as bar, \
                ThreadPoolExecutor(max_workers=workers) as pool:
            done = []
            for row in pool.map(send, payloads):
                done.append(row)
                bar.update()
        results = SET_RESULT_FRAME.build(done)
        if stopped_by:
            sent = int((results["status"] != "not-sent").sum())
            raise BatchInterrupted(
                f"setpatron batch stopped after {sent} of {len(payloads)} records: {stopped_by[0]}",
                results=results,
                cause=stopped_by[0],
            )
        return results

    def _set_payload(
        self, keyfield: str, allow_new: bool, itemindex: int, fields: Mapping[str, Any], *, index: int | None = None
    ) -> dict[str, Any]:
        check_keyfield(keyfield)
        check_flag("allow_new", allow_new)
        if isinstance(itemindex, bool) or not isinstance(itemindex, int) or itemindex < 1:
            raise InputError("itemindex", "must be an integer of at least 1", index=index)
        wire = check_fields(fields, index=index)
        key_of(keyfield, wire, index=index)
        return {"keyfield": keyfield, "allownew": allow_new, "itemindex": itemindex, **wire}

    # -- plumbing -----------------------------------------------------------------------------
    def _call(self, action: str, fields: Mapping[str, Any], *, idempotent: bool) -> Any:
        call = Call(method="POST", path=_wire.PATH, action=action, idempotent=idempotent,
                    **self._encode({"action": action, **fields}))
        return _wire.decode(self._transport.send(call), action=action)

    def _encode(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Call keyword arguments for a JSON or a form post of ``payload``."""
        if self.encoding == "json":
            return {"json": dict(payload)}
        return {"data": {k: _form_value(v) for k, v in payload.items() if v is not None}}


def _set_status(message: str | None) -> str:
    return "created" if message and "created" in message.lower() else "updated"


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _items(answer: Any) -> list[dict[str, Any]]:
    items = answer.get("item") if isinstance(answer, dict) else answer
    if items is None:
        return []
    if isinstance(items, dict):
        return [items]
    return list(items)


def _rows(records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records as dicts of Python field names, with missing values (NaN, NA, None) dropped."""
    if isinstance(records, pd.DataFrame):
        unknown = [c for c in records.columns if c not in FIELDS]
        if unknown:
            raise InputError(str(unknown[0]), f"is not an FSI patron field (one of {', '.join(FIELDS)})")
        records = records.astype(object).to_dict("records")
    elif isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise InputError("records", "must be a DataFrame or a list of mappings of patron fields")
    rows = []
    for index, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise InputError("records", "each record must be a mapping of patron fields", index=index)
        rows.append({k: v for k, v in record.items() if not _missing(v)})
    return rows


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _result_row(payload: Mapping[str, Any], keyfield: str, status: str, message: str | None,
                error_type: str | None = None) -> dict[str, Any]:
    key = payload.get(keyfield) if keyfield != "fullname" else f"{payload.get('firstname', '')} {payload.get('surname', '')}".strip()
    return {"itemindex": payload["itemindex"], "key": key, "status": status, "message": message, "error_type": error_type}
