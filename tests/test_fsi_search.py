"""FSI field search through the structured find-form keyword, and the missing-value convention.

The form fields expected here are the production dialect's, as a public integration sends them
to real tenants: ``keyword[0][tokens][i][key|value]`` with ``findform_key`` (a field, or
``ALL``), ``findform_value``, ``findform_condition`` AND, ``findform_method`` CONTAIN and
``findform_type`` STRING.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pandas as pd
import pytest

from fsi_patron_kit.errors import InputError
from fsi_patron_kit.fsi.models import WIRE_NAMES

from .conftest import make_client

FINDFORM = ("findform_key", "findform_value", "findform_condition", "findform_method", "findform_type")


def sent_forms(client) -> list[dict[str, str]]:
    return [dict(parse_qsl(e.request_body or "")) for e in client.history if e.action == "searchpatron"]


def tokens_of(form: dict[str, str]) -> dict[str, str]:
    """The find-form as key -> value, read back from the numbered token fields."""
    found = {}
    for i in range(len(FINDFORM)):
        found[form[f"keyword[0][tokens][{i}][key]"]] = form[f"keyword[0][tokens][{i}][value]"]
    return found


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_field_search_sends_the_find_form_as_form_fields(emulator, encoding):
    with make_client(emulator, encoding=encoding, record_bodies=True) as client:
        client.search(email="westfield", page_size=500, workers=1)
        forms = sent_forms(client)
    assert forms, "no searchpatron request recorded"
    for number, form in enumerate(forms, start=1):
        assert tokens_of(form) == {"findform_key": "email", "findform_value": "westfield",
                                   "findform_condition": "AND", "findform_method": "CONTAIN",
                                   "findform_type": "STRING"}
        assert form["action"] == "searchpatron"
        assert form["pagenumber"] == str(number)
        assert form["pagecount"] == "500"
        assert form["token"] == "***"  # sent, and masked in the history
        assert "keyword" not in form


def test_field_and_value_search_one_field_or_all(emulator):
    with make_client(emulator, encoding="form", record_bodies=True) as client:
        client.search(field="external_id", value="S1", page_size=1000, workers=1)
        assert tokens_of(sent_forms(client)[0])["findform_key"] == "externalid"
        client.history.clear()
        client.search(field="ALL", value="Smith", page_size=1000, workers=1)
        forms = sent_forms(client)
    assert tokens_of(forms[0])["findform_key"] == "ALL"
    assert tokens_of(forms[0])["findform_value"] == "Smith"


def test_python_field_names_become_wire_names(emulator):
    with make_client(emulator, record_bodies=True) as client:
        client.search(first_name="Ava", page_size=1000, workers=1)
        assert tokens_of(sent_forms(client)[0])["findform_key"] == "firstname"


def test_the_free_text_keyword_keeps_the_documents_spelling(emulator):
    with make_client(emulator, record_bodies=True) as client:
        frame = client.search("Nguyen", page_size=1000, workers=1)
        body = next(e.request_body for e in client.history if e.action == "searchpatron")
    assert '"keyword": "Nguyen"' in body
    expected = sorted(r["barcode"] for r in emulator.records()
                      if "nguyen" in " ".join(str(v) for v in r.values()).lower())
    assert sorted(frame["barcode"]) == expected


def test_a_field_search_returns_exactly_the_matching_patrons(emulator):
    records = emulator.records()
    wanted = sorted(r["barcode"] for r in records if "mail.example.net" in r["email"].lower())
    with make_client(emulator) as client:
        found = client.search(email="mail.example.net", page_size=100)
        everywhere = client.search(field="ALL", value="Nguyen", page_size=100, workers=3)
    assert sorted(found["barcode"]) == wanted
    assert 0 < len(wanted) < len(records)
    anywhere = [r["barcode"] for r in records
                if "nguyen" in " ".join(str(r[f]) for f in WIRE_NAMES.values()).lower()]
    assert list(everywhere["barcode"]) == anywhere and anywhere


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"email": "a", "surname": "b"}, "search"),
        ({"keyword": "x", "email": "a"}, "search"),
        ({"field": "email", "value": "a", "surname": "b"}, "search"),
        ({"shoe_size": "9"}, "field"),
        ({"field": "nickname", "value": "x"}, "field"),
        ({"field": "email"}, "value"),
        ({"email": ""}, "email"),
        ({"email": 7}, "email"),
        ({"keyword": 7}, "keyword"),
    ],
)
def test_bad_searches_are_refused_before_anything_is_sent(client, emulator, arguments, field):
    with pytest.raises(InputError) as caught:
        client.search(**arguments)
    assert caught.value.field == field
    assert emulator.counters.requests == 0


# -- one missing-value convention ---------------------------------------------------------------------
def test_blank_values_are_missing_in_frames_but_kept_in_raw(client, emulator):
    records = emulator.records()
    frame = client.search(page_size=1000)
    blank_emails = sum(1 for r in records if r["email"] == "")
    assert blank_emails >= emulator.planted["missing_email"]
    assert int(frame["email"].isna().sum()) == blank_emails
    assert not (frame["email"] == "").any()
    no_email = next(r for r in records if r["email"] == "")
    patron = client.get_patron(keyfield="barcode", value=no_email["barcode"])
    assert patron.raw["email"] == ""  # the model keeps what the wire said


def test_spaces_are_data_not_missing(client, emulator):
    emulator.envelope = "object"
    client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="  ")
    frame = client.find_patrons(keyfield="barcode", value="0000001")
    assert frame.loc[0, "room"] == "  "
    assert frame["room"].dtype == pd.StringDtype()
