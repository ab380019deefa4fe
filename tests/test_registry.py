"""A vendor is one registration: a fake vendor defined in the test suite alone is reached
through connect(), a profile, the sandbox and the patron-kit command."""

from __future__ import annotations

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit import _registry
from fsi_patron_kit._redact import redact_text
from fsi_patron_kit.cli import main
from fsi_patron_kit.sandbox import Sandbox

from . import fake_vendor


@pytest.fixture
def fake():
    _registry.register(fake_vendor.SPEC)
    yield fake_vendor.SPEC
    _registry.unregister("fake")


def test_builtin_vendors_are_registered():
    assert {"fsi", "folio", "folio-edge"} <= set(pk.vendors())


def test_connect_reaches_a_registered_vendor_through_its_sandbox(fake):
    client = pk.connect("fake")
    assert [p["id"] for p in client.patrons()][:2] == ["P0000", "P0001"]
    emulator = _registry.shared_emulator("fake")
    assert emulator.counters.actions["login"] == 1 and emulator.counters.actions["patrons"] == 1
    assert "fake" in pk.vendors()


def test_a_profile_of_a_registered_vendor_reads_its_settings_and_secrets(fake, monkeypatch, tmp_path):
    emulator = fake_vendor.FakeEmulator(size=3, seed=1, latency=0).start()
    try:
        monkeypatch.setenv("PATRON_KIT_CONFIG", str(tmp_path / "none.toml"))
        monkeypatch.setenv("PATRON_KIT_BRANCH_VENDOR", "fake")
        monkeypatch.setenv("PATRON_KIT_BRANCH_URL", emulator.url)
        monkeypatch.setenv("PATRON_KIT_BRANCH_REALM", "north")  # a setting only this vendor has
        monkeypatch.setenv("PATRON_KIT_BRANCH_PASSPHRASE", fake_vendor.PASSPHRASE)
        client = pk.connect(profile="branch")
        assert client.realm == "north"
        assert client.vault_key is None  # optional, and this profile does not name it
        assert len(client.patrons()) == 3
        monkeypatch.setenv("PATRON_KIT_BRANCH_VAULT_KEY", "vault-key-value")
        assert pk.connect(profile="branch").vault_key.reveal() == "vault-key-value"
    finally:
        emulator.stop()


def test_a_registered_vendors_secret_names_are_masked(fake):
    assert redact_text("passphrase=open-sesame&realm=north") == "passphrase=***&realm=north"


def test_the_sandbox_starts_a_registered_vendors_emulator(fake):
    with Sandbox(only=["fake"], sizes={"fake": 4}) as sandbox:
        assert len(sandbox.fake.patrons) == 4
        client = fake_vendor.FakeClient(url=sandbox.fake.url, passphrase=fake_vendor.PASSPHRASE)
        assert len(client.patrons()) == 4


def test_the_sandbox_command_prints_a_registered_vendors_banner(fake, capsys):
    assert main(["sandbox", "--only", "fake", "--check"]) == 0
    printed = capsys.readouterr().out
    assert "Fake Library (fake)" in printed
    assert fake_vendor.PASSPHRASE in printed  # sandbox credentials are printed, they are no secret


def test_unknown_vendor_is_an_input_error_naming_the_known_ones():
    with pytest.raises(pk.InputError) as caught:
        pk.connect("koha")
    assert caught.value.field == "vendor" and "folio-edge" in caught.value.rule


def test_an_unknown_sandbox_vendor_is_refused():
    with pytest.raises(ValueError, match="no emulator for koha"):
        Sandbox(only=["koha"])
