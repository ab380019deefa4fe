"""The emulators behave like servers: requests overlap, reads do not wait for each other, and a
search page costs its own records, not the whole data set (counted by the emulator, not timed)."""

from __future__ import annotations

import threading

import pytest
import requests

from fsi_patron_kit.sandbox import FolioEmulator, FsiEmulator


def fsi_session(emulator: FsiEmulator) -> tuple[requests.Session, str]:
    """A plain session logged in with form posts, and its token."""
    session = requests.Session()
    code = session.post(emulator.endpoint, data={"action": "getcode", "apikey": emulator.credentials.apikey},
                        timeout=10).json()["code"]
    token = session.post(emulator.endpoint, timeout=10, data={
        "action": "gettoken", "code": code, "apisecret": emulator.credentials.apisecret}).json()["token"]
    return session, token


def export(emulator: FsiEmulator, session: requests.Session, token: str, **search: str) -> list[str]:
    """Every page of a search, page 100, until an empty page: the barcodes in order."""
    barcodes, page = [], 1
    while True:
        items = session.post(emulator.endpoint, timeout=10, data={
            "action": "searchpatron", "token": token, "pagenumber": page, "pagecount": 100, **search}).json()["item"]
        if not items:
            return barcodes
        barcodes += [item["barcode"] for item in items]
        page += 1


def in_parallel(*calls) -> list:
    results = [None] * len(calls)

    def run(n: int) -> None:
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def fsi_emulator():
    running = FsiEmulator(patrons=2000).start()
    yield running
    running.stop()


@pytest.fixture
def folio_emulator():
    running = FolioEmulator().start()
    yield running
    running.stop()


def test_two_slow_fsi_requests_are_served_at_once(fsi_emulator):
    fsi_emulator.knobs.latency = 0.5
    key = fsi_emulator.credentials.apikey
    ask = lambda: requests.post(fsi_emulator.endpoint, data={"action": "getcode", "apikey": key}, timeout=10)  # noqa: E731
    answers = in_parallel(ask, ask)
    assert [a.status_code for a in answers] == [200, 200]
    assert fsi_emulator.counters.requests == 2
    assert fsi_emulator.counters.peak_in_flight == 2  # both were in the emulator at the same moment


def test_two_slow_folio_requests_on_its_two_servers_are_served_at_once(folio_emulator):
    folio_emulator.knobs.latency = 0.5
    params = {"apikey": folio_emulator.edge_apikey}
    list_remote = lambda: requests.get(folio_emulator.edge_url + "/patron/account/external-patrons",  # noqa: E731
                                       params=params, timeout=10)
    answers = in_parallel(list_remote, list_remote)
    assert [a.status_code for a in answers] == [200, 200]
    assert folio_emulator.counters.peak_in_flight == 2


def test_one_request_at_a_time_peaks_at_one(fsi_emulator):
    for _ in range(3):
        requests.post(fsi_emulator.endpoint, data={"action": "getcode", "apikey": "x"}, timeout=10)
    assert fsi_emulator.counters.peak_in_flight == 1


def test_reads_do_not_wait_for_a_reader_but_writes_do(fsi_emulator):
    session, token = fsi_session(fsi_emulator)
    school = fsi_emulator.state.school
    written = []
    write = threading.Thread(target=lambda: written.append(session.post(fsi_emulator.endpoint, timeout=10, data={
        "action": "setpatron", "token": token, "keyfield": "barcode", "itemindex": 1, "barcode": "0000007",
        "room": "R999"}).json()))
    with school.lock.reading():  # a long read in progress
        reader = requests.Session()
        page = reader.post(fsi_emulator.endpoint, timeout=10, data={
            "action": "searchpatron", "token": token, "pagenumber": 1, "pagecount": 5}).json()
        assert len(page["item"]) == 5  # answered while the read lock was held
        write.start()
        write.join(timeout=0.5)
        assert write.is_alive() and not written  # the write waits for the reader
    write.join(timeout=10)
    assert written[0]["result"] is True and written[0]["item"][0]["room"] == "R999"


def test_an_export_scans_each_record_once_whatever_the_size():
    for size in (2_000, 20_000):
        emulator = FsiEmulator(patrons=size).start()
        try:
            session, token = fsi_session(emulator)
            before = emulator.counters.scanned
            barcodes = export(emulator, session, token)
            assert len(barcodes) == len(set(barcodes)) == size
            assert emulator.counters.scanned - before == size  # each page touched only its own records
        finally:
            emulator.stop()


def test_a_filtered_export_scans_once_then_pages_from_the_view(fsi_emulator):
    session, token = fsi_session(fsi_emulator)
    wanted = [r["barcode"] for r in fsi_emulator.records() if "smith" in r["surname"].lower()]
    assert wanted
    structured = {"keyword[0][tokens][0][key]": "findform_key", "keyword[0][tokens][0][value]": "surname",
                  "keyword[0][tokens][1][key]": "findform_value", "keyword[0][tokens][1][value]": "smith",
                  "keyword[0][tokens][2][key]": "findform_condition", "keyword[0][tokens][2][value]": "AND",
                  "keyword[0][tokens][3][key]": "findform_method", "keyword[0][tokens][3][value]": "CONTAIN",
                  "keyword[0][tokens][4][key]": "findform_type", "keyword[0][tokens][4][value]": "STRING"}
    before = fsi_emulator.counters.scanned
    assert export(fsi_emulator, session, token, **structured) == wanted
    assert fsi_emulator.counters.scanned - before == 2000 + len(wanted)  # one scan, then each page's records
    before = fsi_emulator.counters.scanned
    assert export(fsi_emulator, session, token, **structured) == wanted
    assert fsi_emulator.counters.scanned - before == len(wanted)  # the view is kept between exports


def test_a_write_drops_the_search_views(fsi_emulator):
    session, token = fsi_session(fsi_emulator)
    assert export(fsi_emulator, session, token, keyword="zzyzx") == []
    created = session.post(fsi_emulator.endpoint, timeout=10, data={
        "action": "setpatron", "token": token, "keyfield": "username", "allownew": "true", "itemindex": 1,
        "username": "zzyzx1", "firstname": "Zed", "surname": "Zzyzx", "role": "STUDENT"}).json()
    assert created["result"] is True
    assert export(fsi_emulator, session, token, keyword="zzyzx") == [created["item"][0]["barcode"]]
