"""Polaris patrons in the canonical frame over HTTP: by ids or barcodes, hidden fields, the planted defects found."""

from __future__ import annotations

import warnings
from collections import Counter

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.polaris.adapter import ADAPTER, HiddenFieldsWarning
from fsi_patron_kit.sandbox import Sandbox

from .conftest import make_polaris_client

#: The Polaris sandbox's planted defects (``emulator.planted``) and the check that finds each. The
#: others name no check (postal codes, addresses and blocks are not canonical; a shared name is
#: not a defect by itself), as docs/vendors/polaris.md says.
FOUND_BY = {"missing_email": "missing_email", "missing_first_name": "missing_name"}


@pytest.fixture(scope="module")
def emulator():
    with Sandbox(only=["polaris"]) as running:
        yield running.polaris


def counts(emulator):
    return emulator.counters.requests, sum(emulator.counters.writes.values())


@pytest.fixture(scope="module")
def read(emulator):
    """Every sandbox patron by id, with the requests and writes the reading cost."""
    ids = [p["PatronID"] for p in emulator.patrons()]
    requests, writes = counts(emulator)
    with make_polaris_client(emulator) as client, warnings.catch_warnings():
        warnings.simplefilter("error", HiddenFieldsWarning)  # this staff user sees every field
        frame = pk.patrons((client, {"patron_ids": ids}))
    after = counts(emulator)
    return frame, after[0] - requests, after[1] - writes


def test_the_audit_finds_exactly_the_planted_defects(read, emulator):
    frame, _, _ = read
    audit = pk.audit(frame)
    assert dict(Counter(audit.findings["check"])) == {check: emulator.planted[name] for name, check in FOUND_BY.items()}


def test_every_patron_once_with_its_own_values(read, emulator):
    frame, _, _ = read
    patrons = {str(p["PatronID"]): p for p in emulator.patrons()}
    assert sorted(frame["record_key"]) == sorted(patrons)
    by_key = frame.set_index("record_key")
    for key, patron in list(patrons.items())[:5]:
        assert by_key.at[key, "barcode"] == patron["Barcode"]
        assert by_key.at[key, "last_name"] == patron["Registration"]["NameLast"]
        assert by_key.at[key, "branch"] == str(patron["OrganizationID"])


def test_reading_by_id_costs_one_request_a_patron_and_writes_nothing(read):
    frame, requests, writes = read
    staff_login = 1
    assert requests == staff_login + len(frame)
    assert writes == 0


def test_reading_by_barcode_costs_two_requests_a_patron(emulator):
    barcodes = [p["Barcode"] for p in emulator.patrons()[:7]]
    requests, writes = counts(emulator)
    with make_polaris_client(emulator) as client:
        frame = pk.patrons((client, {"barcodes": barcodes}))
    after = counts(emulator)
    assert frame["barcode"].tolist() == barcodes
    staff_login = 1
    assert after == (requests + staff_login + 2 * len(barcodes), writes)


def test_fields_hidden_by_the_server_are_warned_about_not_read_as_missing(emulator):
    patron = emulator.patron(emulator.examples["clean"])
    clerk = emulator.clerk_credentials
    with make_polaris_client(emulator, username=clerk.username, password=clerk.password) as client, \
            pytest.warns(HiddenFieldsWarning, match="1 patrons"):
        frame = pk.patrons((client, {"patron_ids": [patron["PatronID"]]}))
    assert frame[list(ADAPTER.hidden)].isna().all(axis=None)
    assert frame.at[0, "email"] == patron["Registration"]["EmailAddress"]  # not hidden
    assert pk.audit(frame).findings.empty  # hidden fields are no finding


def test_ids_or_barcodes_are_required_and_bad_ones_send_nothing(emulator):
    with make_polaris_client(emulator) as client:
        before = emulator.counters.requests
        for options in ({}, {"patron_ids": []}, {"patron_ids": [0]}, {"patron_ids": ["100001"]},
                        {"barcodes": ["21756000100001", ""]}):
            with pytest.raises(pk.InputError):
                pk.patrons((client, options))
        assert emulator.counters.requests == before
