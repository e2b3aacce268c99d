"""Records encoded while a session is being stored, sent as they are once the store has committed.

Publishing after the commit (the outbox, docs/outbox.md) used to read every reading back from the
store and encode it then; ingest had just computed them. A :class:`StagedRecords` encodes each
batch as ingest hands it to the store and appends the records to an unlinked temporary file
(about 125 bytes a reading, nothing left behind even after a SIGKILL; memory stays flat), so the
publish after the commit only reads lines and produces them. Nothing is sent before the commit:
the staging is only a local file, dropped when the store aborts.

Stagings are kept per process (``serve`` opens a queue per thread; the thread that publishes need
not be the one that ingested), keyed by bootstrap, topic and session id, and handed out once.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import IO

from hrviz.adapters.queue.records import RecordEncoder
from hrviz.core.model import Reading, ReadingBatch, Session

STAGE_LIMIT = 512 * 2**20  # bytes of records staged per session (~4M readings); beyond, publish reads the store
READ_BLOCK = 1 << 20  # bytes read back at a time: ~8,000 records
CHUNK = 2000  # records encoded from Reading objects at a time


class StagedRecords:
    """:class:`hrviz.core.ports.Staging` for Kafka: one session's encoded records in a temporary file."""

    def __init__(self, key: tuple[str, str, str], encoder: RecordEncoder, limit: int | None = None) -> None:
        self.key = key
        self.encoder = encoder
        self._limit = STAGE_LIMIT if limit is None else limit
        self._file: IO[bytes] | None = None
        self.size = 0
        self.first_seq: int | None = None
        self.next_seq: int | None = None  # the seq after the last staged record
        self.committed = False
        self.usable = True  # False once something went wrong: publish reads the store instead

    def add(self, batch: ReadingBatch) -> None:
        if self.usable and len(batch):
            self.add_block(batch.first_seq, len(batch), self.encoder.encode_block(batch))

    def add_block(self, first_seq: int, count: int, data: bytes) -> None:
        """Append ``count`` records from ``first_seq`` on, encoded by ``encoder`` as one block."""
        if not self.usable or not count:
            return
        if self.next_seq is not None and first_seq != self.next_seq:
            return self.give_up()  # not consecutive: never guess
        if self.size + len(data) > self._limit:
            return self.give_up()
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="hrviz-records-")  # noqa: SIM115 — kept open across calls
            self._file.seek(0, 2)  # at the end, even after a partial read of chunks()
            self._file.write(data)
        except OSError:  # a full disk costs speed, never the ingest
            return self.give_up()
        self.size += len(data)
        if self.first_seq is None:
            self.first_seq = first_seq
        self.next_seq = first_seq + count

    def commit(self, session: Session) -> None:
        """The store committed ``session``; records encoded with another UTC offset (a guess that
        turned out wrong) are not used."""
        if not self.matches(session, self.next_seq or 0):
            self.give_up()
        self.committed = True

    def matches(self, session: Session, encoded: int) -> bool:
        """Whether ``encoded`` records (seq 0 on) made here are the committed session's, all of them."""
        return session.tz_offset_min == self.encoder.tz_offset_min and session.readings == encoded

    def discard(self) -> None:
        self.give_up()
        REGISTRY.drop(self)

    def give_up(self) -> None:
        self.usable = False
        if self._file is not None:
            self._file.close()
            self._file = None

    def covers(self, from_seq: int, end: int) -> bool:
        """Whether the committed staging holds every record from ``from_seq`` to ``end`` (exclusive)."""
        return (
            self.usable
            and self.committed
            and self._file is not None
            and self.first_seq is not None
            and self.first_seq <= from_seq
            and self.next_seq == end
        )

    def chunks(self, from_seq: int) -> Iterator[list[bytes]]:
        """The staged records from ``from_seq`` on, a list of consecutive records at a time."""
        f = self._file
        assert f is not None and self.first_seq is not None
        f.flush()
        f.seek(0)
        skip = from_seq - self.first_seq
        rest = b""
        while block := f.read(READ_BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            if skip:
                dropped = min(skip, len(lines))
                del lines[:dropped]
                skip -= dropped
            if lines:
                yield lines


def encoded(encoder: RecordEncoder, readings: Iterable[Reading]) -> Iterator[list[str]]:
    """Readings (from the store, or a caller's list) as chunks of encoded records."""
    encode, chunk = encoder.encode, []
    for r in readings:
        chunk.append(encode(r))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Registry:
    """The process's committed-or-in-progress stagings, handed out once to a publish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._staged: dict[tuple[str, str, str], StagedRecords] = {}

    def add(self, staged: StagedRecords) -> None:
        with self._lock:
            old = self._staged.get(staged.key)
            self._staged[staged.key] = staged
        if old is not None:  # the same session staged twice at once (two uploads of one file)
            old.give_up()

    def take(self, key: tuple[str, str, str]) -> StagedRecords | None:
        with self._lock:
            staged = self._staged.get(key)
            if staged is not None and staged.committed:
                del self._staged[key]
                return staged
        return None

    def drop(self, staged: StagedRecords) -> None:
        with self._lock:
            if self._staged.get(staged.key) is staged:
                del self._staged[staged.key]


REGISTRY = _Registry()
