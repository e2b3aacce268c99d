"""serve's cache of encoded overview/events messages is bounded in bytes, not only in sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hrviz.adapters.serve.explore import Explorer
from hrviz.core.model import Session
from hrviz.core.ports import SessionStore


def test_sessions_of_many_events_do_not_grow_the_cache_past_its_budget() -> None:
    """Before: 256 sessions were kept whatever their size; one of 100,000 events (a 4 MB CSV of
    spikes) encodes to ~25 MB, and serve grew ~55 MB for good with each such session replayed."""
    explorer = Explorer()
    encoded: list[str] = []

    async def with_store(fn: Callable[[SessionStore], list[str]]) -> list[str]:
        encoded.append(fn.args[0].id)  # type: ignore[attr-defined]  # partial(_encode, session)
        size = 3 * 2**20 if len(encoded) % 2 else 6 * 2**20  # 3 MB and 6 MB of messages, alternately
        return ["x" * size]

    async def play() -> None:
        for i in range(40):
            session = Session(id=f"s{i}", source="spiky.csv", subject=None, fingerprint=f"f{i}")
            texts = await explorer.messages(with_store, session)
            assert texts and len(texts[0]) >= 3 * 2**20
        again = Session(id="s38", source="spiky.csv", subject=None, fingerprint="f38")
        await explorer.messages(with_store, again)  # a 3 MB one, recently used: still cached

    asyncio.run(play())
    held = sum(len(t) for texts in explorer._cache.values() for t in texts)
    assert held <= 32 * 2**20, f"{held:,} characters cached"  # explore.CACHED_CHARS
    assert encoded.count("s38") == 1 and len(encoded) == 40
    explorer.forget("s38")
    assert sum(len(t) for texts in explorer._cache.values() for t in texts) == explorer._chars


def test_a_live_session_is_encoded_for_each_viewer_and_its_older_entry_dropped() -> None:
    """A live session grows (readings, anomalies found so far): a cached overview would show the
    first viewer's moment to every later one; and what was cached before it went live again (a
    restarted ``ingest --follow``) is stale once it ends."""
    explorer = Explorer()
    encoded: list[str] = []

    async def with_store(fn: Callable[[SessionStore], list[str]]) -> list[str]:
        encoded.append(fn.args[0].id)  # type: ignore[attr-defined]  # partial(_encode, session)
        return [f"v{len(encoded)}"]

    async def play() -> list[list[str]]:
        s = Session(id="s-live", source="strap.csv", subject=None, fingerprint="f")
        first = await explorer.messages(with_store, s)  # finished: cached
        assert await explorer.messages(with_store, s) == first and len(encoded) == 1
        live = [await explorer.messages(with_store, s, live=True) for _ in range(2)]
        ended = await explorer.messages(with_store, s)  # finished again: encoded anew, then cached
        return [first, *live, ended, await explorer.messages(with_store, s)]

    got = asyncio.run(play())
    assert got == [["v1"], ["v2"], ["v3"], ["v4"], ["v4"]] and explorer._chars == 2
