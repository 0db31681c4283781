"""Run the HQ app in a background thread on loopback, for the terminal's tests and ``kiosk demo``."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from hq.app import DEFAULT_ORDER_TTL, close_app, create_app
from hq.clock import Clock, utc_now
from hq.context import hq_context
from hq.fleet_context import fleet_context
from hq.payment_codes import DEFAULT_CONFIRM_DELAY
from hq.seed import seed_demo
from hq.terminals import register


class ServerAnsweringLongPolls(uvicorn.Server):
    """uvicorn's server for an HQ app: on shutdown, the order status long polls still waiting are answered at once
    (hq.order_watch), before uvicorn waits for the requests in flight to finish."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, FastAPI):
            hq_context(app).watch.close()
        await super().shutdown(sockets=sockets)


class _Server(ServerAnsweringLongPolls):
    """uvicorn's server, announcing the end of its startup on a threading event."""

    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._started_event.set()


class HqServer:
    """The HQ server on ``127.0.0.1`` and an OS-chosen free port, in a daemon thread.

    ``db_url`` defaults to a fresh SQLite file in a temporary directory (removed by :meth:`stop`); with
    ``seed`` the demo community (:mod:`hq.seed`) is added unless already there. ``public_url`` defaults to
    :attr:`base_url`. ``require_signatures`` refuses unsigned terminal requests (register terminals with
    :meth:`register_terminal`); ``ssl_certfile`` and ``ssl_keyfile`` serve https.
    Use as a context manager or call :meth:`start` and :meth:`stop`::

        with HqServer() as hq:
            requests.get(f"{hq.base_url}/api/v1/health", timeout=5)
    """

    def __init__(
        self,
        db_url: str | None = None,
        *,
        seed: bool = True,
        public_url: str | None = None,
        clock: Clock | None = None,
        order_ttl: timedelta = DEFAULT_ORDER_TTL,
        confirm_delay: timedelta = DEFAULT_CONFIRM_DELAY,
        host: str = "127.0.0.1",
        port: int = 0,
        require_signatures: bool = False,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        self._db_url = db_url
        self._seed = seed
        self._public_url = public_url
        self._clock = clock
        self._order_ttl = order_ttl
        self._confirm_delay = confirm_delay
        self._host = host
        self._port = port
        self._require_signatures = require_signatures
        self._ssl = (ssl_certfile, ssl_keyfile) if ssl_certfile else None
        self._tmpdir: Path | None = None
        self._thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._error: BaseException | None = None
        self._base_url: str | None = None
        self.app: FastAPI | None = None
        """The running app (for white-box tests), set by :meth:`start`."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once :meth:`start` has returned."""
        if self._base_url is None:
            raise RuntimeError("HqServer is not started")
        return self._base_url

    @property
    def public_url(self) -> str:
        """The base of the pay and receipt URLs the server hands out."""
        return self._public_url or self.base_url

    @property
    def db_url(self) -> str:
        """The database URL in use (the temporary SQLite file when none was given)."""
        if self._db_url is None:
            raise RuntimeError("HqServer is not started")
        return self._db_url

    def start(self, timeout: float = 10.0) -> HqServer:
        """Bind, seed if asked, and serve; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("HqServer already started")
        if self._db_url is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="kiosk-hq-"))
            self._db_url = f"sqlite:///{self._tmpdir / 'hq.db'}"
        # Binding here, before uvicorn runs, gives the port (and so the public URL) up front. The explicit
        # IPPROTO_TCP matters: accepted sockets inherit it, and asyncio sets TCP_NODELAY only on sockets whose
        # proto is IPPROTO_TCP; with proto 0, Nagle plus delayed ACKs add 40 ms to every keep-alive request.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind((self._host, self._port))
            sock.listen(128)
            port = sock.getsockname()[1]
            base_url = f"{'https' if self._ssl else 'http'}://{self._host}:{port}"
            app = create_app(
                self._db_url, self._public_url or base_url, self._clock, order_ttl=self._order_ttl,
                confirm_delay=self._confirm_delay, require_signatures=self._require_signatures,
            )
            if self._seed:
                seed_demo(hq_context(app).engine, (self._clock or utc_now)())
        except BaseException:
            sock.close()
            self._cleanup_tmpdir()
            raise
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off", ws="none",
            timeout_graceful_shutdown=2,
            ssl_certfile=self._ssl[0] if self._ssl else None, ssl_keyfile=self._ssl[1] if self._ssl else None,
        )
        started = threading.Event()
        self._server = _Server(config, started)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="hq-server", daemon=True)
        self.app = app
        self._thread.start()
        if not started.wait(timeout) or not self._server.started:
            self.stop()
            raise RuntimeError(f"HQ server did not start within {timeout} s: {self._error!r}")
        self._base_url = base_url
        return self

    def register_terminal(self, terminal_id: str, name: str = "") -> str:
        """Register a terminal at this HQ (once started) and return its secret, for ``terminal.secret_file``."""
        if self.app is None:
            raise RuntimeError("HqServer is not started")
        creds = register(
            hq_context(self.app).sessions, fleet_context(self.app).box, terminal_id,
            (self._clock or utc_now)(), name=name,
        )
        return creds.secret

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed startup included
            self._error = exc
        finally:
            sock.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, wait for the thread, release the app (:func:`hq.app.close_app`). Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self.app is not None:
            close_app(self.app)
        self._thread = None
        self._server = None
        self._base_url = None
        self.app = None
        self._cleanup_tmpdir()

    def _cleanup_tmpdir(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._db_url = None

    def __enter__(self) -> HqServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
