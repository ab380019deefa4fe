"""FOLIO's registration: the gateway and edge clients, their profile settings and secrets, and
the sandbox emulator that serves both."""

from __future__ import annotations

from typing import Any

from .._registry import ClientSpec, VendorSpec


def _gateway_arguments(emulator: Any) -> dict[str, Any]:
    return {"url": emulator.gateway_url, "tenant": emulator.tenant, "username": emulator.credentials.username,
            "password": emulator.credentials.password}


def _edge_arguments(emulator: Any) -> dict[str, Any]:
    return {"url": emulator.edge_url, "apikey": emulator.edge_apikey, "caller": emulator.caller_id}


SPEC = VendorSpec(
    name="folio",
    title="FOLIO",
    clients=(
        ClientSpec(
            name="folio",
            target="fsi_patron_kit.folio.client:Client",
            settings={"tenant": str, "username": str, "renew_margin": float, "workers": int},
            secrets=("password",),
            sandbox=_gateway_arguments,
            bulk_target="fsi_patron_kit.folio.bulk:USERS",
        ),
        ClientSpec(
            name="folio-edge",
            target="fsi_patron_kit.folio.edge:EdgeClient",
            settings={"caller": str, "edge_form": str, "workers": int},
            secrets=("apikey",),
            sandbox=_edge_arguments,
            bulk_target="fsi_patron_kit.folio.bulk:EDGE",
        ),
    ),
    emulator="fsi_patron_kit.sandbox.folio:for_sandbox",
    adapter="fsi_patron_kit.folio.adapter:ADAPTER",
    default_size=300,
)
