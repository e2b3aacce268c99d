"""``hrviz serve``'s server: one websockets server for the page (HTTP) and the API (``/ws``).

All state that matters lives in the store and the queue; the process only holds caches (hubs)
and connections, so several servers can run against one MySQL + Kafka and replay any session.
Blocking work never runs on the event loop: ingest in an ingest pool, queue and store reads in
per-thread "lanes", each thread with its own adapters (see :class:`HubRegistry`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from hrviz.adapters.serve.auth import ProcessRequest, guard, select_subprotocol
from hrviz.adapters.serve.connection import Connection
from hrviz.adapters.serve.explore import Explorer
from hrviz.adapters.serve.hub import HubRegistry
from hrviz.adapters.serve.static import allowed_origins, load_files, static_handler, web_dir
from hrviz.adapters.serve.turnstile import Turnstile
from hrviz.adapters.serve.viewer import PacingStats
from hrviz.core.ingest import Ingested, IngestOptions, PublishReport, publish_pending
from hrviz.core.ports import Backends, LiveMark, QueuePosition, SessionStore

log = logging.getLogger("hrviz.serve")
T = TypeVar("T")

MAX_MESSAGE = 1 << 20  # one frame: a 256 KB chunk is ~342 KB once in base64 JSON
MAX_QUEUE = 4  # frames received but not yet handled, per connection: at most 4 MiB
WRITE_LIMIT = 64 * 1024  # per-connection send buffer before ``send`` waits (the send queue absorbs the rest)
LANES = 8
META = 2  # threads for listings and the explore / history reads
POSITION_WAIT = 30.0  # seconds a replay waits for a just-uploaded session's first acknowledgement


IngestUpload = Callable[[Path, str, SessionStore, IngestOptions, Callable[[int], None]], Ingested]
"""(path, name, store, options, progress) -> what was stored."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload: int = 50 * 2**20
    allow_origins: Sequence[str] = ()
    ingest: IngestOptions = field(default_factory=IngestOptions)
    web: Path | None = None
    temp_dir: str | None = None
    token: str | None = None  # required at the /ws handshake when set (serve.auth)
    tls: ssl.SSLContext | None = None  # HTTPS / WSS on the same port
    max_uploads: int = 4  # unfinished or ingesting uploads at once, server-wide: each holds a temp file


class _LocalBackends(threading.local):
    backends: Backends | None = None


class _Stopping(Exception):
    """Raised in an ingest worker by its progress callback once the server is stopping."""


class App:
    """Everything one server process shares between its connections.

    Both functions come from the composition root (:mod:`hrviz.wiring`): ``open_backends`` opens
    a store and a queue, once per thread that needs them; ``ingest_upload`` is hrviz's one ingest
    entry point (``hrviz ingest`` and ``watch`` read files with it too).
    """

    def __init__(
        self, config: ServerConfig, open_backends: Callable[[], Backends], ingest_upload: IngestUpload
    ) -> None:
        self.config = config
        self._open_backends = open_backends
        self._ingest_upload = ingest_upload
        self._local = _LocalBackends()
        self._opened: list[Backends] = []
        self._opened_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self.lanes = [ThreadPoolExecutor(1, thread_name_prefix=f"hrviz-lane{i}") for i in range(LANES)]
        self.ingest_pool = ThreadPoolExecutor(2, thread_name_prefix="hrviz-ingest")
        # listings get their own threads: a lane may be blocked on a Kafka replay for a while
        self.meta_pool = ThreadPoolExecutor(META, thread_name_prefix="hrviz-meta")
        self.hubs = HubRegistry(lambda: self.backends().store, lambda: self.backends().queue, self.lanes)
        self.hubs.position_of = self._position_of
        self.hubs.live_ids = self.live_ids
        self.counters: Counter[str] = Counter()
        self.pacing = PacingStats()
        self.uploads = 0  # uploads receiving or ingesting (event loop only)
        self.stopping = threading.Event()  # set by stop(): an ingest in a worker aborts at its next progress
        self.upload_dir, self._upload_lock = upload_dir(config.temp_dir)
        self.explorer = Explorer()

    def live_ids(self) -> dict[str, LiveMark]:
        """The sessions being recorded now (docs/live.md), on this thread's store."""
        live = self.backends().live_ids
        return live() if live is not None else {}

    def backends(self) -> Backends:
        """This thread's store and queue, opened on first use."""
        b = self._local.backends
        if b is None:
            b = self._local.backends = self._open_backends()
            with self._opened_lock:
                self._opened.append(b)
        return b

    def _position_of(self, session_id: str) -> QueuePosition | None:
        """Where the session starts in the queue; waits a little for a publication just begun.

        Uploads start replaying while their readings are still being published (Kafka replay
        follows a publication in progress), so the first acknowledgement may be a moment away.
        """
        b = self.backends()
        position = b.store.position(session_id)
        if position is None and b.replay_needs_position:
            deadline = time.monotonic() + POSITION_WAIT
            while position is None and time.monotonic() < deadline:
                time.sleep(0.02)
                position = b.store.position(session_id)
        return position

    async def open_all(self) -> None:
        """Open every lane's and listing thread's store and queue now, before the first client.

        Each is a connection or two (MySQL, with its TLS context: ~20 ms of CPU each) that the
        first viewers would otherwise open all at once, in the burst of a serve start (1,000
        viewers connecting within a second), competing with the event loop for the CPU; and a
        bad ``--mysql`` / ``--kafka`` fails here, before listening."""
        loop = asyncio.get_running_loop()
        together = threading.Barrier(META)  # holds each listing thread until all have their backends

        def listing() -> None:
            self.backends()
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=10)

        lanes = [loop.run_in_executor(lane, self.backends) for lane in self.lanes]
        await asyncio.gather(*lanes, *(loop.run_in_executor(self.meta_pool, listing) for _ in range(META)))

    async def with_store(self, fn: Callable[[SessionStore], T]) -> T:
        """Run a store call in a worker thread, with that thread's store."""
        return await asyncio.get_running_loop().run_in_executor(self.meta_pool, lambda: fn(self.backends().store))

    async def ingest_file(self, path: str, name: str, progress: Callable[[int], None]) -> Ingested:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self.ingest_pool, self._ingest, path, name, progress
            )
        except _Stopping:  # the upload is dropped (nothing of it was committed) and its task ends
            raise asyncio.CancelledError from None

    def _ingest(self, path: str, name: str, progress: Callable[[int], None]) -> Ingested:
        """Store the file (any format, or every file of a zip); publication follows in the background
        (see :meth:`publish_soon`). Aborted when the server stops: a SIGTERM does not wait minutes
        for a big upload (before: 22 s for a 0.9 MB gpx.gz of 7.5M waypoints)."""

        def checked(done: int) -> None:
            if self.stopping.is_set():
                raise _Stopping
            progress(done)

        b = self.backends()
        return self._ingest_upload(Path(path), name, b.store, self.config.ingest, checked)

    async def publish_soon(self) -> PublishReport:
        """Publish the outbox in the ingest pool; the caller need not wait for it to replay."""
        return await asyncio.get_running_loop().run_in_executor(self.ingest_pool, self.publish)

    def publish(self) -> PublishReport:
        """The outbox, completed; one publisher at a time per process so nothing is sent twice."""
        b = self.backends()
        with self._publish_lock:
            return publish_pending(b.store, b.queue)

    def close(self) -> None:
        for pool in [*self.lanes, self.ingest_pool, self.meta_pool]:
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.upload_dir, ignore_errors=True)
        self._upload_lock.close()
        with self._opened_lock:
            for b in self._opened:
                with contextlib.suppress(Exception):
                    b.close()
            self._opened.clear()


UPLOAD_DIR_PREFIX = "hrviz-serve-"


def upload_dir(temp_dir: str | None) -> tuple[str, BinaryIO]:
    """A private directory for this process's upload files, locked while the process lives.

    Files of a server killed with SIGKILL are left behind; each start removes the directories
    whose lock nobody holds any more (a running server's stay: its lock is held).
    """
    parent = temp_dir or tempfile.gettempdir()
    remove_stale_upload_dirs(parent)
    path = tempfile.mkdtemp(prefix=UPLOAD_DIR_PREFIX, dir=parent)
    lock = open(os.path.join(path, "lock"), "wb")  # noqa: SIM115 — held open for the process's life
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return path, lock


def remove_stale_upload_dirs(parent: str, grace: float = 60.0) -> int:
    removed = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if not entry.name.startswith(UPLOAD_DIR_PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                with open(os.path.join(entry.path, "lock"), "rb") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # taken: its server is gone
            except FileNotFoundError:  # killed between creating the directory and its lock, or starting now
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < grace:
                    continue
            except OSError:  # locked: a live server's
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d upload director%s left by a killed server", removed, "y" if removed == 1 else "ies")
    return removed


def bind(host: str, port: int) -> socket.socket:
    """Bind first, so the real port (``--port 0``) is known when the allowed origins are computed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        hint = " (another hrviz serve? pick one with --port)" if err.errno == errno.EADDRINUSE else ""
        raise OSError(f"cannot listen on {host}:{port}: {err.strerror}{hint}") from None
    sock.listen(512)
    sock.setblocking(False)
    return sock


class HrvizServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``port`` is the bound port."""

    def __init__(
        self, config: ServerConfig, open_backends: Callable[[], Backends], ingest_upload: IngestUpload
    ) -> None:
        self.config = config
        self.app = App(config, open_backends, ingest_upload)
        self.port = 0
        self.server: Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.turnstile = Turnstile()

    async def start(self, on_published: Callable[[PublishReport], None] | None = None) -> None:
        cfg = self.config
        files = load_files(cfg.web or web_dir())
        loop = asyncio.get_running_loop()
        await self.app.open_all()
        report = await loop.run_in_executor(self.app.ingest_pool, self.app.publish)  # outbox resume
        if on_published is not None:
            on_published(report)
        sock = bind(cfg.host, cfg.port)
        self.port = sock.getsockname()[1]
        # with a token, the token is the proof: a foreign page cannot know it (it is not a cookie)
        origins = None if cfg.token else allowed_origins(cfg.host, self.port, cfg.allow_origins, cfg.tls is not None)
        self.server = await serve(
            self._handle,
            sock=sock,
            origins=origins,
            process_request=self._admit(guard(static_handler(files), cfg.token)),
            select_subprotocol=select_subprotocol,
            ssl=cfg.tls,
            max_size=MAX_MESSAGE,
            max_queue=MAX_QUEUE,
            write_limit=WRITE_LIMIT,
            compression=None,  # per-message deflate costs CPU per viewer for ~100-byte messages
            server_header="hrviz",
            close_timeout=2,
        )
        self._sweeper = loop.create_task(self._sweep())

    def _admit(self, process_request: ProcessRequest) -> ProcessRequest:
        """A handshake the guard accepts goes through the turnstile (serve/turnstile.py)."""

        async def admit(connection: ServerConnection, request: Request) -> Response | None:
            response = process_request(connection, request)
            if isinstance(response, Awaitable):
                response = await response
            if response is None:
                await self.turnstile.enter()
            return response

        return admit

    async def _handle(self, ws: ServerConnection) -> None:
        self.app.counters["connections"] += 1
        await Connection(self.app, ws).serve()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(10)
            await self.app.hubs.sweep()

    async def stop(self) -> None:
        self.app.stopping.set()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.turnstile.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await self.app.hubs.close()
        if self.server is not None:
            log.info(
                "%s; %d connections, %d closed as too slow",
                self.app.pacing.summary(),
                self.app.counters["connections"],
                self.app.counters["slow_closed"],
            )
        await asyncio.get_running_loop().run_in_executor(None, self.app.close)


__all__ = ["HrvizServer", "ServerConfig"]
