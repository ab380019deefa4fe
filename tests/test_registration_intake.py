"""A whole intake over HTTP: every row checked first, duplicates found before writing, a
journal that a killed run resumes from with nobody created twice (the emulators' counters)."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from fsi_patron_kit import InputError
from fsi_patron_kit.workflows.intake import check_intake, intake

from .killing import kill_partway
from .test_wise_client import NEW


def students(count: int) -> pd.DataFrame:
    return pd.DataFrame([{"username": f"new.student{n}", "first_name": f"New{n}", "surname": "Student",
                          "email": f"new.student{n}@school.example", "role": "STUDENT", "class_grade": "7"}
                         for n in range(count)])


def usernames(emulator) -> Counter:
    return Counter(r["username"] for r in emulator.records())


def test_every_bad_row_is_listed_before_anything_is_sent(client, emulator, tmp_path):
    frame = students(5)
    frame.loc[1, "role"] = "PRINCIPAL"
    frame.loc[3, ["email", "surname"]] = ["nope", ""]
    before = emulator.counters.requests
    refusals = check_intake(frame, client)
    assert refusals[["row", "field"]].values.tolist() == [[2, "role"], [4, "surname"], [4, "email"]]
    assert emulator.counters.requests == before


def test_an_fsi_intake_from_csv_with_a_duplicate_and_a_bad_row(client, emulator, tmp_path):
    frame = students(12)
    existing = emulator.records()[0]
    frame.loc[4, "email"] = existing["email"]  # someone the school already has
    frame.loc[9] = {**frame.loc[2].to_dict(), "username": "again.student2"}  # a row repeating row 3's person
    frame.loc[7, "role"] = "PRINCIPAL"  # a bad row
    csv = tmp_path / "students.csv"
    frame.to_csv(csv, index=False)
    done = intake(csv, client, journal=tmp_path / "intake.sqlite")
    assert done.totals == {"created": 9, "already existed": 2, "refused": 1, "unknown": 0, "pending": 0}
    report = done.report.set_index("row")
    assert report.at[5, "ids"] == {"found": existing["barcode"]}
    assert report.at[10, "ids"]["found"] == report.at[3, "ids"]["barcode"]
    assert report.at[8, "detail"].startswith("role: must be one of STUDENT")
    assert sum(emulator.counters.writes.values()) == 9
    again = intake(csv, client, journal=tmp_path / "intake.sqlite")  # a finished journal sends nothing
    assert again.totals == done.totals and sum(emulator.counters.writes.values()) == 9


CHILD = """
import sys
import pandas as pd
from fsi_patron_kit import fsi
from fsi_patron_kit.workflows.intake import intake
url, folder = sys.argv[1], sys.argv[2]
with fsi.Client(url=url, apikey="sandbox-fsi-apikey", apisecret="sandbox-fsi-apisecret") as client:
    intake(folder + "/students.csv", client, journal=folder + "/intake.sqlite")
"""


def test_an_intake_killed_partway_resumes_and_creates_nobody_twice(client, emulator, tmp_path):
    frame = students(60)
    frame.to_csv(tmp_path / "students.csv", index=False)
    emulator.knobs.latency = 0.01
    emulator.knobs.reset_after_rate = 0.05  # answers lost after FSI wrote: the read-back decides
    journal = tmp_path / "intake.sqlite"
    assert kill_partway(CHILD, emulator.url, str(tmp_path), journal=journal, after=10) < 60  # killed partway
    done = intake(tmp_path / "students.csv", client, journal=journal)
    while done.totals["unknown"] or done.totals["pending"]:  # answers lost in this run too: resume again
        done = intake(tmp_path / "students.csv", client, journal=journal)
    emulator.knobs.clear()
    assert done.totals["created"] == 60
    held = usernames(emulator)
    assert [name for name in frame["username"] if held[name] != 1] == []  # each student exactly once


def test_a_wise_intake_finds_the_member_it_already_has(wise_client, wise_emulator, tmp_path):
    people = pd.DataFrame([{**NEW, "username": f"new.member{n}", "email_address": f"new.member{n}@example.org"}
                           for n in range(4)])
    people.loc[3, "email_address"] = people.loc[0, "email_address"]
    done = intake(people, wise_client, journal=tmp_path / "wise.sqlite", library_id="I018", subscription_id=45)
    assert done.totals["created"] == 3 and done.totals["already existed"] == 1
    report = done.report.set_index("row")
    assert report.at[4, "ids"] == {"found": report.at[1, "ids"]["patron_system_id"]}
    assert wise_emulator.counters.actions["subscribe_new"] == 3


def test_a_folio_intake_needs_the_edge_and_registers_through_it(folio_client, edge_client, folio_emulator,
                                                                 tmp_path):
    people = pd.DataFrame([{"generalInfo.firstName": f"Reader{n}", "generalInfo.lastName": "Remote",
                            "contactInfo.email": f"reader{n}@example.org", "addressInfo.city": "Boston",
                            "preferredEmailCommunication": "Programs;Services"} for n in range(3)])
    with pytest.raises(InputError) as refused:
        intake(people, folio_client, journal=tmp_path / "folio.sqlite")
    assert refused.value.field == "edge"
    done = intake(people, folio_client, journal=tmp_path / "folio.sqlite", edge=edge_client)
    assert done.totals["created"] == 3
    for n in range(3):
        user = folio_client.registration_status(f"reader{n}@example.org")
        assert done.report.at[n, "ids"]["user_id"] == user.id
