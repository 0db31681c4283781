"""The voice in the window: the "Say it again" button in the chrome (elderly-size, 7:1, on every screen, never
squeezing a screen), a touch anywhere silencing the prompt, and the button repeating it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.espeak_speaker import SimulatedSpeaker
from devices.speaker import SpeechEvent, SpeechLog
from kiosk import i18n
from kiosk.config import Config
from kiosk.prompts import prompt_for
from kiosk.screens import Mode
from kiosk.tasks import ManualLoop
from kiosk.voice import VoiceGuide
from ui.accessibility import ELDERLY, NORMAL, Panel, check_screen, measured_contrast
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.qt import QApplication, QImage, QPoint, QRect, Qt
from ui.samples import sample_screens
from ui.theme import Theme, elderly
from ui.voice import VoiceControls, install_voice

pytestmark = pytest.mark.timeout(90)
SAMPLES = sample_screens()
CONFIG = Config()


class Rig:
    def __init__(self, window: MainWindow, journey: Any, speaker: SimulatedSpeaker, guide: VoiceGuide,
                 controls: VoiceControls) -> None:
        self.window, self.journey, self.speaker, self.guide, self.controls = window, journey, speaker, guide, controls
        self.heard = SpeechLog()
        speaker.add_speech_listener(self.heard)

    def show(self, name: str) -> None:
        model = SAMPLES[name]
        self.journey.emit(model)  # the window and the guide both listen
        settle()

    @property
    def button(self) -> Any:
        return self.controls.button


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


@pytest.fixture
def make_rig(qtbot: Any, journey: Any, translator: i18n.Translator) -> Iterator[Callable[..., Rig]]:
    speakers: list[SimulatedSpeaker] = []

    def build(orientation: str = "landscape", theme: Theme | None = None, mode: Mode = Mode.ELDERLY,
              speed: float = 1.0, speaker: SimulatedSpeaker | None = None, **speech: object) -> Rig:
        journey.mode = mode  # type: ignore[attr-defined]
        config = CONFIG.with_changes("ui", fullscreen=False, orientation=orientation)
        if speech:
            config = config.with_changes("speech", **speech)
        window = MainWindow(journey, config, translator, theme=theme or Theme())  # type: ignore[arg-type]
        qtbot.addWidget(window)
        spk = speaker or SimulatedSpeaker(speed=speed)
        spk.open()
        speakers.append(spk)
        loop = ManualLoop()
        guide = VoiceGuide(spk, journey, config, loop, loop.dispatch)  # type: ignore[arg-type]
        controls = install_voice(window, guide)
        window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
        window.show()
        qtbot.waitExposed(window)
        settle()
        return Rig(window, journey, spk, guide, controls)

    yield build
    for spk in speakers:
        spk.close()


def panel_for(window: MainWindow) -> Panel:
    size = window.size()
    return Panel(CONFIG.ui.panel_diagonal_in, size.width(), size.height(), CONFIG.ui.viewing_distance_mm)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("theme", [Theme(), elderly()], ids=["theme-standard", "theme-elderly"])
def test_the_repeat_button_is_on_every_screen_large_and_legible_in_elderly_mode(
    make_rig: Callable[..., Rig], orientation: str, theme: Theme,
) -> None:
    rig = make_rig(orientation, theme)
    assert rig.button.compact is (orientation == "portrait")  # the words only where the header has room
    panel = panel_for(rig.window)
    found: list[str] = []
    for name in SAMPLES:
        rig.show(name)
        button = rig.button
        if not button.isVisibleTo(rig.window):
            found.append(f"{name}: not shown")
            continue
        w_mm, h_mm = panel.mm(button.width()), panel.mm(button.height())
        if min(w_mm, h_mm) < ELDERLY.min_target_mm:
            found.append(f"{name}: {w_mm:.1f} x {h_mm:.1f} mm")
        if button.sizeHint().width() > button.width() + 1:
            found.append(f"{name}: label cut off ({button.width()} of {button.sizeHint().width()} px)")
    image = rig.window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rect = QRect(rig.button.mapTo(rig.window, QPoint(0, 0)), rig.button.size())
    ratio = measured_contrast(image, rect)
    assert ratio is not None and ratio >= ELDERLY.min_contrast, ratio
    assert found == []


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_the_button_squeezes_nothing(make_rig: Callable[..., Rig], orientation: str) -> None:
    """Standard mode offers the button too (speech on request): the header keeps the house's number whole, nothing
    overlaps, and the window keeps its size, on every screen (with and without Home)."""
    rig = make_rig(orientation, mode=Mode.STANDARD)
    design = LANDSCAPE if orientation == "landscape" else PORTRAIT
    found: list[str] = []
    for name in SAMPLES:
        rig.show(name)
        assert rig.button.isVisibleTo(rig.window), name
        found += [f"{name}: {v}" for v in check_screen(rig.window.header, panel_for(rig.window), NORMAL)]
    assert (rig.window.width(), rig.window.height()) == (design.width(), design.height())
    assert found == []
    if orientation == "portrait":  # why the portrait button has no words: with them, the house number is cut off
        rig.show("overview-one-meter")
        rig.button.set_compact(False)
        settle()
        assert any(v.rule == "clipped" for v in check_screen(rig.window.header, panel_for(rig.window), NORMAL))


def test_the_button_shows_only_when_residents_can_use_it(make_rig: Callable[..., Rig]) -> None:
    off = make_rig("portrait", mode=Mode.STANDARD, standard_mode="off")
    off.show("overview-one-meter")
    assert not off.button.isVisibleTo(off.window)
    off.journey.mode = Mode.ELDERLY  # type: ignore[attr-defined]
    off.show("overview-two-meters")  # the guide hears of the mode with the screen
    assert off.button.isVisibleTo(off.window)
    assert off.button.compact and off.button.text() == "" and off.button.accessibleName() == "Say it again"


def test_no_speech_engine_no_button(make_rig: Callable[..., Rig]) -> None:
    from devices.espeak_speaker import EspeakEngine

    rig = make_rig(speaker=SimulatedSpeaker(engine=EspeakEngine(command="no-such-espeak-ng")))
    rig.show("payment")
    assert not rig.button.isVisibleTo(rig.window)


def test_a_press_anywhere_silences_the_prompt_and_the_button_says_it_again(
    make_rig: Callable[..., Rig], qtbot: Any,
) -> None:
    rig = make_rig()
    rig.show("payment")
    text = prompt_for(SAMPLES["payment"], Mode.ELDERLY).text
    rig.heard.wait_for(SpeechEvent.STARTED, text)
    view = rig.window.current_view
    pressed = time.monotonic()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton)
    _, stopped = rig.heard.wait_for(SpeechEvent.INTERRUPTED, text)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton)
    assert stopped - pressed < 1.0  # a millisecond or so; benchmarks/elderly_journey.py gives the figures
    qtbot.mouseClick(rig.button, Qt.MouseButton.LeftButton)
    rig.heard.wait_count(SpeechEvent.STARTED, text, 2)
    assert rig.heard.texts(SpeechEvent.STARTED).count(text) == 2
