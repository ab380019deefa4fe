"""The request bodies the FOLIO documents define, as JSON Schema (draft 4, as FOLIO writes them).

Transcribed from the vendor documents (mod-patron v4.2 and the edge "LC" contract), which are
the contract; the contract tests compare them with FOLIO's own upstream schemas. Where the two
disagree, the document wins and the difference is noted here.
"""

from __future__ import annotations

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
STAGING_STATUSES = ("TIER-1", "TIER-2")
EMAIL_COMMUNICATION = ("Support", "Programs", "Services")
HOLD_STATUSES = (
    "Open - Not yet filled",
    "Open - Awaiting pickup",
    "Open - Awaiting delivery",
    "Open - In transit",
    "New - Awaiting confirmation",
    "Closed - Filled",
    "Closed - Cancelled",
    "Closed - Unfilled",
    "Closed - Pickup expired",
)

_STRING = {"type": "string"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_UUID = {"type": "string", "pattern": UUID}
# The metadata schema (RMB's) accepts any UUID-shaped id, whatever its version.
ANY_UUID = r"^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$"
_ANY_UUID = {"type": "string", "pattern": ANY_UUID}

_PREFERRED_EMAIL = {
    "type": "array",
    "items": {"type": "string", "enum": list(EMAIL_COMMUNICATION)},
    "maxItems": 3,
    "uniqueItems": True,
}
_ADDRESS_INFO = {
    "type": "object",
    "properties": {k: _STRING for k in ("addressLine0", "addressLine1", "city", "province", "zip", "country")},
    "additionalProperties": False,
}
_CONTACT_INFO = {
    "type": "object",
    "properties": {"phone": _STRING, "mobilePhone": _STRING, "email": {"type": "string", "format": "email"}},
    "required": ["email"],
    "additionalProperties": False,
}
_METADATA = {
    "type": "object",
    "properties": {
        "createdDate": _DATE_TIME,
        "createdByUserId": _ANY_UUID,
        "createdByUsername": _STRING,
        "updatedDate": _DATE_TIME,
        "updatedByUserId": _ANY_UUID,
        "updatedByUsername": _STRING,
    },
    "required": ["createdDate"],
    "additionalProperties": False,
}

#: mod-patron POST /patron and PUT /patron/{externalSystemId}.
STAGING_USER = {
    "title": "staging user",
    "type": "object",
    "properties": {
        "id": _STRING,
        "isEmailVerified": {"type": "boolean"},
        "minor": {"type": "boolean"},
        "status": {"type": "string", "enum": list(STAGING_STATUSES)},
        "externalSystemId": _STRING,
        "generalInfo": {
            "type": "object",
            "properties": {k: _STRING for k in ("firstName", "preferredFirstName", "middleName", "lastName")},
            "required": ["firstName", "lastName"],
            "additionalProperties": False,
        },
        "addressInfo": _ADDRESS_INFO,
        "contactInfo": _CONTACT_INFO,
        "preferredEmailCommunication": _PREFERRED_EMAIL,
        "metadata": _METADATA,
    },
    "required": ["generalInfo", "contactInfo"],
    "additionalProperties": False,
}

#: edge POST /patron/account/{id} and PUT .../by-email/{email}. Upstream's schema also requires
#: every addressInfo field; the document's own answers leave some out, so they stay optional.
EXTERNAL_PATRON = {
    "title": "external patron",
    "type": "object",
    "properties": {
        "generalInfo": {
            "type": "object",
            "properties": {
                k: _STRING for k in ("externalSystemId", "firstName", "preferredFirstName", "middleName", "lastName")
            },
            "required": ["externalSystemId", "firstName", "lastName"],
            "additionalProperties": False,
        },
        "addressInfo": _ADDRESS_INFO,
        "contactInfo": _CONTACT_INFO,
        "preferredEmailCommunication": _PREFERRED_EMAIL,
    },
    "required": ["generalInfo", "addressInfo", "contactInfo"],
    "additionalProperties": False,
}

#: POST .../item/{itemId}/hold and .../instance/{instanceId}/hold (the hold schema).
HOLD = {
    "title": "hold",
    "type": "object",
    "properties": {
        "requestId": _STRING,
        "item": {
            "type": "object",
            "properties": {"instanceId": _UUID, "itemId": _UUID, "title": _STRING, "author": _STRING, "isbn": _STRING},
            "required": ["instanceId"],
            "additionalProperties": False,
        },
        "requestDate": _DATE_TIME,
        "expirationDate": _DATE_TIME,
        "status": {"type": "string", "enum": list(HOLD_STATUSES)},
        "pickupLocationId": _UUID,
        "queuePosition": {"type": "integer"},
        "cancellationReasonId": _UUID,
        "canceledByUserId": _UUID,
        "cancellationAdditionalInformation": _STRING,
        "canceledDate": _DATE_TIME,
        "patronComments": _STRING,
    },
    "required": ["requestDate", "pickupLocationId"],
    "additionalProperties": True,
}

#: The cancellation fields alone, checked before the hold they go with is read.
CANCELLATION_FIELDS = {
    "title": "hold cancellation",
    "type": "object",
    "properties": {k: HOLD["properties"][k] for k in (
        "cancellationReasonId", "canceledByUserId", "cancellationAdditionalInformation", "canceledDate")},
    "required": ["cancellationReasonId", "canceledByUserId"],
    "additionalProperties": False,
}

#: POST .../hold/{holdId}/cancel: the hold, with the cancellation fields it must now carry.
HOLD_CANCELLATION = {**HOLD, "title": "hold cancellation",
                     "required": ["requestDate", "pickupLocationId", "cancellationReasonId", "canceledByUserId"]}
