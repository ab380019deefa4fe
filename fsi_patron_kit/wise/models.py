"""Wise records as attrs models, the frames lists show as, and what callers send.

Wise speaks camelCase JSON; the models use snake_case. One cattrs converter, built once here,
maps the two by rule (``membership_expiry_date`` <-> ``membershipExpiryDate``) with the few
exceptions Wise spells its own way (``requiresCAPTCHA``, ``patronSystemIDs``). Dates
(``YYYY-MM-DD``) become :class:`datetime.date`, and Wise's empty string for "no date" becomes
None. Each answer keeps the wire record in ``raw`` (tokens removed); personal data stays out of
reprs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs
import pandas as pd

from .._display import card
from .._frames import BOOL, DATETIME, INT, Column, FrameSpec
from .._models import WireModels, private, raw_field
from ..config import Secret

__all__ = [
    "Address", "LibraryCard", "Patron", "CardValidation", "PatronLogin", "Blocks", "Applicant",
    "ExternalCustomer", "StoredCustomer", "RegistrationStep", "Registration", "BLOCK_FLAGS",
]

_models = WireModels(raw_filter=lambda data: {k: v for k, v in data.items() if k != "token"})
_converter = _models.converter


def _to_date(value: Any, _: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


_converter.register_structure_hook(date | None, _to_date)
_converter.register_structure_hook(date, _to_date)
_converter.register_unstructure_hook(date, lambda value: value.isoformat())
_converter.register_structure_hook(int | None, lambda value, _: None if value in (None, "") else int(value))


_Wire = _models.Wire
model = _models.model


# -- patrons ------------------------------------------------------------------------------------
@model
class Address(_Wire):
    street: str | None = private()
    house_number: str | None = private()
    addition: str | None = private()
    zip_code: str | None = private()
    city: str | None = private()
    region: str | None = None
    country: str | None = None
    type: str | None = "H"
    type_label: str | None = None


@model
class LibraryCard(_Wire):
    card_number: str
    type: str | None = None
    main_card: bool | None = None


@model
class Patron(_Wire):
    """A patron as patron information and the subscribe endpoints answer, for one library."""

    patron_system_id: str
    patron_id: int | None = None
    initials: str | None = private()
    first_name: str | None = private()
    prefix: str | None = private()
    last_name: str | None = private()
    middle_name: str | None = private()
    display_name: str | None = private()
    date_of_birth: date | None = private()
    gender: str | None = private()
    addresses: list[Address] = attrs.field(factory=list, repr=False)
    phone_number: str | None = private()
    sms_number: str | None = private()
    email_address: str | None = private()
    username: str | None = private()
    language: str | None = None
    home_branch: str | None = None
    home_branch_name: str | None = None
    library_cards: list[LibraryCard] = attrs.field(factory=list)
    membership_expiration_date: date | None = None
    membership_description: str | None = None
    subscription_id: int | None = None
    subscription_status: str | None = None
    payment_id: str | None = None
    customer_tag: str | None = None
    registration_date: str | None = None
    raw: Mapping[str, Any] = raw_field()

    def _repr_html_(self) -> str:
        cards = ", ".join(c.card_number for c in self.library_cards)
        rows = [("patronSystemId", self.patron_system_id), ("patronId", self.patron_id),
                ("name", self.display_name), ("cards", cards), ("home branch", self.home_branch_name),
                ("membership", self.membership_description),
                ("expires", self.membership_expiration_date), ("status", self.subscription_status),
                ("customer tag", self.customer_tag)]
        return card("Wise patron", rows)


@model
class CardValidation(_Wire):
    """Whether a card's holder has an active subscription in the library (no patronSystemId)."""

    card_number: str
    library_id: str
    valid: bool
    membership_expiry_date: date | None = None
    raw: Mapping[str, Any] = raw_field()


_converter.register_structure_hook(Secret, lambda value, _: Secret(value, pin=False))


@model
class PatronLogin(_Wire):
    """A patron's login: who (patronSystemId), where, until when, and the token (never shown).

    Pass it to ``patron_information`` or ``resubscribe``; the token works until the end of the
    server's day.
    """

    library_id: str
    patron_system_id: str
    token: Secret = attrs.field(repr=False)
    membership_expiry_date: date | None = None
    username: str | None = private()
    raw: Mapping[str, Any] = raw_field()


BLOCK_FLAGS = ("address_block", "general_block", "online_block", "customer_at_terminal_block",
               "web_portal_self_service_block", "collection_agency_block", "patron_card_block")


@model
class Blocks(_Wire):
    """The blocks on a patron in one library; ``to_wire()`` is the whole blocking DTO."""

    address_block: bool = False
    general_block: bool = False
    online_block: bool = False
    customer_at_terminal_block: bool = False
    web_portal_self_service_block: bool = False
    collection_agency_block: bool = False
    patron_card_block: bool = False
    block_message: str = ""
    block_details: str = ""
    raw: Mapping[str, Any] = raw_field()

    @property
    def active(self) -> tuple[str, ...]:
        """The names of the blocks that are set."""
        return tuple(flag for flag in BLOCK_FLAGS if getattr(self, flag))

    def to_wire(self) -> dict[str, Any]:
        return {"id": "", "validationErrors": [], **_converter.unstructure(self)}


# -- what callers send ----------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Applicant:
    """A person to subscribe (or re-subscribe): the document's subscription body, flattened.

    The address is the main address (type ``H``); ``identification_number`` is an EID.
    """

    last_name: str = attrs.field(repr=False)
    date_of_birth: date | str = attrs.field(repr=False)
    gender: str = attrs.field(repr=False)
    street: str = attrs.field(repr=False)
    house_number: str = attrs.field(repr=False)
    zip_code: str = attrs.field(repr=False)
    city: str = attrs.field(repr=False)
    email_address: str = attrs.field(repr=False)
    home_branch: str
    username: str = attrs.field(repr=False)
    password: Secret | str = attrs.field(repr=False, converter=lambda v: Secret.of(v, field="password")
                                         if isinstance(v, str) and v.strip() else v)
    initials: str = attrs.field(default="", repr=False)
    first_name: str = attrs.field(default="", repr=False)
    addition: str = attrs.field(default="", repr=False)
    region: str = ""
    country: str = "Nederland"
    address_type: str = "H"
    phone_number: str = attrs.field(default="", repr=False)
    sms_number: str = attrs.field(default="", repr=False)
    identification_number: str = attrs.field(default="", repr=False)
    identification_type: str = "EID"
    preferred_language: str = ""
    accepted_terms_and_agreement: bool = True

    def to_wire(self, *, subscription_id: int, patron_system_id: str | None = None) -> dict[str, Any]:
        """The document's body: ``futureSubscriptionId`` for a new patron, ``subscriptionId`` and
        ``patronSystemId`` to re-subscribe (the document names the two differently)."""
        born = self.date_of_birth.isoformat() if isinstance(self.date_of_birth, date) else self.date_of_birth
        body: dict[str, Any] = {
            "initials": self.initials, "firstName": self.first_name, "lastName": self.last_name, "dateOfBirth": born,
            "addresses": [{"street": self.street, "houseNumber": self.house_number, "addition": self.addition,
                           "zipCode": self.zip_code, "city": self.city, "region": self.region,
                           "country": self.country, "type": self.address_type, "typeLabel": "", "method": ""}],
            "phoneNumber": self.phone_number, "emailAddress": self.email_address, "homeBranch": self.home_branch,
            "identificationNumber": {"identificationType": self.identification_type,
                                     "identificationNumber": self.identification_number},
            "preferredLanguage": self.preferred_language, "patronSystemId": patron_system_id or "",
            "password": self.password.reveal() if isinstance(self.password, Secret) else self.password,
            "username": self.username, "gender": self.gender, "smsNumber": self.sms_number,
            "acceptedTermsAndAgreement": "true" if self.accepted_terms_and_agreement else "false",
        }
        body["subscriptionId" if patron_system_id else "futureSubscriptionId"] = subscription_id
        return body


@attrs.frozen(kw_only=True)
class ExternalCustomer:
    """A customer of an external application (a ticketing system, say), stored with role XTRN."""

    last_name: str = attrs.field(repr=False)
    email_address: str = attrs.field(repr=False)
    initials: str = attrs.field(default="", repr=False)
    first_name: str = attrs.field(default="", repr=False)
    prefix: str = attrs.field(default="", repr=False)
    date_of_birth: date | str | None = attrs.field(default=None, repr=False)
    gender: str | None = attrs.field(default=None, repr=False)
    phone_number: str = attrs.field(default="", repr=False)
    street: str = attrs.field(default="", repr=False)
    house_number: str = attrs.field(default="", repr=False)
    zip_code: str = attrs.field(default="", repr=False)
    city: str = attrs.field(default="", repr=False)

    def to_wire(self) -> dict[str, Any]:
        born = self.date_of_birth.isoformat() if isinstance(self.date_of_birth, date) else self.date_of_birth
        body: dict[str, Any] = {"initials": self.initials, "firstName": self.first_name, "prefix": self.prefix,
                                "lastName": self.last_name, "emailAddress": self.email_address,
                                "phoneNumber": self.phone_number}
        if born:
            body["dateOfBirth"] = born
        if self.gender:
            body["gender"] = self.gender
        if self.street or self.city:
            body["addresses"] = [{"street": self.street, "houseNumber": self.house_number, "zipCode": self.zip_code,
                                  "city": self.city, "type": "H"}]
        return body


@attrs.frozen(kw_only=True)
class StoredCustomer:
    """What storing an external customer did: a new XTRN record, or XTRN added to a patron."""

    created: bool
    existing: tuple[str, ...]
    patron: Patron


# -- registration -------------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class RegistrationStep:
    step: str
    request: str
    outcome: str


STEP_FRAME = FrameSpec((Column("step"), Column("request"), Column("outcome")))


@attrs.frozen(kw_only=True)
class Registration:
    """The outcome of :meth:`Client.register`, with every step in ``transcript``."""

    library_id: str
    method: str  # "POST" (a new patron) or "PUT" (re-subscription)
    subscription_id: int
    subscription_status: str | None
    payment_id: str | None
    paid: bool | None  # None: nothing to pay (invoiced); False: left in the basket
    patron: Patron
    transcript: tuple[RegistrationStep, ...]

    @property
    def patron_system_id(self) -> str:
        return self.patron.patron_system_id

    def transcript_frame(self) -> pd.DataFrame:
        return STEP_FRAME.build([attrs.asdict(step) for step in self.transcript])

    def _repr_html_(self) -> str:
        rows = [("library", self.library_id), ("method", self.method), ("patronSystemId", self.patron_system_id),
                ("subscription", self.subscription_id), ("status", self.subscription_status), ("paid", self.paid)]
        steps = "\n".join(f"{s.step}: {s.request} -> {s.outcome}" for s in self.transcript)
        return card("Wise registration", rows, details={"transcript": steps})


# -- frames --------------------------------------------------------------------------------------------
CARD_FRAME = FrameSpec((
    Column("patron_system_id", wire="patronSystemId"), Column("patron_id", INT, wire="patronId"),
    Column("card_number", wire="cardNumber"), Column("library_id", wire="libraryId"),
    Column("membership_expiry_date", DATETIME, wire="membershipExpiryDate"),
))
FIELD_FRAME = FrameSpec((
    Column("id"), Column("label"), Column("type"), Column("required", BOOL), Column("desired", BOOL),
    Column("visible", BOOL), Column("format"), Column("group"), Column("group_label", wire="groupLabel"),
    Column("order"), Column("description"),
))
OFFER_FRAME = FrameSpec((
    Column("subscription_id", INT, wire="subscriptionId"),
    Column("subscription_description", wire="subscriptionDescription"), Column("cost"),
    Column("subscription_cost", INT, wire="subscriptionCost"), Column("subscription_type", wire="subscriptionType"),
    Column("subscription_length", INT, wire="subscriptionLength"), Column("internet_fee", INT, wire="internetFee"),
    Column("additional_information", wire="additionalInformation"),
    Column("requires_captcha", BOOL, wire="requiresCAPTCHA"), Column("renewal_type", wire="renewalType"),
))
DUPLICATE_FRAME = FrameSpec((
    Column("patron_system_id", wire="patronSystemId"), Column("library_id", wire="libraryId"),
    Column("subscription_end_date", DATETIME, wire="subscriptionEndDate"), Column("status"),
))
ID_FRAME = FrameSpec((Column("patron_system_id"),))
