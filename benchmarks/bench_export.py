"""Benchmark: exporting every patron, and what a frame costs, against plain code doing the same.

In one run, on the in-process sandbox over real HTTP on 127.0.0.1:

1. a full FSI export at 20 ms latency (20,000 patrons, page size 100): ``client.search()``
   against a sequential paging loop and against a plain 8-thread pager of the same page size;
2. frame costs: a 4-row frame of 15 declared columns (FOLIO's external patrons) against
   ``pd.DataFrame`` plus ``astype``, and a 100,000-row patron frame against
   ``pd.DataFrame.from_records``;
3. the kit's export time at 1,000, 10,000 and 100,000 patrons.

Ratios are reported, never asserted; the exit status is 1 only when the sides disagree on the
rows (every export must return the sandbox's patrons, in the sandbox's order).

Run ``make bench`` or ``.venv/bin/python benchmarks/bench_export.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import requests

from fsi_patron_kit import fsi
from fsi_patron_kit._frames import flatten
from fsi_patron_kit.folio.models import EXTERNAL_PATRON_FRAME
from fsi_patron_kit.fsi.models import PATRON_FRAME
from fsi_patron_kit.sandbox import FsiEmulator, Sandbox

PATH = "/services/SSLIB_SER_PATRON_API.asmx/patron"
TIMEOUT = (3.05, 30.0)


# -- the plain side -------------------------------------------------------------------------------
class PlainFsi:
    """What a script without the kit does: one session, one token, JSON posts, unwrap ``d``."""

    def __init__(self, url: str, apikey: str, apisecret: str) -> None:
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.endpoint = url.rstrip("/") + PATH
        code = self._post({"action": "getcode", "apikey": apikey})
        self.token = json.loads(self._post({"action": "gettoken", "code": code, "apisecret": apisecret}))["token"]

    def _post(self, payload: dict[str, Any]) -> Any:
        response = self.session.post(self.endpoint, json=payload, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()["d"]

    def page(self, number: int, size: int) -> list[dict[str, Any]]:
        answer = json.loads(self._post({"action": "searchpatron", "token": self.token, "pagenumber": number,
                                        "pagecount": size}))
        return answer["item"]

    def sequential(self, size: int) -> pd.DataFrame:
        """Page after page until a short one."""
        records: list[dict[str, Any]] = []
        number = 1
        while True:
            items = self.page(number, size)
            records.extend(items)
            if len(items) < size:
                return pd.DataFrame(records)
            number += 1

    def threaded(self, size: int, threads: int) -> pd.DataFrame:
        """``threads`` pages at a time, batch after batch, until a batch holds a short page."""
        records: list[dict[str, Any]] = []
        first = 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            while True:
                batch = list(pool.map(lambda n: self.page(n, size), range(first, first + threads)))
                for items in batch:
                    records.extend(items)
                if any(len(items) < size for items in batch):
                    return pd.DataFrame(records)
                first += threads

    def close(self) -> None:
        self.session.close()


# -- measuring ----------------------------------------------------------------------------------------
def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def interleaved(sides: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each side ``repeats`` times, the order rotated every round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    results: dict[str, Any] = {}
    names = list(sides)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            seconds, results[name] = timed(sides[name])
            times[name].append(seconds)
    return times, results


def per_call(work: Callable[[], Any], *, budget: float = 0.5, least: int = 3) -> float:
    """Best-of-5 seconds per call of a cheap ``work``, each sample looping for about ``budget``."""
    seconds, _ = timed(work)
    loops = max(least, int(budget / max(seconds, 1e-7)))
    best = float("inf")
    for _ in range(5):
        gc.collect()
        started = time.perf_counter()
        for _ in range(loops):
            work()
        best = min(best, (time.perf_counter() - started) / loops)
    return best


# -- the workloads ----------------------------------------------------------------------------------
def bench_export(args: argparse.Namespace, checks: list[tuple[str, bool]]) -> list[str]:
    lines = []
    with Sandbox(sizes={"fsi": args.patrons}, latency=args.latency, only=["fsi"]) as sandbox:
        emulator = sandbox.fsi
        credentials = emulator.credentials
        barcodes = [r["barcode"] for r in emulator.records()]
        client = fsi.Client(url=emulator.url, apikey=credentials.apikey, apisecret=credentials.apisecret)
        plain = PlainFsi(emulator.url, credentials.apikey, credentials.apisecret)
        client.login()
        sides = {
            "kit": lambda: client.search(page_size=args.page_size),
            "sequential": lambda: plain.sequential(args.page_size),
            f"plain {args.threads}-thread": lambda: plain.threaded(args.page_size, args.threads),
        }
        times, frames = interleaved(sides, args.repeats)
        client.close()
        plain.close()
    kit = statistics.median(times["kit"])
    lines.append(f"export {args.patrons:,} patrons, page size {args.page_size}, latency {args.latency * 1000:.0f} ms, "
                 f"kit workers {fsi.Client.__init__.__kwdefaults__['workers']} (median of {args.repeats})")
    for name, samples in times.items():
        median = statistics.median(samples)
        lines.append(f"  {name:<18} {median:8.3f} s   {median / kit:5.2f}x the kit's time")
    lines.append(f"  kit vs sequential loop: {statistics.median(times['sequential']) / kit:.2f}x faster (goal >= 4x)")
    threaded = statistics.median(times[f"plain {args.threads}-thread"])
    lines.append(f"  kit vs plain {args.threads}-thread pager: {threaded / kit:.2f}x its speed (goal >= 0.8x)")
    for name, frame in frames.items():
        checks.append((f"export ({name}): {len(frame):,} rows in the sandbox's order",
                       list(frame["barcode"]) == barcodes))
    return lines


def bench_frames(args: argparse.Namespace, checks: list[tuple[str, bool]]) -> list[str]:
    lines = []
    external = {
        "generalInfo": {"externalSystemId": "ext-1", "firstName": "Ada", "preferredFirstName": "Ada",
                        "middleName": "", "lastName": "Lovelace"},
        "addressInfo": {"addressLine0": "1 Main St", "addressLine1": "", "city": "Metropolis", "province": "NY",
                        "zip": "12345", "country": "USA"},
        "contactInfo": {"phone": "555-1", "mobilePhone": "555-2", "email": "ada@example.org"},
        "preferredEmailCommunication": ["Programs"],
    }
    small = [flatten(external) for _ in range(4)]
    sources = [c.source for c in EXTERNAL_PATRON_FRAME.columns]
    dtypes = {c.source: c.dtype for c in EXTERNAL_PATRON_FRAME.columns}
    kit = per_call(lambda: EXTERNAL_PATRON_FRAME.build(small))
    plain = per_call(lambda: pd.DataFrame(small, columns=sources).astype(dtypes))
    lines.append(f"frame of 4 rows x {len(sources)} declared columns: kit {kit * 1e6:,.0f} µs, "
                 f"DataFrame + astype {plain * 1e6:,.0f} µs: {kit / plain:.2f}x (goal <= 2x)")
    records = FsiEmulator(patrons=args.frame_rows).records()  # the sandbox's patrons, not served
    kit_times, plain_times = [], []
    for _ in range(args.repeats + 2):
        kit_times.append(timed(lambda: PATRON_FRAME.build(records))[0])
        plain_times.append(timed(lambda: pd.DataFrame.from_records(records))[0])
    kit, plain = min(kit_times), min(plain_times)
    lines.append(f"frame of {args.frame_rows:,} rows x {len(PATRON_FRAME.columns)} columns: kit {kit * 1000:,.0f} ms, "
                 f"DataFrame.from_records {plain * 1000:,.0f} ms: {kit / plain:.2f}x (goal <= 1.3x)")
    built = PATRON_FRAME.build(records)
    checks.append((f"frames: {len(built):,} rows, string ids, blanks missing",
                   len(built) == len(records) and isinstance(built["barcode"].dtype, pd.StringDtype)
                   and int(built["email"].isna().sum()) == sum(1 for r in records if r["email"] == "")))
    return lines


def bench_sizes(args: argparse.Namespace, checks: list[tuple[str, bool]]) -> list[str]:
    lines = [f"the kit's export by size (page size {args.page_size}, latency {args.latency * 1000:.0f} ms, best of 2)"]
    first = None
    for size in args.sizes:
        with Sandbox(sizes={"fsi": size}, latency=args.latency, only=["fsi"]) as sandbox:
            emulator = sandbox.fsi
            with fsi.Client(url=emulator.url, apikey=emulator.credentials.apikey,
                            apisecret=emulator.credentials.apisecret) as client:
                client.login()
                runs = [timed(lambda: client.search(page_size=args.page_size)) for _ in range(2)]
        seconds = min(t for t, _ in runs)
        first = first or (size, seconds)
        scale = f"{seconds / first[1]:6.1f}x the {first[0]:,}-patron time for {size / first[0]:,.0f}x the patrons"
        lines.append(f"  {size:>8,} patrons {seconds:8.3f} s  {scale}")
        checks.append((f"export of {size:,} patrons returned them all", all(len(f) == size for _, f in runs)))
    return lines


# -- main ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--patrons", type=int, default=20_000, help="patrons in the export comparison")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the sandbox adds to every answer")
    parser.add_argument("--page-size", type=int, default=100, help="searchpatron page size (every side)")
    parser.add_argument("--threads", type=int, default=8, help="threads of the plain pager")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side")
    parser.add_argument("--frame-rows", type=int, default=100_000, help="rows of the large frame")
    parser.add_argument("--sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=[1_000, 10_000, 100_000], help="patron counts for the export-by-size series")
    parser.add_argument("--quick", action="store_true", help="smoke run with small sizes (numbers not meaningful)")
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(patrons=2_000, repeats=1, frame_rows=10_000, sizes=[1_000, 2_000])
        args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    checks: list[tuple[str, bool]] = []
    print("fsi_patron_kit exports and frames vs plain code, same in-process sandbox", flush=True)
    for stage in (bench_export, bench_frames, bench_sizes):
        print()
        for line in stage(args, checks):
            print(line, flush=True)
    print()
    print("Checks")
    for text, ok in checks:
        print(f"  [{'ok' if ok else 'FAILED'}] {text}")
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
