"""FOLIO in the workflows: mod-users records as the canonical frame, and what a user write may hold.

Patrons are read through mod-users (``GET /users``, with ``/groups`` for the group names), so the
gateway client is the one to give; edge-patron lists only external patrons. Open loans are in
mod-patron's account, one request a patron, so they are read only for the patrons asked for.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._checks import EMAIL
from ..errors import InputError
from ..workflows.canonical import canonical_frame
from ._validate import check_uuid

__all__ = ["ADAPTER", "FolioAdapter"]


class FolioAdapter:
    """How FOLIO users become canonical rows, and which canonical columns a user write can change."""

    vendor = "folio"
    #: (canonical column, FOLIO user field, note), in canonical order.
    mapping = (
        ("vendor", None, '"folio"'),
        ("tenant", None, "the client's tenant (X-Okapi-Tenant)"),
        ("record_key", "id", "the user's UUID"),
        ("barcode", "barcode", "remote (LC) patrons have none"),
        ("username", "username", "remote (LC) patrons have none"),
        ("external_id", "externalSystemId", ""),
        ("first_name", "personal.firstName", ""),
        ("last_name", "personal.lastName", ""),
        ("preferred_name", "personal.preferredFirstName", ""),
        ("email", "personal.email", ""),
        ("phone", "personal.phone", "else personal.mobilePhone"),
        ("role", "patronGroup", "the group's name, from /groups"),
        ("active", "active", ""),
        ("expires", "expirationDate", ""),
        ("branch", None, "a FOLIO user has no home library"),
        ("class_grade", None, "FOLIO has none"),
        ("room", None, "FOLIO has none"),
        ("birth_date", "personal.dateOfBirth", ""),
        ("open_loans", "totalLoans", "mod-patron's account, read for the patrons asked for (inactive ones by default)"),
        ("updated", "metadata.updatedDate", ""),
        ("link", None, "the user's URL on the gateway (GET /users/{id})"),
    )
    lost = ("personal.middleName", "personal.mobilePhone (when there is a phone)", "personal.addresses", "type",
            "enrollmentDate", "departments", "preferredEmailCommunication", "customFields")
    #: canonical column -> mod-users field (dotted)
    writable = {"barcode": "barcode", "username": "username", "external_id": "externalSystemId",
                "first_name": "personal.firstName", "last_name": "personal.lastName",
                "preferred_name": "personal.preferredFirstName", "email": "personal.email",
                "phone": "personal.phone", "role": "patronGroup", "active": "active",
                "expires": "expirationDate", "birth_date": "personal.dateOfBirth"}

    def read(self, client: Any, *, open_loans: str = "inactive", **options: Any) -> pd.DataFrame:
        """Every user of the client's tenant; ``open_loans`` whose accounts to read."""
        if not hasattr(client, "users"):
            raise InputError("client", "FOLIO patrons are listed through the gateway client: pk.connect('folio')")
        users = client.users()
        loans = pd.Series(pd.NA, index=users.index, dtype="Int64")
        wanted = {"all": users.index, "inactive": users.index[users["active"].eq(False)]}.get(open_loans, [])
        for row in wanted:
            loans[row] = client.account(users.at[row, "id"]).total_loans
        return canonical_frame({
            "vendor": self.vendor, "tenant": client.tenant, "record_key": users["id"],
            "barcode": users["barcode"], "username": users["username"],
            "external_id": users["external_system_id"], "first_name": users["first_name"],
            "last_name": users["last_name"], "preferred_name": users["preferred_first_name"],
            "email": users["email"], "phone": users["phone"].fillna(users["mobile_phone"]),
            "role": users["patron_group"], "active": users["active"], "expires": users["expiration_date"],
            "birth_date": users["date_of_birth"], "open_loans": loans, "updated": users["updated_date"],
            "link": client.url.rstrip("/") + "/users/" + users["id"],
        }, len(users))

    def refusal(self, column: str, value: Any) -> str | None:
        """Why the kit would refuse to send ``value`` for ``column`` in a FOLIO user, or None."""
        if column not in self.writable:
            return "a FOLIO user has no field for this column"
        if value is None:
            return "must be non-empty (personal.lastName is required)" if column == "last_name" else None
        if column == "active":
            return None if isinstance(value, bool) else "must be True or False"
        if column in ("expires", "birth_date"):
            return None if isinstance(value, pd.Timestamp) and value.tzinfo else "must be a tz-aware timestamp"
        if not isinstance(value, str):
            return "must be a string"
        if column == "email" and not EMAIL.match(value):
            return "must be a valid email address"
        if column == "last_name" and not value.strip():
            return "must be non-empty (personal.lastName is required)"
        return None

    def key_refusal(self, key: Any) -> str | None:
        try:
            check_uuid("record_key", key)
        except InputError as refused:
            return refused.rule
        return None


ADAPTER = FolioAdapter()
