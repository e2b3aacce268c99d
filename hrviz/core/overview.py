"""A whole session at a glance, sans-I/O: per-time-bucket min/max for the page's overview strip,
the seq at which each event is reached (so a click can jump there), and history pages.

Why here and not in the page: the page must show the whole session and every event as soon as it
is loaded, long before the replay has sent those readings; one pass over the stored readings gives
both, small enough to send at once (BUCKETS columns, whatever the session's length).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hrviz.core.model import Anomaly, Reading, counts_in_stats

BUCKETS = 1200  # columns of the overview: wider than a desktop strip, so it never looks blocky
HISTORY_PAGE = 20_000  # readings per "history" message: ~150 KB of JSON


@dataclass(slots=True)
class Overview:
    """Feed the readings in seq order (:meth:`add`); then :meth:`as_dict` and :attr:`event_seqs`."""

    start: float
    end: float
    events: Sequence[Anomaly]
    buckets: int = BUCKETS
    first: list[int] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    lo: list[float | None] = field(default_factory=list)
    hi: list[float | None] = field(default_factory=list)
    event_seqs: list[int] = field(default_factory=list)  # per event, in the order of ``ordered``
    ordered: list[Anomaly] = field(default_factory=list)  # the events by (start, end)
    order: list[int] = field(default_factory=list)  # ordered[i] is events[order[i]]
    _next_event: int = 0
    _last_seq: int = -1

    def __post_init__(self) -> None:
        n = self.buckets
        self.first, self.count = [-1] * n, [0] * n
        self.lo, self.hi = [None] * n, [None] * n
        events = self.events
        self.order = sorted(range(len(events)), key=lambda i: (events[i].start, events[i].end))
        self.ordered = [events[i] for i in self.order]
        self.event_seqs = [-1] * len(self.ordered)

    def _bucket(self, ts: float) -> int:
        span = self.end - self.start
        if span <= 0:
            return 0
        return min(self.buckets - 1, max(0, int((ts - self.start) / span * self.buckets)))

    def add(self, r: Reading) -> None:
        self._last_seq = r.seq
        while self._next_event < len(self.ordered) and self.ordered[self._next_event].start <= r.ts:
            self.event_seqs[self._next_event] = r.seq  # the first reading at or after the event's start
            self._next_event += 1
        b = self._bucket(r.ts)
        if self.first[b] < 0:
            self.first[b] = r.seq
        self.count[b] += 1
        if counts_in_stats(r.filled, r.kinds):
            lo, hi = self.lo[b], self.hi[b]
            self.lo[b] = r.bpm if lo is None or r.bpm < lo else lo
            self.hi[b] = r.bpm if hi is None or r.bpm > hi else hi

    def finish(self) -> None:
        """Events after the last reading (a trailing gap) are reached at the last reading."""
        for i in range(self._next_event, len(self.ordered)):
            self.event_seqs[i] = max(0, self._last_seq)

    def as_dict(self) -> dict[str, object]:
        return {
            "t0": self.start,
            "t1": self.end,
            "first": self.first,
            "count": self.count,
            "min": [_num(v) for v in self.lo],
            "max": [_num(v) for v in self.hi],
        }


def build(start: float | None, end: float | None, events: Sequence[Anomaly], readings: Iterable[Reading]) -> Overview:
    ov = Overview(start or 0.0, end or 0.0, events)
    for r in readings:
        ov.add(r)
    ov.finish()
    return ov


def history_page(readings: Sequence[Reading], gap_ends: set[float] | frozenset[float]) -> dict[str, object]:
    """Readings as columns (about 9 bytes each instead of 130 as ``reading`` messages).

    Times are integer milliseconds after ``t0``, as steps from the previous reading; flags are
    sparse lists of indices into the page, since nearly every reading is an ordinary one.
    """
    if not readings:
        return {
            "type": "history",
            "first_seq": 0,
            "t0": 0.0,
            "dt_ms": [],
            "bpm": [],
            "filled": [],
            "after_gap": [],
            "kinds": [],
        }
    t0 = readings[0].ts
    prev = round(t0 * 1000)
    dt: list[int] = []
    bpm: list[float | int] = []
    filled: list[int] = []
    after_gap: list[int] = []
    kinds: list[list[object]] = []
    for i, r in enumerate(readings):
        ms = round(r.ts * 1000)
        dt.append(ms - prev)
        prev = ms
        bpm.append(_num(r.bpm) or 0 if r.bpm == r.bpm else 0)  # NaN is not JSON; filled readings carry a value
        if r.filled:
            filled.append(i)
        if r.ts in gap_ends:
            after_gap.append(i)
        if r.kinds:
            kinds.append([i, list(r.kinds)])
    return {
        "type": "history",
        "first_seq": readings[0].seq,
        "t0": prev_ms_base(t0),
        "dt_ms": dt,
        "bpm": bpm,
        "filled": filled,
        "after_gap": after_gap,
        "kinds": kinds,
    }


def prev_ms_base(t0: float) -> float:
    """The page adds ``dt_ms`` to this: the first time rounded to the millisecond, as the steps are."""
    return round(t0 * 1000) / 1000


def _num(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if v == int(v) else v
