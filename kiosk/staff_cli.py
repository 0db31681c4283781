"""`kiosk staff`: set, list and remove the PINs that open the maintenance menu, from a shell on the terminal.

The PIN is read twice from the terminal without echo (getpass), never from the command line (it would stay in
the shell's history and in `ps`), and only its Argon2id hash is stored. Run it as the account the terminal runs as,
so it opens the same database (`storage.database`, or that account's data folder).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from kiosk.config import ConfigError, load_config
from kiosk.staff import StaffError, StaffService
from offline_queue.db import StoreError
from offline_queue.staff_store import StaffStore

ReadSecret = Callable[[str], str]


def run_staff(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
    read_secret: ReadSecret | None = None, service: StaffService | None = None,
) -> int:
    """Run `kiosk staff ACTION`: 0 done, 1 no such member, 2 bad input or no usable database."""
    store: StaffStore | None = None
    try:
        if service is None:
            from kiosk.app import database_path  # the app's wiring knows the default place

            config = load_config(args.config)
            store = StaffStore.open(database_path(config))
            service = StaffService(store, max_failures=config.maintenance.pin_max_failures)
        if args.staff_command == "set-pin":
            return _set_pin(service, args.staff_id, out, err, read_secret or getpass.getpass)
        if args.staff_command == "remove":
            if not service.remove(args.staff_id):
                print(f"kiosk staff: nobody with the id {args.staff_id!r}", file=err)
                return 1
            print(f"{args.staff_id}: PIN removed", file=out)
            return 0
        _list(service, out)
        return 0
    except (ConfigError, StoreError, OSError) as exc:
        print(f"kiosk staff: {exc}", file=err)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nkiosk staff: cancelled, nothing changed", file=err)
        return 2
    finally:
        if store is not None:
            store.close()


def _set_pin(service: StaffService, staff_id: str, out: TextIO, err: TextIO, read_secret: ReadSecret) -> int:
    pin = read_secret(f"New PIN for {staff_id} (6 to 12 digits, not shown): ").strip()
    again = read_secret("The same PIN again: ").strip()
    if pin != again:
        print("kiosk staff: the two PINs differ; nothing changed", file=err)
        return 2
    try:
        new = service.set_pin(staff_id, pin)
    except StaffError as exc:
        print(f"kiosk staff: {exc}; nothing changed", file=err)
        return 2
    print(f"{staff_id}: {'added with a PIN' if new else 'PIN changed'}", file=out)
    return 0


def _list(service: StaffService, out: TextIO) -> None:
    members = service.members()
    for member in members:
        print(f"{member.staff_id:32}  PIN set {member.updated_at.isoformat(timespec='seconds')}", file=out)
    print(f"{len(members)} member(s) of staff" if members else "nobody can open the maintenance menu yet "
          "(kiosk staff set-pin)", file=out)
    lock = service.lock()
    if lock.locked(service.now()):
        assert lock.locked_until is not None
        print(f"the menu is locked after wrong PINs until {lock.locked_until.isoformat(timespec='seconds')}",
              file=out)
    elif lock.failures:
        print(f"{lock.failures} wrong PIN(s) in a row", file=out)
