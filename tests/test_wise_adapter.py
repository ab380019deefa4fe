"""Wise patrons in the canonical frame over HTTP: the planted defects found, the requests it costs, nothing written."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.sandbox import Sandbox
from fsi_patron_kit.workflows.canonical import CANONICAL, COLUMNS, adapter_for

from .conftest import make_client, make_polaris_client, make_wise_client

#: The Wise sandbox's planted defects (``emulator.planted``) and the check that finds each.
#: ``malformed_zipcode`` names none: zip codes are not a canonical column (the adapter lists them as lost).
FOUND_BY = {"username_leading_space": "username_whitespace", "shared_email": "duplicate_email",
            "expired_unblocked": "expired_but_active"}
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(only=["fsi", "wise", "polaris"]) as running:
        yield running


def libraries_of(emulator) -> list[str]:
    return sorted({p["homeLibrary"] for p in emulator.patrons()})


@pytest.fixture(scope="module")
def read(sandbox):
    """The canonical frame of every library, with the requests and writes the reading cost."""
    emulator = sandbox.wise
    requests, writes = emulator.counters.requests, sum(emulator.counters.writes.values())
    with make_wise_client(emulator) as client:
        frame = pk.patrons((client, {"library_ids": libraries_of(emulator)}))
    return frame, emulator.counters.requests - requests, sum(emulator.counters.writes.values()) - writes


def test_the_audit_finds_exactly_the_planted_defects(read, sandbox):
    frame, _, _ = read
    audit = pk.audit(frame)
    severity = {c.name: c.severity for c in audit.checks}
    found = Counter(c for c in audit.findings["check"] if severity[c] != "info")
    planted = sandbox.wise.planted
    assert dict(found) == {check: planted[name] for name, check in FOUND_BY.items()}


def test_one_row_per_patron_with_every_membership_library_read(read, sandbox):
    frame, _, _ = read
    patrons = sandbox.wise.patrons()
    assert sorted(frame["record_key"]) == sorted(p["patronSystemId"] for p in patrons)
    cards = {p["patronSystemId"]: p["libraryCards"][0]["cardNumber"] for p in patrons}
    assert frame.set_index("record_key")["barcode"].to_dict() == cards


def test_reading_costs_three_requests_a_patron_and_writes_nothing(read, sandbox):
    frame, requests, writes = read
    patrons = sandbox.wise.patrons()
    in_library = Counter(lib for p in patrons for lib in {p["homeLibrary"], *(m["libraryId"] for m in p["memberships"])})
    staff_login = 1
    lookups = requests - staff_login - 3 * len(frame)  # three a patron: proxy login, patron information, blocks
    # Card lookup pages through the shared pager: every page with data and the probe that ends
    # it, plus at most a window of pages already asked for beyond the end (8 workers).
    needed = sum(count // 100 + 1 for count in in_library.values())
    assert needed <= lookups <= needed + 8 * len(in_library)
    assert writes == 0


def test_a_running_membership_is_active_until_the_end_of_the_servers_day(read, sandbox):
    frame, _, _ = read
    showcase = sandbox.wise.showcase["member"]
    row = frame.set_index("record_key").loc[showcase["patron_system_id"]]
    assert bool(row["active"]) is True
    ends = pd.Timestamp(f"{showcase['membership_end']}T23:59:59", tz="Europe/Amsterdam").tz_convert("UTC")
    assert row["expires"] == ends


def test_library_ids_are_required_and_nothing_is_sent_without_them(sandbox):
    emulator = sandbox.wise
    with make_wise_client(emulator) as client:
        before = emulator.counters.requests
        with pytest.raises(pk.InputError) as refused:
            pk.patrons(client)
        with pytest.raises(pk.InputError):
            pk.patrons((client, {"library_ids": ["I018", ""]}))
        assert refused.value.field == "library_ids"
        assert emulator.counters.requests == before


def test_patrons_of_three_vendors_in_one_frame_of_the_declared_dtypes(sandbox):
    polaris_ids = [p["PatronID"] for p in sandbox.polaris.patrons()][:20]
    with make_wise_client(sandbox.wise) as wise, make_polaris_client(sandbox.polaris) as polaris, \
            make_client(sandbox.fsi) as fsi:
        frame = pk.patrons((wise, {"library_ids": ["I410"]}), (polaris, {"patron_ids": polaris_ids}), fsi)
    assert tuple(frame.columns) == COLUMNS
    assert frame.dtypes.astype(str).to_dict() == {c.name: str(c.dtype) for c in CANONICAL.columns}
    counts = frame["vendor"].value_counts().to_dict()
    assert counts["polaris"] == 20 and counts["fsi"] == len(sandbox.fsi.records())
    assert counts["wise"] == sum(1 for p in sandbox.wise.patrons()
                                 if "I410" in {p["homeLibrary"], *(m["libraryId"] for m in p["memberships"])})


@pytest.mark.parametrize("vendor", ["wise", "polaris"])
def test_each_vendors_mapping_is_documented_as_its_adapter_maps(vendor):
    adapter = adapter_for(vendor)
    page = (DOCS / "vendors" / f"{vendor}.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| (`[^`]+`|—) \|", page.split("| Canonical column |", 1)[1], re.MULTILINE)
    documented = [(column, None if field == "—" else field.strip("`")) for column, field in rows]
    assert documented == [(column, field) for column, field, _ in adapter.mapping]
    assert [column for column, _ in documented] == list(COLUMNS)
