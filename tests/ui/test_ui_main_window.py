"""The window: time-warning overlay, language switch, Home, and the activity filter."""

from __future__ import annotations

from kiosk.screens import IdleScreen
from ui.qt import Qt
from ui.samples import sample_screens
from ui.screens.idle import IdleView


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_time_warning_overlay_shows_counts_and_asks_for_more_time(qtbot, window, journey):
    journey.emit(sample_screens()["overview-one-meter"])
    overlay = window.overlay
    assert overlay.isHidden()
    journey.warn(20)
    assert overlay.isVisible()
    assert "20" in overlay.countdown.text()
    assert overlay.geometry() == window.rect()
    journey.warn(19)
    assert "19" in overlay.countdown.text()
    click(qtbot, overlay.more)
    assert journey.names()[-1] == "more_time"
    journey.warn(None)
    assert overlay.isHidden()


def test_time_warning_no_button_finishes_without_counting_as_activity(qtbot, window, journey):
    journey.emit(sample_screens()["amount"])
    journey.warn(5)
    journey.calls.clear()
    click(qtbot, window.overlay.done)
    assert [name for name, _ in journey.calls] == ["finish"]


def test_language_switch_repaints_at_once(qtbot, window, journey, translator):
    journey.emit(IdleScreen())
    view = window.current_view
    assert isinstance(view, IdleView)
    english = view.welcome.text()
    assert window.header.language_buttons["en"].isChecked()
    click(qtbot, window.header.language_buttons["zh_CN"])
    assert ("set_language", ("zh_CN",)) in journey.calls
    assert translator.language == "zh_CN"
    assert view.welcome.text() != english
    assert window.header.language_buttons["zh_CN"].isChecked()
    assert window.header.language_buttons["zh_CN"].text() == "中文"


def test_language_switch_from_the_translator_alone_also_repaints(window, journey, translator):
    journey.emit(sample_screens()["result-declined"])
    title = window.current_view.title.text()
    translator.set_language("zh_CN")
    assert window.current_view.title.text() != title


def test_home_finishes_and_is_hidden_on_idle(qtbot, window, journey):
    journey.emit(sample_screens()["overview-one-meter"])
    assert window.header.home.isVisible()
    click(qtbot, window.header.home)
    assert journey.names()[-1] == "finish"


def test_every_press_counts_as_activity_once(qtbot, window, journey):
    journey.emit(sample_screens()["overview-one-meter"])
    journey.calls.clear()
    qtbot.mouseClick(window.current_view.meters_heading, Qt.MouseButton.LeftButton)
    assert [name for name, _ in journey.calls] == ["user_activity"]
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert [name for name, _ in journey.calls] == ["user_activity", "user_activity"]


def test_screen_models_from_another_thread_are_marshalled(qtbot, window, journey):
    import threading

    model = sample_screens()["loading"]
    worker = threading.Thread(target=lambda: journey.emit(model))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.current_view.model == model, timeout=2000)
