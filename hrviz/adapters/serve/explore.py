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
CACHED = 256  # sessions whose encoded overview and events are kept (a few KB for most sessions)
# ... and at most this many characters in all: a session of 100,000 events (a 4 MB CSV of spikes)
# encodes to ~25 MB, and 256 of those cached grew serve by ~55 MB per replayed session, for good.
CACHED_CHARS = 32 * 2**20
CACHED_ONE = 4 * 2**20  # a session bigger than this is encoded again for each viewer, never kept


class Outgoing(Protocol):
    def put(self, message: str) -> None: ...

    async def drained(self, keep: int = 0) -> None: ...


WithStore = Callable[[Callable[[SessionStore], T]], Awaitable[T]]


class Explorer:
    """Each session's ``overview`` and ``events`` messages, built and encoded once, in a worker
    thread, and cached (a session never changes once stored; a delete drops it).

    Every viewer of a session gets the same text: at a ``serve`` start with 1,000 viewers on 200
    sessions, encoding it per viewer on the event loop was a third of the loop's time, and ticks
    were late."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self._chars = 0  # characters held in the cache

    def forget(self, session_id: str) -> None:
        gone = self._cache.pop(session_id, None)
        self._chars -= sum(map(len, gone or ()))

    async def messages(self, with_store: WithStore[list[str]], session: Session, live: bool = False) -> list[str]:
        """The ``overview`` message, then the ``events`` pages (their count says when the list is whole).
        A ``live`` session grows (readings, anomalies): built for each viewer, never cached, and
        what was cached before it went live (a restarted ``ingest --follow``) is dropped."""
        if live:
            self.forget(session.id)
        cached = self._cache.get(session.id)
        if cached is None or live:
            cached = await with_store(partial(_encode, session))
            size = sum(map(len, cached))
            if size > CACHED_ONE or session.id in self._cache or live:  # too big, cached by a racing call, growing
                return cached
            self._cache[session.id] = cached
            self._chars += size
            while len(self._cache) > CACHED or self._chars > CACHED_CHARS:
                _, dropped = self._cache.popitem(last=False)
                self._chars -= sum(map(len, dropped))
        self._cache.move_to_end(session.id)
        return cached

    async def send_overview(
        self, with_store: WithStore[list[str]], out: Outgoing, session: Session, live: bool = False
    ) -> None:
        for text in await self.messages(with_store, session, live):
            out.put(text)
            await out.drained(2)


def _encode(session: Session, store: SessionStore) -> list[str]:
    ov: Overview = build(session.start, session.end, session.anomalies, store.readings(session.id))
    texts = [protocol.dumps({"type": "overview", "session_id": session.id, **ov.as_dict()})]
    tz = session.tz_offset_min
    events = [
        {**anomaly_dict(a, tz), "t_start": a.start, "t_end": a.end, "seq": seq}
        for a, seq in zip(ov.ordered, ov.event_seqs, strict=True)
    ]
    for i in range(0, max(1, len(events)), EVENTS_PAGE):
        page = {"type": "events", "session_id": session.id, "offset": i, "total": len(events)}
        texts.append(protocol.dumps({**page, "events": events[i : i + EVENTS_PAGE]}))
    return texts


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
