"""Registration forms for notebooks, one per vendor, built from the vendor's own rules.

Every form is a thin layer over :mod:`.registration`: its fields come from the vendor's rules
(Wise: the library's required-fields answer; FOLIO: the staging-user and external-patron
schemas; FSI: its fields and role enum; Polaris: the registration model's metadata), its checks
are the same functions the registration runs (shown beside the field that broke them, submit
disabled until there are none), and submitting calls the same headless function a script
calls. ipywidgets is imported only when a form is made.

A form is driven the same way by a person and by a test: ``form.set(name, value)``,
``form.errors``, ``form.submit_button.disabled``, ``form.submit()``, ``form.result``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..errors import InputError, PatronKitError
from . import registration

__all__ = ["Field", "Form", "fsi_form", "wise_form", "folio_form", "polaris_form"]

REQUIRED_MARK = " *"


@attrs.frozen(kw_only=True)
class Field:
    """One input: ``kind`` is ``text``, ``secret``, ``choice``, ``choices`` (several) or ``flag``."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    options: tuple[tuple[str, Any], ...] = ()
    group: str = ""
    hint: str = ""
    value: Any = None


class Form:
    """Fields, an error beside each, a duplicate switch, a submit button and the result.

    ``check(values)`` gives the (field, rule) problems of the vendor's rules; ``send(values,
    allow_duplicate)`` registers and returns a :class:`~.registration.Registration`.
    """

    def __init__(self, title: str, fields: list[Field], *, check: Callable[[dict[str, Any]], list[tuple[str, str]]],
                 send: Callable[[dict[str, Any], bool], registration.Registration],
                 extra: list[Any] | None = None) -> None:
        import ipywidgets as widgets

        self._widgets = widgets
        self.fields = {field.name: field for field in fields}
        self._check, self._send = check, send
        self.inputs: dict[str, Any] = {}
        self.error_labels: dict[str, Any] = {}
        rows: list[Any] = [widgets.HTML(f"<h4>{html.escape(title)}</h4><small>* required</small>")]
        group = None
        for field in fields:
            if field.group and field.group != group:
                group = field.group
                rows.append(widgets.HTML(f"<b>{html.escape(group)}</b>"))
            control = self._control(field)
            control.observe(lambda _change: self.refresh(), names="value")
            control.add_class("pk-field-" + field.name.replace(".", "-"))  # for browsers and their tests
            self.inputs[field.name] = control
            self.error_labels[field.name] = widgets.HTML(layout=widgets.Layout(min_width="18em"))
            self.error_labels[field.name].add_class("pk-field-error")
            rows.append(widgets.HBox([control, self.error_labels[field.name]]))
        rows += extra or []
        self.allow_duplicate = widgets.Checkbox(description="register even if a duplicate is found", value=False,
                                                style={"description_width": "initial"})
        self.submit_button = widgets.Button(description="Register", button_style="primary", disabled=True)
        self.submit_button.add_class("pk-submit")
        self.submit_button.on_click(lambda _button: self.submit())
        self.output = widgets.HTML()
        self.output.add_class("pk-result")
        rows += [self.allow_duplicate, self.submit_button, self.output]
        self.widget = widgets.VBox(rows)
        self.widget.add_class("pk-registration-form")
        self.result: registration.Registration | None = None
        self.errors: dict[str, str] = {}
        self.refresh()

    # -- what a person (or a test) does -------------------------------------------------------------
    def set(self, name: str, value: Any) -> None:
        """Fill one field (as typing into it would)."""
        if name not in self.inputs:
            raise InputError(name, f"is not a field of this form ({', '.join(self.inputs)})")
        self.inputs[name].value = value

    def values(self) -> dict[str, Any]:
        return {name: _value(control) for name, control in self.inputs.items()}

    def refresh(self) -> None:
        """Check the values; show each problem beside its field; enable submit only when none."""
        try:
            problems = self._check(self.values())
        except InputError as refused:
            problems = list(getattr(refused, "problems", None) or [(refused.field, refused.rule)])
        self.errors = {}
        for field, rule in problems:
            self.errors.setdefault(self._owner(field), rule)
        for name, label in self.error_labels.items():
            rule = self.errors.get(name)
            label.value = f"<span style='color:#b00020'>{html.escape(rule)}</span>" if rule else ""
        self.submit_button.disabled = bool(self.errors)

    def submit(self) -> registration.Registration | None:
        """Register through the headless function; show what was created, found or asked."""
        self.refresh()
        if self.errors:
            return None
        try:
            self.result = self._send(self.values(), self.allow_duplicate.value)
        except PatronKitError as failed:
            self.output.value = f"<div class='pk-failed' style='color:#b00020'>{html.escape(str(failed))}</div>"
            return None
        self.output.value = _result_html(self.result)
        return self.result

    # -- plumbing -----------------------------------------------------------------------------------
    def _owner(self, field: str) -> str:
        """The form field a rule's field path belongs to (``preferredEmailCommunication.0`` -> its list)."""
        if field in self.inputs:
            return field
        owner = next((name for name in self.inputs if field.startswith(name + ".")), None)
        return owner or field

    def _control(self, field: Field) -> Any:
        w = self._widgets
        label = field.label + (REQUIRED_MARK if field.required else "")
        common = {"description": label, "style": {"description_width": "14em"},
                  "layout": w.Layout(width="32em")}
        if field.kind == "choice":
            options = [("", None), *field.options]
            return w.Dropdown(options=options, value=field.value, **common)
        if field.kind == "choices":
            return w.SelectMultiple(options=list(field.options), value=tuple(field.value or ()), **common)
        if field.kind == "flag":
            return w.Checkbox(value=bool(field.value), indent=False, **common)
        kind = w.Password if field.kind == "secret" else w.Text
        return kind(value="" if field.value is None else str(field.value), placeholder=field.hint,
                    continuous_update=False, **common)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _value(control: Any) -> Any:
    value = control.value
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, tuple):
        return list(value)
    return value


def _result_html(done: registration.Registration) -> str:
    ids = "".join(f"<li>{html.escape(k)}: <code class='pk-created-id' data-field='{html.escape(k)}'>"
                  f"{html.escape(v)}</code></li>" for k, v in done.ids.items())
    parts = [f"<div class='pk-outcome' data-outcome='{html.escape(done.outcome)}'>"
             f"<b>{html.escape(done.vendor)}: {html.escape(done.outcome)}</b><ul>{ids}</ul>"]
    if done.prompt is not None:
        parts.append(f"<p class='pk-prompt'>Polaris asks: {html.escape(done.prompt.message)}</p>")
    if len(done.duplicates):
        parts.append("<p>Duplicates found:</p>" + done.duplicates.to_html(index=False))
    steps = "".join(f"<li>{html.escape(s.step)}: {html.escape(s.request)} &rarr; {html.escape(s.outcome)}</li>"
                    for s in done.transcript)
    parts.append(f"<details><summary>transcript</summary><ol>{steps}</ol></details></div>")
    return "".join(parts)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _labelled(name: str) -> str:
    return name.replace("_", " ")


# -- FSI ---------------------------------------------------------------------------------------------
def fsi_form(client: Any, *, keyfield: str = "username") -> Form:
    """FSI's patron fields, the role from its enum; the keyfield and the names required."""
    from ..fsi.models import FIELDS, ROLES, WIRE_NAMES

    key = next((name for name, wire in WIRE_NAMES.items() if wire == keyfield), None)
    required = {*registration.FSI_REQUIRED, *([key] if key else [])}
    fields = [Field(name=name, label=_labelled(name), required=name in required,
                    kind="choice" if name == "role" else "text",
                    options=tuple((role.title(), role) for role in ROLES) if name == "role" else ())
              for name in FIELDS]

    def check(values: dict[str, Any]) -> list[tuple[str, str]]:
        return registration.fsi_problems(_present(values), keyfield=keyfield)

    def send(values: dict[str, Any], allow_duplicate: bool) -> registration.Registration:
        return registration.fsi(client, _present(values), keyfield=keyfield, allow_duplicate=allow_duplicate)

    return Form("FSI: a new patron", fields, check=check, send=send)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if not _blank(value)}


# -- OCLC Wise ---------------------------------------------------------------------------------------
WISE_CHOICES = {"gender": ("FEMALE", "MALE")}
#: The applicant's details the offers depend on (the document's offers query).
OFFER_INPUTS = ("home_branch", "date_of_birth", "gender", "zip_code")


def wise_form(client: Any, *, library_id: str) -> Form:
    """The library's required-fields answer as a form (label, type, required, desired, visible,
    format, group, order); the subscriptions offered to the person chosen from a list with fees."""
    import ipywidgets as widgets

    from ..wise import Applicant
    from ..wise import _validate as rules

    answer = client.required_fields(library_id=library_id)
    definitions = answer[answer["visible"].fillna(True)].sort_values("order")  # "01-1", "07-2": text order
    fields = []
    for row in definitions.to_dict("records"):
        name = rules.FIELD_IDS.get(str(row["id"]))
        if name is None:
            continue
        hint = row["format"] if isinstance(row["format"], str) else {"D": "yyyy-MM-dd", "N": "digits"}.get(
            row["type"], "")
        label = str(row["label"]) + (" (desired)" if row["desired"] is True and row["required"] is not True else "")
        fields.append(Field(name=name, label=label, required=row["required"] is True, hint=hint,
                            kind="choice" if name in WISE_CHOICES else "secret" if name == "password" else "text",
                            options=tuple((v.title(), v) for v in WISE_CHOICES.get(name, ())),
                            group=str(row["group_label"] or row["group"] or "")))
    library_rules = answer.astype(object).where(answer.notna(), None).to_dict("records")
    offer = widgets.Dropdown(description="Subscription *", options=[("(fill in branch, birth date, gender, zip)",
                                                                     None)],
                             style={"description_width": "14em"}, layout=widgets.Layout(width="40em"))
    offer.add_class("pk-offers")
    known_offers: dict[tuple[Any, ...], list[tuple[str, Any]]] = {}

    def applicant(values: dict[str, Any]) -> Any:
        given = {name: value for name, value in values.items() if value is not None}
        needed = {name: "" for name in rules.DOCUMENT_REQUIRED}
        return Applicant(**{**needed, **given})

    def check(values: dict[str, Any]) -> list[tuple[str, str]]:
        person = applicant(values)
        problems: list[tuple[str, str]] = []
        for rule in (lambda: rules.applicant(person, today=client.server_today()),
                     lambda: rules.library_rules(person, library_rules, library_id)):
            try:
                rule()
            except InputError as refused:
                problems += list(getattr(refused, "problems", None) or [(refused.field, refused.rule)])
        problems = list(dict.fromkeys(problems))
        _load_offers(values, {field for field, _ in problems})
        if offer.value is None:
            problems.append(("subscription", "choose one of the subscriptions offered"))
        return problems

    def _load_offers(values: dict[str, Any], broken: set[str]) -> None:
        inputs = tuple(values.get(name) for name in OFFER_INPUTS)
        if any(v is None for v in inputs) or broken & set(OFFER_INPUTS):
            return
        if inputs not in known_offers:
            offered = client.offers(library_id=library_id, branch_id=inputs[0], date_of_birth=inputs[1],
                                    gender=inputs[2], zip_code=inputs[3])
            known_offers[inputs] = [(f"{o['subscription_description']}: {o['cost']}", int(o["subscription_id"]))
                                    for o in offered.to_dict("records")]
        choices = known_offers[inputs]
        if list(offer.options) != choices:
            offer.options = choices
            offer.value = choices[0][1] if len(choices) == 1 else None

    def send(values: dict[str, Any], allow_duplicate: bool) -> registration.Registration:
        return registration.wise(client, applicant(values), library_id=library_id, subscription_id=offer.value,
                                 allow_duplicate=allow_duplicate)

    form = Form(f"OCLC Wise: subscribe in {library_id}", fields, check=check, send=send, extra=[offer])
    form.offers = offer
    form.error_labels["subscription"] = widgets.HTML()
    offer.observe(lambda _change: form.refresh(), names="value")
    form.refresh()
    return form


# -- FOLIO -------------------------------------------------------------------------------------------
FOLIO_SECTIONS = ("generalInfo", "addressInfo", "contactInfo")
FOLIO_ASSIGNED = frozenset({"id", "externalSystemId", "metadata"})  # FOLIO assigns these


def folio_form(client: Any, *, edge: Any = None) -> Form:
    """The staging-user schema (and with ``edge`` the external-patron schema's requirements):
    its sections' text fields, the status enum (TIER-1/TIER-2) and preferredEmailCommunication."""
    from ..folio import _schemas

    schemas = [_schemas.STAGING_USER] + ([_schemas.EXTERNAL_PATRON] if edge is not None else [])
    fields: list[Field] = []
    for section in FOLIO_SECTIONS:
        properties = _schemas.STAGING_USER["properties"][section]["properties"]
        required = {name for schema in schemas if section in schema.get("required", [])
                    for name in schema["properties"][section].get("required", [])} - FOLIO_ASSIGNED
        fields += [Field(name=f"{section}.{name}", label=name, required=name in required, group=section,
                         hint="name@example.org" if prop.get("format") == "email" else "")
                   for name, prop in properties.items() if name not in FOLIO_ASSIGNED]
    for name, prop in _schemas.STAGING_USER["properties"].items():
        if name in FOLIO_ASSIGNED or name in FOLIO_SECTIONS:
            continue
        if "enum" in prop:
            fields.append(Field(name=name, label=name, kind="choice", options=tuple((v, v) for v in prop["enum"]),
                                group="registration"))
        elif prop.get("type") == "array":
            fields.append(Field(name=name, label=name, kind="choices", group="registration",
                                options=tuple((v, v) for v in prop["items"]["enum"])))
        elif prop.get("type") == "boolean":
            fields.append(Field(name=name, label=name, kind="flag", group="registration"))

    def check(values: dict[str, Any]) -> list[tuple[str, str]]:
        return registration.folio_problems(_folio_body(values), edge=edge is not None)

    def send(values: dict[str, Any], allow_duplicate: bool) -> registration.Registration:
        return registration.folio(client, _folio_body(values), edge=edge, allow_duplicate=allow_duplicate)

    return Form("FOLIO: self-registration" + (" and external patron" if edge is not None else ""), fields,
                check=check, send=send)


def _folio_body(values: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {section: {} for section in ("generalInfo", "contactInfo")}
    for name, value in values.items():
        if _blank(value) or value is False:
            continue
        section, _, inner = name.partition(".")
        if inner:
            body.setdefault(section, {})[inner] = value
        else:
            body[name] = value
    return body


# -- Polaris -----------------------------------------------------------------------------------------
def polaris_form(client: Any, patron_id: int, *, answers: Mapping[Any, Any] | None = None) -> Form:
    """A patron's registration as the model describes it: its text fields and the fields its
    metadata marks required, filled with what Polaris holds; the changed ones are sent."""
    from ..polaris import PatronRegistration
    from ..polaris._validate import changes_for
    from ..polaris.models import BOOLEAN, STRING

    current = client.get_patron(patron_id).registration
    fields = []
    for attribute in attrs.fields(PatronRegistration):
        meta = attribute.metadata
        text = meta.get("kind") == STRING and attribute.name != "password"
        if not (text or (meta.get("kind") == BOOLEAN and meta.get("required"))):
            continue
        fields.append(Field(name=attribute.name, label=_labelled(attribute.name), required=bool(meta.get("required")),
                            kind="text" if text else "flag", value=getattr(current, attribute.name)))
    held = {field.name: None if field.value == "" else field.value for field in fields}

    def changes(values: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value != held[name]}

    def check(values: dict[str, Any]) -> list[tuple[str, str]]:
        problems = [(f.name, "is required") for f in fields if f.required and f.kind != "flag" and _blank(values[f.name])]
        try:
            changes_for(changes(values))
        except InputError as refused:
            problems += list(getattr(refused, "problems", None) or [(refused.field, refused.rule)])
        return problems

    def send(values: dict[str, Any], allow_duplicate: bool) -> registration.Registration:
        return registration.polaris(client, patron_id, changes(values), answers=answers,
                                    allow_duplicate=allow_duplicate)

    return Form(f"Polaris: registration of patron {patron_id}", fields, check=check, send=send)
