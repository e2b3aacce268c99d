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
            return self._follow(session_id, from_seq)
        return self._store.readings(session_id, from_seq)  # committed sessions are complete: count is moot

    def _follow(self, session_id: str, from_seq: int) -> Iterator[Reading]:
        """A live session: read the store again from the next seq whenever what it held is used up
        (the caller asks only for stored readings); ends if a look finds nothing new."""
        next_seq = from_seq
        while True:
            start = next_seq
            for r in self._store.readings(session_id, next_seq):
                next_seq = r.seq + 1
                yield r
            if next_seq == start:
                return

    def close(self) -> None:
        pass
