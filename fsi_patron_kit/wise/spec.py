"""OCLC Wise's registration: its client, profile settings and secrets, and its sandbox emulator.

The workflow adapter (canonical frame, audit, bulk targets) is not written yet. What it would
map: ``lookup_cards`` (every page, no search) gives each patron's patronSystemId, card number
and membership expiry; ``patron_information`` (by proxy, which needs PROXY_AUTH) gives names,
email, phone, address, home branch and username; ``blocks`` gives "active" (no general or
patron-card block); ``updated_patrons``/``deleted_patrons`` make re-audits incremental. Bulk
targets: blocks set or removed (``set_blocks``, read back with ``blocks``); patron details only
through a re-subscription (``resubscribe`` is a whole-record PUT: read, merge, write).
"""

from __future__ import annotations

from typing import Any

from .._registry import ClientSpec, VendorSpec


def _sandbox_arguments(emulator: Any) -> dict[str, Any]:
    app = emulator.application
    return {"url": emulator.url, "application_name": app.application_name, "api_id": app.api_id,
            "api_key": app.api_key, "username": emulator.staff.username, "password": emulator.staff.password,
            "payment_username": emulator.payment.username, "payment_password": emulator.payment.password}


SPEC = VendorSpec(
    name="wise",
    title="OCLC Wise",
    clients=(
        ClientSpec(
            name="wise",
            target="fsi_patron_kit.wise.client:Client",
            settings={"application_name": str, "api_id": str, "username": str, "payment_username": str,
                      "server_timezone": str, "renew_margin": float},
            secrets=("api_key", "password"),
            optional_secrets=("payment_password",),
            sandbox=_sandbox_arguments,
            bulk_target="fsi_patron_kit.wise.bulk:TARGET",
        ),
    ),
    emulator="fsi_patron_kit.sandbox.wise:for_sandbox",
    default_size=600,
)
