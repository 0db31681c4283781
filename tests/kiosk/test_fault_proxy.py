"""The fault proxy itself: it forwards faithfully, and each fault does exactly what it says, no more."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from fault_proxy import (
    BLACKHOLE,
    CUT_AFTER_REQUEST,
    DROP,
    PASS,
    RESET,
    THREAD_PREFIX,
    FaultProxy,
    Mode,
    Seen,
    delay,
    gateway_error,
)

from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.hq_client import HqClient, HqNoAnswer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Upstream

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, body: bytes, *, content_type: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/hits":
            self._answer(json.dumps({"hits": self.server.hits}).encode())
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one,", b"two,", b"three"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length: the end of the connection ends the body")
            self.close_connection = True
        else:
            self._answer(b'{"ok": true}')

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/count":
            with self.server.lock:
                self.server.hits += 1
                hits = self.server.hits
            self._answer(json.dumps({"hits": hits}).encode())
        else:
            self._answer(body, content_type="application/octet-stream")


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def proxy(upstream: _Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url, name="test") as running:
        yield running
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def test_pass_forwards_bodies_chunked_and_close_delimited_answers_on_kept_alive_connections(
    proxy: FaultProxy,
) -> None:
    with requests.Session() as session:
        body = bytes(range(256)) * 300  # larger than one recv
        assert session.post(f"{proxy.url}/echo", data=body, timeout=5).content == body
        assert session.get(f"{proxy.url}/chunked", timeout=5).text == "one,two,three"
        assert session.post(f"{proxy.url}/count", json={}, timeout=5).json() == {"hits": 1}
        assert session.get(f"{proxy.url}/until-close", timeout=5).text.endswith("ends the body")
        assert session.get(f"{proxy.url}/hits", timeout=5).json() == {"hits": 1}
    seen = proxy.seen()
    assert [(s.method, s.target, s.status) for s in seen] == [
        ("POST", "/echo", 200), ("GET", "/chunked", 200), ("POST", "/count", 200),
        ("GET", "/until-close", 200), ("GET", "/hits", 200),
    ]
    assert len({s.conn for s in seen[:4]}) == 1  # one kept-alive connection until the server closed it
    assert seen[4].conn != seen[3].conn
    assert all(s.fault == PASS for s in seen)


def test_drop_closes_new_connections_without_forwarding(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(DROP)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{proxy.url}/count", timeout=2)
    with socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])), timeout=2) as raw:
        assert raw.recv(1) == b""  # closed at once, before any request
    proxy.heal()
    assert requests.get(f"{proxy.url}/hits", timeout=2).json() == {"hits": 0}


def test_drop_also_ends_a_kept_alive_connection_at_its_next_request(proxy: FaultProxy, upstream: _Upstream) -> None:
    with requests.Session() as session:
        session.get(f"{proxy.url}/hits", timeout=2)
        proxy.set_mode(DROP)
        with pytest.raises(requests.ConnectionError):
            session.post(f"{proxy.url}/count", timeout=2)
    assert upstream.hits == 0


def test_reset_sends_an_rst(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(RESET)
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        raw.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        with pytest.raises(ConnectionResetError):
            raw.recv(1)
    assert upstream.hits == 0


def test_delay_holds_the_answer_after_the_request_was_acted_on(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(delay(0.3))
    started = time.monotonic()
    assert requests.post(f"{proxy.url}/count", timeout=2).json() == {"hits": 1}
    assert time.monotonic() - started >= 0.3
    proxy.set_mode(delay(1.0))
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{proxy.url}/count", timeout=0.2)
    assert upstream.hits == 2  # HQ acted on it; the answer came too late


def test_blackhole_neither_forwards_nor_answers(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(BLACKHOLE)
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{proxy.url}/count", timeout=0.2)
    assert upstream.hits == 0
    assert proxy.seen()[-1].status is None


def test_cut_after_request_lets_hq_act_then_closes_before_any_answer(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(CUT_AFTER_REQUEST)
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        raw.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        assert raw.recv(1) == b""  # not a byte of the answer
    assert upstream.hits == 1
    assert proxy.seen()[-1].status == 200  # HQ did answer: the proxy kept it


def test_gateway_error_lets_hq_act_then_answers_in_its_place(proxy: FaultProxy, upstream: _Upstream) -> None:
    proxy.set_mode(gateway_error(504))
    answer = requests.post(f"{proxy.url}/count", timeout=2)
    assert answer.status_code == 504 and "Gateway Timeout" in answer.text
    assert upstream.hits == 1 and proxy.seen()[-1].status == 200
    assert str(gateway_error(502)) == "gateway_error(502)" and str(delay(0.5)) == "delay(0.5)"


def test_rules_target_one_method_and_path_a_number_of_times(proxy: FaultProxy, upstream: _Upstream) -> None:
    calls: list[Seen] = []
    rule = proxy.add_rule(RESET, method="POST", path=r"/count", times=2, on_match=calls.append)
    proxy.add_rule(BLACKHOLE, method="GET", path=r"/never(\?.*)?", times=None)
    with requests.Session() as session:
        assert session.get(f"{proxy.url}/hits", timeout=2).json() == {"hits": 0}  # other method: passes
        assert session.post(f"{proxy.url}/echo", data=b"x", timeout=2).content == b"x"  # other path: passes
        for _ in range(2):
            with pytest.raises(requests.ConnectionError):
                session.post(f"{proxy.url}/count", timeout=2)
        assert session.post(f"{proxy.url}/count", timeout=2).json() == {"hits": 1}  # used up: passes
        for _ in range(2):
            with pytest.raises(requests.ReadTimeout):
                session.get(f"{proxy.url}/never?x=1", timeout=0.1)
    assert rule.hits == 2 and rule.exhausted and len(calls) == 2
    assert [s.fault.mode for s in proxy.seen()] == [
        Mode.PASS, Mode.PASS, Mode.RESET, Mode.RESET, Mode.PASS, Mode.BLACKHOLE, Mode.BLACKHOLE
    ]


def test_on_match_runs_before_the_request_is_forwarded(proxy: FaultProxy, upstream: _Upstream) -> None:
    before: list[int] = []
    proxy.add_rule(PASS, path="/count", on_match=lambda _seen: before.append(upstream.hits))

    def broken(_seen: Seen) -> None:
        raise ZeroDivisionError

    proxy.add_rule(PASS, path="/hits", on_match=broken)
    assert requests.post(f"{proxy.url}/count", timeout=2).json() == {"hits": 1}
    assert before == [0]
    assert requests.get(f"{proxy.url}/hits", timeout=2).ok  # a failing callback does not break the proxy
    assert [type(e) for e in proxy.errors] == [ZeroDivisionError]


def test_stop_is_prompt_and_leaves_no_thread_even_with_connections_held(upstream: _Upstream) -> None:
    proxy = FaultProxy(upstream.url, name="stop").start()
    proxy.add_rule(delay(30), path="/hits")
    proxy.add_rule(BLACKHOLE, path="/count")
    errors: list[BaseException] = []

    def call(method: str, path: str) -> None:
        try:
            requests.request(method, f"{proxy.url}{path}", timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    callers = [threading.Thread(target=call, args=args) for args in (("GET", "/hits"), ("POST", "/count"))]
    for caller in callers:
        caller.start()
    proxy.wait_until(lambda: len(proxy.seen()) == 2)
    idle = socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])))  # a connection saying nothing
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 2
    for caller in callers:
        caller.join(5)
    idle.close()
    assert len(errors) == 2
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def test_hq_client_through_the_proxy_sees_an_unknown_outcome(hq_server: HqServer) -> None:
    """Against the real HQ: a cut answer is HqNoAnswer, and the order it asked for does exist."""
    with FaultProxy(hq_server.base_url, name="hq") as proxy:
        client = HqClient(proxy.url, 1.0, 0.5)
        try:
            key = "fault-proxy-test-" + str(time.time_ns())
            proxy.add_rule(CUT_AFTER_REQUEST, method="POST", path="/api/v1/orders")
            with pytest.raises(HqNoAnswer):
                client.create_order(
                    idempotency_key=key, terminal_id="T-TEST", house_id=MAIN_HOUSE.house_id,
                    meter_id=MAIN_HOUSE.lighting_meter_id, amount_fen=2000,
                )
            found = client.order_by_key(key)  # the next request passes, on a new connection
            assert found.status.value == "awaiting_payment"
            assert client.cancel_order(found.order_no).status.value == "cancelled"
            assert [s.status for s in proxy.seen()] == [201, 200, 200]
        finally:
            client.close()
