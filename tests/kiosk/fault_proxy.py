"""A fault-injecting TCP proxy for tests: sits on 127.0.0.1 in front of HQ and breaks the network on demand.

Each client connection gets its own upstream connection, opened when its first request is forwarded. The proxy
parses just enough HTTP/1.1 to find where each request and each response ends (Content-Length or chunked
bodies; a response without either ends when upstream closes), so a fault can hit one request of a keep-alive
connection. Requests are handled one at a time per connection (requests does not pipeline).

What happens to a request is decided when it has been read in full: the first rule that matches its method and
target (path with query) and still has uses left, else the proxy's mode:

- `pass`: forward it and relay the answer.
- `drop`: close the client connection (no answer, nothing forwarded); in this mode new connections are
  closed as soon as they are accepted.
- `reset`: reset the client connection (SO_LINGER 0, so an RST), nothing forwarded.
- `delay(s)`: forward it, take HQ's whole answer, and send it `s` seconds later.
- `blackhole`: forward nothing and answer nothing; the connection stays open until the client gives up.
- `cut_after_request`: forward it, wait until HQ has answered (so it has acted on it), then close the client
  connection before a byte of the answer reaches it: the outcome is unknown to the client.
- `gateway_error(status)`: forward it, wait until HQ has answered, and answer the client with that status (502,
  504...) and an HTML page instead, then close: what a reverse proxy in front of HQ does when it gives up.

    with FaultProxy(hq.base_url) as proxy:
        rule = proxy.add_rule(CUT_AFTER_REQUEST, method="POST", path=r"/api/v1/orders", times=1)
        ...                                   # the terminal talks to proxy.url
        proxy.heal()                          # back to pass, rules cleared
"""

from __future__ import annotations

import contextlib
import itertools
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from urllib.parse import urlsplit

THREAD_PREFIX = "fault-proxy"
_MAX_HEAD = 64 * 1024
_CRLF = b"\r\n"


class Mode(StrEnum):
    PASS = "pass"
    DROP = "drop"
    RESET = "reset"
    DELAY = "delay"
    BLACKHOLE = "blackhole"
    CUT_AFTER_REQUEST = "cut_after_request"
    GATEWAY_ERROR = "gateway_error"


@dataclass(frozen=True)
class Fault:
    """What the proxy does to a request; `seconds` is used by `delay` only, `status` by `gateway_error` only."""

    mode: Mode
    seconds: float = 0.0
    status: int = 502

    def __str__(self) -> str:
        if self.mode is Mode.DELAY:
            return f"delay({self.seconds:g})"
        if self.mode is Mode.GATEWAY_ERROR:
            return f"gateway_error({self.status})"
        return self.mode.value


PASS = Fault(Mode.PASS)
DROP = Fault(Mode.DROP)
RESET = Fault(Mode.RESET)
BLACKHOLE = Fault(Mode.BLACKHOLE)
CUT_AFTER_REQUEST = Fault(Mode.CUT_AFTER_REQUEST)


def delay(seconds: float) -> Fault:
    """Forward the request, hold HQ's answer for `seconds`, then send it."""
    if seconds < 0:
        raise ValueError("a delay cannot be negative")
    return Fault(Mode.DELAY, seconds)


def gateway_error(status: int = 502) -> Fault:
    """Forward the request, let HQ act on it, and answer with `status` from the "gateway" instead of HQ's answer."""
    if not 500 <= status <= 599:
        raise ValueError("a gateway error is a 5xx status")
    return Fault(Mode.GATEWAY_ERROR, status=status)


_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _gateway_page(status: int) -> bytes:
    reason = _REASONS.get(status, "Gateway Error")
    body = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>\r\n"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return (head + body).encode("ascii")


@dataclass
class Seen:
    """One request the proxy read, what it did to it, and HQ's status code if it was forwarded and answered."""

    conn: int
    method: str
    target: str
    fault: Fault
    status: int | None = None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


OnMatch = Callable[[Seen], None]


@dataclass
class Rule:
    """Apply `fault` to requests with this method (None: any) whose target fully matches `path` (None: any),
    `times` times (None: every time). `on_match` runs in the proxy's thread before the fault is applied."""

    fault: Fault
    method: str | None = None
    path: re.Pattern[str] | None = None
    times: int | None = None
    on_match: OnMatch | None = None
    hits: int = 0
    seen: list[Seen] = field(default_factory=list)

    def matches(self, method: str, target: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path.fullmatch(target) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class _Closed(ConnectionError):
    """The peer closed the connection (cleanly between messages, or in the middle of one)."""


class _Reader:
    """Buffered reads from a socket: lines, exact counts, up to a marker, to the end."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()

    @property
    def buffered(self) -> bool:
        return bool(self._buf)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self._buf += data
        return True

    def read_until(self, marker: bytes, limit: int) -> bytes | None:
        """Bytes up to and including `marker`; None on a clean end before any byte."""
        start = 0
        while True:
            index = self._buf.find(marker, start)
            if index >= 0:
                end = index + len(marker)
                chunk = bytes(self._buf[:end])
                del self._buf[:end]
                return chunk
            if len(self._buf) > limit:
                raise _Closed("message head too long")
            start = max(len(self._buf) - len(marker) + 1, 0)
            if not self._fill():
                if self._buf:
                    raise _Closed("connection closed in the middle of a message")
                return None

    def read_line(self) -> bytes:
        line = self.read_until(_CRLF, _MAX_HEAD)
        if line is None:
            raise _Closed("connection closed in the middle of a message")
        return line

    def read_exact(self, count: int) -> bytes:
        while len(self._buf) < count:
            if not self._fill():
                raise _Closed("connection closed in the middle of a message")
        chunk = bytes(self._buf[:count])
        del self._buf[:count]
        return chunk

    def read_to_end(self) -> bytes:
        while self._fill():
            pass
        chunk = bytes(self._buf)
        self._buf.clear()
        return chunk


@dataclass
class _Message:
    start_line: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    raw: bytes
    close: bool  # the connection ends after this message


def _read_head(reader: _Reader) -> tuple[str, dict[str, str], bytes] | None:
    head = reader.read_until(b"\r\n\r\n", _MAX_HEAD)
    if head is None:
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return lines[0], headers, head


def _read_body(reader: _Reader, headers: dict[str, str], *, to_end: bool) -> tuple[bytes, bool]:
    """The body as sent (chunked bodies kept chunked); True if it ended with the connection."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = reader.read_line()
            parts.append(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = reader.read_line()
                    parts.append(trailer)
                    if trailer == _CRLF:
                        return b"".join(parts), False
            parts.append(reader.read_exact(size + 2))
    if "content-length" in headers:
        return reader.read_exact(int(headers["content-length"])), False
    if to_end:
        return reader.read_to_end(), True
    return b"", False


def _wants_close(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    return "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)


def _read_request(reader: _Reader) -> _Message | None:
    parsed = _read_head(reader)
    if parsed is None:
        return None
    start_line, headers, head = parsed
    body, _ = _read_body(reader, headers, to_end=False)
    version = start_line.rsplit(" ", 1)[-1]
    return _Message(start_line, headers, head + body, _wants_close(version, headers))


def _read_response(reader: _Reader, method: str) -> tuple[_Message, int]:
    raw = b""
    while True:
        parsed = _read_head(reader)
        if parsed is None:
            raise _Closed("upstream closed without answering")
        start_line, headers, head = parsed
        version, _, rest = start_line.partition(" ")
        status = int(rest.split(" ", 1)[0])
        if 100 <= status < 200 and status != 101:
            raw += head  # an interim answer: the real one follows
            continue
        if method == "HEAD" or status in (204, 304):
            body, ended = b"", False
        else:
            body, ended = _read_body(reader, headers, to_end=True)
        close = ended or _wants_close(version, headers)
        return _Message(start_line, headers, raw + head + body, close), status


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    """A threaded TCP proxy on 127.0.0.1 (an OS-chosen port) in front of `upstream_url`."""

    def __init__(self, upstream_url: str, *, name: str = "proxy") -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need an http://host:port URL, not {upstream_url!r}")
        self.upstream = (parts.hostname, parts.port)
        self.name = name
        self._lock = threading.Condition()
        self._mode = PASS
        self._rules: list[Rule] = []
        self._seen: list[Seen] = []
        self.errors: list[BaseException] = []  # exceptions raised by on_match callbacks
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._conn_ids = itertools.count(1)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._port = 0

    # ---- life cycle -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("FaultProxy is not started")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FaultProxy:
        listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        listener.settimeout(0.05)  # so the accept loop notices stop() on every platform
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{THREAD_PREFIX}-{self.name}-accept", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection and wait for every thread; RuntimeError if one is still alive."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
            self._lock.notify_all()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        alive = [t.name for t in [*threads, self._accept_thread] if t is not None and t.is_alive()]
        if alive:
            raise RuntimeError(f"fault proxy threads still running: {alive}")

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- control (any thread) -------------------------------------------------------------------------

    @property
    def mode(self) -> Fault:
        return self._mode

    def set_mode(self, fault: Fault) -> None:
        """What to do to every request no rule takes."""
        with self._lock:
            self._mode = fault

    def add_rule(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        on_match: OnMatch | None = None,
    ) -> Rule:
        """Apply `fault` to requests like `method path` (path: a regex the whole target must match)."""
        rule = Rule(fault, method, re.compile(path) if path is not None else None, times, on_match)
        with self._lock:
            self._rules.append(rule)
        return rule

    def heal(self) -> None:
        """Back to `pass` for everything: mode reset, rules removed."""
        with self._lock:
            self._mode = PASS
            self._rules.clear()

    def seen(self) -> list[Seen]:
        """Every request read so far, in order."""
        with self._lock:
            return list(self._seen)

    def wait_until(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        """Block until `predicate()` is true (checked whenever a request is read); TimeoutError after timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("condition not reached")
                self._lock.wait(min(remaining, 0.05))

    # ---- the proxy ------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                if self._mode.mode is Mode.DROP or self._stopping.is_set():
                    client.close()
                    continue
                self._sockets.add(client)
                self._threads = [t for t in self._threads if t.is_alive()]
                conn = next(self._conn_ids)
                thread = threading.Thread(
                    target=self._serve, args=(client, conn), name=f"{THREAD_PREFIX}-{self.name}-{conn}", daemon=True
                )
                self._threads.append(thread)
            thread.start()

    def _choose(self, conn: int, method: str, target: str) -> tuple[Seen, Rule | None]:
        with self._lock:
            rule = next((r for r in self._rules if r.matches(method, target)), None)
            seen = Seen(conn, method, target, rule.fault if rule else self._mode)
            if rule is not None:
                rule.hits += 1
                rule.seen.append(seen)
            self._seen.append(seen)
            self._lock.notify_all()
        return seen, rule

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                raise _Closed("proxy stopping")
            self._sockets.add(sock)

    def _forget(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.discard(sock)
        sock.close()

    def _connect_upstream(self, current: _Reader | None) -> _Reader:
        """The connection's upstream, reconnected if HQ closed it while idle."""
        if current is not None:
            readable, _, _ = select.select([current.sock], [], [], 0)
            if not readable and not current.buffered:
                return current
            self._forget(current.sock)  # closed by HQ (keep-alive timeout), or talking out of turn
        sock = socket.create_connection(self.upstream, timeout=5.0)
        sock.settimeout(None)
        self._track(sock)
        return _Reader(sock)

    def _serve(self, client: socket.socket, conn: int) -> None:
        reader = _Reader(client)
        upstream: _Reader | None = None
        reset = False
        try:
            while not self._stopping.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                method, _, rest = request.start_line.partition(" ")
                target = rest.rsplit(" ", 1)[0]
                seen, rule = self._choose(conn, method, target)
                if rule is not None and rule.on_match is not None:
                    try:
                        rule.on_match(seen)
                    except Exception as exc:  # reported to the test through `errors`
                        self.errors.append(exc)
                mode = seen.fault.mode
                if mode is Mode.DROP:
                    return
                if mode is Mode.RESET:
                    reset = True
                    return
                if mode is Mode.BLACKHOLE:
                    while not self._stopping.is_set() and client.recv(65536):
                        pass  # swallow whatever comes until the client gives up
                    return
                upstream = self._connect_upstream(upstream)
                upstream.sock.sendall(request.raw)
                response, seen.status = _read_response(upstream, method)
                with self._lock:
                    self._lock.notify_all()
                if mode is Mode.CUT_AFTER_REQUEST:
                    return
                if mode is Mode.GATEWAY_ERROR:
                    client.sendall(_gateway_page(seen.fault.status))
                    return
                if mode is Mode.DELAY and self._stopping.wait(seen.fault.seconds):
                    return
                client.sendall(response.raw)
                if response.close or request.close:
                    return  # mirror the end of the connection (a body without a length ends with it)
        except (OSError, ValueError):
            return  # a peer went away or spoke something that is not HTTP: the connection ends
        finally:
            self._forget(upstream.sock if upstream is not None else None)
            with self._lock:
                self._sockets.discard(client)
            if reset:
                _reset(client)
            else:
                client.close()
