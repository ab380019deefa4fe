"""Reading patrons: ``GET patrons/{id}``, barcode to id and id to barcode.

A staff user without "Patron Registration: Access" gets ``Registration.PrivateFieldsCleared``
true, with addresses, custom fields (User1-5), phones, gender, username and password blanked.
"""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

from ._data import StaffUser
from ._wire import BAD_REQUEST, PATRON_NOT_FOUND, json_answer, pas_error

#: GET patron's optional flags and the values each accepts.
FLAGS = {"precheckoutbrief": ("0", "1"), "basicdata": ("0", "1"), "headerdata": ("0", "1"),
         "blockssummary": ("0", "1"), "dateinfo": ("0", "1"), "regpermissionpriority": ("true", "false")}
BLANKED_TEXT = ("User1", "User2", "User3", "User4", "User5", "PhoneVoice1", "PhoneVoice2", "PhoneVoice3",
                "PhoneFAX", "Username", "Password")
BLANKED_NULL = ("Gender", "TxtPhoneNumber", "Phone1CarrierID", "Phone2CarrierID", "Phone3CarrierID")


def not_found(patron_id: Any) -> Response:
    return pas_error(404, PATRON_NOT_FOUND, f"Patron with ID {patron_id} not found.")


def patron_id_of(text: str) -> int:
    if not text.isdigit():
        abort(pas_error(400, BAD_REQUEST, "The request is invalid.", f"'{text}' is not a valid patron ID."))
    return int(text)


def get_patron(request: Request, patrons: dict[int, dict[str, Any]], staff: StaffUser, patron_id: str) -> Response:
    for name, value in request.args.items():
        allowed = FLAGS.get(name.lower())
        if allowed is None or value.lower() not in allowed:
            abort(pas_error(400, BAD_REQUEST, "The request is invalid.",
                            f"Unknown query parameter or value: {name}"))
    found = patrons.get(patron_id_of(patron_id))
    if found is None:
        abort(not_found(patron_id))
    return json_answer(shown_to(staff, found))


def shown_to(staff: StaffUser, patron: dict[str, Any]) -> dict[str, Any]:
    """The patron as ``staff`` may see it."""
    answer = copy.deepcopy(patron)
    registration = answer["Registration"]
    registration["PrivateFieldsCleared"] = not staff.registration_access
    if not staff.registration_access:
        registration.update({name: "" for name in BLANKED_TEXT})
        registration.update({name: None for name in BLANKED_NULL})
        registration["Addresses"] = []
    return answer


def patron_id_for_barcode(request: Request, patrons: dict[int, dict[str, Any]], *, as_list: bool) -> Response:
    """``GET ids/patrons?id={barcode}&type=barcode`` (``barcode=`` also accepted): a bare JSON number,
    or a one-element list as some sites answer."""
    barcode = request.args.get("id") or request.args.get("barcode")
    if request.args.get("type", "").lower() != "barcode" or not barcode:
        abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "Give id={barcode} and type=barcode."))
    found = next((p for p in patrons.values() if p["Barcode"] == barcode), None)
    if found is None:
        abort(pas_error(404, PATRON_NOT_FOUND, f"Patron with barcode {barcode} not found."))
    return json_answer([found["PatronID"]] if as_list else found["PatronID"])


def barcode_for_patron_id(patrons: dict[int, dict[str, Any]], patron_id: str) -> Response:
    """``GET barcodes/patrons/{id}``: the barcode as a quoted JSON string."""
    found = patrons.get(patron_id_of(patron_id))
    if found is None:
        abort(not_found(patron_id))
    return json_answer(found["Barcode"])
