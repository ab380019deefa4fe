"""FOLIO's wire conventions as the emulator answers them: RMB errors, edge errors, parameters, bodies.

Bodies are checked against the same schemas, with the same format rules, as the client checks
them before sending (:mod:`fsi_patron_kit.folio._schemas`), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

from ...folio import _schemas
from ...folio._validate import validator_for

MAX_INT = 2147483647
_FOLIO_UUID = re.compile(_schemas.UUID.removeprefix("^").removesuffix("$"))
_ANY_UUID = re.compile(_schemas.ANY_UUID.removeprefix("^").removesuffix("$"))



def text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def refuse(response: Response) -> NoReturn:
    """End the request with ``response``."""
    abort(response)


def rmb_errors(status: int, message: str, code: str | None = None, **parameters: str) -> Response:
    """RMB's error shape: ``{"errors": [{"message", "type", "code", "parameters"}], "total_records"}``."""
    error: dict[str, Any] = {"message": message, "type": "error"}
    if code:
        error["code"] = code
    error["parameters"] = [{"key": key, "value": value} for key, value in parameters.items()]
    return answer(status, {"errors": [error], "total_records": 1})


def edge_error(status: int, code: str) -> Response:
    """Document 003's edge error: ``{"code": <status>, "errorMessage": <CODE>}``."""
    return answer(status, {"code": status, "errorMessage": code})


def json_object(request: Request, *, bad: str = "Json content error") -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        refuse(text(400, bad))
    return body


def violations(schema: Mapping[str, Any], body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, problem, value) for each way ``body`` breaks the schema, a missing field as RMB says it."""
    found: dict[str, tuple[str, str]] = {}
    for error in validator_for(schema).iter_errors(body):  # the client's own compiled validator
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    found[f"{path}.{name}".lstrip(".")] = ("must not be null", "null")
        else:
            value = error.instance if isinstance(error.instance, str) else json.dumps(error.instance)
            found[path or "body"] = (error.message, value)
    return [(field, problem, value) for field, (problem, value) in sorted(found.items())]


def valid_body(request: Request, schema: Mapping[str, Any], *, only: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
    """The JSON body, or 422 with RMB validation errors (``type`` "1", ``code`` "-1").

    ``only``: check just the fields that schema names (a cancellation may come as a whole hold).
    """
    body = json_object(request)
    checked = {k: v for k, v in body.items() if k in only["properties"]} if only is not None else body
    problems = violations(only if only is not None else schema, checked)
    if problems:
        errors = [{"message": problem, "type": "1", "code": "-1", "parameters": [{"key": field, "value": value}]}
                  for field, problem, value in problems]
        refuse(answer(422, {"errors": errors, "total_records": len(errors)}))
    return body


def valid_patron(request: Request) -> dict[str, Any]:
    """An ``external_patron`` body, or 422 naming the first problem in edge's error shape."""
    body = json_object(request, bad="unable to process request")
    problems = violations(_schemas.EXTERNAL_PATRON, body)
    if problems:
        field, problem, _ = problems[0]
        refuse(edge_error(422, f"{field}: {problem}"))
    return body


def is_uuid(value: str, *, any_version: bool = False) -> bool:
    """Whether ``value`` is a UUID in FOLIO's pattern (versions 1-5), or of any version."""
    return (_ANY_UUID if any_version else _FOLIO_UUID).fullmatch(value) is not None


def check_uuid(name: str, value: str) -> None:
    """A path id RMB checks against the document's pattern: 400 text/plain if it breaks it."""
    if not is_uuid(value):
        refuse(text(400, f"'{name}' parameter is incorrect. parameter value {{{value}}} is not valid: "
                         f"must match \"{_schemas.UUID}\""))


def flag(args: MultiDict, name: str) -> bool:
    raw = args.get(name)
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    refuse(text(400, f"'{name}' parameter is incorrect. parameter value {{{raw}}} is not valid: must be true or false"))


def whole(args: MultiDict, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > MAX_INT:
        refuse(text(400, f"'{name}' parameter is incorrect. parameter value {{{raw}}} is not valid: "
                         f"must be an integer from 0 to {MAX_INT}"))
    return int(raw)


def arranger(args: MultiDict) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """Sorting (CQL ``field/sort.ascending|descending``, several keys allowed) and paging for each list."""
    offset, limit = whole(args, "offset", 0), whole(args, "limit", MAX_INT)
    keys: list[tuple[str, bool]] = []
    for term in (args.get("sortBy") or "").split():
        field, _, modifier = term.partition("/")
        if modifier not in ("", "sort.ascending", "sort.descending"):
            refuse(text(400, f"unable to process request -- unsupported sort modifier in sortBy: {term}"))
        keys.append((field, modifier == "sort.descending"))

    def arrange(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for field, descending in reversed(keys):
            present = [r for r in records if dig(r, field) is not None]
            absent = [r for r in records if dig(r, field) is None]
            records = sorted(present, key=lambda r: _sort_value(dig(r, field)), reverse=descending) + absent
        return records[offset:offset + limit]

    return arrange


def dig(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sort_value(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
