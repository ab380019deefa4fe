"""Benchmark: ``fsi.Client`` against a plain ``requests.Session`` loop doing the same work.

Both sides talk to the same in-process sandbox over real HTTP on 127.0.0.1, in one run:

1. getpatron by barcode, one call at a time (per-call overhead);
2. a full search into a DataFrame (``client.search`` vs paging by hand + ``pd.DataFrame``);
3. setpatron updates, sequentially (``client.set_patrons`` vs a loop of posts).

The plain side logs in once (getcode, gettoken), posts JSON and unwraps the ASP.NET
``{"d": "<json string>"}`` envelope with ``json.loads``: the least a hand-written script does.
Kit and plain runs are interleaved and repeated; the ratios are kit / plain, so 1.10x means the
kit takes 10 % longer. Timings are reported, never asserted: the exit status is 1 only when
something is functionally wrong (wrong patron, row counts differ, an update failed).

Run ``make bench`` or ``.venv/bin/python benchmarks/bench_fsi.py [--quick]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import requests

from fsi_patron_kit import fsi
from fsi_patron_kit.sandbox import Sandbox

PATH = "/services/SSLIB_SER_PATRON_API.asmx/patron"
TIMEOUT = (3.05, 30.0)  # the kit's default, so both sides wait alike
ID_COLUMNS = ("barcode", "username", "external_id")
BENCH_ROOM = "R999"


# -- the plain side -------------------------------------------------------------------------------
class PlainFsi:
    """What a script without the kit does: one session, one token, JSON posts, unwrap ``d``."""

    def __init__(self, url: str, apikey: str, apisecret: str) -> None:
        self.session = requests.Session()
        self.endpoint = url.rstrip("/") + PATH
        code = self._post({"action": "getcode", "apikey": apikey})  # d is the code itself
        answer = json.loads(self._post({"action": "gettoken", "code": code, "apisecret": apisecret}))
        self.token = answer["token"]

    def _post(self, payload: dict[str, Any]) -> Any:
        response = self.session.post(self.endpoint, json=payload, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()["d"]

    def call(self, action: str, **fields: Any) -> dict[str, Any]:
        value = json.loads(self._post({"action": action, "token": self.token, **fields}))
        if value.get("result") is False:
            raise RuntimeError(f"{action}: {value.get('msg')}")
        return value

    def get_patron(self, barcode: str) -> dict[str, Any]:
        return self.call("getpatron", keyfield="barcode", keyvalue=barcode)["item"][0]

    def search(self, page_size: int) -> pd.DataFrame:
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            items = self.call("searchpatron", pagenumber=page, pagecount=page_size)["item"]
            records.extend(items)
            if len(items) < page_size:
                return pd.DataFrame(records)
            page += 1

    def set_patrons(self, updates: list[dict[str, str]]) -> pd.DataFrame:
        results = []
        for index, update in enumerate(updates, start=1):
            answer = self.call("setpatron", keyfield="barcode", allownew=False, itemindex=index, **update)
            results.append({"itemindex": index, "key": update["barcode"], "msg": answer.get("msg")})
        return pd.DataFrame(results)

    def close(self) -> None:
        self.session.close()


# -- measuring --------------------------------------------------------------------------------------
class Samples:
    """Wall-clock (perf_counter) and main-thread CPU (thread_time) seconds of repeated runs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn: Callable[[], Any]) -> Any:
        cpu = time.thread_time()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        self.cpu.append(time.thread_time() - cpu)
        self.wall.append(elapsed)
        return result


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, ``q`` in [0, 100]."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def interleaved(rounds: int, kit: Callable[[int], None], plain: Callable[[int], None]) -> None:
    """Run both sides ``rounds`` times, alternating which goes first to cancel drift."""
    for r in range(rounds):
        order = (kit, plain) if r % 2 == 0 else (plain, kit)
        for side in order:
            gc.collect()
            side(r)


# -- the workloads ----------------------------------------------------------------------------------
def bench_getpatron(client: fsi.Client, plain: PlainFsi, barcodes: list[str], args: argparse.Namespace,
                    checks: list[tuple[str, bool]]) -> dict[str, Samples]:
    samples = {"kit": Samples(), "plain": Samples()}
    answers: dict[str, list[str | None]] = {"kit": [], "plain": []}
    for barcode in barcodes[: args.warmup]:
        client.get_patron(keyfield="barcode", value=barcode)
        plain.get_patron(barcode)

    def kit(_: int) -> None:
        timer, out = samples["kit"], answers["kit"]
        for barcode in barcodes:
            patron = timer.time(lambda b=barcode: client.get_patron(keyfield="barcode", value=b))
            out.append(patron.barcode)

    def by_hand(_: int) -> None:
        timer, out = samples["plain"], answers["plain"]
        for barcode in barcodes:
            record = timer.time(lambda b=barcode: plain.get_patron(b))
            out.append(record["barcode"])

    interleaved(args.rounds, kit, by_hand)
    expected = barcodes * args.rounds
    checks.append((
        f"getpatron: {len(answers['kit']):,} kit and {len(answers['plain']):,} plain answers, "
        "each the requested patron",
        answers["kit"] == expected and answers["plain"] == expected,
    ))
    return samples


def bench_search(client: fsi.Client, plain: PlainFsi, args: argparse.Namespace,
                 checks: list[tuple[str, bool]]) -> dict[str, Samples]:
    samples = {"kit": Samples(), "plain": Samples()}
    frames: dict[str, pd.DataFrame] = {}

    def kit(_: int) -> None:
        frames.pop("kit", None)
        frames["kit"] = samples["kit"].time(lambda: client.search(page_size=args.page_size, workers=1))

    def by_hand(_: int) -> None:
        frames.pop("plain", None)
        frames["plain"] = samples["plain"].time(lambda: plain.search(args.page_size))

    interleaved(args.search_repeats, kit, by_hand)
    mine, theirs = frames["kit"], frames["plain"]
    checks.append((
        f"search: kit {len(mine):,} rows, plain {len(theirs):,} rows (sandbox holds {args.patrons:,})",
        len(mine) == len(theirs) == args.patrons,
    ))
    checks.append((
        "search: both frames hold the same barcodes",
        set(mine["barcode"]) == set(theirs["barcode"]),
    ))
    dtypes = ", ".join(f"{c}={mine[c].dtype}" for c in ID_COLUMNS)
    checks.append((
        f"search: kit id columns are string dtype ({dtypes}; plain barcode={theirs['barcode'].dtype})",
        all(isinstance(mine[c].dtype, pd.StringDtype) for c in ID_COLUMNS),
    ))
    return samples


def bench_setpatron(client: fsi.Client, plain: PlainFsi, barcodes: list[str], args: argparse.Namespace,
                    checks: list[tuple[str, bool]]) -> dict[str, Samples]:
    samples = {"kit": Samples(), "plain": Samples()}
    updates = [{"barcode": b, "room": BENCH_ROOM} for b in barcodes]
    chunks = [updates[i:i + args.chunk] for i in range(0, len(updates), args.chunk)]
    outcomes: dict[str, list[str]] = {"kit": [], "plain": []}

    def kit(r: int) -> None:
        frame = samples["kit"].time(
            lambda: client.set_patrons(chunks[r], keyfield="barcode", allow_new=False))
        outcomes["kit"].extend(frame["status"].tolist())

    def by_hand(r: int) -> None:
        frame = samples["plain"].time(lambda: plain.set_patrons(chunks[r]))
        outcomes["plain"].extend("updated" if "updated" in str(m) else str(m) for m in frame["msg"])

    interleaved(len(chunks), kit, by_hand)
    kit_ok = outcomes["kit"].count("updated")
    plain_ok = outcomes["plain"].count("updated")
    checks.append((
        f"setpatron: kit {kit_ok:,} of {len(updates):,} updated, plain {plain_ok:,} of {len(updates):,}",
        kit_ok == plain_ok == len(updates),
    ))
    return samples


# -- profiling (optional) ---------------------------------------------------------------------------
def profile_kit(client: fsi.Client, barcodes: list[str], updates: list[str], args: argparse.Namespace) -> str:
    """cProfile of the kit side only (the main thread; the sandbox's threads are not profiled)."""
    out = io.StringIO()
    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("getpatron", lambda: [client.get_patron(keyfield="barcode", value=b) for b in barcodes]),
        ("search", lambda: client.search(page_size=args.page_size, workers=1)),
    ]
    if updates:
        # set_patrons sends from a worker thread, which cProfile does not follow: profile the
        # same request path through set_patron, one call at a time, instead.
        jobs.append(("setpatron (via set_patron)", lambda: [
            client.set_patron(keyfield="barcode", allow_new=False, barcode=b, room=BENCH_ROOM)
            for b in updates]))
    for name, job in jobs:
        profiler = cProfile.Profile()
        profiler.enable()
        job()
        profiler.disable()
        out.write(f"\n== kit {name}: top functions by own time ==\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile_top)
        out.write(f"-- kit {name}: kit functions by cumulative time --\n")
        stats.sort_stats("cumulative").print_stats("fsi_patron_kit", args.profile_top)
    return out.getvalue()


# -- reporting ----------------------------------------------------------------------------------------
def ratio(kit: float, plain: float) -> str:
    return f"{kit / plain:.2f}x" if plain > 0 else "n/a"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, workload: str, metric: str, kit: float, plain: float, unit: str, digits: int) -> None:
        fmt = f"{{:,.{digits}f}}"
        diff = kit - plain
        self.rows.append((workload, metric, fmt.format(kit), fmt.format(plain), ratio(kit, plain),
                          ("+" if diff >= 0 else "-") + fmt.format(abs(diff)), unit))

    def render(self) -> str:
        header = ("workload", "metric", "kit", "plain", "kit/plain", "kit-plain", "unit")
        rows = [header, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        align = ["<", "<", ">", ">", ">", ">", "<"]
        lines = []
        for n, row in enumerate(rows):
            lines.append("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def round_means(values: list[float], per_round: int) -> list[float]:
    return [statistics.fmean(values[i:i + per_round]) for i in range(0, len(values), per_round)]


def per_call_rows(table: Table, name: str, samples: dict[str, Samples], per_round: int) -> None:
    kit, plain = samples["kit"], samples["plain"]
    us = 1e6
    table.add(name, "mean", statistics.fmean(kit.wall) * us, statistics.fmean(plain.wall) * us, "µs/call", 0)
    table.add("", "median round mean", statistics.median(round_means(kit.wall, per_round)) * us,
              statistics.median(round_means(plain.wall, per_round)) * us, "µs/call", 0)
    table.add("", "p50", percentile(kit.wall, 50) * us, percentile(plain.wall, 50) * us, "µs/call", 0)
    table.add("", "p95", percentile(kit.wall, 95) * us, percentile(plain.wall, 95) * us, "µs/call", 0)
    table.add("", "client CPU mean", statistics.fmean(kit.cpu) * us, statistics.fmean(plain.cpu) * us,
              "µs/call", 0)


def whole_run_rows(table: Table, name: str, samples: dict[str, Samples], repeats: int) -> None:
    kit, plain = samples["kit"], samples["plain"]
    table.add(name, f"median of {repeats}", statistics.median(kit.wall), statistics.median(plain.wall), "s", 3)
    table.add("", f"best of {repeats}", min(kit.wall), min(plain.wall), "s", 3)
    table.add("", "client CPU median", statistics.median(kit.cpu), statistics.median(plain.cpu), "s", 3)


# -- main ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--patrons", type=int, default=10_000, help="patrons in the sandbox (search rows)")
    parser.add_argument("--calls", type=int, default=500, help="getpatron calls per side per round")
    parser.add_argument("--warmup", type=int, default=50, help="getpatron warm-up calls per side")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved getpatron rounds")
    parser.add_argument("--page-size", type=int, default=500, help="searchpatron page size (both sides)")
    parser.add_argument("--search-repeats", type=int, default=5, help="interleaved full searches per side")
    parser.add_argument("--updates", type=int, default=1000, help="setpatron updates per side (0 skips)")
    parser.add_argument("--chunk", type=int, default=200, help="setpatron updates per interleaved batch")
    parser.add_argument("--seed", type=int, default=2024, help="sandbox data and call order seed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1,000 patrons, few calls (numbers are not meaningful);"
                             " explicit sizes still apply")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, cProfile the kit side of each workload and print hot spots")
    parser.add_argument("--profile-top", type=int, default=15, help="rows per profile listing")
    args = parser.parse_args(argv)
    if args.quick:  # smaller defaults; sizes given explicitly still win
        parser.set_defaults(patrons=1000, calls=50, warmup=10, rounds=2, page_size=100,
                            search_repeats=2, updates=100, chunk=50)
        args = parser.parse_args(argv)
    if args.patrons < 200:
        parser.error("--patrons must be at least 200 (the sandbox's data generator needs them)")
    for name in ("calls", "rounds", "page_size", "search_repeats", "chunk"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.updates < 0:
        parser.error("--warmup and --updates must not be negative")
    if args.updates > args.patrons:
        parser.error("--updates cannot exceed --patrons (each update targets a distinct patron)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    checks: list[tuple[str, bool]] = []
    table = Table()
    with Sandbox(sizes={"fsi": args.patrons}, seed=args.seed, only=["fsi"]) as sandbox:
        emulator = sandbox.fsi
        credentials = emulator.credentials
        records = emulator.records()
        rng = random.Random(args.seed)
        lookups = [r["barcode"] for r in rng.sample(records, min(args.calls, len(records)))]
        lookups = (lookups * (args.calls // len(lookups) + 1))[: args.calls]
        updated = [r["barcode"] for r in rng.sample(records, args.updates)]

        client = fsi.Client(url=emulator.url, apikey=credentials.apikey, apisecret=credentials.apisecret)
        plain = PlainFsi(emulator.url, credentials.apikey, credentials.apisecret)
        client.login()
        probe = plain.session.post(plain.endpoint, json={"action": "searchpatron", "token": plain.token,
                                                         "pagecount": 1}, timeout=TIMEOUT)
        connection = probe.headers.get("Connection", "keep-alive")

        print("fsi.Client vs a plain requests.Session loop, same in-process sandbox")
        print(f"python {platform.python_version()}, requests {requests.__version__}, "
              f"pandas {pd.__version__}, {os.cpu_count()} CPUs")
        print(f"sandbox: {args.patrons:,} patrons at {emulator.url} "
              f"(server answers 'Connection: {connection}')")
        print()

        def stage(label: str, work: Callable[[], dict[str, Samples]]) -> dict[str, Samples]:
            print(f"{label} ...", end=" ", flush=True)
            started = time.perf_counter()
            result = work()
            print(f"{time.perf_counter() - started:.1f} s")
            return result

        total = 3 if args.updates else 2
        calls = stage(
            f"[1/{total}] getpatron by barcode: {args.rounds} rounds x {args.calls:,} calls per side"
            f" (+{args.warmup} warm-up)",
            lambda: bench_getpatron(client, plain, lookups, args, checks))
        per_call_rows(table, "getpatron", calls, args.calls)

        search = stage(
            f"[2/{total}] search -> DataFrame: {args.patrons:,} rows, page size {args.page_size},"
            f" {args.search_repeats} runs per side",
            lambda: bench_search(client, plain, args, checks))
        whole_run_rows(table, f"search {args.patrons:,} rows", search, args.search_repeats)

        if args.updates:
            writes = stage(
                f"[3/{total}] setpatron: {args.updates:,} sequential updates per side,"
                f" in interleaved batches of {args.chunk}",
                lambda: bench_setpatron(client, plain, updated, args, checks))
            kit_total, plain_total = sum(writes["kit"].wall), sum(writes["plain"].wall)
            table.add(f"setpatron x{args.updates:,}", "total", kit_total, plain_total, "s", 3)
            table.add("", "per update", kit_total / args.updates * 1e6, plain_total / args.updates * 1e6,
                      "µs", 0)
            sizes = [len(updated[i:i + args.chunk]) for i in range(0, len(updated), args.chunk)]
            table.add("", f"median of {len(sizes)} batches",
                      statistics.median(t / n for t, n in zip(writes["kit"].wall, sizes, strict=True)) * 1e6,
                      statistics.median(t / n for t, n in zip(writes["plain"].wall, sizes, strict=True)) * 1e6,
                      "µs/update", 0)

        profile = profile_kit(client, lookups[:300], updated[:300], args) if args.profile else ""
        client.close()
        plain.close()

    print()
    print("Results (kit/plain > 1: the kit takes longer; client CPU = the benchmark thread only)")
    print(table.render())
    print()
    print("Checks")
    for text, ok in checks:
        print(f"  [{'ok' if ok else 'FAILED'}] {text}")
    print()
    print(f"total {time.perf_counter() - began:.1f} s")
    if profile:
        print(profile)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
