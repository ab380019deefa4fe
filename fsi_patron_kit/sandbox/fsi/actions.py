"""FSI's actions, as functions over the tenant, in both dialects real tenants accept.

The document's dialect: ``getcode``, ``gettoken``, ``renewtoken``, ``searchpatron`` (a free-text
``keyword``), ``getpatron``, ``setpatron`` (``itemindex``, upper-case roles). The production
dialect a public integration uses against real tenants: underscored action names, ``index`` for
``itemindex``, title-case roles, ``allownew`` as form text, and a structured find-form
``keyword``: criteria ``keyword[i][tokens][j][key|value]`` whose tokens name ``findform_key`` (a
field, or ``ALL``), ``findform_value``, ``findform_condition`` (``AND``), ``findform_method``
(``CONTAIN``) and ``findform_type`` (``STRING``). A JSON post may send the same criteria as a
list, ``[{"tokens": [{"key": ..., "value": ...}, ...]}]``.

Each action takes the lock it needs for as long as it needs it: sessions their own, searches and
lookups the patrons' read lock, ``setpatron`` their write lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from .state import KEYFIELDS, PATRON_FIELDS, Record, Tenant, key_of, normal

ROLES = ("STUDENT", "TEACHER", "PARENT", "LIBRARIAN")
MAX_PAGECOUNT = 1000
MSG_BAD_TOKEN = "Invalidate session token."
#: The production dialect's action names, beside the document's.
DIALECT_ACTIONS = {"get_code": "getcode", "get_token": "gettoken", "search_patron": "searchpatron",
                   "get_patron": "getpatron", "set_patron": "setpatron"}
FINDFORM_FIELDS = (*PATRON_FIELDS, "fullname")
FINDFORM_CONDITIONS = ("AND", "OR")
_FORM_TOKEN = re.compile(r"keyword\[(\d+)\]\[tokens\]\[(\d+)\]\[(key|value)\]")

Params = dict[str, Any]
Action = Callable[[Tenant, Params], dict[str, Any]]


class Failure(Exception):
    """An FSI-style failure: answered as ``{"result": false, "msg": ...}`` with HTTP 200."""


# -- authentication --------------------------------------------------------------------------
def getcode(tenant: Tenant, params: Params) -> dict[str, Any]:
    if _text(params, "apikey") != tenant.credentials.apikey:
        raise Failure("Invalid API key.")
    return {"code": tenant.sessions.new_code()}


def gettoken(tenant: Tenant, params: Params) -> dict[str, Any]:
    fresh = tenant.sessions.use_code(_required(params, "code"))  # one use only, whatever happens next
    if not fresh:
        raise Failure("Invalid or expired code.")
    if _required(params, "apisecret") != tenant.credentials.apisecret:
        raise Failure("Invalid API secret.")
    return tenant.sessions.open()


def renewtoken(tenant: Tenant, params: Params) -> dict[str, Any]:
    token = _required(params, "token")
    if _required(params, "apisecret") != tenant.credentials.apisecret:
        raise Failure("Invalid API secret.")
    if not tenant.sessions.renew(token, _required(params, "renewtoken")):
        raise Failure("Invalid renew token.")
    return tenant.sessions.open()


def _check_token(tenant: Tenant, params: Params) -> None:
    if not tenant.sessions.is_live(_text(params, "token")):
        raise Failure(MSG_BAD_TOKEN)


# -- patrons ---------------------------------------------------------------------------------
def searchpatron(tenant: Tenant, params: Params) -> dict[str, Any]:
    _check_token(tenant, params)
    page = _integer(params, "pagenumber", default=1, minimum=1)
    size = _integer(params, "pagecount", default=50, minimum=1)
    if size > MAX_PAGECOUNT:
        raise Failure(f"Invalid pagecount: at most {MAX_PAGECOUNT}.")
    size = min(size, tenant.page_cap or size)
    key, accepts = _search_filter(params)
    with tenant.school.lock.reading():
        found = [dict(r) for r in tenant.school.page(key, accepts, (page - 1) * size, size)]
    return {"result": True, "item": found}


def getpatron(tenant: Tenant, params: Params) -> dict[str, Any]:
    _check_token(tenant, params)
    keyfield = _keyfield(params)
    value = _required(params, "keyvalue")
    with tenant.school.lock.reading():
        found = [dict(r) for r in tenant.school.matching(keyfield, value)]
    if not found:
        raise Failure("Patron not found.")
    return {"result": True, "item": found}


def setpatron(tenant: Tenant, params: Params) -> dict[str, Any]:
    _check_token(tenant, params)
    keyfield = _keyfield(params)
    itemindex = _integer(params, "itemindex" if "itemindex" in params else "index", default=None, minimum=1)
    allownew = _boolean(params, "allownew")
    changes = {f: str(params[f]) for f in PATRON_FIELDS if f in params and params[f] is not None}
    if changes.get("role"):
        if changes["role"].upper() not in ROLES:
            raise Failure(f"Invalid role: must be one of {', '.join(ROLES)}.")
        changes["role"] = changes["role"].upper()
    key = key_of({**dict.fromkeys(PATRON_FIELDS, ""), **changes}, keyfield)
    if not key:
        raise Failure(f"Missing key value: {keyfield}.")
    school = tenant.school
    with school.lock.writing():
        found = school.matching(keyfield, key)
        if len(found) > 1:
            raise Failure(f"Multiple patrons match {keyfield}.")
        owner = school.owner_of_barcode(changes["barcode"]) if changes.get("barcode") else None
        if owner is not None and (not found or owner is not found[0]):
            raise Failure("Barcode already exists.")
        if found:
            record, outcome = found[0], "updated"
            school.update(record, changes)
        elif allownew:
            record, outcome = {**dict.fromkeys(PATRON_FIELDS, ""), "barcode": school.next_barcode(), **changes}, "created"
            school.add(record)
        else:
            raise Failure("Patron not found.")
        answer = dict(record)
    tenant.counters.write(answer["barcode"])
    return {"result": True, "itemindex": itemindex, "msg": f"Patron {outcome}.", "item": [answer]}


ACTIONS: dict[str, Action] = {
    "getcode": getcode,
    "gettoken": gettoken,
    "renewtoken": renewtoken,
    "searchpatron": searchpatron,
    "getpatron": getpatron,
    "setpatron": setpatron,
}


# -- searching -------------------------------------------------------------------------------
@attrs.frozen
class Criterion:
    """One find-form criterion: ``field`` (a patron field, ``fullname`` or ``ALL``) contains ``value``."""

    field: str
    value: str
    condition: str

    def accepts(self, record: Record) -> bool:
        if self.field == "ALL":
            return self.value in _haystack(record)
        return self.value in (key_of(record, "fullname") if self.field == "fullname" else record[self.field].lower())


def _search_filter(params: Params) -> tuple[Any, Callable[[Record], bool]]:
    """The name of the search's filter (None: every patron) and the test a record must pass."""
    criteria = _find_form(params)
    if criteria:
        def accepts(record: Record) -> bool:
            verdict = criteria[0].accepts(record)
            for criterion in criteria[1:]:
                verdict = (verdict and criterion.accepts(record)) if criterion.condition == "AND" \
                    else (verdict or criterion.accepts(record))
            return verdict

        return ("findform", criteria), accepts
    keyword = "" if isinstance(params.get("keyword"), list) else normal(_text(params, "keyword"))
    return (("keyword", keyword) if keyword else None), lambda record: keyword in _haystack(record)


def _find_form(params: Params) -> tuple[Criterion, ...]:
    """The structured keyword's criteria, from form fields or a JSON list; empty if there is none."""
    raw = params.get("keyword")
    if isinstance(raw, list):
        groups = [item.get("tokens") if isinstance(item, dict) else None for item in raw]
        if not all(isinstance(tokens, list) for tokens in groups):
            raise Failure("Invalid keyword: each criterion needs a list of tokens.")
        tokens = [[(t.get("key"), t.get("value")) if isinstance(t, dict) else (None, None) for t in group]
                  for group in groups]
    else:
        fields: dict[int, dict[int, dict[str, Any]]] = {}
        for name, value in params.items():
            match = _FORM_TOKEN.fullmatch(name)
            if match:
                criterion, token, part = match.groups()
                fields.setdefault(int(criterion), {}).setdefault(int(token), {})[part] = value
        tokens = [[(t.get("key"), t.get("value")) for _, t in sorted(group.items())]
                  for _, group in sorted(fields.items())]
    return tuple(_criterion(dict(pairs)) for pairs in tokens)


def _criterion(tokens: dict[Any, Any]) -> Criterion:
    def token(name: str, allowed: tuple[str, ...] | None = None) -> str:
        value = tokens.get(name)
        if not isinstance(value, str) or (allowed is None and not value.strip()):
            raise Failure(f"Invalid keyword: {name} is missing.")
        if allowed is not None and value.strip().upper() not in allowed:
            raise Failure(f"Invalid keyword: {name} must be {' or '.join(allowed)}.")
        return value.strip().upper() if allowed is not None else value

    field = token("findform_key").strip()
    if field.upper() != "ALL" and field.lower() not in FINDFORM_FIELDS:
        raise Failure(f"Invalid keyword: findform_key must be ALL or one of {', '.join(FINDFORM_FIELDS)}.")
    value = tokens.get("findform_value")
    if not isinstance(value, str):
        raise Failure("Invalid keyword: findform_value is missing.")
    condition = token("findform_condition", FINDFORM_CONDITIONS)
    token("findform_method", ("CONTAIN",))
    token("findform_type", ("STRING",))
    return Criterion(field="ALL" if field.upper() == "ALL" else field.lower(), value=normal(value), condition=condition)


def _haystack(record: Record) -> str:
    return " ".join(str(record[f]) for f in PATRON_FIELDS).lower() + " " + key_of(record, "fullname")


# -- parameters ------------------------------------------------------------------------------
def _text(params: Params, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)


def _required(params: Params, name: str) -> str:
    value = _text(params, name)
    if not value.strip():
        raise Failure(f"Missing parameter: {name}.")
    return value


def _keyfield(params: Params) -> str:
    keyfield = _required(params, "keyfield").lower()
    if keyfield not in KEYFIELDS:
        raise Failure(f"Invalid keyfield: must be one of {', '.join(KEYFIELDS)}.")
    return keyfield


def _integer(params: Params, name: str, *, default: int | None, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise Failure(f"Missing parameter: {name}.")
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise Failure(f"Invalid {name}: must be an integer.") from None
    if value < minimum:
        raise Failure(f"Invalid {name}: must be at least {minimum}.")
    return value


def _boolean(params: Params, name: str) -> bool:
    raw = params.get(name, False)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise Failure(f"Invalid {name}: must be true or false.")
