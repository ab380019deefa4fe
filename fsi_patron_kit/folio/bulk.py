"""FOLIO as a bulk target: both of its writes replace the whole record, so each is read-merge-write.

* :data:`USERS`: mod-users through the gateway client. Records are keyed by user id; many are
  read with ``GET /users?query=id==a or id==b ...`` (50 ids a request), one with ``GET /users/{id}``; the
  write is ``PUT /users/{id}`` with the record just read and the planned fields set in it.
* :data:`EDGE`: edge-patron's external patrons, keyed by their email (edge reads and writes by
  email only). Many are read with the external-patrons list, one by email; the write is ``PUT
  .../by-email/{email}`` with the external patron just read and the planned fields set. A change
  of email moves the record: it is read back, and rolled back, at its new address.

Writes are sent once (``idempotent=False``): whether to send again after a lost answer is the
bulk runner's decision, after a read-back.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._checks import check_email
from .._http import Call
from ..errors import InputError, NotFoundError
from ..workflows.bulk import BulkTarget, Snapshot
from ..workflows.journal import norm
from ._validate import check_uuid
from .adapter import ADAPTER

__all__ = ["USERS", "EDGE", "UsersTarget", "EdgeTarget"]

IDS_PER_QUERY = 50


def _dig(record: Mapping[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _set(record: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    if value is None:
        record.pop(last, None)
    else:
        record[last] = value


def _wire_value(value: Any) -> Any:
    """A canonical value as FOLIO's JSON holds it (date-times as ISO text)."""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    return norm(value)


class UsersTarget(BulkTarget):
    vendor = "folio"
    client_type = "fsi_patron_kit.folio.client:Client"
    canonical = ADAPTER
    can_list = True
    fields = dict(ADAPTER.writable)

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def _group_names(self, client: Any) -> dict[str, str]:
        """Patron group id -> name, read once per tenant (``role`` is the group's name)."""
        where = (client.url, client.tenant)
        with self._lock:
            if where not in self._groups:
                groups = client.groups()
                self._groups[where] = dict(zip(groups["id"], groups["group"], strict=True))
            return self._groups[where]

    def _snapshot(self, client: Any, user: Mapping[str, Any]) -> Snapshot:
        values = {column: _dig(user, path) for column, path in self.fields.items()}
        values["role"] = self._group_names(client).get(values["role"] or "")
        for column in ("expires", "birth_date"):
            if values[column]:
                values[column] = pd.Timestamp(values[column])
        return Snapshot(values, raw=user)

    def read_many(self, client: Any, keys: list[str]) -> dict[str, Snapshot]:
        found: dict[str, Snapshot] = {}
        for start in range(0, len(keys), IDS_PER_QUERY):
            batch = keys[start:start + IDS_PER_QUERY]
            query = " or ".join(f"id=={check_uuid('record_key', k)}" for k in batch)
            for user in client.user_records(query, page_size=IDS_PER_QUERY):
                found[user["id"]] = self._snapshot(client, user)
        return found

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        try:
            return self._snapshot(client, client.get_user(key).raw)
        except NotFoundError:
            return None

    def _merged(self, client: Any, changes: Mapping[str, Any], current: Snapshot) -> dict[str, Any]:
        body = copy.deepcopy(dict(current.raw))
        body.pop("metadata", None)  # the server's to set
        ids = {name: group for group, name in self._group_names(client).items()}
        for column, value in changes.items():
            if column == "role":
                if value not in ids:
                    raise InputError("role", f"must be a patron group ({', '.join(ids)})")
                value = ids[value]
            _set(body, self.fields[column], _wire_value(value))
        return body

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        if current is None:
            raise InputError("record_key", f"no FOLIO user {key}")
        preview = client._transport.preview(self._call(key, self._merged(client, changes, current)))
        return {"method": preview.method, "url": preview.url, "body": preview.body}

    def _call(self, key: str, body: dict[str, Any]) -> Call:
        return Call(method="PUT", path=f"/users/{check_uuid('record_key', key)}", action="replace-user", json=body,
                    idempotent=False)

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False) -> dict[str, Any]:
        self.check(changes, restore=restore)
        client._send(self._call(key, self._merged(client, changes, current)))
        return {"status": 204}


class EdgeTarget(BulkTarget):
    vendor = "folio-edge"
    client_type = "fsi_patron_kit.folio.edge:EdgeClient"
    canonical = ADAPTER
    can_list = True
    fields = {"external_id": "generalInfo.externalSystemId", "first_name": "generalInfo.firstName",
              "last_name": "generalInfo.lastName", "preferred_name": "generalInfo.preferredFirstName",
              "email": "contactInfo.email", "phone": "contactInfo.phone"}

    def key_refusal(self, key: Any) -> str | None:
        try:
            check_email("record_key", key)
        except InputError as refused:
            return f"{refused.rule} (edge finds external patrons by email)"
        return None

    def key_after(self, key: str, changes: Mapping[str, Any]) -> str:
        return str(changes.get("email") or key)

    def _snapshot(self, patron: Mapping[str, Any]) -> Snapshot:
        return Snapshot({column: _dig(patron, path) for column, path in self.fields.items()}, raw=patron)

    def read_many(self, client: Any, keys: list[str]) -> dict[str, Snapshot]:
        call = Call(method="GET", path=f"{client._path()}/external-patrons", action="external-patrons",
                    params={"expired": "false"}, idempotent=True)
        wanted = {k.lower(): k for k in keys}
        found = {}
        for patron in (client._send(call) or {}).get("externalPatrons", []):
            email = str(_dig(patron, "contactInfo.email") or "").lower()
            if email in wanted:
                found[wanted[email]] = self._snapshot(patron)
        return found

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        try:
            call = Call(method="GET", path=client._by_email(key), action="get-external-patron", idempotent=True)
            return self._snapshot(client._send(call))
        except NotFoundError:
            return None

    def read_back(self, client: Any, key: str, changes: Mapping[str, Any]) -> Snapshot | None:
        moved = self.key_after(key, changes)
        if moved.lower() != key.lower():
            found = self.read_one(client, moved)
            if found is not None:
                return found
        return self.read_one(client, key)

    def _call(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot) -> Call:
        body = copy.deepcopy(dict(current.raw))
        for column, value in changes.items():
            _set(body, self.fields[column], norm(value))
        return Call(method="PUT", path=client._by_email(key), action="update-external-patron", json=body,
                    idempotent=False)

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        if current is None:
            raise InputError("record_key", f"no external patron with email {key}")
        preview = client._transport.preview(self._call(client, key, changes, current))
        return {"method": preview.method, "url": preview.url, "body": preview.body}

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False) -> dict[str, Any]:
        self.check(changes, restore=restore)
        client._send(self._call(client, key, changes, current))
        return {"status": 204}


USERS = UsersTarget()
EDGE = EdgeTarget()
