"""The per-device coordinator (devices/coordinator.py) and the card reader's session on an in-memory link."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from devices.base import DeviceState, DeviceStatus, ErrorAction
from devices.card_protocol import Command, Frame, FrameDecoder, StatusFlags, encode
from devices.coordinator import ConnectionPolicy, Coordinator, Link, LinkLost, LogThrottle, PortMissing, Session
from devices.serial_card_reader import SerialCardReader, is_newer

TIMEOUT = 5.0
FAST = ConnectionPolicy(read_timeout_s=0.02, reconnect_initial_s=0.005, reconnect_max_s=0.02,
                        health_interval_s=0.2, response_timeout_s=0.1)


class FakeLink:
    """A connection in memory: the test plays the device by `send`ing bytes and reading `frames()`."""

    def __init__(self, read_timeout_s: float = 0.02, cancel_works: bool = True) -> None:
        self.read_timeout_s = read_timeout_s
        self.cancel_works = cancel_works
        self._incoming: queue.Queue[bytes | Exception] = queue.Queue()
        self._written = bytearray()
        self._cond = threading.Condition()
        self._decoder = FrameDecoder()
        self._frames: list[Frame] = []
        self.closed = False
        self.longest_read = 0.0
        self._sent = self._taken = self._handled = 0

    def send(self, data: bytes | Exception) -> None:
        with self._cond:
            self._sent += 1
        self._incoming.put(data)

    def wait_handled(self) -> None:
        """Until the host has read and handled everything sent (it is back for its next read)."""
        with self._cond:
            assert self._cond.wait_for(lambda: self._handled >= self._sent, TIMEOUT)

    def read(self) -> bytes:
        with self._cond:
            self._handled = self._taken  # what the last read returned has been handled: we are called again
            self._cond.notify_all()
        started = time.monotonic()
        try:
            item = self._incoming.get(timeout=self.read_timeout_s)
        except queue.Empty:
            item = b""
        else:
            if item or isinstance(item, Exception):
                with self._cond:
                    self._taken += 1
        self.longest_read = max(self.longest_read, time.monotonic() - started)
        if isinstance(item, Exception):
            raise item
        return item

    def write(self, data: bytes) -> None:
        with self._cond:
            self._written += data
            self._frames += [f for f in self._decoder.feed(data) if isinstance(f, Frame)]
            self._cond.notify_all()

    def check(self) -> None:
        pass

    def cancel_read(self) -> None:
        if self.cancel_works:
            self._incoming.put(b"")

    def close(self) -> None:
        self.closed = True

    def wait_frame(self, command: int, count: int = 1) -> Frame:
        """The `count`-th frame of `command` the host sent, waiting for it."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.of(command)) >= count, TIMEOUT), self._frames
            return self.of(command)[count - 1]

    def of(self, command: int) -> list[Frame]:
        return [f for f in self._frames if f.command == command]


class Statuses:
    """Every status a device reports, waitable."""

    def __init__(self) -> None:
        self.seen: list[DeviceStatus] = []
        self._cond = threading.Condition()

    def __call__(self, status: DeviceStatus) -> None:
        with self._cond:
            self.seen.append(status)
            self._cond.notify_all()

    def wait(self, test: Callable[[DeviceStatus], bool]) -> DeviceStatus:
        with self._cond:
            assert self._cond.wait_for(lambda: any(test(s) for s in self.seen), TIMEOUT), self.seen
            return next(s for s in self.seen if test(s))

    def clear(self) -> None:
        with self._cond:
            self.seen.clear()


class LinkedReader(SerialCardReader):
    """The real card reader adapter on FakeLinks, one per connection."""

    def __init__(self, policy: ConnectionPolicy = FAST) -> None:
        super().__init__("fake", policy=policy)
        self.links: queue.Queue[FakeLink] = queue.Queue()
        self.opened: list[FakeLink] = []

    def _connect(self) -> Link:
        link = FakeLink(self.coordinator.policy.read_timeout_s)
        self.opened.append(link)
        self.links.put(link)
        return link

    def next_link(self) -> FakeLink:
        return self.links.get(timeout=TIMEOUT)


@pytest.fixture
def reader() -> Iterator[tuple[LinkedReader, Statuses, list[tuple[str, str]]]]:
    device = LinkedReader()
    statuses = Statuses()
    events: list[tuple[str, str]] = []
    device.add_status_listener(statuses)
    device.set_listeners(lambda card: events.append(("card", card)), lambda: events.append(("removed", "")))
    device.open()
    yield device, statuses, events
    device.close()


def online(device: LinkedReader, statuses: Statuses) -> FakeLink:
    """Answer the first status request: the reader is online."""
    link = device.next_link()
    status = link.wait_frame(Command.STATUS)
    link.send(encode(Command.STATUS_REPLY, status.seq, bytes((0,))))
    statuses.wait(lambda s: s.state is DeviceState.ONLINE)
    return link


def settle(device: LinkedReader) -> None:
    for link in device.opened[-1:]:
        if not link.closed:
            link.wait_handled()
    assert device.coordinator.wait_for(lambda: not device.session.in_flight, TIMEOUT)
    assert device.coordinator.events.wait_idle(TIMEOUT)


# ---- policy ------------------------------------------------------------------------------------------------


def test_backoff_doubles_is_capped_and_jittered() -> None:
    policy = ConnectionPolicy(reconnect_initial_s=0.1, reconnect_max_s=1.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert policy.backoff(2, lambda: 0.0) == pytest.approx(0.2)  # jitter keeps at least half
    assert policy.backoff(10_000, lambda: 1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("changes", [{"read_timeout_s": 0}, {"reconnect_max_s": 0.01}, {"missed_limit": 0}])
def test_bad_policies_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ConnectionPolicy(**changes)  # type: ignore[arg-type]


def test_is_newer_wraps_around() -> None:
    assert is_newer(0, None) and is_newer(1, 0) and is_newer(0, 255) and is_newer(100, 1)
    assert not is_newer(5, 5) and not is_newer(4, 5) and not is_newer(200, 10)


def test_log_throttle_counts_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    throttle = LogThrottle(__import__("logging").getLogger("throttle-test"), 1.0, clock=lambda: now[0])
    with caplog.at_level("INFO", "throttle-test"):
        for _ in range(5):
            throttle(20, "noise %d", 1)
        now[0] = 2.0
        throttle(20, "noise %d", 2)
    assert [r.getMessage() for r in caplog.records] == ["noise 1", "noise 2 (and 4 more since the last such line)"]


# ---- connecting ----------------------------------------------------------------------------------------------


class Quiet(Session):
    def connected(self, link: Link, now: float) -> None:
        self.coordinator.confirmed()

    def received(self, data: bytes, now: float) -> None:
        pass


@pytest.mark.parametrize(
    ("error", "state", "action"),
    [
        (PortMissing("/dev/ttyUSB0 not found"), DeviceState.NO_DEVICE, ErrorAction.MAINTENANCE),
        (PermissionError("no permission to open /dev/ttyUSB0"), DeviceState.OFFLINE, ErrorAction.CONFIGURATION),
        (LinkLost("cannot open"), DeviceState.OFFLINE, ErrorAction.RESET),
    ],
)
def test_a_port_that_cannot_be_opened_is_retried_with_backoff(
    error: Exception, state: DeviceState, action: ErrorAction
) -> None:
    attempts: list[float] = []
    reports: list[dict[str, object]] = []
    enough = threading.Event()

    def connect() -> Link:
        attempts.append(time.monotonic())
        if len(attempts) >= 4:
            enough.set()
        raise error

    coordinator = Coordinator("test", connect, Quiet(), lambda **status: reports.append(status), FAST)
    coordinator.start()
    assert enough.wait(TIMEOUT)
    assert coordinator.stop()
    assert reports[0] == {"state": state, "last_error": str(error), "action": action}
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert all(gap >= FAST.reconnect_initial_s / 2 for gap in gaps)


@pytest.mark.parametrize("cancel_works", [True, False])
def test_stop_is_prompt_while_a_read_waits(cancel_works: bool) -> None:
    read_timeout = 0.3
    link = FakeLink(read_timeout, cancel_works)
    coordinator = Coordinator("test", lambda: link, Quiet(), lambda **status: None,
                              ConnectionPolicy(read_timeout_s=read_timeout))
    coordinator.start()
    assert coordinator.wait_for(lambda: coordinator.connections == 1, TIMEOUT)
    started = time.monotonic()
    assert coordinator.stop()
    took = time.monotonic() - started
    # With cancel_read the read returns at once; without it, no later than its own timeout.
    assert took < (0.2 if cancel_works else read_timeout + 0.25), took
    assert link.closed and not coordinator.running


# ---- the card reader's session -------------------------------------------------------------------------------


def test_online_after_the_first_status_answer(reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]]) -> None:
    device, statuses, _ = reader
    assert device.status.state is DeviceState.OFFLINE
    online(device, statuses)
    settle(device)
    assert device.status == DeviceStatus(DeviceState.ONLINE, card_present=False)


def test_card_events_are_answered_and_reported_once(
    reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]],
) -> None:
    device, statuses, events = reader
    link = online(device, statuses)
    link.send(encode(Command.CARD_DETECTED, 1))
    assert link.wait_frame(Command.READ_ID).seq == 1
    link.send(encode(Command.CARD_DETECTED, 1))  # the reader repeats itself: our READ_ID crossed it
    assert link.wait_frame(Command.READ_ID, 2).seq == 1
    link.send(encode(Command.CARD_ID, 1, b"04A1B2C3D4") * 2)
    link.send(encode(Command.CARD_REMOVED, 2))
    link.send(encode(Command.CARD_REMOVED, 2))
    assert link.wait_frame(Command.ACK, 2).seq == 2
    link.send(encode(Command.CARD_ID, 1, b"LATE"))  # an old answer after the removal
    link.send(encode(Command.STATUS_REPLY, 99, b"\x00"))  # and one to nothing we asked
    settle(device)
    assert events == [("card", "04A1B2C3D4"), ("removed", "")]
    assert device.session.bad_frames == 1  # the unasked status reply


def test_a_card_id_that_is_not_printable_ascii_is_not_reported(
    reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]],
) -> None:
    device, statuses, events = reader
    link = online(device, statuses)
    link.send(encode(Command.CARD_DETECTED, 1))
    link.wait_frame(Command.READ_ID)
    link.send(encode(Command.CARD_ID, 1, "卡".encode()))
    link.send(encode(Command.CARD_DETECTED, 2))
    link.wait_frame(Command.READ_ID, 2)
    link.send(encode(Command.CARD_ID, 2, b"GOOD01"))
    settle(device)
    assert events == [("card", "GOOD01")]


def test_repeated_nonsense_is_a_hardware_error_until_it_makes_sense(
    reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]],
) -> None:
    device, statuses, events = reader
    link = online(device, statuses)
    bad = bytearray(encode(Command.CARD_REMOVED, 3))
    bad[-2] ^= 0x55
    for _ in range(FAST.nonsense_limit):
        link.send(bytes(bad))
    error = statuses.wait(lambda s: s.state is DeviceState.HARDWARE_ERROR)
    assert error.action is ErrorAction.RESET and error.last_error
    statuses.clear()
    link.send(encode(Command.CARD_DETECTED, 4))
    statuses.wait(lambda s: s.state is DeviceState.ONLINE and s.last_error is None)
    link.wait_frame(Command.READ_ID)
    link.send(encode(Command.CARD_ID, 4, b"AFTER"))
    settle(device)
    assert events == [("card", "AFTER")]  # nothing came of the bad frames


def test_busy_and_faulty_readers_say_so(reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]]) -> None:
    device, statuses, _ = reader
    link = device.next_link()
    first = link.wait_frame(Command.STATUS)
    link.send(encode(Command.STATUS_REPLY, first.seq, bytes((StatusFlags.BUSY,))))
    statuses.wait(lambda s: s.state is DeviceState.BUSY)
    second = link.wait_frame(Command.STATUS, 2)  # the next health check
    link.send(encode(Command.STATUS_REPLY, second.seq, bytes((StatusFlags.FAULT,))))
    fault = statuses.wait(lambda s: s.state is DeviceState.HARDWARE_ERROR)
    assert fault.action is ErrorAction.MAINTENANCE
    third = link.wait_frame(Command.STATUS, 3)
    link.send(encode(Command.STATUS_REPLY, third.seq, bytes((0,))))
    statuses.clear()
    statuses.wait(lambda s: s.state is DeviceState.ONLINE)


def test_a_silent_reader_is_reopened(reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]]) -> None:
    device, statuses, _ = reader
    first = online(device, statuses)
    # From now on nothing answers: after `missed_limit` unanswered status requests the port is reopened.
    lost = statuses.wait(lambda s: s.state is DeviceState.OFFLINE)
    assert lost.action is ErrorAction.RESET and "no answer" in (lost.last_error or "")
    assert first.closed and len(first.of(Command.STATUS)) >= FAST.missed_limit + 1
    statuses.clear()
    online(device, statuses)
    assert len(device.opened) == 2


def test_a_lost_connection_reconnects(reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]]) -> None:
    device, statuses, events = reader
    first = online(device, statuses)
    first.send(LinkLost("connection lost"))
    statuses.wait(lambda s: s.state is DeviceState.OFFLINE and s.last_error == "connection lost")
    statuses.clear()
    second = online(device, statuses)
    second.send(encode(Command.CARD_DETECTED, 1))  # a power-cycled reader numbers from the start again
    second.wait_frame(Command.READ_ID)
    second.send(encode(Command.CARD_ID, 1, b"AGAIN"))
    settle(device)
    assert events == [("card", "AGAIN")]
    assert first.longest_read < FAST.read_timeout_s + 0.25


def test_a_failing_listener_does_not_stop_the_events(
    reader: tuple[LinkedReader, Statuses, list[tuple[str, str]]],
) -> None:
    device, statuses, _ = reader
    seen: list[str] = []

    def explode(card: str) -> None:
        seen.append(card)
        raise RuntimeError("listener bug")

    device.set_listeners(explode)
    link = online(device, statuses)
    for seq in (1, 2):
        link.send(encode(Command.CARD_DETECTED, seq))
        link.wait_frame(Command.READ_ID, seq)
        link.send(encode(Command.CARD_ID, seq, f"C{seq}".encode()))
    settle(device)
    assert seen == ["C1", "C2"]


def test_the_backoff_starts_afresh_after_a_connection_that_worked() -> None:
    policy = ConnectionPolicy(read_timeout_s=0.02, reconnect_initial_s=0.01, reconnect_max_s=1.0)
    attempts: list[float] = []
    links: queue.Queue[FakeLink] = queue.Queue()

    def connect() -> Link:
        attempts.append(time.monotonic())
        if len(attempts) <= 5:  # waits of 10, 20, 40, 80, 160 ms (halved at worst by the jitter)
            raise PortMissing("not yet")
        link = FakeLink(policy.read_timeout_s)
        links.put(link)
        return link

    coordinator = Coordinator("test", connect, Quiet(), lambda **status: None, policy)
    coordinator.start()
    try:
        first = links.get(timeout=TIMEOUT)
        lost_at = time.monotonic()
        first.send(LinkLost("unplugged"))
        links.get(timeout=TIMEOUT)
        # The first wait again (10 ms at most), not the sixth (320 ms at least half of it).
        assert attempts[-1] - lost_at < 0.1, attempts[-1] - lost_at
    finally:
        coordinator.stop()
