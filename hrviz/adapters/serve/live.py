"""Following live sessions from the store (docs/live.md): their hubs' totals grow as ingest stores.

One loop per server, not one per session: every :data:`POLL` seconds, while any open hub is live,
one query (``Backends.live_ids``) gives every live session with its count of stored readings; a
hub whose count grew learns it (and its queue position, once), wakes its windows (which read the
new readings from the queue: the store, or Kafka from the recorded position) and its players
(which send them at once when they are at the live edge). A session no longer listed was
finalized: its summary and anomalies are read once and the hub stops being live. The store is the
one truth shared by every ``serve`` process, so several servers on one database and one Kafka all
follow the same session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Protocol

from hrviz.core.model import Kind, Session
from hrviz.core.ports import QueuePosition, SessionStore

log = logging.getLogger("hrviz.serve")

POLL = 0.05  # seconds between two looks at the live sessions
FRESH = 0.5  # seconds the last look's live sessions are trusted by a hub opening


class LiveHub(Protocol):
    session: Session
    total: int
    live: bool
    position: QueuePosition | None
    gap_ends: set[float]

    def grown(self, session: Session, position: QueuePosition | None, live: bool) -> None: ...


class LiveFollower:
    """Polls the store for the live hubs of one server, in a thread of its own."""

    def __init__(
        self,
        store: Callable[[], SessionStore],
        position_of: Callable[[str], QueuePosition | None],
        live_ids: Callable[[], dict[str, int]],
    ) -> None:
        self._store = store
        self._position_of = position_of
        self._live_ids = live_ids
        self._hubs: dict[str, LiveHub] = {}
        self._task: asyncio.Task[None] | None = None
        self._pool: Executor = ThreadPoolExecutor(1, thread_name_prefix="hrviz-live")
        self._seen: tuple[dict[str, int], float] = ({}, 0.0)  # the last answer of live_ids, and when

    def is_live(self, session_id: str) -> bool:
        """Whether the session is being recorded (call in a worker thread). A session in the last
        look's answer (at most :data:`FRESH` s old) is taken as live without asking again: 500
        viewers opening at a serve start made 500 queries of every live session. One finalized
        since is found at the next look; one not in it is asked about (it may have just begun)."""
        seen, at = self._seen
        if session_id in seen and time.monotonic() - at < FRESH:
            return True
        return session_id in self._remember(self._live_ids())

    def _remember(self, live: dict[str, int]) -> dict[str, int]:
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
            for sid, (session, position, live) in changes.items():
                hub = self._hubs.get(sid)
                if hub is None:
                    continue
                hub.grown(session, position, live)
                if not live:
                    self.remove(sid)

    def _look(self, hubs: dict[str, LiveHub]) -> dict[str, tuple[Session, QueuePosition | None, bool]]:
        """What changed: hubs whose count grew (their new summary) and hubs finalized (in full)."""
        live = self._remember(self._live_ids())
        changes: dict[str, tuple[Session, QueuePosition | None, bool]] = {}
        for sid, hub in hubs.items():
            count = live.get(sid)
            if count is not None and count == hub.total:
                continue
            position = hub.position or self._position_of(sid)
            if count is not None:
                grown = Session(id=sid, source=hub.session.source, subject=hub.session.subject, fingerprint="")
                grown.readings = count
                changes[sid] = (grown, position, True)
                continue
            session = self._store().get(sid)  # finalized: the summary with its anomalies
            if session is not None:
                changes[sid] = (session, position, False)
        return changes

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._hubs.clear()
        self._pool.shutdown(wait=False)
