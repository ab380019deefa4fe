"""The ``patron-kit`` command: serve the sandbox, or run the notebook demo."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from ._version import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="patron-kit", description="Library patron APIs from Python notebooks.",
        epilog="examples: patron-kit sandbox --only fsi | patron-kit demo --notebooks notebooks")
    parser.add_argument("--version", action="version", version=f"patron-kit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("sandbox", help="serve the vendor emulators on 127.0.0.1 until interrupted")
    serve.add_argument("--only", action="append", metavar="VENDOR",
                       help="serve only this vendor's emulator (repeat for several; default: all)")
    serve.add_argument("--size", action="append", default=[], metavar="VENDOR=N",
                       help="synthetic patrons a vendor's emulator seeds, e.g. --size fsi=5000")
    serve.add_argument("--seed", type=int, default=2024, help="data seed (default 2024)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--port", type=int, metavar="BASE",
                       help="listen on BASE, BASE+1, ... (one port per server, in the order printed), "
                            "so the URLs stay the same across restarts; default: free ports")
    serve.add_argument("--check", action="store_true", help="start, print where to connect, and stop")

    demo = commands.add_parser("demo", help="execute every notebook against the embedded sandbox")
    demo.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default notebooks)")
    demo.add_argument("--output", default="build/demo", help="where the executed HTML goes")

    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return _serve(args, parser)
    from .demo import run_demo

    return run_demo(args.notebooks, args.output)


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import _registry
    from .sandbox import Sandbox

    sizes: dict[str, int] = {}
    for item in args.size:
        vendor, _, number = item.partition("=")
        if not number.isdigit() or int(number) < 1:
            parser.error(f"--size takes VENDOR=N with N a whole number >= 1, not {item!r}")
        sizes[vendor] = int(number)
    if args.port is not None and not 1 <= args.port <= 65535:
        parser.error(f"--port takes a port number from 1 to 65535, not {args.port}")
    try:
        sandbox = Sandbox(seed=args.seed, latency=args.latency, sizes=sizes, only=args.only, port=args.port)
    except ValueError as exc:
        parser.error(str(exc))
    titles = {name: spec.title for name, spec in _registry.vendors().items()}
    try:
        sandbox.start()
    except (OSError, OverflowError) as exc:  # a port taken, or past 65535
        reason = getattr(exc, "strerror", None) or exc
        print(f"patron-kit sandbox: cannot listen on the ports from {args.port}: {reason}", file=sys.stderr)
        return 1
    with sandbox:
        print("patron-kit sandbox is running" + ("" if args.check else " (Ctrl-C to stop)"))
        for name, emulator in sandbox.emulators.items():
            print(f"  {titles[name]} ({name})")
            for label, value in emulator.banner():
                print(f"    {label + ':':<14} {value}")
        print(f"  seed {args.seed}; these are sandbox credentials, not secrets.")
        sys.stdout.flush()
        if not args.check:
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
