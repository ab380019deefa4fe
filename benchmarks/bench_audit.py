"""Benchmark: what an audit costs at 10,000 and 100,000 canonical rows, and whether it grows linearly.

The frames are built from the sandbox's own data generator (no HTTP: only the audit is timed).
Half the rows are an FSI school, half a second system built from another seed of the same
generator with an active flag and expiry dates, so every check has work, including the
cross-system match (the two halves share external ids, as systems fed by one registry do).

Each size is audited ``--runs`` times; the median is reported with the time per 1,000 rows and
the ratio of the two sizes (linear growth gives about 10). Per-check medians show where the time
goes. Timings are reported, never asserted; the exit status is 1 only when an audit does not find
exactly the defects the generator planted in each half (fixed counts, whatever the size).

Run ``.venv/bin/python benchmarks/bench_audit.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

import fsi_patron_kit as pk
from fsi_patron_kit.sandbox.fsi.data import PLANTED, generate
from fsi_patron_kit.workflows.canonical import canonical_frame
from fsi_patron_kit.workflows.checks import registered

SIZES = (10_000, 100_000)
NOW = pd.Timestamp("2026-06-01T00:00:00Z")


def school(count: int, *, seed: int, vendor: str, tenant: str) -> pd.DataFrame:
    """``count`` generated patrons as canonical rows (with status columns for the second system)."""
    records = pd.DataFrame(generate(count, seed=seed))
    columns = {
        "vendor": vendor, "tenant": tenant, "record_key": records["barcode"], "barcode": records["barcode"],
        "username": records["username"], "external_id": records["externalid"], "first_name": records["firstname"],
        "last_name": records["surname"], "email": records["email"], "role": records["role"],
        "class_grade": records["classgrade"], "room": records["room"],
    }
    if vendor != "fsi":
        rng = np.random.default_rng(seed)
        columns["active"] = rng.random(count) > 0.05
        columns["expires"] = NOW + pd.to_timedelta(rng.integers(-400, 1000, count), unit="D")
        columns["open_loans"] = rng.integers(0, 4, count)
    return canonical_frame(columns, count)


def frame_of(rows: int) -> pd.DataFrame:
    half = rows // 2
    return pd.concat([school(half, seed=2024, vendor="fsi", tenant="school"),
                      school(rows - half, seed=7, vendor="folio", tenant="university")], ignore_index=True)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    medians: dict[int, float] = {}
    per_check: dict[int, dict[str, float]] = {}
    wrong = []
    for rows in SIZES:
        frame = frame_of(rows)
        times = []
        for _ in range(runs):
            seconds, result = timed(pk.audit, frame, now=NOW)
            times.append(seconds)
        medians[rows] = statistics.median(times)
        found = {name: result.counts().get(name, 0) for name in PLANTED}
        if found != {name: 2 * count for name, count in PLANTED.items()}:  # two halves, each planted
            wrong.append(f"{rows} rows: found {found}, planted twice {PLANTED}")
        per_check[rows] = {check.name: statistics.median(timed(check.run, frame, NOW)[0] for _ in range(runs))
                           for check in registered()}
        print(f"{rows:>7,} rows: audit median {medians[rows]:.3f} s (best {min(times):.3f} s), "
              f"{1_000_000 * medians[rows] / rows:.1f} ms per 1,000 rows, {len(result.findings):,} findings")
    small, large = SIZES
    print(f"\n{large:,} / {small:,} rows: {medians[large] / medians[small]:.1f}x the time for "
          f"{large // small}x the rows (linear is {large // small}x)\n")
    print(pd.DataFrame(per_check).rename(columns=lambda r: f"{r:,} rows (s)").round(4).to_string())
    print("\n".join(wrong), file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
