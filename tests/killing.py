"""Kill a journaled run partway, as a crash or a closed laptop would, for the resume tests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def applied_rows(journal: Path) -> int:
    """Rows the journal says were applied (0 while it does not exist yet, or is being written)."""
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM records WHERE state = 'applied'").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_partway(source: str, *args: str, journal: Path, after: int) -> int:
    """Run ``source`` in a child interpreter, SIGKILL it once ``after`` rows are applied, and
    return how many the journal holds then."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", source, *args], env=env)
    while applied_rows(journal) < after and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    return applied_rows(journal)
