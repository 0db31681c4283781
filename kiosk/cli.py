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

    _add_queue_parser(sub)
    _add_staff_parser(sub)
    sub.add_parser("config-example", help="print every setting with its default and description")
    sub.add_parser("check-config", help="validate a configuration file and exit").add_argument(
        "--config", required=True
    )
    return parser


def _add_queue_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    queue = sub.add_parser(
        "queue", help="list, show and export transactions, from the live database and (on request) its archive"
    )
    queue.add_argument("--config", help="TOML configuration file: its storage.database and terminal.timezone")
    queue.add_argument("--db", help="the transaction database file (instead of the configuration's)")
    actions = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per transaction, oldest first")
    export = actions.add_parser("export", help="write transactions to a CSV file (UTF-8, for a spreadsheet)")
    export.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to write")
    for action in (listing, export):
        # Checked when the command runs: importing the store here would slow every start of the terminal.
        action.add_argument("--state", help="only this state (paid, unknown, needs_attention...)")
        action.add_argument("--since", metavar="DATE", help="only created on or after DATE (YYYY-MM-DD, local time)")
        action.add_argument("--include-archive", action="store_true", help="also the archived (older) transactions")
    show = actions.add_parser("show", help="one transaction with its history and messages (live or archived)")
    show.add_argument("id", help="the transaction's id")


def _add_staff_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser(
        "staff", help="staff who may open the maintenance menu: set a PIN, list, remove (docs/install.md)"
    )
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    set_pin = actions.add_parser(
        "set-pin", help="give a member of staff a PIN (typed twice, not shown; stored only as an Argon2id hash)"
    )
    listing = actions.add_parser("list", help="staff with a PIN, and whether the menu is locked by wrong PINs")
    remove = actions.add_parser("remove", help="take a member of staff's PIN away")
    for action in (set_pin, listing, remove):
        action.add_argument("--config", required=True, help="the terminal's TOML configuration (its database)")
    for action in (set_pin, remove):
        action.add_argument("--staff-id", required=True, help="who: 1 to 32 letters, digits, '.', '_' or '-'")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:  # the spelling an installer's script or a bundle check uses
        args[0] = "self-test"
    return build_parser().parse_args(args)
