"""One viewer: its own replay clock and cursor over a shared hub, and its own bounded send queue.

Why a bounded send queue and a separate sender task: the replay loop never awaits the socket, so a
slow or dead viewer cannot delay anyone; when its send queue holds more than SEND_QUEUE_BYTES it is
disconnected (it will reconnect and ``resume_from`` where it was) instead of making the server
buffer without limit. The bound is in bytes, not messages: one client asking for big replies
must not hold more memory than one asking for small ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from websockets.exceptions import ConnectionClosed

from hrviz.adapters.serve.hub import SessionHub, Window
from hrviz.adapters.serve.live import event_key
from hrviz.core import protocol
from hrviz.core.model import Anomaly
from hrviz.core.replay import EventCursor, ReplayClock

log = logging.getLogger("hrviz.serve")

SEND_QUEUE_BYTES = 1 << 20  # queued per connection: ~6,000 readings, 100 s of 60x; only a stalled one fills it
MESSAGE_OVERHEAD = 64  # bytes counted per queued message on top of its text (the str object itself)
BURST = 2000  # readings sent in one wake at most; beyond that the clock restarts (no catch-up flood)
DRAIN_EVERY = 200  # within a burst, let the queue empty after this many readings


class SendQueue:
    """Messages for one connection, written by one sender task in order."""

    def __init__(
        self, send: Callable[[str], Awaitable[None]], on_overflow: Callable[[], None], limit: int = SEND_QUEUE_BYTES
    ) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._send = send
        self._on_overflow = on_overflow
        self.limit = limit
        self.queued = 0  # bytes waiting, counted as len(text) + MESSAGE_OVERHEAD
        self.overflowed = False
        self._moved = asyncio.Event()  # set when the queue shrinks or the sender stops (wakes drained)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, message: str) -> None:
        if self.overflowed:
            return
        cost = len(message) + MESSAGE_OVERHEAD
        if self.queued + cost > self.limit:
            self.overflowed = True
            self._drop()
            self._on_overflow()
            return
        self.queued += cost
        self._queue.put_nowait(message)

    def _drop(self) -> None:
        """Free what is queued: the connection is closed anyway, and the client resumes."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self.queued = 0
        self._moved.set()

    async def _run(self) -> None:
        try:
            while True:
                message = await self._queue.get()
                self.queued = max(0, self.queued - len(message) - MESSAGE_OVERHEAD)
                self._moved.set()
                try:
                    await self._send(message)
                except ConnectionClosed:
                    self._drop()
                    return  # the handler cleans up
                except Exception:  # noqa: BLE001 — one message that cannot be sent must not end the sender
                    log.exception("could not send a message; dropped it")
        finally:
            self._moved.set()

    async def flush(self, timeout: float = 2.0) -> None:
        """Give queued messages a moment to leave (before a deliberate close)."""
        end = time.monotonic() + timeout
        while not self._queue.empty() and time.monotonic() < end and not self._task.done():
            await asyncio.sleep(0.01)

    async def drained(self, keep: int = 0) -> None:
        """Wait until at most ``keep`` messages are queued: big replies and "max" speed go at the
        pace the client reads them, instead of piling up here."""
        # woken by the sender, not by polling: a client that never reads must cost no CPU
        while self._queue.qsize() > keep and not self._task.done() and not self.overflowed:
            self._moved.clear()
            await self._moved.wait()

    def close(self) -> None:
        self._task.cancel()
        self._drop()


class PacingStats:
    """How late the server itself emits ticks (wake-up time minus due time), for logs and benches."""

    def __init__(self, keep: int = 200_000) -> None:
        self.samples: deque[float] = deque(maxlen=keep)

    def summary(self) -> str:
        if not self.samples:
            return "pacing: no ticks"
        s = sorted(self.samples)
        p50, p99 = s[len(s) // 2], s[min(len(s) - 1, int(len(s) * 0.99))]
        ms = [f"{x * 1000:.2f}" for x in (p50, p99, s[-1])]
        return f"pacing: {len(s)} ticks, lateness p50 {ms[0]} ms, p99 {ms[1]} ms, max {ms[2]} ms"


class Player:
    """Replays one hub to one send queue at this viewer's pace; controls wake it at once."""

    def __init__(
        self,
        hub: SessionHub,
        out: SendQueue,
        from_seq: int,
        speed: float,
        paused: bool,
        pacing: PacingStats,
        *,
        live_edge: bool = False,
    ) -> None:
        self.hub = hub
        self._pacing = pacing
        self._out = out
        self.clock = ReplayClock(speed=speed, paused=paused)
        self.next_seq = min(from_seq, hub.total)
        self.first_seq = self.next_seq  # readings [first_seq, next_seq) are on their way to the client
        self._cursor = EventCursor(hub.session.anomalies)
        self._reached: float | None = None  # the time of the last reading sent: events up to it are sent
        # the window holds the reading before the first one sent: the event cursor seeks by its time
        self.window: Window = hub.attach(self, max(0, self.next_seq - 1))
        self._wake: asyncio.Future[None] | None = None
        self._ended = False
        # caught up with a live session: each new reading goes at once, unpaced. A viewer opened at
        # the edge is there from the start: readings stored while its window opened (seconds, with
        # 500 live sessions on Kafka) would otherwise be paced at 1x, a lag it never made up
        self._edge = live_edge
        self._task: asyncio.Task[None] | None = None
        hub.listeners.add(self._poke)
        hub.learners.add(self._learn)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.hub.listeners.discard(self._poke)
        self.hub.learners.discard(self._learn)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.hub.detach(self, self.window)

    # -- controls (called from the connection's receive loop) -------------------------------------

    def pause(self) -> None:
        self.clock.pause(time.monotonic())
        self._poke()

    def resume(self) -> None:
        self.clock.resume(time.monotonic())
        self._poke()

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(time.monotonic(), speed)
        self._poke()

    def state(self) -> dict[str, object]:
        return {"type": "state", "paused": self.clock.paused, "speed": self.clock.speed, "seq": self.next_seq - 1}

    def _learn(self, new: list[Anomaly]) -> None:
        """Anomalies of a live session found while this viewer watches (docs/live.md): one whose start
        it has passed is sent now, with the seq of the reading that reached it (sent already, since
        the detector tells a spike only once it is over); the others when the replay reaches them."""
        known = {event_key(a) for a in self._cursor.events}
        new = [a for a in new if event_key(a) not in known]  # a viewer opened after the store had it
        if not new:
            return
        hub = self.hub
        if self._reached is not None:
            last = self.next_seq - 1
            for a in sorted(new, key=lambda a: (a.start, a.end)):
                if a.start <= self._reached:
                    seq = min(hub.event_seqs.get(event_key(a), last), last)
                    self._out.put(protocol.anomaly(a, hub.session.tz_offset_min, seq))
        self._cursor = EventCursor([*self._cursor.events, *new])
        if self._reached is not None:
            self._cursor.seek(self._reached)

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- the loop ---------------------------------------------------------------------------------

    async def _ready(self, seq: int) -> bool:
        """Wait for reading ``seq``; moves to another window when this one is full of slower viewers."""
        while not await self.window.wait_for(seq):
            w = self.window
            if not w.full or w.error is not None or w.closed or seq >= self.hub.total:
                return False
            self.window = self.hub.move(self, w, seq)
        return True

    async def _run(self) -> None:
        hub = self.hub
        if self.next_seq > 0 and await self._ready(self.next_seq - 1):
            self._reached = self.window.ts_at(self.next_seq - 1)
            self._cursor.seek(self._reached)  # events up to here were sent before the drop
        if self.next_seq < hub.total and not await self._ready(self.next_seq):
            self._fail()
            return
        self.clock.start(time.monotonic(), self.next_seq)
        loop = asyncio.get_running_loop()
        while True:
            # never ask a paused clock: right after start() it would still hand out one reading
            owed = 0 if self.clock.paused else self.clock.due(time.monotonic())
            if self._edge and not self.clock.paused:
                owed = hub.total - self.next_seq  # the live edge: drawn when it arrives (docs/live.md)
            burst = min(owed, BURST, hub.total - self.next_seq)
            for i in range(burst):
                if not await self._emit(self.next_seq):
                    return
                if i % DRAIN_EVERY == DRAIN_EVERY - 1:
                    await self._out.drained(DRAIN_EVERY // 4)  # "max" speed: the viewer's pace
                    if self.clock.paused:
                        break
            if burst < owed and self.next_seq < hub.total:
                self.clock.start(time.monotonic(), self.next_seq)  # what could not go now is not owed later
            if self.next_seq >= hub.total and hub.live:
                self._edge = True  # wait for the session to grow: the hub pokes
                due = None
            elif self.next_seq >= hub.total:
                if not self._ended:
                    self._ended = True
                    self._out.put(protocol.dumps({"type": "end", "session_id": hub.session.id, "seq": hub.total - 1}))
                due = None
            else:
                self.window.want(self.next_seq)
                due = self.clock.next_at(time.monotonic())
            self._wake = loop.create_future()
            handle = None if due is None else loop.call_at(_loop_time(loop, due), self._poke)
            try:
                await self._wake
            finally:
                if handle is not None:
                    handle.cancel()
                self._wake = None
            if due is not None and not self.clock.paused:
                late = time.monotonic() - due
                if late >= 0:  # woken by the timer, not by a control
                    self._pacing.samples.append(late)

    async def _emit(self, seq: int) -> bool:
        hub = self.hub
        if seq >= hub.total:
            return True
        if seq >= self.window.end:
            started = time.monotonic()
            if not await self._ready(seq):
                self._fail()
                return False
            if time.monotonic() - started > 0.25 and not self.clock.paused:
                self.clock.start(time.monotonic(), seq)  # late data: no burst to catch up
                self.clock.due(time.monotonic())
        # events first: a viewer holding reading ``seq`` holds every event reached by then
        w = self.window
        tz = hub.session.tz_offset_min
        self._reached = w.ts_at(seq)
        for a in self._cursor.reached(self._reached):
            self._out.put(protocol.anomaly(a, tz, seq))
        self._out.put(w.message(seq))
        self.next_seq = seq + 1
        w.at(self, self.next_seq)
        return True

    def _fail(self) -> None:
        self._out.put(protocol.error("replay_failed", self.window.error or "the session's readings are not available"))


def _loop_time(loop: asyncio.AbstractEventLoop, monotonic_at: float) -> float:
    """Map a ``time.monotonic`` deadline onto the loop's clock (the same clock on CPython, but not promised)."""
    return loop.time() + (monotonic_at - time.monotonic())
