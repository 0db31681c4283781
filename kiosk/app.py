"""Wiring: builds one terminal's parts from its configuration and connects them.

The UI calls `Terminal.build` with its `dispatch` and `Timers`, then `start()`. Device events arrive on device
threads and are handed to the journey on the GUI thread through `dispatch`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import platformdirs

from devices.base import CardReader, Device, DeviceState, DeviceStatus, QrScanner, ReceiptPrinter
from devices.coordinator import ConnectionPolicy
from devices.factory import make_card_reader, make_printer, make_qr_scanner, make_speaker
from devices.speaker import Speaker
from kiosk import log_ring
from kiosk.config import Config
from kiosk.connectivity import ConnectivityMonitor
from kiosk.fleet_link import FleetLink
from kiosk.hq_client import HqClient
from kiosk.i18n import Translator, use
from kiosk.journey import Journey
from kiosk.keyboard_routing import KeyboardRouter
from kiosk.maintenance import LANE as STAFF_LANE
from kiosk.maintenance import MaintenanceMenu
from kiosk.outbox_worker import OutboxWorker, RetryPolicy
from kiosk.recovery import recover
from kiosk.retention import LANE as ARCHIVE_LANE
from kiosk.retention import RetentionKeeper
from kiosk.runtime_settings import OUT_OF_SERVICE_KEY, SETTINGS_KEY, apply_overrides
from kiosk.signing import TrustStatus, signer_for
from kiosk.staff import Action, StaffService
from kiosk.tasks import Dispatch, Runner, Timers
from kiosk.voice import VoiceGuide
from offline_queue.archive import TransactionArchive
from offline_queue.staff_store import AuditNote, StaffStore
from offline_queue.store import TransactionStore

log = logging.getLogger(__name__)
APP_NAME = "community-kiosk"


def database_path(config: Config) -> Path:
    """The configured transaction database, or the platform's data directory."""
    if config.storage.database:
        return Path(config.storage.database)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "transactions.db"


@dataclass
class Devices:
    card_reader: CardReader
    qr_scanner: QrScanner
    printer: ReceiptPrinter
    speaker: Speaker | None = None  # None: configured without voice (`none:`), so no device to report on

    @classmethod
    def from_config(cls, config: Config) -> Devices:
        settings = config.devices
        policy = ConnectionPolicy(
            reconnect_initial_s=settings.reconnect_initial_s, reconnect_max_s=settings.reconnect_max_s,
            health_interval_s=settings.health_interval_s, response_timeout_s=settings.response_timeout_s,
        )
        return cls(
            card_reader=make_card_reader(settings.card_reader, policy),
            qr_scanner=make_qr_scanner(settings.qr_scanner, policy),
            printer=make_printer(config.devices.printer),
            speaker=make_speaker(settings.speaker),
        )

    def all(self) -> tuple[Device, ...]:
        devices: tuple[Device, ...] = (self.card_reader, self.qr_scanner, self.printer)
        return devices if self.speaker is None else (*devices, self.speaker)


class Terminal:
    """One terminal's core: store, HQ client, devices, journey and connectivity, wired together."""

    def __init__(
        self,
        config: Config,
        dispatch: Dispatch,
        timers: Timers,
        devices: Devices | None = None,
        translator: Translator | None = None,
        config_path: str | Path | None = None,
    ) -> None:
        self.log_lines = log_ring.install()  # from here on no log line holds a whole card id, phone or code
        self.dispatch = dispatch
        self.timers = timers
        path = database_path(config)
        self.store = TransactionStore.open(path)
        self.export_dir = path.parent / "exports"
        # Settings changed in the maintenance menu lie over the file's; the terminal may be out of service.
        self.staff_store = StaffStore.open(path)
        self.file_config = config
        overrides = self.staff_store.overrides()
        config, self.overridden, problems = apply_overrides(config, overrides.get(SETTINGS_KEY, {}))
        for problem in problems:
            log.warning(problem)
        self.config = config
        maintenance = config.maintenance
        self.staff = StaffService(
            self.staff_store, max_failures=maintenance.pin_max_failures,
            lock_for=timedelta(seconds=maintenance.pin_lock_s),
        )
        self.devices = devices or Devices.from_config(config)
        # Keyboard-wedge devices type into the UI's key stream: the UI hands their bursts to this (None: none).
        self.keyboard = KeyboardRouter.for_devices(self.devices.card_reader, self.devices.qr_scanner)
        self.translator = translator or Translator(config.ui.language, config.terminal.timezone)
        if self.translator.language != config.ui.language:
            self.translator.set_language(config.ui.language)  # changed in the menu since the file was written
        use(self.translator)
        receipt_translator = self.receipt_translator = Translator(config.receipt.language, config.terminal.timezone)
        hq = config.hq
        # Every client signs its requests with the terminal's secret and verifies HQ's certificate if https.
        self.trust = TrustStatus()
        signer = signer_for(config.terminal.id, config.terminal.secret_file, self.trust)

        def new_client() -> HqClient:
            return HqClient(hq.url, hq.connect_timeout_s, hq.read_timeout_s, signer=signer, ca_bundle=hq.ca_bundle,
                            trust=self.trust)

        self.hq = new_client()
        self._health_client = new_client()
        # The payment status long poll waits at HQ for up to payment.long_poll_s: each on a thread and a client of
        # its own (the detached "watch" lane: a stop does not wait for it), so no other HQ call queues behind it.
        self.runner = Runner(dispatch, lanes=("hq", "printer", "health", ARCHIVE_LANE, STAFF_LANE), detached=("watch",))
        queue = config.queue
        # The worker has its own client: a requests session is not shared between threads.
        self._worker_client = new_client()
        self.worker = OutboxWorker(
            self.store,
            self._worker_client,
            policy=RetryPolicy(queue.max_attempts, queue.backoff_base_s, queue.backoff_cap_s),
            on_status=lambda status: dispatch(lambda: self.journey.set_queue(status)),
        )
        self.journey = Journey(
            config=config,
            hq=self.hq,
            store=self.store,
            printer=self.devices.printer,
            runner=self.runner,
            worker=self.worker,
            timers=timers,
            translator=self.translator,
            receipt_translator=receipt_translator,
            watch_client=new_client,
        )
        # Voice prompts, spoken on the speaker's own thread (kiosk/voice.py); the UI adds the repeat button.
        self.voice = VoiceGuide(self.devices.speaker, self.journey, config, timers, dispatch)
        if OUT_OF_SERVICE_KEY in overrides:
            self.journey.set_out_of_service(True)  # staff or HQ left it so before the restart
        self.maintenance = MaintenanceMenu(self)
        self.journey.set_interceptor(self.maintenance.intercept)
        self.retention = RetentionKeeper(
            TransactionArchive(self.store), self.runner, timers, config.queue.retention_days
        )
        self.connectivity = ConnectivityMonitor(
            self._health_client, self.runner, timers, hq.health_interval_s, self._reachability,
            offline_interval_s=hq.offline_probe_s,
        )
        # The heartbeat and HQ's remote commands, on their own thread with their own client.
        self.fleet_link = FleetLink(self, new_client(), config_path, signed=signer is not None)
        self._hook_fleet_link()

    def _hook_fleet_link(self) -> None:
        """HQ's out-of-service command is kept and audited like staff's; a configuration reload keeps the
        settings changed at the terminal."""
        self.fleet_link.set_out_of_service = lambda on: self.set_out_of_service(on, "remote command", by="hq")
        load_file = self.fleet_link.load_config

        def load_with_overrides() -> Config:
            self.file_config = load_file()
            return apply_overrides(self.file_config, self.overridden)[0]

        self.fleet_link.load_config = load_with_overrides

    # ---- what staff (the maintenance menu) and HQ may change ---------------------------------------------

    @property
    def out_of_service(self) -> bool:
        return self.journey.out_of_service

    def set_out_of_service(
        self, on: bool, reason: str = "", *, by: str = "hq", on_done: Callable[[], None] | None = None
    ) -> None:
        """Take the terminal out of service (residents see a screen saying so and where else to pay) or put it
        back. Safe from any thread. Kept in the database (a restart keeps it) and written to the audit log as
        done by `by` (a staff id, or "hq"); `on_done` runs on the GUI thread once it is kept."""
        store = self.staff_store
        action = Action.OUT_OF_SERVICE if on else Action.BACK_IN_SERVICE
        note = AuditNote(by, action, {"reason": reason} if reason else None)

        def work() -> None:
            if on:
                store.set_override(OUT_OF_SERVICE_KEY, {"reason": reason, "by": by}, by, audit=note)
            else:
                store.clear_override(OUT_OF_SERVICE_KEY, audit=note)

        def done(_result: object) -> None:
            if on_done is not None:
                on_done()

        def failed(exc: Exception) -> None:
            log.error("out-of-service %s not kept in the database: %s", on, exc)
            done(None)

        self.dispatch(lambda: self.journey.set_out_of_service(on))  # at once; the database follows
        self.runner.submit(STAFF_LANE, work, done, failed)

    def apply_settings(self, config: Config, overridden: dict[str, object]) -> None:
        """Use settings changed at the terminal from now on (GUI thread)."""
        language_changed = config.ui.language != self.config.ui.language
        self.config, self.overridden = config, dict(overridden)
        self.journey.apply_config(config)
        self.voice.apply_config(config)
        if language_changed and self.journey.at_rest:
            self.journey.set_language(config.ui.language)

    def check_hq(self) -> None:
        """Ask HQ's health endpoint now (blocking: the health lane). Raises what the HQ client raises."""
        self._health_client.health()

    def _reachability(self, online: bool) -> None:
        self.worker.set_online(online)
        self.journey.set_online(online)

    def start(self) -> None:
        """Recover interrupted transactions, open the devices, show the idle screen and start watching HQ."""
        recover(self.store)  # before the idle screen: one short local transaction per interrupted payment
        journey, dispatch = self.journey, self.dispatch
        self.devices.card_reader.set_listeners(lambda card_id: dispatch(lambda: journey.card_inserted(card_id)))
        self.devices.qr_scanner.set_listener(
            lambda payload: dispatch(lambda: journey.qr_scanned(payload)),
            lambda reason: dispatch(lambda: journey.qr_unreadable(reason)),
        )
        self._forward_readiness(self.devices.card_reader)
        self._forward_readiness(self.devices.qr_scanner)
        for device in self.devices.all():
            try:
                device.open()
            except Exception:  # a broken device must not stop the terminal; its status says what is wrong
                log.exception("could not open %s", device.kind)
        journey.start()
        self.worker.start()
        self.connectivity.start()
        self.retention.start()  # finished transactions past the retention period move to the archive
        self.fleet_link.start()

    def _forward_readiness(self, device: Device) -> None:
        """The idle screen offers a way to start only while its device is online (status comes on device
        threads, so it goes through `dispatch`)."""
        journey, dispatch, kind = self.journey, self.dispatch, device.kind

        def changed(status: DeviceStatus) -> None:
            ready = status.state is DeviceState.ONLINE
            dispatch(lambda: journey.set_device_ready(kind, ready))

        device.add_status_listener(changed)

    def stop(self) -> None:
        self.fleet_link.stop()
        self.retention.stop()
        self.connectivity.stop()
        self.worker.stop()
        self.runner.shutdown(wait=True)
        for device in self.devices.all():
            device.close()
        self.hq.close()
        self._health_client.close()
        self._worker_client.close()
        self.staff_store.close()
        self.store.close()
