"""Bad input raises InputError naming the field and the rule, and never reaches the server."""

from __future__ import annotations

import pytest

from fsi_patron_kit import InputError

CASES = {
    "unknown keyfield": (lambda c: c.get_patron(keyfield="studentid", value="1"), "keyfield", "must be one of"),
    "keyfield in upper case": (lambda c: c.get_patron(keyfield="BARCODE", value="1"), "keyfield", "must be one of"),
    "empty key value": (lambda c: c.get_patron(keyfield="barcode", value="  "), "value", "non-empty"),
    "key value not a string": (lambda c: c.find_patrons(keyfield="barcode", value=42), "value", "non-empty string"),
    "unknown role": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", role="PRINCIPAL"),
        "role",
        "STUDENT, TEACHER, PARENT, LIBRARIAN",
    ),
    "role in lower case": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", role="student"),
        "role",
        "must be one of",
    ),
    "malformed email": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", email="jane@@school"),
        "email",
        "valid email",
    ),
    "email with a space": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", email="jane smith@school.edu.au"),
        "email",
        "valid email",
    ),
    "email with a trailing newline": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", email="jane@school.edu.au\n"),
        "email",
        "control characters",
    ),
    "a line break in a field": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="R1\r\nR2"),
        "room",
        "control characters",
    ),
    "dry_run not a bool": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="R1", dry_run=None),
        "dry_run",
        "True or False",
    ),
    "empty key field on setpatron": (
        lambda c: c.set_patron(keyfield="email", allow_new=True, email="", first_name="A"),
        "email",
        "keyfield",
    ),
    "missing key field on setpatron": (
        lambda c: c.set_patron(keyfield="externalid", allow_new=True, first_name="A"),
        "external_id",
        "keyfield",
    ),
    "fullname key without names": (
        lambda c: c.set_patron(keyfield="fullname", allow_new=False, room="R1"),
        "first_name/surname",
        "keyfield",
    ),
    "itemindex below 1": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, itemindex=0, barcode="0000001"),
        "itemindex",
        "at least 1",
    ),
    "itemindex not an integer": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, itemindex="1", barcode="0000001"),
        "itemindex",
        "integer",
    ),
    "allow_new not a bool": (
        lambda c: c.set_patron(keyfield="barcode", allow_new="yes", barcode="0000001"),
        "allow_new",
        "True or False",
    ),
    "unknown patron field": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", homeroom="R1"),
        "homeroom",
        "not an FSI patron field",
    ),
    "field not a string": (
        lambda c: c.set_patron(keyfield="barcode", allow_new=False, barcode=1234),
        "barcode",
        "must be a string",
    ),
    "page size below 1": (lambda c: list(c.search_pages(page_size=0)), "page_size", "at least 1"),
    "start page below 1": (lambda c: c.search_pages(start_page=-1), "start_page", "at least 1"),
    "keyword not a string": (lambda c: c.search_pages(keyword=5), "keyword", "string"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_sending(client, emulator, case):
    call, field, rule = CASES[case]
    client.login()
    before = emulator.counters.requests
    with pytest.raises(InputError) as caught:
        call(client)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert field in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert emulator.counters.requests == before


def test_a_fresh_client_does_not_even_log_in_for_bad_input(client, emulator):
    with pytest.raises(InputError):
        client.get_patron(keyfield="nope", value="x")
    assert emulator.counters.requests == 0


def test_a_batch_with_one_bad_record_sends_nothing_and_names_the_record(client, emulator):
    records = [
        {"barcode": "0000001", "room": "A1"},
        {"barcode": "0000002", "email": "not-an-email"},
        {"barcode": "0000003", "room": "A3"},
    ]
    with pytest.raises(InputError) as caught:
        client.set_patrons(records, keyfield="barcode", allow_new=False)
    assert caught.value.index == 2 and caught.value.field == "email"
    assert str(caught.value).startswith("record 2: email")
    assert emulator.counters.requests == 0


def test_bad_encoding_is_refused(emulator):
    from .conftest import make_client

    with pytest.raises(InputError) as caught:
        make_client(emulator, encoding="xml")
    assert caught.value.field == "encoding"


MORE_CASES = {
    "max_rows not an integer": (lambda c: c.search(max_rows="5"), "max_rows"),
    "max_rows negative": (lambda c: c.search(max_rows=-1), "max_rows"),
    "a record that is not a mapping": (lambda c: c.set_patrons(["abc"], keyfield="barcode", allow_new=False),
                                       "records"),
    "fullname key with one name": (
        lambda c: c.set_patron(keyfield="fullname", allow_new=True, surname="Roberts"), "first_name/surname"),
}


@pytest.mark.parametrize("case", list(MORE_CASES))
def test_more_bad_input_is_refused_before_sending(client, emulator, case):
    call, field = MORE_CASES[case]
    with pytest.raises(InputError) as caught:
        call(client)
    assert caught.value.field == field
    assert emulator.counters.requests == 0
