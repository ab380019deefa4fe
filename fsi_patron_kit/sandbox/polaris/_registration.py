"""The patron registration procedure behind ``PUT .../patrons/{id}``: a conversation.

A caller starts with ``ProcedureStep: 1``. Each answer is a DtoPatronRegUpdateData echo with the
PAPI values. The sandbox checks, in this order:

=====  ==========================  ===========  ====================  ==========================
order  check                       step         answer                PAPIReturnCode
=====  ==========================  ===========  ====================  ==========================
1      required fields empty       0 (stop)     Stop / Error          -3500
2      unknown patron code         0 (stop)     Stop / Error          -3502
3      organization not a branch   0 (stop)     Stop / Error          -5000
4      barcode already exists      0 (stop)     Stop / Error          -3501 (DuplicateBarcodeExists)
5      other patron blocks         2            prompt YesNo          -3602
6      address empty               17           prompt YesNo          -3617
7      invalid postal code format  35           prompt Continue       -3635
8      duplicate patrons           16           Stop + YesNo          -3608 (the document's example)
9      verify patron data block    34           prompt Warning        -3634
10     registration charge         15           prompt YesNoCancel    -3615 (RegCharge)
=====  ==========================  ===========  ====================  ==========================

A reply echoes the returned ``PAPIProcedureStep`` with an ``Answer``. Yes, OK, Retry or Ignore
accepts the step and the checks go on after it; No, Cancel or Abort ends the procedure with
``PAPIStopType`` Exit, ``Success`` false, code -3506 and nothing saved. A reply whose step is not
the one last prompted is a Stop/Error (-3504), an answer the prompt type does not offer too
(-3505). ``ProcedureStep: 1`` always starts over. Accepting the registration charge needs
``PatronAccountTxnCode`` 1 (charge to the account), 2 (pay: ``PatronPaymentMethod`` and
``RegistrationPayment`` equal to ``RegCharge``) or 3 (waive); anything else is a Stop/Error
(-3503). When every check has passed, the patron is saved once (``counters.writes``) and the
answer has ``PAPIReturnCode`` 0 and ``Success`` true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

from ._data import (
    BLOCK_REGISTRATION_EXPIRED,
    BLOCK_VERIFY_DATA,
    PATRON_CODES,
    PAYMENT_METHODS,
    TXN_CHARGE,
    TXN_PAY,
    TXN_WAIVE,
    StaffUser,
    organization,
    wire_datetime,
)
from ._wire import BAD_REQUEST, decimal, integer, json_answer, pas_error

# -- the document's enums, as numbers -------------------------------------------------------------
PROCEDURE_PATRON_REGISTRATION = 4
START, CHECK_PATRON_BLOCKS, CHARGE, DUPLICATES, ADDRESS_EMPTY, VERIFY_BLOCK, POSTAL_CODE = 1, 2, 15, 16, 17, 34, 35
ACTION_NONE, ACTION_STOP, ACTION_PROMPT = 0, 1, 2
STOP_NONE, STOP_EXIT, STOP_ERROR = 0, 1, 2
WARNING, CONTINUE, COUNT, YES_NO, YES_NO_CANCEL, ACKNOWLEDGE, RESOLVE_LOST = 1, 2, 3, 4, 5, 6, 7
NO, YES, OK, CANCEL, ABORT, RETRY, IGNORE = 0, 1, 2, 3, 4, 5, 6

#: The answers each prompt type offers, and which of them go on.
ANSWERS_FOR_TYPE: dict[int, frozenset[int]] = {
    WARNING: frozenset({OK, CANCEL}),
    CONTINUE: frozenset({YES, NO}),
    COUNT: frozenset({OK, CANCEL}),
    YES_NO: frozenset({YES, NO}),
    YES_NO_CANCEL: frozenset({YES, NO, CANCEL}),
    ACKNOWLEDGE: frozenset({OK}),
    RESOLVE_LOST: frozenset({YES, NO, CANCEL}),
}
GOES_ON = frozenset({YES, OK, RETRY, IGNORE})

#: Prompt type per step, as this sandbox's SA is configured (``emulator.prompt_types`` can change it).
PROMPT_TYPES = {CHECK_PATRON_BLOCKS: YES_NO, ADDRESS_EMPTY: YES_NO, POSTAL_CODE: CONTINUE, DUPLICATES: YES_NO,
                VERIFY_BLOCK: WARNING, CHARGE: YES_NO_CANCEL}
RETURN_CODES = {CHECK_PATRON_BLOCKS: -3602, ADDRESS_EMPTY: -3617, POSTAL_CODE: -3635, DUPLICATES: -3608,
                VERIFY_BLOCK: -3634, CHARGE: -3615}
REQUIRED_EMPTY, BARCODE_EXISTS, BAD_PATRON_CODE, BAD_PAYMENT, STEP_MISMATCH, ANSWER_NOT_OFFERED, DECLINED = (
    -3500, -3501, -3502, -3503, -3504, -3505, -3506)
BAD_ORGANIZATION = -5000

DUPLICATE_DISPLAY = [
    {"Name": "PatronName", "Display": "Name"}, {"Name": "Street", "Display": "Street"},
    {"Name": "City", "Display": "City"}, {"Name": "PostalCode", "Display": "Postal Code"},
    {"Name": "BirthDate", "Display": "Birth Date"}, {"Name": "Phone", "Display": "Voice Phone 1"},
    {"Name": "Email", "Display": "E-mail"}, {"Name": "User1", "Display": "ID Number"},
    {"Name": "BranchName", "Display": "Branch"},
]
US_POSTAL_CODE = re.compile(r"^\d{5}(-\d{4})?$")
US_NAMES = frozenset({"usa", "us", "united states", "united states of america"})

# -- the DTOs' property types (the document's tables) ---------------------------------------------
INT, DEC, BOOL, TEXT, WHEN, OBJECT, LIST = "Int", "Decimal", "Boolean", "String", "DateTime", "object", "array"
UPDATE_TYPES = {
    "ProcedureStep": INT, "Answer": INT, "PatronAccountTxnCode": INT, "PatronPaymentMethod": INT,
    "RegistrationPayment": DEC, "ReturnReceiptUrl": BOOL, "Barcode": TEXT, "PatronID": INT, "PatronCodeID": INT,
    "OrganizationID": INT, "CreatorID": INT, "ModifierID": INT, "SystemBlocks": INT, "YTDCircCount": INT,
    "LifetimeCircCount": INT, "LastActivityDate": WHEN, "ClaimCount": INT, "LostItemCount": INT,
    "ChargesAmount": DEC, "CreditsAmount": DEC, "Registration": OBJECT,
}
REGISTRATION_TYPES = {
    **dict.fromkeys(("NameFirst", "NameLast", "NameMiddle", "NameTitle", "NameSuffix", "PhoneVoice1", "PhoneVoice2",
                     "PhoneVoice3", "EmailAddress", "Password", "User1", "User2", "User3", "User4", "User5",
                     "FormerID", "PhoneFAX", "AltEmailAddress", "SDIEmailAddress", "PatronFirstLastName",
                     "PatronFullName", "Username", "MergeBarcode"), TEXT),
    **dict.fromkeys(("PatronID", "LanguageID", "Gender", "SDIEmailFormatID", "DeliveryOptionID", "EmailFormatID",
                     "StatisticalClassID", "MergeUserID", "Phone1CarrierID", "Phone2CarrierID", "Phone3CarrierID",
                     "eReceiptOptionID", "TxtPhoneNumber"), INT),
    **dict.fromkeys(("EntryDate", "ExpirationDate", "AddrCheckDate", "UpdateDate", "Birthdate", "RegistrationDate",
                     "SDIPositiveAssentDate", "MergeDate"), WHEN),
    **dict.fromkeys(("ReadingListEnabled", "SDIPositiveAssent", "ExcludeFromOverdues", "CollectionExempt",
                     "DeletionExempt", "ExcludeFromHolds", "ExcludeFromBills", "EnableSMS",
                     "ExcludeFromAlmostOverdueAutoRenew", "ExcludeFromPatronRecExpiration",
                     "ExcludeFromInactivePatron", "StaffAcceptedUseSingleName"), BOOL),
    "Addresses": LIST,
}
ADDRESS_TYPES = {
    **dict.fromkeys(("PatronID", "AddressID", "AddressTypeID", "AddressLabelID", "PolarisUserID"), INT),
    **dict.fromkeys(("AddressTypeDescription", "AddressLabelDescription", "StreetOne", "StreetTwo", "StreetThree",
                     "MunicipalityName", "PostalCode", "ZipPlusFour", "City", "State", "CountryName", "County"),
                    TEXT),
    "Verified": BOOL, "VerificationDate": WHEN,
}
REQUIRED_TOP = ("Barcode", "PatronCodeID", "OrganizationID", "Registration")
REQUIRED_REGISTRATION = ("NameLast", "NameFirst", "ExcludeFromAlmostOverdueAutoRenew",
                         "ExcludeFromPatronRecExpiration", "ExcludeFromInactivePatron", "StaffAcceptedUseSingleName")
REQUIRED_ADDRESS = ("AddressTypeID", "StreetOne", "PostalCode", "City", "State", "CountryName")
UPDATE_ONLY = frozenset({"ProcedureStep", "Answer", "PatronAccountTxnCode", "PatronPaymentMethod",
                         "RegistrationPayment", "ReturnReceiptUrl"})


@attrs.define
class Pending:
    """Where a patron's conversation stands: the step last prompted and the steps accepted."""

    step: int
    prompt_type: int
    accepted: set[int] = attrs.field(factory=set)


@attrs.frozen
class Prompt:
    step: int
    message: str
    extra: dict[str, Any] = attrs.field(factory=dict)


class Registration:
    """The procedure for every patron of one emulator (called under the emulator's lock)."""

    def __init__(self, patrons: dict[int, dict[str, Any]], blocks: dict[int, list[int]],
                 on_save: Callable[[int], None], clock: Callable[[], float]) -> None:
        self._patrons = patrons
        self._blocks = blocks
        self._on_save = on_save
        self._clock = clock
        self._pending: dict[int, Pending] = {}
        self.prompt_types = dict(PROMPT_TYPES)
        self.payments: list[dict[str, Any]] = []

    def update(self, request: Request, staff: StaffUser, patron_id: int) -> Response:
        body = _checked_body(request)
        patron = self._patrons[patron_id]
        step = integer(body.get("ProcedureStep"))
        if step == START or step is None:
            pending = Pending(step=START, prompt_type=0)
        else:
            pending = self._pending.get(patron_id)
            if pending is None or pending.step != step:
                self._pending.pop(patron_id, None)
                return self._stop(body, patron_id, STEP_MISMATCH, STOP_ERROR,
                                  f"Procedure step {step} does not continue this conversation; start again at 1.")
            answer = integer(body.get("Answer"))
            if answer not in ANSWERS_FOR_TYPE.get(pending.prompt_type, frozenset()):
                self._pending.pop(patron_id, None)
                return self._stop(body, patron_id, ANSWER_NOT_OFFERED, STOP_ERROR,
                                  f"Answer {answer} is not offered by this prompt.")
            if answer not in GOES_ON:
                self._pending.pop(patron_id, None)
                return self._stop(body, patron_id, DECLINED, STOP_EXIT, "The registration was not saved.")
            pending.accepted.add(step)
        stop = self._stops(body, patron_id)
        if stop is not None:
            self._pending.pop(patron_id, None)
            return stop
        for check in (self._blocks_prompt, self._address_empty, self._postal_code, self._duplicates,
                      self._verify_block, self._charge):
            prompt = check(body, patron)
            if prompt is not None and prompt.step not in pending.accepted:
                prompt_type = self.prompt_types[prompt.step]
                self._pending[patron_id] = Pending(step=prompt.step, prompt_type=prompt_type,
                                                   accepted=pending.accepted)
                action = ACTION_STOP if prompt.step == DUPLICATES else ACTION_PROMPT  # as document 004 shows it
                return json_answer(_result(body, patron_id, step=prompt.step, action=action, prompt_type=prompt_type,
                                           code=RETURN_CODES[prompt.step], message=prompt.message, **prompt.extra))
        refusal = self._payment_refusal(body, patron) if CHARGE in pending.accepted else None
        if refusal is not None:
            self._pending.pop(patron_id, None)
            return self._stop(body, patron_id, BAD_PAYMENT, STOP_ERROR, refusal)
        self._pending.pop(patron_id, None)
        extra = self._save(request, body, staff, patron, pending.accepted)
        return json_answer(_result(body, patron_id, step=None, action=ACTION_NONE, stop_type=STOP_EXIT, code=0,
                                   success=True, message="", **extra))

    # -- checks that end the procedure --------------------------------------------------------------
    def _stops(self, body: dict[str, Any], patron_id: int) -> Response | None:
        empty = _empty_required(body)
        if empty:
            return self._stop(body, patron_id, REQUIRED_EMPTY, STOP_ERROR,
                              f"Required fields are empty: {', '.join(empty)}.")
        if integer(body["PatronCodeID"]) not in PATRON_CODES:
            return self._stop(body, patron_id, BAD_PATRON_CODE, STOP_ERROR, "The patron code is not valid.")
        org = organization(integer(body["OrganizationID"]) or 0)
        if org is None or org[1] != 3:
            return self._stop(body, patron_id, BAD_ORGANIZATION, STOP_ERROR,
                              "The registered organization must be a branch.")
        if any(p["Barcode"] == body["Barcode"] and p["PatronID"] != patron_id for p in self._patrons.values()):
            return self._stop(body, patron_id, BARCODE_EXISTS, STOP_ERROR, "The barcode already exists.",
                              DuplicateBarcodeExists=True)
        return None

    def _stop(self, body: dict[str, Any], patron_id: int, code: int, stop_type: int, message: str,
              **extra: Any) -> Response:
        return json_answer(_result(body, patron_id, step=None, action=ACTION_STOP, stop_type=stop_type, code=code,
                                   message=message, **extra))

    # -- prompts ------------------------------------------------------------------------------------
    def _blocks_prompt(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        if BLOCK_REGISTRATION_EXPIRED in self._blocks.get(patron["PatronID"], []):
            return Prompt(CHECK_PATRON_BLOCKS, "This patron has blocks: Registration expired. "
                                               "Do you want to continue?")
        return None

    def _address_empty(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        if not body["Registration"].get("Addresses"):
            return Prompt(ADDRESS_EMPTY, "The patron address is empty. Do you want to continue?")
        return None

    def _postal_code(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        for address in body["Registration"].get("Addresses") or []:
            if str(address.get("CountryName", "")).strip().lower() in US_NAMES and not US_POSTAL_CODE.match(
                    str(address.get("PostalCode", ""))):
                return Prompt(POSTAL_CODE, "The postal code format is invalid (expected 12345 or 12345-6789). "
                                           "Do you want to continue?")
        return None

    def _duplicates(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        registration = body["Registration"]
        first, last = (str(registration.get(k) or "").strip().lower() for k in ("NameFirst", "NameLast"))
        email = str(registration.get("EmailAddress") or "").strip().lower()
        found = []
        for other in self._patrons.values():
            theirs = other["Registration"]
            same_name = first and last and (str(theirs["NameFirst"]).lower(), str(theirs["NameLast"]).lower()) == (
                first, last)
            same_email = email and str(theirs.get("EmailAddress") or "").lower() == email
            if other["PatronID"] != patron["PatronID"] and (same_name or same_email):
                found.append(_duplicate_row(other))
        if found:
            return Prompt(DUPLICATES, "Duplicate patrons are found, Do you want to continue?",
                          {"DuplicatePatrons": found})
        return None

    def _verify_block(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        if BLOCK_VERIFY_DATA in self._blocks.get(patron["PatronID"], []):
            return Prompt(VERIFY_BLOCK, "This patron has a Verify Patron Data block. "
                                        "Saving the registration removes it.")
        return None

    def _charge(self, body: dict[str, Any], patron: dict[str, Any]) -> Prompt | None:
        code = integer(body["PatronCodeID"]) or 0
        description, charge = PATRON_CODES[code]
        if code != patron["PatronCodeID"] and charge > 0:
            return Prompt(CHARGE, f"A registration charge of ${charge:.2f} applies to patron code {description}. "
                                  "Do you want to collect it now?", {"RegCharge": charge})
        return None

    def _payment_refusal(self, body: dict[str, Any], patron: dict[str, Any]) -> str | None:
        charge = PATRON_CODES[integer(body["PatronCodeID"]) or 0][1]
        txn = integer(body.get("PatronAccountTxnCode"))
        if txn == TXN_PAY:
            if integer(body.get("PatronPaymentMethod")) not in PAYMENT_METHODS:
                return "PatronPaymentMethod must name a payment method."
            if decimal(body.get("RegistrationPayment")) != charge:
                return f"RegistrationPayment must equal the registration charge ({charge:.2f})."
        elif txn not in (TXN_CHARGE, TXN_WAIVE):
            return "PatronAccountTxnCode must be 1 (charge), 2 (pay) or 3 (waive)."
        return None

    # -- saving -------------------------------------------------------------------------------------
    def _save(self, request: Request, body: dict[str, Any], staff: StaffUser, patron: dict[str, Any],
              accepted: set[int]) -> dict[str, Any]:
        patron_id = patron["PatronID"]
        now = wire_datetime(datetime.fromtimestamp(self._clock(), timezone.utc))
        extra: dict[str, Any] = {}
        if CHARGE in accepted:
            charge = PATRON_CODES[integer(body["PatronCodeID"]) or 0][1]
            txn = integer(body.get("PatronAccountTxnCode"))
            if txn == TXN_CHARGE:
                patron["ChargesAmount"] = round(patron["ChargesAmount"] + charge, 2)
            self.payments.append({"PatronID": patron_id, "TxnCode": txn, "Amount": charge,
                                  "PaymentMethod": integer(body.get("PatronPaymentMethod"))})
            extra["RegCharge"] = charge
            if body.get("ReturnReceiptUrl") is True and txn in (TXN_PAY, TXN_WAIVE):
                extra["ReceiptUrl"] = f"{request.host_url}receipts/{len(self.payments)}"
        posted = body["Registration"]
        registration = patron["Registration"]
        for name in REGISTRATION_TYPES:
            if name in posted and name not in ("PatronID", "Addresses"):
                if name == "Password" and not posted[name]:
                    continue  # no password sent: the patron keeps theirs
                registration[name] = posted[name]
        registration["Addresses"] = [_saved_address(a, patron_id, staff, n)
                                     for n, a in enumerate(posted.get("Addresses") or [], start=1)]
        registration["UpdateDate"] = now
        patron.update(Barcode=body["Barcode"], PatronCodeID=integer(body["PatronCodeID"]),
                      OrganizationID=integer(body["OrganizationID"]), ModifierID=staff.user_id)
        if VERIFY_BLOCK in accepted:
            self._blocks[patron_id] = [b for b in self._blocks.get(patron_id, []) if b != BLOCK_VERIFY_DATA]
        patron["SystemBlocks"] = 1 if self._blocks.get(patron_id) else 0
        self._on_save(patron_id)
        return extra


def _checked_body(request: Request) -> dict[str, Any]:
    """The posted DtoPatronRegUpdateData, or 400 naming the first property of the wrong type."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "patronData: a JSON object is required."))
    problems = _type_problems(body, UPDATE_TYPES, "patronData")
    registration = body.get("Registration")
    if isinstance(registration, dict):
        problems += _type_problems(registration, REGISTRATION_TYPES, "patronData.Registration")
        for n, address in enumerate(registration.get("Addresses") or []):
            if not isinstance(address, dict):
                problems.append(f"patronData.Registration.Addresses[{n}]: must be an object")
            else:
                problems += _type_problems(address, ADDRESS_TYPES, f"patronData.Registration.Addresses[{n}]")
    if problems:
        abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "; ".join(problems)))
    return body


def _type_problems(values: dict[str, Any], types: dict[str, str], where: str) -> list[str]:
    problems = []
    for name, kind in types.items():
        value = values.get(name)
        if value is not None and not _is(kind, value):
            problems.append(f"{where}.{name}: must be {kind}")
    return problems


def _is(kind: str, value: Any) -> bool:
    if kind == INT:
        return integer(value) is not None
    if kind == DEC:
        return decimal(value) is not None
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == TEXT:
        return isinstance(value, str)
    if kind == WHEN:
        return isinstance(value, str) and _readable_date(value)
    if kind == OBJECT:
        return isinstance(value, dict)
    return isinstance(value, list)


def _readable_date(text: str) -> bool:
    """ISO-8601, or the document's ``4/11/2013`` (month/day/year)."""
    for parse in (lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
                  lambda t: datetime.strptime(t, "%m/%d/%Y")):
        try:
            parse(text)
            return True
        except ValueError:
            pass
    return False


def _empty_required(body: dict[str, Any]) -> list[str]:
    empty = [name for name in REQUIRED_TOP if body.get(name) in (None, "")]
    registration = body.get("Registration") or {}
    empty += [f"Registration.{name}" for name in REQUIRED_REGISTRATION if registration.get(name) in (None, "")]
    for n, address in enumerate(registration.get("Addresses") or []):
        empty += [f"Registration.Addresses[{n}].{name}" for name in REQUIRED_ADDRESS if address.get(name) in (None, "")]
        if address.get("AddressLabelID") is None and not address.get("AddressLabelDescription"):
            empty.append(f"Registration.Addresses[{n}].AddressLabelID")
    return empty


def _duplicate_row(patron: dict[str, Any]) -> dict[str, Any]:
    registration = patron["Registration"]
    address = (registration.get("Addresses") or [{}])[0]
    branch = organization(patron["OrganizationID"]) or (0, 0, "", "", None)
    return {
        "PatronID": patron["PatronID"],
        "PatronName": f"{registration['NameLast']}, {registration['NameFirst']} {registration['NameMiddle']}".strip(),
        "Barcode": patron["Barcode"], "Street": address.get("StreetOne", ""), "City": address.get("City", ""),
        "PostalCode": address.get("PostalCode", ""), "Phone": registration.get("PhoneVoice1") or "",
        "Email": registration.get("EmailAddress") or "", "BirthDate": registration.get("Birthdate"),
        "BranchID": branch[0], "BranchName": branch[2], "BranchAbr": branch[3],
        **{f"User{n}": registration.get(f"User{n}") or "" for n in range(1, 6)},
    }


def _saved_address(address: dict[str, Any], patron_id: int, staff: StaffUser, n: int) -> dict[str, Any]:
    saved = {name: address.get(name) for name in ADDRESS_TYPES}
    saved["PatronID"] = patron_id
    saved["AddressID"] = integer(address.get("AddressID")) or patron_id * 10 + n
    saved["PolarisUserID"] = staff.user_id
    return saved


def _result(body: dict[str, Any], patron_id: int, *, step: int | None, action: int, code: int, message: str,
            prompt_type: int = 0, stop_type: int = STOP_NONE, success: bool = False, **extra: Any) -> dict[str, Any]:
    """A DtoPatronResult: the posted patron echoed, then the PAPI values."""
    echo = {name: body.get(name) for name in UPDATE_TYPES if name not in UPDATE_ONLY}
    echo.update(PatronID=patron_id, ProcedureStep=None, Answer=integer(body.get("Answer")) or 0)
    result = {
        **echo,
        "RegCharge": 0.0, "AdditionalMessages": [], "DuplicateBarcodeExists": False,
        "DuplicatePatronDisplayProperties": DUPLICATE_DISPLAY, "DuplicatePatrons": [], "SuggestedUserNames": [],
        "PAPIProcedure": PROCEDURE_PATRON_REGISTRATION, "PAPIProcedureStep": step or 0, "PAPIAction": action,
        "PAPIActionProcedure": 0, "PAPIPromptType": prompt_type, "PAPIStopType": stop_type, "PAPIReturnCode": code,
        "Success": success, "Message": message,
    }
    result.update(extra)
    return result
