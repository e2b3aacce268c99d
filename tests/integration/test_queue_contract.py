"""One contract, two queues: the in-process LocalQueue and the real Kafka broker (a topic per test).

Sessions are stored first (as ``ingest`` does), then published from the outbox, then replayed;
the replay must give every seq exactly once, in order, whatever the publishing history was.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.errors import BackendUnavailable
from hrviz.core.ingest import publish_pending
from hrviz.core.model import Reading, ReadingBatch, format_ts
from hrviz.core.ports import QueuePosition, ReadingQueue, SessionStore
from tests import services
from tests.integration.conftest import make_readings, make_session


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "q.sqlite3")
    yield s
    s.close()


@pytest.fixture(params=["local", "kafka"])
def queue(request: pytest.FixtureRequest, store: SqliteStore) -> Iterator[ReadingQueue]:
    q: ReadingQueue
    if request.param == "local":
        from hrviz.adapters.queue.local import LocalQueue

        q = LocalQueue(store)
    else:
        from hrviz.adapters.queue.kafka import KafkaQueue

        q = KafkaQueue(services.require("kafka"), request.getfixturevalue("kafka_topic"), partitions=1)
    yield q
    q.close()


def stored(store: SessionStore, sid: str, n: int) -> list[Reading]:
    session = make_session(sid, n)
    writer = store.begin(session)
    readings = make_readings(n)
    for i in range(0, n, 5000):
        writer.add_readings(ReadingBatch.of(readings[i : i + 5000]))
    writer.commit(session)
    return readings


def test_outbox_publish_then_replay_round_trip(queue: ReadingQueue, store: SessionStore) -> None:
    readings = stored(store, "s-round", 12_000)
    report = publish_pending(store, queue)
    assert report.failed is None and report.published == ["s-round"] and store.unpublished() == []
    position = store_position(store, "s-round")
    assert list(queue.replay("s-round", position, 0, count=12_000)) == readings
    assert list(queue.replay("s-round", position, 11_000, count=12_000)) == readings[11_000:]
    assert list(queue.replay("s-round", position, 0)) == readings  # no count: up to what the queue holds


def store_position(store: SessionStore, sid: str) -> QueuePosition | None:
    """The recorded position (the outbox row is gone once published, so read it via a re-mark)."""
    store.mark_published(sid, -1, None)  # a no-op update: the mark never moves back
    import sqlite3

    assert isinstance(store, SqliteStore)
    with sqlite3.connect(store.path) as conn:
        part, off = conn.execute("SELECT queue_partition, queue_offset FROM sessions WHERE id = ?", (sid,)).fetchone()
    return None if part is None else QueuePosition(part, off)


def test_interleaved_sessions_on_one_partition_replay_independently(queue: ReadingQueue, store: SessionStore) -> None:
    a, b = stored(store, "s-a", 3_000), stored(store, "s-b", 2_000)
    sa, sb = store.get("s-a"), store.get("s-b")
    assert sa is not None and sb is not None
    pos_a = queue.publish(sa, a[:1_200])
    pos_b = queue.publish(sb, b[:700])
    queue.publish(sa, a[1_200:])  # a's resumed publish lands after b's records
    queue.publish(sb, b[700:])
    if pos_a is not None and pos_b is not None and pos_a.first_offset != pos_b.first_offset:
        assert pos_a.partition == pos_b.partition == 0  # the topic has one partition: truly interleaved
    assert list(queue.replay("s-a", pos_a, 0, count=3_000)) == a
    assert list(queue.replay("s-b", pos_b, 0, count=2_000)) == b


def test_a_replay_from_any_seq_of_an_interleaved_resent_session_is_exactly_its_tail(
    queue: ReadingQueue, store: SessionStore
) -> None:
    """Replay seeks to a seq (a resume near the end must not read the session from its start)."""
    a, b = stored(store, "s-a", 3_000), stored(store, "s-b", 2_000)
    sa, sb = store.get("s-a"), store.get("s-b")
    assert sa is not None and sb is not None
    pos_a = queue.publish(sa, a[:1_200])
    queue.publish(sb, b[:700])
    queue.publish(sa, a[1_000:])  # resumed after a crash: 1,000..1,199 sent twice, after b's records
    queue.publish(sb, b[700:])
    for from_seq in (0, 1, 999, 1_000, 1_199, 1_200, 1_201, 2_500, 2_999, 3_000):
        assert list(queue.replay("s-a", pos_a, from_seq, count=3_000)) == a[from_seq:], from_seq


def test_a_resumed_publish_that_resends_records_is_replayed_exactly_once(
    queue: ReadingQueue, store: SessionStore
) -> None:
    readings = stored(store, "s-dup", 5_000)
    session = store.get("s-dup")
    assert session is not None
    position = queue.publish(session, readings[:3_000])
    queue.publish(session, readings[2_500:])  # a crash after 2,500 acks: 2,500..2,999 are sent twice
    queue.publish(session, readings[4_990:])  # and once more for the tail
    replayed = list(queue.replay("s-dup", position, 0, count=5_000))
    assert [r.seq for r in replayed] == list(range(5_000))
    assert replayed == readings


def test_several_sessions_replay_at_once(queue: ReadingQueue, store: SessionStore) -> None:
    sessions = {f"s-{i}": stored(store, f"s-{i}", 4_000 + i * 500) for i in range(4)}
    assert publish_pending(store, queue).failed is None
    results: dict[str, list[Reading]] = {}

    def viewer(sid: str) -> None:
        results[sid] = list(queue.replay(sid, store_position(store, sid), 0, count=len(sessions[sid])))

    threads = [threading.Thread(target=viewer, args=(sid,)) for sid in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == sessions


# -- Kafka only ----------------------------------------------------------------------------------


def test_kafka_replay_from_a_late_seq_seeks_instead_of_reading_from_the_start(
    kafka: ReadingQueue, store: SessionStore
) -> None:
    readings = stored(store, "s-long", 60_000)
    assert publish_pending(store, kafka).failed is None
    position = store_position(store, "s-long")
    assert list(kafka.replay("s-long", position, 59_990, count=60_000)) == readings[59_990:]
    consumer = kafka._consumer  # type: ignore[attr-defined]
    assert consumer is not None and consumer.records_seen < 5_000  # a fetch or two, not 60,000 records


@pytest.fixture
def kafka(kafka_topic: str) -> Iterator[ReadingQueue]:
    from hrviz.adapters.queue.kafka import KafkaQueue

    # stagings here are the file staging alone, published after the commit (the fallback of the
    # transactions, which test_kafka_transactions.py covers)
    q = KafkaQueue(services.require("kafka"), kafka_topic, transactional=False)
    yield q
    q.close()


def test_kafka_records_are_the_documented_json_keyed_by_session(
    kafka: ReadingQueue, kafka_topic: str, store: SessionStore
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    readings = stored(store, "s-json", 30)
    session = store.get("s-json")
    assert session is not None
    position = kafka.publish(session, readings)
    assert position is not None
    consumer = Consumer({"bootstrap.servers": services.require("kafka"), "group.id": "hrviz-test-json", "log_level": 0})
    topic_meta = consumer.list_topics(kafka_topic, timeout=10).topics[kafka_topic]
    assert len(topic_meta.partitions) == 6  # created by the queue itself, with the default partitions
    consumer.assign([TopicPartition(kafka_topic, position.partition, position.first_offset)])
    msgs: list[Any] = []
    deadline = time.monotonic() + 20
    while len(msgs) < 30 and time.monotonic() < deadline:
        msgs += [m for m in consumer.consume(30, 1.0) if m.error() is None]
    consumer.close()
    assert len(msgs) == 30 and {m.key() for m in msgs} == {b"s-json"}
    records = [json.loads(m.value() or b"null") for m in msgs]
    assert list(records[0]) == ["session", "seq", "ts", "t", "bpm", "filled", "kinds"]
    for rec, r in zip(records, readings, strict=True):
        assert rec == {
            "session": "s-json",
            "seq": r.seq,
            "ts": format_ts(r.ts, session.tz_offset_min),
            "t": r.ts,
            "bpm": r.bpm,
            "filled": r.filled,
            "kinds": list(r.kinds),
        }
    assert records[5]["ts"] == "2023-11-14T23:13:25.250+01:00"  # a fractional time, in the file's offset


def test_kafka_moves_the_outbox_mark_along_the_way(kafka: ReadingQueue, store: SessionStore) -> None:
    readings = stored(store, "s-acks", 23_000)
    session = store.get("s-acks")
    assert session is not None
    calls: list[tuple[int, QueuePosition]] = []

    def slow_source() -> Iterator[Reading]:  # like a store read that pauses: acks arrive meanwhile
        for r in readings:
            if r.seq in (8_000, 16_000):
                time.sleep(1.0)
            yield r

    position = kafka.publish(session, slow_source(), lambda upto, pos: calls.append((upto, pos)))
    marks = [u for u, _ in calls]
    assert len(marks) >= 2 and marks == sorted(marks) and marks[-1] == 22_999
    assert {p for _, p in calls} == {position}


def test_kafka_replay_follows_a_publication_in_progress(kafka: ReadingQueue, store: SessionStore) -> None:
    readings = stored(store, "s-live", 6_000)
    session = store.get("s-live")
    assert session is not None
    position = kafka.publish(session, readings[:2_000])
    got: list[Reading] = []
    follower = threading.Thread(target=lambda: got.extend(kafka.replay("s-live", position, 0, count=6_000)))
    follower.start()
    time.sleep(1.0)
    assert follower.is_alive()  # waiting for seqs 2,000.. that are not published yet
    kafka.publish(session, readings[2_000:])
    follower.join(30)
    assert not follower.is_alive() and got == readings


def test_kafka_slow_viewer_does_not_stall_others_or_lose_records(
    kafka: ReadingQueue, store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hrviz.adapters.queue.kafka_subscriber as sub

    monkeypatch.setattr(sub, "BUFFER", 200)
    slow_r, fast_r = stored(store, "s-slow", 3_000), stored(store, "s-fast", 3_000)
    kafka_one = kafka
    slow_s, fast_s = store.get("s-slow"), store.get("s-fast")
    assert slow_s is not None and fast_s is not None
    pos_slow, pos_fast = kafka_one.publish(slow_s, slow_r), kafka_one.publish(fast_s, fast_r)
    slow = kafka_one.replay("s-slow", pos_slow, 0, count=3_000)
    first = [next(slow) for _ in range(10)]  # then the slow viewer stops reading for a while
    fast = list(kafka_one.replay("s-fast", pos_fast, 0, count=3_000))
    assert fast == fast_r
    assert first + list(slow) == slow_r


def test_kafka_unreachable_broker_fails_publish_quickly_with_one_sentence(store: SessionStore) -> None:
    from hrviz.adapters.queue.kafka import KafkaQueue

    readings = stored(store, "s-down", 10)
    session = store.get("s-down")
    assert session is not None
    queue = KafkaQueue("127.0.0.1:1", "hrviz.test.down")  # opening never contacts the broker
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        queue.publish(session, readings)
    assert time.monotonic() - started < 15
    assert str(info.value).startswith("Kafka broker at 127.0.0.1:1 ") and "\n" not in str(info.value)
    queue.close()


def _unreadable(store: SqliteStore) -> None:
    """From now on, reading the store's readings fails the test (publishing must not need it)."""

    def readings(session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        raise AssertionError("the store was read")
        yield  # a generator, like the real one: nothing runs until it is iterated

    store.readings = readings  # type: ignore[method-assign]


def test_kafka_publishes_a_just_stored_session_from_its_staging(kafka: ReadingQueue, store: SqliteStore) -> None:
    import io

    from hrviz.core.ingest import ingest
    from hrviz.core.staging import StagingStore

    rows = "".join(f"2026-03-14T07:{i // 60:02d}:{i % 60:02d}+01:00,{60 + i % 50}\n" for i in range(3_000))
    csv = ("timestamp,bpm\n" + rows.replace(",75\n", ",\n")).encode()  # blanks: filled readings
    (session,) = ingest(io.BytesIO(csv), "staged.csv", StagingStore(store, kafka))  # as wiring opens it
    expected = list(store.readings(session.id))
    _unreadable(store)
    report = publish_pending(store, kafka)
    assert report.failed is None and report.published == [session.id] and store.unpublished() == []
    replayed = list(kafka.replay(session.id, store.position(session.id), 0, count=session.readings))
    assert replayed == expected and any(r.filled for r in replayed)


def test_kafka_a_staging_in_the_wrong_utc_offset_is_not_used(
    kafka: ReadingQueue, kafka_topic: str, store: SqliteStore
) -> None:
    readings = make_readings(500)
    guessed = make_session("s-tz", 500, tz=60)
    staging = kafka.stage(guessed)
    assert staging is not None
    staging.add(ReadingBatch.of(readings))
    session = make_session("s-tz", 500, tz=0)  # the file turned out to be in UTC
    writer = store.begin(session)
    writer.add_readings(ReadingBatch.of(readings))
    writer.commit(session)
    staging.commit(session)
    assert publish_pending(store, kafka).failed is None
    replayed = list(kafka.replay("s-tz", store.position("s-tz"), 0, count=500))
    assert replayed == readings
    from confluent_kafka import Consumer, TopicPartition

    position = store.position("s-tz")
    assert position is not None
    consumer = Consumer({"bootstrap.servers": services.require("kafka"), "group.id": "hrviz-test-tz", "log_level": 0})
    consumer.assign([TopicPartition(kafka_topic, position.partition, position.first_offset)])
    first = next(m for m in iter(lambda: consumer.poll(10), None) if m.error() is None)
    consumer.close()
    assert json.loads(first.value() or b"{}")["ts"] == "2023-11-14T22:13:20Z"  # the store's offset, not the guess


def test_kafka_a_failure_mid_publish_keeps_the_mark_on_acknowledged_records(
    kafka: ReadingQueue, store: SqliteStore
) -> None:
    """Records lost between two checkpoints (purged from the producer, as a dying broker loses
    them): the publish fails, every mark it reported covers only records really on the topic,
    and a resume from the mark makes the replay whole, each seq once."""
    readings = stored(store, "s-lost", 12_000)
    session = store.get("s-lost")
    assert session is not None
    marks: list[tuple[int, QueuePosition]] = []

    def source() -> Iterator[Reading]:
        for r in readings:
            if r.seq == 3_000:
                time.sleep(1.1)  # the next chunk ends a (time) window: a checkpoint moves the mark
            if r.seq == 6_000:  # the previous chunk is still in the producer's queue (linger)
                kafka._bulk.purge(in_queue=True, in_flight=True)  # type: ignore[attr-defined]
            yield r

    with pytest.raises(BackendUnavailable, match="Kafka broker at"):
        kafka.publish(session, source(), lambda upto, pos: marks.append((upto, pos)))
    uptos = [u for u, _ in marks]
    assert uptos[0] == 0 and uptos == sorted(uptos) and 3_000 <= uptos[-1] < 6_000
    ((position,),) = [{p for _, p in marks}]
    mark = uptos[-1]
    assert list(kafka.replay("s-lost", position, 0, count=mark + 1)) == readings[: mark + 1]  # all on the topic
    kafka.publish(session, readings[mark + 1 :])  # the resume, from the mark
    assert list(kafka.replay("s-lost", position, 0, count=12_000)) == readings


def test_wiring_lets_kafka_stage_what_the_store_writes(tmp_path: Path) -> None:
    from hrviz.core.staging import StagingStore
    from hrviz.wiring import load_settings, open_backends

    none = tmp_path / "no-config.toml"
    kafka = open_backends(
        load_settings(db=tmp_path / "k.sqlite3", kafka=services.require("kafka"), config=none, env={})
    )
    embedded = open_backends(load_settings(db=tmp_path / "e.sqlite3", config=none, env={}))
    try:
        assert isinstance(kafka.store, StagingStore) and kafka.store.queue is kafka.queue
        assert not isinstance(embedded.store, StagingStore)  # the in-process queue has nothing to stage
    finally:
        kafka.close()
        embedded.close()


def test_kafka_a_full_local_queue_loses_and_doubles_nothing(
    kafka: ReadingQueue, kafka_topic: str, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A producer queue far smaller than a chunk: produce() keeps refusing (BufferError) mid-chunk,
    and publishing resumes exactly after the record that did not go in."""
    import hrviz.adapters.queue.kafka as kafka_module

    monkeypatch.setitem(kafka_module.PRODUCER, "queue.buffering.max.messages", 300)
    readings = stored(store, "s-full", 9_000)
    session = store.get("s-full")
    assert session is not None
    position = kafka.publish(session, readings)
    assert position is not None
    assert list(kafka.replay("s-full", position, 0)) == readings  # no count: what the topic holds now
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": services.require("kafka"), "group.id": "hrviz-test-full", "log_level": 0})
    _, high = consumer.get_watermark_offsets(TopicPartition(kafka_topic, position.partition), timeout=10)
    consumer.close()
    assert high - position.first_offset == 9_000  # and not one record twice


def test_kafka_queues_of_one_process_share_one_replay_consumer_and_interleaved_replays_stay_exact(
    kafka_topic: str, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve opens a queue per thread: they share one consumer, which hands each record only to
    its own session's replays. Sessions published interleaved on one partition, replayed at once
    from three queues, one viewer parked (full buffer) for a while: each gets its seqs exactly."""
    import hrviz.adapters.queue.kafka_subscriber as sub
    from hrviz.adapters.queue.kafka import KafkaQueue

    monkeypatch.setattr(sub, "BUFFER", 150)
    bootstrap = services.require("kafka")
    queues = [KafkaQueue(bootstrap, kafka_topic, partitions=1) for _ in range(3)]
    try:
        data = {f"s-mix{i}": stored(store, f"s-mix{i}", 1_500 + 300 * i) for i in range(3)}
        positions: dict[str, QueuePosition | None] = {}
        for start in range(0, 2_100, 700):  # interleaved: 700 of each, in turn
            for sid, readings in data.items():
                session = store.get(sid)
                assert session is not None
                pos = queues[0].publish(session, readings[start : start + 700])
                positions.setdefault(sid, pos)
        results: dict[str, list[Reading]] = {}

        def viewer(i: int, sid: str) -> None:
            it = queues[i].replay(sid, positions[sid], 0, count=len(data[sid]))
            got = [next(it) for _ in range(10)]
            if i == 0:
                time.sleep(1.5)  # this viewer stops reading: its replay parks, the others go on
            results[sid] = got + list(it)

        threads = [threading.Thread(target=viewer, args=(i, sid)) for i, sid in enumerate(data)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == data
        consumers = {id(q._consumer) for q in queues}  # type: ignore[attr-defined]
        assert len(consumers) == 1 and None not in {q._consumer for q in queues}  # type: ignore[attr-defined]
        queues.pop().close()  # one queue closing leaves the shared consumer to the others
        assert list(queues[1].replay("s-mix1", positions["s-mix1"], 1_700, count=1_800)) == data["s-mix1"][1_700:]
    finally:
        for q in queues:
            q.close()


def test_kafka_a_session_too_big_to_stage_is_read_back_from_the_store(
    kafka: ReadingQueue, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import hrviz.adapters.queue.staging as staging
    from hrviz.core.ingest import ingest
    from hrviz.core.staging import StagingStore

    monkeypatch.setattr(staging, "STAGE_LIMIT", 100_000)  # bytes: about 800 records
    rows = "".join(f"2026-03-14T07:{i // 60:02d}:{i % 60:02d}Z,{60 + i % 50}\n" for i in range(3_000))
    (session,) = ingest(io.BytesIO(("timestamp,bpm\n" + rows).encode()), "big.csv", StagingStore(store, kafka))
    read: list[int] = []
    original = store.readings

    def readings(session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        read.append(from_seq)
        return original(session_id, from_seq)

    store.readings = readings  # type: ignore[method-assign]
    assert publish_pending(store, kafka).failed is None
    assert read == [0]  # the staging gave up: everything came from the store, once
    replayed = list(kafka.replay(session.id, store.position(session.id), 0, count=session.readings))
    assert replayed == list(original(session.id)) and len(replayed) == 3_000
