"""A loopback HTTP API to drive the demo's simulated devices from scripts and tests (docs/simulators.md)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devices.base import PaperState
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner

MAX_BODY = 4096
MAX_GARBAGE = 1024  # bytes of line noise per request


class ControlApi:
    """Serves the simulator controls on 127.0.0.1; `screen` reports what the terminal shows now."""

    def __init__(
        self,
        card_reader: SimulatedCardReader,
        qr_scanner: SimulatedQrScanner,
        printer: SimulatedPrinter,
        screen: Callable[[], object],
        port: int = 0,
    ) -> None:
        self.card_reader = card_reader
        self.qr_scanner = qr_scanner
        self.printer = printer
        self._screen = screen
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="control-api", daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _routes(self) -> dict[tuple[str, str], Callable[[dict[str, Any]], Any]]:
        return {
            ("GET", "/state"): lambda _body: {"screen": _describe(self._screen())},
            ("POST", "/card/insert"): self._insert_card,
            ("POST", "/card/remove"): lambda _body: self.card_reader.remove(),
            ("POST", "/qr/scan"): self._scan,
            ("POST", "/card/unplug"): lambda _body: self.card_reader.unplug(),
            ("POST", "/card/replug"): lambda _body: self.card_reader.replug(),
            ("POST", "/card/garbage"): lambda body: self.card_reader.send_garbage(_garbage(body)),
            ("POST", "/qr/unplug"): lambda _body: self.qr_scanner.unplug(),
            ("POST", "/qr/replug"): lambda _body: self.qr_scanner.replug(),
            ("POST", "/qr/garbage"): lambda body: self.qr_scanner.send_garbage(_garbage(body)),
            ("GET", "/devices"): lambda _body: {
                device.kind: _describe(device.status) for device in (self.card_reader, self.qr_scanner, self.printer)
            },
            ("POST", "/printer/paper"): self._paper,
            ("POST", "/printer/offline"): self._offline,
            ("POST", "/printer/cover"): self._cover,
            ("POST", "/printer/drop"): lambda _body: self.printer.drop_connection(),
            ("GET", "/printer/receipts"): lambda _body: {"receipts": [r.text for r in self.printer.printed]},
        }

    def _insert_card(self, body: dict[str, Any]) -> None:
        self.card_reader.insert(_text(body, "card_id"))

    def _scan(self, body: dict[str, Any]) -> None:
        self.qr_scanner.scan(_text(body, "payload"))

    def _paper(self, body: dict[str, Any]) -> None:
        try:
            state = PaperState(_text(body, "state"))
        except ValueError as exc:
            raise BadRequest("state must be one of ok, low, out") from exc
        self.printer.set_paper(state)

    def _offline(self, body: dict[str, Any]) -> None:
        value = body.get("offline")
        if not isinstance(value, bool):
            raise BadRequest("offline must be true or false")
        self.printer.set_offline(value)

    def _cover(self, body: dict[str, Any]) -> None:
        value = body.get("open")
        if not isinstance(value, bool):
            raise BadRequest("open must be true or false")
        self.printer.set_cover_open(value)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                route = api._routes().get((method, self.path.split("?")[0]))
                if route is None:
                    self._reply(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})
                    return
                try:
                    result = route(self._body())
                except BadRequest as exc:
                    self._reply(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                    return
                except (RuntimeError, ValueError) as exc:  # e.g. a device that is closed
                    self._reply(HTTPStatus.CONFLICT, {"error": str(exc)})
                    return
                self._reply(HTTPStatus.OK, result if result is not None else {"ok": True})

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise BadRequest("body too large")
                if not length:
                    return {}
                try:
                    data = json.loads(self.rfile.read(length))
                except ValueError as exc:
                    raise BadRequest("body is not JSON") from exc
                if not isinstance(data, dict):
                    raise BadRequest("body must be a JSON object")
                return data

            def _reply(self, status: HTTPStatus, payload: Any) -> None:
                data = json.dumps(payload, ensure_ascii=False, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                return  # requests are not worth a log line each

        return Handler


class BadRequest(Exception):
    """The control request is malformed."""


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or len(value) > 1024:
        raise BadRequest(f"{key} must be a string of at most 1024 characters")
    return value


def _garbage(body: dict[str, Any]) -> bytes:
    """Line noise to send: {"hex": "02ff..."} as given, or {"count": N} random bytes (default 256)."""
    if "hex" in body:
        text = body["hex"]
        try:
            data = bytes.fromhex(text) if isinstance(text, str) and len(text) <= 2 * MAX_GARBAGE else None
        except ValueError:
            data = None
        if not data:
            raise BadRequest(f"hex must be 1 to {MAX_GARBAGE} bytes written as hex digits")
        return data
    count = body.get("count", 256)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_GARBAGE:
        raise BadRequest(f"count must be a whole number from 1 to {MAX_GARBAGE}")
    return os.urandom(count)


def _describe(screen: object) -> dict[str, Any]:
    """The screen model as JSON: its kind and fields (without the house's full data)."""
    data: dict[str, Any] = {"kind": type(screen).__name__}
    if is_dataclass(screen) and not isinstance(screen, type):
        for key, value in asdict(screen).items():
            if key in ("overview", "forecasts"):
                continue
            data[key] = value
    return data
