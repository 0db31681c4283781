"""``GET /metrics``: the fleet's and the payments' figures in Prometheus' plain text exposition format (0.0.4).

Hand-written rather than prometheus_client: every figure is read from the database at scrape time (so several
HQ processes agree), and HQ's own counters live in the fleet context, shared by its worker processes. Payments
per service come from HQ's orders; journey times by entry method from the totals the terminals report in their
heartbeats.

Payment success ratio = paid ÷ (paid + declined + expired): orders whose payment was attempted and ended. An
order the resident cancelled is not a failed payment; one still open is not counted yet.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import and_, case, func, select

from hq.clock import as_utc
from hq.context import HqContext, request_context
from hq.db import read_session
from hq.errors import HqError
from hq.fleet import fleet_views
from hq.fleet_context import FleetContext, request_fleet
from hq.fleet_models import TerminalCounter
from hq.models import AWAITING_PAYMENT, EXPIRED, Order

router = APIRouter(tags=["fleet"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Exposition:
    """Collects metric families and renders them, each with its HELP and TYPE once."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def summary(self, name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float, float]]) -> None:
        """A summary without quantiles: its ``_sum`` and ``_count`` per label set."""
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} summary")
        for labels, total, count in samples:
            self._lines.append(f"{name}_sum{_labels(labels)} {_number(total)}")
            self._lines.append(f"{name}_count{_labels(labels)} {_number(count)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), "")}"'
        for k, v in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@router.get("/metrics", response_class=PlainTextResponse, responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(
    request: Request,
    ctx: Annotated[HqContext, Depends(request_context)],
    fleet: Annotated[FleetContext, Depends(request_fleet)],
) -> PlainTextResponse:
    """The fleet's and the payments' figures for Prometheus (a bearer token when HQ was given one)."""
    if fleet.metrics_token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {fleet.metrics_token}".encode()):
            raise HqError(401, "metrics_token_required", "Send Authorization: Bearer <metrics token>.")
    out = _Exposition()
    _fleet_figures(out, ctx, fleet)
    _payment_figures(out, ctx)
    _journey_figures(out, ctx)
    _hq_figures(out, fleet, as_utc(ctx.clock()).timestamp())
    return PlainTextResponse(out.text(), media_type=CONTENT_TYPE)


def _fleet_figures(out: _Exposition, ctx: HqContext, fleet: FleetContext) -> None:
    views = fleet_views(ctx.sessions, fleet, as_utc(ctx.clock()))
    by_state: dict[str, int] = defaultdict(int)
    by_reason: dict[str, int] = defaultdict(int)
    for view in views:
        by_state[view.state] += 1
        for reason in view.reasons:
            by_reason[reason] += 1
    states = ("online", "offline", "out_of_service", "never_seen", "revoked")
    out.family("kiosk_terminals", "gauge", "Registered terminals by state.",
               (({"state": s}, by_state.get(s, 0)) for s in states))
    reasons = ("offline", "never_seen", "paper_out", "paper_low", "device_error", "needs_attention", "out_of_service")
    out.family("kiosk_terminals_needing_someone", "gauge", "Terminals needing someone, by reason.",
               (({"reason": r}, by_reason.get(r, 0)) for r in reasons))
    seen = [v for v in views if v.last_beat_at is not None]
    out.family("kiosk_terminal_up", "gauge", "1 if the terminal's last beat is recent (not offline).",
               (({"terminal": v.id}, 0 if v.state in ("offline", "revoked") else 1) for v in seen))
    out.family("kiosk_terminal_last_beat_age_seconds", "gauge", "Seconds since the terminal's last beat.",
               (({"terminal": v.id}, round(v.last_beat_age_s or 0, 3)) for v in seen))
    out.family("kiosk_terminal_queue_waiting", "gauge", "Payments the terminal is still settling with HQ.",
               (({"terminal": v.id}, v.queue_waiting) for v in seen))
    out.family("kiosk_terminal_queue_needs_attention", "gauge", "Payments at the terminal that need staff.",
               (({"terminal": v.id}, v.queue_attention) for v in seen))
    out.family("kiosk_terminal_devices_in_error", "gauge", "Devices of the terminal not online.",
               (({"terminal": v.id}, v.devices_in_error) for v in seen))
    out.family("kiosk_terminal_hq_latency_seconds", "gauge", "Round trip of the terminal's previous beat.",
               (({"terminal": v.id}, v.latency_ms / 1000) for v in seen if v.latency_ms is not None))


def _payment_figures(out: _Exposition, ctx: HqContext) -> None:
    now = as_utc(ctx.clock())
    status = case(
        (and_(Order.status == AWAITING_PAYMENT, Order.expires_at <= now), EXPIRED), else_=Order.status
    )
    with read_session(ctx.sessions) as session:
        rows = session.execute(select(Order.service, status, func.count()).group_by(Order.service, status)).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for service, order_status, count in rows:
        counts[service][order_status] = count
    out.family("kiosk_payments_total", "counter", "Orders created at HQ, by service and current status.",
               (({"service": svc, "status": st}, n) for svc, table in sorted(counts.items())
                for st, n in sorted(table.items())))
    ratios = []
    for service, table in sorted(counts.items()):
        ended = table.get("paid", 0) + table.get("declined", 0) + table.get("expired", 0)
        if ended:
            ratios.append(({"service": service}, round(table.get("paid", 0) / ended, 6)))
    out.family("kiosk_payment_success_ratio", "gauge",
               "Paid / (paid + declined + expired) orders, by service.", ratios)


def _journey_figures(out: _Exposition, ctx: HqContext) -> None:
    with read_session(ctx.sessions) as session:
        rows = session.execute(
            select(TerminalCounter.name, TerminalCounter.label, func.sum(TerminalCounter.value))
            .group_by(TerminalCounter.name, TerminalCounter.label)
        ).all()
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for name, label, value in rows:
        totals[name][label] = float(value or 0)
    journeys, seconds = totals.get("entry_journeys", {}), totals.get("entry_seconds", {})
    out.summary(
        "kiosk_journey_duration_seconds",
        "Journeys from identifying the house to the result, by entry method (terminals' reports).",
        (({"entry": e}, round(seconds.get(e, 0), 3), n) for e, n in sorted(journeys.items())),
    )
    out.family("kiosk_journey_average_seconds", "gauge", "Average journey time by entry method.",
               (({"entry": e}, round(seconds.get(e, 0) / n, 3)) for e, n in sorted(journeys.items()) if n))
    out.family("kiosk_journeys_paid_total", "counter", "Journeys that ended paid, by entry method.",
               (({"entry": e}, n) for e, n in sorted(totals.get("entry_paid", {}).items())))
    for name, label, help_text in (
        ("language", "language", "Journeys by the language they ran in."),
        ("mode", "mode", "Journeys by display mode (standard, elderly)."),
        ("result", "result", "Journeys by how they ended."),
    ):
        out.family(f"kiosk_journeys_by_{label}_total", "counter", help_text,
                   (({label: k}, n) for k, n in sorted(totals.get(name, {}).items())))


def _hq_figures(out: _Exposition, fleet: FleetContext, now: float) -> None:
    """HQ's own counters since it started, summed over its worker processes."""
    counters = fleet.counters.snapshot()
    out.family("kiosk_hq_heartbeats_received_total", "counter", "Heartbeats HQ accepted.",
               [({}, counters.get("heartbeats", 0))])
    refusals = sorted((k.split(":", 1)[1], n) for k, n in counters.items() if k.startswith("refused:"))
    out.family("kiosk_hq_refusals_total", "counter", "Terminal requests HQ refused, by code.",
               (({"code": code}, n) for code, n in refusals))
    out.family("kiosk_hq_nonces_remembered", "gauge", "Nonces held against replay.",
               [({}, fleet.nonces.remembered(now))])
    out.family("kiosk_hq_nonce_slots", "gauge", "Slots of the nonce table (requests are refused with 503 "
               "nonce_table_full when the nonces of the last 10 minutes crowd it).", [({}, fleet.nonces.slots)])
