"""The fleet as an operator sees it: each terminal's state derived from its last beat, what needs someone, alerts.

Offline is derived when read (like an order's expiry): a terminal whose last beat is older than three of its
own intervals is offline, with no background job to forget to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hq.clock import as_utc
from hq.db import read_session
from hq.fleet_context import FleetContext
from hq.fleet_models import REVOKED, TerminalBeat, TerminalCounter, TerminalRecord, TerminalStatus

ONLINE = "online"
OFFLINE = "offline"
NEVER_SEEN = "never_seen"
OUT_OF_SERVICE = "out_of_service"
REVOKED_STATE = "revoked"

# Why a terminal needs someone, in the order shown; each alert kind the dashboard raises is one of these.
REASONS = {
    "offline": ("离线", "Offline"),
    "never_seen": ("从未上报", "Never reported"),
    "paper_out": ("缺纸", "Paper out"),
    "paper_low": ("纸将用完", "Paper low"),
    "device_error": ("设备故障", "Device error"),
    "needs_attention": ("支付待处理", "Payments need attention"),
    "out_of_service": ("暂停服务", "Out of service"),
}
ALERT_REASONS = ("offline", "paper_out", "needs_attention", "device_error")
STATE_TEXT = {
    ONLINE: ("在线", "Online"),
    OFFLINE: ("离线", "Offline"),
    NEVER_SEEN: ("从未上报", "Never reported"),
    OUT_OF_SERVICE: ("暂停服务", "Out of service"),
    REVOKED_STATE: ("已吊销", "Revoked"),
}
FILTERS = ("all", "attention", "offline", "paper", "devices", "payments")
_FILTER_REASONS = {
    "attention": None,
    "offline": {"offline", "never_seen"},
    "paper": {"paper_out", "paper_low"},
    "devices": {"device_error"},
    "payments": {"needs_attention"},
}


@dataclass
class TerminalView:
    """One terminal's row on the dashboard."""

    id: str
    name: str
    state: str
    last_beat_at: datetime | None = None
    last_beat_age_s: float | None = None
    version: str = ""
    paper: str | None = None
    devices: list[dict[str, Any]] = field(default_factory=list)
    devices_in_error: int = 0
    queue_waiting: int = 0
    queue_attention: int = 0
    queue_oldest_s: float | None = None
    health: str = ""
    problems: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    disk_free_bytes: int | None = None
    uptime_s: float | None = None
    interval_s: float | None = None
    last_journey_at: datetime | None = None
    last_journey_result: str | None = None
    last_journey_s: float | None = None
    last_cut_off_s: float | None = None
    last_cut_off_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_someone(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class Alert:
    reason: str
    terminal_id: str
    detail: str = ""


def _reasons(view: TerminalView) -> list[str]:
    reasons = []
    if view.state in (OFFLINE, NEVER_SEEN):
        reasons.append(view.state)
    if view.paper in ("out", "low"):
        reasons.append(f"paper_{view.paper}")
    if view.devices_in_error:
        reasons.append("device_error")
    if view.queue_attention:
        reasons.append("needs_attention")
    if view.state == OUT_OF_SERVICE:
        reasons.append("out_of_service")
    return reasons


def terminal_view(
    record: TerminalRecord, status: TerminalStatus | None, fleet: FleetContext, now: datetime
) -> TerminalView:
    """Derive a terminal's state from its registration and last beat."""
    if record.status == REVOKED:
        return TerminalView(record.id, record.name, REVOKED_STATE)
    if status is None:
        view = TerminalView(record.id, record.name, NEVER_SEEN)
        view.reasons = _reasons(view)
        return view
    age = (now - status.last_beat_at).total_seconds()
    interval = status.interval_s or fleet.default_interval_s
    if age > fleet.offline_after_beats * interval:
        state = OFFLINE
    elif status.out_of_service:
        state = OUT_OF_SERVICE
    else:
        state = ONLINE
    report = json.loads(status.report) if status.report else {}
    view = TerminalView(
        id=record.id, name=record.name, state=state, last_beat_at=status.last_beat_at, last_beat_age_s=age,
        version=status.version, paper=status.paper, devices=list(report.get("devices", [])),
        devices_in_error=status.devices_in_error, queue_waiting=status.queue_waiting,
        queue_attention=status.queue_attention, queue_oldest_s=status.queue_oldest_s, health=status.health,
        problems=status.problems.split() if status.problems else [], latency_ms=status.latency_ms,
        disk_free_bytes=status.disk_free_bytes, uptime_s=status.uptime_s, interval_s=status.interval_s,
        last_journey_at=status.last_journey_at, last_journey_result=status.last_journey_result,
        last_journey_s=status.last_journey_s, last_cut_off_s=status.last_cut_off_s,
        last_cut_off_at=status.last_cut_off_at,
    )
    view.reasons = _reasons(view)
    return view


def fleet_views(sessions: sessionmaker[Session], fleet: FleetContext, now: datetime) -> list[TerminalView]:
    """Every registered terminal, by id."""
    now = as_utc(now)
    with read_session(sessions) as session:
        rows = session.execute(
            select(TerminalRecord, TerminalStatus)
            .outerjoin(TerminalStatus, TerminalStatus.terminal_id == TerminalRecord.id)
            .order_by(TerminalRecord.id)
        ).all()
    return [terminal_view(record, status, fleet, now) for record, status in rows]


def select_views(views: list[TerminalView], show: str) -> list[TerminalView]:
    """The views one filter shows: all, attention (anything needs someone), or one kind of trouble."""
    if show not in _FILTER_REASONS:
        return views
    wanted = _FILTER_REASONS[show]
    return [v for v in views if v.reasons and (wanted is None or wanted.intersection(v.reasons))]


def alerts(views: list[TerminalView]) -> list[Alert]:
    """Offline terminals, paper out, payments needing attention and devices in error, most serious first."""
    found = []
    for reason in ALERT_REASONS:
        for view in views:
            if reason in view.reasons:
                found.append(Alert(reason, view.id, _alert_detail(reason, view)))
    return found


def _alert_detail(reason: str, view: TerminalView) -> str:
    if reason == "offline" and view.last_beat_age_s is not None:
        return f"{view.last_beat_age_s / 60:.0f} min"
    if reason == "needs_attention":
        return str(view.queue_attention)
    if reason == "device_error":
        bad = [d.get("kind", "?") for d in view.devices if d.get("state") not in ("online", "busy")]
        return ", ".join(str(k) for k in bad)
    return ""


@dataclass
class TerminalPage:
    view: TerminalView
    history: list[TerminalBeat]
    counters: dict[str, dict[str, float]]


def terminal_page(
    sessions: sessionmaker[Session], fleet: FleetContext, terminal_id: str, now: datetime, history: int = 60
) -> TerminalPage | None:
    """A terminal's state, its latest beats (newest first) and its running totals; None if not registered."""
    with read_session(sessions) as session:
        record = session.get(TerminalRecord, terminal_id)
        if record is None:
            return None
        status = session.get(TerminalStatus, terminal_id)
        beats = list(session.scalars(
            select(TerminalBeat).where(TerminalBeat.terminal_id == terminal_id)
            .order_by(TerminalBeat.received_at.desc(), TerminalBeat.id.desc()).limit(history)
        ))
        counters: dict[str, dict[str, float]] = {}
        for row in session.scalars(select(TerminalCounter).where(TerminalCounter.terminal_id == terminal_id)):
            counters.setdefault(row.name, {})[row.label] = row.value
    return TerminalPage(terminal_view(record, status, fleet, as_utc(now)), beats, counters)


def offline_after(fleet: FleetContext, interval_s: float | None) -> timedelta:
    """How long a terminal with this beat interval may stay silent before it counts as offline."""
    return timedelta(seconds=fleet.offline_after_beats * (interval_s or fleet.default_interval_s))
