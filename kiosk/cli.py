"""Command line of the `kiosk` console script; `ui.main` runs what it asks for."""

from __future__ import annotations

import argparse
import sys
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

    check = sub.add_parser(
        "self-test", help="check configuration, database, catalogs, devices, HQ and the screen; exit 0 when usable"
    )
    check.add_argument("--config", help="TOML configuration file (default: every setting at its default)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--settle", type=float, default=5.0, help="seconds each device may take to come online")

    sub.add_parser("config-example", help="print every setting with its default and description")
    sub.add_parser("check-config", help="validate a configuration file and exit").add_argument(
        "--config", required=True
    )
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:  # the spelling an installer's script or a bundle check uses
        args[0] = "self-test"
    return build_parser().parse_args(args)
