"""The ingest use case against in-memory fakes of its ports: what is stored, reported and published."""

from __future__ import annotations

import io

import pytest

from hrviz.core import explain
from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions, ingest, publish_pending
from hrviz.core.model import Kind, Session
from hrviz.core.staging import StagingStore
from tests.unit.fakes import MemoryStore, MemoryWriter, RecordingQueue

CSV = b"timestamp,bpm\n" + b"".join(
    f"2024-05-01T10:00:{i:02d}Z,{v}\n".encode()
    for i, v in enumerate([70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 115, 118, 72, 70, "", "", 71, 70, 69, 70])
)


def test_ingest_stores_readings_events_and_stats() -> None:
    store = MemoryStore()
    (session,) = ingest(io.BytesIO(CSV), "a.csv", store)
    assert (session.rows, session.readings, session.filled) == (20, 20, 2)
    assert [str(a.kind) for a in session.anomalies] == ["spike", "missing"]
    assert session.stats.as_dict() == {
        "min": 69.0,
        "max": 118.0,
        "mean": round(sum([70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 115, 118, 72, 70, 71, 70, 69, 70]) / 18, 2),
    }
    stored = list(store.readings(session.id))
    assert [r.seq for r in stored] == list(range(20))
    assert [r.filled for r in stored].count(True) == 2
    assert session.as_dict()["start"] == "2024-05-01T10:00:00Z"


def test_reingesting_the_same_file_reports_the_existing_session() -> None:
    store = MemoryStore()
    (first,) = ingest(io.BytesIO(CSV), "a.csv", store)
    (again,) = ingest(io.BytesIO(CSV), "copy-of-a.csv", store)
    assert again.existing and again.id == first.id
    assert len(store.sessions) == 1
    assert [a.kind for a in again.anomalies] == [Kind.SPIKE, Kind.MISSING]


def test_different_detector_settings_are_a_different_analysis() -> None:
    store = MemoryStore()
    ingest(io.BytesIO(CSV), "a.csv", store)
    from hrviz.core.detector import DetectorConfig

    (other,) = ingest(io.BytesIO(CSV), "a.csv", store, IngestOptions(detector=DetectorConfig(delta=60)))
    assert not other.existing and other.anomalies[0].kind is Kind.MISSING


def test_bad_input_writes_nothing() -> None:
    store = MemoryStore()
    with pytest.raises(InputError):
        ingest(io.BytesIO(b"timestamp,bpm\n"), "empty.csv", store)
    with pytest.raises(InputError, match="nothing parseable|no usable heart-rate values"):
        ingest(io.BytesIO(b"timestamp,bpm\n2024-05-01T10:00:00Z,0\n2024-05-01T10:00:01Z,\n"), "zeros.csv", store)
    assert store.sessions == {}


def test_publish_pending_publishes_everything_once() -> None:
    store, queue = MemoryStore(), RecordingQueue()
    (session,) = ingest(io.BytesIO(CSV), "a.csv", store)
    report = publish_pending(store, queue)
    assert report.published == [session.id] and report.failed is None
    assert [seq for _, seq in queue.records] == list(range(20))
    assert publish_pending(store, queue).published == []  # nothing left: nothing sent twice
    assert len(queue.records) == 20


def test_publication_resumes_from_the_mark_after_a_failure() -> None:
    store = MemoryStore()
    (session,) = ingest(io.BytesIO(CSV), "a.csv", store)
    report = publish_pending(store, RecordingQueue(fail_after=15))
    assert report.failed == "broker went away"
    assert [(b.session_id, b.published_upto) for b in report.pending] == [(session.id, 9)]
    queue = RecordingQueue()
    assert publish_pending(store, queue).published == [session.id]
    assert [seq for _, seq in queue.records] == list(range(10, 20))


def test_placeholders_and_other_metrics_are_reported_not_silent() -> None:
    mixed = b"".join(
        f"2019-10-16T12:00:{i:02d}+02:00;{kind};{value}\n".encode()
        for i, (kind, value) in enumerate(
            [("HEART_RATE", 70), ("STRESS", 20), ("HEART_RATE", 71), ("HEART_RATE", -1), ("STRESS", -2)]
            + [("HEART_RATE", 70 + i % 2) for i in range(10)]
            + [("HEART_RATE", 0), ("STEPS", 12), ("HEART_RATE", 70)]
        )
    )
    (session,) = ingest(io.BytesIO(mixed), "garmin.csv", MemoryStore())
    assert session.ignored == {"metric STRESS": 2, "metric STEPS": 1, "placeholder -1": 1, "placeholder 0": 1}
    assert session.as_dict()["ignored"] == session.ignored
    assert session.rows == 15 and session.filled == 2  # the placeholders became filled (missing) readings
    assert explain.ignored_rows(session.ignored) == [
        "rows of other metrics left out: 2 STRESS, 1 STEPS",
        "placeholder values read as missing readings: -1 (1 row), 0 (1 row)",
    ]


def test_the_queue_stages_what_the_store_writes_and_only_a_committed_session_is_released() -> None:
    store = MemoryStore()
    queue = RecordingQueue(staging=True, store=store)
    (session,) = ingest(io.BytesIO(CSV), "a.csv", StagingStore(store, queue))
    (staging,) = queue.stagings
    assert staging.readings == list(store.readings(session.id))
    assert staging.events == ["commit 20 readings, store committed: True"]
    publish_pending(store, queue)
    assert queue.from_seqs == [0]  # the queue is told where the store would be read from


class FailingCommit(MemoryStore):
    def begin(self, session: Session) -> MemoryWriter:
        return FailingWriter(self, session)


class FailingWriter(MemoryWriter):
    def commit(self, session: Session) -> None:
        raise ConnectionError("server went away at COMMIT")


def test_a_staging_is_discarded_when_the_store_aborts() -> None:
    store = FailingCommit()
    queue = RecordingQueue(staging=True, store=store)
    with pytest.raises(ConnectionError):
        ingest(io.BytesIO(CSV), "a.csv", StagingStore(store, queue))
    (staging,) = queue.stagings
    assert "commit" not in " ".join(staging.events) and "discard" in staging.events and store.aborted == 1


def test_a_resumed_publication_says_where_it_starts() -> None:
    store = MemoryStore()
    (session,) = ingest(io.BytesIO(CSV), "a.csv", store)
    publish_pending(store, RecordingQueue(fail_after=15))
    queue = RecordingQueue()
    publish_pending(store, queue)
    assert queue.from_seqs == [10]
