"""Remote commands from HQ: received in a heartbeat's answer, carried out once, acknowledged in a later beat.

HQ hands a command out again until a beat acknowledges it, so each id is carried out once and its outcome
repeated as often as HQ asks. A handler finishes by calling ``done(status, detail, attachment)`` from whatever
thread it finished on; the outcome waits in `pending_acks` until a beat that carried it is answered.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

KINDS = ("out_of_service", "in_service", "print_test_receipt", "reload_config", "send_log")
REMEMBERED = 200  # outcomes kept to answer a command handed out again
MAX_DETAIL = 1000

Done = Callable[[str, str, "str | None"], None]
Handler = Callable[[Done], None]


@dataclass(frozen=True)
class Outcome:
    id: int
    kind: str
    status: str  # done or failed
    detail: str
    attachment: str | None = None

    def ack(self) -> dict[str, Any]:
        """The acknowledgement in a heartbeat (docs/api.md)."""
        body: dict[str, Any] = {"id": self.id, "status": self.status, "detail": self.detail[:MAX_DETAIL]}
        if self.attachment is not None:
            body["log"] = self.attachment
        return body


class RemoteCommands:
    """Carries out HQ's commands through one handler per kind; thread-safe."""

    def __init__(self, handlers: Mapping[str, Handler], on_finished: Callable[[], None] = lambda: None) -> None:
        """``on_finished`` is called after each outcome (the heartbeat then beats at once to report it)."""
        self._handlers = dict(handlers)
        self._on_finished = on_finished
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._outcomes: OrderedDict[int, Outcome] = OrderedDict()
        self._unacked: dict[int, Outcome] = {}

    def received(self, commands: list[Any]) -> None:
        """Commands from a heartbeat's answer; malformed entries are skipped with a warning."""
        for command in commands:
            if not isinstance(command, dict) or not isinstance(command.get("id"), int):
                log.warning("malformed command from HQ ignored: %r", command)
                continue
            command_id, kind = command["id"], str(command.get("kind", ""))
            with self._lock:
                if command_id in self._running:
                    continue
                known = self._outcomes.get(command_id)
                if known is not None:
                    self._unacked[command_id] = known  # HQ missed the acknowledgement: say it again
                    continue
                self._running.add(command_id)
            self._start(command_id, kind)

    def _start(self, command_id: int, kind: str) -> None:
        handler = self._handlers.get(kind)
        if handler is None:
            self._finish(command_id, kind, "failed", f"this terminal does not know the command {kind!r}", None)
            return
        log.info("HQ command %s: %s", command_id, kind)
        finished = threading.Event()

        def done(status: str, detail: str, attachment: str | None = None) -> None:
            if not finished.is_set():
                finished.set()
                self._finish(command_id, kind, status, detail, attachment)

        try:
            handler(done)
        except Exception as exc:  # a broken handler fails its command, never the heartbeat
            log.exception("HQ command %s (%s) failed", command_id, kind)
            done("failed", f"{type(exc).__name__}: {exc}")

    def _finish(self, command_id: int, kind: str, status: str, detail: str, attachment: str | None) -> None:
        outcome = Outcome(command_id, kind, "done" if status == "done" else "failed", detail, attachment)
        (log.info if outcome.status == "done" else log.warning)("HQ command %s (%s) %s: %s", command_id, kind,
                                                               outcome.status, detail)
        with self._lock:
            self._running.discard(command_id)
            self._outcomes[command_id] = outcome
            while len(self._outcomes) > REMEMBERED:
                self._outcomes.popitem(last=False)
            self._unacked[command_id] = outcome
        self._on_finished()

    def pending_acks(self) -> list[Outcome]:
        """Outcomes HQ has not yet been told of, oldest first."""
        with self._lock:
            return sorted(self._unacked.values(), key=lambda o: o.id)

    def acknowledged(self, outcomes: list[Outcome]) -> None:
        """A beat carrying these outcomes was answered: HQ has them."""
        with self._lock:
            for outcome in outcomes:
                if self._unacked.get(outcome.id) is outcome:
                    del self._unacked[outcome.id]

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)
