"""OCLC Wise in the workflows: its patrons as the canonical frame (the audit side).

Wise has no call that lists a system's patrons with their details, so the frame is put
together from three of the client's calls:

* ``lookup_cards`` (``GET /library/{id}/patron``, every page, no search; ACTOREN Read): who the
  patrons of each library are, with their card number. A patron who is a member of several of
  the libraries read is one row, read in the library where their membership runs longest
  (any library they were found in if every membership has ended);
* ``patron_information`` by proxy (``POST .../proxyauthentication`` then ``GET
  .../patroninformation``; PROXY_AUTH): names, email, phone, username, date of birth, home
  branch, the subscription and its expiry in that library;
* ``blocks`` (``GET .../property/blocking``; ACTOREN Read): ``active`` is "no general block and
  no patron-card block" in that library, Wise's way of stopping a patron from borrowing.

That is three requests a patron, run ``workers`` patrons at a time, plus one lookup page per
100 patrons of each library. A staff user without PROXY_AUTH cannot read patron information
(Wise answers 403 ``Access is denied``), so such a tenant's audit is not possible through this
adapter: ask Wise's support to add PROXY_AUTH to the API user. Reading changes nothing; a proxy
login only issues a patron token.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from .._pager import DEFAULT_WORKERS, check_workers
from ..errors import InputError
from ..workflows.canonical import canonical_frame

__all__ = ["ADAPTER", "WiseAdapter"]

PAGE_SIZE = 100  # the largest page Wise's card lookup serves
END_OF_DAY = time(23, 59, 59)


class WiseAdapter:
    """How Wise patrons become canonical rows (reading only; bulk targets come with the bulk workflow)."""

    vendor = "wise"
    #: (canonical column, Wise field, note), in canonical order.
    mapping = (
        ("vendor", None, '"wise"'),
        ("tenant", None, "the host of the client's URL (one Wise system, all its libraries)"),
        ("record_key", "patronSystemId", "lookup_cards; the id every patron call takes"),
        ("barcode", "cardNumber", "lookup_cards: the card found in the library read"),
        ("username", "username", "patron_information"),
        ("external_id", None, "patron information has no external id"),
        ("first_name", "firstName", "patron_information"),
        ("last_name", "lastName", "patron_information, with its prefix in front (\"van der Meer\")"),
        ("preferred_name", None, "Wise has none"),
        ("email", "emailAddress", "patron_information"),
        ("phone", "phoneNumber", "patron_information, else smsNumber"),
        ("role", "membershipDescription", "patron_information: the subscription in the library read"),
        ("active", "generalBlock", "blocks: false when a general or patron-card block is set"),
        ("expires", "membershipExpirationDate", "patron_information: the end of that day on the server's clock"),
        ("branch", "homeBranch", "patron_information: the home branch's id"),
        ("class_grade", None, "Wise has none"),
        ("room", None, "Wise has none"),
        ("birth_date", "dateOfBirth", "patron_information"),
        ("open_loans", None, "not in the patron-management API"),
        ("updated", None, "patron information has no update time (updated_patrons lists ids since a day)"),
        ("link", None, "the patron-information URL in the library read"),
    )
    lost = ("initials", "middleName", "displayName", "gender", "addresses (street, house number, zip code, city)",
            "language", "libraryCards other than the one found", "memberships in the other libraries read",
            "subscriptionId and subscriptionStatus", "customerTag", "registrationDate", "homeBranchName",
            "the other blocks (address, online, terminal, web portal, collection agency) and their message")
    writable: dict[str, str] = {}  # blocks and details are written by the bulk workflow's targets

    def read(self, client: Any, *, library_ids: Iterable[str] | None = None, workers: int | None = None,
             **options: Any) -> pd.DataFrame:
        """Every patron of the libraries ``library_ids`` (Wise cannot list a system's libraries)."""
        libraries = _library_ids(library_ids)
        workers = check_workers(workers) if workers is not None else getattr(client, "workers", DEFAULT_WORKERS)
        cards = pd.concat([client.lookup_cards(library_id=library, page_size=PAGE_SIZE) for library in libraries],
                          ignore_index=True)
        chosen = _one_row_per_patron(cards)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="patron-kit-wise") as pool:
            read = list(pool.map(lambda row: _patron_and_blocks(client, *row),
                                 zip(chosen["patron_system_id"], chosen["library_id"], strict=True)))
        patrons = [patron for patron, _ in read]
        blocks = [found for _, found in read]
        zone = client.server_timezone
        ids, libraries_read = chosen["patron_system_id"], chosen["library_id"]
        return canonical_frame({
            "vendor": self.vendor, "tenant": urlsplit(client.url).hostname, "record_key": ids,
            "barcode": chosen["card_number"], "username": [p.username for p in patrons],
            "first_name": [p.first_name for p in patrons],
            "last_name": [" ".join(part for part in (p.prefix, p.last_name) if part) for p in patrons],
            "email": [p.email_address for p in patrons],
            "phone": [p.phone_number or p.sms_number for p in patrons],
            "role": [p.membership_description for p in patrons],
            "active": [not (b.general_block or b.patron_card_block) for b in blocks],
            "expires": [_end_of_day(p.membership_expiration_date, zone) for p in patrons],
            "branch": [p.home_branch for p in patrons],
            "birth_date": [_iso(p.date_of_birth) for p in patrons],
            "link": [f"{client.url.rstrip('/')}/patron/{quote(i, safe='')}/library/{quote(lib, safe='')}"
                     "/patroninformation" for i, lib in zip(ids, libraries_read, strict=True)],
        }, len(chosen))

    def refusal(self, column: str, value: Any) -> str | None:
        """Nothing is written to Wise through the canonical frame yet."""
        return "Wise is not a write target yet"

    def key_refusal(self, key: Any) -> str | None:
        if not isinstance(key, str) or not key.strip():
            return "must be the patron's patronSystemId (non-empty)"
        return None


def _library_ids(given: Iterable[str] | None) -> list[str]:
    if given is None or isinstance(given, str):
        raise InputError("library_ids", "give the Wise library ids to read, e.g. "
                                        "pk.patrons((wise, {'library_ids': ['I018', 'I304']}))")
    libraries = list(dict.fromkeys(given))
    if not libraries or not all(isinstance(i, str) and i.strip() for i in libraries):
        raise InputError("library_ids", "must be one or more library ids (non-empty text)")
    return libraries


def _one_row_per_patron(cards: pd.DataFrame) -> pd.DataFrame:
    """Each patron once, in the library where their membership runs longest (lookup order on ties)."""
    ordered = cards.assign(_found=range(len(cards))).sort_values(
        ["membership_expiry_date", "_found"], ascending=[False, True], na_position="last", kind="stable")
    first = ordered.drop_duplicates("patron_system_id").sort_values("_found")
    return first.drop(columns="_found").reset_index(drop=True)


def _patron_and_blocks(client: Any, patron_system_id: str, library_id: str) -> tuple[Any, Any]:
    patron = client.patron_information(patron_system_id=patron_system_id, library_id=library_id)
    return patron, client.blocks(patron_system_id=patron_system_id, library_id=library_id)


def _end_of_day(day: date | None, zone: Any) -> datetime | None:
    """A membership runs through its last day: it ends at 23:59:59 on the server's clock."""
    return None if day is None else datetime.combine(day, END_OF_DAY, tzinfo=zone)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


ADAPTER = WiseAdapter()
