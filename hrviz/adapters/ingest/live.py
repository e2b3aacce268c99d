"""Runs a live session: lines from a :mod:`tail` source into :class:`hrviz.core.live.LiveIngest`,
small transactions as they come, and publication on a thread of its own (docs/live.md).

The store is written on this thread, at once, so a reading is durable within a second whatever
the queue does. Publication follows the outbox on the publisher thread: woken after every flush,
it sends what the store holds beyond the published-up-to mark. A queue that is down only delays
it — the readings pile up in the store and go out in order when the queue is back (retried every
:data:`RETRY` seconds); ingest never waits for the queue while the input flows.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from hrviz.adapters.ingest.spool import Spool
from hrviz.adapters.ingest.tail import LineSource
from hrviz.core.errors import BackendUnavailable
from hrviz.core.ingest import PublishReport
from hrviz.core.live import LiveIngest
from hrviz.core.model import Session
from hrviz.core.reader.lines import BadRow

RETRY = 1.0  # seconds between two attempts to publish while the queue is down
WAIT = 0.05  # seconds the loop waits for input before it looks at the clock again


class Publisher:
    """Calls ``publish`` (``publish_pending`` on the command's store and queue) whenever woken."""

    def __init__(self, publish: Callable[[], PublishReport], on_problem: Callable[[str | None], None]) -> None:
        self._publish = publish
        self._on_problem = on_problem
        self._wake = threading.Event()
        self._stop = False
        self.last: PublishReport | None = None
        self._thread = threading.Thread(target=self._run, name="hrviz-live-publish", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        failing: str | None = None
        while True:
            self._wake.wait(RETRY if failing else None)
            self._wake.clear()
            try:
                report = self._publish()
            except Exception as err:  # noqa: BLE001 — the store is down too: try again later
                report = PublishReport(failed=str(err))
            self.last = report
            if report.failed != failing:
                self._on_problem(report.failed)
            failing = report.failed
            if self._stop:
                return

    def stop(self, timeout: float) -> PublishReport | None:
        """One last publication of everything stored, waited for at most ``timeout`` seconds."""
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        return self.last


@contextmanager
def sigterm_ends_input() -> Iterator[None]:
    """SIGTERM ends the input like Ctrl-C: the session is finalized, not dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def decode(line: bytes, first: bool) -> str:
    """A line as text: UTF-8 (a BOM on the first line dropped), undecodable bytes as U+FFFD."""
    return line.decode("utf-8-sig" if first else "utf-8", errors="replace")


class SpoolFull(BackendUnavailable):
    """The store is down and ingest must stop with readings in the spool (their file is named)."""


class Storing:
    """Flushes a live session, spooling to disk while the store is down (retried every RETRY s)."""

    def __init__(self, live: LiveIngest, spool: Spool, publisher: Publisher, clock: Callable[[], float]) -> None:
        self.live, self.spool, self.publisher, self.clock = live, spool, publisher, clock
        self.down: str | None = None
        self._tried = -RETRY

    def flush(self) -> bool:
        """Store what is pending (or spool it); True when the store took it."""
        now = self.clock()
        if self.down is not None and now - self._tried < RETRY:
            self.spool.sync(self.live.unstored)
            return False
        self._tried = now
        try:
            self.live.flush()
        except BackendUnavailable as err:
            if self.down is None:
                print(f"hrviz: warning: {err}; spooling readings to {self.spool.path}", file=sys.stderr, flush=True)
            self.down = str(err)
            self.spool.sync(self.live.unstored)
            return False
        if self.down is not None:
            print(f"hrviz: the store is back; {self.spool.count} spooled reading(s) stored", file=sys.stderr)
            self.down = None
        self.spool.clear()
        self.publisher.wake()
        return True

    def wait(self) -> None:
        """Retry until the store took everything (Ctrl-C leaves the spool on disk)."""
        while self.live.pending and not self.flush():
            time.sleep(RETRY)


def run_live(
    source: LineSource,
    live: LiveIngest,
    publisher: Publisher,
    *,
    idle_timeout: float | None = None,
    on_bad: Callable[[BadRow], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    spool: Spool | None = None,
) -> tuple[Session, str]:
    """Follow ``source`` until it ends, is interrupted, or stays silent ``idle_timeout`` seconds;
    returns the finalized session and why it ended (``end of input``, ``interrupted``, ``idle``,
    ``spool full``: the store stayed down, see :class:`Spool`; ``the input failed: …``, never a
    session left live by an exception)."""
    last_input = clock()
    first = True
    why = "end of input"
    storing = Storing(live, spool or Spool(live.session.id), publisher, clock)
    try:
        with sigterm_ends_input():
            while True:
                if storing.spool.full:
                    why = "spool full"
                    print(
                        f"hrviz: error: the store is down ({storing.down}) and the spool is full "
                        f"({storing.spool.count} readings in {storing.spool.path}): stopped reading the input; "
                        "waiting for the store to take what was accepted (Ctrl-C leaves it in the spool)",
                        file=sys.stderr,
                        flush=True,
                    )
                    break
                lines, more = source.poll(WAIT)
                now = clock()
                for raw in lines:
                    for bad in live.line(decode(raw, first), now):
                        if on_bad is not None:
                            on_bad(bad)
                    first = False
                if lines:
                    last_input = now
                if live.pending and (not more or live.due(now)):
                    storing.flush()
                if source.ended:
                    break
                if idle_timeout is not None and now - last_input >= idle_timeout:
                    why = "idle"
                    break
    except KeyboardInterrupt:
        why = "interrupted"
    except OSError as err:  # the input itself failed (unreadable, an I/O error): what was read is kept
        why = f"the input failed: {err.strerror or err}"
    finally:
        source.close()
    try:
        storing.wait()
        session = live.finish()
    except KeyboardInterrupt:
        raise SpoolFull(
            f"interrupted while the store was down; {storing.spool.count} readings are in {storing.spool.path}"
        ) from None
    except BackendUnavailable as err:
        storing.spool.sync(live.unstored)
        raise SpoolFull(f"{err}; {storing.spool.count} readings are kept in {storing.spool.path}") from None
    publisher.wake()
    return session, why


def warn_bad(source: str) -> Callable[[BadRow], None]:
    """Bad rows as warnings on stderr, as they happen (a live session goes on)."""

    def warn(bad: BadRow) -> None:
        print(f"hrviz: warning: {source}, line {bad.line}: {bad.why} (skipped)", file=sys.stderr, flush=True)

    return warn
