"""The shape every area of the emulator declares its endpoints in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from werkzeug.wrappers import Response

Handler = Callable[..., Response]

#: Who may call an endpoint: the WISE_KEY alone, a staff token with a permission, the patron's own
#: token (after patron or proxy authentication), or the payment account's token.
KEY = "key"
PATRON = "patron"
PAYMENT = "payment"


def staff(permission: str) -> str:
    return f"staff:{permission}"


@attrs.frozen
class Route:
    path: str
    method: str
    endpoint: str
    access: str
    handler: Handler


def route(path: str, method: str, access: str) -> Callable[[Handler], Handler]:
    """Declare ``handler`` as the endpoint ``method path`` (collected by :func:`routes_of`)."""

    def declare(handler: Handler) -> Handler:
        handler.route = Route(path, method, handler.__name__, access, handler)  # type: ignore[attr-defined]
        return handler

    return declare


def routes_of(*modules: Any) -> list[Route]:
    return [value.route for module in modules for value in vars(module).values() if hasattr(value, "route")]

