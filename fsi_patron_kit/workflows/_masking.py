"""Masking personal values for sharing: emails as ``j***@domain``, names as initials.

A masked report still tells a colleague which domain an address is at and whose initials a
record has, enough to follow a finding up, but not the patron's identity.
"""

from __future__ import annotations

import pandas as pd

from .canonical import PERSONAL

__all__ = ["mask_values"]


def mask_values(values: pd.Series, fields: pd.Series) -> pd.Series:
    """``values`` (text) with those whose canonical field is personal masked; others unchanged."""
    masked = values.astype("string").copy()
    for field, kind in PERSONAL.items():
        rows = fields.eq(field).fillna(False).to_numpy() & masked.notna().to_numpy()
        if rows.any():
            masked[rows] = _MASKS[kind](masked[rows])
    return masked


def _email(values: pd.Series) -> pd.Series:
    text = values.str.strip()
    first = text.str[:1]
    domain = text.str.rsplit("@", n=1).str[-1]
    return (first + "***@" + domain).where(text.str.contains("@", regex=False), first + "***")


def _initials(values: pd.Series) -> pd.Series:
    return values.str.split().map(lambda words: " ".join(f"{w[0]}." for w in words) if words else "")


def _text(values: pd.Series) -> pd.Series:
    return values.str.strip().str[:1] + "***"


_MASKS = {"email": _email, "name": _initials, "text": _text}
