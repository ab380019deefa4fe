"""Bulk changes over HTTP: validate, preview, dry run, conflicts, lost answers, rollback, resume after kill."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import fsi_patron_kit as pk
from fsi_patron_kit._checks import EMAIL
from fsi_patron_kit.errors import InputError
from fsi_patron_kit.fsi.models import check_fields
from fsi_patron_kit.workflows.bulk import Plan

from .conftest import make_client, make_edge_client, make_folio_client
from .killing import kill_partway


def rooms_plan(frame: pd.DataFrame, count: int) -> Plan:
    """New rooms for the first ``count`` patrons: values this test makes, so it knows them."""
    return Plan.from_function(frame.head(count), lambda row: {"room": f"T-{row['record_key']}"})


def by_barcode(emulator) -> dict[str, dict]:
    return {r["barcode"]: r for r in emulator.records()}


def test_validate_lists_every_refusal_at_once_and_sends_nothing(emulator, client):
    plan = Plan([
        {"vendor": "fsi", "record_key": "0000001", "field": "email", "before": None, "after": "not an email"},
        {"vendor": "fsi", "record_key": "0000002", "field": "phone", "before": None, "after": "555-0100"},
        {"vendor": "fsi", "record_key": "0000003", "field": "role", "before": "STUDENT", "after": "PRINCIPAL"},
        {"vendor": "fsi", "record_key": "0000004", "field": "room", "before": "R1", "after": "R2"},
        {"vendor": "fsi", "record_key": "0000004", "field": "room", "before": "R1", "after": "R3"},
    ])
    before = emulator.counters.requests
    refused = plan.validate()
    assert list(zip(refused["record_key"], refused["field"], strict=True)) == [
        ("0000001", "email"), ("0000002", "phone"), ("0000003", "role"), ("0000004", "room")]
    assert "cannot write this column" in refused["rule"].iloc[1]
    with pytest.raises(InputError):
        plan.apply(client, journal=None, progress=False)
    assert emulator.counters.requests == before


def test_preview_and_dry_run_show_each_change_and_send_no_write(emulator, client, tmp_path):
    frame = pk.patrons(client)
    plan = rooms_plan(frame, 3)
    text = repr(plan.preview())
    assert "3 changes to 3 records" in text
    assert f"'T-{frame.at[0, 'record_key']}'" in text
    html = plan.preview()._repr_html_()
    assert html.count("background:#fff3c4") == 3
    dry = plan.dry_run(client)
    body = dry.iloc[0]["body"]
    assert body["action"] == "setpatron" and body["token"] == "***" and body["allownew"] is False
    assert body["room"] == f"T-{frame.at[0, 'record_key']}" and body["barcode"] == frame.at[0, "record_key"]
    assert set(body) == {"action", "token", "keyfield", "allownew", "itemindex", "barcode", "room"}
    assert sum(emulator.counters.writes.values()) == 0


def test_a_record_changed_by_another_client_is_a_conflict_and_left_as_written(emulator, client, tmp_path):
    frame = pk.patrons(client)
    plan = rooms_plan(frame, 10)
    taken = frame["record_key"].iloc[[2, 7]].tolist()
    with make_client(emulator) as other:
        for key in taken:
            other.set_patron(keyfield="barcode", allow_new=False, barcode=key, room="OTHER")
    result = plan.apply(client, workers=4, journal=tmp_path / "j.sqlite", progress=False)
    assert result.totals["conflict"] == 2 and result.totals["applied"] == 8
    records = result.records.set_index("record_key")
    for key in taken:
        assert records.at[key, "state"] == "conflict"
        planned_before = frame.set_index("record_key").at[key, "room"]
        assert f"planned {planned_before!r}" in records.at[key, "detail"] and "found 'OTHER'" in records.at[key, "detail"]
        assert by_barcode(emulator)[key]["room"] == "OTHER"
        assert emulator.counters.writes[key] == 1  # the other client's write only
    again = result.to_plan()
    assert sorted(again.frame["record_key"]) == sorted(taken)
    assert set(again.frame["before"]) == {"OTHER"}


def test_lost_answers_are_read_back_and_never_written_twice(emulator, client, tmp_path):
    frame = pk.patrons(client)
    plan = rooms_plan(frame, 60)
    knobs = emulator.knobs
    knobs.reset_after_rate, knobs.bad_gateway_after_rate, knobs.reset_rate = 0.15, 0.1, 0.1
    result = plan.apply(client, workers=4, journal=tmp_path / "j.sqlite", progress=False)
    knobs.clear()
    assert result.totals["applied"] == 60 == result.totals["planned"]
    held = by_barcode(emulator)
    for key in plan.frame["record_key"]:
        assert held[key]["room"] == f"T-{key}"
        assert emulator.counters.writes[key] == 1
    events = result.journal.events()["event"].value_counts()
    assert events["verified-applied"] >= 1  # answers lost after the write: read back, not resent
    assert events["verified-not-applied"] >= 1  # resets before it: read back, then sent again
    assert emulator.counters.faults["reset-after"] + emulator.counters.faults["502-after"] >= 1


def test_rollback_restores_the_originals_even_values_the_rules_refuse(emulator, client, tmp_path):
    originals = emulator.records()
    frame = pk.patrons(client)
    malformed = frame[frame["email"].notna() & ~frame["email"].fillna("").str.match(EMAIL.pattern)]
    assert len(malformed) == emulator.planted["malformed_email"]
    with pytest.raises(InputError):  # the kit refuses to send these values...
        check_fields({"email": malformed["email"].iloc[0]})
    fixed = Plan.from_function(malformed, lambda row: {"email": f"fixed.{row['record_key']}@school.example"})
    stripped = Plan.from_function(frame, lambda row: {"first_name": (row["first_name"] or "").strip() or None})
    plan = Plan(pd.concat([fixed.frame, stripped.frame], ignore_index=True))
    result = plan.apply(client, workers=4, journal=tmp_path / "j.sqlite", progress=False)
    assert result.totals["applied"] == len(plan)
    assert emulator.records() != originals
    undone = result.rollback(progress=False)
    assert undone.totals["applied"] == len(plan)
    assert emulator.records() == originals  # ...but a rollback writes them back as they were


def test_rollback_refuses_a_record_changed_since_the_kit_wrote_it(emulator, client, tmp_path):
    frame = pk.patrons(client)
    result = rooms_plan(frame, 5).apply(client, journal=tmp_path / "j.sqlite", progress=False)
    key = frame.at[1, "record_key"]
    with make_client(emulator) as other:
        other.set_patron(keyfield="barcode", allow_new=False, barcode=key, room="LATER")
    undone = pk.bulk.rollback(result.journal_path, client, progress=False)
    assert undone.totals["conflict"] == 1 and undone.totals["applied"] == 4
    assert by_barcode(emulator)[key]["room"] == "LATER"
    assert by_barcode(emulator)[frame.at[0, "record_key"]]["room"] == frame.at[0, "room"]


CHILD = """
import pickle, sys
from fsi_patron_kit import fsi
from fsi_patron_kit.workflows.bulk import Plan
url, folder = sys.argv[1], sys.argv[2]
frame = pickle.load(open(folder + "/plan.pickle", "rb"))
with fsi.Client(url=url, apikey="sandbox-fsi-apikey", apisecret="sandbox-fsi-apisecret") as client:
    Plan(frame).apply(client, workers=2, journal=folder + "/j.sqlite", progress=False)
"""


def test_resume_after_the_process_is_killed(emulator, client, tmp_path):
    frame = pk.patrons(client)
    plan = rooms_plan(frame, 80)
    (tmp_path / "plan.pickle").write_bytes(pickle.dumps(plan.frame))
    emulator.knobs.latency = 0.02
    emulator.knobs.reset_after_rate = 0.05
    journal = tmp_path / "j.sqlite"
    assert kill_partway(CHILD, emulator.url, str(tmp_path), journal=journal, after=20) < 80  # killed partway
    result = pk.bulk.resume(journal, client, workers=4, progress=False)
    emulator.knobs.clear()
    totals = result.totals
    assert totals["applied"] + totals["conflict"] + totals["failed"] + totals["skipped"] == totals["planned"] == 80
    assert totals["applied"] == 80
    held = by_barcode(emulator)
    assert [key for key in plan.frame["record_key"] if held[key]["room"] != f"T-{key}"] == []  # none lost
    assert [key for key in plan.frame["record_key"] if emulator.counters.writes[key] != 1] == []  # none twice


def test_folio_users_apply_under_lost_answers_and_roll_back(folio_emulator, tmp_path):
    originals = {u["id"]: u["personal"].get("phone") for u in folio_emulator.users()}
    with make_folio_client(folio_emulator) as client:
        frame = pk.patrons(client).head(30)
        plan = Plan.from_function(frame, lambda row: {"phone": f"555-{row['record_key'][:4]}"})
        folio_emulator.knobs.reset_after_rate = folio_emulator.knobs.bad_gateway_after_rate = 0.1
        result = plan.apply(client, workers=4, journal=tmp_path / "j.sqlite", progress=False)
        folio_emulator.knobs.clear()
        assert result.totals["applied"] == 30
        users = {u["id"]: u for u in folio_emulator.users()}
        for key in plan.frame["record_key"]:
            assert users[key]["personal"]["phone"] == f"555-{key[:4]}"
            assert folio_emulator.counters.writes[key] == 1
        result.rollback(progress=False)
    assert {u["id"]: u["personal"].get("phone") for u in folio_emulator.users()} == originals


def test_edge_updates_by_email_follow_a_changed_email_and_roll_back(folio_emulator, tmp_path):
    with make_edge_client(folio_emulator) as client:
        patrons = client.external_patrons().head(4)
        emails = patrons["email"].tolist()
        rows = [{"vendor": "folio-edge", "record_key": emails[0], "field": "email", "before": emails[0],
                 "after": "moved." + emails[0]}]
        rows += [{"vendor": "folio-edge", "record_key": e, "field": "phone", "before": p, "after": "555-0199"}
                 for e, p in zip(emails[1:], patrons["phone"].iloc[1:], strict=True)]
        before = {u["id"]: u["personal"] for u in folio_emulator.users()}
        result = Plan(rows).apply(client, journal=tmp_path / "j.sqlite", progress=False)
        assert result.totals["applied"] == 4
        assert sum(u["personal"].get("email") == "moved." + emails[0] for u in folio_emulator.users()) == 1
        result.rollback(progress=False)
        after = {u["id"]: u["personal"] for u in folio_emulator.users()}
        assert {k: (v.get("email"), v.get("phone")) for k, v in after.items()} == \
               {k: (v.get("email"), v.get("phone")) for k, v in before.items()}


def test_a_plan_from_an_edited_copy_holds_only_the_changed_cells(client):
    frame = pk.patrons(client)
    edited = frame.copy()
    edited.loc[3, "room"] = "NEW-ROOM"
    edited.loc[8, "email"] = "someone.new@school.example"
    edited.loc[8, "first_name"] = frame.at[8, "first_name"]  # written back unchanged: not a change
    plan = Plan.from_edits(frame, edited)
    assert plan.frame[["record_key", "field", "before", "after"]].values.tolist() == [
        [frame.at[3, "record_key"], "room", frame.at[3, "room"], "NEW-ROOM"],
        [frame.at[8, "record_key"], "email", frame.at[8, "email"], "someone.new@school.example"],
    ]
    assert set(plan.frame["vendor"]) == {"fsi"}


def test_the_confirm_panel_applies_through_the_same_plan_and_cancel_sends_nothing(emulator, client, tmp_path):
    pytest.importorskip("ipywidgets")
    from fsi_patron_kit.workflows.confirm import confirm_panel

    plan = rooms_plan(pk.patrons(client), 4)
    cancelled = confirm_panel(plan, client, journal=tmp_path / "no.sqlite", progress=False)
    sent = emulator.counters.requests
    cancelled.children[2].children[1].click()
    assert emulator.counters.requests == sent and not (tmp_path / "no.sqlite").exists()
    panel = confirm_panel(plan, client, journal=tmp_path / "yes.sqlite", progress=False)
    panel.children[2].children[0].click()
    assert panel.result.totals["applied"] == 4
    assert all(by_barcode(emulator)[k]["room"] == f"T-{k}" for k in plan.frame["record_key"])


def test_a_journal_being_run_cannot_be_run_a_second_time(emulator, client, tmp_path):
    result = rooms_plan(pk.patrons(client), 3).apply(client, journal=tmp_path / "j.sqlite", progress=False)
    sent = emulator.counters.requests
    with result.journal.running(), pytest.raises(InputError, match="being run by another process"):
        pk.bulk.resume(result.journal_path, client, progress=False)
    assert emulator.counters.requests == sent
    assert pk.bulk.resume(result.journal_path, client, progress=False).totals["applied"] == 3  # free again


def test_no_secret_reaches_a_dry_run_or_the_journal(folio_emulator, tmp_path):
    with make_edge_client(folio_emulator) as client:
        patrons = client.external_patrons().head(2)
        plan = Plan([{"vendor": "folio-edge", "record_key": e, "field": "phone", "before": p, "after": "555-0142"}
                     for e, p in zip(patrons["email"], patrons["phone"], strict=True)])
        dry = plan.dry_run(client)
        assert folio_emulator.edge_apikey not in repr(dry.to_dict("records"))
        assert set(dry["method"]) == {"PUT"} and all("/by-email/" in url for url in dry["url"])
        result = plan.apply(client, journal=tmp_path / "j.sqlite", progress=False)
        assert result.totals["applied"] == 2
    result.journal.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert folio_emulator.edge_apikey.encode() not in stored
