"""Unplug and replug each serial device 100 times: it reconnects every time, and nothing is left behind."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest

from devices.base import DeviceState
from devices.coordinator import ConnectionPolicy, Link
from devices.simulators import SimulatedCardReader, SimulatedQrScanner

CYCLES = 100
TIMEOUT = 5.0
READ_TIMEOUT_S = 0.05
POLICY = ConnectionPolicy(read_timeout_s=READ_TIMEOUT_S, reconnect_initial_s=0.002, reconnect_max_s=0.01)


class TimedLink:
    """Wraps the adapter's serial link to record how long each read blocked."""

    def __init__(self, link: Link, longest: list[float]) -> None:
        self._link = link
        self._longest = longest

    def read(self) -> bytes:
        started = time.monotonic()
        try:
            return self._link.read()
        finally:
            self._longest[0] = max(self._longest[0], time.monotonic() - started)

    def __getattr__(self, name: str) -> object:
        return getattr(self._link, name)


class TimedCardReader(SimulatedCardReader):
    longest: ClassVar[list[float]] = [0.0]

    def _connect(self) -> Link:
        return TimedLink(super()._connect(), self.longest)  # type: ignore[return-value]


class TimedScanner(SimulatedQrScanner):
    longest: ClassVar[list[float]] = [0.0]

    def _connect(self) -> Link:
        return TimedLink(super()._connect(), self.longest)  # type: ignore[return-value]


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def replug_many(device: TimedCardReader | TimedScanner, use: Callable[[int], None]) -> None:
    states: set[DeviceState] = set()
    device.add_status_listener(lambda status: states.add(status.state))
    coordinator = device.coordinator
    for cycle in range(CYCLES):
        device.unplug()
        # The port is gone: the adapter notices at once and, finding no port when it retries, says NO_DEVICE.
        assert coordinator.wait_for(lambda: device.status.state is DeviceState.NO_DEVICE, TIMEOUT), cycle
        device.replug()
        assert coordinator.wait_for(lambda: device.status.state is DeviceState.ONLINE, TIMEOUT), cycle
        use(cycle)  # and it works
    assert coordinator.connections == CYCLES + 1
    assert {DeviceState.OFFLINE, DeviceState.NO_DEVICE, DeviceState.ONLINE} <= states


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
@pytest.mark.parametrize("kind", ["card_reader", "qr_scanner"])
def test_unplug_and_replug_a_hundred_times(kind: str) -> None:
    threads_before = set(threading.enumerate())
    fds_before = open_fds()
    got: list[str] = []
    device: TimedCardReader | TimedScanner
    if kind == "card_reader":
        reader = device = TimedCardReader(POLICY)
        reader.set_listeners(got.append)

        def use(cycle: int) -> None:
            reader.tap(f"CARD{cycle:03d}")
            assert reader.wait_idle(TIMEOUT) and got[-1] == f"CARD{cycle:03d}"
    else:
        scanner = device = TimedScanner(policy=POLICY)
        scanner.set_listener(got.append)

        def use(cycle: int) -> None:
            scanner.scan(f"CPK:H:{cycle:03d}")
            assert scanner.wait_idle(TIMEOUT) and got[-1] == f"CPK:H:{cycle:03d}"

    device.open()
    assert len(set(threading.enumerate()) - threads_before) == 3  # simulator, coordinator, events
    replug_many(device, use)
    assert len(got) == CYCLES
    started = time.monotonic()
    device.close()
    assert time.monotonic() - started < 1.0  # no read holds close() up
    # No read ever blocked much past its timeout (slack for a busy machine).
    assert device.longest[0] < READ_TIMEOUT_S + 0.25, device.longest[0]
    assert set(threading.enumerate()) == threads_before
    assert open_fds() == fds_before
    assert device.status.state is DeviceState.OFFLINE
