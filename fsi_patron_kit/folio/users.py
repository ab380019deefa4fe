"""FOLIO users and patron groups through mod-users: list with CQL, read one, replace one.

mod-patron reads one patron at a time; an audit needs every user with the columns that say what
is wrong (active, expiration date, patron group, names, emails, phones, addresses). mod-users
lists them: ``GET /users?query=<CQL>&offset=&limit=`` answers a page and ``totalRecords``.
These methods are part of :class:`fsi_patron_kit.folio.Client`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from .._checks import check_flag, check_text
from .._display import Progress
from .._frames import BOOL, DATETIME, INT, Column, FrameSpec
from .._http import Call, Preview
from .._pager import Offsets, Pager, Slice, check_workers
from ..errors import InputError
from ._validate import check_uuid
from .models import User

__all__ = ["UsersMixin", "USER_FRAME", "GROUP_FRAME"]

MAX_INT = 2147483647
ALL_USERS = "cql.allRecords=1 sortBy id"

#: One row per user; personal fields are flattened, the primary address is one line of text.
USER_FRAME = FrameSpec((
    Column("id"), Column("username"), Column("external_system_id", wire="externalSystemId"),
    Column("barcode"), Column("active", BOOL), Column("type"),
    Column("patron_group_id", wire="patronGroup"), Column("patron_group"),
    Column("first_name", wire="personal.firstName"), Column("middle_name", wire="personal.middleName"),
    Column("preferred_first_name", wire="personal.preferredFirstName"),
    Column("last_name", wire="personal.lastName"), Column("email", wire="personal.email"),
    Column("phone", wire="personal.phone"), Column("mobile_phone", wire="personal.mobilePhone"),
    Column("date_of_birth", DATETIME, wire="personal.dateOfBirth"), Column("address"),
    Column("addresses", INT), Column("enrollment_date", DATETIME, wire="enrollmentDate"),
    Column("expiration_date", DATETIME, wire="expirationDate"),
    Column("updated_date", DATETIME, wire="metadata.updatedDate"),
))
GROUP_FRAME = FrameSpec((
    Column("id"), Column("group"), Column("desc"),
    Column("expiration_offset_in_days", INT, wire="expirationOffsetInDays"), Column("source"),
))
_PERSONAL = ("firstName", "middleName", "preferredFirstName", "lastName", "email", "phone", "mobilePhone",
             "dateOfBirth")


class UsersMixin:
    """mod-users for :class:`~fsi_patron_kit.folio.Client` (which provides ``_send``)."""

    _send: Callable[[Call], Any]
    workers: int
    _transport: Any
    _auth: Any

    @property
    def tenant(self) -> str:
        """The tenant the client speaks to (its ``X-Okapi-Tenant``)."""
        return self._auth.tenant

    def users(self, query: str = ALL_USERS, *, page_size: int = 1000, max_rows: int | None = None,
              workers: int | None = None, progress: Progress = False) -> pd.DataFrame:
        """Every user matching the CQL ``query`` (all of them by default), one row each.

        Pages of ``page_size`` are fetched ``workers`` at a time (the client's setting by
        default) until an empty one; the patron group's name comes from ``/groups``.
        """
        records = self.user_records(query, page_size=page_size, max_rows=max_rows, workers=workers, progress=progress)
        names = dict(zip(*(self.groups()[c] for c in ("id", "group")), strict=True)) if records else {}
        return USER_FRAME.build([_user_row(r, names) for r in records])

    def user_records(self, query: str = ALL_USERS, *, page_size: int = 1000, max_rows: int | None = None,
                     workers: int | None = None, progress: Progress = False) -> list[dict[str, Any]]:
        """The users matching ``query`` as FOLIO sent them (mod-users records)."""
        return self._collect("/users", "users", query, page_size, max_rows, action="users", workers=workers,
                             progress=progress)

    def groups(self, query: str = "cql.allRecords=1") -> pd.DataFrame:
        """The patron groups (``/groups``): id, name, description, expiration offset, source."""
        return GROUP_FRAME.build(self._collect("/groups", "usergroups", query, 1000, None, action="groups"))

    def get_user(self, user_id: str) -> User:
        """GET /users/{id}: one user, with the whole record in ``raw``."""
        path = f"/users/{check_uuid('user_id', user_id)}"
        return User.from_wire(self._send(Call(method="GET", path=path, action="user", idempotent=True)))

    def replace_user(self, user: User | Mapping[str, Any], *, dry_run: bool = False) -> Preview | None:
        """PUT /users/{id}: replace the whole user (read it, change it, send it all back); 204."""
        if isinstance(user, User):
            body = user.to_wire()
        elif isinstance(user, Mapping):
            body = dict(user)
        else:
            raise InputError("user", "must be a User or a JSON object (dict)")
        path = f"/users/{check_uuid('id', body.get('id'))}"
        personal = body.get("personal")
        if not isinstance(personal, Mapping) or not isinstance(personal.get("lastName"), str):
            raise InputError("personal.lastName", "is required")
        check_flag("dry_run", dry_run)
        call = Call(method="PUT", path=path, action="replace-user", json=body, idempotent=True)
        if dry_run:
            return self._transport.preview(call)
        self._send(call)
        return None

    def _collect(self, path: str, key: str, query: str, page_size: int, max_rows: int | None, *,
                 action: str, workers: int | None = None, progress: Progress = False) -> list[dict[str, Any]]:
        """Every record of a CQL listing through the shared pager, ``workers`` pages at a time.

        Pages by ``offset`` are only consistent under a stable order, so a query without a
        ``sortBy`` is sorted by id.
        """
        check_text("query", query)
        _bounded("page_size", page_size, low=1)
        if max_rows is not None:
            _bounded("max_rows", max_rows, low=1)
        ordered = query if "sortby" in query.lower() else f"{query} sortBy id"

        def fetch(asked: Slice) -> list[dict[str, Any]]:
            params = {"query": ordered, "offset": asked.offset, "limit": asked.size}
            answer = self._send(Call(method="GET", path=path, action=action, params=params, idempotent=True)) or {}
            return list(answer.get(key) or [])

        pager = Pager(fetch, Offsets(page_size), workers=self.workers if workers is None else check_workers(workers),
                      progress=progress, label=action, vendor="folio")
        return pager.collect(max_rows=max_rows)


def _bounded(name: str, value: Any, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_INT:
        raise InputError(name, f"must be an integer from {low} to {MAX_INT}")
    return value


def _user_row(user: Mapping[str, Any], group_names: Mapping[str, str]) -> dict[str, Any]:
    """A mod-users record as one flat row of :data:`USER_FRAME`."""
    personal = user.get("personal") or {}
    addresses = personal.get("addresses") or []
    primary = next((a for a in addresses if a.get("primaryAddress")), addresses[0] if addresses else None)
    row = {key: user.get(key) for key in ("id", "username", "externalSystemId", "barcode", "active", "type",
                                          "patronGroup", "enrollmentDate", "expirationDate")}
    row.update({f"personal.{key}": personal.get(key) for key in _PERSONAL})
    row["metadata.updatedDate"] = (user.get("metadata") or {}).get("updatedDate") or user.get("updatedDate")
    row["patron_group"] = group_names.get(user.get("patronGroup") or "")
    row["addresses"] = len(addresses)
    row["address"] = _one_line(primary) if primary else None
    return row


def _one_line(address: Mapping[str, Any]) -> str:
    place = " ".join(p for p in (address.get("region"), address.get("postalCode")) if p)
    parts = (address.get("addressLine1"), address.get("addressLine2"), address.get("city"), place,
             address.get("countryId"))
    return ", ".join(p for p in parts if p)
