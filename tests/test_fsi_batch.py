"""set_patrons: itemindex batches, dry runs, per-record failures and interrupted batches."""

from __future__ import annotations

import pandas as pd
import pytest

from fsi_patron_kit import BatchInterrupted


def test_batch_sends_itemindex_one_to_n_and_reports_each_record(client, emulator):
    records = [{"barcode": f"{n:07d}", "room": f"B{n}"} for n in range(1, 6)]
    results = client.set_patrons(records, keyfield="barcode", allow_new=False)
    assert list(results["itemindex"]) == [1, 2, 3, 4, 5]
    assert list(results["status"]) == ["updated"] * 5
    stored = {r["barcode"]: r["room"] for r in emulator.records()}
    assert all(stored[r["barcode"]] == r["room"] for r in records)
    assert dict(emulator.counters.writes) == {r["barcode"]: 1 for r in records}


def test_batch_from_a_search_frame_round_trips(client, emulator):
    frame = client.search("Nguyen")
    changed = frame.assign(room="LIB")[["barcode", "room"]]
    results = client.set_patrons(changed, keyfield="barcode", allow_new=False)
    assert (results["status"] == "updated").all() and len(results) == len(frame) > 0
    assert set(client.search("Nguyen")["room"]) == {"LIB"}


def test_missing_values_in_a_frame_are_not_sent(client, emulator):
    before = {r["barcode"]: r for r in emulator.records()}
    frame = pd.DataFrame({"barcode": ["0000001", "0000002"], "room": ["X1", pd.NA]}).astype("string")
    client.set_patrons(frame, keyfield="barcode", allow_new=False)
    after = {r["barcode"]: r for r in emulator.records()}
    assert after["0000001"]["room"] == "X1"
    assert after["0000002"] == before["0000002"]


def test_batch_dry_run_sends_nothing(client, emulator):
    results = client.set_patrons([{"barcode": "0000001", "room": "Z"}], keyfield="barcode", allow_new=False, dry_run=True)
    assert list(results["status"]) == ["dry-run"]
    assert emulator.counters.requests == 0


def test_a_vendor_error_fails_its_row_and_the_batch_goes_on(client, emulator):
    records = [{"barcode": "0000001", "room": "A"}, {"barcode": "7654321", "room": "B"}, {"barcode": "0000003", "room": "C"}]
    results = client.set_patrons(records, keyfield="barcode", allow_new=False)
    assert list(results["status"]) == ["updated", "failed", "updated"]
    assert results.loc[1, "message"] == "Patron not found."
    assert results.loc[1, "error_type"] == "NotFoundError"


def test_allow_new_batch_creates_missing_records(client, emulator):
    records = [{"barcode": "0000001", "room": "A"}, {"barcode": "0200000", "first_name": "Nova", "surname": "Kid", "role": "STUDENT"}]
    results = client.set_patrons(records, keyfield="barcode", allow_new=True)
    assert list(results["status"]) == ["updated", "created"]
    assert len(emulator.records()) == 1501


def test_transport_failure_interrupts_the_batch_and_keeps_what_was_done(client, emulator):
    client.login()
    records = [{"barcode": f"{n:07d}", "room": "R"} for n in range(1, 6)]
    emulator.knobs.fail_next("reset")  # the first setpatron is dropped: nothing should follow it
    with pytest.raises(BatchInterrupted) as caught:
        client.set_patrons(records, keyfield="barcode", allow_new=False)
    results = caught.value.results
    assert list(results["status"]) == ["failed", "not-sent", "not-sent", "not-sent", "not-sent"]
    assert not emulator.counters.writes


def test_parallel_workers_write_each_record_once(client, emulator):
    records = [{"barcode": f"{n:07d}", "room": "P"} for n in range(1, 41)]
    results = client.set_patrons(records, keyfield="barcode", allow_new=False, workers=4)
    assert list(results["itemindex"]) == list(range(1, 41))
    assert dict(emulator.counters.writes) == {r["barcode"]: 1 for r in records}
    assert emulator.counters.actions["getcode"] == 1  # one login shared by the workers
