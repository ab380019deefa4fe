"""OCLC Wise's registration: its client, profile settings and secrets, its sandbox emulator, and
its workflow pieces.

The adapter (``wise/adapter.py``) reads patrons into the canonical frame: ``lookup_cards`` gives
each patron's patronSystemId and card number; ``patron_information`` (by proxy, which needs
PROXY_AUTH) gives names, email, phone, username, home branch and membership expiry; ``blocks``
gives "active". The bulk target (``wise/bulk.py``) sets and removes blocks, read back with
``blocks``; patron details are refused there (Wise changes them only by a re-subscription).
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
