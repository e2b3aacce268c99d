"""The ports: what the use cases need from the outside world, as Protocols.

Adapters implement them (SQLite and MySQL stores; in-process and Kafka queues). The use cases
only ever see these types, so the same flows run on the embedded default and the real stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from hrviz.core.model import Anomaly, Reading, ReadingBatch, Session


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a session's readings landed in the queue, recorded so replay never scans from the start.

    For Kafka: the topic partition and the offset of the session's first record (seq 0). The
    in-process queue uses partition 0 and an index.
    """

    partition: int
    first_offset: int


@dataclass(frozen=True, slots=True)
class Outbox:
    """A committed session whose readings are not all acknowledged by the queue yet."""

    session_id: str
    published_upto: int  # seq of the last acknowledged reading, -1 when none
    readings: int  # how many readings the session has in all
    position: QueuePosition | None


ORDERS = ("uploaded", "start", "name", "readings", "anomalies")  # how SessionStore.browse can sort


@dataclass(frozen=True, slots=True)
class Listed:
    """A session in a listing: its summary (no events), when it was stored, how many events it has."""

    session: Session
    uploaded_at: float | None
    anomalies: int


@dataclass(frozen=True, slots=True)
class Listing:
    items: list[Listed]
    total: int  # sessions matching the query, over all pages


class SessionWriter(Protocol):
    """One session being written; nothing is visible to readers of the store until ``commit``."""

    def add_readings(self, batch: ReadingBatch) -> None:
        """The next readings in seq order, as columns (iterate the batch for Reading objects)."""
        ...

    def commit(self, session: Session) -> None:
        """Store the final summary and anomalies and make the session visible, atomically.

        Raises :class:`hrviz.core.errors.AlreadyStored` when a racing ingest committed the same
        fingerprint first (then nothing of this one is stored). Whatever it raises, the writer
        holds nothing afterwards (no lock, no open transaction); ``abort`` is still safe to call.
        """
        ...

    def abort(self) -> None:
        """Throw away everything written so far (bad input, Ctrl-C, lost connection); never raises."""
        ...


class SessionStore(Protocol):
    """Persists sessions for later analysis, and is the outbox that publication resumes from."""

    def find(self, fingerprint: str) -> Session | None:
        """The committed session with this fingerprint (same file bytes, same subject), if any."""
        ...

    def begin(self, session: Session) -> SessionWriter:
        """A writer for a new session; if this raises (or :class:`AlreadyStored`), nothing is held."""
        ...

    def get(self, session_id: str) -> Session | None: ...

    def list_sessions(self, limit: int = 100) -> list[Session]:
        """Committed sessions, newest first (anomalies may be left empty: a listing, not a report)."""
        ...

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        """One page of committed sessions whose source or subject contains ``query``, in ``order``
        (one of :data:`ORDERS`), with how many match in all: a listing that scales to thousands."""
        ...

    def delete(self, session_id: str) -> bool:
        """Remove the session, its readings and its events in one transaction; False if unknown."""
        ...

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        """The session's readings in seq order from ``from_seq``; streamed, never all in memory."""
        ...

    def unpublished(self) -> list[Outbox]:
        """Committed sessions whose readings are not all acknowledged by the queue."""
        ...

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        """Record that every reading up to ``upto_seq`` is acknowledged, and where they landed."""
        ...

    def position(self, session_id: str) -> QueuePosition | None:
        """Where the session's first record is in the queue, as recorded by ``mark_published``.

        Kept in the store, not in a process's memory, so any ``serve`` can replay any session.
        """
        ...

    def close(self) -> None: ...


class Staging(Protocol):
    """A queue's preparation of one session's records while the store writes the session.

    Nothing may become visible to the queue's subscribers before the store commits: a queue may
    encode what it will send, or send it in a transaction of its own that it commits only in
    ``commit`` (Kafka does both). The use case hands it every batch it hands the store's writer,
    then ``commit`` with the session as the store committed it, or ``discard`` when the store aborted.
    """

    def add(self, batch: ReadingBatch) -> None: ...

    def commit(self, session: Session) -> QueuePosition | None:
        """The store committed ``session``. The position when every reading of it is now published
        (the outbox mark can move to the last one), None when publishing is left to ``publish_pending``;
        never raises."""
        ...

    def discard(self) -> None: ...


class ReadingQueue(Protocol):
    """Carries every reading from the producer (ingest) to subscribers (serve, watch)."""

    def stage(self, session: Session) -> Staging | None:
        """Start preparing the records of a session about to be stored; None: nothing to prepare."""
        ...

    def publish(
        self,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None = None,
        *,
        from_seq: int | None = None,
    ) -> QueuePosition | None:
        """Publish readings in seq order and return only when every one is acknowledged.

        ``on_acked(upto_seq, position)`` may be called along the way so the outbox mark can
        advance before the end; only ever with every reading up to ``upto_seq`` acknowledged.
        Raises :class:`hrviz.core.errors.BackendUnavailable` when the queue cannot take them;
        readings acknowledged before the failure stay acknowledged. ``from_seq``, the seq of the
        first reading when the caller knows it, lets a queue send what it staged for the committed
        session instead of iterating ``readings`` (which then may stay unread). Returns the
        position of the session's records (None when nothing was published).
        """
        ...

    def replay(
        self,
        session_id: str,
        position: QueuePosition | None,
        from_seq: int = 0,
        *,
        count: int | None = None,
        follow: bool = False,
    ) -> Iterator[Reading]:
        """The session's readings from ``from_seq`` in order, read from the recorded position.

        ``count``, the session's number of readings when the caller knows it, lets a replay follow
        a publication still in progress (it waits for the later seqs); without it, replay ends at
        what the queue holds now. ``follow`` (a live session, docs/live.md) keeps the read open at
        its position and never waits: iterating gives what has arrived and stops; iterated again
        later, it gives what arrived since. The caller closes it; ``count`` is then ignored.
        """
        ...

    def close(self) -> None: ...


class LiveStore(Protocol):
    """Writes a live session as it grows: every ``append`` is one small transaction (docs/live.md).

    A live session is visible from its first append on (listed, with its readings so far) and
    flagged live until ``finish`` stores its final summary and anomalies.
    """

    def append(
        self, session: Session, batch: ReadingBatch, events: Sequence[Anomaly] = (), events_from: int | None = None
    ) -> None:
        """Store ``batch`` (the next readings) and the running summary of ``session`` atomically;
        the first call creates the session, flagged live. ``events`` are the anomalies detected so
        far from index ``events_from`` on, stored in the same transaction: they replace what the
        store holds from that index (None: the stored anomalies stay as they are), so a viewer who
        opens the session mid-way sees what was found so far, not only after ``finish``."""
        ...

    def reopen(self, session_id: str) -> None:
        """Flag a finished session live again (a restarted ``ingest --follow`` continues it)."""
        ...

    def finish(self, session: Session) -> None:
        """The final summary and anomalies; the session is no longer live."""
        ...

    def live_ids(self) -> set[str]:
        """The sessions being written right now (or whose writer died before finishing)."""
        ...


class LiveMark(NamedTuple):
    """How far a live session is stored: a follower asks the store more only when one grew."""

    readings: int
    anomalies: int


@dataclass
class Backends:
    """The store and the queue a command works with, as chosen by :mod:`hrviz.wiring`."""

    store: SessionStore
    queue: ReadingQueue
    description: str
    replay_needs_position: bool = False  # the queue replays from the recorded position (Kafka), not the store
    # the sessions being recorded now, and how many readings and anomalies each has stored (docs/live.md)
    live_ids: Callable[[], dict[str, LiveMark]] | None = None

    def close(self) -> None:
        self.queue.close()
        self.store.close()
