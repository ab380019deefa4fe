"""Workflows over every vendor: the canonical patron frame, audits and their checks, write validation."""

from .audit import Audit, audit
from .canonical import CANONICAL, COLUMNS, patrons
from .checks import Check, available_checks, check
from .validate import validate

__all__ = ["patrons", "audit", "Audit", "validate", "check", "available_checks", "Check", "CANONICAL", "COLUMNS"]
