"""Deterministic synthetic Polaris system: organizations, patron codes, staff, patrons, defects.

The same size and seed always give the same system, so notebooks and tests can state exact
results. Patrons are kept in the shape ``GET .../patrons/{id}`` answers (DtoPatron with its
Registration and Addresses), plus the blocks the sandbox keeps beside them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs

SITE_DOMAIN = "polaris"
USER_DOMAIN = "SANDBOX"
SITE_TIMEZONE = "America/New_York"
LANGUAGES = ("eng", "spa", "fre")
PRODUCT_IDS = (19, 20, 24)

#: Organizations: (id, code id, name, abbreviation, parent). Code 1 system, 2 library, 3 branch.
ORGANIZATIONS: tuple[tuple[int, int, str, str, int | None], ...] = (
    (1, 1, "Sandbox Library System", "SYS", None),
    (2, 2, "Mohawk Valley Libraries", "MVL", 1),
    (3, 3, "Amsterdam Free Library", "AMS", 2),
    (4, 3, "Riverside Branch", "RIV", 2),
    (5, 3, "Hilltop Branch", "HIL", 2),
    (102, 2, "Lakes Library Cooperative", "LLC", 1),
    (103, 3, "Stillwater Public Library", "STI", 102),
)
BRANCHES = tuple(org[0] for org in ORGANIZATIONS if org[1] == 3)

#: Patron codes: id -> (description, registration charge).
PATRON_CODES: dict[int, tuple[str, float]] = {
    1: ("Adult", 0.0),
    2: ("Juvenile", 0.0),
    3: ("Senior", 0.0),
    4: ("Staff", 0.0),
    5: ("Non-resident", 25.0),
}
#: Patron account transaction codes a registration charge may be answered with.
TXN_CHARGE, TXN_PAY, TXN_WAIVE = 1, 2, 3
TRANSACTION_CODES = {TXN_CHARGE: "Charge", TXN_PAY: "Pay", TXN_WAIVE: "Waive"}
#: Payment methods: id -> description.
PAYMENT_METHODS = {1: "Cash", 2: "Credit card", 3: "Check", 11: "Smart card"}
#: Address types and labels.
ADDRESS_TYPES = {1: "Generic", 2: "Notices", 3: "Billing"}
ADDRESS_LABELS = {1: "Home", 2: "Work", 3: "Other"}
#: Block types the sandbox knows (peers' numbers): 3 verify patron data, 100 registration expired.
BLOCK_VERIFY_DATA, BLOCK_REGISTRATION_EXPIRED = 3, 100

#: Defects planted in every system, each on its own patrons (none overlap).
PLANTED: dict[str, int] = {
    "duplicate_name": 6,  # patrons whose first and last name another patron also has (3 pairs)
    "invalid_postal_code": 5,  # a postal code that is neither 12345 nor 12345-6789
    "address_empty": 4,  # no address at all
    "verify_data_block": 5,  # a "verify patron data" block (type 3)
    "expired_registration_block": 3,  # a "registration expired" block (type 100)
    "missing_first_name": 2,  # NameFirst empty, which the sandbox's SA requires
    "missing_email": 8,  # EmailAddress null (no rule needs it: an audit finding only)
}
MIN_PATRONS = 60
MAX_PATRONS = 2500  # one per first and last name pair
FIRST_PATRON_ID = 100001

FIRST_NAMES = ["James", "Mary", "Michael", "Patricia", "Robert", "Jennifer", "John", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Karen", "Daniel", "Emily", "Matthew", "Ashley", "Olivia", "Andrew", "Emma", "Carlos", "Maria", "Luis", "Sofia", "Wei", "Mei", "Priya", "Arjun", "Fatima", "Omar", "Minh", "Kwame", "Amara", "Noah", "Ava", "Liam", "Grace", "Ethan", "Chloe", "Diego", "Hannah", "Samuel", "Evelyn", "Geoff"]
SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Lopez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Kim", "Patel", "Chen", "Singh", "Okafor", "Mensah", "O'Connor", "Kowalski", "Novak", "Abrahamsen", "Schmidt", "Cohen"]
STREETS = ["Main Ave", "Willow Avenue", "Division St", "Church St", "Market St", "Guy Park Ave", "Locust Ave", "Brookside Dr", "Forest Ave", "Florida Ave", "Lake Rd", "Yellow Wood Pkwy", "Academy St", "Union St", "Liberty St"]
PLACES = [("AMSTERDAM", "NY", "12010", "Montgomery"), ("SCHENECTADY", "NY", "12303", "Schenectady"),
          ("JAMESVILLE", "NY", "13078", "Onondaga"), ("SYRACUSE", "NY", "13210", "Onondaga"),
          ("STILLWATER", "NY", "12170", "Saratoga"), ("GLOVERSVILLE", "NY", "12078", "Fulton"),
          ("JOHNSTOWN", "NY", "12095", "Fulton"), ("FONDA", "NY", "12068", "Montgomery")]
BAD_POSTAL_CODES = ["1201", "ABCDE", "120100", "12-010", "1230 3"]
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


@attrs.frozen
class StaffUser:
    """A staff account of the sandbox; ``registration_access`` decides PrivateFieldsCleared."""

    user_id: int
    username: str
    password: str
    name: str
    branch_id: int
    registration_access: bool


STAFF: tuple[StaffUser, ...] = (
    StaffUser(1, "staff_admin", "sandbox-polaris-password", "Sandbox Administrator", 3, True),
    StaffUser(2, "staff_clerk", "sandbox-clerk-password", "Circulation Clerk", 4, False),
)


@attrs.define
class System:
    """Everything the emulator stores."""

    patrons: dict[int, dict[str, Any]]
    blocks: dict[int, list[int]]
    examples: dict[str, int]


def wire_datetime(moment: datetime | None) -> str | None:
    """Polaris's UTC instants as the document shows them: ``2016-05-17T08:00:00Z``."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def organization(org_id: int) -> tuple[int, int, str, str, int | None] | None:
    return next((org for org in ORGANIZATIONS if org[0] == org_id), None)


def generate(count: int, *, seed: int, today: date) -> System:
    """A system of ``count`` patrons, defects included."""
    if not MIN_PATRONS <= count <= MAX_PATRONS:
        raise ValueError(f"the Polaris sandbox holds {MIN_PATRONS} to {MAX_PATRONS} patrons")
    rng = random.Random(seed)
    # Every name once, so that the only duplicate patrons are the planted ones.
    names = rng.sample([(first, last) for first in FIRST_NAMES for last in SURNAMES], count)
    patrons = {FIRST_PATRON_ID + n: _patron(FIRST_PATRON_ID + n, name, rng, today) for n, name in enumerate(names)}
    blocks: dict[int, list[int]] = {}
    examples = _plant(list(patrons.values()), blocks, rng)
    return System(patrons=patrons, blocks=blocks, examples=examples)


def _patron(patron_id: int, name: tuple[str, str], rng: random.Random, today: date) -> dict[str, Any]:
    first, last = name
    city, state, postal, county = rng.choice(PLACES)
    created = datetime.combine(today - timedelta(days=rng.randint(30, 3000)), datetime.min.time(), timezone.utc)
    created += timedelta(hours=rng.randint(13, 22), minutes=rng.randint(0, 59))
    code = rng.choices(list(PATRON_CODES)[:4], weights=(70, 15, 12, 3))[0]
    lifetime = rng.randint(0, 400)
    address: dict[str, Any] = {
        "PatronID": patron_id, "AddressID": patron_id * 10 + 1, "AddressTypeID": 1,
        "AddressTypeDescription": ADDRESS_TYPES[1], "AddressLabelID": 1, "AddressLabelDescription": "Home",
        "Verified": rng.random() < 0.6, "VerificationDate": None, "PolarisUserID": 1,
        "StreetOne": f"{rng.randint(1, 999)} {rng.choice(STREETS)}", "StreetTwo": "", "StreetThree": "",
        "MunicipalityName": None, "PostalCode": postal,
        "ZipPlusFour": f"{rng.randint(0, 9999):04d}" if rng.random() < 0.3 else "",
        "City": city, "State": state, "CountryName": "USA", "County": county,
    }
    registration: dict[str, Any] = {
        "PatronID": patron_id, "LanguageID": 1, "NameFirst": first, "NameLast": last,
        "NameMiddle": rng.choice(["", "", "A", "J", "M"]), "NameTitle": "", "NameSuffix": "",
        "PhoneVoice1": f"518-555-{rng.randint(0, 9999):04d}", "PhoneVoice2": "", "PhoneVoice3": "",
        "EmailAddress": f"{first}.{last}{patron_id}@{rng.choice(EMAIL_DOMAINS)}".lower().replace("'", ""),
        "Password": f"{rng.randint(0, 9999):04d}",
        "EntryDate": wire_datetime(created), "ExpirationDate": wire_datetime(created + timedelta(days=3 * 365)),
        "AddrCheckDate": wire_datetime(created + timedelta(days=365)), "UpdateDate": wire_datetime(created),
        "User1": "", "User2": "", "User3": "", "User4": "", "User5": "",
        "Gender": rng.choice([1, 2, None]),
        "Birthdate": wire_datetime(datetime(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28),
                                            tzinfo=timezone.utc)),
        "RegistrationDate": wire_datetime(created), "FormerID": "", "ReadingListEnabled": False, "PhoneFAX": "",
        "AltEmailAddress": None, "SDIEmailAddress": None, "SDIPositiveAssent": None, "ExcludeFromOverdues": False,
        "SDIEmailFormatID": None, "CollectionExempt": False, "SDIPositiveAssentDate": None, "DeliveryOptionID": 2,
        "DeletionExempt": False, "ExcludeFromHolds": False, "ExcludeFromBills": False, "EmailFormatID": 1,
        "PatronFirstLastName": f"{first} {last}", "PatronFullName": f"{last}, {first}",
        "StatisticalClassID": None, "Username": None, "MergeDate": None, "MergeUserID": None,
        "MergeBarcode": None, "EnableSMS": False, "Phone1CarrierID": None, "Phone2CarrierID": None,
        "Phone3CarrierID": None, "eReceiptOptionID": None, "TxtPhoneNumber": None,
        "ExcludeFromAlmostOverdueAutoRenew": False, "ExcludeFromPatronRecExpiration": False,
        "ExcludeFromInactivePatron": False, "StaffAcceptedUseSingleName": False,
        "Addresses": [address],
    }
    return {
        "PatronID": patron_id, "PatronCodeID": code, "OrganizationID": rng.choice(BRANCHES), "CreatorID": 1,
        "ModifierID": 1, "Barcode": f"21756{patron_id:09d}", "SystemBlocks": 0, "YTDCircCount": lifetime % 40,
        "LifetimeCircCount": lifetime, "LastActivityDate": wire_datetime(created + timedelta(days=20)),
        "ClaimCount": 0, "LostItemCount": 0, "ChargesAmount": 0.0, "CreditsAmount": 0.0,
        "RecordStatusID": 1, "RecordStatusDate": wire_datetime(created), "Registration": registration,
    }


def _plant(patrons: list[dict[str, Any]], blocks: dict[int, list[int]], rng: random.Random) -> dict[str, int]:
    """Plant :data:`PLANTED` on distinct patrons; the first ten are left clean for examples."""
    chosen = rng.sample(patrons[10:], sum(PLANTED.values()))
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, count in PLANTED.items():
        groups[name], chosen = chosen[:count], chosen[count:]
    for original, twin in zip(groups["duplicate_name"][::2], groups["duplicate_name"][1::2], strict=True):
        for field in ("NameFirst", "NameLast", "PatronFirstLastName", "PatronFullName"):
            twin["Registration"][field] = original["Registration"][field]
    for patron, bad in zip(groups["invalid_postal_code"], BAD_POSTAL_CODES, strict=False):
        patron["Registration"]["Addresses"][0]["PostalCode"] = bad
    for patron in groups["address_empty"]:
        patron["Registration"]["Addresses"] = []
    for name, block in (("verify_data_block", BLOCK_VERIFY_DATA), ("expired_registration_block",
                                                                   BLOCK_REGISTRATION_EXPIRED)):
        for patron in groups[name]:
            blocks[patron["PatronID"]] = [block]
            patron["SystemBlocks"] = 1
    for patron in groups["missing_first_name"]:
        patron["Registration"].update(NameFirst="", PatronFirstLastName=patron["Registration"]["NameLast"])
    for patron in groups["missing_email"]:
        patron["Registration"]["EmailAddress"] = None
    examples = {name: group[0]["PatronID"] for name, group in groups.items()}
    examples["clean"] = patrons[0]["PatronID"]
    examples["clean_other"] = patrons[1]["PatronID"]
    return examples
