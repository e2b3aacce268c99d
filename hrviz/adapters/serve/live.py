"""Following a live session from the store (docs/live.md): its hub's total grows as ingest stores.

Every :data:`POLL` seconds, while the session is flagged live and anyone may watch it, the hub's
lane thread reads the session's summary (its count of readings), its queue position and the
live flag; the hub then wakes its windows (which read the new readings from the queue: the
store, or Kafka from the recorded position) and its players (which send them at once when they
are at the live edge). The store is the one truth shared by every ``serve`` process, so several
servers on one database and one Kafka all follow the same session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor

from hrviz.core.model import Session
from hrviz.core.ports import QueuePosition, SessionStore

log = logging.getLogger("hrviz.serve")

POLL = 0.05  # seconds between two looks at a live session's summary


class Growing:
    """What a hub needs to follow its session: the store's view of it, read in the lane thread."""

    def __init__(
        self,
        store: Callable[[], SessionStore],
        position_of: Callable[[str], QueuePosition | None],
        live_ids: Callable[[], set[str]],
    ) -> None:
        self._store = store
        self._position_of = position_of
        self._live_ids = live_ids

    def is_live(self, session_id: str) -> bool:
        return session_id in self._live_ids()

    def look(self, session_id: str) -> tuple[Session | None, QueuePosition | None, bool]:
        live = self.is_live(session_id)  # first: a session finalized meanwhile is then read whole
        return self._store().get(session_id), self._position_of(session_id), live


async def follow(hub: object, lane: Executor, growing: Growing, session_id: str) -> None:
    """Poll until the session is finalized (or the hub closes); ``hub`` is a SessionHub."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(POLL)
        try:
            session, position, live = await loop.run_in_executor(lane, growing.look, session_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 — a store hiccup: look again next time
            log.exception("following live session %s failed", session_id)
            continue
        if session is None:
            return
        hub.grown(session, position, live)  # type: ignore[attr-defined]
        if not live:
            return
