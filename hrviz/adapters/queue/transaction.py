"""A session produced into a Kafka transaction while the store writes it, committed after the store.

Publishing after the store's commit (the outbox, docs/outbox.md) made an ingest wait for the whole
publish: the connection, the producer's set-up, a million records. Here the records go to Kafka
as the store gets them, inside a Kafka transaction: a consumer that honours transactions
(``read_committed``, the Kafka default) sees none of them until the transaction commits, and it
commits only after the store has committed; an aborted store aborts it. The outbox mark then moves
to the last seq at once, so nothing is left for ``publish_pending``.

Nothing here may slow or fail the store: the producer is set up in a background thread (one per
queue, a ``transactional.id`` of its own, so no other ingest is fenced), never waited for. Every
batch also goes to the file staging (queue/staging.py), so whatever goes wrong — the producer not
ready in time, unreachable, a full local queue, a failed or fenced commit — the session is left
to ``publish_pending`` as before, sent from that file after the commit. A process that dies between
the two commits leaves a transaction the broker aborts after ``transaction.timeout.ms``; the
session's mark is still -1, so the next ingest or ``serve`` start publishes it.

hrviz's own replays read uncommitted (queue/kafka_subscriber.py says why that is safe), so an open
transaction holds back only read_committed consumers, and only for the length of one ingest.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from hrviz.adapters.queue.staging import StagedRecords
from hrviz.core.model import ReadingBatch, Session
from hrviz.core.ports import QueuePosition

TRANSACTION_TIMEOUT_MS = 60_000  # a transaction its producer abandoned (a crash) is aborted by then
INIT_TIMEOUT = 10.0  # seconds the background set-up may take (a store never waits for it)
END_TIMEOUT = 30.0  # seconds a commit or an abort may take (the producer's records first)


class TransactionalProducer:
    """One queue's transactional producer: set up in the background, one session's transaction at a time."""

    def __init__(self, config: dict[str, Any], prepare: Callable[[], None]) -> None:
        self.transactional_id = f"hrviz-ingest-{uuid.uuid4().hex}"  # never shared: nobody is fenced by mistake
        self._config = {
            **config,
            "transactional.id": self.transactional_id,
            "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
        }
        self._prepare = prepare
        self._producer: Producer | None = None
        self._lock = threading.Condition()
        self._busy = False  # a session's transaction is open (or being ended)
        self.ready = threading.Event()  # set when the set-up ended, whether it worked or not
        self.error: str | None = None
        threading.Thread(target=self._set_up, name="hrviz-kafka-transactions", daemon=True).start()

    def _set_up(self) -> None:
        try:
            self._prepare()  # the topic exists (a transaction cannot create it)
            producer = Producer(self._config)
            producer.init_transactions(INIT_TIMEOUT)
            self._producer = producer
        except Exception as err:  # noqa: BLE001 — any failure means: publish after the commit, as before
            self.error = str(err)
        finally:
            self.ready.set()

    def begin(self) -> Producer | None:
        """The producer with a new transaction begun, if it is set up and free right now; never waits."""
        with self._lock:
            if self._busy or self._producer is None or not self.ready.is_set():
                return None
            try:
                self._producer.begin_transaction()
            except KafkaException as err:
                self._broken(err)
                return None
            self._busy = True
            return self._producer

    def commit(self) -> bool:
        """Commit the open transaction; False (and aborted, or the producer dropped) if it failed."""
        producer = self._producer
        assert producer is not None and self._busy
        try:
            producer.commit_transaction(END_TIMEOUT)
        except KafkaException as err:
            self.abort(err.args[0] if err.args else None)
            return False
        self._release()
        return True

    def abort(self, err: KafkaError | None = None) -> None:
        """Abort the open transaction in the background (the broker may be gone: nobody waits for it)."""
        if err is not None and not err.txn_requires_abort():  # fatal (fenced, ...): the producer is done for
            self._broken(err)
            return
        threading.Thread(target=self._abort, name="hrviz-kafka-abort", daemon=True).start()

    def _abort(self) -> None:
        producer = self._producer
        if producer is None:
            return
        try:
            producer.abort_transaction(END_TIMEOUT)
        except (KafkaException, RuntimeError) as err:
            self._broken(err)
            return
        self._release()

    def _release(self) -> None:
        with self._lock:
            self._busy = False
            self._lock.notify_all()

    def _broken(self, err: object) -> None:
        """No more transactions from this producer (the broker times out whatever it left open)."""
        with self._lock:
            self._producer = None
            self._busy = False
            self._lock.notify_all()
        self.error = str(err)

    def idle(self, timeout: float) -> bool:
        """Wait until no transaction is open or being aborted (an abort runs in the background)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._busy, timeout)

    def close(self) -> None:
        """An abort still running gets a few seconds, so that read_committed consumers need not wait
        for the broker to time the transaction out."""
        self.idle(5)
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None and not self._busy:
            producer.flush(5)


class TransactionalStaging:
    """:class:`hrviz.core.ports.Staging`: the file staging, and the same records into a transaction."""

    def __init__(self, staged: StagedRecords, producer: TransactionalProducer, topic: str, key: bytes) -> None:
        self.staged = staged
        self._txn = producer
        self._topic, self._key = topic, key
        self._producer: Producer | None = None  # set while this session's transaction is open
        self._off = False  # the transaction was given up: the file staging alone carries the session
        self._next = 0  # the seq after the last record encoded
        self._sent_first = False
        self._first: list[tuple[KafkaError | None, int | None, int | None]] = []  # seq 0's delivery report

    def add(self, batch: ReadingBatch) -> None:
        if not len(batch):
            return
        block = self.staged.encoder.encode_block(batch)
        self.staged.add_block(batch.first_seq, len(batch), block)
        if batch.first_seq != self._next:
            self._give_up()
        self._next = batch.first_seq + len(batch)
        if self._off:
            return
        if self._producer is None:
            self._begin()  # what came before (staged) is produced first
        elif not self._produce(block.split(b"\n")[:-1]):  # one bytes object a record, made in C
            self._give_up()

    def _begin(self) -> None:
        staged = self.staged
        if not staged.usable or staged.first_seq != 0 or staged.next_seq != self._next:
            self._give_up()  # nothing to catch up from
            return
        producer = self._txn.begin()
        if producer is None:
            if self._txn.ready.is_set() and self._txn.error is not None:
                self._off = True  # it will not be: stop asking
            return  # not set up yet: the next batch asks again
        self._producer = producer
        for chunk in staged.chunks(0):
            if not self._produce(chunk):
                self._give_up()
                return

    def _produce(self, records: Sequence[str | bytes]) -> bool:
        """Produce every record in order, from ``map`` (no Python per record, no delivery callback but
        seq 0's: its report is the position); False when the local queue is full (Kafka slow or gone)."""
        producer = self._producer
        assert producer is not None
        rest = iter(records)
        try:
            if not self._sent_first:
                report = self._first.append
                first = next(rest)
                producer.produce(
                    self._topic, first, self._key, on_delivery=lambda e, m: report((e, m.partition(), m.offset()))
                )
                self._sent_first = True
            deque(map(producer.produce, repeat(self._topic), rest, repeat(self._key)), maxlen=0)
        except BufferError:
            return False
        producer.poll(0)  # delivery reports: they hold room in the local queue until served
        return True

    def _give_up(self) -> None:
        if self._producer is not None:
            self._producer = None
            self._txn.abort()
        self._off = True

    def commit(self, session: Session) -> QueuePosition | None:
        """After the store's commit: commit the transaction; its position, or None when the session
        is left to ``publish_pending`` (sent from the file staging)."""
        self.staged.commit(session)
        producer = self._producer
        if producer is None or self._off:
            return None
        self._producer = None
        if not self.staged.matches(session, self._next):  # encoded with a guessed offset that was wrong
            self._txn.abort()
            return None
        try:
            if not self._txn.commit():
                return None
            producer.flush(5)  # serves seq 0's delivery report, if it was not yet
        except Exception:  # noqa: BLE001 — whatever it was, publish_pending sends the session
            return None
        if not self._first:
            return None
        err, partition, offset = self._first[0]
        if err is not None or partition is None or offset is None:
            return None
        self.staged.discard()  # published: the file is not needed
        return QueuePosition(partition, offset)

    def discard(self) -> None:
        self.staged.discard()
        if self._producer is not None:
            self._producer = None
            self._txn.abort()
        self._off = True
