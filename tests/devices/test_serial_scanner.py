"""The serial QR scanner: the line splitter (fuzzed), its URL, and the real adapter on a pty simulator."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import DeviceState
from devices.coordinator import ConnectionPolicy
from devices.factory import make_qr_scanner
from devices.pty_sims import PtyScannerSim
from devices.serial_scanner import SUFFIXES, LineSplitter, SerialQrScanner, Unreadable
from devices.simulators import SimulatedQrScanner

TIMEOUT = 5.0
FAST = ConnectionPolicy(read_timeout_s=0.02, reconnect_initial_s=0.005, reconnect_max_s=0.02, quiet_s=0.05)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


# ---- the line splitter -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SUFFIXES))
def test_lines_end_at_the_configured_suffix(name: str) -> None:
    suffix = SUFFIXES[name]
    splitter = LineSplitter(suffix, 64)
    assert splitter.feed(b"CPK:H:H3U2R501X7" + suffix + "二维码".encode()) == ["CPK:H:H3U2R501X7"]
    assert splitter.feed(suffix + b"x") == ["二维码"]
    assert splitter.pending == 1
    if len(suffix) == 2:  # a suffix split between two reads
        assert splitter.feed(suffix[:1]) == []
        assert splitter.feed(suffix[1:]) == ["x"]


def test_stray_line_ends_from_a_crlf_scanner_on_a_cr_setting_are_dropped() -> None:
    splitter = LineSplitter(b"\r", 64)
    assert splitter.feed(b"ONE\r\nTWO\r\n\r\n") == ["ONE", "TWO"]
    assert splitter.expire() == []  # the last LF alone is not a lost line


def test_overlong_undecodable_and_cut_short_lines_are_reported_not_raised() -> None:
    splitter = LineSplitter(b"\r", 16)
    out = splitter.feed(b"A" * 40)  # reported as soon as it is too long, not at its end
    assert [type(o) for o in out] == [Unreadable] and out[0].reason == "too_long"
    assert splitter.pending < 16
    assert splitter.feed(b"A" * 40 + b"\rGOOD\r") == ["GOOD"]  # the rest of it is skipped, once
    assert splitter.feed(b"\xff\xfe\r") == [Unreadable("undecodable", b"\xff\xfe")]
    assert splitter.feed(b"HALF") == []
    assert splitter.expire() == [Unreadable("incomplete", b"HALF")]
    assert splitter.feed(b"B" * 17 + b"\r") == [Unreadable("too_long", b"B" * 17)]


@settings(max_examples=300)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8), st.sampled_from(list(SUFFIXES.values())))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int], suffix: bytes) -> None:
    splitter = LineSplitter(suffix, 32)
    for chunk in split(data, cuts):
        for item in splitter.feed(chunk):
            if isinstance(item, str):
                assert suffix.decode() not in item and 0 < len(item.encode()) <= 32
            else:
                assert item.reason in ("too_long", "undecodable")
        assert splitter.pending <= 32 + len(suffix) - 1
    splitter.expire()
    assert splitter.pending == 0


line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\t"), min_size=1,
                    max_size=20)


@settings(max_examples=300)
@given(st.binary(max_size=200), line_text, st.lists(st.integers(0, 300), max_size=6),
       st.sampled_from(list(SUFFIXES.values())))
def test_a_line_after_garbage_is_recovered(garbage: bytes, line: str, cuts: list[int], suffix: bytes) -> None:
    splitter = LineSplitter(suffix, 128)
    stream = garbage + suffix + line.encode() + suffix
    out: list[str | Unreadable] = []
    for chunk in split(stream, cuts):
        out += splitter.feed(chunk)
    assert out[-1] == line


# ---- URLs ----------------------------------------------------------------------------------------------------


def test_scanner_urls() -> None:
    scanner = make_qr_scanner("serial:/dev/ttyACM0?baud=115200&suffix=CRLF&max_length=100")
    assert isinstance(scanner, SerialQrScanner)
    assert (scanner.port, scanner.baud, scanner.suffix, scanner.max_length) == ("/dev/ttyACM0", 115200, b"\r\n", 100)
    assert scanner.description == "serial:/dev/ttyACM0?baud=115200&suffix=crlf&max_length=100"
    default = make_qr_scanner("serial:COM3")
    assert isinstance(default, SerialQrScanner) and (default.baud, default.suffix) == (9600, b"\r")


@pytest.mark.parametrize(
    "url",
    ["serial:", "serial:/dev/x?suffix=semicolon", "serial:/dev/x?max_length=5", "serial:/dev/x?baud=9601",
     "serial:/dev/x?parity=E", "serial:/dev/x?baud=9600&baud=9600", "serial://host/dev/x"],
)
def test_bad_scanner_urls_say_what_is_accepted(url: str) -> None:
    with pytest.raises(ValueError, match=r"accepted QR scanner forms: .*serial:/dev/ttyACM0"):
        make_qr_scanner(url)


# ---- the adapter on the pty simulator ------------------------------------------------------------------------


class Lines:
    def __init__(self) -> None:
        self.items: list[str | tuple[str, str]] = []
        self.threads: set[int] = set()
        self._cond = threading.Condition()

    def scan(self, payload: str) -> None:
        self._add(payload)

    def unreadable(self, reason: str) -> None:
        self._add(("unreadable", reason))

    def _add(self, item: str | tuple[str, str]) -> None:
        with self._cond:
            self.items.append(item)
            self.threads.add(threading.get_ident())
            self._cond.notify_all()


@pytest.fixture
def scanner() -> Iterator[tuple[SimulatedQrScanner, Lines]]:
    device = SimulatedQrScanner(SUFFIXES["crlf"], policy=FAST)
    lines = Lines()
    device.set_listener(lines.scan, lines.unreadable)
    device.open()
    yield device, lines
    device.close()


def test_scans_travel_the_wire(scanner: tuple[SimulatedQrScanner, Lines]) -> None:
    device, lines = scanner
    assert device.status.state is DeviceState.ONLINE
    for payload in ("CPK:H:H3U2R501X7", "CPK:B:B202611000123", "134567890123456789", "garbage \x00 二维码"):
        device.scan(payload)
    assert device.wait_idle(TIMEOUT)
    assert lines.items == ["CPK:H:H3U2R501X7", "CPK:B:B202611000123", "134567890123456789", "garbage \x00 二维码"]
    assert threading.get_ident() not in lines.threads
    device.scan("x" * 600)  # longer than the default 512
    assert device.wait_idle(TIMEOUT)
    assert lines.items[-1] == ("unreadable", "too_long")


def test_a_garbage_stream_is_survived(scanner: tuple[SimulatedQrScanner, Lines]) -> None:
    device, lines = scanner
    noise = random.Random(4).randbytes(64 * 1024)
    device.send_garbage(noise)
    assert device.wait_idle(TIMEOUT)
    assert device.status.state is DeviceState.ONLINE
    reported = list(lines.items)
    assert any(isinstance(item, tuple) for item in reported)  # discarded lines are reported
    for item in reported:
        # Whatever came through as a line is a line of the noise, split where the noise had the suffix.
        assert isinstance(item, tuple) or item.encode() in noise
    assert device.session.rejected >= 1
    device.scan("CPK:H:H3U2R501X7")
    assert device.wait_idle(TIMEOUT)
    assert lines.items[-1] == "CPK:H:H3U2R501X7" and len(lines.items) == len(reported) + 1


def test_a_scanner_set_to_another_suffix_loses_nothing_but_says_why(scanner: tuple[SimulatedQrScanner, Lines]) -> None:
    device, lines = scanner
    device.sim.suffix = b"\r"  # the scanner was set to CR, the terminal to CRLF: lines never end
    device.scan("CPK:H:H3U2R501X7")
    assert device.wait_idle(TIMEOUT)
    assert lines.items == [("unreadable", "incomplete")]


def test_the_real_adapter_opens_the_simulator_by_its_path() -> None:
    sim = PtyScannerSim(b"\t")
    sim.start()
    scanner = make_qr_scanner(f"serial:{sim.path}?suffix=tab", FAST)
    lines = Lines()
    scanner.set_listener(lines.scan, lines.unreadable)
    try:
        scanner.open()
        assert isinstance(scanner, SerialQrScanner)
        assert scanner.coordinator.wait_for(lambda: scanner.status.state is DeviceState.ONLINE, TIMEOUT)
        sim.scan("CPK:H:H3U2R501X7")
        with lines._cond:
            assert lines._cond.wait_for(lambda: lines.items == ["CPK:H:H3U2R501X7"], TIMEOUT)
    finally:
        scanner.close()
        sim.close()
