"""The live use case: readings that are being recorded right now (docs/live.md).

Lines arrive one by one (an adapter follows stdin or a growing file); each becomes a sample
(:mod:`hrviz.core.reader.lines`), goes through the detector's live path (:meth:`Detector.feed`)
and waits in a small batch that the caller flushes to the store — one small transaction, never one
per row, at least once a second (:meth:`LiveIngest.due`), with the anomalies found since the last
one (a viewer opening the session mid-way sees them). Publication then follows the outbox like
any session: the store's published-up-to mark trails the stored readings, and
:func:`hrviz.core.ingest.publish_pending` sends the difference. The end of the input (EOF,
Ctrl-C, SIGTERM, an idle timeout: the caller's decision) finalizes the session: the detector's
open runs closed, the stats, cadence and anomalies stored, the live flag cleared.

Restarting on the same input key (``ingest --follow`` on the same file) continues the stored
session: its stored readings are fed back into a fresh detector — which rebuilds its state and
its anomalies — and input lines up to the last stored time are passed over, so nothing is stored
twice and nothing is missed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.errors import printable
from hrviz.core.explain import cadence_report
from hrviz.core.model import Anomaly, Reading, ReadingBatch, Session
from hrviz.core.ports import LiveStore, SessionStore
from hrviz.core.reader.lines import BadRow, LineReader

FLUSH_SECONDS = 1.0  # a crash loses at most this much of what was read
FLUSH_READINGS = 5000  # a fast input (a whole file piped in) still commits in batches this size


@dataclass(frozen=True, slots=True)
class LiveOptions:
    interval: float = 1.0  # the expected seconds between readings (and the spacing of lines without times)
    subject: str | None = None  # the one subject kept from a multi-subject layout
    detector: DetectorConfig = field(default_factory=DetectorConfig)


def live_fingerprint(key: str, options: LiveOptions) -> str:
    """The identity of a live input (``file:/abs/path``, or a one-off key for stdin) and its settings."""
    settings = repr((options.interval, options.subject, sorted(asdict(options.detector).items())))
    return hashlib.sha256(f"live\0{key}\0{settings}".encode()).hexdigest()


class LiveIngest:
    """One live session: feed it text lines with :meth:`line`, :meth:`flush` when :meth:`due`,
    and :meth:`finish` at the end. ``resumed`` tells whether a stored session is continued."""

    def __init__(
        self, store: SessionStore, live: LiveStore, key: str, source: str, options: LiveOptions | None = None
    ) -> None:
        options = options or LiveOptions()
        self._live = live
        self._options = options
        self.reader = LineReader(source, options.interval, options.subject)
        self.detector = Detector(options.detector, cadence=options.interval)
        self.anomalies: list[Anomaly] = []
        self.bad: list[BadRow] = []  # every bad row of this run (the caller reports them as they come)
        print_ = live_fingerprint(key, options)
        found = store.find(print_)
        self.resumed = found is not None
        self._created = self.resumed
        self._base_rows = self._base_dups = 0
        if found is None:
            subject = None if options.subject is None else printable(options.subject)
            self.session = Session(id=print_[:12], source=printable(source), subject=subject, fingerprint=print_)
        else:
            self.session = store.get(found.id) or found
            self.session.anomalies = []
            self._base_rows, self._base_dups = self.session.rows, self.session.duplicates
            for r in store.readings(found.id):  # the detector's state and events, rebuilt
                if not r.filled:
                    self._events(self.detector.feed(r.ts, r.bpm))
            if self.session.end is not None:
                self.reader.after = self.session.end
            live.reopen(found.id)
        self._next = self.session.readings  # the seq of the next reading to store
        self._events_stored = 0  # self.anomalies[:this] are in the store (from an earlier flush)
        self._events_reset = self.resumed  # the store holds the last run's list: replaced at the first flush
        self._pending = ReadingBatch(self._next)
        self._since: float | None = None  # when the oldest pending reading arrived

    # -- input ------------------------------------------------------------------------------------

    def line(self, text: str, now: float) -> list[BadRow]:
        """One line of input (``now``: the caller's clock); returns the bad rows it made."""
        bad: list[BadRow] = []
        for item in self.reader.line(text):
            if isinstance(item, BadRow):
                bad.append(item)
            else:
                self._take(self.detector.feed(*item), now)
        self.bad += bad
        return bad

    def _take(self, outputs: list[Reading | Anomaly], now: float | None) -> None:
        for out in self._events(outputs):
            if out.seq < self._next:
                continue  # stored by the run this one resumes
            if self._since is None:
                self._since = now
            self._pending.append(out)
            self._next += 1

    def _events(self, outputs: list[Reading | Anomaly]) -> list[Reading]:
        readings = []
        for out in outputs:
            if isinstance(out, Reading):
                readings.append(out)
            else:
                self.anomalies.append(out)
        return readings

    # -- storing ----------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def unstored(self) -> ReadingBatch:
        """The readings not stored yet (an adapter spools them to disk while the store is down)."""
        return self._pending

    def due(self, now: float) -> bool:
        """Whether the pending readings must be stored now (a second old, or a full batch)."""
        if not self._pending:
            return False
        return len(self._pending) >= FLUSH_READINGS or self._since is None or now - self._since >= FLUSH_SECONDS

    def flush(self) -> int:
        """Store the pending readings and the running summary in one transaction; how many were stored.

        On a store error nothing changes here: the same readings are flushed again next time.
        """
        batch = self._pending
        if not batch:
            return 0
        s = self.session
        updated = replace(
            s,
            readings=s.readings + len(batch),
            filled=s.filled + batch.filled,
            start=s.start if s.start is not None else batch.ts[0],
            end=batch.ts[-1],
            rows=self._base_rows + self.reader.rows,
            duplicates=self._base_dups + self.reader.duplicates,
            tz_offset_min=self.reader.tz_offset_min if s.tz_offset_min is None else s.tz_offset_min,
            stats=replace(self.detector.stats),
            skipped=len(self.bad),
            skipped_lines=[b.line for b in self.bad[:10]],
        )
        events = self.anomalies[self._events_stored :]  # found since the last flush: stored with it
        self._live.append(updated, batch, events, self._events_stored if events or self._events_reset else None)
        self._events_stored, self._events_reset = len(self.anomalies), False
        self.session = updated
        self._created = True
        self._pending = ReadingBatch(self._next)
        self._since = None
        return len(batch)

    def finish(self) -> Session:
        """Close the detector's open runs, store the rest and the final summary: the session is done."""
        self._take(self.detector.finish(), None)
        self.flush()
        s = self.session
        s.stats = replace(self.detector.stats)
        s.anomalies = sorted(self.anomalies, key=lambda a: (a.start, a.end))
        s.cadence = cadence_report(self.detector.cadence, self._options.interval, self._options.detector, s.iso)
        if self._created:
            self._live.finish(s)
        return s
