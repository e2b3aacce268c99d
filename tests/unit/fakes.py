"""In-memory fakes of the ports for use-case tests, in the cosmicpython way (no I/O).

Each subclasses the Protocol it stands in for, so mypy holds it to the port's signatures and a
port that changes breaks the fake at once instead of letting it drift.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence

from hrviz.core.model import Anomaly, Reading, ReadingBatch, Session
from hrviz.core.ports import (
    Listed,
    Listing,
    LiveStore,
    Outbox,
    QueuePosition,
    ReadingQueue,
    SessionStore,
    SessionWriter,
    Staging,
)


class MemoryStore(SessionStore):
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.rows: dict[str, list[Reading]] = {}
        self.marks: dict[str, int] = {}
        self.positions: dict[str, QueuePosition | None] = {}
        self.aborted = 0

    def find(self, fingerprint: str) -> Session | None:
        return next((copy.copy(s) for s in self.sessions.values() if s.fingerprint == fingerprint), None)

    def begin(self, session: Session) -> MemoryWriter:
        return MemoryWriter(self, session)

    def get(self, session_id: str) -> Session | None:
        s = self.sessions.get(session_id)
        return copy.copy(s) if s else None

    def list_sessions(self, limit: int = 100) -> list[Session]:
        return list(self.sessions.values())[:limit]

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        found = [s for s in self.sessions.values() if query in s.source or query in (s.subject or "")]
        return Listing([Listed(s, None, len(s.anomalies)) for s in found[offset : offset + limit]], len(found))

    def delete(self, session_id: str) -> bool:
        self.rows.pop(session_id, None)
        return self.sessions.pop(session_id, None) is not None

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        yield from (r for r in self.rows.get(session_id, []) if r.seq >= from_seq)

    def unpublished(self) -> list[Outbox]:
        return [
            Outbox(sid, self.marks[sid], s.readings, self.positions.get(sid))
            for sid, s in self.sessions.items()
            if self.marks[sid] < s.readings - 1
        ]

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        self.marks[session_id] = max(self.marks[session_id], upto_seq)
        if position is not None and self.positions.get(session_id) is None:
            self.positions[session_id] = position

    def position(self, session_id: str) -> QueuePosition | None:
        return self.positions.get(session_id)

    def close(self) -> None:
        pass


class MemoryWriter(SessionWriter):
    def __init__(self, store: MemoryStore, session: Session) -> None:
        self.store, self.session = store, session
        self.rows: list[Reading] = []

    def add_readings(self, batch: ReadingBatch) -> None:
        self.rows.extend(batch)

    def commit(self, session: Session) -> None:
        self.store.sessions[session.id] = copy.copy(session)
        self.store.rows[session.id] = self.rows
        self.store.marks[session.id] = -1

    def abort(self) -> None:
        self.store.aborted += 1


class RecordingQueue(ReadingQueue):
    """Collects what is published; ``fail_after`` makes it die part-way, as a broker can."""

    def __init__(
        self,
        fail_after: int | None = None,
        staging: bool = False,
        store: MemoryStore | None = None,
        published: QueuePosition | None = None,
    ) -> None:
        self.records: list[tuple[str, int]] = []
        self.fail_after = fail_after
        self.staging, self.store = staging, store
        self.published = published  # what a staging's commit reports: it published the session itself
        self.stagings: list[RecordingStaging] = []
        self.from_seqs: list[int | None] = []

    def stage(self, session: Session) -> RecordingStaging | None:  # a Staging
        if not self.staging:
            return None
        staging = RecordingStaging(session, self.store, self.published)
        self.stagings.append(staging)
        return staging

    def publish(
        self,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None = None,
        *,
        from_seq: int | None = None,
    ) -> QueuePosition | None:
        self.from_seqs.append(from_seq)
        for r in readings:
            if self.fail_after is not None and len(self.records) >= self.fail_after:
                raise ConnectionError("broker went away")
            self.records.append((session.id, r.seq))
            if on_acked and r.seq % 10 == 9:
                on_acked(r.seq, QueuePosition(0, 0))
        return QueuePosition(0, 0)

    def replay(
        self,
        session_id: str,
        position: QueuePosition | None,
        from_seq: int = 0,
        *,
        count: int | None = None,
        follow: bool = False,
    ) -> Iterator[Reading]:
        return iter(())

    def close(self) -> None:
        pass


class RecordingStaging(Staging):
    """What the use case hands a queue's staging, and when (relative to the store's commit)."""

    def __init__(self, session: Session, store: MemoryStore | None, published: QueuePosition | None = None) -> None:
        self.session, self.store, self.published = session, store, published
        self.readings: list[Reading] = []
        self.events: list[str] = []

    def add(self, batch: ReadingBatch) -> None:
        self.readings.extend(batch)

    def commit(self, session: Session) -> QueuePosition | None:
        committed = self.store is not None and session.id in self.store.sessions
        self.events.append(f"commit {session.readings} readings, store committed: {committed}")
        return self.published

    def discard(self) -> None:
        self.events.append("discard")


class MemoryLive(LiveStore):
    """Live sessions in a :class:`MemoryStore`: every append is one 'transaction' (counted)."""

    def __init__(self, store: MemoryStore, fail: bool = False) -> None:
        self.store = store
        self.live: set[str] = set()
        self.appends: list[int] = []  # readings per append
        self.fail = fail

    def append(
        self, session: Session, batch: ReadingBatch, events: Sequence[Anomaly] = (), events_from: int | None = None
    ) -> None:
        if self.fail:
            raise ConnectionError("store went away")
        held = self.store.sessions.get(session.id)
        so_far = list(held.anomalies) if held is not None else []
        self.store.sessions[session.id] = copy.copy(session)
        if events_from is not None:
            so_far = so_far[:events_from] + list(events)
        self.store.sessions[session.id].anomalies = so_far
        self.store.rows.setdefault(session.id, []).extend(batch)
        self.store.marks.setdefault(session.id, -1)
        self.live.add(session.id)
        self.appends.append(len(batch))

    def reopen(self, session_id: str) -> None:
        self.live.add(session_id)

    def finish(self, session: Session) -> None:
        self.store.sessions[session.id] = copy.copy(session)
        self.live.discard(session.id)

    def live_ids(self) -> set[str]:
        return set(self.live)
