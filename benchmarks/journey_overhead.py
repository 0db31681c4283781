"""What the terminal adds to a whole journey beyond HQ's answers, payment detection and receipt printing.

Whole journeys through the real widgets (built by `ui.main.build_terminal_window`) against a real seeded HQ on
loopback, simulated devices, offscreen: card → overview → one-touch pay → payment screen → the phone pays via
the sandbox URL → result screen → receipt printed → Done → idle. The terminal's HqClient is wrapped to record
every request's span; each terminal-driven phase is timed from its trigger until the next screen's view has
been painted, and HQ time is the sum of the requests inside that phase.

Run alone: .venv/bin/python benchmarks/journey_overhead.py
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from bench_common import Row, kiosk_config, make_paint_watcher, ms, now, pct, qt_app, report, settle, wait_for

PHASES = ("card → overview", "one-touch pay → payment", "Done → idle")
Span = tuple[float, float]


def timed(record: list[Span], func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`, appending each call's (start, end) to `record` (list.append is atomic: safe from any thread)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = now()
        try:
            return func(*args, **kwargs)
        finally:
            record.append((start, now()))

    return wrapper


def inside(spans: list[Span], start: float, end: float) -> float:
    """Total length of the spans that lie within [start, end]."""
    return sum(b - a for a, b in spans if a >= start and b <= end)


def pay_from_phone(pay_url: str, paid: list[float], delay: float) -> None:
    """The resident's phone: open the sandbox checkout page, then pay (as tests/ui/test_ui_journey.py does)."""
    time.sleep(delay)
    requests.get(pay_url, timeout=5).raise_for_status()
    requests.post(f"{pay_url}/pay", headers={"Accept": "application/json"}, timeout=5).raise_for_status()
    paid.append(now())


def run(journeys: int = 20) -> tuple[list[Row], list[str]]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    import kiosk.journey
    from hq.seed import MAIN_HOUSE
    from hq.server import HqServer
    from kiosk.screens import IdleScreen, OverviewScreen, PaymentScreen, ReceiptState, ResultScreen
    from ui.main import build_terminal_window

    def click(widget: Any) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)

    app = qt_app()
    hq_calls: list[Span] = []
    print_spans: list[Span] = []
    escpos_spans: list[Span] = []
    model_spans: list[Span] = []
    phases: dict[str, list[tuple[float, float]]] = {name: [] for name in PHASES}  # (wall, inside HQ)
    detection: list[float] = []
    detection_hq: list[float] = []
    receipt_shown: list[float] = []
    store_spans: list[Span] = []
    store_in_phase: dict[str, list[float]] = {name: [] for name in PHASES}
    # A resident scans and pays at no fixed moment: a random phase against the poll cycle (seeded: repeatable).
    rng = random.Random(20240607)
    original_build_receipt = kiosk.journey.build_receipt
    with HqServer(seed=True) as hq, tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        config = kiosk_config(hq.base_url, str(Path(tmp) / "t.db"))
        poll_interval = config.payment.poll_interval_s
        terminal, window = build_terminal_window(app, config)
        # Instance attributes shadow the methods: only this terminal's journey HQ client and printer are timed.
        terminal.hq._request = timed(hq_calls, terminal.hq._request)  # type: ignore[method-assign]
        printer = terminal.devices.printer
        printer.print_receipt = timed(print_spans, printer.print_receipt)  # type: ignore[method-assign]
        sink = printer._sink  # type: ignore[attr-defined]
        sink.print_receipt = timed(escpos_spans, sink.print_receipt)
        for name in ("create", "transition", "set_receipt_status"):
            setattr(terminal.store, name, timed(store_spans, getattr(terminal.store, name)))
        kiosk.journey.build_receipt = timed(model_spans, original_build_receipt)  # type: ignore[assignment]
        views = window.views
        watch = {kind: make_paint_watcher(views[kind]) for kind in views}
        try:
            watch[IdleScreen].wait(10.0)
            settle(200)
            reader = terminal.devices.card_reader

            def phase(name: str, trigger: Callable[[], None], kind: type) -> None:
                watch[kind].arm()
                start = now()
                trigger()
                end = watch[kind].wait(15.0)
                assert isinstance(window.journey.screen, kind), (name, window.journey.screen)
                phases[name].append((end - start, inside(hq_calls, start, end)))
                store_in_phase[name].append(inside(store_spans, start, end))

            for _ in range(journeys):
                phase("card → overview", lambda: reader.insert(MAIN_HOUSE.card_id), OverviewScreen)  # type: ignore[attr-defined]
                phase("one-touch pay → payment", lambda: click(views[OverviewScreen].quick), PaymentScreen)
                pay_url = views[PaymentScreen].qr.data

                paid: list[float] = []
                watch[ResultScreen].arm()
                phone = threading.Thread(target=pay_from_phone, args=(pay_url, paid, rng.uniform(0, poll_interval)))
                phone.start()
                shown = watch[ResultScreen].wait(15.0)
                phone.join()
                screen = window.journey.screen
                assert isinstance(screen, ResultScreen) and screen.outcome.value == "paid", screen
                detection.append(shown - paid[0])
                detection_hq.append(inside(hq_calls, paid[0], shown))
                printed = wait_for(
                    lambda: getattr(window.journey.screen, "receipt", None) is ReceiptState.PRINTED, 10.0
                )
                receipt_shown.append(printed - shown)

                phase("Done → idle", lambda: click(views[ResultScreen].done), IdleScreen)
                reader.remove()  # type: ignore[attr-defined]
                settle(20)
        finally:
            kiosk.journey.build_receipt = original_build_receipt
            window.close()
            terminal.stop()
            for watcher in watch.values():
                watcher.remove()
            window.deleteLater()
            settle(50)

    def p50_95(values: list[float]) -> str:
        return f"p50 {ms(pct(values, 50))}  p95 {ms(pct(values, 95))} ms"

    n = journeys
    wall = [sum(phases[name][i][0] for name in PHASES) for i in range(n)]
    in_hq = [sum(phases[name][i][1] for name in PHASES) for i in range(n)]
    overhead = [w - h for w, h in zip(wall, in_hq, strict=True)]
    rows = [
        Row("journey", f"terminal-driven phases, wall (n={n} journeys)", p50_95(wall)),
        Row("journey", "  of which inside HQ requests", p50_95(in_hq)),
        Row("journey", "  terminal overhead = wall − HQ", p50_95(overhead)),
    ]
    for name in PHASES:
        w = [p[0] for p in phases[name]]
        over = [p[0] - p[1] for p in phases[name]]
        rows.append(Row("journey", f"  {name} painted",
                        f"wall p50 {ms(pct(w, 50))}, overhead {p50_95(over)} "
                        f"(store writes p50 {ms(pct(store_in_phase[name], 50))})"))
    rows += [
        Row("journey", f"payment detection: pay returned → result painted (poll every {poll_interval:g} s)",
            f"{p50_95(detection)}  max {ms(max(detection))} ms"),
        Row("journey", "  of which inside the status poll(s)", p50_95(detection_hq)),
        Row("journey", "store write (SQLite WAL, synchronous=FULL), per call", p50_95(_lengths(store_spans))),
        Row("receipt", "result painted → 'printed' on the screen model", p50_95(receipt_shown)),
        Row("receipt", "printer lane: print_receipt (ESC/POS + simulator parse)", p50_95(_lengths(print_spans))),
        Row("receipt", "  of which ESC/POS layout and write", p50_95(_lengths(escpos_spans))),
        Row("receipt", "receipt model (build_receipt, GUI thread)", p50_95(_lengths(model_spans))),
    ]
    notes = [
        "journey: terminal-driven phases are card inserted → overview painted, one-touch tap → payment screen "
        "painted, Done → idle painted; HQ time is the sum of HqClient._request spans inside each phase "
        "(HQ runs in-process on loopback, so it shares the GIL with the terminal)",
        f"journey: payment detection uses the default payment.poll_interval_s = {poll_interval:g} s; the phone "
        "(sandbox checkout GET + pay POST) runs on its own thread after a random 0..poll-interval delay, and is not "
        "counted as terminal time",
    ]
    return rows, notes


def _lengths(spans: list[Span]) -> list[float]:
    return [b - a for a, b in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=20)
    args = parser.parse_args()
    rows, notes = run(args.journeys)
    report("Whole journeys: terminal overhead, payment detection, receipt", rows, notes)


if __name__ == "__main__":
    main()
