"""The demo: HQ on loopback with a seeded community, and a terminal configured for it with simulated devices."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hq.seed import DEMO_BILLS, DEMO_CARDS, DEMO_HOUSE_CODES
from hq.server import HqServer
from kiosk.config import Config, config_from_mapping


@dataclass
class DemoEnvironment:
    """A running demo HQ and the configuration of a terminal that talks to it."""

    hq: HqServer
    config: Config
    workdir: Path

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
    hq = HqServer(f"sqlite:///{folder / 'hq.db'}", seed=True).start()
    settings: dict[str, dict[str, object]] = {
        "terminal": {"id": "T-DEMO-01"},
        "hq": {"url": hq.base_url},
        "ui": {"orientation": orientation, "language": language, "fullscreen": fullscreen},
        "devices": {"card_reader": "sim:", "qr_scanner": "sim:", "printer": "sim:"},
        "storage": {"database": str(folder / "terminal.db")},
    }
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    return DemoEnvironment(hq=hq, config=config_from_mapping(settings), workdir=folder)
