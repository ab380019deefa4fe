"""OCLC Wise: patron management and registration through the Wise REST API."""

from ._validate import InputProblems
from ._wire import Application, Problem, ValidationFailed, epoch_day, wise_key
from .client import Client
from .models import (
    Address,
    Applicant,
    Blocks,
    CardValidation,
    ExternalCustomer,
    LibraryCard,
    Patron,
    PatronLogin,
    Registration,
    RegistrationStep,
    StoredCustomer,
)

__all__ = [
    "Client", "wise_key", "epoch_day", "Application", "ValidationFailed", "Problem", "InputProblems",
    "Address", "Applicant", "Blocks", "CardValidation", "ExternalCustomer", "LibraryCard", "Patron", "PatronLogin",
    "Registration", "RegistrationStep", "StoredCustomer",
]
