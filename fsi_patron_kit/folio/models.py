"""FOLIO records as attrs models, and the frames that loans, holds and charges show as.

FOLIO speaks camelCase JSON; the models use snake_case. One cattrs converter, built once here,
maps the two for every model by rule (``address_line0`` <-> ``addressLine0``). Date-times stay
the strings FOLIO sent, so a record read and written back is unchanged; frames parse them.
Each top-level model keeps the wire record in ``raw`` and puts back, on ``to_wire()``, any
property it does not model, so nothing is lost on a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import pandas as pd

from .._display import card
from .._frames import BOOL, DATETIME, FLOAT, INT, Column, FrameSpec, flatten
from .._models import WireModels, private, raw_field

__all__ = [
    "Money", "Item", "Loan", "Hold", "Charge", "Account", "ServicePoint",
    "GeneralInfo", "AddressInfo", "ContactInfo", "Metadata", "StagingUser",
    "ExternalPatron", "ExternalPatronCollection", "Address", "Personal", "User",
    "ErrorParameter", "Error", "Errors", "EdgeError",
]

_models = WireModels(keep_extras=True, omit_defaults=True)
_models.converter.register_structure_hook(int | str, lambda value, _: value)  # the edge error's code
_converter = _models.converter
_Wire = _models.Wire
model = _models.model


# -- account: money, items, loans, holds, charges --------------------------------------------
@model
class Money(_Wire):
    amount: float
    iso_currency_code: str


@model
class Item(_Wire):
    instance_id: str
    item_id: str | None = None
    title: str | None = None
    author: str | None = None
    isbn: str | None = None


@model
class Loan(_Wire):
    item: Item
    loan_date: str
    due_date: str
    overdue: bool
    id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@model
class Hold(_Wire):
    request_date: str
    pickup_location_id: str
    request_id: str | None = None
    item: Item | None = None
    expiration_date: str | None = None
    status: str | None = None
    queue_position: int | None = None
    cancellation_reason_id: str | None = None
    canceled_by_user_id: str | None = None
    cancellation_additional_information: str | None = None
    canceled_date: str | None = None
    patron_comments: str | None = None
    raw: Mapping[str, Any] = raw_field()


@model
class Charge(_Wire):
    item: Item | None = None
    charge_amount: Money | None = None
    accrual_date: str | None = None
    description: str | None = None
    state: str | None = None
    reason: str | None = None
    fee_fine_id: str | None = None


LOAN_FRAME = FrameSpec((
    Column("loan_id", wire="id"), Column("instance_id", wire="item.instanceId"),
    Column("item_id", wire="item.itemId"), Column("title", wire="item.title"),
    Column("author", wire="item.author"), Column("isbn", wire="item.isbn"),
    Column("loan_date", DATETIME, wire="loanDate"), Column("due_date", DATETIME, wire="dueDate"),
    Column("overdue", BOOL),
))
HOLD_FRAME = FrameSpec((
    Column("request_id", wire="requestId"), Column("instance_id", wire="item.instanceId"),
    Column("item_id", wire="item.itemId"), Column("title", wire="item.title"),
    Column("status"), Column("queue_position", INT, wire="queuePosition"),
    Column("request_date", DATETIME, wire="requestDate"),
    Column("expiration_date", DATETIME, wire="expirationDate"),
    Column("pickup_location_id", wire="pickupLocationId"),
    Column("patron_comments", wire="patronComments"),
    Column("canceled_date", DATETIME, wire="canceledDate"),
))
CHARGE_FRAME = FrameSpec((
    Column("fee_fine_id", wire="feeFineId"), Column("instance_id", wire="item.instanceId"),
    Column("item_id", wire="item.itemId"), Column("title", wire="item.title"),
    Column("amount", FLOAT, wire="chargeAmount.amount"),
    Column("currency", wire="chargeAmount.isoCurrencyCode"),
    Column("accrual_date", DATETIME, wire="accrualDate"), Column("state"), Column("reason"),
    Column("description"),
))


@model
class Account(_Wire):
    """A patron's account: totals always, loans/holds/charges when they were asked for."""

    total_charges: Money
    total_charges_count: int
    total_loans: int
    total_holds: int
    charges: list[Charge] = attrs.field(factory=list, repr=False)
    holds: list[Hold] = attrs.field(factory=list, repr=False)
    loans: list[Loan] = attrs.field(factory=list, repr=False)
    id: str | None = None
    raw: Mapping[str, Any] = raw_field()

    @property
    def loans_frame(self) -> pd.DataFrame:
        return LOAN_FRAME.build([flatten(x) for x in self.raw.get("loans", [])])

    @property
    def holds_frame(self) -> pd.DataFrame:
        return HOLD_FRAME.build([flatten(x) for x in self.raw.get("holds", [])])

    @property
    def charges_frame(self) -> pd.DataFrame:
        return CHARGE_FRAME.build([flatten(x) for x in self.raw.get("charges", [])])

    def _repr_html_(self) -> str:
        total = f"{self.total_charges.amount:.2f} {self.total_charges.iso_currency_code}"
        rows = [("id", self.id), ("loans", self.total_loans), ("holds", self.total_holds),
                ("charges", f"{self.total_charges_count} ({total})")]
        frames = {"loans": self.loans_frame, "holds": self.holds_frame, "charges": self.charges_frame}
        shown = {f"{name} ({len(frame)} listed)": frame.to_string(max_rows=20) for name, frame in frames.items()
                 if not frame.empty}
        return card("FOLIO patron account", rows, details=shown)


@model
class ServicePoint(_Wire):
    id: str
    name: str | None = None
    discovery_name: str | None = None


SERVICE_POINT_FRAME = FrameSpec((Column("id"), Column("name"), Column("discovery_name", wire="discoveryName")))


# -- staging users and external patrons -------------------------------------------------------
@model
class GeneralInfo(_Wire):
    first_name: str | None = private()
    last_name: str | None = private()
    preferred_first_name: str | None = private()
    middle_name: str | None = private()
    external_system_id: str | None = None


@model
class AddressInfo(_Wire):
    address_line0: str | None = private()
    address_line1: str | None = private()
    city: str | None = private()
    province: str | None = private()
    zip: str | None = private()
    country: str | None = None


@model
class ContactInfo(_Wire):
    email: str | None = private()
    phone: str | None = private()
    mobile_phone: str | None = private()


@model
class Metadata(_Wire):
    created_date: str | None = None
    created_by_user_id: str | None = None
    created_by_username: str | None = None
    updated_date: str | None = None
    updated_by_user_id: str | None = None
    updated_by_username: str | None = None


@model
class StagingUser(_Wire):
    """A self-registered patron waiting in mod-users' staging area (status TIER-1 or TIER-2)."""

    general_info: GeneralInfo
    contact_info: ContactInfo
    id: str | None = None
    external_system_id: str | None = None
    status: str | None = None
    is_email_verified: bool | None = None
    minor: bool | None = None
    address_info: AddressInfo | None = None
    preferred_email_communication: list[str] | None = None
    metadata: Metadata | None = None
    raw: Mapping[str, Any] = raw_field()

    def _repr_html_(self) -> str:
        rows = [("externalSystemId", self.external_system_id), ("status", self.status),
                ("isEmailVerified", self.is_email_verified), ("minor", self.minor),
                ("name", _name(self.general_info)), ("email", self.contact_info.email),
                ("preferredEmailCommunication", ", ".join(self.preferred_email_communication or []))]
        return card("FOLIO staging user", rows)


@model
class ExternalPatron(_Wire):
    """An external ("LC") patron as the edge module shows it."""

    general_info: GeneralInfo
    contact_info: ContactInfo
    address_info: AddressInfo | None = None
    preferred_email_communication: list[str] | None = None
    raw: Mapping[str, Any] = raw_field()

    def _repr_html_(self) -> str:
        rows = [("externalSystemId", self.general_info.external_system_id), ("name", _name(self.general_info)),
                ("email", self.contact_info.email),
                ("preferredEmailCommunication", ", ".join(self.preferred_email_communication or []))]
        return card("FOLIO external patron", rows)


@model
class ExternalPatronCollection(_Wire):
    external_patrons: list[ExternalPatron] = attrs.field(factory=list, repr=False)
    total_records: int | None = None


EXTERNAL_PATRON_FRAME = FrameSpec((
    Column("external_system_id", wire="generalInfo.externalSystemId"),
    Column("first_name", wire="generalInfo.firstName"),
    Column("preferred_first_name", wire="generalInfo.preferredFirstName"),
    Column("middle_name", wire="generalInfo.middleName"),
    Column("last_name", wire="generalInfo.lastName"),
    Column("email", wire="contactInfo.email"),
    Column("phone", wire="contactInfo.phone"),
    Column("mobile_phone", wire="contactInfo.mobilePhone"),
    Column("address_line0", wire="addressInfo.addressLine0"),
    Column("address_line1", wire="addressInfo.addressLine1"),
    Column("city", wire="addressInfo.city"),
    Column("province", wire="addressInfo.province"),
    Column("zip", wire="addressInfo.zip"),
    Column("country", wire="addressInfo.country"),
    Column("preferred_email_communication", wire="preferredEmailCommunication"),
))


# -- users (registration status) ---------------------------------------------------------------
@model
class Address(_Wire):
    address_type_id: str
    id: str | None = None
    country_id: str | None = None
    address_line1: str | None = private()
    address_line2: str | None = private()
    city: str | None = private()
    region: str | None = private()
    postal_code: str | None = private()
    primary_address: bool | None = None


@model
class Personal(_Wire):
    last_name: str = attrs.field(repr=False)
    first_name: str | None = private()
    middle_name: str | None = private()
    preferred_first_name: str | None = private()
    email: str | None = private()
    phone: str | None = private()
    mobile_phone: str | None = private()
    date_of_birth: str | None = private()
    addresses: list[Address] | None = attrs.field(default=None, repr=False)
    preferred_contact_type_id: str | None = None
    profile_picture_link: str | None = private()


@model
class User(_Wire):
    """A FOLIO user, as registration-status answers it."""

    id: str | None = None
    username: str | None = private()
    external_system_id: str | None = None
    barcode: str | None = None
    active: bool | None = None
    type: str | None = None
    patron_group: str | None = None
    departments: list[str] | None = None
    proxy_for: list[str] | None = None
    personal: Personal | None = attrs.field(default=None, repr=False)
    enrollment_date: str | None = None
    expiration_date: str | None = None
    created_date: str | None = None
    updated_date: str | None = None
    preferred_email_communication: list[str] | None = None
    meta: dict[str, Any] | None = attrs.field(default=None, repr=False)
    metadata: dict[str, Any] | None = attrs.field(default=None, repr=False)
    tags: dict[str, Any] | None = attrs.field(default=None, repr=False)
    custom_fields: dict[str, Any] | None = attrs.field(default=None, repr=False)
    raw: Mapping[str, Any] = raw_field()

    def _repr_html_(self) -> str:
        personal = self.personal
        rows = [("id", self.id), ("externalSystemId", self.external_system_id), ("active", self.active),
                ("type", self.type), ("patronGroup", self.patron_group),
                ("expirationDate", self.expiration_date),
                ("name", _name(personal) if personal else None), ("email", personal.email if personal else None)]
        return card("FOLIO user", rows)


# -- errors -----------------------------------------------------------------------------------
@model
class ErrorParameter(_Wire):
    key: str | None = None
    value: str | None = None


@model
class Error(_Wire):
    message: str
    type: str | None = None
    code: str | None = None
    parameters: list[ErrorParameter] | None = None


@model
class Errors(_Wire):
    """FOLIO's (RMB) error list: ``{"errors": [...], "total_records": n}``."""

    __wire_names__: ClassVar[dict[str, str]] = {"total_records": "total_records"}  # snake_case on the wire too
    errors: list[Error] = attrs.field(factory=list)
    total_records: int | None = attrs.field(default=None)


@model
class EdgeError(_Wire):
    """The edge LC error: ``{"code": 422, "errorMessage": "USER_ALREADY_EXIST"}``."""

    code: int | str
    error_message: str


def _name(info: Any) -> str:
    return " ".join(p for p in (info.first_name, info.last_name) if p)
