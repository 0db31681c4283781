"""Shared by the benchmarks: the offscreen screen, a kiosk configuration, paint waits, statistics and the table."""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py`: the project itself must be importable
    sys.path.insert(0, str(ROOT))

# A 2560x1440 virtual screen: a non-fullscreen MainWindow takes 95% of the screen up to the 1920x1080 design
# size, so this gives exactly 1920x1080 at theme scale 1.0 (the offscreen default of 800x600 would shrink it).
SCREEN = {"width": 2560, "height": 1440}
now = time.perf_counter  # CLOCK_MONOTONIC on Linux: comparable between parent and child processes


def offscreen_platform() -> str:
    """A QT_QPA_PLATFORM value for the offscreen plugin with the benchmark screen."""
    path = Path(tempfile.gettempdir()) / "kiosk-bench-screen.json"
    screen = {"name": "bench", "x": 0, "y": 0, "logicalDpi": 96, "logicalBpi": 96, "dpr": 1, **SCREEN}
    path.write_text(json.dumps({"screens": [screen]}))
    return f"offscreen:configfile={path}"


def use_offscreen() -> None:
    """Make this process's future QApplication offscreen, on the benchmark screen."""
    os.environ["QT_QPA_PLATFORM"] = offscreen_platform()


def dead_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kiosk_config(hq_url: str, database: str, **payment: Any) -> Any:
    """A windowed 1920x1080 landscape terminal with simulated devices (the defaults) and its own database."""
    from kiosk.config import config_from_mapping

    return config_from_mapping(
        {
            "terminal": {"id": "T-BENCH"},
            "hq": {"url": hq_url, "connect_timeout_s": 1.0, "read_timeout_s": 5.0},
            "ui": {"fullscreen": False, "orientation": "landscape", "language": "zh_CN"},
            "payment": payment,
            "storage": {"database": database},
        }
    )


def machine() -> str:
    import PySide6

    return (
        f"machine: {os.cpu_count()} CPUs ({platform.machine()}, {platform.system()} {platform.release()}), "
        f"Python {platform.python_version()}, PySide6 {PySide6.__version__}"
    )


# ---- Qt helpers (import PySide6 lazily: the startup benchmark's parent process must not load it) ---------------


def qt_app() -> Any:
    """The process's QApplication, created offscreen if there is none yet."""
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        use_offscreen()
        app = QApplication([sys.argv[0]])

        def quiet(_mode: Any, _context: Any, message: str) -> None:
            # The offscreen plugin warns once per window about size hints; it would break up the table.
            if "propagateSizeHints" not in message:
                print(message, file=sys.stderr)

        qInstallMessageHandler(quiet)
    return app


def make_paint_watcher(widget: Any) -> Any:
    """A `PaintWatcher` on `widget` (the class is built on first use, so PySide6 loads only when needed)."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    class PaintWatcher(QObject):
        """Notes the first Paint event `widget` receives after `arm()`; `wait()` runs the event loop until then.

        `wait` returns after the event that carried the paint has been handled, i.e. after the whole backing
        store sync (children painted, flushed), which is when the new screen is really on the glass.
        """

        def __init__(self, target: Any) -> None:
            super().__init__()
            self.target = target
            self.seen = False
            self._loop: QEventLoop | None = None
            target.installEventFilter(self)

        def arm(self) -> None:
            self.seen = False

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                if self._loop is not None:
                    self._loop.quit()  # takes effect once this paint pass returns to the loop
            return False

        def wait(self, timeout: float = 10.0) -> float:
            """Block (in the event loop) until painted; returns the time it was done."""
            if not self.seen:
                loop = QEventLoop()
                self._loop = loop
                timer = QTimer()
                timer.setSingleShot(True)
                timer.timeout.connect(loop.quit)
                timer.start(round(timeout * 1000))
                loop.exec()
                timer.stop()
                self._loop = None
            if not self.seen:
                raise TimeoutError(f"{type(self.target).__name__} not painted within {timeout} s")
            return now()

        def remove(self) -> None:
            self.target.removeEventFilter(self)

    return PaintWatcher(widget)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step_ms: int = 1) -> float:
    """Run the event loop until `predicate()` holds (checked every `step_ms`); returns the time it held."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = now() + timeout
    if predicate():
        return now()
    loop = QEventLoop()
    done_at: list[float] = []

    def check() -> None:
        if predicate():
            done_at.append(now())
            loop.quit()
        elif now() > deadline:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(step_ms)
    loop.exec()
    timer.stop()
    if not done_at:
        raise TimeoutError(f"condition not met within {timeout} s")
    return done_at[0]


def settle(ms: int = 50) -> None:
    """Let pending events (late paints, queued callbacks) run for `ms` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


# ---- statistics ---------------------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): a value that was really observed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# ---- the table ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One printed figure; `ok` None means there is no target to meet."""

    bench: str
    figure: str
    value: str
    target: str = ""
    ok: bool | None = None


def table(rows: Sequence[Row]) -> str:
    header = ("benchmark", "figure", "value", "target", "")
    cells = [header] + [
        (r.bench, r.figure, r.value, r.target, "" if r.ok is None else ("PASS" if r.ok else "MISS")) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = []
    for i, cell in enumerate(cells):
        lines.append("  ".join(text.ljust(widths[j]) for j, text in enumerate(cell)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def report(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    print(machine())
    print(f"\n{title}\n")
    print(table(rows))
    for note in notes:
        print(f"  * {note}")
