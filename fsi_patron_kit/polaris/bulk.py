"""Polaris as a bulk target: registration updates through the conversation, each row with its answers.

Records are keyed by PatronID (as text). The staff API cannot list patrons, so each is read
with ``GET .../patrons/{id}`` (the before-image, and the read-back after a lost answer). The
write is :meth:`Client.update_registration <fsi_patron_kit.polaris.client.Client.update_registration>`:
the whole registration as just read with the planned fields set, sent as the conversation of
``PUT .../patrons/{id}`` rounds, its prompts answered by the record's own rules.

**Answers.** A plan for Polaris may carry an ``answers`` column: per row, the rules for the
prompts that record may meet, as plain data the journal keeps, ``{step name: answer name}``
(``{"DuplicatePatrons": "Yes"}``) or ``{"PatronRegistrationCharge": {"pay": {"txn_code": 2,
"payment_method": 1, "amount": 25.0}}}``. :func:`with_answers` fills it: a plan-level default
for every row, per-record overrides laid over it, and a row's own rules over both. The rules
are laid over the client's defaults, which decline (duplicate patrons No, address empty No,
invalid postal code No, verify-data block Cancel, registration charge Cancel).

**Nothing half-saved.** Polaris saves only when the procedure completes. A record whose
conversation meets a prompt no rule answers (``PromptRequired``), is declined by a rule, or
runs past the round cap is **failed**, with the prompt (step, type, message, return code) in
the journal's answer, and the record is unchanged. A lost answer is read back: the planned
values there -> applied (the last round saved); the values before -> not applied, so the
conversation is run again from step 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import APIError, InputError, NotFoundError
from ..workflows.bulk import BulkTarget, Plan, Snapshot
from ..workflows.journal import norm
from ._validate import changes_for, check_patron_id
from .conversation import (
    Conversation,
    Pay,
    Policy,
    Prompt,
    PromptRequired,
    RoundLimitExceeded,
    _rule,
    _step,
)
from .models import PAPIProcedureStep, PAPIPromptResult, PatronRegistration, name_of

__all__ = ["TARGET", "PolarisTarget", "PromptStopped", "with_answers", "answer_rules"]

#: the record's top-level properties; every other field is in its Registration
TOP_LEVEL = ("barcode", "patron_code_id")


def answer_rules(rules: Mapping[Any, Any] | None) -> dict[str, Any]:
    """Rules (steps and answers as enums, numbers or names; :class:`Pay` for the charge) as the
    plain data a plan and its journal hold: ``{step name: answer name | {"pay": {...}}}``."""
    if rules is None:
        return {}
    if not isinstance(rules, Mapping):
        raise InputError("answers", "must be a mapping of procedure step to answer")
    plain: dict[str, Any] = {}
    for key, value in rules.items():
        step = _step(key)
        if not isinstance(step, PAPIProcedureStep):
            raise InputError("answers", f"{key!r} is not a procedure step of the document")
        rule = _rule(key, value)
        plain[step.name] = {"pay": attrs.asdict(rule)} if isinstance(rule, Pay) else rule.name
    return plain


def policy_of(plain: Mapping[str, Any]) -> Policy:
    """The :class:`Policy` of rules as :func:`answer_rules` writes them (the client's declining
    defaults under them)."""
    if not isinstance(plain, Mapping):
        raise InputError("answers", "must be a mapping of procedure step name to answer name")
    rules: dict[Any, Any] = {}
    for key, value in plain.items():
        if not isinstance(key, str) or key not in PAPIProcedureStep.__members__:
            raise InputError("answers", f"{key!r} is not a PAPIProcedureStep name")
        if isinstance(value, Mapping) and set(value) == {"pay"} and isinstance(value["pay"], Mapping):
            rules[key] = Pay(**value["pay"])
        elif isinstance(value, str) and value in PAPIPromptResult.__members__:
            rules[key] = value
        else:
            raise InputError(f"answers[{key}]", 'must be a PAPIPromptResult name or {"pay": {...}}')
    return Policy(rules)


def with_answers(plan: Plan, default: Mapping[Any, Any] | None = None,
                 per_record: Mapping[Any, Mapping[Any, Any]] | None = None) -> Plan:
    """``plan`` with its ``answers`` column filled: ``default`` for every row, ``per_record``
    (record key -> rules) over it, and the rules a row already has over both."""
    base = answer_rules(default)
    overrides = {str(key): answer_rules(rules) for key, rules in (per_record or {}).items()}
    frame = plan.to_frame()
    own = frame["answers"] if "answers" in frame.columns else [None] * len(frame)
    frame["answers"] = [{**base, **overrides.get(str(key), {}), **answer_rules(given)} or None
                        for key, given in zip(frame["record_key"], own, strict=True)]
    return Plan(frame)


class PromptStopped(APIError):
    """A record's conversation ended before saving: a prompt no rule answers, a rule that
    declined, or the round cap. ``details`` (step, prompt type, message...) go to the journal."""

    def __init__(self, outcome: str, prompt: Prompt | None, conversation: Conversation, why: str = "") -> None:
        self.details = {"outcome": outcome, "rounds": len(conversation.rounds)}
        if prompt is not None:
            self.details.update(step=name_of(prompt.step), prompt_type=name_of(prompt.prompt_type),
                                prompt=prompt.message, return_code=prompt.return_code)
        asked = f" at {name_of(prompt.step)} ({name_of(prompt.prompt_type)}): {prompt.message!r}" if prompt else ""
        super().__init__(f"{outcome}{asked}{'; ' + why if why else ''}; nothing was saved", status=200,
                         vendor="polaris", action="update-registration")


def _last_prompt(conversation: Conversation) -> tuple[Prompt | None, str]:
    asked = [r for r in conversation.rounds if r.prompt is not None]
    if not asked:
        return None, ""
    last = asked[-1]
    return last.prompt, (f"answered {last.reply.answer.name} ({last.reply.why})" if last.reply else "")


class PolarisTarget(BulkTarget):
    vendor = "polaris"
    client_type = "fsi_patron_kit.polaris.client:Client"
    canonical = None  # the rules are the document's, checked by the client's own validation
    can_list = False
    row_options = ("answers",)
    #: canonical column (and Polaris's patron code) -> the field ``update_registration`` takes
    fields = {"barcode": "barcode", "username": "username", "first_name": "name_first", "last_name": "name_last",
              "email": "email_address", "phone": "phone_voice1", "patron_code_id": "patron_code_id"}

    def refusal(self, field: str, value: Any) -> str | None:
        if field not in self.fields:
            return f"Polaris bulk updates cannot write this column (they can: {', '.join(self.fields)})"
        try:
            changes_for({self.fields[field]: norm(value)})
        except InputError as refused:
            return refused.rule
        return None

    def key_refusal(self, key: Any) -> str | None:
        text = str(key)
        if not text.isdigit() or int(text) < 1:
            return "must be the patron's PatronID (a positive whole number)"
        return None

    def option_refusal(self, column: str, value: Any) -> str | None:
        try:
            policy_of(value)
        except (InputError, TypeError) as refused:
            return getattr(refused, "rule", str(refused)) + ' (make the column with polaris.bulk.with_answers)'
        return None

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        try:
            patron = client.get_patron(check_patron_id(int(key), "record_key"))
        except NotFoundError:
            return None
        if patron.private_fields_cleared:  # blank would read as missing, and a write would blank them
            raise APIError("this staff user may not see the patron's private fields (PrivateFieldsCleared)",
                           status=200, vendor=self.vendor, action="get-patron")
        registration = patron.registration or PatronRegistration()
        values = {column: getattr(patron if name in TOP_LEVEL else registration, name)
                  for column, name in self.fields.items()}
        return Snapshot(values, raw=None)

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        preview = client.update_registration(int(key), self._named(changes), dry_run=True)
        return {"method": preview.method, "url": preview.url, "body": preview.body}

    def _named(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        return {self.fields[column]: value for column, value in changes.items()}

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.check(changes, restore=restore)
        policy = policy_of((options or {}).get("answers") or {})
        try:
            conversation = client.update_registration(int(key), self._named(changes), answers=policy)
        except PromptRequired as stop:
            raise PromptStopped("prompt required", stop.prompt, stop.conversation,
                                "no rule of this row answers it") from None
        except RoundLimitExceeded as stop:
            raise PromptStopped("round limit", _last_prompt(stop.conversation)[0], stop.conversation) from None
        if not conversation.saved:
            prompt, why = _last_prompt(conversation)
            raise PromptStopped(conversation.outcome, prompt, conversation, why)
        answered = [f"{name_of(r.prompt.step)}: {r.reply.answer.name}" for r in conversation.rounds
                    if r.prompt is not None and r.reply is not None]
        return {"outcome": "completed", "rounds": len(conversation.rounds), "answered": answered}


TARGET = PolarisTarget()
