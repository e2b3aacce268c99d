"""StagingStore: the store, with the queue's staging told every batch and the store's verdict.

The staging hears each batch the writer gets, then ``commit`` (with the final session) only after
the store committed, or ``discard`` when the store aborted or failed to commit; a queue that fails
to stage lets go of the writer. Everything else is the wrapped store's, with its arguments as given.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hrviz.core.model import Reading, ReadingBatch, Session
from hrviz.core.ports import Listing, QueuePosition
from hrviz.core.staging import StagingStore, StagingWriter
from tests.unit.fakes import MemoryStore, MemoryWriter, RecordingQueue, RecordingStaging


def batch(first_seq: int, *bpm: float) -> ReadingBatch:
    b = ReadingBatch(first_seq)
    for i, v in enumerate(bpm):
        b.append(Reading(first_seq + i, 1_714_557_600.0 + first_seq + i, v, False, ()))
    return b


def session(readings: int = 0) -> Session:
    return Session(id="s1", source="a.csv", subject=None, fingerprint="f" * 64, readings=readings)


def test_the_staging_hears_every_batch_and_the_commit_after_the_store() -> None:
    store = MemoryStore()
    queue = RecordingQueue(staging=True, store=store)
    writer = StagingStore(store, queue).begin(session())
    assert isinstance(writer, StagingWriter)
    writer.add_readings(batch(0, 70.0, 71.0))
    writer.add_readings(batch(2, 72.0))
    writer.commit(session(readings=3))
    (staging,) = queue.stagings
    assert [(r.seq, r.bpm) for r in staging.readings] == [(0, 70.0), (1, 71.0), (2, 72.0)]
    assert [(r.seq, r.bpm) for r in store.readings("s1")] == [(0, 70.0), (1, 71.0), (2, 72.0)]
    assert staging.events == ["commit 3 readings, store committed: True"]


def test_a_staging_that_published_the_session_at_the_commit_moves_the_mark_to_its_last_reading() -> None:
    store = MemoryStore()
    queue = RecordingQueue(staging=True, store=store, published=QueuePosition(3, 120))
    writer = StagingStore(store, queue).begin(session())
    writer.add_readings(batch(0, 70.0, 71.0, 72.0))
    writer.commit(session(readings=3))
    assert store.unpublished() == [] and store.marks["s1"] == 2
    assert store.position("s1") == QueuePosition(3, 120)


class LostAfterCommit(MemoryStore):
    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        raise ConnectionError("server went away after COMMIT")


def test_a_store_lost_after_its_commit_leaves_the_published_session_to_publish_pending() -> None:
    store = LostAfterCommit()
    queue = RecordingQueue(staging=True, store=store, published=QueuePosition(0, 0))
    writer = StagingStore(store, queue).begin(session())
    writer.add_readings(batch(0, 70.0))
    writer.commit(session(readings=1))  # stored all the same: no error
    assert [(b.session_id, b.published_upto) for b in store.unpublished()] == [("s1", -1)]
    assert queue.stagings[0].events == ["commit 1 readings, store committed: True"]


def test_a_staging_that_left_publishing_to_later_moves_no_mark() -> None:
    inner = CallLog()
    writer = StagingStore(inner, RecordingQueue(staging=True, store=inner)).begin(session())
    writer.commit(session(readings=0))
    assert [c for c in inner.calls if c[0] == "mark_published"] == []


def test_a_queue_with_nothing_to_stage_gets_the_plain_writer() -> None:
    store = MemoryStore()
    writer = StagingStore(store, RecordingQueue(staging=False)).begin(session())
    assert type(writer) is MemoryWriter


class FailingCommit(MemoryStore):
    def begin(self, session: Session) -> MemoryWriter:
        return FailingWriter(self, session)


class FailingWriter(MemoryWriter):
    def commit(self, session: Session) -> None:
        raise ConnectionError("server went away at COMMIT")

    def abort(self) -> None:
        super().abort()
        raise ConnectionError("server went away at ROLLBACK")


def test_a_failed_commit_discards_the_staging_and_raises_the_stores_error() -> None:
    store = FailingCommit()
    queue = RecordingQueue(staging=True, store=store)
    writer = StagingStore(store, queue).begin(session())
    writer.add_readings(batch(0, 70.0))
    with pytest.raises(ConnectionError, match="at COMMIT"):
        writer.commit(session(readings=1))
    assert queue.stagings[0].events == ["discard"]


def test_an_abort_discards_the_staging_even_when_the_store_fails_to_abort() -> None:
    store = FailingCommit()
    queue = RecordingQueue(staging=True, store=store)
    writer = StagingStore(store, queue).begin(session())
    with pytest.raises(ConnectionError, match="at ROLLBACK"):
        writer.abort()
    assert (queue.stagings[0].events, store.aborted) == (["discard"], 1)


class FailingStage(RecordingQueue):
    def stage(self, session: Session) -> RecordingStaging | None:
        raise ConnectionError("broker refused the staging")


def test_a_queue_that_fails_to_stage_lets_go_of_the_writer() -> None:
    store = MemoryStore()
    with pytest.raises(ConnectionError, match="refused the staging"):
        StagingStore(store, FailingStage()).begin(session())
    assert store.aborted == 1


class CallLog(MemoryStore):
    """Records each call and its arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[object, ...]] = []

    def begin(self, session: Session) -> MemoryWriter:
        self.calls.append(("begin", session.id))
        return super().begin(session)

    def find(self, fingerprint: str) -> Session | None:
        self.calls.append(("find", fingerprint))
        return super().find(fingerprint)

    def get(self, session_id: str) -> Session | None:
        self.calls.append(("get", session_id))
        return super().get(session_id)

    def list_sessions(self, limit: int = 100) -> list[Session]:
        self.calls.append(("list_sessions", limit))
        return super().list_sessions(limit)

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        self.calls.append(("browse", offset, limit, query, order))
        return super().browse(offset, limit, query, order)

    def delete(self, session_id: str) -> bool:
        self.calls.append(("delete", session_id))
        return super().delete(session_id)

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        self.calls.append(("readings", session_id, from_seq))
        return super().readings(session_id, from_seq)

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        self.calls.append(("mark_published", session_id, upto_seq, position))
        super().mark_published(session_id, upto_seq, position)

    def position(self, session_id: str) -> QueuePosition | None:
        self.calls.append(("position", session_id))
        return super().position(session_id)

    def close(self) -> None:
        self.calls.append(("close",))


def test_everything_else_is_the_stores_with_its_arguments_as_given() -> None:
    inner = CallLog()
    queue = RecordingQueue(staging=True)
    store = StagingStore(inner, queue)
    writer = store.begin(session(readings=3))
    assert queue.stagings[0].session.id == "s1"  # the staging is for the session begun
    writer.add_readings(batch(0, 70.0, 71.0, 72.0))
    writer.commit(session(readings=3))
    found = store.find("f" * 64)
    assert found is not None and found.id == "s1"
    got = store.get("s1")
    assert got is not None and got.readings == 3
    assert [s.id for s in store.list_sessions(7)] == ["s1"]
    listing = store.browse(1, 5, "a.c", "start")
    assert (listing.total, listing.items) == (1, [])
    assert [r.seq for r in store.readings("s1", 1)] == [1, 2]
    assert [(b.session_id, b.published_upto, b.readings) for b in store.unpublished()] == [("s1", -1, 3)]
    store.mark_published("s1", 1, QueuePosition(2, 40))
    assert store.position("s1") == QueuePosition(2, 40)
    assert [(b.session_id, b.published_upto) for b in store.unpublished()] == [("s1", 1)]
    assert store.delete("s1") is True and store.delete("s1") is False
    store.close()
    assert inner.calls == [
        ("begin", "s1"),
        ("find", "f" * 64),
        ("get", "s1"),
        ("list_sessions", 7),
        ("browse", 1, 5, "a.c", "start"),
        ("readings", "s1", 1),
        ("mark_published", "s1", 1, QueuePosition(2, 40)),
        ("position", "s1"),
        ("delete", "s1"),
        ("delete", "s1"),
        ("close",),
    ]


def test_the_defaults_are_the_ports() -> None:
    inner = CallLog()
    store = StagingStore(inner, RecordingQueue())
    store.list_sessions()
    store.browse()
    list(store.readings("s1"))
    assert inner.calls == [("list_sessions", 100), ("browse", 0, 20, "", "uploaded"), ("readings", "s1", 0)]
