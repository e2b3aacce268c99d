"""The embedded queue: in-process, with the store as its log.

Publishing to it only records the acknowledgement (the readings are already durable in the
store, in seq order); subscribers read the store from the recorded seq. So the embedded default
follows exactly the outbox protocol of the Kafka path, without a broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from hrviz.core.model import Reading, Session
from hrviz.core.ports import QueuePosition, SessionStore


class LocalQueue:
    """:class:`hrviz.core.ports.ReadingQueue` for the embedded default."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    def stage(self, session: Session) -> None:
        """Nothing to prepare: the store is the log."""
        return None

    def publish(
        self,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None = None,
        *,
        from_seq: int | None = None,
    ) -> QueuePosition | None:
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
        if follow:
            return _Follow(self._store, session_id, from_seq)
        return self._store.readings(session_id, from_seq)  # committed sessions are complete: count is moot

    def close(self) -> None:
        pass


class _Follow:
    """A live session's read: what the store holds now, then it stops; iterated again, it reads the
    store from the next seq (one indexed query)."""

    def __init__(self, store: SessionStore, session_id: str, from_seq: int) -> None:
        self._store = store
        self._session_id = session_id
        self._next = from_seq
        self._it: Iterator[Reading] | None = None

    def __iter__(self) -> _Follow:
        return self

    def __next__(self) -> Reading:
        if self._it is None:
            self._it = iter(self._store.readings(self._session_id, self._next))
        try:
            r = next(self._it)
        except StopIteration:
            self._it = None
            raise
        self._next = r.seq + 1
        return r
