"""What ``hrviz watch`` shows, as plain data: the scrolling window, stats so far, events reached.

Kept free of rich and plotext so the chart, the plain-line printer and the tests all read the same
state, and so the rules (what counts in the stats, where a line must break) are tested cheaply.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from hrviz.core.explain import most_significant, sentence
from hrviz.core.model import Anomaly, Kind, Reading, Stats, counts_in_stats, format_ts

MAX_EVENTS = 200  # the panel shows a handful; keeping a bounded history is plenty


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive readings that may be joined by a line (no gap inside)."""

    readings: tuple[Reading, ...]


@dataclass(slots=True)
class WatchView:
    """The replay as seen so far; fed reading by reading, read by the renderers."""

    title: str
    tz_offset_min: int | None = None
    window: float = 120.0  # seconds of readings kept on screen
    speed: float = 1.0
    paused: bool = False
    finished: bool = False
    total: int | None = None  # readings in the session, when known
    shown: int = 0
    stats: Stats = field(default_factory=Stats)
    events: deque[Anomaly] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))  # newest first
    points: deque[Reading] = field(default_factory=deque)
    message: str | None = None  # a status note (e.g. "connection lost")
    event_count: int = 0  # every event reached, also those that left the bounded history
    gap_ends: set[float] = field(default_factory=set)  # where the line must break

    @property
    def current(self) -> Reading | None:
        return self.points[-1] if self.points else None

    def add(self, reading: Reading) -> None:
        """Take the next reading; drop what scrolled out of the window."""
        self.points.append(reading)
        self.shown += 1
        if counts_in_stats(reading.filled, reading.kinds):
            self.stats.add(reading.bpm)
        horizon = reading.ts - self.window
        while self.points and self.points[0].ts < horizon:
            self.points.popleft()

    def add_events(self, events: Iterable[Anomaly]) -> None:
        for event in events:
            self.events.appendleft(event)
            self.event_count += 1
            if event.kind is Kind.GAP:
                self.gap_ends.add(event.end)

    def most_severe(self, n: int) -> list[Anomaly]:
        """The ``n`` most severe events reached so far (of the last :data:`MAX_EVENTS`)."""
        return most_significant(self.events)[:n]

    def clock(self, ts: float | None) -> str:
        """Time of day as the file wrote it (HH:MM:SS), for the chart and the panel."""
        text = format_ts(ts, self.tz_offset_min)
        if text is None:
            return "--:--:--"
        return text[11:19]

    def day(self, ts: float | None) -> str | None:
        """The date as the file wrote it (YYYY-MM-DD); None for a file without dates (read from 1970-01-01)."""
        text = format_ts(ts, self.tz_offset_min)
        return None if text is None or text.startswith("1970-01-01") else text[:10]

    def segments(self) -> list[Segment]:
        return split_segments(self.points, self.gap_ends)


def split_segments(readings: Iterable[Reading], gap_ends: Collection[float] = ()) -> list[Segment]:
    """Split where a gap ends: the detector decides what a gap is for this part of the file.

    A step alone says nothing (Fitbit steps 5, 10 or 15 s; a sparse source steps minutes), and
    the detector already filled every short absence, so the only breaks are its gaps.
    """
    items = list(readings)
    if not items:
        return []
    out: list[Segment] = []
    run = [items[0]]
    for cur in items[1:]:
        if cur.ts in gap_ends:
            out.append(Segment(tuple(run)))
            run = []
        run.append(cur)
    out.append(Segment(tuple(run)))
    return out


def describe_event(event: Anomaly, tz_offset_min: int | None, day: str | None = None) -> str:
    """One event in words, shared by the panel and the plain lines: kind, time, the core's sentence.

    With ``day`` (the date on screen), an event of another day says its date (``03-28 13:20:38``):
    in a recording of several days a time of day alone does not say which.
    """
    start = format_ts(event.start, tz_offset_min) or "?"
    when = (
        start[11:19]
        if day is None or start[:10] == day or start.startswith("1970-01-01")
        else f"{start[5:10]} {start[11:19]}"
    )
    return f"{event.kind} {when} {sentence(event)}"
