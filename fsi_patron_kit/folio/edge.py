"""The FOLIO edge-patron client for external ("LC") patrons, authenticated by an apikey.

Document 003's four calls: create an external patron, get and update one by email, and list
the external patrons (those whose account expired the previous day, by default). In the
document's form every path carries the ``{externalSystemID}`` of the existing user on whose
behalf the call is made: the ``caller``. Today's edge-patron serves the same calls without it
(``edge_form="current"``). The apikey travels in the query string, so every URL the kit shows
is redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._checks import check_email, check_flag, path_segment
from .._client import BaseClient, TransportOptions
from .._frames import flatten
from .._http import Call, Preview
from .._pager import DEFAULT_WORKERS, check_workers
from ..config import Secret
from ..errors import InputError
from . import _schemas, _wire
from .client import _body
from .models import EXTERNAL_PATRON_FRAME, ExternalPatron

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["EdgeClient", "EDGE_FORMS"]

#: How a tenant's edge-patron spells the external-patron paths: document 003's, with the caller
#: in the path (``/patron/account/{caller}/...``), or today's, without it (``/patron/account/...``).
EDGE_FORMS = ("document", "current")


class EdgeClient(BaseClient):
    """FOLIO edge-patron's external-patron API.

    Args:
        url: the edge module's base URL.
        apikey: the edge apikey (see :func:`make_apikey`); kept as a Secret and masked in URLs.
        caller: the externalSystemId (or id) of an existing user the calls act on behalf of;
            needed by the document's form only.
        edge_form: ``"document"`` (document 003, caller in the path; the default) or
            ``"current"`` (today's edge-patron, no caller), also the profile setting ``edge_form``.
        workers: pages a listing fetches at once (and the profile setting ``workers``).
        **transport: :class:`~fsi_patron_kit._client.TransportOptions` (timeout, retry,
            pool_size, record_bodies, allow_insecure_http, verify).
    """

    vendor = "folio-edge"
    _shown = ("tenant", "edge_form")

    def __init__(self, *, url: str, apikey: str | Secret, caller: str | None = None, edge_form: str = "document",
                 workers: int = DEFAULT_WORKERS, **transport: Unpack[TransportOptions]) -> None:
        apikey = Secret.of(apikey, field="apikey")  # masked at once, even in a traceback's locals
        self.identity = _wire.read_apikey(apikey)
        if edge_form not in EDGE_FORMS:
            raise InputError("edge_form", f"must be one of {', '.join(EDGE_FORMS)}")
        self.edge_form = edge_form
        needs_caller = edge_form == "document" or caller is not None
        self._caller_segment = path_segment("caller", caller) if needs_caller else None
        self.caller = caller if needs_caller else None
        self.workers = check_workers(workers)
        self._open(url, _wire.EdgeAuth(apikey), _wire.describe, transport)

    @property
    def tenant(self) -> str:
        """The tenant the apikey acts in."""
        return self.identity.tenant

    def create_external_patron(self, patron: ExternalPatron | Mapping[str, Any], *, dry_run: bool = False
                               ) -> ExternalPatron | Preview:
        """POST /patron/account[/{caller}]: a new patron in the "Remote Non-circulating" group."""
        check_flag("dry_run", dry_run)
        call = Call(method="POST", path=self._path(), action="create-external-patron",
                    json=_body(patron, _schemas.EXTERNAL_PATRON))
        return self._transport.preview(call) if dry_run else ExternalPatron.from_wire(self._send(call))

    def get_external_patron(self, email: str) -> ExternalPatron:
        """GET /patron/account[/{caller}]/by-email/{email}."""
        call = Call(method="GET", path=self._by_email(email), action="get-external-patron", idempotent=True)
        return ExternalPatron.from_wire(self._send(call))

    def update_external_patron(self, email: str, patron: ExternalPatron | Mapping[str, Any], *,
                               dry_run: bool = False) -> Preview | None:
        """PUT /patron/account[/{caller}]/by-email/{email}; FOLIO answers 204 with no body.

        The call is addressed by the email it may change: once applied, a repeat would find
        no one at the old address. So it is repeated after a lost answer only when the email
        stays the same.
        """
        check_flag("dry_run", dry_run)
        path = self._by_email(email)
        body = _body(patron, _schemas.EXTERNAL_PATRON)
        same_email = str(body["contactInfo"]["email"]).lower() == email.lower()
        call = Call(method="PUT", path=path, action="update-external-patron", json=body,
                    idempotent=same_email)
        if dry_run:
            return self._transport.preview(call)
        self._send(call)
        return None

    def external_patrons(self, *, expired: bool = False) -> pd.DataFrame:
        """GET .../external-patrons: every external patron, or with ``expired`` those whose
        account expired the previous (business) day. One row per patron."""
        check_flag("expired", expired)
        call = Call(method="GET", path=f"{self._path()}/external-patrons", action="external-patrons",
                    params={"expired": "true" if expired else "false"}, idempotent=True)
        answer = self._send(call) or {}
        return EXTERNAL_PATRON_FRAME.build([flatten(p) for p in answer.get("externalPatrons", [])])

    def expired_external_patrons(self) -> pd.DataFrame:
        """The external patrons whose account expired the previous day."""
        return self.external_patrons(expired=True)

    def _path(self) -> str:
        """``/patron/account`` and, in the document's form, the caller."""
        if self.edge_form == "current":
            return "/patron/account"
        return f"/patron/account/{self._caller_segment}"

    def _by_email(self, email: str) -> str:
        return f"{self._path()}/by-email/{path_segment('email', check_email('email', email))}"

    def _send(self, call: Call) -> Any:
        return _wire.decode(self._transport.send(call), action=call.action or call.method, vendor=self.vendor)
