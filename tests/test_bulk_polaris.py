"""Polaris registration updates as a bulk target, over HTTP: rows with their own answers.

Expected values come from the sandbox's documented table of steps, prompt types and messages
(``fsi_patron_kit.sandbox.polaris._registration``), its planted examples, the values this test
plans, and the emulator's per-record write counters (one write per completed conversation).
"""

from __future__ import annotations

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.errors import InputError
from fsi_patron_kit.polaris import PAPIProcedureStep, PAPIPromptResult, PAPIPromptType, Pay
from fsi_patron_kit.polaris.bulk import with_answers
from fsi_patron_kit.workflows.bulk import Plan

from .conftest import make_polaris_client

NON_RESIDENT = 5  # the sandbox's patron code with a 25.00 registration charge
PAY_CASH = Pay(txn_code=2, payment_method=1, amount=25.0)


def registration(emulator, patron_id: int) -> dict:
    return emulator.patron(patron_id)["Registration"]


def row(patron_id: int, field: str, before, after) -> dict:
    return {"vendor": "polaris", "record_key": str(patron_id), "field": field, "before": before, "after": after}


def phone_row(emulator, patron_id: int, after: str) -> dict:
    return row(patron_id, "phone", registration(emulator, patron_id)["PhoneVoice1"], after)


def writes(emulator, patron_id: int) -> int:
    return emulator.counters.writes[str(patron_id)]


def test_rows_answer_their_own_prompts_and_an_unknown_prompt_fails_with_the_prompt(polaris_emulator,
                                                                                  polaris_client, tmp_path):
    ex = polaris_emulator.examples
    clean, charged, duplicate, empty, blocked = (ex["clean"], ex["clean_other"], ex["duplicate_name"],
                                                 ex["address_empty"], ex["expired_registration_block"])
    untouched = {pid: registration(polaris_emulator, pid) for pid in (empty, blocked)}
    plan = with_answers(Plan([
        row(clean, "email", registration(polaris_emulator, clean)["EmailAddress"], "ada.bulk@example.org"),
        row(charged, "patron_code_id", polaris_emulator.patron(charged)["PatronCodeID"], NON_RESIDENT),
        phone_row(polaris_emulator, duplicate, "518-555-0101"),
        phone_row(polaris_emulator, empty, "518-555-0102"),
        phone_row(polaris_emulator, blocked, "518-555-0103"),
    ]), default={PAPIProcedureStep.PatronRegistrationCharge: PAY_CASH},
        per_record={duplicate: {"DuplicatePatrons": PAPIPromptResult.Yes}})
    result = plan.apply(polaris_client, workers=2, journal=tmp_path / "p.journal.sqlite", progress=False)

    records = result.records.set_index("record_key")
    assert [records.at[str(pid), "state"] for pid in (clean, charged, duplicate, empty, blocked)] == [
        "applied", "applied", "applied", "failed", "failed"]
    assert registration(polaris_emulator, clean)["EmailAddress"] == "ada.bulk@example.org"
    assert polaris_emulator.patron(charged)["PatronCodeID"] == NON_RESIDENT
    assert registration(polaris_emulator, duplicate)["PhoneVoice1"] == "518-555-0101"
    assert records.at[str(duplicate), "answer"]["answered"] == ["DuplicatePatrons (16): Yes"]
    assert records.at[str(charged), "answer"]["answered"] == ["PatronRegistrationCharge (15): Yes"]
    assert all(writes(polaris_emulator, pid) == 1 for pid in (clean, charged, duplicate))

    stopped = records.at[str(blocked), "answer"]  # step 2 has no rule, default or own: never answered
    assert stopped["outcome"] == "prompt required"
    assert stopped["step"] == "CheckPatronBlocks (2)" and stopped["prompt_type"] == f"YesNo ({int(PAPIPromptType.YesNo)})"
    assert stopped["prompt"] == "This patron has blocks: Registration expired. Do you want to continue?"
    declined = records.at[str(empty), "answer"]  # the client's default rule: address empty -> No
    assert declined["outcome"] == "declined" and declined["step"] == "PatronAddressEmpty (17)"
    for pid, before in untouched.items():
        assert registration(polaris_emulator, pid) == before and writes(polaris_emulator, pid) == 0
    assert result.totals["applied"] == 3 and result.totals["failed"] == 2 and result.totals["planned"] == 5


def test_a_record_changed_by_another_client_is_a_conflict_left_as_written(polaris_emulator, polaris_client,
                                                                         tmp_path):
    clean, other_one = polaris_emulator.examples["clean"], polaris_emulator.examples["clean_other"]
    plan = Plan([phone_row(polaris_emulator, clean, "518-555-0201"),
                 phone_row(polaris_emulator, other_one, "518-555-0202")])
    with make_polaris_client(polaris_emulator) as other:
        assert other.update_registration(clean, {"phone_voice1": "518-555-0999"}).saved
    result = plan.apply(polaris_client, workers=2, journal=tmp_path / "p.journal.sqlite", progress=False)
    records = result.records.set_index("record_key")
    assert records.at[str(clean), "state"] == "conflict" and "518-555-0999" in records.at[str(clean), "detail"]
    assert registration(polaris_emulator, clean)["PhoneVoice1"] == "518-555-0999"
    assert writes(polaris_emulator, clean) == 1  # the other client's
    assert records.at[str(other_one), "state"] == "applied"


def lose_a_puts_answer(monkeypatch, client, emulator, kind: str, number: int) -> None:
    """The ``number``-th PUT of the run is processed by the emulator, then its answer is lost."""
    put = client._put
    count = [0]

    def put_losing_one(patron_id, body):
        count[0] += 1
        if count[0] == number:
            emulator.knobs.fail_next(kind)
        return put(patron_id, body)

    monkeypatch.setattr(client, "_put", put_losing_one)


@pytest.mark.parametrize("kind", ["reset-after", "502-after"])
def test_the_saving_rounds_lost_answer_is_read_back_as_applied_not_sent_again(monkeypatch, polaris_emulator,
                                                                              polaris_client, tmp_path, kind):
    clean = polaris_emulator.examples["clean"]
    lose_a_puts_answer(monkeypatch, polaris_client, polaris_emulator, kind, 1)  # one round: it saves
    result = Plan([phone_row(polaris_emulator, clean, "518-555-0301")]).apply(
        polaris_client, workers=1, journal=tmp_path / "p.journal.sqlite", progress=False)
    assert polaris_emulator.counters.faults[kind] == 1
    assert result.records.at[0, "state"] == "applied"
    assert "verified-applied" in result.journal.events()["event"].tolist()
    assert writes(polaris_emulator, clean) == 1
    assert registration(polaris_emulator, clean)["PhoneVoice1"] == "518-555-0301"


def test_a_prompts_lost_answer_saved_nothing_so_the_conversation_runs_again_once(monkeypatch, polaris_emulator,
                                                                                 polaris_client, tmp_path):
    duplicate = polaris_emulator.examples["duplicate_name"]
    lose_a_puts_answer(monkeypatch, polaris_client, polaris_emulator, "reset-after", 1)  # step 1 -> the prompt
    plan = with_answers(Plan([phone_row(polaris_emulator, duplicate, "518-555-0401")]),
                        default={"DuplicatePatrons": "Yes"})
    result = plan.apply(polaris_client, workers=1, journal=tmp_path / "p.journal.sqlite", progress=False)
    events = result.journal.events()["event"].tolist()
    assert "verified-not-applied" in events and result.records.at[0, "state"] == "applied"
    assert result.records.at[0, "sends"] == 2
    assert writes(polaris_emulator, duplicate) == 1
    assert registration(polaris_emulator, duplicate)["PhoneVoice1"] == "518-555-0401"


def test_rollback_restores_the_originals_answering_as_the_write_did(polaris_emulator, polaris_client, tmp_path):
    clean, duplicate = polaris_emulator.examples["clean"], polaris_emulator.examples["duplicate_name"]
    originals = {pid: registration(polaris_emulator, pid) for pid in (clean, duplicate)}
    plan = with_answers(Plan([
        row(clean, "email", originals[clean]["EmailAddress"], "rolled.back@example.org"),
        phone_row(polaris_emulator, clean, "518-555-0501"),
        phone_row(polaris_emulator, duplicate, "518-555-0502"),
    ]), per_record={duplicate: {"DuplicatePatrons": "Yes"}})
    result = plan.apply(polaris_client, workers=2, journal=tmp_path / "p.journal.sqlite", progress=False)
    assert result.totals["applied"] == 3
    undone = result.rollback(progress=False)
    assert undone.totals["applied"] == 3
    for pid, before in originals.items():
        after = registration(polaris_emulator, pid)
        assert (after["EmailAddress"], after["PhoneVoice1"]) == (before["EmailAddress"], before["PhoneVoice1"])
        assert writes(polaris_emulator, pid) == 2  # the fix and its rollback


def test_validate_refuses_what_polaris_cannot_write_sending_nothing(polaris_emulator, polaris_client):
    clean = polaris_emulator.examples["clean"]
    plan = Plan([
        row(clean, "expires", None, "2030-01-01"),
        row(clean, "email", None, "not an email"),
        row(clean, "patron_code_id", 3, "three"),
        {**row(clean, "phone", None, "518-555-0601"), "record_key": "P-1"},
        {**row(polaris_emulator.examples["clean_other"], "phone", None, "518-555-0602"),
         "answers": {"NoSuchStep": "Yes"}},
    ])
    before = polaris_emulator.counters.requests
    refused = plan.validate()
    assert list(refused["field"]) == ["expires", "email", "patron_code_id", "record_key", "answers"]
    assert "cannot write this column" in refused["rule"].iloc[0]
    assert "NoSuchStep" in refused["rule"].iloc[4]
    with pytest.raises(InputError):
        plan.apply(polaris_client, journal=None, progress=False)
    assert polaris_emulator.counters.requests == before


def test_a_stopped_row_goes_back_into_a_new_plan_with_its_answers_and_a_rule_added(polaris_emulator,
                                                                                  polaris_client, tmp_path):
    duplicate, blocked = polaris_emulator.examples["duplicate_name"], polaris_emulator.examples[
        "expired_registration_block"]
    first = with_answers(Plan([phone_row(polaris_emulator, duplicate, "518-555-0701"),
                               phone_row(polaris_emulator, blocked, "518-555-0702")]),
                         default={"DuplicatePatrons": "Yes"})
    result = first.apply(polaris_client, workers=1, journal=tmp_path / "p.journal.sqlite", progress=False)
    again = result.to_plan()
    assert again.frame["record_key"].tolist() == [str(blocked)]
    assert again.frame.at[0, "answers"] == {"DuplicatePatrons": "Yes"}  # kept from the journal
    fixed = with_answers(again, per_record={blocked: {PAPIProcedureStep.CheckPatronBlocks: PAPIPromptResult.Yes}})
    assert fixed.frame.at[0, "answers"] == {"DuplicatePatrons": "Yes", "CheckPatronBlocks": "Yes"}
    rerun = fixed.apply(polaris_client, workers=1, journal=tmp_path / "again.journal.sqlite", progress=False)
    assert rerun.records.at[0, "state"] == "applied"
    assert registration(polaris_emulator, blocked)["PhoneVoice1"] == "518-555-0702"
    assert writes(polaris_emulator, blocked) == 1


def test_dry_run_shows_the_first_round_with_the_whole_registration_and_saves_nothing(polaris_emulator,
                                                                                    polaris_client):
    clean = polaris_emulator.examples["clean"]
    dry = Plan([phone_row(polaris_emulator, clean, "518-555-0801")]).dry_run(polaris_client)
    request = dry.iloc[0]
    assert request["method"] == "PUT" and request["url"].endswith(f"/patrons/{clean}")
    body = request["body"]
    assert body["ProcedureStep"] == 1 and body["Registration"]["PhoneVoice1"] == "518-555-0801"
    assert body["Registration"]["NameLast"] == registration(polaris_emulator, clean)["NameLast"]
    assert writes(polaris_emulator, clean) == 0


def test_a_resume_answers_with_the_journaled_rules(monkeypatch, polaris_emulator, polaris_client, tmp_path):
    duplicate = polaris_emulator.examples["duplicate_name"]
    put = polaris_client._put

    def stopped_before_sending(patron_id, body):  # the person stops the run with the write's intent journaled
        raise KeyboardInterrupt

    monkeypatch.setattr(polaris_client, "_put", stopped_before_sending)
    plan = with_answers(Plan([phone_row(polaris_emulator, duplicate, "518-555-0901")]),
                        per_record={duplicate: {"DuplicatePatrons": "Yes"}})
    journal = tmp_path / "p.journal.sqlite"
    first = plan.apply(polaris_client, workers=1, journal=journal, progress=False)
    assert isinstance(first.stopped_by, KeyboardInterrupt) and first.records.at[0, "state"] == "sending"
    monkeypatch.setattr(polaris_client, "_put", put)
    resumed = pk.bulk.resume(journal, polaris_client, workers=1, progress=False)
    assert resumed.records.at[0, "state"] == "applied"
    assert resumed.records.at[0, "answer"]["answered"] == ["DuplicatePatrons (16): Yes"]
    assert writes(polaris_emulator, duplicate) == 1
    assert registration(polaris_emulator, duplicate)["PhoneVoice1"] == "518-555-0901"
