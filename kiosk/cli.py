"""Command line of the `kiosk` console script; `ui.main` runs what it asks for."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kiosk import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Community payment kiosk: the lobby touchscreen terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a terminal from its configuration file")
    run.add_argument("--config", required=True, help="TOML configuration file (see docs/configuration.md)")
    run.add_argument("--windowed", action="store_true", help="a normal window instead of fullscreen")

    demo = sub.add_parser(
        "demo", help="run HQ with a seeded demo community, the kiosk with simulated devices, and a simulator panel"
    )
    demo.add_argument("--windowed", action="store_true", help="a normal window instead of fullscreen")
    demo.add_argument("--orientation", choices=("auto", "portrait", "landscape"), default="landscape")
    demo.add_argument("--language", choices=("zh_CN", "en"), default="zh_CN")
    demo.add_argument("--control-port", type=int, default=8765, help="loopback port of the control API (0: any)")
    demo.add_argument("--no-panel", action="store_true", help="do not open the simulator panel")

    sub.add_parser("config-example", help="print every setting with its default and description")
    sub.add_parser("check-config", help="validate a configuration file and exit").add_argument(
        "--config", required=True
    )
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
