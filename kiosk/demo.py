"""The demo: HQ on loopback with a seeded community, and a terminal configured for it with simulated devices."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hq.clock import utc_now
from hq.context import hq_context
from hq.fleet_cli import write_secret_file
from hq.operators import add_operator
from hq.seed import DEMO_BILLS, DEMO_CARDS, DEMO_HOUSE_CODES
from hq.server import HqServer
from kiosk.config import Config, config_from_mapping

DEMO_OPERATOR = "demo"


@dataclass
class DemoEnvironment:
    """A running demo HQ and the configuration of a terminal that talks to it."""

    hq: HqServer
    config: Config
    workdir: Path
    operator_password: str = ""  # of DEMO_OPERATOR, for the fleet dashboard at /fleet

    @property
    def cards(self) -> list[tuple[str, str, str]]:
        return list(DEMO_CARDS)

    @property
    def qr_codes(self) -> list[tuple[str, str]]:
        """(payload, description) pairs for the house and bill QR codes of the demo community."""
        houses = [(f"CPK:H:{code}", f"house {number}") for number, code in DEMO_HOUSE_CODES.items()]
        bills = [(f"CPK:B:{bill}", f"{kind} bill {number}") for bill, (number, kind) in DEMO_BILLS.items()]
        return houses + bills

    def stop(self) -> None:
        self.hq.stop()


def start_demo(
    *, orientation: str = "landscape", language: str = "zh_CN", fullscreen: bool = False,
    workdir: Path | None = None, overrides: dict[str, dict[str, object]] | None = None,
) -> DemoEnvironment:
    """Seed a fresh HQ database, start HQ on a free loopback port, and configure a terminal for it."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    # As in the field: HQ takes only signed requests, and the terminal has its own registered secret.
    hq = HqServer(f"sqlite:///{folder / 'hq.db'}", seed=True, require_signatures=True).start()
    settings: dict[str, dict[str, object]] = {
        "terminal": {"id": "T-DEMO-01", "secret_file": str(folder / "terminal.secret")},
        "hq": {"url": hq.base_url},
        "heartbeat": {"interval_s": 10.0},
        "ui": {"orientation": orientation, "language": language, "fullscreen": fullscreen},
        "devices": {"card_reader": "sim:", "qr_scanner": "sim:", "printer": "sim:"},
        "storage": {"database": str(folder / "terminal.db")},
    }
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    config = config_from_mapping(settings)
    if config.terminal.secret_file:
        write_secret_file(config.terminal.secret_file, hq.register_terminal(config.terminal.id, "演示终端 Demo"))
    password = secrets.token_urlsafe(9)
    add_operator(hq_context(hq.app).sessions, DEMO_OPERATOR, password, utc_now())  # type: ignore[arg-type]
    return DemoEnvironment(hq=hq, config=config, workdir=folder, operator_password=password)
