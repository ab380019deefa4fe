"""The Polaris ApplicationServices (PAS) client: staff login, patrons, the registration conversation.

Document 004 describes one call, ``PUT .../patrons/{id}``, as a conversation; the client adds
the companions a caller needs around it: reading a patron (with its flags and
``PrivateFieldsCleared``) and turning a barcode into a patron id and back. Staff login, the PAS
header and a new login after a 401 are the transport's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from .._checks import check_header_value, check_text, path_segment
from .._client import TokenClient, TransportOptions
from .._http import Call, Preview
from .._redact import MASK
from ..config import Secret
from ..errors import APIError, AuthError, InputError
from . import _wire
from ._validate import changes_for, check_patron_id, check_update
from .conversation import MAX_ROUNDS, Conversation, as_answerer, converse
from .models import Patron, PatronRecord, PatronRegResult, PatronRegUpdateData

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .dialog import WidgetDialog

__all__ = ["Client"]

class Client(TokenClient):
    """Polaris ApplicationServices for one site, organization and workstation.

    Args:
        url: the server's base URL (the API lives under ``/Polaris.ApplicationServices/api``).
        domain: the staff user's Windows/AD domain (the ``DOMAIN`` of ``DOMAIN\\user``).
        username: the staff user.
        password: that user's password (kept as a :class:`~fsi_patron_kit.config.Secret`).
        lang: ISO 639-2 language of the route (``eng``).
        product_id: 19 (PolarisApplicationServices) or 20 (Leap); both occur in the wild.
        site_domain: the site domain of the route and of the PAS header (``polaris``); the login
            answer's ``SiteDomain`` wins for the header when it gives one.
        org_id: the organization the calls act for; workstation_id: the workstation.
        site_timezone: the IANA zone of the server, to read ``AuthExpDate`` (a local time).
        renew_margin: log in again this many seconds before the token expires.
        **transport: :class:`~fsi_patron_kit._client.TransportOptions`.
    """

    vendor = "polaris"

    def __init__(self, *, url: str, domain: str, username: str, password: str | Secret, lang: str = "eng",
                 product_id: int = 19, site_domain: str = "polaris", org_id: int = 1, workstation_id: int = 1,
                 site_timezone: str = "UTC", renew_margin: float = 60.0,
                 **transport: Unpack[TransportOptions]) -> None:
        password = Secret.of(password, field="password")  # masked at once, even in a traceback's locals
        route = _wire.Route(lang=_route_part("lang", lang), product_id=_positive("product_id", product_id),
                            site_domain=_route_part("site_domain", site_domain), org_id=_positive("org_id", org_id),
                            workstation_id=_positive("workstation_id", workstation_id))
        self._auth = _wire.PolarisAuth(route=route, domain=_text("domain", domain),
                                       username=_text("username", username), password=password,
                                       site_timezone=_text("site_timezone", site_timezone), renew_margin=renew_margin)
        self._route = route
        self._open(url, self._auth, _wire.describe, transport)

    def __repr__(self) -> str:
        if not all(hasattr(self, name) for name in ("_route", "_auth", "_transport")):
            return super().__repr__()  # a constructor that failed: a traceback shows its self
        r = self._route
        return (f"<polaris.Client {self._transport.base_url} {r.lang}/{r.product_id}/{r.site_domain}/"
                f"{r.org_id}/{r.workstation_id} as {self._auth.domain}\\{self._auth.username}>")

    def pas_header(self) -> str:
        """The ``Authorization`` header calls carry, token and secret masked (log in first)."""
        token = self._auth.current()
        if token is None:
            return f"PAS {self._route.site_domain}:{MASK}:{MASK} (not logged in yet)"
        return f"PAS {token.site_domain}:{MASK}:{MASK}"

    # -- companions -------------------------------------------------------------------------------
    def service_info(self) -> dict[str, Any]:
        """GET /Polaris.ApplicationServices/api: the service's name and version (no login needed)."""
        call = Call(method="GET", path=_wire.SERVICE, action="service-info", authenticated=False, idempotent=True)
        return _wire.decode(self._transport.send(call), action="service-info")

    def get_patron(self, patron_id: int, *, precheckoutbrief: bool = False, basicdata: bool = False,
                   headerdata: bool = False, blockssummary: bool = False, dateinfo: bool = False,
                   regpermissionpriority: bool | None = None) -> Patron:
        """GET .../patrons/{id}. Check ``patron.private_fields_cleared``: blank is then not missing."""
        flags = {"precheckoutbrief": precheckoutbrief, "basicdata": basicdata, "headerdata": headerdata,
                 "blockssummary": blockssummary, "dateinfo": dateinfo}
        params = {name: "1" for name, value in flags.items() if _flag(name, value)}
        if regpermissionpriority is not None:
            params["regpermissionpriority"] = "true" if _flag("regpermissionpriority", regpermissionpriority) else "false"
        path = self._route.path(f"patrons/{check_patron_id(patron_id)}")
        return Patron.from_wire(self._send(Call(method="GET", path=path, action="get-patron", params=params or None,
                                                idempotent=True)))

    def patron_id_for_barcode(self, barcode: str) -> int:
        """GET .../ids/patrons?id={barcode}&type=barcode (a bare number; some sites answer a list)."""
        call = Call(method="GET", path=self._route.path("ids/patrons"), action="patron-id",
                    params={"id": _text("barcode", barcode), "type": "barcode"}, idempotent=True)
        answer = self._send(call)
        answer = answer[0] if isinstance(answer, list) and answer else answer
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise APIError("answer is not a patron id", status=200, vendor=self.vendor, action="patron-id")
        return answer

    def barcode_for_patron_id(self, patron_id: int) -> str:
        """GET .../barcodes/patrons/{id}: the barcode (a quoted JSON string on the wire)."""
        path = self._route.path(f"barcodes/patrons/{check_patron_id(patron_id)}")
        answer = self._send(Call(method="GET", path=path, action="barcode", idempotent=True))
        if not isinstance(answer, str):
            raise APIError("answer is not a barcode", status=200, vendor=self.vendor, action="barcode")
        return answer

    # -- the conversation -------------------------------------------------------------------------
    def update_registration(self, patron_id: int, changes: Any, *, answers: Any = None, max_rounds: int = MAX_ROUNDS,
                            dry_run: bool = False) -> Conversation | Preview | WidgetDialog:
        """Change a patron's registration through Polaris's conversation; see :mod:`.conversation`.

        ``changes`` maps field names (``name_first``, ``email_address``, ``addresses``,
        ``barcode``, ``patron_code_id``...) to new values; the rest of the record is read first
        and sent back unchanged, since the PUT carries the whole registration. ``answers`` says
        who answers prompts: None (decline all), a mapping of step to answer, a
        :class:`~.conversation.Policy`, a callable, or ``"ask"`` (a dialog in Jupyter, which is
        returned at once and completes when clicked; a text prompt elsewhere).
        """
        check_patron_id(patron_id)
        top, registration = changes_for(changes)
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
            raise InputError("max_rounds", "must be a positive integer")
        if not isinstance(dry_run, bool):
            raise InputError("dry_run", "must be True or False")
        dialog = _dialog_for(answers)
        answerer = dialog if dialog is not None else as_answerer(answers)
        body = self._update_body(patron_id, top, registration)
        if dry_run:
            return self._transport.preview(self._put_call(patron_id, body))

        def converse_now() -> Conversation:
            return converse(lambda sent: self._put(patron_id, sent), body, patron_id, answerer, max_rounds=max_rounds)

        if dialog is not None and dialog.runs_in_background:
            return dialog.start(converse_now, patron_id)
        return converse_now()

    def _update_body(self, patron_id: int, top: dict[str, Any], registration: dict[str, Any]) -> PatronRegUpdateData:
        """The whole record as it stands, with ``changes`` laid over it, checked."""
        patron = self.get_patron(patron_id)
        if patron.private_fields_cleared:
            raise AuthError("this staff user may not see the patron's private fields (PrivateFieldsCleared); "
                            "writing the registration back would blank them", vendor=self.vendor,
                            action="update-registration")
        current = patron.registration
        if current is None:
            raise APIError("the patron was answered without its Registration", status=200, vendor=self.vendor,
                           action="get-patron")
        merged = attrs.evolve(current, **{"password": None, "private_fields_cleared": None, **registration})
        merged = attrs.evolve(merged, patron_id=patron_id, addresses=[
            attrs.evolve(a, patron_id=a.patron_id or patron_id) for a in merged.addresses or []])
        record = {field.name: getattr(patron, field.name) for field in attrs.fields(PatronRecord)}
        body = PatronRegUpdateData(**{**record, **top, "patron_id": patron_id, "procedure_step": 1,
                                      "registration": merged})
        check_update(body)
        return body

    def _put_call(self, patron_id: int, body: PatronRegUpdateData) -> Call:
        # Not idempotent: a lost answer is not resent blindly (the last step saves).
        return Call(method="PUT", path=self._route.path(f"patrons/{patron_id}"), action="update-registration",
                    json=body.to_wire())

    def _put(self, patron_id: int, body: PatronRegUpdateData) -> PatronRegResult:
        return PatronRegResult.from_wire(self._send(self._put_call(patron_id, body)))

    def _send(self, call: Call) -> Any:
        return _wire.decode(self._transport.send(call), action=call.action or call.method)


def _dialog_for(answers: Any) -> Any:
    """The dialog that asks a person, when ``answers`` says so (ipywidgets is imported only then)."""
    from . import dialog

    if isinstance(answers, str):
        if answers != "ask":
            raise InputError("answers", 'the only text value is "ask"')
        return dialog.for_this_environment()
    return answers if isinstance(answers, dialog.WidgetDialog) else None


def _text(name: str, value: Any) -> str:
    return check_text(name, value)


def _route_part(name: str, value: Any) -> str:
    """A part of every path (``site_domain`` is in the PAS header too), sent as it is: so only
    characters a path segment leaves alone, and not . or .."""
    if path_segment(name, check_header_value(name, value)) != value:
        raise InputError(name, "must be letters, digits, '-', '_', '.' or '~' only")
    return value


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(name, "must be a positive integer")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(name, "must be True or False")
    return value
