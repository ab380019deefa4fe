"""Named profiles and secrets.

A notebook switches from the sandbox to a real tenant by changing one parameter, the profile
name. Profiles live in a TOML file (``$PATRON_KIT_CONFIG``, else
``~/.config/fsi-patron-kit/profiles.toml``)::

    [profiles.westfield]
    vendor = "fsi"
    url = "https://library.westfield.example"
    apikey = { env = "WESTFIELD_FSI_APIKEY" }
    apisecret = { prompt = true }

Any setting can be overridden by an environment variable ``PATRON_KIT_<PROFILE>_<SETTING>``
(upper case, dashes as underscores), which is also where a secret is looked for when the file
does not say. Secrets are never read from the file itself: a literal secret there is refused,
so that a profile file can be shared or committed without leaking anything.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._checks import CONTROL
from ._redact import MASK, is_secret_name, register_secret
from ._registry import setting_names
from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Secret", "Profile", "load_profile", "config_path", "SANDBOX"]

SANDBOX = "sandbox"
CONFIG_ENV = "PATRON_KIT_CONFIG"


@attrs.frozen(repr=False, eq=False)
class Secret:
    """A secret value that never shows itself: not in repr, str, logs or history."""

    _value: str
    #: a client's own keys are pinned in the redaction registry; the tokens servers hand out
    #: are not (the registry forgets the oldest of those past a bound)
    _pin: bool = attrs.field(default=True, kw_only=True)

    def __attrs_post_init__(self) -> None:
        register_secret(self._value, pin=self._pin)

    @classmethod
    def of(cls, value: str | Secret, *, field: str) -> Secret:
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(field, "a non-empty secret string is required")
        if CONTROL.search(value):  # a key pasted with its line break, or worse
            raise ConfigError(field, "must not contain control characters (line breaks, tabs, NUL)")
        return cls(value)

    def reveal(self) -> str:
        """The value itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__


@attrs.frozen(kw_only=True)
class Profile:
    """Where to connect and how to authenticate; secrets resolved only when used."""

    name: str
    vendor: str
    url: str
    settings: Mapping[str, Any] = attrs.field(factory=dict)
    secret_sources: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, repr=False)

    def secret(self, key: str, *, prompt: bool = True) -> Secret:
        """Resolve one secret: the environment first, then an interactive prompt."""
        source = self.secret_sources.get(key, {})
        env_name = source.get("env") or env_var(self.name, key)
        value = os.environ.get(env_name)
        if value:
            return Secret.of(value, field=env_name)
        if prompt and source.get("prompt", True) and _can_prompt():
            return Secret.of(getpass.getpass(f"{self.name} {key}: "), field=key)
        raise ConfigError(
            f"profiles.{self.name}.{key}",
            f"secret not found; set the environment variable {env_name}",
        )

    def names_secret(self, key: str) -> bool:
        """Whether the profile says where ``key`` comes from (the file names a source, or its
        environment variable is set): an optional secret is resolved only then."""
        return key in self.secret_sources or bool(os.environ.get(env_var(self.name, key)))

    def options(self, vendor_settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The profile's client settings, typed (environment values arrive as text).

        ``vendor_settings`` adds a vendor's own settings (e.g. FOLIO's tenant) to the common ones.
        """
        known = {**CLIENT_OPTIONS, **(vendor_settings or {})}
        typed: dict[str, Any] = {}
        for key, value in self.settings.items():
            convert = known.get(key)
            if convert is None:
                raise ConfigError(f"profiles.{self.name}.{key}", f"is not a client setting (one of {', '.join(known)})")
            try:
                typed[key] = convert(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"profiles.{self.name}.{key}", str(exc)) from None
        return typed


def _can_prompt() -> bool:
    """A terminal, or a Jupyter kernel (whose getpass asks in the notebook)."""
    return "ipykernel" in sys.modules or (sys.stdin is not None and sys.stdin.isatty())


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _timeout(value: Any) -> tuple[float, float]:
    """``30``, ``"3,30"`` or ``[3, 30]``: (connect, read) seconds."""
    parts = value.split(",") if isinstance(value, str) else value if isinstance(value, list | tuple) else [value]
    numbers = [float(p) for p in parts]
    if len(numbers) == 1:
        numbers *= 2
    if len(numbers) != 2 or min(numbers) <= 0:
        raise ValueError("must be seconds > 0: one number, or connect and read")
    return numbers[0], numbers[1]


def _verify(value: Any) -> bool | str:
    """``true`` or a CA bundle path (turning verification off is refused by the transport)."""
    try:
        return _boolean(value)
    except ValueError:
        return str(value)


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


#: Settings every client's profile may hold besides vendor and url, with how each is read;
#: a vendor adds its own (see each client's ``profile_settings``).
CLIENT_OPTIONS: dict[str, Any] = {
    "timeout": _timeout,
    "pool_size": _positive_int,
    "record_bodies": _boolean,
    "allow_insecure_http": _boolean,
    "verify": _verify,
}


def env_settings() -> frozenset[str]:
    """Every setting a profile may take from the environment: the common ones and each registered
    client's own (secrets are looked up separately, by name, when a client asks for them)."""
    return frozenset({"vendor", "url", *CLIENT_OPTIONS}) | setting_names()


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or Path.home() / ".config" / "fsi-patron-kit" / "profiles.toml")


def env_var(profile: str, key: str) -> str:
    return f"PATRON_KIT_{profile}_{key}".upper().replace("-", "_")


def load_profile(name: str, *, path: Path | None = None) -> Profile:
    """Read profile ``name`` from the TOML file, with environment overrides applied."""
    if not isinstance(name, str) or not name.strip() or CONTROL.search(name):
        raise ConfigError("profile", "must be a profile name (a non-empty string)")
    path = path or config_path()
    table: dict[str, Any] = {}
    if path.exists():
        with path.open("rb") as handle:
            try:
                document = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(str(path), f"not valid TOML ({exc})") from None
        table = dict(document.get("profiles", {}).get(name, {}))
    prefix = env_var(name, "")
    known = env_settings()
    for key, value in os.environ.items():
        setting = key[len(prefix):].lower() if key.startswith(prefix) else ""
        # Only known names: PATRON_KIT_WEST_FIELD_URL belongs to profile "west-field", not to "west".
        if setting in known:
            table[setting] = value
    if not table:
        raise ConfigError("profile", f"no profile named {name!r} in {path} or the environment")
    settings: dict[str, Any] = {}
    secrets: dict[str, Mapping[str, Any]] = {}
    for key, value in table.items():
        if is_secret_name(key):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"profiles.{name}.{key}",
                    "secrets may not be written in the profile file; use { env = \"VAR\" } or { prompt = true }",
                )
            secrets[key] = dict(value)
        else:
            settings[key] = value
    for required in ("vendor", "url"):
        if not settings.get(required):
            raise ConfigError(f"profiles.{name}.{required}", "is required")
    return Profile(
        name=name,
        vendor=str(settings.pop("vendor")),
        url=str(settings.pop("url")),
        settings=settings,
        secret_sources=secrets,
    )
