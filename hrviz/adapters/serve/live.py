"""Following live sessions from the store (docs/live.md): their hubs' totals grow as ingest stores.

One loop per server, not one per session: every :data:`POLL` seconds, while any open hub is live,
one query (``Backends.live_ids``) gives every live session with its count of stored readings; a
hub whose count grew learns it (and its queue position, once), wakes its windows (which read the
new readings from the queue: the store, or Kafka from the recorded position) and its players
(which send them at once when they are at the live edge). The same query gives each session's
count of stored anomalies: only when it moved is the session read again, and the hub learns the
new anomalies with the seq of the reading that reaches each (its viewers get them as ``anomaly``
messages). A session no longer listed was finalized: its summary and anomalies are read once and
the hub stops being live. The store is the
one truth shared by every ``serve`` process, so several servers on one database and one Kafka all
follow the same session.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Protocol

from hrviz.core.model import Anomaly, Kind, Session
from hrviz.core.ports import LiveMark, QueuePosition, SessionStore

log = logging.getLogger("hrviz.serve")

POLL = 0.05  # seconds between two looks at the live sessions
FRESH = 0.5  # seconds the last look's live sessions are trusted by a hub opening
BACK = 64  # readings read back from a live session's end to find the seq reaching a new anomaly (then x8)

EventKey = tuple[str, float, float]  # an anomaly's kind, start and end: how a client tells events apart


def event_key(a: Anomaly) -> EventKey:
    return (a.kind.value, a.start, a.end)


class LiveHub(Protocol):
    session: Session
    total: int
    live: bool
    position: QueuePosition | None
    gap_ends: set[float]
    events_stored: int  # the store's count of the session's anomalies when the hub last read them
    known: set[EventKey]  # the anomalies the hub's viewers have been given (or will be, by their cursor)
    event_seqs: dict[EventKey, int]  # a new anomaly -> the seq of the reading that reaches it

    def grown(
        self, session: Session, position: QueuePosition | None, live: bool, seqs: dict[EventKey, int] | None = None
    ) -> None: ...


def take_summary(hub: LiveHub, session: Session, seqs: dict[EventKey, int] | None) -> list[Anomaly]:
    """``hub`` takes the summary the store has (with every anomaly so far); the anomalies its viewers
    have not been given are returned, their reaching seqs (``seqs``) kept for the viewers."""
    new = [a for a in session.anomalies if event_key(a) not in hub.known]
    hub.session = session
    hub.gap_ends = {a.end for a in session.anomalies if a.kind is Kind.GAP}
    hub.events_stored = len(session.anomalies)
    hub.known.update(map(event_key, new))
    hub.event_seqs.update(seqs or {})
    return new


class LiveFollower:
    """Polls the store for the live hubs of one server, in a thread of its own."""

    def __init__(
        self,
        store: Callable[[], SessionStore],
        position_of: Callable[[str], QueuePosition | None],
        live_ids: Callable[[], dict[str, LiveMark]],
    ) -> None:
        self._store = store
        self._position_of = position_of
        self._live_ids = live_ids
        self._hubs: dict[str, LiveHub] = {}
        self._task: asyncio.Task[None] | None = None
        self._pool: Executor = ThreadPoolExecutor(1, thread_name_prefix="hrviz-live")
        self._seen: tuple[dict[str, LiveMark], float] = ({}, 0.0)  # the last answer of live_ids, and when

    def is_live(self, session_id: str) -> bool:
        """Whether the session is being recorded (call in a worker thread). A session in the last
        look's answer (at most :data:`FRESH` s old) is taken as live without asking again: 500
        viewers opening at a serve start made 500 queries of every live session. One finalized
        since is found at the next look; one not in it is asked about (it may have just begun)."""
        seen, at = self._seen
        if session_id in seen and time.monotonic() - at < FRESH:
            return True
        return session_id in self._remember(self._live_ids())

    def _remember(self, live: dict[str, LiveMark]) -> dict[str, LiveMark]:
        self._seen = (live, time.monotonic())
        return live

    def add(self, session_id: str, hub: LiveHub) -> None:
        self._hubs[session_id] = hub
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, session_id: str) -> None:
        self._hubs.pop(session_id, None)

    async def refresh(self, session_id: str, hub: LiveHub) -> None:
        """The live session as the store has it now, for a viewer opening an open hub: the anomalies
        ingest stored since the hub opened (it stores them as it finds them), the summary so far.
        The count stays the one the hub follows (its windows read up to it)."""
        held = hub.session
        fresh = await asyncio.get_running_loop().run_in_executor(self._pool, lambda: self._store().get(session_id))
        if fresh is None or not hub.live or hub.session is not held:  # deleted, or finalized meanwhile
            return
        fresh.readings = hub.total
        hub.session = fresh
        hub.gap_ends = {a.end for a in fresh.anomalies if a.kind is Kind.GAP}

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._hubs:
            await asyncio.sleep(POLL)
            try:
                changes = await loop.run_in_executor(self._pool, self._look, dict(self._hubs))
            except Exception:  # noqa: BLE001 — a store hiccup: look again next time
                log.exception("following the live sessions failed")
                continue
            for sid, (session, position, live, seqs) in changes.items():
                hub = self._hubs.get(sid)
                if hub is None:
                    continue
                hub.grown(session, position, live, seqs)
                if not live:
                    self.remove(sid)

    def _look(
        self, hubs: dict[str, LiveHub]
    ) -> dict[str, tuple[Session, QueuePosition | None, bool, dict[EventKey, int] | None]]:
        """What changed: hubs whose count grew (their new count; the whole summary when anomalies were
        stored since, with the seq reaching each new one) and hubs finalized (in full)."""
        live = self._remember(self._live_ids())
        changes: dict[str, tuple[Session, QueuePosition | None, bool, dict[EventKey, int] | None]] = {}
        for sid, hub in hubs.items():
            mark = live.get(sid)
            if mark is not None and mark.readings == hub.total and mark.anomalies == hub.events_stored:
                continue
            position = hub.position or self._position_of(sid)
            if mark is not None and mark.anomalies == hub.events_stored:
                grown = Session(id=sid, source=hub.session.source, subject=hub.session.subject, fingerprint="")
                grown.readings = mark.readings
                changes[sid] = (grown, position, True, None)
                continue
            session = self._store().get(sid)  # new anomalies, or finalized: the summary with its anomalies
            if session is None:
                continue
            if mark is not None:
                session.readings = max(mark.readings, hub.total)  # the count the windows read up to
            new = [a for a in session.anomalies if event_key(a) not in hub.known]
            reaching = self._reaching(sid, [a.start for a in new], session.readings)
            seqs = dict(zip(map(event_key, new), reaching, strict=True))
            changes[sid] = (session, position, mark is not None, seqs)
        return changes

    def _reaching(self, sid: str, starts: list[float], total: int) -> list[int]:
        """The seq of the first reading at or after each start (``total`` when none is stored yet),
        read back from the session's end: a live anomaly is found a few readings after its start."""
        if not starts:
            return []
        back = BACK
        while True:
            first = max(0, total - back)
            readings = self._store().readings(sid, first)
            try:
                got = [(r.ts, r.seq) for r in itertools.islice(readings, total - first)]
            finally:
                getattr(readings, "close", lambda: None)()  # a generator holding a cursor
            if first == 0 or not got or got[0][0] <= min(starts):
                ts = [t for t, _ in got]
                at = [bisect_left(ts, start) for start in starts]
                return [got[i][1] if i < len(got) else total for i in at]
            back *= 8

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._hubs.clear()
        self._pool.shutdown(wait=False)
