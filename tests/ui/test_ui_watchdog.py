"""The watchdog is fed by the GUI event loop: pings stop while the loop is blocked."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ui.watchdog import GuiWatchdog


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    yield sock
    sock.close()


def drain(sock: socket.socket, into: list[tuple[float, bytes]]) -> None:
    while True:
        try:
            into.append((time.monotonic(), sock.recv(64)))
        except BlockingIOError:
            return


def test_pings_come_from_the_event_loop_and_stop_while_it_is_frozen(qtbot: QtBot, listener: socket.socket) -> None:
    watchdog = GuiWatchdog(interval_s=0.02)
    received: list[tuple[float, bytes]] = []

    def pings() -> int:
        drain(listener, received)
        return sum(1 for _, message in received if message == b"WATCHDOG=1")

    qtbot.waitUntil(lambda: pings() >= 3, timeout=5000)
    frozen_at = time.monotonic()
    time.sleep(0.5)  # the GUI thread is stuck: this is the frozen screen under test, not a wait for a result
    drain(listener, received)
    during = [at for at, message in received if at > frozen_at and message == b"WATCHDOG=1"]
    assert during == []  # nothing was sent while the loop was blocked (the datagrams would be queued)
    before = pings()
    qtbot.waitUntil(lambda: pings() > before + 2, timeout=5000)  # and pings resume once it runs again
    watchdog.deleteLater()


def test_no_watchdog_outside_systemd(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert not GuiWatchdog().active
