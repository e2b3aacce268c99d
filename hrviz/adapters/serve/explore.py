"""What the page needs to explore a session rather than only watch it (docs/api.md, "history",
"overview", "events"): the readings before the replay position in a few column pages, the whole
session drawn small, and every event with the seq that reaches it.

Read from the store, not the queue: these are one pass over stored readings, and a viewer must get
them at once (a reload mid-replay, a jump), not at the replay's pace.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from itertools import islice
from typing import Protocol, TypeVar

from hrviz.core import protocol
from hrviz.core.model import Kind, Session, anomaly_dict
from hrviz.core.overview import HISTORY_PAGE, Overview, build, history_page
from hrviz.core.ports import SessionStore

T = TypeVar("T")
EVENTS_PAGE = 1000  # events per "events" message (~250 KB)
CACHED = 16  # overviews kept (a few KB each, whatever the session's length)


class Outgoing(Protocol):
    def put(self, message: str) -> None: ...

    async def drained(self, keep: int = 0) -> None: ...


WithStore = Callable[[Callable[[SessionStore], T]], Awaitable[T]]


class Explorer:
    """Overviews cached per session (a session never changes once stored; a delete drops it)."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, Overview] = OrderedDict()

    def forget(self, session_id: str) -> None:
        self._cache.pop(session_id, None)

    async def overview(self, with_store: WithStore[Overview], session: Session) -> Overview:
        ov = self._cache.get(session.id)
        if ov is None:
            ov = await with_store(
                lambda store: build(session.start, session.end, session.anomalies, store.readings(session.id))
            )
            self._cache[session.id] = ov
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        self._cache.move_to_end(session.id)
        return ov

    async def send_overview(self, with_store: WithStore[Overview], out: Outgoing, session: Session) -> None:
        """``overview`` then every event in ``events`` pages (their count says when the list is whole)."""
        ov = await self.overview(with_store, session)
        out.put(protocol.dumps({"type": "overview", "session_id": session.id, **ov.as_dict()}))
        tz = session.tz_offset_min
        events = [
            {**anomaly_dict(a, tz), "t_start": a.start, "t_end": a.end, "seq": seq}
            for a, seq in zip(ov.ordered, ov.event_seqs, strict=True)
        ]
        for i in range(0, max(1, len(events)), EVENTS_PAGE):
            page = events[i : i + EVENTS_PAGE]
            out.put(
                protocol.dumps(
                    {"type": "events", "session_id": session.id, "offset": i, "total": len(events), "events": page}
                )
            )
            await out.drained(2)


async def send_history(
    with_store: WithStore[str | None], out: Outgoing, session: Session, start: int, stop: int
) -> None:
    """Readings [start, stop) as ``history`` pages, each sent before the next is queued."""
    if start >= stop:
        return
    gap_ends = frozenset(a.end for a in session.anomalies if a.kind is Kind.GAP)

    def page(store: SessionStore, first: int) -> str | None:
        """One page from ``first``: a fresh read that seeks there, so only one page is ever held
        (history from 0 to the end of 10M readings was a list of 10M readings)."""
        it = store.readings(session.id, first)
        try:
            rows = list(islice(it, min(HISTORY_PAGE, stop - first)))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        if not rows:
            return None
        last = first + len(rows) >= stop
        return protocol.dumps({**history_page(rows, gap_ends), "session_id": session.id, "last": last})

    for first in range(start, stop, HISTORY_PAGE):
        text = await with_store(partial(page, first=first))
        if text is None:
            break
        out.put(text)
        await out.drained(1)
