"""The ingest use case: read → detect → store (atomically) → publish (from the outbox).

Store first, publish second: a session and all its readings commit in one transaction with a
published-up-to mark of -1; publication then advances the mark as the queue acknowledges. If the
queue is down, or dies half-way, the mark says exactly where to resume (``publish_pending``), so
no reading is lost and — because the queue is idempotent per (session, seq) — none is doubled.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import BinaryIO

from hrviz.core.columns import Columns, column_batches
from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.errors import AlreadyStored, InputError, printable
from hrviz.core.explain import cadence_report
from hrviz.core.insights.batch import fold_batch
from hrviz.core.insights.stored import stored
from hrviz.core.insights.summary import SummaryBuilder
from hrviz.core.insights.zones import DEFAULT_AGE
from hrviz.core.model import Anomaly, Session
from hrviz.core.ports import Outbox, ReadingQueue, SessionStore
from hrviz.core.reader import read_series
from hrviz.core.reader.formats import clip
from hrviz.core.reader.timestamps import LATEST, year_of
from hrviz.core.series import CADENCE_SAMPLES, Series, cadence_of

BATCH = 5000


EFFORT_MAX_HR = 220.0 - DEFAULT_AGE  # without a [profile]: the report's default maximum


@dataclass(frozen=True, slots=True)
class IngestOptions:
    interval: float = 1.0  # seconds between readings in files that carry no time
    subject: str | None = None  # pick one subject of a multi-subject file
    since: float | None = None  # keep readings at or after this unix time (None: from the start)
    until: float | None = None  # keep readings before this unix time (None: to the end)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    max_hr: float | None = EFFORT_MAX_HR  # the maximum the stored summary's HRR60 efforts assume


@dataclass(slots=True)
class Ingested:
    """What ingesting a path gave: its sessions, and the files of an archive that were skipped (name, why)."""

    sessions: list[Session] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


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

    def read(self, size: int = -1) -> bytes:  # all the reader calls: it wraps any stream in its own Peeked
        chunk = self._raw.read(size)
        self.digest.update(chunk)
        return chunk

    def drain(self) -> None:
        """Hash whatever the reader left unread, so the fingerprint covers the whole file."""
        while self.read(1 << 20):
            pass


def check_source(source: str) -> None:
    """Refuse a file whose name is not text (bytes that are not UTF-8, lone surrogates): it could
    be neither stored nor shown as the session's source. Checked before anything is read."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(source, "the file name is not valid UTF-8; rename the file") from None


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
        window=(options.since, options.until),
    )
    hashing.drain()
    if options.since is not None or options.until is not None:  # CSV files; the others are clipped as read
        series = [s for s in (clip(s, (options.since, options.until)) for s in series) if len(s)]
        if not series:
            raise InputError(source, "no readings in the --since/--until window")
    return series, file_digest(hashing.digest, options)


def file_digest(content: hashlib._Hash, options: IngestOptions) -> str:
    """The file's bytes and the settings that shape its analysis, as one digest."""
    window = () if options.since is None and options.until is None else (options.since, options.until)
    settings = repr((options.interval, sorted(asdict(options.detector).items()), *window)).encode()
    content.update(b"\0" + settings)
    return content.hexdigest()


def fingerprint(digest: str, subject: str | None) -> str:
    """One session's identity: same bytes, same settings, same subject → same session."""
    return hashlib.sha256(f"{digest}\0{subject}".encode()).hexdigest()


def existing(store: SessionStore, fingerprint: str) -> Session | None:
    """The stored session with this fingerprint, with its anomalies, marked as found again."""
    found = store.find(fingerprint)
    if found is None:
        return None
    found = store.get(found.id) or found
    found.existing = True
    return found


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
    check_source(source)
    all_series, digest = read_and_fingerprint(stream, source, options, on_progress)
    for s in all_series:
        if not any(not math.isnan(b) for b in s.bpm):
            who = f" for subject {s.subject!r}" if s.subject is not None else ""
            raise InputError(source, f"no usable heart-rate values{who}: every value is blank or a placeholder")
        if len(s) and not (s.ts[0] >= 0 and s.ts[-1] < LATEST):  # every reader's rows, whatever the format
            raise InputError(
                source, f"times out of range: {year_of(s.ts[0])} to {year_of(s.ts[-1])} (hrviz stores 1970–2099)"
            )
    sessions = []
    for s in all_series:
        print_ = fingerprint(digest, s.subject)
        found = existing(store, print_)
        if found is not None:
            found.warnings = list(s.warnings)
            found.skipped, found.skipped_lines, found.ignored = s.skipped, list(s.skipped_lines), dict(s.ignored)
            sessions.append(found)
            continue
        session = Session(
            id=print_[:12], source=printable(source), subject=None if s.subject is None else printable(s.subject),
            fingerprint=print_, rows=s.rows, duplicates=s.duplicates, tz_offset_min=s.tz_offset_min,
            warnings=list(s.warnings),
            skipped=s.skipped, skipped_lines=list(s.skipped_lines), ignored=dict(s.ignored),
        )  # fmt: skip
        columns = [(s.ts, s.bpm)]  # NaN = missing
        sessions.append(_store(session, columns, s.cadence(), store, options.detector, max_hr=options.max_hr))
    return sessions


def ingest_chunks(
    chunks: Iterator[tuple[Sequence[float], Sequence[float]]],
    totals: Callable[[], Series],
    source: str,
    digest: str,
    store: SessionStore,
    options: IngestOptions,
    tz_offset_min: int | None = None,
) -> Session:
    """Detect and store a single-subject file whose samples arrive in chunks while it is still being read.

    ``totals()`` gives the file's counts (rows, duplicates, tz_offset_min, skipped rows) as a
    :class:`Series` without samples, once ``chunks`` is exhausted. The result is
    exactly what :func:`ingest` stores for the same file: the cadence comes from the same first
    :data:`CADENCE_SAMPLES` timestamps, the detector sees the same samples. ``tz_offset_min`` is
    the file's offset when the reader told it early (a queue may stage records in it, see
    :mod:`hrviz.core.staging`; a staging whose offset proves wrong is not used).
    """
    check_source(source)
    print_ = fingerprint(digest, None)
    session = Session(
        id=print_[:12], source=printable(source), subject=None, fingerprint=print_, tz_offset_min=tz_offset_min
    )
    head: list[tuple[Sequence[float], Sequence[float]]] = []
    head_ts: list[float] = []
    for ts, bpm in chunks:
        head.append((ts, bpm))
        head_ts.extend(ts[: CADENCE_SAMPLES - len(head_ts)])
        if len(head_ts) >= CADENCE_SAMPLES:
            break

    def finalize(s: Session) -> None:
        counts = totals()
        s.rows, s.duplicates, s.tz_offset_min = counts.rows, counts.duplicates, counts.tz_offset_min
        s.skipped, s.skipped_lines, s.ignored = counts.skipped, list(counts.skipped_lines), dict(counts.ignored)

    return _store(session, chain(head, chunks), cadence_of(head_ts), store, options.detector, finalize, options.max_hr)


def _store(
    session: Session,
    columns: Iterable[Columns],
    cadence: tuple[float, float] | None,
    store: SessionStore,
    config: DetectorConfig,
    finalize: Callable[[Session], None] | None = None,
    max_hr: float | None = EFFORT_MAX_HR,
) -> Session:
    """Detect over the samples of ``columns`` (ts, bpm: :mod:`hrviz.core.columns`) and write the session in one
    transaction: all of it, or nothing.

    A racing ingest of the same file that commits first wins: its session is returned, marked as
    found again, exactly as if this ingest had started after it.
    """
    step, usual_step = cadence or (1.0, 0.0)
    detector = Detector(config, cadence=step, usual_step=usual_step)
    summary = SummaryBuilder(max_hr)
    try:
        writer = store.begin(session)  # raises with nothing held, or returns a writer to commit or abort
    except AlreadyStored:
        return _found_again(store, session)
    try:
        anomalies: list[Anomaly] = []
        for batch, events in column_batches(detector, columns, BATCH):
            if batch:
                _check_times(session.source, batch.ts)
                writer.add_readings(batch)
                fold_batch(summary, batch)
                if session.start is None:
                    session.start = batch.ts[0]
                session.readings += len(batch)
                session.filled += batch.filled
                session.end = batch.ts[-1]
            anomalies += events
        if finalize is not None:
            finalize(session)
        session.stats = detector.stats
        session.cadence = cadence_report(detector.cadence, step, config, session.iso)
        anomalies.sort(key=lambda a: (a.start, a.end))
        session.anomalies = anomalies
        session.summary = stored(session, summary.finish(), max_hr)  # report and trends read this
        writer.commit(session)
    except AlreadyStored:
        writer.abort()
        return _found_again(store, session)
    except BaseException:
        writer.abort()
        raise
    return session


def _check_times(source: str, ts: Sequence[float]) -> None:
    """Refuse a batch with a time outside 1970–2099 (or NaN, inf) before it is stored.

    :func:`ingest` checks each series first; this guard also covers the two-process path and any
    reader bug, because a stored session must never hold a time a listing cannot show. Batches are
    in time order, so the ends bound the rest; the sum catches a NaN in the middle.
    """
    if not (ts[0] >= 0 and ts[-1] < LATEST and math.isfinite(sum(ts))):
        bad = next((t for t in ts if not 0 <= t < LATEST), ts[0])
        raise InputError(source, f"times out of range: {bad!r} s after 1970 (hrviz stores 1970–2099); nothing stored")


def _found_again(store: SessionStore, session: Session) -> Session:
    found = existing(store, session.fingerprint)
    if found is None:  # pragma: no cover — AlreadyStored means it is committed
        raise RuntimeError(f"session {session.id} was reported stored but cannot be found")
    return found


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

        start = box.published_upto + 1
        try:  # the store is read only if the queue staged nothing for it (readings() is lazy)
            position = queue.publish(session, store.readings(box.session_id, start), acked, from_seq=start)
        except Exception as err:  # noqa: BLE001 — reported to the caller, who decides the exit code
            report.failed = str(err)
            report.pending = store.unpublished()
            return report
        store.mark_published(box.session_id, box.readings - 1, position or box.position)
        report.published.append(box.session_id)
    return report
