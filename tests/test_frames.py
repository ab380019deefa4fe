"""Frames: declared columns and dtypes, and the values in them (datetimes checked as instants)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from fsi_patron_kit._frames import (
    BOOL,
    DATETIME,
    FLOAT,
    INT,
    STRING,
    Column,
    FrameSpec,
    flatten,
)

INSTANT = pd.Timestamp("2026-01-02T03:04:05Z")
SPEC = FrameSpec((Column("id", wire="ID"), Column("n", INT), Column("ok", BOOL), Column("score", FLOAT),
                  Column("at", DATETIME)))


@pytest.mark.usefixtures("away_from_utc")
def test_datetimes_are_read_as_the_instant_they_name_in_utc():
    spelled = [
        "2026-01-02T03:04:05Z",
        "2026-01-02T04:04:05+01:00",  # the same instant, written in another zone
        "2026-01-02T03:04:05",  # no offset: UTC
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        datetime(2026, 1, 1, 22, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 1, 2, 3, 4, 5),  # naive datetime object: UTC
    ]
    frame = FrameSpec((Column("at", DATETIME),)).build([{"at": value} for value in spelled])
    assert str(frame["at"].dtype) == "datetime64[us, UTC]"
    assert frame["at"].tolist() == [INSTANT] * len(spelled)
    assert all(str(value.tz) == "UTC" for value in frame["at"])


def test_absent_or_unreadable_datetimes_are_nat_and_the_others_keep_their_value():
    frame = FrameSpec((Column("at", DATETIME),)).build(
        [{"at": None}, {"at": ""}, {"at": "not a date"}, {"at": 12345}, {"at": "2026-01-02T03:04:05Z"}, {}])
    assert frame["at"].isna().tolist() == [True, True, True, True, False, True]
    assert frame["at"].iloc[4] == INSTANT


def test_far_future_due_dates_fit():
    frame = FrameSpec((Column("due", DATETIME),)).build([{"due": "2525-12-31T23:59:59.123456Z"}])
    assert frame["due"].iloc[0] == pd.Timestamp("2525-12-31T23:59:59.123456Z")


def test_every_declared_dtype_holds_its_values():
    frame = SPEC.build([
        {"ID": 123, "n": 2, "ok": True, "score": 1.5, "at": "2026-01-02T03:04:05Z", "extra": "dropped"},
        {"ID": "0042", "n": None, "ok": None, "score": None, "at": None},
    ])
    assert list(frame.columns) == ["id", "n", "ok", "score", "at"]
    assert [str(t) for t in frame.dtypes] == ["string", "Int64", "boolean", "Float64", "datetime64[us, UTC]"]
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first["id"], first["n"], first["ok"], first["score"], first["at"]) == ("123", 2, True, 1.5, INSTANT)
    assert second["id"] == "0042"  # leading zeros survive
    assert all(pd.isna(second[c]) for c in ("n", "ok", "score", "at"))


def test_missing_text_is_na_not_the_word_none():
    frame = FrameSpec((Column("name", STRING),)).build([{"name": None}, {"name": float("nan")}, {"name": "Ann"}])
    assert frame["name"].isna().tolist() == [True, True, False]
    assert "None" not in frame["name"].astype(str).tolist() and "nan" not in frame["name"].astype(str).tolist()


def test_records_may_come_from_a_generator():
    records = ({"ID": str(n), "n": n} for n in range(3))
    frame = SPEC.build(records)
    assert frame["id"].tolist() == ["0", "1", "2"] and frame["n"].tolist() == [0, 1, 2]


def test_an_empty_frame_has_the_declared_columns_and_dtypes():
    for frame in (SPEC.empty(), SPEC.build([]), SPEC.build(iter([]))):
        assert frame.empty and list(frame.columns) == SPEC.names
        assert [str(t) for t in frame.dtypes] == ["string", "Int64", "boolean", "Float64", "datetime64[us, UTC]"]


def test_column_source_is_the_wire_name_when_it_differs():
    assert Column("external_id", wire="externalid").source == "externalid"
    assert Column("barcode").source == "barcode"
    assert Column("barcode").dtype == STRING


@pytest.mark.parametrize("record, expected", [
    ({"a": 1, "b": {"c": "x", "d": {"e": None}}}, {"a": 1, "b.c": "x", "b.d.e": None}),
    ({"tags": ["red", "blue"]}, {"tags": "red, blue"}),
    ({"tags": []}, {"tags": ""}),
    ({"mixed": ["a", 1]}, {"mixed": ["a", 1]}),  # not all text: kept as the list it is
    ({"items": [{"id": 1}]}, {"items": [{"id": 1}]}),
])
def test_flatten_names_nested_fields_with_dots(record, expected):
    assert flatten(record) == expected


def test_flatten_with_a_prefix():
    assert flatten({"title": "T"}, "item.") == {"item.title": "T"}


def test_an_empty_string_is_missing_like_an_absent_key():
    frame = FrameSpec((Column("name", STRING), Column("n", INT))).build([{"name": "", "n": 1}, {"n": 2}, {"name": " "}])
    assert frame["name"].isna().tolist() == [True, True, False]
    assert frame["name"].iloc[2] == " "  # text of spaces is data
    assert len(frame) == 3 and frame.index.tolist() == [0, 1, 2]


