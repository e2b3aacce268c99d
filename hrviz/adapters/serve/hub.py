"""Per-session hubs: viewers near one another in a session share one read of it, in a bounded window.

Why: with 5 viewers on one session, reading the queue 5 times multiplies broker (or SQLite) load
for nothing; but keeping every encoded reading of a session in memory makes memory grow with
the replay position (1M readings ≈ 200 MB). So a hub holds *windows*: a window is a contiguous
run of readings [base, end) (as columns: serve/columns.py), filled ahead of its furthest viewer by one reader (a queue
iterator opened at the window's first seq: a seek, never a read from the start) and trimmed
behind its slowest one. A viewer starting or resuming far from every window gets a window of its
own; one that runs more than SPAN readings ahead of the others moves to its own too. A window
goes when its last viewer leaves; the hub (the session's summary) is kept a little longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor

from hrviz.adapters.serve.columns import Columns
from hrviz.adapters.serve.live import EventKey, LiveFollower, event_key, take_summary
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Anomaly, Kind, Reading, Session
from hrviz.core.ports import LiveMark, QueuePosition, ReadingQueue, SessionStore

log = logging.getLogger("hrviz.serve")

PER_CALL = 256  # readings fetched per worker-thread call (and the granularity of trimming)
AHEAD = 600  # readings kept ready beyond a window's furthest viewer: 10 s at 60x (refilled at half)
BEHIND = 256  # readings kept behind its slowest viewer: a viewer arriving a moment later shares the read
SPAN = 20_000  # most readings one window holds (~340 KB); a viewer further ahead moves to its own
IDLE_WINDOWS = 1  # windows without viewers kept per hub (until the hub goes)
# a live read never blocks its lane: a reading stored but not yet arrived is looked for again after
# 10 ms, then 20, 40, 80, then every 100 ms (a queue that is down: ten cheap looks a second per live window)
FOLLOW_POLL = 0.01
FOLLOW_POLL_MAX = 0.1
IDLE_SECONDS = 60.0  # how long a hub without viewers is kept for reconnects


Page = list[tuple[Reading, bool]]  # readings read by the lane thread, each with "after a gap"


class Window:
    """Readings [base, end) of one session, filled on demand by a single reader."""

    def __init__(self, hub: SessionHub, start: int) -> None:
        self.hub = hub
        self.readings = Columns(start)
        self.viewers: dict[object, int] = {}  # viewer -> the next seq it will send
        self._iter: Iterator[Reading] | None = None
        self._following = False  # _iter is a live read: it never ends, only stored readings are taken
        self._demand = start
        self._grown = asyncio.Event()
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: str | None = None
        self.closed = False
        self.idle_since: float | None = None  # when its last viewer left (kept for the next one)

    @property
    def base(self) -> int:
        return self.readings.base

    @property
    def end(self) -> int:
        return self.readings.base + len(self.readings)

    @property
    def complete(self) -> bool:
        return (self.end >= self.hub.total and not self.hub.live) or self.error is not None or self.closed

    @property
    def full(self) -> bool:
        return len(self.readings) >= SPAN

    def message(self, seq: int) -> str:
        return self.readings.message(seq, self.hub.session.tz_offset_min)

    def ts_at(self, seq: int) -> float:
        return self.readings.ts_at(seq)

    async def wait_for(self, seq: int) -> bool:
        """Wait until reading ``seq`` is buffered; False when it never will be here (end, error, full)."""
        while seq >= self.end:
            self.want(seq)
            if self.complete or self.full:
                return False
            await self._grown.wait()
        return True

    def at(self, viewer: object, seq: int) -> None:
        """``viewer`` will send ``seq`` next: the window reads ahead of it."""
        self.viewers[viewer] = seq
        self.idle_since = None
        self.want(seq)

    def want(self, seq: int) -> None:
        """Fill to AHEAD readings beyond ``seq``, in pages, once less than half of that is ready."""
        if seq + AHEAD // 2 < self.end or self.complete:
            return
        self._trim()
        self._demand = max(self._demand, seq + AHEAD)
        self._wanted.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._fill())

    async def _fill(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.complete:
                await self._wanted.wait()
                self._wanted.clear()
                wait = FOLLOW_POLL
                while self.end < self._demand and not self.complete and not self.full:
                    page = await loop.run_in_executor(self.hub.pool, self._next_page)
                    self._append(page)
                    if self.hub.live and self.end >= self.hub.total:
                        break  # the live edge: the hub wakes this window when the session grows
                    if not page and self._following:  # stored, not yet arrived from the queue
                        await asyncio.sleep(wait)  # the lane stays free for the other sessions
                        wait = min(wait * 2, FOLLOW_POLL_MAX)
                        continue
                    wait = FOLLOW_POLL
                    if not page and self.hub.live:
                        break
        except Exception as err:  # noqa: BLE001 — reported to the viewers, not fatal to the server
            log.exception("reading session %s from the queue failed", self.hub.session.id)
            self.error = f"could not read the session's readings: {err}"
        finally:
            self._wake()
            it, self._iter = self._iter, None
            if it is not None and hasattr(it, "close"):
                await loop.run_in_executor(self.hub.pool, it.close)

    def _next_page(self) -> Page:
        """Runs in the hub's lane thread: the queue's iterator may block (Kafka)."""
        hub = self.hub
        if self.closed:  # closed while this call waited for the lane: no work for nobody
            return []
        if self._following and self.end >= hub.total:
            return []  # a live read has nothing stored to take yet: taking more would wait on the queue
        if self._iter is None:
            # a live session's read stays open at its position and takes each reading as it comes
            # (not one read per growth from the session's start: docs/live.md, bench/results/live.md)
            self._following = hub.live and hub.position is not None
            self._iter = iter(
                hub.queue().replay(hub.session.id, hub.position, self.end, count=hub.total, follow=self._following)
            )
        gaps = hub.gap_ends
        page: Page = []
        for r in self._iter:
            page.append((r, r.ts in gaps))
            if len(page) >= PER_CALL or (self._following and r.seq + 1 >= hub.total):
                break
        else:
            if hub.live and not self._following:  # read to what was there (no position yet): open again next time
                it, self._iter = self._iter, None
                if hasattr(it, "close"):
                    it.close()
        hub.pages_read += 1
        return page

    def _append(self, page: Page) -> None:
        if self.closed:
            return
        for r, after_gap in page:
            if r.seq < self.end:
                continue  # a redelivered record: the queue is at-least-once
            if r.seq > self.end:
                raise BackendUnavailable(f"the queue skipped readings {self.end}..{r.seq - 1}")
            self.readings.append(r, after_gap)
        if not page and self.end < self.hub.total and not self.hub.live and not self._following:
            raise BackendUnavailable(f"the queue holds {self.end} of the session's {self.hub.total} readings")
        self._trim()
        self._wake()

    def _trim(self) -> None:
        """Drop what every viewer has passed, but BEHIND readings; in pages, so deletes stay rare."""
        low = min(self.viewers.values(), default=self.end) - BEHIND
        drop = min(low - self.base, len(self.readings))
        if drop >= PER_CALL:
            self.readings.drop(drop)

    def _wake(self) -> None:
        grown, self._grown = self._grown, asyncio.Event()
        grown.set()

    def close(self) -> asyncio.Task[None] | None:
        """Stop reading (the reader's iterator is closed in its thread) and free the readings."""
        self.closed = True
        self.readings = Columns(self.readings.base)
        self._wanted.set()
        self._wake()
        return self._task


class SessionHub:
    """One session's summary and its windows; the windows share the hub's lane thread."""

    def __init__(
        self, session: Session, queue: Callable[[], ReadingQueue], position: QueuePosition | None, pool: Executor
    ) -> None:
        self.session = session
        self.total = session.readings
        self.queue = queue  # this thread's queue: adapters need not be thread-safe
        self.position = position
        self.pool = pool
        self.gap_ends = {a.end for a in session.anomalies if a.kind is Kind.GAP}
        self.windows: list[Window] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.viewers = 0
        self.idle_since = time.monotonic()
        self.pages_read = 0  # for tests and the bench: a window reads each page once
        self.live = False  # being recorded: total grows (serve/live.py follows it), windows wait at the end
        self.listeners: set[Callable[[], None]] = set()  # players to wake when a live session grows or ends
        self.learners: set[Callable[[list[Anomaly]], None]] = set()  # players told of new live anomalies
        self.events_stored, self.event_seqs = len(session.anomalies), dict[EventKey, int]()  # serve/live.py
        self.known: set[EventKey] = {event_key(a) for a in session.anomalies}

    def grown(
        self, session: Session, position: QueuePosition | None, live: bool, seqs: dict[EventKey, int] | None = None
    ) -> None:
        """The store's session now: more readings, a position, new anomalies (with ``seqs``), or finalized."""
        if session.readings == self.total and live == self.live and position == self.position and seqs is None:
            return
        stub = seqs is None and live  # only the count: the summary and anomalies as they were
        new = [] if stub else take_summary(self, session, seqs)
        self.session.readings = max(self.session.readings, session.readings)
        self.total = max(self.total, session.readings)
        self.position = self.position or position
        self.live = live
        for w in self.windows:
            if w.viewers:
                w.want(max(w.viewers.values()))
                w._wanted.set()
            w._wake()
        for learn in list(self.learners) if new else ():  # before the pokes: these go before ``end``
            learn(new)
        for poke in list(self.listeners):
            poke()

    def attach(self, viewer: object, seq: int) -> Window:
        """The window ``viewer`` reads ``seq`` from: a window that holds it (or nearly), else a new one."""
        for w in self.windows:
            usable = not w.closed and w.error is None and (seq < w.end or not w.full)
            if usable and w.base <= seq <= w.end + PER_CALL:
                break
        else:
            w = Window(self, seq)
            self.windows.append(w)
        w.at(viewer, seq)
        return w

    def detach(self, viewer: object, window: Window) -> None:
        """``viewer`` leaves; the last window left is kept (one per hub) for whoever comes next.

        A viewer that reconnects, or a client asking for ``replay`` again and again, then finds
        its readings ready instead of making the lane read them once more.
        """
        window.viewers.pop(viewer, None)
        if not window.viewers and window.idle_since is None:
            window.idle_since = time.monotonic()
        idle = sorted((w for w in self.windows if w.idle_since is not None), key=lambda w: w.idle_since or 0.0)
        for w in idle[:-IDLE_WINDOWS] if IDLE_WINDOWS else idle:
            self._close(w)

    def _close(self, window: Window) -> None:
        if window in self.windows:
            self.windows.remove(window)
        task = window.close()
        if task is not None and not task.done():
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def move(self, viewer: object, window: Window, seq: int) -> Window:
        """``viewer`` ran past a full window: it goes on in another one."""
        window.viewers.pop(viewer, None)  # before attach, so it never picks this window again
        new = self.attach(viewer, seq)
        self.detach(viewer, window)
        return new

    def buffered(self) -> int:
        """Readings held in memory by this hub's windows (for tests and logs)."""
        return sum(len(w.readings) for w in self.windows)

    async def close(self) -> None:
        for w in list(self.windows):
            self._close(w)
        for task in list(self._closing):
            with contextlib.suppress(Exception):
                await task


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
        self.live_ids: Callable[[], dict[str, LiveMark]] = dict  # the sessions being recorded now (serve/live.py)
        self._follower: LiveFollower | None = None

    def __len__(self) -> int:
        return len(self._hubs)

    def get(self, session_id: str) -> SessionHub | None:
        return self._hubs.get(session_id)

    def buffered(self) -> int:
        return sum(h.buffered() for h in self._hubs.values())

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
        elif hub.live and self._follower is not None:  # opened before: the anomalies found since, its end
            await self._follower.refresh(session_id, hub)
        hub.viewers += 1
        return hub

    async def _open(self, session_id: str) -> SessionHub | None:
        lane = self._lanes[zlib.crc32(session_id.encode()) % len(self._lanes)]
        follower = self._follower = self._follower or LiveFollower(self._store, self.position_of, self.live_ids)

        def load() -> tuple[Session, QueuePosition | None, bool] | None:  # one lane call (200 hubs opening at once)
            session = self._store().get(session_id)
            return None if session is None else (session, self.position_of(session_id), follower.is_live(session_id))

        if (loaded := await asyncio.get_running_loop().run_in_executor(lane, load)) is None:
            return None
        hub = SessionHub(loaded[0], self._queue, loaded[1], lane)
        if loaded[2]:
            hub.live = True
            follower.add(session_id, hub)
        self._hubs[session_id] = hub
        return hub

    def release(self, hub: SessionHub) -> None:
        hub.viewers -= 1
        if hub.viewers <= 0:
            hub.idle_since = time.monotonic()

    async def sweep(self, idle: float = IDLE_SECONDS) -> None:
        """Drop hubs nobody watched for ``idle`` seconds."""
        now = time.monotonic()
        for sid, hub in list(self._hubs.items()):
            if hub.viewers <= 0 and now - hub.idle_since >= idle:
                del self._hubs[sid]
                if self._follower is not None:
                    self._follower.remove(sid)
                await hub.close()

    async def forget(self, session_id: str) -> None:
        """A deleted session: its hub goes now (anyone still watching it gets ``replay_failed``)."""
        hub = self._hubs.pop(session_id, None)
        if self._follower is not None:
            self._follower.remove(session_id)
        if hub is not None:
            await hub.close()

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.close()
        for hub in self._hubs.values():
            await hub.close()
        self._hubs.clear()
