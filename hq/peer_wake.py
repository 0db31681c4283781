"""Word between the worker processes of one HQ that an order changed, so a long poll waiting in another worker
answers at once rather than at that worker's next sweep (hq.order_watch, up to a second later).

Each worker binds a Unix datagram socket ``<directory>/<pid>-<id>.sock`` in the run directory its ``kiosk-hq serve``
made, and a daemon thread hands every order number it receives to the local watch. Announcing sends one datagram
to each other socket there, without blocking: a peer that is gone (its socket refuses) is forgotten, and one too
busy to read (its buffer is full) misses the word and finds the change at its sweep.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PEERS_RELISTED_S = 1.0  # how long a listing of the peers' sockets is used before the directory is read again
_MAX_DATAGRAM = 256  # an order number is well under this


class PeerWake:
    """This worker's end: :meth:`announce` tells the others; what they announce goes to ``on_order``."""

    def __init__(self, directory: Path, on_order: Callable[[str], None]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._own = directory / f"{os.getpid()}-{id(self):x}.sock"  # unique even for two apps in one process
        self._on_order = on_order
        self._inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._inbox.bind(str(self._own))
        self._outbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._outbox.setblocking(False)
        self._peers: list[str] = []
        self._listed_at = -PEERS_RELISTED_S
        self._lock = threading.Lock()
        self._closed = False
        self.sent = 0  # datagrams sent, for tests
        self._thread = threading.Thread(target=self._receive, name="hq-peer-wake", daemon=True)
        self._thread.start()

    def announce(self, order_no: str) -> None:
        """Tell every other worker that order ``order_no`` changed. Any thread; never blocks."""
        data = order_no.encode()
        for peer in self._current_peers():
            try:
                self._outbox.sendto(data, peer)
                self.sent += 1
            except (ConnectionRefusedError, FileNotFoundError):
                self._drop(peer)
            except BlockingIOError:
                pass  # that worker is behind on its inbox: its sweep will see the change
            except OSError as exc:
                log.warning("peer wake: cannot reach %s: %s", peer, exc)

    def close(self) -> None:
        """Stop receiving and remove this worker's socket."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(OSError):
            self._outbox.sendto(b"", str(self._own))  # wakes the receiving thread to see it is closed
        self._thread.join(5)
        self._inbox.close()
        self._outbox.close()
        with contextlib.suppress(FileNotFoundError):
            self._own.unlink()

    def _current_peers(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            if now - self._listed_at >= PEERS_RELISTED_S:
                self._peers = [str(p) for p in self._directory.glob("*.sock") if p != self._own]
                self._listed_at = now
            return list(self._peers)

    def _drop(self, peer: str) -> None:
        with self._lock:
            if peer in self._peers:
                self._peers.remove(peer)
        with contextlib.suppress(FileNotFoundError):
            Path(peer).unlink()  # its process has gone without removing it

    def _receive(self) -> None:
        while True:
            try:
                data = self._inbox.recv(_MAX_DATAGRAM)
            except OSError:
                return
            if self._closed:
                return
            if data:
                try:
                    self._on_order(data.decode())
                except Exception:  # one bad word must not stop the worker hearing the next
                    log.exception("peer wake: could not wake the waiters of %r", data)
