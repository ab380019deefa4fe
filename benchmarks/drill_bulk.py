"""Drill: a bulk update under faults, killed with SIGKILL partway, then resumed.

The emulator runs in this process; the update runs in a child process, which is killed once a
share of its records is applied. This process then resumes the journal with the faults still
on, and checks against the emulator's own records and per-record write counters:

* lost: planned records that do not hold the planned value (0 expected);
* written twice: planned records the emulator wrote more than once (0 expected);
* the journal accounts for every planned row (applied + conflict + failed + skipped = planned).

Faults while it runs: 503s, resets before the request is processed and resets after it (the
answer lost), 502s after processing, 429 bursts, and every session token expired each 300
requests.

    python benchmarks/drill_bulk.py --vendor fsi --rows 2000 --workers 16 --latency 0.02
    python benchmarks/drill_bulk.py --vendor folio --rows 500

Prints one JSON object; exits 1 if anything was lost, written twice or left unaccounted.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fsi_patron_kit._http import RetryPolicy  # noqa: E402
from fsi_patron_kit.workflows import bulk  # noqa: E402

RETRY = RetryPolicy(attempts=6, backoff=0.01, max_backoff=0.2)


def make_emulator(vendor: str, rows: int, latency: float):
    from fsi_patron_kit.sandbox import FolioEmulator, FsiEmulator
    from fsi_patron_kit.sandbox._server import Knobs

    knobs = Knobs(latency=latency, seed=11)
    if vendor == "fsi":
        return FsiEmulator(patrons=rows + 200, knobs=knobs).start()
    knobs.token_lifetime = 600.0
    return FolioEmulator(users=rows + 50, knobs=knobs).start()


def connect(vendor: str, where: dict):
    from fsi_patron_kit import folio, fsi

    if vendor == "fsi":
        return fsi.Client(url=where["url"], apikey=where["apikey"], apisecret=where["apisecret"], retry=RETRY)
    return folio.Client(url=where["url"], tenant=where["tenant"], username=where["username"],
                        password=where["password"], retry=RETRY)


def address(vendor: str, emulator) -> dict:
    if vendor == "fsi":
        return {"url": emulator.url, "apikey": emulator.credentials.apikey, "apisecret": emulator.credentials.apisecret}
    return {"url": emulator.gateway_url, "tenant": emulator.tenant, "username": emulator.credentials.username,
            "password": emulator.credentials.password}


def make_plan(vendor: str, client, rows: int) -> bulk.Plan:
    import fsi_patron_kit as pk

    frame = pk.patrons(client).head(rows)
    field = "room" if vendor == "fsi" else "phone"
    return bulk.Plan.from_function(frame, lambda row: {field: f"D-{row['record_key'][-6:]}"})


def planned_values(vendor: str, emulator, plan: bulk.Plan) -> dict[str, object]:
    """What the emulator holds now for each planned (record, field)."""
    if vendor == "fsi":
        held = {r["barcode"]: r["room"] for r in emulator.records()}
    else:
        held = {u["id"]: u["personal"].get("phone") for u in emulator.users()}
    return {key: held.get(key) for key in plan.frame["record_key"]}


class Weather:
    """Faults that come and go: 429 bursts, and token expiry every ``every`` requests."""

    def __init__(self, emulator, *, every: int = 300) -> None:
        self.emulator, self.every = emulator, every
        self.expiries = self.bursts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Weather:
        knobs = self.emulator.knobs
        knobs.unavailable_rate, knobs.reset_rate, knobs.reset_after_rate = 0.05, 0.01, 0.01
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.emulator.knobs.clear()

    def _run(self) -> None:
        counters, knobs = self.emulator.counters, self.emulator.knobs
        next_expiry = counters.requests + self.every
        burst_at = time.monotonic() + 1.0
        while not self._stop.wait(0.002):
            if counters.requests >= next_expiry:
                self.emulator.expire_tokens()
                self.expiries += 1
                next_expiry += self.every
            now = time.monotonic()
            if now >= burst_at:
                knobs.rate_limit = None if knobs.rate_limit else 50.0
                self.bursts += bool(knobs.rate_limit)
                burst_at = now + (0.25 if knobs.rate_limit else 1.5)


def applied_so_far(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM records WHERE state = 'applied'").fetchone()[0]
    except sqlite3.Error:
        return 0


def in_flight_at(journal: Path) -> int:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
        return db.execute("SELECT COUNT(*) FROM records WHERE state IN ('sending', 'unknown')").fetchone()[0]


def drill(vendor: str, rows: int, workers: int, latency: float, kill_at: float, keep: bool = False) -> dict:
    emulator = make_emulator(vendor, rows, latency)
    folder = Path(tempfile.mkdtemp(prefix="drill-"))
    try:
        where = address(vendor, emulator)
        with connect(vendor, where) as reader:
            plan = make_plan(vendor, reader, rows)
        records = plan.records
        (folder / "plan.pickle").write_bytes(pickle.dumps(plan.frame))
        journal = folder / "journal.sqlite"
        emulator.counters.reset()
        with Weather(emulator) as weather:
            child = subprocess.Popen(
                [sys.executable, __file__, "--child", vendor, json.dumps(where), str(folder), str(workers)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while applied_so_far(journal) < kill_at * records and child.poll() is None:
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait()
            killed_at = applied_so_far(journal)
            in_flight = in_flight_at(journal)
            with connect(vendor, where) as client:
                started = time.perf_counter()
                result = bulk.resume(journal, client, workers=workers, progress=False)
                resumed_in = time.perf_counter() - started
        held = planned_values(vendor, emulator, plan)
        wanted = dict(zip(plan.frame["record_key"], plan.frame["after"], strict=True))
        totals = result.totals
        events = result.journal.events()["event"].value_counts().to_dict()
        writes = emulator.counters.writes
        report = {
            "vendor": vendor, "rows": len(plan), "records": records, "workers": workers, "latency": latency,
            "killed_with_applied": killed_at, "child_exit": child.returncode,
            "lost": sum(held[k] != v for k, v in wanted.items()),
            "written_twice": sum(writes.get(k, 0) > 1 for k in wanted),
            "journal": {k: v for k, v in totals.items() if v},
            "accounted": totals["applied"] + totals["conflict"] + totals["failed"] + totals["skipped"],
            "in_flight_when_killed": in_flight,
            "events": events, "faults": dict(emulator.counters.faults), "token_expiries": weather.expiries,
            "rate_limit_bursts": weather.bursts, "requests": emulator.counters.requests,
            "resume_seconds": round(resumed_in, 2),
        }
        if keep:
            report["journal_path"] = str(journal)
        report["ok"] = (report["lost"] == 0 and report["written_twice"] == 0
                        and report["accounted"] == totals["planned"] == len(plan) and child.returncode == -9)
        return report
    finally:
        emulator.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def child(vendor: str, where: str, folder: str, workers: str) -> None:
    frame = pickle.loads((Path(folder) / "plan.pickle").read_bytes())
    with connect(vendor, json.loads(where)) as client:
        bulk.Plan(frame).apply(client, workers=int(workers), journal=Path(folder) / "journal.sqlite", progress=False)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", choices=("fsi", "folio"), default="fsi")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of records applied when killed")
    parser.add_argument("--keep", action="store_true", help="keep the journal (its path is in the report)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    report = drill(args.vendor, args.rows, args.workers, args.latency, args.kill_at, args.keep)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
