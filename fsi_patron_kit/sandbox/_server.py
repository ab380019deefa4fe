"""What every emulator shares: a real HTTP server on 127.0.0.1, fault knobs, counters and a lock.

Each emulator is a WSGI application written with werkzeug's Request and Response, which parse
JSON, forms and cookies properly, so an emulator is only the vendor's logic. They are served
by the small gateway below on the standard library's threading HTTP server rather than by
werkzeug's development server, because that one closes every connection: real tenants keep
connections open, and the kit's pooling must be measured against that. The fault layer sits
in front of every emulator so that latency, 500s, resets and 429s behave the same for all.

:class:`ServedEmulator` is the start/stop/url every emulator needs, :func:`ports_from` gives
servers fixed ports (``patron-kit sandbox --port``), and :class:`ReadWriteLock` lets requests
that only read run side by side.
"""

from __future__ import annotations

import io
import itertools
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import attrs
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
FAULT_KINDS = ("reset", "500", "429", "503", "reset-after", "502-after")


@attrs.define(kw_only=True)
class Knobs:
    """Faults and timings an emulator applies; change them at any time, even mid-run.

    Random faults use a seeded generator so a run is repeatable. ``fail_next`` queues exact
    faults for tests: ``"reset"``, ``"500"``, ``"429"`` or ``"503"`` (the request is not
    processed), or ``"reset-after"`` and ``"502-after"`` (it is processed, then the answer is
    lost: the connection reset, or a proxy's 502 instead of the answer).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    reset_rate: float = 0.0
    rate_limit: float | None = None
    retry_after: int = 1
    token_lifetime: float = 1200.0
    unavailable_rate: float = 0.0
    reset_after_rate: float = 0.0
    bad_gateway_after_rate: float = 0.0
    seed: int = 7
    _queue: list[str] = attrs.field(init=False, factory=list)
    _rng: random.Random = attrs.field(init=False)
    _bucket: tuple[float, float] = attrs.field(init=False, default=(0.0, 0.0))
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fail_next(self, kind: str, count: int = 1) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._queue.extend([kind] * count)

    def clear(self) -> None:
        """Back to a well-behaved server."""
        with self._lock:
            self._queue.clear()
        self.latency = self.error_rate = self.reset_rate = 0.0
        self.unavailable_rate = self.reset_after_rate = self.bad_gateway_after_rate = 0.0
        self.rate_limit = None

    def draw(self) -> str | None:
        """The fault for the next request, if any."""
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            if self.rate_limit and not self._take_token():
                return "429"
            roll = self._rng.random()
        threshold = 0.0
        for kind, rate in (("reset", self.reset_rate), ("500", self.error_rate), ("503", self.unavailable_rate),
                           ("reset-after", self.reset_after_rate), ("502-after", self.bad_gateway_after_rate)):
            threshold += rate
            if roll < threshold:
                return kind
        return None

    def _take_token(self) -> bool:
        tokens, stamp = self._bucket
        now = time.monotonic()
        capacity = max(1.0, float(self.rate_limit or 1))
        tokens = min(capacity, tokens + (now - stamp) * float(self.rate_limit or 0)) if stamp else capacity
        if tokens >= 1:
            self._bucket = (tokens - 1, now)
            return True
        self._bucket = (tokens, now)
        return False


@attrs.define
class Counters:
    """What an emulator received and wrote, so tests can prove what did and did not happen."""

    requests: int = 0
    connections: int = 0
    in_flight: int = 0  # requests being served right now
    peak_in_flight: int = 0  # the most requests ever served at the same moment
    scanned: int = 0  # stored records examined to answer (a page's records, or a whole scan)
    actions: Counter = attrs.field(factory=Counter)
    writes: Counter = attrs.field(factory=Counter)
    faults: Counter = attrs.field(factory=Counter)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count a request as in flight while it is being served."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def connection(self) -> None:
        with self._lock:
            self.connections += 1

    def action(self, name: str) -> None:
        with self._lock:
            self.actions[name] += 1

    def write(self, record_key: str) -> None:
        with self._lock:
            self.writes[record_key] += 1

    def scan(self, records: int) -> None:
        with self._lock:
            self.scanned += records

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            self.requests = self.connections = self.peak_in_flight = self.scanned = 0
            self.actions.clear()
            self.writes.clear()
            self.faults.clear()


class FaultLayer:
    """WSGI middleware: count, then apply the knobs, then hand over to the emulator."""

    def __init__(self, app: WSGIApp, knobs: Knobs, counters: Counters, fault_response: Callable[[], Response]):
        self.app = app
        self.knobs = knobs
        self.counters = counters
        self.fault_response = fault_response

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self.counters.serving():
            return self._serve(environ, start_response)

    def _serve(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.knobs.latency:  # slept before the emulator is reached, so outside every lock it takes
            time.sleep(self.knobs.latency)
        fault = self.knobs.draw()
        if fault is None:
            return self.app(environ, start_response)
        self.counters.fault(fault)
        if fault.endswith("-after"):  # processed, then the answer is lost
            b"".join(self.app(environ, lambda *args: lambda data: None))
            if fault == "reset-after":
                _reset(environ["patron_kit.socket"])
                raise _ResetConnection
            return Response("Bad Gateway", status=502, mimetype="text/plain")(environ, start_response)
        if fault == "reset":
            Request(environ).get_data()  # read the body so the client has finished sending
            _reset(environ["patron_kit.socket"])
            raise _ResetConnection
        if fault in ("429", "503"):
            text = "Too Many Requests" if fault == "429" else "Service Unavailable"
            response = Response(text, status=int(fault), mimetype="text/plain")
            response.headers["Retry-After"] = str(self.knobs.retry_after)
        else:
            response = self.fault_response()
        return response(environ, start_response)


class _ResetConnection(Exception):
    """Ends a request whose connection the fault layer has already dropped."""


def _reset(connection: socket.socket) -> None:
    """Drop the connection with a TCP reset, as a crashing proxy or load balancer would."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    """A minimal keep-alive WSGI gateway: one request at a time per connection, body read whole.

    Reading the whole body before calling the application is what makes keep-alive safe: the
    next request line is never mistaken for left-over body.
    """

    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle connection may wait for its next request
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)
        # Headers and body leave in two writes; without this, Nagle's algorithm holds the body
        # back until the client's delayed ACK, some 40 ms per request on a kept-alive socket.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.counters is not None:
            self.server.counters.connection()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method goes to the WSGI application
            return self._run_wsgi
        raise AttributeError(name)

    def _run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "Length Required")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            answer[:] = [status, headers]
            return lambda data: None

        try:
            chunks = self.server.app(self._environ(body), start_response)
            payload = b"".join(chunks)
            getattr(chunks, "close", lambda: None)()
        except _ResetConnection:
            self.close_connection = True
            return
        status, headers = answer
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "patron_kit.socket": self.connection,
        }
        for name in set(self.headers.keys()):
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                separator = "; " if key == "HTTP_COOKIE" else ", "
                environ[key] = separator.join(self.headers.get_all(name, []))
        return environ

    def finish(self) -> None:
        super().finish()
        self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: WSGIApp, counters: Counters | None) -> None:
        self.app = app
        self.counters = counters
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-request is not the sandbox's problem to report

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """End kept-alive connections too: a stopped emulator must answer nothing more."""
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connections.clear()


_planned_ports: ContextVar[Iterator[int] | None] = ContextVar("planned_ports", default=None)


@contextmanager
def ports_from(base: int) -> Iterator[None]:
    """Servers created inside this block listen on ``base``, ``base + 1``, ... in the order they are made.

    ``patron-kit sandbox --port`` uses it so that a terminal user keeps the same URLs across restarts.
    """
    token = _planned_ports.set(itertools.count(base))
    try:
        yield
    finally:
        _planned_ports.reset(token)


class EmulatorServer:
    """One emulator served on 127.0.0.1 from a background thread.

    ``port=None`` takes the next port of an enclosing :func:`ports_from` block, else a free one.
    """

    def __init__(self, app: WSGIApp, *, counters: Counters | None = None, host: str = "127.0.0.1",
                 port: int | None = None) -> None:
        if port is None:
            plan = _planned_ports.get()
            port = next(plan) if plan is not None else 0
        self._server = _Server((host, port), app, counters)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="patron-kit-sandbox", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)


class ServedEmulator:
    """What every emulator does to be served: its WSGI apps behind the fault layer, one server each.

    A subclass names its apps in :meth:`apps` (``{"gateway": app, "edge": app}``; most have one)
    and its 500 answer in :meth:`fault_response`; ``url_of(name)`` is where an app listens.
    """

    title = "sandbox"  # the vendor's name, for "the FSI emulator is not running"

    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self.counters = Counters()
        self._servers: dict[str, EmulatorServer] = {}

    def apps(self) -> dict[str, WSGIApp]:
        raise NotImplementedError

    def fault_response(self) -> Response:
        raise NotImplementedError

    def start(self) -> Any:
        """Serve every app (on the next planned ports, if any); a failure stops those already started."""
        if self._servers:
            return self
        try:
            for name, app in self.apps().items():
                layer = FaultLayer(app, self.knobs, self.counters, self.fault_response)
                self._servers[name] = EmulatorServer(layer, counters=self.counters).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server (one after the other: no new thread, so this works at interpreter exit)."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url_of(self, name: str) -> str:
        if name not in self._servers:
            raise RuntimeError(f"the {self.title} emulator is not running")
        return self._servers[name].url


class ReadWriteLock:
    """Many readers at once, or one writer; a waiting writer holds back new readers, so it is not starved.

    The emulators hold it only around their own logic, never while a request is read, slept on
    or answered, so slow requests overlap and reads never wait for each other.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            while self._writing or self._writers_waiting:
                self._changed.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                if not self._readers:
                    self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._changed.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
