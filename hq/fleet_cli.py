"""``kiosk-hq terminals ...`` and ``kiosk-hq operators ...``: the terminal registry and the dashboard's operators."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from hq import operators, terminals
from hq.clock import utc_now
from hq.db import create_engine_for, make_session_factory
from hq.models import Base
from hq.secret_box import MasterKeyError, SecretBox, load_master_key

DEFAULT_KEY_FILE = "hq.key"
KEY_HELP = (f"file with HQ's master key, which encrypts terminal secrets and signs operator sessions (default "
            f"{DEFAULT_KEY_FILE}; created, mode 0600, when missing). Keep it out of database backups.")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser], db_default: str, db_help: str) -> None:
    """Add the ``terminals`` and ``operators`` command groups to ``kiosk-hq``."""
    term = sub.add_parser("terminals", help="register, rotate, revoke and list terminals")
    term_sub = term.add_subparsers(dest="action", required=True)
    for action, text in (("register", "register a terminal and print its secret (shown once)"),
                         ("rotate", "give a terminal a new secret and print it (shown once)"),
                         ("revoke", "refuse every further request of a terminal"),
                         ("list", "list the registered terminals")):
        p = term_sub.add_parser(action, help=text)
        p.add_argument("--db", default=db_default, help=db_help)
        p.add_argument("--key-file", default=DEFAULT_KEY_FILE, help=KEY_HELP)
        if action != "list":
            p.add_argument("terminal_id", help="the terminal's id, as in its terminal.id setting")
        if action == "register":
            p.add_argument("--name", default="", help="where the terminal stands, e.g. '3号楼大堂'")
            p.add_argument("--secret-file", help="also write the secret to this file (mode 0600), for the terminal")
        if action == "rotate":
            p.add_argument("--grace-minutes", type=float, default=0.0,
                           help="minutes the old secret keeps working, to install the new one (default 0)")
            p.add_argument("--secret-file", help="also write the new secret to this file (mode 0600)")

    ops = sub.add_parser("operators", help="add operators of the fleet dashboard and manage their passwords")
    ops_sub = ops.add_subparsers(dest="action", required=True)
    for action, text in (("add", "add an operator (asks for the password)"),
                         ("passwd", "change an operator's password (ends their sessions)"),
                         ("disable", "stop an operator from logging in (ends their sessions)"),
                         ("enable", "let a disabled operator log in again"),
                         ("list", "list the operators")):
        p = ops_sub.add_parser(action, help=text)
        p.add_argument("--db", default=db_default, help=db_help)
        if action != "list":
            p.add_argument("username")
        if action in ("add", "passwd"):
            p.add_argument("--password-stdin", action="store_true",
                           help="read the password from the first line of standard input (for scripts)")


def run(args: argparse.Namespace) -> int:
    """Run a ``terminals`` or ``operators`` command; the exit status."""
    engine = create_engine_for(args.db)
    try:
        Base.metadata.create_all(engine)
        sessions = make_session_factory(engine)
        if args.command == "terminals":
            return _terminals(args, sessions)
        return _operators(args, sessions)
    except (terminals.RegistryError, operators.OperatorError, MasterKeyError) as exc:
        print(f"kiosk-hq: error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _terminals(args: argparse.Namespace, sessions: sessionmaker[Session]) -> int:
    now = utc_now()
    if args.action == "list":
        rows = terminals.list_terminals(sessions)
        for t in rows:
            changed = t.revoked_at or t.rotated_at or t.created_at
            print(f"{t.id:<16} {t.status:<8} {changed:%Y-%m-%d %H:%M} UTC  {t.name}")
        if not rows:
            print("No terminals registered.")
        return 0
    if args.action == "revoke":
        terminals.revoke(sessions, args.terminal_id, now)
        print(f"Terminal {args.terminal_id} revoked: HQ refuses its requests from now on.")
        return 0
    box = SecretBox(load_master_key(args.key_file, create=True))
    if args.action == "register":
        creds = terminals.register(sessions, box, args.terminal_id, now, name=args.name)
    else:
        creds = terminals.rotate(sessions, box, args.terminal_id, now, grace=timedelta(minutes=args.grace_minutes))
    if args.secret_file:
        write_secret_file(args.secret_file, creds.secret)
        print(f"Secret of {creds.terminal_id} written to {args.secret_file}")
    else:
        print(f"Secret of {creds.terminal_id} (shown once; put it in the file named by terminal.secret_file):")
        print(creds.secret)
    return 0


def write_secret_file(path: str, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    os.chmod(path, 0o600)  # also when the file was there before with a looser mode


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Password for {args.username}: ")
    if getpass.getpass("Again: ") != first:
        raise operators.OperatorError("the two passwords differ")
    return first


def _operators(args: argparse.Namespace, sessions: sessionmaker[Session]) -> int:
    now = utc_now()
    if args.action == "list":
        rows = operators.list_operators(sessions)
        for op in rows:
            print(f"{op.username:<24} {'disabled' if op.disabled else 'active':<8} since {op.created_at:%Y-%m-%d}")
        if not rows:
            print("No operators.")
    elif args.action == "add":
        operators.add_operator(sessions, args.username, _password(args), now)
        print(f"Operator {args.username} added.")
    elif args.action == "passwd":
        operators.set_password(sessions, args.username, _password(args), now)
        print(f"Password of {args.username} changed; their sessions have ended.")
    else:
        operators.set_disabled(sessions, args.username, args.action == "disable")
        print(f"Operator {args.username} {args.action}d.")
    return 0


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """The trust options of ``kiosk-hq serve``."""
    serve.add_argument("--key-file", default=DEFAULT_KEY_FILE, help=KEY_HELP)
    serve.add_argument(
        "--allow-unsigned", action="store_true",
        help="also serve unsigned /api/v1 requests (terminals without a secret); signed ones are still checked. "
        "By default every request but the health check must be signed by a registered terminal.",
    )
    serve.add_argument("--metrics-token-file", help="file with a bearer token that GET /metrics then requires")
    serve.add_argument("--tls-cert", help="serve https with this certificate (PEM, with its chain)")
    serve.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")


@dataclass(frozen=True)
class Trust:
    """The trust options of ``kiosk-hq serve`` as ``create_app`` takes them."""

    require_signatures: bool
    master_key: bytes = field(repr=False)
    metrics_token: str | None = field(repr=False)


def serve_options(args: argparse.Namespace) -> tuple[Trust, dict[str, str]]:
    """The trust options, and the ``uvicorn.Config`` keyword arguments of TLS; MasterKeyError, OSError."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise MasterKeyError("--tls-cert and --tls-key go together")
    token = None
    if args.metrics_token_file:
        with open(args.metrics_token_file, encoding="utf-8") as fh:
            token = fh.read().strip() or None
    trust = Trust(not args.allow_unsigned, load_master_key(args.key_file, create=True), token)
    tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key} if args.tls_cert else {}
    return trust, tls
