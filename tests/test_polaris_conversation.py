"""The registration conversation over HTTP: every step, prompt type, answer and way of ending.

Expected values come from document 004 (the duplicate-patrons example: step 16, YesNo, -3608,
PAPIAction Stop) and from the sandbox's documented table of steps and return codes
(``fsi_patron_kit.sandbox.polaris._registration``); writes are counted by the emulator.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from fsi_patron_kit import APIError, ConflictError, InputError
from fsi_patron_kit.polaris import (
    PAPIAction,
    PAPIProcedureStep,
    PAPIPromptResult,
    PAPIPromptType,
    Pay,
    Policy,
    PromptRequired,
    Reply,
    RoundLimitExceeded,
)

from .conftest import make_polaris_client

Step, Type, Answer = PAPIProcedureStep, PAPIPromptType, PAPIPromptResult
NON_RESIDENT = 5  # the sandbox's patron code with a 25.00 registration charge
CHARGE = 25.0
PAY_CASH = Pay(txn_code=2, payment_method=1, amount=CHARGE)

# (planted example, changes, step, prompt type, return code) as the sandbox documents them
PROMPTS = [
    ("duplicate_name", {"name_middle": "Q"}, Step.DuplicatePatrons, Type.YesNo, -3608),
    ("address_empty", {"name_middle": "Q"}, Step.PatronAddressEmpty, Type.YesNo, -3617),
    ("invalid_postal_code", {"name_middle": "Q"}, Step.InvalidPostalcodeFormat, Type.Continue, -3635),
    ("verify_data_block", {"name_middle": "Q"}, Step.VerifyPatronDataBlock, Type.Warning, -3634),
    ("clean", {"patron_code_id": NON_RESIDENT}, Step.PatronRegistrationCharge, Type.YesNoCancel, -3615),
]
IDS = [case[2].name for case in PROMPTS]
GO_ON = {Type.YesNo: Answer.Yes, Type.Continue: Answer.Yes, Type.Warning: Answer.OK, Type.YesNoCancel: PAY_CASH}
DECLINE = {Type.YesNo: Answer.No, Type.Continue: Answer.No, Type.Warning: Answer.Cancel,
           Type.YesNoCancel: Answer.Cancel}


DUPLICATES = "Duplicate patrons are found, Do you want to continue?"  # document 004's prompt text


def writes(emulator, patron_id: int) -> int:
    return emulator.counters.writes[str(patron_id)]


def test_an_update_without_prompts_completes_and_saves_once(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    conversation = polaris_client.update_registration(patron_id, {"email_address": "ada@example.org"})
    assert conversation.outcome == "completed" and conversation.saved
    assert len(conversation.rounds) == 1
    assert conversation.result.papi_return_code == 0 and conversation.result.success is True
    assert writes(polaris_emulator, patron_id) == 1
    assert polaris_emulator.patron(patron_id)["Registration"]["EmailAddress"] == "ada@example.org"


@pytest.mark.parametrize("example, changes, step, prompt_type, code", PROMPTS, ids=IDS)
def test_each_prompt_answered_to_go_on_saves_once(polaris_emulator, polaris_client, example, changes, step,
                                                  prompt_type, code):
    patron_id = polaris_emulator.examples[example]
    conversation = polaris_client.update_registration(patron_id, changes, answers={step: GO_ON[prompt_type]})
    first = conversation.rounds[0]
    assert (first.prompt.step, first.prompt.prompt_type, first.prompt.return_code) == (step, prompt_type, code)
    assert first.result.success is False and first.result.message
    assert conversation.rounds[1].sent_step == step
    assert conversation.outcome == "completed"
    assert writes(polaris_emulator, patron_id) == 1


@pytest.mark.parametrize("example, changes, step, prompt_type, code", PROMPTS, ids=IDS)
def test_each_prompt_declined_saves_nothing(polaris_emulator, polaris_client, example, changes, step, prompt_type,
                                            code):
    patron_id = polaris_emulator.examples[example]
    before = polaris_emulator.patron(patron_id)
    conversation = polaris_client.update_registration(patron_id, changes, answers={step: DECLINE[prompt_type]})
    assert conversation.outcome == "declined" and not conversation.saved
    last = conversation.result
    assert (last.papi_return_code, last.success, last.papi_stop_type) == (-3506, False, 1)  # Stop/Exit
    assert writes(polaris_emulator, patron_id) == 0
    assert polaris_emulator.patron(patron_id) == before


@pytest.mark.parametrize("example, changes, step, prompt_type, code", PROMPTS, ids=IDS)
def test_the_default_policy_declines_every_known_prompt(polaris_emulator, polaris_client, example, changes, step,
                                                        prompt_type, code):
    patron_id = polaris_emulator.examples[example]
    conversation = polaris_client.update_registration(patron_id, changes)
    assert conversation.rounds[0].reply.answer == DECLINE[prompt_type]
    assert conversation.outcome == "declined"
    assert writes(polaris_emulator, patron_id) == 0


def test_duplicate_patrons_as_the_document_shows_them(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    mine = polaris_emulator.patron(patron_id)["Registration"]
    twins = [p for p in polaris_emulator.patrons() if p["PatronID"] != patron_id
             and (p["Registration"]["NameFirst"], p["Registration"]["NameLast"]) == (mine["NameFirst"], mine["NameLast"])]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"})
    result = conversation.rounds[0].result
    assert result.papi_action == PAPIAction.Stop  # the document's example, where its prose says Prompt
    assert result.message == "Duplicate patrons are found, Do you want to continue?"
    frame = conversation.rounds[0].prompt.duplicates
    labels = [p.display for p in result.duplicate_patron_display_properties]
    assert list(frame.columns) == ["PatronID", "Barcode", *labels]
    assert sorted(frame["Barcode"]) == sorted(t["Barcode"] for t in twins)
    assert str(frame["PatronID"].dtype) == "string"


def test_an_unknown_prompt_stops_unanswered(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["expired_registration_block"]
    with pytest.raises(PromptRequired) as caught:
        polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers={Step.DuplicatePatrons: "Yes"})
    stop = caught.value
    assert (stop.step, stop.prompt_type) == (Step.CheckPatronBlocks, Type.YesNo)
    assert "Registration expired" in stop.message
    assert stop.duplicates.empty
    assert len(stop.conversation.rounds) == 1 and stop.conversation.rounds[0].reply is None
    assert polaris_emulator.counters.actions["update_registration"] == 1  # no reply was sent
    assert writes(polaris_emulator, patron_id) == 0


def test_a_policy_without_defaults_stops_at_duplicates_with_them_in_hand(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    with pytest.raises(PromptRequired) as caught:
        polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=Policy(defaults=False))
    assert caught.value.step == Step.DuplicatePatrons
    assert len(caught.value.duplicates) == 1  # the planted twin
    assert str(caught.value) == (f"Polaris asked at step DuplicatePatrons (16) (YesNo (4)): {DUPLICATES!r}; "
                                 "no rule answers it, so the update stopped unanswered")
    assert caught.value.conversation.outcome == "prompt required"
    assert writes(polaris_emulator, patron_id) == 0


def test_a_callable_answers_and_says_why(polaris_emulator, polaris_client):
    asked = []

    def answer(prompt):
        asked.append(prompt.step)
        return Reply(answer=Answer.Yes, why="checked by hand")

    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=answer)
    assert asked == [Step.DuplicatePatrons]
    assert conversation.rounds[0].reply.why == "checked by hand"
    assert conversation.outcome == "completed"


def test_a_callable_that_does_not_know_stops_the_conversation(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    with pytest.raises(PromptRequired):
        polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=lambda prompt: None)
    assert writes(polaris_emulator, patron_id) == 0


def test_an_answer_of_the_same_intent_is_given_as_the_prompt_offers_it(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["verify_data_block"]  # a Warning: OK or Cancel
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"},
                                                      answers={Step.VerifyPatronDataBlock: Answer.Yes})
    assert conversation.rounds[1].sent_answer == Answer.OK
    assert "given as OK" in conversation.rounds[0].reply.why
    assert polaris_emulator.blocks(patron_id) == []  # saving removed the verify-data block


PROMPT_TYPES = [(t, o) for t in Type if t != Type.None_ for o in
                {Type.Warning: (Answer.OK, Answer.Cancel), Type.Continue: (Answer.Yes, Answer.No),
                 Type.Count: (Answer.OK, Answer.Cancel), Type.YesNo: (Answer.Yes, Answer.No),
                 Type.YesNoCancel: (Answer.Yes, Answer.No, Answer.Cancel), Type.Acknowledge: (Answer.OK,),
                 Type.ResolveLostBilledItem: (Answer.Yes, Answer.No, Answer.Cancel)}[t]]


@pytest.mark.parametrize("prompt_type, answer", PROMPT_TYPES, ids=[f"{t.name}-{a.name}" for t, a in PROMPT_TYPES])
def test_every_prompt_type_and_answer(polaris_emulator, polaris_client, prompt_type, answer):
    polaris_emulator.prompt_types[Step.DuplicatePatrons] = int(prompt_type)  # a site configured otherwise
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"},
                                                      answers={Step.DuplicatePatrons: answer})
    assert conversation.rounds[0].prompt.prompt_type == prompt_type
    assert conversation.rounds[1].sent_answer == answer
    goes_on = answer in (Answer.Yes, Answer.OK)
    assert conversation.outcome == ("completed" if goes_on else "declined")
    assert writes(polaris_emulator, patron_id) == (1 if goes_on else 0)


def test_a_prompt_that_cannot_be_declined_is_left_unanswered(polaris_emulator, polaris_client):
    polaris_emulator.prompt_types[Step.DuplicatePatrons] = int(Type.Acknowledge)
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"})  # the rule says No
    assert conversation.outcome == "declined"
    assert "left unanswered" in conversation.rounds[0].reply.why
    assert polaris_emulator.counters.actions["update_registration"] == 1
    assert writes(polaris_emulator, patron_id) == 0


def test_two_prompts_in_one_conversation(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["verify_data_block"]
    conversation = polaris_client.update_registration(
        patron_id, {"patron_code_id": NON_RESIDENT},
        answers={Step.VerifyPatronDataBlock: Answer.OK, Step.PatronRegistrationCharge: PAY_CASH})
    assert [r.prompt.step for r in conversation.rounds if r.prompt] == [Step.VerifyPatronDataBlock,
                                                                        Step.PatronRegistrationCharge]
    assert conversation.outcome == "completed" and len(conversation.rounds) == 3
    assert writes(polaris_emulator, patron_id) == 1


# -- the registration charge ----------------------------------------------------------------------
def test_the_charge_paid_is_recorded_with_a_receipt(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    pay = Pay(txn_code=2, payment_method=3, amount=CHARGE, return_receipt_url=True)
    conversation = polaris_client.update_registration(patron_id, {"patron_code_id": NON_RESIDENT},
                                                      answers={Step.PatronRegistrationCharge: pay})
    assert conversation.rounds[0].prompt.reg_charge == CHARGE
    sent = conversation.rounds[1]
    assert (sent.sent_answer, sent.payment) == (Answer.Yes, pay)
    assert conversation.result.receipt_url
    assert polaris_emulator.payments == [{"PatronID": patron_id, "TxnCode": 2, "Amount": CHARGE, "PaymentMethod": 3}]
    assert polaris_emulator.patron(patron_id)["PatronCodeID"] == NON_RESIDENT


def test_the_charge_put_on_the_account(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    before = polaris_emulator.patron(patron_id)["ChargesAmount"]
    polaris_client.update_registration(patron_id, {"patron_code_id": NON_RESIDENT},
                                       answers={Step.PatronRegistrationCharge: Pay(txn_code=1)})
    assert polaris_emulator.patron(patron_id)["ChargesAmount"] == before + CHARGE


@pytest.mark.parametrize("pay", [Pay(txn_code=2, payment_method=1, amount=10.0), Pay(txn_code=2, amount=CHARGE),
                                 Pay(txn_code=9)], ids=["wrong-amount", "no-method", "unknown-txn"])
def test_a_payment_polaris_refuses_saves_nothing(polaris_emulator, polaris_client, pay):
    patron_id = polaris_emulator.examples["clean"]
    with pytest.raises(APIError) as caught:
        polaris_client.update_registration(patron_id, {"patron_code_id": NON_RESIDENT},
                                           answers={Step.PatronRegistrationCharge: pay})
    assert (caught.value.status, caught.value.code) == (200, "-3503")
    assert caught.value.conversation.outcome == "stopped"
    assert writes(polaris_emulator, patron_id) == 0 and polaris_emulator.payments == []


# -- stops with an error (HTTP 200, negative PAPIReturnCode) ----------------------------------------
def test_required_fields_empty_is_an_error_naming_them(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["missing_first_name"]  # the sandbox's SA requires NameFirst
    with pytest.raises(APIError) as caught:
        polaris_client.update_registration(patron_id, {"name_middle": "Q"})
    assert (caught.value.status, caught.value.code, caught.value.action) == (200, "-3500", "update-registration")
    assert "NameFirst" in caught.value.message
    assert writes(polaris_emulator, patron_id) == 0


def test_a_barcode_that_already_exists_is_a_conflict(polaris_emulator, polaris_client):
    examples = polaris_emulator.examples
    taken = polaris_emulator.patron(examples["clean_other"])["Barcode"]
    with pytest.raises(ConflictError) as caught:
        polaris_client.update_registration(examples["clean"], {"barcode": taken})
    assert caught.value.code == "-3501"
    assert caught.value.conversation.result.duplicate_barcode_exists is True
    assert writes(polaris_emulator, examples["clean"]) == 0


@pytest.mark.parametrize("changes, code", [({"organization_id": 1}, "-5000"), ({"patron_code_id": 99}, "-3502")],
                         ids=["organization-not-a-branch", "unknown-patron-code"])
def test_other_stops_carry_polaris_code(polaris_emulator, polaris_client, changes, code):
    with pytest.raises(APIError) as caught:
        polaris_client.update_registration(polaris_emulator.examples["clean"], changes)
    assert caught.value.code == code and type(caught.value) is APIError


# -- sessions and caps ------------------------------------------------------------------------------
def test_a_token_expiring_mid_conversation_does_not_lose_it(polaris_emulator, polaris_client):
    def expire_then_agree(prompt):
        polaris_emulator.expire_tokens()
        return Answer.Yes

    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=expire_then_agree)
    assert conversation.outcome == "completed"
    assert polaris_emulator.logins == 2
    assert [row.status for row in polaris_client.history if row.action == "update-registration"] == [200, 401, 200]
    assert writes(polaris_emulator, patron_id) == 1


def test_the_round_cap_stops_a_conversation_that_keeps_asking(polaris_emulator):
    patron_id = polaris_emulator.examples["verify_data_block"]
    with make_polaris_client(polaris_emulator) as client, pytest.raises(RoundLimitExceeded) as caught:
        client.update_registration(patron_id, {"patron_code_id": NON_RESIDENT}, max_rounds=2,
                                   answers={Step.VerifyPatronDataBlock: Answer.OK,
                                            Step.PatronRegistrationCharge: PAY_CASH})
    assert len(caught.value.conversation.rounds) == 2
    assert str(caught.value) == "the conversation reached 2 rounds without completing"
    assert caught.value.conversation.outcome == "round limit"
    assert polaris_emulator.counters.actions["update_registration"] == 2
    assert writes(polaris_emulator, patron_id) == 0


# -- how a conversation reads ----------------------------------------------------------------------
def test_the_conversation_reads_like_a_dialog(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"},
                                                      answers={Step.DuplicatePatrons: Answer.Yes})
    frame = conversation.to_frame()
    assert list(frame["sent_step"]) == ["Start (1)", "DuplicatePatrons (16)"]
    assert list(frame["return_code"]) == [-3608, 0]
    assert frame["answer"].tolist()[0] == "Yes"
    page = conversation._repr_html_()
    assert "Duplicate patrons are found, Do you want to continue?" in page and "<table" in page
    text = conversation.transcript()
    assert text.splitlines()[-1] == "outcome: completed"
    assert repr(conversation) == f"<Conversation patron={patron_id} rounds=2 outcome=completed>"


def test_the_dialog_escapes_what_polaris_says():
    from fsi_patron_kit.polaris import Conversation, PatronRegResult, Round

    said = PatronRegResult.from_wire({"PAPIReturnCode": -1, "PAPIStopType": 2, "PAPIAction": 1,
                                      "Message": "<script>alert('x')</script>"})
    conversation = Conversation(patron_id=1, rounds=[Round(number=1, sent_step=1, sent_answer=None, payment=None,
                                                           result=said)], outcome="stopped")
    page = conversation._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_answer_the_prompt_does_not_offer_is_refused_before_sending(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    with pytest.raises(InputError) as caught:
        polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=lambda prompt: Answer.Retry)
    assert caught.value.field == "answers" and "YesNo" in caught.value.rule
    assert polaris_emulator.counters.actions["update_registration"] == 1  # only the first round went out


def _dialog(page: str) -> list[tuple[str, str, str]]:
    """(side, speaker, text) of each bubble of the dialog, its text unescaped (CSS ignores case)."""
    return [(side.lower(), who, html.unescape(text)) for side, who, text in
            re.findall(r"<div style='text-align:(\w+);[^']*'><span[^>]*><b>(\w+)</b>: (.*?)</span></div>", page)]


class _Page(HTMLParser):
    """What a person sees of a dialog: its text outside tables, and each table row's cells."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.text, self.rows, self._in = [], [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self._in.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td") and "table" in self._in:
            self.rows[-1].append("")  # an empty cell counts too

    def handle_endtag(self, tag):
        self._in.pop()

    def handle_data(self, data):
        if "style" in self._in:
            return
        if "table" in self._in:
            if self._in[-1] in ("th", "td"):
                self.rows[-1][-1] += data.strip()
        elif data.strip():
            self.text.append(data)


def _colours(page: str) -> dict[str, set[str]]:
    """Each speaker's bubble colours, as CSS reads them (hex, any case)."""
    found: dict[str, set[str]] = {}
    for colour, who in re.findall(r"background:([^;]*);[^>]*><b>(\w+)</b>", page):
        found.setdefault(who, set()).add(colour.lower())
    return found


def test_a_paid_conversation_reads_the_same_as_text_frame_and_dialog(polaris_emulator, polaris_client):
    """Two prompts (document 004's duplicate patrons, then the sandbox's registration charge),
    both answered to go on: each form names steps and types as document 004 numbers them."""
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(
        patron_id, {"name_middle": "Q", "patron_code_id": NON_RESIDENT},
        answers={Step.DuplicatePatrons: "Yes", Step.PatronRegistrationCharge: PAY_CASH})
    charge = conversation.rounds[1].result.message  # the sandbox's wording, read off the wire
    lines = [("kit", "ProcedureStep Start (1)"),
             ("Polaris", f"[YesNo (4) at DuplicatePatrons (16)] {DUPLICATES}"),
             ("answer", "Yes (rule for DuplicatePatrons (16))"),
             ("kit", "ProcedureStep DuplicatePatrons (16), Answer Yes"),
             ("Polaris", f"[YesNoCancel (5) at PatronRegistrationCharge (15)] {charge}"),
             ("answer", "Yes (rule for PatronRegistrationCharge (15))"),
             ("kit", f"ProcedureStep PatronRegistrationCharge (15), Answer Yes, payment (txn 2, method 1, {CHARGE})"),
             ("Polaris", "completed (PAPIReturnCode 0)")]
    assert conversation.transcript().splitlines() == [f"{who}: {text}" for who, text in lines] + ["outcome: completed"]
    page = conversation._repr_html_()
    assert f"<strong>Polaris registration update, patron {patron_id}: completed</strong>" in page
    sides = {"kit": "right", "answer": "right", "Polaris": "left"}  # the kit's side on the right
    assert _dialog(page) == [(sides[who], who, text) for who, text in lines]
    first, second = page.index(DUPLICATES), page.index("Yes (rule for DuplicatePatrons (16))")
    assert "<table" in page[first:second] and "<table" not in page[second:]  # the twins, after their prompt
    twins = conversation.rounds[0].prompt.duplicates
    assert _Page(page).rows[0] == list(twins.columns) and len(_Page(page).rows) == len(twins) + 1  # no index
    colours = _colours(page)  # one colour per speaker, three different ones, each a colour
    assert all(len(c) == 1 and re.fullmatch(r"#[0-9a-f]{6}", *c) for c in colours.values())
    assert len({*colours["kit"], *colours["Polaris"], *colours["answer"]}) == 3
    rows = conversation.to_frame().to_dict("records")
    assert rows == [
        {"round": 1, "sent_step": "Start (1)", "sent_answer": None, "return_code": -3608,
         "step": "DuplicatePatrons (16)", "action": "Stop (1)", "prompt_type": "YesNo (4)", "stop_type": "None (0)",
         "success": False, "message": DUPLICATES, "answer": "Yes", "why": "rule for DuplicatePatrons (16)"},
        {"round": 2, "sent_step": "DuplicatePatrons (16)", "sent_answer": "Yes", "return_code": -3615,
         "step": "PatronRegistrationCharge (15)", "action": "Prompt (2)", "prompt_type": "YesNoCancel (5)",
         "stop_type": "None (0)", "success": False, "message": charge, "answer": "Yes",
         "why": "rule for PatronRegistrationCharge (15)"},
        {"round": 3, "sent_step": "PatronRegistrationCharge (15)", "sent_answer": "Yes", "return_code": 0,
         "step": "None (0)", "action": "None (0)", "prompt_type": "None (0)", "stop_type": "Exit (1)",
         "success": True, "message": None, "answer": None, "why": None}]


def test_a_declined_and_a_stopped_conversation_say_how_they_ended(polaris_emulator, polaris_client):
    examples = polaris_emulator.examples
    declined = polaris_client.update_registration(examples["duplicate_name"], {"name_middle": "Q"})
    assert declined.transcript().splitlines()[2:] == [
        "answer: No (rule for DuplicatePatrons (16))", "kit: ProcedureStep DuplicatePatrons (16), Answer No",
        "Polaris: stopped: The registration was not saved. (PAPIReturnCode -3506, Exit (1))", "outcome: declined"]
    with pytest.raises(APIError) as caught:
        polaris_client.update_registration(examples["missing_first_name"], {"name_middle": "Q"})
    stopped = caught.value.conversation
    assert stopped.transcript().splitlines() == [
        "kit: ProcedureStep Start (1)",
        f"Polaris: stopped: {caught.value.message} (PAPIReturnCode -3500, Error (2))", "outcome: stopped"]
    page = stopped._repr_html_()
    assert "<div class='pk-card'>" in page and page.endswith("</div>")
    assert "".join(_Page(page).text) == (
        f"Polaris registration update, patron {examples['missing_first_name']}: stopped"
        f"kit: ProcedureStep Start (1)Polaris: stopped: {caught.value.message} (PAPIReturnCode -3500, Error (2))")
    assert _dialog(page)[-1][:2] == ("left", "Polaris")


def test_ipython_shows_the_transcript_under_the_repr():
    from fsi_patron_kit.polaris import Conversation

    class Printer:
        def __init__(self):
            self.said = []

        def text(self, value):
            self.said.append(value)

    conversation = Conversation(patron_id=7)
    shown, cycled = Printer(), Printer()
    conversation._repr_pretty_(shown, cycle=False)
    conversation._repr_pretty_(cycled, cycle=True)
    assert shown.said == ["<Conversation patron=7 rounds=0 outcome=open>\noutcome: open"]
    assert cycled.said == ["<Conversation patron=7 rounds=0 outcome=open>"]


def test_a_policy_shows_its_rules_by_step_name():
    assert repr(Policy({16: "Yes"}, defaults=False)) == "Policy({DuplicatePatrons (16): Yes})"
    assert repr(Policy({"PatronRegistrationCharge": Pay(txn_code=1)}, defaults=False)) == (
        "Policy({PatronRegistrationCharge (15): Pay(txn_code=1, payment_method=None, amount=None, "
        "return_receipt_url=False)})")
    assert repr(Policy({16: "Yes", 17: 0}, defaults=False)) == (
        "Policy({DuplicatePatrons (16): Yes, PatronAddressEmpty (17): No})")  # document 004: No is 0
    assert repr(Policy()).count(": No") == 3 and repr(Policy()).count(": Cancel") == 2  # the defaults decline


# -- what a rule, an answer and a payment may be ------------------------------------------------------
@pytest.mark.parametrize("rules, field, rule", [
    ({"Nope": "Yes"}, "answers", "'Nope' is not a PAPIProcedureStep name"),
    ({16.0: "Yes"}, "answers", "rule keys must be procedure steps (PAPIProcedureStep, int or name)"),
    ({True: "Yes"}, "answers", "rule keys must be procedure steps (PAPIProcedureStep, int or name)"),
    ({16: "Maybe"}, "answers[16]", "must be a PAPIPromptResult (or its name) or Pay(...)"),
    ({16: True}, "answers[16]", "must be a PAPIPromptResult (or its name) or Pay(...)"),
    ({16: 1.0}, "answers[16]", "must be a PAPIPromptResult (or its name) or Pay(...)"),
], ids=["unknown step name", "float step", "bool step", "unknown answer name", "bool answer", "float answer"])
def test_a_rule_that_is_not_one_says_which_and_why(rules, field, rule):
    with pytest.raises(InputError) as caught:
        Policy(rules)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_answers_that_are_no_answerer_are_refused_before_sending(polaris_emulator, polaris_client):
    with pytest.raises(InputError) as caught:
        polaris_client.update_registration(polaris_emulator.examples["clean"], {"name_middle": "Q"}, answers=3)
    assert (caught.value.field, caught.value.rule) == (
        "answers", 'must be None, a mapping of step to answer, a Policy, a callable or "ask"')
    assert polaris_emulator.counters.actions["update_registration"] == 0


@pytest.mark.parametrize("arguments, field, rule", [
    ({"txn_code": "2"}, "txn_code", "must be an integer"),
    ({"txn_code": True}, "txn_code", "must be an integer"),
    ({"txn_code": 2, "payment_method": 1.5}, "payment_method", "must be an integer"),
    ({"txn_code": 2, "payment_method": False}, "payment_method", "must be an integer"),
    ({"txn_code": 2, "amount": -1}, "amount", "must be a number >= 0"),
    ({"txn_code": 2, "amount": True}, "amount", "must be a number >= 0"),
    ({"txn_code": 2, "amount": "25"}, "amount", "must be a number >= 0"),
    ({"txn_code": 2, "return_receipt_url": "yes"}, "return_receipt_url", "must be True or False"),
])
def test_a_payment_that_is_not_one_says_which_and_why(arguments, field, rule):
    with pytest.raises(InputError) as caught:
        Pay(**arguments)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_payments_of_any_amount_from_nothing_up_are_accepted():
    assert [Pay(txn_code=2, payment_method=1, amount=a).amount for a in (0, 0.0, 25, 25.5)] == [0, 0.0, 25, 25.5]
    assert Pay(txn_code=1, return_receipt_url=True).return_receipt_url is True


def test_a_callable_may_answer_the_charge_with_a_payment(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    conversation = polaris_client.update_registration(patron_id, {"patron_code_id": NON_RESIDENT},
                                                      answers=lambda prompt: PAY_CASH)
    reply = conversation.rounds[0].reply
    assert (reply.answer, reply.payment, reply.why) == (Answer.Yes, PAY_CASH, "answered by the callable")
    assert (conversation.rounds[1].sent_answer, conversation.rounds[1].payment) == (Answer.Yes, PAY_CASH)
    assert polaris_emulator.payments == [{"PatronID": patron_id, "TxnCode": 2, "Amount": CHARGE, "PaymentMethod": 1}]


def test_a_prompt_without_a_message_reads_as_an_empty_one():
    from fsi_patron_kit.polaris import PatronRegResult, PatronRegUpdateData
    from fsi_patron_kit.polaris.conversation import converse

    asked = PatronRegResult.from_wire({"PAPIReturnCode": -3608, "PAPIAction": 2, "PAPIProcedureStep": 16,
                                       "PAPIPromptType": 4, "PAPIStopType": 0})
    with pytest.raises(PromptRequired) as caught:
        converse(lambda body: asked, PatronRegUpdateData(), 7, Policy(defaults=False))
    assert caught.value.message == ""
    assert str(caught.value).endswith("(YesNo (4)): ''; no rule answers it, so the update stopped unanswered")


@pytest.mark.parametrize("given", [Answer.Yes, "Yes", 1], ids=["answer", "name", "number"])
def test_a_callable_may_answer_by_name_or_number(polaris_emulator, polaris_client, given):
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=lambda prompt: given)
    reply = conversation.rounds[0].reply
    assert (reply.answer, reply.why, conversation.outcome) == (Answer.Yes, "answered by the callable", "completed")


def test_a_callable_answer_that_is_not_one_is_refused(polaris_emulator, polaris_client):
    with pytest.raises(InputError) as caught:
        polaris_client.update_registration(polaris_emulator.examples["duplicate_name"], {"name_middle": "Q"},
                                           answers=lambda prompt: "Maybe")
    assert (caught.value.field, caught.value.rule) == ("answers[answer]", "must be a PAPIPromptResult (or its name) or Pay(...)")


def _scripted(*answers: dict):
    """A send that records each body and answers the next of ``answers`` (PAPI values)."""
    from fsi_patron_kit.polaris import PatronRegResult

    sent = []

    def send(body):
        sent.append(body)
        return PatronRegResult.from_wire(answers[len(sent) - 1])

    return send, sent


def test_a_conversation_starts_at_step_one_without_an_answer_whatever_the_body_held():
    from fsi_patron_kit.polaris import PatronRegUpdateData
    from fsi_patron_kit.polaris.conversation import converse

    send, sent = _scripted({"PAPIReturnCode": 0, "PAPIStopType": 1, "Success": True})
    converse(send, PatronRegUpdateData(procedure_step=16, answer=1), 7, Policy())
    assert (sent[0].procedure_step, sent[0].answer) == (1, None)


def test_a_first_answer_that_exits_is_a_refusal_not_a_decline():
    """Only an answer that declined makes an Exit a decline; an Exit unasked is Polaris refusing."""
    from fsi_patron_kit.polaris import PatronRegUpdateData
    from fsi_patron_kit.polaris.conversation import converse

    send, _ = _scripted({"PAPIReturnCode": -3506, "PAPIStopType": 1, "PAPIAction": 1, "Success": False,
                         "Message": "The registration was not saved."})
    with pytest.raises(APIError) as caught:
        converse(send, PatronRegUpdateData(), 7, Policy())
    assert caught.value.conversation.outcome == "stopped" and caught.value.code == "-3506"
