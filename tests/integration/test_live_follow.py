"""A live session's hub follows its Kafka partition: one open read at its position, not a read from the
session's start at every new reading (bench/results/live.md: 500 live sessions on 6 partitions fell
behind, each growth re-scanning the other sessions' records since the session's first)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from confluent_kafka import Producer

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.queue.records import RecordEncoder
from hrviz.adapters.serve.hub import SessionHub
from hrviz.adapters.serve.viewer import PacingStats, Player
from hrviz.core import protocol
from hrviz.core.model import Reading, Session
from tests import services
from tests.integration.conftest import make_readings, make_session

OTHERS = 40  # sessions interleaved on the same partition, one record each per reading of the live one
READINGS = 40


@pytest.fixture
def kafka(kafka_topic: str) -> Iterator[KafkaQueue]:
    q = KafkaQueue(services.require("kafka"), kafka_topic, partitions=1)
    yield q
    q.close()


def test_a_live_hub_takes_each_new_reading_from_its_open_read(kafka: KafkaQueue) -> None:
    session = make_session("s-live", 1)
    readings = make_readings(READINGS)
    noise = Producer({"bootstrap.servers": kafka.bootstrap, "log_level": 0})
    pool = ThreadPoolExecutor(1)
    position = kafka.publish(session, readings[:1])
    assert position is not None

    async def scenario() -> tuple[list[str], int]:
        hub = SessionHub(make_session("s-live", 1), lambda: kafka, position, pool)
        hub.live = True
        viewer = object()
        window = hub.attach(viewer, 0)
        assert await asyncio.wait_for(window.wait_for(0), 15)
        for n in range(1, READINGS):
            for other in range(OTHERS):  # the other live sessions' readings of this second
                noise.produce(kafka.topic, value=b"{}", key=f"s-other-{other}".encode())
            noise.flush(10)
            await asyncio.get_running_loop().run_in_executor(None, kafka.publish, session, readings[n : n + 1])
            grown = Session(id="s-live", source=session.source, subject=None, fingerprint="", readings=n + 1)
            hub.grown(grown, position, live=True)
            assert await asyncio.wait_for(window.wait_for(n), 15), n
            window.at(viewer, n + 1)
        messages = [window.message(seq) for seq in range(window.base, window.end)]
        await hub.close()
        return messages, hub.pages_read

    try:
        messages, _ = asyncio.run(scenario())
    finally:
        pool.shutdown()
    tz = session.tz_offset_min
    assert messages == [protocol.reading(r, tz, False) for r in readings]  # each seq once, in order
    consumer = kafka._consumer
    assert consumer is not None
    on_partition = READINGS * (OTHERS + 1)
    # one pass over the partition (1,640 records); a read re-opened per reading from the session's
    # start would fetch ~OTHERS x READINGS^2 / 2 = 32,000
    assert consumer.records_seen <= on_partition + 100, consumer.records_seen


def test_a_live_read_that_stays_open_ends_with_the_finalized_session(kafka: KafkaQueue) -> None:
    """Finalized while its read is open: the window takes the rest up to the final count and completes."""
    session = make_session("s-fin", 1)
    readings = make_readings(10)
    pool = ThreadPoolExecutor(1)
    position = kafka.publish(session, readings[:3])
    assert position is not None

    async def scenario() -> tuple[int, bool]:
        hub = SessionHub(make_session("s-fin", 3), lambda: kafka, position, pool)
        hub.live = True
        window = hub.attach(object(), 0)
        assert await asyncio.wait_for(window.wait_for(2), 15)
        await asyncio.get_running_loop().run_in_executor(None, kafka.publish, session, readings[3:])
        hub.grown(make_session("s-fin", 10), position, live=False)
        assert await asyncio.wait_for(window.wait_for(9), 15)
        assert not await asyncio.wait_for(window.wait_for(10), 15)  # the end: no more, no wait
        end, ok = window.end, window.error is None and window.complete
        await hub.close()
        return end, ok

    try:
        assert asyncio.run(scenario()) == (10, True)
    finally:
        pool.shutdown()


class _SlowQueue:
    """Every reading there already; the first read takes ``delay`` (a window opening in a busy serve)."""

    def __init__(self, n: int, delay: float) -> None:
        self.readings = make_readings(n)
        self.delay = delay

    def replay(
        self, session_id: str, position: object, from_seq: int = 0, *, count: int | None = None, follow: bool = False
    ) -> Iterator[Reading]:
        time.sleep(self.delay)
        self.delay = 0.0
        return iter(self.readings[from_seq:])


class _Out:
    def __init__(self) -> None:
        self.sent: list[tuple[int, float]] = []

    def put(self, message: str) -> None:
        msg = json.loads(message)
        if msg["type"] == "reading":
            self.sent.append((msg["seq"], time.monotonic()))

    async def drained(self, keep: int = 0) -> None:
        return None


@pytest.mark.parametrize("at_edge", [True, False])
def test_a_viewer_opened_at_the_live_edge_is_not_paced_behind_it(at_edge: bool) -> None:
    """Readings stored while its window opened go at once; paced at 1x it would stay that far behind.

    (``at_edge=False`` is a viewer that asked for an earlier position: it replays at its speed.)"""
    pool = ThreadPoolExecutor(1)
    out = _Out()

    async def scenario() -> float:
        hub = SessionHub(make_session("s-edge", 5), lambda: _SlowQueue(20, 0.6), None, pool)  # type: ignore[arg-type,return-value]
        hub.live = True
        player = Player(hub, out, 5, 1.0, False, PacingStats(), live_edge=at_edge)  # type: ignore[arg-type]
        player.start()
        await asyncio.sleep(0.1)
        hub.grown(make_session("s-edge", 10), None, live=True)  # five more stored while the window opens
        opened = time.monotonic()
        while len(out.sent) < 5 and time.monotonic() - opened < 3:
            await asyncio.sleep(0.01)
        await player.stop()
        await hub.close()
        return opened

    try:
        opened = asyncio.run(scenario())
    finally:
        pool.shutdown()
    if at_edge:
        assert [seq for seq, _ in out.sent] == [5, 6, 7, 8, 9]
        assert out.sent[-1][1] - opened < 1.0  # at once when the window has them (paced: 4 s more)
    else:
        seqs = [seq for seq, _ in out.sent]
        assert 1 <= len(seqs) < 5 and seqs == list(range(5, 5 + len(seqs)))  # one a second: 4 s for five


def test_live_windows_opening_on_a_busy_partition_start_at_their_own_records(kafka: KafkaQueue) -> None:
    """A serve start: live windows open one after another on a partition the other live sessions
    fill. Each starts at its record's offset, known from what the shared consumer already fetched;
    at ``first_offset + seq`` each one rewound the partition to about its session's start, and the
    consumer fetched every session's records again, once per window (bench/results/live.md)."""
    sessions = [make_session(f"s-busy-{k:02d}", READINGS) for k in range(OTHERS)]
    readings = make_readings(READINGS + 1)
    positions = [kafka.publish(s, readings[:1]) for s in sessions]
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "log_level": 0})
    encoders = [RecordEncoder(s.id, s.tz_offset_min) for s in sessions]
    for n in range(1, READINGS):  # a second at a time: one reading of every session
        for s, encoder in zip(sessions, encoders, strict=True):
            producer.produce(kafka.topic, encoder.encode(readings[n]), s.id.encode())
    producer.flush(10)
    pool = ThreadPoolExecutor(1)

    async def scenario() -> tuple[int, list[str]]:
        hubs, windows = [], []
        for s, position in zip(sessions, positions, strict=True):  # each opened at its edge, in turn
            hub = SessionHub(make_session(s.id, READINGS), lambda: kafka, position, pool)
            hub.live = True
            window = hub.attach(object(), READINGS - 1)
            assert await asyncio.wait_for(window.wait_for(READINGS - 1), 15)
            hubs.append(hub)
            windows.append(window)
        consumer = kafka._consumer
        assert consumer is not None
        opening = consumer.records_seen
        for s, encoder in zip(sessions, encoders, strict=True):  # the next second: each gets its reading
            producer.produce(kafka.topic, encoder.encode(readings[READINGS]), s.id.encode())
        producer.flush(10)
        got = []
        for hub, window in zip(hubs, windows, strict=True):
            hub.grown(make_session(hub.session.id, READINGS + 1), hub.position, live=True)
            assert await asyncio.wait_for(window.wait_for(READINGS), 15)
            got.append(window.message(READINGS))
        for hub in hubs:
            await hub.close()
        return opening, got

    try:
        opening, got = asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert got == [protocol.reading(readings[READINGS], s.tz_offset_min, False) for s in sessions]
    on_partition = READINGS * OTHERS
    # the first window's pass over the partition, then a short step back per window (to its own
    # last record): 2,341 records; from each session's first offset + seq it was 61,660
    assert opening <= 3 * on_partition, opening
