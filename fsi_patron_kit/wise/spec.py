"""OCLC Wise's registration: its client, profile settings and secrets, and its sandbox emulator.

The workflow adapter (``wise/adapter.py``) reads patrons into the canonical frame: ``lookup_cards``
(every page, no search) gives each patron's patronSystemId and card number; ``patron_information``
(by proxy, which needs PROXY_AUTH) gives names, email, phone, username, home branch and membership
expiry; ``blocks`` gives "active" (no general or patron-card block). Still to come with the bulk
workflow: ``updated_patrons``/``deleted_patrons`` for incremental re-audits, and bulk targets:
blocks set or removed (``set_blocks``, read back with ``blocks``); patron details only through a
re-subscription (``resubscribe`` is a whole-record PUT: read, merge, write).
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
                      "server_timezone": str, "renew_margin": float, "workers": int},
            secrets=("api_key", "password"),
            optional_secrets=("payment_password",),
            sandbox=_sandbox_arguments,
            bulk_target="fsi_patron_kit.wise.bulk:TARGET",
        ),
    ),
    emulator="fsi_patron_kit.sandbox.wise:for_sandbox",
    adapter="fsi_patron_kit.wise.adapter:ADAPTER",
    default_size=600,
)
