"""The bulk journal: values kept exactly, one committed step at a time, totals that add up."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from fsi_patron_kit.errors import InputError
from fsi_patron_kit.workflows.journal import DEFER_LIMIT, Journal, decode, encode, norm

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
    with pytest.raises(InputError) as caught:
        Journal.create(path, CHANGES, {"kind": "apply"})
    assert (caught.value.field, caught.value.rule) == ("journal", f"{path} exists already; resume it, or give a new path")
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(InputError) as caught:
        Journal.open(missing)
    assert (caught.value.field, caught.value.rule) == ("journal", f"no journal at {missing}")
    assert not missing.exists()


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


def test_the_file_keeps_text_as_written_and_says_when_it_was_made(tmp_path):
    """The journal is also the record a person reads with any SQLite tool: names as written, not
    escaped, and the time the run was planned (UTC)."""
    path = tmp_path / "j.sqlite"
    changes = pd.DataFrame([{"vendor": "fsi", "record_key": "k1", "field": "name", "before": "Zoë Ñúñez",
                             "after": "Zoë Núñez-Østergård"}], dtype=object)
    before = datetime.now(timezone.utc)
    journal = Journal.create(path, changes, {"kind": "apply", "vendor": "fsi"})
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT before, after FROM changes").fetchall() == [
            ('"Zoë Ñúñez"', '"Zoë Núñez-Østergård"')]
    created = datetime.fromisoformat(journal.meta["created"])
    assert created.utcoffset() == timedelta(0) and before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc)
    assert set(journal.meta) == {"kind", "vendor", "created"}
    journal.step("k1", "sending", "intent", intent={"name": "Zoë Núñez-Østergård"}, sent=True)
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT intent FROM records").fetchall() == [('{"name": "Zoë Núñez-Østergård"}',)]


@pytest.mark.parametrize("durable, synchronous", [(True, 1), (False, 0)], ids=["durable", "fast"])
def test_a_durable_journal_syncs_each_commit_and_a_fast_one_leaves_it_to_the_system(tmp_path, durable, synchronous):
    """synchronous=NORMAL (1) in WAL mode: a committed step survives the process being killed;
    OFF (0) for a run that may be lost with the machine."""
    journal = Journal.create(tmp_path / "j.sqlite", CHANGES, {"kind": "apply"}, durable=durable)
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == synchronous
    assert Journal.create(tmp_path / "k.sqlite", CHANGES, {"kind": "apply"})._db.execute(
        "PRAGMA synchronous").fetchone()[0] == 1  # durable unless told otherwise
    assert Journal.open(tmp_path / "j.sqlite")._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # a resume too


def test_events_say_what_happened_to_which_record_and_when(tmp_path):
    journal = Journal.create(tmp_path / "j.sqlite", CHANGES, {"kind": "apply"})
    journal.step("b", "conflict", "conflict", detail="email: planned 'x at y', found 'z@y.org'")
    events = journal.events()
    assert list(events.columns) == ["record_key", "at", "event", "detail"]
    assert events[["record_key", "event", "detail"]].values.tolist() == [
        ["b", "conflict", "email: planned 'x at y', found 'z@y.org'"]]
    assert datetime.fromisoformat(events.at[0, "at"]).utcoffset() == timedelta(0)
    assert journal.sends("b") == 0


def test_nothing_decodes_to_nothing():
    assert decode(None) is None
    assert decode(encode(pd.Timestamp("2030-05-31T23:59:59Z"))) == pd.Timestamp("2030-05-31T23:59:59Z")


def test_numbers_and_blanks_come_back_as_they_went_in(tmp_path):
    """A column of numbers with a blank stays numbers and None (not floats and NaN)."""
    changes = pd.DataFrame([{"vendor": "fsi", "record_key": "a", "field": "room", "before": 5, "after": None},
                            {"vendor": "fsi", "record_key": "b", "field": "room", "before": 7, "after": 8}],
                           dtype=object)
    back = Journal.create(tmp_path / "j.sqlite", changes, {"kind": "apply"}).changes()
    assert back["before"].tolist() == [5, 7] and back["after"].tolist() == [None, 8]
    assert [type(v) for v in back["before"]] == [int, int]


def test_many_deferred_steps_are_all_committed_at_once(tmp_path):
    """More steps than one statement holds, committed together: none is dropped."""
    keys = [f"k{n:04d}" for n in range(150)]  # two statements of at most 100 rows
    changes = pd.DataFrame({"vendor": "fsi", "record_key": keys, "field": "room", "before": "a", "after": "b"})
    journal = Journal.create(tmp_path / "j.sqlite", changes, {"kind": "apply"})
    for key in keys:
        journal.step(key, "applied", "answered", answer={"status": 200}, sent=True, defer=True)
    journal.flush()
    records = journal.records()
    assert list(records.columns) == ["record_key", "state", "before_image", "intent", "answer", "detail", "sends",
                                     "updated"]
    assert records["state"].tolist() == ["applied"] * 150 and records["sends"].tolist() == [1] * 150
    assert len(journal.events()) == 150 and journal.totals()["applied"] == 150


def test_every_kind_of_value_a_frame_holds_comes_back_as_the_same_value(tmp_path):
    """Numpy integers (a plain int column), floats and NaN (blank), naive date-times (read as
    UTC), and text that merely ends like an offset."""
    changes = pd.DataFrame({"vendor": "fsi", "record_key": ["a", "b", "c", "d"], "field": "x",
                            "before": [1, 2, 3, 4], "after": [2.5, float("nan"), 0.0, -1.25]})
    journal = Journal.create(tmp_path / "j.sqlite", changes, {"kind": "apply"})
    back = journal.changes()
    assert back["before"].tolist() == [1, 2, 3, 4] and back["after"].tolist() == [2.5, None, 0.0, -1.25]
    naive = datetime(2030, 5, 31, 23, 59, 59)
    texts = pd.DataFrame([{"vendor": "fsi", "record_key": "a", "field": "note", "before": naive,
                           "after": "the server's clock says UTC+00:00"}], dtype=object)
    back = Journal.create(tmp_path / "k.sqlite", texts, {"kind": "apply"}).changes()
    assert back.at[0, "before"] == pd.Timestamp("2030-05-31T23:59:59Z")
    assert back.at[0, "after"] == "the server's clock says UTC+00:00"


def test_deferred_steps_are_committed_once_the_limit_is_reached(tmp_path):
    """At most DEFER_LIMIT outcomes wait for a commit: the one that reaches it commits them all."""
    keys = [f"k{n:04d}" for n in range(DEFER_LIMIT)]
    changes = pd.DataFrame({"vendor": "fsi", "record_key": keys, "field": "room", "before": "a", "after": "b"})
    path = tmp_path / "j.sqlite"
    journal = Journal.create(path, changes, {"kind": "apply"})
    for key in keys[:-1]:
        journal.step(key, "applied", "answered", defer=True)
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    journal.step(keys[-1], "applied", "answered", defer=True)
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == DEFER_LIMIT


def test_numpy_scalars_are_kept_as_the_plain_values_they_hold():
    assert [(norm(v), type(norm(v))) for v in (np.int64(5), np.float64(2.5), np.bool_(True))] == [
        (5, int), (2.5, float), (True, bool)]
    assert encode(np.int64(5)) == "5"
