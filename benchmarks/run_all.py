"""`make bench`: every benchmark in one run, figures side by side in one table with targets and PASS/MISS.

Start-up runs first, while this process has not loaded Qt yet; the in-process benchmarks then share one
offscreen QApplication, each with its own HQ, terminal and window; the queue, printing and replug benchmarks need
no Qt. `crash_matrix.py` (a thousand kills take about six minutes) and `fleet_bench.py` (two to four minutes,
optionally on PostgreSQL) are not in here: run them alone.
"""

from __future__ import annotations

import elderly_journey
import journey_overhead
import print_latency
import queue_bench
import reconnect_bench
import startup
import tap_latency
from bench_common import Row, machine, now, table


def main() -> None:
    print(machine(), flush=True)
    began = now()
    rows: list[Row] = []
    notes: list[str] = []
    for label, bench in (("cold start", startup.run), ("tap latency", tap_latency.run),
                         ("whole journeys", journey_overhead.run), ("transaction store and outbox", queue_bench.run),
                         ("receipt printing", print_latency.run), ("serial device replug", reconnect_bench.run),
                         ("elderly mode by ear", elderly_journey.run)):
        print(f"running {label}…", flush=True)
        more_rows, more_notes = bench()
        rows += more_rows
        notes += more_notes
    print()
    print(table(rows))
    for note in notes:
        print(f"  * {note}")
    print(f"\n(all benchmarks took {now() - began:.0f} s)")


if __name__ == "__main__":
    main()
