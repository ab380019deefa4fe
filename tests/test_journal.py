"""The bulk journal: values kept exactly, one committed step at a time, totals that add up."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from fsi_patron_kit.errors import InputError
from fsi_patron_kit.workflows.journal import Journal

CHANGES = pd.DataFrame([
    {"vendor": "folio", "record_key": "a", "field": "expires", "before": pd.Timestamp("2030-05-31T23:59:59Z"),
     "after": pd.Timestamp("2031-05-31T23:59:59Z")},
    {"vendor": "folio", "record_key": "a", "field": "active", "before": True, "after": False},
    {"vendor": "folio", "record_key": "b", "field": "email", "before": "x at y", "after": None},
], dtype=object)


def test_values_come_back_as_they_went_in(tmp_path):
    journal = Journal.create(tmp_path / "j.sqlite", CHANGES, {"kind": "apply", "vendor": "folio"})
    back = journal.changes()
    assert back["before"].tolist() == [pd.Timestamp("2030-05-31T23:59:59Z"), True, "x at y"]
    assert back["after"].tolist() == [pd.Timestamp("2031-05-31T23:59:59Z"), False, None]
    assert journal.meta["kind"] == "apply" and journal.meta["vendor"] == "folio"


def test_steps_are_committed_and_totals_count_plan_rows(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal.create(path, CHANGES, {"kind": "apply"})
    journal.step("a", "sending", "intent", before_image={"active": True}, intent={"active": False}, sent=True)
    journal.step("a", "applied", "answered", answer={"status": 204})
    journal.step("b", "conflict", "conflict", detail="email: planned 'x at y', found 'z@y.org'")
    # another connection (another process after a crash) sees every step
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT state, sends FROM records ORDER BY seq").fetchall() == [("applied", 1), ("conflict", 0)]
    totals = Journal.open(path).totals()
    assert totals["applied"] == 2 and totals["conflict"] == 1 and totals["planned"] == 3
    events = journal.events()
    assert events["event"].tolist() == ["intent", "answered", "conflict"]
    assert journal.records().set_index("record_key").at["a", "before_image"] == {"active": True}


def test_an_existing_journal_is_never_overwritten(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal.create(path, CHANGES, {"kind": "apply"})
    with pytest.raises(InputError):
        Journal.create(path, CHANGES, {"kind": "apply"})
    with pytest.raises(InputError):
        Journal.open(tmp_path / "missing.sqlite")


def test_steps_from_many_threads_are_all_committed_in_order_per_record(tmp_path):
    """Sixteen workers share commits: every intent is committed before its step returns, every
    deferred outcome by the end, and each record's events keep the order its worker made them."""
    keys = [f"k{n:04d}" for n in range(800)]
    changes = pd.DataFrame({"vendor": "fsi", "record_key": keys, "field": "room", "before": "a", "after": "b"})
    path = tmp_path / "j.sqlite"
    journal = Journal.create(path, changes, {"kind": "apply"})
    committed_before_return = []

    def work(key: str) -> None:
        journal.step(key, "sending", "intent", before_image={"room": "a"}, intent={"room": "b"}, sent=True)
        with sqlite3.connect(path) as other:  # what a process started after a crash would find now
            committed_before_return.append(
                other.execute("SELECT state FROM records WHERE record_key = ?", (key,)).fetchone()[0])
        journal.step(key, "applied", "answered", answer={"msg": "ok"}, defer=True)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(work, keys))
    journal.flush()
    assert committed_before_return == ["sending"] * len(keys)
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT state, sends, intent, answer FROM records").fetchall() == \
            [("applied", 1, '{"room": "b"}', '{"msg": "ok"}')] * len(keys)
    events = journal.events()
    assert len(events) == 2 * len(keys)
    assert (events.groupby("record_key")["event"].agg(list) == pd.Series([["intent", "answered"]] * len(keys),
                                                                        index=keys)).all()
    assert Journal.open(path).totals()["applied"] == len(keys)


def test_a_step_that_cannot_be_committed_is_raised_and_kept_for_the_next_commit(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal.create(path, CHANGES, {"kind": "apply"})
    journal._db.execute("PRAGMA busy_timeout = 0")  # fail at once rather than after five seconds
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the file
    journal.step("b", "skipped", "already", defer=True)
    with pytest.raises(sqlite3.OperationalError):
        journal.step("a", "sending", "intent", intent={"active": False}, sent=True)
    blocker.execute("ROLLBACK")
    blocker.close()
    journal.flush()
    assert journal.records()[["record_key", "state", "sends"]].values.tolist() == [["a", "sending", 1],
                                                                                   ["b", "skipped", 0]]
    assert journal.events()["event"].tolist() == ["already", "intent"]
