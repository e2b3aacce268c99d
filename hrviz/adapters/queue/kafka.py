"""The Kafka queue (``--kafka BOOTSTRAP``): every reading becomes one JSON record on a topic.

Records are keyed by session id, so one session lives on one partition, in seq order. The
producers are idempotent with ``acks=all``: a broker retry never doubles or reorders a record.
:meth:`KafkaQueue.publish` returns only once every record is acknowledged, and moves the outbox
mark through ``on_acked`` at checkpoints, each covering only records known to be acknowledged:

* The first record goes alone through a *reporting* producer (a delivery report per record): its
  report gives the position (partition and offset of the session's first record) and a first mark.
* The rest go through a *bulk* producer whose delivery reports reach Python only for failures
  (``delivery.report.only.error``): a million Python callbacks were a third of the publish time.
  Every ``WINDOW`` records, or every ``WINDOW_SECONDS`` when the producer has caught up with its
  source (so that waiting costs nothing), a checkpoint flushes it: once nothing is
  outstanding, every record produced so far has its report, and with no failure reported all of
  them were acknowledged, so the mark moves to the last one. No assumption about the order of
  delivery reports is needed.

A broker that is down, a refusal, or acks that do not come within ``message.timeout.ms`` end in
:class:`BackendUnavailable`; the mark stays at the last checkpoint, the producers are purged and
dropped, and the next ``publish_pending`` resumes from the mark. Records of a session just stored
come from its staging (queue/staging.py) instead of the store. Usually there are none left: an
ingest produces them into a transaction while storing (queue/transaction.py), and this publish is
its fallback. Replay: queue/kafka_subscriber.py. The record: queue/records.py.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, repeat
from operator import length_hint
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from hrviz.adapters.queue.kafka_subscriber import SharedConsumer
from hrviz.adapters.queue.records import RecordEncoder
from hrviz.adapters.queue.staging import REGISTRY, StagedRecords, encoded
from hrviz.adapters.queue.transaction import TransactionalProducer, TransactionalStaging
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Reading, Session
from hrviz.core.ports import QueuePosition

DEFAULT_TOPIC = "hrviz.readings"
PARTITIONS = 6  # parallelism for consumers; one session always stays on one partition
# A checkpoint (flush, then move the outbox mark) drains the producer: nothing is sent while the
# last records in flight are acknowledged, so it costs in proportion to what is outstanding.
WINDOW = 500_000  # records between two checkpoints at most (a resume re-sends at most this many) ...
WINDOW_SECONDS = 1.0  # ... and one each second when the source, not the broker, is the slow one:
CAUGHT_UP = 5_000  # at most this many records outstanding (the drain is then nearly free)
PROBE_TIMEOUT = 5.0  # seconds a metadata request may take before the broker counts as unreachable
# (bootstrap, topic) pairs a queue of this process has found or created: ``serve`` opens a queue per
# lane thread, and each probe is the whole cluster's metadata turned into Python objects with the
# GIL held (5 ms of CPU for a broker of 771 topics, more under load), 8 in the first viewers' burst
TOPICS_READY: set[tuple[str, str]] = set()
MESSAGE_TIMEOUT_MS = 15_000  # a record not acknowledged within this fails the publish
# unacknowledged records allowed at once: message.timeout.ms counts time spent in the local queue
# too, so a deep queue in front of a slow (just restarted, busy) broker would time out by itself
MAX_OUTSTANDING = 50_000
PRODUCER: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 25,
    "batch.size": 1_000_000,
    "batch.num.messages": 20_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 200_000,
    "queue.buffering.max.kbytes": 256 * 1024,
    "partitioner": "murmur2_random",  # the Java clients' partitioner: same key, same partition
}


class KafkaQueue:
    """:class:`hrviz.core.ports.ReadingQueue` on Apache Kafka (confluent-kafka / librdkafka).

    Opening never contacts the broker, so ``ingest`` can store a session while Kafka is down and
    report the publish failure afterwards; the first publish or replay probes the broker (a few
    seconds at most) and creates the topic if missing.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str | None = None,
        *,
        partitions: int = PARTITIONS,
        message_timeout_ms: int = MESSAGE_TIMEOUT_MS,
        transactional: bool = True,  # False: stage to a file only, publish after the commit (tests)
    ) -> None:
        self.bootstrap, self.transactional = bootstrap, transactional
        self.topic = topic or DEFAULT_TOPIC
        self.partitions = partitions
        self.message_timeout_ms = message_timeout_ms
        self._base: dict[str, Any] = {"bootstrap.servers": bootstrap, "log_level": 0, "client.id": "hrviz"}
        self._reporting: Producer | None = None
        self._bulk: Producer | None = None
        self._failures: list[KafkaError] = []  # the bulk producer's failed deliveries in this publish
        self._staged: list[StagedRecords] = []  # stagings made here: dropped at close if never published
        self._consumer: SharedConsumer | None = None
        self._transactions: TransactionalProducer | None = None  # an ingest's, made by the first stage()
        self._ready = False
        self._lock = threading.Lock()  # setup: topic probe, consumer creation, close
        self._publishing = threading.Lock()  # one publish at a time (per-call ack bookkeeping), not blocking replays

    # -- setup ------------------------------------------------------------------------------------

    def ensure_topic(self) -> None:
        """Probe the broker and create the topic if missing; BackendUnavailable when unreachable."""
        if self._ready or (self.bootstrap, self.topic) in TOPICS_READY:
            self._ready = True
            return
        admin = AdminClient({**self._base, "socket.connection.setup.timeout.ms": int(PROBE_TIMEOUT * 1000)})
        try:
            md = admin.list_topics(timeout=PROBE_TIMEOUT)
            if not md.brokers:
                raise KafkaException(KafkaError(KafkaError._TRANSPORT, "no broker in the metadata"))
            if self.topic not in md.topics:
                futures = admin.create_topics(
                    [NewTopic(self.topic, num_partitions=self.partitions, replication_factor=1)],
                    operation_timeout=PROBE_TIMEOUT,
                    request_timeout=PROBE_TIMEOUT,
                )
                try:
                    futures[self.topic].result(timeout=PROBE_TIMEOUT * 2)
                except KafkaException as err:
                    if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
        except KafkaException as err:
            raise self._unavailable(f"did not answer within {PROBE_TIMEOUT:g} s", err) from err
        self._ready = True
        TOPICS_READY.add((self.bootstrap, self.topic))

    def _unavailable(self, what: str, err: object = None) -> BackendUnavailable:
        detail = ""
        if isinstance(err, KafkaException) and err.args:
            err = err.args[0]
        if isinstance(err, KafkaError):
            detail = f" ({err.str()})"
        return BackendUnavailable(f"Kafka broker at {self.bootstrap} {what}{detail}")

    def _new_producer(self, **extra: Any) -> Producer:
        return Producer({**self._base, **PRODUCER, "message.timeout.ms": self.message_timeout_ms, **extra})

    def _producers(self) -> tuple[Producer, Producer]:
        """(reporting, bulk): created on first use, kept for later publishes."""
        if self._reporting is None:
            self._reporting = self._new_producer(**{"linger.ms": 0})
        if self._bulk is None:
            self._bulk = self._new_producer(**{"delivery.report.only.error": True, "on_delivery": self._failed})
        return self._reporting, self._bulk

    def _failed(self, err: KafkaError, msg: Any) -> None:
        """The bulk producer's delivery callback: only failures get here."""
        self._failures.append(err)

    # -- publishing -------------------------------------------------------------------------------

    def stage(self, session: Session) -> StagedRecords | TransactionalStaging:
        """Encode the session's records while the store writes it (queue/staging.py) and produce them
        into a transaction committed after the store's commit (queue/transaction.py)."""
        encoder = RecordEncoder(session.id, session.tz_offset_min)
        staged = StagedRecords((self.bootstrap, self.topic, session.id), encoder)
        REGISTRY.add(staged)
        self._staged = [s for s in self._staged if s.usable]  # published or dropped: forget them
        self._staged.append(staged)
        txn = self.transactions()
        return staged if txn is None else TransactionalStaging(staged, txn, self.topic, session.id.encode())

    def transactions(self) -> TransactionalProducer | None:
        """The transactional producer, set up in the background from the first call (None: turned off)."""
        if self._transactions is None and self.transactional:
            config = {**self._base, **PRODUCER, "message.timeout.ms": self.message_timeout_ms}
            self._transactions = TransactionalProducer(config, self._prepare_topic)
        return self._transactions

    def _prepare_topic(self) -> None:
        self.ensure_topic()  # not under the lock: a publish meanwhile probes at once (both may create it: fine)

    def publish(
        self,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None = None,
        *,
        from_seq: int | None = None,
    ) -> QueuePosition | None:
        staged = None if from_seq is None else REGISTRY.take((self.bootstrap, self.topic, session.id))
        try:
            with self._publishing:
                with self._lock:
                    self.ensure_topic()
                records: Iterator[list[Any]]
                if staged is not None and from_seq is not None and staged.covers(from_seq, session.readings):
                    records = staged.chunks(from_seq)
                else:
                    records = encoded(RecordEncoder(session.id, session.tz_offset_min), readings)
                try:
                    return self._send(session, records, on_acked)
                except BaseException:
                    self._discard_producers()
                    raise
        finally:
            if staged is not None:
                staged.give_up()

    def _send(
        self,
        session: Session,
        records: Iterator[list[Any]],
        on_acked: Callable[[int, QueuePosition], None] | None,
    ) -> QueuePosition | None:
        """Produce chunks of consecutive encoded records: the first alone, the rest in checkpointed windows."""
        first_chunk = next(records, None)
        if not first_chunk:
            return None
        reporting, bulk = self._producers()
        seq_of = RecordEncoder(session.id, None).seq_of
        key = session.id.encode()
        position = self._send_first(reporting, first_chunk[0], key, session)
        last = upto = seq_of(first_chunk[0])
        if on_acked is not None:
            on_acked(upto, position)
        self._failures = []
        poll = bulk.poll
        window_started = time.monotonic()
        for chunk in chain((first_chunk[1:],), records):
            if not chunk:
                continue
            if seq_of(chunk[0]) != last + 1:
                raise RuntimeError(f"records of session {session.id} out of order at seq {last + 1}")
            self._produce_all(bulk, chunk, key, session)
            last += len(chunk)
            poll(0)
            while len(bulk) > MAX_OUTSTANDING:  # bounded queueing time (see above)
                poll(0.05)
                self._check(session)
            self._check(session)
            slow_source = time.monotonic() - window_started >= WINDOW_SECONDS and len(bulk) <= CAUGHT_UP
            if last - upto >= WINDOW or slow_source:
                upto = self._checkpoint(bulk, session, last, position, on_acked)
                window_started = time.monotonic()
        if last > upto:
            self._checkpoint(bulk, session, last, position, on_acked)
        return position

    def _produce_all(self, bulk: Producer, chunk: list[Any], key: bytes, session: Session) -> None:
        """``produce`` every record of the chunk, in order; the loop runs in C (``map``), a Python
        loop around a million calls cost a tenth of the publish."""
        records = iter(chunk)
        produce, topic = bulk.produce, self.topic
        while True:
            try:
                deque(map(produce, repeat(topic), records, repeat(key)), maxlen=0)
                return
            except BufferError:  # the local queue is full: the record map took last did not go in
                value = chunk[len(chunk) - length_hint(records) - 1]
            while True:  # let deliveries drain the queue, then retry that record; go on after it
                bulk.poll(0.05)
                self._check(session)
                try:
                    produce(topic, value, key)
                    break
                except BufferError:
                    continue

    def _send_first(self, reporting: Producer, value: Any, key: bytes, session: Session) -> QueuePosition:
        """Produce one record and wait for its delivery report: where the session's records start."""
        reports: list[tuple[KafkaError | None, int | None, int | None]] = []
        reporting.produce(
            self.topic, value, key, on_delivery=lambda err, msg: reports.append((err, msg.partition(), msg.offset()))
        )
        reporting.flush(self.message_timeout_ms / 1000 + 5)
        if not reports:
            raise self._unavailable(f"did not acknowledge the first record of session {session.id}")
        err, partition, offset = reports[0]
        if err is not None or partition is None or offset is None:
            raise self._unavailable(self._what_failed(err) if err else "gave no offset", err)
        return QueuePosition(partition, offset)

    def _checkpoint(
        self,
        bulk: Producer,
        session: Session,
        last: int,
        position: QueuePosition,
        on_acked: Callable[[int, QueuePosition], None] | None,
    ) -> int:
        """Wait until every record produced has its delivery report; with no failure, all up to
        ``last`` are acknowledged: move the mark there."""
        left = bulk.flush(self.message_timeout_ms / 1000 + 10)
        self._check(session)
        if left:
            raise self._unavailable(f"did not acknowledge {left} records of session {session.id}")
        if on_acked is not None:
            on_acked(last, position)
        return last

    def _check(self, session: Session) -> None:
        if self._failures:
            err, n = self._failures[0], len(self._failures)
            raise self._unavailable(f"{self._what_failed(err)} ({n} records of session {session.id})", err)

    def _what_failed(self, err: KafkaError) -> str:
        if err.code() == KafkaError._MSG_TIMED_OUT:
            return f"did not acknowledge records within {self.message_timeout_ms / 1000:g} s (is it down?)"
        return "did not take records"

    def _discard_producers(self) -> None:
        """After a failure nothing queued may land later behind a resumed publish: purge and drop them."""
        producers = (self._reporting, self._bulk)
        self._reporting = self._bulk = None
        for producer in producers:
            if producer is None:
                continue
            try:
                producer.purge(in_queue=True, in_flight=True, blocking=False)
                producer.flush(0)
            except (KafkaException, RuntimeError):
                pass

    # -- replay -----------------------------------------------------------------------------------

    def replay(
        self,
        session_id: str,
        position: QueuePosition | None,
        from_seq: int = 0,
        *,
        count: int | None = None,
        follow: bool = False,
    ) -> Iterator[Reading]:
        """The session's readings from ``from_seq``, each once and in order, read from ``position``.

        ``count`` (the session's number of readings) lets replay follow a publication still in
        progress; without it, replay ends at the partition's end as of this call. ``follow`` (a
        live session) keeps the subscription open at its offset: new records reach it as the
        shared consumer fetches them, with no seek back to the session's start.
        """
        if position is None:
            return iter(())
        with self._lock:
            self.ensure_topic()
            if self._consumer is None:
                make = lambda: SharedConsumer(self._base, self.topic, self._unavailable)  # noqa: E731
                self._consumer = CONSUMERS.acquire(self, make)
            consumer = self._consumer
        return consumer.replay(session_id, position, from_seq, count, follow=follow)

    def close(self) -> None:
        with self._publishing, self._lock:
            if self._consumer is not None:
                CONSUMERS.release(self)
                self._consumer = None
            for producer in (self._reporting, self._bulk):
                if producer is not None:
                    producer.flush(5)
            self._reporting = self._bulk = None
            if self._transactions is not None:
                self._transactions.close()
            for staged in self._staged:
                staged.discard()
            self._staged.clear()


class _Consumers:
    """One replay consumer per bootstrap and topic in the process, shared by every queue on them.

    ``serve`` opens a queue per thread; a consumer each meant every thread fetching the same
    partitions and running the same dispatch over them (8 times the work in the start-up burst)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[tuple[str, str], tuple[SharedConsumer, set[int]]] = {}

    def acquire(self, queue: KafkaQueue, make: Callable[[], SharedConsumer]) -> SharedConsumer:
        key = (queue.bootstrap, queue.topic)
        with self._lock:
            consumer, users = self._live.get(key) or (None, set())
            if consumer is None:
                consumer = make()
                self._live[key] = (consumer, users)
            users.add(id(queue))
            return consumer

    def release(self, queue: KafkaQueue) -> None:
        key = (queue.bootstrap, queue.topic)
        with self._lock:
            consumer, users = self._live.get(key) or (None, set())
            users.discard(id(queue))
            if consumer is None or users:
                return
            del self._live[key]
        consumer.close()


CONSUMERS = _Consumers()
