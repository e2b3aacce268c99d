"""Per-session hubs: a session's readings are read from the queue once and shared by every viewer.

Why: with 5 viewers on one session, reading the queue 5 times multiplies broker (or SQLite) load
for nothing. A hub pulls the session's readings in pages, in a worker thread (Kafka's iterator
blocks), encodes each reading's JSON message once, and keeps them in a shared buffer. Viewers own
only a clock and an index into that buffer. A hub is dropped a little after its last viewer
leaves, so a reconnecting viewer finds it still warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor

from hrviz.core import protocol
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Kind, Reading, Session
from hrviz.core.ports import QueuePosition, ReadingQueue, SessionStore

log = logging.getLogger("hrviz.serve")

PER_CALL = 2000  # readings fetched per worker-thread call
READ_AHEAD = 4000  # readings kept ready beyond the furthest viewer: > 60 s even at 60x
IDLE_SECONDS = 60.0  # how long a hub without viewers is kept for reconnects


class SessionHub:
    """One session's readings as encoded messages, filled on demand by a single reader."""

    def __init__(
        self, session: Session, queue: Callable[[], ReadingQueue], position: QueuePosition | None, pool: Executor
    ) -> None:
        self.session = session
        self.total = session.readings
        self._queue = queue  # this thread's queue: adapters need not be thread-safe
        self._position = position
        self._pool = pool
        self.messages: list[str] = []  # seq -> encoded "reading" message
        self.ts = array("d")  # seq -> epoch seconds, for the event cursor
        self._gap_ends = {a.end for a in session.anomalies if a.kind is Kind.GAP}
        self._iter: Iterator[Reading] | None = None
        self._demand = 0
        self._grown = asyncio.Event()
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: str | None = None
        self.viewers = 0
        self.idle_since = time.monotonic()

    @property
    def loaded(self) -> int:
        return len(self.messages)

    @property
    def complete(self) -> bool:
        return self.loaded >= self.total or self.error is not None

    async def wait_for(self, seq: int) -> bool:
        """Wait until reading ``seq`` is buffered; False when it never will be (end or error)."""
        while seq >= self.loaded:
            if self.complete:
                return False
            self.want(seq)
            grown = self._grown
            await grown.wait()
        self.want(seq)
        return True

    def want(self, seq: int) -> None:
        """A viewer is at ``seq``: keep the buffer READ_AHEAD readings beyond the furthest one."""
        if seq + READ_AHEAD > self._demand:
            self._demand = seq + READ_AHEAD
            if self._demand > self.loaded and not self.complete:
                self._wanted.set()
                if self._task is None:
                    self._task = asyncio.get_running_loop().create_task(self._fill())

    async def _fill(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.complete:
                await self._wanted.wait()
                self._wanted.clear()
                while self.loaded < self._demand and not self.complete:
                    page = await loop.run_in_executor(self._pool, self._next_page)
                    self._append(page)
        except Exception as err:  # noqa: BLE001 — reported to the viewers, not fatal to the server
            log.exception("reading session %s from the queue failed", self.session.id)
            self.error = f"could not read the session's readings: {err}"
        finally:
            self._wake()
            it, self._iter = self._iter, None
            if it is not None and hasattr(it, "close"):
                await loop.run_in_executor(self._pool, it.close)

    def _next_page(self) -> list[tuple[int, float, str]]:
        """Runs in the hub's lane thread: the queue's iterator may block (Kafka), and encoding
        thousands of messages would stall the event loop."""
        if self._iter is None:
            self._iter = iter(self._queue().replay(self.session.id, self._position, 0, count=self.total))
        tz = self.session.tz_offset_min
        gaps = self._gap_ends
        page: list[tuple[int, float, str]] = []
        for r in self._iter:
            page.append((r.seq, r.ts, protocol.reading(r, tz, r.ts in gaps)))
            if len(page) >= PER_CALL:
                break
        return page

    def _append(self, page: list[tuple[int, float, str]]) -> None:
        for seq, ts, message in page:
            if seq < self.loaded:
                continue  # a redelivered record: the queue is at-least-once
            if seq > self.loaded:
                raise BackendUnavailable(f"the queue skipped readings {self.loaded}..{seq - 1}")
            self.messages.append(message)
            self.ts.append(ts)
        if not page and self.loaded < self.total:
            raise BackendUnavailable(f"the queue holds {self.loaded} of the session's {self.total} readings")
        self._wake()

    def _wake(self) -> None:
        grown, self._grown = self._grown, asyncio.Event()
        grown.set()

    async def close(self) -> None:
        self.error = self.error or "closed"
        self._wanted.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class HubRegistry:
    """The live hubs of this process, keyed by session id.

    Each hub is pinned to one of a few single-thread "lanes", and each lane thread has its own
    store and queue: a queue iterator is then always advanced by the thread that opened it, and
    no adapter has to be thread-safe.
    """

    def __init__(
        self,
        store: Callable[[], SessionStore],
        queue: Callable[[], ReadingQueue],
        lanes: Sequence[Executor],
    ) -> None:
        self._store = store
        self._queue = queue
        self._lanes = lanes
        self._hubs: dict[str, SessionHub] = {}
        self._opening: dict[str, asyncio.Future[SessionHub | None]] = {}
        self.position_of: Callable[[str], QueuePosition | None] = lambda sid: None

    def __len__(self) -> int:
        return len(self._hubs)

    async def acquire(self, session_id: str) -> SessionHub | None:
        """The session's hub, opened on first use (None for an unknown session)."""
        hub = self._hubs.get(session_id)
        if hub is None:
            pending = self._opening.get(session_id)
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                self._opening[session_id] = pending
                try:
                    hub = await self._open(session_id)
                    pending.set_result(hub)
                except BaseException as err:
                    pending.set_exception(err)
                    raise
                finally:
                    del self._opening[session_id]
            else:
                hub = await asyncio.shield(pending)
            if hub is None:
                return None
        hub.viewers += 1
        return hub

    async def _open(self, session_id: str) -> SessionHub | None:
        loop = asyncio.get_running_loop()
        lane = self._lanes[zlib.crc32(session_id.encode()) % len(self._lanes)]
        session = await loop.run_in_executor(lane, lambda: self._store().get(session_id))
        if session is None:
            return None
        position = await loop.run_in_executor(lane, self.position_of, session_id)
        hub = SessionHub(session, self._queue, position, lane)
        self._hubs[session_id] = hub
        return hub

    def release(self, hub: SessionHub) -> None:
        hub.viewers -= 1
        if hub.viewers <= 0:
            hub.idle_since = time.monotonic()

    async def sweep(self, idle: float = IDLE_SECONDS) -> None:
        """Drop hubs nobody watched for ``idle`` seconds (their memory is the session's size)."""
        now = time.monotonic()
        for sid, hub in list(self._hubs.items()):
            if hub.viewers <= 0 and now - hub.idle_since >= idle:
                del self._hubs[sid]
                await hub.close()

    async def close(self) -> None:
        for hub in self._hubs.values():
            await hub.close()
        self._hubs.clear()
