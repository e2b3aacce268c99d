"""The Kafka queue (``--kafka BOOTSTRAP``): every reading becomes one JSON record on a topic.

Records are keyed by session id, so one session lives on one partition, in seq order. The
producer is idempotent with ``acks=all``: a broker retry never doubles or reorders a record, and
:meth:`KafkaQueue.publish` returns only once every record is acknowledged, moving the outbox mark
through ``on_acked`` as contiguous acknowledgements advance. A broker that is down, or acks that
do not come within ``message.timeout.ms``, end in :class:`BackendUnavailable`; what was acked
stays acked, and the next ``publish_pending`` resumes from the mark. Replay: queue/kafka_subscriber.py.

Record (docs/outbox.md): ``{"session", "seq", "ts" (ISO-8601, the file's offset), "t" (epoch
seconds), "bpm", "filled", "kinds": [...]}``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from hrviz.adapters.queue.kafka_subscriber import SharedConsumer
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Reading, Session, format_ts
from hrviz.core.ports import QueuePosition

DEFAULT_TOPIC = "hrviz.readings"
PARTITIONS = 6  # parallelism for consumers; one session always stays on one partition
ACK_EVERY = 5000  # readings between two outbox-mark updates
PROBE_TIMEOUT = 5.0  # seconds a metadata request may take before the broker counts as unreachable
MESSAGE_TIMEOUT_MS = 15_000  # a record not acknowledged within this fails the publish
# unacknowledged records allowed at once: message.timeout.ms counts time spent in the local queue
# too, so a deep queue in front of a slow (just restarted, busy) broker would time out by itself
MAX_OUTSTANDING = 50_000


def iso_formatter(tz_offset_min: int | None) -> Callable[[float], str]:
    """``format_ts`` for one session, fast for whole seconds (the common case): the date and
    minute part is cached, since consecutive readings share it."""
    offset = (tz_offset_min or 0) * 60
    if tz_offset_min is None:
        suffix = ""
    elif tz_offset_min == 0:
        suffix = "Z"
    else:
        sign = "+" if tz_offset_min > 0 else "-"
        hours, minutes = divmod(abs(tz_offset_min), 60)
        suffix = f"{sign}{hours:02d}:{minutes:02d}"
    cache: dict[int, str] = {}

    def fmt(ts: float) -> str:
        if ts % 1:
            return format_ts(ts, tz_offset_min) or ""
        minute, second = divmod(int(ts) + offset, 60)
        head = cache.get(minute)
        if head is None:
            if len(cache) > 4096:
                cache.clear()
            head = cache[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        return f"{head}{second:02d}{suffix}"

    return fmt


class RecordEncoder:
    """Encodes one session's readings; ``seq_of`` reads the seq back from the bytes cheaply.

    Hand-rolled because it runs once per reading (a million times for a large file): the
    date-and-minute part of ``ts`` is cached while consecutive readings share it, and the
    seconds-to-``"t":`` part comes from a 60-entry table. Fractional times use ``format_ts``.
    """

    def __init__(self, session_id: str, tz_offset_min: int | None) -> None:
        self.prefix = '{"session":' + json.dumps(session_id) + ',"seq":'
        self._prefix_len = len(self.prefix.encode())
        self._tz = tz_offset_min
        self._offset = (tz_offset_min or 0) * 60
        suffix = iso_formatter(tz_offset_min)(0.0)[19:]  # "", "Z" or "+01:00"
        self._tails = [f'{sec:02d}{suffix}","t":' for sec in range(60)]
        self._minute = -(1 << 62)
        self._head = ""
        self._kinds: dict[tuple[str, ...], str] = {(): "[]"}

    def encode(self, r: Reading) -> str:
        kinds = self._kinds.get(r.kinds)
        if kinds is None:
            kinds = self._kinds[r.kinds] = json.dumps(list(r.kinds))
        ts = r.ts
        if ts % 1:
            iso = f'{format_ts(ts, self._tz)}","t":'
        else:
            minute, second = divmod(int(ts) + self._offset, 60)
            if minute != self._minute:
                self._minute = minute
                day_minute = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
                self._head = self.prefix.replace("%", "%%") + '%d,"ts":"' + day_minute
            return (
                f"{self._head % r.seq}{self._tails[second]}{ts!r},"
                f'"bpm":{r.bpm!r},"filled":{"true" if r.filled else "false"},"kinds":{kinds}}}'
            )
        return (
            f'{self.prefix}{r.seq},"ts":"{iso}{ts!r},"bpm":{r.bpm!r},'
            f'"filled":{"true" if r.filled else "false"},"kinds":{kinds}}}'
        )

    def seq_of(self, value: bytes) -> int:
        start = self._prefix_len
        return int(value[start : value.index(b",", start)])


class _Acks:
    """Delivery reports of one publish call: the contiguous acknowledged prefix and the position."""

    __slots__ = ("_plen", "next", "ahead", "error", "partition", "first_offset", "first_seq", "produced", "reported")

    def __init__(self, encoder: RecordEncoder, first_seq: int) -> None:
        self._plen = encoder._prefix_len
        self.first_seq = first_seq
        self.next = first_seq  # lowest seq not acknowledged yet
        self.ahead: set[int] = set()  # acked seqs beyond a hole (reports out of order, or a timed-out record)
        self.error: KafkaError | None = None
        self.partition = -1
        self.first_offset = -1
        self.produced = 0  # records handed to the producer ...
        self.reported = 0  # ... and delivery reports received for them

    def report(self, err: KafkaError | None, msg: Any) -> None:
        """The delivery callback (a bound method: called a million times for a large session)."""
        self.reported += 1
        if err is not None:
            if self.error is None:
                self.error = err
            return
        value, plen = msg.value(), self._plen
        seq = int(value[plen : value.index(b",", plen)])
        if seq == self.next:
            self.next = seq + 1
            if self.ahead:
                while self.next in self.ahead:
                    self.ahead.remove(self.next)
                    self.next += 1
            if seq == self.first_seq:
                self.partition, self.first_offset = msg.partition(), msg.offset()
        elif seq > self.next:
            self.ahead.add(seq)

    @property
    def outstanding(self) -> int:
        return self.produced - self.reported

    @property
    def upto(self) -> int:
        return self.next - 1

    def position(self) -> QueuePosition | None:
        return None if self.first_offset < 0 else QueuePosition(self.partition, self.first_offset)


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
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic or DEFAULT_TOPIC
        self.partitions = partitions
        self.message_timeout_ms = message_timeout_ms
        self._base: dict[str, Any] = {"bootstrap.servers": bootstrap, "log_level": 0, "client.id": "hrviz"}
        self._producer: Producer | None = None
        self._consumer: SharedConsumer | None = None
        self._ready = False
        self._lock = threading.Lock()  # setup: topic probe, consumer creation, close
        self._publishing = threading.Lock()  # one publish at a time (per-call ack bookkeeping), not blocking replays

    # -- setup ------------------------------------------------------------------------------------

    def ensure_topic(self) -> None:
        """Probe the broker and create the topic if missing; BackendUnavailable when unreachable."""
        if self._ready:
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

    def _unavailable(self, what: str, err: object = None) -> BackendUnavailable:
        detail = ""
        if isinstance(err, KafkaException) and err.args:
            err = err.args[0]
        if isinstance(err, KafkaError):
            detail = f" ({err.str()})"
        return BackendUnavailable(f"Kafka broker at {self.bootstrap} {what}{detail}")

    def _new_producer(self) -> Producer:
        return Producer(
            {
                **self._base,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 25,
                "batch.size": 1_000_000,
                "batch.num.messages": 20_000,
                "compression.type": "lz4",
                "queue.buffering.max.messages": 200_000,
                "queue.buffering.max.kbytes": 256 * 1024,
                "message.timeout.ms": self.message_timeout_ms,
                "partitioner": "murmur2_random",  # the Java clients' partitioner: same key, same partition
            }
        )

    # -- publishing -------------------------------------------------------------------------------

    def publish(
        self,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None = None,
    ) -> QueuePosition | None:
        with self._publishing:
            with self._lock:
                self.ensure_topic()
            if self._producer is None:
                self._producer = self._new_producer()
            try:
                return self._publish(self._producer, session, readings, on_acked)
            except BaseException:
                self._discard_producer()
                raise

    def _publish(
        self,
        producer: Producer,
        session: Session,
        readings: Iterable[Reading],
        on_acked: Callable[[int, QueuePosition], None] | None,
    ) -> QueuePosition | None:
        encoder = RecordEncoder(session.id, session.tz_offset_min)
        encode, produce, poll = encoder.encode, producer.produce, producer.poll
        topic, key = self.topic, session.id.encode()
        acks: _Acks | None = None
        reported = -1
        try:
            it = iter(readings)
            first = next(it, None)
            if first is None:
                return None
            acks = _Acks(encoder, first.seq)
            reported = first.seq - 1
            deliver = acks.report
            for n, r in enumerate(itertools.chain((first,), it), 1):
                value = encode(r)
                try:
                    produce(topic, value, key, on_delivery=deliver)
                except BufferError:  # the local queue is full: wait for deliveries, then retry once more
                    while True:
                        poll(0.05)
                        self._check(acks)
                        try:
                            produce(topic, value, key, on_delivery=deliver)
                            break
                        except BufferError:
                            continue
                if n % 2000 == 0:
                    acks.produced = n
                    poll(0)
                    while acks.outstanding > MAX_OUTSTANDING:  # bounded queueing time (see above)
                        poll(0.05)
                        self._check(acks)
                    self._check(acks)
                    if on_acked is not None and acks.upto - reported >= ACK_EVERY and acks.position() is not None:
                        reported = acks.upto
                        on_acked(reported, acks.position())  # type: ignore[arg-type]
            acks.produced = n
            deadline = time.monotonic() + self.message_timeout_ms / 1000 + 10
            while acks.outstanding > 0:
                poll(0.2)
                self._check(acks)
                if on_acked is not None and acks.upto - reported >= ACK_EVERY and acks.position() is not None:
                    reported = acks.upto
                    on_acked(reported, acks.position())  # type: ignore[arg-type]
                if time.monotonic() > deadline:
                    raise self._unavailable(f"did not acknowledge {acks.outstanding} records of session {session.id}")
            self._check(acks)
            position = acks.position()
            if position is None or acks.ahead:
                raise self._unavailable(f"acknowledged only part of session {session.id}")
        finally:
            # whatever happened, the contiguous acknowledged prefix is durable: move the mark there
            if acks is not None and on_acked is not None and acks.upto > reported and acks.position() is not None:
                on_acked(acks.upto, acks.position())  # type: ignore[arg-type]
        return position

    def _check(self, acks: _Acks) -> None:
        err = acks.error
        if err is None:
            return
        if err.code() == KafkaError._MSG_TIMED_OUT:
            what = f"did not acknowledge records within {self.message_timeout_ms / 1000:g} s (is it down?)"
        else:
            what = "refused records"
        raise self._unavailable(what, err)

    def _discard_producer(self) -> None:
        """After a failure nothing queued may land later behind a resumed publish: purge and drop it."""
        producer, self._producer = self._producer, None
        if producer is not None:
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
    ) -> Iterator[Reading]:
        """The session's readings from ``from_seq``, each once and in order, read from ``position``.

        ``count`` (the session's number of readings) lets replay follow a publication still in
        progress; without it, replay ends at the partition's end as of this call.
        """
        if position is None:
            return iter(())
        with self._lock:
            self.ensure_topic()
            if self._consumer is None:
                self._consumer = SharedConsumer(self._base, self.topic, self._unavailable)
            consumer = self._consumer
        return consumer.replay(session_id, position, from_seq, count)

    def close(self) -> None:
        with self._publishing, self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
            if self._producer is not None:
                self._producer.flush(5)
                self._producer = None
