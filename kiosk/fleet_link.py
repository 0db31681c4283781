"""The terminal's link to HQ's fleet view: the heartbeat worker, what it reports, and the remote commands.

`FleetLink` is built by `kiosk.app.Terminal`. The command handlers act through the terminal's own seams: the
journey on the GUI thread (through `dispatch`), the printer on its lane, the log ring for the recent log.
Two hooks are meant to be pointed elsewhere by whoever owns the behaviour: `set_out_of_service` (by default the
journey's flag; the maintenance menu may persist it) and `load_config` (by default the configuration file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from devices.base import PrinterError
from kiosk import __version__, log_ring
from kiosk.clock import utc_now
from kiosk.config import Config, ConfigError, load_config
from kiosk.heartbeat import HeartbeatWorker
from kiosk.hq_client import HqClient
from kiosk.i18n import Translator
from kiosk.maintenance_work import test_receipt
from kiosk.remote_commands import Done, RemoteCommands
from kiosk.terminal_report import ReportSources, build_report

if TYPE_CHECKING:
    from kiosk.app import Terminal

log = logging.getLogger(__name__)

MAX_LOG_CHARS = 256 * 1024
# Settings read only when the terminal starts: a reload that changes them says a restart is needed.
RESTART_SECTIONS = ("terminal", "hq", "devices", "storage", "receipt", "queue", "speech")
RESTART_KEYS = ("ui.orientation", "ui.fullscreen", "ui.panel_diagonal_in", "ui.viewing_distance_mm",
                "heartbeat.enabled")


def changed_settings(old: Config, new: Config) -> list[str]:
    """``section.name`` of every setting whose value differs."""
    changed = []
    for section in fields(Config):
        before, after = getattr(old, section.name), getattr(new, section.name)
        for setting in fields(before):
            if getattr(before, setting.name) != getattr(after, setting.name):
                changed.append(f"{section.name}.{setting.name}")
    return changed


class FleetLink:
    """Heartbeat and remote commands of one terminal."""

    def __init__(
        self, terminal: Terminal, client: HqClient, config_path: str | Path | None, *, signed: bool
    ) -> None:
        self._terminal = terminal
        self._client = client
        self._config_path = config_path
        self._signed = signed
        config = terminal.config
        self.set_out_of_service: Callable[[bool], None] = self._journey_out_of_service
        self.load_config: Callable[[], Config] = self._load_file
        self.commands = RemoteCommands({
            "out_of_service": lambda done: self._service(True, done),
            "in_service": lambda done: self._service(False, done),
            "print_test_receipt": self._print_test,
            "reload_config": self._reload,
            "send_log": self._send_log,
        }, on_finished=lambda: self.worker.beat_now())
        sources = ReportSources(
            version=__version__,
            devices=terminal.devices.all,
            store=terminal.store,
            out_of_service=lambda: terminal.journey.out_of_service,
            disk_path=terminal.store.path,
            extra_problems=self._problems,
        )
        self.worker = HeartbeatWorker(
            client, config.terminal.id, config.heartbeat.interval_s, lambda: build_report(sources), self.commands,
            terminal.journey.usage,
        )
        log_ring.install()  # the recent log that send_log sends (idempotent)

    def start(self) -> None:
        if not self._terminal.config.heartbeat.enabled:
            return
        if not self._signed:
            # HQ takes a heartbeat only signed by a registered terminal: without a secret there is no point.
            log.warning("heartbeat off: this terminal has no usable secret (terminal.secret_file)")
            return
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        self._client.close()

    def _problems(self) -> list[str]:
        problems = []
        if self._terminal.trust.secret_problem:
            problems.append("secret_unreadable")
        if not self._terminal.journey.online:
            problems.append("hq_unreachable")
        return problems

    # ---- handlers (called on the heartbeat's thread; they finish on whichever thread does the work) ------

    def _journey_out_of_service(self, on: bool) -> None:
        self._terminal.journey.set_out_of_service(on)

    def _service(self, on: bool, done: Done) -> None:
        def apply() -> None:
            self.set_out_of_service(on)
            # Queued behind whatever the hook queued on the GUI thread, so the beat that carries the outcome
            # (sent at once) already shows the new state.
            self._terminal.dispatch(lambda: done("done", "out of service" if on else "in service", None))

        self._terminal.dispatch(apply)

    def _print_test(self, done: Done) -> None:
        terminal = self._terminal
        config = terminal.config
        translator = Translator(config.receipt.language, config.terminal.timezone)
        receipt = test_receipt(translator, config.terminal.id, utc_now())

        def work() -> None:
            try:
                terminal.devices.printer.print_receipt(receipt)
            except PrinterError as exc:
                done("failed", f"printer: {exc.reason}", None)
                return
            done("done", "test receipt printed", None)

        terminal.runner.submit("printer", work, lambda _: None, lambda exc: done("failed", str(exc), None))

    def _load_file(self) -> Config:
        if self._config_path is None:
            raise ConfigError("the terminal was started without a configuration file")
        return load_config(self._config_path)

    def _reload(self, done: Done) -> None:
        try:
            new = self.load_config()
        except ConfigError as exc:
            done("failed", f"configuration not reloaded: {exc}", None)
            return
        terminal = self._terminal
        changed = changed_settings(terminal.config, new)
        restart = [k for k in changed if k.split(".")[0] in RESTART_SECTIONS or k in RESTART_KEYS]
        live = [k for k in changed if k not in restart]

        def apply() -> None:
            terminal.config = new
            terminal.journey.apply_config(new)
            self.worker.set_interval(new.heartbeat.interval_s)
            detail = f"applied: {', '.join(live) or 'nothing changed'}"
            if restart:
                detail += f"; restart needed for: {', '.join(restart)}"
            done("done", detail, None)

        terminal.dispatch(apply)

    def _send_log(self, done: Done) -> None:
        lines = log_ring.install().lines()
        text = "\n".join(lines)[-MAX_LOG_CHARS:]
        done("done", f"{len(lines)} log lines sent", text)

