"""systemd's notify protocol, without a library: READY, STOPPING and the watchdog ping.

The unit (`deploy/kiosk.service`) is `Type=notify` with `WatchdogSec=`: the terminal says READY=1 once it can serve
residents, and the GUI event loop pings WATCHDOG=1 on a timer, so a frozen screen stops the pings and systemd
restarts the terminal. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

_log = logging.getLogger(__name__)


def _socket_address() -> str | None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return None
    # "@name" is Linux's abstract namespace: the address starts with a NUL byte.
    return "\0" + address[1:] if address.startswith("@") else address


def notify(state: str) -> bool:
    """Send one notification ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."); False when not under systemd."""
    address = _socket_address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        _log.warning("systemd notify %r failed: %s", state, exc)
        return False
    return True


def watchdog_interval_s() -> float | None:
    """How often to ping: half the unit's WatchdogSec, or None when the watchdog is off or meant for another pid."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        timeout_s = int(usec) / 1_000_000
    except ValueError:
        _log.warning("ignoring WATCHDOG_USEC=%r", usec)
        return None
    return timeout_s / 2 if timeout_s > 0 else None
