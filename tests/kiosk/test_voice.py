"""The voice guide with a real speaker (espeak-ng synthesis, simulated output in real time): what is spoken when,
interrupted by a new screen or a touch, repeated, volume and speed back after a journey; and a terminal without a
speech engine reports a device fault and serves residents all the same."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from maintenance_rig import TEST_HASHER, FakeCardReader, FakePrinter, FakeScanner, MenuRig
from maintenance_rig import terminal_config as make_config

from devices.base import DeviceState
from devices.espeak_speaker import EspeakEngine, SimulatedSpeaker
from devices.speaker import SpeechEvent, SpeechLog
from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk import i18n
from kiosk.app import Devices, Terminal
from kiosk.config import Config
from kiosk.maintenance import MenuScreen, SelfTestState
from kiosk.prompts import prompt_for, warning_prompt
from kiosk.screens import IdleScreen, Loading, LoadingScreen, Mode, Notice, OverviewScreen, Screen
from kiosk.self_test import Verdict, check_devices
from kiosk.tasks import ManualLoop
from kiosk.terminal_report import ReportSources, build_report
from kiosk.voice import LOADING_DELAY_S, VoiceGuide
from ui.samples import sample_screens

pytestmark = pytest.mark.timeout(60)
SAMPLES = sample_screens()


class FakeJourney:
    """Emits screens and warnings as the journey does; the mode is set by the test."""

    def __init__(self) -> None:
        self.screen: Screen = IdleScreen(language="en")
        self.mode = Mode.STANDARD
        self._screens: list[Callable[[Screen], None]] = []
        self._warnings: list[Callable[[int | None], None]] = []

    def add_screen_listener(self, listener: Callable[[Screen], None]) -> None:
        self._screens.append(listener)

    def add_time_warning_listener(self, listener: Callable[[int | None], None]) -> None:
        self._warnings.append(listener)

    def show(self, screen: Screen, mode: Mode | None = None) -> None:
        self.mode = mode or self.mode
        self.screen = screen
        for listener in self._screens:
            listener(screen)

    def warn(self, seconds: int | None) -> None:
        for listener in self._warnings:
            listener(seconds)


class Voice:
    """A guide on a real speaker, with what it takes to drive and watch it."""

    def __init__(self, speed: float, **speech: object) -> None:
        self.loop = ManualLoop()
        self.journey = FakeJourney()
        self.speaker = SimulatedSpeaker(speed=speed)
        self.events = SpeechLog()
        self.speaker.add_speech_listener(self.events)
        self.speaker.open()
        self.config = Config().with_changes("speech", **speech) if speech else Config()
        self.guide = VoiceGuide(self.speaker, self.journey, self.config, self.loop, self.loop.dispatch)

    def said(self, screen: Screen, mode: Mode) -> str:
        return prompt_for(screen, mode, self.guide._clock()).text


def run_for(loop: ManualLoop, seconds: float) -> None:
    """Run the loop's due calls and timers for a while (nothing to wait for: the point is what did not happen)."""
    with contextlib.suppress(TimeoutError):
        loop.run_until(lambda: False, seconds)


@pytest.fixture(autouse=True)
def english() -> Iterator[i18n.Translator]:
    with i18n.using(i18n.Translator("en")) as translator:
        yield translator


@pytest.fixture
def make_voice() -> Iterator[Callable[..., Voice]]:
    made: list[Voice] = []

    def build(speed: float = 1.0, **speech: object) -> Voice:
        made.append(Voice(speed, **speech))
        return made[-1]

    yield build
    for voice in made:
        voice.speaker.close()


def test_elderly_mode_speaks_each_screen_and_a_new_screen_cuts_off_the_old_prompt(
    make_voice: Callable[..., Voice],
) -> None:
    v = make_voice()
    overview, amount = SAMPLES["overview-two-meters"], SAMPLES["amount"]
    v.journey.show(overview, Mode.ELDERLY)
    first = v.said(overview, Mode.ELDERLY)
    v.events.wait_for(SpeechEvent.STARTED, first)
    asked = time.monotonic()
    v.journey.show(amount)
    _, stopped = v.events.wait_for(SpeechEvent.INTERRUPTED, first)
    v.events.wait_for(SpeechEvent.STARTED, v.said(amount, Mode.ELDERLY))
    assert stopped - asked < 1.0  # about a millisecond: measured in benchmarks/elderly_journey.py
    assert v.events.texts(SpeechEvent.FINISHED) == []


def test_a_touch_silences_the_prompt_at_once(make_voice: Callable[..., Voice]) -> None:
    v = make_voice()
    v.journey.show(SAMPLES["payment"], Mode.ELDERLY)
    text = v.said(SAMPLES["payment"], Mode.ELDERLY)
    v.events.wait_for(SpeechEvent.STARTED, text)
    v.guide.touched()
    _, stopped = v.events.wait_for(SpeechEvent.INTERRUPTED, text)
    assert v.guide.last_touch is not None and stopped - v.guide.last_touch < 1.0
    assert not v.speaker.speaking


def test_repeat_says_the_screen_again_from_the_start(make_voice: Callable[..., Voice]) -> None:
    v = make_voice(speed=50)
    result = SAMPLES["result-paid-printed"]
    v.journey.show(result, Mode.ELDERLY)
    text = v.said(result, Mode.ELDERLY)
    v.events.wait_for(SpeechEvent.FINISHED, text)
    v.guide.repeat()
    v.events.wait_count(SpeechEvent.FINISHED, text, 2)
    assert v.events.texts(SpeechEvent.STARTED) == [text, text]


def test_standard_mode_speaks_only_when_asked_unless_configured(make_voice: Callable[..., Voice]) -> None:
    asked = make_voice(speed=50)
    asked.journey.show(SAMPLES["overview-one-meter"])
    asked.journey.show(SAMPLES["amount"])
    assert asked.guide.offers_repeat and not asked.guide.speaks_by_itself
    asked.guide.repeat()
    (utterance, _at) = asked.events.wait_for(SpeechEvent.FINISHED)
    assert utterance.text == asked.said(SAMPLES["amount"], Mode.STANDARD)  # the screen shown now, nothing before

    always = make_voice(speed=50, standard_mode="always")
    always.journey.show(SAMPLES["amount"])
    always.events.wait_for(SpeechEvent.FINISHED, always.said(SAMPLES["amount"], Mode.STANDARD))

    off = make_voice(speed=50, standard_mode="off")
    off.journey.show(SAMPLES["amount"])
    off.guide.repeat()
    assert not off.guide.offers_repeat
    off.journey.show(SAMPLES["payment"], Mode.ELDERLY)  # elderly mode speaks whatever standard mode does
    assert off.guide.offers_repeat
    off.events.wait_for(SpeechEvent.STARTED, off.said(SAMPLES["payment"], Mode.ELDERLY))
    assert len(off.events.seen) >= 1 and off.events.seen[0][1].text.startswith("You are recharging")


def test_volume_and_speed_changed_in_a_journey_go_back_to_the_settings_after_it(
    make_voice: Callable[..., Voice],
) -> None:
    v = make_voice(speed=50, volume_pct=120, rate_pct=90)
    assert (v.speaker.volume, v.speaker.rate) == (120, 90)
    v.journey.show(SAMPLES["overview-one-meter"], Mode.ELDERLY)
    v.guide.set_volume(180)
    v.guide.set_rate(60)
    v.journey.show(SAMPLES["amount"])
    assert (v.speaker.volume, v.speaker.rate) == (180, 60)  # for the rest of this journey
    v.journey.show(IdleScreen(language="en"), Mode.STANDARD)  # the journey ends
    assert (v.speaker.volume, v.speaker.rate) == (120, 90)
    v.guide.apply_config(v.config.with_changes("speech", volume_pct=150))  # staff changed the setting
    assert v.speaker.volume == 150


def test_a_short_loading_screen_is_not_spoken_and_a_long_one_is(make_voice: Callable[..., Voice]) -> None:
    v = make_voice(speed=50)
    loading = LoadingScreen(Loading.FINDING_HOUSE)
    v.journey.show(loading, Mode.ELDERLY)
    v.journey.show(SAMPLES["overview-one-meter"])  # HQ answered at once
    v.loop.advance(LOADING_DELAY_S * 2)
    run_for(v.loop, 0.05)
    v.events.wait_for(SpeechEvent.FINISHED, v.said(SAMPLES["overview-one-meter"], Mode.ELDERLY))
    slow = LoadingScreen(Loading.CREATING_ORDER)
    v.journey.show(slow)
    v.loop.advance(LOADING_DELAY_S / 2)
    run_for(v.loop, 0.05)
    assert v.guide.last_prompt is not None and "Preparing" not in v.guide.last_prompt.text
    v.loop.advance(LOADING_DELAY_S)
    run_for(v.loop, 0.05)
    v.events.wait_for(SpeechEvent.FINISHED, v.said(slow, Mode.ELDERLY))
    assert v.events.texts(SpeechEvent.STARTED)[0].startswith("Building three")


def test_switching_to_elderly_mode_or_language_speaks_the_screen_and_leaving_it_stops(
    make_voice: Callable[..., Voice], english: i18n.Translator,
) -> None:
    v = make_voice()
    idle = IdleScreen(language="en")
    v.journey.show(idle)  # standard: silent
    v.journey.show(idle, Mode.ELDERLY)  # the 长辈版 switch re-shows the screen in elderly mode
    welcome = v.said(idle, Mode.ELDERLY)
    v.events.wait_for(SpeechEvent.STARTED, welcome)
    english.set_language("zh_CN")
    v.journey.show(replace(idle, language="zh_CN"))
    (utterance, _at) = v.events.wait_for(SpeechEvent.STARTED, v.said(idle, Mode.ELDERLY))
    assert utterance.language == "zh_CN"
    v.events.wait_for(SpeechEvent.INTERRUPTED, welcome)
    v.journey.show(idle, Mode.STANDARD)  # the switch turned off again: its prompt goes too
    v.events.wait_for(SpeechEvent.INTERRUPTED, utterance.text)


def test_after_a_journey_only_news_is_spoken_in_the_mode_the_resident_had(make_voice: Callable[..., Voice]) -> None:
    v = make_voice(speed=50)
    v.journey.show(LoadingScreen(Loading.FINDING_HOUSE), Mode.ELDERLY)
    unknown = IdleScreen(language="en", notice=Notice.UNKNOWN_CARD)
    v.journey.show(unknown, Mode.STANDARD)  # the journey ends with a notice, and the mode goes back to standard
    v.events.wait_for(SpeechEvent.FINISHED, v.said(unknown, Mode.ELDERLY))
    v.journey.show(SAMPLES["result-paid-printed"], Mode.ELDERLY)
    v.journey.show(IdleScreen(language="en"), Mode.ELDERLY)  # ends without news: nobody needs the welcome
    v.loop.advance(1)
    run_for(v.loop, 0.05)
    assert v.guide.last_prompt is not None and v.guide.last_prompt.text == v.said(
        SAMPLES["result-paid-printed"], Mode.ELDERLY)


def test_the_time_out_question_is_spoken_and_repeat_says_it_while_it_is_asked(
    make_voice: Callable[..., Voice],
) -> None:
    v = make_voice(speed=50)
    v.journey.show(SAMPLES["amount"], Mode.ELDERLY)
    v.journey.warn(20)
    v.events.wait_for(SpeechEvent.FINISHED, warning_prompt(20).text)
    v.journey.warn(19)  # the countdown ticks: not said again
    v.guide.repeat()
    v.events.wait_for(SpeechEvent.FINISHED, warning_prompt(19).text)
    v.journey.warn(None)
    v.guide.repeat()
    v.events.wait_for(SpeechEvent.STARTED, v.said(SAMPLES["amount"], Mode.ELDERLY))


def test_without_a_speech_engine_the_guide_offers_nothing_and_fails_nothing() -> None:
    journey = FakeJourney()
    loop = ManualLoop()
    speaker = SimulatedSpeaker(engine=EspeakEngine(command="no-such-espeak-ng"))
    guide = VoiceGuide(speaker, journey, Config(), loop, loop.dispatch)
    changes: list[bool] = []
    guide.add_listener(lambda: changes.append(guide.offers_repeat))
    speaker.open()
    loop.run_until(lambda: changes)  # the status change reaches listeners through dispatch
    assert speaker.status.state is DeviceState.NO_DEVICE and not guide.available
    journey.show(SAMPLES["payment"], Mode.ELDERLY)
    guide.repeat()
    guide.touched()
    assert not guide.offers_repeat and changes[-1] is False
    assert VoiceGuide(None, journey, Config(), loop, loop.dispatch).offers_repeat is False  # none:


# ---- a whole terminal without a speech engine -----------------------------------------------------------------


@pytest.fixture
def mute_terminal(tmp_path: Path, hq_server: HqServer) -> Iterator[MenuRig]:
    config = make_config(tmp_path / "t.db", hq_server.base_url, heartbeat={"enabled": False},
                         ui={"mode": "elderly", "language": "en"})
    loop = ManualLoop()
    speaker = SimulatedSpeaker(engine=EspeakEngine(command="no-such-espeak-ng"))
    devices = Devices(FakeCardReader(), FakeScanner(), FakePrinter(), speaker)
    terminal = Terminal(config, loop.dispatch, loop, devices=devices)
    terminal.start()
    yield MenuRig(terminal, loop)
    terminal.stop()


def test_no_speech_engine_is_a_device_fault_and_the_journey_still_works(mute_terminal: MenuRig) -> None:
    terminal = mute_terminal.terminal
    speaker = terminal.devices.speaker
    assert speaker is not None and speaker.status.state is DeviceState.NO_DEVICE
    assert "no-such-espeak-ng" in (speaker.status.last_error or "")
    report = build_report(ReportSources("test", terminal.devices.all, terminal.store, lambda: False, Path(".")))
    assert "speaker_no_device" in report["health"]["problems"]
    assert {d["kind"]: d["state"] for d in report["devices"]}["speaker"] == "no_device"
    reader = terminal.devices.card_reader
    assert isinstance(reader, FakeCardReader)
    reader.insert(MAIN_HOUSE.card_id)
    mute_terminal.wait(lambda: isinstance(terminal.journey.screen, OverviewScreen), 10.0)
    assert terminal.journey.mode is Mode.ELDERLY and not terminal.voice.offers_repeat


def test_the_self_test_warns_about_the_speaker_but_passes(
    tmp_path: Path, dead_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kiosk.app

    monkeypatch.setattr(kiosk.app, "make_speaker",
                        lambda url: SimulatedSpeaker(engine=EspeakEngine(command="no-such-espeak-ng")))
    config = make_config(tmp_path / "t.db", dead_url, devices={"card_reader": "sim:", "qr_scanner": "sim:",
                                                               "printer": "memory:"})
    (speaker,) = [r for r in check_devices(config, settle_s=2.0) if r.name == "speaker"]
    assert speaker.verdict is Verdict.WARN
    assert "no_device" in speaker.detail and "without voice" in speaker.detail


def test_staff_can_test_the_speaker_from_the_menu(tmp_path: Path, dead_url: str) -> None:
    config = make_config(tmp_path / "t.db", dead_url, heartbeat={"enabled": False})
    loop = ManualLoop()
    devices = Devices(FakeCardReader(), FakeScanner(), FakePrinter(), SimulatedSpeaker(speed=50))
    terminal = Terminal(config, loop.dispatch, loop, devices=devices)
    rig = MenuRig(terminal, loop)
    terminal.maintenance.add_listener(rig.states.append)
    terminal.start()
    try:
        terminal.staff.hasher = TEST_HASHER
        terminal.staff.set_pin("S001", "480215")
        rig.menu.gesture()
        rig.type_pin("480215")
        rig.wait(lambda: isinstance(rig.state, MenuScreen))
        rig.menu.test_device("speaker")

        def speaker_test() -> SelfTestState | None:
            state = rig.state
            assert isinstance(state, MenuScreen)
            row = next(d for d in state.devices if d.kind == "speaker")
            return row.test.state if row.test else None

        assert speaker_test() is SelfTestState.RUNNING
        rig.wait(lambda: speaker_test() is SelfTestState.PASSED, 10.0)
    finally:
        terminal.stop()
