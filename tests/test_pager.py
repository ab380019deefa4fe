"""The shared pager: every row once, in order, under 429s, resets and silent page-size caps.

FSI's numbered pages go through ``fsi.Client.search``; offset/limit paging (mod-users' and
Wise's) goes through a small mod-users-shaped listing served over real HTTP by the sandbox's
own server and fault layer.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pandas as pd
import pytest
from werkzeug.wrappers import Request, Response

import fsi_patron_kit as pk
from fsi_patron_kit import fsi
from fsi_patron_kit._http import Call, Transport
from fsi_patron_kit._pager import Offsets, PageNumbers, Pager, Slice
from fsi_patron_kit.errors import InputError
from fsi_patron_kit.fsi.models import WIRE_NAMES
from fsi_patron_kit.sandbox._server import Counters, EmulatorServer, FaultLayer, Knobs

from .conftest import FAST_RETRY, make_client


def expected_frame(records: list[dict]) -> pd.DataFrame:
    """The emulator's own records as the document's columns, blanks as missing."""
    frame = pd.DataFrame.from_records(records, columns=list(WIRE_NAMES.values()))
    frame.columns = list(WIRE_NAMES)
    return frame.replace("", None).astype("string")


def assert_same_rows(frame: pd.DataFrame, records: list[dict]) -> None:
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected_frame(records))


# -- FSI: numbered pages -----------------------------------------------------------------------------
def test_a_concurrent_search_returns_every_patron_once_in_order(client, emulator):
    frame = client.search(page_size=40, workers=8)
    assert len(frame) == 1500  # the emulator's documented default size
    assert_same_rows(frame, emulator.records())


@pytest.mark.parametrize("cap", [37, 100, 1])
def test_a_server_capping_the_page_size_silently_loses_nothing(client, emulator, cap):
    emulator.page_cap = cap
    frame = client.search(page_size=250, workers=6, max_rows=None) if cap > 1 else client.search(
        page_size=250, workers=6, max_rows=60)
    records = emulator.records()
    assert_same_rows(frame, records if cap > 1 else records[:60])


def test_429s_slow_the_search_down_instead_of_failing_it(client, emulator):
    client.login()
    emulator.knobs.retry_after = 0
    emulator.knobs.fail_next("429", 20)  # more than one page's retries (4 attempts) can absorb
    frame = client.search(page_size=100, workers=8)
    assert emulator.counters.faults["429"] == 20
    assert_same_rows(frame, emulator.records())


def test_a_429_holds_back_every_worker_for_its_retry_after(emulator):
    with make_client(emulator, retry=FAST_RETRY) as client:
        client.login()
        emulator.knobs.latency = 0.02
        emulator.knobs.retry_after = 1
        emulator.knobs.fail_next("429", 1)
        frame = client.search(page_size=50, workers=8)
        exchanges = [e for e in client.history if e.action == "searchpatron"]
    assert_same_rows(frame, emulator.records())
    limited = next(e for e in exchanges if e.status == 429)
    answered = limited.started + timedelta(milliseconds=limited.elapsed_ms)
    # Requests already on their way when the 429 came finish; none starts during the wait.
    quiet = [e for e in exchanges
             if answered + timedelta(seconds=0.3) < e.started < answered + timedelta(seconds=0.8)]
    assert quiet == []
    assert any(e.started >= answered + timedelta(seconds=0.9) for e in exchanges)


def test_connection_resets_are_retried_and_no_row_is_doubled(client, emulator):
    client.login()
    emulator.knobs.fail_next("reset", 3)  # fewer than the retry policy's 4 attempts of one request
    frame = client.search(page_size=100, workers=8)
    assert emulator.counters.faults["reset"] == 3
    assert_same_rows(frame, emulator.records())


def test_max_rows_with_workers_gives_the_first_rows(client, emulator):
    frame = client.search(page_size=50, workers=8, max_rows=275)
    assert_same_rows(frame, emulator.records()[:275])
    assert emulator.counters.actions["searchpatron"] == 6  # 6 pages of 50 hold 275 rows; none asked beyond


def test_the_search_ends_at_the_first_empty_page_and_lets_the_window_beyond_finish(client, emulator):
    client.search(page_size=500, workers=4)  # 1,500 patrons: pages 1-3 full, page 4 empty
    assert emulator.counters.actions["searchpatron"] == 3 + 1 + 3  # the pages beyond the end already asked for


def test_pages_are_lazy_one_request_per_page(client, emulator):
    client.login()
    pages = client.search_pages(page_size=100)
    assert emulator.counters.actions["searchpatron"] == 0
    first = next(pages)
    assert [len(first), first.number] == [100, 1]
    assert emulator.counters.actions["searchpatron"] == 1
    assert list(first.to_frame()["barcode"]) == [r["barcode"] for r in emulator.records()[:100]]


def test_the_pager_iterates_rows_lazily(client, emulator):
    rows = iter(client.pager(page_size=10))
    assert [next(rows)["barcode"] for _ in range(12)] == [r["barcode"] for r in emulator.records()[:12]]
    assert emulator.counters.actions["searchpatron"] == 2


@pytest.mark.parametrize("workers", [0, 65, 2.5, True, "8"])
def test_bad_workers_are_refused_before_anything_is_sent(client, emulator, workers):
    with pytest.raises(InputError) as caught:
        client.search(workers=workers)
    assert caught.value.field == "workers"
    assert emulator.counters.requests == 0


@pytest.mark.parametrize("progress", ["loud", 1, None])
def test_a_bad_progress_switch_is_refused_before_anything_is_sent(client, emulator, progress):
    with pytest.raises(InputError) as caught:
        client.search(progress=progress)
    assert caught.value.field == "progress"
    assert emulator.counters.requests == 0


def test_workers_is_a_profile_setting(monkeypatch, tmp_path, emulator):
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PATRON_KIT_SCHOOL_VENDOR", "fsi")
    monkeypatch.setenv("PATRON_KIT_SCHOOL_URL", emulator.url)
    monkeypatch.setenv("PATRON_KIT_SCHOOL_WORKERS", "3")
    monkeypatch.setenv("PATRON_KIT_SCHOOL_APIKEY", emulator.credentials.apikey)
    monkeypatch.setenv("PATRON_KIT_SCHOOL_APISECRET", emulator.credentials.apisecret)
    with pk.connect(profile="school") as client:
        assert client.workers == 3
        assert client.pager().workers == 3
        assert len(client.search(page_size=500)) == 1500
    assert isinstance(client, fsi.Client)


# -- offset / limit paging (mod-users, Wise) --------------------------------------------------------
class UsersListing:
    """``GET /users?offset=&limit=`` answering ``{users, totalRecords}`` as mod-users does."""

    def __init__(self, count: int) -> None:
        self.users = [{"id": f"u{n:05d}", "username": f"user{n}"} for n in range(count)]
        self.cap: int | None = None  # answer at most this many, silently
        self.knobs = Knobs()
        self.counters = Counters()
        self.asked: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        app = FaultLayer(self._app, self.knobs, self.counters, lambda: Response("boom", status=500))
        self.server = EmulatorServer(app, counters=self.counters).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        with self._lock:
            self.asked.append((offset, limit))
        shown = min(limit, self.cap or limit)
        body = {"users": self.users[offset:offset + shown], "totalRecords": len(self.users)}
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


@pytest.fixture
def listing():
    running = UsersListing(1234)
    yield running
    running.server.stop()


def users_pager(listing: UsersListing, *, limit: int, workers: int) -> Pager:
    transport = Transport(listing.server.url, vendor="folio", retry=FAST_RETRY)

    def fetch(asked: Slice) -> list[dict]:
        call = Call(method="GET", path="/users", params={"offset": asked.offset, "limit": asked.size},
                    idempotent=True)
        response = transport.send(call)
        if response.status_code == 429:
            from fsi_patron_kit.errors import RateLimitError

            raise RateLimitError("Too Many Requests", retry_after=0, status=429)
        response.raise_for_status()
        return response.json()["users"]

    return Pager(fetch, Offsets(limit), workers=workers, label="users")


@pytest.mark.parametrize("cap", [None, 70, 100])
def test_offset_paging_returns_every_row_once_in_order_even_when_capped(listing, cap):
    listing.cap = cap
    assert users_pager(listing, limit=100, workers=8).collect() == listing.users


def test_offset_paging_asks_for_the_rest_of_a_short_page(listing):
    listing.cap = 60
    rows = users_pager(listing, limit=100, workers=1).collect()
    assert rows == listing.users
    assert listing.asked[:3] == [(0, 100), (60, 40), (100, 100)]


def test_offset_paging_under_429s_and_resets(listing):
    listing.knobs.retry_after = 0
    listing.knobs.fail_next("429", 12)
    listing.knobs.fail_next("reset", 3)
    assert users_pager(listing, limit=50, workers=8).collect() == listing.users


def test_paging_strategies_name_their_slices():
    assert PageNumbers(100).slice(2) == Slice(number=3, offset=200, size=100)
    assert Offsets(25, start=10).slice(2) == Slice(number=3, offset=60, size=25)
    assert Offsets(25).rest(Slice(number=1, offset=0, size=25), 10) == Slice(number=1, offset=10, size=15)
    assert Offsets(25).rest(Slice(number=1, offset=0, size=25), 0) is None
    assert PageNumbers(25).rest(Slice(number=1, offset=0, size=25), 10) is None


def test_one_text_progress_bar_counts_the_rows(client, emulator, capsys):
    client.search(page_size=500, progress="text")
    bars = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if "searchpatron" in line]
    assert bars and "1500" in bars[-1]
    assert len({line.split(":")[0] for line in bars}) == 1  # one bar, redrawn
