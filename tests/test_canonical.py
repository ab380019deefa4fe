"""The canonical patron audit_frame: every vendor's patrons in the same columns, read without writing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.workflows.canonical import CANONICAL, COLUMNS, adapter_for, canonical_frame

from .conftest import make_client, make_edge_client, make_folio_client


def test_columns_and_dtypes_are_declared(audit_frame):
    assert tuple(audit_frame.columns) == COLUMNS
    assert {c.name: c.dtype for c in CANONICAL.columns} == {name: str(dtype) for name, dtype in audit_frame.dtypes.items()}


def test_every_patron_of_both_systems_once(audit_frame, audit_sandbox):
    fsi = audit_frame[audit_frame["vendor"] == "fsi"]
    folio = audit_frame[audit_frame["vendor"] == "folio"]
    assert sorted(fsi["record_key"]) == sorted(r["barcode"] for r in audit_sandbox.fsi.records())
    assert sorted(folio["record_key"]) == sorted(u["id"] for u in audit_sandbox.folio.users())
    assert set(folio["tenant"]) == {audit_sandbox.folio.tenant}
    assert len(audit_frame) == len(audit_sandbox.fsi.records()) + len(audit_sandbox.folio.users())


def test_fsi_fields_land_in_their_columns(audit_frame, audit_sandbox):
    fsi = audit_frame[audit_frame["vendor"] == "fsi"].set_index("record_key")
    for record in audit_sandbox.fsi.records()[:50]:
        row = fsi.loc[record["barcode"]]
        assert (row["last_name"], row["external_id"], row["role"]) == (record["surname"], record["externalid"],
                                                                      record["role"])
        assert row["email"] == record["email"] if record["email"] else row.isna()["email"]
    assert fsi["active"].isna().all() and fsi["expires"].isna().all()  # FSI has neither: missing, not False


def test_blank_is_missing(audit_frame, audit_sandbox):
    blank = sum(1 for r in audit_sandbox.fsi.records() if not r["email"])
    assert audit_frame.loc[audit_frame["vendor"] == "fsi", "email"].isna().sum() == blank == audit_sandbox.fsi.planted["missing_email"]


def test_folio_fields_and_open_loans_of_inactive_users(audit_frame, audit_sandbox):
    folio = audit_frame[audit_frame["vendor"] == "folio"].set_index("record_key")
    users = {u["id"]: u for u in audit_sandbox.folio.users()}
    inactive = {i for i, u in users.items() if not u["active"]}
    assert set(folio.index[folio["active"] == False]) == inactive  # noqa: E712 - a nullable boolean column
    assert set(folio.index[folio["open_loans"].notna()]) == inactive  # read for inactive users only
    open_loans = {i: sum(1 for loan in audit_sandbox.folio.loans() if loan["userId"] == i and loan["status"] == "Open")
                  for i in inactive}
    assert folio.loc[sorted(inactive), "open_loans"].tolist() == [open_loans[i] for i in sorted(inactive)]
    groups = {v: k for k, v in audit_sandbox.folio.patron_groups.items()}
    some = list(users)[:30]
    assert folio.loc[some, "role"].tolist() == [groups[users[i]["patronGroup"]] for i in some]
    assert folio.loc[some, "link"].tolist() == [f"{audit_sandbox.folio.gateway_url}/users/{i}" for i in some]


def test_reading_never_writes(audit_sandbox):
    before = (audit_sandbox.fsi.records(), audit_sandbox.folio.users(), sum(audit_sandbox.fsi.counters.writes.values()),
              sum(audit_sandbox.folio.counters.writes.values()))
    with make_client(audit_sandbox.fsi) as fsi, make_folio_client(audit_sandbox.folio) as folio:
        pk.patrons(fsi, folio, open_loans="all")
    after = (audit_sandbox.fsi.records(), audit_sandbox.folio.users(), sum(audit_sandbox.fsi.counters.writes.values()),
             sum(audit_sandbox.folio.counters.writes.values()))
    assert after == before


def test_the_edge_client_cannot_list_users(audit_sandbox):
    with make_edge_client(audit_sandbox.folio) as edge, pytest.raises(pk.InputError) as caught:
        pk.patrons(edge)
    assert caught.value.field == "client"


def test_bad_arguments_are_refused():
    with pytest.raises(pk.InputError):
        pk.patrons()
    with pytest.raises(pk.InputError):
        canonical_frame({"nickname": ["x"]}, 1)


def test_canonical_frame_fills_what_is_not_given():
    built = canonical_frame({"vendor": "fsi", "record_key": ["1", "2"], "email": ["", " a@b.org"]}, 2)
    assert built["email"].isna().tolist() == [True, False] and built.at[1, "email"] == " a@b.org"
    assert built["active"].isna().all() and built["vendor"].tolist() == ["fsi", "fsi"]


DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("vendor", ["fsi", "folio"])
def test_each_vendors_mapping_is_documented_as_its_adapter_maps(vendor):
    adapter = adapter_for(vendor)
    page = (DOCS / "vendors" / f"{vendor}.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| (`[^`]+`|—) \|", page.split("| Canonical column |", 1)[1], re.MULTILINE)
    documented = [(column, None if field == "—" else field.strip("`")) for column, field in rows]
    assert documented == [(column, field) for column, field, _ in adapter.mapping]
    assert [column for column, _ in documented] == list(COLUMNS)


def test_every_check_has_a_docs_entry():
    page = (DOCS / "audit.md").read_text()
    assert all(f"### `{name}`" in page for name in pk.available_checks()["check"])
