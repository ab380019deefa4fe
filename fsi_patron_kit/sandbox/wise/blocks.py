"""Blocks on a patron, per library: read them, set or remove them."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from .routes import route, staff
from .state import Store
from .wire import (
    BLOCK_FLAGS,
    blocks_dto,
    invalid,
    json_body,
    json_response,
    patron_or_404,
    problem,
)

PATH = "/patronmanagement/patron/<patron_system_id>/library/<library_id>/property/blocking"


@route(PATH, "GET", staff("ACTOREN_READ"))
def get_blocks(store: Store, request: Request, patron_system_id: str, library_id: str) -> Response:
    return json_response(blocks_dto(patron_or_404(store, request, patron_system_id, library_id), library_id))


@route(PATH, "PUT", staff("ACTOREN_READ"))
def set_blocks(store: Store, request: Request, patron_system_id: str, library_id: str) -> Response:
    """The body is the whole blocking DTO: a flag left out is false, as the DTO's default."""
    patron = patron_or_404(store, request, patron_system_id, library_id)
    body = json_body(request)
    problems = [problem(flag, "INVALID_VALUE", f"{flag} must be true or false")
                for flag in BLOCK_FLAGS if flag in body and not isinstance(body[flag], bool)]
    problems += [problem(name, "INVALID_VALUE", f"{name} must be text")
                 for name in ("blockMessage", "blockDetails") if name in body and not isinstance(body[name], str)]
    if problems:
        invalid(body, problems)
    state: dict[str, Any] = {flag: bool(body.get(flag, False)) for flag in BLOCK_FLAGS}
    state.update(blockMessage=body.get("blockMessage", ""), blockDetails=body.get("blockDetails", ""))
    patron["blocks"][library_id] = state
    store.touch(patron)
    store.counters.write(patron_system_id)
    return json_response(blocks_dto(patron, library_id))

