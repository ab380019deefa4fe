"""The registration conversation: send, read the PAPI values, answer prompts by policy, repeat.

Polaris updates a registration as a dialogue. The caller starts at ``ProcedureStep`` 1; each
answer either completes (``PAPIReturnCode`` >= 0), stops with an error, or asks a question
(a ``PAPIPromptType``). Who answers is the caller's choice, made explicit here:

* a :class:`Policy`: one rule per procedure step. The default declines everything it is asked
  (duplicate patrons No, address empty No, invalid postal code No, verify-data block Cancel,
  registration charge Cancel); ``{PAPIProcedureStep.DuplicatePatrons: PAPIPromptResult.Yes}``
  or ``Pay(...)`` for the charge changes one rule;
* a callable ``prompt -> answer`` (an answer, a :class:`Pay`, a :class:`Reply`, or None for
  "I don't know");
* a person (``answers="ask"``, see :mod:`.dialog`).

A prompt nobody has a rule for is never answered: the conversation stops with
:class:`PromptRequired`, and since Polaris saves nothing until the last step, nothing is
half-saved. A cap on rounds guards against a server that keeps asking.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pandas as pd

from .._display import _STYLE
from .._frames import BOOL, INT, Column, FrameSpec
from ..errors import InputError, PatronKitError
from ._wire import refusal_of
from .models import (
    ANSWERS_FOR_PROMPT,
    GOES_ON,
    PAPIProcedureStep,
    PAPIPromptResult,
    PAPIPromptType,
    PAPIStopType,
    PatronRegResult,
    PatronRegUpdateData,
    enum_or_int,
    name_of,
)

__all__ = ["Pay", "Reply", "Prompt", "Policy", "Round", "Conversation", "PromptRequired", "RoundLimitExceeded",
           "DEFAULT_RULES", "MAX_ROUNDS"]

Step = PAPIProcedureStep
Answer = PAPIPromptResult
MAX_ROUNDS = 10  # peers cap their loops at 10
#: What a rule may say instead, when the prompt type does not offer the rule's answer.
SAME_INTENT = {Answer.Yes: Answer.OK, Answer.OK: Answer.Yes, Answer.No: Answer.Cancel, Answer.Cancel: Answer.No}


@attrs.frozen(kw_only=True)
class Pay:
    """Accept a registration charge (step 15) and settle it.

    ``txn_code`` is the patron account transaction code (the sandbox: 1 charge to the account,
    2 pay, 3 waive); a payment also needs ``payment_method`` and ``amount``.
    """

    txn_code: int
    payment_method: int | None = None
    amount: float | None = None
    return_receipt_url: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("txn_code", "payment_method"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InputError(name, "must be an integer")
        if self.amount is not None and (isinstance(self.amount, bool) or not isinstance(self.amount, int | float)
                                        or self.amount < 0):
            raise InputError("amount", "must be a number >= 0")
        if not isinstance(self.return_receipt_url, bool):
            raise InputError("return_receipt_url", "must be True or False")


@attrs.frozen(kw_only=True)
class Reply:
    """The answer given to one prompt, and why."""

    answer: PAPIPromptResult
    payment: Pay | None = None
    why: str = ""

    @property
    def goes_on(self) -> bool:
        return self.answer in GOES_ON


@attrs.frozen(kw_only=True)
class Prompt:
    """A question Polaris asked: its step, type and message, and the duplicates when it has them."""

    step: Any
    prompt_type: Any
    message: str
    return_code: int | None
    reg_charge: float | None = None
    result: PatronRegResult = attrs.field(repr=False, eq=False)

    @property
    def options(self) -> tuple[PAPIPromptResult, ...]:
        """The answers this prompt type offers."""
        return ANSWERS_FOR_PROMPT.get(self.prompt_type, ()) if isinstance(self.prompt_type, PAPIPromptType) else ()

    @property
    def duplicates(self) -> pd.DataFrame:
        return self.result.duplicates

    @classmethod
    def of(cls, result: PatronRegResult) -> Prompt:
        return cls(step=result.papi_procedure_step, prompt_type=result.papi_prompt_type, message=result.message or "",
                   return_code=result.papi_return_code, reg_charge=result.reg_charge or None, result=result)


class PromptRequired(PatronKitError):
    """Polaris asked something no rule answers; nothing was answered, so nothing was saved.

    ``prompt`` is the question (``step``, ``prompt_type``, ``message``, ``duplicates`` as a
    DataFrame) and ``conversation`` every round so far. Add a rule for the step and run again.
    """

    def __init__(self, prompt: Prompt, conversation: Conversation) -> None:
        self.prompt = prompt
        self.conversation = conversation
        super().__init__(f"Polaris asked at step {name_of(prompt.step)} ({name_of(prompt.prompt_type)}): "
                         f"{prompt.message!r}; no rule answers it, so the update stopped unanswered")

    @property
    def step(self) -> Any:
        return self.prompt.step

    @property
    def prompt_type(self) -> Any:
        return self.prompt.prompt_type

    @property
    def message(self) -> str:
        return self.prompt.message

    @property
    def duplicates(self) -> pd.DataFrame:
        return self.prompt.duplicates


class RoundLimitExceeded(PatronKitError):
    """Polaris kept asking past the round cap; the last prompt was left unanswered."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        super().__init__(f"the conversation reached {len(conversation.rounds)} rounds without completing")


#: The default rules: decline everything (a No ends the procedure with nothing saved).
DEFAULT_RULES: dict[PAPIProcedureStep, Any] = {
    Step.DuplicatePatrons: Answer.No,
    Step.PatronAddressEmpty: Answer.No,
    Step.InvalidPostalcodeFormat: Answer.No,
    Step.VerifyPatronDataBlock: Answer.Cancel,
    Step.PatronRegistrationCharge: Answer.Cancel,
}


class Policy:
    """Answers prompts by an explicit rule per procedure step; steps without a rule are not answered.

    ``rules`` maps a step (a :class:`PAPIProcedureStep`, its number or its name) to a
    :class:`PAPIPromptResult` (or its name), or to :class:`Pay` for the registration charge.
    They are laid over :data:`DEFAULT_RULES` unless ``defaults=False``.
    """

    def __init__(self, rules: Mapping[Any, Any] | None = None, *, defaults: bool = True) -> None:
        merged: dict[Any, Any] = dict(DEFAULT_RULES) if defaults else {}
        for key, value in (rules or {}).items():
            merged[_step(key)] = _rule(key, value)
        self.rules = merged

    def __repr__(self) -> str:
        shown = ", ".join(f"{name_of(step)}: {_rule_text(rule)}" for step, rule in self.rules.items())
        return f"Policy({{{shown}}})"

    def __call__(self, prompt: Prompt) -> Reply | None:
        rule = self.rules.get(prompt.step)
        if rule is None:
            return None
        why = f"rule for {name_of(prompt.step)}"
        if isinstance(rule, Pay):
            return Reply(answer=Answer.Yes, payment=rule, why=why)
        return Reply(answer=rule, why=why)


def _step(key: Any) -> Any:
    if isinstance(key, str):
        if key not in Step.__members__:
            raise InputError("answers", f"{key!r} is not a PAPIProcedureStep name")
        return Step[key]
    if isinstance(key, bool) or not isinstance(key, int):
        raise InputError("answers", "rule keys must be procedure steps (PAPIProcedureStep, int or name)")
    return enum_or_int(Step, key)


def _rule(key: Any, value: Any) -> Any:
    if isinstance(value, Pay):
        return value
    if isinstance(value, str) and value in Answer.__members__:
        return Answer[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in set(Answer):
        return Answer(value)
    raise InputError(f"answers[{key}]", "must be a PAPIPromptResult (or its name) or Pay(...)")


def _rule_text(rule: Any) -> str:
    return rule.name if isinstance(rule, Answer) else repr(rule)


def as_answerer(answers: Any) -> Callable[[Prompt], Reply | None]:
    """``answers`` (None, a mapping, a Policy or a callable) as one ``prompt -> Reply | None``."""
    if answers is None:
        return Policy()
    if isinstance(answers, Mapping):
        return Policy(answers)
    if callable(answers):
        return answers
    raise InputError("answers", 'must be None, a mapping of step to answer, a Policy, a callable or "ask"')


def reply_of(given: Any, prompt: Prompt) -> Reply | None:
    """What an answerer returned, as a Reply offered by the prompt (None: no answer)."""
    if given is None or isinstance(given, Reply):
        reply = given
    elif isinstance(given, Pay):
        reply = Reply(answer=Answer.Yes, payment=given, why="answered by the callable")
    else:
        reply = Reply(answer=_rule("answer", given), why="answered by the callable")
    if reply is None or reply.answer in prompt.options:
        return reply
    alternative = SAME_INTENT.get(reply.answer)
    if alternative in prompt.options:
        return attrs.evolve(reply, answer=alternative,
                            why=f"{reply.why}; {reply.answer.name} given as {alternative.name}, which this prompt offers")
    return reply


# -- the record -------------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Round:
    """One exchange: what was sent, what came back, and the answer chosen for it (if a prompt)."""

    number: int
    sent_step: int
    sent_answer: PAPIPromptResult | None
    payment: Pay | None
    result: PatronRegResult = attrs.field(repr=False)
    prompt: Prompt | None = None
    reply: Reply | None = None


ROUND_FRAME = FrameSpec((
    Column("round", INT), Column("sent_step"), Column("sent_answer"), Column("return_code", INT),
    Column("step"), Column("action"), Column("prompt_type"), Column("stop_type"), Column("success", BOOL),
    Column("message"), Column("answer"), Column("why"),
))


@attrs.define(kw_only=True)
class Conversation:
    """Every round of one registration update and how it ended.

    ``outcome`` is ``"completed"`` (saved once), ``"declined"`` (an answer ended it, or a
    prompt could not be answered as the rule says: nothing saved), or while it runs ``"open"``.
    Stops with an error, unanswered prompts and the round cap raise, carrying the conversation,
    whose outcome then says ``"stopped"``, ``"prompt required"`` or ``"round limit"``.
    """

    patron_id: int
    rounds: list[Round] = attrs.field(factory=list)
    outcome: str = "open"

    @property
    def saved(self) -> bool:
        return self.outcome == "completed"

    @property
    def result(self) -> PatronRegResult | None:
        """Polaris's last answer."""
        return self.rounds[-1].result if self.rounds else None

    def to_frame(self) -> pd.DataFrame:
        """One row per round: what was sent, the PAPI values that came back, the answer and why."""
        rows = []
        for r in self.rounds:
            res = r.result
            rows.append({
                "round": r.number, "sent_step": name_of(enum_or_int(Step, r.sent_step)),
                "sent_answer": r.sent_answer.name if r.sent_answer is not None else None,
                "return_code": res.papi_return_code, "step": name_of(res.papi_procedure_step),
                "action": name_of(res.papi_action), "prompt_type": name_of(res.papi_prompt_type),
                "stop_type": name_of(res.papi_stop_type), "success": res.success, "message": res.message,
                "answer": r.reply.answer.name if r.reply else None, "why": r.reply.why if r.reply else None,
            })
        return ROUND_FRAME.build(rows)

    def transcript(self) -> str:
        """The conversation as plain text, one line per message (for terminals and untrusted notebooks)."""
        lines = []
        for line in self._lines():
            lines.append(f"{line[0]}: {line[1]}")
        lines.append(f"outcome: {self.outcome}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Conversation patron={self.patron_id} rounds={len(self.rounds)} outcome={self.outcome}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form (GitHub, untrusted notebooks, terminals): the transcript."""
        printer.text(repr(self) if cycle else f"{self!r}\n{self.transcript()}")

    def _lines(self) -> list[tuple[str, str, Round]]:
        lines = []
        for r in self.rounds:
            sent = f"ProcedureStep {name_of(enum_or_int(Step, r.sent_step))}"
            if r.sent_answer is not None:
                sent += f", Answer {r.sent_answer.name}"
            if r.payment is not None:
                sent += f", payment (txn {r.payment.txn_code}, method {r.payment.payment_method}, {r.payment.amount})"
            lines.append(("kit", sent, r))
            res = r.result
            if r.prompt is not None:
                said = f"[{name_of(res.papi_prompt_type)} at {name_of(res.papi_procedure_step)}] {res.message}"
            elif res.completed:
                said = f"completed (PAPIReturnCode {res.papi_return_code})"
            else:
                said = f"stopped: {res.message} (PAPIReturnCode {res.papi_return_code}, {name_of(res.papi_stop_type)})"
            lines.append(("Polaris", said, r))
            if r.reply is not None:
                lines.append(("answer", f"{r.reply.answer.name} ({r.reply.why})", r))
        return lines

    def _repr_html_(self) -> str:
        """A dialog: the kit's messages on the right, Polaris's on the left, duplicates as tables."""
        parts = [_STYLE, "<div class='pk-card'>",
                 f"<strong>Polaris registration update, patron {self.patron_id}: {html.escape(self.outcome)}</strong>"]
        for who, text, r in self._lines():
            side = "right" if who in ("kit", "answer") else "left"
            colour = "#e8f0fe" if who == "kit" else "#f1f3f4" if who == "Polaris" else "#e6f4ea"
            parts.append(f"<div style='text-align:{side};margin:4px 0'><span style='display:inline-block;"
                         f"background:{colour};border-radius:8px;padding:4px 8px;max-width:80%'>"
                         f"<b>{html.escape(who)}</b>: {html.escape(text)}</span></div>")
            if who == "Polaris" and r.prompt is not None and r.result.duplicate_patrons:
                parts.append(r.prompt.duplicates.to_html(index=False, na_rep=""))
        parts.append("</div>")
        return "".join(parts)


# -- the engine -------------------------------------------------------------------------------------
def converse(send: Callable[[PatronRegUpdateData], PatronRegResult], body: PatronRegUpdateData, patron_id: int,
             answerer: Callable[[Prompt], Any], *, max_rounds: int = MAX_ROUNDS,
             action: str = "update-registration") -> Conversation:
    """Run the procedure from step 1 until it completes, is declined, stops, or needs a person."""
    conversation = Conversation(patron_id=patron_id)
    body = attrs.evolve(body, procedure_step=int(Step.Start), answer=None)
    sent_answer: PAPIPromptResult | None = None
    payment: Pay | None = None

    def ended(outcome: str) -> Conversation:
        conversation.outcome = outcome
        return conversation

    while True:
        result = send(body)
        prompt = Prompt.of(result) if result.is_prompt else None
        this_round = Round(number=len(conversation.rounds) + 1, sent_step=body.procedure_step,
                           sent_answer=sent_answer, payment=payment, result=result, prompt=prompt)
        conversation.rounds.append(this_round)
        if result.completed:
            return ended("completed")
        if prompt is None:
            if sent_answer is not None and sent_answer not in GOES_ON and result.papi_stop_type == PAPIStopType.Exit:
                return ended("declined")
            error = refusal_of(result, action=action)
            error.conversation = ended("stopped")  # type: ignore[attr-defined]
            raise error
        if this_round.number >= max_rounds:
            raise RoundLimitExceeded(ended("round limit"))
        reply = reply_of(answerer(prompt), prompt)
        if reply is not None and reply.answer not in prompt.options and not reply.goes_on:
            # The prompt offers no way to decline (Acknowledge): not replying discontinues it.
            reply = attrs.evolve(reply, why=f"{reply.why}; this prompt cannot be declined, so it was left unanswered")
            conversation.rounds[-1] = attrs.evolve(this_round, reply=reply)
            return ended("declined")
        conversation.rounds[-1] = attrs.evolve(this_round, reply=reply)
        if reply is None:
            raise PromptRequired(prompt, ended("prompt required"))
        if reply.answer not in prompt.options:
            raise InputError("answers", f"{reply.answer.name} is not an answer a "
                                        f"{name_of(prompt.prompt_type)} prompt offers")
        if reply.payment is not None:
            payment = reply.payment
            body = attrs.evolve(body, patron_account_txn_code=payment.txn_code,
                                patron_payment_method=payment.payment_method,
                                registration_payment=payment.amount, return_receipt_url=payment.return_receipt_url)
        sent_answer = reply.answer
        body = attrs.evolve(body, procedure_step=int(prompt.step), answer=int(reply.answer))
