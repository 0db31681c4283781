"""Crash matrix: kill terminals taking real payments with SIGKILL, N times, and check that nothing is ever lost.

The same rig as `tests/kiosk/test_crash_matrix.py` (`tests/kiosk/crash_child.py`), with more kills: half at
boundaries (every store write and HQ request of a payment's life, before and after, then the Nth one at random),
half at random instants. Prints the kills by kind, the boundaries covered, the transactions created, paid and
settled, the invariant violations (must be 0), the integrity checks passed, and the run time. Exit status 1 if
anything was violated or a boundary was never reached.

    .venv/bin/python benchmarks/crash_matrix.py --kills 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# Only the standard library up here: every child (forked from multiprocessing's fork server) imports this file
# again as its __main__, so the rig is imported inside main().
ROOT = Path(__file__).resolve().parent.parent
RIG = ROOT / "tests" / "kiosk"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=1000, help="kills in all (default 1000)")
    parser.add_argument("--random-share", type=float, default=0.5, help="share of random kills (default 0.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: a temporary folder)")
    options = parser.parse_args(argv)
    for path in (ROOT, RIG):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from crash_child import CrashMatrix

    random_kills = round(options.kills * options.random_share)
    boundary_kills = options.kills - random_kills
    started = time.monotonic()

    def progress(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {line}", flush=True)

    with tempfile.TemporaryDirectory(prefix="kiosk-crash-") as scratch:
        workdir = options.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        with CrashMatrix(workdir, seed=options.seed, progress=progress) as matrix:
            report = matrix.run(boundary_kills, random_kills)
    print(f"crash matrix: {options.kills} kills asked ({boundary_kills} at boundaries, {random_kills} at random), "
          f"seed {options.seed}")
    print(report.summary())
    print("random kills landed after: " + ", ".join(f"{k} {v}" for k, v in report.random_near.most_common(12)))
    return 1 if report.violations or report.uncovered else 0


if __name__ == "__main__":
    sys.exit(main())
