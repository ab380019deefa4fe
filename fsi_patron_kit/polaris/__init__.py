"""Polaris ApplicationServices: staff login, patrons, and the registration update conversation."""

from ._validate import InvalidRegistration
from .client import Client
from .conversation import (
    DEFAULT_RULES,
    Conversation,
    Pay,
    Policy,
    Prompt,
    PromptRequired,
    Reply,
    Round,
    RoundLimitExceeded,
)
from .models import (
    DisplayProperty,
    DuplicatePatron,
    PAPIAction,
    PAPIProcedure,
    PAPIProcedureStatus,
    PAPIProcedureStep,
    PAPIPromptResult,
    PAPIPromptType,
    PAPIStopType,
    Patron,
    PatronAddress,
    PatronRegistration,
    PatronRegResult,
    PatronRegUpdateData,
)

__all__ = [
    "Client", "Conversation", "Round", "Prompt", "Reply", "Pay", "Policy", "DEFAULT_RULES",
    "PromptRequired", "RoundLimitExceeded", "InvalidRegistration",
    "PAPIProcedureStatus", "PAPIProcedure", "PAPIProcedureStep", "PAPIAction", "PAPIStopType",
    "PAPIPromptType", "PAPIPromptResult",
    "Patron", "PatronRegistration", "PatronAddress", "PatronRegUpdateData", "PatronRegResult",
    "DuplicatePatron", "DisplayProperty",
]
