"""Publication from the outbox (publish_pending) and the file's fingerprint (HashingStream).

The queue's position is recorded with the mark, whether the queue tells it on an acknowledgement or
only when it is done; a session deleted between the listing and its turn is passed over, and the
others are still published. The fingerprint covers every byte of the file, read in 1 MiB pieces.
"""

from __future__ import annotations

import hashlib
import io

from hrviz.core.ingest import HashingStream, ingest, publish_pending
from hrviz.core.model import Session
from hrviz.core.ports import QueuePosition
from tests.unit.fakes import MemoryStore, RecordingQueue


def csv(n: int, first_bpm: int = 70) -> bytes:
    return b"time,bpm\n" + b"".join(b"2024-05-01T10:00:%02dZ,%d\n" % (i, first_bpm + i % 3) for i in range(n))


def test_a_short_session_keeps_the_position_the_queue_gives_when_done() -> None:
    store = MemoryStore()
    (session,) = ingest(io.BytesIO(csv(5)), "short.csv", store)  # under 10: the fake queue acknowledges none
    assert publish_pending(store, RecordingQueue()).published == [session.id]
    assert (store.marks[session.id], store.position(session.id)) == (4, QueuePosition(0, 0))


def test_the_position_of_an_acknowledgement_is_kept_when_the_queue_then_fails() -> None:
    store = MemoryStore()
    (session,) = ingest(io.BytesIO(csv(20)), "a.csv", store)
    report = publish_pending(store, RecordingQueue(fail_after=15))  # acknowledged up to seq 9, then gone
    assert (report.published, report.failed) == ([], "broker went away")
    assert (store.marks[session.id], store.position(session.id)) == (9, QueuePosition(0, 0))


class DeletedMidway(MemoryStore):
    """A session listed as unpublished, then deleted before its turn (``hrviz sessions delete``)."""

    gone = ""

    def get(self, session_id: str) -> Session | None:
        return None if session_id == self.gone else super().get(session_id)


def test_a_session_deleted_before_its_turn_is_passed_over_and_the_rest_published() -> None:
    store = DeletedMidway()
    (first,) = ingest(io.BytesIO(csv(5)), "first.csv", store)
    (second,) = ingest(io.BytesIO(csv(5, 80)), "second.csv", store)
    store.gone = first.id
    queue = RecordingQueue()
    assert publish_pending(store, queue).published == [second.id]
    assert queue.records == [(second.id, seq) for seq in range(5)]


class Recorded(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(size)
        return super().read(size)


def test_the_fingerprint_covers_what_the_reader_left_unread_in_1_mib_pieces() -> None:
    data = bytes(range(256)) * (10 * 2**10 + 1)  # 2.5 MiB and 256 bytes
    raw = Recorded(data)
    hashing = HashingStream(raw)
    assert hashing.read(4) == b"\x00\x01\x02\x03"
    hashing.drain()
    assert raw.asked == [4, 2**20, 2**20, 2**20, 2**20]  # memory stays flat whatever the file's size
    assert hashing.digest.hexdigest() == hashlib.sha256(data).hexdigest()
