"""Polaris's enums and DTOs as Python: IntEnums, attrs models, one cattrs converter, frames.

Every property of document 004's tables is a field here, with its wire name, its type, whether
the document lets it be null and whether it says "Required" kept as field metadata: the
request checks (:mod:`._validate`) read the same tables, so the rules are written once.
Date-times stay the strings Polaris sent, so a record read and written back is unchanged.
A patron's ``Password`` is never kept: it is dropped from every answer as it is read.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import pandas as pd
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._display import card
from .._frames import DATETIME, Column, FrameSpec
from ..config import Secret

__all__ = [
    "PAPIProcedureStatus", "PAPIProcedure", "PAPIProcedureStep", "PAPIAction", "PAPIStopType",
    "PAPIPromptType", "PAPIPromptResult", "PatronAddress", "PatronRegistration", "PatronRegUpdateData",
    "PatronRecord", "Patron", "DuplicatePatron", "DisplayProperty", "PatronRegResult", "ANSWERS_FOR_PROMPT", "GOES_ON",
]

T = TypeVar("T")


# -- the document's enums ---------------------------------------------------------------------------
class PAPIProcedureStatus(enum.IntEnum):
    Error = -1
    Exit = 0
    Continue = 1


class PAPIProcedure(enum.IntEnum):
    None_ = 0
    CheckIn = 1
    CheckOut = 2
    CreateOTFItem = 3
    PatronRegistration = 4
    PlaceHoldRequest = 5
    RenewItemCheckout = 6


class PAPIProcedureStep(enum.IntEnum):
    None_ = 0
    Start = 1
    CheckPatronBlocks = 2
    GetEphemeralItemCount = 3
    CheckAssignedBranch = 4
    PlaceItemInTransit = 5
    PermitOvernightLoan = 6
    NonCirculatingItemBlock = 7
    RestrictedPatronCodeBlock = 8
    CheckItemBlocks = 9
    CheckOutItemInTransit = 10
    FloatingCheckIn = 11
    PlaceInTransit = 12
    OutToDifferentPatron = 13
    ResolveLostBilledItem = 14
    PatronRegistrationCharge = 15
    DuplicatePatrons = 16
    PatronAddressEmpty = 17
    VerifyPatronDataBlock = 34
    InvalidPostalcodeFormat = 35


class PAPIAction(enum.IntEnum):
    None_ = 0
    Stop = 1
    Prompt = 2
    Procedure = 3


class PAPIStopType(enum.IntEnum):
    None_ = 0
    Exit = 1
    Error = 2


class PAPIPromptType(enum.IntEnum):
    None_ = 0
    Warning = 1
    Continue = 2
    Count = 3
    YesNo = 4
    YesNoCancel = 5
    Acknowledge = 6
    ResolveLostBilledItem = 7


class PAPIPromptResult(enum.IntEnum):
    None_ = -1
    No = 0
    Yes = 1
    OK = 2
    Cancel = 3
    Abort = 4
    Retry = 5
    Ignore = 6


R = PAPIPromptResult
#: The answers each prompt type offers (the kit's reading: the document names the types only).
ANSWERS_FOR_PROMPT: dict[PAPIPromptType, tuple[PAPIPromptResult, ...]] = {
    PAPIPromptType.Warning: (R.OK, R.Cancel),
    PAPIPromptType.Continue: (R.Yes, R.No),
    PAPIPromptType.Count: (R.OK, R.Cancel),
    PAPIPromptType.YesNo: (R.Yes, R.No),
    PAPIPromptType.YesNoCancel: (R.Yes, R.No, R.Cancel),
    PAPIPromptType.Acknowledge: (R.OK,),
    PAPIPromptType.ResolveLostBilledItem: (R.Yes, R.No, R.Cancel),
}
#: Answers that let the procedure go on; every other answer ends it with nothing saved.
GOES_ON = frozenset({R.Yes, R.OK, R.Retry, R.Ignore})

def enum_or_int(kind: type[enum.IntEnum], value: Any) -> Any:
    """The enum member for ``value``, or the bare int when Polaris sends a value the document lacks."""
    if value is None:
        return None
    number = int(value)
    try:
        return kind(number)
    except ValueError:
        return number


def name_of(value: Any) -> str:
    """``DuplicatePatrons (16)`` for a member, ``99`` for a value the document does not name."""
    if isinstance(value, enum.IntEnum):
        return f"{value.name.rstrip('_')} ({int(value)})"  # ``None`` is a keyword: the member is ``None_``
    return str(value)


# -- property tables --------------------------------------------------------------------------------
INT, DECIMAL, BOOLEAN, STRING, DATETIME_TEXT, BYTE = "Int", "Decimal", "Boolean", "String", "DateTime", "Byte"


def prop(wire: str, kind: str, *, nullable: bool = True, required: bool = False, private: bool = False,
         default: Any = None) -> Any:
    """One property of a document table: wire name, type, nullability, the "Required" note."""
    return attrs.field(default=default, repr=not private,
                        metadata={"wire": wire, "kind": kind, "nullable": nullable, "required": required})


def _nested(wire: str, default: Any = None, **kwargs: Any) -> Any:
    return attrs.field(default=default, metadata={"wire": wire, "kind": "object", "nullable": True,
                                                  "required": False}, **kwargs)


_RAW = attrs.field(factory=dict, repr=False, eq=False)
_converter = cattrs.Converter()
# A new patron password is held as a Secret, and revealed only in the body being sent.
_converter.register_unstructure_hook(Secret, lambda secret: secret.reveal())


def papi(wire: str, kind: type[enum.IntEnum]) -> Any:
    """A PAPI value: the enum member, or the bare int for a value the document does not name."""
    return attrs.field(default=None, converter=lambda value: enum_or_int(kind, value),
                       metadata={"wire": wire, "kind": INT, "nullable": True, "required": False})


class _Wire:
    """Reading from and writing to Polaris JSON, shared by every model."""

    @classmethod
    def from_wire(cls: type[T], data: Mapping[str, Any]) -> T:
        return _converter.structure(_without_passwords(data), cls)

    def to_wire(self) -> dict[str, Any]:
        return _converter.unstructure(self)


def _without_passwords(data: Any) -> Any:
    """A patron's password never stays in a model or its ``raw``."""
    if isinstance(data, Mapping):
        return {k: _without_passwords(v) for k, v in data.items() if k != "Password"}
    if isinstance(data, list):
        return [_without_passwords(v) for v in data]
    return data


def _model(cls: type[T]) -> type[T]:
    cls = attrs.frozen(kw_only=True)(cls)
    names = {a.name: override(rename=a.metadata["wire"]) for a in attrs.fields(cls) if "wire" in a.metadata}
    keeps_raw = "raw" in attrs.fields_dict(cls)
    if keeps_raw:
        names["raw"] = override(omit=True)
    structure = make_dict_structure_fn(cls, _converter, **names)
    unstructure = make_dict_unstructure_fn(cls, _converter, **names)
    if keeps_raw:
        plain = structure

        def structure(data: Mapping[str, Any], kind: type, _plain: Any = plain) -> Any:
            return attrs.evolve(_plain(data, kind), raw=dict(data))

    _converter.register_structure_hook(cls, structure)
    _converter.register_unstructure_hook(cls, unstructure)
    return cls


def wire_names(cls: type) -> dict[str, str]:
    """Field name -> wire name for a model."""
    return {a.name: a.metadata["wire"] for a in attrs.fields(cls) if "wire" in a.metadata}


# -- DtoPatronAddress, DtoPatronRegistration, DtoPatronRegUpdateData --------------------------------
@_model
class PatronAddress(_Wire):
    """DtoPatronAddress. ``patron_id`` may be left None: the client fills in the patron's id."""

    patron_id: int | None = prop("PatronID", INT, nullable=False)
    address_id: int | None = prop("AddressID", INT)
    address_type_id: int | None = prop("AddressTypeID", INT, nullable=False)
    address_type_description: str | None = prop("AddressTypeDescription", STRING)
    address_label_id: int | None = prop("AddressLabelID", INT)
    address_label_description: str | None = prop("AddressLabelDescription", STRING)
    verified: bool | None = prop("Verified", BOOLEAN)
    verification_date: str | None = prop("VerificationDate", DATETIME_TEXT)
    polaris_user_id: int | None = prop("PolarisUserID", INT)
    street_one: str | None = prop("StreetOne", STRING, nullable=False, private=True)
    street_two: str | None = prop("StreetTwo", STRING, private=True)
    street_three: str | None = prop("StreetThree", STRING, private=True)
    municipality_name: str | None = prop("MunicipalityName", STRING)
    postal_code: str | None = prop("PostalCode", STRING, nullable=False, private=True)
    zip_plus_four: str | None = prop("ZipPlusFour", STRING, private=True)
    city: str | None = prop("City", STRING, nullable=False)
    state: str | None = prop("State", STRING, nullable=False)
    country_name: str | None = prop("CountryName", STRING, nullable=False)
    county: str | None = prop("County", STRING)


@_model
class PatronRegistration(_Wire):
    """DtoPatronRegistration: a patron's personal details (personal fields out of the repr).

    ``private_fields_cleared`` is true when the staff user may not see private fields: then
    addresses, User1-5, phones, gender and username are blank because they were hidden, not
    because they are missing. It is read from GET answers and never sent.
    """

    name_first: str | None = prop("NameFirst", STRING, private=True)
    name_last: str | None = prop("NameLast", STRING, nullable=False, required=True, private=True)
    name_middle: str | None = prop("NameMiddle", STRING, private=True)
    name_title: str | None = prop("NameTitle", STRING)
    patron_id: int | None = prop("PatronID", INT, nullable=False)
    language_id: int | None = prop("LanguageID", INT)
    name_suffix: str | None = prop("NameSuffix", STRING)
    phone_voice1: str | None = prop("PhoneVoice1", STRING, private=True)
    phone_voice2: str | None = prop("PhoneVoice2", STRING, private=True)
    phone_voice3: str | None = prop("PhoneVoice3", STRING, private=True)
    email_address: str | None = prop("EmailAddress", STRING, private=True)
    password: Any = prop("Password", STRING, private=True)
    entry_date: str | None = prop("EntryDate", DATETIME_TEXT)
    expiration_date: str | None = prop("ExpirationDate", DATETIME_TEXT)
    addr_check_date: str | None = prop("AddrCheckDate", DATETIME_TEXT)
    update_date: str | None = prop("UpdateDate", DATETIME_TEXT)
    user1: str | None = prop("User1", STRING, private=True)
    user2: str | None = prop("User2", STRING, private=True)
    user3: str | None = prop("User3", STRING, private=True)
    user4: str | None = prop("User4", STRING, private=True)
    user5: str | None = prop("User5", STRING, private=True)
    gender: int | None = prop("Gender", INT, private=True)
    birthdate: str | None = prop("Birthdate", DATETIME_TEXT, private=True)
    registration_date: str | None = prop("RegistrationDate", DATETIME_TEXT)
    former_id: str | None = prop("FormerID", STRING)
    reading_list_enabled: bool | None = prop("ReadingListEnabled", BOOLEAN)
    phone_fax: str | None = prop("PhoneFAX", STRING, private=True)
    alt_email_address: str | None = prop("AltEmailAddress", STRING, private=True)
    sdi_email_address: str | None = prop("SDIEmailAddress", STRING, private=True)
    sdi_positive_assent: bool | None = prop("SDIPositiveAssent", BOOLEAN)
    exclude_from_overdues: bool | None = prop("ExcludeFromOverdues", BOOLEAN)
    sdi_email_format_id: int | None = prop("SDIEmailFormatID", INT)
    collection_exempt: bool | None = prop("CollectionExempt", BOOLEAN)
    sdi_positive_assent_date: str | None = prop("SDIPositiveAssentDate", DATETIME_TEXT)
    delivery_option_id: int | None = prop("DeliveryOptionID", INT)
    deletion_exempt: bool | None = prop("DeletionExempt", BOOLEAN)
    exclude_from_holds: bool | None = prop("ExcludeFromHolds", BOOLEAN)
    exclude_from_bills: bool | None = prop("ExcludeFromBills", BOOLEAN)
    email_format_id: int | None = prop("EmailFormatID", INT)
    patron_first_last_name: str | None = prop("PatronFirstLastName", STRING, private=True)
    patron_full_name: str | None = prop("PatronFullName", STRING, private=True)
    statistical_class_id: int | None = prop("StatisticalClassID", INT)
    username: str | None = prop("Username", STRING, private=True)
    merge_date: str | None = prop("MergeDate", DATETIME_TEXT)
    merge_user_id: int | None = prop("MergeUserID", INT)
    merge_barcode: str | None = prop("MergeBarcode", STRING)
    enable_sms: bool | None = prop("EnableSMS", BOOLEAN)
    phone1_carrier_id: int | None = prop("Phone1CarrierID", INT)
    phone2_carrier_id: int | None = prop("Phone2CarrierID", INT)
    phone3_carrier_id: int | None = prop("Phone3CarrierID", INT)
    e_receipt_option_id: int | None = prop("eReceiptOptionID", INT)
    txt_phone_number: int | None = prop("TxtPhoneNumber", BYTE)
    exclude_from_almost_overdue_auto_renew: bool | None = prop("ExcludeFromAlmostOverdueAutoRenew", BOOLEAN,
                                                               nullable=False, required=True)
    exclude_from_patron_rec_expiration: bool | None = prop("ExcludeFromPatronRecExpiration", BOOLEAN,
                                                           nullable=False, required=True)
    exclude_from_inactive_patron: bool | None = prop("ExcludeFromInactivePatron", BOOLEAN, nullable=False,
                                                     required=True)
    staff_accepted_use_single_name: bool | None = prop("StaffAcceptedUseSingleName", BOOLEAN, nullable=False,
                                                       required=True)
    addresses: list[PatronAddress] | None = attrs.field(
        default=None, repr=False, metadata={"wire": "Addresses", "kind": "array", "nullable": True, "required": False})
    private_fields_cleared: bool | None = attrs.field(default=None, metadata={"wire": "PrivateFieldsCleared"})


@attrs.frozen(kw_only=True)
class PatronRecord(_Wire):
    """The patron's own properties, in DtoPatronRegUpdateData's table and in DtoPatron alike."""

    barcode: str | None = prop("Barcode", STRING, nullable=False)
    patron_id: int | None = prop("PatronID", INT)
    patron_code_id: int | None = prop("PatronCodeID", INT, nullable=False, required=True)
    organization_id: int | None = prop("OrganizationID", INT, nullable=False, required=True)
    creator_id: int | None = prop("CreatorID", INT)
    modifier_id: int | None = prop("ModifierID", INT)
    system_blocks: int | None = prop("SystemBlocks", INT)
    ytd_circ_count: int | None = prop("YTDCircCount", INT)
    lifetime_circ_count: int | None = prop("LifetimeCircCount", INT)
    last_activity_date: str | None = prop("LastActivityDate", DATETIME_TEXT)
    claim_count: int | None = prop("ClaimCount", INT)
    lost_item_count: int | None = prop("LostItemCount", INT)
    charges_amount: float | None = prop("ChargesAmount", DECIMAL)
    credits_amount: float | None = prop("CreditsAmount", DECIMAL)


@_model
class PatronRegUpdateData(PatronRecord):
    """DtoPatronRegUpdateData: one round of the registration conversation."""

    procedure_step: int | None = prop("ProcedureStep", INT, nullable=False)
    answer: int | None = prop("Answer", INT)
    patron_account_txn_code: int | None = prop("PatronAccountTxnCode", INT)
    patron_payment_method: int | None = prop("PatronPaymentMethod", INT)
    registration_payment: float | None = prop("RegistrationPayment", DECIMAL)
    return_receipt_url: bool | None = prop("ReturnReceiptUrl", BOOLEAN, nullable=False, default=False)
    registration: PatronRegistration | None = attrs.field(
        default=None, repr=False,
        metadata={"wire": "Registration", "kind": "object", "nullable": False, "required": True})

    def to_wire(self) -> dict[str, Any]:
        body = super().to_wire()
        registration = body.get("Registration")
        if registration is not None:
            registration.pop("PrivateFieldsCleared", None)  # an answer's flag, not a property to send
        return body


# -- answers: DtoPatron and DtoPatronResult ---------------------------------------------------------
@_model
class Patron(PatronRecord):
    """A patron as ``GET .../patrons/{id}`` answers it (DtoPatron)."""

    record_status_id: int | None = prop("RecordStatusID", INT)
    record_status_date: str | None = prop("RecordStatusDate", DATETIME_TEXT)
    registration: PatronRegistration | None = _nested("Registration", repr=False)
    raw: Mapping[str, Any] = _RAW

    @property
    def private_fields_cleared(self) -> bool:
        """True when Polaris blanked private fields for this staff user: blank is not missing."""
        return bool(self.registration and self.registration.private_fields_cleared)

    def _repr_html_(self) -> str:
        reg = self.registration or PatronRegistration()
        rows = [("PatronID", self.patron_id), ("Barcode", self.barcode), ("PatronCodeID", self.patron_code_id),
                ("OrganizationID", self.organization_id), ("name", f"{reg.name_first or ''} {reg.name_last or ''}"),
                ("email", reg.email_address), ("addresses", len(reg.addresses or [])),
                ("SystemBlocks", self.system_blocks), ("PrivateFieldsCleared", self.private_fields_cleared)]
        return card("Polaris patron", rows)


@_model
class DisplayProperty(_Wire):
    name: str = prop("Name", STRING)
    display: str | None = prop("Display", STRING)


@_model
class DuplicatePatron(_Wire):
    patron_id: int = prop("PatronID", INT)
    patron_name: str | None = prop("PatronName", STRING, private=True)
    barcode: str | None = prop("Barcode", STRING)
    street: str | None = prop("Street", STRING, private=True)
    city: str | None = prop("City", STRING)
    postal_code: str | None = prop("PostalCode", STRING, private=True)
    phone: str | None = prop("Phone", STRING, private=True)
    email: str | None = prop("Email", STRING, private=True)
    birth_date: str | None = prop("BirthDate", DATETIME_TEXT, private=True)
    branch_id: int | None = prop("BranchID", INT)
    branch_name: str | None = prop("BranchName", STRING)
    branch_abr: str | None = prop("BranchAbr", STRING)
    user1: str | None = prop("User1", STRING, private=True)
    user2: str | None = prop("User2", STRING, private=True)
    user3: str | None = prop("User3", STRING, private=True)
    user4: str | None = prop("User4", STRING, private=True)
    user5: str | None = prop("User5", STRING, private=True)


@_model
class PatronRegResult(PatronRecord):
    """DtoPatronResult: the patron echoed, and the PAPI values that say what happens next."""

    procedure_step: int | None = prop("ProcedureStep", INT)
    answer: int | None = prop("Answer", INT)
    reg_charge: float | None = prop("RegCharge", DECIMAL)
    additional_messages: list[Any] = attrs.field(factory=list, metadata={"wire": "AdditionalMessages"})
    duplicate_barcode_exists: bool | None = prop("DuplicateBarcodeExists", BOOLEAN)
    duplicate_patron_display_properties: list[DisplayProperty] = attrs.field(
        factory=list, repr=False, metadata={"wire": "DuplicatePatronDisplayProperties"})
    duplicate_patrons: list[DuplicatePatron] = attrs.field(factory=list, repr=False,
                                                          metadata={"wire": "DuplicatePatrons"})
    suggested_user_names: list[str] = attrs.field(factory=list, repr=False, metadata={"wire": "SuggestedUserNames"})
    registration: PatronRegistration | None = _nested("Registration", repr=False)
    papi_procedure: Any = papi("PAPIProcedure", PAPIProcedure)
    papi_procedure_step: Any = papi("PAPIProcedureStep", PAPIProcedureStep)
    papi_action: Any = papi("PAPIAction", PAPIAction)
    papi_action_procedure: Any = papi("PAPIActionProcedure", PAPIProcedure)
    papi_prompt_type: Any = papi("PAPIPromptType", PAPIPromptType)
    papi_stop_type: Any = papi("PAPIStopType", PAPIStopType)
    papi_return_code: int | None = prop("PAPIReturnCode", INT)
    success: bool | None = prop("Success", BOOLEAN)
    message: str | None = prop("Message", STRING)
    receipt_url: str | None = prop("ReceiptUrl", STRING)
    raw: Mapping[str, Any] = _RAW

    @property
    def completed(self) -> bool:
        """The document's rule: a return code of 0 or more means the procedure completed."""
        return self.papi_return_code is not None and self.papi_return_code >= 0

    @property
    def is_prompt(self) -> bool:
        """A question to answer: not completed and a prompt type set (PAPIAction may say Stop or
        Prompt; document 004's example shows Stop where its prose says Prompt)."""
        return not self.completed and bool(self.papi_prompt_type)

    @property
    def duplicates(self) -> pd.DataFrame:
        """The duplicate patrons, one row each, with the columns ``DuplicatePatronDisplayProperties`` names."""
        return duplicates_frame(self.raw.get("DuplicatePatrons") or [],
                                [p.to_wire() for p in self.duplicate_patron_display_properties])


def _frame_column(name: str, label: str) -> Column:
    return Column(label, DATETIME if name == "BirthDate" else "string", wire=name)


def duplicates_frame(rows: list[Mapping[str, Any]], display: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Duplicate patrons as a frame: PatronID and Barcode, then each display property by its label."""
    columns = [Column("PatronID", wire="PatronID"), Column("Barcode", wire="Barcode")]
    columns += [_frame_column(p["Name"], p.get("Display") or p["Name"]) for p in display
                if p.get("Name") not in ("PatronID", "Barcode")]
    records = [{key: (str(value) if key.endswith("ID") and value is not None else value)
                for key, value in row.items()} for row in rows]
    return FrameSpec(tuple(columns)).build(records)
