"""serve's cache of overview/events scans is bounded in bytes, not only in sessions, and a session of
many events keeps its scan, not its encoded pages."""

from __future__ import annotations

import asyncio
import json
from array import array
from collections.abc import Callable
from typing import Any

from hrviz.adapters.serve import explore
from hrviz.adapters.serve.explore import Explored, Explorer
from hrviz.core.model import Anomaly, Kind, Reading, Session
from tests.unit.fakes import MemoryStore


def test_sessions_of_many_events_do_not_grow_the_cache_past_its_budget() -> None:
    """Before: 256 sessions were kept whatever their size; one of 100,000 events (a 4 MB CSV of
    spikes) encodes to ~25 MB, and serve grew ~55 MB for good with each such session replayed."""
    explorer = Explorer()
    scanned: list[str] = []

    async def with_store(fn: Callable[[Any], Explored]) -> Explored:
        scanned.append(fn.args[0].id)  # type: ignore[attr-defined]  # partial(_scan, session)
        size = 3 * 2**20 if len(scanned) % 2 else 6 * 2**20  # 3 MB and 6 MB of messages, alternately
        return Explored("x" * size, array("q"), array("q"), [])

    async def play() -> None:
        for i in range(40):
            session = Session(id=f"s{i}", source="spiky.csv", subject=None, fingerprint=f"f{i}")
            ex = await explorer.explored(with_store, session)
            assert ex.size() >= 3 * 2**20
        again = Session(id="s38", source="spiky.csv", subject=None, fingerprint="f38")
        await explorer.explored(with_store, again)  # a 3 MB one, recently used: still cached

    asyncio.run(play())
    held = sum(ex.size() for ex in explorer._cache.values())
    assert held <= 32 * 2**20, f"{held:,} characters cached"  # explore.CACHED_CHARS
    assert scanned.count("s38") == 1 and len(scanned) == 40
    explorer.forget("s38")
    assert sum(ex.size() for ex in explorer._cache.values()) == explorer._chars


def test_a_live_session_is_encoded_for_each_viewer_and_its_older_entry_dropped() -> None:
    """A live session grows (readings, anomalies found so far): a cached overview would show the
    first viewer's moment to every later one; and what was cached before it went live again (a
    restarted ``ingest --follow``) is stale once it ends."""
    explorer = Explorer()
    encoded: list[str] = []

    async def with_store(fn: Callable[[Any], Explored]) -> Explored:
        encoded.append(fn.args[0].id)  # type: ignore[attr-defined]  # partial(_scan, session)
        return Explored(f"v{len(encoded)}", array("q"), array("q"), [])

    async def messages(s: Session, live: bool = False) -> list[str]:
        return [(await explorer.explored(with_store, s, live)).overview]

    async def play() -> list[list[str]]:
        s = Session(id="s-live", source="strap.csv", subject=None, fingerprint="f")
        first = await messages(s)  # finished: cached
        assert await messages(s) == first and len(encoded) == 1
        live = [await messages(s, live=True) for _ in range(2)]
        ended = await messages(s)  # finished again: encoded anew, then cached
        return [first, *live, ended, await messages(s)]

    got = asyncio.run(play())
    assert got == [["v1"], ["v2"], ["v3"], ["v4"], ["v4"]] and explorer._chars == 2


class Out:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def put(self, message: str) -> None:
        self.sent.append(message)

    async def drained(self, keep: int = 0) -> None:
        await asyncio.sleep(0)


def test_a_session_of_many_events_is_scanned_once_and_its_pages_are_the_same(monkeypatch: Any) -> None:
    """Pages over PAGES_KEPT are not kept but encoded as they are sent: the same messages, and the
    session's readings are not read again for the next viewer."""
    store = MemoryStore()
    spikes = [Anomaly(Kind.SPIKE, 1000.0 + t, 1000.0 + t, 200.0, 60.0, 140.0) for t in range(4999, 0, -2)]
    session = Session(id="s1", source="s.csv", subject=None, fingerprint="f1", readings=5000, anomalies=spikes)
    session.start, session.end = 1000.0, 5999.0
    store.sessions[session.id] = session
    store.rows[session.id] = [Reading(i, 1000.0 + i, 60.0 + i % 9) for i in range(5000)]
    reads: list[int] = []
    real = store.readings

    def counted(sid: str, first: int = 0) -> Any:
        reads.append(first)
        return real(sid, first)

    monkeypatch.setattr(store, "readings", counted)

    async def with_store(fn: Callable[[Any], Any]) -> Any:
        return fn(store)

    async def view(explorer: Explorer) -> list[str]:
        out = Out()
        await explorer.send_overview(with_store, out, session)
        return out.sent

    kept = asyncio.run(view(Explorer()))
    monkeypatch.setattr(explore, "PAGES_KEPT", 100_000)  # less than this session's 3 pages
    explorer = Explorer()
    sent = asyncio.run(view(explorer))
    assert sent == kept and len(sent) == 1 + 3 and sum(map(len, sent[1:])) > 100_000
    assert asyncio.run(view(explorer)) == kept
    assert reads == [0, 0]  # a scan for each explorer above, none for the second viewer
    (ex,) = explorer._cache.values()
    assert ex.pages is None and len(ex.seqs) == len(spikes)
    events = [e for text in sent[1:] for e in json.loads(text)["events"]]
    assert [e["t_start"] for e in events] == sorted(a.start for a in spikes)
    assert all(e["seq"] == e["t_start"] - 1000.0 for e in events)


def test_the_scan_of_a_session_read_block_by_block_is_the_overview_of_all_its_readings(tmp_path: Any) -> None:
    """The scan streams the stored blocks into the buckets and keeps none of the readings: its
    output is the overview built from the whole list at once, wherever the blocks were cut."""
    from hrviz.adapters.store.sqlite import SqliteStore
    from hrviz.core import protocol
    from hrviz.core.model import ReadingBatch
    from hrviz.core.overview import build

    readings = [
        Reading(i, 1000.0 + i * 1.5, 50.0 + (i * 37) % 90, i % 11 == 0, ("spike",) if i % 97 == 0 else ())
        for i in range(3000)
    ]
    readings += [Reading(3000 + i, 9000.0 + i, 70.0) for i in range(500)]  # after a long gap
    events = [Anomaly(Kind.GAP, 5500.0, 9000.0), Anomaly(Kind.SPIKE, 1145.5, 1145.5), Anomaly(Kind.DROP, 9999.0, 1e4)]
    store = SqliteStore(tmp_path / "db.sqlite3")
    session = Session(id="s1", source="s.csv", subject=None, fingerprint="f1", readings=3500, anomalies=events)
    session.start, session.end = 1000.0, 9499.0
    writer = store.begin(session)
    for start, stop in [(0, 1), (1, 8), (8, 1111), (1111, 2999), (2999, 3001), (3001, 3500)]:
        writer.add_readings(ReadingBatch.of(readings[start:stop]))
    writer.commit(session)
    stored = store.get("s1")
    assert stored is not None
    ex = explore._scan(stored, store)
    whole = build(1000.0, 9499.0, events, readings)
    assert ex.overview == protocol.dumps({"type": "overview", "session_id": "s1", **whole.as_dict()})
    overview = json.loads(ex.overview)
    assert sum(overview["count"]) == 3500 and overview["first"][0] == 0 and overview["first"][-1] == 3492
    assert list(ex.seqs) == [97, 3000, 3499] and list(ex.order) == [1, 0, 2]  # by start; the last after the end
    assert ex.pages is not None and [e["seq"] for e in json.loads(ex.pages[0])["events"]] == [97, 3000, 3499]
    store.close()


def test_viewers_opening_a_session_together_share_one_scan() -> None:
    """A serve start: the 5 viewers of each of 200 sessions ask for its overview within a second.
    Before, each asked the store for its own scan while the first was still running (1,000 scans
    and JSON encodings instead of 200, in the threads competing with the event loop)."""
    explorer = Explorer()
    scanned: list[str] = []
    release = asyncio.Event()

    async def with_store(fn: Callable[[Any], Explored]) -> Explored:
        scanned.append(fn.args[0].id)  # type: ignore[attr-defined]  # partial(_scan, session)
        await release.wait()  # the scan takes a while: the other viewers arrive meanwhile
        return Explored(f"overview {len(scanned)}", array("q"), array("q"), [])

    async def play() -> list[str]:
        s = Session(id="s1", source="a.csv", subject=None, fingerprint="f")
        viewers = [asyncio.ensure_future(explorer.explored(with_store, s)) for _ in range(5)]
        await asyncio.sleep(0.01)
        viewers[0].cancel()  # the first viewer leaves: the others' scan goes on
        release.set()
        got = [(await v).overview for v in viewers[1:]]
        return [*got, (await explorer.explored(with_store, s)).overview]

    assert asyncio.run(play()) == ["overview 1"] * 5
    assert scanned == ["s1"]
