"""Polaris ApplicationServices on the wire: staff authentication, routes, and reading answers.

Staff log in with ``POST .../authentication/staffuser``, an empty body and ``Authorization:
Basic base64("DOMAIN\\user:password")``; the answer's ``AccessToken`` and ``AccessSecret`` go on
every later call as ``Authorization: PAS {siteDomain}:{AccessToken}:{AccessSecret}``, until
``AuthExpDate`` (the site's local time, without an offset). Failures come in three forms, and
:func:`decode` and :func:`refusal_of` read each into a typed exception with Polaris's code:

* a PAS error body ``{ErrorCode, Message, MessageDetail, StackTrace, InnerException, Data}``;
* a 401 with an empty body (credentials or token refused);
* HTTP 200 with a negative ``PAPIReturnCode``: not success, whatever the status says.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import requests

from .._http import Call, Transport, answer_error, json_answer
from .._redact import MASK, register_secret
from .._session import Grant, SessionAuth
from .._time import parse_iso
from ..config import Secret
from ..errors import APIError, AuthError, ConfigError, ConflictError
from .models import PAPIStopType, PatronRegResult, enum_or_int, name_of

VENDOR = "polaris"
SERVICE = "/Polaris.ApplicationServices/api"


@attrs.frozen
class Route:
    """Where a site's API lives: ``/api/v1/{lang}/{productId}/{siteDomain}/{orgId}/{workstationId}``."""

    lang: str
    product_id: int
    site_domain: str
    org_id: int
    workstation_id: int

    @property
    def login_path(self) -> str:
        return f"{SERVICE}/v1/{self.lang}/{self.product_id}/authentication/staffuser"

    def path(self, tail: str) -> str:
        scope = f"{self.lang}/{self.product_id}/{self.site_domain}/{self.org_id}/{self.workstation_id}"
        return f"{SERVICE}/v1/{scope}/{tail.lstrip('/')}"


@attrs.frozen
class StaffToken:
    """A staff session: the site domain to name, the token and its secret (never shown)."""

    site_domain: str
    access_token: str = attrs.field(repr=False)
    access_secret: str = attrs.field(repr=False)

    def header(self) -> str:
        return f"PAS {self.site_domain}:{self.access_token}:{self.access_secret}"


class PolarisAuth(SessionAuth):
    """Staff authentication for one client: login, the PAS header, and a new login after a 401.

    PAS has no renewal call, so a token near its ``AuthExpDate`` (or refused) is replaced by
    logging in again; :class:`~fsi_patron_kit._session.SessionAuth` decides when.
    """

    def __init__(self, *, route: Route, domain: str, username: str, password: Secret, site_timezone: str,
                 renew_margin: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(renew_margin=renew_margin, clock=clock)
        try:
            self._zone = ZoneInfo(site_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("site_timezone", "must be an IANA time zone name, such as America/Chicago") from None
        self.route = route
        self.domain = domain
        self.username = username
        basic = base64.b64encode(f"{domain}\\{username}:{password.reveal()}".encode()).decode()
        register_secret(basic, pin=True)  # the header carries the password, only base64'd
        self._basic = Secret(basic)

    def __repr__(self) -> str:
        return f"<PolarisAuth {self.domain}\\{self.username} logged_in={self._credentials is not None}>"

    # -- the wire ---------------------------------------------------------------------------------
    def apply(self, call: Call, credentials: StaffToken | None) -> Call:
        header = credentials.header() if credentials is not None else f"PAS {self.route.site_domain}:{MASK}"
        return attrs.evolve(call, headers={**call.headers, "Authorization": header})

    def secrets_in(self, call: Call, response: requests.Response) -> Iterable[str]:
        if call.action != "staff-login" or not response.ok:
            return ()
        try:
            answer = response.json()
        except ValueError:
            return ()
        return [str(answer.get(k)) for k in ("AccessToken", "AccessSecret") if isinstance(answer, dict) and
                answer.get(k)]

    # -- the flow ---------------------------------------------------------------------------------
    def _login(self, transport: Transport) -> Grant:
        """POST .../authentication/staffuser with an empty body (peers found a body breaks it)."""
        call = Call(method="POST", path=self.route.login_path, action="staff-login", authenticated=False,
                    idempotent=True, headers={"Authorization": f"Basic {self._basic.reveal()}"})
        answer = decode(transport.send(call), action="staff-login")
        if not isinstance(answer, dict) or not answer.get("AccessToken") or not answer.get("AccessSecret"):
            raise AuthError("staff login answered without AccessToken and AccessSecret", vendor=VENDOR,
                            action="staff-login")
        token = StaffToken(site_domain=str(answer.get("SiteDomain") or self.route.site_domain),
                           access_token=str(answer["AccessToken"]), access_secret=str(answer["AccessSecret"]))
        return Grant(token, self._epoch(answer.get("AuthExpDate")))

    def _epoch(self, text: Any) -> float | None:
        """``AuthExpDate`` is the site's local time without an offset; read it in the site's zone."""
        try:
            moment = parse_iso(text)
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=self._zone)).timestamp()


# -- reading answers ---------------------------------------------------------------------------------
def decode(response: requests.Response, *, action: str) -> Any:
    """The answer's JSON (None when empty), or the typed exception an HTTP failure stands for."""
    if response.ok:
        return json_answer(response, vendor=VENDOR, action=action)
    code, message = error_of(response)
    raise answer_error(response, message, vendor=VENDOR, action=action, code=code)


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """Polaris's (ErrorCode, message) from a PAS error body, a bare 401 or a text answer."""
    if not response.content:
        if response.status_code == 401:
            return None, "Polaris refused the staff credentials or token (401 with an empty body)"
        return None, response.reason or f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return None, response.text.strip()[:500]
    if isinstance(body, dict) and "ErrorCode" in body:
        detail = body.get("MessageDetail")
        message = str(body.get("Message") or "")
        return str(body["ErrorCode"]), f"{message} {detail}" if detail else message
    return None, response.text.strip()[:500]


def refusal_of(result: PatronRegResult, *, action: str) -> APIError:
    """The exception a Stop/Error answer stands for (HTTP 200, negative ``PAPIReturnCode``)."""
    cls = ConflictError if result.duplicate_barcode_exists else APIError
    return cls(result.message or "the procedure stopped with an error", status=200,
               code=str(result.papi_return_code), vendor=VENDOR, action=action)


def describe(response: requests.Response) -> str | None:
    """A history note: Polaris's code for a failed answer, or the return code of a 200 that stopped."""
    if not response.ok:
        code, message = error_of(response)
        return code or message[:120]
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("PAPIReturnCode"), int) and body["PAPIReturnCode"] < 0 \
            and not body.get("PAPIPromptType"):
        return f"PAPIReturnCode {body['PAPIReturnCode']} ({name_of(enum_or_int(PAPIStopType, body.get('PAPIStopType') or 0))})"
    return None

