"""Staff authentication: Basic ``DOMAIN\\user:password`` in, an access token and secret out.

``POST .../authentication/staffuser`` with an empty body answers ``{SiteDomain, UserDomain,
AccessToken, AccessSecret, AuthExpDate, PolarisUser{...}, ERMSNetworkAddress, DataSource}``;
``AuthExpDate`` is the site's naive local time. Later calls send ``Authorization: PAS
{siteDomain}:{AccessToken}:{AccessSecret}``. Anything else is a 401 with an empty body.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import attrs
from werkzeug.exceptions import abort
from werkzeug.wrappers import Request, Response

from ._data import SITE_DOMAIN, STAFF, USER_DOMAIN, StaffUser
from ._wire import BAD_REQUEST, json_answer, pas_error, unauthorized


@attrs.define
class Grant:
    staff: StaffUser
    secret: str
    expires: float


class StaffAuth:
    """The tokens the sandbox has handed out, and the check every patron call goes through."""

    def __init__(self, *, lifetime: Callable[[], float], clock: Callable[[], float], timezone_name: str) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._zone = ZoneInfo(timezone_name)
        self._grants: dict[str, Grant] = {}
        self.logins = 0

    def login(self, request: Request) -> Response:
        if request.get_data():
            abort(pas_error(400, BAD_REQUEST, "The request is invalid.", "Send the staff login with an empty body."))
        staff = self._staff_of(request.headers.get("Authorization", ""))
        if staff is None:
            abort(unauthorized())
        token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        expires = self._clock() + self._lifetime()
        self._grants[token] = Grant(staff=staff, secret=secret, expires=expires)
        self.logins += 1
        local = datetime.fromtimestamp(expires, timezone.utc).astimezone(self._zone).replace(tzinfo=None)
        return json_answer({
            "SiteDomain": SITE_DOMAIN,
            "UserDomain": USER_DOMAIN,
            "AccessToken": token,
            "AccessSecret": secret,
            "AuthExpDate": local.isoformat(timespec="milliseconds"),
            "PolarisUser": {"PolarisUserID": staff.user_id, "OrganizationID": staff.branch_id, "Name": staff.name,
                            "BranchID": staff.branch_id, "Enabled": True, "CreatorID": 1, "ModifierID": 1,
                            "CreationDate": "2019-01-07T09:30:00", "ModificationDate": None},
            "ERMSNetworkAddress": None,
            "DataSource": "sandbox",
        })

    def admit(self, request: Request, site_domain: str) -> StaffUser:
        """The staff user behind a valid PAS header for ``site_domain``, or a 401 with no body."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        site, _, rest = value.partition(":")
        token, _, secret = rest.partition(":")
        grant = self._grants.get(token)
        if (scheme != "PAS" or site != SITE_DOMAIN or site_domain != SITE_DOMAIN or grant is None
                or not secrets.compare_digest(grant.secret, secret) or grant.expires <= self._clock()):
            abort(unauthorized())
        return grant.staff

    def expire_all(self) -> None:
        for grant in self._grants.values():
            grant.expires = self._clock() - 1

    @staticmethod
    def _staff_of(header: str) -> StaffUser | None:
        scheme, _, encoded = header.partition(" ")
        if scheme != "Basic":
            return None
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        who, _, password = decoded.partition(":")
        domain, _, username = who.rpartition("\\")
        staff = next((s for s in STAFF if s.username == username), None)
        if staff is None or domain.upper() != USER_DOMAIN or not secrets.compare_digest(staff.password, password):
            return None
        return staff
