"""FSI as a bulk target: setpatron takes fields, so only the changed fields are sent.

Records are keyed by barcode (FSI's only id). Many are read with ``searchpatron`` pages of
1,000 (the largest FSI serves), one is read with ``getpatron``. A write is one ``setpatron``
with ``allownew`` false: a record gone since the plan is refused, never created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._redact import MASK
from ..workflows.bulk import BulkTarget, Snapshot
from . import _wire
from .adapter import ADAPTER
from .models import WIRE_NAMES, check_fields

__all__ = ["TARGET", "FsiTarget"]

PAGE_SIZE = 1000


class FsiTarget(BulkTarget):
    vendor = "fsi"
    client_type = "fsi_patron_kit.fsi.client:Client"
    canonical = ADAPTER
    can_list = True
    #: canonical column -> the client's field name; the barcode is the key, not a field to change
    fields = {column: name for column, name in ADAPTER.writable.items() if column != "barcode"}

    def read_many(self, client: Any, keys: list[str]) -> dict[str, Snapshot]:
        wanted = set(keys)
        found: dict[str, Snapshot] = {}
        for page in client.search_pages(page_size=PAGE_SIZE):
            for record in page.records:
                if record.get("barcode") in wanted:
                    found[record["barcode"]] = self._snapshot(record)
            if len(found) == len(wanted):  # the rest of the list holds none of them
                break
        return found

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        frame = client.find_patrons(keyfield="barcode", value=key)
        if frame.empty:
            return None
        row = frame.iloc[0]
        return Snapshot({column: row[name] for column, name in self.fields.items()}, raw=None)

    def _snapshot(self, record: Mapping[str, Any]) -> Snapshot:
        return Snapshot({column: record.get(WIRE_NAMES[name]) for column, name in self.fields.items()}, raw=record)

    def _body(self, key: str, changes: Mapping[str, Any], *, restore: bool) -> dict[str, Any]:
        named = {self.fields[column]: "" if value is None else value for column, value in changes.items()}
        # A restore writes back what was there, as it was: the input rules are not asked.
        wire = {WIRE_NAMES[name]: str(value) for name, value in named.items()} if restore else check_fields(named)
        return {"keyfield": "barcode", "allownew": False, "itemindex": 1, "barcode": key, **wire}

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        body = {"action": "setpatron", "token": MASK, **self._body(key, changes, restore=False)}
        return {"method": "POST", "url": client.url.rstrip("/") + _wire.PATH, "body": body}

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False) -> dict[str, Any]:
        self.check(changes, restore=restore)
        answer = client._call("setpatron", self._body(key, changes, restore=restore), idempotent=False)
        return {"msg": answer.get("msg") if isinstance(answer, Mapping) else None}


TARGET = FsiTarget()
