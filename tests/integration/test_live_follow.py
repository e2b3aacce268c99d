"""A live session's hub follows its Kafka partition: one open read at its position, not a read from the
session's start at every new reading (bench/results/live.md: 500 live sessions on 6 partitions fell
behind, each growth re-scanning the other sessions' records since the session's first)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from confluent_kafka import Producer

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.serve.hub import SessionHub
from hrviz.core import protocol
from hrviz.core.model import Session
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
