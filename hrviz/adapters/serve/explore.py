"""What the page needs to explore a session rather than only watch it (docs/api.md, "history",
"overview", "events"): the readings before the replay position in a few column pages, the whole
session drawn small, and every event with the seq that reaches it.

Read from the store, not the queue: these are one pass over stored readings, and a viewer must get
them at once (a reload mid-replay, a jump), not at the replay's pace.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any, Protocol, TypeVar

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
CACHED_ONE = 4 * 2**20  # a scan bigger than this is made again for each viewer, never kept
PAGES_KEPT = 4 * 2**20  # events pages bigger than this in all are encoded at each send (~16,000 events)


class Outgoing(Protocol):
    def put(self, message: str) -> None: ...

    async def drained(self, keep: int = 0) -> None: ...


WithStore = Callable[[Callable[[SessionStore], T]], Awaitable[T]]


@dataclass(slots=True)
class Explored:
    """One pass over a session's readings: its ``overview`` message and, per event, the seq that
    reaches it. The ``events`` pages are kept encoded when they are small; a session of many
    events keeps only the seqs (8 bytes an event) and encodes each page as it is sent."""

    overview: str
    order: array[int]  # the events (indices into session.anomalies) by (start, end)
    seqs: array[int]  # per event in that order, the seq of the first reading at or after its start
    pages: list[str] | None  # the encoded "events" pages, or None: encoded at each send

    def size(self) -> int:
        """Characters (or bytes) held: what the cache's budget counts."""
        return len(self.overview) + 16 * len(self.seqs) + sum(map(len, self.pages or ()))


class Explorer:
    """Each session's ``overview`` and ``events`` messages, built once, in a worker thread, and
    cached (a session never changes once stored; a delete drops it).

    Every viewer of a session gets the same text: at a ``serve`` start with 1,000 viewers on 200
    sessions, encoding it per viewer on the event loop was a third of the loop's time, and ticks
    were late. A session with so many events that its pages are big (PAGES_KEPT) keeps only its
    scan, and its pages are encoded one at a time as they are sent, in a worker thread: holding
    them all (per viewer, while they were sent) was ~10 MB for 40,000 events, and building them
    all as dicts first several times that."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, Explored] = OrderedDict()
        self._chars = 0  # characters held in the cache
        # scans under way: the 5 viewers of a session opening together wait for one scan, not 5
        self._scanning: dict[str, asyncio.Future[Explored]] = {}

    def forget(self, session_id: str) -> None:
        gone = self._cache.pop(session_id, None)
        self._chars -= gone.size() if gone is not None else 0

    async def explored(self, with_store: WithStore[Explored], session: Session, live: bool = False) -> Explored:
        """The session's scan (cached). A ``live`` session grows (readings, anomalies): scanned for
        each viewer, never cached, and what was cached before it went live (a restarted
        ``ingest --follow``) is dropped."""
        if live:
            self.forget(session.id)
        cached = self._cache.get(session.id)
        if cached is None or live:
            if live:
                cached = await with_store(partial(_scan, session))
            else:  # one scan for every viewer asking meanwhile: the 5 viewers of a session opening at once
                cached = await asyncio.shield(self._shared_scan(with_store, session))
            size = cached.size()
            if size > CACHED_ONE or session.id in self._cache or live:  # too big, cached by a racing call, growing
                return cached
            self._cache[session.id] = cached
            self._chars += size
            while len(self._cache) > CACHED or self._chars > CACHED_CHARS:
                _, dropped = self._cache.popitem(last=False)
                self._chars -= dropped.size()
        self._cache.move_to_end(session.id)
        return cached

    def _shared_scan(self, with_store: WithStore[Explored], session: Session) -> asyncio.Future[Explored]:
        """The session's scan, one task for every caller meanwhile (none of them cancels it for the others)."""
        task = self._scanning.get(session.id)
        if task is None:
            task = asyncio.ensure_future(with_store(partial(_scan, session)))
            self._scanning[session.id] = task
            task.add_done_callback(lambda t: (self._scanning.pop(session.id, None), t.cancelled() or t.exception()))
        return task

    async def send_overview(
        self, with_store: WithStore[Any], out: Outgoing, session: Session, live: bool = False
    ) -> None:
        """The ``overview`` message, then the ``events`` pages (their count says when the list is whole)."""
        ex = await self.explored(with_store, session, live)
        out.put(ex.overview)
        await out.drained(2)
        if ex.pages is not None:
            for text in ex.pages:
                out.put(text)
                await out.drained(2)
            return
        for first in _page_starts(len(ex.seqs)):
            out.put(await with_store(partial(_events_text, session, ex, first)))
            await out.drained(2)


def _page_starts(events: int) -> range:
    return range(0, max(1, events), EVENTS_PAGE)


def _scan(session: Session, store: SessionStore) -> Explored:
    """Runs in a worker thread: one pass over the stored readings, into fixed-size buckets."""
    ov: Overview = build(session.start, session.end, session.anomalies, store.readings(session.id))
    overview = protocol.dumps({"type": "overview", "session_id": session.id, **ov.as_dict()})
    ex = Explored(overview, array("q", ov.order), array("q", ov.event_seqs), None)
    pages: list[str] = []
    size = 0
    for first in _page_starts(len(ex.seqs)):
        pages.append(_events_page(session, ex, first))
        size += len(pages[-1])
        if size > PAGES_KEPT:
            return ex  # pages None: encoded again as they are sent, never all at once
    ex.pages = pages
    return ex


def _events_text(session: Session, ex: Explored, first: int, store: SessionStore) -> str:
    return _events_page(session, ex, first)  # in a worker thread, as with_store calls it


def _events_page(session: Session, ex: Explored, first: int) -> str:
    """Events [first, first + EVENTS_PAGE) by time, as one ``events`` message (dicts for one page only)."""
    tz, anomalies = session.tz_offset_min, session.anomalies
    events = []
    for i in range(first, min(first + EVENTS_PAGE, len(ex.seqs))):
        a = anomalies[ex.order[i]]
        events.append({**anomaly_dict(a, tz), "t_start": a.start, "t_end": a.end, "seq": ex.seqs[i]})
    page = {"type": "events", "session_id": session.id, "offset": first, "total": len(ex.seqs)}
    return protocol.dumps({**page, "events": events})


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
