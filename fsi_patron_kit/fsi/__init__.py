"""FSI SmartSuite-Library / SmarteCloud patron synchronisation API."""

from .client import Client, Page
from .models import FIELDS, KEYFIELDS, ROLES, Patron, SetResult

__all__ = ["Client", "Page", "Patron", "SetResult", "KEYFIELDS", "ROLES", "FIELDS"]
