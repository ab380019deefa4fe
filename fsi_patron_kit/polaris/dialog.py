"""A person answers Polaris's prompts: an ipywidgets dialog in Jupyter, a text prompt elsewhere.

In a notebook a cell cannot wait for a click (the kernel handles the click only once the cell
has finished), so :class:`WidgetDialog` runs the conversation in a background thread: the cell
returns the dialog at once, each prompt shows with one button per answer its type offers, and
the thread goes on when one is clicked. ``dialog.wait()`` gives the finished
:class:`~.conversation.Conversation`. ipywidgets is imported here only, when a dialog is made.
"""

from __future__ import annotations

import html
import sys
import threading
from collections.abc import Callable
from typing import Any

from .conversation import Conversation, Pay, Prompt, Reply
from .models import PAPIProcedureStep, PAPIPromptResult, name_of

__all__ = ["WidgetDialog", "TextAsker", "for_this_environment"]

CHARGE = PAPIProcedureStep.PatronRegistrationCharge
WHY = "answered by a person"


def for_this_environment() -> WidgetDialog | TextAsker:
    """A widget dialog inside a Jupyter kernel, else a text prompt on the terminal."""
    shell = sys.modules.get("IPython")
    kernel = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    if kernel is not None and hasattr(kernel, "kernel"):
        return WidgetDialog()
    return TextAsker()


class WidgetDialog:
    """The dialog: the message, the duplicate patrons, a button per answer, payment fields at step 15."""

    runs_in_background = True

    def __init__(self) -> None:
        import ipywidgets as widgets

        self._widgets = widgets
        self.heading = widgets.HTML()
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.txn_code = widgets.IntText(description="Txn code", value=2)
        self.payment_method = widgets.IntText(description="Method", value=1)
        self.amount = widgets.FloatText(description="Amount")
        self.payment = widgets.HBox([self.txn_code, self.payment_method, self.amount],
                                    layout=widgets.Layout(display="none"))
        self.button_row = widgets.HBox()
        self.transcript = widgets.HTML()
        self.widget = widgets.VBox([self.heading, self.message, self.table, self.payment, self.button_row,
                                    self.transcript])
        self.buttons: dict[str, Any] = {}
        self.prompt: Prompt | None = None
        self.conversation: Conversation | None = None
        self.error: BaseException | None = None
        self._reply: Reply | None = None
        self._answered = threading.Event()
        self._asked = threading.Event()
        self._done = threading.Event()
        self._changed = threading.Event()  # a prompt shows, or the conversation ends

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        state = "finished" if self._done.is_set() else "waiting for an answer" if self._asked.is_set() else "running"
        return f"<WidgetDialog {state}>"

    # -- the conversation's side (background thread) ---------------------------------------------
    def start(self, converse: Callable[[], Conversation], patron_id: int) -> WidgetDialog:
        self.heading.value = f"<b>Polaris registration update, patron {patron_id}</b>"
        threading.Thread(target=self._run, args=(converse,), name="polaris-dialog", daemon=True).start()
        return self

    def _run(self, converse: Callable[[], Conversation]) -> None:
        try:
            self.conversation = converse()
        except BaseException as exc:  # handed to wait(), which raises it in the caller's thread
            self.error = exc
            self.conversation = getattr(exc, "conversation", None)
        finally:
            self.button_row.children = ()
            self.payment.layout.display = "none"
            self.message.value = self.table.value = ""
            if self.conversation is not None:
                self.transcript.value = self.conversation._repr_html_()
            if self.error is not None:
                self.transcript.value += f"<p><b>stopped:</b> {html.escape(str(self.error))}</p>"
            self._done.set()
            self._changed.set()

    def __call__(self, prompt: Prompt) -> Reply | None:
        """Show ``prompt`` and wait until a button is clicked (no buttons to offer: no answer)."""
        if not prompt.options:
            return None
        self._reply = None
        self._answered.clear()
        self.prompt = prompt
        self.message.value = (f"<p><b>{html.escape(name_of(prompt.prompt_type))}</b> at "
                              f"{html.escape(name_of(prompt.step))}: {html.escape(prompt.message)}</p>")
        frame = prompt.duplicates
        self.table.value = frame.to_html(index=False, na_rep="") if not frame.empty else ""
        if prompt.step == CHARGE:
            self.amount.value = prompt.reg_charge or 0.0
        self.payment.layout.display = "flex" if prompt.step == CHARGE else "none"
        self.buttons = {}
        for option in prompt.options:
            button = self._widgets.Button(description=option.name)
            button.on_click(lambda _button, chosen=option: self.answer(chosen))
            self.buttons[option.name] = button
        self.button_row.children = tuple(self.buttons.values())
        self._asked.set()
        self._changed.set()
        self._answered.wait()
        self._asked.clear()
        return self._reply

    # -- the person's side -------------------------------------------------------------------------
    def answer(self, chosen: PAPIPromptResult) -> None:
        """What a button does: answer the prompt on show (a Yes to a charge carries the payment fields)."""
        prompt = self.prompt
        payment = None
        if prompt is not None and prompt.step == CHARGE and chosen == PAPIPromptResult.Yes:
            payment = Pay(txn_code=self.txn_code.value, payment_method=self.payment_method.value,
                          amount=self.amount.value)
        self._reply = Reply(answer=chosen, payment=payment, why=WHY)
        self.button_row.children = ()
        self._changed.clear()
        self._answered.set()

    def wait_for_prompt(self, timeout: float | None = None) -> Prompt | None:
        """The prompt on show, once one is (None if the conversation ended first or time ran out)."""
        self._changed.wait(timeout)
        return self.prompt if self._asked.is_set() else None

    def wait(self, timeout: float | None = None) -> Conversation:
        """The finished conversation; raises what stopped it (PromptRequired, an APIError...)."""
        if not self._done.wait(timeout):
            raise TimeoutError("the dialog is still waiting for an answer")
        if self.error is not None:
            raise self.error
        assert self.conversation is not None
        return self.conversation


class TextAsker:
    """Asks on the terminal: the message, the duplicates, then the answer by name or first letter."""

    runs_in_background = False

    def __init__(self, *, read: Callable[[str], str] | None = None, write: Callable[[str], None] | None = None,
                 attempts: int = 3) -> None:
        # input and print looked up when used, so that a redirected terminal is honoured
        self._read = read or (lambda text: input(text))
        self._write = write or (lambda text: print(text))
        self._attempts = attempts

    def __call__(self, prompt: Prompt) -> Reply | None:
        self._write(f"Polaris asks ({name_of(prompt.prompt_type)} at {name_of(prompt.step)}): {prompt.message}")
        if not prompt.duplicates.empty:
            self._write(prompt.duplicates.to_string(index=False))
        chosen = self._choose(prompt)
        if chosen is None:
            return None
        payment = None
        if prompt.step == CHARGE and chosen == PAPIPromptResult.Yes:
            payment = self._payment(prompt)
            if payment is None:
                return None
        return Reply(answer=chosen, payment=payment, why=WHY)

    def _choose(self, prompt: Prompt) -> PAPIPromptResult | None:
        options = {o.name.lower(): o for o in prompt.options}
        options.update({o.name[0].lower(): o for o in prompt.options})
        menu = " / ".join(o.name for o in prompt.options)
        for _ in range(self._attempts):
            text = self._read(f"{menu}? ").strip().lower()
            if text in options:
                return options[text]
        return None  # no usable answer: the conversation stops unanswered

    def _payment(self, prompt: Prompt) -> Pay | None:
        for _ in range(self._attempts):
            try:
                txn = int(self._read("transaction code (e.g. 2 pay): "))
                method = int(self._read("payment method id: "))
                amount = float(self._read(f"amount [{prompt.reg_charge or 0:.2f}]: ") or (prompt.reg_charge or 0))
                return Pay(txn_code=txn, payment_method=method, amount=amount)
            except ValueError:
                self._write("please give numbers")
        return None
