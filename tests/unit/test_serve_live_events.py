"""serve: a live session's anomalies found while viewers watch reach each viewer once (docs/api.md,
``replay``): one whose start a viewer passed at once with its reaching seq, one ahead of it before
the reading that reaches it, none again for a viewer that opened knowing it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hrviz.adapters.serve.hub import SessionHub
from hrviz.adapters.serve.live import event_key
from hrviz.adapters.serve.viewer import PacingStats, Player
from hrviz.core.model import Anomaly, Kind, Reading, Session

T0 = 1_700_000_000.0


class _Queue:
    """Every reading of the session, as a queue hands them out (the live stores' share of the fakes)."""

    def __init__(self, n: int) -> None:
        self.readings = [Reading(i, T0 + i, 70.0) for i in range(n)]

    def replay(
        self, session_id: str, position: object, from_seq: int = 0, *, count: int | None = None, follow: bool = False
    ) -> Iterator[Reading]:
        return iter(self.readings[from_seq:count])


class _Out:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def put(self, message: str) -> None:
        self.sent.append(json.loads(message))

    async def drained(self, keep: int = 0) -> None:
        return None

    def kinds(self) -> list[tuple[str, int]]:
        return [(m["type"], m["seq"]) for m in self.sent if m["type"] in ("reading", "anomaly")]


def session(readings: int, *anomalies: Anomaly) -> Session:
    s = Session(id="s-live", source="live.csv", subject=None, fingerprint="f")
    s.readings, s.start, s.end, s.anomalies = readings, T0, T0 + readings - 1, list(anomalies)
    return s


SPIKE = Anomaly(Kind.SPIKE, T0 + 3, T0 + 3, 150.0, 70.0, 80.0)  # found after reading 3 went
DROP = Anomaly(Kind.DROP, T0 + 12, T0 + 12, 30.0, 70.0, -40.0)  # found before reading 12 went


def test_each_new_live_anomaly_reaches_each_viewer_once_in_replay_order() -> None:
    pool = ThreadPoolExecutor(1)
    first, later = _Out(), _Out()
    queue = _Queue(20)

    async def until(out: _Out, seq: int) -> None:
        for _ in range(300):
            if any(m["type"] == "reading" and m["seq"] == seq for m in out.sent):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"reading {seq} never sent: {out.kinds()}")

    async def scenario() -> None:
        hub = SessionHub(session(10), lambda: queue, None, pool)  # type: ignore[arg-type,return-value]
        hub.live = True
        player = Player(hub, first, 0, 1_000_000, False, PacingStats())  # type: ignore[arg-type]
        player.start()
        await until(first, 9)  # the live edge: 0..9 sent
        hub.grown(session(10, SPIKE), None, True, {event_key(SPIKE): 3})
        hub.session = session(10, SPIKE, DROP)  # a viewer opening now reads it from the store (refresh)
        other = Player(hub, later, 10, 1_000_000, False, PacingStats(), live_edge=True)  # type: ignore[arg-type]
        other.start()
        hub.grown(session(15, SPIKE, DROP), None, True, {event_key(DROP): 12})
        await until(first, 14)
        await until(later, 14)
        hub.grown(session(15, SPIKE, DROP), None, False, {})  # finalized: nothing new
        await asyncio.sleep(0.05)
        for p in (player, other):
            await p.stop()
        await hub.close()

    try:
        asyncio.run(scenario())
    finally:
        pool.shutdown()
    sent = first.kinds()
    assert sent.count(("anomaly", 3)) == 1 and sent.count(("anomaly", 12)) == 1, sent
    assert sent.index(("anomaly", 3)) == sent.index(("reading", 9)) + 1  # at once, after the edge it had reached
    assert sent.index(("anomaly", 12)) == sent.index(("reading", 12)) - 1  # just before the reading reaching it
    assert [k for k in later.kinds() if k[0] == "anomaly"] == [("anomaly", 12)]  # it knew of the spike: not again
    assert later.kinds().index(("anomaly", 12)) == later.kinds().index(("reading", 12)) - 1
    assert [m["type"] for m in first.sent][-1] == "end"
