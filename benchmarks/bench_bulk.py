"""Benchmark: what a journaled bulk update costs, in requests and in time.

2,000 FSI room changes with 16 workers against the FSI emulator at 20 ms a request, served
from a process of its own (so the server's threads do not share the client's interpreter).
Reported, side by side in one run:

* requests per planned row: every request the emulator received during ``apply`` (bulk reads
  of the before-images included) divided by the rows;
* throughput as a fraction of the ideal: requests a second / (workers / latency);
* the journal's own cost: the same apply with the journal on disk and on a RAM disk
  (``/dev/shm``), alternating, median of the rounds: (disk - RAM) / RAM;
* the client's CPU per row (this process's CPU time, all its threads; the emulator runs in
  another): with one interpreter lock, CPU per request is what caps a threaded client here;
* for reference, what this machine reaches at all for the same writes, so that "fraction of
  ideal" can be read against it: the kit's plain batch (``set_patrons``, 16 workers, no journal,
  no reads) and a plain ``requests`` loop on 16 threads (one shared session, JSON posts, the
  least a hand-written script does). The emulator and the client share the machine's cores, so
  neither reaches the ideal.

    python benchmarks/bench_bulk.py --rows 2000 --workers 16 --latency 0.02 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fsi_patron_kit as pk  # noqa: E402
from fsi_patron_kit import fsi  # noqa: E402
from fsi_patron_kit.workflows.bulk import Plan  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_fsi import PlainFsi  # noqa: E402


def serve(patrons: int, latency: float) -> None:
    """The emulator in its own process: prints its URL, answers "count" with its request count."""
    from fsi_patron_kit.sandbox import FsiEmulator
    from fsi_patron_kit.sandbox._server import Knobs

    emulator = FsiEmulator(patrons=patrons, knobs=Knobs(latency=latency)).start()
    print(emulator.url, flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(emulator.counters.requests, flush=True)
    emulator.stop()


class Server:
    def __init__(self, patrons: int, latency: float) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", str(patrons), str(latency)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()

    def requests(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def timed(server: Server, run) -> dict:
    """Wall seconds, this process's CPU seconds and the requests the emulator received, for ``run()``."""
    before, cpu, started = server.requests(), time.process_time(), time.perf_counter()
    run()
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "requests": server.requests() - before}


def one_run(server: Server, client: fsi.Client, rows: int, workers: int, folder: Path, tag: str) -> dict:
    frame = pk.patrons(client).head(rows)
    plan = Plan.from_function(frame, lambda row: {"room": f"{tag}-{row['record_key']}"})

    def run() -> None:
        result = plan.apply(client, workers=workers, journal=folder / f"{tag}.sqlite", progress=False)
        assert result.totals["applied"] == rows, result.totals

    return timed(server, run)


def plain_run(server: Server, client: fsi.Client, rows: int, workers: int, tag: str) -> dict:
    records = [{"barcode": key, "room": f"{tag}-{key}"} for key in pk.patrons(client).head(rows)["record_key"]]

    def run() -> None:
        done = client.set_patrons(records, keyfield="barcode", allow_new=False, workers=workers)
        assert done["status"].eq("updated").all()

    return timed(server, run)


def threaded_requests_run(server: Server, plain: PlainFsi, keys: list[str], workers: int, tag: str) -> dict:
    """The same setpatron writes from a plain ``requests`` session on ``workers`` threads."""
    def one(key: str) -> bool:
        return plain.call("setpatron", keyfield="barcode", allownew=False, itemindex=1, barcode=key,
                          room=f"{tag}-{key}").get("result") is not False

    def run() -> None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            assert all(pool.map(one, keys))

    return timed(server, run)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), float(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = Server(args.rows + 200, args.latency)
    disk = Path(tempfile.mkdtemp(prefix="bench-bulk-", dir=ROOT))
    ram = Path(tempfile.mkdtemp(prefix="bench-bulk-", dir="/dev/shm"))
    runs: dict[str, list[dict]] = {"disk": [], "ram": [], "plain_batch": [], "threaded_requests": []}
    plain = PlainFsi(server.url, "sandbox-fsi-apikey", "sandbox-fsi-apisecret")
    plain.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=args.workers))
    try:
        with fsi.Client(url=server.url, apikey="sandbox-fsi-apikey", apisecret="sandbox-fsi-apisecret",
                        pool_size=args.workers) as client:
            client.login()
            keys = list(pk.patrons(client).head(args.rows)["record_key"])
            for round_ in range(args.rounds):
                order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
                for where in order:
                    tag = f"{where}{round_}"
                    if where == "plain_batch":
                        runs[where].append(plain_run(server, client, args.rows, args.workers, tag))
                    elif where == "threaded_requests":
                        runs[where].append(threaded_requests_run(server, plain, keys, args.workers, tag))
                    else:
                        runs[where].append(one_run(server, client, args.rows, args.workers,
                                                   disk if where == "disk" else ram, tag))
    finally:
        plain.close()
        server.stop()
        for folder in (disk, ram):
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
    ideal = args.workers / args.latency
    report = {"rows": args.rows, "workers": args.workers, "latency": args.latency, "rounds": args.rounds}
    for where, done in runs.items():
        seconds = statistics.median(r["seconds"] for r in done)
        sent = statistics.median(r["requests"] for r in done)
        cpu = statistics.median(r["cpu"] for r in done)
        report[where] = {"seconds": round(seconds, 3), "requests_per_row": round(sent / args.rows, 3),
                         "throughput_fraction_of_ideal": round(sent / seconds / ideal, 3),
                         "client_cpu_ms_per_row": round(1000 * cpu / args.rows, 3)}
    report["journal_cost_disk_vs_ram"] = round(report["disk"]["seconds"] / report["ram"]["seconds"] - 1, 4)
    for reference in ("plain_batch", "threaded_requests"):
        report[f"apply_vs_{reference}_throughput"] = round(
            report["disk"]["throughput_fraction_of_ideal"] / report[reference]["throughput_fraction_of_ideal"], 3)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
