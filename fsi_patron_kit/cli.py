"""The ``patron-kit`` command: serve the sandbox, or run the notebook demo."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patron-kit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("sandbox", help="serve the vendor emulators on 127.0.0.1 until interrupted")
    serve.add_argument("--patrons", type=int, default=1500, help="synthetic patrons per school (default 1500)")
    serve.add_argument("--folio-users", type=int, default=300, help="synthetic FOLIO users (default 300)")
    serve.add_argument("--seed", type=int, default=2024, help="data seed (default 2024)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")

    demo = commands.add_parser("demo", help="execute every notebook against the embedded sandbox")
    demo.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default notebooks)")
    demo.add_argument("--output", default="build/demo", help="where the executed HTML goes")

    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return _serve(args.patrons, args.folio_users, args.seed, args.latency)
    from .demo import run_demo

    return run_demo(args.notebooks, args.output)


def _serve(patrons: int, folio_users: int, seed: int, latency: float) -> int:
    from .sandbox import Sandbox

    with Sandbox(patrons=patrons, seed=seed, latency=latency, folio_users=folio_users) as sandbox:
        fsi, folio = sandbox.fsi, sandbox.folio
        print("patron-kit sandbox is running (Ctrl-C to stop)")
        print(f"  FSI SmartSuite  url:       {fsi.url}")
        print(f"                  endpoint:  {fsi.endpoint}")
        print(f"                  apikey:    {fsi.credentials.apikey}")
        print(f"                  apisecret: {fsi.credentials.apisecret}")
        print(f"  FOLIO gateway   url:       {folio.gateway_url}")
        print(f"                  tenant:    {folio.tenant}")
        print(f"                  username:  {folio.credentials.username}")
        print(f"                  password:  {folio.credentials.password}")
        print(f"  FOLIO edge      url:       {folio.edge_url}")
        print(f"                  apikey:    {folio.edge_apikey}")
        print(f"                  caller:    {folio.caller_id}")
        print(f"  {patrons} FSI patrons and {folio_users} FOLIO users, seed {seed}; "
              "these are sandbox credentials, not secrets.")
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
