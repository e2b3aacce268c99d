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
