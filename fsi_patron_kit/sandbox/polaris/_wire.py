"""How the Polaris sandbox answers: JSON bodies, PAS error bodies, and the 401 with no body."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

#: The sandbox's PAS error codes (Polaris does not publish its list; these are the sandbox's own).
PATRON_NOT_FOUND = 60021
BAD_REQUEST = 60001
NOT_FOUND = 60404
SERVER_FAULT = 60500


def json_answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def pas_error(status: int, code: int, message: str, detail: str | None = None) -> Response:
    """PAS's error body: ``{ErrorCode, Message, MessageDetail, StackTrace, InnerException, Data}``."""
    return json_answer({"ErrorCode": code, "Message": message, "MessageDetail": detail, "StackTrace": None,
                        "InnerException": None, "Data": {}}, status)


def unauthorized() -> Response:
    """PAS refuses credentials with a bare 401: no body at all."""
    return Response(b"", status=401)


def fault() -> Response:
    return pas_error(500, SERVER_FAULT, "An error has occurred.", "The sandbox injected a server fault.")


def json_object(request: Request) -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "The body must be a JSON object."))
    return body


def integer(value: Any) -> int | None:
    """An Int property as Polaris reads it: a JSON number or a numeric string (the document sends
    ``"ProcedureStep": "1"``); None when absent or not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def decimal(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
