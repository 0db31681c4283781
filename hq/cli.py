"""``kiosk-hq``: serve the HQ API, create its tables, or seed the demo community."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hq import fleet_cli
from hq.clock import utc_now
from hq.db import DEFAULT_DB_URL, DatabaseUrlError, create_engine_for, redact_url
from hq.models import Base
from hq.payment_codes import DEFAULT_CONFIRM_DELAY
from hq.secret_box import MasterKeyError
from hq.seed import DEMO_BILLS, DEMO_CARDS, DEMO_HOUSE_CODES, LOW_BALANCE_HOUSE, MAIN_HOUSE, NEW_HOUSE, seed_demo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-hq", description="Reference HQ server for the lobby kiosks.")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = f"SQLAlchemy database URL (default {DEFAULT_DB_URL}, a file in the current directory)"

    serve = sub.add_parser("serve", help="serve the HQ API (docs/api.md)")
    serve.add_argument("--db", default=DEFAULT_DB_URL, help=db_help)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8800, help="port to listen on (default 8800)")
    serve.add_argument(
        "--public-url",
        help="base URL phones and receipts reach this server at, e.g. http://192.168.1.20:8800 "
        "(default: the address each request used)",
    )
    serve.add_argument(
        "--confirm-delay", type=float, default=DEFAULT_CONFIRM_DELAY.total_seconds(), metavar="SECONDS",
        help="seconds the sandbox wallet waits for a payer asked to confirm a payment code before it decides "
        f"by itself (default {DEFAULT_CONFIRM_DELAY.total_seconds():g})",
    )

    serve.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="HQ processes to serve with (default 1); about one per CPU core for a large fleet (docs/api.md)",
    )
    fleet_cli.add_serve_options(serve)
    fleet_cli.add_commands(sub, DEFAULT_DB_URL, db_help)

    seed = sub.add_parser("seed-demo", help="create the tables and the demo community 阳光花园")
    seed.add_argument("--db", default=DEFAULT_DB_URL, help=db_help)
    seed.add_argument("--all", action="store_true", help="list every card, house code and bill")

    init = sub.add_parser("init-db", help="create any missing tables")
    init.add_argument("--db", default=DEFAULT_DB_URL, help=db_help)
    return parser


def _create_tables(url: str) -> Engine:
    engine = create_engine_for(url)
    Base.metadata.create_all(engine)
    return engine


def _print_demo(show_all: bool) -> None:
    print("Well-known demo houses:")
    for label, house in (("main", MAIN_HOUSE), ("never recharged", NEW_HOUSE), ("low balance", LOW_BALANCE_HOUSE)):
        print(
            f"  {house.number:<8} {label:<16} card {house.card_id}  QR CPK:H:{house.house_code}  "
            f"heating bill CPK:B:{house.heating_bill_no}"
        )
    cards = DEMO_CARDS if show_all else DEMO_CARDS[:8]
    print(f"Resident cards ({len(cards)} of {len(DEMO_CARDS)}):")
    for card, number, name in cards:
        print(f"  {card:<20} {number:<8} {name}")
    if show_all:
        print("House codes:")
        for number, code in DEMO_HOUSE_CODES.items():
            print(f"  {number:<8} CPK:H:{code}")
        print("Bills:")
        for bill_no, (number, kind) in DEMO_BILLS.items():
            print(f"  CPK:B:{bill_no}  {number:<8} {kind}")
    else:
        print("(use --all to list every card, house code and bill)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk-hq`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "init-db":
            _create_tables(args.db).dispose()
            print(f"Tables ready in {redact_url(args.db)}")
        elif args.command == "seed-demo":
            engine = _create_tables(args.db)
            seeded = seed_demo(engine, utc_now())
            engine.dispose()
            print(("Seeded" if seeded else "Already seeded, left unchanged:") + f" {redact_url(args.db)}")
            _print_demo(args.all)
        elif args.command == "serve":
            return _serve(args)
        elif args.command in ("terminals", "operators"):
            return fleet_cli.run(args)
    except DatabaseUrlError as exc:
        print(f"kiosk-hq: error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"kiosk-hq: error: cannot use database {redact_url(args.db)}: {exc.__class__.__name__}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


# Terminals poll and beat every few seconds: keep their connections open past uvicorn's 5 s default, so a fleet
# does not reconnect (and, under load, overflow the accept queue) on every call.
KEEP_ALIVE_S = 75
# asyncio's own event loop, not uvloop: with a thousand keep-alive terminals and the loop busy, uvloop left a
# request that arrived on a connection idle for a few seconds unread for seconds (p99 2.2 s at 750 residents in
# benchmarks/fleet_bench.py, 13-20 s at 1,000), where asyncio's loop reads it in turn (0.8 s and 2-3 s), for about
# the same heartbeats a second.
EVENT_LOOP = "asyncio"


def _serve(args: argparse.Namespace) -> int:
    from hq import workers

    if not 0 <= args.port <= 65535:
        print(f"kiosk-hq: error: port {args.port} is not between 0 and 65535", file=sys.stderr)
        return 2
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        print(f"kiosk-hq: error: --public-url must start with http:// or https://: {args.public_url!r}",
              file=sys.stderr)
        return 2
    if not args.confirm_delay > 0:
        print(f"kiosk-hq: error: --confirm-delay must be positive, not {args.confirm_delay}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print(f"kiosk-hq: error: --workers must be at least 1, not {args.workers}", file=sys.stderr)
        return 2
    try:
        trust, tls = fleet_cli.serve_options(args)
    except (MasterKeyError, OSError) as exc:
        print(f"kiosk-hq: error: {exc}", file=sys.stderr)
        return 2
    _create_tables(args.db).dispose()
    plan = workers.WorkerPlan(
        db_url=args.db, public_url=args.public_url, confirm_delay=timedelta(seconds=args.confirm_delay),
        require_signatures=trust.require_signatures, master_key=trust.master_key, metrics_token=trust.metrics_token,
        server={"log_level": "info", "timeout_keep_alive": KEEP_ALIVE_S, "loop": EVENT_LOOP, **tls},
    )
    scheme = "https" if tls else "http"
    print(f"HQ API on {scheme}://{args.host}:{args.port}/api/v1 (docs at /docs), fleet dashboard at /fleet, "
          f"database {redact_url(args.db)}, {args.workers} worker process(es)")
    if args.workers > 1:
        return workers.serve(plan, args.host, args.port, args.workers)
    return workers.serve_alone(plan, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
