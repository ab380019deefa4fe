"""FOLIO: mod-patron v4.2 through the gateway, and edge-patron's external ("LC") patrons."""

from ._wire import ApiKeyInfo, make_apikey, read_apikey
from .client import Client
from .edge import EdgeClient
from .models import (
    Account,
    Charge,
    ExternalPatron,
    ExternalPatronCollection,
    Hold,
    Item,
    Loan,
    Money,
    ServicePoint,
    StagingUser,
    User,
)

__all__ = [
    "Client", "EdgeClient", "make_apikey", "read_apikey", "ApiKeyInfo",
    "Account", "Charge", "ExternalPatron", "ExternalPatronCollection", "Hold", "Item", "Loan", "Money",
    "ServicePoint", "StagingUser", "User",
]
