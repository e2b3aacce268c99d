"""The ingest use case: read → detect → store (atomically) → publish (from the outbox).

Store first, publish second: a session and all its readings commit in one transaction with a
published-up-to mark of -1; publication then advances the mark as the queue acknowledges. If the
queue is down, or dies half-way, the mark says exactly where to resume (``publish_pending``), so
no reading is lost and — because the queue is idempotent per (session, seq) — none is doubled.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.errors import InputError
from hrviz.core.model import Anomaly, Session
from hrviz.core.ports import Outbox, ReadingQueue, SessionStore
from hrviz.core.reader import read_series
from hrviz.core.series import Series

BATCH = 5000


@dataclass(frozen=True, slots=True)
class IngestOptions:
    interval: float = 1.0  # seconds between readings in files that carry no time
    subject: str | None = None  # pick one subject of a multi-subject file
    detector: DetectorConfig = field(default_factory=DetectorConfig)


@dataclass(slots=True)
class PublishReport:
    """What :func:`publish_pending` achieved; ``failed`` holds the queue's error, if any."""

    published: list[str] = field(default_factory=list)
    failed: str | None = None
    pending: list[Outbox] = field(default_factory=list)


class HashingStream:
    """Wraps a binary stream and hashes what the reader consumes: a fingerprint for free."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.digest.update(chunk)
        self.consumed += len(chunk)
        return chunk

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        """Hash whatever the reader left unread, so the fingerprint covers the whole file."""
        while self.read(1 << 20):
            pass


def read_and_fingerprint(
    stream: BinaryIO, source: str, options: IngestOptions, on_progress: Callable[[int], None] | None = None
) -> tuple[list[Series], str]:
    hashing = HashingStream(stream)
    series = read_series(
        hashing,  # type: ignore[arg-type]  # duck-typed binary stream
        source,
        interval=options.interval,
        subject=options.subject,
        on_progress=on_progress,
    )
    hashing.drain()
    settings = repr((options.interval, sorted(asdict(options.detector).items()))).encode()
    hashing.digest.update(b"\0" + settings)
    return series, hashing.digest.hexdigest()


def ingest(
    stream: BinaryIO,
    source: str,
    store: SessionStore,
    options: IngestOptions | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Session]:
    """Read, detect and store every subject of one file; existing sessions are reported, not redone.

    Raises :class:`InputError` before anything is written when the file cannot be used.
    """
    options = options or IngestOptions()
    all_series, file_digest = read_and_fingerprint(stream, source, options, on_progress)
    for s in all_series:
        if not any(not math.isnan(b) for b in s.bpm):
            who = f" for subject {s.subject!r}" if s.subject is not None else ""
            raise InputError(source, f"no usable heart-rate values{who}: every value is blank or a placeholder")
    sessions = []
    for s in all_series:
        fingerprint = hashlib.sha256(f"{file_digest}\0{s.subject}".encode()).hexdigest()
        found = store.find(fingerprint)
        if found is not None:
            found = store.get(found.id) or found  # with its anomalies, for the report
            found.existing = True
            sessions.append(found)
            continue
        sessions.append(_store_series(s, source, fingerprint, store, options.detector))
    return sessions


def _store_series(
    series: Series, source: str, fingerprint: str, store: SessionStore, config: DetectorConfig
) -> Session:
    session = Session(
        id=fingerprint[:12],
        source=source,
        subject=series.subject,
        fingerprint=fingerprint,
        rows=series.rows,
        duplicates=series.duplicates,
        tz_offset_min=series.tz_offset_min,
    )
    cadence, usual_step = series.cadence() or (1.0, 0.0)
    detector = Detector(config, cadence=cadence, usual_step=usual_step)
    writer = store.begin(session)
    try:
        anomalies: list[Anomaly] = []
        last: float | None = None
        for batch, events in detector.chunks(zip(series.ts, series.bpm, strict=True), BATCH):  # NaN = missing
            if batch:
                writer.add_readings(batch)
                session.readings += len(batch)
                session.filled += batch.filled
                last = batch.ts[-1]
            anomalies += events
        session.stats = detector.stats
        anomalies.sort(key=lambda a: (a.start, a.end))
        session.anomalies = anomalies
        session.start = series.ts[0] if len(series) else None
        session.end = last if last is not None else session.start
        writer.commit(session)
    except BaseException:
        writer.abort()
        raise
    return session


def publish_pending(store: SessionStore, queue: ReadingQueue) -> PublishReport:
    """Publish, from each session's mark, every stored reading the queue has not acknowledged.

    Called after every ingest and at ``serve`` start (and by ``ingest --resume``): whatever a
    crash or an unreachable broker left behind is completed here.
    """
    report = PublishReport()
    for box in store.unpublished():
        session = store.get(box.session_id)
        if session is None:
            continue

        def acked(upto: int, position: object, sid: str = box.session_id) -> None:
            store.mark_published(sid, upto, position)  # type: ignore[arg-type]

        try:
            position = queue.publish(session, store.readings(box.session_id, box.published_upto + 1), acked)
        except Exception as err:  # noqa: BLE001 — reported to the caller, who decides the exit code
            report.failed = str(err)
            report.pending = store.unpublished()
            return report
        store.mark_published(box.session_id, box.readings - 1, position or box.position)
        report.published.append(box.session_id)
    return report
