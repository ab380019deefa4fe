"""Polaris in the workflows: patrons as the canonical frame (the audit side), by id or barcode.

Polaris's staff API has no patron search and no listing, so the caller says whom to read:
``patron_ids`` (``GET .../patrons/{id}``, one request a patron) or ``barcodes`` (``GET
.../ids/patrons?type=barcode`` first, two requests a patron), ``workers`` patrons at a time.

A staff user without "Patron Registration: Access" gets ``PrivateFieldsCleared``: Polaris then
blanks the username, phones, addresses, gender and custom fields. Those cells are missing in the
frame like any blank, but they were hidden, not empty: :attr:`PolarisAdapter.hidden` names the
canonical columns concerned, and a read that met hidden fields warns (with how many patrons), so
that no one reads them as missing. No audit check looks at those columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from .._pager import DEFAULT_WORKERS, check_workers
from ..errors import InputError
from ..workflows.canonical import canonical_frame
from ._validate import check_patron_id

__all__ = ["ADAPTER", "PolarisAdapter", "HiddenFieldsWarning"]


class HiddenFieldsWarning(UserWarning):
    """Polaris hid private fields from this staff user (PrivateFieldsCleared): blank is not missing."""


class PolarisAdapter:
    """How Polaris patrons become canonical rows (reading only; the bulk target comes with the bulk workflow)."""

    vendor = "polaris"
    #: (canonical column, Polaris field, note), in canonical order.
    mapping = (
        ("vendor", None, '"polaris"'),
        ("tenant", None, "the host of the client's URL"),
        ("record_key", "PatronID", "the id GET patrons/{id} takes"),
        ("barcode", "Barcode", ""),
        ("username", "Registration.Username", "hidden when PrivateFieldsCleared"),
        ("external_id", None, "Polaris has none in DtoPatron"),
        ("first_name", "Registration.NameFirst", ""),
        ("last_name", "Registration.NameLast", ""),
        ("preferred_name", None, "Polaris has none"),
        ("email", "Registration.EmailAddress", "not hidden by PrivateFieldsCleared"),
        ("phone", "Registration.PhoneVoice1", "hidden when PrivateFieldsCleared"),
        ("role", "PatronCodeID", "the patron code's id (the staff API does not name codes)"),
        ("active", None, "Polaris has no active flag; blocks are not read"),
        ("expires", "Registration.ExpirationDate", ""),
        ("branch", "OrganizationID", "the registering branch's organization id"),
        ("class_grade", None, "Polaris has none"),
        ("room", None, "Polaris has none"),
        ("birth_date", "Registration.Birthdate", ""),
        ("open_loans", None, "not in DtoPatron"),
        ("updated", "Registration.UpdateDate", ""),
        ("link", None, "the URL of GET patrons/{id}"),
    )
    #: canonical columns Polaris blanks for a staff user without "Patron Registration: Access"
    hidden = ("username", "phone")
    lost = ("Registration.NameMiddle, NameTitle, NameSuffix", "Registration.PhoneVoice2, PhoneVoice3, PhoneFAX",
            "Registration.AltEmailAddress", "Registration.Addresses (street, city, postal code, ZIP+4)",
            "Registration.Gender", "Registration.User1-5", "Registration.EntryDate, RegistrationDate, AddrCheckDate",
            "the notice and exclusion settings", "circulation counts and charges (YTDCircCount, ChargesAmount...)",
            "SystemBlocks and RecordStatusID",
            "which patrons had fields hidden (PrivateFieldsCleared): warned about, not kept per row")
    writable: dict[str, str] = {}  # the registration conversation is the bulk workflow's target

    def read(self, client: Any, *, patron_ids: Iterable[int] | None = None, barcodes: Iterable[str] | None = None,
             workers: int | None = None, **options: Any) -> pd.DataFrame:
        """The patrons named by ``patron_ids`` and/or ``barcodes`` (each patron once, ids first)."""
        ids = [check_patron_id(i) for i in (patron_ids or ())]
        codes = list(barcodes or ())
        if not all(isinstance(code, str) and code.strip() for code in codes):
            raise InputError("barcodes", "must be non-empty text")
        if not ids and not codes:
            raise InputError("patron_ids", "Polaris cannot list patrons: give patron_ids or barcodes, e.g. "
                                           "pk.patrons((polaris, {'patron_ids': [100001, 100002]}))")
        workers = check_workers(workers) if workers is not None else getattr(client, "workers", DEFAULT_WORKERS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="patron-kit-polaris") as pool:
            ids += list(pool.map(client.patron_id_for_barcode, codes))
            patrons = list(pool.map(client.get_patron, dict.fromkeys(ids)))
        hidden = sum(p.private_fields_cleared for p in patrons)
        if hidden:
            warnings.warn(f"Polaris hid private fields of {hidden} patrons from this staff user "
                          f"(PrivateFieldsCleared): {', '.join(self.hidden)} are missing because hidden",
                          HiddenFieldsWarning, stacklevel=3)
        registrations = [p.registration for p in patrons]
        endpoint = client.url.rstrip("/")
        return canonical_frame({
            "vendor": self.vendor, "tenant": urlsplit(client.url).hostname,
            "record_key": [str(p.patron_id) for p in patrons], "barcode": [p.barcode for p in patrons],
            "username": [r.username for r in registrations], "first_name": [r.name_first for r in registrations],
            "last_name": [r.name_last for r in registrations], "email": [r.email_address for r in registrations],
            "phone": [r.phone_voice1 for r in registrations],
            "role": [None if p.patron_code_id is None else str(p.patron_code_id) for p in patrons],
            "expires": [r.expiration_date for r in registrations],
            "branch": [None if p.organization_id is None else str(p.organization_id) for p in patrons],
            "birth_date": [r.birthdate for r in registrations], "updated": [r.update_date for r in registrations],
            "link": [endpoint + client._route.path(f"patrons/{p.patron_id}") for p in patrons],
        }, len(patrons))

    def refusal(self, column: str, value: Any) -> str | None:
        """Nothing is written to Polaris through the canonical frame yet."""
        return "Polaris is not a write target yet"

    def key_refusal(self, key: Any) -> str | None:
        try:
            check_patron_id(int(key) if isinstance(key, str) and key.isdigit() else key)
        except InputError as refused:
            return refused.rule
        return None


ADAPTER = PolarisAdapter()
