"""Serial devices: the time from plugging a device back in to its adapter being ONLINE again.

Each round unplugs the pty simulator (`devices/pty_sims.py`: the pty closes and its path disappears), waits until
the real adapter reports NO_DEVICE (its first reopen found no port), plugs it back in (a new pty behind the same
path) and times `replug()` returning → the status listener seeing ONLINE. For the card reader ONLINE means the
reader has answered a STATUS request on the new connection; for the scanner, that the port is open.

Two settings: the defaults of kiosk/config.py (`devices.reconnect_initial_s` 0.1 s, doubling with 50-100 %
jitter, capped at `devices.reconnect_max_s` 5 s), where the replug lands in the second wait (0.1-0.2 s); and a
fast policy (2 ms doubling to 10 ms) that shows the floor: noticing the port, opening it, one request and answer.
A device left unplugged longer waits longer, up to the 5 s cap.

Run alone: .venv/bin/python benchmarks/reconnect_bench.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import logging
import threading

from bench_common import Row, median, ms, now, pct, report

from devices.base import DeviceState, DeviceStatus
from devices.coordinator import ConnectionPolicy
from devices.simulators import SimulatedCardReader, SimulatedQrScanner

DEFAULT = ConnectionPolicy()  # the same defaults as kiosk/config.py's [devices] section
FAST = ConnectionPolicy(reconnect_initial_s=0.002, reconnect_max_s=0.01)
TARGET_DEFAULT_S = 0.25  # the second backoff wait (0.2 s at most) and opening the port
TIMEOUT = 10.0


def replug_times(device: SimulatedCardReader | SimulatedQrScanner, rounds: int) -> list[float]:
    changed = threading.Condition()
    online_at: list[float] = []

    def listener(status: DeviceStatus) -> None:
        with changed:
            if status.state is DeviceState.ONLINE:
                online_at.append(now())
            changed.notify_all()

    device.add_status_listener(listener)
    device.open()
    times = []
    try:
        for _ in range(rounds):
            device.unplug()
            with changed:
                if not changed.wait_for(lambda: device.status.state is DeviceState.NO_DEVICE, TIMEOUT):
                    raise TimeoutError("the adapter did not notice the unplug")
                seen = len(online_at)
            device.replug()
            plugged = now()
            with changed:
                if not changed.wait_for(lambda seen=seen: len(online_at) > seen, TIMEOUT):  # type: ignore[misc]
                    raise TimeoutError("the adapter did not come back")
                times.append(online_at[seen] - plugged)
    finally:
        device.close()
    return times


def run(rounds: int = 200) -> tuple[list[Row], list[str]]:
    logging.getLogger("devices").setLevel(logging.ERROR)  # every unplug logs two lines
    rows: list[Row] = []
    for label, policy in (("defaults", DEFAULT), ("fast", FAST)):
        for name, make in (("card reader", lambda p=policy: SimulatedCardReader(p)),
                           ("QR scanner", lambda p=policy: SimulatedQrScanner(policy=p))):
            times = replug_times(make(), rounds)
            bench = f"replug→online, {name}, {label}"
            worst = max(times)
            target = f"≤ {ms(TARGET_DEFAULT_S)} ms" if label == "defaults" else ""
            ok = worst <= TARGET_DEFAULT_S if label == "defaults" else None
            rows += [
                Row(bench, f"p50 of {len(times)}", f"{ms(median(times))} ms"),
                Row(bench, "p99", f"{ms(pct(times, 99))} ms"),
                Row(bench, "max", f"{ms(worst)} ms", target, ok),
            ]
    notes = [
        f"defaults: reconnect {DEFAULT.reconnect_initial_s} s doubling to {DEFAULT.reconnect_max_s} s, 50-100 % "
        f"jitter; fast: {FAST.reconnect_initial_s} s to {FAST.reconnect_max_s} s; read timeout "
        f"{DEFAULT.read_timeout_s} s; replugged as soon as the adapter reported NO_DEVICE",
    ]
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="replugs per device and setting")
    args = parser.parse_args()
    rows, notes = run(args.rounds)
    report("Serial devices: replug to online", rows, notes)


if __name__ == "__main__":
    main()
