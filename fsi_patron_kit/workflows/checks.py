"""Named checks over the canonical patron frame, and the decorator that adds one.

A check is a function of the whole frame that returns which rows fail it: a boolean Series
(every failing row is a finding on the check's field), or a DataFrame indexed by the failing rows
with a ``field`` column and, optionally, ``detail``. Checks are vectorised, so an audit of
100,000 patrons takes seconds. Every check has a severity, a one-line description and, from its
docstring, a docs entry (``pk.available_checks()`` lists them)::

    @pk.check("no_barcode", severity="warning", description="A patron without a barcode", field="barcode")
    def no_barcode(frame):
        return frame["barcode"].isna()

Details never hold personal data: they say what is wrong, the value itself is masked apart.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable

import attrs
import pandas as pd

from .._checks import EMAIL
from ..errors import InputError

__all__ = ["Check", "check", "available_checks", "registered", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")
CheckFunction = Callable[..., "pd.Series | pd.DataFrame"]


@attrs.frozen
class Check:
    """One named check: what it looks for, how bad a finding is, and the function that finds them."""

    name: str
    severity: str
    description: str
    field: str
    function: CheckFunction = attrs.field(repr=False)
    fix: Callable[[pd.Series], pd.Series] | None = attrs.field(default=None, repr=False)

    @property
    def docs(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or self.description)

    def run(self, frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
        """The failing rows as (row, field, detail), rows being positions in ``frame``."""
        wants_now = "now" in inspect.signature(self.function).parameters
        found = self.function(frame, now=now) if wants_now else self.function(frame)
        if isinstance(found, pd.Series):
            rows = found.index[found.fillna(False).astype(bool)]
            found = pd.DataFrame({"field": self.field}, index=rows)
        elif not isinstance(found, pd.DataFrame) or "field" not in found:
            raise InputError(f"check {self.name}", "must return a boolean Series or a DataFrame with a 'field' column")
        detail = found["detail"] if "detail" in found else pd.Series(pd.NA, index=found.index, dtype="string")
        return pd.DataFrame({"row": found.index.to_numpy(), "field": found["field"].to_numpy(),
                             "detail": detail.to_numpy()})


_registry: dict[str, Check] = {}


def check(name: str, *, severity: str = "warning", description: str, field: str,
          fix: Callable[[pd.Series], pd.Series] | None = None,
          replace: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check ``name`` (the audit runs every registered check).

    Args:
        name: how findings and the summary name it.
        severity: ``"error"``, ``"warning"`` or ``"info"``.
        description: one line, shown in the summary.
        field: the canonical column a finding points at (a check returning a DataFrame may say
            another per row).
        fix: how to mend a finding's value (text Series in, Series out), if that is mechanical;
            ``Audit.fixes()`` turns such findings into changes for a bulk plan.
        replace: allow replacing a check of the same name.
    """
    if severity not in SEVERITIES:
        raise InputError("severity", f"must be one of {', '.join(SEVERITIES)}")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InputError("name", "must be a snake_case name")
    if name in _registry and not replace:
        raise InputError("name", f"a check named {name} exists; pass replace=True to replace it")

    def register(function: CheckFunction) -> CheckFunction:
        _registry[name] = Check(name=name, severity=severity, description=description, field=field,
                                function=function, fix=fix)
        return function

    return register


def registered(names: Iterable[str | Check] | None = None) -> list[Check]:
    """The checks called ``names`` (all registered checks if None), in registration order."""
    if names is None:
        return list(_registry.values())
    chosen = []
    for name in names:
        if isinstance(name, Check):
            chosen.append(name)
        elif name in _registry:
            chosen.append(_registry[name])
        else:
            raise InputError("checks", f"unknown check {name!r} (one of {', '.join(_registry)})")
    return chosen


def available_checks() -> pd.DataFrame:
    """Every registered check: name, severity, field, description and its docs entry."""
    return pd.DataFrame([{"check": c.name, "severity": c.severity, "field": c.field, "description": c.description,
                          "docs": c.docs} for c in _registry.values()]).astype("string")


# -- helpers ------------------------------------------------------------------------------------------
SOURCE = ["vendor", "tenant"]


def _strip(values: pd.Series) -> pd.Series:
    return values.str.strip()


def _without_pipe(values: pd.Series) -> pd.Series:
    return values.str.replace(r"\s*\|\s*$", "", regex=True)


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.str.strip().eq("")


def _padded(values: pd.Series) -> pd.Series:
    return values.ne(values.str.strip()).fillna(False)


def _shared(frame: pd.DataFrame, column: str) -> pd.Series:
    """How many patrons of the same system share each row's value (compared trimmed, any case)."""
    key = frame[column].str.strip().str.lower()
    return key.groupby([frame[c] for c in SOURCE] + [key], dropna=False).transform("size").where(key.notna(), 0)


# -- the built-in checks ------------------------------------------------------------------------------
@check("duplicate_email", severity="error", field="email",
       description="An email another patron of the same system also has")
def duplicate_email(frame: pd.DataFrame) -> pd.DataFrame:
    """Patrons of one system that share an email address, compared trimmed and in any case.

    Every patron of the group is a finding. FOLIO refuses to register or look up by a shared
    email (``MULTIPLE_USER_WITH_EMAIL``), and notices go to the wrong person.
    """
    shared = _shared(frame, "email")
    hits = shared[shared > 1]
    return pd.DataFrame({"field": "email", "detail": "shared by " + hits.astype(str) + " patrons"}, index=hits.index)


@check("missing_email", severity="warning", field="email", description="No email address")
def missing_email(frame: pd.DataFrame) -> pd.Series:
    """The email is empty: the patron gets no notices, and an email-keyed sync cannot match them."""
    return _blank(frame["email"])


@check("malformed_email", severity="error", field="email",
       description="An email that is not a valid address (the kit's own email rule)")
def malformed_email(frame: pd.DataFrame) -> pd.Series:
    """An email present but not ``name@domain.tld`` without spaces: the rule every client applies
    before writing, so such a record cannot be written back with its email unchanged."""
    email = frame["email"]
    return ~_blank(email) & ~email.str.match(EMAIL.pattern).fillna(False)


@check("missing_name", severity="error", field="first_name", description="No first name or no last name")
def missing_name(frame: pd.DataFrame) -> pd.DataFrame:
    """The first or the last name is empty: notices and lists cannot address the patron, and
    systems that require both (Polaris's sandbox site requires NameFirst) refuse to save the
    record until it is filled in. Each empty name of each patron is a finding."""
    found = [pd.DataFrame({"field": column}, index=frame.index[_blank(frame[column])])
             for column in ("first_name", "last_name")]
    return pd.concat(found)


@check("stray_whitespace", severity="warning", field="first_name", fix=_strip,
       description="A name with leading or trailing spaces")
def stray_whitespace(frame: pd.DataFrame) -> pd.DataFrame:
    """First, last or preferred names with spaces before or after: matching by name fails."""
    found = [pd.DataFrame({"field": column}, index=frame.index[_padded(frame[column])])
             for column in ("first_name", "last_name", "preferred_name")]
    return pd.concat(found)


@check("username_whitespace", severity="warning", field="username", fix=_strip,
       description="A username with leading or trailing spaces")
def username_whitespace(frame: pd.DataFrame) -> pd.Series:
    """A username with spaces before or after: the patron types it without them and cannot log in."""
    return _padded(frame["username"])


@check("student_without_classgrade", severity="warning", field="class_grade",
       description="A student without a class grade")
def student_without_classgrade(frame: pd.DataFrame) -> pd.Series:
    """A field the role requires is missing: FSI students need a class grade (class lists,
    promotions at year end and loan rules by class depend on it)."""
    return frame["role"].str.upper().eq("STUDENT").fillna(False) & _blank(frame["class_grade"])


@check("classgrade_trailing_pipe", severity="warning", field="class_grade", fix=_without_pipe,
       description="A class grade ending in '|' (as some FSI tenants store it)")
def classgrade_trailing_pipe(frame: pd.DataFrame) -> pd.DataFrame:
    """FSI tenants can store a class grade with a trailing ``|`` and spaces (``"7|"``, ``"8 |"``):
    a sync comparing grades must strip them, or it rewrites every such student."""
    grade = frame["class_grade"]
    hits = grade.str.contains(r"\|\s*$", regex=True).fillna(False)
    clean = _without_pipe(grade[hits])
    return pd.DataFrame({"field": "class_grade", "detail": "reads as " + clean}, index=clean.index)


@check("duplicate_barcode", severity="error", field="barcode",
       description="A barcode another patron of the same system also has")
def duplicate_barcode(frame: pd.DataFrame) -> pd.Series:
    """Two patrons with one card: a checkout goes to whichever the system finds first."""
    return _shared(frame, "barcode") > 1


@check("expired_but_active", severity="error", field="expires",
       description="Active although the account has expired")
def expired_but_active(frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """The expiry date has passed but the account is still active: the patron keeps borrowing.
    FOLIO's expiry job should have made it inactive."""
    hits = frame["active"].eq(True).fillna(False) & (frame["expires"] < now).fillna(False)
    days = (now - frame.loc[hits, "expires"]).dt.days
    return pd.DataFrame({"field": "expires", "detail": "expired " + days.astype(str) + " days ago"}, index=days.index)


@check("inactive_account", severity="info", field="active", description="The account is not active")
def inactive_account(frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Inactive patrons, with whether their account has expired (expected) or not (blocked by hand,
    or deactivated early): a list to review, not necessarily an error."""
    inactive = frame["active"].eq(False).fillna(False)
    days = (now - frame.loc[inactive, "expires"]).dt.days
    detail = pd.Series("no expiry date", index=days.index, dtype="string")
    detail[days >= 0] = "expired " + days[days >= 0].astype(str) + " days ago"
    detail[days < 0] = "not expired (expires in " + (-days[days < 0]).astype(str) + " days)"
    return pd.DataFrame({"field": "active", "detail": detail}, index=days.index)


@check("inactive_with_open_loans", severity="warning", field="open_loans",
       description="An inactive patron who still has items on loan")
def inactive_with_open_loans(frame: pd.DataFrame) -> pd.DataFrame:
    """An inactive account with open loans (FOLIO's account): the items need chasing. Only rows
    whose loans were read (``open_loans`` present) can be found."""
    loans = frame["open_loans"]
    hits = frame["active"].eq(False).fillna(False) & (loans > 0).fillna(False)
    return pd.DataFrame({"field": "open_loans", "detail": loans[hits].astype(str) + " open loans"},
                        index=frame.index[hits])


#: The fields compared for one person across systems, and how a person is matched, in order.
CROSS_FIELDS = ("first_name", "last_name", "email", "barcode")
MATCH_BY = (("external id", ("external_id",)), ("email", ("email",)),
            ("name and birth date", ("first_name", "last_name", "birth_date")))


@check("cross_system_conflict", severity="warning", field="email",
       description="The same person differs in name, email or barcode between systems")
def cross_system_conflict(frame: pd.DataFrame) -> pd.DataFrame:
    """One person in several systems (matched by external id, then by email, then by name and
    birth date where known) whose name, email or barcode differ between them: one of them is
    out of date. Each differing field of each record is a finding."""
    source = frame["vendor"].str.cat(frame["tenant"].fillna(""), sep="/")
    unmatched = pd.Series(True, index=frame.index)
    found = []
    for how, columns in MATCH_BY:
        keys = [_normal(frame[c]) for c in columns]
        usable = unmatched & pd.concat([k.notna() for k in keys], axis=1).all(axis=1)
        if not usable.any():
            continue
        group = pd.Series(pd.factorize(pd.MultiIndex.from_arrays([k[usable] for k in keys]))[0],
                          index=frame.index[usable])
        systems = source[usable].groupby(group).transform("nunique")
        people = group[systems > 1]
        unmatched[people.index] = False
        for column in CROSS_FIELDS:
            if column in columns:
                continue
            values = _normal(frame.loc[people.index, column])
            differ = values.groupby(people).transform("nunique") > 1
            rows = people.index[differ.to_numpy()]
            found.append(pd.DataFrame({"field": column, "detail": f"differs between systems (matched by {how})"},
                                      index=rows))
    return pd.concat(found) if found else pd.DataFrame({"field": pd.Series(dtype="string")})


def _normal(values: pd.Series) -> pd.Series:
    if values.dtype == "string":
        return values.str.strip().str.lower().mask(lambda v: v.eq(""))
    return values

