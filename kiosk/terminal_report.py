"""What a heartbeat says about the terminal: devices, queue, disk, last journey and health (docs/api.md).

Read on the heartbeat's thread: device status snapshots, the transaction store (its own connections) and the
usage counter are all safe to read from there.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from devices.base import Device, DeviceState, DeviceStatus, PaperState
from kiosk.clock import utc_now
from offline_queue.states import TxState
from offline_queue.store import TransactionStore

DISK_LOW_BYTES = 200 * 1024 * 1024
_WORKING = (DeviceState.ONLINE, DeviceState.BUSY)


@dataclass
class ReportSources:
    """Where each part of the report comes from."""

    version: str
    devices: Callable[[], Iterable[Device]]
    store: TransactionStore
    out_of_service: Callable[[], bool]
    disk_path: Path
    extra_problems: Callable[[], list[str]] = list
    clock: Callable[[], datetime] = utc_now


def device_report(kind: str, status: DeviceStatus) -> dict[str, Any]:
    return {
        "kind": kind,
        "state": status.state.value,
        "paper": status.paper.value if status.paper is not None else None,
        "card_present": status.card_present,
        "last_error": (status.last_error or None) and status.last_error[:200],
        "action": status.action.value,
    }


def queue_report(store: TransactionStore, now: datetime) -> dict[str, Any]:
    """Payments still being settled: waiting, needing staff, and the age of the oldest of them."""
    open_ = store.in_flight()
    attention = sum(1 for tx in open_ if tx.state is TxState.NEEDS_ATTENTION)
    oldest = min((tx.created_at for tx in open_), default=None)
    return {
        "waiting": len(open_) - attention,
        "needs_attention": attention,
        "oldest_age_s": round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else None,
    }


def free_disk(path: Path) -> int | None:
    """Free bytes on the disk holding ``path`` (its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def build_report(sources: ReportSources) -> dict[str, Any]:
    """The state part of a heartbeat; the worker adds timing, counts and acknowledgements."""
    now = sources.clock()
    snapshots = [(d.kind, d.status) for d in sources.devices()]  # one read each: the report agrees with itself
    queue = queue_report(sources.store, now)
    disk = free_disk(sources.disk_path)
    out_of_service = sources.out_of_service()
    problems: list[str] = []
    for kind, status in snapshots:
        if status.state not in _WORKING:
            problems.append(f"{kind}_{status.state.value}")
        if status.paper in (PaperState.OUT, PaperState.LOW):
            problems.append(f"paper_{status.paper.value}")
    if queue["needs_attention"]:
        problems.append("payments_need_attention")
    if disk is not None and disk < DISK_LOW_BYTES:
        problems.append("disk_low")
    problems += sources.extra_problems()
    health = "out_of_service" if out_of_service else "degraded" if problems else "ok"
    return {
        "sent_at": now.isoformat(timespec="seconds"),
        "software_version": sources.version,
        "out_of_service": out_of_service,
        "health": {"status": health, "problems": problems[:32]},
        "devices": [device_report(kind, status) for kind, status in snapshots],
        "queue": queue,
        "disk_free_bytes": disk,
    }
