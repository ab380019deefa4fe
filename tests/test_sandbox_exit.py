"""The shared sandbox stops cleanly when the interpreter exits, on every supported Python.

Python 3.12 refuses to start threads while the interpreter shuts down (3.13 allows it again);
a stop that starts one (for example to stop two servers side by side) fails there with "can't
create new thread at interpreter shutdown" and leaves the servers running until the process dies.
CI runs this test on 3.12 as well, where it fails for such a stop.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import atexit, threading

    def check_stopped():  # registered first, so it runs after the sandbox's own stop
        alive = [t.name for t in threading.enumerate() if t.name == "patron-kit-sandbox" and t.is_alive()]
        print("sandbox threads alive at exit:", len(alive), flush=True)

    atexit.register(check_stopped)

    import fsi_patron_kit as kit

    fsi = kit.connect("fsi")
    print("fsi patrons:", len(fsi.search(max_rows=3)), flush=True)
    folio = kit.connect("folio")
    folio.login()
    print("folio logged in:", folio.session.logins, flush=True)
""")


def test_the_shared_sandbox_stops_cleanly_at_interpreter_exit(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert done.stderr == ""
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["fsi patrons: 3", "folio logged in: 1", "sandbox threads alive at exit: 0"]
