"""Pydantic models of the heartbeat (docs/api.md "Heartbeat"), so /openapi.json describes it exactly.

Unlike the billing requests, a heartbeat ignores fields it does not know: a newer terminal may report more than
this HQ reads, and a beat must never be lost over that. Every size is bounded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hq.schemas import UtcTime

COMMAND_KINDS = ("out_of_service", "in_service", "print_test_receipt", "reload_config", "send_log")
CommandKind = Literal["out_of_service", "in_service", "print_test_receipt", "reload_config", "send_log"]
MAX_LOG_CHARS = 256 * 1024

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,48}$")]
CounterLabel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
NonNegative = Annotated[float, Field(ge=0, le=1e12)]
Count = Annotated[int, Field(ge=0, le=10**9)]

_BEAT_CONFIG = ConfigDict(extra="ignore")


class DeviceIn(BaseModel):
    """One device as ``devices/base.py`` DeviceStatus describes it."""

    model_config = _BEAT_CONFIG

    kind: Code
    state: Code
    paper: Code | None = None
    card_present: bool | None = None
    last_error: str | None = Field(default=None, max_length=200)
    action: Code = "none"


class HealthIn(BaseModel):
    model_config = _BEAT_CONFIG

    status: Literal["ok", "degraded", "out_of_service"]
    problems: list[Code] = Field(default_factory=list, max_length=32)


class QueueIn(BaseModel):
    """The terminal's payments still being settled with HQ."""

    model_config = _BEAT_CONFIG

    waiting: Count = 0
    needs_attention: Count = 0
    oldest_age_s: NonNegative | None = None


class LastJourneyIn(BaseModel):
    model_config = _BEAT_CONFIG

    ended_at: UtcTime
    duration_s: NonNegative
    result: Code
    entry: Code | None = None


class EntryCountsIn(BaseModel):
    """Journeys begun by one entry method since the last beat: how many, how many paid, seconds they took."""

    model_config = _BEAT_CONFIG

    journeys: Count = 0
    paid: Count = 0
    seconds: NonNegative = 0.0


class CountsIn(BaseModel):
    """What happened since the last beat HQ received (counts carried over missed beats)."""

    model_config = _BEAT_CONFIG

    languages: dict[CounterLabel, Count] = Field(default_factory=dict, max_length=16)
    modes: dict[CounterLabel, Count] = Field(default_factory=dict, max_length=16)
    results: dict[CounterLabel, Count] = Field(default_factory=dict, max_length=16)
    entries: dict[CounterLabel, EntryCountsIn] = Field(default_factory=dict, max_length=16)


class AckIn(BaseModel):
    """The outcome of a command received in an earlier beat's answer."""

    model_config = _BEAT_CONFIG

    id: int = Field(ge=1, le=2**62)
    status: Literal["done", "failed"]
    detail: str = Field(default="", max_length=1000)
    log: str | None = Field(default=None, max_length=MAX_LOG_CHARS)


class HeartbeatIn(BaseModel):
    """Body of POST /api/v1/terminals/{terminal_id}/heartbeat."""

    model_config = _BEAT_CONFIG

    sent_at: UtcTime
    software_version: str = Field(max_length=32)
    uptime_s: NonNegative
    interval_s: float = Field(ge=1, le=3600)
    out_of_service: bool = False
    health: HealthIn
    devices: list[DeviceIn] = Field(default_factory=list, max_length=16)
    queue: QueueIn = Field(default_factory=QueueIn)
    last_journey: LastJourneyIn | None = None
    latency_ms: NonNegative | None = None
    disk_free_bytes: Annotated[int, Field(ge=0, le=2**62)] | None = None
    cut_off_s: NonNegative | None = Field(
        default=None, description="Set on the first beat after an outage: seconds since the last beat HQ took."
    )
    counts: CountsIn = Field(default_factory=CountsIn)
    acks: list[AckIn] = Field(default_factory=list, max_length=32)


class CommandOut(BaseModel):
    """A command for the terminal to carry out and acknowledge in a later beat."""

    id: int
    kind: CommandKind
    issued_at: UtcTime


class HeartbeatOut(BaseModel):
    """HQ's answer: its clock and the commands waiting for this terminal."""

    server_time: UtcTime
    commands: list[CommandOut]
