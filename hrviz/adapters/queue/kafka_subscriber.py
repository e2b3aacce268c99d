"""Replay from Kafka: one shared consumer per process, dispatching to per-session bounded buffers.

Why shared: ``serve`` may replay many sessions at once, and a consumer per viewer would mean a
broker connection, a fetch loop and memory per viewer. Here one background thread owns one
``confluent_kafka.Consumer``; each replay registers a *subscription* (session, partition, start
offset, next seq) and the thread assigns that partition at the lowest offset any subscription
still needs (assign + offset, never a consumer-group scan from the start).

Exactly once, in order: a subscription accepts a record only if its key is the session and its
seq is the very next one it expects. A resumed publish after a crash re-sends records (and a
timed-out one can leave a hole that the resume fills later); both are skipped by that rule.

Live sessions (``follow``): the subscription has no end and stays registered at its offset, so new
records reach it as the partition is fetched, instead of a new replay seeking back per reading; its
iterator never waits (it stops at what has arrived), so a caller's thread is never held by one session.

A live read opening at a seq the consumer has already gone past starts at that record's offset,
looked up in a small index of the records fetched on partitions that live reads follow (the last
:data:`RECENT` seqs and offsets of each session), or right after the session's last record seen
there: not at ``first_offset + seq``, the only bound known otherwise, which rewinds the partition
for every read on it to about the session's start. 500 live windows opening at a serve start did
that 500 times, each re-fetching every session's records since (bench/results/live.md).

Back-pressure: a full buffer (a slow viewer) parks its subscription at the offset it could not
take; the others on the partition go on. When the viewer drains, the partition is re-assigned at
the parked offset and the others skip what they have already seen (they track offsets too).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from hrviz.adapters.queue.records import decode
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Reading
from hrviz.core.ports import QueuePosition

BUFFER = 5000  # readings buffered per subscription before it is parked
RECENT = 64  # (seq, offset) pairs kept per session on a followed partition, for live reads opening later
RECENT_KEYS = 20_000  # sessions indexed per partition at most (the index starts over beyond)
IDLE_TIMEOUT = 30.0  # seconds without a single new reading before replay gives up


class _Subscription:
    """One replay's state; the fields below the lock are shared with the dispatcher thread."""

    def __init__(self, session_id: str, partition: int, offset: int, next_seq: int, end: int | None) -> None:
        self.key = session_id.encode()
        self.partition = partition
        self.offset = offset  # the next offset it still has to look at (while active: at least this)
        self.next = next_seq  # the next seq to deliver
        self.end = end  # seq at which replay is complete (None: until the partition's end)
        self.stop_offset: int | None = None  # with no count: the high watermark at subscription
        self.buffer: deque[Reading] = deque()
        self.cond = threading.Condition()
        self.parked = False
        self.done = False
        self.error: BaseException | None = None
        self.fresh = True  # added or woken: the partition may have to be fetched again from its offset
        self.follow = False  # a live read (no end)


class _Follow:
    """A live session's read: never waits. Iterating it gives what has arrived, then stops; iterating
    it again later gives what arrived since (the caller asks when the store says there is more)."""

    def __init__(self, requests: queue.SimpleQueue[tuple[str, _Subscription]], sub: _Subscription) -> None:
        self._requests = requests
        self._sub = sub
        self._batch: deque[Reading] = deque()
        self._closed = False

    def __iter__(self) -> _Follow:
        return self

    def __next__(self) -> Reading:
        if not self._batch:
            sub = self._sub
            with sub.cond:
                if sub.error is not None:
                    raise sub.error
                self._batch.extend(sub.buffer)
                sub.buffer.clear()
                wake = sub.parked
            if wake:
                self._requests.put(("wake", sub))
            if not self._batch:
                raise StopIteration
        return self._batch.popleft()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._requests.put(("remove", self._sub))

    def __del__(self) -> None:
        self.close()


class SharedConsumer:
    """The process's single replay consumer; thread-safe, started lazily, stopped by :meth:`close`."""

    def __init__(
        self, base: dict[str, Any], topic: str, unavailable: Callable[[str, object], BackendUnavailable]
    ) -> None:
        self.topic = topic
        self._unavailable = unavailable
        self._consumer = Consumer(
            {
                **base,
                "group.id": f"hrviz-replay-{os.getpid()}-{id(self)}",  # never joined: assign() only
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                # a just-assigned partition is fetched after the broker answers the fetch in flight:
                # a long wait there made every replay's start wait (hubs open one after another)
                "fetch.wait.max.ms": 10,
                # Read uncommitted: an ingest produces its session into a Kafka transaction that is open
                # while the store writes it (docs/outbox.md); read_committed would stall every replay
                # and live read of that partition behind the open transaction (the last stable offset)
                # for the whole ingest. Nothing here needs it: replay only reads sessions committed in
                # the store, from the position the store recorded, and accepts a record only if its
                # key is the session and its seq the very next one. Records of an aborted or still-open
                # transaction of that session are before the position (an earlier failed attempt) or
                # the same bytes (the same file uploaded twice at once: same id, same records).
                "isolation.level": "read_uncommitted",
                # the partition's end as an event: a transaction's commit marker takes the last offset
                # and is never delivered, so a replay without a count cannot wait for a record there
                "enable.partition.eof": True,
            }
        )
        self._requests: queue.SimpleQueue[tuple[str, _Subscription]] = queue.SimpleQueue()
        self._subs: dict[int, list[_Subscription]] = {}  # by partition; dispatcher thread only
        self._by_key: dict[int, dict[bytes, list[_Subscription]]] = {}  # partition → session key → subs
        self._unbounded: dict[int, list[_Subscription]] = {}  # by partition: those without a count
        self._assigned: dict[int, int] = {}  # partition → offset the next fetched record will have
        self._follows: dict[int, int] = {}  # partition → live reads on it (its records are indexed)
        self._recent: dict[int, dict[bytes, deque[tuple[int, int]]]] = {}  # partition → key → (seq, offset)
        self._closed = threading.Event()
        self.records_seen = 0  # records fetched by the dispatcher, for tests and the bench
        self._thread = threading.Thread(target=self._run, name="hrviz-kafka-replay", daemon=True)
        self._thread.start()

    # -- the caller's side ------------------------------------------------------------------------

    def replay(
        self, session_id: str, position: QueuePosition, from_seq: int, count: int | None, *, follow: bool = False
    ) -> Iterator[Reading]:
        # Seek, never scan from the session's start: reading k of a session lands at or after offset
        # first_offset + k (each earlier reading took an offset of its own before it). Starting there
        # with ``next = from_seq`` accepts exactly what a scan from the start would (a re-sent copy
        # of the same reading at most), so a resume near the end of 10M readings reads a page.
        start = position.first_offset + from_seq
        if follow:  # a live session: no end; it stays subscribed at its offset until closed
            sub = _Subscription(session_id, position.partition, start, from_seq, None)
            sub.follow = True
            self._requests.put(("add", sub))
            return _Follow(self._requests, sub)
        sub = _Subscription(session_id, position.partition, start, from_seq, count)
        if count is None:
            try:
                _, high = self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, position.partition), timeout=5.0
                )
            except KafkaException as err:
                raise self._unavailable("did not answer a watermark request", err) from err
            sub.stop_offset = high
        if (count is not None and from_seq >= count) or (sub.stop_offset is not None and sub.offset >= sub.stop_offset):
            return iter(())
        self._requests.put(("add", sub))
        return self._drain(sub)

    def _drain(self, sub: _Subscription) -> Iterator[Reading]:
        try:
            while True:
                with sub.cond:
                    deadline = time.monotonic() + IDLE_TIMEOUT
                    while not sub.buffer and not sub.done and sub.error is None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise self._unavailable(
                                f"delivered no reading of session {sub.key.decode()} for {IDLE_TIMEOUT:g} s", None
                            )
                        sub.cond.wait(min(left, 1.0))
                    if sub.error is not None:
                        raise sub.error
                    if not sub.buffer:  # done and drained
                        return
                    batch = list(sub.buffer)
                    sub.buffer.clear()
                    wake = sub.parked
                if wake:
                    self._requests.put(("wake", sub))
                yield from batch
        finally:
            self._requests.put(("remove", sub))

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=3)
        with contextlib.suppress(KafkaException, RuntimeError):
            self._consumer.close()

    # -- the dispatcher thread --------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self._handle_requests()
                if not self._assigned:
                    time.sleep(0.02)
                    continue
                # short: new replays are picked up between two calls (the burst of a serve start)
                for msg in self._consumer.consume(num_messages=1000, timeout=0.01):
                    err = msg.error()
                    if err is None:
                        self._dispatch(msg)
                    elif err.code() == KafkaError._PARTITION_EOF:
                        self._at_end(msg.partition(), msg.offset())
            except Exception as err:  # noqa: BLE001 — reported to every waiting replay
                self._fail_all(err)

    def _handle_requests(self) -> None:
        touched: set[int] = set()
        while True:
            try:
                op, sub = self._requests.get_nowait()
            except queue.Empty:
                break
            subs = self._subs.setdefault(sub.partition, [])
            keyed = self._by_key.setdefault(sub.partition, {})
            unbounded = self._unbounded.setdefault(sub.partition, [])
            if op == "add":
                subs.append(sub)
                keyed.setdefault(sub.key, []).append(sub)
                if sub.stop_offset is not None:
                    unbounded.append(sub)
                if sub.follow:
                    self._follows[sub.partition] = self._follows.get(sub.partition, 0) + 1
                    sub.offset = self._known_offset(sub)
            elif op == "remove" and sub in subs:
                subs.remove(sub)
                if sub.follow:
                    self._follows[sub.partition] -= 1
                    if not self._follows[sub.partition]:
                        self._recent.pop(sub.partition, None)
                keyed[sub.key].remove(sub)
                if not keyed[sub.key]:
                    del keyed[sub.key]
                if sub in unbounded:
                    unbounded.remove(sub)
            elif op == "wake":
                with sub.cond:
                    sub.parked = False
            sub.fresh = True
            touched.add(sub.partition)
        for partition in touched:
            self._reassign(partition)

    def _known_offset(self, sub: _Subscription) -> int:
        """Where a live read of ``sub.next`` on can start, from the records already fetched: the
        offset of that seq's record, or past the session's last record if it came before; else
        the subscription's own bound (``first_offset + seq``, at or before the record)."""
        seen = self._recent.get(sub.partition, {}).get(sub.key)
        if not seen:
            return sub.offset
        last_seq, last_offset = seen[-1]
        if last_seq < sub.next:  # a session's records come in seq order: the wanted ones come later
            return max(sub.offset, last_offset + 1)
        for seq, offset in seen:  # the first copy of it (a resumed publish may have sent one again)
            if seq == sub.next:
                return max(sub.offset, offset)
        return sub.offset

    def _index(self, partition: int, key: bytes, value: bytes, offset: int) -> None:
        """Note a fetched record's session, seq and offset (partitions with live reads only)."""
        try:
            start = value.index(b'"seq":') + 6
            seq = int(value[start : value.index(b",", start)])
        except ValueError:  # not one of hrviz's records
            return
        recent = self._recent.setdefault(partition, {})
        seen = recent.get(key)
        if seen is None:
            if len(recent) >= RECENT_KEYS:
                recent.clear()
            seen = recent[key] = deque(maxlen=RECENT)
        seen.append((seq, offset))

    def _reassign(self, partition: int) -> None:
        """Fetch the partition from the lowest offset an active subscription needs; drop it if none.

        An active subscription looks at every record fetched from its offset on, but only the
        records of its own session touch it (:meth:`_dispatch` looks subscriptions up by key), so its
        ``offset`` lags while other sessions' records go by: unless it is fresh (just added or
        woken), it has seen everything before the partition's current position."""
        active = [s for s in self._subs.get(partition, []) if not s.parked and not s.done]
        tp = TopicPartition(self.topic, partition)
        current = self._assigned.get(partition)
        if not active:
            if current is not None:
                self._consumer.incremental_unassign([tp])
                del self._assigned[partition]
            return
        for s in active:
            if not s.fresh and current is not None and s.offset < current:
                s.offset = current
            s.fresh = False
        needed = min(s.offset for s in active)
        if current is not None and current <= needed:
            return
        if current is not None:
            self._consumer.incremental_unassign([tp])
        self._consumer.incremental_assign([TopicPartition(self.topic, partition, needed)])
        self._assigned[partition] = needed

    def _dispatch(self, msg: Any) -> None:
        partition, offset = msg.partition(), msg.offset()
        if partition not in self._assigned or offset < self._assigned[partition]:
            return  # fetched before a re-assignment: stale
        self._assigned[partition] = offset + 1
        self.records_seen += 1
        key = msg.key()
        if self._follows.get(partition) and key is not None:
            self._index(partition, key, msg.value(), offset)
        decoded: Reading | None = None
        changed = False
        for sub in self._by_key.get(partition, {}).get(key, ()):  # the record's session only
            if sub.parked or sub.done or offset < sub.offset:
                continue
            if decoded is None:
                decoded = decode(msg.value())[1]
            if decoded.seq == sub.next:
                with sub.cond:
                    if len(sub.buffer) >= BUFFER:
                        sub.parked = True
                        sub.offset = offset  # this record is fetched again once it drains
                        changed = True
                        continue
                    sub.buffer.append(decoded)
                    sub.next += 1
                    sub.cond.notify()
            sub.offset = offset + 1
            if sub.end is not None and sub.next >= sub.end:
                self._finish(sub)
                changed = True
        for sub in self._unbounded.get(partition, ()):  # replays without a count end at an offset
            if not sub.parked and not sub.done and offset + 1 >= sub.stop_offset:  # type: ignore[operator]
                self._finish(sub)
                changed = True
        if changed:
            self._reassign(partition)

    def _at_end(self, partition: int | None, offset: int | None) -> None:
        """The partition's end reached at ``offset``: replays without a count that stop there are
        complete, even when the offsets before it are control records (transaction markers)."""
        if partition is None or offset is None or partition not in self._assigned or offset < self._assigned[partition]:
            return  # reached before a re-assignment: stale
        ended = [
            s
            for s in self._unbounded.get(partition, ())
            if not s.parked and not s.done and s.offset <= offset and offset >= s.stop_offset  # type: ignore[operator]
        ]
        for sub in ended:
            self._finish(sub)
        if ended:
            self._reassign(partition)

    @staticmethod
    def _finish(sub: _Subscription) -> None:
        with sub.cond:
            sub.done = True
            sub.cond.notify()

    def _fail_all(self, err: Exception) -> None:
        error = self._unavailable("failed during replay", err)
        for sub in itertools.chain.from_iterable(self._subs.values()):
            with sub.cond:
                sub.error = error
                sub.cond.notify()
        self._subs.clear()
        self._by_key.clear()
        self._unbounded.clear()
        self._follows.clear()
        self._recent.clear()
        time.sleep(0.5)
