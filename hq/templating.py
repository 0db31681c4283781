"""Jinja2 templates for the HTML pages, with the filters they use (yuan, China time, meter use)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from hq.clock import CHINA_TZ

TEMPLATE_DIR = Path(__file__).with_name("templates")

METER_USES = {
    "lighting": ("照明", "Lighting"),
    "air_conditioning": ("空调", "Air conditioning"),
    "public": ("公共", "Public"),
}


def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals, without going through floats: 10050 -> ``100.50``."""
    if fen is None:
        return "-"
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def china_time(value: datetime | None) -> str:
    """A time in China Standard Time, e.g. ``2026-11-22 11:00:00 (UTC+8)``."""
    if value is None:
        return "-"
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def meter_use_zh(use: str) -> str:
    """Chinese name of a meter use (the raw value for an unknown one)."""
    return METER_USES.get(use, (use, use))[0]


def meter_use_en(use: str) -> str:
    """English name of a meter use."""
    return METER_USES.get(use, (use, use))[1]


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters.update(yuan=yuan, china_time=china_time, use_zh=meter_use_zh, use_en=meter_use_en)
