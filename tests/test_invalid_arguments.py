"""Generated invalid arguments for every public method and constructor of every registered client.

The clients come from the vendor registry and their methods from introspection, and the values
to try from each parameter's type hint: a vendor registered later is driven without an edit
here. One parameter per call gets an invalid value (the others a valid example where one is
known, else an invalid value too). Every call must raise InputError (ConfigError is one)
before anything is sent: the emulator's request counter does not move.
"""

from __future__ import annotations

import collections.abc
import inspect
import math
import sys
import types
import typing
import uuid
from datetime import datetime
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsi_patron_kit import InputError, _registry
from fsi_patron_kit.config import Secret

from .conftest import FAST_RETRY

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

EXAMPLES = 15  # per parameter: over three thousand calls for the four vendors, in seconds

# -- what a parameter accepts, read from its type hint --------------------------------------------
_HINT_NAMES = {"Unpack": Unpack}  # the clients import it for type checkers only


def kinds(hint: Any) -> set[str]:
    """The kinds of value a type hint accepts: none, bool, int, float, str, literal, secret,
    datetime, tuple, mapping, records, any, or a class name."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(kinds(arg) for arg in typing.get_args(hint)))
    if hint is type(None) or hint is None:
        return {"none"}
    if origin is typing.Literal:
        return {"literal"}
    simple = {bool: "bool", int: "int", float: "float", str: "str", Secret: "secret", datetime: "datetime"}
    if hint in simple:
        return {simple[hint]}
    if origin is tuple:
        return {"tuple"}
    if hint is pd.DataFrame or origin in (collections.abc.Iterable, collections.abc.Sequence):
        return {"records"}
    if origin is collections.abc.Mapping or (isinstance(hint, type) and attrs.has(hint)):
        return {"mapping"}
    if isinstance(hint, type):
        return {hint.__name__}
    return {"any"}


CONTROL_CHARACTERS = ["\x00", "\n", "\r", "\r\n", "\t", "\x1b", "\x7f", "\x85"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=3))
# What a signature cannot say: values of the right type that break a documented rule.
SEMANTIC = {
    "url": ["ftp://library.example", "http://library.example", "http://127.0.0.1:99999", "library.example",
            "http://user:password@127.0.0.1:8080", "https://"],
    "verify": [False, "", "false", "/no/such/ca-bundle.pem"],
    "email": ["nobody", "a@b", "ada lovelace@example.org", "ada@example.org\n"],
    "identifier": [".", ".."],
    "caller": [".", ".."],
    "keyfield": ["BARCODE", "studentid"],
    # header values: http.client cannot encode these, or they would split the header
    "tenant": ["日本", "diku tenant"],
    "api_id": ["日本", "PK 01"],
}
#: FOLIO's ids are UUIDs (version 1-5); other vendors' ids are their own.
NOT_UUIDS = ["12345", "not-a-uuid", "1ef0d1a2-3b4c-6d5e-8f70-0123456789ab", "."]
SEMANTIC_IDS = {"folio": NOT_UUIDS, "folio-edge": NOT_UUIDS}
BAD_DATES = ["yesterday", "2026-11-23", "", "23/11/2026 10:00"]


def with_control_character() -> st.SearchStrategy[str]:
    text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=6)
    return st.builds(lambda a, c, b: a + c + b, text, st.sampled_from(CONTROL_CHARACTERS), text)


def invalid_values(name: str, hint: Any, client: str) -> st.SearchStrategy[Any]:
    """Values ``hint`` does not accept, or that break a rule every such parameter has."""
    accepted = kinds(hint)
    textual = accepted & {"str", "secret", "literal", "datetime"}
    options: list[st.SearchStrategy[Any]] = [st.binary(max_size=3), st.builds(object)]
    if "none" not in accepted:
        options.append(st.none())
    if "bool" not in accepted:
        options.append(st.booleans())
    if not accepted & {"int", "float"}:
        options.append(st.integers())
    if "float" in accepted:
        options.append(st.sampled_from([math.nan, math.inf, -math.inf]) | st.floats(max_value=-1e-6))
    else:
        options.append(st.floats())
    if "int" in accepted:
        options.append(st.integers(max_value=-1))
    if not textual:
        options.append(st.text(max_size=5))
    else:
        options.append(with_control_character())
        if "none" not in accepted:
            options.append(st.sampled_from(["", "   "]))
    if "literal" in accepted:
        allowed = {value for arg in _literals(hint) for value in typing.get_args(arg)}
        options.append(st.text(max_size=6).filter(lambda text: text not in allowed))
    if "datetime" in accepted:
        options.append(st.sampled_from(BAD_DATES))
    if "mapping" in accepted:
        unknown = st.dictionaries(st.text(min_size=1, max_size=4).map("zz".__add__), st.text(max_size=3),
                                  min_size=1, max_size=2)
        options.append(st.just({}) | unknown)
    elif "records" not in accepted:
        options.append(st.dictionaries(st.text(max_size=3), SCALARS, max_size=2))
    if "records" in accepted:
        unknown_fields = st.dictionaries(st.text(min_size=1, max_size=4).map("zz".__add__), st.text(max_size=3),
                                         min_size=1, max_size=2)
        options.append(st.lists(SCALARS, min_size=1, max_size=3) | st.lists(unknown_fields, min_size=1, max_size=2)
                       | st.just({"barcode": "0000001"}))
    elif "tuple" in accepted:
        bad = st.sampled_from([0, -1, math.nan, math.inf, "5", None, True])
        options.append(st.tuples(bad, st.just(5.0)) | st.tuples(st.just(5.0), bad) | st.tuples(st.just(5.0))
                       | st.lists(st.just(1.0), min_size=3, max_size=4))
    else:
        options.append(st.lists(SCALARS, max_size=2))
    semantic = SEMANTIC.get(name) or (SEMANTIC_IDS.get(client) if name.endswith("_id") else None)
    if semantic:
        options.append(st.sampled_from(semantic))
    return st.one_of(options)


def _literals(hint: Any) -> list[Any]:
    if typing.get_origin(hint) is typing.Literal:
        return [hint]
    return [arg for arg in typing.get_args(hint) if typing.get_origin(arg) is typing.Literal]


def unknown_keywords() -> st.SearchStrategy[dict[str, Any]]:
    """For ``**fields``/``**overrides``: names no client takes."""
    names = st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7a), min_size=1, max_size=6).map("zz_".__add__)
    return st.dictionaries(names, st.text(max_size=4), min_size=1, max_size=2)


def type_hints(function: Any) -> dict[str, Any]:
    """The function's resolved hints; a hint naming what only a type checker imports is Any."""
    try:
        return typing.get_type_hints(function, localns=_HINT_NAMES)
    except NameError:
        resolved = {}
        for name, hint in getattr(function, "__annotations__", {}).items():
            try:
                resolved[name] = eval(hint, function.__globals__, _HINT_NAMES) if isinstance(hint, str) else hint
            except NameError:
                resolved[name] = Any
        return resolved


@attrs.frozen
class Parameter:
    name: str
    required: bool
    invalid: st.SearchStrategy[Any]
    spread: bool = False  # ** parameter: the drawn dict is spread into the call


def parameters(function: Any, client: str) -> list[Parameter]:
    """Every parameter of ``function`` (``**transport: Unpack[TransportOptions]`` expanded)."""
    hints = type_hints(function)
    found: list[Parameter] = []
    for name, parameter in inspect.signature(function).parameters.items():
        if name in ("self", "cls"):
            continue
        hint = hints.get(name, Any)
        if parameter.kind is parameter.VAR_KEYWORD:
            if typing.get_origin(hint) is Unpack:
                options = typing.get_type_hints(typing.get_args(hint)[0])
                found += [Parameter(key, False, invalid_values(key, value, client)) for key, value in options.items()]
            else:
                found.append(Parameter(f"**{name}", False, unknown_keywords(), spread=True))
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            found.append(Parameter(name, parameter.default is parameter.empty, invalid_values(name, hint, client)))
    return found


# -- the registry's clients, their methods, and valid examples for the arguments not broken --------
def public_methods(cls: type) -> list[str]:
    return sorted(name for name, member in inspect.getmembers(cls)
                  if not name.startswith("_") and callable(member)
                  and not isinstance(inspect.getattr_static(cls, name), property))


def driven(cls: type, method: str) -> Any:
    return cls.__init__ if method == "__init__" else getattr(cls, method)


CLIENTS = _registry.clients()
CASES = [(client, method, parameter.name) for client, (_, spec) in CLIENTS.items()
         for method in ["__init__", *public_methods(spec.load())]
         for parameter in parameters(driven(spec.load(), method), client)]
WITHOUT_ARGUMENTS = sorted(f"{client}.{method}" for client, (_, spec) in CLIENTS.items()
                           for method in public_methods(spec.load())
                           if not parameters(driven(spec.load(), method), client))

A_UUID = str(uuid.UUID(int=7, version=4))
VALID: dict[str, Any] = {
    "keyfield": "barcode", "value": "0000001", "allow_new": False, "records": [{"barcode": "0000001", "room": "A1"}],
    "email": "ada@example.org", "identifier": "ada@example.org",
    "user_id": A_UUID, "item_id": A_UUID, "instance_id": A_UUID, "hold_id": A_UUID, "external_system_id": A_UUID,
    "pickup_location_id": A_UUID, "cancellation_reason_id": A_UUID, "canceled_by_user_id": A_UUID,
}
VALID_BY_CLIENT: dict[str, dict[str, Any]] = {
    "folio": {"patron": {"generalInfo": {"firstName": "Ada", "lastName": "Byron"},
                         "contactInfo": {"email": "ada@example.org"}}},
    "folio-edge": {"patron": {"generalInfo": {"externalSystemId": "ext-1", "firstName": "Ada", "lastName": "Byron"},
                              "addressInfo": {"city": "Metropolis"}, "contactInfo": {"email": "ada@example.org"}}},
}


@pytest.fixture(scope="module")
def emulators():
    running = {name: spec.make_emulator().start() for name, spec in _registry.vendors().items()
               if spec.emulator is not None and any(c.name in CLIENTS for c in spec.clients)}
    yield running
    for emulator in running.values():
        emulator.stop()


@pytest.fixture(scope="module")
def clients(emulators):
    made = {}
    for name, (vendor, spec) in CLIENTS.items():
        made[name] = spec.load()(**spec.sandbox(emulators[vendor.name]), retry=FAST_RETRY)
    yield made
    for client in made.values():
        client.close()


def sent_so_far(emulators) -> dict[str, int]:
    return {name: emulator.counters.requests for name, emulator in emulators.items()}


@pytest.mark.parametrize("client_name, method, broken_name", CASES, ids=[f"{c}.{m}({p})" for c, m, p in CASES])
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_invalid_arguments_raise_a_kit_error_before_sending(emulators, clients, client_name, method, broken_name,
                                                            data):
    vendor, spec = CLIENTS[client_name]
    cls = spec.load()
    accepted = parameters(driven(cls, method), client_name)
    broken = next(parameter for parameter in accepted if parameter.name == broken_name)
    valid = {**VALID, **VALID_BY_CLIENT.get(client_name, {})}
    if method == "__init__":
        valid.update(spec.sandbox(emulators[vendor.name]))
    arguments: dict[str, Any] = {}
    for parameter in accepted:
        if parameter is broken:
            value = data.draw(parameter.invalid, label=parameter.name)
        elif parameter.required:
            value = valid[parameter.name] if parameter.name in valid else data.draw(parameter.invalid)
        else:
            continue
        if parameter.spread:
            arguments.update(value)
        else:
            arguments[parameter.name] = value
    target = cls if method == "__init__" else getattr(clients[client_name], method)
    before = sent_so_far(emulators)
    try:
        result = target(**arguments)
    except InputError:
        pass
    else:
        if method == "__init__":
            result.close()
        pytest.fail(f"{client_name}.{method} accepted an invalid {broken.name}")
    assert sent_so_far(emulators) == before


def test_every_registered_client_is_driven():
    """Not vacuous: each client's constructor and each of its methods that takes an argument."""
    driven_clients = {client for client, _, _ in CASES}
    assert driven_clients == set(CLIENTS)
    for client, (_, spec) in CLIENTS.items():
        methods = {m for c, m, _ in CASES if c == client}
        assert "__init__" in methods and "from_profile" in methods
        assert methods | {m.split(".")[1] for m in WITHOUT_ARGUMENTS if m.startswith(client + ".")} \
            == {"__init__", *public_methods(spec.load())}
    # the kit's own clients, as their documents define them
    assert {"set_patron", "create_patron", "set_patrons", "get_patron", "find_patrons", "search",
            "search_pages"} <= {m for c, m, _ in CASES if c == "fsi"}
    assert {"create_staging_patron", "update_staging_patron", "registration_status", "account", "renew",
            "place_item_hold", "place_instance_hold", "allowed_service_points", "cancel_hold"} \
        <= {m for c, m, _ in CASES if c == "folio"}
    assert {"create_external_patron", "get_external_patron", "update_external_patron", "external_patrons"} \
        <= {m for c, m, _ in CASES if c == "folio-edge"}
