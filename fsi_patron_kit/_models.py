"""What every vendor's models share: snake_case attrs models over camelCase JSON.

Each vendor builds one :class:`WireModels` (one cattrs converter, built once at import) and
decorates its models with ``@models.model``. Field names map by rule (``zip_code`` <->
``zipCode``), with a class's ``__wire_names__`` for the exceptions a vendor spells its own way.
A model with a ``raw`` field keeps the wire record it was read from; with ``keep_extras`` the
properties it does not model are written back, so a record read and written is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

T = TypeVar("T")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def private(**kwargs: Any) -> Any:
    """A field kept out of repr: personal data."""
    return attrs.field(default=None, repr=False, **kwargs)


def raw_field() -> Any:
    """The wire record a model was read from (never in repr or equality)."""
    return attrs.field(factory=dict, repr=False, eq=False)


class WireModels:
    """One vendor's converter and the decorator that registers its models with it.

    ``raw_filter`` drops what must not be kept from a record's ``raw`` (a token inside an
    answer); ``keep_extras`` writes back the properties a model does not declare;
    ``omit_defaults`` leaves out of the JSON the fields still at their default.
    """

    def __init__(self, *, keep_extras: bool = False, omit_defaults: bool = False,
                 raw_filter: Callable[[Mapping[str, Any]], dict[str, Any]] = dict) -> None:
        self.converter = cattrs.Converter()
        self._keep_extras = keep_extras
        self._omit_defaults = omit_defaults
        self._raw_filter = raw_filter
        converter = self.converter

        class Wire:
            """Reading from and writing to the vendor's JSON, shared by every model."""

            @classmethod
            def from_wire(cls: type[T], data: Mapping[str, Any]) -> T:
                return converter.structure(dict(data), cls)

            def to_wire(self) -> dict[str, Any]:
                return converter.unstructure(self)

        self.Wire = Wire

    def model(self, cls: type[T]) -> type[T]:
        """Make ``cls`` a frozen, keyword-only attrs model and register its hooks (nested
        models must be registered first)."""
        cls = attrs.frozen(kw_only=True)(cls)
        special = getattr(cls, "__wire_names__", {})
        omit = self._omit_defaults
        names = {
            a.name: override(rename=special.get(a.name, camel(a.name)),
                             omit_if_default=False if omit and isinstance(a.default, attrs.Factory) else None)
            for a in attrs.fields(cls) if a.name != "raw"
        }
        wire_names = {o.rename for o in names.values()}
        keeps_raw = "raw" in attrs.fields_dict(cls)
        if keeps_raw:
            names["raw"] = override(omit=True)
        structure = make_dict_structure_fn(cls, self.converter, **names)
        unstructure = make_dict_unstructure_fn(cls, self.converter, _cattrs_omit_if_default=omit, **names)
        if keeps_raw:
            structure = self._with_raw(structure)
            if self._keep_extras:
                unstructure = _with_extras(unstructure, wire_names)
        self.converter.register_structure_hook(cls, structure)
        self.converter.register_unstructure_hook(cls, unstructure)
        return cls

    def _with_raw(self, structure: Any) -> Any:
        keep = self._raw_filter

        def structure_keeping_raw(data: Mapping[str, Any], kind: type) -> Any:
            return attrs.evolve(structure(data, kind), raw=keep(data))

        return structure_keeping_raw


def _with_extras(unstructure: Any, wire_names: set[str]) -> Any:
    def unstructure_with_extras(instance: Any) -> dict[str, Any]:
        extras = {k: v for k, v in instance.raw.items() if k not in wire_names}
        return {**extras, **unstructure(instance)}

    return unstructure_with_extras
