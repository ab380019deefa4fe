"""A person answering: the ipywidgets dialog driven by clicking its buttons, and the text prompt."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fsi_patron_kit.polaris import PAPIProcedureStep, PromptRequired
from fsi_patron_kit.polaris.dialog import TextAsker, WidgetDialog, for_this_environment

WAIT = 30  # seconds before a broken test gives up (not a timing check)


def test_clicking_yes_completes_the_conversation(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["duplicate_name"]
    dialog = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=WidgetDialog())
    assert isinstance(dialog, WidgetDialog)  # returned at once; the conversation runs behind it
    prompt = dialog.wait_for_prompt(WAIT)
    assert prompt.step == PAPIProcedureStep.DuplicatePatrons
    assert list(dialog.buttons) == ["Yes", "No"]
    assert "Duplicate patrons are found" in dialog.message.value
    twin_barcode = prompt.duplicates["Barcode"].iloc[0]
    assert twin_barcode in dialog.table.value
    dialog.buttons["Yes"].click()
    conversation = dialog.wait(WAIT)
    assert conversation.outcome == "completed"
    assert conversation.rounds[0].reply.why == "answered by a person"
    assert polaris_emulator.counters.writes[str(patron_id)] == 1
    assert "completed" in dialog.transcript.value and dialog.button_row.children == ()


def test_clicking_no_saves_nothing(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["address_empty"]
    dialog = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=WidgetDialog())
    dialog.wait_for_prompt(WAIT)
    dialog.buttons["No"].click()
    assert dialog.wait(WAIT).outcome == "declined"
    assert polaris_emulator.counters.writes[str(patron_id)] == 0


def test_the_charge_is_paid_with_the_dialogs_payment_fields(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["clean"]
    dialog = polaris_client.update_registration(patron_id, {"patron_code_id": 5}, answers=WidgetDialog())
    prompt = dialog.wait_for_prompt(WAIT)
    assert list(dialog.buttons) == ["Yes", "No", "Cancel"]
    assert dialog.payment.layout.display == "flex" and dialog.amount.value == prompt.reg_charge
    dialog.txn_code.value, dialog.payment_method.value = 2, 3
    dialog.buttons["Yes"].click()
    assert dialog.wait(WAIT).outcome == "completed"
    assert polaris_emulator.payments == [{"PatronID": patron_id, "TxnCode": 2, "Amount": prompt.reg_charge,
                                          "PaymentMethod": 3}]


def test_two_prompts_two_clicks(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["verify_data_block"]
    dialog = polaris_client.update_registration(patron_id, {"patron_code_id": 5}, answers=WidgetDialog())
    assert dialog.wait_for_prompt(WAIT).step == PAPIProcedureStep.VerifyPatronDataBlock
    dialog.buttons["OK"].click()
    assert dialog.wait_for_prompt(WAIT).step == PAPIProcedureStep.PatronRegistrationCharge
    dialog.buttons["Cancel"].click()
    assert dialog.wait(WAIT).outcome == "declined"
    assert polaris_emulator.counters.writes[str(patron_id)] == 0


def test_what_stops_the_conversation_is_raised_by_wait(polaris_emulator, polaris_client):
    patron_id = polaris_emulator.examples["missing_first_name"]
    dialog = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=WidgetDialog())
    assert dialog.wait_for_prompt(WAIT) is None  # it stopped before asking anything
    with pytest.raises(Exception, match="NameFirst"):
        dialog.wait(WAIT)


def test_ask_outside_jupyter_is_a_text_prompt(polaris_emulator, polaris_client, monkeypatch, capsys):
    assert isinstance(for_this_environment(), TextAsker)
    answers = iter(["maybe", "y"])
    monkeypatch.setattr("builtins.input", lambda text: next(answers))
    patron_id = polaris_emulator.examples["duplicate_name"]
    conversation = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers="ask")
    assert conversation.outcome == "completed"
    shown = capsys.readouterr().out
    assert "Duplicate patrons are found" in shown and "Postal Code" in shown  # the duplicates table


def test_the_text_prompt_takes_payment_details(polaris_emulator, polaris_client):
    answers = iter(["yes", "2", "1", ""])  # yes; pay; cash; the amount offered
    asker = TextAsker(read=lambda text: next(answers), write=lambda text: None)
    patron_id = polaris_emulator.examples["clean"]
    conversation = polaris_client.update_registration(patron_id, {"patron_code_id": 5}, answers=asker)
    assert conversation.outcome == "completed"
    assert polaris_emulator.payments[0]["TxnCode"] == 2


def test_no_usable_text_answer_stops_unanswered(polaris_emulator, polaris_client):
    asker = TextAsker(read=lambda text: "perhaps", write=lambda text: None)
    patron_id = polaris_emulator.examples["duplicate_name"]
    with pytest.raises(PromptRequired):
        polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=asker)
    assert polaris_emulator.counters.writes[str(patron_id)] == 0


def test_ipywidgets_is_imported_only_for_a_dialog():
    code = ("import sys; from fsi_patron_kit import polaris; from fsi_patron_kit.polaris import dialog; "
            "print('ipywidgets' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "False"


def test_a_prompt_type_without_known_answers_is_not_shown_as_buttons(polaris_emulator, polaris_client):
    polaris_emulator.prompt_types[PAPIProcedureStep.DuplicatePatrons] = 9  # a type the document does not name
    patron_id = polaris_emulator.examples["duplicate_name"]
    dialog = polaris_client.update_registration(patron_id, {"name_middle": "Q"}, answers=WidgetDialog())
    with pytest.raises(PromptRequired) as caught:
        dialog.wait(WAIT)
    assert caught.value.prompt_type == 9
    assert polaris_emulator.counters.writes[str(patron_id)] == 0
