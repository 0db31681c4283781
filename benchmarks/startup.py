"""Cold start: spawn → the idle screen painted, against the floor of a bare PySide6 window, as a ratio.

Each sample is a fresh child process of the same interpreter (offscreen). The parent times from spawn until the
child's report line arrives; the child reports once its watched widget has had its first Paint event and that
paint pass has finished. Kiosk and bare samples are interleaved so drift hits both alike.

Run alone: .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_common import Row, dead_port, kiosk_config, median, now, offscreen_platform, report

TARGET_RATIO = 2.5
PHASES = (
    ("start", "python up"),
    ("imports", "imports"),
    ("qapp", "QApplication"),
    ("built", "build+show"),
    ("paint", "first paint"),
)


# ---- the children -------------------------------------------------------------------------------------------


def child(kind: str, port: int, database: str) -> None:
    """Build the kiosk (the real start path) or a bare window, report when first painted, and exit."""
    marks = {"start": now()}
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QWidget

    if kind == "kiosk":
        from kiosk.screens import IdleScreen
        from ui.main import StartingTerminal
    marks["imports"] = now()
    app = QApplication(sys.argv[:1])
    marks["qapp"] = now()
    if kind == "kiosk":
        config = kiosk_config(f"http://127.0.0.1:{port}", database)  # dead port: start must not wait on HQ

        def ready(_terminal: object) -> None:
            marks["ready"] = now()  # core built, interrupted payments recovered, touches accepted
            QTimer.singleShot(0, app.quit)

        starting = StartingTerminal(app, config, on_ready=ready)
        target: QWidget = starting.window.views[IdleScreen]
    else:
        window = QWidget()
        label = QLabel("Bare PySide6 window", window)
        window.resize(1920, 1080)
        label.resize(1920, 1080)
        window.show()
        target = window
    marks["built"] = now()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "paint" not in marks:
                marks["paint"] = now()
                if kind == "bare":
                    QTimer.singleShot(0, app.quit)  # runs after this paint pass (children, flush) has finished
            return False

    watcher = FirstPaint()
    target.installEventFilter(watcher)
    app.exec()
    marks["painted"] = now()
    print(json.dumps(marks), flush=True)
    os._exit(0)  # teardown is not part of start-up


# ---- the parent ---------------------------------------------------------------------------------------------


def sample(kind: str, env: dict[str, str], port: int, database: str) -> dict[str, float]:
    """One child run: seconds from spawn to each mark, and to the report read by the parent ("total")."""
    tmp = tempfile.mkdtemp(prefix="kiosk-bench-")
    try:
        args = [sys.executable, __file__, "--child", kind, "--port", str(port), "--db", database]
        start = now()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        end = now()
        _out, err = proc.communicate(timeout=30)
        if not line:
            raise RuntimeError(f"{kind} child reported nothing (exit {proc.returncode}):\n{err[-2000:]}")
        marks = json.loads(line)
        result = {name: marks[name] - start for name in marks}
        result["total"] = end - start
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(samples: int = 7) -> tuple[list[Row], list[str]]:
    env = {**os.environ, "QT_QPA_PLATFORM": offscreen_platform()}
    port = dead_port()
    # One terminal database for every kiosk sample, as a real terminal restarts on its own database.
    workdir = tempfile.mkdtemp(prefix="kiosk-bench-db-")
    database = str(Path(workdir) / "terminal.db")
    for kind in ("kiosk", "bare"):  # warm-up: byte-code compiled, files in the page cache, database created
        sample(kind, env, port, database)
    runs: dict[str, list[dict[str, float]]] = {"kiosk": [], "bare": []}
    for _ in range(samples):
        for kind in ("kiosk", "bare"):
            runs[kind].append(sample(kind, env, port, database))
    shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    totals = {kind: [r["paint"] for r in runs[kind]] for kind in runs}
    for kind, label in (("kiosk", "kiosk: spawn → idle screen painted"), ("bare", "bare window: spawn → painted")):
        t = totals[kind]
        rows.append(Row("startup", label, f"median {median(t) * 1000:.0f} ms (min {min(t) * 1000:.0f}, "
                                          f"max {max(t) * 1000:.0f}, n={len(t)})"))
    ratio = median(totals["kiosk"]) / median(totals["bare"])
    rows.append(Row("startup", "cold start ratio kiosk / bare (medians)", f"{ratio:.2f}x",
                    f"≤ {TARGET_RATIO}x", ratio <= TARGET_RATIO))
    ready = [r["ready"] for r in runs["kiosk"]]
    rows.append(Row("startup", "kiosk: spawn → ready (core built, recovered)",
                    f"median {median(ready) * 1000:.0f} ms (min {min(ready) * 1000:.0f}, max {max(ready) * 1000:.0f}); "
                    f"{median(ready) / median(totals['bare']):.2f}x the bare window"))
    for kind in runs:
        parts, previous = [], 0.0
        for mark, label in PHASES:
            at = median([r[mark] for r in runs[kind]])
            parts.append(f"{label} {(at - previous) * 1000:.0f}")
            previous = at
        rows.append(Row("startup", f"{kind} phases (median ms)", " · ".join(parts)))
    notes = [
        "startup: each sample a fresh process (QT_QPA_PLATFORM=offscreen, 2560x1440 virtual screen → 1920x1080 "
        f"window); {samples} kiosk and {samples} bare runs interleaved after one warm-up each; kiosk HQ URL is "
        "a dead loopback port; the kiosk paints its idle screen first and builds its core (store, HQ client, "
        "devices, recovery) right after, so 'ready' is when touches start to count; the terminal database "
        "persists across samples, as on a real restart",
    ]
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=("kiosk", "bare"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", default="")
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port, args.db)
        return
    rows, notes = run(args.samples)
    report("Cold start", rows, notes)


if __name__ == "__main__":
    main()
