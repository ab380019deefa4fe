"""Profiles from TOML and the environment; secrets only from the environment or a prompt."""

from __future__ import annotations

import io
import sys

import pytest

import fsi_patron_kit
from fsi_patron_kit import ConfigError, Secret, load_profile


@pytest.fixture
def profile_file(tmp_path, monkeypatch):
    path = tmp_path / "profiles.toml"
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(path))
    return path


def write(path, text):
    path.write_text(text, encoding="utf-8")


def test_profile_reads_settings_and_resolves_secrets_from_named_variables(profile_file, monkeypatch):
    write(profile_file, """
[profiles.westfield]
vendor = "fsi"
url = "https://library.westfield.example"
encoding = "form"
apikey = { env = "WESTFIELD_KEY" }
apisecret = { env = "WESTFIELD_SECRET" }
""")
    monkeypatch.setenv("WESTFIELD_KEY", "k-123456")
    profile = load_profile("westfield")
    assert (profile.vendor, profile.url, dict(profile.settings)) == ("fsi", "https://library.westfield.example", {"encoding": "form"})
    secret = profile.secret("apikey")
    assert secret.reveal() == "k-123456"
    assert "k-123456" not in repr(secret) + str(secret) + repr(profile)
    with pytest.raises(ConfigError) as caught:
        profile.secret("apisecret", prompt=False)
    assert "WESTFIELD_SECRET" in caught.value.rule


def test_a_literal_secret_in_the_file_is_refused(profile_file):
    write(profile_file, '[profiles.p]\nvendor = "fsi"\nurl = "https://x.example"\napisecret = "hunter22"\n')
    with pytest.raises(ConfigError) as caught:
        load_profile("p")
    assert caught.value.field == "profiles.p.apisecret"
    assert "hunter22" not in str(caught.value)


def test_environment_overrides_file_settings_and_default_secret_variables(profile_file, monkeypatch):
    write(profile_file, '[profiles.west-field]\nvendor = "fsi"\nurl = "https://old.example"\n')
    monkeypatch.setenv("PATRON_KIT_WEST_FIELD_URL", "https://new.example")
    monkeypatch.setenv("PATRON_KIT_WEST_FIELD_APIKEY", "from-env-key")
    profile = load_profile("west-field")
    assert profile.url == "https://new.example"
    assert "apikey" not in profile.settings  # secrets never become plain settings
    assert profile.secret("apikey", prompt=False).reveal() == "from-env-key"


def test_profile_defined_only_by_environment(profile_file, monkeypatch):
    monkeypatch.setenv("PATRON_KIT_ENVONLY_VENDOR", "fsi")
    monkeypatch.setenv("PATRON_KIT_ENVONLY_URL", "https://env.example")
    assert load_profile("envonly").url == "https://env.example"


def test_missing_profile_and_missing_fields_are_named(profile_file):
    with pytest.raises(ConfigError) as caught:
        load_profile("nowhere")
    assert caught.value.field == "profile"
    write(profile_file, '[profiles.half]\nvendor = "fsi"\n')
    with pytest.raises(ConfigError) as caught:
        load_profile("half")
    assert caught.value.field == "profiles.half.url"


def test_invalid_toml_is_a_config_error(profile_file):
    write(profile_file, "[profiles.bad\n")
    with pytest.raises(ConfigError):
        load_profile("bad")


def test_secret_prompt_is_used_in_a_terminal(profile_file, monkeypatch):
    write(profile_file, '[profiles.p]\nvendor = "fsi"\nurl = "https://x.example"\napisecret = { prompt = true }\n')
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed-secret")
    assert load_profile("p").secret("apisecret").reveal() == "typed-secret"


def test_connect_with_a_profile_pointing_at_the_sandbox(profile_file, monkeypatch, emulator):
    write(profile_file, f"""
[profiles.local]
vendor = "fsi"
url = "{emulator.url}"
apikey = {{ env = "LOCAL_KEY" }}
apisecret = {{ env = "LOCAL_SECRET" }}
""")
    monkeypatch.setenv("LOCAL_KEY", emulator.credentials.apikey)
    monkeypatch.setenv("LOCAL_SECRET", emulator.credentials.apisecret)
    with fsi_patron_kit.connect(profile="local") as client:
        assert client.get_patron(keyfield="barcode", value="0000001").barcode == "0000001"
    assert emulator.counters.actions["getpatron"] == 1


def test_connect_sandbox_profile_starts_the_shared_sandbox():
    from fsi_patron_kit.sandbox import shared

    with fsi_patron_kit.connect("fsi") as client:
        assert client.url == shared().fsi.url
        assert len(client.search(max_rows=5)) == 5


def test_connect_refuses_an_unknown_vendor():
    with pytest.raises(fsi_patron_kit.InputError) as caught:
        fsi_patron_kit.connect("koha")
    assert caught.value.field == "vendor"


def test_a_profile_for_another_vendor_is_refused(profile_file, monkeypatch):
    write(profile_file, '[profiles.other]\nvendor = "folio"\nurl = "https://x.example"\n')
    from fsi_patron_kit import fsi

    with pytest.raises(fsi_patron_kit.InputError) as caught:
        fsi.Client.from_profile("other")
    assert caught.value.field == "profile"


def test_empty_secret_is_refused():
    with pytest.raises(ConfigError):
        Secret.of("  ", field="apikey")


def test_settings_from_the_environment_are_typed(profile_file, monkeypatch):
    write(profile_file, '[profiles.t]\nvendor = "fsi"\nurl = "https://x.example"\ntimeout = [2, 20]\n')
    monkeypatch.setenv("PATRON_KIT_T_ALLOW_INSECURE_HTTP", "false")
    monkeypatch.setenv("PATRON_KIT_T_RENEW_MARGIN", "30")
    monkeypatch.setenv("PATRON_KIT_T_RECORD_BODIES", "yes")
    assert load_profile("t").options({"renew_margin": float}) == {
        "timeout": (2.0, 20.0), "allow_insecure_http": False, "renew_margin": 30.0, "record_bodies": True,
    }


@pytest.mark.parametrize(
    "line, field",
    [('allow_insecure_http = "perhaps"', "allow_insecure_http"), ("timeout = [1, 2, 3]", "timeout"),
     ("pool_size = 0", "pool_size"), ('colour = "blue"', "colour")],
)
def test_bad_or_unknown_settings_are_named(profile_file, line, field):
    write(profile_file, f'[profiles.b]\nvendor = "fsi"\nurl = "https://x.example"\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_profile("b").options()
    assert caught.value.field == f"profiles.b.{field}"


def test_insecure_http_from_the_environment_is_still_refused(profile_file, monkeypatch):
    from fsi_patron_kit import fsi

    write(profile_file, '[profiles.h]\nvendor = "fsi"\nurl = "http://10.1.2.3"\n')
    monkeypatch.setenv("PATRON_KIT_H_ALLOW_INSECURE_HTTP", "false")
    monkeypatch.setenv("PATRON_KIT_H_APIKEY", "key-1234")
    monkeypatch.setenv("PATRON_KIT_H_APISECRET", "secret-1234")
    with pytest.raises(ConfigError) as caught:
        fsi.Client.from_profile("h")
    assert caught.value.field == "url"


def test_a_setting_of_another_vendor_is_refused_by_name(profile_file, monkeypatch):
    from fsi_patron_kit import folio

    write(profile_file, '[profiles.f]\nvendor = "folio"\nurl = "https://x.example"\ntenant = "t"\n'
                        'username = "u"\nencoding = "form"\n')
    monkeypatch.setenv("PATRON_KIT_F_PASSWORD", "secret-1234")
    with pytest.raises(ConfigError) as caught:
        folio.Client.from_profile("f")
    assert caught.value.field == "profiles.f.encoding"


def test_another_profiles_variables_do_not_leak_in(profile_file, monkeypatch):
    monkeypatch.setenv("PATRON_KIT_WEST_VENDOR", "fsi")
    monkeypatch.setenv("PATRON_KIT_WEST_URL", "https://west.example")
    monkeypatch.setenv("PATRON_KIT_WEST_FIELD_URL", "https://westfield.example")
    monkeypatch.setenv("PATRON_KIT_WEST_FIELD_APISECRET", "westfield-top-secret")
    profile = load_profile("west")
    assert profile.url == "https://west.example" and dict(profile.settings) == {}
    assert "westfield-top-secret" not in repr(profile)
