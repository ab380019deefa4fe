"""The sandbox itself: deterministic data, planted defects, counters, the standalone server."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys

import pytest
import requests

from fsi_patron_kit.sandbox import Sandbox
from fsi_patron_kit.sandbox.fsi.data import generate

# The documented counts (docs/sandbox.md); the test counts them its own way from the API.
DOCUMENTED = {
    "duplicate_email": 16,
    "missing_email": 20,
    "malformed_email": 15,
    "stray_whitespace": 12,
    "student_without_classgrade": 18,
    "classgrade_trailing_pipe": 10,
}
VALID_EMAIL = re.compile(r"^[A-Za-z0-9._'+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def test_same_seed_same_data_other_seed_other_data():
    assert generate(500, seed=1) == generate(500, seed=1)
    assert generate(500, seed=1) != generate(500, seed=2)


def test_size_is_configurable_up_to_a_hundred_thousand():
    records = generate(100_000)
    assert len(records) == 100_000
    assert len({r["barcode"] for r in records}) == 100_000


def test_too_small_a_sandbox_is_refused():
    with pytest.raises(ValueError):
        Sandbox(sizes={"fsi": 50})


def test_roles_and_fields_look_like_a_school(client):
    frame = client.search(page_size=500)
    shares = frame["role"].value_counts(normalize=True)
    assert set(shares.index) == {"STUDENT", "TEACHER", "PARENT", "LIBRARIAN"}
    assert shares["STUDENT"] > 0.7
    students = frame[frame["role"] == "STUDENT"]
    assert (students["class_grade"] != "").mean() > 0.95
    assert (frame.loc[frame["role"] == "PARENT", "class_grade"] == "").all()


def test_planted_defects_have_their_documented_counts(client, emulator):
    frame = client.search(page_size=500)
    email = frame["email"]
    present = email.dropna()  # a blank email is missing (pd.NA) in a frame
    found = {
        "duplicate_email": int(present.duplicated(keep=False).sum()),
        "missing_email": int(email.isna().sum()),
        "malformed_email": int((~present.str.match(VALID_EMAIL)).sum()),
        "stray_whitespace": int(((frame["first_name"] != frame["first_name"].str.strip())
                                 | (frame["surname"] != frame["surname"].str.strip())).sum()),
        "student_without_classgrade": int(((frame["role"] == "STUDENT") & frame["class_grade"].isna()).sum()),
        "classgrade_trailing_pipe": int(frame["class_grade"].str.rstrip().str.endswith("|").fillna(False).sum()),
    }
    assert found == DOCUMENTED
    assert emulator.planted == DOCUMENTED


def test_counters_count_requests_actions_and_writes(client, emulator):
    client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="A")
    client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="B")
    assert emulator.counters.requests == 4
    assert dict(emulator.counters.actions) == {"getcode": 1, "gettoken": 1, "setpatron": 2}
    assert dict(emulator.counters.writes) == {"0000001": 2}
    emulator.counters.reset()
    assert emulator.counters.requests == 0 and not emulator.counters.writes


def test_latency_knob_slows_answers(emulator):
    emulator.knobs.latency = 0.05
    answer = requests.post(emulator.endpoint, json={"action": "getcode", "apikey": "x"}, timeout=5)
    assert answer.elapsed.total_seconds() >= 0.05


def test_unknown_path_and_get_are_refused(emulator):
    assert requests.get(emulator.url + "/other", timeout=5).status_code == 404
    answer = requests.get(emulator.endpoint, timeout=5)
    assert answer.status_code == 500 and answer.json()["ExceptionType"] == "System.InvalidOperationException"


def test_unknown_fault_kind_is_refused(emulator):
    with pytest.raises(ValueError):
        emulator.knobs.fail_next("meltdown")


def test_patron_kit_sandbox_command_serves_until_stopped():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fsi_patron_kit.cli", "sandbox", "--only", "fsi", "--size", "fsi=300"],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    try:
        lines = [process.stdout.readline() for _ in range(8)]
        endpoint = next(line.split()[-1] for line in lines if "endpoint:" in line)
        apikey = next(line.split()[-1] for line in lines if "apikey:" in line)
        assert any(line.split() == ["patrons:", "300"] for line in lines)
        answer = requests.post(endpoint, json={"action": "getcode", "apikey": apikey}, timeout=5)
        assert answer.status_code == 200 and answer.json()["d"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_ports(count: int) -> int:
    """A base port with ``count`` free ports from it (checked by binding each)."""
    for base in range(random.randrange(20000, 40000, 10), 60000, 10):
        sockets = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise RuntimeError("no free ports")


def test_a_base_port_gives_each_server_the_next_port_and_the_same_urls_after_a_restart():
    base = free_ports(3)
    urls = []
    for _ in range(2):
        with Sandbox(only=["fsi", "folio"], sizes={"fsi": 200, "folio": 100}, port=base) as sandbox:
            urls.append((sandbox.fsi.url, sandbox.folio.gateway_url, sandbox.folio.edge_url))
            assert requests.post(sandbox.fsi.endpoint, json={"action": "getcode", "apikey": "x"}, timeout=5).ok
    assert urls[0] == urls[1] == tuple(f"http://127.0.0.1:{base + n}" for n in range(3))


def test_a_taken_port_stops_the_whole_sandbox():
    base = free_ports(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 2))  # FOLIO's edge server would get this one
        taken.listen()
        sandbox = Sandbox(only=["fsi", "folio"], sizes={"fsi": 200, "folio": 100}, port=base)
        with pytest.raises(OSError):
            sandbox.start()
    with pytest.raises(requests.ConnectionError):  # what had started was stopped again
        requests.post(f"http://127.0.0.1:{base}/services/SSLIB_SER_PATRON_API.asmx/patron", timeout=2)


def test_patron_kit_sandbox_port_option_fixes_the_urls():
    base = free_ports(1)
    command = [sys.executable, "-m", "fsi_patron_kit.cli", "sandbox", "--only", "fsi", "--size", "fsi=200",
               "--port", str(base), "--check"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert shown.returncode == 0
    assert f"url:           http://127.0.0.1:{base}\n" in shown.stdout
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base))
        taken.listen()
        refused = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert refused.returncode == 1 and f"cannot listen on the ports from {base}" in refused.stderr
