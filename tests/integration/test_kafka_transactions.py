"""Kafka transactions around a session being stored (docs/outbox.md), on the real broker.

An ingest produces its session's records into a Kafka transaction while the store writes it and
commits the transaction after the store's commit. What must hold: a read_committed consumer (any
other consumer of the topic, the Kafka default) never sees a record of a session that was not
stored; hrviz's own replays read uncommitted, so an open transaction never stalls them; every
way the transaction can fail leaves the session to ``publish_pending``, as before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ingest import publish_pending
from hrviz.core.model import Reading, ReadingBatch, Session
from hrviz.core.ports import QueuePosition, SessionWriter
from hrviz.core.staging import StagingStore
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


def stable_to_the_end(topic: str) -> bool:
    """No open transaction on partition 0: its last stable offset (the end a read_committed consumer
    is given) has reached its high watermark, and something was written."""
    ends = []
    for isolation in ("read_committed", "read_uncommitted"):
        config = {"bootstrap.servers": services.require("kafka"), "group.id": "hrviz-test-lso"}
        consumer = Consumer({**config, "isolation.level": isolation, "log_level": 0})
        try:
            ends.append(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)[1])
        finally:
            consumer.close()
    return ends[1] > 0 and ends[0] == ends[1]


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


# -- the transaction around a session being stored ------------------------------------------------


def begin(store: SqliteStore, kafka: KafkaQueue, sid: str, n: int) -> tuple[Session, SessionWriter, list[Reading]]:
    """A session being stored as ingest stores it (wiring's StagingStore), readings handed in batches."""
    session = make_session(sid, n)
    writer = StagingStore(store, kafka).begin(session)
    readings = make_readings(n)
    for i in range(0, n, 5000):
        writer.add_readings(ReadingBatch.of(readings[i : i + 5000]))
    return session, writer, readings


def ready(kafka: KafkaQueue) -> None:
    txn = kafka.transactions()
    assert txn is not None and txn.ready.wait(30) and txn.error is None, txn and txn.error


def seqs(records: list[tuple[bytes, int]], sid: str) -> list[int]:
    return [seq for key, seq in records if key == sid.encode()]


def test_a_session_is_produced_in_a_transaction_visible_to_read_committed_only_after_the_stores_commit(
    kafka: KafkaQueue, store: SqliteStore
) -> None:
    ready(kafka)
    session, writer, readings = begin(store, kafka, "s-txn", 12_000)
    assert len(seqs(visible(kafka.topic, "read_uncommitted"), "s-txn")) == 12_000  # sent while storing
    assert visible(kafka.topic, "read_committed", settle=1.0) == []  # but not committed
    writer.commit(session)
    assert store.unpublished() == []  # published with the commit: nothing left for publish_pending
    assert store.position("s-txn") == QueuePosition(0, 0)  # seq 0's own offset
    assert publish_pending(store, kafka).published == []
    assert seqs(visible(kafka.topic, "read_committed"), "s-txn") == list(range(12_000))
    assert list(kafka.replay("s-txn", store.position("s-txn"), 0, count=12_000)) == readings


def test_an_aborted_store_aborts_the_transaction_and_the_next_session_gets_one(
    kafka: KafkaQueue, store: SqliteStore
) -> None:
    ready(kafka)
    _, writer, _ = begin(store, kafka, "s-gone", 7_000)
    writer.abort()
    txn = kafka.transactions()
    assert txn is not None and txn.idle(30)  # aborted in the background: the store's abort does not wait
    session, writer, readings = begin(store, kafka, "s-next", 3_000)
    writer.commit(session)
    assert store.unpublished() == [] and store.get("s-gone") is None
    committed = visible(kafka.topic, "read_committed")
    assert seqs(committed, "s-gone") == [] and seqs(committed, "s-next") == list(range(3_000))
    assert list(kafka.replay("s-next", store.position("s-next"), 0, count=3_000)) == readings


def test_a_fenced_transaction_leaves_the_session_to_publish_pending(kafka: KafkaQueue, store: SqliteStore) -> None:
    """Another producer with the same transactional.id fences ours (as a zombie's successor would):
    the commit fails, the mark stays at -1, and publish_pending sends the session from its file
    staging after the store's commit; read_committed consumers see it exactly once."""
    ready(kafka)
    session, writer, readings = begin(store, kafka, "s-fenced", 9_000)
    txn = kafka.transactions()
    assert txn is not None
    fencer = Producer(
        {"bootstrap.servers": services.require("kafka"), "transactional.id": txn.transactional_id, "log_level": 0}
    )
    fencer.init_transactions(30)
    writer.commit(session)
    assert [(b.session_id, b.published_upto) for b in store.unpublished()] == [("s-fenced", -1)]
    _unreadable(store)
    report = publish_pending(store, kafka)
    assert report.failed is None and report.published == ["s-fenced"]
    assert seqs(visible(kafka.topic, "read_committed"), "s-fenced") == list(range(9_000))
    assert list(kafka.replay("s-fenced", store.position("s-fenced"), 0, count=9_000)) == readings


def test_a_producer_set_up_after_the_first_batches_catches_up_from_the_file(
    kafka: KafkaQueue, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    set_up = kafka._prepare_topic

    def slow_set_up() -> None:  # the broker answers late: the store must not wait for it
        assert gate.wait(30)
        set_up()

    monkeypatch.setattr(kafka, "_prepare_topic", slow_set_up)
    session = make_session("s-late", 15_000)
    writer = StagingStore(store, kafka).begin(session)
    readings = make_readings(15_000)
    started = time.monotonic()
    writer.add_readings(ReadingBatch.of(readings[:5_000]))
    writer.add_readings(ReadingBatch.of(readings[5_000:10_000]))
    assert time.monotonic() - started < 5
    gate.set()
    ready(kafka)
    writer.add_readings(ReadingBatch.of(readings[10_000:]))  # the first two batches go first, from the file
    writer.commit(session)
    assert store.unpublished() == [] and store.position("s-late") == QueuePosition(0, 0)
    assert seqs(visible(kafka.topic, "read_committed"), "s-late") == list(range(15_000))


def test_an_unreachable_broker_neither_slows_nor_fails_the_store(store: SqliteStore) -> None:
    queue = KafkaQueue("127.0.0.1:1", "hrviz.test.down")
    try:
        started = time.monotonic()
        session, writer, _ = begin(store, queue, "s-down", 20_000)
        writer.commit(session)
        assert time.monotonic() - started < 5  # the set-up's probe alone may take 5 s: nobody waits for it
        assert [(b.session_id, b.published_upto) for b in store.unpublished()] == [("s-down", -1)]
        report = publish_pending(store, queue)
        assert report.failed is not None and report.failed.startswith("Kafka broker at 127.0.0.1:1 ")
    finally:
        queue.close()


def _unreadable(store: SqliteStore) -> None:
    """From now on, reading the store's readings fails the test (publishing must not need it)."""

    def readings(session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        raise AssertionError("the store was read")
        yield

    store.readings = readings  # type: ignore[method-assign]


CRASH_AT_THE_KAFKA_COMMIT = """
import os, signal, sys
import hrviz.adapters.queue.transaction as t

t.TRANSACTION_TIMEOUT_MS = 20_000  # the broker aborts the orphan sooner (message.timeout.ms is 15 s)
add = t.TransactionalStaging.add

def add_when_ready(self, batch):  # a small file: let the transaction start with its first batch
    self._txn.ready.wait(30)
    add(self, batch)

def commit(self, session):  # the store has committed; the process dies before Kafka's commit,
    self._txn._producer.flush(10)  # its records on the broker (not only in its local queue)
    os.kill(os.getpid(), signal.SIGKILL)

t.TransactionalStaging.add, t.TransactionalStaging.commit = add_when_ready, commit
from hrviz.cli import app
app(prog_name="hrviz")
"""


def test_a_process_killed_between_the_two_commits_is_published_by_the_next_run(
    kafka_topic: str, tmp_path: Path
) -> None:
    """SIGKILL after the store's commit, before Kafka's: the session is stored with its mark at -1;
    its transaction is never committed (the broker aborts it when it times out), so read_committed
    consumers never see those records; ``ingest --resume`` publishes the session, exactly once."""
    csv = tmp_path / "crash.csv"
    rows = "".join(f"2026-03-14T07:{i // 60 % 60:02d}:{i % 60:02d}Z,{60 + i % 50}\n" for i in range(3_000))
    csv.write_text("timestamp,bpm\n" + rows)
    db = tmp_path / "crash.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | {"HRVIZ_KAFKA_TOPIC": kafka_topic}
    args = ["--db", str(db), "--kafka", services.require("kafka")]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AT_THE_KAFKA_COMMIT, "ingest", str(csv), *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    store = SqliteStore(db)
    try:
        ((box),) = store.unpublished()
        assert (box.published_upto, box.readings) == (-1, 3_000)
        assert len(seqs(visible(kafka_topic, "read_uncommitted", partitions=6), box.session_id)) == 3_000
        resumed = subprocess.run(
            [sys.executable, "-m", "hrviz", "ingest", "--resume", *args],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert store.unpublished() == []
        deadline = time.monotonic() + 60  # the orphan holds read_committed back until the broker aborts it
        committed = seqs(visible(kafka_topic, "read_committed", partitions=6), box.session_id)
        while len(committed) < 3_000 and time.monotonic() < deadline:
            committed = seqs(visible(kafka_topic, "read_committed", partitions=6), box.session_id)
        assert committed == list(range(3_000))  # the resumed publish only: the orphan's copies never show
        queue = KafkaQueue(services.require("kafka"), kafka_topic)
        try:
            replayed = list(queue.replay(box.session_id, store.position(box.session_id), 0, count=3_000))
        finally:
            queue.close()
        assert replayed == list(store.readings(box.session_id))
    finally:
        store.close()


def test_an_ingest_outlasting_the_transaction_timeout_is_published_after_the_commit(
    kafka_topic: str, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file can take longer than ``transaction.timeout.ms``: the broker aborts the transaction
    under the ingest's feet. The store must not notice; the commit then fails, the mark stays at -1
    and publish_pending sends the session from its file staging: read_committed sees it exactly once."""
    from hrviz.adapters.queue import transaction

    monkeypatch.setattr(transaction, "TRANSACTION_TIMEOUT_MS", 2_000)  # 60 s in real life
    queue = KafkaQueue(services.require("kafka"), kafka_topic, partitions=1, message_timeout_ms=2_000)
    try:
        ready(queue)
        session, writer, readings = begin(store, queue, "s-slow", 10_000)
        deadline = time.monotonic() + 60  # the broker looks for timed-out transactions every 10 s
        while not stable_to_the_end(queue.topic) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stable_to_the_end(queue.topic), "the broker did not abort the transaction"
        more = make_readings(12_000)[10_000:]
        writer.add_readings(ReadingBatch.of(more))
        session.readings = 12_000
        writer.commit(session)
        assert [(b.session_id, b.published_upto) for b in store.unpublished()] == [("s-slow", -1)]
        report = publish_pending(store, queue)
        assert report.failed is None and report.published == ["s-slow"]
        assert seqs(visible(queue.topic, "read_committed"), "s-slow") == list(range(12_000))
        replayed = list(queue.replay("s-slow", store.position("s-slow"), 0, count=12_000))
        assert replayed == readings + more
    finally:
        queue.close()
