"""FSI in the workflows: its patrons as the canonical frame, and what a write to FSI may hold.

FSI's nine patron fields all have a canonical column, so nothing FSI holds is lost; FSI has no
phone, active flag, expiry, branch, birth date, loans or update time, so those columns stay
missing. The record key is the barcode: FSI has no other id, and ``getpatron`` reads by it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..errors import InputError
from ..workflows.canonical import canonical_frame
from . import _wire
from .models import check_fields

__all__ = ["ADAPTER", "FsiAdapter"]

PAGE_SIZE = 1000  # the largest page FSI serves


class FsiAdapter:
    """How FSI patrons become canonical rows, and which canonical columns FSI can be written."""

    vendor = "fsi"
    #: (canonical column, FSI field, note), in canonical order.
    mapping = (
        ("vendor", None, '"fsi"'),
        ("tenant", None, "the host of the client's URL"),
        ("record_key", "barcode", "FSI has no other id; getpatron and setpatron key on it"),
        ("barcode", "barcode", ""),
        ("username", "username", ""),
        ("external_id", "externalid", "the student management system's id"),
        ("first_name", "firstname", ""),
        ("last_name", "surname", ""),
        ("preferred_name", None, "FSI has none"),
        ("email", "email", ""),
        ("phone", None, "FSI has none"),
        ("role", "role", "STUDENT, TEACHER, PARENT or LIBRARIAN"),
        ("active", None, "FSI has none"),
        ("expires", None, "FSI has none"),
        ("branch", None, "FSI has none (one school per tenant)"),
        ("class_grade", "classgrade", "as stored, a trailing | included"),
        ("room", "room", ""),
        ("birth_date", None, "FSI has none"),
        ("open_loans", None, "not in the patron sync API"),
        ("updated", None, "FSI has none"),
        ("link", None, "the endpoint and the getpatron call that reads the record"),
    )
    lost: tuple[str, ...] = ()
    #: canonical column -> the client's field name for setpatron
    writable = {"barcode": "barcode", "username": "username", "external_id": "external_id",
                "first_name": "first_name", "last_name": "surname", "email": "email",
                "class_grade": "class_grade", "room": "room", "role": "role"}

    def read(self, client: Any, **options: Any) -> pd.DataFrame:
        """Every FSI patron (``searchpatron`` without a keyword, page after page)."""
        found = client.search(page_size=PAGE_SIZE)
        barcodes = found["barcode"]
        endpoint = client.url.rstrip("/") + _wire.PATH
        return canonical_frame({
            "vendor": self.vendor, "tenant": urlsplit(client.url).hostname, "record_key": barcodes,
            "barcode": barcodes, "username": found["username"], "external_id": found["external_id"],
            "first_name": found["first_name"], "last_name": found["surname"], "email": found["email"],
            "role": found["role"], "class_grade": found["class_grade"], "room": found["room"],
            "link": endpoint + "?action=getpatron&keyfield=barcode&keyvalue=" + barcodes.fillna(""),
        }, len(found))

    def refusal(self, column: str, value: Any) -> str | None:
        """Why the kit would refuse to send ``value`` for ``column`` to FSI, or None."""
        if column not in self.writable:
            return "FSI has no field for this column"
        try:
            check_fields({self.writable[column]: value})
        except InputError as refused:
            return refused.rule
        return None

    def key_refusal(self, key: Any) -> str | None:
        if not isinstance(key, str) or not key.strip():
            return "must be the patron's barcode (non-empty)"
        return None


ADAPTER = FsiAdapter()
