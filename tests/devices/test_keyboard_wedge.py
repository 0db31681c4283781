"""Keyboard wedges: bursts told from typing by their timing alone, and the adapters that report them."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.base import DeviceState
from devices.factory import make_card_reader, make_qr_scanner
from devices.keyboard_wedge import (
    TOO_LONG,
    BurstDetector,
    KeyboardCardReader,
    KeyboardQrScanner,
    Outcome,
    WedgeSettings,
    is_card_id,
)

SETTINGS = WedgeSettings()  # 50 ms gap, 6 to 256 characters, Enter
FAST, SLOW = 0.008, 0.180  # a scanner's gap between characters; a person's


class Run:
    """Feeds a detector keys at chosen times and collects what it decides, as the UI would."""

    def __init__(self, settings: WedgeSettings = SETTINGS) -> None:
        self.detector: BurstDetector[int] = BurstDetector(settings)
        self.t = 100.0
        self.n = 0
        self.typed: list[int] = []  # key numbers handed on to the person's widget, in order
        self.bursts: list[str] = []
        self.rejected: list[str] = []
        self.chars: dict[int, str] = {}

    def _take(self, outcome: Outcome[int]) -> None:
        self.typed += outcome.release
        if outcome.burst is not None:
            self.bursts.append(outcome.burst)
        if outcome.rejected is not None:
            self.rejected.append(outcome.rejected)

    def key(self, char: str | None, gap: float) -> None:
        # The UI's timer: a key held longer than hold_s with nothing after it is handed on first.
        if self.detector.holding and gap > self.detector.settings.hold_s:
            self._take(self.detector.expire())
        self.t += gap
        self.n += 1
        self.chars[self.n] = char or ""
        self._take(self.detector.key(char, self.t, self.n))

    def type(self, text: str, gap: float) -> None:
        for char in text:
            self.key(char, gap)

    def idle(self) -> None:
        self._take(self.detector.expire())

    def typed_text(self) -> str:
        return "".join(self.chars[n] for n in self.typed)


def test_a_fast_burst_ending_in_enter_is_one_read_and_types_nothing() -> None:
    run = Run()
    run.type("04A1B2C3D4\r", FAST)
    assert run.bursts == ["04A1B2C3D4"]
    assert run.typed == [] and not run.detector.holding


def test_slow_typing_reaches_the_widget_whole_and_in_order() -> None:
    run = Run()
    run.type("04A1B2C3D4\r", SLOW)
    run.idle()
    assert run.bursts == []
    assert run.typed_text() == "04A1B2C3D4\r"
    assert run.typed == sorted(run.typed)


@pytest.mark.parametrize(
    "gaps", [[0.04, 0.07, 0.03, 0.09, 0.02, 0.06, 0.04], [0.06] * 7, [0.01, 0.01, 0.2, 0.01, 0.01, 0.01, 0.01]]
)
def test_irregular_typing_is_never_a_burst(gaps: list[float]) -> None:
    run = Run()
    for char, gap in zip("3025016\r", [0.5, *gaps], strict=True):
        run.key(char, gap)
    run.idle()
    assert run.bursts == [] and run.typed_text() == "3025016\r"


def test_a_short_fast_run_is_a_persons_and_goes_through() -> None:
    run = Run()
    run.type("301\r", FAST)  # a person's quick "301" Enter is below the minimum length
    assert run.bursts == [] and run.typed_text() == "301\r"


def test_an_interrupted_burst_is_handed_on_and_the_next_one_read() -> None:
    run = Run()
    run.type("04A1B", FAST)
    run.key("2", 0.3)  # the device stalled: the first part cannot be a burst any more
    run.type("C3D4\r", FAST)  # "2C3D4" is too short to be one
    assert run.bursts == [] and run.typed_text() == "04A1B2C3D4\r"
    run.type("04B5C6D7E8\r", FAST)  # the next read, whole
    assert run.bursts == ["04B5C6D7E8"]
    assert run.typed_text() == "04A1B2C3D4\r"


def test_a_key_no_device_types_ends_the_hold() -> None:
    run = Run()
    run.type("CPK:H:", FAST)
    run.key(None, FAST)  # an arrow, a shortcut, an auto-repeat
    run.type("ABC123\r", FAST)
    assert run.bursts == ["ABC123"]  # the part after it is a burst on its own
    assert run.typed_text() == "CPK:H:"


def test_modifiers_ride_along_with_a_burst() -> None:
    run = Run()
    for char in "CPK:H:32501A":
        run.key("", 0.001)  # Shift down
        run.key(char, FAST)
        run.key("", 0.001)  # Shift up
    run.key("\r", FAST)
    assert run.bursts == ["CPK:H:32501A"]
    assert run.typed == [1]  # only the very first Shift, which nothing held yet: a modifier alone, harmless


def test_garbage_characters_are_passed_on_as_read() -> None:
    run = Run()
    run.type("#%&!ÿ~{}[]\r", FAST)
    assert run.bursts == ["#%&!ÿ~{}[]"]  # the core decides what it is (here: nothing it accepts)
    run.type("\x1b\x07abc\r", FAST)  # control characters are no part of a payload: they end the hold
    assert run.bursts == ["#%&!ÿ~{}[]"]


def test_an_over_long_burst_is_swallowed_and_rejected() -> None:
    run = Run(WedgeSettings(max_length=20))
    run.type("A" * 500 + "\r", FAST)
    assert run.bursts == [] and run.rejected == [TOO_LONG] and run.typed == []
    run.type("B" * 25, FAST)  # a flood with no Enter: dropped when it stops
    run.idle()
    assert run.rejected == [TOO_LONG, TOO_LONG] and run.typed == []
    run.type("04A1B2C3D4\r", FAST)  # and the next read is fine
    assert run.bursts == ["04A1B2C3D4"]


def test_tab_as_terminator() -> None:
    run = Run(WedgeSettings.from_query("terminator=tab"))
    run.type("04A1B2C3D4\t", FAST)
    assert run.bursts == ["04A1B2C3D4"]
    run.type("04A1B2C3D4\r", FAST)  # Enter is not the terminator here: it ends the hold
    assert run.bursts == ["04A1B2C3D4"] and run.typed_text() == "04A1B2C3D4\r"


def test_a_clock_going_backwards_is_never_fast() -> None:
    run = Run()
    run.type("04A1B", FAST)
    run.key("2", -5.0)  # a wrapped window-system time stamp
    run.type("C3D4\r", FAST)
    assert run.bursts == [] and run.typed_text() == "04A1B2C3D4\r"


@given(
    st.lists(
        st.tuples(st.sampled_from([*"0123456789ABCDEF:\r", "", None]), st.floats(0.0, 0.4)),
        max_size=80,
    )
)
def test_every_key_is_handed_on_or_part_of_a_read_exactly_once(keys: list[tuple[str | None, float]]) -> None:
    run = Run(WedgeSettings(max_length=12))
    for char, gap in keys:
        run.key(char, gap)
    run.idle()
    assert len(run.typed) == len(set(run.typed)) and run.typed == sorted(run.typed)  # no key twice, none reordered
    swallowed = set(range(1, run.n + 1)) - set(run.typed)
    swallowed_text = [run.chars[n] for n in sorted(swallowed) if run.chars[n]]
    # What was not typed was read (with its Enter) or rejected, nothing else.
    reads = sum(len(b) + 1 for b in run.bursts)
    if not run.rejected:
        assert len(swallowed_text) == reads
    assert not run.detector.holding


# -- settings and URLs ------------------------------------------------------------------------------------------


def test_settings_from_a_url() -> None:
    reader = make_card_reader("keyboard:?max_gap_ms=30&min_length=8&max_length=64")
    assert isinstance(reader, KeyboardCardReader)
    assert reader.settings == WedgeSettings(max_gap_s=0.03, min_length=8, max_length=64)
    assert reader.settings.hold_s == pytest.approx(0.06)
    scanner = make_qr_scanner("keyboard:")
    assert isinstance(scanner, KeyboardQrScanner) and scanner.settings == WedgeSettings()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("keyboard:?max_gap_ms=fast", "expected a whole number"),
        ("keyboard:?max_gap_ms=0", "between 1 and 500"),
        ("keyboard:?min_length=1", "min_length=1"),
        ("keyboard:?min_length=90&max_length=40", "larger than max_length"),
        ("keyboard:?terminator=space", "enter, tab"),
        ("keyboard:?speed=9", "unknown option 'speed'"),
        ("keyboard:/dev/input/event3", "takes options only"),
    ],
)
def test_bad_keyboard_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_card_reader(url)


def test_merged_settings_take_whatever_either_device_would() -> None:
    card = WedgeSettings.from_query("max_gap_ms=30&min_length=8")
    qr = WedgeSettings.from_query("max_gap_ms=60&min_length=12&terminator=tab")
    both = card.merged(qr)
    assert (both.max_gap_s, both.min_length, both.terminators) == (0.06, 8, frozenset("\r\n\t"))


@pytest.mark.parametrize(
    ("text", "card"),
    [("04A1B2C3", True), ("04a1b2c3d4e5f6", True), ("0" * 20, True), ("04A1B2C", False), ("0" * 21, False),
     ("04A1B2C3G", False), ("CPK:H:325010", False), ("04A1 B2C3", False)],
)
def test_card_ids(text: str, card: bool) -> None:
    assert is_card_id(text) is card


# -- adapters ----------------------------------------------------------------------------------------------------


def test_card_reader_reports_a_tap_from_its_own_thread() -> None:
    reader = KeyboardCardReader()
    events: list[tuple[str, str, str]] = []
    done = threading.Event()

    def removed() -> None:
        events.append(("removed", "", threading.current_thread().name))
        done.set()

    reader.set_listeners(lambda card_id: events.append(("card", card_id, threading.current_thread().name)), removed)
    assert not reader.deliver("04a1b2c3d4")  # closed: dropped
    reader.open()
    try:
        assert reader.status.state is DeviceState.ONLINE
        assert not reader.deliver("CPK:H:325010")  # not a card id: ignored
        assert reader.deliver("04a1b2c3d4")
        assert done.wait(5)
        assert [e[:2] for e in events] == [("card", "04A1B2C3D4"), ("removed", "")]
        assert {e[2] for e in events} == {"keyboard-card-reader"}
        assert reader.status.card_present is False
    finally:
        reader.close()
    assert reader.status.state is DeviceState.OFFLINE
    assert not any(t.name == "keyboard-card-reader" for t in threading.enumerate())


def test_scanner_reports_scans_and_unreadable_bursts_in_order() -> None:
    scanner = KeyboardQrScanner()
    events: list[tuple[str, str]] = []
    done = threading.Event()

    def note(kind: str, value: str) -> None:
        assert threading.current_thread().name == "keyboard-qr-scanner"
        events.append((kind, value))
        if len(events) == 3:
            done.set()

    scanner.set_listener(lambda payload: note("scan", payload), lambda reason: note("unreadable", reason))
    scanner.open()
    try:
        for text in ("CPK:H:325010", "#%&garbage"):
            assert scanner.deliver(text)
        assert scanner.reject(TOO_LONG)
        assert done.wait(5)
        assert events == [("scan", "CPK:H:325010"), ("scan", "#%&garbage"), ("unreadable", TOO_LONG)]
    finally:
        scanner.close()
    assert not scanner.deliver("CPK:H:325010")


def test_reopening_after_close() -> None:
    reader = KeyboardCardReader()
    got: list[str] = []
    seen = threading.Event()
    reader.set_listeners(lambda card_id: (got.append(card_id), seen.set()))
    for _ in range(3):
        reader.open()
        seen.clear()
        assert reader.deliver("04B5C6D7E8")
        assert seen.wait(5)
        reader.close()
    assert got == ["04B5C6D7E8"] * 3
