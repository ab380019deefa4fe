"""The FSI SmartSuite-Library client: every action of the patron sync API.

Authentication is done for you (getcode -> gettoken, renewtoken before expiry, once more after
an expired-token failure). Searches come back as lazy pages or as one DataFrame; writes can be
previewed with ``dry_run=True``. Input is checked before anything is sent.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from tqdm.auto import tqdm

from .._checks import check_chars, check_flag, check_text
from .._client import TokenClient, TransportOptions
from .._display import Progress
from .._http import Call
from .._pager import DEFAULT_WORKERS, Page, PageNumbers, Pager, Slice, check_workers
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
    WIRE_NAMES,
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

__all__ = ["Client", "Page", "DEFAULT_PAGE_SIZE"]

Encoding = Literal["json", "form"]

#: Patrons per searchpatron page. The document names no largest ``pagecount``, so this stays
#: modest; a tenant that accepts more exports faster with ``search(page_size=500)`` or more.
DEFAULT_PAGE_SIZE = 100


class Client(TokenClient):
    """FSI SmartSuite-Library patron sync (``/services/SSLIB_SER_PATRON_API.asmx/patron``).

    Args:
        url: the tenant's base URL, e.g. ``https://library.school.example``.
        apikey: the organisation's API key (kept as a :class:`~fsi_patron_kit.config.Secret`).
        apisecret: the organisation's API secret.
        encoding: ``"json"`` (as the FSI document's examples) or ``"form"`` posts.
        renew_margin: renew the token this many seconds before it expires.
        workers: pages a search fetches at once (and the profile setting ``workers``).
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
        workers: int = DEFAULT_WORKERS,
        **transport: Unpack[TransportOptions],
    ) -> None:
        # Held masked from the first line on: a traceback's locals would show the plain strings.
        apikey, apisecret = Secret.of(apikey, field="apikey"), Secret.of(apisecret, field="apisecret")
        self.workers = check_workers(workers)
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
        self, keyword: str | None = None, *, page_size: int = 50, start_page: int = 1, max_pages: int | None = None,
        field: str | None = None, value: str | None = None, **by_field: str,
    ) -> Iterator[Page]:
        """Walk the pages of a search lazily, until an empty page or ``max_pages``.

        The search is ``keyword`` (the document's free text), or one field by the structured
        find-form keyword: ``email="..."``, or ``field=`` and ``value=`` (``field="ALL"``
        searches every field). Either way the text is matched anywhere in the field.
        """
        return self.pager(keyword, page_size=page_size, start_page=start_page, max_pages=max_pages,
                          field=field, value=value, **by_field).pages()

    def search(
        self, keyword: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE, max_rows: int | None = None,
        workers: int | None = None, progress: Progress = False, field: str | None = None, value: str | None = None,
        **by_field: str,
    ) -> pd.DataFrame:
        """Every patron matching the search (all patrons if none) as one DataFrame.

        Pages are fetched ``workers`` at a time (the client's ``workers`` setting by default)
        and kept in order; the walk ends at the first empty page. The search is as for
        :meth:`search_pages`.
        """
        if max_rows is not None:
            check_page("max_rows", max_rows)
        pager = self.pager(keyword, page_size=page_size, workers=workers, progress=progress, field=field,
                           value=value, **by_field)
        return pager.frame(max_rows=max_rows)

    def pager(
        self, keyword: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE, start_page: int = 1,
        max_pages: int | None = None, workers: int | None = None, progress: Progress = False,
        field: str | None = None, value: str | None = None, **by_field: str,
    ) -> Pager:
        """The :class:`~fsi_patron_kit._pager.Pager` of a search: iterate it lazily or ``collect()`` it.

        The document gives no total and no largest ``pagecount``: a server that quietly caps
        the page size answers short pages that are not the last, so only an empty page ends
        the walk (one extra request per search, against silently missing patrons).
        """
        check_page("page_size", page_size)
        check_page("start_page", start_page)
        if max_pages is not None:
            check_page("max_pages", max_pages)
        criteria = _search_fields(keyword, field, value, by_field)
        form = "keyword[0][tokens][0][key]" in criteria

        def fetch(asked: Slice) -> list[dict[str, Any]]:
            fields = {"pagenumber": asked.number, "pagecount": asked.size, **criteria}
            return _items(self._call("searchpatron", fields, idempotent=True, form=form))

        return Pager(fetch, PageNumbers(page_size, first=start_page), frame=PATRON_FRAME,
                     workers=self.workers if workers is None else check_workers(workers), progress=progress,
                     label="searchpatron", max_pages=max_pages, vendor=self.vendor)

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
        if dry_run:  # each row shows what would be sent for it (the token is added when sending)
            frame = SET_RESULT_FRAME.build([_result_row(p, keyfield, "dry-run", None) for p in payloads])
            frame["payload"] = pd.array([json.dumps(p, ensure_ascii=False) for p in payloads], dtype="string")
            return frame
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
    def _call(self, action: str, fields: Mapping[str, Any], *, idempotent: bool, form: bool = False) -> Any:
        """Send ``action``; ``form`` posts a form whatever the client's encoding (the find-form keyword)."""
        payload = {"action": action, **fields}
        encoded = {"data": _form_fields(payload)} if form else self._encode(payload)
        call = Call(method="POST", path=_wire.PATH, action=action, idempotent=idempotent, **encoded)
        return _wire.decode(self._transport.send(call), action=action)

    def _encode(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Call keyword arguments for a JSON or a form post of ``payload``."""
        if self.encoding == "json":
            return {"json": dict(payload)}
        return {"data": _form_fields(payload)}


def _form_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    return {k: _form_value(v) for k, v in payload.items() if v is not None}


#: The structured search keyword's find-form: the field, then how the value is matched.
FINDFORM_ALL = "ALL"


def _findform(field: str, text: str) -> dict[str, str]:
    """``keyword[0][tokens][i][key|value]`` form fields searching ``field`` for ``text`` (CONTAIN)."""
    tokens = (("findform_key", field), ("findform_value", text), ("findform_condition", "AND"),
              ("findform_method", "CONTAIN"), ("findform_type", "STRING"))
    fields: dict[str, str] = {}
    for i, (key, token) in enumerate(tokens):
        fields[f"keyword[0][tokens][{i}][key]"] = key
        fields[f"keyword[0][tokens][{i}][value]"] = token
    return fields


def _search_fields(keyword: Any, field: Any, value: Any, by_field: Mapping[str, Any]) -> dict[str, str]:
    """The searchpatron fields of a search: none, the free-text ``keyword``, or one find-form field."""
    if field is not None or value is not None:
        by_field = {**by_field, str(field): value}
    if (1 if keyword else 0) + len(by_field) > 1:
        raise InputError("search", "give one of: keyword, one field (email=...), or field= and value=")
    if keyword is not None:
        check_chars("keyword", keyword)
    if keyword:
        return {"keyword": keyword}
    if not by_field:
        return {}
    (name, text), = by_field.items()
    name = FINDFORM_ALL if name.upper() == FINDFORM_ALL else name
    if name != FINDFORM_ALL and name not in WIRE_NAMES:
        raise InputError("field", f"must be {FINDFORM_ALL} or an FSI patron field (one of {', '.join(FIELDS)})")
    check_text(name if field is None else "value", text)
    return _findform(WIRE_NAMES.get(name, FINDFORM_ALL), text)


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
