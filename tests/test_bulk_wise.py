"""Wise blocks as a bulk target, over HTTP: apply, conflict, lost answers, rollback, refusals.

Expected values are the blocks this test sets and the emulator's own records and per-record
write counters (``counters.writes`` by patronSystemId).
"""

from __future__ import annotations

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.errors import InputError
from fsi_patron_kit.wise.bulk import DETAILS_RULE, blocks_key
from fsi_patron_kit.workflows.bulk import Plan

from .conftest import make_wise_client

LIBRARY = "I018"


def members(client, count: int) -> list[str]:
    """``count`` patrons of the library (read through the API), without a general block there."""
    ids = list(dict.fromkeys(client.lookup_cards(library_id=LIBRARY, page_size=100)["patron_system_id"]))
    free = [i for i in ids if not client.blocks(patron_system_id=i, library_id=LIBRARY).general_block]
    return free[:count]


def stored(emulator, patron_system_id: str) -> dict:
    """The emulator's own blocks of the patron in the library (as the API answers them)."""
    patron = next(p for p in emulator.patrons() if p["patronSystemId"] == patron_system_id)
    current = patron["blocks"].get(LIBRARY, {})
    return {"general_block": bool(current.get("generalBlock", False)),
            "block_message": current.get("blockMessage", "")}


def block_plan(ids: list[str], message: str = "Bulk: membership check") -> Plan:
    rows = []
    for i in ids:
        key = blocks_key(i, LIBRARY)
        rows.append({"vendor": "wise", "record_key": key, "field": "general_block", "before": False, "after": True})
        rows.append({"vendor": "wise", "record_key": key, "field": "block_message", "before": None,
                     "after": message})
    return Plan(rows)


@pytest.fixture
def ids(wise_emulator, wise_client):
    found = members(wise_client, 6)
    assert len(found) == 6
    for i in found:  # the plan's "before" is no message: make it so through the API
        wise_client.set_blocks(patron_system_id=i, library_id=LIBRARY, block_message="")
    wise_emulator.counters.reset()
    return found


def test_blocks_are_set_written_once_each_and_read_back(wise_emulator, wise_client, ids, tmp_path):
    result = block_plan(ids).apply(wise_client, workers=3, journal=tmp_path / "w.journal.sqlite", progress=False)
    assert result.totals["applied"] == 12 and result.totals["planned"] == 12
    for i in ids:
        assert stored(wise_emulator, i) == {"general_block": True, "block_message": "Bulk: membership check"}
        assert wise_emulator.counters.writes[i] == 1
    answers = result.records["answer"].tolist()
    assert all(a == {"blocks": ["general_block"]} for a in answers)


def test_a_patron_blocked_by_another_client_meanwhile_is_a_conflict_left_as_written(wise_emulator, wise_client,
                                                                                  ids, tmp_path):
    plan = block_plan(ids)
    with make_wise_client(wise_emulator) as other:
        other.set_blocks(patron_system_id=ids[1], library_id=LIBRARY, block_message="Set by the desk")
    result = plan.apply(wise_client, workers=2, journal=tmp_path / "w.journal.sqlite", progress=False)
    records = result.records.set_index("record_key")
    key = blocks_key(ids[1], LIBRARY)
    assert records.at[key, "state"] == "conflict"
    assert "Set by the desk" in records.at[key, "detail"]
    assert stored(wise_emulator, ids[1]) == {"general_block": False, "block_message": "Set by the desk"}
    assert wise_emulator.counters.writes[ids[1]] == 1  # the other client's write only
    assert result.totals["applied"] == 10 and result.totals["conflict"] == 2


def lose_the_next_writes_answer(monkeypatch, client, emulator, kind: str) -> None:
    """Right after the runner's first read of the blocks, queue a fault for the next request (the
    PUT): processed by the emulator, then its answer lost. Later reads (the read-back) are not touched."""
    read = client.blocks
    armed = [True]

    def read_then_arm(**kwargs):
        found = read(**kwargs)
        if armed.pop() if armed else False:
            emulator.knobs.fail_next(kind)
        return found

    monkeypatch.setattr(client, "blocks", read_then_arm)


@pytest.mark.parametrize("kind", ["reset-after", "502-after"])
def test_a_lost_answer_is_read_back_and_never_written_twice(monkeypatch, wise_emulator, wise_client, ids, tmp_path,
                                                            kind):
    lose_the_next_writes_answer(monkeypatch, wise_client, wise_emulator, kind)
    result = block_plan(ids[:1]).apply(wise_client, workers=1, journal=tmp_path / "w.journal.sqlite",
                                       progress=False)
    assert wise_emulator.counters.faults[kind] == 1
    assert result.totals["applied"] == 2 == result.totals["planned"]
    events = result.journal.events()["event"].tolist()
    assert "lost" in events and "verified-applied" in events
    assert wise_emulator.counters.writes[ids[0]] == 1
    assert stored(wise_emulator, ids[0]) == {"general_block": True, "block_message": "Bulk: membership check"}


def test_lost_answers_at_random_and_a_resume_write_each_patron_once(wise_emulator, wise_client, ids, tmp_path):
    wise_client.blocks(patron_system_id=ids[0], library_id=LIBRARY)  # logged in before the faults start
    knobs = wise_emulator.knobs
    knobs.reset_after_rate, knobs.bad_gateway_after_rate, knobs.reset_rate = 0.2, 0.15, 0.1
    journal = tmp_path / "w.journal.sqlite"
    block_plan(ids).apply(wise_client, workers=3, journal=journal, progress=False)
    knobs.clear()
    assert sum(wise_emulator.counters.faults.values()) >= 1
    # a read that failed through all its retries leaves its record pending: the resume sends it
    result = pk.bulk.resume(journal, wise_client, workers=3, progress=False)
    assert result.totals["applied"] == 12 == result.totals["planned"]
    for i in ids:
        assert stored(wise_emulator, i)["general_block"] is True
        assert wise_emulator.counters.writes[i] == 1


def test_rollback_restores_the_blocks_as_they_were(wise_emulator, wise_client, ids, tmp_path):
    before = {i: stored(wise_emulator, i) for i in ids}
    result = block_plan(ids).apply(wise_client, workers=3, journal=tmp_path / "w.journal.sqlite", progress=False)
    assert result.totals["applied"] == 12
    undone = result.rollback(progress=False)
    assert undone.totals["applied"] == 12
    assert {i: stored(wise_emulator, i) for i in ids} == before
    assert all(wise_emulator.counters.writes[i] == 2 for i in ids)


def test_validate_refuses_patron_details_unknown_fields_bad_values_and_keys_sending_nothing(wise_emulator, ids):
    plan = Plan([
        {"vendor": "wise", "record_key": blocks_key(ids[0], LIBRARY), "field": "email", "before": None,
         "after": "ada@example.org"},
        {"vendor": "wise", "record_key": blocks_key(ids[0], LIBRARY), "field": "loan_block", "before": None,
         "after": True},
        {"vendor": "wise", "record_key": blocks_key(ids[1], LIBRARY), "field": "general_block", "before": False,
         "after": "yes"},
        {"vendor": "wise", "record_key": ids[2], "field": "general_block", "before": False, "after": True},
    ])
    before = wise_emulator.counters.requests
    refused = plan.validate()
    assert list(refused["field"]) == ["email", "loan_block", "general_block", "record_key"]
    rules = refused["rule"].tolist()
    assert rules[0] == DETAILS_RULE and "re-subscription" in rules[0]
    assert "cannot write this column" in rules[1]
    assert "True" in rules[2]
    assert "@" in rules[3]
    assert wise_emulator.counters.requests == before


def test_apply_refuses_a_plan_with_refusals_before_any_request(wise_emulator, wise_client, ids, tmp_path):
    plan = Plan([{"vendor": "wise", "record_key": blocks_key(ids[0], LIBRARY), "field": "first_name",
                  "before": None, "after": "Ada"}])
    before = wise_emulator.counters.requests
    with pytest.raises(InputError):
        plan.apply(wise_client, journal=tmp_path / "w.journal.sqlite", progress=False)
    assert wise_emulator.counters.requests == before


def test_dry_run_shows_the_whole_blocking_dto_with_the_planned_change(wise_emulator, wise_client, ids):
    dry = block_plan(ids[:1]).dry_run(wise_client)
    row = dry.iloc[0]
    assert row["method"] == "PUT" and row["url"].endswith(f"/patron/{ids[0]}/library/{LIBRARY}/property/blocking")
    assert row["body"]["generalBlock"] is True and row["body"]["blockMessage"] == "Bulk: membership check"
    assert row["body"]["patronCardBlock"] is False
    assert sum(wise_emulator.counters.writes.values()) == 0
