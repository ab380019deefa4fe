"""mod-users in the FOLIO emulator: list users and patron groups with CQL, read and replace a user.

Served by the gateway beside mod-patron, with the same tenant header, token, faults and counters:

* ``GET /users?query=<CQL>&offset=&limit=&totalRecords=`` -> 200 ``{users, totalRecords, resultInfo}``;
* ``GET /users/{id}`` -> 200 user, 404 text/plain ``User not found``;
* ``PUT /users/{id}`` replaces the whole user -> 204; 400 text/plain for a body that is not a JSON
  object, an ``id`` other than the path's or an unknown ``patronGroup``; 404 ``User not found``;
  422 RMB errors for a body that breaks mod-users' user schema, or a ``username``, ``barcode`` or
  ``externalSystemId`` another user has;
* ``GET /groups`` (same query and paging) -> 200 ``{usergroups, totalRecords}``.

The CQL subset: ``index==value`` (the whole value), ``index=value`` (every word of the value is a
word of the field), ``index<>value``, ``*`` as a wildcard in values, ``and``, ``or`` (equal
precedence, left to right, as CQL has it), parentheses, ``cql.allRecords=1``, and ``sortBy index``
with ``/sort.ascending`` or ``/sort.descending`` modifiers. Matching ignores case, as RMB's does.
Dotted indexes reach into records, and through lists (``personal.addresses.city``). Anything else is 400 text/plain
``unable to list users -- malformed parameter 'query', ...``, as RMB answers.
``limit`` defaults to 10 (RMB's default) and ``offset`` to 0.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft4Validator
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .data import PATRON_GROUPS, iso
from .state import TenantState
from .wire import answer, dig, json_object, refuse, text, whole

DEFAULT_LIMIT = 10
TOTAL_RECORDS = ("exact", "estimated", "none", "auto")
GROUP_DESCRIPTIONS = {
    "Remote Non-circulating": "Remote patrons registered through edge-patron",
    "Basic -- Minor (INTERNAL)": "Patrons under 18",
    "undergrad": "Undergraduate Student",
    "graduate": "Graduate Student",
    "faculty": "Faculty Member",
    "staff": "Staff Member",
}
GROUPS = [{"group": name, "desc": GROUP_DESCRIPTIONS.get(name, name), "id": group_id, "source": "System"}
          for name, group_id in PATRON_GROUPS.items()]

#: The gateway's mod-users routes.
ROUTES = [
    Rule("/users", methods=["GET"], endpoint="users"),
    Rule("/users/<user_id>", methods=["GET"], endpoint="user"),
    Rule("/users/<user_id>", methods=["PUT"], endpoint="replace_user"),
    Rule("/groups", methods=["GET"], endpoint="groups"),
]

_STRING = {"type": "string"}
_UUID = {"type": "string", "pattern": "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[1-5][a-fA-F0-9]{3}-[89abAB][a-fA-F0-9]{3}-[a-fA-F0-9]{12}$"}
_ADDRESS = {"type": "object", "additionalProperties": False, "required": ["addressTypeId"], "properties": {
    "id": _STRING, "countryId": _STRING, "addressLine1": _STRING, "addressLine2": _STRING, "city": _STRING,
    "region": _STRING, "postalCode": _STRING, "addressTypeId": _UUID, "primaryAddress": {"type": "boolean"}}}
#: mod-users' userdata.json, with its references resolved.
USER_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        **{name: _STRING for name in ("username", "id", "externalSystemId", "barcode", "type", "enrollmentDate",
                                      "expirationDate", "createdDate", "updatedDate")},
        "active": {"type": "boolean"},
        "patronGroup": _UUID,
        "departments": {"type": "array", "uniqueItems": True, "items": _UUID},
        "meta": {"type": "object"},
        "proxyFor": {"type": "array", "items": _STRING},
        "personal": {
            "type": "object", "additionalProperties": False, "required": ["lastName"],
            "properties": {
                **{name: _STRING for name in ("lastName", "firstName", "middleName", "preferredFirstName", "email",
                                              "phone", "mobilePhone", "dateOfBirth", "preferredContactTypeId",
                                              "profilePictureLink")},
                "pronouns": {"type": "string", "maxLength": 300},
                "addresses": {"type": "array", "items": _ADDRESS},
                "preferredContactTypeIds": {"type": "array", "items": _STRING},
            },
        },
        "metadata": {"type": "object"},
        "tags": {"type": "object"},
        "customFields": {"type": "object"},
        "preferredEmailCommunication": {"type": "array", "maxItems": 3, "uniqueItems": True,
                                        "items": {"type": "string", "enum": ["Support", "Programs", "Services"]}},
    },
}
USER = Draft4Validator(USER_SCHEMA)
UNIQUE = (("username", "User with this username already exists"),
          ("barcode", "This barcode has already been taken"),
          ("externalSystemId", "User with this externalSystemId already exists"))




def users(state: TenantState, request: Request) -> Response:
    with state.lock.reading():
        return _collection(request, "users", state.data.users)


def groups(state: TenantState, request: Request) -> Response:
    return _collection(request, "usergroups", GROUPS)


def user(state: TenantState, request: Request, user_id: str) -> Response:
    with state.lock.reading():
        return answer(200, copy.deepcopy(_find(state, user_id)))


def replace_user(state: TenantState, request: Request, user_id: str) -> Response:
    """Replace the whole user (mod-users' PUT), keeping the indexes right and its creation metadata."""
    body = json_object(request)
    problems = _violations(body)
    if problems:
        refuse(answer(422, {"errors": problems, "total_records": len(problems)}))
    if body.setdefault("id", user_id) != user_id:
        refuse(text(400, "You cannot change the value of the id field"))
    if "patronGroup" in body and body["patronGroup"] not in PATRON_GROUPS.values():
        refuse(text(400, f"Cannot update user: patron group {body['patronGroup']} not found"))
    updater = request.environ["folio.user_id"]
    with state.lock.writing():
        current = _find(state, user_id)
        for field, message in UNIQUE:
            if body.get(field) and any(u.get(field) == body[field] and u is not current for u in state.data.users):
                refuse(answer(422, {"errors": [_error(message, field, body[field])], "total_records": 1}))
        created = {k: v for k, v in current.get("metadata", {}).items() if k.startswith("created")}

        def replace(record: dict[str, Any]) -> None:
            record.clear()
            record.update(body)
            record["metadata"] = {**created, "updatedDate": iso(state.now()), "updatedByUserId": updater}

        state.change_user(current, replace)
        state.counters.write(user_id)
    return Response(status=204)


HANDLERS: dict[str, Callable[..., Response]] = {
    "users": users, "user": user, "replace_user": replace_user, "groups": groups,
}


def _find(state: TenantState, user_id: str) -> dict[str, Any]:
    found = state.user(user_id)
    if found is None:
        refuse(text(404, "User not found"))
    return found


# -- collections: CQL, sorting, paging -------------------------------------------------------------
def _collection(request: Request, name: str, records: list[dict[str, Any]]) -> Response:
    offset, limit = whole(request.args, "offset", 0), whole(request.args, "limit", DEFAULT_LIMIT)
    total_mode = request.args.get("totalRecords", "auto")
    if total_mode not in TOTAL_RECORDS:
        refuse(text(400, f"'totalRecords' parameter is incorrect. parameter value {{{total_mode}}} is not valid: "
                         f"must match \"{'|'.join(TOTAL_RECORDS)}\""))
    try:
        matches, sort_keys = Cql(request.args.get("query") or "cql.allRecords=1").parse()
    except CqlError as problem:
        refuse(text(400, f"unable to list {'groups' if name == 'usergroups' else name} -- malformed parameter "
                         f"'query', {problem}"))
    found = [r for r in records if matches(r)]
    for field, descending in reversed(sort_keys):
        present = [r for r in found if dig(r, field) is not None]
        absent = [r for r in found if dig(r, field) is None]
        found = sorted(present, key=lambda r: _text_of(dig(r, field)), reverse=descending) + absent
    page: dict[str, Any] = {name: copy.deepcopy(found[offset:offset + limit])}
    if total_mode != "none":
        page["totalRecords"] = len(found)
        page["resultInfo"] = {"totalRecords": len(found), "facets": [], "diagnostics": []}
    return answer(200, page)


class CqlError(ValueError):
    """A query outside the subset; the message says where, as RMB's does."""


_TOKEN = re.compile(r'\s*(\(|\)|==|<>|=|"(?:[^"\\]|\\.)*"|[^\s()=<>"]+)')
Matcher = Callable[[dict[str, Any]], bool]


class Cql:
    """A recursive-descent reader of the CQL subset, giving a record matcher and the sort keys."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, int]] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise CqlError(f"syntax error at column {position + 1}")
            self.tokens.append((match.group(1), match.start(1) + 1))
            position = match.end()
        self.at = 0

    def parse(self) -> tuple[Matcher, list[tuple[str, bool]]]:
        matcher = self._expression()
        sort_keys: list[tuple[str, bool]] = []
        if self._peek().lower() == "sortby":
            self.at += 1
            while self._peek():
                sort_keys.append(self._sort_key(self._take()))
            if not sort_keys:
                raise CqlError("sortBy without an index")
        if self._peek():
            raise CqlError(f"syntax error at column {self.tokens[self.at][1]}")
        return matcher, sort_keys

    def _expression(self) -> Matcher:
        matcher = self._term()
        while self._peek().lower() in ("and", "or"):
            operator, left, right = self._take().lower(), matcher, self._term()
            matcher = ((lambda r, a=left, b=right: a(r) and b(r)) if operator == "and"
                       else (lambda r, a=left, b=right: a(r) or b(r)))
        return matcher

    def _term(self) -> Matcher:
        if self._peek() == "(":
            self.at += 1
            matcher = self._expression()
            if self._take() != ")":
                raise CqlError("missing ')'")
            return matcher
        column = self.tokens[self.at][1] if self.at < len(self.tokens) else len(self.tokens) + 1
        index, relation, value = self._take(), self._take(), _unquote(self._take())
        if not index or index in ("(", ")") or relation not in ("==", "=", "<>") or not value:
            raise CqlError(f"syntax error at column {column}")
        if index.lower() == "cql.allrecords":
            return lambda r: True
        return _relation(index, relation, value)

    def _sort_key(self, token: str) -> tuple[str, bool]:
        field, _, modifier = token.partition("/")
        if modifier not in ("", "sort.ascending", "sort.descending"):
            raise CqlError(f"unsupported sort modifier {modifier}")
        return field, modifier == "sort.descending"

    def _peek(self) -> str:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else ""

    def _take(self) -> str:
        token = self._peek()
        self.at += 1
        return token


def _relation(index: str, relation: str, value: str) -> Matcher:
    wanted = value.lower()
    if relation == "=":
        words = wanted.split()
        return lambda r: any(all(any(fnmatch.fnmatchcase(w, want) for w in text.split()) for want in words)
                             or fnmatch.fnmatchcase(text, wanted) for text in _texts(r, index))
    if relation == "==":
        return lambda r: any(fnmatch.fnmatchcase(text, wanted) for text in _texts(r, index))
    return lambda r: not any(fnmatch.fnmatchcase(text, wanted) for text in _texts(r, index))


def _texts(record: dict[str, Any], index: str) -> list[str]:
    """Every value at the dotted ``index``, through lists (``personal.addresses.city``), as text."""
    values: list[Any] = [record]
    for part in index.split("."):
        values = [v.get(part) for v in values if isinstance(v, dict)]
        values = [item for v in values for item in (v if isinstance(v, list) else [v]) if item is not None]
    return [_text_of(v) for v in values]


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _violations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """RMB validation errors (``type`` "1", ``code`` "-1"), one per problem, field as the key."""
    problems = []
    for error in sorted(USER.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = next(n for n in error.validator_value if n not in error.instance)
            problems.append(_error("must not be null", f"{path}.{missing}".lstrip("."), "null"))
        elif error.validator == "additionalProperties":
            for extra in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                problems.append(_error("is not a property of a user", f"{path}.{extra}".lstrip("."), extra))
        else:
            value = error.instance if isinstance(error.instance, str) else json.dumps(error.instance)
            problems.append(_error(error.message, path or "body", value))
    return problems


def _error(message: str, key: str, value: str) -> dict[str, Any]:
    return {"message": message, "type": "1", "code": "-1", "parameters": [{"key": key, "value": value}]}
