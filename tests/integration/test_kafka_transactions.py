"""Kafka transactions around a session being stored (docs/outbox.md), on the real broker.

An ingest produces its session's records into a Kafka transaction while the store writes it and
commits the transaction after the store's commit. What must hold: a read_committed consumer (any
other consumer of the topic, the Kafka default) never sees a record of a session that was not
stored; hrviz's own replays read uncommitted, so an open transaction never stalls them; every
way the transaction can fail leaves the session to ``publish_pending``, as before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ingest import publish_pending
from hrviz.core.model import Reading, ReadingBatch
from tests import services
from tests.integration.conftest import make_readings, make_session

pytestmark = pytest.mark.kafka


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "t.sqlite3")
    yield s
    s.close()


@pytest.fixture
def kafka(kafka_topic: str) -> Iterator[KafkaQueue]:
    q = KafkaQueue(services.require("kafka"), kafka_topic, partitions=1)
    yield q
    q.close()


def stored(store: SqliteStore, sid: str, n: int) -> list[Reading]:
    session = make_session(sid, n)
    writer = store.begin(session)
    readings = make_readings(n)
    for i in range(0, n, 5000):
        writer.add_readings(ReadingBatch.of(readings[i : i + 5000]))
    writer.commit(session)
    return readings


def visible(topic: str, isolation: str, partitions: int = 1, settle: float = 3.0) -> list[tuple[bytes, int]]:
    """(key, seq) of every record a consumer with this isolation level gets from the topic's start,
    reading until nothing new came for ``settle`` seconds."""
    consumer = Consumer(
        {
            "bootstrap.servers": services.require("kafka"),
            "group.id": f"hrviz-test-{uuid.uuid4().hex[:8]}",
            "isolation.level": isolation,
            "log_level": 0,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: list[tuple[bytes, int]] = []
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < settle:
            msgs = [m for m in consumer.consume(1000, 0.2) if m.error() is None]
            if msgs:
                quiet_since = time.monotonic()
            for m in msgs:
                value = m.value() or b""
                start = value.index(b'"seq":') + 6 if b'"seq":' in value else -1
                seq = int(value[start : value.index(b",", start)]) if start >= 0 else -1
                got.append((m.key() or b"", seq))
    finally:
        consumer.close()
    return got


def open_transaction(topic: str, key: bytes, n: int) -> Producer:
    """Another producer's transaction, left open, holding ``n`` records of ``key`` on partition 0."""
    producer = Producer(
        {"bootstrap.servers": services.require("kafka"), "transactional.id": f"t-{uuid.uuid4().hex}", "log_level": 0}
    )
    producer.init_transactions(20)
    producer.begin_transaction()
    for i in range(n):
        producer.produce(topic, b'{"session":"other","seq":%d,"x":1}' % i, key, partition=0)
    producer.flush(20)
    return producer


def test_replays_read_past_an_open_transaction_without_waiting_for_it(kafka: KafkaQueue, store: SqliteStore) -> None:
    """serve's consumer reads uncommitted: a session published after another's open transaction
    on the same partition replays at once; a read_committed consumer would wait for that transaction."""
    kafka.ensure_topic()
    other = open_transaction(kafka.topic, b"other", 50)
    try:
        readings = stored(store, "s-after", 2_000)
        assert publish_pending(store, kafka).failed is None
        position = store.position("s-after")
        assert position is not None and position.first_offset >= 50
        started = time.monotonic()
        assert list(kafka.replay("s-after", position, 0, count=2_000)) == readings
        assert list(kafka.replay("s-after", position, 1_500)) == readings[1_500:]  # no count: to the end
        assert time.monotonic() - started < 10
        assert visible(kafka.topic, "read_committed", settle=1.0) == []  # held back behind the open one
    finally:
        other.abort_transaction(20)
    assert len(visible(kafka.topic, "read_committed")) == 2_000  # the aborted records never show


def test_a_replay_without_a_count_ends_at_a_commit_marker(kafka: KafkaQueue, store: SqliteStore) -> None:
    """The last offset of a partition after a transaction is its commit marker, never delivered:
    a replay to the partition's end must still end there (and not time out waiting)."""
    readings = stored(store, "s-end", 300)
    assert publish_pending(store, kafka).failed is None
    position = store.position("s-end")
    other = open_transaction(kafka.topic, b"other", 10)
    other.commit_transaction(20)
    started = time.monotonic()
    assert list(kafka.replay("s-end", position, 0)) == readings
    assert time.monotonic() - started < 10
