"""Polaris's registration: its client, profile settings and secret, its sandbox emulator, and its
workflow pieces.

The adapter (``polaris/adapter.py``) reads patrons into the canonical frame by id or barcode lists
(the staff API has no patron search), from ``Client.get_patron``; fields blanked by
``PrivateFieldsCleared`` are named by the adapter's ``hidden`` and warned about. The bulk target
(``polaris/bulk.py``) runs ``update_registration`` per row with the row's own answers, journaling
a stopped conversation with its prompt as the row's failure: Polaris saves only at the last step,
so nothing is half-saved.
"""

from __future__ import annotations

from typing import Any

from .._registry import ClientSpec, VendorSpec


def _sandbox_arguments(emulator: Any) -> dict[str, Any]:
    return {"url": emulator.url, "domain": emulator.credentials.domain, "username": emulator.credentials.username,
            "password": emulator.credentials.password, "site_domain": emulator.site_domain, "org_id": 3,
            "site_timezone": emulator.site_timezone}


SPEC = VendorSpec(
    name="polaris",
    title="Polaris ApplicationServices",
    clients=(
        ClientSpec(
            name="polaris",
            target="fsi_patron_kit.polaris.client:Client",
            settings={"domain": str, "username": str, "lang": str, "product_id": int, "site_domain": str,
                      "org_id": int, "workstation_id": int, "site_timezone": str, "renew_margin": float},
            secrets=("password",),
            sandbox=_sandbox_arguments,
            bulk_target="fsi_patron_kit.polaris.bulk:TARGET",
        ),
    ),
    emulator="fsi_patron_kit.sandbox.polaris:for_sandbox",
    adapter="fsi_patron_kit.polaris.adapter:ADAPTER",
    default_size=200,
)
