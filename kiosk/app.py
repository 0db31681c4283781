"""Wiring: builds one terminal's parts from its configuration and connects them.

The UI calls `Terminal.build` with its `dispatch` and `Timers`, then `start()`. Device events arrive on device
threads and are handed to the journey on the GUI thread through `dispatch`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from devices.base import CardReader, QrScanner, ReceiptPrinter
from devices.factory import make_card_reader, make_printer, make_qr_scanner
from kiosk.config import Config
from kiosk.connectivity import ConnectivityMonitor
from kiosk.hq_client import HqClient
from kiosk.i18n import Translator, use
from kiosk.journey import Journey
from kiosk.outbox_worker import OutboxWorker, RetryPolicy
from kiosk.recovery import recover
from kiosk.tasks import Dispatch, Runner, Timers
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

    @classmethod
    def from_config(cls, config: Config) -> Devices:
        return cls(
            card_reader=make_card_reader(config.devices.card_reader),
            qr_scanner=make_qr_scanner(config.devices.qr_scanner),
            printer=make_printer(config.devices.printer),
        )

    def all(self) -> tuple[CardReader, QrScanner, ReceiptPrinter]:
        return (self.card_reader, self.qr_scanner, self.printer)


class Terminal:
    """One terminal's core: store, HQ client, devices, journey and connectivity, wired together."""

    def __init__(
        self,
        config: Config,
        dispatch: Dispatch,
        timers: Timers,
        devices: Devices | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.config = config
        self.dispatch = dispatch
        self.store = TransactionStore.open(database_path(config))
        self.devices = devices or Devices.from_config(config)
        self.translator = translator or Translator(config.ui.language, config.terminal.timezone)
        use(self.translator)
        receipt_translator = Translator(config.receipt.language, config.terminal.timezone)
        hq = config.hq
        self.hq = HqClient(hq.url, hq.connect_timeout_s, hq.read_timeout_s)
        self._health_client = HqClient(hq.url, hq.connect_timeout_s, hq.read_timeout_s)
        self.runner = Runner(dispatch, lanes=("hq", "printer", "health"))
        queue = config.queue
        # The worker has its own client: a requests session is not shared between threads.
        self._worker_client = HqClient(hq.url, hq.connect_timeout_s, hq.read_timeout_s)
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
        )
        self.connectivity = ConnectivityMonitor(
            self._health_client, self.runner, timers, hq.health_interval_s, self._reachability,
            offline_interval_s=hq.offline_probe_s,
        )

    def _reachability(self, online: bool) -> None:
        self.worker.set_online(online)
        self.journey.set_online(online)

    def start(self) -> None:
        """Recover interrupted transactions, open the devices, show the idle screen and start watching HQ."""
        recover(self.store)  # before the idle screen: one short local transaction per interrupted payment
        journey, dispatch = self.journey, self.dispatch
        self.devices.card_reader.set_listeners(lambda card_id: dispatch(lambda: journey.card_inserted(card_id)))
        self.devices.qr_scanner.set_listener(lambda payload: dispatch(lambda: journey.qr_scanned(payload)))
        for device in self.devices.all():
            try:
                device.open()
            except Exception:  # a broken device must not stop the terminal; its status says what is wrong
                log.exception("could not open %s", device.kind)
        journey.start()
        self.worker.start()
        self.connectivity.start()

    def stop(self) -> None:
        self.connectivity.stop()
        self.worker.stop()
        self.runner.shutdown(wait=True)
        for device in self.devices.all():
            device.close()
        self.hq.close()
        self._health_client.close()
        self._worker_client.close()
        self.store.close()
