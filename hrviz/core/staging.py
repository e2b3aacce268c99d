"""A store whose writers also hand every batch to the queue's staging (:meth:`ReadingQueue.stage`).

Ingest computes each session's readings once; the store writes them, and publishing after the
commit (the outbox) used to read them back. Wrapped by :class:`StagingStore`, every writer passes
each batch on to the queue's staging as well — the Kafka queue encodes the records then — and
tells the staging whether the store committed (``commit``, with the final session) or aborted
(``discard``). Nothing is visible to subscribers before the commit; ``publish_pending`` afterwards
sends what was staged, unless the staging published it all at the commit (Kafka: a transaction
filled while the store wrote), which moves the outbox mark to the end at once. :mod:`hrviz.wiring`
wraps the store it opens, so every ingest path (files, archives, uploads, watch) stages without
knowing it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hrviz.core.model import Reading, ReadingBatch, Session
from hrviz.core.ports import Listing, Outbox, QueuePosition, ReadingQueue, SessionStore, SessionWriter, Staging


class StagingWriter:
    """:class:`SessionWriter` that tees batches into a staging; the store's result decides its fate."""

    def __init__(self, writer: SessionWriter, staging: Staging, store: SessionStore | None = None) -> None:
        self._writer = writer
        self._staging = staging
        self._store = store  # where the outbox mark moves when the staging published the session

    def add_readings(self, batch: ReadingBatch) -> None:
        self._writer.add_readings(batch)
        self._staging.add(batch)

    def commit(self, session: Session) -> None:
        try:
            self._writer.commit(session)
        except BaseException:
            self._staging.discard()
            raise
        position = self._staging.commit(session)
        if position is None or self._store is None:
            return
        # a store that fails here (gone since its commit) leaves the mark: publish_pending sends the
        # session again later, and replay skips the copies
        with contextlib.suppress(Exception):
            self._store.mark_published(session.id, session.readings - 1, position)

    def abort(self) -> None:
        try:
            self._writer.abort()
        finally:
            self._staging.discard()


class StagingStore:
    """:class:`SessionStore` that lets ``queue`` stage what is written; everything else is the store's."""

    def __init__(self, store: SessionStore, queue: ReadingQueue) -> None:
        self.store = store
        self.queue = queue

    def begin(self, session: Session) -> SessionWriter:
        writer = self.store.begin(session)
        try:
            staging = self.queue.stage(session)
        except BaseException:
            writer.abort()
            raise
        return writer if staging is None else StagingWriter(writer, staging, self.store)

    def find(self, fingerprint: str) -> Session | None:
        return self.store.find(fingerprint)

    def get(self, session_id: str) -> Session | None:
        return self.store.get(session_id)

    def list_sessions(self, limit: int = 100) -> list[Session]:
        return self.store.list_sessions(limit)

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        return self.store.browse(offset, limit, query, order)

    def delete(self, session_id: str) -> bool:
        return self.store.delete(session_id)

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        return self.store.readings(session_id, from_seq)

    def unpublished(self) -> list[Outbox]:
        return self.store.unpublished()

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        self.store.mark_published(session_id, upto_seq, position)

    def position(self, session_id: str) -> QueuePosition | None:
        return self.store.position(session_id)

    def close(self) -> None:
        self.store.close()
