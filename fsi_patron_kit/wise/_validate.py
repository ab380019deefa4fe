"""The document's input rules, checked before anything is sent.

Every rule a request breaks is found, not only the first: :class:`InputProblems` is an
:class:`~fsi_patron_kit.errors.InputError` naming the first field and rule, with all of them in
``problems``. Values are never put in a message: they may be a patron's personal data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .._checks import EMAIL, check_email, check_text
from ..config import Secret
from ..errors import InputError
from .models import Applicant

GENDERS = ("FEMALE", "MALE")
SEARCH_TYPES = ("EMAIL", "EID")
ADDRESS_TYPES = ("H",)
IDENTIFICATION_TYPES = ("EID",)
#: SUCCESS is the document's; the others are the sandbox's reading of "see the Swagger".
PAYMENT_STATUSES = ("SUCCESS", "CANCELLED", "FAILED")
MAX_PAGE_SIZE = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATH_SAFE = re.compile(r"^[^/\s?#]+$")

#: The document's mandatory subscription fields, by the applicant attribute that holds each.
DOCUMENT_REQUIRED = {
    "street": "STREET", "city": "CITY", "last_name": "LAST_NAME", "date_of_birth": "DATE_OF_BIRTH",
    "house_number": "HOUSE_NUMBER", "home_branch": "HOME_BRANCH", "username": "USERNAME", "password": "PASSWORD",
    "zip_code": "ZIPCODE", "gender": "GENDER", "email_address": "EMAIL_ADDRESS",
}
#: The required-fields answer's ids, by the applicant attribute each describes.
FIELD_IDS = {
    "PVL": "initials", "PVN": "first_name", "PAN": "last_name", "PGD": "date_of_birth", "PGS": "gender",
    "PST": "street", "PHN": "house_number", "PTV": "addition", "PPC": "zip_code", "PWP": "city",
    "PTL": "phone_number", "PVS": "home_branch", "PML": "email_address", "PGN": "username", "PWW": "password",
    "PID": "identification_number",
}
#: The ``format`` values of the required-fields answer the kit understands.
FORMATS = {"email": EMAIL, "9999 AA": re.compile(r"^\d{4} ?[A-Z]{2}$"), "yyyy-MM-dd": _DATE}


class InputProblems(InputError):
    """Several input rules broken at once; ``problems`` holds every (field, rule)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        field, rule = self.problems[0]
        super().__init__(field, rule)
        if len(self.problems) > 1:
            self.args = ("; ".join(f"{f}: {r}" for f, r in self.problems),)


def raise_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise InputProblems(problems)


def text(name: str, value: Any) -> str:
    """Non-blank, without control characters (the kit's rule for all text)."""
    return check_text(name, value)


def path_part(name: str, value: Any) -> str:
    """An id that goes into a URL path: non-empty, without slashes, spaces, ? or #, not . or ..
    (matched in full: a trailing newline does not slip through)."""
    if not isinstance(value, str) or not _PATH_SAFE.fullmatch(value) or check_text(name, value) in (".", ".."):
        raise InputError(name, "must be a non-empty id without slashes, spaces, ? or #, and not . or ..")
    return value


def day(name: str, value: Any) -> str:
    """A date as Wise writes them: ``YYYY-MM-DD`` (a :class:`datetime.date` or that text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.match(value):
        try:
            date.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise InputError(name, "must be a date written YYYY-MM-DD")


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(name, f"must be one of {', '.join(allowed)}")
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(name, "must be True or False")
    return value


def email(name: str, value: Any) -> str:
    return check_email(name, value)


def page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InputError("page_size", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return value


def applicant(person: Any, *, today: date) -> Applicant:
    """The document's rules for a subscription body (every problem at once)."""
    if not isinstance(person, Applicant):
        raise InputError("applicant", "must be a wise.Applicant")
    problems: list[tuple[str, str]] = []
    for attribute, name in DOCUMENT_REQUIRED.items():
        if _blank(getattr(person, attribute)):
            problems.append((attribute, f"is required ({name})"))
    if not _blank(person.gender) and person.gender not in GENDERS:
        problems.append(("gender", "must be FEMALE or MALE (only natural persons can subscribe)"))
    if not _blank(person.date_of_birth):
        try:
            born = date.fromisoformat(day("date_of_birth", person.date_of_birth))
            if born > today:
                problems.append(("date_of_birth", "must not lie in the future"))
        except InputError as broken:
            problems.append((broken.field, broken.rule))
    if not _blank(person.email_address) and not EMAIL.match(person.email_address):
        problems.append(("email_address", "must be a valid email address"))
    if person.address_type not in ADDRESS_TYPES:
        problems.append(("address_type", "must be H (the main address)"))
    if person.identification_type not in IDENTIFICATION_TYPES:
        problems.append(("identification_type", "must be EID"))
    if person.accepted_terms_and_agreement is not True:
        problems.append(("accepted_terms_and_agreement", "must be True: Wise refuses a subscription without it"))
    raise_if(problems)
    return person


def library_rules(person: Applicant, fields: Iterable[Mapping[str, Any]], library_id: str) -> None:
    """The library's own required-fields answer: required fields, types and formats."""
    problems: list[tuple[str, str]] = []
    for field in fields:
        attribute = FIELD_IDS.get(str(field.get("id")))
        if attribute is None:
            continue
        value = getattr(person, attribute)
        value = value.reveal() if isinstance(value, Secret) else value
        value = value.isoformat() if isinstance(value, date) else value
        label = field.get("label") or attribute
        if _blank(value):
            if field.get("required"):
                problems.append((attribute, f"is required by library {library_id} ({label})"))
            continue
        if field.get("type") == "N" and not str(value).isdigit():
            problems.append((attribute, f"must be digits only for library {library_id} ({label})"))
        if field.get("type") == "D" and not _DATE.match(str(value)):
            problems.append((attribute, f"must be a date written YYYY-MM-DD for library {library_id}"))
        rule = FORMATS.get(str(field.get("format") or ""))
        if rule is not None and not rule.match(str(value)):
            problems.append((attribute, f"must have the format {field['format']!r} for library {library_id}"))
    raise_if(problems)


def _blank(value: Any) -> bool:
    if isinstance(value, Secret):
        value = value.reveal()
    return value is None or (isinstance(value, str) and not value.strip())
