"""The Qt binding itself: PySide6 6.12.0 on Python 3.11 dropped a reference to None on every void call and
to True on every signal emit, which aborts a long-running terminal. pyproject.toml pins it below 6.12."""

import sys

from ui.qt import QLabel, QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)


def test_void_calls_and_signals_keep_none_and_true_alive(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("x")
        emitter.fired.emit(True)
    assert sys.getrefcount(None) >= before_none - 50
    assert sys.getrefcount(True) >= before_true - 50
