"""The bulk journal: values kept exactly, one committed step at a time, totals that add up."""

from __future__ import annotations

import sqlite3

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
