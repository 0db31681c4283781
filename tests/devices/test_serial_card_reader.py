"""The serial card reader adapter against the pty card reader simulator, over the real wire protocol."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from devices.base import DeviceState
from devices.card_protocol import Command, Frame, FrameDecoder, Nak, StatusFlags, encode
from devices.coordinator import ConnectionPolicy
from devices.factory import make_card_reader
from devices.pty_sims import RESEND_S, PtyCardReaderSim
from devices.serial_card_reader import SerialCardReader
from devices.simulators import SimulatedCardReader

TIMEOUT = 5.0
FAST = ConnectionPolicy(read_timeout_s=0.02, reconnect_initial_s=0.005, reconnect_max_s=0.02, quiet_s=0.05)


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def card(self, card_id: str) -> None:
        self._add(("card", card_id))

    def removed(self) -> None:
        self._add(("removed", ""))

    def _add(self, item: tuple[str, str]) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, count: int) -> list[tuple[str, str]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.items) >= count, TIMEOUT), self.items
            return list(self.items)


@pytest.fixture
def reader() -> Iterator[tuple[SimulatedCardReader, Events]]:
    device = SimulatedCardReader(FAST)
    events = Events()
    device.set_listeners(events.card, events.removed)
    device.open()
    yield device, events
    device.close()


def test_a_card_read_over_the_wire(reader: tuple[SimulatedCardReader, Events]) -> None:
    device, events = reader
    assert device.status.state is DeviceState.ONLINE
    device.insert("04A1B2C3D4")
    device.remove()
    assert events.wait(2) == [("card", "04A1B2C3D4"), ("removed", "")]
    assert device.wait_idle(TIMEOUT)
    assert device.status.card_present is False
    sent = [(f.command, f.seq) for f in device.sim.received_frames]
    # The host asked for the status, asked for the id of event 1 and acknowledged the removal, event 2.
    assert (Command.STATUS, 1) in sent
    assert sent[-2:] == [(Command.READ_ID, 1), (Command.ACK, 2)]


def test_a_garbage_stream_reports_nothing_and_the_next_card_is_read(
    reader: tuple[SimulatedCardReader, Events],
) -> None:
    device, events = reader
    states: list[DeviceState] = []
    device.add_status_listener(lambda status: states.append(status.state))
    noise = bytearray(random.Random(7).randbytes(64 * 1024))
    # Near misses too: frames with a bad checksum, a bad end byte, and a start byte with nothing after it.
    for command in (Command.CARD_DETECTED, Command.CARD_REMOVED, Command.CARD_ID):
        bad = bytearray(encode(command, 9, b"FAKE" if command == Command.CARD_ID else b""))
        bad[-2] ^= 0x20
        noise += bad
        worse = bytearray(encode(command, 10))
        worse[-1] = 0x04
        noise += worse
    noise += bytes((0x02, 0x40))
    device.send_garbage(bytes(noise))
    assert device.wait_idle(TIMEOUT)  # including the half frame at the end, thrown away once the line is quiet
    assert not device.session.in_flight
    device.insert("REALCARD01")
    assert events.wait(1) == [("card", "REALCARD01")]
    assert device.wait_idle(TIMEOUT)
    assert events.items == [("card", "REALCARD01")]
    assert device.session.bad_frames > 10
    assert DeviceState.HARDWARE_ERROR in states  # it answered nonsense many times in a row...
    assert device.coordinator.wait_for(lambda: device.status.state is DeviceState.ONLINE, TIMEOUT)  # ...not now


def test_a_card_inserted_while_unplugged_is_read_on_replug(reader: tuple[SimulatedCardReader, Events]) -> None:
    device, events = reader
    device.unplug()
    assert device.coordinator.wait_for(lambda: device.status.state is DeviceState.NO_DEVICE, TIMEOUT)
    device.insert("04FFEEDDCC")
    device.replug()
    assert events.wait(1) == [("card", "04FFEEDDCC")]
    assert device.status.state is DeviceState.ONLINE


def test_card_ids_the_reader_cannot_send_are_refused(reader: tuple[SimulatedCardReader, Events]) -> None:
    device, _ = reader
    for bad in ("", "卡", "has space", "x" * 65):
        with pytest.raises(ValueError):
            device.insert(bad)


def test_the_simulator_speaks_the_documented_protocol() -> None:
    """A host written from docs/devices.md alone: events repeat until answered, READ_ID, ACK, NAK."""
    sim = PtyCardReaderSim()
    sim.start()
    port = serial.Serial(sim.path, 9600, timeout=0.05)
    decoder = FrameDecoder()
    received: list[Frame] = []

    def frame(command: int) -> Frame:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for item in decoder.feed(port.read(64)):
                if isinstance(item, Frame):
                    received.append(item)
            for got in received:
                if got.command == command:
                    received.remove(got)
                    return got
        raise AssertionError(f"no frame 0x{command:02x}")

    try:
        port.write(encode(Command.STATUS, 1))
        assert frame(Command.STATUS_REPLY) == Frame(Command.STATUS_REPLY, 1, bytes((0,)))
        sim.insert("04A1B2C3D4")
        detected = frame(Command.CARD_DETECTED)
        started = time.monotonic()
        assert frame(Command.CARD_DETECTED) == detected  # unanswered: sent again, same number
        assert time.monotonic() - started >= RESEND_S * 0.8
        port.write(encode(Command.READ_ID, (detected.seq + 1) % 256))
        assert frame(Command.NAK) == Frame(Command.NAK, (detected.seq + 1) % 256, bytes((Nak.NO_CARD,)))
        port.write(encode(Command.READ_ID, detected.seq))
        assert frame(Command.CARD_ID) == Frame(Command.CARD_ID, detected.seq, b"04A1B2C3D4")
        port.write(encode(Command.STATUS, 2))
        assert frame(Command.STATUS_REPLY).data == bytes((StatusFlags.CARD_PRESENT,))
        sim.remove()
        removed = frame(Command.CARD_REMOVED)
        assert removed.seq == (detected.seq + 1) % 256
        port.write(encode(Command.ACK, removed.seq))
        port.write(encode(0x7F, 3))
        assert frame(Command.NAK).data == bytes((Nak.UNKNOWN_COMMAND,))
        bad = bytearray(encode(Command.STATUS, 4))
        bad[-2] ^= 1
        port.write(bytes(bad))
        assert frame(Command.NAK).data == bytes((Nak.BAD_FRAME,))
        assert sim.idle
    finally:
        port.close()
        sim.close()


def test_card_reader_urls() -> None:
    device = make_card_reader("serial:/dev/ttyUSB0?baud=19200")
    assert isinstance(device, SerialCardReader) and (device.port, device.baud) == ("/dev/ttyUSB0", 19200)
    assert device.description == "serial:/dev/ttyUSB0?baud=19200"
    for bad in ("serial:/dev/ttyUSB0?suffix=cr", "serial:/dev/ttyUSB0?baud=fast", "serial:"):
        with pytest.raises(ValueError, match=r"accepted card reader forms: .*serial:/dev/ttyUSB0"):
            make_card_reader(bad)


def test_a_missing_port_is_no_device_and_found_when_it_appears() -> None:
    sim = PtyCardReaderSim()
    sim.start()
    sim.unplug()
    device = make_card_reader(f"serial:{sim.path}", FAST)
    events = Events()
    device.set_listeners(events.card, events.removed)
    assert isinstance(device, SerialCardReader)
    try:
        device.open()
        assert device.coordinator.wait_for(lambda: device.status.state is DeviceState.NO_DEVICE, TIMEOUT)
        assert sim.path in (device.status.last_error or "")
        sim.insert("04A1B2C3D4")
        sim.replug()
        assert events.wait(1) == [("card", "04A1B2C3D4")]
        assert device.status.state is DeviceState.ONLINE
    finally:
        device.close()
        sim.close()
