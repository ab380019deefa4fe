"""FSI's registration: its client, profile settings and secrets, and its sandbox emulator."""

from __future__ import annotations

from typing import Any

from .._registry import ClientSpec, VendorSpec


def _sandbox_arguments(emulator: Any) -> dict[str, Any]:
    return {"url": emulator.url, "apikey": emulator.credentials.apikey, "apisecret": emulator.credentials.apisecret}


SPEC = VendorSpec(
    name="fsi",
    title="FSI SmartSuite-Library",
    clients=(
        ClientSpec(
            name="fsi",
            target="fsi_patron_kit.fsi.client:Client",
            settings={"encoding": str, "renew_margin": float, "workers": int},
            secrets=("apikey", "apisecret"),
            sandbox=_sandbox_arguments,
            bulk_target="fsi_patron_kit.fsi.bulk:TARGET",
        ),
    ),
    emulator="fsi_patron_kit.sandbox.fsi:for_sandbox",
    adapter="fsi_patron_kit.fsi.adapter:ADAPTER",
    default_size=1500,
)
