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

import fnmatch
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jsonschema import Draft4Validator
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import abort
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ._foliodata import iso

MAX_INT = 2147483647
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

#: The gateway's mod-users routes; their endpoints are the methods of :class:`ModUsers`.
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


class ModUsers:
    """mod-users over the emulator's live user list (the caller holds the emulator's lock)."""

    def __init__(self, *, users: list[dict[str, Any]], groups: dict[str, str], now: Callable[[], datetime],
                 write: Callable[[str], None]) -> None:
        self._users = users
        self._groups = [{"group": name, "desc": GROUP_DESCRIPTIONS.get(name, name), "id": group_id,
                         "source": "System"} for name, group_id in groups.items()]
        self._now = now
        self._write = write

    def handler(self, endpoint: str) -> Callable[..., Response] | None:
        """The method serving ``endpoint``, if it is one of mod-users'."""
        return getattr(self, endpoint) if any(rule.endpoint == endpoint for rule in ROUTES) else None

    def users(self, request: Request) -> Response:
        return _collection(request, "users", self._users)

    def groups(self, request: Request) -> Response:
        return _collection(request, "usergroups", self._groups)

    def user(self, request: Request, user_id: str) -> Response:
        return _json(200, self._find(user_id))

    def replace_user(self, request: Request, user_id: str) -> Response:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            abort(_text(400, "Json content error"))
        problems = _violations(body)
        if problems:
            abort(_json(422, {"errors": problems, "total_records": len(problems)}))
        if body.setdefault("id", user_id) != user_id:
            abort(_text(400, "You cannot change the value of the id field"))
        user = self._find(user_id)
        if "patronGroup" in body and body["patronGroup"] not in {g["id"] for g in self._groups}:
            abort(_text(400, f"Cannot update user: patron group {body['patronGroup']} not found"))
        for field, message in UNIQUE:
            if body.get(field) and any(u.get(field) == body[field] and u is not user for u in self._users):
                abort(_json(422, {"errors": [_error(message, field, body[field])], "total_records": 1}))
        created = {k: v for k, v in user.get("metadata", {}).items() if k.startswith("created")}
        updater = request.environ["folio.user_id"]
        user.clear()
        user.update(body)
        user["metadata"] = {**created, "updatedDate": iso(self._now()), "updatedByUserId": updater}
        self._write(user_id)
        return Response(status=204)

    def _find(self, user_id: str) -> dict[str, Any]:
        user = next((u for u in self._users if u["id"] == user_id), None)
        if user is None:
            abort(_text(404, "User not found"))
        return user


# -- collections: CQL, sorting, paging -------------------------------------------------------------
def _collection(request: Request, name: str, records: list[dict[str, Any]]) -> Response:
    offset, limit = _whole(request.args, "offset", 0), _whole(request.args, "limit", DEFAULT_LIMIT)
    total_mode = request.args.get("totalRecords", "auto")
    if total_mode not in TOTAL_RECORDS:
        abort(_text(400, f"'totalRecords' parameter is incorrect. parameter value {{{total_mode}}} is not valid: "
                         f"must match \"{'|'.join(TOTAL_RECORDS)}\""))
    try:
        matches, sort_keys = Cql(request.args.get("query") or "cql.allRecords=1").parse()
    except CqlError as problem:
        abort(_text(400, f"unable to list {'groups' if name == 'usergroups' else name} -- malformed parameter "
                         f"'query', {problem}"))
    found = [r for r in records if matches(r)]
    for field, descending in reversed(sort_keys):
        present = [r for r in found if _dig(r, field) is not None]
        absent = [r for r in found if _dig(r, field) is None]
        found = sorted(present, key=lambda r: _text_of(_dig(r, field)), reverse=descending) + absent
    answer: dict[str, Any] = {name: found[offset:offset + limit]}
    if total_mode != "none":
        answer["totalRecords"] = len(found)
        answer["resultInfo"] = {"totalRecords": len(found), "facets": [], "diagnostics": []}
    return _json(200, answer)


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


def _dig(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _whole(args: MultiDict, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > MAX_INT:
        abort(_text(400, f"'{name}' parameter is incorrect. parameter value {{{raw}}} is not valid: "
                         f"must be an integer from 0 to {MAX_INT}"))
    return int(raw)


# -- answers ---------------------------------------------------------------------------------------
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


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
