"""The bulk drill, smaller: faults, SIGKILL partway, resume; nothing lost, nothing written twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("vendor", ["fsi", "folio"])
def test_drill_loses_nothing_and_writes_nothing_twice(vendor):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "drill_bulk.py"), "--vendor", vendor,
                          "--rows", "150", "--workers", "8"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    report = json.loads(run.stdout)
    assert report["child_exit"] == -9 and 0 < report["killed_with_applied"] < report["records"]
    assert report["lost"] == 0
    assert report["written_twice"] == 0
    assert report["accounted"] == report["journal"]["planned"] == report["rows"] == 150
    assert report["faults"].get("reset-after", 0) + report["faults"].get("503", 0) > 0
    assert run.returncode == 0
