"""The ``insights`` and ``export`` messages (docs/api.md): a session's figures, its HTML report and
its readings as CSV, computed in the store's worker thread so the event loop never waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from hrviz.core.errors import SessionGone
from hrviz.core.export import csv_lines
from hrviz.core.insights import backfill, from_store, profile
from hrviz.core.insights.html import render
from hrviz.core.insights.stored import summaries_of
from hrviz.core.insights.zones import bounds
from hrviz.core.ports import SessionStore
from hrviz.core.protocol import ProtocolError

T = TypeVar("T")
TREND_DAYS = 90  # the most recent days with sessions sent to the page
EXPORT_PART = 256 * 1024  # characters of CSV per "export" message: each waits for the last to be sent


class Outbox(Protocol):
    def put(self, message: str) -> None: ...

    async def drained(self, keep: int = 0) -> None: ...


WithStore = Callable[[Callable[[SessionStore], Any]], Awaitable[Any]]


def _insights(store: SessionStore, session_id: str, html: bool) -> dict[str, object] | None:
    found = from_store(store, session_id, profile(), summaries_of(store))
    if found is None:
        return None
    reply: dict[str, object] = {"type": "insights", "session_id": session_id, "insights": found.as_dict()}
    if html:
        reply["html"] = render([found], datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return reply


async def send_insights(with_store: WithStore, send: Callable[[dict[str, object]], None], sid: str, html: bool) -> None:
    reply = await with_store(lambda store: _insights(store, sid, html))
    if reply is None:
        raise ProtocolError("unknown_session", f"no session {sid!r} in the store")
    send(reply)


def _trends(store: SessionStore) -> dict[str, object]:
    p = profile()
    summaries = summaries_of(store)
    if summaries is None:
        return {"type": "trends", "days": [], "max_hr": None}
    backfill(store, summaries, p.max_hr)  # sessions stored before summaries existed: once
    days = summaries.trends(tuple(low for low, _ in bounds(p, None)))
    max_hr = {"bpm": p.max_hr, "source": p.source, "estimate": p.estimated}
    return {"type": "trends", "days": [d.as_dict() for d in days[-TREND_DAYS:]], "max_hr": max_hr}


async def send_trends(with_store: WithStore, send: Callable[[dict[str, object]], None]) -> None:
    send(await with_store(_trends))


async def send_export(with_store: WithStore, out: Outbox, dumps: Callable[[dict[str, object]], str], sid: str) -> None:
    """The CSV in parts of :data:`EXPORT_PART`; the next part is read only once the last is sent."""

    def start(store: SessionStore) -> Any:
        session = store.get(sid)
        return None if session is None else iter(csv_lines(session, store.readings(sid)))

    lines = await with_store(start)
    if lines is None:
        raise ProtocolError("unknown_session", f"no session {sid!r} in the store")

    def take(_: SessionStore) -> str:
        part: list[str] = []
        size = 0
        for chunk in lines:
            part.append(chunk)
            size += len(chunk)
            if size >= EXPORT_PART:
                break
        return "".join(part)

    index = 0
    while True:
        try:
            text = await with_store(take)
        except SessionGone as err:  # the parts sent are incomplete: the page must not save them
            raise ProtocolError("unknown_session", str(err)) from None
        last = len(text) < EXPORT_PART
        out.put(dumps({"type": "export", "session_id": sid, "part": index, "last": last, "csv": text}))
        await out.drained()
        if last:
            return
        index += 1
