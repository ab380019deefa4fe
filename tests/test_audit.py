"""The audit over HTTP: exactly the planted defects, nothing on clean data, masked exports, validate()."""

from __future__ import annotations

import csv
from collections import Counter

import openpyxl
import pandas as pd
import pytest

import fsi_patron_kit as pk
from fsi_patron_kit.workflows import checks as check_registry
from fsi_patron_kit.workflows.canonical import canonical_frame

NOW = pd.Timestamp("2026-06-01T12:00:00Z")
ALICE = "2b4c6d8e-1a3f-4c5b-9d7e-0f1a2b3c4d5e"
BOB = "3c5d7e9f-2b4a-4d6c-8e8f-1a2b3c4d5e6f"


@pytest.fixture(scope="module")
def result(audit_frame):
    return pk.audit(audit_frame)


def per_vendor(audit: pk.Audit, vendor: str) -> dict[str, int]:
    return dict(Counter(audit.findings.loc[audit.findings["vendor"] == vendor, "check"]))


@pytest.mark.parametrize("vendor", ["fsi", "folio"])
def test_the_audit_finds_exactly_what_was_planted(result, audit_sandbox, vendor):
    planted = getattr(audit_sandbox, vendor).planted
    names = {c.name for c in result.checks}
    assert per_vendor(result, vendor) == {name: count for name, count in planted.items() if name in names}


def test_folio_inactive_accounts_are_the_planted_inactive_users(audit_sandbox):
    # The documentation's sum: circulating users made inactive, and remote patrons that expired.
    planted = audit_sandbox.folio.planted
    assert planted["inactive_account"] == (planted["inactive"] + planted["remote_expired_yesterday"]
                                           + planted["remote_expired_earlier"])
    assert planted["inactive_account"] == sum(1 for u in audit_sandbox.folio.users() if not u["active"])


def clean_records() -> pd.DataFrame:
    return canonical_frame({
        "vendor": ["fsi", "fsi", "fsi", "folio", "folio"],
        "tenant": ["school.example", "school.example", "school.example", "uni", "uni"],
        "record_key": ["0000001", "0000002", "0000003", ALICE, BOB],
        "barcode": ["0000001", "0000002", "0000003", "218470001", "218470002"],
        "username": ["asmith1", "bjones2", "cwu3", "asmith", "bkhan"],
        "external_id": ["SMS1", "SMS2", "FAM3", "U-ALICE", "U-BOB"],
        "first_name": ["Alice", "Ben", "Chen", "Alicia", "Bilal"],
        "last_name": ["Smith", "Jones", "Wu", "Smith", "Khan"],
        "email": ["asmith1@school.example", "bjones2@school.example", "cwu@example.org", "alicia@uni.example",
                  "bkhan@uni.example"],
        "role": ["STUDENT", "TEACHER", "PARENT", "undergrad", "staff"],
        "class_grade": ["9B", None, None, None, None],
        "active": [None, None, None, True, True],
        "expires": [None, None, None, "2027-05-31T23:59:59Z", "2026-12-31T23:59:59Z"],
        "open_loans": [None, None, None, None, 0],
    }, 5)


def test_no_finding_on_a_clean_record_set():
    clean = pk.audit(clean_records(), now=NOW)
    assert clean.findings.empty and clean.summary["total"].sum() == 0


def test_each_check_finds_its_own_defect():
    dirty = clean_records()
    dirty.loc[0, "class_grade"] = "9 |"
    dirty.loc[1, "barcode"] = "0000001"
    dirty.loc[3, "active"] = True
    dirty.loc[3, "expires"] = pd.Timestamp("2026-05-01T00:00:00Z")
    dirty.loc[4, "active"] = False
    dirty.loc[4, "expires"] = pd.Timestamp("2026-01-31T23:59:59Z")
    dirty.loc[4, "open_loans"] = 2
    found = pk.audit(dirty, now=NOW, personal=True).findings
    assert sorted(found["check"]) == sorted(["classgrade_trailing_pipe", "duplicate_barcode", "duplicate_barcode",
                                             "expired_but_active", "inactive_account", "inactive_with_open_loans"])
    assert found.loc[found["check"] == "classgrade_trailing_pipe", "detail"].tolist() == ["reads as 9"]
    assert found.loc[found["check"] == "expired_but_active", "detail"].tolist() == ["expired 31 days ago"]
    assert found.loc[found["check"] == "inactive_account", "detail"].tolist() == ["expired 120 days ago"]  # Jan 31 23:59:59 to Jun 1 noon


def test_the_same_person_differing_between_systems():
    records = clean_records()
    records.loc[3, "external_id"] = "SMS1"  # Alice in both systems by external id: first name, email, barcode differ
    records.loc[4, "email"] = "BJONES2@school.example "  # Ben by email: names differ
    found = pk.audit(records, checks=["cross_system_conflict"], now=NOW).findings
    pairs = set(zip(found["record_key"], found["field"], strict=True))
    assert pairs == {("0000001", "first_name"), (ALICE, "first_name"), ("0000001", "email"), (ALICE, "email"),
                     ("0000001", "barcode"), (ALICE, "barcode"),
                     ("0000002", "first_name"), (BOB, "first_name"), ("0000002", "last_name"), (BOB, "last_name"),
                     ("0000002", "barcode"), (BOB, "barcode")}
    assert set(found["detail"]) == {"differs between systems (matched by external id)",
                                    "differs between systems (matched by email)"}


def test_a_users_own_check(audit_frame):
    @pk.check("no_room_for_teacher", severity="info", description="A teacher without a room", field="room")
    def no_room_for_teacher(patrons):
        """Teachers need a room for class sets."""
        return patrons["role"].eq("TEACHER").fillna(False) & patrons["room"].isna()

    try:
        found = pk.audit(audit_frame, checks=["no_room_for_teacher"])
        expected = int(((audit_frame["role"] == "TEACHER") & audit_frame["room"].isna()).sum())
        assert len(found.findings) == expected and found.summary.loc["no_room_for_teacher", "severity"] == "info"
        listed = pk.available_checks().set_index("check")
        assert listed.loc["no_room_for_teacher", "docs"] == "Teachers need a room for class sets."
        with pytest.raises(pk.InputError):
            pk.check("no_room_for_teacher", description="again", field="room")(no_room_for_teacher)
    finally:
        check_registry._registry.pop("no_room_for_teacher")


def test_every_check_has_a_docs_entry_and_a_severity():
    listed = pk.available_checks()
    assert listed["docs"].str.len().gt(20).all() and set(listed["severity"]) <= {"error", "warning", "info"}
    with pytest.raises(pk.InputError):
        pk.check("x", severity="fatal", description="d", field="email")
    with pytest.raises(pk.InputError):
        pk.audit(pd.DataFrame({"email": []}))
    with pytest.raises(pk.InputError):
        pk.audit(clean_records(), checks=["no_such_check"])


# -- masking and exports ----------------------------------------------------------------------------
def personal_values(patrons: pd.DataFrame) -> tuple[set[str], set[str]]:
    emails = {e.strip() for e in patrons["email"].dropna() if "@" in e}
    names = {n.strip() for column in ("first_name", "last_name") for n in patrons[column].dropna()}
    return emails, names


def test_findings_are_masked_unless_asked(result, audit_frame):
    emails, _ = personal_values(audit_frame)
    shown = result.findings
    email_values = shown.loc[shown["field"] == "email", "value"].dropna()
    assert not set(email_values) & emails
    assert email_values.str.fullmatch(r".\*\*\*(@.+)?").all()
    names = shown.loc[shown["field"].isin(["first_name", "last_name"]), "value"]
    assert names.str.fullmatch(r"(\S\. ?)+").all()
    revealed = pk.audit(audit_frame, checks=["duplicate_email"], personal=True).findings
    assert set(revealed["value"]) <= emails


def test_masked_exports_hold_no_email_or_name(result, audit_frame, tmp_path):
    emails, names = personal_values(audit_frame)
    text = result.to_csv(tmp_path / "findings.csv").read_text()
    assert not [e for e in emails if e in text]
    with open(tmp_path / "findings.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.findings)
    assert not {cell.strip() for row in rows for cell in row.values()} & names
    book = openpyxl.load_workbook(result.to_excel(tmp_path / "audit.xlsx"), read_only=True)
    assert book.sheetnames == ["summary", "findings"]
    cells = {str(c).strip() for sheet in book for row in sheet.iter_rows(values_only=True) for c in row
             if c is not None}
    assert not cells & names and not [e for e in emails if any(e in c for c in cells)]
    unmasked = result.to_csv(tmp_path / "raw.csv", mask=False).read_text()
    assert [e for e in emails if e in unmasked]  # the switch works: without masking the emails are there


# -- summary, chart, display --------------------------------------------------------------------------
def test_summary_counts_per_check_and_vendor(result):
    summary = result.summary
    assert list(summary.columns) == ["severity", "description", "fsi", "folio", "total"]
    assert summary["total"].sum() == len(result.findings)
    assert (summary["fsi"] + summary["folio"] == summary["total"]).all()
    assert summary["severity"].tolist() == sorted(summary["severity"], key=["error", "warning", "info"].index)


def test_chart_and_html_put_the_summary_first(result):
    figure = result.chart()
    axes = figure.axes[0]
    assert len(axes.patches) == 2 * int((result.summary["total"] > 0).sum())  # one bar per vendor and check
    page = result._repr_html_()
    assert page.index("<table") < page.index("<details>") and "duplicate_email" in page


# -- validate -----------------------------------------------------------------------------------------
def test_validate_lists_every_bad_row_and_sends_nothing(audit_frame, audit_sandbox):
    before = (audit_sandbox.fsi.counters.requests, audit_sandbox.folio.counters.requests)
    fsi_rows = audit_frame.index[audit_frame["vendor"] == "fsi"][:4]
    folio_rows = audit_frame.index[audit_frame["vendor"] == "folio"][:3]
    writes = audit_frame.loc[fsi_rows.append(folio_rows), ["vendor", "record_key", "email", "role", "class_grade"]].copy()
    writes["email"] = ["ok@school.example", "not an email", "ok2@school.example", "x@@y.org",
                       "ok@uni.example", "still wrong", "ok3@uni.example"]
    writes["role"] = ["STUDENT", "STUDENT", "pupil", "TEACHER", "undergrad", "staff", "faculty"]
    writes["class_grade"] = ["7A", "7B", None, None, None, "9A", None]
    writes.iloc[6, writes.columns.get_loc("record_key")] = "not-a-uuid"
    refused = pk.validate(writes)
    found = set(zip(refused["position"], refused["record_key"], refused["field"], strict=True))
    keys = writes["record_key"].tolist()
    assert found == {(1, keys[1], "email"), (2, keys[2], "role"), (3, keys[3], "email"), (5, keys[5], "email"),
                     (5, keys[5], "class_grade"), (6, "not-a-uuid", "record_key")}
    assert refused["rule"].notna().all() and not set(refused["value"].dropna()) & {"not an email", "x@@y.org"}
    assert (audit_sandbox.fsi.counters.requests, audit_sandbox.folio.counters.requests) == before


def test_validate_reads_change_lists(result):
    changes = result.fixes()
    fixable = ["stray_whitespace", "username_whitespace", "classgrade_trailing_pipe"]
    assert len(changes) == result.summary.loc[fixable, "total"].sum()
    pipes = changes["check"] == "classgrade_trailing_pipe"
    assert (changes.loc[~pipes, "after"] == changes.loc[~pipes, "before"].str.strip()).all()
    assert (changes.loc[pipes, "after"] == changes.loc[pipes, "before"].str.rstrip(" |")).all()
    assert pk.validate(changes).empty
    broken = changes.assign(after=changes["after"].where(changes["field"] != "username", "  "))
    broken.loc[0, "field"] = "open_loans"
    refused = pk.validate(broken)
    assert refused["position"].tolist() == [0] and refused["rule"].str.contains("no field").all()
    with pytest.raises(pk.InputError):
        pk.validate(pd.DataFrame({"vendor": ["fsi"], "record_key": ["1"], "nickname": ["x"]}))
    unknown = pk.validate(pd.DataFrame({"vendor": ["koha"], "record_key": ["1"], "email": ["a@b.org"]}))
    assert unknown["field"].tolist() == ["vendor"]
