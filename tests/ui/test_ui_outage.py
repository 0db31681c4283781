"""The network to HQ fails in the middle of each kind of journey; what does the resident see, and what is kept?

Real widgets, the real core and the real HQ on loopback, with simulated devices. The terminal reaches HQ only
through `Link`, a small TCP relay the test cuts (connections reset, the port refuses) and restores. The
resident's phone has its own network: it pays at HQ directly, whatever the terminal's link is doing.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devices.simulators import SimulatedCardReader, SimulatedPrinter
from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.app import Terminal
from kiosk.config import config_from_mapping
from kiosk.messages import notice_text, outcome_title
from kiosk.screens import IdleScreen, Notice, Outcome, OverviewScreen, PaymentScreen, ResultScreen
from offline_queue.states import TxState
from ui.bridge import QtDispatcher, QtTimers
from ui.main_window import MainWindow
from ui.qt import Qt
from ui.screens.idle import IdleView
from ui.screens.overview import OverviewView
from ui.screens.payment import PaymentView
from ui.screens.result import ResultView

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 15_000


class Link:
    """A TCP relay from a loopback port to HQ: `cut()` resets every connection and refuses new ones (as a
    pulled cable looks to the terminal: "unreachable"), `restore()` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._accepting: threading.Thread | None = None
        self.restore()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        self._stop = threading.Event()
        self._accepting = threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True)
        self._accepting.start()

    def cut(self) -> None:
        self._stop.set()
        if self._accepting is not None:
            self._accepting.join(5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if stop.is_set():
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


Kiosk = tuple[Terminal, MainWindow, Link]


@pytest.fixture
def make_kiosk(qtbot: Any, tmp_path: Path) -> Iterator[Callable[[HqServer], Kiosk]]:
    started: list[tuple[Terminal, Link]] = []

    def build(server: HqServer) -> Kiosk:
        host, port = server.base_url.removeprefix("http://").split(":")
        link = Link((host, int(port)))
        config = config_from_mapping(
            {
                "terminal": {"id": "T-UI-OUTAGE"},
                "hq": {
                    "url": link.url, "connect_timeout_s": 1.0, "read_timeout_s": 3.0,
                    "health_interval_s": 1.0, "offline_probe_s": 0.1,
                },
                "ui": {"fullscreen": False, "orientation": "landscape", "language": "en"},
                "payment": {"poll_interval_s": 0.1},
                "queue": {"backoff_base_s": 0.1, "backoff_cap_s": 0.5},
                "storage": {"database": str(tmp_path / f"terminal{len(started)}.db")},
            }
        )
        dispatcher = QtDispatcher()
        terminal = Terminal(config, dispatcher.dispatch, QtTimers())
        window = MainWindow(terminal.journey, config, terminal.translator)
        qtbot.addWidget(window)
        terminal.start()
        window.present()
        started.append((terminal, link))
        return terminal, window, link

    yield build
    for terminal, link in started:
        terminal.stop()
        link.cut()


@pytest.fixture
def kiosk(make_kiosk: Callable[[HqServer], Kiosk], hq: HqServer) -> Kiosk:
    return make_kiosk(hq)


def showing(window: MainWindow, kind: type) -> bool:
    return window.current_view is window.views[kind] and isinstance(window.journey.screen, kind)


def devices(terminal: Terminal) -> tuple[SimulatedCardReader, SimulatedPrinter]:
    reader, printer = terminal.devices.card_reader, terminal.devices.printer
    assert isinstance(reader, SimulatedCardReader) and isinstance(printer, SimulatedPrinter)
    return reader, printer


def views(window: MainWindow) -> tuple[IdleView, OverviewView, PaymentView, ResultView]:
    idle, overview = window.views[IdleScreen], window.views[OverviewScreen]
    payment, result = window.views[PaymentScreen], window.views[ResultScreen]
    assert isinstance(idle, IdleView) and isinstance(overview, OverviewView)
    assert isinstance(payment, PaymentView) and isinstance(result, ResultView)
    return idle, overview, payment, result


def to_payment(qtbot: Any, terminal: Terminal, window: MainWindow) -> str:
    """Card, then "Recharge again": the QR is on screen. Returns the pay URL."""
    reader, _printer = devices(terminal)
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=WAIT_MS)
    _idle, overview, payment, _result = views(window)
    qtbot.mouseClick(overview.quick, LEFT)
    qtbot.waitUntil(lambda: showing(window, PaymentScreen), timeout=WAIT_MS)
    assert payment.qr.data
    return payment.qr.data


def pay_from_phone(pay_url: str) -> None:
    """The phone's own network: straight to HQ's checkout page, not through the terminal's link."""
    assert requests.get(pay_url, timeout=5).status_code == 200
    answer = requests.post(f"{pay_url}/pay", headers={"Accept": "application/json"}, timeout=5)
    assert answer.status_code == 200


def test_outage_before_identifying_shows_why_and_the_offline_badge(qtbot: Any, kiosk: Kiosk) -> None:
    terminal, window, link = kiosk
    reader, _printer = devices(terminal)
    idle, *_ = views(window)
    assert showing(window, IdleScreen) and idle.offline.isHidden()

    link.cut()
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: showing(window, IdleScreen) and idle.notice.isVisible(), timeout=WAIT_MS)
    assert idle.notice.text == notice_text(Notice.HQ_UNREACHABLE)
    assert "cannot be reached" in idle.notice.text
    assert idle.offline.isVisible() and "not possible right now" in idle.offline.label.text()
    assert idle.offline.waiting.isHidden()  # nothing was started, so nothing waits

    link.restore()  # the connectivity monitor notices by itself
    qtbot.waitUntil(lambda: idle.offline.isHidden(), timeout=WAIT_MS)
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=WAIT_MS)


def test_outage_after_the_overview_means_not_possible_and_nothing_charged(
    qtbot: Any, kiosk: Kiosk, hq: HqServer
) -> None:
    terminal, window, link = kiosk
    reader, printer = devices(terminal)
    _idle, overview, _payment, result = views(window)
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=WAIT_MS)
    assert overview.last_payment.isHidden()  # a fresh terminal: nothing unfinished to tell

    link.cut()
    qtbot.mouseClick(overview.quick, LEFT)
    qtbot.waitUntil(lambda: showing(window, ResultScreen), timeout=WAIT_MS)
    assert result.title.text() == outcome_title(Outcome.NOT_STARTED) == "Payment not possible right now"
    assert "Nothing was charged" in result.detail.text()
    assert result.notice.isVisible() and result.notice.text == notice_text(Notice.HQ_UNREACHABLE)
    assert result.icon.name == "cross" and result.order_panel.isHidden() and result.receipt.isHidden()
    assert printer.printed == []

    record = terminal.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.ABANDONED and record.order_no is None
    # HQ never heard of it: there is no order under its key.
    answer = requests.get(f"{hq.base_url}/api/v1/orders", params={"idempotency_key": record.idempotency_key},
                          timeout=5)
    assert answer.status_code == 404
    link.restore()


def test_outage_while_the_qr_is_shown_and_the_phone_pays_meanwhile(qtbot: Any, kiosk: Kiosk) -> None:
    terminal, window, link = kiosk
    _reader, printer = devices(terminal)
    _idle, _overview, payment, result = views(window)
    pay_url = to_payment(qtbot, terminal, window)
    assert payment.connection.isHidden()

    link.cut()
    qtbot.waitUntil(lambda: payment.connection.isVisible(), timeout=WAIT_MS)
    assert payment.connection.text == notice_text(Notice.CONNECTION_TROUBLE)
    assert "If you have paid, the payment is safe" in payment.connection.text
    assert payment.qr.data == pay_url and payment.cancel.isVisible()  # the QR stays up: paying still works

    pay_from_phone(pay_url)
    assert showing(window, PaymentScreen)  # the terminal cannot know yet
    link.restore()
    qtbot.waitUntil(lambda: showing(window, ResultScreen), timeout=WAIT_MS)
    assert result.title.text() == outcome_title(Outcome.PAID)
    order_no = window.journey.screen.order_no  # type: ignore[union-attr]
    assert order_no
    qtbot.waitUntil(lambda: result.receipt.text() == "Please take your receipt.", timeout=WAIT_MS)
    receipt = printer.wait_for_receipts(1, timeout=10)[0]
    assert order_no in receipt.text and "Electricity recharge" in receipt.text
    record = terminal.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.PAID and record.receipt_status == "printed"


def _outage_at_close(
    qtbot: Any, terminal: Terminal, window: MainWindow, link: Link, close: Callable[[str], None]
) -> tuple[str, TxState]:
    """Pay screen, cut, then `close(pay_url)` ends it (cancel or countdown). Checks what the resident sees until
    the queue has settled by itself; returns the order number and the state it settled in."""
    reader, printer = devices(terminal)
    idle, _overview, _payment, result = views(window)
    pay_url = to_payment(qtbot, terminal, window)
    link.cut()
    close(pay_url)

    qtbot.waitUntil(lambda: showing(window, ResultScreen), timeout=WAIT_MS)
    model = window.journey.screen
    assert isinstance(model, ResultScreen) and model.order_no
    order_no = model.order_no
    assert result.title.text() == outcome_title(Outcome.UNKNOWN) == "Payment being confirmed"
    assert result.icon.name == "clock"
    assert result.notice.isVisible() and result.notice.text == notice_text(Notice.CONNECTION_TROUBLE)
    # The order number is what the resident keeps: large, on its own card.
    assert result.order_panel.isVisible() and result.order_panel.number.text() == order_no
    qtbot.waitUntil(lambda: result.receipt.text() == "Please take your slip. It shows your order number.",
                    timeout=WAIT_MS)
    slip = printer.wait_for_receipts(1, timeout=10)[0]
    assert order_no in slip.text and "Payment being confirmed" in slip.text  # in the resident's language

    qtbot.mouseClick(result.done, LEFT)
    qtbot.waitUntil(lambda: showing(window, IdleScreen), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: idle.offline.waiting.isVisible(), timeout=WAIT_MS)
    assert idle.offline.isVisible()
    assert idle.offline.waiting.text() == "1 payment waiting to be confirmed"
    record = terminal.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.UNKNOWN

    link.restore()  # nobody touches anything: the monitor sees HQ back, the worker settles the queue
    qtbot.waitUntil(
        lambda: window.journey.screen == IdleScreen(language="en")
        and idle.offline.isHidden() and idle.waiting_note.isHidden(),
        timeout=WAIT_MS,
    )
    record = terminal.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.is_terminal
    assert len(printer.printed) == 1  # the slip only: nothing more was printed behind the resident's back

    reader.insert(MAIN_HOUSE.card_id)  # the next visit tells how it ended
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=WAIT_MS)
    return order_no, record.state


def test_outage_at_cancel_while_the_phone_paid_settles_as_paid_and_says_so_next_time(
    qtbot: Any, kiosk: Kiosk
) -> None:
    terminal, window, link = kiosk
    _idle, overview, payment, _result = views(window)

    def cancel_after_paying(pay_url: str) -> None:
        pay_from_phone(pay_url)  # the phone got through; the terminal, cut off, never heard
        qtbot.mouseClick(payment.cancel, LEFT)

    _order_no, state = _outage_at_close(qtbot, terminal, window, link, cancel_after_paying)
    assert state is TxState.PAID  # the cancel, sent once HQ was back, lost to the payment
    banner = overview.last_payment
    assert banner.isVisible() and banner.kind == "success" and banner.icon.name == "tick"
    assert banner.text.startswith("Your last payment of ¥100.00 on ")
    assert banner.text.endswith("went through. Your meter was recharged.")


def test_outage_at_countdown_end_settles_as_expired_and_says_so_next_time(
    qtbot: Any, make_kiosk: Callable[[HqServer], Kiosk]
) -> None:
    with HqServer(seed=True, order_ttl=timedelta(seconds=6)) as short_lived:
        terminal, window, link = make_kiosk(short_lived)
        _idle, overview, _payment, _result = views(window)

        def let_the_countdown_run_out(_pay_url: str) -> None:
            pass  # the journey's deadline timer ends it

        _order_no, state = _outage_at_close(qtbot, terminal, window, link, let_the_countdown_run_out)
        assert state is TxState.EXPIRED
        banner = overview.last_payment
        assert banner.isVisible() and banner.kind == "warning" and banner.icon.name == "cross"
        assert banner.text.endswith("did not go through. Nothing was charged.")
